"""ram_resource_share_info with its RAM calls answered by a botocore Stubber."""

from __future__ import annotations

import pytest

from .stubbed import failure, load_module, rejected_before_any_call, run

ram_resource_share_info = load_module("ram_resource_share_info")

NAME = "app-a-subnets"
OWNER = "222222222222"
ARN = f"arn:aws:ram:eu-west-1:{OWNER}:resource-share/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
SUBNET = f"arn:aws:ec2:eu-west-1:{OWNER}:subnet/subnet-0aaaaaaaaaaaaaaaa"


def share(name=NAME):
    return {
        "resourceShareArn": ARN,
        "name": name,
        "owningAccountId": OWNER,
        "allowExternalPrincipals": False,
        "status": "ACTIVE",
        "tags": [{"key": "Name", "value": name}],
    }


def resources(stubs, owner):
    stubs.add(
        "ram",
        "list_resources",
        {"resources": [{"arn": SUBNET, "type": "ec2:Subnet", "resourceShareArn": ARN, "status": "AVAILABLE"}]},
        {"resourceOwner": owner, "resourceShareArns": [ARN]},
    )


def test_owner_sees_resources_and_principals(stubs):
    stubs.add(
        "ram",
        "get_resource_shares",
        {"resourceShares": [share(), share("app-a-subnets-old")]},
        {"resourceOwner": "SELF", "name": NAME, "resourceShareStatus": "ACTIVE"},
    )
    resources(stubs, "SELF")
    stubs.add(
        "ram",
        "list_principals",
        {"principals": [{"id": "111111111111", "resourceShareArn": ARN, "external": False}]},
        {"resourceOwner": "SELF", "resourceShareArns": [ARN]},
    )
    outcome = run(ram_resource_share_info, {"name": NAME}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["changed"] is False
    [found] = outcome.result["resource_shares"]
    assert found["resource_arns"] == [SUBNET]
    assert found["principals"] == ["111111111111"]
    assert found["tags"] == {"Name": NAME}


def test_participant_sees_what_is_shared_with_it(stubs):
    stubs.add(
        "ram", "get_resource_shares", {"resourceShares": [share()]}, {"resourceOwner": "OTHER-ACCOUNTS", "name": NAME}
    )
    resources(stubs, "OTHER-ACCOUNTS")
    outcome = run(
        ram_resource_share_info,
        {"name": NAME, "resource_owner": "OTHER-ACCOUNTS", "resource_share_status": "ALL"},
        stubs,
    )
    [found] = outcome.result["resource_shares"]
    assert found["owning_account_id"] == OWNER
    assert found["resource_arns"] == [SUBNET]
    assert "principals" not in found


def test_nothing_found_is_an_empty_list(stubs):
    stubs.add("ram", "get_resource_shares", {"resourceShares": []})
    outcome = run(ram_resource_share_info, {}, stubs, check_mode=True)
    assert outcome.result["resource_shares"] == []


def test_aws_error_names_the_operation(stubs):
    stubs.error("ram", "get_resource_shares", "MalformedArnException", "bad ARN")
    outcome = run(ram_resource_share_info, {"resource_share_arns": ["arn:aws:ram:nope"]}, stubs)
    msg = failure(outcome, "MalformedArnException")
    assert "GetResourceShares" in msg


@pytest.mark.parametrize("owner", ["ME", "others"])
def test_unknown_owner_is_rejected_before_any_api_call(stubs, owner):
    assert "resource_owner" in rejected_before_any_call(ram_resource_share_info, {"resource_owner": owner}, stubs)
