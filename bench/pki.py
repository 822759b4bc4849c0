"""A throw-away PKI for the benchmarks: root -> intermediates -> RSA 2048 leaf, as PEM files.

Built with ``cryptography`` alone (no trustme), so ``make bench`` needs nothing beyond the
runtime dependencies. The root is never sent; servers present the leaf and the intermediates.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Chain", "make_chain"]

_RSA_BITS = 2048


@dataclass(frozen=True)
class Chain:
    """PEM files of one server identity.

    Attributes:
        leaf_pem: the leaf certificate alone.
        key_pem: the leaf's private key (PKCS#8, unencrypted).
        intermediates_pem: the intermediates, the leaf's issuer first.
        full_chain_pem: leaf then intermediates, as a server sends them.
        ders: the DER certificates in the order sent (leaf first).
        root_pem: the self-signed root (never sent): the trust anchor for a client's ``-r`` option.
    """

    leaf_pem: Path
    key_pem: Path
    intermediates_pem: Path
    full_chain_pem: Path
    ders: tuple[bytes, ...]
    root_pem: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsmon bench PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: str,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    signer: rsa.RSAPrivateKey,
    now: datetime.datetime,
    *,
    ca: bool,
    days: int,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
        )
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def _root(key: rsa.RSAPrivateKey, now: datetime.datetime, days: int) -> x509.Certificate:
    name = _name("Bench Root CA")
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def make_chain(
    directory: Path, intermediates: int, now: datetime.datetime, *, leaf_days: int = 30, ca_days: int = 3650
) -> Chain:
    """Root -> ``intermediates`` CAs -> leaf for ``localhost``, every key RSA 2048.

    Args:
        directory: where the PEM files go (created if missing).
        intermediates: how many intermediate CAs sit between the root and the leaf.
        now: every validity period starts at now - 1 day.
        leaf_days: the leaf is valid until now + ``leaf_days``.
        ca_days: the root and the intermediates are valid until now + ``ca_days``.

    Returns:
        The files; the server sends 1 + ``intermediates`` certificates.
    """
    directory.mkdir(parents=True, exist_ok=True)
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    root = _root(issuer_key, now, ca_days)
    issuer_name = root.subject
    cas: list[x509.Certificate] = []
    for depth in range(intermediates):
        key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
        cert = _certificate(f"Bench Intermediate CA {depth + 1}", issuer_name, key.public_key(), issuer_key, now,
                            ca=True, days=ca_days)
        cas.append(cert)
        issuer_key, issuer_name = key, cert.subject
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    leaf = _certificate("localhost", issuer_name, leaf_key.public_key(), issuer_key, now, ca=False, days=leaf_days)

    sent = [leaf, *reversed(cas)]  # leaf, its issuer, ... towards the root
    pems = [c.public_bytes(serialization.Encoding.PEM) for c in sent]
    paths = Chain(
        leaf_pem=directory / "leaf.pem",
        key_pem=directory / "leaf.key",
        intermediates_pem=directory / "intermediates.pem",
        full_chain_pem=directory / "chain.pem",
        ders=tuple(c.public_bytes(serialization.Encoding.DER) for c in sent),
        root_pem=directory / "root.pem",
    )
    paths.root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    paths.leaf_pem.write_bytes(pems[0])
    paths.intermediates_pem.write_bytes(b"".join(pems[1:]))
    paths.full_chain_pem.write_bytes(b"".join(pems))
    paths.key_pem.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths.key_pem.chmod(0o600)
    return paths
