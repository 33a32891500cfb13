"""Role assumption through the emulator's STS, credential caching, and the IAM token the function signs."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import botocore.exceptions
import connection_test
import psycopg2
import pytest

from .support import CONNECT_ROLE_ARN, assume_role_calls


@pytest.fixture
def config(function_env):
    return connection_test.load_config(os.environ)


def test_assume_role_gives_the_database_accounts_credentials(config, sts):
    credentials = connection_test.assume_role(config)
    identity = sts.session("application-a").client(
        "sts",
        endpoint_url=sts.url,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    caller = identity.get_caller_identity()
    assert caller["Account"] == sts.account("database").account_id
    assert "proxy-connect-role" in caller["Arn"]
    assert credentials.access_key_id != sts.account("application-a").access_key_id
    assert credentials.secret_access_key not in repr(credentials)
    assert credentials.session_token not in repr(credentials)
    calls = [entry for entry in sts.control.requests() if entry["action"] == "AssumeRole"]
    assert [entry["account"] for entry in calls] == [sts.account("application-a").account_id]


def test_credentials_are_kept_until_shortly_before_they_expire(config, sts):
    now = [0.0]
    tester = connection_test.ConnectionTester(clock=lambda: now[0])
    first = tester.credentials(config)
    now[0] = first.expiration - connection_test.CREDENTIALS_REFRESH_MARGIN - 1
    assert tester.credentials(config) is first
    assert assume_role_calls(sts) == 1

    now[0] = first.expiration - connection_test.CREDENTIALS_REFRESH_MARGIN + 1
    second = tester.credentials(config)
    assert second is not first
    assert assume_role_calls(sts) == 2


def test_another_role_is_assumed_anew(config, sts):
    tester = connection_test.ConnectionTester()
    tester.credentials(config)
    other = connection_test.Config(**{**config.__dict__, "role_arn": CONNECT_ROLE_ARN + "-2"})
    tester.credentials(other)
    assert assume_role_calls(sts) == 2


@pytest.mark.parametrize(("region", "port"), [("eu-west-1", 5432), ("us-east-2", 6543)])
def test_token_names_host_port_user_and_region(config, region, port):
    config = connection_test.Config(**{**config.__dict__, "region": region, "port": port})
    credentials = connection_test.assume_role(config)
    token = connection_test.sign_token(config, credentials)

    url = urlsplit("https://" + token)
    assert (url.hostname, url.port, url.path) == (config.endpoint, port, "/")
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert query["Action"] == "connect"
    assert query["DBUser"] == config.user
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    key_id, date, scope_region, service, terminator = query["X-Amz-Credential"].split("/")
    assert (key_id, scope_region, service, terminator) == (credentials.access_key_id, region, "rds-db", "aws4_request")
    assert query["X-Amz-Date"].startswith(date)
    assert query["X-Amz-Expires"] == "900"
    assert query["X-Amz-Security-Token"] == credentials.session_token
    assert len(query["X-Amz-Signature"]) == 64


def test_token_is_signed_without_calling_aws(config, sts):
    credentials = connection_test.assume_role(config)
    sts.control.reset_requests()
    connection_test.sign_token(config, credentials)
    assert sts.control.requests() == []


# --- diagnosis of libpq and STS messages, including RDS Proxy's own ----------------------------------------------


@pytest.mark.parametrize(
    ("message", "stage"),
    [
        ('connection to server at "p.proxy-x.eu-west-1.rds.amazonaws.com" (10.0.16.5), port 5432 failed: '
         'FATAL:  PAM authentication failed for user "postgres"', "auth"),
        ("FATAL:  This RDS proxy has no credentials for the role postgres. Check the credentials for this role "
         "and try again.", "auth"),
        ('FATAL:  no pg_hba.conf entry for host "10.0.16.5", user "postgres", database "x", SSL encryption', "auth"),
        ('FATAL:  role "someone" does not exist', "auth"),
        ('FATAL:  database "x" does not exist', "auth"),
        ("SSL error: certificate verify failed", "tls"),
        ('server certificate for "a.example.com" does not match host name "b.example.com"', "tls"),
        ("server does not support SSL, but SSL was required", "tls"),
        ("timeout expired", "tcp"),
        ("server closed the connection unexpectedly", "connect"),
    ],
)  # fmt: skip
def test_connect_errors_are_classified(config, message, stage):
    failure = connection_test._connect_failure(psycopg2.OperationalError(message), config, ())
    assert failure.stage == stage
    assert failure.likely_causes


def test_messages_are_scrubbed_of_secrets(config):
    failure = connection_test._connect_failure(
        psycopg2.OperationalError("bad token s3cr3t-token"), config, ("s3cr3t-token",)
    )
    assert "s3cr3t-token" not in failure.error
    assert "***" in failure.error
    message = 'password authentication failed for user "x"'
    assert connection_test._short(psycopg2.OperationalError(message), ("s", "t")) == message  # too short to matter


def test_sts_access_denied_names_the_code_and_the_policies(config):
    error = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"}}, "AssumeRole"
    )
    failure = connection_test._sts_failure(error, config)
    assert failure.stage == "sts"
    assert failure.error.startswith("AccessDenied: ")
    assert any("trust policy" in cause for cause in failure.likely_causes)
    assert any(CONNECT_ROLE_ARN in cause for cause in failure.likely_causes)
