"""Per-direction TCP reassembly: order, retransmissions, overlaps, gaps, wrap-around, bounds.

Pure unit and property tests: no files, no sockets.
"""

from __future__ import annotations

import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from tlsmon.sources.reassembly import MASK, StreamReassembler, seq_diff


def stream_of(chunks) -> tuple[bytes, int]:
    """The bytes delivered, and the total of the gaps declared."""
    data = b"".join(bytes(d) for _, d in chunks)
    return data, sum(g for g, _ in chunks)


def segments(data: bytes, cuts: list[int], isn: int) -> list[tuple[int, bytes]]:
    """``data`` cut at ``cuts`` into (seq, payload) segments starting at ``isn + 1``."""
    points = sorted({0, len(data), *[c % (len(data) + 1) for c in cuts]})
    return [((isn + 1 + a) & MASK, data[a:b]) for a, b in zip(points, points[1:]) if b > a]


def test_in_order_segments_come_back_unchanged_and_uncopied():
    r = StreamReassembler()
    r.syn(1000)
    first = b"\x16\x03\x01\x00\x05hello"
    out = r.push(1001, first)
    assert out == [(0, first)] and out[0][1] is first  # no copy on the in-order path
    assert r.push(1001 + len(first), b"more") == [(0, b"more")]
    assert r.gaps == [] and r.buffered == 0


def test_out_of_order_segment_waits_for_the_hole():
    r = StreamReassembler()
    r.syn(0)
    assert r.push(6, b"world") == []
    assert r.buffered == 5
    assert r.push(1, b"hello") == [(0, b"hello"), (0, b"world")]
    assert r.buffered == 0 and r.clean


def test_retransmission_is_dropped_and_counted():
    r = StreamReassembler()
    r.syn(0)
    r.push(1, b"abcdef")
    assert r.push(1, b"abcdef") == []
    assert r.retransmitted == 6


def test_overlap_keeps_the_first_copy_and_trims_the_rest():
    r = StreamReassembler()
    r.syn(0)
    r.push(1, b"abcd")
    assert r.push(3, b"XXefgh") == [(0, b"efgh")]  # bytes 3-4 were already delivered as "cd"
    assert r.retransmitted == 2


def test_overlapping_held_segments_reassemble_once():
    r = StreamReassembler()
    r.syn(0)
    assert r.push(5, b"efgh") == []
    assert r.push(4, b"defghij") == []  # overlaps the held one, starts earlier
    out = r.push(1, b"abc")
    assert stream_of(out) == (b"abcdefghij", 0)


def test_missing_bytes_become_a_gap_at_flush():
    r = StreamReassembler()
    r.syn(0)
    r.push(1, b"abc")
    assert r.push(10, b"xyz", frame=7) == []
    out = r.flush(frame=9)
    assert out == [(6, b""), (0, b"xyz")]
    assert [(g.seq, g.length, g.frame, g.reason) for g in r.gaps] == [(4, 6, 9, "end")]


def test_a_full_buffer_declares_the_oldest_hole_a_gap():
    r = StreamReassembler(max_buffer=8)
    r.syn(0)
    assert r.push(101, b"12345") == []
    out = r.push(106, b"6789", frame=3)  # 9 bytes held > 8: give up on bytes 1-100
    assert out == [(100, b""), (0, b"12345"), (0, b"6789")]
    assert r.gaps[0].reason == "overflow" and r.gaps[0].length == 100


def test_a_segment_cut_by_the_snap_length_makes_a_gap_at_the_next_one():
    r = StreamReassembler()
    r.syn(0)
    assert r.push(1, b"abc", truncated=True) == [(0, b"abc")]  # really 10 bytes on the wire
    assert r.push(11, b"next", frame=5) == [(7, b""), (0, b"next")]
    assert r.gaps[0].reason == "truncated"


def test_sequence_numbers_wrap_around():
    r = StreamReassembler()
    isn = MASK - 3
    r.syn(isn)
    data = bytes(range(20))
    segs = segments(data, [2, 5, 9, 13], isn)
    random.Random(1).shuffle(segs)
    out = []
    for seq, payload in segs:
        out += r.push(seq, payload)
    assert stream_of(out) == (data, 0)
    assert seq_diff(1, MASK) == 2 and seq_diff(MASK, 1) == -2


def test_without_a_syn_the_first_segment_starts_the_stream():
    r = StreamReassembler()
    assert r.push(5000, b"mid") == [(0, b"mid")]
    assert r.next_seq == 5003 and not r.syn_seen


def test_fin_marks_the_stream_finished_once_everything_before_it_is_in():
    r = StreamReassembler()
    r.syn(0)
    r.push(4, b"def")
    r.fin(7)
    assert not r.finished
    r.push(1, b"abc")
    assert r.finished


def test_a_million_tiny_segments_take_bounded_time_and_memory():
    r = StreamReassembler(max_buffer=64 * 1024, max_segments=1024)
    r.syn(0)
    start = time.monotonic()
    delivered = gaps = 0
    for i in range(1_000_000, 0, -1):  # every segment one byte, in reverse order
        for gap, data in r.push(1 + i, b"x", frame=i):
            delivered += len(data)
            gaps += gap
        assert r.buffered <= 64 * 1024
    for gap, data in r.flush():
        delivered += len(data)
        gaps += gap
    assert time.monotonic() - start < 30
    assert delivered + gaps <= 1_000_001
    assert r.buffered == 0


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=3000),
    cuts=st.lists(st.integers(0, 3000), max_size=40),
    isn=st.integers(0, MASK),
    seed=st.integers(0, 2**32),
    duplicates=st.integers(0, 10),
)
def test_reordered_and_duplicated_segments_reassemble_alike(data, cuts, isn, seed, duplicates):
    rng = random.Random(seed)
    segs = segments(data, cuts, isn)
    segs += [rng.choice(segs) for _ in range(duplicates)]
    # retransmissions that overlap two neighbours
    for _ in range(duplicates // 2):
        a = rng.randrange(len(data))
        b = min(len(data), a + rng.randrange(1, 200))
        segs.append(((isn + 1 + a) & MASK, data[a:b]))
    rng.shuffle(segs)
    r = StreamReassembler()
    r.syn(isn)
    out = []
    for seq, payload in segs:
        out += r.push(seq, payload)
    out += r.flush()
    assert stream_of(out) == (data, 0)
    assert r.gaps == []


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(min_size=2, max_size=2000),
    cuts=st.lists(st.integers(0, 2000), min_size=2, max_size=30),
    drop=st.sets(st.integers(0, 40), min_size=1, max_size=5),
    seed=st.integers(0, 2**32),
)
def test_lost_segments_are_reported_as_gaps_of_the_right_size(data, cuts, drop, seed):
    segs = segments(data, cuts, 77)
    kept = [s for i, s in enumerate(segs) if i not in drop]
    random.Random(seed).shuffle(kept)
    r = StreamReassembler()
    r.syn(77)
    out = []
    for seq, payload in kept:
        out += r.push(seq, payload)
    out += r.flush()
    # What comes out is the stream with each missing run replaced by a gap of its size,
    # up to the last byte received.
    expected = bytearray()
    expected_gap = 0
    position = 0
    for chunk_gap, chunk in out:
        position += chunk_gap + len(chunk)
        expected_gap += chunk_gap
        expected += chunk
    last = max(((seq - 78) & MASK) + len(p) for seq, p in kept) if kept else 0
    assert position == last
    received = bytearray(len(data))
    have = [False] * len(data)
    for seq, payload in kept:
        start = (seq - 78) & MASK
        received[start : start + len(payload)] = payload
        for i in range(start, start + len(payload)):
            have[i] = True
    assert bytes(expected) == bytes(b for i, b in enumerate(received[:last]) if have[i])
    assert expected_gap == sum(1 for i in range(last) if not have[i])
    assert sum(g.length for g in r.gaps) == expected_gap


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, MASK), st.binary(max_size=64), st.booleans()), max_size=60))
def test_arbitrary_segments_never_raise_and_stay_bounded(pushes):
    r = StreamReassembler(max_buffer=1024, max_segments=16)
    for seq, payload, truncated in pushes:
        r.push(seq, payload, truncated=truncated)
        assert r.buffered <= 1024 + 64
    r.flush()
    assert r.buffered == 0
