"""IAM roles as services see them: propagation time, trust and permissions; and what Lambda makes of them."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from emulator.ext import iam_roles

ACCOUNT = "222222222222"
VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
ROLE_REFUSED = "The role defined for the function cannot be assumed by Lambda."


def trust(service: str, **condition) -> str:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def create_function(aws, role_arn: str, name: str = "fn", **kwargs) -> dict:
    return aws.client("lambda", "application-a").create_function(
        FunctionName=name, Runtime="python3.12", Role=role_arn, Handler="handler.handler",
        Code={"ZipFile": code()}, **kwargs,
    )  # fmt: skip


def refusal(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def network(aws) -> dict:
    ec2 = aws.client("ec2", "application-a")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/24")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/26", AvailabilityZone="eu-west-1a")["Subnet"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    return {"SubnetIds": [subnet["SubnetId"]], "SecurityGroupIds": [group]}


def test_lambda_refuses_a_missing_untrusting_or_unpropagated_role(aws):
    iam = aws.client("iam", "application-a")
    arn = f"arn:aws:iam::{ACCOUNT}:role/fn"
    assert refusal(lambda: create_function(aws, arn)) == ("InvalidParameterValueException", ROLE_REFUSED)
    iam.create_role(RoleName="fn", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))
    assert refusal(lambda: create_function(aws, arn)) == ("InvalidParameterValueException", ROLE_REFUSED)
    aws.control.configure(hold=["iam_role_propagation"])
    iam.update_assume_role_policy(RoleName="fn", PolicyDocument=trust("lambda.amazonaws.com"))
    assert refusal(lambda: create_function(aws, arn)) == ("InvalidParameterValueException", ROLE_REFUSED)
    aws.control.configure(hold=[])
    assert create_function(aws, arn)["Role"] == arn


def test_a_function_in_a_vpc_needs_the_network_interface_permissions(aws):
    iam = aws.client("iam", "application-a")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
    vpc_config = network(aws)
    assert refusal(lambda: create_function(aws, role, VpcConfig=vpc_config)) == (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
    )
    create_function(aws, role)  # outside a VPC it needs none
    iam.attach_role_policy(RoleName="fn", PolicyArn=VPC_ACCESS)
    created = create_function(aws, role, name="fn-in-vpc", VpcConfig=vpc_config)
    assert created["VpcConfig"]["SubnetIds"] == vpc_config["SubnetIds"]
    # UpdateFunctionConfiguration checks the same.
    iam.detach_role_policy(RoleName="fn", PolicyArn=VPC_ACCESS)
    lam = aws.client("lambda", "application-a")
    assert refusal(lambda: lam.update_function_configuration(FunctionName="fn", VpcConfig=vpc_config))[1].startswith(
        "The provided execution role does not have permissions"
    )


def test_a_permission_change_is_seen_after_it_has_propagated_and_the_permissions_before_it_until_then(aws):
    """A role that has propagated keeps serving with the permissions it had while a change propagates (added or
    removed, inline or managed); a role still propagating is refused whatever its permissions."""
    iam = aws.client("iam", "application-a")
    lam = aws.client("lambda", "application-a")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
    vpc_config = network(aws)
    create_function(aws, role)
    no_permissions = "The provided execution role does not have permissions to call CreateNetworkInterface on EC2"

    def vpc_refusal():
        try:
            lam.update_function_configuration(FunctionName="fn", VpcConfig=vpc_config)
        except ClientError as error:
            return error.response["Error"]["Message"]
        lam.update_function_configuration(FunctionName="fn", VpcConfig={"SubnetIds": [], "SecurityGroupIds": []})
        return None

    aws.control.configure(hold=["iam_role_propagation"])
    iam.attach_role_policy(RoleName="fn", PolicyArn=VPC_ACCESS)
    assert vpc_refusal() == no_permissions  # the permissions before the change
    aws.control.configure(hold=[])
    assert vpc_refusal() is None
    aws.control.configure(hold=["iam_role_propagation"])
    iam.detach_role_policy(RoleName="fn", PolicyArn=VPC_ACCESS)
    iam.put_role_policy(RoleName="fn", PolicyName="nothing", PolicyDocument=statement_json("Deny", "ec2:*"))
    assert vpc_refusal() is None  # still the permissions before both changes
    aws.control.configure(hold=[])
    assert vpc_refusal() == no_permissions
    # A role that has not propagated yet is refused, and a permission change does not make it visible sooner.
    aws.control.configure(hold=["iam_role_propagation"])
    fresh = iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="fresh", PolicyArn=VPC_ACCESS)
    refused = refusal(lambda: create_function(aws, fresh, name="other"))
    assert refused == ("InvalidParameterValueException", ROLE_REFUSED)
    aws.control.configure(hold=[])
    assert create_function(aws, fresh, name="other", VpcConfig=vpc_config)["Role"] == fresh


def statement_json(effect: str, action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": "*"}]})


def test_the_emulator_state_tag_ends_a_function_failed(aws):
    iam = aws.client("iam", "application-a")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=trust("lambda.amazonaws.com"))["Role"]["Arn"]
    iam.attach_role_policy(RoleName="fn", PolicyArn=VPC_ACCESS)
    aws.control.configure(hold=["lambda_vpc"])
    created = create_function(aws, role, VpcConfig=network(aws), Tags={"emulator:state": "SubnetOutOfIPAddresses"})
    assert created["State"] == "Pending"
    aws.control.configure(hold=[])
    config = aws.client("lambda", "application-a").get_function_configuration(FunctionName="fn")
    assert (config["State"], config["StateReasonCode"]) == ("Failed", "SubnetOutOfIPAddresses")
    assert refusal(lambda: create_function(aws, role, name="other", Tags={"emulator:state": "Sunny"}))[0] == (
        "InvalidParameterValueException"
    )


class Role:
    """Just what the evaluation reads of a moto role."""

    def __init__(self, trust_policy: dict, inline: list[dict]) -> None:
        self.assume_role_policy_document = json.dumps(trust_policy)
        self.policies = {f"p{i}": json.dumps(document) for i, document in enumerate(inline)}
        self.managed_policies = {}


def statement(effect: str, **parts) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, **parts}]}


def test_permissions_follow_iams_evaluation():
    bucket = "arn:aws:s3:::data/*"
    role = Role(
        json.loads(trust("lambda.amazonaws.com")),
        [
            statement("Allow", Action="s3:Get*", Resource=bucket),
            statement("Deny", Action="s3:GetObjectAcl", Resource="*"),
            statement("Allow", NotAction="iam:*", Resource="arn:aws:logs:*"),
        ],
    )
    assert iam_roles.allows(role, "S3:GETOBJECT", "arn:aws:s3:::data/key")  # actions ignore case
    assert not iam_roles.allows(role, "s3:GetObject", "arn:aws:s3:::other/key")
    assert not iam_roles.allows(role, "s3:GetObjectAcl", "arn:aws:s3:::data/key")  # an explicit Deny wins
    assert iam_roles.allows(role, "logs:PutLogEvents", "arn:aws:logs:")
    assert not iam_roles.allows(role, "iam:PassRole", "arn:aws:logs:")


def test_trust_conditions_are_evaluated():
    role = Role(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["rds.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": "111111111111"},
                        "ArnLike": {"aws:SourceArn": "arn:aws:rds:*:111111111111:db-proxy:*"},
                    },
                }
            ],
        },
        [],
    )
    context = {"aws:SourceAccount": "111111111111", "aws:SourceArn": "arn:aws:rds:eu-west-1:111111111111:db-proxy:x"}
    assert iam_roles.trusts_service(role, "rds.amazonaws.com", context)
    assert not iam_roles.trusts_service(role, "rds.amazonaws.com", {**context, "aws:SourceAccount": "2" * 12})
    assert not iam_roles.trusts_service(role, "rds.amazonaws.com", {"aws:SourceAccount": "111111111111"})
    assert not iam_roles.trusts_service(role, "lambda.amazonaws.com", context)
