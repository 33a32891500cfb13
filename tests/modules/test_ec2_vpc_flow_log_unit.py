"""ec2_vpc_flow_log with its EC2 calls answered by a botocore Stubber: a flow log that AWS accepts but that cannot
deliver yet (its new role has not propagated through IAM) is waited for."""

from __future__ import annotations

from .stubbed import load_module, run

ec2_vpc_flow_log = load_module("ec2_vpc_flow_log")

VPC = "vpc-0123456789abcdef0"
GROUP = "/vpc/app/flow-logs"
ROLE = "arn:aws:iam::222222222222:role/app-flow-logs"
FLOW_LOG = "fl-0123456789abcdef0"
ARGS = {"resource_id": VPC, "log_group_name": GROUP, "deliver_logs_permission_arn": ROLE, "wait_delay": 0.01}
FILTERS = {"Filters": [{"Name": "resource-id", "Values": [VPC]}, {"Name": "log-group-name", "Values": [GROUP]}]}


def flow_log(status: str) -> dict:
    entry = {
        "FlowLogId": FLOW_LOG,
        "ResourceId": VPC,
        "LogGroupName": GROUP,
        "TrafficType": "ALL",
        "DeliverLogsPermissionArn": ROLE,
        "MaxAggregationInterval": 600,
        "DeliverLogsStatus": status,
    }
    if status == "FAILED":
        entry["DeliverLogsErrorMessage"] = "Access error"
    return entry


def created(stubs, first_status: str) -> None:
    stubs.add("ec2", "describe_flow_logs", {"FlowLogs": []}, FILTERS)
    stubs.add("ec2", "create_flow_logs", {"FlowLogIds": [FLOW_LOG], "Unsuccessful": []})
    stubs.add("ec2", "describe_flow_logs", {"FlowLogs": [flow_log(first_status)]}, FILTERS)


def test_a_flow_log_that_cannot_deliver_yet_is_waited_for(stubs):
    created(stubs, "FAILED")
    waited = {"FlowLogIds": [FLOW_LOG]}
    stubs.add("ec2", "describe_flow_logs", {"FlowLogs": [flow_log("FAILED")]}, waited)
    stubs.add("ec2", "describe_flow_logs", {"FlowLogs": [flow_log("SUCCESS")]}, waited)
    stubs.add("ec2", "describe_flow_logs", {"FlowLogs": [flow_log("SUCCESS")]}, FILTERS)
    outcome = run(ec2_vpc_flow_log, ARGS, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["changed"] is True
    assert outcome.result["flow_log"]["deliver_logs_status"] == "SUCCESS"
    assert stubs.pending() == {}


def test_a_flow_log_that_never_delivers_fails_naming_what_its_role_needs(stubs):
    created(stubs, "FAILED")
    for _ in range(3):  # wait_timeout 1 s at one check every 0.5 s
        stubs.add("ec2", "describe_flow_logs", {"FlowLogs": [flow_log("FAILED")]}, {"FlowLogIds": [FLOW_LOG]})
    outcome = run(ec2_vpc_flow_log, {**ARGS, "wait_timeout": 1, "wait_delay": 0.5}, stubs)
    assert outcome.failed
    message = outcome.result["msg"]
    assert message.startswith("Timed out after 1 seconds waiting for the flow log fl-0123456789abcdef0 to deliver")
    assert "logs:DescribeLogGroups" in message and "vpc-flow-logs.amazonaws.com" in message
    assert "last status: FAILED (Access error)" in message
    assert stubs.pending() == {}


def test_without_wait_the_flow_log_is_returned_as_it_is(stubs):
    created(stubs, "FAILED")
    outcome = run(ec2_vpc_flow_log, {**ARGS, "wait": False}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["flow_log"]["deliver_logs_status"] == "FAILED"
    assert stubs.pending() == {}
