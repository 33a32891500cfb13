"""Run the test playbooks of tests/modules/playbooks as a user does: through
ansible-playbook with the project's ansible.cfg and local inventory, against
the test emulator (EMULATOR_PORT), and read every task's result from the JSON
stdout callback."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


@dataclass
class Run:
    returncode: int
    output: dict
    stderr: str
    requests: list = field(default_factory=list)  # the emulator's request log of this run (four_runs only)

    def results(self) -> dict[str, dict]:
        """{task name: result} of the tasks that ran (one host per task here)."""
        results = {}
        for play in self.output.get("plays", []):
            for task in play["tasks"]:
                for result in task["hosts"].values():
                    results[task["task"]["name"]] = result
        return results

    def changed(self) -> dict[str, bool]:
        return {name: bool(result.get("changed")) for name, result in self.results().items()}

    def failures(self) -> dict[str, str]:
        return {name: r.get("msg", "") for name, r in self.results().items() if r.get("failed")}


def start_playbook(emulator, playbook: str, variables: dict, tmp_path: Path, check: bool = False) -> subprocess.Popen:
    """Start ansible-playbook in the background; ``finish`` waits for it and reads its results."""
    extra = tmp_path / "extra-vars.json"
    extra.write_text(json.dumps(variables))
    env = {
        **os.environ,
        "EMULATOR_PORT": str(emulator.port),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }
    command = ["ansible-playbook", str(PLAYBOOKS / playbook), "-e", f"@{extra}"]
    if check:
        command.append("--check")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> Run:
    stdout, stderr = process.communicate(timeout=600)
    try:
        output = json.loads(stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"ansible-playbook printed no JSON:\n{stdout}\n{stderr}") from e
    return Run(process.returncode, output, stderr)


def run_playbook(emulator, playbook: str, variables: dict, tmp_path: Path, check: bool = False) -> Run:
    return finish(start_playbook(emulator, playbook, variables, tmp_path, check))


def four_runs(emulator, playbook: str, variables: dict, tmp_path: Path) -> list[Run]:
    """Check mode, apply, check mode, apply: the amazon.aws integration pattern.

    Each run keeps the emulator's request log of its own calls (``requests``).
    """
    runs = []
    for index, check in enumerate((True, False, True, False)):
        emulator.control.reset_requests()
        run = run_playbook(emulator, playbook, variables, tmp_path, check=check)
        assert run.returncode == 0, f"run {index + 1} failed: {run.failures()}\n{run.stderr}"
        run.requests = emulator.control.requests()
        runs.append(run)
    return runs


def mutating(run: Run) -> list[str]:
    """Actions of a run that changed something (answered faults excluded)."""
    return [e["action"] for e in run.requests if e["mutating"] and not e.get("fault")]


def count(run: Run, action: str) -> int:
    return sum(1 for e in run.requests if e["action"] == action)
