"""Loopback peers for the benchmarks: a Python ``ssl`` server thread and ``openssl s_server``.

Both listen on 127.0.0.1, port 0 (the kernel picks the port). The s_server process is stopped
by its pid (terminate, then kill if it lingers); the server thread ends with its one connection.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading
from typing import Optional

from pki import Chain

__all__ = ["OneShotTls12Server", "OpenSSLServer", "openssl_version"]

_ACCEPT_RE = re.compile(r"^ACCEPT\s+(?P<addr>\S+)\s*$")
_STARTUP_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0


class OneShotTls12Server:
    """A Python ``ssl`` server (TLS 1.2 only) that serves one connection in a thread.

    It sends its first flight (ServerHello .. ServerHelloDone) and then waits for a client
    key exchange that never comes: the client hangs up, the handshake fails, the thread ends.
    """

    def __init__(self, chain: Chain, timeout_s: float = 10.0) -> None:
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self._ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self._ctx.load_cert_chain(str(chain.full_chain_pem), str(chain.key_pem))
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(1)
        self._sock.settimeout(timeout_s)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="bench-tls12-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(self._sock.gettimeout())
            try:
                self._ctx.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                pass  # expected: the client never finishes the handshake

    def close(self) -> None:
        self._sock.close()
        self._thread.join(_STOP_TIMEOUT_S)

    def __enter__(self) -> OneShotTls12Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OpenSSLServer:
    """``openssl s_server -www`` on 127.0.0.1, port 0, with one protocol version (or its defaults).

    OpenSSL 3 prints ``ACCEPT 127.0.0.1:PORT`` after listen(); that line gives the port.
    Its output is always drained so that s_server never blocks on a full pipe.
    """

    def __init__(self, chain: Chain, version_flag: Optional[str], openssl: str = "openssl") -> None:
        self.cmd = [
            openssl, "s_server", "-accept", "127.0.0.1:0", "-www",
            "-cert", str(chain.leaf_pem), "-key", str(chain.key_pem), "-cert_chain", str(chain.intermediates_pem),
            *([version_flag] if version_flag else []),
        ]
        self.output: list[str] = []
        self._addr: Optional[str] = None
        self._ready = threading.Event()
        self._proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self.pid = self._proc.pid
        self._reader = threading.Thread(target=self._drain, name=f"s_server-{self.pid}", daemon=True)
        self._reader.start()
        try:
            self.port = self._wait_for_port()
        except BaseException:
            self.stop()
            raise

    def _drain(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            if len(self.output) < 200:
                self.output.append(line)
            match = _ACCEPT_RE.match(line)
            if match and not self._ready.is_set():
                self._addr = match.group("addr")
                self._ready.set()
        self._ready.set()  # EOF: the process is gone

    def _wait_for_port(self) -> int:
        if not self._ready.wait(_STARTUP_TIMEOUT_S) or self._addr is None:
            raise RuntimeError(f"s_server gave no ACCEPT line: {' '.join(self.cmd)}\n" + "\n".join(self.output))
        port = self._addr.rsplit(":", 1)[-1]
        if not port.isdigit() or port == "0":
            raise RuntimeError(f"cannot read a port from ACCEPT {self._addr!r} (OpenSSL 3 is needed)")
        return int(port)

    def stop(self) -> None:
        """Terminate our s_server by its pid; kill it if it does not go."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(_STOP_TIMEOUT_S)
        self._reader.join(_STOP_TIMEOUT_S)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> OpenSSLServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def openssl_version(openssl: str = "openssl") -> str:
    """``openssl version`` output, one line."""
    out = subprocess.run([openssl, "version"], capture_output=True, text=True, check=True, timeout=10)
    return out.stdout.strip()
