"""Aurora PostgreSQL engine versions: DescribeDBEngineVersions, the version
CreateDBCluster accepts, and minor versions that age.

The list holds recent Aurora PostgreSQL releases, 13 to 17, a few older minor
versions among them marked ``deprecated``.  Other engines answer an empty
list, and so does an unknown version, as AWS does.

Versions age as on AWS (Aurora User Guide, "Amazon Aurora PostgreSQL updates"
and "Automatic minor version upgrades"): minor versions reach their end of
standard support, after which new clusters cannot use them, and Aurora
upgrades the clusters that run them to a newer minor of the same major.

- ``retired_engine_versions`` (an emulator setting) lists versions that have
  reached their end: DescribeDBEngineVersions reports them ``deprecated``,
  CreateDBCluster refuses them, the default of their major moves to the
  newest minor still offered, and a cluster that runs one reports the newest
  minor of its major (the automatic upgrade has happened).
- :func:`upgrade_minor_version` (control API ``POST
  /_emulator/rds/minor-version-upgrade``) upgrades one cluster's minor
  version, as a maintenance window does.
- CreateDBCluster refuses a version that is not offered with
  ``InvalidParameterCombination`` "Cannot find version 15.5 for
  aurora-postgresql" (the answer AWS gives: langfuse/langfuse-terraform-aws
  issue 34, cn-terraform/terraform-aws-sonarqube issue 4); a bare major
  ("16") is resolved to that major's default minor, as AWS resolves partial
  versions.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import InvalidParameterCombination, InvalidParameterValue
from moto.rds.models import DBCluster, RDSBackend
from moto.rds.responses import RDSResponse

from .. import patching
from ..settings import SETTINGS
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


def status(version: str) -> str:
    """A known version's status: ``available``, or ``deprecated`` once retired."""
    return DEPRECATED if version in SETTINGS.retired_engine_versions else VERSIONS[version]


def _available(major: str | None = None) -> list[str]:
    return [v for v in VERSIONS if status(v) == "available" and (major is None or _major(v) == major)]


def major_default(major: str) -> str | None:
    """AWS's default minor of a major, or the newest one still offered once the default has retired."""
    default = MAJOR_DEFAULTS.get(major)
    if default and status(default) == "available":
        return default
    offered = sorted(_available(major), key=_minor)
    return offered[-1] if offered else None


def newest_minor(version: str) -> str:
    """The newest minor offered in the major of ``version`` (``version`` itself if none is newer)."""
    offered = sorted(_available(_major(version)), key=_minor)
    return offered[-1] if offered and _minor(offered[-1]) > _minor(version) else version


def creatable(version: str | None) -> str:
    """The version CreateDBCluster creates for ``version`` (None: the engine's default), or the AWS error."""
    if not version:
        return major_default(_major(DEFAULT_VERSION)) or DEFAULT_VERSION
    resolved = major_default(version) if "." not in version else version
    if resolved is None or resolved not in VERSIONS or status(resolved) != "available":
        raise InvalidParameterCombination(f"Cannot find version {version} for {ENGINE}")
    return resolved


def upgrade_minor_version(account_id: str, region: str, identifier: str, version: str | None = None) -> str:
    """Upgrade a cluster (and so its instances) to ``version`` or the newest minor of its major; return it."""
    from moto.rds.models import rds_backends

    cluster = rds_backends[account_id][region].clusters.get(identifier)
    if cluster is None or cluster.engine != ENGINE:
        raise ValueError(f"no {ENGINE} cluster {identifier} in {account_id} {region}")
    current = cluster.engine_version
    target = version or newest_minor(current)
    if target not in VERSIONS or status(target) != "available":
        raise ValueError(f"{target} is not an offered {ENGINE} version")
    if _major(target) != _major(current) or _minor(target) <= _minor(current):
        raise ValueError(f"{target} is not a newer minor version of {current}")
    cluster.engine_version = target
    return target


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
    for target in VERSIONS:
        if status(target) != "available":
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
        "Status": status(version),
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
        for v in VERSIONS
        if status(v) in statuses
        and (not asked or _version_matches(v, asked))
        and _passes(filters.get("engine-version"), lambda wanted, v=v: _version_matches(v, wanted))
        and (not family or family == f"{ENGINE}{_major(v)}")
        and _passes(filters.get("db-parameter-group-family"), f"{ENGINE}{_major(v)}".__eq__)
        and _passes(filters.get("engine-mode"), "provisioned".__eq__)
    ]
    if params.get("DefaultOnly"):
        major_asked = asked and "." not in asked
        default = major_default(asked if major_asked else _major(DEFAULT_VERSION))
        versions = [v for v in versions if v == default]
    return [engine_version(v) for v in versions]


def describe_db_engine_versions_action(self: RDSResponse) -> ActionResult:
    params = request_params(self)
    versions, marker = page(describe_db_engine_versions(params), params)
    return ActionResult({"DBEngineVersions": versions, "Marker": marker})


def _cluster_engine_version(self: DBCluster) -> str:
    version = self.__dict__.get("_engine_version")
    if self.engine == ENGINE and version in SETTINGS.retired_engine_versions:
        # The automatic minor version upgrade off a retired version has happened.
        version = self.__dict__["_engine_version"] = newest_minor(version)
    return version


def _set_cluster_engine_version(self: DBCluster, value: str) -> None:
    self.__dict__["_engine_version"] = value


def _create_db_cluster(original: Any) -> Any:
    def create_db_cluster(self: RDSBackend, kwargs: dict[str, Any]) -> DBCluster:
        if kwargs.get("engine") == ENGINE:
            kwargs = {**kwargs, "engine_version": creatable(kwargs.get("engine_version"))}
        return original(self, kwargs)

    return create_db_cluster


@patching.install_once
def install() -> None:
    patching.patch(RDSResponse, "describe_db_engine_versions", value=describe_db_engine_versions_action, add=True)
    patching.patch(DBCluster, "engine_version", value=property(_cluster_engine_version, _set_cluster_engine_version))
    patching.patch(RDSBackend, "create_db_cluster", _create_db_cluster)
