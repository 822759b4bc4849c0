"""Per-direction TCP stream reassembly: segments in, ordered bytes out.

One ``StreamReassembler`` follows one direction of one TCP connection. It is pure: no
I/O, no clock, no knowledge of TLS. It puts out-of-order segments back in order, drops
retransmitted bytes, trims overlaps (the first copy of a byte wins, as in most stacks),
and never hides a hole: when bytes are missing for good (never captured, cut by the
snap length, or the out-of-order buffer is full) it records a ``Gap`` and hands the
consumer the bytes after it together with the number of bytes skipped, so that a
consumer can resynchronise (a TLS reader resumes at the next record boundary).

Memory is bounded: at most ``max_buffer`` bytes and ``max_segments`` segments wait out
of order; beyond that the oldest hole is declared a gap. In-order bytes are never
copied or kept: they are returned as they came (a ``bytes`` or ``memoryview``).

Sequence numbers are 32-bit and wrap (RFC 9293 §3.4); all comparisons are modular.
"""

from __future__ import annotations

import heapq
from typing import Optional, Union

from ..frozen import frozen

__all__ = ["Gap", "Chunk", "StreamReassembler", "MASK", "seq_diff", "DEFAULT_MAX_BUFFER", "DEFAULT_MAX_SEGMENTS"]

MASK = 0xFFFFFFFF
_HALF = 1 << 31
DEFAULT_MAX_BUFFER = 256 * 1024
DEFAULT_MAX_SEGMENTS = 1024

Data = Union[bytes, memoryview]
Chunk = tuple[int, Data]
"""``(gap, data)``: either ``(0, bytes in order)`` or ``(n, b"")``: ``n`` bytes are missing here."""


def seq_diff(a: int, b: int) -> int:
    """``a - b`` in sequence space, in ``[-2**31, 2**31)``."""
    d = (a - b) & MASK
    return d - (1 << 32) if d >= _HALF else d


@frozen
class Gap:
    """Bytes of a stream that were never seen.

    Attributes:
        seq: sequence number of the first missing byte.
        length: how many bytes are missing.
        frame: the frame whose arrival revealed (or forced) the gap.
        reason: ``missing`` (segments not captured), ``truncated`` (cut by the snap
            length), ``overflow`` (the out-of-order buffer was full) or ``end`` (the
            stream ended with a hole before later data).
    """

    seq: int
    length: int
    frame: int
    reason: str


class StreamReassembler:
    """Reassembles one direction of a TCP connection.

    Args:
        max_buffer: most bytes kept out of order before the oldest hole becomes a gap.
        max_segments: most segments kept out of order (bounds the work of a flood of
            tiny segments).

    Attributes:
        next_seq: the sequence number of the next byte expected, None before the first
            SYN or data segment.
        syn_seen: the stream's SYN was seen, so its start is known.
        gaps: holes, in stream order.
        isn: the initial sequence number, from the SYN.
        retransmitted: bytes received more than once (dropped).
        fin_seq: sequence number of the FIN, if seen.
    """

    __slots__ = ("next_seq", "syn_seen", "isn", "gaps", "retransmitted", "fin_seq", "clean",
                 "max_buffer", "max_segments", "_pending", "_heap", "_base", "_buffered", "_cut")

    def __init__(self, max_buffer: int = DEFAULT_MAX_BUFFER, max_segments: int = DEFAULT_MAX_SEGMENTS) -> None:
        self.next_seq: Optional[int] = None
        self.syn_seen = False
        self.isn = 0
        self.gaps: list[Gap] = []
        self.retransmitted = 0
        self.fin_seq: Optional[int] = None
        self.clean = True  # nothing held out of order and no cut segment pending: the fast path applies
        self.max_buffer = max_buffer
        self.max_segments = max_segments
        self._pending: Optional[dict[int, bytes]] = None  # key: offset from _base
        self._heap: list[int] = []
        self._base = 0
        self._buffered = 0
        self._cut: Optional[str] = None  # the last segment delivered was cut short (snap length)

    # --- input -----------------------------------------------------------------------------------

    def syn(self, seq: int) -> None:
        """A SYN with sequence number ``seq``: the stream's first byte is ``seq + 1``.

        A SYN that comes after data (reordered at the start of a capture) leaves the stream
        where the data put it.
        """
        if not self.syn_seen:
            if self.next_seq is None:
                self.next_seq = (seq + 1) & MASK
            self.syn_seen = True
            self.isn = seq & MASK

    def fin(self, seq: int) -> None:
        """A FIN at sequence number ``seq`` (the segment's seq plus its payload length)."""
        if self.fin_seq is None:
            self.fin_seq = seq & MASK

    @property
    def finished(self) -> bool:
        """The FIN was seen and every byte before it was delivered (or declared missing)."""
        return self.fin_seq is not None and self.next_seq == self.fin_seq and not self._pending

    @property
    def buffered(self) -> int:
        """Bytes waiting out of order."""
        return self._buffered

    def push(self, seq: int, data: Data, frame: int = 0, truncated: bool = False) -> list[Chunk]:
        """One segment's payload; returns what is now in order, as ``(gap, data)`` chunks.

        Args:
            seq: the segment's sequence number.
            data: its payload (only what was captured).
            frame: frame number, for ``Gap.frame``.
            truncated: the payload was cut by the snap length: the bytes after it are missing.
        """
        n = len(data)
        nxt = self.next_seq
        if nxt is None:  # no SYN seen: the stream starts (for us) here
            nxt = self.next_seq = seq & MASK
        if seq == nxt and self.clean:
            if not n:
                return []
            self.next_seq = (seq + n) & MASK
            if truncated:
                self._cut = "truncated"
                self.clean = False
            return [(0, data)]
        return self._slow(seq & MASK, data, frame, truncated)

    def acked(self, ack: int, frame: int = 0) -> list[Chunk]:
        """The peer acknowledged every byte before ``ack``.

        A hole before ``ack`` will never be filled: the receiver had those bytes, so no
        retransmission will come; the capture missed them. It becomes a gap at once (as
        tshark's "ACKed unseen segment"), and what was held after it is delivered.
        """
        out: list[Chunk] = []
        nxt = self.next_seq
        if nxt is None or not self._pending:
            return out
        d = seq_diff(ack & MASK, nxt)
        if d <= 0:
            return out
        rel = (nxt - self._base) & MASK
        upto = min(rel + d, self._heap[0])
        if upto > rel:
            self._gap(nxt, upto - rel, frame, "missing", out)
        self._drain(out)
        self.clean = self._cut is None and not self._pending
        return out

    def flush(self, frame: int = 0) -> list[Chunk]:
        """The stream ends (FIN, RST, expiry or end of capture): deliver everything held, gaps declared."""
        out: list[Chunk] = []
        while self._pending:
            self._force_gap(frame, "end", out)
        self._cut = None
        self.clean = True
        return out

    # --- the slow path ---------------------------------------------------------------------------

    def _slow(self, seq: int, data: Data, frame: int, truncated: bool) -> list[Chunk]:
        out: list[Chunk] = []
        nxt = self.next_seq
        assert nxt is not None
        n = len(data)
        d = seq_diff(seq, nxt)
        if d < 0:  # starts before what we expect: a retransmission, or an overlap to trim
            if -d >= n:
                self.retransmitted += n
                return out
            self.retransmitted += -d
            data = data[-d:]
            n -= -d
            seq, d = nxt, 0
        if not n:
            return out
        if d > 0 and self._cut is not None:
            # The previous segment was cut by the snap length: its tail will never come.
            self._gap(nxt, d, frame, self._cut, out)
            nxt = self.next_seq
            d = 0
            assert nxt == seq
        self._cut = None
        if d == 0:
            self._deliver(data, 0, out)
            if self._pending:
                self._drain(out)
        else:
            self._store(d, data)
            while self._pending and (self._buffered > self.max_buffer or len(self._pending) > self.max_segments):
                self._force_gap(frame, "overflow", out)
        if truncated:
            self._cut = "truncated"
        self.clean = self._cut is None and not self._pending
        return out

    def _deliver(self, data: Data, gap: int, out: list[Chunk]) -> None:
        assert self.next_seq is not None
        self.next_seq = (self.next_seq + len(data)) & MASK
        out.append((gap, data))

    def _gap(self, seq: int, length: int, frame: int, reason: str, out: list[Chunk]) -> None:
        self.gaps.append(Gap(seq, length, frame, reason))
        self.next_seq = (seq + length) & MASK
        out.append((length, b""))

    def _store(self, d: int, data: Data) -> None:
        """Keep a segment that starts ``d`` bytes ahead of ``next_seq``."""
        assert self.next_seq is not None
        if self._pending is None:
            self._pending = {}
            self._base = self.next_seq
        key = (self.next_seq - self._base) & MASK
        key += d
        old = self._pending.get(key)
        if old is not None:
            if len(old) >= len(data):
                self.retransmitted += len(data)
                return
            self.retransmitted += len(old)
            self._buffered -= len(old)
        else:
            heapq.heappush(self._heap, key)
        self._pending[key] = bytes(data)  # a copy: never pin a reader's buffer
        self._buffered += len(data)

    def _drain(self, out: list[Chunk]) -> None:
        """Deliver held segments that have become contiguous."""
        pending, heap = self._pending, self._heap
        assert pending is not None and self.next_seq is not None
        while heap:
            rel = (self.next_seq - self._base) & MASK
            key = heap[0]
            if key > rel:
                break
            heapq.heappop(heap)
            data = pending.pop(key, None)
            if data is None:
                continue
            self._buffered -= len(data)
            skip = rel - key
            if skip >= len(data):
                self.retransmitted += len(data)
                continue
            if skip:
                self.retransmitted += skip
                data = data[skip:]
            self._deliver(data, 0, out)
        if not pending:
            self._pending = None
            self._heap = []
            self._buffered = 0

    def _force_gap(self, frame: int, reason: str, out: list[Chunk]) -> None:
        """Give up on the oldest hole: skip to the first held segment."""
        assert self._pending is not None and self.next_seq is not None
        rel = (self.next_seq - self._base) & MASK
        key = self._heap[0]
        if key > rel:
            self._gap(self.next_seq, key - rel, frame, reason, out)
        self._drain(out)
