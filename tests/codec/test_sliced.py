"""The fast paths agree with the reference paths.

The hot messages are parsed by slicing ``bytes`` (``_slice_x``), with the ``Reader``-based
parsers (``_read_x``) as the reference that runs whenever slicing does not fit (and names
the error); records and handshake messages are read in place from the chunk that carried
them. Whatever a fast path returns, the reference must return too: on valid messages, on
mutated ones, and on near-valid ones whose every length may be one off.
"""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codec import strategies as cs
from tlsmon.codec import extensions as ext
from tlsmon.codec import messages as m
from tlsmon.codec.events import SERVER
from tlsmon.codec.observer import PassiveObserver
from tlsmon.codec.wire import Reader, SlowPath, Writer
from tlsmon.errors import CodecError, DecodeError

CHECKED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# msg_type -> (slicing parser, Reader parser), both (body, tls13, version)
PAIRS = {
    1: (m._slice_client_hello, m._read_client_hello),
    2: (m._slice_server_hello, m._read_server_hello),
    11: (m._slice_certificate, m._read_certificate),
    13: (m._slice_certificate_request, m._read_certificate_request),
}

# extension payload parsers with a fast path for ``bytes``; a memoryview takes their Reader path
PAYLOAD_PARSERS = {"sni": ext.parse_server_name, "alpn": ext.parse_alpn, "key_share": ext.parse_key_share_server}

maybe_mutations = st.one_of(st.just([]), cs.mutations)


def _agree(fast, checked, *args):
    """If the fast form reads the input, the reference reads the same value."""
    try:
        got = fast(*args)
    except (SlowPath, IndexError):
        return  # the reference decides, and parse_x runs it
    assert checked(*args) == got


def _slice_extensions_at_start(data: bytes) -> tuple:
    return ext.slice_extensions(data, 0, len(data))


def _parse_extensions_at_start(data: bytes) -> tuple:
    r = Reader(data)
    return ext.parse_extensions(r), r.offset


def _results(parse, data) -> object:
    try:
        return parse(data)
    except DecodeError as exc:
        return str(exc)


# --- near-valid input: every length prefix may be one off, every vector empty or one too long ---

_deltas = st.sampled_from([0] * 10 + [-1, 1])


def _vec(len_bytes: int, content: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """``opaque x<..>`` whose declared length may be one off the content."""
    return st.tuples(content, _deltas).map(
        lambda cd: min(max(len(cd[0]) + cd[1], 0), 256**len_bytes - 1).to_bytes(len_bytes, "big") + cd[0])


def _join(*parts: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.tuples(*parts).map(b"".join)


def _many(element: st.SearchStrategy[bytes], max_size: int = 3) -> st.SearchStrategy[bytes]:
    return st.lists(element, max_size=max_size).map(b"".join)


_small = st.binary(max_size=3)
_tail = st.sampled_from([b""] * 5 + [b"\x00"])
_uint16_bytes = st.one_of(st.lists(st.integers(0, 0xFFFF), max_size=3).map(lambda v: struct.pack(f">{len(v)}H", *v)),
                          st.binary(max_size=5))
_extension_block = _vec(2, _many(_join(st.binary(min_size=2, max_size=2), _vec(2, _small))))
_hello_head = _join(st.just(b"\x03\x03" + bytes(32)), _vec(1, st.sampled_from([b"", bytes(32), bytes(33)])))

NEAR_VALID = {
    1: _join(_hello_head, _vec(2, _uint16_bytes), _vec(1, st.binary(max_size=2)),
             st.one_of(st.just(b""), _extension_block), _tail),
    2: _join(_hello_head, st.binary(min_size=3, max_size=3), st.one_of(st.just(b""), _extension_block), _tail),
    11: st.one_of(
        _join(_vec(3, _many(_vec(3, _small))), _tail),
        _join(_vec(1, _small), _vec(3, _many(_join(_vec(3, _small), _extension_block))), _tail),
    ),
    13: st.one_of(
        _join(_vec(1, _small), _vec(2, _uint16_bytes), _vec(2, _many(_vec(2, _small))), _tail),
        _join(_vec(1, _small), _vec(2, _many(_vec(2, _small))), _tail),
        _join(_vec(1, _small), _extension_block, _tail),
    ),
}
NEAR_VALID_PAYLOADS = st.one_of(
    _join(_vec(2, _many(_join(st.sampled_from([b"\x00", b"\x01"]), _vec(2, _small)))), _tail),  # server_name
    _join(_vec(2, _many(_vec(1, _small))), _tail),  # ALPN
    _join(st.binary(min_size=2, max_size=2), _vec(2, _small), _tail),  # key_share (server)
)
VALID_PAYLOADS = st.one_of(
    cs.host_names.map(lambda h: ext.server_name(h).data),
    cs.alpn_lists.map(lambda a: ext.alpn(a).data),
    cs.key_share_entries.map(lambda e: Writer().uint16(e.group).vector(2, e.key_exchange).getvalue()),
)


# --- messages --------------------------------------------------------------------------------


@CHECKED
@given(cs.dispatchable())
def test_slicing_parsers_read_valid_messages_without_the_reader(case):
    msg, tls13, version = case
    raw = m.build_handshake(msg)
    if raw[0] in PAIRS:
        assert PAIRS[raw[0]][0](raw[4:], tls13, version) == msg


@CHECKED
@given(cs.dispatchable(), cs.mutations, st.booleans())
def test_slicing_parsers_read_what_the_reader_reads_in_mutated_messages(case, steps, tls13):
    msg, _, version = case
    raw = m.build_handshake(msg)
    if raw[0] in PAIRS:
        _agree(*PAIRS[raw[0]], cs.mutate(raw[4:], steps), tls13, version)


@THOROUGH
@given(st.sampled_from(sorted(NEAR_VALID)).flatmap(lambda t: st.tuples(st.just(t), NEAR_VALID[t])), st.booleans(),
       st.sampled_from([0x0301, 0x0303]))
def test_slicing_parsers_refuse_what_the_reader_refuses(case, tls13, version):
    msg_type, body = case
    _agree(*PAIRS[msg_type], body, tls13, version)


# --- extensions ------------------------------------------------------------------------------


@CHECKED
@given(cs.extension_lists, st.binary(max_size=3), maybe_mutations)
def test_slice_extensions_reads_what_parse_extensions_reads(extensions, tail, steps):
    w = Writer()
    ext.build_extensions(w, extensions)
    _agree(_slice_extensions_at_start, _parse_extensions_at_start, cs.mutate(w.getvalue() + tail, steps))


@CHECKED
@given(_join(_extension_block, _tail))
def test_slice_extensions_refuses_what_parse_extensions_refuses(data):
    _agree(_slice_extensions_at_start, _parse_extensions_at_start, data)


@THOROUGH
@given(st.one_of(VALID_PAYLOADS, NEAR_VALID_PAYLOADS, st.binary(max_size=40)), maybe_mutations)
def test_extension_payload_fast_paths_agree_with_the_reader(payload, steps):
    data = cs.mutate(payload, steps)
    for name, parse in PAYLOAD_PARSERS.items():
        assert _results(parse, data) == _results(parse, memoryview(data)), name


@CHECKED
@given(st.binary(max_size=12))
def test_version_and_group_fast_paths_agree_with_the_reader(data):
    def reference(what, read):
        r = Reader(data, what)
        value = read(r)
        r.expect_end()
        return value

    assert _results(ext.parse_supported_versions_client, data) == _results(
        lambda d: reference("supported_versions", lambda r: r.uint16_list(1, "versions", minimum=2)), data)
    assert _results(ext.parse_supported_versions_server, data) == _results(
        lambda d: reference("supported_versions", lambda r: r.uint16("selected_version")), data)
    assert _results(ext.parse_key_share_hrr, data) == _results(
        lambda d: reference("key_share", lambda r: r.uint16("selected_group")), data)


# --- records, read in place ---------------------------------------------------------------------


def _observe(chunks: list[bytes]) -> tuple[list, str]:
    observer = PassiveObserver()
    events: list = []
    try:
        for chunk in chunks:
            observer.server_bytes(chunk)
            events += observer.events()
    except CodecError as exc:
        return events + observer.events(), str(exc)
    return events, ""


@CHECKED
@given(cs.record_streams(), cs.cuts, maybe_mutations)
def test_observer_events_do_not_depend_on_how_the_stream_is_cut(stream_and_messages, sizes, steps):
    data = cs.mutate(stream_and_messages[0], steps)
    whole = _observe([data])  # whole records, read where they are
    assert _observe(cs.split_at(data, sizes)) == whole  # records across chunks, joined in a buffer
    assert _observe(cs.split_at(data, [1])) == whole
    assert all(e.direction == SERVER for e in whole[0])
