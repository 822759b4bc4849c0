"""A passive observer of one TLS connection: both directions' bytes in, events out.

The same observer reads a live connection driven by the platform TLS library and a
connection reassembled from a capture. It never sends anything. TLS 1.3 protected
records are decrypted when the key log secrets for the connection are supplied
(``add_keylog``); without them they are reported as ``EncryptedRecordEvent`` — "not
seen", never "absent". TLS <= 1.2 records after ChangeCipherSpec are reported the
same way (we do not decrypt TLS 1.2); a protected handshake record after a
direction's Finished is a renegotiation (or a TLS 1.2 HelloRequest) and is counted.
No I/O here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque, Optional, Union

from ..errors import DecodeError
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
from .keyschedule import TLS13_SUITES
from .messages import (
    CertificateRequest,
    ClientHello,
    Finished,
    KeyUpdate,
    ServerHello,
    ServerKeyExchange,
    Sslv2ClientHello,
    message_name,
    parse_alert,
    parse_handshake,
    parse_sslv2_client_hello,
)
from .protection import RecordProtection
from .records import SSL2_CLIENT_HELLO, HandshakeReassembler, NeedData, Record, RecordReader

__all__ = ["PassiveObserver", "KEYLOG_LABELS"]

TLS13 = 0x0304

# NSS key log labels for TLS 1.3 (keys we use) and TLS 1.2 (accepted, not used).
KEYLOG_LABELS = (
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_RANDOM",
)


@dataclass
class _Direction:
    """Per-direction reading state."""

    name: str
    reader: RecordReader
    hs: HandshakeReassembler
    records: int = 0
    protected: bool = False  # records after CCS (<= 1.2) or after ServerHello (1.3) are protected
    protection: Optional[RecordProtection] = None
    finished: bool = False  # this side's (first) Finished has been seen or inferred
    closed: bool = False
    close_reported: bool = False


class PassiveObserver:
    """Reads both directions of one connection.

    Args:
        wait_for_keys: hold TLS 1.3 protected records until ``add_keylog`` supplies the
            secrets (live use, where the key log is written while the handshake runs);
            when False they are reported as undecryptable at once (captures without keys).
        max_message: the largest handshake message accepted.
    """

    def __init__(self, *, wait_for_keys: bool = False, max_message: int = 256 * 1024) -> None:
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
        self._secrets: dict[str, bytes] = {}
        self.client_hello: Optional[Union[ClientHello, Sslv2ClientHello]] = None
        self.server_hello: Optional[ServerHello] = None
        self.hello_retry: Optional[ServerHello] = None
        self.version: Optional[int] = None
        self.cipher_suite: Optional[int] = None
        self.group: Optional[int] = None
        self.certificate_requests: list[CertificateRequest] = []
        self.renegotiations = 0  # protected handshake records after a side's Finished (<= 1.2)
        self.undecrypted = 0  # protected records we could not read
        self.last_message: Optional[str] = None

    # --- input ------------------------------------------------------------------------------------

    def client_bytes(self, data: bytes) -> None:
        self._feed(self._dirs[CLIENT], data)

    def server_bytes(self, data: bytes) -> None:
        self._feed(self._dirs[SERVER], data)

    def add_keylog(self, text: str) -> None:
        """Lines of an NSS key log (``LABEL <client_random hex> <secret hex>``).

        Only lines for this connection's client random are kept; records that were
        waiting for these keys are read now.
        """
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 3 or parts[0] not in KEYLOG_LABELS:
                continue
            try:
                random, secret = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            except ValueError:
                continue
            if self.client_hello is None or getattr(self.client_hello, "random", None) == random:
                self._secrets[parts[0]] = secret
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
        if self._events:
            return self._events.popleft()
        from .records import NEED_DATA

        return NEED_DATA

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
                if d.closed and not d.close_reported:
                    d.close_reported = True
                    self._events.append(ConnectionClosed(d.name))
                return True
            d.records += 1
            self._on_record(d, rec)

    def _needs_keys(self, d: _Direction) -> bool:
        """A TLS 1.3 protected record is next and its key is not known yet (live mode)."""
        if not self._wait or self.version != TLS13 or not d.protected or d.protection is not None:
            return False
        return d.reader.peek(1) == b"\x17"

    def _secret_label(self, d: _Direction) -> str:
        side = "CLIENT" if d.name == CLIENT else "SERVER"
        return f"{side}_TRAFFIC_SECRET_0" if d.finished else f"{side}_HANDSHAKE_TRAFFIC_SECRET"

    def _ensure_protection(self, d: _Direction) -> Optional[RecordProtection]:
        if d.protection is None and self.cipher_suite in TLS13_SUITES:
            secret = self._secrets.get(self._secret_label(d))
            if secret is not None:
                d.protection = RecordProtection(TLS13_SUITES[self.cipher_suite], secret)
        return d.protection

    def _on_record(self, d: _Direction, rec: Record) -> None:
        if rec.content_type == SSL2_CLIENT_HELLO:
            hello = parse_sslv2_client_hello(rec.fragment)
            self.client_hello = hello
            self.last_message = "ClientHello"
            self._events.append(MessageEvent(d.name, hello, False, d.records, len(rec.fragment) + 2))
            return
        ctype, payload, encrypted = rec.content_type, rec.fragment, False
        if ctype == 20:
            if payload != b"\x01":
                raise DecodeError("ChangeCipherSpec", rec.offset, "body is not 0x01")
            self._events.append(ChangeCipherSpecEvent(d.name, d.records))
            if self.version != TLS13:
                d.protected = True
            return
        if d.protected and (self.version == TLS13 and ctype == 23 or self.version != TLS13):
            protection = self._ensure_protection(d) if self.version == TLS13 else None
            if protection is None:
                self._undecryptable(d, ctype, rec)
                return
            ctype, payload = protection.decrypt(rec.header, rec.fragment)
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
        tls12 = self.version != TLS13
        if ctype == 23 and (tls12 or d.finished):
            self._events.append(ApplicationDataEvent(d.name, len(rec.fragment), d.records))
            return
        self.undecrypted += 1
        if ctype == 22 and tls12:
            if d.finished:
                self.renegotiations += 1  # a protected handshake message after this side's Finished
            d.finished = True  # the first protected handshake message of a side is its Finished
        name = {22: "Encrypted Handshake Message", 21: "Encrypted Alert"}.get(ctype, "Encrypted Handshake Message")
        self._events.append(EncryptedRecordEvent(d.name, ctype, len(rec.fragment), d.records, name))

    def _on_message(self, d: _Direction, msg_type: int, body: bytes, raw: bytes, encrypted: bool) -> None:
        tls13 = self.version == TLS13
        msg = parse_handshake(msg_type, body, tls13=tls13, version=self.version or 0x0303)
        self.last_message = message_name(msg)
        self._events.append(MessageEvent(d.name, msg, encrypted, d.records, len(raw)))
        if isinstance(msg, ClientHello) and d.name == CLIENT:
            if self.client_hello is None:
                self.client_hello = msg
        elif isinstance(msg, ServerHello) and d.name == SERVER:
            if msg.is_hello_retry_request:
                self.hello_retry = msg
                return
            self.server_hello = msg
            self.version = msg.selected_version
            self.cipher_suite = msg.cipher_suite
            share = ext.find(msg.extensions, ext.ET_KEY_SHARE)
            if share is not None and self.version == TLS13:
                self.group = ext.parse_key_share_server(share.data).group
            if self.version == TLS13:
                d.protected = True
                self._dirs[CLIENT].protected = True
        elif isinstance(msg, CertificateRequest):
            self.certificate_requests.append(msg)
        elif isinstance(msg, Finished):
            if tls13 and not d.finished:
                d.finished = True
                d.protection = None  # switch to the application traffic secret
                d.hs = HandshakeReassembler()
            d.finished = True
        elif isinstance(msg, KeyUpdate) and tls13 and d.protection is not None:
            d.protection.key_update()
        elif isinstance(msg, ServerKeyExchange) and self.group is None:
            self.group = msg.named_group
