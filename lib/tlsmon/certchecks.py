"""Pure checks over ``CertificateFacts``: names, weak algorithms, validity, patterns.

Everything here is a function of the facts (and, where the facts lack something, of the
DER they carry, read with ``x509facts``) and of an explicit ``now``. No I/O, no clock, and
no ``cryptography``: a plugin that imports this starts without it.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Optional, Union

from . import x509facts
from .errors import UsageError
from .observations import CertificateFacts

__all__ = [
    "SERVER_AUTH",
    "ANY_EXTENDED_KEY_USAGE",
    "hostname_matches",
    "weak_signature",
    "weak_key",
    "validity_days",
    "days_left",
    "not_yet_valid",
    "has_server_auth",
    "matches_pattern",
    "normalize_fingerprint",
    "fingerprint_matches",
    "organization",
]

SERVER_AUTH = "1.3.6.1.5.5.7.3.1"  # RFC 5280 §4.2.1.12 id-kp-serverAuth
ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0"  # anyExtendedKeyUsage

_WEAK_HASHES = frozenset({"md2", "md4", "md5", "sha1"})

# Signature algorithm OIDs with a weak hash, for when cryptography cannot name the hash
# (it knows no MD2 or MD4): RFC 3279 §2.2, RFC 8017 Appendix C.
_WEAK_SIGNATURE_OIDS = {
    "1.2.840.113549.1.1.2": "md2",  # md2WithRSAEncryption
    "1.2.840.113549.1.1.3": "md4",  # md4WithRSAEncryption
    "1.2.840.113549.1.1.4": "md5",  # md5WithRSAEncryption
    "1.2.840.113549.1.1.5": "sha1",  # sha1WithRSAEncryption
    "1.3.14.3.2.3": "md5",  # md5WithRSA (OIW)
    "1.3.14.3.2.29": "sha1",  # sha1WithRSAEncryption (OIW)
    "1.2.840.10040.4.3": "sha1",  # id-dsa-with-sha1
    "1.2.840.10045.4.1": "sha1",  # ecdsa-with-SHA1
}

# Minimum key sizes in bits; smaller is weak.
_MIN_KEY_BITS = {"RSA": 2048, "DSA": 2048, "EC": 256}

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


# -- host names (RFC 6125) -------------------------------------------------------------------------


def _ip_literal(name: str) -> Optional[IPAddress]:
    text = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    text = text.split("%", 1)[0]  # an IPv6 zone id names our interface, not the certificate's
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _reference_dns_name(name: str) -> Optional[str]:
    """The name as lower-case A-labels without the trailing dot; None when it cannot match."""
    name = name.removesuffix(".")
    if not name or "*" in name:
        return None
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")  # U-labels to A-labels (IDNA 2003 codec)
        except UnicodeError:
            return None
    name = name.lower()
    if "" in name.split("."):
        return None
    return name


def _dns_pattern_matches(pattern: str, name: str) -> bool:
    """RFC 6125 §6.4.3: a wildcard only as the whole left-most label, matching one label."""
    pattern = pattern.lower().removesuffix(".")
    if "*" not in pattern:
        return pattern == name
    if not pattern.startswith("*.") or "*" in pattern[2:]:
        return False  # partial (f*.example.com) or embedded wildcards never match
    suffix = pattern[2:]
    if "." not in suffix:
        return False  # *.com: like OpenSSL, at least two labels after the wildcard
    label, _, rest = name.partition(".")
    return bool(label) and rest == suffix


def hostname_matches(facts: CertificateFacts, name: str) -> bool:
    """Does the certificate hold ``name``, by the rules of RFC 6125?

    An IP address (IPv4, or IPv6 with or without brackets) matches only subjectAltName
    iPAddress entries, compared as addresses. A DNS name is compared case-insensitively,
    without its trailing dot, as A-labels (a U-label name is converted with Python's
    IDNA codec), against dNSName entries; a wildcard counts only as the complete left-most
    label. The subject CN is consulted only when the certificate has no DNS or IP
    subjectAltName at all.

    Args:
        facts: the certificate.
        name: the host name or address the client asked for.

    Returns:
        True when the certificate is valid for ``name``.
    """
    name = name.strip()
    ip = _ip_literal(name)
    if ip is not None:
        for entry in facts.ip_addresses:
            cert_ip = _ip_literal(entry)
            if cert_ip is not None and cert_ip == ip:
                return True
        return False
    reference = _reference_dns_name(name)
    if reference is None:
        return False
    if facts.dns_names or facts.ip_addresses:
        return any(_dns_pattern_matches(p, reference) for p in facts.dns_names)
    if facts.common_name is None or _ip_literal(facts.common_name) is not None:
        return False
    return _dns_pattern_matches(facts.common_name, reference)


# -- algorithms -----------------------------------------------------------------------------------


def weak_signature(facts: CertificateFacts) -> Optional[str]:
    """The weak hash of the certificate's signature (``md5``, ``sha1``, ``md2``, ``md4``), or None.

    Callers skip self-signed trust anchors, whose signature nobody checks.

    Raises:
        DecodeError: the hash is unknown and ``facts.der`` is not a readable certificate.
    """
    if facts.signature_hash in _WEAK_HASHES:
        return facts.signature_hash
    if facts.signature_hash != "unknown":
        return None
    # the facts name no hash (MD2, MD4): look at the algorithm OID itself
    return _WEAK_SIGNATURE_OIDS.get(x509facts.signature_algorithm_oid(facts.der))


def weak_key(facts: CertificateFacts) -> Optional[str]:
    """E.g. ``RSA 1024 bits`` for an RSA or DSA key under 2048 bits or an EC key under 256; else None."""
    minimum = _MIN_KEY_BITS.get(facts.key_type)
    if minimum is None or facts.key_bits >= minimum:
        return None
    return f"{facts.key_type} {facts.key_bits} bits"


# -- validity -------------------------------------------------------------------------------------


def validity_days(facts: CertificateFacts) -> float:
    """The validity period, notAfter - notBefore, in days."""
    return (facts.not_after - facts.not_before).total_seconds() / 86400.0


def days_left(facts: CertificateFacts, now: datetime) -> float:
    """Days from ``now`` (timezone-aware) until notAfter; negative once expired."""
    return facts.days_left(now)


def not_yet_valid(facts: CertificateFacts, now: datetime) -> bool:
    """``now`` (timezone-aware) is before notBefore."""
    return now < facts.not_before


def has_server_auth(facts: CertificateFacts) -> bool:
    """True when there is no extendedKeyUsage, or it allows serverAuth or any purpose."""
    ekus = facts.extended_key_usages
    return not ekus or SERVER_AUTH in ekus or ANY_EXTENDED_KEY_USAGE in ekus


# -- patterns -------------------------------------------------------------------------------------


def matches_pattern(text: Optional[str], pattern: str) -> bool:
    """``re.search`` of ``pattern`` in ``text``, case-insensitively (check_ssl_cert's -i/-o/--serial).

    Returns:
        False when ``text`` is None (the certificate has no such field).

    Raises:
        UsageError: ``pattern`` is not a valid regular expression.
    """
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise UsageError(f"invalid pattern {pattern!r}: {exc}") from None
    return text is not None and regex.search(text) is not None


def normalize_fingerprint(text: str) -> str:
    """A fingerprint as lower-case hex: colons and white space removed (``AB:CD`` -> ``abcd``)."""
    return re.sub(r"[:\s]", "", text).lower()


def fingerprint_matches(facts: CertificateFacts, pattern: str) -> bool:
    """Does ``pattern`` (any case, with or without colons) equal the SHA-256 or SHA-1 fingerprint?"""
    wanted = normalize_fingerprint(pattern)
    return bool(wanted) and wanted in (facts.sha256, facts.sha1)


def organization(facts: CertificateFacts) -> Optional[str]:
    """The subject's organizationName (O), the first if there are several; None if absent.

    Raises:
        DecodeError: ``facts.der`` is not a readable certificate.
    """
    return x509facts.subject_attribute(facts.der, x509facts.ORGANIZATION_NAME)
