"""DER certificates and names to plain facts, via ``cryptography``; no I/O, no clock.

``certificate_facts`` turns a DER certificate into ``CertificateFacts``;
``dn_to_rfc4514`` turns a DER DistinguishedName (as in a CertificateRequest) into
the RFC 4514 string that ``cryptography`` would give for the same name.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Optional

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from .errors import DecodeError
from .observations import CertificateFacts

__all__ = ["certificate_facts", "dn_to_rfc4514", "dn_from_der"]

# ASN.1 string types found in names (X.680): tag -> codec
_STRING_TAGS = {
    12: "utf-8",  # UTF8String
    18: "ascii",  # NumericString
    19: "ascii",  # PrintableString
    20: "latin-1",  # TeletexString (T61), read as Latin-1 as most software does
    22: "ascii",  # IA5String
    26: "ascii",  # VisibleString
    28: "utf-32-be",  # UniversalString
    30: "utf-16-be",  # BMPString
}


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the DER element at ``pos``; bounds-checked."""
    if pos + 2 > end:
        raise DecodeError("DistinguishedName", pos, "truncated DER header")
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        count = n & 0x7F
        if count == 0 or count > 3 or pos + count > end:
            raise DecodeError("DistinguishedName", pos, "bad DER length")
        n = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + n > end:
        raise DecodeError("DistinguishedName", pos, "DER length past the end")
    return tag, pos, pos + n


def _oid(body: bytes) -> str:
    if not body:
        raise DecodeError("DistinguishedName", 0, "empty OID")
    first = body[0]
    parts = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    value = 0
    for b in body[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(str(value))
            value = 0
    return ".".join(parts)


def dn_from_der(der: bytes) -> x509.Name:
    """Parse a DER ``Name`` (SEQUENCE OF SET OF AttributeTypeAndValue).

    Raises:
        DecodeError: the bytes are not a well-formed Name.
    """
    tag, start, end = _tlv(der, 0, len(der))
    if tag != 0x30 or end != len(der):
        raise DecodeError("DistinguishedName", 0, "not a DER SEQUENCE")
    rdns = []
    pos = start
    while pos < end:
        tag, s_start, s_end = _tlv(der, pos, end)
        if tag != 0x31:
            raise DecodeError("DistinguishedName", pos, "RDN is not a SET")
        attrs = []
        apos = s_start
        while apos < s_end:
            tag, a_start, a_end = _tlv(der, apos, s_end)
            if tag != 0x30:
                raise DecodeError("DistinguishedName", apos, "attribute is not a SEQUENCE")
            otag, o_start, o_end = _tlv(der, a_start, a_end)
            if otag != 0x06:
                raise DecodeError("DistinguishedName", a_start, "attribute type is not an OID")
            vtag, v_start, v_end = _tlv(der, o_end, a_end)
            oid = x509.ObjectIdentifier(_oid(der[o_start:o_end]))
            raw = der[v_start:v_end]
            codec = _STRING_TAGS.get(vtag)
            if codec is None:
                raise DecodeError("DistinguishedName", o_end, f"attribute value tag {vtag} is not a string")
            value = raw.decode(codec, "replace")
            try:
                attrs.append(x509.NameAttribute(oid, value))
            except (ValueError, TypeError) as exc:
                raise DecodeError("DistinguishedName", o_end, f"attribute {oid.dotted_string}: {exc}") from None
            apos = a_end
        if not attrs:
            raise DecodeError("DistinguishedName", pos, "empty RDN")
        rdns.append(x509.RelativeDistinguishedName(attrs))
        pos = s_end
    return x509.Name(rdns)


def dn_to_rfc4514(der: bytes) -> str:
    """The RFC 4514 string of a DER name, as ``cryptography`` formats it."""
    return dn_from_der(der).rfc4514_string()


def _common_name(name: x509.Name) -> Optional[str]:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None


def _key_facts(key: Any) -> tuple[str, int, Optional[str]]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    return "unknown", 0, None


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> Any:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # a malformed extension: treat as absent, the verifier will complain
        return None


def certificate_facts(der: bytes) -> CertificateFacts:
    """Facts of one DER certificate.

    Raises:
        DecodeError: the bytes are not a certificate ``cryptography`` can read.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as exc:
        raise DecodeError("certificate", 0, f"not a readable X.509 certificate ({exc})") from None
    try:
        key_type, key_bits, curve = _key_facts(cert.public_key())
    except (ValueError, TypeError):  # unsupported key algorithm
        key_type, key_bits, curve = "unknown", 0, None
    try:
        sig_name = cert.signature_algorithm_oid._name
    except AttributeError:
        sig_name = cert.signature_algorithm_oid.dotted_string
    try:
        sig_hash = cert.signature_hash_algorithm
        hash_name: Optional[str] = sig_hash.name if sig_hash is not None else None
    except UnsupportedAlgorithm:  # e.g. MD2, or an OID cryptography does not know
        hash_name = "unknown"
    san = _ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    dns_names = tuple(san.get_values_for_type(x509.DNSName)) if san is not None else ()
    ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress)) if san is not None else ()
    bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    aia = _ext(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    ocsp: tuple[str, ...] = ()
    if aia is not None:
        ocsp = tuple(
            d.access_location.value
            for d in aia
            if d.access_method == x509.oid.AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
        )
    cdp = _ext(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    crls: tuple[str, ...] = ()
    if cdp is not None:
        crls = tuple(
            n.value for dp in cdp for n in (dp.full_name or ()) if isinstance(n, x509.UniformResourceIdentifier)
        )
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    nb = getattr(cert, "not_valid_before_utc", None) or _utc(cert.not_valid_before)
    na = getattr(cert, "not_valid_after_utc", None) or _utc(cert.not_valid_after)
    return CertificateFacts(
        der=der,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "X"),
        not_before=nb,
        not_after=na,
        sha256=hashlib.sha256(der).hexdigest(),
        sha1=hashlib.sha1(der).hexdigest(),  # noqa: S324 - a fingerprint, not a security use
        signature_algorithm=sig_name,
        signature_hash=hash_name,
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        dns_names=dns_names,
        ip_addresses=ips,
        is_ca=bool(bc.ca) if bc is not None else False,
        self_issued=cert.subject == cert.issuer,
        ocsp_urls=ocsp,
        crl_urls=crls,
        extended_key_usages=tuple(o.dotted_string for o in eku) if eku is not None else (),
        common_name=_common_name(cert.subject),
    )
