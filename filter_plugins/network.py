"""Filters for validating network inputs without third-party packages."""

from __future__ import annotations

import ipaddress


def cidr_errors(cidrs):
    """Return messages for CIDRs that are malformed or overlap each other.

    ``cidrs`` maps a label (the variable and host it came from) to a CIDR, or
    is one CIDR.
    """
    if not isinstance(cidrs, dict):
        cidrs = {"CIDR": cidrs}
    errors = []
    networks = {}
    for label, cidr in cidrs.items():
        try:
            network = ipaddress.ip_network(str(cidr), strict=True)
        except ValueError as exc:
            errors.append(f"{label}: {cidr!r} is not a valid CIDR ({exc})")
            continue
        if network.version != 4 or not 16 <= network.prefixlen <= 28:
            errors.append(f"{label}: {cidr} must be an IPv4 CIDR from /16 to /28 (the VPC limits)")
            continue
        networks[label] = network
    labels = sorted(networks)
    for i, first in enumerate(labels):
        for second in labels[i + 1 :]:
            if networks[first].overlaps(networks[second]):
                errors.append(f"{first} ({networks[first]}) overlaps {second} ({networks[second]})")
    return errors


def subnet_layout_errors(cidr, count, newbits, variables="private_network"):
    """Messages when ``count`` subnets of ``cidr``, each ``newbits`` bits longer, cannot be made on AWS.

    AWS subnets are /16 to /28 ("The allowed block size is between a /28
    netmask and /16 netmask", Amazon VPC User Guide, "Subnet CIDR blocks"),
    and ``newbits`` bits give at most ``2 ** newbits`` subnets. ``variables``
    is the prefix of the variables the values came from (``app_network``:
    ``app_network_vpc_cidr``, ``app_network_az_count``,
    ``app_network_subnet_newbits``), named in the messages.
    """
    try:
        network = ipaddress.ip_network(str(cidr), strict=True)
        count, newbits = int(count), int(newbits)
    except (TypeError, ValueError):
        return []  # cidr_errors reports a malformed CIDR
    errors = []
    prefix = network.prefixlen + newbits
    if newbits < 0 or prefix > 28:
        errors.append(
            f"{variables}_vpc_cidr {cidr} split by {variables}_subnet_newbits {newbits} gives /{prefix} subnets, "
            "but AWS subnets are /16 to /28: use a larger VPC or fewer new bits"
        )
    elif count > 2**newbits:
        errors.append(
            f"{variables}_subnet_newbits {newbits} gives {2**newbits} subnets of {cidr}, fewer than "
            f"{variables}_az_count {count}"
        )
    return errors


def subnet_cidrs(cidr, count, newbits=2):
    """The first ``count`` subnets of ``cidr``, each ``newbits`` bits longer.

    ``"10.0.16.0/24" | subnet_cidrs(2)`` gives ``["10.0.16.0/26", "10.0.16.64/26"]``.
    """
    network = ipaddress.ip_network(str(cidr), strict=True)
    count, newbits = int(count), int(newbits)
    if count > 2**newbits:
        raise ValueError(f"{cidr} split by {newbits} bits gives {2**newbits} subnets, fewer than {count}")
    return [str(subnet) for subnet in list(network.subnets(prefixlen_diff=newbits))[:count]]


def zone_subnets(cidrs, zones, tags, name_prefix):
    """One subnet per CIDR, in the zones taken in sorted order, each tagged ``Name: <name_prefix>-<zone>``.

    ``["10.0.0.0/26"] | zone_subnets(["eu-west-1b", "eu-west-1a"], {}, "db-private")`` gives
    ``[{"cidr": "10.0.0.0/26", "az": "eu-west-1a", "tags": {"Name": "db-private-eu-west-1a"}}]``.
    """
    zones = sorted(zones)
    if len(zones) < len(cidrs):
        raise ValueError(f"{len(cidrs)} subnets need as many zones, got {len(zones)}")
    return [
        {"cidr": cidr, "az": zone, "tags": {**(tags or {}), "Name": f"{name_prefix}-{zone}"}}
        for cidr, zone in zip(cidrs, zones, strict=False)
    ]


class FilterModule:
    def filters(self):
        return {
            "cidr_errors": cidr_errors,
            "subnet_layout_errors": subnet_layout_errors,
            "subnet_cidrs": subnet_cidrs,
            "zone_subnets": zone_subnets,
        }
