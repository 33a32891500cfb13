"""Shared fixtures: the local AWS emulator, started once per test session.

``emulator`` is the running emulator (started with ``python -m emulator start``
on a free loopback port, stopped at the end); ``aws`` resets its state and
settings before a test and gives boto3 sessions per account.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator import accounts as emulator_accounts  # noqa: E402
from emulator.client import EmulatorControl  # noqa: E402

REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Emulator:
    url: str
    port: int
    control: EmulatorControl
    accounts: emulator_accounts.AccountsConfig
    region: str = REGION

    def account(self, name: str) -> emulator_accounts.Account:
        return self.accounts.by_name(name)

    def session(self, name: str = "database", region: str | None = None) -> boto3.Session:
        account = self.account(name)
        return boto3.Session(
            aws_access_key_id=account.access_key_id,
            aws_secret_access_key=account.secret_access_key,
            region_name=region or self.region,
        )

    def client(self, service: str, name: str = "database", region: str | None = None, **kwargs):
        return self.session(name, region).client(service, endpoint_url=self.url, **kwargs)

    def env(self, name: str = "database") -> dict[str, str]:
        """Environment variables that point an AWS client at one account."""
        account = self.account(name)
        return {
            "AWS_ACCESS_KEY_ID": account.access_key_id,
            "AWS_SECRET_ACCESS_KEY": account.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.url,
        }


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> Emulator:
    port = _free_port()
    state = tmp_path_factory.mktemp("emulator")
    env = {**os.environ, "EMULATOR_STATE_DIR": str(state)}
    command = [sys.executable, "-m", "emulator", "start", "--port", str(port)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=120)
    url = f"http://127.0.0.1:{port}"
    try:
        yield Emulator(url=url, port=port, control=EmulatorControl(url), accounts=emulator_accounts.load())
    finally:
        subprocess.run([sys.executable, "-m", "emulator", "stop", "--port", str(port)], cwd=ROOT, env=env, check=False)


@pytest.fixture
def aws(emulator) -> Emulator:
    """The emulator with empty state, no delays and no faults."""
    emulator.control.reset()
    emulator.control.configure(
        delay_scale=0,
        fault_rate=0,
        fault_seed=0,
        fault_services=[],
        aws_minutes={},
        hold=[],
        retired_engine_versions=[],
        data_plane=True,
        data_api_clock_offset=0,
    )
    return emulator


MONITORING_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@pytest.fixture
def monitoring_role(aws) -> str:
    """ARN of an Enhanced Monitoring role in the database account, as AWS documents it (created with no
    delays, so that it has propagated)."""
    iam = aws.client("iam", "database")
    role = iam.create_role(RoleName="rds-monitoring", AssumeRolePolicyDocument=json.dumps(MONITORING_TRUST))["Role"]
    iam.attach_role_policy(RoleName="rds-monitoring", PolicyArn=MONITORING_POLICY)
    return role["Arn"]


PROXY_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
PROXY_SECRETS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:*",
        }
    ],
}


@pytest.fixture
def proxy_role(aws) -> str:
    """ARN of ``proxy-role`` in the database account: trusted by RDS, reads the account's secrets (created with no
    delays, so that it has propagated)."""
    iam = aws.client("iam", "database")
    role = iam.create_role(RoleName="proxy-role", AssumeRolePolicyDocument=json.dumps(PROXY_TRUST))["Role"]
    iam.put_role_policy(RoleName="proxy-role", PolicyName="secrets", PolicyDocument=json.dumps(PROXY_SECRETS))
    return role["Arn"]
