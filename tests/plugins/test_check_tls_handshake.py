"""``check_tls_handshake`` as a monitoring system runs it: a subprocess against real peers on loopback.

Every run goes through ``run()``: no traceback anywhere, one status line
``TLS_HANDSHAKE <STATE> - <target> <reasons> | <perfdata>`` whose state names the exit code,
and perfdata limited to the documented labels with their units.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from peers.scripted_tls import ScriptedTlsServer
from tlsmon.codec.constants import CipherSuite as CS
from tlsmon.evaluations.handshake import short_version
from tlsmon.sources.scan import platform_offer

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "check_tls_handshake"

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
STATUS_RE = re.compile(r"^TLS_HANDSHAKE (OK|WARNING|CRITICAL|UNKNOWN) - (.*)$")
NUMBER = r"\d+(?:\.\d+)?"
PERF_RE = re.compile(rf"^(connect_time|server_hello_time|handshake_time)=({NUMBER})s;({NUMBER})?;({NUMBER})?;0$"
                     rf"|^tls_version=(0\.3|1\.[0-3])$")
FS_ONLY = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"


@dataclass
class Run:
    code: int
    status: str
    summary: str
    perfdata: dict[str, str]
    lines: list[str]
    stdout: str
    elapsed: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def run(*args: str, timeout: float = 30) -> Run:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(PLUGIN), *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd="/")
    elapsed = time.monotonic() - start
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert proc.returncode in STATE_NAMES, proc
    if "--output" in args and "json" in args:
        doc = json.loads(proc.stdout)
        assert doc["exit_code"] == proc.returncode and doc["state"] == STATE_NAMES[proc.returncode]
        return Run(proc.returncode, doc["state"], doc["summary"], {}, [], proc.stdout, elapsed)
    lines = proc.stdout.splitlines()
    head, _, perf = lines[0].partition(" | ")
    m = STATUS_RE.match(head)
    assert m, lines[0]
    assert m.group(1) == STATE_NAMES[proc.returncode], lines[0]
    perfdata = {}
    for item in perf.split():
        assert PERF_RE.match(item), item
        label, _, value = item.partition("=")
        perfdata[label] = value
    return Run(proc.returncode, m.group(1), m.group(2), perfdata, lines[1:], proc.stdout, elapsed)


def target(port: int, *more: str, timeout: str = "10") -> list[str]:
    return ["-H", "127.0.0.1", "-p", str(port), "--sni", "localhost", "-t", timeout, *more]


# --- health ----------------------------------------------------------------------------------------


def test_healthy_server_is_ok_with_timings(nginx_server, rsa_chain2):
    server = nginx_server(rsa_chain2, ciphers=FS_ONLY)
    r = run(*target(server.port, "-r", str(rsa_chain2.ca_pem_path)))
    assert r.code == OK, r.stdout
    assert re.match(rf"127\.0\.0\.1:{server.port} TLS1\.3 TLS_AES_\w+ in [\d.]+ ms; versions TLS1\.2, TLS1\.3; "
                    r"follows the client's suite order$", r.summary), r.summary
    assert list(r.perfdata) == ["connect_time", "server_hello_time", "handshake_time", "tls_version"]
    assert r.perfdata["tls_version"] == "1.3"
    times = [float(r.perfdata[k].split("s;")[0]) for k in ("connect_time", "server_hello_time", "handshake_time")]
    assert 0 < times[0] <= times[1] <= times[2] < 2
    assert r.lines[0].startswith("handshake: TLS1.3 TLS_AES_")
    assert "TLS1.2: 2 suites, client order, secure renegotiation" in r.lines
    assert "TLS1.0: refused (alert protocol_version(70))" in r.lines


def test_no_shared_cipher_names_phase_alert_and_cause(openssl_server, rsa_chain1):
    # Neither python.org's nor Debian's default client cipher list has RSA key exchange with Camellia.
    assert CS.TLS_RSA_WITH_CAMELLIA_128_CBC_SHA not in platform_offer().suites
    server = openssl_server(rsa_chain1, tls="1.2", extra_args=("-cipher", "CAMELLIA128-SHA"))
    r = run(*target(server.port, "--no-verify"))
    assert r.code == CRITICAL
    assert r.summary.startswith(f"127.0.0.1:{server.port} server sent fatal alert handshake_failure(40) after "
                                "ClientHello (no shared cipher for TLS1.2)"), r.summary
    assert "connect_time" in r.perfdata and "handshake_time" not in r.perfdata


def test_no_shared_version_with_an_sslv3_server():
    offered = "/".join(short_version(v) for v in platform_offer().versions)
    with ScriptedTlsServer({0x0300: [CS.TLS_RSA_WITH_AES_128_CBC_SHA]}) as server:
        r = run(*target(server.port))
    assert r.code == CRITICAL
    # The server refuses the platform's hello (no suite in common), or answers it with SSL 3.0.
    assert re.search(r"(server sent fatal alert handshake_failure\(40\) after ClientHello|after ServerHello: .*) "
                     r"\(no shared protocol version: the server accepts only SSLv3, the platform TLS library "
                     rf"offers {offered}\); SSLv3 accepted \(RFC 7568 forbids it\)", r.summary), r.summary


def test_tls10_server(openssl_server, rsa_chain1):
    server = openssl_server(rsa_chain1, extra_args=("-tls1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"))
    r = run(*target(server.port, "--no-verify"))
    assert r.code == CRITICAL
    assert "TLS1.0 accepted (deprecated, RFC 8996)" in r.summary
    if 0x0301 not in platform_offer().versions:  # python.org's ssl: TLS 1.2 at least
        assert "server sent fatal alert protocol_version(70) after ClientHello (no shared protocol version: the " \
               "server accepts only TLS1.0, the platform TLS library offers TLS1.2/TLS1.3)" in r.summary, r.summary
    else:  # Debian's: OpenSSL's defaults offer TLS 1.0, but its security level refuses the SHA-1 signature
        assert re.match(rf"127\.0\.0\.1:{server.port} handshake failed after ServerHelloDone: ", r.summary), r.summary


def test_untrusted_chain_fails_the_handshake(nginx_server, rsa_chain1):
    server = nginx_server(rsa_chain1, ciphers=FS_ONLY)
    r = run(*target(server.port))  # the test CA is not in the system store
    assert r.code == CRITICAL
    assert r.summary == f"127.0.0.1:{server.port} certificate verification failed: unable to get local issuer " \
                        "certificate", r.summary
    assert run(*target(server.port, "--no-verify")).code == OK


@pytest.mark.parametrize("warning, critical, code", [("5000", "10000", OK), ("0.01", "10000", WARNING),
                                                     ("0.01", "0.02", CRITICAL)])
def test_latency_thresholds_in_milliseconds(nginx_server, ecdsa_chain1, warning, critical, code):
    server = nginx_server(ecdsa_chain1)
    r = run(*target(server.port, "--no-verify", "-w", warning, "-c", critical, "--matrix", "none"))
    assert r.code == code, r.stdout
    value, warn, crit, _ = r.perfdata["handshake_time"].split(";")
    assert warn == f"{float(warning) / 1000:.6f}".rstrip("0").rstrip(".")
    assert crit == f"{float(critical) / 1000:.6f}".rstrip("0").rstrip(".")
    if code != OK:
        assert re.search(rf"handshake took [\d.]+ ms \(more than {warning if code == WARNING else critical} ms\)",
                         r.summary), r.summary
    assert not any(line.startswith("TLS1.") for line in r.lines)  # --matrix none: no matrix


# --- hostile peers: CRITICAL, the phase named, within -t + 1 s, no traceback ------------------------

HOSTILE = {
    "closed_port": r"TCP connect failed: connection refused by 127\.0\.0\.1 port \d+",
    "tarpit": r"timeout after ClientHello: nothing more from the server for [\d.]+ s",
    "plain_http": r"not TLS after ClientHello: .*content type 72 is not TLS",
    "reset_after_client_hello": r"connection reset by the server after ClientHello \(our own hellos were refused "
                                r"for every version too, SSLv3 to TLS1\.3\)",
    "immediate_alert": r"server sent fatal alert handshake_failure\(40\) after ClientHello \(our own hellos were "
                       r"refused for every version too, SSLv3 to TLS1\.3\)",
    "server_hello_then_stall": r"timeout after ServerHello: nothing more from the server for [\d.]+ s",
    "oversized_then_trickle": r"handshake failed after ClientHello: malformed TLS from the server: handshake: "
                              r"message type 11 declares 16777215 bytes",
}


@pytest.mark.parametrize("peer", HOSTILE)
def test_hostile_peers_are_critical_with_the_phase(hostile_peers, peer):
    hostile = getattr(hostile_peers, peer)()
    r = run(*target(hostile.port, timeout="2"))
    assert r.code == CRITICAL, r.stdout
    assert re.match(rf"127\.0\.0\.1:{hostile.port} {HOSTILE[peer]}", r.summary), r.summary
    assert r.elapsed < 2 + 1


# --- version policy ----------------------------------------------------------------------------------


def test_tls11_server_policy_options(openssl_server, rsa_chain1):
    server = openssl_server(rsa_chain1, extra_args=("-tls1_1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"))
    base = target(server.port, "--no-verify")
    assert "TLS1.1 accepted (deprecated, RFC 8996)" in run(*base).summary
    r = run(*base, "--require-no-tls1_1")
    assert r.code == CRITICAL and "TLS1.1 accepted;" in r.summary + ";"
    r = run(*base, "--min-version", "1.2")
    assert "TLS1.1 accepted (below --min-version TLS1.2)" in r.summary
    r = run(*base, "--min-version", "TLSv1.1", "--require-tls1_2")
    assert "TLS1.2 not accepted (" in r.summary and "TLS1.1 accepted" not in r.summary


def test_require_tls13(nginx_server, ecdsa_chain1):
    server = nginx_server(ecdsa_chain1, protocols="TLSv1.2")
    r = run(*target(server.port, "--no-verify", "--require-tls1_3", "--require-tls1_2"))
    assert r.code == CRITICAL
    assert r.summary == f"127.0.0.1:{server.port} TLS1.3 not accepted (alert protocol_version(70))"
    assert r.perfdata["tls_version"] == "1.2"


def test_scripted_legacy_server(tmp_path):
    suites = {0x0300: [CS.TLS_RSA_WITH_RC4_128_MD5, CS.TLS_RSA_EXPORT_WITH_DES40_CBC_SHA],
              0x0301: [CS.TLS_RSA_WITH_3DES_EDE_CBC_SHA, CS.TLS_RSA_WITH_AES_128_CBC_SHA],
              0x0303: [CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_DH_anon_WITH_AES_128_CBC_SHA]}
    with ScriptedTlsServer(suites, renegotiation_info=False) as server:
        r = run(*target(server.port, "--require-no-tls1", "-v"))
        doc = run(*target(server.port, "--output", "json")).json()
    assert r.code == CRITICAL
    # The platform library gives up on a server without RFC 5746; the status says why.
    assert "(the server does not support secure renegotiation (RFC 5746), which the platform TLS library " \
           "requires)" in r.summary, r.summary
    assert "SSLv3 accepted (RFC 7568 forbids it)" in r.summary and "TLS1.0 accepted" in r.summary
    assert "weak suites accepted: TLS_RSA_WITH_RC4_128_MD5 (RC4, MD5; SSLv3), " \
           "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA (EXPORT, DES; SSLv3), " \
           "TLS_RSA_WITH_3DES_EDE_CBC_SHA (3DES; TLS1.0) +1 more" in r.summary, r.summary
    assert "no secure renegotiation (RFC 5746) in SSLv3, TLS1.0, TLS1.2" in r.summary
    assert "SSLv3: 2 suites, server order, prefers TLS_RSA_WITH_RC4_128_MD5, NO secure renegotiation" in r.lines
    assert "    TLS_DH_anon_WITH_AES_128_CBC_SHA  [anonymous]" in r.lines
    versions = {v["version"]: v for v in doc["facts"]["matrix"]["versions"]}
    assert [s["name"] for s in versions["SSLv3"]["suites"]] == ["TLS_RSA_WITH_RC4_128_MD5",
                                                                "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"]
    assert versions["SSLv3"]["suites"][1] == {"name": "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "code": "0x0008",
                                              "weak": ["EXPORT", "DES"], "forward_secret": False}
    assert versions["TLS1.1"]["accepted"] is False and versions["TLS1.3"]["accepted"] is False
    assert versions["TLS1.2"]["secure_renegotiation"] is False


# --- cipher policy -----------------------------------------------------------------------------------


def test_cipher_policy(openssl_server, rsa_chain1):
    server = openssl_server(rsa_chain1, tls="1.2",
                            extra_args=("-cipher", "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA:NULL-SHA:@SECLEVEL=0"))
    base = target(server.port, "--no-verify")
    r = run(*base)
    assert r.code == CRITICAL
    assert "weak suites accepted: TLS_RSA_WITH_NULL_SHA (NULL; TLS1.2)" in r.summary
    assert "1 suite without forward secrecy accepted: TLS_RSA_WITH_AES_256_CBC_SHA (TLS1.2)" in r.summary
    assert r.perfdata["tls_version"] == "1.2" and "handshake_time" in r.perfdata  # the handshake itself is fine
    r = run(*base, "--require-forward-secrecy", "--forbid-cipher", "cbc", "--forbid-cipher", "GCM_SHA384", "-v")
    assert r.summary == (f"127.0.0.1:{server.port} weak suites accepted: TLS_RSA_WITH_NULL_SHA (NULL; TLS1.2); "
                         "suites forbidden by --forbid-cipher 'cbc' accepted: TLS_RSA_WITH_AES_256_CBC_SHA (TLS1.2); "
                         "1 suite without forward secrecy accepted: TLS_RSA_WITH_AES_256_CBC_SHA (TLS1.2)")
    assert "    TLS_RSA_WITH_NULL_SHA  [NULL]" in r.lines
    assert "    TLS_RSA_WITH_AES_256_CBC_SHA  [no forward secrecy]" in r.lines


def test_forward_secret_server_is_ok_and_reports_server_preference(nginx_server, rsa_chain1):
    server = nginx_server(rsa_chain1, ciphers=FS_ONLY, prefer_server_ciphers=True,
                          tls13_ciphers="TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256")
    r = run(*target(server.port, "--no-verify", "--require-forward-secrecy", "--forbid-cipher", "CBC"))
    assert r.code == OK, r.stdout
    assert r.summary.endswith("server prefers TLS_CHACHA20_POLY1305_SHA256"), r.summary
    assert "TLS1.2: 2 suites, server order, prefers TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, secure renegotiation" \
        in r.lines


# --- extensions --------------------------------------------------------------------------------------


def test_alpn_negotiated(nginx_server, ecdsa_chain1):
    server = nginx_server(ecdsa_chain1, http2=True)
    r = run(*target(server.port, "--no-verify", "--alpn", "h2,http/1.1", "--output", "json"))
    assert r.code == OK, r.stdout
    doc = r.json()
    assert doc["facts"]["handshake"]["alpn"] == "h2"
    assert {"name": "alpn", "state": "OK", "hint": "ALPN h2"} in doc["results"]


def test_alpn_refused_by_nginx_without_h2(nginx_server, ecdsa_chain1):
    server = nginx_server(ecdsa_chain1)
    r = run(*target(server.port, "--no-verify", "--alpn", "h2"))
    assert r.code == CRITICAL
    assert "server sent fatal alert no_application_protocol(120) after ClientHello (the server speaks none of " \
           "the ALPN protocols offered: h2)" in r.summary, r.summary
    assert run(*target(server.port, "--no-verify", "--alpn", "h2,http/1.1")).code == OK


def test_alpn_ignored_by_the_server(py_tls_server, ecdsa_chain1):
    server = py_tls_server(ecdsa_chain1)
    r = run(*target(server.port, "--no-verify", "--alpn", "h2", "--matrix", "none"))
    assert r.code == CRITICAL
    assert r.summary == f"127.0.0.1:{server.port} ALPN: the server selected none of h2"


def _staple(identity: Any, path: Path) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    leaf = x509.load_der_x509_certificate(identity.chain_der[0])
    issuer = x509.load_der_x509_certificate(identity.ca_der)
    key = serialization.load_pem_private_key(identity.ca.private_key_pem.bytes(), None)
    now = datetime.datetime.now(datetime.timezone.utc)
    response = (ocsp.OCSPResponseBuilder()
                .add_response(leaf, issuer, hashes.SHA1(), ocsp.OCSPCertStatus.GOOD, now,
                              now + datetime.timedelta(days=1), None, None)
                .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer).sign(key, hashes.SHA256()))
    path.write_bytes(response.public_bytes(serialization.Encoding.DER))
    return path


def test_ocsp_stapling(openssl_server, ecdsa_chain1, tmp_path):
    stapled = openssl_server(ecdsa_chain1, extra_args=("-status_file", str(_staple(ecdsa_chain1, tmp_path / "s"))))
    r = run(*target(stapled.port, "--no-verify", "--require-ocsp-stapling", "--matrix", "none"))
    assert r.code == OK, r.stdout
    assert "OCSP stapling: yes" in r.lines
    plain = openssl_server(ecdsa_chain1)
    r = run(*target(plain.port, "--no-verify", "--require-ocsp-stapling", "--matrix", "none"))
    assert r.code == CRITICAL and r.summary.endswith("the server staples no OCSP response")


def test_nginx_stapling_file(nginx_server, ecdsa_chain1, tmp_path):
    server = nginx_server(ecdsa_chain1, stapling_file=_staple(ecdsa_chain1, tmp_path / "staple.der"))
    # nginx staples from the first connection on, once its OCSP worker has loaded the file.
    r = run(*target(server.port, "--no-verify", "--require-ocsp-stapling", "--output", "json"))
    assert r.json()["facts"]["ocsp_stapled"] is True, r.summary


# --- output, STARTTLS, usage ---------------------------------------------------------------------------


def test_json_has_the_full_matrix(nginx_server, rsa_chain1):
    server = nginx_server(rsa_chain1, protocols="TLSv1.2 TLSv1.3", ciphers=FS_ONLY)
    doc = run(*target(server.port, "--no-verify", "--output", "json")).json()
    assert doc["name"] == "TLS_HANDSHAKE" and doc["state"] == "OK"
    assert [m["label"] for m in doc["metrics"]] == ["connect_time", "server_hello_time", "handshake_time",
                                                    "tls_version"]
    facts = doc["facts"]
    assert facts["target"] == f"127.0.0.1:{server.port}"
    hs = facts["handshake"]
    assert hs["ok"] is True and hs["reached"] == "complete" and hs["version"] == "TLSv1.3"
    assert set(hs["phase_times"]) == {"dns", "connect", "server_hello", "handshake", "total", "first_byte"}
    assert hs["steps"][0]["messages"] == ["ClientHello"]
    assert "TLS1.2" in facts["platform"]["versions"]
    m = facts["matrix"]
    assert m["mode"] == "full" and m["scanned"] is True and m["cut_short"] is False and m["probes"] > 5
    versions = {v["version"]: v for v in m["versions"]}
    assert list(versions) == ["SSLv3", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"]
    assert {s["name"] for s in versions["TLS1.2"]["suites"]} == {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                                                 "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}
    assert all(s["forward_secret"] and not s["weak"] for s in versions["TLS1.2"]["suites"])
    assert versions["TLS1.3"]["enumerated"] and len(versions["TLS1.3"]["suites"]) == 3
    assert versions["TLS1.0"] | {"probes": 0} == {
        "version": "TLS1.0", "accepted": False, "suites": [], "enumerated": False, "preferred": None,
        "server_order": None, "secure_renegotiation": None, "extended_master_secret": None,
        "refusal": "alert protocol_version(70)", "errors": [], "complete": True, "probes": 0}
    assert facts["ocsp_stapled"] is False


def test_versions_only_matrix(nginx_server, rsa_chain1):
    server = nginx_server(rsa_chain1, protocols="TLSv1.1 TLSv1.2",
                          ciphers="ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0")
    doc = run(*target(server.port, "--no-verify", "--matrix", "versions", "--output", "json")).json()
    versions = {v["version"]: v for v in doc["facts"]["matrix"]["versions"]}
    assert [k for k, v in versions.items() if v["accepted"]] == ["TLS1.1", "TLS1.2"]
    assert not any(v["enumerated"] for v in versions.values())
    assert doc["state"] == "WARNING" and "TLS1.1 accepted (deprecated, RFC 8996)" in doc["summary"]


def test_starttls_smtp(starttls_server, ecdsa_chain1):
    server = starttls_server("smtp", ecdsa_chain1)
    r = run(*target(server.port, "-P", "smtp", "-r", str(ecdsa_chain1.ca_pem_path), "-v"))
    assert r.code in (OK, WARNING), r.stdout
    assert "TLS1.2: " in r.stdout and "TLS1.3: " in r.stdout and "TLS1.0: refused" in r.stdout


def test_verbose_shows_the_ladder(nginx_server, ecdsa_chain1):
    server = nginx_server(ecdsa_chain1)
    r = run(*target(server.port, "--no-verify", "-vv", "--matrix", "none"))
    assert any(re.match(r"1\) \[ *[\d.]+ ms\] C->S ClientHello", line) for line in r.lines), r.lines
    assert r.lines[-1].startswith("=> handshake OK with")


def test_ipv6(nginx_server, ecdsa_chain1):
    server = nginx_server(ecdsa_chain1, host="::1")
    r = run("-H", "::1", "-p", str(server.port), "--sni", "localhost", "--no-verify", "-6", "--matrix", "versions")
    assert r.code == OK, r.stdout
    assert r.summary.startswith(f"[::1]:{server.port} TLS1.3")


@pytest.mark.parametrize("args, message", [
    ([], "-H/--host is required"),
    (["-H", "x", "--min-version", "1.4"], "not a protocol version"),
    (["-H", "x", "-w", "500", "-c", "100"], "-w (500 ms) must not be larger than -c (100 ms)"),
    (["-H", "x", "--forbid-cipher", "("], "not a regular expression"),
    (["-H", "x", "-P", "gopher"], "unknown protocol"),
    (["-H", "x", "--matrix", "some"], "invalid choice"),
    (["-H", "x", "--alpn", ","], "not a comma-separated list"),
])
def test_usage_errors_exit_3(args, message):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    proc = subprocess.run([sys.executable, str(PLUGIN), *args], capture_output=True, text=True, timeout=30, env=env)
    assert proc.returncode == UNKNOWN
    assert proc.stdout.startswith("TLS_HANDSHAKE UNKNOWN - usage: ") and message in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_port_defaults_follow_the_protocol():
    from tlsmon.cli.check_tls_handshake import parse

    assert parse(["-H", "x"]).port == 443
    assert parse(["-H", "x", "-P", "smtp"]).port == 25
    assert parse(["-H", "x", "-P", "smtp", "-p", "2525"]).port == 2525
    assert parse(["-H", "x", "-P", "imap", "--port=1143"]).port == 1143


# --- the pure policy functions (no sockets) ----------------------------------------------------------


def _matrix(accepted: dict[int, list[int]], refused: tuple[int, ...] = ()) -> Any:
    from tlsmon.sources.scan import ScanResult, VersionScan

    versions = [VersionScan(v, True, tuple(s), enumerated=True) for v, s in accepted.items()]
    versions += [VersionScan(v, False, refusal="alert protocol_version(70)") for v in refused]
    return ScanResult(tuple(sorted(versions, key=lambda v: v.version)))


@pytest.mark.parametrize("argv, expected", [
    ([], [(1, "TLS1.0 accepted (deprecated, RFC 8996)"), (1, "TLS1.1 accepted (deprecated, RFC 8996)")]),
    (["--require-no-tls1"], [(2, "TLS1.0 accepted"), (1, "TLS1.1 accepted (deprecated, RFC 8996)")]),
    (["--min-version", "1.1"], [(2, "TLS1.0 accepted (below --min-version TLS1.1)")]),
    (["--min-version", "1.0"], [(0, "versions TLS1.0, TLS1.1, TLS1.2")]),
    (["--min-version", "1.0", "--require-no-tls1_1"], [(2, "TLS1.1 accepted")]),
    (["--min-version", "1.0", "--require-tls1_3"], [(2, "TLS1.3 not accepted (alert protocol_version(70))")]),
])
def test_version_policy(argv, expected):
    from tlsmon.cli.check_tls_handshake import parse
    from tlsmon.evaluations.handshake import version_findings

    scan = _matrix({0x0301: [0x2F], 0x0302: [0x2F], 0x0303: [0xC02F]}, refused=(0x0300, 0x0304))
    found = version_findings(scan, parse(["-H", "x", *argv]))
    assert [(f.state, f.text) for f in found] == expected


def test_sslv3_is_critical_unless_the_minimum_allows_it():
    from tlsmon.cli.check_tls_handshake import parse
    from tlsmon.evaluations.handshake import version_findings

    scan = _matrix({0x0300: [0x0A], 0x0303: [0xC02F]})
    assert [f.text for f in version_findings(scan, parse(["-H", "x"]))] == ["SSLv3 accepted (RFC 7568 forbids it)"]
    assert [f.state for f in version_findings(scan, parse(["-H", "x", "--min-version", "ssl3"]))] == [0]
    assert [f.state for f in version_findings(scan, parse(["-H", "x", "--min-version", "ssl3",
                                                           "--require-no-ssl3"]))] == [2]


def test_cipher_policy_findings():
    from tlsmon.cli.check_tls_handshake import parse
    from tlsmon.evaluations.handshake import cipher_findings, weak_labels

    assert weak_labels(CS.TLS_RSA_EXPORT_WITH_RC4_40_MD5) == ("EXPORT", "RC4", "MD5")
    assert weak_labels(CS.TLS_ECDH_anon_WITH_NULL_SHA) == ("NULL", "anonymous")
    assert weak_labels(CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) == ()
    scan = _matrix({0x0303: [CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_RSA_WITH_AES_128_GCM_SHA256],
                    0x0304: [CS.TLS_AES_128_GCM_SHA256]})
    found = cipher_findings(scan, parse(["-H", "x"]))
    assert [(f.state, f.text) for f in found] == [
        (1, "1 suite without forward secrecy accepted: TLS_RSA_WITH_AES_128_GCM_SHA256 (TLS1.2)")]
    found = cipher_findings(scan, parse(["-H", "x", "--forbid-cipher", "^TLS_AES", "--require-forward-secrecy"]))
    assert [(f.state, f.text) for f in found] == [
        (2, "suites forbidden by --forbid-cipher '^TLS_AES' accepted: TLS_AES_128_GCM_SHA256 (TLS1.3)"),
        (2, "1 suite without forward secrecy accepted: TLS_RSA_WITH_AES_128_GCM_SHA256 (TLS1.2)")]


def test_diagnosis():
    from tlsmon.evaluations.handshake import diagnose
    from tlsmon.sources.scan import PlatformOffer

    platform = PlatformOffer((0x0303, 0x0304), (0x1301, 0xC02F))
    assert diagnose(_matrix({0x0303: [0x2F]}, refused=(0x0304,)), platform) == "no shared cipher for TLS1.2"
    assert diagnose(_matrix({0x0303: [0xC02F]}), platform) is None
    assert diagnose(_matrix({0x0301: [0x2F]}), platform) == (
        "no shared protocol version: the server accepts only TLS1.0, the platform TLS library offers TLS1.2/TLS1.3")
    assert diagnose(_matrix({}, refused=(0x0300, 0x0304)), platform) == (
        "our own hellos were refused for every version too, SSLv3 to TLS1.3")
