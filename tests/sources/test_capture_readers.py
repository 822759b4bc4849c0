"""Capture readers: the committed captures against tshark and against each other, byte orders
and resolutions, pcapng sections and interfaces, NetMon versions, sources (paths, files, pipes),
truncated tails, and hostile input (typed errors only, bounded time and memory)."""

from __future__ import annotations

import gzip
import io
import os
import struct
import threading
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from make_captures import (
    DATA,
    Record,
    netmon_bytes,
    pcap_bytes,
    pcapng_block,
    pcapng_epb,
    pcapng_idb,
    pcapng_shb,
    pcapng_spb,
    read_pcap,
)

from tlsmon.errors import CaptureError, CorruptCapture, TruncatedCapture, UnknownCaptureFormat
from tlsmon.sources.capture import formats
from tlsmon.sources.capture.formats import CaptureReader, read_frames, sniff
from tlsmon.sources.capture.frames import Frame
from tlsmon.sources.capture.netmon import NETMON_MEDIA_BASE

CAPTURES = sorted(p for p in DATA.iterdir() if p.suffix in (".pcap", ".pcapng", ".cap", ".gz"))
TLS12 = DATA / "tls12-lo.pcap"
HOSTILE = settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])


def frames_of(source, allow: bool = False) -> List[Frame]:
    return list(read_frames(source, allow_truncated_tail=allow))


def essentials(frames: List[Frame]) -> list:
    return [(f.number, f.timestamp, f.link_type, bytes(f.data), f.original_length, f.interface) for f in frames]


# -- sniffing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head, name",
    [
        (b"\xd4\xc3\xb2\xa1", "pcap"),
        (b"\xa1\xb2\xc3\xd4", "pcap"),
        (b"\x4d\x3c\xb2\xa1", "pcap-ns"),
        (b"\xa1\xb2\x3c\x4d", "pcap-ns"),
        (b"\x0a\x0d\x0d\x0a", "pcapng"),
        (b"RTSS", "netmon1"),
        (b"GMBU", "netmon2"),
        (b"\x1f\x8b\x08\x00", "gzip"),
    ],
)
def test_sniff_names_each_magic(head: bytes, name: str) -> None:
    assert sniff(head + b"rest") == name


@pytest.mark.parametrize(
    "head, message",
    [
        (b"HTTP/1.1 200 OK", "not a capture file: starts with 48 54 54 50 ('HTTP')"),
        (b"\x00\x01\xff\x7f", "not a capture file: starts with 00 01 ff 7f ('....')"),
        (b"", "not a capture file: it is empty"),
        (b"\xd4\xc3", "not a capture file: starts with d4 c3 ('..') (only 2 bytes)"),
        (b"BZh91AY", "not a capture file we read: bzip2-compressed: decompress it first"),
        (b"\x34\xcd\xb2\xa1", "not a capture file we read: a modified (Kuznetsov) pcap file, which is not supported"),
    ],
)
def test_sniff_rejects_others_in_one_line(head: bytes, message: str) -> None:
    with pytest.raises(UnknownCaptureFormat) as caught:
        sniff(head)
    assert str(caught.value) == message


def test_format_comes_from_magic_not_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "capture.pcapng"
    misnamed.write_bytes(TLS12.read_bytes())
    assert CaptureReader(misnamed).format == "pcap"
    text = tmp_path / "capture.pcap"
    text.write_bytes(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(UnknownCaptureFormat, match="starts with 48 54 54 50"):
        frames_of(text)


# -- the committed captures, against tshark and against each other ----------------------------------


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_committed_capture_matches_tshark(path: Path, tshark_frames) -> None:
    expected = tshark_frames(path)
    ours = frames_of(path)
    assert len(ours) == len(expected) > 0
    for mine, theirs in zip(ours, expected):
        assert mine.number == theirs.number
        assert mine.timestamp == float(theirs.time_epoch)  # both the float nearest the exact time
        assert mine.original_length == theirs.length
        assert len(mine.data) == theirs.captured
        assert bytes(mine.data) == theirs.data


@pytest.mark.parametrize(
    "name, format, resolution",
    [
        ("tls12-lo.ns.pcap", "pcap-ns", 0),
        ("tls12-lo.pcapng", "pcapng", 0),
        ("tls12-lo.pcap.gz", "pcap", 0),
        ("tls12-lo.netmon2.cap", "netmon2", 0),  # ms start + µs offsets: exact for µs times
        ("tls12-lo.netmon1.cap", "netmon1", 0.0005),  # ms offsets, rounded
    ],
)
def test_formats_of_the_same_traffic_agree(name: str, format: str, resolution: float) -> None:
    base = frames_of(TLS12)
    reader = CaptureReader(DATA / name)
    other = list(reader)
    assert reader.format == format and reader.compressed == name.endswith(".gz")
    assert reader.link_types == (1,) and reader.frames_read == len(base) and not reader.truncated_tail
    assert [(f.number, f.link_type, bytes(f.data), f.original_length) for f in other] == [
        (f.number, f.link_type, bytes(f.data), f.original_length) for f in base
    ]
    for mine, theirs in zip(other, base):
        assert abs(mine.timestamp - theirs.timestamp) <= resolution + 1e-6 * bool(resolution)


@pytest.mark.parametrize("nanoseconds", [False, True], ids=["us", "ns"])
@pytest.mark.parametrize("big_endian", [False, True], ids=["le", "be"])
def test_pcap_byte_orders_and_resolutions(tmp_path: Path, nanoseconds: bool, big_endian: bool, tshark_frames) -> None:
    link_type, records = read_pcap(DATA / "tls13-lo.pcap")
    if nanoseconds:  # times a µs file could not hold
        records = [r._replace(time_ns=r.time_ns + 7 * i + 1) for i, r in enumerate(records)]
    path = tmp_path / "copy"
    path.write_bytes(pcap_bytes(records, link_type, nanoseconds=nanoseconds, big_endian=big_endian))
    reader = CaptureReader(path)
    assert reader.format == ("pcap-ns" if nanoseconds else "pcap")
    assert essentials(list(reader)) == [
        (i, r.time_ns / 10**9, 1, r.data, r.original_length, 0) for i, r in enumerate(records, 1)
    ]
    assert [f.timestamp for f in frames_of(path)] == [float(f.time_epoch) for f in tshark_frames(path)]


# -- pcapng: sections, interfaces, resolutions, block kinds --------------------------------------------


def two_section_pcapng() -> tuple:
    """Two sections (little- then big-endian), two interfaces each, of four link types and four
    resolutions; EPB, SPB, obsolete PB, and blocks to skip. Returns (bytes, expected frames)."""
    _, eth = read_pcap(TLS12)
    _, raw = read_pcap(DATA / "tls12-raw.pcap")
    _, sll2 = read_pcap(DATA / "tls12-any-sll2.pcap")
    _, null = read_pcap(DATA / "tls12-null.pcap")
    expect = []

    def packet(blocks: list, iface: int, number: int, link_type: int, units: int, offset_s: int,
               r: Record, order: str, obsolete: bool = False) -> None:  # fmt: skip
        ticks = (r.time_ns - offset_s * 10**9) * units // 10**9
        blocks.append(pcapng_epb(iface, ticks, r.data, r.original_length, order, obsolete))
        expect.append((number, (ticks + offset_s * units) / units, link_type, r.data, r.original_length, iface))

    b = [pcapng_shb("<"), pcapng_idb(1, "<"), pcapng_idb(101, "<", tsresol=9, tsoffset=100)]
    b.append(pcapng_block(4, b"\x01\x00\x0e\x00\x7f\x00\x00\x01localhost\x00\x00\x00" + bytes(4)))  # names, skipped
    packet(b, 0, 1, 1, 10**6, 0, eth[0], "<")
    packet(b, 1, 2, 101, 10**9, 100, raw[1], "<")
    b.append(pcapng_spb(eth[2].data, eth[2].original_length))  # no timestamp
    expect.append((3, 0.0, 1, eth[2].data, eth[2].original_length, 0))
    b.append(pcapng_block(0x40000BAD, b"\x00\x00\x7e\x7e custom"))  # custom: skipped, but numbered
    packet(b, 1, 5, 101, 10**9, 100, raw[3], "<", obsolete=True)
    b.append(pcapng_block(5, struct.pack("<III", 0, 0, 0)))  # interface statistics, skipped
    b += [pcapng_shb(">"), pcapng_idb(276, ">", tsresol=0x80 | 20), pcapng_idb(0, ">", tsresol=3, snaplen=65535)]
    packet(b, 0, 6, 276, 2**20, 0, sll2[4], ">")
    packet(b, 1, 7, 0, 10**3, 0, null[5], ">")
    packet(b, 0, 8, 276, 2**20, 0, sll2[6], ">")
    # interfaces are numbered over the whole file: the second section's are 2 and 3
    expect = [e[:5] + ((e[5] + 2) if e[0] >= 6 else e[5],) for e in expect]
    return b"".join(b), expect


def test_pcapng_sections_interfaces_and_resolutions(tmp_path: Path, tshark_frames) -> None:
    data, expect = two_section_pcapng()
    path = tmp_path / "two-sections.pcapng"
    path.write_bytes(data)
    reader = CaptureReader(path)
    assert essentials(list(reader)) == expect
    assert reader.link_types == (1, 101, 276, 0) and reader.format == "pcapng"
    assert reader.frames_read == 7 and reader._reader.interface_count == 4
    shark = [s for s in tshark_frames(path) if s.number != 4]  # the custom block
    assert [(f.number, bytes(f.data), f.original_length) for f in frames_of(path)] == [
        (s.number, s.data, s.length) for s in shark
    ]
    for mine, theirs in zip(frames_of(path), shark):
        # tshark numbers interfaces per section, and shows no time for a Simple Packet Block
        assert mine.interface == theirs.interface + (2 if mine.number >= 6 else 0)
        if mine.number != 3:
            assert mine.timestamp == float(theirs.time_epoch)


@pytest.mark.parametrize(
    "block, message",
    [
        (pcapng_epb(5, 0, b"x", 1), "names interface 5, but the section declares 1"),
        (pcapng_block(6, struct.pack("<IIIII", 0, 0, 0, 999, 999)), "claims 999 captured bytes"),
        (struct.pack("<II", 6, 0), "impossible length 0"),
        (struct.pack("<II", 6, 0xFFFFFFF0), "impossible length 4294967280"),
        (struct.pack("<II", 6, 30), "impossible length 30"),
        (struct.pack("<IIII", 6, 16, 0, 20), "trailing length differs"),
        (pcapng_block(1, struct.pack("<HHI", 1, 0, 0) + struct.pack("<HH", 9, 200)), "option 9 overruns"),
        (pcapng_shb("<", major=2), "unsupported version 2.0"),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x01\x02\x03\x04", "bad byte-order magic"),
    ],
)
def test_pcapng_corrupt_blocks(block: bytes, message: str) -> None:
    data = pcapng_shb() + pcapng_idb(1) + block + pcapng_epb(0, 0, b"after", 5)
    with pytest.raises(CorruptCapture, match=message):
        frames_of(io.BytesIO(data))


@pytest.mark.parametrize(
    "data, message",
    [
        (pcapng_shb() + pcapng_spb(b"x", 1), "simple packet block at offset 28 before any interface"),
        (pcapng_shb() + pcapng_idb(1) + pcapng_block(3, b""), "simple packet block at offset 48 is too short"),
        (pcapng_shb() + pcapng_block(1, b"\x01\x00\x00\x00"), "interface block at offset 28 is too short"),
        (pcapng_shb() + pcapng_idb(1) + pcapng_block(6, bytes(16)), "packet block at offset 48 is too short"),
        (pcap_bytes([], 1).replace(b"\x02\x00\x04\x00", b"\x03\x00\x00\x00", 1), "unsupported pcap version 3.0"),
        (b"RTSS\x00\x03" + bytes(58), "unsupported Network Monitor version 3.0"),
        (b"GMBU\x00\x02\x01\x00" + bytes(56), "bad start date 0-0-0"),
        (netmon_bytes([Record(0, b"x", 1)])[:28] + b"\x03" + bytes(35), "frame table length 3 is not a multiple of 4"),
        (netmon_bytes([Record(0, b"x", 1)])[:-4] + struct.pack("<I", 200), "frame at offset 200 runs past the end"),
    ],
)
def test_corrupt_headers(data: bytes, message: str) -> None:
    with pytest.raises(CorruptCapture, match=message):
        frames_of(io.BytesIO(data))


# -- Network Monitor ------------------------------------------------------------------------------------


@pytest.mark.parametrize("minor", [1, 2, 3])
def test_netmon_2x_media_types_and_utc_times(tmp_path: Path, minor: int, tshark_frames) -> None:
    _, eth = read_pcap(TLS12)
    _, raw = read_pcap(DATA / "tls12-raw.pcap")
    _, sll = read_pcap(DATA / "tls13-any-sll.pcap")
    records = [eth[0], raw[1], sll[2], Record(eth[3].time_ns, b"dns cache", 9), eth[4]]
    media = [1, 9, 0xE000 | 113, 0xFFFE, 0xFFE0]  # Ethernet, raw IP, converted pcap, skipped, event
    path = tmp_path / f"v2{minor}.cap"
    path.write_bytes(netmon_bytes(records, major=2, minor=minor, media=media))
    reader = CaptureReader(path)
    frames = list(reader)
    assert [f.link_type for f in frames] == [1, 101, 113, NETMON_MEDIA_BASE + 0xFFE0]
    assert reader.link_types == (1, 101, 113, NETMON_MEDIA_BASE + 0xFFE0)
    assert [bytes(f.data) for f in frames] == [eth[0].data, raw[1].data, sll[2].data, eth[4].data]
    shark = tshark_frames(path)
    assert [(f.number, f.timestamp, bytes(f.data)) for f in frames] == [
        (s.number, float(s.time_epoch), s.data) for s in shark
    ]
    if minor == 3:  # per-frame UTC FILETIMEs: 100 ns resolution
        assert [f.timestamp for f in frames] == [r.time_ns // 100 / 10**7 for r in (eth[0], raw[1], sll[2], eth[4])]


def test_netmon_frames_follow_the_frame_table() -> None:
    data = bytearray((DATA / "tls12-lo.netmon2.cap").read_bytes())
    table_offset, table_length = struct.unpack_from("<II", data, 24)
    table = list(struct.unpack_from(f"<{table_length // 4}I", data, table_offset))
    data[table_offset:] = struct.pack(f"<{len(table)}I", *reversed(table))
    reversed_frames = frames_of(io.BytesIO(bytes(data)))
    assert [bytes(f.data) for f in reversed_frames] == [bytes(f.data) for f in reversed(frames_of(TLS12))]
    assert [f.number for f in reversed_frames] == list(range(1, len(table) + 1))


# -- sources: paths, files, pipes ----------------------------------------------------------------------


def test_paths_and_file_objects(tmp_path: Path) -> None:
    expected = essentials(frames_of(TLS12))
    assert essentials(frames_of(str(TLS12))) == expected
    with open(TLS12, "rb") as file:
        assert essentials(frames_of(file)) == expected
        assert not file.closed  # a file we were given stays open
    with open(TLS12, "rb", buffering=0) as raw:  # unbuffered: short reads are possible
        assert essentials(frames_of(raw)) == expected
    assert essentials(frames_of(io.BytesIO(TLS12.read_bytes()))) == expected


@pytest.mark.parametrize("name", ["tls12-lo.pcap", "tls12-lo.netmon2.cap", "tls12-lo.pcapng"])
def test_file_object_read_from_its_position(tmp_path: Path, name: str) -> None:
    path = tmp_path / "prefixed"
    path.write_bytes(b"junk before the capture" + (DATA / name).read_bytes())
    with open(path, "rb") as file:
        file.seek(23)
        assert essentials(frames_of(file)) == essentials(frames_of(DATA / name))


def test_reader_closes_the_file_it_opened() -> None:
    reader = CaptureReader(TLS12)
    assert reader._opened is not None
    list(reader)
    assert reader._opened is None
    with CaptureReader(TLS12) as early:
        next(iter(early))
    assert early._opened is None


@pytest.mark.parametrize("path", ["/nonexistent/capture.pcap", "/"])
def test_unopenable_paths(path: str) -> None:
    with pytest.raises(CaptureError, match=f"cannot open '{path}'"):
        frames_of(path)


class Trickle:
    """A non-seekable stream with only read(), returning at most 3 bytes at a time."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def read(self, n: int = -1) -> bytes:
        chunk, self._data = self._data[: min(n if n >= 0 else 3, 3)], self._data[min(n if n >= 0 else 3, 3) :]
        return bytes(chunk)


def piped(data: bytes) -> Iterator[io.RawIOBase]:
    """A real pipe, written by a thread in 1000-byte pieces."""
    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "wb", buffering=0) as out:
            for i in range(0, len(data), 1000):
                out.write(data[i : i + 1000])

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        yield pipe
    writer.join()


@pytest.mark.parametrize("name", [p.name for p in CAPTURES if "tls12-lo" in p.name])
def test_pipes_and_trickles(name: str) -> None:
    expected = essentials(frames_of(DATA / name))
    data = (DATA / name).read_bytes()
    for pipe in piped(data):
        assert essentials(frames_of(pipe)) == expected
    assert essentials(frames_of(Trickle(data))) == expected


def test_netmon_from_a_pipe_is_buffered_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_BUFFERED_NETMON", 1000)
    with pytest.raises(CaptureError, match="frame table at its end"):
        frames_of(Trickle((DATA / "tls12-lo.netmon1.cap").read_bytes()))


def test_gzip_errors_are_typed() -> None:
    packed = (DATA / "tls12-lo.pcap.gz").read_bytes()
    with pytest.raises(CorruptCapture, match="corrupt gzip data"):
        frames_of(io.BytesIO(packed[:10] + b"\xff" * 50 + packed[60:]))
    with pytest.raises(UnknownCaptureFormat, match="gzip inside gzip"):
        frames_of(io.BytesIO(gzip.compress(packed)))
    bomb = gzip.compress(bytes(50_000_000))  # decompressed only as far as the magic
    started = time.monotonic()
    with pytest.raises(UnknownCaptureFormat, match="starts with 00 00 00 00"):
        frames_of(io.BytesIO(bomb))
    assert time.monotonic() - started < 2


# -- truncated tails -----------------------------------------------------------------------------------


def whole_frames_within(name: str, data: bytes, cut: int, previous: int) -> int:
    """How many frames a lenient reader must return from data[:cut]: every complete one."""
    if name.endswith(".cap"):  # NetMon: frames lie between the table's offsets, up to the table
        table_offset, table_length = struct.unpack_from("<II", data, 24)
        starts = struct.unpack_from(f"<{table_length // 4}I", data, table_offset)
        ends = [*starts[1:], table_offset]
        return sum(1 for end in ends if end <= cut)
    return previous  # pcap, pcapng: as many as at the last cut between records


@pytest.mark.parametrize("name", [p.name for p in CAPTURES if "tls12-lo" in p.name])
def test_every_cut_gives_the_whole_frames_or_a_typed_error(name: str) -> None:
    """Cut the file at every byte: strict reading raises TruncatedCapture unless the cut falls
    between records; lenient reading yields every whole frame before the cut and says it was cut."""
    data = (DATA / name).read_bytes()
    full = essentials(frames_of(io.BytesIO(data)))
    whole_cuts = previous = 0
    for cut in range(len(data) + 1):
        piece = data[:cut]
        try:
            reader = CaptureReader(io.BytesIO(piece), allow_truncated_tail=True)
            lenient = essentials(list(reader))
        except UnknownCaptureFormat:
            assert cut < 4
            continue
        except TruncatedCapture:
            assert name.endswith(".gz")  # gzip cut before the capture's magic was out
            continue
        try:
            strict: Optional[list] = essentials(frames_of(io.BytesIO(piece)))
        except TruncatedCapture:
            strict = None
        assert reader.truncated_tail == (strict is None), cut
        if strict is not None:
            whole_cuts += 1
            assert strict == lenient
            previous = len(strict)
        if name.endswith(".gz"):  # all that zlib can decompress from the cut stream
            inner = zlib.decompressobj(31).decompress(piece)
            assert lenient == essentials(frames_of(io.BytesIO(inner), allow=True)), cut
        else:
            assert lenient == full[: whole_frames_within(name, data, cut, previous)], cut
    assert full and essentials(frames_of(io.BytesIO(data))) == full
    if name.endswith(".pcap"):
        assert whole_cuts == 1 + len(full)  # after the header, after each record
    elif name.endswith(".pcapng"):
        assert whole_cuts == 2 + len(full)  # after the section header, the interface, each packet
    else:
        assert whole_cuts == 1  # NetMon needs its table at the end; gzip its end marker


def test_truncated_message_names_the_offset() -> None:
    data = TLS12.read_bytes()
    with pytest.raises(TruncatedCapture, match=r"truncated pcap record at offset \d+: \d+ of \d+ bytes"):
        frames_of(io.BytesIO(data[:-5]))


# -- hostile input -------------------------------------------------------------------------------------


def read_or_typed_error(data: bytes) -> None:
    for allow in (False, True):
        try:
            for _ in read_frames(io.BytesIO(data), allow_truncated_tail=allow):
                pass
        except CaptureError:
            pass


MAGICS = [b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", b"\xa1\xb2\x3c\x4d\x00\x02\x00\x04", b"\x0a\x0d\x0d\x0a",
          b"RTSS\x01\x01", b"GMBU\x03\x02", b"\x1f\x8b\x08\x00"]  # fmt: skip
SMALL = [(DATA / n).read_bytes() for n in ("tls13-lo-snap120.pcap",)] + [
    netmon_bytes(read_pcap(DATA / "tls13-lo-snap120.pcap")[1][:4], major=2, minor=3, media=[1, 9, 0xFFFE, 0xFFE0]),
    netmon_bytes(read_pcap(DATA / "tls13-lo-snap120.pcap")[1][:4], major=1),
    two_section_pcapng()[0],
    gzip.compress(netmon_bytes(read_pcap(DATA / "tls13-lo-snap120.pcap")[1][:3], major=2), mtime=0),
]
LENGTHS = st.sampled_from([0, 1, 3, 12, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFF, 262144, 262145])


@HOSTILE
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    read_or_typed_error(data)


@HOSTILE
@given(st.sampled_from(MAGICS), st.binary(max_size=2048))
def test_random_bytes_behind_a_magic(magic: bytes, data: bytes) -> None:
    read_or_typed_error(magic + data)


@HOSTILE
@given(
    st.sampled_from(SMALL),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8),
    st.lists(st.tuples(st.integers(0, 1 << 20), LENGTHS | st.integers(0, 2**32 - 1)), max_size=4),
)
def test_mutated_captures(data: bytes, byte_changes: list, length_changes: list) -> None:
    mutated = bytearray(data)
    for position, value in byte_changes:
        mutated[position % (min(256, len(mutated)) if position & 1 else len(mutated))] = value  # headers more often
    for position, value in length_changes:
        position = position % (len(mutated) - 4) & ~3
        mutated[position : position + 4] = struct.pack("<I", value)
    read_or_typed_error(bytes(mutated))


def huge_netmon_frame() -> bytes:
    data = bytearray(netmon_bytes([Record(0, b"x" * 8, 8)]))
    data[128 + 12 : 128 + 16] = struct.pack("<I", 1 << 31)  # the frame's captured length: 2 GiB
    return bytes(data)


def peak_while(action) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "data, error",
    [
        (pcap_bytes([], 1) + struct.pack("<IIII", 0, 0, 0x80000000, 0x80000000), CorruptCapture),  # 2 GiB record
        (pcap_bytes([], 1) + struct.pack("<IIII", 0, 0, 262144, 262144) + b"x", TruncatedCapture),  # largest, cut
        (pcapng_shb() + struct.pack("<II", 6, 0xFFFFFFF0) + bytes(64), CorruptCapture),
        (pcapng_shb()[:4] + b"\xf0\xff\xff\xff\x4d\x3c\x2b\x1a" + bytes(64), CorruptCapture),  # huge SHB
        (pcapng_shb() + struct.pack("<II", 1, 0) * 1000, CorruptCapture),  # zero-length blocks
        (huge_netmon_frame(), CorruptCapture),
        (b"GMBU\x00\x02\x01\x00" + struct.pack("<8H", 2024, 1, 1, 1, 0, 0, 0, 0)
         + struct.pack("<II", 200, 0xFFFFFFFC) + bytes(200), TruncatedCapture),  # fmt: skip
    ],
    ids=["pcap-2GiB", "pcap-256KiB-cut", "pcapng-huge-block", "pcapng-huge-shb", "pcapng-zero-blocks",
         "netmon-2GiB-frame", "netmon-4GiB-table"],  # fmt: skip
)
def test_huge_declared_lengths_are_never_allocated(data: bytes, error: type) -> None:
    def read() -> None:
        with pytest.raises(error):
            frames_of(io.BytesIO(data))

    assert peak_while(read) < 2_000_000


def test_endless_empty_blocks_and_a_million_tiny_records(tmp_path: Path) -> None:
    empty_blocks = tmp_path / "blocks.pcapng"
    empty_blocks.write_bytes(pcapng_shb() + pcapng_block(0x99, b"") * 200_000)
    tiny = tmp_path / "tiny.pcap"
    with open(tiny, "wb") as out:
        out.write(pcap_bytes([], 1))
        out.write(struct.pack("<IIII", 1, 2, 0, 0) * 1_000_000)
    counts = []

    def read() -> None:
        counts.append(sum(1 for _ in read_frames(empty_blocks)))
        counts.append(sum(1 for _ in read_frames(tiny)))

    started = time.monotonic()
    peak = peak_while(read)
    assert counts == [0, 1_000_000]
    assert peak < 2_000_000  # the frames are not kept: memory stays flat
    assert time.monotonic() - started < 60
