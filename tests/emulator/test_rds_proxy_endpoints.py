"""RDS Proxy endpoints: create, describe, modify, delete, their formats,
statuses, errors and tags."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from tests.emulator.test_rds_proxy import create_proxy, default_group, error_code, make_network, wait_until

ENDPOINT_ARN = re.compile(r"^arn:aws:rds:eu-west-1:111111111111:db-proxy-endpoint:prx-endpoint-[0-9a-f]{17}$")
ENDPOINT_DNS = re.compile(
    r"^(?P<name>[A-Za-z0-9-]+)\.endpoint\.proxy-(?P<id>[a-z0-9]{12})\.eu-west-1\.rds\.amazonaws\.com$"
)
PROXY_DNS = re.compile(r"^db-proxy\.proxy-(?P<id>[a-z0-9]{12})\.eu-west-1\.rds\.amazonaws\.com$")


@pytest.fixture
def proxy(aws):
    """A proxy in a VPC of the database account; returns (proxy, vpc_id, subnets)."""
    vpc_id, subnets = make_network(aws)
    return create_proxy(aws.client("rds"), subnets), vpc_id, subnets


def create_endpoint(rds, subnets, name: str = "app-rw", **kwargs) -> dict:
    return rds.create_db_proxy_endpoint(
        DBProxyName="db-proxy", DBProxyEndpointName=name, VpcSubnetIds=subnets, **kwargs
    )["DBProxyEndpoint"]


def endpoint_status(rds, name: str) -> str:
    return rds.describe_db_proxy_endpoints(DBProxyEndpointName=name)["DBProxyEndpoints"][0]["Status"]


def test_endpoint_formats_and_parsed_shape(aws, proxy):
    db_proxy, vpc_id, subnets = proxy
    rds = aws.client("rds")
    created = create_endpoint(rds, subnets[:2])
    assert ENDPOINT_ARN.match(created["DBProxyEndpointArn"])
    dns = ENDPOINT_DNS.match(created["Endpoint"])
    assert dns.group("name") == "app-rw"
    assert dns.group("id") == PROXY_DNS.match(db_proxy["Endpoint"]).group("id")

    described = rds.describe_db_proxy_endpoints(DBProxyEndpointName="app-rw")["DBProxyEndpoints"]
    assert len(described) == 1
    endpoint = described[0]
    assert endpoint == created
    assert endpoint["DBProxyName"] == "db-proxy"
    assert endpoint["Status"] == "available"
    assert endpoint["VpcId"] == vpc_id
    assert endpoint["VpcSubnetIds"] == subnets[:2]
    assert endpoint["VpcSecurityGroupIds"] == [default_group(aws, vpc_id)]
    assert endpoint["TargetRole"] == "READ_WRITE"
    assert endpoint["IsDefault"] is False
    assert endpoint["EndpointNetworkType"] == "IPV4"
    assert isinstance(endpoint["CreatedDate"], datetime)
    assert endpoint["CreatedDate"].tzinfo is not None


def test_describe_by_proxy_lists_the_default_endpoint(aws, proxy):
    db_proxy, vpc_id, subnets = proxy
    rds = aws.client("rds")
    create_endpoint(rds, subnets, name="app-ro", TargetRole="READ_ONLY")
    endpoints = rds.describe_db_proxy_endpoints(DBProxyName="db-proxy")["DBProxyEndpoints"]
    assert [(e["DBProxyEndpointName"], e["IsDefault"], e["TargetRole"]) for e in endpoints] == [
        ("default", True, "READ_WRITE"),
        ("app-ro", False, "READ_ONLY"),
    ]
    default = endpoints[0]
    assert default["Endpoint"] == db_proxy["Endpoint"]
    assert default["VpcId"] == vpc_id
    assert default["Status"] == "available"
    assert ENDPOINT_ARN.match(default["DBProxyEndpointArn"])
    assert rds.describe_db_proxy_endpoints()["DBProxyEndpoints"] == endpoints


def test_endpoint_in_another_vpc_than_the_proxy(aws, proxy):
    db_proxy, _, _ = proxy
    other_vpc, other_subnets = make_network(aws, cidr="10.0.2.0/24")
    ec2 = aws.client("ec2")
    group = ec2.create_security_group(GroupName="endpoint", Description="endpoint", VpcId=other_vpc)["GroupId"]
    endpoint = create_endpoint(
        aws.client("rds"), other_subnets, name="app-ro", TargetRole="READ_ONLY", VpcSecurityGroupIds=[group]
    )
    assert endpoint["VpcId"] == other_vpc != db_proxy["VpcId"]
    assert endpoint["VpcSecurityGroupIds"] == [group]
    assert endpoint["TargetRole"] == "READ_ONLY"


def test_create_endpoint_errors(aws, proxy):
    _, _, subnets = proxy
    other_vpc, other_subnets = make_network(aws, cidr="10.0.2.0/24")
    ec2 = aws.client("ec2")
    foreign_group = ec2.create_security_group(GroupName="x", Description="x", VpcId=other_vpc)["GroupId"]
    _, app_subnets = make_network(aws, account="application-a", cidr="10.0.16.0/24")
    rds = aws.client("rds")
    create_endpoint(rds, subnets)
    cases = [
        ({"DBProxyName": "missing"}, "DBProxyNotFoundFault"),
        ({"DBProxyEndpointName": "app-rw"}, "DBProxyEndpointAlreadyExistsFault"),
        ({"DBProxyEndpointName": "default"}, "DBProxyEndpointAlreadyExistsFault"),
        ({"DBProxyEndpointName": "bad--name"}, "InvalidParameterValue"),
        ({"VpcSubnetIds": ["subnet-00000000000000000"]}, "InvalidSubnet"),
        ({"VpcSubnetIds": [subnets[0], other_subnets[0]]}, "InvalidSubnet"),
        ({"VpcSubnetIds": app_subnets}, "InvalidSubnet"),  # another account's, not shared
        ({"VpcSecurityGroupIds": ["sg-00000000000000000"]}, "InvalidParameterValue"),
        ({"VpcSecurityGroupIds": [foreign_group]}, "InvalidParameterValue"),  # SG of another VPC
        ({"TargetRole": "WRITE_ONLY"}, "InvalidParameterValue"),
    ]
    for case, code in cases:
        kwargs = {"DBProxyName": "db-proxy", "DBProxyEndpointName": "new-endpoint", "VpcSubnetIds": subnets, **case}
        with pytest.raises(ClientError) as excinfo:
            rds.create_db_proxy_endpoint(**kwargs)
        assert error_code(excinfo) == code, case
    assert len(rds.describe_db_proxy_endpoints(DBProxyName="db-proxy")["DBProxyEndpoints"]) == 2


def test_endpoint_quota_and_pagination(aws, proxy):
    _, _, subnets = proxy
    rds = aws.client("rds")
    for i in range(20):
        create_endpoint(rds, subnets, name=f"endpoint-{i}")
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(rds, subnets, name="endpoint-20")
    assert error_code(excinfo) == "DBProxyEndpointQuotaExceededFault"
    first = rds.describe_db_proxy_endpoints(DBProxyName="db-proxy", MaxRecords=20)
    assert len(first["DBProxyEndpoints"]) == 20
    assert first["Marker"]
    pages = rds.get_paginator("describe_db_proxy_endpoints").paginate(
        DBProxyName="db-proxy", PaginationConfig={"PageSize": 20}
    )
    names = [e["DBProxyEndpointName"] for p in pages for e in p["DBProxyEndpoints"]]
    assert names == ["default"] + [f"endpoint-{i}" for i in range(20)]


def test_describe_and_delete_errors(aws, proxy):
    rds = aws.client("rds")
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_proxy_endpoints(DBProxyEndpointName="missing")
    assert error_code(excinfo) == "DBProxyEndpointNotFoundFault"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_proxy_endpoints(DBProxyName="missing")
    assert error_code(excinfo) == "DBProxyNotFoundFault"
    for name, code in [("missing", "DBProxyEndpointNotFoundFault"), ("default", "InvalidDBProxyEndpointStateFault")]:
        with pytest.raises(ClientError) as excinfo:
            rds.delete_db_proxy_endpoint(DBProxyEndpointName=name)
        assert error_code(excinfo) == code


def test_modify_endpoint(aws, proxy):
    _, vpc_id, subnets = proxy
    group = aws.client("ec2").create_security_group(GroupName="ep", Description="ep", VpcId=vpc_id)["GroupId"]
    rds = aws.client("rds")
    before = create_endpoint(rds, subnets)
    create_endpoint(rds, subnets, name="taken")
    after = rds.modify_db_proxy_endpoint(
        DBProxyEndpointName="app-rw", NewDBProxyEndpointName="renamed", VpcSecurityGroupIds=[group]
    )["DBProxyEndpoint"]
    assert after["DBProxyEndpointName"] == "renamed"
    assert after["DBProxyEndpointArn"] == before["DBProxyEndpointArn"]
    assert ENDPOINT_DNS.match(after["Endpoint"]).group("name") == "renamed"
    assert after["VpcSecurityGroupIds"] == [group]
    for kwargs, code in [
        ({"DBProxyEndpointName": "app-rw"}, "DBProxyEndpointNotFoundFault"),
        ({"DBProxyEndpointName": "renamed", "NewDBProxyEndpointName": "taken"}, "DBProxyEndpointAlreadyExistsFault"),
        ({"DBProxyEndpointName": "renamed", "VpcSecurityGroupIds": ["sg-0"]}, "InvalidParameterValue"),
        ({"DBProxyEndpointName": "default", "NewDBProxyEndpointName": "x"}, "InvalidDBProxyEndpointStateFault"),
    ]:
        with pytest.raises(ClientError) as excinfo:
            rds.modify_db_proxy_endpoint(**kwargs)
        assert error_code(excinfo) == code, kwargs


def test_endpoint_status_follows_provisioning_time(aws, proxy):
    _, _, subnets = proxy
    rds = aws.client("rds")
    # Creating 3 min -> 0.15 s, modifying and deleting 1 min -> 0.05 s, each held until the test has looked at it.
    aws.control.configure(delay_scale=0.05, hold=["db_proxy_endpoint"])
    assert create_endpoint(rds, subnets)["Status"] == "creating"
    assert endpoint_status(rds, "app-rw") == "creating"
    with pytest.raises(ClientError) as excinfo:
        rds.modify_db_proxy_endpoint(DBProxyEndpointName="app-rw", NewDBProxyEndpointName="other")
    assert error_code(excinfo) == "InvalidDBProxyEndpointStateFault"
    aws.control.configure(hold=[])
    assert wait_until(lambda: endpoint_status(rds, "app-rw"), "available".__eq__) == "available"

    modified = rds.modify_db_proxy_endpoint(DBProxyEndpointName="app-rw", NewDBProxyEndpointName="other")
    assert modified["DBProxyEndpoint"]["Status"] == "modifying"
    assert wait_until(lambda: endpoint_status(rds, "other"), "available".__eq__) == "available"

    aws.control.configure(hold=["db_proxy_endpoint_delete"])
    assert rds.delete_db_proxy_endpoint(DBProxyEndpointName="other")["DBProxyEndpoint"]["Status"] == "deleting"
    assert endpoint_status(rds, "other") == "deleting"
    with pytest.raises(ClientError) as excinfo:
        rds.delete_db_proxy_endpoint(DBProxyEndpointName="other")
    assert error_code(excinfo) == "InvalidDBProxyEndpointStateFault"
    aws.control.configure(hold=[])

    def names():
        return [e["DBProxyEndpointName"] for e in rds.describe_db_proxy_endpoints()["DBProxyEndpoints"]]

    assert wait_until(names, ["default"].__eq__) == ["default"]


def test_endpoint_waits_for_its_proxy(aws):
    _, subnets = make_network(aws)
    rds = aws.client("rds")
    aws.control.configure(hold=["db_proxy"])
    create_proxy(rds, subnets)
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(rds, subnets)
    assert error_code(excinfo) == "InvalidDBProxyStateFault"
    endpoints = rds.describe_db_proxy_endpoints(DBProxyName="db-proxy")["DBProxyEndpoints"]
    assert [(e["DBProxyEndpointName"], e["Status"]) for e in endpoints] == [("default", "creating")]


def test_deleting_a_proxy_deletes_its_endpoints(aws, proxy):
    _, _, subnets = proxy
    rds = aws.client("rds")
    create_endpoint(rds, subnets)
    aws.control.configure(delay_scale=0.05, hold=["db_proxy_delete"])
    rds.delete_db_proxy(DBProxyName="db-proxy")
    assert endpoint_status(rds, "app-rw") == "deleting"
    aws.control.configure(hold=[])
    assert wait_until(lambda: rds.describe_db_proxy_endpoints()["DBProxyEndpoints"], [].__eq__) == []
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_proxy_endpoints(DBProxyEndpointName="app-rw")
    assert error_code(excinfo) == "DBProxyEndpointNotFoundFault"


def test_emulator_status_tag_ends_endpoint_creation_in_failure(aws, proxy):
    _, _, subnets = proxy
    rds = aws.client("rds")
    aws.control.configure(delay_scale=0.02)
    for failure in ("incompatible-network", "insufficient-resource-limits"):
        created = create_endpoint(rds, subnets, name=failure, Tags=[{"Key": "emulator:status", "Value": failure}])
        assert created["Status"] == "creating"
        assert wait_until(lambda name=failure: endpoint_status(rds, name), "creating".__ne__) == failure


def test_endpoint_tags(aws, proxy):
    _, _, subnets = proxy
    rds = aws.client("rds")
    arn = create_endpoint(rds, subnets, Tags=[{"Key": "app", "Value": "a"}])["DBProxyEndpointArn"]
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "app", "Value": "a"}]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "env", "Value": "test"}, {"Key": "app", "Value": "b"}])
    tags = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}
    assert tags == {"app": "b", "env": "test"}
    rds.remove_tags_from_resource(ResourceName=arn, TagKeys=["app"])
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "env", "Value": "test"}]


def test_endpoint_in_subnets_shared_by_another_account(aws, proxy):
    db_proxy, _, _ = proxy
    app_vpc, app_subnets = make_network(aws, account="application-a", cidr="10.0.16.0/24")
    app_account = aws.account("application-a").account_id
    subnet_arns = [f"arn:aws:ec2:eu-west-1:{app_account}:subnet/{s}" for s in app_subnets]
    ram = aws.client("ram", "application-a")
    share = ram.create_resource_share(
        name="subnets", resourceArns=subnet_arns, principals=[aws.account("database").account_id]
    )["resourceShare"]["resourceShareArn"]
    # The database account creates its own security group in the shared VPC.
    group = aws.client("ec2").create_security_group(GroupName="endpoint", Description="endpoint", VpcId=app_vpc)[
        "GroupId"
    ]
    rds = aws.client("rds")
    endpoint = create_endpoint(rds, app_subnets, name="app-ro", TargetRole="READ_ONLY", VpcSecurityGroupIds=[group])
    assert endpoint["VpcId"] == app_vpc != db_proxy["VpcId"]
    assert endpoint["VpcSubnetIds"] == app_subnets
    assert endpoint["VpcSecurityGroupIds"] == [group]
    assert ENDPOINT_ARN.match(endpoint["DBProxyEndpointArn"])  # owned by the database account

    # A group of the subnets' owner is not the caller's.
    owner_group = default_group(aws, app_vpc, account="application-a")
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(rds, app_subnets, name="app-rw", VpcSecurityGroupIds=[owner_group])
    assert error_code(excinfo) == "InvalidParameterValue"

    # Without the share the subnets are unknown to the database account.
    ram.disassociate_resource_share(resourceShareArn=share, resourceArns=subnet_arns)
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(rds, app_subnets, name="app-rw", VpcSecurityGroupIds=[group])
    assert error_code(excinfo) == "InvalidSubnet"
