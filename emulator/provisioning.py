"""Provisioning time: a resource stays in its transitional status for a while.

A service addition calls :func:`start` when an operation begins and
:func:`done` whenever it describes the resource::

    self._ready = provisioning.start("db_proxy_endpoint")
    ...
    status = "available" if provisioning.done(self._ready) else "creating"

The duration is ``AWS_MINUTES[kind] * delay_scale`` seconds, read when the
operation starts, so changing the scale does not alter operations under way.

Tests can hold operations of some kinds in their transitional status
(``hold`` in the settings): an operation that starts while its kind is held
is not ``done``, however long it runs, until the hold is lifted (operations
that started before are not affected). A test that must act while a
resource is still being created (kill a run inside a wait, say) then does
not depend on how fast the machine is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .settings import SETTINGS


@dataclass(frozen=True)
class Deadline:
    """When an operation of ``kind`` completes (``time.monotonic()`` seconds), and whether it started held."""

    kind: str
    at: float
    held: bool = False


def start(kind: str, seconds: float | None = None) -> Deadline:
    """Return when an operation of ``kind`` that begins now completes: after
    its modelled time, or after ``seconds`` when given (a phase of it)."""
    duration = SETTINGS.seconds(kind) if seconds is None else seconds
    return Deadline(kind, time.monotonic() + duration, kind in SETTINGS.hold)


def done(deadline: Deadline | None) -> bool:
    if deadline is None:
        return True
    if deadline.held and deadline.kind in SETTINGS.hold:
        return False
    return time.monotonic() >= deadline.at
