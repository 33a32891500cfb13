"""RDS Proxy endpoints as listeners that speak PostgreSQL's wire protocol (version 3.0) as RDS Proxy does.

Each endpoint of a proxy (its default endpoint and each one created with CreateDBProxyEndpoint) is a listener:
``serve(sock, target)`` accepts PostgreSQL clients on a socket that is already listening and serves each in a thread.
Every connection reads the proxy's settings from the moto backend when it starts, so a change through the API
(ModifyDBProxy, a new secret value, a deregistered target, a failover) takes effect for the next connection, as on
AWS. A connection goes through what RDS Proxy does:

1. TLS: an ``SSLRequest`` is answered ``S`` and the connection wrapped with a certificate of the emulator's CA
   shaped as RDS Proxy's ACM certificate: a wildcard of one DNS label, ``*.proxy-<id>.<region>.rds.amazonaws.com``,
   which names the default endpoint (``<proxy>.proxy-<id>...``) but not an endpoint you create
   (``<name>.endpoint.proxy-<id>...``), so ``sslmode=verify-full`` fails there as on AWS (Amazon Aurora User Guide,
   "Limitations for proxy endpoints": "You can't connect to an endpoint that you create using the SSL mode
   VERIFY_IDENTITY"; "Using TLS/SSL with RDS Proxy": "RDS Proxy uses wildcard certificates"). A ``GSSENCRequest``
   is answered ``N`` (RDS Proxy offers no GSSAPI encryption), a ``CancelRequest`` is passed to the database server
   whose ``BackendKeyData`` the client received. With RequireTLS a client without TLS is refused.
2. Client authentication: the proxy's ``Auth`` entry for the login user is the ``SECRETS`` entry whose secret's
   ``username`` is that user ("Connecting to a proxy using IAM authentication": "using a username which matches one
   of the usernames for the secrets you previously provided"); the proxy reads the secret with its role, which must
   trust ``rds.amazonaws.com`` and allow ``secretsmanager:GetSecretValue`` on it (emulator/ext/iam_roles.py). With
   ``IAMAuth: REQUIRED`` the client sends an IAM authentication token as a cleartext password inside TLS; the token
   is checked by ``iam_auth.verify_token`` for the endpoint's DNS name and port 5432, then ``rds-db:connect`` on
   ``arn:aws:rds-db:<region>:<account>:dbuser:<proxy resource ID>/<user>``: the resource names the proxy's resource
   ID (``prx-...``), not its name (same page: ``"Resource": "arn:aws:rds-db:us-east-2:1234567890:dbuser:
   prx-ABCDEFGHIJKL01234/db_user"``; Amazon Aurora User Guide, "Creating and using an IAM policy for IAM database
   access"). With ``IAMAuth: DISABLED`` the client's password must be the secret's, exchanged with the
   ``ClientPasswordAuthType`` of the entry (SCRAM-SHA-256 or MD5).
   End-to-end IAM authentication (``DefaultAuthScheme: IAM_AUTH``, see "End-to-end IAM authentication" below):
   a user whom no ``SECRETS`` entry names needs no secret; the client authenticates with an IAM token as above.
3. The database: a read/write endpoint (and the default endpoint) reaches the writer of the cluster registered with
   the proxy's default target group, a read-only endpoint a reader (``postgres.backend_for``), over TLS verified
   against ``postgres.server_ca_file()``; the proxy logs in with the secret's username and password read from
   Secrets Manager at that moment (SCRAM-SHA-256, RFC 5802 and RFC 7677), forwarding the client's startup
   parameters. While no target is available the connection waits up to the target group's
   ``ConnectionBorrowTimeout``.
4. Then everything the database sends from ``AuthenticationOk`` to the first ``ReadyForQuery`` goes to the client,
   and bytes are relayed both ways until either side closes, or until the client connection has been idle for the
   proxy's ``IdleClientTimeout``.

End-to-end IAM authentication (``DefaultAuthScheme: IAM_AUTH``): "When set to IAM_AUTH, the proxy uses end-to-end
IAM authentication to connect to the database" (API reference, CreateDBProxy), and "a stored secret that contains
database credentials ... is not required if you are using end-to-end IAM authentication" (Amazon Aurora User
Guide, "Configuring IAM authentication for RDS Proxy"). The client authenticates with a token for
``dbuser:prx-<id>/<user>`` as in step 2 ("Connecting to a database through RDS Proxy": end-to-end IAM "connects to
your database through the proxy using IAM without requiring database credentials"); then the proxy logs in to the
database as that user with IAM, which needs, as any IAM database login to Aurora (Amazon Aurora User Guide,
"Creating and using an IAM policy for IAM database access", "Creating a database account using IAM
authentication", "Enabling and disabling IAM database authentication"):

- the proxy's role (trusting ``rds.amazonaws.com``) allowed ``rds-db:connect`` on
  ``arn:aws:rds-db:<region>:<account>:dbuser:<DbClusterResourceId>/<user>``, the cluster's resource ID
  (``cluster-...``) for an Aurora cluster target ("Configuring IAM authentication for RDS Proxy": "The resource ID
  format differs between RDS instances and Aurora clusters"; the policy of "Migrating from standard IAM
  authentication to end-to-end IAM authentication" names ``dbuser:cluster-ABCDEFGHIJKL01234/jane_doe``; an RDS DB
  instance would be ``db-<DbiResourceId>``, and proxies of DB instances are not modelled). The role's identity
  policies are evaluated as for its secrets (``iam_roles.service_problem``), wildcards included;
- IAM database authentication enabled on the DB cluster (``EnableIAMDatabaseAuthentication``);
- the database user granted ``rds_iam``: the emulator's database decides, the proxy logging in without a password
  over the server's private Unix socket, where pg_hba.conf trusts members of rds_iam only
  (``postgres.HBA_RDS_IAM_PROXY``).

A user that an Auth ``SECRETS`` entry names keeps that entry: the proxy logs in with its secret. AWS names the
setting the *default* scheme and keeps secrets and ``rds-db:connect`` side by side while a proxy moves from one to
the other (Amazon Aurora User Guide, "Migrating from standard IAM authentication to end-to-end IAM
authentication"); it documents no further rule for a proxy with both. When any of the three conditions fails,
Aurora refuses an IAM login with ``PAM authentication failed for user "<user>"`` (AWS re:Post Knowledge Center,
"aurora-postgresql-connect-iam": IAM authentication disabled, no ``rds-db:connect`` in the policy, ``rds_iam``
not granted); the proxy passes it on as it passes on the database's errors of its login (``REQUEST_ERROR``).

Refusals answer with the ``ErrorResponse`` RDS Proxy sends (Amazon Aurora User Guide, "Troubleshooting for RDS
Proxy", the PostgreSQL table); the precise reason goes to the log (logger ``emulator.dataplane.proxy``), never to
the client. Passwords and tokens are never logged.

Not modelled: connection multiplexing and pinning (each client connection has its own database connection),
session pinning filters, ``MaxConnectionsPercent``, ``IAMAuth: ENABLED`` beyond accepting a token or the
password, direct TLS negotiation (PostgreSQL 17's ``sslnegotiation=direct``) and proxies whose target is an RDS DB
instance.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import itertools
import json
import logging
import secrets
import selectors
import socket
import ssl
import struct
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger("emulator.dataplane.proxy")

# RDS Proxy for PostgreSQL listens on PostgreSQL's port whatever the database's port (the port an IAM token of a
# proxy endpoint is signed for).
PORT = 5432

# Request codes of the first message (PostgreSQL documentation, "Message Formats").
PROTOCOL_3_0 = 3 << 16
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_STARTUP_LENGTH = 10000  # PostgreSQL's MAX_STARTUP_PACKET_LENGTH (src/include/libpq/pqcomm.h)
MAX_AUTH_LENGTH = 65535  # PostgreSQL's PG_MAX_AUTH_TOKEN_LENGTH: room for an IAM token with a session token
MAX_BACKEND_MESSAGE = 1 << 20  # startup messages of the database (parameter status, notices, errors)

STARTUP_TIMEOUT = 60.0  # seconds a client has to complete TLS and authentication (PostgreSQL's authentication_timeout)
BACKEND_TIMEOUT = 30.0  # seconds for each step of the proxy's own login to the database
BORROW_POLL = 0.2  # seconds between looks for an available target while a connection waits for one
DEFAULT_BORROW_TIMEOUT = 120  # ConnectionBorrowTimeout's default (API reference, ConnectionPoolConfiguration)
DEFAULT_IDLE_CLIENT_TIMEOUT = 1800  # IdleClientTimeout's default (API reference, CreateDBProxy)
HIGH_WATER = 1 << 20  # bytes buffered towards one side before the relay stops reading from the other
SCRAM_ITERATIONS = 4096  # PostgreSQL's scram_iterations default

# The startup parameters RDS Proxy accepts (Amazon Aurora User Guide, "Connecting to a database through RDS Proxy",
# "Considerations for connecting to PostgreSQL": user, database and replication, and the runtime parameters
# application_name, client_encoding, DateStyle, TimeZone and extra_float_digits). PostgreSQL compares parameter
# names without regard to case.
RUNTIME_PARAMETERS = ("application_name", "client_encoding", "datestyle", "timezone", "extra_float_digits")

# -- what RDS Proxy answers ---------------------------------------------------------------------------------------
# The messages are RDS Proxy's, from the PostgreSQL table of Amazon Aurora User Guide, "Troubleshooting for RDS
# Proxy" (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy.troubleshooting.html), unless a
# comment says otherwise. RDS Proxy sends them with severity FATAL ("FATAL:  This RDS Proxy requires TLS
# connections", aws-samples/aws-secrets-manager-rotation-lambdas issue 103; "FATAL: This RDS proxy has no
# credentials for the role ...", aws/aws-secretsmanager-jdbc issue 222). AWS documents no SQLSTATE: 28000 for
# "no credentials" is the one clients observe (aws/aws-secretsmanager-jdbc pull request 223) and 08000 for the
# borrow time-out (psycopg2 raises errors.ConnectionException, the class of 08000); the others are PostgreSQL's
# own codes for the same situations (28000 invalid_authorization_specification, 28P01 invalid_password,
# 0A000 feature_not_supported, XX000 internal_error).
REQUIRES_TLS = "This RDS Proxy requires TLS connections"  # as the issue above quotes it (the guide adds a period)
IAM_NEEDS_TLS = "IAM authentication is allowed only with SSL connections."
IAM_FAILED = "IAM authentication failed for user {user}. Check the IAM token for this user and try again."
NO_CREDENTIALS = (
    "This RDS proxy has no credentials for the role {user}. Check the credentials for this role and try again."
)
WRONG_PASSWORD = "The password that was provided for the role {user} is wrong."  # noqa: S105 (a message)
NO_USER = "A user name is missing from the connection startup packet. Provide a user name for this connection."
PROTOCOL_VERSION = "Feature not supported: RDS Proxy supports only version 3.0 of the PostgreSQL messaging protocol."
REPLICATION = "Feature not supported: RDS Proxy currently doesn't support streaming replication mode."
OPTION = "Feature not supported: RDS Proxy currently doesn't support the option {option}."
# The guide's table has "RDS supports only IAM or MD5 authentication."; proxies now answer with this wording
# (goldfiglabs/rds_iamauth_proxy issue 3, 2024).
UNSUPPORTED_AUTHENTICATION = "RDS Proxy supports only IAM, MD5, or SCRAM authentication."
TIMED_OUT = "Timed-out waiting to acquire database connection."
# "The database connection established from the proxy returned an error", e.g. "Request returned an error: database
# "your-database-name" does not exist": the database's own message after this prefix, for every error of the
# proxy's login to the database (a wrong password in the secret included).
REQUEST_ERROR = "Request returned an error: {message}"
UNKNOWN = "Unknown error."
# End-to-end IAM authentication: Aurora PostgreSQL's refusal of an IAM login (AWS re:Post Knowledge Center,
# "aurora-postgresql-connect-iam"), passed on after REQUEST_ERROR's prefix. AWS documents neither what RDS Proxy
# answers then nor the SQLSTATE: 28000 is PostgreSQL's for a failed PAM authentication (auth.c, auth_failed) and
# the class of this module's other authentication refusals.
PAM_FAILED = 'PAM authentication failed for user "{user}"'
# A read-only endpoint of a proxy whose cluster has no reader instance fails at once (Amazon Aurora User Guide,
# "Using reader endpoints with Aurora clusters": "RDS Proxy returns an error immediately if you try to connect to a
# reader endpoint"). AWS does not document the error's text: these words are the emulator's own.
NO_READERS = "The DB cluster {cluster} of this read-only proxy endpoint has no reader DB instances."


@dataclass(frozen=True)
class EndpointTarget:
    """The endpoint a listener serves; ``endpoint_name`` None is the proxy's default endpoint."""

    account_id: str
    region: str
    proxy_name: str
    endpoint_name: str | None


def _rds_backend(account_id: str, region: str) -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[account_id][region]


def certificate_names(account_id: str, region: str, proxy_name: str) -> tuple[str, ...]:
    """The names on the proxy's certificate: the wildcard of one label over its default endpoint's domain,
    ``*.proxy-<id>.<region>.rds.amazonaws.com`` (see the module's docstring)."""
    proxy = _rds_backend(account_id, region).get_db_proxy(proxy_name)
    return ("*." + proxy.endpoint.split(".", 1)[1],)


def _postgres() -> Any:
    from . import postgres

    return postgres


def _iam_auth() -> Any:
    from . import iam_auth

    return iam_auth


# -- the wire format --------------------------------------------------------------------------------------------
class _Closed(Exception):
    """The peer closed the connection, or the listener is closing."""


class _Refusal(Exception):
    """An ErrorResponse the proxy sends before closing the connection; ``reason`` is for the log only."""

    def __init__(self, code: str, message: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.message, self.reason = code, message, reason


class _Unavailable(Exception):
    """No database connection can be had now; the connection waits (ConnectionBorrowTimeout)."""


def _token_clock() -> datetime.datetime:
    """The time against which IAM tokens are checked: now, or ahead by the setting ``token_clock_offset`` (a drill
    of expired tokens)."""
    from ..settings import SETTINGS

    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=SETTINGS.token_clock_offset)


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except (TimeoutError, OSError) as error:
            raise _Closed(str(error) or type(error).__name__) from None
        if not chunk:
            raise _Closed("end of stream")
        data += chunk
    return bytes(data)


def _read_startup(sock: socket.socket) -> tuple[int, bytes]:
    """The first message of a connection (no type byte): (request code, the rest)."""
    (length,) = struct.unpack("!i", _read_exact(sock, 4))
    if not 8 <= length <= MAX_STARTUP_LENGTH:
        raise _Closed(f"invalid startup packet length {length}")
    body = _read_exact(sock, length - 4)
    return struct.unpack("!i", body[:4])[0], body[4:]


def _read_message(sock: socket.socket, limit: int) -> tuple[bytes, bytes]:
    """A typed message: (type byte, body)."""
    header = _read_exact(sock, 5)
    (length,) = struct.unpack("!i", header[1:])
    if not 4 <= length <= limit:
        raise _Closed(f"invalid message length {length}")
    return header[:1], _read_exact(sock, length - 4)


def _message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _authentication(code: int, data: bytes = b"") -> bytes:
    return _message(b"R", struct.pack("!i", code) + data)


def _error_response(code: str, message: str, severity: str = "FATAL") -> bytes:
    fields = [(b"S", severity), (b"V", severity), (b"C", code), (b"M", message)]
    return _message(b"E", b"".join(kind + value.encode() + b"\0" for kind, value in fields) + b"\0")


def _error_fields(body: bytes) -> dict[str, str]:
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[part[:1].decode("ascii", "replace")] = part[1:].decode("utf-8", "replace")
    return fields


def _cstrings(data: bytes) -> list[str]:
    return [item.decode("utf-8", "replace") for item in data.split(b"\0")]


def _startup_parameters(body: bytes) -> dict[str, str]:
    items = _cstrings(body)
    while items and items[-1] == "":
        items.pop()
    if len(items) % 2:
        raise _Closed("malformed startup packet")
    return dict(zip(items[::2], items[1::2], strict=True))


def _startup_message(parameters: dict[str, str]) -> bytes:
    body = struct.pack("!i", PROTOCOL_3_0)
    body += b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in parameters.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def _password_message(sock: socket.socket) -> bytes:
    """The body of the client's next message, which must be a password message ('p')."""
    kind, body = _read_message(sock, MAX_AUTH_LENGTH)
    if kind != b"p":
        raise _Refusal(
            "28000", UNSUPPORTED_AUTHENTICATION, f"the client answered the authentication request with {kind!r}"
        )
    return body


# -- SCRAM-SHA-256 (RFC 5802, RFC 7677; PostgreSQL documentation, "SASL Authentication") ----------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _saslprep(password: str) -> str:
    """RFC 4013's mapping and normalisation as PostgreSQL applies it to a SCRAM password (pg_saslprep); an ASCII
    password is unchanged. Prohibited characters are not checked (PostgreSQL then uses the password as it is)."""
    if password.isascii():
        return password
    mapped = "".join(" " if unicodedata.category(c) == "Zs" else c for c in password if c not in "\u00ad\u200b\u2060")
    return unicodedata.normalize("NFKC", mapped)


def _md5_answer(password: str, user: str, salt: bytes) -> bytes:
    """PostgreSQL's MD5 password exchange: "md5" + md5(md5(password + user) + salt), in hexadecimal."""
    inner = hashlib.md5(password.encode() + user.encode(), usedforsecurity=False).hexdigest().encode()
    return b"md5" + hashlib.md5(inner + salt, usedforsecurity=False).hexdigest().encode()


def _scram_attributes(message: str) -> dict[str, str]:
    attributes = {}
    for part in message.split(","):
        name, sep, value = part.partition("=")
        if sep and len(name) == 1:
            attributes.setdefault(name, value)
    return attributes


def _scram_keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes, bytes]:
    """(ClientKey, StoredKey, ServerKey)."""
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password).encode(), salt, iterations)
    client_key = _hmac(salted, b"Client Key")
    return client_key, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


class _ScramClient:
    """The proxy logging in to the database."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.nonce = _b64(secrets.token_bytes(18))
        self.first_bare = f"n=,r={self.nonce}"  # PostgreSQL takes the user from the startup message
        self.server_signature = b""

    def first(self) -> bytes:
        return ("n,," + self.first_bare).encode()

    def final(self, server_first: str) -> bytes:
        attributes = _scram_attributes(server_first)
        nonce, salt, iterations = attributes.get("r", ""), attributes.get("s", ""), attributes.get("i", "")
        if not nonce.startswith(self.nonce) or not salt or not iterations.isdigit():
            raise ValueError("malformed SCRAM server-first-message")
        client_key, stored_key, server_key = _scram_keys(self.password, base64.b64decode(salt), int(iterations))
        without_proof = f"c=biws,r={nonce}"
        auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
        self.server_signature = _hmac(server_key, auth_message)
        proof = _xor(client_key, _hmac(stored_key, auth_message))
        return f"{without_proof},p={_b64(proof)}".encode()

    def verify(self, server_final: str) -> None:
        signature = _scram_attributes(server_final).get("v", "")
        if not hmac.compare_digest(signature, _b64(self.server_signature)):
            raise ValueError("the database's SCRAM server signature does not match")


# -- cancel requests ----------------------------------------------------------------------------------------------
# BackendKeyData (process ID and secret key, as the database sent them) -> the database server's address, for the
# sessions relayed now.
_cancel_keys: dict[bytes, tuple[str, int]] = {}
_cancel_lock = threading.Lock()


def _forward_cancel(key: bytes) -> None:
    with _cancel_lock:
        address = _cancel_keys.get(key)
    if address is None:
        LOGGER.info("A cancel request named no session of this proxy")
        return
    # PostgreSQL reads a cancel request before authentication and closes the connection without an answer.
    try:
        with socket.create_connection(address, timeout=BACKEND_TIMEOUT) as sock:
            sock.sendall(struct.pack("!ii", 8 + len(key), CANCEL_REQUEST) + key)
            sock.recv(1)
    except OSError as error:
        LOGGER.warning("Passing a cancel request to %s:%d failed: %s", *address, error)


# -- TLS contexts -------------------------------------------------------------------------------------------------
_contexts: dict[Any, ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def _server_context(names: tuple[str, ...]) -> ssl.SSLContext:
    """The context that presents the proxy's certificate. RDS Proxy accepts TLS 1.0 to 1.3 ("Using TLS/SSL with RDS
    Proxy"); the emulator keeps Python's defaults (TLS 1.2 and 1.3), which every current client negotiates."""
    from .ca import authority

    with _contexts_lock:
        if names not in _contexts:
            cert, key = authority().issue(names)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            _contexts[names] = context
        return _contexts[names]


def _backend_context(ca_file: Path) -> ssl.SSLContext:
    """The context of the proxy's connections to the database: the server's chain must verify against the CA file.
    The host name is not checked (the servers are reached by address)."""
    key = ("backend", str(ca_file))
    with _contexts_lock:
        if key not in _contexts:
            context = ssl.create_default_context(cafile=str(ca_file))
            context.check_hostname = False
            _contexts[key] = context
        return _contexts[key]


# -- the proxy's settings, read at each connection -----------------------------------------------------------------
@dataclass(frozen=True)
class _Settings:
    proxy: Any
    dns_name: str  # the endpoint's DNS name: an IAM token is signed for it
    target_role: str  # READ_WRITE or READ_ONLY


@dataclass(frozen=True)
class _Credentials:
    username: str
    password: str
    entry: dict[str, str]  # the proxy's Auth entry
    secret_arn: str


def _settings(target: EndpointTarget) -> _Settings | None:
    backend = _rds_backend(target.account_id, target.region)
    proxy = backend.db_proxies.get(target.proxy_name)
    if proxy is None:
        return None
    if target.endpoint_name is None:
        return _Settings(proxy, proxy.endpoint, "READ_WRITE")  # the default endpoint is read/write
    endpoint = backend.db_proxy_endpoints.get(target.endpoint_name)
    if endpoint is None or endpoint.proxy is not proxy:
        return None
    return _Settings(proxy, endpoint.endpoint, endpoint.target_role)


def _role_problem(proxy: Any, action: str, resource: str) -> str | None:
    """Why the proxy's role cannot do ``action`` on ``resource`` now (None when it can): RDS Proxy acts with the
    role it is given, which must trust ``rds.amazonaws.com`` ("Setting up AWS Identity and Access Management (IAM)
    policies"; "Configuring IAM authentication for RDS Proxy"), and its identity policies must allow the action."""
    from ..ext import iam_roles

    return iam_roles.service_problem(
        proxy.account_id,
        proxy.role_arn,
        "rds.amazonaws.com",
        context={"aws:SourceArn": proxy.arn},
        permissions=[(action, resource)],
    )


def _read_secret(proxy: Any, secret_arn: str) -> dict[str, Any] | None:
    """The secret's JSON as the proxy's role reads it (AWSCURRENT), or None (the reason logged)."""
    from moto.secretsmanager.models import secretsmanager_backends

    # RDS Proxy reads the secrets of its Auth with its role ("Setting up database credentials in AWS Secrets
    # Manager", "Setting up AWS Identity and Access Management (IAM) policies"); emulator/ext/rds_proxy.py reports
    # a role that cannot as AUTH_FAILURE in DescribeDBProxyTargets.
    problem = _role_problem(proxy, "secretsmanager:GetSecretValue", secret_arn)
    if problem:
        LOGGER.warning("Proxy %s cannot read the secret %s: %s", proxy.db_proxy_name, secret_arn, problem)
        return None
    parts = secret_arn.split(":")
    try:
        value = secretsmanager_backends[parts[4]][parts[3]].get_secret_value(secret_arn, None, "AWSCURRENT")
        data = json.loads(value.get("SecretString") or "")
    except Exception as error:  # a deleted or missing secret, a binary or non-JSON value
        LOGGER.warning("Proxy %s cannot use the secret %s: %s", proxy.db_proxy_name, secret_arn, type(error).__name__)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("username"), str):
        LOGGER.warning("The secret %s has no username", secret_arn)
        return None
    if not isinstance(data.get("password"), str):
        LOGGER.warning("The secret %s has no password", secret_arn)
        return None
    return data


def _cluster_registration(proxy: Any) -> Any | None:
    """The registration of the DB cluster of the proxy's default target group, if any."""
    return next((r for r in proxy.registrations if r.kind == "cluster"), None)


def _registered_cluster(proxy: Any, target: EndpointTarget) -> Any | None:
    """The DB cluster registered with the proxy's default target group, if it still exists."""
    registration = _cluster_registration(proxy)
    if registration is None:
        return None
    return _rds_backend(target.account_id, target.region).clusters.get(registration.identifier)


def _credentials(proxy: Any, user: str) -> _Credentials | None:
    """The Auth entry whose secret's username is ``user``, with that secret's password read now."""
    for entry in proxy.auth:
        arn = entry.get("SecretArn")
        if entry.get("AuthScheme", "SECRETS") != "SECRETS" or not arn:
            continue
        secret = _read_secret(proxy, arn)
        if secret is not None and secret["username"] == user:
            return _Credentials(user, secret["password"], entry, arn)
    return None


# -- the listener -------------------------------------------------------------------------------------------------
def serve(sock: socket.socket, target: EndpointTarget) -> Listener:
    """Accept and serve PostgreSQL clients on ``sock`` (bound and listening) in daemon threads.

    ``sock`` may belong to another network namespace (a socket keeps the namespace it was created in); the threads
    reach the database servers from the namespace of the thread that calls ``serve``, which must therefore be the
    emulator's own (Linux threads inherit the namespace of the thread that starts them)."""
    return Listener(sock, target)


class Listener:
    """An endpoint's listener; ``close()`` stops accepting and closes its connections."""

    _ids = itertools.count(1)

    def __init__(self, sock: socket.socket, target: EndpointTarget) -> None:
        self.target = target
        self._sock = sock
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sessions: set[_Session] = set()
        sock.settimeout(None)
        label = target.endpoint_name or "default"
        self._thread = threading.Thread(target=self._accept, name=f"rds-proxy-{target.proxy_name}-{label}", daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self._sock.getsockname()[:2]

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        _shutdown(self._sock)  # wakes the thread blocked in accept()
        self._sock.close()
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.abort()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, peer = self._sock.accept()
            except OSError as error:
                if self._closed.is_set():
                    return
                LOGGER.warning("Accepting a connection failed: %s", error)
                self._closed.wait(0.1)  # e.g. out of file descriptors: try again shortly
                continue
            # As PostgreSQL does on the connections it accepts (src/backend/libpq/pqcomm.c): small protocol messages
            # go out at once instead of waiting on delayed acknowledgements (Nagle's algorithm).
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = _Session(self, conn, peer, next(self._ids))
            with self._lock:
                if self._closed.is_set():
                    conn.close()
                    return
                self._sessions.add(session)
            threading.Thread(target=session.run, name=f"{self._thread.name}-{session.id}", daemon=True).start()

    def _forget(self, session: _Session) -> None:
        with self._lock:
            self._sessions.discard(session)


def _shutdown(sock: socket.socket | None) -> None:
    """Shut a socket down (TLS or not) so that a thread blocked on it wakes up."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Session:
    """One client connection."""

    def __init__(self, listener: Listener, conn: socket.socket, peer: Any, number: int) -> None:
        self.listener = listener
        self.target = listener.target
        self.client: socket.socket = conn
        self.backend: socket.socket | None = None
        self.peer = peer
        self.id = number
        self.tls = False
        self.cancel_key: bytes | None = None

    # -- logging: RDS Proxy prefixes each entry with the endpoint's name ("default" for the default endpoint)
    # and the client connection (Amazon Aurora User Guide, "Troubleshooting for RDS Proxy").
    def log(self, level: int, message: str, *args: Any, **kwargs: Any) -> None:
        prefix = f"[{self.target.proxy_name}] [proxyEndpoint={self.target.endpoint_name or 'default'}] "
        prefix += f"[clientConnection={self.id}] "
        LOGGER.log(level, prefix + message, *args, **kwargs)

    def abort(self) -> None:
        _shutdown(self.client)
        _shutdown(self.backend)

    def run(self) -> None:
        try:
            self._serve()
        except _Refusal as refusal:
            self.log(logging.INFO, "Refused: %s", refusal.reason)
            self._send_quietly(_error_response(refusal.code, refusal.message))
        except _Closed as closed:
            self.log(logging.DEBUG, "The connection closed: %s", closed)
        except Exception:
            self.log(logging.ERROR, "Internal error", exc_info=True)
            self._send_quietly(_error_response("XX000", UNKNOWN))
        finally:
            if self.cancel_key is not None:
                with _cancel_lock:
                    _cancel_keys.pop(self.cancel_key, None)
            for sock in (self.client, self.backend):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()
            self.listener._forget(self)

    def _send_quietly(self, data: bytes) -> None:
        try:
            self.client.settimeout(5)
            self.client.sendall(data)
        except OSError:
            pass

    def _serve(self) -> None:
        self.client.settimeout(STARTUP_TIMEOUT)
        self.log(logging.DEBUG, "A new client connected from %s", self.peer)
        code, body = self._negotiate()
        if code >> 16 != 3:
            raise _Refusal("0A000", PROTOCOL_VERSION, f"the client asked for protocol {code >> 16}.{code & 0xFFFF}")
        parameters = _startup_parameters(body)
        extensions = sorted(name for name in parameters if name.startswith("_pq_."))
        if code & 0xFFFF or extensions:
            # A newer minor version or protocol options: PostgreSQL's answer, NegotiateProtocolVersion, offers 3.0.
            names = b"".join(name.encode() + b"\0" for name in extensions)
            self.client.sendall(_message(b"v", struct.pack("!ii", 0, len(extensions)) + names))
        settings = _settings(self.target)
        if settings is None:
            raise _Closed("the proxy or endpoint no longer exists")
        proxy = settings.proxy
        if proxy.require_tls and not self.tls:
            raise _Refusal("28000", REQUIRES_TLS, "the proxy requires TLS and the client did not negotiate it")
        forwarded = self._check_parameters(parameters)
        user = parameters.get("user", "")
        if not user:
            raise _Refusal("28000", NO_USER, "the startup packet names no user")
        credentials = _credentials(proxy, user)
        end_to_end = credentials is None and proxy.default_auth_scheme == "IAM_AUTH"
        if credentials is not None:
            self._authenticate(settings, credentials)
        elif end_to_end:
            # End-to-end IAM authentication (see the module's docstring): the client's IAM token, whatever Auth says.
            self._receive_token(settings, user)
        else:
            reason = f"no secret of the proxy's Auth that its role can read has the username {user!r}"
            raise _Refusal("28000", NO_CREDENTIALS.format(user=user), reason)
        backend, sock = self._acquire(settings, private=end_to_end)
        self.backend = sock
        if self.listener.closed:
            raise _Closed("the listener is closing")
        startup = {"user": user, **forwarded}
        if end_to_end:
            self._check_iam_login(settings, user)
            messages = self._login(backend, sock, user, None, startup)
        else:
            assert credentials is not None
            messages = self._login(backend, sock, user, credentials.password, startup)
        self.client.sendall(b"".join(messages))
        self.log(
            logging.DEBUG,
            "Proxy authentication succeeded for user %r (TLS %s); relaying to %s (%s)",
            user,
            "on" if self.tls else "off",
            backend.instance_identifier,
            backend.role,
        )
        self._relay(sock, int(proxy.idle_client_timeout or DEFAULT_IDLE_CLIENT_TIMEOUT))

    # -- before the startup message: TLS, GSSAPI encryption, cancel requests
    def _negotiate(self) -> tuple[int, bytes]:
        while True:
            code, body = _read_startup(self.client)
            if code == SSL_REQUEST and not self.tls:
                settings = _settings(self.target)
                if settings is None:
                    raise _Closed("the proxy or endpoint no longer exists")
                context = _server_context(
                    certificate_names(self.target.account_id, self.target.region, settings.proxy.db_proxy_name)
                )
                self.client.sendall(b"S")
                try:
                    self.client = context.wrap_socket(self.client, server_side=True)
                except (ssl.SSLError, OSError) as error:
                    raise _Closed(f"TLS handshake failed: {error}") from None
                self.tls = True
            elif code == GSSENC_REQUEST and not self.tls:
                self.client.sendall(b"N")
            elif code == CANCEL_REQUEST:
                _forward_cancel(body)
                raise _Closed("cancel request handled")
            elif code in (SSL_REQUEST, GSSENC_REQUEST):
                raise _Closed("encryption requested twice")
            else:
                return code, body

    def _check_parameters(self, parameters: dict[str, str]) -> dict[str, str]:
        """The runtime parameters to forward to the database; a parameter RDS Proxy does not support is refused."""
        forwarded = {}
        for name, value in parameters.items():
            lowered = name.lower()
            if name == "user" or name.startswith("_pq_."):
                continue
            if name == "database":
                forwarded[name] = value
            elif name == "replication":
                if value.lower() not in ("false", "off", "no", "0"):
                    raise _Refusal("0A000", REPLICATION, f"the client asked for replication={value!r}")
            elif lowered in RUNTIME_PARAMETERS:
                forwarded[name] = value
            else:
                raise _Refusal("0A000", OPTION.format(option=name), f"the startup packet sets {name!r}")
        return forwarded

    # -- client authentication
    def _authenticate(self, settings: _Settings, credentials: _Credentials) -> None:
        user, entry = credentials.username, credentials.entry
        iam = entry.get("IAMAuth", "DISABLED")
        if iam in ("REQUIRED", "ENABLED"):
            password = self._cleartext_over_tls(user)
            # IAMAuth ENABLED ("The ENABLED value is valid only for proxies with RDS for Microsoft SQL Server", API
            # reference, UserAuthConfig) accepts the password as well.
            if iam == "ENABLED" and hmac.compare_digest(password.encode(), credentials.password.encode()):
                return
            self._check_token(settings, user, password)
            return
        method = entry.get("ClientPasswordAuthType", "POSTGRES_SCRAM_SHA_256")
        if method == "POSTGRES_SCRAM_SHA_256":
            self._scram(user, credentials.password)
        elif method == "POSTGRES_MD5":
            self._md5(user, credentials.password)
        else:
            self.client.sendall(_authentication(3))
            password = _password_message(self.client).split(b"\0", 1)[0]
            if not hmac.compare_digest(password, credentials.password.encode()):
                raise _Refusal("28P01", WRONG_PASSWORD.format(user=user), "the password is not the secret's")

    def _cleartext_over_tls(self, user: str) -> str:
        """The password (an IAM token) the client sends when asked for one in clear text, which IAM authentication
        allows inside TLS only."""
        if not self.tls:
            raise _Refusal("28000", IAM_NEEDS_TLS, f"IAM authentication for user {user!r} without TLS")
        # The client sends the token as a cleartext password, inside TLS (Amazon Aurora User Guide,
        # "Connecting to your DB cluster using IAM authentication": the token is used as the password).
        self.client.sendall(_authentication(3))
        return _password_message(self.client).split(b"\0", 1)[0].decode("utf-8", "replace")

    def _receive_token(self, settings: _Settings, user: str) -> None:
        """End-to-end IAM authentication: the client authenticates with an IAM token for the proxy's resource ID,
        as with IAMAuth REQUIRED ("Connecting to a database through RDS Proxy", "Connecting to a database using IAM
        authentication")."""
        self._check_token(settings, user, self._cleartext_over_tls(user))

    def _check_iam_login(self, settings: _Settings, user: str) -> None:
        """What the database checks of the proxy's IAM login as ``user`` besides rds_iam membership (which the
        database itself decides in ``_login``): IAM database authentication enabled on the cluster and
        ``rds-db:connect`` allowed to the proxy's role on the cluster's database user (see the module's
        docstring)."""
        cluster = _registered_cluster(settings.proxy, self.target)
        refused = _Refusal("28000", REQUEST_ERROR.format(message=PAM_FAILED.format(user=user)), "")
        if cluster is None:  # deregistered or deleted since the connection was acquired
            raise _Refusal("08000", TIMED_OUT, "the proxy's DB cluster is no longer registered")
        if not getattr(cluster, "iam_auth", False):
            refused.reason = (
                f"end-to-end IAM authentication as {user!r}: IAM database authentication is not enabled on the DB "
                f"cluster {cluster.db_cluster_identifier}"
            )
            raise refused
        resource = (
            f"arn:{settings.proxy.partition}:rds-db:{self.target.region}:{settings.proxy.account_id}:dbuser:"
            f"{cluster.db_cluster_resource_id}/{user}"
        )
        problem = _role_problem(settings.proxy, "rds-db:connect", resource)
        if problem:
            refused.reason = f"end-to-end IAM authentication as {user!r}: {problem}"
            raise refused

    def _check_token(self, settings: _Settings, user: str, token: str) -> None:
        iam_auth = _iam_auth()
        proxy = settings.proxy
        refused = IAM_FAILED.format(user=user)
        # RDS Proxy's own log line for this (JuliaDatabases/MySQL.jl issue 201): "Proxy authentication with IAM
        # authentication failed for user "root" with TLS on. Reason: ...".
        failed = f"Proxy authentication with IAM authentication failed for user {user!r} with TLS on. Reason: "
        try:
            principal = iam_auth.verify_token(
                token, host=settings.dns_name, port=PORT, user=user, region=self.target.region, now=_token_clock()
            )
        except iam_auth.TokenRefused as error:
            raise _Refusal("28P01", refused, failed + str(error.reason)) from None
        resource = (
            f"arn:{proxy.partition}:rds-db:{self.target.region}:{proxy.account_id}:dbuser:{proxy.unique_id}/{user}"
        )
        if not iam_auth.is_allowed(principal, "rds-db:connect", resource):
            raise _Refusal("28P01", refused, failed + f"{principal.arn} is not allowed rds-db:connect on {resource}")
        self.log(logging.DEBUG, "IAM authentication of %s as user %r", principal.arn, user)

    def _scram(self, user: str, password: str) -> None:
        """SCRAM-SHA-256 towards the client, the secret's password as the verifier's source (no channel binding)."""
        wrong = _Refusal(
            "28P01", WRONG_PASSWORD.format(user=user), "the client's SCRAM proof does not match the secret"
        )
        self.client.sendall(_authentication(10, b"SCRAM-SHA-256\0\0"))
        body = _password_message(self.client)
        mechanism, _, rest = body.partition(b"\0")
        if mechanism != b"SCRAM-SHA-256" or len(rest) < 4:
            raise _Refusal("28000", UNSUPPORTED_AUTHENTICATION, f"the client chose the SASL mechanism {mechanism!r}")
        client_first = rest[4:].decode("utf-8", "replace")
        flag, _, remainder = client_first.partition(",")
        _, _, first_bare = remainder.partition(",")
        if flag not in ("n", "y"):
            raise _Refusal("28000", UNSUPPORTED_AUTHENTICATION, "the client asked for SCRAM channel binding")
        gs2_header = client_first[: len(client_first) - len(first_bare)]
        client_nonce = _scram_attributes(first_bare).get("r", "")
        if not client_nonce:
            raise wrong
        nonce = client_nonce + _b64(secrets.token_bytes(18))
        salt = secrets.token_bytes(16)
        server_first = f"r={nonce},s={_b64(salt)},i={SCRAM_ITERATIONS}"
        self.client.sendall(_authentication(11, server_first.encode()))
        client_final = _password_message(self.client).decode("utf-8", "replace")
        without_proof, _, proof = client_final.rpartition(",p=")
        attributes = _scram_attributes(without_proof)
        if attributes.get("r") != nonce or attributes.get("c") != _b64(gs2_header.encode()):
            raise wrong
        _, stored_key, server_key = _scram_keys(password, salt, SCRAM_ITERATIONS)
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        try:
            client_key = _xor(base64.b64decode(proof, validate=True), _hmac(stored_key, auth_message))
        except ValueError:
            raise wrong from None
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key):
            raise wrong
        self.client.sendall(_authentication(12, f"v={_b64(_hmac(server_key, auth_message))}".encode()))

    def _md5(self, user: str, password: str) -> None:
        salt = secrets.token_bytes(4)
        self.client.sendall(_authentication(5, salt))
        answer = _password_message(self.client).split(b"\0", 1)[0]
        if not hmac.compare_digest(answer, _md5_answer(password, user, salt)):
            raise _Refusal(
                "28P01", WRONG_PASSWORD.format(user=user), "the client's MD5 answer does not match the secret"
            )

    # -- the database
    def _acquire(self, settings: _Settings, private: bool = False) -> tuple[Any, socket.socket]:
        """A TLS connection to a database server of the endpoint's role, waiting for one up to the target group's
        ConnectionBorrowTimeout: "When the database writer is unavailable, RDS Proxy queues up incoming requests"
        ("Failover"), and a read-only endpoint whose readers are all unavailable waits for one (Amazon Aurora User
        Guide, "Using reader endpoints with Aurora clusters"); then "Timed-out waiting to acquire database
        connection."."""
        group = settings.proxy.proxy_target_groups.get("default")
        timeout = float(getattr(group, "borrow_timeout", DEFAULT_BORROW_TIMEOUT))
        deadline = time.monotonic() + timeout
        while True:
            try:
                backend = self._choose(settings)
                return backend, self._connect_private(backend) if private else self._connect(backend)
            except _Unavailable as unavailable:
                reason = str(unavailable)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Refusal(
                    "08000",
                    TIMED_OUT,
                    f"no database connection within ConnectionBorrowTimeout ({timeout:g} s): {reason}",
                )
            if self.listener._closed.wait(min(BORROW_POLL, remaining)):
                raise _Closed("the listener is closing")

    def _choose(self, settings: _Settings) -> Any:
        postgres = _postgres()
        proxy = settings.proxy
        rds = _rds_backend(self.target.account_id, self.target.region)
        registration = _cluster_registration(proxy)
        if registration is None:
            raise _Unavailable("no DB cluster is registered with the proxy's default target group")
        status = registration.lifecycle.status
        if status != "AVAILABLE":
            raise _Unavailable(f"the target {registration.identifier} is {status}")
        cluster = rds.clusters.get(registration.identifier)
        if cluster is None:
            raise _Unavailable(f"the DB cluster {registration.identifier} no longer exists")
        role = "reader" if settings.target_role == "READ_ONLY" else "writer"
        if role == "reader" and all(member.is_cluster_writer for member in cluster.members):
            raise _Refusal(
                "08000",
                NO_READERS.format(cluster=cluster.db_cluster_identifier),
                f"the DB cluster {cluster.db_cluster_identifier} has no reader instance",
            )
        try:
            return postgres.backend_for(self.target.account_id, self.target.region, cluster.db_cluster_identifier, role)
        except postgres.NoInstanceAvailable:
            raise _Unavailable(
                f"no {role} instance of the DB cluster {cluster.db_cluster_identifier} is available"
            ) from None

    def _connect(self, backend: Any) -> ssl.SSLSocket:
        postgres = _postgres()
        where = f"{backend.instance_identifier} ({backend.host}:{backend.port})"
        try:
            raw = socket.create_connection((backend.host, backend.port), timeout=BACKEND_TIMEOUT)
        except OSError as error:
            raise _Unavailable(f"cannot reach {where}: {error}") from None
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as libpq does on its connections
        try:
            raw.sendall(struct.pack("!ii", 8, SSL_REQUEST))
            if _read_exact(raw, 1) != b"S":
                raise _Unavailable(f"{where} does not accept TLS")
            return _backend_context(postgres.server_ca_file()).wrap_socket(raw)
        except (_Closed, OSError) as error:
            raw.close()
            raise _Unavailable(f"TLS to {where} failed: {error}") from None
        except _Unavailable:
            raw.close()
            raise

    def _connect_private(self, backend: Any) -> socket.socket:
        """The server's private Unix socket, where pg_hba.conf trusts members of rds_iam and nobody else
        (``postgres.HBA_RDS_IAM_PROXY``): the emulator's stand-in for the proxy's IAM login to the database."""
        where = f"{backend.instance_identifier} ({backend.sockets or 'no Unix socket'})"
        if not backend.sockets:
            raise _Unavailable(f"the private socket of {where} is not known")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(BACKEND_TIMEOUT)
        try:
            sock.connect(str(Path(backend.sockets) / f".s.PGSQL.{backend.port}"))
        except OSError as error:
            sock.close()
            raise _Unavailable(f"cannot reach {where}: {error}") from None
        return sock

    def _login(
        self, backend: Any, sock: socket.socket, username: str, password: str | None, startup: dict[str, str]
    ) -> list[bytes]:
        """Log in as ``username``: with the secret's password, both read from Secrets Manager when this connection
        started (a changed secret takes effect for the next connection), or, ``password`` None, with end-to-end
        IAM authentication, where only AuthenticationOk straight away will do (the private socket admits members of
        rds_iam without a password and nobody else); return the database's messages from AuthenticationOk to
        ReadyForQuery."""
        where = backend.instance_identifier

        def refused(body: bytes) -> _Refusal:
            fields = _error_fields(body)
            text = fields.get("M", "")
            if password is None:  # the database refuses the proxy's IAM login (see the module's docstring)
                return not_iam(f"the DB instance {where} refused it: {text}")
            return _Refusal(
                fields.get("C", "XX000"),
                REQUEST_ERROR.format(message=text),
                f"the DB instance {where} refused the proxy's login as {username!r}: {text}",
            )

        def not_iam(why: str) -> _Refusal:
            return _Refusal(
                "28000",
                REQUEST_ERROR.format(message=PAM_FAILED.format(user=username)),
                f"end-to-end IAM authentication as {username!r}: the user is not a member of rds_iam ({why})",
            )

        try:
            sock.sendall(_startup_message(startup))
            scram: _ScramClient | None = None
            while True:
                kind, body = _read_message(sock, MAX_BACKEND_MESSAGE)
                if kind == b"E":
                    raise refused(body)
                if kind == b"v":  # NegotiateProtocolVersion: nothing asked for
                    continue
                if kind != b"R" or len(body) < 4:
                    raise _Refusal("XX000", UNKNOWN, f"the DB instance {where} sent {kind!r} during authentication")
                (code,) = struct.unpack("!i", body[:4])
                if code == 0:
                    break
                if password is None:
                    raise not_iam(f"the DB instance {where} asks for a password (authentication request {code})")
                if code == 10:
                    if "SCRAM-SHA-256" not in _cstrings(body[4:]):
                        raise _Refusal("XX000", UNKNOWN, f"the DB instance {where} offers no SCRAM-SHA-256")
                    scram = _ScramClient(password)
                    first = scram.first()
                    sock.sendall(_message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first))
                elif code == 11 and scram is not None:
                    sock.sendall(_message(b"p", scram.final(body[4:].decode())))
                elif code == 12 and scram is not None:
                    scram.verify(body[4:].decode())
                elif code == 3:
                    sock.sendall(_message(b"p", password.encode() + b"\0"))
                elif code == 5:
                    sock.sendall(_message(b"p", _md5_answer(password, username, body[4:8]) + b"\0"))
                else:
                    raise _Refusal("XX000", UNKNOWN, f"the DB instance {where} asks for authentication {code}")
            messages = [_authentication(0)]
            while True:
                kind, body = _read_message(sock, MAX_BACKEND_MESSAGE)
                if kind == b"E":  # e.g. the database does not exist: checked after authentication
                    fields = _error_fields(body)
                    raise _Refusal(
                        fields.get("C", "XX000"),
                        REQUEST_ERROR.format(message=fields.get("M", "")),
                        f"the DB instance {where} refused the proxy's login as {username!r}: {fields.get('M', '')}",
                    )
                messages.append(_message(kind, body))
                if kind == b"K":
                    self.cancel_key = body
                    with _cancel_lock:
                        _cancel_keys[body] = (backend.host, backend.port)
                if kind == b"Z":
                    return messages
        except _Closed as closed:
            raise _Refusal("XX000", UNKNOWN, f"the DB instance {where} closed the proxy's login: {closed}") from None
        except ValueError as error:
            raise _Refusal("XX000", UNKNOWN, f"SCRAM with the DB instance {where} failed: {error}") from None

    # -- the relay
    def _relay(self, backend: ssl.SSLSocket, idle_timeout: int) -> None:
        """Pipe bytes both ways in this thread until either side closes or the client connection has been idle
        (nothing sent either way) for IdleClientTimeout seconds ("The number of seconds that a connection to the
        proxy can be inactive before the proxy disconnects it", API reference, CreateDBProxy)."""
        client = self.client
        peer = {client: backend, backend: client}
        outbox: dict[socket.socket, bytearray] = {client: bytearray(), backend: bytearray()}
        for sock in (client, backend):
            sock.setblocking(False)
        selector = selectors.DefaultSelector()
        last_activity = time.monotonic()
        try:
            while True:
                # TLS records already decrypted are not seen by select(): read them first.
                readable = [s for s in (client, backend) if _pending(s) and len(outbox[peer[s]]) < HIGH_WATER]
                writable: list[socket.socket] = []
                if not readable:
                    for sock in (client, backend):
                        events = selectors.EVENT_READ if len(outbox[peer[sock]]) < HIGH_WATER else 0
                        events |= selectors.EVENT_WRITE if outbox[sock] else 0
                        _interest(selector, sock, events)
                    remaining = last_activity + idle_timeout - time.monotonic()
                    ready = selector.select(max(remaining, 0)) if remaining > 0 else []
                    if not ready:
                        self.log(
                            logging.INFO,
                            "The client connection closed: idle for IdleClientTimeout (%d seconds)",
                            idle_timeout,
                        )
                        return
                    readable = [key.fileobj for key, mask in ready if mask & selectors.EVENT_READ]
                    writable = [key.fileobj for key, mask in ready if mask & selectors.EVENT_WRITE]
                for sock in writable:
                    _flush(sock, outbox[sock])
                for sock in readable:
                    data, ended = _drain(sock)
                    if data:
                        last_activity = time.monotonic()
                        outbox[peer[sock]] += data
                        _flush(peer[sock], outbox[peer[sock]])
                    if ended:
                        side = "client" if sock is client else "database"
                        self.log(logging.DEBUG, "The %s closed the connection", side)
                        _finish(peer[sock], outbox[peer[sock]])
                        return
                if self.listener.closed:
                    return
        finally:
            selector.close()


def _pending(sock: socket.socket) -> int:
    return sock.pending() if isinstance(sock, ssl.SSLSocket) else 0


def _interest(selector: selectors.BaseSelector, sock: socket.socket, events: int) -> None:
    try:
        key = selector.get_key(sock)
    except KeyError:
        key = None
    if not events:
        if key is not None:
            selector.unregister(sock)
    elif key is None:
        selector.register(sock, events)
    elif key.events != events:
        selector.modify(sock, events)


def _drain(sock: socket.socket) -> tuple[bytes, bool]:
    """What can be read now without blocking, and whether the peer has closed."""
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
            return b"".join(chunks), False
        except OSError:  # includes SSLZeroReturnError, SSLEOFError, ConnectionResetError
            return b"".join(chunks), True
        if not data:
            return b"".join(chunks), True
        chunks.append(data)
        if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
            return b"".join(chunks), False


def _flush(sock: socket.socket, outbox: bytearray) -> None:
    """Send what the socket takes now. A TLS write that cannot complete is retried with the same bytes."""
    while outbox:
        try:
            sent = sock.send(bytes(outbox[:16384]))
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError):
            return
        except OSError:
            outbox.clear()
            return
        del outbox[:sent]


def _finish(sock: socket.socket, outbox: bytearray) -> None:
    """Deliver what is left for the side still open (e.g. the database's last error before it closed)."""
    if not outbox:
        return
    try:
        sock.settimeout(5)
        sock.sendall(bytes(outbox))
    except OSError:
        pass
