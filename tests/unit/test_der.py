"""der: the strict DER reader and its decoders; hostile bytes raise only DecodeError, quickly.

Hand-built inputs name each field in a comment; the property tests feed arbitrary bytes and
mutated certificates (truncated, bit-flipped, lengths set to 0x84 ff ff ff ff and other
non-DER forms) to the reader, ``certificate_facts`` and ``dn_to_rfc4514``.
"""

from __future__ import annotations

import datetime
import functools
import time

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsmon import der as d
from tlsmon import x509facts
from tlsmon.errors import DecodeError

UTC = datetime.timezone.utc


def tlv(tag: int, body: bytes) -> bytes:
    assert len(body) < 0x80
    return bytes([tag, len(body)]) + body


def one(data: bytes) -> d.Tlv:
    """The single element of ``data``."""
    reader = d.DerReader(data, "test")
    element = reader.read()
    reader.finish("test")
    return element


# -- headers: tags and lengths (X.690 §8.1.2, §8.1.3, §10.1) ----------------------------------------------


def test_reads_nested_elements_without_copying() -> None:
    data = bytearray(
        b"\x30\x0a"  # SEQUENCE, 10 bytes
        b"\x02\x01\x05"  # INTEGER 5
        b"\xa3\x05"  # [3] constructed, 5 bytes
        b"\x04\x03abc"  # OCTET STRING "abc"
    )
    outer = d.DerReader(data, "test").read_sequence("outer")
    assert d.decode_integer(outer.read()) == 5
    tagged = outer.read()
    assert (tagged.cls, tagged.constructed, tagged.number, tagged.offset, tagged.start, tagged.end) == (
        d.CONTEXT,
        True,
        3,
        5,
        7,
        12,
    )
    octets = tagged.reader().read()
    assert octets.offset == 7 and octets.value == b"abc" and octets.encoded == b"\x04\x03abc"
    data[9] = ord("x")  # the views share the buffer
    assert bytes(octets.view) == b"xbc"
    outer.finish("outer")
    assert outer.at_end() and outer.remaining() == 0


@pytest.mark.parametrize(
    ("data", "cls", "constructed", "number"),
    [
        (b"\x05\x00", d.UNIVERSAL, False, 5),
        (b"\x5f\x1f\x00", d.APPLICATION, False, 31),  # 31 and up need the high tag number form
        (b"\xbf\x81\x00\x00", d.CONTEXT, True, 128),  # high tag number 128 in two base-128 octets
        (b"\xdf\xff\xff\xff\x7f\x00", d.PRIVATE, False, 2**28 - 1),  # the largest: four octets
    ],
)
def test_tags(data: bytes, cls: int, constructed: bool, number: int) -> None:
    element = one(data)
    assert (element.cls, element.constructed, element.number) == (cls, constructed, number)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "element missing"),
        (b"\x30", "length missing"),
        (b"\x1f", "tag truncated"),
        (b"\x1f\x80\x01\x00", "not minimally encoded"),  # leading 0x80 in a high tag number
        (b"\x1f\x1e\x00", "must use the short form"),  # 30 fits the first octet
        (b"\x1f\x81\x81\x81\x81\x01\x00", "longer than 4 bytes"),
        (b"\x30\x80\x00\x00", "indefinite length"),
        (b"\x04\x81\x05abcde", "must use the short form"),  # 5 in the long form
        (b"\x04\x82\x00\x80" + b"a" * 128, "leading zero"),
        (b"\x04\x84\xff\xff\xff\xff", "length 4294967295 past the end"),  # refused before anything is allocated
        (b"\x04\x85\x01\x00\x00\x00\x00", "length of 5 bytes"),
        (b"\x04\xff", "length of 127 bytes"),  # reserved
        (b"\x04\x82\x01", "length truncated"),
        (b"\x04\x03ab", r"length 3 past the end \(2 bytes left\)"),
    ],
)
def test_malformed_headers(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as caught:
        d.DerReader(data, "test").read()
    assert caught.value.what == "test" and caught.value.offset == 0


def test_offsets_in_errors_are_absolute() -> None:
    data = b"\x30\x05" + b"\x02\x01\x05" + b"\x02\x00"  # SEQUENCE { INTEGER 5, INTEGER with no octets }
    inner = d.DerReader(data, "thing").read_sequence("outer")
    inner.read()
    with pytest.raises(DecodeError, match="^thing: INTEGER has no octets at offset 5$"):
        d.decode_integer(inner.read())


def test_read_tag_optional_and_finish() -> None:
    reader = d.DerReader(b"\x02\x01\x01\xa0\x00\x04\x00", "test")
    assert reader.read_optional(d.CONTEXT, 0, "version") is None
    assert reader.peek() == (d.UNIVERSAL, False, d.INTEGER)
    reader.read_tag(d.UNIVERSAL, d.INTEGER, "serial")
    assert reader.read_optional(d.CONTEXT, 0, "version", constructed=True) is not None
    with pytest.raises(DecodeError, match=r"extensions: expected constructed \[3\], got OCTET STRING at offset 5"):
        reader.read_tag(d.CONTEXT, 3, "extensions", constructed=True)
    with pytest.raises(DecodeError, match="unexpected bytes after"):
        one(b"\x05\x00\x05\x00")
    with pytest.raises(DecodeError, match="is primitive, expected constructed"):
        one(b"\x04\x00").reader()
    assert d.DerReader(b"").peek() is None


def test_nesting_is_bounded() -> None:
    data = b"\x05\x00"
    for _ in range(d.MAX_DEPTH + 5):
        data = b"\x30" + (bytes([len(data)]) if len(data) < 0x80 else b"\x81" + bytes([len(data)])) + data
    reader = d.DerReader(data, "deep")
    with pytest.raises(DecodeError, match=f"nested deeper than {d.MAX_DEPTH} levels"):
        while True:
            reader = reader.read().reader()


def test_encapsulated_readers() -> None:
    octets = one(b"\x04\x03\x02\x01\x07")  # OCTET STRING { INTEGER 7 }
    assert d.decode_integer(octets.encapsulated().read()) == 7
    bits = one(b"\x03\x04\x00\x02\x01\x07")  # BIT STRING, 0 unused bits, { INTEGER 7 }
    assert d.decode_integer(bits.encapsulated(1).read()) == 7
    with pytest.raises(DecodeError, match="no encapsulated value"):
        one(b"\x03\x00").encapsulated(1)


# -- universal types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "dotted"),
    [
        (b"\x55\x04\x03", "2.5.4.3"),
        (b"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b", "1.2.840.113549.1.1.11"),
        (b"\x00", "0.0"),
        (b"\x27", "0.39"),
        (b"\x28", "1.0"),
        (b"\x4f", "1.39"),
        (b"\x50", "2.0"),
        (b"\x88\x37\x01", "2.999.1"),  # the first subidentifier spans octets: 2.999 is 80 + 999
        (b"\x2b\x8f\xff\xff\xff\x7f", "1.3.4294967295"),
        (b"\x2b" + b"\x83" + b"\xff" * 17 + b"\x7f", f"1.3.{2**128 - 1}"),
    ],
)
def test_oids(body: bytes, dotted: str) -> None:
    assert d.decode_oid(one(tlv(0x06, body))) == dotted
    assert d.decode_oid(one(tlv(0x88, body)), implicit=True) == dotted  # [8] IMPLICIT, as registeredID


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x06\x00", "of 0 octets"),
        (b"\x06\x02\x55\x84", "truncated"),
        (b"\x06\x03\x55\x80\x01", "not minimally encoded"),
        (b"\x06\x02\x80\x01", "not minimally encoded"),
        (b"\x06\x15\x2b\x84" + b"\x80" * 18 + b"\x00", "2\\*\\*128 or more"),
        (b"\x06\x40" + b"\x2b" * 64, "of 64 octets"),
        (b"\x26\x01\x00", "must be primitive"),
        (b"\x04\x01\x00", "expected OBJECT IDENTIFIER, got OCTET STRING"),
    ],
)
def test_malformed_oids(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        d.decode_oid(one(data))


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b"\x00", 0),
        (b"\x7f", 127),
        (b"\x00\x80", 128),
        (b"\xff", -1),
        (b"\x80", -128),
        (b"\xff\x7f", -129),
        (b"\x01" + b"\x00" * 40, 2**320),
    ],
)
def test_integers(body: bytes, value: int) -> None:
    assert d.decode_integer(one(tlv(0x02, body))) == value


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x02\x00", "no octets"),
        (b"\x02\x02\x00\x7f", "not minimally encoded"),
        (b"\x02\x02\xff\x80", "not minimally encoded"),
        (b"\x22\x03\x02\x01\x05", "must be primitive"),
    ],
)
def test_malformed_integers(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        d.decode_integer(one(data))


def test_booleans_null_and_octet_strings() -> None:
    assert d.decode_boolean(one(b"\x01\x01\xff")) is True
    assert d.decode_boolean(one(b"\x01\x01\x00")) is False
    for bad in (b"\x01\x01\x01", b"\x01\x00", b"\x01\x02\xff\xff"):
        with pytest.raises(DecodeError, match="BOOLEAN must be one octet"):
            d.decode_boolean(one(bad))
    d.decode_null(one(b"\x05\x00"))
    with pytest.raises(DecodeError, match="NULL has octets"):
        d.decode_null(one(b"\x05\x01\x00"))
    assert d.decode_octet_string(one(b"\x04\x02ab")) == b"ab"
    with pytest.raises(DecodeError, match="must be primitive"):
        d.decode_octet_string(one(b"\x24\x04\x04\x02ab"))  # the constructed form is BER, not DER


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b"\x00", (b"", 0)),
        (b"\x00\xab", (b"\xab", 0)),
        (b"\x04\xf0", (b"\xf0", 4)),
        (b"\x07\x80", (b"\x80", 7)),
    ],
)
def test_bit_strings(body: bytes, value: tuple[bytes, int]) -> None:
    assert d.decode_bit_string(one(tlv(0x03, body))) == value


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no initial octet"),
        (b"\x08\x00", "8 unused bits"),
        (b"\x01", "1 unused bits"),  # unused bits but no octet to hold them
        (b"\x04\xf8", "unused bits are not zero"),  # DER: the padding is zero
    ],
)
def test_malformed_bit_strings(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        d.decode_bit_string(one(tlv(0x03, body)))


@pytest.mark.parametrize(
    ("data", "when"),
    [
        (tlv(0x17, b"250601123456Z"), datetime.datetime(2025, 6, 1, 12, 34, 56, tzinfo=UTC)),
        (tlv(0x17, b"500101000000Z"), datetime.datetime(1950, 1, 1, tzinfo=UTC)),  # RFC 5280: YY >= 50 is 19YY
        (tlv(0x17, b"491231235959Z"), datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (tlv(0x17, b"000229000000Z"), datetime.datetime(2000, 2, 29, tzinfo=UTC)),
        (tlv(0x18, b"19491231235959Z"), datetime.datetime(1949, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (tlv(0x18, b"20500101000000Z"), datetime.datetime(2050, 1, 1, tzinfo=UTC)),
        (tlv(0x18, b"99991231235959Z"), datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (tlv(0x18, b"00010101000000Z"), datetime.datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_times(data: bytes, when: datetime.datetime) -> None:
    parsed = d.decode_time(one(data))
    assert parsed == when and parsed.tzinfo is not None and parsed.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (tlv(0x17, b"2506011234Z"), "UTCTime must be"),  # no seconds
        (tlv(0x17, b"250601123456+0000"), "UTCTime must be"),
        (tlv(0x17, b"25060112345Z6"), "UTCTime must be"),
        (tlv(0x17, b"2506011234 6Z"), "not all digits"),
        (tlv(0x17, b"25060112345\xd9Z"), "not all digits"),
        (tlv(0x17, b"250229000000Z"), "no such time"),
        (tlv(0x17, b"251301000000Z"), "no such time"),
        (tlv(0x17, b"250601240000Z"), "no such time"),
        (tlv(0x17, b"250601235960Z"), "no such time"),  # leap seconds: not in RFC 5280 times
        (tlv(0x18, b"20250601123456.5Z"), "GeneralizedTime must be"),
        (tlv(0x18, b"20250601123456"), "GeneralizedTime must be"),
        (tlv(0x18, b"00000101000000Z"), "no such time"),
        (tlv(0x37, tlv(0x04, b"x")), "must be primitive"),
        (tlv(0x04, b"250601123456Z"), "expected UTCTime or GeneralizedTime"),
    ],
)
def test_malformed_times(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        d.decode_time(one(data))


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (tlv(0x0C, "ünï ☃".encode()), "ünï ☃"),
        (tlv(0x13, b"Printable 'x' (1+2=3)?"), "Printable 'x' (1+2=3)?"),
        (tlv(0x16, b"ia5@example"), "ia5@example"),
        (tlv(0x12, b"0123 45"), "0123 45"),
        (tlv(0x1A, b"visible"), "visible"),
        (tlv(0x14, b"caf\xe9"), "café"),  # T61String as Latin-1
        (tlv(0x1E, "BMP ☃".encode("utf-16-be")), "BMP ☃"),
        (tlv(0x1E, "😀".encode("utf-16-be")), "😀"),  # a surrogate pair
        (tlv(0x1C, "Univ 😀".encode("utf-32-be")), "Univ 😀"),
        (tlv(0x0C, b""), ""),
    ],
)
def test_strings(data: bytes, text: str) -> None:
    assert d.decode_string(one(data)) == text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (tlv(0x0C, b"caf\xe9"), "UTF8String is not valid utf-8"),
        (tlv(0x13, b"caf\xe9"), "PrintableString is not valid ascii"),
        (tlv(0x16, "é".encode()), "IA5String is not valid ascii"),
        (tlv(0x1E, b"\x00a\x00"), "BMPString is not valid utf-16-be"),
        (tlv(0x1E, b"\xdc\x00"), "BMPString is not valid utf-16-be"),
        (tlv(0x1C, b"\x00\x11\x00\x00"), "UniversalString is not valid utf-32-be"),
        (tlv(0x2C, tlv(0x0C, b"a")), "must be primitive"),
        (tlv(0x04, b"a"), "expected a character string, got OCTET STRING"),
        (tlv(0x82, b"a"), r"expected a character string, got \[2\]"),
    ],
)
def test_malformed_strings(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        d.decode_string(one(data))


# -- hostile input: only DecodeError, and quickly ----------------------------------------------------------


def _walk(reader: d.DerReader) -> int:
    """Decode everything that looks decodable, recursively; returns the number of elements."""
    count = 0
    while not reader.at_end():
        element = reader.read()
        count += 1
        if element.constructed:
            count += _walk(element.reader())
            continue
        if element.cls != d.UNIVERSAL:
            continue
        decoder = {
            d.BOOLEAN: d.decode_boolean,
            d.INTEGER: d.decode_integer,
            d.BIT_STRING: d.decode_bit_string,
            d.OCTET_STRING: d.decode_octet_string,
            d.NULL: d.decode_null,
            d.OBJECT_IDENTIFIER: d.decode_oid,
            d.UTC_TIME: d.decode_time,
            d.GENERALIZED_TIME: d.decode_time,
        }.get(element.number, d.decode_string)
        try:
            decoder(element)
        except DecodeError:
            pass
    return count


HOSTILE = settings(max_examples=400, deadline=5000, suppress_health_check=[HealthCheck.too_slow])


@HOSTILE
@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_decode_error(data: bytes) -> None:
    for parse in (x509facts.certificate_facts, x509facts.dn_to_rfc4514, lambda b: _walk(d.DerReader(b))):
        try:
            parse(data)
        except DecodeError:
            pass


@functools.cache
def certificates() -> tuple[bytes, ...]:
    ca = trustme.CA(organization_name="tlsmon fuzz", organization_unit_name="der")
    leaf = ca.create_child_ca().issue_cert("fuzz.example", "192.0.2.9", "*.fuzz.example")
    rsa_leaf = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert("rsa.example", key_type=trustme.KeyType.RSA)
    pems = [b.bytes() for b in leaf.cert_chain_pems] + [rsa_leaf.cert_chain_pems[0].bytes()]
    return tuple(x509.load_pem_x509_certificate(p).public_bytes(serialization.Encoding.DER) for p in pems)


def header_offsets(data: bytes) -> list[int]:
    """Where the length octets of each element of a well-formed DER buffer start."""
    offsets = []
    pending = [d.DerReader(data)]
    while pending:
        reader = pending.pop()
        while not reader.at_end():
            element = reader.read()
            offsets.append(element.offset + 1)
            if element.constructed:
                pending.append(element.reader())
    return offsets


NON_DER_LENGTHS = [
    b"\x84\xff\xff\xff\xff",  # 4 GiB
    b"\x84\x7f\xff\xff\xff",
    b"\x85\x01\x00\x00\x00\x00",  # more than four length octets
    b"\x80",  # indefinite
    b"\xff",
    b"\x81\x01",  # non-minimal
    b"\x82\x00\x10",
    b"\x00",
]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[int, bytes]:
    """(which certificate, its mutated bytes): truncations, bit flips, bytes in or out, lengths."""
    index = draw(st.integers(0, len(certificates()) - 1))
    data = bytearray(certificates()[index])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "set", "insert", "delete", "length", "length"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            del data[i:]
        elif kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[i] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[i:i] = bytes([draw(st.integers(0, 255))])
        elif kind == "delete":
            del data[i]
        else:
            try:
                offsets = header_offsets(bytes(data))
            except DecodeError:  # an earlier step broke the structure: any byte then
                offsets = [i]
            at = draw(st.sampled_from(offsets))
            data[at : at + 1] = draw(st.sampled_from(NON_DER_LENGTHS))
    return index, bytes(data)


@HOSTILE
@given(mutations())
def test_mutated_certificates_raise_only_decode_error_quickly(mutated: tuple[int, bytes]) -> None:
    _, data = mutated
    started = time.perf_counter()
    try:
        facts = x509facts.certificate_facts(data)
    except DecodeError:
        pass
    else:
        assert facts.der == data
    try:
        _walk(d.DerReader(data))
    except DecodeError:
        pass
    assert time.perf_counter() - started < 0.1


def test_huge_declared_lengths_are_refused_before_any_allocation() -> None:
    cert = certificates()[0]
    for length in NON_DER_LENGTHS[:3]:
        with pytest.raises(DecodeError):
            x509facts.certificate_facts(cert[:1] + length + cert[4:])
