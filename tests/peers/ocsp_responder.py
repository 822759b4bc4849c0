"""A loopback OCSP responder (RFC 6960 over HTTP POST) in a thread, port 0, for plugin tests.

It answers for the certificates it was told about, signed by their issuer (the CA itself is the
responder, no delegation): ``good``, ``revoked`` (keyCompromise, three days ago) or ``unknown``;
a serial it does not know gets the ``unauthorized`` error response.
"""

from __future__ import annotations

import datetime
import http.server
import socket
import threading
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from .badcerts import Issued, utcnow

Status = Literal["good", "revoked", "unknown"]
_STATUS = {
    "good": ocsp.OCSPCertStatus.GOOD,
    "revoked": ocsp.OCSPCertStatus.REVOKED,
    "unknown": ocsp.OCSPCertStatus.UNKNOWN,
}


class _Handler(http.server.BaseHTTPRequestHandler):
    server: OcspResponder

    def do_POST(self) -> None:
        body = self.rfile.read(min(int(self.headers.get("Content-Length", "0")), 65536))
        payload = self.server.answer(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


class OcspResponder(http.server.ThreadingHTTPServer):
    """``OcspResponder(issuer)``; ``.know(leaf, status)``, ``.url``, ``.requests``; ``stop()`` in teardown."""

    daemon_threads = True

    def __init__(self, issuer: Issued, host: str = "127.0.0.1") -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _Handler)
        self.issuer = issuer
        self.port: int = self.server_address[1]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"
        self.requests = 0
        self._known: dict[int, tuple[x509.Certificate, Status]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def know(self, leaf: Issued, status: Status) -> None:
        with self._lock:
            self._known[leaf.cert.serial_number] = (leaf.cert, status)

    def answer(self, body: bytes) -> bytes:
        with self._lock:
            self.requests += 1
        try:
            request = ocsp.load_der_ocsp_request(body)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(
                serialization.Encoding.DER
            )
        with self._lock:
            known = self._known.get(request.serial_number)
        if known is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER
            )
        cert, status = known
        now = utcnow()
        revoked = status == "revoked"
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.issuer.cert,
                algorithm=hashes.SHA1(),
                cert_status=_STATUS[status],
                this_update=now - datetime.timedelta(hours=1),
                next_update=now + datetime.timedelta(days=1),
                revocation_time=now - datetime.timedelta(days=3) if revoked else None,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.issuer.cert)
            .sign(self.issuer.key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)
