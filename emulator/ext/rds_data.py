"""The RDS Data API, answered by the cluster's writer: a real PostgreSQL server (emulator/dataplane/postgres.py).

moto's rds-data answers ExecuteStatement with canned results; here ExecuteStatement, BatchExecuteStatement,
BeginTransaction, CommitTransaction and RollbackTransaction run on the writer of the cluster named by
``resourceArn``, over TLS verified against the emulator's CA, logged in with the ``username`` and ``password`` of
the secret named by ``secretArn`` (AWSCURRENT): a wrong password is refused by PostgreSQL itself. Shapes, error
codes and HTTP statuses are those of botocore's ``rds-data`` model.

The RDS side: EnableHttpEndpoint and DisableHttpEndpoint, and CreateDBCluster's and ModifyDBCluster's
``EnableHttpEndpoint`` as the RDS API reference documents them for Aurora PostgreSQL provisioned and Serverless v2
clusters (see ``http_endpoint_setter``).

Transactions keep their connection until CommitTransaction or RollbackTransaction, an error, or expiry, which is
checked lazily at each call against a clock that the setting ``data_api_clock_offset`` moves ahead (tests).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBCluster, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse

from .. import patching, requestlog
from ..settings import SETTINGS
from .rds_common import request_params

ENGINE = "aurora-postgresql"
# "Supported Regions and Aurora DB engines for RDS Data API" (Aurora User Guide), Data API with Aurora PostgreSQL
# Serverless v2 and provisioned: version 17.4 and higher, 16.1 and higher, 15.3 and higher, 14.8 and higher, 13.11
# and higher (the same in every Region that has it; a few Regions, e.g. Asia Pacific (Hyderabad), have none, which
# the emulator does not model); the page's later revision adds Aurora PostgreSQL 18 from 18.3.
SUPPORTED_FROM = {13: 11, 14: 8, 15: 3, 16: 1, 17: 4, 18: 3}
# BeginTransaction (RDS Data API reference): "A transaction can run for a maximum of 24 hours. A transaction is
# terminated and rolled back automatically after 24 hours." and "A transaction times out if no calls use its
# transaction ID in three minutes. If a transaction times out before it's committed, it's rolled back
# automatically."
TRANSACTION_IDLE = 3 * 60.0
TRANSACTION_LIFETIME = 24 * 3600.0
# CommitTransactionResponse and RollbackTransactionResponse, transactionStatus (values as AWS returns them, API
# reference examples).
COMMITTED = "Transaction Committed"
ROLLED_BACK = "Rollback Complete"
# SqlParameter.typeHint -> the PostgreSQL type the string value is sent as (API reference, SqlParameter).
TYPE_HINTS = {
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "DECIMAL": "numeric",
    "JSON": "json",
    "UUID": "uuid",
}
CONNECT_TIMEOUT = 10


# -- errors (botocore's rds-data model; the model gives each its HTTP status) ------------------------------------
class DataApiError(ServiceException):
    pass


def _error(code: str, message: str) -> DataApiError:
    return DataApiError(code, message)


# -- the clock of transactions ------------------------------------------------------------------------------------
def now() -> float:
    """Seconds on the transactions' clock: monotonic, ahead by ``data_api_clock_offset`` (emulator setting)."""
    return time.monotonic() + SETTINGS.data_api_clock_offset


@dataclass
class _Transaction:
    transaction_id: str
    account_id: str
    cluster_arn: str
    conn: Any
    started: float
    last_used: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_transactions: dict[str, _Transaction] = {}
_ended: dict[str, str] = {}  # transaction ID -> why it is no longer found
_lock = threading.Lock()

# Causes appended to "Transaction <id> is not found" ("Troubleshooting Amazon RDS Data API", Aurora User Guide).
EXPIRED = "Transaction may be expired."
ENDED = "One previous call resulted in a termination of your transaction."
ABORTED = "Transaction has been aborted due to an error from a previous call."


def _close(conn: Any, rollback: bool = True) -> None:
    with contextlib.suppress(Exception):
        if rollback:
            conn.rollback()
    with contextlib.suppress(Exception):
        conn.close()


def expire() -> None:
    """Roll back and forget the transactions that timed out or reached their 24 hours (lazily, at each call)."""
    moment = now()
    with _lock:
        due = [
            t
            for t in _transactions.values()
            if moment - t.last_used > TRANSACTION_IDLE or moment - t.started > TRANSACTION_LIFETIME
        ]
        for transaction in due:
            del _transactions[transaction.transaction_id]
            _ended[transaction.transaction_id] = EXPIRED
    for transaction in due:
        _close(transaction.conn)


def reset() -> None:
    """Forget every transaction (emulator reset)."""
    with _lock:
        gone = list(_transactions.values())
        _transactions.clear()
        _ended.clear()
    for transaction in gone:
        _close(transaction.conn)


def _not_found(transaction_id: str) -> DataApiError:
    cause = _ended.get(transaction_id, EXPIRED)
    return _error("TransactionNotFoundException", f"Transaction {transaction_id} is not found. {cause}")


def _end(transaction: _Transaction, why: str) -> None:
    with _lock:
        if _transactions.get(transaction.transaction_id) is transaction:
            del _transactions[transaction.transaction_id]
        _ended[transaction.transaction_id] = why


@contextlib.contextmanager
def _use(transaction_id: str, account_id: str, cluster_arn: str):
    """The transaction, held for one call; its idle time starts again."""
    with _lock:
        transaction = _transactions.get(transaction_id)
    if transaction is None or (transaction.account_id, transaction.cluster_arn) != (account_id, cluster_arn):
        raise _not_found(transaction_id)
    # "DatabaseErrorException: Transaction is still running a query" ("Troubleshooting Amazon RDS Data API"): a
    # request with the ID of a transaction that is processing another request is refused at once.
    if not transaction.lock.acquire(blocking=False):
        raise _error("DatabaseErrorException", "Transaction is still running a query")
    try:
        transaction.last_used = now()
        yield transaction
    finally:
        transaction.last_used = now()
        transaction.lock.release()


# -- the caller, the cluster, the secret -----------------------------------------------------------------------------
def _principal(response: BaseResponse) -> Any:
    from ..dataplane import iam_auth

    try:
        credentials = iam_auth.principal_for(response.get_access_key(), response.headers.get("X-Amz-Security-Token"))
    except iam_auth.CredentialsRefused as refused:
        raise _error(refused.code, refused.message) from None
    return credentials.principal


def _authorize(principal: Any, action: str, resource: str) -> None:
    """Identity-based policies of the caller ("Authorizing access to the Amazon RDS Data API": the caller needs
    the rds-data action on the cluster and, as "Data API transparently calls Secrets Manager, which allows (or
    denies) the user's request for the secret", secretsmanager:GetSecretValue on the secret). The message is IAM's
    usual one; AWS documents none for the Data API."""
    from ..dataplane import iam_auth

    if not iam_auth.is_allowed(principal, action, resource):
        raise _error(
            "AccessDeniedException",
            f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource}",
        )


def supported_version(version: str | None) -> bool:
    """Whether the Data API supports this Aurora PostgreSQL version on provisioned / Serverless v2 clusters
    (``SUPPORTED_FROM``); a bare major stands for its default minor, which is supported."""
    parts = (version or "").split(".")
    if not parts[0].isdigit() or int(parts[0]) not in SUPPORTED_FROM:
        return False
    if len(parts) == 1:
        return True
    return parts[1].isdigit() and int(parts[1]) >= SUPPORTED_FROM[int(parts[0])]


def supports_data_api(cluster: DBCluster) -> bool:
    engine_ok = cluster.engine == ENGINE and cluster.engine_mode == "provisioned"
    return engine_ok and supported_version(cluster.engine_version)


def _cluster(account_id: str, region: str, arn: str) -> Any:
    """The cluster of ``resourceArn`` with its HTTP endpoint enabled. "HttpEndpoint isn't enabled for cluster
    <cluster_ID>" ("Troubleshooting Amazon RDS Data API") covers a cluster that does not support the Data API,
    one without it enabled, and an ARN that does not exactly match the cluster's (HttpEndpointNotEnabledException).
    The message is the one AWS returns, with its pointer to the troubleshooting section."""
    parts = arn.split(":", 6)
    name = parts[6] if len(parts) == 7 and parts[5] == "cluster" else arn
    cluster = None
    if len(parts) == 7 and parts[:3] == ["arn", "aws", "rds"] and parts[3] == region and parts[4] == account_id:
        backend = rds_backends[account_id][region]
        cluster = backend.clusters.get(parts[6])
    if cluster is None or cluster.db_cluster_arn != arn or not cluster.enable_http_endpoint:
        raise _error(
            "HttpEndpointNotEnabledException",
            f"HttpEndpoint is not enabled for cluster {name}. Please refer to "
            "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api.troubleshooting",
        )
    return cluster


def _secret(arn: str) -> tuple[str, str]:
    """The username and password of the secret (AWSCURRENT). A secret that cannot be found is
    SecretsErrorException ("The secret provided wasn't found", model); one without a JSON username and password is
    InvalidSecretException ("The Secrets Manager secret used with the request isn't valid", model)."""
    from moto.secretsmanager.models import secretsmanager_backends

    parts = arn.split(":")
    try:
        value = secretsmanager_backends[parts[4]][parts[3]].get_secret_value(arn, None, "AWSCURRENT")
    except Exception:
        raise _error("SecretsErrorException", f"Secrets Manager can't find the specified secret: {arn}") from None
    try:
        data = json.loads(value.get("SecretString") or "")
        return str(data["username"]), str(data["password"])
    except (ValueError, KeyError, TypeError):
        raise _error("InvalidSecretException", f"The secret {arn} has no username and password") from None


@dataclass
class _Call:
    account_id: str
    region: str
    cluster: Any
    username: str
    password: str


def _prepare(response: BaseResponse, operation: str) -> _Call:
    expire()
    params = response.params
    principal = _principal(response)
    resource_arn = params.get("resourceArn") or ""
    secret_arn = params.get("secretArn") or ""
    _authorize(principal, f"rds-data:{operation}", resource_arn)
    cluster = _cluster(response.current_account, response.region, resource_arn)
    _authorize(principal, "secretsmanager:GetSecretValue", secret_arn)
    username, password = _secret(secret_arn)
    return _Call(response.current_account, response.region, cluster, username, password)


# -- the database --------------------------------------------------------------------------------------------------
_FATAL = re.compile(r"FATAL:\s+(.*)")
# SQLSTATEs of the login refusals PostgreSQL sends (libpq does not pass them on to psycopg2 at connection time).
_LOGIN_STATES = (("password authentication failed", "28P01"), ("pg_hba.conf rejects", "28000"))


ACTIVE_SQL_TRANSACTION = "25001"  # "cannot run inside a transaction block" (PostgreSQL's errcodes)


def database_error(message: str, sqlstate: str | None) -> DataApiError:
    """A database error as the Data API reports it: DatabaseErrorException (the model: "There was an error in
    processing the SQL statement"; BadRequestException, which older answers used, is deprecated) with the
    PostgreSQL JDBC driver's form of the server's message, ``ERROR: <message>; SQLState: <code>``, as clients of
    Aurora PostgreSQL's Data API observe it (e.g. ``ERROR: ... already exists; SQLState: 42P07``). AWS documents
    no form; the emulator gives the primary message only (no Position, Detail or Hint)."""
    text = message.strip()
    if sqlstate:
        text = f"{text}; SQLState: {sqlstate}"
    error = _error("DatabaseErrorException", text)
    error.sqlstate = sqlstate
    return error


def _connect(call: _Call, database: str | None) -> Any:
    """A connection to the cluster's writer as the secret's user, TLS verified against the emulator's CA. No
    running writer: DatabaseUnavailableException ("The writer instance in the DB cluster isn't available")."""
    import psycopg2

    from ..dataplane import postgres

    try:
        backend = postgres.backend_for(call.account_id, call.region, call.cluster.db_cluster_identifier, "writer")
    except postgres.NoInstanceAvailable:
        raise _error("DatabaseUnavailableException", "") from None
    try:
        conn = psycopg2.connect(
            host=backend.host,
            port=backend.port,
            user=call.username,
            password=call.password,
            # Without ``database`` the session opens the cluster's DatabaseName, else ``postgres`` (AWS documents
            # no default for Aurora PostgreSQL; this is the emulator's choice).
            dbname=database or postgres._database_name(call.cluster),
            sslmode="verify-full",
            sslrootcert=str(postgres.server_ca_file()),
            connect_timeout=CONNECT_TIMEOUT,
            application_name="rds-data-api",
        )
    except psycopg2.OperationalError as exc:
        text = str(exc)
        found = _FATAL.search(text)
        if found is None:
            raise _error("DatabaseUnavailableException", "") from None
        message = found.group(1).strip()
        state = next((code for words, code in _LOGIN_STATES if words in message), None)
        raise database_error(f"FATAL: {message}", state) from None
    _raw_json(conn)
    return conn


def _raw_json(conn: Any) -> None:
    """json and jsonb as the server's text (the Data API returns them as strings)."""
    import psycopg2.extensions

    for oids, name in (((114,), "JSONTEXT"), ((3802,), "JSONBTEXT")):
        psycopg2.extensions.register_type(psycopg2.extensions.new_type(oids, name, lambda value, cur: value), conn)
    array = psycopg2.extensions.new_array_type((199, 3807), "JSONTEXTARRAY", psycopg2.STRING)
    psycopg2.extensions.register_type(array, conn)


_NAMED = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


def to_pyformat(sql: str, hints: dict[str, str]) -> tuple[str, list[str]]:
    """The Data API's ``:name`` placeholders (API reference, SqlParameter; "Calling the Amazon RDS Data API") as
    psycopg2's ``%(name)s``, each with the cast of its typeHint; ``%`` doubled. Quoted strings, quoted identifiers,
    dollar quotes, comments and ``::`` casts are left alone. Returns the SQL and the names used."""
    out: list[str] = []
    names: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == c:
                    if end + 1 < n and sql[end + 1] == c:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == "$" and (tag := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])):
            end = sql.find(tag.group(0), i + len(tag.group(0)))
            end = n if end < 0 else end + len(tag.group(0))
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif c == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif c == ":" and (match := _NAMED.match(sql, i)):
            name = match.group(1)
            names.append(name)
            cast = TYPE_HINTS.get(hints.get(name, ""))
            out.append(f"%({name})s" + (f"::{cast}" if cast else ""))
            i = match.end()
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), names


def _parameter_value(value: dict[str, Any]) -> Any:
    """A ``Field`` of a parameter as a Python value for psycopg2."""
    import psycopg2

    if value.get("isNull"):
        return None
    for key in ("stringValue", "longValue", "doubleValue", "booleanValue"):
        if key in value:
            return value[key]
    if "blobValue" in value:
        blob = value["blobValue"]
        return psycopg2.Binary(blob if isinstance(blob, bytes) else base64.b64decode(blob))
    if "arrayValue" in value:
        # SqlParametersList: "Array parameters are not supported." (API reference, ExecuteStatement).
        raise _error("BadRequestException", "Array parameters are not supported.")
    return None


def _bind(sql: str, parameters: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    hints = {p.get("name", ""): p.get("typeHint", "") for p in parameters}
    text, names = to_pyformat(sql, hints)
    values = {p.get("name", ""): _parameter_value(p.get("value") or {}) for p in parameters}
    missing = sorted({name for name in names if name not in values})
    if missing:
        raise _error("BadRequestException", f"No value specified for parameter {missing[0]}")
    return text, values


def _run(conn: Any, sql: str, parameters: list[dict[str, Any]]) -> Any:
    """Run one statement; a database error becomes DatabaseErrorException."""
    import psycopg2

    text, values = _bind(sql, parameters)
    cur = conn.cursor()
    try:
        cur.execute(text, values)
    except psycopg2.Error as exc:
        primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
        severity = exc.diag.severity or "ERROR"
        raise database_error(f"{severity}: {primary}", exc.pgcode) from None
    return cur


# -- results ----------------------------------------------------------------------------------------------------------
# java.sql.Types of the PostgreSQL types, as the PostgreSQL JDBC driver (which ColumnMetadata follows: type,
# typeName, precision, scale, nullable...) reports them.
JDBC_TYPES = {
    "bool": -7, "int2": 5, "int4": 4, "int8": -5, "oid": -5, "float4": 7, "float8": 8, "numeric": 2, "money": 8,
    "bpchar": 1, "char": 1, "varchar": 12, "text": 12, "name": 12, "bytea": -2, "date": 91, "time": 92,
    "timetz": 92, "timestamp": 93, "timestamptz": 93,
}  # fmt: skip
OTHER, ARRAY = 1111, 2003
PRECISION = {"bool": 1, "int2": 5, "int4": 10, "int8": 19, "oid": 10, "float4": 8, "float8": 17, "date": 13}
SIGNED = {"int2", "int4", "int8", "float4", "float8", "numeric", "money"}
CASE_SENSITIVE = {"bpchar", "char", "varchar", "text", "name", "json", "jsonb", "xml"}


def _types(conn: Any, oids: set[int]) -> dict[int, tuple[str, int]]:
    """oid -> (type name, element type oid) from pg_type."""
    if not oids:
        return {}
    with conn.cursor() as cur:
        cur.execute("SELECT oid, typname, typelem FROM pg_catalog.pg_type WHERE oid = ANY(%s)", (list(oids),))
        return {row[0]: (row[1], row[2]) for row in cur.fetchall()}


def _columns(conn: Any, description: Any) -> list[dict[str, Any]]:
    """``ColumnMetadata`` of each column (includeResultMetadata)."""
    types = _types(conn, {column.type_code for column in description})
    element_oids = {types.get(c.type_code, ("", 0))[1] for c in description} - {0}
    types |= _types(conn, element_oids - set(types))
    tables: dict[tuple[int, int], tuple[str, bool, bool]] = {}
    attributes = {(c.table_oid, c.table_column) for c in description if c.table_oid}
    if attributes:
        with conn.cursor() as cur:
            for table_oid, number in attributes:
                cur.execute(
                    "SELECT c.relname, a.attnotnull, a.attidentity <> '' OR "
                    "coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%', false) "
                    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                    "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                    "WHERE a.attrelid = %s AND a.attnum = %s",
                    (table_oid, number),
                )
                row = cur.fetchone()
                if row:
                    tables[(table_oid, number)] = (row[0], bool(row[1]), bool(row[2]))
    metadata = []
    for column in description:
        type_name, element = types.get(column.type_code, ("unknown", 0))
        table, not_null, auto_increment = tables.get((column.table_oid, column.table_column), ("", False, False))
        is_array = element != 0 and type_name.startswith("_")
        base_name = types.get(element, ("", 0))[0] if is_array else type_name
        if auto_increment and type_name in ("int4", "int8", "int2"):
            type_name = {"int4": "serial", "int8": "bigserial", "int2": "smallserial"}[type_name]
        precision = PRECISION.get(base_name, 0)
        scale = 0
        if base_name in ("varchar", "bpchar") and column.internal_size and column.internal_size > 0:
            precision = column.internal_size
        elif base_name in ("text", "bytea", "json", "jsonb") or (base_name == "varchar" and not precision):
            precision = 2147483647
        elif base_name == "numeric" and column.precision is not None:
            precision, scale = column.precision or 0, column.scale or 0
        elif base_name in ("timestamp", "timestamptz", "time", "timetz"):
            precision = {"timestamp": 29, "timestamptz": 35, "time": 15, "timetz": 21}[base_name]
            scale = 6
        metadata.append(
            {
                "name": column.name,
                "type": ARRAY if is_array else JDBC_TYPES.get(base_name, OTHER),
                "typeName": type_name,
                "label": column.name,
                "schemaName": "",
                "tableName": table,
                "isAutoIncrement": auto_increment,
                "isSigned": base_name in SIGNED,
                "isCurrency": base_name == "money",
                "isCaseSensitive": base_name in CASE_SENSITIVE,
                "nullable": (0 if not_null else 1) if table else 2,
                "precision": precision,
                "scale": scale,
                "arrayBaseColumnType": JDBC_TYPES.get(base_name, OTHER) if is_array else 0,
            }
        )
    return metadata


@dataclass
class _Options:
    decimal_as_string: bool = True  # resultSetOptions.decimalReturnType STRING (default) or DOUBLE_OR_LONG
    long_as_string: bool = False  # resultSetOptions.longReturnType LONG (default) or STRING


def _text(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _decimal(value: decimal.Decimal, options: _Options) -> Any:
    if options.decimal_as_string:
        return str(value)
    # DOUBLE_OR_LONG: "converted to a Long value if its scale is 0, or to a Double value otherwise"
    # (API reference, ResultSetOptions).
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


def _field(value: Any, options: _Options) -> dict[str, Any]:
    """A value as a ``Field`` (the union of the model): isNull, booleanValue, longValue, doubleValue, stringValue,
    blobValue, arrayValue."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"stringValue": str(value)} if options.long_as_string else {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, decimal.Decimal):
        converted = _decimal(value, options)
        if isinstance(converted, str):
            return {"stringValue": converted}
        return {"longValue": converted} if isinstance(converted, int) else {"doubleValue": converted}
    if isinstance(value, bytes | memoryview):
        return {"blobValue": bytes(value)}
    if isinstance(value, list):
        return {"arrayValue": _array(value, options)}
    return {"stringValue": _text(value)}


def _array(values: list[Any], options: _Options) -> dict[str, Any]:
    """An ``ArrayValue``: its members are typed lists that "can contain null values" (model)."""
    present = [v for v in values if v is not None]
    if any(isinstance(v, list) for v in present):
        return {"arrayValues": [_array(v, options) if v is not None else None for v in values]}
    if present and all(isinstance(v, bool) for v in present):
        return {"booleanValues": values}
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present) and not options.long_as_string:
        return {"longValues": values}
    if present and all(isinstance(v, float) for v in present):
        return {"doubleValues": values}
    return {"stringValues": [None if v is None else _text(v) for v in values]}


def _json_value(value: Any, options: _Options) -> Any:
    """A value in ``formattedRecords`` (formatRecordsAs JSON)."""
    if isinstance(value, int) and not isinstance(value, bool) and options.long_as_string:
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return _decimal(value, options)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list):
        return [_json_value(v, options) for v in value]
    return _text(value)


def _result(cur: Any, conn: Any, params: dict[str, Any]) -> dict[str, Any]:
    """ExecuteStatementResponse."""
    options_in = params.get("resultSetOptions") or {}
    options = _Options(
        decimal_as_string=options_in.get("decimalReturnType", "STRING") != "DOUBLE_OR_LONG",
        long_as_string=options_in.get("longReturnType", "LONG") == "STRING",
    )
    # generatedFields: "The generatedFields data isn't supported by Aurora PostgreSQL. To get the values of
    # generated fields, use the RETURNING clause." (API reference, ExecuteStatementResponse): always empty.
    result: dict[str, Any] = {"generatedFields": []}
    if cur.description is None:
        result["numberOfRecordsUpdated"] = max(cur.rowcount, 0)
        return result
    rows = cur.fetchall()
    # numberOfRecordsUpdated counts updated records: a SELECT updates none. A DML statement with RETURNING counts
    # the rows it changed.
    result["numberOfRecordsUpdated"] = 0 if cur.statusmessage.split()[0] == "SELECT" else max(cur.rowcount, 0)
    if params.get("formatRecordsAs") == "JSON":
        # formattedRecords: the result set as one JSON string, an object per row keyed by column name; records and
        # columnMetadata are then blank (API reference, ExecuteStatementResponse).
        names = [column.name for column in cur.description]
        objects = [{n: _json_value(v, options) for n, v in zip(names, row, strict=True)} for row in rows]
        result["formattedRecords"] = json.dumps(objects, separators=(",", ":"))
        return result
    result["records"] = [[_field(v, options) for v in row] for row in rows]
    if params.get("includeResultMetadata"):
        result["columnMetadata"] = _columns(conn, cur.description)
    return result


# -- operations -------------------------------------------------------------------------------------------------------
def _wire(value: Any) -> Any:
    """rest-json: blobs base64-encoded."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


def _mark_if_nothing_written(conn: Any) -> None:
    """Log the request as read-only when its statement wrote nothing: PostgreSQL assigns a transaction ID at a
    transaction's first write only ("Transactions and Identifiers", PostgreSQL documentation), so none assigned
    means nothing was written. (For the emulator's request log, which tells reads from changes; AWS keeps no such
    log.)"""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
        if cur.fetchone()[0]:
            requestlog.mark_read_only()


def _in_transaction(transaction_id: str, call: Any, work: Any) -> str:
    """``work(conn)`` on the connection of a transaction; an error ends the transaction ("Transaction has been
    aborted due to an error from a previous call.", "Troubleshooting Amazon RDS Data API")."""
    with _use(transaction_id, call.account_id, call.cluster.db_cluster_arn) as transaction:
        try:
            return work(transaction.conn)
        except DataApiError:
            _end(transaction, ABORTED)
            _close(transaction.conn)
            raise


@contextlib.contextmanager
def _ending(response: BaseResponse, operation: str):
    """The transaction of the request's transactionId, ended by CommitTransaction or RollbackTransaction."""
    call = _prepare(response, operation)
    transaction_id = response.params.get("transactionId") or ""
    with _use(transaction_id, call.account_id, call.cluster.db_cluster_arn) as transaction:
        _end(transaction, ENDED)
        yield transaction


def _answer(result: dict[str, Any]) -> str:
    """The response body, serialized here: moto's serializer cannot write the nulls that the typed lists of an
    ArrayValue "can contain" (model)."""
    return json.dumps(_wire(result))


class RDSDataResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="rds-data")
        self.automated_parameter_parsing = True

    def execute_statement(self) -> str:
        call = _prepare(self, "ExecuteStatement")
        params = self.params
        transaction_id = params.get("transactionId")
        # schema: "Currently, the schema parameter isn't supported." (API reference, ExecuteStatement): ignored.
        if transaction_id:
            return _in_transaction(
                transaction_id,
                call,
                lambda conn: _answer(_result(_run(conn, params["sql"], params.get("parameters") or []), conn, params)),
            )
        # "If a call isn't part of a transaction because it doesn't include the transactionID parameter, changes
        # that result from the call are committed automatically." (API reference, ExecuteStatement)
        # Run in a transaction of its own, committed at once, so that whether it wrote anything is known before it
        # commits; a statement PostgreSQL runs only outside a transaction block (CREATE DATABASE, VACUUM...) runs
        # alone, as on AWS.
        conn = _connect(call, params.get("database"))
        try:
            try:
                cur = _run(conn, params["sql"], params.get("parameters") or [])
            except DataApiError as error:
                if getattr(error, "sqlstate", None) != ACTIVE_SQL_TRANSACTION:
                    raise
                conn.rollback()
                conn.autocommit = True
                cur = _run(conn, params["sql"], params.get("parameters") or [])
            answer = _answer(_result(cur, conn, params))
            if not conn.autocommit:
                _mark_if_nothing_written(conn)
                conn.commit()
            return answer
        finally:
            _close(conn)

    def batch_execute_statement(self) -> str:
        call = _prepare(self, "BatchExecuteStatement")
        params = self.params
        # "The SQL statement is executed as many times as the number of parameter sets provided" (API reference,
        # BatchExecuteStatement, parameterSets); without any, once.
        parameter_sets = params.get("parameterSets") or [[]]
        transaction_id = params.get("transactionId")

        def run_all(conn: Any) -> list[dict[str, Any]]:
            results = []
            for parameters in parameter_sets:
                _run(conn, params["sql"], parameters or [])
                results.append({"generatedFields": []})  # not supported by Aurora PostgreSQL, as above
            return results

        if transaction_id:
            return _in_transaction(transaction_id, call, lambda conn: _answer({"updateResults": run_all(conn)}))
        conn = _connect(call, params.get("database"))
        try:
            updates = run_all(conn)  # one transaction for the batch, committed at its end
            conn.commit()
            return _answer({"updateResults": updates})
        finally:
            _close(conn)

    def begin_transaction(self) -> str:
        call = _prepare(self, "BeginTransaction")
        conn = _connect(call, self.params.get("database"))
        conn.autocommit = False
        moment = now()
        # Transaction IDs are opaque strings of up to 192 characters (model, Id).
        transaction_id = base64.b64encode(uuid.uuid4().bytes + secrets.token_bytes(48)).decode()
        transaction = _Transaction(
            transaction_id, call.account_id, call.cluster.db_cluster_arn, conn, started=moment, last_used=moment
        )
        with _lock:
            _transactions[transaction_id] = transaction
        return _answer({"transactionId": transaction_id})

    def commit_transaction(self) -> str:
        with _ending(self, "CommitTransaction") as transaction:
            try:
                transaction.conn.commit()
            except Exception as exc:
                _close(transaction.conn)
                raise database_error(f"ERROR: {exc}".strip(), getattr(exc, "pgcode", None)) from None
            _close(transaction.conn, rollback=False)
        return _answer({"transactionStatus": COMMITTED})

    def rollback_transaction(self) -> str:
        with _ending(self, "RollbackTransaction") as transaction:
            _close(transaction.conn)
        return _answer({"transactionStatus": ROLLED_BACK})


# -- the HTTP endpoint of a cluster (RDS API) ---------------------------------------------------------------------
class ResourceNotFoundFault(RDSClientError):
    code = "ResourceNotFoundFault"


class InvalidResourceStateFault(RDSClientError):
    code = "InvalidResourceStateFault"


def http_endpoint_setter(self: DBCluster, value: bool | None) -> None:
    """``EnableHttpEndpoint`` of CreateDBCluster and ModifyDBCluster.

    - Aurora Serverless v1 (engine mode ``serverless``): moto's rules, both calls.
    - Provisioned and Serverless v2: CreateDBCluster's ``EnableHttpEndpoint`` enables it ("run the
      create-db-cluster AWS CLI command with the --enable-http-endpoint option", Aurora User Guide, "Enabling the
      Amazon RDS Data API"), where the Data API supports the engine version (else it stays off, as moto has AWS
      do for incompatible configurations). ModifyDBCluster's is ignored: "This parameter applies only to Aurora
      Serverless v1 DB clusters. To enable or disable the HTTP endpoint for an Aurora Serverless v2 or provisioned
      DB cluster, use the EnableHttpEndpoint and DisableHttpEndpoint operations." (RDS API reference,
      ModifyDBCluster). AWS answers such a call without error and leaves the endpoint as it is
      (hashicorp/terraform-provider-aws issue 37125 and pull request 38997).
    """
    if self.engine_mode == "serverless":
        _moto_http_endpoint_setter(self, value)
        return
    if "_enable_http_endpoint" in self.__dict__:  # set at construction: this is ModifyDBCluster
        return
    self._enable_http_endpoint = bool(value) and supports_data_api(self)


_moto_http_endpoint_setter = DBCluster.enable_http_endpoint.fset


def _cluster_by_arn(backend: RDSBackend, arn: str) -> DBCluster:
    cluster = next((c for c in backend.clusters.values() if c.db_cluster_arn == arn), None)
    if cluster is None:
        # ResourceNotFoundFault, "The specified resource ID was not found." (RDS API reference, EnableHttpEndpoint).
        raise ResourceNotFoundFault(f"DB cluster {arn} not found.")
    return cluster


def set_http_endpoint(backend: RDSBackend, arn: str, enabled: bool) -> DBCluster:
    """EnableHttpEndpoint / DisableHttpEndpoint: "This operation applies only to Aurora Serverless v2 and
    provisioned DB clusters" (RDS API reference). InvalidResourceStateFault: "The operation can't be performed
    because another operation is in progress" (same page) for a cluster that is not available. A cluster whose
    engine version the Data API does not support is refused with the same fault: AWS documents no fault for it,
    the model lists only these two."""
    cluster = _cluster_by_arn(backend, arn)
    if cluster.status != "available":
        raise InvalidResourceStateFault(
            f"The operation can't be performed because DB cluster {cluster.db_cluster_identifier} is {cluster.status}."
        )
    if cluster.engine_mode == "serverless":
        raise InvalidResourceStateFault(
            "This operation applies only to Aurora Serverless v2 and provisioned DB clusters. Use ModifyDBCluster "
            "with EnableHttpEndpoint for Aurora Serverless v1."
        )
    if not supports_data_api(cluster):
        raise InvalidResourceStateFault(
            f"The RDS Data API isn't supported for {cluster.engine} version {cluster.engine_version}."
        )
    cluster._enable_http_endpoint = enabled
    return cluster


def enable_http_endpoint_action(self: RDSResponse) -> ActionResult:
    cluster = set_http_endpoint(self.backend, request_params(self).get("ResourceArn") or "", True)
    return ActionResult({"ResourceArn": cluster.db_cluster_arn, "HttpEndpointEnabled": True})


def disable_http_endpoint_action(self: RDSResponse) -> ActionResult:
    cluster = set_http_endpoint(self.backend, request_params(self).get("ResourceArn") or "", False)
    return ActionResult({"ResourceArn": cluster.db_cluster_arn, "HttpEndpointEnabled": False})


@patching.install_once
def install() -> None:
    from botocore.session import get_session
    from moto.rdsdata import urls

    model = get_session().get_service_model("rds-data")
    # Every operation of the Data API is answered here.
    routes = {
        "{0}" + model.operation_model(name).http["requestUri"] + "$": RDSDataResponse.dispatch
        for name in model.operation_names
    }
    patching.patch(urls, "url_paths", value=routes)
    patching.patch(DBCluster, "enable_http_endpoint", lambda original: property(original.fget, http_endpoint_setter))
    patching.patch(RDSResponse, "enable_http_endpoint", value=enable_http_endpoint_action, add=True)
    patching.patch(RDSResponse, "disable_http_endpoint", value=disable_http_endpoint_action, add=True)
