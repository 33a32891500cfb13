"""Invoke runs the deployed function (emulator/dataplane/functions.py): code and layers as uploaded, the runtime's
interpreter, the execution role's credentials, warm environments, Lambda's answers and logs.

The emulator runs in this process (its HTTP API on a free loopback port); functions are created and invoked
through boto3. Most tests run the function outside any network namespace (``network.sandbox_for`` answers an
empty prefix) and reach the emulator at its loopback URL when they need it; ``test_runs_inside_its_network``
uses the real namespace where the machine allows one, and otherwise checks the answer that says why the code
cannot run. Waiting is on conditions (files the functions write), never on durations.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import json
import os
import re
import sys
import textwrap
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import accounts as emulator_accounts
from emulator.dataplane import ca, functions, network
from emulator.settings import SETTINGS

REGION = "eu-west-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
NO_RETRIES = Config(retries={"total_max_attempts": 1}, read_timeout=120)

FACTS = textwrap.dedent(
    """
    import os, sys
    import greeting
    COUNT = 0
    PID = os.getpid()
    print("init: module imported")

    def handler(event, context):
        global COUNT
        COUNT += 1
        print("handling", event)
        import boto3
        return {
            "event": event,
            "count": COUNT,
            "pid": PID,
            "version": list(sys.version_info[:2]),
            "executable": sys.executable,
            "cwd": os.getcwd(),
            "path0": sys.path[0],
            "boto3": os.path.dirname(os.path.dirname(boto3.__file__)),
            "greeting": greeting.GREETING,
            "nested": __import__("nested").NAME,
            "env": {k: v for k, v in os.environ.items() if not k.startswith(("AWS_SECRET", "AWS_SESSION"))},
            "context": {
                "aws_request_id": context.aws_request_id,
                "function_name": context.function_name,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn,
                "log_group_name": context.log_group_name,
                "remaining": context.get_remaining_time_in_millis(),
            },
        }
    """
)
RAISES = "def handler(event, context):\n    raise ValueError('the function broke: ' + event['why'])\n"
# Sleeps far longer than its 1 s timeout unless told not to, so that only the timeout can end it.
SLEEPS = textwrap.dedent(
    """
    import os, time
    PID = os.getpid()

    def handler(event, context):
        if event.get("sleep"):
            time.sleep(60)
        return PID
    """
)
# Waits (up to its timeout) for a file the test creates, after creating one of its own.
WAITS = textwrap.dedent(
    """
    import os, time
    from pathlib import Path

    def handler(event, context):
        directory = Path(event["directory"])
        (directory / f"started-{os.getpid()}").touch()
        while not (directory / event["until"]).exists() and len(list(directory.glob("started-*"))) < event["peers"]:
            time.sleep(0.01)
        return os.getpid()
    """
)
WRITES = textwrap.dedent(
    """
    from pathlib import Path

    def handler(event, context):
        Path(event["file"]).write_text(context.aws_request_id)
        return "written"
    """
)
CALLER = textwrap.dedent(
    """
    import boto3

    def handler(event, context):
        kwargs = {"endpoint_url": event["endpoint"]} if event.get("endpoint") else {}
        return boto3.client("sts", **kwargs).get_caller_identity()["Arn"]
    """
)
CHATTY = "def handler(event, context):\n    for i in range(200):\n        print(f'line {i:03d} ' + 'x' * 60)\n"


def zipped(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@dataclass
class Emulator:
    server: object
    account: emulator_accounts.Account
    role_arn: str

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, service: str):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.server.url,
            aws_access_key_id=self.account.access_key_id,
            aws_secret_access_key=self.account.secret_access_key,
            config=NO_RETRIES,
        )

    def create(self, name: str, code: str, layers: list[str] | None = None, **kwargs) -> dict:
        return self.client("lambda").create_function(
            FunctionName=name,
            Runtime=kwargs.pop("Runtime", "python3.12"),
            Role=self.role_arn,
            Handler="handler.handler",
            Code={"ZipFile": zipped({"handler.py": code})},
            Layers=layers or [],
            **kwargs,
        )

    def invoke(self, name: str, event: object = None, **kwargs) -> dict:
        response = self.client("lambda").invoke(
            FunctionName=name, Payload=json.dumps(event if event is not None else {}).encode(), **kwargs
        )
        response["body"] = response["Payload"].read()
        if response["body"] and response["StatusCode"] == 200:
            response["json"] = json.loads(response["body"])
        if "LogResult" in response:
            response["log"] = base64.b64decode(response["LogResult"]).decode()
        response["interpreter"] = response["ResponseMetadata"]["HTTPHeaders"].get("x-emulator-interpreter")
        return response


@pytest.fixture(scope="module")
def emulator():
    from emulator.server import EmulatorServer

    server = EmulatorServer(port=0).start()
    try:
        account = emulator_accounts.load().by_name("application-a")
        iam = boto3.client(
            "iam",
            region_name=REGION,
            endpoint_url=server.url,
            aws_access_key_id=account.access_key_id,
            aws_secret_access_key=account.secret_access_key,
        )
        role = iam.create_role(RoleName="function-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
        yield Emulator(server, account, role["Arn"])
    finally:
        functions.stop()
        server.stop()
        server.app.reset()


@pytest.fixture
def local(monkeypatch):
    """Functions run outside any network namespace (on the host's network)."""
    monkeypatch.setattr(network, "sandbox_for", lambda fn: network.Sandbox(argv_prefix=[], unavailable=None))


def runtime_interpreter() -> functions.Interpreter | None:
    return functions.find_interpreter("3.12")


def request_id(log: str) -> str:
    return re.search(r"^START RequestId: (\S+) Version: \$LATEST$", log, re.M).group(1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition, what: str, limit: float = 30.0):
    """Poll a condition the code under test makes true (the limit only stops a broken test)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


# -----------------------------------------------------------------------------------------------------------------
def test_runs_code_and_layers_with_the_runtimes_interpreter_and_environment(emulator, local):
    lam = emulator.client("lambda")
    first = lam.publish_layer_version(
        LayerName="greetings",
        Content={
            "ZipFile": zipped(
                {"python/greeting.py": "GREETING = 'from layer one'\n", "python/only_one.py": "ONE = True\n"}
            )
        },
    )["LayerVersionArn"]
    second = lam.publish_layer_version(
        LayerName="greetings-override",
        Content={
            "ZipFile": zipped(
                {
                    "python/greeting.py": "GREETING = 'from layer two'\n",  # extracted last: it wins
                    "python/lib/python3.12/site-packages/nested.py": "NAME = 'site-packages of the layer'\n",
                }
            )
        },
    )["LayerVersionArn"]
    created = emulator.create(
        "facts", FACTS, layers=[first, second], MemorySize=256, Environment={"Variables": {"STAGE": "test"}}
    )
    answer = emulator.invoke("facts", {"hello": "world"}, LogType="Tail")

    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    body = answer["json"]
    assert body["event"] == {"hello": "world"}
    assert (body["greeting"], body["nested"]) == ("from layer two", "site-packages of the layer")
    found = runtime_interpreter()
    if found is not None:  # this machine has CPython 3.12: the runtime's own interpreter ran
        assert body["version"] == [3, 12]
        assert body["executable"] == found.path
        assert answer["interpreter"] == found.describe() and "the host's" not in answer["interpreter"]
    else:  # it has none: the host's interpreter ran, and the answer says so
        assert body["version"] == list(sys.version_info[:2])
        assert "the host's: no CPython 3.12 on this machine" in answer["interpreter"]
    assert answer["log"].splitlines()[0] == f"EMULATOR Interpreter: {answer['interpreter']}"

    # The function's directory is the working directory and first on sys.path; boto3 is the runtime's.
    env, context = body["env"], body["context"]
    assert body["cwd"] == body["path0"] == env["LAMBDA_TASK_ROOT"]
    assert body["boto3"] == env["LAMBDA_RUNTIME_DIR"]
    # Lambda's defined runtime environment variables, and the configured one.
    assert env["STAGE"] == "test"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "facts"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "handler.handler"
    assert env["TZ"] == ":UTC"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/facts"
    assert env["AWS_CA_BUNDLE"] == str(ca.authority().ca_file)
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")  # temporary credentials (an STS session)
    assert not [name for name in env if name.startswith("AWS_ENDPOINT_URL")]
    # The context object.
    assert context["function_name"] == "facts"
    assert context["memory_limit_in_mb"] == "256"
    assert context["invoked_function_arn"] == created["FunctionArn"]
    assert context["log_group_name"] == "/aws/lambda/facts"
    assert 0 < context["remaining"] <= 3000
    # The log: INIT's output, then START/END/REPORT around the function's, as Lambda writes them.
    log = answer["log"]
    rid = context["aws_request_id"]
    assert request_id(log) == rid
    assert log.index("init: module imported") < log.index(f"START RequestId: {rid}")
    assert "handling {'hello': 'world'}" in log
    assert f"\nEND RequestId: {rid}\n" in log
    report = log.splitlines()[-1]
    assert report.startswith(f"REPORT RequestId: {rid}\tDuration: ")
    assert "\tMemory Size: 256 MB\t" in report and "\tInit Duration: " in report


def test_environment_stays_warm_until_the_function_changes(emulator, local):
    lam = emulator.client("lambda")
    layer = lam.publish_layer_version(
        LayerName="warm", Content={"ZipFile": zipped({"python/greeting.py": "GREETING = 1\n", "python/nested.py": ""})}
    )["LayerVersionArn"]
    emulator.create("warm", FACTS.replace('__import__("nested").NAME', "None"), layers=[layer])
    cold = emulator.invoke("warm", LogType="Tail")
    warm = emulator.invoke("warm", LogType="Tail")
    assert (cold["json"]["count"], warm["json"]["count"]) == (1, 2)  # the module was imported once
    assert cold["json"]["pid"] == warm["json"]["pid"]
    assert "Init Duration" in cold["log"] and "Init Duration" not in warm["log"]
    assert "init: module imported" not in warm["log"]

    # A configuration update ends the environment: the next invocation starts a new one with the new variables.
    lam.update_function_configuration(FunctionName="warm", Environment={"Variables": {"STAGE": "two"}})
    assert not pid_alive(cold["json"]["pid"])
    updated = emulator.invoke("warm")["json"]
    assert (updated["count"], updated["env"]["STAGE"]) == (1, "two")

    # So does new code.
    lam.update_function_code(FunctionName="warm", ZipFile=zipped({"handler.py": SLEEPS}))
    assert not pid_alive(updated["pid"])
    new_pid = emulator.invoke("warm")["json"]
    assert isinstance(new_pid, int) and new_pid != updated["pid"]

    # And deleting the function.
    lam.delete_function(FunctionName="warm")
    assert not pid_alive(new_pid)


def test_handler_error_is_unhandled_with_the_runtimes_payload(emulator, local):
    emulator.create("raises", RAISES)
    answer = emulator.invoke("raises", {"why": "on purpose"}, LogType="Tail")
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = answer["json"]
    assert set(error) == {"errorMessage", "errorType", "stackTrace", "requestId"}
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "the function broke: on purpose")
    assert error["requestId"] == request_id(answer["log"])
    assert len(error["stackTrace"]) == 1 and "handler.py" in error["stackTrace"][0]
    assert "raise ValueError" in error["stackTrace"][0]
    assert "[ERROR] ValueError: the function broke: on purpose\rTraceback (most recent call last):" in answer["log"]


def test_import_error_is_reported_by_init(emulator, local):
    emulator.create("missing", "import not_a_module\n")
    answer = emulator.invoke("missing")
    assert answer["FunctionError"] == "Unhandled"
    assert answer["json"]["errorType"] == "Runtime.ImportModuleError"
    assert answer["json"]["errorMessage"] == "Unable to import module 'handler': No module named 'not_a_module'"


def test_timeout_ends_the_environment(emulator, local):
    emulator.create("sleeps", SLEEPS, Timeout=1)
    first_pid = emulator.invoke("sleeps", {"sleep": False})["json"]
    answer = emulator.invoke("sleeps", {"sleep": True}, LogType="Tail")
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    rid = request_id(answer["log"])
    assert set(answer["json"]) == {"errorMessage"}
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z {rid} Task timed out after 1\.00 seconds",
        answer["json"]["errorMessage"],
    )
    assert answer["json"]["errorMessage"] in answer["log"]
    assert answer["log"].splitlines()[-1].endswith("\tStatus: timeout")
    # Lambda resets the environment after a timeout: the worker is gone, the next invocation starts cold.
    assert not pid_alive(first_pid)
    after = emulator.invoke("sleeps", {"sleep": False}, LogType="Tail")
    assert after["json"] != first_pid and "Init Duration" in after["log"]


def test_log_tail_is_the_last_4_kb(emulator, local):
    emulator.create("chatty", CHATTY)
    answer = emulator.invoke("chatty", LogType="Tail")
    raw = base64.b64decode(answer["LogResult"])
    assert len(raw) == 4096  # the log is longer than 4 KB: its end, after the emulator's first line
    lines = answer["log"].splitlines()
    assert lines[0] == f"EMULATOR Interpreter: {answer['interpreter']}"
    assert "line 199 " in answer["log"] and "line 000 " not in answer["log"]
    assert lines[-1].startswith("REPORT RequestId: ")
    assert "LogResult" not in emulator.invoke("chatty")  # no tail unless asked


def test_credentials_are_the_execution_roles(emulator, local):
    emulator.create("caller", CALLER)
    arn = emulator.invoke("caller", {"endpoint": emulator.url})["json"]
    account_id = emulator.account.account_id
    assert arn == f"arn:aws:sts::{account_id}:assumed-role/function-role/caller"


def test_runs_inside_its_network(emulator):
    """The real namespace: STS at its regional name, as the function calls it on AWS (no endpoint URL)."""
    emulator.create("networked", CALLER)
    answer = emulator.invoke("networked")
    reason = network.availability()
    if reason is None:
        assert "FunctionError" not in answer, answer["body"]
        account_id = emulator.account.account_id
        assert answer["json"] == f"arn:aws:sts::{account_id}:assumed-role/function-role/networked"
    else:
        assert answer["FunctionError"] == "Unhandled"
        assert answer["json"]["errorType"] == "EmulatorCannotRunCode"
        assert answer["json"]["errorMessage"].endswith(f"Reason: {reason}")


def test_cannot_run_says_why(emulator, monkeypatch):
    emulator.create("not-run", RAISES)
    monkeypatch.setattr(
        network, "sandbox_for", lambda fn: network.Sandbox(argv_prefix=[], unavailable="no namespaces here")
    )
    answer = emulator.invoke("not-run")
    assert (answer["StatusCode"], answer["FunctionError"]) == (200, "Unhandled")
    assert answer["json"] == {
        "errorType": functions.NOT_RUN_ERROR,
        "errorMessage": f"{functions.NOT_RUN_MESSAGE} Reason: no namespaces here",
    }
    assert emulator.invoke("not-run", InvocationType="Event")["StatusCode"] == 202
    monkeypatch.setattr(SETTINGS, "data_plane", False)
    answer = emulator.invoke("not-run")
    assert (
        answer["json"]["errorMessage"]
        == f"{functions.NOT_RUN_MESSAGE} Reason: the data plane is off (setting data_plane)"
    )


def test_dry_run_and_event(emulator, local, tmp_path):
    emulator.create("writes", WRITES)
    target = tmp_path / "written"
    dry = emulator.invoke("writes", {"file": str(target)}, InvocationType="DryRun")
    assert (dry["StatusCode"], dry["body"]) == (204, b"")
    assert not target.exists()  # a dry run runs nothing (and answers only once nothing could still run)
    event = emulator.invoke("writes", {"file": str(target)}, InvocationType="Event")
    assert (event["StatusCode"], event["body"]) == (202, b"")
    written = wait_for(lambda: target.exists() and target.read_text(), "the event's invocation wrote its file")
    assert re.fullmatch(r"[0-9a-f-]{36}", written)


def test_concurrent_invocations_get_environments_of_their_own(emulator, local, tmp_path):
    emulator.create("concurrent", WAITS, Timeout=60)
    event = {"directory": str(tmp_path), "until": "never", "peers": 2}
    answers: list[dict] = []
    threads = [threading.Thread(target=lambda: answers.append(emulator.invoke("concurrent", event))) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each waited for the other to be running: one environment each, at the same time.
    assert sorted("FunctionError" in a for a in answers) == [False, False]
    assert answers[0]["json"] != answers[1]["json"]


def test_reserved_concurrency_throttles(emulator, local, tmp_path):
    emulator.create("reserved", WAITS, Timeout=60)
    emulator.client("lambda").put_function_concurrency(FunctionName="reserved", ReservedConcurrentExecutions=1)
    event = {"directory": str(tmp_path), "until": "go", "peers": 99}
    answers: list[dict] = []
    running = threading.Thread(target=lambda: answers.append(emulator.invoke("reserved", event)))
    running.start()
    try:
        wait_for(lambda: list(tmp_path.glob("started-*")), "the first invocation is running")
        with pytest.raises(ClientError) as refused:
            emulator.invoke("reserved", event)
        assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    finally:
        (tmp_path / "go").touch()
        running.join()
    assert "FunctionError" not in answers[0]


def test_host_interpreter_when_the_runtimes_is_missing(emulator, local, monkeypatch):
    """Without the runtime's CPython the host's runs the function, with the host's build of a layer's compiled
    packages (here psycopg2: the layer's copy is built for another CPython and cannot be imported)."""
    monkeypatch.setattr(functions, "find_interpreter", lambda version: None)
    runtime = "python3.13" if sys.version_info[:2] == (3, 12) else "python3.12"
    wanted = runtime.removeprefix("python")
    layer = emulator.client("lambda").publish_layer_version(
        LayerName="foreign-psycopg2",
        Content={
            "ZipFile": zipped(
                {
                    "python/psycopg2/__init__.py": "raise ImportError('the layer build for another CPython')\n",
                    f"python/psycopg2/_psycopg.cpython-{wanted.replace('.', '')}-x86_64-linux-gnu.so": b"\0ELF",
                }
            )
        },
    )["LayerVersionArn"]
    code = textwrap.dedent(
        """
        import sys, psycopg2

        def handler(event, context):
            return [list(sys.version_info[:2]), psycopg2.__version__]
        """
    )
    emulator.create("fallback", code, layers=[layer], Runtime=runtime)
    answer = emulator.invoke("fallback", LogType="Tail")
    assert "FunctionError" not in answer, answer["body"]
    import psycopg2

    assert answer["json"] == [list(sys.version_info[:2]), psycopg2.__version__]
    assert answer["interpreter"] == (
        f"{sys.executable} (CPython {'.'.join(map(str, sys.version_info[:3]))}, "
        f"the host's: no CPython {wanted} on this machine)"
    )
    first = answer["log"].splitlines()[0]
    assert first.startswith(f"EMULATOR Interpreter: {answer['interpreter']}; ")
    assert f"replaced by the host's: psycopg2-binary {importlib.metadata.version('psycopg2-binary')}" in first


def test_secrets_stay_out_of_the_log(emulator, local):
    emulator.create("quiet", "def handler(event, context):\n    return 'ok'\n")
    answer = emulator.invoke("quiet", LogType="Tail")
    from moto.sts.models import sts_backends

    sessions = [
        role
        for backend in sts_backends[emulator.account.account_id].values()
        for role in getattr(backend, "assumed_roles", [])
        if role.arn.endswith("/function-role/quiet")
    ]
    assert sessions
    for session in sessions:
        for secret in (session.secret_access_key, session.session_token):
            assert secret not in answer["log"]
            assert hashlib.sha256(secret.encode()).hexdigest() not in answer["log"]


def test_interpreter_discovery_checks_each_candidate(tmp_path, monkeypatch):
    """pyenv's versions, newest patch release first; a candidate that does not run (a pyenv shim for a version
    not selected) is passed over."""
    root = tmp_path / "pyenv"
    broken = root / "versions" / "3.12.9" / "bin" / "python3.12"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\nexit 127\n")
    broken.chmod(0o755)
    working = root / "versions" / "3.12.1" / "bin" / "python3.12"
    working.parent.mkdir(parents=True)
    working.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    working.chmod(0o755)
    monkeypatch.setattr(functions, "pyenv_roots", lambda: [root])
    monkeypatch.setattr(functions.shutil, "which", lambda name: None)
    assert functions._candidates("3.12") == [str(broken), str(working)]
    host = f"{sys.version_info[0]}.{sys.version_info[1]}"
    monkeypatch.setattr(functions, "_candidates", lambda version: [str(broken), str(working)])
    found = functions.find_interpreter.__wrapped__(host)  # the fake 3.12 runs the host's Python
    assert found is not None and found.path == str(working) and found.matches
    assert functions.find_interpreter.__wrapped__("3.99") is None
    assert Path(found.path).exists()


def test_role_that_lambda_cannot_assume_any_more_refuses_the_invocation(emulator, local):
    iam = emulator.client("iam")
    arn = iam.create_role(RoleName="fragile-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    emulator.client("lambda").create_function(
        FunctionName="fragile",
        Runtime="python3.12",
        Role=arn,
        Handler="handler.handler",
        Code={"ZipFile": zipped({"handler.py": "def handler(event, context):\n    return 1\n"})},
    )
    ec2_only = json.loads(json.dumps(TRUST).replace("lambda.amazonaws.com", "ec2.amazonaws.com"))
    iam.update_assume_role_policy(RoleName="fragile-role", PolicyDocument=json.dumps(ec2_only))
    with pytest.raises(ClientError) as refused:
        emulator.invoke("fragile")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == functions.ROLE_REFUSED


def test_runtime_that_exits_is_an_exit_error(emulator, local):
    emulator.create("exits", "import os\n\ndef handler(event, context):\n    os._exit(3)\n")
    answer = emulator.invoke("exits", LogType="Tail")
    assert answer["FunctionError"] == "Unhandled"
    rid = request_id(answer["log"])
    assert answer["json"] == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 3",
    }
