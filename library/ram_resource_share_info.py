#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ram_resource_share_info
short_description: Look up AWS RAM resource shares and what they share
description:
  - Returns the AWS Resource Access Manager (RAM) resource shares that the account owns, or that other accounts
    share with it, with the resources of each share and, for shares the account owns, their principals.
  - A participant account uses it to find the subnets an owner shares with it.
options:
  name:
    description: Only shares of this name.
    type: str
  resource_owner:
    description: C(SELF) for shares the account owns, C(OTHER-ACCOUNTS) for shares other accounts share with it.
    type: str
    choices: [SELF, OTHER-ACCOUNTS]
    default: SELF
  resource_share_arns:
    description: Only these shares.
    type: list
    elements: str
  resource_share_status:
    description: Only shares in this status; V(ALL) for any status (deleted shares stay listed for a while).
    type: str
    choices: [PENDING, ACTIVE, FAILED, DELETING, DELETED, ALL]
    default: ACTIVE
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Subnets the application account shares with this account
  ram_resource_share_info:
    name: app-a-subnets
    resource_owner: OTHER-ACCOUNTS
  register: shared

- name: Their IDs
  ansible.builtin.set_fact:
    shared_subnet_ids: "{{ shared.resource_shares | map(attribute='resource_arns') | flatten
                           | map('split', '/') | map('last') | list }}"
"""

RETURN = r"""
resource_shares:
  description: The shares found, in snake case; an empty list when there are none.
  returned: always
  type: list
  elements: dict
  contains:
    resource_share_arn:
      description: ARN of the share.
      type: str
      sample: arn:aws:ram:eu-west-1:222222222222:resource-share/0a1b2c3d-4e5f-6789-abcd-ef0123456789
    name:
      description: Name of the share.
      type: str
      sample: app-a-subnets
    owning_account_id:
      description: Account that owns the share.
      type: str
      sample: "222222222222"
    status:
      description: Status of the share.
      type: str
      sample: ACTIVE
    allow_external_principals:
      description: Whether principals outside the organization are allowed.
      type: bool
    tags:
      description: Tags of the share.
      type: dict
      sample: {"Name": "app-a-subnets"}
    resource_arns:
      description: ARNs of the resources the share makes available.
      type: list
      elements: str
      sample: ["arn:aws:ec2:eu-west-1:222222222222:subnet/subnet-0aaaaaaaaaaaaaaaa"]
    resources:
      description: The resources as C(ListResources) reports them (ARN, type, status).
      type: list
      elements: dict
    principals:
      description: Principals of the share; only for O(resource_owner=SELF).
      type: list
      elements: str
      sample: ["111111111111"]
"""

import contextlib

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError


@AWSRetry.jittered_backoff(catch_extra_error_codes=["ThrottlingException"])
def _paginate(client, operation, key, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]


def list_or_fail(module, client, operation, api_name, key, **params):
    try:
        return _paginate(client, operation, key, **params)
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to look up resource shares ({api_name})")


def describe(module, client, share, owner):
    arn = share["resourceShareArn"]
    resources = list_or_fail(
        module, client, "list_resources", "ListResources", "resources", resourceOwner=owner, resourceShareArns=[arn]
    )
    result = camel_dict_to_snake_dict({k: v for k, v in share.items() if k != "tags"})
    result["tags"] = boto3_tag_list_to_ansible_dict(share.get("tags", []), "key", "value")
    result["resources"] = [camel_dict_to_snake_dict(r) for r in resources]
    result["resource_arns"] = sorted(r["arn"] for r in resources)
    if owner == "SELF":
        principals = list_or_fail(
            module,
            client,
            "list_principals",
            "ListPrincipals",
            "principals",
            resourceOwner=owner,
            resourceShareArns=[arn],
        )
        result["principals"] = sorted({p["id"] for p in principals})
    return result


def main():
    argument_spec = dict(
        name=dict(type="str"),
        resource_owner=dict(type="str", choices=["SELF", "OTHER-ACCOUNTS"], default="SELF"),
        resource_share_arns=dict(type="list", elements="str"),
        resource_share_status=dict(
            type="str", choices=["PENDING", "ACTIVE", "FAILED", "DELETING", "DELETED", "ALL"], default="ACTIVE"
        ),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    client = module.client(
        "ram", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=["ThrottlingException"])
    )

    params = {"resourceOwner": p["resource_owner"]}
    if p["name"]:
        params["name"] = p["name"]
    if p["resource_share_arns"]:
        params["resourceShareArns"] = p["resource_share_arns"]
    if p["resource_share_status"] != "ALL":
        params["resourceShareStatus"] = p["resource_share_status"]
    shares = list_or_fail(module, client, "get_resource_shares", "GetResourceShares", "resourceShares", **params)
    if p["name"]:
        shares = [s for s in shares if s["name"] == p["name"]]
    module.exit_json(
        changed=False, resource_shares=[describe(module, client, share, p["resource_owner"]) for share in shares]
    )


if __name__ == "__main__":
    main()
