"""check_tls_capture as a user runs it: a subprocess on real captures, exit codes, status line,
perfdata, no traceback.

Captures: the engine's committed ones (tests/data/captures/ladder-*), derived ones (a subset of
connections, timestamps moved), and one recorded here with tcpdump on loopback against Python ``ssl``
servers (a leaf that expires in 10 days, TLS 1.0, client-certificate requests answered with and
without a certificate, a refused client, TLS 1.3), so that every evaluation and every filter is
checked against traffic whose every connection we know. Plus stdin (a file, and tcpdump ``-w -``
piped in while handshakes happen) and a live capture on ``lo``.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Optional

import pytest

from peers.pki import ClientCA, ClientCert, make_server_identity
from peers.pyserver import PyTLSServer
from peers.tools import missing, require_tool

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "check_tls_capture"
CAPTURES = ROOT / "tests" / "data" / "captures"
sys.path.insert(0, str(ROOT / "tests" / "sources"))
from make_captures import Record, pcap_bytes, read_pcap  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
PERFDATA = re.compile(r"^[a-z][a-z0-9_]*=-?[0-9.]+(%|s|B)?(;[^;= ]*){0,4}$")


def run(*args: str, stdin: Optional[bytes] = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    proc = subprocess.run([sys.executable, str(PLUGIN), *args], input=stdin, capture_output=True, timeout=timeout,
                          env=env, cwd="/")
    out = subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert "Traceback" not in out.stdout + out.stderr, out.stdout + out.stderr
    return out


def first_line(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.splitlines()[0] if proc.stdout else ""


def perfdata(proc: subprocess.CompletedProcess) -> dict[str, str]:
    line = first_line(proc)
    assert " | " in line, line
    items = line.split(" | ", 1)[1].split()
    for item in items:
        assert PERFDATA.match(item), item
    return {i.split("=")[0]: i.split("=")[1] for i in items}


def facts(*args: str, stdin: Optional[bytes] = None) -> dict[str, Any]:
    proc = run(*args, "--output", "json", "-vv", stdin=stdin)
    report = json.loads(proc.stdout)
    report["facts"]["exit_code"] = proc.returncode
    return dict(report["facts"])


def state_of(proc: subprocess.CompletedProcess) -> str:
    return first_line(proc).split(" - ")[0].replace("TLS_CAPTURE ", "")


QUIET = ("-w", "0", "-c", "0", "--unseen", "ok")  # no expiry, no unseen warnings: one evaluation at a time


# -- a capture recorded here ---------------------------------------------------------------------------


class Recorded(NamedTuple):
    path: Path
    ports: dict[str, int]


class Tcpdump:
    """tcpdump on lo for the given ports, writing ``path`` (or stdout); stopped by its pid (SIGINT)."""

    def __init__(self, path: Optional[Path], ports: list[int], stdout: Any = subprocess.DEVNULL) -> None:
        expr = " or ".join(f"tcp port {p}" for p in ports)
        target = str(path) if path is not None else "-"
        cmd = ["tcpdump", "-i", "lo", "-w", target, "-U", "--immediate-mode", "-B", "32768", "-s", "0", expr]
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"tcpdump did not start: {line.strip()}")

    def stop(self) -> None:
        time.sleep(0.3)  # the last packets
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def need_capture() -> None:
    require_tool("tcpdump", "apt-get install tcpdump")
    if os.geteuid() != 0:
        missing("capturing on lo needs root (CI runs as root)")


def hello(port: int, sni: str, *, source: str = "127.0.0.1", version: Optional[ssl.TLSVersion] = None,
          cert: Optional[ClientCert] = None, legacy: bool = False) -> None:
    """One connection: handshake, a request, the answer, close. A refused handshake is fine too."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    if legacy:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if cert is not None:
        ctx.load_cert_chain(str(cert.cert_pem_path), str(cert.key_path))
    sock = socket.socket()
    sock.settimeout(5)
    try:
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        with ctx.wrap_socket(sock, server_hostname=sni) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\nHost: " + sni.encode() + b"\r\n\r\n")
            while tls.recv(4096):
                pass
    except (OSError, ssl.SSLError):
        pass
    finally:
        sock.close()
    time.sleep(0.05)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """Nine handshakes, each of a known kind (see the asserts in test_recorded_traffic_counted)."""
    need_capture()
    work = tmp_path_factory.mktemp("recorded")
    now = datetime.datetime.now(datetime.timezone.utc)
    expiring = make_server_identity(work, key_type="rsa", chain_length=2, hostname="alpha.example.org",
                                    not_after=now + datetime.timedelta(days=10))
    lasting = make_server_identity(work, key_type="ecdsa", chain_length=1, hostname="localhost")
    legacy_id = make_server_identity(work, key_type="rsa", chain_length=1, hostname="legacy.example.org")
    ca = ClientCA(work, "Client CA", "Example")
    cert = ca.issue_client_cert("client")
    servers = {
        "alpha": PyTLSServer(expiring, min_version=ssl.TLSVersion.TLSv1_2, max_version=ssl.TLSVersion.TLSv1_2),
        "legacy": PyTLSServer(legacy_id, min_version=ssl.TLSVersion.TLSv1, max_version=ssl.TLSVersion.TLSv1,
                              ciphers="DEFAULT:@SECLEVEL=0"),
        "mtls": PyTLSServer(lasting, max_version=ssl.TLSVersion.TLSv1_2, client_auth="optional",
                            client_ca_path=ca.pem_path),
        "tls13": PyTLSServer(lasting, min_version=ssl.TLSVersion.TLSv1_3),
        "required": PyTLSServer(lasting, max_version=ssl.TLSVersion.TLSv1_2, client_auth="required",
                                client_ca_path=ca.pem_path),
    }
    ports = {name: s.port for name, s in servers.items()}
    path = work / "recorded.pcap"
    try:
        capture = Tcpdump(path, list(ports.values()))
        try:
            hello(ports["alpha"], "alpha.example.org")
            hello(ports["alpha"], "alpha.example.org")
            hello(ports["alpha"], "www.alpha.example.org", source="127.0.0.2")
            hello(ports["legacy"], "legacy.example.org", version=ssl.TLSVersion.TLSv1, legacy=True)
            hello(ports["mtls"], "mtls.example.org", cert=cert)
            hello(ports["mtls"], "mtls.example.org", source="127.0.0.2")
            hello(ports["tls13"], "api.example.net")
            hello(ports["tls13"], "api.example.net")
            hello(ports["required"], "secure.example.org")
        finally:
            capture.stop()
    finally:
        for server in servers.values():
            server.stop()
    yield Recorded(path, ports)


def test_recorded_traffic_counted(recorded: Recorded) -> None:
    f = facts(str(recorded.path), *QUIET)
    c = f["counts"]
    assert (c["handshakes"], c["failed"], c["incomplete"], c["midstream"]) == (9, 1, 0, 0)
    assert (c["cert_requests"], c["cert_requests_unseen"], c["empty_client_certs"]) == (3, 2, 2)
    assert f["versions"] == {"TLSv1.0": 1, "TLSv1.2": 6, "TLSv1.3": 2}
    assert f["alerts"] == {"alert_handshake_failure": 1}
    assert f["failures"] == {"server alert handshake_failure(40)": 1}
    proc = run(str(recorded.path), *QUIET)
    assert proc.returncode == 0
    assert first_line(proc).startswith("TLS_CAPTURE OK - 9 handshakes (1 failed, 11.11%)")
    perf = perfdata(proc)
    assert [k for k in perf][:8] == ["handshakes", "failed", "failure_ratio", "incomplete", "cert_requests",
                                     "cert_requests_unseen", "empty_client_certs", "renegotiations"]
    assert perf["handshakes"] == "9;;;0" and perf["failure_ratio"] == "11.11%;;;0;100"
    assert perf["alert_handshake_failure"] == "1;;;0" and 9.9 < float(perf["min_days_left"].split(";")[0]) <= 10


# -- evaluations ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("option, value, state", [
    ("--failures-warning", "0", "WARNING"),
    ("--failures-critical", "0", "CRITICAL"),
    ("--failures-warning", "1", "OK"),
    ("--failures-warning", "10%", "WARNING"),
    ("--failures-critical", "10%", "CRITICAL"),
    ("--failures-warning", "12%", "OK"),
    ("--failures-critical", "@1:1", "CRITICAL"),  # Nagios range: alert inside 1..1
])
def test_failures_as_counts_and_ratios(recorded: Recorded, option: str, value: str, state: str) -> None:
    proc = run(str(recorded.path), *QUIET, option, value)
    assert state_of(proc) == state, proc.stdout
    if state != "OK":
        assert "1 of 9 handshakes failed (11.11%): server alert handshake_failure(40) (1)" in first_line(proc)
    perf = perfdata(proc)
    if value.endswith("%"):
        assert perf["failure_ratio"].split(";")[1 if "warning" in option else 2] == value[:-1]
    else:
        assert perf["failed"].split(";")[1 if "warning" in option else 2] == value


def test_failures_on_committed_captures() -> None:
    proc = run(str(CAPTURES / "ladder-failures.pcap"), "--failures-critical", "50%")
    assert state_of(proc) == "CRITICAL"
    line = first_line(proc)
    assert "3 of 3 handshakes failed (100%)" in line
    perf = perfdata(proc)
    assert perf["alert_protocol_version"] == "1;;;0" and perf["alert_unknown_ca"] == "1;;;0"


@pytest.mark.parametrize("warning, critical, state", [("20", "15", "CRITICAL"), ("12", "5", "WARNING"),
                                                      ("5", "2", "OK")])
def test_server_certificate_expiry(recorded: Recorded, warning: str, critical: str, state: str) -> None:
    proc = run(str(recorded.path), "--unseen", "ok", "-w", warning, "-c", critical)
    assert state_of(proc) == state, proc.stdout
    if state != "OK":
        assert re.search(r"CN=alpha\.example\.org sent by 127\.0\.0\.1:\d+ \(SNI alpha\.example\.org\) expires in "
                         r"(9\.9|10\.0) days", first_line(proc)), first_line(proc)
    assert perfdata(proc)["min_days_left"].endswith(f";{warning}:;{critical}:;0")


def test_expiry_is_judged_on_the_matched_servers_only(recorded: Recorded) -> None:
    proc = run(str(recorded.path), "--unseen", "ok", "--server", f"127.0.0.1:{recorded.ports['mtls']}")
    assert state_of(proc) == "OK"


def test_require_client_cert(recorded: Recorded) -> None:
    mtls = f"127.0.0.1:{recorded.ports['mtls']}"
    proc = run(str(recorded.path), *QUIET, "--server", mtls, "--require-client-cert")
    assert state_of(proc) == "OK" and "client certificate requested in 2" in first_line(proc)
    # Python's ssl sends no CA names: any CA is asked for, the expected one is not named.
    proc = run(str(recorded.path), *QUIET, "--server", mtls, "--require-client-cert", "CN=Client CA,O=Example")
    assert state_of(proc) == "WARNING" and "2 requests with no CA names" in first_line(proc)
    alpha = f"127.0.0.1:{recorded.ports['alpha']}"
    proc = run(str(recorded.path), *QUIET, "--server", alpha, "--require-client-cert")
    assert state_of(proc) == "CRITICAL"
    assert f"3 handshakes completed without a CertificateRequest: {alpha} (SNI alpha.example.org) (2), " \
           f"{alpha} (SNI www.alpha.example.org) (1)" in first_line(proc)
    assert perfdata(proc)["cert_requests_missing"] == "3;;;0"
    # The refused handshake was not completed: not a missing request.
    required = f"127.0.0.1:{recorded.ports['required']}"
    assert state_of(run(str(recorded.path), *QUIET, "--server", required, "--require-client-cert")) == "OK"


def test_require_client_cert_with_ca_names() -> None:
    """openssl s_server -CAfile sends its CA's name: compared structurally, as check_tls_clientauth does."""
    capture = str(CAPTURES / "ladder-tls12-clientauth.pcap")
    for expected, state in [("CN=Client CA,O=Example", "OK"), ("o=example, cn=client ca", "OK"),
                            ("Client CA", "OK"), ("Client CA,Other CA", "CRITICAL"), ("CN=Other CA", "CRITICAL")]:
        proc = run(capture, *QUIET, "--require-client-cert", expected)
        assert state_of(proc) == state, (expected, proc.stdout)
        if state == "CRITICAL":
            assert "2 requests without the expected CA (" in first_line(proc), proc.stdout


@pytest.mark.parametrize("unseen, state", [(None, "WARNING"), ("ok", "OK"), ("warning", "WARNING"),
                                           ("unknown", "UNKNOWN")])
def test_tls13_requests_are_unseen_never_missing(recorded: Recorded, unseen: Optional[str], state: str) -> None:
    tls13 = f"127.0.0.1:{recorded.ports['tls13']}"
    args = [str(recorded.path), "-w", "0", "-c", "0", "--server", tls13, "--require-client-cert"]
    if unseen:
        args += ["--unseen", unseen]
    proc = run(*args)
    assert state_of(proc) == state, proc.stdout
    assert "CRITICAL" not in first_line(proc)
    if state != "OK":
        assert "2 handshakes whose CertificateRequest could not be seen (TLS 1.3 encrypts it" in first_line(proc)
    assert perfdata(proc)["cert_requests_unseen"] == "2;;;0"


def test_tls13_request_read_with_the_key_log() -> None:
    capture = CAPTURES / "ladder-tls13-clientauth.pcap"
    assert state_of(run(str(capture), "--require-client-cert", "-w", "0", "-c", "0")) == "WARNING"
    proc = run(str(capture), "--require-client-cert", "CN=Client CA", "--keylog",
               str(CAPTURES / "ladder-tls13-clientauth.keylog"))
    assert state_of(proc) == "CRITICAL", proc.stdout  # decrypted: the refusals are read too
    perf = perfdata(proc)
    assert perf["cert_requests"] == "4;;;0" and perf["cert_requests_unseen"] == "0;;;0"
    assert "handshakes failed" in first_line(proc) or "failed" in proc.stdout


def _only(source: Path, target: Path, keep: int) -> Path:
    """``source`` with only the connections (by client port) ``keep`` selects (a bit per connection)."""
    link, records = read_pcap(source)
    def key(r: Record) -> tuple[bytes, ...]:
        return tuple(sorted((r.data[34:36], r.data[36:38])))

    order: list[tuple[bytes, ...]] = []
    for r in records:
        if key(r) not in order:
            order.append(key(r))
    kept = [r for r in records if keep >> order.index(key(r)) & 1]
    target.write_bytes(pcap_bytes(kept, link))
    return target


def test_a_request_only_by_renegotiation_is_reported_separately(tmp_path: Path) -> None:
    source = CAPTURES / "ladder-tls12-renegotiation.pcap"
    keylog = str(CAPTURES / "ladder-tls12-renegotiation.keylog")
    both = run(str(source), "--require-client-cert", *QUIET)
    assert state_of(both) == "CRITICAL"  # GET / on a connection that never renegotiates
    assert "1 handshake completed without a CertificateRequest" in first_line(both)
    assert "2 handshakes without a CertificateRequest, followed by an encrypted renegotiation" in first_line(both)
    reneg = _only(source, tmp_path / "reneg.pcap", 0b011)
    proc = run(str(reneg), "--require-client-cert", *QUIET)
    assert state_of(proc) == "WARNING", proc.stdout
    assert "CertificateRequest" in first_line(proc) and "renegotiation" in first_line(proc)
    assert perfdata(proc)["renegotiations"] == "2;;;0"
    assert state_of(run(str(reneg), "--require-client-cert", "--allow-late", *QUIET)) == "OK"
    seen = run(str(reneg), "--require-client-cert", "--keylog", keylog, *QUIET)
    assert state_of(seen) == "WARNING" and "only after the handshake" in first_line(seen)
    assert state_of(run(str(reneg), "--require-client-cert", "--keylog", keylog, "--allow-late", *QUIET)) == "OK"


def test_resumed_handshakes_are_not_missing_a_request() -> None:
    proc = run(str(CAPTURES / "ladder-tls12-resumption.pcap"), "--require-client-cert", *QUIET)
    assert state_of(proc) == "OK", proc.stdout


@pytest.mark.parametrize("option, value, state", [
    ("--empty-client-cert-warning", "0", "WARNING"),
    ("--empty-client-cert-critical", "1", "CRITICAL"),
    ("--empty-client-cert-warning", "2", "OK"),
])
def test_empty_client_certificates(recorded: Recorded, option: str, value: str, state: str) -> None:
    proc = run(str(recorded.path), *QUIET, option, value)
    assert state_of(proc) == state
    if state != "OK":
        assert "2 clients answered a CertificateRequest with an empty Certificate" in first_line(proc)
    assert perfdata(proc)["empty_client_certs"].startswith("2;")


def test_forbidden_versions(recorded: Recorded) -> None:
    proc = run(str(recorded.path), *QUIET, "--forbid-version", "tls1.0,tls1.1")
    assert state_of(proc) == "CRITICAL"
    legacy = f"127.0.0.1:{recorded.ports['legacy']}"
    assert f"forbidden versions negotiated: TLSv1.0 (1): {legacy} (SNI legacy.example.org) (1)" in first_line(proc)
    assert perfdata(proc)["forbidden_versions"] == "1;;;0"
    assert state_of(run(str(recorded.path), *QUIET, "--forbid-version", "tls1.1")) == "OK"
    assert state_of(run(str(recorded.path), *QUIET, "--forbid-version", "ssl3", "--forbid-version", "TLSv1.3")) \
        == "CRITICAL"
    bad = run(str(recorded.path), "--forbid-version", "tls2")
    assert bad.returncode == 3 and "unknown version 'tls2'" in first_line(bad)


def test_no_handshakes(recorded: Recorded) -> None:
    nothing = ("--server", "127.0.0.1:1")  # the engine drops these flows at once
    proc = run(str(recorded.path), *nothing)
    assert proc.returncode == 3 and first_line(proc).startswith("TLS_CAPTURE UNKNOWN - no TLS handshakes seen | ")
    proc = run(str(recorded.path), "--sni", "nothing.invalid")
    assert proc.returncode == 3 and first_line(proc).startswith(
        "TLS_CAPTURE UNKNOWN - no TLS handshakes seen (9 connections filtered out)")
    assert state_of(run(str(recorded.path), *nothing, "--min-handshakes", "0")) == "OK"
    low = run(str(recorded.path), *QUIET, "--min-handshakes", "20")
    assert state_of(low) == "WARNING" and "only 9 handshakes seen (at least 20 expected)" in first_line(low)
    assert perfdata(low)["handshakes"] == "9;20:;;0"
    assert state_of(run(str(recorded.path), *QUIET, "--min-handshakes-critical", "10")) == "CRITICAL"
    assert state_of(run(str(recorded.path), *QUIET, "--min-handshakes", "9")) == "OK"


# -- filters ---------------------------------------------------------------------------------------------


def selected(path: Path, *args: str) -> list[tuple[str, str, Optional[str]]]:
    f = facts(str(path), "--min-handshakes", "0", *QUIET, *args)
    return sorted((c["client"].rsplit(":", 1)[0], c["server"], c["sni"]) for c in f.get("connections", []))


def test_filters_select_exactly(recorded: Recorded) -> None:
    p = recorded.ports
    server = {name: f"127.0.0.1:{port}" for name, port in p.items()}
    assert len(selected(recorded.path)) == 9
    assert selected(recorded.path, "--server", server["alpha"]) == sorted([
        ("127.0.0.1", server["alpha"], "alpha.example.org"), ("127.0.0.1", server["alpha"], "alpha.example.org"),
        ("127.0.0.2", server["alpha"], "www.alpha.example.org")])
    assert [s[2] for s in selected(recorded.path, "--server", "alpha.example.org")] == ["alpha.example.org"] * 2
    assert [s[2] for s in selected(recorded.path, "--server", f"*:{p['tls13']}")] == ["api.example.net"] * 2
    assert len(selected(recorded.path, "--server", server["alpha"], "--server", server["legacy"])) == 4
    assert len(selected(recorded.path, "--server", "127.0.0.1")) == 9
    assert [s[2] for s in selected(recorded.path, "--sni", "*.example.net")] == ["api.example.net"] * 2
    assert len(selected(recorded.path, "--sni", "*alpha*")) == 3
    assert len(selected(recorded.path, "--sni", "ALPHA.example.ORG")) == 2
    assert len(selected(recorded.path, "--sni", "*.example.net", "--sni", "secure.*")) == 3
    assert selected(recorded.path, "--client", "127.0.0.2/32") == sorted([
        ("127.0.0.2", server["alpha"], "www.alpha.example.org"), ("127.0.0.2", server["mtls"], "mtls.example.org")])
    assert len(selected(recorded.path, "--client", "127.0.0.1")) == 7
    assert len(selected(recorded.path, "--client", "10.0.0.0/8")) == 0
    assert selected(recorded.path, "--server", server["mtls"], "--client", "127.0.0.2") == [
        ("127.0.0.2", server["mtls"], "mtls.example.org")]
    assert len(selected(recorded.path, "--since", "1h")) == 9


def test_since(tmp_path: Path) -> None:
    """Connections 1-2 of a real capture moved to two hours ago, 3-4 to a minute ago."""
    link, records = read_pcap(CAPTURES / "ladder-tls12-clientauth.pcap")
    now = time.time_ns()
    early, late = records[:34], records[34:]
    moved = [Record(now - 7200 * 10**9 + (r.time_ns - early[0].time_ns), r.data, r.original_length) for r in early]
    moved += [Record(now - 60 * 10**9 + (r.time_ns - late[0].time_ns), r.data, r.original_length) for r in late]
    path = tmp_path / "moved.pcap"
    path.write_bytes(pcap_bytes(moved, link))
    assert len(selected(path)) == 4
    recent = selected(path, "--since", "30m")
    assert len(recent) == 2 and all(s[1].endswith(":39295") for s in recent)
    assert len(selected(path, "--since", "1h59m")) == 2
    assert len(selected(path, "--since", "2h1m")) == 4
    assert len(selected(path, "--since", "3h", "--server", "127.0.0.1:39393")) == 2
    proc = run(str(path), "--since", "10s")
    assert proc.returncode == 3 and "no TLS handshakes seen (4 connections filtered out)" in first_line(proc)


# -- output ---------------------------------------------------------------------------------------------


def test_detail_lines_show_the_worst_connections_with_their_ladders() -> None:
    proc = run(str(CAPTURES / "ladder-tls12-clientauth.pcap"), "--failures-warning", "0")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("read ") and "58 frames" in lines[1]
    assert "failures: server alert handshake_failure(40) (1), server alert unknown_ca(48) (1)" in lines
    assert "worst connections:" in lines
    worst = lines[lines.index("worst connections:") + 1:]
    assert worst[0].startswith("-- failed: server alert ")
    assert worst[1].startswith("#4 127.0.0.1:") or worst[1].startswith("#3 127.0.0.1:")
    assert any(line.startswith("  1) C->S ClientHello (TLSv1.2 SNI=localhost)") for line in worst)
    assert sum(1 for line in worst if line.startswith("#")) == 3
    more = run(str(CAPTURES / "ladder-tls12-clientauth.pcap"), "-v")
    assert sum(1 for line in more.stdout.splitlines() if line.startswith("#")) == 4


def test_json_output() -> None:
    proc = run(str(CAPTURES / "ladder-tls12-clientauth.pcap"), "--output", "json")
    report = json.loads(proc.stdout)
    assert report["name"] == "TLS_CAPTURE" and report["state"] == "OK" and report["exit_code"] == 0
    labels = [m["label"] for m in report["metrics"]]
    assert labels[:3] == ["handshakes", "failed", "failure_ratio"]
    f = report["facts"]
    assert f["counts"]["handshakes"] == 4 and f["alerts"] == {"alert_handshake_failure": 1, "alert_unknown_ca": 1}
    assert f["worst"][0]["outcome"] == "alert" and f["worst"][0]["problems"]
    assert f["first_to_expire"]["subject"].startswith("CN=localhost")


def test_several_files_are_one_stream(tmp_path: Path) -> None:
    """A connection cut between two files is one connection; frames are located in their files."""
    link, records = read_pcap(CAPTURES / "ladder-tls12-clientauth.pcap")
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    a.write_bytes(pcap_bytes(records[:25], link))
    b.write_bytes(pcap_bytes(records[25:], link))
    whole = facts(str(CAPTURES / "ladder-tls12-clientauth.pcap"))
    split = facts(str(a), str(b))
    assert split["counts"] == whole["counts"]
    assert split["source"]["files"] == [str(a), str(b)]
    proc = run(str(a), str(b), "--failures-warning", "0")
    assert re.search(rf"^-- failed: .* \[{re.escape(str(b))}, frame \d+\]$", proc.stdout, re.M), proc.stdout


def test_unreadable_and_bad_usage(tmp_path: Path) -> None:
    proc = run(str(tmp_path / "missing.pcap"))
    assert proc.returncode == 3 and first_line(proc).startswith("TLS_CAPTURE UNKNOWN - cannot open ")
    (tmp_path / "text.pcap").write_text("hello")
    proc = run(str(tmp_path / "text.pcap"))
    assert proc.returncode == 3 and "not a capture file" in first_line(proc)
    for args, message in [
        ((), "give capture files"),
        (("a.pcap", "--ring", "/tmp"), "use one of FILE, --ring"),
        (("--ring", "/tmp"), "--ring needs --state"),
        (("-", "a.pcap"), "cannot be combined"),
        (("--interface", "lo"), "--interface needs --duration"),
        (("--interface", "lo", "--duration", "5", "-t", "3"), "must leave time after --duration"),
        (("a.pcap", "--failures-warning", "x%"), "not a Nagios range"),
        (("a.pcap", "--since", "ten minutes"), "not a duration"),
        (("a.pcap", "--client", "300.1.1.1"), "not an address or network"),
        (("a.pcap", "--bpf", "tcp"), "go with --interface"),
        (("a.pcap", "--allow-late"), "--allow-late goes with --require-client-cert"),
        (("a.pcap", "--empty-client-cert-warning", "5%"), "is a count"),
    ]:
        proc = run(*args)
        assert proc.returncode == 3, (args, proc.stdout)
        assert first_line(proc).startswith("TLS_CAPTURE UNKNOWN - usage: ") and message in first_line(proc), \
            (args, proc.stdout)


# -- ring, stdin, live --------------------------------------------------------------------------------------


def test_ring_through_the_plugin(tmp_path: Path) -> None:
    ring, state = tmp_path / "ring", tmp_path / "state.json"
    ring.mkdir()
    args = ("--ring", str(ring), "--glob", "*.pcap", "--state", str(state))
    (ring / "a.pcap").write_bytes((CAPTURES / "ladder-tls12-clientauth.pcap").read_bytes())
    first = run(*args, "-w", "0", "-c", "0")
    assert state_of(first) == "OK" and perfdata(first)["handshakes"] == "4;;;0"
    assert first.stdout.splitlines()[1].startswith(f"ring {ring}/*.pcap: 1 file, 33.9 kB new, 0 B read again")
    again = run(*args)
    assert again.returncode == 3 and "no TLS handshakes seen" in first_line(again)
    assert state_of(run(*args, "--min-handshakes", "0")) == "OK"
    other = run("--ring", str(ring), "--glob", "*", "--state", str(state))
    assert other.returncode == 3 and "belongs to" in first_line(other)
    f = facts(*args, "--min-handshakes", "0")
    assert f["source"]["totals"]["handshakes"] == 4 and f["source"]["ring"]["files"] == ["a.pcap"]


def test_stdin_from_a_file() -> None:
    data = (CAPTURES / "ladder-tls12-clientauth.pcapng").read_bytes()
    proc = run("-", "-w", "0", "-c", "0", stdin=data)
    assert state_of(proc) == "OK" and perfdata(proc)["handshakes"] == "4;;;0"
    proc = run("-", stdin=b"")
    assert proc.returncode == 3 and "it is empty" in first_line(proc)


def _tls_server(tmp_path: Path) -> PyTLSServer:
    identity = make_server_identity(tmp_path, key_type="ecdsa", chain_length=1, hostname="localhost")
    return PyTLSServer(identity, max_version=ssl.TLSVersion.TLSv1_2)


def test_stdin_from_tcpdump_while_handshakes_happen(tmp_path: Path) -> None:
    need_capture()
    server = _tls_server(tmp_path)
    try:
        capture = Tcpdump(None, [server.port], stdout=subprocess.PIPE)
        assert capture.proc.stdout is not None
        env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
        plugin = subprocess.Popen([sys.executable, str(PLUGIN), "-", "-w", "0", "-c", "0", "-t", "30"],
                                  stdin=capture.proc.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env, cwd="/")
        capture.proc.stdout.close()  # the plugin holds the pipe now
        try:
            for _ in range(3):
                hello(server.port, "localhost")
        finally:
            capture.stop()  # EOF on the plugin's stdin
        out, err = plugin.communicate(timeout=30)
    finally:
        server.stop()
    assert plugin.returncode == 0, out + err
    assert out.startswith("TLS_CAPTURE OK - 3 handshakes (0 failed, 0%)"), out


def _wait_for_capture(expression: str, timeout: float = 15.0) -> None:
    """Until a tcpdump capturing ``expression`` runs (then a moment for it to open the interface)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for proc in Path("/proc").iterdir():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline and cmdline[0].endswith(b"tcpdump") and expression.encode() in cmdline:
                time.sleep(0.5)
                return
        time.sleep(0.05)
    raise AssertionError(f"no tcpdump capturing {expression!r} appeared")


def test_live_capture_on_loopback(tmp_path: Path) -> None:
    need_capture()
    server = _tls_server(tmp_path)
    results: list[subprocess.CompletedProcess] = []
    try:
        plugin = threading.Thread(target=lambda: results.append(run(
            "--interface", "lo", "--duration", "4", "--bpf", f"tcp port {server.port}", "-w", "0", "-c", "0")))
        plugin.start()
        _wait_for_capture(f"tcp port {server.port}")
        for _ in range(3):
            hello(server.port, "localhost")
        plugin.join(30)
    finally:
        server.stop()
    proc = results[0]
    assert state_of(proc) == "OK", proc.stdout
    assert perfdata(proc)["handshakes"] == "3;;;0"
    assert proc.stdout.splitlines()[1].startswith("read tcpdump on lo for 4 s: ")


def test_live_capture_on_a_missing_interface() -> None:
    require_tool("tcpdump", "apt-get install tcpdump")
    proc = run("--interface", "tlsmon-nosuch0", "--duration", "1")
    assert proc.returncode == 3
    assert first_line(proc).startswith("TLS_CAPTURE UNKNOWN - no interface 'tlsmon-nosuch0': tcpdump: ")


def test_live_capture_not_permitted() -> None:
    """As an unprivileged user (Debian's python3, which has the runtime dependencies), tcpdump may not
    capture: UNKNOWN with the reason and what would permit it."""
    require_tool("tcpdump", "apt-get install tcpdump")
    setpriv = require_tool("setpriv", "apt-get install util-linux")
    if os.geteuid() != 0:
        missing("dropping to user nobody needs root")
    python = "/usr/bin/python3"
    check = subprocess.run([python, "-c", "import nagiosplugin, cryptography"], capture_output=True)
    if check.returncode:
        missing("Debian's python3-nagiosplugin and python3-cryptography are needed for the unprivileged run")
    # A copy that user nobody can read, wherever the repository is.
    copy = Path(tempfile.mkdtemp(prefix="tlsmon-nobody-", dir="/tmp"))
    try:
        shutil.copytree(ROOT / "lib" / "tlsmon", copy / "lib" / "tlsmon", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(PLUGIN, copy / "check_tls_capture")
        for path in [copy, *copy.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        proc = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                               f"PYTHONPATH={copy / 'lib'}", "PYTHONDONTWRITEBYTECODE=1", python,
                               str(copy / "check_tls_capture"), "--interface", "lo", "--duration", "1"],
                              capture_output=True, text=True, timeout=60, cwd="/")
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert first_line(proc).startswith("TLS_CAPTURE UNKNOWN - capture on 'lo' is not permitted: tcpdump: "), \
        proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr

