"""Drills on a deployed data path: each breaks one link by hand, as an operator or a bad change would.

A drill's ``apply`` breaks its link and returns how to undo it by hand (``None`` when only a run of site.yml can
repair it); ``stage`` is the link the connection test must name (its answer's ``stage``) and ``expected`` words of
its error or likely causes. ``owned`` says whether the deployment owns the link, so that a run of site.yml must
repair it.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import botocore.config

_BUILD = Path(__file__).resolve().parents[2] / "lambda" / "build.py"
_spec = importlib.util.spec_from_file_location("lambda_build", _BUILD)
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

DEPLOYMENT = "xacct"
APPLICATION = "application-a"
FUNCTION = f"{DEPLOYMENT}-connection-test"
CONNECT_ROLE = f"{DEPLOYMENT}-proxy-connect-{APPLICATION}"
CONNECT_POLICY = "rds-db-connect"
# The database users of the two application accounts (derived from the host names).
USER = "application_a"
OTHER_USER = "application_b"
PROXY_ROLE = f"{DEPLOYMENT}-proxy"
PROXY_POLICY = "connect-as-application-users"
FUNCTION_POLICY = "connection-test"
DB_PORT = 5432
# Lambda runs the function for up to its timeout (30 s): the client waits longer than that.
INVOKE_CONFIG = botocore.config.Config(read_timeout=120, retries={"mode": "standard", "max_attempts": 1})

Undo = Callable[[], None] | None


@dataclass(frozen=True)
class Drill:
    name: str
    apply: Callable[[object], Undo]  # (emulator) -> undo
    stage: str
    expected: tuple[str, ...]
    owned: bool
    target: str = "read_only"
    undone_by_hand: bool = True  # False: only a run of site.yml undoes it (``apply`` returns None)
    # A permission of a role that an AWS service uses (the proxy's): seen once IAM has propagated the change.
    propagates: bool = False


def invoke(emulator, target: str, account: str = APPLICATION, fresh: bool = True) -> dict:
    """Invoke the connection test as verify.yml does (fresh connection; with ``fresh`` false, as a warm function
    would, with the connection it kept) and return its answer's body."""
    client = emulator.client("lambda", account, config=INVOKE_CONFIG)
    response = client.invoke(FunctionName=FUNCTION, Payload=json.dumps({"target": target, "fresh": fresh}))
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return {"statusCode": payload["statusCode"], **json.loads(payload["body"])}


def answer_when(emulator, target: str, ok: bool, deadline: float = 120.0) -> dict:
    """The first answer whose ``ok`` is ``ok``, invoking until one comes: a change to a role's permissions is seen
    by the services that use the role once IAM has propagated it (the emulator's ``iam_role_propagation``), as on
    AWS; until then they see the permissions before it. The last answer when none came."""
    give_up = time.monotonic() + deadline
    while True:
        body = invoke(emulator, target)
        if body["ok"] is ok or time.monotonic() > give_up:
            return body
        time.sleep(0.5)


def _json_document(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


# --- the drills ---------------------------------------------------------------------------------------------------


def trust_condition(emulator) -> Undo:
    """The connect role trusts another role of the application account than the function's."""
    iam = emulator.client("iam", "database")
    trust = _json_document(iam.get_role(RoleName=CONNECT_ROLE)["Role"]["AssumeRolePolicyDocument"])
    broken = json.loads(json.dumps(trust).replace(f":role/{FUNCTION}", ":role/someone-else"))
    assert broken != trust
    iam.update_assume_role_policy(RoleName=CONNECT_ROLE, PolicyDocument=json.dumps(broken))
    return lambda: iam.update_assume_role_policy(RoleName=CONNECT_ROLE, PolicyDocument=json.dumps(trust))


def connect_resource_by_name(emulator) -> Undo:
    """The classic mistake: rds-db:connect on the proxy's name instead of its resource ID (prx-...)."""
    iam = emulator.client("iam", "database")
    document = _json_document(iam.get_role_policy(RoleName=CONNECT_ROLE, PolicyName=CONNECT_POLICY)["PolicyDocument"])
    broken = json.loads(re.sub(r"dbuser:prx-[0-9a-f]+/", f"dbuser:{DEPLOYMENT}-proxy/", json.dumps(document)))
    assert broken != document
    iam.put_role_policy(RoleName=CONNECT_ROLE, PolicyName=CONNECT_POLICY, PolicyDocument=json.dumps(broken))
    return lambda: iam.put_role_policy(
        RoleName=CONNECT_ROLE, PolicyName=CONNECT_POLICY, PolicyDocument=json.dumps(document)
    )


def function_may_not_assume(emulator) -> Undo:
    """The function's role loses its sts:AssumeRole on the connect role."""
    iam = emulator.client("iam", APPLICATION)
    document = _json_document(iam.get_role_policy(RoleName=FUNCTION, PolicyName=FUNCTION_POLICY)["PolicyDocument"])
    broken = json.loads(json.dumps(document).replace(f":role/{CONNECT_ROLE}", ":role/another-role"))
    assert broken != document
    iam.put_role_policy(RoleName=FUNCTION, PolicyName=FUNCTION_POLICY, PolicyDocument=json.dumps(broken))
    return lambda: iam.put_role_policy(
        RoleName=FUNCTION, PolicyName=FUNCTION_POLICY, PolicyDocument=json.dumps(document)
    )


def _groups(emulator, account: str) -> dict[str, dict]:
    groups = emulator.client("ec2", account).describe_security_groups()["SecurityGroups"]
    return {g["GroupName"]: g for g in groups if g["GroupName"].startswith(f"{DEPLOYMENT}-")}


def _database_port_rules(permissions: list[dict]) -> list[dict]:
    return [p for p in permissions if p.get("FromPort") == DB_PORT]


def endpoint_ingress_removed(emulator) -> Undo:
    """The security group of the application's proxy endpoints no longer admits the database port."""
    ec2 = emulator.client("ec2", "database")
    group = _groups(emulator, "database")[f"{DEPLOYMENT}-proxy-{APPLICATION}-endpoints"]
    rules = _database_port_rules(group["IpPermissions"])
    assert rules
    ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=rules)
    return lambda: ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=rules)


def function_egress_removed(emulator) -> Undo:
    """The function's security group no longer lets it out to the database port."""
    ec2 = emulator.client("ec2", APPLICATION)
    group = _groups(emulator, APPLICATION)[f"{DEPLOYMENT}-app-connection-test-lambda"]
    rules = _database_port_rules(group["IpPermissionsEgress"])
    assert rules
    ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=rules)
    return lambda: ec2.authorize_security_group_egress(GroupId=group["GroupId"], IpPermissions=rules)


def _set_environment(emulator, **changes: str) -> Undo:
    client = emulator.client("lambda", APPLICATION)
    variables = client.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]

    def update(values: dict) -> None:
        client.update_function_configuration(FunctionName=FUNCTION, Environment={"Variables": values})
        client.get_waiter("function_updated_v2").wait(FunctionName=FUNCTION, WaiterConfig={"Delay": 1})

    update({**variables, **changes})
    return lambda: update(variables)


def database_user_changed(emulator) -> Undo:
    """The function logs in as another application account's database user, which exists: its connect role may
    connect as its own account's user only."""
    return _set_environment(emulator, DB_USERNAME=OTHER_USER)


def token_expired(emulator) -> Undo:
    """The proxy sees every token after its 15 minutes (the emulator's clock for tokens runs 20 minutes ahead)."""
    emulator.control.configure(token_clock_offset=20 * 60)
    return lambda: emulator.control.configure(token_clock_offset=0)


def proxy_may_not_log_in_as_the_user(emulator) -> Undo:
    """End-to-end IAM: the proxy's role loses its rds-db:connect as the application's user on the cluster, so the
    proxy cannot log in to the database as that user (Aurora refuses the IAM login)."""
    iam = emulator.client("iam", "database")
    document = _json_document(iam.get_role_policy(RoleName=PROXY_ROLE, PolicyName=PROXY_POLICY)["PolicyDocument"])
    broken = json.loads(json.dumps(document).replace(f'/{USER}"', f'/{USER}_not"'))
    assert broken != document
    iam.put_role_policy(RoleName=PROXY_ROLE, PolicyName=PROXY_POLICY, PolicyDocument=json.dumps(broken))
    return lambda: iam.put_role_policy(
        RoleName=PROXY_ROLE, PolicyName=PROXY_POLICY, PolicyDocument=json.dumps(document)
    )


def verify_full_on_a_created_endpoint(emulator) -> Undo:
    """The function's code demands verify-full from an endpoint you create (RDS Proxy's certificate does not name
    it). Only a run of site.yml, which deploys the project's code, undoes it."""
    files = build.source_files()
    text = files["connection_test.py"][0].decode()
    marker = "def sslmode_for(endpoint: str) -> str:\n"
    assert marker in text
    patched = text.replace(marker, marker + "    return VERIFY_FULL\n", 1).encode()
    files["connection_test.py"] = (patched, files["connection_test.py"][1])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        for name, (data, _) in sorted(files.items()):
            out.writestr(name, data)
    client = emulator.client("lambda", APPLICATION)
    client.update_function_code(FunctionName=FUNCTION, ZipFile=archive.getvalue())
    client.get_waiter("function_updated_v2").wait(FunctionName=FUNCTION, WaiterConfig={"Delay": 1})
    return None


def sts_endpoint_deleted(emulator) -> Undo:
    """The application VPC's STS interface endpoint is deleted: the VPC has no other way to STS."""
    ec2 = emulator.client("ec2", APPLICATION)
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [f"com.amazonaws.{emulator.region}.sts"]}]
    )["VpcEndpoints"]
    ids = [e["VpcEndpointId"] for e in endpoints if e["State"].lower() == "available"]
    assert ids
    ec2.delete_vpc_endpoints(VpcEndpointIds=ids)
    return None


DRILLS = (
    Drill("trust-condition", trust_condition, "sts", ("AccessDenied",), owned=True),
    Drill("connect-resource-by-name", connect_resource_by_name, "auth", ("rds-db:connect",), owned=True),
    Drill("function-may-not-assume", function_may_not_assume, "sts", ("AccessDenied",), owned=True),
    Drill("endpoint-ingress-removed", endpoint_ingress_removed, "tcp", ("timed out",), owned=True),
    Drill("function-egress-removed", function_egress_removed, "tcp", ("timed out",), owned=True),
    Drill("database-user-changed", database_user_changed, "auth", (OTHER_USER,), owned=True),
    Drill("token-expired", token_expired, "auth", ("IAM authentication failed",), owned=False),
    Drill(
        "proxy-may-not-log-in-as-the-user",
        proxy_may_not_log_in_as_the_user,
        "auth",
        ("PAM authentication failed", USER),
        owned=True,
        propagates=True,
    ),
    # These two are repaired by site.yml only; they come last, the second masking the first.
    Drill(
        "verify-full-on-a-created-endpoint",
        verify_full_on_a_created_endpoint,
        "tls",
        ("host",),
        owned=True,
        undone_by_hand=False,
    ),
    Drill(
        "sts-endpoint-deleted",
        sts_endpoint_deleted,
        "sts",
        ("sts.",),
        owned=True,
        target="read_write",
        undone_by_hand=False,
    ),
)
