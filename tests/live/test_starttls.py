"""STARTTLS preambles (tlsmon.sources.starttls) against real-protocol servers on loopback.

Each server (tests/peers/starttls_servers.py) speaks its protocol's plaintext preamble and then a
real TLS handshake with Python's ssl; openssl s_client checks those servers independently.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
import tracemalloc

import pytest

from peers.starttls_servers import ldap_extended_response
from peers.tools import require_tool
from tlsmon.errors import ConnectionReset, ProbeError, ProbeTimeout
from tlsmon.sources.starttls import (
    ACCEPTED_PROTOCOLS,
    DEFAULT_PORTS,
    IMPLICIT_TLS,
    PROTOCOLS,
    StartTlsError,
    canonical_protocol,
    negotiate,
)

ALL = list(PROTOCOLS) + ["xmpp-server"]
LINE_PROTOCOLS = ["smtp", "imap", "pop3", "ftp"]
LOCAL_NAME = "probe.example.test"
LABEL = {"smtp": "SMTP", "imap": "IMAP", "pop3": "POP3", "ftp": "FTP", "ldap": "LDAP", "postgres": "PostgreSQL",
         "xmpp": "XMPP", "xmpp-server": "XMPP"}  # fmt: skip

LDAP_STARTTLS_REQUEST = bytes(
    [
        0x30, 0x1D,  # LDAPMessage: SEQUENCE, length 29
        0x02, 0x01, 0x01,  # messageID: INTEGER 1
        0x77, 0x18,  # protocolOp: [APPLICATION 23] ExtendedRequest, length 24
        0x80, 0x16,  # requestName: [0] LDAPOID, length 22
    ]
) + b"1.3.6.1.4.1.1466.20037"  # fmt: skip
PG_SSL_REQUEST = bytes(
    [
        0x00, 0x00, 0x00, 0x08,  # Int32 length: 8
        0x04, 0xD2, 0x16, 0x2F,  # Int32 SSLRequest code: 80877103 (1234 << 16 | 5679)
    ]
)  # fmt: skip
PG_ERROR = (  # ErrorResponse fields, after the 'E' and the Int32 length
    b"SFATAL\x00"  # S: severity
    b"C0A000\x00"  # C: SQLSTATE feature_not_supported
    b"Munsupported frontend protocol 1234.5679\x00"  # M: message
    b"\x00"  # end of fields
)
XMPP_STARTTLS = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"


def xmpp_header(namespace: str) -> bytes:
    return (
        f"<?xml version='1.0'?><stream:stream to='localhost' xmlns='{namespace}' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    ).encode()


SENT = {  # what the client sends, all the way to the go-ahead
    "smtp": [f"EHLO {LOCAL_NAME}\r\n".encode(), b"STARTTLS\r\n"],
    "imap": [b"a001 CAPABILITY\r\n", b"a002 STARTTLS\r\n"],
    "pop3": [b"STLS\r\n"],
    "ftp": [b"AUTH TLS\r\n"],
    "ldap": [LDAP_STARTTLS_REQUEST],
    "postgres": [PG_SSL_REQUEST],
    "xmpp": [xmpp_header("jabber:client"), XMPP_STARTTLS],
    "xmpp-server": [xmpp_header("jabber:server"), XMPP_STARTTLS],
}
AWAITED_FIRST = {  # what the client waits for after its first command, in messages
    "smtp": "reply to EHLO",
    "imap": "reply to CAPABILITY",
    "pop3": "reply to STLS",
    "ftp": "reply to AUTH TLS",
    "ldap": "StartTLS ExtendedResponse",
    "postgres": "reply to SSLRequest",
    "xmpp": "stream features",
    "xmpp-server": "stream features",
}
REFUSED = {
    "smtp": "SMTP server refused STARTTLS: 454 4.7.0 TLS not available due to local problem",
    "imap": "IMAP server refused STARTTLS: a002 NO [UNAVAILABLE] TLS not available",
    "pop3": "POP3 server refused STLS: -ERR TLS support isn't enabled.",
    "ftp": "FTP server refused AUTH TLS: 534 Request denied for policy reasons.",
    "ldap": "LDAP server refused StartTLS: resultCode 2 (protocolError): unsupported extended operation",
    "postgres": "PostgreSQL server does not accept SSL ('N')",
    "xmpp": "XMPP server refused STARTTLS: <failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    "xmpp-server": "XMPP server refused STARTTLS: <failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
}
NOT_OFFERED = {  # (message, what the server saw)
    "smtp": ("SMTP server does not offer STARTTLS (EHLO reply lists no STARTTLS)", SENT["smtp"][:1]),
    "imap": ("IMAP server does not offer STARTTLS (CAPABILITY lists no STARTTLS)", SENT["imap"][:1]),
    "pop3": ("POP3 server refused STLS: -ERR Unknown command: STLS", SENT["pop3"]),  # no CAPA round trip
    "ftp": ("FTP server does not offer AUTH TLS: 500 AUTH not understood", SENT["ftp"]),
    "ldap": ("LDAP server refused StartTLS: resultCode 52 (unavailable): Could not initialize TLS", SENT["ldap"]),
    "postgres": ("PostgreSQL server does not accept SSL ('N')", SENT["postgres"]),
    "xmpp": ("XMPP server does not offer STARTTLS (stream features list no <starttls/>)", SENT["xmpp"][:1]),
    "xmpp-server": ("XMPP server does not offer STARTTLS (stream features list no <starttls/>)",
                    SENT["xmpp-server"][:1]),
}  # fmt: skip
FLOODED = {
    "smtp": "SMTP server sent a line longer than 4096 bytes while we waited for the greeting",
    "imap": "IMAP server sent a line longer than 4096 bytes while we waited for the greeting",
    "pop3": "POP3 server sent a line longer than 4096 bytes while we waited for the greeting",
    "ftp": "FTP server sent a line longer than 4096 bytes while we waited for the greeting",
    "ldap": "LDAP server announced a 2147483647-byte LDAPMessage (limit 65536)",
    "postgres": "PostgreSQL server announced a 2147483647-byte ErrorResponse (limit 65536)",
    "xmpp": "XMPP server sent more than 65536 bytes while we waited for the stream features",
    "xmpp-server": "XMPP server sent more than 65536 bytes while we waited for the stream features",
}


def connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=5)


def upgrade(sock: socket.socket, protocol: str, timeout: float = 5.0, host: str = "localhost", **kw) -> None:
    negotiate(sock, protocol, host, time.monotonic() + timeout, local_name=kw.pop("local_name", LOCAL_NAME), **kw)


def tls_handshake(sock: socket.socket, identity) -> str:
    ctx = ssl.create_default_context(cafile=str(identity.ca_pem_path))
    with ctx.wrap_socket(sock, server_hostname="localhost") as tls:
        return tls.version() or ""


def failure(server, protocol: str, exc_type=StartTlsError, timeout: float = 5.0) -> ProbeError:
    with connect(server.address) as sock:
        with pytest.raises(exc_type) as info:
            upgrade(sock, protocol, timeout)
    assert info.value.phase == "starttls"
    assert "\n" not in str(info.value)
    return info.value


# -- the happy path -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ALL)
def test_negotiate_then_tls_handshake(starttls_server, ecdsa_chain1, protocol):
    server = starttls_server(protocol, ecdsa_chain1)
    with connect(server.address) as sock:
        sock.settimeout(7.0)
        upgrade(sock, protocol)
        assert sock.gettimeout() == 7.0  # restored
        assert tls_handshake(sock, ecdsa_chain1).startswith("TLSv1.")
    assert server.wait_for(handshakes=1), server.errors
    assert server.received == SENT[protocol]
    assert server.errors == []


@pytest.mark.parametrize("protocol", ALL)
def test_socket_is_left_exactly_at_the_tls_start(starttls_server, ecdsa_chain1, protocol):
    # The go-ahead and these bytes leave the server in one write: a client that read ahead loses them.
    trailing = b"\x16\x03\x01 first bytes of TLS"
    server = starttls_server(protocol, ecdsa_chain1, trailing=trailing)
    with connect(server.address) as sock:
        upgrade(sock, protocol)
        data = b""
        while len(data) < len(trailing):
            chunk = sock.recv(1024)
            assert chunk, data
            data += chunk
    assert data == trailing


def test_rsa_chain_and_default_ehlo_name(starttls_server, rsa_chain2):
    server = starttls_server("smtp", rsa_chain2)
    with connect(server.address) as sock:
        negotiate(sock, "SMTP", "localhost", time.monotonic() + 5)  # any case
        tls_handshake(sock, rsa_chain2)
    assert server.received == [b"EHLO [127.0.0.1]\r\n", b"STARTTLS\r\n"]  # RFC 5321 address literal


def test_ipv6_loopback(starttls_server, ecdsa_chain1):
    server = starttls_server("smtp", ecdsa_chain1, host="::1")
    with connect(server.address) as sock:
        negotiate(sock, "smtp", "localhost", time.monotonic() + 5)
        tls_handshake(sock, ecdsa_chain1)
    assert server.wait_for(handshakes=1), server.errors
    assert server.received == [b"EHLO [IPv6:::1]\r\n", b"STARTTLS\r\n"]


# -- the server says no ---------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ALL)
def test_refusal(starttls_server, ecdsa_chain1, protocol):
    server = starttls_server(protocol, ecdsa_chain1, refuse=True)
    exc = failure(server, protocol)
    assert str(exc) == REFUSED[protocol]
    assert exc.kind == "starttls"
    assert server.received == SENT[protocol]
    assert server.handshakes == 0


@pytest.mark.parametrize("protocol", ALL)
def test_capability_missing(starttls_server, ecdsa_chain1, protocol):
    server = starttls_server(protocol, ecdsa_chain1, offer_starttls=False)
    exc = failure(server, protocol)
    message, seen = NOT_OFFERED[protocol]
    assert str(exc) == message
    assert server.received == seen


# -- the server goes silent, hangs up, resets -----------------------------------------------------


@pytest.mark.parametrize("protocol", ALL)
def test_stall_times_out_at_the_deadline(starttls_server, ecdsa_chain1, protocol):
    server = starttls_server(protocol, ecdsa_chain1, stall=True)
    start = time.monotonic()
    exc = failure(server, protocol, ProbeTimeout, timeout=1.0)
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 1.5
    assert str(exc) == f"timed out waiting for the {LABEL[protocol]} {AWAITED_FIRST[protocol]}"
    assert exc.kind == "timeout"
    assert server.received == SENT[protocol][:1]


def test_silent_server_times_out_waiting_for_the_greeting(hostile_peers):
    tarpit = hostile_peers.tarpit()
    start = time.monotonic()
    with connect(tarpit.address) as sock, pytest.raises(ProbeTimeout) as info:
        negotiate(sock, "smtp", "localhost", time.monotonic() + 1.0)
    assert 0.9 <= time.monotonic() - start < 1.5
    assert str(info.value) == "timed out waiting for the SMTP greeting"
    assert info.value.phase == "starttls"


@pytest.mark.parametrize("protocol", ALL)
def test_early_close(starttls_server, ecdsa_chain1, protocol):
    server = starttls_server(protocol, ecdsa_chain1, close_early=True)
    exc = failure(server, protocol)
    awaited = AWAITED_FIRST[protocol]
    assert str(exc) == f"{LABEL[protocol]} server closed the connection while we waited for the {awaited}"


@pytest.mark.parametrize("protocol", ALL)
def test_reset(starttls_server, ecdsa_chain1, protocol):
    server = starttls_server(protocol, ecdsa_chain1, reset=True)
    exc = failure(server, protocol, ConnectionReset)
    awaited = AWAITED_FIRST[protocol]
    assert str(exc) == f"{LABEL[protocol]} server reset the connection while we waited for the {awaited}"
    assert exc.kind == "reset"


# -- hostile servers ------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ALL)
def test_flood_is_cut_off_without_memory_growth(starttls_server, ecdsa_chain1, protocol):
    server = starttls_server(protocol, ecdsa_chain1, flood=True)
    with connect(server.address) as sock:
        tracemalloc.start()
        try:
            with pytest.raises(StartTlsError) as info:
                upgrade(sock, protocol, 10.0)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert str(info.value) == FLOODED[protocol]
    assert peak < 1024 * 1024, peak


def test_deadline_already_passed():
    a, b = socket.socketpair()
    with a, b, pytest.raises(ProbeTimeout, match="^timed out waiting for the SMTP greeting$"):
        negotiate(a, "smtp", "localhost", time.monotonic() - 1)


def test_deadline_uses_the_given_clock():
    a, b = socket.socketpair()
    start = time.monotonic()
    with a, b, pytest.raises(ProbeTimeout, match="PostgreSQL reply to SSLRequest"):
        negotiate(a, "postgres", "localhost", 100.3, clock=lambda: 100.0)
    assert 0.25 <= time.monotonic() - start < 1.0


# -- odd but legal (or plainly wrong) replies, scripted over a socket pair ------------------------


def scripted(steps: list) -> tuple[socket.socket, list[bytes], threading.Thread]:
    """A peer that, step by step, sends bytes or reads exactly N bytes; returns our end and its log."""
    ours, theirs = socket.socketpair()
    log: list[bytes] = []

    def run() -> None:
        theirs.settimeout(5)
        try:
            for step in steps:
                if isinstance(step, int):
                    data = b""
                    while len(data) < step:
                        chunk = theirs.recv(step - len(data))
                        if not chunk:
                            return
                        data += chunk
                    log.append(data)
                else:
                    theirs.sendall(step)
        except OSError:
            pass
        finally:
            theirs.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return ours, log, thread


def run_script(protocol: str, steps: list, host: str = "localhost") -> tuple[socket.socket, list[bytes]]:
    sock, log, thread = scripted(steps)
    try:
        negotiate(sock, protocol, host, time.monotonic() + 5, local_name=LOCAL_NAME)
    except BaseException:
        sock.close()
        raise
    finally:
        thread.join(5)
    return sock, log


@pytest.mark.parametrize(
    "protocol, steps, message",
    [
        ("smtp", [b"554 5.3.2 mail.example.test Service currently unavailable\r\n"],
         "SMTP server refused the session: 554 5.3.2 mail.example.test Service currently unavailable"),
        ("smtp", [b"HTTP/1.1 400 Bad Request\r\n"], "SMTP server sent a malformed greeting: HTTP/1.1 400 Bad Request"),
        ("smtp", [b"220 ok\r\n", 25, b"502 5.5.2 Error: command not recognized\r\n"],
         "SMTP server rejected EHLO: 502 5.5.2 Error: command not recognized"),
        ("smtp", [b"220 ok\x1b[31m\r\n", 25, b"250-mail\r\n250 STARTTLSX\r\n"],
         "SMTP server does not offer STARTTLS (EHLO reply lists no STARTTLS)"),
        ("imap", [b"* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\n"],
         "IMAP server greeted with PREAUTH, which rules out STARTTLS: * PREAUTH [CAPABILITY IMAP4rev1] logged in"),
        ("imap", [b"* BYE Too many connections\r\n"], "IMAP server refused the session: * BYE Too many connections"),
        ("pop3", [b"-ERR [SYS/TEMP] Too many connections\r\n"],
         "POP3 server refused the session: -ERR [SYS/TEMP] Too many connections"),
        ("ftp", [b"421 Too many users\r\n"], "FTP server refused the session: 421 Too many users"),
        ("ldap", [31, ldap_extended_response(0, 2, b"bad request")],
         "LDAP server sent a notice of disconnection: resultCode 2 (protocolError): bad request"),
        ("ldap", [31, b"\x30\x80"], "LDAP server sent an indefinite BER length, which LDAP does not allow"),
        ("ldap", [31, b"\x30\x05\x02\x01\x01\x78\x09"],
         "LDAP server sent a malformed ExtendedResponse (element overruns its container)"),
        ("ldap", [31, b"HTTP/1.1 400"], "LDAP server sent no LDAPMessage (first byte 0x48)"),
        ("postgres", [8, b"E" + (4 + len(PG_ERROR)).to_bytes(4, "big") + PG_ERROR],
         "PostgreSQL server rejected SSLRequest: FATAL 0A000 unsupported frontend protocol 1234.5679"),
        ("postgres", [8, b"H"], "PostgreSQL server sent an unexpected reply to SSLRequest: b'H'"),
        ("xmpp", [1, b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' version='1.0'><stream:error>"
                     b"<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"],
         "XMPP server sent a stream error: host-unknown"),
        ("xmpp", [1, b"<?xml version='1.0'?><stream:stream version='1.0'></stream:stream>"],
         "XMPP server closed the XML stream while we waited for the stream features"),
    ],
)  # fmt: skip
def test_scripted_failures(protocol, steps, message):
    with pytest.raises(StartTlsError) as info:
        run_script(protocol, steps)
    assert str(info.value) == message
    assert info.value.phase == "starttls"


def test_scripted_successes_stop_exactly_at_the_go_ahead():
    after = b"\x16\x03\x01rest"
    # FTP: "120 ready in nnn minutes" first, then the 220 greeting
    sock, log = run_script("ftp", [b"120 Service ready in 1 minute\r\n220 ready\r\n", 10, b"234 ok\r\n" + after])
    with sock:
        assert sock.recv(100) == after and log == [b"AUTH TLS\r\n"]
    # IMAP: a literal inside an untagged response, tags echoed
    sock, log = run_script("imap", [b"* OK hi\r\n", 17, b"* ID (\"name\" {5}\r\na001 )\r\n* CAPABILITY IMAP4rev1 "
                                    b"starttls\r\na001 OK done\r\n", 15, b"a002 OK go\r\n" + after])  # fmt: skip
    with sock:
        assert sock.recv(100) == after and log == [b"a001 CAPABILITY\r\n", b"a002 STARTTLS\r\n"]
    # XMPP: <proceed></proceed> in two tags, double quotes, bytes split across writes
    header = len(xmpp_header("jabber:client").replace(b"localhost", b"x&apos;y"))
    sock, log = run_script("xmpp", [header, b"<?xml version='1.0'?><stream:stream version='1.0'><stream:feat",
                                    b"ures><starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/></stream:features>",
                                    len(XMPP_STARTTLS), b" <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'>",
                                    b"</proceed>" + after], host="x'y")  # fmt: skip
    with sock:
        assert sock.recv(100) == after
        assert log[0] == xmpp_header("jabber:client").replace(b"to='localhost'", b"to='x&apos;y'")


# -- the API --------------------------------------------------------------------------------------


def test_implicit_tls_is_a_no_op():
    a, b = socket.socketpair()
    with a, b:
        for name in sorted(IMPLICIT_TLS):
            negotiate(a, name, "localhost", time.monotonic() + 1)
        b.setblocking(False)
        with pytest.raises(BlockingIOError):
            b.recv(1)


def test_names_and_ports():
    assert PROTOCOLS == ("smtp", "imap", "pop3", "ftp", "ldap", "postgres", "xmpp")
    assert {"smtps", "imaps", "pop3s", "ftps", "ldaps"} <= IMPLICIT_TLS
    assert set(DEFAULT_PORTS) == set(ACCEPTED_PROTOCOLS)
    assert DEFAULT_PORTS["xmpp-server"] == 5269 and DEFAULT_PORTS["postgres"] == 5432
    assert canonical_protocol(" XMPP-Server ") == "xmpp-server"
    with pytest.raises(ValueError, match="unknown STARTTLS protocol 'gopher'"):
        canonical_protocol("gopher")


def test_usage_errors():
    a, b = socket.socketpair()
    with a, b:
        with pytest.raises(ValueError):
            negotiate(a, "gopher", "localhost", time.monotonic() + 1)
        with pytest.raises(ValueError):
            negotiate(a, "smtp", "localhost", time.monotonic() + 1, local_name="evil\r\nRCPT TO:<x>")


# -- the test servers, checked by an independent client -------------------------------------------


@pytest.mark.parametrize("protocol", ALL)
def test_servers_speak_what_openssl_s_client_speaks(starttls_server, ecdsa_chain1, protocol):
    openssl = require_tool("openssl", "apt-get install openssl")
    server = starttls_server(protocol, ecdsa_chain1)
    cmd = [openssl, "s_client", "-connect", f"127.0.0.1:{server.port}", "-starttls", protocol, "-brief"]
    cmd += ["-name", "localhost", "-servername", "localhost"]  # XMPP "to", SMTP EHLO name, SNI
    cmd += ["-CAfile", str(ecdsa_chain1.ca_pem_path), "-verify_return_error"]
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    assert "Verification: OK" in done.stderr
    assert server.wait_for(handshakes=1), server.errors
