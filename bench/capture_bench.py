#!/usr/bin/env python3
"""Capture engine benchmark: tlsmon's capture engine side by side with tshark on one large capture.

    .venv/bin/python bench/capture_bench.py [--handshakes 20000] [--bulk-mb 400] [--repeat 3] [--keep FILE]
                                            [--json FILE]

1. Generate a capture: real TLS handshakes made in this process by OpenSSL (Python ``ssl``
   over memory BIOs: TLS 1.2 with and without a CertificateRequest, answered empty or refused
   with an alert, TLS 1.3, a few resumed) played out on distinct 4-tuples, interleaved as
   concurrent clients would, with bulk transfers (16 KiB application-data records) mixed
   in, cut into ordinary 1500-byte Ethernet frames (MSS 1448, so that server flights span
   several segments), the receiver acknowledging every second segment, SYN and FIN
   included. The TLS bytes are real; only the TCP/IP framing is written here.
2. Run the engine (``read_connections``: reader, decoder, reassembly, codec) in a child
   process, and tshark extracting the same facts (``-T fields``: handshake types, alerts,
   per stream; ``-d tcp.port==P,tls`` for every server port) in another, and ``tlsmon ladder
   --json`` as a user runs it. Packets/s, MB/s and peak RSS of each. ``--repeat`` rounds,
   one of each contender per round (the machine is noisy): each one's best round counts,
   and the engine's ratio in every round is listed too. The engine and the CLI also run on
   Debian's own /usr/bin/python3 when that is another interpreter (it is what the .deb
   runs, built with PGO and LTO; a pyenv or venv build without them is slower).
3. Compare the per-connection answers: handshake message types per direction, alerts,
   CertificateRequest present, for every connection.

Targets (issue): >= 5x tshark's packets/s, the same answers, peak RSS <= 64 MiB and not
growing with the file (checked by running a half-size file too).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

MSS = 1448
SERVER_PORTS = (443, 8443, 4433, 9443, 10443)
Flight = Tuple[int, bytes]  # (0 client->server | 1 server->client, bytes)


# -- TLS transcripts, made by OpenSSL in memory ---------------------------------------------------------


def _drain(bio: ssl.MemoryBIO) -> bytes:
    return bio.read() if bio.pending else b""


def transcript(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, *, request: bytes = b"GET / HTTP/1.1\r\n\r\n",
               response: int = 1200, session: Optional[ssl.SSLSession] = None) -> Tuple[List[Flight], Any]:
    """The flights of one connection (handshake, request, response, close_notify), and its session."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname="localhost", session=session)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    flights: List[Flight] = []

    def move(side: int) -> bool:
        data = _drain(c_out if side == 0 else s_out)
        if data:
            flights.append((side, data))
            (s_in if side == 0 else c_in).write(data)
        return bool(data)

    c_done = s_done = failed = False
    for _ in range(20):
        if not c_done:
            try:
                client.do_handshake()
                c_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                failed = True
        move(0)
        if not s_done:
            try:
                server.do_handshake()
                s_done = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError:
                failed = True
        move(1)
        if failed or (c_done and s_done and not c_out.pending and not s_out.pending):
            break
    if failed or not (c_done and s_done):
        move(0)
        move(1)
        return flights, None
    try:
        client.write(request)
        move(0)
        server.read(65536)
        data = os.urandom(response)
        for i in range(0, len(data), 16384):
            server.write(data[i : i + 16384])
        move(1)
        while True:
            try:
                if not client.read(65536):
                    break
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                break
        move(0)  # TLS 1.3: nothing; a client may answer a late request
        try:
            client.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        move(0)
        try:
            server.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass
        move(1)
    except ssl.SSLError:
        move(0)
        move(1)
        return flights, None
    return flights, client.session


def templates(work: Path, bulk_bytes: int) -> Tuple[List[Tuple[str, List[Flight]]], List[Flight]]:
    """A few dozen distinct real transcripts of the kinds a server sees, and one bulk transfer."""
    import datetime

    from pki import make_chain

    now = datetime.datetime.now(datetime.timezone.utc)
    chain = make_chain(work / "server", 1, now)
    client_ca = make_chain(work / "clientca", 0, now)

    def server(version: ssl.TLSVersion, verify: ssl.VerifyMode) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ctx.maximum_version = version
        ctx.load_cert_chain(chain.full_chain_pem, chain.key_pem)
        if verify != ssl.CERT_NONE:
            ctx.verify_mode = verify
            ctx.load_verify_locations(client_ca.root_pem)
        return ctx

    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(chain.root_pem)
    kinds = [
        ("tls12", server(ssl.TLSVersion.TLSv1_2, ssl.CERT_NONE)),
        ("tls12-request", server(ssl.TLSVersion.TLSv1_2, ssl.CERT_OPTIONAL)),
        ("tls12-required", server(ssl.TLSVersion.TLSv1_2, ssl.CERT_REQUIRED)),
        ("tls13", server(ssl.TLSVersion.TLSv1_3, ssl.CERT_NONE)),
        ("tls13-request", server(ssl.TLSVersion.TLSv1_3, ssl.CERT_OPTIONAL)),
    ]
    out: List[Tuple[str, List[Flight]]] = []
    for name, ctx in kinds:
        for _ in range(8):
            flights, session = transcript(ctx, client, response=random.randint(300, 6000))
            out.append((name, flights))
            if name == "tls12" and session is not None:
                resumed, _ = transcript(ctx, client, session=session)
                out.append(("tls12-resumed", resumed))
    bulk, _ = transcript(kinds[0][1], client, response=bulk_bytes)
    return out, bulk


# -- TCP/IP framing -------------------------------------------------------------------------------------


class Conn:
    """One connection being played out: its flights, sequence numbers and pending packets."""

    def __init__(self, cip: bytes, cport: int, sip: bytes, sport: int, flights: List[Flight]) -> None:
        self.ends = ((cip, cport), (sip, sport))
        self.seq = [random.getrandbits(32), random.getrandbits(32)]
        self.flights = flights
        self.step = 0


_ETH = b"\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x01\x08\x00"


def _frame(src: Tuple[bytes, int], dst: Tuple[bytes, int], seq: int, ack: int, flags: int, payload: bytes) -> bytes:
    total = 40 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src[0], dst[0])
    tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0)
    return _ETH + ip + tcp + payload


def play(conn: Conn) -> Iterator[List[bytes]]:
    """The connection's packets, one burst (a flight and its ACKs) per step."""
    c, s = conn.ends
    seq = conn.seq
    yield [_frame(c, s, seq[0], 0, 0x02, b""), _frame(s, c, seq[1], seq[0] + 1, 0x12, b""),
           _frame(c, s, seq[0] + 1, seq[1] + 1, 0x10, b"")]
    seq[0] += 1
    seq[1] += 1
    for side, data in conn.flights:
        src, dst = (c, s) if side == 0 else (s, c)
        burst = []
        for k, i in enumerate(range(0, len(data), MSS)):
            piece = data[i : i + MSS]
            burst.append(_frame(src, dst, seq[side], seq[1 - side], 0x18, piece))
            seq[side] += len(piece)
            if k % 2 == 1:
                burst.append(_frame(dst, src, seq[1 - side], seq[side], 0x10, b""))
        burst.append(_frame(dst, src, seq[1 - side], seq[side], 0x10, b""))
        yield burst
    yield [_frame(c, s, seq[0], seq[1], 0x11, b""), _frame(s, c, seq[1], seq[0] + 1, 0x11, b""),
           _frame(c, s, seq[0] + 1, seq[1] + 1, 0x10, b"")]


def generate(path: Path, handshakes: int, bulk_mb: float, seed: int = 1, concurrency: int = 64) -> Dict[str, Any]:
    """Write the capture; returns what is in it."""
    random.seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        shapes, bulk = templates(Path(tmp), 1 << 20)
    n_bulk = max(1, int(bulk_mb)) if bulk_mb > 0 else 0
    plan: List[List[Flight]] = [random.choice(shapes)[1] for _ in range(handshakes)]
    for _ in range(n_bulk):  # 1 MiB each, spread through the file
        plan.insert(random.randrange(len(plan) + 1), bulk)
    packets = 0
    size = 24
    t = 1_700_000_000.0
    active: List[Iterator[List[bytes]]] = []
    next_conn = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while active or next_conn < len(plan):
            while len(active) < concurrency and next_conn < len(plan):
                k = next_conn
                cip = socket.inet_aton(f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255 or 1}")
                sip = socket.inet_aton(f"192.0.2.{1 + k % 5}")
                conn = Conn(cip, 1024 + (k * 7919) % 60000, sip, SERVER_PORTS[k % len(SERVER_PORTS)], plan[k])
                active.append(play(conn))
                next_conn += 1
            i = random.randrange(len(active))
            try:
                burst = next(active[i])
            except StopIteration:
                active[i] = active[-1]
                active.pop()
                continue
            for frame in burst:
                t += 0.00002
                sec = int(t)
                f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
                f.write(frame)
                packets += 1
                size += 16 + len(frame)
    return {"packets": packets, "bytes": size, "handshakes": handshakes, "bulk_transfers": n_bulk,
            "bulk_mib_each": 1}


# -- the two contenders -----------------------------------------------------------------------------------


def engine_child(path: str, out: str) -> None:
    """In a child: read the capture with the engine, write one JSON line of answers per connection."""
    import gc

    from tlsmon.sources.passive import read_connections

    gc.disable()  # as the tlsmon console script runs (tlsmon.cli.main:console)
    t0 = time.perf_counter()
    n = 0
    with open(out, "w") as f:
        for obs in read_connections(path):
            c2s, s2c = [], []
            for step in obs.steps:
                for t in step.handshake_types:
                    if t is not None:
                        (c2s if step.direction == "C->S" else s2c).append(t)
            alerts = sorted({(a.direction, a.description) for a in obs.alerts if a.description is not None})
            f.write(json.dumps([f"{obs.client.host}:{obs.client.port}", f"{obs.server.host}:{obs.server.port}",
                                c2s, s2c, [list(a) for a in alerts], 13 in s2c]) + "\n")
            n += 1
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": elapsed, "connections": n, "rss_mib": _peak_rss_mib()}))


def _peak_rss_mib() -> float:
    """This process's own peak RSS. Not getrusage: after fork and exec, ru_maxrss starts from
    the parent's RSS at the fork (Linux keeps the old address space's high-water mark)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measured(cmd: List[str], stdout: Any = subprocess.DEVNULL) -> Tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command, through a small launcher that waits for it
    alone (so that the RSS is the command's, not this process's, which a forked child starts from)."""
    launcher = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
                "subprocess.run(sys.argv[1:], check=True, stdout=sys.stdout, stderr=subprocess.DEVNULL); "
                "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
                "file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", launcher, *cmd], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, check=True)
    seconds, rss_kib = done.stderr.split()[-2:]
    return float(seconds), int(rss_kib) / 1024


def run_engine(path: Path, python: str = sys.executable) -> Tuple[Dict[str, Any], Dict[Tuple[str, str], Any]]:
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out:
        code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import capture_bench; " \
               f"capture_bench.engine_child({str(path)!r}, {out.name!r})"
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        answers = {}
        for line in out:
            client, server, c2s, s2c, alerts, req = json.loads(line)
            answers[(client, server)] = (tuple(c2s), tuple(s2c), tuple(tuple(a) for a in alerts), req)
    return result, answers


def run_cli(path: Path, python: str = sys.executable) -> Dict[str, Any]:
    """``tlsmon ladder FILE --json`` end to end, as a user runs it (output to /dev/null): the
    venv's console script, or the same entry point under another interpreter."""
    if python == sys.executable:
        cmd = [str(Path(sys.executable).parent / "tlsmon")]
    else:
        cmd = [python, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'lib')!r}); "
                             "from tlsmon.cli.main import console; console()"]
    seconds, rss = _measured([*cmd, "ladder", str(path), "--json"])
    return {"seconds": seconds, "rss_mib": rss}


DEBIAN_PYTHON = "/usr/bin/python3"


def debian_python() -> Optional[str]:
    """Debian's own python3 (what the .deb runs; built with PGO and LTO), when it is not the one
    running this and can run the engine."""
    if not os.path.exists(DEBIAN_PYTHON) or os.path.realpath(DEBIAN_PYTHON) == os.path.realpath(sys.executable):
        return None
    probe = subprocess.run([DEBIAN_PYTHON, "-c", f"import sys; sys.path.insert(0, {str(ROOT / 'lib')!r}); "
                                                 "import tlsmon.sources.passive, tlsmon.cli.main"],
                           capture_output=True)
    return DEBIAN_PYTHON if probe.returncode == 0 else None


def run_tshark(path: Path) -> Tuple[Dict[str, Any], Dict[Tuple[str, str], Any]]:
    args = ["tshark", "-r", str(path), "-o", "tcp.reassemble_out_of_order:TRUE", "-T", "fields",
            "-E", "separator=/t", "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst",
            "-e", "tcp.dstport", "-e", "tls.handshake.type", "-e", "tls.alert_message.desc", "-Y", "tls"]
    for port in SERVER_PORTS:
        args[3:3] = ["-d", f"tcp.port=={port},tls"]
    with tempfile.TemporaryFile("w+") as out:
        seconds, rss = _measured(args, stdout=out)
        out.seek(0)
        streams: Dict[str, Any] = {}
        for line in out:
            stream, src, sport, dst, dport, types, alerts = line.rstrip("\n").split("\t")
            if stream not in streams:
                client, server = (f"{src}:{sport}", f"{dst}:{dport}") if int(dport) in SERVER_PORTS else \
                    (f"{dst}:{dport}", f"{src}:{sport}")
                streams[stream] = [client, server, [], [], set()]
            entry = streams[stream]
            to_server = f"{dst}:{dport}" == entry[1]
            if types:
                (entry[2] if to_server else entry[3]).extend(int(t) for t in types.split(","))
            if alerts:
                for a in alerts.split(","):
                    entry[4].add(("C->S" if to_server else "S->C", int(a)))
    answers = {(e[0], e[1]): (tuple(e[2]), tuple(e[3]), tuple(sorted(e[4])), 13 in e[3]) for e in streams.values()}
    return {"seconds": seconds, "rss_mib": rss, "connections": len(answers)}, answers


def compare(ours: Dict[Tuple[str, str], Any], theirs: Dict[Tuple[str, str], Any]) -> Dict[str, Any]:
    keys = set(ours) | set(theirs)
    diff = [k for k in sorted(keys) if ours.get(k) != theirs.get(k)]
    requests_theirs = sum(1 for v in theirs.values() if v[3])
    requests_ours = sum(1 for k, v in ours.items() if v[3] and theirs.get(k, (0, 0, 0, False))[3])
    return {"connections_tshark": len(theirs), "connections_engine": len(ours), "different": len(diff),
            "examples": [(k, ours.get(k), theirs.get(k)) for k in diff[:3]],
            "certificate_requests_tshark": requests_theirs, "certificate_requests_found": requests_ours}


def _rates(result: Dict[str, Any], packets: int, size: int) -> Dict[str, Any]:
    seconds = result["seconds"]
    return {**result, "packets_per_s": round(packets / seconds), "mb_per_s": round(size / 1e6 / seconds, 1)}


def _line(name: str, r: Dict[str, Any]) -> str:
    return (f"{name:<38} {r['seconds']:7.2f} s {r['packets_per_s']:>10,} packets/s {r['mb_per_s']:7.1f} MB/s "
            f"peak RSS {r['rss_mib']:7.1f} MiB")


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--handshakes", type=int, default=20_000)
    p.add_argument("--bulk-mb", type=float, default=400, help="MiB of bulk transfers (1 MiB connections)")
    p.add_argument("--keep", type=Path, help="write the capture here (and reuse it if it exists)")
    p.add_argument("--no-tshark", action="store_true")
    p.add_argument("--no-growth", action="store_true", help="skip the half-size run (RSS must not grow)")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--repeat", type=int, default=3, help="rounds (each contender's best round counts)")
    p.add_argument("--no-debian", action="store_true", help="do not also run on Debian's /usr/bin/python3")
    args = p.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    path = args.keep or Path(tmp.name) / "bench.pcap"
    results: Dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    if not path.exists():
        t0 = time.perf_counter()
        results["capture"] = generate(path, args.handshakes, args.bulk_mb)
        results["capture"]["generated_in_s"] = round(time.perf_counter() - t0, 1)
    size = path.stat().st_size
    packets = _count_packets(path)
    results.setdefault("capture", {}).update({"packets": packets, "bytes": size})
    # Rounds: each contender once per round, one after the other. The machine is noisy: each
    # contender's best round counts, and the engine's ratio in each round is listed too. The
    # engine and the CLI run on this interpreter and, where it is another, on Debian's python3.
    interpreters = [("", sys.executable)]
    deb = None if args.no_debian else debian_python()
    if deb is not None:
        interpreters.append((", Debian python3", deb))
        results["debian_python"] = subprocess.run([deb, "-c", "import sys; print(sys.version.split()[0])"],
                                                  capture_output=True, text=True).stdout.strip()
    rounds: List[Dict[str, Any]] = []
    ours: Dict[Tuple[str, str], Any] = {}
    theirs: Dict[Tuple[str, str], Any] = {}
    for k in range(args.repeat):
        entry: Dict[str, Any] = {}
        for label, python in interpreters:
            entry["engine" + label], answers = run_engine(path, python)
            if label and answers != ours:
                raise SystemExit(f"the engine's answers differ under {python}")
            ours = answers
            entry["cli" + label] = run_cli(path, python)
        if not args.no_tshark:
            entry["tshark"], theirs = run_tshark(path)
            for label, _ in interpreters:
                entry["speedup_engine" + label] = round(entry["tshark"]["seconds"] / entry["engine" + label]["seconds"],
                                                        2)
        rounds.append(entry)
        print(f"round {k + 1}: " + ", ".join(f"{name} {value['seconds']:.2f} s" for name, value in entry.items()
                                             if isinstance(value, dict))
              + "".join(f"; engine{label} {entry['speedup_engine' + label]}x" for label, _ in interpreters
                        if "speedup_engine" + label in entry))

    def best(name: str) -> Dict[str, Any]:
        return min((r[name] for r in rounds), key=lambda x: x["seconds"])

    results["rounds"] = rounds
    engine = best("engine")
    print(f"capture: {packets:,} packets, {size / 1e6:.1f} MB, {engine['connections']:,} TLS connections"
          f" (best of {args.repeat} rounds below)")
    for label, _ in interpreters:
        results["engine" + label] = _rates(best("engine" + label), packets, size)
        print(_line("engine" + label, results["engine" + label]))
        results["cli" + label] = _rates(best("cli" + label), packets, size)
        print(_line("tlsmon ladder --json" + label, results["cli" + label]))
    if not args.no_tshark:
        shark = best("tshark")
        results["tshark"] = _rates(shark, packets, size)
        print(_line("tshark -T fields", results["tshark"]))
        for label, _ in interpreters:
            results["speedup_engine" + label] = round(shark["seconds"] / results["engine" + label]["seconds"], 2)
            results["speedup_cli" + label] = round(shark["seconds"] / results["cli" + label]["seconds"], 2)
            results["speedup_engine_rounds" + label] = sorted(r["speedup_engine" + label] for r in rounds)
            print(f"speed-up over tshark{label} (best rounds): engine {results['speedup_engine' + label]}x, "
                  f"CLI {results['speedup_cli' + label]}x; engine per round: "
                  f"{results['speedup_engine_rounds' + label]}")
        results["answers"] = compare(ours, theirs)
        print(f"answers: {results['answers']}")
    if not args.no_growth:
        half = Path(tmp.name) / "half.pcap"
        generate(half, args.handshakes // 2, args.bulk_mb / 2, seed=2)
        small, _ = run_engine(half)
        results["engine_half_size_rss_mib"] = small["rss_mib"]
        print(f"peak RSS, half-size capture: {small['rss_mib']:.1f} MiB (full size: {engine['rss_mib']:.1f} MiB)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    tmp.cleanup()
    return 0


def _count_packets(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        f.read(24)
        while True:
            head = f.read(16)
            if len(head) < 16:
                return n
            f.seek(struct.unpack("<IIII", head)[2], 1)
            n += 1


if __name__ == "__main__":
    raise SystemExit(main())
