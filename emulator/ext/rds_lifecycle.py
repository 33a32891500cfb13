"""Provisioning time of Aurora clusters and DB instances.

A new cluster stays ``creating`` and a new instance ``creating`` for their
provisioning time, then both are ``available``; an instance created while
its cluster is ``creating`` is not ``available`` before the cluster is.
An instance with Enhanced Monitoring on (``MonitoringInterval`` > 0) spends
the last part of its creation (``db_instance_monitoring``) in
``configuring-enhanced-monitoring``: AWS lists that status among a DB
instance's statuses (Aurora User Guide, "Viewing DB instance status in an
Aurora cluster"), and RDS Proxy refuses to register an instance in it
(aws-cdk issue 31304: "DB Instance ... is in an unsupported state -
CONFIGURING_ENHANCED_MONITORING").  DeleteDBCluster and
DeleteDBInstance leave the resource ``deleting`` for the deletion time before
it disappears; a cluster can be deleted while its instances are ``deleting``,
as on AWS.  With a delay scale of 0 all of this is immediate.
"""

from __future__ import annotations

from typing import Any

from moto.rds.exceptions import InvalidDBClusterStateFault, RDSClientError
from moto.rds.models import DBCluster, DBInstance, DBInstanceClustered, RDSBackend

from .. import patching, provisioning
from ..settings import SETTINGS


def _cluster_status(self: DBCluster) -> str:
    if self._status == "creating" and provisioning.done(getattr(self, "_ready_at", None)):
        self._status = "available"
    return self._status


def _set_cluster_status(self: DBCluster, value: str) -> None:
    self._status = value


def _instance_status(self: DBInstance) -> str:
    if self._status == "available":
        if not provisioning.done(getattr(self, "_ready_at", None)):
            return "creating"
        # An instance of a cluster that is still being created is not available
        # before it: AWS accepts CreateDBInstance at once, and the instance
        # becomes available after its cluster.
        cluster = getattr(self, "cluster", None) if isinstance(self, DBInstanceClustered) else None
        if cluster is not None and cluster.status == "creating":
            return "creating"
        if not provisioning.done(getattr(self, "_monitoring_ready_at", None)):
            return "configuring-enhanced-monitoring"
    return self._status


def _set_instance_status(self: DBInstance, value: str) -> None:
    self._status = value


def _cluster_members(self: DBCluster) -> list[DBInstanceClustered]:
    return [
        db_instance
        for db_instance in self.backend.databases.values()
        if isinstance(db_instance, DBInstanceClustered)
        and db_instance.db_cluster_identifier == self.resource_id
        and db_instance.status != "deleting"
    ]


def _clustered_subnet_group(self: DBInstanceClustered) -> Any:
    """An Aurora instance reports its cluster's DB subnet group, as on AWS."""
    name = self.cluster.db_subnet_group_name
    return self.cluster.backend.subnet_groups.get(name) if name else None


def _ignore(self: Any, value: Any) -> None:
    """Instances of a cluster take the subnet group of the cluster."""


def _timed_create(method: Any, kind: str) -> Any:
    def create(self: RDSBackend, kwargs: dict[str, Any]) -> Any:
        resource = method(self, kwargs)
        total = SETTINGS.seconds(kind)
        if kind == "db_instance" and int(resource.monitoring_interval or 0) > 0:
            # The last minute(s) of the creation are spent configuring Enhanced Monitoring.
            monitoring = min(SETTINGS.seconds("db_instance_monitoring"), total)
            resource._ready_at = provisioning.start(kind, total - monitoring)
            resource._monitoring_ready_at = provisioning.start("db_instance_monitoring", total)
        else:
            resource._ready_at = provisioning.start(kind)
        return resource

    return create


def _delete_db_cluster(original: Any) -> Any:
    def delete_db_cluster(self: RDSBackend, cluster_identifier: str, snapshot_name: str | None = None) -> DBCluster:
        current = self.clusters.get(cluster_identifier)
        if current is not None and current.status == "deleting":
            raise InvalidDBClusterStateFault(f"DBCluster {cluster_identifier} is already being deleted.")
        cluster = original(self, cluster_identifier, snapshot_name)
        cluster.status = "deleting"
        _linger(self.clusters, cluster_identifier, cluster, "db_cluster_delete")
        return cluster

    return delete_db_cluster


def _delete_db_instance(original: Any) -> Any:
    def delete_db_instance(self: RDSBackend, db_instance_identifier: str, *args: Any, **kwargs: Any) -> DBInstance:
        current = self.databases.get(db_instance_identifier)
        if current is not None and current.status == "deleting":
            raise RDSClientError(  # the code of InvalidDBInstanceStateFault in the RDS API
                "InvalidDBInstanceState", f"Instance {db_instance_identifier} is already being deleted."
            )
        database = original(self, db_instance_identifier, *args, **kwargs)
        _linger(self.databases, db_instance_identifier, database, "db_instance_delete")
        return database

    return delete_db_instance


def _linger(store: Any, identifier: str, resource: Any, kind: str) -> None:
    """Keep a deleted resource visible, ``deleting``, for its deletion time."""
    resource._gone_at = provisioning.start(kind)
    if not provisioning.done(resource._gone_at):
        store[identifier] = resource


def settle(backend: RDSBackend) -> None:
    """Forget clusters and instances whose deletion has completed."""
    for store in (backend.databases, backend.clusters):
        for identifier, resource in list(store.items()):
            gone_at = getattr(resource, "_gone_at", None)
            if gone_at is not None and provisioning.done(gone_at):
                del store[identifier]


@patching.install_once
def install() -> None:
    patching.patch(DBCluster, "status", value=property(_cluster_status, _set_cluster_status))
    patching.patch(DBInstance, "status", value=property(_instance_status, _set_instance_status))
    patching.patch(DBCluster, "_members", value=property(_cluster_members))
    patching.patch(DBInstanceClustered, "db_subnet_group", value=property(_clustered_subnet_group, _ignore))
    patching.patch(RDSBackend, "create_db_cluster", lambda original: _timed_create(original, "db_cluster"))
    patching.patch(RDSBackend, "create_db_instance", lambda original: _timed_create(original, "db_instance"))
    patching.patch(RDSBackend, "delete_db_cluster", _delete_db_cluster)
    patching.patch(RDSBackend, "delete_db_instance", _delete_db_instance)
