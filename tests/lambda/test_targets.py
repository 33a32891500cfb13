"""Choosing the endpoint per invocation: ``{"target": "read_only" | "read_write" | "default"}``.

The local writer stands for the proxy's read-write endpoint (``WRITER_HOST``) and the streaming standby for its
read-only endpoint (``READER_HOST``); both answer at the same port, as a proxy's endpoints do.
"""

from __future__ import annotations

import json
import os
from contextlib import closing

import connection_test
import pytest

from .support import READER_HOST, WRITER_HOST, assume_role_calls, call

READ_ONLY = {"target": "read_only"}
READ_WRITE = {"target": "read_write"}


@pytest.fixture
def both_endpoints(function_env, monkeypatch) -> None:
    """The function configured with both proxy endpoints and no default one, as the verification playbook uses it."""
    monkeypatch.delenv("RDS_PROXY_ENDPOINT")
    monkeypatch.setenv("RDS_PROXY_READ_ONLY_ENDPOINT", READER_HOST)
    monkeypatch.setenv("RDS_PROXY_READ_WRITE_ENDPOINT", WRITER_HOST)


def test_read_only_reaches_a_reader(both_endpoints, tester, pg):
    status, body = call(tester, os.environ, READ_ONLY)
    assert status == 200, body
    assert body["ok"] is True
    assert (body["target"], body["endpoint"], body["port"]) == ("read_only", READER_HOST, pg.primary_port)
    assert (body["role"], body["expected_role"], body["role_matches"]) == ("reader", "reader", True)


def test_read_write_reaches_the_writer(both_endpoints, tester):
    status, body = call(tester, os.environ, READ_WRITE)
    assert status == 200, body
    assert (body["target"], body["endpoint"]) == ("read_write", WRITER_HOST)
    assert (body["role"], body["expected_role"], body["role_matches"]) == ("writer", "writer", True)


def test_read_only_pointed_at_the_writer_answers_but_does_not_match(both_endpoints, tester, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_READ_ONLY_ENDPOINT", WRITER_HOST)
    status, body = call(tester, os.environ, READ_ONLY)
    assert status == 200, body
    assert body["ok"] is True
    assert (body["role"], body["expected_role"], body["role_matches"]) == ("writer", "reader", False)


def test_read_write_pointed_at_a_reader_does_not_match(both_endpoints, tester, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_READ_WRITE_ENDPOINT", READER_HOST)
    status, body = call(tester, os.environ, READ_WRITE)
    assert status == 200, body
    assert (body["role"], body["expected_role"], body["role_matches"]) == ("reader", "writer", False)


def test_playbook_sequence_through_the_handler(both_endpoints, signer, monkeypatch):
    monkeypatch.setattr(connection_test, "_TESTER", connection_test.ConnectionTester(sign_token=signer))
    try:
        answers = [json.loads(connection_test.handler(event, None)["body"]) for event in (READ_ONLY, READ_WRITE)]
    finally:
        connection_test._TESTER.close()
    assert [(a["target"], a["role"], a["role_matches"]) for a in answers] == [
        ("read_only", "reader", True),
        ("read_write", "writer", True),
    ]


@pytest.mark.parametrize("event", [None, {}, {"target": None}, {"target": "default"}, {"other": 1}, "text", [1]])
def test_default_target_has_no_expectation(function_env, tester, event):
    status, body = call(tester, os.environ, event)
    assert status == 200, body
    assert (body["target"], body["endpoint"], body["role"]) == ("default", WRITER_HOST, "writer")
    assert "expected_role" not in body
    assert "role_matches" not in body


def test_only_the_default_endpoint_works_as_before(function_env, tester):
    """An environment with RDS_PROXY_ENDPOINT alone: no target or the default one works; the others are not set."""
    assert call(tester, os.environ)[0] == 200
    assert call(tester, os.environ, {"target": "default"})[0] == 200
    status, body = call(tester, os.environ, READ_ONLY)
    assert status == 500
    assert list(body["variables"]) == ["RDS_PROXY_READ_ONLY_ENDPOINT"]


# --- reuse ---------------------------------------------------------------------------------------------------------


def _backends(pg, *, standby: bool) -> int:
    with closing(pg.superuser(standby=standby)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", ("connection-test",))
        return cur.fetchone()[0]


def test_one_connection_per_endpoint_kept_while_alternating(both_endpoints, tester, signer, sts, pg):
    answers = [call(tester, os.environ, event)[1] for event in (READ_ONLY, READ_WRITE) * 3]
    reader, writer = answers[0::2], answers[1::2]
    assert {a["role"] for a in reader} == {"reader"}
    assert {a["role"] for a in writer} == {"writer"}
    assert len({a["backend_pid"] for a in reader}) == 1
    assert len({a["backend_pid"] for a in writer}) == 1
    assert [a["connection_reused"] for a in answers] == [False, False, True, True, True, True]
    assert all(set(a["timings_ms"]) == {"query", "total"} for a in answers[2:])
    assert len(signer.tokens) == 2  # one token per endpoint
    assert assume_role_calls(sts) == 1  # the credentials are shared
    assert set(tester._connections) == {READER_HOST, WRITER_HOST}
    assert (_backends(pg, standby=True), _backends(pg, standby=False)) == (1, 1)


def test_targets_naming_the_same_endpoint_share_its_connection(function_env, tester, signer, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_READ_WRITE_ENDPOINT", WRITER_HOST)  # the same as RDS_PROXY_ENDPOINT
    _, default = call(tester, os.environ)
    _, read_write = call(tester, os.environ, READ_WRITE)
    assert read_write["connection_reused"] is True
    assert read_write["backend_pid"] == default["backend_pid"]
    assert len(signer.tokens) == 1


def test_a_dropped_connection_is_replaced_for_its_endpoint_only(both_endpoints, tester, signer, pg):
    _, reader = call(tester, os.environ, READ_ONLY)
    _, writer = call(tester, os.environ, READ_WRITE)
    pg.terminate(reader["backend_pid"], standby=True)

    status, reader_again = call(tester, os.environ, READ_ONLY)
    assert status == 200, reader_again
    assert reader_again["connection_reused"] is False
    assert reader_again["backend_pid"] != reader["backend_pid"]
    assert "dropped_connection" in reader_again["timings_ms"]
    _, writer_again = call(tester, os.environ, READ_WRITE)
    assert writer_again["connection_reused"] is True
    assert writer_again["backend_pid"] == writer["backend_pid"]
    assert len(signer.tokens) == 3


# --- configuration -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["primary", "READ_ONLY", "read-only", "", 1, ["read_only"]])
def test_unknown_target_is_a_bad_event(both_endpoints, tester, signer, sts, target):
    status, body = call(tester, os.environ, {"target": target})
    assert status == 400
    assert (body["ok"], body["stage"]) == (False, "config")
    assert body["error"] == "invalid event: target"
    assert list(body["event"]) == ["target"]
    assert body["event"]["target"].startswith(f"unknown target {target!r}: expected one of 'default'")
    assert body["variables"] == {}
    assert "target" not in body
    assert body["likely_causes"] == ["the event's target is not one of default, read_only, read_write"]
    assert signer.tokens == []
    assert assume_role_calls(sts) == 0


@pytest.mark.parametrize(
    ("event", "variable"),
    [
        (READ_ONLY, "RDS_PROXY_READ_ONLY_ENDPOINT"),
        (READ_WRITE, "RDS_PROXY_READ_WRITE_ENDPOINT"),
        ({"target": "default"}, "RDS_PROXY_ENDPOINT"),
        ({}, "RDS_PROXY_ENDPOINT"),
    ],
)
def test_target_without_its_variable_names_the_variable(both_endpoints, tester, signer, monkeypatch, event, variable):
    monkeypatch.delenv(variable, raising=False)
    if variable != "RDS_PROXY_ENDPOINT":
        monkeypatch.setenv("RDS_PROXY_ENDPOINT", WRITER_HOST)
    status, body = call(tester, os.environ, event)
    assert status == 500
    assert (body["ok"], body["stage"]) == (False, "config")
    assert body["target"] == event.get("target", "default")
    assert list(body["variables"]) == [variable]
    assert body["variables"][variable].startswith("missing: ")
    assert f"set {variable}" in body["likely_causes"][-1]
    assert "event" not in body
    assert signer.tokens == []


def test_no_endpoint_at_all_names_every_choice(function_env, tester, monkeypatch):
    monkeypatch.delenv("RDS_PROXY_ENDPOINT")
    status, body = call(tester, os.environ, READ_ONLY)
    assert status == 500
    assert body["variables"] == {
        "RDS_PROXY_ENDPOINT": "missing (set it, RDS_PROXY_READ_ONLY_ENDPOINT or RDS_PROXY_READ_WRITE_ENDPOINT)"
    }


def test_malformed_endpoint_of_another_target_is_reported(both_endpoints, tester, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_READ_WRITE_ENDPOINT", "not a host")
    status, body = call(tester, os.environ, READ_ONLY)
    assert status == 500
    assert body["variables"] == {"RDS_PROXY_READ_WRITE_ENDPOINT": "malformed: expected a DNS host name"}


def test_bad_event_and_bad_environment_are_reported_together(both_endpoints, tester, monkeypatch):
    monkeypatch.delenv("DB_USERNAME")
    status, body = call(tester, os.environ, {"target": "writer"})
    assert status == 500
    assert body["error"] == "invalid event: target; invalid environment: DB_USERNAME"
    assert list(body["event"]) == ["target"]
    assert list(body["variables"]) == ["DB_USERNAME"]


def test_failures_name_the_targets_variable(both_endpoints, tester, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_READ_ONLY_ENDPOINT", "no-such-proxy.invalid")
    status, body = call(tester, os.environ, READ_ONLY)
    assert (status, body["stage"]) == (502, "dns")
    assert (body["target"], body["expected_role"]) == ("read_only", "reader")
    assert "role_matches" not in body
    assert body["likely_causes"][0].startswith("RDS_PROXY_READ_ONLY_ENDPOINT is misspelled")


def test_load_config_for_each_target(both_endpoints, monkeypatch):
    monkeypatch.setenv("RDS_PROXY_ENDPOINT", "proxy.example.com")
    for target, endpoint, variable, expected_role in (
        ("default", "proxy.example.com", "RDS_PROXY_ENDPOINT", None),
        ("read_only", READER_HOST, "RDS_PROXY_READ_ONLY_ENDPOINT", "reader"),
        ("read_write", WRITER_HOST, "RDS_PROXY_READ_WRITE_ENDPOINT", "writer"),
    ):
        config = connection_test.load_config(os.environ, target)
        assert (config.target, config.endpoint, config.endpoint_variable) == (target, endpoint, variable)
        assert config.expected_role == expected_role


def test_a_fresh_invocation_keeps_nothing_from_earlier_ones(both_endpoints, tester, signer, sts, pg):
    _, first = call(tester, os.environ, READ_ONLY)
    _, warm = call(tester, os.environ, READ_ONLY)
    assert warm["connection_reused"] is True
    calls_before = assume_role_calls(sts)

    status, fresh = call(tester, os.environ, {**READ_ONLY, "fresh": True})
    assert status == 200, fresh
    assert fresh["connection_reused"] is False
    assert fresh["backend_pid"] != first["backend_pid"]
    assert "sts" in fresh["timings_ms"]
    assert assume_role_calls(sts) == calls_before + 1
    assert len(signer.tokens) == 2


@pytest.mark.parametrize("fresh", ["yes", 1, None, ["true"]])
def test_fresh_must_be_a_boolean(both_endpoints, tester, signer, sts, fresh):
    status, body = call(tester, os.environ, {**READ_WRITE, "fresh": fresh})
    assert status == 400
    assert body["error"] == "invalid event: fresh"
    assert body["event"] == {"fresh": f"{fresh!r} is not true or false"}
    assert body["likely_causes"] == ["the event's fresh is not true or false"]
    assert signer.tokens == []
    assert assume_role_calls(sts) == 0
