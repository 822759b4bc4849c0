#!/usr/bin/env python3
"""Make the ``ladder-*`` captures in tests/data/captures/, and the TCP rewriters the tests use.

    .venv/bin/python tests/sources/ladder_captures.py --regenerate   # root, tcpdump, editcap, openssl, apache2

Records real handshakes with tcpdump on loopback: ``openssl s_server`` and ``s_client``
(TLS 1.2 and 1.3, client certificate requested and answered / answered empty / refused,
session resumption, HelloRetryRequest, failed handshakes), apache2 asking for the client
certificate only under ``/secure`` (TLS 1.2 renegotiation, TLS 1.3 post-handshake auth),
a plain-text exchange beside TLS. Then rewrites one recording at the TCP level: re-cut into
1500-byte Ethernet frames (so that the server's Certificate spans many segments, as off
loopback), reordered and retransmitted segments, a capture that starts mid-connection and
one whose last packet is cut short. Every capture is converted with editcap to pcapng,
netmon2 and netmon1; the client's key log is beside it as ``*.keylog``.
Tests use the committed files and never run this; review the diff after regenerating.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from make_captures import Record, editcap, pcap_bytes, read_pcap  # noqa: E402

DATA = HERE.parent / "data" / "captures"
FORMATS = (("pcapng", ".pcapng"), ("netmon2", ".netmon2.cap"), ("netmon1", ".netmon1.cap"))


# -- TCP/IP frames of Ethernet captures -------------------------------------------------------------


class Packet(NamedTuple):
    """An Ethernet frame holding IPv4 or IPv6 and TCP, split into its parts."""

    time_ns: int
    eth: bytes  # 14 bytes
    ip: bytes  # the IP header (IPv4 with options, IPv6 fixed header)
    tcp: bytes  # the TCP header with options
    payload: bytes

    @property
    def v6(self) -> bool:
        return self.eth[12:14] == b"\x86\xdd"

    @property
    def seq(self) -> int:
        return int(struct.unpack_from("!I", self.tcp, 4)[0])

    @property
    def flags(self) -> int:
        return self.tcp[13]

    @property
    def ports(self) -> Tuple[int, int]:
        return struct.unpack_from("!HH", self.tcp)  # type: ignore[return-value]

    def with_payload(self, payload: bytes, seq: int, flags: int, time_ns: Optional[int] = None) -> Packet:
        tcp = bytearray(self.tcp)
        struct.pack_into("!I", tcp, 4, seq & 0xFFFFFFFF)
        tcp[13] = flags
        return Packet(self.time_ns if time_ns is None else time_ns, self.eth, self.ip, bytes(tcp), payload)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def parse_frame(time_ns: int, frame: bytes) -> Optional[Packet]:
    """Split an untagged Ethernet frame with TCP; None for anything else."""
    if frame[12:14] == b"\x08\x00":
        ihl = (frame[14] & 15) * 4
        if frame[23] != 6:
            return None
        total = struct.unpack_from("!H", frame, 16)[0]
        ip, rest = frame[14 : 14 + ihl], frame[14 + ihl : 14 + total]
    elif frame[12:14] == b"\x86\xdd":
        if frame[20] != 6:
            return None
        length = struct.unpack_from("!H", frame, 18)[0]
        ip, rest = frame[14:54], frame[54 : 54 + length]
    else:
        return None
    offset = (rest[12] >> 4) * 4
    return Packet(time_ns, frame[:14], ip, rest[:offset], rest[offset:])


def build_frame(p: Packet) -> bytes:
    """The frame with lengths and checksums (IPv4 header, TCP) recomputed."""
    tcp = bytearray(p.tcp)
    tcp[16:18] = b"\0\0"
    segment_len = len(tcp) + len(p.payload)
    if p.v6:
        ip = bytearray(p.ip)
        struct.pack_into("!H", ip, 4, segment_len)
        pseudo = bytes(ip[8:40]) + struct.pack("!IxxxB", segment_len, 6)
    else:
        ip = bytearray(p.ip)
        struct.pack_into("!H", ip, 2, len(ip) + segment_len)
        ip[10:12] = b"\0\0"
        struct.pack_into("!H", ip, 10, _checksum(bytes(ip)))
        pseudo = bytes(ip[12:20]) + struct.pack("!xBH", 6, segment_len)
    struct.pack_into("!H", tcp, 16, _checksum(pseudo + bytes(tcp) + p.payload))
    return p.eth + bytes(ip) + bytes(tcp) + p.payload


def packets(records: Sequence[Record]) -> List[Packet]:
    out = []
    for r in records:
        p = parse_frame(r.time_ns, r.data)
        if p is None:
            raise ValueError("not an Ethernet TCP frame")
        out.append(p)
    return out


def records_of(pkts: Sequence[Packet]) -> List[Record]:
    out = []
    for p in pkts:
        data = build_frame(p)
        out.append(Record(p.time_ns, data, len(data)))
    return out


def recut(pkts: Sequence[Packet], mss: int = 1448) -> List[Packet]:
    """Split every segment longer than ``mss`` as a 1500-byte-MTU path would have sent it."""
    out: List[Packet] = []
    for p in pkts:
        if len(p.payload) <= mss:
            out.append(p)
            continue
        pieces = [p.payload[i : i + mss] for i in range(0, len(p.payload), mss)]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            flags = p.flags if last else p.flags & ~0x09  # FIN and PSH on the last piece only
            out.append(p.with_payload(piece, p.seq + i * mss, flags, p.time_ns + i * 1000))
    return out


def shuffle_flight(pkts: Sequence[Packet], port: int) -> List[Packet]:
    """Reorder and retransmit the server's data segments (server port ``port``), as a lossy path would.

    The first run of four or more server data segments (the certificate flight, once re-cut)
    is delivered as: 2nd, 1st (swapped), an exact retransmission of the 1st, the 4th before
    the 3rd, and a retransmission overlapping the end of the 3rd and the start of the 4th.
    Every byte still arrives, so a reassembler must yield the original stream.
    """
    out = list(pkts)
    run: List[int] = []
    for i, p in enumerate(out):
        if p.ports[0] == port and p.payload:
            run.append(i)
            if len(run) >= 4:
                break
        elif p.ports[0] == port:
            continue
        elif run and p.payload:
            run = []
    if len(run) < 4:
        raise ValueError("no flight of four server segments to shuffle")
    a, b, c, d = (out[i] for i in run[:4])
    half_c = len(c.payload) // 2
    overlap = c.with_payload(c.payload[half_c:] + d.payload[: len(d.payload) // 2], c.seq + half_c, 0x18)
    new = [b, a, a, d, c, overlap]
    times = sorted(out[i].time_ns for i in run[:4])
    stamped = [p._replace(time_ns=times[min(k, 3)] + k * 1000) for k, p in enumerate(new)]
    first, last = run[0], run[3]
    between = [out[i] for i in range(first, last + 1) if i not in run[:4]]
    return out[:first] + stamped + between + out[last + 1 :]


# -- recording --------------------------------------------------------------------------------------


class Tcpdump:
    """tcpdump on ``lo`` for the given TCP ports, started and stopped (SIGINT) by its pid."""

    def __init__(self, path: Path, ports: Sequence[int], interface: str = "lo") -> None:
        expr = " or ".join(f"tcp port {p}" for p in ports)
        cmd = ["tcpdump", "-i", interface, "-w", str(path), "-U", "--immediate-mode", "-B", "32768", "-s", "0", expr]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 10
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if "listening on" in line:
                break
            if not line:
                raise RuntimeError(f"tcpdump did not start: {' '.join(cmd)}")

    def stop(self) -> None:
        time.sleep(0.3)  # let the last packets through
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> Tcpdump:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def s_client(port: int, *args: str, send: bytes = b"", wait: float = 0.5, host: str = "127.0.0.1",
             timeout: float = 15) -> subprocess.CompletedProcess:
    """``openssl s_client`` to ``host:port``; ``send`` is written to it, then its stdin stays open ``wait`` s."""
    cmd = ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", "localhost", *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdin is not None
    try:
        proc.stdin.write(send)
        proc.stdin.flush()
        time.sleep(wait)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    proc.stdin = None  # closed: s_client sees EOF and ends the connection
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, b"")


class Pki(NamedTuple):
    server: object  # peers.pki.ServerIdentity
    client_ca: object  # peers.pki.ClientCA
    client: object  # peers.pki.ClientCert, issued by client_ca
    stranger: object  # peers.pki.ClientCert from another CA


def make_pki(directory: Path, chain_length: int = 2, key_type: str = "rsa") -> Pki:
    from peers.pki import make_client_ca, make_server_identity

    server = make_server_identity(directory, key_type=key_type, chain_length=chain_length)
    ca = make_client_ca(directory, "Client CA", "Example")
    other = make_client_ca(directory, "Other CA", "Elsewhere")
    return Pki(server, ca, ca.issue_client_cert("client"), other.issue_client_cert("stranger"))


def openssl_server(pki: Pki, *args: str, verify: Optional[str] = None, tls: Optional[str] = None) -> object:
    from peers.openssl_server import OpenSSLServer

    return OpenSSLServer(pki.server, tls=tls, verify=verify, client_ca_path=pki.client_ca.pem_path,  # type: ignore
                         extra_args=args)


GET = b"GET / HTTP/1.0\r\n\r\n"


def _cert_args(cert: object) -> List[str]:
    return ["-cert", str(cert.cert_pem_path), "-key", str(cert.key_path)]  # type: ignore[attr-defined]


def record_clientauth(path: Path, pki: Pki, tls: str) -> None:
    """Four connections: optional request answered with a certificate and empty; required
    request refused without a certificate and with one from an unknown CA."""
    flag = "-tls1_2" if tls == "1.2" else "-tls1_3"
    keylog = path.with_suffix(".keylog")
    optional = openssl_server(pki, verify="optional", tls=tls)
    required = openssl_server(pki, verify="required", tls=tls)
    try:
        with Tcpdump(path, [optional.port, required.port]):  # type: ignore[attr-defined]
            for port, cert in ((optional.port, pki.client), (optional.port, None),  # type: ignore[attr-defined]
                               (required.port, None), (required.port, pki.stranger)):  # type: ignore[attr-defined]
                extra = _cert_args(cert) if cert is not None else []
                s_client(port, flag, "-keylogfile", str(keylog), *extra, send=GET)
    finally:
        optional.stop()  # type: ignore[attr-defined]
        required.stop()  # type: ignore[attr-defined]


def record_apache(path: Path, pki: Pki, tls: str) -> None:
    """apache2 with ``SSLVerifyClient require`` in ``<Location /secure>``: GET /secure/ with
    and without a client certificate (renegotiation in TLS 1.2, post-handshake auth in 1.3), and GET /."""
    from peers.apache import ApacheServer

    keylog = path.with_suffix(".keylog")
    server = ApacheServer("/usr/sbin/apache2", pki.server.chain_pem_path, pki.server.key_path,  # type: ignore
                          pki.client_ca.pem_path, tls)  # type: ignore[attr-defined]
    pha = ["-enable_pha"] if tls == "1.3" else []
    try:
        with Tcpdump(path, [server.port]):
            for target, cert in ((b"/secure/", pki.client), (b"/secure/", None), (b"/", None)):
                extra = _cert_args(cert) if cert is not None else []
                s_client(server.port, "-keylogfile", str(keylog), *pha, *extra,
                         send=b"GET " + target + b" HTTP/1.0\r\nHost: localhost\r\n\r\n", wait=1.0)
    finally:
        server.stop()


def record_resumption(path: Path, pki: Pki) -> None:
    """``s_client -reconnect``: one full TLS 1.2 handshake, then five resumed ones."""
    server = openssl_server(pki, verify="optional", tls="1.2")
    try:
        with Tcpdump(path, [server.port]):  # type: ignore[attr-defined]
            s_client(server.port, "-tls1_2", "-reconnect", "-keylogfile", str(path.with_suffix(".keylog")),  # type: ignore
                     send=b"", wait=2.0)
    finally:
        server.stop()  # type: ignore[attr-defined]


def record_failures(path: Path, pki: Pki) -> None:
    """Handshakes that fail: version, cipher, an untrusted server, a server reset, a silent close."""
    v12 = openssl_server(pki, tls="1.2")
    ciphers = openssl_server(pki, "-cipher", "AES128-SHA", tls="1.2")
    try:
        with Tcpdump(path, [v12.port, ciphers.port]):  # type: ignore[attr-defined]
            s_client(v12.port, "-tls1_3")  # type: ignore[attr-defined]  # protocol_version
            s_client(ciphers.port, "-tls1_2", "-cipher", "AES256-GCM-SHA384")  # type: ignore[attr-defined]
            s_client(v12.port, "-tls1_2", "-verify_return_error", "-verify", "1")  # type: ignore[attr-defined]
    finally:
        v12.stop()  # type: ignore[attr-defined]
        ciphers.stop()  # type: ignore[attr-defined]


def record_hrr(path: Path, pki: Pki) -> None:
    """TLS 1.3 HelloRetryRequest: the client's key share is x25519, the server wants P-256."""
    server = openssl_server(pki, "-groups", "P-256", tls="1.3")
    try:
        with Tcpdump(path, [server.port]):  # type: ignore[attr-defined]
            s_client(server.port, "-groups", "X25519:P-256", "-keylogfile", str(path.with_suffix(".keylog")),  # type: ignore
                     send=GET)
    finally:
        server.stop()  # type: ignore[attr-defined]


def _plain_server() -> Tuple[socket.socket, threading.Thread]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        for _ in range(2):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"220 plain text service ready\r\n")
                conn.recv(1024)
                conn.sendall(b"250 " + b"x" * 5000 + b"\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def record_mixed(path: Path, pki: Pki) -> None:
    """Plain text on one port (server speaks first, and client speaks first) beside TLS on another."""
    listener, thread = _plain_server()
    plain_port = listener.getsockname()[1]
    server = openssl_server(pki, tls="1.3")
    try:
        with Tcpdump(path, [plain_port, server.port]):  # type: ignore[attr-defined]
            with socket.create_connection(("127.0.0.1", plain_port)) as s:
                s.recv(100)
                s.sendall(b"HELO me\r\n")
                time.sleep(0.2)
            with socket.create_connection(("127.0.0.1", plain_port)) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                time.sleep(0.2)
            s_client(server.port, send=GET)  # type: ignore[attr-defined]
    finally:
        listener.close()
        thread.join(2)
        server.stop()  # type: ignore[attr-defined]


# -- derived captures -------------------------------------------------------------------------------


def derive(source: Path, out: Path, server_port: int) -> None:
    """1500-byte frames, reordered/retransmitted and mid-connection start from ``source``."""
    link, records = read_pcap(source)
    assert link == 1
    cut = recut(packets(records))
    (out / "ladder-tls12-1500.pcap").write_bytes(pcap_bytes(records_of(cut), link))
    shutil.copyfile(source.with_suffix(".keylog"), out / "ladder-tls12-1500.keylog")
    shuffled = shuffle_flight(cut, server_port)
    (out / "ladder-tls12-reordered.pcap").write_bytes(pcap_bytes(records_of(shuffled), link))
    # Mid-connection: drop everything up to the first connection's server flight, so the
    # capture begins with the client's second flight of connection 1.
    first_client_flight = next(i for i, p in enumerate(cut) if p.ports[1] == server_port and p.payload
                               and i > 3 and p.payload[0] == 22 and p.payload[5] != 1)
    (out / "ladder-tls12-midstream.pcap").write_bytes(pcap_bytes(records_of(cut[first_client_flight:]), link))


def truncated(source: Path, server_port: int, target: Path) -> None:
    """``source`` (a re-cut capture) up to the frame of the server's third data segment, the
    file ending inside that frame: a capture whose last packet was cut short. Made by the
    tests at run time (tshark, the readers' oracle, refuses such a file)."""
    link, records = read_pcap(source)
    pkts = packets(records)
    server_data = [i for i, p in enumerate(pkts) if p.ports[0] == server_port and p.payload]
    keep = records[: server_data[2] + 1]
    blob = pcap_bytes(keep, link)
    target.write_bytes(blob[: len(blob) - len(keep[-1].data) // 2])


def regenerate(out: Path, work: Path) -> List[Path]:
    pki = make_pki(work, chain_length=3)
    made = []
    jobs: List[Tuple[str, Callable[[Path], None]]] = [
        ("ladder-tls12-clientauth.pcap", lambda p: record_clientauth(p, pki, "1.2")),
        ("ladder-tls13-clientauth.pcap", lambda p: record_clientauth(p, pki, "1.3")),
        ("ladder-tls12-renegotiation.pcap", lambda p: record_apache(p, pki, "1.2")),
        ("ladder-tls13-pha.pcap", lambda p: record_apache(p, pki, "1.3")),
        ("ladder-tls12-resumption.pcap", lambda p: record_resumption(p, pki)),
        ("ladder-failures.pcap", lambda p: record_failures(p, pki)),
        ("ladder-tls13-hrr.pcap", lambda p: record_hrr(p, pki)),
        ("ladder-mixed.pcap", lambda p: record_mixed(p, pki)),
    ]
    for name, job in jobs:
        job(out / name)
        made.append(out / name)
    link, records = read_pcap(out / "ladder-tls12-clientauth.pcap")
    port = packets(records)[0].ports[1]  # the first SYN's destination: the optional-request server
    derive(out / "ladder-tls12-clientauth.pcap", out, port)
    made += [out / f"ladder-tls12-{n}.pcap" for n in ("1500", "reordered", "midstream")]
    for pcap in made:
        for fmt, suffix in FORMATS:
            editcap(pcap, pcap.with_name(pcap.name[: -len(".pcap")] + suffix), fmt)
    return made


DEMO = HERE.parent.parent / "lib" / "tlsmon" / "data" / "demo.pcapng"


def make_demo(captures: Path, target: Path) -> None:
    """The capture ``make demo`` shows: client certificates asked for and answered (1500-byte
    frames), asked for only by renegotiation (apache), and a TLS 1.3 refusal (connection 3)."""
    with tempfile.TemporaryDirectory() as tmp:
        tls13 = Path(tmp) / "tls13.pcap"
        third = [i for i, p in enumerate(packets(read_pcap(captures / "ladder-tls13-clientauth.pcap")[1]))
                 if p.flags & 0x02 and not p.flags & 0x10]
        link, records = read_pcap(captures / "ladder-tls13-clientauth.pcap")
        tls13.write_bytes(pcap_bytes(records[third[2] : third[3]], link))
        subprocess.run(["mergecap", "-F", "pcapng", "-w", str(target), str(captures / "ladder-tls12-1500.pcap"),
                        str(captures / "ladder-tls12-renegotiation.pcap"), str(tls13)], check=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="record and overwrite the committed captures")
    parser.add_argument("--out", type=Path, default=DATA, help=f"target directory (default {DATA})")
    args = parser.parse_args(argv)
    if not args.regenerate:
        parser.error("refusing to overwrite the committed captures without --regenerate")
    for tool in ("tcpdump", "editcap", "mergecap", "openssl"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} not found")
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)
        regenerate(Path(tmp), Path(work))
        args.out.mkdir(parents=True, exist_ok=True)
        for made in sorted(Path(tmp).iterdir()):
            shutil.copyfile(made, args.out / made.name)
            print(f"{made.stat().st_size:7d}  {args.out / made.name}")
        if args.out == DATA:
            make_demo(DATA, DEMO)
            print(f"{DEMO.stat().st_size:7d}  {DEMO}")
    return 0


def iter_tcp(records: Sequence[Record]) -> Iterator[Packet]:
    for r in records:
        p = parse_frame(r.time_ns, r.data)
        if p is not None:
            yield p


if __name__ == "__main__":
    sys.exit(main())
