"""What of a deployment exists in the emulator, in every account: used to
prove that destroy.yml leaves nothing behind."""

from __future__ import annotations

import re

import botocore.exceptions


def _safe(call, default):
    try:
        return call()
    except botocore.exceptions.ClientError:
        return default


def deployment_resources(emulator, deployment_name: str) -> list[str]:
    """Every resource whose name or Deployment tag belongs to ``deployment_name``."""
    prefix = f"{deployment_name}-"
    found: list[str] = []
    for account in emulator.accounts.members:
        name = account.name
        ec2 = emulator.client("ec2", name)
        tagged = [{"Name": "tag:Deployment", "Values": [deployment_name]}]
        found += [f"{name}: vpc {v['VpcId']}" for v in ec2.describe_vpcs(Filters=tagged)["Vpcs"]]
        found += [f"{name}: subnet {s['SubnetId']}" for s in ec2.describe_subnets(Filters=tagged)["Subnets"]]
        found += [
            f"{name}: security group {g['GroupName']}"
            for g in ec2.describe_security_groups()["SecurityGroups"]
            if g["GroupName"].startswith(prefix)
        ]
        found += [
            f"{name}: vpc endpoint {e['VpcEndpointId']}"
            for e in ec2.describe_vpc_endpoints(Filters=tagged)["VpcEndpoints"]
            if e["State"].lower() not in ("deleted", "deleting")
        ]
        found += [f"{name}: flow log {f['FlowLogId']}" for f in ec2.describe_flow_logs(Filters=tagged)["FlowLogs"]]
        found += [
            f"{name}: route table {r['RouteTableId']}" for r in ec2.describe_route_tables(Filters=tagged)["RouteTables"]
        ]
        logs = emulator.client("logs", name)
        found += [
            f"{name}: log group {g['logGroupName']}"
            for g in logs.describe_log_groups()["logGroups"]
            if deployment_name in g["logGroupName"]
        ]
        iam = emulator.client("iam", name)
        found += [
            f"{name}: role {r['RoleName']}" for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(prefix)
        ]
        rds = emulator.client("rds", name)
        found += [
            f"{name}: cluster {c['DBClusterIdentifier']}"
            for c in rds.describe_db_clusters()["DBClusters"]
            if c["DBClusterIdentifier"].startswith(prefix)
        ]
        found += [
            f"{name}: instance {i['DBInstanceIdentifier']}"
            for i in rds.describe_db_instances()["DBInstances"]
            if i["DBInstanceIdentifier"].startswith(prefix)
        ]
        found += [
            f"{name}: subnet group {g['DBSubnetGroupName']}"
            for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
            if g["DBSubnetGroupName"].startswith(prefix)
        ]
        found += [
            f"{name}: proxy {p['DBProxyName']}"
            for p in _safe(lambda rds=rds: rds.describe_db_proxies()["DBProxies"], [])
            if p["DBProxyName"].startswith(prefix)
        ]
        found += [
            f"{name}: proxy endpoint {e['DBProxyEndpointName']}"
            for e in _safe(lambda rds=rds: rds.describe_db_proxy_endpoints()["DBProxyEndpoints"], [])
            if e["DBProxyEndpointName"].startswith(prefix)
        ]
        found += [
            f"{name}: snapshot {s['DBClusterSnapshotIdentifier']}"
            for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
            if s["DBClusterSnapshotIdentifier"].startswith(prefix)
        ]
        secrets = emulator.client("secretsmanager", name)
        found += [
            f"{name}: secret {s['Name']}" for s in secrets.list_secrets()["SecretList"] if s["Name"].startswith(prefix)
        ]
        ram = emulator.client("ram", name)
        found += [
            f"{name}: resource share {s['name']}"
            for s in ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
            if s["name"].startswith(prefix) and s["status"] not in ("DELETED", "DELETING")
        ]
        lam = emulator.client("lambda", name)
        found += [
            f"{name}: function {f['FunctionName']}"
            for f in lam.list_functions()["Functions"]
            if f["FunctionName"].startswith(prefix)
        ]
        found += [
            f"{name}: layer {x['LayerName']}" for x in lam.list_layers()["Layers"] if x["LayerName"].startswith(prefix)
        ]
    return found


_IDS = re.compile(r"\b(vpc|subnet|fl|rtb|vpce|sg|prx)-[0-9a-f]{8,}\b")


def deployment_shape(emulator, deployment_name: str) -> list[str]:
    """``deployment_resources`` with the deployment's name and the generated
    IDs taken out, sorted: two deployments of the same inventory have the same
    shape, and a duplicate resource shows as a repeated line."""
    return sorted(
        _IDS.sub(r"\1-*", line.replace(deployment_name, "{deployment}"))
        for line in deployment_resources(emulator, deployment_name)
    )


class RunningEmulator:
    """Just what deployment_resources needs, for an emulator running on ``port``
    (also the base of the deploy benchmark's emulator)."""

    def __init__(self, port: int, region: str) -> None:
        from emulator import accounts

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.region = region
        self.accounts = accounts.load()

    def client(self, service: str, name: str):
        import boto3

        account = self.accounts.by_name(name)
        return boto3.client(
            service,
            aws_access_key_id=account.access_key_id,
            aws_secret_access_key=account.secret_access_key,
            region_name=self.region,
            endpoint_url=self.url,
        )


def main(argv: list[str] | None = None) -> int:
    """Print, as JSON, what is left of a deployment on a running emulator."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m tests.playbooks.leftovers", description=main.__doc__)
    parser.add_argument("deployment_name")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--region", default="eu-west-1")
    args = parser.parse_args(argv)
    print(json.dumps(deployment_resources(RunningEmulator(args.port, args.region), args.deployment_name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
