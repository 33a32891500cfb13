"""Packaging: reproducible zips, the Lambda layout, binaries for the runtime's ABI and architecture, and an import
of the unpacked function and layer in a clean interpreter.

No Python 3.12+ interpreter runs here, so the runtime builds (python3.12, x86_64 and arm64) are checked by their
files: the extension's ABI tag, the wheel tags and each shared object's ELF machine. A second build for the host's
own Python version and architecture, made by the same code, is unpacked and imported with nothing else on the path.
pip downloads the wheels from PyPI (cached under build/pip-cache).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import platform
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import certifi
import pytest
from cryptography import x509

from .support import TEST_PASSWORD

pytestmark = pytest.mark.slow

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"
_spec = importlib.util.spec_from_file_location("lambda_build", LAMBDA_DIR / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

ELF_MACHINES = {"x86_64": 62, "arm64": 183}  # EM_X86_64, EM_AARCH64
WHEEL_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
HOST_ARCHITECTURE = {"x86_64": "x86_64", "aarch64": "arm64"}[platform.machine()]


@pytest.fixture(scope="module")
def runtime_builds(tmp_path_factory) -> dict[str, dict]:
    output = tmp_path_factory.mktemp("runtime-builds")
    return {arch: build.build("python3.12", arch, output) for arch in ("x86_64", "arm64")}


def test_builds_are_reproducible(runtime_builds, tmp_path):
    command = [sys.executable, str(LAMBDA_DIR / "build.py"), "--runtime", "python3.12", "--architecture", "x86_64"]
    printed = subprocess.run(
        [*command, "--output-dir", str(tmp_path)], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    again = json.loads(printed)
    first = runtime_builds["x86_64"]
    for part in ("function", "layer"):
        assert again[part]["sha256"] == first[part]["sha256"]
        assert Path(again[part]["path"]).read_bytes() == Path(first[part]["path"]).read_bytes()
        assert Path(again[part]["path"]).parent == tmp_path
    assert (again["runtime"], again["architecture"], again["handler"]) == (
        "python3.12",
        "x86_64",
        "connection_test.handler",
    )
    assert runtime_builds["arm64"]["layer"]["sha256"] != first["layer"]["sha256"]


def test_sha256_is_lambdas_code_sha256_form(runtime_builds):
    result = runtime_builds["x86_64"]["layer"]
    digest = hashlib.sha256(Path(result["path"]).read_bytes()).digest()
    assert result["sha256"] == base64.b64encode(digest).decode()


def test_zip_layout(runtime_builds):
    result = runtime_builds["x86_64"]
    with zipfile.ZipFile(result["function"]["path"]) as function:
        assert sorted(function.namelist()) == ["amazon-root-cas.pem", "connection_test.py"]
        assert {info.date_time for info in function.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    with zipfile.ZipFile(result["layer"]["path"]) as layer:
        names = layer.namelist()
        assert names == sorted(names)
        assert all(name.startswith("python/") for name in names)
        assert "python/psycopg2/__init__.py" in names
        assert any(re.fullmatch(r"python/psycopg2_binary-2\.9\.13\.dist-info/WHEEL", name) for name in names)
        assert {info.date_time for info in layer.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def _elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF"
    assert data[4] == 2 and data[5] == 1  # 64-bit, little-endian
    return int.from_bytes(data[18:20], "little")


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_binaries_match_the_runtime(runtime_builds, architecture):
    machine = WHEEL_MACHINES[architecture]
    with zipfile.ZipFile(runtime_builds[architecture]["layer"]["path"]) as layer:
        shared = {name: layer.read(name) for name in layer.namelist() if layer.read(name)[:4] == b"\x7fELF"}
        wheel = next(name for name in layer.namelist() if name.endswith(".dist-info/WHEEL"))
        tags = [
            line.removeprefix("Tag: ") for line in layer.read(wheel).decode().splitlines() if line.startswith("Tag:")
        ]
    assert f"python/psycopg2/_psycopg.cpython-312-{machine}-linux-gnu.so" in shared
    assert any("libpq" in name for name in shared)
    assert {name: _elf_machine(data) for name, data in shared.items()} == dict.fromkeys(
        shared, ELF_MACHINES[architecture]
    )
    assert tags
    for tag in tags:
        python, abi, platform_tag = tag.split("-")
        assert (python, abi) == ("cp312", "cp312")
        glibc = re.fullmatch(rf"manylinux_2_(\d+)_{machine}|manylinux2014_{machine}", platform_tag)
        assert glibc, platform_tag
        assert int(glibc.group(1) or 17) <= build.RUNTIME_GLIBC_MINOR  # Amazon Linux 2023


def test_handler_imports_and_connects_from_the_unpacked_zips(tmp_path, pg):
    """The host's own version and architecture, same build code: unpack function and layer into empty
    directories and use them from an interpreter without site-packages (python -S -s, only these on the path)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    result = build.build("python3.12", HOST_ARCHITECTURE, tmp_path / "out", python_version=version)
    function_dir, layer_dir, work = tmp_path / "function", tmp_path / "layer", tmp_path / "empty"
    work.mkdir()
    zipfile.ZipFile(result["function"]["path"]).extractall(function_dir)
    zipfile.ZipFile(result["layer"]["path"]).extractall(layer_dir)

    script = """
import json, os, sys
import connection_test, psycopg2
without_sdk = connection_test.handler({}, None)
def no_sts(config):
    return connection_test.Credentials("AKIDLOCAL", "local-secret", "local-session", 4102444800.0)
tester = connection_test.ConnectionTester(assume_role=no_sts, sign_token=lambda config, credentials: os.environ["PW"])
answer = tester.invoke(os.environ)
print(json.dumps({
    "psycopg2": psycopg2.__file__, "handler": connection_test.__file__, "path": sys.path,
    "boto3_loaded": "boto3" in sys.modules, "without_sdk": without_sdk, "answer": answer,
}))
"""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{layer_dir / 'python'}:{function_dir}",  # Lambda's /opt/python and /var/task
        "PW": TEST_PASSWORD,
        "AWS_REGION": "eu-west-1",
        "DATABASE_ACCOUNT_IAM_ROLE": "arn:aws:iam::111111111111:role/proxy-connect-role",
        **pg.environment(),
    }
    interpreter = sys._base_executable if hasattr(sys, "_base_executable") else sys.executable
    run = subprocess.run(
        [interpreter, "-S", "-s", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["psycopg2"].startswith(str(layer_dir / "python" / "psycopg2"))
    assert report["handler"] == str(function_dir / "connection_test.py")
    assert not any("site-packages" in entry or "dist-packages" in entry for entry in report["path"])
    assert report["boto3_loaded"] is False

    # the Lambda runtime provides boto3; this interpreter has none, so the real path stops at STS, and says so
    without_sdk = json.loads(report["without_sdk"]["body"])
    assert (without_sdk["stage"], without_sdk["error"]) == ("sts", "No module named 'boto3'")
    answer = report["answer"]
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"])["message"] == "Database connection was successful!"
    assert list(work.iterdir()) == []


def test_build_rejects_an_unsupported_runtime(tmp_path):
    with pytest.raises(SystemExit):
        build.build("python3.9", "x86_64", tmp_path)
    with pytest.raises(SystemExit):
        build.build("python3.12", "ppc64le", tmp_path)


# Starfield Services G2 has serial number 0, which cryptography warns about.
@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")
def test_ca_bundle_is_the_amazon_roots_from_certifi():
    packaged = build.CA_BUNDLE.read_text()
    assert packaged == build.amazon_root_bundle(Path(certifi.where()).read_text())
    subjects = [cert.subject.rfc4514_string() for cert in x509.load_pem_x509_certificates(packaged.encode())]
    assert subjects == [
        "CN=Amazon Root CA 1,O=Amazon,C=US",
        "CN=Amazon Root CA 2,O=Amazon,C=US",
        "CN=Amazon Root CA 3,O=Amazon,C=US",
        "CN=Amazon Root CA 4,O=Amazon,C=US",
        "CN=Starfield Services Root Certificate Authority - G2,O=Starfield Technologies\\, Inc.,"
        "L=Scottsdale,ST=Arizona,C=US",
    ]
