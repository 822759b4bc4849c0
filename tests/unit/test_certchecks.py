"""certchecks: host names (RFC 6125), weak algorithms, validity, EKU and patterns; no I/O."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Optional, Sequence

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tlsmon import certchecks
from tlsmon.errors import UsageError
from tlsmon.observations import CertificateFacts
from tlsmon.x509facts import certificate_facts

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

# cryptography 38 still issues SHA-1 and MD5 certificates, with a deprecation warning
pytestmark = pytest.mark.filterwarnings("ignore:.* signatures are deprecated")

# DER of the signature algorithm OIDs (tag, length, value); all the same length, so one can
# be patched over another without re-encoding the certificate.
OID_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b")  # 1.2.840.113549.1.1.11 sha256WithRSAEncryption
OID_SHA1_RSA = bytes.fromhex("06092a864886f70d010105")  # 1.2.840.113549.1.1.5 sha1WithRSAEncryption
OID_MD5_RSA = bytes.fromhex("06092a864886f70d010104")  # 1.2.840.113549.1.1.4 md5WithRSAEncryption
OID_MD2_RSA = bytes.fromhex("06092a864886f70d010102")  # 1.2.840.113549.1.1.2 md2WithRSAEncryption

_KEYS: dict[str, object] = {}


def key(kind: str) -> object:
    """Keys are slow to make (RSA): one per kind for the whole module."""
    if kind not in _KEYS:
        if kind.startswith("rsa"):
            _KEYS[kind] = rsa.generate_private_key(65537, int(kind[3:]))
        elif kind == "p224":
            _KEYS[kind] = ec.generate_private_key(ec.SECP224R1())
        elif kind == "p256":
            _KEYS[kind] = ec.generate_private_key(ec.SECP256R1())
        elif kind == "p384":
            _KEYS[kind] = ec.generate_private_key(ec.SECP384R1())
        elif kind == "ed25519":
            _KEYS[kind] = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(kind)
    return _KEYS[kind]


def make_cert(
    *,
    key_kind: str = "p256",
    hash_alg: Optional[hashes.HashAlgorithm] = None,
    common_name: Optional[str] = "cn.example",
    organization: Optional[str] = None,
    dns: Sequence[str] = (),
    ips: Sequence[str] = (),
    eku: Optional[Sequence[x509.ObjectIdentifier]] = None,
) -> bytes:
    import ipaddress

    private = key(key_kind)
    attrs = []
    if common_name is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if organization is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attrs)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=10))
        .not_valid_after(NOW + datetime.timedelta(days=80))
    )
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if key_kind == "ed25519":
        return builder.sign(private, None).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]
    algorithm = hash_alg or hashes.SHA256()
    try:
        cert = builder.sign(private, algorithm)  # type: ignore[arg-type]
    except UnsupportedAlgorithm:
        # recent cryptography refuses to issue SHA-1 and MD5 certificates: sign SHA-256, then
        # patch the algorithm OID (same length) and sign the patched TBSCertificate for real
        return _legacy_rsa_cert(builder.sign(private, hashes.SHA256()), private, algorithm)  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.DER)


def _legacy_rsa_cert(cert: x509.Certificate, private: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm) -> bytes:
    oid = {"sha1": OID_SHA1_RSA, "md5": OID_MD5_RSA}[algorithm.name]
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der.count(OID_SHA256_RSA) == 2  # in the TBSCertificate and in the outer signatureAlgorithm
    tbs = cert.tbs_certificate_bytes.replace(OID_SHA256_RSA, oid)
    signature = private.sign(tbs, padding.PKCS1v15(), algorithm)
    assert len(signature) == len(cert.signature)
    patched = der.replace(OID_SHA256_RSA, oid)
    assert patched.endswith(cert.signature)
    return patched[: -len(signature)] + signature


def facts_of(der: bytes) -> CertificateFacts:
    return certificate_facts(der)


@pytest.fixture(scope="module")
def base_facts() -> CertificateFacts:
    return facts_of(make_cert())


# -- host names -----------------------------------------------------------------------------------

SANS = ("example.com", "*.example.net", "xn--bcher-kva.example", "f*.example.org", "*.com", "a.*.example.edu")
IPS = ("192.0.2.1", "2001:db8::1")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("example.com", True),
        ("EXAMPLE.COM.", True),  # case and the trailing dot do not matter
        ("www.example.com", False),
        ("a.example.net", True),  # wildcard: exactly one left-most label
        ("A.Example.NET.", True),
        ("example.net", False),
        ("a.b.example.net", False),
        (".example.net", False),
        ("*.example.net", False),  # a wildcard in the reference name never matches
        ("bücher.example", True),  # U-label converted to the A-label in the certificate
        ("BÜCHER.example.", True),
        ("xn--bcher-kva.example", True),
        ("XN--BCHER-KVA.EXAMPLE", True),
        ("bucher.example", False),
        ("foo.example.org", False),  # partial wildcard f*: never matches
        ("f.example.org", False),
        ("f*.example.org", False),
        ("x.com", False),  # *.com: a wildcard needs two labels after it
        ("a.x.example.edu", False),  # wildcard not in the left-most label
        ("192.0.2.1", True),
        ("192.0.2.2", False),
        ("2001:db8::1", True),
        ("2001:DB8:0:0:0:0:0:1", True),  # IPv6 compared as addresses
        ("[2001:db8::1]", True),
        ("2001:db8::2", False),
        ("", False),
        ("a..example.com", False),
    ],
)
def test_hostname_table(base_facts: CertificateFacts, name: str, expected: bool) -> None:
    facts = dataclasses.replace(base_facts, dns_names=SANS, ip_addresses=IPS, common_name="example.com")
    assert certchecks.hostname_matches(facts, name) is expected


@pytest.mark.parametrize(
    ("dns", "ips", "cn", "name", "expected"),
    [
        ((), (), "legacy.example", "legacy.example", True),  # no SAN at all: the CN counts
        ((), (), "legacy.example", "LEGACY.example.", True),
        ((), (), "*.legacy.example", "a.legacy.example", True),
        ((), (), "legacy.example", "other.example", False),
        ((), (), None, "legacy.example", False),
        (("san.example",), (), "legacy.example", "legacy.example", False),  # a DNS SAN hides the CN
        ((), ("192.0.2.5",), "legacy.example", "legacy.example", False),  # so does an IP SAN
        ((), (), "192.0.2.9", "192.0.2.9", False),  # an IP address never matches the CN
        (("192.0.2.7",), (), None, "192.0.2.7", False),  # nor a dNSName spelling an address
        (("*.2.0.192",), (), None, "host.2.0.192", True),  # numeric labels: still a DNS name
        (("*.2.0.192",), (), None, "1.2.0.192", False),  # ... but this one is an address
        (("*.0.2.1",), (), None, "192.0.2.1", False),  # no wildcards for addresses
        ((), ("::ffff:192.0.2.1",), None, "192.0.2.1", False),  # IPv4-mapped is a different address
    ],
)
def test_hostname_cn_fallback_and_ip_rules(
    base_facts: CertificateFacts,
    dns: tuple[str, ...],
    ips: tuple[str, ...],
    cn: Optional[str],
    name: str,
    expected: bool,
) -> None:
    facts = dataclasses.replace(base_facts, dns_names=dns, ip_addresses=ips, common_name=cn)
    assert certchecks.hostname_matches(facts, name) is expected


def test_hostname_with_real_certificates() -> None:
    with_san = facts_of(make_cert(common_name="cn.example", dns=["san.example", "*.wild.example"], ips=["::1"]))
    assert certchecks.hostname_matches(with_san, "san.example")
    assert certchecks.hostname_matches(with_san, "x.wild.example")
    assert certchecks.hostname_matches(with_san, "0:0::1")
    assert not certchecks.hostname_matches(with_san, "cn.example")
    cn_only = facts_of(make_cert(common_name="cn.example"))
    assert certchecks.hostname_matches(cn_only, "cn.example")
    idn = facts_of(make_cert(dns=["xn--mnchen-3ya.example"]))
    assert certchecks.hostname_matches(idn, "münchen.example")


# -- weak signatures and keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_kind", "hash_alg", "expected"),
    [
        ("rsa2048", hashes.SHA256(), None),
        ("rsa2048", hashes.SHA1(), "sha1"),
        ("rsa2048", hashes.MD5(), "md5"),
        ("p256", hashes.SHA256(), None),
        ("p384", hashes.SHA384(), None),
        ("ed25519", None, None),
    ],
)
def test_weak_signature(key_kind: str, hash_alg: Optional[hashes.HashAlgorithm], expected: Optional[str]) -> None:
    facts = facts_of(make_cert(key_kind=key_kind, hash_alg=hash_alg))
    assert certchecks.weak_signature(facts) == expected


def test_weak_signature_md2_which_cryptography_cannot_name() -> None:
    der = make_cert(key_kind="rsa2048").replace(OID_SHA256_RSA, OID_MD2_RSA)  # signature now invalid: unused
    facts = facts_of(der)
    assert facts.signature_hash in ("unknown", None)
    assert certchecks.weak_signature(facts) == "md2"


@pytest.mark.parametrize(
    ("key_kind", "expected"),
    [
        ("rsa1024", "RSA 1024 bits"),
        ("rsa2048", None),
        ("p256", None),
        ("p384", None),
        ("ed25519", None),
    ],
)
def test_weak_key(key_kind: str, expected: Optional[str]) -> None:
    facts = facts_of(make_cert(key_kind=key_kind))
    assert certchecks.weak_key(facts) == expected


def test_weak_key_small_curve_and_dsa(base_facts: CertificateFacts) -> None:
    try:
        p224 = facts_of(make_cert(key_kind="p224"))
    except UnsupportedAlgorithm:
        p224 = dataclasses.replace(base_facts, key_type="EC", key_bits=224, curve="secp224r1")
    assert certchecks.weak_key(p224) == "EC 224 bits"
    assert certchecks.weak_key(dataclasses.replace(base_facts, key_type="DSA", key_bits=1024)) == "DSA 1024 bits"
    assert certchecks.weak_key(dataclasses.replace(base_facts, key_type="DSA", key_bits=2048)) is None
    assert certchecks.weak_key(dataclasses.replace(base_facts, key_type="unknown", key_bits=0)) is None


# -- validity and EKU -----------------------------------------------------------------------------


def test_validity(base_facts: CertificateFacts) -> None:
    assert certchecks.validity_days(base_facts) == pytest.approx(90.0)
    assert certchecks.days_left(base_facts, NOW) == pytest.approx(80.0)
    assert certchecks.days_left(base_facts, NOW + datetime.timedelta(days=81)) == pytest.approx(-1.0)
    assert not certchecks.not_yet_valid(base_facts, NOW)
    assert certchecks.not_yet_valid(base_facts, NOW - datetime.timedelta(days=11))


@pytest.mark.parametrize(
    ("eku", "expected"),
    [
        (None, True),  # no EKU extension: any purpose
        ([ExtendedKeyUsageOID.SERVER_AUTH], True),
        ([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH], True),
        ([ExtendedKeyUsageOID.CLIENT_AUTH], False),
        ([ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION], False),
        ([x509.ObjectIdentifier(certchecks.ANY_EXTENDED_KEY_USAGE)], True),
    ],
)
def test_has_server_auth(eku: Optional[list[x509.ObjectIdentifier]], expected: bool) -> None:
    assert certchecks.has_server_auth(facts_of(make_cert(eku=eku))) is expected


# -- patterns -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("CN=R3,O=Let's Encrypt,C=US", "let's encrypt", True),
        ("CN=R3,O=Let's Encrypt,C=US", "^CN=R\\d,", True),
        ("CN=R3,O=Let's Encrypt,C=US", "^O=", False),
        ("Example Org", "example (org|inc)", True),
        ("0A1B", "0a1b", True),
        (None, ".*", False),
    ],
)
def test_matches_pattern(text: Optional[str], pattern: str, expected: bool) -> None:
    assert certchecks.matches_pattern(text, pattern) is expected


def test_matches_pattern_rejects_bad_regex() -> None:
    with pytest.raises(UsageError, match="invalid pattern"):
        certchecks.matches_pattern("x", "(unclosed")


def test_fingerprints(base_facts: CertificateFacts) -> None:
    assert certchecks.normalize_fingerprint("AB:cd Ef\t01") == "abcdef01"
    colons = ":".join(base_facts.sha256[i : i + 2] for i in range(0, 64, 2)).upper()
    assert certchecks.fingerprint_matches(base_facts, colons)
    assert certchecks.fingerprint_matches(base_facts, base_facts.sha1.upper())
    assert not certchecks.fingerprint_matches(base_facts, base_facts.sha256[:40])  # a prefix is not enough
    assert not certchecks.fingerprint_matches(base_facts, "")


def test_organization() -> None:
    assert certchecks.organization(facts_of(make_cert(organization="Example Org"))) == "Example Org"
    assert certchecks.organization(facts_of(make_cert())) is None
