"""Fixtures of the connection-test tests: the function module, a local PostgreSQL with TLS, the function's
environment pointed at the emulator's STS and the local server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .support import CONNECT_ROLE_ARN, PasswordSigner, PostgresServer, ensure_connect_roles

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"
sys.path.insert(0, str(LAMBDA_DIR / "src"))

import connection_test  # noqa: E402

# Settings of the environment that could point boto3 elsewhere than the emulator.
_AWS_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_STS", "AWS_CONFIG_FILE", "AWS_DEFAULT_PROFILE")


@pytest.fixture(scope="session")
def pg():
    with PostgresServer() as server:
        yield server


@pytest.fixture
def sts(emulator):
    """The emulator, used for STS: no delays or faults, an empty request log, and the connect roles the function
    assumes (created if missing). Nothing else of its state matters here, so the full (slower) state reset of the
    ``aws`` fixture is not needed."""
    emulator.control.configure(delay_scale=0, fault_rate=0, fault_seed=0, fault_services=[])
    ensure_connect_roles(emulator.client("iam", "database"))
    emulator.control.reset_requests()
    return emulator


@pytest.fixture
def function_env(sts, pg, monkeypatch) -> dict[str, str]:
    """The process environment the function sees: application-a's credentials (its execution role) against the
    emulator, the database account's connect role, and the local writer as the proxy endpoint."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = {**sts.env("application-a"), "DATABASE_ACCOUNT_IAM_ROLE": CONNECT_ROLE_ARN, **pg.environment()}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    connection_test._clients.clear()  # clients are kept per process; each test starts from its own settings
    return env


@pytest.fixture
def signer() -> PasswordSigner:
    return PasswordSigner(connection_test.sign_token)


@pytest.fixture
def tester(signer):
    tester = connection_test.ConnectionTester(sign_token=signer)
    yield tester
    tester.close()
