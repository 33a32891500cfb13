"""Modify calls that moto gets wrong, as the RDS API reference documents them.

- ``ModifyDBSubnetGroup`` changes the group in place; an unknown name is
  ``DBSubnetGroupNotFoundFault``. (moto removes the group it modifies.)
- ``ModifyDBCluster`` with ``EnableIAMDatabaseAuthentication`` turns IAM
  database authentication on or off. (moto ignores the parameter.)
"""

from __future__ import annotations

from typing import Any

from moto.rds.exceptions import DBSubnetGroupNotFoundError
from moto.rds.models import RDSBackend

from .. import patching


def _modify_db_subnet_group(original: Any) -> Any:
    def modify_db_subnet_group(self: RDSBackend, subnet_name: str, description: str, subnets: list) -> Any:
        if subnet_name not in self.subnet_groups:
            raise DBSubnetGroupNotFoundError(subnet_name)
        group = original(self, subnet_name, description, subnets)
        self.subnet_groups[subnet_name] = group
        return group

    return modify_db_subnet_group


def _modify_db_cluster(original: Any) -> Any:
    def modify_db_cluster(self: RDSBackend, kwargs: dict[str, Any]) -> Any:
        iam_auth = kwargs.get("enable_iam_database_authentication")
        name = kwargs.get("new_db_cluster_identifier") or kwargs["db_cluster_identifier"]
        returned = original(self, kwargs)
        if iam_auth is not None:
            for cluster in (returned, self.clusters[name]):
                cluster.iam_auth = bool(iam_auth)
        return returned

    return modify_db_cluster


@patching.install_once
def install() -> None:
    patching.patch(RDSBackend, "modify_db_subnet_group", _modify_db_subnet_group)
    patching.patch(RDSBackend, "modify_db_cluster", _modify_db_cluster)
