# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waiter models for the statuses of RDS Proxy and AWS RAM resources and of
VPC flow log delivery, which botocore has none for, and a helper that runs one of them and fails the module
with the status the resource ended in (a failure status is not a timeout), for as long as the module's
wait options (wait_options) say.

Each model retries on throttling and server errors, as the waiters of
amazon.aws do, so that a busy API does not end a wait early.
"""

import copy
import math

try:
    import botocore.waiter as core_waiter
    from botocore import xform_name
    from botocore.exceptions import WaiterError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

# Error codes that mean "ask again later" across the query and JSON protocols.
TRANSIENT_ERROR_CODES = (
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
)

# Statuses in which a proxy or proxy endpoint stays until someone acts.
DB_PROXY_FAILURE_STATUSES = ("incompatible-network", "insufficient-resource-limits", "suspended")
DB_PROXY_ENDPOINT_FAILURE_STATUSES = ("incompatible-network", "insufficient-resource-limits")


def _failure(argument, statuses):
    return [{"state": "failure", "matcher": "pathAny", "argument": argument, "expected": s} for s in statuses]


_WAITERS = {
    "DBProxyAvailable": {
        "operation": "DescribeDBProxies",
        "delay": 15,
        "maxAttempts": 60,
        "acceptors": [
            {"state": "success", "matcher": "pathAll", "argument": "DBProxies[].Status", "expected": "available"},
            *_failure("DBProxies[].Status", DB_PROXY_FAILURE_STATUSES),
            {"state": "retry", "matcher": "error", "expected": "DBProxyNotFoundFault"},
        ],
    },
    "DBProxyDeleted": {
        "operation": "DescribeDBProxies",
        "delay": 15,
        "maxAttempts": 60,
        "acceptors": [
            {"state": "success", "matcher": "error", "expected": "DBProxyNotFoundFault"},
            {"state": "success", "matcher": "path", "argument": "length(DBProxies) == `0`", "expected": True},
        ],
    },
    "DBProxyTargetsAvailable": {
        "operation": "DescribeDBProxyTargets",
        "delay": 15,
        "maxAttempts": 60,
        "acceptors": [
            {
                "state": "success",
                "matcher": "pathAll",
                "argument": "Targets[].TargetHealth.State",
                "expected": "AVAILABLE",
            },
        ],
    },
    "DBProxyEndpointAvailable": {
        "operation": "DescribeDBProxyEndpoints",
        "delay": 15,
        "maxAttempts": 60,
        "acceptors": [
            {
                "state": "success",
                "matcher": "pathAll",
                "argument": "DBProxyEndpoints[].Status",
                "expected": "available",
            },
            *_failure("DBProxyEndpoints[].Status", DB_PROXY_ENDPOINT_FAILURE_STATUSES),
            {"state": "retry", "matcher": "error", "expected": "DBProxyEndpointNotFoundFault"},
        ],
    },
    "DBProxyEndpointDeleted": {
        "operation": "DescribeDBProxyEndpoints",
        "delay": 15,
        "maxAttempts": 60,
        "acceptors": [
            {"state": "success", "matcher": "error", "expected": "DBProxyEndpointNotFoundFault"},
            {"state": "success", "matcher": "path", "argument": "length(DBProxyEndpoints) == `0`", "expected": True},
        ],
    },
    # The master user secret RDS manages (ManageMasterUserPassword): SecretStatus "creating | active | rotating |
    # impaired"; impaired "remains impaired until the next rotation" (RDS API reference, MasterUserSecret).
    "DBClusterMasterUserSecretActive": {
        "operation": "DescribeDBClusters",
        "delay": 15,
        "maxAttempts": 60,
        "acceptors": [
            {
                "state": "success",
                "matcher": "path",
                "argument": (
                    "length(DBClusters[?Status=='available' && MasterUserSecret.SecretStatus=='active'])"
                    " == length(DBClusters)"
                ),
                "expected": True,
            },
            {
                "state": "failure",
                "matcher": "pathAny",
                "argument": "DBClusters[].MasterUserSecret.SecretStatus",
                "expected": "impaired",
            },
        ],
    },
    # VPC Flow Logs: delivering to its destination (VPC User Guide, "Troubleshoot VPC Flow Logs": FAILED with
    # "Access error" while the delivery role cannot be used).
    "FlowLogDelivering": {
        "operation": "DescribeFlowLogs",
        "delay": 5,
        "maxAttempts": 60,
        "acceptors": [
            {
                "state": "success",
                "matcher": "pathAll",
                "argument": "FlowLogs[].DeliverLogsStatus",
                "expected": "SUCCESS",
            },
        ],
    },
    "ResourceShareActive": {
        "operation": "GetResourceShares",
        "delay": 5,
        "maxAttempts": 60,
        "acceptors": [
            {"state": "success", "matcher": "pathAll", "argument": "resourceShares[].status", "expected": "ACTIVE"},
            {"state": "failure", "matcher": "pathAny", "argument": "resourceShares[].status", "expected": "FAILED"},
        ],
    },
    "ResourceShareDeleted": {
        "operation": "GetResourceShares",
        "delay": 5,
        "maxAttempts": 60,
        "acceptors": [
            {"state": "success", "matcher": "path", "argument": "length(resourceShares) == `0`", "expected": True},
            {"state": "success", "matcher": "pathAll", "argument": "resourceShares[].status", "expected": "DELETED"},
            {"state": "failure", "matcher": "pathAny", "argument": "resourceShares[].status", "expected": "FAILED"},
        ],
    },
    # Settled: no association is on its way in or out; one that FAILED ends the wait.
    "ResourceShareAssociationsSettled": {
        "operation": "GetResourceShareAssociations",
        "delay": 5,
        "maxAttempts": 60,
        "acceptors": [
            {
                "state": "failure",
                "matcher": "pathAny",
                "argument": "resourceShareAssociations[].status",
                "expected": "FAILED",
            },
            {
                "state": "success",
                "matcher": "path",
                "argument": (
                    "length(resourceShareAssociations[?status=='ASSOCIATING' || status=='DISASSOCIATING']) == `0`"
                ),
                "expected": True,
            },
        ],
    },
}


def _with_transient_retries(waiters):
    waiters = copy.deepcopy(waiters)
    for waiter in waiters.values():
        waiter["acceptors"].extend(
            {"state": "retry", "matcher": "error", "expected": code} for code in TRANSIENT_ERROR_CODES
        )
    return {"version": 2, "waiters": waiters}


WAITER_MODELS = _with_transient_retries(_WAITERS)


def _raw_client(client):
    return client.client if isinstance(client, RetryingBotoClientWrapper) else client


def get_waiter(client, name):
    """A botocore waiter for one of the models above, bound to ``client``."""
    config = core_waiter.WaiterModel(WAITER_MODELS).get_waiter(name)
    operation = getattr(_raw_client(client), xform_name(config.operation))
    return core_waiter.Waiter(name, config, core_waiter.NormalizedOperationMethod(operation))


def max_attempts(timeout, delay):
    """Polls that fit in ``timeout`` seconds at one poll every ``delay`` seconds (at least one)."""
    return max(1, math.ceil(float(timeout) / float(delay)) + 1)


def wait_options(wait_timeout, wait_delay):
    """The options of a module that waits with wait_for: wait, and wait_timeout and wait_delay (seconds) with
    these defaults."""
    return dict(
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=wait_timeout),
        wait_delay=dict(type="float", default=wait_delay),
    )


def check_wait_options(module):
    if module.params["wait_delay"] <= 0 or module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_delay must be positive and wait_timeout not negative")


def wait_for(module, client, name, what, status_of, **params):
    """Wait with waiter ``name`` until ``what`` reaches its expected status, polling
    every ``wait_delay`` seconds for up to ``wait_timeout`` seconds (the module's options).

    ``status_of(response)`` names the status seen in the last response (for
    the failure message).  The module fails:
    - with the status when the resource reaches a failure status;
    - with the AWS error code and operation when the describe call fails;
    - with the last status seen when ``wait_timeout`` seconds pass.
    """
    timeout, delay = module.params["wait_timeout"], module.params["wait_delay"]
    waiter = get_waiter(client, name)
    operation = waiter.config.operation
    try:
        waiter.wait(WaiterConfig={"Delay": delay, "MaxAttempts": max_attempts(timeout, delay)}, **params)
    except WaiterError as e:
        response = e.last_response or {}
        error = response.get("Error")
        if error:
            module.fail_json(
                msg=f"{operation} failed while waiting for {what}: {error.get('Code')}: {error.get('Message')}",
                error=error,
                operation=operation,
            )
        status = status_of(response)
        if "terminal failure state" in str(e):
            module.fail_json(msg=f"{what} is in status {status!r}; it will not become ready by waiting", status=status)
        module.fail_json(
            msg=f"Timed out after {timeout} seconds waiting for {what} (last status: {status})", status=status
        )
