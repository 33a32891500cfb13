"""The connection test against a real PostgreSQL with TLS (a writer and a streaming reader) and the emulator's STS.

A local server cannot check IAM tokens: the function signs a real token with the credentials the emulator's STS
issued, and the test's signer then hands the server the test user's password instead (``PasswordSigner``), except
in ``test_real_token_end_to_end`` where the user's password is set to the signed token itself.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from contextlib import closing

import connection_test
import pytest

from .support import (
    READER_HOST,
    TEST_DATABASE,
    TEST_PASSWORD,
    TEST_USER,
    PasswordSigner,
    assume_role_calls,
    call,
    free_port,
)

STAGE_TIMINGS = {"sts", "dns", "tcp", "token", "connect", "query", "total"}


def test_writer(function_env, tester, pg):
    status, body = call(tester, os.environ)
    assert status == 200, body
    assert body["ok"] is True
    assert body["message"] == "Database connection was successful!"
    assert body["target"] == "default"
    assert body["role"] == "writer"
    assert "expected_role" not in body
    assert "role_matches" not in body
    assert body["server_version"].split(".")[0] == str(pg.version)  # the major of the servers started
    assert (body["endpoint"], body["port"], body["user"], body["database"]) == (
        "localhost",
        pg.primary_port,
        TEST_USER,
        TEST_DATABASE,
    )
    assert body["sslmode"] == "verify-full"  # not a proxy endpoint you create: CA and host name are checked
    assert body["current_user"] == TEST_USER  # what the database itself says
    assert body["connection_reused"] is False
    assert set(body["timings_ms"]) == STAGE_TIMINGS
    assert all(value >= 0 for value in body["timings_ms"].values())


def test_reader(function_env, tester, pg, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_ENDPOINT", READER_HOST)
    status, body = call(tester, os.environ)
    assert status == 200, body
    assert body["role"] == "reader"
    assert (body["endpoint"], body["port"]) == (READER_HOST, pg.primary_port)


def test_warm_invocations_reuse_credentials_and_connection(function_env, tester, signer, sts):
    _, first = call(tester, os.environ)
    _, second = call(tester, os.environ)
    _, third = call(tester, os.environ)
    assert first["connection_reused"] is False
    assert second["connection_reused"] is third["connection_reused"] is True
    assert first["backend_pid"] == second["backend_pid"] == third["backend_pid"]
    assert set(second["timings_ms"]) == {"query", "total"}
    assert len(signer.tokens) == 1
    assert assume_role_calls(sts) == 1


def test_reconnects_once_after_the_server_drops_the_connection(function_env, tester, signer, sts, pg):
    _, first = call(tester, os.environ)
    pg.terminate(first["backend_pid"])

    status, second = call(tester, os.environ)
    assert status == 200, second
    assert second["connection_reused"] is False
    assert second["backend_pid"] != first["backend_pid"]
    assert "dropped_connection" in second["timings_ms"]
    assert len(signer.tokens) == 2  # one fresh token for the one reconnection
    assert assume_role_calls(sts) == 1  # the credentials are still good

    _, third = call(tester, os.environ)
    assert third["connection_reused"] is True
    assert third["backend_pid"] == second["backend_pid"]
    assert len(signer.tokens) == 2


def test_new_connection_when_the_endpoint_changes(function_env, tester, signer, monkeypatch):
    _, writer = call(tester, os.environ)
    monkeypatch.setenv("RDS_PROXY_ENDPOINT", READER_HOST)
    _, reader = call(tester, os.environ)
    assert (writer["role"], reader["role"]) == ("writer", "reader")
    assert reader["connection_reused"] is False
    assert len(signer.tokens) == 2


def test_new_connection_when_an_endpoints_settings_change(function_env, tester, signer, pg, monkeypatch, tmp_path):
    _, first = call(tester, os.environ)
    copy = tmp_path / "ca.crt"
    copy.write_bytes(pg.ca_file.read_bytes())
    monkeypatch.setenv("DB_SSL_ROOT_CERT", str(copy))  # the same endpoint with another setting
    _, second = call(tester, os.environ)
    assert second["connection_reused"] is False
    assert second["backend_pid"] != first["backend_pid"]
    assert len(tester._connections) == 1
    assert len(signer.tokens) == 2


def test_without_reuse_every_invocation_connects(function_env, signer, sts):
    tester = connection_test.ConnectionTester(sign_token=signer, reuse=False)
    bodies = [call(tester, os.environ)[1] for _ in range(3)]
    assert [body["connection_reused"] for body in bodies] == [False] * 3
    assert len(signer.tokens) == 3
    assert assume_role_calls(sts) == 3
    assert tester._connections == {}


def test_real_token_end_to_end(function_env, pg):
    """The production path unchanged: the real assume_role and sign_token; the server's password is the token."""

    def sign_and_accept(config, credentials):
        token = connection_test.sign_token(config, credentials)
        with closing(pg.superuser()) as conn, conn.cursor() as cur:
            cur.execute(f"ALTER ROLE {TEST_USER} PASSWORD %s", (token,))
        return token

    tester = connection_test.ConnectionTester(sign_token=sign_and_accept)
    try:
        status, body = call(tester, os.environ)
    finally:
        tester.close()
        with closing(pg.superuser()) as conn, conn.cursor() as cur:
            cur.execute(f"ALTER ROLE {TEST_USER} PASSWORD %s", (TEST_PASSWORD,))
    assert status == 200, body
    assert body["role"] == "writer"


def test_handler_entry_point(function_env, signer, monkeypatch):
    monkeypatch.setattr(connection_test, "_TESTER", connection_test.ConnectionTester(sign_token=signer))
    response = connection_test.handler({}, None)
    connection_test._TESTER.close()
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["message"] == connection_test.SUCCESS_MESSAGE


# --- diagnosis ---------------------------------------------------------------------------------------------------


def assert_no_secrets(body: dict, tester, signer) -> None:
    text = json.dumps(body)
    credentials = tester._credentials[1] if tester._credentials else None
    for secret in [*signer.tokens, signer.password]:
        assert secret not in text
    if credentials:
        assert credentials.secret_access_key not in text
        assert credentials.session_token not in text


def test_wrong_password_is_an_authentication_failure(function_env, sts):
    signer = PasswordSigner(connection_test.sign_token, password="not-the-password")
    tester = connection_test.ConnectionTester(sign_token=signer)
    status, body = call(tester, os.environ)
    assert status == 502
    assert body["ok"] is False
    assert body["stage"] == "auth"
    assert "password authentication failed" in body["error"]
    causes = " ".join(body["likely_causes"])
    assert "rds-db:connect" in causes
    assert "arn:aws:rds-db:eu-west-1:111111111111:dbuser:" in causes
    assert "wrong user" in causes
    assert "another host" in causes
    assert {"sts", "dns", "tcp", "token", "connect"} <= set(body["timings_ms"])
    assert_no_secrets(body, tester, signer)


def test_unknown_user_is_an_authentication_failure(function_env, tester, signer, monkeypatch):
    monkeypatch.setenv("DB_USERNAME", "nobody")
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "auth")
    assert "'nobody'" in " ".join(body["likely_causes"])
    assert_no_secrets(body, tester, signer)


def test_unknown_database_is_an_authentication_failure(function_env, tester, monkeypatch):
    monkeypatch.setenv("DBNAME", "no_such_db")
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "auth")
    assert body["likely_causes"] == ["DBNAME 'no_such_db' is not a database on the target cluster"]


def test_server_down_is_a_tcp_failure(function_env, tester, signer, monkeypatch):
    monkeypatch.setenv("DB_PORT", str(free_port()))
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "tcp")
    assert "refused" in body["error"].lower()
    assert "security group" in " ".join(body["likely_causes"])
    assert signer.tokens == []  # no token is signed for an endpoint that cannot be reached


def test_unresolvable_endpoint_is_a_dns_failure(function_env, tester, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_ENDPOINT", "no-such-proxy.invalid")
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "dns")
    assert body["error"].startswith("no-such-proxy.invalid: ")


def test_certificate_from_another_ca_is_a_tls_failure(function_env, tester, signer, monkeypatch):
    monkeypatch.delenv("DB_SSL_ROOT_CERT")  # the packaged Amazon roots do not trust the test CA
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "tls")
    assert "certificate verify failed" in body["error"]
    assert str(connection_test.DEFAULT_CA_BUNDLE) in body["likely_causes"][0]
    assert_no_secrets(body, tester, signer)


def test_certificate_for_another_name_is_a_tls_failure(function_env, tester, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_ENDPOINT", "127.0.0.2")  # the server listens there; its certificate does not name it
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "tls")
    assert "does not match host name" in body["error"]
    assert "not a name in the server's certificate" in body["likely_causes"][0]


@pytest.fixture
def server_without_tls():
    """A listener that answers PostgreSQL's SSLRequest with 'N' (TLS not supported), like a server with ssl=off."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve():
        for _ in range(2):  # the function's TCP probe, then libpq
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                if conn.recv(8):
                    conn.sendall(b"N")
                    conn.recv(1024)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=10)


def test_server_refusing_tls_is_a_tls_failure(function_env, tester, monkeypatch, server_without_tls):
    monkeypatch.setenv("RDS_PROXY_ENDPOINT", "127.0.0.1")
    monkeypatch.setenv("DB_PORT", str(server_without_tls))
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "tls")
    assert "does not support SSL" in body["error"]


def test_failing_query_is_a_query_failure(function_env, tester, pg):
    with closing(pg.superuser(dbname=TEST_DATABASE)) as conn, conn.cursor() as cur:
        cur.execute("REVOKE EXECUTE ON FUNCTION pg_is_in_recovery() FROM PUBLIC")
        try:
            status, body = call(tester, os.environ)
        finally:
            cur.execute("GRANT EXECUTE ON FUNCTION pg_is_in_recovery() TO PUBLIC")
    assert (status, body["stage"]) == (502, "query")
    assert "permission denied" in body["error"]
    assert body["likely_causes"] == ["the database user lacks a privilege the test query needs"]
    # the connection itself is fine and is kept
    status, body = call(tester, os.environ)
    assert (status, body["connection_reused"]) == (200, True)


def test_unreachable_sts_is_an_sts_failure(function_env, tester, signer, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{free_port()}")
    status, body = call(tester, os.environ)
    assert (status, body["stage"]) == (502, "sts")
    assert "VPC endpoint for STS" in body["likely_causes"][0]
    assert signer.tokens == []


# --- configuration -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_ACCOUNT_IAM_ROLE", None),
        ("DATABASE_ACCOUNT_IAM_ROLE", "proxy-connect-role"),
        ("DATABASE_ACCOUNT_IAM_ROLE", "arn:aws:iam::1111:role/x"),
        ("RDS_PROXY_ENDPOINT", None),
        ("RDS_PROXY_ENDPOINT", "proxy endpoint"),
        ("RDS_PROXY_ENDPOINT", "-leading-dash.example.com"),
        ("RDS_PROXY_READ_ONLY_ENDPOINT", "proxy endpoint"),
        ("RDS_PROXY_READ_WRITE_ENDPOINT", "-leading-dash.example.com"),
        ("DB_PORT", "70000"),
        ("DB_PORT", "0"),
        ("DB_PORT", "54x"),
        ("DB_USERNAME", None),
        ("DB_USERNAME", "postgres; DROP TABLE x"),
        ("DBNAME", ""),
        ("DBNAME", "1db"),
        ("DB_SSL_ROOT_CERT", "/nonexistent/ca.pem"),
        ("AWS_REGION", "Europe"),
    ],
)
def test_bad_environment_is_reported_by_name(function_env, tester, signer, sts, monkeypatch, name, value):
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, value)
    status, body = call(tester, os.environ)
    assert status == 500
    assert body["stage"] == "config"
    assert list(body["variables"]) == [name]
    assert name in body["error"]
    assert signer.tokens == []
    assert assume_role_calls(sts) == 0


def test_every_bad_variable_is_reported(function_env, tester, monkeypatch):
    for name in ("DATABASE_ACCOUNT_IAM_ROLE", "DB_USERNAME", "DBNAME", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("DB_PORT", "-1")
    status, body = call(tester, os.environ)
    assert status == 500
    assert set(body["variables"]) == {"DATABASE_ACCOUNT_IAM_ROLE", "DB_USERNAME", "DBNAME", "AWS_REGION", "DB_PORT"}
    assert body["variables"]["DB_USERNAME"] == "missing"


def test_defaults(function_env, monkeypatch):
    monkeypatch.delenv("DB_PORT")
    monkeypatch.delenv("DB_SSL_ROOT_CERT")
    config = connection_test.load_config(os.environ)
    assert config.port == 5432
    assert config.ssl_root_cert == connection_test.DEFAULT_CA_BUNDLE
    assert config.region == "eu-west-1"
