#!/usr/bin/env python3
"""The version and cipher matrix of ``check_tls_handshake`` against a loopback nginx, side by side.

The peers do the same enumeration against the same server, when they are installed:

- ``sslscan`` (Debian package): once restricted to the same enumeration (no certificate,
  Heartbleed, compression, renegotiation, groups or fallback checks), once as it runs by default;
- ``sslyze`` (PyPI; ``$SSLYZE`` or on PATH): the six protocol version scan commands, which
  enumerate the suites of each version;
- ``testssl.sh -p`` (Debian package ``testssl.sh``): the protocol versions only (its cipher
  enumeration takes minutes).

Before any timing, every peer's answer (the accepted versions, and the accepted suites of each
version by IANA name) is compared with tlsmon's: a peer that disagrees is reported as such.
Timings: tlsmon's scan in-process (``tlsmon.sources.scan.scan``, warm: what the matrix itself
costs), and every command as a child process (wall, and CPU = user + sys of the child and its
children, from wait4); rounds rotate the order; medians.

The server: nginx (private instance, tests/peers/nginx.py) with TLS 1.2 + 1.3, its default
``ssl_ciphers`` (HIGH:!aNULL:!MD5), an RSA 2048 leaf + 1 intermediate, ``worker_processes auto``.
Only 127.0.0.1; every process started here is stopped by its pid.

Usage: ``.venv/bin/python bench/handshake_bench.py [--rounds N] [--testssl-rounds N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the nginx peer and the test PKI

from peers.nginx import NginxServer  # noqa: E402
from peers.pki import make_server_identity  # noqa: E402
from tlsmon.codec.constants import CipherSuite, describe  # noqa: E402
from tlsmon.sources.probe import ProbeTarget  # noqa: E402
from tlsmon.sources.scan import ScanOptions, scan  # noqa: E402

PLUGIN = ROOT / "plugins" / "check_tls_handshake"
VERSION_MATRIX_TARGET_S = 0.100
Matrix = dict[str, set[str]]  # "TLS1.2" -> IANA suite names ({} for a version without enumeration)
_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLS1.0", 0x0302: "TLS1.1", 0x0303: "TLS1.2", 0x0304: "TLS1.3"}


@dataclass
class Timed:
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Optional[float]]:
        return {"wall_s": statistics.median(self.wall_s) if self.wall_s else None,
                "cpu_s": statistics.median(self.cpu_s) if self.cpu_s else None,
                "best_wall_s": min(self.wall_s) if self.wall_s else None, "runs": len(self.wall_s)}


@dataclass
class Peer:
    """A command doing the enumeration, and how to read its answer."""

    name: str
    argv: list[str]
    read: Callable[[subprocess.CompletedProcess, Path], Matrix]
    versions_only: bool = False
    rounds: Optional[int] = None
    timed: Timed = field(default_factory=Timed)
    answer: Optional[Matrix] = None
    agrees: Optional[bool] = None
    note: str = ""


def timed_child(argv: Sequence[str], timeout_s: float = 300.0) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``argv``: (result, wall seconds, CPU seconds of the child and its waited-for children).

    CPU is the difference of RUSAGE_CHILDREN around the run: this process runs one child at a time.
    """
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()  # by its pid
        out, err = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = subprocess.CompletedProcess(list(argv), proc.returncode, out.decode(errors="replace"),
                                         err.decode(errors="replace"))
    return result, wall, cpu


# --- reading each tool's answer -----------------------------------------------------------------------


def read_tlsmon(proc: subprocess.CompletedProcess, _out: Path) -> Matrix:
    doc = json.loads(proc.stdout)
    return {v["version"]: {s["name"] for s in v["suites"]} if v["enumerated"] else set()
            for v in doc["facts"]["matrix"]["versions"] if v["accepted"]}


def read_sslscan(proc: subprocess.CompletedProcess, _out: Path) -> Matrix:
    root = ET.fromstring(proc.stdout[proc.stdout.index("<?xml"):])
    names = {"TLSv1.0": "TLS1.0", "TLSv1.1": "TLS1.1", "TLSv1.2": "TLS1.2", "TLSv1.3": "TLS1.3", "SSLv3": "SSLv3"}
    out: Matrix = {}
    for p in root.iter("protocol"):
        if p.get("enabled") == "1" and p.get("type") in ("ssl", "tls"):
            key = ("SSLv3" if p.get("version") == "3" else f"TLS{p.get('version')}")
            out.setdefault(key, set())
    for c in root.iter("cipher"):
        version = names.get(c.get("sslversion", ""), c.get("sslversion", ""))
        out.setdefault(version, set()).add(describe(CipherSuite, int(c.get("id", "0"), 16)))
    return out


def read_sslyze(_proc: subprocess.CompletedProcess, out: Path) -> Matrix:
    doc = json.loads(out.read_text())
    keys = {"ssl_3_0_cipher_suites": "SSLv3", "tls_1_0_cipher_suites": "TLS1.0", "tls_1_1_cipher_suites": "TLS1.1",
            "tls_1_2_cipher_suites": "TLS1.2", "tls_1_3_cipher_suites": "TLS1.3"}
    result = doc["server_scan_results"][0]["scan_result"]
    matrix: Matrix = {}
    for key, version in keys.items():
        accepted = (result.get(key) or {}).get("result", {}).get("accepted_cipher_suites", [])
        if accepted:
            matrix[version] = {a["cipher_suite"]["name"] for a in accepted}
    return matrix


def read_testssl(_proc: subprocess.CompletedProcess, out: Path) -> Matrix:
    ids = {"SSLv3": "SSLv3", "TLS1": "TLS1.0", "TLS1_1": "TLS1.1", "TLS1_2": "TLS1.2", "TLS1_3": "TLS1.3"}
    return {ids[f["id"]]: set() for f in json.loads(out.read_text())
            if f.get("id") in ids and f.get("finding", "").startswith("offered")}


def agree(ours: Matrix, theirs: Matrix, versions_only: bool) -> bool:
    if versions_only:
        return set(ours) == set(theirs)
    return ours == theirs


# --- the benchmark --------------------------------------------------------------------------------------


def peers(port: int, work: Path, testssl_rounds: int) -> list[Peer]:
    out = []
    py = sys.executable
    base = [py, str(PLUGIN), "-H", "127.0.0.1", "-p", str(port), "--sni", "localhost", "--no-verify",
            "--output", "json"]
    out.append(Peer("check_tls_handshake --matrix full", [*base, "--matrix", "full"], read_tlsmon))
    out.append(Peer("check_tls_handshake --matrix versions", [*base, "--matrix", "versions"], read_tlsmon,
                    versions_only=True))
    sslscan = shutil.which("sslscan")
    if sslscan:
        common = [sslscan, "--no-colour", "--show-cipher-ids", "--sni-name=localhost", "--xml=-"]
        out.append(Peer("sslscan (same enumeration)", [*common, "--no-check-certificate", "--no-heartbleed",
                        "--no-compression", "--no-renegotiation", "--no-groups", "--no-fallback",
                        f"127.0.0.1:{port}"], read_sslscan))
        out.append(Peer("sslscan (default)", [*common, f"127.0.0.1:{port}"], read_sslscan))
    sslyze = os.environ.get("SSLYZE") or shutil.which("sslyze")
    if sslyze:
        out.append(Peer("sslyze (all versions)", [sslyze, "--quiet", f"--json_out={work / 'sslyze.json'}", "--sslv3",
                        "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", f"localhost:{port}{{127.0.0.1}}"],
                        lambda p, _o: read_sslyze(p, work / "sslyze.json")))
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if testssl and testssl_rounds > 0:
        json_file = work / "testssl.json"
        out.append(Peer("testssl.sh -p", ["sh", "-c", f'rm -f "{json_file}"; exec "$0" "$@"', testssl, "--quiet",
                        "--color", "0", "-p", "--jsonfile", str(json_file), f"127.0.0.1:{port}"],
                        lambda p, _o: read_testssl(p, json_file), versions_only=True, rounds=testssl_rounds))
    return out


def in_process(port: int, rounds: int) -> dict[str, Any]:
    target = ProbeTarget("127.0.0.1", port)
    results: dict[str, Any] = {}
    for name, enumerate_ciphers in (("versions", False), ("full", True)):
        # As the plugin scans a server whose TCP connect takes under 1 ms: no list splitting.
        opts = ScanOptions(server_name="localhost", enumerate_ciphers=enumerate_ciphers, check_stapling=False,
                           split_above=None)
        scan(target, opts, timeout_s=10)  # warm-up: imports, first connections
        walls, probes = [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            r = scan(target, opts, timeout_s=10)
            walls.append(time.perf_counter() - start)
            probes = r.probes
        results[name] = {"wall_s": statistics.median(walls), "best_wall_s": min(walls), "probes": probes,
                         "runs": rounds, "answer": {_VERSIONS[v.version]: {describe(CipherSuite, s) for s in v.suites}
                                                    if v.enumerated else set() for v in r.versions if v.accepted}}
    return results


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--rounds", type=int, default=7, help="rounds of each command (default 7)")
    p.add_argument("--testssl-rounds", type=int, default=2, help="rounds of testssl.sh -p (slow; default 2)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="tlsmon-hsbench-"))
    server: Optional[NginxServer] = None
    try:
        identity = make_server_identity(work, key_type="rsa", chain_length=2)
        server = NginxServer(identity, directory=work / "nginx", workers="auto", protocols="TLSv1.2 TLSv1.3")
        report = bench(server.port, work, args)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=sorted) + "\n")
    return 0


def bench(port: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(),
                              "python": sys.version.split()[0],
                              "server": "nginx TLS1.2+TLS1.3, default ssl_ciphers, RSA 2048 + 1 intermediate"}
    report["nginx"] = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    all_peers = peers(port, work, args.testssl_rounds)
    reference: Optional[Matrix] = None
    for peer in all_peers:  # answers first, once each
        proc, _, _ = timed_child(peer.argv)
        try:
            peer.answer = peer.read(proc, work)
        except (ValueError, KeyError, OSError, ET.ParseError, IndexError) as exc:
            peer.note = f"no answer ({type(exc).__name__}: {exc}; exit {proc.returncode})"
            continue
        if reference is None:
            reference = peer.answer
        peer.agrees = agree(reference, peer.answer, peer.versions_only)
    for i in range(max(args.rounds, args.testssl_rounds)):
        order = all_peers[i % len(all_peers):] + all_peers[:i % len(all_peers)]
        for peer in order:
            if peer.answer is None or i >= (peer.rounds or args.rounds):
                continue
            _, wall, cpu = timed_child(peer.argv)
            peer.timed.wall_s.append(wall)
            peer.timed.cpu_s.append(cpu)
    report["in_process"] = in_process(port, args.rounds)
    for mode, versions_only in (("versions", True), ("full", False)):
        answer = report["in_process"][mode].pop("answer")
        report["in_process"][mode]["agrees"] = reference is not None and agree(reference, answer, versions_only)
    report["reference"] = {k: sorted(v) for k, v in (reference or {}).items()}
    report["commands"] = [{"name": peer.name, "argv": peer.argv, **peer.timed.summary(), "agrees": peer.agrees,
                           "versions_only": peer.versions_only, "note": peer.note,
                           "answer": {k: len(v) for k, v in (peer.answer or {}).items()}} for peer in all_peers]
    ours = next(c for c in report["commands"] if c["name"] == "check_tls_handshake --matrix full")
    others = [c for c in report["commands"] if c["name"].startswith(("sslscan", "sslyze")) and c["wall_s"]]
    report["targets"] = {
        "version_matrix_in_process_le_0.1s": report["in_process"]["versions"]["wall_s"] <= VERSION_MATRIX_TARGET_S,
        "full_matrix_faster_than": {c["name"]: bool(ours["wall_s"] and ours["wall_s"] < c["wall_s"]) for c in others},
        "same_answers": all(c["agrees"] for c in report["commands"] if c["agrees"] is not None)
        and all(m["agrees"] for m in report["in_process"].values()),
    }
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"{report['date']}, {report['cores']} cores, Python {report['python']}, {report['nginx']}: "
          f"{report['server']}")
    print("reference answer (check_tls_handshake --matrix full): "
          + "; ".join(f"{k} {len(v)} suites" for k, v in report["reference"].items()))
    ip = report["in_process"]
    print(f"in-process scan: version matrix {ip['versions']['wall_s'] * 1000:.1f} ms median "
          f"({ip['versions']['probes']} probes, same answer: {ip['versions']['agrees']}), versions + suites "
          f"{ip['full']['wall_s'] * 1000:.1f} ms ({ip['full']['probes']} probes, same answer: {ip['full']['agrees']})")
    print(f"{'command':40} {'wall':>9} {'CPU':>9} {'best':>9}  runs  same answer")
    for c in report["commands"]:
        if c["wall_s"] is None:
            print(f"{c['name']:40} {'-':>9} {'-':>9} {'-':>9}  {c['runs']:>4}  {c['note']}")
            continue
        same = {True: "yes", False: "NO", None: "?"}[c["agrees"]] + (" (versions)" if c["versions_only"] else "")
        print(f"{c['name']:40} {c['wall_s']:8.3f}s {c['cpu_s']:8.3f}s {c['best_wall_s']:8.3f}s  {c['runs']:>4}  {same}")
    print(f"targets: {json.dumps(report['targets'])}")


if __name__ == "__main__":
    raise SystemExit(main())
