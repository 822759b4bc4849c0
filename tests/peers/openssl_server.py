"""`openssl s_server -www` as a subprocess on loopback, port 0.

Port discovery: with ``-accept 127.0.0.1:0`` OpenSSL 3.0 binds port 0 and prints the real address
on stdout, after listen(), e.g. ``ACCEPT 127.0.0.1:43899`` (``ACCEPT [::1]:33359`` for IPv6). The
line is read from the process's stdout, so once it is seen the server accepts connections; no probe
connection is made (s_server is single-threaded and would log the probe as a failed handshake).
OpenSSL 1.1.1 prints a bare ``ACCEPT``; then the port is looked up in /proc (the listening socket
the process owns), so the port-0 semantics hold there too.

s_server is single-threaded: one connection at a time.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional, Sequence, Union

from .pki import ServerIdentity

TLS_FLAGS = {"1.2": "-tls1_2", "1.3": "-tls1_3"}
VERIFY_FLAGS = {"optional": "-verify", "required": "-Verify"}
ACCEPT_RE = re.compile(r"^ACCEPT(?:\s+(?P<addr>\S+))?\s*$")
STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


class OpenSSLServerError(RuntimeError):
    pass


class OpenSSLServer:
    def __init__(
        self,
        identity: ServerIdentity,
        *,
        openssl: str = "openssl",
        extra_args: Sequence[str] = (),
        tls: Optional[str] = None,
        verify: Optional[str] = None,
        client_ca_path: Union[str, Path, None] = None,
        host: str = "127.0.0.1",
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        if tls is not None and tls not in TLS_FLAGS:
            raise ValueError(f"tls must be None or one of {sorted(TLS_FLAGS)}, not {tls!r}")
        if verify is not None and verify not in VERIFY_FLAGS:
            raise ValueError(f"verify must be None or one of {sorted(VERIFY_FLAGS)}, not {verify!r}")
        if verify is not None and client_ca_path is None:
            raise ValueError("verify needs client_ca_path")
        accept = f"[{host}]:0" if ":" in host else f"{host}:0"
        cmd = [openssl, "s_server", "-accept", accept, "-www"]
        cmd += ["-cert", str(identity.leaf_pem_path), "-key", str(identity.key_path)]
        if identity.intermediates_pem_path is not None:
            cmd += ["-cert_chain", str(identity.intermediates_pem_path)]
        if tls is not None:
            cmd.append(TLS_FLAGS[tls])
        if verify is not None:
            cmd += [VERIFY_FLAGS[verify], "1", "-verify_return_error"]
        if client_ca_path is not None:
            # -CAfile also becomes the list of CA names sent in the CertificateRequest
            cmd += ["-CAfile", str(client_ca_path)]
        cmd += list(extra_args)

        self.cmd = cmd
        self.host = host
        self.identity = identity
        self.output: list[str] = []  # stdout and stderr lines, for failure messages
        self._accept_line = threading.Event()
        self._accept_addr: Optional[str] = None
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.pid = self._proc.pid
        self._reader = threading.Thread(target=self._read_output, name=f"s_server-{self.pid}-output", daemon=True)
        self._reader.start()
        try:
            self.port = self._wait_for_port(startup_timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def returncode(self) -> Optional[int]:
        return self._proc.poll()

    def stop(self) -> None:
        """Terminate by pid, wait, kill if it does not go."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(STOP_TIMEOUT)
        self._reader.join(STOP_TIMEOUT)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> OpenSSLServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _read_output(self) -> None:
        # Always drained, so that s_server never blocks on a full pipe.
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.output.append(line)
            match = ACCEPT_RE.match(line)
            if match and not self._accept_line.is_set():
                self._accept_addr = match.group("addr")
                self._accept_line.set()
        self._accept_line.set()  # EOF: the process is gone; let the waiter see it

    def _wait_for_port(self, timeout: float) -> int:
        if not self._accept_line.wait(timeout):
            raise OpenSSLServerError(f"s_server printed no ACCEPT line within {timeout}s: {self._describe()}")
        if self._accept_addr is None:
            if self._proc.poll() is not None:
                raise OpenSSLServerError(f"s_server exited with {self._proc.returncode}: {self._describe()}")
            port = _listening_port_from_proc(self.pid, timeout=2.0)
            if port is None:
                raise OpenSSLServerError(f"s_server's ACCEPT line has no port and /proc tells none: {self._describe()}")
            return port
        port_text = self._accept_addr.rsplit(":", 1)[-1]
        if not port_text.isdigit() or int(port_text) == 0:
            raise OpenSSLServerError(f"cannot read a port from ACCEPT {self._accept_addr!r}: {self._describe()}")
        return int(port_text)

    def _describe(self) -> str:
        return f"{' '.join(self.cmd)}\n" + "\n".join(self.output)


def _listening_port_from_proc(pid: int, timeout: float) -> Optional[int]:
    """The port of a TCP socket in LISTEN state owned by `pid` (Linux /proc only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return None
        inodes = set()
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:  # closed meanwhile
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    return int(fields[1].rsplit(":", 1)[1], 16)
        time.sleep(0.05)
    return None
