"""Command line: ``python -m emulator {start,stop,status,serve,config,requests}``.

``start`` runs the emulator in the background on 127.0.0.1 and waits until it
answers; ``stop`` ends it.  The process ID and log live in ``.emulator/``
(``EMULATOR_STATE_DIR``).  The port is ``--port`` or ``EMULATOR_PORT``
(default 4566).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

from . import DEFAULT_PORT
from .client import EmulatorControl
from .settings import ENV_DELAY_SCALE, ENV_FAULT_RATE, ENV_FAULT_SEED

STATE_DIR = Path(os.environ.get("EMULATOR_STATE_DIR", Path(__file__).resolve().parent.parent / ".emulator"))


def _port(args) -> int:
    return int(args.port or os.environ.get("EMULATOR_PORT", DEFAULT_PORT))


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _pid_file(port: int) -> Path:
    return STATE_DIR / f"emulator-{port}.pid"


def _alive(port: int) -> bool:
    try:
        EmulatorControl(_url(port)).health()
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def cmd_serve(args) -> int:
    from .server import EmulatorServer
    from .settings import SETTINGS

    SETTINGS.update(delay_scale=args.delay_scale, fault_rate=args.fault_rate, fault_seed=args.fault_seed)
    server = EmulatorServer(port=_port(args), accounts_file=args.accounts)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"emulator listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.serve_forever()
    return 0


def cmd_start(args) -> int:
    port = _port(args)
    if _alive(port):
        print(f"emulator already running on {_url(port)}")
        return 0
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    log = open(STATE_DIR / f"emulator-{port}.log", "ab")  # noqa: SIM115 (handed to the child)
    command = [
        sys.executable, "-m", "emulator", "serve", "--port", str(port),
        "--delay-scale", str(args.delay_scale), "--fault-rate", str(args.fault_rate),
        "--fault-seed", str(args.fault_seed),
    ]  # fmt: skip
    if args.accounts:
        command += ["--accounts", args.accounts]
    process = subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _pid_file(port).write_text(str(process.pid))
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"emulator exited with {process.returncode}; see {log.name}", file=sys.stderr)
            return 1
        if _alive(port):
            print(f"emulator running on {_url(port)} (pid {process.pid})")
            return 0
        time.sleep(0.2)
    print(f"emulator did not answer within {args.timeout}s; see {log.name}", file=sys.stderr)
    process.terminate()
    return 1


def cmd_stop(args) -> int:
    port = _port(args)
    pid_file = _pid_file(port)
    if not pid_file.exists():
        print(f"no emulator started on port {port}")
        return 0
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)
    print(f"emulator on port {port} stopped")
    return 0


def cmd_status(args) -> int:
    port = _port(args)
    if _alive(port):
        print(json.dumps(EmulatorControl(_url(port)).config(), indent=2))
        return 0
    print(f"no emulator answers on {_url(port)}")
    return 3


def cmd_config(args) -> int:
    values = {}
    for item in args.settings:
        key, _, value = item.partition("=")
        key = key.replace("-", "_")
        if key.startswith("aws_minutes."):  # aws_minutes.db_cluster=30
            values.setdefault("aws_minutes", {})[key.partition(".")[2]] = value
        else:
            values[key] = (
                [v for v in value.split(",") if v]
                if key in ("fault_services", "hold", "retired_engine_versions")
                else value
            )
    try:
        settings = EmulatorControl(_url(_port(args))).configure(**values)
    except urllib.error.HTTPError as exc:
        error = json.loads(exc.read() or b"{}").get("error", exc.reason)
        print(f"emulator: {error}", file=sys.stderr)
        return 1
    print(json.dumps(settings, indent=2))
    return 0


def cmd_requests(args) -> int:
    control = EmulatorControl(_url(_port(args)))
    if args.reset:
        control.reset_requests()
        return 0
    print(json.dumps(control.request_counts(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help=f"loopback port (EMULATOR_PORT, default {DEFAULT_PORT})")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "serve"):
        p = sub.add_parser(name, help="run in the background" if name == "start" else "run in the foreground")
        p.add_argument("--port", type=int, default=argparse.SUPPRESS)
        p.add_argument("--delay-scale", type=float, default=float(os.environ.get(ENV_DELAY_SCALE, 0) or 0),
                       help="seconds of emulation per minute of AWS provisioning (0 = off)")  # fmt: skip
        p.add_argument("--fault-rate", type=float, default=float(os.environ.get(ENV_FAULT_RATE, 0) or 0),
                       help="fraction of AWS calls answered with throttling or a server error")  # fmt: skip
        p.add_argument("--fault-seed", type=int, default=int(os.environ.get(ENV_FAULT_SEED, 0) or 0))
        p.add_argument("--accounts", help="accounts file (default: emulator/accounts.yml)")
        p.add_argument("--timeout", type=float, default=60.0, help=argparse.SUPPRESS)
    for name in ("stop", "status"):
        sub.add_parser(name).add_argument("--port", type=int, default=argparse.SUPPRESS)
    p = sub.add_parser("config", help="show or change settings: config delay_scale=0.5 fault_rate=0.2")
    p.add_argument("--port", type=int, default=argparse.SUPPRESS)
    p.add_argument("settings", nargs="*")
    p = sub.add_parser("requests", help="print the request counts per account, service and action")
    p.add_argument("--port", type=int, default=argparse.SUPPRESS)
    p.add_argument("--reset", action="store_true", help="empty the request log")
    args = parser.parse_args(argv)
    handler = {
        "serve": cmd_serve,
        "start": cmd_start,
        "stop": cmd_stop,
        "status": cmd_status,
        "config": cmd_config,
        "requests": cmd_requests,
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
