"""A scripted legacy TLS server: it answers ClientHellos from a table, and goes no further.

The local OpenSSL cannot serve SSL 3.0, RC4, DES, 3DES or EXPORT suites, nor leave out the
renegotiation_info extension (RFC 5746); real servers that do all that still exist. This peer
parses each ClientHello by hand, picks a version and a suite the way OpenSSL does, and sends
one hand-built ServerHello (or the alert OpenSSL would send), then closes. That is all a
version or cipher probe needs; a client that wants to finish the handshake sees the
connection close after the ServerHello.

Version choice, as a pre-TLS 1.3 server: the highest version it serves that is not above the
client's (``legacy_version``, or the highest <= TLS 1.2 in supported_versions); none such:
alert protocol_version(70). Suite choice: the first of the server's list the client offers
(``server_order=True``) or the first of the client's list the server serves; none: alert
handshake_failure(40). Lifetime and threads as for the hostile peers (hostile.HostilePeer).
"""

from __future__ import annotations

import socket
from typing import Mapping, Optional, Sequence

from .hostile import DEFAULT_HOST, MAX_LIFETIME, HostilePeer, alert_record

SSL3, TLS10, TLS11, TLS12 = 0x0300, 0x0301, 0x0302, 0x0303
RENEGOTIATION_INFO = 0xFF01
SUPPORTED_VERSIONS = 43
SCSV = 0x00FF


class ParsedHello:
    """The fields of a ClientHello this server looks at."""

    def __init__(self, legacy_version: int, suites: list[int], extensions: dict[int, bytes]) -> None:
        self.legacy_version = legacy_version
        self.suites = suites
        self.extensions = extensions

    @property
    def max_version(self) -> int:
        data = self.extensions.get(SUPPORTED_VERSIONS)
        if data is None:
            return self.legacy_version
        listed = [int.from_bytes(data[i : i + 2], "big") for i in range(1, 1 + data[0], 2)]
        old = [v for v in listed if v <= TLS12]
        return max(old) if old else 0

    @property
    def secure_renegotiation(self) -> bool:
        return RENEGOTIATION_INFO in self.extensions or SCSV in self.suites


def parse_client_hello(record: bytes) -> Optional[ParsedHello]:
    """The ClientHello in one TLS record, or None if it is not one (bounds checked throughout)."""
    try:
        if len(record) < 9 or record[0] != 0x16 or record[5] != 0x01:
            return None
        body = record[9 : 9 + int.from_bytes(record[6:9], "big")]
        pos = 2 + 32  # client_version, random
        legacy_version = int.from_bytes(body[0:2], "big")
        pos += 1 + body[pos]  # session_id
        n = int.from_bytes(body[pos : pos + 2], "big")
        suites = [int.from_bytes(body[i : i + 2], "big") for i in range(pos + 2, pos + 2 + n, 2)]
        pos += 2 + n
        pos += 1 + body[pos]  # compression_methods
        extensions: dict[int, bytes] = {}
        if pos + 2 <= len(body):
            end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
            pos += 2
            while pos + 4 <= end:
                etype = int.from_bytes(body[pos : pos + 2], "big")
                elen = int.from_bytes(body[pos + 2 : pos + 4], "big")
                extensions[etype] = body[pos + 4 : pos + 4 + elen]
                pos += 4 + elen
        return ParsedHello(legacy_version, suites, extensions)
    except IndexError:
        return None


def server_hello(version: int, suite: int, *, renegotiation_info: bool) -> bytes:
    """A ServerHello record, built by hand."""
    extensions = b""
    if renegotiation_info:
        extensions = (
            RENEGOTIATION_INFO.to_bytes(2, "big")  # extension type: renegotiation_info
            + b"\x00\x01"  # extension length: 1
            + b"\x00"  # renegotiated_connection: empty (initial handshake)
        )
        extensions = len(extensions).to_bytes(2, "big") + extensions
    body = (
        version.to_bytes(2, "big")  # server_version
        + bytes(range(32))  # random
        + b"\x00"  # session_id: empty
        + suite.to_bytes(2, "big")  # cipher_suite
        + b"\x00"  # compression_method: null
        + extensions
    )
    handshake = b"\x02" + len(body).to_bytes(3, "big") + body  # server_hello, uint24 length
    return b"\x16" + min(version, TLS12).to_bytes(2, "big") + len(handshake).to_bytes(2, "big") + handshake


class ScriptedTlsServer(HostilePeer):
    """Serves ``suites[version]`` (in the server's preference order) for each version it accepts."""

    def __init__(
        self,
        suites: Mapping[int, Sequence[int]],
        *,
        server_order: bool = True,
        renegotiation_info: bool = True,
        host: str = DEFAULT_HOST,
        max_lifetime: float = MAX_LIFETIME,
    ) -> None:
        self.suites = {v: list(s) for v, s in suites.items()}
        self.server_order = server_order
        self.renegotiation_info = renegotiation_info
        self.answers: list[tuple[int, int]] = []  # (version, suite) of each ServerHello sent
        super().__init__(host, max_lifetime)

    def choose(self, hello: ParsedHello) -> tuple[Optional[int], Optional[int], int]:
        """(version, suite, alert): the alert when either is None."""
        usable = [v for v in self.suites if v <= hello.max_version]
        if not usable:
            return None, None, 70  # protocol_version
        version = max(usable)
        served = self.suites[version]
        if self.server_order:
            common = [s for s in served if s in hello.suites]
        else:
            common = [s for s in hello.suites if s in served]
        if not common:
            return version, None, 40  # handshake_failure
        return version, common[0], 0

    def handle(self, conn: socket.socket) -> None:
        hello = parse_client_hello(self.read_record(conn))
        if hello is None:
            conn.sendall(alert_record(10))  # unexpected_message
        else:
            version, suite, alert = self.choose(hello)
            if version is None or suite is None:
                conn.sendall(alert_record(alert))
            else:
                with self._lock:
                    self.answers.append((version, suite))
                renegotiation = self.renegotiation_info and hello.secure_renegotiation
                conn.sendall(server_hello(version, suite, renegotiation_info=renegotiation))
        self.close_gracefully(conn, drain_for=0.2)
