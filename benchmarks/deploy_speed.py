"""Deploy speed against the emulator, with AWS's provisioning times modelled.

One run, on an emulator of its own (a free port), with the modelled AWS
minutes (``emulator/settings.py``) scaled to ``--scale`` seconds each:

1. ``site.yml`` deploys to empty accounts: its wall time divided by the
   critical path of the deployment's dependency graph
   (``benchmarks/deploy_model.py``) at the same scale;
2. the emulator is emptied, and ``site.yml -e deploy_overlap=false --forks 1``
   deploys in a serial order like the CDK sample's (stage after stage, one
   account at a time, each stage waiting for what it made): the same ratio;
3. ``site.yml`` runs again on that deployment: its wall time, the calls AWS
   would have accepted that change something (target 0), and the read calls
   per resource of the deployment (target at most 2), from the emulator's
   request log (the verification's invocations of the functions, the
   data-path test, are counted apart: they read no state);
4. the same re-run with delays at 0: Ansible's own overhead;
5. once every account also holds what other workloads keep there (500 IAM
   roles and 200 security groups, in a VPC of their own), the same re-run
   again: its read calls against those of step 4 (target: the same number,
   the reads do not grow with the account).

Usage: ``python -m benchmarks.deploy_speed [--scale 30]``; ``--smoke`` runs it
all at a tiny scale, to check that the benchmark works, not to measure.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.deploy_model import critical_path, deployment_steps, serial_minutes  # noqa: E402
from emulator.client import EmulatorControl  # noqa: E402
from tests.playbooks.leftovers import RunningEmulator, deployment_resources  # noqa: E402

DEPLOYMENT = "bench"
FOREIGN_ROLES = 500
FOREIGN_SECURITY_GROUPS = 200
FOREIGN_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
INVENTORY = ROOT / "inventories" / "local" / "hosts.yml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator(RunningEmulator):
    """An emulator of the benchmark's own on a free port, started and stopped with the CLI."""

    def __init__(self, state_dir: str) -> None:
        region = yaml.safe_load((ROOT / "inventories/local/group_vars/all.yml").read_text())["aws_region"]
        super().__init__(_free_port(), region)
        self.env = {**os.environ, "EMULATOR_STATE_DIR": state_dir}
        self.control = EmulatorControl(self.url)

    def __enter__(self) -> Emulator:
        self._cli("start", "--port", str(self.port))
        return self

    def __exit__(self, *exc) -> None:
        self._cli("stop", "--port", str(self.port))

    def _cli(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "emulator", *args], cwd=ROOT, env=self.env, check=True, timeout=120)


def run_site(emulator: Emulator, *extra: str) -> tuple[float, str]:
    """Run site.yml; return its wall time and its recap."""
    env = {**emulator.env, "EMULATOR_PORT": str(emulator.port), "ANSIBLE_NOCOLOR": "1"}
    command = ["ansible-playbook", "site.yml", "-e", f"deployment_name={DEPLOYMENT}", *extra]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200)
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-2000:])
        raise SystemExit(f"benchmark: {' '.join(command)} failed with exit status {result.returncode}")
    recap = result.stdout[result.stdout.rfind("PLAY RECAP") :]
    return wall, recap


def changed_total(recap: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap))


def application_hosts() -> list[str]:
    inventory = yaml.safe_load(INVENTORY.read_text())
    return list(inventory["all"]["children"]["application_accounts"]["hosts"])


def database_hosts() -> list[str]:
    inventory = yaml.safe_load(INVENTORY.read_text())
    return list(inventory["all"]["children"]["database_account"]["hosts"])


def add_foreign_resources(emulator: Emulator, hosts: list[str]) -> None:
    """What other workloads keep in each account: IAM roles and, in a VPC of their own, security groups."""
    for name in hosts:
        iam, ec2 = emulator.client("iam", name), emulator.client("ec2", name)
        for n in range(FOREIGN_ROLES):
            iam.create_role(RoleName=f"foreign-{n}", AssumeRolePolicyDocument=FOREIGN_TRUST)
        vpc = ec2.create_vpc(CidrBlock="172.31.0.0/16")["Vpc"]["VpcId"]
        for n in range(FOREIGN_SECURITY_GROUPS):
            ec2.create_security_group(GroupName=f"foreign-{n}", Description="another workload's", VpcId=vpc)


def reads_of(requests: list[dict]) -> list[dict]:
    """The read calls (the verification's invocations of the functions, the data-path test, left out)."""
    return [r for r in requests if not r["mutating"] and r["action"] != "Invoke"]


def measure(scale: float) -> dict:
    apps = application_hosts()
    critical_minutes, path = critical_path(deployment_steps(apps))
    figures: dict = {"scale": scale, "critical_minutes": critical_minutes, "path": [s.name for s in path]}
    figures["critical_seconds"] = critical_minutes * scale
    figures["serial_minutes"] = serial_minutes(apps)
    with tempfile.TemporaryDirectory() as state, Emulator(state) as emulator:
        emulator.control.configure(delay_scale=scale, fault_rate=0, aws_minutes={})

        figures["deploy_seconds"], _ = run_site(emulator)

        emulator.control.reset()
        figures["serial_seconds"], _ = run_site(emulator, "-e", "deploy_overlap=false", "--forks", "1")

        emulator.control.reset_requests()
        figures["rerun_seconds"], recap = run_site(emulator)
        requests = emulator.control.requests()
        figures["rerun_changed"] = changed_total(recap)
        figures["rerun_calls"] = len(requests)
        figures["rerun_mutating"] = sum(
            1 for r in requests if r["mutating"] and not r.get("fault") and r.get("status", 0) < 400
        )
        # The verification's invocations of the functions run the data-path test: they read nothing of the
        # deployment's state, and are counted apart.
        figures["rerun_invocations"] = sum(1 for r in requests if r["action"] == "Invoke")
        reads = reads_of(requests)
        figures["rerun_reads"] = len(reads)
        figures["rerun_reads_by_action"] = collections.Counter(f"{r['service']}:{r['action']}" for r in reads)
        figures["resources"] = len(deployment_resources(emulator, DEPLOYMENT))

        emulator.control.configure(delay_scale=0)
        emulator.control.reset_requests()
        figures["overhead_seconds"], recap = run_site(emulator)
        figures["overhead_changed"] = changed_total(recap)
        figures["overhead_reads"] = len(reads_of(emulator.control.requests()))

        add_foreign_resources(emulator, database_hosts() + apps)
        emulator.control.reset_requests()
        _, recap = run_site(emulator)
        figures["foreign_changed"] = changed_total(recap)
        figures["foreign_reads"] = len(reads_of(emulator.control.requests()))
    return figures


def report(f: dict) -> str:
    critical = f["critical_seconds"]
    lines = [
        f"modelled AWS minutes scaled to {f['scale']:g} s each; "
        f"critical path {f['critical_minutes']:g} min = {critical:.1f} s ({' -> '.join(f['path'])})",
        f"deploy, site.yml:                      {f['deploy_seconds']:8.1f} s   "
        f"wall / critical path = {f['deploy_seconds'] / critical:.2f}   (target <= 1.15)",
        f"deploy, serial order (sample-like):    {f['serial_seconds']:8.1f} s   "
        f"wall / critical path = {f['serial_seconds'] / critical:.2f}   "
        f"(modelled {f['serial_minutes']:g} min = {f['serial_minutes'] / f['critical_minutes']:.2f})",
        f"serial / site.yml:                     {f['serial_seconds'] / f['deploy_seconds']:8.2f}",
        f"re-run:                                {f['rerun_seconds']:8.1f} s   changed={f['rerun_changed']}   "
        f"mutating calls {f['rerun_mutating']} (target 0)",
        f"re-run reads:                          {f['rerun_reads']:8d}     over {f['resources']} resources = "
        f"{f['rerun_reads'] / f['resources']:.2f} per resource (target <= 2); "
        f"and {f['rerun_invocations']} invocations of the functions (the data-path test)",
        f"Ansible's overhead (re-run, delays 0): {f['overhead_seconds']:8.1f} s   "
        f"= {f['overhead_seconds'] / f['deploy_seconds']:.2f} of the deploy",
        f"re-run reads with {FOREIGN_ROLES} foreign IAM roles and {FOREIGN_SECURITY_GROUPS} foreign security groups "
        f"per account: {f['foreign_reads']} against {f['overhead_reads']} without = "
        f"{f['foreign_reads'] / f['overhead_reads']:.2f} (target 1.00), changed={f['foreign_changed']}",
        "re-run reads by action: "
        + ", ".join(f"{action} {n}" for action, n in f["rerun_reads_by_action"].most_common()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=30.0, help="seconds per modelled AWS minute (default 30)")
    parser.add_argument("--smoke", action="store_true", help="a tiny scale, to check the benchmark works")
    args = parser.parse_args(argv)
    scale = 0.05 if args.smoke else args.scale
    if scale <= 0:
        parser.error("--scale must be positive")
    print(report(measure(scale)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
