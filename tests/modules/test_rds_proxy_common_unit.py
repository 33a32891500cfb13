"""What rds_proxy and rds_proxy_endpoint do alike through module_utils/rds_proxy_common, checked for both:
the calls of state=absent, and the messages that name a call that failed."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from .stubbed import ACCOUNT, failure, load_module, run, succeeded

NAME = "app"
ABSENT = {"name": NAME, "state": "absent", "wait_delay": 1}
ARN = f"arn:aws:rds:eu-west-1:{ACCOUNT}:db-proxy:prx-0123456789abcdef0"


class Kind(NamedTuple):
    module: object
    noun: str
    keys: tuple  # of the name and the ARN
    missing: str  # the error code of one not found
    describe: tuple  # the client's method, the operation, the list it returns
    delete: tuple  # the client's method, the operation


KINDS = {
    "proxy": Kind(load_module("rds_proxy"), "DB proxy", ("DBProxyName", "DBProxyArn"), "DBProxyNotFoundFault",
                  ("describe_db_proxies", "DescribeDBProxies", "DBProxies"), ("delete_db_proxy", "DeleteDBProxy")),
    "endpoint": Kind(load_module("rds_proxy_endpoint"), "DB proxy endpoint",
                     ("DBProxyEndpointName", "DBProxyEndpointArn"), "DBProxyEndpointNotFoundFault",
                     ("describe_db_proxy_endpoints", "DescribeDBProxyEndpoints", "DBProxyEndpoints"),
                     ("delete_db_proxy_endpoint", "DeleteDBProxyEndpoint")),
}  # fmt: skip


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    return KINDS[request.param]


def describe(stubs, kind, status="available"):
    (name_key, arn_key), (operation, _, listed) = kind.keys, kind.describe
    found = {name_key: NAME, arn_key: ARN, "DBProxyName": NAME, "Status": status}
    stubs.add("rds", operation, {listed: [found]}, {name_key: NAME})
    stubs.add("rds", "list_tags_for_resource", {"TagList": []}, {"ResourceName": ARN})


def test_one_gone_by_the_time_of_its_delete_counts_as_deleted(stubs, kind):
    describe(stubs, kind)
    stubs.error("rds", kind.delete[0], kind.missing, expected={kind.keys[0]: NAME})
    stubs.error("rds", kind.describe[0], kind.missing, expected={kind.keys[0]: NAME})
    assert succeeded(run(kind.module, ABSENT, stubs))["changed"] is True


def test_a_failed_describe_names_the_call(stubs, kind):
    stubs.error("rds", kind.describe[0], "AccessDenied", "not allowed", 403)
    message = failure(run(kind.module, ABSENT, stubs), "AccessDenied")
    assert message.startswith(f"Failed to describe {kind.noun} {NAME} ({kind.describe[1]}): ")


def test_a_failed_delete_names_the_call(stubs, kind):
    describe(stubs, kind)
    stubs.error("rds", kind.delete[0], "AccessDenied", "not allowed", 403)
    message = failure(run(kind.module, ABSENT, stubs), "AccessDenied")
    assert message.startswith(f"Failed to delete {kind.noun} {NAME} ({kind.delete[1]}): ")
