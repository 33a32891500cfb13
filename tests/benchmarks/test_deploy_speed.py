"""The deploy-speed benchmark, run at a tiny scale: it works and reports every
figure. Its figures at this scale measure nothing (Ansible's own time dwarfs
the scaled-down provisioning); the README gives those of a real run."""

from __future__ import annotations

import re
import subprocess
import sys

from benchmarks.deploy_speed import ROOT


def test_the_benchmark_runs_and_reports_every_figure():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.deploy_speed", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    ratios = [float(r) for r in re.findall(r"wall / critical path = ([0-9.]+)", out)]
    # No deploy finishes before its critical path, the lower bound of any deploy.
    assert len(ratios) == 2 and min(ratios) > 1, out
    rerun = re.search(r"re-run: +([0-9.]+) s +changed=(\d+) +mutating calls (\d+)", out)
    assert rerun and rerun.group(2) == "0" and rerun.group(3) == "0", out
    reads = re.search(r"re-run reads: +(\d+) +over (\d+) resources = ([0-9.]+) per resource", out)
    assert reads and int(reads.group(1)) > 0 and int(reads.group(2)) > 0, out
    # The verification invokes each application account's function for both endpoints, counted apart.
    assert re.search(r"and 4 invocations of the functions", out), out
    assert re.search(r"Ansible's overhead \(re-run, delays 0\): +[0-9.]+ s", out), out
    # Roles and security groups of other workloads in the same accounts: the re-run reads no more than without.
    foreign = re.search(r"security groups per account: (\d+) against (\d+) without = [0-9.]+ .*changed=(\d+)", out)
    assert foreign and foreign.group(1) == foreign.group(2) and foreign.group(3) == "0", out
    by_action = re.search(r"re-run reads by action: (.*)", out)
    assert by_action and sum(int(n) for n in re.findall(r" (\d+)(?:,|$)", by_action.group(1))) == int(reads.group(1))
