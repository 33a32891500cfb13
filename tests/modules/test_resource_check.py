"""resource_check in-process against the emulator: what the roles make is in sync,
read in a fixed handful of calls, and each kind of drift is found and named."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest

from emulator.requestlog import is_mutating

from .stubbed import load_module, run_on_emulator

resource_check = load_module("resource_check")

TAGS = {"Deployment": "check"}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
}
MANAGED = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"


def run(aws, args: dict) -> dict:
    """Run the module with clients of the emulator's database account; return its result."""
    outcome = run_on_emulator(resource_check, aws, args)
    assert not outcome.failed, outcome.result["msg"]
    return outcome.result


def tag_list(tags: dict) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


@pytest.fixture
def made(aws):
    """A network as the roles make it, and the module arguments that describe it."""
    ec2, logs, iam = aws.client("ec2"), aws.client("logs"), aws.client("iam")
    zone = f"{aws.region}a"
    vpc = ec2.create_vpc(
        CidrBlock="10.9.0.0/24", TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list({**TAGS, "Name": "net"})}]
    )["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/26", AvailabilityZone=zone)["Subnet"]["SubnetId"]
    ec2.create_tags(Resources=[subnet], Tags=tag_list({**TAGS, "Name": "net-a"}))
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_tags(Resources=[table], Tags=tag_list({**TAGS, "Name": "net-rt"}))
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    groups = {}
    for name in ("lambda", "sts"):
        groups[name] = ec2.create_security_group(GroupName=name, Description=f"{name} group", VpcId=vpc)["GroupId"]
        ec2.create_tags(Resources=[groups[name]], Tags=tag_list({**TAGS, "Name": name}))
        ec2.revoke_security_group_egress(
            GroupId=groups[name], IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
    ec2.authorize_security_group_egress(
        GroupId=groups["lambda"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "IpRanges": [{"CidrIp": "10.9.0.0/26", "Description": "database"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": groups["sts"], "Description": "sts"}],
            },
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=groups["sts"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": groups["lambda"], "Description": "https"}],
            }
        ],
    )
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{aws.region}.sts",
        VpcEndpointType="Interface",
        SubnetIds=[subnet],
        SecurityGroupIds=[groups["sts"]],
        PrivateDnsEnabled=True,
        TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": tag_list({**TAGS, "Name": "net-sts"})}],
    )["VpcEndpoint"]["VpcEndpointId"]
    logs.create_log_group(logGroupName="/vpc/net", tags=TAGS)
    logs.put_retention_policy(logGroupName="/vpc/net", retentionInDays=7)
    role = iam.create_role(
        RoleName="net-role",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="writes flow logs",
        Tags=tag_list(TAGS),
    )["Role"]["Arn"]
    iam.put_role_policy(RoleName="net-role", PolicyName="write", PolicyDocument=json.dumps(POLICY))
    iam.attach_role_policy(RoleName="net-role", PolicyArn=MANAGED)
    flow = ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogGroupName="/vpc/net",
        DeliverLogsPermissionArn=role,
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": tag_list({**TAGS, "Name": "net-flow"})}],
    )["FlowLogIds"][0]
    args = {
        "vpc": {"name": "net", "cidr": "10.9.0.0/24", "tags": TAGS},
        "subnets": [{"cidr": "10.9.0.0/26", "az": zone, "tags": {**TAGS, "Name": "net-a"}}],
        "route_tables": [{"tags": {**TAGS, "Name": "net-rt"}, "subnet_cidrs": ["10.9.0.0/26"]}],
        "security_groups": [
            {
                "name": "lambda",
                "description": "lambda group",
                "tags": {**TAGS, "Name": "lambda"},
                "rules_egress": [
                    {"proto": "tcp", "ports": ["5432"], "cidr_ip": ["10.9.0.0/26"], "rule_desc": "database"},
                    {"proto": "tcp", "ports": [443], "group_name": "sts", "rule_desc": "sts"},
                ],
            },
            {
                "name": "sts",
                "description": "sts group",
                "tags": {**TAGS, "Name": "sts"},
                "rules": [{"proto": "tcp", "ports": [443], "group_id": groups["lambda"], "rule_desc": "https"}],
            },
        ],
        "vpc_endpoints": [
            {
                "service": f"com.amazonaws.{aws.region}.sts",
                "subnet_ids": [subnet],
                "security_group_names": ["sts"],
                "tags": {**TAGS, "Name": "net-sts"},
            }
        ],
        "flow_logs": [
            {
                "log_group_name": "/vpc/net",
                "traffic_type": "ALL",
                "role_name": "net-role",
                "tags": {**TAGS, "Name": "net-flow"},
            }
        ],
        "log_groups": [{"name": "/vpc/net", "retention": 7, "tags": TAGS}],
        "iam_roles": [
            {
                "name": "net-role",
                "description": "writes flow logs",
                "trust_policy": json.dumps(TRUST),
                "managed_policies": [MANAGED],
                "inline_policies": {"write": POLICY},
                "tags": TAGS,
            }
        ],
    }
    ids = {"vpc": vpc, "subnet": subnet, "table": table, "endpoint": endpoint, "flow": flow, "role": role, **groups}
    return args, ids


def test_what_was_made_is_in_sync_in_a_fixed_number_of_reads(aws, made):
    args, ids = made
    # Roles the deployment does not manage, more than one page of any IAM list: none of them is read.
    iam = aws.client("iam")
    for n in range(120):
        iam.create_role(RoleName=f"foreign-{n}", AssumeRolePolicyDocument=json.dumps(TRUST))
    aws.control.reset_requests()
    result = run(aws, args)
    assert result["differences"] == []
    assert result["in_sync"] is True
    assert result["changed"] is False
    assert result["vpc"]["id"] == ids["vpc"]
    assert [s["id"] for s in result["subnets"]] == [ids["subnet"]]
    assert result["subnets"][0]["arn"].endswith(f":subnet/{ids['subnet']}")
    assert result["security_groups"] == {"lambda": ids["lambda"], "sts": ids["sts"]}
    assert result["vpc_endpoints"][0]["id"] == ids["endpoint"]
    assert result["iam_roles"] == {"net-role": ids["role"]}
    calls = [f"{r['service']}:{r['action']}" for r in aws.control.requests()]
    assert not [c for c in calls if is_mutating(c.split(":")[1])]
    # 1 VPC + 2 attributes + subnets + route tables + groups + endpoints + flow logs + 2 log + 3 IAM (the role,
    # its attached policies, its one inline policy).
    assert len(calls) == 13, calls
    assert [c for c in calls if c.startswith("iam:")] == [
        "iam:GetRole",
        "iam:ListAttachedRolePolicies",
        "iam:GetRolePolicy",
    ]


def _drift(aws, ids, change):
    ec2, logs, iam = aws.client("ec2"), aws.client("logs"), aws.client("iam")
    changes = {
        "vpc tags": lambda: ec2.create_tags(Resources=[ids["vpc"]], Tags=tag_list({"Extra": "1"})),
        "dns": lambda: ec2.modify_vpc_attribute(VpcId=ids["vpc"], EnableDnsHostnames={"Value": False}),
        "subnet tags": lambda: ec2.delete_tags(Resources=[ids["subnet"]], Tags=[{"Key": "Deployment"}]),
        "public": lambda: ec2.modify_subnet_attribute(SubnetId=ids["subnet"], MapPublicIpOnLaunch={"Value": True}),
        "route out": lambda: ec2.create_route(
            RouteTableId=ids["table"],
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"],
        ),
        "ingress": lambda: ec2.authorize_security_group_ingress(
            GroupId=ids["lambda"],
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        ),
        "rule gone": lambda: ec2.revoke_security_group_ingress(
            GroupId=ids["sts"],
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "UserIdGroupPairs": [{"GroupId": ids["lambda"], "Description": "https"}],
                }
            ],
        ),
        "endpoint tags": lambda: ec2.create_tags(Resources=[ids["endpoint"]], Tags=tag_list({"Name": "other"})),
        "flow log": lambda: ec2.delete_flow_logs(FlowLogIds=[ids["flow"]]),
        "retention": lambda: logs.put_retention_policy(logGroupName="/vpc/net", retentionInDays=30),
        "log tags": lambda: logs.tag_log_group(logGroupName="/vpc/net", tags={"Extra": "1"}),
        "trust": lambda: iam.update_assume_role_policy(
            RoleName="net-role",
            PolicyDocument=json.dumps({**TRUST, "Statement": [{**TRUST["Statement"][0], "Principal": {"AWS": "*"}}]}),
        ),
        "inline": lambda: iam.put_role_policy(
            RoleName="net-role",
            PolicyName="write",
            PolicyDocument=json.dumps({**POLICY, "Statement": [{**POLICY["Statement"][0], "Action": "*"}]}),
        ),
        "managed": lambda: iam.detach_role_policy(RoleName="net-role", PolicyArn=MANAGED),
        "role tags": lambda: iam.tag_role(RoleName="net-role", Tags=tag_list({"Extra": "1"})),
        "description": lambda: iam.update_role_description(RoleName="net-role", Description="other"),
    }
    changes[change]()


DRIFT = {
    "vpc tags": "vpc net: tags differ",
    "dns": "vpc net: dns_hostnames differs",
    "subnet tags": "subnet 10.9.0.0/26: tags differ",
    "public": "subnet 10.9.0.0/26: map_public differs",
    "route out": "route table net-rt: has a route out of the VPC",
    "ingress": "security group lambda: rules differ",
    "rule gone": "security group sts: rules differ",
    "endpoint tags": "tags differ",
    "flow log": "flow log to /vpc/net: missing",
    "retention": "log group /vpc/net: retention differs",
    "log tags": "log group /vpc/net: tags differ",
    "trust": "iam role net-role: trust policy differs",
    "inline": "iam role net-role: inline policy write differs",
    "managed": "iam role net-role: managed policies differ",
    "role tags": "iam role net-role: tags differ",
    "description": "iam role net-role: description differs",
}


@pytest.mark.parametrize("change", sorted(DRIFT))
def test_drift_is_found_and_named(aws, made, change):
    args, ids = made
    _drift(aws, ids, change)
    result = run(aws, args)
    assert result["in_sync"] is False
    assert any(DRIFT[change] in line for line in result["differences"]), result["differences"]


def test_a_missing_vpc_is_out_of_sync_without_reading_inside_it(aws):
    result = run(
        aws,
        {"vpc": {"name": "none", "cidr": "10.8.0.0/24"}, "subnets": [{"cidr": "10.8.0.0/26", "az": f"{aws.region}a"}]},
    )
    assert result["in_sync"] is False
    assert result["differences"][0] == "vpc none: missing"
    assert result["subnets"] == [{"cidr": "10.8.0.0/26", "az": f"{aws.region}a", "id": "", "arn": ""}]


def test_a_malformed_policy_is_rejected_naming_the_role(aws):
    failure = run_on_emulator(resource_check, aws, {"iam_roles": [{"name": "r", "trust_policy": "{not json"}]})
    assert failure.failed
    assert "iam_roles: role r: trust_policy is not a JSON policy document" in failure.result["msg"]


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def _sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def function(aws):
    """A function with one layer, as the iam_lambda role makes it, and the arguments that describe it."""
    client, iam = aws.client("lambda"), aws.client("iam")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    code, layer_zip = _zip("def handler(event, context):\n    return 1\n"), _zip("LIBRARY = 1\n")
    layer = client.publish_layer_version(LayerName="fn-deps", Content={"ZipFile": layer_zip})["LayerVersionArn"]
    client.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code},
        Description="tests the path",
        MemorySize=256,
        Timeout=30,
        TracingConfig={"Mode": "Active"},
        Environment={"Variables": {"PORT": "5432"}},
        Layers=[layer],
        Tags=TAGS,
    )
    args = {
        "functions": [
            {
                "name": "fn",
                "runtime": "python3.12",
                "architecture": "x86_64",
                "handler": "handler.handler",
                "role_arn": role,
                "description": "tests the path",
                "memory_size": 256,
                "timeout": 30,
                "tracing_mode": "Active",
                "environment": {"PORT": 5432},
                "code_sha256": _sha(code),
                "layer_code_sha256": _sha(layer_zip),
                "tags": TAGS,
            }
        ]
    }
    return args, layer


def test_a_function_and_its_layer_are_in_sync_in_two_reads(aws, function):
    args, layer = function
    aws.control.reset_requests()
    result = run(aws, args)
    assert result["differences"] == []
    assert result["in_sync"] is True
    assert result["functions"]["fn"]["layer_version_arn"] == layer
    assert result["functions"]["fn"]["function_arn"].endswith(":function:fn")
    calls = [r["action"] for r in aws.control.requests()]
    assert len(calls) == 2, calls


FUNCTION_DRIFT = {
    "memory": ({"MemorySize": 512}, "function fn: memory_size differs"),
    "environment": ({"Environment": {"Variables": {"PORT": "5433"}}}, "function fn: environment differs"),
    "no layer": ({"Layers": []}, "function fn: has 0 layers, not 1"),
    "handler": ({"Handler": "other.handler"}, "function fn: handler differs"),
}


@pytest.mark.parametrize("change", sorted(FUNCTION_DRIFT))
def test_function_drift_is_found_and_named(aws, function, change):
    args, _ = function
    update, message = FUNCTION_DRIFT[change]
    aws.client("lambda").update_function_configuration(FunctionName="fn", **update)
    result = run(aws, args)
    assert result["in_sync"] is False
    assert message in result["differences"], result["differences"]


def test_new_code_a_new_layer_zip_and_a_missing_function_are_found(aws, function):
    args, _ = function
    client = aws.client("lambda")
    client.update_function_code(FunctionName="fn", ZipFile=_zip("def handler(event, context):\n    return 2\n"))
    other = client.publish_layer_version(LayerName="fn-deps", Content={"ZipFile": _zip("LIBRARY = 2\n")})
    client.update_function_configuration(FunctionName="fn", Layers=[other["LayerVersionArn"]])
    differences = run(aws, args)["differences"]
    assert "function fn: code_sha256 differs" in differences, differences
    assert "function fn: its layer holds another zip" in differences, differences
    missing = run(aws, {"functions": [{**args["functions"][0], "name": "gone"}]})
    assert missing["differences"] == ["function gone: missing"]
    assert missing["functions"] == {"gone": {}}


# -- the database account: secret, subnet group, Aurora cluster and instances ------------------------------

MONITORING = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
MONITORING_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "monitoring.rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture
def database(aws):
    """An Aurora cluster as the db_cluster role makes it, and the arguments that describe it."""
    ec2, rds, iam, secrets = aws.client("ec2"), aws.client("rds"), aws.client("iam"), aws.client("secretsmanager")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/24")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{aws.region}{zone}")["Subnet"]["SubnetId"]
        for cidr, zone in (("10.7.0.0/26", "a"), ("10.7.0.64/26", "b"))
    ]
    group = ec2.create_security_group(GroupName="db-cluster", Description="cluster", VpcId=vpc)["GroupId"]
    ec2.create_tags(Resources=[group], Tags=tag_list({**TAGS, "Name": "db-cluster"}))
    ec2.revoke_security_group_egress(
        GroupId=group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    role = iam.create_role(
        RoleName="db-monitoring", AssumeRolePolicyDocument=json.dumps(MONITORING_TRUST), Tags=tag_list(TAGS)
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName="db-monitoring", PolicyArn=MONITORING)
    secret = secrets.create_secret(
        Name="db/master-credentials", Description="master", SecretString="{}", Tags=tag_list(TAGS)
    )["ARN"]
    rds.create_db_subnet_group(
        DBSubnetGroupName="db", DBSubnetGroupDescription="isolated", SubnetIds=subnets, Tags=tag_list(TAGS)
    )
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="db",
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="postgres",
        MasterUserPassword="p" * 20,
        Port=5432,
        DBSubnetGroupName="db",
        VpcSecurityGroupIds=[group],
        StorageEncrypted=True,
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["postgresql"],
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
        BackupRetentionPeriod=7,
        CopyTagsToSnapshot=True,
        Tags=tag_list(TAGS),
    )["DBCluster"]
    for name, tier in (("db-writer", 0), ("db-reader-1", 1)):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier="db",
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
            PromotionTier=tier,
            MonitoringInterval=60,
            MonitoringRoleArn=role,
            PubliclyAccessible=False,
            Tags=tag_list(TAGS),
        )
    instance = {
        "instance_class": "db.serverless",
        "monitoring_interval": 60,
        "monitoring_role_name": "db-monitoring",
        "tags": TAGS,
    }
    args = {
        "vpc_id": vpc,
        "security_groups": [{"name": "db-cluster", "description": "cluster", "tags": {**TAGS, "Name": "db-cluster"}}],
        "iam_roles": [
            {"name": "db-monitoring", "trust_policy": MONITORING_TRUST, "managed_policies": [MONITORING], "tags": TAGS}
        ],
        "secrets": [{"name": "db/master-credentials", "description": "master", "tags": TAGS}],
        "db_subnet_groups": [{"name": "db", "description": "isolated", "subnet_ids": subnets, "tags": TAGS}],
        "db_clusters": [
            {
                "identifier": "db",
                "engine": "aurora-postgresql",
                "port": 5432,
                "db_subnet_group_name": "db",
                "security_group_names": ["db-cluster"],
                "log_exports": ["postgresql"],
                "serverless_min_capacity": 0.5,
                "serverless_max_capacity": 4.0,
                "backup_retention_period": 7,
                "copy_tags_to_snapshot": True,
                "tags": TAGS,
                "instances": [
                    {**instance, "identifier": "db-writer", "promotion_tier": 0},
                    {**instance, "identifier": "db-reader-1", "promotion_tier": 1},
                ],
            }
        ],
    }
    return args, {"vpc": vpc, "group": group, "role": role, "secret": secret, "cluster": cluster, "subnets": subnets}


def test_a_cluster_as_made_is_in_sync_in_a_fixed_number_of_reads(aws, database):
    args, ids = database
    aws.control.reset_requests()
    result = run(aws, args)
    assert result["differences"] == []
    assert result["in_sync"] is True
    assert result["secrets"] == {"db/master-credentials": ids["secret"]}
    cluster = result["db_clusters"]["db"]
    assert cluster["arn"] == ids["cluster"]["DBClusterArn"]
    assert cluster["status"] == "available"
    assert cluster["engine_version"] == "16.6"  # returned, not compared
    assert cluster["endpoint"] == ids["cluster"]["Endpoint"]
    assert cluster["reader_endpoint"] == ids["cluster"]["ReaderEndpoint"]
    assert cluster["instances"] == {"db-writer": "available", "db-reader-1": "available"}
    assert cluster["resource_id"] == ids["cluster"]["DbClusterResourceId"]
    assert cluster["http_endpoint_enabled"] is False
    calls = [f"{r['service']}:{r['action']}" for r in aws.control.requests()]
    assert not [c for c in calls if is_mutating(c.split(":")[1])]
    # Groups + the role (GetRole, its attached and inline policies) + secret + subnet group and its tags + cluster
    # + its instances.
    assert sorted(calls) == sorted(
        [
            "ec2:DescribeSecurityGroups",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "secretsmanager:DescribeSecret",
            "rds:DescribeDBSubnetGroups",
            "rds:ListTagsForResource",
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
        ]
    ), calls


def _database_drift(aws, ids, change):
    rds, secrets, ec2 = aws.client("rds"), aws.client("secretsmanager"), aws.client("ec2")
    changes = {
        "cluster tags": lambda: rds.add_tags_to_resource(
            ResourceName=ids["cluster"]["DBClusterArn"], Tags=tag_list({"Extra": "1"})
        ),
        "backup": lambda: rds.modify_db_cluster(DBClusterIdentifier="db", BackupRetentionPeriod=1),
        "deletion protection": lambda: rds.modify_db_cluster(DBClusterIdentifier="db", DeletionProtection=True),
        "iam auth": lambda: rds.modify_db_cluster(DBClusterIdentifier="db", EnableIAMDatabaseAuthentication=False),
        "capacity": lambda: rds.modify_db_cluster(
            DBClusterIdentifier="db", ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16}
        ),
        "group": lambda: rds.modify_db_cluster(
            DBClusterIdentifier="db",
            VpcSecurityGroupIds=[
                ec2.create_security_group(GroupName="other", Description="other", VpcId=ids["vpc"])["GroupId"]
            ],
        ),
        "stopped": lambda: rds.stop_db_cluster(DBClusterIdentifier="db"),
        "class": lambda: rds.modify_db_instance(DBInstanceIdentifier="db-reader-1", DBInstanceClass="db.r6g.large"),
        "tier": lambda: rds.modify_db_instance(DBInstanceIdentifier="db-reader-1", PromotionTier=5),
        "monitoring": lambda: rds.modify_db_instance(DBInstanceIdentifier="db-writer", MonitoringInterval=0),
        "public": lambda: rds.modify_db_instance(DBInstanceIdentifier="db-writer", PubliclyAccessible=True),
        "reader gone": lambda: rds.delete_db_instance(DBInstanceIdentifier="db-reader-1", SkipFinalSnapshot=True),
        "subnet group": lambda: rds.modify_db_subnet_group(
            DBSubnetGroupName="db", DBSubnetGroupDescription="isolated", SubnetIds=ids["subnets"][:1]
        ),
        "subnet group tags": lambda: rds.remove_tags_from_resource(
            ResourceName=rds.describe_db_subnet_groups(DBSubnetGroupName="db")["DBSubnetGroups"][0]["DBSubnetGroupArn"],
            TagKeys=["Deployment"],
        ),
        "secret description": lambda: secrets.update_secret(SecretId=ids["secret"], Description="other"),
        "secret deleted": lambda: secrets.delete_secret(SecretId=ids["secret"], RecoveryWindowInDays=7),
    }
    changes[change]()


DATABASE_DRIFT = {
    "cluster tags": "db cluster db: tags differ",
    "backup": "db cluster db: backup_retention_period differs",
    "deletion protection": "db cluster db: deletion_protection differs",
    "iam auth": "db cluster db: iam_database_authentication differs",
    "capacity": "db cluster db: serverless_max_capacity differs",
    "group": "db cluster db: security group db-cluster is not attached",
    "stopped": "db cluster db: is stopped, not available",
    "class": "db instance db-reader-1: instance_class differs",
    "tier": "db instance db-reader-1: promotion_tier differs",
    "monitoring": "db instance db-writer: monitoring_interval differs",
    "public": "db instance db-writer: publicly_accessible differs",
    "reader gone": "db instance db-reader-1: missing",
    "subnet group": "db subnet group db: subnets differ",
    "subnet group tags": "db subnet group db: tags differ",
    "secret description": "secret db/master-credentials: description differs",
    "secret deleted": "secret db/master-credentials: scheduled for deletion",
}


@pytest.mark.parametrize("change", sorted(DATABASE_DRIFT))
def test_database_drift_is_found_and_named(aws, database, change):
    args, ids = database
    _database_drift(aws, ids, change)
    result = run(aws, args)
    assert result["in_sync"] is False
    assert DATABASE_DRIFT[change] in result["differences"], result["differences"]


def test_settings_fixed_at_creation_are_compared_too(aws, database):
    # Neither rds_cluster nor a re-run changes these on an existing cluster; the role's own checks must run.
    args, _ = database
    args["db_clusters"][0].update(iam_database_authentication=False, storage_encrypted=False, engine="aurora-mysql")
    result = run(aws, args)
    assert result["in_sync"] is False
    assert result["differences"] == [
        "db cluster db: engine differs",
        "db cluster db: storage_encrypted differs",
        "db cluster db: iam_database_authentication differs",
    ]


def test_the_data_api_endpoint_is_compared_when_asked(aws, database):
    args, ids = database
    args["db_clusters"][0]["http_endpoint"] = True
    assert "db cluster db: http_endpoint differs" in run(aws, args)["differences"]
    aws.client("rds").enable_http_endpoint(ResourceArn=ids["cluster"]["DBClusterArn"])
    result = run(aws, args)
    assert result["in_sync"] is True, result["differences"]
    assert result["db_clusters"]["db"]["http_endpoint_enabled"] is True


def test_a_missing_cluster_secret_and_subnet_group_are_reported(aws):
    result = run(
        aws,
        {
            "secrets": [{"name": "none/master-credentials"}],
            "db_subnet_groups": [{"name": "none", "description": "none", "subnet_ids": []}],
            "db_clusters": [
                {
                    "identifier": "none",
                    "engine": "aurora-postgresql",
                    "port": 5432,
                    "db_subnet_group_name": "none",
                    "backup_retention_period": 7,
                    "instances": [
                        {"identifier": "none-writer", "instance_class": "db.serverless", "promotion_tier": 0}
                    ],
                }
            ],
        },
    )
    assert result["in_sync"] is False
    assert result["differences"] == [
        "secret none/master-credentials: missing",
        "db subnet group none: missing",
        "db cluster none: missing",
    ]
    assert result["secrets"] == {"none/master-credentials": ""}
    assert result["db_clusters"] == {"none": {}}


def test_read_iam_roles_returns_documents_in_one_read(aws, database):
    iam = aws.client("iam")
    iam.put_role_policy(RoleName="db-monitoring", PolicyName="extra", PolicyDocument=json.dumps(POLICY))
    aws.control.reset_requests()
    result = run(aws, {"read_iam_roles": ["db-monitoring", "no-such-role"]})
    assert result["in_sync"] is True
    assert result["differences"] == []
    assert result["iam_role_documents"] == {
        "db-monitoring": {
            "arn": database[1]["role"],
            "trust_policy": MONITORING_TRUST,
            "managed_policies": [MONITORING],
            "inline_policies": {"extra": POLICY},
        },
        "no-such-role": {},
    }
    # The roles named only: no read of the account's other roles.
    assert [r["action"] for r in aws.control.requests()] == [
        "GetRole",
        "ListAttachedRolePolicies",
        "ListRolePolicies",
        "GetRolePolicy",
        "GetRole",
    ]
