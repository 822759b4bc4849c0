#!/usr/bin/env python3
"""Make the small captures in tests/data/captures/, and the capture writers the tests use.

    .venv/bin/python tests/sources/make_captures.py --regenerate   # root, tcpdump, tshark, editcap
    .venv/bin/python tests/sources/make_captures.py --benchmark 100  # frames/s over a 100 MB pcap

Records real TLS 1.2/1.3 connections between Python ``ssl`` peers on loopback with tcpdump
(IPv4 and IPv6, ``-i lo`` and ``-i any``, one cut by a snap length), converts one with editcap
to pcapng, nanosecond pcap, NetMon 2.x and 1.x and gzip, and rewrites the link layer of some
with the small pcap writer below (802.1Q, QinQ, BSD null/loop, raw IP). Tests use the committed
files and never run this; review the diff after regenerating. The writers (pcap, pcapng
blocks, NetMon) are plain test helpers, independent of the library's readers.
"""

from __future__ import annotations

import argparse
import calendar
import gzip
import os
import queue
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

DATA = Path(__file__).resolve().parent.parent / "data" / "captures"


# -- writers -------------------------------------------------------------------------------------


class Record(NamedTuple):
    """One frame to write: integer nanoseconds since the epoch, captured bytes, wire length."""

    time_ns: int
    data: bytes
    original_length: int


def pcap_bytes(
    records: Iterable[Record], link_type: int, *, nanoseconds: bool = False, big_endian: bool = False,
    snaplen: int = 262144,
) -> bytes:  # fmt: skip
    """A libpcap file (version 2.4)."""
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    units = 10**9 if nanoseconds else 10**6
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link_type)]
    for r in records:
        ticks = r.time_ns * units // 10**9
        out.append(struct.pack(order + "IIII", ticks // units, ticks % units, len(r.data), r.original_length))
        out.append(r.data)
    return b"".join(out)


def read_pcap(path: Path) -> Tuple[int, List[Record]]:
    """(link type, records) of a little- or big-endian µs/ns pcap file."""
    raw = path.read_bytes()
    for order in "<>":
        magic, _, _, _, _, _, link_type = struct.unpack_from(order + "IHHiIII", raw)
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError(f"{path} is not a pcap file")
    scale = 1000 if magic == 0xA1B2C3D4 else 1
    records, pos = [], 24
    while pos < len(raw):
        sec, frac, incl, orig = struct.unpack_from(order + "IIII", raw, pos)
        records.append(Record(sec * 10**9 + frac * scale, raw[pos + 16 : pos + 16 + incl], orig))
        pos += 16 + incl
    return link_type & 0xFFFF, records


def pcapng_block(block_type: int, body: bytes, order: str = "<") -> bytes:
    """A generic pcapng block: type, total length, body padded to 32 bits, total length."""
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


def pcapng_option(code: int, value: bytes, order: str = "<") -> bytes:
    return struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_shb(order: str = "<", major: int = 1) -> bytes:
    return pcapng_block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1), order)


def pcapng_idb(
    link_type: int, order: str = "<", *, snaplen: int = 0, tsresol: Optional[int] = None, tsoffset: int = 0
) -> bytes:
    """An Interface Description Block; tsresol is the raw if_tsresol byte (0x80 | n for 2**-n)."""
    options = b""
    if tsresol is not None:
        options += pcapng_option(9, bytes([tsresol]), order)
    if tsoffset:
        options += pcapng_option(14, struct.pack(order + "q", tsoffset), order)
    if options:
        options += pcapng_option(0, b"", order)
    return pcapng_block(1, struct.pack(order + "HHI", link_type, 0, snaplen) + options, order)


def pcapng_epb(
    interface: int, ticks: int, data: bytes, original: int, order: str = "<", obsolete: bool = False
) -> bytes:
    """An Enhanced Packet Block (or, with obsolete, a Packet Block, type 2) with `ticks` timestamp units."""
    if obsolete:
        head = struct.pack(order + "HHIIII", interface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), original)
        return pcapng_block(2, head + data, order)
    head = struct.pack(order + "IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), original)
    return pcapng_block(6, head + data, order)


def pcapng_spb(data: bytes, original: int, order: str = "<") -> bytes:
    return pcapng_block(3, struct.pack(order + "I", original) + data, order)


_FILETIME_UNIX_EPOCH = 116444736000000000


def netmon_bytes(records: Sequence[Record], *, major: int = 2, minor: int = 0, media: Sequence[int] = ()) -> bytes:
    """A Network Monitor file as editcap writes it: header, frames from offset 128, frame table.

    The start time is the first frame's, cut to milliseconds, as UTC. From 2.1 on every frame
    has a trailer with its media type (`media`, default Ethernet); 2.3 adds a UTC FILETIME.
    """
    start_ns = records[0].time_ns // 10**6 * 10**6 if records else 0
    frames, table = [], []
    offset = 128
    for i, r in enumerate(records):
        delta = r.time_ns - start_ns
        if major == 1:
            head = struct.pack("<IHH", (delta + 500_000) // 10**6, r.original_length, len(r.data))
        else:
            head = struct.pack("<QII", (delta + 500) // 1000, r.original_length, len(r.data))
        trailer = b""
        if major == 2 and minor >= 1:
            trailer = struct.pack("<H", media[i] if media else 1)
            if minor >= 2:
                trailer += struct.pack("<I", 0)
            if minor >= 3:
                trailer += struct.pack("<QB", r.time_ns // 100 + _FILETIME_UNIX_EPOCH, 0)
        frames.append(head + r.data + trailer)
        table.append(offset)
        offset += len(frames[-1])
    tm = time.gmtime(start_ns // 10**9)
    header = struct.pack(
        "<4sBBH8H10I", b"GMBU" if major == 2 else b"RTSS", minor, major, 1,
        tm.tm_year, tm.tm_mon, (tm.tm_wday + 1) % 7, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        start_ns // 10**6 % 1000, offset, 4 * len(table), *([0] * 8),
    )  # fmt: skip
    return header.ljust(128, b"\0") + b"".join(frames) + struct.pack(f"<{len(table)}I", *table)


def systemtime_ns(year: int, month: int, day: int, hour: int, minute: int, second: int, ms: int) -> int:
    return (calendar.timegm((year, month, day, hour, minute, second)) * 1000 + ms) * 10**6


# -- link-layer rewriting (of Ethernet frames as tcpdump -i lo writes them) -----------------------

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP = 0, 1, 101, 108


def with_tags(frame: bytes, tags: Sequence[Tuple[int, int]]) -> bytes:
    """An Ethernet frame with 802.1Q-style tags (TPID, VLAN id) inserted after the addresses."""
    inserted = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)
    return frame[:12] + inserted + frame[12:]


def ip_of(frame: bytes) -> bytes:
    """The IP packet of an untagged Ethernet frame."""
    return frame[14:]


def null_header(frame: bytes, family_v6: int, order: str) -> bytes:
    """BSD loopback: the address family as 4 bytes (host order for NULL, network order for LOOP)."""
    family = 2 if frame[12:14] == b"\x08\x00" else family_v6
    return struct.pack(order + "I", family) + frame[14:]


def rewrite(records: Iterable[Record], change) -> List[Record]:
    out = []
    for r in records:
        data = change(r.data)
        out.append(Record(r.time_ns, data, r.original_length + len(data) - len(r.data)))
    return out


# -- recording ------------------------------------------------------------------------------------


def _tls_contexts(version: ssl.TLSVersion, keylog: Path) -> Tuple[ssl.SSLContext, ssl.SSLContext]:
    import trustme

    ca = trustme.CA()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1", "::1").configure_cert(server)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(client)
    for ctx in (server, client):
        ctx.minimum_version = ctx.maximum_version = version
    client.keylog_filename = str(keylog)
    return server, client


def record(
    path: Path, *, version: ssl.TLSVersion, family: int = socket.AF_INET, interface: str = "lo",
    tcpdump_args: Sequence[str] = (),
) -> None:  # fmt: skip
    """Capture one TLS connection (handshake, a request, a 3000-byte answer, close) to `path`."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    keylog = path.with_suffix(".keylog")
    keylog.unlink(missing_ok=True)
    server_ctx, client_ctx = _tls_contexts(version, keylog)
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    command = ["tcpdump", "-i", interface, "-w", str(path), "-U", "--immediate-mode", "-B", "32768", "-s", "0"]
    dump = subprocess.Popen([*command, *tcpdump_args, f"tcp port {port}"], stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in dump.stderr], daemon=True).start()
    deadline = time.monotonic() + 10
    while "listening on" not in lines.get(timeout=max(0.1, deadline - time.monotonic())):
        pass

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1024)
            tls.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 3000)
            tls.unwrap()

    server = threading.Thread(target=serve)
    server.start()
    with socket.create_connection((host, port), timeout=10) as raw:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            while tls.recv(4096):
                pass
            tls.unwrap()  # answer the server's close_notify
    server.join(10)
    listener.close()
    time.sleep(0.5)
    dump.send_signal(signal.SIGINT)
    dump.wait(10)
    if dump.returncode:
        raise RuntimeError(f"tcpdump failed for {path.name}")


def editcap(source: Path, target: Path, file_format: str) -> None:
    env = dict(os.environ, TZ="UTC")  # NetMon headers hold local time: write them as UTC
    subprocess.run(["editcap", "-F", file_format, str(source), str(target)], check=True, env=env)


def record_checked(path: Path, **options) -> None:
    """record(), again if tshark finds a segment missing (-i any dropped one once)."""
    for _ in range(3):
        record(path, **options)
        lost = subprocess.run(
            ["tshark", "-r", str(path), "-Y", "tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        if not lost.strip() and len(read_pcap(path)[1]) >= 10:
            return
    raise RuntimeError(f"{path.name}: segments keep getting lost")


def regenerate(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    record_checked(out / "tls12-lo.pcap", version=v12)
    record_checked(out / "tls13-lo.pcap", version=v13)
    record_checked(out / "tls13-lo6.pcap", version=v13, family=socket.AF_INET6)
    record_checked(out / "tls12-any-sll2.pcap", version=v12, interface="any")
    record_checked(out / "tls13-any-sll.pcap", version=v13, interface="any", tcpdump_args=["-y", "LINUX_SLL"])
    record_checked(out / "tls13-lo-snap120.pcap", version=v13, tcpdump_args=["-s", "120"])

    base = out / "tls12-lo.pcap"
    editcap(base, out / "tls12-lo.pcapng", "pcapng")
    editcap(base, out / "tls12-lo.ns.pcap", "nsecpcap")
    editcap(base, out / "tls12-lo.netmon2.cap", "netmon2")
    editcap(base, out / "tls12-lo.netmon1.cap", "netmon1")
    with open(out / "tls12-lo.pcap.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(base.read_bytes())

    _, v4 = read_pcap(base)
    _, v6 = read_pcap(out / "tls13-lo6.pcap")
    variants = {
        "tls12-vlan.pcap": (LINKTYPE_ETHERNET, v4, lambda f: with_tags(f, [(0x8100, 42)])),
        "tls12-qinq.pcap": (LINKTYPE_ETHERNET, v4, lambda f: with_tags(f, [(0x88A8, 100), (0x8100, 42)])),
        "tls13-lo6-qinq9100.pcap": (LINKTYPE_ETHERNET, v6, lambda f: with_tags(f, [(0x9100, 7), (0x8100, 42)])),
        "tls12-null.pcap": (LINKTYPE_NULL, v4, lambda f: null_header(f, 30, "<")),
        "tls13-lo6-loop.pcap": (LINKTYPE_LOOP, v6, lambda f: null_header(f, 24, ">")),
        "tls12-raw.pcap": (LINKTYPE_RAW, v4, ip_of),
    }
    for name, (link_type, records, change) in variants.items():
        (out / name).write_bytes(pcap_bytes(rewrite(records, change), link_type))


# -- benchmark --------------------------------------------------------------------------------------


def benchmark(megabytes: int) -> None:
    """Frames per second of read_frames, and of read_frames + Decoder.decode, over a generated
    pcap of 1514-byte Ethernet/IPv4/TCP frames (50 flows, 1448 bytes of payload each)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lib"))
    from tlsmon.sources.capture.formats import read_frames
    from tlsmon.sources.capture.ip import Decoder

    def frame(i: int) -> bytes:
        tcp = struct.pack("!HHIIBBHHH", 40000 + i % 50, 443, i * 1448 & 0xFFFFFFFF, 1, 0x80, 0x18, 512, 0, 0)
        tcp += b"\x01\x01\x08\x0a" + bytes(8)  # NOP, NOP, timestamps
        total = 20 + len(tcp) + 1448
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, bytes([10, 0, 0, i % 50]), b"\n\0\1\1")
        return b"\0" * 12 + b"\x08\x00" + ip + tcp + bytes(1448)

    count = megabytes * 10**6 // (16 + 1514)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.pcap"
        with open(path, "wb") as out:
            out.write(pcap_bytes([], LINKTYPE_ETHERNET))
            for i in range(count):
                data = frame(i)
                out.write(struct.pack("<IIII", 1_700_000_000 + i // 100_000, i % 100_000 * 10, len(data), len(data)))
                out.write(data)
        size = path.stat().st_size
        for label, decode in (("read_frames", None), ("read_frames + decode", Decoder().decode)):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                if decode is None:
                    n = sum(1 for _ in read_frames(path))
                else:
                    n = sum(1 for f in read_frames(path) if decode(f) is not None)
                best = min(best, time.perf_counter() - started)
            assert n == count
            rate = f"{count / best:12,.0f} frames/s  {size / best / 1e6:7.0f} MB/s"
            print(f"{label:22s} {rate}  ({count} frames, {best:.2f} s)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="record and overwrite the committed captures")
    parser.add_argument("--out", type=Path, default=DATA, help=f"target directory (default {DATA})")
    parser.add_argument("--benchmark", type=int, metavar="MB", help="time the reader and decoder on MB of frames")
    args = parser.parse_args(argv)
    if args.benchmark:
        benchmark(args.benchmark)
        return 0
    if not args.regenerate:
        parser.error("refusing to overwrite the committed captures without --regenerate")
    for tool in ("tcpdump", "editcap", "tshark"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} not found (apt-get install tcpdump tshark)")
    with tempfile.TemporaryDirectory() as tmp:  # record all, then replace, so a failure changes nothing
        regenerate(Path(tmp))
        args.out.mkdir(parents=True, exist_ok=True)
        for made in sorted(Path(tmp).iterdir()):
            shutil.copyfile(made, args.out / made.name)
            print(f"{made.stat().st_size:7d}  {args.out / made.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
