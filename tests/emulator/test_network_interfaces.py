"""Network interfaces that Lambda, RDS Proxy and interface VPC endpoints leave
in a VPC, and the deletions they block (emulator/ext/network_interfaces.py).

Lingering interfaces are held with the settings' ``hold`` (an operation of a
held kind does not complete until the hold is lifted), so each refusal is
checked while the interfaces certainly remain; then the hold is lifted and
the test polls, with a deadline, until the deletion succeeds.
"""

from __future__ import annotations

import io
import ipaddress
import json
import re
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.emulator.test_ram import CachedClients

DATABASE, APP_A, APP_B = "111111111111", "222222222222", "333333333333"
LAMBDA_DESCRIPTION = re.compile(r"^AWS Lambda VPC ENI-(?P<name>.+)-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
STS = "com.amazonaws.eu-west-1.sts"
SCALE = 0.02  # seconds per AWS minute


@pytest.fixture(scope="module")
def clients(emulator) -> CachedClients:
    return CachedClients(emulator)


@pytest.fixture
def aws(aws, clients) -> CachedClients:
    """The emulator reset for each test (tests/conftest.py), with boto3 clients
    created once for the module (creating one is slow)."""
    return clients


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def wait_for(check, timeout: float = 10.0):
    """Poll ``check`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(0.02)


def refused(call, **kwargs) -> dict:
    """The error of a call that must fail."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]


def succeeds(call, **kwargs):
    """A predicate for wait_for: the call went through (DependencyViolation means not yet)."""

    def attempt():
        try:
            call(**kwargs)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "DependencyViolation", error.response
            return False
        return True

    return attempt


def network(aws, account: str = "application-a", cidr: str = "10.4.0", subnets: int = 2) -> tuple[str, list[str]]:
    """A VPC with /27 subnets in distinct Availability Zones."""
    ec2 = aws.client("ec2", account)
    vpc_id = ec2.create_vpc(CidrBlock=f"{cidr}.0/24")["Vpc"]["VpcId"]
    ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{cidr}.{32 * i}/27", AvailabilityZone=f"eu-west-1{'abc'[i]}")[
            "Subnet"
        ]["SubnetId"]
        for i in range(subnets)
    ]
    return vpc_id, ids


def group(aws, vpc_id: str, name: str, account: str = "application-a") -> str:
    return aws.client("ec2", account).create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]


def share(aws, subnet_ids: list[str], principal: str = DATABASE) -> str:
    arns = [f"arn:aws:ec2:eu-west-1:{APP_A}:subnet/{s}" for s in subnet_ids]
    return aws.client("ram", "application-a").create_resource_share(
        name="subnets", resourceArns=arns, principals=[principal]
    )["resourceShare"]["resourceShareArn"]


def interfaces(aws, account: str, *filters: tuple[str, list[str]]) -> list[dict]:
    answer = aws.client("ec2", account).describe_network_interfaces(
        Filters=[{"Name": name, "Values": values} for name, values in filters]
    )
    return answer["NetworkInterfaces"]


def in_vpc(aws, account: str, vpc_id: str) -> list[dict]:
    return interfaces(aws, account, ("vpc-id", [vpc_id]))


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


# The functions' role is created and used at once: IAM's propagation time is
# the subject of tests/emulator/test_iam_roles.py, not of these.
ROLES_AT_ONCE = {"iam_role_propagation": 0}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def function(aws, name: str, subnets: list[str], groups: list[str], account: str = "application-a") -> dict:
    iam = aws.client("iam", account)
    try:
        role = iam.get_role(RoleName="fn")["Role"]
    except ClientError:
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
        iam.attach_role_policy(
            RoleName="fn", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
        )
    return aws.client("lambda", account).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": code_zip()},
        VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups},
    )


def proxy(aws, subnets: list[str], groups: list[str], name: str = "db-proxy") -> dict:
    return aws.client("rds", "database").create_db_proxy(
        DBProxyName=name,
        EngineFamily="POSTGRESQL",
        RoleArn=f"arn:aws:iam::{DATABASE}:role/proxy-role",
        DefaultAuthScheme="IAM_AUTH",
        VpcSubnetIds=subnets,
        VpcSecurityGroupIds=groups,
    )["DBProxy"]


def hold(aws, *kinds: str) -> None:
    aws.control.configure(hold=list(kinds))


# ---------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------
def test_lambda_interfaces_one_per_subnet_and_group_combination(aws):
    vpc_id, subnets = network(aws)
    sg_a, sg_b = group(aws, vpc_id, "a"), group(aws, vpc_id, "b")
    function(aws, "first", subnets, [sg_a])

    enis = in_vpc(aws, "application-a", vpc_id)
    assert sorted(e["SubnetId"] for e in enis) == sorted(subnets)
    role_id = aws.client("iam", "application-a").get_role(RoleName="fn")["Role"]["RoleId"]
    for eni in enis:
        assert LAMBDA_DESCRIPTION.match(eni["Description"]).group("name") == "first"
        assert eni["InterfaceType"] == "lambda"
        assert eni["Status"] == "in-use"
        assert eni["OwnerId"] == APP_A
        assert eni["RequesterManaged"] is False  # created with the function's execution role
        assert eni["RequesterId"] == f"{role_id}:{APP_A}"
        assert eni["Groups"] == [{"GroupId": sg_a, "GroupName": "a"}]
        assert eni["VpcId"] == vpc_id
        assert eni["Attachment"]["InstanceOwnerId"] == "amazon-aws"
        assert eni["Attachment"]["Status"] == "attached"
        assert re.match(r"^ela-attach-[0-9a-f]{8}$", eni["Attachment"]["AttachmentId"])
        cidr = {s["SubnetId"]: s["CidrBlock"] for s in aws.client("ec2", "application-a").describe_subnets()["Subnets"]}
        assert ipaddress.ip_address(eni["PrivateIpAddress"]) in ipaddress.ip_network(cidr[eni["SubnetId"]])

    # A second function with the same combination shares the interfaces; another group makes new ones.
    function(aws, "second", subnets, [sg_a])
    assert {e["NetworkInterfaceId"] for e in in_vpc(aws, "application-a", vpc_id)} == {
        e["NetworkInterfaceId"] for e in enis
    }
    function(aws, "third", subnets[:1], [sg_a, sg_b])
    (third,) = interfaces(aws, "application-a", ("group-id", [sg_b]))
    assert third["SubnetId"] == subnets[0]
    assert sorted(g["GroupId"] for g in third["Groups"]) == sorted([sg_a, sg_b])
    assert LAMBDA_DESCRIPTION.match(third["Description"]).group("name") == "third"
    assert len(in_vpc(aws, "application-a", vpc_id)) == 3

    # Filters.
    def ids(*filters):
        return {e["NetworkInterfaceId"] for e in interfaces(aws, "application-a", *filters)}

    every = ids(("vpc-id", [vpc_id]))
    assert ids(("group-id", [sg_a])) == every
    assert ids(("group-id", [sg_b, "sg-0123456789abcdef0"])) == {third["NetworkInterfaceId"]}
    assert ids(("subnet-id", [subnets[1]])) == {e["NetworkInterfaceId"] for e in enis if e["SubnetId"] == subnets[1]}
    assert ids(("interface-type", ["lambda"]), ("vpc-id", [vpc_id])) == every
    assert ids(("requester-managed", ["false"]), ("vpc-id", [vpc_id])) == every
    assert ids(("requester-managed", ["true"]), ("vpc-id", [vpc_id])) == set()
    assert ids(("description", ["AWS Lambda VPC ENI*"])) == every
    assert ids(("description", ["AWS Lambda VPC ENI-third-*"])) == {third["NetworkInterfaceId"]}
    assert ids(("status", ["in-use"]), ("vpc-id", [vpc_id])) == every
    assert ids(("status", ["available"]), ("vpc-id", [vpc_id])) == set()
    assert ids(("attachment.instance-owner-id", ["amazon-aws"]), ("vpc-id", [vpc_id])) == every
    # Another account sees none of them.
    assert interfaces(aws, "application-b", ("description", ["AWS Lambda VPC ENI*"])) == []


def test_lambda_interfaces_linger_after_the_function_and_block_deletions(aws):
    aws.control.configure(delay_scale=SCALE, aws_minutes=ROLES_AT_ONCE)
    vpc_id, subnets = network(aws)
    sg = group(aws, vpc_id, "fn")
    function(aws, "gone", subnets, [sg])
    ec2 = aws.client("ec2", "application-a")
    hold(aws, "lambda_eni_release")
    aws.client("lambda", "application-a").delete_function(FunctionName="gone")

    assert len(in_vpc(aws, "application-a", vpc_id)) == 2  # still there, still in use
    assert {e["Status"] for e in in_vpc(aws, "application-a", vpc_id)} == {"in-use"}
    assert refused(ec2.delete_security_group, GroupId=sg) == {
        "Code": "DependencyViolation",
        "Message": f"resource {sg} has a dependent object",
    }
    for subnet in subnets:
        assert refused(ec2.delete_subnet, SubnetId=subnet) == {
            "Code": "DependencyViolation",
            "Message": f"The subnet '{subnet}' has dependencies and cannot be deleted.",
        }
    assert refused(ec2.delete_vpc, VpcId=vpc_id) == {
        "Code": "DependencyViolation",
        "Message": f"The vpc '{vpc_id}' has dependencies and cannot be deleted.",
    }

    hold(aws)  # Lambda deletes them lambda_eni_release (20 min * SCALE) later
    wait_for(succeeds(ec2.delete_security_group, GroupId=sg))
    assert in_vpc(aws, "application-a", vpc_id) == []
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc_id)


def test_lambda_interfaces_released_when_the_vpc_configuration_changes(aws):
    aws.control.configure(delay_scale=SCALE, aws_minutes=ROLES_AT_ONCE)
    vpc_id, subnets = network(aws)
    old, new = group(aws, vpc_id, "old"), group(aws, vpc_id, "new")
    function(aws, "moving", subnets, [old])
    lam = aws.client("lambda", "application-a")
    lam.get_waiter("function_active_v2").wait(FunctionName="moving", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    ec2 = aws.client("ec2", "application-a")
    hold(aws, "lambda_eni_release")

    lam.update_function_configuration(
        FunctionName="moving", VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": [new]}
    )
    assert len(interfaces(aws, "application-a", ("group-id", [new]))) == 2
    assert len(interfaces(aws, "application-a", ("group-id", [old]))) == 2  # released, not yet deleted
    assert refused(ec2.delete_security_group, GroupId=old)["Code"] == "DependencyViolation"

    hold(aws)
    wait_for(succeeds(ec2.delete_security_group, GroupId=old))
    lam.get_waiter("function_updated_v2").wait(FunctionName="moving", WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})

    # Removing the VPC configuration releases the rest the same way.
    hold(aws, "lambda_eni_release")
    lam.update_function_configuration(FunctionName="moving", VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
    assert len(interfaces(aws, "application-a", ("group-id", [new]))) == 2
    assert refused(ec2.delete_subnet, SubnetId=subnets[0])["Code"] == "DependencyViolation"
    hold(aws)
    wait_for(succeeds(ec2.delete_security_group, GroupId=new))
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)


def test_shared_interfaces_stay_while_another_function_uses_them(aws):
    vpc_id, subnets = network(aws)
    sg = group(aws, vpc_id, "shared")
    function(aws, "one", subnets, [sg])
    function(aws, "two", subnets, [sg])
    lam = aws.client("lambda", "application-a")
    ec2 = aws.client("ec2", "application-a")

    lam.delete_function(FunctionName="one")  # delay_scale 0: released at once, but "two" still uses them
    assert len(in_vpc(aws, "application-a", vpc_id)) == 2
    assert refused(ec2.delete_security_group, GroupId=sg)["Code"] == "DependencyViolation"

    lam.delete_function(FunctionName="two")
    assert in_vpc(aws, "application-a", vpc_id) == []  # delay_scale 0: gone at once
    ec2.delete_security_group(GroupId=sg)
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc_id)


def test_service_interfaces_cannot_be_deleted_or_detached(aws):
    vpc_id, subnets = network(aws)
    function(aws, "kept", subnets[:1], [group(aws, vpc_id, "fn")])
    (eni,) = in_vpc(aws, "application-a", vpc_id)
    ec2 = aws.client("ec2", "application-a")
    assert refused(ec2.delete_network_interface, NetworkInterfaceId=eni["NetworkInterfaceId"]) == {
        "Code": "InvalidParameterValue",
        "Message": f"Network interface '{eni['NetworkInterfaceId']}' is currently in use.",
    }
    assert refused(ec2.detach_network_interface, AttachmentId=eni["Attachment"]["AttachmentId"]) == {
        "Code": "OperationNotPermitted",
        "Message": "You are not allowed to manage 'ela-attach' attachments.",
    }
    described = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])["NetworkInterfaces"]
    assert described == [eni]


# ---------------------------------------------------------------------------
# VPC sharing: a participant's interfaces and security groups in the owner's subnets
# ---------------------------------------------------------------------------
def test_participant_function_blocks_the_owners_deletions(aws):
    aws.control.configure(delay_scale=SCALE, aws_minutes=ROLES_AT_ONCE)
    vpc_id, subnets = network(aws, cidr="10.4.1")
    arn = share(aws, subnets)
    sg = group(aws, vpc_id, "participant-fn", account="database")
    function(aws, "participant", subnets, [sg], account="database")

    mine = in_vpc(aws, "database", vpc_id)
    assert sorted(e["SubnetId"] for e in mine) == sorted(subnets)
    assert {e["OwnerId"] for e in mine} == {DATABASE}
    # The owner sees the participant's interfaces in its subnets; other accounts do not.
    seen = in_vpc(aws, "application-a", vpc_id)
    assert seen == mine
    assert interfaces(aws, "application-a", ("owner-id", [DATABASE]), ("vpc-id", [vpc_id])) == mine
    assert interfaces(aws, "application-a", ("subnet-id", [subnets[0]])) == [
        e for e in mine if e["SubnetId"] == subnets[0]
    ]
    assert in_vpc(aws, "application-b", vpc_id) == []
    assert aws.client("ec2", "application-a").describe_network_interfaces(
        NetworkInterfaceIds=[mine[0]["NetworkInterfaceId"]]
    )["NetworkInterfaces"] == [mine[0]]

    owner = aws.client("ec2", "application-a")
    participant = aws.client("ec2", "database")
    # Unsharing leaves the participant's resources in place ([VPC-SHARE]); they still block.
    aws.client("ram", "application-a").delete_resource_share(resourceShareArn=arn)
    hold(aws, "lambda_eni_release")
    aws.client("lambda", "database").delete_function(FunctionName="participant")
    for subnet in subnets:
        assert refused(owner.delete_subnet, SubnetId=subnet)["Message"] == (
            f"The subnet '{subnet}' has dependencies and cannot be deleted."
        )
    hold(aws)
    wait_for(lambda: in_vpc(aws, "application-a", vpc_id) == [])
    for subnet in subnets:
        owner.delete_subnet(SubnetId=subnet)

    # The participant's security group alone still blocks the owner's VPC.
    assert refused(owner.delete_vpc, VpcId=vpc_id) == {
        "Code": "DependencyViolation",
        "Message": f"The vpc '{vpc_id}' has dependencies and cannot be deleted.",
    }
    participant.delete_security_group(GroupId=sg)
    owner.delete_vpc(VpcId=vpc_id)


def test_own_security_groups_block_the_vpc_but_not_the_default_one(aws):
    ec2 = aws.client("ec2", "application-a")
    vpc_id = ec2.create_vpc(CidrBlock="10.4.2.0/24")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.4.2.0/27")["Subnet"]["SubnetId"]
    sg = group(aws, vpc_id, "app")
    # moto already refused a VPC with subnets.
    assert refused(ec2.delete_vpc, VpcId=vpc_id)["Message"] == (
        f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
    )
    ec2.delete_subnet(SubnetId=subnet)
    assert refused(ec2.delete_vpc, VpcId=vpc_id)["Code"] == "DependencyViolation"
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_vpc(VpcId=vpc_id)  # the default group goes with it
    assert refused(ec2.delete_vpc, VpcId=vpc_id)["Code"] == "InvalidVpcID.NotFound"


# ---------------------------------------------------------------------------
# RDS Proxy
# ---------------------------------------------------------------------------
def test_proxy_and_endpoint_interfaces(aws):
    aws.control.configure(delay_scale=SCALE, aws_minutes=ROLES_AT_ONCE)
    db_vpc, db_subnets = network(aws, account="database", cidr="10.4.3")
    proxy_sg = group(aws, db_vpc, "proxy", account="database")
    app_vpc, app_subnets = network(aws, cidr="10.4.4")
    share(aws, app_subnets)
    endpoint_sg = group(aws, app_vpc, "endpoint", account="database")
    proxy(aws, db_subnets, [proxy_sg])
    rds = aws.client("rds", "database")
    wait_for(lambda: rds.describe_db_proxies(DBProxyName="db-proxy")["DBProxies"][0]["Status"] == "available")
    rds.create_db_proxy_endpoint(
        DBProxyName="db-proxy", DBProxyEndpointName="app", VpcSubnetIds=app_subnets, VpcSecurityGroupIds=[endpoint_sg]
    )

    own = in_vpc(aws, "database", db_vpc)
    assert sorted(e["SubnetId"] for e in own) == sorted(db_subnets)
    shared = in_vpc(aws, "database", app_vpc)
    assert sorted(e["SubnetId"] for e in shared) == sorted(app_subnets)
    for eni, sg in [(e, proxy_sg) for e in own] + [(e, endpoint_sg) for e in shared]:
        assert eni["OwnerId"] == DATABASE  # the proxy's account, even in the shared subnets
        assert eni["RequesterManaged"] is True
        assert eni["RequesterId"] == "amazon-rds"
        assert eni["Description"] == "RDSNetworkInterface"
        assert eni["InterfaceType"] == "interface"
        assert eni["Status"] == "in-use"
        assert [g["GroupId"] for g in eni["Groups"]] == [sg]
        assert eni["Attachment"]["InstanceOwnerId"] == "amazon-rds"
    assert in_vpc(aws, "application-a", app_vpc) == shared  # the subnets' owner sees them
    assert in_vpc(aws, "application-a", db_vpc) == []
    assert interfaces(aws, "database", ("requester-managed", ["true"]), ("description", ["RDSNetworkInterface"])) == (
        own + shared
    )

    # The subnets' owner cannot delete its subnets or VPC while the endpoint's interfaces are there.
    owner = aws.client("ec2", "application-a")
    participant = aws.client("ec2", "database")
    hold(aws, "db_proxy_eni_release")
    rds.delete_db_proxy_endpoint(DBProxyEndpointName="app")
    wait_for(lambda: rds.describe_db_proxy_endpoints(DBProxyName="db-proxy")["DBProxyEndpoints"][1:] == [])
    assert in_vpc(aws, "database", app_vpc) == shared  # the endpoint is gone, its interfaces are not
    assert refused(participant.delete_security_group, GroupId=endpoint_sg)["Message"] == (
        f"resource {endpoint_sg} has a dependent object"
    )
    assert refused(owner.delete_subnet, SubnetId=app_subnets[0])["Code"] == "DependencyViolation"
    hold(aws)
    wait_for(succeeds(participant.delete_security_group, GroupId=endpoint_sg))
    assert in_vpc(aws, "application-a", app_vpc) == []
    for subnet in app_subnets:
        owner.delete_subnet(SubnetId=subnet)
    owner.delete_vpc(VpcId=app_vpc)

    # Deleting the proxy releases the default endpoint's interfaces the same way.
    hold(aws, "db_proxy_eni_release")
    rds.delete_db_proxy(DBProxyName="db-proxy")
    wait_for(lambda: rds.describe_db_proxies()["DBProxies"] == [])
    assert len(in_vpc(aws, "database", db_vpc)) == 2
    assert refused(participant.delete_security_group, GroupId=proxy_sg)["Code"] == "DependencyViolation"
    hold(aws)
    wait_for(succeeds(participant.delete_security_group, GroupId=proxy_sg))
    for subnet in db_subnets:
        participant.delete_subnet(SubnetId=subnet)
    participant.delete_vpc(VpcId=db_vpc)


def test_proxy_interfaces_follow_the_security_groups(aws):
    vpc_id, subnets = network(aws, account="database", cidr="10.4.5")
    first, second = group(aws, vpc_id, "first", "database"), group(aws, vpc_id, "second", "database")
    proxy(aws, subnets, [first])
    rds = aws.client("rds", "database")
    ec2 = aws.client("ec2", "database")
    assert refused(ec2.delete_security_group, GroupId=first)["Code"] == "DependencyViolation"
    rds.modify_db_proxy(DBProxyName="db-proxy", SecurityGroups=[second])
    assert {g["GroupId"] for e in in_vpc(aws, "database", vpc_id) for g in e["Groups"]} == {second}
    ec2.delete_security_group(GroupId=first)

    rds.create_db_proxy_endpoint(
        DBProxyName="db-proxy", DBProxyEndpointName="ro", VpcSubnetIds=subnets[:1], VpcSecurityGroupIds=[second]
    )
    third = group(aws, vpc_id, "third", "database")
    rds.modify_db_proxy_endpoint(DBProxyEndpointName="ro", VpcSecurityGroupIds=[third])
    (endpoint_eni,) = interfaces(aws, "database", ("group-id", [third]))
    assert endpoint_eni["SubnetId"] == subnets[0]
    assert len(interfaces(aws, "database", ("group-id", [second]))) == len(subnets)  # the default endpoint's

    # delay_scale 0: deleting the proxy (and with it the endpoint) releases everything at once.
    rds.delete_db_proxy(DBProxyName="db-proxy")
    assert in_vpc(aws, "database", vpc_id) == []
    ec2.delete_security_group(GroupId=second)
    ec2.delete_security_group(GroupId=third)


# ---------------------------------------------------------------------------
# Interface VPC endpoints
# ---------------------------------------------------------------------------
def test_endpoint_interfaces_go_when_the_deletion_completes(aws):
    aws.control.configure(delay_scale=SCALE, aws_minutes=ROLES_AT_ONCE)
    ec2 = aws.client("ec2", "application-a")
    vpc_id, subnets = network(aws, cidr="10.4.6")
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    sg = group(aws, vpc_id, "endpoint")
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc_id, ServiceName=STS, VpcEndpointType="Interface", SubnetIds=subnets, SecurityGroupIds=[sg]
    )["VpcEndpoint"]
    enis = in_vpc(aws, "application-a", vpc_id)
    assert sorted(e["NetworkInterfaceId"] for e in enis) == sorted(endpoint["NetworkInterfaceIds"])
    cidrs = {s["SubnetId"]: s["CidrBlock"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
    for eni in enis:
        assert eni["Description"] == f"VPC Endpoint Interface {endpoint['VpcEndpointId']}"
        assert eni["InterfaceType"] == "vpc_endpoint"
        assert eni["RequesterManaged"] is True
        assert eni["Status"] == "in-use"
        assert eni["Groups"] == [{"GroupId": sg, "GroupName": "endpoint"}]
        assert ipaddress.ip_address(eni["PrivateIpAddress"]) in ipaddress.ip_network(cidrs[eni["SubnetId"]])

    hold(aws, "vpc_endpoint_delete")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert len(in_vpc(aws, "application-a", vpc_id)) == 2  # deleting: not before
    assert refused(ec2.delete_security_group, GroupId=sg)["Code"] == "DependencyViolation"
    assert refused(ec2.delete_subnet, SubnetId=subnets[0])["Code"] == "DependencyViolation"
    hold(aws)
    # Only interfaces are looked at: their endpoint's deletion completes on its own time.
    wait_for(lambda: in_vpc(aws, "application-a", vpc_id) == [])
    ec2.delete_security_group(GroupId=sg)
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc_id)


def test_interfaces_get_distinct_usable_addresses_of_their_subnet(aws):
    """[VPC-SUBNETS]: the first four and the last address of a subnet are AWS's; no two interfaces share one."""
    ec2 = aws.client("ec2", "database")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/28")["Subnet"]["SubnetId"]
    for service in ("sts", "logs", "kms", "ssm", "secretsmanager", "monitoring"):
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{aws.region}.{service}", VpcEndpointType="Interface",
            SubnetIds=[subnet], PrivateDnsEnabled=False,
        )  # fmt: skip
    interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])
    addresses = sorted(i["PrivateIpAddress"] for i in interfaces["NetworkInterfaces"])
    assert addresses == [f"10.9.0.{n}" for n in range(4, 10)]
