"""What services write to CloudWatch Logs on their own: Aurora's log exports and VPC flow logs."""

from __future__ import annotations

import json

ACCOUNT, REGION = "111111111111", "eu-west-1"
GROUP = "/vpc/app/flow-logs"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"},
            },
        }
    ],
}
WRITE = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
    "Resource": [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:log-stream:*",
    ],
}
DESCRIBE_GROUPS = {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"}


def test_a_cluster_exporting_its_log_creates_a_log_group_that_outlives_it(aws):
    rds, logs = aws.client("rds"), aws.client("logs")
    rds.create_db_cluster(
        DBClusterIdentifier="exporting", Engine="aurora-postgresql", MasterUsername="postgres",
        MasterUserPassword="not-a-real-password", EnableCloudwatchLogsExports=["postgresql"],
    )  # fmt: skip
    rds.create_db_cluster(
        DBClusterIdentifier="silent", Engine="aurora-postgresql", MasterUsername="postgres",
        MasterUserPassword="not-a-real-password",
    )  # fmt: skip
    names = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/rds/")["logGroups"]]
    assert names == ["/aws/rds/cluster/exporting/postgresql"]
    rds.delete_db_cluster(DBClusterIdentifier="exporting", SkipFinalSnapshot=True)
    names = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/rds/")["logGroups"]]
    assert names == ["/aws/rds/cluster/exporting/postgresql"]


def _flow_log_status(aws, statements) -> tuple[str, str | None]:
    iam, ec2, logs = aws.client("iam"), aws.client("ec2"), aws.client("logs")
    role = iam.create_role(RoleName=f"flow-logs-{len(statements)}", AssumeRolePolicyDocument=json.dumps(TRUST))
    if statements:
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=role["Role"]["RoleName"], PolicyName="write", PolicyDocument=json.dumps(policy))
    if GROUP not in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]:
        logs.create_log_group(logGroupName=GROUP)
    vpc = ec2.create_vpc(CidrBlock="10.4.0.0/24")["Vpc"]["VpcId"]
    (flow_log_id,) = ec2.create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogGroupName=GROUP,
        DeliverLogsPermissionArn=role["Role"]["Arn"],
    )["FlowLogIds"]  # fmt: skip
    (flow_log,) = ec2.describe_flow_logs(FlowLogIds=[flow_log_id])["FlowLogs"]
    return flow_log["DeliverLogsStatus"], flow_log.get("DeliverLogsErrorMessage")


def test_flow_logs_deliver_with_the_documented_role(aws):
    assert _flow_log_status(aws, [WRITE, DESCRIBE_GROUPS]) == ("SUCCESS", None)


def test_flow_logs_fail_to_deliver_without_describe_log_groups(aws):
    assert _flow_log_status(aws, [WRITE]) == ("FAILED", "Access error")


def test_flow_logs_fail_to_deliver_with_a_role_without_permissions(aws):
    assert _flow_log_status(aws, []) == ("FAILED", "Access error")


def test_flow_logs_fail_to_deliver_until_their_role_has_propagated(aws):
    aws.control.configure(hold=["iam_role_propagation"])
    assert _flow_log_status(aws, [WRITE, DESCRIBE_GROUPS]) == ("FAILED", "Access error")
    aws.control.configure(hold=[])
    (flow_log,) = aws.client("ec2").describe_flow_logs()["FlowLogs"]
    assert (flow_log["DeliverLogsStatus"], flow_log.get("DeliverLogsErrorMessage")) == ("SUCCESS", None)
