"""Plaintext servers that upgrade to TLS with STARTTLS, one per protocol, on loopback, port 0.

Each speaks the real preamble of a well-known server (Postfix, Dovecot, ProFTPD, OpenLDAP,
PostgreSQL, Prosody), then wraps the connection with Python's ``ssl`` on the server side, completes
the TLS handshake with the given test identity and closes. Options make it misbehave:

- ``offer_starttls=False``: the capability is missing (EHLO, CAPABILITY, stream features), and the
  command is answered as that server answers an unknown or disabled command.
- ``refuse=True``: the negative answer (SMTP 454, IMAP ``NO``, POP3 ``-ERR``, FTP 534, LDAP
  resultCode 2, PostgreSQL ``N``, XMPP ``<failure/>``).
- ``stall=True`` / ``close_early=True`` / ``reset=True``: after the greeting (line protocols) the
  server reads the client's first command and then goes silent, closes (FIN) or resets (RST); LDAP,
  PostgreSQL and XMPP do so after reading the client's first message.
- ``flood=True``: a hostile server: an endless line instead of the greeting, endless XMPP stream
  features, or an LDAP/PostgreSQL reply announcing a 2 GB length, up to ``FLOOD_LIMIT`` bytes.
- ``trailing=b"..."``: sent in the same write as the go-ahead; no TLS then, the connection is
  held. A client that reads only its preamble finds these bytes still in its socket.

``.received`` lists what clients sent (each line with its CRLF, or each binary message),
``.handshakes`` counts completed TLS handshakes, ``.errors`` collects server-side failures.
Every server stops on ``stop()`` and bounds its own lifetime (``max_lifetime``, 60 s).
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import struct
import threading
import time
from typing import Callable, Optional

from .pki import ServerIdentity

PROTOCOLS = ("smtp", "imap", "pop3", "ftp", "ldap", "postgres", "xmpp", "xmpp-server")
MAX_LIFETIME = 60.0
READ_TIMEOUT = 5.0
HANDSHAKE_TIMEOUT = 5.0
FLOOD_LIMIT = 8 * 1024 * 1024
MAX_CLIENT_BYTES = 65536
HOSTNAME = "mail.example.test"

# -- what the servers say -------------------------------------------------------------------------

# Postfix behind postscreen: "220-" first, the final "220 " line after the pregreet test.
SMTP_GREETING = (f"220-{HOSTNAME} ESMTP Postfix\r\n".encode(), f"220 {HOSTNAME} ESMTP Postfix\r\n".encode())
SMTP_EHLO_KEYWORDS = ("PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
                      "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")  # fmt: skip
SMTP_READY = b"220 2.0.0 Ready to start TLS\r\n"
SMTP_REFUSED = b"454 4.7.0 TLS not available due to local problem\r\n"
SMTP_NOT_IMPLEMENTED = b"502 5.5.1 Error: command not implemented\r\n"

IMAP_CAPABILITIES = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED"
IMAP_READY = "OK Begin TLS negotiation now."
IMAP_REFUSED = "NO [UNAVAILABLE] TLS not available"
IMAP_NOT_OFFERED = "BAD TLS support isn't enabled."

POP3_GREETING = b"+OK Dovecot (Debian) ready.\r\n"
POP3_READY = b"+OK Begin TLS negotiation now.\r\n"
POP3_REFUSED = b"-ERR TLS support isn't enabled.\r\n"
POP3_NOT_OFFERED = b"-ERR Unknown command: STLS\r\n"

FTP_GREETING = (
    b"220-Welcome to the tlsmon test FTP service.\r\n"
    b"    Unauthorized access is prohibited.\r\n"  # RFC 959 lets inner lines be free text
    b"220 ProFTPD Server (" + HOSTNAME.encode() + b") [127.0.0.1]\r\n"
)
FTP_READY = b"234 AUTH TLS successful\r\n"
FTP_REFUSED = b"534 Request denied for policy reasons.\r\n"
FTP_NOT_OFFERED = b"500 AUTH not understood\r\n"

LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
LDAP_REFUSED = (2, b"unsupported extended operation")  # protocolError
LDAP_NOT_OFFERED = (52, b"Could not initialize TLS")  # unavailable: slapd without TLS configured

XMPP_TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"
XMPP_FEATURES = {
    "jabber:client": (
        f"<stream:features><starttls xmlns='{XMPP_TLS_NS}'><required/></starttls>"
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms>"
        "</stream:features>"
    ),
    "jabber:server": (
        f"<stream:features><starttls xmlns='{XMPP_TLS_NS}'/><dialback xmlns='urn:xmpp:features:dialback'/>"
        "</stream:features>"
    ),
}
XMPP_FEATURES_WITHOUT_TLS = (
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>"
    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"
)
XMPP_PROCEED = f"<proceed xmlns='{XMPP_TLS_NS}'/>".encode()
XMPP_FAILURE = f"<failure xmlns='{XMPP_TLS_NS}'/></stream:stream>".encode()


def ber(tag: int, value: bytes) -> bytes:
    """One BER TLV with a definite length (short form below 128, else long form)."""
    if len(value) < 0x80:
        return bytes([tag, len(value)]) + value
    size = len(value).to_bytes((len(value).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + value


def ldap_extended_response(message_id: int, result_code: int, diagnostic: bytes = b"", oid: bool = True) -> bytes:
    """LDAPMessage { messageID, [APPLICATION 24] ExtendedResponse { resultCode, matchedDN,
    diagnosticMessage, [10] responseName } } (RFC 4511 §4.12), as slapd sends it."""
    op = (
        ber(0x0A, bytes([result_code]))  # resultCode ENUMERATED
        + ber(0x04, b"")  # matchedDN
        + ber(0x04, diagnostic)  # diagnosticMessage
        + (ber(0x8A, LDAP_STARTTLS_OID) if oid else b"")  # responseName [10]
    )
    return ber(0x30, ber(0x02, message_id.to_bytes(1, "big")) + ber(0x78, op))


# -- buffered reads for the server side -----------------------------------------------------------


class ClientClosed(Exception):
    pass


class _Reader:
    """Buffered reads from the client; `pending` must be empty before the TLS handshake."""

    def __init__(self, conn: socket.socket, note: Callable[[bytes], None]) -> None:
        self.conn = conn
        self.note = note
        self.pending = b""

    def _fill(self) -> None:
        chunk = self.conn.recv(4096)
        if not chunk:
            raise ClientClosed
        self.pending += chunk
        if len(self.pending) > MAX_CLIENT_BYTES:
            raise ValueError("client sent too much")

    def line(self) -> bytes:
        while b"\n" not in self.pending:
            self._fill()
        return self._take(self.pending.index(b"\n") + 1)

    def exact(self, size: int) -> bytes:
        while len(self.pending) < size:
            self._fill()
        return self._take(size)

    def match(self, pattern: bytes) -> bytes:
        regex = re.compile(pattern, re.S)
        while True:
            found = regex.search(self.pending)
            if found:
                return self._take(found.end())
            self._fill()

    def ber_message(self) -> bytes:
        """One BER element (an LDAPMessage), definite length, at most MAX_CLIENT_BYTES."""
        while len(self.pending) < 2 or (self.pending[1] & 0x80 and len(self.pending) < 2 + (self.pending[1] & 0x7F)):
            self._fill()
        size, header = self.pending[1], 2
        if size & 0x80:
            header += size & 0x7F
            size = int.from_bytes(self.pending[2:header], "big")
        if size > MAX_CLIENT_BYTES:
            raise ValueError("LDAP message too long")
        return self.exact(header + size)

    def _take(self, size: int) -> bytes:
        data, self.pending = self.pending[:size], self.pending[size:]
        self.note(data)
        return data


# -- the server -----------------------------------------------------------------------------------


class StartTlsServer:
    """A STARTTLS server for one protocol (see the module docstring for the options)."""

    def __init__(
        self,
        protocol: str,
        identity: ServerIdentity,
        *,
        host: str = "127.0.0.1",
        offer_starttls: bool = True,
        refuse: bool = False,
        stall: bool = False,
        close_early: bool = False,
        reset: bool = False,
        flood: bool = False,
        trailing: bytes = b"",
        max_lifetime: float = MAX_LIFETIME,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
        self.protocol = protocol
        self.identity = identity
        self.offer_starttls = offer_starttls
        self.refuse = refuse
        self.stall = stall
        self.close_early = close_early
        self.reset = reset
        self.flood = flood
        self.trailing = trailing
        self.flood_sent = 0
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(identity.chain_pem_path), str(identity.key_path))

        self._lock = threading.Lock()
        self._received: list[bytes] = []
        self._handshakes = 0
        self._errors: list[str] = []
        self._conns: set[socket.socket] = set()
        self._handlers: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._closed = False
        self._end_of_life = time.monotonic() + max_lifetime
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.bind((host, 0))
            self._listener.listen(16)
        except OSError:
            self._listener.close()
            raise
        self._wake_r, self._wake_w = socket.socketpair()
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name=f"starttls-{protocol}-{self.port}", daemon=True)
        self._thread.start()

    # -- what a test reads --------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def received(self) -> list[bytes]:
        """What clients sent: each line with its CRLF, or each binary message (LDAP, PostgreSQL)."""
        with self._lock:
            return list(self._received)

    @property
    def handshakes(self) -> int:
        with self._lock:
            return self._handshakes

    @property
    def errors(self) -> list[str]:
        with self._lock:
            return list(self._errors)

    def wait_for(self, *, handshakes: int = 0, errors: int = 0, timeout: float = 5.0) -> bool:
        """Wait until the server counted that many handshakes and errors (its thread may lag the client)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.handshakes >= handshakes and len(self.errors) >= errors:
                return True
            time.sleep(0.01)
        return False

    # -- lifetime -----------------------------------------------------------------------------

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopped.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(5)
        self._shutdown_connections()
        with self._lock:
            handlers = list(self._handlers)
        for thread in handlers:
            thread.join(2)
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()

    def __enter__(self) -> StartTlsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            remaining = self._end_of_life - time.monotonic()
            if remaining <= 0:
                break
            try:
                readable, _, _ = select.select([self._listener, self._wake_r], [], [], min(remaining, 1.0))
                if self._listener not in readable or self._stopped.is_set():
                    continue
                conn, _ = self._listener.accept()
            except OSError:
                break
            thread = threading.Thread(target=self._run, args=(conn,), daemon=True)
            with self._lock:
                self._conns.add(conn)
                self._handlers.append(thread)
            thread.start()
        self._stopped.set()
        self._shutdown_connections()

    def _shutdown_connections(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # socket-level shutdown wakes a handler blocked in recv or a handshake
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass

    # -- one connection -----------------------------------------------------------------------

    def _run(self, conn: socket.socket) -> None:
        conn.settimeout(READ_TIMEOUT)
        reader = _Reader(conn, self._note)
        try:
            go_ahead = self._serve(conn, reader)
            if go_ahead is not None:
                if reader.pending:
                    raise RuntimeError(f"client sent {reader.pending[:40]!r} before the go-ahead")
                conn.sendall(go_ahead + self.trailing)
                if self.trailing:
                    self._hold(conn)
                else:
                    self._tls(conn)
        except ClientClosed:
            pass
        except Exception as exc:  # the server must survive whatever a client does
            if not self._stopped.is_set():
                with self._lock:
                    self._errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._close(conn)
            with self._lock:
                self._conns.discard(conn)

    def _serve(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        serve = {"smtp": self._smtp, "imap": self._imap, "pop3": self._pop3, "ftp": self._ftp, "ldap": self._ldap,
                 "postgres": self._postgres, "xmpp": self._xmpp, "xmpp-server": self._xmpp}[self.protocol]  # fmt: skip
        return serve(conn, reader)

    def _tls(self, conn: socket.socket) -> None:
        tls = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        with self._lock:
            self._conns.add(tls)
        try:
            tls.settimeout(HANDSHAKE_TIMEOUT)
            tls.do_handshake()
            with self._lock:
                self._handshakes += 1
            tls.settimeout(1.0)
            try:
                tls.unwrap()  # close_notify, as a polite server ends the session
            except (OSError, ValueError):
                pass  # the client closed without its close_notify: usual for a monitoring probe
        finally:
            self._close(tls)
            with self._lock:
                self._conns.discard(tls)

    def _note(self, data: bytes) -> None:
        with self._lock:
            self._received.append(data)

    def _interrupt(self, conn: socket.socket) -> bool:
        """Stall, close or reset at the agreed point; True if the conversation ends here."""
        if self.stall:
            self._hold(conn)
            return True
        if self.reset:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return True
        return self.close_early

    def _hold(self, conn: socket.socket) -> None:
        """Send nothing until the client closes, stop() or the end of life; drop what arrives."""
        while not self._stopped.is_set():
            remaining = self._end_of_life - time.monotonic()
            if remaining <= 0:
                return
            if select.select([conn], [], [], min(remaining, 0.5))[0]:
                try:
                    if not conn.recv(65536):
                        return
                except OSError:
                    return

    def _flood(self, conn: socket.socket, prefix: bytes, unit: bytes) -> None:
        conn.sendall(prefix)
        block = unit * (65536 // len(unit))
        while self.flood_sent < FLOOD_LIMIT and not self._stopped.is_set():
            try:
                conn.sendall(block)
            except OSError:
                return  # the client gave up, as it should
            self.flood_sent += len(block)
        self._hold(conn)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        """FIN, read what the client still sends for a moment, close (so that close() sends no RST)."""
        try:
            if sock.fileno() >= 0:
                socket.socket.shutdown(sock, socket.SHUT_WR)
                end = time.monotonic() + 0.5
                while (remaining := end - time.monotonic()) > 0 and select.select([sock], [], [], remaining)[0]:
                    if not socket.socket.recv(sock, 65536):
                        break
        except OSError:
            pass
        sock.close()

    # -- the protocols: each returns the go-ahead to send, or None when the conversation ends --

    def _smtp(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        if self.flood:
            self._flood(conn, b"220-", b"A")
            return None
        conn.sendall(SMTP_GREETING[0])
        time.sleep(0.05)  # the pregreet pause: the client sees a partial reply first
        conn.sendall(SMTP_GREETING[1])
        first = True
        while True:
            line = reader.line()
            if first and self._interrupt(conn):
                return None
            first = False
            verb = line.split(None, 1)[0].upper() if line.strip() else b""
            if verb in (b"EHLO", b"HELO"):
                keywords = [k for k in SMTP_EHLO_KEYWORDS if self.offer_starttls or k != "STARTTLS"]
                lines = [HOSTNAME, *keywords] if verb == b"EHLO" else [HOSTNAME]
                conn.sendall(b"".join(f"250{'-' if i < len(lines) - 1 else ' '}{t}\r\n".encode()
                                      for i, t in enumerate(lines)))  # fmt: skip
            elif verb == b"STARTTLS":
                if self.refuse:
                    conn.sendall(SMTP_REFUSED)
                elif not self.offer_starttls:
                    conn.sendall(SMTP_NOT_IMPLEMENTED)
                else:
                    return SMTP_READY
            elif verb == b"QUIT":
                conn.sendall(b"221 2.0.0 Bye\r\n")
                return None
            else:
                conn.sendall(b"502 5.5.2 Error: command not recognized\r\n")

    def _imap(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        if self.flood:
            self._flood(conn, b"* OK ", b"A")
            return None
        caps = IMAP_CAPABILITIES if self.offer_starttls else IMAP_CAPABILITIES.replace(" STARTTLS", "")
        conn.sendall(f"* OK [CAPABILITY {caps}] Dovecot (Debian) ready.\r\n".encode())
        first = True
        while True:
            line = reader.line()
            if first and self._interrupt(conn):
                return None
            first = False
            tag, _, rest = line.strip().partition(b" ")
            command = rest.split(b" ", 1)[0].upper()
            if command == b"CAPABILITY":
                done = b" OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
                conn.sendall(f"* CAPABILITY {caps}\r\n".encode() + tag + done)
            elif command == b"STARTTLS":
                if self.refuse:
                    conn.sendall(tag + b" " + IMAP_REFUSED.encode() + b"\r\n")
                elif not self.offer_starttls:
                    conn.sendall(tag + b" " + IMAP_NOT_OFFERED.encode() + b"\r\n")
                else:
                    return tag + b" " + IMAP_READY.encode() + b"\r\n"
            elif command == b"LOGOUT":
                conn.sendall(b"* BYE Logging out\r\n" + tag + b" OK Logout completed.\r\n")
                return None
            else:
                conn.sendall(tag + b" BAD Error in IMAP command received by server.\r\n")

    def _pop3(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        if self.flood:
            self._flood(conn, b"+OK ", b"A")
            return None
        conn.sendall(POP3_GREETING)
        first = True
        while True:
            line = reader.line()
            if first and self._interrupt(conn):
                return None
            first = False
            command = line.strip().upper()
            if command == b"CAPA":
                caps = ["CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "USER"]
                caps = [c for c in caps if self.offer_starttls or c != "STLS"]
                conn.sendall(b"+OK\r\n" + "".join(c + "\r\n" for c in caps).encode() + b".\r\n")
            elif command == b"STLS":
                if self.refuse:
                    conn.sendall(POP3_REFUSED)
                elif not self.offer_starttls:
                    conn.sendall(POP3_NOT_OFFERED)
                else:
                    return POP3_READY
            elif command == b"QUIT":
                conn.sendall(b"+OK Logging out.\r\n")
                return None
            else:
                conn.sendall(b"-ERR Unknown command.\r\n")

    def _ftp(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        if self.flood:
            self._flood(conn, b"220-", b"A")
            return None
        conn.sendall(FTP_GREETING)
        first = True
        while True:
            line = reader.line()
            if first and self._interrupt(conn):
                return None
            first = False
            command = line.strip().upper()
            if command == b"AUTH TLS":
                if self.refuse:
                    conn.sendall(FTP_REFUSED)
                elif not self.offer_starttls:
                    conn.sendall(FTP_NOT_OFFERED)
                else:
                    return FTP_READY
            elif command == b"FEAT":
                feats = [" AUTH TLS", " PBSZ", " PROT", " MDTM", " SIZE", " UTF8"]
                feats = [f for f in feats if self.offer_starttls or "AUTH" not in f]
                conn.sendall(b"211-Features:\r\n" + "".join(f + "\r\n" for f in feats).encode() + b"211 End\r\n")
            elif command == b"QUIT":
                conn.sendall(b"221 Goodbye.\r\n")
                return None
            else:
                conn.sendall(b"500 " + line.strip().split(b" ")[0] + b" not understood\r\n")

    def _ldap(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        request = reader.ber_message()
        if self.flood:
            # LDAPMessage with a 4-byte length: 0x7fffffff, then the "content"
            self._flood(conn, bytes([0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF]), b"\x00")
            return None
        if self._interrupt(conn):
            return None
        message_id = request[4] if request[2:4] == b"\x02\x01" else 1  # messageID INTEGER, one byte
        if LDAP_STARTTLS_OID not in request or request[5] != 0x77:  # [APPLICATION 23] ExtendedRequest
            conn.sendall(ldap_extended_response(0, 2, b"unexpected request", oid=False))  # notice of disconnection
            return None
        if self.refuse:
            conn.sendall(ldap_extended_response(message_id, *LDAP_REFUSED, oid=False))
        elif not self.offer_starttls:
            conn.sendall(ldap_extended_response(message_id, *LDAP_NOT_OFFERED, oid=False))
        else:
            return ldap_extended_response(message_id, 0)
        self._hold(conn)
        return None

    def _postgres(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        request = reader.exact(8)
        if self.flood:
            self._flood(conn, b"E" + struct.pack("!I", 0x7FFFFFFF), b"S")
            return None
        if self._interrupt(conn):
            return None
        if request != struct.pack("!II", 8, 80877103):
            raise ValueError(f"not an SSLRequest: {request!r}")
        if self.refuse or not self.offer_starttls:
            conn.sendall(b"N")
            self._hold(conn)  # a real server now waits for a StartupMessage in the clear
            return None
        return b"S"

    def _xmpp(self, conn: socket.socket, reader: _Reader) -> Optional[bytes]:
        header = reader.match(rb"<stream:stream\b[^>]*>")
        namespace = "jabber:server" if self.protocol == "xmpp-server" else "jabber:client"
        if f"xmlns='{namespace}'".encode() not in header and f'xmlns="{namespace}"'.encode() not in header:
            raise ValueError(f"stream header without xmlns {namespace}: {header!r}")
        if self._interrupt(conn):
            return None
        conn.sendall(
            f"<?xml version='1.0'?><stream:stream xmlns='{namespace}' xmlns:stream='http://etherx.jabber.org/streams'"
            f" id='c2a9b9e0-3d1f' version='1.0' from='localhost' xml:lang='en'>".encode()
        )
        if self.flood:
            self._flood(conn, b"<stream:features>", b"<x/>")
            return None
        time.sleep(0.02)  # Prosody writes the header and the features separately
        conn.sendall((XMPP_FEATURES[namespace] if self.offer_starttls else XMPP_FEATURES_WITHOUT_TLS).encode())
        reader.match(rb"<starttls\b[^>]*?(/>|>\s*</starttls>)")
        if self.refuse or not self.offer_starttls:
            conn.sendall(XMPP_FAILURE)
            return None
        return XMPP_PROCEED
