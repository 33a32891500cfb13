"""RDS Proxy: CreateDBProxy with subnets the caller owns or that are shared
with it, DefaultAuthScheme, ModifyDBProxy, DeleteDBProxy, target registration,
and the provisioning time of each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.rds.exceptions import (
    DBClusterNotFoundError,
    DBInstanceNotFoundError,
    DBProxyAlreadyExistsFault,
    DBProxyNotFoundFault,
    InvalidParameterValue,
)
from moto.rds.models import DBProxyTargetGroup, RDSBackend
from moto.rds.responses import RDSResponse

from .. import patching
from . import iam_roles, network_interfaces
from .rds_common import (
    DBProxyQuotaExceededFault,
    DBProxyTargetAlreadyRegisteredFault,
    DBProxyTargetGroupNotFoundFault,
    InvalidDBClusterStateFault,
    InvalidDBInstanceStateFault,
    InvalidDBProxyStateFault,
    Lifecycle,
    ProxyResource,
    failure_status,
    random_alnum,
    random_hex,
    request_params,
    resolve_network,
    validate_identifier,
    validate_security_groups,
)

# Engine family -> ClientPasswordAuthType that AWS reports when none is given.
ENGINE_FAMILIES = {
    "MYSQL": "MYSQL_NATIVE_PASSWORD",
    "POSTGRESQL": "POSTGRES_SCRAM_SHA_256",
    "SQLSERVER": "SQL_SERVER_AUTHENTICATION",
}
AUTH_SCHEMES = ("NONE", "IAM_AUTH")
PROXY_QUOTA = 20  # proxies per account and Region (AWS default quota)

# Statuses in which RegisterDBProxyTargets accepts a DB instance.  AWS answers
# InvalidDBInstanceState "DB Instance <id> is in an unsupported state -
# CREATING, needs to be in [AVAILABLE, MODIFYING, BACKING_UP]"
# (terraform-provider-aws PR 19096, 2021); a 2024 report lists CREATING among
# the accepted states and refuses CONFIGURING_ENHANCED_MONITORING (aws-cdk
# issue 31304).  The emulator keeps the stricter list of the two.  The botocore
# model lists InvalidDBInstanceStateFault and InvalidDBClusterStateFault among
# RegisterDBProxyTargets' errors; a cluster is held to the same statuses.
REGISTRABLE_STATUSES = ("available", "modifying", "backing-up")


class Proxy(ProxyResource):
    """A DB proxy, serialized with the ``DBProxy`` shape."""

    resource_type = "db-proxy"

    def __init__(self, backend: RDSBackend, params: dict[str, Any], network: tuple[str, list[str], list[str]]):
        super().__init__(backend)
        self.db_proxy_name = params["DBProxyName"]
        self.engine_family = params["EngineFamily"]
        self.role_arn = params["RoleArn"]
        self.vpc_id, self.vpc_subnet_ids, self.vpc_security_group_ids = network
        self.default_auth_scheme = params.get("DefaultAuthScheme") or "NONE"
        self.auth = [_auth(item, self.engine_family) for item in params.get("Auth") or []]
        self.require_tls = bool(params.get("RequireTLS", False))
        self.idle_client_timeout = params.get("IdleClientTimeout") or 1800
        self.debug_logging = bool(params.get("DebugLogging", False))
        self.endpoint_network_type = params.get("EndpointNetworkType") or "IPV4"
        self.target_connection_network_type = params.get("TargetConnectionNetworkType") or "IPV4"
        self.tags = params.get("Tags") or []
        self.created_date = self.updated_date = utcnow()
        self.unique_id = f"prx-{random_hex(17)}"
        self.url_identifier = random_alnum(12)
        self.default_endpoint_id = f"prx-endpoint-{random_hex(17)}"
        self.lifecycle = Lifecycle("creating", "db_proxy", final=failure_status(self.tags) or "available")
        self.proxy_target_groups = {
            "default": DBProxyTargetGroup(backend=backend, name="default", proxy_name=self.db_proxy_name)
        }
        self.registrations: list[Registration] = []

    @property
    def db_proxy_arn(self) -> str:
        return self.arn

    @property
    def endpoint(self) -> str:
        return f"{self.db_proxy_name}.proxy-{self.url_identifier}.{self.region}.rds.amazonaws.com"

    def require_available(self) -> None:
        if self.status != "available":
            raise InvalidDBProxyStateFault(self.db_proxy_name, self.status)


class Registration:
    """A cluster or instance registered with a proxy's default target group."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind  # "cluster" or "instance"
        self.identifier = identifier
        self.lifecycle = Lifecycle("REGISTERING", "db_proxy_target", final="AVAILABLE")


def _auth(item: dict[str, Any], engine_family: str) -> dict[str, str]:
    """A ``UserAuthConfig`` as AWS reports it back (``UserAuthConfigInfo``)."""
    auth = {
        "AuthScheme": item.get("AuthScheme") or "SECRETS",
        "IAMAuth": item.get("IAMAuth") or "DISABLED",
        "ClientPasswordAuthType": item.get("ClientPasswordAuthType") or ENGINE_FAMILIES[engine_family],
    }
    for key in ("Description", "UserName", "SecretArn"):
        if item.get(key):
            auth[key] = item[key]
    return auth


def _validate_settings(params: dict[str, Any], auth_required: bool) -> None:
    scheme = params.get("DefaultAuthScheme")
    if scheme is not None and scheme not in AUTH_SCHEMES:
        raise InvalidParameterValue(f"DefaultAuthScheme must be one of: {', '.join(AUTH_SCHEMES)}.")
    if auth_required and (scheme or "NONE") == "NONE" and not params.get("Auth"):
        raise InvalidParameterValue("Auth is required when DefaultAuthScheme is NONE or not specified.")
    timeout = params.get("IdleClientTimeout")
    if timeout is not None and not 1 <= int(timeout) <= 28800:
        raise InvalidParameterValue("IdleClientTimeout must be between 1 and 28800 seconds.")


# -- backend methods (bound to RDSBackend by install) --------------------------
def get_db_proxy(self: RDSBackend, name: str | None) -> Proxy:
    proxy = self.db_proxies.get(name or "")
    if proxy is None:
        raise DBProxyNotFoundFault(name)
    return proxy


def create_db_proxy(self: RDSBackend, params: dict[str, Any]) -> Proxy:
    name = params["DBProxyName"]
    validate_identifier(name, "DBProxyName")
    if name in self.db_proxies:
        raise DBProxyAlreadyExistsFault(name)
    if len(self.db_proxies) >= PROXY_QUOTA:
        raise DBProxyQuotaExceededFault()
    if params.get("EngineFamily") not in ENGINE_FAMILIES:
        raise InvalidParameterValue(f"EngineFamily must be one of: {', '.join(ENGINE_FAMILIES)}.")
    _validate_settings(params, auth_required=True)
    network = resolve_network(
        self.account_id, self.region_name, params.get("VpcSubnetIds") or [], params.get("VpcSecurityGroupIds")
    )
    proxy = Proxy(self, params, network)
    self.db_proxies[name] = proxy
    # The default endpoint's network interfaces (emulator/ext/network_interfaces.py).
    network_interfaces.provide_rds(
        self.account_id, self.region_name, _interfaces_of(proxy), proxy.vpc_subnet_ids, proxy.vpc_security_group_ids
    )
    return proxy


def _interfaces_of(proxy: Proxy) -> tuple[str, str]:
    """Key of the network interfaces of a proxy's default endpoint."""
    return ("db-proxy", proxy.unique_id)


def modify_db_proxy(self: RDSBackend, params: dict[str, Any]) -> Proxy:
    proxy = self.get_db_proxy(params.get("DBProxyName"))
    proxy.require_available()
    _validate_settings(params, auth_required=False)
    new_name = params.get("NewDBProxyName")
    if new_name and new_name != proxy.db_proxy_name:
        validate_identifier(new_name, "NewDBProxyName")
        if new_name in self.db_proxies:
            raise DBProxyAlreadyExistsFault(new_name)
    if params.get("SecurityGroups"):
        validate_security_groups(self.account_id, self.region_name, proxy.vpc_id, params["SecurityGroups"])
        proxy.vpc_security_group_ids = list(params["SecurityGroups"])
        network_interfaces.regroup_rds(
            self.account_id, self.region_name, _interfaces_of(proxy), proxy.vpc_security_group_ids
        )
    if new_name and new_name != proxy.db_proxy_name:
        del self.db_proxies[proxy.db_proxy_name]
        proxy.db_proxy_name = new_name
        for group in proxy.proxy_target_groups.values():
            group.db_proxy_name = new_name
        self.db_proxies[new_name] = proxy
    if "Auth" in params:
        proxy.auth = [_auth(item, proxy.engine_family) for item in params["Auth"]]
    for key, attribute in (
        ("DefaultAuthScheme", "default_auth_scheme"),
        ("RequireTLS", "require_tls"),
        ("IdleClientTimeout", "idle_client_timeout"),
        ("DebugLogging", "debug_logging"),
        ("RoleArn", "role_arn"),
    ):
        if params.get(key) is not None:
            setattr(proxy, attribute, params[key])
    proxy.updated_date = utcnow()
    proxy.lifecycle.begin("modifying", "db_proxy_modify")
    return proxy


def delete_db_proxy(self: RDSBackend, proxy_name: str) -> Proxy:
    proxy = self.get_db_proxy(proxy_name)
    if proxy.status == "deleting":
        raise InvalidDBProxyStateFault(proxy.db_proxy_name, proxy.status)
    proxy.lifecycle.begin("deleting", "db_proxy_delete")
    for endpoint in self.db_proxy_endpoints.values():
        if endpoint.proxy is proxy:
            endpoint.lifecycle = proxy.lifecycle
            network_interfaces.release_rds(
                self.account_id, self.region_name, endpoint.interfaces, _gone(proxy), "db_proxy_delete"
            )
    network_interfaces.release_rds(
        self.account_id, self.region_name, _interfaces_of(proxy), _gone(proxy), "db_proxy_delete"
    )
    return proxy


def _gone(proxy: Proxy):
    return lambda: proxy.lifecycle.gone


def _target_group(proxy: Proxy, name: str | None) -> None:
    if (name or "default") not in proxy.proxy_target_groups:
        raise DBProxyTargetGroupNotFoundFault(name)


def register_db_proxy_targets(
    self: RDSBackend,
    db_proxy_name: str,
    target_group_name: str | None,
    db_cluster_identifiers: list[str],
    db_instance_identifiers: list[str],
) -> list[dict[str, Any]]:
    proxy = self.get_db_proxy(db_proxy_name)
    _target_group(proxy, target_group_name)
    proxy.require_available()
    wanted = [("cluster", c.lower()) for c in db_cluster_identifiers]
    wanted += [("instance", i.lower()) for i in db_instance_identifiers]
    for kind, identifier in wanted:
        if kind == "cluster" and identifier not in self.clusters:
            raise DBClusterNotFoundError(identifier)
        if kind == "instance" and identifier not in self.databases:
            raise DBInstanceNotFoundError(identifier)
        if any(r.identifier == identifier and r.kind == kind for r in proxy.registrations):
            raise DBProxyTargetAlreadyRegisteredFault(identifier, proxy.db_proxy_name)
    for kind, identifier in wanted:
        if kind == "cluster":
            cluster = self.clusters[identifier]
            _require_registrable("DB Cluster", identifier, cluster.status, InvalidDBClusterStateFault)
            instances = cluster.members
        else:
            instances = [self.databases[identifier]]
        for instance in instances:
            _require_registrable(
                "DB Instance", instance.db_instance_identifier, instance.status, InvalidDBInstanceStateFault
            )
    added = [Registration(kind, identifier) for kind, identifier in wanted]
    proxy.registrations.extend(added)
    return list(_targets(self, proxy, added))


def _require_registrable(kind: str, identifier: str, status: str, error: type) -> None:
    if status not in REGISTRABLE_STATUSES:
        accepted = ", ".join(s.upper().replace("-", "_") for s in REGISTRABLE_STATUSES)
        unsupported = status.upper().replace("-", "_")
        raise error(f"{kind} {identifier} is in an unsupported state - {unsupported}, needs to be in [{accepted}]")


def deregister_db_proxy_targets(
    self: RDSBackend,
    db_proxy_name: str,
    target_group_name: str | None,
    db_cluster_identifiers: list[str],
    db_instance_identifiers: list[str],
) -> None:
    proxy = self.get_db_proxy(db_proxy_name)
    _target_group(proxy, target_group_name)
    gone = {("cluster", c.lower()) for c in db_cluster_identifiers}
    gone |= {("instance", i.lower()) for i in db_instance_identifiers}
    proxy.registrations = [r for r in proxy.registrations if (r.kind, r.identifier) not in gone]


def describe_db_proxy_targets(self: RDSBackend, proxy_name: str, target_group_name: str | None = None) -> list:
    proxy = self.get_db_proxy(proxy_name)
    _target_group(proxy, target_group_name)
    return list(_targets(self, proxy, proxy.registrations))


def role_problem(proxy: Proxy) -> str | None:
    """Why the proxy cannot use its role to read its secrets now, if it cannot.

    RDS Proxy assumes its role (trusted by ``rds.amazonaws.com``) to read the
    Secrets Manager secrets of its ``Auth`` (RDS Proxy user guide, "Setting up
    database credentials in AWS Secrets Manager" and "Setting up AWS Identity
    and Access Management (IAM) policies"); a role that has not propagated,
    does not trust RDS or cannot read a secret leaves the targets
    ``UNAVAILABLE`` with reason ``AUTH_FAILURE`` (API reference, TargetHealth;
    RDS Proxy troubleshooting: "If the Reason value is ... AUTH_FAILURE, the
    Description field explains the issue").  The description's words are the
    emulator's own.
    """
    secrets = [("secretsmanager:GetSecretValue", a["SecretArn"]) for a in proxy.auth if a.get("SecretArn")]
    return iam_roles.service_problem(
        proxy.backend.account_id,
        proxy.role_arn,
        "rds.amazonaws.com",
        context={"aws:SourceArn": proxy.arn},
        permissions=secrets,
    )


def _targets(backend: RDSBackend, proxy: Proxy, registrations: list[Registration]) -> Iterator[dict[str, Any]]:
    """``DBProxyTarget`` entries: a tracked cluster and each of its instances,
    or a single instance."""
    problem = role_problem(proxy)
    for registration in registrations:
        health = {"State": registration.lifecycle.status}
        if health["State"] == "AVAILABLE" and problem:
            health = {
                "State": "UNAVAILABLE",
                "Reason": "AUTH_FAILURE",
                "Description": f"Proxy could not read its secrets: {problem}.",
            }
        if registration.kind == "instance":
            instance = backend.databases.get(registration.identifier)
            if instance is not None:
                yield _instance_target(instance, None, "READ_WRITE", health)
            continue
        cluster = backend.clusters.get(registration.identifier)
        if cluster is None:
            continue
        yield {
            "TargetArn": cluster.db_cluster_arn,
            "Endpoint": cluster.endpoint,
            "TrackedClusterId": cluster.db_cluster_identifier,
            "RdsResourceId": cluster.db_cluster_identifier,
            "Port": cluster.port,
            "Type": "TRACKED_CLUSTER",
            "TargetHealth": health,
        }
        for instance in cluster.members:
            role = "READ_WRITE" if instance.is_cluster_writer else "READ_ONLY"
            yield _instance_target(instance, cluster.db_cluster_identifier, role, health)


def _instance_target(instance: Any, cluster_id: str | None, role: str, health: dict[str, str]) -> dict[str, Any]:
    if health["State"] == "AVAILABLE" and instance.status != "available":
        health = {
            "State": "UNAVAILABLE",
            "Reason": "UNREACHABLE",
            "Description": f"DB instance {instance.db_instance_identifier} is {instance.status}.",
        }
    target = {
        "TargetArn": instance.db_instance_arn,
        "Endpoint": instance.address,
        "RdsResourceId": instance.db_instance_identifier,
        "Port": instance.endpoint["Port"],
        "Type": "RDS_INSTANCE",
        "Role": role,
        "TargetHealth": health,
    }
    if cluster_id:
        target["TrackedClusterId"] = cluster_id
    return target


def _checked_proxy(method: Any) -> Any:
    """Make moto's target-group methods answer DBProxyNotFoundFault."""

    def wrapper(self: RDSBackend, proxy_name: str, *args: Any, **kwargs: Any) -> Any:
        self.get_db_proxy(proxy_name)
        return method(self, proxy_name, *args, **kwargs)

    return wrapper


def settle(backend: RDSBackend) -> None:
    """Forget proxies whose deletion has completed."""
    for name, proxy in list(backend.db_proxies.items()):
        if isinstance(proxy, Proxy) and proxy.lifecycle.gone:
            del backend.db_proxies[name]


# -- actions (bound to RDSResponse by install) ---------------------------------
def create_db_proxy_action(self: RDSResponse) -> ActionResult:
    return ActionResult({"DBProxy": self.backend.create_db_proxy(request_params(self))})


def modify_db_proxy_action(self: RDSResponse) -> ActionResult:
    return ActionResult({"DBProxy": self.backend.modify_db_proxy(request_params(self))})


def delete_db_proxy_action(self: RDSResponse) -> ActionResult:
    return ActionResult({"DBProxy": self.backend.delete_db_proxy(request_params(self).get("DBProxyName"))})


def register_db_proxy_targets_action(self: RDSResponse) -> ActionResult:
    params = request_params(self)
    targets = self.backend.register_db_proxy_targets(
        params.get("DBProxyName"),
        params.get("TargetGroupName"),
        params.get("DBClusterIdentifiers", []),
        params.get("DBInstanceIdentifiers", []),
    )
    return ActionResult({"DBProxyTargets": targets})


def deregister_db_proxy_targets_action(self: RDSResponse) -> ActionResult:
    params = request_params(self)
    self.backend.deregister_db_proxy_targets(
        params.get("DBProxyName"),
        params.get("TargetGroupName"),
        params.get("DBClusterIdentifiers", []),
        params.get("DBInstanceIdentifiers", []),
    )
    return EmptyResult()


def describe_db_proxy_targets_action(self: RDSResponse) -> ActionResult:
    params = request_params(self)
    targets = self.backend.describe_db_proxy_targets(params.get("DBProxyName"), params.get("TargetGroupName"))
    return ActionResult({"Targets": targets})


@patching.install_once
def install() -> None:
    # The emulator's proxies take the place of moto's: moto has these operations ...
    for method in (
        create_db_proxy,
        delete_db_proxy,
        register_db_proxy_targets,
        deregister_db_proxy_targets,
        describe_db_proxy_targets,
    ):
        patching.patch(RDSBackend, method.__name__, value=method)
    # ... but not these.
    for method in (get_db_proxy, modify_db_proxy):
        patching.patch(RDSBackend, method.__name__, value=method, add=True)
    for name in ("describe_db_proxy_target_groups", "modify_db_proxy_target_group"):
        patching.patch(RDSBackend, name, _checked_proxy)
    for action in (
        create_db_proxy_action,
        delete_db_proxy_action,
        register_db_proxy_targets_action,
        deregister_db_proxy_targets_action,
        describe_db_proxy_targets_action,
    ):
        patching.patch(RDSResponse, action.__name__.removesuffix("_action"), value=action)
    patching.patch(RDSResponse, "modify_db_proxy", value=modify_db_proxy_action, add=True)
