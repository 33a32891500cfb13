"""Interface VPC endpoints and Lambda functions in a VPC: provisioning
transitions, shapes, errors, and Invoke's plain refusal to run code.

The emulator is reset once for the module; each test uses its own VPC and
function names.  Delays use 0.4 s per AWS minute (long enough to observe a
transitional status between calls on a busy machine) and bounded polling.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.emulator.test_ram import APP_A, DATABASE, error_code, make_subnets, module_emulator

SCALE = 0.4  # seconds per AWS minute
STS = "com.amazonaws.eu-west-1.sts"
REGIONAL_DNS = re.compile(r"^(vpce-[0-9a-f]{17})-[a-z0-9]{8}\.sts\.eu-west-1\.vpce\.amazonaws\.com$")


@pytest.fixture(scope="module")
def aws(emulator):
    """The emulator, reset once for this module, without delays or faults."""
    return module_emulator(emulator)


@pytest.fixture
def delays(aws):
    """Provisioning delays of ``SCALE`` seconds per AWS minute, turned off again afterwards."""
    aws.control.configure(delay_scale=SCALE)
    yield
    aws.control.configure(delay_scale=0)


def wait_for(check, timeout: float = 5.0):
    """Poll ``check`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail("condition not reached in time")


def private_network(aws, cidr: str, account: str = "application-a") -> tuple[str, list[str], str]:
    """A VPC with DNS hostnames, two subnets and a security group."""
    vpc_id, subnets = make_subnets(aws, account, cidr=cidr)
    ec2 = aws.client("ec2", account)
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    group = ec2.create_security_group(GroupName=f"sg-{cidr}", Description="endpoint", VpcId=vpc_id)["GroupId"]
    return vpc_id, [s["SubnetId"] for s in subnets], group


def endpoint_state(ec2, endpoint_id: str) -> str | None:
    try:
        return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["State"]
    except ClientError as error:
        assert error_code_of(error) == "InvalidVpcEndpointId.NotFound"
        return None


def error_code_of(error: ClientError) -> str:
    return error.response["Error"]["Code"]


# ---------------------------------------------------------------------------
# Interface VPC endpoints
# ---------------------------------------------------------------------------
def test_interface_endpoint_is_pending_then_available_then_deleted(aws, delays):
    vpc_id, subnets, group = private_network(aws, "10.2.0")
    ec2 = aws.client("ec2", "application-a")
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc_id, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=subnets, SecurityGroupIds=[group]
    )["VpcEndpoint"]
    endpoint_id = endpoint["VpcEndpointId"]
    assert endpoint["State"] == "pending"
    assert endpoint_state(ec2, endpoint_id) == "pending"
    wait_for(lambda: endpoint_state(ec2, endpoint_id) == "available")
    states = {e["State"] for e in ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-endpoint-state", "Values": ["available"]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["VpcEndpoints"]}  # fmt: skip
    assert states == {"available"}

    deleted = ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id])
    assert deleted["Unsuccessful"] == []
    assert endpoint_state(ec2, endpoint_id) == "deleting"
    wait_for(lambda: endpoint_state(ec2, endpoint_id) is None)
    assert endpoint_id not in {e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]}
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkInterfaces"]
    assert not {e["NetworkInterfaceId"] for e in enis} & set(endpoint["NetworkInterfaceIds"])


def test_interface_endpoint_shape(aws):
    vpc_id, subnets, group = private_network(aws, "10.2.1")
    ec2 = aws.client("ec2", "application-a")
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName=STS,
        VpcEndpointType="Interface",
        SubnetIds=subnets,
        SecurityGroupIds=[group],
        TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": "sts"}]}],
    )["VpcEndpoint"]
    assert endpoint["State"] == "available"  # delay_scale 0: at once
    (described,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])["VpcEndpoints"]
    for item in (endpoint, described):
        assert item["VpcEndpointType"] == "Interface"
        assert (item["VpcId"], item["ServiceName"], item["OwnerId"]) == (vpc_id, STS, APP_A)
        assert item["SubnetIds"] == subnets
        assert item["Groups"] == [{"GroupId": group, "GroupName": "sg-10.2.1"}]
        assert item["PrivateDnsEnabled"] is True
        assert item["RequesterManaged"] is False
        assert item["IpAddressType"] == "ipv4"
        assert item["DnsOptions"] == {"DnsRecordIpType": "ipv4"}
        assert item["RouteTableIds"] == []
        assert item["Tags"] == [{"Key": "Name", "Value": "sts"}]
        assert len(item["NetworkInterfaceIds"]) == 2

    names = [e["DnsName"] for e in described["DnsEntries"]]
    regional = REGIONAL_DNS.match(names[0])
    assert regional and regional.group(1) == endpoint["VpcEndpointId"]
    base = names[0].split(".")[0]
    assert names[1:] == [
        f"{base}-eu-west-1a.sts.eu-west-1.vpce.amazonaws.com",
        f"{base}-eu-west-1b.sts.eu-west-1.vpce.amazonaws.com",
        "sts.eu-west-1.amazonaws.com",
    ]
    assert all(re.match(r"^Z[0-9A-Z]{13}$", e["HostedZoneId"]) for e in described["DnsEntries"])

    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=described["NetworkInterfaceIds"])["NetworkInterfaces"]
    assert sorted(e["SubnetId"] for e in enis) == sorted(subnets)
    found = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [STS]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["VpcEndpoints"]
    assert [e["VpcEndpointId"] for e in found] == [endpoint["VpcEndpointId"]]

    assert ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])["Unsuccessful"] == []
    assert endpoint_state(ec2, endpoint["VpcEndpointId"]) is None  # delay_scale 0: gone at once


def test_interface_endpoint_defaults_and_errors(aws):
    vpc_id, subnets, _ = private_network(aws, "10.2.2")
    ec2 = aws.client("ec2", "application-a")
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=subnets)[
        "VpcEndpoint"
    ]
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    assert [g["GroupId"] for g in endpoint["Groups"]] == [default]

    no_dns = ec2.create_vpc(CidrBlock="10.2.3.0/24")["Vpc"]["VpcId"]
    cases = [
        (dict(VpcId=vpc_id, SubnetIds=subnets, SecurityGroupIds=["sg-0123456789abcdef0"]), "InvalidGroup.NotFound"),
        (dict(VpcId=vpc_id, SubnetIds=["subnet-0123456789abcdef0"]), "InvalidSubnetID.NotFound"),
        (dict(VpcId="vpc-0123456789abcdef0"), "InvalidVpcID.NotFound"),
        (dict(VpcId=no_dns), "InvalidParameter"),  # private DNS needs DNS hostnames
    ]
    for kwargs, code in cases:
        with pytest.raises(ClientError) as info:
            ec2.create_vpc_endpoint(ServiceName=STS, VpcEndpointType="Interface", **kwargs)
        assert error_code(info) == code
    without_private_dns = ec2.create_vpc_endpoint(
        VpcId=no_dns, ServiceName=STS, VpcEndpointType="Interface", PrivateDnsEnabled=False
    )["VpcEndpoint"]
    assert "sts.eu-west-1.amazonaws.com" not in {e["DnsName"] for e in without_private_dns["DnsEntries"]}

    result = ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"], "vpce-0123456789abcdef0"])
    assert result["Unsuccessful"] == [
        {
            "Error": {
                "Code": "InvalidVpcEndpoint.NotFound",
                "Message": "The VPC endpoint 'vpce-0123456789abcdef0' does not exist",
            },
            "ResourceId": "vpce-0123456789abcdef0",
        }
    ]


def test_gateway_endpoints_keep_their_behaviour(aws, delays):
    ec2 = aws.client("ec2", "application-a")
    vpc_id = ec2.create_vpc(CidrBlock="10.2.4.0/24")["Vpc"]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc_id, ServiceName="com.amazonaws.eu-west-1.s3", VpcEndpointType="Gateway", RouteTableIds=[table]
    )["VpcEndpoint"]
    assert endpoint["State"] == "available"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert endpoint_state(ec2, endpoint["VpcEndpointId"]) is None


# ---------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------
def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


@pytest.fixture(scope="module")
def roles(aws):
    """An execution role per account that creates functions."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arns = {}
    for account in ("application-a", "database"):
        iam = aws.client("iam", account)
        arns[account] = iam.create_role(RoleName="lambda-in-vpc", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        iam.attach_role_policy(RoleName="lambda-in-vpc", PolicyArn=VPC_ACCESS)
    return arns


def create_function(aws, roles, name: str, account: str = "application-a", **kwargs) -> dict:
    return aws.client("lambda", account).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=roles[account],
        Handler="handler.handler",
        Code={"ZipFile": code_zip()},
        **kwargs,
    )


FAST = {"Delay": 0.01, "MaxAttempts": 500}


def test_function_in_a_vpc_is_pending_then_active(aws, roles, delays):
    vpc_id, subnets, group = private_network(aws, "10.2.5")
    lam = aws.client("lambda", "application-a")
    created = create_function(aws, roles, "in-vpc", VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [group]})
    assert (created["State"], created["StateReasonCode"]) == ("Pending", "Creating")
    assert created["StateReason"] == "The function is being created."
    assert "LastUpdateStatus" not in created
    assert created["VpcConfig"] == {
        "SubnetIds": subnets,
        "SecurityGroupIds": [group],
        "VpcId": vpc_id,
        "Ipv6AllowedForDualStack": False,
    }
    assert lam.get_function(FunctionName="in-vpc")["Configuration"]["State"] == "Pending"
    with pytest.raises(ClientError) as info:
        lam.update_function_configuration(FunctionName="in-vpc", Timeout=10)
    assert error_code(info) == "ResourceConflictException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="in-vpc", Payload=b"{}")
    assert error_code(info) == "ResourceConflictException"

    lam.get_waiter("function_active_v2").wait(FunctionName="in-vpc", WaiterConfig=FAST)
    configuration = lam.get_function_configuration(FunctionName="in-vpc")
    assert (configuration["State"], configuration["LastUpdateStatus"]) == ("Active", "Successful")
    assert "StateReasonCode" not in configuration
    lam.get_waiter("function_active").wait(FunctionName="in-vpc", WaiterConfig=FAST)


def test_updates_are_in_progress_then_successful(aws, roles, delays):
    _, subnets, group = private_network(aws, "10.2.6")
    lam = aws.client("lambda", "application-a")
    create_function(aws, roles, "updated")
    assert lam.get_function(FunctionName="updated")["Configuration"]["State"] == "Active"  # no VPC: at once

    updated = lam.update_function_configuration(FunctionName="updated", Timeout=10)
    assert (updated["LastUpdateStatus"], updated["Timeout"]) == ("InProgress", 10)
    assert lam.get_function(FunctionName="updated")["Configuration"]["LastUpdateStatus"] == "InProgress"
    with pytest.raises(ClientError) as info:
        lam.update_function_code(FunctionName="updated", ZipFile=code_zip())
    assert error_code(info) == "ResourceConflictException"
    lam.get_waiter("function_updated_v2").wait(FunctionName="updated", WaiterConfig=FAST)
    assert lam.get_function(FunctionName="updated")["Configuration"]["LastUpdateStatus"] == "Successful"

    assert lam.update_function_code(FunctionName="updated", ZipFile=code_zip())["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated").wait(FunctionName="updated", WaiterConfig=FAST)

    # Attaching the function to a VPC is an update too.
    attached = lam.update_function_configuration(
        FunctionName="updated", VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [group]}
    )
    assert attached["LastUpdateStatus"] == "InProgress" and attached["VpcConfig"]["SubnetIds"] == subnets
    lam.get_waiter("function_updated_v2").wait(FunctionName="updated", WaiterConfig=FAST)
    detached = lam.update_function_configuration(
        FunctionName="updated", VpcConfig={"SubnetIds": [], "SecurityGroupIds": []}
    )
    assert detached["VpcConfig"]["VpcId"] == ""


def test_without_delays_everything_is_immediate(aws, roles):
    _, subnets, group = private_network(aws, "10.2.7")
    lam = aws.client("lambda", "application-a")
    created = create_function(aws, roles, "immediate", VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [group]})
    assert created["State"] == "Active"
    assert lam.update_function_configuration(FunctionName="immediate", Timeout=5)["LastUpdateStatus"] == "Successful"
    assert lam.update_function_code(FunctionName="immediate", ZipFile=code_zip())["LastUpdateStatus"] == "Successful"


def test_vpc_configuration_is_validated(aws, roles):
    _, subnets, group = private_network(aws, "10.2.8")
    cases = [
        ({"SubnetIds": ["subnet-0123456789abcdef0"], "SecurityGroupIds": [group]}, "InvalidSubnetID.NotFound"),
        ({"SubnetIds": subnets, "SecurityGroupIds": ["sg-0123456789abcdef0"]}, "InvalidGroup.NotFound"),
    ]
    for vpc_config, ec2_code in cases:
        with pytest.raises(ClientError) as info:
            create_function(aws, roles, "invalid", VpcConfig=vpc_config)
        assert error_code(info) == "InvalidParameterValueException"
        assert ec2_code in info.value.response["Error"]["Message"]
    lam = aws.client("lambda", "application-a")
    create_function(aws, roles, "valid")
    with pytest.raises(ClientError) as info:
        lam.update_function_configuration(FunctionName="valid", VpcConfig={"SubnetIds": ["subnet-0123456789abcdef0"]})
    assert error_code(info) == "InvalidParameterValueException"


def test_function_in_shared_subnets(aws, roles):
    vpc_id, subnets = make_subnets(aws, cidr="10.2.9")
    arn = aws.client("ram", "application-a").create_resource_share(
        name="lambda-subnets", resourceArns=[s["SubnetArn"] for s in subnets], principals=[DATABASE]
    )["resourceShare"]["resourceShareArn"]
    ec2 = aws.client("ec2", "database")
    group = ec2.create_security_group(GroupName="lambda", Description="lambda", VpcId=vpc_id)["GroupId"]
    ids = [s["SubnetId"] for s in subnets]
    created = create_function(
        aws, roles, "shared", account="database", VpcConfig={"SubnetIds": ids, "SecurityGroupIds": [group]}
    )
    assert created["VpcConfig"]["VpcId"] == vpc_id
    aws.client("ram", "application-a").delete_resource_share(resourceShareArn=arn)
    with pytest.raises(ClientError) as info:
        create_function(
            aws, roles, "late", account="database", VpcConfig={"SubnetIds": ids, "SecurityGroupIds": [group]}
        )
    assert error_code(info) == "InvalidParameterValueException"


def test_invoke_says_plainly_that_code_does_not_run_without_the_data_plane(aws, roles):
    create_function(aws, roles, "invoked")
    aws.control.configure(data_plane=False)
    lam = aws.client("lambda", "application-a")
    response = lam.invoke(FunctionName="invoked", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "EmulatorCannotRunCode"
    assert "does not run Lambda function code" in payload["errorMessage"]
    assert "data plane is off" in payload["errorMessage"]
    assert lam.invoke(FunctionName="invoked", InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName="invoked", InvocationType="Event")["StatusCode"] == 202
