#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ram_resource_share
short_description: Manage an AWS RAM resource share
description:
  - Creates, updates and deletes an AWS Resource Access Manager (RAM) resource share owned by the account, found
    by its name, with the resources it shares and the principals it shares them with.
  - Waits until the share is C(ACTIVE) and none of its associations is still C(ASSOCIATING) or
    C(DISASSOCIATING); an association that ends C(FAILED) fails the task with its status message.
  - Sharing subnets (VPC sharing) needs the owner and the principals in one AWS Organization with sharing enabled
    for it; an account outside the organization only gets an invitation, and its association stays
    C(ASSOCIATING) until the invitation is accepted.
options:
  name:
    description:
      - Name of the resource share. The module fails when the account owns more than one active share of that name.
    type: str
    required: true
  state:
    description: Whether the share should exist.
    type: str
    choices: [present, absent]
    default: present
  resource_arns:
    description:
      - ARNs of the resources to share, for example subnets
        (C(arn:aws:ec2:eu-west-1:222222222222:subnet/subnet-0123456789abcdef0)).
      - When not set, the resources are left as they are.
    type: list
    elements: str
  purge_resource_arns:
    description: Remove from the share the resources that O(resource_arns) does not list.
    type: bool
    default: true
  principals:
    description:
      - Who the resources are shared with; AWS account IDs, or ARNs of an organization, organizational unit, IAM
        role or user.
      - When not set, the principals are left as they are.
    type: list
    elements: str
  purge_principals:
    description: Remove from the share the principals that O(principals) does not list.
    type: bool
    default: true
  allow_external_principals:
    description:
      - Whether the share may have principals outside the owner's AWS Organization.
      - AWS uses V(true) when a share is created without it; when not set an existing share keeps its value.
    type: bool
  wait:
    description:
      - Wait until the share is C(ACTIVE) and its associations have settled; after O(state=absent), until the
        share is C(DELETED).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
  wait_delay:
    description: Seconds between two status checks while waiting.
    type: float
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Share the private subnets with the database account
  ram_resource_share:
    name: app-a-subnets
    resource_arns:
      - arn:aws:ec2:eu-west-1:222222222222:subnet/subnet-0aaaaaaaaaaaaaaaa
      - arn:aws:ec2:eu-west-1:222222222222:subnet/subnet-0bbbbbbbbbbbbbbbb
    principals: ["111111111111"]
    allow_external_principals: false
    tags:
      Name: app-a-subnets
  register: share

- name: Add a principal without removing the others
  ram_resource_share:
    name: app-a-subnets
    principals: ["333333333333"]
    purge_principals: false

- name: Stop sharing
  ram_resource_share:
    name: app-a-subnets
    state: absent
"""

RETURN = r"""
resource_share_arn:
  description: ARN of the share.
  returned: when O(state=present), and with O(state=absent) when a share was deleted
  type: str
  sample: arn:aws:ram:eu-west-1:222222222222:resource-share/0a1b2c3d-4e5f-6789-abcd-ef0123456789
name:
  description: Name of the share.
  returned: when O(state=present)
  type: str
  sample: app-a-subnets
status:
  description: Status of the share.
  returned: when O(state=present)
  type: str
  sample: ACTIVE
owning_account_id:
  description: Account that owns the share.
  returned: when O(state=present)
  type: str
  sample: "222222222222"
allow_external_principals:
  description: Whether principals outside the organization are allowed.
  returned: when O(state=present)
  type: bool
  sample: false
resource_arns:
  description: Resources associated (or being associated) with the share.
  returned: when O(state=present)
  type: list
  elements: str
principals:
  description: Principals associated (or being associated) with the share.
  returned: when O(state=present)
  type: list
  elements: str
associations:
  description: The share's resource and principal associations, as C(GetResourceShareAssociations) reports them.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    associated_entity:
      description: The resource ARN or the principal.
      type: str
      sample: "111111111111"
    association_type:
      description: C(RESOURCE) or C(PRINCIPAL).
      type: str
      sample: PRINCIPAL
    status:
      description: Status of the association.
      type: str
      sample: ASSOCIATED
    external:
      description: Whether the principal is outside the owner's organization.
      type: bool
      sample: false
tags:
  description: Tags of the share.
  returned: when O(state=present)
  type: dict
  sample: {"Name": "app-a-subnets"}
"""

import contextlib
import re
import uuid

from ansible.module_utils.aws_waiters import check_wait_options, wait_for, wait_options
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

# Associations that count as part of the share.
CURRENT = ("ASSOCIATING", "ASSOCIATED")
GONE_SHARE = ("DELETING", "DELETED")


@AWSRetry.jittered_backoff(catch_extra_error_codes=["ThrottlingException"])
def _paginate(client, operation, key, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]


def find_share(module, client, name):
    try:
        shares = _paginate(client, "get_resource_shares", "resourceShares", resourceOwner="SELF", name=name)
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to look up resource share {name} (GetResourceShares)")
    shares = [s for s in shares if s["name"] == name and s["status"] not in GONE_SHARE]
    if len(shares) > 1:
        module.fail_json(
            msg=f"name: the account owns {len(shares)} resource shares named {name}: "
            f"{', '.join(s['resourceShareArn'] for s in shares)}"
        )
    return shares[0] if shares else None


def get_share(module, client, arn):
    try:
        shares = client.get_resource_shares(aws_retry=True, resourceOwner="SELF", resourceShareArns=[arn])
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe resource share {arn} (GetResourceShares)")
    return shares["resourceShares"][0] if shares["resourceShares"] else None


def get_associations(module, client, arn):
    associations = []
    for kind in ("RESOURCE", "PRINCIPAL"):
        try:
            associations += _paginate(
                client,
                "get_resource_share_associations",
                "resourceShareAssociations",
                associationType=kind,
                resourceShareArns=[arn],
            )
        except (ClientError, BotoCoreError) as e:
            module.fail_json_aws(
                e, msg=f"Failed to list the {kind} associations of {arn} (GetResourceShareAssociations)"
            )
    return associations


def associated(associations, kind):
    return sorted(
        {a["associatedEntity"] for a in associations if a["associationType"] == kind and a["status"] in CURRENT}
    )


def association_changes(params, associations):
    """(to associate, to disassociate), each a dict of resourceArns / principals."""
    add, remove = {}, {}
    for option, purge, key, kind in (
        ("resource_arns", "purge_resource_arns", "resourceArns", "RESOURCE"),
        ("principals", "purge_principals", "principals", "PRINCIPAL"),
    ):
        wanted = params[option]
        if wanted is None:
            continue
        current = set(associated(associations, kind))
        if set(wanted) - current:
            add[key] = sorted(set(wanted) - current)
        if params[purge] and current - set(wanted):
            remove[key] = sorted(current - set(wanted))
    return add, remove


def result_of(share, associations):
    if not share:
        return {}
    result = camel_dict_to_snake_dict({k: v for k, v in share.items() if k != "tags"})
    result["tags"] = boto3_tag_list_to_ansible_dict(share.get("tags", []), "key", "value")
    result["resource_arns"] = associated(associations, "RESOURCE")
    result["principals"] = associated(associations, "PRINCIPAL")
    result["associations"] = [camel_dict_to_snake_dict(a) for a in associations]
    return result


def _diff_view(result):
    keep = ("name", "allow_external_principals", "resource_arns", "principals", "tags", "resource_share_arn")
    return {k: v for k, v in result.items() if k in keep}


def predicted(params, before, add, remove, tags):
    after = dict(before) if before else {"name": params["name"], "resource_arns": [], "principals": []}
    if params["allow_external_principals"] is not None:
        after["allow_external_principals"] = params["allow_external_principals"]
    elif not before:
        after["allow_external_principals"] = True
    for option, key in (("resource_arns", "resourceArns"), ("principals", "principals")):
        after[option] = sorted((set(after[option]) - set(remove.get(key, []))) | set(add.get(key, [])))
    after["tags"] = tags
    return after


def tag_changes(params, current):
    if params["tags"] is None:
        return {}, [], current
    to_add, to_remove = compare_aws_tags(current, params["tags"], params["purge_tags"])
    after = {k: v for k, v in current.items() if k not in to_remove} | to_add
    return to_add, to_remove, after


# -- waiting ------------------------------------------------------------------
def _share_status(response):
    return ", ".join(s.get("status", "?") for s in response.get("resourceShares", [])) or "not found"


def _associations_status(response):
    items = [
        f"{a.get('associatedEntity')}: {a.get('status')}"
        + (f" ({a['statusMessage']})" if a.get("statusMessage") else "")
        for a in response.get("resourceShareAssociations", [])
        if a.get("status") not in ("ASSOCIATED", "DISASSOCIATED")
    ]
    return "; ".join(items) or "settled"


def wait_share(module, client, arn, waiter, what):
    name = module.params["name"]
    wait_for(
        module,
        client,
        waiter,
        f"resource share {name} {what}",
        _share_status,
        resourceOwner="SELF",
        resourceShareArns=[arn],
    )


def wait_settled(module, client, arn):
    wait_share(module, client, arn, "ResourceShareActive", "to be ACTIVE")
    for kind in ("RESOURCE", "PRINCIPAL"):
        wait_for(
            module,
            client,
            "ResourceShareAssociationsSettled",
            f"the {kind} associations of resource share {module.params['name']} to settle",
            _associations_status,
            associationType=kind,
            resourceShareArns=[arn],
        )


def settled(share, associations):
    """Whether the share is ACTIVE and none of its associations is still changing."""
    return share.get("status") == "ACTIVE" and all(
        a.get("status") in ("ASSOCIATED", "DISASSOCIATED") for a in associations
    )


# -- changing -----------------------------------------------------------------
def create_share(module, client):
    p = module.params
    params = {"name": p["name"], "clientToken": str(uuid.uuid4())}
    if p["resource_arns"]:
        params["resourceArns"] = p["resource_arns"]
    if p["principals"]:
        params["principals"] = p["principals"]
    if p["allow_external_principals"] is not None:
        params["allowExternalPrincipals"] = p["allow_external_principals"]
    if p["tags"]:
        params["tags"] = ansible_dict_to_boto3_tag_list(p["tags"], "key", "value")
    try:
        return client.create_resource_share(aws_retry=True, **params)["resourceShare"]
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to create resource share {p['name']} (CreateResourceShare)")


def call(module, method, operation, arn, **params):
    try:
        method(aws_retry=True, resourceShareArn=arn, **params)
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to change resource share {module.params['name']} ({operation})")


def ensure_absent(module, client):
    name = module.params["name"]
    share = find_share(module, client, name)
    if not share:
        module.exit_json(changed=False, diff={"before": {}, "after": {}})
    arn = share["resourceShareArn"]
    before = _diff_view(result_of(share, get_associations(module, client, arn)))
    if not module.check_mode:
        call(module, client.delete_resource_share, "DeleteResourceShare", arn)
        if module.params["wait"]:
            wait_share(module, client, arn, "ResourceShareDeleted", "to be deleted")
    module.exit_json(changed=True, resource_share_arn=arn, diff={"before": before, "after": {}})


def ensure_present(module, client):
    p = module.params
    share = find_share(module, client, p["name"])
    if share:
        associations = get_associations(module, client, share["resourceShareArn"])
        before = result_of(share, associations)
        add, remove = association_changes(p, associations)
        tags_to_add, tags_to_remove, after_tags = tag_changes(p, before["tags"])
        external = p["allow_external_principals"]
        update = external is not None and external != share.get("allowExternalPrincipals")
        changed = bool(add or remove or tags_to_add or tags_to_remove or update)
    else:
        before, associations = {}, []
        add, remove = association_changes(p, [])
        tags_to_add, tags_to_remove, after_tags = tag_changes(p, {})
        update, changed = False, True

    if module.check_mode:
        after = predicted(p, before, add, remove, after_tags)
        module.exit_json(changed=changed, **after, diff={"before": _diff_view(before), "after": _diff_view(after)})

    if share and not changed and settled(share, associations):
        # Nothing to change and nothing to wait for: what was read is the result.
        module.exit_json(changed=False, **before, diff={"before": _diff_view(before), "after": _diff_view(before)})

    if not share:
        share = create_share(module, client)
    else:
        arn = share["resourceShareArn"]
        if update:
            call(
                module,
                client.update_resource_share,
                "UpdateResourceShare",
                arn,
                allowExternalPrincipals=p["allow_external_principals"],
            )
        if remove:
            call(module, client.disassociate_resource_share, "DisassociateResourceShare", arn, **remove)
        if add:
            call(module, client.associate_resource_share, "AssociateResourceShare", arn, **add)
        if tags_to_remove:
            call(module, client.untag_resource, "UntagResource", arn, tagKeys=tags_to_remove)
        if tags_to_add:
            tags = ansible_dict_to_boto3_tag_list(tags_to_add, "key", "value")
            call(module, client.tag_resource, "TagResource", arn, tags=tags)

    arn = share["resourceShareArn"]
    if p["wait"]:
        wait_settled(module, client, arn)
    share = get_share(module, client, arn) or share
    after = result_of(share, get_associations(module, client, arn))
    module.exit_json(changed=changed, **after, diff={"before": _diff_view(before), "after": _diff_view(after)})


def validate_params(module):
    p = module.params
    check_wait_options(module)
    bad = [arn for arn in p["resource_arns"] or [] if not arn.startswith("arn:")]
    if bad:
        module.fail_json(msg=f"resource_arns must be ARNs: {', '.join(bad)}")
    bad = [x for x in p["principals"] or [] if not (re.fullmatch(r"\d{12}", x) or x.startswith("arn:"))]
    if bad:
        module.fail_json(msg=f"principals must be 12-digit AWS account IDs or ARNs: {', '.join(bad)}")


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        resource_arns=dict(type="list", elements="str"),
        purge_resource_arns=dict(type="bool", default=True),
        principals=dict(type="list", elements="str"),
        purge_principals=dict(type="bool", default=True),
        allow_external_principals=dict(type="bool"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        **wait_options(wait_timeout=300, wait_delay=5),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)

    client = module.client(
        "ram", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=["ThrottlingException"])
    )
    if module.params["state"] == "absent":
        ensure_absent(module, client)
    ensure_present(module, client)


if __name__ == "__main__":
    main()
