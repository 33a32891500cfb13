#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: resource_check
short_description: Compare a VPC's resources, log groups and IAM roles with their desired state in a few reads
description:
  - Reads, in one batched call per resource type, the resources that a role manages and compares each with the
    state that the role's own tasks would ensure. Returns C(in_sync) and, for every difference, a line naming it.
  - A role runs its per-resource modules only when C(in_sync) is false, so a re-run that changes nothing costs a
    handful of read calls instead of several per resource, and drift is still found and corrected.
  - Never changes anything; the same in check mode.
  - "Reads: C(DescribeVpcs) and two C(DescribeVpcAttribute) for I(vpc); one C(DescribeSubnets),
    C(DescribeRouteTables), C(DescribeSecurityGroups), C(DescribeVpcEndpoints) and C(DescribeFlowLogs) per VPC for
    the types asked for; C(DescribeLogGroups) and C(ListTagsLogGroup) per log group; C(GetRole),
    C(ListAttachedRolePolicies), C(ListRolePolicies) and C(GetRolePolicy) per inline policy for each IAM role named
    (never the account's other roles);
    C(DescribeSecret) per secret; C(DescribeDBSubnetGroups) and C(ListTagsForResource) per DB subnet group;
    C(DescribeDBClusters) and C(DescribeDBInstances) per DB cluster; C(GetFunction) and C(GetLayerVersion) per
    function."
options:
  vpc:
    description:
      - The VPC, found by its C(Name) tag and CIDR as M(amazon.aws.ec2_vpc_net) finds it.
      - Mutually exclusive with I(vpc_id).
    type: dict
    suboptions:
      name: {description: Value of the C(Name) tag., type: str, required: true}
      cidr: {description: Primary IPv4 CIDR block., type: str, required: true}
      dns_support: {description: Whether DNS resolution is enabled., type: bool, default: true}
      dns_hostnames: {description: Whether DNS hostnames are enabled., type: bool, default: true}
      tags: {description: Every tag of the VPC but C(Name)., type: dict, default: {}}
  vpc_id:
    description: ID of an existing VPC whose resources are compared; the VPC itself is not.
    type: str
  subnets:
    description: Subnets of the VPC, each found by its CIDR block.
    type: list
    elements: dict
    default: []
    suboptions:
      cidr: {description: IPv4 CIDR block., type: str, required: true}
      az: {description: Availability Zone., type: str, required: true}
      map_public: {description: Whether instances get a public IPv4 address., type: bool, default: false}
      tags: {description: Every tag of the subnet., type: dict, default: {}}
  route_tables:
    description:
      - Route tables of the VPC, each found by its C(Name) tag, with exactly the given subnets associated (by CIDR,
        from I(subnets)) and no route but the local one.
    type: list
    elements: dict
    default: []
    suboptions:
      tags: {description: Every tag of the route table; C(Name) is required., type: dict, required: true}
      subnet_cidrs: {description: CIDR blocks of the associated subnets., type: list, elements: str, default: []}
  security_groups:
    description:
      - Security groups of the VPC, each found by name, with exactly the given rules (after
        M(amazon.aws.ec2_security_group) with C(purge_rules) and C(purge_rules_egress)).
      - A rule is a dict of C(proto), C(ports) (numbers or C(from-to) ranges), and C(cidr_ip) (one or a list),
        C(group_id) or C(group_name) (a group of the same VPC), and C(rule_desc).
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Name of the group., type: str, required: true}
      description: {description: Description of the group., type: str, required: true}
      tags: {description: Every tag of the group., type: dict, default: {}}
      rules: {description: Inbound rules., type: list, elements: dict, default: []}
      rules_egress: {description: Outbound rules., type: list, elements: dict, default: []}
  vpc_endpoints:
    description: Interface endpoints of the VPC, each found by service name, C(available) or C(pending).
    type: list
    elements: dict
    default: []
    suboptions:
      service: {description: Service name, such as C(com.amazonaws.eu-west-1.sts)., type: str, required: true}
      subnet_ids: {description: IDs of its subnets., type: list, elements: str, default: []}
      security_group_names: {description: Names of its security groups., type: list, elements: str, default: []}
      tags: {description: Every tag of the endpoint., type: dict, default: {}}
  flow_logs:
    description: Flow logs of the VPC, each found by log group, delivered by the named role.
    type: list
    elements: dict
    default: []
    suboptions:
      log_group_name: {description: Log group that receives the records., type: str, required: true}
      traffic_type: {description: ACCEPT, REJECT or ALL., type: str, required: true}
      role_name: {description: Name of the role that delivers the records., type: str, required: true}
      max_aggregation_interval: {description: Seconds., type: int, default: 600}
      tags: {description: Every tag of the flow log., type: dict, default: {}}
  log_groups:
    description: CloudWatch Logs log groups.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Name of the log group., type: str, required: true}
      retention: {description: Retention in days., type: int, required: true}
      tags: {description: Every tag of the log group., type: dict, default: {}}
  iam_roles:
    description:
      - IAM roles, as M(amazon.aws.iam_role) with C(purge_policies) and M(amazon.aws.iam_policy) ensure them.
      - Inline policies not named in I(inline_policies) are allowed, as M(amazon.aws.iam_policy) leaves them.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Name of the role., type: str, required: true}
      description: {description: Description of the role., type: str}
      trust_policy: {description: Trust policy (JSON text or a dict)., type: raw, required: true}
      managed_policies: {description: ARNs of every attached managed policy., type: list, elements: str, default: []}
      inline_policies: {description: Inline policy documents by policy name., type: dict, default: {}}
      max_session_duration: {description: Maximum session duration in seconds, when given., type: int}
      tags: {description: Every tag of the role., type: dict, default: {}}
  functions:
    description:
      - Lambda functions, as M(amazon.aws.lambda) ensures them from a zip, with at most one layer.
      - The layer in use must hold the zip whose hash is I(layer_code_sha256).
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Name of the function., type: str, required: true}
      runtime: {description: Runtime., type: str, required: true}
      architecture: {description: Instruction set architecture., type: str, required: true}
      handler: {description: Handler., type: str, required: true}
      role_arn: {description: ARN of the execution role., type: str, required: true}
      description: {description: Description., type: str, default: ""}
      memory_size: {description: Memory in MB., type: int, required: true}
      timeout: {description: Timeout in seconds., type: int, required: true}
      tracing_mode: {description: X-Ray tracing mode., type: str, required: true}
      subnet_ids: {description: Subnets of its VPC configuration., type: list, elements: str, default: []}
      security_group_ids: {description: Its security groups., type: list, elements: str, default: []}
      environment: {description: Environment variables., type: dict, default: {}}
      code_sha256: {description: Base64 SHA-256 of the function's zip, as Lambda reports it., type: str, required: true}
      layer_code_sha256: {description: Base64 SHA-256 of the layer's zip; no layer when not given., type: str}
      tags: {description: Every tag of the function., type: dict, default: {}}
  read_iam_roles:
    description:
      - Names of IAM roles whose trust policy, managed policies and inline policies are returned in
        I(iam_role_documents), without comparing them with anything.
    type: list
    elements: str
    default: []
  secrets:
    description:
      - Secrets Manager secrets, as M(community.aws.secretsmanager_secret) ensures them with C(overwrite=false);
        the value is neither read nor compared. A secret scheduled for deletion counts as missing.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Name of the secret., type: str, required: true}
      description: {description: Description of the secret., type: str, default: ""}
      tags: {description: Every tag of the secret., type: dict, default: {}}
  db_subnet_groups:
    description: RDS DB subnet groups, as M(amazon.aws.rds_subnet_group) ensures them.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Name of the subnet group., type: str, required: true}
      description: {description: Description of the subnet group., type: str, required: true}
      subnet_ids: {description: IDs of every subnet of the group., type: list, elements: str, required: true}
      tags: {description: Every tag of the subnet group., type: dict, default: {}}
  db_clusters:
    description:
      - Aurora DB clusters and their instances, as M(amazon.aws.rds_cluster) (with C(purge_security_groups=false))
        and M(amazon.aws.rds_instance) ensure them.
      - The engine version is not compared but returned (RV(db_clusters)), for the caller to judge; AWS upgrades
        minor versions by itself, so a version other than the one asked for may be no difference.
      - Compares what those modules would change on an existing cluster, and also requires the cluster and every
        instance to be C(available), with IAM database authentication and storage encryption as asked (neither
        module changes these on an existing cluster; they are reported so that the role's own checks run).
    type: list
    elements: dict
    default: []
    suboptions:
      identifier: {description: Cluster identifier., type: str, required: true}
      engine: {description: Engine., type: str, required: true}
      port: {description: Port., type: int, required: true}
      db_subnet_group_name: {description: Name of its DB subnet group., type: str, required: true}
      security_group_names:
        description: Names of security groups that must be attached, among the I(security_groups) of this check.
        type: list
        elements: str
        default: []
      storage_encrypted: {description: Whether storage is encrypted., type: bool, default: true}
      iam_database_authentication: {description: Whether IAM database authentication is on., type: bool, default: true}
      http_endpoint:
        description:
          - Whether the RDS Data API's HTTP endpoint is enabled (C(HttpEndpointEnabled)); not compared when not given.
        type: bool
      manage_master_user_password:
        description:
          - Whether RDS manages the master user password in Secrets Manager (the cluster has a C(MasterUserSecret));
            not compared when not given.
        type: bool
      log_exports: {description: Log types exported to CloudWatch Logs., type: list, elements: str, default: []}
      serverless_min_capacity: {description: Serverless v2 minimum ACUs; not compared when not given., type: float}
      serverless_max_capacity: {description: Serverless v2 maximum ACUs., type: float}
      backup_retention_period: {description: Days., type: int, required: true}
      deletion_protection: {description: Whether deletion protection is on., type: bool, default: false}
      copy_tags_to_snapshot: {description: Whether tags are copied to snapshots., type: bool, default: false}
      tags: {description: Every tag of the cluster., type: dict, default: {}}
      instances:
        description: Instances of the cluster.
        type: list
        elements: dict
        default: []
        suboptions:
          identifier: {description: Instance identifier., type: str, required: true}
          instance_class: {description: Instance class., type: str, required: true}
          promotion_tier: {description: Promotion tier., type: int, required: true}
          monitoring_interval: {description: Enhanced Monitoring interval in seconds; 0 is off., type: int, default: 0}
          monitoring_role_name:
            description: Name of the Enhanced Monitoring role, when I(monitoring_interval) is not 0.
            type: str
          publicly_accessible: {description: Whether it has a public address., type: bool, default: false}
          tags: {description: Every tag of the instance., type: dict, default: {}}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Compare the network with its desired state
  resource_check:
    vpc:
      name: app-network
      cidr: 10.1.0.0/16
    subnets:
      - {cidr: 10.1.0.0/24, az: eu-west-1a, tags: {Name: app-network-private-eu-west-1a}}
    security_groups:
      - name: app-lambda
        description: Connection-test Lambda
        rules_egress:
          - {proto: tcp, ports: [5432], cidr_ip: [10.1.0.0/24], rule_desc: database}
  register: network_check

- name: Ensure the VPC exists
  amazon.aws.ec2_vpc_net:
    name: app-network
    cidr_block: 10.1.0.0/16
  when: not network_check.in_sync
"""

RETURN = r"""
in_sync:
  description: Whether every resource asked about exists and matches.
  returned: always
  type: bool
  sample: true
differences:
  description: One line per resource that is missing or differs, naming what differs.
  returned: always
  type: list
  elements: str
  sample: ["security group app-lambda: rules_egress differ"]
vpc:
  description: C(id) and C(cidr) of the VPC; empty when it does not exist.
  returned: always
  type: dict
subnets:
  description: C(id), C(arn), C(cidr) and C(az) of each subnet asked for, in the order asked; C(id) empty when missing.
  returned: always
  type: list
  elements: dict
security_groups:
  description: ID of each security group asked for, by name; empty when missing.
  returned: always
  type: dict
vpc_endpoints:
  description: C(id), C(state) and C(dns_entries) of each endpoint asked for, in the order asked.
  returned: always
  type: list
  elements: dict
iam_roles:
  description: ARN of each role asked for, by name; empty when missing.
  returned: always
  type: dict
functions:
  description: C(function_arn) and C(layer_version_arn) of each function asked for, by name; empty when missing.
  returned: always
  type: dict
iam_role_documents:
  description:
    - For each role of I(read_iam_roles), by name, C(arn), C(trust_policy), C(managed_policies) (ARNs) and
      C(inline_policies) (documents by policy name); empty when the role does not exist.
  returned: always
  type: dict
secrets:
  description: ARN of each secret asked for, by name; empty when missing.
  returned: always
  type: dict
db_clusters:
  description:
    - For each cluster asked for, by identifier, C(arn), C(resource_id) (C(cluster-...)), C(engine_version),
      C(status), C(endpoint), C(reader_endpoint), C(http_endpoint_enabled), C(master_user_secret_arn) (the
      secret RDS manages, empty when it does not manage the master password) and C(instances) (the status of each
      instance asked for, by identifier); empty when missing.
  returned: always
  type: dict
"""

import contextlib
import json

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.iam import (
    get_iam_role,
    list_iam_role_attached_policies,
    list_iam_role_policies,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

_RETRY = AWSRetry.jittered_backoff()


def _tags(tag_list):
    """Tags as a dict, without the ones AWS itself sets (aws:...)."""
    return {k: v for k, v in boto3_tag_list_to_ansible_dict(tag_list or []).items() if not k.startswith("aws:")}


def _wanted_tags(tags):
    return {str(k): str(v) for k, v in (tags or {}).items()}


def _pages(client, operation, key, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]


def _policy(document):
    return json.loads(document) if isinstance(document, str) else document


class Check:
    def __init__(self, module):
        self.module = module
        self.differences = []
        self.result = {
            "vpc": {},
            "subnets": [],
            "security_groups": {},
            "vpc_endpoints": [],
            "iam_roles": {},
            "functions": {},
            "iam_role_documents": {},
            "secrets": {},
            "db_clusters": {},
        }
        self._ec2 = None
        self._rds = None
        self._roles = {}
        self._role_policies = {}
        self.vpc_id = module.params["vpc_id"]
        self.subnet_ids = {}

    @property
    def ec2(self):
        if self._ec2 is None:
            self._ec2 = self.module.client("ec2", retry_decorator=_RETRY)
        return self._ec2

    @property
    def rds(self):
        if self._rds is None:
            self._rds = self.module.client("rds", retry_decorator=_RETRY)
        return self._rds

    def differ(self, what, detail):
        self.differences.append(f"{what}: {detail}")

    def read(self, operation, call):
        try:
            return call()
        except Exception as e:  # pylint: disable=broad-except
            self.module.fail_json_aws(e, msg=f"Failed to read the current state ({operation})")

    def in_vpc(self):
        return [{"Name": "vpc-id", "Values": [self.vpc_id]}]

    # -- the VPC --------------------------------------------------------------
    def check_vpc(self, wanted):
        filters = [{"Name": "tag:Name", "Values": [wanted["name"]]}, {"Name": "cidr-block", "Values": [wanted["cidr"]]}]
        vpcs = self.read("DescribeVpcs", lambda: self.ec2.describe_vpcs(aws_retry=True, Filters=filters)["Vpcs"])
        what = f"vpc {wanted['name']}"
        if len(vpcs) != 1:
            self.differ(what, "missing" if not vpcs else f"{len(vpcs)} VPCs have this name and CIDR")
            return False
        vpc = vpcs[0]
        self.vpc_id = vpc["VpcId"]
        self.result["vpc"] = {"id": vpc["VpcId"], "cidr": vpc["CidrBlock"]}
        if _tags(vpc.get("Tags")) != _wanted_tags({**wanted["tags"], "Name": wanted["name"]}):
            self.differ(what, "tags differ")
        for attribute, option in (("enableDnsSupport", "dns_support"), ("enableDnsHostnames", "dns_hostnames")):
            value = self.read(
                "DescribeVpcAttribute",
                lambda a=attribute: self.ec2.describe_vpc_attribute(aws_retry=True, VpcId=self.vpc_id, Attribute=a),
            )
            key = attribute[0].upper() + attribute[1:]
            if value.get(key, {}).get("Value") != wanted[option]:
                self.differ(what, f"{option} differs")
        return True

    def check_subnets(self, wanted):
        found = {
            s["CidrBlock"]: s
            for s in self.read(
                "DescribeSubnets", lambda: _pages(self.ec2, "describe_subnets", "Subnets", Filters=self.in_vpc())
            )
        }
        for subnet in wanted:
            current = found.get(subnet["cidr"])
            what = f"subnet {subnet['cidr']}"
            entry = {"cidr": subnet["cidr"], "az": subnet["az"], "id": "", "arn": ""}
            self.result["subnets"].append(entry)
            if not current:
                self.differ(what, "missing")
                continue
            entry.update(id=current["SubnetId"], arn=current.get("SubnetArn", ""))
            self.subnet_ids[subnet["cidr"]] = current["SubnetId"]
            if current["AvailabilityZone"] != subnet["az"]:
                self.differ(what, f"in {current['AvailabilityZone']}, not {subnet['az']}")
            if bool(current.get("MapPublicIpOnLaunch")) != subnet["map_public"]:
                self.differ(what, "map_public differs")
            if _tags(current.get("Tags")) != _wanted_tags(subnet["tags"]):
                self.differ(what, "tags differ")

    def _subnets_of(self, cidrs, what):
        missing = [c for c in cidrs if c not in self.subnet_ids]
        if missing:
            self.differ(what, f"its subnets {', '.join(missing)} are not known")
        return {self.subnet_ids[c] for c in cidrs if c in self.subnet_ids}

    def check_route_tables(self, wanted):
        tables = self.read(
            "DescribeRouteTables",
            lambda: _pages(self.ec2, "describe_route_tables", "RouteTables", Filters=self.in_vpc()),
        )
        for table in wanted:
            name = table["tags"].get("Name")
            what = f"route table {name}"
            matches = [t for t in tables if _tags(t.get("Tags")).get("Name") == name]
            if len(matches) != 1:
                self.differ(what, "missing" if not matches else f"{len(matches)} route tables have this name")
                continue
            current = matches[0]
            if _tags(current.get("Tags")) != _wanted_tags(table["tags"]):
                self.differ(what, "tags differ")
            associated = {a["SubnetId"] for a in current.get("Associations", []) if a.get("SubnetId")}
            if associated != self._subnets_of(table["subnet_cidrs"], what):
                self.differ(what, "subnet associations differ")
            if any(r.get("GatewayId") != "local" for r in current.get("Routes", [])):
                self.differ(what, "has a route out of the VPC")

    # -- security groups -------------------------------------------------------
    @staticmethod
    def _ports(ports):
        for port in ports:
            text = str(port)
            low, _, high = text.partition("-")
            yield int(low), int(high or low)

    def _wanted_rules(self, rules, ids, what):
        wanted = set()
        for rule in rules:
            proto = str(rule.get("proto", "tcp"))
            proto = "-1" if proto in ("all", "-1") else proto
            ports = list(self._ports(rule.get("ports") or [])) or [(None, None)]
            if proto == "-1":
                ports = [(None, None)]
            targets = []
            cidrs = rule.get("cidr_ip") or []
            for cidr in [cidrs] if isinstance(cidrs, str) else cidrs:
                targets.append(("cidr", cidr))
            if rule.get("group_id"):
                targets.append(("group", rule["group_id"]))
            if rule.get("group_name"):
                if rule["group_name"] not in ids:
                    self.differ(what, f"its rule's group {rule['group_name']} is missing")
                    continue
                targets.append(("group", ids[rule["group_name"]]))
            for low, high in ports:
                for kind, target in targets:
                    wanted.add((proto, low, high, kind, target, rule.get("rule_desc") or None))
        return wanted

    @staticmethod
    def _current_rules(permissions):
        current = set()
        for p in permissions:
            proto = str(p.get("IpProtocol"))
            low, high = (None, None) if proto == "-1" else (p.get("FromPort"), p.get("ToPort"))
            for r in p.get("IpRanges", []):
                current.add((proto, low, high, "cidr", r["CidrIp"], r.get("Description") or None))
            for r in p.get("Ipv6Ranges", []):
                current.add((proto, low, high, "cidr", r["CidrIpv6"], r.get("Description") or None))
            for r in p.get("UserIdGroupPairs", []):
                current.add((proto, low, high, "group", r["GroupId"], r.get("Description") or None))
            for r in p.get("PrefixListIds", []):
                current.add((proto, low, high, "prefix", r["PrefixListId"], r.get("Description") or None))
        return current

    def check_security_groups(self, wanted):
        groups = self.read(
            "DescribeSecurityGroups",
            lambda: _pages(self.ec2, "describe_security_groups", "SecurityGroups", Filters=self.in_vpc()),
        )
        by_name = {g["GroupName"]: g for g in groups}
        ids = {name: g["GroupId"] for name, g in by_name.items()}
        for group in wanted:
            what = f"security group {group['name']}"
            current = by_name.get(group["name"])
            self.result["security_groups"][group["name"]] = current["GroupId"] if current else ""
            if not current:
                self.differ(what, "missing")
                continue
            if current.get("Description") != group["description"]:
                self.differ(what, "description differs")
            if _tags(current.get("Tags")) != _wanted_tags(group["tags"]):
                self.differ(what, "tags differ")
            for option, key in (("rules", "IpPermissions"), ("rules_egress", "IpPermissionsEgress")):
                if self._current_rules(current.get(key, [])) != self._wanted_rules(group[option], ids, what):
                    self.differ(what, f"{option} differ")

    def check_vpc_endpoints(self, wanted):
        endpoints = self.read(
            "DescribeVpcEndpoints",
            lambda: _pages(self.ec2, "describe_vpc_endpoints", "VpcEndpoints", Filters=self.in_vpc()),
        )
        groups = self.result["security_groups"]
        for endpoint in wanted:
            what = f"vpc endpoint {endpoint['service']}"
            matches = [
                e
                for e in endpoints
                if e["ServiceName"] == endpoint["service"] and e.get("State", "").lower() in ("available", "pending")
            ]
            entry = {"service": endpoint["service"], "id": "", "state": "", "dns_entries": []}
            self.result["vpc_endpoints"].append(entry)
            if len(matches) != 1:
                self.differ(what, "missing" if not matches else f"{len(matches)} endpoints for this service")
                continue
            current = matches[0]
            entry.update(
                id=current["VpcEndpointId"], state=current["State"].lower(), dns_entries=current.get("DnsEntries", [])
            )
            if _tags(current.get("Tags")) != _wanted_tags(endpoint["tags"]):
                self.differ(what, "tags differ")
            if set(current.get("SubnetIds", [])) != set(endpoint["subnet_ids"]):
                self.differ(what, "subnets differ")
            wanted_groups = {groups.get(n) or f"(missing {n})" for n in endpoint["security_group_names"]}
            if {g["GroupId"] for g in current.get("Groups", [])} != wanted_groups:
                self.differ(what, "security groups differ")

    def check_flow_logs(self, wanted, role_arns):
        logs = self.read(
            "DescribeFlowLogs",
            lambda: _pages(
                self.ec2, "describe_flow_logs", "FlowLogs", Filters=[{"Name": "resource-id", "Values": [self.vpc_id]}]
            ),
        )
        for flow in wanted:
            what = f"flow log to {flow['log_group_name']}"
            matches = [f for f in logs if f.get("LogGroupName") == flow["log_group_name"]]
            if not matches:
                self.differ(what, "missing")
                continue
            current = matches[0]
            role = role_arns.get(flow["role_name"]) or self._role_arn_guess(
                current.get("DeliverLogsPermissionArn"), flow["role_name"]
            )
            if current.get("TrafficType") != flow["traffic_type"] or current.get("DeliverLogsPermissionArn") != role:
                self.differ(what, "traffic type or delivery role differs")
            if current.get("MaxAggregationInterval", 600) != flow["max_aggregation_interval"]:
                self.differ(what, "aggregation interval differs")
            if _tags(current.get("Tags")) != _wanted_tags(flow["tags"]):
                self.differ(what, "tags differ")

    @staticmethod
    def _role_arn_guess(current_arn, role_name):
        """The ARN in use when it names the role (the role was not among the roles checked)."""
        arn = current_arn or ""
        return arn if arn.endswith(f":role/{role_name}") else f"(role {role_name})"

    # -- CloudWatch Logs -------------------------------------------------------
    def check_log_groups(self, wanted):
        logs = self.module.client("logs", retry_decorator=_RETRY)
        for group in wanted:
            what = f"log group {group['name']}"
            found = self.read(
                "DescribeLogGroups",
                lambda g=group: logs.describe_log_groups(aws_retry=True, logGroupNamePrefix=g["name"])["logGroups"],
            )
            current = next((g for g in found if g["logGroupName"] == group["name"]), None)
            if not current:
                self.differ(what, "missing")
                continue
            if current.get("retentionInDays") != group["retention"]:
                self.differ(what, "retention differs")
            tags = self.read(
                "ListTagsLogGroup",
                lambda g=group: logs.list_tags_log_group(aws_retry=True, logGroupName=g["name"]).get("tags", {}),
            )
            if {k: v for k, v in tags.items() if not k.startswith("aws:")} != _wanted_tags(group["tags"]):
                self.differ(what, "tags differ")

    # -- IAM ---------------------------------------------------------------------
    def role_in_detail(self, iam, name, inline_names=None):
        """The role with its attached policies and its inline policies named (all of them when None), or None when
        the role does not exist. Read from that role alone, each read once per run (GetRole,
        ListAttachedRolePolicies, ListRolePolicies when no names are given, GetRolePolicy per inline policy), so
        that the reads do not grow with the account's other roles."""
        if name not in self._roles:
            role = self.read("GetRole", lambda: get_iam_role(iam, name))
            if role is not None:
                attached = self.read("ListAttachedRolePolicies", lambda: list_iam_role_attached_policies(iam, name))
                role = {**role, "AttachedManagedPolicies": attached}
            self._roles[name] = role
        role = self._roles[name]
        if role is None:
            return None
        if inline_names is None:
            inline_names = self.read("ListRolePolicies", lambda: list_iam_role_policies(iam, name))
        inline = [
            {"PolicyName": policy, "PolicyDocument": document}
            for policy in inline_names
            if (document := self.role_policy(iam, name, policy)) is not None
        ]
        return {**role, "RolePolicyList": inline}

    def role_policy(self, iam, role, policy):
        """An inline policy's document, or None when the role has no such policy (read once per run)."""
        if (role, policy) not in self._role_policies:
            try:
                document = iam.get_role_policy(aws_retry=True, RoleName=role, PolicyName=policy)["PolicyDocument"]
            except is_boto3_error_code("NoSuchEntity"):
                document = None
            except (BotoCoreError, ClientError) as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Failed to read the current state (GetRolePolicy)")
            self._role_policies[(role, policy)] = document
        return self._role_policies[(role, policy)]

    def read_iam_roles(self, names):
        iam = self.module.client("iam", retry_decorator=_RETRY)
        for name in names:
            current = self.role_in_detail(iam, name)
            self.result["iam_role_documents"][name] = (
                {
                    "arn": current["Arn"],
                    "trust_policy": _policy(current["AssumeRolePolicyDocument"]),
                    "managed_policies": [p["PolicyArn"] for p in current.get("AttachedManagedPolicies", [])],
                    "inline_policies": {
                        p["PolicyName"]: _policy(p["PolicyDocument"]) for p in current.get("RolePolicyList", [])
                    },
                }
                if current
                else {}
            )

    def check_iam_roles(self, wanted):
        iam = self.module.client("iam", retry_decorator=_RETRY)
        for role in wanted:
            what = f"iam role {role['name']}"
            current = self.role_in_detail(iam, role["name"], list(role["inline_policies"]))
            self.result["iam_roles"][role["name"]] = current["Arn"] if current else ""
            if not current:
                self.differ(what, "missing")
                continue
            if compare_policies(_policy(current["AssumeRolePolicyDocument"]), _policy(role["trust_policy"])):
                self.differ(what, "trust policy differs")
            if role["description"] is not None and current.get("Description", "") != role["description"]:
                self.differ(what, "description differs")
            if (
                role["max_session_duration"] is not None
                and current.get("MaxSessionDuration") != role["max_session_duration"]
            ):
                self.differ(what, "max_session_duration differs")
            attached = {p["PolicyArn"] for p in current.get("AttachedManagedPolicies", [])}
            if attached != set(role["managed_policies"]):
                self.differ(what, "managed policies differ")
            inline = {p["PolicyName"]: p["PolicyDocument"] for p in current.get("RolePolicyList", [])}
            for name, document in role["inline_policies"].items():
                if name not in inline:
                    self.differ(what, f"inline policy {name} missing")
                elif compare_policies(_policy(inline[name]), _policy(document)):
                    self.differ(what, f"inline policy {name} differs")
            if _tags(current.get("Tags")) != _wanted_tags(role["tags"]):
                self.differ(what, "tags differ")

    # -- Lambda ------------------------------------------------------------------
    def check_functions(self, wanted):
        client = self.module.client("lambda", retry_decorator=_RETRY)
        for function in wanted:
            what = f"function {function['name']}"
            self.result["functions"][function["name"]] = {}
            try:
                found = client.get_function(aws_retry=True, FunctionName=function["name"])
            except is_boto3_error_code("ResourceNotFoundException"):
                self.differ(what, "missing")
                continue
            except Exception as e:  # pylint: disable=broad-except
                self.module.fail_json_aws(e, msg="Failed to read the current state (GetFunction)")
            config = found["Configuration"]
            layers = [layer["Arn"] for layer in config.get("Layers", [])]
            self.result["functions"][function["name"]] = {
                "function_arn": config["FunctionArn"],
                "layer_version_arn": layers[0] if layers else "",
            }
            vpc = config.get("VpcConfig") or {}
            current = {
                "runtime": config.get("Runtime"),
                "architecture": (config.get("Architectures") or ["x86_64"])[0],
                "handler": config.get("Handler"),
                "role_arn": config.get("Role"),
                "description": config.get("Description", ""),
                "memory_size": config.get("MemorySize"),
                "timeout": config.get("Timeout"),
                "tracing_mode": (config.get("TracingConfig") or {}).get("Mode", "PassThrough"),
                "subnet_ids": sorted(vpc.get("SubnetIds", [])),
                "security_group_ids": sorted(vpc.get("SecurityGroupIds", [])),
                "environment": (config.get("Environment") or {}).get("Variables", {}),
                "code_sha256": config.get("CodeSha256"),
            }
            for key, value in current.items():
                expected = function[key]
                expected = sorted(expected) if isinstance(expected, list) else expected
                if key == "environment":
                    expected = {k: str(v) for k, v in expected.items()}
                if value != expected:
                    self.differ(what, f"{key} differs")
            if config.get("State") != "Active" or config.get("LastUpdateStatus", "Successful") != "Successful":
                self.differ(what, f"not settled ({config.get('State')}, {config.get('LastUpdateStatus')})")
            if _wanted_tags(found.get("Tags")) != _wanted_tags(function["tags"]):
                self.differ(what, "tags differ")
            self.check_layer(client, function, layers, what)

    def check_layer(self, client, function, layers, what):
        if function["layer_code_sha256"] is None:
            if layers:
                self.differ(what, "has a layer")
            return
        if len(layers) != 1:
            self.differ(what, f"has {len(layers)} layers, not 1")
            return
        layer_arn, version = layers[0].rsplit(":", 1)
        layer = self.read(
            "GetLayerVersion",
            lambda: client.get_layer_version(aws_retry=True, LayerName=layer_arn, VersionNumber=int(version)),
        )
        if layer.get("Content", {}).get("CodeSha256") != function["layer_code_sha256"]:
            self.differ(what, "its layer holds another zip")

    # -- Secrets Manager -----------------------------------------------------------
    def check_secrets(self, wanted):
        client = self.module.client("secretsmanager", retry_decorator=_RETRY)
        for secret in wanted:
            what = f"secret {secret['name']}"
            self.result["secrets"][secret["name"]] = ""
            try:
                current = client.describe_secret(aws_retry=True, SecretId=secret["name"])
            except is_boto3_error_code("ResourceNotFoundException"):
                self.differ(what, "missing")
                continue
            except Exception as e:  # pylint: disable=broad-except
                self.module.fail_json_aws(e, msg="Failed to read the current state (DescribeSecret)")
            if current.get("DeletedDate"):
                self.differ(what, "scheduled for deletion")
                continue
            self.result["secrets"][secret["name"]] = current["ARN"]
            if current.get("Description", "") != secret["description"]:
                self.differ(what, "description differs")
            if _tags(current.get("Tags")) != _wanted_tags(secret["tags"]):
                self.differ(what, "tags differ")

    # -- RDS -----------------------------------------------------------------------
    def check_db_subnet_groups(self, wanted):
        for group in wanted:
            what = f"db subnet group {group['name']}"
            try:
                current = self.rds.describe_db_subnet_groups(aws_retry=True, DBSubnetGroupName=group["name"])
            except is_boto3_error_code("DBSubnetGroupNotFoundFault"):
                self.differ(what, "missing")
                continue
            except Exception as e:  # pylint: disable=broad-except
                self.module.fail_json_aws(e, msg="Failed to read the current state (DescribeDBSubnetGroups)")
            current = current["DBSubnetGroups"][0]
            if current.get("DBSubnetGroupDescription") != group["description"]:
                self.differ(what, "description differs")
            if {s["SubnetIdentifier"] for s in current.get("Subnets", [])} != set(group["subnet_ids"]):
                self.differ(what, "subnets differ")
            tags = self.read(
                "ListTagsForResource",
                lambda c=current: self.rds.list_tags_for_resource(aws_retry=True, ResourceName=c["DBSubnetGroupArn"]),
            )
            if _tags(tags.get("TagList")) != _wanted_tags(group["tags"]):
                self.differ(what, "tags differ")

    def _compare(self, what, pairs):
        for option, current, expected in pairs:
            if current != expected:
                # Worded like the other checks: "tags differ", "port differs".
                self.differ(what, f"{option} {'differ' if option in ('tags', 'log_exports') else 'differs'}")

    def check_db_clusters(self, wanted):
        for cluster in wanted:
            identifier = cluster["identifier"]
            what = f"db cluster {identifier}"
            self.result["db_clusters"][identifier] = {}
            try:
                current = self.rds.describe_db_clusters(aws_retry=True, DBClusterIdentifier=identifier)
            except is_boto3_error_code("DBClusterNotFoundFault"):
                self.differ(what, "missing")
                continue
            except Exception as e:  # pylint: disable=broad-except
                self.module.fail_json_aws(e, msg="Failed to read the current state (DescribeDBClusters)")
            current = current["DBClusters"][0]
            entry = {
                "arn": current["DBClusterArn"],
                "resource_id": current.get("DbClusterResourceId", ""),
                "http_endpoint_enabled": bool(current.get("HttpEndpointEnabled")),
                "engine_version": current.get("EngineVersion", ""),
                "status": current.get("Status", ""),
                "endpoint": current.get("Endpoint", ""),
                "reader_endpoint": current.get("ReaderEndpoint", ""),
                "master_user_secret_arn": (current.get("MasterUserSecret") or {}).get("SecretArn", ""),
                "instances": {},
            }
            self.result["db_clusters"][identifier] = entry
            if entry["status"] != "available":
                self.differ(what, f"is {entry['status']}, not available")
            scaling = current.get("ServerlessV2ScalingConfiguration") or {}
            self._compare(
                what,
                [
                    ("engine", current.get("Engine"), cluster["engine"]),
                    ("port", current.get("Port"), cluster["port"]),
                    ("db_subnet_group_name", current.get("DBSubnetGroup"), cluster["db_subnet_group_name"]),
                    ("storage_encrypted", bool(current.get("StorageEncrypted")), cluster["storage_encrypted"]),
                    (
                        "iam_database_authentication",
                        bool(current.get("IAMDatabaseAuthenticationEnabled")),
                        cluster["iam_database_authentication"],
                    ),
                    ("log_exports", set(current.get("EnabledCloudwatchLogsExports", [])), set(cluster["log_exports"])),
                    (
                        "backup_retention_period",
                        current.get("BackupRetentionPeriod"),
                        cluster["backup_retention_period"],
                    ),
                    ("deletion_protection", bool(current.get("DeletionProtection")), cluster["deletion_protection"]),
                    (
                        "copy_tags_to_snapshot",
                        bool(current.get("CopyTagsToSnapshot")),
                        cluster["copy_tags_to_snapshot"],
                    ),
                    ("tags", _tags(current.get("TagList")), _wanted_tags(cluster["tags"])),
                ],
            )
            if cluster["http_endpoint"] is not None and entry["http_endpoint_enabled"] != cluster["http_endpoint"]:
                self.differ(what, "http_endpoint differs")
            managed = bool(entry["master_user_secret_arn"])
            if cluster["manage_master_user_password"] not in (None, managed):
                self.differ(what, "manage_master_user_password differs")
            for option in ("serverless_min_capacity", "serverless_max_capacity"):
                key = "MinCapacity" if option.endswith("min_capacity") else "MaxCapacity"
                if cluster[option] is not None and scaling.get(key) != cluster[option]:
                    self.differ(what, f"{option} differs")
            attached = {g["VpcSecurityGroupId"] for g in current.get("VpcSecurityGroups", [])}
            for name in cluster["security_group_names"]:
                if self.result["security_groups"].get(name, "") not in attached:
                    self.differ(what, f"security group {name} is not attached")
            self.check_db_instances(cluster, entry)

    def check_db_instances(self, cluster, entry):
        found = {
            i["DBInstanceIdentifier"]: i
            for i in self.read(
                "DescribeDBInstances",
                lambda: _pages(
                    self.rds,
                    "describe_db_instances",
                    "DBInstances",
                    Filters=[{"Name": "db-cluster-id", "Values": [cluster["identifier"]]}],
                ),
            )
        }
        for instance in cluster["instances"]:
            what = f"db instance {instance['identifier']}"
            current = found.get(instance["identifier"])
            entry["instances"][instance["identifier"]] = current.get("DBInstanceStatus", "") if current else ""
            if not current:
                self.differ(what, "missing")
                continue
            if current.get("DBInstanceStatus") != "available":
                self.differ(what, f"is {current.get('DBInstanceStatus')}, not available")
            role = ""
            if instance["monitoring_interval"]:
                name = instance["monitoring_role_name"] or ""
                role = self.result["iam_roles"].get(name) or self._role_arn_guess(
                    current.get("MonitoringRoleArn"), name
                )
            self._compare(
                what,
                [
                    ("instance_class", current.get("DBInstanceClass"), instance["instance_class"]),
                    ("promotion_tier", current.get("PromotionTier"), instance["promotion_tier"]),
                    ("monitoring_interval", current.get("MonitoringInterval", 0), instance["monitoring_interval"]),
                    ("monitoring_role", current.get("MonitoringRoleArn") or "", role),
                    ("publicly_accessible", bool(current.get("PubliclyAccessible")), instance["publicly_accessible"]),
                    ("tags", _tags(current.get("TagList")), _wanted_tags(instance["tags"])),
                ],
            )

    def run(self):
        p = self.module.params
        vpc_known = self.check_vpc(p["vpc"]) if p["vpc"] else bool(self.vpc_id)
        network = ("subnets", "route_tables", "security_groups", "vpc_endpoints", "flow_logs")
        if vpc_known:
            if p["subnets"] or p["route_tables"]:
                self.check_subnets(p["subnets"])
            if p["route_tables"]:
                self.check_route_tables(p["route_tables"])
            if p["security_groups"] or p["vpc_endpoints"]:
                self.check_security_groups(p["security_groups"])
            if p["vpc_endpoints"]:
                self.check_vpc_endpoints(p["vpc_endpoints"])
        else:
            for option in network:
                if p[option]:
                    self.differ(option, "the VPC does not exist")
            self.result["subnets"] = [{"cidr": s["cidr"], "az": s["az"], "id": "", "arn": ""} for s in p["subnets"]]
        if p["iam_roles"]:
            self.check_iam_roles(p["iam_roles"])
        if p["flow_logs"] and vpc_known:
            self.check_flow_logs(p["flow_logs"], self.result["iam_roles"])
        if p["log_groups"]:
            self.check_log_groups(p["log_groups"])
        if p["functions"]:
            self.check_functions(p["functions"])
        if p["read_iam_roles"]:
            self.read_iam_roles(p["read_iam_roles"])
        if p["secrets"]:
            self.check_secrets(p["secrets"])
        if p["db_subnet_groups"]:
            self.check_db_subnet_groups(p["db_subnet_groups"])
        if p["db_clusters"]:
            self.check_db_clusters(p["db_clusters"])
        return {"in_sync": not self.differences, "differences": self.differences, **self.result}


def main():
    tags = dict(type="dict", default={})
    rules = dict(type="list", elements="dict", default=[])
    listed = dict(type="list", elements="dict", default=[])
    strings = dict(type="list", elements="str", default=[])
    argument_spec = dict(
        vpc=dict(
            type="dict",
            options=dict(
                name=dict(type="str", required=True),
                cidr=dict(type="str", required=True),
                dns_support=dict(type="bool", default=True),
                dns_hostnames=dict(type="bool", default=True),
                tags=tags,
            ),
        ),
        vpc_id=dict(type="str"),
        subnets=dict(
            **listed,
            options=dict(
                cidr=dict(type="str", required=True),
                az=dict(type="str", required=True),
                map_public=dict(type="bool", default=False),
                tags=tags,
            ),
        ),
        route_tables=dict(**listed, options=dict(tags=dict(type="dict", required=True), subnet_cidrs=strings)),
        security_groups=dict(
            **listed,
            options=dict(
                name=dict(type="str", required=True),
                description=dict(type="str", required=True),
                tags=tags,
                rules=rules,
                rules_egress=rules,
            ),
        ),
        vpc_endpoints=dict(
            **listed,
            options=dict(
                service=dict(type="str", required=True),
                subnet_ids=strings,
                security_group_names=strings,
                tags=tags,
            ),
        ),
        flow_logs=dict(
            **listed,
            options=dict(
                log_group_name=dict(type="str", required=True),
                traffic_type=dict(type="str", required=True),
                role_name=dict(type="str", required=True),
                max_aggregation_interval=dict(type="int", default=600),
                tags=tags,
            ),
        ),
        log_groups=dict(
            **listed,
            options=dict(name=dict(type="str", required=True), retention=dict(type="int", required=True), tags=tags),
        ),
        iam_roles=dict(
            **listed,
            options=dict(
                name=dict(type="str", required=True),
                description=dict(type="str"),
                trust_policy=dict(type="raw", required=True),
                managed_policies=strings,
                inline_policies=dict(type="dict", default={}),
                max_session_duration=dict(type="int"),
                tags=tags,
            ),
        ),
    )
    argument_spec["functions"] = dict(
        **listed,
        options=dict(
            name=dict(type="str", required=True),
            runtime=dict(type="str", required=True),
            architecture=dict(type="str", required=True),
            handler=dict(type="str", required=True),
            role_arn=dict(type="str", required=True),
            description=dict(type="str", default=""),
            memory_size=dict(type="int", required=True),
            timeout=dict(type="int", required=True),
            tracing_mode=dict(type="str", required=True),
            subnet_ids=strings,
            security_group_ids=strings,
            environment=dict(type="dict", default={}),
            code_sha256=dict(type="str", required=True),
            layer_code_sha256=dict(type="str"),
            tags=tags,
        ),
    )
    argument_spec.update(
        read_iam_roles=strings,
        secrets=dict(
            **listed,
            options=dict(name=dict(type="str", required=True), description=dict(type="str", default=""), tags=tags),
        ),
        db_subnet_groups=dict(
            **listed,
            options=dict(
                name=dict(type="str", required=True),
                description=dict(type="str", required=True),
                subnet_ids=dict(type="list", elements="str", required=True),
                tags=tags,
            ),
        ),
        db_clusters=dict(
            **listed,
            options=dict(
                identifier=dict(type="str", required=True),
                engine=dict(type="str", required=True),
                port=dict(type="int", required=True),
                db_subnet_group_name=dict(type="str", required=True),
                security_group_names=strings,
                storage_encrypted=dict(type="bool", default=True),
                iam_database_authentication=dict(type="bool", default=True),
                http_endpoint=dict(type="bool"),
                manage_master_user_password=dict(type="bool"),
                log_exports=strings,
                serverless_min_capacity=dict(type="float"),
                serverless_max_capacity=dict(type="float"),
                backup_retention_period=dict(type="int", required=True),
                deletion_protection=dict(type="bool", default=False),
                copy_tags_to_snapshot=dict(type="bool", default=False),
                tags=tags,
                instances=dict(
                    **listed,
                    options=dict(
                        identifier=dict(type="str", required=True),
                        instance_class=dict(type="str", required=True),
                        promotion_tier=dict(type="int", required=True),
                        monitoring_interval=dict(type="int", default=0),
                        monitoring_role_name=dict(type="str"),
                        publicly_accessible=dict(type="bool", default=False),
                        tags=tags,
                    ),
                ),
            ),
        ),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("vpc", "vpc_id")],
        supports_check_mode=True,
    )
    for role in module.params["iam_roles"]:
        for label, document in [("trust_policy", role["trust_policy"]), *role["inline_policies"].items()]:
            try:
                _policy(document)
            except (TypeError, ValueError) as e:
                module.fail_json(msg=f"iam_roles: role {role['name']}: {label} is not a JSON policy document: {e}")
    module.exit_json(changed=False, **Check(module).run())


if __name__ == "__main__":
    main()
