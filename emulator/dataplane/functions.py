"""``Invoke`` runs the deployed function as Lambda does.

Each execution environment is a directory and a worker process:

- **Code and layers as uploaded.** The function's zip (moto keeps it as ``fn.code_bytes``) is unpacked into
  ``task/``, the stand-in for ``/var/task``: the working directory and the first entry of ``sys.path``. Each
  layer's zip (``LayerVersion.code_bytes``), in the function's order, is unpacked into ``opt/``, the stand-in for
  ``/opt``; a later layer's file replaces an earlier one's (Lambda Developer Guide, "Adding layers to functions":
  the order in which the layers are added is the order in which Lambda merges their content). For Python,
  ``opt/python`` and ``opt/python/lib/python3.X/site-packages`` go on ``sys.path`` (Lambda Developer Guide,
  "Working with layers for Python Lambda functions", and "Packaging your layer content", "Layer paths for each
  Lambda runtime"), after the function's directory and before the runtime's own libraries (Lambda Developer Guide,
  "Working with .zip file archives for Python Lambda functions", "Dependency search path and runtime-included
  libraries").
- **The runtime's interpreter**: CPython of the runtime's version (``python3.12`` -> 3.12) when the machine has
  one: ``<pyenv root>/versions/3.12.*/bin/python3.12`` (the newest patch release first; the root from
  ``pyenv root``, else ``$PYENV_ROOT``, else ``~/.pyenv``), then ``python3.12`` on ``PATH``; each candidate is run
  once to check that it is CPython 3.12 (pyenv's shims are on ``PATH`` but fail for versions not selected).
  Otherwise the host's interpreter (``sys.executable``) runs the function, and the answer says so (log tail's
  first line, ``X-Emulator-Interpreter``, ``Invocation.interpreter``). A layer built for the runtime cannot be
  imported by another CPython when it holds extension modules (``*.cpython-312-*.so``); for each package of a
  layer with such modules the host's own installation of the same distribution (``importlib.metadata``: for
  psycopg2, the host's ``psycopg2-binary``, its ``.libs`` directory and metadata) is linked into ``host-build/``,
  which precedes the layers on ``sys.path``; pure-Python layer content is used as uploaded.
- **The runtime's AWS SDK**: Lambda's Python runtimes include the AWS SDK for Python, boto3 and botocore (Lambda
  Developer Guide, "Building Lambda functions with Python", and "Working with .zip file archives for Python Lambda
  functions", "Runtime-included libraries"). The interpreter gets the host's pure-Python ``boto3``,
  ``botocore``, ``s3transfer``, ``jmespath``, ``dateutil``, ``six`` and ``urllib3`` through a directory of links
  placed after the layers on ``sys.path``. The interpreter runs with ``-S`` (no site-packages of its own: the
  search path is the runtime's only), ``-u`` and ``-X pycache_prefix=<the emulator's cache>``: ``/var/task`` is
  read-only on Lambda, so no bytecode is written next to the code; the cache keeps the SDK's compiled modules
  from one cold start to the next.
- **Environment**: the function's ``Environment.Variables``, then Lambda's defined runtime variables (Lambda
  Developer Guide, "Working with Lambda environment variables", "Defined runtime environment variables"):
  ``_HANDLER``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, ``AWS_EXECUTION_ENV`` (``AWS_Lambda_<runtime>``),
  ``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, ``AWS_LAMBDA_FUNCTION_VERSION``,
  ``AWS_LAMBDA_INITIALIZATION_TYPE`` (``on-demand``), ``AWS_LAMBDA_LOG_GROUP_NAME``, ``AWS_LAMBDA_LOG_STREAM_NAME``,
  ``LAMBDA_TASK_ROOT``, ``LAMBDA_RUNTIME_DIR``, ``TZ`` (``:UTC``) and the execution role's
  ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, obtained through the emulator's STS as
  Lambda obtains them (``iam_auth.assume_role_for_service(role, "lambda.amazonaws.com", <function name>)``; the
  session is named after the function, so the function's identity is
  ``arn:aws:sts::<account>:assumed-role/<role>/<function name>``). ``LANG``, ``PATH`` and ``LD_LIBRARY_PATH``
  have Lambda's defaults unless configured. ``AWS_CA_BUNDLE`` names the emulator's CA (it stands in for the
  Amazon roots the runtime trusts); ``HOME`` is a directory of the environment's own, so that no AWS
  configuration file of the host reaches the function; ``TMPDIR`` is the environment's own ``/tmp``. No endpoint
  URL is set: the function reaches AWS services at their usual names, which its network namespace resolves.
- **Network**: the worker starts with ``network.sandbox_for(fn).argv_prefix`` in front, inside the function's
  network namespace. When the namespace cannot be made (``Sandbox.unavailable``), or the data plane is off, the
  answer is the ``EmulatorCannotRunCode`` function error with the reason, as before the data plane.

**Warm environments** (Lambda Developer Guide, "Understanding the Lambda execution environment lifecycle"): the
first invocation of an environment runs INIT (the handler's module is imported once), later ones reuse it, so
module-level state survives between invocations. Concurrent invocations of one function each get an environment
(a new one when none is idle), as Lambda scales out ("Understanding Lambda function scaling"); a function's
reserved concurrency caps them (``TooManyRequestsException``, "Rate Exceeded.", reason
``ReservedFunctionConcurrentInvocationLimitExceeded``: Lambda API reference, "Invoke", Errors). An environment
ends when the function's code or configuration changes (``release``, called by ``UpdateFunctionCode``,
``UpdateFunctionConfiguration`` and ``DeleteFunction``; an environment busy at that moment ends after its
invocation), after a timeout or a crash (Lambda resets the environment), when the role's credentials would expire
during an invocation, and at ``stop()`` (the emulator's stop, and the process's exit).

**Answers** (Lambda API reference, "Invoke"): ``RequestResponse``: status 200, the handler's result as JSON (bytes
as they are); a handler error: ``X-Amz-Function-Error: Unhandled`` and the runtime's error payload
``{"errorMessage", "errorType", "requestId", "stackTrace"}``; the timeout (the function's ``Timeout``, 3 s by
default): ``{"errorMessage": "<date> <request id> Task timed out after N.NN seconds"}``, ``Unhandled``, and the
environment is killed; a runtime that exits: ``Runtime.ExitError``. ``LogType: Tail``: ``X-Amz-Log-Result`` is
the base64 of the last 4 KB of the invocation's log: the function's output between ``START RequestId: <id>
Version: <version>`` and ``END RequestId: <id>``, then ``REPORT RequestId: <id>`` with ``Duration``,
``Billed Duration``, ``Memory Size``, ``Max Memory Used`` (the worker's peak resident size) and, after INIT,
``Init Duration`` (Lambda Developer Guide, "Working with Lambda function logs"); the emulator adds one first
line, ``EMULATOR Interpreter: ...``, saying which interpreter ran. ``DryRun``: 204, nothing runs. ``Event``: 202,
the invocation runs in the background (no retries).

Nothing secret is written to a log: the credentials reach the worker through its environment only.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime
import importlib.metadata
import importlib.util
import json
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..settings import SETTINGS

BOOTSTRAP = Path(__file__).resolve().with_name("function_bootstrap.py")
LAMBDA_SERVICE = "lambda.amazonaws.com"

NOT_RUN_ERROR = "EmulatorCannotRunCode"
NOT_RUN_MESSAGE = (
    "The local AWS emulator does not run Lambda function code here. "
    "Invoke the function on AWS to exercise the data path."
)
ROLE_REFUSED = "The role defined for the function cannot be assumed by Lambda."

# The AWS SDK that Lambda's Python runtimes include, given to the runtime's interpreter from the host.
SDK_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")

LOG_TAIL_BYTES = 4096  # Invoke: X-Amz-Log-Result holds "the last 4 KB of the execution log"
INIT_TIMEOUT = 10.0  # seconds: "The Init phase is limited to 10 seconds" (execution environment lifecycle)
DEFAULT_TIMEOUT = 3  # seconds: CreateFunction's default Timeout
DEFAULT_MEMORY = 128  # MB: CreateFunction's default MemorySize
LOG_FILE_LIMIT = 1 << 20  # the log file of an environment is emptied between invocations beyond this size
CREDENTIALS_MARGIN = 60.0  # seconds of validity the role's credentials must keep beyond an invocation's timeout
STOP_GRACE = 5.0  # seconds to wait for a killed worker to be reaped

_PYTHON_RUNTIME = re.compile(r"python(3\.\d+)")


# --------------------------------------------------------------------------------------------------------------
# answers
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Invocation:
    """What ``Invoke`` answers: HTTP status, payload, ``X-Amz-Function-Error``, ``X-Amz-Log-Result`` (base64,
    with ``LogType: Tail``) and the interpreter that ran (or would have run) the code."""

    status_code: int
    payload: bytes
    function_error: str | None
    log_result: str | None
    interpreter: str


class InvokeRefused(Exception):
    """An ``Invoke`` error of the Lambda API (the request is refused; nothing ran)."""

    def __init__(self, code: str, message: str, status: int, reason: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.reason = code, message, status, reason


def not_run_payload(reason: str) -> bytes:
    return json.dumps({"errorType": NOT_RUN_ERROR, "errorMessage": f"{NOT_RUN_MESSAGE} Reason: {reason}"}).encode()


# --------------------------------------------------------------------------------------------------------------
# interpreters
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # "3.12.1"
    wanted: str  # the runtime's version, "3.12"

    @property
    def matches(self) -> bool:
        return self.version.split(".")[:2] == self.wanted.split(".")

    def describe(self) -> str:
        if self.matches:
            return f"{self.path} (CPython {self.version})"
        return f"{self.path} (CPython {self.version}, the host's: no CPython {self.wanted} on this machine)"


def runtime_version(runtime: str | None) -> str | None:
    """``python3.12`` -> ``3.12``; None for a runtime that is not Python's."""
    match = _PYTHON_RUNTIME.fullmatch(runtime or "")
    return match.group(1) if match else None


def pyenv_roots() -> list[Path]:
    """Where pyenv keeps its versions: ``pyenv root`` (pyenv on PATH), ``$PYENV_ROOT``, ``~/.pyenv``."""
    roots: list[Path] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            answer = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=10, check=False)
            if answer.returncode == 0 and answer.stdout.strip():
                roots.append(Path(answer.stdout.strip()))
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    roots.append(Path.home() / ".pyenv")
    unique: list[Path] = []
    for root in roots:
        if root not in unique and root.is_dir():
            unique.append(root)
    return unique


def _probe(path: str) -> str | None:
    """The CPython version (``3.12.1``) that ``path`` runs, or None if it does not run or is not CPython."""
    code = "import platform, sys; print(platform.python_implementation(), '%d.%d.%d' % sys.version_info[:3])"
    try:
        answer = subprocess.run([path, "-S", "-c", code], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    words = answer.stdout.split()
    if answer.returncode != 0 or len(words) != 2 or words[0] != "CPython":
        return None
    return words[1]


def _candidates(version: str) -> list[str]:
    found: list[str] = []
    pattern = re.compile(rf"{re.escape(version)}\.(\d+)")
    for root in pyenv_roots():
        versions = root / "versions"
        if not versions.is_dir():
            continue
        matching = [(int(m.group(1)), d) for d in versions.iterdir() if (m := pattern.fullmatch(d.name))]
        for _, directory in sorted(matching, reverse=True):
            binary = directory / "bin" / f"python{version}"
            if os.access(binary, os.X_OK):
                found.append(str(binary))
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    return found


@cache
def find_interpreter(version: str) -> Interpreter | None:
    """A CPython ``version`` interpreter of this machine (see the module's docstring), or None."""
    for candidate in _candidates(version):
        found = _probe(candidate)
        if found is not None and found.split(".")[:2] == version.split("."):
            return Interpreter(candidate, found, version)
    return None


def interpreter_for(runtime: str | None) -> Interpreter | None:
    """The interpreter that runs a function of this runtime: the runtime's own, else the host's; None for a
    runtime that is not Python's."""
    version = runtime_version(runtime)
    if version is None:
        return None
    found = find_interpreter(version)
    if found is not None:
        return found
    host = ".".join(str(part) for part in sys.version_info[:3])
    return Interpreter(sys.executable, host, version)


# --------------------------------------------------------------------------------------------------------------
# files: the SDK, code, layers, the host's build of a layer
# --------------------------------------------------------------------------------------------------------------
_root: Path | None = None
_root_lock = threading.Lock()


def _root_dir() -> Path:
    global _root
    with _root_lock:
        if _root is None or not _root.is_dir():
            _root = Path(tempfile.mkdtemp(prefix="emulator-functions-"))
        return _root


_sdk_lock = threading.Lock()


def _sdk_dir() -> Path:
    """A directory of links to the host's pure-Python AWS SDK: the runtime's ``boto3`` and its dependencies."""
    directory = _root_dir() / "runtime-sdk"
    with _sdk_lock:
        if directory.is_dir():
            return directory
        partial = Path(tempfile.mkdtemp(prefix="runtime-sdk-", dir=directory.parent))
        for name in SDK_MODULES:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                continue
            source = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
            (partial / source.name).symlink_to(source, target_is_directory=source.is_dir())
        partial.rename(directory)
        return directory


def _unzip(data: bytes, destination: Path) -> None:
    """Unpack a zip as Lambda does: paths inside ``destination``, Unix permissions kept."""
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, destination))
            mode = (info.external_attr >> 16) & 0o777
            if info.create_system == 3 and mode and not info.is_dir():
                target.chmod(mode | 0o400)


def _layer_paths(opt: Path, version: str) -> list[Path]:
    """Layer paths of a Python runtime, in sys.path order: python/lib/python3.X/site-packages, then python."""
    return [opt / "python" / "lib" / f"python{version}" / "site-packages", opt / "python"]


_EXTENSION = re.compile(r"\.cpython-(\d+)[a-z]*-[^.]*\.so$")


def _foreign_packages(layer_dirs: list[Path]) -> set[str]:
    """Top-level names in the layers whose extension modules were built for another CPython than this one."""
    own = f"{sys.version_info[0]}{sys.version_info[1]}"
    names = set()
    for base in layer_dirs:
        if not base.is_dir():
            continue
        for path in base.rglob("*.so"):
            parts = path.relative_to(base).parts
            if base.name == "python" and len(parts) > 2 and parts[0] == "lib" and parts[1].startswith("python"):
                continue  # python/lib/python3.X/site-packages is a layer path of its own
            match = _EXTENSION.search(path.name)
            if match and match.group(1) != own:
                names.add(parts[0].split(".")[0])
    return names


def _host_build(layer_dirs: list[Path], destination: Path) -> list[str]:
    """Link the host's installation of each foreign package's distribution into ``destination``; returns the
    distributions linked (``name version``)."""
    linked: list[str] = []
    providers = importlib.metadata.packages_distributions()
    for name in sorted(_foreign_packages(layer_dirs)):
        for dist_name in providers.get(name, []):
            dist = importlib.metadata.distribution(dist_name)
            tops = sorted({Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")})
            for top in tops:
                source = Path(str(dist.locate_file(top)))
                link = destination / top
                if source.exists() and not link.exists() and not link.is_symlink():
                    destination.mkdir(exist_ok=True)
                    link.symlink_to(source, target_is_directory=source.is_dir())
            linked.append(f"{dist.metadata['Name']} {dist.version}")
    return linked


def _layer_contents(fn: Any) -> list[bytes]:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[fn.account_id][fn.region]
    contents = []
    for layer in fn.layers or []:
        version = backend.layers_versions_by_arn(layer["Arn"])
        if version is None:
            raise InvokeRefused("ResourceNotFoundException", f"Layer version {layer['Arn']} does not exist.", 404)
        contents.append(version.code_bytes)
    return contents


# --------------------------------------------------------------------------------------------------------------
# the log
# --------------------------------------------------------------------------------------------------------------
def _timestamp(epoch: float | None = None) -> str:
    moment = datetime.datetime.fromtimestamp(time.time() if epoch is None else epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _tail(first_line: str, log: str) -> str:
    """base64 of the emulator's first line and the end of the log, 4 KB in all."""
    head = (first_line + "\n").encode()
    body = log.encode()
    room = max(LOG_TAIL_BYTES - len(head), 0)
    if len(body) > room:
        body = body[len(body) - room :]
    return base64.b64encode(head + body).decode()


# --------------------------------------------------------------------------------------------------------------
# execution environments
# --------------------------------------------------------------------------------------------------------------
def _version(fn: Any) -> str:
    return str(getattr(fn, "version", None) or "$LATEST")


def _key(fn: Any) -> tuple[str, str, str, str, str]:
    # The token tells apart a function from another one of the same name created later (after a delete or an
    # emulator reset); published versions copy it and differ by version.
    token = fn.__dict__.setdefault("_emulator_function_token", uuid.uuid4().hex)
    return fn.account_id, fn.region, fn.function_name, _version(fn), token


def _fingerprint(fn: Any) -> str:
    """What an environment was made from: any change means a new environment, as on Lambda."""
    return json.dumps(
        [
            getattr(fn, "code_digest", None) or getattr(fn, "code_sha_256", None),
            fn.handler,
            fn.run_time,
            sorted((fn.environment_vars or {}).items()),
            [layer.get("Arn") for layer in fn.layers or []],
            fn.role,
            str(fn.timeout),
            str(fn.memory_size),
            fn._vpc_config,
            getattr(fn, "architectures", None),
        ],
        default=str,
        sort_keys=True,
    )


def _timeout(fn: Any) -> float:
    return float(fn.timeout or DEFAULT_TIMEOUT)


def _credentials(fn: Any) -> dict:
    """The execution role's credentials for a new environment. When Lambda can no longer assume the role, the
    emulator refuses the invocation with the error and message Lambda gives when a function is created or updated
    with such a role (``InvalidParameterValueException``, "The role defined for the function cannot be assumed by
    Lambda."); no other documented Invoke error fits."""
    from . import iam_auth

    try:
        return iam_auth.assume_role_for_service(fn.role, LAMBDA_SERVICE, fn.function_name)
    except Exception as error:
        raise InvokeRefused("InvalidParameterValueException", ROLE_REFUSED, 400, reason=str(error)) from None


def _expiry(credentials: dict) -> float | None:
    expiration = credentials.get("Expiration")
    if isinstance(expiration, datetime.datetime):
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=datetime.UTC)
        return expiration.timestamp()
    return None


@dataclass
class _Outcome:
    kind: str  # "result" | "error" | "timeout" | "exit"
    payload: bytes = b""
    error: dict | None = None


@dataclass
class _Environment:
    key: tuple
    fingerprint: str
    interpreter: Interpreter
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="env-", dir=_root_dir())))
    process: subprocess.Popen | None = None
    responses: int | None = None  # the protocol pipe's reading end
    buffer: bytes = b""
    log_offset: int = 0
    started: float = 0.0  # time.monotonic() at the worker's start
    init_duration: float | None = None  # ms
    credentials_expire: float | None = None
    stream_name: str = ""
    notes: list[str] = field(default_factory=list)
    retired: bool = False
    closed: bool = False

    @property
    def log_path(self) -> Path:
        return self.directory / "log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and not self.closed

    def usable(self, fingerprint: str, fn: Any) -> bool:
        if self.retired or self.closed or fingerprint != self.fingerprint:
            return False
        if self.process is not None and not self.alive:
            return False
        return self.credentials_expire is None or time.time() + _timeout(fn) + CREDENTIALS_MARGIN < (
            self.credentials_expire
        )

    # -- start ---------------------------------------------------------------------------------------------
    def _prepare(self, fn: Any) -> tuple[list[str], dict[str, str]]:
        task, opt, tmp, home = (self.directory / name for name in ("task", "opt", "tmp", "home"))
        for directory in (task, opt, tmp, home):
            directory.mkdir()
        try:
            _unzip(fn.code_bytes, task)
            for content in _layer_contents(fn):
                _unzip(content, opt)
        except zipfile.BadZipFile as error:
            raise InvokeRefused(
                "InvalidZipFileException", f"Lambda was unable to unzip the deployment package: {error}", 502
            ) from None
        layer_dirs = _layer_paths(opt, self.interpreter.wanted)
        path = [str(task)]
        if not self.interpreter.matches:
            linked = _host_build(layer_dirs, self.directory / "host-build")
            if linked:
                path.append(str(self.directory / "host-build"))
                self.notes.append(
                    "layer packages built for CPython "
                    f"{self.interpreter.wanted} replaced by the host's: {', '.join(linked)}"
                )
        path += [str(p) for p in layer_dirs] + [str(_sdk_dir())]
        env = self._environment(fn, task, opt, tmp, home)
        return path, env

    def _environment(self, fn: Any, task: Path, opt: Path, tmp: Path, home: Path) -> dict[str, str]:
        from . import ca

        now = datetime.datetime.now(datetime.UTC)
        self.stream_name = f"{now:%Y/%m/%d}/[{_version(fn)}]{uuid.uuid4().hex}"
        credentials = _credentials(fn)
        self.credentials_expire = _expiry(credentials)
        # Lambda's defaults of the variables a configuration may change ("Defined runtime environment variables").
        env = {
            "LANG": "en_US.UTF-8",
            "PATH": f"/usr/local/bin:/usr/bin/:/bin:{opt}/bin",
            "LD_LIBRARY_PATH": f"{task}:{task}/lib:{opt}/lib",
        }
        env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
        # Reserved: what Lambda sets whatever the configuration says.
        env.update(
            {
                "_HANDLER": str(fn.handler or ""),
                "AWS_REGION": fn.region,
                "AWS_DEFAULT_REGION": fn.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size or DEFAULT_MEMORY),
                "AWS_LAMBDA_FUNCTION_VERSION": _version(fn),
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": self.stream_name,
                "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                "AWS_SESSION_TOKEN": credentials["SessionToken"],
                "LAMBDA_TASK_ROOT": str(task),
                "LAMBDA_RUNTIME_DIR": str(_sdk_dir()),
                "TZ": ":UTC",
                # The emulator's stand-ins for what the execution environment itself provides.
                "AWS_CA_BUNDLE": str(ca.authority().ca_file),
                "HOME": str(home),
                "TMPDIR": str(tmp),
            }
        )
        return env

    def start(self, fn: Any, argv_prefix: list[str]) -> None:
        """Start the worker; returns once it has begun INIT (``wait_init`` waits for its end)."""
        path, env = self._prepare(fn)
        self.responses, protocol_write = os.pipe()
        config = self.directory / "runtime.json"
        config.write_text(json.dumps({"path": path, "protocol_fd": protocol_write}))
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        cache = f"pycache_prefix={_root_dir() / 'pycache'}"
        argv = [*argv_prefix, self.interpreter.path, "-u", "-S", "-X", cache, str(BOOTSTRAP), str(config)]
        try:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=(protocol_write,),
                cwd=self.directory / "task",
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(log)
            os.close(protocol_write)
        self.started = time.monotonic()

    def wait_init(self, deadline: float) -> _Outcome | None:
        """None once INIT succeeded; else the outcome (init error, timeout, exit)."""
        message = self._receive(deadline)
        if message is None:
            return _Outcome("timeout")
        self.init_duration = (time.monotonic() - self.started) * 1000
        if message.get("type") == "exit":
            return _Outcome("exit")
        if message.get("error"):
            return _Outcome("error", error=message["error"])
        return None

    # -- the protocol ------------------------------------------------------------------------------------------
    def _receive(self, deadline: float) -> dict | None:
        """The next protocol message; ``{"type": "exit"}`` if the worker ended; None at the deadline."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.responses], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.responses, 65536)
            if not chunk:
                return {"type": "exit"}
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)

    def send(self, request: dict) -> bool:
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def read_log(self) -> str:
        """The log written since the last read."""
        try:
            with open(self.log_path, "rb") as file:
                file.seek(self.log_offset)
                data = file.read()
        except FileNotFoundError:
            return ""
        self.log_offset += len(data)
        if self.log_offset > LOG_FILE_LIMIT:  # the worker appends (O_APPEND): emptying the file is safe
            os.truncate(self.log_path, 0)
            self.log_offset = 0
        return _text(data)

    def max_memory_mb(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return math.ceil(int(line.split()[1]) / 1024)
        return None

    def exit_description(self) -> str:
        code = self.process.wait() if self.process is not None else None
        if code is None:
            return "exit status unknown"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
            return f"signal: {-code}"
        return f"exit status {code}"

    # -- the end -----------------------------------------------------------------------------------------------
    def kill(self) -> None:
        """End the worker and whatever it started (its process group); the files stay until ``close``."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_GRACE)
        with contextlib.suppress(OSError):
            process.stdin.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.kill()
        if self.responses is not None:
            with contextlib.suppress(OSError):
                os.close(self.responses)
            self.responses = None
        shutil.rmtree(self.directory, ignore_errors=True)


class _Pool:
    """The execution environments of every function: idle ones to reuse, busy ones counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[tuple, list[_Environment]] = {}
        self.busy: dict[tuple, set[int]] = {}
        self.environments: dict[int, _Environment] = {}

    def acquire(self, fn: Any, interpreter: Interpreter) -> _Environment:
        key, fingerprint = _key(fn), _fingerprint(fn)
        stale: list[_Environment] = []
        with self.lock:
            limit = _reserved_concurrency(fn)
            running = sum(len(ids) for k, ids in self.busy.items() if k[:3] == key[:3])
            if limit is not None and running >= limit:
                # A function's reserved concurrency caps its environments at work (Lambda API reference,
                # "Invoke", Errors: TooManyRequestsException, 429, Reason
                # ReservedFunctionConcurrentInvocationLimitExceeded).
                raise InvokeRefused(
                    "TooManyRequestsException",
                    "Rate Exceeded.",
                    429,
                    reason="ReservedFunctionConcurrentInvocationLimitExceeded",
                )
            idle = self.idle.setdefault(key, [])
            chosen = None
            while idle:
                environment = idle.pop()
                if environment.usable(fingerprint, fn) and environment.interpreter == interpreter:
                    chosen = environment
                    break
                stale.append(environment)
                self._forget(environment)
            if chosen is None:
                chosen = _Environment(key, fingerprint, interpreter)
                self.environments[id(chosen)] = chosen
            self.busy.setdefault(key, set()).add(id(chosen))
        for environment in stale:
            environment.close()
        return chosen

    def _forget(self, environment: _Environment) -> None:
        self.environments.pop(id(environment), None)
        for ids in self.busy.values():
            ids.discard(id(environment))

    def give_back(self, environment: _Environment) -> None:
        with self.lock:
            self.busy.get(environment.key, set()).discard(id(environment))
            keep = environment.alive and not environment.retired
            if keep:
                self.idle.setdefault(environment.key, []).append(environment)
            else:
                self.environments.pop(id(environment), None)
        if not keep:
            environment.close()

    def retire(self, match) -> None:
        """End the idle environments whose key satisfies ``match``; busy ones end after their invocation."""
        ending: list[_Environment] = []
        with self.lock:
            for key in list(self.idle):
                if match(key):
                    ending += self.idle.pop(key)
            for environment in list(self.environments.values()):
                if match(environment.key):
                    environment.retired = True
            for environment in ending:
                self.environments.pop(id(environment), None)
        for environment in ending:
            environment.close()

    def stop(self) -> None:
        with self.lock:
            everything = list(self.environments.values())
            self.environments.clear()
            self.idle.clear()
            self.busy.clear()
        for environment in everything:
            environment.retired = True
            environment.close()


_POOL = _Pool()


def _reserved_concurrency(fn: Any) -> int | None:
    value = getattr(fn, "reserved_concurrency", None)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------------------------
# one invocation
# --------------------------------------------------------------------------------------------------------------
def _unhandled(payload: dict) -> tuple[bytes, str]:
    return json.dumps(payload).encode(), "Unhandled"


def _run(fn: Any, argv_prefix: list[str], interpreter: Interpreter, event: bytes, tail: bool) -> Invocation:
    request_id = str(uuid.uuid4())
    timeout = _timeout(fn)
    environment = _POOL.acquire(fn, interpreter)
    lines: list[str] = []
    function_error: str | None = None
    payload = b""
    try:
        cold = environment.process is None
        outcome: _Outcome | None = None
        if cold:
            # INIT has its own limit; the function's timeout starts with the invocation.
            environment.start(fn, argv_prefix)
            outcome = environment.wait_init(environment.started + INIT_TIMEOUT)
            lines.append(environment.read_log())
            if outcome is not None and outcome.kind == "timeout":
                # Execution environment lifecycle: when INIT does not complete within its 10 seconds, Lambda
                # retries it at the first invocation, with the function's configured timeout: a new environment
                # whose INIT and invocation share that timeout.
                environment.retired = True
                _POOL.give_back(environment)
                environment = _POOL.acquire(fn, interpreter)
                environment.start(fn, argv_prefix)
                deadline = environment.started + timeout
                outcome = environment.wait_init(deadline)
                lines.append(environment.read_log())
            else:
                deadline = time.monotonic() + timeout
        else:
            deadline = time.monotonic() + timeout
        lines.append(f"START RequestId: {request_id} Version: {_version(fn)}")
        invoke_started = time.monotonic()
        if outcome is None:
            request = {
                "requestId": request_id,
                "event": _text(event),
                "deadlineMs": int((time.time() + (deadline - time.monotonic())) * 1000),
                "invokedFunctionArn": _invoked_arn(fn),
            }
            if not environment.send(request):
                outcome = _Outcome("exit")
            else:
                message = environment._receive(deadline)
                if message is None:
                    outcome = _Outcome("timeout")
                elif message["type"] == "exit":
                    outcome = _Outcome("exit")
                elif message["type"] == "error":
                    outcome = _Outcome("error", error=message["error"])
                elif "payloadBase64" in message:
                    outcome = _Outcome("result", payload=base64.b64decode(message["payloadBase64"]))
                else:
                    outcome = _Outcome("result", payload=message["payload"].encode())
        memory = environment.max_memory_mb() if environment.alive else None
        if outcome.kind == "timeout":
            environment.kill()  # after a timeout Lambda resets the execution environment (lifecycle page)
        lines.append(environment.read_log())
        duration = (time.monotonic() - invoke_started) * 1000
        status = None
        if outcome.kind == "result":
            payload = outcome.payload
        elif outcome.kind == "error":
            payload, function_error = _unhandled(outcome.error)
            if environment.init_duration is not None and cold:
                environment.retired = True  # an INIT error: the next invocation initialises again
        elif outcome.kind == "timeout":
            message = f"{_timestamp()} {request_id} Task timed out after {timeout:.2f} seconds"
            lines.append(message)
            payload, function_error = _unhandled({"errorMessage": message})
            status = "timeout"
        else:  # the runtime exited
            exit_text = environment.exit_description()
            message = f"RequestId: {request_id} Error: Runtime exited with error: {exit_text}"
            lines.append(message + "\nRuntime.ExitError")
            payload, function_error = _unhandled({"errorType": "Runtime.ExitError", "errorMessage": message})
            environment.retired = True
            status = "error"
        lines.append(f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {math.ceil(duration)} ms"
            f"\tMemory Size: {fn.memory_size or DEFAULT_MEMORY} MB"
        )
        if memory is not None:
            report += f"\tMax Memory Used: {memory} MB"
        if cold and environment.init_duration is not None:
            report += f"\tInit Duration: {environment.init_duration:.2f} ms"
        if status is not None:
            report += f"\tStatus: {status}"
        lines.append(report)
    finally:
        _POOL.give_back(environment)
    log = "".join(line if line.endswith("\n") else line + "\n" for line in lines if line)
    first = f"EMULATOR Interpreter: {interpreter.describe()}"
    if environment.notes:
        first += "; " + "; ".join(environment.notes)
    return Invocation(200, payload, function_error, _tail(first, log) if tail else None, interpreter.describe())


def _invoked_arn(fn: Any) -> str:
    arn = fn.function_arn
    version = _version(fn)
    if version != "$LATEST" and not arn.endswith(f":{version}"):
        arn = f"{arn}:{version}"
    return arn


def _why_not(fn: Any, interpreter: Interpreter | None) -> str | None:
    if not SETTINGS.data_plane:
        return "the data plane is off (setting data_plane)"
    if getattr(fn, "package_type", "Zip") != "Zip":
        return f"the emulator runs .zip functions only (this one is PackageType {fn.package_type})"
    if interpreter is None:
        return f"the emulator runs Python runtimes only (this function's runtime is {fn.run_time})"
    if not getattr(fn, "code_bytes", b""):
        return "the function has no code the emulator can read"
    return None


def invoke(fn: Any, payload: bytes | str | None, invocation_type: str | None, log_type: str | None) -> Invocation:
    """Invoke ``fn`` (a moto ``LambdaFunction``) as Lambda does; see the module's docstring.

    Raises ``InvokeRefused`` for errors of the Invoke API itself (the request is refused, nothing runs)."""
    invocation_type = invocation_type or "RequestResponse"
    interpreter = interpreter_for(fn.run_time)
    label = interpreter.describe() if interpreter is not None else f"none (runtime {fn.run_time})"
    if isinstance(payload, str):
        payload = payload.encode()
    event = payload or b"{}"
    try:
        json.loads(event)
    except ValueError as error:
        # Lambda API reference, "Invoke", Errors: InvalidRequestContentException (400), "The request body could
        # not be parsed as JSON".
        raise InvokeRefused(
            "InvalidRequestContentException", f"Could not parse request body into json: {error}", 400
        ) from None
    if invocation_type == "DryRun":
        return Invocation(204, b"", None, None, label)
    reason = _why_not(fn, interpreter)
    argv_prefix: list[str] = []
    if reason is None:
        from . import network

        sandbox = network.sandbox_for(fn)
        reason, argv_prefix = sandbox.unavailable, list(sandbox.argv_prefix)
    if reason is not None:
        if invocation_type == "Event":
            return Invocation(202, b"", None, None, label)
        return Invocation(200, not_run_payload(reason), "Unhandled", None, label)
    if invocation_type == "Event":
        threading.Thread(
            target=_run_in_background, args=(fn, argv_prefix, interpreter, event), daemon=True, name="lambda-event"
        ).start()
        return Invocation(202, b"", None, None, label)
    return _run(fn, argv_prefix, interpreter, event, tail=log_type == "Tail")


def _run_in_background(fn: Any, argv_prefix: list[str], interpreter: Interpreter, event: bytes) -> None:
    with contextlib.suppress(Exception):  # an asynchronous invocation's outcome goes nowhere but its log
        _run(fn, argv_prefix, interpreter, event, tail=False)


def release(fn: Any) -> None:
    """End the execution environments of ``fn`` (its version): idle ones now, busy ones after their invocation."""
    key = _key(fn)
    _POOL.retire(lambda other: other == key)


def stop() -> None:
    """End every execution environment (the emulator's stop, the process's exit) and remove their files."""
    global _root
    _POOL.stop()
    with _root_lock:
        if _root is not None:
            shutil.rmtree(_root, ignore_errors=True)
            _root = None


atexit.register(stop)
