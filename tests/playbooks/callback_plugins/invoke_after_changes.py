"""Invokes the connection-test functions after every task that changed something, before the next task starts.

Ansible runs this callback in the playbook's own process while it handles each task's results, so every state the
run goes through is sampled, however fast or slow the machine. The tests enable it with ``ANSIBLE_CALLBACKS_ENABLED``
and ``ANSIBLE_CALLBACK_PLUGINS``; ``INVOKE_AFTER_CHANGES`` names a JSON file: ``{"endpoint_url", "region",
"targets": [{"account", "access_key_id", "secret_access_key", "function", "target"}], "log"}``. Each answer is
appended to ``log`` as a line of JSON: the task, the account, the target and the function's answer."""

from __future__ import annotations

import json
import os

import boto3
import botocore.config
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: invoke_after_changes
type: aggregate
short_description: Invoke the connection-test functions after every change (tests only)
description: See the module's docstring.
requirements: [INVOKE_AFTER_CHANGES in the environment]
"""

_CONFIG = botocore.config.Config(read_timeout=120, retries={"mode": "standard", "max_attempts": 1})


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "invoke_after_changes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        with open(os.environ["INVOKE_AFTER_CHANGES"]) as file:
            self._spec = json.load(file)
        self._clients = {}

    def _client(self, target: dict):
        key = target["account"]
        if key not in self._clients:
            session = boto3.Session(
                aws_access_key_id=target["access_key_id"],
                aws_secret_access_key=target["secret_access_key"],
                region_name=self._spec["region"],
            )
            self._clients[key] = session.client("lambda", endpoint_url=self._spec["endpoint_url"], config=_CONFIG)
        return self._clients[key]

    def v2_runner_on_ok(self, result) -> None:
        if not result._result.get("changed"):
            return
        task = f"{result._host.get_name()}: {result._task.get_name()}"
        with open(self._spec["log"], "a") as log:
            for target in self._spec["targets"]:
                response = self._client(target).invoke(
                    FunctionName=target["function"], Payload=json.dumps({"target": target["target"], "fresh": True})
                )
                payload = json.loads(response["Payload"].read())
                body = json.loads(payload["body"]) if "body" in payload else payload
                entry = {"task": task, "account": target["account"], "target": target["target"], "answer": body}
                log.write(json.dumps(entry) + "\n")
