"""check_tls_clientauth as a user runs it, against real servers on loopback."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "check_tls_clientauth"
SECRET = "s3cr3t-Pa55word"


def run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    e = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    e.pop("TLSMON_CLIENTPASS", None)
    e.update(env or {})
    proc = subprocess.run([sys.executable, str(PLUGIN), *args], capture_output=True, text=True, timeout=timeout,
                          env=e, cwd="/")
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    return proc


def status(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout.splitlines()[0] if proc.stdout else ""


def perf(proc: subprocess.CompletedProcess) -> dict[str, str]:
    line = status(proc)
    if "|" not in line:
        return {}
    return dict(item.split("=", 1) for item in line.split("|", 1)[1].split())


@pytest.fixture(scope="module")
def encrypted_client(tmp_path_factory, client_ca):
    """A client certificate whose key is encrypted, its password in a file; and a PKCS#12 bundle."""
    d = tmp_path_factory.mktemp("encrypted-client")
    cert = client_ca.issue_client_cert("encrypted client")
    key = serialization.load_pem_private_key(cert.key_path.read_bytes(), None)
    enc = d / "client.key"
    enc.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(SECRET.encode())))
    pw = d / "password"
    pw.write_text(SECRET + "\n")
    leaf = x509.load_pem_x509_certificate(cert.cert_pem_path.read_bytes())
    p12 = d / "client.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"client", key, leaf, None, serialization.BestAvailableEncryption(SECRET.encode())))
    return {"cert": cert.cert_pem_path, "key": enc, "password_file": pw, "p12": p12}


# --- classification -------------------------------------------------------------------------------------


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_required_by_openssl_with_ca_names(openssl_server, ecdsa_chain2, client_ca_bundle, client_ca,
                                           other_client_ca, tls):
    server = openssl_server(ecdsa_chain2, tls=tls, verify="required", client_ca_path=client_ca_bundle)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--sni", "localhost", "--no-http", "--expect", "required",
               "--require-client-cert", client_ca.subject_rfc4514,
               "--require-client-cert", other_client_ca.subject_rfc4514)
    assert proc.returncode == 0, proc.stdout
    line = status(proc)
    assert line.startswith("TLS_CLIENTAUTH OK - 127.0.0.1:")
    assert f"client certificate required (CAs: {client_ca.subject_rfc4514}; {other_client_ca.subject_rfc4514})" \
        in line
    p = perf(proc)
    assert p["cert_request"].split(";")[0] == "1" and p["ca_names"].split(";")[0] == "2"
    assert p["handshake_time"].split(";")[0].endswith("s")


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_optional_by_openssl(openssl_server, ecdsa_chain1, client_ca, tls):
    server = openssl_server(ecdsa_chain1, tls=tls, verify="optional", client_ca_path=client_ca.pem_path)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--no-http", "--expect", "optional")
    assert proc.returncode == 0, proc.stdout
    assert f"client certificate optional (CAs: {client_ca.subject_rfc4514})" in status(proc)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--no-http", "--expect", "required")
    assert proc.returncode == 2
    assert "expected required, but client certificate optional" in status(proc)


def test_server_that_does_not_ask(py_tls_server, ecdsa_chain1):
    server = py_tls_server(ecdsa_chain1)
    proc = run("-H", "127.0.0.1", "-p", str(server.port))
    assert proc.returncode == 0
    assert "no client certificate requested, not even after GET /" in status(proc)
    assert perf(proc)["cert_request"].startswith("0")
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--require-client-cert")
    assert proc.returncode == 2
    assert "CRITICAL" in status(proc) and "no client certificate requested" in status(proc)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--forbid-client-cert")
    assert proc.returncode == 0


def test_forbid_client_cert(openssl_server, ecdsa_chain1, client_ca):
    server = openssl_server(ecdsa_chain1, tls="1.2", verify="optional", client_ca_path=client_ca.pem_path)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--no-http", "--forbid-client-cert")
    assert proc.returncode == 2
    assert "but it must not be" in status(proc)


def test_ca_names_compared_structurally(openssl_server, ecdsa_chain1, client_ca, other_client_ca):
    server = openssl_server(ecdsa_chain1, tls="1.3", verify="required", client_ca_path=client_ca.pem_path)
    base = ("-H", "127.0.0.1", "-p", str(server.port), "--no-http")
    # Attributes in another order, other case, extra spaces, a country: still the same name.
    for expected in ("O=Example,CN=Client CA", "cn = client  ca, o=EXAMPLE", "C=DE,CN=Client CA,O=Example",
                     "commonName=Client CA+organizationName=Example", str(client_ca.pem_path), "Client CA"):
        proc = run(*base, "--require-client-cert", expected)
        assert proc.returncode == 0, (expected, proc.stdout)
    proc = run(*base, "--require-client-cert", other_client_ca.subject_rfc4514)
    assert proc.returncode == 2
    assert f"expected CA '{other_client_ca.subject_rfc4514}' is not among the requested CA names" in status(proc)
    proc = run(*base, "--require-client-cert", "CN=Client CA,O=Example,OU=Extra")
    assert proc.returncode == 2


def test_request_with_no_ca_names(py_tls_server, ecdsa_chain1, client_ca):
    # Python's ssl sends no CA names when it asks: "requested, no CA names" is its own case.
    server = py_tls_server(ecdsa_chain1, client_auth="optional", client_ca_path=client_ca.pem_path)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--require-client-cert", "CN=Client CA,O=Example")
    assert proc.returncode == 1, proc.stdout
    assert "requested, no CA names" in status(proc)


# --- late requests: Apache asks only after the request ---------------------------------------------------


@pytest.mark.parametrize("tls, how", [("1.2", "renegotiation"), ("1.3", "post-handshake authentication")])
def test_apache_asks_only_after_get_secure(apache_server, rsa_chain2, client_ca, tls, how):
    server = apache_server(rsa_chain2, client_ca.pem_path, tls=tls)
    url = f"https://localhost:{server.port}/secure/"
    proc = run("-u", url, "-H", "127.0.0.1", "--require-client-cert", client_ca.subject_rfc4514)
    assert proc.returncode == 1, proc.stdout + server.log()
    assert (f"client certificate required only by {how} after GET /secure/ (not in the initial handshake) "
            f"(CAs: {client_ca.subject_rfc4514})") in status(proc)
    assert run("-u", url, "-H", "127.0.0.1", "--require-client-cert", "--allow-late").returncode == 0
    # The same server's front page asks for nothing.
    proc = run("-u", f"https://localhost:{server.port}/", "-H", "127.0.0.1", "--require-client-cert")
    assert proc.returncode == 2
    assert "no client certificate requested, not even after GET /" in status(proc)


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_mutual_tls_over_http_403_without_and_200_with(apache_server, rsa_chain2, client_ca, client_cert, tls):
    server = apache_server(rsa_chain2, client_ca.pem_path, tls=tls)
    url = f"https://localhost:{server.port}/secure/"
    proc = run("-u", url, "-H", "127.0.0.1", "-r", str(rsa_chain2.ca_pem_path), "--allow-late",
               "-C", str(client_cert.cert_pem_path), "-K", str(client_cert.key_path))
    assert proc.returncode == 0, proc.stdout + server.log()
    assert "mutual TLS OK: GET /secure/ answered 200 OK" in status(proc)
    assert "client_cert_days_left" in perf(proc)


def test_http_403_reads_as_rejection(apache_server, rsa_chain2, client_ca, other_client_ca):
    server = apache_server(rsa_chain2, client_ca.pem_path, tls="1.3")
    foreign = other_client_ca.issue_client_cert("stranger")
    proc = run("-u", f"https://localhost:{server.port}/secure/", "-H", "127.0.0.1",
               "-r", str(rsa_chain2.ca_pem_path), "--allow-late",
               "-C", str(foreign.cert_pem_path), "-K", str(foreign.key_path))
    assert proc.returncode == 2, proc.stdout
    line = status(proc)
    assert "server rejected the client certificate" in line or "mutual TLS" in line


# --- mutual TLS at the TLS level -------------------------------------------------------------------------


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_right_client_ca_ok_wrong_ca_critical(openssl_server, ecdsa_chain1, client_ca, client_cert,
                                              other_client_ca, tls):
    server = openssl_server(ecdsa_chain1, tls=tls, verify="required", client_ca_path=client_ca.pem_path)
    base = ("-H", "localhost", "-p", str(server.port), "--no-http", "-r", str(ecdsa_chain1.ca_pem_path))
    proc = run(*base, "-C", str(client_cert.cert_pem_path), "-K", str(client_cert.key_path))
    assert proc.returncode == 0, proc.stdout
    assert "mutual TLS handshake OK" in status(proc)
    foreign = other_client_ca.issue_client_cert("stranger")
    proc = run(*base, "-C", str(foreign.cert_pem_path), "-K", str(foreign.key_path))
    assert proc.returncode == 2
    assert "server rejected the client certificate" in status(proc)
    assert "alert" in status(proc)


def test_expired_client_certificate(openssl_server, ecdsa_chain1, client_ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = client_ca.issue_client_cert("expired client", not_before=now - datetime.timedelta(days=30),
                                          not_after=now - datetime.timedelta(days=1))
    server = openssl_server(ecdsa_chain1, tls="1.2", verify="required", client_ca_path=client_ca.pem_path)
    proc = run("-H", "localhost", "-p", str(server.port), "--no-http", "-r", str(ecdsa_chain1.ca_pem_path),
               "-C", str(expired.cert_pem_path), "-K", str(expired.key_path))
    assert proc.returncode == 2
    line = status(proc)
    assert "server rejected the client certificate" in line and "expired" in line
    assert float(perf(proc)["client_cert_days_left"].split(";")[0]) < 0


def test_encrypted_key_with_password_file_and_pkcs12(openssl_server, ecdsa_chain1, client_ca, encrypted_client):
    server = openssl_server(ecdsa_chain1, tls="1.3", verify="required", client_ca_path=client_ca.pem_path)
    base = ("-H", "localhost", "-p", str(server.port), "--no-http", "-r", str(ecdsa_chain1.ca_pem_path))
    proc = run(*base, "-C", str(encrypted_client["cert"]), "-K", str(encrypted_client["key"]),
               "--clientpass-file", str(encrypted_client["password_file"]))
    assert proc.returncode == 0, proc.stdout
    proc = run(*base, "-C", str(encrypted_client["p12"]), env={"TLSMON_CLIENTPASS": SECRET})
    assert proc.returncode == 0, proc.stdout
    assert "mutual TLS handshake OK" in status(proc)


# --- bad input ----------------------------------------------------------------------------------------------


def test_bad_client_credentials_are_unknown(tmp_path, ecdsa_chain1, client_cert, encrypted_client, other_client_ca):
    base = ("-H", "127.0.0.1", "-p", "1", "--no-http")
    cases = [
        (("-C", str(client_cert.cert_pem_path), "-K", str(tmp_path / "missing.key")), "not found"),
        (("-C", str(client_cert.cert_pem_path)), "no private key"),
        (("-C", str(encrypted_client["cert"]), "-K", str(encrypted_client["key"])), "is encrypted"),
        (("-C", str(encrypted_client["p12"])), "needs a password"),
    ]
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    cases.append((("-C", str(encrypted_client["cert"]), "-K", str(encrypted_client["key"]),
                   "--clientpass-file", str(wrong)), "wrong password"))
    stranger = other_client_ca.issue_client_cert("stranger")
    cases.append((("-C", str(client_cert.cert_pem_path), "-K", str(stranger.key_path)), "does not match"))
    for args, reason in cases:
        proc = run(*base, *args)
        assert proc.returncode == 3, (args, proc.stdout)
        assert len(proc.stdout.strip().splitlines()) == 1, proc.stdout
        assert status(proc).startswith("TLS_CLIENTAUTH UNKNOWN - ") and reason in status(proc), proc.stdout


def test_usage_errors(tmp_path):
    for args, reason in [((), "-H/--host or -u/--url is required"),
                         (("-u", "http://127.0.0.1/"), "https URL"),
                         (("-H", "127.0.0.1", "--require-client-cert", "FOO=bar"), "unknown attribute type"),
                         (("-H", "127.0.0.1", "--require-client-cert", "CN=a,b"), "not TYPE=value"),
                         (("-H", "127.0.0.1", "--expect", "maybe"), "invalid choice")]:
        proc = run(*args)
        assert proc.returncode == 3, args
        assert reason in proc.stdout + proc.stderr


def test_unreachable_is_critical(hostile_peers):
    port = hostile_peers.closed_port().port
    proc = run("-H", "127.0.0.1", "-p", str(port))
    assert proc.returncode == 2
    assert "refused (connect)" in status(proc)


def test_json_output(openssl_server, ecdsa_chain1, client_ca):
    server = openssl_server(ecdsa_chain1, tls="1.2", verify="required", client_ca_path=client_ca.pem_path)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--no-http", "--output", "json")
    doc = json.loads(proc.stdout)
    assert doc["state"] == "OK" and doc["exit_code"] == proc.returncode == 0
    assert doc["facts"]["classification"] == "required"
    assert doc["facts"]["ca_names"] == [client_ca.subject_rfc4514]
    assert {m["label"] for m in doc["metrics"]} >= {"cert_request", "ca_names", "handshake_time"}


# --- nginx: ssl_verify_client does not fail the handshake, it answers HTTP 400 --------------------------


@pytest.mark.parametrize("tls", ["TLSv1.2", "TLSv1.3"])
@pytest.mark.parametrize("mode, expected", [("on", "required"), ("optional", "optional"),
                                            ("optional_no_ca", "optional")])
def test_nginx_verify_client(nginx_server, ecdsa_chain1, client_ca, tls, mode, expected):
    extra = (f"        ssl_verify_client {mode};\n"
             f"        ssl_client_certificate {client_ca.pem_path};")
    server = nginx_server(ecdsa_chain1, protocols=tls, extra=extra)
    proc = run("-H", "127.0.0.1", "-p", str(server.port), "--sni", "localhost", "--expect", expected,
               "--require-client-cert", client_ca.subject_rfc4514, "-v")
    assert proc.returncode == 0, proc.stdout
    assert f"client certificate {expected} (CAs: {client_ca.subject_rfc4514})" in status(proc)
    if mode == "on":
        assert "No required SSL certificate was sent" in proc.stdout


def test_nginx_mutual_tls_over_http(nginx_server, ecdsa_chain1, client_ca, client_cert, other_client_ca):
    extra = (f"        ssl_verify_client on;\n"
             f"        ssl_client_certificate {client_ca.pem_path};")
    server = nginx_server(ecdsa_chain1, extra=extra)
    url = f"https://localhost:{server.port}/"
    base = ("-u", url, "-H", "127.0.0.1", "-r", str(ecdsa_chain1.ca_pem_path))
    proc = run(*base, "-C", str(client_cert.cert_pem_path), "-K", str(client_cert.key_path))
    assert proc.returncode == 0, proc.stdout
    assert "mutual TLS OK: GET / answered 200" in status(proc)
    stranger = other_client_ca.issue_client_cert("stranger")
    proc = run(*base, "-C", str(stranger.cert_pem_path), "-K", str(stranger.key_path))
    assert proc.returncode == 2
    assert "answered 400" in status(proc)


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_url_answering_403_without_and_200_with_the_certificate(apache_server, rsa_chain2, client_ca, client_cert,
                                                                 other_client_ca, tls):
    server = apache_server(rsa_chain2, client_ca.pem_path, tls=tls)
    url = f"https://localhost:{server.port}/optional403/"
    base = ("-u", url, "-H", "127.0.0.1", "-r", str(rsa_chain2.ca_pem_path), "--allow-late")
    proc = run(*base, "-v")
    assert proc.returncode == 0, proc.stdout + server.log()
    assert "GET /optional403/ without a client certificate: HTTP 403" in proc.stdout
    assert "client certificate required only by" in status(proc)  # a late request, refused with 403
    proc = run(*base, "-C", str(client_cert.cert_pem_path), "-K", str(client_cert.key_path))
    assert proc.returncode == 0, proc.stdout + server.log()
    assert "mutual TLS OK: GET /optional403/ answered 200 OK" in status(proc)
    stranger = other_client_ca.issue_client_cert("stranger")
    proc = run(*base, "-C", str(stranger.cert_pem_path), "-K", str(stranger.key_path))
    assert proc.returncode == 2
    assert "server rejected the client certificate at HTTP level (403)" in status(proc)


def test_client_intermediates_are_sent(openssl_server, ecdsa_chain1, tmp_path):
    import trustme

    root = trustme.CA(organization_name="client root")
    inter = root.create_child_ca()
    leaf = inter.issue_cert("client.example", common_name="client.example")
    chain = tmp_path / "client-chain.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))  # leaf, then the intermediate
    key = tmp_path / "client.key"
    leaf.private_key_pem.write_to_path(str(key))
    root_pem = tmp_path / "client-root.pem"
    root.cert_pem.write_to_path(str(root_pem))
    # The server knows only the client root: the handshake works only if our intermediate is sent.
    server = openssl_server(ecdsa_chain1, tls="1.3", verify="required", client_ca_path=root_pem)
    base = ("-H", "localhost", "-p", str(server.port), "--no-http", "-r", str(ecdsa_chain1.ca_pem_path))
    proc = run(*base, "-C", str(chain), "-K", str(key))
    assert proc.returncode == 0, proc.stdout
    assert "mutual TLS handshake OK" in status(proc)
    leaf_only = tmp_path / "client-leaf.pem"
    leaf_only.write_bytes(leaf.cert_chain_pems[0].bytes())
    proc = run(*base, "-C", str(leaf_only), "-K", str(key))
    assert proc.returncode == 2
    assert "server rejected the client certificate" in status(proc)
