"""Capture engine: TCP segments in, one ``ConnectionObservation`` per TLS connection out.

Per packet it does as little as it can. A flow is found in a dict keyed by its 4-tuple;
in-order payload goes straight to the connection's TLS record walker (passive_records.py);
a flow whose first bytes are not TLS is marked ignored and its later segments stop at the
dict lookup. The walker frames records by their 5-byte headers and hands the handshake
records to the shared codec (``PassiveObserver``), tagging the events with the frame and
time of the segment that completed them; the observation is built in passive_facts.py.
Application-data records are skipped by length arithmetic, never copied or kept (with a
key log they go to the observer too, which needs their sequence numbers to decrypt what
follows). After a gap the walker resumes at the next record boundary when it finds one,
and the connection is marked incomplete.

Memory is bounded: reassembly buffers are capped per direction, finished connections
(FIN from both sides, RST) are turned into observations and dropped at once, idle ones
after ``idle_timeout_s`` of capture time, and the live set is capped (oldest first).
Observations are yielded as connections end, so nothing grows with the capture.

No I/O here except in ``read_connections``, which reads a capture file.
"""

from __future__ import annotations

import socket
from collections import deque
from typing import TYPE_CHECKING, Any, Deque, Iterator, Optional, Union

from ..codec.events import CLIENT, SERVER
from ..codec.observer import KEYLOG_LABELS
from ..observations import CertificateFacts, ConnectionObservation
from .capture.frames import ACK, FIN, RST, SYN, Segment
from .passive_records import _DEAD, RecordWalker, _Conn, _Half
from .reassembly import DEFAULT_MAX_BUFFER, MASK

if TYPE_CHECKING:
    from .capture.formats import Source

__all__ = ["CaptureEngine", "ServerFilter", "ReadStats", "read_connections", "parse_keylog", "flow_key"]

_CHECK_EVERY = 4096  # frames between checks for idle connections
_MAX_CLOSED = 8192  # ended flows remembered (to drop their late segments) before they are forgotten


class ServerFilter:
    """``--server HOST[:PORT]``: keep connections to this server only.

    Args:
        host: an IP address (matched against the server's address) or a name (matched
            against the SNI); None for any.
        port: the server's TCP port; None for any.
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None) -> None:
        import ipaddress

        self.port = port
        self.address: Optional[str] = None
        self.name: Optional[str] = None
        if host:
            try:
                self.address = str(ipaddress.ip_address(host.strip("[]")))
            except ValueError:
                self.name = host.lower().rstrip(".")

    def may_match(self, src: str, sport: int, dst: str, dport: int) -> bool:
        """Whether a flow between these endpoints could be to this server (either way round)."""
        if self.port is not None and sport != self.port and dport != self.port:
            return False
        return self.address is None or src == self.address or dst == self.address

    def matches(self, obs: ConnectionObservation) -> bool:
        if self.port is not None and obs.server.port != self.port:
            return False
        if self.address is not None and obs.server.address != self.address:
            return False
        return self.name is None or (obs.sni or "").lower().rstrip(".") == self.name


def parse_keylog(text: str) -> dict[bytes, list[str]]:
    """An NSS key log (SSLKEYLOGFILE) as ``client_random -> lines``; other lines are ignored."""
    out: dict[bytes, list[str]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[0] not in KEYLOG_LABELS:
            continue
        try:
            random = bytes.fromhex(parts[1])
        except ValueError:
            continue
        out.setdefault(random, []).append(line.strip())
    return out


class _Flow:
    """What a 4-tuple maps to when it is not a live direction (a sentinel)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


FlowKey = Union[bytes, "tuple[Any, ...]"]
_IGNORED = _Flow("ignored")  # not TLS, or filtered out: dropped at the lookup
_CLOSED = _Flow("closed")  # ended: late segments are dropped; a new SYN opens a new connection

def _reverse(key: FlowKey) -> FlowKey:
    """The flow key of the other direction."""
    if isinstance(key, tuple):
        return (key[2], key[3], key[0], key[1])
    a = len(key) // 2 - 2  # address length: 4 (IPv4, 12-byte key) or 16 (IPv6, 36-byte key)
    return key[a : 2 * a] + key[:a] + key[2 * a + 2 :] + key[2 * a : 2 * a + 2]


def flow_key(src: str, sport: int, dst: str, dport: int) -> bytes:
    """The flow key the decoder gives a segment between these endpoints (``Segment.flow``).

    Raises:
        ValueError: an address is not an IP address, or a port is out of range.
    """
    family = socket.AF_INET6 if ":" in src else socket.AF_INET
    try:
        return (socket.inet_pton(family, src) + socket.inet_pton(family, dst)
                + sport.to_bytes(2, "big") + dport.to_bytes(2, "big"))
    except (OSError, OverflowError) as exc:
        raise ValueError(f"not a flow: {src} {sport} {dst} {dport}: {exc}") from None


class CaptureEngine(RecordWalker):
    """TCP segments in file order in; ``ConnectionObservation``s out as connections end.

    Args:
        keylog: an NSS key log (the text of an SSLKEYLOGFILE) to decrypt TLS 1.3 and TLS 1.2
            AEAD connections.
        server: keep only connections to this server.
        max_buffer: out-of-order bytes held per direction before a hole is declared a gap.
        max_connections: live connections kept; beyond, the least recently active end.
        idle_timeout_s: a connection silent this long (capture time) is ended.
        handshake_timeout_s: an unfinished handshake that saw no data this long before its
            end (FIN or the end of the capture) is reported as TIMEOUT.
        max_steps: ladder entries kept per connection.

    Use ``feed(segment)`` for each segment, collect ``take()`` whenever ``ready`` is not
    empty, and ``finish()`` at the end.
    """

    def __init__(self, *, keylog: Optional[str] = None, server: Optional[ServerFilter] = None,
                 max_buffer: int = DEFAULT_MAX_BUFFER, max_connections: int = 10_000,
                 idle_timeout_s: float = 300.0, handshake_timeout_s: float = 10.0, max_steps: int = 200) -> None:
        self._flows: dict[FlowKey, Union[_Half, _Flow]] = {}
        self._live: dict[_Conn, None] = {}
        self._keys = parse_keylog(keylog) if keylog else {}
        self._filter = server
        self._max_buffer = max_buffer
        self._max_connections = max_connections
        self._idle = idle_timeout_s
        self.handshake_timeout_s = handshake_timeout_s
        self._max_steps = max_steps
        self._numbers = 0
        self._closed_flows = 0
        self._next_check = _CHECK_EVERY
        self._last_scan: Optional[float] = None
        self.ready: Deque[ConnectionObservation] = deque()
        self.last_ts = 0.0  # the latest timestamp seen (approximately: updated at the periodic checks)
        self._facts: dict[bytes, CertificateFacts] = {}

    # --- the hot path --------------------------------------------------------------------------------

    def feed(self, seg: Segment) -> None:
        """One TCP segment, in capture order."""
        h: Any = self._flows.get(seg[11] or seg[2:6])
        if h.__class__ is not _Half or seg[8] & 7:  # unknown flow, a sentinel, or SYN/FIN/RST
            self._segment(h, seg)
        else:
            conn = h.conn
            conn.last_frame = seg[0]
            conn.last_ts = seg[1]
            if conn.holes:
                self._acked(h, seg)
            payload = seg[9]
            if payload:
                if seg[6] == h.next_seq and h.clean and not seg[10]:
                    n = len(payload)
                    h.next_seq = (seg[6] + n) & MASK
                    left = h.left
                    if left >= n and not h.passing:
                        h.left = left - n  # inside a skipped record: nothing to copy or keep
                    else:
                        self._consume(h, 0, payload, seg)
                else:
                    self._push(h, seg)
        if seg[0] >= self._next_check:
            self._expire(seg)

    def take(self) -> list[ConnectionObservation]:
        """The observations of the connections that have ended since the last call."""
        out = list(self.ready)
        self.ready.clear()
        return out

    def finish(self) -> list[ConnectionObservation]:
        """End of the capture: every live connection ends; returns what ``take()`` would."""
        for conn in list(self._live):
            self.last_ts = max(self.last_ts, conn.last_ts)
        for conn in list(self._live):
            self._close(conn, end=True)
        return self.take()

    # --- flows -----------------------------------------------------------------------------------

    def _segment(self, h: Any, seg: Segment) -> None:
        """Everything but an in-order segment of a live flow without SYN, FIN or RST."""
        flags = seg[8]
        if h is None:
            h = self._open(seg)
            if h is None:
                return
        elif h.__class__ is not _Half:
            if h is _CLOSED and flags & SYN and not flags & ACK:
                self._forget(seg)
                h = self._open(seg)
                if h is None:
                    return
            else:
                if h is _IGNORED and flags & (FIN | RST):
                    key = seg[11] or seg[2:6]
                    self._flows.pop(key, None)
                    if flags & RST:
                        self._flows.pop(_reverse(key), None)
                return
        if flags & SYN:
            h = self._syn(h, seg)
            if h is None:
                return
        h.conn.last_frame = seg[0]
        h.conn.last_ts = seg[1]
        if h.conn.holes:
            self._acked(h, seg)
        if seg[9]:
            self._push(h, seg)
        if flags & (FIN | RST) and not h.conn.closed:
            self._fin_rst(h, seg, flags)

    def _push(self, h: _Half, seg: Segment) -> None:
        """Payload through the reassembler (out of order, retransmitted, first of a flow...)."""
        for gap, data in h.push(seg[6], seg[9], seg[0], seg[10]):
            self._consume(h, gap, data, seg)
        conn = h.conn
        if conn is not None:
            conn.holes = not (conn.a.clean and conn.b.clean)
            if h.fin_seq is not None:
                self._maybe_closed(conn)

    def _acked(self, h: _Half, seg: Segment) -> None:
        """``h``'s segment acknowledges the other direction: a hole there before the ACK is a gap."""
        conn = h.conn
        other = conn.b if h is conn.a else conn.a
        if seg[8] & ACK and not other.clean and other.state != _DEAD:
            for gap, data in other.acked(seg[7], seg[0]):
                self._consume(other, gap, data, seg)
            if other.conn is not None:
                conn.holes = not (conn.a.clean and conn.b.clean)
                if other.fin_seq is not None:
                    self._maybe_closed(conn)

    def _open(self, seg: Segment) -> Optional[_Half]:
        flags = seg[8]
        if not seg[9] and not flags & SYN or flags & RST:
            return None  # a pure ACK/FIN/RST of a flow we do not know: nothing to learn
        key = seg[11] or seg[2:6]
        rkey = _reverse(key)
        if self._filter is not None and not self._filter.may_match(seg[2], seg[3], seg[4], seg[5]):
            self._flows[key] = self._flows[rkey] = _IGNORED
            return None
        conn = _Conn(seg)
        conn.rflow = rkey
        a = conn.a = _Half(conn, self._max_buffer)
        b = conn.b = _Half(conn, self._max_buffer)
        if flags & SYN:
            a.direction, b.direction = (SERVER, CLIENT) if flags & ACK else (CLIENT, SERVER)
        self._flows[key] = a
        self._flows[rkey] = b
        self._live[conn] = None
        if len(self._live) > self._max_connections:
            self._evict()
        return a

    def _forget(self, seg: Segment) -> None:
        """Drop the sentinels of an ended connection whose ports a new one reuses."""
        key = seg[11] or seg[2:6]
        for k in (key, _reverse(key)):
            if self._flows.pop(k, None) is _CLOSED:
                self._closed_flows -= 1

    def _syn(self, h: _Half, seg: Segment) -> Optional[_Half]:
        """A SYN on a live flow: the handshake's, a retransmission, or a new connection (port reuse)."""
        isn = seg[6]
        if h.syn_seen and isn != h.isn or not h.syn_seen and h.next_seq is not None and not seg[8] & ACK:
            self._close(h.conn)  # a new connection on the same ports
            self._forget(seg)
            return self._open(seg)
        h.syn(isn)
        if h.direction is None:
            other = h.conn.b if h is h.conn.a else h.conn.a
            h.direction, other.direction = (SERVER, CLIENT) if seg[8] & ACK else (CLIENT, SERVER)
        return h

    def _fin_rst(self, h: _Half, seg: Segment, flags: int) -> None:
        conn = h.conn
        if flags & RST:
            conn.rst = h.direction or "?"
            self._close(conn)
            return
        h.fin((seg[6] + len(seg[9])) & MASK)
        if h.fin_ts is None:
            h.fin_ts = seg[1]
        self._maybe_closed(conn)

    def _maybe_closed(self, conn: _Conn) -> None:
        if not conn.closed and conn.a.finished and conn.b.finished:
            self._close(conn)

    def _ignore(self, conn: _Conn) -> None:
        """Not TLS: drop the connection; its later segments stop at the lookup."""
        conn.closed = True
        self._live.pop(conn, None)
        self._flows[conn.flow] = self._flows[conn.rflow] = _IGNORED
        conn.a.kill()
        conn.b.kill()

    def _expire(self, seg: Segment) -> None:
        """Every few thousand frames: end idle connections, prune sentinels."""
        self._next_check = seg[0] + _CHECK_EVERY
        now = seg[1]
        self.last_ts = max(self.last_ts, now)
        if self._last_scan is None:
            self._last_scan = now
        elif now - self._last_scan >= self._idle / 4:
            self._last_scan = now
            limit = now - self._idle
            for conn in [c for c in self._live if c.last_ts < limit]:
                self._close(conn, end=True)
        if self._closed_flows > _MAX_CLOSED:
            self._flows = {k: v for k, v in self._flows.items() if v is not _CLOSED}
            self._closed_flows = 0

    def _evict(self) -> None:
        """Too many live connections: end the least recently active tenth."""
        conns = sorted(self._live, key=lambda c: c.last_ts)
        for conn in conns[: max(1, len(conns) // 10)]:
            self._close(conn, end=True)

    def _close(self, conn: _Conn, end: bool = False) -> None:
        if conn.closed:
            return
        for h in (conn.a, conn.b):
            if not h.clean and h.state != _DEAD:  # (clean: nothing held, nothing to flush)
                for gap, data in h.flush(conn.last_frame):
                    self._consume(h, gap, data, None)
        conn.closed = True
        self._live.pop(conn, None)
        for k in (conn.flow, conn.rflow):
            if self._flows.get(k) is not _IGNORED:
                self._flows[k] = _CLOSED
                self._closed_flows += 1
        if conn.tls and conn.number:
            obs = (_observation or _load_observation())(conn, self, end)
            if self._filter is None or self._filter.matches(obs):
                self.ready.append(obs)
        # Break the connection <-> direction cycle: the CLI runs without the cyclic collector.
        conn.a.conn = conn.b.conn = None  # type: ignore[assignment]
        conn.observer = None


_observation: Any = None  # passive_facts.observation, imported on first use


def _load_observation() -> Any:
    global _observation
    from .passive_facts import observation

    _observation = observation
    return observation


class ReadStats:
    """What reading a capture came to, filled in by ``read_connections`` as it goes.

    Attributes:
        format: the capture format (``pcap``, ``pcapng``, ``netmon2``...).
        frames: frames read; segments: TCP segments among them.
        truncated_tail: the file ends inside a record (the rest was read).
        not_tcp, malformed: frames the decoder skipped.
    """

    def __init__(self) -> None:
        self.format = ""
        self.frames = 0
        self.segments = 0
        self.truncated_tail = False
        self.not_tcp = 0
        self.malformed = 0


def read_connections(source: Source, *, keylog: Optional[str] = None, server: Optional[ServerFilter] = None,
                     stats: Optional[ReadStats] = None, **options: Any) -> Iterator[ConnectionObservation]:
    """The TLS connections of a capture file, as they end.

    Args:
        source: a path or a binary file (pcap, pcapng, Network Monitor; gzip too).
        keylog: the text of an SSLKEYLOGFILE.
        server: keep only connections to this server.
        stats: filled in with what was read (also when an error ends the reading).
        options: passed to ``CaptureEngine``.

    Raises:
        CaptureError: the file cannot be read; connections read before the error have
            been yielded already. A record cut short at the end of the file is not an error
            (tcpdump killed mid-write): its segment is marked truncated.
    """
    from .capture.formats import CaptureReader
    from .capture.ip import Decoder
    from .passive_packets import feed_records

    engine = CaptureEngine(keylog=keylog, server=server, **options)
    decoder = Decoder()
    segments = 0
    try:
        with CaptureReader(source, allow_truncated_tail=True) as reader:
            if stats is not None:
                stats.format = reader.format
            segments = yield from feed_records(engine, decoder, reader.records())
            if stats is not None:
                stats.truncated_tail = reader.truncated_tail
                stats.frames = reader.frames_read
        yield from engine.finish()
    finally:
        if stats is not None:
            stats.segments = segments
            stats.not_tcp, stats.malformed = decoder.non_tcp, decoder.malformed
