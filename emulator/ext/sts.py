"""sts:AssumeRole as AWS authorizes it.

moto issues credentials for any role ARN, even one that does not exist.  AWS grants the call only when
(IAM User Guide, "Granting a user permissions to switch roles", "Cross-account policy evaluation logic" and
"Policy evaluation logic"):

- the caller's credentials are valid: a known access key, the session token that belongs to it, not expired
  (``InvalidClientTokenId`` / ``ExpiredToken``, HTTP 403);
- the caller's identity-based policies allow ``sts:AssumeRole`` on the role's ARN, an explicit Deny winning.
  A role's trust policy is a resource-based policy: within the role's own account, a trust policy that names
  the caller itself (its user ARN, its role ARN or its session ARN, not merely its account) grants the call
  without an identity-based allow; naming the account (``"<account id>"``, ``arn:aws:iam::<account>:root``)
  delegates the decision to the caller's identity-based policies, in the same account as across accounts
  ("For most resources, you only need an explicit allow ... in either an identity-based policy or a
  resource-based policy ... IAM role trust policies ... are exceptions ... because they must explicitly allow
  access for principals", "Policy evaluation logic").  The account's root user (the fixed keys of
  ``accounts.yml``) may do anything in its account: its identity side always allows;
- the role exists and its trust policy admits the caller: ``Principal`` ``AWS`` naming the caller's account
  (``"111122223333"``, ``arn:aws:iam::111122223333:root``), its IAM user, its role (for a session of that role)
  or the session itself, or ``"*"`` ("AWS JSON policy elements: Principal"), with the statement's conditions met
  for the request context: ``aws:PrincipalArn`` (for a role session, the role's ARN, "AWS global condition
  context keys"), ``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:username``, ``aws:RequestedRegion``,
  ``sts:ExternalId`` (the ExternalId parameter) and ``sts:RoleSessionName``.  ``aws:SourceAccount`` and
  ``aws:SourceArn`` are only in the context of a service acting for a resource ("The confused deputy problem"),
  not of a principal's own call;
- the role has propagated: IAM is eventually consistent ("changes that you make are not always immediately
  visible", IAM User Guide, "Troubleshoot IAM"); a role created, or whose trust policy changed, less than
  ``iam_role_propagation`` ago cannot be assumed yet, as ``emulator/ext/iam_roles.py`` models it for the roles
  that services assume;
- ``DurationSeconds`` is at most the role's MaxSessionDuration, and at most one hour for role chaining (STS API
  Reference, AssumeRole, DurationSeconds).

A refusal is STS's: ``AccessDenied``, "User: <caller ARN> is not authorized to perform: sts:AssumeRole on
resource: <role ARN>", HTTP 403, in the query protocol's error shape (``ErrorResponse``/``Error`` with
``Type``, ``Code``, ``Message``, then ``RequestId``).  The caller ARN is the one ``GetCallerIdentity`` reports
for the credentials.  Why the emulator refused is logged (logger ``emulator.ext.sts``).
"""

from __future__ import annotations

import logging
import uuid
from xml.sax.saxutils import escape

from .. import patching, provisioning
from ..dataplane import iam_auth

LOGGER = logging.getLogger(__name__)
NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
ROLE_CHAINING_MAX_SECONDS = 3600


def _error(status: int, code: str, message: str) -> tuple[str, dict]:
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return body, {"status": status, "Content-Type": "text/xml"}


def _caller_arn(response, credentials: iam_auth.Credentials) -> str:
    """The caller's ARN as GetCallerIdentity reports it for these credentials."""
    try:
        _, arn, _ = response.backend.get_caller_identity(credentials.access_key_id, response.region)
    except Exception:
        arn = credentials.principal.arn
    return arn


def refusal(
    credentials: iam_auth.Credentials,
    role_arn: str,
    *,
    session_name: str | None = None,
    external_id: str | None = None,
    region: str | None = None,
) -> str | None:
    """Why AWS would refuse ``credentials`` sts:AssumeRole on ``role_arn`` (``None``: granted)."""
    caller = credentials.principal
    context = {"sts:RoleSessionName": session_name, "sts:ExternalId": external_id, "aws:RequestedRegion": region}
    context = {key: value for key, value in context.items() if value is not None}
    role = iam_auth.find_role(role_arn)
    if role is None:
        return f"the role {role_arn} does not exist"
    trust = iam_auth.trust_decision(role, caller=caller, context=context)
    if caller.is_root:
        identity_allows = True
    else:
        verdict = iam_auth.identity_decision(caller, "sts:AssumeRole", role_arn, context)
        # Same account, trust policy naming the caller itself: the resource-based policy suffices, unless an
        # identity-based policy denies explicitly.
        same_account_grant = trust.explicit and caller.account_id == role.account_id
        identity_allows = verdict == "Allow" or (verdict == "" and same_account_grant)
    if not identity_allows:
        return f"no identity-based policy of {caller.arn} allows sts:AssumeRole on {role_arn}"
    if trust.denied:
        return f"the trust policy of {role_arn} denies {caller.principal_arn}"
    if not trust.admitted:
        return f"the trust policy of {role_arn} does not admit {caller.principal_arn} (principal or conditions)"
    if not iam_auth.trust_propagated(role):
        return f"the role {role_arn} (or its trust policy) has not propagated yet"
    return None


def _assume_role(original):
    def assume_role(self):
        role_arn = self._get_param("RoleArn") or ""
        try:
            credentials = iam_auth.principal_for(self.get_access_key(), self.headers.get("X-Amz-Security-Token"))
        except iam_auth.CredentialsRefused as refused:
            LOGGER.info("AssumeRole of %s refused: %s", role_arn, refused.reason)
            return _error(403, refused.code, refused.message)
        why = refusal(
            credentials,
            role_arn,
            session_name=self._get_param("RoleSessionName"),
            external_id=self._get_param("ExternalId"),
            region=self.region,
        )
        if why is not None:
            LOGGER.info("AssumeRole of %s refused: %s", role_arn, why)
            caller = _caller_arn(self, credentials)
            message = f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            return _error(403, "AccessDenied", message)
        role = iam_auth.find_role(role_arn)
        duration = self._get_int_param("DurationSeconds", 3600)
        if credentials.principal.role_arn and duration > ROLE_CHAINING_MAX_SECONDS:
            return _error(
                400,
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            )
        if duration > int(role.max_session_duration or 3600):
            return _error(
                400,
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        return original(self)

    return assume_role


# Propagation of a role's trust: CreateRole and UpdateAssumeRolePolicy start it again.
def _created(create_role):
    def created(self, *args, **kwargs):
        role = create_role(self, *args, **kwargs)
        role._emulator_trust_changed = provisioning.start("iam_role_propagation")
        return role

    return created


def _updated(update_assume_role_policy):
    def updated(self, *args, **kwargs):
        result = update_assume_role_policy(self, *args, **kwargs)
        role = self.get_role(kwargs.get("role_name", args[0] if args else None))
        role._emulator_trust_changed = provisioning.start("iam_role_propagation")
        return result

    return updated


@patching.install_once
def install() -> None:
    from moto.iam.models import IAMBackend
    from moto.sts.responses import TokenResponse

    patching.patch(TokenResponse, "assume_role", _assume_role)
    patching.patch(IAMBackend, "create_role", _created)
    patching.patch(IAMBackend, "update_assume_role_policy", _updated)
