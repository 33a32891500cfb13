"""Interface VPC endpoints: provisioning time, deletion, DNS entries.

moto creates every VPC endpoint ``available`` at once, keeps deleted ones
forever as ``deleted``, and names their DNS entries in a format AWS does not
use.  For endpoints of type ``Interface`` this module follows AWS:

- ``CreateVpcEndpoint`` answers ``pending``; the endpoint becomes
  ``available`` after the provisioning time ``vpc_endpoint``.
- ``DeleteVpcEndpoints`` makes it ``deleting``; after
  ``vpc_endpoint_delete`` it is gone (its network interfaces with it, not
  before: they block the deletion of their subnets and security groups until
  then, see :mod:`emulator.ext.network_interfaces`) and
  ``DescribeVpcEndpoints`` with its ID fails with
  ``InvalidVpcEndpointId.NotFound``.  Unknown IDs are reported in
  ``Unsuccessful`` (``InvalidVpcEndpoint.NotFound``), as AWS does.
- ``DnsEntries``: the regional name
  ``vpce-<id>-<suffix>.<service>.<region>.vpce.amazonaws.com``, one zonal
  name per Availability Zone of its subnets, and with private DNS the
  service's own name (``sts.<region>.amazonaws.com``).
- Security groups must exist (``InvalidGroup.NotFound``); without any, the
  VPC's default group is used.  Private DNS needs the VPC's
  ``enableDnsSupport`` and ``enableDnsHostnames`` (``InvalidParameter``).
- ``DnsOptions``, ``IpAddressType`` and ``RequesterManaged`` are filled in.
- Its network interfaces carry the endpoint's security groups and are
  described as AWS does (:func:`emulator.ext.network_interfaces.adopt_endpoint`).

Gateway endpoints keep moto's behaviour (available at once, removed at once).
With ``delay_scale`` 0 everything is immediate.
"""

from __future__ import annotations

import hashlib
import string
from typing import Any

from .. import patching, provisioning
from ..settings import SETTINGS
from . import network_interfaces

_ALPHABET = string.ascii_lowercase + string.digits


def _is_interface(endpoint: Any) -> bool:
    return (endpoint.vpc_endpoint_type or "").lower() == "interface"


def _get_state(self) -> str:
    if self.__dict__.get("_emulator_deleting") is not None:
        return "deleting"
    if not provisioning.done(self.__dict__.get("_emulator_ready")):
        return "pending"
    return self.__dict__.get("_emulator_state", "available")


def _set_state(self, value: str) -> None:
    self.__dict__["_emulator_state"] = value


def _hosted_zone_id(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest().upper()
    return "Z" + "".join(c for c in digest if c.isalnum())[:13]


def _dns_entries(backend, endpoint: Any) -> list[dict[str, str]] | None:
    """AWS's DNS names of an interface endpoint of an AWS service."""
    from moto.moto_api._internal import mock_random

    region = backend.region_name
    prefix = f"com.amazonaws.{region}."
    if not endpoint.service_name.startswith(prefix):
        return None
    service = ".".join(reversed(endpoint.service_name[len(prefix) :].split(".")))
    suffix = "".join(mock_random.choice(_ALPHABET) for _ in range(8))
    base = f"{endpoint.id}-{suffix}"
    zone = _hosted_zone_id(f"vpce.{region}")
    entries = [{"dns_name": f"{base}.{service}.{region}.vpce.amazonaws.com", "hosted_zone_id": zone}]
    zones = sorted({backend.get_subnet(s).availability_zone for s in endpoint.subnet_ids or []})
    entries += [
        {"dns_name": f"{base}-{az}.{service}.{region}.vpce.amazonaws.com", "hosted_zone_id": zone} for az in zones
    ]
    if endpoint.private_dns_enabled:
        entries.append(
            {"dns_name": f"{service}.{region}.amazonaws.com", "hosted_zone_id": _hosted_zone_id(endpoint.id)}
        )
    return entries


def _finish_deletion(backend, original_delete, endpoint_id: str) -> None:
    original_delete(backend, [endpoint_id])
    backend.vpc_end_points.pop(endpoint_id, None)


_original_delete = None  # moto's VPCBackend.delete_vpc_endpoints, once installed


def settle(backend) -> None:
    """Complete the endpoint deletions whose time has come (their network
    interfaces go with them); called before any answer about interfaces."""
    if _original_delete is not None:
        _purge(backend, _original_delete)


def _purge(backend, original_delete) -> None:
    """Remove the endpoints whose deletion has completed."""
    for endpoint_id, endpoint in list(backend.vpc_end_points.items()):
        deleting = endpoint.__dict__.get("_emulator_deleting")
        if deleting is not None and provisioning.done(deleting):
            _finish_deletion(backend, original_delete, endpoint_id)


def _create_vpc_endpoint(original):
    from moto.ec2.exceptions import EC2ClientError, InvalidSecurityGroupNotFoundError

    def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, *args, **kwargs):
        interface = (endpoint_type or "").lower() == "interface"
        if interface:
            vpc = self.get_vpc(vpc_id)
            groups = kwargs.get("security_group_ids") or []
            for group_id in groups:
                if self.get_security_group_from_id(group_id) is None:
                    raise InvalidSecurityGroupNotFoundError(group_id)
            if not groups:
                default = self.get_security_group_from_name("default", vpc_id)
                kwargs["security_group_ids"] = [default.id] if default else []
            if kwargs.get("private_dns_enabled") and not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
                raise EC2ClientError(
                    "InvalidParameter",
                    "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames "
                    f"VPC attributes set to true for {vpc_id}",
                )
        endpoint = original(self, vpc_id, service_name, endpoint_type, *args, **kwargs)
        if interface:
            endpoint._emulator_ready = provisioning.start("vpc_endpoint")
            endpoint.dns_entries = _dns_entries(self, endpoint) or endpoint.dns_entries
            network_interfaces.adopt_endpoint(self, endpoint)
        return endpoint

    return create_vpc_endpoint


def _delete_vpc_endpoints(original):
    def delete_vpc_endpoints(self, vpce_ids=None):
        _purge(self, original)
        immediate = SETTINGS.seconds("vpc_endpoint_delete") <= 0
        for endpoint_id in vpce_ids or []:
            endpoint = self.vpc_end_points.get(endpoint_id)
            if endpoint is None or endpoint.__dict__.get("_emulator_deleting") is not None:
                continue
            if immediate or not _is_interface(endpoint):
                _finish_deletion(self, original, endpoint_id)
            else:
                endpoint._emulator_deleting = provisioning.start("vpc_endpoint_delete")

    return delete_vpc_endpoints


def _describe_vpc_endpoints(original):
    def describe_vpc_endpoints(self, vpc_end_point_ids, filters=None):
        settle(self)
        return original(self, vpc_end_point_ids, filters)

    return describe_vpc_endpoints


def _delete_vpc_endpoints_response(original):
    def delete_vpc_endpoints_response(self):
        from moto.core.responses import ActionResult

        ids = self._get_param("VpcEndpointIds", [])
        settle(self.ec2_backend)
        unknown = [i for i in ids if i not in self.ec2_backend.vpc_end_points]
        original(self)
        failures = [
            {
                "Error": {"Code": "InvalidVpcEndpoint.NotFound", "Message": f"The VPC endpoint '{i}' does not exist"},
                "ResourceId": i,
            }
            for i in unknown
        ]
        return ActionResult({"Unsuccessful": failures})

    return delete_vpc_endpoints_response


@patching.install_once
def install() -> None:
    from moto.ec2.models.vpcs import VPCBackend, VPCEndPoint
    from moto.ec2.responses.vpcs import VPCs

    patching.patch(VPCEndPoint, "state", value=property(_get_state, _set_state))
    patching.patch(
        VPCEndPoint,
        "dns_options",
        value=property(lambda self: {"DnsRecordIpType": "ipv4"} if _is_interface(self) else None),
        add=True,
    )
    patching.patch(
        VPCEndPoint, "ip_address_type", value=property(lambda self: "ipv4" if _is_interface(self) else None), add=True
    )
    patching.patch(VPCEndPoint, "requester_managed", value=False, add=True)
    patching.patch(VPCBackend, "create_vpc_endpoint", _create_vpc_endpoint)
    global _original_delete
    _original_delete = VPCBackend.delete_vpc_endpoints
    patching.patch(VPCBackend, "delete_vpc_endpoints", _delete_vpc_endpoints)
    patching.patch(VPCBackend, "describe_vpc_endpoints", _describe_vpc_endpoints)
    patching.patch(VPCs, "delete_vpc_endpoints", _delete_vpc_endpoints_response)
