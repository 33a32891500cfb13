"""RDS Proxy's data plane: endpoint listeners that speak PostgreSQL's protocol as RDS Proxy does.

The proxies, secrets and clusters are built in this process with moto and the emulator's additions
(``ext.install()`` then ``moto.mock_aws()``); the databases are a real PostgreSQL writer and hot standby
(``tests/lambda/support.PostgresServer``) that ``postgres.backend_for`` is pointed at. IAM tokens are checked by a
stand-in for ``iam_auth`` that accepts tokens of the form ``token:<host>:<port>:<user>:<region>:<who>``.
"""

from __future__ import annotations

import importlib
import json
import logging
import select
import socket
import ssl
import struct
import subprocess
import sys
import time
import types
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import boto3
import moto
import psycopg2
import psycopg2.errors
import pytest

from emulator import ext
from emulator.dataplane import iam_auth, postgres, proxy
from emulator.dataplane.ca import authority

support = importlib.import_module("tests.lambda.support")  # "lambda" is a keyword: no from-import
PostgresServer = support.PostgresServer
READER_HOST, TEST_DATABASE, TEST_PASSWORD, TEST_USER = (
    support.READER_HOST, support.TEST_DATABASE, support.TEST_PASSWORD, support.TEST_USER
)  # fmt: skip

REGION = "eu-west-1"
LOGGER_NAME = "emulator.dataplane.proxy"
WRONG = "not-the-database-password"


# -- postgres.backend_for and iam_auth's checks, pointed at the local servers and at tokens that say who signed them
@dataclass
class Databases:
    """``postgres.backend_for``: the local primary as every writer, the local standby as every reader."""

    server: PostgresServer
    unavailable: set[str] = field(default_factory=set)
    failures_left: int = 0  # the next calls that find no instance, whatever the role
    calls: list[tuple[str, str, str, str]] = field(default_factory=list)

    def __call__(self, account_id: str, region: str, cluster_identifier: str, role: str) -> postgres.Backend:
        self.calls.append((account_id, region, cluster_identifier, role))
        if role in self.unavailable or self.failures_left > 0:
            self.failures_left = max(self.failures_left - 1, 0)
            raise postgres.NoInstanceAvailable(role, f"no available {role} instance")
        host = "127.0.0.1" if role == "writer" else READER_HOST
        sockets = self.server.root / ("sock" if role == "writer" else "sock-standby")
        return postgres.Backend(host, self.server.primary_port, f"{cluster_identifier}-{role}", role, str(sockets))


@dataclass
class Iam:
    """``iam_auth.verify_token`` and ``is_allowed`` for tokens ``token:<host>:<port>:<user>:<region>:<role>``: a
    token is valid for what it names, and only the role ``allowed`` may connect."""

    checked: list[tuple[str, str]] = field(default_factory=list)

    def verify_token(self, token: str, *, host: str, port: int, user: str, region: str, now=None):
        parts = token.split(":")
        if len(parts) != 6 or parts[0] != "token":
            raise iam_auth.TokenRefused("not an IAM authentication token")
        if parts[1:5] != [host, str(port), user, region]:
            raise iam_auth.TokenRefused(f"the signature does not match (signed for {':'.join(parts[1:5])})")
        role = f"arn:aws:iam::111111111111:role/{parts[5]}"
        return iam_auth.Principal("111111111111", f"arn:aws:sts::111111111111:assumed-role/{parts[5]}/s", role)

    def is_allowed(self, principal, action: str, resource: str, context=None) -> bool:
        self.checked.append((action, resource))
        return principal.role_arn.endswith(":role/allowed")


def token(dns_name: str, user: str = TEST_USER, who: str = "allowed") -> str:
    return f"token:{dns_name}:5432:{user}:{REGION}:{who}"


def _cluster(rds, name: str, instances: int, **extra) -> dict:
    """An Aurora PostgreSQL cluster of the test user with ``instances`` instances (``<name>-0`` the writer)."""
    cluster = rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername=TEST_USER,
        MasterUserPassword=TEST_PASSWORD,
        DatabaseName=TEST_DATABASE,
        **extra,
    )["DBCluster"]
    for i in range(instances):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{name}-{i}",
            DBClusterIdentifier=name,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    return cluster


@pytest.fixture(scope="module")
def server():
    with PostgresServer() as pg:
        yield pg


@pytest.fixture(scope="module")
def fakes(server):
    databases, iam = Databases(server), Iam()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(postgres, "backend_for", databases)
        mp.setattr(postgres, "server_ca_file", lambda: server.ca_file)
        mp.setattr(iam_auth, "verify_token", iam.verify_token)
        mp.setattr(iam_auth, "is_allowed", iam.is_allowed)
        yield types.SimpleNamespace(databases=databases, iam=iam)


# -- the AWS side: built in this process ------------------------------------------------------------------------------
@dataclass
class World:
    session: boto3.Session
    account_id: str
    rds: Any
    secrets: Any
    secret_arn: str
    proxies: dict[str, dict]  # name -> DBProxy
    endpoints: dict[str, str]  # endpoint name -> DNS name
    listeners: dict[tuple[str, str | None], proxy.Listener] = field(default_factory=dict)

    def listener(self, proxy_name: str, endpoint_name: str | None = None) -> proxy.Listener:
        key = (proxy_name, endpoint_name)
        if key not in self.listeners:
            self.listeners[key] = serve(self.account_id, proxy_name, endpoint_name)
        return self.listeners[key]

    def dns(self, proxy_name: str, endpoint_name: str | None = None) -> str:
        return self.endpoints[endpoint_name] if endpoint_name else self.proxies[proxy_name]["Endpoint"]

    def connect(self, proxy_name: str, endpoint_name: str | None = None, **options):
        """psycopg2 to an endpoint by its DNS name (verify-full unless told), the name resolved to the listener."""
        host, port = self.listener(proxy_name, endpoint_name).address
        options = {
            "user": TEST_USER,
            "dbname": TEST_DATABASE,
            "sslmode": "verify-full",
            "sslrootcert": str(authority().ca_file),
            "connect_timeout": 10,
            "gssencmode": "disable",
            **options,
        }
        return psycopg2.connect(host=self.dns(proxy_name, endpoint_name), hostaddr=host, port=port, **options)


def serve(account_id: str, proxy_name: str, endpoint_name: str | None = None) -> proxy.Listener:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return proxy.serve(sock, proxy.EndpointTarget(account_id, REGION, proxy_name, endpoint_name))


PROXY_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def proxy_subnets(ec2) -> list[str]:
    """Two subnets, in two availability zones, of a new VPC: what a proxy needs."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/24")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.0.{i * 32}/27", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]


@pytest.fixture(scope="module")
def world(fakes):
    """Two clusters (``aurora``: a writer and a reader; ``solo``: a writer only), the master secret and proxies:

    - ``iam-proxy``: IAM authentication required, TLS required; endpoints ``iam-reader`` (READ_ONLY) and
      ``iam-writer`` (READ_WRITE);
    - ``pw-proxy``: password authentication (SCRAM-SHA-256), TLS optional;
    - ``idle-proxy``: as ``pw-proxy`` with IdleClientTimeout 1 second;
    - ``solo-proxy``: IAM required, TLS optional, in front of ``solo``; endpoint ``solo-reader`` (READ_ONLY).
    """
    ext.install()
    with moto.mock_aws():
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        account_id = session.client("sts").get_caller_identity()["Account"]
        ec2, rds, sm, iam = (session.client(name) for name in ("ec2", "rds", "secretsmanager", "iam"))
        subnets = proxy_subnets(ec2)
        secret_arn = sm.create_secret(
            Name="master", SecretString=json.dumps({"username": TEST_USER, "password": TEST_PASSWORD})
        )["ARN"]
        role_arn = iam.create_role(RoleName="proxy-role", AssumeRolePolicyDocument=json.dumps(PROXY_TRUST))["Role"][
            "Arn"
        ]
        read_secret = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn}
        iam.put_role_policy(
            RoleName="proxy-role",
            PolicyName="read-secret",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read_secret]}),
        )
        for cluster, instances in (("aurora", 2), ("solo", 1)):
            _cluster(rds, cluster, instances)
        iam_auth = {"AuthScheme": "SECRETS", "SecretArn": secret_arn, "IAMAuth": "REQUIRED"}
        password_auth = {"AuthScheme": "SECRETS", "SecretArn": secret_arn, "IAMAuth": "DISABLED"}
        proxies = {}
        for name, cluster, auth, options in (
            ("iam-proxy", "aurora", iam_auth, {"RequireTLS": True}),
            ("pw-proxy", "aurora", password_auth, {}),
            ("idle-proxy", "aurora", password_auth, {"IdleClientTimeout": 1}),
            ("solo-proxy", "solo", iam_auth, {}),
        ):
            proxies[name] = rds.create_db_proxy(
                DBProxyName=name,
                EngineFamily="POSTGRESQL",
                RoleArn=role_arn,
                VpcSubnetIds=subnets,
                Auth=[auth],
                **options,
            )["DBProxy"]
            rds.register_db_proxy_targets(DBProxyName=name, DBClusterIdentifiers=[cluster])
        endpoints = {}
        for proxy_name, endpoint_name, role in (
            ("iam-proxy", "iam-reader", "READ_ONLY"),
            ("iam-proxy", "iam-writer", "READ_WRITE"),
            ("solo-proxy", "solo-reader", "READ_ONLY"),
        ):
            endpoints[endpoint_name] = rds.create_db_proxy_endpoint(
                DBProxyName=proxy_name, DBProxyEndpointName=endpoint_name, VpcSubnetIds=subnets, TargetRole=role
            )["DBProxyEndpoint"]["Endpoint"]
        world = World(session, account_id, rds, sm, secret_arn, proxies, endpoints)
        try:
            yield world
        finally:
            for listener in world.listeners.values():
                listener.close()


def node(conn) -> tuple[bool, str]:
    """(pg_is_in_recovery(), current_user) of the server behind a connection."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery(), current_user")
        return cur.fetchone()


def refusal(excinfo) -> str:
    return str(excinfo.value)


# -- TLS ----------------------------------------------------------------------------------------------------------
def test_certificate_names_are_the_default_endpoints_wildcard(world):
    names = proxy.certificate_names(world.account_id, REGION, "iam-proxy")
    assert names == ("*." + world.dns("iam-proxy").split(".", 1)[1],)
    assert names[0].startswith("*.proxy-") and names[0].endswith(f".{REGION}.rds.amazonaws.com")


def test_verify_full_holds_on_the_default_endpoint_only_and_verify_ca_on_every_endpoint(world):
    iam_token = token(world.dns("iam-proxy"))
    with closing(world.connect("iam-proxy", password=iam_token)) as conn:
        assert node(conn) == (False, TEST_USER)  # the default endpoint reaches the writer
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("iam-proxy", "iam-writer", password=token(world.dns("iam-proxy", "iam-writer")))
    assert "does not match host name" in refusal(excinfo)
    for endpoint in (None, "iam-writer"):
        password = token(world.dns("iam-proxy", endpoint))
        with closing(world.connect("iam-proxy", endpoint, sslmode="verify-ca", password=password)) as conn:
            assert node(conn) == (False, TEST_USER)


def test_require_tls_refuses_a_client_without_tls(world):
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("iam-proxy", sslmode="disable", password=token(world.dns("iam-proxy")))
    assert "FATAL:  This RDS Proxy requires TLS connections" in refusal(excinfo)


def test_iam_authentication_needs_tls_even_when_the_proxy_does_not_require_it(world):
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("solo-proxy", sslmode="disable", password=token(world.dns("solo-proxy")))
    assert proxy.IAM_NEEDS_TLS in refusal(excinfo)


def test_gssapi_encryption_is_declined_and_tls_then_negotiated(world):
    address = world.listener("pw-proxy").address
    with socket.create_connection(address, timeout=10) as raw:
        raw.sendall(struct.pack("!ii", 8, proxy.GSSENC_REQUEST))
        assert raw.recv(1) == b"N"
        raw.sendall(struct.pack("!ii", 8, proxy.SSL_REQUEST))
        assert raw.recv(1) == b"S"
        context = ssl.create_default_context(cafile=str(authority().ca_file))
        with context.wrap_socket(raw, server_hostname=world.dns("pw-proxy")) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


# -- client authentication ------------------------------------------------------------------------------------------
def test_a_password_is_refused_where_iam_authentication_is_required(world, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("iam-proxy", password=TEST_PASSWORD)
    assert proxy.IAM_FAILED.format(user=TEST_USER) in refusal(excinfo)
    assert "not an IAM authentication token" in caplog.text  # the reason is logged, not sent
    assert "not an IAM authentication token" not in refusal(excinfo)
    assert TEST_PASSWORD not in caplog.text


def test_a_token_signed_for_another_endpoint_is_refused(world, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    other = token(world.dns("iam-proxy", "iam-writer"))  # signed for another host name
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("iam-proxy", password=other)
    assert f"FATAL:  IAM authentication failed for user {TEST_USER}. Check the IAM token" in refusal(excinfo)
    assert "the signature does not match" in caplog.text
    assert other not in caplog.text


def test_rds_db_connect_is_checked_on_the_proxys_resource_id(world, fakes, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    resource_id = world.proxies["iam-proxy"]["DBProxyArn"].rsplit(":", 1)[1]
    assert resource_id.startswith("prx-")
    expected = ("rds-db:connect", f"arn:aws:rds-db:{REGION}:{world.account_id}:dbuser:{resource_id}/{TEST_USER}")
    fakes.iam.checked.clear()
    with closing(world.connect("iam-proxy", password=token(world.dns("iam-proxy")))):
        pass
    assert fakes.iam.checked == [expected]
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("iam-proxy", password=token(world.dns("iam-proxy"), who="denied"))
    assert proxy.IAM_FAILED.format(user=TEST_USER) in refusal(excinfo)
    assert fakes.iam.checked == [expected, expected]
    assert f"is not allowed rds-db:connect on {expected[1]}" in caplog.text


# The functions of iam_auth, before this module's stand-ins replace them.
REAL_VERIFY_TOKEN, REAL_IS_ALLOWED = iam_auth.verify_token, iam_auth.is_allowed


def test_real_iam_tokens_are_checked_with_the_signers_policies(world, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    monkeypatch.setattr(iam_auth, "verify_token", REAL_VERIFY_TOKEN)
    monkeypatch.setattr(iam_auth, "is_allowed", REAL_IS_ALLOWED)
    iam = world.session.client("iam")
    resource_id = world.proxies["iam-proxy"]["DBProxyArn"].rsplit(":", 1)[1]
    connect = {
        "Effect": "Allow",
        "Action": "rds-db:connect",
        "Resource": f"arn:aws:rds-db:{REGION}:{world.account_id}:dbuser:{resource_id}/{TEST_USER}",
    }
    keys = {}
    for user, statements in (("app", [connect]), ("stranger", [])):
        iam.create_user(UserName=user)
        if statements:
            document = json.dumps({"Version": "2012-10-17", "Statement": statements})
            iam.put_user_policy(UserName=user, PolicyName="connect", PolicyDocument=document)
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]

    def signed_by(user: str) -> str:
        key = keys[user]
        rds = boto3.client(
            "rds", REGION, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        )
        return rds.generate_db_auth_token(world.dns("iam-proxy"), 5432, TEST_USER, REGION)

    with closing(world.connect("iam-proxy", password=signed_by("app"))) as conn:
        assert node(conn) == (False, TEST_USER)
    stranger = signed_by("stranger")
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("iam-proxy", password=stranger)
    assert proxy.IAM_FAILED.format(user=TEST_USER) in refusal(excinfo)
    assert f"user/stranger is not allowed rds-db:connect on {connect['Resource']}" in caplog.text
    assert stranger not in caplog.text and keys["stranger"]["SecretAccessKey"] not in caplog.text


def test_a_user_without_a_secret_has_no_credentials(world):
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("iam-proxy", user="someone_else", password=token(world.dns("iam-proxy"), user="someone_else"))
    assert proxy.NO_CREDENTIALS.format(user="someone_else") in refusal(excinfo)


def test_password_authentication_checks_the_secrets_password_with_scram(world):
    with closing(world.connect("pw-proxy", sslmode="disable", password=TEST_PASSWORD)) as conn:
        assert node(conn) == (False, TEST_USER)
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("pw-proxy", password=WRONG)
    assert proxy.WRONG_PASSWORD.format(user=TEST_USER) in refusal(excinfo)


def test_startup_parameters_rds_proxy_does_not_support_are_refused(world):
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("pw-proxy", password=TEST_PASSWORD, options="-c search_path=public")
    assert proxy.OPTION.format(option="options") in refusal(excinfo)
    answer = raw_startup(world, "pw-proxy", struct.pack("!i", proxy.PROTOCOL_3_0) + b"database\0x\0\0")
    assert proxy.NO_USER in answer
    assert proxy.PROTOCOL_VERSION in raw_startup(world, "pw-proxy", struct.pack("!i", 2 << 16) + b"user\0x\0\0")


def raw_startup(world: World, proxy_name: str, body: bytes) -> str:
    """Send a startup packet without TLS and return the text of the answer."""
    with socket.create_connection(world.listener(proxy_name).address, timeout=10) as raw:
        raw.sendall(struct.pack("!i", len(body) + 4) + body)
        data = b""
        while chunk := raw.recv(4096):
            data += chunk
    return data.decode(errors="replace")


# -- the database ---------------------------------------------------------------------------------------------------
def test_read_only_endpoints_reach_a_reader_and_read_write_ones_the_writer(world, fakes):
    fakes.databases.calls.clear()
    for endpoint, in_recovery in (("iam-reader", True), ("iam-writer", False)):
        password = token(world.dns("iam-proxy", endpoint))
        with closing(world.connect("iam-proxy", endpoint, sslmode="verify-ca", password=password)) as conn:
            assert node(conn) == (in_recovery, TEST_USER)
    assert [call[2:] for call in fakes.databases.calls] == [("aurora", "reader"), ("aurora", "writer")]
    assert {call[:2] for call in fakes.databases.calls} == {(world.account_id, REGION)}


def test_a_read_only_endpoint_of_a_cluster_without_readers_fails_at_once(world, fakes):
    fakes.databases.calls.clear()
    password = token(world.dns("solo-proxy", "solo-reader"))
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("solo-proxy", "solo-reader", sslmode="verify-ca", password=password)
    assert proxy.NO_READERS.format(cluster="solo") in refusal(excinfo)
    assert fakes.databases.calls == []


def test_a_connection_waits_for_an_instance_up_to_the_borrow_timeout(world, fakes):
    rds = world.rds
    fakes.databases.failures_left = 2  # the writer is found on the third look
    with closing(world.connect("pw-proxy", password=TEST_PASSWORD)) as conn:
        assert node(conn) == (False, TEST_USER)
    assert fakes.databases.failures_left == 0
    rds.modify_db_proxy_target_group(
        DBProxyName="pw-proxy", TargetGroupName="default", ConnectionPoolConfig={"ConnectionBorrowTimeout": 0}
    )
    fakes.databases.unavailable.add("writer")
    try:
        with pytest.raises(psycopg2.OperationalError) as excinfo:
            world.connect("pw-proxy", password=TEST_PASSWORD)
        assert proxy.TIMED_OUT in refusal(excinfo)
    finally:
        fakes.databases.unavailable.clear()
        rds.modify_db_proxy_target_group(
            DBProxyName="pw-proxy", TargetGroupName="default", ConnectionPoolConfig={"ConnectionBorrowTimeout": 120}
        )


def test_the_secret_is_read_at_each_connection(world, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    secret = {"username": TEST_USER, "password": WRONG}
    world.secrets.put_secret_value(SecretId=world.secret_arn, SecretString=json.dumps(secret))
    try:
        with pytest.raises(psycopg2.OperationalError) as excinfo:
            world.connect("iam-proxy", password=token(world.dns("iam-proxy")))
        expected = f'FATAL:  Request returned an error: password authentication failed for user "{TEST_USER}"'
        assert expected in refusal(excinfo)
        assert "refused the proxy's login" in caplog.text
        assert WRONG not in caplog.text
    finally:
        secret["password"] = TEST_PASSWORD
        world.secrets.put_secret_value(SecretId=world.secret_arn, SecretString=json.dumps(secret))
    with closing(world.connect("iam-proxy", password=token(world.dns("iam-proxy")))) as conn:
        assert node(conn) == (False, TEST_USER)


def test_a_database_error_of_the_login_is_passed_on(world):
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("pw-proxy", password=TEST_PASSWORD, dbname="missing_db")
    assert 'Request returned an error: database "missing_db" does not exist' in refusal(excinfo)


# -- the relay ------------------------------------------------------------------------------------------------------
def test_queries_parameters_and_application_name_go_through(world, server):
    with closing(world.connect("pw-proxy", password=TEST_PASSWORD, application_name="relay-test")) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('application_name'), current_database()")
            assert cur.fetchone() == ("relay-test", TEST_DATABASE)
            cur.execute("CREATE TEMP TABLE t AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 5000) g")
            cur.execute("SELECT count(*), sum(length(pad)) FROM t")
            assert cur.fetchone() == (5000, 5_000_000)
            cur.execute("SELECT string_agg(pad, '') FROM t")  # 5 MB towards the client
            assert len(cur.fetchone()[0]) == 5_000_000
        assert conn.get_parameter_status("server_version")


CANCELLING_CLIENT = """
import json, sys, threading
import psycopg2
conn = psycopg2.connect(**json.loads(sys.argv[1]))
outcome = []
def sleep():
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(60)")
        outcome.append("finished")
    except psycopg2.Error as error:
        outcome.append(type(error).__name__)
worker = threading.Thread(target=sleep)
worker.start()
sys.stdin.readline()  # the query runs
conn.cancel()
worker.join(30)
print(outcome[0] if outcome else "still running", flush=True)
"""


def test_a_cancel_request_reaches_the_database(world, server):
    # The client runs in another process: psycopg2's cancel() keeps this process's GIL while it waits for the
    # listener, which runs in this process.
    host, port = world.listener("pw-proxy").address
    options = {
        "host": world.dns("pw-proxy"), "hostaddr": host, "port": port, "user": TEST_USER, "password": TEST_PASSWORD,
        "dbname": TEST_DATABASE, "sslmode": "verify-full", "sslrootcert": str(authority().ca_file),
        "application_name": "cancel-me", "connect_timeout": 10,
    }  # fmt: skip
    command = [sys.executable, "-c", CANCELLING_CLIENT, json.dumps(options)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as client:
        try:
            with closing(server.superuser()) as su, su.cursor() as cur:
                query = (
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cancel-me' AND state = 'active'"
                )
                for _ in range(400):  # until the query runs on the server
                    cur.execute(query)
                    if cur.fetchone()[0]:
                        break
                    time.sleep(0.05)
                else:
                    pytest.fail("the query did not start")
            output, _ = client.communicate("\n", timeout=60)
        finally:
            client.kill()
    assert output.strip() == "QueryCanceled"


def test_an_idle_client_connection_is_closed_after_the_idle_client_timeout(world):
    conn = world.connect("idle-proxy", password=TEST_PASSWORD)
    try:
        assert node(conn) == (False, TEST_USER)
        readable, _, _ = select.select([conn.fileno()], [], [], 30)  # the proxy closes the idle connection
        assert readable
        with pytest.raises(psycopg2.Error), conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()


def test_closing_a_listener_closes_its_connections_and_stops_accepting(world):
    listener = serve(world.account_id, "pw-proxy")
    host, port = listener.address
    options = {"host": world.dns("pw-proxy"), "hostaddr": host, "port": port, "user": TEST_USER}
    conn = psycopg2.connect(
        **options, password=TEST_PASSWORD, dbname=TEST_DATABASE, sslmode="verify-full",
        sslrootcert=str(authority().ca_file), connect_timeout=10,
    )  # fmt: skip
    try:
        assert node(conn) == (False, TEST_USER)
        listener.close()
        readable, _, _ = select.select([conn.fileno()], [], [], 30)
        assert readable
        with pytest.raises(psycopg2.Error), conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(**options, password=TEST_PASSWORD, sslmode="disable", connect_timeout=10)


# -- end-to-end IAM authentication (DefaultAuthScheme IAM_AUTH) --------------------------------------------------------
IAM_USER, OTHER_MEMBER, NOT_MEMBER = "iam_user", "other_member", "not_member"


@dataclass
class EndToEnd:
    """The proxies of ``e2e`` and what their role may do."""

    role_name: str
    secret_statement: dict
    resource: dict[str, str]  # user -> the dbuser ARN on the cluster ``iam-aurora``

    def allow(self, world: World, *resources: str) -> None:
        """Let the proxies' role read the master secret and rds-db:connect on ``resources`` (nothing else)."""
        connect = {"Effect": "Allow", "Action": "rds-db:connect", "Resource": list(resources)}
        document = {"Version": "2012-10-17", "Statement": [self.secret_statement, connect]}
        world.session.client("iam").put_role_policy(
            RoleName=self.role_name, PolicyName="proxy", PolicyDocument=json.dumps(document)
        )


@pytest.fixture(scope="module")
def e2e(world, server):
    """In ``world``: the clusters ``iam-aurora`` (IAM database authentication enabled) and ``no-iam`` (not), the
    proxies ``e2e-proxy`` (DefaultAuthScheme IAM_AUTH, no Auth, TLS required, in front of ``iam-aurora``),
    ``e2e-no-iam`` (the same in front of ``no-iam``) and ``switch-proxy`` (the master secret, IAM required, in front
    of ``iam-aurora``), all with the role ``e2e-role``; in the database, ``iam_user`` and ``other_member`` granted
    rds_iam and ``not_member`` not."""
    rds, iam = world.rds, world.session.client("iam")
    role_arn = iam.create_role(RoleName="e2e-role", AssumeRolePolicyDocument=json.dumps(PROXY_TRUST))["Role"]["Arn"]
    subnets = world.proxies["iam-proxy"]["VpcSubnetIds"]
    resource_ids = {}
    for cluster, enabled in (("iam-aurora", True), ("no-iam", False)):
        resource_ids[cluster] = _cluster(rds, cluster, 1, EnableIAMDatabaseAuthentication=enabled)[
            "DbClusterResourceId"
        ]
    end_to_end = {"DefaultAuthScheme": "IAM_AUTH", "RequireTLS": True}
    switch = {"DefaultAuthScheme": "NONE", "Auth": [{"SecretArn": world.secret_arn, "IAMAuth": "REQUIRED"}]}
    for name, cluster, options in (
        ("e2e-proxy", "iam-aurora", end_to_end),
        ("e2e-no-iam", "no-iam", end_to_end),
        ("switch-proxy", "iam-aurora", switch),
    ):
        world.proxies[name] = rds.create_db_proxy(
            DBProxyName=name, EngineFamily="POSTGRESQL", RoleArn=role_arn, VpcSubnetIds=subnets, **options
        )["DBProxy"]
        rds.register_db_proxy_targets(DBProxyName=name, DBClusterIdentifiers=[cluster])
    with closing(server.superuser(TEST_DATABASE)) as conn, conn.cursor() as cur:
        for user in (IAM_USER, OTHER_MEMBER, NOT_MEMBER):
            cur.execute(f"CREATE ROLE {user} LOGIN")
        cur.execute(f"GRANT rds_iam TO {IAM_USER}, {OTHER_MEMBER}")
    prefix = f"arn:aws:rds-db:{REGION}:{world.account_id}:dbuser"
    state = EndToEnd(
        "e2e-role",
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": world.secret_arn},
        {user: f"{prefix}:{resource_ids['iam-aurora']}/{user}" for user in (IAM_USER, OTHER_MEMBER, NOT_MEMBER)},
    )
    state.resource["no-iam"] = f"{prefix}:{resource_ids['no-iam']}/{IAM_USER}"
    state.allow(world, state.resource[IAM_USER], state.resource[NOT_MEMBER], state.resource["no-iam"])
    return state


def e2e_connect(world: World, proxy_name: str, user: str):
    return world.connect(proxy_name, user=user, password=token(world.dns(proxy_name), user=user))


def pam_failed(user: str) -> str:
    return f'FATAL:  Request returned an error: PAM authentication failed for user "{user}"'


def test_end_to_end_iam_logs_in_as_the_client_user_without_a_secret(world, e2e):
    assert "Auth" not in world.proxies["e2e-proxy"] or world.proxies["e2e-proxy"]["Auth"] == []
    with closing(e2e_connect(world, "e2e-proxy", IAM_USER)) as conn:
        assert node(conn) == (False, IAM_USER)
        with conn.cursor() as cur:
            cur.execute("SELECT session_user, pg_has_role('rds_iam', 'MEMBER')")
            assert cur.fetchone() == (IAM_USER, True)


def test_end_to_end_iam_still_needs_the_clients_iam_token(world, e2e):
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        world.connect("e2e-proxy", user=IAM_USER, password=token(world.dns("e2e-proxy"), user=IAM_USER, who="no"))
    assert proxy.IAM_FAILED.format(user=IAM_USER) in refusal(excinfo)


def test_end_to_end_iam_refuses_a_user_without_rds_iam(world, e2e, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        e2e_connect(world, "e2e-proxy", NOT_MEMBER)  # the role may rds-db:connect as not_member
    assert pam_failed(NOT_MEMBER) in refusal(excinfo)
    assert f"as {NOT_MEMBER!r}: the user is not a member of rds_iam" in caplog.text


def test_end_to_end_iam_refuses_a_user_the_proxys_role_may_not_connect_as(world, e2e, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        e2e_connect(world, "e2e-proxy", OTHER_MEMBER)  # in rds_iam, but not in the role's policy
    assert pam_failed(OTHER_MEMBER) in refusal(excinfo)
    assert f"does not allow rds-db:connect on {e2e.resource[OTHER_MEMBER]}" in caplog.text


def test_end_to_end_iam_evaluates_wildcards_on_the_clusters_resource_id(world, e2e):
    prefix = f"arn:aws:rds-db:{REGION}:{world.account_id}:dbuser"
    try:
        # The resource ID of an Aurora cluster is cluster-..., not an instance's db-...
        e2e.allow(world, f"{prefix}:db-*/*", f"{prefix}:*/other_membe?")
        with closing(e2e_connect(world, "e2e-proxy", OTHER_MEMBER)) as conn:
            assert node(conn) == (False, OTHER_MEMBER)
        with pytest.raises(psycopg2.OperationalError) as excinfo:
            e2e_connect(world, "e2e-proxy", IAM_USER)
        assert pam_failed(IAM_USER) in refusal(excinfo)
        e2e.allow(world, f"{prefix}:cluster-*/*")
        with closing(e2e_connect(world, "e2e-proxy", IAM_USER)) as conn:
            assert node(conn) == (False, IAM_USER)
    finally:
        e2e.allow(world, e2e.resource[IAM_USER], e2e.resource[NOT_MEMBER], e2e.resource["no-iam"])


def test_end_to_end_iam_needs_iam_database_authentication_on_the_cluster(world, e2e, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        e2e_connect(world, "e2e-no-iam", IAM_USER)  # the role may rds-db:connect there
    assert pam_failed(IAM_USER) in refusal(excinfo)
    assert "IAM database authentication is not enabled on the DB cluster no-iam" in caplog.text


def test_modify_db_proxy_to_iam_auth_takes_effect_for_the_next_connection(world, e2e):
    rds = world.rds
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        e2e_connect(world, "switch-proxy", IAM_USER)
    assert proxy.NO_CREDENTIALS.format(user=IAM_USER) in refusal(excinfo)
    rds.modify_db_proxy(DBProxyName="switch-proxy", DefaultAuthScheme="IAM_AUTH")
    try:
        with closing(e2e_connect(world, "switch-proxy", IAM_USER)) as conn:
            assert node(conn) == (False, IAM_USER)
        # A user that an Auth entry names keeps its secret.
        with closing(world.connect("switch-proxy", password=token(world.dns("switch-proxy")))) as conn:
            assert node(conn) == (False, TEST_USER)
    finally:
        rds.modify_db_proxy(DBProxyName="switch-proxy", DefaultAuthScheme="NONE")


def test_no_path_but_the_proxy_gives_an_rds_iam_member_a_session_without_a_password(world, e2e, server):
    """The private socket trusts members of rds_iam; a TLS client of the database itself (through a TlsFront when
    the server has no TLS of its own) is not let in without a password for that."""
    for password in ("", "anything"):
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(
                host="127.0.0.1", port=server.primary_port, user=IAM_USER, password=password, dbname=TEST_DATABASE,
                sslmode="require", connect_timeout=10, gssencmode="disable",
            )  # fmt: skip
