"""Secrets Manager additions: secrets that another service manages, and their managed rotation.

A secret whose tag ``aws:secretsmanager:owningService`` names a service (``OwningService`` in DescribeSecret:
"The ID of the service that created this secret", botocore's model) is that service's: RDS's master user secrets
(emulator/ext/rds_managed_password.py) are the ones the emulator makes.

- PutSecretValue, UpdateSecret with a new value (SecretString or SecretBinary) and DeleteSecret on such a secret
  are refused with InvalidRequestException, "The secret is managed by another service, and you must use that
  service to update it." (the causes of InvalidRequestException in botocore's model, whose error lists of all
  three operations name it; AWS documents no message of its own for DeleteSecret, so the emulator gives this one
  there too). The owning service itself changes the secret through moto's backend, which these refusals leave
  alone. UpdateSecret without a new value (its description, say) is left to moto: AWS documents no refusal of it.
- RotateSecret on a secret whose service rotates it (``MANAGED_ROTATION``: "Some services offer managed rotation,
  where the service configures and manages rotation for you. With managed rotation, you don't use an AWS Lambda
  function", Secrets Manager User Guide, "Managed rotation for AWS Secrets Manager secrets"): ``RotationRules``
  changes the schedule ("To change the schedule for managed rotation (AWS CLI) - Call rotate-secret", same page),
  ``RotateImmediately`` (default true: "If you don't specify this value, Secrets Manager rotates the secret
  immediately", model) has the service rotate the secret now, false leaves the value as it is. A
  ``RotationLambdaARN`` is refused ("For secrets that use managed rotation, omit this field", model; the refusal,
  InvalidRequestException with the message above, is the emulator's choice).
- ``RotationRules`` (botocore's RotationRulesType): ``AutomaticallyAfterDays`` (1 to 1000) or
  ``ScheduleExpression``, "but not both", with an optional ``Duration``; DescribeSecret and ListSecrets show the
  rules as set and, for days or a ``rate()``, ``NextRotationDate`` as the last rotation (or the schedule's start)
  plus the period ("If you use this field to set the rotation schedule, Secrets Manager calculates the next
  rotation date based on the previous rotation", model). The emulator rotates nothing by itself when that date
  comes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from moto.secretsmanager.exceptions import InvalidParameterException, InvalidRequestException
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend
from moto.secretsmanager.responses import SecretsManagerResponse

from .. import patching

# InvalidRequestException, botocore's model: "The secret is managed by another service, and you must use that
# service to update it."
MANAGED_MESSAGE = "The secret is managed by another service, and you must use that service to update it."

# Owning service -> its rotation: rotate(backend, secret, client_request_token) puts a new value in the secret (a
# new version AWSCURRENT, the former AWSPREVIOUS) and wherever the service uses it. Filled by the services' modules.
MANAGED_ROTATION: dict[str, Callable[[SecretsManagerBackend, FakeSecret, str | None], None]] = {}

DAY = 86400
# Secrets Manager User Guide, "Rotation schedules": "rate(Value Unit)" where Unit is hour, hours, day or days;
# "You can rotate a secret as often as every four hours. The maximum rotation period is 999 days."
_RATE = re.compile(r"^rate\((\d+) (hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(.+\)$")
MIN_RATE_HOURS = 4
MAX_RATE_DAYS = 999
# AutomaticallyRotateAfterDaysType: min 1, max 1000 (botocore's model); the message is moto's.
MIN_DAYS, MAX_DAYS = 1, 1000
_RULES = "_emulator_rotation_rules"  # the RotationRules as set, on the FakeSecret
_PERIOD = "_emulator_rotation_period"  # seconds between rotations (None: a cron() schedule)


def managed(backend: SecretsManagerBackend, secret_id: str | None) -> Any:
    """The secret named by ``secret_id`` if another service owns it, else None."""
    if not secret_id or not backend._is_valid_identifier(secret_id):
        return None
    secret = backend.secrets[secret_id]
    return secret if getattr(secret, "owning_service", None) else None


# -- rotation schedules ----------------------------------------------------------------------------------------------


def schedule(secret: FakeSecret, rules: dict[str, Any]) -> None:
    """Set a secret's rotation schedule (``RotationRules`` of RotateSecret) and turn its rotation on."""
    days = rules.get("AutomaticallyAfterDays")
    expression = rules.get("ScheduleExpression")
    if days is not None and expression:
        # "you can set the rotation schedule in RotationRules with AutomaticallyAfterDays or ScheduleExpression, but
        # not both" (RotationRulesType, botocore's model); the message is the emulator's.
        raise InvalidParameterException(
            "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules."
        )
    if days is not None:
        days = int(days)
        if not MIN_DAYS <= days <= MAX_DAYS:
            raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
        stored: dict[str, Any] = {"AutomaticallyAfterDays": days}
        period: int | None = days * DAY
    elif expression:
        period = _expression_period(str(expression))
        stored = {"ScheduleExpression": str(expression)}
    else:
        # The emulator's wording: RotationRules names neither.
        raise InvalidParameterException("RotationRules must have AutomaticallyAfterDays or ScheduleExpression.")
    if rules.get("Duration"):
        stored["Duration"] = str(rules["Duration"])
    secret.rotation_requested = True
    secret.rotation_enabled = True
    secret.auto_rotate_after_days = days or 0
    setattr(secret, _RULES, stored)
    setattr(secret, _PERIOD, period)
    since = secret.last_rotation_date or secret.created_date or int(time.time())
    secret.next_rotation_date = since + period if period else None


def rotated(secret: FakeSecret) -> None:
    """Record a rotation that has just happened: LastRotatedDate now, NextRotationDate one period on."""
    now = int(time.time())
    secret.last_rotation_date = now
    period = getattr(secret, _PERIOD, None)
    if period:
        secret.next_rotation_date = now + period


def _expression_period(expression: str) -> int | None:
    """Seconds between rotations of a ``rate()`` expression; None for a ``cron()`` one (the emulator does not
    compute cron schedules). The messages are the emulator's."""
    found = _RATE.match(expression)
    if found is not None:
        value, unit = int(found.group(1)), found.group(2)
        hours = value if unit.startswith("hour") else value * 24
        if hours < MIN_RATE_HOURS or hours > MAX_RATE_DAYS * 24:
            raise InvalidParameterException(
                f"The schedule expression {expression} must rotate at most every four hours and at least every "
                "999 days."
            )
        return hours * 3600
    if _CRON.match(expression):
        return None
    raise InvalidParameterException(f"The schedule expression {expression} is not a valid rate() or cron() expression.")


# -- the operations ------------------------------------------------------------------------------------------------


def _refused_when_managed(original: Any, *, value_only: bool = False) -> Any:
    def handler(self: SecretsManagerResponse) -> Any:
        if value_only and self._get_param("SecretString") is None and self._get_param("SecretBinary") is None:
            return original(self)
        if managed(self.backend, self._get_param("SecretId")) is not None:
            raise InvalidRequestException(MANAGED_MESSAGE)
        return original(self)

    return handler


def _rotate_secret(original: Any) -> Any:
    def rotate_secret(
        self: SecretsManagerBackend,
        secret_id: str,
        client_request_token: str | None = None,
        rotation_lambda_arn: str | None = None,
        rotation_rules: dict[str, Any] | None = None,
        rotate_immediately: bool = True,
    ) -> str:
        secret = managed(self, secret_id)
        rotate = MANAGED_ROTATION.get(getattr(secret, "owning_service", None) or "")
        if not isinstance(secret, FakeSecret) or rotate is None or secret.is_deleted():
            return original(
                self, secret_id, client_request_token, rotation_lambda_arn, rotation_rules, rotate_immediately
            )
        if rotation_lambda_arn:
            raise InvalidRequestException(MANAGED_MESSAGE)
        if rotation_rules:
            schedule(secret, rotation_rules)
        if rotate_immediately:
            rotate(self, secret, client_request_token)
        return secret.to_short_dict()

    return rotate_secret


def _to_dict(original: Any) -> Any:
    """DescribeSecret and ListSecrets: RotationRules as set (moto knows AutomaticallyAfterDays only); no
    RotationLambdaARN where no Lambda function rotates the secret (managed rotation)."""

    def to_dict(self: FakeSecret) -> dict[str, Any]:
        data = original(self)
        rules = getattr(self, _RULES, None)
        if rules is not None and self.rotation_requested:
            data["RotationRules"] = dict(rules)
            if not self.rotation_lambda_arn:
                data.pop("RotationLambdaARN", None)
        return data

    return to_dict


@patching.install_once
def install() -> None:
    patching.patch(SecretsManagerResponse, "put_secret_value", _refused_when_managed)
    patching.patch(
        SecretsManagerResponse, "update_secret", lambda original: _refused_when_managed(original, value_only=True)
    )
    patching.patch(SecretsManagerResponse, "delete_secret", _refused_when_managed)
    patching.patch(SecretsManagerBackend, "rotate_secret", _rotate_secret)
    patching.patch(FakeSecret, "to_dict", _to_dict)
