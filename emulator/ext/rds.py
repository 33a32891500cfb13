"""RDS additions: proxy endpoints, ModifyDBProxy and DefaultAuthScheme, proxies
in subnets shared through AWS RAM, DescribeDBEngineVersions for Aurora
PostgreSQL, and provisioning time for proxies, proxy targets, proxy endpoints,
Aurora clusters and DB instances.

Modules:
- ``rds_proxy``: CreateDBProxy, ModifyDBProxy, DeleteDBProxy, proxy targets.
- ``rds_proxy_endpoints``: Create/Describe/Modify/DeleteDBProxyEndpoint.
- ``rds_lifecycle``: creating/deleting statuses of clusters and instances.
- ``rds_engine_versions``: DescribeDBEngineVersions.
- ``rds_modify``: ModifyDBSubnetGroup and ModifyDBCluster's IAM authentication, which moto gets wrong.
- ``rds_monitoring``: the Enhanced Monitoring role of DB instances.
- ``rds_managed_password``: master user passwords that RDS manages in Secrets Manager (ManageMasterUserPassword).
- ``rds_common``: error codes, statuses, identifiers, network checks.

Formats, as AWS documents them (AWS CLI examples for create-db-proxy and
create-db-proxy-endpoint):
- proxy ARN ``arn:aws:rds:<region>:<account>:db-proxy:prx-<17 hex>``; the
  ``prx-…`` part is the resource ID used in ``rds-db:connect`` ARNs;
- proxy DNS ``<proxy-name>.proxy-<12 lowercase alphanumerics>.<region>.rds.amazonaws.com``;
- endpoint ARN ``arn:aws:rds:<region>:<account>:db-proxy-endpoint:prx-endpoint-<17 hex>``;
- endpoint DNS ``<endpoint-name>.endpoint.proxy-<same 12 characters as the
  proxy>.<region>.rds.amazonaws.com``.

Statuses: a proxy or endpoint is ``creating``, then ``available``;
``modifying`` after a Modify call; ``deleting`` after a Delete call, then gone
(deleting a proxy deletes its endpoints).  Registered targets report
TargetHealth ``REGISTERING``, then ``AVAILABLE``.  Durations are those of
``emulator.settings.AWS_MINUTES`` times the delay scale; at scale 0 every
resource is available at once.

Emulator-only: the tag ``emulator:status`` on CreateDBProxy or
CreateDBProxyEndpoint, with the value ``incompatible-network`` or
``insufficient-resource-limits``, makes the resource end its creation in that
failure status instead of ``available``, so that waits on failure can be
tested.  AWS gives this tag no meaning.
"""

from __future__ import annotations

from typing import Any

from moto.rds.models import RDSBackend, rds_backends
from moto.rds.responses import RDSResponse

from .. import patching
from . import (
    rds_engine_versions,
    rds_lifecycle,
    rds_managed_password,
    rds_modify,
    rds_monitoring,
    rds_proxy,
    rds_proxy_endpoints,
)


def settle(backend: RDSBackend) -> None:
    """Drop resources whose deletion has completed."""
    rds_proxy_endpoints.settle(backend)
    rds_proxy.settle(backend)
    rds_lifecycle.settle(backend)


def _settled_backend(self: RDSResponse) -> RDSBackend:
    backend = rds_backends[self.current_account][self.region]
    settle(backend)
    return backend


def _tagging_with_endpoints(original: Any) -> Any:
    def _get_resource_for_tagging(self: RDSBackend, arn: str) -> Any:
        if ":db-proxy-endpoint:" in arn:
            return rds_proxy_endpoints.find_for_tagging(self, arn)
        return original(self, arn)

    return _get_resource_for_tagging


@patching.install_once
def install() -> None:
    rds_proxy.install()
    rds_proxy_endpoints.install()
    rds_lifecycle.install()
    rds_engine_versions.install()
    rds_modify.install()
    rds_monitoring.install()
    rds_managed_password.install()
    patching.patch(RDSResponse, "backend", value=property(_settled_backend))
    patching.patch(RDSBackend, "_get_resource_for_tagging", _tagging_with_endpoints)
