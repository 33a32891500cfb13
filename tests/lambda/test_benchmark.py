"""The latency benchmark runs to the end and prints its figures (a smoke test: no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_prints_median_p95_and_ratio():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "lambda_latency.py"), "--iterations", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    number = r"\d+\.\d\d"
    for mode, assume_role_calls in (("cold", 2), ("warm", 0), ("connect-every-time", 2)):
        assert re.search(rf"^{mode} +{number} +{number} +{assume_role_calls}$", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^connect-every-time / warm \(medians\): \d+\.\dx", run.stdout, re.MULTILINE), run.stdout
