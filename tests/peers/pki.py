"""Test PKI: server identities (leaf + intermediates + trust anchor) and client CAs, as PEM files.

Server identities come from trustme. Client CAs are built with cryptography's CertificateBuilder so
that their subject (CN, O) is exactly what a test asks for: a test compares it with the CA names a
server sends in its CertificateRequest.
"""

from __future__ import annotations

import datetime
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = {"rsa": trustme.KeyType.RSA, "ecdsa": trustme.KeyType.ECDSA}

PathLike = Union[str, Path]
PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]


@dataclass(frozen=True)
class ServerIdentity:
    """What a test server presents, and what a client must trust to accept it."""

    hostname: str
    key_type: str
    chain_length: int  # certificates the server sends: the leaf plus chain_length - 1 intermediates
    chain_pem_path: Path  # leaf first, then the intermediates in order (towards the root)
    leaf_pem_path: Path
    intermediates_pem_path: Optional[Path]  # None when chain_length == 1
    key_path: Path
    ca_pem_path: Path  # the trust anchor (self-signed root); not sent by the server
    leaf_pem: bytes
    chain_der: list[bytes]  # as the server sends it, leaf first
    ca_der: bytes
    ca: trustme.CA = field(repr=False, compare=False)  # the root, to issue more certificates in a test


def make_server_identity(
    directory: PathLike,
    *,
    key_type: str = "ecdsa",
    chain_length: int = 1,
    hostname: str = "localhost",
    extra_names: Sequence[str] = (),
    not_before: Optional[datetime.datetime] = None,
    not_after: Optional[datetime.datetime] = None,
) -> ServerIdentity:
    """Build root CA -> (chain_length - 1) intermediates -> leaf and write them under `directory`.

    chain_length 1: the leaf alone is sent, issued directly by the root.
    chain_length 2: leaf + one intermediate; 3: leaf + two intermediates.
    `extra_names` are further SANs (hostnames or IP addresses such as "127.0.0.1").
    """
    if key_type not in KEY_TYPES:
        raise ValueError(f"key_type must be one of {sorted(KEY_TYPES)}, not {key_type!r}")
    if chain_length not in (1, 2, 3):
        raise ValueError(f"chain_length must be 1, 2 or 3, not {chain_length!r}")
    kt = KEY_TYPES[key_type]
    root = trustme.CA(key_type=kt, organization_name="tlsmon test PKI")
    issuer = root
    for _ in range(chain_length - 1):
        issuer = issuer.create_child_ca(key_type=kt)
    leaf = issuer.issue_cert(
        hostname,
        *extra_names,
        common_name=hostname,
        not_before=not_before,
        not_after=not_after,
        key_type=kt,
    )
    pems = [blob.bytes() for blob in leaf.cert_chain_pems]
    assert len(pems) == chain_length, (len(pems), chain_length)

    out = Path(tempfile.mkdtemp(prefix=f"{key_type}-chain{chain_length}-", dir=str(directory)))
    chain_path = out / "chain.pem"
    chain_path.write_bytes(b"".join(pems))
    leaf_path = out / "leaf.pem"
    leaf_path.write_bytes(pems[0])
    intermediates_path = None
    if chain_length > 1:
        intermediates_path = out / "intermediates.pem"
        intermediates_path.write_bytes(b"".join(pems[1:]))
    key_path = out / "leaf.key"
    leaf.private_key_pem.write_to_path(str(key_path))
    ca_path = out / "ca.pem"
    root.cert_pem.write_to_path(str(ca_path))

    return ServerIdentity(
        hostname=hostname,
        key_type=key_type,
        chain_length=chain_length,
        chain_pem_path=chain_path,
        leaf_pem_path=leaf_path,
        intermediates_pem_path=intermediates_path,
        key_path=key_path,
        ca_pem_path=ca_path,
        leaf_pem=pems[0],
        chain_der=[_pem_to_der(pem) for pem in pems],
        ca_der=_pem_to_der(root.cert_pem.bytes()),
        ca=root,
    )


@dataclass(frozen=True)
class ClientCert:
    cert_pem_path: Path
    key_path: Path
    cert_pem: bytes
    subject_rfc4514: str


class ClientCA:
    """A CA for client certificates, with a subject chosen by the test (CN, O)."""

    def __init__(self, directory: PathLike, common_name: str, organization: str, key_type: str = "ecdsa") -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="client-ca-", dir=str(directory)))
        self.key = _generate_key(key_type)
        self.key_type = key_type
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        builder = (
            _builder(name, name, self.key.public_key(), None, None)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(ski, critical=False)
        )
        self.cert = builder.sign(self.key, hashes.SHA256())
        self.pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.pem_path = self.directory / "client-ca.pem"
        self.pem_path.write_bytes(self.pem)
        self.subject_rfc4514 = self.cert.subject.rfc4514_string()
        self.subject_der = self.cert.subject.public_bytes()
        self._issued = 0

    def issue_client_cert(
        self,
        common_name: str = "client",
        *,
        not_before: Optional[datetime.datetime] = None,
        not_after: Optional[datetime.datetime] = None,
        key_type: Optional[str] = None,
    ) -> ClientCert:
        key = _generate_key(key_type or self.key_type)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        ca_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            _builder(subject, self.cert.subject, key.public_key(), not_before, not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self._issued += 1
        stem = self.directory / f"client-{self._issued}"
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        cert_path = stem.with_suffix(".pem")
        cert_path.write_bytes(cert_pem)
        key_path = stem.with_suffix(".key")
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return ClientCert(cert_path, key_path, cert_pem, cert.subject.rfc4514_string())


def make_client_ca(
    directory: PathLike, common_name: str = "Client CA", organization: str = "Example", key_type: str = "ecdsa"
) -> ClientCA:
    return ClientCA(directory, common_name, organization, key_type)


def write_ca_bundle(path: PathLike, *cas: ClientCA) -> Path:
    """One CA file holding several client CAs: a server loading it sends all their names."""
    path = Path(path)
    path.write_bytes(b"".join(ca.pem for ca in cas))
    return path


def _pem_to_der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _generate_key(key_type: str) -> PrivateKey:
    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"key_type must be 'rsa' or 'ecdsa', not {key_type!r}")


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: object,
    not_before: Optional[datetime.datetime],
    not_after: Optional[datetime.datetime],
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=365))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
