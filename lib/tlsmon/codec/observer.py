"""A passive observer of one TLS connection: both directions' bytes in, events out.

The same observer reads a live connection driven by the platform TLS library and a
connection reassembled from a capture. It never sends anything. Protected records are
opened when the key log secrets for the connection are supplied (``add_keylog``): TLS
1.3 with the traffic secrets, TLS 1.2 AEAD suites with the master secret (so that a
renegotiation's CertificateRequest can be read). Without keys they are reported as
``EncryptedRecordEvent`` — "not seen", never "absent" — and a protected handshake record
after a side's Finished still counts as a renegotiation. No I/O here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Deque, Optional, Union

from ..errors import DecodeError
from ..frozen import frozen
from . import extensions as ext
from .events import (
    CLIENT,
    SERVER,
    AlertEvent,
    ApplicationDataEvent,
    ChangeCipherSpecEvent,
    ConnectionClosed,
    EncryptedRecordEvent,
    Event,
    MessageEvent,
)
from .messages import (
    CertificateRequest,
    ClientHello,
    Finished,
    HelloRequest,
    KeyUpdate,
    ServerHello,
    ServerKeyExchange,
    Sslv2ClientHello,
    message_name,
    parse_alert,
    parse_handshake,
    parse_sslv2_client_hello,
)
from .records import NEED_DATA, SSL2_CLIENT_HELLO, HandshakeReassembler, NeedData, Record, RecordReader

if TYPE_CHECKING:  # imported lazily at run time: captures without keys never need cryptography
    from .protection import RecordProtection
    from .tls12 import Tls12RecordProtection

__all__ = ["PassiveObserver", "KEYLOG_LABELS", "RequestSeen"]

TLS13 = 0x0304

# NSS key log labels: TLS 1.3 traffic secrets, and CLIENT_RANDOM (the TLS 1.2 master secret).
KEYLOG_LABELS = frozenset((
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_RANDOM",
))


@frozen
class RequestSeen:
    """A CertificateRequest and when it came: ``initial``, ``renegotiation`` or ``post_handshake``."""

    message: CertificateRequest
    when: str


class _Protection:
    """What opens one direction's records: TLS 1.3 ``RecordProtection`` or TLS 1.2 epoch keys."""

    def __init__(self, tls13: Optional[RecordProtection] = None, tls12: Optional[Tls12RecordProtection] = None) -> None:
        self.tls13 = tls13
        self.tls12 = tls12

    def open(self, rec: Record) -> tuple[int, bytes]:
        if self.tls13 is not None:
            return self.tls13.decrypt(rec.header, rec.fragment)
        assert self.tls12 is not None
        return rec.content_type, self.tls12.decrypt(rec.content_type, rec.version, rec.fragment)


@dataclass
class _Direction:
    """Per-direction reading state."""

    name: str
    reader: RecordReader
    hs: HandshakeReassembler
    records: int = 0
    protected: bool = False  # records after CCS (<= 1.2) or after ServerHello (1.3) are protected
    protection: Optional[_Protection] = None
    epoch: Optional[tuple[int, bytes, bytes]] = None  # TLS 1.2: (suite, client_random, server_random)
    finished: bool = False  # this side's first Finished has been seen (or inferred)
    renegotiating: bool = False  # a protected handshake after Finished is under way (no keys)
    closed: bool = False
    close_reported: bool = False


class PassiveObserver:
    """Reads both directions of one connection.

    Args:
        wait_for_keys: hold protected records until ``add_keylog`` supplies the secrets
            (live use, where the key log is written while the handshake runs); when False
            they are reported as undecryptable at once (captures without keys).
        max_message: the largest handshake message accepted.
    """

    def __init__(self, *, wait_for_keys: bool = False, max_message: int = 256 * 1024) -> None:
        self._max_message = max_message
        self._dirs = {
            CLIENT: _Direction(CLIENT, RecordReader(allow_sslv2=True), HandshakeReassembler(max_message)),
            SERVER: _Direction(SERVER, RecordReader(allow_sslv2=False), HandshakeReassembler(max_message)),
        }
        self._events: Deque[Event] = deque()
        # Input chunks in arrival order; while one direction waits for keys, later chunks of
        # either direction wait too, so that events come out in wire order.
        self._chunks: Deque[tuple[_Direction, Optional[bytes]]] = deque()
        self._blocked: Optional[_Direction] = None
        self._wait = wait_for_keys
        self._secrets: dict[tuple[str, bytes], bytes] = {}
        # The handshake under way (the first, or a renegotiation): its randoms and suite.
        self._client_random = b""
        self._server_random = b""
        self._suite: Optional[int] = None
        self.client_hello: Optional[Union[ClientHello, Sslv2ClientHello]] = None
        self.server_hello: Optional[ServerHello] = None
        self.hello_retry: Optional[ServerHello] = None
        self.version: Optional[int] = None
        self.cipher_suite: Optional[int] = None
        self.group: Optional[int] = None
        self.requests: list[RequestSeen] = []
        self.renegotiations = 0  # renegotiation handshakes started by the client (<= 1.2)
        self.hello_requests = 0  # HelloRequests (or unreadable server handshake records) after Finished
        self.undecrypted = 0  # protected records we could not read
        self.last_message: Optional[str] = None

    @property
    def certificate_requests(self) -> list[CertificateRequest]:
        return [r.message for r in self.requests]

    # --- input ------------------------------------------------------------------------------------

    def client_bytes(self, data: bytes) -> None:
        self._feed(self._dirs[CLIENT], data)

    def server_bytes(self, data: bytes) -> None:
        self._feed(self._dirs[SERVER], data)

    def add_keylog(self, text: str) -> None:
        """Lines of an NSS key log (``LABEL <client_random hex> <secret hex>``); held records are read now."""
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 3 or parts[0] not in KEYLOG_LABELS:
                continue
            try:
                random, secret = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            except ValueError:
                continue
            self._secrets[(parts[0], random)] = secret
        self._drain()

    def close(self, direction: str) -> None:
        """The ``direction`` side closed its stream (FIN)."""
        self._chunks.append((self._dirs[direction], None))
        self._drain()

    def finish(self) -> None:
        """No more keys will come: report held records as undecryptable."""
        self._wait = False
        self._drain()

    # --- output ----------------------------------------------------------------------------------

    def next_event(self) -> Union[Event, NeedData]:
        return self._events.popleft() if self._events else NEED_DATA

    def events(self) -> list[Event]:
        """All events available now."""
        out = list(self._events)
        self._events.clear()
        return out

    @property
    def state(self) -> str:
        if self.server_hello is None:
            return "server_hello"
        if not self._dirs[SERVER].finished:
            return "server_flight"
        if not self._dirs[CLIENT].finished:
            return "client_finished"
        return "connected"

    # --- reading ---------------------------------------------------------------------------------

    def _feed(self, d: _Direction, data: bytes) -> None:
        if data:
            self._chunks.append((d, data))
            self._drain()

    def _drain(self) -> None:
        if self._blocked is not None:
            if not self._pump(self._blocked):
                return
            self._blocked = None
        while self._chunks:
            d, data = self._chunks.popleft()
            if data is None:
                d.closed = True
            else:
                d.reader.receive_data(data)
            if not self._pump(d):
                self._blocked = d
                return

    def _pump(self, d: _Direction) -> bool:
        """Read what ``d`` has buffered; False when it must wait for keys."""
        while True:
            if self._needs_keys(d):
                return False
            rec = d.reader.next_record()
            if isinstance(rec, NeedData):
                if not d.protected:  # an absurd handshake length is refused on sight, not after a trickle
                    d.hs.check_prefix(d.reader.partial_fragment(22))
                if d.closed and not d.close_reported:
                    d.close_reported = True
                    self._events.append(ConnectionClosed(d.name))
                return True
            d.records += 1
            self._on_record(d, rec)

    def _tls13(self) -> bool:
        # A HelloRetryRequest exists only in TLS 1.3 (RFC 8446 §4.1.4): from it on, a
        # ChangeCipherSpec is the compatibility one, not a TLS 1.2 key change.
        return self.version == TLS13 or (self.version is None and self.hello_retry is not None)

    def _needs_keys(self, d: _Direction) -> bool:
        """A protected record is next, its keys are not known yet, and they may still come."""
        if not self._wait or not d.protected or self._ensure_protection(d) is not None:
            return False
        head = d.reader.peek(1)
        if not head:
            return False
        if self._tls13():  # only application_data records are protected; a CCS never is
            return head == b"\x17"
        from .tls12 import aead_for_suite

        return d.epoch is not None and aead_for_suite(d.epoch[0]) is not None

    def _secret_label(self, d: _Direction) -> str:
        side = "CLIENT" if d.name == CLIENT else "SERVER"
        return f"{side}_TRAFFIC_SECRET_0" if d.finished else f"{side}_HANDSHAKE_TRAFFIC_SECRET"

    def _ensure_protection(self, d: _Direction) -> Optional[_Protection]:
        if d.protection is not None or not d.protected:
            return d.protection
        if self._tls13():
            from .keyschedule import TLS13_SUITES
            from .protection import RecordProtection

            suite13 = TLS13_SUITES.get(self.cipher_suite or -1)
            secret = self._secrets.get((self._secret_label(d), self._client_random))
            if suite13 is not None and secret is not None:
                d.protection = _Protection(tls13=RecordProtection(suite13, secret))
        elif d.epoch is not None:
            from .tls12 import Tls12RecordProtection, aead_for_suite

            suite, client_random, server_random = d.epoch
            master = self._secrets.get(("CLIENT_RANDOM", client_random))
            if master is not None and aead_for_suite(suite) is not None:
                d.protection = _Protection(tls12=Tls12RecordProtection(
                    suite, master, client_random, server_random, server=d.name == SERVER))
        return d.protection

    def _on_record(self, d: _Direction, rec: Record) -> None:
        if rec.content_type == SSL2_CLIENT_HELLO:
            hello = parse_sslv2_client_hello(rec.fragment)
            self.client_hello = hello
            self._client_random = hello.challenge.rjust(32, b"\x00")
            self.last_message = "ClientHello"
            self._events.append(MessageEvent(d.name, hello, False, d.records, len(rec.fragment) + 2))
            return
        ctype, payload, encrypted = rec.content_type, rec.fragment, False
        if ctype == 20 and d.protected and not self._tls13():
            # A renegotiation's ChangeCipherSpec travels under the keys of the current epoch.
            protection = self._ensure_protection(d)
            if protection is None:
                self._events.append(EncryptedRecordEvent(d.name, ctype, len(rec.fragment), d.records,
                                                         "Encrypted ChangeCipherSpec"))
                d.epoch = (self._suite or 0, b"", b"")  # a new epoch whose keys we cannot know
                d.protection, d.renegotiating = None, False
                return
            ctype, payload = protection.open(rec)
            encrypted = True
        if ctype == 20:
            if payload != b"\x01":
                raise DecodeError("ChangeCipherSpec", rec.offset, "body is not 0x01")
            self._events.append(ChangeCipherSpecEvent(d.name, d.records))
            if not self._tls13():
                # RFC 5246 §7.1: from here this side's records use the pending keys.
                if d.hs.pending:
                    raise DecodeError("record", rec.offset, "ChangeCipherSpec inside a handshake message")
                d.protected, d.protection = True, None
                d.epoch = (self._suite or 0, self._client_random, self._server_random)
                d.renegotiating = False
            return
        tls13_outer = self._tls13() and ctype == 23
        if d.protected and (tls13_outer or not self._tls13()):
            protection = self._ensure_protection(d)
            if protection is None:
                self._undecryptable(d, ctype, rec)
                return
            ctype, payload = protection.open(rec)
            encrypted = True
        if ctype == 21:
            alert = parse_alert(payload)
            self._events.append(AlertEvent(d.name, alert, encrypted, d.records, self.state))
        elif ctype == 22:
            if not payload:
                raise DecodeError("record", rec.offset, "empty handshake record")
            d.hs.receive_fragment(payload)
            while True:
                item = d.hs.next_message()
                if isinstance(item, NeedData):
                    break
                self._on_message(d, item[0], item[1], item[2], encrypted)
        elif ctype == 23:
            self._events.append(ApplicationDataEvent(d.name, len(rec.fragment), d.records))
        else:
            self._events.append(EncryptedRecordEvent(d.name, ctype, len(rec.fragment), d.records,
                                                     f"ContentType({ctype})"))

    def _undecryptable(self, d: _Direction, ctype: int, rec: Record) -> None:
        tls12 = not self._tls13()
        if ctype == 23 and (tls12 or d.finished):
            self._events.append(ApplicationDataEvent(d.name, len(rec.fragment), d.records))
            return
        self.undecrypted += 1
        if ctype == 22 and tls12:
            if not d.finished:
                d.finished = True  # the first protected handshake message of a side is its Finished
            elif d.name == CLIENT and not d.renegotiating:
                d.renegotiating = True  # a new ClientHello under the old keys
                self.renegotiations += 1
            elif d.name == SERVER and not self._dirs[CLIENT].renegotiating:
                self.hello_requests += 1
        name = {22: "Encrypted Handshake Message", 21: "Encrypted Alert"}.get(ctype, "Encrypted Handshake Message")
        self._events.append(EncryptedRecordEvent(d.name, ctype, len(rec.fragment), d.records, name))

    def _on_message(self, d: _Direction, msg_type: int, body: bytes, raw: bytes, encrypted: bool) -> None:
        tls13 = self._tls13()
        msg = parse_handshake(msg_type, body, tls13=tls13, version=self.version or 0x0303)
        self.last_message = message_name(msg)
        self._events.append(MessageEvent(d.name, msg, encrypted, d.records, len(raw)))
        if isinstance(msg, ClientHello) and d.name == CLIENT:
            if self.client_hello is None:
                self.client_hello = msg
            elif self._dirs[CLIENT].finished and not tls13:
                self.renegotiations += 1
                d.renegotiating = True
            if self.hello_retry is None or not self._client_random:
                self._client_random = msg.random
        elif isinstance(msg, ServerHello) and d.name == SERVER:
            if msg.is_hello_retry_request:
                self.hello_retry = msg
                return
            self._server_random, self._suite = msg.random, msg.cipher_suite
            if self.server_hello is not None:
                return  # a renegotiation's ServerHello: same version, maybe a new suite
            self.server_hello = msg
            self.version = msg.selected_version
            self.cipher_suite = msg.cipher_suite
            share = ext.find(msg.extensions, ext.ET_KEY_SHARE)
            if share is not None and self.version == TLS13:
                self.group = ext.parse_key_share_server(share.data).group
            if self.version == TLS13:
                d.protected = True
                self._dirs[CLIENT].protected = True
        elif isinstance(msg, HelloRequest):
            self.hello_requests += 1
        elif isinstance(msg, CertificateRequest):
            when = "initial"
            if tls13 and d.finished:
                when = "post_handshake"
            elif not tls13 and (self.renegotiations or self._dirs[SERVER].finished):
                when = "renegotiation"
            self.requests.append(RequestSeen(msg, when))
        elif isinstance(msg, Finished):
            if tls13 and not d.finished:
                d.protection = None  # switch to the application traffic secret
                d.hs = HandshakeReassembler(self._max_message)
            d.finished = True
        elif isinstance(msg, KeyUpdate) and tls13 and d.protection is not None:
            if d.protection.tls13 is not None:
                d.protection.tls13.key_update()
        elif isinstance(msg, ServerKeyExchange) and self.group is None:
            self.group = msg.named_group
