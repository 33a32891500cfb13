"""A role used alone checks its own inputs before any AWS call."""

from __future__ import annotations

import yaml

from .helpers import run_playbook, run_playbook_reacting


def test_the_proxy_role_refuses_an_empty_list_of_application_accounts(aws, tmp_path):
    playbook = tmp_path / "proxy.yml"
    play = {
        "name": "The proxy for no application account",
        "hosts": "database",
        "gather_facts": False,
        "roles": [{"role": "rds_proxy", "rds_proxy_name": "lonely-proxy", "rds_proxy_application_accounts": []}],
    }
    playbook.write_text(yaml.safe_dump([play]))
    aws.control.reset_requests()
    result = run_playbook(str(playbook), aws)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "rds_proxy_application_accounts is empty" in output
    assert aws.control.requests() == []


# -- the connection-test function and what Lambda refuses -----------------------
FUNCTION_TASK = r"FAILED - RETRYING: \[application-a\]: .*Ensure the connection-test function exists"
CONNECTION = {
    "access_key": "{{ aws_access_key }}",
    "secret_key": "{{ aws_secret_key }}",
    "region": "{{ aws_region }}",
    "endpoint_url": "{{ aws_endpoint_url }}",
}


def _function_playbook(aws, tmp_path, **variables) -> str:
    """A play that runs iam_lambda alone for application-a, in a network made here."""
    ec2 = aws.client("ec2", "application-a")
    vpc = ec2.create_vpc(CidrBlock="10.0.16.0/24")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.16.{64 * i}/26", AvailabilityZone=f"eu-west-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    role = {
        "role": "iam_lambda",
        "iam_lambda_name": "solo-connection-test",
        "iam_lambda_connect_role_arn": "arn:aws:iam::111111111111:role/solo-proxy-connect-application-a",
        "iam_lambda_read_only_endpoint": "solo-ro.endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com",
        "iam_lambda_read_write_endpoint": "solo-rw.endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com",
        "iam_lambda_subnet_ids": subnets,
        "iam_lambda_security_group_ids": [group],
        "iam_lambda_role_propagation_timeout": 60,
        **variables,
    }
    play = {
        "name": "The connection-test function alone",
        "hosts": "application-a",
        "gather_facts": False,
        "module_defaults": {"group/aws": CONNECTION, "resource_check": CONNECTION},
        "roles": [role],
    }
    playbook = tmp_path / "function.yml"
    playbook.write_text(yaml.safe_dump([play]))
    return str(playbook)


def _creates(aws) -> list[int]:
    return [e["status"] for e in aws.control.requests() if e["action"] == "CreateFunction"]


def test_the_function_waits_for_its_new_role_to_propagate(aws, tmp_path):
    playbook = _function_playbook(aws, tmp_path)
    aws.control.configure(hold=["iam_role_propagation"])
    try:
        result = run_playbook_reacting(playbook, aws, None, {FUNCTION_TASK: lambda: aws.control.configure(hold=[])})
    finally:
        aws.control.configure(hold=[])
    assert result.returncode == 0, result.stdout[-4000:]
    statuses = _creates(aws)
    assert statuses[0] == 400 and statuses[-1] == 201, statuses


def test_other_refusals_of_the_function_are_not_retried(aws, tmp_path):
    playbook = _function_playbook(aws, tmp_path, iam_lambda_security_group_ids=["sg-0123456789abcdef0"])
    result = run_playbook(playbook, aws)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "The security group 'sg-0123456789abcdef0' does not exist" in output
    assert "FAILED - RETRYING" not in output
    assert _creates(aws) == [400]


def test_a_function_that_ends_failed_fails_the_wait_at_once_with_the_reason(aws, tmp_path):
    playbook = _function_playbook(aws, tmp_path, iam_lambda_tags={"emulator:state": "SubnetOutOfIPAddresses"})
    aws.control.reset_requests()
    result = run_playbook(playbook, aws)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "The function solo-connection-test is Failed (SubnetOutOfIPAddresses:" in output
    assert "Wait until the function is active" in output and "FAILED - RETRYING" not in output
