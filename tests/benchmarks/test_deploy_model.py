"""The dependency graph of a deployment and its critical path."""

from __future__ import annotations

import pytest

from benchmarks.deploy_model import Step, critical_path, deployment_steps, main, serial_minutes
from emulator.settings import AWS_MINUTES

APPS = ["application-a", "application-b"]


def names(path: list[Step]) -> list[str]:
    return [step.name for step in path]


def test_the_instances_then_the_target_bound_the_deploy_with_the_typical_durations():
    total, path = critical_path(deployment_steps(APPS))
    # RDS takes a monitoring role once IAM has propagated it, and registers a target only once its instances
    # are available: the instance's time follows the first, the target's time the second.
    assert total == (
        AWS_MINUTES["iam_role_propagation"]
        + max(AWS_MINUTES["db_instance"], AWS_MINUTES["db_cluster"])
        + AWS_MINUTES["db_proxy_target"]
    )
    assert total == 11.25
    assert names(path) == [
        "database network, security groups, secret, roles",
        "monitoring role propagated",
        "writer instance",
        "writer available",
        "proxy target registration",
        "proxy targets AVAILABLE",
        "verification",
    ]


def test_an_instance_waits_for_a_slower_cluster():
    total, path = critical_path(deployment_steps(APPS), {**AWS_MINUTES, "db_cluster": 20})
    assert total == 20 + AWS_MINUTES["db_proxy_target"]  # the cluster is requested with no role to wait for
    assert "cluster" in names(path)


def test_a_slow_proxy_puts_the_endpoints_on_the_path():
    minutes = {**AWS_MINUTES, "db_proxy": 10}
    total, path = critical_path(deployment_steps(APPS), minutes)
    # The proxy, then its targets (3) or an endpoint (3): 13 minutes.
    assert total == 10 + 3
    assert names(path)[:2] == ["database network, security groups, secret, roles", "proxy"]


def test_a_slow_function_follows_the_proxy():
    total, path = critical_path(deployment_steps(["solo"]), {**AWS_MINUTES, "lambda_vpc": 30})
    assert total == AWS_MINUTES["db_proxy"] + 30
    assert names(path)[-2:] == ["solo: function", "verification"]


def test_more_accounts_do_not_lengthen_the_critical_path_but_lengthen_a_serial_order():
    one, _ = critical_path(deployment_steps(["a"]))
    five, _ = critical_path(deployment_steps(list("abcde")))
    assert one == five
    assert serial_minutes(list("abcde")) > serial_minutes(["a"]) > one
    per_account = (
        AWS_MINUTES["vpc_endpoint"]
        + 2 * AWS_MINUTES["db_proxy_endpoint"]
        + AWS_MINUTES["iam_role_propagation"]
        + AWS_MINUTES["lambda_vpc"]
    )
    assert serial_minutes(list("ab")) - serial_minutes(["a"]) == per_account


def test_readers_are_on_the_graph():
    steps = deployment_steps(["a"], readers=2)
    assert {"reader 1 available", "reader 2 available"} <= set(names(steps))
    minutes = {**AWS_MINUTES, "db_instance": 1, "db_cluster": 1, "db_proxy": 0.5, "iam_role_propagation": 0}
    total, _ = critical_path(steps, minutes)
    assert total == 4  # instances 1 + target registration 3 (the endpoints: proxy 0.5 + 3)


def test_a_cycle_or_an_unknown_step_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        critical_path([Step("a", None, ("b",)), Step("b", None, ("a",))])
    with pytest.raises(ValueError, match="unknown step 'c'"):
        critical_path([Step("a", None, ("c",))])
    with pytest.raises(ValueError, match="unique"):
        critical_path([Step("a", None), Step("a", None)])


def test_the_command_prints_the_path(capsys):
    assert main(["--accounts", "3"]) == 0
    out = capsys.readouterr().out
    assert "critical path: 11.25 AWS minutes" in out
    assert "writer instance" in out
    assert f"serial order (stage after stage, one account at a time): {serial_minutes(list('abc')):g}" in out
