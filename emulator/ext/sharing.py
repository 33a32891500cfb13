"""VPC sharing: which EC2 subnets and VPCs an account can see and use.

An account sees its own subnets and VPCs plus the subnets that other accounts
share with it through an active AWS RAM resource share (share ``ACTIVE``,
principal and resource associations ``ASSOCIATED``), and the VPCs of those
subnets.  As on AWS, a shared subnet or VPC keeps its owner's ``OwnerId``;
the owner's tags are not shared: the participant sees only the tags it put
on the shared subnet or VPC itself.  The participant account can create its
own security groups in a shared VPC (they belong to the participant, with
AWS's default egress rule), and other additions (RDS proxy endpoints, Lambda
functions) place resources in shared subnets through :func:`find_subnet`.
Disassociating the subnet or the principal, or deleting the share, takes all
of that away at once.

Patched in moto's EC2: ``DescribeSubnets`` and ``DescribeVpcs`` (shared items
included; the ``owner-id`` filter works), ``CreateTags`` (a participant may
tag a shared subnet or VPC for itself), ``CreateSecurityGroup`` (the VPC must
exist for the caller, own or shared: ``InvalidVpcID.NotFound``).
Nothing else about EC2 changes: a participant cannot create subnets, route
tables or endpoints in the owner's VPC through these patches.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from .. import patching

SUBNET_TYPE = "ec2:Subnet"


def _ec2(account_id: str, region: str):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region]


def _own_subnet(account_id: str, region: str, subnet_id: str) -> Any | None:
    for by_id in _ec2(account_id, region).subnets.values():
        if subnet_id in by_id:
            return by_id[subnet_id]
    return None


def shared_subnets(account_id: str, region: str) -> list[Any]:
    """Subnets of other accounts shared with ``account_id`` (active shares only)."""
    from . import ram

    subnets = []
    for arn in ram.shared_resource_arns(account_id, region, SUBNET_TYPE):
        # arn:aws:ec2:<region>:<owner>:subnet/<subnet-id>
        parts = arn.split(":")
        owner, subnet_id = parts[4], parts[5].split("/", 1)[-1]
        subnet = _own_subnet(owner, region, subnet_id)
        if subnet is not None and subnet not in subnets:
            subnets.append(subnet)
    return subnets


def shared_vpcs(account_id: str, region: str) -> list[Any]:
    """VPCs of the subnets shared with ``account_id``."""
    vpcs = []
    for subnet in shared_subnets(account_id, region):
        vpc = _ec2(subnet.owner_id, region).vpcs.get(subnet.vpc_id)
        if vpc is not None and vpc not in vpcs:
            vpcs.append(vpc)
    return vpcs


def find_subnet(account_id: str, region: str, subnet_id: str) -> Any | None:
    """The subnet if ``account_id`` owns it or it is shared with the account."""
    subnet = _own_subnet(account_id, region, subnet_id)
    if subnet is not None:
        return subnet
    return next((s for s in shared_subnets(account_id, region) if s.id == subnet_id), None)


def find_vpc(account_id: str, region: str, vpc_id: str) -> Any | None:
    """The VPC if ``account_id`` owns it or one of its subnets is shared with the account."""
    vpc = _ec2(account_id, region).vpcs.get(vpc_id)
    if vpc is not None:
        return vpc
    return next((v for v in shared_vpcs(account_id, region) if v.id == vpc_id), None)


# ---------------------------------------------------------------------------
# moto patches
# ---------------------------------------------------------------------------
def _participant_view(resource: Any, participant_backend: Any) -> Any:
    """A shared subnet or VPC as the participant describes it: the owner's
    object, with the participant's own tags instead of the owner's."""
    view = copy.copy(resource)
    view.get_tags = lambda: participant_backend.describe_tags(filters={"resource-id": [resource.id]})
    return view


def _split_owner_filter(filters: Any) -> tuple[dict, list[str] | None]:
    filters = dict(filters or {})
    owners = filters.pop("owner-id", None) or filters.pop("ownerId", None)
    return filters, owners


def _select(matches: list[Any], ids: list[str] | None, filters: Any, not_found: Any) -> list[Any]:
    """Apply DescribeSubnets/DescribeVpcs selection: IDs (unknown ones are an
    error), the owner-id filter, then moto's own filters."""
    from moto.ec2.utils import generic_filter

    if ids:
        matches = [m for m in matches if m.id in ids]
        unknown = [i for i in ids if i not in {m.id for m in matches}]
        if unknown:
            raise not_found(unknown[0])
    filters, owners = _split_owner_filter(filters)
    if owners:
        matches = [m for m in matches if m.owner_id in owners]
    if filters:
        matches = generic_filter(filters, matches)
    return matches


def _describe_subnets(self, subnet_ids: list[str] | None = None, filters: Any | None = None) -> list[Any]:
    from moto.ec2.exceptions import InvalidSubnetIdError

    matches = list(itertools.chain(*[x.copy().values() for x in self.subnets.copy().values()]))
    matches += [_participant_view(s, self) for s in shared_subnets(self.account_id, self.region_name)]
    return _select(matches, subnet_ids, filters, InvalidSubnetIdError)


def _describe_vpcs(self, vpc_ids: list[str] | None = None, filters: Any = None) -> list[Any]:
    from moto.ec2.exceptions import InvalidVPCIdError

    matches = list(self.vpcs.values())
    matches += [_participant_view(v, self) for v in shared_vpcs(self.account_id, self.region_name)]
    return _select(matches, vpc_ids, filters, InvalidVPCIdError)


def _shared_with(backend: Any, resource_id: str) -> bool:
    """True for the ID of a subnet or VPC another account shares with ``backend``'s account."""
    account, region = backend.account_id, backend.region_name
    if resource_id.startswith("subnet-"):
        return (
            _own_subnet(account, region, resource_id) is None and find_subnet(account, region, resource_id) is not None
        )
    if resource_id.startswith("vpc-"):
        return resource_id not in backend.vpcs and find_vpc(account, region, resource_id) is not None
    return False


def _do_resources_exist(original: Any) -> Any:
    def do_resources_exist(self, resource_ids: list[str]) -> bool:
        return original(self, [r for r in resource_ids if not _shared_with(self, r)])

    return do_resources_exist


def _create_security_group(original: Any) -> Any:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def create_security_group(self, name, description, vpc_id=None, *args, **kwargs):
        group = original(self, name, description, vpc_id, *args, **kwargs)
        if vpc_id and vpc_id not in self.vpcs and not group.egress_rules:
            # A group in a shared VPC gets AWS's default egress rule too.
            shared = find_vpc(self.account_id, self.region_name, vpc_id)
            if shared is not None:
                group.egress_rules.append(SecurityGroupRule(self, "-1", group.id, None, None, {"CidrIp": "0.0.0.0/0"}))
        return group

    return create_security_group


def _create_security_group_response(original: Any) -> Any:
    from moto.ec2.exceptions import InvalidVPCIdError

    def create_security_group_response(self):
        vpc_id = self._get_param("VpcId")
        if vpc_id and find_vpc(self.current_account, self.region, vpc_id) is None:
            raise InvalidVPCIdError(vpc_id)
        return original(self)

    return create_security_group_response


@patching.install_once
def install() -> None:
    from moto.ec2.models import EC2Backend
    from moto.ec2.models.security_groups import SecurityGroupBackend
    from moto.ec2.models.subnets import SubnetBackend
    from moto.ec2.models.vpcs import VPCBackend
    from moto.ec2.responses.security_groups import SecurityGroups

    patching.patch(SubnetBackend, "describe_subnets", value=_describe_subnets)
    patching.patch(VPCBackend, "describe_vpcs", value=_describe_vpcs)
    patching.patch(EC2Backend, "do_resources_exist", _do_resources_exist)
    patching.patch(SecurityGroupBackend, "create_security_group", _create_security_group)
    patching.patch(SecurityGroups, "create_security_group", _create_security_group_response)
