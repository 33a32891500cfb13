"""DescribeDBEngineVersions for Aurora PostgreSQL."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def rds(emulator):
    """An RDS client; engine versions hold no state, so no reset is needed."""
    emulator.control.configure(fault_rate=0)
    return emulator.client("rds")


def versions(rds, **kwargs) -> list[str]:
    return [v["EngineVersion"] for v in rds.describe_db_engine_versions(**kwargs)["DBEngineVersions"]]


def test_lists_available_aurora_postgresql_versions(rds):
    listed = versions(rds, Engine="aurora-postgresql")
    assert {"13.20", "14.17", "15.12", "16.4", "16.6", "17.4"} <= set(listed)
    assert "15.2" not in listed  # deprecated
    assert versions(rds) == listed


def test_version_shape(rds):
    (version,) = rds.describe_db_engine_versions(Engine="aurora-postgresql", EngineVersion="16.4")["DBEngineVersions"]
    assert version["Engine"] == "aurora-postgresql"
    assert version["MajorEngineVersion"] == "16"
    assert version["DBParameterGroupFamily"] == "aurora-postgresql16"
    assert version["Status"] == "available"
    assert version["SupportedEngineModes"] == ["provisioned"]
    assert version["SupportsReadReplica"] is False
    assert version["SupportsGlobalDatabases"] is True
    assert "postgresql" in version["ExportableLogTypes"]
    assert version["ServerlessV2FeaturesSupport"] == {"MinCapacity": 0.0, "MaxCapacity": 256.0}
    targets = {t["EngineVersion"]: t for t in version["ValidUpgradeTarget"]}
    assert targets["16.6"]["IsMajorVersionUpgrade"] is False
    assert targets["17.4"]["IsMajorVersionUpgrade"] is True
    assert "16.3" not in targets


def test_deprecated_versions_need_include_all_or_a_status_filter(rds):
    assert versions(rds, Engine="aurora-postgresql", EngineVersion="15.2") == []
    (deprecated,) = rds.describe_db_engine_versions(Engine="aurora-postgresql", EngineVersion="15.2", IncludeAll=True)[
        "DBEngineVersions"
    ]
    assert deprecated["Status"] == "deprecated"
    only_deprecated = versions(rds, Filters=[{"Name": "status", "Values": ["deprecated"]}])
    assert "15.2" in only_deprecated
    assert "16.6" not in only_deprecated


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"EngineVersion": "99.1"}, []),
        ({"EngineVersion": "16"}, ["16.1", "16.3", "16.4", "16.6", "16.8"]),
        ({"DBParameterGroupFamily": "aurora-postgresql17"}, ["17.4", "17.5"]),
        ({"DefaultOnly": True}, ["16.6"]),
        ({"EngineVersion": "15", "DefaultOnly": True}, ["15.10"]),
        ({"Filters": [{"Name": "engine-version", "Values": ["16.4", "17.4"]}]}, ["16.4", "17.4"]),
        ({"Filters": [{"Name": "db-parameter-group-family", "Values": ["aurora-postgresql13"]}]}, None),
        ({"Filters": [{"Name": "engine-mode", "Values": ["serverless"]}]}, []),
        ({"Filters": [{"Name": "engine", "Values": ["aurora-postgresql"]}], "EngineVersion": "17.5"}, ["17.5"]),
    ],
)
def test_parameters_and_filters(rds, kwargs, expected):
    listed = versions(rds, Engine="aurora-postgresql", **kwargs)
    if expected is None:
        assert listed and all(v.startswith("13.") for v in listed)
    else:
        assert listed == expected


def test_other_engines_answer_an_empty_list(rds):
    assert versions(rds, Engine="mysql") == []
    assert versions(rds, Filters=[{"Name": "engine", "Values": ["postgres"]}]) == []


def test_unknown_filter_is_rejected(rds):
    with pytest.raises(ClientError) as excinfo:
        rds.describe_db_engine_versions(Filters=[{"Name": "colour", "Values": ["blue"]}])
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_paginates(rds):
    pages = list(rds.get_paginator("describe_db_engine_versions").paginate(PaginationConfig={"PageSize": 20}))
    assert len(pages) == 2
    assert [v for p in pages for v in p["DBEngineVersions"]] == rds.describe_db_engine_versions()["DBEngineVersions"]
