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
from typing import TYPE_CHECKING, Any, Generator, Iterator

from .capture.frames import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_RAW,
    Frame,
    Segment,
)
from .passive import _CLOSED, _IGNORED
from .passive_records import _Half
from .reassembly import MASK

if TYPE_CHECKING:
    from ..observations import ConnectionObservation
    from .capture.ip import Decoder
    from .capture.pcap import Record
    from .passive import CaptureEngine

__all__ = ["feed_records"]

# From the link layer's protocol field (if any) on, with one struct call: the protocol
# (EtherType) with IPv4's version, header length and TOS as one number; the total length;
# the flags and fragment offset with the TTL and protocol as one number; addresses and ports
# as one 12-byte string (the flow key); TCP's sequence and acknowledgement numbers, data
# offset and flags.
_ETHERTYPE_IPV4 = struct.Struct("!IHxxI2x12sIIBB").unpack_from
_NO_ETHERTYPE = struct.Struct("!HHxxI2x12sIIBB").unpack_from  # raw IP: from the version on
# Link types whose IPv4 packets sit at a fixed offset: (the reader above, where it starts,
# the mask and value of its first number for IPv4 without options, where IPv4 starts).
_LAYOUTS = {
    LINKTYPE_ETHERNET: (_ETHERTYPE_IPV4, 12, 0xFFFFFF00, 0x08004500, 14),
    LINKTYPE_LINUX_SLL: (_ETHERTYPE_IPV4, 14, 0xFFFFFF00, 0x08004500, 16),
    LINKTYPE_RAW: (_NO_ETHERTYPE, 0, 0xFF00, 0x4500, 0),
    LINKTYPE_IPV4: (_NO_ETHERTYPE, 0, 0xFF00, 0x4500, 0),
}
# Not a fragment (no more-fragments flag, offset 0) and TCP: the flags, offset and protocol.
_UNFRAGMENTED_TCP = (0x3FFF00FF, 6)
_new = tuple.__new__


def feed_records(engine: CaptureEngine, decoder: Decoder,
                 records: Iterator[Record]) -> Generator[ConnectionObservation, None, int]:
    """Feed a reader's records to ``engine``; yields the observations of connections as they end
    (not those still live at the end: the caller calls ``engine.finish()``).

    Args:
        engine: the capture engine.
        decoder: decodes what the loop does not read itself (and counts what is not TCP).
        records: ``FrameReader.records()`` of a reader (or several, numbered as one).

    Returns (as the generator's value): the number of TCP segments fed.
    """
    flows = engine._flows
    feed = engine.feed
    consume = engine._consume
    closed, ignored = _CLOSED, _IGNORED
    ready = engine.ready
    decode = decoder.decode
    next_check = engine._next_check
    segments = 0
    link = -1
    headers: Any = None
    at = ip_at = mask = ipv4 = 0
    fragment_mask, tcp = _UNFRAGMENTED_TCP
    for number, ts, link_type, buf, start, end, original, interface in records:
        if link_type != link:
            link = link_type
            headers, at, mask, ipv4, ip_at = _LAYOUTS.get(link_type, (None, 0, 0, 0, 0))
        seg = None
        ip = start + ip_at
        if headers is not None and ip + 40 <= end:
            head, total, fragment, flow, seq, ack, offset, flags = headers(buf, start + at)
            packet_end = ip + total
            payload_start = ip + 20 + (offset >> 4) * 4
            if (head & mask) == ipv4 and (fragment & fragment_mask) == tcp and offset >= 0x50 \
                    and payload_start <= packet_end <= end:
                segments += 1
                h = flows.get(flow)
                if h.__class__ is _Half and not flags & 7 and number < next_check:
                    conn = h.conn
                    if not conn.holes:
                        n = packet_end - payload_start
                        if not n:  # an ACK
                            conn.last_frame = number
                            conn.last_ts = ts
                            continue
                        if seq == h.next_seq and h.clean:  # in order: as feed() does, without a segment
                            conn.last_frame = number
                            conn.last_ts = ts
                            h.next_seq = (seq + n) & MASK
                            left = h.left
                            if left >= n and not h.passing:
                                h.left = left - n  # inside a record that is skipped
                                continue
                            consume(h, 0, buf[payload_start:packet_end], (number, ts))
                            if ready:
                                yield from engine.take()
                            continue
                elif number < next_check and (h is closed and not flags & 2 or h is ignored and not flags & 5):
                    continue  # a late segment of an ended connection, or of a flow that is not TLS: dropped
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
        next_check = engine._next_check
        if ready:
            yield from engine.take()
    return segments
