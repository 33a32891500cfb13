"""The database user of an application account, derived from its inventory host name.

PostgreSQL role names that the project's module ``rds_db_users`` accepts are lowercase letters, digits and
underscores, starting with a letter (at most 63 bytes). A host name such as ``application-a`` gives
``application_a``; one that does not start with a letter (``1-app``) is prefixed: ``app_1_app``.
"""

from __future__ import annotations

import re


def db_username(host):
    """``"Application-A" | db_username`` gives ``"application_a"``."""
    name = re.sub(r"[^a-z0-9]", "_", str(host).lower())
    return name if re.match(r"[a-z]", name) else f"app_{name}"


class FilterModule:
    def filters(self):
        return {"db_username": db_username}
