"""DER certificates and names to plain facts with our own DER reader; no I/O, no clock.

``certificate_facts`` turns a DER certificate into ``CertificateFacts``; ``dn_to_rfc4514``
turns a DER DistinguishedName (as in a CertificateRequest) into its RFC 4514 string.
Neither imports ``cryptography`` (its import alone costs a short-lived plugin ~20 ms),
yet both give what ``cryptography`` (50) gives for the same certificate: names formatted as
``Name.rfc4514_string()`` does, its names for algorithms and curves, its key sizes. Trust
is for the TLS stack to decide: nothing here checks a signature, nor that a point lies on
its curve.

The structure is read strictly (DER, RFC 5280) and a malformed one raises ``DecodeError``.
Where ``cryptography`` raised on a well-formed certificate, we answer: a T61String that is
not UTF-8 reads as Latin-1, a PrintableString is not held to its character set, a
non-string attribute value is ``#`` + the hex of its DER (RFC 4514 §2.4), an unnamed
signature algorithm is its dotted OID, and a malformed extension counts as absent on its
own rather than hiding all the others.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from typing import Callable, NamedTuple, Optional, TypeVar, Union

from . import der as d
from .errors import DecodeError
from .observations import CertificateFacts

__all__ = [
    "certificate_facts",
    "dn_to_rfc4514",
    "signature_algorithm_oid",
    "subject_attribute",
    "COMMON_NAME",
    "ORGANIZATION_NAME",
]

Value = Union[str, bytes]  # bytes: rendered as #hex (RFC 4514 §2.4)
Rdn = tuple[tuple[str, Value], ...]
Name = tuple[Rdn, ...]
T = TypeVar("T")

COMMON_NAME = "2.5.4.3"  # X.520 id-at-commonName
ORGANIZATION_NAME = "2.5.4.10"  # X.520 id-at-organizationName
_X500_UNIQUE_IDENTIFIER = "2.5.4.45"

# cryptography's x509.name._NAMEOID_TO_NAME (the same in 38 and 50): short names of RFC 4514 §3
_SHORT_NAMES = {
    COMMON_NAME: "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    ORGANIZATION_NAME: "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}

# cryptography's hazmat._oid._OID_NAMES for signature and key algorithms (as of 50).
_ALGORITHM_NAMES = {
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",  # "RSASSA-PSS" before cryptography 42
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.2.840.10040.4.3": "dsa-with-sha1",
    "2.16.840.1.101.3.4.3.1": "dsa-with-sha224",
    "2.16.840.1.101.3.4.3.2": "dsa-with-sha256",
    "1.3.101.112": "ed25519",
    "1.3.101.113": "ed448",
    "2.16.840.1.101.3.4.3.17": "ML-DSA-44",
    "2.16.840.1.101.3.4.3.18": "ML-DSA-65",
    "2.16.840.1.101.3.4.3.19": "ML-DSA-87",
    "1.2.643.2.2.3": "GOST R 34.11-94 with GOST R 34.10-2001",
    "1.2.643.7.1.1.3.2": "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)",
    "1.2.643.7.1.1.3.3": "GOST R 34.10-2012 with GOST R 34.11-2012 (512 bit)",
    "1.2.840.10040.4.1": "dsaEncryption",
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
}

_RSASSA_PSS = "1.2.840.113549.1.1.10"

# cryptography's _SIG_OIDS_TO_HASH: the hash in a signature algorithm (None: the algorithm has none)
_SIGNATURE_HASHES: dict[str, Optional[str]] = {
    "1.2.840.113549.1.1.4": "md5",
    "1.2.840.113549.1.1.5": "sha1",
    "1.3.14.3.2.29": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
    "2.16.840.1.101.3.4.3.13": "sha3-224",
    "2.16.840.1.101.3.4.3.14": "sha3-256",
    "2.16.840.1.101.3.4.3.15": "sha3-384",
    "2.16.840.1.101.3.4.3.16": "sha3-512",
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
    "2.16.840.1.101.3.4.3.9": "sha3-224",
    "2.16.840.1.101.3.4.3.10": "sha3-256",
    "2.16.840.1.101.3.4.3.11": "sha3-384",
    "2.16.840.1.101.3.4.3.12": "sha3-512",
    "1.2.840.10040.4.3": "sha1",
    "2.16.840.1.101.3.4.3.1": "sha224",
    "2.16.840.1.101.3.4.3.2": "sha256",
    "1.3.101.112": None,
    "1.3.101.113": None,
    "2.16.840.1.101.3.4.3.17": None,
    "2.16.840.1.101.3.4.3.18": None,
    "2.16.840.1.101.3.4.3.19": None,
    "1.2.643.2.2.3": None,
    "1.2.643.7.1.1.3.2": None,
    "1.2.643.7.1.1.3.3": None,
    "1.3.6.1.5.5.7.6.36": None,  # id-alg-unsigned
}

# Hash algorithm OIDs in RSASSA-PSS-params (RFC 4055 §3.1), as cryptography names them
_HASHES = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "2.16.840.1.101.3.4.2.7": "sha3-224",
    "2.16.840.1.101.3.4.2.8": "sha3-256",
    "2.16.840.1.101.3.4.2.9": "sha3-384",
    "2.16.840.1.101.3.4.2.10": "sha3-512",
    "1.3.6.1.4.1.37476.3.2.1.99.7.224": "sha3-224",
    "1.3.6.1.4.1.37476.3.2.1.99.7.256": "sha3-256",
    "1.3.6.1.4.1.37476.3.2.1.99.7.384": "sha3-384",
    "1.3.6.1.4.1.37476.3.2.1.99.7.512": "sha3-512",
}

# Named curves (RFC 5480 §2.1.1.1, RFC 5639): cryptography's name and key_size
_CURVES = {
    "1.2.840.10045.3.1.1": ("secp192r1", 192),
    "1.3.132.0.33": ("secp224r1", 224),
    "1.2.840.10045.3.1.7": ("secp256r1", 256),
    "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521),
    "1.3.132.0.10": ("secp256k1", 256),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512),
    "1.3.132.0.1": ("sect163k1", 163),
    "1.3.132.0.15": ("sect163r2", 163),
    "1.3.132.0.26": ("sect233k1", 233),
    "1.3.132.0.27": ("sect233r1", 233),
    "1.3.132.0.16": ("sect283k1", 283),
    "1.3.132.0.17": ("sect283r1", 283),
    "1.3.132.0.36": ("sect409k1", 409),
    "1.3.132.0.37": ("sect409r1", 409),
    "1.3.132.0.38": ("sect571k1", 571),
    "1.3.132.0.39": ("sect571r1", 570),  # sic: cryptography's key_size
}

_RSA = "1.2.840.113549.1.1.1"
_EC = "1.2.840.10045.2.1"
_ED25519 = "1.3.101.112"
_ED448 = "1.3.101.113"
_DSA = "1.2.840.10040.4.1"

_SUBJECT_ALT_NAME = "2.5.29.17"
_BASIC_CONSTRAINTS = "2.5.29.19"
_CRL_DISTRIBUTION_POINTS = "2.5.29.31"
_EXTENDED_KEY_USAGE = "2.5.29.37"
_AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1"
_AD_OCSP = "1.3.6.1.5.5.7.48.1"

# Strings cryptography reads as UTF-8 in a name (its _ASN1Type, less BIT STRING and the
# two it decodes otherwise): OCTET STRING and the times too.
_UTF8_VALUE_TAGS = frozenset(
    {
        d.OCTET_STRING,
        d.UTF8_STRING,
        d.NUMERIC_STRING,
        d.PRINTABLE_STRING,
        d.T61_STRING,
        d.IA5_STRING,
        d.UTC_TIME,
        d.GENERALIZED_TIME,
        d.VISIBLE_STRING,
    }
)
_UNICODE_VALUE_TAGS = frozenset({d.UNIVERSAL_STRING, d.BMP_STRING})

_CERT = "certificate"

# RFC 4514 §2.4 as cryptography's _escape_dn_value applies it; the backslash first
_ESCAPES = (
    ("\\", "\\\\"),
    ('"', '\\"'),
    ("+", "\\+"),
    (",", "\\,"),
    (";", "\\;"),
    ("<", "\\<"),
    (">", "\\>"),
    ("\0", "\\00"),
)


# -- names (RFC 5280 §4.1.2.4, RFC 4514) ----------------------------------------------------------


def _attribute_value(tlv: d.Tlv, oid: str, strict: bool) -> Value:
    if tlv.cls == d.UNIVERSAL and not tlv.constructed:
        if tlv.number in _UTF8_VALUE_TAGS:
            try:
                return str(tlv.view, "utf-8")
            except UnicodeDecodeError:
                if tlv.number != d.T61_STRING:
                    raise tlv.fail(f"{d.tag_name(tlv.cls, tlv.number)} is not valid UTF-8") from None
                return str(tlv.view, "latin-1")
        if tlv.number in _UNICODE_VALUE_TAGS:
            return d.decode_string(tlv)
        if tlv.number == d.BIT_STRING and oid == _X500_UNIQUE_IDENTIFIER:
            return tlv.value  # cryptography's x500UniqueIdentifier: the octets after the tag and length
    if strict:
        raise tlv.fail(f"attribute value {d.tag_name(tlv.cls, tlv.number)} is not a string")
    return tlv.encoded


def _read_rdn(tlv: d.Tlv, strict: bool = False) -> Rdn:
    """RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue.

    ``strict`` refuses values other than strings, as cryptography does in names inside extensions.
    """
    attrs: list[tuple[str, Value]] = []
    members = tlv.reader()
    previous = b""
    while not members.at_end():
        atv_tlv = members.read_tag(d.UNIVERSAL, d.SEQUENCE, "AttributeTypeAndValue", constructed=True)
        if attrs or not members.at_end():  # X.690 §11.6: a SET OF in ascending order of the encodings
            encoded = atv_tlv.encoded
            if encoded < previous:
                raise atv_tlv.fail("SET OF not in DER order")
            previous = encoded
        atv = atv_tlv.reader()
        oid = d.decode_oid(atv.read_tag(d.UNIVERSAL, d.OBJECT_IDENTIFIER, "AttributeType"))
        attrs.append((oid, _attribute_value(atv.read("AttributeValue"), oid, strict)))
        atv.finish("AttributeTypeAndValue")
    if not attrs:
        raise tlv.fail("empty RelativeDistinguishedName")
    return tuple(attrs)


def _read_name(tlv: d.Tlv, strict: bool = False) -> Name:
    """Name ::= SEQUENCE OF RelativeDistinguishedName (RFC 5280 §4.1.2.4)."""
    if not tlv.is_universal(d.SEQUENCE) or not tlv.constructed:
        raise tlv.fail("Name is not a SEQUENCE")
    rdns = []
    names = tlv.reader()
    while not names.at_end():
        rdn = names.read_tag(d.UNIVERSAL, d.SET, "RelativeDistinguishedName", constructed=True)
        rdns.append(_read_rdn(rdn, strict))
    return tuple(rdns)


def _escape(value: Value) -> str:
    """cryptography's ``_escape_dn_value`` (as of 50)."""
    if not value:
        return ""
    if isinstance(value, bytes):
        return "#" + value.hex()
    for char, escaped in _ESCAPES:
        if char in value:
            value = value.replace(char, escaped)
    if value[0] == "#" or (value[0] == " " and len(value) > 1):
        value = "\\" + value
    if value[-1] == " ":
        value = value[:-1] + "\\ "
    return value


def _rfc4514(name: Name) -> str:
    """RFC 4514 §2.1: the RDNs last first, joined by ``,``; an RDN's attributes joined by ``+``."""
    return ",".join(
        "+".join(f"{_SHORT_NAMES.get(oid, oid)}={_escape(value)}" for oid, value in rdn) for rdn in reversed(name)
    )


def _same_name(a: Name, b: Name) -> bool:
    """cryptography's ``Name.__eq__``: RDNs in order, each compared as a set of (type, value)."""
    return len(a) == len(b) and all(frozenset(x) == frozenset(y) for x, y in zip(a, b))


def _first(name: Name, oid: str) -> Optional[str]:
    for rdn in name:
        for attr_oid, value in rdn:
            if attr_oid == oid:
                return value if isinstance(value, str) else "#" + value.hex()
    return None


def dn_to_rfc4514(der: bytes) -> str:
    """The RFC 4514 string of a DER Name, as ``cryptography`` formats it.

    Raises:
        DecodeError: the bytes are not one well-formed DER Name.
    """
    reader = d.DerReader(der, "DistinguishedName")
    name = _read_name(reader.read("Name"))
    reader.finish("Name")
    return _rfc4514(name)


# -- algorithms and keys (RFC 5280 §4.1.1.2 and §4.1.2.7, RFC 3279, RFC 4055, RFC 8410) ------------


def _read_algorithm(reader: d.DerReader, field: str) -> tuple[str, Optional[d.Tlv]]:
    """AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }."""
    alg = reader.read_sequence(field)
    oid = d.decode_oid(alg.read_tag(d.UNIVERSAL, d.OBJECT_IDENTIFIER, f"{field} algorithm"))
    params = None if alg.at_end() else alg.read(f"{field} parameters")
    alg.finish(field)
    return oid, params


def _pss_hash(params: Optional[d.Tlv]) -> str:
    """RSASSA-PSS-params (RFC 4055 §3.1): hashAlgorithm [0] EXPLICIT, SHA-1 by default."""
    if params is None or not params.is_universal(d.SEQUENCE) or not params.constructed:
        return "unknown"
    try:
        fields = params.reader()
        tagged = fields.read_optional(d.CONTEXT, 0, "hashAlgorithm", constructed=True)
        if tagged is None:
            return "sha1"
        inner = tagged.reader()
        oid, _ = _read_algorithm(inner, "hashAlgorithm")
        inner.finish("hashAlgorithm")
    except DecodeError:
        return "unknown"
    return _HASHES.get(oid, "unknown")


def _signature_hash(oid: str, params: Optional[d.Tlv]) -> Optional[str]:
    if oid == _RSASSA_PSS:
        return _pss_hash(params)
    return _SIGNATURE_HASHES.get(oid, "unknown")


def _integers(reader: d.DerReader, field: str, count: int) -> list[int]:
    """``count`` INTEGERs that make up all of ``reader``."""
    values = [d.decode_integer(reader.read_tag(d.UNIVERSAL, d.INTEGER, field)) for _ in range(count)]
    reader.finish(field)
    return values


def _key_facts(oid: str, params: Optional[d.Tlv], key_tlv: d.Tlv) -> tuple[str, int, Optional[str]]:
    """(key type, bits, curve) as cryptography's public key reports them; ``unknown`` if unreadable."""
    try:
        key, unused = d.decode_bit_string(key_tlv)
        if unused:
            return "unknown", 0, None
        if oid in (_RSA, _RSASSA_PSS):  # RFC 8017 §A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent }
            modulus, exponent = _integers(key_tlv.encapsulated(1).read_sequence("RSAPublicKey"), "RSAPublicKey", 2)
            if exponent < 3 or not exponent & 1 or exponent >= modulus:  # what cryptography refuses
                return "unknown", 0, None
            return "RSA", modulus.bit_length(), None
        if oid == _EC:  # RFC 5480 §2.1.1: namedCurve only; SEC 1 §2.3.3 points, X9.62 hybrid too
            if params is None or not params.is_universal(d.OBJECT_IDENTIFIER):
                return "unknown", 0, None
            curve = _CURVES.get(d.decode_oid(params))
            if curve is None:
                return "unknown", 0, None
            size = (curve[1] + 7) // 8
            form = key[0] if key else 0
            if len(key) != (1 + 2 * size if form in (4, 6, 7) else 1 + size) or form not in (2, 3, 4, 6, 7):
                return "unknown", 0, None
            if form in (6, 7) and key[-1] & 1 != form & 1:  # X9.62 hybrid: the form byte repeats y's parity
                return "unknown", 0, None
            return "EC", curve[1], curve[0]
        if oid in (_ED25519, _ED448) and params is None:  # RFC 8410 §3: parameters absent
            if oid == _ED25519:
                return ("Ed25519", 256, None) if len(key) == 32 else ("unknown", 0, None)
            return ("Ed448", 456, None) if len(key) == 57 else ("unknown", 0, None)
        if oid == _DSA:  # RFC 3279 §2.3.2: Dss-Parms ::= SEQUENCE { p, q, g }; the key is INTEGER y
            if params is None or not params.is_universal(d.SEQUENCE) or not params.constructed:
                return "unknown", 0, None
            numbers = _integers(params.reader(), "Dss-Parms", 3) + _integers(key_tlv.encapsulated(1), "DSAPublicKey", 1)
            if min(numbers) < 0:
                return "unknown", 0, None
            return "DSA", numbers[0].bit_length(), None
    except DecodeError:
        pass
    return "unknown", 0, None


# -- extensions (RFC 5280 §4.2) --------------------------------------------------------------------


def _ia5(tlv: d.Tlv) -> str:
    """An IA5String GeneralName; cryptography reads it as UTF-8."""
    try:
        return str(d.decode_octet_string(tlv, implicit=True), "utf-8")
    except UnicodeDecodeError:
        raise tlv.fail("IA5String name is not valid UTF-8") from None


def _ip(tlv: d.Tlv) -> str:
    """An iPAddress GeneralName as cryptography reads it: an address, or an address and mask."""
    raw = d.decode_octet_string(tlv, implicit=True)
    if len(raw) in (4, 16):
        return str(ipaddress.ip_address(raw))
    if len(raw) not in (8, 32):
        raise tlv.fail(f"iPAddress of {len(raw)} octets")
    half = len(raw) // 2
    bits = half * 8
    mask = int.from_bytes(raw[half:], "big")
    prefix = bin(mask).count("1")
    if mask != ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1):
        raise tlv.fail("iPAddress mask is not a prefix")
    try:
        return str(ipaddress.ip_network(f"{ipaddress.ip_address(raw[:half]).exploded}/{prefix}"))
    except ValueError:  # host bits set
        raise tlv.fail("iPAddress network has host bits set") from None


def _general_name(tlv: d.Tlv) -> Optional[str]:
    """RFC 5280 §4.2.1.6 GeneralName: the text of dNSName [2], URI [6] and iPAddress [7]; checks the others."""
    if tlv.cls != d.CONTEXT:
        raise tlv.fail("GeneralName is not context-tagged")
    number = tlv.number
    if number in (1, 2, 6):  # rfc822Name, dNSName, uniformResourceIdentifier
        return _ia5(tlv)
    if number == 7:
        return _ip(tlv)
    if number == 8:  # registeredID
        d.decode_oid(tlv, implicit=True)
    elif number == 0:  # otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
        other = tlv.reader()
        d.decode_oid(other.read_tag(d.UNIVERSAL, d.OBJECT_IDENTIFIER, "otherName type-id"))
        value = other.read_tag(d.CONTEXT, 0, "otherName value", constructed=True).reader()
        other.finish("otherName")
        value.read("otherName value")
        value.finish("otherName value")
    elif number == 4:  # directoryName [4] EXPLICIT Name
        inner = tlv.reader()
        _read_name(inner.read("directoryName"), strict=True)
        inner.finish("directoryName")
    elif number not in (3, 5) or not tlv.constructed:  # x400Address, ediPartyName: SEQUENCEs, not read
        raise tlv.fail(f"GeneralName [{number}]")
    return None


def _general_names(reader: d.DerReader, field: str) -> list[tuple[int, Optional[str]]]:
    """GeneralNames ::= SEQUENCE OF GeneralName: (tag number, text) of each."""
    names = []
    while not reader.at_end():
        tlv = reader.read(field)
        names.append((tlv.number, _general_name(tlv)))
    return names


def _subject_alt_name(value: d.DerReader) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names = _general_names(value.read_sequence("subjectAltName"), "GeneralName")
    value.finish("subjectAltName")
    dns_names = tuple(text for number, text in names if number == 2 and text is not None)
    return dns_names, tuple(text for number, text in names if number == 7 and text is not None)


def _basic_constraints_ca(value: d.DerReader) -> bool:
    seq = value.read_sequence("basicConstraints")
    value.finish("basicConstraints")
    ca_tlv = seq.read_optional(d.UNIVERSAL, d.BOOLEAN, "cA")
    ca = ca_tlv is not None and d.decode_boolean(ca_tlv)
    if ca_tlv is not None and not ca:
        raise ca_tlv.fail("cA FALSE must be omitted (DER default)")
    path_tlv = seq.read_optional(d.UNIVERSAL, d.INTEGER, "pathLenConstraint")
    seq.finish("basicConstraints")
    if path_tlv is not None and (not ca or d.decode_integer(path_tlv) < 0):
        raise path_tlv.fail("pathLenConstraint without cA, or negative")  # cryptography refuses both
    return ca


def _ocsp_urls(value: d.DerReader) -> tuple[str, ...]:
    """AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod, accessLocation }."""
    seq = value.read_sequence("authorityInfoAccess")
    value.finish("authorityInfoAccess")
    urls = []
    while not seq.at_end():
        desc = seq.read_sequence("AccessDescription")
        method = d.decode_oid(desc.read_tag(d.UNIVERSAL, d.OBJECT_IDENTIFIER, "accessMethod"))
        location = desc.read("accessLocation")
        text = _general_name(location)
        desc.finish("AccessDescription")
        if method == _AD_OCSP and location.number == 6 and text is not None:
            urls.append(text)
    return tuple(urls)


def _crl_urls(value: d.DerReader) -> tuple[str, ...]:
    """CRLDistributionPoints ::= SEQUENCE OF DistributionPoint; the URIs of each fullName."""
    seq = value.read_sequence("cRLDistributionPoints")
    value.finish("cRLDistributionPoints")
    urls = []
    while not seq.at_end():
        point = seq.read_sequence("DistributionPoint")
        dp_name = point.read_optional(d.CONTEXT, 0, "distributionPoint", constructed=True)
        reasons = point.read_optional(d.CONTEXT, 1, "reasons")
        crl_issuer = point.read_optional(d.CONTEXT, 2, "cRLIssuer", constructed=True)
        point.finish("DistributionPoint")
        if reasons is not None:
            d.decode_bit_string(reasons, implicit=True)
        if crl_issuer is not None:
            _general_names(crl_issuer.reader(), "cRLIssuer")
        if dp_name is None:
            if crl_issuer is None:
                raise point.fail("DistributionPoint with neither a name nor a cRLIssuer")
            continue
        choice_reader = dp_name.reader()
        choice = choice_reader.read("DistributionPointName")
        choice_reader.finish("DistributionPointName")
        if choice.cls == d.CONTEXT and choice.number == 0 and choice.constructed:  # fullName
            names = _general_names(choice.reader(), "fullName")
            urls += [text for n, text in names if n == 6 and text is not None]
        elif choice.cls == d.CONTEXT and choice.number == 1 and choice.constructed:  # nameRelativeToCRLIssuer
            _read_rdn(choice, strict=True)
        else:
            raise choice.fail("DistributionPointName is neither fullName nor nameRelativeToCRLIssuer")
    return tuple(urls)


def _extended_key_usages(value: d.DerReader) -> tuple[str, ...]:
    """ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId."""
    seq = value.read_sequence("extKeyUsage")
    value.finish("extKeyUsage")
    oids = []
    while not seq.at_end():
        oids.append(d.decode_oid(seq.read_tag(d.UNIVERSAL, d.OBJECT_IDENTIFIER, "KeyPurposeId")))
    return tuple(oids)


def _read_extensions(tlv: d.Tlv) -> dict[str, d.Tlv]:
    """extensions [3] EXPLICIT SEQUENCE OF Extension { extnID, critical DEFAULT FALSE, extnValue }."""
    outer = tlv.reader()
    seq = outer.read_sequence("Extensions")
    outer.finish("extensions")
    found: dict[str, d.Tlv] = {}
    while not seq.at_end():
        ext = seq.read_sequence("Extension")
        oid_tlv = ext.read_tag(d.UNIVERSAL, d.OBJECT_IDENTIFIER, "extnID")
        oid = d.decode_oid(oid_tlv)
        critical = ext.read_optional(d.UNIVERSAL, d.BOOLEAN, "critical")
        if critical is not None and not d.decode_boolean(critical):
            raise critical.fail("critical FALSE must be omitted (DER default)")
        found_value = ext.read_tag(d.UNIVERSAL, d.OCTET_STRING, "extnValue")
        ext.finish("Extension")
        if oid in found:  # RFC 5280 §4.2: at most one instance of an extension
            raise oid_tlv.fail(f"extension {oid} appears twice")
        found[oid] = found_value
    return found


# -- certificates (RFC 5280 §4.1) ------------------------------------------------------------------


class _Certificate(NamedTuple):
    serial: int
    signature_oid: str
    signature_params: Optional[d.Tlv]
    issuer: Name
    not_before: datetime
    not_after: datetime
    subject: Name
    key_oid: str
    key_params: Optional[d.Tlv]
    key: d.Tlv
    extensions: dict[str, d.Tlv]


def _read_certificate(der: bytes) -> _Certificate:
    """Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }, strictly."""
    top = d.DerReader(der, _CERT)
    cert = top.read_sequence("Certificate")
    top.finish("Certificate")
    tbs = cert.read_sequence("tbsCertificate")
    signature_oid, signature_params = _read_algorithm(cert, "signatureAlgorithm")
    d.decode_bit_string(cert.read_tag(d.UNIVERSAL, d.BIT_STRING, "signatureValue"))
    cert.finish("Certificate")

    version = tbs.read_optional(d.CONTEXT, 0, "version", constructed=True)
    if version is not None:  # v1 (0) is the DEFAULT, so DER omits it; v2 (1): cryptography refuses it too
        inner = version.reader()
        number = d.decode_integer(inner.read_tag(d.UNIVERSAL, d.INTEGER, "version"))
        inner.finish("version")
        if number != 2:
            raise version.fail(f"X.509 version {number} is not v3 (2), and v1 must be omitted")
    serial = d.decode_integer(tbs.read_tag(d.UNIVERSAL, d.INTEGER, "serialNumber"))
    _read_algorithm(tbs, "signature")
    issuer = _read_name(tbs.read("issuer"))
    validity = tbs.read_sequence("validity")
    not_before = d.decode_time(validity.read("notBefore"))
    not_after = d.decode_time(validity.read("notAfter"))
    validity.finish("validity")
    subject = _read_name(tbs.read("subject"))
    spki = tbs.read_sequence("subjectPublicKeyInfo")
    key_oid, key_params = _read_algorithm(spki, "algorithm")
    key = spki.read_tag(d.UNIVERSAL, d.BIT_STRING, "subjectPublicKey")
    d.decode_bit_string(key)
    spki.finish("subjectPublicKeyInfo")
    for number, field in ((1, "issuerUniqueID"), (2, "subjectUniqueID")):
        unique_id = tbs.read_optional(d.CONTEXT, number, field)
        if unique_id is not None:
            d.decode_bit_string(unique_id, implicit=True)
    extensions = tbs.read_optional(d.CONTEXT, 3, "extensions", constructed=True)
    tbs.finish("tbsCertificate")
    found = _read_extensions(extensions) if extensions is not None else {}
    return _Certificate(
        serial=serial,
        signature_oid=signature_oid,
        signature_params=signature_params,
        issuer=issuer,
        not_before=not_before,
        not_after=not_after,
        subject=subject,
        key_oid=key_oid,
        key_params=key_params,
        key=key,
        extensions=found,
    )


def _extension(cert: _Certificate, oid: str, read: Callable[[d.DerReader], T], absent: T) -> T:
    """One extension's value; a malformed one counts as absent, as it did with cryptography."""
    tlv = cert.extensions.get(oid)
    if tlv is None:
        return absent
    try:
        return read(tlv.encapsulated())
    except DecodeError:
        return absent


def certificate_facts(der: bytes) -> CertificateFacts:
    """Facts of one DER certificate.

    Args:
        der: one certificate, DER-encoded, and nothing after it.

    Returns:
        its facts, with RFC 4514 names and algorithm names as ``cryptography`` gives them.

    Raises:
        DecodeError: the bytes are not a well-formed DER X.509 v1 or v3 certificate.
    """
    cert = _read_certificate(der)
    key_type, key_bits, curve = _key_facts(cert.key_oid, cert.key_params, cert.key)
    no_names: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    dns_names, ips = _extension(cert, _SUBJECT_ALT_NAME, _subject_alt_name, no_names)
    return CertificateFacts(
        der=der,
        subject=_rfc4514(cert.subject),
        issuer=_rfc4514(cert.issuer),
        serial=format(cert.serial, "X"),
        not_before=cert.not_before,
        not_after=cert.not_after,
        sha256=hashlib.sha256(der).hexdigest(),
        sha1=hashlib.sha1(der).hexdigest(),  # noqa: S324 - a fingerprint, not a security use
        signature_algorithm=_ALGORITHM_NAMES.get(cert.signature_oid, cert.signature_oid),
        signature_hash=_signature_hash(cert.signature_oid, cert.signature_params),
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        dns_names=dns_names,
        ip_addresses=ips,
        is_ca=_extension(cert, _BASIC_CONSTRAINTS, _basic_constraints_ca, False),
        self_issued=_same_name(cert.subject, cert.issuer),
        ocsp_urls=_extension(cert, _AUTHORITY_INFO_ACCESS, _ocsp_urls, ()),
        crl_urls=_extension(cert, _CRL_DISTRIBUTION_POINTS, _crl_urls, ()),
        extended_key_usages=_extension(cert, _EXTENDED_KEY_USAGE, _extended_key_usages, ()),
        common_name=_first(cert.subject, COMMON_NAME),
    )


def signature_algorithm_oid(der: bytes) -> str:
    """The dotted OID of the certificate's signatureAlgorithm.

    Raises:
        DecodeError: the bytes are not a well-formed certificate.
    """
    return _read_certificate(der).signature_oid


def subject_attribute(der: bytes, oid: str) -> Optional[str]:
    """The first value of attribute ``oid`` (dotted) in the certificate's subject; None if absent.

    Raises:
        DecodeError: the bytes are not a well-formed certificate.
    """
    return _first(_read_certificate(der).subject, oid)
