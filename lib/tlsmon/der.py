"""A strict, bounded DER reader (X.690 §8 and §10) and the universal types X.509 uses; no I/O.

``DerReader`` walks TLVs over one buffer without copying: a constructed element gives a
nested reader over the same memory. Only DER is accepted: definite, minimal lengths of at
most four bytes, minimal tags, primitive strings. Anything malformed raises
``DecodeError(what, offset, reason)`` with the offset in the outermost buffer, never
``IndexError`` or ``ValueError``; nesting deeper than ``MAX_DEPTH`` is refused.

    tbs = DerReader(der, "certificate").read_sequence("Certificate").read_sequence("TBSCertificate")
    serial = decode_integer(tbs.read())

The ``decode_*`` helpers check the universal tag unless told ``implicit=True`` (an IMPLICIT
context tag stands in its place, as for GeneralName's dNSName ``[2]``); the form and the
DER rules of the type are checked either way.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional, Union

from .errors import DecodeError

__all__ = [
    "Buffer",
    "DerReader",
    "Tlv",
    "MAX_DEPTH",
    "UNIVERSAL",
    "APPLICATION",
    "CONTEXT",
    "PRIVATE",
    "BOOLEAN",
    "INTEGER",
    "BIT_STRING",
    "OCTET_STRING",
    "NULL",
    "OBJECT_IDENTIFIER",
    "UTF8_STRING",
    "SEQUENCE",
    "SET",
    "NUMERIC_STRING",
    "PRINTABLE_STRING",
    "T61_STRING",
    "IA5_STRING",
    "UTC_TIME",
    "GENERALIZED_TIME",
    "VISIBLE_STRING",
    "UNIVERSAL_STRING",
    "BMP_STRING",
    "decode_boolean",
    "decode_integer",
    "decode_bit_string",
    "decode_octet_string",
    "decode_null",
    "decode_oid",
    "decode_time",
    "decode_string",
]

Buffer = Union[bytes, bytearray, memoryview]

# X.690 §8.1.2.2: tag classes
UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3

# X.680 §8.6: universal tag numbers
BOOLEAN = 1
INTEGER = 2
BIT_STRING = 3
OCTET_STRING = 4
NULL = 5
OBJECT_IDENTIFIER = 6
UTF8_STRING = 12
SEQUENCE = 16
SET = 17
NUMERIC_STRING = 18
PRINTABLE_STRING = 19
T61_STRING = 20  # TeletexString
IA5_STRING = 22
UTC_TIME = 23
GENERALIZED_TIME = 24
VISIBLE_STRING = 26
UNIVERSAL_STRING = 28
BMP_STRING = 30

MAX_DEPTH = 32  # nested readers; X.509 needs about 10
_MAX_LENGTH_BYTES = 4  # lengths up to 4 GiB, far beyond any certificate
_MAX_TAG_BYTES = 4  # high tag numbers up to 2**28
_MAX_OID_BYTES = 63  # as cryptography (rust-asn1) accepts; X.509 OIDs are a dozen bytes
_MAX_SUBIDENTIFIER = 1 << 128  # likewise: each subidentifier fits 128 bits
_OID_CACHE: dict[bytes, str] = {}  # valid encodings already decoded: the same few dozen recur
_OID_CACHE_SIZE = 512

_UNIVERSAL_NAMES = {
    BOOLEAN: "BOOLEAN",
    INTEGER: "INTEGER",
    BIT_STRING: "BIT STRING",
    OCTET_STRING: "OCTET STRING",
    NULL: "NULL",
    OBJECT_IDENTIFIER: "OBJECT IDENTIFIER",
    UTF8_STRING: "UTF8String",
    SEQUENCE: "SEQUENCE",
    SET: "SET",
    NUMERIC_STRING: "NumericString",
    PRINTABLE_STRING: "PrintableString",
    T61_STRING: "T61String",
    IA5_STRING: "IA5String",
    UTC_TIME: "UTCTime",
    GENERALIZED_TIME: "GeneralizedTime",
    VISIBLE_STRING: "VisibleString",
    UNIVERSAL_STRING: "UniversalString",
    BMP_STRING: "BMPString",
}

# String types and how their octets become text. T61String is read as Latin-1, as most
# software does; the ASCII-only types reject other octets.
_STRING_CODECS = {
    UTF8_STRING: "utf-8",
    NUMERIC_STRING: "ascii",
    PRINTABLE_STRING: "ascii",
    T61_STRING: "latin-1",
    IA5_STRING: "ascii",
    VISIBLE_STRING: "ascii",
    UNIVERSAL_STRING: "utf-32-be",
    BMP_STRING: "utf-16-be",
}


def tag_name(cls: int, number: int) -> str:
    """``SEQUENCE``, ``[3]`` (context-specific), ``[APPLICATION 1]``, ``[UNIVERSAL 99]``."""
    if cls == UNIVERSAL:
        return _UNIVERSAL_NAMES.get(number, f"[UNIVERSAL {number}]")
    if cls == CONTEXT:
        return f"[{number}]"
    return f"[{'APPLICATION' if cls == APPLICATION else 'PRIVATE'} {number}]"


class Tlv:
    """One DER element: its tag, and where its header and value lie in the outermost buffer.

    Attributes:
        cls: tag class (``UNIVERSAL``, ``APPLICATION``, ``CONTEXT``, ``PRIVATE``).
        constructed: the constructed bit of the tag.
        number: tag number.
        offset: where the element (its tag) starts.
        start, end: where its value starts and ends.
    """

    __slots__ = ("_data", "what", "depth", "cls", "constructed", "number", "offset", "start", "end")

    def __init__(
        self,
        data: memoryview,
        what: str,
        depth: int,
        cls: int,
        constructed: bool,
        number: int,
        offset: int,
        start: int,
        end: int,
    ) -> None:
        self._data = data
        self.what = what
        self.depth = depth
        self.cls = cls
        self.constructed = constructed
        self.number = number
        self.offset = offset
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        kind = "constructed" if self.constructed else "primitive"
        return f"<Tlv {tag_name(self.cls, self.number)} {kind} at {self.offset}, {self.length} bytes>"

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def view(self) -> memoryview:
        """The value octets, without copying."""
        return self._data[self.start : self.end]

    @property
    def value(self) -> bytes:
        """The value octets, copied."""
        return bytes(self._data[self.start : self.end])

    @property
    def encoded(self) -> bytes:
        """The whole element (tag, length and value), copied."""
        return bytes(self._data[self.offset : self.end])

    def is_universal(self, number: int) -> bool:
        return self.cls == UNIVERSAL and self.number == number

    def fail(self, reason: str) -> DecodeError:
        return DecodeError(self.what, self.offset, reason)

    def reader(self) -> DerReader:
        """A reader over the contents of this constructed element.

        Raises:
            DecodeError: the element is primitive, or nested deeper than ``MAX_DEPTH``.
        """
        if not self.constructed:
            raise self.fail(f"{tag_name(self.cls, self.number)} is primitive, expected constructed")
        return _nested(self._data, self.what, self.start, self.end, self.depth + 1)

    def encapsulated(self, skip: int = 0) -> DerReader:
        """A reader over DER carried in this primitive element's octets, after ``skip`` of them
        (an extnValue OCTET STRING; a subjectPublicKey BIT STRING with ``skip=1``).

        Raises:
            DecodeError: fewer than ``skip`` octets, or nested deeper than ``MAX_DEPTH``.
        """
        if skip > self.end - self.start:
            raise self.fail("no encapsulated value")
        return _nested(self._data, self.what, self.start + skip, self.end, self.depth + 1)


class DerReader:
    """Sequential reader of the DER elements in ``data[start:end]``, naming ``what`` in its errors."""

    __slots__ = ("_data", "_pos", "_end", "what", "depth")

    def __init__(self, data: Buffer, what: str = "DER") -> None:
        """A reader over all of ``data``; constructed elements give nested readers (``Tlv.reader``)."""
        view = data if isinstance(data, memoryview) else memoryview(data)
        self._data = view if view.ndim == 1 and view.itemsize == 1 else view.cast("B")
        self._pos = 0
        self._end = len(self._data)
        self.what = what
        self.depth = 0

    @property
    def offset(self) -> int:
        """Where the next element starts, in the outermost buffer."""
        return self._pos

    def remaining(self) -> int:
        return self._end - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._end

    def fail(self, reason: str) -> DecodeError:
        return DecodeError(self.what, self._pos, reason)

    def peek(self) -> Optional[tuple[int, bool, int]]:
        """``(cls, constructed, number)`` of the next element without consuming it; None at the end.
        Its length is checked when it is read.

        Raises:
            DecodeError: the next tag is malformed.
        """
        if self._pos >= self._end:
            return None
        first = self._data[self._pos]
        if first & 0x1F != 0x1F:
            return first >> 6, bool(first & 0x20), first & 0x1F
        pos = self._pos
        tlv = self.read()
        self._pos = pos
        return tlv.cls, tlv.constructed, tlv.number

    def read(self, field: str = "element") -> Tlv:
        """The next element, whatever its tag (X.690 §8.1.2, §8.1.3 and §10.1).

        Raises:
            DecodeError: nothing is left, or the header is malformed or overruns the end.
        """
        data, pos, end = self._data, self._pos, self._end
        if pos >= end:
            raise self.fail(f"{field} missing")
        first = data[pos]
        p = pos + 1
        number = first & 0x1F
        if number == 0x1F:  # high tag number form, base 128
            number = 0
            for i in range(_MAX_TAG_BYTES + 1):
                if i == _MAX_TAG_BYTES:
                    raise DecodeError(self.what, pos, f"{field} tag number longer than {_MAX_TAG_BYTES} bytes")
                if p >= end:
                    raise DecodeError(self.what, pos, f"{field} tag truncated")
                b = data[p]
                p += 1
                if i == 0 and b == 0x80:
                    raise DecodeError(self.what, pos, f"{field} tag number not minimally encoded")
                number = (number << 7) | (b & 0x7F)
                if not b & 0x80:
                    break
            if number < 0x1F:
                raise DecodeError(self.what, pos, f"{field} tag number {number} must use the short form")
        if p >= end:
            raise DecodeError(self.what, pos, f"{field} length missing")
        length = data[p]
        p += 1
        if length & 0x80:
            count = length & 0x7F
            if count == 0:
                raise DecodeError(self.what, pos, f"{field} has an indefinite length (not DER)")
            if count > _MAX_LENGTH_BYTES:
                raise DecodeError(self.what, pos, f"{field} length of {count} bytes (at most {_MAX_LENGTH_BYTES})")
            if count > end - p:
                raise DecodeError(self.what, pos, f"{field} length truncated")
            length = data[p]
            if length == 0:
                raise DecodeError(self.what, pos, f"{field} length has a leading zero (not DER)")
            for i in range(p + 1, p + count):
                length = (length << 8) | data[i]
            p += count
            if length < 0x80:
                raise DecodeError(self.what, pos, f"{field} length {length} must use the short form (not DER)")
        if length > end - p:
            raise DecodeError(self.what, pos, f"{field} length {length} past the end ({end - p} bytes left)")
        self._pos = p + length
        return Tlv(data, self.what, self.depth, first >> 6, bool(first & 0x20), number, pos, p, p + length)

    def read_tag(self, cls: int, number: int, field: str, *, constructed: bool = False) -> Tlv:
        """The next element, which must have this tag.

        Raises:
            DecodeError: it is missing, malformed or tagged otherwise.
        """
        tlv = self.read(field)
        if tlv.cls != cls or tlv.number != number or tlv.constructed != constructed:
            kind = "constructed" if constructed else "primitive"
            got = f"{tag_name(tlv.cls, tlv.number)}{' (constructed)' if tlv.constructed else ''}"
            raise tlv.fail(f"{field}: expected {kind} {tag_name(cls, number)}, got {got}")
        return tlv

    def read_optional(self, cls: int, number: int, field: str, *, constructed: bool = False) -> Optional[Tlv]:
        """The next element if it has this tag (class and number), else None and nothing consumed.

        Raises:
            DecodeError: the next header is malformed, or has the tag but the wrong form.
        """
        head = self.peek()
        if head is None or head[0] != cls or head[2] != number:
            return None
        return self.read_tag(cls, number, field, constructed=constructed)

    def read_sequence(self, field: str) -> DerReader:
        """A reader over the contents of the next element, which must be a SEQUENCE."""
        return self.read_tag(UNIVERSAL, SEQUENCE, field, constructed=True).reader()

    def finish(self, field: str) -> None:
        """Require that nothing is left.

        Raises:
            DecodeError: bytes remain after the last expected element.
        """
        if self._pos < self._end:
            raise self.fail(f"{self._end - self._pos} unexpected bytes after {field}")


def _nested(data: memoryview, what: str, start: int, end: int, depth: int) -> DerReader:
    """A DerReader over part of a buffer already checked (the hot path: no argument checks)."""
    if depth > MAX_DEPTH:
        raise DecodeError(what, start, f"nested deeper than {MAX_DEPTH} levels")
    reader = DerReader.__new__(DerReader)
    reader._data, reader._pos, reader._end, reader.what, reader.depth = data, start, end, what, depth
    return reader


# -- universal types (X.690 §8 with the DER rules of §10 and §11) -------------------------------


def _primitive(tlv: Tlv, number: int, implicit: bool = False) -> memoryview:
    if not implicit and (tlv.cls != UNIVERSAL or tlv.number != number):
        raise tlv.fail(f"expected {tag_name(UNIVERSAL, number)}, got {tag_name(tlv.cls, tlv.number)}")
    if tlv.constructed:
        raise tlv.fail(f"{tag_name(UNIVERSAL, number)} must be primitive in DER")
    return tlv.view


def decode_boolean(tlv: Tlv) -> bool:
    """X.690 §11.1: a single octet, 0x00 or 0xFF.

    Raises:
        DecodeError: another tag, length or value.
    """
    body = _primitive(tlv, BOOLEAN)
    if len(body) != 1 or body[0] not in (0x00, 0xFF):
        raise tlv.fail("BOOLEAN must be one octet, 00 or FF")
    return body[0] == 0xFF


def decode_integer(tlv: Tlv, *, implicit: bool = False) -> int:
    """X.690 §8.3: big-endian two's complement in the fewest octets.

    Raises:
        DecodeError: another tag, no octets, or a redundant leading octet.
    """
    body = _primitive(tlv, INTEGER, implicit)
    if not body:
        raise tlv.fail("INTEGER has no octets")
    if len(body) > 1 and ((body[0] == 0x00 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80)):
        raise tlv.fail("INTEGER not minimally encoded")
    return int.from_bytes(body, "big", signed=True)


def decode_bit_string(tlv: Tlv, *, implicit: bool = False) -> tuple[bytes, int]:
    """X.690 §8.6 and §11.2: ``(octets, unused bits in the last octet)``, unused bits zero.

    Raises:
        DecodeError: another tag, no initial octet, more than 7 unused bits, or unused bits set.
    """
    body = _primitive(tlv, BIT_STRING, implicit)
    if not body:
        raise tlv.fail("BIT STRING has no initial octet")
    unused = body[0]
    if unused > 7 or (unused and len(body) == 1):
        raise tlv.fail(f"BIT STRING with {unused} unused bits")
    if unused and body[-1] & ((1 << unused) - 1):
        raise tlv.fail("BIT STRING unused bits are not zero")
    return bytes(body[1:]), unused


def decode_octet_string(tlv: Tlv, *, implicit: bool = False) -> bytes:
    """X.690 §8.7, primitive only.

    Raises:
        DecodeError: another tag, or the constructed form.
    """
    return bytes(_primitive(tlv, OCTET_STRING, implicit))


def decode_null(tlv: Tlv) -> None:
    """X.690 §8.8: no octets.

    Raises:
        DecodeError: another tag, or any octets.
    """
    if _primitive(tlv, NULL):
        raise tlv.fail("NULL has octets")


def decode_oid(tlv: Tlv, *, implicit: bool = False) -> str:
    """X.690 §8.19: the dotted string, e.g. ``2.5.4.3``.

    Raises:
        DecodeError: another tag, no octets or more than 63, a subidentifier with a leading
            0x80 octet (not minimal) or of 2**128 or more, or a truncated last subidentifier.
    """
    body = _primitive(tlv, OBJECT_IDENTIFIER, implicit)
    key = body.tobytes()
    known = _OID_CACHE.get(key)
    if known is not None:
        return known
    if not body or len(body) > _MAX_OID_BYTES:
        raise tlv.fail(f"OBJECT IDENTIFIER of {len(body)} octets (1 to {_MAX_OID_BYTES})")
    arcs: list[int] = []
    value = 0
    size = 0
    for b in body:
        if size == 0 and b == 0x80:
            raise tlv.fail("OBJECT IDENTIFIER subidentifier not minimally encoded")
        size += 1
        value = (value << 7) | (b & 0x7F)
        if value >= _MAX_SUBIDENTIFIER:
            raise tlv.fail("OBJECT IDENTIFIER subidentifier of 2**128 or more")
        if b & 0x80:
            continue
        if arcs:
            arcs.append(value)
        elif value < 80:  # §8.19.4: the first subidentifier packs two arcs, X*40+Y
            arcs += divmod(value, 40)
        else:
            arcs += (2, value - 80)
        value = 0
        size = 0
    if size:
        raise tlv.fail("OBJECT IDENTIFIER truncated")
    dotted = ".".join(map(str, arcs))
    if len(_OID_CACHE) < _OID_CACHE_SIZE:
        _OID_CACHE[key] = dotted
    return dotted


def _digits(tlv: Tlv, text: bytes, pos: int, count: int) -> int:
    part = text[pos : pos + count]
    if not part.isdigit():  # bytes.isdigit: ASCII 0-9 only
        raise tlv.fail("time is not all digits")
    return int(part)


def decode_time(tlv: Tlv) -> datetime:
    """UTCTime or GeneralizedTime as RFC 5280 §4.1.2.5 allows them, as an aware UTC datetime.

    UTCTime is ``YYMMDDHHMMSSZ`` (YY >= 50 means 19YY, else 20YY); GeneralizedTime is
    ``YYYYMMDDHHMMSSZ``: seconds always, no fractions, no offsets.

    Raises:
        DecodeError: another tag, another layout, or no such date or time.
    """
    if tlv.is_universal(UTC_TIME):
        text = bytes(_primitive(tlv, UTC_TIME))
        if len(text) != 13 or text[12:] != b"Z":
            raise tlv.fail("UTCTime must be YYMMDDHHMMSSZ")
        yy = _digits(tlv, text, 0, 2)
        year, pos = (1900 + yy if yy >= 50 else 2000 + yy), 2
    elif tlv.is_universal(GENERALIZED_TIME):
        text = bytes(_primitive(tlv, GENERALIZED_TIME))
        if len(text) != 15 or text[14:] != b"Z":
            raise tlv.fail("GeneralizedTime must be YYYYMMDDHHMMSSZ")
        year, pos = _digits(tlv, text, 0, 4), 4
    else:
        raise tlv.fail(f"expected UTCTime or GeneralizedTime, got {tag_name(tlv.cls, tlv.number)}")
    month, day, hour, minute, second = (_digits(tlv, text, pos + 2 * i, 2) for i in range(5))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        raise tlv.fail(f"no such time {text.decode('ascii')}") from None


def decode_string(tlv: Tlv) -> str:
    """A character string: UTF8String, PrintableString, IA5String, NumericString, VisibleString
    (ASCII), T61String (as Latin-1), BMPString (UTF-16BE) or UniversalString (UTF-32BE).

    Raises:
        DecodeError: another tag, the constructed form, or octets invalid for the type.
    """
    codec = _STRING_CODECS.get(tlv.number) if tlv.cls == UNIVERSAL else None
    if codec is None:
        raise tlv.fail(f"expected a character string, got {tag_name(tlv.cls, tlv.number)}")
    body = _primitive(tlv, tlv.number)
    try:
        return str(body, codec)
    except UnicodeDecodeError:
        raise tlv.fail(f"{tag_name(UNIVERSAL, tlv.number)} is not valid {codec}") from None
