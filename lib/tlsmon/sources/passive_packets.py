"""The capture engine's packet loop: reader records in, observations out, the usual packet inline.

Most packets of a capture are TCP over IPv4 without options (on Ethernet, Linux cooked
capture or raw IP) of a connection the engine follows, arriving in order, and carrying
either no payload (an ACK) or payload inside an application-data record the engine skips
by length. For those the loop reads the IPv4 and TCP headers from the reader's buffer with
one struct call, finds the flow by its raw addresses and ports (``Segment.flow``), and does
what ``CaptureEngine.feed`` would do with them: nothing is built, nothing is copied. Other
TCP over IPv4 packets become a ``Segment`` here, without a ``Frame`` in between; anything
else (IPv6, VLAN tags, IP options, fragments, cut frames, other link types) goes the general
way: ``Frame``, ``Decoder.decode``, ``feed``. The answers are the same either way (tests run
both on the same captures).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Callable, Generator, Iterator, Optional

from .capture.frames import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_RAW,
    Frame,
    Segment,
)
from .passive_records import _Half
from .reassembly import MASK

if TYPE_CHECKING:
    from ..observations import ConnectionObservation
    from .capture.ip import Decoder
    from .capture.pcap import Record
    from .passive import CaptureEngine

__all__ = ["feed_records"]

# IPv4 (total length, flags and fragment offset, protocol, addresses), then TCP (ports,
# sequence and acknowledgement numbers, data offset, flags); the addresses and ports are
# read as one 12-byte string: the flow key.
_HEADERS = struct.Struct("!2xH2xHxB2x12sIIBB").unpack_from
# Link types whose IPv4 packets sit at a fixed offset after bytes that say so: (where those
# bytes lie, the bytes (the EtherType 0x0800 and the first byte of a 20-byte IPv4 header),
# where IPv4 starts).
_LAYOUTS = {
    LINKTYPE_ETHERNET: (12, b"\x08\x00\x45", 14),
    LINKTYPE_LINUX_SLL: (14, b"\x08\x00\x45", 16),
    LINKTYPE_RAW: (0, b"\x45", 0),
    LINKTYPE_IPV4: (0, b"\x45", 0),
}
_new = tuple.__new__
_TICK = 1024  # frames between calls of ``tick``


def feed_records(engine: CaptureEngine, decoder: Decoder, records: Iterator[Record],
                 tick: Optional[Callable[[int], None]] = None) -> Generator[ConnectionObservation, None, int]:
    """Feed a reader's records to ``engine``; yields the observations of connections as they end
    (not those still live at the end: the caller calls ``engine.finish()``).

    Args:
        engine: the capture engine.
        decoder: decodes what the loop does not read itself (and counts what is not TCP).
        records: ``FrameReader.records()`` of a reader (or several, numbered as one).
        tick: called with the frame number every ``_TICK`` frames; it may raise to stop the
            reading (a deadline).

    Returns (as the generator's value): the number of TCP segments fed.
    """
    flows = engine._flows
    feed = engine.feed
    ready = engine.ready
    decode = decoder.decode
    segments = 0
    link = -1
    tag: Optional[bytes] = None
    tag_at = tag_len = ip_at = 0
    next_tick = _TICK if tick is not None else 1 << 62
    for number, ts, link_type, buf, start, end, original, interface in records:
        if number >= next_tick:
            next_tick = number + _TICK
            tick(number)  # type: ignore[misc]
        if link_type != link:
            link = link_type
            layout = _LAYOUTS.get(link_type)
            tag = None
            if layout is not None:
                tag_at, tag, ip_at = layout
                tag_len = len(tag)
        seg = None
        if tag is not None:
            ip = start + ip_at
            if buf[start + tag_at : start + tag_at + tag_len] == tag and ip + 40 <= end:
                total, fragment, protocol, flow, seq, ack, offset, flags = _HEADERS(buf, ip)
                packet_end = ip + total
                payload_start = ip + 20 + (offset >> 4) * 4
                if protocol == 6 and not fragment & 0x3FFF and offset >= 0x50 and payload_start <= packet_end <= end:
                    segments += 1
                    h = flows.get(flow)
                    if h.__class__ is _Half and not flags & 7 and number < engine._next_check:
                        conn = h.conn
                        if not conn.holes:
                            n = packet_end - payload_start
                            if not n:  # an ACK
                                conn.last_frame = number
                                conn.last_ts = ts
                                continue
                            if seq == h.next_seq and h.clean and h.left >= n and not h.passing:
                                # inside a record that is skipped: as feed() does, without the segment
                                conn.last_frame = number
                                conn.last_ts = ts
                                h.next_seq = (seq + n) & MASK
                                h.left -= n
                                continue
                    names = decoder.names(flow[:8])
                    seg = _new(Segment, (number, ts, names[0], flow[8] << 8 | flow[9], names[1],
                                         flow[10] << 8 | flow[11], seq, ack, flags,
                                         buf[payload_start:packet_end], False, flow))
        if seg is None:
            seg = decode(_new(Frame, (number, ts, link_type, buf[start:end], original, interface)))
            if seg is None:
                continue
            segments += 1
        feed(seg)
        flows = engine._flows  # pruning replaces the dict
        if ready:
            yield from engine.take()
    return segments
