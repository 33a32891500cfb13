"""Who is behind an access key, IAM database authentication tokens, and identity-based policy evaluation.

Credentials (:func:`credentials_for`, :func:`principal_for`)
    - the fixed keys of ``emulator/accounts.yml``: :func:`emulator.accounts.seed` gives them to each account's user
      ``deployer``; a request signed with one acts as the account itself, its root user
      (``arn:aws:iam::<account>:root``), which may do anything in its own account;
    - the access keys of other IAM users (``iam:CreateAccessKey``);
    - the temporary credentials of ``sts:AssumeRole`` sessions (moto keeps them in
      ``moto.sts.models.sts_backends[<role's account>][<partition>].assumed_roles``, their key in that account's
      ``iam_backends[...].access_keys``). A session's credentials stop working when they expire ("Temporary
      security credentials work almost identically to long-term access key credentials ... except ... they expire",
      IAM User Guide, "Temporary security credentials in IAM"), and must be presented with their session token.

IAM database authentication (:func:`verify_token`)
    An RDS IAM authentication token is a SigV4 presigned ``connect`` request without its scheme (botocore
    ``signers.generate_db_auth_token``): ``<host>:<port>/?Action=connect&DBUser=<user>&X-Amz-Algorithm=...``.
    It is checked as RDS checks it: the signature recomputed with the secret of the key named in the credential
    scope (botocore's own SigV4 code, so that the canonical request is byte for byte what the SDKs sign), the
    session token belonging to that key, the lifetime of 15 minutes ("After you generate an authentication token,
    it's valid for 15 minutes before it expires. If you try to connect using an expired token, the connection
    request is denied.", Amazon Aurora User Guide, "Connecting to your DB cluster using IAM authentication"),
    the host and port the client connects to, ``Action=connect``, the database user and the scope's region and
    service ``rds-db``. Each :class:`TokenRefused` names the check that failed in ``reason``.

Identity-based policies (:func:`is_allowed`)
    The principal's inline and attached managed policies (a user's also through its groups; a role's permissions
    boundary too) evaluated with IAM's logic (IAM User Guide, "Policy evaluation logic"): an explicit ``Deny``
    wins, otherwise an ``Allow`` is needed. Supported: ``Action``/``NotAction`` (compared without regard to case),
    ``Resource``/``NotResource`` (case-sensitive), the wildcards ``*`` and ``?``, policy variables ``${key}`` of
    the request context (and ``${*}``, ``${?}``, ``${$}``), and the condition operators ``StringEquals``,
    ``StringNotEquals``, ``StringEqualsIgnoreCase``, ``StringNotEqualsIgnoreCase``, ``StringLike``,
    ``StringNotLike``, ``ArnEquals``, ``ArnNotEquals``, ``ArnLike``, ``ArnNotLike``, ``Bool`` (each also with
    ``IfExists``) and ``Null``, with the rules of "IAM JSON policy elements: Condition operators" (keys
    compared without regard to case; several operators, keys: AND; several values: OR, NOR for the negated
    operators; a key absent from the request context makes a condition false, but true for a negated operator
    and for ``...IfExists``).

    Not supported: numeric, date, IP address and binary operators, the set operators ``ForAnyValue:`` /
    ``ForAllValues:``, multi-valued context keys, and policy variables whose key is not in the request context.
    A statement using one of them cannot be evaluated; the evaluation then errs on the side of refusing: an
    ``Allow`` statement does not apply, a ``Deny`` statement does. Neither are evaluated: service control
    policies and resource control policies (the emulated organization attaches only the full-access ones),
    resource-based policies other than role trust policies, and session policies passed to ``AssumeRole``.

Role trust (:func:`trust_decision`, :func:`assume_role_for_service`)
    A role's trust policy evaluated for an AWS principal or a service principal, with the same logic and
    conditions; ``emulator/ext/sts.py`` uses it for ``sts:AssumeRole``.
"""

from __future__ import annotations

import datetime
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

# Lifetime of an RDS IAM authentication token (Aurora User Guide, "IAM database authentication": "Each token has
# a lifetime of 15 minutes"); a token signed with a longer X-Amz-Expires still expires after 15 minutes.
TOKEN_LIFETIME = datetime.timedelta(minutes=15)
# SigV4 presigned requests: X-Amz-Expires is at most 604800 seconds (seven days) (Amazon S3 API Reference,
# "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)").
MAX_EXPIRES = 604800
# A signature's time may be ahead of the server's clock by at most five minutes ("the request must reach AWS
# within five minutes of the time stamp in the request", IAM User Guide, "Elements of an AWS API request
# signature").
CLOCK_SKEW = datetime.timedelta(minutes=5)
SIGNING_SERVICE = "rds-db"
ALGORITHM = "AWS4-HMAC-SHA256"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
# One region of each partition, for the sessions this module creates (moto derives the partition from a region).
_PARTITION_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
SERVICE_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class Principal:
    """Who signed a request: ``arn`` as ``sts:GetCallerIdentity`` reports an assumed role
    (``arn:aws:sts::<acct>:assumed-role/<role>/<session>``) or an IAM user, ``arn:aws:iam::<acct>:root`` for an
    account's fixed keys; ``role_arn`` the role of an assumed-role session (else ``None``)."""

    account_id: str
    arn: str
    role_arn: str | None

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(f":iam::{self.account_id}:root")

    @property
    def partition(self) -> str:
        return self.arn.split(":", 2)[1]

    @property
    def principal_arn(self) -> str:
        """``aws:PrincipalArn``: for a role session the role's ARN, not the session's ("AWS global condition
        context keys", aws:PrincipalArn)."""
        return self.role_arn or self.arn

    @property
    def principal_type(self) -> str:
        """``aws:PrincipalType`` ("AWS global condition context keys"): Account, User or AssumedRole."""
        if self.is_root:
            return "Account"
        return "AssumedRole" if self.role_arn else "User"


class TokenRefused(Exception):
    """An IAM authentication token that RDS would not accept; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CredentialsRefused(Exception):
    """Credentials AWS would not accept: ``code`` is the API error (``InvalidClientTokenId``, ``ExpiredToken``),
    ``reason`` the emulator's explanation."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "InvalidClientTokenId": "The security token included in the request is invalid.",
        "ExpiredToken": "The security token included in the request is expired",
    }

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason

    @property
    def message(self) -> str:
        return self.MESSAGES[self.code]


class RoleRefused(Exception):
    """A service cannot assume a role (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Credentials:
    """The credentials behind an access key."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    principal: Principal
    expiration: datetime.datetime | None  # aware UTC; None for long-term keys
    user_name: str | None = None  # an IAM user's name (not for the account's fixed keys)


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value.astimezone(datetime.UTC)


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return _utc(now) if now is not None else datetime.datetime.now(datetime.UTC)


# -- credentials ---------------------------------------------------------------------------------------------------
def credentials_for(access_key_id: str) -> Credentials | None:
    """The credentials of ``access_key_id`` (a fixed account key, an IAM user's key or an AssumeRole session's),
    or ``None`` if no account has it. Inactive user keys count as unknown."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    from ..accounts import USER_NAME

    for account_id, backends in list(iam_backends.items()):
        for partition, iam in list(backends.items()):
            key = iam.access_keys.get(access_key_id)
            if key is None:
                continue
            if key.user_name is None:  # a temporary key, issued by STS
                session = _session(sts_backends, account_id, partition, access_key_id)
                if session is None:
                    return None
                principal = Principal(account_id, session.arn, session.role_arn)
                return Credentials(
                    access_key_id,
                    session.secret_access_key,
                    session.session_token,
                    principal,
                    _utc(session.expiration),
                )
            if getattr(key, "status", "Active") != "Active":
                return None
            user = iam.users.get(key.user_name)
            if user is None:
                return None
            if user.name == USER_NAME:
                root = Principal(account_id, f"arn:{partition}:iam::{account_id}:root", None)
                return Credentials(access_key_id, key.secret_access_key, None, root, None)
            principal = Principal(account_id, user.arn, None)
            return Credentials(access_key_id, key.secret_access_key, None, principal, None, user.name)
    return None


def _session(sts_backends: Any, account_id: str, partition: str, access_key_id: str) -> Any | None:
    if account_id not in sts_backends:
        return None
    backend = dict.get(sts_backends[account_id], partition)
    if backend is None:
        return None
    return backend.get_assumed_role_from_access_key(access_key_id)


def principal_for(
    access_key_id: str | None, session_token: str | None, now: datetime.datetime | None = None
) -> Credentials:
    """The credentials of a request signed with ``access_key_id`` and carrying ``session_token`` (``None`` when
    absent), checked as AWS checks them; raises :class:`CredentialsRefused`."""
    credentials = credentials_for(access_key_id or "")
    if credentials is None:
        raise CredentialsRefused("InvalidClientTokenId", f"the access key {access_key_id} is not known")
    if credentials.session_token is None:
        if session_token:
            raise CredentialsRefused(
                "InvalidClientTokenId", f"a session token came with the long-term access key {access_key_id}"
            )
        return credentials
    if not session_token:
        raise CredentialsRefused(
            "InvalidClientTokenId", f"the temporary access key {access_key_id} came without its session token"
        )
    if not hmac.compare_digest(session_token.encode(), credentials.session_token.encode()):
        raise CredentialsRefused(
            "InvalidClientTokenId", f"the session token is not the one issued with the access key {access_key_id}"
        )
    if credentials.expiration is not None and _now(now) >= credentials.expiration:
        raise CredentialsRefused(
            "ExpiredToken",
            f"the credentials of {access_key_id} expired at {credentials.expiration.isoformat()}",
        )
    return credentials


# -- IAM database authentication tokens ------------------------------------------------------------------------------
def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def _signature(
    credentials: Credentials,
    pairs: list[tuple[str, str]],
    host: str,
    port: int,
    region: str,
    amz_date: str,
) -> str:
    """The SigV4 signature of a presigned ``GET /`` to ``host:port`` with the query ``pairs`` (without
    X-Amz-Signature), computed by botocore's signer as ``generate_db_auth_token`` computes it."""
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    auth = SigV4QueryAuth(
        BotoCredentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token),
        SIGNING_SERVICE,
        region,
    )
    # The Host header is the one the client connects to; botocore omits the default https port, as it did
    # when signing (``_host_from_url``).
    request = AWSRequest(method="GET", url=f"https://{host}:{port}/", params=pairs)
    request.context["timestamp"] = amz_date
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)


def verify_token(
    token: str, *, host: str, port: int, user: str, region: str, now: datetime.datetime | None = None
) -> Principal:
    """The principal that signed ``token``, an RDS IAM authentication token presented by a client that connected
    to ``host:port`` as database user ``user``; raises :class:`TokenRefused` with the failed check."""
    if not token:
        raise TokenRefused("no token (empty password)")
    if "://" in token.split("?", 1)[0]:
        # generate_db_auth_token removes the scheme: "RDS requires that the scheme not be set" (botocore signers).
        raise TokenRefused("the token starts with a URL scheme")
    try:
        url = urlsplit("https://" + token)
        token_host, token_port = url.hostname, url.port
    except ValueError as error:
        raise TokenRefused(f"the token is not a presigned URL: {error}") from None
    if not token_host or token_port is None:
        raise TokenRefused("the token names no host:port")
    if url.path != "/":
        raise TokenRefused(f"the token's path is {url.path!r}, not '/'")
    pairs = _query_pairs(url.query)
    names = [name for name, _ in pairs]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise TokenRefused(f"the token repeats the parameter(s) {', '.join(duplicated)}")
    params = dict(pairs)
    required = (
        "Action",
        "DBUser",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    )
    missing = [name for name in required if name not in params]
    if missing:
        raise TokenRefused(f"the token lacks {', '.join(missing)}")
    if params["Action"] != "connect":
        raise TokenRefused(f"the token's Action is {params['Action']!r}, not 'connect'")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise TokenRefused(f"the token's X-Amz-Algorithm is {params['X-Amz-Algorithm']!r}, not {ALGORITHM}")
    scope = params["X-Amz-Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise TokenRefused(f"the token's credential scope {params['X-Amz-Credential']!r} is malformed")
    access_key_id, scope_date, scope_region, scope_service, _ = scope
    if scope_service != SIGNING_SERVICE:
        raise TokenRefused(f"the token is signed for the service {scope_service!r}, not {SIGNING_SERVICE!r}")
    if scope_region != region:
        raise TokenRefused(f"the token is signed for the region {scope_region!r}, the endpoint is in {region!r}")
    if token_host.lower() != host.lower().rstrip("."):
        raise TokenRefused(f"the token is signed for the host {token_host!r}, the client connected to {host!r}")
    if token_port != port:
        raise TokenRefused(f"the token is signed for the port {token_port}, the client connected to port {port}")
    if params["DBUser"] != user:
        raise TokenRefused(f"the token is signed for the database user {params['DBUser']!r}, the login is {user!r}")
    if params["X-Amz-SignedHeaders"].lower() != "host":
        raise TokenRefused(f"the token signs the headers {params['X-Amz-SignedHeaders']!r}; only 'host' is sent")
    amz_date = params["X-Amz-Date"]
    try:
        signed_at = datetime.datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise TokenRefused(f"the token's X-Amz-Date {amz_date!r} is not of the form YYYYMMDDTHHMMSSZ") from None
    if scope_date != amz_date[:8]:
        raise TokenRefused(f"the credential scope's date {scope_date} is not the day of X-Amz-Date {amz_date}")
    try:
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        raise TokenRefused(f"the token's X-Amz-Expires {params['X-Amz-Expires']!r} is not a number") from None
    if not 1 <= expires <= MAX_EXPIRES:
        raise TokenRefused(f"the token's X-Amz-Expires {expires} is not between 1 and {MAX_EXPIRES}")

    moment = _now(now)
    try:
        credentials = principal_for(access_key_id, params.get("X-Amz-Security-Token"), moment)
    except CredentialsRefused as refused:
        raise TokenRefused(refused.reason) from None
    unsigned = [(name, value) for name, value in pairs if name != "X-Amz-Signature"]
    expected = _signature(credentials, unsigned, host.rstrip("."), port, region, amz_date)
    if not hmac.compare_digest(expected.encode(), params["X-Amz-Signature"].lower().encode()):
        raise TokenRefused(
            "the signature does not match the one computed with the secret of "
            f"{access_key_id} for {host}:{port}, user {user!r}, region {region!r}"
        )
    if signed_at > moment + CLOCK_SKEW:
        raise TokenRefused(f"the token's X-Amz-Date {amz_date} is in the future (now {moment:{_AMZ_DATE}})")
    expiry = signed_at + min(datetime.timedelta(seconds=expires), TOKEN_LIFETIME)
    if moment >= expiry:
        raise TokenRefused(
            f"the token expired at {expiry:{_AMZ_DATE}} (signed at {amz_date}, now {moment:{_AMZ_DATE}})"
        )
    return credentials.principal


# -- policy evaluation -----------------------------------------------------------------------------------------------
def listed(value: Any) -> list:
    """A policy element that is one value or a list of them, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def document(raw: Any) -> dict:
    """A policy document from moto's storage (a dict, JSON text or URL-encoded JSON text)."""
    if isinstance(raw, dict):
        return raw
    text = raw if raw.lstrip().startswith("{") else unquote(raw)
    return json.loads(text)


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one character, nothing else special."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


class _Unevaluable(Exception):
    """A statement uses something this evaluator does not support."""


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}


def _substitute(text: str, context: Mapping[str, str], wildcards: bool) -> str:
    """Replace policy variables (IAM User Guide, "IAM policy elements: Variables and tags"); ``${*}`` and ``${?}``
    stand for the literal characters, which must then not act as wildcards."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in _SPECIAL:
            if wildcards and key in "*?":
                raise _Unevaluable(f"literal {key} in a pattern")
            return _SPECIAL[key]
        value = context.get(key.lower())
        if value is None:
            raise _Unevaluable(f"policy variable ${{{key}}} not in the request context")
        if wildcards and any(c in value for c in "*?"):
            raise _Unevaluable(f"policy variable ${{{key}}} holds a wildcard character")
        return value

    return _VARIABLE.sub(replace, text) if "${" in text else text


def _arn_matches(pattern: str, value: str) -> bool:
    """ArnEquals/ArnLike: "Each of the six colon-delimited components of the ARN is checked separately and each
    can include multi-character match wildcards (*) or single-character match wildcards (?)" ("IAM JSON policy
    elements: Condition operators")."""
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return False
    return all(matches(w, a) for w, a in zip(wanted, actual, strict=True))


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_COMPARE = {
    "stringequals": (lambda w, a: a == w, False),
    "stringnotequals": (lambda w, a: a == w, True),
    "stringequalsignorecase": (lambda w, a: a.lower() == w.lower(), False),
    "stringnotequalsignorecase": (lambda w, a: a.lower() == w.lower(), True),
    "stringlike": (matches, False),
    "stringnotlike": (matches, True),
    "arnequals": (_arn_matches, False),
    "arnlike": (_arn_matches, False),
    "arnnotequals": (_arn_matches, True),
    "arnnotlike": (_arn_matches, True),
    "bool": (lambda w, a: a.lower() == w.lower(), False),
}
_PATTERN_OPERATORS = {"stringlike", "stringnotlike", "arnequals", "arnlike", "arnnotequals", "arnnotlike"}


def _conditions_met(block: Any, context: Mapping[str, str]) -> bool:
    """Whether a statement's Condition block holds; raises :class:`_Unevaluable` for what is not supported."""
    if not block:
        return True
    if not isinstance(block, dict):
        raise _Unevaluable("malformed Condition")
    for operator, tests in block.items():
        name = operator.lower()
        if ":" in name:
            raise _Unevaluable(f"set operator {operator}")
        if not isinstance(tests, dict):
            raise _Unevaluable(f"malformed condition {operator}")
        if name == "null":
            for key, wanted in tests.items():
                absent = context.get(key.lower()) is None
                if not any((_value_text(w).lower() == "true") == absent for w in listed(wanted)):
                    return False
            continue
        if_exists = name.endswith("ifexists")
        base = name[: -len("ifexists")] if if_exists else name
        if base not in _COMPARE:
            raise _Unevaluable(f"condition operator {operator}")
        compare, negated = _COMPARE[base]
        for key, wanted in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                # "If the key that you specify in a policy condition is not present in the request context, the
                # values do not match and the condition is false. If the policy condition requires that the key
                # is not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
                # condition is true." (except ...IfExists, which is true when the key is absent)
                if if_exists or negated:
                    continue
                return False
            values = [_substitute(_value_text(w), context, base in _PATTERN_OPERATORS) for w in listed(wanted)]
            hit = any(compare(w, actual) for w in values)
            if hit == negated:  # several values: OR, NOR for a negated operator
                return False
    return True


def _action_matches(statement: dict, action: str) -> bool:
    if "NotAction" in statement:
        return not any(matches(p, action, True) for p in listed(statement["NotAction"]))
    return any(matches(p, action, True) for p in listed(statement.get("Action")))


def _resource_matches(statement: dict, resource: str, context: Mapping[str, str]) -> bool:
    if "NotResource" in statement:
        patterns, negated = listed(statement["NotResource"]), True
    elif "Resource" in statement:
        patterns, negated = listed(statement["Resource"]), False
    else:
        return False  # an identity-based policy statement must name its resources
    hit = any(matches(_substitute(p, context, True), resource) for p in patterns)
    return hit != negated


def _statement_applies(statement: dict, applies) -> bool:
    """``applies(statement)`` for a statement, erring on the side of refusal when it cannot be evaluated: an Allow
    that cannot be evaluated does not apply, a Deny does."""
    try:
        return applies(statement)
    except _Unevaluable:
        return statement.get("Effect") == "Deny"


def _decide(statements: Iterable[dict], applies) -> str:
    """The verdict of the statements that apply: ``"Deny"`` (an explicit Deny), ``"Allow"`` (an Allow and no
    Deny) or ``""`` (none: implicit deny)."""
    decision = ""
    for statement in statements:
        if not isinstance(statement, dict) or not _statement_applies(statement, applies):
            continue
        if statement.get("Effect") == "Deny":
            return "Deny"
        if statement.get("Effect") == "Allow":
            decision = "Allow"
    return decision


def statements(documents: Iterable[Any]) -> list[dict]:
    return [s for raw in documents for s in listed(document(raw).get("Statement"))]


def _managed_document(policy: Any) -> Any:
    version = next((v for v in policy.versions if v.is_default), None)
    return version.document if version is not None else getattr(policy, "document", "{}")


def _identity_documents(entity: Any) -> list[Any]:
    return [*entity.policies.values(), *(_managed_document(p) for p in entity.managed_policies.values())]


def _iam(account_id: str, partition: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id][partition]


def find_role(role_arn: str) -> Any | None:
    """The IAM role of ``role_arn`` in its account, or ``None``."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    from moto.iam.models import iam_backends

    if parts[4] not in iam_backends:
        return None
    iam = dict.get(iam_backends[parts[4]], parts[1])
    if iam is None:
        return None
    name = parts[5].rsplit("/", 1)[-1]
    role = next((r for r in iam.roles.values() if r.name == name), None)
    return role if role is not None and role.arn == role_arn else None


def _find_user(principal: Principal) -> tuple[Any, Any] | None:
    name = principal.arn.rsplit("/", 1)[-1]
    iam = _iam(principal.account_id, principal.partition)
    user = iam.users.get(name)
    return (iam, user) if user is not None and user.arn == principal.arn else None


def request_context(principal: Principal, context: Mapping[str, str] | None = None) -> dict[str, str]:
    """The request context of a call by ``principal`` (keys in lower case): the principal's global keys
    ("AWS global condition context keys": aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
    aws:username for an IAM user) and the keys given."""
    keys = {
        "aws:principalarn": principal.principal_arn,
        "aws:principalaccount": principal.account_id,
        "aws:principaltype": principal.principal_type,
        "aws:principalisawsservice": "false",
    }
    if principal.principal_type == "User":
        keys["aws:username"] = principal.arn.rsplit("/", 1)[-1]
    keys.update({k.lower(): str(v) for k, v in (context or {}).items()})
    return keys


def _resource_account(resource: str) -> str | None:
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else None


def identity_decision(
    principal: Principal, action: str, resource: str, context: Mapping[str, str] | None = None
) -> str:
    """The identity-based verdict for ``principal`` doing ``action`` on ``resource``: ``"Allow"``, ``"Deny"`` (an
    explicit Deny applies) or ``""`` (nothing allows: implicit deny). See :func:`is_allowed`."""
    if principal.is_root:
        return "Allow" if resource == "*" or _resource_account(resource) == principal.account_id else ""
    keys = request_context(principal, context)
    if principal.role_arn:
        role = find_role(principal.role_arn)
        if role is None:
            return ""
        documents = _identity_documents(role)
        boundary_arn = getattr(role, "permissions_boundary_arn", None)
        iam = _iam(principal.account_id, principal.partition)
    else:
        found = _find_user(principal)
        if found is None:
            return ""
        iam, user = found
        documents = _identity_documents(user)
        for group in iam.get_groups_for_user(user.name):
            documents += _identity_documents(group)
        boundary_arn = getattr(user, "permissions_boundary_arn", None)

    def applies(statement: dict) -> bool:
        return (
            _action_matches(statement, action)
            and _resource_matches(statement, resource, keys)
            and _conditions_met(statement.get("Condition"), keys)
        )

    decision = _decide(statements(documents), applies)
    if boundary_arn and decision != "Deny":
        # A permissions boundary sets the maximum permissions: both it and the identity policies must allow
        # (IAM User Guide, "Permissions boundaries for IAM entities").
        policy = iam.managed_policies.get(boundary_arn)
        bounded = _decide(statements([_managed_document(policy)]), applies) if policy is not None else ""
        if bounded != "Allow":
            decision = bounded or ""
    return decision


def is_allowed(principal: Principal, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
    """Whether the identity-based policies of ``principal`` allow ``action`` on ``resource`` with the request
    ``context`` (see the module's docstring for what is evaluated; the principal's global keys are added). The
    account's root user may do anything in its own account ("The root user has complete access to all AWS
    services and resources in the account", IAM User Guide, "AWS account root user"); a session of a role that
    no longer exists may do nothing."""
    return identity_decision(principal, action, resource, context) == "Allow"


# -- role trust ------------------------------------------------------------------------------------------------------
_ACCOUNT = re.compile(r"\d{12}")


def _principal_match(entries: Any, caller: Principal | None, service: str | None) -> str:
    """How a Principal element names the caller: "explicit" (its user, role or session ARN), "account" (its
    account, ``*``), or "" (not at all). You cannot use a wildcard to match part of a principal name or ARN
    (IAM User Guide, "AWS JSON policy elements: Principal")."""
    if entries == "*":
        return "account"
    if not isinstance(entries, dict):
        return ""
    if service is not None:
        return "explicit" if service in listed(entries.get("Service")) else ""
    assert caller is not None
    found = ""
    for entry in listed(entries.get("AWS")):
        if entry in ("*", caller.account_id, f"arn:{caller.partition}:iam::{caller.account_id}:root"):
            found = found or "account"
        elif not caller.is_root and entry in (caller.arn, caller.role_arn):
            return "explicit"
    return found


@dataclass(frozen=True)
class TrustDecision:
    admitted: bool
    explicit: bool  # an Allow names the caller itself (not its account or everyone)
    denied: bool  # an explicit Deny applies


def trust_decision(
    role: Any,
    *,
    caller: Principal | None = None,
    service: str | None = None,
    action: str = "sts:AssumeRole",
    context: Mapping[str, str] | None = None,
) -> TrustDecision:
    """The role's trust policy evaluated for ``caller`` (an AWS principal) or ``service`` (a service principal
    such as ``lambda.amazonaws.com``) calling ``action``, with the request ``context`` (keys given as in the
    policy; compared without regard to case)."""
    keys = (
        request_context(caller, context) if caller is not None else {k.lower(): v for k, v in (context or {}).items()}
    )
    explicit = False
    admitted = False
    for statement in statements([role.assume_role_policy_document]):
        if not isinstance(statement, dict) or not _action_matches(statement, action):
            continue
        if "NotPrincipal" in statement:
            named = not _principal_match(statement["NotPrincipal"], caller, service)
        else:
            named = bool(_principal_match(statement.get("Principal"), caller, service))
        if not named:
            continue
        if not _statement_applies(statement, lambda s: _conditions_met(s.get("Condition"), keys)):
            continue
        if statement.get("Effect") == "Deny":
            return TrustDecision(False, False, True)
        if statement.get("Effect") == "Allow":
            admitted = True
            if "Principal" in statement and _principal_match(statement["Principal"], caller, service) == "explicit":
                explicit = True
    return TrustDecision(admitted, explicit, False)


def trust_propagated(role: Any) -> bool:
    """Whether the role's latest creation or trust policy change has propagated (``emulator/ext/sts.py``)."""
    from .. import provisioning

    return provisioning.done(role.__dict__.get("_emulator_trust_changed"))


def create_session(role: Any, session_name: str, duration: int, external_id: str | None = None) -> Any:
    """A moto STS session of ``role`` (its credentials work against the emulator's API and in tokens)."""
    from moto.sts.models import sts_backends

    partition = role.arn.split(":", 2)[1]
    region = _PARTITION_REGION.get(partition, "us-east-1")
    return sts_backends[role.account_id][partition].assume_role(
        region_name=region,
        role_session_name=session_name,
        role_arn=role.arn,
        policy=None,
        duration=duration,
        external_id=external_id,
    )


def assume_role_for_service(
    role_arn: str, service: str, session_name: str, *, context: Mapping[str, str] | None = None
) -> dict:
    """Credentials of the role ``role_arn`` assumed by the AWS service principal ``service``: Lambda obtains the
    execution role's credentials itself when it runs a function ("Lambda assumes the execution role", Lambda
    Developer Guide, "Defining Lambda function permissions with an execution role"). The role must exist, have
    propagated (``iam_role_propagation``) and trust the service; its trust conditions see ``aws:SourceAccount``
    (the role's account: a service uses roles of the account it acts for) and the keys of ``context`` (e.g.
    ``aws:SourceArn``; "The confused deputy problem", IAM User Guide). Raises :class:`RoleRefused`.

    Returns ``AccessKeyId``, ``SecretAccessKey``, ``SessionToken`` and ``Expiration`` (aware UTC datetime), valid
    for one hour; ask again before they expire."""
    role = find_role(role_arn)
    if role is None:
        raise RoleRefused(f"the role {role_arn} does not exist")
    if not trust_propagated(role):
        raise RoleRefused(f"the role {role_arn} has not propagated yet")
    keys = {"aws:SourceAccount": role.account_id, "aws:PrincipalIsAWSService": "true", **(context or {})}
    decision = trust_decision(role, service=service, context=keys)
    if not decision.admitted:
        why = "denies" if decision.denied else "does not allow"
        raise RoleRefused(f"the trust policy of {role_arn} {why} sts:AssumeRole to {service}")
    session = create_session(role, session_name, SERVICE_SESSION_SECONDS)
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
        "Expiration": _utc(session.expiration),
    }
