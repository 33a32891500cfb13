"""The emulator's certificate authority: it stands in for the Amazon root CAs.

On AWS, RDS Proxy presents an ACM certificate and AWS's service endpoints present certificates that chain to the
Amazon root CAs (Amazon Aurora User Guide, "Using TLS/SSL with RDS Proxy"). The emulator cannot issue those, so
one CA per emulator process issues every certificate its listeners present; clients trust it as they would
trust the Amazon roots (``ca_file``).
"""

from __future__ import annotations

import atexit
import datetime
import hashlib
import ipaddress
import shutil
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "Emulator Root CA (stands in for the Amazon root CAs)"
VALIDITY = datetime.timedelta(days=30)

_CA_KEY_USAGE = dict.fromkeys(
    ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
     "encipher_only", "decipher_only"),
    False,
) | {"key_cert_sign": True, "crl_sign": True}  # fmt: skip


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])


def _alternative_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


class Authority:
    """A CA (EC P-256) in ``directory``; ``issue`` signs server certificates for a tuple of names."""

    def __init__(self, directory: Path, common_name: str = CA_NAME) -> None:
        self.directory = directory
        now = datetime.datetime.now(datetime.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(**_CA_KEY_USAGE), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.crt"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self._issued: dict[tuple[str, ...], tuple[Path, Path]] = {}
        self._lock = threading.Lock()

    def issue(self, names: tuple[str, ...]) -> tuple[Path, Path]:
        """(certificate file, key file) of a server certificate whose common name is the first of ``names`` and
        whose subject alternative names are all of them (DNS names, wildcards included, or IP addresses).
        The same names give the same files."""
        names = tuple(names)
        with self._lock:
            if names not in self._issued:
                self._issued[names] = self._issue(names)
            return self._issued[names]

    def _issue(self, names: tuple[str, ...]) -> tuple[Path, Path]:
        now = datetime.datetime.now(datetime.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName([_alternative_name(n) for n in names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        stem = hashlib.sha256("\0".join(names).encode()).hexdigest()[:16]
        cert_path, key_path = self.directory / f"{stem}.crt", self.directory / f"{stem}.key"
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        _write_key(key_path, key)
        return cert_path, key_path


_authority: Authority | None = None
_authority_lock = threading.Lock()


def authority() -> Authority:
    """The emulator process's CA, created at first use in a private temporary directory removed at exit."""
    global _authority
    with _authority_lock:
        if _authority is None:
            directory = Path(tempfile.mkdtemp(prefix="emulator-ca-"))
            atexit.register(shutil.rmtree, directory, True)
            _authority = Authority(directory)
        return _authority
