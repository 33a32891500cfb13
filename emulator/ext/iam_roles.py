"""IAM roles as AWS services see them: propagation time, trust and permissions.

A service that is handed a role (Lambda an execution role, RDS an Enhanced
Monitoring role, RDS Proxy the role that reads its secrets) assumes it
through STS and uses its permissions.  Three things can make it refuse the
role, and the additions of the other services ask :func:`service_problem`
about each:

- **propagation**: IAM is eventually consistent; "changes that you make are
  not always immediately visible" (IAM User Guide, "Troubleshoot IAM"), and
  "after you create an IAM role, it may take several seconds for the
  permissions to propagate" (EC2 User Guide, IAM roles for Amazon EC2).  A
  role created seconds ago, or whose trust policy changed, is refused: Lambda
  answers "The role defined for the function cannot be assumed by Lambda."
  (aws-cli issue 7700), RDS "IAM role ARN value is invalid or does not
  include the required permissions for: ENHANCED_MONITORING" (pulumi issue
  5628); terraform-provider-aws issue 6566 measured 10 to 30 seconds.  Every
  CreateRole and UpdateAssumeRolePolicy starts the role's propagation time
  (``iam_role_propagation`` of ``AWS_MINUTES``) again.  A change to the
  permission policies of a role that has propagated (PutRolePolicy,
  DeleteRolePolicy, AttachRolePolicy, DetachRolePolicy) is not visible for
  the same time: services go on seeing the permissions the role had before
  it, as AWS's zero-downtime migration of RDS Proxy to end-to-end IAM relies
  on (RDS User Guide, "Migrating to end-to-end IAM authentication": the
  role's policy gains rds-db:connect beside secretsmanager:GetSecretValue
  while clients go on connecting).  On a role still propagating, such a
  change starts its propagation time again;
- **trust**: the role's trust policy must allow ``sts:AssumeRole`` to the
  service principal, its conditions on ``aws:SourceAccount`` and
  ``aws:SourceArn`` met for the resource the service acts for (IAM User
  Guide, "The confused deputy problem");
- **permissions**: the role's identity policies (inline and attached) must
  allow what the service does with it, an explicit Deny winning (IAM User
  Guide, "Policy evaluation logic").

The evaluation covers what these services need: actions and resources with
``*`` and ``?`` wildcards (actions compared without regard to case), ``Action``
and ``NotAction``, ``Resource`` and ``NotResource``, and in trust policies the
condition operators ``StringEquals``, ``StringLike``, ``ArnEquals`` and
``ArnLike`` (an unknown operator or key fails the statement, as a condition
that cannot be evaluated does not grant).  Conditions of identity policies
are not evaluated; none of the permissions checked here carries one in the
project's policies or in AWS's managed policies for these services.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import patching, provisioning
from ..dataplane import iam_auth

_CHANGING = ("create_role", "update_assume_role_policy")
# The permission changes, and the argument that names the role when it is passed by position.
_PERMISSION_CHANGES = {"put_role_policy": 0, "delete_role_policy": 0, "attach_role_policy": 1, "detach_role_policy": 1}


def _action_matches(statement: dict, action: str) -> bool:
    if "NotAction" in statement:
        return not any(iam_auth.matches(p, action, True) for p in iam_auth.listed(statement["NotAction"]))
    return any(iam_auth.matches(p, action, True) for p in iam_auth.listed(statement.get("Action")))


def _resource_matches(statement: dict, resource: str) -> bool:
    if "NotResource" in statement:
        return not any(iam_auth.matches(p, resource) for p in iam_auth.listed(statement["NotResource"]))
    return any(iam_auth.matches(p, resource) for p in iam_auth.listed(statement.get("Resource")))


def _evaluate(statements: Iterable[dict], applies) -> bool:
    """IAM's evaluation of the statements that apply: an explicit Deny wins, else any Allow grants."""
    allowed = False
    for statement in statements:
        if not applies(statement):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _statements(document: dict) -> list[dict]:
    return iam_auth.listed(document.get("Statement"))


# -- trust ---------------------------------------------------------------------
_OPERATORS = {
    "stringequals": lambda wanted, actual: actual == wanted,
    "stringlike": lambda wanted, actual: iam_auth.matches(wanted, actual),
    "arnequals": lambda wanted, actual: actual == wanted,
    "arnlike": lambda wanted, actual: iam_auth.matches(wanted, actual),
}


def _conditions_met(statement: dict, context: dict[str, str]) -> bool:
    for operator, tests in (statement.get("Condition") or {}).items():
        compare = _OPERATORS.get(operator.lower())
        if compare is None:
            return False
        for key, wanted in tests.items():
            actual = {k.lower(): v for k, v in context.items()}.get(key.lower())
            if actual is None or not any(compare(w, actual) for w in iam_auth.listed(wanted)):
                return False
    return True


def trusts_service(role: Any, service: str, context: dict[str, str]) -> bool:
    """Whether the role's trust policy lets ``service`` (e.g. ``lambda.amazonaws.com``) assume it."""

    def applies(statement: dict) -> bool:
        principal = statement.get("Principal") or {}
        services = iam_auth.listed(principal.get("Service")) if isinstance(principal, dict) else []
        return (
            _action_matches(statement, "sts:AssumeRole")
            and (principal == "*" or service in services)
            and _conditions_met(statement, context)
        )

    return _evaluate(_statements(iam_auth.document(role.assume_role_policy_document)), applies)


# -- permissions -----------------------------------------------------------------
def _identity_documents(role: Any) -> list[dict]:
    documents = [iam_auth.document(text) for text in role.policies.values()]
    for policy in role.managed_policies.values():
        version = next(v for v in policy.versions if v.is_default)
        documents.append(iam_auth.document(version.document))
    return documents


def _visible_documents(role: Any) -> list[dict]:
    """The identity policies services see: those before a permission change that has not propagated yet."""
    if not provisioning.done(role.__dict__.get("_emulator_permissions_changed")):
        return role._emulator_previous_documents
    role._emulator_permissions_changed = None  # propagated: a later hold of the kind does not bring it back
    return _identity_documents(role)


def allows(role: Any, action: str, resource: str = "*") -> bool:
    """Whether the role's identity policies, as services see them now, allow ``action`` on ``resource``."""
    statements = [s for document in _visible_documents(role) for s in _statements(document)]
    return _evaluate(statements, lambda s: _action_matches(s, action) and _resource_matches(s, resource))


# -- propagation -----------------------------------------------------------------
def propagated(role: Any) -> bool:
    return provisioning.done(role.__dict__.get("_emulator_changed"))


def find_role(account_id: str, role_arn: str | None) -> Any | None:
    """The role of ``role_arn`` if it is a role of ``account_id`` (services use roles of their own account)."""
    from moto.iam.models import iam_backends

    parts = (role_arn or "").split(":", 5)
    if len(parts) != 6 or parts[4] != account_id or not parts[5].startswith("role/"):
        return None
    partition = parts[1]
    for role in iam_backends[account_id][partition].get_roles():
        if role.arn == role_arn:
            return role
    return None


def service_problem(
    account_id: str,
    role_arn: str | None,
    service: str,
    context: dict[str, str] | None = None,
    permissions: Iterable[tuple[str, str]] = (),
) -> str | None:
    """Why ``service`` cannot use the role now (``None`` when it can): the role does not exist, has not
    propagated yet, does not trust the service, or lacks one of ``permissions`` (action, resource)."""
    role = find_role(account_id, role_arn)
    if role is None:
        return f"the role {role_arn} does not exist in account {account_id}"
    if not propagated(role):
        return f"the role {role_arn} has not propagated yet"
    if not trusts_service(role, service, {"aws:SourceAccount": account_id, **(context or {})}):
        return f"the role {role_arn} does not trust {service}"
    for action, resource in permissions:
        if not allows(role, action, resource):
            pending = not provisioning.done(role.__dict__.get("_emulator_permissions_changed"))
            why = " (a change to its policies has not propagated yet)" if pending else ""
            return f"the role {role_arn} does not allow {action} on {resource}{why}"
    return None


def _changing(original):
    def method(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        # create_role(role_name, ...), update_assume_role_policy(role_name, ...)
        role = self.get_role(kwargs.get("role_name") or args[0])
        role._emulator_changed = provisioning.start("iam_role_propagation")
        return result

    return method


def _permission_change(position: int):
    def wrapper(original):
        def method(self, *args, **kwargs):
            role = self.get_role(kwargs.get("role_name") or args[position])
            # What services see until the change propagates: the permissions they see now.
            before = _visible_documents(role) if propagated(role) else None
            result = original(self, *args, **kwargs)
            if before is None:
                role._emulator_changed = provisioning.start("iam_role_propagation")
            else:
                role._emulator_previous_documents = before
                role._emulator_permissions_changed = provisioning.start("iam_role_propagation")
            return result

        return method

    return wrapper


@patching.install_once
def install() -> None:
    from moto.iam.models import IAMBackend

    for name in _CHANGING:
        patching.patch(IAMBackend, name, _changing)
    for name, position in _PERMISSION_CHANGES.items():
        patching.patch(IAMBackend, name, _permission_change(position))
