"""Build the connection test's function zip and its psycopg2 layer zip for a Lambda runtime and architecture.

    python lambda/build.py --runtime python3.12 --architecture x86_64 --output-dir build/lambda

prints, as JSON, both zips' paths and base64 SHA-256 (what Lambda reports as ``CodeSha256``). The layer comes
from the manylinux wheels that match the runtime and architecture (``pip download --only-binary=:all:
--platform ...``), whatever the host. The zips are reproducible: entries sorted, fixed timestamps and
permissions, so the same inputs give byte-identical files.

    python lambda/build.py --update-ca-bundle

rewrites ``src/amazon-root-cas.pem`` from the ``certifi`` package's copies of the Amazon roots.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "src"
LAYER_REQUIREMENTS = HERE / "layer-requirements.txt"
CA_BUNDLE = SOURCE / "amazon-root-cas.pem"
DEFAULT_OUTPUT = HERE.parent / "build" / "lambda"
DEFAULT_PIP_CACHE = HERE.parent / "build" / "pip-cache"

# Supported Lambda Python runtimes; all run on Amazon Linux 2023 (glibc 2.34).
RUNTIMES = {"python3.12": "3.12", "python3.13": "3.13", "python3.14": "3.14"}
RUNTIME_GLIBC_MINOR = 34
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's name -> the wheel platform's machine
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)

# The roots that RDS Proxy's ACM certificates chain to, as labelled in certifi's cacert.pem.
AMAZON_ROOT_LABELS = (
    "Amazon Root CA 1",
    "Amazon Root CA 2",
    "Amazon Root CA 3",
    "Amazon Root CA 4",
    "Starfield Services Root Certificate Authority - G2",
)


def platform_tags(machine: str, glibc_minor: int = RUNTIME_GLIBC_MINOR) -> list[str]:
    """Every manylinux tag a glibc 2.<minor> system accepts (pip does not expand them itself)."""
    return [f"manylinux_2_{minor}_{machine}" for minor in range(glibc_minor, 16, -1)] + [f"manylinux2014_{machine}"]


def download_wheels(python_version: str, machine: str, dest: Path, cache_dir: Path) -> list[Path]:
    abi = "cp" + python_version.replace(".", "")
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--implementation", "cp", "--python-version", python_version, "--abi", abi,
        *(arg for tag in platform_tags(machine) for arg in ("--platform", tag)),
        "--requirement", str(LAYER_REQUIREMENTS), "--dest", str(dest), "--cache-dir", str(cache_dir),
    ]  # fmt: skip
    subprocess.run(command, check=True, stdout=sys.stderr)
    return sorted(dest.glob("*.whl"))


def wheel_files(wheel: Path, prefix: str) -> dict[str, tuple[bytes, int]]:
    """A wheel's files as a site-packages directory would hold them, under ``prefix``."""
    files = {}
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename
            head, _, rest = name.partition("/")
            if head.endswith(".data"):
                scheme, _, rest = rest.partition("/")
                if scheme not in ("purelib", "platlib"):
                    raise SystemExit(f"{wheel.name}: {scheme} files cannot go into a Lambda layer")
                name = rest
            files[prefix + name] = (archive.read(info), _mode(info.external_attr >> 16))
    return files


def source_files() -> dict[str, tuple[bytes, int]]:
    files = {}
    for path in sorted(SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(SOURCE).as_posix()] = (path.read_bytes(), _mode(path.stat().st_mode))
    return files


def _mode(mode: int) -> int:
    return 0o755 if mode & 0o111 else 0o644


def write_zip(path: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """A reproducible zip: sorted entries, one timestamp, Unix permissions only, fixed compression."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A partial file of this process's own: builds running side by side never
    # write into each other's, and the last complete zip wins.
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(files):
            data, mode = files[name]
            info = zipfile.ZipInfo(name, ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permissions below are read
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data, compresslevel=9)
    os.replace(partial, path)


def code_sha256(path: Path) -> str:
    """Base64 of the SHA-256 digest, the form of Lambda's ``CodeSha256``."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def build(
    runtime: str = "python3.12",
    architecture: str = "x86_64",
    output_dir: Path = DEFAULT_OUTPUT,
    *,
    python_version: str | None = None,
    cache_dir: Path = DEFAULT_PIP_CACHE,
) -> dict:
    """Build both zips. ``python_version`` overrides the runtime's (a local import check on another version)."""
    if runtime not in RUNTIMES:
        raise SystemExit(f"runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    if architecture not in ARCHITECTURES:
        raise SystemExit(f"architecture {architecture!r}: choose one of {', '.join(ARCHITECTURES)}")
    version = python_version or RUNTIMES[runtime]
    label = f"python{version}-{architecture}"
    output_dir = Path(output_dir).resolve()
    function_zip = output_dir / f"connection-test-function-{label}.zip"
    layer_zip = output_dir / f"psycopg2-layer-{label}.zip"

    write_zip(function_zip, source_files())
    with tempfile.TemporaryDirectory() as downloads:
        layer = {}
        for wheel in download_wheels(version, ARCHITECTURES[architecture], Path(downloads), Path(cache_dir)):
            layer.update(wheel_files(wheel, "python/"))
    write_zip(layer_zip, layer)
    return {
        "function": {"path": str(function_zip), "sha256": code_sha256(function_zip)},
        "layer": {"path": str(layer_zip), "sha256": code_sha256(layer_zip)},
        "runtime": runtime,
        "architecture": architecture,
        "python_version": version,
        "handler": "connection_test.handler",
    }


def amazon_root_bundle(cacert: str) -> str:
    """The Amazon roots out of a certifi ``cacert.pem`` (comment header and PEM of each, in a fixed order)."""
    blocks = {}
    for block in cacert.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("# Label: "):
                blocks[line.removeprefix("# Label: ").strip('"')] = block.strip() + "\n"
    missing = [label for label in AMAZON_ROOT_LABELS if label not in blocks]
    if missing:
        raise SystemExit(f"not in the CA bundle: {', '.join(missing)}")
    header = (
        "# Amazon root CAs: RDS Proxy presents ACM certificates that chain to them.\n"
        "# Extracted from certifi's cacert.pem by `python lambda/build.py --update-ca-bundle`.\n\n"
    )
    return header + "\n".join(blocks[label] for label in AMAZON_ROOT_LABELS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", default="python3.12", choices=sorted(RUNTIMES))
    parser.add_argument("--architecture", default="x86_64", choices=sorted(ARCHITECTURES))
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_PIP_CACHE, help="pip's download cache")
    parser.add_argument(
        "--python-version", help="build for this CPython version instead of the runtime's (local import checks)"
    )
    parser.add_argument("--update-ca-bundle", action="store_true", help=f"rewrite {CA_BUNDLE.name} from certifi")
    args = parser.parse_args(argv)
    if args.update_ca_bundle:
        import certifi

        CA_BUNDLE.write_text(amazon_root_bundle(Path(certifi.where()).read_text()))
        print(CA_BUNDLE)
        return 0
    result = build(
        args.runtime, args.architecture, args.output_dir, python_version=args.python_version, cache_dir=args.cache_dir
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
