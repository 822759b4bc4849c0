"""A private apache2 instance on loopback: its own config in a temporary directory, no system service.

`SSLVerifyClient require` inside `<Location /secure>` makes Apache ask for the client
certificate only after it has read the request: by renegotiation in TLS 1.2, by a
post-handshake CertificateRequest in TLS 1.3 (when the client offered it).
Apache cannot listen on port 0: a free port is taken by binding 127.0.0.1:0 and
closing it, and the start is retried on a bind race. Stopped by its pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

MODULES = Path("/usr/lib/apache2/modules")

CONFIG = """\
ServerRoot "{root}"
ServerName localhost
PidFile {root}/apache2.pid
DefaultRuntimeDir {root}
Mutex file:{root} default
ErrorLog {root}/error.log
LogLevel warn ssl:info
Listen 127.0.0.1:{port}
User nobody
Group nogroup
Timeout 10
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule ssl_module {modules}/mod_ssl.so
LoadModule dir_module {modules}/mod_dir.so
DirectoryIndex index.html
SSLSessionCache none
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile {cert}
  SSLCertificateKeyFile {key}
  SSLCACertificateFile {client_ca}
  SSLProtocol -all {protocols}
  DocumentRoot {root}/htdocs
  <Directory {root}/htdocs>
    Require all granted
  </Directory>
  <Location /secure>
    SSLVerifyClient require
    SSLVerifyDepth 3
  </Location>
  # Asks late too, but lets a client without a (valid) certificate through to an HTTP 403.
  <Location /optional403>
    SSLVerifyClient optional_no_ca
    SSLVerifyDepth 3
    SSLRequire %{{SSL_CLIENT_VERIFY}} eq "SUCCESS"
  </Location>
</VirtualHost>
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApacheServer:
    """apache2 -DFOREGROUND with a private config; `tls` is "1.2" or "1.3"."""

    def __init__(self, apache: str, cert_path: Path, key_path: Path, client_ca_path: Path, tls: str = "1.2") -> None:
        # Apache's workers run as nobody: the tree they serve must be readable by everyone.
        self.root = Path(tempfile.mkdtemp(prefix="tlsmon-apache-"))
        self.root.chmod(0o755)
        (self.root / "htdocs" / "secure").mkdir(parents=True)
        (self.root / "htdocs" / "index.html").write_text("hello\n")
        (self.root / "htdocs" / "secure" / "index.html").write_text("secret\n")
        (self.root / "htdocs" / "optional403").mkdir()
        (self.root / "htdocs" / "optional403" / "index.html").write_text("optional\n")
        for p in (self.root / "htdocs", self.root / "htdocs" / "secure", self.root / "htdocs" / "optional403"):
            p.chmod(0o755)
        for f in self.root.rglob("*.html"):
            f.chmod(0o644)
        protocols = {"1.2": "+TLSv1.2", "1.3": "+TLSv1.3"}[tls]
        self.proc: Optional[subprocess.Popen] = None
        for _attempt in range(5):
            self.port = _free_port()
            (self.root / "apache2.conf").write_text(CONFIG.format(
                root=self.root, port=self.port, modules=MODULES, cert=cert_path, key=key_path,
                client_ca=client_ca_path, protocols=protocols))
            self.proc = subprocess.Popen(
                [apache, "-d", str(self.root), "-f", str(self.root / "apache2.conf"), "-DFOREGROUND"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._wait_listening(10.0):
                return
            self.stop_process()
        raise RuntimeError(f"apache2 did not start: {self.log()}")

    def _wait_listening(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def log(self) -> str:
        try:
            return (self.root / "error.log").read_text()[-2000:]
        except OSError:
            return ""

    def stop_process(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the parent and its workers, by the parent's pid
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def stop(self) -> None:
        self.stop_process()
        shutil.rmtree(self.root, ignore_errors=True)
