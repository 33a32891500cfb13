"""What the organization must provide: resource sharing with AWS Organizations.

VPC sharing needs it; without it AWS refuses to share the subnets. The
emulator's organization has it on; these drills turn it off from the
management account (RAM's trusted access in Organizations)."""

from __future__ import annotations

from .helpers import copy_inventory, recap, run_playbook
from .leftovers import deployment_resources

COMMAND = "aws ram enable-sharing-with-aws-organization"


def _sharing_off(aws):
    aws.client("organizations", "management").disable_aws_service_access(ServicePrincipal="ram.amazonaws.com")


def test_without_sharing_the_share_fails_naming_the_prerequisite_and_destroy_still_works(aws, tmp_path):
    _sharing_off(aws)
    inventory = copy_inventory(tmp_path)
    result = run_playbook("site.yml", aws, inventory)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "resource sharing with AWS Organizations enabled" in output
    assert COMMAND in output
    counts = recap(result.stdout)
    assert counts["application-a"]["failed"] == counts["application-b"]["failed"] == 1, counts
    destroyed = run_playbook("playbooks/destroy.yml", aws, inventory)
    assert destroyed.returncode == 0, destroyed.stdout[-6000:]
    assert deployment_resources(aws, "xacct") == []


def test_the_preflight_finds_it_off_when_a_host_is_the_management_account(aws, tmp_path):
    management = aws.account("management")
    inventory = copy_inventory(
        tmp_path,
        host_vars={
            "application-b": {
                "aws_account_id": management.account_id,
                "aws_access_key": management.access_key_id,
                "aws_secret_key": management.secret_access_key,
            }
        },
    )
    assert run_playbook("playbooks/preflight.yml", aws, inventory).returncode == 0
    _sharing_off(aws)
    aws.control.reset_requests()
    result = run_playbook("site.yml", aws, inventory)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "Check that resource sharing with AWS Organizations is enabled" in output
    assert COMMAND in output
    assert aws.control.mutating_requests() == []
