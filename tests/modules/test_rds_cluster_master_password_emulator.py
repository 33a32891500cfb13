"""rds_cluster_master_password on the emulator: the master password of an existing cluster handed to RDS, its
rotation schedule set, nothing called again when in sync, predicted in check mode, and handed back with a password;
the module's own refusals come before any change."""

from __future__ import annotations

import threading
import time

import pytest

from tests.emulator.test_dataplane_postgres import create_cluster

from .stubbed import load_module, run_on_emulator

rds_cluster_master_password = load_module("rds_cluster_master_password")

IDENTIFIER = "aurora"


@pytest.fixture
def cluster(aws):
    create_cluster(aws.client("rds"))
    return {"db_cluster_identifier": IDENTIFIER, "wait_delay": 1}


def _secret(aws) -> dict:
    return (
        aws.client("rds")
        .describe_db_clusters(DBClusterIdentifier=IDENTIFIER)["DBClusters"][0]
        .get("MasterUserSecret", {})
    )


def test_management_is_turned_on_with_a_schedule_kept_and_turned_off(aws, cluster):
    predicted = run_on_emulator(rds_cluster_master_password, aws, {**cluster, "rotation_days": 30}, check_mode=True)
    assert not predicted.failed, predicted.result
    assert (predicted.result["changed"], predicted.result["secret_arn"]) == (True, "")
    assert predicted.result["diff"] == {
        "before": {"managed": False, "rotation_days": None},
        "after": {"managed": True, "rotation_days": 30},
    }
    assert _secret(aws) == {}, "check mode changed nothing"

    made = run_on_emulator(rds_cluster_master_password, aws, {**cluster, "rotation_days": 30})
    assert not made.failed, made.result
    secret = _secret(aws)
    assert secret["SecretStatus"] == "active"
    assert made.result == {**made.result, "changed": True, "managed": True, "secret_arn": secret["SecretArn"]}
    assert ":secret:rds!cluster-" in secret["SecretArn"]
    described = aws.client("secretsmanager").describe_secret(SecretId=secret["SecretArn"])
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30

    again = run_on_emulator(rds_cluster_master_password, aws, {**cluster, "rotation_days": 30})
    assert (again.failed, again.result["changed"], again.result["rotation_days"]) == (False, False, 30)
    left = run_on_emulator(rds_cluster_master_password, aws, cluster)  # no schedule asked: the one there is kept
    assert (left.result["changed"], left.result["rotation_days"]) == (False, 30)

    refused = run_on_emulator(rds_cluster_master_password, aws, {**cluster, "managed": False})
    assert refused.failed and "master_user_password is required" in refused.result["msg"]
    assert _secret(aws) == secret, "refused before any change"
    back = run_on_emulator(
        rds_cluster_master_password, aws, {**cluster, "managed": False, "master_user_password": "x" * 32}
    )
    assert not back.failed, back.result
    assert (back.result["changed"], back.result["managed"], back.result["secret_arn"]) == (True, False, "")
    assert _secret(aws) == {}
    assert "x" * 32 not in str(back.result)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"rotation_days": 0}, "rotation_days must be from 1 to 1000"),
        ({"rotation_days": 1001}, "rotation_days must be from 1 to 1000"),
        ({"rotation_days": 7, "managed": False}, "rotation_days needs managed=true"),
        ({"db_cluster_identifier": "missing"}, "The DB cluster missing does not exist"),
    ],
)
def test_bad_arguments_are_refused_before_any_change(aws, cluster, args, words):
    refused = run_on_emulator(rds_cluster_master_password, aws, {**cluster, **args})
    assert refused.failed and words in refused.result["msg"], refused.result
    assert _secret(aws) == {}


def test_a_cluster_still_being_created_is_waited_for_before_its_password_is_handed_over(aws):
    """RDS refuses to change the master password of a cluster that is not available: the module waits for it (and
    without wait fails, changing nothing)."""
    aws.control.configure(hold=["db_cluster"])  # the cluster stays "creating" until released below
    create_cluster(aws.client("rds"))
    args = {"db_cluster_identifier": IDENTIFIER, "wait_delay": 1}

    refused = run_on_emulator(rds_cluster_master_password, aws, {**args, "wait": False})
    assert refused.failed and "is creating: RDS changes the master password of an available" in refused.result["msg"]
    assert _secret(aws) == {}

    aws.control.reset_requests()

    def release_once_waited_for():
        # Released once the module has described the cluster twice: it is in its wait, whatever the machine's speed.
        while sum(e["action"] == "DescribeDBClusters" for e in aws.control.requests()) < 2:
            time.sleep(0.05)
        aws.control.configure(hold=[])

    releaser = threading.Thread(target=release_once_waited_for, daemon=True)
    releaser.start()
    made = run_on_emulator(rds_cluster_master_password, aws, args)
    releaser.join(timeout=60)
    assert not made.failed, made.result
    assert made.result["secret_arn"] == _secret(aws)["SecretArn"]
    modifies = [e for e in aws.control.requests() if e["action"] == "ModifyDBCluster"]
    assert [e.get("status", 200) for e in modifies] == [200], modifies
