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


# -- versions that age ---------------------------------------------------------
def create_cluster(rds, name: str, version: str | None) -> dict:
    kwargs = {"EngineVersion": version} if version else {}
    return rds.create_db_cluster(
        DBClusterIdentifier=name, Engine="aurora-postgresql", MasterUsername="postgres",
        MasterUserPassword="not-a-real-password", **kwargs,
    )["DBCluster"]  # fmt: skip


def cluster_version(rds, name: str) -> str:
    return rds.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["EngineVersion"]


def test_create_db_cluster_takes_offered_versions_and_resolves_a_major(aws):
    rds = aws.client("rds")
    assert create_cluster(rds, "exact", "16.4")["EngineVersion"] == "16.4"
    assert create_cluster(rds, "major", "17")["EngineVersion"] == "17.4"  # the major's default
    assert create_cluster(rds, "engine-default", None)["EngineVersion"] == "16.6"
    for version in ("16.99", "15.2", "99"):  # unknown, deprecated, unknown major
        with pytest.raises(ClientError) as info:
            create_cluster(rds, "refused", version)
        assert info.value.response["Error"]["Code"] == "InvalidParameterCombination"
        assert info.value.response["Error"]["Message"] == f"Cannot find version {version} for aurora-postgresql"


def test_a_retired_version_is_no_longer_offered_and_its_clusters_are_upgraded(aws):
    rds = aws.client("rds")
    create_cluster(rds, "aging", "16.6")
    aws.control.configure(retired_engine_versions=["16.6"])
    assert "16.6" not in versions(rds, Engine="aurora-postgresql")
    (retired,) = rds.describe_db_engine_versions(Engine="aurora-postgresql", EngineVersion="16.6", IncludeAll=True)[
        "DBEngineVersions"
    ]
    assert retired["Status"] == "deprecated"
    # The major's default moves to the newest minor still offered.
    assert versions(rds, Engine="aurora-postgresql", EngineVersion="16", DefaultOnly=True) == ["16.8"]
    with pytest.raises(ClientError) as info:
        create_cluster(rds, "too-late", "16.6")
    assert info.value.response["Error"]["Message"] == "Cannot find version 16.6 for aurora-postgresql"
    assert create_cluster(rds, "by-major", "16")["EngineVersion"] == "16.8"
    # Aurora upgraded the cluster that ran the retired version.
    assert cluster_version(rds, "aging") == "16.8"
    aws.control.configure(retired_engine_versions=[])
    assert cluster_version(rds, "aging") == "16.8"  # an upgrade is not undone


def test_the_control_api_upgrades_a_cluster_minor_version(aws):
    rds = aws.client("rds")
    create_cluster(rds, "maintained", "16.4")
    rds.create_db_instance(
        DBInstanceIdentifier="maintained-1", DBClusterIdentifier="maintained", Engine="aurora-postgresql",
        DBInstanceClass="db.serverless",
    )  # fmt: skip
    account = aws.account("database").account_id
    assert aws.control.upgrade_minor_version(account, aws.region, "maintained") == "16.8"
    assert cluster_version(rds, "maintained") == "16.8"
    instance = rds.describe_db_instances(DBInstanceIdentifier="maintained-1")["DBInstances"][0]
    assert instance["EngineVersion"] == "16.8"
    import urllib.error

    for version in ("17.4", "16.4"):  # another major; not newer
        with pytest.raises(urllib.error.HTTPError) as info:
            aws.control.upgrade_minor_version(account, aws.region, "maintained", version)
        assert info.value.code == 400
