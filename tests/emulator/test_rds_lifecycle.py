"""Provisioning time of Aurora clusters and their DB instances."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import MONITORING_POLICY, MONITORING_TRUST
from tests.emulator.test_rds_proxy import error_code

MONITORING_REFUSED = (
    "IAM role ARN value is invalid or does not include the required permissions for: ENHANCED_MONITORING"
)

FAST = {"Delay": 0.02, "MaxAttempts": 250}


def create_cluster(rds, name: str = "aurora") -> dict:
    return rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="postgres",
        MasterUserPassword="not-a-real-password",
    )["DBCluster"]


def create_instance(rds, name: str, cluster: str = "aurora", **kwargs) -> dict:
    return rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
        **kwargs,
    )["DBInstance"]


def cluster_status(rds, name: str = "aurora") -> str:
    return rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"]


def instance_status(rds, name: str) -> str:
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["DBInstanceStatus"]


def test_everything_is_available_at_once_without_delay(aws):
    rds = aws.client("rds")
    assert create_cluster(rds)["Status"] == "available"
    assert create_instance(rds, "aurora-1")["DBInstanceStatus"] == "available"
    assert cluster_status(rds) == "available"
    assert instance_status(rds, "aurora-1") == "available"
    assert rds.delete_db_instance(DBInstanceIdentifier="aurora-1")["DBInstance"]["DBInstanceStatus"] == "deleting"
    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.delete_db_cluster(DBClusterIdentifier="aurora", SkipFinalSnapshot=True)["DBCluster"]["Status"] == (
        "deleting"
    )
    assert rds.describe_db_clusters()["DBClusters"] == []


def test_cluster_and_instances_take_their_provisioning_time(aws):
    rds = aws.client("rds")
    # Cluster 6 min -> 0.24 s, instance 8 min -> 0.32 s, each held in its transitional status until released,
    # so that what is seen before does not depend on the machine's speed.
    aws.control.configure(delay_scale=0.04, hold=["db_cluster", "db_instance"])
    assert create_cluster(rds)["Status"] == "creating"
    assert cluster_status(rds) == "creating"
    assert cluster_status(rds) == "creating"  # not only once
    assert create_instance(rds, "aurora-1")["DBInstanceStatus"] == "creating"
    assert instance_status(rds, "aurora-1") == "creating"
    aws.control.configure(hold=[])
    # botocore's own waiters see the transitions.
    rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier="aurora", WaiterConfig=FAST)
    rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier="aurora-1", WaiterConfig=FAST)
    assert (cluster_status(rds), instance_status(rds, "aurora-1")) == ("available", "available")

    aws.control.configure(hold=["db_instance_delete", "db_cluster_delete"])
    assert rds.delete_db_instance(DBInstanceIdentifier="aurora-1")["DBInstance"]["DBInstanceStatus"] == "deleting"
    assert instance_status(rds, "aurora-1") == "deleting"
    with pytest.raises(ClientError) as excinfo:
        rds.delete_db_instance(DBInstanceIdentifier="aurora-1")
    assert error_code(excinfo) == "InvalidDBInstanceState"
    # A cluster whose instances are all deleting can be deleted.
    rds.delete_db_cluster(DBClusterIdentifier="aurora", SkipFinalSnapshot=True)
    assert cluster_status(rds) == "deleting"
    with pytest.raises(ClientError) as excinfo:
        rds.delete_db_cluster(DBClusterIdentifier="aurora", SkipFinalSnapshot=True)
    assert error_code(excinfo) == "InvalidDBClusterStateFault"
    aws.control.configure(hold=[])
    rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier="aurora-1", WaiterConfig=FAST)
    rds.get_waiter("db_cluster_deleted").wait(DBClusterIdentifier="aurora", WaiterConfig=FAST)
    assert rds.describe_db_instances()["DBInstances"] == []
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_clusters(DBClusterIdentifier="aurora")
    assert error_code(excinfo) == "DBClusterNotFoundFault"


def test_cluster_with_active_instances_cannot_be_deleted(aws):
    rds = aws.client("rds")
    create_cluster(rds)
    create_instance(rds, "aurora-1")
    with pytest.raises(ClientError) as excinfo:
        rds.delete_db_cluster(DBClusterIdentifier="aurora", SkipFinalSnapshot=True)
    assert error_code(excinfo) == "InvalidDBClusterStateFault"


def test_cluster_instances_report_the_cluster_subnet_group_and_security_groups(aws):
    ec2 = aws.client("ec2", "database")
    rds = aws.client("rds", "database")
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/24")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.5.0.{i * 64}/26", AvailabilityZone=f"eu-west-1{zone}")["Subnet"]
        for i, zone in enumerate("ab")
    ]
    group = ec2.create_security_group(GroupName="cluster", Description="cluster", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(
        DBSubnetGroupName="isolated", DBSubnetGroupDescription="isolated", SubnetIds=[s["SubnetId"] for s in subnets]
    )
    rds.create_db_cluster(
        DBClusterIdentifier="c1", Engine="aurora-postgresql", MasterUsername="postgres", MasterUserPassword="x" * 12,
        DBSubnetGroupName="isolated", VpcSecurityGroupIds=[group],
    )  # fmt: skip
    rds.create_db_instance(
        DBInstanceIdentifier="c1-writer", DBClusterIdentifier="c1", Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
    )  # fmt: skip
    instance = rds.describe_db_instances(DBInstanceIdentifier="c1-writer")["DBInstances"][0]
    assert instance["DBSubnetGroup"]["DBSubnetGroupName"] == "isolated"
    assert instance["DBSubnetGroup"]["VpcId"] == vpc
    assert [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]] == [group]


def test_aws_minutes_override_one_operation_and_reset(aws):
    import urllib.error

    rds = aws.client("rds")
    # Instances take 600 minutes instead of 8; the cluster keeps its 6 (0.06 s).
    settings = aws.control.configure(delay_scale=0.01, aws_minutes={"db_instance": 600})
    assert settings["aws_minutes"]["db_instance"] == 600
    assert settings["aws_minutes"]["db_cluster"] == 6
    create_cluster(rds)
    create_instance(rds, "aurora-1")
    rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier="aurora", WaiterConfig=FAST)
    assert instance_status(rds, "aurora-1") == "creating"
    # An empty map brings every operation back to its typical duration.
    assert aws.control.configure(aws_minutes={})["aws_minutes"]["db_cluster"] == 6
    for bad in ({"db_clusters": 1}, {"db_cluster": -1}, ["db_cluster"]):
        with pytest.raises(urllib.error.HTTPError) as info:
            aws.control.configure(aws_minutes=bad)
        assert info.value.code == 400


def test_an_instance_is_not_available_before_its_cluster(aws):
    rds = aws.client("rds")
    # No delays, so the instance's own time is over at once; the cluster is held in "creating".
    aws.control.configure(hold=["db_cluster"])
    create_cluster(rds)
    assert create_instance(rds, "aurora-1")["DBInstanceStatus"] == "creating"  # accepted at once, as on AWS
    assert instance_status(rds, "aurora-1") == "creating"
    assert cluster_status(rds) == "creating"
    aws.control.configure(hold=[])
    assert (cluster_status(rds), instance_status(rds, "aurora-1")) == ("available", "available")


def test_modify_db_subnet_group_changes_the_group_in_place(aws):
    ec2, rds = aws.client("ec2"), aws.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/24")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{aws.region}{zone}")["Subnet"]["SubnetId"]
        for cidr, zone in (("10.6.0.0/26", "a"), ("10.6.0.64/26", "b"))
    ]
    rds.create_db_subnet_group(DBSubnetGroupName="grp", DBSubnetGroupDescription="before", SubnetIds=subnets)
    rds.modify_db_subnet_group(DBSubnetGroupName="grp", DBSubnetGroupDescription="after", SubnetIds=subnets[:1])
    group = rds.describe_db_subnet_groups(DBSubnetGroupName="grp")["DBSubnetGroups"][0]
    assert group["DBSubnetGroupDescription"] == "after"
    assert [s["SubnetIdentifier"] for s in group["Subnets"]] == subnets[:1]
    with pytest.raises(ClientError) as missing:
        rds.modify_db_subnet_group(DBSubnetGroupName="none", SubnetIds=subnets)
    assert error_code(missing) == "DBSubnetGroupNotFoundFault"


def test_modify_db_cluster_turns_iam_authentication_off_and_on(aws):
    rds = aws.client("rds")
    create_cluster(rds, "iam")
    for enabled in (True, False, True):
        returned = rds.modify_db_cluster(DBClusterIdentifier="iam", EnableIAMDatabaseAuthentication=enabled)
        assert returned["DBCluster"]["IAMDatabaseAuthenticationEnabled"] is enabled
        described = rds.describe_db_clusters(DBClusterIdentifier="iam")["DBClusters"][0]
        assert described["IAMDatabaseAuthenticationEnabled"] is enabled


def test_a_held_operation_stays_transitional_until_released(aws):
    rds = aws.client("rds")
    aws.control.configure(hold=["db_cluster"])  # delay_scale is 0: it would be available at once
    create_cluster(rds)
    create_instance(rds, "aurora-1")
    assert (cluster_status(rds), instance_status(rds, "aurora-1")) == ("creating", "creating")
    assert (cluster_status(rds), instance_status(rds, "aurora-1")) == ("creating", "creating")
    aws.control.configure(hold=[])
    assert (cluster_status(rds), instance_status(rds, "aurora-1")) == ("available", "available")


def test_hold_names_known_operations_only(aws):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as info:
        aws.control.configure(hold=["db_clusters"])
    assert info.value.code == 400
    assert aws.control.config()["hold"] == []


def test_an_instance_with_enhanced_monitoring_configures_it_before_it_is_available(aws, monitoring_role):
    rds = aws.client("rds")
    create_cluster(rds)
    # Creating for the first 0.1 s, then configuring Enhanced Monitoring until the hold is lifted.
    aws.control.configure(delay_scale=0.1, aws_minutes={"db_instance": 2, "db_instance_monitoring": 1})
    aws.control.configure(hold=["db_instance_monitoring"])
    created = create_instance(rds, "aurora-1", MonitoringInterval=60, MonitoringRoleArn=monitoring_role)
    assert created["DBInstanceStatus"] == "creating"
    seen = wait_for_status(rds, "aurora-1", lambda status: status != "creating")
    assert seen == "configuring-enhanced-monitoring"
    assert instance_status(rds, "aurora-1") == "configuring-enhanced-monitoring"
    aws.control.configure(hold=[])
    assert wait_for_status(rds, "aurora-1", "available".__eq__) == "available"


def test_an_instance_without_enhanced_monitoring_never_configures_it(aws):
    rds = aws.client("rds")
    create_cluster(rds)
    aws.control.configure(delay_scale=0.1, aws_minutes={"db_instance": 2}, hold=["db_instance_monitoring"])
    create_instance(rds, "aurora-1")
    assert wait_for_status(rds, "aurora-1", lambda status: status != "creating") == "available"


def wait_for_status(rds, name: str, predicate, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    status = instance_status(rds, name)
    while not predicate(status) and time.monotonic() < deadline:
        time.sleep(0.01)
        status = instance_status(rds, name)
    return status


def test_the_enhanced_monitoring_role_must_exist_trust_rds_allow_the_metrics_and_have_propagated(aws):
    rds, iam = aws.client("rds"), aws.client("iam")
    create_cluster(rds)
    arn = "arn:aws:iam::111111111111:role/rds-monitoring"

    def refused(name: str) -> str:
        with pytest.raises(ClientError) as excinfo:
            create_instance(rds, name, MonitoringInterval=60, MonitoringRoleArn=arn)
        assert excinfo.value.response["Error"]["Message"] == MONITORING_REFUSED
        return error_code(excinfo)

    assert refused("no-role") == "InvalidParameterValue"
    lambda_trust = {"Version": "2012-10-17", "Statement": [{**MONITORING_TRUST["Statement"][0]}]}
    lambda_trust["Statement"][0]["Principal"] = {"Service": "lambda.amazonaws.com"}
    iam.create_role(RoleName="rds-monitoring", AssumeRolePolicyDocument=json.dumps(lambda_trust))
    assert refused("untrusting-role") == "InvalidParameterValue"
    iam.update_assume_role_policy(RoleName="rds-monitoring", PolicyDocument=json.dumps(MONITORING_TRUST))
    assert refused("role-without-permissions") == "InvalidParameterValue"
    aws.control.configure(hold=["iam_role_propagation"])
    iam.attach_role_policy(RoleName="rds-monitoring", PolicyArn=MONITORING_POLICY)
    assert refused("role-not-propagated") == "InvalidParameterValue"
    aws.control.configure(hold=[])
    assert create_instance(rds, "aurora-1", MonitoringInterval=60, MonitoringRoleArn=arn)["MonitoringRoleArn"] == arn
    # ModifyDBInstance checks it too.
    iam.detach_role_policy(RoleName="rds-monitoring", PolicyArn=MONITORING_POLICY)
    with pytest.raises(ClientError) as excinfo:
        rds.modify_db_instance(DBInstanceIdentifier="aurora-1", MonitoringInterval=30, ApplyImmediately=True)
    assert excinfo.value.response["Error"]["Message"] == MONITORING_REFUSED
