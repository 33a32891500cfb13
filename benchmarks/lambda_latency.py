"""Latency of the connection-test function: cold, warm and connect-every-time invocations.

    python benchmarks/lambda_latency.py [--iterations 30]

Starts its own PostgreSQL (TLS required, checked with verify-full; tests/lambda/support.py) and its own AWS
emulator for STS, then times the handler in three modes:

- cold: a new Python process imports the function module and invokes it once (boto3 and psycopg2 imports,
  clients, assume role, token, DNS, TCP, TLS, authentication, query). Timed inside that process from before the
  import to the answer: the interpreter's own start-up is left out.
- warm: later invocations in one process: kept credentials and connection, only the query.
- connect-every-time: what the CDK sample did: assume role, sign a token, connect, query (and close) every time.

The local server cannot check IAM tokens: the token is really signed, then the test password is sent instead.
Prints median and p95 (nearest rank) of each mode and the ratio connect-every-time / warm of the medians.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = ROOT / "lambda" / "src"
sys.path[:0] = [str(ROOT), str(LAMBDA_SRC)]

# Imported once the paths above are set; "tests.lambda" cannot be named in an import statement (a keyword).
connection_test = importlib.import_module("connection_test")
accounts = importlib.import_module("emulator.accounts")
EmulatorControl = importlib.import_module("emulator.client").EmulatorControl
support = importlib.import_module("tests.lambda.support")

REGION = "eu-west-1"
TARGET_RATIO = 10

COLD_INVOCATION = """
import json, os, sys, time
started = time.perf_counter()
sys.path.insert(0, os.environ["BENCH_LAMBDA_SRC"])
import connection_test
def sign(config, credentials):
    connection_test.sign_token(config, credentials)
    return os.environ["BENCH_DB_PASSWORD"]
connection_test._TESTER = connection_test.ConnectionTester(sign_token=sign)
response = connection_test.handler({}, None)
elapsed = (time.perf_counter() - started) * 1000
print(json.dumps({"ms": elapsed, "response": response}))
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _check(response: dict, mode: str) -> None:
    if response["statusCode"] != 200:
        raise SystemExit(f"{mode}: the invocation failed: {response['body']}")


def time_in_process(tester, iterations: int, mode: str) -> list[float]:
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        response = tester.invoke(os.environ)
        timings.append((time.perf_counter() - started) * 1000)
        _check(response, mode)
    return timings


def time_cold(iterations: int) -> list[float]:
    env = {**os.environ, "BENCH_LAMBDA_SRC": str(LAMBDA_SRC), "BENCH_DB_PASSWORD": support.TEST_PASSWORD}
    timings = []
    for _ in range(iterations):
        run = subprocess.run(
            [sys.executable, "-c", COLD_INVOCATION], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        result = json.loads(run.stdout)
        _check(result["response"], "cold")
        timings.append(result["ms"])
    return timings


def start_emulator(state_dir: str) -> tuple[int, dict]:
    port = support.free_port()
    env = {**os.environ, "EMULATOR_STATE_DIR": state_dir}
    subprocess.run(
        [sys.executable, "-m", "emulator", "start", "--port", str(port)],
        cwd=ROOT, env=env, check=True, timeout=120, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return port, env


def stop_emulator(port: int, env: dict) -> None:
    subprocess.run(
        [sys.executable, "-m", "emulator", "stop", "--port", str(port)],
        cwd=ROOT, env=env, check=False, timeout=60, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def function_environment(url: str, pg) -> dict[str, str]:
    application = accounts.load().by_name("application-a")
    return {
        "AWS_ACCESS_KEY_ID": application.access_key_id,
        "AWS_SECRET_ACCESS_KEY": application.secret_access_key,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": url,
        "DATABASE_ACCOUNT_IAM_ROLE": support.CONNECT_ROLE_ARN,
        **pg.environment(),
    }


def run(iterations: int) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="bench-emulator-") as state_dir,
        support.PostgresServer(with_standby=False) as pg,
    ):
        port, emulator_env = start_emulator(state_dir)
        try:
            url = f"http://127.0.0.1:{port}"
            for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_STS"):
                os.environ.pop(name, None)
            os.environ.update(function_environment(url, pg))
            control = EmulatorControl(url)
            results, sts_calls = {}, {}

            control.reset_requests()
            results["cold"] = time_cold(iterations)
            sts_calls["cold"] = _assume_role_calls(control)

            signer = support.PasswordSigner(connection_test.sign_token)
            warm = connection_test.ConnectionTester(sign_token=signer)
            _check(warm.invoke(os.environ), "warm")  # the first invocation is a cold one
            control.reset_requests()
            results["warm"] = time_in_process(warm, iterations, "warm")
            sts_calls["warm"] = _assume_role_calls(control)
            warm.close()

            every_time = connection_test.ConnectionTester(sign_token=signer, reuse=False)
            _check(every_time.invoke(os.environ), "connect-every-time")  # clients created, as in a warm process
            control.reset_requests()
            results["connect-every-time"] = time_in_process(every_time, iterations, "connect-every-time")
            sts_calls["connect-every-time"] = _assume_role_calls(control)
        finally:
            stop_emulator(port, emulator_env)

    print(f"connection test latency, {iterations} invocations per mode: PostgreSQL over TLS (verify-full) on")
    print("127.0.0.1, STS on the local emulator")
    print(f"{'mode':<20} {'median ms':>10} {'p95 ms':>10} {'AssumeRole calls':>18}")
    for mode, values in results.items():
        median, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"{mode:<20} {median:>10.2f} {p95:>10.2f} {sts_calls[mode]:>18}")
    ratio = statistics.median(results["connect-every-time"]) / statistics.median(results["warm"])
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"connect-every-time / warm (medians): {ratio:.1f}x (target >= {TARGET_RATIO}x: {verdict})")
    return 0


def _assume_role_calls(control) -> int:
    return sum(1 for entry in control.requests() if entry["action"] == "AssumeRole")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", "-n", type=int, default=30, help="invocations per mode (default 30)")
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    return run(args.iterations)


if __name__ == "__main__":
    sys.exit(main())
