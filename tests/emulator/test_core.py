"""The emulator's core: accounts, organization, request log, faults, settings."""

from __future__ import annotations

import botocore.exceptions
import pytest
from botocore.config import Config

from emulator.requestlog import is_mutating

RETRY = Config(retries={"total_max_attempts": 10, "mode": "standard"})
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def test_each_key_resolves_to_its_own_account(aws):
    for account in aws.accounts.all:
        identity = aws.client("sts", account.name).get_caller_identity()
        assert identity["Account"] == account.account_id
        assert identity["Arn"] == f"arn:aws:iam::{account.account_id}:user/deployer"


def test_all_accounts_share_one_organization(aws):
    ids = {aws.client("organizations", a.name).describe_organization()["Organization"]["Id"] for a in aws.accounts.all}
    assert len(ids) == 1
    listed = aws.client("organizations", "management").list_accounts()["Accounts"]
    assert {a["Id"] for a in listed} == {a.account_id for a in aws.accounts.all}


def test_assumed_role_credentials_act_in_the_role_account(aws):
    target = aws.account("application-a").account_id
    # OrganizationAccountAccessRole trusts the management account (AWS Organizations User Guide, "Accessing a
    # member account that has a management account access role").
    creds = aws.client("sts", "management").assume_role(
        RoleArn=f"arn:aws:iam::{target}:role/OrganizationAccountAccessRole", RoleSessionName="test"
    )["Credentials"]
    import boto3

    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=aws.region,
    )
    assert session.client("sts", endpoint_url=aws.url).get_caller_identity()["Account"] == target


def test_state_is_kept_per_account(aws):
    aws.client("ec2", "application-a").create_vpc(CidrBlock="10.9.0.0/24")
    cidrs_a = {v["CidrBlock"] for v in aws.client("ec2", "application-a").describe_vpcs()["Vpcs"]}
    cidrs_b = {v["CidrBlock"] for v in aws.client("ec2", "application-b").describe_vpcs()["Vpcs"]}
    assert "10.9.0.0/24" in cidrs_a
    assert "10.9.0.0/24" not in cidrs_b


def test_request_log_names_account_service_and_action(aws):
    aws.control.reset_requests()
    aws.client("ec2", "application-b").create_vpc(CidrBlock="10.8.0.0/24")
    aws.client("sts", "database").get_caller_identity()
    aws.client("ram", "application-a").get_resource_shares(resourceOwner="SELF")
    aws.client("lambda", "application-a").list_functions()
    seen = {(e["account"], e["service"], e["action"]) for e in aws.control.requests()}
    assert ("333333333333", "ec2", "CreateVpc") in seen
    assert ("111111111111", "sts", "GetCallerIdentity") in seen
    assert ("222222222222", "ram", "GetResourceShares") in seen
    assert ("222222222222", "lambda", "ListFunctions") in seen
    counts = {(c["account"], c["action"]): c for c in aws.control.request_counts()}
    assert counts[("333333333333", "CreateVpc")]["count"] == 1
    assert counts[("333333333333", "CreateVpc")]["mutating"] is True
    assert [e["action"] for e in aws.control.mutating_requests()] == ["CreateVpc"]
    aws.control.reset_requests()
    assert aws.control.requests() == []


@pytest.mark.parametrize(
    ("action", "mutating"),
    [("CreateVpc", True), ("DeleteDBProxy", True), ("DescribeSubnets", False), ("GetCallerIdentity", False),
     ("AssumeRole", False), ("ListTagsForResource", False), ("TagResource", True), ("PutRolePolicy", True)],
)  # fmt: skip
def test_mutating_classification(action, mutating):
    assert is_mutating(action) is mutating


@pytest.mark.parametrize(
    ("service", "call", "throttle_code"),
    [
        ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded"),
        ("rds", lambda c: c.describe_db_clusters(), "Throttling"),
        ("sts", lambda c: c.get_caller_identity(), "Throttling"),
        ("secretsmanager", lambda c: c.list_secrets(), "ThrottlingException"),
        ("ram", lambda c: c.get_resource_shares(resourceOwner="SELF"), "ThrottlingException"),
        ("lambda", lambda c: c.list_functions(), "ThrottlingException"),
    ],
)
def test_faults_use_each_protocols_wire_format(aws, service, call, throttle_code):
    client = aws.client(service, "database", config=NO_RETRY)
    aws.control.configure(fault_rate=1.0, fault_seed=1)
    codes = set()
    for _ in range(12):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            call(client)
        codes.add((info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]))
    aws.control.configure(fault_rate=0)
    assert (throttle_code, 400) in codes
    assert any(status == 500 for _, status in codes)
    faults = [e for e in aws.control.requests() if e.get("fault")]
    assert len(faults) == 12


def test_faults_are_seeded_and_retried_by_botocore(aws):
    def pattern(seed):
        aws.control.configure(fault_rate=0.3, fault_seed=seed)
        aws.control.reset_requests()
        client = aws.client("ec2", "database", config=RETRY)
        for _ in range(20):
            client.describe_vpcs()
        aws.control.configure(fault_rate=0)
        return [bool(e.get("fault")) for e in aws.control.requests()]

    first, second = pattern(7), pattern(7)
    assert first == second
    assert any(first), "a 30% rate over 20+ calls injected no fault"
    assert sum(not f for f in first) == 20  # every call succeeded in the end


def test_fault_services_limit_injection(aws):
    aws.control.configure(fault_rate=1.0, fault_services=["rds"])
    aws.client("ec2", "database", config=NO_RETRY).describe_vpcs()
    with pytest.raises(botocore.exceptions.ClientError):
        aws.client("rds", "database", config=NO_RETRY).describe_db_clusters()


def test_settings_are_validated(aws):
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as info:
        aws.control.configure(fault_rate=2)
    assert info.value.code == 400
    with pytest.raises(urllib.error.HTTPError):
        aws.control.configure(unknown=1)


def test_reset_clears_resources_and_keeps_accounts(aws):
    ec2 = aws.client("ec2", "application-a")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/24")["Vpc"]["VpcId"]
    aws.control.reset()
    assert vpc not in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert aws.client("sts", "application-a").get_caller_identity()["Account"] == "222222222222"


def test_config_command_changes_settings(aws):
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    command = [sys.executable, "-m", "emulator", "config", "--port", str(aws.port)]
    changed = subprocess.run(
        [*command, "delay_scale=0.5", "aws_minutes.db_cluster=30", "fault_services=rds,ec2"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    settings = json.loads(changed.stdout)
    assert settings["delay_scale"] == 0.5
    assert settings["aws_minutes"]["db_cluster"] == 30
    assert settings["fault_services"] == ["rds", "ec2"]
    assert aws.control.config() == settings
    bad = subprocess.run([*command, "aws_minutes.db_clusters=30"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "db_clusters" in bad.stderr + bad.stdout
