# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pieces shared by the rds_proxy and rds_proxy_endpoint modules: the
reads, changes and waits of a DB proxy or a DB proxy endpoint found by its
name, the two-Availability-Zone check of subnets and the tags of an RDS resource."""

import contextlib

from ansible.module_utils.aws_waiters import wait_for
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore import xform_name
    from botocore.exceptions import BotoCoreError, ClientError


class ResourceKind:
    """A DB proxy or a DB proxy endpoint, and what rds_proxy and rds_proxy_endpoint do alike with one.

    RDS names the calls, fields and errors of each after one stem: CreateDBProxy, ModifyDBProxy, DeleteDBProxy
    (each returning DBProxy), DescribeDBProxies, DBProxyName, DBProxyArn, DBProxyNotFoundFault; aws_waiters names
    its waiters so too: DBProxyAvailable, DBProxyDeleted.
    """

    def __init__(self, noun, stem, plural):
        self.noun = noun  # in messages
        self.stem = stem
        self.plural = plural  # Describe<plural>, and the list it returns
        self.name_key = f"{stem}Name"
        self.arn_key = f"{stem}Arn"
        self.not_found = f"{stem}NotFoundFault"

    def _request(self, module, client, verb, name, missing_ok=False, **params):
        """Call <verb><stem> (Describe<plural> for ``verb`` Describe) for the resource ``name`` with ``params`` and
        return the response. Fails naming the call; with ``missing_ok``, a resource that does not exist is None."""
        operation = f"Describe{self.plural}" if verb == "Describe" else f"{verb}{self.stem}"
        message = f"Failed to {verb.lower()} {self.noun} {name} ({operation})"
        try:
            return getattr(client, xform_name(operation))(aws_retry=True, **{self.name_key: name}, **params)
        except is_boto3_error_code(self.not_found) as e:
            if not missing_ok:
                module.fail_json_aws(e, msg=message)
        except (ClientError, BotoCoreError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=message)
        return None

    def describe(self, module, client, name):
        """The resource ``name``, or None when there is none."""
        found = (self._request(module, client, "Describe", name, missing_ok=True) or {}).get(self.plural)
        return found[0] if found else None

    def _statuses(self, response):
        return ", ".join(item.get("Status", "?") for item in response.get(self.plural, [])) or "not found"

    def wait_until(self, module, client, name, state):
        """Wait until the resource ``name`` is ``state``: "available" or "deleted"."""
        waiter = f"{self.stem}{state.capitalize()}"
        wait_for(module, client, waiter, f"{self.noun} {name} to be {state}", self._statuses, **{self.name_key: name})

    def ensure_absent(self, module, client, before_of):
        """Delete the resource that the name option names unless it is gone or going, wait until it is gone when the
        wait option says so, and exit. ``before_of(resource, tags)`` is what the diff shows of it."""
        name = module.params["name"]
        resource = self.describe(module, client, name)
        if not resource:
            module.exit_json(changed=False, diff={"before": {}, "after": {}})
        before = before_of(resource, get_rds_tags(module, client, resource[self.arn_key]))
        changed = resource.get("Status") != "deleting"
        if not module.check_mode:
            if changed:
                self._request(module, client, "Delete", name, missing_ok=True)
            if module.params["wait"]:
                self.wait_until(module, client, name, "deleted")
        module.exit_json(changed=changed, diff={"before": before, "after": {}})

    def existing(self, module, client, immutable_differences):
        """The resource that the name option names and its tags, to change in place: (None, {}) when there is none,
        or when it is being deleted (then waited for, but in check mode), to make anew.

        Fails when ``immutable_differences(params, resource)`` names options that cannot be changed in place.
        """
        name = module.params["name"]
        resource = self.describe(module, client, name)
        if resource and resource.get("Status") == "deleting":
            if not module.check_mode:
                self.wait_until(module, client, name, "deleted")
            resource = None
        if not resource:
            return None, {}
        problems = immutable_differences(module.params, resource)
        if problems:
            module.fail_json(
                msg=f"{self.noun} {name} cannot be changed in place: {'; '.join(problems)}. "
                "Delete it (state=absent) and create it again to change these options."
            )
        return resource, get_rds_tags(module, client, resource[self.arn_key])

    def create_or_modify(self, module, client, resource, tags, create, modify):
        """Create the resource that the name option names when ``resource`` is None (Create<stem> with the parameters
        ``create`` and the tags option), or else modify it unless ``modify`` is None (Modify<stem> with those
        parameters); then bring its tags to the options.

        Returns (changed, resource, tags) after the calls; in check mode, which makes none, whether it would change
        and the tags it would have.
        """
        p = module.params
        changed = not resource or modify is not None
        if not module.check_mode:
            if not resource:
                resource = self._request(module, client, "Create", p["name"], **create, **tags_for_create(p["tags"]))
                resource, tags = resource[self.stem], dict(p["tags"] or {})
            elif modify is not None:
                if resource.get("Status") != "available":
                    # ModifyDBProxy and ModifyDBProxyEndpoint are refused while it is being created or modified.
                    self.wait_until(module, client, p["name"], "available")
                resource = self._request(module, client, "Modify", p["name"], **modify)[self.stem]
        arn = resource[self.arn_key] if resource else None
        tags_changed, tags = ensure_rds_tags(module, client, arn, tags, p["tags"], p["purge_tags"])
        return changed or tags_changed, resource, tags


DB_PROXY = ResourceKind("DB proxy", "DBProxy", "DBProxies")
DB_PROXY_ENDPOINT = ResourceKind("DB proxy endpoint", "DBProxyEndpoint", "DBProxyEndpoints")


def require_two_availability_zones(module, ec2, subnet_ids, option="vpc_subnet_ids"):
    """Fail unless ``subnet_ids`` exist and span at least two Availability Zones.

    CreateDBProxy (and CreateDBProxyEndpoint) need subnets in two zones; the
    zones are only known by describing the subnets, a read made before any
    change.  Subnets shared with the account through AWS RAM are visible here too.
    In check mode a subnet that is not visible is only warned about.
    """
    try:
        subnets = ec2.describe_subnets(aws_retry=True, SubnetIds=list(subnet_ids))["Subnets"]
    except is_boto3_error_code("InvalidSubnetID.NotFound") as e:
        if module.check_mode:
            # A dry run of a whole deployment reaches this before the task that
            # creates or shares the subnets has run: predict, do not fail.
            module.warn(f"{option}: a subnet is not visible to this account (yet): {e}")
            return []
        module.fail_json_aws(e, msg=f"{option}: a subnet does not exist or is not visible to this account")
    except (ClientError, BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe the subnets of {option} (DescribeSubnets)")
    zones = sorted({subnet["AvailabilityZone"] for subnet in subnets})
    if len(zones) < 2:
        module.fail_json(
            msg=f"{option} must name subnets in at least two Availability Zones; "
            f"{', '.join(sorted(subnet_ids))} are all in {', '.join(zones) or 'no zone'}",
        )
    vpcs = sorted({subnet["VpcId"] for subnet in subnets})
    if len(vpcs) > 1:
        module.fail_json(msg=f"{option} must name subnets of one VPC; they are in {', '.join(vpcs)}")
    return subnets


def get_rds_tags(module, client, arn):
    try:
        tags = client.list_tags_for_resource(aws_retry=True, ResourceName=arn)["TagList"]
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to list the tags of {arn} (ListTagsForResource)")
    return boto3_tag_list_to_ansible_dict(tags)


def ensure_rds_tags(module, client, arn, current_tags, tags, purge_tags):
    """Bring the tags of ``arn`` to ``tags``; return (changed, tags after)."""
    if tags is None:
        return False, current_tags
    to_add, to_remove = compare_aws_tags(current_tags, tags, purge_tags)
    if not (to_add or to_remove):
        return False, current_tags
    after = {k: v for k, v in current_tags.items() if k not in to_remove}
    after.update(to_add)
    if module.check_mode:
        return True, after
    if to_remove:
        try:
            client.remove_tags_from_resource(aws_retry=True, ResourceName=arn, TagKeys=to_remove)
        except (ClientError, BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to remove tags from {arn} (RemoveTagsFromResource)")
    if to_add:
        try:
            client.add_tags_to_resource(aws_retry=True, ResourceName=arn, Tags=ansible_dict_to_boto3_tag_list(to_add))
        except (ClientError, BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to add tags to {arn} (AddTagsToResource)")
    return True, after


def tags_for_create(tags):
    """Tags for a Create call: the ``Tags`` list, or nothing."""
    return {"Tags": ansible_dict_to_boto3_tag_list(tags)} if tags else {}
