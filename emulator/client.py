"""A small client for the emulator's control API (used by tests and benchmarks)."""

from __future__ import annotations

import json
import urllib.request


class EmulatorControl:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.url}/_emulator{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def health(self) -> dict:
        return self._call("GET", "/health")

    def config(self) -> dict:
        return self._call("GET", "/config")

    def configure(self, **settings) -> dict:
        return self._call("POST", "/config", settings)

    def ca(self) -> dict:
        """The emulator's CA (it stands in for the Amazon root CAs): ``ca_file`` (its path) and ``pem``."""
        return self._call("GET", "/ca")

    def accounts(self) -> list[dict]:
        return self._call("GET", "/accounts")

    def requests(self) -> list[dict]:
        return self._call("GET", "/requests")

    def request_counts(self) -> list[dict]:
        return self._call("GET", "/requests/counts")

    def reset_requests(self) -> None:
        self._call("DELETE", "/requests")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def upgrade_minor_version(self, account_id: str, region: str, cluster: str, version: str | None = None) -> str:
        """Upgrade an Aurora cluster's minor version, as AWS's maintenance does; returns the new version."""
        payload = {"account_id": account_id, "region": region, "cluster": cluster}
        if version:
            payload["engine_version"] = version
        return self._call("POST", "/rds/minor-version-upgrade", payload)["engine_version"]

    def mutating_requests(self) -> list[dict]:
        """Calls that may change state and that AWS accepted (a refused call changes nothing)."""
        return [e for e in self.requests() if e["mutating"] and not e.get("fault") and e.get("status", 0) < 400]
