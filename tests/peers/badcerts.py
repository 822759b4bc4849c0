"""Certificates trustme cannot make, built with cryptography's CertificateBuilder, written as PEM files.

Exact validity windows (expired, not yet valid, an intermediate that expires before its leaf),
SHA-1 signatures, RSA-1024 keys, self-signed leaves, chosen subjects, serials and organizations,
and leaves whose AIA names an OCSP responder. ``write_identity`` turns a chain into the
``ServerIdentity`` that the test servers (pyserver, openssl_server, starttls_servers) take, with
the intermediates sent or left out.

SHA-1 signed and RSA-1024 certificates load only into a server at ``@SECLEVEL=0``.
"""

from __future__ import annotations

import datetime
import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from .pki import ServerIdentity

UTC = datetime.timezone.utc
DAY = datetime.timedelta(days=1)

PathLike = Union[str, Path]
PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]
KEY_TYPES = ("ecdsa", "rsa2048", "rsa1024")


def utcnow() -> datetime.datetime:
    """Now, timezone-aware, in whole seconds (certificate times have no fractions)."""
    return datetime.datetime.now(UTC).replace(microsecond=0)


def generate_key(key_type: str = "ecdsa") -> PrivateKey:
    """``ecdsa`` (P-256), ``rsa2048`` or ``rsa1024`` (weak on purpose)."""
    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    raise ValueError(f"key_type must be one of {KEY_TYPES}, not {key_type!r}")


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def serial_hex(self) -> str:
        return format(self.cert.serial_number, "X")

    def fingerprint(self, algorithm: hashes.HashAlgorithm) -> str:
        return self.cert.fingerprint(algorithm).hex()

    def key_pem(self, password: Optional[bytes] = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def make_cert(
    common_name: str,
    *,
    issuer: Optional[Issued] = None,
    key_type: str = "ecdsa",
    ca: bool = False,
    not_before: Optional[datetime.datetime] = None,
    not_after: Optional[datetime.datetime] = None,
    hash_algorithm: hashes.HashAlgorithm = hashes.SHA256(),  # noqa: B008 - immutable
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    organization: Optional[str] = None,
    serial: Optional[int] = None,
    ocsp_url: Optional[str] = None,
    server_auth: bool = True,
    key_usage: bool = True,
) -> Issued:
    """One certificate; self-signed when ``issuer`` is None.

    Defaults: valid from a day ago for 90 days, signed with SHA-256, ECDSA P-256 key. A leaf
    (``ca=False``) gets the serverAuth extended key usage unless ``server_auth`` is False.
    """
    key = generate_key(key_type)
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    subject = x509.Name(attributes)
    now = utcnow()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before or now - DAY)
        .not_valid_after(not_after or now + 90 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if key_usage:  # a private CA without keyUsage is legal for OpenSSL, refused by web-PKI verifiers
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not ca and isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if issuer is not None:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if not ca and server_auth:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if ocsp_url:
        aia = [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]
        builder = builder.add_extension(x509.AuthorityInformationAccess(aia), critical=False)
    signer = issuer.key if issuer is not None else key
    return Issued(builder.sign(signer, hash_algorithm), key)


# AlgorithmIdentifier { OID, NULL } of sha256WithRSAEncryption and sha1WithRSAEncryption (RFC 4055, RFC 3279):
# the OIDs differ only in their last byte, so swapping one for the other keeps every DER length.
_SHA256_WITH_RSA = bytes.fromhex("06092a864886f70d01010b" "0500")  # OID 1.2.840.113549.1.1.11, NULL
_SHA1_WITH_RSA = bytes.fromhex("06092a864886f70d010105" "0500")  # OID 1.2.840.113549.1.1.5, NULL


def _der(tag: int, value: bytes) -> bytes:
    """One DER TLV, definite length."""
    if len(value) < 0x80:
        return bytes([tag, len(value)]) + value
    size = len(value).to_bytes((len(value).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + value


def resign_with_sha1(issued: Issued, issuer: Issued) -> Issued:
    """The same certificate, signed by ``issuer`` (an RSA key) with SHA-1.

    cryptography's builders refuse SHA-1 signatures, so the TBSCertificate of a
    sha256WithRSAEncryption certificate gets the SHA-1 algorithm OID and a PKCS#1 v1.5
    SHA-1 signature made with the primitive API.
    """
    if not isinstance(issuer.key, rsa.RSAPrivateKey):
        raise ValueError("resign_with_sha1 needs an RSA issuer")
    tbs = issued.cert.tbs_certificate_bytes
    if tbs.count(_SHA256_WITH_RSA) != 1:
        raise ValueError("the certificate is not signed with sha256WithRSAEncryption")
    tbs = tbs.replace(_SHA256_WITH_RSA, _SHA1_WITH_RSA)
    signature = issuer.key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    der = _der(
        0x30,  # Certificate ::= SEQUENCE
        tbs  # tbsCertificate, with signature = sha1WithRSAEncryption
        + _der(0x30, _SHA1_WITH_RSA)  # signatureAlgorithm
        + _der(0x03, b"\x00" + signature),  # signatureValue BIT STRING, no unused bits
    )
    return Issued(x509.load_der_x509_certificate(der), issued.key)


def make_root(common_name: str = "tlsmon Bad Root", **kwargs: object) -> Issued:
    """A self-signed CA valid from a year ago for ten years (unless told otherwise)."""
    now = utcnow()
    kwargs.setdefault("not_before", now - 365 * DAY)
    kwargs.setdefault("not_after", now + 3650 * DAY)
    kwargs.setdefault("organization", "tlsmon test PKI")
    return make_cert(common_name, ca=True, **kwargs)  # type: ignore[arg-type]


def make_intermediate(issuer: Issued, common_name: str = "tlsmon Bad Intermediate", **kwargs: object) -> Issued:
    now = utcnow()
    kwargs.setdefault("not_before", now - 300 * DAY)
    kwargs.setdefault("not_after", now + 3000 * DAY)
    kwargs.setdefault("organization", "tlsmon test PKI")
    return make_cert(common_name, issuer=issuer, ca=True, **kwargs)  # type: ignore[arg-type]


def make_leaf(issuer: Optional[Issued], hostname: str = "localhost", **kwargs: object) -> Issued:
    """A server certificate for ``hostname`` (CN and dNSName); self-signed when ``issuer`` is None."""
    names = (hostname, *tuple(kwargs.pop("dns_names", ())))  # type: ignore[arg-type]
    return make_cert(hostname, issuer=issuer, dns_names=names, **kwargs)  # type: ignore[arg-type]


def write_identity(
    directory: PathLike,
    leaf: Issued,
    *,
    root: Issued,
    intermediates: Sequence[Issued] = (),
    send_intermediates: bool = True,
    hostname: str = "localhost",
) -> ServerIdentity:
    """Write leaf, key, chain and trust anchor under a new directory in ``directory``.

    ``send_intermediates=False`` makes a server send the leaf alone (an incomplete chain).
    ``root`` is the trust anchor a client passes as ``-r``; it is never sent.
    """
    out = Path(tempfile.mkdtemp(prefix="badcert-", dir=str(directory)))
    sent = [leaf, *intermediates] if send_intermediates else [leaf]
    chain_path = out / "chain.pem"
    chain_path.write_bytes(b"".join(c.pem for c in sent))
    leaf_path = out / "leaf.pem"
    leaf_path.write_bytes(leaf.pem)
    intermediates_path = None
    if len(sent) > 1:
        intermediates_path = out / "intermediates.pem"
        intermediates_path.write_bytes(b"".join(c.pem for c in sent[1:]))
    key_path = out / "leaf.key"
    key_path.write_bytes(leaf.key_pem())
    ca_path = out / "ca.pem"
    ca_path.write_bytes(root.pem)
    return ServerIdentity(
        hostname=hostname,
        key_type="rsa" if isinstance(leaf.key, rsa.RSAPrivateKey) else "ecdsa",
        chain_length=len(sent),
        chain_pem_path=chain_path,
        leaf_pem_path=leaf_path,
        intermediates_pem_path=intermediates_path,
        key_path=key_path,
        ca_pem_path=ca_path,
        leaf_pem=leaf.pem,
        chain_der=[c.der for c in sent],
        ca_der=root.der,
        ca=None,  # type: ignore[arg-type]  # not a trustme CA: issue more with make_cert(issuer=...)
    )


def write_pkcs12(path: PathLike, leaf: Issued, chain: Sequence[Issued] = (), password: Optional[bytes] = None) -> Path:
    """A PKCS#12 file with the leaf's key, the leaf and ``chain``; encrypted when ``password`` is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    data = pkcs12.serialize_key_and_certificates(
        b"tlsmon test", leaf.key, leaf.cert, [c.cert for c in chain] or None, encryption
    )
    path = Path(path)
    path.write_bytes(data)
    return path
