#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rds_proxy_endpoint
short_description: Manage an endpoint of an Amazon RDS Proxy
description:
  - Creates, modifies and deletes a user-defined endpoint of an RDS Proxy, in the proxy's VPC or in another one,
    including a VPC whose subnets are shared with the account through AWS RAM.
  - The endpoint, its proxy and its security groups belong to the account that runs the module.
  - Only the security groups and tags of an endpoint can be changed in place. When O(db_proxy_name),
    O(vpc_subnet_ids) or O(target_role) differ from those of an existing endpoint the module fails and names the
    option; delete the endpoint (O(state=absent)) and create it again to change them.
  - Subnets are described (EC2 C(DescribeSubnets)) before an endpoint is created, to check that they are in one
    VPC and span at least two Availability Zones. In check mode subnets that are not visible (yet, for example
    because an earlier task of the run shares them) only cause a warning.
  - The default endpoint of a proxy (named C(default)) belongs to the proxy and cannot be managed here.
options:
  name:
    description: Name of the endpoint; unique among the proxy endpoints of the account and Region.
    type: str
    required: true
    aliases: [db_proxy_endpoint_name]
  state:
    description: Whether the endpoint should exist.
    type: str
    choices: [present, absent]
    default: present
  db_proxy_name:
    description:
      - Name of the proxy the endpoint belongs to.
      - Required when O(state=present). Cannot be changed on an existing endpoint.
    type: str
  vpc_subnet_ids:
    description:
      - Subnets of the endpoint, in one VPC and at least two Availability Zones; they decide the endpoint's VPC.
      - Required when O(state=present). Cannot be changed on an existing endpoint.
    type: list
    elements: str
  vpc_security_group_ids:
    description:
      - Security groups of the endpoint, in the endpoint's VPC and owned by the account.
      - AWS uses the VPC's default security group when an endpoint is created without; when not set, an existing
        endpoint keeps its groups.
    type: list
    elements: str
  target_role:
    description:
      - C(READ_WRITE) sends connections to the writer, C(READ_ONLY) to the readers of the proxy's Aurora cluster.
      - Cannot be changed on an existing endpoint.
    type: str
    choices: [READ_WRITE, READ_ONLY]
    default: READ_WRITE
  wait:
    description:
      - Wait until the endpoint is C(available); after O(state=absent), until it is gone.
      - An endpoint that ends in C(incompatible-network) or C(insufficient-resource-limits) fails the task with
        that status.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 900
  wait_delay:
    description:
      - Seconds between two status checks while waiting. Creating an endpoint takes minutes on AWS; a shorter
        delay only makes sense against a local emulator.
    type: float
    default: 15
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read-only endpoint in subnets an application account shares with this account
  rds_proxy_endpoint:
    name: app-a-read-only
    db_proxy_name: app-proxy
    vpc_subnet_ids: [subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb, subnet-0cccccccccccccccc]
    vpc_security_group_ids: [sg-0123456789abcdef0]
    target_role: READ_ONLY
    tags:
      Name: app-a-read-only
  register: read_only

- name: Remove it
  rds_proxy_endpoint:
    name: app-a-read-only
    state: absent
"""

RETURN = r"""
db_proxy_endpoint_name:
  description: Name of the endpoint.
  returned: when O(state=present)
  type: str
  sample: app-a-read-only
db_proxy_endpoint_arn:
  description: ARN of the endpoint.
  returned: when O(state=present)
  type: str
  sample: arn:aws:rds:eu-west-1:111111111111:db-proxy-endpoint:prx-endpoint-0123456789abcdef0
db_proxy_name:
  description: Name of the endpoint's proxy.
  returned: when O(state=present)
  type: str
  sample: app-proxy
endpoint:
  description: DNS name of the endpoint, what clients connect to.
  returned: when O(state=present)
  type: str
  sample: app-a-read-only.endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com
status:
  description: Status of the endpoint (V(available) after a successful wait).
  returned: when O(state=present)
  type: str
  sample: available
vpc_id:
  description: VPC of the endpoint (of its subnets), possibly another account's shared VPC.
  returned: when O(state=present)
  type: str
  sample: vpc-0123456789abcdef0
vpc_subnet_ids:
  description: Subnets of the endpoint.
  returned: when O(state=present)
  type: list
  elements: str
vpc_security_group_ids:
  description: Security groups of the endpoint.
  returned: when O(state=present)
  type: list
  elements: str
target_role:
  description: Role of the endpoint.
  returned: when O(state=present)
  type: str
  sample: READ_ONLY
is_default:
  description: Whether this is the proxy's default endpoint (always V(false) for endpoints this module manages).
  returned: when O(state=present)
  type: bool
  sample: false
tags:
  description: Tags of the endpoint.
  returned: when O(state=present)
  type: dict
  sample: {"Name": "app-a-read-only"}
"""

from ansible.module_utils.aws_waiters import check_wait_options, wait_options
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.rds_proxy_common import DB_PROXY_ENDPOINT, require_two_availability_zones
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

DEFAULT_ENDPOINT = "default"


def immutable_differences(params, endpoint):
    problems = []
    if params["db_proxy_name"] != endpoint["DBProxyName"]:
        problems.append(f"db_proxy_name is {endpoint['DBProxyName']}, not {params['db_proxy_name']}")
    current_subnets = sorted(endpoint.get("VpcSubnetIds", []))
    wanted_subnets = sorted(params["vpc_subnet_ids"])
    if set(wanted_subnets) != set(current_subnets):
        problems.append(f"vpc_subnet_ids are {', '.join(current_subnets)}, not {', '.join(wanted_subnets)}")
    current_role = endpoint.get("TargetRole", "READ_WRITE")
    if params["target_role"] != current_role:
        problems.append(f"target_role is {current_role}, not {params['target_role']}")
    return problems


def security_groups_change(params, endpoint):
    wanted = params["vpc_security_group_ids"]
    if wanted is None or set(wanted) == set(endpoint.get("VpcSecurityGroupIds", [])):
        return None
    return wanted


def result_of(endpoint, tags):
    if not endpoint:
        return {}
    result = camel_dict_to_snake_dict(endpoint)
    result["tags"] = tags
    return result


def _diff_view(result):
    return {k: v for k, v in result.items() if k not in ("created_date", "status")}


def create_params(p):
    """The parameters of CreateDBProxyEndpoint but its name and tags."""
    params = {"DBProxyName": p["db_proxy_name"], "VpcSubnetIds": p["vpc_subnet_ids"], "TargetRole": p["target_role"]}
    if p["vpc_security_group_ids"] is not None:
        params["VpcSecurityGroupIds"] = p["vpc_security_group_ids"]
    return params


def predicted(params, before, groups, tags):
    if before:
        after = dict(before)
    else:
        after = {
            "db_proxy_endpoint_name": params["name"],
            "db_proxy_name": params["db_proxy_name"],
            "vpc_subnet_ids": params["vpc_subnet_ids"],
            "target_role": params["target_role"],
            "is_default": False,
        }
    if groups is not None:
        after["vpc_security_group_ids"] = groups
    after["tags"] = tags
    return after


def ensure_present(module, client, ec2):
    p = module.params
    name = p["name"]
    endpoint, tags = DB_PROXY_ENDPOINT.existing(module, client, immutable_differences)
    if endpoint:
        before = result_of(endpoint, tags)
        groups = security_groups_change(p, endpoint)
    else:
        require_two_availability_zones(module, ec2, p["vpc_subnet_ids"])
        before, groups = {}, p["vpc_security_group_ids"]

    modify = None if groups is None else {"VpcSecurityGroupIds": groups}
    changed, endpoint, tags = DB_PROXY_ENDPOINT.create_or_modify(
        module, client, endpoint, tags, create_params(p), modify
    )
    if p["wait"] and not module.check_mode:
        DB_PROXY_ENDPOINT.wait_until(module, client, name, "available")
        endpoint = DB_PROXY_ENDPOINT.describe(module, client, name) or endpoint
    after = predicted(p, before, groups, tags) if module.check_mode else result_of(endpoint, tags)
    module.exit_json(changed=changed, **after, diff={"before": _diff_view(before), "after": _diff_view(after)})


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["db_proxy_endpoint_name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        db_proxy_name=dict(type="str"),
        vpc_subnet_ids=dict(type="list", elements="str"),
        vpc_security_group_ids=dict(type="list", elements="str"),
        target_role=dict(type="str", choices=["READ_WRITE", "READ_ONLY"], default="READ_WRITE"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        **wait_options(wait_timeout=900, wait_delay=15),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["db_proxy_name", "vpc_subnet_ids"])],
        supports_check_mode=True,
    )
    if module.params["name"].lower() == DEFAULT_ENDPOINT:
        module.fail_json(msg="name: the default endpoint belongs to its proxy and cannot be managed as an endpoint")
    if module.params["state"] == "present":
        # required_if accepts an option given as null; these cannot be.
        for option in ("db_proxy_name", "vpc_subnet_ids"):
            if not module.params[option]:
                module.fail_json(msg=f"{option} is required when state is present")
    check_wait_options(module)

    retry = AWSRetry.jittered_backoff(catch_extra_error_codes=["ThrottlingException"])
    client = module.client("rds", retry_decorator=retry)
    if module.params["state"] == "absent":
        DB_PROXY_ENDPOINT.ensure_absent(module, client, lambda endpoint, tags: _diff_view(result_of(endpoint, tags)))
    ensure_present(module, client, module.client("ec2", retry_decorator=retry))


if __name__ == "__main__":
    main()
