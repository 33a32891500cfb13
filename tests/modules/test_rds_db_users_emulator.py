"""rds_db_users through the emulator's RDS Data API, which runs the statements on the cluster's writer (a real
PostgreSQL server): users are created, left alone when in sync, predicted in check mode, and dropped when they
leave the list; the Data API's refusals reach the user as the module words them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.emulator.test_dataplane_postgres import DATABASE, MASTER, PASSWORD, create_cluster, create_instance, running
from tests.emulator.test_rds_data import secret

from .stubbed import load_module, run_on_emulator

rds_db_users = load_module("rds_db_users")

pytestmark = pytest.mark.slow

OWNER = "deployment-users"


@pytest.fixture
def cluster(aws):
    """An Aurora PostgreSQL cluster with its HTTP endpoint and a running writer; the module's arguments."""
    rds = aws.client("rds")
    arn = create_cluster(rds, EnableHttpEndpoint=True, DatabaseName=DATABASE)["DBClusterArn"]
    create_instance(rds, "aurora-1")
    running(aws, "aurora-1")
    master = secret(aws, "master", MASTER, PASSWORD)
    return {"resource_arn": arn, "secret_arn": master, "database": DATABASE, "owner_tag": OWNER}


def _sql(aws, args: dict, sql: str) -> list[list]:
    answer = aws.client("rds-data").execute_statement(
        resourceArn=args["resource_arn"], secretArn=args["secret_arn"], database=DATABASE, sql=sql
    )
    return [[next(iter(field.values())) for field in record] for record in answer.get("records", [])]


def _roles(aws, args: dict) -> list[list]:
    return _sql(
        aws,
        args,
        "SELECT r.rolname, pg_has_role(r.oid, 'rds_iam', 'MEMBER'), shobj_description(r.oid, 'pg_authid')"
        " FROM pg_roles r WHERE shobj_description(r.oid, 'pg_authid') LIKE 'managed by %' ORDER BY 1",
    )


def test_users_are_created_kept_predicted_and_purged_through_the_data_api(aws, cluster):
    users = [{"name": "app_a"}, {"name": "app_b", "grants": [{"schema": "app_a", "privileges": ["SELECT"]}]}]
    predicted = run_on_emulator(rds_db_users, aws, {**cluster, "users": users}, check_mode=True)
    assert not predicted.failed, predicted.result
    assert predicted.result["changed"] is True and predicted.result["statements"]
    assert _roles(aws, cluster) == [], "check mode changed nothing"

    made = run_on_emulator(rds_db_users, aws, {**cluster, "users": users})
    assert not made.failed, made.result
    assert made.result["changed"] is True
    assert _roles(aws, cluster) == [["app_a", True, f"managed by {OWNER}"], ["app_b", True, f"managed by {OWNER}"]]
    assert not any("password" in statement.lower() for statement in made.result["statements"])
    schemas = _sql(
        aws, cluster, "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname LIKE 'app_%'"
    )
    assert sorted(schemas) == [["app_a", "app_a"], ["app_b", "app_b"]]

    again = run_on_emulator(rds_db_users, aws, {**cluster, "users": users})
    assert not again.failed, again.result
    assert (again.result["changed"], again.result["statements"]) == (False, [])

    left = run_on_emulator(rds_db_users, aws, {**cluster, "users": users[:1]})
    assert not left.failed, left.result
    assert _roles(aws, cluster) == [["app_a", True, f"managed by {OWNER}"]]
    # The data of a dropped user stays, owned by the master user.
    assert _sql(aws, cluster, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'app_b'") == [
        [MASTER]
    ]


def test_an_iam_user_cannot_log_in_with_a_password_through_the_data_api(aws, cluster):
    assert not run_on_emulator(rds_db_users, aws, {**cluster, "users": [{"name": "app_a"}]}).failed
    _sql(aws, cluster, "ALTER ROLE app_a PASSWORD 'a-password-app_a-has'")
    as_user = secret(aws, "app-a", "app_a", "a-password-app_a-has")
    with pytest.raises(ClientError) as refused:
        _sql(aws, {**cluster, "secret_arn": as_user}, "SELECT 1")
    assert refused.value.response["Error"]["Code"] == "DatabaseErrorException"
    assert 'rejects connection for host "127.0.0.1", user "app_a"' in refused.value.response["Error"]["Message"]


def test_a_cluster_without_its_http_endpoint_fails_saying_what_to_do(aws, cluster):
    aws.client("rds").disable_http_endpoint(ResourceArn=cluster["resource_arn"])
    failed = run_on_emulator(rds_db_users, aws, {**cluster, "users": [{"name": "app_a"}]})
    assert failed.failed
    assert "HTTP endpoint" in failed.result["msg"] and "enable" in failed.result["msg"].lower(), failed.result
    assert json.dumps(failed.result).find(PASSWORD) == -1
