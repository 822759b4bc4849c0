"""A private nginx instance on loopback: its own config, pid file and temp paths in a temp dir.

    nginx -p DIR -c DIR/nginx.conf -g 'daemon off; pid DIR/nginx.pid; error_log stderr;'

nginx cannot listen on port 0, so a free port is picked by binding a socket to 127.0.0.1:0 and
closing it; if another process takes the port before nginx binds it (nginx then exits with
"Address already in use"), a new port is picked, a few times. nginx is ready once /proc shows
its master process owning a listening socket on that port (a probe connection would be a
handshake in the server's log, and could reach another process that took the port). The
master is stopped by its pid (SIGTERM, which also ends its workers; SIGKILL if it lingers).

The ``nginx_server`` fixture (imported by tests/conftest.py) starts them and stops them all.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Union

import pytest

from .pki import ServerIdentity
from .tools import require_ipv6_loopback, require_tool

NGINX_HINT = "apt-get install nginx"
STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
BIND_ATTEMPTS = 5


class NginxError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (bound to port 0, then closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def nginx_config(
    directory: Path,
    identity: ServerIdentity,
    listen: str,
    *,
    protocols: str = "TLSv1.2 TLSv1.3",
    ciphers: Optional[str] = None,
    tls13_ciphers: Optional[str] = None,
    prefer_server_ciphers: bool = False,
    http2: bool = False,
    stapling_file: Optional[Path] = None,
    workers: Union[int, str] = 1,
    extra: str = "",
) -> str:
    """The text of a minimal nginx.conf: one TLS server answering ``ok`` to every request."""
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    lines = [
        f"worker_processes {workers};",
        "events { worker_connections 512; }",
        "http {",
        "    access_log off;",
        f"    client_body_temp_path {temp['body']};",
        f"    proxy_temp_path {temp['proxy']};",
        f"    fastcgi_temp_path {temp['fastcgi']};",
        f"    uwsgi_temp_path {temp['uwsgi']};",
        f"    scgi_temp_path {temp['scgi']};",
        "    server {",
        f"        listen {listen} ssl{' http2' if http2 else ''};",
        "        server_name localhost;",
        f"        ssl_certificate {identity.chain_pem_path};",
        f"        ssl_certificate_key {identity.key_path};",
        f"        ssl_protocols {protocols};",
        f"        ssl_prefer_server_ciphers {'on' if prefer_server_ciphers else 'off'};",
        "        ssl_session_tickets off;",
    ]
    if ciphers is not None:
        lines.append(f"        ssl_ciphers '{ciphers}';")
    if tls13_ciphers is not None:
        lines.append(f"        ssl_conf_command Ciphersuites {tls13_ciphers};")
    if stapling_file is not None:
        lines.append(f"        ssl_stapling on;\n        ssl_stapling_file {stapling_file};")
        lines.append(f"        ssl_trusted_certificate {identity.ca_pem_path};")
    if extra:
        lines.append(extra)
    lines += [
        "        location / { return 200 \"ok\\n\"; }",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


class NginxServer:
    """nginx serving TLS on ``host``:``port`` with the given ssl_* settings (see ``nginx_config``)."""

    def __init__(
        self,
        identity: ServerIdentity,
        *,
        nginx: str = "nginx",
        host: str = "127.0.0.1",
        directory: Optional[Path] = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        **config: object,
    ) -> None:
        self.identity = identity
        self.host = host
        self._own_dir = directory is None
        self.dir = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="tlsmon-nginx-"))
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)  # nginx opens logs/error.log before reading -g
        self.output: list[str] = []
        self._proc: Optional[subprocess.Popen] = None
        self._reader: Optional[threading.Thread] = None
        self.port = 0
        last = ""
        try:
            for _attempt in range(BIND_ATTEMPTS):
                port = free_port(host)
                listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                conf = self.dir / "nginx.conf"
                conf.write_text(nginx_config(self.dir, identity, listen, **config))  # type: ignore[arg-type]
                self.cmd = [nginx, "-p", f"{self.dir}/", "-c", str(conf),
                            "-g", f"daemon off; pid {self.dir}/nginx.pid; error_log stderr;"]
                self._start()
                status = self._wait_listening(port, startup_timeout)
                if status == "listening":
                    self.port = port
                    return
                last = "\n".join(self.output)
                self._stop_process()
                if "Address already in use" not in last:
                    break
            raise NginxError(f"nginx did not start: {' '.join(self.cmd)}\n{last}")
        except BaseException:
            self.stop()
            raise

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> None:
        self.output = []
        self._proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._drain, args=(self._proc,), daemon=True,
                                        name=f"nginx-{self._proc.pid}-output")
        self._reader.start()

    def _drain(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:  # always drained, so that nginx never blocks on a full pipe
            self.output.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def _wait_listening(self, port: int, timeout: float) -> str:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return "exited"
            if _owns_listener(self._proc.pid, port):
                return "listening"
            time.sleep(0.02)
        return "timeout"

    def _stop_process(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: the master stops its workers and exits
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()
        self._proc = None

    def stop(self) -> None:
        self._stop_process()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> NginxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _owns_listener(pid: int, port: int) -> bool:
    """True when process ``pid`` holds a TCP socket listening on ``port`` (Linux /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    inodes = set()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes \
                    and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


@pytest.fixture
def nginx_server(tmp_path: Path) -> Iterator[Callable[..., NginxServer]]:
    """Factory: nginx_server(identity, *, protocols="TLSv1.2 TLSv1.3", ciphers=None, tls13_ciphers=None,
    prefer_server_ciphers=False, http2=False, stapling_file=None, host="127.0.0.1") -> NginxServer (started)."""
    binary = require_tool("nginx", NGINX_HINT)
    servers: list[NginxServer] = []

    def start(identity: ServerIdentity, *, host: str = "127.0.0.1", **config: object) -> NginxServer:
        if ":" in host:
            require_ipv6_loopback()
        directory = tmp_path / f"nginx{len(servers)}"
        directory.mkdir()
        server = NginxServer(identity, nginx=binary, host=host, directory=directory, **config)
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


__all__: Sequence[str] = ("NginxServer", "NginxError", "nginx_config", "free_port", "nginx_server")
