"""Credentials, IAM database authentication tokens, identity policies and sts:AssumeRole
(emulator/dataplane/iam_auth.py, emulator/ext/sts.py).

The emulator runs in this process (``EmulatorServer`` on a loopback port), so that what boto3 creates through its
API is what ``iam_auth`` reads. Tokens are signed by botocore (``generate_db_auth_token``) with credentials the
emulator issued; an expired token is signed with botocore's clock set into the past.
"""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET
from unittest import mock

import boto3
import botocore.auth
import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator import accounts
from emulator.dataplane import iam_auth
from emulator.server import EmulatorServer
from emulator.settings import SETTINGS

REGION = "eu-west-1"
HOST = "app-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com"
PORT = 5432
USER = "lambda_user"
DB, APP_A, APP_B = "111111111111", "222222222222", "333333333333"
CONNECT_ROLE = f"arn:aws:iam::{DB}:role/connect-a"
FUNCTION_ROLE = f"arn:aws:iam::{APP_A}:role/connection-test"
PROXY_RESOURCE = f"arn:aws:rds-db:{REGION}:{DB}:dbuser:prx-0123456789abcdef0"


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource, **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(principal, **extra) -> str:
    return document({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra})


# The project's policies (roles/rds_proxy/templates/connect_*.json.j2, roles/iam_lambda/templates/*.json.j2).
CONNECT_TRUST = trust(
    {"AWS": f"arn:aws:iam::{APP_A}:root"}, Condition={"ArnEquals": {"aws:PrincipalArn": FUNCTION_ROLE}}
)
CONNECT_POLICY = document(allow("rds-db:connect", f"{PROXY_RESOURCE}/{USER}"))
FUNCTION_TRUST = trust({"Service": "lambda.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": APP_A}})
FUNCTION_POLICY = document(allow("sts:AssumeRole", CONNECT_ROLE))


@pytest.fixture(scope="module")
def server():
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def emulator(server):
    server.app.reset()
    SETTINGS.update(delay_scale=0, hold=[])
    yield server
    SETTINGS.update(hold=[])


def account(name: str) -> accounts.Account:
    return accounts.load().by_name(name)


def client(server, service: str, who: str | dict = "database"):
    if isinstance(who, str):
        a = account(who)
        keys = {"aws_access_key_id": a.access_key_id, "aws_secret_access_key": a.secret_access_key}
    else:
        keys = {
            "aws_access_key_id": who["AccessKeyId"],
            "aws_secret_access_key": who["SecretAccessKey"],
            "aws_session_token": who.get("SessionToken"),
        }
    return boto3.client(service, endpoint_url=server.url, region_name=REGION, **keys)


def create_role(server, who: str, name: str, trust_policy: str, policy: str | None = None) -> str:
    iam = client(server, "iam", who)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy)["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="permissions", PolicyDocument=policy)
    return arn


@pytest.fixture
def deployment(emulator):
    """The project's cross-account pair: application-a's function role and the database account's connect role."""
    create_role(emulator, "application-a", "connection-test", FUNCTION_TRUST, FUNCTION_POLICY)
    create_role(emulator, "database", "connect-a", CONNECT_TRUST, CONNECT_POLICY)
    return emulator


def function_credentials() -> dict:
    return iam_auth.assume_role_for_service(FUNCTION_ROLE, "lambda.amazonaws.com", "connection-test")


def connect_credentials(server) -> dict:
    sts = client(server, "sts", function_credentials())
    return sts.assume_role(RoleArn=CONNECT_ROLE, RoleSessionName="connection-test")["Credentials"]


def token(credentials: dict, host=HOST, port=PORT, user=USER, region=REGION) -> str:
    rds = boto3.client(
        "rds",
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
    )
    return rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)


def presign(credentials: Credentials, service="rds-db", region=REGION, host=HOST, port=PORT, user=USER) -> str:
    """A token signed as generate_db_auth_token signs it, for any signing service."""
    request = AWSRequest(method="GET", url=f"https://{host}:{port}/", data={"Action": "connect", "DBUser": user})
    SigV4QueryAuth(credentials, service, region, expires=900).add_auth(request)
    return request.url[len("https://") :]


def verify(value: str, **overrides):
    arguments = {"host": HOST, "port": PORT, "user": USER, "region": REGION, **overrides}
    return iam_auth.verify_token(value, **arguments)


def refused(value: str, **overrides) -> str:
    with pytest.raises(iam_auth.TokenRefused) as info:
        verify(value, **overrides)
    return info.value.reason


# -- tokens ----------------------------------------------------------------------------------------------------------
def test_a_token_signed_with_assumed_role_credentials_is_accepted(deployment):
    credentials = connect_credentials(deployment)
    principal = verify(token(credentials))
    assert principal == iam_auth.Principal(
        DB, f"arn:aws:sts::{DB}:assumed-role/connect-a/connection-test", CONNECT_ROLE
    )
    identity = client(deployment, "sts", credentials).get_caller_identity()
    assert identity["Arn"] == principal.arn


def test_a_token_signed_with_an_accounts_fixed_key_is_the_account_root(emulator):
    db = account("database")
    principal = verify(token({"AccessKeyId": db.access_key_id, "SecretAccessKey": db.secret_access_key}))
    assert principal == iam_auth.Principal(DB, f"arn:aws:iam::{DB}:root", None)
    assert principal.is_root


def test_a_token_for_port_443_signs_the_host_without_port(deployment):
    credentials = connect_credentials(deployment)
    assert verify(token(credentials, port=443), port=443).role_arn == CONNECT_ROLE


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"host": "other.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com"}, f"signed for the host '{HOST}'"),
        ({"port": 6432}, "signed for the port 5432, the client connected to port 6432"),
        ({"user": "postgres"}, "signed for the database user 'lambda_user', the login is 'postgres'"),
        ({"region": "us-east-1"}, "signed for the region 'eu-west-1', the endpoint is in 'us-east-1'"),
    ],
)
def test_a_token_for_another_endpoint_user_or_region_is_refused(deployment, overrides, reason):
    assert reason in refused(token(connect_credentials(deployment)), **overrides)


def test_a_tampered_signature_is_refused(deployment):
    value = token(connect_credentials(deployment))
    last = value[-1]
    tampered = value[:-1] + ("0" if last != "0" else "1")
    assert refused(tampered).startswith("the signature does not match")


def test_a_token_with_a_changed_user_is_refused_by_its_signature(deployment):
    value = token(connect_credentials(deployment))
    assert refused(value.replace(f"DBUser={USER}", "DBUser=postgres"), user="postgres").startswith(
        "the signature does not match"
    )


def test_an_expired_token_is_refused(deployment):
    credentials = connect_credentials(deployment)
    past = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=past):
        value = token(credentials)
    assert refused(value).startswith("the token expired at ")


def test_a_token_is_valid_for_fifteen_minutes(deployment):
    credentials = connect_credentials(deployment)
    value = token(credentials)
    signed = datetime.datetime.strptime(value.split("X-Amz-Date=")[1][:16], "%Y%m%dT%H%M%SZ")
    signed = signed.replace(tzinfo=datetime.UTC)
    assert verify(value, now=signed + datetime.timedelta(minutes=14, seconds=59))
    assert refused(value, now=signed + datetime.timedelta(minutes=15)).startswith("the token expired at ")
    assert "is in the future" in refused(value, now=signed - datetime.timedelta(minutes=6))


def test_a_token_signed_for_another_service_is_refused(deployment):
    c = connect_credentials(deployment)
    credentials = Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert verify(presign(credentials)).role_arn == CONNECT_ROLE  # the helper signs as botocore does
    assert refused(presign(credentials, service="rds")) == "the token is signed for the service 'rds', not 'rds-db'"


def test_a_token_of_an_unknown_key_is_refused(emulator):
    value = presign(Credentials("AKIAUNKNOWN000000000", "not-a-secret"))
    assert refused(value) == "the access key AKIAUNKNOWN000000000 is not known"


def test_a_token_without_the_session_token_is_refused(deployment):
    c = connect_credentials(deployment)
    value = presign(Credentials(c["AccessKeyId"], c["SecretAccessKey"]))
    assert refused(value) == f"the temporary access key {c['AccessKeyId']} came without its session token"


def test_a_token_with_another_sessions_token_is_refused(deployment):
    first, second = connect_credentials(deployment), connect_credentials(deployment)
    value = presign(Credentials(first["AccessKeyId"], first["SecretAccessKey"], second["SessionToken"]))
    assert "is not the one issued with the access key" in refused(value)


def test_a_token_of_expired_session_credentials_is_refused(deployment):
    credentials = connect_credentials(deployment)
    value = token(credentials)
    later = credentials["Expiration"] + datetime.timedelta(seconds=1)
    assert refused(value, now=later) == (
        f"the credentials of {credentials['AccessKeyId']} expired at {credentials['Expiration'].isoformat()}"
    )


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: "https://" + t, "the token starts with a URL scheme"),
        (lambda t: t.replace("Action=connect", "Action=Connect"), "the token's Action is 'Connect', not 'connect'"),
        (lambda t: t.replace("&X-Amz-Expires=900", ""), "the token lacks X-Amz-Expires"),
        (lambda t: "", "no token (empty password)"),
    ],
)
def test_malformed_tokens_are_refused(deployment, mangle, reason):
    assert refused(mangle(token(connect_credentials(deployment)))) == reason


# -- identity-based policies -----------------------------------------------------------------------------------------
def principal_of(role: str) -> iam_auth.Principal:
    return iam_auth.Principal(DB, f"arn:aws:sts::{DB}:assumed-role/{role}/s", f"arn:aws:iam::{DB}:role/{role}")


def test_the_connect_policy_allows_its_user_through_its_proxy_only(deployment):
    principal = verify(token(connect_credentials(deployment)))
    assert iam_auth.is_allowed(principal, "rds-db:connect", f"{PROXY_RESOURCE}/{USER}")
    assert iam_auth.is_allowed(principal, "RDS-DB:Connect", f"{PROXY_RESOURCE}/{USER}")  # actions: any case
    assert not iam_auth.is_allowed(principal, "rds-db:connect", f"{PROXY_RESOURCE}/postgres")
    assert not iam_auth.is_allowed(principal, "rds-db:connect", f"{PROXY_RESOURCE.upper()}/{USER}")  # resources: case
    other_proxy = f"arn:aws:rds-db:{REGION}:{DB}:dbuser:prx-0fffffffffffffff0/{USER}"
    assert not iam_auth.is_allowed(principal, "rds-db:connect", other_proxy)


def test_wildcard_user_and_explicit_deny(emulator):
    policy = document(
        allow("rds-db:connect", f"{PROXY_RESOURCE}/*"),
        deny("rds-db:*", f"{PROXY_RESOURCE}/postgres"),
        allow("rds-db:connect", f"arn:aws:rds-db:{REGION}:{DB}:dbuser:prx-0123456789abcdef?/app_??"),
    )
    create_role(emulator, "database", "r", trust({"AWS": DB}), policy)
    principal = principal_of("r")
    assert iam_auth.is_allowed(principal, "rds-db:connect", f"{PROXY_RESOURCE}/anyone")
    assert not iam_auth.is_allowed(principal, "rds-db:connect", f"{PROXY_RESOURCE}/postgres")
    assert iam_auth.is_allowed(
        principal, "rds-db:connect", f"arn:aws:rds-db:{REGION}:{DB}:dbuser:prx-0123456789abcdef1/app_01"
    )
    assert not iam_auth.is_allowed(
        principal, "rds-db:connect", f"arn:aws:rds-db:{REGION}:{DB}:dbuser:prx-0123456789abcdef1/app_001"
    )
    assert not iam_auth.is_allowed(principal, "rds:DescribeDBProxies", "*")


def test_not_action_and_not_resource(emulator):
    policy = document(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "rds-db:connect", "NotResource": f"{PROXY_RESOURCE}/*"},
    )
    create_role(emulator, "database", "r", trust({"AWS": DB}), policy)
    principal = principal_of("r")
    assert iam_auth.is_allowed(principal, "rds-db:connect", f"{PROXY_RESOURCE}/{USER}")
    assert not iam_auth.is_allowed(principal, "rds-db:connect", f"arn:aws:rds-db:{REGION}:{DB}:dbuser:prx-1/{USER}")
    assert not iam_auth.is_allowed(principal, "iam:CreateRole", "*")
    assert iam_auth.is_allowed(principal, "ec2:DescribeVpcs", "*")


def test_conditions_with_context_keys(emulator):
    resource = f"{PROXY_RESOURCE}/{USER}"
    conditions = {"StringEquals": {"aws:PrincipalAccount": DB}, "StringLikeIfExists": {"aws:SourceVpc": "vpc-0a*"}}
    policy = document(
        allow("rds-db:connect", resource, Condition=conditions),
        deny("rds-db:connect", resource, Condition={"Bool": {"aws:SecureTransport": "false"}}),
        deny("rds-db:connect", resource, Condition={"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{DB}:role/*"}}),
    )
    create_role(emulator, "database", "r", trust({"AWS": DB}), policy)
    principal = principal_of("r")
    # Absent keys: ...IfExists holds, Bool does not.
    assert iam_auth.is_allowed(principal, "rds-db:connect", resource)
    assert iam_auth.is_allowed(principal, "rds-db:connect", resource, {"aws:SecureTransport": "true"})
    assert not iam_auth.is_allowed(principal, "rds-db:connect", resource, {"aws:securetransport": "false"})
    assert iam_auth.is_allowed(principal, "rds-db:connect", resource, {"aws:SourceVpc": "vpc-0a1"})
    assert not iam_auth.is_allowed(principal, "rds-db:connect", resource, {"aws:SourceVpc": "vpc-0b1"})
    create_role(emulator, "application-a", "r", trust({"AWS": APP_A}), policy)
    other = iam_auth.Principal(APP_A, f"arn:aws:sts::{APP_A}:assumed-role/r/s", f"arn:aws:iam::{APP_A}:role/r")
    assert not iam_auth.is_allowed(other, "rds-db:connect", resource)  # aws:PrincipalAccount differs

    # A negated operator holds when its key is absent; several values of a negated operator: NOR.
    regions = {"StringNotEquals": {"aws:RequestedRegion": [REGION, "eu-central-1"]}}
    create_role(
        emulator,
        "database",
        "negated",
        trust({"AWS": DB}),
        document(allow("rds-db:connect", "*"), deny("rds-db:connect", "*", Condition=regions)),
    )
    negated = principal_of("negated")
    assert not iam_auth.is_allowed(negated, "rds-db:connect", resource)
    assert iam_auth.is_allowed(negated, "rds-db:connect", resource, {"aws:RequestedRegion": REGION})
    assert iam_auth.is_allowed(negated, "rds-db:connect", resource, {"aws:RequestedRegion": "eu-central-1"})
    assert not iam_auth.is_allowed(negated, "rds-db:connect", resource, {"aws:RequestedRegion": "us-east-1"})


def test_a_statement_with_an_unsupported_operator_does_not_allow_but_denies(emulator):
    resource = f"{PROXY_RESOURCE}/{USER}"
    create_role(
        emulator,
        "database",
        "allow-only",
        trust({"AWS": DB}),
        document(allow("rds-db:connect", resource, Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})),
    )
    create_role(
        emulator,
        "database",
        "deny-too",
        trust({"AWS": DB}),
        document(
            allow("rds-db:connect", resource),
            deny("rds-db:connect", resource, Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "x"}}),
        ),
    )
    assert not iam_auth.is_allowed(principal_of("allow-only"), "rds-db:connect", resource)
    assert not iam_auth.is_allowed(principal_of("deny-too"), "rds-db:connect", resource)


def test_attached_managed_policies_users_groups_and_policy_variables(emulator):
    iam = client(emulator, "iam", "database")
    arn = iam.create_policy(PolicyName="connect", PolicyDocument=CONNECT_POLICY)["Policy"]["Arn"]
    create_role(emulator, "database", "managed", trust({"AWS": DB}))
    iam.attach_role_policy(RoleName="managed", PolicyArn=arn)
    assert iam_auth.is_allowed(principal_of("managed"), "rds-db:connect", f"{PROXY_RESOURCE}/{USER}")

    iam.create_user(UserName="alice")
    iam.create_group(GroupName="dbusers")
    iam.add_user_to_group(GroupName="dbusers", UserName="alice")
    iam.put_group_policy(
        GroupName="dbusers",
        PolicyName="own-user",
        PolicyDocument=document(allow("rds-db:connect", f"{PROXY_RESOURCE}/${{aws:username}}")),
    )
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = iam_auth.principal_for(key["AccessKeyId"], None).principal
    assert alice == iam_auth.Principal(DB, f"arn:aws:iam::{DB}:user/alice", None)
    assert iam_auth.is_allowed(alice, "rds-db:connect", f"{PROXY_RESOURCE}/alice")
    assert not iam_auth.is_allowed(alice, "rds-db:connect", f"{PROXY_RESOURCE}/bob")


def test_the_account_root_may_do_anything_in_its_own_account_only(emulator):
    root = iam_auth.Principal(DB, f"arn:aws:iam::{DB}:root", None)
    assert iam_auth.is_allowed(root, "rds-db:connect", f"{PROXY_RESOURCE}/{USER}")
    assert not iam_auth.is_allowed(root, "rds-db:connect", f"arn:aws:rds-db:{REGION}:{APP_A}:dbuser:prx-1/{USER}")


def test_a_session_of_a_deleted_role_may_do_nothing(deployment):
    principal = verify(token(connect_credentials(deployment)))
    iam = client(deployment, "iam", "database")
    iam.delete_role_policy(RoleName="connect-a", PolicyName="permissions")
    iam.delete_role(RoleName="connect-a")
    assert not iam_auth.is_allowed(principal, "rds-db:connect", f"{PROXY_RESOURCE}/{USER}")


# -- service roles ---------------------------------------------------------------------------------------------------
def test_lambda_obtains_its_execution_roles_credentials(deployment):
    credentials = function_credentials()
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert credentials["Expiration"].tzinfo is not None
    identity = client(deployment, "sts", credentials).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{APP_A}:assumed-role/connection-test/connection-test"


def test_a_service_cannot_assume_a_role_that_does_not_trust_it(deployment):
    with pytest.raises(iam_auth.RoleRefused, match=r"does not allow sts:AssumeRole to ec2\.amazonaws\.com"):
        iam_auth.assume_role_for_service(FUNCTION_ROLE, "ec2.amazonaws.com", "s")
    with pytest.raises(iam_auth.RoleRefused, match="does not exist"):
        iam_auth.assume_role_for_service(f"arn:aws:iam::{APP_A}:role/nope", "lambda.amazonaws.com", "s")
    # The trust's aws:SourceAccount condition names application-a: a role of application-b with it is refused.
    create_role(deployment, "application-b", "connection-test", FUNCTION_TRUST)
    with pytest.raises(iam_auth.RoleRefused):
        iam_auth.assume_role_for_service(f"arn:aws:iam::{APP_B}:role/connection-test", "lambda.amazonaws.com", "s")


def test_a_service_role_must_have_propagated(emulator):
    SETTINGS.update(hold=["iam_role_propagation"])
    create_role(emulator, "application-a", "connection-test", FUNCTION_TRUST, FUNCTION_POLICY)
    with pytest.raises(iam_auth.RoleRefused, match="has not propagated yet"):
        function_credentials()
    SETTINGS.update(hold=[])
    assert function_credentials()["AccessKeyId"].startswith("ASIA")


# -- sts:AssumeRole ----------------------------------------------------------------------------------------------------
def assume(server, who, role_arn: str, **kwargs) -> dict:
    return client(server, "sts", who).assume_role(RoleArn=role_arn, RoleSessionName="session", **kwargs)


def access_denied(server, who, role_arn: str, **kwargs) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        assume(server, who, role_arn, **kwargs)
    error = info.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    return info.value


def test_the_function_role_assumes_the_connect_role_across_accounts(deployment):
    credentials = connect_credentials(deployment)
    assert client(deployment, "sts", credentials).get_caller_identity()["Account"] == DB


def test_a_missing_role_is_access_denied_in_stss_wire_format(deployment):
    missing = f"arn:aws:iam::{DB}:role/missing"
    error = access_denied(deployment, "application-a", missing)
    assert error.response["Error"]["Message"] == (
        f"User: arn:aws:iam::{APP_A}:user/deployer is not authorized to perform: sts:AssumeRole on resource: {missing}"
    )
    a = account("application-a")
    signed = AWSRequest(
        method="POST",
        url=deployment.url + "/",
        data={"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": missing, "RoleSessionName": "ss"},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    botocore.auth.SigV4Auth(Credentials(a.access_key_id, a.secret_access_key), "sts", REGION).add_auth(signed)
    raw = requests.post(signed.url, data=signed.body, headers=dict(signed.headers), timeout=10)
    assert raw.status_code == 403
    root = ET.fromstring(raw.text)
    ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
    assert root.tag == "{https://sts.amazonaws.com/doc/2011-06-15/}ErrorResponse"
    assert [child.tag.split("}")[1] for child in root] == ["Error", "RequestId"]
    assert root.find("s:Error/s:Type", ns).text == "Sender"
    assert root.find("s:Error/s:Code", ns).text == "AccessDenied"


def test_the_connect_roles_trust_admits_the_function_role_only(deployment):
    other = create_role(deployment, "application-a", "other", FUNCTION_TRUST, FUNCTION_POLICY)
    credentials = iam_auth.assume_role_for_service(other, "lambda.amazonaws.com", "s")
    error = access_denied(deployment, credentials, CONNECT_ROLE)
    assert "assumed-role/other/s is not authorized to perform: sts:AssumeRole" in str(error)
    # application-a's root is trusted by account, but aws:PrincipalArn is the root's, not the function role's.
    access_denied(deployment, "application-a", CONNECT_ROLE)
    # Another application account is not trusted at all.
    access_denied(deployment, "application-b", CONNECT_ROLE)


def test_cross_account_the_callers_identity_policy_must_allow_the_role(deployment):
    iam = client(deployment, "iam", "application-a")
    iam.put_role_policy(
        RoleName="connection-test",
        PolicyName="permissions",
        PolicyDocument=document(allow("sts:AssumeRole", f"arn:aws:iam::{DB}:role/another-role")),
    )
    access_denied(deployment, function_credentials(), CONNECT_ROLE)
    iam.put_role_policy(
        RoleName="connection-test",
        PolicyName="permissions",
        PolicyDocument=document(allow("sts:*", "*"), deny("sts:AssumeRole", CONNECT_ROLE)),
    )
    access_denied(deployment, function_credentials(), CONNECT_ROLE)
    iam.put_role_policy(RoleName="connection-test", PolicyName="permissions", PolicyDocument=FUNCTION_POLICY)
    assert connect_credentials(deployment)["AccessKeyId"].startswith("ASIA")


def test_external_id_condition(emulator):
    role = create_role(
        emulator,
        "database",
        "vendor",
        trust({"AWS": APP_B}, Condition={"StringEquals": {"sts:ExternalId": "unguessable-1234"}}),
    )
    access_denied(emulator, "application-b", role)
    access_denied(emulator, "application-b", role, ExternalId="guessed-12345")
    assert assume(emulator, "application-b", role, ExternalId="unguessable-1234")["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{DB}:assumed-role/vendor/session"
    )


def test_principal_account_and_source_account_conditions(emulator):
    by_account = create_role(
        emulator, "database", "by-account", trust("*", Condition={"StringEquals": {"aws:PrincipalAccount": APP_B}})
    )
    access_denied(emulator, "application-a", by_account)
    assert assume(emulator, "application-b", by_account)
    # aws:SourceAccount is in the context of a service acting for a resource, not of a principal's own call.
    by_source = create_role(
        emulator,
        "database",
        "by-source",
        trust({"AWS": APP_B}, Condition={"StringEquals": {"aws:SourceAccount": APP_B}}),
    )
    access_denied(emulator, "application-b", by_source)


def test_within_an_account_a_trust_policy_naming_the_user_suffices(emulator):
    iam = client(emulator, "iam", "database")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    alice = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    named = create_role(emulator, "database", "named", trust({"AWS": f"arn:aws:iam::{DB}:user/alice"}))
    by_account = create_role(emulator, "database", "by-account", trust({"AWS": f"arn:aws:iam::{DB}:root"}))
    assert assume(emulator, alice, named)  # no identity-based policy needed
    access_denied(emulator, alice, by_account)  # the account delegates to identity policies: none allows
    iam.put_user_policy(UserName="alice", PolicyName="p", PolicyDocument=document(allow("sts:AssumeRole", by_account)))
    assert assume(emulator, alice, by_account)
    iam.put_user_policy(UserName="alice", PolicyName="p", PolicyDocument=document(deny("sts:AssumeRole", "*")))
    access_denied(emulator, alice, named)  # an explicit deny still wins
    # Across accounts, naming the user is not enough: application-b's user needs an identity-based allow too.
    iam_b = client(emulator, "iam", "application-b")
    iam_b.create_user(UserName="bob")
    key_b = iam_b.create_access_key(UserName="bob")["AccessKey"]
    bob = {"AccessKeyId": key_b["AccessKeyId"], "SecretAccessKey": key_b["SecretAccessKey"]}
    cross = create_role(emulator, "database", "cross", trust({"AWS": f"arn:aws:iam::{APP_B}:user/bob"}))
    access_denied(emulator, bob, cross)
    iam_b.put_user_policy(UserName="bob", PolicyName="p", PolicyDocument=document(allow("sts:AssumeRole", cross)))
    assert assume(emulator, bob, cross)


def test_the_account_root_needs_the_trust_across_accounts(emulator):
    own = create_role(emulator, "database", "own", trust({"AWS": DB}))
    assert assume(emulator, "database", own)
    access_denied(emulator, "application-a", own)


def test_a_new_or_changed_role_is_not_assumable_until_it_has_propagated(emulator):
    SETTINGS.update(hold=["iam_role_propagation"])
    role = create_role(emulator, "database", "fresh", trust({"AWS": APP_A}))
    access_denied(emulator, "application-a", role)
    SETTINGS.update(hold=[])
    assert assume(emulator, "application-a", role)
    SETTINGS.update(hold=["iam_role_propagation"])
    client(emulator, "iam", "database").update_assume_role_policy(
        RoleName="fresh", PolicyDocument=trust({"AWS": APP_A})
    )
    access_denied(emulator, "application-a", role)


def test_credentials_are_checked(deployment):
    credentials = connect_credentials(deployment)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        assume(deployment, {**credentials, "SessionToken": "forged"}, CONNECT_ROLE)
    assert info.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    from moto.sts.models import sts_backends

    session = sts_backends[DB]["aws"].get_assumed_role_from_access_key(credentials["AccessKeyId"])
    session.expiration = session.expiration - datetime.timedelta(hours=2)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        assume(deployment, credentials, CONNECT_ROLE)
    assert info.value.response["Error"]["Code"] == "ExpiredToken"


def test_duration_limits(deployment):
    role = create_role(deployment, "database", "long", trust({"AWS": DB}))
    with pytest.raises(botocore.exceptions.ClientError, match="MaxSessionDuration"):
        assume(deployment, "database", role, DurationSeconds=7200)
    with pytest.raises(botocore.exceptions.ClientError, match="role chaining"):
        client(deployment, "sts", function_credentials()).assume_role(
            RoleArn=CONNECT_ROLE, RoleSessionName="s1", DurationSeconds=7200
        )
