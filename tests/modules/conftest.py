"""Fixtures of the module tests: stubbed AWS clients that must be used up,
and no real sleeping in waiters or retries of the unit tests.

Importing ``.stubbed`` first lets ``ansible.module_utils`` find the project's
``module_utils/``, as Ansible does through ansible.cfg."""

from __future__ import annotations

import botocore.waiter
import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud

from .stubbed import Stubs


@pytest.fixture
def stubs(monkeypatch):
    monkeypatch.setattr(botocore.waiter.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(cloud.time, "sleep", lambda seconds: None)
    stubs = Stubs()
    yield stubs
    assert stubs.pending() == {}, "expected AWS calls were not made"
