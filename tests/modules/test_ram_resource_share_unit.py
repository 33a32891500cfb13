"""ram_resource_share with its RAM calls answered by a botocore Stubber."""

from __future__ import annotations

import pytest
from ansible.module_utils.aws_waiters import max_attempts
from botocore.stub import ANY

from .stubbed import failure, load_module, rejected_before_any_call, run, succeeded

ram_resource_share = load_module("ram_resource_share")

NAME = "app-a-subnets"
OWNER = "222222222222"
ARN = f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
SUBNET_A = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0aaaaaaaaaaaaaaaa"
SUBNET_B = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0bbbbbbbbbbbbbbbb"
SUBNET_C = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0cccccccccccccccc"
DATABASE = "111111111111"

ARGS = {
    "name": NAME,
    "resource_arns": [SUBNET_A, SUBNET_B],
    "principals": [DATABASE],
    "allow_external_principals": False,
    "tags": {"Name": NAME},
    "wait_delay": 1,
    "wait_timeout": 5,
}


def share(status="ACTIVE", tags=None, external=False):
    return {
        "resourceShareArn": ARN,
        "name": NAME,
        "owningAccountId": OWNER,
        "allowExternalPrincipals": external,
        "status": status,
        "tags": [{"key": k, "value": v} for k, v in (tags if tags is not None else {"Name": NAME}).items()],
        "featureSet": "STANDARD",
    }


def association(entity, kind, status="ASSOCIATED", message=None):
    data = {
        "resourceShareArn": ARN,
        "resourceShareName": NAME,
        "associatedEntity": entity,
        "associationType": kind,
        "status": status,
        "external": False,
    }
    if message:
        data["statusMessage"] = message
    return data


def find(stubs, shares):
    stubs.add("ram", "get_resource_shares", {"resourceShares": shares}, {"resourceOwner": "SELF", "name": NAME})


def describe(stubs, **kwargs):
    stubs.add(
        "ram",
        "get_resource_shares",
        {"resourceShares": [share(**kwargs)]},
        {"resourceOwner": "SELF", "resourceShareArns": [ARN]},
    )


def associations_of(stubs, kind, entities, status="ASSOCIATED"):
    stubs.add(
        "ram",
        "get_resource_share_associations",
        {"resourceShareAssociations": [association(e, kind, status) for e in entities]},
        {"associationType": kind, "resourceShareArns": [ARN]},
    )


def associations(stubs, resources=(SUBNET_A, SUBNET_B), principals=(DATABASE,), status="ASSOCIATED"):
    associations_of(stubs, "RESOURCE", resources, status)
    associations_of(stubs, "PRINCIPAL", principals, status)


def settled_and_final(stubs, **kwargs):
    """The waits (share ACTIVE, associations settled) and the final reads."""
    describe(stubs)
    associations(stubs, **kwargs)
    describe(stubs)
    associations(stubs, **kwargs)


def test_create_shares_and_waits(stubs):
    find(stubs, [])
    stubs.add(
        "ram",
        "create_resource_share",
        {"resourceShare": share()},
        {
            "name": NAME,
            "clientToken": ANY,
            "resourceArns": [SUBNET_A, SUBNET_B],
            "principals": [DATABASE],
            "allowExternalPrincipals": False,
            "tags": [{"key": "Name", "value": NAME}],
        },
    )
    describe(stubs, status="PENDING")
    describe(stubs)
    associations_of(stubs, "RESOURCE", [SUBNET_A, SUBNET_B], "ASSOCIATING")
    associations_of(stubs, "RESOURCE", [SUBNET_A, SUBNET_B])
    associations_of(stubs, "PRINCIPAL", [DATABASE], "ASSOCIATING")
    associations_of(stubs, "PRINCIPAL", [DATABASE])
    describe(stubs)
    associations(stubs)
    result = succeeded(run(ram_resource_share, ARGS, stubs))
    assert result["changed"] is True
    assert result["resource_share_arn"] == ARN
    assert result["resource_arns"] == sorted([SUBNET_A, SUBNET_B])
    assert result["principals"] == [DATABASE]
    assert {a["status"] for a in result["associations"]} == {"ASSOCIATED"}
    assert result["tags"] == {"Name": NAME}
    assert result["diff"]["before"] == {}


def test_check_mode_create(stubs):
    find(stubs, [])
    outcome = run(ram_resource_share, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    after = outcome.result["diff"]["after"]
    assert after["resource_arns"] == sorted([SUBNET_A, SUBNET_B])
    assert after["principals"] == [DATABASE]
    assert after["allow_external_principals"] is False


def test_no_change_reads_three_times_and_does_not_wait(stubs):
    find(stubs, [share()])
    associations(stubs)
    result = succeeded(run(ram_resource_share, ARGS, stubs))
    assert result["changed"] is False
    assert result["resource_arns"] == sorted([SUBNET_A, SUBNET_B])
    assert result["diff"]["before"] == result["diff"]["after"]


def test_no_change_still_waits_for_an_association_on_its_way(stubs):
    find(stubs, [share()])
    associations_of(stubs, "RESOURCE", [SUBNET_A, SUBNET_B], "ASSOCIATING")
    associations_of(stubs, "PRINCIPAL", [DATABASE])
    settled_and_final(stubs)
    result = succeeded(run(ram_resource_share, ARGS, stubs))
    assert result["changed"] is False
    assert {a["status"] for a in result["associations"]} == {"ASSOCIATED"}


def test_no_change_in_check_mode(stubs):
    find(stubs, [share()])
    associations(stubs)
    outcome = run(ram_resource_share, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is False


def test_deleted_shares_of_the_same_name_are_ignored(stubs):
    find(stubs, [share(status="DELETED")])
    outcome = run(ram_resource_share, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    assert outcome.result["diff"]["before"] == {}


def test_update_purges_and_adds(stubs):
    find(stubs, [share(tags={"old": "1"}, external=True)])
    associations(stubs, resources=(SUBNET_A, SUBNET_C))
    stubs.add(
        "ram",
        "update_resource_share",
        {"resourceShare": share()},
        {"resourceShareArn": ARN, "allowExternalPrincipals": False},
    )
    stubs.add(
        "ram",
        "disassociate_resource_share",
        {},
        {"resourceShareArn": ARN, "resourceArns": [SUBNET_C]},
    )
    stubs.add("ram", "associate_resource_share", {}, {"resourceShareArn": ARN, "resourceArns": [SUBNET_B]})
    stubs.add("ram", "untag_resource", {}, {"resourceShareArn": ARN, "tagKeys": ["old"]})
    stubs.add("ram", "tag_resource", {}, {"resourceShareArn": ARN, "tags": [{"key": "Name", "value": NAME}]})
    settled_and_final(stubs)
    result = succeeded(run(ram_resource_share, ARGS, stubs))
    assert result["changed"] is True
    assert result["diff"]["before"]["allow_external_principals"] is True
    assert result["diff"]["after"]["resource_arns"] == sorted([SUBNET_A, SUBNET_B])


def test_update_without_purge_only_adds(stubs):
    find(stubs, [share()])
    associations(stubs, principals=("333333333333",))
    stubs.add("ram", "associate_resource_share", {}, {"resourceShareArn": ARN, "principals": [DATABASE]})
    settled_and_final(stubs, principals=("333333333333", DATABASE))
    result = succeeded(run(ram_resource_share, {**ARGS, "purge_principals": False}, stubs))
    assert result["changed"] is True
    assert result["principals"] == sorted(["333333333333", DATABASE])


def test_update_in_check_mode(stubs):
    find(stubs, [share()])
    associations(stubs, resources=(SUBNET_A,))
    outcome = run(ram_resource_share, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    assert outcome.result["diff"]["before"]["resource_arns"] == [SUBNET_A]
    assert outcome.result["diff"]["after"]["resource_arns"] == sorted([SUBNET_A, SUBNET_B])


def test_disassociated_entries_do_not_count(stubs):
    find(stubs, [share()])
    stubs.add(
        "ram",
        "get_resource_share_associations",
        {
            "resourceShareAssociations": [
                association(SUBNET_A, "RESOURCE"),
                association(SUBNET_B, "RESOURCE", "DISASSOCIATED"),
            ]
        },
    )
    associations_of(stubs, "PRINCIPAL", [DATABASE])
    outcome = run(ram_resource_share, ARGS, stubs, check_mode=True)
    assert outcome.result["changed"] is True
    assert outcome.result["diff"]["before"]["resource_arns"] == [SUBNET_A]


def test_failed_association_fails_the_wait_with_its_status(stubs):
    find(stubs, [share()])
    associations_of(stubs, "RESOURCE", [SUBNET_A, SUBNET_B], "ASSOCIATING")
    associations_of(stubs, "PRINCIPAL", [DATABASE])
    describe(stubs)
    stubs.add(
        "ram",
        "get_resource_share_associations",
        {
            "resourceShareAssociations": [
                association(SUBNET_A, "RESOURCE", "FAILED", "The resource no longer exists."),
                association(SUBNET_B, "RESOURCE"),
            ]
        },
    )
    msg = failure(run(ram_resource_share, ARGS, stubs))
    assert "FAILED" in msg
    assert "The resource no longer exists." in msg
    assert "Timed out" not in msg


def test_invitation_not_accepted_times_out_naming_the_principal(stubs):
    find(stubs, [share()])
    associations(stubs, principals=("444444444444",), status="ASSOCIATING")
    describe(stubs)
    associations_of(stubs, "RESOURCE", [SUBNET_A, SUBNET_B])
    for _ in range(max_attempts(timeout=1, delay=1)):
        associations_of(stubs, "PRINCIPAL", ["444444444444"], "ASSOCIATING")
    msg = failure(run(ram_resource_share, {**ARGS, "principals": None, "wait_timeout": 1}, stubs))
    assert "Timed out after 1 seconds" in msg
    assert "444444444444: ASSOCIATING" in msg


def test_delete(stubs):
    find(stubs, [share()])
    associations(stubs)
    stubs.add("ram", "delete_resource_share", {"returnValue": True}, {"resourceShareArn": ARN})
    describe(stubs, status="DELETING")
    describe(stubs, status="DELETED")
    result = succeeded(run(ram_resource_share, {"name": NAME, "state": "absent", "wait_delay": 1}, stubs))
    assert result["changed"] is True
    assert result["diff"]["after"] == {}
    assert result["diff"]["before"]["principals"] == [DATABASE]


def test_delete_in_check_mode(stubs):
    find(stubs, [share()])
    associations(stubs)
    outcome = run(ram_resource_share, {"name": NAME, "state": "absent"}, stubs, check_mode=True)
    assert outcome.result["changed"] is True


def test_already_absent(stubs):
    find(stubs, [share(status="DELETED")])
    outcome = run(ram_resource_share, {"name": NAME, "state": "absent"}, stubs)
    assert outcome.result["changed"] is False


def test_two_shares_of_one_name_fail(stubs):
    other = {**share(), "resourceShareArn": ARN.replace("0a1b", "ffff")}
    find(stubs, [share(), other])
    assert "name" in failure(run(ram_resource_share, ARGS, stubs))


def test_aws_error_names_code_and_operation(stubs):
    find(stubs, [share()])
    associations(stubs, resources=(SUBNET_A,))
    stubs.error("ram", "associate_resource_share", "UnknownResourceException", "No such subnet")
    assert "AssociateResourceShare" in failure(run(ram_resource_share, ARGS, stubs), "UnknownResourceException")


def test_throttling_is_retried(stubs):
    stubs.error("ram", "get_resource_shares", "ThrottlingException", "Rate exceeded")
    find(stubs, [])
    result = succeeded(run(ram_resource_share, {"name": NAME, "state": "absent"}, stubs))
    assert result["changed"] is False


BAD_INPUT = [
    pytest.param({"principals": ["11111111111"]}, "principals", id="short-account-id"),
    pytest.param({"resource_arns": ["subnet-0aaaaaaaaaaaaaaaa"]}, "resource_arns", id="subnet-id-not-arn"),
    pytest.param({"wait_timeout": -1}, "wait_timeout", id="negative-timeout"),
    pytest.param({"allow_external_principals": "maybe"}, "allow_external_principals", id="not-a-bool"),
]


@pytest.mark.parametrize(("changes", "option"), BAD_INPUT)
def test_bad_input_is_rejected_before_any_api_call(stubs, changes, option):
    assert option in rejected_before_any_call(ram_resource_share, {**ARGS, **changes}, stubs)
