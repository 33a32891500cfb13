"""Additions to moto where it lacks what the project needs.

Each module patches one service and exposes ``install()``; installing twice is
harmless.  They follow AWS's documented behaviour: shapes of botocore's service
model, status values, error codes, ARN and DNS formats.  Every change to moto's
classes and modules goes through :func:`emulator.patching.patch`, which refuses
an attribute that moto does not have and records each patch
(``tests/emulator/patches.txt`` lists them).
"""

from __future__ import annotations

import importlib

MODULES: tuple[str, ...] = (
    "iam",
    "iam_roles",
    "sts",
    "limits",
    "organizations",
    "sharing",
    "ram",
    "ec2",
    "network_interfaces",
    "logs_delivery",
    "awslambda",
    "secretsmanager",
    "rds",
    "rds_data",
)

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").install()
    _installed = True
