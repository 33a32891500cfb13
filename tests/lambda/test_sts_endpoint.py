"""The STS endpoint the function calls: always the regional one, unless an endpoint URL is configured.

A VPC function without a route out reaches STS only through the VPC's interface endpoint, whose private DNS name is
``sts.<region>.amazonaws.com``. botocore resolves the global ``sts.amazonaws.com`` in the legacy-global regions
(eu-west-1 among them) when ``sts_regional_endpoints`` is ``legacy``: its default before 1.40.0, or set by
``AWS_STS_REGIONAL_ENDPOINTS`` or the config file. The resolution tests make no network call: the endpoint is read
from the client and from the request about to be sent, which a ``before-send`` handler stops.
"""

from __future__ import annotations

import os

import boto3
import botocore.configprovider
import connection_test
import pytest

from .support import CONNECT_ROLE_ARN

LEGACY_SOURCES = ["environment", "config file", "sdk default"]


class Sent(Exception):
    """Raised by the ``before-send`` handler instead of sending: carries the request's URL."""


def _stop_before_sending(request, **_) -> None:
    raise Sent(request.url)


def _config(region: str) -> connection_test.Config:
    return connection_test.Config(
        role_arn=CONNECT_ROLE_ARN,
        endpoint="app-db-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com",
        port=5432,
        user="lambda_user",
        dbname="example_db",
        region=region,
        ssl_root_cert=connection_test.DEFAULT_CA_BUNDLE,
    )


def _url_of_assume_role(region: str) -> tuple[str, str]:
    """The STS client's endpoint URL and the URL ``assume_role`` sends its request to (stopped before sending)."""
    client = connection_test._client("sts", region)
    client.meta.events.register("before-send.sts.AssumeRole", _stop_before_sending)
    with pytest.raises(Sent) as sent:
        connection_test.assume_role(_config(region))
    return client.meta.endpoint_url, str(sent.value)


@pytest.fixture
def fresh_sdk(monkeypatch, tmp_path):
    """No endpoint URL and no config file (an empty one), made-up credentials; the function's clients and session,
    and boto3's default session, are made anew from these settings (and put back afterwards)."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    config_file = tmp_path / "aws-config"
    config_file.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setattr(connection_test, "_clients", {})
    monkeypatch.setattr(connection_test, "_SESSION", None, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return config_file


def _set_legacy(source: str, config_file, monkeypatch) -> None:
    if source == "environment":
        monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    elif source == "config file":
        config_file.write_text("[default]\nsts_regional_endpoints = legacy\n")
    else:  # botocore before 1.40.0: legacy by default, for every session made from now on
        variables = botocore.configprovider.BOTOCORE_DEFAUT_SESSION_VARIABLES
        name, variable, _, convert = variables["sts_regional_endpoints"]
        monkeypatch.setitem(variables, "sts_regional_endpoints", (name, variable, "legacy", convert))


def test_legacy_setting_means_the_global_endpoint_to_botocore(fresh_sdk, monkeypatch):
    """The premise: with ``legacy``, a plain boto3 client in eu-west-1 calls the global endpoint."""
    _set_legacy("environment", fresh_sdk, monkeypatch)
    assert boto3.client("sts", region_name="eu-west-1").meta.endpoint_url == "https://sts.amazonaws.com"


@pytest.mark.parametrize("source", LEGACY_SOURCES)
@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1"])
def test_sts_is_regional_whatever_the_sdk_says(fresh_sdk, monkeypatch, source, region):
    _set_legacy(source, fresh_sdk, monkeypatch)
    endpoint_url, sent_to = _url_of_assume_role(region)
    assert endpoint_url == f"https://sts.{region}.amazonaws.com"
    assert sent_to == f"https://sts.{region}.amazonaws.com/"


def test_sts_is_regional_in_another_partition(fresh_sdk, monkeypatch):
    _set_legacy("environment", fresh_sdk, monkeypatch)
    assert _url_of_assume_role("cn-north-1") == (
        "https://sts.cn-north-1.amazonaws.com.cn",
        "https://sts.cn-north-1.amazonaws.com.cn/",
    )


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"])
def test_a_configured_endpoint_url_still_wins(fresh_sdk, monkeypatch, variable):
    _set_legacy("environment", fresh_sdk, monkeypatch)
    monkeypatch.setenv(variable, "http://127.0.0.1:4566")
    assert _url_of_assume_role("eu-west-1") == ("http://127.0.0.1:4566", "http://127.0.0.1:4566/")


def test_an_endpoint_url_in_the_config_file_still_wins(fresh_sdk, monkeypatch):
    fresh_sdk.write_text("[default]\nsts_regional_endpoints = legacy\nendpoint_url = http://127.0.0.1:4566\n")
    assert _url_of_assume_role("eu-west-1") == ("http://127.0.0.1:4566", "http://127.0.0.1:4566/")


def test_assume_role_through_the_sts_endpoint_override(function_env, sts, monkeypatch):
    """End to end: with only ``AWS_ENDPOINT_URL_STS`` pointing at the emulator (and ``legacy`` set), the role is
    assumed there."""
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    credentials = connection_test.assume_role(connection_test.load_config(os.environ))
    assert credentials.access_key_id != sts.account("application-a").access_key_id
    assert [entry["action"] for entry in sts.control.requests()] == ["AssumeRole"]
