"""Provisioning time of Aurora clusters and their DB instances."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.emulator.test_rds_proxy import error_code

FAST = {"Delay": 0.02, "MaxAttempts": 250}


def create_cluster(rds, name: str = "aurora") -> dict:
    return rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="postgres",
        MasterUserPassword="not-a-real-password",
    )["DBCluster"]


def create_instance(rds, name: str, cluster: str = "aurora") -> dict:
    return rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
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
    aws.control.configure(delay_scale=0.04)  # cluster 6 min -> 0.24 s, instance 8 min -> 0.32 s
    assert create_cluster(rds)["Status"] == "creating"
    assert cluster_status(rds) == "creating"
    assert cluster_status(rds) == "creating"  # not only once
    assert create_instance(rds, "aurora-1")["DBInstanceStatus"] == "creating"
    assert instance_status(rds, "aurora-1") == "creating"
    # botocore's own waiters see the transitions.
    rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier="aurora", WaiterConfig=FAST)
    rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier="aurora-1", WaiterConfig=FAST)
    assert (cluster_status(rds), instance_status(rds, "aurora-1")) == ("available", "available")

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
    # The cluster takes 600 minutes (6 s), its instance its usual 8 (0.08 s).
    aws.control.configure(delay_scale=0.01, aws_minutes={"db_cluster": 600})
    create_cluster(rds)
    assert create_instance(rds, "aurora-1")["DBInstanceStatus"] == "creating"  # accepted at once, as on AWS
    time.sleep(0.3)  # well past the instance's own time
    assert instance_status(rds, "aurora-1") == "creating"
    assert cluster_status(rds) == "creating"


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
