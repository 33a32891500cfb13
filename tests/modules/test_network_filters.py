"""The network filters the roles compute subnets with."""

from __future__ import annotations

import importlib.util

import pytest

from .stubbed import ROOT

_spec = importlib.util.spec_from_file_location("filter_network", ROOT / "filter_plugins" / "network.py")
network = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(network)


def test_subnets_go_to_zones_in_sorted_order_and_are_named_after_them():
    subnets = network.zone_subnets(
        ["10.0.0.0/26", "10.0.0.64/26"], ["eu-west-1c", "eu-west-1a", "eu-west-1b"], {"Deployment": "d"}, "db"
    )
    assert subnets == [
        {"cidr": "10.0.0.0/26", "az": "eu-west-1a", "tags": {"Deployment": "d", "Name": "db-eu-west-1a"}},
        {"cidr": "10.0.0.64/26", "az": "eu-west-1b", "tags": {"Deployment": "d", "Name": "db-eu-west-1b"}},
    ]


def test_the_name_tag_wins_over_a_name_in_the_common_tags():
    (subnet,) = network.zone_subnets(["10.0.0.0/26"], ["eu-west-1a"], {"Name": "other"}, "app")
    assert subnet["tags"] == {"Name": "app-eu-west-1a"}


def test_fewer_zones_than_subnets_is_an_error():
    with pytest.raises(ValueError, match="2 subnets need as many zones, got 1"):
        network.zone_subnets(["10.0.0.0/26", "10.0.0.64/26"], ["eu-west-1a"], None, "db")


def test_subnet_cidrs_split_the_block():
    assert network.subnet_cidrs("10.0.0.0/24", 3) == ["10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26"]
