"""Jinja tests for deployment inputs: ``x is aws_account_id`` and friends."""

from __future__ import annotations

import re

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
# Joined to the rest of every name with a hyphen: no hyphen at its end and no
# two in a row, which RDS identifiers refuse.
_DEPLOYMENT_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,19}(?<!-)$")


def aws_account_id(value):
    """A 12-digit AWS account ID given as a string."""
    return isinstance(value, str) and bool(_ACCOUNT_ID.match(value))


def aws_region_name(value):
    """An AWS region name such as eu-west-1."""
    return isinstance(value, str) and bool(_REGION.match(value))


def deployment_name(value):
    """A prefix for every resource name: lower-case, starts with a letter, at most 20 characters, no hyphen at
    the end or two in a row."""
    return isinstance(value, str) and bool(_DEPLOYMENT_NAME.match(value))


class TestModule:
    def tests(self):
        return {
            "aws_account_id": aws_account_id,
            "aws_region_name": aws_region_name,
            "deployment_name": deployment_name,
        }
