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
from typing import TYPE_CHECKING, Any, Deque, Optional, Union

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
    HandshakeMessage,
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


class _Direction:
    """Per-direction reading state; the class attributes are the initial values (an observer is made per connection)."""

    records: int = 0
    protected: bool = False  # records after CCS (<= 1.2) or after ServerHello (1.3) are protected
    protection: Optional[_Protection] = None
    epoch: Optional[tuple[int, bytes, bytes]] = None  # TLS 1.2: (suite, client_random, server_random)
    finished: bool = False  # this side's first Finished has been seen (or inferred)
    renegotiating: bool = False  # a protected handshake after Finished is under way (no keys)
    closed: bool = False
    close_reported: bool = False

    def __init__(self, name: str, reader: RecordReader, hs: HandshakeReassembler) -> None:
        self.name = name
        self.reader = reader
        self.hs = hs


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
        self._client = _Direction(CLIENT, RecordReader(allow_sslv2=True), HandshakeReassembler(max_message))
        self._server = _Direction(SERVER, RecordReader(allow_sslv2=False), HandshakeReassembler(max_message))
        self._dirs = {CLIENT: self._client, SERVER: self._server}
        # Events as plain tuples ``(event class, *fields)``: made into events only when asked
        # for (next_event, events); the capture engine reads the tuples themselves (take).
        self._events: Deque[tuple[Any, ...]] = deque()
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
        self._last: Optional[HandshakeMessage] = None  # the last handshake message read

    @property
    def last_message(self) -> Optional[str]:
        """The RFC name of the last handshake message read (``HelloRetryRequest``, ...), if any."""
        return None if self._last is None else message_name(self._last)

    @property
    def certificate_requests(self) -> list[CertificateRequest]:
        return [r.message for r in self.requests]

    # --- input ------------------------------------------------------------------------------------

    def client_bytes(self, data: bytes) -> None:
        self._feed(self._client, data)

    def server_bytes(self, data: bytes) -> None:
        self._feed(self._server, data)

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
        if not self._events:
            return NEED_DATA
        t = self._events.popleft()
        return t[0](*t[1:])

    def events(self) -> list[Event]:
        """All events available now."""
        out = [t[0](*t[1:]) for t in self._events]
        self._events.clear()
        return out

    def take(self) -> list[tuple[Any, ...]]:
        """``events()`` as the tuples ``(event class, *its fields in order)``, not made into events."""
        events = self._events
        if not events:
            return []
        out = list(events)
        events.clear()
        return out

    def handshake_take(self, direction: str, payload: bytes) -> Optional[list[tuple[Any, ...]]]:
        """``feed_take`` of one whole plaintext handshake record whose body is ``payload``.

        The caller has framed the record (content type 22, version 3.x, a length within the
        limit); it skips the record layer. None, with nothing done, when the direction is not
        at a record boundary with nothing waiting, or reads protected records: then call
        ``feed_take`` with the whole record.
        """
        d = self._client if direction == CLIENT else self._server
        reader = d.reader
        if d.protected or self._wait or self._chunks or self._blocked is not None or d.closed \
                or reader.buffered:
            return None
        # what _feed -> _pump does with this one record
        offset = reader.framed(len(payload))
        d.records += 1
        self._handshake(d, payload, offset, False)
        if not d.protected:
            hs = d.hs
            if hs.pending:
                hs.check_prefix(b"")
        return self.take()

    def may_hold(self, direction: str, head: bytes) -> bool:
        """Whether a caller may hold a plaintext handshake record of ``direction`` whose body
        begins with ``head`` (4 bytes or more) until it is complete, and then give it to
        ``handshake_take``: no message of this direction is part read, and ``head`` declares
        a length within the limit. Otherwise feed it as it comes, which is what refuses an
        absurd length on sight.
        """
        d = self._client if direction == CLIENT else self._server
        return len(head) >= 4 and not d.hs.pending and (head[1] << 16 | head[2] << 8 | head[3]) <= self._max_message

    def feed_take(self, direction: str, data: bytes) -> list[tuple[Any, ...]]:
        """``client_bytes``/``server_bytes`` (by ``direction``), then ``take()``."""
        if data:
            self._feed(self._client if direction == CLIENT else self._server, data)
        return self.take()

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
        if not data:
            return
        if self._chunks or self._blocked is not None:
            self._chunks.append((d, data))
            self._drain()
            return
        # Nothing waits (the usual case): read the chunk at once, as _drain would.
        d.reader.receive_data(data)
        if not self._pump(d):
            self._blocked = d

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
        reader = d.reader
        while True:
            if self._wait and self._needs_keys(d):
                return False
            parts = reader.next_record_parts()
            if parts is None:
                if not d.protected:  # an absurd handshake length is refused on sight, not after a trickle
                    hs = d.hs
                    # (nothing to check unless a message is pending or a record has begun)
                    if hs.pending or reader.buffered > 5:
                        hs.check_prefix(reader.partial_fragment(22))
                if d.closed and not d.close_reported:
                    d.close_reported = True
                    self._events.append((ConnectionClosed, d.name))
                return True
            d.records += 1
            if parts[0] == 22 and not d.protected:  # the usual record: plaintext handshake messages
                self._handshake(d, parts[2], parts[3], False)
            else:
                self._on_record(d, *parts)

    def is_tls13(self) -> bool:
        """TLS 1.3 negotiated, or announced by a HelloRetryRequest (RFC 8446 §4.1.4: it exists
        only in TLS 1.3; from it on, a ChangeCipherSpec is the compatibility one, not a TLS 1.2
        key change)."""
        return self.version == TLS13 or (self.version is None and self.hello_retry is not None)

    def _needs_keys(self, d: _Direction) -> bool:
        """A protected record is next, its keys are not known yet, and they may still come."""
        if not self._wait or not d.protected or self._ensure_protection(d) is not None:
            return False
        head = d.reader.peek(1)
        if not head:
            return False
        if self.is_tls13():  # only application_data records are protected; a CCS never is
            return head == b"\x17"
        from .tls12 import aead_for_suite

        return d.epoch is not None and aead_for_suite(d.epoch[0]) is not None

    def _secret_label(self, d: _Direction) -> str:
        side = "CLIENT" if d.name == CLIENT else "SERVER"
        return f"{side}_TRAFFIC_SECRET_0" if d.finished else f"{side}_HANDSHAKE_TRAFFIC_SECRET"

    def _ensure_protection(self, d: _Direction) -> Optional[_Protection]:
        if d.protection is not None or not d.protected:
            return d.protection
        if self.is_tls13():
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

    def _on_record(self, d: _Direction, ctype: int, version: int, fragment: bytes, offset: int) -> None:
        if ctype == SSL2_CLIENT_HELLO:
            hello = parse_sslv2_client_hello(fragment)
            self.client_hello = hello
            self._client_random = hello.challenge.rjust(32, b"\x00")
            self._last = hello
            self._events.append((MessageEvent, d.name, hello, False, d.records, len(fragment) + 2))
            return
        payload, encrypted = fragment, False
        tls13 = self.is_tls13()
        if ctype == 20 and d.protected and not tls13:
            # A renegotiation's ChangeCipherSpec travels under the keys of the current epoch.
            protection = self._ensure_protection(d)
            if protection is None:
                self._events.append((EncryptedRecordEvent, d.name, ctype, len(fragment), d.records,
                                     "Encrypted ChangeCipherSpec"))
                d.epoch = (self._suite or 0, b"", b"")  # a new epoch whose keys we cannot know
                d.protection, d.renegotiating = None, False
                return
            ctype, payload = protection.open(Record(ctype, version, fragment, offset))
            encrypted = True
        if ctype == 20:
            if payload != b"\x01":
                raise DecodeError("ChangeCipherSpec", offset, "body is not 0x01")
            self._events.append((ChangeCipherSpecEvent, d.name, d.records))
            if not tls13:
                # RFC 5246 §7.1: from here this side's records use the pending keys.
                if d.hs.pending:
                    raise DecodeError("record", offset, "ChangeCipherSpec inside a handshake message")
                d.protected, d.protection = True, None
                d.epoch = (self._suite or 0, self._client_random, self._server_random)
                d.renegotiating = False
            return
        if d.protected and (ctype == 23 or not tls13):
            protection = self._ensure_protection(d)
            if protection is None:
                self._undecryptable(d, ctype, len(fragment))
                return
            ctype, payload = protection.open(Record(ctype, version, fragment, offset))
            encrypted = True
        if ctype == 22:
            self._handshake(d, payload, offset, encrypted)
        elif ctype == 21:
            alert = parse_alert(payload)
            self._events.append((AlertEvent, d.name, alert, encrypted, d.records, self.state))
        elif ctype == 23:
            self._events.append((ApplicationDataEvent, d.name, len(fragment), d.records))
        else:
            self._events.append((EncryptedRecordEvent, d.name, ctype, len(fragment), d.records,
                                 f"ContentType({ctype})"))

    def _handshake(self, d: _Direction, payload: bytes, offset: int, encrypted: bool) -> None:
        """A handshake record's payload: the messages it completes."""
        if not payload:
            raise DecodeError("record", offset, "empty handshake record")
        d.hs.receive_fragment(payload)
        while True:
            item = d.hs.next_body()  # d.hs is new after a TLS 1.3 Finished: looked up each time
            if item is None:
                return
            self._on_message(d, item[0], item[1], item[2], encrypted)

    def _undecryptable(self, d: _Direction, ctype: int, length: int) -> None:
        tls12 = not self.is_tls13()
        if ctype == 23 and (tls12 or d.finished):
            self._events.append((ApplicationDataEvent, d.name, length, d.records))
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
        self._events.append((EncryptedRecordEvent, d.name, ctype, length, d.records, name))

    def _on_message(self, d: _Direction, msg_type: int, body: bytes, length: int, encrypted: bool) -> None:
        tls13 = self.is_tls13()
        msg = parse_handshake(msg_type, body, tls13, self.version or 0x0303)
        self._last = msg
        self._events.append((MessageEvent, d.name, msg, encrypted, d.records, length))
        # parse_handshake makes exactly these classes (no subclasses): ``is`` is isinstance here
        cls = msg.__class__
        if cls is ClientHello and d.name == CLIENT:
            assert isinstance(msg, ClientHello)
            if self.client_hello is None:
                self.client_hello = msg
            elif self._dirs[CLIENT].finished and not tls13:
                self.renegotiations += 1
                d.renegotiating = True
            if self.hello_retry is None or not self._client_random:
                self._client_random = msg.random
        elif cls is ServerHello and d.name == SERVER:
            assert isinstance(msg, ServerHello)
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
        elif cls is HelloRequest:
            self.hello_requests += 1
        elif cls is CertificateRequest:
            assert isinstance(msg, CertificateRequest)
            when = "initial"
            if tls13 and d.finished:
                when = "post_handshake"
            elif not tls13 and (self.renegotiations or self._dirs[SERVER].finished):
                when = "renegotiation"
            self.requests.append(RequestSeen(msg, when))
        elif cls is Finished:
            if tls13 and not d.finished:
                d.protection = None  # switch to the application traffic secret
                d.hs = HandshakeReassembler(self._max_message)
            d.finished = True
        elif cls is KeyUpdate and tls13 and d.protection is not None:
            if d.protection.tls13 is not None:
                d.protection.tls13.key_update()
        elif cls is ServerKeyExchange and self.group is None:
            assert isinstance(msg, ServerKeyExchange)
            self.group = msg.named_group
