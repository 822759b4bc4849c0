"""Distinguished names compared structurally, never as text.

An expected CA name (an RFC 4514 string such as ``CN=Client CA,O=Example``) matches a
name the server sent when both hold the same attributes: types compared by OID (``CN``
and ``commonName`` and ``2.5.4.3`` are one), values case-insensitively with white
space folded, in any order. A country (``C``) present on one side only is ignored, so
``CN=Client CA,O=Example`` matches ``C=DE,O=Example,CN=Client CA``. No I/O here.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Optional

from .errors import UsageError

__all__ = ["parse_dn", "normalize", "dn_matches", "find_match", "split_expected"]

# RFC 4514 §3 short names, the names cryptography prints, and common long forms -> OID.
_TYPES = {
    "cn": "2.5.4.3", "commonname": "2.5.4.3",
    "c": "2.5.4.6", "countryname": "2.5.4.6",
    "l": "2.5.4.7", "localityname": "2.5.4.7",
    "st": "2.5.4.8", "s": "2.5.4.8", "stateorprovincename": "2.5.4.8",
    "street": "2.5.4.9", "streetaddress": "2.5.4.9",
    "o": "2.5.4.10", "organizationname": "2.5.4.10",
    "ou": "2.5.4.11", "organizationalunitname": "2.5.4.11",
    "serialnumber": "2.5.4.5", "title": "2.5.4.12", "sn": "2.5.4.4", "surname": "2.5.4.4",
    "givenname": "2.5.4.42", "gn": "2.5.4.42", "dnqualifier": "2.5.4.46",
    "dc": "0.9.2342.19200300.100.1.25", "domaincomponent": "0.9.2342.19200300.100.1.25",
    "uid": "0.9.2342.19200300.100.1.1", "userid": "0.9.2342.19200300.100.1.1",
    "emailaddress": "1.2.840.113549.1.9.1", "email": "1.2.840.113549.1.9.1", "e": "1.2.840.113549.1.9.1",
    "organizationidentifier": "2.5.4.97",
}
_COUNTRY = "2.5.4.6"
_OID = re.compile(r"^(?:oid\.)?([0-2](?:\.\d+)+)$", re.IGNORECASE)

Attribute = tuple[str, str]


def _type_oid(name: str, text: str) -> str:
    key = name.strip()
    m = _OID.match(key)
    if m:
        return m.group(1)
    oid = _TYPES.get(key.lower())
    if oid is None:
        raise UsageError(f"unknown attribute type {key!r} in {text!r}")
    return oid


def _unescape(value: str, text: str) -> str:
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            if i + 1 >= len(value):
                raise UsageError(f"dangling backslash in {text!r}")
            nxt = value[i + 1]
            if re.match(r"[0-9a-fA-F]{2}", value[i + 1 : i + 3]):
                # hex pairs form UTF-8 bytes
                raw = bytearray()
                while i < len(value) and value[i] == "\\" and re.match(r"[0-9a-fA-F]{2}", value[i + 1 : i + 3]):
                    raw.append(int(value[i + 1 : i + 3], 16))
                    i += 3
                out.append(raw.decode("utf-8", "replace"))
                continue
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _strip_unescaped(value: str) -> str:
    """Strip white space around a value, but not an escaped trailing space (``\\ ``)."""
    value = value.lstrip()
    while value.endswith((" ", "\t")) and not value.endswith("\\ "):
        value = value[:-1]
    return value


def _split(text: str, sep: str) -> list[str]:
    """Split at unescaped ``sep`` characters."""
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if ch in sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def parse_dn(text: str) -> tuple[Attribute, ...]:
    """An RFC 4514 string -> (type OID, value) pairs (RDN order and multi-valued RDNs flattened).

    Raises:
        UsageError: the text is not a distinguished name.
    """
    if not text.strip():
        raise UsageError("empty distinguished name")
    attrs = []
    for rdn in _split(text, ",;"):
        for ava in _split(rdn, "+"):
            if "=" not in ava:
                raise UsageError(f"{ava.strip()!r} in {text!r} is not TYPE=value")
            name, value = ava.split("=", 1)
            value = _strip_unescaped(value)
            if value.startswith("#"):
                value = value.lower()  # a BER-encoded value: compare the hex as given
            else:
                value = _unescape(value, text)
            attrs.append((_type_oid(name, text), value))
    return tuple(attrs)


def normalize(attrs: Iterable[Attribute]) -> Counter[Attribute]:
    """Case-insensitive values with white space folded, as a multiset."""
    return Counter((oid, " ".join(value.casefold().split())) for oid, value in attrs)


def dn_matches(expected: tuple[Attribute, ...], actual: tuple[Attribute, ...], *, subset: bool = False) -> bool:
    """Equal attribute by attribute, in any order; a country on one side only is ignored.

    With ``subset`` the expected attributes need only be among the actual ones (a bare
    common name given as ``Client CA`` matches ``CN=Client CA,O=Example``).
    """
    want, have = normalize(expected), normalize(actual)
    if subset:
        return all(have[k] >= n for k, n in want.items())
    if not any(oid == _COUNTRY for oid, _ in want) or not any(oid == _COUNTRY for oid, _ in have):
        want = Counter({k: v for k, v in want.items() if k[0] != _COUNTRY})
        have = Counter({k: v for k, v in have.items() if k[0] != _COUNTRY})
    return want == have


def find_match(expected: tuple[Attribute, ...], names: Iterable[str], *, subset: bool = False) -> Optional[str]:
    """The first of ``names`` (RFC 4514 strings, as the server sent them) that matches ``expected``."""
    for name in names:
        try:
            if dn_matches(expected, parse_dn(name), subset=subset):
                return name
        except UsageError:
            continue  # a name we cannot parse matches nothing
    return None


def split_expected(values: Iterable[str]) -> list[tuple[str, tuple[Attribute, ...], bool]]:
    """The expected CA names from ``--require-client-cert`` values.

    A value with ``=`` is one distinguished name (commas belong to it; repeat the option for
    several). A value without ``=`` is a comma-separated list of common names, as
    check_ssl_cert takes it (``Client CA,Other CA``), each matching a CA with that common
    name. Returns (shown text, attributes, subset-match).
    """
    out: list[tuple[str, tuple[Attribute, ...], bool]] = []
    for value in values:
        if "=" in value:
            out.append((value, parse_dn(value), False))
        else:
            for cn in (v.strip() for v in value.split(",")):
                if cn:
                    out.append((cn, (("2.5.4.3", cn),), True))
    return out
