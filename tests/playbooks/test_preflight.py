"""The preflight: every account host reaches its own account, and bad inputs
fail before any change, with a message naming the variable."""

from __future__ import annotations

import pytest

from .helpers import ROOT, copy_inventory, recap, run_playbook

HOSTS = ("database", "application-a", "application-b")


def test_each_host_reaches_its_own_account(aws):
    result = run_playbook("playbooks/preflight.yml", aws)
    assert result.returncode == 0, result.stdout + result.stderr
    for host, account in (("database", "111111111111"), ("application-a", "222222222222"),
                          ("application-b", "333333333333")):  # fmt: skip
        assert f"{host}: arn:aws:iam::{account}:user/deployer" in result.stdout
    assert all(recap(result.stdout)[h]["failed"] == 0 for h in HOSTS)
    identities = {(e["account"], e["action"]) for e in aws.control.requests()}
    assert {("111111111111", "GetCallerIdentity"), ("222222222222", "GetCallerIdentity"),
            ("333333333333", "GetCallerIdentity")} <= identities  # fmt: skip
    assert aws.control.mutating_requests() == []


def test_playbooks_run_from_their_own_directory_too(aws):
    result = run_playbook("preflight.yml", aws, cwd=ROOT / "playbooks")
    assert result.returncode == 0, result.stdout + result.stderr


BAD_INPUTS = [
    pytest.param({"host_vars": {"application-a": {"aws_account_id": "22222222222"}}}, "aws_account_id", id="short-id"),
    pytest.param({"host_vars": {"application-a": {"aws_account_id": 222222222222}}}, "aws_account_id", id="id-as-int"),
    pytest.param({"host_vars": {"application-b": {"aws_account_id": "222222222222"}}}, "aws_account_id must differ",
                 id="duplicate-id"),
    pytest.param({"host_vars": {"application-a": {"aws_account_id": "111111111111"}}}, "aws_account_id must differ",
                 id="database-as-application"),
    pytest.param({"host_vars": {"application-b": {"app_network_vpc_cidr": "10.0.16.128/25"}}},
                 "overlaps app_network_vpc_cidr of application-b (10.0.16.128/25)", id="overlapping-cidrs"),
    pytest.param({"host_vars": {"database": {"db_cluster_vpc_cidr": "10.0.300.0/24"}}},
                 "db_cluster_vpc_cidr of database", id="malformed-cidr"),
    pytest.param({"host_vars": {"application-a": {"app_network_vpc_cidr": None}}},
                 "app_network_vpc_cidr of application-a", id="missing-cidr"),
    pytest.param({"group_vars": {"aws_region": "europe-1"}}, "aws_region", id="unknown-region"),
    pytest.param({"group_vars": {"deployment_name": "Prod_1"}}, "deployment_name", id="bad-deployment-name"),
    pytest.param({"host_vars": {"application-b": {"aws_account_id": "444444444444"}}},
                 "the credentials resolve to account 333333333333", id="wrong-account"),
    pytest.param({"host_vars": {"application-b": {"aws_access_key": None, "aws_secret_key": None}}},
                 "Host application-b: its credentials could not be used", id="missing-credentials"),
    pytest.param({"host_vars": {"database": {"db_cluster_engine_version": "15.99"}}},
                 "db_cluster_engine_version 15.99 of aurora-postgresql is not offered", id="unknown-engine-version"),
    pytest.param({"host_vars": {"database": {"db_cluster_reader_count": "many"}}},
                 "argument 'db_cluster_reader_count' is of type str", id="wrong-type"),
    pytest.param({"host_vars": {"application-a": {"app_network_flow_logs_retention_days": 4}}},
                 "app_network_flow_logs_retention_days", id="value-not-allowed"),
    pytest.param({"host_vars": {"database": {"db_cluster_reader_count": 0}}},
                 "db_cluster_reader_count (0) must be at least 1", id="no-reader"),
    pytest.param({"group_vars": {"deploy_overlap": "sometimes"}}, "deploy_overlap must be true or false",
                 id="deploy-overlap-not-bool"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "message"), BAD_INPUTS)
def test_bad_input_fails_before_any_change(aws, tmp_path, monkeypatch, changes, message):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    inventory = copy_inventory(tmp_path, **changes)
    result = run_playbook("site.yml", aws, inventory=inventory)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert message in output
    assert aws.control.mutating_requests() == []


def test_both_configurations_agree():
    import configparser

    root, inner = configparser.ConfigParser(), configparser.ConfigParser()
    root.read(ROOT / "ansible.cfg")
    inner.read(ROOT / "playbooks" / "ansible.cfg")
    paths = {"inventory", "library", "filter_plugins", "test_plugins", "module_utils", "roles_path"}
    assert root.sections() == inner.sections()
    for section in root.sections():
        assert set(root[section]) == set(inner[section])
        for key, value in root[section].items():
            expected = f"../{value}" if key in paths else value
            assert inner[section][key] == expected, key
            if key in paths:
                assert (ROOT / "playbooks" / expected).exists(), key
