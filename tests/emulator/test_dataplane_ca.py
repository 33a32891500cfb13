"""The emulator's CA: certificates that chain to it and name what they are issued for."""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from emulator.dataplane.ca import Authority

PROXY_WILDCARD = "*.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com"


def handshake(cert_file: Path, key_file: Path, ca_file: Path, name: str) -> None:
    """A TLS handshake in memory between a server presenting the certificate and a client trusting ``ca_file``
    that expects ``name``; raises ssl.SSLCertVerificationError when the client refuses it."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(ca_file))
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(client_in, client_out, server_hostname=name)
    s = server.wrap_bio(server_in, server_out, server_side=True)
    for _ in range(10):
        for side in (c, s):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        server_in.write(client_out.read())
        client_in.write(server_out.read())
    c.do_handshake()


def test_issued_certificate_verifies_for_its_names_only(tmp_path):
    authority = Authority(tmp_path)
    cert_file, key_file = authority.issue((PROXY_WILDCARD,))
    assert authority.issue((PROXY_WILDCARD,)) == (cert_file, key_file)
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [PROXY_WILDCARD]
    assert certificate.issuer == authority.certificate.subject

    handshake(cert_file, key_file, authority.ca_file, "db-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com")
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        handshake(
            cert_file, key_file, authority.ca_file, "reader.endpoint.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com"
        )


def test_another_authority_is_not_trusted(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, other = Authority(tmp_path / "a"), Authority(tmp_path / "b")
    cert_file, key_file = one.issue(("localhost",))
    handshake(cert_file, key_file, one.ca_file, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        handshake(cert_file, key_file, other.ca_file, "localhost")


def test_the_control_api_names_the_emulators_ca(emulator):
    answer = emulator.control.ca()
    pem = Path(answer["ca_file"]).read_text()
    assert pem == answer["pem"]
    certificate = x509.load_pem_x509_certificate(pem.encode())
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert emulator.control.ca() == answer  # one CA for the emulator's life
