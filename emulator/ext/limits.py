"""Limits on sizes and names that AWS enforces and moto does not.

- IAM ``CreateRole``: ``RoleName`` is 1 to 64 characters of
  ``[\\w+=,.@-]`` (IAM API reference, CreateRole); AWS answers
  ``ValidationError`` "1 validation error detected: Value '<name>' at
  'roleName' failed to satisfy constraint: Member must have length less than
  or equal to 64".
- RDS ``CreateDBCluster``: ``DBClusterIdentifier`` "Must contain from 1 to 63
  letters, numbers, or hyphens. First character must be a letter. Can't end
  with a hyphen or contain two consecutive hyphens." (RDS API reference,
  CreateDBCluster); AWS answers ``InvalidParameterValue``.  moto checks DB
  instance identifiers, not cluster identifiers; the emulator's proxies and
  proxy endpoints check theirs (``rds_common.validate_identifier``).
- EC2 ``CreateSubnet``: "The allowed block size is between a /28 netmask and
  /16 netmask" (Amazon VPC User Guide, "Subnet CIDR blocks"); AWS answers
  ``InvalidSubnet.Range`` "The CIDR '<cidr>' is invalid.".  moto creates a
  /29 and fails with a server error on a /30.
- Lambda ``CreateFunction``: a function name alone "is limited to 64
  characters in length" (Lambda API reference, CreateFunction); AWS answers
  ``ValidationException`` "1 validation error detected: Value '<name>' at
  'functionName' failed to satisfy constraint: Member must have length less
  than or equal to 64".
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from .. import patching

_ROLE_NAME = re.compile(r"[\w+=,.@-]+")
_RDS_IDENTIFIER = re.compile(r"[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _too_long(value: str, member: str, limit: int) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must have length less than or equal to {limit}"
    )


def _create_role(original: Any) -> Any:
    from moto.iam.exceptions import ValidationError

    def create_role(self, role_name: str, *args: Any, **kwargs: Any) -> Any:
        if len(role_name) > 64:
            raise ValidationError(_too_long(role_name, "roleName", 64))
        if not _ROLE_NAME.fullmatch(role_name):
            raise ValidationError(
                f"1 validation error detected: Value '{role_name}' at 'roleName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
            )
        return original(self, role_name, *args, **kwargs)

    return create_role


def _create_db_cluster(original: Any) -> Any:
    from moto.rds.exceptions import InvalidParameterValue

    def create_db_cluster(self, kwargs: dict[str, Any]) -> Any:
        if not _RDS_IDENTIFIER.fullmatch(kwargs.get("db_cluster_identifier") or ""):
            raise InvalidParameterValue(
                "The parameter DBClusterIdentifier is not a valid identifier. Identifiers must begin with a letter; "
                "must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain "
                "two consecutive hyphens."
            )
        return original(self, kwargs)

    return create_db_cluster


def _create_subnet(original: Any) -> Any:
    from moto.ec2.exceptions import InvalidSubnetRangeError

    def create_subnet(self, vpc_id: str, cidr_block: str, *args: Any, **kwargs: Any) -> Any:
        try:
            prefix = ipaddress.ip_network(cidr_block, strict=False).prefixlen
        except ValueError:
            prefix = None  # moto reports a malformed CIDR
        if prefix is not None and not 16 <= prefix <= 28:
            raise InvalidSubnetRangeError(cidr_block)
        return original(self, vpc_id, cidr_block, *args, **kwargs)

    return create_subnet


def _create_function(original: Any) -> Any:
    from moto.awslambda.exceptions import LambdaClientError

    def create_function(self, spec: dict[str, Any]) -> Any:
        name = spec.get("FunctionName") or ""
        if not name.startswith("arn:") and (len(name) > 64 or not _FUNCTION_NAME.fullmatch(name)):
            raise LambdaClientError("ValidationException", _too_long(name, "functionName", 64))
        return original(self, spec)

    return create_function


@patching.install_once
def install() -> None:
    from moto.awslambda.models import LambdaBackend
    from moto.ec2.models.subnets import SubnetBackend
    from moto.iam.models import IAMBackend
    from moto.rds.models import RDSBackend

    patching.patch(IAMBackend, "create_role", _create_role)
    patching.patch(RDSBackend, "create_db_cluster", _create_db_cluster)
    patching.patch(SubnetBackend, "create_subnet", _create_subnet)
    patching.patch(LambdaBackend, "create_function", _create_function)
