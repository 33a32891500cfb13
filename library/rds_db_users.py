#!/usr/bin/python

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: rds_db_users
short_description: Keep the IAM users of an Aurora PostgreSQL database, their schemas and grants in sync
description:
  - Creates, changes and drops PostgreSQL login roles of an Aurora PostgreSQL cluster through the RDS Data API
    (C(rds-data)), with the cluster's master secret. The module never reads the secret; the Data API does. SQL
    reaches the database no other way, so the cluster's HTTP endpoint must be enabled.
  - Each role the module creates is marked with C(COMMENT ON ROLE name IS 'managed by OWNER_TAG'). Only roles with
    this mark are ever altered or dropped; a role of a name in O(users) without it fails the task, so a role made
    by hand is never taken over.
  - The state is read first (one C(SELECT) of the catalogs); the statements needed are computed from it and run in
    one transaction, rolled back when one of them fails. In check mode only the read runs. When nothing differs
    only the read runs and the task is not changed.
  - The master user is made a member of each role it manages (C(GRANT name TO master)) unless it is a superuser;
    PostgreSQL requires that to create a schema for the role, to set default privileges for it and to reassign
    or drop what it owns.
  - Roles are shared by all databases of the cluster, grants and schemas are not; a role that owns objects or holds
    privileges in another database cannot be dropped until these are removed there.
options:
  resource_arn:
    description: ARN of the Aurora cluster.
    type: str
    required: true
  secret_arn:
    description: ARN of the Secrets Manager secret of the cluster's master user.
    type: str
    required: true
  database:
    description: Database in which the schemas and grants are managed.
    type: str
    required: true
  owner_tag:
    description:
      - Who manages the roles, for example the deployment's name; written into each role's comment as
        C(managed by OWNER_TAG).
      - Letters, digits, spaces and the characters C(_.:/@+=-), at most 128 characters, starting with a letter or digit.
    type: str
    required: true
  state:
    description:
      - V(present) brings the roles to O(users); V(absent) drops every role marked with O(owner_tag), whatever
        O(users) says.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - Drop the roles marked with O(owner_tag) that O(users) does not list.
      - A role is dropped with C(REASSIGN OWNED BY name TO master), C(DROP OWNED BY name) and C(DROP ROLE name);
        the data in its schema is kept, owned by the master user, and its privileges are gone.
    type: bool
    default: true
  users:
    description:
      - The login roles of the database. Required when O(state=present); an empty list drops every role marked
        with O(owner_tag) when O(purge=true).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the role; lowercase letters, digits and underscores, starting with a letter, at most 63 bytes.
            Names starting with C(pg_) or C(rds_) are reserved.
        type: str
        required: true
      iam:
        description:
          - Whether the role logs in with IAM authentication (member of C(rds_iam)). No password is ever set.
        type: bool
        default: true
      schema:
        description:
          - The role's own schema, created with C(AUTHORIZATION name) if missing; the role reads and writes there.
            Defaults to the role's name.
          - An existing schema of the master user (for example that of a role dropped earlier) is given to the role;
            a schema of any other role fails the task.
        type: str
      grants:
        description:
          - Access to other schemas. For each, C(USAGE) on the schema, the privileges on all its tables (views,
            materialized views, foreign and partitioned tables included), and the same default privileges for
            the tables the schema's owner creates later. Privileges the role holds there beyond these are revoked,
            as is its access to schemas not listed.
          - Privileges on tables owned by roles the master user has no privileges of cannot be granted.
        type: list
        elements: dict
        default: []
        suboptions:
          schema:
            description: Name of an existing schema, or of the schema of a user of O(users).
            type: str
            required: true
          privileges:
            description:
              - Any of C(SELECT), C(INSERT), C(UPDATE), C(DELETE), C(TRUNCATE), C(REFERENCES) and C(TRIGGER).
                An empty list gives C(USAGE) on the schema only.
            type: list
            elements: str
            default: []
      connection_limit:
        description: Most connections the role may have at once; V(-1) for no limit.
        type: int
        default: -1
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - The caller needs C(rds-data:ExecuteStatement), C(rds-data:BeginTransaction), C(rds-data:CommitTransaction) and
    C(rds-data:RollbackTransaction) on the cluster, and C(secretsmanager:GetSecretValue) on the secret.
  - Sequences are not granted; tables with C(serial) columns need C(USAGE) on their sequences to be inserted into
    by another role (identity columns do not).
"""

EXAMPLES = r"""
- name: The application's users
  rds_db_users:
    resource_arn: arn:aws:rds:eu-west-1:111111111111:cluster:app-db
    secret_arn: arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!cluster-0123-AbCdEf
    database: app
    owner_tag: app-deployment
    users:
      - name: app_a
        connection_limit: 50
      - name: reporting
        schema: reporting_work
        grants:
          - schema: app_a
            privileges: [SELECT]
  register: db_users

- name: Drop every role of the deployment
  rds_db_users:
    resource_arn: arn:aws:rds:eu-west-1:111111111111:cluster:app-db
    secret_arn: arn:aws:secretsmanager:eu-west-1:111111111111:secret:rds!cluster-0123-AbCdEf
    database: app
    owner_tag: app-deployment
    state: absent
"""

RETURN = r"""
users:
  description:
    - The roles marked with O(owner_tag), as found after the run (in check mode, as they would be).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the role.
      type: str
      sample: app_a
    iam:
      description: Whether the role is a member of C(rds_iam).
      type: bool
      sample: true
    schema:
      description: The role's own schema (the one of O(users[].schema) when the role owns it), or null.
      type: str
      sample: app_a
    connection_limit:
      description: The role's connection limit; V(-1) for none.
      type: int
      sample: 50
    grants:
      description: The schemas of other roles the role has access to, with the privileges it holds on their tables.
      type: list
      elements: dict
      sample: [{"schema": "app_a", "privileges": ["SELECT"]}]
statements:
  description: The SQL statements run (in check mode, those that would run), in order; empty when in sync.
  returned: always
  type: list
  elements: str
  sample: ['CREATE ROLE "app_a" LOGIN', "COMMENT ON ROLE \"app_a\" IS 'managed by app-deployment'"]
"""

import contextlib
import json
import re

from ansible.module_utils.rds_data import TRANSIENT_ERROR_CODES, error_hint, parameters, rows
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")
OWNER_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.:/@+=-]{0,127}\Z")
RESERVED_PREFIXES = ("pg_", "rds_")
RESERVED_ROLES = ("public", "none")

# The state of the database in one row: the master user, the schemas (owner and tables per owner) and, for the
# roles marked as this owner's or named in users, what the module manages. Data API parameters: :mark (the
# comment of a managed role) and :names (the users' names, comma-separated: validated names hold no comma).
# No "::" casts: the Data API reads ":name" as a parameter.
READ_STATE = """\
WITH roles AS (
  SELECT r.oid, r.rolname, r.rolcanlogin, r.rolconnlimit, shobj_description(r.oid, 'pg_authid') AS mark
  FROM pg_roles r
  WHERE r.rolname = ANY (string_to_array(:names, ',')) OR shobj_description(r.oid, 'pg_authid') = :mark
),
tables AS (
  SELECT c.oid, c.relnamespace, c.relowner, c.relacl FROM pg_class c WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
)
SELECT CAST(json_build_object(
  'current_user', current_user,
  'superuser', (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
  'rds_iam', EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'),
  'schemas', (
    SELECT coalesce(json_agg(json_build_object(
      'name', n.nspname,
      'owner', pg_get_userbyid(n.nspowner),
      'tables', (
        SELECT coalesce(json_object_agg(o.owner, o.count), '{}')
        FROM (SELECT pg_get_userbyid(t.relowner) AS owner, count(*) AS count
              FROM tables t WHERE t.relnamespace = n.oid GROUP BY t.relowner) o)
    ) ORDER BY n.nspname), '[]')
    FROM pg_namespace n WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'),
  'roles', (
    SELECT coalesce(json_agg(json_build_object(
      'name', m.rolname,
      'mark', m.mark,
      'login', m.rolcanlogin,
      'connection_limit', m.rolconnlimit,
      'iam', EXISTS (
        SELECT 1 FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
        WHERE a.member = m.oid AND g.rolname = 'rds_iam'),
      'master_member', pg_has_role(current_user, m.oid, 'USAGE'),
      'usage', (
        SELECT coalesce(json_agg(n.nspname ORDER BY n.nspname), '[]') FROM pg_namespace n
        WHERE n.nspowner <> m.oid AND EXISTS (
          SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee = m.oid AND a.privilege_type = 'USAGE')),
      'tables', (
        SELECT coalesce(json_agg(json_build_object('schema', p.nspname, 'privilege', p.privilege_type, 'count', p.n)
                                 ORDER BY p.nspname, p.privilege_type), '[]')
        FROM (SELECT n.nspname, a.privilege_type, count(DISTINCT t.oid) AS n
              FROM tables t JOIN pg_namespace n ON n.oid = t.relnamespace CROSS JOIN LATERAL aclexplode(t.relacl) a
              WHERE a.grantee = m.oid AND t.relowner <> m.oid GROUP BY n.nspname, a.privilege_type) p),
      'defaults', (
        SELECT coalesce(json_agg(json_build_object(
          'owner', pg_get_userbyid(d.defaclrole), 'schema', n.nspname, 'privilege', a.privilege_type)
          ORDER BY n.nspname, a.privilege_type), '[]')
        FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
          CROSS JOIN LATERAL aclexplode(d.defaclacl) a
        WHERE d.defaclobjtype = 'r' AND a.grantee = m.oid)
    ) ORDER BY m.rolname), '[]')
    FROM roles m)
) AS text) AS state"""


# -- SQL text


def quote_ident(name):
    """An SQL identifier, always double-quoted (so keywords and any case are safe)."""
    if "\x00" in name:
        raise ValueError("an identifier cannot hold a NUL character")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text):
    """A string constant, for the statements that take no parameters (COMMENT); standard_conforming_strings is on
    in every supported PostgreSQL, and the texts quoted here hold no backslash."""
    if "\\" in text or "\x00" in text:
        raise ValueError("a literal here cannot hold a backslash or a NUL character")
    return "'" + text.replace("'", "''") + "'"


def privilege_list(privileges):
    return ", ".join(p for p in PRIVILEGES if p in privileges)


# -- options


def _identifier_problem(value, what):
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        return f"{what} {value!r} must be lowercase letters, digits and underscores, starting with a letter"
    if len(value.encode()) > 63:
        return f"{what} {value!r} is longer than 63 bytes"
    if value.startswith(RESERVED_PREFIXES):
        return f"{what} {value!r} starts with a reserved prefix ({', '.join(RESERVED_PREFIXES)})"
    return None


def desired_users(module):
    """The users option checked and normalised: [{name, iam, schema, connection_limit, grants: {schema: set}}]."""
    p = module.params
    if not OWNER_TAG.match(p["owner_tag"] or ""):
        module.fail_json(
            msg=f"owner_tag {p['owner_tag']!r}: use letters, digits, spaces and _ . : / @ + = -, at most 128 "
            "characters, starting with a letter or digit"
        )
    if p["state"] == "absent":
        return []
    if p["users"] is None:
        module.fail_json(msg="users is required when state is present (an empty list drops every role of the owner)")
    users, names, schemas = [], set(), {}
    for index, user in enumerate(p["users"]):
        name = user["name"]
        where = f"users[{index}]"
        problem = _identifier_problem(name, "name")
        if problem is None and name in RESERVED_ROLES:
            problem = f"name {name!r} is reserved"
        if problem:
            module.fail_json(msg=f"{where}: {problem}")
        where = f"users[{index}] ({name})"
        if name in names:
            module.fail_json(msg=f"{where}: the name {name} is listed twice")
        names.add(name)
        schema = user["schema"] if user["schema"] is not None else name
        problem = _identifier_problem(schema, "schema")
        if problem:
            module.fail_json(msg=f"{where}: {problem}")
        if schema in schemas:
            module.fail_json(msg=f"{where}: schema {schema} is already the schema of user {schemas[schema]}")
        schemas[schema] = name
        if user["connection_limit"] < -1:
            module.fail_json(msg=f"{where}: connection_limit {user['connection_limit']} must be -1 or more")
        grants = {}
        for grant in user["grants"] or []:
            target = grant["schema"]
            problem = _identifier_problem(target, "grants schema")
            if problem:
                module.fail_json(msg=f"{where}: {problem}")
            if target == schema:
                module.fail_json(msg=f"{where}: grants schema {target} is the user's own schema")
            if target in grants:
                module.fail_json(msg=f"{where}: grants schema {target} is listed twice")
            privileges = set()
            for privilege in grant["privileges"] or []:
                value = str(privilege).strip().upper()
                if value not in PRIVILEGES:
                    module.fail_json(
                        msg=f"{where}: grants privilege {privilege!r} on schema {target} is not one of "
                        f"{', '.join(PRIVILEGES)}"
                    )
                privileges.add(value)
            grants[target] = privileges
        users.append(
            {
                "name": name,
                "iam": user["iam"],
                "schema": schema,
                "connection_limit": user["connection_limit"],
                "grants": grants,
            }
        )
    return users


# -- the state and what differs


def _grants_view(grants):
    return [{"schema": s, "privileges": [p for p in PRIVILEGES if p in grants[s]]} for s in sorted(grants)]


def found_view(state, role, wanted_schema=None):
    """A role of the state as the module reports it."""
    owned = sorted(s["name"] for s in state["schemas"] if s["owner"] == role["name"])
    grants = {}
    for schema in role["usage"]:
        grants.setdefault(schema, set())
    for entry in role["tables"] + role["defaults"]:
        if entry["privilege"] in PRIVILEGES:
            grants.setdefault(entry["schema"], set()).add(entry["privilege"])
    for schema in owned:
        grants.pop(schema, None)
    return {
        "name": role["name"],
        "iam": role["iam"],
        "schema": wanted_schema if wanted_schema in owned else (owned[0] if owned else None),
        "connection_limit": role["connection_limit"],
        "grants": _grants_view(grants),
    }


def desired_view(user):
    return {
        "name": user["name"],
        "iam": user["iam"],
        "schema": user["schema"],
        "connection_limit": user["connection_limit"],
        "grants": _grants_view(user["grants"]),
    }


def check(state, users, owner_tag):
    """Problems that stop the module before any change: [message]."""
    mark = f"managed by {owner_tag}"
    roles = {r["name"]: r for r in state["roles"]}
    problems = []
    for user in users:
        role = roles.get(user["name"])
        if role is not None and role["mark"] != mark:
            comment = f"its comment is {role['mark']!r}" if role["mark"] else "it has no comment"
            problems.append(
                f"role {user['name']} exists and is not managed by {owner_tag} ({comment}); the module does not "
                "take over a role it did not create: drop or rename it, or remove it from users"
            )
    if any(u["iam"] for u in users) and not state["rds_iam"]:
        problems.append("role rds_iam does not exist: IAM authentication needs an RDS or Aurora PostgreSQL database")
    return problems


def plan(state, users, owner_tag, purge):
    """(statements, problems): the SQL that brings the database to ``users``, in order."""
    master = state["current_user"]
    q_master = quote_ident(master)
    mark = f"managed by {owner_tag}"
    roles = {r["name"]: r for r in state["roles"]}
    schemas = {s["name"]: s for s in state["schemas"]}
    wanted = {u["name"] for u in users}
    dropped = [n for n, r in sorted(roles.items()) if r["mark"] == mark and n not in wanted] if purge else []
    problems = check(state, users, owner_tag)

    def member(name, role):
        """The master user needs the privileges of a role to act for it."""
        if state["superuser"] or (role is not None and role["master_member"]):
            return []
        return [f"GRANT {quote_ident(name)} TO {q_master}"]

    drops = []
    for name in dropped:
        q = quote_ident(name)
        drops += member(name, roles[name])
        drops += [f"REASSIGN OWNED BY {q} TO {q_master}", f"DROP OWNED BY {q}", f"DROP ROLE {q}"]

    role_statements, schema_statements, grant_statements = [], [], []
    owners = {name: s["owner"] for name, s in schemas.items()}
    owners.update({name: master for name, owner in owners.items() if owner in dropped})
    for user in users:
        name, role = user["name"], roles.get(user["name"])
        q = quote_ident(name)
        if role is None:
            limit = user["connection_limit"]
            role_statements.append(
                f"CREATE ROLE {q} LOGIN" + (f" CONNECTION LIMIT {int(limit)}" if limit != -1 else "")
            )
            role_statements.append(f"COMMENT ON ROLE {q} IS {quote_literal(mark)}")
        else:
            if not role["login"]:
                role_statements.append(f"ALTER ROLE {q} LOGIN")
            if role["connection_limit"] != user["connection_limit"]:
                role_statements.append(f"ALTER ROLE {q} CONNECTION LIMIT {int(user['connection_limit'])}")
        role_statements += member(name, role)
        has_iam = bool(role and role["iam"])
        if user["iam"] and not has_iam:
            role_statements.append(f"GRANT rds_iam TO {q}")
        elif has_iam and not user["iam"]:
            role_statements.append(f"REVOKE rds_iam FROM {q}")

        schema = user["schema"]
        owner = owners.get(schema)
        if schema not in owners:
            schema_statements.append(f"CREATE SCHEMA {quote_ident(schema)} AUTHORIZATION {q}")
        elif owner == master:
            schema_statements.append(f"ALTER SCHEMA {quote_ident(schema)} OWNER TO {q}")
        elif owner != name:
            problems.append(
                f"users ({name}): schema {schema} exists and belongs to role {owner}; choose another schema or "
                f"change its owner"
            )
        owners[schema] = name

    for user in users:
        name, role = user["name"], roles.get(user["name"])
        missing = sorted(set(user["grants"]) - set(owners))
        if missing:
            problems.append(f"users ({name}): grants schema {', '.join(missing)} does not exist")
            continue
        grant_statements += grant_changes(user, role, schemas, owners, dropped)
    if problems:
        return [], problems
    return drops + role_statements + schema_statements + grant_statements, []


def grant_changes(user, role, schemas, owners, dropped):
    name = user["name"]
    q = quote_ident(name)
    usage = set(role["usage"]) if role else set()
    tables = {}
    defaults = {}
    for entry in role["tables"] if role else []:
        tables.setdefault(entry["schema"], {})[entry["privilege"]] = entry["count"]
    for entry in role["defaults"] if role else []:
        if entry["owner"] not in dropped:  # DROP OWNED BY drops the default privileges a dropped role defined
            defaults.setdefault((entry["owner"], entry["schema"]), set()).add(entry["privilege"])

    statements = []
    for schema, privileges in sorted(user["grants"].items()):
        qs = quote_ident(schema)
        owner = owners[schema]
        counts = schemas[schema]["tables"] if schema in schemas else {}
        total = sum(counts.values()) - counts.get(name, 0)
        held = tables.get(schema, {})
        on_all = {p for p, count in held.items() if count >= total}
        if schema not in usage:
            statements.append(f"GRANT USAGE ON SCHEMA {qs} TO {q}")
        if total and privileges - on_all:
            statements.append(f"GRANT {privilege_list(privileges - on_all)} ON ALL TABLES IN SCHEMA {qs} TO {q}")
        extra = set(held) - privileges
        if extra:
            statements.append(f"REVOKE {privilege_list_any(extra)} ON ALL TABLES IN SCHEMA {qs} FROM {q}")
        current = defaults.pop((owner, schema), set())
        prefix = f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(owner)} IN SCHEMA {qs}"
        if privileges - current:
            statements.append(f"{prefix} GRANT {privilege_list(privileges - current)} ON TABLES TO {q}")
        if current - privileges:
            statements.append(f"{prefix} REVOKE {privilege_list_any(current - privileges)} ON TABLES FROM {q}")

    for schema in sorted((set(tables) | usage) - set(user["grants"]) - {user["schema"]}):
        qs = quote_ident(schema)
        if schema in tables:
            statements.append(f"REVOKE ALL ON ALL TABLES IN SCHEMA {qs} FROM {q}")
        if schema in usage:
            statements.append(f"REVOKE USAGE ON SCHEMA {qs} FROM {q}")
    for owner, schema in sorted(defaults):
        statements.append(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote_ident(owner)} IN SCHEMA {quote_ident(schema)} "
            f"REVOKE ALL ON TABLES FROM {q}"
        )
    return statements


def privilege_list_any(privileges):
    """Privileges to revoke: the known ones in order, then any other the catalog showed (MAINTAIN in 17+)."""
    known = [p for p in PRIVILEGES if p in privileges]
    return ", ".join(known + sorted(p for p in privileges if p not in PRIVILEGES))


# -- the Data API


class DataApi:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        p = module.params
        self.target = {"resourceArn": p["resource_arn"], "secretArn": p["secret_arn"]}
        self.database = p["database"]

    def fail(self, error, what):
        code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
        hint = error_hint(code)
        self.module.fail_json_aws(error, msg=f"{what}" + (f": {hint}" if hint else ""))

    def read_state(self, names, mark):
        try:
            response = self.client.execute_statement(
                aws_retry=True,
                **self.target,
                database=self.database,
                sql=READ_STATE,
                parameters=parameters(names=",".join(sorted(names)), mark=mark),
            )
        except (ClientError, BotoCoreError) as e:
            self.fail(e, f"Failed to read the roles of database {self.database} (ExecuteStatement)")
        records = rows(response)
        if len(records) != 1 or not isinstance(records[0][0], str):
            self.module.fail_json(msg=f"Unexpected answer to the read of database {self.database}: {records!r}")
        return json.loads(records[0][0])

    def run_in_transaction(self, statements):
        try:
            transaction = self.client.begin_transaction(aws_retry=True, **self.target, database=self.database)[
                "transactionId"
            ]
        except (ClientError, BotoCoreError) as e:
            self.fail(e, f"Failed to begin a transaction in database {self.database} (BeginTransaction)")
        statement = None
        try:
            for statement in statements:
                self.client.execute_statement(
                    aws_retry=True, **self.target, database=self.database, sql=statement, transactionId=transaction
                )
            statement = None
            self.client.commit_transaction(aws_retry=True, **self.target, transactionId=transaction)
        except (ClientError, BotoCoreError) as e:
            rolled_back = self.rollback(transaction)
            what = f"statement {statement!r} failed (ExecuteStatement)" if statement else "CommitTransaction failed"
            outcome = "the transaction was rolled back, nothing changed" if rolled_back else "the rollback failed too"
            self.fail(e, f"In database {self.database}, {what}; {outcome}")

    def rollback(self, transaction):
        try:
            self.client.rollback_transaction(aws_retry=True, **self.target, transactionId=transaction)
        except (ClientError, BotoCoreError):
            return False
        return True


# -- the run


def views(state, users, owner_tag):
    mark = f"managed by {owner_tag}"
    schema_of = {u["name"]: u["schema"] for u in users}
    return {r["name"]: found_view(state, r, schema_of.get(r["name"])) for r in state["roles"] if r["mark"] == mark}


def main():
    grant_spec = dict(
        schema=dict(type="str", required=True),
        privileges=dict(type="list", elements="str", default=[]),
    )
    user_spec = dict(
        name=dict(type="str", required=True),
        iam=dict(type="bool", default=True),
        schema=dict(type="str"),
        grants=dict(type="list", elements="dict", default=[], options=grant_spec),
        connection_limit=dict(type="int", default=-1),
    )
    argument_spec = dict(
        resource_arn=dict(type="str", required=True),
        secret_arn=dict(type="str", required=True),
        database=dict(type="str", required=True),
        owner_tag=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        purge=dict(type="bool", default=True),
        users=dict(type="list", elements="dict", options=user_spec),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    users = desired_users(module)
    owner_tag = p["owner_tag"]
    mark = f"managed by {owner_tag}"
    purge = p["purge"] or p["state"] == "absent"

    retry = AWSRetry.jittered_backoff(catch_extra_error_codes=TRANSIENT_ERROR_CODES)
    api = DataApi(module, module.client("rds-data", retry_decorator=retry))
    state = api.read_state([u["name"] for u in users], mark)
    statements, problems = plan(state, users, owner_tag, purge)
    if problems:
        module.fail_json(msg="; ".join(problems), statements=[])

    before = views(state, users, owner_tag)
    if not statements:
        found = list(before.values())
        module.exit_json(changed=False, users=found, statements=[], diff={"before": before, "after": before})

    if module.check_mode:
        after = {} if purge else dict(before)
        after.update({u["name"]: desired_view(u) for u in users})
    else:
        api.run_in_transaction(statements)
        after = views(api.read_state([u["name"] for u in users], mark), users, owner_tag)
    module.exit_json(
        changed=True, users=list(after.values()), statements=statements, diff={"before": before, "after": after}
    )


if __name__ == "__main__":
    main()
