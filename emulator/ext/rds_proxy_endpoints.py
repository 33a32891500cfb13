"""RDS Proxy endpoints: CreateDBProxyEndpoint, DescribeDBProxyEndpoints,
ModifyDBProxyEndpoint and DeleteDBProxyEndpoint.

An endpoint may sit in another VPC than its proxy, including a VPC shared with
the caller through AWS RAM; its VPC is the one of its subnets.  Each proxy also
has a default endpoint (named ``default``, ``IsDefault`` true, the proxy's own
DNS name), which DescribeDBProxyEndpoints lists and which can be neither
modified nor deleted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.rds.exceptions import InvalidParameterValue
from moto.rds.models import RDSBackend
from moto.rds.responses import RDSResponse

from .. import patching
from . import network_interfaces
from .rds_common import (
    DBProxyEndpointAlreadyExistsFault,
    DBProxyEndpointNotFoundFault,
    DBProxyEndpointQuotaExceededFault,
    InvalidDBProxyEndpointStateFault,
    Lifecycle,
    ProxyResource,
    failure_status,
    page,
    random_hex,
    request_params,
    resolve_network,
    validate_identifier,
    validate_security_groups,
)
from .rds_proxy import Proxy

ENDPOINT_QUOTA = 20  # user-defined endpoints per proxy
TARGET_ROLES = ("READ_WRITE", "READ_ONLY")
DEFAULT_NAME = "default"


class ProxyEndpoint(ProxyResource):
    """A user-defined DB proxy endpoint, serialized with the ``DBProxyEndpoint`` shape."""

    resource_type = "db-proxy-endpoint"
    is_default = False

    def __init__(
        self, backend: RDSBackend, proxy: Proxy, params: dict[str, Any], network: tuple[str, list[str], list[str]]
    ):
        super().__init__(backend)
        self.proxy = proxy
        self.db_proxy_endpoint_name = params["DBProxyEndpointName"]
        self.vpc_id, self.vpc_subnet_ids, self.vpc_security_group_ids = network
        self.target_role = params.get("TargetRole") or "READ_WRITE"
        self.endpoint_network_type = params.get("EndpointNetworkType") or "IPV4"
        self.tags = params.get("Tags") or []
        self.created_date = utcnow()
        self.unique_id = f"prx-endpoint-{random_hex(17)}"
        self.lifecycle = Lifecycle("creating", "db_proxy_endpoint", final=failure_status(self.tags) or "available")

    @property
    def db_proxy_endpoint_arn(self) -> str:
        return self.arn

    @property
    def db_proxy_name(self) -> str:
        return self.proxy.db_proxy_name

    @property
    def interfaces(self) -> tuple[str, str]:
        """Key of the endpoint's network interfaces (emulator/ext/network_interfaces.py)."""
        return ("db-proxy-endpoint", self.unique_id)

    @property
    def endpoint(self) -> str:
        return (
            f"{self.db_proxy_endpoint_name}.endpoint.proxy-{self.proxy.url_identifier}.{self.region}.rds.amazonaws.com"
        )


class DefaultEndpoint:
    """The endpoint every proxy has, as DescribeDBProxyEndpoints reports it."""

    db_proxy_endpoint_name = DEFAULT_NAME
    target_role = "READ_WRITE"
    is_default = True

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        proxy_region, proxy_account = proxy.region, proxy.account_id
        self.db_proxy_endpoint_arn = (
            f"arn:{proxy.partition}:rds:{proxy_region}:{proxy_account}:db-proxy-endpoint:{proxy.default_endpoint_id}"
        )
        self.db_proxy_name: str = proxy.db_proxy_name
        self.status: str = proxy.status
        self.vpc_id: str = proxy.vpc_id
        self.vpc_subnet_ids: list[str] = proxy.vpc_subnet_ids
        self.vpc_security_group_ids: list[str] = proxy.vpc_security_group_ids
        self.endpoint: str = proxy.endpoint
        self.created_date: datetime = proxy.created_date
        self.endpoint_network_type: str = proxy.endpoint_network_type


def proxy_endpoints(backend: RDSBackend) -> MutableMapping[str, ProxyEndpoint]:
    """User-defined endpoints of an account and Region, by name (reset with the backend)."""
    return backend.__dict__.setdefault("_proxy_endpoints", OrderedDict())


# -- backend methods (bound to RDSBackend by install) --------------------------
def get_db_proxy_endpoint(self: RDSBackend, name: str | None, action: str) -> ProxyEndpoint:
    endpoint = self.db_proxy_endpoints.get(name or "")
    if endpoint is not None:
        return endpoint
    if name == DEFAULT_NAME:
        raise InvalidDBProxyEndpointStateFault(f"The default endpoint of a DB proxy can't be {action}.")
    raise DBProxyEndpointNotFoundFault(name)


def create_db_proxy_endpoint(self: RDSBackend, params: dict[str, Any]) -> ProxyEndpoint:
    proxy = self.get_db_proxy(params.get("DBProxyName"))
    name = params["DBProxyEndpointName"]
    validate_identifier(name, "DBProxyEndpointName")
    if name in self.db_proxy_endpoints or name == DEFAULT_NAME:
        raise DBProxyEndpointAlreadyExistsFault(name)
    if params.get("TargetRole", "READ_WRITE") not in TARGET_ROLES:
        raise InvalidParameterValue(f"TargetRole must be one of: {', '.join(TARGET_ROLES)}.")
    proxy.require_available()
    if sum(1 for e in self.db_proxy_endpoints.values() if e.proxy is proxy) >= ENDPOINT_QUOTA:
        raise DBProxyEndpointQuotaExceededFault()
    network = resolve_network(
        self.account_id, self.region_name, params.get("VpcSubnetIds") or [], params.get("VpcSecurityGroupIds")
    )
    endpoint = ProxyEndpoint(self, proxy, params, network)
    self.db_proxy_endpoints[name] = endpoint
    network_interfaces.provide_rds(
        self.account_id, self.region_name, endpoint.interfaces, endpoint.vpc_subnet_ids, endpoint.vpc_security_group_ids
    )
    return endpoint


def describe_db_proxy_endpoints(
    self: RDSBackend, proxy_name: str | None, endpoint_name: str | None
) -> list[ProxyEndpoint | DefaultEndpoint]:
    proxies = [self.get_db_proxy(proxy_name)] if proxy_name else list(self.db_proxies.values())
    found: list[ProxyEndpoint | DefaultEndpoint] = []
    for proxy in proxies:
        found.append(DefaultEndpoint(proxy))
        found.extend(e for e in self.db_proxy_endpoints.values() if e.proxy is proxy)
    if endpoint_name:
        found = [e for e in found if e.db_proxy_endpoint_name == endpoint_name]
        if not found:
            raise DBProxyEndpointNotFoundFault(endpoint_name)
    return found


def modify_db_proxy_endpoint(self: RDSBackend, params: dict[str, Any]) -> ProxyEndpoint:
    endpoint = self.get_db_proxy_endpoint(params.get("DBProxyEndpointName"), "modified")
    if endpoint.status != "available":
        raise InvalidDBProxyEndpointStateFault(
            f"The DB proxy endpoint {endpoint.db_proxy_endpoint_name} is in the {endpoint.status} state."
        )
    endpoint.proxy.require_available()
    new_name = params.get("NewDBProxyEndpointName")
    if new_name and new_name != endpoint.db_proxy_endpoint_name:
        validate_identifier(new_name, "NewDBProxyEndpointName")
        if new_name in self.db_proxy_endpoints or new_name == DEFAULT_NAME:
            raise DBProxyEndpointAlreadyExistsFault(new_name)
    groups = params.get("VpcSecurityGroupIds")
    if groups:
        validate_security_groups(self.account_id, self.region_name, endpoint.vpc_id, groups)
        endpoint.vpc_security_group_ids = list(groups)
        network_interfaces.regroup_rds(self.account_id, self.region_name, endpoint.interfaces, list(groups))
    if new_name and new_name != endpoint.db_proxy_endpoint_name:
        del self.db_proxy_endpoints[endpoint.db_proxy_endpoint_name]
        endpoint.db_proxy_endpoint_name = new_name
        self.db_proxy_endpoints[new_name] = endpoint
    endpoint.lifecycle.begin("modifying", "db_proxy_modify")
    return endpoint


def delete_db_proxy_endpoint(self: RDSBackend, name: str | None) -> ProxyEndpoint:
    endpoint = self.get_db_proxy_endpoint(name, "deleted")
    if endpoint.status == "deleting":
        raise InvalidDBProxyEndpointStateFault(f"The DB proxy endpoint {name} is already being deleted.")
    endpoint.lifecycle.begin("deleting", "db_proxy_endpoint_delete")
    network_interfaces.release_rds(
        self.account_id,
        self.region_name,
        endpoint.interfaces,
        lambda: endpoint.lifecycle.gone,
        "db_proxy_endpoint_delete",
    )
    return endpoint


def settle(backend: RDSBackend) -> None:
    """Forget endpoints whose deletion (or their proxy's) has completed."""
    endpoints = proxy_endpoints(backend)
    for name, endpoint in list(endpoints.items()):
        if endpoint.lifecycle.gone:
            del endpoints[name]


def find_for_tagging(backend: RDSBackend, arn: str) -> ProxyEndpoint | None:
    return next((e for e in proxy_endpoints(backend).values() if e.arn == arn), None)


# -- actions (bound to RDSResponse by install) ---------------------------------
def create_db_proxy_endpoint_action(self: RDSResponse) -> ActionResult:
    return ActionResult({"DBProxyEndpoint": self.backend.create_db_proxy_endpoint(request_params(self))})


def describe_db_proxy_endpoints_action(self: RDSResponse) -> ActionResult:
    params = request_params(self)
    endpoints = self.backend.describe_db_proxy_endpoints(params.get("DBProxyName"), params.get("DBProxyEndpointName"))
    endpoints, marker = page(endpoints, params)
    return ActionResult({"DBProxyEndpoints": endpoints, "Marker": marker})


def modify_db_proxy_endpoint_action(self: RDSResponse) -> ActionResult:
    return ActionResult({"DBProxyEndpoint": self.backend.modify_db_proxy_endpoint(request_params(self))})


def delete_db_proxy_endpoint_action(self: RDSResponse) -> ActionResult:
    endpoint = self.backend.delete_db_proxy_endpoint(request_params(self).get("DBProxyEndpointName"))
    return ActionResult({"DBProxyEndpoint": endpoint})


@patching.install_once
def install() -> None:
    # moto has no proxy endpoints at all.
    patching.patch(RDSBackend, "db_proxy_endpoints", value=property(proxy_endpoints), add=True)
    for method in (
        get_db_proxy_endpoint,
        create_db_proxy_endpoint,
        describe_db_proxy_endpoints,
        modify_db_proxy_endpoint,
        delete_db_proxy_endpoint,
    ):
        patching.patch(RDSBackend, method.__name__, value=method, add=True)
    for action in (
        create_db_proxy_endpoint_action,
        describe_db_proxy_endpoints_action,
        modify_db_proxy_endpoint_action,
        delete_db_proxy_endpoint_action,
    ):
        patching.patch(RDSResponse, action.__name__.removesuffix("_action"), value=action, add=True)
