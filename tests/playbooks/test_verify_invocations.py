"""The verification's invocation of the connection test and its check of the answers (playbooks/verify.yml and
playbooks/tasks/check_invocations.yml), against what amazon.aws.lambda_execute really returns.

The shapes are recorded, not written by hand: ``lambda_execute``'s own ``main()`` runs in-process with its Lambda
client answered by a botocore Stubber (which validates every request against the service model), and the Invoke
payloads are what the connection-test function returns: its answers are built by the function's own code
(``ConnectionTester.invoke``, with only the network part replaced by an outcome), the emulator's function error is
the emulator's own payload. A stand-in module then exits exactly as each recorded run did, in verify.yml's own
invocation task (only the module's name is changed), so that Ansible registers the results as it does in a real run
(``failed_when``, ``changed_when``, the loop); the check tasks run after it through ansible-playbook. One host per
case: its name is the account the messages must name.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg2
import pytest
import yaml
from ansible_collections.amazon.aws.plugins.modules import lambda_execute
from botocore.response import StreamingBody

from emulator.ext.awslambda import NOT_RUN_ERROR, NOT_RUN_MESSAGE

from ..modules.stubbed import Stubs, run
from .helpers import ROOT

VERIFY = ROOT / "playbooks" / "verify.yml"
CHECK = ROOT / "playbooks" / "tasks" / "check_invocations.yml"
INVOKE_MODULE = "amazon.aws.lambda_execute"
CHECK_TASK = "Verify | Check that read-only lands on a reader and read-write on the writer"
NOT_EXERCISED = "The data path (function -> STS -> RDS Proxy -> Aurora) was NOT exercised"
TARGETS = ("read_only", "read_write")

FUNCTION = "xacct-connection-test"
PROXY_DOMAIN = "endpoint.proxy-0123456789ab.eu-west-1.rds.amazonaws.com"  # of a proxy endpoint you create
# The function's environment as roles/iam_lambda sets it (the runtime adds AWS_REGION).
ENVIRONMENT = {
    "DATABASE_ACCOUNT_IAM_ROLE": "arn:aws:iam::111111111111:role/xacct-proxy-connect-application-a",
    "RDS_PROXY_READ_ONLY_ENDPOINT": f"xacct-proxy-application-a-read-only.{PROXY_DOMAIN}",
    "RDS_PROXY_READ_WRITE_ENDPOINT": f"xacct-proxy-application-a-read-write.{PROXY_DOMAIN}",
    "DB_USERNAME": "postgres",
    "DBNAME": "example_db",
    "DB_PORT": "5432",
    "AWS_REGION": "eu-west-1",
}
READ_ONLY_ENDPOINT = ENVIRONMENT["RDS_PROXY_READ_ONLY_ENDPOINT"]
READ_WRITE_ENDPOINT = ENVIRONMENT["RDS_PROXY_READ_WRITE_ENDPOINT"]
TLS_ERROR = (
    f'connection to server at "{READ_WRITE_ENDPOINT}" (10.0.16.21), port 5432 failed: '
    "SSL error: certificate verify failed"
)


def _load_function():
    path = ROOT / "lambda" / "src" / "connection_test.py"
    spec = importlib.util.spec_from_file_location("connection_test_for_verify", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


connection_test = _load_function()


# --- what the function answers ---------------------------------------------------------------------------------------


def _reaches(role: str):
    """The outcome of a test that reached the node of that role (what ``_test`` returns after its query)."""
    return lambda config, timings: (role == "reader", "16.6", 4242, config.user, False)


def _tls_fails(config, timings):
    """The outcome of a connection refused by TLS: libpq's error, classified by the function's own code."""
    raise connection_test._connect_failure(psycopg2.OperationalError(TLS_ERROR), config, ())


class _Tester(connection_test.ConnectionTester):
    """The function's own tester, its answer built by its own code; only the network part (STS, DNS, TCP, TLS, the
    query) is replaced by an outcome."""

    def __init__(self, outcome) -> None:
        super().__init__(reuse=False)
        self._outcome = outcome

    def _test(self, config, timings):
        return self._outcome(config, timings)


def answer(target: str, outcome) -> dict:
    """What the handler returns for ``{"target": target}`` (``handler`` is ``ConnectionTester.invoke``)."""
    return _Tester(outcome).invoke(ENVIRONMENT, {"target": target})


# Lambda answers an uncaught exception of the Python runtime with FunctionError "Unhandled" and this payload.
IMPORT_ERROR = {
    "errorMessage": "Unable to import module 'connection_test': No module named 'psycopg2'",
    "errorType": "Runtime.ImportModuleError",
    "requestId": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
    "stackTrace": [],
}
EMULATOR_ERROR = {"errorType": NOT_RUN_ERROR, "errorMessage": NOT_RUN_MESSAGE}  # emulator/ext/awslambda.py
ACCESS_DENIED = (
    "User: arn:aws:iam::222222222222:user/deployer is not authorized to perform: lambda:InvokeFunction on resource: "
    f"arn:aws:lambda:eu-west-1:222222222222:function:{FUNCTION} because no identity-based policy allows the "
    "lambda:InvokeFunction action"
)


# --- what lambda_execute makes of it --------------------------------------------------------------------------------


def record(target: str, payload: dict | None = None, function_error: str | None = None, denied: bool = False) -> dict:
    """Run lambda_execute's main() as verify.yml calls it, its Lambda client answered by a Stubber: the waiters'
    GetFunctionConfiguration, then Invoke with this payload (or AccessDeniedException). Returns ``failed`` and the
    module's result."""
    stubs = Stubs()
    ready = {"FunctionName": FUNCTION, "State": "Active", "LastUpdateStatus": "Successful"}
    for _waiter in ("function_active", "function_updated"):
        stubs.add("lambda", "get_function_configuration", ready, {"FunctionName": FUNCTION})
    request = {
        "FunctionName": FUNCTION,
        "InvocationType": "RequestResponse",
        "LogType": "None",
        "Payload": json.dumps({"target": target}),
    }
    if denied:
        stubs.error("lambda", "invoke", "AccessDeniedException", ACCESS_DENIED, 403, expected=request)
    else:
        data = json.dumps(payload).encode()
        response = {
            "StatusCode": 200,
            "Payload": StreamingBody(io.BytesIO(data), len(data)),
            "ExecutedVersion": "$LATEST",
        }
        if function_error:
            response["FunctionError"] = function_error
        stubs.add("lambda", "invoke", response, request)
    outcome = run(lambda_execute, {"name": FUNCTION, "payload": {"target": target}, "wait": True}, stubs)
    assert stubs.pending() == {}, "lambda_execute did not make the expected calls"
    return {"failed": outcome.failed, "result": json.loads(json.dumps(outcome.result))}


def recordings() -> dict[str, dict[str, dict]]:
    """{account: {target: recorded lambda_execute outcome}}, one account per case."""
    return {
        "application-ok": {
            "read_only": record("read_only", answer("read_only", _reaches("reader"))),
            "read_write": record("read_write", answer("read_write", _reaches("writer"))),
        },
        "application-tls": {
            "read_only": record("read_only", answer("read_only", _reaches("reader"))),
            "read_write": record("read_write", answer("read_write", _tls_fails)),
        },
        "application-wrong-role": {
            "read_only": record("read_only", answer("read_only", _reaches("writer"))),
            "read_write": record("read_write", answer("read_write", _reaches("writer"))),
        },
        "application-emulator": {t: record(t, EMULATOR_ERROR, "Unhandled") for t in TARGETS},
        "application-unhandled": {t: record(t, IMPORT_ERROR, "Unhandled") for t in TARGETS},
        "application-denied": {t: record(t, denied=True) for t in TARGETS},
    }


# --- the playbook ---------------------------------------------------------------------------------------------------

REPLAY_MODULE = '''\
#!/usr/bin/python
"""Stands in for amazon.aws.lambda_execute: exits as the recorded run of the real module did for the payload's
target (in check mode as lambda_execute does: changed, nothing invoked)."""
import json

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {},
            "payload": {"type": "dict", "default": {}},
            "wait": {"type": "bool", "default": True},
            "recordings": {"type": "path", "required": True},
        },
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=True)
    with open(module.params["recordings"]) as f:
        recorded = json.load(f)[module.params["payload"]["target"]]
    if recorded["failed"]:
        module.fail_json(**recorded["result"])
    module.exit_json(**recorded["result"])


if __name__ == "__main__":
    main()
'''


def invocation_task(verify: Path) -> dict:
    """verify.yml's task that invokes the function (the one task using lambda_execute)."""
    tasks = [task for play in yaml.safe_load(verify.read_text()) for task in play.get("tasks", [])]
    (task,) = [task for task in tasks if INVOKE_MODULE in task]
    return task


def write_playbook(tmp_path: Path, cases: dict[str, dict], verify: Path, check: Path) -> Path:
    """A playbook with verify.yml's invocation task (the module swapped for the replay of the recordings) and the
    check tasks, on one local host per case."""
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "lambda_execute_replay.py").write_text(REPLAY_MODULE)
    hosts = {}
    for account, recorded in cases.items():
        (tmp_path / f"{account}.json").write_text(json.dumps(recorded))
        hosts[account] = {"iam_lambda__function_name": FUNCTION}
    inventory = {
        "all": {
            "hosts": hosts,
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    task = dict(invocation_task(verify))
    task["lambda_execute_replay"] = task.pop(INVOKE_MODULE)
    play = {
        "name": "Verify | The check of the function's answers",
        "hosts": "all",
        "gather_facts": False,
        "module_defaults": {"lambda_execute_replay": {"recordings": f"{tmp_path}/{{{{ inventory_hostname }}}}.json"}},
        "tasks": [
            task,
            {"name": "Verify | Check what the function answered", "ansible.builtin.import_tasks": str(check)},
        ],
    }
    playbook = tmp_path / "check.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    (tmp_path / "ansible.cfg").write_text(
        textwrap.dedent("""\
            [defaults]
            retry_files_enabled = false
            host_key_checking = false
            forks = 10
            """)
    )
    return playbook


class Run:
    def __init__(self, process: subprocess.CompletedProcess) -> None:
        self.process = process
        try:
            self.output = json.loads(process.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"no JSON from ansible-playbook:\n{process.stdout}\n{process.stderr}") from e

    def task(self, host: str, name: str) -> dict | None:
        """The host's result of the task of that name (None if the host never reached it)."""
        for play in self.output["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == name and host in task["hosts"]:
                    return task["hosts"][host]
        return None

    def invocation(self, host: str) -> dict:
        result = self.task(host, "Verify | Invoke the function against both endpoints")
        assert result is not None, self.explain(host)
        return result

    def messages(self, host: str) -> list[str]:
        """Every message printed for the host, item by item, with white space normalised."""
        found = []
        for play in self.output["plays"]:
            for task in play["tasks"]:
                result = task["hosts"].get(host, {})
                for each in result.get("results", [result]):
                    if isinstance(each.get("msg"), str):
                        found.append(" ".join(each["msg"].split()))
        return found

    def stats(self, host: str) -> dict:
        return self.output["stats"][host]

    def explain(self, host: str) -> str:
        return json.dumps(self.messages(host), indent=1) + "\n" + self.process.stderr[-3000:]


def run_check(tmp_path: Path, cases: dict[str, dict], *extra: str) -> Run:
    playbook = write_playbook(tmp_path, cases, VERIFY, CHECK)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = ["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), str(playbook), *extra]
    return Run(subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300))


@pytest.fixture(scope="module")
def recorded() -> dict[str, dict[str, dict]]:
    return recordings()


@pytest.fixture(scope="module")
def checked(recorded, tmp_path_factory) -> Run:
    return run_check(tmp_path_factory.mktemp("check"), recorded)


# --- the recorded shapes --------------------------------------------------------------------------------------------


def test_lambda_execute_puts_the_answer_under_result(recorded):
    ok = recorded["application-ok"]["read_only"]
    assert ok["failed"] is False and ok["result"]["changed"] is True
    assert "output" not in ok["result"]
    output = ok["result"]["result"]["output"]
    assert output["statusCode"] == 200
    body = json.loads(output["body"])
    assert body["ok"] and body["role"] == "reader" and body["role_matches"] is True
    assert body["target"] == "read_only" and body["endpoint"] == READ_ONLY_ENDPOINT
    tls = json.loads(recorded["application-tls"]["read_write"]["result"]["result"]["output"]["body"])
    assert recorded["application-tls"]["read_write"]["result"]["result"]["output"]["statusCode"] == 502
    assert tls["ok"] is False and tls["stage"] == "tls" and tls["likely_causes"]
    wrong = json.loads(recorded["application-wrong-role"]["read_only"]["result"]["result"]["output"]["body"])
    assert wrong["ok"] is True and wrong["role"] == "writer" and wrong["role_matches"] is False


def test_lambda_execute_fails_on_a_function_error_and_still_returns_the_answer(recorded):
    emulated = recorded["application-emulator"]["read_only"]
    assert emulated["failed"] is True
    assert emulated["result"]["msg"].startswith(
        f"Function executed, but there was an error in the Lambda function. Message: {NOT_RUN_MESSAGE}, "
        f"Type: {NOT_RUN_ERROR}, Stack Trace: "
    )
    assert emulated["result"]["result"] == {"logs": "", "status": 200, "output": EMULATOR_ERROR}
    denied = recorded["application-denied"]["read_only"]
    assert denied["failed"] is True and "result" not in denied["result"]
    assert "AccessDeniedException" in denied["result"]["msg"]


# --- the check ------------------------------------------------------------------------------------------------------


def test_the_invocation_runs_everywhere_never_fails_and_changes_nothing(checked):
    for host in checked.output["stats"]:
        invocation = checked.invocation(host)
        assert [r["item"] for r in invocation["results"]] == list(TARGETS), checked.explain(host)
        assert not any(r.get("skipped") for r in invocation["results"]), checked.explain(host)
        assert invocation["changed"] is False and not invocation.get("failed"), checked.explain(host)
        assert checked.stats(host)["changed"] == 0, checked.stats(host)


def test_a_success_passes_and_prints_the_role_and_the_endpoint(checked):
    host = "application-ok"
    assert checked.stats(host)["failures"] == 0, checked.explain(host)
    messages = checked.messages(host)
    for target, role, endpoint in (
        ("read_only", "reader", READ_ONLY_ENDPOINT),
        ("read_write", "writer", READ_WRITE_ENDPOINT),
    ):
        # current_user: the user the database says the session runs as (here, the function's DB_USERNAME).
        prefix = (
            f"{host}: {target}: Database connection was successful! ({role} at {endpoint}, verify-ca, as postgres; ms: "
        )
        assert [m for m in messages if m.startswith(prefix)], messages
    assert not any(NOT_EXERCISED in m for m in messages)


FAILURES = [
    pytest.param(
        "application-tls", "read_write",
        [f"application-tls: read_write failed at the tls link ({READ_WRITE_ENDPOINT}):", "certificate verify failed",
         "Likely causes: the server's certificate does not chain to a CA"],
        id="tls",
    ),
    pytest.param(
        "application-wrong-role", "read_only",
        [f"application-wrong-role: read_only failed at the role check: it reached the writer at {READ_ONLY_ENDPOINT}",
         "not a reader", "Likely causes:"],
        id="read-only-on-the-writer",
    ),
    pytest.param(
        "application-unhandled", "read_only",
        ["application-unhandled: read_only: the function failed with Runtime.ImportModuleError:",
         "No module named 'psycopg2'"],
        id="function-error",
    ),
    pytest.param(
        "application-denied", "read_only",
        ["application-denied: read_only: the invocation failed:", "AccessDeniedException", "lambda:InvokeFunction"],
        id="module-failure",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("host", "target", "expected"), FAILURES)
def test_a_failure_fails_the_check_naming_account_target_and_stage(checked, host, target, expected):
    assert checked.stats(host)["failures"] == 1, checked.explain(host)
    check = checked.task(host, CHECK_TASK)
    assert check is not None and check.get("failed"), checked.explain(host)
    (failed,) = [r for r in check["results"] if r["item"] == target and r.get("failed")]
    message = " ".join(failed["msg"].split())
    for part in expected:
        assert part in message, message
    assert not any(NOT_EXERCISED in m for m in checked.messages(host))


def test_every_target_is_diagnosed_before_the_account_fails(checked):
    """The check goes through both answers: the one that passed is printed next to the one that failed."""
    check = checked.task("application-tls", CHECK_TASK)
    assert check is not None, checked.explain("application-tls")
    verdicts = {r["item"]: bool(r.get("failed")) for r in check["results"]}
    assert verdicts == {"read_only": False, "read_write": True}


def test_the_emulator_passes_and_says_once_that_the_data_path_was_not_exercised(checked):
    host = "application-emulator"
    assert checked.stats(host)["failures"] == 0, checked.explain(host)
    said = [m for m in checked.messages(host) if NOT_EXERCISED in m]
    assert len(said) == 1, checked.explain(host)
    assert said[0].startswith(f"{host}: {NOT_EXERCISED}: the local emulator did not run the function"), said
    reason = NOT_RUN_MESSAGE
    assert f"(it answered read_only and read_write with EmulatorCannotRunCode: {reason})" in said[0], said
    assert checked.task(host, CHECK_TASK)["skipped"], "no answer of the emulator is left to check"


def test_a_dry_run_invokes_nothing_and_says_so(recorded, tmp_path):
    cases = {host: recorded[host] for host in ("application-ok", "application-emulator")}
    dry = run_check(tmp_path, cases, "--check")
    assert dry.process.returncode == 0, dry.explain("application-ok")
    for host in cases:
        assert all(r.get("skipped") for r in dry.invocation(host)["results"]), dry.explain(host)
        assert dry.stats(host)["changed"] == 0 and dry.stats(host)["failures"] == 0, dry.stats(host)
        messages = dry.messages(host)
        assert f"{host}: a dry run does not invoke the connection test:" in " ".join(messages), messages
        assert not any(NOT_EXERCISED in m or "successful" in m for m in messages), messages


def test_verify_invokes_on_every_target_and_leaves_the_answers_to_the_check():
    """One code path: no condition on the deployment target; the check tasks follow the invocation."""
    assert "deployment_target" not in VERIFY.read_text()
    task = invocation_task(VERIFY)
    assert task["register"] == "__verify_invocations"
    assert task["loop"] == list(TARGETS)
    assert task[INVOKE_MODULE]["payload"] == {"target": "{{ item }}", "fresh": True}
    assert task["failed_when"] is False and task["changed_when"] is False
    assert task["when"] == "not ansible_check_mode"
    tasks = [t for play in yaml.safe_load(VERIFY.read_text()) for t in play.get("tasks", [])]
    following = tasks[tasks.index(task) + 1]
    assert (VERIFY.parent / following["ansible.builtin.import_tasks"]).resolve() == CHECK
