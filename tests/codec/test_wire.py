"""Reader/Writer: bounds-checked presentation-language fields (RFC 8446 §3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsmon.codec.wire import Reader, Writer
from tlsmon.errors import CodecError, DecodeError

FAST = settings(max_examples=200, deadline=None)


@FAST
@given(
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=300),
    st.lists(st.integers(0, 0xFFFF), max_size=40),
)
def test_writer_then_reader_round_trips(u8, u16, u24, u32, blob, values):
    w = Writer().uint8(u8).uint16(u16).uint24(u24).uint32(u32)
    w.vector(1, blob[:255]).vector(2, blob).vector(3, blob).uint16_list(2, values).raw(b"end")
    r = Reader(w.getvalue(), "fields")
    assert r.uint8() == u8
    assert r.uint16() == u16
    assert r.uint24() == u24
    assert r.uint32() == u32
    assert r.vector(1) == blob[:255]
    assert r.vector(2) == blob
    sub = r.sub(3)
    assert sub.rest() == blob
    assert r.uint16_list(2, "values") == tuple(values)
    assert r.raw(3) == b"end"
    assert r.at_end()
    r.expect_end()


def test_reader_overrun_raises_decode_error_with_the_offset():
    data = bytes(
        [
            0x01,  # uint8 version
            0x00, 0x05,  # opaque name<0..2^16-1>: length 5
            0x61, 0x62, 0x63,  # name: only 3 bytes present
        ]
    )  # fmt: skip
    r = Reader(data, "Thing")
    assert r.uint8("version") == 1
    with pytest.raises(DecodeError) as info:
        r.vector(2, "name")
    err = info.value
    assert (err.what, err.offset) == ("Thing", 3)  # the name starts after the 2-byte length
    assert "name needs 5 bytes, 3 left" in err.reason
    assert str(err) == "Thing: name needs 5 bytes, 3 left at offset 3"
    assert "\n" not in str(err)


def test_reader_overrun_in_a_sub_reader_reports_the_offset_in_the_whole_buffer():
    data = bytes(
        [
            0xAA, 0xBB,  # two bytes of something before
            0x00, 0x03,  # inner<0..2^16-1>: length 3
            0x00, 0x10,  # inner uint16
            0x07,  # inner: one byte where a uint16 should be
        ]
    )  # fmt: skip
    r = Reader(data, "Outer")
    r.raw(2)
    inner = r.sub(2, "inner")
    assert inner.offset == 4
    assert inner.uint16() == 0x10
    with pytest.raises(DecodeError) as info:
        inner.uint16("second")
    assert info.value.offset == 6
    assert info.value.what == "inner"


@pytest.mark.parametrize(
    ("data", "read", "reason"),
    [
        (b"", lambda r: r.uint8(), "needs 1 bytes, 0 left"),
        (b"\x00", lambda r: r.uint16(), "needs 2 bytes, 1 left"),
        (b"\x00\x00", lambda r: r.uint24(), "needs 3 bytes, 2 left"),
        (b"\x00\x00\x00", lambda r: r.uint32(), "needs 4 bytes, 3 left"),
        (b"\x01", lambda r: r.raw(2), "needs 2 bytes, 1 left"),
        (b"\x00", lambda r: r.vector(2), "length needs 2 bytes"),
        (b"\x00", lambda r: r.vector(1, "v", minimum=1), "v shorter than 1 bytes"),
        (b"\x02ab", lambda r: r.vector(1, "v", maximum=1), "v longer than 1 bytes"),
        (b"\x00\x01", lambda r: r.sub(2, "s", minimum=2), "s shorter than 2 bytes"),
        (b"\xff\xff\xff", lambda r: r.sub(3, "s"), "s needs 16777215 bytes, 0 left"),
        (b"\x03abc", lambda r: r.uint16_list(1, "list"), "list has an odd length"),
        (b"\x00\x02\x00", lambda r: r.uint16_list(2, "list"), "list needs 2 bytes, 1 left"),
        (b"xy", lambda r: r.expect_end(), "2 trailing bytes"),
    ],
)
def test_reader_refuses_malformed_fields(data, read, reason):
    with pytest.raises(DecodeError, match=reason):
        read(Reader(data, "field"))


def test_reader_reads_memoryviews_and_bytearrays_without_copying_the_caller():
    backing = bytearray(b"\x00\x02hi")
    assert Reader(memoryview(backing)).vector(2) == b"hi"
    assert Reader(backing).vector(2) == b"hi"


@FAST
@given(st.binary(max_size=64), st.lists(st.sampled_from(["u8", "u16", "u24", "u32", "v1", "v2", "v3", "l2"])))
def test_reader_raises_only_decode_errors(data, ops):
    r = Reader(data, "fuzz")
    try:
        for op in ops:
            if op == "u8":
                r.uint8()
            elif op == "u16":
                r.uint16()
            elif op == "u24":
                r.uint24()
            elif op == "u32":
                r.uint32()
            elif op == "l2":
                r.uint16_list(2, "list")
            else:
                r.vector(int(op[1]))
        r.expect_end()
    except DecodeError as exc:
        assert isinstance(exc, CodecError)
        assert 0 <= exc.offset <= len(data)
