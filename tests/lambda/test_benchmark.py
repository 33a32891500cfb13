"""The latency benchmark runs the whole local path to the end and prints its figures (a smoke test: no timing is
asserted). It needs what the emulator's data plane needs to run a function (network namespaces: root)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.dataplane import network

ROOT = Path(__file__).resolve().parents[2]
ITERATIONS = 2
NUMBER = r"\d+\.\d\d"


@pytest.mark.slow
@pytest.mark.skipif(network.availability() is not None, reason=str(network.availability()))
def test_benchmark_prints_every_row_and_ratio():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "lambda_latency.py"), "--iterations", str(ITERATIONS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    out = run.stdout
    assert re.search(r"^function interpreter: .+; PostgreSQL TLS: (server|front)$", out, re.MULTILINE), out
    queries = ITERATIONS * 10
    rows = (
        # (label, how many values, AssumeRole calls the emulator received during the row)
        ("cold invoke, client", ITERATIONS, str(ITERATIONS)),
        ("cold invoke, function total", ITERATIONS, str(ITERATIONS)),
        ("cold invoke, Init Duration", ITERATIONS, str(ITERATIONS)),
        ("warm invoke, client", ITERATIONS, "0"),
        ("warm invoke, function total", ITERATIONS, "0"),
        ("fresh invoke, client", ITERATIONS, str(ITERATIONS)),
        ("fresh invoke, function total", ITERATIONS, str(ITERATIONS)),
        ("proxy listener, connection", ITERATIONS, "-"),
        ("reader direct, connection", ITERATIONS, "-"),
        ("proxy listener, SELECT 1", queries, "-"),
        ("reader direct, SELECT 1", queries, "-"),
    )
    for label, count, calls in rows:
        line = rf"^{re.escape(label)} +{count} +{NUMBER} +{NUMBER} +{re.escape(calls)}$"
        assert re.search(line, out, re.MULTILINE), f"{label}:\n{out}"
    ratios = (
        r"fresh / warm, function total \(medians\): \d+\.\dx \(target >= 10x: (met|NOT met)\)",
        r"fresh / warm, client \(medians\): \d+\.\dx",
        r"proxy / direct, per connection \(medians\): \d+\.\d\dx",
        r"proxy / direct, per query \(medians\): \d+\.\d\dx",
    )
    for ratio in ratios:
        assert re.search(rf"^{ratio}$", out, re.MULTILINE), f"{ratio}:\n{out}"
