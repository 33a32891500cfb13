"""VPC sharing: subnets shared through AWS RAM are visible to, and usable by,
the principal account while the share is active, and only then.

The emulator is reset once for the module; each test uses its own VPC.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.emulator.test_ram import APP_A, APP_B, DATABASE, error_code, make_subnets, module_emulator

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def aws(emulator):
    """The emulator, reset once for this module, without delays or faults."""
    return module_emulator(emulator)


def share(aws, subnets: list[dict], principal: str = DATABASE) -> str:
    ram = aws.client("ram", "application-a")
    return ram.create_resource_share(
        name="subnets",
        resourceArns=[s["SubnetArn"] for s in subnets],
        principals=[principal],
        allowExternalPrincipals=False,
    )["resourceShare"]["resourceShareArn"]


def visible_subnets(aws, account: str, vpc_id: str) -> set[str]:
    subnets = aws.client("ec2", account).describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    return {s["SubnetId"] for s in subnets["Subnets"]}


def visible_vpcs(aws, account: str) -> set[str]:
    return {v["VpcId"] for v in aws.client("ec2", account).describe_vpcs()["Vpcs"]}


def test_participant_sees_shared_subnets_and_their_vpc(aws):
    vpc_id, subnets = make_subnets(aws, cidr="10.1.0")
    ids = [s["SubnetId"] for s in subnets]
    share(aws, subnets)
    ec2 = aws.client("ec2", "database")

    seen = ec2.describe_subnets(SubnetIds=ids)["Subnets"]
    assert sorted((s["SubnetId"], s["OwnerId"], s["VpcId"], s["AvailabilityZone"]) for s in seen) == sorted(
        (s["SubnetId"], APP_A, vpc_id, s["AvailabilityZone"]) for s in subnets
    )
    assert {s["SubnetArn"] for s in seen} == {s["SubnetArn"] for s in subnets}

    def filtered(*filters):
        return {s["SubnetId"] for s in ec2.describe_subnets(Filters=list(filters))["Subnets"]}

    vpc_filter = {"Name": "vpc-id", "Values": [vpc_id]}
    assert filtered(vpc_filter) == set(ids)
    assert filtered({"Name": "subnet-id", "Values": [ids[0]]}) == {ids[0]}
    assert filtered(vpc_filter, {"Name": "owner-id", "Values": [APP_A]}) == set(ids)
    assert filtered(vpc_filter, {"Name": "owner-id", "Values": [DATABASE]}) == set()
    assert filtered(vpc_filter, {"Name": "availability-zone", "Values": ["eu-west-1b"]}) == {ids[1]}
    own = filtered({"Name": "owner-id", "Values": [DATABASE]})
    assert own and not own & set(ids)  # the participant's own (default) subnets stay

    (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert (vpc["OwnerId"], vpc["CidrBlock"]) == (APP_A, "10.1.0.0/24")
    assert vpc_id in visible_vpcs(aws, "database")
    owned_by_a = ec2.describe_vpcs(Filters=[{"Name": "owner-id", "Values": [APP_A]}])["Vpcs"]
    assert vpc_id in {v["VpcId"] for v in owned_by_a}

    # The owner keeps seeing its own; an account the share does not name sees nothing.
    assert visible_subnets(aws, "application-a", vpc_id) == set(ids)
    assert visible_subnets(aws, "application-b", vpc_id) == set()
    other = aws.client("ec2", "application-b")
    with pytest.raises(ClientError) as info:
        other.describe_subnets(SubnetIds=[ids[0]])
    assert error_code(info) == "InvalidSubnetID.NotFound"
    with pytest.raises(ClientError) as info:
        other.describe_vpcs(VpcIds=[vpc_id])
    assert error_code(info) == "InvalidVpcID.NotFound"


def test_participant_creates_security_groups_until_the_subnets_are_unshared(aws):
    vpc_id, subnets = make_subnets(aws, cidr="10.1.1")
    arn = share(aws, subnets)
    database = aws.client("ec2", "database")
    assert visible_subnets(aws, "database", vpc_id) == {s["SubnetId"] for s in subnets}
    assert database.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["OwnerId"] == APP_A

    group_id = database.create_security_group(
        GroupName="application-proxy-endpoint", Description="proxy endpoints", VpcId=vpc_id
    )["GroupId"]
    database.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.1.1.0/24"}]}
        ],
    )
    database.authorize_security_group_egress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.1.1.0/24"}]}
        ],
    )
    (group,) = database.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    assert (group["GroupId"], group["VpcId"], group["OwnerId"]) == (group_id, vpc_id, DATABASE)
    assert [(p["IpProtocol"], p["FromPort"], p["IpRanges"]) for p in group["IpPermissions"]] == [
        ("tcp", 5432, [{"CidrIp": "10.1.1.0/24"}])
    ]
    egress = {(p["IpProtocol"], p.get("FromPort")) for p in group["IpPermissionsEgress"]}
    assert egress == {("-1", None), ("tcp", 5432)}  # AWS's default egress rule plus ours
    # The group belongs to the participant, not to the VPC owner.
    owner_groups = aws.client("ec2", "application-a").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["SecurityGroups"]
    assert group_id not in {g["GroupId"] for g in owner_groups}

    aws.client("ram", "application-a").disassociate_resource_share(
        resourceShareArn=arn, resourceArns=[s["SubnetArn"] for s in subnets]
    )
    assert visible_subnets(aws, "database", vpc_id) == set()
    assert vpc_id not in visible_vpcs(aws, "database")
    with pytest.raises(ClientError) as info:
        database.create_security_group(GroupName="late", Description="late", VpcId=vpc_id)
    assert error_code(info) == "InvalidVpcID.NotFound"
    assert visible_subnets(aws, "application-a", vpc_id) == {s["SubnetId"] for s in subnets}


@pytest.mark.parametrize(
    ("unshare", "cidr"), [("delete-share", "10.1.2"), ("remove-principal", "10.1.3"), ("remove-one-subnet", "10.1.4")]
)
def test_unsharing_hides_the_network(aws, unshare, cidr):
    vpc_id, subnets = make_subnets(aws, cidr=cidr)
    arn = share(aws, subnets)
    ram = aws.client("ram", "application-a")
    assert visible_subnets(aws, "database", vpc_id) == {s["SubnetId"] for s in subnets}
    if unshare == "delete-share":
        ram.delete_resource_share(resourceShareArn=arn)
        remaining = set()
    elif unshare == "remove-principal":
        ram.disassociate_resource_share(resourceShareArn=arn, principals=[DATABASE])
        remaining = set()
    else:
        ram.disassociate_resource_share(resourceShareArn=arn, resourceArns=[subnets[0]["SubnetArn"]])
        remaining = {subnets[1]["SubnetId"]}
    assert visible_subnets(aws, "database", vpc_id) == remaining
    assert (vpc_id in visible_vpcs(aws, "database")) is bool(remaining)


def test_owner_tags_are_not_shared_with_participants(aws):
    vpc_id, subnets = make_subnets(aws, cidr="10.1.7")
    owner = aws.client("ec2", "application-a")
    owner.create_tags(Resources=[vpc_id, subnets[0]["SubnetId"]], Tags=[{"Key": "Name", "Value": "app-private"}])
    share(aws, subnets)
    database = aws.client("ec2", "database")
    (subnet,) = database.describe_subnets(SubnetIds=[subnets[0]["SubnetId"]])["Subnets"]
    assert subnet.get("Tags", []) == []
    assert database.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0].get("Tags", []) == []
    by_tag = database.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["app-private"]}])["Subnets"]
    assert by_tag == []

    # A participant may tag a shared subnet for itself; the owner does not see those tags.
    database.create_tags(Resources=[subnets[0]["SubnetId"]], Tags=[{"Key": "Name", "Value": "proxy-endpoints"}])
    mine = database.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["proxy-endpoints"]}])["Subnets"]
    assert [s["SubnetId"] for s in mine] == [subnets[0]["SubnetId"]]
    assert mine[0]["Tags"] == [{"Key": "Name", "Value": "proxy-endpoints"}]
    (own,) = owner.describe_subnets(SubnetIds=[subnets[0]["SubnetId"]])["Subnets"]
    assert own["Tags"] == [{"Key": "Name", "Value": "app-private"}]


def test_shares_with_other_principals_do_not_count(aws):
    vpc_id, subnets = make_subnets(aws, cidr="10.1.5")
    share(aws, subnets, principal=APP_B)
    assert visible_subnets(aws, "application-b", vpc_id) == {s["SubnetId"] for s in subnets}
    assert visible_subnets(aws, "database", vpc_id) == set()
    with pytest.raises(ClientError) as info:
        aws.client("ec2", "database").create_security_group(GroupName="x", Description="x", VpcId=vpc_id)
    assert error_code(info) == "InvalidVpcID.NotFound"


def test_security_groups_need_a_vpc_the_caller_can_see(aws):
    ec2 = aws.client("ec2", "application-a")
    with pytest.raises(ClientError) as info:
        ec2.create_security_group(GroupName="x", Description="x", VpcId="vpc-0123456789abcdef0")
    assert error_code(info) == "InvalidVpcID.NotFound"
    vpc_id = ec2.create_vpc(CidrBlock="10.1.6.0/24")["Vpc"]["VpcId"]
    group_id = ec2.create_security_group(GroupName="x", Description="x", VpcId=vpc_id)["GroupId"]
    assert ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["VpcId"] == vpc_id


def test_find_subnet_sees_shared_subnets_only_while_the_share_is_active():
    """``sharing.find_subnet`` (used by the RDS additions), against moto's
    backends in this process."""
    from moto.core.base_backend import BackendDict
    from moto.ec2.models import ec2_backends

    from emulator import accounts
    from emulator.ext import ram, sharing

    BackendDict.reset()
    try:
        accounts.seed(accounts.load())
        ec2 = ec2_backends[APP_A][REGION]
        vpc = ec2.create_vpc("10.3.0.0/24")
        subnet = ec2.create_subnet(vpc_id=vpc.id, cidr_block="10.3.0.0/27", availability_zone="eu-west-1a")
        assert sharing.find_subnet(APP_A, REGION, subnet.id) is subnet
        assert sharing.find_subnet(DATABASE, REGION, subnet.id) is None
        assert sharing.find_subnet(DATABASE, REGION, "subnet-0123456789abcdef0") is None

        backend = ram.ram_backends[APP_A][REGION]
        arn = backend.create_resource_share({"name": "s", "resourceArns": [subnet.arn], "principals": [DATABASE]})[
            "resourceShare"
        ]["resourceShareArn"]
        found = sharing.find_subnet(DATABASE, REGION, subnet.id)
        assert found is subnet and found.owner_id == APP_A
        assert sharing.find_subnet(APP_B, REGION, subnet.id) is None
        assert sharing.find_subnet(DATABASE, "us-east-1", subnet.id) is None
        assert sharing.find_vpc(DATABASE, REGION, vpc.id) is vpc

        backend.disassociate_resource_share({"resourceShareArn": arn, "principals": [DATABASE]})
        assert sharing.find_subnet(DATABASE, REGION, subnet.id) is None
        backend.associate_resource_share({"resourceShareArn": arn, "principals": [DATABASE]})
        assert sharing.find_subnet(DATABASE, REGION, subnet.id) is subnet
        backend.delete_resource_share({"resourceShareArn": arn})
        assert sharing.find_subnet(DATABASE, REGION, subnet.id) is None
        assert sharing.find_vpc(DATABASE, REGION, vpc.id) is None
        assert sharing.find_subnet(APP_A, REGION, subnet.id) is subnet
    finally:
        BackendDict.reset()
