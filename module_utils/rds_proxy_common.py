# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pieces shared by the rds_proxy and rds_proxy_endpoint modules: the
two-Availability-Zone check of subnets and the tags of an RDS resource."""

import contextlib

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError


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
