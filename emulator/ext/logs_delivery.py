"""What AWS services write to CloudWatch Logs on their own, and whether they can.

- **Aurora log exports**: a cluster with ``EnableCloudwatchLogsExports``
  (``postgresql``) publishes to the log group
  ``/aws/rds/cluster/<cluster-identifier>/postgresql``, which RDS creates;
  deleting the cluster does not delete it ("Publishing Aurora PostgreSQL logs
  to Amazon CloudWatch Logs", Aurora User Guide: "Aurora ... creates a new log
  group ... /aws/rds/cluster/cluster-name/log_type"; the log data is kept
  after the cluster is deleted).  The emulator creates the group when the
  cluster is created (or modified) with the export on.
- **VPC flow logs to CloudWatch Logs**: the delivery role must trust
  ``vpc-flow-logs.amazonaws.com`` and allow what AWS's documented policy
  allows on the log group: ``logs:CreateLogStream``, ``logs:PutLogEvents``,
  ``logs:DescribeLogGroups`` and ``logs:DescribeLogStreams`` (and
  ``logs:CreateLogGroup`` when the group does not exist) (VPC User Guide,
  "IAM role for publishing flow logs to CloudWatch Logs").  Otherwise
  CreateFlowLogs succeeds but the flow log reports ``DeliverLogsStatus``
  ``FAILED`` with ``DeliverLogsErrorMessage`` "Access error" ("Troubleshoot
  VPC Flow Logs"), as it is while the role has not propagated through IAM
  (a role created seconds ago).  The service keeps trying to deliver: the
  status is judged each time the flow log is described, and a role that has
  propagated with the right permissions delivers.
"""

from __future__ import annotations

from typing import Any

from .. import patching
from . import iam_roles

FLOW_LOGS_SERVICE = "vpc-flow-logs.amazonaws.com"


def _logs(account_id: str, region: str):
    from moto.logs.models import logs_backends

    return logs_backends[account_id][region]


def _export_log_groups(cluster: Any) -> None:
    logs = _logs(cluster.account_id, cluster.region)
    for log_type in cluster.enabled_cloudwatch_logs_exports or []:
        name = f"/aws/rds/cluster/{cluster.db_cluster_identifier}/{log_type}"
        if name not in logs.groups:
            logs.create_log_group(name, tags={})


def flow_log_delivery_problem(
    account_id: str, region: str, flow_log_id: str, role_arn: str | None, log_group: str
) -> bool:
    """Whether VPC Flow Logs cannot deliver the flow log ``flow_log_id`` to ``log_group`` through ``role_arn``."""
    # Resources as the Service Authorization Reference for CloudWatch Logs types them:
    # DescribeLogGroups takes "*" only, DescribeLogStreams a log group, the writes a log stream.
    group_arn = f"arn:aws:logs:{region}:{account_id}:log-group:{log_group}"
    stream_arn = f"{group_arn}:log-stream:eni-0123456789abcdef0-all"
    permissions = [
        ("logs:DescribeLogGroups", "*"),
        ("logs:DescribeLogStreams", group_arn),
        ("logs:CreateLogStream", stream_arn),
        ("logs:PutLogEvents", stream_arn),
    ]
    if log_group not in _logs(account_id, region).groups:
        permissions.append(("logs:CreateLogGroup", group_arn))
    role = iam_roles.find_role(account_id, role_arn)
    if role is None or not iam_roles.propagated(role):
        return True
    context = {
        "aws:SourceAccount": account_id,
        "aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/{flow_log_id}",
    }
    if not iam_roles.trusts_service(role, FLOW_LOGS_SERVICE, context):
        return True
    return not all(iam_roles.allows(role, action, resource) for action, resource in permissions)


def _create_db_cluster(original: Any) -> Any:
    def create_db_cluster(self, kwargs: dict[str, Any]) -> Any:
        cluster = original(self, kwargs)
        _export_log_groups(cluster)
        return cluster

    return create_db_cluster


def _modify_db_cluster(original: Any) -> Any:
    def modify_db_cluster(self, kwargs: dict[str, Any]) -> Any:
        cluster = original(self, kwargs)
        _export_log_groups(self.clusters[cluster.db_cluster_identifier])
        return cluster

    return modify_db_cluster


# Delivery is judged each time the flow log is described: the service keeps trying.
def _cannot_deliver(flow_log: Any) -> bool:
    backend = flow_log.ec2_backend
    return flow_log.log_destination_type == "cloud-watch-logs" and flow_log_delivery_problem(
        backend.account_id,
        backend.region_name,
        flow_log.id,
        flow_log.deliver_logs_permission_arn,
        flow_log.log_group_name,
    )


def _status(self: Any) -> str:
    failed = self.__dict__.get("_status") == "FAILED" or _cannot_deliver(self)
    return "FAILED" if failed else "SUCCESS"


def _error_message(self: Any) -> str | None:
    if self.__dict__.get("_status") == "FAILED":
        return self.__dict__.get("_error")
    return "Access error" if _cannot_deliver(self) else None


@patching.install_once
def install() -> None:
    from moto.ec2.models.flow_logs import FlowLogs
    from moto.rds.models import RDSBackend

    patching.patch(RDSBackend, "create_db_cluster", _create_db_cluster)
    patching.patch(RDSBackend, "modify_db_cluster", _modify_db_cluster)
    patching.patch(
        FlowLogs,
        "deliver_logs_status",
        value=property(_status, lambda self, value: self.__dict__.__setitem__("_status", value)),
    )
    patching.patch(
        FlowLogs,
        "deliver_logs_error_message",
        value=property(_error_message, lambda self, value: self.__dict__.__setitem__("_error", value)),
    )
