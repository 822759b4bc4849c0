"""Record splitting and handshake reassembly: chunking invariance, limits, odd streams."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.strategies import cuts, handshake_streams, record_streams, split_at
from tlsmon.codec import messages as m
from tlsmon.codec import records
from tlsmon.codec.connection import ClientHandshake
from tlsmon.codec.events import ChangeCipherSpecEvent, MessageEvent
from tlsmon.codec.hello import HelloOptions
from tlsmon.codec.records import (
    DEFAULT_MAX_HANDSHAKE,
    MAX_CIPHERTEXT,
    NEED_DATA,
    HandshakeReassembler,
    Record,
    RecordReader,
    build_record,
)
from tlsmon.errors import CodecError, DecodeError, LimitExceeded, UnexpectedMessage

FAST = settings(max_examples=150, deadline=None)


def events_from(chunks, *, allow_sslv2: bool = True) -> list[tuple]:
    """What RecordReader + HandshakeReassembler make of ``chunks``, the first error included."""
    reader, hs = RecordReader(allow_sslv2=allow_sslv2), HandshakeReassembler()
    out: list[tuple] = []
    try:
        for chunk in chunks:
            reader.receive_data(chunk)
            while (rec := reader.next_record()) is not NEED_DATA:
                out.append(("record", rec.content_type, rec.version, len(rec.fragment), rec.offset))
                if rec.content_type == 22:
                    hs.receive_fragment(rec.fragment)
                    while (msg := hs.next_message()) is not NEED_DATA:
                        out.append(("handshake", msg[0], msg[2]))
    except CodecError as exc:
        out.append(("error", type(exc).__name__, str(exc)))
    return out


def messages_in(events: list[tuple]) -> tuple[bytes, ...]:
    return tuple(e[2] for e in events if e[0] == "handshake")


# --- chunking invariance -----------------------------------------------------------------------


@FAST
@given(record_streams(), cuts, st.booleans())
def test_chunking_does_not_change_records_or_messages(stream_and_messages, sizes, sslv2_first):
    stream, messages = stream_and_messages
    if sslv2_first:
        stream = SSLV2_CLIENT_HELLO_RECORD + stream
    whole = events_from([stream])
    assert messages_in(whole) == messages
    assert not any(e[0] == "error" for e in whole)
    assert events_from(split_at(stream, [1])) == whole
    assert events_from(split_at(stream, sizes)) == whole


@FAST
@given(st.binary(max_size=4), record_streams(), st.binary(max_size=40), cuts)
def test_chunking_does_not_change_errors(prefix, stream_and_messages, garbage, sizes):
    stream = prefix + stream_and_messages[0] + garbage
    whole = events_from([stream])
    assert events_from(split_at(stream, [1])) == whole
    assert events_from(split_at(stream, sizes)) == whole


@FAST
@given(record_streams(), st.integers(0, 400), st.sampled_from([b"\x0b\xff\xff\xff", b"\x16\xff\xff", b"\x00\x05"]))
def test_chunking_does_not_change_limit_errors(stream_and_messages, where, bad):
    """A corrupted length somewhere in the stream fails the same way however it arrives."""
    stream = bytearray(stream_and_messages[0])
    where %= len(stream)
    stream[where : where + len(bad)] = bad
    whole = events_from([bytes(stream)])
    assert events_from(split_at(bytes(stream), [1])) == whole
    assert events_from(split_at(bytes(stream), [7, 3, 100])) == whole


@FAST
@given(handshake_streams(), st.lists(st.integers(1, 200), min_size=1, max_size=8))
def test_record_boundaries_do_not_change_messages(messages, sizes):
    """The same handshake bytes framed into records of any size reassemble alike."""
    data = b"".join(messages)
    for framing in ([len(data)], [1], sizes):
        hs, got = HandshakeReassembler(), []
        for fragment in split_at(data, framing):
            hs.receive_fragment(fragment)
            while (msg := hs.next_message()) is not NEED_DATA:
                got.append(msg[2])
                assert msg[1] == msg[2][4:]
                assert msg[0] == msg[2][0]
        assert tuple(got) == messages
        assert hs.pending == 0


def test_several_messages_in_one_record_and_one_message_over_three():
    done, hello = m.build_handshake(m.ServerHelloDone()), m.build_handshake(m.Finished(bytes(40)))
    stream = (
        build_record(22, done + done + hello[:10])  # two whole messages and the start of a third
        + build_record(22, hello[10:20])
        + build_record(22, hello[20:])
    )
    events = events_from([stream])
    assert messages_in(events) == (done, done, hello)


# --- limits -------------------------------------------------------------------------------------

HUGE_CERTIFICATE_RECORD = bytes(
    [
        0x16,  # content type: handshake(22)
        0x03, 0x03,  # record version: TLS 1.2
        0x00, 0x04,  # record length: 4
        0x0B,  # msg_type: certificate(11)
        0xFF, 0xFF, 0xFF,  # uint24 length: 16,777,215
    ]
)  # fmt: skip

OVERSIZED_RECORD_HEADER = bytes(
    [
        0x16,  # content type: handshake(22)
        0x03, 0x03,  # record version: TLS 1.2
        0xFF, 0xFF,  # record length: 65,535 (over 2^14 + 2048)
    ]
)  # fmt: skip


def peak_allocation(call) -> int:
    """Bytes allocated at the peak while ``call()`` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_16mb_handshake_message_is_refused_from_its_header_without_allocating():
    reader, hs = RecordReader(), HandshakeReassembler()

    def feed():
        reader.receive_data(HUGE_CERTIFICATE_RECORD)
        rec = reader.next_record()
        assert isinstance(rec, Record)
        with pytest.raises(LimitExceeded) as info:
            hs.receive_fragment(rec.fragment)
        assert info.value.offset == 0
        assert "16777215" in info.value.reason and str(DEFAULT_MAX_HANDSHAKE) in info.value.reason

    assert peak_allocation(feed) < 1_000_000


def test_16mb_header_split_over_two_records_is_refused_when_complete():
    hs = HandshakeReassembler()
    hs.receive_fragment(b"\x0b\xff")
    assert hs.next_message() is NEED_DATA
    with pytest.raises(LimitExceeded):
        hs.receive_fragment(b"\xff\xff")


def test_message_at_the_limit_is_accepted_and_one_byte_more_is_not():
    HandshakeReassembler(max_message=10).receive_fragment(b"\x0b\x00\x00\x0a")
    with pytest.raises(LimitExceeded):
        HandshakeReassembler(max_message=10).receive_fragment(b"\x0b\x00\x00\x0b")


def test_16mb_handshake_message_to_a_client_handshake():
    hs = ClientHandshake(HelloOptions(), rng=bytes)
    hs.data_to_send()
    assert isinstance(hs.next_event(), MessageEvent)  # our own ClientHello

    def feed():
        hs.receive_data(HUGE_CERTIFICATE_RECORD)
        with pytest.raises(LimitExceeded):
            hs.next_event()

    assert peak_allocation(feed) < 1_000_000


def test_record_length_over_max_ciphertext_is_refused_from_the_header():
    reader = RecordReader()
    reader.receive_data(OVERSIZED_RECORD_HEADER)
    with pytest.raises(LimitExceeded, match=f"length 65535 over {MAX_CIPHERTEXT}"):
        reader.next_record()
    hs = ClientHandshake(HelloOptions(), rng=bytes)
    hs.data_to_send()
    hs.receive_data(OVERSIZED_RECORD_HEADER)
    with pytest.raises(LimitExceeded):
        while True:
            assert hs.next_event() is not NEED_DATA


def test_largest_allowed_record_is_returned():
    reader = RecordReader()
    reader.receive_data(build_record(23, bytes(MAX_CIPHERTEXT)))
    assert len(reader.next_record().fragment) == MAX_CIPHERTEXT
    with pytest.raises(ValueError):
        build_record(23, bytes(MAX_CIPHERTEXT + 1))


@pytest.mark.parametrize(
    ("record", "error"),
    [
        (build_record(23, b""), UnexpectedMessage),  # application data before any keys
        (build_record(22, b""), DecodeError),  # empty handshake record
        (build_record(21, b""), DecodeError),  # empty alert
        (build_record(20, b""), DecodeError),  # empty ChangeCipherSpec
    ],
)
def test_a_flood_of_empty_records_is_refused_at_once(record, error):
    hs = ClientHandshake(HelloOptions(), rng=bytes)
    hs.data_to_send()
    hs.receive_data(record * 10_000)
    started = time.monotonic()
    with pytest.raises(error):
        while True:
            assert hs.next_event() is not NEED_DATA
    assert time.monotonic() - started < 1.0
    assert hs._reader.buffered >= 5 * 9_999  # it stopped at the first record


def test_a_flood_of_change_cipher_specs_ends():
    hs = ClientHandshake(HelloOptions(), rng=bytes)
    hs.data_to_send()
    hs.receive_data(build_record(20, b"\x01") * 10_000)
    started, seen = time.monotonic(), []
    while (event := hs.next_event()) is not NEED_DATA:
        seen.append(event)
    assert time.monotonic() - started < 5.0
    assert sum(isinstance(e, ChangeCipherSpecEvent) for e in seen) == 10_000


# --- hand-built streams --------------------------------------------------------------------

SSLV2_CLIENT_HELLO_RECORD = bytes(
    [
        0x80, 0x1F,  # SSLv2 record header: 2-byte form, length 31
        0x01,  # msg_type: CLIENT-HELLO
        0x03, 0x01,  # version: TLS 1.0
        0x00, 0x06,  # cipher_spec_length: 6
        0x00, 0x00,  # session_id_length: 0
        0x00, 0x10,  # challenge_length: 16
        0x00, 0x00, 0x2F,  # cipher spec: TLS_RSA_WITH_AES_128_CBC_SHA
        0x01, 0x00, 0x80,  # cipher spec: SSL_CK_RC4_128_WITH_MD5 (SSLv2 only)
        *b"0123456789abcdef",  # challenge
    ]
)  # fmt: skip


def test_sslv2_compatible_client_hello():
    reader = RecordReader()
    reader.receive_data(SSLV2_CLIENT_HELLO_RECORD + build_record(21, b"\x02\x28"))
    rec = reader.next_record()
    assert rec == Record(records.SSL2_CLIENT_HELLO, 0x0002, SSLV2_CLIENT_HELLO_RECORD[2:], 0)
    hello = m.parse_sslv2_client_hello(rec.fragment)
    assert hello == m.Sslv2ClientHello(0x0301, (0x00002F, 0x010080), b"", b"0123456789abcdef")
    after = reader.next_record()  # TLS records may follow
    assert (after.content_type, after.fragment, after.offset) == (21, b"\x02\x28", 33)
    assert reader.next_record() is NEED_DATA


def test_sslv2_hello_byte_by_byte():
    assert events_from(split_at(SSLV2_CLIENT_HELLO_RECORD, [1])) == events_from([SSLV2_CLIENT_HELLO_RECORD])


def test_sslv2_header_is_only_accepted_first_and_when_allowed():
    with pytest.raises(DecodeError, match="not TLS"):
        events_from_raise([SSLV2_CLIENT_HELLO_RECORD], allow_sslv2=False)
    with pytest.raises(DecodeError, match="not TLS"):
        events_from_raise([build_record(21, b"\x01\x00"), SSLV2_CLIENT_HELLO_RECORD])


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x22\x02", "without CLIENT-HELLO"),  # SSLv2 SERVER-HELLO
        (b"\x80\x05\x01", "too short"),
    ],
)
def test_malformed_sslv2_headers(data, reason):
    with pytest.raises(DecodeError, match=reason):
        events_from_raise([data])


def events_from_raise(chunks, **kwargs) -> list[tuple]:
    events = events_from(chunks, **kwargs)
    if events and events[-1][0] == "error":
        kind = {"DecodeError": DecodeError, "LimitExceeded": LimitExceeded}[events[-1][1]]
        raise kind("replayed", 0, events[-1][2])
    return events


@pytest.mark.parametrize(
    "stream",
    [
        b"HTTP/1.1 400 Bad Request\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"220 mail.example.org ESMTP\r\n",
        b"H",  # one byte is enough to tell
    ],
)
def test_non_tls_stream_is_refused_immediately(stream):
    reader = RecordReader()
    reader.receive_data(stream)
    with pytest.raises(DecodeError) as info:
        reader.next_record()
    assert info.value.offset == 0
    assert f"content type {stream[0]} is not TLS" in info.value.reason
    hs = ClientHandshake(HelloOptions(), rng=bytes)
    hs.data_to_send()
    hs.receive_data(stream)
    with pytest.raises(DecodeError):
        while True:
            assert hs.next_event() is not NEED_DATA


def test_record_version_must_be_3_x():
    reader = RecordReader()
    reader.receive_data(bytes([0x16, 0x02, 0x00, 0x00, 0x00]))  # handshake, version 2.0, length 0
    with pytest.raises(DecodeError, match="0x0200 is not TLS"):
        reader.next_record()


def test_record_reader_offsets_and_header():
    reader = RecordReader(allow_sslv2=False)
    first, second = build_record(22, b"abc", 0x0301), build_record(23, b"xy")
    reader.receive_data(first + second[:3])
    rec = reader.next_record()
    assert (rec.offset, rec.header, rec.version) == (0, first[:5], 0x0301)
    assert reader.next_record() is NEED_DATA
    assert (reader.stream_offset, reader.buffered) == (len(first), 3)
    reader.receive_data(second[3:])
    assert reader.next_record().offset == len(first)
    assert repr(NEED_DATA) == "NEED_DATA"
