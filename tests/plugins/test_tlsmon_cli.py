"""``tlsmon probe`` as a user runs it: a subprocess, exit codes, one clear line, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    return subprocess.run(
        [sys.executable, "-m", "tlsmon.cli.main", *args],
        capture_output=True, text=True, timeout=timeout, env=env, cwd="/",
    )


def assert_clean(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout and "Traceback" not in proc.stderr


def test_completed_probe_prints_numbered_steps(openssl_server, ecdsa_chain2, client_ca):
    server = openssl_server(ecdsa_chain2, tls="1.3", verify="optional", client_ca_path=client_ca.pem_path)
    proc = run("probe", f"127.0.0.1:{server.port}", "--sni", "localhost", "-t", "5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "1) C->S ClientHello TLSv1.3/TLSv1.2 SNI=localhost"
    assert lines[1].startswith("2) S->C ServerHello TLSv1.3 TLS_")
    assert any(f"{{CertificateRequest}} CAs: {client_ca.subject_rfc4514}" in line for line in lines)
    assert any("{Certificate} 2 certs: CN=localhost" in line for line in lines)
    assert lines[-1].startswith("=> handshake OK with 127.0.0.1:")
    assert_clean(proc)


def test_json_is_the_documented_interface(openssl_server, rsa_chain3, client_ca_bundle, client_ca, other_client_ca):
    server = openssl_server(rsa_chain3, tls="1.2", verify="required", client_ca_path=client_ca_bundle)
    proc = run("probe", f"localhost:{server.port}", "-4", "--json", "-t", "5")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "completed" and doc["phase"] == "complete" and doc["error"] is None
    assert doc["version"] == "TLSv1.2"
    assert doc["cipher_suite"].startswith("TLS_ECDHE_RSA_WITH_")
    assert doc["group"] == "x25519"
    assert doc["sni"] == "localhost"
    sent = [x509.load_der_x509_certificate(der) for der in rsa_chain3.chain_der]
    assert [c["subject"] for c in doc["certificates"]] == [c.subject.rfc4514_string() for c in sent]
    assert [c["serial"] for c in doc["certificates"]] == [format(c.serial_number, "X") for c in sent]
    leaf = doc["certificates"][0]
    assert "localhost" in leaf["dns_names"]
    assert leaf["not_after"].endswith("Z") and len(leaf["sha256"]) == 64
    assert doc["certificate_request"]["ca_names"] == [client_ca.subject_rfc4514, other_client_ca.subject_rfc4514]
    assert "rsa_pss_rsae_sha256" in doc["certificate_request"]["signature_algorithms"]
    assert doc["alert"] is None
    assert set(doc["timings"]) >= {"connect", "first_byte", "flight_complete", "total"}
    assert doc["steps"][0] == {
        "direction": "C->S", "messages": ["ClientHello"], "details": ["TLSv1.3/TLSv1.2 SNI=localhost"],
        "encrypted": False, "time": doc["steps"][0]["time"],
    }
    assert [m for s in doc["steps"] for m in s["messages"]][-1] == "ServerHelloDone"


def test_alert_json(py_tls_server, ecdsa_chain1):
    import ssl

    server = py_tls_server(ecdsa_chain1, max_version=ssl.TLSVersion.TLSv1_2)
    proc = run("probe", f"127.0.0.1:{server.port}", "--tls1.3", "--json")
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "alert"
    assert doc["alert"] == {"level": "fatal", "description": "protocol_version", "code": 70,
                            "phase": "server_hello", "after": "ClientHello"}
    assert doc["certificates"] == [] and doc["certificate_request"] is None


@pytest.mark.parametrize("peer", ["closed_port", "tarpit", "plain_http"])
def test_failures_give_one_clear_line(hostile_peers, peer):
    target = getattr(hostile_peers, peer)()
    start = time.monotonic()
    proc = run("probe", f"127.0.0.1:{target.port}", "-t", "2")
    elapsed = time.monotonic() - start
    assert proc.returncode == 2
    assert_clean(proc)
    lines = proc.stdout.splitlines()
    expected = {
        "closed_port": "=> refused (connect): connection refused by 127.0.0.1",
        "tarpit": "=> timeout (server_hello): timed out waiting for ServerHello",
        "plain_http": "=> not_tls (server_hello): the server did not answer in TLS",
    }[peer]
    assert lines[-1].startswith(expected), lines
    assert elapsed < 2 + 1.5  # the deadline plus interpreter start


@pytest.mark.parametrize(
    "args, message",
    [
        (["probe"], "the following arguments are required"),
        (["probe", "host:99999"], "bad port"),
        (["probe", "[::1"], "unbalanced brackets"),
        (["probe", "127.0.0.1", "-t", "0"], "--timeout must be positive"),
        (["probe", "127.0.0.1", "--tls1.2", "--tls1.3"], "not allowed with argument"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_usage_errors_exit_3(args, message):
    proc = run(*args)
    assert proc.returncode == 3
    assert message in proc.stderr
    assert_clean(proc)


def test_ipv6_target_syntax(py_tls_server, ecdsa_chain1):
    server = py_tls_server(ecdsa_chain1, host="::1")
    proc = run("probe", f"[::1]:{server.port}", "--sni", "localhost")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.splitlines()[-1].startswith(f"=> handshake OK with [::1]:{server.port}")
