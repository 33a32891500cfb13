"""Local stand-ins for the connection test: a PostgreSQL writer and streaming reader with TLS, and a token signer.

``PostgresServer`` creates a test CA and a server certificate (SAN ``localhost``, ``127.0.0.1`` and ``127.0.0.3``, or
the names given as ``certificate_names``), initialises a cluster in a temporary directory, starts it with ``ssl=on``
on 127.0.0.1 (``hostssl`` with scram-sha-256 only; plain TCP is rejected) and, optionally, a hot standby made with
``pg_basebackup -R`` so that ``pg_is_in_recovery()`` is really true there. The standby listens on 127.0.0.3 at the
primary's port, so that, as with a proxy's read-write and read-only endpoints, the two differ by host name only and
one ``DB_PORT`` serves both. The superuser is reached over private Unix sockets.

PostgreSQL refuses to run as root: as root the servers run as the ``postgres`` system user (created with
``useradd`` if it does not exist).

Used by tests/lambda and benchmarks/lambda_latency.py.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SUPERUSER = "postgres"
TEST_USER = "lambda_user"
TEST_DATABASE = "example_db"
TEST_PASSWORD = "local-test-password-standing-in-for-the-iam-token"
SERVER_USER = "postgres"
CONNECT_ROLE_ARN = "arn:aws:iam::111111111111:role/proxy-connect-role"
WRITER_HOST = "localhost"  # the primary (it also listens on 127.0.0.2, a name its certificate does not hold)
READER_HOST = "127.0.0.3"  # the standby
LOCAL_CERTIFICATE_NAMES = (WRITER_HOST, "127.0.0.1", READER_HOST)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bindir() -> Path:
    """The PostgreSQL server binaries: ``PG_BINDIR``, ``pg_config --bindir`` or the newest /usr/lib/postgresql/*."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    if shutil.which("pg_config"):
        bindir = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
        if (bindir / "initdb").exists():
            return bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not candidates:
        raise RuntimeError("no PostgreSQL server binaries found (install postgresql or set PG_BINDIR)")
    return candidates[-1].parent


_CA_KEY_USAGE = dict.fromkeys(
    ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
     "encipher_only", "decipher_only"),
    False,
) | {"key_cert_sign": True, "crl_sign": True}  # fmt: skip


def _subject_alternative_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_certificates(directory: Path, names: tuple[str, ...]) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate signed by it (EC P-256, valid 30 days): common name the first of
    ``names``, a subject alternative name for each (an IP address or a DNS name, wildcards included)."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("connection-test local CA"))
        .issuer_name(name("connection-test local CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(**_CA_KEY_USAGE), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([_subject_alternative_name(n) for n in names]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.crt", directory / "server.crt", directory / "server.key"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


@dataclass
class PostgresServer:
    """A primary (the writer, ``WRITER_HOST``) and optionally a streaming standby (the reader, ``READER_HOST``),
    both at ``primary_port``, TLS required, both presenting one certificate for ``certificate_names``."""

    with_standby: bool = True
    certificate_names: tuple[str, ...] = LOCAL_CERTIFICATE_NAMES
    root: Path = field(init=False)
    ca_file: Path = field(init=False)
    primary_port: int = field(init=False, default=0)
    _started: list[Path] = field(init=False, default_factory=list)

    # -- lifecycle --

    def start(self) -> PostgresServer:
        self._bindir = postgres_bindir()
        self._os_user = self._server_os_user()
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

        primary = self.root / "primary"
        self.primary_port = free_port()
        self._run(
            "initdb", "-D", primary, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"
        )
        settings = {
            "listen_addresses": "'127.0.0.1,127.0.0.2'",
            "port": self.primary_port,
            "unix_socket_directories": f"'{socket_dir}'",
            "ssl": "on",
            "ssl_cert_file": f"'{cert}'",
            "ssl_key_file": f"'{key}'",
            "max_connections": 40,
            "shared_buffers": "'16MB'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_wal_senders": 4,
            "logging_collector": "off",
        }
        with (primary / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        (primary / "pg_hba.conf").write_text(
            "local all all trust\n"
            "local replication all trust\n"
            "hostssl all all 127.0.0.0/8 scram-sha-256\n"
            "host all all 127.0.0.0/8 reject\n"
        )
        self._pg_ctl_start(primary)
        with closing(self.superuser()) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE ROLE {TEST_USER} LOGIN PASSWORD %s", (TEST_PASSWORD,))
            cur.execute(f"CREATE DATABASE {TEST_DATABASE}")

        if self.with_standby:
            standby = self.root / "standby"
            standby_sockets = self.root / "sock-standby"
            standby_sockets.mkdir(mode=0o700)
            self._chown(standby_sockets)
            self._run(
                "pg_basebackup", "-h", socket_dir, "-p", self.primary_port, "-U", SUPERUSER, "-D", standby,
                "-R", "-X", "stream", "-c", "fast", "--no-sync",
            )  # fmt: skip
            with (standby / "postgresql.auto.conf").open("a") as conf:
                conf.write(f"listen_addresses = '{READER_HOST}'\nunix_socket_directories = '{standby_sockets}'\n")
            self._pg_ctl_start(standby)

    def stop(self) -> None:
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

    def _pg_ctl_start(self, data: Path) -> None:
        self._run("pg_ctl", "-D", data, "-l", f"{data}.log", "-w", "-t", "60", "start")
        self._started.append(data)

    def _run(self, program: str, *args, check: bool = True) -> None:
        command = [str(self._bindir / program), *map(str, args)]
        if self._os_user:
            command = ["runuser", "-u", self._os_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")

    def _chown(self, path: Path) -> None:
        if not self._os_user:
            return
        entry = pwd.getpwnam(self._os_user)
        for item in [path, *path.rglob("*")]:
            os.chown(item, entry.pw_uid, entry.pw_gid)

    @staticmethod
    def _server_os_user() -> str | None:
        """None when not root (the servers run as the current user), else a system user, created if missing."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER], check=True
            )
        return SERVER_USER


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
