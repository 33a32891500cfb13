"""The main job against the emulator, as one story on one set of accounts.

Under a seeded 20% rate of throttling and server errors: a dry run on empty
accounts, a verbose deploy and a verbose second run that changes nothing (and
never shows the master password). Then, without faults: the deployment's
security posture and IAM policies, a dry run that predicts nothing, changes
made by hand found and undone, deploys killed part-way and run again, a
half-built deployment destroyed, and the destroy of the whole, twice.

The tests run in file order (they are steps of one story).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from parliament import analyze_policy_string

from . import drills
from .helpers import copy_inventory, kill_playbook_at, recap, run_playbook, run_playbook_reacting
from .leftovers import deployment_resources, deployment_shape

HOSTS = ("database", "application-a", "application-b")
APPLICATIONS = ("application-a", "application-b")
DEPLOYMENT = "xacct"
# Seconds of emulation per minute of AWS: a 6-minute cluster takes 0.12 s, so
# every wait polls at least once without slowing the suite down much.
DELAY_SCALE = 0.02
# IAM's propagation is a matter of seconds on AWS; at this scale that would be
# milliseconds, which no run would notice. A second, every time a role is
# created or changed, makes the services refuse fresh roles as AWS does.
MINUTES = {"iam_role_propagation": 50}
FAULTS = {"fault_rate": 0.2, "fault_seed": 2026}
VERBOSE = "-vvv"
# The drills that kill a run inside the cluster wait hold the cluster in
# "creating" until they release it, so that it is still creating when the run
# reaches the wait (playbooks/wait.yml, after the functions: the deploy
# overlaps the cluster's provisioning with the rest), however slow the machine.
HOLD_THE_CLUSTER = ["db_cluster"]


def _ok(result, hosts=HOSTS):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    counts = recap(result.stdout)
    assert set(counts) == set(hosts), counts
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), counts
    return counts


@pytest.fixture(scope="module")
def story(emulator, tmp_path_factory):
    emulator.control.reset()
    emulator.control.configure(delay_scale=DELAY_SCALE, fault_rate=0, aws_minutes=MINUTES)
    tmp = tmp_path_factory.mktemp("site")
    inventory = copy_inventory(tmp)
    state = {"inventory": inventory, "outputs": tmp / "outputs" / f"{DEPLOYMENT}.json", "verbose_output": []}
    yield state
    emulator.control.configure(delay_scale=0, fault_rate=0, aws_minutes={})


@pytest.fixture
def faults(emulator):
    emulator.control.configure(**FAULTS)
    yield
    emulator.control.configure(fault_rate=0)


def _faulted(emulator) -> int:
    return sum(1 for e in emulator.control.requests() if e["fault"])


def test_dry_run_on_empty_accounts_predicts_changes_and_changes_nothing(emulator, story, faults):
    emulator.control.reset_requests()
    counts = _ok(run_playbook("site.yml", emulator, story["inventory"], ["--check", "--diff"]))
    assert all(c["changed"] > 0 for c in counts.values()), counts
    assert emulator.control.mutating_requests() == []


# The first deploy meets what AWS refuses at first: the Enhanced Monitoring
# role is held unpropagated until the deploy has retried the instances for
# it, and the instances are then held in "configuring-enhanced-monitoring"
# (which RDS Proxy refuses to register as targets) until the deploy waits
# for them.
RETRYING_THE_INSTANCES = r"FAILED - RETRYING: \[database\]: .*Ensure the writer and the readers exist"
INSIDE_THE_INSTANCES_WAIT = r"FAILED - RETRYING: \[database\]: .*Wait for the writer and the readers to become"


def test_first_run_deploys_everything_through_throttling_and_server_errors(emulator, story, faults):
    emulator.control.reset_requests()
    emulator.control.configure(hold=["iam_role_propagation", "db_instance_monitoring"])
    try:
        result = run_playbook_reacting(
            "site.yml", emulator, story["inventory"],
            {
                RETRYING_THE_INSTANCES: lambda: emulator.control.configure(hold=["db_instance_monitoring"]),
                INSIDE_THE_INSTANCES_WAIT: lambda: emulator.control.configure(hold=[]),
            },
            [VERBOSE],
        )  # fmt: skip
    finally:
        emulator.control.configure(hold=[])
    story["verbose_output"].append(result.stdout + result.stderr)
    counts = _ok(result)
    requests = [e for e in emulator.control.requests() if not e["fault"]]
    # RDS refused the monitoring role until it had propagated; the deploy tried again.
    instances = [e["status"] for e in requests if e["action"] == "CreateDBInstance"]
    assert 400 in instances and instances.count(200) == 2, instances
    # The proxy's target was registered once the instances could be, not before (AWS would refuse).
    registrations = [e["status"] for e in requests if e["action"] == "RegisterDBProxyTargets"]
    assert registrations and set(registrations) == {200}, registrations
    assert all(c["changed"] > 0 for c in counts.values()), counts
    # The faults were real: a fifth of the calls were refused and retried.
    assert _faulted(emulator) > 0.1 * len(emulator.control.requests())
    outputs = json.loads(story["outputs"].read_text())
    assert set(outputs["application_accounts"]) == set(APPLICATIONS)
    for name, account in outputs["application_accounts"].items():
        assert account["read_only_endpoint"].startswith(f"{DEPLOYMENT}-proxy-{name}-read-only.endpoint.proxy-")
        assert account["read_write_endpoint"].startswith(f"{DEPLOYMENT}-proxy-{name}-read-write.endpoint.proxy-")
        assert account["connect_role_arn"] == f"arn:aws:iam::111111111111:role/{DEPLOYMENT}-proxy-connect-{name}"
        assert account["function_name"] == f"{DEPLOYMENT}-connection-test"
        assert len(account["shared_subnet_ids"]) == 2
    assert outputs["database_account"]["proxy_resource_id"].startswith("prx-")
    # The verification ran every function through both endpoints: the local data path answered.
    _assert_verified(result)
    # The waits really waited: resources were seen in their transitional status first.
    polls = [e["action"] for e in emulator.control.requests()]
    assert polls.count("DescribeDBProxyEndpoints") > 4
    assert polls.count("DescribeDBClusters") > 2


def _assert_verified(result) -> None:
    """Each application account's function answered from a reader through its read-only endpoint and from the
    writer through its read-write endpoint, each time as its own database user as the database says it
    (current_user; verify.yml's messages)."""
    output = " ".join(result.stdout.split())
    assert "was NOT exercised" not in output
    for name in APPLICATIONS:
        for target, role, kind in (("read_only", "reader", "read-only"), ("read_write", "writer", "read-write")):
            said = f"{name}: {target}: Database connection was successful! ({role} at {DEPLOYMENT}-proxy-{name}-{kind}."
            assert said in output, output[-6000:]
            start = output.index(said)
            assert f", as {USERS[name]}; ms:" in output[start : output.index("ms:", start) + 3], output[
                start : start + 400
            ]


def test_second_run_changes_nothing_through_the_same_faults(emulator, story, faults):
    emulator.control.reset_requests()
    result = run_playbook("site.yml", emulator, story["inventory"], [VERBOSE])
    story["verbose_output"].append(result.stdout + result.stderr)
    counts = _ok(result)
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert _faulted(emulator) > 0
    assert emulator.control.mutating_requests() == []


def _master_secret(emulator) -> str:
    """The ARN of the secret that holds the master password: RDS's (ManageMasterUserPassword), the deployment's own
    secret gone."""
    rds = emulator.client("rds", "database")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"{DEPLOYMENT}-db")["DBClusters"][0]
    secrets = emulator.client("secretsmanager", "database")
    assert not [s for s in secrets.list_secrets()["SecretList"] if s["Name"].startswith(f"{DEPLOYMENT}-db/")]
    return cluster["MasterUserSecret"]["SecretArn"]


def test_rds_manages_the_master_password_and_rotates_it_weekly(emulator, story):
    secrets = emulator.client("secretsmanager", "database")
    described = secrets.describe_secret(SecretId=_master_secret(emulator))
    assert described["Name"].startswith("rds!cluster-")
    assert (described["RotationEnabled"], described["RotationRules"]["AutomaticallyAfterDays"]) == (True, 7)


def test_the_master_password_appears_in_no_output_and_no_file(emulator, story):
    secrets = emulator.client("secretsmanager", "database")
    password = json.loads(secrets.get_secret_value(SecretId=_master_secret(emulator))["SecretString"])["password"]
    assert len(password) >= 16
    assert len(story["verbose_output"]) == 2
    for output in story["verbose_output"]:
        # Verbose indeed: every module's arguments are printed.
        assert "ESTABLISH LOCAL CONNECTION" in output
        assert "module_args:" in output
        assert password not in output
    assert password not in story["outputs"].read_text()


def _groups(emulator, account):
    groups = emulator.client("ec2", account).describe_security_groups()["SecurityGroups"]
    return {g["GroupName"]: g for g in groups if g["GroupName"].startswith(f"{DEPLOYMENT}-")}


def _rules(permissions):
    """Security group rules as comparable tuples: (protocol, from, to, peer)."""
    rules = set()
    for p in permissions:
        ports = (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"))
        rules |= {(*ports, r["CidrIp"]) for r in p.get("IpRanges", [])}
        rules |= {(*ports, r["CidrIpv6"]) for r in p.get("Ipv6Ranges", [])}
        rules |= {(*ports, r["GroupId"]) for r in p.get("UserIdGroupPairs", [])}
        rules |= {(*ports, r["PrefixListId"]) for r in p.get("PrefixListIds", [])}
    return rules


def test_no_security_group_of_the_deployment_is_open_to_the_internet(emulator, story):
    groups = {account: _groups(emulator, account) for account in HOSTS}
    assert sum(len(g) for g in groups.values()) >= 7
    for account, named in groups.items():
        for name, group in named.items():
            peers = {rule[3] for rule in _rules(group["IpPermissions"])}
            assert not peers & {"0.0.0.0/0", "::/0"}, f"{account}: {name} accepts the internet"


@pytest.mark.parametrize("account", APPLICATIONS)
def test_the_function_reaches_only_the_proxy_endpoints_on_5432_and_sts_on_443(emulator, story, account):
    groups = _groups(emulator, account)
    function = groups[f"{DEPLOYMENT}-app-connection-test-lambda"]
    sts = groups[f"{DEPLOYMENT}-app-sts-endpoint"]
    outputs = json.loads(story["outputs"].read_text())["application_accounts"][account]
    subnets = emulator.client("ec2", account).describe_subnets(SubnetIds=outputs["shared_subnet_ids"])["Subnets"]
    shared_cidrs = {s["CidrBlock"] for s in subnets}
    assert _rules(function["IpPermissions"]) == set()
    assert _rules(function["IpPermissionsEgress"]) == (
        {("tcp", 5432, 5432, cidr) for cidr in shared_cidrs} | {("tcp", 443, 443, sts["GroupId"])}
    )
    assert _rules(sts["IpPermissions"]) == {("tcp", 443, 443, function["GroupId"])}
    # The proxy endpoints of this account sit in exactly those subnets.
    rds = emulator.client("rds", "database")
    endpoints = [
        e
        for e in rds.describe_db_proxy_endpoints(DBProxyName=f"{DEPLOYMENT}-proxy")["DBProxyEndpoints"]
        if e["DBProxyEndpointName"].startswith(f"{DEPLOYMENT}-proxy-{account}-")
    ]
    assert len(endpoints) == 2
    assert all(set(e["VpcSubnetIds"]) == set(outputs["shared_subnet_ids"]) for e in endpoints)


def test_the_proxy_requires_tls_and_iam_and_the_cluster_is_encrypted(emulator, story):
    rds = emulator.client("rds", "database")
    (proxy,) = rds.describe_db_proxies(DBProxyName=f"{DEPLOYMENT}-proxy")["DBProxies"]
    assert proxy["RequireTLS"] is True
    # End-to-end IAM: clients authenticate with IAM tokens and the proxy logs in with IAM; no secret.
    assert (proxy["DefaultAuthScheme"], proxy["Auth"]) == ("IAM_AUTH", [])
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=f"{DEPLOYMENT}-db")["DBClusters"]
    assert cluster["StorageEncrypted"] is True
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    instances = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [f"{DEPLOYMENT}-db"]}])
    assert instances["DBInstances"]
    assert all(i["PubliclyAccessible"] is False for i in instances["DBInstances"])


def _deployment_policies(emulator):
    """Every IAM policy the deployment created: (where, kind, document)."""
    policies = []
    for account in HOSTS:
        iam = emulator.client("iam", account)
        for role in iam.list_roles()["Roles"]:
            name = role["RoleName"]
            if not name.startswith(f"{DEPLOYMENT}-"):
                continue
            policies.append((f"{account}: {name} trust", "trust", role["AssumeRolePolicyDocument"]))
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
                policies.append((f"{account}: {name} {policy_name}", "identity", document))
            attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            # Only AWS managed policies are attached; the roles create no managed policy of their own.
            assert all(p["PolicyArn"].startswith("arn:aws:iam::aws:policy/") for p in attached), attached
    return policies


def _statements(document):
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _listed(value):
    return value if isinstance(value, list) else [value]


# A trust policy names who may assume the role and, by IAM's grammar, has no
# Resource element; parliament reads every policy as an identity policy and
# says exactly that of each trust statement, and nothing else may be found.
TRUST_GRAMMAR = ("MALFORMED", "Statement contains neither Resource nor NotResource")
SENSITIVE = {"rds-db:connect", "sts:assumerole", "secretsmanager:getsecretvalue"}
# End-to-end IAM: nothing in the data path reads the master secret.
GRANTED = SENSITIVE - {"secretsmanager:getsecretvalue"}
# Each application account's database user (derived from its host name).
USERS = {"application-a": "application_a", "application-b": "application_b"}


def test_every_iam_policy_of_the_deployment_passes_parliament(emulator, story):
    policies = _deployment_policies(emulator)
    kinds = [kind for _, kind, _ in policies]
    # Flow logs (3 accounts), proxy, monitoring, 2 connect roles, 2 functions.
    assert kinds.count("trust") == 9
    assert kinds.count("identity") == 8
    for where, kind, document in policies:
        # parliament's own auditors, as its command line runs them. (Its optional
        # community auditors flag rds-db:connect itself, the connect role's purpose.)
        findings = analyze_policy_string(json.dumps(document)).findings
        found = [(f.issue, f.detail) for f in findings]
        if kind == "trust":
            assert found and all(item == TRUST_GRAMMAR for item in found), (where, found)
        else:
            assert found == [], (where, document, found)


def test_no_policy_grants_connect_assume_role_or_the_secret_on_everything(emulator, story):
    policies = _deployment_policies(emulator)
    granted = set()
    for where, kind, document in policies:
        for statement in _statements(document):
            if statement["Effect"] != "Allow":
                continue
            actions = {a.lower() for a in _listed(statement.get("Action", []))}
            assert not any("*" in a for a in actions), (where, statement)
            granted |= actions & SENSITIVE
            if kind == "trust":
                principals = statement["Principal"]
                assert principals != "*", where
                for value in principals.values():
                    assert all("*" not in p for p in _listed(value)), (where, statement)
                assert statement.get("Condition"), f"{where}: an unconditioned trust"
            elif actions & SENSITIVE:
                resources = _listed(statement["Resource"])
                assert all(r != "*" and not r.endswith(":*") and "*" not in r.split(":", 5)[-1] for r in resources), (
                    where,
                    statement,
                )
    # The check looked at statements that do grant each of them; none grants the master secret.
    assert granted == GRANTED


def test_each_connect_role_may_connect_as_its_accounts_user_only_and_the_proxy_as_the_users_only(emulator, story):
    proxy = emulator.client("rds", "database").describe_db_proxies(DBProxyName=f"{DEPLOYMENT}-proxy")["DBProxies"][0]
    cluster = emulator.client("rds", "database").describe_db_clusters(DBClusterIdentifier=f"{DEPLOYMENT}-db")
    cluster_id = cluster["DBClusters"][0]["DbClusterResourceId"]
    assert (proxy["DefaultAuthScheme"], proxy["Auth"]) == ("IAM_AUTH", [])
    prefix = f"arn:aws:rds-db:{emulator.region}:{emulator.account('database').account_id}:dbuser:"
    connect = {}
    for where, kind, document in _deployment_policies(emulator):
        for statement in _statements(document):
            if kind == "identity" and "rds-db:connect" in _listed(statement.get("Action", [])):
                connect[where] = sorted(_listed(statement["Resource"]))
    expected = {
        f"database: {DEPLOYMENT}-proxy-connect-{host} rds-db-connect": [
            f"{prefix}{proxy['DBProxyArn'].split(':')[-1]}/{user}"
        ]
        for host, user in USERS.items()
    }
    expected[f"database: {DEPLOYMENT}-proxy connect-as-application-users"] = sorted(
        f"{prefix}{cluster_id}/{user}" for user in USERS.values()
    )
    assert connect == expected


def test_each_accounts_user_owns_its_schema_and_cannot_use_another_accounts(emulator, story):
    """Asked of PostgreSQL itself, through the RDS Data API as the master user."""
    rds = emulator.client("rds", "database")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"{DEPLOYMENT}-db")["DBClusters"][0]
    sql = (
        "SELECT u.n, s.n, has_schema_privilege(u.n, s.n, 'USAGE'), has_schema_privilege(u.n, s.n, 'CREATE'), "
        "pg_get_userbyid(n.nspowner) = u.n, pg_has_role(u.n, 'rds_iam', 'MEMBER'), r.rolsuper "
        "FROM (VALUES ('application_a'), ('application_b')) u(n) CROSS JOIN (VALUES ('application_a'), "
        "('application_b')) s(n) JOIN pg_namespace n ON n.nspname = s.n JOIN pg_roles r ON r.rolname = u.n "
        "ORDER BY 1, 2"
    )
    answer = emulator.client("rds-data", "database").execute_statement(
        resourceArn=cluster["DBClusterArn"], secretArn=_master_secret(emulator), database="example_db", sql=sql
    )
    rows = [[next(iter(field.values())) for field in record] for record in answer["records"]]
    assert rows == [
        ["application_a", "application_a", True, True, True, True, False],
        ["application_a", "application_b", False, False, False, True, False],
        ["application_b", "application_a", False, False, False, True, False],
        ["application_b", "application_b", True, True, True, True, False],
    ]


def test_dry_run_on_the_deployment_predicts_no_change_after_aws_upgraded_the_minor_version(emulator, story):
    """AWS upgrades minor versions by itself: that is neither drift nor a request to downgrade. (The next test's
    run then leaves the upgraded cluster as it is.)"""
    rds, cluster = emulator.client("rds", "database"), f"{DEPLOYMENT}-db"
    before = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]["EngineVersion"]
    account = emulator.account("database").account_id
    story["upgraded"] = emulator.control.upgrade_minor_version(account, emulator.region, cluster)
    assert story["upgraded"].split(".")[0] == before.split(".")[0] and story["upgraded"] != before
    emulator.control.reset_requests()
    counts = _ok(run_playbook("site.yml", emulator, story["inventory"], ["--check", "--diff"]))
    assert all(c["changed"] == 0 for c in counts.values()), counts
    assert emulator.control.mutating_requests() == []


def test_the_verification_fails_at_the_broken_link_for_every_account(emulator, story):
    """playbooks/verify.yml itself, with one link broken for every account (the tokens seen as expired): the
    wiring checks pass, and each invocation fails naming the auth link and the function's diagnosis."""
    undo = drills.token_expired(emulator)
    try:
        result = run_playbook("playbooks/verify.yml", emulator, story["inventory"])
    finally:
        undo()
    assert result.returncode != 0, result.stdout[-6000:]
    output = " ".join(result.stdout.split())
    for name in APPLICATIONS:
        for target, kind in (("read_only", "read-only"), ("read_write", "read-write")):
            said = f"{name}: {target} failed at the auth link ({DEPLOYMENT}-proxy-{name}-{kind}."
            assert said in output, output[-6000:]
    assert output.count("IAM authentication failed") >= 2 * len(APPLICATIONS), output[-6000:]
    assert "Database connection was successful!" not in output


@pytest.mark.parametrize("drill", drills.DRILLS, ids=lambda d: d.name)
def test_a_broken_link_fails_the_connection_test_at_that_link(emulator, story, drill):
    """Each drill breaks one link by hand; the connection test, invoked as verify.yml invokes it, names that link.
    Drills that can be undone by hand are; the last two stay broken for the next test's run to repair."""
    if not story.get("left_broken"):
        assert drills.invoke(emulator, drill.target)["ok"] is True, "the path works before the drill"
    undo = drill.apply(emulator)
    try:
        body = (
            drills.answer_when(emulator, drill.target, ok=False)
            if drill.propagates
            else drills.invoke(emulator, drill.target)
        )
    finally:
        if undo is not None:
            undo()
    assert (body["ok"], body["stage"]) == (False, drill.stage), body
    said = " ".join([body["error"], *body["likely_causes"]])
    for words in drill.expected:
        assert words in said, body
    assert (undo is not None) == drill.undone_by_hand
    if undo is not None:
        again = drills.answer_when(emulator, drill.target, ok=True)
        assert again["ok"] is True, f"undone by hand, the path works again: {again}"
    else:
        story.setdefault("left_broken", []).append(drill.name)


def test_changes_made_outside_the_deployment_are_found_and_undone(emulator, story):
    """Each role's check finds a change made by hand, a dry run predicts its
    undoing, and the next run restores the desired state."""
    group = _groups(emulator, "application-a")[f"{DEPLOYMENT}-app-connection-test-lambda"]
    lambda_b = emulator.client("lambda", "application-b")
    function = f"{DEPLOYMENT}-connection-test"
    memory = lambda_b.get_function_configuration(FunctionName=function)["MemorySize"]
    iam = emulator.client("iam", "database")
    role, policy = f"{DEPLOYMENT}-proxy-connect-application-a", "rds-db-connect"
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    tags = iam.list_role_tags(RoleName=role)["Tags"]

    ec2_a = emulator.client("ec2", "application-a")
    vpc_tags = sorted(ec2_a.describe_vpcs(VpcIds=[group["VpcId"]])["Vpcs"][0]["Tags"], key=str)
    rds, cluster = emulator.client("rds", "database"), f"{DEPLOYMENT}-db"
    retention = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]["BackupRetentionPeriod"]

    ec2_a.create_tags(Resources=[group["VpcId"]], Tags=[{"Key": "Owner", "Value": "someone"}])
    lambda_b.update_function_configuration(FunctionName=function, MemorySize=memory * 2)
    iam.tag_role(RoleName=role, Tags=[{"Key": "Owner", "Value": "someone"}])
    rds.modify_db_cluster(DBClusterIdentifier=cluster, BackupRetentionPeriod=retention + 1, ApplyImmediately=True)
    emulator.control.reset_requests()
    counts = _ok(run_playbook("site.yml", emulator, story["inventory"], ["--check"]))
    assert all(c["changed"] > 0 for c in counts.values()), counts
    assert emulator.control.mutating_requests() == []

    # A dry run's verification reports what follows (it reads what is there); the run undoes it before it
    # verifies: every link of the data path that the deployment owns, broken at once (two still are, from the
    # drills), a rule open to the internet and a widened policy.
    assert story.get("left_broken") == [d.name for d in drills.DRILLS if not d.undone_by_hand], story
    for drill in drills.DRILLS:
        if drill.owned and drill.undone_by_hand:
            drill.apply(emulator)
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2_a.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[ssh])
    widened = {**document, "Statement": [{**_statements(document)[0], "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(widened))
    result = run_playbook("site.yml", emulator, story["inventory"])
    counts = _ok(result)
    assert all(c["changed"] > 0 for c in counts.values()), counts
    _assert_verified(result)  # the broken links are repaired: every function answers again
    assert sorted(ec2_a.describe_vpcs(VpcIds=[group["VpcId"]])["Vpcs"][0]["Tags"], key=str) == vpc_tags
    group = _groups(emulator, "application-a")[f"{DEPLOYMENT}-app-connection-test-lambda"]
    assert _rules(group["IpPermissions"]) == set()
    assert lambda_b.get_function_configuration(FunctionName=function)["MemorySize"] == memory
    assert iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"] == document
    assert iam.list_role_tags(RoleName=role)["Tags"] == tags
    (restored,) = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"]
    assert (restored["BackupRetentionPeriod"], restored["Status"]) == (retention, "available")
    assert restored["EngineVersion"] == story["upgraded"]  # the run modified the cluster, not its version


def test_an_account_left_out_of_the_inventory_loses_its_database_user_at_the_next_run(emulator, story, tmp_path):
    """The users' stage of site.yml (playbooks/db_users.yml), run with application-b gone from the inventory, drops
    its database user: its function, still deployed, is refused at the auth link, while application-a's answers.
    Back in the inventory, the next run gives it its user again."""
    inventory = copy_inventory(tmp_path)
    hosts = yaml.safe_load(inventory.read_text())
    del hosts["all"]["children"]["application_accounts"]["hosts"]["application-b"]
    inventory.write_text(yaml.safe_dump(hosts))
    without = run_playbook("playbooks/db_users.yml", emulator, inventory)
    assert without.returncode == 0, without.stdout[-6000:]
    assert recap(without.stdout)["database"]["changed"] == 1, without.stdout[-3000:]
    left = drills.invoke(emulator, "read_write", "application-b")
    assert (left["ok"], left["stage"]) == (False, "auth"), left
    assert USERS["application-b"] in " ".join([left["error"], *left["likely_causes"]]), left
    assert drills.invoke(emulator, "read_write", "application-a")["ok"] is True
    _ok(run_playbook("playbooks/db_users.yml", emulator, story["inventory"]))
    back = drills.invoke(emulator, "read_write", "application-b")
    assert (back["ok"], back["current_user"]) == (True, USERS["application-b"]), back


CALLBACKS = Path(__file__).parent / "callback_plugins"


def _switch_auth_scheme(emulator, story, tmp_path, monkeypatch, scheme: str) -> list[dict]:
    """Run site.yml with ``rds_proxy_auth_scheme`` set to ``scheme``, every function invoked after every task that
    changed something (tests/playbooks/callback_plugins/invoke_after_changes.py); the answers, in order."""
    log = tmp_path / f"answers-{scheme}.jsonl"
    spec = {
        "endpoint_url": emulator.url,
        "region": emulator.region,
        "log": str(log),
        "targets": [
            {
                "account": name,
                "access_key_id": emulator.account(name).access_key_id,
                "secret_access_key": emulator.account(name).secret_access_key,
                "function": drills.FUNCTION,
                "target": target,
            }
            for name in APPLICATIONS
            for target in ("read_only", "read_write")
        ],
    }
    (tmp_path / "invoke.json").write_text(json.dumps(spec))
    monkeypatch.setenv("INVOKE_AFTER_CHANGES", str(tmp_path / "invoke.json"))
    monkeypatch.setenv("ANSIBLE_CALLBACK_PLUGINS", str(CALLBACKS))
    monkeypatch.setenv("ANSIBLE_CALLBACKS_ENABLED", "invoke_after_changes")
    # IAM's propagation takes a second here (MINUTES); the switch waits for two.
    extra = ["-e", f"rds_proxy_auth_scheme={scheme}", "-e", "rds_proxy_iam_propagation_seconds=2"]
    counts = _ok(run_playbook("site.yml", emulator, story["inventory"], extra))
    assert counts["database"]["changed"] > 0 and all(counts[name]["changed"] > 0 for name in APPLICATIONS), counts
    return [json.loads(line) for line in log.read_text().splitlines()]


def _assert_switched(emulator, story, tmp_path, monkeypatch, scheme: str, users: dict | None) -> None:
    """One run of site.yml switches the deployment to ``scheme``; it ends in that scheme alone (verify.yml checks it
    too), and every function, invoked after every change the run made, answered every time."""
    answers = _switch_auth_scheme(emulator, story, tmp_path, monkeypatch, scheme)
    failures = [a for a in answers if not a["answer"].get("ok")]
    assert not failures, failures[:4]
    # Sampled all along the run: after the proxy's and the functions' changes at least.
    tasks = {a["task"] for a in answers}
    assert any(t.startswith("database: rds_proxy : ") for t in tasks), tasks
    assert any(t.startswith("application-a: iam_lambda : ") for t in tasks), tasks
    expected = users or dict.fromkeys(APPLICATIONS, "postgres")
    for name in APPLICATIONS:
        body = drills.invoke(emulator, "read_write", name)
        assert (body["ok"], body["current_user"]) == (True, expected[name]), body
    rds = emulator.client("rds", "database")
    proxy = rds.describe_db_proxies(DBProxyName=f"{DEPLOYMENT}-proxy")["DBProxies"][0]
    iam = emulator.client("iam", "database")
    policies = set(iam.list_role_policies(RoleName=f"{DEPLOYMENT}-proxy")["PolicyNames"])
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"{DEPLOYMENT}-db")["DBClusters"][0]
    # RDS manages the master password with either scheme; with SECRETS the proxy reads RDS's secret.
    assert _master_secret(emulator) == cluster["MasterUserSecret"]["SecretArn"]
    if scheme == "SECRETS":
        assert proxy.get("DefaultAuthScheme", "NONE") == "NONE", proxy
        assert [(a["IAMAuth"], a["SecretArn"]) for a in proxy["Auth"]] == [("REQUIRED", _master_secret(emulator))]
        assert policies == {"read-master-secret"}
    else:
        assert (proxy["DefaultAuthScheme"], proxy["Auth"]) == ("IAM_AUTH", []), proxy
        assert policies == {"connect-as-application-users"}
    for name in APPLICATIONS:
        document = iam.get_role_policy(RoleName=f"{DEPLOYMENT}-proxy-connect-{name}", PolicyName="rds-db-connect")
        resources = _listed(_statements(document["PolicyDocument"])[0]["Resource"])
        assert [r.rsplit("/", 1)[1] for r in resources] == [expected[name]], resources


def test_switching_to_the_secrets_scheme_converges_in_one_run_and_every_function_answers_throughout(
    emulator, story, tmp_path, monkeypatch
):
    _assert_switched(emulator, story, tmp_path, monkeypatch, "SECRETS", None)


def test_with_secrets_the_proxy_logs_in_with_each_password_rds_rotates_and_every_function_keeps_answering(
    emulator, story
):
    """With the SECRETS scheme (the deployment as the switch left it), RDS rotates the master password in the secret
    the proxy reads (as on its schedule; here at once, with Secrets Manager's RotateSecret): a warm function keeps
    its session, and a new connection through the proxy logs in to the database with the new password."""
    rds = emulator.client("rds", "database")
    proxy = rds.describe_db_proxies(DBProxyName=f"{DEPLOYMENT}-proxy")["DBProxies"][0]
    assert [a["SecretArn"] for a in proxy["Auth"]] == [_master_secret(emulator)], "the deployment is on SECRETS"
    secrets = emulator.client("secretsmanager", "database")
    targets = [(name, target) for name in APPLICATIONS for target in ("read_only", "read_write")]
    for name, target in targets:  # every function warm, with a session kept through the proxy
        body = drills.invoke(emulator, target, name, fresh=False)
        assert (body["ok"], body["current_user"]) == (True, "postgres"), body
    for _ in range(2):
        before = secrets.get_secret_value(SecretId=_master_secret(emulator))
        secrets.rotate_secret(SecretId=_master_secret(emulator))
        after = secrets.get_secret_value(SecretId=_master_secret(emulator))
        assert after["VersionId"] != before["VersionId"]
        assert json.loads(after["SecretString"])["password"] != json.loads(before["SecretString"])["password"]
        for name, target in targets:
            for fresh in (False, True):
                body = drills.invoke(emulator, target, name, fresh=fresh)
                assert (body["ok"], body["current_user"]) == (True, "postgres"), (name, target, fresh, body)


def test_switching_back_to_end_to_end_iam_converges_in_one_run_and_every_function_answers_throughout(
    emulator, story, tmp_path, monkeypatch
):
    _assert_switched(emulator, story, tmp_path, monkeypatch, "IAM_AUTH", USERS)


# Where a deploy is killed: after the subnet shares (the cluster and the proxy
# are being created), inside the cluster wait (once it has seen the cluster
# still creating), after the proxy and its endpoints.
AFTER_THE_SHARES = r"PLAY \[RDS Proxy and the application accounts' endpoints\]"
INSIDE_THE_CLUSTER_WAIT = r"FAILED - RETRYING: \[database\]: .*Wait for the cluster to become available"
AFTER_THE_PROXY = r"PLAY \[Connection-test functions\]"


def test_a_deploy_killed_at_any_point_converges_when_run_again(emulator, story):
    """Each kill leaves what the run had made so far; each new run picks up
    from there. The result has the shape of the uninterrupted deployment (same
    resources, none twice), and the first deployment is left as it was."""
    before = deployment_shape(emulator, DEPLOYMENT)
    resumed = ["-e", "deployment_name=resumed"]
    emulator.control.configure(hold=HOLD_THE_CLUSTER)
    try:
        for marker in (AFTER_THE_SHARES, INSIDE_THE_CLUSTER_WAIT, AFTER_THE_PROXY):
            kill_playbook_at("site.yml", emulator, story["inventory"], marker, resumed)
            if marker == AFTER_THE_SHARES:
                # Killed half-way: the shares exist, no endpoint or function yet.
                partial = deployment_shape(emulator, "resumed")
                assert any("resource share" in line for line in partial), partial
                assert not any("proxy endpoint" in line or "function" in line for line in partial), partial
            if marker == INSIDE_THE_CLUSTER_WAIT:
                (cluster,) = emulator.client("rds").describe_db_clusters(DBClusterIdentifier="resumed-db")["DBClusters"]
                assert cluster["Status"] == "creating"
                emulator.control.configure(hold=[])
        _ok(run_playbook("site.yml", emulator, story["inventory"], resumed))
    finally:
        emulator.control.configure(hold=[])
    assert deployment_shape(emulator, "resumed") == before
    assert deployment_shape(emulator, DEPLOYMENT) == before


def test_with_secrets_a_new_cluster_gives_rds_its_password_before_the_proxy_is_made(emulator, story):
    """A new deployment with SECRETS: by the end of the cluster's stage (which then waits for the cluster) RDS holds
    the master password, so that the proxy made next reads RDS's secret; no secret of the deployment's own is made."""
    fresh = ["-e", "deployment_name=secrets", "-e", "rds_proxy_auth_scheme=SECRETS"]
    _ok(run_playbook("playbooks/db_cluster.yml", emulator, story["inventory"], fresh), hosts=["database"])
    (cluster,) = emulator.client("rds", "database").describe_db_clusters(DBClusterIdentifier="secrets-db")["DBClusters"]
    assert (cluster["Status"], cluster["MasterUserSecret"]["SecretStatus"]) == ("available", "active"), cluster
    secrets = emulator.client("secretsmanager", "database").list_secrets()["SecretList"]
    assert [s["Name"] for s in secrets if s["Name"].startswith("secrets-db/")] == []
    _ok(run_playbook("playbooks/destroy.yml", emulator, story["inventory"], fresh))
    assert deployment_resources(emulator, "secrets") == []


def test_a_half_built_deployment_is_destroyed_and_leaves_nothing(emulator, story):
    before = {name: deployment_resources(emulator, name) for name in (DEPLOYMENT, "resumed")}
    half = ["-e", "deployment_name=half"]
    emulator.control.configure(hold=HOLD_THE_CLUSTER)
    try:
        kill_playbook_at("site.yml", emulator, story["inventory"], INSIDE_THE_CLUSTER_WAIT, half)
        (cluster,) = emulator.client("rds").describe_db_clusters(DBClusterIdentifier="half-db")["DBClusters"]
        assert cluster["Status"] == "creating"
    finally:
        emulator.control.configure(hold=[])
    _ok(run_playbook("playbooks/destroy.yml", emulator, story["inventory"], half))
    assert deployment_resources(emulator, "half") == []
    # Other deployments in the same accounts are untouched.
    assert {name: deployment_resources(emulator, name) for name in before} == before


def test_destroy_removes_everything_and_can_run_again(emulator, story):
    assert deployment_resources(emulator, DEPLOYMENT), "nothing was deployed to destroy"
    _ok(run_playbook("playbooks/destroy.yml", emulator, story["inventory"]))
    assert deployment_resources(emulator, DEPLOYMENT) == []
    assert not story["outputs"].exists()
    emulator.control.reset_requests()
    _ok(run_playbook("playbooks/destroy.yml", emulator, story["inventory"]))
    assert emulator.control.mutating_requests() == []
