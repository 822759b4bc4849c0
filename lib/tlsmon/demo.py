"""``make demo``: tlsmon against loopback servers it starts itself, no network.

It makes a small PKI at run time (a root, an intermediate, a server leaf and a
client-certificate CA), starts Python ``ssl`` servers on 127.0.0.1 (ports picked by
the kernel), and runs ``tlsmon probe`` against each, then stops them. Last, it shows
``tlsmon ladder`` on the small real capture shipped in ``tlsmon/data/demo.pcapng``.
"""

from __future__ import annotations

import functools
import socket
import ssl
import sys
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .cli.main import main as tlsmon_main

__all__ = ["main"]


def _name(cn: str, org: str = "tlsmon demo") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: x509.Name, key: Any, issuer: x509.Name, issuer_key: Any, *, ca: bool, days: float,
          san: Optional[str] = None) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


class _Server:
    """A Python ``ssl`` server on 127.0.0.1:0 answering each handshake with a tiny HTTP reply."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
        except (OSError, ssl.SSLError):
            pass  # probes hang up after the server's flight: expected

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)


def _cert_check(opts: Any, progress: Any) -> Any:
    from .evaluations import cert

    return cert.build_check(opts, progress)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tlsmon-demo-") as tmp:
        d = Path(tmp)
        root_key, inter_key, leaf_key, client_ca_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
        root = _cert(_name("Demo Root CA"), root_key, _name("Demo Root CA"), root_key, ca=True, days=3650)
        inter = _cert(_name("Demo Intermediate CA"), inter_key, root.subject, root_key, ca=True, days=1825)
        leaf = _cert(_name("localhost"), leaf_key, inter.subject, inter_key, ca=False, days=12, san="localhost")
        client_ca = _cert(_name("Demo Client CA", "Example"), client_ca_key, _name("Demo Client CA", "Example"),
                          client_ca_key, ca=True, days=3650)
        (d / "chain.pem").write_bytes(_pem(leaf, inter))
        (d / "leaf.key").write_bytes(
            leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
        )
        (d / "clientca.pem").write_bytes(_pem(client_ca))
        (d / "root.pem").write_bytes(_pem(root))

        def ctx(version: ssl.TLSVersion, verify: ssl.VerifyMode) -> ssl.SSLContext:
            c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            c.minimum_version = c.maximum_version = version
            c.load_cert_chain(d / "chain.pem", d / "leaf.key")
            if verify != ssl.CERT_NONE:
                c.verify_mode = verify
                c.load_verify_locations(d / "clientca.pem")
            return c

        servers = [
            ("TLS 1.3, client certificate required", _Server(ctx(ssl.TLSVersion.TLSv1_3, ssl.CERT_REQUIRED))),
            ("TLS 1.2, client certificate optional", _Server(ctx(ssl.TLSVersion.TLSv1_2, ssl.CERT_OPTIONAL))),
            ("TLS 1.2 only, probed with TLS 1.3 only", _Server(ctx(ssl.TLSVersion.TLSv1_2, ssl.CERT_NONE))),
        ]
        extra: list[list[str]] = [[], [], ["--tls1.3"]]
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
        closed.close()
        try:
            for (title, server), more in zip(servers, extra):
                print(f"### {title}: tlsmon probe localhost:{server.port} {' '.join(more)}".rstrip())
                rc = tlsmon_main(["probe", f"127.0.0.1:{server.port}", "--sni", "localhost", "-t", "5", *more])
                print(f"(exit {rc})\n")
            print(f"### nothing listening: tlsmon probe 127.0.0.1:{closed_port}")
            rc = tlsmon_main(["probe", f"127.0.0.1:{closed_port}", "-t", "3"])
            print(f"(exit {rc})\n")
            from .cli import check_tls_cert, runner

            cert_runs: list[tuple[str, int, list[str]]] = [
                ("leaf expires in 12 days, client certificate required", servers[0][1].port, []),
                ("the same, for a name the certificate does not carry", servers[0][1].port, ["-m", "www.example.test"]),
                ("nothing listening", closed_port, []),
            ]
            for title, port, flags in cert_runs:
                argv = ["-H", "localhost", "-p", str(port), "-r", str(d / "root.pem"), "-t", "5", *flags]
                print(f"### {title}: check_tls_cert {' '.join(argv)}")
                opts = check_tls_cert.parse(argv)
                rc = runner.run("TLS_CERT", functools.partial(_cert_check, opts), opts)
                print(f"(exit {rc})\n")
        finally:
            for _, server in servers:
                server.stop()
        sys.stdout.flush()
    _ladder()
    return 0


def _ladder() -> None:
    """``tlsmon ladder`` on the small real capture shipped with the package."""
    from importlib import resources

    with resources.as_file(resources.files("tlsmon") / "data" / "demo.pcapng") as capture:
        print("### a real capture (tcpdump on loopback: openssl s_server, apache2 renegotiating): "
              "tlsmon ladder demo.pcapng")
        rc = tlsmon_main(["ladder", str(capture)])
        print(f"(exit {rc})")
        sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
