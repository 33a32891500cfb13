#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ec2_vpc_flow_log
short_description: Manage a flow log of a VPC that delivers to CloudWatch Logs
description:
  - Creates or deletes the flow log of a VPC, subnet or network interface that delivers to a CloudWatch Logs
    log group.
  - A flow log is identified by its resource and its log group. AWS cannot change a flow log in place; when the
    traffic type, the delivery role or the aggregation interval differ, the flow log is replaced.
  - AWS accepts a flow log whose role cannot deliver (C(DeliverLogsStatus) C(FAILED), "Access error"), for
    example a role created seconds ago that IAM has not propagated yet. With O(wait=true) the module waits until
    the flow log delivers, and fails after O(wait_timeout) naming what the role needs.
options:
  resource_id:
    description: ID of the VPC, subnet or network interface whose traffic is logged.
    type: str
    required: true
  resource_type:
    description: Type of O(resource_id).
    type: str
    choices: [VPC, Subnet, NetworkInterface]
    default: VPC
  traffic_type:
    description: Which traffic is logged.
    type: str
    choices: [ACCEPT, REJECT, ALL]
    default: ALL
  log_group_name:
    description: Name of the CloudWatch Logs log group that receives the records.
    type: str
    required: true
  deliver_logs_permission_arn:
    description:
      - ARN of the IAM role that VPC Flow Logs assumes to write to the log group.
      - Required when O(state=present).
    type: str
  max_aggregation_interval:
    description: Seconds over which packets are aggregated into one record.
    type: int
    choices: [60, 600]
    default: 600
  state:
    description: Whether the flow log should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description: Wait until the flow log delivers (C(DeliverLogsStatus) C(SUCCESS)).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the flow log to deliver.
    type: int
    default: 300
  wait_delay:
    description: Seconds between two checks while waiting.
    type: float
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log all traffic of a VPC to CloudWatch Logs
  ec2_vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /vpc/flow-logs/app
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/app-flow-logs
    tags:
      Name: app-flow-logs

- name: Remove it
  ec2_vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /vpc/flow-logs/app
    state: absent
"""

RETURN = r"""
flow_log:
  description: The flow log, as EC2 DescribeFlowLogs returns it, in snake case; tags as a dict.
  returned: when O(state=present)
  type: dict
  contains:
    flow_log_id:
      description: ID of the flow log.
      type: str
      sample: fl-0123456789abcdef0
    resource_id:
      description: The logged resource.
      type: str
      sample: vpc-0123456789abcdef0
    log_group_name:
      description: The receiving log group.
      type: str
      sample: /vpc/flow-logs/app
    traffic_type:
      description: Which traffic is logged.
      type: str
      sample: ALL
    tags:
      description: Tags of the flow log.
      type: dict
      sample: {"Name": "app-flow-logs"}
"""

from ansible.module_utils.aws_waiters import wait_for, wait_options
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import ensure_ec2_tags
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)


def find_flow_log(module, client):
    filters = [
        {"Name": "resource-id", "Values": [module.params["resource_id"]]},
        {"Name": "log-group-name", "Values": [module.params["log_group_name"]]},
    ]
    try:
        logs = client.describe_flow_logs(aws_retry=True, Filters=filters)["FlowLogs"]
    except is_boto3_error_code("InvalidVpcID.NotFound"):
        return None
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg="Failed to describe flow logs (DescribeFlowLogs)")
    return logs[0] if logs else None


def needs_replacement(module, current):
    wanted = {
        "TrafficType": module.params["traffic_type"],
        "DeliverLogsPermissionArn": module.params["deliver_logs_permission_arn"],
        "MaxAggregationInterval": module.params["max_aggregation_interval"],
    }
    return any(current.get(key) != value for key, value in wanted.items())


def create(module, client):
    params = {
        "ResourceIds": [module.params["resource_id"]],
        "ResourceType": module.params["resource_type"],
        "TrafficType": module.params["traffic_type"],
        "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": module.params["log_group_name"],
        "DeliverLogsPermissionArn": module.params["deliver_logs_permission_arn"],
        "MaxAggregationInterval": module.params["max_aggregation_interval"],
    }
    if module.params["tags"]:
        params["TagSpecifications"] = [
            {"ResourceType": "vpc-flow-log", "Tags": ansible_dict_to_boto3_tag_list(module.params["tags"])}
        ]
    try:
        result = client.create_flow_logs(aws_retry=True, **params)
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg="Failed to create the flow log (CreateFlowLogs)")
    if result.get("Unsuccessful"):
        error = result["Unsuccessful"][0].get("Error", {})
        module.fail_json(msg=f"CreateFlowLogs failed: {error.get('Code')}: {error.get('Message')}")


def _delivery_status(response):
    return (
        ", ".join(
            f"{f.get('DeliverLogsStatus')}"
            + (f" ({f['DeliverLogsErrorMessage']})" if f.get("DeliverLogsErrorMessage") else "")
            for f in response.get("FlowLogs", [])
        )
        or "not found"
    )


def wait_delivering(module, client, flow_log):
    """Wait until the flow log delivers: AWS reports "Access error" while its role cannot be used, for example
    until IAM has propagated a new role (VPC User Guide, "Troubleshoot VPC Flow Logs")."""
    wait_for(
        module,
        client,
        "FlowLogDelivering",
        f"the flow log {flow_log['FlowLogId']} to deliver to the log group {module.params['log_group_name']} "
        f"(its role {module.params['deliver_logs_permission_arn']} must trust vpc-flow-logs.amazonaws.com and allow "
        "logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogGroups and logs:DescribeLogStreams)",
        _delivery_status,
        FlowLogIds=[flow_log["FlowLogId"]],
    )


def delete(module, client, flow_log_id):
    try:
        client.delete_flow_logs(aws_retry=True, FlowLogIds=[flow_log_id])
    except Exception as e:  # pylint: disable=broad-except
        module.fail_json_aws(e, msg="Failed to delete the flow log (DeleteFlowLogs)")


def describe(flow_log):
    if not flow_log:
        return {}
    tags = boto3_tag_list_to_ansible_dict(flow_log.get("Tags", []))
    result = camel_dict_to_snake_dict(flow_log)
    result["tags"] = tags
    return result


def main():
    argument_spec = dict(
        resource_id=dict(type="str", required=True),
        resource_type=dict(type="str", choices=["VPC", "Subnet", "NetworkInterface"], default="VPC"),
        traffic_type=dict(type="str", choices=["ACCEPT", "REJECT", "ALL"], default="ALL"),
        log_group_name=dict(type="str", required=True),
        deliver_logs_permission_arn=dict(type="str"),
        max_aggregation_interval=dict(type="int", choices=[60, 600], default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        **wait_options(wait_timeout=300, wait_delay=5),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["deliver_logs_permission_arn"])],
        supports_check_mode=True,
    )
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    current = find_flow_log(module, client)
    before = describe(current)

    if module.params["state"] == "absent":
        if current and not module.check_mode:
            delete(module, client, current["FlowLogId"])
        module.exit_json(changed=bool(current), diff={"before": before, "after": {}})

    changed = False
    if current and needs_replacement(module, current):
        if not module.check_mode:
            delete(module, client, current["FlowLogId"])
        current = None
        changed = True
    if not current:
        changed = True
        if module.check_mode:
            module.exit_json(
                changed=True,
                flow_log={},
                diff={"before": before, "after": {"log_group_name": module.params["log_group_name"]}},
            )
        create(module, client)
        current = find_flow_log(module, client)
    elif module.params["tags"] is not None:
        changed |= ensure_ec2_tags(
            client, module, current["FlowLogId"], tags=module.params["tags"], purge_tags=module.params["purge_tags"]
        )
        if changed and not module.check_mode:
            current = find_flow_log(module, client)

    if module.params["wait"] and current and current.get("DeliverLogsStatus") != "SUCCESS" and not module.check_mode:
        wait_delivering(module, client, current)
        current = find_flow_log(module, client)
    after = describe(current)
    module.exit_json(changed=changed, flow_log=after, diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
