"""The RDS Data API answered by the cluster's writer (a real PostgreSQL server), and the HTTP endpoint that enables
it: EnableHttpEndpoint / DisableHttpEndpoint, CreateDBCluster's EnableHttpEndpoint, ModifyDBCluster's ignored for
provisioned clusters."""

from __future__ import annotations

import base64
import json
import types

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.ext import rds_data
from tests.conftest import REGION
from tests.emulator.test_dataplane_postgres import DATABASE, MASTER, PASSWORD, create_cluster, create_instance, running

ENDPOINT_NOT_ENABLED = "HttpEndpointNotEnabledException"


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def message(excinfo) -> str:
    return excinfo.value.response["Error"]["Message"]


def secret(emulator, name: str, username: str, password: str) -> str:
    sm = emulator.client("secretsmanager")
    return sm.create_secret(Name=name, SecretString=json.dumps({"username": username, "password": password}))["ARN"]


def http_endpoint(rds, name: str) -> bool:
    return rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["HttpEndpointEnabled"]


def test_http_endpoint_enabled_by_its_operations_or_at_creation(aws):
    rds, data = aws.client("rds"), aws.client("rds-data")
    arn = create_cluster(rds)["DBClusterArn"]
    master = secret(aws, "master", MASTER, PASSWORD)
    assert http_endpoint(rds, "aurora") is False
    with pytest.raises(ClientError) as refused:
        data.execute_statement(resourceArn=arn, secretArn=master, sql="SELECT 1")
    assert code(refused) == ENDPOINT_NOT_ENABLED
    assert message(refused).startswith("HttpEndpoint is not enabled for cluster aurora.")

    # ModifyDBCluster's EnableHttpEndpoint is for Aurora Serverless v1 only: ignored here, either way.
    rds.modify_db_cluster(DBClusterIdentifier="aurora", EnableHttpEndpoint=True, ApplyImmediately=True)
    assert http_endpoint(rds, "aurora") is False
    enabled = rds.enable_http_endpoint(ResourceArn=arn)
    assert (enabled["ResourceArn"], enabled["HttpEndpointEnabled"]) == (arn, True)
    assert http_endpoint(rds, "aurora") is True
    rds.modify_db_cluster(DBClusterIdentifier="aurora", EnableHttpEndpoint=False, ApplyImmediately=True)
    assert http_endpoint(rds, "aurora") is True
    assert rds.disable_http_endpoint(ResourceArn=arn)["HttpEndpointEnabled"] is False
    assert http_endpoint(rds, "aurora") is False

    # CreateDBCluster's EnableHttpEndpoint applies to provisioned clusters.
    create_cluster(rds, "created-enabled", EnableHttpEndpoint=True)
    assert http_endpoint(rds, "created-enabled") is True

    with pytest.raises(ClientError) as missing:
        rds.enable_http_endpoint(ResourceArn=arn.replace(":cluster:aurora", ":cluster:nothing"))
    assert code(missing) == "ResourceNotFoundFault"


@pytest.mark.parametrize(
    ("version", "supported"),
    [("13.10", False), ("13.11", True), ("14.6", False), ("14.8", True), ("15.2", False), ("15.3", True),
     ("16.0", False), ("16.1", True), ("17.3", False), ("17.4", True), ("16", True), ("12.22", False)],
)  # fmt: skip
def test_engine_versions_without_the_data_api(version, supported):
    """Versions the Data API supports on Aurora PostgreSQL provisioned and Serverless v2 clusters. The emulator
    offers none below them (DescribeDBEngineVersions), so this is checked on a cluster object."""
    cluster = types.SimpleNamespace(
        engine="aurora-postgresql", engine_mode="provisioned", engine_version=version, status="available",
        db_cluster_arn="arn:aws:rds:eu-west-1:111111111111:cluster:old", db_cluster_identifier="old",
        _enable_http_endpoint=False,
    )  # fmt: skip
    backend = types.SimpleNamespace(clusters={"old": cluster})
    assert rds_data.supported_version(version) is supported
    if supported:
        assert rds_data.set_http_endpoint(backend, cluster.db_cluster_arn, True) is cluster
        assert cluster._enable_http_endpoint is True
    else:
        with pytest.raises(rds_data.InvalidResourceStateFault):
            rds_data.set_http_endpoint(backend, cluster.db_cluster_arn, True)
        assert cluster._enable_http_endpoint is False


@pytest.fixture(scope="module")
def cluster(emulator):
    """A cluster with its HTTP endpoint enabled and a running writer, shared by the tests below (which leave the
    emulator's state as they find it, but for their own tables, roles and secrets)."""
    emulator.control.reset()
    emulator.control.configure(delay_scale=0, fault_rate=0, hold=[], data_plane=True, data_api_clock_offset=0)
    rds = emulator.client("rds")
    arn = create_cluster(rds, DatabaseName=DATABASE, EnableHttpEndpoint=True)["DBClusterArn"]
    create_instance(rds, "aurora-1")
    running(emulator, "aurora-1")
    return {"arn": arn, "secret": secret(emulator, "master", MASTER, PASSWORD)}


def execute(emulator, cluster, sql: str, **kwargs) -> dict:
    data = emulator.client("rds-data")
    kwargs.setdefault("secretArn", cluster["secret"])
    response = data.execute_statement(resourceArn=cluster["arn"], sql=sql, **kwargs)
    response.pop("ResponseMetadata")
    return response


def test_statements_parameters_types_metadata_and_json(emulator, cluster):
    created = execute(
        emulator,
        cluster,
        "CREATE TABLE items (id serial PRIMARY KEY, name varchar(40) NOT NULL, price numeric(8,2), ok boolean, "
        "ratio float8, data bytea, born date, seen timestamp, tags int[], doc jsonb, note text)",
    )
    assert created == {"numberOfRecordsUpdated": 0, "generatedFields": []}

    parameters = [
        {"name": "name", "value": {"stringValue": "first"}},
        {"name": "price", "value": {"stringValue": "12.50"}, "typeHint": "DECIMAL"},
        {"name": "ok", "value": {"booleanValue": True}},
        {"name": "ratio", "value": {"doubleValue": 0.25}},
        {"name": "data", "value": {"blobValue": b"\x00\x01binary"}},
        {"name": "born", "value": {"stringValue": "2024-02-29"}, "typeHint": "DATE"},
        {"name": "seen", "value": {"stringValue": "2024-03-01 12:30:00"}, "typeHint": "TIMESTAMP"},
        {"name": "doc", "value": {"stringValue": '{"a": 1}'}, "typeHint": "JSON"},
        {"name": "note", "value": {"isNull": True}},
    ]
    inserted = execute(
        emulator,
        cluster,
        "INSERT INTO items (name, price, ok, ratio, data, born, seen, tags, doc, note) "
        "VALUES (:name, :price, :ok, :ratio, :data, :born, :seen, ARRAY[1, 2, NULL], :doc, :note) RETURNING id",
        parameters=parameters,
    )
    # generatedFields isn't supported by Aurora PostgreSQL: RETURNING gives the generated values.
    assert inserted == {"records": [[{"longValue": 1}]], "numberOfRecordsUpdated": 1, "generatedFields": []}

    batch = emulator.client("rds-data").batch_execute_statement(
        resourceArn=cluster["arn"],
        secretArn=cluster["secret"],
        sql="INSERT INTO items (name, price) VALUES (:name, :price)",
        parameterSets=[
            [{"name": "name", "value": {"stringValue": f"batch-{i}"}}, {"name": "price", "value": {"longValue": i}}]
            for i in (2, 3)
        ],
    )
    assert batch["updateResults"] == [{"generatedFields": []}, {"generatedFields": []}]

    selected = execute(
        emulator,
        cluster,
        "SELECT id, name, price, ok, ratio, data, born, seen, tags, doc, note, 'a:b'::text AS colon "
        "FROM items WHERE id = :id",
        parameters=[{"name": "id", "value": {"longValue": 1}}],
        includeResultMetadata=True,
    )
    assert selected["numberOfRecordsUpdated"] == 0
    assert selected["records"] == [
        [
            {"longValue": 1},
            {"stringValue": "first"},
            {"stringValue": "12.50"},
            {"booleanValue": True},
            {"doubleValue": 0.25},
            {"blobValue": b"\x00\x01binary"},
            {"stringValue": "2024-02-29"},
            {"stringValue": "2024-03-01 12:30:00"},
            {"arrayValue": {"longValues": [1, 2, None]}},
            {"stringValue": '{"a": 1}'},
            {"isNull": True},
            {"stringValue": "a:b"},
        ]
    ]
    metadata = {column["name"]: column for column in selected["columnMetadata"]}
    assert [column["name"] for column in selected["columnMetadata"]][:3] == ["id", "name", "price"]
    assert metadata["id"]["typeName"] == "serial"
    assert (metadata["id"]["isAutoIncrement"], metadata["id"]["nullable"], metadata["id"]["type"]) == (True, 0, 4)
    assert (metadata["name"]["typeName"], metadata["name"]["precision"], metadata["name"]["tableName"]) == (
        "varchar",
        40,
        "items",
    )
    assert (metadata["price"]["typeName"], metadata["price"]["precision"], metadata["price"]["scale"]) == (
        "numeric",
        8,
        2,
    )
    assert (metadata["tags"]["type"], metadata["tags"]["arrayBaseColumnType"]) == (2003, 4)
    assert metadata["note"]["nullable"] == 1 and metadata["colon"]["nullable"] == 2

    # resultSetOptions, and the result set as one JSON string (records and columnMetadata then blank).
    options = execute(
        emulator,
        cluster,
        "SELECT price, id FROM items WHERE id = 1",
        resultSetOptions={"decimalReturnType": "DOUBLE_OR_LONG", "longReturnType": "STRING"},
    )
    assert options["records"] == [[{"doubleValue": 12.5}, {"stringValue": "1"}]]
    formatted = execute(
        emulator,
        cluster,
        "SELECT id, name, price, ok, data, tags, note FROM items ORDER BY id",
        formatRecordsAs="JSON",
        includeResultMetadata=True,
    )
    assert set(formatted) == {"formattedRecords", "numberOfRecordsUpdated", "generatedFields"}
    rows = json.loads(formatted["formattedRecords"])
    assert rows[0] == {
        "id": 1, "name": "first", "price": "12.50", "ok": True, "data": base64.b64encode(b"\x00\x01binary").decode(),
        "tags": [1, 2, None], "note": None,
    }  # fmt: skip
    assert [row["name"] for row in rows] == ["first", "batch-2", "batch-3"]

    updated = execute(emulator, cluster, "UPDATE items SET ok = false WHERE id > 1")
    assert updated == {"numberOfRecordsUpdated": 2, "generatedFields": []}


def test_transactions_commit_rollback_abort_and_expiry(emulator, cluster):
    data = emulator.client("rds-data")
    common = {"resourceArn": cluster["arn"], "secretArn": cluster["secret"]}
    execute(emulator, cluster, "CREATE TABLE ledger (v int)")

    def count() -> int:
        return execute(emulator, cluster, "SELECT count(*) FROM ledger")["records"][0][0]["longValue"]

    tx = data.begin_transaction(**common)["transactionId"]
    execute(emulator, cluster, "INSERT INTO ledger VALUES (1)", transactionId=tx)
    assert count() == 0  # not committed yet
    assert data.commit_transaction(**common, transactionId=tx)["transactionStatus"] == "Transaction Committed"
    assert count() == 1
    with pytest.raises(ClientError) as ended:
        data.commit_transaction(**common, transactionId=tx)
    assert code(ended) == "TransactionNotFoundException"
    assert (
        message(ended)
        == f"Transaction {tx} is not found. One previous call resulted in a termination of your transaction."
    )

    tx = data.begin_transaction(**common)["transactionId"]
    data.batch_execute_statement(
        **common,
        sql="INSERT INTO ledger VALUES (:v)",
        parameterSets=[[{"name": "v", "value": {"longValue": v}}] for v in (2, 3)],
        transactionId=tx,
    )
    assert data.rollback_transaction(**common, transactionId=tx)["transactionStatus"] == "Rollback Complete"
    assert count() == 1

    with pytest.raises(ClientError) as unknown:
        data.rollback_transaction(**common, transactionId="no-such-transaction")
    assert code(unknown) == "TransactionNotFoundException"

    # An error inside a transaction ends it (rolled back).
    tx = data.begin_transaction(**common)["transactionId"]
    execute(emulator, cluster, "INSERT INTO ledger VALUES (4)", transactionId=tx)
    with pytest.raises(ClientError):
        execute(emulator, cluster, "INSERT INTO ledger VALUES ('four')", transactionId=tx)
    with pytest.raises(ClientError) as aborted:
        data.commit_transaction(**common, transactionId=tx)
    assert message(aborted).endswith("Transaction has been aborted due to an error from a previous call.")
    assert count() == 1

    # A transaction that no call uses for three minutes times out and is rolled back; one used within three
    # minutes lives on.
    tx = data.begin_transaction(**common)["transactionId"]
    execute(emulator, cluster, "INSERT INTO ledger VALUES (5)", transactionId=tx)
    try:
        emulator.control.configure(data_api_clock_offset=170)
        execute(emulator, cluster, "SELECT 1", transactionId=tx)
        emulator.control.configure(data_api_clock_offset=170 + 181)
        with pytest.raises(ClientError) as expired:
            execute(emulator, cluster, "SELECT 1", transactionId=tx)
    finally:
        emulator.control.configure(data_api_clock_offset=0)
    assert code(expired) == "TransactionNotFoundException"
    assert message(expired).endswith("Transaction may be expired.")
    assert count() == 1


def test_sql_errors_and_logins_refused_by_postgresql(emulator, cluster):
    with pytest.raises(ClientError) as missing:
        execute(emulator, cluster, "SELECT * FROM missing_table")
    assert code(missing) == "DatabaseErrorException"
    assert message(missing) == 'ERROR: relation "missing_table" does not exist; SQLState: 42P01'

    wrong = secret(emulator, "wrong-password", MASTER, "not-the-password")
    with pytest.raises(ClientError) as refused:
        execute(emulator, cluster, "SELECT 1", secretArn=wrong)
    assert code(refused) == "DatabaseErrorException"
    assert message(refused) == f'FATAL: password authentication failed for user "{MASTER}"; SQLState: 28P01'

    # A user logs in with its password until it is granted rds_iam.
    execute(emulator, cluster, "CREATE ROLE app_user LOGIN PASSWORD 'app-user-password'")
    app = secret(emulator, "app-user", "app_user", "app-user-password")
    assert execute(emulator, cluster, "SELECT current_user", secretArn=app)["records"] == [
        [{"stringValue": "app_user"}]
    ]
    execute(emulator, cluster, "GRANT rds_iam TO app_user")
    with pytest.raises(ClientError) as iam_only:
        execute(emulator, cluster, "SELECT 1", secretArn=app)
    assert code(iam_only) == "DatabaseErrorException"
    assert "pg_hba.conf rejects connection" in message(iam_only) and 'user "app_user"' in message(iam_only)

    with pytest.raises(ClientError) as no_secret:
        execute(emulator, cluster, "SELECT 1", secretArn=app.replace("app-user", "no-such-secret"))
    assert code(no_secret) == "SecretsErrorException"


def test_callers_need_rds_data_and_secretsmanager_permissions(emulator, cluster):
    iam = emulator.client("iam")
    iam.create_user(UserName="reporter")
    key = iam.create_access_key(UserName="reporter")["AccessKey"]
    data = boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
    ).client("rds-data", endpoint_url=emulator.url)

    def allow(name: str, action: str, resource: str) -> None:
        statement = {"Effect": "Allow", "Action": action, "Resource": resource}
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        iam.put_user_policy(UserName="reporter", PolicyName=name, PolicyDocument=document)

    def call():
        return data.execute_statement(resourceArn=cluster["arn"], secretArn=cluster["secret"], sql="SELECT 1")

    allow("secret", "secretsmanager:GetSecretValue", cluster["secret"])
    with pytest.raises(ClientError) as denied:
        call()
    assert code(denied) == "AccessDeniedException"
    assert "rds-data:ExecuteStatement" in message(denied) and "user/reporter" in message(denied)
    iam.delete_user_policy(UserName="reporter", PolicyName="secret")
    allow("data", "rds-data:ExecuteStatement", cluster["arn"])
    with pytest.raises(ClientError) as no_secret:
        call()
    assert code(no_secret) == "AccessDeniedException"
    assert "secretsmanager:GetSecretValue" in message(no_secret)
    allow("secret", "secretsmanager:GetSecretValue", cluster["secret"])
    assert call()["records"] == [[{"longValue": 1}]]


def test_a_statement_that_writes_nothing_is_logged_as_a_read(emulator, cluster):
    """The request log tells reads from changes by operation name; an ExecuteStatement outside a transaction that
    wrote nothing is logged as not mutating, one that wrote, or a statement only runnable outside a transaction
    block, as mutating. Statements of a transaction are changes (the transaction decides)."""

    def logged(sql: str, **kwargs) -> bool:
        emulator.control.reset_requests()
        execute(emulator, cluster, sql, **kwargs)
        (entry,) = [e for e in emulator.control.requests() if e["action"] == "ExecuteStatement"]
        return entry["mutating"]

    assert logged("CREATE TABLE logged_reads (n int)") is True
    assert logged("SELECT count(*) FROM logged_reads") is False
    assert (
        logged("SELECT n FROM logged_reads WHERE n = :n", parameters=[{"name": "n", "value": {"longValue": 1}}])
        is False
    )
    assert logged("INSERT INTO logged_reads VALUES (1)") is True
    assert logged("WITH gone AS (DELETE FROM logged_reads RETURNING n) SELECT count(*) FROM gone") is True
    assert logged("CREATE DATABASE logged_reads_db") is True  # runs outside a transaction block, as on AWS
    assert logged("DROP DATABASE logged_reads_db") is True
    assert logged("DROP TABLE logged_reads") is True
    assert [e for e in emulator.control.mutating_requests() if e["action"] == "ExecuteStatement"]
