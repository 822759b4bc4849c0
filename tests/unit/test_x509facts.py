"""x509facts: our own DER reading gives the facts cryptography gave, without importing cryptography.

The oracle is the cryptography-based ``certificate_facts`` this module replaced, kept here
verbatim in spirit (``_oracle_facts``). Every certificate of the corpus (CertificateBuilder
certificates of every key and signature type, hand-built DER for what the builder refuses,
trustme chains, the RFC 8448 server certificate) must give equal facts, but for the
differences we chose, each tested on its own below:

- an unnamed signature algorithm reads as its dotted OID, not cryptography's "Unknown OID";
- cryptography < 42 named RSASSA-PSS "RSASSA-PSS" and could not tell its hash or a SHA-3 one;
- where cryptography raised on a well-formed certificate (a T61String that is not UTF-8, a
  non-string name attribute, a PrintableString outside its character set, a malformed
  extension spoiling all the others), we answer.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
import trustme
from cryptography import __version__ as cryptography_version
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, x448, x25519
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    ExtensionOID,
    NameOID,
    ObjectIdentifier,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsmon import der as d
from tlsmon import x509facts
from tlsmon.errors import DecodeError
from tlsmon.observations import CertificateFacts

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CRYPTOGRAPHY_MAJOR = int(cryptography_version.split(".")[0])
TESTS = Path(__file__).resolve().parents[1]
LIB = TESTS.parent / "lib"

# cryptography 38 issues SHA-1 certificates with a deprecation warning; 50 warns about negative serials
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# -- hand-built DER ---------------------------------------------------------------------------------


def tlv(tag: int, *parts: bytes) -> bytes:
    """One DER element: tag byte, definite minimal length, contents."""
    body = b"".join(parts)
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, *parts)


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for value in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def integer(n: int) -> bytes:
    """INTEGER in the fewest octets of two's complement (X.690 §8.3.2)."""
    return tlv(0x02, n.to_bytes(((n if n >= 0 else ~n).bit_length() + 8) // 8, "big", signed=True))


def name(*rdns: list[tuple[str, bytes]]) -> bytes:
    """A Name from RDNs of (OID, encoded value); each RDN's members sorted as DER wants."""
    return seq(*(tlv(0x31, *sorted(seq(oid(o), v) for o, v in rdn)) for rdn in rdns))


def utc_time(text: str) -> bytes:
    return tlv(0x17, text.encode())


def generalized_time(text: str) -> bytes:
    return tlv(0x18, text.encode())


def extension(ext_oid: str, value: bytes, critical: bool = False) -> bytes:
    return seq(oid(ext_oid), *([tlv(0x01, b"\xff")] if critical else []), tlv(0x04, value))


ISSUER = name([("2.5.4.3", tlv(0x0C, b"Hand Issuer"))])
SUBJECT = name([("2.5.4.3", tlv(0x0C, b"hand.example"))])
ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))
VALIDITY = seq(utc_time("250101000000Z"), utc_time("260101000000Z"))


def craft(
    *,
    version: bytes = tlv(0xA0, integer(2)),
    serial: bytes = integer(0x1234),
    signature: bytes = ECDSA_SHA256,
    issuer: bytes = ISSUER,
    validity: bytes = VALIDITY,
    subject: bytes = SUBJECT,
    spki: Optional[bytes] = None,
    extensions: Optional[list[bytes]] = None,
    sign: Optional[Callable[[bytes], bytes]] = None,
) -> bytes:
    """A certificate from DER parts; the signature is real when ``sign`` is given, else filler."""
    if spki is None:
        spki = public_der(key("p256"))
    parts = [version, serial, signature, issuer, validity, subject, spki]
    if extensions is not None:
        parts.append(tlv(0xA3, seq(*extensions)))
    tbs = seq(*parts)
    value = sign(tbs) if sign else b"\x5a" * 64
    return seq(tbs, signature, tlv(0x03, b"\x00" + value))


# -- keys and CertificateBuilder certificates -------------------------------------------------------

_KEYS: dict[str, Any] = {}
_CURVE_KEYS = {
    "p192": ec.SECP192R1,
    "p224": ec.SECP224R1,
    "p256": ec.SECP256R1,
    "p384": ec.SECP384R1,
    "p521": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}


def key(kind: str) -> Any:
    """One private key per kind for the whole session (RSA-4096 and DSA are slow to make)."""
    if kind not in _KEYS:
        if kind.startswith("rsa"):
            _KEYS[kind] = rsa.generate_private_key(65537, int(kind[3:]))
        elif kind.startswith("dsa"):
            _KEYS[kind] = dsa.generate_private_key(int(kind[3:]))
        elif kind in _CURVE_KEYS:
            _KEYS[kind] = ec.generate_private_key(_CURVE_KEYS[kind]())
        else:
            _KEYS[kind] = {
                "ed25519": ed25519.Ed25519PrivateKey,
                "ed448": ed448.Ed448PrivateKey,
                "x25519": x25519.X25519PrivateKey,
                "x448": x448.X448PrivateKey,
            }[kind].generate()
    return _KEYS[kind]


def public_der(private: Any) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cn(value: str, asn1_type: Optional[_ASN1Type] = None) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value, *([asn1_type] if asn1_type else []))])


def build(
    *,
    subject_key: str = "p256",
    signer: str = "p256",
    hash_alg: Optional[hashes.HashAlgorithm] = hashes.SHA256(),  # noqa: B008 - immutable
    subject: Optional[x509.Name] = None,
    issuer: Optional[x509.Name] = None,
    serial: int = 0x0123456789ABCDEF,
    not_before: datetime.datetime = NOW - datetime.timedelta(days=10),  # noqa: B008
    not_after: datetime.datetime = NOW + datetime.timedelta(days=80),  # noqa: B008
    extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> bytes:
    subject = cn("leaf.example") if subject is None else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(cn("Test Issuer") if issuer is None else issuer)
        .public_key(key(subject_key).public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    if signer in ("ed25519", "ed448"):
        hash_alg = None
    return builder.sign(key(signer), hash_alg).public_bytes(serialization.Encoding.DER)


# -- the oracle: the cryptography-based implementation this module replaced ---------------------------


def _oracle_facts(der: bytes) -> CertificateFacts:
    try:
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:
        raise DecodeError("certificate", 0, f"not a readable X.509 certificate ({exc})") from None
    try:
        key_obj: Any = cert.public_key()
    except (ValueError, TypeError):
        key_obj = None
    if isinstance(key_obj, rsa.RSAPublicKey):
        key_type, key_bits, curve = "RSA", key_obj.key_size, None
    elif isinstance(key_obj, ec.EllipticCurvePublicKey):
        key_type, key_bits, curve = "EC", key_obj.curve.key_size, key_obj.curve.name
    elif isinstance(key_obj, ed25519.Ed25519PublicKey):
        key_type, key_bits, curve = "Ed25519", 256, None
    elif isinstance(key_obj, ed448.Ed448PublicKey):
        key_type, key_bits, curve = "Ed448", 456, None
    elif isinstance(key_obj, dsa.DSAPublicKey):
        key_type, key_bits, curve = "DSA", key_obj.key_size, None
    else:
        key_type, key_bits, curve = "unknown", 0, None
    try:
        hash_alg = cert.signature_hash_algorithm
        hash_name: Optional[str] = hash_alg.name if hash_alg is not None else None
    except UnsupportedAlgorithm:
        hash_name = "unknown"

    def ext(ext_oid: ObjectIdentifier) -> Any:
        try:
            return cert.extensions.get_extension_for_oid(ext_oid).value
        except x509.ExtensionNotFound:
            return None
        except ValueError:  # any malformed extension: all of them absent
            return None

    san, bc, aia, cdp, eku = (
        ext(o)
        for o in (
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
            ExtensionOID.BASIC_CONSTRAINTS,
            ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
            ExtensionOID.CRL_DISTRIBUTION_POINTS,
            ExtensionOID.EXTENDED_KEY_USAGE,
        )
    )
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return CertificateFacts(
        der=der,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "X"),
        not_before=getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=UTC),
        not_after=getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=UTC),
        sha256=x509facts.hashlib.sha256(der).hexdigest(),
        sha1=x509facts.hashlib.sha1(der).hexdigest(),
        signature_algorithm=cert.signature_algorithm_oid._name,
        signature_hash=hash_name,
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        dns_names=tuple(san.get_values_for_type(x509.DNSName)) if san else (),
        ip_addresses=tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress)) if san else (),
        is_ca=bool(bc.ca) if bc else False,
        self_issued=cert.subject == cert.issuer,
        ocsp_urls=tuple(
            a.access_location.value
            for a in aia or ()
            if a.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(a.access_location, x509.UniformResourceIdentifier)
        ),
        crl_urls=tuple(
            n.value for dp in cdp or () for n in dp.full_name or () if isinstance(n, x509.UniformResourceIdentifier)
        ),
        extended_key_usages=tuple(o.dotted_string for o in eku) if eku else (),
        common_name=str(cns[0].value) if cns else None,
    )


_PSS = "1.2.840.113549.1.1.10"

# What cryptography 50 says of signature algorithms that older versions did not name or could
# not tell the hash of (38 says "Unknown OID", "RSASSA-PSS", and raises UnsupportedAlgorithm).
# The RSASSA-PSS hash comes from the parameters: test_rsassa_pss_hash_from_parameters.
CURRENT_SIGNATURE_FACTS: dict[str, tuple[str, Optional[str]]] = {
    _PSS: ("rsassaPss", "see test_rsassa_pss_hash_from_parameters"),
    "2.16.840.1.101.3.4.3.14": ("2.16.840.1.101.3.4.3.14", "sha3-256"),  # RSA with SHA3-256: unnamed
    "2.16.840.1.101.3.4.3.11": ("2.16.840.1.101.3.4.3.11", "sha3-384"),  # ECDSA with SHA3-384: unnamed
    "2.16.840.1.101.3.4.3.17": ("ML-DSA-44", None),
    "1.2.840.113549.1.1.1": ("rsaEncryption", "unknown"),  # a key algorithm where a signature one belongs
}


def _rdn_order_is_der_order() -> bool:
    """cryptography before 4x kept an RDN's members in a set: its order changes from run to run."""
    members = [("2.5.4.3", tlv(0x0C, bytes([0x61 + i]))) for i in range(8)]
    cert = x509.load_der_x509_certificate(craft(subject=name(members)))
    return [a.value for a in cert.subject.rdns[0]] == list("abcdefgh")


RDN_ORDER_IS_DER_ORDER = _rdn_order_is_der_order()


def _sorted_rdns(rfc4514: str) -> list[list[str]]:
    """An RFC 4514 string as RDNs of sorted members (splitting at unescaped ``,`` and ``+``)."""
    rdns: list[list[str]] = [[""]]
    escaped = False
    for char in rfc4514:
        if escaped or char == "\\":
            escaped = not escaped and char == "\\"
            rdns[-1][-1] += char
        elif char == ",":
            rdns.append([""])
        elif char == "+":
            rdns[-1].append("")
        else:
            rdns[-1][-1] += char
    return [sorted(rdn) for rdn in rdns]


def expected_facts(der: bytes) -> CertificateFacts:
    """The oracle's facts, with the differences we chose (see the module docstring)."""
    facts = _oracle_facts(der)
    ours = x509facts.certificate_facts(der)
    sig_oid = x509.load_der_x509_certificate(der).signature_algorithm_oid.dotted_string
    if facts.signature_algorithm == "Unknown OID":
        facts = dataclasses.replace(facts, signature_algorithm=sig_oid)
    if sig_oid in CURRENT_SIGNATURE_FACTS and CRYPTOGRAPHY_MAJOR < 50:
        sig_name, sig_hash = CURRENT_SIGNATURE_FACTS[sig_oid]
        if sig_oid == _PSS:
            sig_hash = ours.signature_hash
        facts = dataclasses.replace(facts, signature_algorithm=sig_name, signature_hash=sig_hash)
    if not RDN_ORDER_IS_DER_ORDER:
        for field in ("subject", "issuer"):
            if _sorted_rdns(getattr(facts, field)) == _sorted_rdns(getattr(ours, field)):
                facts = dataclasses.replace(facts, **{field: getattr(ours, field)})
        cert = x509.load_der_x509_certificate(der)
        if ours.common_name in {a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}:
            first_rdn_with_cn = next(r for r in cert.subject.rdns if r.get_attributes_for_oid(NameOID.COMMON_NAME))
            if len(first_rdn_with_cn) > 1:
                facts = dataclasses.replace(facts, common_name=ours.common_name)
    return facts


# -- the corpus ---------------------------------------------------------------------------------------


def _pkcs1(signer: str, hash_alg: hashes.HashAlgorithm) -> Callable[[bytes], bytes]:
    return lambda tbs: key(signer).sign(tbs, padding.PKCS1v15(), hash_alg)


def _rsa_signed(sig_oid: str, hash_alg: Optional[hashes.HashAlgorithm]) -> bytes:
    """sha1/md5/sha3 WithRSAEncryption, which the builder of some cryptography versions refuses."""
    sign = _pkcs1("rsa2048", hash_alg) if hash_alg is not None else None
    return craft(signature=seq(oid(sig_oid), tlv(0x05, b"")), spki=public_der(key("rsa2048")), sign=sign)


def _ecdsa_signed(sig_oid: str, hash_alg: hashes.HashAlgorithm) -> bytes:
    return craft(signature=seq(oid(sig_oid)), sign=lambda tbs: key("p256").sign(tbs, ec.ECDSA(hash_alg)))


def _pss_params(hash_oid: Optional[str]) -> bytes:
    """RSASSA-PSS-params (RFC 4055 §3.1); hash None: every field left at its SHA-1 default."""
    if hash_oid is None:
        return seq()
    hash_alg = seq(oid(hash_oid), tlv(0x05, b""))
    mgf = seq(oid("1.2.840.113549.1.1.8"), hash_alg)  # id-mgf1 with the same hash
    return seq(tlv(0xA0, hash_alg), tlv(0xA1, mgf), tlv(0xA2, integer(32)))


def _pss_signed(hash_oid: Optional[str], hash_alg: hashes.HashAlgorithm) -> bytes:
    pss = padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=32 if hash_oid else 20)
    return craft(
        signature=seq(oid(_PSS), _pss_params(hash_oid)),
        spki=public_der(key("rsa2048")),
        sign=lambda tbs: key("rsa2048").sign(tbs, pss, hash_alg),
    )


def _attr(oid_: ObjectIdentifier, value: Any, asn1_type: Optional[_ASN1Type] = None) -> x509.NameAttribute:
    return x509.NameAttribute(oid_, value, *([asn1_type] if asn1_type else []))


ESCAPES = [',+"\\<>;', "#hash", " lead", "trail ", "  both  ", "nul\0in", "a=b", "back\\slash", "ünïcödé ☃", ""]


def _escape_name() -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, v) for v in ESCAPES])


def _all_name_oids() -> x509.Name:
    attrs = []
    for attr_name, value in vars(NameOID).items():
        if (
            attr_name.startswith("_")
            or not isinstance(value, ObjectIdentifier)
            or value == NameOID.X500_UNIQUE_IDENTIFIER
        ):
            continue
        text = "US" if "COUNTRY" in attr_name else attr_name.lower().replace("_", " ")  # PrintableString-safe
        attrs.append(_attr(value, text))
    attrs.append(_attr(ObjectIdentifier("1.2.3.4.5"), "unknown oid"))
    return x509.Name(attrs)


def _string_types() -> x509.Name:
    return x509.Name(
        [
            _attr(NameOID.COMMON_NAME, "bmp ☃", _ASN1Type.BMPString),
            _attr(NameOID.ORGANIZATION_NAME, "t61 ascii", _ASN1Type.T61String),
            _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "t61 é as utf-8", _ASN1Type.T61String),
            _attr(NameOID.LOCALITY_NAME, "Printable 'string' (1+2=3)?", _ASN1Type.PrintableString),
            _attr(NameOID.STATE_OR_PROVINCE_NAME, "universal 😀", _ASN1Type.UniversalString),
            _attr(NameOID.STREET_ADDRESS, "ia5@example", _ASN1Type.IA5String),
            _attr(NameOID.TITLE, "visible", _ASN1Type.VisibleString),
            _attr(NameOID.SERIAL_NUMBER, "0123 456", _ASN1Type.NumericString),
            _attr(NameOID.X500_UNIQUE_IDENTIFIER, b"\x00\xab\xcd", _ASN1Type.BitString),
        ]
    )


def _multi_valued() -> x509.Name:
    return x509.Name(
        [
            x509.RelativeDistinguishedName([_attr(NameOID.COUNTRY_NAME, "DE")]),
            x509.RelativeDistinguishedName(
                [_attr(NameOID.ORGANIZATION_NAME, "Org+Plus"), _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit")]
            ),
            x509.RelativeDistinguishedName(
                [_attr(NameOID.COMMON_NAME, "b.example"), _attr(NameOID.COMMON_NAME, "a.example")]
            ),
        ]
    )


def _san() -> x509.SubjectAlternativeName:
    return x509.SubjectAlternativeName(
        [
            x509.DNSName("www.example.com"),
            x509.DNSName("*.example.net"),
            x509.DNSName("xn--bcher-kva.example"),
            x509.IPAddress(ipaddress.ip_address("192.0.2.1")),
            x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
            x509.IPAddress(ipaddress.ip_address("::ffff:192.0.2.1")),
            x509.IPAddress(ipaddress.ip_network("198.51.100.0/24")),
            x509.IPAddress(ipaddress.ip_network("2001:db8:1::/48")),
            x509.UniformResourceIdentifier("https://example.com/path?q=1"),
            x509.RFC822Name("admin@example.com"),
            x509.RegisteredID(ObjectIdentifier("1.2.3.4")),
            x509.DirectoryName(cn("directory name")),
            x509.OtherName(ObjectIdentifier("1.3.6.1.5.5.7.8.9"), tlv(0x0C, b"smtp@example.com")),
        ]
    )


def _aia() -> x509.AuthorityInformationAccess:
    ocsp, ca_issuers = AuthorityInformationAccessOID.OCSP, AuthorityInformationAccessOID.CA_ISSUERS
    return x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(ocsp, x509.UniformResourceIdentifier("http://ocsp.example.com")),
            x509.AccessDescription(ca_issuers, x509.UniformResourceIdentifier("http://ca.example.com/ca.der")),
            x509.AccessDescription(ocsp, x509.DNSName("not-a-uri.example")),
            x509.AccessDescription(ocsp, x509.UniformResourceIdentifier("http://ocsp2.example.com/")),
        ]
    )


def _cdp() -> x509.CRLDistributionPoints:
    uri = x509.UniformResourceIdentifier
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint([uri("http://crl.example.com/a.crl"), x509.DNSName("x.example")], None, None, None),
            x509.DistributionPoint(
                [uri("ldap://ldap.example.com/cn=crl"), uri("http://crl.example.com/b.crl")],
                None,
                frozenset([x509.ReasonFlags.key_compromise, x509.ReasonFlags.ca_compromise]),
                None,
            ),
            x509.DistributionPoint(
                None, x509.RelativeDistinguishedName([_attr(NameOID.COMMON_NAME, "crl")]), None, None
            ),
            x509.DistributionPoint(None, None, None, [x509.DirectoryName(cn("CRL Issuer"))]),
        ]
    )


def _everything() -> tuple[tuple[x509.ExtensionType, bool], ...]:
    pub = key("p256").public_key()
    return (
        (_san(), False),
        (x509.BasicConstraints(ca=True, path_length=2), True),
        (
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH, ObjectIdentifier("1.2.3.4.5.6")]
            ),
            False,
        ),
        (_aia(), False),
        (_cdp(), False),
        (x509.SubjectKeyIdentifier.from_public_key(pub), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(pub), False),
        (x509.KeyUsage(True, False, False, False, False, True, True, False, False), True),
        (x509.UnrecognizedExtension(ObjectIdentifier("1.2.3.4.99"), b"\x05\x00"), False),
    )


def _corpus() -> dict[str, Callable[[], bytes]]:
    c: dict[str, Callable[[], bytes]] = {}
    for kind in ("rsa1024", "rsa2048", "rsa4096", "dsa1024", "dsa2048", "ed25519", "ed448", *_CURVE_KEYS):
        c[f"key-{kind}"] = lambda kind=kind: build(subject_key=kind)
    for kind in ("x25519", "x448"):
        c[f"key-{kind}"] = lambda kind=kind: build(subject_key=kind)
    for h in (hashes.SHA224(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()):
        c[f"sig-rsa-{h.name}"] = lambda h=h: build(signer="rsa2048", hash_alg=h)
        c[f"sig-ecdsa-{h.name}"] = lambda h=h: build(signer="p384", hash_alg=h)
    c["sig-dsa-sha256"] = lambda: build(signer="dsa2048", hash_alg=hashes.SHA256())
    c["sig-dsa-sha224"] = lambda: build(signer="dsa2048", hash_alg=hashes.SHA224())
    c["sig-ed25519"] = lambda: build(signer="ed25519")
    c["sig-ed448"] = lambda: build(signer="ed448")
    c["sig-rsa-sha1"] = lambda: _rsa_signed("1.2.840.113549.1.1.5", hashes.SHA1())
    c["sig-rsa-md5"] = lambda: _rsa_signed("1.2.840.113549.1.1.4", hashes.MD5())
    c["sig-rsa-md2"] = lambda: _rsa_signed("1.2.840.113549.1.1.2", None)  # cryptography cannot name MD2
    c["sig-rsa-sha1-oiw"] = lambda: _rsa_signed("1.3.14.3.2.29", hashes.SHA1())
    c["sig-rsa-sha3-256"] = lambda: _rsa_signed("2.16.840.1.101.3.4.3.14", hashes.SHA3_256())
    c["sig-ecdsa-sha1"] = lambda: _ecdsa_signed("1.2.840.10045.4.1", hashes.SHA1())
    c["sig-ecdsa-sha3-384"] = lambda: _ecdsa_signed("2.16.840.1.101.3.4.3.11", hashes.SHA3_384())
    c["sig-dsa-sha1"] = lambda: craft(signature=seq(oid("1.2.840.10040.4.3")), spki=public_der(key("dsa1024")))
    c["sig-pss-sha256"] = lambda: _pss_signed("2.16.840.1.101.3.4.2.1", hashes.SHA256())
    c["sig-pss-sha384"] = lambda: _pss_signed("2.16.840.1.101.3.4.2.2", hashes.SHA384())
    c["sig-pss-sha512"] = lambda: _pss_signed("2.16.840.1.101.3.4.2.3", hashes.SHA512())
    c["sig-pss-defaults"] = lambda: _pss_signed(None, hashes.SHA1())
    c["sig-unknown-oid"] = lambda: craft(signature=seq(oid("1.2.3.4.5")))
    c["sig-ml-dsa-44"] = lambda: craft(signature=seq(oid("2.16.840.1.101.3.4.3.17")))
    c["sig-gost"] = lambda: craft(signature=seq(oid("1.2.643.7.1.1.3.2")))
    c["sig-rsa-key-as-signature"] = lambda: craft(signature=seq(oid("1.2.840.113549.1.1.1"), tlv(0x05, b"")))
    day = datetime.timedelta(days=1)
    for label, start, end in (
        ("dates-utctime", NOW, NOW + day),
        (
            "dates-1950-2049",
            datetime.datetime(1950, 1, 1, tzinfo=UTC),
            datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),
        ),
        ("dates-generalized-2050", NOW, datetime.datetime(2050, 1, 1, tzinfo=UTC)),
        ("dates-9999", NOW, datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ):
        c[label] = lambda start=start, end=end: build(not_before=start, not_after=end)
    c["dates-generalized-1949"] = lambda: craft(
        validity=seq(generalized_time("19491231235959Z"), utc_time("500101000000Z"))
    )
    c["dates-generalized-1"] = lambda: craft(
        validity=seq(generalized_time("00010101000000Z"), generalized_time("20000229120000Z"))
    )
    c["dates-generalized-in-utc-range"] = lambda: craft(
        validity=seq(generalized_time("20250101000000Z"), utc_time("491231235959Z"))
    )
    for serial in (1, 0x7F, 0x80, 0xFF, 0x0100, 2**159 - 1):
        c[f"serial-{serial:x}"] = lambda serial=serial: build(serial=serial)
    for serial in (0, -1, -0x80, -0x81, -(2**100), 2**320 + 5):
        c[f"serial-crafted-{serial:x}"] = lambda serial=serial: craft(serial=integer(serial))
    c["name-escapes"] = lambda: build(subject=_escape_name())
    c["name-all-oids"] = lambda: build(subject=_all_name_oids(), issuer=_all_name_oids())
    c["name-string-types"] = lambda: build(subject=_string_types())
    c["name-multi-valued"] = lambda: build(subject=_multi_valued(), issuer=_multi_valued())
    c["name-big-arcs"] = lambda: build(subject=x509.Name([_attr(ObjectIdentifier(f"2.999.{2**127}.{2**40}"), "arcs")]))
    c["name-empty"] = lambda: build(subject=x509.Name([]), issuer=x509.Name([]))
    c["name-self-issued"] = lambda: build(subject=cn("Self"), issuer=cn("Self"))
    c["name-self-issued-other-type"] = lambda: build(subject=cn("Self"), issuer=cn("Self", _ASN1Type.PrintableString))
    c["name-not-self-issued-case"] = lambda: build(subject=cn("self"), issuer=cn("Self"))
    c["name-not-self-issued-grouping"] = lambda: build(
        subject=x509.Name(
            [x509.RelativeDistinguishedName([_attr(NameOID.COMMON_NAME, "a"), _attr(NameOID.ORGANIZATION_NAME, "o")])]
        ),
        issuer=x509.Name([_attr(NameOID.ORGANIZATION_NAME, "o"), _attr(NameOID.COMMON_NAME, "a")]),
    )
    c["name-two-cns"] = lambda: build(
        subject=x509.Name([_attr(NameOID.COMMON_NAME, "first"), _attr(NameOID.COMMON_NAME, "second")])
    )
    c["name-no-cn"] = lambda: build(subject=x509.Name([_attr(NameOID.ORGANIZATION_NAME, "Org only")]))
    c["ext-everything"] = lambda: build(extensions=_everything())
    c["ext-san-only-ips"] = lambda: build(
        extensions=((x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("10.0.0.1"))]), True),)
    )
    c["ext-bc-not-ca"] = lambda: build(extensions=((x509.BasicConstraints(ca=False, path_length=None), True),))
    c["ext-bc-ca-no-path"] = lambda: build(extensions=((x509.BasicConstraints(ca=True, path_length=None), True),))
    c["ext-eku-any"] = lambda: build(
        extensions=((x509.ExtendedKeyUsage([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]), False),)
    )
    c["ext-none"] = lambda: craft()
    c["ext-empty-list"] = lambda: craft(extensions=[])
    c["v1-certificate"] = lambda: craft(version=b"")
    c["unique-ids"] = _with_unique_ids
    return c


def _with_unique_ids() -> bytes:
    """issuerUniqueID [1] and subjectUniqueID [2] (RFC 5280 §4.1.2.8) before the extensions."""
    spki = public_der(key("p256"))
    tbs = seq(
        tlv(0xA0, integer(2)),
        integer(9),
        ECDSA_SHA256,
        ISSUER,
        VALIDITY,
        SUBJECT,
        spki,
        tlv(0x81, b"\x00\x01\x02"),
        tlv(0x82, b"\x04\xf0"),
        tlv(0xA3, seq(extension("2.5.29.19", seq(tlv(0x01, b"\xff"))))),
    )
    return seq(tbs, ECDSA_SHA256, tlv(0x03, b"\x00" + b"\x01" * 8))


CORPUS = _corpus()
_BUILT: dict[str, Optional[bytes]] = {}


def corpus_der(label: str) -> bytes:
    """The corpus certificate ``label``; skips what this cryptography cannot make or read."""
    if label not in _BUILT:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _BUILT[label] = CORPUS[label]()
                x509.load_der_x509_certificate(_BUILT[label]).public_key()  # type: ignore[arg-type]
        except (UnsupportedAlgorithm, ValueError, TypeError) as exc:
            _BUILT[label] = None
            _BUILT[f"{label}!"] = repr(exc).encode()
    der = _BUILT[label]
    if der is None:
        pytest.skip(f"cryptography {cryptography_version} cannot make or read it: {_BUILT[f'{label}!']!r}")
    return der


def trustme_chain() -> list[bytes]:
    ca = trustme.CA(organization_name="tlsmon oracle", organization_unit_name="x509facts")
    child = ca.create_child_ca()
    leaf = child.issue_cert("leaf.example", "192.0.2.7", "*.wild.example", common_name="leaf.example")
    rsa_ca = trustme.CA(key_type=trustme.KeyType.RSA)
    rsa_leaf = rsa_ca.issue_cert("rsa.example", key_type=trustme.KeyType.RSA)
    pems = [blob.bytes() for blob in leaf.cert_chain_pems] + [ca.cert_pem.bytes()]
    pems += [rsa_leaf.cert_chain_pems[0].bytes(), rsa_ca.cert_pem.bytes()]
    return [x509.load_pem_x509_certificate(p).public_bytes(serialization.Encoding.DER) for p in pems]


def rfc8448_certificate() -> bytes:
    sys.path.insert(0, str(TESTS))
    try:
        from codec import rfc8448_vectors
    finally:
        sys.path.remove(str(TESTS))
    message = bytes.fromhex(rfc8448_vectors.CERTIFICATE)
    # RFC 8446 §4.4.2: type, uint24 length, context<0..255> (empty), list uint24, entry: cert uint24 + DER
    assert message[0] == 11 and message[4] == 0
    size = int.from_bytes(message[8:11], "big")
    return message[11 : 11 + size]


# -- the oracle test ---------------------------------------------------------------------------------


def assert_same_facts(der: bytes) -> None:
    ours = x509facts.certificate_facts(der)
    expected = expected_facts(der)
    differing = {
        f.name: (getattr(ours, f.name), getattr(expected, f.name))
        for f in dataclasses.fields(CertificateFacts)
        if getattr(ours, f.name) != getattr(expected, f.name)
    }
    assert not differing, differing
    assert ours == expected
    for field in ("not_before", "not_after"):
        assert getattr(ours, field).tzinfo is not None


@pytest.mark.parametrize("label", sorted(CORPUS))
def test_facts_equal_cryptography(label: str) -> None:
    assert_same_facts(corpus_der(label))


def test_facts_equal_cryptography_for_trustme_and_rfc8448() -> None:
    for der in [*trustme_chain(), rfc8448_certificate()]:
        assert_same_facts(der)


@pytest.mark.parametrize("label", sorted(CORPUS))
def test_dn_to_rfc4514_equals_cryptography(label: str) -> None:
    der = corpus_der(label)
    cert = x509.load_der_x509_certificate(der)
    issuer_der, subject_der = tbs_names(der)
    for ours, theirs in (
        (x509facts.dn_to_rfc4514(issuer_der), cert.issuer.rfc4514_string()),
        (x509facts.dn_to_rfc4514(subject_der), cert.subject.rfc4514_string()),
    ):
        assert ours == theirs or (not RDN_ORDER_IS_DER_ORDER and _sorted_rdns(ours) == _sorted_rdns(theirs))


def tbs_names(der: bytes) -> tuple[bytes, bytes]:
    """The DER issuer and subject Names of a certificate."""
    tbs = d.DerReader(der).read_sequence("Certificate").read_sequence("tbsCertificate")
    elements = []
    while not tbs.at_end():
        elements.append(tbs.read())
    first = 1 if elements[0].cls == d.CONTEXT else 0  # [0] version
    return elements[first + 2].encoded, elements[first + 4].encoded


# -- the tables, against cryptography's own -----------------------------------------------------------


def test_algorithm_names_and_hashes_are_cryptography_s() -> None:
    from cryptography.hazmat import _oid

    for oid_obj, theirs in _oid._OID_NAMES.items():
        ours = x509facts._ALGORITHM_NAMES.get(oid_obj.dotted_string)
        if ours is not None and oid_obj.dotted_string not in CURRENT_SIGNATURE_FACTS:
            assert ours == theirs, oid_obj
    names = {o.dotted_string: n for o, n in _oid._OID_NAMES.items()}
    for dotted, ours in x509facts._ALGORITHM_NAMES.items():
        if CRYPTOGRAPHY_MAJOR >= 50:
            assert names[dotted] == ours  # nothing of our own invention
        else:  # older versions lack some names, and called RSASSA-PSS "RSASSA-PSS"
            assert names.get(dotted) in (ours, None) or dotted == _PSS, dotted
    for oid_obj, hash_alg in _oid._SIG_OIDS_TO_HASH.items():
        assert x509facts._SIGNATURE_HASHES[oid_obj.dotted_string] == (hash_alg.name if hash_alg else None)
    if CRYPTOGRAPHY_MAJOR >= 50:
        assert set(x509facts._SIGNATURE_HASHES) == {o.dotted_string for o in _oid._SIG_OIDS_TO_HASH}


def test_short_names_and_curves_are_cryptography_s() -> None:
    from cryptography.x509.name import _NAMEOID_TO_NAME

    assert x509facts._SHORT_NAMES == {o.dotted_string: n for o, n in _NAMEOID_TO_NAME.items()}
    for oid_obj, curve in ec._OID_TO_CURVE.items():
        assert x509facts._CURVES[oid_obj.dotted_string] == (curve.name, curve.key_size)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(_pss_params("2.16.840.1.101.3.4.2.1"), "sha256", id="sha256"),
        pytest.param(_pss_params("2.16.840.1.101.3.4.2.2"), "sha384", id="sha384"),
        pytest.param(_pss_params("2.16.840.1.101.3.4.2.3"), "sha512", id="sha512"),
        pytest.param(_pss_params("2.16.840.1.101.3.4.2.8"), "sha3-256", id="sha3-256"),
        # SHA-1 spelled out: DER wants the DEFAULT omitted, and cryptography 50 refuses it
        pytest.param(_pss_params("1.3.14.3.2.26"), "sha1", id="sha1-explicit"),
        pytest.param(_pss_params(None), "sha1", id="defaults"),  # RFC 4055 §3.1: every field at its default
        pytest.param(seq(tlv(0xA0, seq(oid("1.2.840.113549.2.5")))), "unknown", id="md5"),
        pytest.param(b"", "unknown", id="no-params"),  # cryptography raises
        pytest.param(tlv(0x05, b""), "unknown", id="null"),
        pytest.param(seq(tlv(0xA0, integer(1))), "unknown", id="malformed"),
    ],
)
def test_rsassa_pss_hash_from_parameters(params: bytes, expected: str) -> None:
    der = craft(signature=seq(oid(_PSS), params), spki=public_der(key("rsa2048")))
    facts = x509facts.certificate_facts(der)
    assert (facts.signature_algorithm, facts.signature_hash) == ("rsassaPss", expected)
    if CRYPTOGRAPHY_MAJOR >= 50 and expected not in ("unknown", "sha1"):
        assert _oracle_facts(der).signature_hash == expected
    if CRYPTOGRAPHY_MAJOR >= 50 and params == _pss_params(None):
        assert _oracle_facts(der).signature_hash == "sha1"


# -- names: escaping, string types, what cryptography refused -----------------------------------------


@pytest.mark.parametrize(
    "value",
    ESCAPES + [" ", "  ", "#", "\\", "a\\", ' "quoted" ', "+", ",", "x\0", "\0", "é#", "#é ", "a b", "\t", "\n"],
)
def test_escape_is_cryptography_s(value: str) -> None:
    from cryptography.x509.name import _escape_dn_value

    if value == " " and CRYPTOGRAPHY_MAJOR < 50:
        assert x509facts._escape(value) == "\\ "  # cryptography 38 made it "\\\\ ", a backslash too many
    else:
        assert x509facts._escape(value) == _escape_dn_value(value)


def _subject_of(*attrs: tuple[str, bytes]) -> CertificateFacts:
    """A certificate whose subject has these attributes, each in an RDN of its own."""
    return x509facts.certificate_facts(craft(subject=name(*([a] for a in attrs))))


def test_t61string_that_is_not_utf8_reads_as_latin1() -> None:
    facts = _subject_of(("2.5.4.3", tlv(0x14, b"caf\xe9 \xa9")))
    assert facts.subject == "CN=café ©" and facts.common_name == "café ©"


def test_t61string_that_is_utf8_reads_as_utf8_as_cryptography_does() -> None:
    assert _subject_of(("2.5.4.3", tlv(0x14, "café".encode()))).subject == "CN=café"


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (integer(5), "#020105"),
        (tlv(0x01, b"\xff"), "#0101ff"),
        (seq(tlv(0x0C, b"a")), "#30030c0161"),
        (tlv(0x80, b"x"), "#800178"),
        (tlv(0x2C, tlv(0x0C, b"a")), "#2c030c0161"),  # a constructed UTF8String is not DER
        (bytes([0x1F, 0x81, 0x00, 0x01, 0x61]), "#1f81000161"),  # high tag number
        (tlv(0x03, b"\x00\xab"), "#030200ab"),  # BIT STRING, but not an x500UniqueIdentifier
    ],
)
def test_non_string_attribute_values_are_hex_der(value: bytes, rendered: str) -> None:
    """RFC 4514 §2.4; cryptography raised (KeyError, TypeError or ValueError) on these."""
    facts = _subject_of(("2.5.4.3", value), ("2.5.4.10", tlv(0x0C, b"Org")))
    assert facts.subject == f"O=Org,CN={rendered}"
    assert facts.common_name == rendered


def test_x500_unique_identifier_is_hex_of_its_contents_as_cryptography_does() -> None:
    assert _subject_of(("2.5.4.45", tlv(0x03, b"\x00\xab"))).subject == "2.5.4.45=#00ab"


def test_printable_string_outside_its_character_set_is_read() -> None:
    """cryptography 50 refuses such certificates; 38 and most TLS stacks read them."""
    assert _subject_of(("2.5.4.3", tlv(0x13, b"*.example_org@x"))).common_name == "*.example_org@x"


def test_duplicate_attributes_in_an_rdn_are_kept() -> None:
    """cryptography 50 raised ValueError; 38 kept one."""
    attr = seq(oid("2.5.4.3"), tlv(0x0C, b"a"))
    facts = x509facts.certificate_facts(craft(subject=seq(tlv(0x31, attr, attr))))
    assert facts.subject == "CN=a+CN=a"


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        (name([("2.5.4.3", tlv(0x0C, b"caf\xe9"))]), "UTF8String is not valid UTF-8"),
        (name([("2.5.4.3", tlv(0x13, b"caf\xe9"))]), "PrintableString is not valid UTF-8"),
        (name([("2.5.4.3", tlv(0x1E, b"\x00a\x00"))]), "BMPString is not valid utf-16-be"),
        (name([("2.5.4.3", tlv(0x1E, b"\xd8\x00"))]), "BMPString is not valid utf-16-be"),  # lone surrogate
        (name([("2.5.4.3", tlv(0x1C, b"\x00\x11\x00\x00"))]), "UniversalString is not valid utf-32-be"),
        (seq(tlv(0x31)), "empty RelativeDistinguishedName"),
        (
            seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0C, b"b")), seq(oid("2.5.4.3"), tlv(0x0C, b"a")))),
            "not in DER order",
        ),
        (seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0C, b"a"), tlv(0x0C, b"b")))), "unexpected bytes"),
        (seq(tlv(0x31, seq(oid("2.5.4.3")))), "AttributeValue missing"),
        (seq(tlv(0x30, seq(oid("2.5.4.3"), tlv(0x0C, b"a")))), "expected constructed SET"),
        (tlv(0x31, tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0C, b"a")))), "Name is not a SEQUENCE"),
    ],
)
def test_malformed_names_raise_decode_error(subject: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        x509facts.certificate_facts(craft(subject=subject))
    with pytest.raises(DecodeError, match=reason):
        x509facts.dn_to_rfc4514(subject)


def test_dn_to_rfc4514() -> None:
    der = name(
        [("2.5.4.6", tlv(0x13, b"DE"))],
        [("2.5.4.10", tlv(0x1E, "Ärger, GmbH".encode("utf-16-be"))), ("2.5.4.11", tlv(0x14, b"caf\xe9"))],
        [("2.5.4.3", tlv(0x0C, b" #lead+trail "))],
    )
    assert x509facts.dn_to_rfc4514(der) == "CN=\\ #lead\\+trail\\ ,OU=café+O=Ärger\\, GmbH,C=DE"  # DER order in an RDN
    assert x509facts.dn_to_rfc4514(seq()) == ""
    with pytest.raises(DecodeError, match="DistinguishedName: 1 unexpected bytes after Name at offset 2"):
        x509facts.dn_to_rfc4514(seq() + b"\x00")
    with pytest.raises(DecodeError, match="^DistinguishedName: "):
        x509facts.dn_to_rfc4514(b"")


# -- keys and extensions: what cryptography refused, and where it spoiled more than one fact --------------


def _spki(alg: bytes, key_bits: bytes) -> bytes:
    return seq(alg, tlv(0x03, key_bits))


def _ec(params: bytes, point: bytes) -> bytes:
    return _spki(seq(oid("1.2.840.10045.2.1"), params), b"\x00" + point)


def _rsa(n: int, e: int, alg: str = "1.2.840.113549.1.1.1") -> bytes:
    params = [tlv(0x05, b"")] if alg.endswith(".1") else []
    return _spki(seq(oid(alg), *params), b"\x00" + seq(integer(n), integer(e)))


def _dsa(p: int, q: int, g: int, y: int) -> bytes:
    return _spki(seq(oid("1.2.840.10040.4.1"), seq(integer(p), integer(q), integer(g))), b"\x00" + integer(y))


P256 = oid("1.2.840.10045.3.1.7")
P256_COMPRESSED = (
    key("p256").public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
)
P256_POINT = (
    key("p256").public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
)
P256_HYBRID = bytes([6 | P256_POINT[-1] & 1]) + P256_POINT[1:]  # X9.62 hybrid form: 6 for an even y, 7 for odd
P256_HYBRID_WRONG_PARITY = bytes([P256_HYBRID[0] ^ 1]) + P256_POINT[1:]
N2048 = 2**2047 + 1


@pytest.mark.parametrize(
    ("spki", "expected"),
    [
        # cryptography 50 cannot load binary curves at all (38 could): we report them as 38 did
        (_ec(oid("1.3.132.0.16"), b"\x04" + b"\x01" * 72), ("EC", 283, "sect283k1")),
        (_ec(oid("1.3.132.0.39"), b"\x02" + b"\x01" * 72), ("EC", 570, "sect571r1")),
        (_ec(P256, P256_COMPRESSED), ("EC", 256, "secp256r1")),
        (_ec(P256, P256_HYBRID), ("EC", 256, "secp256r1")),  # OpenSSL reads hybrid points, so cryptography does
        (_ec(P256, P256_HYBRID_WRONG_PARITY), ("unknown", 0, None)),  # ... but not with the wrong parity byte
        (_ec(P256, b"\x05" + P256_POINT[1:]), ("unknown", 0, None)),  # no such form
        (_ec(oid("1.2.3.4"), b"\x04" + b"\x01" * 64), ("unknown", 0, None)),  # unknown curve
        (_ec(tlv(0x05, b""), b"\x04" + b"\x01" * 64), ("unknown", 0, None)),  # implicitlyCA
        (_ec(P256, b"\x04" + b"\x01" * 63), ("unknown", 0, None)),  # short point
        (_ec(P256, b"\x00"), ("unknown", 0, None)),  # the point at infinity
        (_spki(seq(oid("1.3.101.112")), b"\x00" + b"\x01" * 31), ("unknown", 0, None)),  # short Ed25519 key
        (_spki(seq(oid("1.3.101.112"), tlv(0x05, b"")), b"\x00" + b"\x01" * 32), ("unknown", 0, None)),  # params
        (_spki(seq(oid("1.3.101.113")), b"\x00" + b"\x01" * 57), ("Ed448", 456, None)),
        (_spki(seq(oid("1.3.101.110")), b"\x00" + b"\x01" * 32), ("unknown", 0, None)),  # X25519
        (_spki(seq(oid("1.2.3.4")), b"\x00"), ("unknown", 0, None)),
        (_rsa(N2048, 65537), ("RSA", 2048, None)),
        (_rsa(N2048, 3, alg="1.2.840.113549.1.1.10"), ("RSA", 2048, None)),  # an RSASSA-PSS key
        (_rsa(N2048, 65536), ("unknown", 0, None)),  # cryptography: e must be odd
        (_rsa(N2048, 1), ("unknown", 0, None)),  # e must be >= 3
        (_rsa(15, 17), ("unknown", 0, None)),  # and < n
        (_spki(seq(oid("1.3.101.112")), b"\x01" + b"\x01" * 31 + b"\x02"), ("unknown", 0, None)),  # unused bit
        (_spki(seq(oid("1.2.840.113549.1.1.1"), tlv(0x05, b"")), b"\x00" + seq(integer(N2048))), ("unknown", 0, None)),
        (_spki(seq(oid("1.2.840.10040.4.1")), b"\x00" + integer(5)), ("unknown", 0, None)),  # DSA without params
        (_dsa(2**1023 + 1, 7, 0, 0), ("DSA", 1024, None)),  # cryptography checks no more than the signs
        (_dsa(2**1023 + 1, 7, -2, 0), ("unknown", 0, None)),
    ],
)
def test_key_facts(spki: bytes, expected: tuple[str, int, Optional[str]]) -> None:
    facts = x509facts.certificate_facts(craft(spki=spki))
    assert (facts.key_type, facts.key_bits, facts.curve) == expected
    try:
        oracle = _oracle_facts(craft(spki=spki))
    except (DecodeError, UnsupportedAlgorithm):
        return  # cryptography refused the certificate or crashed on the key
    if CRYPTOGRAPHY_MAJOR >= 50:  # 38 read negative numbers and e < 3 without complaint
        assert (oracle.key_type, oracle.key_bits, oracle.curve) == expected


def _ext_facts(*extensions: bytes) -> CertificateFacts:
    return x509facts.certificate_facts(craft(extensions=list(extensions)))


SAN = extension("2.5.29.17", seq(tlv(0x82, b"ok.example"), tlv(0x87, bytes([192, 0, 2, 1]))))
BC_CA = extension("2.5.29.19", seq(tlv(0x01, b"\xff")), critical=True)


def test_a_malformed_extension_is_absent_on_its_own() -> None:
    """cryptography parsed all extensions at once: one malformed one hid all the others."""
    good = _ext_facts(SAN, BC_CA)
    assert (good.dns_names, good.ip_addresses, good.is_ca) == (("ok.example",), ("192.0.2.1",), True)
    bad_san = extension("2.5.29.17", seq(tlv(0x82, b"ok.example"), tlv(0x87, b"\x01\x02\x03")))  # 3-byte address
    assert (_ext_facts(bad_san, BC_CA).dns_names, _ext_facts(bad_san, BC_CA).is_ca) == ((), True)
    path_without_ca = extension("2.5.29.19", seq(integer(0)))  # cryptography: ValueError
    facts = _ext_facts(SAN, path_without_ca)
    assert (facts.dns_names, facts.is_ca) == (("ok.example",), False)


@pytest.mark.parametrize(
    ("extensions", "reason"),
    [
        ([BC_CA, BC_CA], "extension 2.5.29.19 appears twice"),  # cryptography raised DuplicateExtension
        ([seq(oid("2.5.29.19"), tlv(0x01, b"\x00"), tlv(0x04, seq()))], "critical FALSE"),
        ([seq(oid("2.5.29.19"))], "extnValue missing"),
    ],
)
def test_malformed_extension_lists_raise(extensions: list[bytes], reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        _ext_facts(*extensions)


def test_ip_networks_in_san_read_as_cryptography_reads_them() -> None:
    san = extension("2.5.29.17", seq(tlv(0x87, bytes([10, 1, 0, 0, 255, 255, 0, 0]))))
    assert _ext_facts(san).ip_addresses == ("10.1.0.0/16",)
    for raw in (bytes([10, 1, 0, 0, 255, 0, 255, 0]), bytes([10, 1, 0, 1, 255, 255, 0, 0]), b"\x01" * 5):
        assert _ext_facts(extension("2.5.29.17", seq(tlv(0x87, raw)))).ip_addresses == ()


# -- the version, serial, times, and the outer structure ------------------------------------------------


@pytest.mark.parametrize(
    ("der", "reason"),
    [
        (craft(version=tlv(0xA0, integer(0))), "version 0"),  # v1 is the DEFAULT: DER omits it
        (craft(version=tlv(0xA0, integer(1))), "version 1"),  # cryptography: InvalidVersion
        (craft(serial=tlv(0x02, b"\x00\x05")), "INTEGER not minimally encoded"),
        (craft(serial=tlv(0x02, b"")), "INTEGER has no octets"),
        (craft(validity=seq(utc_time("2501010000Z"), utc_time("260101000000Z"))), "UTCTime must be"),
        (craft(validity=seq(utc_time("250101000000+0100"), utc_time("260101000000Z"))), "UTCTime must be"),
        (craft(validity=seq(generalized_time("20250101000000.5Z"), utc_time("260101000000Z"))), "GeneralizedTime must"),
        (craft(validity=seq(generalized_time("00000101000000Z"), utc_time("260101000000Z"))), "no such time"),
        (craft(validity=seq(utc_time("250230000000Z"), utc_time("260101000000Z"))), "no such time"),
        (craft(validity=seq(utc_time("250101000060Z"), utc_time("260101000000Z"))), "no such time"),
        (craft() + b"\x00", "unexpected bytes after Certificate"),
        (craft()[:-1], "past the end"),
        (craft(signature=seq(oid("1.2.840.10045.4.3.2"), tlv(0x05, b""), tlv(0x05, b""))), "unexpected bytes after"),
    ],
)
def test_malformed_certificates_raise_decode_error(der: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        x509facts.certificate_facts(der)


def test_signature_algorithm_oid_and_subject_attribute() -> None:
    der = craft(signature=seq(oid("1.2.840.113549.1.1.2"), tlv(0x05, b"")), subject=name(
        [("2.5.4.10", tlv(0x0C, b"First Org"))], [("2.5.4.10", tlv(0x0C, b"Second Org"))], [("2.5.4.3", integer(7))]
    ))  # fmt: skip
    assert x509facts.signature_algorithm_oid(der) == "1.2.840.113549.1.1.2"
    assert x509facts.subject_attribute(der, x509facts.ORGANIZATION_NAME) == "First Org"
    assert x509facts.subject_attribute(der, x509facts.COMMON_NAME) == "#020107"
    assert x509facts.subject_attribute(der, "2.5.4.11") is None


# -- no cryptography at import or use --------------------------------------------------------------------


def test_x509facts_and_certchecks_never_import_cryptography() -> None:
    ders = [corpus_der("ext-everything"), corpus_der("sig-rsa-md2"), *trustme_chain()]
    script = """
import subprocess
import sys
from tlsmon import certchecks, x509facts
assert "cryptography" not in sys.modules, "imported at import time"
for line in sys.stdin:
    facts = x509facts.certificate_facts(bytes.fromhex(line))
    certchecks.weak_signature(facts), certchecks.weak_key(facts), certchecks.organization(facts)
    certchecks.hostname_matches(facts, "www.example.com")
    x509facts.dn_to_rfc4514(bytes.fromhex("3000"))
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "cryptography")
print(loaded)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        input="\n".join(der.hex() for der in ders),
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(LIB), "PATH": ""},
        cwd=str(LIB),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- mutated certificates: cryptography's facts, or DecodeError ---------------------------------------------

MUTATION_SOURCES = (
    "ext-everything",
    "name-string-types",
    "name-multi-valued",
    "key-rsa2048",
    "key-dsa1024",
    "key-ed25519",
    "sig-pss-sha256",
    "sig-rsa-sha1",
)
KEY_FIELDS = {"key_type", "key_bits", "curve"}
EXTENSION_FIELDS = {"dns_names", "ip_addresses", "is_ca", "ocsp_urls", "crl_urls", "extended_key_usages"}


@st.composite
def mutated_certificates(draw: st.DrawFn) -> bytes:
    data = bytearray(corpus_der(draw(st.sampled_from(MUTATION_SOURCES))))
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "flip", "set", "insert", "delete", "truncate"]))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[i] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[i:i] = bytes([draw(st.integers(0, 255))])
        elif kind == "delete":
            del data[i]
        else:
            del data[max(i, 1) :]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_certificates())
def test_mutated_certificates_give_cryptography_s_facts_or_decode_error(der: bytes) -> None:
    """Where both read a mutated certificate, the facts agree but for what cryptography spoiled:

    every extension when one of them is malformed, and the key when its point is off the curve
    (we check a point's form and size, not the curve equation).
    """
    try:
        ours = x509facts.certificate_facts(der)
    except DecodeError:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = expected_facts(der)
            cert = x509.load_der_x509_certificate(der)
    except Exception:  # cryptography refused it (DecodeError) or crashed on it
        return
    allowed: set[str] = set()
    try:
        cert.public_key()
    except Exception:  # off-curve point, malformed extension: cryptography raises
        allowed |= KEY_FIELDS
    try:
        list(cert.extensions)
    except Exception:  # off-curve point, malformed extension: cryptography raises
        allowed |= EXTENSION_FIELDS
    if CRYPTOGRAPHY_MAJOR < 50:  # 38 also took negative RSA and DSA numbers, and knew fewer algorithms
        allowed |= KEY_FIELDS if ours.key_type == "unknown" else set()
        allowed |= {"signature_algorithm", "signature_hash"} if expected.signature_hash == "unknown" else set()
    differing = {
        f.name for f in dataclasses.fields(CertificateFacts) if getattr(ours, f.name) != getattr(expected, f.name)
    }
    assert differing <= allowed, {f: (getattr(ours, f), getattr(expected, f)) for f in differing - allowed}
