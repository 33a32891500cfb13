"""rds_proxy with its RDS and EC2 calls answered by botocore Stubbers."""

from __future__ import annotations

import pytest
from ansible.module_utils.aws_waiters import max_attempts

from .stubbed import ACCOUNT, failure, load_module, rejected_before_any_call, run, succeeded

rds_proxy = load_module("rds_proxy")

NAME = "app-proxy"
ARN = f"arn:aws:rds:eu-west-1:{ACCOUNT}:db-proxy:prx-0123456789abcdef0"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:app-db-AbCdEf"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-proxy"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]

ARGS = {
    "name": NAME,
    "engine_family": "POSTGRESQL",
    "auth": [{"secret_arn": SECRET, "iam_auth": "REQUIRED"}],
    "role_arn": ROLE,
    "vpc_subnet_ids": SUBNETS,
    "vpc_security_group_ids": ["sg-0123456789abcdef0"],
    "require_tls": True,
    "tags": {"Name": NAME},
    "wait_delay": 1,
    "wait_timeout": 5,
}


def proxy(status="available", **changes):
    data = {
        "DBProxyName": NAME,
        "DBProxyArn": ARN,
        "Status": status,
        "EngineFamily": "POSTGRESQL",
        "VpcId": "vpc-0123456789abcdef0",
        "VpcSecurityGroupIds": ["sg-0123456789abcdef0"],
        "VpcSubnetIds": list(SUBNETS),
        "DefaultAuthScheme": "NONE",
        "Auth": [
            {
                "AuthScheme": "SECRETS",
                "SecretArn": SECRET,
                "IAMAuth": "REQUIRED",
                "ClientPasswordAuthType": "POSTGRES_SCRAM_SHA_256",
            }
        ],
        "RoleArn": ROLE,
        "Endpoint": f"{NAME}.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com",
        "RequireTLS": True,
        "IdleClientTimeout": 1800,
        "DebugLogging": False,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}  # None: a key AWS leaves out


POOL = {
    "MaxConnectionsPercent": 100,
    "MaxIdleConnectionsPercent": 50,
    "ConnectionBorrowTimeout": 120,
    "SessionPinningFilters": [],
}


def target_group(pool=None):
    return {
        "TargetGroups": [
            {
                "DBProxyName": NAME,
                "TargetGroupName": "default",
                "IsDefault": True,
                "Status": "available",
                "ConnectionPoolConfig": pool or POOL,
            }
        ]
    }


def targets(state="AVAILABLE"):
    health = {"State": state}
    return {
        "Targets": [
            {"RdsResourceId": "app-cluster", "TrackedClusterId": "app-cluster", "Type": "TRACKED_CLUSTER"},
            {
                "RdsResourceId": "app-cluster-writer",
                "TrackedClusterId": "app-cluster",
                "Type": "RDS_INSTANCE",
                "Role": "READ_WRITE",
                "TargetHealth": health,
            },
        ]
    }


def subnets(zones=("eu-west-1a", "eu-west-1b")):
    return {
        "Subnets": [
            {"SubnetId": s, "AvailabilityZone": z, "VpcId": "vpc-0123456789abcdef0"}
            for s, z in zip(SUBNETS, zones, strict=True)
        ]
    }


def not_found(stubs):
    stubs.error("rds", "describe_db_proxies", "DBProxyNotFoundFault", expected={"DBProxyName": NAME})


def describe(stubs, status="available", **changes):
    stubs.add("rds", "describe_db_proxies", {"DBProxies": [proxy(status, **changes)]}, {"DBProxyName": NAME})


def read_state(stubs, tags=None, pool=None, registered=None, **changes):
    """The reads of an existing proxy: proxy, tags, target group, targets."""
    describe(stubs, **changes)
    tag_list = [{"Key": k, "Value": v} for k, v in (tags if tags is not None else {"Name": NAME}).items()]
    stubs.add("rds", "list_tags_for_resource", {"TagList": tag_list}, {"ResourceName": ARN})
    stubs.add("rds", "describe_db_proxy_target_groups", target_group(pool))
    stubs.add("rds", "describe_db_proxy_targets", registered if registered is not None else {"Targets": []})


def pool_change(stubs, config):
    """ModifyDBProxyTargetGroup of the default target group, to the connection pool ``config``."""
    expected = {"DBProxyName": NAME, "TargetGroupName": "default", "ConnectionPoolConfig": config}
    stubs.add(
        "rds", "modify_db_proxy_target_group", {"DBProxyTargetGroup": target_group()["TargetGroups"][0]}, expected
    )


def final_reads(stubs, pool=None, registered=None, **changes):
    describe(stubs, **changes)
    stubs.add("rds", "describe_db_proxy_target_groups", target_group(pool))
    stubs.add("rds", "describe_db_proxy_targets", registered if registered is not None else {"Targets": []})


# -- create --------------------------------------------------------------------
def test_create_waits_until_available_then_registers_targets(stubs):
    not_found(stubs)
    stubs.add("ec2", "describe_subnets", subnets(), {"SubnetIds": SUBNETS})
    stubs.add(
        "rds",
        "create_db_proxy",
        {"DBProxy": proxy("creating")},
        {
            "DBProxyName": NAME,
            "EngineFamily": "POSTGRESQL",
            "RoleArn": ROLE,
            "VpcSubnetIds": SUBNETS,
            "VpcSecurityGroupIds": ["sg-0123456789abcdef0"],
            "RequireTLS": True,
            "Auth": [{"AuthScheme": "SECRETS", "SecretArn": SECRET, "IAMAuth": "REQUIRED"}],
            "Tags": [{"Key": "Name", "Value": NAME}],
        },
    )
    # Before the target group can change, the proxy must be available: two polls.
    describe(stubs, "creating")
    describe(stubs)
    pool_change(stubs, {"MaxConnectionsPercent": 90, "MaxIdleConnectionsPercent": 10})
    stubs.add(
        "rds",
        "register_db_proxy_targets",
        {},
        {"DBProxyName": NAME, "TargetGroupName": "default", "DBClusterIdentifiers": ["app-cluster"]},
    )
    describe(stubs)
    stubs.add("rds", "describe_db_proxy_targets", targets("REGISTERING"))
    stubs.add("rds", "describe_db_proxy_targets", targets("AVAILABLE"))
    final_reads(stubs, registered=targets())

    args = {
        **ARGS,
        "connection_pool_config": {"max_connections_percent": 90, "max_idle_connections_percent": 10},
        "targets": {"db_cluster_identifiers": ["app-cluster"]},
    }
    result = succeeded(run(rds_proxy, args, stubs))

    assert result["changed"] is True
    assert result["resource_id"] == "prx-0123456789abcdef0"
    assert result["db_proxy_arn"] == ARN
    assert result["endpoint"].startswith(f"{NAME}.proxy-")
    assert result["vpc_id"] == "vpc-0123456789abcdef0"
    assert result["status"] == "available"
    assert result["tags"] == {"Name": NAME}
    assert [t["target_health"]["state"] for t in result["targets"] if "target_health" in t] == ["AVAILABLE"]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["db_proxy_name"] == NAME
    assert stubs.pending() == {}


def test_create_with_end_to_end_iam_needs_no_auth(stubs):
    not_found(stubs)
    stubs.add("ec2", "describe_subnets", subnets())
    stubs.add(
        "rds",
        "create_db_proxy",
        {"DBProxy": proxy("creating", DefaultAuthScheme="IAM_AUTH", Auth=[])},
        {
            "DBProxyName": NAME,
            "EngineFamily": "POSTGRESQL",
            "RoleArn": ROLE,
            "VpcSubnetIds": SUBNETS,
            "DefaultAuthScheme": "IAM_AUTH",
        },
    )
    final_reads(stubs, DefaultAuthScheme="IAM_AUTH", Auth=[])
    args = {"name": NAME, "engine_family": "POSTGRESQL", "default_auth_scheme": "IAM_AUTH", "role_arn": ROLE}
    result = succeeded(run(rds_proxy, {**args, "vpc_subnet_ids": SUBNETS, "wait": False}, stubs))
    assert result["changed"] is True
    assert result["default_auth_scheme"] == "IAM_AUTH"
    assert stubs.pending() == {}


def test_switch_from_secrets_to_end_to_end_iam_in_one_modify_db_proxy(stubs):
    read_state(stubs)
    stubs.add(
        "rds",
        "modify_db_proxy",
        {"DBProxy": proxy("modifying", DefaultAuthScheme="IAM_AUTH", Auth=[])},
        {"DBProxyName": NAME, "DefaultAuthScheme": "IAM_AUTH", "Auth": []},
    )
    final_reads(stubs, DefaultAuthScheme="IAM_AUTH", Auth=[])
    result = succeeded(run(rds_proxy, {**ARGS, "default_auth_scheme": "IAM_AUTH", "auth": [], "wait": False}, stubs))
    assert result["changed"] is True
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["default_auth_scheme"], after["default_auth_scheme"]) == ("NONE", "IAM_AUTH")
    assert (len(before["auth"]), after["auth"]) == (1, [])
    assert stubs.pending() == {}


def test_switch_to_end_to_end_iam_keeping_the_secrets(stubs):
    read_state(stubs)
    stubs.add(
        "rds",
        "modify_db_proxy",
        {"DBProxy": proxy("modifying", DefaultAuthScheme="IAM_AUTH")},
        {"DBProxyName": NAME, "DefaultAuthScheme": "IAM_AUTH"},
    )
    final_reads(stubs, DefaultAuthScheme="IAM_AUTH")
    result = succeeded(run(rds_proxy, {**ARGS, "default_auth_scheme": "IAM_AUTH", "wait": False}, stubs))
    assert result["changed"] is True
    assert stubs.pending() == {}


def test_switch_to_end_to_end_iam_in_check_mode_shows_the_diff_only(stubs):
    read_state(stubs)
    outcome = run(rds_proxy, {**ARGS, "default_auth_scheme": "IAM_AUTH", "auth": []}, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    before, after = outcome.result["diff"]["before"], outcome.result["diff"]["after"]
    assert (before["default_auth_scheme"], after["default_auth_scheme"]) == ("NONE", "IAM_AUTH")
    assert after["auth"] == []
    assert stubs.pending() == {}


@pytest.mark.parametrize(
    ("args", "current"),
    [
        pytest.param({"default_auth_scheme": "IAM_AUTH", "auth": []}, {"DefaultAuthScheme": "IAM_AUTH", "Auth": []},
                     id="iam-auth-no-secret"),
        pytest.param({"default_auth_scheme": "IAM_AUTH", "auth": None}, {"DefaultAuthScheme": "IAM_AUTH"},
                     id="iam-auth-auth-unset"),
        pytest.param({}, {"DefaultAuthScheme": "IAM_AUTH"}, id="scheme-unset-left-as-is"),
        pytest.param({"default_auth_scheme": "NONE"}, {"DefaultAuthScheme": None}, id="none-when-not-reported"),
    ],
)  # fmt: skip
def test_default_auth_scheme_in_sync_makes_no_call(stubs, args, current):
    read_state(stubs, **current)  # DefaultAuthScheme None: described without it, AWS's default NONE
    result = succeeded(run(rds_proxy, {**ARGS, **args}, stubs))
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]
    assert stubs.pending() == {}


def test_check_mode_create_predicts_without_changing(stubs):
    not_found(stubs)
    stubs.add("ec2", "describe_subnets", subnets())
    args = {**ARGS, "targets": {"db_cluster_identifiers": ["app-cluster"]}}
    result = succeeded(run(rds_proxy, args, stubs, check_mode=True))
    assert result["changed"] is True
    after = result["diff"]["after"]
    assert after["db_proxy_name"] == NAME
    assert after["require_tls"] is True
    assert after["tags"] == {"Name": NAME}
    assert after["targets"][0]["rds_resource_id"] == "app-cluster"
    assert result["diff"]["before"] == {}
    assert stubs.pending() == {}


# -- no change, update ---------------------------------------------------------
def test_no_change_makes_no_mutating_call_and_reads_once(stubs):
    read_state(stubs, registered=targets())
    result = succeeded(run(rds_proxy, {**ARGS, "targets": {"db_cluster_identifiers": ["app-cluster"]}}, stubs))
    assert result["changed"] is False
    assert result["targets"][0]["rds_resource_id"] == "app-cluster"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert stubs.pending() == {}


def test_no_change_still_waits_for_a_target_not_yet_available(stubs):
    read_state(stubs, registered=targets("REGISTERING"))
    describe(stubs)
    stubs.add("rds", "describe_db_proxy_targets", targets())
    final_reads(stubs, registered=targets())
    result = succeeded(run(rds_proxy, {**ARGS, "targets": {"db_cluster_identifiers": ["app-cluster"]}}, stubs))
    assert result["changed"] is False
    assert stubs.pending() == {}


def test_no_change_in_check_mode(stubs):
    read_state(stubs)
    outcome = run(rds_proxy, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is False
    assert stubs.pending() == {}


def test_update_modifies_settings_tags_and_pool(stubs):
    read_state(stubs, tags={"Name": NAME, "old": "x"}, RequireTLS=False, VpcSecurityGroupIds=["sg-0ffffffffffffffff"])
    stubs.add(
        "rds",
        "modify_db_proxy",
        {"DBProxy": proxy("modifying")},
        {
            "DBProxyName": NAME,
            "RequireTLS": True,
            "IdleClientTimeout": 900,
            "SecurityGroups": ["sg-0123456789abcdef0"],
        },
    )
    stubs.add("rds", "remove_tags_from_resource", {}, {"ResourceName": ARN, "TagKeys": ["old"]})
    stubs.add("rds", "add_tags_to_resource", {}, {"ResourceName": ARN, "Tags": [{"Key": "team", "Value": "db"}]})
    describe(stubs, "modifying")
    describe(stubs)
    # Every option given is sent, the unchanged ones too: RDS would reset
    # an idle percentage not given to half the maximum.
    pool_change(stubs, {"ConnectionBorrowTimeout": 30, "MaxConnectionsPercent": 100})
    describe(stubs)
    final_reads(stubs, pool={**POOL, "ConnectionBorrowTimeout": 30})
    args = {
        **ARGS,
        "idle_client_timeout": 900,
        "tags": {"Name": NAME, "team": "db"},
        "connection_pool_config": {"connection_borrow_timeout": 30, "max_connections_percent": 100},
    }
    result = succeeded(run(rds_proxy, args, stubs))
    assert result["changed"] is True
    assert result["tags"] == {"Name": NAME, "team": "db"}
    assert result["diff"]["before"]["require_tls"] is False
    assert result["diff"]["after"]["connection_pool_config"]["connection_borrow_timeout"] == 30
    assert stubs.pending() == {}


def test_update_in_check_mode_shows_the_diff_only(stubs):
    read_state(stubs, registered=targets(), RequireTLS=False)
    args = {**ARGS, "targets": {"db_cluster_identifiers": ["other-cluster"]}, "auth": [{"secret_arn": SECRET}]}
    outcome = run(rds_proxy, args, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    before, after = outcome.result["diff"]["before"], outcome.result["diff"]["after"]
    assert (before["require_tls"], after["require_tls"]) == (False, True)
    assert after["auth"][0]["iam_auth"] == "DISABLED"
    assert [t["rds_resource_id"] for t in after["targets"]] == ["other-cluster"]
    assert stubs.pending() == {}


def test_unset_auth_fields_keep_their_current_values():
    current = proxy()["Auth"]
    wanted = rds_proxy.desired_auth(
        {"auth": [{**dict.fromkeys(k for k, _ in rds_proxy.AUTH_OPTIONS), "auth_scheme": "SECRETS",
                   "secret_arn": SECRET, "iam_auth": "REQUIRED"}]},
        current,
    )  # fmt: skip
    assert not rds_proxy.auth_differs(wanted, current)


def test_targets_are_replaced(stubs):
    read_state(stubs, registered=targets())
    describe(stubs)
    stubs.add(
        "rds",
        "deregister_db_proxy_targets",
        {},
        {"DBProxyName": NAME, "TargetGroupName": "default", "DBClusterIdentifiers": ["app-cluster"]},
    )
    stubs.add(
        "rds",
        "register_db_proxy_targets",
        {},
        {"DBProxyName": NAME, "TargetGroupName": "default", "DBInstanceIdentifiers": ["solo"]},
    )
    final_reads(stubs)
    result = succeeded(run(rds_proxy, {**ARGS, "targets": {"db_instance_identifiers": ["solo"]}, "wait": False}, stubs))
    assert result["changed"] is True


# -- delete ----------------------------------------------------------------------
def test_delete_waits_until_gone(stubs):
    describe(stubs)
    stubs.add("rds", "list_tags_for_resource", {"TagList": []})
    stubs.add("rds", "delete_db_proxy", {"DBProxy": proxy("deleting")}, {"DBProxyName": NAME})
    describe(stubs, "deleting")
    not_found(stubs)
    result = succeeded(run(rds_proxy, {"name": NAME, "state": "absent", "wait_delay": 1}, stubs))
    assert result["changed"] is True
    assert result["diff"]["after"] == {}
    assert result["diff"]["before"]["db_proxy_name"] == NAME
    assert stubs.pending() == {}


def test_delete_in_check_mode(stubs):
    describe(stubs)
    stubs.add("rds", "list_tags_for_resource", {"TagList": []})
    outcome = run(rds_proxy, {"name": NAME, "state": "absent"}, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    assert stubs.pending() == {}


def test_already_absent(stubs):
    not_found(stubs)
    result = succeeded(run(rds_proxy, {"name": NAME, "state": "absent"}, stubs))
    assert result["changed"] is False
    assert stubs.pending() == {}


# -- failures --------------------------------------------------------------------
@pytest.mark.parametrize("status", ["incompatible-network", "insufficient-resource-limits"])
def test_failure_status_fails_the_wait_with_that_status(stubs, status):
    not_found(stubs)
    stubs.add("ec2", "describe_subnets", subnets())
    stubs.add("rds", "create_db_proxy", {"DBProxy": proxy("creating")})
    describe(stubs, "creating")
    describe(stubs, status)
    outcome = run(rds_proxy, ARGS, stubs)
    msg = failure(outcome)
    assert status in msg
    assert "Timed out" not in msg
    assert outcome.result["status"] == status
    assert stubs.pending() == {}


def test_wait_times_out_with_the_last_status(stubs):
    read_state(stubs, status="modifying")
    for _ in range(max_attempts(timeout=2, delay=1)):
        describe(stubs, "modifying")
    msg = failure(run(rds_proxy, {**ARGS, "wait_timeout": 2}, stubs))
    assert "Timed out after 2 seconds" in msg
    assert "modifying" in msg
    assert stubs.pending() == {}


def test_unhealthy_targets_are_reported_on_timeout(stubs):
    unhealthy = targets("UNAVAILABLE")
    unhealthy["Targets"][1]["TargetHealth"].update(Reason="AUTH_FAILURE", Description="Secret is wrong")
    read_state(stubs, registered=unhealthy)
    describe(stubs)
    for _ in range(max_attempts(timeout=1, delay=1)):
        stubs.add("rds", "describe_db_proxy_targets", unhealthy)
    args = {**ARGS, "wait_timeout": 1, "targets": {"db_cluster_identifiers": ["app-cluster"]}}
    msg = failure(run(rds_proxy, args, stubs))
    assert "AUTH_FAILURE" in msg
    assert stubs.pending() == {}


def test_aws_error_names_code_and_operation(stubs):
    not_found(stubs)
    stubs.add("ec2", "describe_subnets", subnets())
    stubs.error("rds", "create_db_proxy", "DBProxyQuotaExceededFault", "Too many proxies")
    assert "CreateDBProxy" in failure(run(rds_proxy, ARGS, stubs), "DBProxyQuotaExceededFault")
    assert stubs.pending() == {}


def test_missing_target_is_an_aws_error(stubs):
    read_state(stubs)
    describe(stubs)
    stubs.error("rds", "register_db_proxy_targets", "DBClusterNotFoundFault", "DBCluster nope not found.")
    outcome = run(rds_proxy, {**ARGS, "targets": {"db_cluster_identifiers": ["nope"]}}, stubs)
    msg = failure(outcome, "DBClusterNotFoundFault")
    assert "RegisterDBProxyTargets" in msg
    assert stubs.pending() == {}


NOT_READY = (
    "DB Instance app-cluster-writer is in an unsupported state - CONFIGURING_ENHANCED_MONITORING, "
    "needs to be in [AVAILABLE, MODIFYING, BACKING_UP]"
)


def test_targets_not_ready_to_register_are_registered_once_ready(stubs):
    read_state(stubs)
    describe(stubs)
    register = {"DBProxyName": NAME, "TargetGroupName": "default", "DBClusterIdentifiers": ["app-cluster"]}
    stubs.error("rds", "register_db_proxy_targets", "InvalidDBClusterStateFault", "DB Cluster app-cluster ...")
    stubs.error("rds", "register_db_proxy_targets", "InvalidDBInstanceState", NOT_READY, expected=register)
    stubs.add("rds", "register_db_proxy_targets", {}, register)
    final_reads(stubs, registered=targets())
    args = {**ARGS, "targets": {"db_cluster_identifiers": ["app-cluster"]}, "wait": False, "wait_delay": 0.01}
    result = succeeded(run(rds_proxy, args, stubs))
    assert result["changed"] is True
    assert stubs.pending() == {}


def test_targets_still_not_ready_after_the_timeout_fail_naming_the_state(stubs):
    read_state(stubs)
    describe(stubs)
    for _ in range(3):  # wait_timeout / wait_delay + 1 attempts
        stubs.error("rds", "register_db_proxy_targets", "InvalidDBInstanceState", NOT_READY)
    args = {**ARGS, "targets": {"db_cluster_identifiers": ["app-cluster"]}, "wait_delay": 0.5, "wait_timeout": 1}
    msg = failure(run(rds_proxy, args, stubs))
    assert "ready to register (RegisterDBProxyTargets)" in msg
    assert "CONFIGURING_ENHANCED_MONITORING" in msg
    assert stubs.pending() == {}


def test_throttling_is_retried(stubs):
    stubs.error("rds", "describe_db_proxies", "Throttling", "Rate exceeded")
    not_found(stubs)
    result = succeeded(run(rds_proxy, {"name": NAME, "state": "absent"}, stubs))
    assert result["changed"] is False
    assert stubs.pending() == {}


# -- bad input: rejected before any change ----------------------------------------
PURE_BAD_INPUT = [
    pytest.param({"engine_family": "ORACLE"}, "engine_family", id="unknown-engine-family"),
    pytest.param({"auth": [{"iam_auth": "REQUIRED"}]}, "secret_arn", id="secrets-without-secret"),
    pytest.param({"auth": [{"secret_arn": SECRET, "iam_auth": "SOMETIMES"}]}, "iam_auth", id="unknown-iam-auth"),
    pytest.param({"auth": None}, "auth is required unless default_auth_scheme is IAM_AUTH", id="no-auth"),
    pytest.param({"default_auth_scheme": "KERBEROS"}, "default_auth_scheme", id="unknown-default-scheme"),
    pytest.param({"vpc_subnet_ids": None}, "vpc_subnet_ids is required", id="null-subnets"),
    pytest.param({"vpc_subnet_ids": []}, "vpc_subnet_ids is required", id="no-subnets"),
    pytest.param({"auth": [{"secret_arn": None}]}, "auth[0].secret_arn", id="null-secret"),
    pytest.param({"idle_client_timeout": 0}, "idle_client_timeout", id="timeout-out-of-range"),
    pytest.param({"targets": {"db_cluster_identifiers": ["a"], "db_instance_identifiers": ["b"]}},
                 "db_cluster_identifiers|db_instance_identifiers", id="cluster-and-instances"),
    pytest.param({"auth": [{"secret_arn": SECRET, "client_password_auth_type": "MYSQL_NATIVE_PASSWORD"}]},
                 "client_password_auth_type", id="auth-type-of-other-engine"),
    pytest.param({"connection_pool_config": {"max_connections_percent": 20, "max_idle_connections_percent": 50}},
                 "max_idle_connections_percent", id="idle-above-max"),
    pytest.param({"connection_pool_config": {"session_pinning_filters": ["EVERYTHING"]}}, "session_pinning_filters",
                 id="unknown-pinning-filter"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "option"), PURE_BAD_INPUT)
def test_bad_input_is_rejected_before_any_api_call(stubs, changes, option):
    assert option in rejected_before_any_call(rds_proxy, {**ARGS, **changes}, stubs)


def test_subnets_in_one_zone_are_rejected_before_any_change(stubs):
    not_found(stubs)
    stubs.add("ec2", "describe_subnets", subnets(zones=("eu-west-1a", "eu-west-1a")))
    msg = failure(run(rds_proxy, ARGS, stubs))
    assert "vpc_subnet_ids" in msg
    assert "two Availability Zones" in msg
    assert stubs.pending() == {}


def test_unknown_subnet_is_rejected_before_any_change(stubs):
    not_found(stubs)
    stubs.error("ec2", "describe_subnets", "InvalidSubnetID.NotFound", "The subnet ID 'subnet-x' does not exist")
    assert "vpc_subnet_ids" in failure(run(rds_proxy, ARGS, stubs), "InvalidSubnetID.NotFound")


@pytest.mark.parametrize(
    ("changes", "option"),
    [
        pytest.param({"vpc_subnet_ids": ["subnet-0ccccccccccccccccc", SUBNETS[0]]}, "vpc_subnet_ids", id="subnets"),
        pytest.param({"engine_family": "MYSQL", "auth": [{"secret_arn": SECRET}]}, "engine_family", id="engine"),
    ],
)
def test_immutable_options_fail_naming_the_option(stubs, changes, option):
    describe(stubs)
    msg = failure(run(rds_proxy, {**ARGS, **changes}, stubs))
    assert option in msg
    assert "cannot be changed in place" in msg
    assert stubs.pending() == {}


@pytest.mark.parametrize("option", ["engine_family", "role_arn", "vpc_subnet_ids"])
def test_options_required_to_create_are_named(stubs, option):
    assert option in rejected_before_any_call(rds_proxy, {k: v for k, v in ARGS.items() if k != option}, stubs)


def test_a_proxy_being_created_is_waited_for_before_it_is_modified(stubs):
    read_state(stubs, status="creating", RequireTLS=False)
    describe(stubs, "creating")
    describe(stubs)
    stubs.add("rds", "modify_db_proxy", {"DBProxy": proxy("modifying")}, {"DBProxyName": NAME, "RequireTLS": True})
    final_reads(stubs)
    result = succeeded(run(rds_proxy, {**ARGS, "wait": False}, stubs))
    assert result["changed"] is True
