"""Provisioning time: a resource stays in its transitional status for a while.

A service addition calls :func:`start` when an operation begins and
:func:`done` whenever it describes the resource::

    self._ready = provisioning.start("db_proxy_endpoint")
    ...
    status = "available" if provisioning.done(self._ready) else "creating"

The duration is ``AWS_MINUTES[kind] * delay_scale`` seconds, read when the
operation starts, so changing the scale does not alter operations under way.
"""

from __future__ import annotations

import time

from .settings import SETTINGS


def start(kind: str) -> float:
    """Return the monotonic time at which an operation of ``kind`` completes."""
    return time.monotonic() + SETTINGS.seconds(kind)


def done(ready_at: float | None) -> bool:
    return ready_at is None or time.monotonic() >= ready_at
