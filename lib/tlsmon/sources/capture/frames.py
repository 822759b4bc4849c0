"""The two records every capture reader and decoder exchange: a captured ``Frame`` and a TCP ``Segment``.

Readers (pcap, pcapng, Network Monitor) yield ``Frame``s in file order; the link-layer and
IP/TCP decoder turns a frame into a ``Segment`` (or nothing, for non-TCP traffic);
reassembly consumes segments. No I/O here.

Both are ``NamedTuple``s rather than frozen dataclasses: one is made per packet, and a
tuple is built several times faster (captures run to millions of packets).
"""

from __future__ import annotations

from typing import NamedTuple, Union

__all__ = [
    "Frame",
    "Segment",
    "Payload",
    "FIN",
    "SYN",
    "RST",
    "PSH",
    "ACK",
    "LINKTYPE_ETHERNET",
    "LINKTYPE_RAW",
    "LINKTYPE_NULL",
    "LINKTYPE_LOOP",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_IPV4",
    "LINKTYPE_IPV6",
]

Payload = Union[bytes, memoryview]

# tcpdump.org link-layer header types (LINKTYPE_*), as pcap and pcapng carry them.
LINKTYPE_NULL = 0  # BSD loopback: 4-byte address family in host byte order
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101  # raw IPv4 or IPv6
LINKTYPE_LOOP = 108  # OpenBSD loopback: 4-byte address family in network byte order
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276


class Frame(NamedTuple):
    """One captured frame.

    Attributes:
        number: 1-based position in the capture (as Wireshark numbers frames).
        timestamp: seconds since the epoch (UTC), with the file's resolution.
        link_type: LINKTYPE_* of the interface the frame came from.
        data: the captured bytes (possibly cut to the snap length).
        original_length: the frame's length on the wire.
        interface: interface index (pcapng), 0 otherwise.
    """

    number: int
    timestamp: float
    link_type: int
    data: Payload
    original_length: int
    interface: int = 0


class Segment(NamedTuple):
    """One TCP segment.

    Attributes:
        frame, timestamp: where and when it was captured.
        src, dst: IP addresses as text (IPv6 compressed).
        sport, dport: TCP ports.
        seq, ack: TCP sequence and acknowledgement numbers.
        flags: TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10).
        payload: TCP payload (only what was captured; see ``truncated``).
        truncated: the frame was cut by the snap length inside this segment's payload.
        flow: the raw addresses and ports as on the wire (source address, destination
            address, source port, destination port: 12 bytes for IPv4, 36 for IPv6), the
            engine's key for the flow; empty in a segment made by hand (then the engine keys
            by ``(src, sport, dst, dport)``).
    """

    frame: int
    timestamp: float
    src: str
    sport: int
    dst: str
    dport: int
    seq: int
    ack: int
    flags: int
    payload: Payload
    truncated: bool = False
    flow: bytes = b""


# TCP flags (RFC 9293 §3.1)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
