"""Lambda: function states, update statuses, VPC configuration, Invoke.

moto creates every function ``Active`` with its last update ``Successful``
and reports ``VpcId`` as a constant.  Following AWS:

- ``CreateFunction`` with a ``VpcConfig`` that names subnets answers
  ``State: Pending`` (``StateReasonCode: Creating``); the function becomes
  ``Active`` after the provisioning time ``lambda_vpc``.  Functions without
  a VPC are ``Active`` at once.
- ``UpdateFunctionCode`` and ``UpdateFunctionConfiguration`` set
  ``LastUpdateStatus: InProgress``; it becomes ``Successful`` after
  ``lambda_update`` (``lambda_vpc`` when the update attaches the function to
  a VPC).  botocore's waiters ``function_active_v2`` and
  ``function_updated_v2`` therefore wait as on AWS.
- While a function is ``Pending`` or an update is in progress, updates and
  ``Invoke`` fail with ``ResourceConflictException`` (HTTP 409), as on AWS.
- ``VpcConfig``: the subnets (own or shared with the account) and security
  groups must exist (``InvalidParameterValueException`` with the EC2 error,
  as Lambda reports it); ``VpcId`` is the subnets' VPC.  The function's
  Hyperplane network interfaces are kept by
  :func:`emulator.ext.network_interfaces.sync_lambda` after each create,
  configuration update and delete.
- **The execution role** must exist in the function's account, trust
  ``lambda.amazonaws.com`` and have propagated through IAM (a role created
  or changed seconds ago is refused: ``emulator/ext/iam_roles.py``);
  otherwise ``CreateFunction`` and ``UpdateFunctionConfiguration`` answer
  ``InvalidParameterValueException`` "The role defined for the function
  cannot be assumed by Lambda." (aws-cli issue 7700, apex/up issue 189).  A
  function in a VPC needs ``ec2:CreateNetworkInterface``,
  ``ec2:DescribeNetworkInterfaces`` and ``ec2:DeleteNetworkInterface``
  (Lambda Developer Guide, "Giving Lambda functions access to resources in an
  Amazon VPC": the AWSLambdaVPCAccessExecutionRole policy); without them
  Lambda answers "The provided execution role does not have permissions to
  call CreateNetworkInterface on EC2".
- Emulator-only: the tag ``emulator:state`` with a ``StateReasonCode`` of
  AWS's list (``SubnetOutOfIPAddresses``, ``InvalidSecurityGroup``,
  ``EniLimitExceeded``, ...) makes the function's creation end ``State:
  Failed`` with that code instead of ``Active``, so that waits on failure can
  be tested.  AWS gives this tag no meaning.
- ``Invoke`` runs the function's code (``emulator/dataplane/functions.py``):
  its zip and layers as uploaded, the runtime's interpreter, the execution
  role's credentials, inside the function's network namespace
  (``emulator/dataplane/network.py``), in execution environments kept warm
  between invocations; the answer is Lambda's (result, ``Unhandled`` errors,
  timeouts, ``LogType: Tail``, ``DryRun`` 204, ``Event`` 202).  The header
  ``X-Emulator-Interpreter`` names the interpreter that ran.  When the code
  cannot run here (the data plane is off, no network namespace can be made,
  a runtime other than Python's), a synchronous invocation answers HTTP 200
  with ``X-Amz-Function-Error: Unhandled`` and the payload
  ``{"errorType": "EmulatorCannotRunCode", "errorMessage": "... Reason:
  <why>"}``; ``Event`` answers 202 (accepted, never run).  Nothing pretends
  the code ran.  ``UpdateFunctionCode``, ``UpdateFunctionConfiguration`` and
  ``DeleteFunction`` end the function's warm environments, as on AWS.

With ``delay_scale`` 0 every transition is immediate.
"""

from __future__ import annotations

from typing import Any

from .. import patching, provisioning
from ..dataplane import functions, network
from ..dataplane.functions import NOT_RUN_ERROR as NOT_RUN_ERROR
from ..dataplane.functions import NOT_RUN_MESSAGE as NOT_RUN_MESSAGE
from . import iam_roles, network_interfaces

LAMBDA_SERVICE = "lambda.amazonaws.com"
ROLE_REFUSED = "The role defined for the function cannot be assumed by Lambda."
ENI_PERMISSIONS_MISSING = "The provided execution role does not have permissions to call CreateNetworkInterface on EC2"
# What Lambda needs to manage a function's network interfaces (AWSLambdaVPCAccessExecutionRole).
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface")
STATE_TAG = "emulator:state"
# StateReasonCode values of a Failed function (Lambda API reference, FunctionConfiguration).
FAILURE_REASON_CODES = (
    "EniLimitExceeded",
    "InsufficientRolePermissions",
    "InvalidConfiguration",
    "InternalError",
    "SubnetOutOfIPAddresses",
    "InvalidSubnet",
    "InvalidSecurityGroup",
)


def _pending(fn: Any) -> bool:
    return not provisioning.done(fn.__dict__.get("_emulator_active_at"))


def _updating(fn: Any) -> bool:
    return not provisioning.done(fn.__dict__.get("_emulator_updated_at"))


def _subnet_ids(vpc_config: dict[str, Any] | None) -> list[str]:
    return list((vpc_config or {}).get("SubnetIds") or [])


def _conflict(message: str):
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError("ResourceConflictException", message)
    error.code = 409
    return error


def _check_ready(fn: Any) -> None:
    if _pending(fn):
        raise _conflict(
            "The operation cannot be performed at this time. The function is currently in the following state: Pending"
        )
    if _updating(fn):
        raise _conflict(
            f"The operation cannot be performed at this time. An update is in progress for resource: {fn.function_arn}"
        )


def _validate_vpc_config(account_id: str, region: str, vpc_config: dict[str, Any] | None) -> None:
    from moto.awslambda.exceptions import InvalidParameterValueException
    from moto.ec2.models import ec2_backends

    from . import sharing

    for subnet_id in _subnet_ids(vpc_config):
        if sharing.find_subnet(account_id, region, subnet_id) is None:
            raise InvalidParameterValueException(
                "Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. "
                f"EC2 Error Message: The subnet ID '{subnet_id}' does not exist"
            )
    ec2 = ec2_backends[account_id][region]
    for group_id in (vpc_config or {}).get("SecurityGroupIds") or []:
        if ec2.get_security_group_from_id(group_id) is None:
            raise InvalidParameterValueException(
                "Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
                f"EC2 Error Message: The security group '{group_id}' does not exist"
            )


def _check_role(account_id: str, role_arn: str | None, vpc_config: dict[str, Any] | None) -> None:
    from moto.awslambda.exceptions import InvalidParameterValueException

    if iam_roles.service_problem(account_id, role_arn, LAMBDA_SERVICE) is not None:
        raise InvalidParameterValueException(ROLE_REFUSED)
    role = iam_roles.find_role(account_id, role_arn)
    if _subnet_ids(vpc_config) and not all(iam_roles.allows(role, action) for action in VPC_ACTIONS):
        raise InvalidParameterValueException(ENI_PERMISSIONS_MISSING)


def _failure_code(tags: dict[str, str] | None) -> str | None:
    """The failure the emulator-only tag asks for, if any."""
    from moto.awslambda.exceptions import InvalidParameterValueException

    code = (tags or {}).get(STATE_TAG)
    if code is not None and code not in FAILURE_REASON_CODES:
        raise InvalidParameterValueException(f"Tag {STATE_TAG} must be one of: {', '.join(FAILURE_REASON_CODES)}.")
    return code


def _vpc_config(self) -> dict[str, Any] | None:
    from . import sharing

    if not self._vpc_config:
        return None
    config = {
        "SubnetIds": _subnet_ids(self._vpc_config),
        "SecurityGroupIds": list(self._vpc_config.get("SecurityGroupIds") or []),
        "VpcId": "",
        "Ipv6AllowedForDualStack": bool(self._vpc_config.get("Ipv6AllowedForDualStack", False)),
    }
    if config["SubnetIds"]:
        subnet = sharing.find_subnet(self.account_id, self.region, config["SubnetIds"][0])
        config["VpcId"] = subnet.vpc_id if subnet is not None else ""
    return config


def _in_progress(config: dict[str, Any]) -> dict[str, Any]:
    config["LastUpdateStatus"] = "InProgress"
    config["LastUpdateStatusReason"] = "The function is being updated."
    return config


def _init(original: Any) -> Any:
    def __init__(self, account_id, spec, region, version=1):
        _validate_vpc_config(account_id, region, spec.get("VpcConfig"))
        _check_role(account_id, spec.get("Role"), spec.get("VpcConfig"))
        failure = _failure_code(spec.get("Tags"))
        original(self, account_id, spec, region, version)
        self._emulator_failure = failure
        if _subnet_ids(spec.get("VpcConfig")):
            self._emulator_active_at = provisioning.start("lambda_vpc")

    return __init__


def _get_configuration(original: Any) -> Any:
    def get_configuration(self, on_create: bool = False) -> dict[str, Any]:
        config = original(self, on_create)
        if _pending(self):
            config["State"] = "Pending"
            config["StateReason"] = "The function is being created."
            config["StateReasonCode"] = "Creating"
            config.pop("LastUpdateStatus", None)
        elif self.__dict__.get("_emulator_failure"):
            code = self._emulator_failure
            config["State"] = "Failed"
            config["StateReason"] = f"The function could not be created ({code}; emulator:state tag)."
            config["StateReasonCode"] = code
            config.pop("LastUpdateStatus", None)
        elif _updating(self):
            _in_progress(config)
        if config.get("VpcConfig") is None:
            config.pop("VpcConfig", None)
        return config

    return get_configuration


def _update_function_code(original: Any) -> Any:
    def update_function_code(self, function_name, qualifier, body):
        fn = self.get_function(function_name, qualifier)
        _check_ready(fn)
        result = original(self, function_name, qualifier, body)
        if body.get("DryRun"):
            return result
        functions.release(fn)  # new code: the warm environments end, as on AWS
        fn._emulator_updated_at = provisioning.start("lambda_update")
        return _in_progress(result) if isinstance(result, dict) and _updating(fn) else result

    return update_function_code


def _update_function_configuration(original: Any) -> Any:
    def update_function_configuration(self, function_name, qualifier, body):
        fn = self.get_function(function_name, qualifier)
        _check_ready(fn)
        if "VpcConfig" in body:
            _validate_vpc_config(fn.account_id, fn.region, body["VpcConfig"])
        if "VpcConfig" in body or "Role" in body:
            _check_role(fn.account_id, body.get("Role", fn.role), body.get("VpcConfig", fn._vpc_config))
        attaches = bool(_subnet_ids(body.get("VpcConfig"))) and not _subnet_ids(fn._vpc_config)
        result = original(self, function_name, qualifier, body)
        functions.release(fn)  # a new configuration: the warm environments end, as on AWS
        network_interfaces.sync_lambda(fn.account_id, fn.region)
        fn._emulator_updated_at = provisioning.start("lambda_vpc" if attaches else "lambda_update")
        return _in_progress(result) if isinstance(result, dict) and _updating(fn) else result

    return update_function_configuration


def _create_function(original: Any) -> Any:
    def create_function(self, spec):
        fn = original(self, spec)
        network_interfaces.sync_lambda(self.account_id, self.region_name)
        return fn

    return create_function


def _delete_function(original: Any) -> Any:
    def delete_function(self, function_name, qualifier=None):
        fn = self.get_function(function_name, qualifier)
        # Without a qualifier (as moto reads it: argument, "name:qualifier" or a qualified ARN) every version goes.
        whole = not qualifier and ":" not in function_name.split(":function:")[-1]
        gone = [fn, *self._lambdas._functions.get(fn.function_name, {}).get("versions", [])] if whole else [fn]
        original(self, function_name, qualifier)
        for version in gone:
            functions.release(version)
        if whole:
            network.release(fn)  # the function's network namespace (its interfaces linger, network_interfaces)
        network_interfaces.sync_lambda(self.account_id, self.region_name)

    return delete_function


def _invoke(original: Any) -> Any:
    def invoke(self, function_name, qualifier, body, headers, response_headers):
        fn = self.get_function(function_name, qualifier)
        _check_ready(fn)
        return original(self, function_name, qualifier, body, headers, response_headers)

    return invoke


def _invoke_function(self, body, request_headers, response_headers) -> bytes:
    from moto.awslambda.exceptions import LambdaClientError

    try:
        answer = functions.invoke(
            self,
            body,
            request_headers.get("x-amz-invocation-type") or "RequestResponse",
            request_headers.get("x-amz-log-type"),
        )
    except functions.InvokeRefused as refused:
        error = LambdaClientError(refused.code, refused.message)
        error.code = refused.status
        raise error from None
    response_headers["x-emulator-interpreter"] = answer.interpreter
    # Lambda API reference, "Invoke": X-Amz-Executed-Version, the version that ran.
    response_headers["x-amz-executed-version"] = str(getattr(self, "version", None) or "$LATEST")
    if answer.function_error:
        response_headers["x-amz-function-error"] = answer.function_error
    if answer.log_result is not None:
        response_headers["x-amz-log-result"] = answer.log_result
    return answer.payload


@patching.install_once
def install() -> None:
    from moto.awslambda.models import LambdaBackend, LambdaFunction

    patching.patch(LambdaFunction, "__init__", _init)
    patching.patch(LambdaFunction, "get_configuration", _get_configuration)
    patching.patch(LambdaFunction, "vpc_config", value=property(_vpc_config))
    patching.patch(LambdaFunction, "invoke", value=_invoke_function)
    patching.patch(LambdaBackend, "create_function", _create_function)
    patching.patch(LambdaBackend, "delete_function", _delete_function)
    patching.patch(LambdaBackend, "update_function_code", _update_function_code)
    patching.patch(LambdaBackend, "update_function_configuration", _update_function_configuration)
    patching.patch(LambdaBackend, "invoke", _invoke)
