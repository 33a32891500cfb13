#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: aws_organization_info
short_description: Describe the AWS Organization the caller's account belongs to
description:
  - Returns the organization of the account whose credentials the module uses (C(organizations:DescribeOrganization)),
    or C(organization=null) when the account is in none.
  - Any account of an organization may call it, not only the management account.
options: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find the organization of each account
  aws_organization_info:
  register: org

- name: Check that there is one
  ansible.builtin.assert:
    that: org.organization is not none
"""

RETURN = r"""
organization:
  description: The organization, in snake case; null when the account belongs to none.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the organization.
      type: str
      sample: o-exampleorgid
    arn:
      description: ARN of the organization.
      type: str
      sample: arn:aws:organizations::100000000000:organization/o-exampleorgid
    master_account_id:
      description: The management account.
      type: str
      sample: "100000000000"
    feature_set:
      description: C(ALL) or C(CONSOLIDATED_BILLING); VPC sharing needs C(ALL).
      type: str
      sample: ALL
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def main():
    module = AnsibleAWSModule(argument_spec={}, supports_check_mode=True)
    client = module.client("organizations", retry_decorator=AWSRetry.jittered_backoff())
    try:
        organization = client.describe_organization(aws_retry=True)["Organization"]
    except is_boto3_error_code("AWSOrganizationsNotInUseException"):
        module.exit_json(changed=False, organization=None)
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg="Failed to describe the organization (DescribeOrganization)")
    module.exit_json(changed=False, organization=camel_dict_to_snake_dict(organization))


if __name__ == "__main__":
    main()
