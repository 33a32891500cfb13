"""Network interfaces that AWS services place in a VPC, and the deletions they block.

moto gives Lambda functions and RDS proxies no network interfaces, creates
the interfaces of interface VPC endpoints with the VPC's default security
group, and deletes security groups, subnets and VPCs whatever still uses them.
Following AWS, this module:

- gives a Lambda function in a VPC a Hyperplane interface per subnet and
  security-group combination, shared by every function and version of the
  account that uses the same combination; once none uses it, Lambda deletes
  it after ``lambda_eni_release``;
- gives each RDS Proxy endpoint (the proxy's default endpoint and each
  created one) an interface in each of its subnets, owned by the proxy's
  account even in subnets shared with it; ``db_proxy_eni_release`` after the
  endpoint (or its proxy) is gone, they are gone too;
- describes the interfaces of interface VPC endpoints as AWS does (their
  removal is timed by :mod:`emulator.ext.ec2`);
- refuses ``DeleteSecurityGroup``, ``DeleteSubnet`` and ``DeleteVpc`` with
  ``DependencyViolation`` while interfaces (of any account) or, for a VPC,
  security groups other than its default one (of any account) remain;
- refuses ``DeleteNetworkInterface`` and ``DetachNetworkInterface`` on these
  service-managed interfaces;
- lets the owner of a shared subnet see the interfaces that participants put
  in it (``DescribeNetworkInterfaces``), with working filters.

Sources (cited again beside each behaviour):

[LAMBDA-NW] AWS Lambda Developer Guide, "VPC networking for Lambda", section
  "Lambda Hyperplane ENIs"
  (https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html).
[TF-LAMBDA] terraform-provider-aws, internal/service/ec2/vpc_network_interface.go,
  ``deleteLingeringLambdaENIs`` (and commit 922037e "Updated handling for
  Lambda Hyperplane ENIs").
[EC2-RM] Amazon EC2 User Guide, "Requester-managed network interfaces"
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html).
[VPC-SHARE] Amazon VPC User Guide, "Share your VPC with other accounts"
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-sharing.html).
[VPC-SUBNETS] Amazon VPC User Guide, "Subnet CIDR blocks"
  (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
[CDK-14456] aws/aws-cdk issue 14456: AWS's DependencyViolation messages for
  DeleteSecurityGroup, DeleteSubnet and DeleteVpc.

At ``delay_scale`` 0 every release is immediate.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.core.utils import utcnow

from .. import patching, provisioning
from ..settings import SETTINGS

LAMBDA = "lambda"
RDS_PROXY = "rds-proxy"
VPC_ENDPOINT = "vpc-endpoint"

# Lambda's interfaces: [LAMBDA-NW] "Lambda creates a Hyperplane ENI when you
# define a unique subnet plus security group combination ... Lambda reuses the
# Hyperplane ENI for other VPC-enabled functions in your account that use the
# same subnet and security group combination."  Description
# "AWS Lambda VPC ENI-<function>-<uuid>": the AWS answer quoted in
# binxio/cfn-postgresql-user-provider issue 9 ("AWS Lambda VPC
# ENI-binxio-cfn-postgresql-user-provider-059-2a0ef611-99a0-4a90-a1bc-5729f75b6833");
# [TF-LAMBDA] finds them with the description filter "AWS Lambda VPC ENI*".
LAMBDA_DESCRIPTION = "AWS Lambda VPC ENI-{name}-{uuid}"
# RDS Proxy does not document its interfaces.  They are modelled like the
# interfaces of RDS DB instances, which AWS describes with the description
# "RDSNetworkInterface" (aws-cloudformation/cloudformation-coverage-roadmap
# issue 2480), requester-managed ([EC2-RM] names RDS among the services that
# create requester-managed interfaces), RequesterId "amazon-rds", interface
# type "interface", status "in-use" and an attachment owned by "amazon-rds"
# (public describe-network-interfaces outputs of RDS interfaces).  A plausible
# stand-in, not a documented format.
RDS_DESCRIPTION = "RDSNetworkInterface"
RDS_REQUESTER = "amazon-rds"

_LOCK = threading.RLock()


@dataclass
class Managed:
    """What the emulator knows of an interface that an AWS service manages."""

    service: str  # LAMBDA, RDS_PROXY or VPC_ENDPOINT
    key: tuple  # what uses it: a Lambda combination, an RDS Proxy endpoint, a VPC endpoint
    attachment: dict[str, Any] | None = None
    release: Any = None  # provisioning deadline, once the service lets it go
    gone: Callable[[], bool] | None = None  # the resource that used it no longer exists


def _managed(eni: Any) -> Managed | None:
    return eni.__dict__.get("_emulator_managed")


# -- moto's backends ---------------------------------------------------------
def _existing(backend_dict: Any, region: str) -> Iterator[Any]:
    """The backends of ``region`` that exist already (without creating any)."""
    for account_id in list(dict.keys(backend_dict)):
        backend = dict.get(dict.__getitem__(backend_dict, account_id), region)
        if backend is not None:
            yield backend


def _ec2_backends(region: str) -> list[Any]:
    from moto.ec2.models import ec2_backends

    return list(_existing(ec2_backends, region))


def _ec2_backends_dict() -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends


def _ec2(account_id: str, region: str) -> Any:
    return _ec2_backends_dict()[account_id][region]


def _ec2_if_any(account_id: str, region: str) -> Any | None:
    """The EC2 backend of an account and Region if it exists (without creating it)."""
    account = dict.get(_ec2_backends_dict(), account_id)
    return dict.get(account, region) if account is not None else None


def _all_interfaces(region: str) -> list[Any]:
    return [eni for backend in _ec2_backends(region) for eni in list(backend.enis.values())]


def _find_subnet(region: str, subnet_id: str) -> Any | None:
    """A subnet by ID, whichever account owns it (IDs are unique)."""
    for backend in _ec2_backends(region):
        for by_id in list(backend.subnets.values()):
            if subnet_id in by_id:
                return by_id[subnet_id]
    return None


def _find_groups(region: str, group_ids: list[str]) -> list[Any]:
    groups = []
    for group_id in group_ids:
        for backend in _ec2_backends(region):
            group = backend.get_security_group_from_id(group_id)
            if group is not None:
                groups.append(group)
                break
    return groups


def free_address(subnet: Any) -> str:
    """The lowest address of ``subnet`` that AWS would hand out and no interface of any account holds.

    [VPC-SUBNETS] "The first four IP addresses and the last IP address in each subnet CIDR block are not
    available for you to use" (Amazon VPC User Guide, "Subnet CIDR blocks").  moto draws addresses at random,
    reserved ones and duplicates included; two interfaces never share an address here.
    """
    network = ipaddress.ip_network(subnet.cidr_block)
    taken = {
        address["PrivateIpAddress"]
        for eni in _all_interfaces(subnet.ec2_backend.region_name)
        for address in [{"PrivateIpAddress": eni.private_ip_address}, *(eni.private_ip_addresses or [])]
        if address.get("PrivateIpAddress")
    }
    for offset in range(4, network.num_addresses - 1):
        candidate = str(network[offset])
        if candidate not in taken:
            return candidate
    raise RuntimeError(f"no free address left in {subnet.id} ({subnet.cidr_block})")


def _assign(eni: Any, address: str) -> None:
    from moto.ec2.utils import generate_dns_from_ip

    entry = {"Primary": True, "PrivateIpAddress": address}
    if getattr(eni, "private_dns_name", None):
        eni.private_dns_name = entry["PrivateDnsName"] = generate_dns_from_ip(address)
    eni.private_ip_address = address
    eni.private_ip_addresses = [entry]


def _random_hex(length: int) -> str:
    return secrets.token_hex(length)[:length]


# -- interfaces --------------------------------------------------------------
def _create(
    backend: Any,
    subnet: Any,
    group_ids: list[str],
    managed: Managed,
    *,
    description: str,
    interface_type: str,
    requester_id: str,
    requester_managed: bool,
) -> Any:
    """An interface of ``backend``'s account in ``subnet`` (its own or shared with it)."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    # Built with the subnet owner's backend (which knows the VPC), then owned
    # by the requesting account: [VPC-SHARE] "Participants can create ...
    # network interfaces" in shared subnets, and they belong to the participant.
    eni = NetworkInterface(subnet.ec2_backend, subnet, free_address(subnet), description=description)
    eni.ec2_backend = backend
    eni._group_set = _find_groups(backend.region_name, group_ids)
    eni.interface_type = interface_type
    eni.requester_id = requester_id
    eni.requester_managed = requester_managed
    eni.status = "in-use"
    eni.__dict__["_emulator_managed"] = managed
    backend.enis[eni.id] = eni
    return eni


def _released(eni: Any) -> bool:
    managed = _managed(eni)
    if managed is None or managed.release is None:
        return False
    if managed.gone is not None and not managed.gone():
        return False
    return provisioning.done(managed.release)


def _purge(backend: Any) -> None:
    """Forget the interfaces that their service has deleted."""
    for eni_id, eni in list(backend.enis.items()):
        if _released(eni):
            backend.enis.pop(eni_id, None)


def settle(region: str) -> None:
    """Bring every account's service-managed interfaces in ``region`` up to date."""
    from moto.awslambda.models import lambda_backends

    from . import ec2 as ec2_ext

    with _LOCK:
        backends = _ec2_backends(region)
        for backend in backends:
            ec2_ext.settle(backend)  # interface VPC endpoints whose deletion has completed
        for backend in list(_existing(lambda_backends, region)):
            sync_lambda(backend.account_id, region)
        for backend in backends:
            _purge(backend)


# -- Lambda ------------------------------------------------------------------
def _lambda_requester(fn: Any) -> str:
    """RequesterId of a Lambda interface.

    Lambda creates the interface with the function's execution role ([LAMBDA-NW]:
    "Lambda uses permissions in your function's execution role to create and
    manage network interfaces"), so the requester is that role, not an AWS
    service: a published describe-network-interfaces output of a Lambda
    interface ("Finding AWS resources by IP address") shows "RequesterId":
    "<role ID>:<account ID>" and "RequesterManaged": false.
    """
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[fn.account_id]["aws"].get_role_by_arn(fn.role)
    except Exception:
        return fn.account_id
    return f"{role.id}:{fn.account_id}"


def _lambda_attachment() -> dict[str, Any]:
    # Hyperplane interfaces are attached by AWS: [TF-LAMBDA] waits on interfaces
    # whose Attachment.InstanceOwnerId is "amazon-aws"; the attachment IDs start
    # "ela-attach-" (aws-samples/aws-modern-application-workshop issue 56,
    # "ela-attach-e44a54d4"); DeviceIndex 1, not deleted on termination, as in
    # the published output cited in _lambda_requester.
    return {
        "AttachmentId": f"ela-attach-{_random_hex(8)}",
        "DeleteOnTermination": False,
        "DeviceIndex": 1,
        "InstanceOwnerId": "amazon-aws",
        "Status": "attached",
    }


def _lambda_combinations(account_id: str, region: str) -> dict[tuple, Any]:
    """(LAMBDA, subnet, groups) -> the first function using it, over every
    function and published version of the account ([LAMBDA-NW]: "Lambda only
    deletes the ENI if no other function (or published function version) is
    using that Hyperplane ENI")."""
    from moto.awslambda.models import lambda_backends

    account = dict.get(lambda_backends, account_id)
    backend = dict.get(account, region) if account is not None else None
    wanted: dict[tuple, Any] = {}
    if backend is None:
        return wanted
    for versions in list(backend._lambdas._functions.values()):
        for fn in [versions.get("latest"), *versions.get("versions", [])]:
            config = (fn._vpc_config or {}) if fn is not None else {}
            groups = tuple(sorted(config.get("SecurityGroupIds") or []))
            for subnet_id in config.get("SubnetIds") or []:
                wanted.setdefault((LAMBDA, subnet_id, groups), fn)
    return wanted


def sync_lambda(account_id: str, region: str) -> None:
    """Create the interfaces that the account's functions need and release the
    ones none of them uses any more (called after CreateFunction,
    UpdateFunctionConfiguration and DeleteFunction, and before any answer that
    depends on interfaces)."""
    with _LOCK:
        wanted = _lambda_combinations(account_id, region)
        existing = _ec2_if_any(account_id, region)
        if existing is None and not wanted:
            return
        backend = existing if existing is not None else _ec2(account_id, region)
        _purge(backend)
        have = {}
        for eni in list(backend.enis.values()):
            managed = _managed(eni)
            if managed is None or managed.service != LAMBDA:
                continue
            have[managed.key] = eni
            if managed.key in wanted:
                # Reused by a function of the same combination [LAMBDA-NW] (one
                # whose deletion is pending too; the guide does not say otherwise).
                managed.release = None
            elif managed.release is None:
                # [LAMBDA-NW] "When you update a function to remove its VPC
                # configuration, Lambda requires up to 20 minutes to delete the
                # attached Hyperplane ENI"; [TF-LAMBDA]: "AWS Lambda service team
                # confirms P99 deletion time of ~35 minutes", so Terraform waits
                # at least 45 minutes.  The interface stays in-use until then.
                managed.release = provisioning.start("lambda_eni_release")
        for key, fn in wanted.items():
            if key in have:
                continue
            subnet = _find_subnet(region, key[1])
            if subnet is None:
                continue
            _create(
                backend,
                subnet,
                list(key[2]),
                Managed(LAMBDA, key, attachment=_lambda_attachment()),
                description=LAMBDA_DESCRIPTION.format(name=fn.function_name, uuid=uuid.uuid4()),
                # InterfaceType "lambda": the published output cited in
                # _lambda_requester; botocore's NetworkInterfaceType enum has "lambda".
                interface_type="lambda",
                requester_id=_lambda_requester(fn),
                requester_managed=False,
            )


# -- RDS Proxy ---------------------------------------------------------------
def _owned(account_id: str, region: str, owner: tuple) -> list[Any]:
    backend = _ec2_if_any(account_id, region)
    if backend is None:
        return []
    return [
        eni
        for eni in list(backend.enis.values())
        if (managed := _managed(eni)) is not None and managed.service == RDS_PROXY and managed.key == owner
    ]


def provide_rds(account_id: str, region: str, owner: tuple, subnet_ids: list[str], group_ids: list[str]) -> None:
    """Interfaces for an RDS Proxy endpoint: one in each of its subnets, owned by
    the proxy's account (``owner`` is ("db-proxy", prx-id) for the default
    endpoint, ("db-proxy-endpoint", prx-endpoint-id) for a created one).

    One interface per subnet is the emulator's simplification; the RDS Proxy
    guide only bounds the number of IP addresses a proxy uses.  In a shared
    subnet the interface belongs to the proxy's account [VPC-SHARE]."""
    with _LOCK:
        backend = _ec2(account_id, region)
        for subnet_id in subnet_ids:
            subnet = _find_subnet(region, subnet_id)
            if subnet is None:
                continue
            attachment = {
                "AttachmentId": f"eni-attach-{_random_hex(17)}",
                "AttachTime": utcnow(),
                "DeleteOnTermination": False,
                "DeviceIndex": 1,
                "InstanceOwnerId": RDS_REQUESTER,
                "Status": "attached",
            }
            _create(
                backend,
                subnet,
                group_ids,
                Managed(RDS_PROXY, owner, attachment=attachment),
                description=RDS_DESCRIPTION,
                interface_type="interface",
                requester_id=RDS_REQUESTER,
                requester_managed=True,
            )


def regroup_rds(account_id: str, region: str, owner: tuple, group_ids: list[str]) -> None:
    """The security groups of a proxy or endpoint changed: so did its interfaces'."""
    with _LOCK:
        groups = _find_groups(region, group_ids)
        for eni in _owned(account_id, region, owner):
            eni._group_set = list(groups)


def release_rds(account_id: str, region: str, owner: tuple, gone: Callable[[], bool], delete_kind: str) -> None:
    """The proxy or endpoint is being deleted (``delete_kind`` times that).

    [EC2-RM] "When you delete the resource associated with a requester-managed
    network interface, the AWS service detaches the network interface and
    deletes it."  The interfaces outlive the resource by
    ``db_proxy_eni_release`` (no AWS figure: interfaces of other managed
    services "can take a while to go away (some minutes)", hashicorp/terraform
    issue 3758); they are never gone before the resource itself."""
    with _LOCK:
        for eni in _owned(account_id, region, owner):
            managed = _managed(eni)
            if managed.release is not None:
                continue
            managed.gone = gone
            seconds = SETTINGS.seconds(delete_kind) + SETTINGS.seconds("db_proxy_eni_release")
            managed.release = provisioning.start("db_proxy_eni_release", seconds)


# -- interface VPC endpoints ---------------------------------------------------
def adopt_endpoint(backend: Any, endpoint: Any) -> None:
    """moto's interfaces of an interface VPC endpoint, as AWS describes them.

    [EC2-RM], example output: "Description": "VPC Endpoint Interface
    vpce-089f2123488812123", "InterfaceType": "vpc_endpoint",
    "RequesterManaged": true, "Status": "in-use".  The endpoint's security
    groups are its interfaces' (AWS PrivateLink guide: the security groups "to
    associate with the endpoint network interfaces"), and their addresses come
    from their subnets (moto draws them from anywhere in 10.0.0.0/8)."""
    groups = _find_groups(backend.region_name, list(endpoint.security_group_ids or []))
    for eni_id in endpoint.network_interface_ids or []:
        eni = backend.enis.get(eni_id)
        if eni is None:
            continue
        eni.private_ip_address, eni.private_ip_addresses = None, []
        _assign(eni, free_address(eni.subnet))
        eni._group_set = list(groups)
        eni.description = f"VPC Endpoint Interface {endpoint.id}"
        eni.interface_type = "vpc_endpoint"
        eni.requester_managed = True
        eni.status = "in-use"
        eni.__dict__["_emulator_managed"] = Managed(VPC_ENDPOINT, (VPC_ENDPOINT, endpoint.id))


# -- what an account sees ----------------------------------------------------
def visible(backend: Any) -> list[Any]:
    """The interfaces ``backend``'s account sees: its own, and those that
    participants put in its shared subnets ([VPC-SHARE], "Owner resources":
    "VPC owners can view the details for the network interfaces and security
    groups that are attached to participant resources, to facilitate
    troubleshooting and auditing"; participants see only their own: they
    "cannot view, modify, or delete resources that belong to other
    participants or the VPC owner")."""
    settle(backend.region_name)
    own = list(backend.enis.values())
    others = [
        eni
        for other in _ec2_backends(backend.region_name)
        if other is not backend
        for eni in list(other.enis.values())
        if getattr(eni.subnet, "owner_id", None) == backend.account_id
    ]
    return own + others


def _filter(enis: list[Any], filters: dict[str, list[str]] | None) -> list[Any]:
    """DescribeNetworkInterfaces' filters.  A filter with several values
    matches any of them (EC2 API reference, "Filter"); moto's matching wants
    all the values of a list attribute such as group-id, so group-id and
    group-name are matched here."""
    from moto.ec2.utils import generic_filter

    filters = dict(filters or {})
    for name, attribute in (("group-id", "id"), ("group-name", "name")):
        values = filters.pop(name, None)
        if values:
            enis = [e for e in enis if {getattr(g, attribute) for g in e.group_set} & set(values)]
    return generic_filter(filters, enis) if filters else enis


# -- refusals ----------------------------------------------------------------
def _dependency(message: str):
    from moto.ec2.exceptions import DependencyViolationError

    return DependencyViolationError(message)


def check_security_group(region: str, group_id: str) -> None:
    # [CDK-14456]: "resource sg-04eb9b4569cb59608 has a dependent object
    # (... Error Code: DependencyViolation ...)"; VPC User Guide, "Delete a
    # security group": "The security group can't be associated with any resources."
    settle(region)
    if any(group_id in {g.id for g in eni.group_set} for eni in _all_interfaces(region)):
        raise _dependency(f"resource {group_id} has a dependent object")


def check_subnet(region: str, subnet_id: str) -> None:
    # [CDK-14456]: "The subnet 'subnet-0d544dc539aeafb80' has dependencies and
    # cannot be deleted."; [VPC-SHARE]: "If participants still have resources in
    # the unshared subnet, the owner cannot delete the shared subnet".
    settle(region)
    if any(eni.subnet.id == subnet_id for eni in _all_interfaces(region)):
        raise _dependency(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")


def check_vpc(backend: Any, vpc_id: str) -> None:
    # EC2 API reference, DeleteVpc: "you must terminate all instances running in
    # the VPC, delete all security groups associated with the VPC (except the
    # default one) ..."; [VPC-SHARE]: the owner cannot delete "the shared-subnet
    # VPC" while participants have resources in it (their security groups
    # included); message [CDK-14456]: "The vpc 'vpc-0df4c8403c967900a' has
    # dependencies and cannot be deleted."  (moto already refuses while the
    # VPC has subnets, with the same message.)
    region = backend.region_name
    settle(region)
    groups = [
        group
        for other in _ec2_backends(region)
        for group in list(other.groups.get(vpc_id, {}).values())
        if not (other is backend and group.is_default)
    ]
    interfaces = [eni for eni in _all_interfaces(region) if eni.subnet.vpc_id == vpc_id]
    if groups or interfaces:
        raise _dependency(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")


def _attachment(original):
    def attachment(self):
        managed = _managed(self)
        if managed is not None and managed.attachment is not None:
            return managed.attachment
        return original.fget(self)

    return property(attachment)


def _get_filter_value(original):
    def get_filter_value(self, filter_name, method_name=None):
        managed = _managed(self)
        if managed is not None and managed.attachment is not None and filter_name.startswith("attachment."):
            key = {
                "attachment.attachment-id": "AttachmentId",
                "attachment.instance-owner-id": "InstanceOwnerId",
                "attachment.status": "Status",
                "attachment.device-index": "DeviceIndex",
            }.get(filter_name)
            if key is not None:
                return managed.attachment[key]
        return original(self, filter_name, method_name)

    return get_filter_value


def _get_all_network_interfaces(self, eni_ids=None, filters=None):
    from moto.ec2.exceptions import InvalidNetworkInterfaceIdError

    enis = visible(self)
    if eni_ids:
        known = {eni.id for eni in enis}
        unknown = [i for i in eni_ids if i not in known]
        if unknown:
            raise InvalidNetworkInterfaceIdError(unknown[0])
        enis = [eni for eni in enis if eni.id in eni_ids]
    return _filter(enis, filters)


def _delete_network_interface(original):
    from moto.ec2.exceptions import EC2ClientError

    def delete_network_interface(self, eni_id):
        eni = self.enis.get(eni_id)
        if eni is not None and _managed(eni) is not None and not _released(eni) and eni.status == "in-use":
            # gruntwork-io/cloud-nuke issue 431: AWS answers "InvalidParameterValue:
            # Network interface 'eni-021048978ddd45189' is currently in use."
            raise EC2ClientError("InvalidParameterValue", f"Network interface '{eni_id}' is currently in use.")
        return original(self, eni_id)

    return delete_network_interface


def _detach_network_interface(original):
    from moto.ec2.exceptions import EC2ClientError

    def detach_network_interface(self, attachment_id):
        for eni in list(self.enis.values()):
            managed = _managed(eni)
            if managed is not None and managed.attachment and managed.attachment["AttachmentId"] == attachment_id:
                # [EC2-RM] "You can't detach a requester-managed network interface";
                # AWS answers OperationNotPermitted "You are not allowed to manage
                # 'ela-attach' attachments." (boto/boto3 issue 2219,
                # aws-samples/aws-modern-application-workshop issue 56); the same
                # wording is used for the "eni-attach" attachments of RDS.
                prefix = attachment_id.rsplit("-", 1)[0]
                raise EC2ClientError("OperationNotPermitted", f"You are not allowed to manage '{prefix}' attachments.")
        return original(self, attachment_id)

    return detach_network_interface


def _delete_security_group(original):
    def delete_security_group(self, name=None, group_id=None):
        group = self.get_security_group_from_id(group_id) if group_id else None
        if group is None and name and not group_id:
            group = self.get_security_group_by_name_or_id(name)
        if group is not None:
            check_security_group(self.region_name, group.id)
        return original(self, name, group_id)

    return delete_security_group


def _delete_subnet(original):
    def delete_subnet(self, subnet_id):
        if any(subnet_id in by_id for by_id in list(self.subnets.values())):
            check_subnet(self.region_name, subnet_id)
        return original(self, subnet_id)

    return delete_subnet


def _delete_vpc(original):
    def delete_vpc(self, vpc_id):
        if vpc_id in self.vpcs:
            if self.describe_subnets(filters={"vpc-id": vpc_id}):
                return original(self, vpc_id)  # moto's own refusal comes first
            check_vpc(self, vpc_id)
        return original(self, vpc_id)

    return delete_vpc


@patching.install_once
def install() -> None:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface, NetworkInterfaceBackend
    from moto.ec2.models.security_groups import SecurityGroupBackend
    from moto.ec2.models.subnets import SubnetBackend
    from moto.ec2.models.vpcs import VPCBackend

    patching.patch(NetworkInterface, "attachment", _attachment)
    patching.patch(NetworkInterface, "get_filter_value", _get_filter_value)
    patching.patch(NetworkInterfaceBackend, "get_all_network_interfaces", value=_get_all_network_interfaces)
    patching.patch(NetworkInterfaceBackend, "delete_network_interface", _delete_network_interface)
    patching.patch(NetworkInterfaceBackend, "detach_network_interface", _detach_network_interface)
    patching.patch(SecurityGroupBackend, "delete_security_group", _delete_security_group)
    patching.patch(SubnetBackend, "delete_subnet", _delete_subnet)
    patching.patch(VPCBackend, "delete_vpc", _delete_vpc)
