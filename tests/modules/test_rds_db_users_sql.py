"""rds_db_users against a real PostgreSQL: its read and the statements it computes run on a local server (the
emulator's binaries, through tests/lambda/support.py), as a master user that, as on Aurora, is not a superuser
but has CREATEROLE and administers rds_iam. A stand-in for the rds-data client runs the Data API's SQL through
psycopg2 and answers in the Data API's shapes, so the whole module runs: read, plan, transaction, read again."""

from __future__ import annotations

import importlib
import re
import uuid
from contextlib import closing

import pytest

from .stubbed import load_module, run

support = importlib.import_module("tests.lambda.support")  # "lambda" is a keyword: no from-import
rds_db_users = load_module("rds_db_users")

pytestmark = pytest.mark.slow

DATABASE = "app"
MASTER = "app_master"
ARGS = {
    "resource_arn": "arn:aws:rds:eu-west-1:111111111111:cluster:app-db",
    "secret_arn": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!cluster-0123-AbCdEf",
    "database": DATABASE,
    "owner_tag": "app-deployment",
}
USERS = [
    {"name": "app_a", "connection_limit": 5},
    {"name": "reporting", "schema": "reporting_work", "grants": [{"schema": "app_a", "privileges": ["SELECT"]}]},
    {"name": "batch", "iam": False, "grants": [{"schema": "app_a", "privileges": ["select", "insert"]}]},
]
PARAMETER = re.compile(r"(?<!:):([a-z_]+)")


class DataApiOverPsycopg:
    """execute_statement / begin / commit / rollback of rds-data, on one connection as the master user."""

    def __init__(self, server):
        self.conn = server.superuser(DATABASE)
        self.conn.autocommit = False
        self.transaction = None
        self.executed: list[str] = []

    def _cursor(self):
        cur = self.conn.cursor()
        cur.execute(f"SET ROLE {MASTER}")
        return cur

    def execute_statement(self, resourceArn, secretArn, sql, database=None, parameters=(), transactionId=None):
        assert database in (None, DATABASE)
        self.executed.append(sql)
        values = {p["name"]: next(iter(p["value"].values())) for p in parameters}
        if values:
            sql = PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
        with self._cursor() as cur:
            cur.execute(sql, values or None)
            records = cur.fetchall() if cur.description else []
        if transactionId is None:
            self.conn.commit()
        return {
            "records": [[{"stringValue": v} if isinstance(v, str) else {"isNull": True} for v in r] for r in records]
        }

    def begin_transaction(self, resourceArn, secretArn, database):
        self.transaction = str(uuid.uuid4())
        return {"transactionId": self.transaction}

    def commit_transaction(self, resourceArn, secretArn, transactionId):
        assert transactionId == self.transaction
        self.conn.commit()
        return {"transactionStatus": "Transaction Committed"}

    def rollback_transaction(self, resourceArn, secretArn, transactionId):
        self.conn.rollback()
        return {"transactionStatus": "Rollback Complete"}


class Clients:
    def __init__(self, api):
        self.api = api

    def client_factory(self):
        from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

        def client(module_self, service, retry_decorator=None, **kwargs):
            assert service == "rds-data"
            return RetryingBotoClientWrapper(self.api, retry_decorator)

        return client


@pytest.fixture(scope="module")
def server():
    with support.PostgresServer(with_standby=False) as pg:
        with closing(pg.superuser()) as conn, conn.cursor() as cur:
            # rds_iam exists: support.PostgresServer makes it, as on Aurora PostgreSQL.
            cur.execute(f"CREATE ROLE {MASTER} LOGIN CREATEROLE")
            cur.execute(f"GRANT rds_iam TO {MASTER} WITH ADMIN OPTION")
            cur.execute(f"CREATE DATABASE {DATABASE} OWNER {MASTER}")
            cur.execute("CREATE ROLE handmade LOGIN")
        yield pg


@pytest.fixture
def api(server):
    api = DataApiOverPsycopg(server)
    yield api
    api.conn.close()


def module_run(api, check_mode=False, **args):
    api.executed.clear()
    return run(rds_db_users, {**ARGS, **args}, Clients(api), check_mode=check_mode)


def query(server, sql, role=None):
    with closing(server.superuser(DATABASE)) as conn, conn.cursor() as cur:
        if role:
            cur.execute(f"SET ROLE {role}")
        cur.execute(sql)
        return cur.fetchall() if cur.description else None


def test_users_schemas_and_grants_on_postgresql(server, api):
    # A table of the master user in what becomes app_a's schema: GRANT ... ON ALL TABLES must reach it.
    query(
        server, "CREATE SCHEMA app_a; CREATE TABLE app_a.before (id int); INSERT INTO app_a.before VALUES (1)", MASTER
    )

    check = module_run(api, check_mode=True, users=USERS)
    assert not check.failed, check.result["msg"]
    assert check.result["changed"] and check.result["statements"]
    assert api.executed == [rds_db_users.READ_STATE]
    assert query(server, "SELECT count(*) FROM pg_roles WHERE rolname = 'app_a'") == [(0,)]

    first = module_run(api, users=USERS)
    assert not first.failed, first.result["msg"]
    assert first.result["changed"]
    assert first.result["statements"] == check.result["statements"]
    assert api.executed[1:-1] == first.result["statements"]
    by_name = {u["name"]: u for u in first.result["users"]}
    assert by_name["app_a"] == {
        "name": "app_a", "iam": True, "schema": "app_a", "connection_limit": 5, "grants": [],
    }  # fmt: skip
    assert by_name["reporting"]["grants"] == [{"schema": "app_a", "privileges": ["SELECT"]}]
    assert by_name["batch"]["iam"] is False
    assert by_name["batch"]["grants"] == [{"schema": "app_a", "privileges": ["SELECT", "INSERT"]}]

    # The schema's owner creates a table later: the default privileges give it to the others.
    query(server, "CREATE TABLE app_a.later (id int)", "app_a")
    assert query(
        server,
        "SELECT has_table_privilege('reporting', 'app_a.before', 'SELECT'),"
        " has_table_privilege('reporting', 'app_a.later', 'SELECT'),"
        " has_table_privilege('reporting', 'app_a.later', 'INSERT'),"
        " has_table_privilege('batch', 'app_a.later', 'INSERT'),"
        " has_schema_privilege('reporting', 'reporting_work', 'CREATE')",
    ) == [(True, True, False, True, True)]

    second = module_run(api, users=USERS)
    assert not second.failed, second.result["msg"]
    assert second.result["changed"] is False
    assert second.result["statements"] == []
    assert api.executed == [rds_db_users.READ_STATE]

    # A grant narrowed, a user gone: its schema and data stay, owned by the master user.
    query(server, "CREATE TABLE batch.own (id int); INSERT INTO batch.own VALUES (7)", "batch")
    narrowed = [USERS[0], {**USERS[1], "grants": [{"schema": "app_a", "privileges": []}]}]
    third = module_run(api, users=narrowed)
    assert not third.failed, third.result["msg"]
    assert third.result["changed"]
    assert {u["name"] for u in third.result["users"]} == {"app_a", "reporting"}
    assert query(server, "SELECT count(*) FROM pg_roles WHERE rolname = 'batch'") == [(0,)]
    assert query(server, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'batch.own'::regclass") == [
        (MASTER,)
    ]
    assert query(server, "SELECT * FROM batch.own") == [(7,)]
    assert query(
        server,
        "SELECT has_table_privilege('reporting', 'app_a.later', 'SELECT'),"
        " has_schema_privilege('reporting', 'app_a', 'USAGE')",
    ) == [(False, True)]
    again = module_run(api, users=narrowed)
    assert (again.result["changed"], again.result["statements"]) == (False, [])

    # The user comes back: its old schema, now the master user's, is given back to it.
    back = module_run(api, users=USERS)
    assert not back.failed, back.result["msg"]
    assert 'ALTER SCHEMA "batch" OWNER TO "batch"' in back.result["statements"]
    assert module_run(api, users=USERS).result["changed"] is False

    # A role made by hand is never taken over.
    foreign = module_run(api, users=[*USERS, {"name": "handmade"}])
    assert foreign.failed and "handmade" in foreign.result["msg"]
    assert api.executed == [rds_db_users.READ_STATE]

    # Destroy: every role of this owner goes, the role made by hand stays.
    gone = module_run(api, state="absent")
    assert not gone.failed, gone.result["msg"]
    assert gone.result["users"] == []
    assert query(
        server, "SELECT rolname FROM pg_roles WHERE rolname IN ('app_a', 'reporting', 'batch', 'handmade')"
    ) == [("handmade",)]
    assert query(server, "SELECT count(*) FROM app_a.later") == [(0,)]
    assert module_run(api, state="absent").result["changed"] is False
