"""Limits on sizes and names that the emulator enforces as AWS does."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def refused(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_iam_role_names_are_at_most_64_characters(aws):
    iam = aws.client("iam")
    assert iam.create_role(RoleName="r" * 64, AssumeRolePolicyDocument=TRUST)["Role"]["RoleName"] == "r" * 64
    code, message = refused(lambda: iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=TRUST))
    assert code == "ValidationError"
    assert "at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64" in message
    assert refused(lambda: iam.create_role(RoleName="no spaces", AssumeRolePolicyDocument=TRUST))[0] == (
        "ValidationError"
    )


@pytest.mark.parametrize("identifier", ["a" * 64, "a--b", "ab-", "1ab", "a_b"])
def test_cluster_identifiers_follow_rds_rules(aws, identifier):
    rds = aws.client("rds")
    code, message = refused(
        lambda: rds.create_db_cluster(
            DBClusterIdentifier=identifier,
            Engine="aurora-postgresql",
            MasterUsername="postgres",
            MasterUserPassword="not-a-real-password",
        )
    )
    assert code == "InvalidParameterValue"
    assert message.startswith("The parameter DBClusterIdentifier is not a valid identifier.")


def test_a_63_character_cluster_identifier_is_fine(aws):
    rds = aws.client("rds")
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="a" * 63, Engine="aurora-postgresql", MasterUsername="postgres",
        MasterUserPassword="not-a-real-password",
    )["DBCluster"]  # fmt: skip
    assert cluster["DBClusterIdentifier"] == "a" * 63


@pytest.mark.parametrize(("cidr", "allowed"), [("10.0.0.0/28", True), ("10.0.0.16/29", False), ("10.0.0.32/30", False)])
def test_subnets_are_16_to_28(aws, cidr, allowed):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/24")["Vpc"]["VpcId"]
    if allowed:
        assert ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["CidrBlock"] == cidr
    else:
        assert refused(lambda: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)) == (
            "InvalidSubnet.Range",
            f"The CIDR '{cidr}' is invalid.",
        )


def test_function_names_are_at_most_64_characters(aws):
    role = aws.client("iam", "application-a").create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]
    code, message = refused(
        lambda: aws.client("lambda", "application-a").create_function(
            FunctionName="f" * 65,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="h.h",
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
        )
    )
    assert code == "ValidationException"
    assert "at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64" in message
