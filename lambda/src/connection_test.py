"""Connection test: reach the database through RDS Proxy with IAM database authentication.

The handler assumes the database account's connect role, signs an IAM token for the proxy endpoint with those
credentials, connects over TLS and runs one query that tells which node answered. TLS checks the certificate against
the CA bundle always, and the host name too where RDS Proxy's certificate allows it: ``sslmode=verify-full`` for a
proxy's default endpoint (and any other name), ``verify-ca`` for a proxy endpoint you create (see ``sslmode_for``).
The event may name the endpoint to test: ``{"target": "read_only"}`` (``RDS_PROXY_READ_ONLY_ENDPOINT``, expected to
reach a reader), ``{"target": "read_write"}`` (``RDS_PROXY_READ_WRITE_ENDPOINT``, expected to reach the writer) or
``{"target": "default"}`` (``RDS_PROXY_ENDPOINT``, no expectation; also when the event names no target).
Warm invocations reuse the assumed-role credentials (until shortly before they expire) and one open connection
per endpoint (while it is alive); a token is signed only for a new connection.

The answer is JSON. On success: status 200 and ``"message": "Database connection was successful!"`` with the
target, endpoint, user, database, the node's role (reader or writer), whether it is the expected one, its server
version and timings per stage. On failure: the link that broke (``config``, ``sts``, ``dns``, ``tcp``, ``tls``,
``auth``, ``connect`` or ``query``), a short error without secrets and the likely causes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import psycopg2.extensions

SUCCESS_MESSAGE = "Database connection was successful!"
DEFAULT_CA_BUNDLE = Path(__file__).resolve().with_name("amazon-root-cas.pem")
DEFAULT_PORT = 5432
SESSION_NAME = "connection-test"
APPLICATION_NAME = "connection-test"
TEST_QUERY = "SELECT pg_is_in_recovery(), current_setting('server_version'), pg_backend_pid(), current_user"
CREDENTIALS_REFRESH_MARGIN = 300  # seconds before expiry at which assumed-role credentials are renewed
TCP_TIMEOUT = 3  # seconds
CONNECT_TIMEOUT = 5  # seconds (libpq: the whole connection attempt)

LOGGER = logging.getLogger(__name__)

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")

VERIFY_FULL = "verify-full"  # libpq: the certificate chains to a trusted CA and names the host
VERIFY_CA = "verify-ca"  # libpq: the certificate chains to a trusted CA (the host name is not checked)
# The DNS suffixes of the AWS partitions (botocore/data/partitions.json, "dnsSuffix"): aws and aws-us-gov, aws-cn,
# aws-eusc, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f.
_AWS_DNS_SUFFIXES = (
    "amazonaws.com",
    "amazonaws.com.cn",
    "amazonaws.eu",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
)
# A proxy endpoint you create: <endpoint-name>.endpoint.proxy-<12 lowercase alphanumerics>.<region>.rds.<suffix>
# (matched lowercased). A proxy's default endpoint is <proxy-name>.proxy-<the same 12>.<region>.rds.<suffix>.
_AWS_DNS_SUFFIX = "(?:" + "|".join(map(re.escape, _AWS_DNS_SUFFIXES)) + ")"
_CREATED_PROXY_ENDPOINT = re.compile(
    rf"{_HOST_LABEL}\.endpoint\.proxy-[a-z0-9]{{12}}\.[a-z0-9-]+\.rds\.{_AWS_DNS_SUFFIX}"
)

DEFAULT_TARGET = "default"
ENDPOINT_VARIABLE = "RDS_PROXY_ENDPOINT"


def sslmode_for(endpoint: str) -> str:
    """The strongest libpq ``sslmode`` RDS Proxy supports for this endpoint name.

    RDS Proxy presents an ACM certificate for its *default* endpoint's names, a wildcard of one DNS label
    (``*.proxy-<id>.<region>.rds.amazonaws.com``). A proxy endpoint you create is one label deeper
    (``<name>.endpoint.proxy-<id>...``): the wildcard does not cover it, and AWS documents that clients of such an
    endpoint can use the SSL modes REQUIRED and VERIFY_CA, not VERIFY_IDENTITY (Amazon Aurora User Guide,
    "Limitations for proxy endpoints",
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-endpoints.html, and "Using TLS/SSL with
    RDS Proxy", https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy.howitworks.html). So:
    ``verify-ca`` (the certificate must still chain to a CA of the bundle) for a name of that shape, and
    ``verify-full`` (CA and host name) for a proxy's default endpoint and for every other name.
    """
    name = endpoint.rstrip(".").lower()
    return VERIFY_CA if _CREATED_PROXY_ENDPOINT.fullmatch(name) else VERIFY_FULL


@dataclass(frozen=True)
class Target:
    variable: str  # the environment variable holding the endpoint
    expected_role: str | None  # the role the endpoint must reach, if any


TARGETS = {
    DEFAULT_TARGET: Target(ENDPOINT_VARIABLE, None),
    "read_only": Target("RDS_PROXY_READ_ONLY_ENDPOINT", "reader"),
    "read_write": Target("RDS_PROXY_READ_WRITE_ENDPOINT", "writer"),
}


# --- configuration -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """What one invocation connects with: the chosen target's endpoint and the shared settings.

    Two targets naming the same endpoint give equal configurations (the target is not compared), so they share
    one connection.
    """

    role_arn: str
    endpoint: str
    port: int
    user: str
    dbname: str
    region: str
    ssl_root_cert: Path
    target: str = field(default=DEFAULT_TARGET, compare=False)

    @property
    def endpoint_variable(self) -> str:
        return TARGETS[self.target].variable

    @property
    def sslmode(self) -> str:
        return sslmode_for(self.endpoint)

    @property
    def expected_role(self) -> str | None:
        return TARGETS[self.target].expected_role

    @property
    def database_account_id(self) -> str:
        match = _ROLE_ARN.fullmatch(self.role_arn)
        return match.group(1) if match else "<database-account>"


class ConfigError(Exception):
    """Environment variables or event keys are missing or malformed.

    ``problems`` maps each bad environment variable to the reason, ``event_problems`` each bad event key.
    """

    def __init__(self, problems: dict[str, str], event_problems: dict[str, str] | None = None) -> None:
        self.problems = problems
        self.event_problems = event_problems or {}
        parts = [
            f"invalid {what}: " + ", ".join(sorted(names))
            for what, names in (("event", self.event_problems), ("environment", problems))
            if names
        ]
        super().__init__("; ".join(parts))


def event_target(event: object) -> object:
    """The target an event names: its ``"target"``, or ``default`` when it names none (or is not an object)."""
    target = event.get("target") if isinstance(event, Mapping) else None
    return DEFAULT_TARGET if target is None else target


def event_fresh(event: object) -> object:
    """Whether the event asks for a fresh connection (``"fresh": true``): new credentials, token and connection,
    nothing kept from an earlier invocation. False when the event does not say."""
    return event.get("fresh", False) if isinstance(event, Mapping) else False


def load_config(environ: Mapping[str, str], target: object = DEFAULT_TARGET, fresh: object = False) -> Config:
    """Read and validate the configuration for a target; every bad variable (and a bad target) is reported by name.

    ``RDS_PROXY_ENDPOINT`` is required unless ``RDS_PROXY_READ_ONLY_ENDPOINT`` or ``RDS_PROXY_READ_WRITE_ENDPOINT``
    is set; the target's own variable must be set.
    """
    problems: dict[str, str] = {}
    event_problems: dict[str, str] = {}

    def required(name: str, pattern: re.Pattern[str], expected: str) -> str:
        value = environ.get(name, "").strip()
        if not value:
            problems[name] = "missing"
        elif not pattern.fullmatch(value):
            problems[name] = f"malformed: expected {expected}"
        return value

    identifier = "a PostgreSQL identifier (letters, digits, _ or $; 1-63 characters)"
    role_arn = required("DATABASE_ACCOUNT_IAM_ROLE", _ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    endpoints: dict[str, str] = {}  # variable -> endpoint, the well-formed ones
    malformed: dict[str, str] = {}
    for variable in (spec.variable for spec in TARGETS.values()):
        value = environ.get(variable, "").strip()
        if value and not _HOSTNAME.fullmatch(value):
            malformed[variable] = "malformed: expected a DNS host name"
        elif value:
            endpoints[variable] = value
    problems.update(malformed)
    if not isinstance(fresh, bool):
        event_problems["fresh"] = f"{repr(fresh)[:80]} is not true or false"
    known_target = isinstance(target, str) and target in TARGETS
    if not known_target:
        shown = repr(target)[:80]
        event_problems["target"] = f"unknown target {shown}: expected one of " + ", ".join(map(repr, TARGETS))
    if not endpoints and not malformed:
        others = " or ".join(spec.variable for spec in TARGETS.values() if spec.variable != ENDPOINT_VARIABLE)
        problems[ENDPOINT_VARIABLE] = f"missing (set it, {others})"
    elif known_target and TARGETS[target].variable not in endpoints | malformed:
        needed_by = "an event without a target" if target == DEFAULT_TARGET else f"the event's target {target!r}"
        problems[TARGETS[target].variable] = f"missing: {needed_by} needs it"
    user = required("DB_USERNAME", _IDENTIFIER, identifier)
    dbname = required("DBNAME", _IDENTIFIER, identifier)

    region = (environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "").strip()
    if not region:
        problems["AWS_REGION"] = "missing (the Lambda runtime sets it)"
    elif not _REGION.fullmatch(region):
        problems["AWS_REGION"] = "malformed: expected a region name such as eu-west-1"

    port = DEFAULT_PORT
    raw_port = environ.get("DB_PORT", "").strip()
    if raw_port:
        port = int(raw_port) if raw_port.isdigit() else 0
        if not 1 <= port <= 65535:
            problems["DB_PORT"] = "malformed: expected an integer from 1 to 65535"

    ssl_root_cert = Path(environ.get("DB_SSL_ROOT_CERT", "").strip() or DEFAULT_CA_BUNDLE)
    if not ssl_root_cert.is_file() or not os.access(ssl_root_cert, os.R_OK):
        problems["DB_SSL_ROOT_CERT"] = "not a readable file (a PEM bundle of the CAs to trust)"

    if problems or event_problems:
        raise ConfigError(problems, event_problems)
    endpoint = endpoints[TARGETS[target].variable]
    return Config(role_arn, endpoint, port, user, dbname, region, ssl_root_cert, target)


# --- AWS: assumed-role credentials and the IAM token ----------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: float  # seconds since the epoch


_clients: dict[tuple[str, str], tuple[str | None, object]] = {}
_SESSION = None  # the boto3 session the clients come from, made on first use


def _boto3_session():
    """The boto3 session the clients come from: the runtime's settings, except that STS is always regional.

    botocore made the regional STS endpoint its default only in 1.40.0 (2025-07-31: boto/botocore#3517, "Change
    default sts endpoint to regional"; botocore/configprovider.py, ``sts_regional_endpoints`` defaults to
    ``regional`` since). An older SDK in a Lambda runtime, or ``legacy`` set by ``AWS_STS_REGIONAL_ENDPOINTS`` or a
    config file, sends STS calls from the legacy-global regions (eu-west-1 among them) to https://sts.amazonaws.com,
    which a VPC function without a route out cannot reach: it reaches STS only through the VPC's interface endpoint,
    whose private DNS name is sts.<region>.amazonaws.com.

    So the session sets the config variable ``sts_regional_endpoints`` to ``regional`` itself: a session's own value
    wins over the environment and config files. In botocore/args.py, ``_should_set_global_sts_endpoint`` is true only
    for ``legacy`` in a legacy-global region with no endpoint URL; it decides both the client's endpoint and the
    endpoint ruleset's ``AWS::STS::UseGlobalEndpoint``. An endpoint URL that is configured (``AWS_ENDPOINT_URL_STS``,
    ``AWS_ENDPOINT_URL``, ``endpoint_url`` in a config file) still wins: it is passed as the ruleset's ``Endpoint``,
    which botocore/data/sts/2011-06-15/endpoint-rule-set-1.json uses before anything else (its global rule requires
    ``Endpoint`` unset). botocore before 1.40.0 reads the same variable: its ``legacy`` default was this variable's.
    """
    global _SESSION
    if _SESSION is None:
        import boto3
        import botocore.session

        core = botocore.session.get_session()
        core.set_config_variable("sts_regional_endpoints", "regional")
        _SESSION = boto3.Session(botocore_session=core)
    return _SESSION


def _client(service: str, region: str, credentials: Credentials | None = None):
    """A boto3 client, kept while its credentials are the same.

    Endpoints come from the standard settings (``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``); without them STS is
    the regional endpoint, whatever the SDK's default or ``AWS_STS_REGIONAL_ENDPOINTS`` says (``_boto3_session``).
    boto3 is imported on first use (the Lambda runtime provides it), so the module imports with only the layer
    present.
    """
    access_key_id = credentials.access_key_id if credentials else None
    cached = _clients.get((service, region))
    if cached and cached[0] == access_key_id:
        return cached[1]
    session = _boto3_session()  # imports boto3 first: without an SDK, the error names boto3
    from botocore.config import Config as BotoConfig

    keys = {}
    if credentials:
        keys = {
            "aws_access_key_id": credentials.access_key_id,
            "aws_secret_access_key": credentials.secret_access_key,
            "aws_session_token": credentials.session_token,
        }
    config = BotoConfig(connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
    client = session.client(service, region_name=region, config=config, **keys)
    _clients[(service, region)] = (access_key_id, client)
    return client


def assume_role(config: Config) -> Credentials:
    """Credentials of the database account's connect role (``sts:AssumeRole`` with the function's own role)."""
    response = _client("sts", config.region).assume_role(RoleArn=config.role_arn, RoleSessionName=SESSION_NAME)
    issued = response["Credentials"]
    return Credentials(
        access_key_id=issued["AccessKeyId"],
        secret_access_key=issued["SecretAccessKey"],
        session_token=issued["SessionToken"],
        expiration=issued["Expiration"].timestamp(),
    )


def sign_token(config: Config, credentials: Credentials) -> str:
    """An RDS IAM authentication token (a presigned ``connect`` request, valid 15 minutes; no API call)."""
    return _client("rds", config.region, credentials).generate_db_auth_token(
        DBHostname=config.endpoint, Port=config.port, DBUsername=config.user, Region=config.region
    )


# --- diagnosis ------------------------------------------------------------------------------------------------------


class Failure(Exception):
    """A broken link: the stage, a short message and the likely causes."""

    def __init__(self, stage: str, error: str, likely_causes: list[str]) -> None:
        super().__init__(f"{stage}: {error}")
        self.stage = stage
        self.error = error
        self.likely_causes = likely_causes


def _short(error: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """One line of an exception's text, with any secret replaced (real ones are long; a few letters are not)."""
    text = " ".join(str(error).split()) or type(error).__name__
    for secret in secrets:
        if len(secret) >= 8:
            text = text.replace(secret, "***")
    return text[:500]


def _sts_failure(error: Exception, config: Config) -> Failure:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    causes = [
        f"the function's role may not call sts:AssumeRole on {config.role_arn}",
        "the connect role's trust policy does not trust the function's role (check its aws:PrincipalArn condition)",
        "the role does not exist in the database account",
    ]
    if code is None:
        causes = [
            "no route to STS: the interface VPC endpoint for STS is missing, has private DNS off, "
            "or its security group does not allow tcp/443 from the function",
            "the function has no credentials (its execution role)",
        ]
    message = f"{code}: {_short(error)}" if code else _short(error)
    return Failure("sts", message, causes)


def _connect_failure(error: psycopg2.Error, config: Config, secrets: tuple[str, ...]) -> Failure:
    """Tell TLS from authentication from the rest by libpq's message (connection errors carry no SQLSTATE)."""
    message = _short(error, secrets)
    text = message.lower()
    user, endpoint = config.user, config.endpoint
    if "does not exist" in text and "database" in text:
        return Failure("auth", message, [f"DBNAME {config.dbname!r} is not a database on the target cluster"])
    if "has no credentials" in text:
        return Failure("auth", message, [f"the proxy has no secret or IAM authentication entry for user {user!r}"])
    if "authentication failed" in text or "pg_hba.conf" in text or ("role" in text and "does not exist" in text):
        return Failure(
            "auth",
            message,
            [
                "the connect role lacks rds-db:connect on "
                f"arn:aws:rds-db:{config.region}:{config.database_account_id}:dbuser:<proxy-resource-id>/{user}",
                f"wrong user: DB_USERNAME {user!r} is not a user the proxy accepts",
                f"the token was signed for another host, port or region than {endpoint}:{config.port} in "
                f"{config.region} ({config.endpoint_variable} must be the proxy endpoint's own DNS name)",
                "the token expired (valid 15 minutes) or the function's clock is off",
            ],
        )
    if "does not match host name" in text:  # only with verify-full: verify-ca does not check the name
        causes = [
            f"{config.endpoint_variable} {endpoint!r} is not a name in the server's certificate: use the proxy "
            "endpoint's DNS name, not an IP address or a CNAME of your own",
            "only a proxy's default endpoint (<proxy>.proxy-<id>.<region>.rds.amazonaws.com) can be verified by "
            "name (verify-full); a proxy endpoint you create (<name>.endpoint.proxy-<id>...) is not in the "
            "certificate and is checked with verify-ca",
        ]
        return Failure("tls", message, causes)
    if "does not support ssl" in text:
        return Failure("tls", message, ["the server refused TLS: the endpoint is not an RDS Proxy requiring TLS"])
    if "ssl" in text or "certificate" in text or "tls" in text:
        return Failure(
            "tls",
            message,
            [
                f"the server's certificate does not chain to a CA in {config.ssl_root_cert} "
                f"(sslmode {config.sslmode} checks the CA)",
                f"{config.endpoint_variable} is not a proxy endpoint (a cluster endpoint presents an RDS CA "
                "certificate, not an ACM one)",
            ],
        )
    if "timeout expired" in text or "connection refused" in text or "could not connect" in text:
        return Failure("tcp", message, [f"{endpoint}:{config.port} stopped answering during the connection"])
    return Failure("connect", message, ["the connection failed after TCP for a reason not classified here"])


# --- the test -------------------------------------------------------------------------------------------------------


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round((time.perf_counter() - started) * 1000, 3)


class ConnectionTester:
    """Runs the test and keeps what warm invocations reuse: credentials and one connection per endpoint.

    ``assume_role`` and ``sign_token`` can be replaced (tests stand a password in for the token); with
    ``reuse=False`` every invocation assumes the role, signs a token, connects and closes again.
    """

    def __init__(
        self,
        assume_role: Callable[[Config], Credentials] = assume_role,
        sign_token: Callable[[Config, Credentials], str] = sign_token,
        *,
        reuse: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._assume_role = assume_role
        self._sign_token = sign_token
        self._reuse = reuse
        self._clock = clock
        self._credentials: tuple[str, Credentials] | None = None
        self._connections: dict[str, tuple[Config, psycopg2.extensions.connection]] = {}  # by endpoint

    def invoke(self, environ: Mapping[str, str], event: object = None) -> dict:
        """Test the endpoint of the event's target (see ``event_target``) and answer as the handler does."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        target = event_target(event)
        fresh = event_fresh(event)
        try:
            config = load_config(environ, target, fresh)
        except ConfigError as error:
            return _config_failure(error, target)
        if fresh:  # nothing from an earlier invocation: the test proves the path as it is now
            self._close(config.endpoint)
            self._credentials = None
        where = {
            "target": config.target,
            "endpoint": config.endpoint,
            "port": config.port,
            "user": config.user,
            "database": config.dbname,
            "sslmode": config.sslmode,
        }
        expected = {"expected_role": config.expected_role} if config.expected_role else {}
        try:
            result = self._test(config, timings)
        except Failure as failure:
            timings["total"] = round((time.perf_counter() - started) * 1000, 3)
            body = {"ok": False, "stage": failure.stage, "error": failure.error, "likely_causes": failure.likely_causes}
            body.update(where, **expected, timings_ms=timings)
            LOGGER.error("connection test failed: %s", json.dumps(body))
            return _response(502, body)
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        in_recovery, server_version, backend_pid, current_user, reused = result
        role = "reader" if in_recovery else "writer"
        body = {"ok": True, "message": SUCCESS_MESSAGE, **where, "role": role, **expected}
        if expected:
            body["role_matches"] = role == config.expected_role
        body.update(
            server_version=server_version,
            backend_pid=backend_pid,
            current_user=current_user,  # who the database says the session is
            connection_reused=reused,
            timings_ms=timings,
        )
        LOGGER.info("connection test passed: %s", json.dumps(body))
        return _response(200, body)

    def close(self) -> None:
        """Close every kept connection."""
        for endpoint in list(self._connections):
            self._close(endpoint)

    def _close(self, endpoint: str) -> None:
        kept = self._connections.pop(endpoint, None)
        if kept is not None:
            kept[1].close()

    def _test(self, config: Config, timings: dict[str, float]) -> tuple:
        connection = self._kept_connection(config)
        if connection is not None:
            try:
                return (*self._query(connection, timings), True)
            except psycopg2.Error as error:
                if not connection.closed:
                    raise Failure("query", _short(error), _query_causes(error)) from None
                self._close(config.endpoint)  # dropped since the last invocation (idle timeout, failover): reconnect
                timings["dropped_connection"] = timings.pop("query")
        connection = self._connect(config, timings)
        try:
            row = self._query(connection, timings)
        except psycopg2.Error as error:
            if connection.closed:
                self._close(config.endpoint)
            raise Failure("query", _short(error), _query_causes(error)) from None
        finally:
            if not self._reuse:
                self._close(config.endpoint)
        return (*row, False)

    def _kept_connection(self, config: Config) -> psycopg2.extensions.connection | None:
        """The open connection to this configuration's endpoint, if any, checked without a round trip.

        A connection kept for the same endpoint with other settings (port, user, database, CA bundle) is closed.
        """
        kept = self._connections.get(config.endpoint)
        if kept is None:
            return None
        kept_config, connection = kept
        idle = connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        if kept_config == config and not connection.closed and idle:
            return connection
        self._close(config.endpoint)
        return None

    def credentials(self, config: Config, timings: dict[str, float] | None = None) -> Credentials:
        """The connect role's credentials: kept until ``CREDENTIALS_REFRESH_MARGIN`` before they expire."""
        cached = self._credentials
        fresh = cached and cached[1].expiration - self._clock() > CREDENTIALS_REFRESH_MARGIN
        if self._reuse and fresh and cached[0] == config.role_arn:
            return cached[1]
        with _timed({} if timings is None else timings, "sts"):
            try:
                credentials = self._assume_role(config)
            except Exception as error:
                raise _sts_failure(error, config) from None
        self._credentials = (config.role_arn, credentials)
        return credentials

    def _connect(self, config: Config, timings: dict[str, float]) -> psycopg2.extensions.connection:
        credentials = self.credentials(config, timings)
        with _timed(timings, "dns"):
            try:
                socket.getaddrinfo(config.endpoint, config.port, type=socket.SOCK_STREAM)
            except OSError as error:
                raise Failure(
                    "dns",
                    f"{config.endpoint}: {_short(error)}",
                    [
                        f"{config.endpoint_variable} is misspelled or the proxy endpoint was deleted",
                        "the function is not in the VPC the endpoint belongs to, or the VPC's DNS support is off",
                    ],
                ) from None
        with _timed(timings, "tcp"):
            try:
                socket.create_connection((config.endpoint, config.port), timeout=TCP_TIMEOUT).close()
            except OSError as error:
                raise Failure(
                    "tcp",
                    f"{config.endpoint}:{config.port}: {_short(error)}",
                    [
                        f"a security group blocks tcp/{config.port}: the proxy endpoint's ingress or the "
                        "function's egress",
                        "the proxy endpoint is not available yet, or DB_PORT is wrong",
                    ],
                ) from None
        with _timed(timings, "token"):
            try:
                token = self._sign_token(config, credentials)
            except Exception as error:
                raise Failure("auth", f"signing the token failed: {_short(error)}", ["no usable credentials"]) from None
        secrets = (token, credentials.secret_access_key, credentials.session_token)
        with _timed(timings, "connect"):
            try:
                connection = psycopg2.connect(
                    host=config.endpoint,
                    port=config.port,
                    user=config.user,
                    password=token,
                    dbname=config.dbname,
                    sslmode=config.sslmode,  # verify-full, or verify-ca for a proxy endpoint you create
                    sslrootcert=str(config.ssl_root_cert),
                    connect_timeout=CONNECT_TIMEOUT,
                    application_name=APPLICATION_NAME,
                )
            except psycopg2.Error as error:
                raise _connect_failure(error, config, secrets) from None
        connection.autocommit = True  # no transaction stays open between invocations
        self._connections[config.endpoint] = (config, connection)
        return connection

    @staticmethod
    def _query(connection: psycopg2.extensions.connection, timings: dict[str, float]) -> tuple:
        with _timed(timings, "query"), connection.cursor() as cursor:
            cursor.execute(TEST_QUERY)
            return cursor.fetchone()


def _query_causes(error: psycopg2.Error) -> list[str]:
    if getattr(error, "pgcode", None) == "42501":
        return ["the database user lacks a privilege the test query needs"]
    return ["the connection dropped during the query (failover or proxy timeout)", "the server rejected the query"]


def _config_failure(error: ConfigError, target: object) -> dict:
    """Status 400 when only the event is bad, else 500 (the function's environment)."""
    body: dict = {"ok": False, "stage": "config", "error": str(error)}
    if isinstance(target, str) and target in TARGETS:
        body["target"] = target
    causes = []
    if error.event_problems:
        body["event"] = error.event_problems
        if "target" in error.event_problems:
            causes.append("the event's target is not one of " + ", ".join(TARGETS))
        if "fresh" in error.event_problems:
            causes.append("the event's fresh is not true or false")
    body["variables"] = error.problems
    if error.problems:
        causes.append("the function's environment variables are missing or wrong")
    if body.get("target") and TARGETS[target].variable in error.problems:
        causes.append(f"the function is not configured for the target {target!r}: set {TARGETS[target].variable}")
    body["likely_causes"] = causes
    LOGGER.error("connection test failed: %s", json.dumps(body))
    return _response(500 if error.problems else 400, body)


def _response(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


_TESTER = ConnectionTester()


def handler(event, context) -> dict:
    """Lambda entry point (``connection_test.handler``); the event may name the target (``{"target": "read_only"}``)."""
    return _TESTER.invoke(os.environ, event)
