"""Frame → segment decoding: the committed captures against tshark, hand-built frames for each
link type, IPv6 extension header, fragment and malformation (also checked against tshark), the
fast path against the general one, and garbage (None and a counter, never an exception)."""

from __future__ import annotations

import random
import socket
import struct
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from make_captures import DATA, pcapng_epb, pcapng_idb, pcapng_shb

from tlsmon.sources.capture import ip
from tlsmon.sources.capture.formats import read_frames
from tlsmon.sources.capture.frames import Frame, Segment
from tlsmon.sources.capture.ip import Decoder
from tlsmon.sources.capture.linklayer import ETHERTYPE_IPV4, ETHERTYPE_IPV6, MALFORMED, UNKNOWN_LINK_TYPE, locate

CAPTURES = sorted(p for p in DATA.iterdir() if p.suffix in (".pcap", ".pcapng", ".cap", ".gz"))
FUZZ = settings(max_examples=500, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
COUNTERS = ("non_tcp", "ipv4_fragments", "ipv6_fragments", "malformed", "truncated")


def counters(decoder: Decoder) -> Dict[str, int]:
    return {name: getattr(decoder, name) for name in COUNTERS}


def plain(segment: Optional[Segment]) -> Optional[tuple]:
    return None if segment is None else segment._replace(payload=bytes(segment.payload))


# -- the committed captures against tshark ---------------------------------------------------------


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_committed_capture_segments_match_tshark(path: Path, tshark_segments) -> None:
    decoder = Decoder()
    frames = list(read_frames(path))
    ours = {f.number: (decoder.decode(f), f) for f in frames}
    theirs = tshark_segments(path)
    assert sorted(n for n, (s, _) in ours.items() if s is not None) == sorted(theirs) == [f.number for f in frames]
    for number, (segment, frame) in ours.items():
        expected = theirs[number]
        assert segment is not None
        assert (segment.frame, segment.timestamp) == (number, frame.timestamp)
        assert (segment.src, segment.dst, segment.sport, segment.dport) == (
            expected.src, expected.dst, expected.sport, expected.dport,
        )  # fmt: skip
        assert (segment.seq, segment.ack, segment.flags) == (expected.seq, expected.ack, expected.flags & 0xFF)
        assert bytes(segment.payload) == expected.payload
        assert segment.truncated == (len(frame.data) < frame.original_length)
    assert counters(decoder) == dict.fromkeys(COUNTERS, 0) | {"truncated": sum(s.truncated for s, _ in ours.values())}


# -- hand-built frames -------------------------------------------------------------------------------

MACS = (
    b"\x02\x00\x00\x00\x00\x02"  # destination MAC
    b"\x02\x00\x00\x00\x00\x01"  # source MAC
)
PAYLOAD = b"hello"


def ipv4(total_length: int, protocol: int = 6, flags_fragment: bytes = b"\x40\x00", ihl: int = 5) -> bytes:
    return (
        bytes([0x40 | ihl])  # version 4, IHL
        + b"\x00"  # DSCP, ECN
        + struct.pack("!H", total_length)  # total length
        + b"\x12\x34"  # identification
        + flags_fragment  # flags (DF 0x4000, MF 0x2000), fragment offset in 8-byte units
        + b"\x40"  # TTL 64
        + bytes([protocol])  # protocol (6 TCP, 17 UDP)
        + b"\x00\x00"  # header checksum (not checked)
        + b"\xc0\x00\x02\x01"  # source 192.0.2.1
        + b"\xc6\x33\x64\x02"  # destination 198.51.100.2
        + b"\x01\x01\x01\x00" * (ihl - 5)  # options: NOP NOP NOP end-of-options
    )


def ipv6(payload_length: int, next_header: int = 6) -> bytes:
    return (
        b"\x60\x00\x00\x00"  # version 6, traffic class, flow label
        + struct.pack("!H", payload_length)  # payload length
        + bytes([next_header])  # next header
        + b"\x40"  # hop limit
        + b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01"  # source 2001:db8::1
        + b"\x20\x01\x0d\xb8" + bytes(11) + b"\x02"  # destination 2001:db8::2
    )


TCP = (
    b"\xc3\x50"  # source port 50000
    b"\x01\xbb"  # destination port 443
    b"\x00\x00\x00\x64"  # sequence number 100
    b"\x00\x00\x00\xc8"  # acknowledgement number 200
    b"\x50"  # data offset 5 words
    b"\x18"  # flags PSH, ACK
    b"\xff\xff"  # window
    b"\x00\x00"  # checksum (not checked)
    b"\x00\x00"  # urgent pointer
)
TCP_WITH_OPTIONS = (
    b"\xc3\x50"  # source port 50000
    b"\x01\xbb"  # destination port 443
    b"\x00\x00\x00\x64"  # sequence number 100
    b"\x00\x00\x00\x00"  # acknowledgement number 0
    b"\x80"  # data offset 8 words: 12 bytes of options
    b"\x02"  # flags SYN
    b"\xff\xff"  # window
    b"\x00\x00"  # checksum
    b"\x00\x00"  # urgent pointer
    b"\x02\x04\x05\xb4"  # MSS 1460
    b"\x04\x02"  # SACK permitted
    b"\x01"  # NOP
    b"\x03\x03\x07"  # window scale 7
    b"\x00\x00"  # end of options, padding
)
HOP_BY_HOP = (
    b"\x2b"  # next header: routing (43)
    b"\x00"  # length 0: 8 bytes
    b"\x01\x04\x00\x00\x00\x00"  # PadN, 4 bytes
)
ROUTING = (
    b"\x3c"  # next header: destination options (60)
    b"\x02"  # length 2: 24 bytes
    b"\x04"  # routing type 4 (segment routing)
    b"\x00"  # segments left 0
    b"\x00\x00\x00\x00"  # last entry, flags, tag
    b"\x20\x01\x0d\xb8" + bytes(11) + b"\x02"  # segment 2001:db8::2
)
DESTINATION = (
    b"\x33"  # next header: authentication header (51)
    b"\x00"  # length 0: 8 bytes
    b"\x01\x04\x00\x00\x00\x00"  # PadN, 4 bytes
)
AUTHENTICATION = (
    b"\x06"  # next header: TCP
    b"\x04"  # payload length 4: (4 + 2) * 4 = 24 bytes
    b"\x00\x00"  # reserved
    b"\x00\x00\x10\x00"  # security parameters index
    b"\x00\x00\x00\x01"  # sequence number
    + b"\xaa" * 12  # integrity check value
)


def fragment_header(offset_flags: int) -> bytes:
    return (
        b"\x06"  # next header: TCP
        b"\x00"  # reserved
        + struct.pack("!H", offset_flags)  # fragment offset (13 bits), reserved, M
        + b"\x00\x00\xbe\xef"  # identification
    )


V4_PACKET = ipv4(20 + 20 + 5) + TCP + PAYLOAD
V6_PACKET = ipv6(20 + 5) + TCP + PAYLOAD
EXT_CHAIN = HOP_BY_HOP + ROUTING + DESTINATION + AUTHENTICATION
SLL = (
    b"\x00\x00"  # packet type: to us
    b"\x03\x04"  # ARPHRD_LOOPBACK (772)
    b"\x00\x06"  # address length 6
    b"\x00\x00\x00\x00\x00\x00\x00\x00"  # address, padded to 8
    b"\x08\x00"  # protocol IPv4
)
SLL2 = (
    b"\x86\xdd"  # protocol IPv6
    b"\x00\x00"  # reserved
    b"\x00\x00\x00\x01"  # interface index 1
    b"\x03\x04"  # ARPHRD_LOOPBACK
    b"\x00"  # packet type: to us
    b"\x06"  # address length 6
    b"\x00\x00\x00\x00\x00\x00\x00\x00"  # address, padded to 8
)

V4 = ("192.0.2.1", "198.51.100.2")
V6 = ("2001:db8::1", "2001:db8::2")


def tcp_segment(addresses: Tuple[str, str], payload: bytes = PAYLOAD, truncated: bool = False, **fields) -> Segment:
    segment = Segment(1, 1.5, addresses[0], 50000, addresses[1], 443, 100, 200, 0x18, payload, truncated)
    segment = segment._replace(**fields)
    family = socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET
    flow = b"".join(socket.inet_pton(family, a) for a in addresses) + struct.pack("!HH", segment.sport, segment.dport)
    return segment._replace(flow=flow)


# name, link type, data, wire length (None: as captured), expected segment, counters that change
CASES = [
    ("ethernet-ipv4", 1, MACS + b"\x08\x00" + V4_PACKET, None, tcp_segment(V4), {}),
    ("ethernet-padded", 1, MACS + b"\x08\x00" + ipv4(40) + TCP + bytes(6), None, tcp_segment(V4, b""), {}),
    ("ipv4-options", 1, MACS + b"\x08\x00" + ipv4(24 + 32 + 5, ihl=6) + TCP_WITH_OPTIONS + PAYLOAD, None,
     tcp_segment(V4, ack=0, flags=0x02), {}),
    ("vlan", 1, MACS + b"\x81\x00" b"\x00\x2a" b"\x08\x00" + V4_PACKET, None, tcp_segment(V4), {}),
    ("qinq", 1, MACS + b"\x88\xa8" b"\x00\x64" b"\x81\x00" b"\x00\x2a" b"\x08\x00" + V4_PACKET, None,
     tcp_segment(V4), {}),
    ("qinq-9100-ipv6", 1, MACS + b"\x91\x00" b"\x00\x07" b"\x81\x00" b"\x00\x2a" b"\x86\xdd" + V6_PACKET, None,
     tcp_segment(V6), {}),
    ("sll", 113, SLL + V4_PACKET, None, tcp_segment(V4), {}),
    ("sll2-ipv6", 276, SLL2 + V6_PACKET, None, tcp_segment(V6), {}),
    ("null-little-endian", 0, b"\x02\x00\x00\x00" + V4_PACKET, None, tcp_segment(V4), {}),
    ("null-big-endian-ipv6", 0, b"\x00\x00\x00\x1e" + V6_PACKET, None, tcp_segment(V6), {}),
    ("loop-ipv6", 108, b"\x00\x00\x00\x18" + V6_PACKET, None, tcp_segment(V6), {}),
    ("raw-ipv4", 101, V4_PACKET, None, tcp_segment(V4), {}),
    ("raw-ipv6", 101, V6_PACKET, None, tcp_segment(V6), {}),
    ("ipv4-linktype", 228, V4_PACKET, None, tcp_segment(V4), {}),
    ("ipv6-linktype", 229, V6_PACKET, None, tcp_segment(V6), {}),
    ("ipv6-extensions", 229, ipv6(len(EXT_CHAIN) + 25, 0) + EXT_CHAIN + TCP + PAYLOAD, None, tcp_segment(V6), {}),
    ("ipv6-first-fragment", 229, ipv6(8 + 25, 44) + fragment_header(0x0001) + TCP + PAYLOAD, None,
     tcp_segment(V6, truncated=True), {"ipv6_fragments": 1}),
    ("ipv6-later-fragment", 229, ipv6(8 + 25, 44) + fragment_header(0x00B9) + TCP + PAYLOAD, None, None,
     {"ipv6_fragments": 1}),
    ("ipv6-atomic-fragment", 229, ipv6(8 + 25, 44) + fragment_header(0x0000) + TCP + PAYLOAD, None,
     tcp_segment(V6), {}),
    ("ipv4-first-fragment", 228, ipv4(45, flags_fragment=b"\x20\x00") + TCP + PAYLOAD, None,
     tcp_segment(V4, truncated=True), {"ipv4_fragments": 1}),
    ("ipv4-later-fragment", 228, ipv4(45, flags_fragment=b"\x00\xb9") + TCP + PAYLOAD, None, None,
     {"ipv4_fragments": 1}),
    ("segmentation-offload-ipv4", 228, ipv4(0) + TCP + PAYLOAD, None, tcp_segment(V4), {}),
    ("segmentation-offload-ipv6", 229, ipv6(0) + TCP + PAYLOAD, None, tcp_segment(V6), {}),
    ("cut-in-payload", 228, V4_PACKET[:-2], len(V4_PACKET), tcp_segment(V4, b"hel", True), {"truncated": 1}),
    ("cut-in-tcp", 228, V4_PACKET[:30], len(V4_PACKET), None, {"truncated": 1}),
    ("cut-in-ipv4", 1, (MACS + b"\x08\x00" + V4_PACKET)[:20], 59, None, {"truncated": 1}),
    ("cut-in-ipv6-extension", 229, (ipv6(len(EXT_CHAIN) + 25, 0) + EXT_CHAIN)[:44], 130, None, {"truncated": 1}),
    ("arp", 1, MACS + b"\x08\x06" + bytes(28), None, None, {"non_tcp": 1}),
    ("llc", 1, MACS + b"\x00\x26" + b"\x42\x42\x03" + bytes(35), None, None, {"non_tcp": 1}),
    ("udp", 228, ipv4(28, protocol=17) + bytes(8), None, None, {"non_tcp": 1}),
    ("icmpv6", 229, ipv6(8, 58) + bytes(8), None, None, {"non_tcp": 1}),
    ("esp", 229, ipv6(16, 50) + bytes(16), None, None, {"non_tcp": 1}),
    ("no-next-header", 229, ipv6(8, 0) + b"\x3b\x00" + bytes(6), None, None, {"non_tcp": 1}),
    ("unknown-link-type", 147, V4_PACKET, None, None, {"non_tcp": 1}),
    ("null-unknown-family", 0, b"\x07\x00\x00\x00" + V4_PACKET, None, None, {"non_tcp": 1}),
    ("short-ethernet", 1, MACS[:10], None, None, {"malformed": 1}),
    ("short-sll", 113, SLL[:10], None, None, {"malformed": 1}),
    ("empty-raw", 101, b"", None, None, {"malformed": 1}),
    ("raw-version-5", 101, b"\x55" + V4_PACKET[1:], None, None, {"malformed": 1}),
    ("ipv4-ihl-4", 228, b"\x44" + V4_PACKET[1:], None, None, {"malformed": 1}),
    ("ipv6-in-ipv4-frame", 228, V6_PACKET, None, None, {"malformed": 1}),
    ("ipv4-total-below-header", 228, ipv4(12) + TCP, None, None, {"malformed": 1}),
    ("ipv4-total-below-tcp", 228, ipv4(30) + TCP, None, None, {"malformed": 1}),
    ("tcp-offset-4", 228, ipv4(45) + TCP[:12] + b"\x40" + TCP[13:] + PAYLOAD, None, None, {"malformed": 1}),
    ("tcp-offset-past-packet", 228, ipv4(45) + TCP[:12] + b"\xf0" + TCP[13:] + PAYLOAD, None, None,
     {"malformed": 1}),
    ("ipv6-extension-past-packet", 229, ipv6(8, 0) + b"\x06\x05" + bytes(6), None, None, {"malformed": 1}),
]  # fmt: skip


@pytest.mark.parametrize("name, link_type, data, wire, expected, changed", CASES, ids=[c[0] for c in CASES])
def test_hand_built_frames(name: str, link_type: int, data: bytes, wire: Optional[int],
                           expected: Optional[Segment], changed: dict) -> None:  # fmt: skip
    decoder = Decoder()
    frame = Frame(1, 1.5, link_type, data, wire if wire is not None else len(data))
    assert plain(decoder.decode(frame)) == expected
    assert counters(decoder) == dict.fromkeys(COUNTERS, 0) | changed
    # the same from a memoryview, and from the module-level decoder
    assert plain(Decoder().decode(frame._replace(data=memoryview(data)))) == expected
    assert plain(ip.decode(frame)) == expected


def test_hand_built_frames_agree_with_tshark(tmp_path: Path, tshark_segments) -> None:
    """Every hand-built frame that tshark decodes as TCP, it decodes as we do."""
    link_types = sorted({c[1] for c in CASES})
    blocks = [pcapng_shb()] + [pcapng_idb(lt) for lt in link_types]
    for _, link_type, data, wire, _, _ in CASES:
        blocks.append(pcapng_epb(link_types.index(link_type), 1_500_000, data, wire or len(data)))
    path = tmp_path / "hand-built.pcapng"
    path.write_bytes(b"".join(blocks))
    theirs = tshark_segments(path, ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"])
    for number, (name, _, _, _, expected, _) in enumerate(CASES, 1):
        if number in theirs and expected is not None:
            shark = theirs[number]
            assert (expected.src, expected.dst, expected.sport, expected.dport, expected.seq, expected.flags) == (
                shark.src, shark.dst, shark.sport, shark.dport, shark.seq, shark.flags & 0xFF,
            ), name  # fmt: skip
            assert expected.payload == shark.payload, name
    # What tshark does not decode as TCP but we do: an IPv6 payload length of 0 without a jumbo
    # option (we read it as offload, like an IPv4 total length of 0), and a first IPv6 fragment.
    decoded = {c[0] for n, c in enumerate(CASES, 1) if c[4] is not None}
    only_ours = {"segmentation-offload-ipv6", "ipv6-first-fragment"}
    assert decoded - {c[0] for n, c in enumerate(CASES, 1) if n in theirs} <= only_ours


def test_locate() -> None:
    assert locate(1, MACS + b"\x81\x00\x00\x2a\x88\xa8\x00\x01\x86\xdd") == (ETHERTYPE_IPV6, 22)
    assert locate(1, MACS + b"\x81\x00\x00\x2a") == (MALFORMED, 0)  # a tag with no EtherType after it
    assert locate(113, SLL) == (ETHERTYPE_IPV4, 16)
    assert locate(276, SLL2) == (ETHERTYPE_IPV6, 20)
    assert locate(12, V4_PACKET) == (ETHERTYPE_IPV4, 0)
    assert locate(999, b"") == (UNKNOWN_LINK_TYPE, 0)


def test_payload_views_and_copies() -> None:
    """Small payloads are copies; large ones are memoryviews of the frame's own bytes."""
    big = b"z" * 60000
    data = MACS + b"\x08\x00" + ipv4(40 + len(big)) + TCP + big
    segment = Decoder().decode(Frame(1, 0.0, 1, data, len(data)))
    assert segment is not None and isinstance(segment.payload, memoryview)
    assert segment.payload.obj is data and segment.payload == big
    over_ipv6 = Decoder().decode(Frame(1, 0.0, 229, ipv6(20 + len(big)) + TCP + big, 40 + 20 + len(big)))
    assert over_ipv6 is not None and isinstance(over_ipv6.payload, memoryview) and over_ipv6.payload == big
    small = Decoder().decode(Frame(1, 0.0, 1, MACS + b"\x08\x00" + V4_PACKET, 59))
    assert small is not None and type(small.payload) is bytes


def test_address_cache_is_bounded() -> None:
    decoder = Decoder()
    for i in range(10_000):
        packet = bytearray(V4_PACKET)
        packet[12:16] = i.to_bytes(4, "big")
        segment = decoder.decode(Frame(i, 0.0, 228, bytes(packet), len(packet)))
        assert segment is not None and segment.src == f"0.0.{i >> 8}.{i & 255}"
    assert len(decoder._names) <= 4096


# -- properties -----------------------------------------------------------------------------------------


@st.composite
def ipv4_tcp_packets(draw) -> bytes:
    """IPv4 + TCP packets with arbitrary header fields, lengths and captured prefixes."""
    ihl = draw(st.sampled_from([5, 5, 5, 4, 6, 15]))
    data_offset = draw(st.sampled_from([5, 5, 8, 4, 15, 0]))
    payload = draw(st.binary(max_size=64))
    natural = ihl * 4 + max(data_offset, 5) * 4 + len(payload)
    total = draw(st.sampled_from([natural, natural, 0, natural - 1, natural + 3]) | st.integers(0, 0xFFFF))
    flags_fragment = draw(st.sampled_from([0x4000, 0x4000, 0x2000, 0x00B9, 0x0000]) | st.integers(0, 0xFFFF))
    protocol = draw(st.sampled_from([6, 6, 6, 17]))
    header = bytearray(ipv4(total & 0xFFFF, protocol, struct.pack("!H", flags_fragment), max(ihl, 5)))
    header[0] = 0x40 | ihl
    tcp = bytearray(TCP + bytes(max(data_offset, 5) * 4 - 20))
    tcp[12] = data_offset << 4
    tcp[13] = draw(st.integers(0, 255))
    return bytes(header[: ihl * 4] if ihl < 5 else header) + bytes(tcp) + payload + draw(st.binary(max_size=8))


@FUZZ
@given(ipv4_tcp_packets(), st.integers(0, 200), st.integers(0, 3))
def test_fast_path_agrees_with_general_path(packet: bytes, cut: int, extra: int) -> None:
    """Ethernet + IPv4 takes a shortcut; raw IPv4 (linktype 228) the general way: same results."""
    captured = packet[: max(cut, 1)] if cut < len(packet) else packet
    wire = len(packet) + extra
    fast, general = Decoder(), Decoder()
    via_ethernet = fast.decode(Frame(7, 2.5, 1, MACS + b"\x08\x00" + captured, wire + 14))
    via_raw = general.decode(Frame(7, 2.5, 228, captured, wire))
    assert plain(via_ethernet) == plain(via_raw)
    assert counters(fast) == counters(general)


LINK_TYPES = st.sampled_from([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147, 0x10001])


@FUZZ
@given(LINK_TYPES, st.binary(max_size=300), st.integers(0, 400))
def test_garbage_is_none_and_counted(link_type: int, data: bytes, wire: int) -> None:
    decoder = Decoder()
    before = sum(counters(decoder).values())
    segment = decoder.decode(Frame(1, 0.0, link_type, data, wire))
    if segment is None:
        assert sum(counters(decoder).values()) > before
    else:
        assert isinstance(segment.src, str) and 0 <= segment.sport < 65536


REAL_FRAMES: List[Frame] = [f for p in CAPTURES[:6] for f in read_frames(p)]


@FUZZ
@given(st.sampled_from(REAL_FRAMES), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6),
       st.integers(0, 2000))  # fmt: skip
def test_mutated_real_frames_never_raise(frame: Frame, changes: list, cut: int) -> None:
    data = bytearray(frame.data)
    for position, value in changes:
        data[position % min(len(data), 80)] = value  # the headers
    decoder = Decoder()
    segment = decoder.decode(frame._replace(data=bytes(data[:cut])))
    assert segment is None or isinstance(segment, Segment)


def test_random_frames_at_speed() -> None:
    """A quick smoke run over many random frames (no assertion on time: see the benchmark)."""
    rng = random.Random(7)
    decoder = Decoder()
    for _ in range(20_000):
        link_type = rng.choice([0, 1, 101, 108, 113, 228, 229, 276])
        decoder.decode(Frame(1, 0.0, link_type, rng.randbytes(rng.randrange(0, 120)), 120))
    assert sum(counters(decoder).values()) > 0
