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
    pytest.param({"group_vars": {"deployment_name": "xacct-"}}, "deployment_name must be", id="deployment-name-hyphen"),
    pytest.param({"host_vars": {"application-a": {"app_network_vpc_cidr": "10.0.16.0/27"}}},
                 "Host application-a: app_network_vpc_cidr 10.0.16.0/27 split by app_network_subnet_newbits 2 gives "
                 "/29 subnets, but AWS subnets are /16 to /28", id="vpc-too-small-for-its-subnets"),
    pytest.param({"host_vars": {"database": {"db_cluster_subnet_newbits": 1, "db_cluster_az_count": 3}}},
                 "db_cluster_subnet_newbits 1 gives 2 subnets of 10.0.0.0/24, fewer than db_cluster_az_count 3",
                 id="too-few-subnets-for-the-zones"),
    pytest.param({"host_vars": {"database": {"db_cluster_engine_version": "sixteen"}}},
                 "db_cluster_engine_version (sixteen) a major version such as 17", id="malformed-engine-version"),
    pytest.param({"host_vars": {"database": {"db_cluster_engine_version": "14.6"}}},
                 "db_cluster_engine_version 14.6: the RDS Data API, through which the database users are kept",
                 id="below-data-api-minimum"),
    pytest.param({"group_vars": {"aws_region": "ap-south-2"}},
                 "aws_region ap-south-2: the RDS Data API", id="region-without-data-api"),
    pytest.param({"host_vars": {"application-a": {"iam_lambda_db_username": "App-A"}}},
                 "Host application-a: iam_lambda_db_username (App-A)", id="bad-database-user"),
    pytest.param({"host_vars": {"application-b": {"iam_lambda_db_username": "application_a"}}},
                 "iam_lambda_db_username must differ between application accounts", id="shared-database-user"),
    pytest.param({"host_vars": {"application-b": {"iam_lambda_name": "f" * 65}}},
                 "Host application-b: the function (from iam_lambda_name) would be", id="function-name-too-long"),
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


def _rename_host(inventory, old: str, new: str) -> None:
    """Give an application host of a copied inventory another name."""
    hosts = inventory.read_text().replace(f"{old}:", f"{new}:")
    inventory.write_text(hosts)
    host_vars = inventory.parent / "host_vars"
    (host_vars / f"{old}.yml").rename(host_vars / f"{new}.yml")


@pytest.mark.parametrize(
    ("host", "message"),
    [
        pytest.param(
            "application-with-a-name-long-enough-to-break-limits",
            "the read-write endpoint (from rds_proxy_name and the account name "
            "application-with-a-name-long-enough-to-break-limits) would be",
            id="long-host-name",
        ),
        pytest.param(
            "Application_B",
            "the account name Application_B (the inventory host name of an application account) must be lower-case",
            id="host-name-not-a-name-part",
        ),
    ],
)
def test_names_derived_from_host_names_fail_before_any_change(aws, tmp_path, host, message):
    inventory = copy_inventory(tmp_path)
    _rename_host(inventory, "application-b", host)
    result = run_playbook("site.yml", aws, inventory=inventory)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert message in output
    assert aws.control.mutating_requests() == []


def test_a_retired_minor_version_fails_in_the_preflight_and_its_major_does_not(aws, tmp_path):
    aws.control.configure(retired_engine_versions=["16.6"])
    pinned = copy_inventory(tmp_path / "pinned", host_vars={"database": {"db_cluster_engine_version": "16.6"}})
    result = run_playbook("playbooks/preflight.yml", aws, inventory=pinned)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "db_cluster_engine_version 16.6 of aurora-postgresql is not offered" in output
    assert "ask for the major alone, such as 16" in output
    major = copy_inventory(tmp_path / "major", host_vars={"database": {"db_cluster_engine_version": "16"}})
    assert run_playbook("playbooks/preflight.yml", aws, inventory=major).returncode == 0


def test_destroy_does_not_check_the_engine_version(aws, tmp_path):
    inventory = copy_inventory(tmp_path, host_vars={"database": {"db_cluster_engine_version": "15.99"}})
    aws.control.reset_requests()
    result = run_playbook("playbooks/destroy.yml", aws, inventory=inventory)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "DescribeDBEngineVersions" not in {e["action"] for e in aws.control.requests()}
