"""The TLS side of the capture engine: record walking per direction, codec events as ladder entries.

``CaptureEngine`` (passive.py) owns the flows and their lifecycle; this mixin follows the
bytes of each direction once reassembled: it finds out whether a flow is TLS, frames the
records by their 5-byte headers, hands the handshake records to the shared codec
(``PassiveObserver``), names the others from their headers (application data skipped by
length, encrypted handshake records after a ChangeCipherSpec counted as a renegotiation),
resynchronises after a gap, and keeps what the observation will need. No I/O here.
"""

from __future__ import annotations

import re
import struct
from typing import Any, Optional, Sequence, Union

from ..codec import constants
from ..codec import extensions as ext
from ..codec.constants import describe, version_name
from ..codec.events import (
    CLIENT,
    SERVER,
    AlertEvent,
    ApplicationDataEvent,
    ChangeCipherSpecEvent,
    ConnectionClosed,
    EncryptedRecordEvent,
    MessageEvent,
)
from ..codec.messages import (
    Certificate,
    CertificateRequest,
    CertificateStatus,
    CertificateVerify,
    ClientHello,
    ClientKeyExchange,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HelloRequest,
    KeyUpdate,
    NewSessionTicket,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
    Sslv2ClientHello,
    UnknownHandshake,
    message_name,
)
from ..codec.observer import PassiveObserver
from ..errors import CodecError, DecodeError
from ..observations import CaptureAlert, CaptureGap, CertificateFacts
from .capture.frames import Segment
from .reassembly import StreamReassembler

__all__ = ["RecordWalker"]

TLS13 = 0x0304
MAX_RECORD = 2**14 + 2048  # RFC 5246 §6.2.3: TLSCiphertext.length
_SNIFF, _RECORDS, _RESYNC, _DEAD = 0, 1, 2, 3
_NEVER = 1 << 62  # "bytes left" of a dead direction: the fast path drops everything

# The ladder is built as it comes, grouped into steps ready for the observation: a new step
# where the direction or the kind changes. A step is
#   [direction, kind, frame, ts, entries, records, last_frame]
# frame, ts: of its first entry; last_frame: of its last entry or record; kind _APP: a run of
# application-data records (``records`` of them), whose one entry stands for them all; 0: the rest.
_APP = 1
Entry = tuple[str, str, bool, Optional[int]]  # name, detail, decrypted, handshake type
# Where bytes came from: a Segment, or just its frame number and timestamp (the only fields read here).
At = Sequence[Any]
_APP_DATA: Entry = ("Application Data", "", False, None)
_HANDSHAKE: Entry = ("Handshake", "", False, None)
_ENCRYPTED_HANDSHAKE: Entry = ("Encrypted Handshake Message", "", False, None)
_CCS: Entry = ("ChangeCipherSpec", "", False, None)
_ENCRYPTED_CCS: Entry = ("Encrypted ChangeCipherSpec", "", False, None)
_ENCRYPTED_ALERT: Entry = ("Encrypted Alert", "", False, None)
_unpack_header = struct.Struct(">BBBH").unpack_from  # content type, major, minor, length
# A plausible record header: content type 20-24, major version 3, minor 0-4.
_HEADER = re.compile(rb"[\x14-\x18]\x03[\x00-\x04]")
_SNIFF_BUDGET = 32 * 1024  # bytes searched for a record boundary before a flow is declared not TLS


class _Half(StreamReassembler):
    """One direction: its reassembly plus where its TLS record walker stands."""

    __slots__ = ("conn", "direction", "state", "left", "passing", "hdr", "ccs", "sealed", "done", "app",
                 "protected", "budget", "fin_ts", "obs_ok", "lost", "held", "held_header")

    def __init__(self, conn: _Conn, max_buffer: int) -> None:
        super().__init__(max_buffer)
        self.conn: _Conn = conn
        self.direction: Optional[str] = None  # CLIENT (client to server) or SERVER
        self.state = _SNIFF
        self.left = 0  # bytes left in the current record (or in an SSLv2 hello)
        self.passing = False  # the current record goes to the observer
        self.hdr = b""  # a record header split across segments
        self.ccs = False  # sent ChangeCipherSpec
        self.sealed = False  # TLS <= 1.2 without keys, after its ChangeCipherSpec: records named by header
        self.done = False  # sent its Finished (read, or inferred from protected records)
        self.app = False  # sent application data
        self.protected = 0  # TLS 1.3 without keys: protected records seen
        self.budget = _SNIFF_BUDGET
        self.fin_ts: Optional[float] = None
        self.obs_ok = True  # the observer can still read this direction (no gap inside a record)
        self.lost = False  # bytes were lost before this direction was in step with its records
        # The body so far of a plaintext handshake record that runs past its segment, held to
        # go to the observer whole once complete (as the records complete in a segment do).
        self.held: Optional[bytearray] = None
        self.held_header = b""

    def kill(self) -> None:
        self.state, self.left, self.passing, self.hdr, self.held = _DEAD, _NEVER, False, b"", None


class _Conn:
    """A connection under way: both directions, the observer, and what has been learnt."""

    __slots__ = ("key", "flow", "rflow", "a", "b", "number", "tls", "observer", "keyed", "steps", "entry_count",
                 "app_run", "alerts", "gaps", "first_frame", "first_ts", "last_frame", "last_ts", "last_data_ts",
                 "server_chain", "client_chain", "shd", "abbreviated", "reneg", "server_app", "rst", "not_tls", "error",
                 "mid_stream", "closed", "steps_truncated", "last_name", "alpn", "hello", "record_version", "holes")

    def __init__(self, seg: Segment) -> None:
        self.key: tuple[Any, ...] = seg[2:6]  # (src, sport, dst, dport) as text, of the first segment seen
        self.flow: Any = seg[11] or self.key  # what the engine files the flow under (Segment.flow)
        self.rflow: Any = None  # and the other direction (set by the engine)
        self.number = 0
        self.tls = False
        self.observer: Optional[PassiveObserver] = None
        self.keyed = False
        self.steps: list[list[Any]] = []  # the ladder so far (see _APP)
        self.entry_count = 0
        self.app_run: Optional[str] = None  # the last step is application data in this direction
        self.alerts: list[CaptureAlert] = []
        self.gaps: list[CaptureGap] = []
        # frame numbers and times only: a segment would pin its frame's buffer (its payload is a view)
        self.first_frame = self.last_frame = seg[0]
        self.first_ts = self.last_ts = seg[1]
        self.last_data_ts = seg[1]
        self.server_chain: Optional[tuple[bytes, ...]] = None
        self.client_chain: Optional[tuple[bytes, ...]] = None
        self.shd = False  # ServerHelloDone seen
        self.abbreviated = False  # server ChangeCipherSpec without a ServerHelloDone: resumption
        self.reneg = False
        self.server_app = False
        self.rst: Optional[str] = None  # direction of the RST
        self.not_tls = False  # the server answered a ClientHello with something else
        self.error: Optional[str] = None
        self.mid_stream = False
        self.closed = False
        self.steps_truncated = False
        self.last_name: Optional[str] = None
        self.alpn: Optional[str] = None
        self.hello: Optional[dict[str, Any]] = None  # what the ClientHello offered (shared: read only)
        self.record_version = 0  # the record-layer version of the server's records, once seen
        self.holes = False  # a direction holds segments after a hole: watch the other side's ACKs

    a: _Half
    b: _Half

    @property
    def client(self) -> _Half:
        return self.a if self.a.direction == CLIENT else self.b

    @property
    def server(self) -> _Half:
        return self.b if self.a.direction == CLIENT else self.a

    @property
    def tls13(self) -> bool:
        """TLS 1.3 negotiated (or announced by a HelloRetryRequest)."""
        o = self.observer
        return o is not None and o.is_tls13()


def _client_hello_prefix(data: Union[bytes, memoryview]) -> bool:
    """The stream starts like a ClientHello record, or an SSLv2-compatible CLIENT-HELLO."""
    n = len(data)
    b0 = data[0]
    if b0 == 22:
        return (n < 2 or data[1] == 3) and (n < 3 or data[2] <= 4) and (n < 6 or data[5] == 1)
    if b0 & 0x80:  # RFC 5246 Appendix E.2: 2-byte header, msg_type 1, version 3.x
        return n >= 2 and (n < 3 or data[2] == 1) and (n < 4 or data[3] == 3)
    return False


def _find_records(data: Union[bytes, memoryview], strict: bool, version: int = 0) -> int:
    """Offset of the first plausible record boundary in ``data``, or -1.

    A header counts when the record it announces ends exactly at the end of ``data``, or
    is followed by another plausible header; ``strict=False`` also takes a header whose
    record runs past the end (a big record cut by the segment). With ``version`` (the
    record version the connection uses) a header must carry it.
    """
    n = len(data)
    for m in _HEADER.finditer(data):
        i = m.start()
        if i + 5 > n:
            break
        if version and (data[i + 1] << 8 | data[i + 2]) != version:
            continue
        end = i + 5 + (data[i + 3] << 8 | data[i + 4])
        if end - i - 5 > MAX_RECORD:
            continue
        if end == n:
            return i
        if end + 3 <= n:
            if 20 <= data[end] <= 24 and data[end + 1] == 3 and data[end + 2] <= 4 \
                    and (not version or (data[end + 1] << 8 | data[end + 2]) == version):
                return i
        elif end > n and not strict:
            return i
    return -1

class RecordWalker:
    """The record-level half of ``CaptureEngine`` (a mixin: the engine supplies the state below)."""

    _numbers: int
    _filter: Any
    _keys: dict[bytes, list[str]]
    _max_steps: int
    _facts: dict[bytes, CertificateFacts]  # see facts()

    def _ignore(self, conn: _Conn) -> None:
        raise NotImplementedError  # the engine drops the flow

    def _consume(self, h: _Half, gap: int, data: Union[bytes, memoryview], seg: Optional[At]) -> None:
        if gap:
            self._gap(h, gap, seg)
            if not data:
                return
        if seg is not None:
            h.conn.last_data_ts = seg[1]
        st = h.state
        if st == _RECORDS:
            self._records(h, data, seg)
        elif st == _SNIFF:
            self._sniff(h, data, seg)
        elif st == _RESYNC:
            self._resync(h, data, seg)

    def _gap(self, h: _Half, gap: int, seg: Optional[At]) -> None:
        conn = h.conn
        frame = seg[0] if seg is not None else conn.last_frame
        reason = h.gaps[-1].reason if h.gaps else "missing"
        if conn.tls and len(conn.gaps) < 64:
            conn.gaps.append(CaptureGap(h.direction or "?", gap, frame, reason))
        if h.state == _SNIFF:
            h.lost = True
        elif h.state == _RECORDS:
            if h.left >= gap and not h.hdr:
                h.left -= gap  # the hole lies inside one record: still in step with the records
                if h.passing:
                    h.obs_ok = h.passing = False
                    h.held = None
                return
            h.obs_ok = h.passing = False
            h.held = None
            h.lost = True
            h.state, h.left, h.hdr = _RESYNC, 0, b""
            h.budget = _SNIFF_BUDGET * 8

    def _accept(self, conn: _Conn, client: Optional[_Half], seg: Optional[At]) -> None:
        """The connection is TLS: number it and give it an observer."""
        conn.tls = True
        self._numbers += 1
        conn.number = self._numbers
        conn.observer = PassiveObserver()
        if client is not None:
            other = conn.b if client is conn.a else conn.a
            client.direction, other.direction = CLIENT, SERVER
        else:
            conn.mid_stream = True
            if conn.a.direction is None:
                # No SYN and no ClientHello: the server is the side with the lower port.
                key = conn.key
                port = self._filter.port if self._filter is not None else None
                a_is_server = key[1] == port if port is not None else key[1] < key[3]
                conn.a.direction, conn.b.direction = (SERVER, CLIENT) if a_is_server else (CLIENT, SERVER)
            conn.gaps.append(CaptureGap(conn.a.direction or "?", 0,
                                        seg[0] if seg is not None else conn.first_frame, "start"))

    def _sniff(self, h: _Half, data: Union[bytes, memoryview], seg: Optional[At]) -> None:
        conn = h.conn
        if not conn.tls:
            if _client_hello_prefix(data):
                self._accept(conn, h, seg)
                h.state = _RECORDS
                if data[0] & 0x80:  # SSLv2 framing for the first record only
                    if len(data) < 2:
                        h.kill()
                        return
                    h.left, h.passing = 2 + ((data[0] & 0x7F) << 8 | data[1]), True
                self._records(h, data, seg)
                return
            if h.syn_seen and not h.lost:
                if h.direction == SERVER and data[0] in (21, 22) and (len(data) < 2 or data[1] == 3):
                    # A TLS record from the server before the ClientHello was in (the client's
                    # segments came later, or never): wait for the client; these bytes are lost.
                    h.lost = True
                    return
                self._ignore(conn)  # the stream's first bytes are not a ClientHello
                return
        elif not conn.mid_stream and not h.lost:
            # The server's first bytes after a ClientHello: a record, or not TLS at all.
            if data[0] in (21, 22) and (len(data) < 2 or data[1] == 3):
                h.state = _RECORDS
                self._records(h, data, seg)
            else:
                conn.not_tls = True
                h.kill()
            return
        # The capture began inside the stream: look for a record boundary.
        pos = _find_records(data, strict=True)
        if pos < 0:
            h.budget -= len(data)
            if h.budget <= 0:
                if conn.tls:
                    h.kill()
                else:
                    self._ignore(conn)
            return
        if not conn.tls:
            self._accept(conn, None, seg)
        h.obs_ok = not h.lost  # the observer can read from a record boundary of a fresh stream
        h.state = _RECORDS
        self._records(h, data[pos:], seg)

    def _resync(self, h: _Half, data: Union[bytes, memoryview], seg: Optional[At]) -> None:
        if h.hdr:
            data = h.hdr + bytes(data)
            h.hdr = b""
        pos = _find_records(data, strict=False, version=h.conn.record_version)
        if pos < 0:
            h.budget -= len(data)
            if h.budget <= 0:
                h.kill()
            else:
                h.hdr = bytes(data[-4:])
            return
        h.state = _RECORDS
        self._records(h, data[pos:], seg)

    def _records(self, h: _Half, data: Union[bytes, memoryview], seg: Optional[At]) -> None:
        """Walk the records in ``data``: observed ones go to the observer, others are named by header."""
        conn = h.conn
        n = len(data)
        pos = 0
        pieces: list[Union[bytes, bytearray, memoryview]] = []
        merge_at = -1  # pieces[merge_at]: the header of plaintext handshake records joined into one
        merge_len = 0
        while pos < n:
            left = h.left
            if left:
                take = left if left <= n - pos else n - pos
                if h.passing:
                    held = h.held
                    if held is None:
                        pieces.append(data[pos : pos + take])
                    else:
                        held += data[pos : pos + take]
                        if take == left:  # the held record is complete
                            h.held = None
                            h.left = 0
                            pos += take
                            self._observe(h, [h.held_header, held], seg, True)
                            continue
                pos += take
                h.left = left - take
                continue
            hstart = pos
            # header: the record's 5-byte header when split across segments; else None, and it
            # is data[pos - 5 : pos] (sliced only when it goes to the observer)
            header: Union[bytes, memoryview, None] = None
            if h.hdr:
                need = 5 - len(h.hdr)
                header = h.hdr + bytes(data[pos : pos + need])
                if len(header) < 5:
                    h.hdr = bytes(header)
                    break
                pos += need
                h.hdr = b""
                ctype, major, minor = header[0], header[1], header[2]
                length = header[3] << 8 | header[4]
            elif n - pos < 5:
                h.hdr = bytes(data[pos:])
                break
            else:
                ctype, major, minor, length = _unpack_header(data, pos)
                pos += 5
            if not 20 <= ctype <= 24 or major != 3 or length > MAX_RECORD:
                if pieces:
                    self._observe(h, pieces, seg, merge_at == 0)
                    pieces = []
                    merge_at = -1
                self._lost(h, seg)
                rest = data[hstart + 1 :]
                if rest:
                    self._resync(h, rest, seg)
                return
            h.left = length
            if not conn.record_version and h.direction == SERVER:
                conn.record_version = major << 8 | minor
            named = True  # the record is named from its header (else counted in a run, or observed)
            if ctype == 23 and not conn.keyed:
                if conn.app_run == h.direction:  # another application-data record in a run: count it
                    last = conn.steps[-1]
                    last[5] += 1
                    if seg is not None:
                        last[6] = seg[0]
                    h.passing = named = False
            elif h.obs_ok and not h.sealed and (ctype != 20 or conn.keyed):
                if conn.mid_stream and not h.ccs and ctype == 22 and data[pos : pos + 5] == b"\0\0\0\0\0":
                    # Mid-connection, a handshake record starting with zeros (a GCM explicit
                    # nonce) is encrypted: the ChangeCipherSpec came before the capture.
                    h.ccs = h.sealed = True
                else:
                    h.passing = True
                    named = False
                    if ctype == 22 and not conn.keyed and not h.ccs and length <= n - pos:
                        # Consecutive plaintext handshake records complete in this segment reach
                        # the observer as one record (handshake messages may be split or joined
                        # across records, RFC 5246 §6.2.1): one pass of its record layer, not several.
                        if merge_at >= 0 and merge_len + length <= 16384:
                            merge_len += length
                            joined = pieces[merge_at]
                            assert isinstance(joined, bytearray)
                            joined[3], joined[4] = merge_len >> 8, merge_len & 0xFF
                        else:
                            merge_at, merge_len = len(pieces), length
                            pieces.append(bytearray(header if header is not None else data[pos - 5 : pos]))
                    elif ctype == 22 and not conn.keyed and not h.ccs:
                        # One that runs past this segment is held here until it is complete,
                        # then goes to the observer whole, after what came before it.
                        if pieces:
                            self._observe(h, pieces, seg, merge_at == 0)
                            pieces = []
                        merge_at = -1
                        observer = conn.observer
                        assert observer is not None
                        if not h.obs_ok:  # the observer failed on what came before
                            h.passing = False
                        elif observer.may_hold(h.direction or SERVER, bytes(data[pos : pos + 4])):
                            h.held = bytearray(data[pos:])
                            h.held_header = bytes(header if header is not None else data[pos - 5 : pos])
                            h.left = length - (n - pos)
                            break
                        else:
                            pieces.append(header if header is not None else data[pos - 5 : pos])
                    else:
                        merge_at = -1
                        pieces.append(header if header is not None else data[pos - 5 : pos])
            if named:
                if pieces:
                    self._observe(h, pieces, seg, merge_at == 0)
                    pieces = []
                    if ctype == 23 and conn.keyed and h.obs_ok:  # keys found by the hello just read
                        h.passing = True
                        pieces.append(header if header is not None else data[pos - 5 : pos])
                        named = False
                merge_at = -1
                if named:
                    h.passing = False
                    self._named(h, ctype, length, seg)
            if length and length <= n - pos:  # the record's body is here: take it now, not on the next turn
                if h.passing:
                    pieces.append(data[pos : pos + length])
                pos += length
                h.left = 0
        if pieces:
            self._observe(h, pieces, seg, merge_at == 0)

    def _lost(self, h: _Half, seg: Optional[At]) -> None:
        """Bytes where a record header should be are not one."""
        conn = h.conn
        if h.obs_ok and not h.lost:
            frame = seg[0] if seg is not None else conn.last_frame
            conn.error = conn.error or f"{h.direction}: bytes that are not a TLS record at frame {frame}"
        h.obs_ok = h.passing = False
        h.lost = True
        h.state, h.left, h.hdr, h.held = _RESYNC, 0, b"", None
        h.budget = _SNIFF_BUDGET * 8

    def _observe(self, h: _Half, pieces: list[Union[bytes, bytearray, memoryview]], seg: Optional[At],
                 one: bool = False) -> None:
        """Hand ``pieces`` to the observer; ``one``: they are one whole plaintext handshake record
        (its header, then its body), which goes in without the observer's record layer when it can."""
        conn = h.conn
        observer = conn.observer
        assert observer is not None
        try:
            events = None
            if one:
                events = observer.handshake_take(h.direction or SERVER,
                                                 bytes(pieces[1]) if len(pieces) == 2 else b"".join(pieces[1:]))
            if events is None:
                events = observer.feed_take(h.direction or SERVER,
                                            bytes(pieces[0]) if len(pieces) == 1 else b"".join(pieces))
        except CodecError as exc:
            frame = seg[0] if seg is not None else conn.last_frame
            conn.error = conn.error or f"{h.direction} at frame {frame}: {exc}"
            h.obs_ok = h.passing = False
            events = observer.take()
        if events:
            self._events(conn, events, seg)

    def _entry(self, conn: _Conn, seg: Optional[At], direction: str, entry: Entry) -> None:
        """A ladder entry (not application data): it extends the last step, or starts one."""
        if conn.entry_count >= self._max_steps:
            conn.steps_truncated = True
            conn.app_run = None
            return
        conn.entry_count += 1
        conn.app_run = None
        conn.last_name = entry[0]
        frame = seg[0] if seg is not None else conn.last_frame
        steps = conn.steps
        if steps:
            last = steps[-1]
            if not last[1] and last[0] == direction:
                last[4].append(entry)
                last[6] = frame
                return
        steps.append([direction, 0, frame, seg[1] if seg is not None else conn.last_ts, [entry], 1, frame])

    def _app_data(self, conn: _Conn, seg: Optional[At], direction: str) -> None:
        """An application-data record: it extends the run of its direction, or starts one (a step)."""
        frame = seg[0] if seg is not None else conn.last_frame
        if conn.app_run == direction:
            last = conn.steps[-1]
            last[5] += 1
            last[6] = frame
            return
        if conn.entry_count >= self._max_steps:
            conn.steps_truncated = True
            conn.app_run = None
            return
        conn.entry_count += 1
        conn.app_run = direction
        conn.steps.append([direction, _APP, frame, seg[1] if seg is not None else conn.last_ts, [_APP_DATA], 1, frame])

    def _named(self, h: _Half, ctype: int, length: int, seg: Optional[At]) -> None:
        """A record the observer does not read: name it from its header, as a capture reader would."""
        conn = h.conn
        d = h.direction or "?"
        o = conn.observer
        tls13 = conn.tls13
        if ctype == 23:
            if not conn.mid_stream and tls13:
                # Without keys: the server's records up to the client's first protected one
                # are its encrypted handshake; the client's first is its Finished flight.
                other = conn.client if d == SERVER else conn.server
                if d == SERVER and not other.protected or d == CLIENT and not h.protected:
                    h.protected += 1
                    if d == CLIENT:
                        h.done = other.done = True
                    self._entry(conn, seg, d, _ENCRYPTED_HANDSHAKE)
                    return
                h.protected += 1
            elif conn.mid_stream:
                h.ccs = h.sealed = True  # application data: the handshake happened before the capture
            h.app = True
            if d == SERVER:
                conn.server_app = True
            self._app_data(conn, seg, d)
            return
        if ctype == 20:
            if d == SERVER and not conn.shd and o is not None and o.server_hello is not None \
                    and not tls13 and not h.ccs and h.obs_ok and not h.lost:
                conn.abbreviated = True
            entry = _CCS if length == 1 else _ENCRYPTED_CCS
            h.ccs = True
            if not tls13:
                h.sealed = True  # from here on this side's records are encrypted (RFC 5246 §7.1)
        elif ctype == 22:
            if h.done or h.app or conn.mid_stream and (conn.a.app or conn.b.app):
                conn.reneg = True  # handshake records after Finished: a renegotiation
            elif h.ccs:
                h.done = True  # the first protected handshake message of a side is its Finished
            entry = _ENCRYPTED_HANDSHAKE if h.ccs or conn.mid_stream else _HANDSHAKE
        elif ctype == 21:
            self._alert(conn, seg, d, None, None)
            entry = _ENCRYPTED_ALERT
        else:
            entry = (f"ContentType({ctype})", "", False, None)
        self._entry(conn, seg, d, entry)

    def _alert(self, conn: _Conn, seg: Optional[At], direction: str, level: Optional[int],
               description: Optional[int]) -> None:
        if len(conn.alerts) >= 16:
            return
        frame, ts = (seg[0], seg[1]) if seg is not None else (conn.last_frame, conn.last_ts)
        phase = "handshake"
        if conn.a.done and conn.b.done:  # the client's and the server's Finished
            phase = "renegotiation" if conn.reneg else "application"
        conn.alerts.append(CaptureAlert(direction, level, description, phase, conn.last_name, frame,
                                        ts - conn.first_ts))

    def _events(self, conn: _Conn, events: list[tuple[Any, ...]], seg: Optional[At]) -> None:
        """The observer's events, as the tuples ``(event class, *fields)`` of ``PassiveObserver.take``."""
        observer = conn.observer
        assert observer is not None
        for ev in events:
            cls = ev[0]
            if cls is MessageEvent:  # (cls, direction, message, encrypted, record, length)
                self._message(conn, observer, ev[1], ev[2], ev[3], seg)
                continue
            if cls is ConnectionClosed:
                continue
            d = ev[1]
            h = conn.client if d == CLIENT else conn.server
            if cls is ChangeCipherSpecEvent:  # (cls, direction, record)
                if d == SERVER and not conn.shd and observer.server_hello is not None \
                        and observer.version != TLS13:
                    conn.abbreviated = True
                h.ccs = True
                self._entry(conn, seg, d, _CCS)
            elif cls is ApplicationDataEvent:  # (cls, direction, length, record)
                h.app = True
                if d == SERVER:
                    conn.server_app = True
                self._app_data(conn, seg, d)
            elif cls is EncryptedRecordEvent:  # (cls, direction, content_type, length, record, name)
                ctype = ev[2]
                if ctype == 21:
                    self._alert(conn, seg, d, None, None)
                elif ctype == 22:
                    if h.done:
                        conn.reneg = True
                    elif h.ccs:
                        h.done = True  # the first protected handshake message of a side is its Finished
                self._entry(conn, seg, d, (ev[5], "", False, None))
            elif cls is AlertEvent:  # (cls, direction, alert, encrypted, record, phase)
                alert = ev[2]
                self._alert(conn, seg, d, alert.level, alert.description)
                self._entry(conn, seg, d, ("Alert", _alert_detail(alert.level, alert.description), ev[3], None))

    def _message(self, conn: _Conn, observer: PassiveObserver, d: str, msg: Any, encrypted: bool,
                 seg: Optional[At]) -> None:
        cls = msg.__class__
        known = _KNOWN.get(cls)
        if known is None:
            known = (message_name(msg), getattr(msg, "msg_type", None))
            if cls is not ServerHello and cls is not UnknownHandshake:
                _KNOWN[cls] = known
        detail = ""
        if cls in _PLAIN:  # no detail, nothing learnt: the usual messages
            if conn.a.done and conn.b.done and observer.version != TLS13:  # (the sender is one of them)
                conn.reneg = True
        else:
            h = conn.client if d == CLIENT else conn.server
            tls13 = observer.version == TLS13
            if cls is ClientHello:
                assert isinstance(msg, ClientHello)
                facts, detail = _hello_facts(msg)
                if conn.hello is None:
                    conn.hello = facts
                keys = self._keys.get(msg.random) if self._keys else None
                if keys:
                    observer.add_keylog("\n".join(keys))
                    conn.keyed = True
                if h.done and not tls13:
                    conn.reneg = True
            elif cls is ServerHello:
                assert isinstance(msg, ServerHello)
                detail = _server_hello_detail(msg)
                conn.alpn = conn.alpn or _alpn(msg)
            elif cls is Certificate:
                assert isinstance(msg, Certificate)
                n = len(msg.entries)
                detail = "empty" if not n else f"{n} cert{'s' if n != 1 else ''}"
                if d == SERVER and conn.server_chain is None:
                    conn.server_chain = msg.certificates
                elif d == CLIENT and conn.client_chain is None:
                    conn.client_chain = msg.certificates
            elif cls is CertificateRequest:
                assert isinstance(msg, CertificateRequest)
                detail = "CAs: " + _ca_text(msg)
            elif cls is ServerHelloDone:
                conn.shd = True
            elif cls is Finished:
                h.done = True
            elif cls is HelloRequest:
                conn.reneg = True
            elif cls is EncryptedExtensions:
                assert isinstance(msg, EncryptedExtensions)
                conn.alpn = conn.alpn or _alpn(msg)
            elif cls is Sslv2ClientHello:
                assert isinstance(msg, Sslv2ClientHello)
                facts, detail = _hello_facts(msg)
                conn.hello = conn.hello or facts
            if h.done and not tls13 and cls is not Finished and cls is not ClientHello \
                    and conn.a.done and conn.b.done:
                conn.reneg = True
        self._entry(conn, seg, d, (known[0], detail, encrypted, known[1]))

    def facts(self, der: bytes) -> CertificateFacts:
        """Certificate facts, cached: a server sends the same chain on every connection.

        Filed under the certificate's last 32 bytes (its signature's), compared in full on a
        hit: hashing a whole certificate, new bytes on every connection, costs more than the rest.
        """
        tail = der[-32:]
        got = self._facts.get(tail)
        if got is None or got.der != der:
            from ..x509facts import certificate_facts

            got = certificate_facts(der)
            if len(self._facts) >= 256:
                self._facts.clear()
            self._facts[tail] = got
        return got


_HELLO_EXTENSIONS = {
    ext.ET_SUPPORTED_VERSIONS: ("offered_versions", ext.parse_supported_versions_client),
    ext.ET_SERVER_NAME: ("sni", ext.parse_server_name),
    ext.ET_ALPN: ("alpn_offered", ext.parse_alpn),
}
_HELLO_TYPES = frozenset((*_HELLO_EXTENSIONS, ext.ET_POST_HANDSHAKE_AUTH))
HelloFacts = tuple[dict[str, Any], str]
# The same client software sends the same offer on every connection: what it offered, by
# what the facts are read from (the random, the session and the key shares differ).
_HELLOS: dict[tuple[Any, ...], HelloFacts] = {}


def _hello_facts(msg: Union[ClientHello, Sslv2ClientHello]) -> HelloFacts:
    """What the ClientHello offered (ConnectionObservation fields; shared, not to be changed), and its detail."""
    if isinstance(msg, Sslv2ClientHello):
        offer = {"offered_versions": (msg.version,),
                 "offered_cipher_suites": tuple(c for c in msg.cipher_specs if c <= 0xFFFF)}
        return offer, f"SSLv2-compatible, {version_name(msg.version)}"
    first: dict[int, bytes] = {}  # the first of a type counts, as ext.find reads it
    for e in msg.extensions or ():
        t = e.type
        if t in _HELLO_TYPES and t not in first:
            first[t] = e.data
    key = (msg.legacy_version, msg.cipher_suites, *first.items())
    got = _HELLOS.get(key)
    if got is None:
        got = _read_offer(msg.legacy_version, msg.cipher_suites, first)
        if len(_HELLOS) >= 256:
            _HELLOS.clear()
        _HELLOS[key] = got
    return got


def _read_offer(legacy_version: int, suites: tuple[int, ...], extensions: dict[int, bytes]) -> HelloFacts:
    """``_hello_facts`` from the hello's fields and the data of its first extension of each type read."""
    out: dict[str, Any] = {"offered_cipher_suites": suites, "offered_versions": (legacy_version,)}
    for t, data in extensions.items():
        known = _HELLO_EXTENSIONS.get(t)
        if known is None:
            out["post_handshake_auth"] = True
            continue
        try:
            out[known[0]] = known[1](data)
        except (DecodeError, IndexError, ValueError):
            pass
    versions = "/".join(version_name(v) for v in out["offered_versions"])
    sni = out.get("sni")
    return out, f"{versions} SNI={sni}" if sni else f"{versions} no SNI"


_SERVER_HELLOS: dict[tuple[int, int, Optional[int]], str] = {}  # (version, suite, group) -> detail


def _server_hello_detail(msg: ServerHello) -> str:
    share = ext.find(msg.extensions, ext.ET_KEY_SHARE)
    try:
        if msg.is_hello_retry_request:
            return f"asks for {describe(constants.NamedGroup, ext.parse_key_share_hrr(share.data))}" if share else ""
        key = (msg.selected_version, msg.cipher_suite,
               None if share is None else ext.parse_key_share_server(share.data).group)
    except DecodeError:
        return ""
    text = _SERVER_HELLOS.get(key)
    if text is None:
        parts = [version_name(key[0]), describe(constants.CipherSuite, key[1])]
        if key[2] is not None:
            parts.append(describe(constants.NamedGroup, key[2]))
        text = " ".join(parts)
        if len(_SERVER_HELLOS) >= 256:
            _SERVER_HELLOS.clear()
        _SERVER_HELLOS[key] = text
    return text


def _alpn(msg: Union[ServerHello, EncryptedExtensions]) -> Optional[str]:
    try:
        return msg.alpn_protocol
    except (DecodeError, IndexError):
        return None


_ALERT_DETAILS: dict[tuple[int, int], str] = {}  # at most 256 x 256


def _alert_detail(level: int, description: int) -> str:
    """``fatal handshake_failure(40)``."""
    key = (level, description)
    text = _ALERT_DETAILS.get(key)
    if text is None:
        from .assemble import alert_name

        word = "fatal" if level == 2 else "warning" if level == 1 else f"level {level}"
        text = _ALERT_DETAILS[key] = f"{word} {alert_name(description)}"
    return text


# message class -> (RFC name, handshake type), for the classes with one name
_KNOWN: dict[type, tuple[str, Optional[int]]] = {}
# The message classes ``_message`` reads nothing from (no detail, no connection state).
_PLAIN = frozenset((ServerKeyExchange, ClientKeyExchange, CertificateVerify, CertificateStatus, NewSessionTicket,
                    UnknownHandshake, EndOfEarlyData, KeyUpdate))


_CA_TEXT: dict[tuple[bytes, ...], str] = {}


def _ca_text(msg: CertificateRequest) -> str:
    names = msg.ca_names
    text = _CA_TEXT.get(names)
    if text is None:
        from .assemble import ca_name_strings

        strings = ca_name_strings(names)
        text = "; ".join(strings) if strings else "none (any CA)"
        if len(_CA_TEXT) >= 256:
            _CA_TEXT.clear()
        _CA_TEXT[names] = text
    return text
