"""The dependency graph of a deployment, weighted with modelled AWS durations.

Each step is something AWS does for the deployment, with the minutes it
takes (``emulator.settings.AWS_MINUTES``; API calls that AWS completes at once
weigh 0) and the steps it needs finished first.  The longest path through the
graph, the *critical path*, is the lower bound of any deploy: however well an
orchestration overlaps the waits, it cannot finish before that path does.

Edges follow what AWS requires (Part 2 of the architecture):

- a DB instance can be created as soon as its cluster has been requested and
  its Enhanced Monitoring role has propagated through IAM, but it is not
  available before the cluster is; a function likewise needs its execution
  role propagated;
- a proxy needs the database network, the secret and its role, not the
  cluster; registering the cluster as its target needs an available proxy
  and every instance of the cluster available (AWS refuses instances that
  are still creating or configuring Enhanced Monitoring), and a target is
  AVAILABLE once registered;
- a proxy endpoint needs an available proxy and the shared subnets (RAM
  share); its DNS name is known as soon as it is requested;
- a connect role needs the proxy's resource ID, known once it is requested;
- a function needs its network, the endpoints' DNS names and the connect
  role's ARN;
- verification needs everything available.

``python -m benchmarks.deploy_model [--accounts N]`` prints the path.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from emulator.settings import AWS_MINUTES


@dataclass(frozen=True)
class Step:
    name: str
    operation: str | None  # key of AWS_MINUTES, or None for calls AWS completes at once
    needs: tuple[str, ...] = ()


def deployment_steps(app_accounts: list[str], readers: int = 1) -> list[Step]:
    """The steps of one deployment with these application accounts."""
    instances = ["writer"] + [f"reader {i + 1}" for i in range(readers)]
    steps = [
        Step("database network, security groups, secret, roles", None),
        Step("cluster requested", None, ("database network, security groups, secret, roles",)),
        Step("cluster", "db_cluster", ("cluster requested",)),
        Step(
            "monitoring role propagated", "iam_role_propagation", ("database network, security groups, secret, roles",)
        ),
    ]
    for instance in instances:
        steps += [
            Step(f"{instance} instance", "db_instance", ("cluster requested", "monitoring role propagated")),
            Step(f"{instance} available", None, (f"{instance} instance", "cluster")),
        ]
    steps += [
        Step("proxy", "db_proxy", ("database network, security groups, secret, roles",)),
        Step("proxy target registration", "db_proxy_target", ("proxy", *(f"{i} available" for i in instances))),
        Step("proxy targets AVAILABLE", None, ("proxy target registration",)),
    ]
    done = ["proxy targets AVAILABLE"]
    for app in app_accounts:
        steps += [
            Step(f"{app}: network", None),
            Step(f"{app}: STS interface endpoint", "vpc_endpoint", (f"{app}: network",)),
            Step(f"{app}: subnet share", None, (f"{app}: network",)),
            Step(f"{app}: endpoints requested", None, ("proxy", f"{app}: subnet share")),
            Step(f"{app}: read-only endpoint", "db_proxy_endpoint", (f"{app}: endpoints requested",)),
            Step(f"{app}: read-write endpoint", "db_proxy_endpoint", (f"{app}: endpoints requested",)),
            Step(f"{app}: connect role", None, ("proxy",)),
            Step(f"{app}: function role propagated", "iam_role_propagation"),
            Step(
                f"{app}: function",
                "lambda_vpc",
                (
                    f"{app}: network",
                    f"{app}: endpoints requested",
                    f"{app}: connect role",
                    f"{app}: function role propagated",
                ),
            ),
        ]
        done += [
            f"{app}: STS interface endpoint",
            f"{app}: read-only endpoint",
            f"{app}: read-write endpoint",
            f"{app}: function",
        ]
    steps.append(Step("verification", None, tuple(done)))
    return steps


def critical_path(steps: list[Step], minutes: dict[str, float] | None = None) -> tuple[float, list[Step]]:
    """Length in AWS minutes of the longest path, and the steps along it."""
    minutes = AWS_MINUTES if minutes is None else minutes
    by_name = {step.name: step for step in steps}
    if len(by_name) != len(steps):
        raise ValueError("step names must be unique")
    finish: dict[str, float] = {}
    previous: dict[str, str | None] = {}
    visiting: set[str] = set()

    def visit(name: str) -> float:
        if name in finish:
            return finish[name]
        if name in visiting:
            raise ValueError(f"the steps form a cycle through {name!r}")
        if name not in by_name:
            raise ValueError(f"unknown step {name!r}")
        visiting.add(name)
        step = by_name[name]
        start, before = 0.0, None
        for need in step.needs:
            need_finish = visit(need)
            if before is None or need_finish > start:
                start, before = need_finish, need
        visiting.discard(name)
        finish[name] = start + (minutes[step.operation] if step.operation else 0.0)
        previous[name] = before
        return finish[name]

    # Among equally long paths, the one ending last in the list (verification).
    last = max(reversed(steps), key=lambda step: visit(step.name))
    path, name = [], last.name
    while name is not None:
        path.append(by_name[name])
        name = previous[name]
    return finish[last.name], list(reversed(path))


def serial_minutes(app_accounts: list[str], readers: int = 1, minutes: dict[str, float] | None = None) -> float:
    """Modelled AWS minutes of a serial order like the CDK sample's: stage after
    stage, one account at a time, each stage waiting for what it made."""
    m = AWS_MINUTES if minutes is None else minutes
    per_account = m["vpc_endpoint"] + 2 * m["db_proxy_endpoint"] + m["iam_role_propagation"] + m["lambda_vpc"]
    database = m["iam_role_propagation"] + max(m["db_cluster"], m["db_instance"]) + m["db_proxy"] + m["db_proxy_target"]
    return database + per_account * len(app_accounts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2, help="application accounts (default 2)")
    args = parser.parse_args(argv)
    apps = [f"application-{chr(ord('a') + i)}" for i in range(args.accounts)]
    total, path = critical_path(deployment_steps(apps))
    print(f"critical path: {total:g} AWS minutes")
    for step in path:
        print(f"  {step.name:<50} {AWS_MINUTES[step.operation] if step.operation else 0:>5g} min")
    print(f"serial order (stage after stage, one account at a time): {serial_minutes(apps):g} AWS minutes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
