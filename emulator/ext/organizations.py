"""AWS Organizations: trusted access of AWS services, from the management account only.

``ListAWSServiceAccessForOrganization``, ``EnableAWSServiceAccess`` and
``DisableAWSServiceAccess`` "can be called only from the organization's
management account or by a member account that is a delegated administrator"
(Organizations API reference); other accounts get ``AccessDeniedException``.
moto answers them from any account of the organization; this refuses member
accounts (the emulator has no delegated administrators).

AWS RAM's sharing within the organization is the trusted access of
``ram.amazonaws.com``: ``EnableSharingWithAwsOrganization`` turns it on
(RAM User Guide, "Enable resource sharing within AWS Organizations"), and
disabling RAM's trusted access in Organizations turns sharing within the
organization off again.  The emulated organization starts with it on, as
the project's README requires of a real one (``accounts.seed``); a drill
turns it off with ``DisableAWSServiceAccess`` from the management account.
"""

from __future__ import annotations

from typing import Any

from moto.organizations.exceptions import OrganizationsClientError

from .. import patching

RAM_SERVICE = "ram.amazonaws.com"
_MANAGEMENT_ONLY = (
    "list_aws_service_access_for_organization",
    "enable_aws_service_access",
    "disable_aws_service_access",
)


class AccessDeniedException(OrganizationsClientError):
    def __init__(self) -> None:
        super().__init__("AccessDeniedException", "You don't have permissions to access this resource.")


def sharing_enabled(backend: Any) -> bool:
    """Whether RAM's sharing within the organization of ``backend`` (its management account's) is on."""
    return any(service["ServicePrincipal"] == RAM_SERVICE for service in backend.services)


def enable_sharing(backend: Any) -> None:
    backend.enable_aws_service_access(ServicePrincipal=RAM_SERVICE)


def _management_only(original: Any) -> Any:
    def action(self) -> Any:
        org = self.organizations_backend.org
        if org is None or org.master_account_id != self.current_account:
            raise AccessDeniedException()
        return original(self)

    return action


@patching.install_once
def install() -> None:
    from moto.organizations.responses import OrganizationsResponse

    for name in _MANAGEMENT_ONLY:
        patching.patch(OrganizationsResponse, name, _management_only)
