#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: aws_account_info
short_description: Describe who the credentials are and the AWS Organization of their account
description:
  - Returns the account and ARN of the credentials the module uses (C(sts:GetCallerIdentity)), and the organization
    of that account (C(organizations:DescribeOrganization)), or C(organization=null) when the account is in none.
  - Two reads. Any account of an organization may call it, not only the management account.
  - When the credentials are those of the organization's management account, a third read
    (C(organizations:ListAWSServiceAccessForOrganization)) returns the services with trusted access in the
    organization (RV(trusted_services)); C(ram.amazonaws.com) among them means that resource sharing with AWS
    Organizations is enabled. Other accounts may not read that (AWS answers C(AccessDeniedException)).
  - Unlike M(amazon.aws.aws_caller_info), it does not list the account's aliases.
options: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find the account and the organization of each host's credentials
  aws_account_info:
  register: caller

- name: Check that they reach the expected account, in an organization
  ansible.builtin.assert:
    that:
      - caller.account == "123456789012"
      - caller.organization is not none
"""

RETURN = r"""
account:
  description: ID of the account the credentials belong to.
  returned: always
  type: str
  sample: "123456789012"
arn:
  description: ARN of the caller.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:user/deployer
user_id:
  description: Unique ID of the caller.
  returned: always
  type: str
  sample: AIDAEXAMPLEUSERID0001
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
trusted_services:
  description:
    - Service principals with trusted access in the organization, when the credentials are the management
      account's; null otherwise (the module cannot know).
  returned: always
  type: list
  elements: str
  sample: [ram.amazonaws.com]
"""

import contextlib

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import (
    is_boto3_error_code,
    paginated_query_with_retries,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError


def main():
    module = AnsibleAWSModule(argument_spec={}, supports_check_mode=True)
    retry = AWSRetry.jittered_backoff()
    try:
        caller = module.client("sts", retry_decorator=retry).get_caller_identity(aws_retry=True)
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg="Failed to find who the credentials are (GetCallerIdentity)")
    identity = {"account": caller["Account"], "arn": caller["Arn"], "user_id": caller["UserId"]}
    client = module.client("organizations", retry_decorator=retry)
    try:
        organization = camel_dict_to_snake_dict(client.describe_organization(aws_retry=True)["Organization"])
    except is_boto3_error_code("AWSOrganizationsNotInUseException"):
        organization = None
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(
            e, msg=f"Failed to describe the organization of account {identity['account']} (DescribeOrganization)"
        )
    trusted_services = None
    if organization and organization.get("master_account_id") == identity["account"]:
        try:
            enabled = paginated_query_with_retries(client, "list_aws_service_access_for_organization")[
                "EnabledServicePrincipals"
            ]
        except (ClientError, BotoCoreError) as e:
            module.fail_json_aws(
                e,
                msg="Failed to list the services with trusted access in the organization "
                "(ListAWSServiceAccessForOrganization)",
            )
        trusted_services = sorted(service["ServicePrincipal"] for service in enabled)
    module.exit_json(changed=False, organization=organization, trusted_services=trusted_services, **identity)


if __name__ == "__main__":
    main()
