"""Master user passwords that RDS manages in Secrets Manager (``ManageMasterUserPassword``) for Aurora DB clusters.

Sources: Aurora User Guide, "Password management with Amazon Aurora and AWS Secrets Manager" (the guide); RDS User
Guide, the section on rotating the master user password; botocore's RDS model (CreateDBCluster, ModifyDBCluster,
MasterUserSecret). moto's MasterUserSecret already makes the secret ``rds!cluster-<uuid>``, its description, the
tags ``aws:rds:primaryDBClusterArn`` and ``aws:secretsmanager:owningService`` = ``rds``
(AmazonRDSServiceRolePolicy lets RDS create secrets with these tags) and DescribeDBClusters' ``MasterUserSecret``
(SecretArn, SecretStatus, KmsKeyId), but with a fixed value and without rotation. Here:

- The secret's value is ``{"username": <MasterUsername>, "password": <new>}``, a new password being 28 random
  printable ASCII characters without "/", '"', "@" or space ("The new password is always 28 characters long",
  RDS User Guide; MasterUserPassword: "Can contain any printable ASCII character except "/", '"', or "@"" (the
  quote written here as '"'), botocore; the space is left out by the emulator).
- Rotation is on, every 7 days: "Aurora manages the settings for the secret and rotates the secret every seven
  days by default. You can modify some of the settings, such as the rotation schedule." (the guide). The schedule
  is changed with Secrets Manager's RotateSecret (emulator/ext/secretsmanager.py).
- SecretStatus (botocore: creating, active, rotating, impaired): ``creating`` while the cluster is being created
  and in the answer of the call that created the secret, ``rotating`` in the answer of the call that rotated it
  (rotation completes before the emulator answers, see below), else ``active``. ``impaired`` is not modelled.
- ModifyDBCluster ``ManageMasterUserPassword`` true on a cluster whose password is its own: "you can turn on this
  management. In this case, you can't specify MasterUserPassword." (botocore): RDS makes the secret with a new
  password and the database takes it. False on a managed cluster: "you must specify MasterUserPassword. In this
  case, RDS deletes the secret and uses the new password for the master user specified by MasterUserPassword"
  (botocore). True on a cluster already managed changes nothing (the emulator's reading; AWS documents none).
- ModifyDBCluster ``RotateMasterUserPassword`` with ApplyImmediately, and Secrets Manager's RotateSecret on the
  secret, put a new password in it (a new version AWSCURRENT, the former one AWSPREVIOUS) and on the database.
- Every change of the master password reaches the cluster's running writer before the call answers
  (``postgres.apply_master_password``): "changing the master password, are applied immediately" (ModifyDBCluster,
  ApplyImmediately, botocore). On AWS rotation is asynchronous ("Rotation for managed secrets typically completes
  within one minute", Secrets Manager User Guide, "Managed rotation for AWS Secrets Manager secrets"); the
  emulator completes it at once.
- DeleteDBCluster deletes the secret (moto does it, without a recovery window): deleting a DB cluster that manages
  a secret in Secrets Manager deletes the secret and its associated metadata (the guide, overview). When AWS
  deletes it is not documented; the emulator deletes it with the call.

Refusals, InvalidParameterCombination (HTTP 400, RDS's query error shape), before anything changes:

- MasterUserPassword with ManageMasterUserPassword true, in CreateDBCluster or ModifyDBCluster: "Can't manage
  the master user password with Amazon Web Services Secrets Manager if MasterUserPassword is specified."
  (botocore's constraint; AWS documents no message, the emulator answers with the constraint);
- ModifyDBCluster MasterUserPassword alone on a managed cluster: "Can't be specified if ManageMasterUserPassword
  is turned on." (botocore, MasterUserPassword; the message is the emulator's);
- ModifyDBCluster ManageMasterUserPassword false without MasterUserPassword: "MasterUserPassword must be provided
  when ManageMasterUserPassword is set to false." (observed: terraform-aws-modules/terraform-aws-rds-aurora issue
  370, on a cluster whose password was not managed; CloudFormation's RDS resource provider, pull request 442,
  reports the same refusal);
- ModifyDBCluster ManageMasterUserPassword false, with MasterUserPassword, on a cluster whose password is not
  managed: "You cannot set ManageMasterUserPassword to false because the master user password is not currently
  managed by RDS." (observed: hashicorp/terraform-provider-aws pull request 49000);
- ModifyDBCluster RotateMasterUserPassword without ApplyImmediately: "You must specify apply immediately when
  rotating the master user password." (moto's message; botocore: "You must apply the change immediately when
  rotating the master user password.") and on a cluster whose password is not managed ("This setting is valid
  only if the master user password is managed by RDS in Amazon Web Services Secrets Manager for the DB cluster",
  botocore; the message is the emulator's). moto raises the first one after taking the cluster out of its
  backend, which lost the cluster: the emulator refuses before moto runs.

And InvalidDBClusterStateFault (HTTP 400) for a ModifyDBCluster that would change the master password of a
cluster that is not ``available`` (still ``creating``, say): botocore's ModifyDBCluster lists
InvalidDBClusterStateFault, "The requested operation can't be performed while the cluster is in this state"; the
message is the one observed, "DB cluster is not available for modification with status <status>"
(aws-controllers-k8s/community issue 1107; hashicorp/terraform-provider-aws pull request 18). Other
ModifyDBCluster calls on such a cluster are still accepted by the emulator (README, "Differences from AWS").
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from moto.rds.exceptions import InvalidParameterCombination, InvalidParameterValue
from moto.rds.models import DBCluster, MasterUserSecret, RDSBackend, rds_backends
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

from .. import patching
from . import secretsmanager
from .rds_common import InvalidDBClusterStateFault

OWNING_SERVICE = "rds"
PASSWORD_LENGTH = 28
PASSWORD_ALPHABET = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) not in '/"@')
ROTATION_DAYS = 7
MIN_PASSWORD_LENGTH = 8  # MasterUserPassword: "Must contain from 8 to 41 characters." (botocore)

BOTH = (
    "Can't manage the master user password with Amazon Web Services Secrets Manager if MasterUserPassword is specified."
)
WHILE_MANAGED = "MasterUserPassword can't be specified while ManageMasterUserPassword is turned on for the DB cluster."
MUST_PROVIDE = "MasterUserPassword must be provided when ManageMasterUserPassword is set to false."
NOT_MANAGED = (
    "You cannot set ManageMasterUserPassword to false because the master user password is not currently managed by RDS."
)
NOT_AVAILABLE = "DB cluster is not available for modification with status {status}"
APPLY_IMMEDIATELY = "You must specify apply immediately when rotating the master user password."
ROTATE_NOT_MANAGED = (
    "RotateMasterUserPassword is valid only if the master user password of the DB cluster is managed by RDS in "
    "Amazon Web Services Secrets Manager."
)


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def _value(username: str | None) -> str:
    return json.dumps({"username": username, "password": new_password()})


def is_managed(resource: Any) -> bool:
    return bool(getattr(resource, "manage_master_user_password", False)) and hasattr(resource, "master_user_secret")


# -- the secret ------------------------------------------------------------------------------------------------------


def _generate_secret_string(self: MasterUserSecret) -> str:
    return _value(self.resource.master_username)


def _init(original: Any) -> Any:
    def __init__(self: MasterUserSecret, resource: Any, kms_key_id: str | None) -> None:
        original(self, resource, kms_key_id)
        secretsmanager.schedule(self.secret, {"AutomaticallyAfterDays": ROTATION_DAYS})

    return __init__


def _rotate(self: MasterUserSecret, client_request_token: str | None = None) -> None:
    """A new password in the secret: a new version AWSCURRENT, the former one AWSPREVIOUS (PutSecretValue's staging
    labels, botocore). The database gets it from the caller (``_apply``)."""
    self.secretsmanager.put_secret_value(
        self.secret.arn, _value(self.resource.master_username), None, client_request_token, ["AWSCURRENT"]
    )
    secretsmanager.rotated(self.secret)
    self._status = "rotating"


def _secret_status(self: MasterUserSecret) -> str:
    status = self._status
    if status in ("creating", "rotating"):
        self._status = "active"  # shown once, in the answer of the call that created or rotated it
        return status
    if isinstance(self.resource, DBCluster) and self.resource.status == "creating":
        return "creating"
    return "active"


def _apply(backend: RDSBackend, cluster: DBCluster) -> None:
    from ..dataplane import postgres

    postgres.apply_master_password(backend.account_id, backend.region_name, cluster)


def _rotate_for_secrets_manager(backend: SecretsManagerBackend, secret: FakeSecret, token: str | None) -> None:
    """RotateSecret on a secret RDS manages: RDS rotates it (a cluster's, then its database too)."""
    rds = rds_backends[backend.account_id][backend.region_name]
    for resource in [*rds.clusters.values(), *rds.databases.values()]:
        managed = getattr(resource, "master_user_secret", None)
        if managed is not None and managed.secret.arn == secret.arn:
            managed.rotate_secret(token)
            if isinstance(resource, DBCluster):
                _apply(rds, resource)
            return
    # A secret RDS no longer uses: a new password all the same, the username kept.
    current = secret.versions.get(secret.default_version_id or "", {}).get("secret_string") or "{}"
    try:
        username = json.loads(current).get("username")
    except (ValueError, AttributeError):
        username = None
    backend.put_secret_value(secret.arn, _value(username), None, token, ["AWSCURRENT"])
    secretsmanager.rotated(secret)


# -- CreateDBCluster and ModifyDBCluster -------------------------------------------------------------------------------


def _create_db_cluster(original: Any) -> Any:
    def create_db_cluster(self: RDSBackend, kwargs: dict[str, Any]) -> Any:
        if kwargs.get("manage_master_user_password") and kwargs.get("master_user_password"):
            raise InvalidParameterCombination(BOTH)
        return original(self, kwargs)

    return create_db_cluster


def _check_modify(cluster: DBCluster, kwargs: dict[str, Any]) -> bool:
    """Refuse what RDS refuses; True when the call changes the master password."""
    managed = is_managed(cluster)
    manage = kwargs.get("manage_master_user_password")
    password = kwargs.get("master_user_password")
    rotate = bool(kwargs.get("rotate_master_user_password"))
    if manage is True and password:
        raise InvalidParameterCombination(BOTH)
    if manage is False:
        if not password:
            raise InvalidParameterCombination(MUST_PROVIDE)
        if not managed:
            raise InvalidParameterCombination(NOT_MANAGED)
    if manage is None and password and managed:
        raise InvalidParameterCombination(WHILE_MANAGED)
    if rotate:
        if not kwargs.get("apply_immediately"):
            raise InvalidParameterCombination(APPLY_IMMEDIATELY)
        if not managed or manage is False:
            raise InvalidParameterCombination(ROTATE_NOT_MANAGED)
    # moto's own checks of MasterUserPassword (and its messages), which moto makes once it has changed the cluster
    # and taken it out of its backend: here before.
    if password == "":
        raise InvalidParameterValue("The parameter MasterUserPassword must be provided and must not be blank.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidParameterValue(
            "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters."
        )
    if manage is True and managed:
        kwargs.pop("manage_master_user_password")  # already managed: the secret stays as it is
        kwargs.pop("master_user_secret_kms_key_id", None)
        manage = None
    return manage is not None or rotate or password is not None


def _modify_db_cluster(original: Any) -> Any:
    def modify_db_cluster(self: RDSBackend, kwargs: dict[str, Any]) -> Any:
        cluster = self.clusters.get(kwargs.get("db_cluster_identifier"))
        changes_password = cluster is not None and _check_modify(cluster, kwargs)
        if changes_password and cluster.status != "available":
            raise InvalidDBClusterStateFault(NOT_AVAILABLE.format(status=cluster.status))
        returned = original(self, kwargs)
        if changes_password:
            _apply(self, cluster)
        return returned

    return modify_db_cluster


@patching.install_once
def install() -> None:
    patching.patch(MasterUserSecret, "_generate_secret_string", value=_generate_secret_string)
    patching.patch(MasterUserSecret, "__init__", _init)
    patching.patch(MasterUserSecret, "rotate_secret", value=_rotate)
    patching.patch(MasterUserSecret, "secret_status", value=property(_secret_status))
    patching.patch(RDSBackend, "create_db_cluster", _create_db_cluster)
    patching.patch(RDSBackend, "modify_db_cluster", _modify_db_cluster)
    secretsmanager.MANAGED_ROTATION[OWNING_SERVICE] = _rotate_for_secrets_manager
