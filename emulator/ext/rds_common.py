"""Pieces shared by the RDS additions: error codes, transitional statuses,
identifier checks and the network (subnets, VPC, security groups) of a proxy
or proxy endpoint."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from moto.ec2.models import ec2_backends
from moto.rds.exceptions import InvalidParameterValue, InvalidSubnet, RDSClientError
from moto.rds.models import RDSBaseModel

from .. import provisioning
from . import sharing

# Emulator-only: a tag with this key on CreateDBProxy or CreateDBProxyEndpoint
# makes the resource end its creation in the given failure status instead of
# "available" (see emulator/ext/rds.py).
STATUS_TAG = "emulator:status"
FAILURE_STATUSES = ("incompatible-network", "insufficient-resource-limits")


# -- error codes of the RDS API that moto does not define --------------------
class DBProxyEndpointAlreadyExistsFault(RDSClientError):
    def __init__(self, name: str) -> None:
        super().__init__(
            "DBProxyEndpointAlreadyExistsFault",
            f"Cannot create the DB proxy endpoint because an endpoint with the identifier {name} already exists.",
        )


class DBProxyEndpointNotFoundFault(RDSClientError):
    def __init__(self, name: str) -> None:
        super().__init__(
            "DBProxyEndpointNotFoundFault",
            f"The DB proxy endpoint {name} doesn't exist in your Amazon Web Services account "
            "in the specified Amazon Web Services Region.",
        )


class DBProxyEndpointQuotaExceededFault(RDSClientError):
    def __init__(self) -> None:
        super().__init__(
            "DBProxyEndpointQuotaExceededFault",
            "The DB proxy already has the maximum number of endpoints.",
        )


class DBProxyQuotaExceededFault(RDSClientError):
    def __init__(self) -> None:
        super().__init__(
            "DBProxyQuotaExceededFault",
            "Your Amazon Web Services account already has the maximum number of proxies in the specified Region.",
        )


class InvalidDBProxyStateFault(RDSClientError):
    def __init__(self, name: str, status: str) -> None:
        super().__init__(
            "InvalidDBProxyStateFault",
            f"The requested operation can't be performed while the proxy {name} is in the {status} state.",
        )


class InvalidDBProxyEndpointStateFault(RDSClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidDBProxyEndpointStateFault", message)


class InvalidDBInstanceStateFault(RDSClientError):
    """InvalidDBInstanceStateFault of the RDS model, whose wire code is ``InvalidDBInstanceState``."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidDBInstanceState", message)


class InvalidDBClusterStateFault(RDSClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidDBClusterStateFault", message)


class DBProxyTargetAlreadyRegisteredFault(RDSClientError):
    def __init__(self, resource: str, proxy: str) -> None:
        super().__init__(
            "DBProxyTargetAlreadyRegisteredFault",
            f"The target {resource} is already registered with the DB proxy {proxy}.",
        )


class DBProxyTargetGroupNotFoundFault(RDSClientError):
    def __init__(self, name: str) -> None:
        super().__init__(
            "DBProxyTargetGroupNotFoundFault",
            f"The specified target group {name} doesn't exist or isn't associated with the specified proxy.",
        )


# -- transitional statuses ---------------------------------------------------
class Lifecycle:
    """The status of a resource that an operation keeps transitional for a while.

    ``begin("creating", "db_proxy")`` keeps the status "creating" for the
    provisioning time of ``db_proxy``; then it is ``final`` ("available" or a
    failure status).  A resource in "deleting" is gone once the time elapses.
    """

    def __init__(self, phase: str, kind: str, final: str = "available") -> None:
        self.final = final
        self.begin(phase, kind)

    def begin(self, phase: str, kind: str) -> None:
        self.phase = phase
        self.ready_at = provisioning.start(kind)

    @property
    def status(self) -> str:
        if self.phase == "deleting" or not provisioning.done(self.ready_at):
            return self.phase
        return self.final

    @property
    def gone(self) -> bool:
        return self.phase == "deleting" and provisioning.done(self.ready_at)


class ProxyResource(RDSBaseModel):
    """A DB proxy or a proxy endpoint: ``unique_id`` (``prx-…``, ``prx-endpoint-…``) is the resource ID that ends
    its ARN, and its status is that of its ``lifecycle``."""

    unique_id: str
    lifecycle: Lifecycle

    @property
    def resource_id(self) -> str:
        return self.unique_id

    @property
    def status(self) -> str:
        return self.lifecycle.status


def failure_status(tags: list[dict[str, str]] | None) -> str | None:
    """The failure status requested by the emulator-only tag, if any."""
    value = {t["Key"]: t["Value"] for t in tags or []}.get(STATUS_TAG)
    if value is not None and value not in FAILURE_STATUSES:
        raise InvalidParameterValue(f"Tag {STATUS_TAG} must be one of: {', '.join(FAILURE_STATUSES)}.")
    return value


def request_params(response: Any) -> dict[str, Any]:
    """The parameters of a request as a plain dict keyed by AWS member names."""
    params = response.params
    return params.original_dict() if hasattr(params, "original_dict") else dict(params or {})


# -- identifiers -------------------------------------------------------------
_IDENTIFIER = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)$")


def validate_identifier(value: str, parameter: str) -> None:
    if not _IDENTIFIER.match(value or ""):
        raise InvalidParameterValue(
            f"The parameter {parameter} is not a valid identifier. Identifiers must begin with a letter; "
            "must contain only ASCII letters, digits, and hyphens; "
            "and must not end with a hyphen or contain two consecutive hyphens."
        )


def page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """One page of a Describe call (``MaxRecords`` 20 to 100, ``Marker``) and the next marker."""
    limit = int(params.get("MaxRecords") or 100)
    if not 20 <= limit <= 100:
        raise InvalidParameterValue("MaxRecords must be between 20 and 100.")
    marker = str(params.get("Marker") or "0")
    start = int(marker) if marker.isdigit() else 0
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def random_hex(length: int) -> str:
    return secrets.token_hex(length)[:length]


def random_alnum(length: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


# -- network -----------------------------------------------------------------
def resolve_network(
    account_id: str, region: str, subnet_ids: list[str], security_group_ids: list[str] | None
) -> tuple[str, list[str], list[str]]:
    """Return (VPC ID, subnet IDs, security group IDs) of a proxy or endpoint.

    Subnets may be the caller's own or shared with it (VPC sharing); they must
    all be in one VPC, which becomes the resource's VPC.  Security groups must
    belong to the caller and sit in that VPC; without any, the VPC's default
    security group is used, as AWS does.
    """
    if not subnet_ids:
        raise InvalidParameterValue("At least one subnet is required.")
    subnets = []
    for subnet_id in subnet_ids:
        subnet = sharing.find_subnet(account_id, region, subnet_id)
        if subnet is None:
            raise InvalidSubnet(subnet_id)
        if subnets and subnet.vpc_id != subnets[0].vpc_id:
            raise InvalidSubnet(subnet_id)
        subnets.append(subnet)
    vpc_id = subnets[0].vpc_id
    if security_group_ids:
        validate_security_groups(account_id, region, vpc_id, security_group_ids)
        return vpc_id, list(subnet_ids), list(security_group_ids)
    return vpc_id, list(subnet_ids), [_default_security_group(account_id, region, subnets[0])]


def validate_security_groups(account_id: str, region: str, vpc_id: str, group_ids: list[str]) -> None:
    ec2 = ec2_backends[account_id][region]
    for group_id in group_ids:
        group = ec2.get_security_group_from_id(group_id)
        if group is None:
            raise InvalidParameterValue(f"The security group '{group_id}' does not exist.")
        if group.vpc_id != vpc_id:
            raise InvalidParameterValue(f"The security group '{group_id}' is not in the VPC {vpc_id}.")


def _default_security_group(account_id: str, region: str, subnet: Any) -> str:
    # The caller's own default group of the VPC, else the VPC owner's (moto
    # creates a VPC's default group in the owner's account only).
    for backend in (ec2_backends[account_id][region], subnet.ec2_backend):
        for group in backend.groups.get(subnet.vpc_id, {}).values():
            if group.is_default:
                return group.id
    raise InvalidParameterValue(f"The VPC {subnet.vpc_id} has no default security group.")
