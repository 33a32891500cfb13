"""Run the project's playbooks as a user does, against the test emulator."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCAL_INVENTORY = ROOT / "inventories" / "local"


def copy_inventory(tmp_path: Path, host_vars: dict | None = None, group_vars: dict | None = None) -> Path:
    """A copy of inventories/local with some variables changed.

    ``host_vars`` maps a host to the variables to set (a value of ``None``
    removes the variable); ``group_vars`` does the same for group ``all``.
    The copy sits in ``tmp_path/inventories/local`` so that paths relative to
    the inventory keep their shape.
    """
    target = tmp_path / "inventories" / "local"
    shutil.copytree(LOCAL_INVENTORY, target)
    edits = [(target / "group_vars" / "all.yml", group_vars or {})]
    edits += [(target / "host_vars" / f"{host}.yml", values) for host, values in (host_vars or {}).items()]
    for path, values in edits:
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
        for key, value in values.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target / "hosts.yml"


def _command(playbook: str, emulator, inventory: Path | None, extra_args: list[str] | None) -> tuple[list, dict]:
    env = {
        **os.environ,
        "EMULATOR_PORT": str(emulator.port),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PYTHONUNBUFFERED": "1",
    }
    command = ["ansible-playbook", playbook]
    if inventory:
        command += ["-i", str(inventory)]
    return command + (extra_args or []), env


def run_playbook(
    playbook: str,
    emulator,
    inventory: Path | None = None,
    extra_args: list[str] | None = None,
    timeout: int = 900,
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess:
    command, env = _command(playbook, emulator, inventory, extra_args)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def kill_playbook_at(
    playbook: str,
    emulator,
    inventory: Path,
    marker: str,
    extra_args: list[str] | None = None,
    timeout: int = 900,
) -> str:
    """Run a playbook and kill it (SIGKILL, with every worker process) once a
    line of its output matches the regular expression ``marker``: what a
    machine that dies mid-run leaves behind. Returns the
    output up to then; fails if the run ended before the marker."""
    killed = run_playbook_reacting(playbook, emulator, inventory, {marker: None}, extra_args, timeout)
    if killed.returncode is not None:
        raise AssertionError(f"the run ended before {marker!r}:\n" + killed.stdout[-6000:])
    return killed.stdout


def run_playbook_reacting(
    playbook: str,
    emulator,
    inventory: Path | None,
    reactions: dict[str, Callable[[], None] | None],
    extra_args: list[str] | None = None,
    timeout: int = 900,
) -> subprocess.CompletedProcess:
    """Run a playbook and, the first time a line of its output matches one of
    the regular expressions of ``reactions``, call its function (the run goes
    on), or, for ``None``, kill the run there (SIGKILL, with every worker
    process; the result's ``returncode`` is then ``None``). Output and errors
    are merged in ``stdout``. Fails if the run outlives ``timeout`` seconds."""
    command, env = _command(playbook, emulator, inventory, extra_args)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    pending = dict(reactions)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            for marker in [m for m in pending if re.match(m, line)]:
                action = pending.pop(marker)
                if action is None:
                    _kill_run(process)
                    return subprocess.CompletedProcess(command, None, "".join(lines), "")
                action()
            if time.monotonic() > deadline:
                raise AssertionError(f"the run took more than {timeout} s:\n" + "".join(lines)[-6000:])
        returncode = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            _kill_run(process)
    return subprocess.CompletedProcess(command, returncode, "".join(lines), "")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_run(process: subprocess.Popen) -> None:
    """SIGKILL a run and every process it started. Ansible's workers start
    sessions of their own (os.setsid), outside the run's process group: the
    group is stopped first, so that nothing forks, then every descendant is
    killed. Fails if any of them is still there afterwards."""
    os.killpg(process.pid, signal.SIGSTOP)
    doomed = [process.pid, *_descendants(process.pid)]
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alive = [pid for pid in doomed if _alive(pid)]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes of the killed run survived: {alive}")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie no longer does)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def recap(output: str) -> dict[str, dict[str, int]]:
    """Parse the PLAY RECAP lines into {host: {"ok": n, "changed": n, ...}}."""
    result = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and ":" in line:
            host, _, counters = line.partition(":")
            result[host.strip()] = {k: int(v) for k, v in (pair.split("=") for pair in counters.split())}
    return result


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
