"""Filters for validating network inputs without third-party packages."""

from __future__ import annotations

import ipaddress


def cidr_errors(cidrs):
    """Return messages for CIDRs that are malformed or overlap each other.

    ``cidrs`` maps a label (the variable and host it came from) to a CIDR.
    """
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


class FilterModule:
    def filters(self):
        return {"cidr_errors": cidr_errors}
