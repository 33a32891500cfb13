"""rds_cluster_http_endpoint with its RDS calls answered by botocore Stubbers."""

from __future__ import annotations

import pytest

from .stubbed import ACCOUNT, Stubs, load_module, run

rds_cluster_http_endpoint = load_module("rds_cluster_http_endpoint")

NAME = "app-db"
ARN = f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:{NAME}"
RESOURCE_ID = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXY0"


@pytest.fixture
def stubs():
    return Stubs()


def describe(stubs, enabled):
    cluster = {
        "DBClusterIdentifier": NAME,
        "DBClusterArn": ARN,
        "DbClusterResourceId": RESOURCE_ID,
        "Status": "available",
    }
    if enabled is not None:
        cluster["HttpEndpointEnabled"] = enabled
    stubs.add("rds", "describe_db_clusters", {"DBClusters": [cluster]}, {"DBClusterIdentifier": NAME})


@pytest.mark.parametrize(
    ("enabled", "current", "operation"),
    [
        (True, False, "enable_http_endpoint"),
        (True, None, "enable_http_endpoint"),
        (False, True, "disable_http_endpoint"),
    ],
)
def test_turns_the_endpoint_as_asked_by_its_own_operation(stubs, enabled, current, operation):
    describe(stubs, current)
    stubs.add("rds", operation, {}, {"ResourceArn": ARN})
    outcome = run(rds_cluster_http_endpoint, {"db_cluster_identifier": NAME, "enabled": enabled}, stubs)
    assert not outcome.failed, outcome.result
    assert outcome.result["changed"]
    assert outcome.result["http_endpoint_enabled"] is enabled
    assert outcome.result["db_cluster_arn"] == ARN
    assert outcome.result["db_cluster_resource_id"] == RESOURCE_ID
    assert outcome.result["diff"] == {
        "before": {"http_endpoint_enabled": bool(current)},
        "after": {"http_endpoint_enabled": enabled},
    }
    assert stubs.pending() == {}


@pytest.mark.parametrize(("enabled", "current"), [(True, True), (False, False), (False, None)])
def test_in_sync_makes_no_change(stubs, enabled, current):
    describe(stubs, current)
    outcome = run(rds_cluster_http_endpoint, {"db_cluster_identifier": NAME, "enabled": enabled}, stubs)
    assert not outcome.failed
    assert not outcome.result["changed"]
    assert stubs.pending() == {}


def test_check_mode_predicts_without_calling(stubs):
    describe(stubs, False)
    outcome = run(rds_cluster_http_endpoint, {"db_cluster_identifier": NAME}, stubs, check_mode=True)
    assert outcome.result["changed"]
    assert outcome.result["http_endpoint_enabled"] is True
    assert stubs.pending() == {}


def test_a_missing_cluster_fails_naming_it(stubs):
    stubs.error("rds", "describe_db_clusters", "DBClusterNotFoundFault", expected={"DBClusterIdentifier": NAME})
    outcome = run(rds_cluster_http_endpoint, {"db_cluster_identifier": NAME}, stubs)
    assert outcome.failed
    assert NAME in outcome.result["msg"]


def test_aws_refusal_names_the_operation(stubs):
    describe(stubs, False)
    stubs.error(
        "rds", "enable_http_endpoint", "InvalidResourceStateFault", "not supported", expected={"ResourceArn": ARN}
    )
    outcome = run(rds_cluster_http_endpoint, {"db_cluster_identifier": NAME}, stubs)
    assert outcome.failed
    assert "EnableHttpEndpoint" in outcome.result["msg"]
