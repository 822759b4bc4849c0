"""read_certificate_file: PEM, DER, PKCS#7 and PKCS#12 files, and every way a file can be wrong."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

from tlsmon.errors import CertificateFileError
from tlsmon.sources import certfile
from tlsmon.sources.certfile import read_certificate_file

DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM
NOW = datetime.datetime.now(datetime.timezone.utc)


def _issue(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    signer: ec.EllipticCurvePrivateKey,
    ca: bool,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def chain() -> tuple[ec.EllipticCurvePrivateKey, list[x509.Certificate]]:
    """(leaf key, [leaf, intermediate, root])."""
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _issue("Root", root_key, None, root_key, True)
    mid = _issue("Intermediate", mid_key, root, root_key, True)
    leaf = _issue("leaf.example", leaf_key, mid, mid_key, False)
    return leaf_key, [leaf, mid, root]


def ders(certs: list[x509.Certificate]) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(DER) for c in certs)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_pem_chain_with_text_and_key(tmp_path: Path, chain: tuple) -> None:
    key, certs = chain
    key_pem = key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    data = (
        b"subject=CN = leaf.example\nissuer=CN = Intermediate\n"
        + certs[0].public_bytes(PEM)
        + key_pem  # private keys are skipped
        + b"\r\n# the intermediate\r\n"
        + certs[1].public_bytes(PEM).replace(b"\n", b"\r\n")  # CRLF line ends
        + certs[2].public_bytes(PEM)
        + b"trailing text\n"
    )
    assert read_certificate_file(write(tmp_path, "chain.pem", data)) == ders(certs)


def test_single_der(tmp_path: Path, chain: tuple) -> None:
    _key, certs = chain
    assert read_certificate_file(str(write(tmp_path, "leaf.der", certs[0].public_bytes(DER)))) == ders(certs[:1])


@pytest.mark.parametrize("encoding", [PEM, DER])
def test_pkcs7(tmp_path: Path, chain: tuple, encoding: serialization.Encoding) -> None:
    _key, certs = chain
    data = pkcs7.serialize_certificates(certs, encoding)
    got = read_certificate_file(write(tmp_path, "bundle.p7b", data))
    assert sorted(got) == sorted(ders(certs))  # a SET OF: no order promised


def test_pkcs12_with_password(tmp_path: Path, chain: tuple) -> None:
    key, certs = chain
    data = pkcs12.serialize_key_and_certificates(
        b"leaf", key, certs[0], certs[1:], serialization.BestAvailableEncryption(b"s3cret")
    )
    path = write(tmp_path, "bundle.p12", data)
    got = read_certificate_file(path, password=b"s3cret")
    assert got[0] == certs[0].public_bytes(DER)  # the certificate of the key comes first
    assert sorted(got[1:]) == sorted(ders(certs[1:]))
    with pytest.raises(CertificateFileError, match=r"^cannot read '.*bundle\.p12': wrong password or not PKCS#12$"):
        read_certificate_file(path, password=b"wrong")
    with pytest.raises(CertificateFileError, match="wrong password or not PKCS#12"):
        read_certificate_file(path)


def test_pkcs12_without_password(tmp_path: Path, chain: tuple) -> None:
    key, certs = chain
    data = pkcs12.serialize_key_and_certificates(b"leaf", key, certs[0], None, serialization.NoEncryption())
    assert read_certificate_file(write(tmp_path, "plain.p12", data)) == ders(certs[:1])


def test_trusted_certificate_block(tmp_path: Path, chain: tuple) -> None:
    import base64

    _key, certs = chain
    der = certs[0].public_bytes(DER)
    aux = bytes([0x30, 0x03, 0x0C, 0x01, 0x78])  # OpenSSL X509_CERT_AUX stand-in: SEQUENCE { "x" }
    body = base64.encodebytes(der + aux)
    data = b"-----BEGIN TRUSTED CERTIFICATE-----\n" + body + b"-----END TRUSTED CERTIFICATE-----\n"
    assert read_certificate_file(write(tmp_path, "trusted.pem", data)) == (der,)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.pem", b"", "no certificate found (empty file)"),
        ("blank.pem", b"\n  \n", "no certificate found (empty file)"),
        ("garbage.bin", b"\x00\x01garbage that is not a certificate" * 10, "no certificate found"),
        ("text.txt", b"hello world\n", "no certificate found"),
        ("sequence.der", bytes([0x30, 0x03, 0x02, 0x01, 0x05]), "no certificate found"),
        ("pfx-like.p12", bytes([0x30, 0x05, 0x02, 0x01, 0x03, 0x30, 0x00]), "wrong password or not PKCS#12"),
        (
            "bad64.pem",
            b"-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n",
            "PEM block 1 (CERTIFICATE) is not valid base64",
        ),
        (
            "notcert.pem",
            b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
            "PEM block 1 (CERTIFICATE) is not a valid certificate",
        ),
        (
            "csr.pem",
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAEC\n-----END CERTIFICATE REQUEST-----\n",
            "no certificate found",
        ),
    ],
)
def test_bad_contents(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(CertificateFileError) as info:
        read_certificate_file(path)
    assert str(info.value) == f"cannot read '{path}': {reason}"


def test_key_only_pem(tmp_path: Path, chain: tuple) -> None:
    key, _certs = chain
    data = key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(CertificateFileError, match="no certificate found$"):
        read_certificate_file(write(tmp_path, "key.pem", data))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.pem"
    with pytest.raises(CertificateFileError, match=r"^cannot read '.*missing\.pem': not found$"):
        read_certificate_file(path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(CertificateFileError, match=r"^cannot read '.*': is a directory$"):
        read_certificate_file(tmp_path)


def test_permission_denied(tmp_path: Path, chain: tuple) -> None:
    path = write(tmp_path, "secret.pem", chain[1][0].public_bytes(PEM))
    path.chmod(0)
    # Root reads any file: as root, check as user nobody (effective uid only, restored at once).
    drop = os.geteuid() == 0
    try:
        if drop:
            os.seteuid(65534)
        with pytest.raises(CertificateFileError, match="permission denied$"):
            read_certificate_file(path)
    finally:
        if drop:
            os.seteuid(0)
        path.chmod(0o600)


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.pem"
    with open(path, "wb") as f:
        f.truncate(certfile.MAX_FILE_SIZE + 1)  # sparse: costs no disk
    with pytest.raises(CertificateFileError, match="larger than 10 MiB$"):
        read_certificate_file(path)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (PermissionError(13, "Permission denied"), "permission denied"),
        (OSError(5, "Input/output error"), "Input/output error"),
    ],
)
def test_os_errors_become_one_line(monkeypatch: pytest.MonkeyPatch, error: OSError, reason: str) -> None:
    def failing_open(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(certfile, "open", failing_open, raising=False)  # shadows the builtin in that module only
    with pytest.raises(CertificateFileError) as info:
        read_certificate_file("/srv/x.pem")
    assert str(info.value) == f"cannot read '/srv/x.pem': {reason}"
