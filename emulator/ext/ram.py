"""AWS Resource Access Manager: resource shares, their associations,
invitations and tags.

moto's RAM keeps shares but cannot associate or disassociate, has no
invitations, no tags and no shares seen from the principal's side.  This
module replaces its request handling: every operation below answers with the
shapes of botocore's RAM model (serialized from the model, like moto's EC2),
and state lives in a backend per account and region that moto's reset clears.

What is modelled (AWS behaviour followed):

- **Sharing with AWS Organizations is enabled** in the emulated organization,
  as the README requires of a real one (RAM's trusted access in
  Organizations, see ``organizations.py``; a drill turns it off).
  ``EnableSharingWithAwsOrganization`` succeeds for the management account
  and is refused for member accounts.  While sharing is enabled, a principal
  inside the owner's organization (account ID, the organization's ARN, an
  OU's ARN) is associated without an invitation.  While it is not, an account
  of the organization is an individual account like any other (RAM API
  reference, EnableSharingWithAwsOrganization): it needs
  ``allowExternalPrincipals`` and cannot receive subnets.  A share created
  with such a principal and subnets has its associations end ``FAILED`` with
  AWS's message ("... This error may also occur if you have not enabled
  sharing with your AWS organization ..."); adding them to an existing share
  is refused at once with the same message.
- **External principals** (accounts outside the owner's organization) need
  ``allowExternalPrincipals`` (else ``OperationNotPermittedException``) and
  get a ``PENDING`` invitation; their association stays ``ASSOCIATING`` until
  the recipient accepts (``AcceptResourceShareInvitation``) and becomes
  ``DISASSOCIATED`` if it rejects.  Subnets can be shared only within the
  organization: mixing them with an external principal is refused with
  ``InvalidParameterException``.
- **Resources** must be well-formed ARNs (``MalformedArnException``) of a
  shareable type (``InvalidParameterException``), in the caller's region and
  owned by the caller (``OperationNotPermittedException``); subnets must exist
  (``UnknownResourceException``) and not be default subnets
  (``InvalidParameterException``).  A shared subnet deleted by its owner shows
  a ``FAILED`` resource association with a status message.
- **Association statuses**: responses of ``AssociateResourceShare`` and
  ``DisassociateResourceShare`` report ``ASSOCIATING``/``DISASSOCIATING``;
  the next read reports ``ASSOCIATED``/``DISASSOCIATED`` (deterministic, no
  delay).  ``DeleteResourceShare`` sets the share ``DELETED`` and every
  association ``DISASSOCIATED``; deleted shares stay listed.
- ``clientToken`` makes ``CreateResourceShare`` idempotent
  (``IdempotentParameterMismatchException`` when reused with other values).
- Quotas: 5000 resource shares per account and region
  (``ResourceShareLimitExceededException``), 50 tags per share
  (``TagLimitExceededException``); tag keys starting with ``aws:`` are
  reserved (``TagPolicyViolationException``).

Other modules ask :func:`shared_resource_arns` which resources an account
sees through active shares (VPC sharing, see ``sharing.py``).

Why more than subnet sharing inside the organization is kept: the project's
deployment only shares an application account's subnets with the database
account of the same organization, but its modules take more than that input.
``ram_resource_share`` accepts every principal RAM accepts (account IDs, the
organization, OUs, IAM roles and users) and ``allow_external_principals``, and
documents that an account outside the organization only gets an invitation,
its association ``ASSOCIATING`` until it accepts; ``ram_resource_share_info``
lists resources and principals from either side, with tags and pagination.
Answering those inputs as AWS does needs external principals, invitations
(get, accept, reject, their pending resources) and the refusals that keep
subnets inside the organization; without them the emulator would accept or
refuse what AWS does not.  ``ListResourceTypes`` and ``ListPermissions`` stay
moto's answers.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.base_backend import BackendDict
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.moto_api._internal import mock_random
from moto.ram.models import ResourceAccessManagerBackend
from moto.ram.utils import RAM_RESOURCE_TYPES

from .. import patching
from . import organizations

LOCK = threading.RLock()

RESOURCE_SHARE_LIMIT = 5000
TAG_LIMIT = 50

# Resource types that can be shared only with principals of the owner's
# organization (VPC sharing).
ORGANIZATION_ONLY_TYPES = {"ec2:Subnet"}

ORGANIZATION_ONLY_MESSAGE = (
    "The resource you are attempting to share can only be shared within your AWS Organization. "
    "This error may also occur if you have not enabled sharing with your AWS organization, "
    "or that onboarding process is still in progress."
)

_ACCOUNT = re.compile(r"^\d{12}$")
_ORGANIZATION = re.compile(r"^arn:aws[a-z-]*:organizations::(\d{12}):organization/(o-[a-z0-9]+)$")
_OU = re.compile(r"^arn:aws[a-z-]*:organizations::(\d{12}):ou/(o-[a-z0-9]+)/(ou-[a-z0-9-]+)$")
_IAM = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):(?:root|role/.+|user/.+)$")
_SERVICE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$")
_ARN = re.compile(r"^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws)?:(.+)$")
_SHARE_ARN = re.compile(r"^arn:aws[a-z-]*:ram:([a-z0-9-]+):(\d{12}):resource-share/[0-9a-f-]+$")
_INVITATION_ARN = re.compile(r"^arn:aws[a-z-]*:ram:([a-z0-9-]+):(\d{12}):resource-share-invitation/[0-9a-f-]+$")

_RESOURCE_TYPES = {t["resourceType"].lower(): t for t in RAM_RESOURCE_TYPES}


class RamError(ServiceException):
    """An error of the RAM model; the code names the model's exception shape."""


def _error(code: str, message: str) -> RamError:
    return RamError(code, message)


def _now() -> datetime:
    return datetime.now(UTC)


def _checked_arns(arns: list[str] | None, pattern: re.Pattern[str], what: str) -> list[str]:
    """The ARNs of a request, each well-formed (``what``: "resource share" or "invitation")."""
    for arn in arns or []:
        if not arn or not pattern.match(arn):
            raise _error("MalformedArnException", f"The specified {what} ARN {arn} is not valid.")
    return list(arns or [])


def _resource_owner(params: dict[str, Any]) -> str:
    owner = params.get("resourceOwner")
    if owner not in ("SELF", "OTHER-ACCOUNTS"):
        raise _error(
            "InvalidParameterException",
            f"{owner} is not a valid resource owner. Specify either SELF or OTHER-ACCOUNTS and try again.",
        )
    return owner


# ---------------------------------------------------------------------------
# Organizations
# ---------------------------------------------------------------------------
def _organization_backend(account_id: str):
    """The Organizations backend of the organization ``account_id`` belongs to."""
    from moto.organizations.models import organizations_backends

    management = organizations_backends.master_accounts.get(account_id, (account_id, "aws"))[0]
    if management not in organizations_backends:
        return None
    backend = organizations_backends[management]["aws"]
    if backend.org is None or account_id not in {a.id for a in backend.accounts}:
        return None
    return backend


def _in_same_organization(owner: str, account_id: str) -> bool:
    backend = _organization_backend(owner)
    return backend is not None and account_id in {a.id for a in backend.accounts}


def _shares_within_organization(owner: str, account_id: str) -> bool:
    """Whether ``account_id`` is in the owner's organization and sharing within it is enabled: only then is an
    account of the organization a principal without invitation ("Until you enable sharing within the
    organization, you can specify only individual AWS accounts", RAM API reference,
    EnableSharingWithAwsOrganization), and only then can subnets be shared with it."""
    backend = _organization_backend(owner)
    return _in_same_organization(owner, account_id) and organizations.sharing_enabled(backend)


def _account_parents(backend, account_id: str) -> set[str]:
    """IDs of the OUs (and root) above an account in its organization."""
    parents: set[str] = set()
    account = next((a for a in backend.accounts if a.id == account_id), None)
    parent = getattr(account, "parent_id", None)
    by_id = {ou.id: ou for ou in backend.ou}
    while parent and parent not in parents:
        parents.add(parent)
        parent = getattr(by_id.get(parent), "parent_id", None)
    return parents


def _principal_covers(owner: str, principal: str, account_id: str) -> bool:
    """True if an association with ``principal`` grants access to ``account_id``."""
    if principal == account_id:
        return True
    organization = _ORGANIZATION.match(principal)
    ou = _OU.match(principal)
    if not (organization or ou):
        return False
    backend = _organization_backend(owner)
    if backend is None or account_id not in {a.id for a in backend.accounts}:
        return False
    if organization:
        return principal == backend.org.arn
    return ou.group(3) in _account_parents(backend, account_id)


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
@dataclass
class Association:
    entity: str
    kind: str  # PRINCIPAL or RESOURCE
    status: str
    external: bool = False
    resource_type: str | None = None
    status_message: str | None = None
    created: datetime = field(default_factory=_now)
    updated: datetime = field(default_factory=_now)

    def set_status(self, status: str, message: str | None = None) -> None:
        self.status = status
        self.status_message = message
        self.updated = _now()


@dataclass
class Invitation:
    arn: str
    receiver: str
    sender: str
    status: str = "PENDING"
    created: datetime = field(default_factory=_now)


class ResourceShare:
    def __init__(self, owner: str, region: str, partition: str, name: str, allow_external: bool) -> None:
        self.owner = owner
        self.region = region
        self.partition = partition
        self.arn = f"arn:{partition}:ram:{region}:{owner}:resource-share/{mock_random.uuid4()}"
        self.name = name
        self.allow_external = allow_external
        self.status = "ACTIVE"
        self.created = self.updated = _now()
        self.tags: dict[str, str] = {}
        self.principals: dict[str, Association] = {}
        self.resources: dict[str, Association] = {}
        self.invitations: dict[str, Invitation] = {}

    # -- views --------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "resourceShareArn": self.arn,
            "name": self.name,
            "owningAccountId": self.owner,
            "allowExternalPrincipals": self.allow_external,
            "status": self.status,
            "creationTime": self.created,
            "lastUpdatedTime": self.updated,
            "featureSet": "STANDARD",
        }
        if self.tags:
            data["tags"] = [{"key": k, "value": v} for k, v in self.tags.items()]
        return data

    def association(self, assoc: Association, status: str | None = None) -> dict[str, Any]:
        self.refresh()
        data = {
            "resourceShareArn": self.arn,
            "resourceShareName": self.name,
            "associatedEntity": assoc.entity,
            "associationType": assoc.kind,
            "status": status or assoc.status,
            "creationTime": assoc.created,
            "lastUpdatedTime": assoc.updated,
            "external": assoc.external,
        }
        if assoc.status_message and not status:
            data["statusMessage"] = assoc.status_message
        return data

    def invitation(self, invitation: Invitation) -> dict[str, Any]:
        return {
            "resourceShareInvitationArn": invitation.arn,
            "resourceShareName": self.name,
            "resourceShareArn": self.arn,
            "senderAccountId": invitation.sender,
            "receiverAccountId": invitation.receiver,
            "invitationTimestamp": invitation.created,
            "status": invitation.status,
        }

    def resource_entry(self, assoc: Association) -> dict[str, Any]:
        return {
            "arn": assoc.entity,
            "type": assoc.resource_type,
            "resourceShareArn": self.arn,
            "status": "AVAILABLE",
            "creationTime": assoc.created,
            "lastUpdatedTime": assoc.updated,
            "resourceRegionScope": "REGIONAL",
        }

    # -- state --------------------------------------------------------------
    def refresh(self) -> None:
        """Mark associations of subnets deleted by their owner as FAILED."""
        for assoc in self.resources.values():
            if assoc.status != "ASSOCIATED" or assoc.resource_type != "ec2:Subnet":
                continue
            if _find_own_subnet(self.owner, self.region, assoc.entity.rsplit("/", 1)[-1]) is None:
                assoc.set_status("FAILED", f"The resource {assoc.entity} no longer exists.")

    def grants(self, account_id: str) -> bool:
        """True if the share is active and one of its associated principals covers ``account_id``."""
        if self.status != "ACTIVE" or account_id == self.owner:
            return False
        return any(
            a.status == "ASSOCIATED" and _principal_covers(self.owner, a.entity, account_id)
            for a in self.principals.values()
        )

    def active(self, kind: str) -> list[Association]:
        self.refresh()
        table = self.principals if kind == "PRINCIPAL" else self.resources
        return [a for a in table.values() if a.status == "ASSOCIATED"]

    def has_external_principal(self) -> bool:
        return any(a.external and a.status in ("ASSOCIATING", "ASSOCIATED") for a in self.principals.values())

    def has_organization_only_resource(self) -> bool:
        return any(
            a.resource_type in ORGANIZATION_ONLY_TYPES and a.status in ("ASSOCIATING", "ASSOCIATED")
            for a in self.resources.values()
        )


def _find_own_subnet(account_id: str, region: str, subnet_id: str):
    from moto.ec2.models import ec2_backends

    # dict.__contains__: the regions that exist, not all the regions moto knows.
    if not dict.__contains__(ec2_backends, account_id) or not dict.__contains__(ec2_backends[account_id], region):
        return None
    for by_id in ec2_backends[account_id][region].subnets.values():
        if subnet_id in by_id:
            return by_id[subnet_id]
    return None


# ---------------------------------------------------------------------------
# Backend
# ---------------------------------------------------------------------------
class RamBackend(ResourceAccessManagerBackend):
    """RAM state of one account in one region (permissions and resource
    types come from moto's backend)."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.shares: dict[str, ResourceShare] = {}
        self.client_tokens: dict[str, tuple[str, str]] = {}

    # -- lookups ------------------------------------------------------------
    def _share(self, arn: str | None) -> ResourceShare:
        _checked_arns([arn], _SHARE_ARN, "resource share")
        share = self.shares.get(arn)
        if share is None:
            raise _error("UnknownResourceException", f"ResourceShare {arn} could not be found.")
        return share

    def _active_share(self, arn: str | None) -> ResourceShare:
        share = self._share(arn)
        if share.status != "ACTIVE":
            raise _error(
                "InvalidStateTransitionException",
                f"The resource share {arn} is in status {share.status}; the operation is not valid.",
            )
        return share

    # -- validation ---------------------------------------------------------
    def _check_principal(self, share: ResourceShare, principal: str) -> Association:
        owner = self.account_id
        if _ACCOUNT.match(principal):
            account = principal
        elif match := _ORGANIZATION.match(principal):
            backend = _organization_backend(owner)
            if backend is None or backend.org.arn != principal:
                raise _error("UnknownResourceException", f"Organization {match.group(2)} could not be found.")
            return Association(principal, "PRINCIPAL", "ASSOCIATED")
        elif match := _OU.match(principal):
            backend = _organization_backend(owner)
            known = backend is not None and any(ou.id == match.group(3) for ou in backend.ou)
            if not known or backend.org.id != match.group(2):
                raise _error(
                    "UnknownResourceException",
                    f"OrganizationalUnit {match.group(3)} in unknown organization could not be found.",
                )
            return Association(principal, "PRINCIPAL", "ASSOCIATED")
        elif match := _IAM.match(principal):
            account = match.group(1)
        elif _SERVICE.match(principal):
            return Association(principal, "PRINCIPAL", "ASSOCIATED")
        else:
            raise _error(
                "InvalidParameterException", f"Principal ID {principal} is malformed. Verify the ID and try again."
            )
        if account == owner and _ACCOUNT.match(principal):
            raise _error("InvalidParameterException", "The owner of a resource share can't be one of its principals.")
        if _shares_within_organization(owner, account):
            return Association(principal, "PRINCIPAL", "ASSOCIATED")
        if not share.allow_external:
            raise _error("OperationNotPermittedException", ORGANIZATION_ONLY_MESSAGE)
        if share.has_organization_only_resource():
            raise _error("InvalidParameterException", ORGANIZATION_ONLY_MESSAGE)
        return Association(principal, "PRINCIPAL", "ASSOCIATING", external=True)

    def _check_resource(self, share: ResourceShare, arn: str) -> Association:
        match = _ARN.match(arn)
        if not match or not re.search(r"[/:]", match.group(5)):
            raise _error(
                "MalformedArnException", f"The specified resource ARN {arn} is not valid. Verify the ARN and try again."
            )
        _, service, region, account, rest = match.groups()
        kind = re.split(r"[/:]", rest, maxsplit=1)[0]
        known = _RESOURCE_TYPES.get(f"{service}:{kind.replace('-', '')}".lower())
        if known is None:
            raise _error("InvalidParameterException", f"The resource type {service}:{kind} can't be shared.")
        resource_type = known["resourceType"]
        if account != self.account_id:
            raise _error(
                "OperationNotPermittedException", f"You can share only resources that your account owns: {arn}."
            )
        if known["resourceRegionScope"] == "REGIONAL" and region != self.region_name:
            raise _error("UnknownResourceException", f"The resource {arn} could not be found in {self.region_name}.")
        if resource_type == "ec2:Subnet":
            subnet = _find_own_subnet(self.account_id, self.region_name, rest.split("/", 1)[-1])
            if subnet is None:
                raise _error("UnknownResourceException", f"The resource {arn} could not be found.")
            if subnet.default_for_az:
                raise _error(
                    "InvalidParameterException",
                    f"{subnet.id} is a default subnet; only non-default subnets can be shared.",
                )
        if resource_type in ORGANIZATION_ONLY_TYPES and share.has_external_principal():
            raise _error("InvalidParameterException", ORGANIZATION_ONLY_MESSAGE)
        return Association(arn, "RESOURCE", "ASSOCIATED", resource_type=resource_type)

    @staticmethod
    def _check_tags(share: ResourceShare, tags: list[dict[str, str]] | None) -> dict[str, str]:
        new = {t["key"]: t.get("value", "") for t in tags or []}
        for key in new:
            if key.lower().startswith("aws:"):
                raise _error("TagPolicyViolationException", f"The tag key {key} is a reserved word and can't be used.")
        if len({**share.tags, **new}) > TAG_LIMIT:
            raise _error("TagLimitExceededException", f"A resource share can have at most {TAG_LIMIT} tags.")
        return new

    # -- associations -------------------------------------------------------
    def _without_organization_sharing(self, share: ResourceShare, principal: str, resources: list) -> bool:
        """Whether ``principal`` is an account of the owner's organization that could be a principal only
        through sharing within the organization, which is not enabled."""
        match = _IAM.match(principal)
        account = principal if _ACCOUNT.match(principal) else match.group(1) if match else None
        return (
            account is not None
            and _in_same_organization(self.account_id, account)
            and not _shares_within_organization(self.account_id, account)
            and (not share.allow_external or any(r.resource_type in ORGANIZATION_ONLY_TYPES for r in resources))
        )

    def _associate(
        self, share: ResourceShare, resources: list[str], principals: list[str], creating: bool = False
    ) -> list[dict]:
        # Validate everything first so that a refused request changes nothing.
        checked_resources = [self._check_resource(share, arn) for arn in resources]
        new_principals = []
        for principal in principals:
            if creating and self._without_organization_sharing(share, principal, checked_resources):
                # CreateResourceShare accepts the share; the associations that need sharing within the
                # organization then end FAILED (RAM User Guide: an association's status FAILED, with the
                # message AWS gives when sharing with the organization is not enabled). Adding to an
                # existing share is refused at once instead (AssociateResourceShare: InvalidParameterException,
                # terraform-provider-aws issues 12169 and 46542).
                failed = Association(principal, "PRINCIPAL", "FAILED", status_message=ORGANIZATION_ONLY_MESSAGE)
                new_principals.append(failed)
                for resource in checked_resources:
                    if resource.resource_type in ORGANIZATION_ONLY_TYPES:
                        resource.set_status("FAILED", ORGANIZATION_ONLY_MESSAGE)
                continue
            assoc = self._check_principal(share, principal)
            if any(r.resource_type in ORGANIZATION_ONLY_TYPES for r in checked_resources) and assoc.external:
                raise _error("InvalidParameterException", ORGANIZATION_ONLY_MESSAGE)
            new_principals.append(assoc)
        results = []
        for table, new in ((share.resources, checked_resources), (share.principals, new_principals)):
            for assoc in new:
                current = table.get(assoc.entity)
                if current is None or current.status in ("DISASSOCIATED", "FAILED"):
                    if current is not None:
                        assoc.created = current.created
                    table[assoc.entity] = current = assoc
                    if assoc.external:
                        self._invite(share, assoc.entity)
                    results.append(share.association(current, "ASSOCIATING"))
                else:
                    results.append(share.association(current))
        if results:
            share.updated = _now()
        return results

    def _invite(self, share: ResourceShare, principal: str) -> None:
        receiver = _IAM.match(principal).group(1) if _IAM.match(principal) else principal
        existing = share.invitations.get(receiver)
        if existing and existing.status == "PENDING":
            return
        arn = f"arn:{share.partition}:ram:{share.region}:{share.owner}:resource-share-invitation/{mock_random.uuid4()}"
        share.invitations[receiver] = Invitation(arn=arn, receiver=receiver, sender=share.owner)

    # -- operations ---------------------------------------------------------
    def create_resource_share(self, params: dict[str, Any]) -> dict[str, Any]:
        token = params.get("clientToken")
        fingerprint = json.dumps({k: v for k, v in params.items() if k != "clientToken"}, sort_keys=True)
        if token and token in self.client_tokens:
            previous, arn = self.client_tokens[token]
            if previous != fingerprint:
                raise _error(
                    "IdempotentParameterMismatchException",
                    f"The client token {token} was used with different parameters.",
                )
            return {"resourceShare": self.shares[arn].describe(), "clientToken": token}
        if not params.get("name"):
            raise _error("InvalidParameterException", "The name of a resource share can't be empty.")
        if sum(1 for s in self.shares.values() if s.status != "DELETED") >= RESOURCE_SHARE_LIMIT:
            raise _error(
                "ResourceShareLimitExceededException",
                f"The account {self.account_id} already has {RESOURCE_SHARE_LIMIT} resource shares "
                f"in {self.region_name}.",
            )
        share = ResourceShare(
            self.account_id,
            self.region_name,
            self.partition,
            params["name"],
            params.get("allowExternalPrincipals", True),
        )
        share.tags = self._check_tags(share, params.get("tags"))
        self._associate(share, params.get("resourceArns") or [], params.get("principals") or [], creating=True)
        self.shares[share.arn] = share
        if token:
            self.client_tokens[token] = (fingerprint, share.arn)
        result: dict[str, Any] = {"resourceShare": share.describe()}
        if token:
            result["clientToken"] = token
        return result

    def update_resource_share(self, params: dict[str, Any]) -> dict[str, Any]:
        share = self._active_share(params.get("resourceShareArn"))
        if "allowExternalPrincipals" in params:
            allow = params["allowExternalPrincipals"]
            if not allow and share.has_external_principal():
                raise _error(
                    "OperationNotPermittedException",
                    "The resource share has external principals; disassociate them before disallowing them.",
                )
            share.allow_external = allow
        if params.get("name"):
            share.name = params["name"]
        share.updated = _now()
        return _with_token({"resourceShare": share.describe()}, params)

    def delete_resource_share(self, params: dict[str, Any]) -> dict[str, Any]:
        share = self._active_share(params.get("resourceShareArn"))
        share.status = "DELETED"
        share.updated = _now()
        for assoc in [*share.principals.values(), *share.resources.values()]:
            if assoc.status != "DISASSOCIATED":
                assoc.set_status("DISASSOCIATED")
        return _with_token({"returnValue": True}, params)

    def associate_resource_share(self, params: dict[str, Any]) -> dict[str, Any]:
        share = self._active_share(params.get("resourceShareArn"))
        results = self._associate(share, params.get("resourceArns") or [], params.get("principals") or [])
        return _with_token({"resourceShareAssociations": results}, params)

    def disassociate_resource_share(self, params: dict[str, Any]) -> dict[str, Any]:
        share = self._active_share(params.get("resourceShareArn"))
        targets = [(share.resources, arn) for arn in params.get("resourceArns") or []]
        targets += [(share.principals, p) for p in params.get("principals") or []]
        for table, entity in targets:
            if table.get(entity) is None or table[entity].status == "DISASSOCIATED":
                raise _error("UnknownResourceException", f"{entity} is not associated with {share.arn}.")
        results = []
        for table, entity in targets:
            assoc = table[entity]
            assoc.set_status("DISASSOCIATED")
            results.append(share.association(assoc, "DISASSOCIATING"))
        share.updated = _now()
        return _with_token({"resourceShareAssociations": results}, params)

    def _received(self) -> list[ResourceShare]:
        """Shares of other accounts that grant this account access."""
        return [s for s in _shares_in_region(self.region_name) if s.grants(self.account_id)]

    def get_resource_shares(self, params: dict[str, Any]) -> dict[str, Any]:
        owner = _resource_owner(params)
        shares = list(self.shares.values()) if owner == "SELF" else self._received()
        wanted = _checked_arns(params.get("resourceShareArns"), _SHARE_ARN, "resource share")
        if wanted:
            shares = [s for s in shares if s.arn in wanted]
        if params.get("resourceShareStatus"):
            shares = [s for s in shares if s.status == params["resourceShareStatus"]]
        if params.get("name"):
            shares = [s for s in shares if s.name == params["name"]]
        for tag_filter in params.get("tagFilters") or []:
            key, values = tag_filter.get("tagKey"), tag_filter.get("tagValues") or []
            shares = [s for s in shares if key in s.tags and (not values or s.tags[key] in values)]
        page, token = _page(shares, params)
        return _with_next({"resourceShares": [s.describe() for s in page]}, token)

    def get_resource_share_associations(self, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("associationType")
        if kind not in ("PRINCIPAL", "RESOURCE", "SOURCE"):
            raise _error(
                "InvalidParameterException",
                f"{kind} is not a valid association type. Specify either PRINCIPAL or RESOURCE and try again.",
            )
        if kind == "PRINCIPAL" and params.get("resourceArn"):
            raise _error(
                "InvalidParameterException",
                "You cannot specify a resource ARN when the association type is PRINCIPAL.",
            )
        if kind == "RESOURCE" and params.get("principal"):
            raise _error(
                "InvalidParameterException", "You cannot specify a principal when the association type is RESOURCE."
            )
        wanted = params.get("resourceShareArns")
        for arn in wanted or []:
            self._share(arn)
        results = []
        for share in self.shares.values():
            if kind == "SOURCE" or (wanted and share.arn not in wanted):
                continue
            share.refresh()
            table = share.principals if kind == "PRINCIPAL" else share.resources
            for assoc in table.values():
                if params.get("resourceArn") and assoc.entity != params["resourceArn"]:
                    continue
                if params.get("principal") and assoc.entity != params["principal"]:
                    continue
                if params.get("associationStatus") and assoc.status != params["associationStatus"]:
                    continue
                results.append(share.association(assoc))
        page, token = _page(results, params)
        return _with_next({"resourceShareAssociations": page}, token)

    def get_resource_share_invitations(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = _checked_arns(params.get("resourceShareInvitationArns"), _INVITATION_ARN, "invitation")
        share_arns = _checked_arns(params.get("resourceShareArns"), _SHARE_ARN, "resource share")
        found = _invitations_for(self.account_id, self.region_name)
        if wanted:
            missing = set(wanted) - {inv.arn for _, inv in found}
            if missing:
                raise _error(
                    "ResourceShareInvitationArnNotFoundException",
                    f"ResourceShareInvitation {sorted(missing)[0]} could not be found.",
                )
            found = [(s, inv) for s, inv in found if inv.arn in wanted]
        if share_arns:
            found = [(s, inv) for s, inv in found if s.arn in share_arns]
        page, token = _page(found, params)
        return _with_next({"resourceShareInvitations": [s.invitation(inv) for s, inv in page]}, token)

    def _invitation(self, arn: str | None) -> tuple[ResourceShare, Invitation]:
        _checked_arns([arn], _INVITATION_ARN, "invitation")
        for share, invitation in _invitations_for(self.account_id, self.region_name):
            if invitation.arn == arn:
                return share, invitation
        raise _error(
            "ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitation {arn} could not be found."
        )

    def _respond_to_invitation(self, params: dict[str, Any], accept: bool) -> dict[str, Any]:
        arn = params.get("resourceShareInvitationArn")
        share, invitation = self._invitation(arn)
        if invitation.status == "ACCEPTED":
            raise _error(
                "ResourceShareInvitationAlreadyAcceptedException", f"The invitation {arn} has already been accepted."
            )
        if invitation.status == "REJECTED":
            raise _error(
                "ResourceShareInvitationAlreadyRejectedException", f"The invitation {arn} has already been rejected."
            )
        invitation.status = "ACCEPTED" if accept else "REJECTED"
        for assoc in share.principals.values():
            receiver = _IAM.match(assoc.entity).group(1) if _IAM.match(assoc.entity) else assoc.entity
            if receiver == invitation.receiver and assoc.status == "ASSOCIATING":
                assoc.set_status("ASSOCIATED" if accept else "DISASSOCIATED")
        share.updated = _now()
        return _with_token({"resourceShareInvitation": share.invitation(invitation)}, params)

    def accept_resource_share_invitation(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond_to_invitation(params, accept=True)

    def reject_resource_share_invitation(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._respond_to_invitation(params, accept=False)

    def list_pending_invitation_resources(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params.get("resourceShareInvitationArn")
        share, invitation = self._invitation(arn)
        if invitation.status == "REJECTED":
            raise _error(
                "ResourceShareInvitationAlreadyRejectedException", f"The invitation {arn} has already been rejected."
            )
        page, token = _page(share.active("RESOURCE"), params)
        return _with_next({"resources": [share.resource_entry(a) for a in page]}, token)

    def _visible(self, params: dict[str, Any]) -> list[tuple[ResourceShare, str | None]]:
        """Shares a List* call looks at, each with the principal filter applied."""
        owner = _resource_owner(params)
        resource_type = params.get("resourceType")
        if resource_type and resource_type.lower() not in _RESOURCE_TYPES:
            raise _error("InvalidResourceTypeException", f"The specified resource type {resource_type} is not valid.")
        wanted = _checked_arns(params.get("resourceShareArns"), _SHARE_ARN, "resource share")
        active = [s for s in self.shares.values() if s.status == "ACTIVE"]
        shares = active if owner == "SELF" else self._received()
        if wanted:
            shares = [s for s in shares if s.arn in wanted]
        return shares

    def list_resources(self, params: dict[str, Any]) -> dict[str, Any]:
        shares = self._visible(params)
        principal = params.get("principal")
        if principal and params["resourceOwner"] == "SELF":
            shares = [s for s in shares if principal in {a.entity for a in s.active("PRINCIPAL")}]
        elif principal:
            shares = [s for s in shares if s.owner == principal]
        resource_type = (params.get("resourceType") or "").lower()
        wanted = params.get("resourceArns")
        entries = []
        for share in shares:
            for assoc in share.active("RESOURCE"):
                if resource_type and assoc.resource_type.lower() != resource_type:
                    continue
                if wanted and assoc.entity not in wanted:
                    continue
                entries.append(share.resource_entry(assoc))
        page, token = _page(entries, params)
        return _with_next({"resources": page}, token)

    def list_principals(self, params: dict[str, Any]) -> dict[str, Any]:
        shares = self._visible(params)
        resource_arn = params.get("resourceArn")
        resource_type = (params.get("resourceType") or "").lower()
        wanted = params.get("principals")
        entries = []
        for share in shares:
            resources = share.active("RESOURCE")
            if resource_arn and resource_arn not in {a.entity for a in resources}:
                continue
            if resource_type and resource_type not in {a.resource_type.lower() for a in resources}:
                continue
            principals = share.active("PRINCIPAL")
            if params["resourceOwner"] == "OTHER-ACCOUNTS":
                principals = [a for a in principals if _principal_covers(share.owner, a.entity, self.account_id)]
            for assoc in principals:
                if wanted and assoc.entity not in wanted:
                    continue
                entries.append(
                    {
                        "id": assoc.entity,
                        "resourceShareArn": share.arn,
                        "creationTime": assoc.created,
                        "lastUpdatedTime": assoc.updated,
                        "external": assoc.external,
                    }
                )
        page, token = _page(entries, params)
        return _with_next({"principals": page}, token)

    def tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        share = self._tagged(params)
        share.tags.update(self._check_tags(share, params.get("tags")))
        return {}

    def untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        share = self._tagged(params)
        for key in params.get("tagKeys") or []:
            share.tags.pop(key, None)
        return {}

    def _tagged(self, params: dict[str, Any]) -> ResourceShare:
        if params.get("resourceShareArn"):
            return self._share(params["resourceShareArn"])
        arn = params.get("resourceArn")
        if arn and _SHARE_ARN.match(arn):
            return self._share(arn)
        if arn:
            raise _error("UnknownResourceException", f"The resource {arn} could not be found.")
        raise _error("InvalidParameterException", "Specify the ARN of the resource share to tag.")

    def enable_sharing_with_organization(self) -> dict[str, Any]:
        backend = _organization_backend(self.account_id)
        if backend is None or backend.org.master_account_id != self.account_id:
            raise _error(
                "OperationNotPermittedException",
                "Unable to enable sharing with AWS Organizations. Received AccessDeniedException from "
                "AWSOrganizations with the following error message: You don't have permissions to access "
                "this resource.",
            )
        organizations.enable_sharing(backend)
        return {"returnValue": True}


ram_backends = BackendDict(RamBackend, "ram")


def _with_token(result: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    if params.get("clientToken"):
        result["clientToken"] = params["clientToken"]
    return result


def _with_next(result: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        result["nextToken"] = token
    return result


def _page(items: list, params: dict[str, Any]) -> tuple[list, str | None]:
    token = params.get("nextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        start = -1
    if start < 0 or start > len(items):
        raise _error("InvalidNextTokenException", f"The specified value for NextToken ({token}) is not valid.")
    size = params.get("maxResults") or 500
    if not 1 <= size <= 500:
        raise _error("InvalidMaxResultsException", f"The specified value for MaxResults ({size}) is not valid.")
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _region_backends(region: str) -> list[RamBackend]:
    backends = []
    for per_account in list(ram_backends.values()):
        if dict.__contains__(per_account, region):
            backends.append(dict.__getitem__(per_account, region))
    return backends


def _shares_in_region(region: str) -> list[ResourceShare]:
    return [share for backend in _region_backends(region) for share in backend.shares.values()]


def _invitations_for(account_id: str, region: str) -> list[tuple[ResourceShare, Invitation]]:
    return [
        (share, invitation)
        for share in _shares_in_region(region)
        for invitation in share.invitations.values()
        if invitation.receiver == account_id
    ]


def shared_resource_arns(account_id: str, region: str, resource_type: str) -> list[str]:
    """ARNs of resources of ``resource_type`` that other accounts share with
    ``account_id`` through active resource shares (associations ASSOCIATED)."""
    with LOCK:
        arns: list[str] = []
        for share in _shares_in_region(region):
            if not share.grants(account_id):
                continue
            for assoc in share.active("RESOURCE"):
                if assoc.resource_type == resource_type and assoc.entity not in arns:
                    arns.append(assoc.entity)
        return arns


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------
class RamResponse(BaseResponse):
    """Request handling of RAM; parameters are parsed with botocore's model."""

    def __init__(self) -> None:
        super().__init__(service_name="ram")
        self.automated_parameter_parsing = True

    @property
    def backend(self) -> RamBackend:
        return ram_backends[self.current_account][self.region]

    def call_action(self):
        with LOCK:
            return super().call_action()

    def _run(self, method: str) -> ActionResult:
        return ActionResult(getattr(self.backend, method)(dict(self.params)))

    def create_resource_share(self) -> ActionResult:
        return self._run("create_resource_share")

    def update_resource_share(self) -> ActionResult:
        return self._run("update_resource_share")

    def delete_resource_share(self) -> ActionResult:
        return self._run("delete_resource_share")

    def associate_resource_share(self) -> ActionResult:
        return self._run("associate_resource_share")

    def disassociate_resource_share(self) -> ActionResult:
        return self._run("disassociate_resource_share")

    def get_resource_shares(self) -> ActionResult:
        return self._run("get_resource_shares")

    def get_resource_share_associations(self) -> ActionResult:
        return self._run("get_resource_share_associations")

    def get_resource_share_invitations(self) -> ActionResult:
        return self._run("get_resource_share_invitations")

    def accept_resource_share_invitation(self) -> ActionResult:
        return self._run("accept_resource_share_invitation")

    def reject_resource_share_invitation(self) -> ActionResult:
        return self._run("reject_resource_share_invitation")

    def list_pending_invitation_resources(self) -> ActionResult:
        return self._run("list_pending_invitation_resources")

    def list_resources(self) -> ActionResult:
        return self._run("list_resources")

    def list_principals(self) -> ActionResult:
        return self._run("list_principals")

    def tag_resource(self) -> ActionResult:
        return self._run("tag_resource")

    def untag_resource(self) -> ActionResult:
        return self._run("untag_resource")

    def enable_sharing_with_aws_organization(self) -> ActionResult:
        return ActionResult(self.backend.enable_sharing_with_organization())

    # moto's answers, whose timestamps are already formatted strings.
    def list_resource_types(self) -> str:
        scope = self._get_param("resourceRegionScope") or "ALL"
        return json.dumps(self.backend.list_resource_types(scope))

    def list_permissions(self) -> str:
        kind, scope = self._get_param("resourceType"), self._get_param("permissionType") or "ALL"
        return json.dumps(self.backend.list_permissions(kind, scope))


def _operations() -> list[str]:
    from botocore.session import get_session

    model = get_session().get_service_model("ram")
    return [model.operation_model(name).http["requestUri"] for name in model.operation_names]


@patching.install_once
def install() -> None:
    from moto.ram import urls

    # Every operation of RAM is answered by RamResponse.
    patching.patch(
        urls, "url_paths", value={"{0}" + uri.split("?")[0] + "$": RamResponse.dispatch for uri in _operations()}
    )
