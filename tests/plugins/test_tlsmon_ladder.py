"""``tlsmon ladder`` as a user runs it: a subprocess on real captures, exit codes, no traceback."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT / "tests" / "data" / "captures"


def run(*args: str, timeout: float = 60, stdin: bytes = b"") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    proc = subprocess.run([sys.executable, "-m", "tlsmon.cli.main", *args], input=stdin, capture_output=True,
                          timeout=timeout, env=env, cwd="/")
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def run_measured(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess, float]:
    """``run``, and the command's peak RSS in MiB (measured by a small launcher that waits for it alone)."""
    launcher = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    proc = subprocess.run([sys.executable, "-c", launcher, sys.executable, "-m", "tlsmon.cli.main", *args],
                          capture_output=True, timeout=timeout, env=env, cwd="/")
    stderr = proc.stderr.decode()
    head, _, last = stderr.rstrip("\n").rpartition("\n")
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), head), int(last) / 1024


def assert_clean(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout and "Traceback" not in proc.stderr


def test_text_ladder_reads_like_network_monitor():
    proc = run("ladder", str(CAPTURES / "ladder-tls12-clientauth.pcap"))
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc)
    blocks = proc.stdout.split("\n\n")
    assert len(blocks) == 4
    empty = blocks[1].splitlines()
    assert empty[0].startswith("#2 127.0.0.1:") and " SNI=localhost, frames " in empty[0]
    assert empty[1].startswith("  1) C->S ClientHello (TLSv1.2 SNI=localhost)  [frame ")
    assert empty[2].startswith("  2) S->C ServerHello, Certificate, ServerKeyExchange, "
                               "CertificateRequest (CAs: CN=Client CA,O=Example), ServerHelloDone  [frame ")
    assert empty[3].startswith("  3) C->S Certificate (empty), ClientKeyExchange, ChangeCipherSpec, "
                               "Encrypted Handshake Message  [frame ")
    assert ", +0.00" in empty[1]
    assert any(line.startswith("  => completed: TLSv1.2 TLS_ECDHE_RSA_WITH_") for line in empty)
    assert any("client certificate requested (CAs: CN=Client CA,O=Example); the client sent an empty Certificate"
               in line for line in empty)
    refused = blocks[2]
    assert "S->C Alert (fatal handshake_failure(40))" in refused
    assert "=> alert: server sent fatal alert handshake_failure(40)" in refused


def test_frames_of_a_flight_cut_into_1500_byte_frames():
    proc = run("ladder", str(CAPTURES / "ladder-tls12-1500.pcap"))
    second = proc.stdout.splitlines()[2]
    assert second.startswith("  2) S->C ServerHello, Certificate") and "[frames 6-8, +" in second


def test_why_a_request_was_not_seen_is_said():
    reneg = run("ladder", str(CAPTURES / "ladder-tls12-renegotiation.pcap")).stdout
    assert "no client certificate request in the first handshake; an encrypted renegotiation followed" in reneg
    tls13 = run("ladder", str(CAPTURES / "ladder-tls13-clientauth.pcap")).stdout
    assert "client certificate request unseen: TLS 1.3 encrypts it (--keylog reads it)" in tls13
    resumed = run("ladder", str(CAPTURES / "ladder-tls12-resumption.pcap")).stdout
    assert "no client certificate request: a resumed (abbreviated) handshake has none" in resumed
    full = run("ladder", str(CAPTURES / "ladder-tls12-renegotiation.pcap")).stdout.split("\n\n")[2]
    assert "no client certificate request (full handshake)" in full


def test_json_is_the_documented_interface():
    proc = run("ladder", str(CAPTURES / "ladder-tls12-clientauth.pcap"), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc, list) and len(doc) == 4
    first = doc[0]
    for key in ("client", "server", "sni", "version", "outcome", "certificate_request", "client_certificate",
                "alerts", "renegotiation", "certificates", "steps"):
        assert key in first
    assert first["client"].startswith("127.0.0.1:") and first["server"].startswith("127.0.0.1:")
    assert first["sni"] == "localhost" and first["version"] == "TLSv1.2" and first["outcome"] == "completed"
    assert first["certificate_request"]["ca_names"] == ["CN=Client CA,O=Example"]
    assert first["client_certificate"] == "CN=client"
    assert doc[1]["client_certificate"] == "empty"
    assert first["renegotiation"] is False
    assert len(first["certificates"]) == 3
    assert set(first["certificates"][0]) >= {"subject", "issuer", "serial", "not_before", "not_after", "sha256"}
    step = first["steps"][0]
    assert step["direction"] == "C->S" and step["messages"] == ["ClientHello"]
    assert isinstance(step["frame"], int) and isinstance(step["time"], float)
    assert first["steps"][2]["messages"][-1] == "Encrypted Handshake Message"
    assert doc[2]["alerts"][0] == {"direction": "S->C", "level": "fatal", "description": "handshake_failure",
                                   "code": 40, "encrypted": False, "phase": "handshake",
                                   "after": "Encrypted Handshake Message", "frame": doc[2]["alerts"][0]["frame"],
                                   "time": doc[2]["alerts"][0]["time"]}
    tls13 = json.loads(run("ladder", str(CAPTURES / "ladder-tls13-clientauth.pcap"), "--json").stdout)
    assert {d["certificate_request"] for d in tls13} == {"unseen"}
    assert {d["client_certificate"] for d in tls13} == {"unseen"}
    plain = json.loads(run("ladder", str(CAPTURES / "ladder-tls12-renegotiation.pcap"), "--json").stdout)
    assert [d["renegotiation"] for d in plain] == [True, True, False]
    assert plain[2]["certificate_request"] is None and plain[2]["client_certificate"] is None


def test_keylog_decrypts():
    path = CAPTURES / "ladder-tls13-clientauth.pcap"
    proc = run("ladder", str(path), "--keylog", str(path.with_suffix(".keylog")), "--json")
    doc = json.loads(proc.stdout)
    assert [d["certificate_request"]["ca_names"] for d in doc] == [["CN=Client CA,O=Example"]] * 4
    assert [d["outcome"] for d in doc] == ["completed", "completed", "alert", "alert"]
    text = run("ladder", str(path), "--keylog", str(path.with_suffix(".keylog"))).stdout
    assert "{CertificateRequest} (CAs: CN=Client CA,O=Example)" in text


def test_server_filter():
    path = str(CAPTURES / "ladder-tls12-clientauth.pcap")
    doc = json.loads(run("ladder", path, "--json").stdout)
    port = doc[2]["server"].rsplit(":", 1)[1]
    only = json.loads(run("ladder", path, "--json", "--server", f"127.0.0.1:{port}").stdout)
    assert [d["outcome"] for d in only] == ["alert", "alert"]
    assert json.loads(run("ladder", path, "--json", "--server", "localhost").stdout) != []
    assert json.loads(run("ladder", path, "--json", "--server", "192.0.2.1").stdout) == []
    none = run("ladder", path, "--server", "192.0.2.1")
    assert none.returncode == 0 and none.stdout.startswith("no TLS connection in ")


def test_every_format_and_stdin_give_the_same_json():
    def strip(doc):
        for d in doc:
            for key in ("started_at", "ended_at", "duration"):
                d.pop(key)
            for s in d["steps"]:
                s.pop("time")
            for a in d["alerts"]:
                a.pop("time")
        return doc

    base = CAPTURES / "ladder-tls12-renegotiation"
    docs = [strip(json.loads(run("ladder", f"{base}{suffix}", "--json").stdout))
            for suffix in (".pcap", ".pcapng", ".netmon2.cap", ".netmon1.cap")]
    piped = run("ladder", "-", "--json", stdin=gzip.compress(Path(f"{base}.pcapng").read_bytes()))
    docs.append(strip(json.loads(piped.stdout)))
    assert all(d == docs[0] for d in docs[1:])


def test_packaged_demo_capture():
    proc = run("ladder", str(ROOT / "lib" / "tlsmon" / "data" / "demo.pcapng"))
    assert proc.returncode == 0 and proc.stdout.count("\n#") == 7
    assert_clean(proc)


# -- bad and hostile input ------------------------------------------------------------------------------------


def _pcap(records: list[bytes]) -> bytes:
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    return head + b"".join(struct.pack("<IIII", 1, 0, len(r), len(r)) + r for r in records)


@pytest.mark.parametrize("content, code", [
    (None, 3),  # missing file
    (b"", 3),  # empty
    (b"GET / HTTP/1.1\r\n\r\n", 3),  # not a capture
    (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1) + struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 10), 3),
    (b"\x0a\x0d\x0d\x0a" + struct.pack("<I", 8) + b"\x4d\x3c\x2b\x1a" + b"\x00" * 20, 3),  # block length 8
])
def test_unreadable_captures_are_one_line_and_exit_3(tmp_path, content, code):
    path = tmp_path / "bad.pcap"
    if content is not None:
        path.write_bytes(content)
    proc = run("ladder", str(path))
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert_clean(proc)
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("tlsmon: ")


def test_a_cut_capture_says_so(tmp_path):
    path = tmp_path / "cut.pcap"
    data = (CAPTURES / "ladder-tls12-clientauth.pcap").read_bytes()
    path.write_bytes(data[: len(data) // 2])
    proc = run("ladder", str(path))
    assert proc.returncode == 0 and proc.stdout.startswith("#1 ")
    assert proc.stderr.startswith("tlsmon: note: ") and "cut short" in proc.stderr


def test_a_capture_cut_anywhere_gives_a_partial_result(tmp_path):
    data = (CAPTURES / "ladder-tls12-clientauth.pcap").read_bytes()
    for cut in (30, 100, len(data) // 3, len(data) // 2, len(data) - 7):
        path = tmp_path / f"cut{cut}.pcap"
        path.write_bytes(data[:cut])
        proc = run("ladder", str(path), "--json")
        assert proc.returncode in (0, 3), proc.stderr
        assert_clean(proc)
        json.loads(proc.stdout)


def test_endless_zero_length_blocks_and_tiny_segments_end_in_bounded_time(tmp_path):
    # pcapng: a section header, an interface, then a long run of minimal (empty) blocks
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 1, 0, 0) + struct.pack("<I", 20)
    empty = struct.pack("<II", 0x0BAD, 12) + struct.pack("<I", 12)
    path = tmp_path / "blocks.pcapng"
    path.write_bytes(shb + idb + empty * 200_000)
    start = time.monotonic()
    proc = run("ladder", str(path), timeout=120)
    assert time.monotonic() - start < 60
    assert proc.returncode in (0, 3) and (proc.returncode == 3 or proc.stdout.startswith("no TLS connection"))
    assert_clean(proc)
    # a million one-byte TCP segments of one flow, all out of order, after a TLS record header
    head = b"\0" * 12 + b"\x08\x00" + struct.pack("!BBHHHBBH4s4s", 0x45, 0, 41, 0, 0, 64, 6, 0, b"\x0a\0\0\x01",
                                                  b"\x0a\0\0\x02")
    tcp = struct.Struct("!HHIIBBHHH")
    frames = [head + tcp.pack(1234, 443, 1000 + i, 0, 0x50, 0x18, 1000, 0, 0) + b"\x16"
              for i in range(1_000_000, 0, -1)]
    path = tmp_path / "tiny.pcap"
    path.write_bytes(_pcap(frames))
    del frames
    start = time.monotonic()
    proc, peak_mib = run_measured("ladder", str(path), "--json", timeout=120)
    assert time.monotonic() - start < 60
    assert proc.returncode == 0 and isinstance(json.loads(proc.stdout), list)
    assert peak_mib < 64, f"peak RSS {peak_mib:.1f} MiB"
    assert_clean(proc)


def test_usage_errors_exit_3():
    proc = run("ladder")
    assert proc.returncode == 3
    proc = run("ladder", str(CAPTURES / "ladder-mixed.pcap"), "--keylog", "/nonexistent/keys")
    assert proc.returncode == 3 and proc.stderr.startswith("tlsmon: error: cannot read key log")
    assert_clean(proc)
