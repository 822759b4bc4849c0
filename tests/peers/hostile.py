"""Hostile and broken peers on 127.0.0.1, port 0, each a context-managed thread server.

Every peer stops promptly on stop() and also bounds its own lifetime (max_lifetime, 60 s by
default): after that it closes its listener and connections by itself, so that a failing test can
never hang the suite on it.
"""

from __future__ import annotations

import select
import socket
import ssl
import struct
import threading
import time
from typing import Optional

DEFAULT_HOST = "127.0.0.1"
MAX_LIFETIME = 60.0
READ_TIMEOUT = 5.0

# A fatal alert record; the last byte is the alert description.
ALERT_RECORD_PREFIX = bytes(
    [
        0x15,  # content type: alert
        0x03, 0x03,  # record version: TLS 1.2
        0x00, 0x02,  # record length: 2
        0x02,  # alert level: fatal
    ]
)  # fmt: skip

RENEGOTIATION_INFO_EXTENSION = bytes(
    [
        0xFF, 0x01,  # extension type: renegotiation_info
        0x00, 0x01,  # extension length: 1
        0x00,  # renegotiated_connection: empty (initial handshake)
    ]
)  # fmt: skip

# Handshake record header declaring a 16 MB Certificate message. The record layer waits for
# 0x4000 bytes of body before the handshake layer can look at them.
OVERSIZED_HEADER = bytes(
    [
        0x16,  # content type: handshake
        0x03, 0x03,  # record version: TLS 1.2
        0x40, 0x00,  # record length: 16384, the maximum plaintext record
        0x0B,  # handshake type: certificate
        0xFF, 0xFF, 0xFF,  # handshake length: uint24 0xffffff, 16 MB
    ]
)  # fmt: skip

BAD_REQUEST_BODY = b"400 Bad Request: this is a plain HTTP server\n"
BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\n"
    b"Server: tlsmon-hostile\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: " + str(len(BAD_REQUEST_BODY)).encode() + b"\r\n"
    b"Connection: close\r\n"
    b"\r\n" + BAD_REQUEST_BODY
)


def alert_record(description: int) -> bytes:
    return ALERT_RECORD_PREFIX + bytes([description])


def server_hello_record(random: bytes = bytes(range(32)), *, renegotiation_info: bool = True) -> bytes:
    """A syntactically valid TLS 1.2 ServerHello record, built by hand.

    With renegotiation_info=False it has no extensions at all; OpenSSL 3 clients then abort at once
    ("unsafe legacy renegotiation disabled", alert 40) instead of waiting for the Certificate, so
    the default adds the empty renegotiation_info extension that any TLS 1.2 server sends.
    """
    if len(random) != 32:
        raise ValueError("random must be 32 bytes")
    extensions = b""
    if renegotiation_info:
        extensions = len(RENEGOTIATION_INFO_EXTENSION).to_bytes(2, "big") + RENEGOTIATION_INFO_EXTENSION
    body = (
        b"\x03\x03"  # server_version: TLS 1.2
        + random  # random: 32 bytes
        + b"\x00"  # session_id: empty (length 0)
        + b"\xc0\x2f"  # cipher_suite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        + b"\x00"  # compression_method: null
        + extensions  # extensions: none, or renegotiation_info (see above)
    )
    handshake = (
        b"\x02"  # handshake type: server_hello
        + len(body).to_bytes(3, "big")  # handshake length: uint24
        + body
    )
    return (
        b"\x16"  # content type: handshake
        + b"\x03\x03"  # record version: TLS 1.2
        + len(handshake).to_bytes(2, "big")  # record length: uint16
        + handshake
    )


class ClosedPort:
    """A loopback port where connections are refused.

    The socket stays bound (but never listens) until stop(): the kernel answers a SYN with RST, and
    no other process can take the port meanwhile. (The usual bind-read-close trick leaves a small
    race in which another process could bind the freed port before the test connects.)
    """

    def __init__(self, host: str = DEFAULT_HOST) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self.host = host
        self.port: int = self._sock.getsockname()[1]

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def stop(self) -> None:
        self._sock.close()

    def __enter__(self) -> ClosedPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HostilePeer:
    """Accept loop in a thread; each connection is handled by handle() in its own thread."""

    def __init__(self, host: str = DEFAULT_HOST, max_lifetime: float = MAX_LIFETIME) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self.received: list[bytes] = []  # what handle() read from each client
        self._deadline = time.monotonic() + max_lifetime
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._handlers: list[threading.Thread] = []
        self._wake_r, self._wake_w = socket.socketpair()
        name = f"{type(self).__name__}-{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, name=name, daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
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

    def __enter__(self) -> HostilePeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- for handlers -------------------------------------------------------------------------

    def hold(self, conn: socket.socket, seconds: Optional[float] = None) -> bool:
        """Keep the connection open without sending, for `seconds` or until stop or end of life.

        What the client sends meanwhile is read and dropped, so that the final close is a FIN
        rather than an RST (a close with unread bytes resets the connection).
        True if the peer was stopped or reached its end of life.
        """
        now = time.monotonic()
        end = self._deadline if seconds is None else min(self._deadline, now + seconds)
        client_open = True
        while not self._stopped.is_set() and now < end:
            if not client_open:
                self._stopped.wait(end - now)
            elif select.select([conn], [], [], end - now)[0]:
                try:
                    client_open = bool(conn.recv(65536))  # b"": the client closed, or stop() shut us down
                except OSError:
                    client_open = False
            now = time.monotonic()
        return self._stopped.is_set() or now >= self._deadline

    def read_record(self, conn: socket.socket, timeout: float = READ_TIMEOUT) -> bytes:
        """Read one TLS record (the ClientHello), or whatever arrives before EOF or the timeout."""
        conn.settimeout(timeout)
        data = b""
        try:
            while len(data) < 5 or (data[0] == 0x16 and len(data) < 5 + int.from_bytes(data[3:5], "big")):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                if data[0] != 0x16:  # not TLS: whatever arrived is all we wait for
                    break
        except (socket.timeout, TimeoutError, OSError):
            pass
        self._note_received(data)
        return data

    def read_some(self, conn: socket.socket, timeout: float = READ_TIMEOUT) -> bytes:
        conn.settimeout(timeout)
        try:
            data = conn.recv(65536)
        except (socket.timeout, TimeoutError, OSError):
            data = b""
        self._note_received(data)
        return data

    def close_gracefully(self, conn: socket.socket, drain_for: float = 1.0) -> None:
        """FIN, then read what the client still sends (briefly) so that close() does not RST."""
        try:
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(0.1)
            end = time.monotonic() + drain_for
            while time.monotonic() < end and not self._stopped.is_set():
                try:
                    if not conn.recv(65536):
                        break
                except (socket.timeout, TimeoutError):
                    continue
        except OSError:
            pass
        conn.close()

    # -- internals ----------------------------------------------------------------------------

    def _note_received(self, data: bytes) -> None:
        with self._lock:
            self.received.append(data)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                break  # end of life: stop on our own
            try:
                readable, _, _ = select.select([self._listener, self._wake_r], [], [], min(remaining, 1.0))
                if self._listener not in readable or self._stopped.is_set():
                    continue
                conn, _ = self._listener.accept()
            except OSError:
                break
            thread = threading.Thread(target=self._run_handler, args=(conn,), daemon=True)
            with self._lock:
                self.accepted += 1
                self._conns.add(conn)
                self._handlers.append(thread)
            thread.start()
        self._stopped.set()
        self._shutdown_connections()

    def _run_handler(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass  # the client went away, or stop() shut the socket down
        finally:
            conn.close()
            with self._lock:
                self._conns.discard(conn)

    def _shutdown_connections(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Tarpit(HostilePeer):
    """Accepts and never sends anything; keeps the connection open until stop."""

    def handle(self, conn: socket.socket) -> None:
        self.hold(conn)


class PlainHTTP(HostilePeer):
    """A plain-text HTTP server: reads the client's bytes and answers 400 Bad Request."""

    def handle(self, conn: socket.socket) -> None:
        self.read_some(conn)
        conn.sendall(BAD_REQUEST)
        self.close_gracefully(conn)


class ResetAfterClientHello(HostilePeer):
    """Reads the ClientHello, then closes with SO_LINGER 0: the client gets a TCP RST."""

    def handle(self, conn: socket.socket) -> None:
        self.read_record(conn)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


class ImmediateAlert(HostilePeer):
    """Reads the ClientHello, sends one fatal alert record, closes."""

    def __init__(self, description: int = 40, host: str = DEFAULT_HOST, max_lifetime: float = MAX_LIFETIME) -> None:
        self.alert = alert_record(description)
        super().__init__(host, max_lifetime)

    def handle(self, conn: socket.socket) -> None:
        self.read_record(conn)
        conn.sendall(self.alert)
        self.close_gracefully(conn)


class ServerHelloThenStall(HostilePeer):
    """Reads the ClientHello, sends a valid TLS 1.2 ServerHello, then sends nothing more."""

    def __init__(
        self, renegotiation_info: bool = True, host: str = DEFAULT_HOST, max_lifetime: float = MAX_LIFETIME
    ) -> None:
        self.server_hello = server_hello_record(renegotiation_info=renegotiation_info)
        super().__init__(host, max_lifetime)

    def handle(self, conn: socket.socket) -> None:
        self.read_record(conn)
        conn.sendall(self.server_hello)
        self.hold(conn)


class OversizedThenTrickle(HostilePeer):
    """Reads the ClientHello, declares a 16 MB handshake message, then trickles one byte per interval."""

    def __init__(self, interval: float = 0.5, host: str = DEFAULT_HOST, max_lifetime: float = MAX_LIFETIME) -> None:
        self.interval = interval
        super().__init__(host, max_lifetime)

    def handle(self, conn: socket.socket) -> None:
        self.read_record(conn)
        conn.sendall(OVERSIZED_HEADER)
        while not self.hold(conn, self.interval):
            conn.sendall(b"\x00")


def sample_client_hello(server_hostname: str = "localhost") -> bytes:
    """A real ClientHello record from Python's ssl (no socket), to feed these peers by hand."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()
