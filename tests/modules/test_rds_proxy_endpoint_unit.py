"""rds_proxy_endpoint with its RDS and EC2 calls answered by botocore Stubbers."""

from __future__ import annotations

import pytest

from .stubbed import ACCOUNT, failure, load_module, rejected_before_any_call, run, succeeded

rds_proxy_endpoint = load_module("rds_proxy_endpoint")

NAME = "app-a-read-only"
PROXY = "app-proxy"
ARN = f"arn:aws:rds:eu-west-1:{ACCOUNT}:db-proxy-endpoint:prx-endpoint-0123456789abcdef0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
GROUP = "sg-0123456789abcdef0"

ARGS = {
    "name": NAME,
    "db_proxy_name": PROXY,
    "vpc_subnet_ids": SUBNETS,
    "vpc_security_group_ids": [GROUP],
    "target_role": "READ_ONLY",
    "tags": {"Name": NAME},
    "wait_delay": 1,
    "wait_timeout": 5,
}


def endpoint(status="available", **changes):
    data = {
        "DBProxyEndpointName": NAME,
        "DBProxyEndpointArn": ARN,
        "DBProxyName": PROXY,
        "Status": status,
        "VpcId": "vpc-0aaaaaaaaaaaaaaaa",
        "VpcSecurityGroupIds": [GROUP],
        "VpcSubnetIds": list(SUBNETS),
        "Endpoint": f"{NAME}.endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com",
        "TargetRole": "READ_ONLY",
        "IsDefault": False,
    }
    data.update(changes)
    return data


def describe(stubs, status="available", **changes):
    stubs.add(
        "rds",
        "describe_db_proxy_endpoints",
        {"DBProxyEndpoints": [endpoint(status, **changes)]},
        {"DBProxyEndpointName": NAME},
    )


def not_found(stubs):
    stubs.error(
        "rds", "describe_db_proxy_endpoints", "DBProxyEndpointNotFoundFault", expected={"DBProxyEndpointName": NAME}
    )


def tags(stubs, values=None):
    tag_list = [{"Key": k, "Value": v} for k, v in (values if values is not None else {"Name": NAME}).items()]
    stubs.add("rds", "list_tags_for_resource", {"TagList": tag_list}, {"ResourceName": ARN})


def subnets(stubs, zones=("eu-west-1a", "eu-west-1b")):
    stubs.add(
        "ec2",
        "describe_subnets",
        {
            "Subnets": [
                {"SubnetId": s, "AvailabilityZone": z, "VpcId": "vpc-0aaaaaaaaaaaaaaaa"}
                for s, z in zip(SUBNETS, zones, strict=True)
            ]
        },
        {"SubnetIds": SUBNETS},
    )


def test_create_in_shared_subnets_and_wait(stubs):
    not_found(stubs)
    subnets(stubs)
    stubs.add(
        "rds",
        "create_db_proxy_endpoint",
        {"DBProxyEndpoint": endpoint("creating")},
        {
            "DBProxyName": PROXY,
            "DBProxyEndpointName": NAME,
            "VpcSubnetIds": SUBNETS,
            "VpcSecurityGroupIds": [GROUP],
            "TargetRole": "READ_ONLY",
            "Tags": [{"Key": "Name", "Value": NAME}],
        },
    )
    describe(stubs, "creating")
    describe(stubs)
    describe(stubs)
    result = succeeded(run(rds_proxy_endpoint, ARGS, stubs))
    assert result["changed"] is True
    assert result["status"] == "available"
    assert result["endpoint"].startswith(f"{NAME}.endpoint.proxy-")
    assert result["db_proxy_endpoint_arn"] == ARN
    assert result["vpc_id"] == "vpc-0aaaaaaaaaaaaaaaa"
    assert result["is_default"] is False
    assert result["tags"] == {"Name": NAME}
    assert result["diff"]["before"] == {}


def test_create_without_wait(stubs):
    not_found(stubs)
    subnets(stubs)
    stubs.add("rds", "create_db_proxy_endpoint", {"DBProxyEndpoint": endpoint("creating")})
    outcome = run(rds_proxy_endpoint, {**ARGS, "wait": False}, stubs)
    assert outcome.result["changed"] is True
    assert outcome.result["status"] == "creating"


def test_check_mode_create(stubs):
    not_found(stubs)
    subnets(stubs)
    outcome = run(rds_proxy_endpoint, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    after = outcome.result["diff"]["after"]
    assert (after["db_proxy_endpoint_name"], after["target_role"], after["tags"]) == (NAME, "READ_ONLY", {"Name": NAME})


def test_no_change(stubs):
    describe(stubs)
    tags(stubs)
    describe(stubs)
    describe(stubs)
    result = succeeded(run(rds_proxy_endpoint, ARGS, stubs))
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_no_change_in_check_mode(stubs):
    describe(stubs)
    tags(stubs)
    outcome = run(rds_proxy_endpoint, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is False


def test_update_security_groups_and_tags(stubs):
    describe(stubs, VpcSecurityGroupIds=["sg-0ffffffffffffffff"])
    tags(stubs, {})
    stubs.add(
        "rds",
        "modify_db_proxy_endpoint",
        {"DBProxyEndpoint": endpoint("modifying")},
        {"DBProxyEndpointName": NAME, "VpcSecurityGroupIds": [GROUP]},
    )
    stubs.add("rds", "add_tags_to_resource", {}, {"ResourceName": ARN, "Tags": [{"Key": "Name", "Value": NAME}]})
    describe(stubs, "modifying")
    describe(stubs)
    describe(stubs)
    result = succeeded(run(rds_proxy_endpoint, ARGS, stubs))
    assert result["changed"] is True
    assert result["diff"]["before"]["vpc_security_group_ids"] == ["sg-0ffffffffffffffff"]
    assert result["diff"]["after"]["vpc_security_group_ids"] == [GROUP]


def test_update_in_check_mode(stubs):
    describe(stubs, VpcSecurityGroupIds=["sg-0ffffffffffffffff"])
    tags(stubs, {"Name": NAME, "extra": "1"})
    outcome = run(rds_proxy_endpoint, {**ARGS, "purge_tags": False}, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    assert outcome.result["diff"]["after"]["vpc_security_group_ids"] == [GROUP]
    assert outcome.result["diff"]["after"]["tags"] == {"Name": NAME, "extra": "1"}


def test_unset_security_groups_are_left_alone(stubs):
    describe(stubs, VpcSecurityGroupIds=["sg-0ffffffffffffffff"])
    tags(stubs)
    outcome = run(rds_proxy_endpoint, {**ARGS, "vpc_security_group_ids": None}, stubs, check_mode=True)
    assert outcome.result["changed"] is False


def test_delete(stubs):
    describe(stubs)
    tags(stubs)
    stubs.add(
        "rds", "delete_db_proxy_endpoint", {"DBProxyEndpoint": endpoint("deleting")}, {"DBProxyEndpointName": NAME}
    )
    describe(stubs, "deleting")
    not_found(stubs)
    result = succeeded(run(rds_proxy_endpoint, {"name": NAME, "state": "absent", "wait_delay": 1}, stubs))
    assert result["changed"] is True
    assert result["diff"]["after"] == {}


def test_delete_in_check_mode(stubs):
    describe(stubs)
    tags(stubs)
    outcome = run(rds_proxy_endpoint, {"name": NAME, "state": "absent"}, stubs, check_mode=True)
    assert outcome.result["changed"] is True


def test_already_absent(stubs):
    not_found(stubs)
    outcome = run(rds_proxy_endpoint, {"name": NAME, "state": "absent"}, stubs)
    assert outcome.result["changed"] is False


def test_deleting_endpoint_counts_as_absent(stubs):
    describe(stubs, "deleting")
    tags(stubs)
    not_found(stubs)
    outcome = run(rds_proxy_endpoint, {"name": NAME, "state": "absent", "wait_delay": 1}, stubs)
    assert outcome.result["changed"] is False


@pytest.mark.parametrize("status", ["incompatible-network", "insufficient-resource-limits"])
def test_failure_status_fails_the_wait_with_that_status(stubs, status):
    not_found(stubs)
    subnets(stubs)
    stubs.add("rds", "create_db_proxy_endpoint", {"DBProxyEndpoint": endpoint("creating")})
    describe(stubs, "creating")
    describe(stubs, status)
    msg = failure(run(rds_proxy_endpoint, ARGS, stubs))
    assert status in msg
    assert "Timed out" not in msg


def test_existing_endpoint_in_failure_status_fails(stubs):
    describe(stubs, "incompatible-network")
    tags(stubs)
    describe(stubs, "incompatible-network")
    assert "incompatible-network" in failure(run(rds_proxy_endpoint, ARGS, stubs))


def test_missing_proxy_surfaces_the_aws_error(stubs):
    not_found(stubs)
    subnets(stubs)
    stubs.error("rds", "create_db_proxy_endpoint", "DBProxyNotFoundFault", "DBProxy app-proxy not found")
    assert "CreateDBProxyEndpoint" in failure(run(rds_proxy_endpoint, ARGS, stubs), "DBProxyNotFoundFault")


BAD_INPUT = [
    pytest.param({"target_role": "READ_MOSTLY"}, "target_role", id="unknown-target-role"),
    pytest.param({"db_proxy_name": None}, "db_proxy_name", id="no-proxy"),
    pytest.param({"vpc_subnet_ids": []}, "vpc_subnet_ids", id="no-subnets"),
    pytest.param({"name": "default"}, "name", id="default-endpoint"),
    pytest.param({"wait_delay": 0}, "wait_delay", id="zero-delay"),
]


@pytest.mark.parametrize(("changes", "option"), BAD_INPUT)
def test_bad_input_is_rejected_before_any_api_call(stubs, changes, option):
    assert option in rejected_before_any_call(rds_proxy_endpoint, {**ARGS, **changes}, stubs)


def test_required_options_are_named(stubs):
    args = {k: v for k, v in ARGS.items() if k != "db_proxy_name"}
    assert "db_proxy_name" in rejected_before_any_call(rds_proxy_endpoint, args, stubs)


def test_subnets_in_one_zone_are_rejected_before_any_change(stubs):
    not_found(stubs)
    subnets(stubs, zones=("eu-west-1b", "eu-west-1b"))
    assert "vpc_subnet_ids" in failure(run(rds_proxy_endpoint, ARGS, stubs))


@pytest.mark.parametrize(
    ("changes", "option"),
    [
        pytest.param({"target_role": "READ_WRITE"}, "target_role", id="target-role"),
        pytest.param({"vpc_subnet_ids": [SUBNETS[0], "subnet-0cccccccccccccccc"]}, "vpc_subnet_ids", id="subnets"),
        pytest.param({"db_proxy_name": "other-proxy"}, "db_proxy_name", id="proxy"),
    ],
)
def test_immutable_options_fail_naming_the_option(stubs, changes, option):
    describe(stubs)
    msg = failure(run(rds_proxy_endpoint, {**ARGS, **changes}, stubs))
    assert option in msg
    assert "cannot be changed in place" in msg


def test_subnets_not_shared_yet_only_warn_in_check_mode(stubs):
    not_found(stubs)
    stubs.error("ec2", "describe_subnets", "InvalidSubnetID.NotFound", "The subnet ID does not exist")
    result = succeeded(run(rds_proxy_endpoint, ARGS, stubs, check_mode=True))
    assert result["changed"] is True


def test_subnets_not_visible_fail_when_applying(stubs):
    not_found(stubs)
    stubs.error("ec2", "describe_subnets", "InvalidSubnetID.NotFound", "The subnet ID does not exist")
    assert "vpc_subnet_ids" in failure(run(rds_proxy_endpoint, ARGS, stubs), "InvalidSubnetID.NotFound")


def test_an_endpoint_being_created_is_waited_for_before_it_is_modified(stubs):
    describe(stubs, "creating", VpcSecurityGroupIds=["sg-0ffffffffffffffff"])
    tags(stubs)
    describe(stubs, "creating")
    describe(stubs)
    stubs.add("rds", "modify_db_proxy_endpoint", {"DBProxyEndpoint": endpoint("modifying")})
    result = succeeded(run(rds_proxy_endpoint, {**ARGS, "wait": False}, stubs))
    assert result["changed"] is True
