"""The limits AWS puts on the names the roles derive, checked before anything is created.

``names | aws_name_errors`` takes a list of ``[kind, what, name]`` (``what``
says which resource and which variables it comes from) and returns one
message per name that AWS would refuse. The kinds and their rules, from each
service's API reference:

- ``rds``: DB cluster and DB instance identifiers, RDS Proxy and proxy
  endpoint names: 1 to 63 letters, digits or hyphens, starting with a letter,
  no two consecutive hyphens, no hyphen at the end (RDS API reference,
  CreateDBCluster ``DBClusterIdentifier``, CreateDBProxy ``DBProxyName``,
  CreateDBProxyEndpoint ``DBProxyEndpointName``);
- ``db_subnet_group``: at most 255 letters, digits, periods, underscores,
  spaces or hyphens, not ``default`` (CreateDBSubnetGroup);
- ``iam_role``: 1 to 64 of ``[A-Za-z0-9+=,.@_-]`` (IAM API reference,
  CreateRole ``RoleName``);
- ``lambda_function``: 1 to 64 letters, digits, hyphens or underscores
  (Lambda API reference, CreateFunction ``FunctionName``: "If you specify only
  the function name, it is limited to 64 characters in length");
- ``lambda_layer``: 1 to 140 of the same (PublishLayerVersion ``LayerName``);
- ``security_group``: 1 to 255 characters of ``a-z A-Z 0-9 spaces
  ._-:/()#,@[]+=&;{}!$*``, not starting with ``sg-`` (EC2 API reference,
  CreateSecurityGroup ``GroupName``);
- ``log_group``: 1 to 512 of ``[.\\-_/#A-Za-z0-9]`` (CloudWatch Logs API
  reference, CreateLogGroup);
- ``secret``: 1 to 512 of ``[A-Za-z0-9/_+=.@-]`` (Secrets Manager API
  reference, CreateSecret ``Name``);
- ``ram_share``: 1 to 255 characters (RAM API reference: resource share names);
- ``tag_value``: at most 256 characters (a ``Name`` tag; tagging limits).
"""

from __future__ import annotations

import re

_RULES = {
    "rds": (
        63,
        re.compile(r"[A-Za-z](?!.*--)[A-Za-z0-9-]*(?<!-)"),
        "RDS identifiers are 1 to 63 letters, digits or hyphens, start with a letter and have neither two "
        "consecutive hyphens nor a hyphen at the end",
    ),
    "db_subnet_group": (
        255,
        re.compile(r"(?!default$)[A-Za-z0-9._ -]+"),
        "DB subnet group names are at most 255 letters, digits, periods, underscores, spaces or hyphens, "
        "and not 'default'",
    ),
    "iam_role": (64, re.compile(r"[\w+=,.@-]+"), "IAM role names are 1 to 64 of the characters A-Z a-z 0-9 +=,.@_-"),
    "lambda_function": (
        64,
        re.compile(r"[A-Za-z0-9_-]+"),
        "Lambda function names are 1 to 64 letters, digits, hyphens or underscores",
    ),
    "lambda_layer": (
        140,
        re.compile(r"[A-Za-z0-9_-]+"),
        "Lambda layer names are 1 to 140 letters, digits, hyphens or underscores",
    ),
    "security_group": (
        255,
        re.compile(r"(?!sg-)[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+"),
        "security group names are 1 to 255 characters of a-z A-Z 0-9 spaces ._-:/()#,@[]+=&;{}!$* "
        "and do not start with sg-",
    ),
    "log_group": (
        512,
        re.compile(r"[.\-_/#A-Za-z0-9]+"),
        "log group names are 1 to 512 characters of a-z A-Z 0-9 . - _ / #",
    ),
    "secret": (512, re.compile(r"[A-Za-z0-9/_+=.@-]+"), "secret names are 1 to 512 characters of a-z A-Z 0-9 /_+=.@-"),
    "ram_share": (255, re.compile(r".+"), "resource share names are 1 to 255 characters"),
    "tag_value": (256, re.compile(r".*"), "tag values are at most 256 characters"),
}


def aws_name_errors(names):
    """Messages for the names of ``[[kind, what, name], ...]`` that AWS would refuse (an empty list when none)."""
    errors = []
    for kind, what, name in names:
        limit, pattern, rule = _RULES[kind]
        name = str(name)
        if len(name) > limit or not pattern.fullmatch(name):
            errors.append(f"{what} would be {name!r} ({len(name)} characters), but {rule}")
    return errors


class FilterModule:
    def filters(self):
        return {"aws_name_errors": aws_name_errors}
