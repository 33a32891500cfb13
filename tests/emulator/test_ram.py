"""AWS RAM: resource shares, associations, invitations, tags and errors.

The emulator is reset once for the module (a reset costs most of a second);
each test looks only at the shares, subnets and invitations it creates.
"""

from __future__ import annotations

import re
from datetime import datetime

import boto3
import pytest
from botocore.exceptions import ClientError

DATABASE, APP_A, APP_B, MANAGEMENT = "111111111111", "222222222222", "333333333333", "100000000000"
# Any access key the emulator does not know acts in moto's default account,
# which is outside the emulated organization.
EXTERNAL = "123456789012"
SHARE_ARN = re.compile(r"^arn:aws:ram:eu-west-1:222222222222:resource-share/[0-9a-f-]{36}$")
INVITATION_ARN = re.compile(r"^arn:aws:ram:eu-west-1:222222222222:resource-share-invitation/[0-9a-f-]{36}$")


class CachedClients:
    """The emulator fixture, with boto3 clients created once per service,
    account and region (creating one costs tens of milliseconds)."""

    def __init__(self, emulator) -> None:
        self._emulator = emulator
        self._clients: dict[tuple, object] = {}

    def __getattr__(self, name: str):
        return getattr(self._emulator, name)

    def client(self, service: str, name: str = "database", region: str | None = None):
        key = (service, name, region)
        if key not in self._clients:
            self._clients[key] = self._emulator.client(service, name, region=region)
        return self._clients[key]


def module_emulator(emulator) -> CachedClients:
    """The emulator reset once, without delays or faults, for a test module."""
    emulator.control.reset()
    emulator.control.configure(delay_scale=0, fault_rate=0, fault_seed=0, fault_services=[])
    return CachedClients(emulator)


@pytest.fixture(scope="module")
def aws(emulator):
    """The emulator, reset once for this module, without delays or faults."""
    return module_emulator(emulator)


def error_code(info: pytest.ExceptionInfo) -> str:
    return info.value.response["Error"]["Code"]


def make_subnets(aws, account: str = "application-a", cidr: str = "10.0.16", count: int = 2) -> tuple[str, list[dict]]:
    """A VPC with ``count`` /27 subnets in distinct AZs; returns (vpc_id, subnets)."""
    ec2 = aws.client("ec2", account)
    vpc_id = ec2.create_vpc(CidrBlock=f"{cidr}.0/24")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{cidr}.{32 * i}/27", AvailabilityZone=f"eu-west-1{'abc'[i]}")[
            "Subnet"
        ]
        for i in range(count)
    ]
    return vpc_id, subnets


def external_client(aws, service: str):
    return boto3.client(
        service,
        endpoint_url=aws.url,
        region_name=aws.region,
        aws_access_key_id="AKIAEXTERNAL00000001",
        aws_secret_access_key="external",
    )


def associations(ram, arn: str, kind: str, **filters) -> list[dict]:
    return ram.get_resource_share_associations(associationType=kind, resourceShareArns=[arn], **filters)[
        "resourceShareAssociations"
    ]


def test_share_with_organization_member_needs_no_invitation(aws):
    _, subnets = make_subnets(aws)
    ram = aws.client("ram", "application-a")
    share = ram.create_resource_share(
        name="subnets",
        resourceArns=[s["SubnetArn"] for s in subnets],
        principals=[DATABASE],
        allowExternalPrincipals=False,
        tags=[{"key": "project", "value": "proxy"}],
    )["resourceShare"]
    assert SHARE_ARN.match(share["resourceShareArn"])
    assert share["name"] == "subnets"
    assert share["owningAccountId"] == APP_A
    assert share["allowExternalPrincipals"] is False
    assert share["status"] == "ACTIVE"
    assert share["featureSet"] == "STANDARD"
    assert share["tags"] == [{"key": "project", "value": "proxy"}]
    assert isinstance(share["creationTime"], datetime) and share["creationTime"].tzinfo is not None

    arn = share["resourceShareArn"]
    (principal,) = associations(ram, arn, "PRINCIPAL")
    assert principal["associatedEntity"] == DATABASE
    assert principal["status"] == "ASSOCIATED"
    assert principal["external"] is False
    assert principal["resourceShareName"] == "subnets"
    resources = associations(ram, arn, "RESOURCE")
    assert [r["associatedEntity"] for r in resources] == [s["SubnetArn"] for s in subnets]
    assert {r["status"] for r in resources} == {"ASSOCIATED"}

    database = aws.client("ram", "database")
    assert database.get_resource_share_invitations(resourceShareArns=[arn])["resourceShareInvitations"] == []
    (seen,) = database.get_resource_shares(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[arn])["resourceShares"]
    assert seen["owningAccountId"] == APP_A and seen["status"] == "ACTIVE"
    others = aws.client("ram", "application-b").get_resource_shares(resourceOwner="OTHER-ACCOUNTS")
    assert arn not in {s["resourceShareArn"] for s in others["resourceShares"]}


def test_organization_arn_shares_with_every_member(aws):
    _, subnets = make_subnets(aws)
    organization = aws.client("organizations", "application-a").describe_organization()["Organization"]["Arn"]
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(name="org", resourceArns=[subnets[0]["SubnetArn"]], principals=[organization])[
        "resourceShare"
    ]["resourceShareArn"]
    assert associations(ram, arn, "PRINCIPAL")[0]["status"] == "ASSOCIATED"
    for account in ("database", "application-b", "management"):
        ids = {s["SubnetId"] for s in aws.client("ec2", account).describe_subnets()["Subnets"]}
        assert subnets[0]["SubnetId"] in ids, account

    unknown = organization.rsplit("/", 1)[0] + "/o-zzzzzzzzzz"
    with pytest.raises(ClientError) as info:
        ram.associate_resource_share(resourceShareArn=arn, principals=[unknown])
    assert error_code(info) == "UnknownResourceException"


def test_client_token_makes_creation_idempotent(aws):
    ram = aws.client("ram", "application-a")
    first = ram.create_resource_share(name="idempotent", principals=[DATABASE], clientToken="token-1")
    again = ram.create_resource_share(name="idempotent", principals=[DATABASE], clientToken="token-1")
    assert first["clientToken"] == again["clientToken"] == "token-1"
    assert first["resourceShare"]["resourceShareArn"] == again["resourceShare"]["resourceShareArn"]
    assert len(ram.get_resource_shares(resourceOwner="SELF", name="idempotent")["resourceShares"]) == 1
    with pytest.raises(ClientError) as info:
        ram.create_resource_share(name="other", principals=[DATABASE], clientToken="token-1")
    assert error_code(info) == "IdempotentParameterMismatchException"


def test_get_resource_shares_filters_and_pages(aws):
    ram = aws.client("ram", "application-b")  # the only test whose shares application-b owns
    arns = [
        ram.create_resource_share(name=name, tags=[{"key": "env", "value": env}])["resourceShare"]["resourceShareArn"]
        for name, env in (("one", "dev"), ("two", "prod"), ("three", "prod"))
    ]
    ram.delete_resource_share(resourceShareArn=arns[2])

    def names(**kwargs):
        return sorted(s["name"] for s in ram.get_resource_shares(resourceOwner="SELF", **kwargs)["resourceShares"])

    assert names() == ["one", "three", "two"]
    assert names(name="two") == ["two"]
    assert names(resourceShareArns=arns[:2]) == ["one", "two"]
    assert names(resourceShareStatus="DELETED") == ["three"]
    assert names(tagFilters=[{"tagKey": "env", "tagValues": ["prod"]}]) == ["three", "two"]
    assert names(tagFilters=[{"tagKey": "env"}]) == ["one", "three", "two"]
    assert names(tagFilters=[{"tagKey": "other"}]) == []

    page = ram.get_resource_shares(resourceOwner="SELF", maxResults=2)
    assert len(page["resourceShares"]) == 2 and page["nextToken"]
    rest = ram.get_resource_shares(resourceOwner="SELF", maxResults=2, nextToken=page["nextToken"])
    assert len(rest["resourceShares"]) == 1 and "nextToken" not in rest
    paginated = ram.get_paginator("get_resource_shares").paginate(
        resourceOwner="SELF", PaginationConfig={"PageSize": 1}
    )
    assert sum(len(p["resourceShares"]) for p in paginated) == 3

    for kwargs, code in (
        ({"resourceOwner": "EVERYONE"}, "InvalidParameterException"),
        ({"resourceOwner": "SELF", "nextToken": "bogus"}, "InvalidNextTokenException"),
        ({"resourceOwner": "SELF", "resourceShareArns": ["not-an-arn"]}, "MalformedArnException"),
    ):
        with pytest.raises(ClientError) as info:
            ram.get_resource_shares(**kwargs)
        assert error_code(info) == code


def test_update_resource_share(aws):
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(name="before", allowExternalPrincipals=False)["resourceShare"]["resourceShareArn"]
    updated = ram.update_resource_share(resourceShareArn=arn, name="after", clientToken="u1")
    assert updated["clientToken"] == "u1"
    assert updated["resourceShare"]["name"] == "after"
    assert updated["resourceShare"]["allowExternalPrincipals"] is False  # unchanged when not given
    updated = ram.update_resource_share(resourceShareArn=arn, allowExternalPrincipals=True)["resourceShare"]
    assert updated["name"] == "after" and updated["allowExternalPrincipals"] is True

    missing = arn[:-12] + "000000000000"
    for share_arn, code in ((missing, "UnknownResourceException"), ("arn:aws:ram:nope", "MalformedArnException")):
        with pytest.raises(ClientError) as info:
            ram.update_resource_share(resourceShareArn=share_arn, name="x")
        assert error_code(info) == code
    with pytest.raises(ClientError) as info:
        aws.client("ram", "application-b").update_resource_share(resourceShareArn=arn, name="x")
    assert error_code(info) == "UnknownResourceException"


def test_associate_and_disassociate_report_transitions(aws):
    _, subnets = make_subnets(aws)
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(name="s", allowExternalPrincipals=False)["resourceShare"]["resourceShareArn"]
    subnet_arn = subnets[0]["SubnetArn"]

    answered = ram.associate_resource_share(
        resourceShareArn=arn, resourceArns=[subnet_arn], principals=[DATABASE], clientToken="a1"
    )
    assert answered["clientToken"] == "a1"
    assert {
        (a["associationType"], a["associatedEntity"], a["status"]) for a in answered["resourceShareAssociations"]
    } == {
        ("RESOURCE", subnet_arn, "ASSOCIATING"),
        ("PRINCIPAL", DATABASE, "ASSOCIATING"),
    }
    assert associations(ram, arn, "RESOURCE")[0]["status"] == "ASSOCIATED"
    assert associations(ram, arn, "PRINCIPAL")[0]["status"] == "ASSOCIATED"
    # Associating again changes nothing and reports the current status.
    again = ram.associate_resource_share(resourceShareArn=arn, principals=[DATABASE])["resourceShareAssociations"]
    assert [a["status"] for a in again] == ["ASSOCIATED"]

    gone = ram.disassociate_resource_share(resourceShareArn=arn, principals=[DATABASE])["resourceShareAssociations"]
    assert [(a["associatedEntity"], a["status"]) for a in gone] == [(DATABASE, "DISASSOCIATING")]
    assert associations(ram, arn, "PRINCIPAL")[0]["status"] == "DISASSOCIATED"
    assert associations(ram, arn, "PRINCIPAL", associationStatus="ASSOCIATED") == []
    assert len(associations(ram, arn, "PRINCIPAL", principal=DATABASE)) == 1
    assert len(associations(ram, arn, "RESOURCE", resourceArn=subnet_arn)) == 1
    assert associations(ram, arn, "RESOURCE", resourceArn=subnets[1]["SubnetArn"]) == []

    # A principal can be associated again after being disassociated.
    ram.associate_resource_share(resourceShareArn=arn, principals=[DATABASE])
    assert associations(ram, arn, "PRINCIPAL")[0]["status"] == "ASSOCIATED"

    with pytest.raises(ClientError) as info:
        ram.disassociate_resource_share(resourceShareArn=arn, principals=[APP_B])
    assert error_code(info) == "UnknownResourceException"
    with pytest.raises(ClientError) as info:
        ram.get_resource_share_associations(associationType="PRINCIPAL", resourceArn=subnet_arn)
    assert error_code(info) == "InvalidParameterException"
    with pytest.raises(ClientError) as info:
        ram.get_resource_share_associations(associationType="RESOURCE", principal=DATABASE)
    assert error_code(info) == "InvalidParameterException"
    with pytest.raises(ClientError) as info:
        ram.associate_resource_share(resourceShareArn=arn[:-12] + "000000000000", principals=[DATABASE])
    assert error_code(info) == "UnknownResourceException"


def test_delete_resource_share_disassociates_everything(aws):
    _, subnets = make_subnets(aws)
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(name="s", resourceArns=[subnets[0]["SubnetArn"]], principals=[DATABASE])[
        "resourceShare"
    ]["resourceShareArn"]
    deleted = ram.delete_resource_share(resourceShareArn=arn, clientToken="d1")
    assert (deleted["returnValue"], deleted["clientToken"]) == (True, "d1")
    (share,) = ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[arn])["resourceShares"]
    assert share["status"] == "DELETED"
    statuses = {a["status"] for kind in ("PRINCIPAL", "RESOURCE") for a in associations(ram, arn, kind)}
    assert statuses == {"DISASSOCIATED"}
    theirs = aws.client("ram", "database").get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    assert arn not in {s["resourceShareArn"] for s in theirs}
    for call in (
        lambda: ram.delete_resource_share(resourceShareArn=arn),
        lambda: ram.associate_resource_share(resourceShareArn=arn, principals=[DATABASE]),
        lambda: ram.update_resource_share(resourceShareArn=arn, name="x"),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info) == "InvalidStateTransitionException"


def test_resources_must_be_shareable_existing_and_owned(aws):
    vpc_id, _ = make_subnets(aws)
    _, foreign = make_subnets(aws, "application-b", cidr="10.0.17", count=1)
    ram = aws.client("ram", "application-a")
    base = "arn:aws:ec2:eu-west-1:222222222222"
    default_subnet = aws.client("ec2", "application-a").describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}]
    )["Subnets"][0]
    cases = [
        (default_subnet["SubnetArn"], "InvalidParameterException"),
        ("subnet-123", "MalformedArnException"),
        ("arn:aws:ec2:eu-west-1:222222222222", "MalformedArnException"),
        (f"{base}:vpc/{vpc_id}", "InvalidParameterException"),
        (f"{base}:subnet/subnet-0123456789abcdef0", "UnknownResourceException"),
        (foreign[0]["SubnetArn"], "OperationNotPermittedException"),
    ]
    for resource, code in cases:
        with pytest.raises(ClientError) as info:
            ram.create_resource_share(name="refused", resourceArns=[resource], principals=[DATABASE])
        assert error_code(info) == code, resource
    assert ram.get_resource_shares(resourceOwner="SELF", name="refused")["resourceShares"] == []


def test_principals_are_validated(aws):
    _, subnets = make_subnets(aws)
    ram = aws.client("ram", "application-a")
    closed = ram.create_resource_share(name="closed", allowExternalPrincipals=False)["resourceShare"]
    with_subnet = ram.create_resource_share(name="subnet", resourceArns=[subnets[0]["SubnetArn"]])["resourceShare"]
    cases = [
        (closed, "not-a-principal", "InvalidParameterException"),
        (closed, APP_A, "InvalidParameterException"),
        (closed, EXTERNAL, "OperationNotPermittedException"),
        (with_subnet, EXTERNAL, "InvalidParameterException"),  # subnets stay inside the organization
        (closed, "arn:aws:organizations::100000000000:ou/o-abcdefghij/ou-abcd-12345678", "UnknownResourceException"),
    ]
    for share, principal, code in cases:
        with pytest.raises(ClientError) as info:
            ram.associate_resource_share(resourceShareArn=share["resourceShareArn"], principals=[principal])
        assert error_code(info) == code, principal
    open_share = ram.create_resource_share(name="open", principals=[EXTERNAL])["resourceShare"]
    with pytest.raises(ClientError) as info:
        ram.associate_resource_share(
            resourceShareArn=open_share["resourceShareArn"], resourceArns=[subnets[1]["SubnetArn"]]
        )
    assert error_code(info) == "InvalidParameterException"
    with pytest.raises(ClientError) as info:
        ram.update_resource_share(resourceShareArn=open_share["resourceShareArn"], allowExternalPrincipals=False)
    assert error_code(info) == "OperationNotPermittedException"


def test_external_principal_is_invited_and_accepts(aws):
    ec2 = aws.client("ec2", "application-a")
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="office", AddressFamily="IPv4", MaxEntries=5, Entries=[{"Cidr": "192.0.2.0/24"}]
    )["PrefixList"]
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(
        name="prefixes",
        resourceArns=[prefix_list["PrefixListArn"]],
        principals=[EXTERNAL],
        allowExternalPrincipals=True,
    )["resourceShare"]["resourceShareArn"]
    (principal,) = associations(ram, arn, "PRINCIPAL")
    assert (principal["status"], principal["external"]) == ("ASSOCIATING", True)

    external = external_client(aws, "ram")
    assert external.get_resource_shares(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[arn])["resourceShares"] == []
    (invitation,) = external.get_resource_share_invitations(resourceShareArns=[arn])["resourceShareInvitations"]
    assert INVITATION_ARN.match(invitation["resourceShareInvitationArn"])
    assert invitation["status"] == "PENDING"
    assert invitation["senderAccountId"] == APP_A and invitation["receiverAccountId"] == EXTERNAL
    assert invitation["resourceShareArn"] == arn and invitation["resourceShareName"] == "prefixes"
    assert isinstance(invitation["invitationTimestamp"], datetime)
    pending = external.list_pending_invitation_resources(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )["resources"]
    assert [(r["arn"], r["type"]) for r in pending] == [(prefix_list["PrefixListArn"], "ec2:PrefixList")]
    # Accounts of the organization received no invitation.
    assert (
        aws.client("ram", "database").get_resource_share_invitations(resourceShareArns=[arn])[
            "resourceShareInvitations"
        ]
        == []
    )

    accepted = external.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"], clientToken="c1"
    )
    assert accepted["resourceShareInvitation"]["status"] == "ACCEPTED"
    assert accepted["clientToken"] == "c1"
    assert associations(ram, arn, "PRINCIPAL")[0]["status"] == "ASSOCIATED"
    (seen,) = external.get_resource_shares(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[arn])["resourceShares"]
    assert seen["resourceShareArn"] == arn
    shared = external.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[arn])["resources"]
    assert [r["arn"] for r in shared] == [prefix_list["PrefixListArn"]]
    invitations = external.get_resource_share_invitations(resourceShareArns=[arn])["resourceShareInvitations"]
    assert [i["status"] for i in invitations] == ["ACCEPTED"]

    with pytest.raises(ClientError) as info:
        external.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    assert error_code(info) == "ResourceShareInvitationAlreadyAcceptedException"
    unknown = invitation["resourceShareInvitationArn"][:-12] + "000000000000"
    for invitation_arn, code in (
        (unknown, "ResourceShareInvitationArnNotFoundException"),
        ("arn:aws:ram:bad", "MalformedArnException"),
    ):
        with pytest.raises(ClientError) as info:
            external.accept_resource_share_invitation(resourceShareInvitationArn=invitation_arn)
        assert error_code(info) == code
    # The invitation belongs to its receiver only.
    with pytest.raises(ClientError) as info:
        aws.client("ram", "database").accept_resource_share_invitation(
            resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
        )
    assert error_code(info) == "ResourceShareInvitationArnNotFoundException"


def test_external_principal_can_reject(aws):
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(name="s", principals=[EXTERNAL])["resourceShare"]["resourceShareArn"]
    external = external_client(aws, "ram")
    (invitation,) = external.get_resource_share_invitations(resourceShareArns=[arn])["resourceShareInvitations"]
    rejected = external.reject_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )["resourceShareInvitation"]
    assert rejected["status"] == "REJECTED"
    assert associations(ram, arn, "PRINCIPAL")[0]["status"] == "DISASSOCIATED"
    with pytest.raises(ClientError) as info:
        external.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    assert error_code(info) == "ResourceShareInvitationAlreadyRejectedException"


def test_tags(aws):
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(name="s", tags=[{"key": "a", "value": "1"}])["resourceShare"]["resourceShareArn"]
    ram.tag_resource(resourceShareArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    (share,) = ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[arn])["resourceShares"]
    assert share["tags"] == [{"key": "a", "value": "3"}, {"key": "b", "value": "2"}]
    ram.untag_resource(resourceShareArn=arn, tagKeys=["a", "missing"])
    (share,) = ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[arn])["resourceShares"]
    assert share["tags"] == [{"key": "b", "value": "2"}]
    ram.untag_resource(resourceShareArn=arn, tagKeys=["b"])
    assert "tags" not in ram.get_resource_shares(resourceOwner="SELF", resourceShareArns=[arn])["resourceShares"][0]

    cases = [
        (arn, [{"key": "aws:reserved", "value": "x"}], "TagPolicyViolationException"),
        (arn, [{"key": f"k{i}", "value": "v"} for i in range(51)], "TagLimitExceededException"),
        (arn[:-12] + "000000000000", [{"key": "a", "value": "b"}], "UnknownResourceException"),
        ("arn:aws:ram:x", [{"key": "a", "value": "b"}], "MalformedArnException"),
    ]
    for share_arn, tags, code in cases:
        with pytest.raises(ClientError) as info:
            ram.tag_resource(resourceShareArn=share_arn, tags=tags)
        assert error_code(info) == code
    with pytest.raises(ClientError) as info:
        ram.create_resource_share(name="t", tags=[{"key": "aws:x", "value": "y"}])
    assert error_code(info) == "TagPolicyViolationException"


def test_list_resources_and_principals(aws):
    # The management account shares only in this test, so SELF lists are its own.
    _, subnets = make_subnets(aws, "management", cidr="10.0.40")
    ram = aws.client("ram", "management")
    arn = ram.create_resource_share(name="s", resourceArns=[s["SubnetArn"] for s in subnets], principals=[DATABASE])[
        "resourceShare"
    ]["resourceShareArn"]
    empty = ram.create_resource_share(name="empty", principals=[APP_B])["resourceShare"]["resourceShareArn"]

    own = ram.list_resources(resourceOwner="SELF", resourceType="ec2:Subnet")["resources"]
    assert [(r["arn"], r["type"], r["resourceShareArn"], r["status"]) for r in own] == [
        (s["SubnetArn"], "ec2:Subnet", arn, "AVAILABLE") for s in subnets
    ]
    assert ram.list_resources(resourceOwner="SELF", principal=APP_B)["resources"] == []
    assert len(ram.list_resources(resourceOwner="SELF", principal=DATABASE)["resources"]) == 2
    assert ram.list_resources(resourceOwner="SELF", resourceType="rds:Cluster")["resources"] == []
    database = aws.client("ram", "database")
    shared = database.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[arn])["resources"]
    assert [r["arn"] for r in shared] == [s["SubnetArn"] for s in subnets]
    assert [
        r["arn"] for r in database.list_resources(resourceOwner="OTHER-ACCOUNTS", principal=MANAGEMENT)["resources"]
    ] == [s["SubnetArn"] for s in subnets]
    app_b = aws.client("ram", "application-b")
    assert app_b.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[arn])["resources"] == []

    principals = ram.list_principals(resourceOwner="SELF")["principals"]
    assert sorted((p["id"], p["resourceShareArn"], p["external"]) for p in principals) == [
        (DATABASE, arn, False),
        (APP_B, empty, False),
    ]
    by_resource = ram.list_principals(resourceOwner="SELF", resourceArn=subnets[0]["SubnetArn"])["principals"]
    assert [(p["id"], p["resourceShareArn"]) for p in by_resource] == [(DATABASE, arn)]
    by_type = ram.list_principals(resourceOwner="SELF", resourceType="ec2:Subnet")["principals"]
    assert [p["id"] for p in by_type] == [DATABASE]
    theirs = database.list_principals(resourceOwner="OTHER-ACCOUNTS", resourceShareArns=[arn])["principals"]
    assert [p["id"] for p in theirs] == [DATABASE]

    for call in (
        lambda: ram.list_resources(resourceOwner="SELF", resourceType="ec2:Vpc"),
        lambda: ram.list_principals(resourceOwner="SELF", resourceType="ec2:Vpc"),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info) == "InvalidResourceTypeException"
    with pytest.raises(ClientError) as info:
        ram.list_resources(resourceOwner="NOBODY")
    assert error_code(info) == "InvalidParameterException"


def test_deleted_subnet_fails_its_association(aws):
    _, subnets = make_subnets(aws)
    ram = aws.client("ram", "application-a")
    arn = ram.create_resource_share(name="s", resourceArns=[subnets[0]["SubnetArn"]], principals=[DATABASE])[
        "resourceShare"
    ]["resourceShareArn"]
    aws.client("ec2", "application-a").delete_subnet(SubnetId=subnets[0]["SubnetId"])
    (resource,) = associations(ram, arn, "RESOURCE")
    assert resource["status"] == "FAILED"
    assert subnets[0]["SubnetArn"] in resource["statusMessage"]
    assert ram.list_resources(resourceOwner="SELF", resourceShareArns=[arn])["resources"] == []


def test_enable_sharing_with_organization(aws):
    assert aws.client("ram", "management").enable_sharing_with_aws_organization()["returnValue"] is True
    with pytest.raises(ClientError) as info:
        aws.client("ram", "database").enable_sharing_with_aws_organization()
    assert error_code(info) == "OperationNotPermittedException"


def test_resource_types_and_permissions_still_answer(aws):
    ram = aws.client("ram", "application-a")
    types = {t["resourceType"] for t in ram.list_resource_types()["resourceTypes"]}
    assert "ec2:Subnet" in types
    (permission,) = ram.list_permissions(resourceType="ec2:Subnet")["permissions"]
    assert permission["name"] == "AWSRAMDefaultPermissionSubnet"


def test_state_is_per_region_and_reset(aws):
    ram = aws.client("ram", "application-a")
    ram.create_resource_share(name="s")
    assert (
        aws.client("ram", "application-a", region="us-east-1").get_resource_shares(resourceOwner="SELF")[
            "resourceShares"
        ]
        == []
    )
    aws.control.reset()
    assert ram.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []


def test_requests_are_logged_with_their_actions(aws):
    ram = aws.client("ram", "application-a")
    aws.control.reset_requests()
    arn = ram.create_resource_share(name="s")["resourceShare"]["resourceShareArn"]
    ram.tag_resource(resourceShareArn=arn, tags=[{"key": "a", "value": "b"}])
    ram.delete_resource_share(resourceShareArn=arn)
    assert [(e["action"], e["mutating"]) for e in aws.control.requests()] == [
        ("CreateResourceShare", True),
        ("TagResource", True),
        ("DeleteResourceShare", True),
    ]


ORGANIZATION_ONLY = (
    "The resource you are attempting to share can only be shared within your AWS Organization. "
    "This error may also occur if you have not enabled sharing with your AWS organization, "
    "or that onboarding process is still in progress."
)


def test_trusted_access_is_read_and_changed_from_the_management_account_only(aws):
    management = aws.client("organizations", "management")
    enabled = management.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert "ram.amazonaws.com" in [s["ServicePrincipal"] for s in enabled]
    for call in (
        lambda: aws.client("organizations", "database").list_aws_service_access_for_organization(),
        lambda: aws.client("organizations", "application-a").disable_aws_service_access(
            ServicePrincipal="ram.amazonaws.com"
        ),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert error_code(info) == "AccessDeniedException"


def test_subnets_cannot_be_shared_while_sharing_with_the_organization_is_off(aws):
    """The organization setting: RAM's trusted access, turned off from the management account."""
    management = aws.client("organizations", "management")
    ram = aws.client("ram", "application-a")
    _, subnets = make_subnets(aws, cidr="10.9.30")
    arns = [s["SubnetArn"] for s in subnets]
    management.disable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
    try:
        share = ram.create_resource_share(
            name="needs-org-sharing", resourceArns=arns[:1], principals=[DATABASE], allowExternalPrincipals=False
        )["resourceShare"]
        assert share["status"] == "ACTIVE"
        associations = ram.get_resource_share_associations(
            associationType="RESOURCE", resourceShareArns=[share["resourceShareArn"]]
        )["resourceShareAssociations"]
        assert [(a["status"], a["statusMessage"]) for a in associations] == [("FAILED", ORGANIZATION_ONLY)]
        principals = ram.get_resource_share_associations(
            associationType="PRINCIPAL", resourceShareArns=[share["resourceShareArn"]]
        )["resourceShareAssociations"]
        assert [a["status"] for a in principals] == ["FAILED"]
        # Nothing is visible to the database account.
        seen = aws.client("ec2", "database").describe_subnets(Filters=[{"Name": "owner-id", "Values": [APP_A]}])
        assert arns[0] not in [s["SubnetArn"] for s in seen["Subnets"]]
        # Adding the principal again is refused at once (terraform-provider-aws issue 7769).
        with pytest.raises(ClientError) as info:
            ram.associate_resource_share(
                resourceShareArn=share["resourceShareArn"], resourceArns=arns[1:], principals=[DATABASE]
            )
        assert error_code(info) == "OperationNotPermittedException"
        assert info.value.response["Error"]["Message"] == ORGANIZATION_ONLY
        # The share can still be deleted.
        assert ram.delete_resource_share(resourceShareArn=share["resourceShareArn"])["returnValue"] is True
        # aws ram enable-sharing-with-aws-organization, from the management account, turns it back on.
        assert aws.client("ram", "management").enable_sharing_with_aws_organization()["returnValue"] is True
        shared = ram.create_resource_share(
            name="with-org-sharing", resourceArns=arns, principals=[DATABASE], allowExternalPrincipals=False
        )["resourceShare"]
        statuses = ram.get_resource_share_associations(
            associationType="RESOURCE", resourceShareArns=[shared["resourceShareArn"]]
        )["resourceShareAssociations"]
        assert {a["status"] for a in statuses} == {"ASSOCIATED"}
    finally:
        management.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
