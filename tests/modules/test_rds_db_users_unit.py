"""rds_db_users with its rds-data calls answered by a botocore Stubber (requests checked against the service
model); the database's state is the JSON document the module's read returns."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.rds_data import dict_rows, parameters, rows, value_of

from .stubbed import ACCOUNT, load_module, rejected_before_any_call, run

rds_db_users = load_module("rds_db_users")

CLUSTER = f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:app-db"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:rds!cluster-0123-AbCdEf"
TARGET = {"resourceArn": CLUSTER, "secretArn": SECRET}
OWNER = "app-deployment"
MARK = f"managed by {OWNER}"
MASTER = "postgres"
TX = "tx-0123456789"
ARGS = {"resource_arn": CLUSTER, "secret_arn": SECRET, "database": "app", "owner_tag": OWNER}
USERS = [
    {"name": "app_a", "connection_limit": 20},
    {"name": "reporting", "grants": [{"schema": "app_a", "privileges": ["select"]}]},
]
CREATE = [
    'CREATE ROLE "app_a" LOGIN CONNECTION LIMIT 20',
    "COMMENT ON ROLE \"app_a\" IS 'managed by app-deployment'",
    'GRANT "app_a" TO "postgres"',
    'GRANT rds_iam TO "app_a"',
    'CREATE ROLE "reporting" LOGIN',
    "COMMENT ON ROLE \"reporting\" IS 'managed by app-deployment'",
    'GRANT "reporting" TO "postgres"',
    'GRANT rds_iam TO "reporting"',
    'CREATE SCHEMA "app_a" AUTHORIZATION "app_a"',
    'CREATE SCHEMA "reporting" AUTHORIZATION "reporting"',
    'GRANT USAGE ON SCHEMA "app_a" TO "reporting"',
    'ALTER DEFAULT PRIVILEGES FOR ROLE "app_a" IN SCHEMA "app_a" GRANT SELECT ON TABLES TO "reporting"',
]


def role(name, mark=MARK, iam=True, connection_limit=-1, usage=(), tables=(), defaults=(), master_member=True):
    return {
        "name": name,
        "mark": mark,
        "login": True,
        "connection_limit": connection_limit,
        "iam": iam,
        "master_member": master_member,
        "usage": list(usage),
        "tables": [{"schema": s, "privilege": p, "count": n} for s, p, n in tables],
        "defaults": [{"owner": o, "schema": s, "privilege": p} for o, s, p in defaults],
    }


def schema(name, owner, **tables):
    return {"name": name, "owner": owner, "tables": tables}


def db_state(roles=(), schemas=(), rds_iam=True):
    return {
        "current_user": MASTER,
        "superuser": False,
        "rds_iam": rds_iam,
        "schemas": [schema("public", "pg_database_owner"), *schemas],
        "roles": list(roles),
    }


IN_SYNC = db_state(
    roles=[
        role("app_a", connection_limit=20),
        role(
            "reporting",
            usage=["app_a"],
            tables=[("app_a", "SELECT", 2)],
            defaults=[("app_a", "app_a", "SELECT")],
        ),
    ],
    schemas=[schema("app_a", "app_a", app_a=2), schema("reporting", "reporting")],
)


def read(stubs, state, names=("app_a", "reporting")):
    expected = {
        **TARGET,
        "database": "app",
        "sql": rds_db_users.READ_STATE,
        "parameters": parameters(names=",".join(sorted(names)), mark=MARK),
    }
    stubs.add("rds-data", "execute_statement", {"records": [[{"stringValue": json.dumps(state)}]]}, expected)


def transaction(stubs, statements, commit=True):
    stubs.add("rds-data", "begin_transaction", {"transactionId": TX}, {**TARGET, "database": "app"})
    for sql in statements:
        stubs.add("rds-data", "execute_statement", {}, {**TARGET, "database": "app", "sql": sql, "transactionId": TX})
    if commit:
        stubs.add(
            "rds-data",
            "commit_transaction",
            {"transactionStatus": "Transaction Committed"},
            {**TARGET, "transactionId": TX},
        )


def test_users_are_created_from_nothing_in_one_transaction(stubs):
    read(stubs, db_state())
    transaction(stubs, CREATE)
    read(stubs, IN_SYNC)
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["changed"] is True
    assert outcome.result["statements"] == CREATE
    assert outcome.result["users"] == [
        {"name": "app_a", "iam": True, "schema": "app_a", "connection_limit": 20, "grants": []},
        {
            "name": "reporting",
            "iam": True,
            "schema": "reporting",
            "connection_limit": -1,
            "grants": [{"schema": "app_a", "privileges": ["SELECT"]}],
        },
    ]
    assert outcome.result["diff"]["before"] == {}
    assert set(outcome.result["diff"]["after"]) == {"app_a", "reporting"}


def test_in_sync_only_reads(stubs):
    read(stubs, IN_SYNC)
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["changed"] is False
    assert outcome.result["statements"] == []
    assert outcome.result["diff"]["before"] == outcome.result["diff"]["after"]


def test_tables_without_the_grant_get_it(stubs):
    state = json.loads(json.dumps(IN_SYNC))
    state["schemas"][1]["tables"] = {"app_a": 2, MASTER: 1}  # a table the master created: no default privileges
    read(stubs, state)
    statements = ['GRANT SELECT ON ALL TABLES IN SCHEMA "app_a" TO "reporting"']
    transaction(stubs, statements)
    read(stubs, IN_SYNC)
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.result["statements"] == statements


def test_a_removed_grant_is_revoked(stubs):
    read(stubs, IN_SYNC)
    statements = [
        'REVOKE ALL ON ALL TABLES IN SCHEMA "app_a" FROM "reporting"',
        'REVOKE USAGE ON SCHEMA "app_a" FROM "reporting"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "app_a" IN SCHEMA "app_a" REVOKE ALL ON TABLES FROM "reporting"',
    ]
    transaction(stubs, statements)
    after = json.loads(json.dumps(IN_SYNC))
    after["roles"][1] = role("reporting")
    read(stubs, after)
    outcome = run(rds_db_users, {**ARGS, "users": [USERS[0], {"name": "reporting"}]}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["statements"] == statements
    assert outcome.result["diff"]["before"]["reporting"]["grants"] == [{"schema": "app_a", "privileges": ["SELECT"]}]
    assert outcome.result["diff"]["after"]["reporting"]["grants"] == []


def test_a_narrowed_grant_revokes_the_rest(stubs):
    state = json.loads(json.dumps(IN_SYNC))
    state["roles"][1]["tables"].append({"schema": "app_a", "privilege": "DELETE", "count": 1})
    state["roles"][1]["defaults"].append({"owner": "app_a", "schema": "app_a", "privilege": "DELETE"})
    read(stubs, state)
    statements = [
        'REVOKE DELETE ON ALL TABLES IN SCHEMA "app_a" FROM "reporting"',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "app_a" IN SCHEMA "app_a" REVOKE DELETE ON TABLES FROM "reporting"',
    ]
    transaction(stubs, statements)
    read(stubs, IN_SYNC)
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.result["statements"] == statements


def test_a_user_no_longer_listed_is_purged(stubs):
    state = json.loads(json.dumps(IN_SYNC))
    state["roles"].append(role("old_app", master_member=False))
    state["schemas"].append(schema("old_app", "old_app", old_app=3))
    read(stubs, state)
    statements = [
        'GRANT "old_app" TO "postgres"',
        'REASSIGN OWNED BY "old_app" TO "postgres"',
        'DROP OWNED BY "old_app"',
        'DROP ROLE "old_app"',
    ]
    transaction(stubs, statements)
    read(stubs, IN_SYNC)
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["statements"] == statements
    assert "old_app" in outcome.result["diff"]["before"]
    assert "old_app" not in outcome.result["diff"]["after"]


def test_without_purge_an_unlisted_user_stays(stubs):
    state = json.loads(json.dumps(IN_SYNC))
    state["roles"].append(role("old_app"))
    read(stubs, state)
    outcome = run(rds_db_users, {**ARGS, "users": USERS, "purge": False}, stubs)
    assert outcome.result["changed"] is False
    assert [u["name"] for u in outcome.result["users"]] == ["app_a", "reporting", "old_app"]


def test_state_absent_drops_every_role_of_the_owner(stubs):
    read(stubs, IN_SYNC, names=())
    statements = [
        f'{verb} "{name}"{tail}'
        for name in ("app_a", "reporting")
        for verb, tail in (("REASSIGN OWNED BY", ' TO "postgres"'), ("DROP OWNED BY", ""), ("DROP ROLE", ""))
    ]
    transaction(stubs, statements)
    read(stubs, db_state(), names=())
    outcome = run(rds_db_users, {**ARGS, "users": USERS, "state": "absent"}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["statements"] == statements
    assert outcome.result["users"] == []


def test_a_role_made_by_hand_is_not_taken_over(stubs):
    state = db_state(roles=[role("app_a", mark=None), role("reporting", mark="managed by someone-else")])
    read(stubs, state)
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.failed
    assert "role app_a exists and is not managed by app-deployment (it has no comment)" in outcome.result["msg"]
    assert "role reporting exists" in outcome.result["msg"]
    assert "'managed by someone-else'" in outcome.result["msg"]


def test_a_schema_of_another_role_fails(stubs):
    read(stubs, db_state(schemas=[schema("app_a", "someone")]))
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.failed
    assert "schema app_a exists and belongs to role someone" in outcome.result["msg"]


def test_a_grant_on_a_missing_schema_fails(stubs):
    read(stubs, db_state(), names=("reporting",))
    users = [{"name": "reporting", "grants": [{"schema": "nowhere", "privileges": ["SELECT"]}]}]
    outcome = run(rds_db_users, {**ARGS, "users": users}, stubs)
    assert outcome.failed
    assert "users (reporting): grants schema nowhere does not exist" in outcome.result["msg"]


def test_iam_needs_rds_iam(stubs):
    read(stubs, db_state(rds_iam=False))
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.failed and "rds_iam" in outcome.result["msg"]


def test_check_mode_runs_no_write(stubs):
    read(stubs, db_state())
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs, check_mode=True)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["changed"] is True
    assert outcome.result["statements"] == CREATE
    assert [u["name"] for u in outcome.result["users"]] == ["app_a", "reporting"]
    assert outcome.result["diff"]["after"]["reporting"]["grants"] == [{"schema": "app_a", "privileges": ["SELECT"]}]


@pytest.mark.parametrize(
    ("users", "message"),
    [
        ([{"name": "App"}], "users[0]: name 'App' must be lowercase letters"),
        ([{"name": "1app"}], "users[0]: name '1app' must be lowercase letters"),
        ([{"name": 'a"; DROP ROLE x; --'}], "users[0]: name 'a\"; DROP ROLE x; --' must be"),
        ([{"name": "a" * 64}], "is longer than 63 bytes"),
        ([{"name": "pg_app"}], "users[0]: name 'pg_app' starts with a reserved prefix"),
        ([{"name": "public"}], "users[0]: name 'public' is reserved"),
        ([{"name": "ok"}, {"name": "ok"}], "users[1] (ok): the name ok is listed twice"),
        ([{"name": "ok", "schema": "Bad-Schema"}], "users[0] (ok): schema 'Bad-Schema' must be"),
        ([{"name": "a"}, {"name": "b", "schema": "a"}], "users[1] (b): schema a is already the schema of user a"),
        (
            [{"name": "ok", "grants": [{"schema": "app_a", "privileges": ["SELECT", "DROP"]}]}],
            "users[0] (ok): grants privilege 'DROP' on schema app_a is not one of SELECT",
        ),
        ([{"name": "ok", "grants": [{"schema": "ok"}]}], "users[0] (ok): grants schema ok is the user's own schema"),
        ([{"name": "ok", "connection_limit": -2}], "users[0] (ok): connection_limit -2 must be -1 or more"),
    ],
)
def test_bad_options_fail_before_any_call(stubs, users, message):
    assert message in rejected_before_any_call(rds_db_users, {**ARGS, "users": users}, stubs)


def test_users_is_required_when_present(stubs):
    assert rejected_before_any_call(rds_db_users, dict(ARGS), stubs).startswith("users is required")


def test_a_failing_commit_rolls_back(stubs):
    read(stubs, db_state())
    transaction(stubs, CREATE, commit=False)
    stubs.error(
        "rds-data", "commit_transaction", "TransactionNotFoundException", "Transaction tx-0123456789 is not found",
        status=404, expected={**TARGET, "transactionId": TX},
    )  # fmt: skip
    stubs.add("rds-data", "rollback_transaction", {}, {**TARGET, "transactionId": TX})
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.failed
    assert "CommitTransaction failed" in outcome.result["msg"]
    assert "times out after" in outcome.result["msg"]


def test_a_bad_owner_tag_fails_before_any_call(stubs):
    args = {**ARGS, "owner_tag": "it's\\mine", "users": USERS}
    assert rejected_before_any_call(rds_db_users, args, stubs).startswith("owner_tag ")


def test_http_endpoint_not_enabled_says_what_to_do(stubs):
    stubs.error("rds-data", "execute_statement", "HttpEndpointNotEnabledException", "HTTP endpoint not enabled")
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.failed
    assert "Failed to read the roles of database app (ExecuteStatement)" in outcome.result["msg"]
    assert "enable-http-endpoint" in outcome.result["msg"]


def test_a_secret_error_says_what_to_check(stubs):
    stubs.error("rds-data", "execute_statement", "SecretsErrorException", "could not read secret")
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.failed and "check secret_arn" in outcome.result["msg"]


def test_a_resuming_database_is_retried(stubs):
    stubs.error("rds-data", "execute_statement", "DatabaseResumingException", "resuming")
    stubs.error("rds-data", "execute_statement", "DatabaseUnavailableException", "unavailable", status=504)
    read(stubs, IN_SYNC)
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert not outcome.failed, outcome.result["msg"]
    assert outcome.result["changed"] is False


def test_a_failing_statement_rolls_back(stubs):
    read(stubs, db_state())
    transaction(stubs, CREATE[:2], commit=False)
    stubs.error(
        "rds-data", "execute_statement", "DatabaseErrorException", 'ERROR: permission denied to grant role "app_a"',
        expected={**TARGET, "database": "app", "sql": CREATE[2], "transactionId": TX},
    )  # fmt: skip
    stubs.add(
        "rds-data", "rollback_transaction", {"transactionStatus": "Rollback Complete"}, {**TARGET, "transactionId": TX}
    )
    outcome = run(rds_db_users, {**ARGS, "users": USERS}, stubs)
    assert outcome.failed
    msg = outcome.result["msg"]
    assert f"statement {CREATE[2]!r} failed" in msg
    assert "rolled back, nothing changed" in msg
    assert "permission denied to grant role" in msg


def test_no_statement_holds_a_password(stubs):
    state = db_state(
        roles=[
            role("old_app", master_member=False),
            role("reporting", iam=False, usage=["other"], tables=[("other", "SELECT", 1)]),
        ],
        schemas=[schema("other", "someone", someone=1), schema("reporting", MASTER)],
    )
    users = [*USERS, {"name": "batch", "iam": False, "grants": [{"schema": "app_a", "privileges": ["INSERT"]}]}]
    read(stubs, state, names=("app_a", "batch", "reporting"))
    outcome = run(rds_db_users, {**ARGS, "users": users}, stubs, check_mode=True)
    assert not outcome.failed, outcome.result["msg"]
    statements = outcome.result["statements"]
    assert len(statements) > 15
    for sql in [*statements, rds_db_users.READ_STATE]:
        assert "password" not in sql.lower()
    assert not any("'" in sql for sql in statements if not sql.startswith("COMMENT ON ROLE"))


def test_quote_ident_and_literal():
    assert rds_db_users.quote_ident("user") == '"user"'
    assert rds_db_users.quote_ident('we"ird') == '"we""ird"'
    assert rds_db_users.quote_literal("it's") == "'it''s'"
    with pytest.raises(ValueError):
        rds_db_users.quote_literal("back\\slash")


def test_field_decoding():
    assert value_of({"isNull": True}) is None
    assert value_of({"booleanValue": False}) is False
    assert value_of({"longValue": 7}) == 7
    assert value_of({"doubleValue": 1.5}) == 1.5
    assert value_of({"stringValue": "x"}) == "x"
    assert value_of({"blobValue": b"\x00\x01"}) == b"\x00\x01"
    assert value_of({"arrayValue": {"stringValues": ["a", "b"]}}) == ["a", "b"]
    assert value_of({"arrayValue": {"arrayValues": [{"longValues": [1]}, {"longValues": [2, 3]}]}}) == [[1], [2, 3]]
    response = {
        "columnMetadata": [{"name": "n", "label": "n"}, {"name": "ok"}],
        "records": [[{"longValue": 1}, {"booleanValue": True}], [{"longValue": 2}, {"isNull": True}]],
    }
    assert rows(response) == [[1, True], [2, None]]
    assert dict_rows(response) == [{"n": 1, "ok": True}, {"n": 2, "ok": None}]
    assert parameters(b=1, a="x") == [
        {"name": "a", "value": {"stringValue": "x"}},
        {"name": "b", "value": {"longValue": 1}},
    ]
