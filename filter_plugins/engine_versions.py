"""What an Aurora engine version asked for means for a cluster that runs another.

A user asks for a major (``"17"``) or a major and minor (``"16.6"``). AWS
retires minor versions and upgrades clusters to newer minors by itself
(Aurora User Guide, "Automatic minor version upgrades"), so a cluster that
runs a newer minor of the major asked for is what was asked: neither drift
nor a request to downgrade (which AWS refuses anyway).
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")


def _parts(version):
    match = _VERSION.fullmatch(str(version))
    if not match:
        raise ValueError(f"{version!r} is not a version such as 17 or 16.6")
    return int(match.group(1)), None if match.group(2) is None else int(match.group(2))


def engine_major(version):
    """The major of a version: ``"16.6" | engine_major`` gives ``"16"``."""
    return str(_parts(version)[0])


def engine_version_satisfies(current, asked):
    """Whether a cluster running ``current`` is what ``asked`` asks for: the same major and, when ``asked``
    names a minor, a minor no older than it."""
    (current_major, current_minor), (asked_major, asked_minor) = _parts(current), _parts(asked)
    if current_major != asked_major:
        return False
    return asked_minor is None or (current_minor or 0) >= asked_minor


class FilterModule:
    def filters(self):
        return {"engine_major": engine_major, "engine_version_satisfies": engine_version_satisfies}
