#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rds_proxy_info
short_description: Describe Amazon RDS Proxies, their targets and their endpoints
description:
  - Returns the RDS Proxies of the account (or one by name), each with the targets of its default target group and
    its endpoints, including endpoints in other VPCs.
options:
  name:
    description: Name of one proxy. Without it, every proxy of the account and Region is returned.
    type: str
    aliases: [db_proxy_name]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe one proxy
  rds_proxy_info:
    name: xacct-proxy
  register: proxy_info

- name: Check that its endpoints are available
  ansible.builtin.assert:
    that: proxy_info.proxies[0].endpoints | rejectattr('status', 'equalto', 'available') | list | length == 0
"""

RETURN = r"""
proxies:
  description: The proxies, in snake case; an empty list when the named proxy does not exist.
  returned: always
  type: list
  elements: dict
  contains:
    db_proxy_name:
      description: Name of the proxy.
      type: str
      sample: xacct-proxy
    db_proxy_arn:
      description: ARN of the proxy.
      type: str
      sample: arn:aws:rds:eu-west-1:111111111111:db-proxy:prx-0123456789abcdef0
    resource_id:
      description: The last part of the ARN, used in C(rds-db:connect) resource ARNs.
      type: str
      sample: prx-0123456789abcdef0
    status:
      description: Status of the proxy.
      type: str
      sample: available
    require_tls:
      description: Whether clients must use TLS.
      type: bool
      sample: true
    auth:
      description: Authentication entries of the proxy.
      type: list
      elements: dict
    targets:
      description: Targets of the default target group, with C(target_health).
      type: list
      elements: dict
    endpoints:
      description: Endpoints of the proxy (the default one included), with C(vpc_id), C(vpc_subnet_ids),
        C(vpc_security_group_ids), C(target_role), C(endpoint) and C(status).
      type: list
      elements: dict
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _all(client, operation, key, **params):
    items = []
    while True:
        page = getattr(client, operation)(aws_retry=True, **params)
        items.extend(page.get(key, []))
        if not page.get("Marker"):
            return items
        params["Marker"] = page["Marker"]


def describe(module, client):
    name = module.params["name"]
    try:
        proxies = _all(client, "describe_db_proxies", "DBProxies", **({"DBProxyName": name} if name else {}))
    except is_boto3_error_code("DBProxyNotFoundFault"):
        return []
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg="Failed to describe RDS Proxies (DescribeDBProxies)")
    result = []
    for proxy in proxies:
        proxy_name = proxy["DBProxyName"]
        try:
            targets = _all(client, "describe_db_proxy_targets", "Targets", DBProxyName=proxy_name)
            endpoints = _all(client, "describe_db_proxy_endpoints", "DBProxyEndpoints", DBProxyName=proxy_name)
        except Exception as e:  # pylint: disable=broad-except
            module.fail_json_aws(e, msg=f"Failed to describe the targets and endpoints of proxy {proxy_name}")
        entry = camel_dict_to_snake_dict(proxy)
        entry["resource_id"] = proxy["DBProxyArn"].split(":")[-1]
        entry["targets"] = [camel_dict_to_snake_dict(t) for t in targets]
        entry["endpoints"] = [camel_dict_to_snake_dict(e) for e in endpoints]
        result.append(entry)
    return result


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(name=dict(type="str", aliases=["db_proxy_name"])),
        supports_check_mode=True,
    )
    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(changed=False, proxies=describe(module, client))


if __name__ == "__main__":
    main()
