"""The Enhanced Monitoring role of DB instances.

With ``MonitoringInterval`` above 0, RDS publishes OS metrics to CloudWatch
Logs through the role of ``MonitoringRoleArn``: the role must trust
``monitoring.rds.amazonaws.com`` and have the permissions of AWS's managed
policy ``AmazonRDSEnhancedMonitoringRole`` (writing to the ``RDSOSMetrics``
log group) (RDS User Guide, "Setting up and enabling Enhanced Monitoring").
CreateDBInstance and ModifyDBInstance refuse a role that does not exist,
does not trust RDS's monitoring service, lacks those permissions or has not
propagated yet (a role created seconds ago) with ``InvalidParameterValue``
"IAM role ARN value is invalid or does not include the required permissions
for: ENHANCED_MONITORING" (the answer AWS gives, pulumi issue 5628;
terraform retries it: hashicorp/terraform PR 5515).
"""

from __future__ import annotations

from typing import Any

from moto.rds.exceptions import InvalidParameterValue
from moto.rds.models import RDSBackend

from .. import patching
from . import iam_roles

SERVICE = "monitoring.rds.amazonaws.com"
MESSAGE = "IAM role ARN value is invalid or does not include the required permissions for: ENHANCED_MONITORING"


def check_monitoring_role(backend: RDSBackend, interval: Any, role_arn: str | None) -> None:
    if not int(interval or 0) or not role_arn:
        return  # moto itself refuses an interval without a role, and a role without an interval
    log_stream = f"arn:aws:logs:{backend.region_name}:{backend.account_id}:log-group:RDSOSMetrics:log-stream:*"
    problem = iam_roles.service_problem(
        backend.account_id, role_arn, SERVICE, permissions=[("logs:PutLogEvents", log_stream)]
    )
    if problem is not None:
        raise InvalidParameterValue(MESSAGE)


def _create_db_instance(original: Any) -> Any:
    def create_db_instance(self: RDSBackend, db_kwargs: dict[str, Any]) -> Any:
        check_monitoring_role(self, db_kwargs.get("monitoring_interval"), db_kwargs.get("monitoring_role_arn"))
        return original(self, db_kwargs)

    return create_db_instance


def _modify_db_instance(original: Any) -> Any:
    def modify_db_instance(self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> Any:
        if "monitoring_interval" in db_kwargs or "monitoring_role_arn" in db_kwargs:
            current = self.describe_db_instances(db_instance_identifier)[0]
            check_monitoring_role(
                self,
                db_kwargs.get("monitoring_interval", current.monitoring_interval),
                db_kwargs.get("monitoring_role_arn", current.monitoring_role_arn),
            )
        return original(self, db_instance_identifier, db_kwargs)

    return modify_db_instance


@patching.install_once
def install() -> None:
    patching.patch(RDSBackend, "create_db_instance", _create_db_instance)
    patching.patch(RDSBackend, "modify_db_instance", _modify_db_instance)
