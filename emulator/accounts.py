"""The emulated accounts and their AWS Organization.

Each account gets an IAM user ``deployer`` whose access key is fixed (read
from ``accounts.yml``), so that any client using that key is served by that
account's backends and ``sts:GetCallerIdentity`` names that account.
All accounts are members of one organization owned by a management account,
with resource sharing (AWS RAM) enabled within it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import yaml

DEFAULT_ACCOUNTS_FILE = Path(__file__).with_name("accounts.yml")
USER_NAME = "deployer"


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class AccountsConfig:
    management: Account
    members: tuple[Account, ...]

    @property
    def all(self) -> tuple[Account, ...]:
        return (self.management, *self.members)

    def by_name(self, name: str) -> Account:
        for account in self.all:
            if account.name == name:
                return account
        raise KeyError(name)

    def by_key(self) -> dict[str, str]:
        return {a.access_key_id: a.account_id for a in self.all}


def load(path: str | Path | None = None) -> AccountsConfig:
    data = yaml.safe_load(Path(path or DEFAULT_ACCOUNTS_FILE).read_text())
    org = data["organization"]
    management = Account(
        account_id=str(org["management_account_id"]),
        name="management",
        access_key_id=org["management_access_key_id"],
        secret_access_key=org["management_secret_access_key"],
    )
    members = tuple(
        Account(
            account_id=str(a["account_id"]),
            name=a["name"],
            access_key_id=a["access_key_id"],
            secret_access_key=a["secret_access_key"],
        )
        for a in data["accounts"]
    )
    ids = [a.account_id for a in (management, *members)]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate account IDs in {path or DEFAULT_ACCOUNTS_FILE}")
    return AccountsConfig(management=management, members=members)


def seed(config: AccountsConfig) -> None:
    """Create the users, access keys and organization in moto's backends."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import FakeAccount, organizations_backends
    from moto.organizations.utils import DEFAULT_RCP_POLICY_ID, DEFAULT_SCP_POLICY_ID

    for account in config.all:
        iam = iam_backends[account.account_id]["aws"]
        if USER_NAME not in iam.users:
            iam.create_user(region_name="us-east-1", user_name=USER_NAME, path="/", tags=[])
        user = iam.get_user(USER_NAME)
        if account.access_key_id not in iam.access_keys:
            key = user.create_access_key(prefix="AKIA")
            key.access_key_id = account.access_key_id
            key.secret_access_key = account.secret_access_key
            iam.access_keys[key.physical_resource_id] = key

    from .ext import organizations

    mgmt = config.management.account_id
    orgs = organizations_backends[mgmt]["aws"]
    if orgs.org is None:
        orgs.create_organization(region="us-east-1", FeatureSet="ALL")
        # Resource sharing with the organization is enabled, as the README
        # requires of a real one (a drill turns it off).
        organizations.enable_sharing(orgs)
    known = {a.id for a in orgs.accounts}
    for account in config.members:
        if account.account_id in known:
            continue
        # FakeAccount draws a random ID and creates OrganizationAccountAccessRole
        # in that account; give it the configured ID instead.
        with mock.patch("moto.organizations.utils.make_random_account_id", return_value=account.account_id):
            member = FakeAccount(
                orgs.org,
                AccountName=account.name,
                Email=f"{account.name}@example.com",
                RoleName="OrganizationAccountAccessRole",
            )
        orgs.accounts.append(member)
        for policy_id in (DEFAULT_SCP_POLICY_ID, DEFAULT_RCP_POLICY_ID):
            orgs.attach_policy(PolicyId=policy_id, TargetId=member.id)
        organizations_backends.master_accounts[member.id] = (mgmt, "aws")
