#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rds_proxy
short_description: Manage an Amazon RDS Proxy, its connection pool and its targets
description:
  - Creates, modifies and deletes an RDS Proxy (DB proxy).
  - Manages the connection pool settings of the proxy's default target group and the database cluster or
    instances registered with it, and waits until the proxy is C(available) and its targets are C(AVAILABLE).
  - A proxy's engine family and subnets cannot be changed on AWS. When O(engine_family) or O(vpc_subnet_ids)
    differ from those of an existing proxy the module fails and names the option; delete the proxy
    (O(state=absent)) and create it again to change them.
  - Options that are not set are left as they are on an existing proxy; on a new proxy AWS's defaults apply.
  - Subnets are described (EC2 C(DescribeSubnets)) before a proxy is created, to check that they span at least
    two Availability Zones as AWS requires. Subnets shared with the account through AWS RAM may be used.
    In check mode subnets that are not visible (yet) only cause a warning, so that a dry run of a deployment
    whose earlier tasks create or share them predicts instead of failing.
options:
  name:
    description: Name of the DB proxy.
    type: str
    required: true
    aliases: [db_proxy_name]
  state:
    description: Whether the proxy should exist.
    type: str
    choices: [present, absent]
    default: present
  engine_family:
    description:
      - Kind of database the proxy connects to.
      - Required when O(state=present). Cannot be changed on an existing proxy.
    type: str
    choices: [POSTGRESQL, MYSQL, SQLSERVER]
  auth:
    description:
      - How the proxy authenticates to the database, one entry per Secrets Manager secret.
      - Required when O(state=present) unless O(default_auth_scheme=IAM_AUTH). With C(IAM_AUTH) it may be empty
        (V([])), which removes every entry, as end-to-end IAM authentication needs no secret.
      - An entry keeps its secret for its user when O(default_auth_scheme=IAM_AUTH); keep the entries while
        clients move over, then remove them.
      - The list replaces the proxy's whole list. A sub-option that is not set keeps the value of the existing
        entry with the same O(auth[].secret_arn) (or AWS's default for a new entry).
    type: list
    elements: dict
    suboptions:
      auth_scheme:
        description: The authentication scheme. Only C(SECRETS) exists; it requires O(auth[].secret_arn).
        type: str
        choices: [SECRETS]
        default: SECRETS
      secret_arn:
        description: ARN of the Secrets Manager secret that holds the database user's credentials.
        type: str
      iam_auth:
        description:
          - Whether clients must, may or may not authenticate to the proxy with IAM.
          - C(REQUIRED) makes connections with an IAM token (C(rds-db:connect)) the only way in.
        type: str
        choices: [DISABLED, REQUIRED, ENABLED]
        default: DISABLED
      client_password_auth_type:
        description:
          - Password authentication the proxy accepts from clients; must belong to O(engine_family)
            (C(POSTGRES_*) for C(POSTGRESQL), C(MYSQL_*) for C(MYSQL), C(SQL_SERVER_*) for C(SQLSERVER)).
        type: str
        choices:
          - MYSQL_NATIVE_PASSWORD
          - MYSQL_CACHING_SHA2_PASSWORD
          - POSTGRES_SCRAM_SHA_256
          - POSTGRES_MD5
          - SQL_SERVER_AUTHENTICATION
      description:
        description: A description of the entry.
        type: str
      username:
        description: Name of the database user the proxy connects as.
        type: str
  default_auth_scheme:
    description:
      - C(IAM_AUTH) makes the proxy authenticate to the database with IAM as well (end-to-end IAM, no secret
        needed); C(NONE) makes it use the secrets of O(auth).
      - With C(IAM_AUTH) clients connect with IAM tokens for
        C(arn:aws:rds-db:<region>:<account>:dbuser:<resource_id>/<user>) (the proxy's RV(resource_id)); the
        proxy's O(role_arn) needs C(rds-db:connect) on
        C(arn:aws:rds-db:<region>:<account>:dbuser:cluster-<DbClusterResourceId>/<user>) (an Aurora cluster's
        resource ID), the database user must be granted C(rds_iam), and the cluster must have IAM database
        authentication enabled.
      - AWS uses C(NONE) when a proxy is created without it; not set, an existing proxy's is left as it is.
      - An existing proxy is switched either way in place (one C(ModifyDBProxy), with O(auth) when it changes too).
    type: str
    choices: [IAM_AUTH, NONE]
  role_arn:
    description:
      - ARN of the IAM role the proxy uses to read the secrets of O(auth) (and to connect with IAM).
      - Required when O(state=present).
    type: str
  vpc_subnet_ids:
    description:
      - Subnets of the proxy, in at least two Availability Zones and in one VPC.
      - Required when O(state=present). Cannot be changed on an existing proxy.
    type: list
    elements: str
  vpc_security_group_ids:
    description:
      - Security groups of the proxy. AWS uses the VPC's default security group when a proxy is created without.
    type: list
    elements: str
  require_tls:
    description: Whether clients must connect with TLS. AWS's default is V(false).
    type: bool
  idle_client_timeout:
    description: Seconds (1 to 28800) after which an idle client connection is closed. AWS's default is 1800.
    type: int
  debug_logging:
    description: Whether the proxy logs detailed SQL statements (for troubleshooting only). AWS's default is V(false).
    type: bool
  connection_pool_config:
    description:
      - Connection pool settings of the proxy's default target group. Settings that are not given are left as
        they are.
    type: dict
    suboptions:
      max_connections_percent:
        description: Largest size of the pool, in percent (1 to 100) of the database's C(max_connections).
        type: int
      max_idle_connections_percent:
        description:
          - How many idle connections the proxy keeps, in percent (0 to 100) of the database's
            C(max_connections); not more than O(connection_pool_config.max_connections_percent).
        type: int
      connection_borrow_timeout:
        description: Seconds (0 to 3600) a client waits for a connection from a full pool.
        type: int
      init_query:
        description: SQL statements the proxy runs on each new database connection.
        type: str
      session_pinning_filters:
        description: Kinds of SQL statements that do not pin a client to a database connection.
        type: list
        elements: str
        choices: [EXCLUDE_VARIABLE_SETS]
  targets:
    description:
      - The database registered with the proxy's default target group. Registrations not listed are removed.
      - When not set, registrations are left as they are.
      - Registering needs an C(available) proxy, so the module waits for it even with O(wait=false).
      - AWS refuses to register a cluster or instance that is still being created or configured (for example
        C(configuring-enhanced-monitoring)). The module tries again, every O(wait_delay) seconds up to
        O(wait_timeout), on exactly that refusal (C(InvalidDBInstanceState), C(InvalidDBClusterStateFault)).
        Registering right after the cluster's instances are C(available) spares those attempts.
    type: dict
    suboptions:
      db_cluster_identifiers:
        description: Aurora DB cluster to register (AWS accepts one).
        type: list
        elements: str
      db_instance_identifiers:
        description: RDS DB instances to register.
        type: list
        elements: str
  wait:
    description:
      - Wait until the proxy is C(available) and, when targets are registered, until every target is
        C(AVAILABLE); after O(state=absent), until the proxy is gone.
      - A proxy that ends in C(incompatible-network), C(insufficient-resource-limits) or C(suspended) fails the
        task with that status.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each of the waits described in O(wait).
    type: int
    default: 1200
  wait_delay:
    description:
      - Seconds between two status checks while waiting. Creating a proxy takes minutes on AWS; a shorter delay
        only makes sense against a local emulator.
    type: float
    default: 15
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Proxy in front of an Aurora PostgreSQL cluster, IAM authentication required
  rds_proxy:
    name: app-proxy
    engine_family: POSTGRESQL
    auth:
      - secret_arn: arn:aws:secretsmanager:eu-west-1:111111111111:secret:app-db-credentials-AbCdEf
        iam_auth: REQUIRED
    role_arn: arn:aws:iam::111111111111:role/app-proxy-secrets
    vpc_subnet_ids: [subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb, subnet-0cccccccccccccccc]
    vpc_security_group_ids: [sg-0123456789abcdef0]
    require_tls: true
    connection_pool_config:
      max_connections_percent: 90
      max_idle_connections_percent: 10
    targets:
      db_cluster_identifiers: [app-cluster]
    tags:
      Name: app-proxy
  register: proxy

- name: The user ARN for rds-db:connect
  ansible.builtin.debug:
    msg: "arn:aws:rds-db:eu-west-1:111111111111:dbuser:{{ proxy.resource_id }}/postgres"

- name: End-to-end IAM authentication, no secret
  rds_proxy:
    name: app-proxy-iam
    engine_family: POSTGRESQL
    default_auth_scheme: IAM_AUTH
    role_arn: arn:aws:iam::111111111111:role/app-proxy-iam
    vpc_subnet_ids: [subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb]

- name: Remove the proxy
  rds_proxy:
    name: app-proxy
    state: absent
"""

RETURN = r"""
db_proxy_name:
  description: Name of the proxy.
  returned: when O(state=present)
  type: str
  sample: app-proxy
db_proxy_arn:
  description: ARN of the proxy.
  returned: when O(state=present)
  type: str
  sample: arn:aws:rds:eu-west-1:111111111111:db-proxy:prx-0123456789abcdef0
resource_id:
  description: The last part of the ARN, used in C(rds-db:connect) resource ARNs.
  returned: when O(state=present)
  type: str
  sample: prx-0123456789abcdef0
status:
  description: Status of the proxy (V(available) after a successful wait).
  returned: when O(state=present)
  type: str
  sample: available
endpoint:
  description: DNS name of the proxy's default endpoint.
  returned: when O(state=present)
  type: str
  sample: app-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com
vpc_id:
  description: VPC of the proxy.
  returned: when O(state=present)
  type: str
  sample: vpc-0123456789abcdef0
vpc_subnet_ids:
  description: Subnets of the proxy.
  returned: when O(state=present)
  type: list
  elements: str
vpc_security_group_ids:
  description: Security groups of the proxy.
  returned: when O(state=present)
  type: list
  elements: str
engine_family:
  description: Engine family of the proxy.
  returned: when O(state=present)
  type: str
  sample: POSTGRESQL
default_auth_scheme:
  description:
    - How the proxy authenticates to the database by default, C(NONE) (the secrets of RV(auth)) or C(IAM_AUTH)
      (end-to-end IAM authentication).
  returned: when O(state=present)
  type: str
  sample: NONE
auth:
  description: Authentication entries, as AWS reports them (AWS's defaults filled in).
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{"auth_scheme": "SECRETS", "iam_auth": "REQUIRED", "client_password_auth_type": "POSTGRES_SCRAM_SHA_256",
            "secret_arn": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:app-db-credentials-AbCdEf"}]
role_arn:
  description: Role of the proxy.
  returned: when O(state=present)
  type: str
require_tls:
  description: Whether TLS is required.
  returned: when O(state=present)
  type: bool
idle_client_timeout:
  description: Idle client timeout in seconds.
  returned: when O(state=present)
  type: int
debug_logging:
  description: Whether debug logging is on.
  returned: when O(state=present)
  type: bool
tags:
  description: Tags of the proxy.
  returned: when O(state=present)
  type: dict
  sample: {"Name": "app-proxy"}
connection_pool_config:
  description: Connection pool settings of the default target group.
  returned: when O(state=present)
  type: dict
  sample: {"max_connections_percent": 100, "max_idle_connections_percent": 50, "connection_borrow_timeout": 120,
           "session_pinning_filters": []}
targets:
  description:
    - Targets of the default target group as C(DescribeDBProxyTargets) reports them, a tracked cluster followed
      by its instances.
  returned: when O(state=present)
  type: list
  elements: dict
  contains:
    type:
      description: C(TRACKED_CLUSTER), C(RDS_INSTANCE) or C(RDS_SERVERLESS_ENDPOINT).
      type: str
    rds_resource_id:
      description: Identifier of the cluster or instance.
      type: str
    endpoint:
      description: DNS name of the target.
      type: str
    role:
      description: C(READ_WRITE) or C(READ_ONLY) for instances.
      type: str
    target_health:
      description: Health of the target.
      type: dict
      sample: {"state": "AVAILABLE"}
"""

import contextlib

from ansible.module_utils.aws_waiters import check_wait_options, max_attempts, wait_for, wait_options
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.rds_proxy_common import DB_PROXY, require_two_availability_zones
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

TARGET_GROUP = "default"
# Error codes of RegisterDBProxyTargets for a target not ready to be registered yet.
TARGETS_NOT_READY_CODES = ("InvalidDBInstanceState", "InvalidDBClusterStateFault")
AUTH_TYPE_PREFIX = {"POSTGRESQL": "POSTGRES_", "MYSQL": "MYSQL_", "SQLSERVER": "SQL_SERVER_"}
# Options of the proxy that ModifyDBProxy changes in place, with their API names.
MODIFIABLE = (
    ("default_auth_scheme", "DefaultAuthScheme"),
    ("role_arn", "RoleArn"),
    ("require_tls", "RequireTLS"),
    ("idle_client_timeout", "IdleClientTimeout"),
    ("debug_logging", "DebugLogging"),
)
POOL_OPTIONS = (
    ("max_connections_percent", "MaxConnectionsPercent"),
    ("max_idle_connections_percent", "MaxIdleConnectionsPercent"),
    ("connection_borrow_timeout", "ConnectionBorrowTimeout"),
    ("init_query", "InitQuery"),
    ("session_pinning_filters", "SessionPinningFilters"),
)
AUTH_OPTIONS = (
    ("auth_scheme", "AuthScheme"),
    ("secret_arn", "SecretArn"),
    ("iam_auth", "IAMAuth"),
    ("client_password_auth_type", "ClientPasswordAuthType"),
    ("description", "Description"),
    ("username", "UserName"),
)
# API names of ModifyDBProxy parameters -> option names, for the predicted result of a check-mode run.
OPTION_OF = {key: option for option, key in MODIFIABLE} | {"Auth": "auth", "SecurityGroups": "vpc_security_group_ids"}


# -- validation of the arguments (no AWS call) --------------------------------
def validate_params(module):
    p = module.params
    timeout = p["idle_client_timeout"]
    if timeout is not None and not 1 <= timeout <= 28800:
        module.fail_json(msg=f"idle_client_timeout must be between 1 and 28800 seconds, got {timeout}")
    check_wait_options(module)
    if p["state"] != "present":
        return
    # required_if accepts an option given as null; these cannot be.
    for option in ("engine_family", "role_arn", "vpc_subnet_ids"):
        if not p[option]:
            module.fail_json(msg=f"{option} is required when state is present")
    for index, item in enumerate(p["auth"] or []):
        if item["auth_scheme"] == "SECRETS" and not item["secret_arn"]:
            module.fail_json(msg=f"auth[{index}].secret_arn is required with auth_scheme SECRETS")
    # CreateDBProxy, DefaultAuthScheme: "If you don't specify DefaultAuthScheme or specify this parameter as NONE,
    # you must specify the Auth option" (RDS API Reference); with IAM_AUTH "a stored secret ... is not required"
    # (Amazon Aurora User Guide, "Configuring IAM authentication for RDS Proxy").
    if p["default_auth_scheme"] != "IAM_AUTH" and not p["auth"]:
        module.fail_json(
            msg="auth is required unless default_auth_scheme is IAM_AUTH "
            "(with default_auth_scheme NONE or unset the proxy reads credentials from the secrets of auth)"
        )
    prefix = AUTH_TYPE_PREFIX[p["engine_family"]]
    for item in p["auth"] or []:
        kind = item["client_password_auth_type"]
        if kind and not kind.startswith(prefix):
            module.fail_json(
                msg=f"auth.client_password_auth_type {kind} does not fit engine_family {p['engine_family']} "
                f"(expected one starting with {prefix})"
            )
    pool = p["connection_pool_config"] or {}
    for option, low, high in (
        ("max_connections_percent", 1, 100),
        ("max_idle_connections_percent", 0, 100),
        ("connection_borrow_timeout", 0, 3600),
    ):
        value = pool.get(option)
        if value is not None and not low <= value <= high:
            module.fail_json(msg=f"connection_pool_config.{option} must be between {low} and {high}, got {value}")
    most, idle = pool.get("max_connections_percent"), pool.get("max_idle_connections_percent")
    if most is not None and idle is not None and idle > most:
        module.fail_json(
            msg="connection_pool_config.max_idle_connections_percent must not exceed "
            f"connection_pool_config.max_connections_percent ({idle} > {most})"
        )


# -- reading ------------------------------------------------------------------
def describe_target_group(module, client, name):
    try:
        response = client.describe_db_proxy_target_groups(
            aws_retry=True, DBProxyName=name, TargetGroupName=TARGET_GROUP
        )
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(
            e, msg=f"Failed to describe the target group of DB proxy {name} (DescribeDBProxyTargetGroups)"
        )
    groups = response["TargetGroups"]
    return groups[0] if groups else {}


@AWSRetry.jittered_backoff()
def _paginate_targets(client, **params):
    return client.get_paginator("describe_db_proxy_targets").paginate(**params).build_full_result()


def describe_targets(module, client, name):
    try:
        return _paginate_targets(client, DBProxyName=name, TargetGroupName=TARGET_GROUP)["Targets"]
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe the targets of DB proxy {name} (DescribeDBProxyTargets)")


def registrations(targets):
    """The (clusters, instances) registered, from DescribeDBProxyTargets."""
    clusters = {t["TrackedClusterId"].lower() for t in targets if t.get("Type") == "TRACKED_CLUSTER"}
    instances = {
        t["RdsResourceId"].lower() for t in targets if t.get("Type") == "RDS_INSTANCE" and not t.get("TrackedClusterId")
    }
    return clusters, instances


# -- comparing ----------------------------------------------------------------
def _auth_key(entry):
    return tuple(sorted((k, v) for k, v in entry.items() if v is not None))


def desired_auth(params, current_auth):
    """The Auth list to send: the requested entries, unset fields taken from the current entry of the same secret."""
    by_secret = {entry.get("SecretArn"): entry for entry in current_auth}
    result = []
    for item in params["auth"]:
        existing = by_secret.get(item["secret_arn"], {})
        entry = {}
        for option, key in AUTH_OPTIONS:
            value = item[option] if item[option] is not None else existing.get(key)
            if value is not None:
                entry[key] = value
        result.append(entry)
    return result


def auth_differs(wanted, current):
    return sorted(map(_auth_key, wanted)) != sorted(map(_auth_key, current))


def immutable_differences(params, proxy):
    problems = []
    if params["engine_family"] != proxy["EngineFamily"]:
        problems.append(f"engine_family is {proxy['EngineFamily']}, not {params['engine_family']}")
    if set(params["vpc_subnet_ids"]) != set(proxy.get("VpcSubnetIds", [])):
        problems.append(
            f"vpc_subnet_ids are {', '.join(sorted(proxy.get('VpcSubnetIds', [])))}, "
            f"not {', '.join(sorted(params['vpc_subnet_ids']))}"
        )
    return problems


def proxy_modifications(params, proxy):
    """ModifyDBProxy parameters that bring ``proxy`` to the requested settings (empty when none differ)."""
    changes = {}
    for option, key in MODIFIABLE:
        current = proxy.get(key)
        if key == "DefaultAuthScheme":
            # A proxy described without it has AWS's default, NONE (RDS API Reference, DBProxy,
            # DefaultAuthScheme: "Valid values are NONE and IAM_AUTH"); ModifyDBProxy changes it in place either
            # way (Amazon Aurora User Guide, "Migrating from standard IAM authentication to end-to-end IAM
            # authentication": modify-db-proxy --default-auth-scheme IAM_AUTH).
            current = current or "NONE"
        if params[option] is not None and params[option] != current:
            changes[key] = params[option]
    if params["auth"] is not None:
        wanted = desired_auth(params, proxy.get("Auth", []))
        if auth_differs(wanted, proxy.get("Auth", [])):
            changes["Auth"] = wanted
    groups = params["vpc_security_group_ids"]
    if groups is not None and set(groups) != set(proxy.get("VpcSecurityGroupIds", [])):
        changes["SecurityGroups"] = groups
    return changes


def pool_modifications(params, pool):
    wanted = params["connection_pool_config"] or {}
    changes = {}
    for option, key in POOL_OPTIONS:
        value = wanted.get(option)
        if value is None:
            continue
        current = pool.get(key)
        if key == "SessionPinningFilters":
            differs = sorted(value) != sorted(current or [])
        elif key == "InitQuery":
            differs = value != (current or "")
        else:
            differs = value != current
        if differs:
            changes[key] = value
    if changes:
        # Send every option given, not only those that differ: given
        # MaxConnectionsPercent alone, RDS resets MaxIdleConnectionsPercent to
        # its default, half of MaxConnectionsPercent.
        for option, key in POOL_OPTIONS:
            if wanted.get(option) is not None:
                changes[key] = wanted[option]
    return changes


def target_modifications(params, targets):
    """(to register, to deregister), each a dict of DBClusterIdentifiers / DBInstanceIdentifiers."""
    if params["targets"] is None:
        return {}, {}
    clusters, instances = registrations(targets)
    wanted_clusters = {c.lower() for c in params["targets"]["db_cluster_identifiers"] or []}
    wanted_instances = {i.lower() for i in params["targets"]["db_instance_identifiers"] or []}
    register, deregister = {}, {}
    for key, wanted, current in (
        ("DBClusterIdentifiers", wanted_clusters, clusters),
        ("DBInstanceIdentifiers", wanted_instances, instances),
    ):
        if wanted - current:
            register[key] = sorted(wanted - current)
        if current - wanted:
            deregister[key] = sorted(current - wanted)
    return register, deregister


# -- results ------------------------------------------------------------------
def result_of(proxy, tags, pool, targets):
    if not proxy:
        return {}
    result = camel_dict_to_snake_dict(proxy)
    result["resource_id"] = proxy["DBProxyArn"].split(":")[-1]
    result["tags"] = tags
    result["connection_pool_config"] = camel_dict_to_snake_dict(pool or {})
    result["targets"] = [camel_dict_to_snake_dict(t) for t in targets]
    return result


def _diff_view(result):
    return {k: v for k, v in result.items() if k not in ("created_date", "updated_date", "status")}


def predicted(params, before, modifications, tags, pool_changes, register, deregister):
    """What a check-mode run expects the proxy to look like afterwards."""
    after = dict(before)
    if not before:
        after = {
            "db_proxy_name": params["name"],
            "engine_family": params["engine_family"],
            "vpc_subnet_ids": params["vpc_subnet_ids"],
            "targets": [],
            "connection_pool_config": {},
        }
        modifications = proxy_modifications(params, {})
    for key, value in modifications.items():
        after[OPTION_OF[key]] = [camel_dict_to_snake_dict(e) for e in value] if key == "Auth" else value
    after["tags"] = tags
    pool = dict(after.get("connection_pool_config") or {})
    pool.update(camel_dict_to_snake_dict(pool_changes))
    after["connection_pool_config"] = pool
    gone = {i for ids in deregister.values() for i in ids}
    targets = [
        t
        for t in after.get("targets", [])
        if t.get("rds_resource_id", "").lower() not in gone and t.get("tracked_cluster_id", "").lower() not in gone
    ]
    for key, ids in register.items():
        kind = "TRACKED_CLUSTER" if key == "DBClusterIdentifiers" else "RDS_INSTANCE"
        targets += [{"type": kind, "rds_resource_id": i, "target_health": {"state": "REGISTERING"}} for i in ids]
    after["targets"] = targets
    return after


# -- waiting ------------------------------------------------------------------
def _targets_status(response):
    seen = []
    for target in response.get("Targets", []):
        health = target.get("TargetHealth") or {}
        if not health:
            continue
        text = f"{target.get('RdsResourceId')}: {health.get('State')}"
        if health.get("Reason"):
            text += f" ({health['Reason']}: {health.get('Description', '')})"
        seen.append(text)
    return "; ".join(seen) or "no targets"


def settled(proxy, targets, wanted_targets):
    """Whether the proxy is available and, when targets are wanted, every target with a health is AVAILABLE
    (what the waits for an available proxy and wait_targets accept)."""
    states = [t["TargetHealth"].get("State") for t in targets if t.get("TargetHealth")]
    return proxy.get("Status") == "available" and (not wanted_targets or (states and set(states) == {"AVAILABLE"}))


def wait_targets(module, client, name):
    wait_for(
        module,
        client,
        "DBProxyTargetsAvailable",
        f"the targets of DB proxy {name} to be AVAILABLE",
        _targets_status,
        DBProxyName=name,
        TargetGroupName=TARGET_GROUP,
    )


# -- changing -----------------------------------------------------------------
def create_params(p):
    """The parameters of CreateDBProxy but its name and tags."""
    params = {"EngineFamily": p["engine_family"], "RoleArn": p["role_arn"], "VpcSubnetIds": p["vpc_subnet_ids"]}
    for key, value in proxy_modifications(p, {}).items():
        if key == "SecurityGroups":
            params["VpcSecurityGroupIds"] = value
        elif key not in params:
            params[key] = value
    return params


def modify_pool(module, client, name, changes):
    try:
        client.modify_db_proxy_target_group(
            aws_retry=True, DBProxyName=name, TargetGroupName=TARGET_GROUP, ConnectionPoolConfig=changes
        )
    except (ClientError, BotoCoreError) as e:
        module.fail_json_aws(
            e, msg=f"Failed to change the connection pool of DB proxy {name} (ModifyDBProxyTargetGroup)"
        )


def change_targets(module, client, name, register, deregister):
    if deregister:
        try:
            client.deregister_db_proxy_targets(
                aws_retry=True, DBProxyName=name, TargetGroupName=TARGET_GROUP, **deregister
            )
        except (ClientError, BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Failed to deregister targets of DB proxy {name} (DeregisterDBProxyTargets)")
    if register:
        p = module.params
        # RDS Proxy refuses to register a cluster or instance that is still being
        # created or configured (InvalidDBInstanceState "... is in an unsupported
        # state - CONFIGURING_ENHANCED_MONITORING": aws-cdk issue 31304,
        # terraform-provider-aws PR 19096). That refusal, and no other error, is
        # tried again every wait_delay seconds until wait_timeout.
        retry = AWSRetry.exponential_backoff(
            retries=max_attempts(p["wait_timeout"], p["wait_delay"]),
            delay=p["wait_delay"],
            backoff=1,
            max_delay=p["wait_delay"],
            catch_extra_error_codes=list(TARGETS_NOT_READY_CODES),
        )
        try:
            retry(client.register_db_proxy_targets)(
                aws_retry=True, DBProxyName=name, TargetGroupName=TARGET_GROUP, **register
            )
        except is_boto3_error_code(list(TARGETS_NOT_READY_CODES)) as e:
            module.fail_json_aws(
                e,
                msg=f"Timed out after {p['wait_timeout']} seconds waiting for the targets of DB proxy {name} to be "
                "ready to register (RegisterDBProxyTargets)",
            )
        except (ClientError, BotoCoreError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg=f"Failed to register targets with DB proxy {name} (RegisterDBProxyTargets)")


# -- states -------------------------------------------------------------------
def ensure_present(module, client, ec2):
    p = module.params
    name = p["name"]
    proxy, tags = DB_PROXY.existing(module, client, immutable_differences)
    if proxy:
        pool = describe_target_group(module, client, name).get("ConnectionPoolConfig", {})
        targets = describe_targets(module, client, name)
        before = result_of(proxy, tags, pool, targets)
        modifications = proxy_modifications(p, proxy)
    else:
        require_two_availability_zones(module, ec2, p["vpc_subnet_ids"])
        pool, targets, before = {}, [], {}
        modifications = {}

    pool_changes = pool_modifications(p, pool)
    register, deregister = target_modifications(p, targets)
    changed, proxy, tags = DB_PROXY.create_or_modify(
        module, client, proxy, tags, create_params(p), modifications or None
    )
    changed |= bool(pool_changes or register or deregister)
    if module.check_mode:
        after = predicted(p, before, modifications, tags, pool_changes, register, deregister)
        module.exit_json(changed=changed, **after, diff={"before": _diff_view(before), "after": _diff_view(after)})

    if pool_changes or register or deregister:
        # The target group can only be changed on an available proxy.
        DB_PROXY.wait_until(module, client, name, "available")
        if pool_changes:
            modify_pool(module, client, name, pool_changes)
        change_targets(module, client, name, register, deregister)

    wanted_targets = bool(p["targets"] and any(p["targets"].values()))
    if not changed and (not p["wait"] or settled(proxy, targets, wanted_targets)):
        # Nothing was changed and nothing is to be waited for: what was read is the result.
        module.exit_json(changed=False, **before, diff={"before": _diff_view(before), "after": _diff_view(before)})

    if p["wait"]:
        DB_PROXY.wait_until(module, client, name, "available")
        if wanted_targets:
            wait_targets(module, client, name)

    proxy = DB_PROXY.describe(module, client, name) or proxy
    pool = describe_target_group(module, client, name).get("ConnectionPoolConfig", {})
    targets = describe_targets(module, client, name)
    after = result_of(proxy, tags, pool, targets)
    module.exit_json(changed=changed, **after, diff={"before": _diff_view(before), "after": _diff_view(after)})


def main():
    auth_options = dict(
        auth_scheme=dict(type="str", choices=["SECRETS"], default="SECRETS"),
        secret_arn=dict(type="str"),
        iam_auth=dict(type="str", choices=["DISABLED", "REQUIRED", "ENABLED"], default="DISABLED"),
        client_password_auth_type=dict(
            type="str",
            choices=[
                "MYSQL_NATIVE_PASSWORD",
                "MYSQL_CACHING_SHA2_PASSWORD",
                "POSTGRES_SCRAM_SHA_256",
                "POSTGRES_MD5",
                "SQL_SERVER_AUTHENTICATION",
            ],
        ),
        description=dict(type="str"),
        username=dict(type="str"),
    )
    pool_options = dict(
        max_connections_percent=dict(type="int"),
        max_idle_connections_percent=dict(type="int"),
        connection_borrow_timeout=dict(type="int"),
        init_query=dict(type="str"),
        session_pinning_filters=dict(type="list", elements="str", choices=["EXCLUDE_VARIABLE_SETS"]),
    )
    target_options = dict(
        db_cluster_identifiers=dict(type="list", elements="str"),
        db_instance_identifiers=dict(type="list", elements="str"),
    )
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["db_proxy_name"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        engine_family=dict(type="str", choices=["POSTGRESQL", "MYSQL", "SQLSERVER"]),
        auth=dict(
            type="list",
            elements="dict",
            options=auth_options,
            required_if=[("auth_scheme", "SECRETS", ["secret_arn"])],
        ),
        default_auth_scheme=dict(type="str", choices=["IAM_AUTH", "NONE"]),
        role_arn=dict(type="str"),
        vpc_subnet_ids=dict(type="list", elements="str"),
        vpc_security_group_ids=dict(type="list", elements="str"),
        require_tls=dict(type="bool"),
        idle_client_timeout=dict(type="int"),
        debug_logging=dict(type="bool"),
        connection_pool_config=dict(type="dict", options=pool_options),
        targets=dict(
            type="dict",
            options=target_options,
            mutually_exclusive=[("db_cluster_identifiers", "db_instance_identifiers")],
        ),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        **wait_options(wait_timeout=1200, wait_delay=15),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["engine_family", "role_arn", "vpc_subnet_ids"])],
        supports_check_mode=True,
    )
    validate_params(module)

    retry = AWSRetry.jittered_backoff(catch_extra_error_codes=["ThrottlingException"])
    client = module.client("rds", retry_decorator=retry)
    if module.params["state"] == "absent":
        DB_PROXY.ensure_absent(module, client, lambda proxy, tags: _diff_view(result_of(proxy, tags, None, [])))
    ensure_present(module, client, module.client("ec2", retry_decorator=retry))


if __name__ == "__main__":
    main()
