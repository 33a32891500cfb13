"""The helper that kills a run part-way leaves none of its processes behind."""

from __future__ import annotations

import subprocess
import sys
import time

from .helpers import _alive, _kill_run

# A parent that forks a child which starts a session of its own, as Ansible's
# workers do (os.setsid): outside the parent's process group.
TREE = """
import os, sys, time
pid = os.fork()
if pid == 0:
    os.setsid()
    print(os.getpid(), flush=True)
    time.sleep(300)
else:
    time.sleep(300)
"""


def test_a_killed_run_leaves_no_worker_behind():
    process = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True, start_new_session=True)
    worker = int(process.stdout.readline())
    assert _alive(worker)
    started = time.monotonic()
    _kill_run(process)
    assert not _alive(process.pid)
    assert not _alive(worker)
    assert time.monotonic() - started < 30
