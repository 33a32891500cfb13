"""The main job against the emulator, with provisioning delays on: a dry run on
empty accounts, a deploy, an idempotent second run, a dry run that predicts
nothing, each stage alone by its tag, and a destroy that leaves nothing.

The tests run in file order on one deployment (they are steps of one story).
"""

from __future__ import annotations

import json

import pytest

from .helpers import copy_inventory, recap, run_playbook
from .leftovers import deployment_resources

HOSTS = ("database", "application-a", "application-b")
DEPLOYMENT = "xacct"
# Seconds of emulation per minute of AWS: a 6-minute cluster takes 0.3 s, so
# every wait polls at least once without slowing the suite down much.
DELAY_SCALE = 0.05


def _ok(result):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    counts = recap(result.stdout)
    assert set(counts) == set(HOSTS), counts
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), counts
    return counts


@pytest.fixture(scope="module")
def story(emulator, tmp_path_factory):
    emulator.control.reset()
    emulator.control.configure(delay_scale=DELAY_SCALE, fault_rate=0)
    tmp = tmp_path_factory.mktemp("site")
    inventory = copy_inventory(tmp)
    state = {"inventory": inventory, "outputs": tmp / "outputs" / f"{DEPLOYMENT}.json"}
    yield state
    emulator.control.configure(delay_scale=0)


def test_dry_run_on_empty_accounts_predicts_changes_and_changes_nothing(emulator, story):
    emulator.control.reset_requests()
    counts = _ok(run_playbook("site.yml", emulator, story["inventory"], ["--check", "--diff"]))
    assert all(c["changed"] > 0 for c in counts.values()), counts
    assert emulator.control.mutating_requests() == []


def test_first_run_deploys_everything(emulator, story):
    emulator.control.reset_requests()
    result = run_playbook("site.yml", emulator, story["inventory"])
    counts = _ok(result)
    assert all(c["changed"] > 0 for c in counts.values()), counts
    outputs = json.loads(story["outputs"].read_text())
    assert set(outputs["application_accounts"]) == {"application-a", "application-b"}
    for name, account in outputs["application_accounts"].items():
        assert account["read_only_endpoint"].startswith(f"{DEPLOYMENT}-proxy-{name}-read-only.endpoint.proxy-")
        assert account["read_write_endpoint"].startswith(f"{DEPLOYMENT}-proxy-{name}-read-write.endpoint.proxy-")
        assert account["connect_role_arn"] == f"arn:aws:iam::111111111111:role/{DEPLOYMENT}-proxy-connect-{name}"
        assert account["function_name"] == f"{DEPLOYMENT}-connection-test"
        assert len(account["shared_subnet_ids"]) == 2
    assert outputs["database_account"]["proxy_resource_id"].startswith("prx-")
    # The verification ran and says plainly what it could not do here.
    assert "The data path (function -> STS -> RDS Proxy -> Aurora) was NOT exercised" in " ".join(result.stdout.split())
    # The waits really waited: resources were seen in their transitional status first.
    polls = [e["action"] for e in emulator.control.requests()]
    assert polls.count("DescribeDBProxyEndpoints") > 4
    assert polls.count("DescribeDBClusters") > 2


def test_second_run_changes_nothing(emulator, story):
    emulator.control.reset_requests()
    counts = _ok(run_playbook("site.yml", emulator, story["inventory"]))
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert emulator.control.mutating_requests() == []


def test_dry_run_on_the_deployment_predicts_no_change(emulator, story):
    emulator.control.reset_requests()
    counts = _ok(run_playbook("site.yml", emulator, story["inventory"], ["--check", "--diff"]))
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert emulator.control.mutating_requests() == []


@pytest.mark.parametrize("tag", ["app_network", "ram_share", "db_cluster", "rds_proxy", "iam_lambda"])
def test_each_stage_runs_alone_by_its_tag(emulator, story, tag):
    emulator.control.reset_requests()
    result = run_playbook("site.yml", emulator, story["inventory"], ["--tags", tag])
    counts = _ok(result)
    assert f"TASK [{tag} :" in result.stdout
    # Other stages are only looked up (in check mode), never applied.
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert emulator.control.mutating_requests() == []


def test_a_second_deployment_coexists_and_goes_without_touching_the_first(emulator, story):
    before = sorted(deployment_resources(emulator, DEPLOYMENT))
    other = ["-e", "deployment_name=other"]
    _ok(run_playbook("site.yml", emulator, story["inventory"], [*other, "--tags", "app_network,ram_share"]))
    assert any(": vpc " in r for r in deployment_resources(emulator, "other"))
    assert sorted(deployment_resources(emulator, DEPLOYMENT)) == before
    # A partial deployment (networks and shares only) is destroyed all the same.
    _ok(run_playbook("playbooks/destroy.yml", emulator, story["inventory"], other))
    assert deployment_resources(emulator, "other") == []
    assert sorted(deployment_resources(emulator, DEPLOYMENT)) == before


def test_destroy_removes_everything_and_can_run_again(emulator, story):
    assert deployment_resources(emulator, DEPLOYMENT), "nothing was deployed to destroy"
    _ok(run_playbook("playbooks/destroy.yml", emulator, story["inventory"]))
    assert deployment_resources(emulator, DEPLOYMENT) == []
    assert not story["outputs"].exists()
    emulator.control.reset_requests()
    _ok(run_playbook("playbooks/destroy.yml", emulator, story["inventory"]))
    assert emulator.control.mutating_requests() == []
