"""Run a module of library/ in-process with its AWS clients replaced by
botocore Stubbers: every request is validated against the service model and
answered from a queue of expected calls."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import ansible.module_utils
import boto3
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
ACCOUNT = "111111111111"

# The modules import the project's shared code as ansible.module_utils.<name>,
# which Ansible finds through module_utils = module_utils in ansible.cfg.
if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(ROOT / "module_utils"))


def load_module(name: str):
    spec = importlib.util.spec_from_file_location(f"library_{name}", ROOT / "library" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class ModuleExit(Exception):
    def __init__(self, failed: bool, result: dict) -> None:
        super().__init__(result.get("msg", ""))
        self.failed = failed
        self.result = result


@dataclass
class Stubs:
    """Stubbed clients per service; ``created`` lists the services whose client the module asked for."""

    clients: dict = field(default_factory=dict)
    stubbers: dict = field(default_factory=dict)
    created: list = field(default_factory=list)

    def stubber(self, service: str) -> Stubber:
        if service not in self.stubbers:
            client = boto3.client(
                service, region_name=REGION, aws_access_key_id="AKIDTEST", aws_secret_access_key="secret"
            )
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
        return self.stubbers[service]

    def add(self, service: str, operation: str, response: dict | None = None, expected: dict | None = None):
        self.stubber(service).add_response(operation, response or {}, expected)

    def error(self, service: str, operation: str, code: str, message: str = "", status: int = 400, expected=None):
        self.stubber(service).add_client_error(
            operation, service_error_code=code, service_message=message or code, http_status_code=status,
            expected_params=expected,
        )  # fmt: skip

    def pending(self) -> dict[str, int]:
        return {s: len(stub._queue) for s, stub in self.stubbers.items() if stub._queue}

    def client_factory(self):
        stubs = self

        def client(module_self, service, retry_decorator=None, **kwargs):
            stubs.created.append(service)
            raw = stubs.stubber(service) and stubs.clients[service]
            return raw if retry_decorator is None else RetryingBotoClientWrapper(raw, retry_decorator)

        return client


def _run_main(module, arguments: dict, client) -> ModuleExit:
    """Run ``module.main()`` with ``arguments`` and AWS clients from ``client``; return its exit."""

    def exit_json(self, **kwargs):
        raise ModuleExit(False, kwargs)

    def fail_json(self, msg="", **kwargs):
        raise ModuleExit(True, {"msg": msg, **kwargs})

    with (
        patch_module_args(arguments),
        mock.patch.object(AnsibleAWSModule, "client", client),
        mock.patch.object(basic.AnsibleModule, "exit_json", exit_json),
        mock.patch.object(basic.AnsibleModule, "fail_json", fail_json),
    ):
        try:
            module.main()
        except ModuleExit as outcome:
            return outcome
    raise AssertionError("the module neither exited nor failed")


def run(module, args: dict, stubs: Stubs, check_mode: bool = False, diff: bool = True) -> ModuleExit:
    """Run ``module.main()`` with ``args`` and stubbed clients; return its exit (``failed`` and ``result``)."""
    arguments = {"region": REGION, **args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    return _run_main(module, arguments, stubs.client_factory())


def succeeded(outcome: ModuleExit) -> dict:
    """The result of a run that did not fail."""
    assert not outcome.failed, outcome.result["msg"]
    return outcome.result


def failure(outcome: ModuleExit, code: str | None = None) -> str:
    """The message of a run that failed; with ``code``, on that AWS error."""
    assert outcome.failed, outcome.result
    if code is not None:
        assert outcome.result["error"]["code"] == code
    return outcome.result["msg"]


def rejected_before_any_call(module, args: dict, stubs: Stubs) -> str:
    """The message of a run with ``args`` that failed before the module asked for any AWS client."""
    message = failure(run(module, args, stubs))
    assert stubs.created == []
    return message


def run_on_emulator(module, aws, args: dict, check_mode: bool = False, account: str = "database") -> ModuleExit:
    """Run ``module.main()`` with ``args`` and real clients of an emulator account; return its exit."""

    def client(module_self, service, retry_decorator=None, **kwargs):
        raw = aws.client(service, account)
        return raw if retry_decorator is None else RetryingBotoClientWrapper(raw, retry_decorator)

    arguments = {"region": aws.region, **args, "_ansible_check_mode": check_mode, "_ansible_diff": True}
    return _run_main(module, arguments, client)
