"""Every module in library/ documents itself: ansible-doc renders it, and its
documented options are exactly the ones it accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "library").glob("*.py"))
COMMON = {
    "access_key", "secret_key", "session_token", "profile", "region", "endpoint_url", "aws_ca_bundle",
    "aws_config", "validate_certs", "debug_botocore_endpoint_logs", "tags", "purge_tags",
}  # fmt: skip


def test_the_library_has_the_modules_the_roles_use():
    assert {"rds_proxy", "rds_proxy_endpoint", "ram_resource_share"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_the_module(module):
    ansible_doc = Path(sys.executable).with_name("ansible-doc")
    result = subprocess.run(
        [str(ansible_doc), "-M", str(ROOT / "library"), "--json", module],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)[module]
    assert doc["doc"]["short_description"]
    assert doc["examples"].strip()
    assert doc["return"]
    documented = set(doc["doc"].get("options", {})) - COMMON
    source = (ROOT / "library" / f"{module}.py").read_text()
    for option in documented:
        assert f"{option}=" in source or f'"{option}"' in source, f"{module}: {option} is documented but not accepted"
