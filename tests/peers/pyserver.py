"""A Python `ssl` TLS server in a thread, on loopback, port 0.

One accept thread; every connection gets its own daemon thread, so a slow or abandoned client
never blocks the next one. After a completed handshake the server answers an HTTP-ish request
with a small ``HTTP/1.1 200 OK`` and closes.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

from .pki import ServerIdentity

CLIENT_AUTH_MODES = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
HANDSHAKE_TIMEOUT = 5.0
REQUEST_TIMEOUT = 2.0
RESPONSE_BODY = b"tlsmon test server\n"
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: " + str(len(RESPONSE_BODY)).encode() + b"\r\n"
    b"Connection: close\r\n"
    b"\r\n" + RESPONSE_BODY
)


@dataclass(frozen=True)
class Handshake:
    """What the server saw of one completed handshake."""

    version: Optional[str]
    cipher: Optional[str]
    alpn: Optional[str]
    client_cert_der: Optional[bytes]


def listening_socket(host: str, backlog: int = 64) -> socket.socket:
    """A TCP socket listening on (host, 0); the kernel picks the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


class PyTLSServer:
    def __init__(
        self,
        identity: ServerIdentity,
        *,
        min_version: Optional[ssl.TLSVersion] = None,
        max_version: Optional[ssl.TLSVersion] = None,
        client_auth: str = "none",
        client_ca_path: Union[str, Path, None] = None,
        alpn: Optional[Sequence[str]] = None,
        ciphers: Optional[str] = None,
        host: str = "127.0.0.1",
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
    ) -> None:
        if client_auth not in CLIENT_AUTH_MODES:
            raise ValueError(f"client_auth must be one of {sorted(CLIENT_AUTH_MODES)}, not {client_auth!r}")
        if client_auth != "none" and client_ca_path is None:
            raise ValueError("client_auth needs client_ca_path")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(identity.chain_pem_path), str(identity.key_path))
        if min_version is not None:
            ctx.minimum_version = min_version
        if max_version is not None:
            ctx.maximum_version = max_version
        ctx.verify_mode = CLIENT_AUTH_MODES[client_auth]
        if client_ca_path is not None:
            ctx.load_verify_locations(cafile=str(client_ca_path))
        if alpn is not None:
            ctx.set_alpn_protocols(list(alpn))
        if ciphers is not None:
            ctx.set_ciphers(ciphers)
        self.context = ctx
        self.identity = identity
        self.handshake_timeout = handshake_timeout

        self._lock = threading.Lock()
        self._handshakes: list[Handshake] = []
        self._errors: list[str] = []
        self._conns: set[socket.socket] = set()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._listener = listening_socket(host)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name=f"py-tls-server-{self.port}", daemon=True)
        self._thread.start()

    # -- what a test reads --------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def handshakes(self) -> int:
        """Count of handshakes the server completed."""
        with self._lock:
            return len(self._handshakes)

    @property
    def handshake_log(self) -> list[Handshake]:
        with self._lock:
            return list(self._handshakes)

    @property
    def errors(self) -> list[str]:
        """Server-side exceptions, as strings (failed handshakes, clients hanging up...)."""
        with self._lock:
            return list(self._errors)

    def wait_for(self, *, handshakes: int = 0, errors: int = 0, timeout: float = 5.0) -> bool:
        """Wait until the server has counted that many handshakes and errors.

        The client may finish its side of a handshake before the server thread counts it.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.handshakes >= handshakes and len(self.errors) >= errors:
                return True
            time.sleep(0.01)
        return False

    # -- lifetime -----------------------------------------------------------------------------

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(5)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # wakes the connection threads; each closes its own socket
            _shutdown_quietly(conn)
        for sock in (self._listener, self._wake_r, self._wake_w):
            _close_quietly(sock)

    def __enter__(self) -> PyTLSServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- server threads -----------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([self._listener, self._wake_r], [], [], 1.0)
                if self._listener not in readable or self._stop.is_set():
                    continue
                conn, _ = self._listener.accept()
            except OSError as exc:
                if not self._stop.is_set():
                    self._record_error(f"accept: {exc!r}")
                return
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        tls: Optional[ssl.SSLSocket] = None
        try:
            conn.settimeout(self.handshake_timeout)
            tls = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            with self._lock:
                self._conns.discard(conn)
                self._conns.add(tls)
            tls.do_handshake()
            self._record_handshake(tls)
            tls.settimeout(REQUEST_TIMEOUT)
            if self._read_request(tls):
                tls.sendall(RESPONSE)
        except Exception as exc:  # the server must survive anything a client does
            if not self._stop.is_set():
                self._record_error(f"{type(exc).__name__}: {exc}")
        finally:
            if tls is not None:
                _lingering_close(tls)
            _close_quietly(conn)
            with self._lock:
                self._conns.difference_update(sock for sock in (tls, conn) if sock is not None)

    @staticmethod
    def _read_request(tls: ssl.SSLSocket) -> bytes:
        """Read until the end of an HTTP header block, EOF, or a short timeout."""
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            try:
                chunk = tls.recv(4096)
            except (socket.timeout, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
        return data

    def _record_handshake(self, tls: ssl.SSLSocket) -> None:
        cipher = tls.cipher()
        info = Handshake(
            version=tls.version(),
            cipher=cipher[0] if cipher else None,
            alpn=tls.selected_alpn_protocol(),
            client_cert_der=tls.getpeercert(binary_form=True),
        )
        with self._lock:
            self._handshakes.append(info)

    def _record_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)


def _shutdown_quietly(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: it must not touch the TLS state that the
    # connection's own thread is using.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def _lingering_close(sock: socket.socket, drain_for: float = 0.5) -> None:
    """FIN first, then read what the client still sends, then close (as openssl s_server does).

    Closing with unread bytes (say, the request a TLS 1.3 client sends before it reads the
    certificate_required alert) would send an RST, and the client might never see the alert.
    """
    try:
        socket.socket.shutdown(sock, socket.SHUT_WR)
        deadline = time.monotonic() + drain_for
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
                break
            if not socket.socket.recv(sock, 65536):  # raw bytes: the TLS layer is done with
                break
    except OSError:
        pass
    _close_quietly(sock)


def _close_quietly(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
