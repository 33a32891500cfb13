"""TLS per kind of RDS Proxy endpoint, against servers that present a certificate shaped like RDS Proxy's.

RDS Proxy's ACM certificate covers its default endpoint's name with a one-label wildcard
(``*.proxy-<id>.<region>.rds.amazonaws.com``), not the endpoints created for it (``<name>.endpoint.proxy-<id>...``):
the function checks the first with ``verify-full`` and the others with ``verify-ca``.

Here a made-up proxy (``proxy-abcdefghijkl`` in eu-west-1) is played by a local writer and streaming standby whose
certificate, from a test CA, holds that wildcard and nothing else. Its default endpoint and its read-write endpoint
name the writer, its read-only endpoint the standby. So that these names resolve to the local servers without
touching the machine's /etc/hosts, the function runs in a child process (proxy_names_child.py) in a private mount
namespace where a hosts file of the test's own is bind-mounted over /etc/hosts: ``unshare --mount`` (as root), else
``unshare --map-root-user --mount``; if neither works the tests fail, saying so. The child imports connection_test
from lambda/src unmodified, assumes the connect role through the emulator's STS and signs a real token, then sends
the test password instead. One child runs every case, once per module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import connection_test
import pytest

from .support import CONNECT_ROLE_ARN, READER_HOST, TEST_PASSWORD, PostgresServer

LAMBDA_SRC = Path(connection_test.__file__).resolve().parent
CHILD = Path(__file__).with_name("proxy_names_child.py")

PROXY_DOMAIN = "proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com"
PROXY_CERTIFICATE_NAME = f"*.{PROXY_DOMAIN}"  # what RDS Proxy's certificate covers: one label in front
DEFAULT_ENDPOINT = f"app-db-proxy.{PROXY_DOMAIN}"
READ_WRITE_ENDPOINT = f"app-db-read-write.endpoint.{PROXY_DOMAIN}"
READ_ONLY_ENDPOINT = f"app-db-read-only.endpoint.{PROXY_DOMAIN}"
HOSTS = {DEFAULT_ENDPOINT: "127.0.0.1", READ_WRITE_ENDPOINT: "127.0.0.1", READ_ONLY_ENDPOINT: READER_HOST}

# Run "$@" with the hosts file "$0" over /etc/hosts, in a mount namespace of its own (private propagation, the
# default of unshare --mount: nothing is seen outside).
NAMESPACES = (("unshare", "--mount"), ("unshare", "--map-root-user", "--mount"))
BIND_HOSTS = 'mount --bind "$0" /etc/hosts && exec "$@"'

READ_WRITE = {"target": "read_write"}
READ_ONLY = {"target": "read_only"}
CASES = {
    "default": {"event": None},
    "read_write": {"event": READ_WRITE},
    "read_only": {"event": READ_ONLY},
    # what the function did before for every endpoint
    "read_write verify-full": {"event": READ_WRITE, "sslmode": "verify-full"},
    "read_only verify-full": {"event": READ_ONLY, "sslmode": "verify-full"},
    # the packaged Amazon root CAs do not hold the test CA that issued the servers' certificate
    "read_write other CA": {"event": READ_WRITE, "unset": ["DB_SSL_ROOT_CERT"]},
    "read_only other CA": {"event": READ_ONLY, "unset": ["DB_SSL_ROOT_CERT"]},
}
CREATED_ENDPOINTS = pytest.mark.parametrize(
    ("target", "endpoint", "role"),
    [("read_write", READ_WRITE_ENDPOINT, "writer"), ("read_only", READ_ONLY_ENDPOINT, "reader")],
)


@pytest.fixture(scope="module")
def proxy_pg():
    """A writer and a standby presenting a certificate for the made-up proxy's default endpoint only."""
    with PostgresServer(certificate_names=(PROXY_CERTIFICATE_NAME,)) as server:
        yield server


@pytest.fixture(scope="module")
def private_hosts(tmp_path_factory) -> list[str]:
    """The command prefix that runs a command with the test's hosts file as /etc/hosts, checked by running it."""
    hosts = tmp_path_factory.mktemp("hosts") / "hosts"
    hosts.write_text("127.0.0.1 localhost\n" + "".join(f"{address} {name}\n" for name, address in HOSTS.items()))
    hosts.chmod(0o644)
    failures = []
    for unshare in NAMESPACES:
        prefix = [*unshare, "--", "sh", "-c", BIND_HOSTS, str(hosts)]
        try:
            probe = subprocess.run([*prefix, "cat", "/etc/hosts"], capture_output=True, text=True, timeout=60)
        except OSError as error:  # no unshare at all
            failures.append(f"  {' '.join(unshare)}: {error}")
            continue
        if probe.returncode == 0 and probe.stdout == hosts.read_text():
            return prefix
        failures.append(f"  {' '.join(unshare)}: exit {probe.returncode}: {(probe.stderr or probe.stdout).strip()}")
    pytest.fail(
        "cannot give the function a private /etc/hosts: these tests need a mount namespace (as root "
        "`unshare --mount`, otherwise `unshare --map-root-user --mount` with unprivileged user namespaces "
        "enabled) and `mount --bind`:\n" + "\n".join(failures),
        pytrace=False,
    )


@pytest.fixture(scope="module")
def answers(emulator, proxy_pg, private_hosts) -> dict[str, dict]:
    """The function's answer per case of ``CASES``, from one child process in the private namespace."""
    emulator.control.configure(delay_scale=0, fault_rate=0, fault_seed=0, fault_services=[])
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(
        emulator.env("application-a"),
        DATABASE_ACCOUNT_IAM_ROLE=CONNECT_ROLE_ARN,
        **proxy_pg.environment(host=DEFAULT_ENDPOINT),
        RDS_PROXY_READ_WRITE_ENDPOINT=READ_WRITE_ENDPOINT,
        RDS_PROXY_READ_ONLY_ENDPOINT=READ_ONLY_ENDPOINT,
    )
    spec = {"lambda_src": str(LAMBDA_SRC), "password": TEST_PASSWORD, "hosts": HOSTS, "cases": CASES}
    machine_hosts = Path("/etc/hosts").read_bytes()
    run = subprocess.run(
        [*private_hosts, sys.executable, str(CHILD)],
        input=json.dumps(spec),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert Path("/etc/hosts").read_bytes() == machine_hosts  # the machine's own hosts file is untouched
    if run.returncode != 0:
        pytest.fail(f"the child process failed (exit {run.returncode}):\n{run.stderr}", pytrace=False)
    return json.loads(run.stdout)


def test_default_endpoint_is_verified_by_name(answers, proxy_pg):
    answer = answers["default"]
    assert answer["status"] == 200, answer
    body = answer["body"]
    assert (body["target"], body["endpoint"], body["port"]) == ("default", DEFAULT_ENDPOINT, proxy_pg.primary_port)
    assert (body["sslmode"], body["role"]) == ("verify-full", "writer")
    assert answer["connection"] == {"sslmode": "verify-full", "ssl_in_use": True}


@CREATED_ENDPOINTS
def test_created_endpoint_is_verified_against_the_ca(answers, target, endpoint, role):
    answer = answers[target]
    assert answer["status"] == 200, answer
    body = answer["body"]
    assert (body["target"], body["endpoint"], body["sslmode"]) == (target, endpoint, "verify-ca")
    assert (body["role"], body["expected_role"], body["role_matches"]) == (role, role, True)
    assert answer["connection"] == {"sslmode": "verify-ca", "ssl_in_use": True}


@CREATED_ENDPOINTS
def test_created_endpoint_fails_verify_full_on_the_name(answers, target, endpoint, role):
    """What the function did before: RDS Proxy's certificate does not name the endpoints created for it."""
    answer = answers[f"{target} verify-full"]
    assert answer["status"] == 502, answer
    body = answer["body"]
    assert (body["stage"], body["endpoint"], body["sslmode"]) == ("tls", endpoint, "verify-full")
    assert f'server certificate for "{PROXY_CERTIFICATE_NAME}" does not match host name "{endpoint}"' in body["error"]
    assert "not a name in the server's certificate" in body["likely_causes"][0]
    assert "only a proxy's default endpoint" in body["likely_causes"][1]
    assert answer["connection"] is None


@CREATED_ENDPOINTS
def test_verify_ca_refuses_a_certificate_from_another_ca(answers, target, endpoint, role):
    answer = answers[f"{target} other CA"]
    assert answer["status"] == 502, answer
    body = answer["body"]
    assert (body["stage"], body["endpoint"], body["sslmode"]) == ("tls", endpoint, "verify-ca")
    assert "certificate verify failed" in body["error"]
    bundle = connection_test.DEFAULT_CA_BUNDLE  # the child's is the same file: it imports the same module
    assert body["likely_causes"][0] == (
        f"the server's certificate does not chain to a CA in {bundle} (sslmode verify-ca checks the CA)"
    )
    assert answer["connection"] is None


@pytest.mark.parametrize(
    ("endpoint", "sslmode"),
    [
        (DEFAULT_ENDPOINT, "verify-full"),
        (READ_WRITE_ENDPOINT, "verify-ca"),
        (READ_ONLY_ENDPOINT, "verify-ca"),
        ("App-DB-Read-Only.Endpoint.Proxy-ABCDEFGHIJKL.eu-west-1.rds.amazonaws.com.", "verify-ca"),  # DNS is caseless
        ("app-db-ro.endpoint.proxy-abcdefghijkl.us-gov-west-1.rds.amazonaws.com", "verify-ca"),
        ("app-db-ro.endpoint.proxy-abcdefghijkl.cn-north-1.rds.amazonaws.com.cn", "verify-ca"),
        ("localhost", "verify-full"),
        ("127.0.0.1", "verify-full"),
        ("db.example.com", "verify-full"),
        ("app-db.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com", "verify-full"),  # a cluster endpoint
        ("app-db-ro.endpoint.proxy-abc.eu-west-1.rds.amazonaws.com", "verify-full"),  # not a proxy id
        ("a.b.endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com", "verify-full"),  # two labels in front
        ("app-db-ro.endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com.example.com", "verify-full"),
        ("endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com", "verify-full"),  # a proxy named "endpoint"
    ],
)
def test_sslmode_per_endpoint_name(endpoint, sslmode):
    assert connection_test.sslmode_for(endpoint) == sslmode
