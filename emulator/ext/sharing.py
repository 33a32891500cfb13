"""Which EC2 subnets and VPCs an account can see: its own, plus those shared
with it through an active AWS RAM resource share (VPC sharing).

Other additions (RDS proxy endpoints, security groups in a shared VPC) ask
here instead of looking only at the caller's own EC2 backend.
"""

from __future__ import annotations

from typing import Any


def _ec2(account_id: str, region: str):
    from moto.ec2.models import ec2_backends

    return ec2_backends[account_id][region]


def find_subnet(account_id: str, region: str, subnet_id: str) -> Any | None:
    """The subnet if ``account_id`` owns it or it is shared with the account."""
    subnets = _ec2(account_id, region).subnets
    for by_id in subnets.values():
        if subnet_id in by_id:
            return by_id[subnet_id]
    return None


def install() -> None:
    """Nothing to patch yet: VPC sharing is added with the RAM additions."""
