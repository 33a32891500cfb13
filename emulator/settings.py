"""Run-time settings of the emulator: provisioning delays and fault injection.

All settings can be given on the command line, through environment variables
(read once at start) or changed while the emulator runs through the control
API (``POST /_emulator/config``).
"""

from __future__ import annotations

import os
import random
import re
import threading
from dataclasses import dataclass, field

# Minutes a resource stays in its transitional status on AWS.  The emulator
# keeps it there for ``minutes * delay_scale`` seconds.  Figures are typical
# durations of each operation; ``aws_minutes`` in the settings overrides any
# of them while the emulator runs (to model a slow region, for example).
# Sources (the README's "Deploy speed" has the table): the CDK sample's
# database stack takes about 18 minutes, cluster then writer then proxy in
# CloudFormation's order (6 + 8 + 4); a Lambda function in a VPC stays
# Pending while its Hyperplane ENI is created, up to about 90 seconds; the
# other figures are typical observations.  benchmarks/deploy_model.py
# computes a deployment's critical path from these.
AWS_MINUTES: dict[str, float] = {
    "db_cluster": 6.0,  # CreateDBCluster, Aurora PostgreSQL, to "available"
    "db_instance": 8.0,  # CreateDBInstance in an Aurora cluster
    # The last part of db_instance, with Enhanced Monitoring on, spent in
    # "configuring-enhanced-monitoring" (typical).
    "db_instance_monitoring": 1.0,
    "db_cluster_delete": 2.0,
    "db_instance_delete": 4.0,
    "db_proxy": 4.0,  # CreateDBProxy to "available"
    "db_proxy_target": 3.0,  # RegisterDBProxyTargets to TargetHealth AVAILABLE
    "db_proxy_endpoint": 3.0,  # CreateDBProxyEndpoint to "available"
    "db_proxy_modify": 1.0,
    "db_proxy_delete": 1.0,
    "db_proxy_endpoint_delete": 1.0,
    "vpc_endpoint": 2.0,  # CreateVpcEndpoint (Interface) to "available"
    "vpc_endpoint_delete": 1.0,
    "lambda_vpc": 1.5,  # CreateFunction with VpcConfig: State Pending -> Active
    "lambda_update": 0.5,  # LastUpdateStatus InProgress -> Successful
    # A new or changed IAM role becomes usable by AWS services (IAM is
    # eventually consistent; seconds, up to about 30: emulator/ext/iam_roles.py).
    "iam_role_propagation": 0.25,
    # Lambda deletes a Hyperplane ENI that no function uses any more (VPC
    # configuration removed or changed, function deleted): "up to 20 minutes"
    # (Lambda developer guide, "VPC networking for Lambda"); terraform-provider-aws
    # waits at least 45 minutes ("P99 deletion time of ~35 minutes").
    "lambda_eni_release": 20.0,
    # RDS Proxy's network interfaces outlive a deleted proxy or endpoint by this
    # much (no AWS figure; managed interfaces take "some minutes", hashicorp/terraform
    # issue 3758): emulator/ext/network_interfaces.py.
    "db_proxy_eni_release": 2.0,
}

ENV_DELAY_SCALE = "EMULATOR_DELAY_SCALE"
ENV_FAULT_RATE = "EMULATOR_FAULT_RATE"
ENV_FAULT_SEED = "EMULATOR_FAULT_SEED"


@dataclass
class Settings:
    """Mutable settings shared by the middleware and the service additions."""

    delay_scale: float = 0.0  # seconds of emulation per minute of AWS; 0 = off
    fault_rate: float = 0.0  # fraction of AWS calls answered with a fault
    fault_seed: int = 0
    fault_services: list[str] = field(default_factory=list)  # empty = all
    aws_minutes: dict[str, float] = field(default_factory=lambda: dict(AWS_MINUTES))
    # Operations held in their transitional status until the hold is lifted
    # (see emulator/provisioning.py); for tests, never set on a user's run.
    hold: list[str] = field(default_factory=list)
    # Aurora PostgreSQL versions that have reached their end (see
    # emulator/ext/rds_engine_versions.py).
    retired_engine_versions: list[str] = field(default_factory=list)
    # The data plane (emulator/dataplane): Aurora instances are PostgreSQL
    # servers, proxy endpoints listen, Invoke runs the code.  Off: none of it.
    data_plane: bool = True
    # Seconds by which the RDS Proxy listeners' clock runs ahead when they
    # check IAM tokens: a drill of expired tokens (a skewed client clock, or
    # a token kept past its 15 minutes). Emulator-only; 0 on a user's run.
    token_clock_offset: float = 0.0
    # Seconds by which the clock of RDS Data API transactions runs ahead (emulator/ext/rds_data.py): a drill of
    # transactions that time out. Emulator-only; 0 on a user's run.
    data_api_clock_offset: float = 0.0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.fault_seed)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            delay_scale=float(os.environ.get(ENV_DELAY_SCALE, "0") or 0),
            fault_rate=float(os.environ.get(ENV_FAULT_RATE, "0") or 0),
            fault_seed=int(os.environ.get(ENV_FAULT_SEED, "0") or 0),
        )

    def public(self) -> dict:
        data = {
            "delay_scale": self.delay_scale,
            "fault_rate": self.fault_rate,
            "fault_seed": self.fault_seed,
            "fault_services": list(self.fault_services),
        }
        data["aws_minutes"] = dict(self.aws_minutes)
        data["hold"] = list(self.hold)
        data["retired_engine_versions"] = list(self.retired_engine_versions)
        data["data_plane"] = self.data_plane
        data["token_clock_offset"] = self.token_clock_offset
        data["data_api_clock_offset"] = self.data_api_clock_offset
        return data

    def update(self, **values) -> None:
        known = {"delay_scale", "fault_rate", "fault_seed", "fault_services", "aws_minutes", "hold"}
        unknown = (
            set(values)
            - known
            - {
                "retired_engine_versions",
                "data_plane",
                "token_clock_offset",
                "data_api_clock_offset",
            }
        )
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if "aws_minutes" in values:
            minutes = values["aws_minutes"]
            if not isinstance(minutes, dict):
                raise ValueError("aws_minutes must map operations to minutes")
            unknown_operations = sorted(set(minutes) - set(AWS_MINUTES))
            if unknown_operations:
                raise ValueError(f"aws_minutes: unknown operation(s): {', '.join(unknown_operations)}")
            if any(float(m) < 0 for m in minutes.values()):
                raise ValueError("aws_minutes must not be negative")
            # Operations not named go back to their typical duration.
            self.aws_minutes = {**AWS_MINUTES, **{k: float(m) for k, m in minutes.items()}}
        if "hold" in values:
            held = [str(kind) for kind in values["hold"] or []]
            unknown_operations = sorted(set(held) - set(AWS_MINUTES))
            if unknown_operations:
                raise ValueError(f"hold: unknown operation(s): {', '.join(unknown_operations)}")
            self.hold = held
        if "retired_engine_versions" in values:
            retired = [str(version) for version in values["retired_engine_versions"] or []]
            malformed = [version for version in retired if not re.fullmatch(r"\d+\.\d+", version)]
            if malformed:
                raise ValueError(f"retired_engine_versions: not a major.minor version: {', '.join(malformed)}")
            self.retired_engine_versions = retired
        if "data_plane" in values:
            if not isinstance(values["data_plane"], bool):
                raise ValueError("data_plane must be true or false")
            self.data_plane = values["data_plane"]
        if "token_clock_offset" in values:
            self.token_clock_offset = float(values["token_clock_offset"])
        if "data_api_clock_offset" in values:
            self.data_api_clock_offset = float(values["data_api_clock_offset"])
        if "delay_scale" in values:
            scale = float(values["delay_scale"])
            if scale < 0:
                raise ValueError("delay_scale must be >= 0")
            self.delay_scale = scale
        if "fault_rate" in values:
            rate = float(values["fault_rate"])
            if not 0 <= rate <= 1:
                raise ValueError("fault_rate must be between 0 and 1")
            self.fault_rate = rate
        if "fault_services" in values:
            self.fault_services = [str(s) for s in values["fault_services"] or []]
        if "fault_seed" in values or "fault_rate" in values:
            self.fault_seed = int(values.get("fault_seed", self.fault_seed))
            with self._lock:
                self._rng.seed(self.fault_seed)

    def draw_fault(self, service: str) -> str | None:
        """Return ``"throttle"``, ``"server"`` or ``None`` for one request."""
        if self.fault_rate <= 0:
            return None
        if self.fault_services and service not in self.fault_services:
            return None
        with self._lock:
            if self._rng.random() >= self.fault_rate:
                return None
            return "throttle" if self._rng.random() < 0.5 else "server"

    def seconds(self, kind: str) -> float:
        """Seconds of emulation that the transitional status of ``kind`` lasts."""
        return self.aws_minutes[kind] * self.delay_scale


SETTINGS = Settings.from_env()
