"""A function's network namespace (emulator/dataplane/network.py): its address, the names it resolves, the
listeners it reaches and the security groups that decide which.

The emulator runs in this process (its HTTP API on a free loopback port) so that the tests can call
``sandbox_for`` themselves; boto3 builds the deployment's shape through the API: an application VPC shared with
the database account, a Lambda function in it, the STS interface endpoint with private DNS, and a proxy endpoint
that the database account creates in the shared subnets.  Processes started with the sandbox's prefix then
resolve, connect and call STS from inside the namespace.  Proxy endpoints are served by a small echo listener
standing in for ``emulator.dataplane.proxy.serve``: what matters here is which connections reach it and with
which target.  A refused connection is checked to time out (1 s), never to be refused: nothing answers the
dropped packets, so the timeout is certain.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import itertools
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

from emulator import accounts as emulator_accounts
from emulator.dataplane import ca, network

pytestmark = pytest.mark.skipif(network.availability() is not None, reason=str(network.availability()))

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
STS_NAME = f"sts.{REGION}.amazonaws.com"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}

# Run inside the namespace: for each (name, port), the addresses the name resolves to, then a connection to the
# first one with a 1 s timeout and, but for HTTPS, one echo exchange.
PROBE = textwrap.dedent(
    """
    import json, socket, sys
    answers = {}
    for name, port in json.loads(sys.argv[1]):
        try:
            infos = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)
        except socket.gaierror as error:
            answers[name] = {"resolved": [], "error": error.strerror}
            continue
        answer = answers[name] = {"resolved": sorted({info[4][0] for info in infos})}
        connection = socket.socket()
        connection.settimeout(1)
        try:
            connection.connect((infos[0][4][0], port))
            answer["connect"] = "connected"
            if port != 443:  # the proxy's stand-in echoes; STS's relay expects TLS
                connection.sendall(b"ping")
                answer["reply"] = connection.recv(64).decode()
        except TimeoutError:
            answer["connect"] = "timeout"
        except ConnectionRefusedError:
            answer["connect"] = "refused"
        except OSError as error:
            answer["connect"] = repr(error)
        finally:
            connection.close()
    print(json.dumps(answers))
    """
)
# Run inside the namespace and kept running: resolves each name read from stdin.
RESOLVER = textwrap.dedent(
    """
    import json, socket, sys
    for line in sys.stdin:
        try:
            infos = socket.getaddrinfo(line.strip(), 5432, socket.AF_INET, socket.SOCK_STREAM)
        except socket.gaierror:
            infos = []
        print(json.dumps(sorted({info[4][0] for info in infos})), flush=True)
    """
)
CALLER = "import boto3; print(boto3.client('sts', region_name='eu-west-1').get_caller_identity()['Account'])"


# ---------------------------------------------------------------------------
# the emulator in this process, and a stand-in for proxy.serve
# ---------------------------------------------------------------------------
@dataclass
class Emulator:
    server: object
    accounts: emulator_accounts.AccountsConfig

    def account(self, name: str):
        return self.accounts.by_name(name)

    def client(self, service: str, name: str):
        account = self.account(name)
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.server.url,
            aws_access_key_id=account.access_key_id,
            aws_secret_access_key=account.secret_access_key,
        )


@pytest.fixture(scope="module")
def emulator():
    from emulator.server import EmulatorServer

    server = EmulatorServer(port=0).start()
    try:
        yield Emulator(server, emulator_accounts.load())
    finally:
        server.stop()
        server.app.reset()


class EchoListener:
    """Answers ``echo:<what it read>`` to each client; records nothing else."""

    def __init__(self, sock: socket.socket, target) -> None:
        self.sock, self.target, self.closed = sock, target, False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"echo:" + connection.recv(64))

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.fixture
def served(monkeypatch) -> list[EchoListener]:
    """Every listener handed to proxy.serve, in order."""
    from emulator.dataplane import proxy

    listeners: list[EchoListener] = []

    def serve(sock, target):
        listeners.append(EchoListener(sock, target))
        return listeners[-1]

    monkeypatch.setattr(proxy, "serve", serve, raising=False)
    return listeners


# ---------------------------------------------------------------------------
# the deployment's shape
# ---------------------------------------------------------------------------
@dataclass
class World:
    emulator: Emulator
    app_vpc: str
    app_subnets: list[str]
    lambda_sg: str
    sts_sg: str
    endpoint_sg: str
    sts_endpoint: str
    proxy_dns: str
    endpoint_dns: str

    def function(self, name: str = "connection-test"):
        from moto.awslambda.models import lambda_backends

        account = self.emulator.account("application-a").account_id
        return lambda_backends[account][REGION].get_function(name)

    def addresses(self, group_id: str) -> list[str]:
        """Private addresses of the interfaces with that group (the VPC owner sees the participant's too)."""
        enis = self.emulator.client("ec2", "application-a").describe_network_interfaces(
            Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["NetworkInterfaces"]
        return sorted(eni["PrivateIpAddress"] for eni in enis)


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def create_function(emulator: Emulator, name: str, vpc_config: dict | None = None) -> None:
    iam = emulator.client("iam", "application-a")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.attach_role_policy(
            RoleName="fn", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
        )
    role = iam.get_role(RoleName="fn")["Role"]["Arn"]
    emulator.client("lambda", "application-a").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code_zip()},
        **({"VpcConfig": vpc_config} if vpc_config else {}),
    )


def subnets(ec2, vpc_id: str, prefix: str) -> list[str]:
    return [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"{prefix}.{32 * i}/27", AvailabilityZone=f"{REGION}{'ab'[i]}")[
            "Subnet"
        ]["SubnetId"]
        for i in range(2)
    ]


def drop_default_egress(ec2, group_id: str) -> None:
    ec2.revoke_security_group_egress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )


def tcp(port: int, *, cidr: str | None = None, group: str | None = None) -> list[dict]:
    permission = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    if group:
        permission["UserIdGroupPairs"] = [{"GroupId": group}]
    return [permission]


@pytest.fixture
def distinct_addresses(monkeypatch) -> None:
    """Interface addresses handed out in order in each subnet, after the four that AWS reserves.

    moto draws an interface's address at random in its subnet, so two interfaces of a /27 share one now and then
    (AWS never gives one address twice: Amazon VPC User Guide, "Subnet CIDR blocks"); with a shared address the
    outcome of a test would depend on the draw."""
    from moto.ec2 import utils
    from moto.ec2.models import elastic_network_interfaces

    draw = utils.random_private_ip
    counters: dict[str, itertools.count] = {}

    def in_order(cidr: str | None = None, ipv6: bool = False) -> str:
        if not cidr or ipv6:
            return draw(cidr, ipv6)
        subnet = ipaddress.ip_network(cidr, strict=False)
        return str(subnet.network_address + next(counters.setdefault(str(subnet), itertools.count(4))))

    monkeypatch.setattr(utils, "random_private_ip", in_order)
    monkeypatch.setattr(elastic_network_interfaces, "random_private_ip", in_order)


@pytest.fixture
def world(emulator, served, distinct_addresses) -> World:
    """The deployment's network, as roles/app_network and roles/rds_proxy make it, and a function in it."""
    emulator.server.app.reset()
    database, application = emulator.account("database").account_id, emulator.account("application-a").account_id

    # The database account's VPC and its proxy.
    db_ec2 = emulator.client("ec2", "database")
    db_vpc = db_ec2.create_vpc(CidrBlock="10.1.0.0/24")["Vpc"]["VpcId"]
    rds = emulator.client("rds", "database")
    proxy = rds.create_db_proxy(
        DBProxyName="db-proxy",
        EngineFamily="POSTGRESQL",
        RoleArn=f"arn:aws:iam::{database}:role/proxy-role",
        DefaultAuthScheme="IAM_AUTH",
        VpcSubnetIds=subnets(db_ec2, db_vpc, "10.1.0"),
    )["DBProxy"]

    # The application VPC, its subnets shared with the database account.
    ec2 = emulator.client("ec2", "application-a")
    app_vpc = ec2.create_vpc(CidrBlock="10.4.0.0/24")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=app_vpc, EnableDnsHostnames={"Value": True})
    app_subnets = subnets(ec2, app_vpc, "10.4.0")
    emulator.client("ram", "application-a").create_resource_share(
        name="subnets",
        resourceArns=[f"arn:aws:ec2:{REGION}:{application}:subnet/{s}" for s in app_subnets],
        principals=[database],
    )

    # Security groups: the function reaches the database port in the VPC and STS's group; STS admits the
    # function's group; the endpoint (the database account's group in the shared VPC) admits the VPC.
    sts_sg = ec2.create_security_group(GroupName="sts", Description="sts", VpcId=app_vpc)["GroupId"]
    lambda_sg = ec2.create_security_group(GroupName="lambda", Description="lambda", VpcId=app_vpc)["GroupId"]
    for group in (sts_sg, lambda_sg):
        drop_default_egress(ec2, group)
    ec2.authorize_security_group_egress(GroupId=lambda_sg, IpPermissions=tcp(5432, cidr="10.4.0.0/24"))
    ec2.authorize_security_group_egress(GroupId=lambda_sg, IpPermissions=tcp(443, group=sts_sg))
    ec2.authorize_security_group_ingress(GroupId=sts_sg, IpPermissions=tcp(443, group=lambda_sg))
    endpoint_sg = db_ec2.create_security_group(GroupName="endpoint", Description="endpoint", VpcId=app_vpc)["GroupId"]
    drop_default_egress(db_ec2, endpoint_sg)
    db_ec2.authorize_security_group_ingress(GroupId=endpoint_sg, IpPermissions=tcp(5432, cidr="10.4.0.0/24"))

    sts_endpoint = ec2.create_vpc_endpoint(
        VpcId=app_vpc,
        ServiceName=f"com.amazonaws.{REGION}.sts",
        VpcEndpointType="Interface",
        SubnetIds=app_subnets,
        SecurityGroupIds=[sts_sg],
        PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]
    endpoint = rds.create_db_proxy_endpoint(
        DBProxyName="db-proxy",
        DBProxyEndpointName="app-rw",
        VpcSubnetIds=app_subnets,
        VpcSecurityGroupIds=[endpoint_sg],
        TargetRole="READ_WRITE",
    )["DBProxyEndpoint"]
    create_function(emulator, "connection-test", {"SubnetIds": app_subnets, "SecurityGroupIds": [lambda_sg]})
    world = World(
        emulator, app_vpc, app_subnets, lambda_sg, sts_sg, endpoint_sg, sts_endpoint, proxy["Endpoint"],
        endpoint["Endpoint"],
    )  # fmt: skip
    yield world
    network.stop()


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def run_in(sandbox: network.Sandbox, code: str, *args: str, env: dict | None = None) -> str:
    assert sandbox.unavailable is None, sandbox.unavailable
    result = subprocess.run(
        [*sandbox.argv_prefix, sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def probe(sandbox: network.Sandbox, *targets: tuple[str, int]) -> dict:
    return json.loads(run_in(sandbox, PROBE, json.dumps(targets)))


def caller_account(sandbox: network.Sandbox, emulator: Emulator, tmp_path: Path) -> str:
    """sts:GetCallerIdentity from inside the namespace, by STS's own name, trusting the emulator's CA."""
    account = emulator.account("application-a")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": account.access_key_id,
        "AWS_SECRET_ACCESS_KEY": account.secret_access_key,
        "AWS_CA_BUNDLE": str(ca.authority().ca_file),
        "AWS_STS_REGIONAL_ENDPOINTS": "regional",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    return run_in(sandbox, CALLER, env=env).strip()


def lo_addresses(name: str) -> set[str]:
    links = json.loads(subprocess.run(["ip", "-n", name, "-json", "address", "show", "dev", "lo"],
                                      capture_output=True, text=True, check=True).stdout)  # fmt: skip
    return {i["local"] for link in links for i in link["addr_info"] if i["family"] == "inet"} - {"127.0.0.1"}


def function_address(world: World, fn) -> str:
    subnet = sorted(world.app_subnets)[0]
    enis = world.emulator.client("ec2", "application-a").describe_network_interfaces(
        Filters=[{"Name": "subnet-id", "Values": [subnet]}, {"Name": "group-id", "Values": [world.lambda_sg]}]
    )["NetworkInterfaces"]
    (eni,) = enis
    return eni["PrivateIpAddress"]


# ---------------------------------------------------------------------------
# security groups, as rules
# ---------------------------------------------------------------------------
def rule(protocol: str, ports: tuple[int, int] | None = None, cidr: str | None = None, group: str | None = None):
    return SimpleNamespace(
        ip_protocol=protocol,
        from_port=ports[0] if ports else None,
        to_port=ports[1] if ports else None,
        ip_range={"CidrIp": cidr} if cidr else {},
        source_group={"GroupId": group, "UserId": "111111111111"} if group else {},
    )


def sg(group_id: str, egress=(), ingress=()):
    return SimpleNamespace(id=group_id, egress_rules=list(egress), ingress_rules=list(ingress))


def test_security_groups_admit_a_connection_only_with_egress_and_ingress():
    client_sg = sg("sg-client", egress=[rule("tcp", (5432, 5432), cidr="10.4.0.0/24")])
    server_sg = sg("sg-server", ingress=[rule("tcp", (5000, 6000), group="sg-client")])
    client = network.Interface("10.4.0.10", (client_sg,))
    server = network.Interface("10.4.0.40", (server_sg,))
    assert network.admits(client, server, 5432)
    assert not network.admits(client, server, 443)  # no egress rule for the port
    assert not network.admits(server, client, 5432)  # the server's group has no egress rule at all
    outside = network.Interface("10.4.1.40", (server_sg,))
    assert not network.admits(client, outside, 5432)  # the egress CIDR does not cover it

    # Groups aggregate; "-1" is every protocol and port; a group reference matches any group of the peer,
    # whichever account owns it (a shared VPC).
    everything = sg("sg-all", egress=[rule("-1", cidr="0.0.0.0/0")])
    other_account = sg("sg-other", ingress=[rule("-1", group="sg-all")])
    assert network.admits(
        network.Interface("10.4.0.10", (client_sg, everything)), network.Interface("10.4.0.9", (other_account,)), 443
    )
    assert not network.admits(client, network.Interface("10.4.0.9", (other_account,)), 5432)

    # Other protocols, prefix lists and IPv6 ranges match nothing.
    assert not network.admits(
        network.Interface("10.4.0.10", (sg("u", egress=[rule("udp", (0, 65535), cidr="0.0.0.0/0")]),)),
        network.Interface("10.4.0.40", (sg("i", ingress=[rule("-1", cidr="0.0.0.0/0")]),)),
        53,
    )
    ipv6 = SimpleNamespace(
        ip_protocol="-1", from_port=None, to_port=None, ip_range={"CidrIpv6": "::/0"}, source_group={}
    )
    assert not network.admits(
        network.Interface("10.4.0.10", (sg("e", egress=[ipv6]),)),
        network.Interface("10.4.0.40", (sg("i", ingress=[rule("-1", cidr="0.0.0.0/0")]),)),
        443,
    )


# ---------------------------------------------------------------------------
# a function in its VPC
# ---------------------------------------------------------------------------
def test_function_in_vpc_resolves_and_reaches_its_endpoints(world, served, tmp_path):
    fn = world.function()
    sandbox = network.sandbox_for(fn)
    assert sandbox.unavailable is None
    name = sandbox.argv_prefix[-1]
    assert sandbox.argv_prefix[1:3] == ["netns", "exec"] and name.startswith("emu-")
    assert lo_addresses(name) == {function_address(world, fn), *world.addresses(world.endpoint_sg),
                                  *world.addresses(world.sts_sg)}  # fmt: skip

    answers = probe(sandbox, (world.endpoint_dns, 5432), (world.proxy_dns, 5432), (STS_NAME, 443), ("example.com", 443))
    # The endpoint in the shared subnets resolves to its interfaces there and answers.
    assert answers[world.endpoint_dns]["resolved"] == world.addresses(world.endpoint_sg)
    assert answers[world.endpoint_dns]["reply"] == "echo:ping"
    # One listener per interface address, each serving the created endpoint of the database account's proxy.
    assert len(served) == len(world.addresses(world.endpoint_sg)) == 2
    database = world.emulator.account("database").account_id
    assert {(t.account_id, t.region, t.proxy_name, t.endpoint_name) for t in (s.target for s in served)} == {
        (database, REGION, "db-proxy", "app-rw")
    }
    # The proxy's default endpoint has its interfaces in the database VPC: not a name of this VPC.
    assert answers[world.proxy_dns]["resolved"] == []
    # STS by its own name, through the interface endpoint (private DNS), over TLS to the emulator's API.
    assert answers[STS_NAME]["resolved"] == world.addresses(world.sts_sg)
    assert answers[STS_NAME]["connect"] == "connected"
    assert caller_account(sandbox, world.emulator, tmp_path) == world.emulator.account("application-a").account_id
    # Nothing else resolves.
    assert answers["example.com"]["resolved"] == []

    # A second invocation with nothing changed keeps the listeners.
    listeners = list(served)
    assert network.sandbox_for(fn) == sandbox
    assert served == listeners and not any(listener.closed for listener in listeners)


def test_security_group_changes_take_effect_at_the_next_invocation(world, served):
    fn = world.function()
    db_ec2 = world.emulator.client("ec2", "database")
    ec2 = world.emulator.client("ec2", "application-a")
    sandbox = network.sandbox_for(fn)
    assert probe(sandbox, (world.endpoint_dns, 5432))[world.endpoint_dns]["reply"] == "echo:ping"

    # The endpoint's group no longer admits the VPC: the name resolves, the packets are dropped.
    db_ec2.revoke_security_group_ingress(GroupId=world.endpoint_sg, IpPermissions=tcp(5432, cidr="10.4.0.0/24"))
    network.sandbox_for(fn)
    answer = probe(sandbox, (world.endpoint_dns, 5432))[world.endpoint_dns]
    assert answer["resolved"] == world.addresses(world.endpoint_sg)
    assert answer["connect"] == "timeout"
    assert served and all(listener.closed for listener in served)
    before = len(served)

    # Admitted again, by the function's address this time.
    address = function_address(world, fn)
    db_ec2.authorize_security_group_ingress(GroupId=world.endpoint_sg, IpPermissions=tcp(5432, cidr=f"{address}/32"))
    network.sandbox_for(fn)
    assert probe(sandbox, (world.endpoint_dns, 5432))[world.endpoint_dns]["reply"] == "echo:ping"
    assert len(served) == before + 2 and not any(listener.closed for listener in served[before:])

    # The function's own egress to STS's group goes: STS is dropped too.
    assert probe(sandbox, (STS_NAME, 443))[STS_NAME]["connect"] == "connected"
    ec2.revoke_security_group_egress(GroupId=world.lambda_sg, IpPermissions=tcp(443, group=world.sts_sg))
    network.sandbox_for(fn)
    assert probe(sandbox, (STS_NAME, 443))[STS_NAME]["connect"] == "timeout"


def test_sts_resolves_only_through_an_available_endpoint_with_private_dns(world, served):
    fn = world.function()
    ec2 = world.emulator.client("ec2", "application-a")
    sandbox = network.sandbox_for(fn)
    assert probe(sandbox, (STS_NAME, 443))[STS_NAME]["resolved"] == world.addresses(world.sts_sg)

    ec2.delete_vpc_endpoints(VpcEndpointIds=[world.sts_endpoint])
    network.sandbox_for(fn)
    assert probe(sandbox, (STS_NAME, 443))[STS_NAME]["resolved"] == []
    assert lo_addresses(sandbox.argv_prefix[-1]) == {function_address(world, fn), *world.addresses(world.endpoint_sg)}

    # Without private DNS only the endpoint's own names resolve.
    endpoint = ec2.create_vpc_endpoint(
        VpcId=world.app_vpc,
        ServiceName=f"com.amazonaws.{REGION}.sts",
        VpcEndpointType="Interface",
        SubnetIds=world.app_subnets,
        SecurityGroupIds=[world.sts_sg],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]
    (regional, *zonal) = [entry["DnsName"] for entry in endpoint["DnsEntries"]]
    network.sandbox_for(fn)
    answers = probe(sandbox, (STS_NAME, 443), (regional, 443), (zonal[0], 443))
    assert answers[STS_NAME]["resolved"] == []
    assert answers[regional]["resolved"] == world.addresses(world.sts_sg)
    assert answers[regional]["connect"] == "connected"
    assert len(answers[zonal[0]]["resolved"]) == 1


def test_deleted_proxy_endpoint_goes_away(world, served):
    """Also for a process that was already running in the namespace (a warm execution environment)."""
    fn = world.function()
    sandbox = network.sandbox_for(fn)
    assert probe(sandbox, (world.endpoint_dns, 5432))[world.endpoint_dns]["reply"] == "echo:ping"
    warm = subprocess.Popen(
        [*sandbox.argv_prefix, sys.executable, "-c", RESOLVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:

        def resolve(name: str) -> list[str]:
            warm.stdin.write(name + "\n")
            warm.stdin.flush()
            return json.loads(warm.stdout.readline())

        assert resolve(world.endpoint_dns) == world.addresses(world.endpoint_sg)
        world.emulator.client("rds", "database").delete_db_proxy_endpoint(DBProxyEndpointName="app-rw")
        network.sandbox_for(fn)
        assert resolve(world.endpoint_dns) == []
    finally:
        warm.stdin.close()
        warm.wait(timeout=10)
    assert probe(sandbox, (world.endpoint_dns, 5432))[world.endpoint_dns]["resolved"] == []
    assert served and all(listener.closed for listener in served)


# ---------------------------------------------------------------------------
# a function without VpcConfig
# ---------------------------------------------------------------------------
def test_function_without_vpc_reaches_public_sts_only(world, served, tmp_path):
    create_function(world.emulator, "no-vpc")
    sandbox = network.sandbox_for(world.function("no-vpc"))
    answers = probe(sandbox, (STS_NAME, 443), (world.endpoint_dns, 5432))
    assert answers[STS_NAME]["resolved"] == [network.PUBLIC_STS_ADDRESS]
    assert answers[STS_NAME]["connect"] == "connected"
    assert answers[world.endpoint_dns]["resolved"] == []
    assert caller_account(sandbox, world.emulator, tmp_path) == world.emulator.account("application-a").account_id
    assert served == []


# ---------------------------------------------------------------------------
# lifecycle
# ---------------------------------------------------------------------------
def test_release_and_stop_remove_namespaces(world, served):
    create_function(world.emulator, "no-vpc")
    first, second = world.function(), world.function("no-vpc")
    names = [network.sandbox_for(fn).argv_prefix[-1] for fn in (first, second)]
    for name in names:
        assert (network.NETNS_DIR / name).exists() and (network.ETC_NETNS / name / "hosts").exists()

    network.release(first)
    assert not (network.NETNS_DIR / names[0]).exists() and not (network.ETC_NETNS / names[0]).exists()
    assert served and all(listener.closed for listener in served)
    assert (network.NETNS_DIR / names[1]).exists()
    network.stop()
    assert not (network.NETNS_DIR / names[1]).exists() and not (network.ETC_NETNS / names[1]).exists()


def test_stale_namespaces_of_a_gone_emulator_are_removed():
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale, alive = "emu-test0stale", "emu-test0alive"
    network.OWNERS_DIR.mkdir(parents=True, exist_ok=True)
    owners = {
        stale: {"pid": int(gone.stdout), "start": "0"},
        alive: {"pid": os.getpid(), "start": network._start_time(os.getpid())},
    }
    try:
        for name, owner in owners.items():
            subprocess.run(["ip", "netns", "add", name], check=True)
            (network.ETC_NETNS / name).mkdir(parents=True, exist_ok=True)
            (network.OWNERS_DIR / name).write_text(json.dumps(owner))
        assert stale in network.remove_stale()
        assert not (network.NETNS_DIR / stale).exists() and not (network.ETC_NETNS / stale).exists()
        assert (network.NETNS_DIR / alive).exists()
    finally:
        for name in owners:
            network._delete_namespace(name)


def test_without_cap_sys_admin_nothing_is_made():
    """As root without capabilities: the check says why, and the namespace commands, tried regardless, fail
    without leaving anything behind."""
    script = textwrap.dedent(
        """
        import json, types
        from emulator.dataplane import network
        fn = types.SimpleNamespace(account_id="222222222222", region="eu-west-1", function_name="f", _vpc_config={})
        checked = network.sandbox_for(fn)
        network._capabilities = lambda: 1 << network.CAP_SYS_ADMIN  # try anyway: the kernel refuses
        tried = network.sandbox_for(fn)
        name = network.namespace_name(fn)
        left = [str(p) for p in (network.NETNS_DIR / name, network.ETC_NETNS / name, network.OWNERS_DIR / name)
                if p.exists()]
        print(json.dumps([checked.argv_prefix, checked.unavailable, tried.argv_prefix, tried.unavailable, left]))
        """
    )
    result = subprocess.run(
        ["setpriv", "--bounding-set=-all", "--inh-caps=-all", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    checked_prefix, checked, tried_prefix, tried, left = json.loads(result.stdout)
    assert checked_prefix == [] and checked == network.ROOT_NEEDED
    assert tried_prefix == [] and tried.startswith(network.ROOT_NEEDED)
    assert left == []


def test_default_endpoint_of_a_proxy_in_the_functions_vpc(world, served):
    """A proxy whose own subnets are in the function's VPC: its default endpoint is a name of that VPC."""
    database = world.emulator.account("database").account_id
    proxy = world.emulator.client("rds", "database").create_db_proxy(
        DBProxyName="app-proxy",
        EngineFamily="POSTGRESQL",
        RoleArn=f"arn:aws:iam::{database}:role/proxy-role",
        DefaultAuthScheme="IAM_AUTH",
        VpcSubnetIds=world.app_subnets,
        VpcSecurityGroupIds=[world.endpoint_sg],
    )["DBProxy"]
    sandbox = network.sandbox_for(world.function())
    answer = probe(sandbox, (proxy["Endpoint"], 5432))[proxy["Endpoint"]]
    assert len(answer["resolved"]) == 2 and set(answer["resolved"]) <= set(world.addresses(world.endpoint_sg))
    assert answer["reply"] == "echo:ping"
    targets = {(t.proxy_name, t.endpoint_name) for t in (listener.target for listener in served)}
    assert targets == {("db-proxy", "app-rw"), ("app-proxy", None)}
