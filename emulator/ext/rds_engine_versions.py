"""DescribeDBEngineVersions for Aurora PostgreSQL.

The list holds recent Aurora PostgreSQL releases, 13 to 17, a few older minor
versions among them marked ``deprecated``.  Other engines answer an empty
list, and so does an unknown version, as AWS does.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import InvalidParameterValue
from moto.rds.responses import RDSResponse

from .rds_common import page, request_params

ENGINE = "aurora-postgresql"
DEPRECATED = "deprecated"
# Version -> status, oldest first.
VERSIONS: dict[str, str] = {
    "13.9": DEPRECATED,
    "13.12": "available",
    "13.15": "available",
    "13.16": "available",
    "13.18": "available",
    "13.20": "available",
    "14.6": DEPRECATED,
    "14.9": "available",
    "14.12": "available",
    "14.13": "available",
    "14.15": "available",
    "14.17": "available",
    "15.2": DEPRECATED,
    "15.4": "available",
    "15.7": "available",
    "15.8": "available",
    "15.10": "available",
    "15.12": "available",
    "16.1": "available",
    "16.3": "available",
    "16.4": "available",
    "16.6": "available",
    "16.8": "available",
    "17.4": "available",
    "17.5": "available",
}
DEFAULT_VERSION = "16.6"  # default of the engine
MAJOR_DEFAULTS = {"13": "13.18", "14": "14.15", "15": "15.10", "16": "16.6", "17": "17.4"}
# First minor version of each major that scales Serverless v2 down to 0 ACU.
ZERO_CAPACITY_FROM = {"13": 15, "14": 12, "15": 7, "16": 3, "17": 4}
CA_CERTIFICATES = ["rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"]
FEATURES = ["Bedrock", "Comprehend", "Lambda", "s3Export", "s3Import", "SageMaker"]
FILTERS = ("db-parameter-group-family", "engine", "engine-mode", "engine-version", "status")


def _major(version: str) -> str:
    return version.split(".")[0]


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def _capabilities(version: str) -> dict[str, Any]:
    return {
        "SupportedEngineModes": ["provisioned"],
        "SupportsParallelQuery": False,
        "SupportsGlobalDatabases": True,
        "SupportsBabelfish": True,
        "SupportsLimitlessDatabase": False,
        "SupportsLocalWriteForwarding": int(_major(version)) >= 14,
        "SupportsIntegrations": False,
    }


def _upgrade_targets(version: str) -> list[dict[str, Any]]:
    targets = []
    for target, status in VERSIONS.items():
        if status != "available":
            continue
        same_major = _major(target) == _major(version)
        if (same_major and _minor(target) > _minor(version)) or int(_major(target)) > int(_major(version)):
            targets.append(
                {
                    "Engine": ENGINE,
                    "EngineVersion": target,
                    "Description": f"Aurora PostgreSQL (Compatible with PostgreSQL {target})",
                    "AutoUpgrade": False,
                    "IsMajorVersionUpgrade": not same_major,
                    **_capabilities(target),
                }
            )
    return targets


def engine_version(version: str) -> dict[str, Any]:
    """One ``DBEngineVersion``."""
    major = _major(version)
    return {
        "Engine": ENGINE,
        "EngineVersion": version,
        "MajorEngineVersion": major,
        "DBParameterGroupFamily": f"{ENGINE}{major}",
        "DBEngineDescription": "Aurora (PostgreSQL)",
        "DBEngineVersionDescription": f"Aurora PostgreSQL (Compatible with PostgreSQL {version})",
        "ValidUpgradeTarget": _upgrade_targets(version),
        "ExportableLogTypes": ["instance", "postgresql"],
        "SupportsLogExportsToCloudwatchLogs": True,
        "SupportsReadReplica": False,
        "SupportedFeatureNames": FEATURES,
        "Status": VERSIONS[version],
        "SupportsCertificateRotationWithoutRestart": True,
        "SupportedCACertificateIdentifiers": CA_CERTIFICATES,
        "ServerlessV2FeaturesSupport": {
            "MinCapacity": 0.0 if _minor(version) >= ZERO_CAPACITY_FROM[major] else 0.5,
            "MaxCapacity": 256.0,
        },
        "TagList": [],
        **_capabilities(version),
    }


def _version_matches(version: str, wanted: str) -> bool:
    """An exact version, or a major version ("16") that names all its minors."""
    return version == wanted or ("." not in wanted and _major(version) == wanted)


def _passes(values: list[str] | None, test: Any) -> bool:
    """A filter passes when absent or when any of its values matches."""
    return not values or any(test(value) for value in values)


def describe_db_engine_versions(params: dict[str, Any]) -> list[dict[str, Any]]:
    filters: dict[str, list[str]] = {}
    for item in params.get("Filters") or []:
        if item["Name"] not in FILTERS:
            raise InvalidParameterValue(f"Unrecognized filter name: {item['Name']}")
        filters.setdefault(item["Name"], []).extend(item.get("Values") or [])
    if params.get("Engine", ENGINE) != ENGINE or not _passes(filters.get("engine"), ENGINE.__eq__):
        return []
    if "status" in filters:
        statuses = set(filters["status"])
    else:
        statuses = {"available", DEPRECATED} if params.get("IncludeAll") else {"available"}
    asked = params.get("EngineVersion")
    family = params.get("DBParameterGroupFamily")
    versions = [
        v
        for v, status in VERSIONS.items()
        if status in statuses
        and (not asked or _version_matches(v, asked))
        and _passes(filters.get("engine-version"), lambda wanted, v=v: _version_matches(v, wanted))
        and (not family or family == f"{ENGINE}{_major(v)}")
        and _passes(filters.get("db-parameter-group-family"), f"{ENGINE}{_major(v)}".__eq__)
        and _passes(filters.get("engine-mode"), "provisioned".__eq__)
    ]
    if params.get("DefaultOnly"):
        major_asked = asked and "." not in asked
        default = MAJOR_DEFAULTS.get(asked, "") if major_asked else DEFAULT_VERSION
        versions = [v for v in versions if v == default]
    return [engine_version(v) for v in versions]


def describe_db_engine_versions_action(self: RDSResponse) -> ActionResult:
    params = request_params(self)
    versions, marker = page(describe_db_engine_versions(params), params)
    return ActionResult({"DBEngineVersions": versions, "Marker": marker})


def install() -> None:
    RDSResponse.describe_db_engine_versions = describe_db_engine_versions_action
