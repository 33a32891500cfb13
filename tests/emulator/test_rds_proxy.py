"""RDS Proxy additions: CreateDBProxy with DefaultAuthScheme, ModifyDBProxy,
provisioning time, targets, and DeleteDBProxy."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from tests.conftest import PROXY_SECRETS, PROXY_TRUST

DB_ACCOUNT = "111111111111"
PROXY_ARN = re.compile(r"^arn:aws:rds:eu-west-1:111111111111:db-proxy:prx-[0-9a-f]{17}$")
PROXY_DNS = re.compile(r"^(?P<name>[a-z0-9-]+)\.proxy-[a-z0-9]{12}\.eu-west-1\.rds\.amazonaws\.com$")
ROLE = f"arn:aws:iam::{DB_ACCOUNT}:role/proxy-role"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{DB_ACCOUNT}:secret:db-AbCdEf"


def make_network(aws, account: str = "database", cidr: str = "10.0.0.0/24") -> tuple[str, list[str]]:
    ec2 = aws.client("ec2", account)
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 1)[0]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{base}.{i * 32}/27", AvailabilityZone=f"eu-west-1{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("abc")
    ]
    return vpc_id, subnets


def default_group(aws, vpc_id: str, account: str = "database") -> str:
    groups = aws.client("ec2", account).describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return groups[0]["GroupId"]


def create_proxy(rds, subnets: list[str], name: str = "db-proxy", **kwargs) -> dict:
    kwargs.setdefault("DefaultAuthScheme", "IAM_AUTH")
    return rds.create_db_proxy(
        DBProxyName=name, EngineFamily="POSTGRESQL", RoleArn=ROLE, VpcSubnetIds=subnets, **kwargs
    )["DBProxy"]


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def wait_until(read, predicate, timeout: float = 5.0):
    """Poll ``read()`` until ``predicate(value)``; return the last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while not predicate(value) and time.monotonic() < deadline:
        time.sleep(0.01)
        value = read()
    return value


def proxy_status(rds, name: str = "db-proxy") -> str:
    return rds.describe_db_proxies(DBProxyName=name)["DBProxies"][0]["Status"]


def test_create_proxy_with_iam_auth_answers_the_dbproxy_shape(aws):
    vpc_id, subnets = make_network(aws)
    rds = aws.client("rds")
    proxy = create_proxy(rds, subnets)
    assert PROXY_ARN.match(proxy["DBProxyArn"])
    assert PROXY_DNS.match(proxy["Endpoint"]).group("name") == "db-proxy"
    assert proxy["DefaultAuthScheme"] == "IAM_AUTH"
    assert proxy["Auth"] == [] or "Auth" not in proxy
    assert proxy["VpcId"] == vpc_id
    assert proxy["VpcSubnetIds"] == subnets
    assert proxy["VpcSecurityGroupIds"] == [default_group(aws, vpc_id)]
    assert proxy["Status"] == "available"  # no delay configured
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["RequireTLS"] is False
    assert proxy["IdleClientTimeout"] == 1800
    assert isinstance(proxy["CreatedDate"], datetime)
    assert rds.describe_db_proxies(DBProxyName="db-proxy")["DBProxies"][0]["DBProxyArn"] == proxy["DBProxyArn"]
    # Without delay, deletion too is immediate.
    assert rds.delete_db_proxy(DBProxyName="db-proxy")["DBProxy"]["Status"] == "deleting"
    assert rds.describe_db_proxies()["DBProxies"] == []


def test_create_proxy_with_secrets_reports_auth_defaults(aws):
    _, subnets = make_network(aws)
    proxy = create_proxy(
        aws.client("rds"),
        subnets,
        DefaultAuthScheme="NONE",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": SECRET, "IAMAuth": "REQUIRED"}],
        RequireTLS=True,
        Tags=[{"Key": "team", "Value": "db"}],
    )
    assert proxy["DefaultAuthScheme"] == "NONE"
    assert proxy["Auth"] == [
        {
            "AuthScheme": "SECRETS",
            "SecretArn": SECRET,
            "IAMAuth": "REQUIRED",
            "ClientPasswordAuthType": "POSTGRES_SCRAM_SHA_256",
        }
    ]
    assert proxy["RequireTLS"] is True
    tags = aws.client("rds").list_tags_for_resource(ResourceName=proxy["DBProxyArn"])["TagList"]
    assert tags == [{"Key": "team", "Value": "db"}]


def test_create_proxy_errors(aws):
    _, subnets = make_network(aws)
    _, other_subnets = make_network(aws, cidr="10.0.1.0/24")
    rds = aws.client("rds")
    create_proxy(rds, subnets)
    cases = [
        ({"name": "db-proxy"}, "DBProxyAlreadyExistsFault"),
        ({"name": "p2", "subnets": ["subnet-00000000000000000"]}, "InvalidSubnet"),
        ({"name": "p2", "subnets": [subnets[0], other_subnets[0]]}, "InvalidSubnet"),
        ({"name": "p2", "VpcSecurityGroupIds": ["sg-00000000000000000"]}, "InvalidParameterValue"),
        ({"name": "p2", "EngineFamily": "ORACLE"}, "InvalidParameterValue"),
        ({"name": "2-bad--name"}, "InvalidParameterValue"),
        ({"name": "p2", "DefaultAuthScheme": "NONE"}, "InvalidParameterValue"),  # NONE needs Auth
        ({"name": "p2", "DefaultAuthScheme": "KERBEROS"}, "InvalidParameterValue"),
        ({"name": "p2", "Tags": [{"Key": "emulator:status", "Value": "broken"}]}, "InvalidParameterValue"),
    ]
    for case, code in cases:
        name = case.pop("name")
        kwargs = {"DBProxyName": name, "RoleArn": ROLE, "DefaultAuthScheme": case.pop("DefaultAuthScheme", "IAM_AUTH")}
        kwargs["VpcSubnetIds"] = case.pop("subnets", subnets)
        kwargs["EngineFamily"] = case.pop("EngineFamily", "POSTGRESQL")
        with pytest.raises(ClientError) as excinfo:
            rds.create_db_proxy(**kwargs, **case)
        assert error_code(excinfo) == code, (name, case)
    assert [p["DBProxyName"] for p in rds.describe_db_proxies()["DBProxies"]] == ["db-proxy"]


def test_proxy_quota(aws):
    _, subnets = make_network(aws)
    rds = aws.client("rds")
    for i in range(20):
        create_proxy(rds, subnets, name=f"proxy-{i}")
    with pytest.raises(ClientError) as excinfo:
        create_proxy(rds, subnets, name="proxy-20")
    assert error_code(excinfo) == "DBProxyQuotaExceededFault"


def test_modify_db_proxy(aws):
    vpc_id, subnets = make_network(aws)
    ec2 = aws.client("ec2")
    group = ec2.create_security_group(GroupName="proxy", Description="proxy", VpcId=vpc_id)["GroupId"]
    rds = aws.client("rds")
    before = create_proxy(rds, subnets, DefaultAuthScheme="NONE", Auth=[{"AuthScheme": "SECRETS", "SecretArn": SECRET}])
    after = rds.modify_db_proxy(
        DBProxyName="db-proxy",
        NewDBProxyName="renamed",
        DefaultAuthScheme="IAM_AUTH",
        Auth=[],
        RequireTLS=True,
        IdleClientTimeout=900,
        DebugLogging=True,
        RoleArn=f"{ROLE}-2",
        SecurityGroups=[group],
    )["DBProxy"]
    assert after["DBProxyName"] == "renamed"
    assert after["DBProxyArn"] == before["DBProxyArn"]
    assert PROXY_DNS.match(after["Endpoint"]).group("name") == "renamed"
    assert after["DefaultAuthScheme"] == "IAM_AUTH"
    assert after.get("Auth", []) == []
    assert (after["RequireTLS"], after["IdleClientTimeout"], after["DebugLogging"]) == (True, 900, True)
    assert after["RoleArn"] == f"{ROLE}-2"
    assert after["VpcSecurityGroupIds"] == [group]
    assert after["UpdatedDate"] >= before["UpdatedDate"]
    assert rds.describe_db_proxies(DBProxyName="renamed")["DBProxies"][0]["DefaultAuthScheme"] == "IAM_AUTH"
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_proxies(DBProxyName="db-proxy")
    assert error_code(excinfo) == "DBProxyNotFoundFault"
    back = rds.modify_db_proxy(DBProxyName="renamed", DefaultAuthScheme="NONE")["DBProxy"]
    assert back["DefaultAuthScheme"] == "NONE"


def test_modify_db_proxy_errors(aws):
    _, subnets = make_network(aws)
    rds = aws.client("rds")
    create_proxy(rds, subnets, name="one")
    create_proxy(rds, subnets, name="two")
    for kwargs, code in [
        ({"DBProxyName": "missing", "RequireTLS": True}, "DBProxyNotFoundFault"),
        ({"DBProxyName": "one", "NewDBProxyName": "two"}, "DBProxyAlreadyExistsFault"),
        ({"DBProxyName": "one", "DefaultAuthScheme": "OTHER"}, "InvalidParameterValue"),
        ({"DBProxyName": "one", "SecurityGroups": ["sg-00000000000000000"]}, "InvalidParameterValue"),
    ]:
        with pytest.raises(ClientError) as excinfo:
            rds.modify_db_proxy(**kwargs)
        assert error_code(excinfo) == code, kwargs


def test_proxy_status_follows_provisioning_time(aws):
    _, subnets = make_network(aws)
    rds = aws.client("rds")
    # Creating 4 min -> 0.2 s; each transition is held until the test has looked at it.
    aws.control.configure(delay_scale=0.05, hold=["db_proxy"])
    assert create_proxy(rds, subnets)["Status"] == "creating"
    assert proxy_status(rds) == "creating"
    with pytest.raises(ClientError) as excinfo:
        rds.modify_db_proxy(DBProxyName="db-proxy", RequireTLS=True)
    assert error_code(excinfo) == "InvalidDBProxyStateFault"
    aws.control.configure(hold=[])
    assert wait_until(lambda: proxy_status(rds), "available".__eq__) == "available"

    assert rds.modify_db_proxy(DBProxyName="db-proxy", RequireTLS=True)["DBProxy"]["Status"] == "modifying"
    assert wait_until(lambda: proxy_status(rds), "available".__eq__) == "available"

    aws.control.configure(hold=["db_proxy_delete"])
    assert rds.delete_db_proxy(DBProxyName="db-proxy")["DBProxy"]["Status"] == "deleting"
    assert proxy_status(rds) == "deleting"
    with pytest.raises(ClientError) as excinfo:
        rds.delete_db_proxy(DBProxyName="db-proxy")
    assert error_code(excinfo) == "InvalidDBProxyStateFault"
    aws.control.configure(hold=[])
    assert wait_until(lambda: rds.describe_db_proxies()["DBProxies"], lambda v: v == []) == []
    with pytest.raises(ClientError) as excinfo:
        rds.delete_db_proxy(DBProxyName="db-proxy")
    assert error_code(excinfo) == "DBProxyNotFoundFault"


def test_emulator_status_tag_ends_proxy_creation_in_failure(aws):
    _, subnets = make_network(aws)
    rds = aws.client("rds")
    aws.control.configure(delay_scale=0.02)
    for failure in ("incompatible-network", "insufficient-resource-limits"):
        proxy = create_proxy(rds, subnets, name=failure, Tags=[{"Key": "emulator:status", "Value": failure}])
        assert proxy["Status"] == "creating"
        assert wait_until(lambda name=failure: proxy_status(rds, name), "creating".__ne__) == failure


# -- targets -----------------------------------------------------------------
def make_cluster(aws, readers: int = 1, **instance_options) -> None:
    rds = aws.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="aurora",
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="postgres",
        MasterUserPassword="not-a-real-password",
    )
    for i in range(1 + readers):
        rds.create_db_instance(
            DBInstanceIdentifier=f"aurora-{i}",
            DBClusterIdentifier="aurora",
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
            **instance_options,
        )


def test_register_targets_reports_registering_then_available(aws, proxy_role):
    _, subnets = make_network(aws)
    make_cluster(aws)
    rds = aws.client("rds")
    create_proxy(rds, subnets)
    aws.control.configure(delay_scale=0.05, hold=["db_proxy_target"])  # 3 min -> 0.15 s, once released
    registered = rds.register_db_proxy_targets(DBProxyName="db-proxy", DBClusterIdentifiers=["aurora"])[
        "DBProxyTargets"
    ]
    assert [(t["Type"], t.get("Role"), t["TargetHealth"]["State"]) for t in registered] == [
        ("TRACKED_CLUSTER", None, "REGISTERING"),
        ("RDS_INSTANCE", "READ_WRITE", "REGISTERING"),
        ("RDS_INSTANCE", "READ_ONLY", "REGISTERING"),
    ]
    cluster_target, writer, reader = registered
    assert cluster_target["RdsResourceId"] == "aurora"
    assert cluster_target["TrackedClusterId"] == "aurora"
    assert cluster_target["Port"] == 5432
    assert (writer["RdsResourceId"], reader["RdsResourceId"]) == ("aurora-0", "aurora-1")
    assert writer["TrackedClusterId"] == "aurora"
    assert writer["TargetArn"] == f"arn:aws:rds:eu-west-1:{DB_ACCOUNT}:db:aurora-0"

    def states():
        return [t["TargetHealth"]["State"] for t in rds.describe_db_proxy_targets(DBProxyName="db-proxy")["Targets"]]

    assert states() == ["REGISTERING"] * 3
    aws.control.configure(hold=[])
    assert wait_until(states, lambda s: s == ["AVAILABLE"] * 3) == ["AVAILABLE"] * 3


def test_target_errors_and_deregistration(aws, proxy_role):
    _, subnets = make_network(aws)
    make_cluster(aws, readers=0)
    rds = aws.client("rds")
    create_proxy(rds, subnets)
    for kwargs, code in [
        ({"DBProxyName": "missing", "DBClusterIdentifiers": ["aurora"]}, "DBProxyNotFoundFault"),
        ({"DBProxyName": "db-proxy", "DBClusterIdentifiers": ["nope"]}, "DBClusterNotFoundFault"),
        ({"DBProxyName": "db-proxy", "DBInstanceIdentifiers": ["nope"]}, "DBInstanceNotFound"),
        (
            {"DBProxyName": "db-proxy", "TargetGroupName": "other", "DBClusterIdentifiers": ["aurora"]},
            "DBProxyTargetGroupNotFoundFault",
        ),
    ]:
        with pytest.raises(ClientError) as excinfo:
            rds.register_db_proxy_targets(**kwargs)
        assert error_code(excinfo) == code, kwargs
    rds.register_db_proxy_targets(DBProxyName="db-proxy", TargetGroupName="default", DBClusterIdentifiers=["aurora"])
    with pytest.raises(ClientError) as excinfo:
        rds.register_db_proxy_targets(DBProxyName="db-proxy", DBClusterIdentifiers=["aurora"])
    assert error_code(excinfo) == "DBProxyTargetAlreadyRegisteredFault"
    targets = rds.describe_db_proxy_targets(DBProxyName="db-proxy")["Targets"]
    assert [t["TargetHealth"]["State"] for t in targets] == ["AVAILABLE", "AVAILABLE"]
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_proxy_targets(DBProxyName="missing")
    assert error_code(excinfo) == "DBProxyNotFoundFault"
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_proxy_target_groups(DBProxyName="missing")
    assert error_code(excinfo) == "DBProxyNotFoundFault"
    rds.deregister_db_proxy_targets(DBProxyName="db-proxy", DBClusterIdentifiers=["aurora"])
    assert rds.describe_db_proxy_targets(DBProxyName="db-proxy")["Targets"] == []


def test_targets_wait_for_the_proxy(aws):
    _, subnets = make_network(aws)
    make_cluster(aws, readers=0)
    rds = aws.client("rds")
    aws.control.configure(hold=["db_proxy"])
    create_proxy(rds, subnets)
    with pytest.raises(ClientError) as excinfo:
        rds.register_db_proxy_targets(DBProxyName="db-proxy", DBClusterIdentifiers=["aurora"])
    assert error_code(excinfo) == "InvalidDBProxyStateFault"


def test_targets_are_refused_while_an_instance_is_creating_or_configuring_monitoring(aws, monitoring_role):
    _, subnets = make_network(aws)
    rds = aws.client("rds")
    create_proxy(rds, subnets)
    # The cluster and its instances stay in their transitional statuses until the holds are lifted.
    aws.control.configure(hold=["db_cluster", "db_instance_monitoring"])
    make_cluster(aws, readers=1, MonitoringInterval=60, MonitoringRoleArn=monitoring_role)
    with pytest.raises(ClientError) as excinfo:
        rds.register_db_proxy_targets(DBProxyName="db-proxy", DBClusterIdentifiers=["aurora"])
    assert error_code(excinfo) == "InvalidDBClusterStateFault"
    assert excinfo.value.response["Error"]["Message"] == (
        "DB Cluster aurora is in an unsupported state - CREATING, needs to be in [AVAILABLE, MODIFYING, BACKING_UP]"
    )
    aws.control.configure(hold=["db_instance_monitoring"])  # the cluster is available, its instances are not
    for kwargs in ({"DBClusterIdentifiers": ["aurora"]}, {"DBInstanceIdentifiers": ["aurora-1"]}):
        with pytest.raises(ClientError) as excinfo:
            rds.register_db_proxy_targets(DBProxyName="db-proxy", **kwargs)
        assert error_code(excinfo) == "InvalidDBInstanceState"
        assert excinfo.value.response["Error"]["Message"] == (
            f"DB Instance aurora-{0 if 'DBClusterIdentifiers' in kwargs else 1} is in an unsupported state - "
            "CONFIGURING_ENHANCED_MONITORING, needs to be in [AVAILABLE, MODIFYING, BACKING_UP]"
        )
    # Nothing was registered by the refused calls.
    assert rds.describe_db_proxy_targets(DBProxyName="db-proxy")["Targets"] == []
    aws.control.configure(hold=[])
    registered = rds.register_db_proxy_targets(DBProxyName="db-proxy", DBClusterIdentifiers=["aurora"])
    assert len(registered["DBProxyTargets"]) == 3


def test_targets_stay_unavailable_while_the_proxy_cannot_use_its_role(aws):
    _, subnets = make_network(aws)
    make_cluster(aws, readers=0)
    rds, iam = aws.client("rds"), aws.client("iam")
    create_proxy(rds, subnets, DefaultAuthScheme="NONE", Auth=[{"AuthScheme": "SECRETS", "SecretArn": SECRET}])
    rds.register_db_proxy_targets(DBProxyName="db-proxy", DBClusterIdentifiers=["aurora"])

    def health():
        return [t["TargetHealth"] for t in rds.describe_db_proxy_targets(DBProxyName="db-proxy")["Targets"]]

    # No role yet, then a role that does not trust RDS, then one that cannot read the secret.
    ec2_trust = {
        **PROXY_TRUST,
        "Statement": [{**PROXY_TRUST["Statement"][0], "Principal": {"Service": "ec2.amazonaws.com"}}],
    }

    def create_untrusting_role():
        iam.create_role(RoleName="proxy-role", AssumeRolePolicyDocument=json.dumps(ec2_trust))

    def trust_rds():
        iam.update_assume_role_policy(RoleName="proxy-role", PolicyDocument=json.dumps(PROXY_TRUST))

    for step, expected in (
        (lambda: None, "does not exist"),
        (create_untrusting_role, "does not trust rds.amazonaws.com"),
        (trust_rds, "does not allow secretsmanager:GetSecretValue"),
    ):
        step()
        states = health()
        assert {(h["State"], h.get("Reason")) for h in states} == {("UNAVAILABLE", "AUTH_FAILURE")}
        assert all(expected in h["Description"] for h in states), states
    # The permission it lacked, given seconds ago: IAM has not propagated it yet, the proxy sees the role without it.
    aws.control.configure(hold=["iam_role_propagation"])
    iam.put_role_policy(RoleName="proxy-role", PolicyName="secrets", PolicyDocument=json.dumps(PROXY_SECRETS))
    assert all(
        "does not allow secretsmanager:GetSecretValue" in h["Description"] and "not propagated yet" in h["Description"]
        for h in health()
    )
    aws.control.configure(hold=[])
    assert health() == [{"State": "AVAILABLE"}, {"State": "AVAILABLE"}]
