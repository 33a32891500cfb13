"""The modules through ansible-playbook against the emulator, with provisioning
delays on so that every wait really polls: four runs per change (check mode,
apply, check mode, apply), a cross-account deployment, a run under injected
throttling and server errors, and failure statuses."""

from __future__ import annotations

import time

import pytest

from .playbook_runner import count, finish, four_runs, mutating, run_playbook, start_playbook

pytestmark = pytest.mark.slow

# Seconds of emulation per minute of AWS provisioning: a proxy takes 0.2 s,
# its targets 0.15 s, an endpoint 0.15 s; the modules poll every 0.1 s.
DELAY_SCALE = 0.05
WAIT_DELAY = 0.1

DATABASE, APPLICATION_A, APPLICATION_B = "111111111111", "222222222222", "333333333333"
SHARE = "Share the subnets with the database account"
PROXY = "Proxy in front of the cluster"
READ_ONLY = "Read-only endpoint in the shared subnets"
READ_WRITE = "Read-write endpoint in the shared subnets"
PRESENT_TASKS = (SHARE, PROXY, READ_ONLY, READ_WRITE)
ABSENT_TASKS = (
    "Remove the read-only endpoint",
    "Remove the read-write endpoint",
    "Remove the proxy",
    "Remove the share",
)


def _network(ec2, cidr_prefix: str) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock=f"{cidr_prefix}.0/24")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr_prefix}.{i * 32}/27", AvailabilityZone=f"eu-west-1{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate("abc")
    ]
    return vpc, subnets


@pytest.fixture
def deployment(aws, proxy_role):
    """Both accounts' networks and an Aurora cluster with a writer and a reader;
    returns the extra vars of present.yml (plus the IDs under ``ids``)."""
    aws.control.configure(delay_scale=DELAY_SCALE)
    db_ec2, app_ec2 = aws.client("ec2", "database"), aws.client("ec2", "application-a")
    db_vpc, db_subnets = _network(db_ec2, "10.0.0")
    one_zone = db_ec2.create_subnet(VpcId=db_vpc, CidrBlock="10.0.0.96/27", AvailabilityZone="eu-west-1a")
    proxy_group = db_ec2.create_security_group(GroupName="proxy", Description="proxy", VpcId=db_vpc)["GroupId"]
    app_vpc, app_subnets = _network(app_ec2, "10.0.16")
    rds = aws.client("rds", "database")
    rds.create_db_cluster(
        DBClusterIdentifier="orders",
        Engine="aurora-postgresql",
        MasterUsername="postgres",
        MasterUserPassword="not-a-secret-1",
    )
    for name in ("orders-writer", "orders-reader"):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier="orders",
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    return {
        "wait_delay": WAIT_DELAY,
        "share_name": "orders-subnets",
        "app_subnet_ids": app_subnets,
        "app_subnet_arns": [f"arn:aws:ec2:{aws.region}:{APPLICATION_A}:subnet/{s}" for s in app_subnets],
        "share_principals": [DATABASE],
        "share_tags": {"Name": "orders-subnets"},
        "proxy_name": "orders",
        "secret_arn": f"arn:aws:secretsmanager:{aws.region}:{DATABASE}:secret:orders-AbCdEf",
        "proxy_role_arn": proxy_role,
        "db_subnet_ids": db_subnets,
        "db_subnet_ids_one_zone": [db_subnets[0], one_zone["Subnet"]["SubnetId"]],
        "proxy_security_group_ids": [proxy_group],
        "proxy_idle_client_timeout": 1800,
        "proxy_pool": {"max_connections_percent": 90, "max_idle_connections_percent": 10},
        "proxy_tags": {"Name": "orders"},
        "cluster_id": "orders",
        "endpoint_tags": {"Name": "orders-endpoint"},
        "ids": {"db_vpc": db_vpc, "app_vpc": app_vpc},
    }


def _changed(runs, tasks):
    return {task: [run.changed()[task] for run in runs] for task in tasks}


def test_cross_account_share_proxy_and_endpoints_four_runs(aws, deployment, tmp_path):
    runs = four_runs(aws, "present.yml", deployment, tmp_path)

    assert _changed(runs, PRESENT_TASKS) == {task: [True, True, False, False] for task in PRESENT_TASKS}
    assert [mutating(run) for run in runs[2:]] == [[], []], "the last check run and the last apply changed something"
    assert mutating(runs[0]) == [], "check mode changed something"
    # With provisioning delays on, the waits polled: more describe calls than
    # the modules make when everything is ready at once (proxy: one read, two
    # waits, one final read; each endpoint: one read, one wait, one final read).
    assert count(runs[1], "DescribeDBProxies") > 4
    assert count(runs[1], "DescribeDBProxyEndpoints") > 2 * 3

    # The dry run of a fresh deployment predicts the endpoints although the
    # subnets are not shared yet: the modules warn instead of failing.
    assert any("not visible" in w for w in runs[0].results()[READ_ONLY].get("warnings", []))

    results = runs[1].results()
    share = results[SHARE]
    assert share["principals"] == [DATABASE]
    assert share["resource_arns"] == sorted(deployment["app_subnet_arns"])
    assert {a["status"] for a in share["associations"]} == {"ASSOCIATED"}
    assert share["allow_external_principals"] is False

    proxy = results[PROXY]
    assert proxy["status"] == "available"
    assert proxy["resource_id"].startswith("prx-")
    assert proxy["db_proxy_arn"].endswith(f":db-proxy:{proxy['resource_id']}")
    assert proxy["vpc_id"] == deployment["ids"]["db_vpc"]
    assert proxy["endpoint"].startswith("orders.proxy-")
    assert proxy["connection_pool_config"]["max_connections_percent"] == 90
    instances = {t["rds_resource_id"]: t for t in proxy["targets"] if t["type"] == "RDS_INSTANCE"}
    assert set(instances) == {"orders-writer", "orders-reader"}
    assert {t["target_health"]["state"] for t in instances.values()} == {"AVAILABLE"}

    for task, role in ((READ_ONLY, "READ_ONLY"), (READ_WRITE, "READ_WRITE")):
        endpoint = results[task]
        assert endpoint["status"] == "available"
        assert endpoint["target_role"] == role
        assert endpoint["vpc_id"] == deployment["ids"]["app_vpc"], "the endpoint sits in the shared VPC"
        assert endpoint["is_default"] is False
        assert endpoint["db_proxy_endpoint_arn"].startswith(f"arn:aws:rds:{aws.region}:{DATABASE}:")
        assert endpoint["endpoint"].startswith(f"orders-{role.lower().replace('_', '-')}.endpoint.proxy-")

    shared = results["Subnets shared with the database account"]["resource_shares"]
    assert [s["owning_account_id"] for s in shared] == [APPLICATION_A]
    assert shared[0]["resource_arns"] == sorted(deployment["app_subnet_arns"])
    assert runs[0].results()["Subnets shared with the database account"]["resource_shares"] == []

    rds = aws.client("rds", "database")
    described = rds.describe_db_proxy_endpoints(DBProxyEndpointName="orders-read-only")["DBProxyEndpoints"][0]
    assert described["VpcSubnetIds"] == deployment["app_subnet_ids"]


def test_updates_four_runs(aws, deployment, tmp_path):
    assert run_playbook(aws, "present.yml", deployment, tmp_path).returncode == 0
    db_ec2 = aws.client("ec2", "database")
    # The database account owns the endpoints' security group in the shared VPC.
    endpoint_group = db_ec2.create_security_group(
        GroupName="orders-endpoints", Description="endpoints", VpcId=deployment["ids"]["app_vpc"]
    )["GroupId"]
    second_proxy_group = db_ec2.create_security_group(
        GroupName="proxy-2", Description="proxy", VpcId=deployment["ids"]["db_vpc"]
    )["GroupId"]
    updated = {
        **deployment,
        "share_principals": [DATABASE, APPLICATION_B],
        "share_tags": {"Name": "orders-subnets", "team": "db"},
        "proxy_security_group_ids": [second_proxy_group],
        "proxy_idle_client_timeout": 900,
        "proxy_pool": {"max_connections_percent": 80, "connection_borrow_timeout": 30},
        "proxy_tags": {"Name": "orders", "team": "db"},
        "endpoint_security_group_ids": [endpoint_group],
        "endpoint_tags": {"team": "db"},
    }

    runs = four_runs(aws, "present.yml", updated, tmp_path)

    assert _changed(runs, PRESENT_TASKS) == {task: [True, True, False, False] for task in PRESENT_TASKS}
    assert [mutating(run) for run in runs[::2] + runs[3:]] == [[], [], []]
    diff = runs[0].results()[PROXY]["diff"]
    assert (diff["before"]["idle_client_timeout"], diff["after"]["idle_client_timeout"]) == (1800, 900)
    results = runs[1].results()
    assert results[SHARE]["principals"] == sorted([DATABASE, APPLICATION_B])
    assert results[SHARE]["tags"] == {"Name": "orders-subnets", "team": "db"}
    proxy = results[PROXY]
    assert proxy["idle_client_timeout"] == 900
    assert proxy["vpc_security_group_ids"] == [second_proxy_group]
    assert proxy["connection_pool_config"]["connection_borrow_timeout"] == 30
    assert proxy["tags"] == {"Name": "orders", "team": "db"}
    for task in (READ_ONLY, READ_WRITE):
        assert results[task]["vpc_security_group_ids"] == [endpoint_group]
        assert results[task]["tags"] == {"team": "db"}


def test_delete_four_runs(aws, deployment, tmp_path):
    assert run_playbook(aws, "present.yml", deployment, tmp_path).returncode == 0

    runs = four_runs(aws, "absent.yml", deployment, tmp_path)

    assert _changed(runs, ABSENT_TASKS) == {task: [True, True, False, False] for task in ABSENT_TASKS}
    assert [mutating(run) for run in runs[::2] + runs[3:]] == [[], [], []]
    rds = aws.client("rds", "database")
    assert rds.describe_db_proxies()["DBProxies"] == []
    assert [e for e in rds.describe_db_proxy_endpoints()["DBProxyEndpoints"] if not e["IsDefault"]] == []
    shares = aws.client("ram", "application-a").get_resource_shares(resourceOwner="SELF")["resourceShares"]
    assert {s["status"] for s in shares} <= {"DELETED"}


def test_throttling_and_server_errors_still_converge(aws, deployment, tmp_path):
    aws.control.configure(fault_rate=0.2, fault_seed=11)
    aws.control.reset_requests()

    applied = run_playbook(aws, "present.yml", deployment, tmp_path)

    assert applied.returncode == 0, applied.failures()
    faults = [e for e in aws.control.requests() if e.get("fault")]
    assert len(faults) >= 5, "the run met too few injected faults to prove anything"
    assert {task: applied.changed()[task] for task in PRESENT_TASKS} == dict.fromkeys(PRESENT_TASKS, True)
    aws.control.configure(fault_rate=0)
    again = run_playbook(aws, "present.yml", deployment, tmp_path, check=True)
    assert again.returncode == 0
    assert not any(again.changed().values()), "the faulty run left something unconverged"


def test_failure_statuses_and_bad_input(aws, deployment, tmp_path):
    aws.control.reset_requests()
    run = run_playbook(aws, "failures.yml", deployment, tmp_path)

    assert run.returncode == 0, run.stderr
    failures = {name: result.get("msg", "") for name, result in run.results().items()}
    assert "incompatible-network" in failures["Proxy that ends in incompatible-network"]
    assert "Timed out" not in failures["Proxy that ends in incompatible-network"]
    assert "vpc_subnet_ids" in failures["Proxy in subnets of one Availability Zone"]
    assert "two Availability Zones" in failures["Proxy in subnets of one Availability Zone"]
    assert run.results()["Proxy that works"]["status"] == "available"
    assert "insufficient-resource-limits" in failures["Endpoint that ends in insufficient-resource-limits"]
    assert "target_role" in failures["Endpoint with an unknown target role"]
    orphan = run.results()["Endpoint of a proxy that does not exist"]
    assert "CreateDBProxyEndpoint" in orphan["msg"]
    assert orphan["error"]["code"] == "DBProxyNotFoundFault"
    created = {e["action"] for e in aws.control.mutating_requests()}
    assert created <= {"CreateDBProxy", "CreateDBProxyEndpoint"}
    names = [p["DBProxyName"] for p in aws.client("rds", "database").describe_db_proxies()["DBProxies"]]
    assert "orders-one-zone" not in names


def test_the_proxy_registers_its_target_once_the_instances_can_be(aws, deployment, monitoring_role, tmp_path):
    """RDS Proxy refuses to register instances that are configuring Enhanced Monitoring: the module tries again
    on that refusal alone until they are available."""
    rds = aws.client("rds", "database")
    rds.create_db_cluster(
        DBClusterIdentifier="billing", Engine="aurora-postgresql", MasterUsername="postgres",
        MasterUserPassword="not-a-secret-2",
    )  # fmt: skip
    aws.control.configure(hold=["db_instance_monitoring"])  # until released below
    rds.create_db_instance(
        DBInstanceIdentifier="billing-writer", DBClusterIdentifier="billing", Engine="aurora-postgresql",
        DBInstanceClass="db.serverless", MonitoringInterval=60, MonitoringRoleArn=monitoring_role,
    )  # fmt: skip
    aws.control.reset_requests()
    process = start_playbook(aws, "present.yml", {**deployment, "cluster_id": "billing"}, tmp_path)
    deadline = time.monotonic() + 300
    while (
        not any(e["action"] == "RegisterDBProxyTargets" and e["status"] == 400 for e in aws.control.requests())
        and time.monotonic() < deadline
        and process.poll() is None
    ):
        time.sleep(0.1)
    aws.control.configure(hold=[])
    run = finish(process)

    assert run.returncode == 0, run.failures()
    statuses = [e["status"] for e in aws.control.requests() if e["action"] == "RegisterDBProxyTargets"]
    assert statuses[0] == 400, "the first registration was not refused"
    assert statuses[-1] == 200
    targets = run.results()[PROXY]["targets"]
    assert {t["rds_resource_id"] for t in targets if t["type"] == "RDS_INSTANCE"} == {"billing-writer"}
    assert {t["target_health"]["state"] for t in targets} == {"AVAILABLE"}
