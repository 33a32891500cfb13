"""Master user passwords that RDS manages in Secrets Manager (ManageMasterUserPassword) for Aurora DB clusters: the
secret RDS makes and rotates, the refusals of RDS and of Secrets Manager, and the database, the RDS Data API and
RDS Proxy following each new password (emulator/ext/rds_managed_password.py, emulator/ext/secretsmanager.py)."""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import socket
import string
import time

import boto3
import moto
import psycopg2
import pytest
from botocore.exceptions import ClientError

from emulator import ext
from emulator.dataplane import postgres, proxy
from emulator.dataplane.ca import authority
from emulator.ext import rds_managed_password as managed
from emulator.ext import secretsmanager
from tests.emulator.test_dataplane_postgres import (
    DATABASE,
    MASTER,
    PASSWORD,
    connect,
    create_cluster,
    create_instance,
    query,
    running,
)
from tests.emulator.test_dataplane_proxy import PROXY_TRUST, proxy_subnets

SECRET_NAME = re.compile(r"^rds!cluster-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ALLOWED = set(string.printable[:94]) - set('/"@')  # printable ASCII but space, without / " @
WRONG_PASSWORD = "password authentication failed"
DEADLINE = 180  # seconds: generous, only a broken emulator reaches it


def managed_cluster(rds, name: str = "aurora", **kwargs) -> dict:
    return rds.create_db_cluster(
        DBClusterIdentifier=name,
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername=MASTER,
        ManageMasterUserPassword=True,
        **kwargs,
    )["DBCluster"]


def describe(rds, name: str = "aurora") -> dict:
    return rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]


def value(sm, arn: str, stage: str = "AWSCURRENT") -> dict:
    return json.loads(sm.get_secret_value(SecretId=arn, VersionStage=stage)["SecretString"])


def refusal(excinfo) -> tuple[int, str, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


@pytest.fixture
def ca_file(aws, tmp_path):
    path = tmp_path / "emulator-ca.pem"
    path.write_text(aws.control.ca()["pem"])
    return str(path)


def logs_in(server: dict, ca_file: str, password: str) -> bool:
    """Whether the master user logs in to the server with ``password`` (False: PostgreSQL refused the password)."""
    try:
        conn = connect(server, ca_file, password=password)
    except psycopg2.OperationalError as exc:
        assert WRONG_PASSWORD in str(exc)
        return False
    with contextlib.closing(conn):
        assert query(conn, "SELECT current_user") == (MASTER,)
    return True


# -- the secret --------------------------------------------------------------------------------------------------


def test_the_secret_holds_the_master_user_and_a_new_28_character_password(aws):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    aws.control.configure(hold=["db_cluster"])  # the cluster stays "creating"
    created = managed_cluster(rds)
    arn = created["MasterUserSecret"]["SecretArn"]
    assert created["MasterUserSecret"]["SecretStatus"] == "creating"
    assert created["MasterUserSecret"]["KmsKeyId"].startswith(f"arn:aws:kms:{aws.region}:")
    assert describe(rds)["MasterUserSecret"]["SecretStatus"] == "creating"  # while the cluster is being created
    aws.control.configure(hold=[])
    assert describe(rds)["MasterUserSecret"] == created["MasterUserSecret"] | {"SecretStatus": "active"}

    credentials = value(sm, arn)
    assert list(credentials) == ["username", "password"]
    assert credentials["username"] == MASTER
    assert len(credentials["password"]) == managed.PASSWORD_LENGTH == 28
    assert set(credentials["password"]) <= ALLOWED
    managed_cluster(rds, "other")
    assert value(sm, describe(rds, "other")["MasterUserSecret"]["SecretArn"])["password"] != credentials["password"]

    secret = sm.describe_secret(SecretId=arn)
    assert SECRET_NAME.match(secret["Name"])
    assert secret["OwningService"] == "rds"
    assert {tag["Key"]: tag["Value"] for tag in secret["Tags"]} == {
        "aws:rds:primaryDBClusterArn": created["DBClusterArn"],
        "aws:secretsmanager:owningService": "rds",
    }
    assert (secret["RotationEnabled"], secret["RotationRules"]) == (True, {"AutomaticallyAfterDays": 7})
    assert "RotationLambdaARN" not in secret  # managed rotation: no Lambda function
    assert secret["NextRotationDate"] - secret["CreatedDate"] == datetime.timedelta(days=7)


def test_delete_db_cluster_deletes_the_secret(aws):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    arn = managed_cluster(rds)["MasterUserSecret"]["SecretArn"]
    rds.delete_db_cluster(DBClusterIdentifier="aurora", SkipFinalSnapshot=True)
    with pytest.raises(ClientError) as gone:
        sm.describe_secret(SecretId=arn)
    assert refusal(gone)[1] == "ResourceNotFoundException"


# -- refusals ------------------------------------------------------------------------------------------------------


def test_rds_refuses_what_aws_refuses_and_changes_nothing(aws):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    with pytest.raises(ClientError) as both:
        managed_cluster(rds, "both", MasterUserPassword=PASSWORD)
    assert refusal(both) == (400, "InvalidParameterCombination", managed.BOTH)
    assert rds.describe_db_clusters()["DBClusters"] == []

    arn = managed_cluster(rds)["MasterUserSecret"]["SecretArn"]
    create_cluster(rds, "own")
    before = value(sm, arn)
    refused = [
        ("aurora", {"ManageMasterUserPassword": True, "MasterUserPassword": PASSWORD}, managed.BOTH),
        ("aurora", {"ManageMasterUserPassword": False}, managed.MUST_PROVIDE),
        ("aurora", {"MasterUserPassword": PASSWORD}, managed.WHILE_MANAGED),
        ("aurora", {"RotateMasterUserPassword": True}, managed.APPLY_IMMEDIATELY),
        ("own", {"ManageMasterUserPassword": False, "MasterUserPassword": PASSWORD}, managed.NOT_MANAGED),
        ("own", {"ManageMasterUserPassword": False}, managed.MUST_PROVIDE),
        ("own", {"RotateMasterUserPassword": True, "ApplyImmediately": True}, managed.ROTATE_NOT_MANAGED),
    ]
    for name, parameters, message in refused:
        with pytest.raises(ClientError) as excinfo:
            rds.modify_db_cluster(DBClusterIdentifier=name, **parameters)
        assert refusal(excinfo) == (400, "InvalidParameterCombination", message), (name, parameters)
    assert managed.MUST_PROVIDE == "MasterUserPassword must be provided when ManageMasterUserPassword is set to false."
    assert managed.NOT_MANAGED == (
        "You cannot set ManageMasterUserPassword to false because the master user password is not currently managed "
        "by RDS."
    )
    # moto's own check of the password, before anything changes (moto made it after deleting the secret).
    with pytest.raises(ClientError) as short:
        rds.modify_db_cluster(DBClusterIdentifier="aurora", ManageMasterUserPassword=False, MasterUserPassword="short")
    assert refusal(short)[:2] == (400, "InvalidParameterValue")
    # Both clusters are still there (moto lost a cluster whose rotation it refused), the secret as it was.
    assert {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]} == {"aurora", "own"}
    assert describe(rds)["MasterUserSecret"]["SecretArn"] == arn
    assert "MasterUserSecret" not in describe(rds, "own")
    assert value(sm, arn) == before
    # Turning management on again changes nothing.
    rds.modify_db_cluster(DBClusterIdentifier="aurora", ManageMasterUserPassword=True, ApplyImmediately=True)
    assert describe(rds)["MasterUserSecret"]["SecretArn"] == arn
    assert value(sm, arn) == before


def test_rds_refuses_to_change_the_master_password_of_a_cluster_not_yet_available(aws):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    aws.control.configure(hold=["db_cluster"])  # both clusters stay "creating"
    arn = managed_cluster(rds)["MasterUserSecret"]["SecretArn"]
    create_cluster(rds, "own")
    before = value(sm, arn)
    refused = [
        ("own", {"ManageMasterUserPassword": True, "ApplyImmediately": True}),
        ("aurora", {"RotateMasterUserPassword": True, "ApplyImmediately": True}),
        ("aurora", {"ManageMasterUserPassword": False, "MasterUserPassword": PASSWORD, "ApplyImmediately": True}),
    ]
    for name, parameters in refused:
        with pytest.raises(ClientError) as excinfo:
            rds.modify_db_cluster(DBClusterIdentifier=name, **parameters)
        message = managed.NOT_AVAILABLE.format(status="creating")
        assert refusal(excinfo) == (400, "InvalidDBClusterStateFault", message), (name, parameters)
    assert managed.NOT_AVAILABLE.format(status="creating") == (
        "DB cluster is not available for modification with status creating"
    )
    assert "MasterUserSecret" not in describe(rds, "own")
    assert value(sm, arn) == before
    # Turning on a management already on changes nothing, and is not refused.
    rds.modify_db_cluster(DBClusterIdentifier="aurora", ManageMasterUserPassword=True, ApplyImmediately=True)
    aws.control.configure(hold=[])
    rds.modify_db_cluster(DBClusterIdentifier="own", ManageMasterUserPassword=True, ApplyImmediately=True)
    assert describe(rds, "own")["MasterUserSecret"]["SecretArn"]


def test_secrets_manager_refuses_to_change_the_managed_secret(aws):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    arn = managed_cluster(rds)["MasterUserSecret"]["SecretArn"]
    before = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    taken = json.dumps({"username": MASTER, "password": "chosen-by-the-user"})
    for call in (
        lambda: sm.put_secret_value(SecretId=arn, SecretString=taken),
        lambda: sm.update_secret(SecretId=arn, SecretString=taken),
        lambda: sm.delete_secret(SecretId=arn),
        lambda: sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True),
        lambda: sm.rotate_secret(SecretId=arn, RotationLambdaARN=f"arn:aws:lambda:{aws.region}:1:function:f"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert refusal(excinfo) == (400, "InvalidRequestException", secretsmanager.MANAGED_MESSAGE)
    assert secretsmanager.MANAGED_MESSAGE == (
        "The secret is managed by another service, and you must use that service to update it."
    )
    assert sm.describe_secret(SecretId=arn)["VersionIdsToStages"] == before
    # A secret of the user's own is the user's to change.
    mine = sm.create_secret(Name="mine", SecretString=taken)["ARN"]
    sm.put_secret_value(SecretId=mine, SecretString=json.dumps({"username": MASTER, "password": "another"}))
    sm.delete_secret(SecretId=mine, ForceDeleteWithoutRecovery=True)


def test_rotate_secret_changes_the_schedule_of_managed_rotation(aws):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    arn = managed_cluster(rds)["MasterUserSecret"]["SecretArn"]
    before = value(sm, arn)

    sm.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    secret = sm.describe_secret(SecretId=arn)
    assert (secret["RotationEnabled"], secret["RotationRules"]) == (True, {"AutomaticallyAfterDays": 30})
    assert secret["NextRotationDate"] - secret["CreatedDate"] == datetime.timedelta(days=30)
    sm.rotate_secret(
        SecretId=arn, RotationRules={"ScheduleExpression": "rate(12 hours)", "Duration": "2h"}, RotateImmediately=False
    )
    secret = sm.describe_secret(SecretId=arn)
    assert secret["RotationRules"] == {"ScheduleExpression": "rate(12 hours)", "Duration": "2h"}
    assert secret["NextRotationDate"] - secret["CreatedDate"] == datetime.timedelta(hours=12)
    sm.rotate_secret(SecretId=arn, RotationRules={"ScheduleExpression": "cron(0 4 ? * SUN *)"}, RotateImmediately=False)
    assert sm.describe_secret(SecretId=arn)["RotationRules"] == {"ScheduleExpression": "cron(0 4 ? * SUN *)"}
    assert value(sm, arn) == before  # RotateImmediately false: no new password
    assert len(sm.list_secret_version_ids(SecretId=arn)["Versions"]) == 1

    for rules in (
        {"AutomaticallyAfterDays": 7, "ScheduleExpression": "rate(7 days)"},
        {"AutomaticallyAfterDays": 1001},
        {"ScheduleExpression": "rate(2 hours)"},
        {"ScheduleExpression": "every week"},
    ):
        with pytest.raises(ClientError) as excinfo:
            sm.rotate_secret(SecretId=arn, RotationRules=rules, RotateImmediately=False)
        assert refusal(excinfo)[:2] == (400, "InvalidParameterException"), rules
    assert sm.describe_secret(SecretId=arn)["RotationRules"] == {"ScheduleExpression": "cron(0 4 ? * SUN *)"}


# -- the database --------------------------------------------------------------------------------------------------


def test_the_writer_takes_each_new_password_and_drops_the_old(aws, ca_file):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    arn = managed_cluster(rds, DatabaseName=DATABASE)["MasterUserSecret"]["SecretArn"]
    create_instance(rds, "aurora-1")
    writer = running(aws, "aurora-1")["aurora-1"]
    first = value(sm, arn)["password"]
    assert logs_in(writer, ca_file, first)

    # ModifyDBCluster RotateMasterUserPassword: a new version AWSCURRENT, the former AWSPREVIOUS.
    rotated = rds.modify_db_cluster(DBClusterIdentifier="aurora", RotateMasterUserPassword=True, ApplyImmediately=True)
    assert rotated["DBCluster"]["MasterUserSecret"]["SecretStatus"] == "rotating"
    assert describe(rds)["MasterUserSecret"]["SecretStatus"] == "active"
    second = value(sm, arn)
    assert second["username"] == MASTER and len(second["password"]) == 28 and second["password"] != first
    assert value(sm, arn, "AWSPREVIOUS")["password"] == first
    assert sorted(stages for stages in sm.describe_secret(SecretId=arn)["VersionIdsToStages"].values()) == [
        ["AWSCURRENT"],
        ["AWSPREVIOUS"],
    ]
    assert sm.describe_secret(SecretId=arn)["LastRotatedDate"] is not None
    assert not logs_in(writer, ca_file, first)
    assert logs_in(writer, ca_file, second["password"])

    # Secrets Manager's RotateSecret (RotateImmediately defaults to true): the same.
    answer = sm.rotate_secret(SecretId=arn)
    third = value(sm, arn)["password"]
    assert third != second["password"]
    assert answer["VersionId"] == sm.get_secret_value(SecretId=arn)["VersionId"]
    assert value(sm, arn, "AWSPREVIOUS")["password"] == second["password"]
    assert not logs_in(writer, ca_file, second["password"])
    assert logs_in(writer, ca_file, third)

    # RotateImmediately false: the schedule changes, the password does not.
    sm.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 1}, RotateImmediately=False)
    assert value(sm, arn)["password"] == third
    assert logs_in(writer, ca_file, third)


def test_turning_management_on_and_off_sets_the_password_on_the_database(aws, ca_file):
    rds, sm = aws.client("rds"), aws.client("secretsmanager")
    create_cluster(rds, DatabaseName=DATABASE)
    create_instance(rds, "aurora-1")
    writer = running(aws, "aurora-1")["aurora-1"]
    assert logs_in(writer, ca_file, PASSWORD)

    # On: RDS makes the secret with a new password and sets it on the database.
    answer = rds.modify_db_cluster(DBClusterIdentifier="aurora", ManageMasterUserPassword=True, ApplyImmediately=True)
    secret = answer["DBCluster"]["MasterUserSecret"]
    assert secret["SecretStatus"] == "creating"
    assert describe(rds)["MasterUserSecret"] == secret | {"SecretStatus": "active"}
    credentials = value(sm, secret["SecretArn"])
    assert credentials["username"] == MASTER and len(credentials["password"]) == 28
    assert not logs_in(writer, ca_file, PASSWORD)
    assert logs_in(writer, ca_file, credentials["password"])

    # Off, with MasterUserPassword: RDS deletes the secret and the database takes that password.
    rds.modify_db_cluster(
        DBClusterIdentifier="aurora",
        ManageMasterUserPassword=False,
        MasterUserPassword="the-new-own-password",
        ApplyImmediately=True,
    )
    assert "MasterUserSecret" not in describe(rds)
    with pytest.raises(ClientError) as gone:
        sm.get_secret_value(SecretId=secret["SecretArn"])
    assert refusal(gone)[1] == "ResourceNotFoundException"
    assert not logs_in(writer, ca_file, credentials["password"])
    assert logs_in(writer, ca_file, "the-new-own-password")


def test_the_data_api_reads_the_managed_secret_at_each_call(aws):
    rds, sm, data = aws.client("rds"), aws.client("secretsmanager"), aws.client("rds-data")
    cluster = managed_cluster(rds, DatabaseName=DATABASE, EnableHttpEndpoint=True)
    arn = cluster["MasterUserSecret"]["SecretArn"]
    create_instance(rds, "aurora-1")
    running(aws, "aurora-1")

    def who(secret_arn: str) -> str:
        answer = data.execute_statement(resourceArn=cluster["DBClusterArn"], secretArn=secret_arn, sql="SELECT user")
        return answer["records"][0][0]["stringValue"]

    assert who(arn) == MASTER
    # A secret of the user's own with the password before the rotation.
    old = sm.create_secret(Name="old-password", SecretString=json.dumps(value(sm, arn)))["ARN"]
    assert who(old) == MASTER
    for rotate in (
        lambda: rds.modify_db_cluster(
            DBClusterIdentifier="aurora", RotateMasterUserPassword=True, ApplyImmediately=True
        ),
        lambda: sm.rotate_secret(SecretId=arn),
    ):
        rotate()
        assert who(arn) == MASTER
        with pytest.raises(ClientError) as refused:
            who(old)
        assert refusal(refused)[1] == "DatabaseErrorException"
        assert WRONG_PASSWORD in refusal(refused)[2]
        sm.put_secret_value(SecretId=old, SecretString=json.dumps(value(sm, arn)))  # the user's copy follows
        assert who(old) == MASTER


# -- RDS Proxy, in this process: moto with the emulator's additions and the data plane's servers -----------------

REGION = "eu-west-1"


@pytest.fixture
def in_process():
    """moto with the emulator's additions in this process, and the data plane's PostgreSQL servers for its DB
    instances (``postgres.start``), stopped at the end."""
    ext.install()
    with moto.mock_aws():
        postgres.start()
        try:
            yield boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        finally:
            postgres.stop()


def test_the_proxy_logs_in_with_the_rotated_password_at_its_next_connection(in_process):
    session = in_process
    account_id = session.client("sts").get_caller_identity()["Account"]
    ec2, rds, sm, iam = (session.client(name) for name in ("ec2", "rds", "secretsmanager", "iam"))
    subnets = proxy_subnets(ec2)
    arn = managed_cluster(rds, DatabaseName=DATABASE)["MasterUserSecret"]["SecretArn"]
    create_instance(rds, "aurora-1")
    role = iam.create_role(RoleName="proxy-role", AssumeRolePolicyDocument=json.dumps(PROXY_TRUST))["Role"]["Arn"]
    read = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}
    iam.put_role_policy(
        RoleName="proxy-role",
        PolicyName="read-secret",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read]}),
    )
    dns = rds.create_db_proxy(
        DBProxyName="pw-proxy",
        EngineFamily="POSTGRESQL",
        RoleArn=role,
        VpcSubnetIds=subnets,
        Auth=[{"AuthScheme": "SECRETS", "SecretArn": arn, "IAMAuth": "DISABLED"}],
    )["DBProxy"]["Endpoint"]
    rds.register_db_proxy_targets(DBProxyName="pw-proxy", DBClusterIdentifiers=["aurora"])
    deadline = time.monotonic() + DEADLINE
    while not any(s["instance"] == "aurora-1" and s["status"] == "running" for s in postgres.databases()):
        assert time.monotonic() < deadline, f"the writer's server never ran: {postgres.databases()}"
        time.sleep(0.1)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    listener = proxy.serve(sock, proxy.EndpointTarget(account_id, REGION, "pw-proxy", None))
    host, port = listener.address

    def through_proxy(password: str):
        return psycopg2.connect(
            host=dns, hostaddr=host, port=port, user=MASTER, password=password, dbname=DATABASE,
            sslmode="verify-full", sslrootcert=str(authority().ca_file), connect_timeout=10, gssencmode="disable",
        )  # fmt: skip

    try:
        first = value(sm, arn)["password"]
        held = through_proxy(first)  # a session opened before the rotation
        with contextlib.closing(held):
            assert query(held, "SELECT current_user") == (MASTER,)
            sm.rotate_secret(SecretId=arn)
            second = value(sm, arn)["password"]
            # The next connection: the proxy reads the secret again and logs in to the database with its password,
            # which the database now has (the former one no longer logs in, through the proxy or directly).
            with contextlib.closing(through_proxy(second)) as conn:
                assert query(conn, "SELECT current_user") == (MASTER,)
            with pytest.raises(psycopg2.OperationalError) as refused:
                through_proxy(first)  # RDS Proxy's own refusal of a password that is not the secret's
            assert proxy.WRONG_PASSWORD.format(user=MASTER) in str(refused.value)
            backend = postgres.backend_for(account_id, REGION, "aurora", "writer")
            with pytest.raises(psycopg2.OperationalError, match=WRONG_PASSWORD):
                psycopg2.connect(
                    host=backend.host, port=backend.port, user=MASTER, password=first, dbname=DATABASE,
                    sslmode="verify-full", sslrootcert=str(postgres.server_ca_file()), connect_timeout=10,
                )  # fmt: skip
            # ModifyDBCluster's rotation too.
            rds.modify_db_cluster(DBClusterIdentifier="aurora", RotateMasterUserPassword=True, ApplyImmediately=True)
            with contextlib.closing(through_proxy(value(sm, arn)["password"])) as conn:
                assert query(conn, "SELECT current_user") == (MASTER,)
            assert query(held, "SELECT 1") == (1,)  # sessions already open are not ended by a new password
    finally:
        listener.close()
