"""The shared peers (tests/peers/, fixtures in tests/conftest.py) behave as documented.

Clients here are Python's ssl and socket only (and openssl s_client to read what Python cannot).
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
from typing import Optional

import pytest

from peers import hostile
from peers.openssl_server import _listening_port_from_proc
from peers.pki import ServerIdentity
from peers.tools import missing, require_tool

LOOPBACK = "127.0.0.1"
VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
IDENTITIES = [(k, n) for k in ("ecdsa", "rsa") for n in (1, 2, 3)]
REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


# -- client helpers -----------------------------------------------------------------------------


def client_context(
    identity: ServerIdentity, version: Optional[str] = None, cert: Optional[object] = None
) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(identity.ca_pem_path))
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = VERSIONS[version]
    if cert is not None:
        ctx.load_cert_chain(str(cert.cert_pem_path), str(cert.key_path))  # type: ignore[attr-defined]
    return ctx


def connect(ctx: ssl.SSLContext, address: tuple[str, int], hostname: str = "localhost") -> ssl.SSLSocket:
    sock = socket.create_connection(address, timeout=5)
    try:
        return ctx.wrap_socket(sock, server_hostname=hostname)
    except BaseException:
        sock.close()
        raise


def http_get(tls: ssl.SSLSocket) -> bytes:
    tls.sendall(REQUEST)
    data = b""
    while True:
        chunk = tls.recv(65536)
        if not chunk:
            return data
        data += chunk


def recv_until_eof(sock: socket.socket, limit: int = 65536) -> bytes:
    data = b""
    while len(data) < limit:
        chunk = sock.recv(limit)
        if not chunk:
            break
        data += chunk
    return data


def received_chain(tls: ssl.SSLSocket) -> Optional[list[bytes]]:
    """The chain as the server sent it, or None when this Python cannot tell."""
    getter = getattr(tls, "get_unverified_chain", None)  # Python >= 3.13: DER bytes
    if getter is None:  # 3.10 - 3.12: the same method, not yet public, giving _ssl.Certificate objects
        getter = getattr(tls._sslobj, "get_unverified_chain", None)
    if getter is None:
        return None
    der = ssl._ssl.ENCODING_DER  # type: ignore[attr-defined]
    return [bytes(c) if isinstance(c, (bytes, bytearray)) else c.public_bytes(der) for c in getter()]


def showcerts_chain(address: tuple[str, int]) -> list[bytes]:
    """Fallback for Python < 3.10: count the chain with openssl s_client -showcerts."""
    openssl = require_tool("openssl", "apt-get install openssl")
    out = subprocess.run(
        [openssl, "s_client", "-connect", f"{address[0]}:{address[1]}", "-servername", "localhost", "-showcerts"],
        input=b"",
        capture_output=True,
        timeout=10,
    ).stdout
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    bodies = [part.split(end)[0] for part in out.decode().split(begin)[1:]]
    return [ssl.PEM_cert_to_DER_cert(f"{begin}{body}{end}\n") for body in bodies]


def assert_chain(chain: Optional[list[bytes]], identity: ServerIdentity, address: tuple[str, int]) -> None:
    if chain is None:  # ask again with s_client, once the first connection is closed (s_server is single-threaded)
        chain = showcerts_chain(address)
    assert len(chain) == identity.chain_length
    assert chain == identity.chain_der


# -- Python ssl server --------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("key_type,chain_length", IDENTITIES)
def test_py_server_handshake(py_tls_server, server_identities, key_type, chain_length, version):
    identity = server_identities(key_type, chain_length)
    server = py_tls_server(identity, min_version=VERSIONS[version], max_version=VERSIONS[version])
    with connect(client_context(identity), server.address) as tls:
        assert tls.version() == f"TLSv{version}"
        chain = received_chain(tls)
        assert http_get(tls).startswith(b"HTTP/1.1 200 OK\r\n")
    assert_chain(chain, identity, server.address)
    assert server.wait_for(handshakes=1)
    assert server.handshake_log[0].version == f"TLSv{version}"


def test_py_server_negative_controls(py_tls_server, ecdsa_chain1, rsa_chain1):
    server = py_tls_server(ecdsa_chain1)
    with pytest.raises(ssl.SSLCertVerificationError):  # a foreign trust anchor
        connect(client_context(rsa_chain1), server.address)
    with pytest.raises(ssl.SSLCertVerificationError):  # a wrong hostname
        connect(client_context(ecdsa_chain1), server.address, hostname="wrong.example")


def test_py_server_alpn_and_ipv6(py_tls_server, ecdsa_chain2):
    server = py_tls_server(ecdsa_chain2, alpn=["h2", "http/1.1"], host="::1")
    ctx = client_context(ecdsa_chain2)
    ctx.set_alpn_protocols(["http/1.1"])
    with connect(ctx, server.address) as tls:
        assert tls.selected_alpn_protocol() == "http/1.1"
        assert tls.getpeername()[0] == "::1"


def test_py_server_survives_hangups_and_slow_clients(py_tls_server, ecdsa_chain1):
    server = py_tls_server(ecdsa_chain1, handshake_timeout=5)
    hello = hostile.sample_client_hello()
    with socket.create_connection(server.address) as half:  # hangs up mid-handshake
        half.sendall(hello[: len(hello) // 2])
    assert server.wait_for(errors=1)
    with socket.create_connection(server.address):  # silent, kept open: must not block the next
        started = time.monotonic()
        with connect(client_context(ecdsa_chain1), server.address) as tls:
            assert http_get(tls).startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 2
    assert server.wait_for(handshakes=1)


# -- client authentication, both servers --------------------------------------------------------


def start_client_auth_server(kind, mode, version, identity, client_ca, py_tls_server, openssl_server):
    if kind == "python":
        tls_version = VERSIONS[version]
        return py_tls_server(
            identity, min_version=tls_version, max_version=tls_version, client_auth=mode,
            client_ca_path=client_ca.pem_path,
        )  # fmt: skip
    return openssl_server(identity, tls=version, verify=mode, client_ca_path=client_ca.pem_path)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", ["python", "openssl"])
def test_required_client_auth(
    request, kind, version, ecdsa_chain2, client_ca, client_cert, py_tls_server
):  # fmt: skip
    openssl_server = request.getfixturevalue("openssl_server") if kind == "openssl" else None
    server = start_client_auth_server(
        kind, "required", version, ecdsa_chain2, client_ca, py_tls_server, openssl_server
    )  # fmt: skip

    if version == "1.2":  # the server aborts the handshake
        with pytest.raises(ssl.SSLError):
            connect(client_context(ecdsa_chain2, version), server.address)
    else:  # TLS 1.3: the client's handshake completes; the alert comes on the first read
        with connect(client_context(ecdsa_chain2, version), server.address) as tls:
            with pytest.raises(ssl.SSLError, match="(?i)certificate required"):
                http_get(tls)

    with connect(client_context(ecdsa_chain2, version, cert=client_cert), server.address) as tls:
        assert http_get(tls).startswith(b"HTTP/1.")
    if kind == "python":
        assert server.wait_for(handshakes=1, errors=1)
        assert server.handshake_log[-1].client_cert_der is not None


def test_optional_client_auth_without_cert(py_tls_server, ecdsa_chain1, client_ca):
    server = py_tls_server(ecdsa_chain1, client_auth="optional", client_ca_path=client_ca.pem_path)
    with connect(client_context(ecdsa_chain1), server.address) as tls:
        assert http_get(tls).startswith(b"HTTP/1.1 200")
    assert server.wait_for(handshakes=1)
    assert server.handshake_log[0].client_cert_der is None


def test_client_ca_subjects(client_ca, other_client_ca, client_ca_bundle):
    assert client_ca.subject_rfc4514 == "CN=Client CA,O=Example"
    assert client_ca.subject_der.startswith(b"\x30")
    assert client_ca_bundle.read_bytes() == client_ca.pem + other_client_ca.pem


# -- openssl s_server ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("key_type,chain_length", IDENTITIES)
def test_openssl_server_handshake(openssl_server, server_identities, key_type, chain_length, version):
    identity = server_identities(key_type, chain_length)
    server = openssl_server(identity, tls=version)
    assert server.port != 0
    with connect(client_context(identity), server.address) as tls:
        assert tls.version() == f"TLSv{version}"
        chain = received_chain(tls)
        assert http_get(tls).startswith(b"HTTP/1.0 200 ok")
    assert_chain(chain, identity, server.address)


def test_openssl_server_sends_two_ca_names(openssl_server, openssl_bin, ecdsa_chain1, client_ca_bundle):
    server = openssl_server(ecdsa_chain1, verify="optional", client_ca_path=client_ca_bundle)
    out = subprocess.run(
        [openssl_bin, "s_client", "-connect", f"{server.host}:{server.port}", "-tls1_2"],
        input=b"", capture_output=True, timeout=10,
    ).stdout.decode()  # fmt: skip
    section = out.split("Acceptable client certificate CA names\n", 1)[1].split("Requested Signature", 1)[0]
    names = [line for line in section.splitlines() if "CN = " in line]
    assert names == ["O = Example, CN = Client CA", "O = Example Two, CN = Other Client CA"]


def test_openssl_server_stops_by_pid(openssl_server, ecdsa_chain1):
    server = openssl_server(ecdsa_chain1)
    server.stop()
    assert server.returncode is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.address, timeout=2)


def test_openssl_server_ipv6(openssl_server, ecdsa_chain1):
    server = openssl_server(ecdsa_chain1, host="::1")
    with connect(client_context(ecdsa_chain1), server.address) as tls:
        assert tls.getpeername()[0] == "::1"


def test_listening_port_from_proc():  # the port lookup used when s_server prints a bare "ACCEPT"
    if not os.path.isdir(f"/proc/{os.getpid()}/fd"):
        missing("no /proc on this platform (the fallback is for Linux with OpenSSL < 3.0)")
    with socket.create_server((LOOPBACK, 0)) as listener:
        assert _listening_port_from_proc(os.getpid(), timeout=1) == listener.getsockname()[1]


# -- hostile peers ------------------------------------------------------------------------------


def test_closed_port_refuses(hostile_peers):
    peer = hostile_peers.closed_port()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(peer.address, timeout=2)


def test_tarpit_never_answers_and_stops_promptly(hostile_peers):
    peer = hostile_peers.tarpit()
    with socket.create_connection(peer.address, timeout=2) as sock:
        sock.sendall(hostile.sample_client_hello())
        sock.settimeout(0.5)
        with pytest.raises(socket.timeout):
            sock.recv(1)
        started = time.monotonic()
        peer.stop()
        assert time.monotonic() - started < 1
        sock.settimeout(2)
        assert sock.recv(1) == b""  # stop() closes the kept connection


def test_hostile_peer_bounds_its_lifetime():
    with hostile.Tarpit(max_lifetime=0.2) as peer:
        with socket.create_connection(peer.address, timeout=2) as sock:
            assert sock.recv(1) == b""  # closed by the peer itself, well before the 2 s timeout


def test_plain_http_answers_in_clear(hostile_peers, ecdsa_chain1):
    peer = hostile_peers.plain_http()
    with socket.create_connection(peer.address, timeout=2) as sock:
        sock.sendall(hostile.sample_client_hello())
        assert recv_until_eof(sock).startswith(b"HTTP/1.1 400 Bad Request\r\n")
    with pytest.raises(ssl.SSLError):
        connect(client_context(ecdsa_chain1), peer.address)


def test_reset_after_client_hello(hostile_peers):
    peer = hostile_peers.reset_after_client_hello()
    with socket.create_connection(peer.address, timeout=2) as sock:
        sock.sendall(hostile.sample_client_hello())
        try:
            data = sock.recv(1)
        except ConnectionResetError:
            data = b""
        assert data == b""


def test_immediate_alert(hostile_peers, ecdsa_chain1):
    peer = hostile_peers.immediate_alert()
    with socket.create_connection(peer.address, timeout=2) as sock:
        sock.sendall(hostile.sample_client_hello())
        assert recv_until_eof(sock) == bytes.fromhex("15 03 03 00 02 02 28")
    with pytest.raises(ssl.SSLError, match="(?i)handshake failure"):
        connect(client_context(ecdsa_chain1), peer.address)
    assert hostile_peers.immediate_alert(description=70).alert == bytes.fromhex("15 03 03 00 02 02 46")


def test_server_hello_then_stall(hostile_peers, ecdsa_chain1):
    peer = hostile_peers.server_hello_then_stall()
    with socket.create_connection(peer.address, timeout=2) as sock:
        sock.sendall(hostile.sample_client_hello())
        expected = peer.server_hello
        assert expected[:6] == bytes.fromhex("16 0303 0031 02")
        data = b""
        while len(data) < len(expected):
            data += sock.recv(65536)
        assert data == expected
    sock = socket.create_connection(peer.address, timeout=2)
    sock.settimeout(0.3)
    with sock, pytest.raises(socket.timeout):  # the client waits for a Certificate that never comes
        client_context(ecdsa_chain1).wrap_socket(sock, server_hostname="localhost")


def test_oversized_then_trickle(hostile_peers):
    peer = hostile_peers.oversized_then_trickle()
    with socket.create_connection(peer.address, timeout=2) as sock:
        sock.sendall(hostile.sample_client_hello())
        data = b""
        while len(data) < 9:
            data += sock.recv(9 - len(data))
        assert data == bytes.fromhex("16 0303 4000 0b ffffff")
        started = time.monotonic()
        assert sock.recv(16) == b"\x00"  # one byte, 0.5 s later
        assert 0.3 < time.monotonic() - started < 1.5


# -- tools --------------------------------------------------------------------------------------


def test_require_tool_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install no-such-package"):
        require_tool("tlsmon-no-such-tool", "apt-get install no-such-package")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="tlsmon-no-such-tool"):
        require_tool("tlsmon-no-such-tool", "apt-get install no-such-package")
