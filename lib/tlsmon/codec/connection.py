"""The client handshake state machine: bytes in, events and bytes out, no sockets.

``ClientHandshake`` sends the codec's own ClientHello, reads the server's first
flight (up to ServerHelloDone in TLS <= 1.2, up to a verified server Finished in
TLS 1.3, decrypting with keys from its own key share) and, for TLS 1.3 only, can
complete the handshake without a client certificate to see how the server reacts.
All state transitions are in ``_TRANSITIONS``.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Callable, Deque, Optional, Union

from ..errors import DecodeError, UnexpectedMessage
from . import extensions as ext
from .events import (
    CLIENT,
    SERVER,
    AlertEvent,
    ApplicationDataEvent,
    ChangeCipherSpecEvent,
    ConnectionClosed,
    Event,
    MessageEvent,
    ServerFlightComplete,
)
from .hello import TLS12, TLS13, HelloOptions, build_client_hello_message
from .keyschedule import (
    SUPPORTED_GROUPS,
    TLS13_SUITES,
    KeySchedule,
    KeyShare,
    Transcript,
    verify_certificate_verify,
    verify_finished,
)
from .messages import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    Finished,
    HandshakeMessage,
    KeyUpdate,
    ServerHello,
    build_handshake,
    message_name,
    parse_alert,
    parse_handshake,
)
from .protection import RecordProtection
from .records import NEED_DATA, HandshakeReassembler, NeedData, Record, RecordReader, build_record

__all__ = ["ClientHandshake", "State"]


class State:
    """Names of the client's states; the phase names reported to operators derive from them."""

    WAIT_SH = "server_hello"
    WAIT_SH2 = "server_hello_after_retry"
    # TLS <= 1.2 server flight
    WAIT_CERT12 = "certificate"
    WAIT_SKE = "server_key_exchange"
    WAIT_SHD = "server_hello_done"
    # TLS 1.3 server flight
    WAIT_EE = "encrypted_extensions"
    WAIT_CERT_CR = "certificate_request_or_certificate"
    WAIT_CERT13 = "certificate_after_request"
    WAIT_CV = "certificate_verify"
    WAIT_FINISHED = "finished"
    FLIGHT_DONE = "server_flight_complete"
    CONNECTED = "connected"
    CLOSED = "closed"


# (state, handshake type) -> next state; anything else is an unexpected message.
_TRANSITIONS: dict[tuple[str, int], str] = {
    (State.WAIT_CERT12, 11): State.WAIT_SKE,  # Certificate
    (State.WAIT_CERT12, 12): State.WAIT_SHD,  # ServerKeyExchange (anonymous or PSK suites)
    (State.WAIT_CERT12, 14): State.FLIGHT_DONE,  # ServerHelloDone (PSK)
    (State.WAIT_SKE, 22): State.WAIT_SKE,  # CertificateStatus
    (State.WAIT_SKE, 12): State.WAIT_SHD,
    (State.WAIT_SKE, 13): State.WAIT_SHD,  # CertificateRequest (RSA key exchange)
    (State.WAIT_SKE, 14): State.FLIGHT_DONE,
    (State.WAIT_SHD, 13): State.WAIT_SHD,
    (State.WAIT_SHD, 14): State.FLIGHT_DONE,
    (State.WAIT_EE, 8): State.WAIT_CERT_CR,
    (State.WAIT_CERT_CR, 13): State.WAIT_CERT13,
    (State.WAIT_CERT_CR, 11): State.WAIT_CV,
    (State.WAIT_CERT13, 11): State.WAIT_CV,
    (State.WAIT_CV, 15): State.WAIT_FINISHED,
    (State.WAIT_FINISHED, 20): State.FLIGHT_DONE,
    # After the handshake: tickets, key updates and post-handshake requests.
    (State.CONNECTED, 4): State.CONNECTED,
    (State.CONNECTED, 24): State.CONNECTED,
    (State.CONNECTED, 13): State.CONNECTED,
    (State.CONNECTED, 0): State.CONNECTED,  # HelloRequest (TLS <= 1.2 renegotiation)
}


# Private key sizes for deterministic key shares: x25519, x448, P-256, P-384, P-521.
_PRIVATE_KEY_SIZES = {29: 32, 30: 56, 23: 32, 24: 48, 25: 65}


class ClientHandshake:
    """A TLS client handshake as a pure state machine.

    Args:
        options: what the ClientHello offers.
        rng: source of randomness (``os.urandom``); tests pass a deterministic one.
        complete: for TLS 1.3, after the server flight send an empty Certificate (if one
            was requested) and our Finished, then keep reading (tickets, alerts, data).
        max_message: the largest handshake message accepted.
    """

    def __init__(
        self,
        options: HelloOptions,
        rng: Callable[[int], bytes] = os.urandom,
        *,
        complete: bool = False,
        max_message: int = 256 * 1024,
    ) -> None:
        self.options = options
        self._rng = rng
        self._complete = complete
        self._reader = RecordReader(allow_sslv2=False)
        self._hs = HandshakeReassembler(max_message)
        self._out = bytearray()
        self._events: Deque[Event] = deque()
        self._records_in = 0
        self._records_out = 0
        self._closed = False
        self._close_reported = False
        self.state = State.WAIT_SH
        self.version: Optional[int] = None
        self.cipher_suite: Optional[int] = None
        self.group: Optional[int] = None
        self.server_hello: Optional[ServerHello] = None
        self.hello_retry: Optional[ServerHello] = None
        self.certificate_request: Optional[CertificateRequest] = None
        self.server_certificate: Optional[Certificate] = None
        self.last_received: Optional[str] = None
        self.last_sent: Optional[str] = None
        self._transcript = Transcript()
        self._schedule: Optional[KeySchedule] = None
        self._read_protection: Optional[RecordProtection] = None
        self._write_protection: Optional[RecordProtection] = None
        self._client_hs_secret = b""
        self._server_hs_secret = b""
        self._random, self._session_id = rng(32), rng(32)
        self._shares = {g: self._new_share(g) for g in options.key_share_groups} if options.offers_tls13 else {}
        self._send_client_hello()

    # --- driver API ------------------------------------------------------------------------

    @property
    def phase(self) -> str:
        """What the client is waiting for now (for operators' messages)."""
        return self.state

    @property
    def has_partial_data(self) -> bool:
        """Bytes of an incomplete record or handshake message are buffered."""
        return bool(self._reader.buffered or self._hs.pending)

    @property
    def encrypted(self) -> bool:
        return self._read_protection is not None

    def data_to_send(self) -> bytes:
        """Bytes to write to the peer; ``b""`` when there is nothing."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer; ``b""`` means the peer closed the stream."""
        if not data:
            self._closed = True
            return
        self._reader.receive_data(data)

    def next_event(self) -> Union[Event, NeedData]:
        """The next event, or ``NEED_DATA``.

        Raises:
            DecodeError: the peer's bytes are malformed (incl. not TLS at all).
            UnexpectedMessage: a valid message in the wrong state.
            DecryptError, HandshakeVerifyError: protection or verification failed.
        """
        while not self._events:
            if self.state == State.CLOSED:
                return NEED_DATA
            rec = self._reader.next_record()
            if isinstance(rec, NeedData):
                if self._read_protection is None:
                    self._hs.check_prefix(self._reader.partial_fragment(22))
                if self._closed and not self._close_reported:
                    self._close_reported = True
                    self._events.append(ConnectionClosed(SERVER))
                    break
                return NEED_DATA
            self._records_in += 1
            self._on_record(rec)
        return self._events.popleft()

    def _new_share(self, group: int) -> KeyShare:
        if self._rng is os.urandom:
            return KeyShare.generate(group)
        # A caller-supplied rng (tests) makes the private key deterministic too.
        return KeyShare.generate(group, self._rng(_PRIVATE_KEY_SIZES.get(group, 32)))

    # --- sending -----------------------------------------------------------------------------

    def _send_client_hello(self, cookie: Optional[bytes] = None) -> None:
        entries = [ext.KeyShareEntry(g, s.public_bytes) for g, s in self._shares.items()]
        hello = build_client_hello_message(self.options, self._random, self._session_id, entries, cookie)
        self._send_handshake(hello, protected=False)

    def _send_handshake(self, msg: HandshakeMessage, *, protected: bool) -> None:
        raw = build_handshake(msg)
        self._transcript.update(raw)
        self._records_out += 1
        if protected and self._write_protection is not None:
            self._out += self._write_protection.encrypt(22, raw)
        else:
            # RFC 5246 §6.2.1: the first hello's record version is commonly 0x0301 for compatibility.
            rec_version = 0x0301 if isinstance(msg, ClientHello) else TLS12
            self._out += build_record(22, raw, rec_version)
        self.last_sent = message_name(msg)
        self._events.append(MessageEvent(CLIENT, msg, protected, self._records_out, len(raw)))

    # --- receiving ---------------------------------------------------------------------------

    def _on_record(self, rec: Record) -> None:
        ctype, payload, encrypted = rec.content_type, rec.fragment, False
        if ctype == 23 or (self._read_protection is not None and ctype != 20):
            if self._read_protection is None:
                raise UnexpectedMessage(f"application data before the handshake (state {self.state})")
            if ctype != 23:
                raise UnexpectedMessage(f"unprotected record type {ctype} after keys were set")
            ctype, payload = self._read_protection.decrypt(rec.header, rec.fragment)
            encrypted = True
        if ctype == 21:
            if self._hs.pending:
                raise DecodeError("record", rec.offset, "alert inside a fragmented handshake message")
            alert = parse_alert(payload)
            self.last_received = "Alert"
            self._events.append(AlertEvent(SERVER, alert, encrypted, self._records_in, self.state))
            if alert.level == 2 or alert.description == 0:
                self.state = State.CLOSED
        elif ctype == 20:
            if payload != b"\x01":
                raise DecodeError("ChangeCipherSpec", rec.offset, "body is not 0x01")
            self._events.append(ChangeCipherSpecEvent(SERVER, self._records_in))
        elif ctype == 22:
            if not payload:
                raise DecodeError("record", rec.offset, "empty handshake record")
            self._hs.receive_fragment(payload)
            while True:
                item = self._hs.next_message()
                if item is NEED_DATA or isinstance(item, NeedData):
                    break
                msg_type, body, raw = item
                keys_before = self._read_protection
                self._on_handshake(msg_type, body, raw, encrypted)
                if self.state == State.CLOSED:
                    break
                if self._read_protection is not keys_before and self._hs.pending:
                    # RFC 8446 §5.1: handshake messages must not span a key change.
                    raise UnexpectedMessage("handshake data after a key change in the same record")
        elif ctype == 23:
            self._events.append(ApplicationDataEvent(SERVER, len(rec.fragment), self._records_in, payload))
        else:
            raise UnexpectedMessage(f"record type {ctype} during the handshake")

    def _on_handshake(self, msg_type: int, body: bytes, raw: bytes, encrypted: bool) -> None:
        tls13 = self.version == TLS13
        msg = parse_handshake(msg_type, body, tls13=tls13, version=self.version or TLS12)
        name = message_name(msg)
        if self.state in (State.WAIT_SH, State.WAIT_SH2):
            if not isinstance(msg, ServerHello):
                raise UnexpectedMessage(f"{name} where ServerHello was expected")
            self.last_received = name
            self._events.append(MessageEvent(SERVER, msg, encrypted, self._records_in, len(raw)))
            self._on_server_hello(msg, raw)
            return
        nxt = _TRANSITIONS.get((self.state, msg_type))
        if nxt is None:
            raise UnexpectedMessage(f"{name} in state {self.state}")
        if self.state == State.CONNECTED:
            self._events.append(MessageEvent(SERVER, msg, encrypted, self._records_in, len(raw)))
            if isinstance(msg, CertificateRequest):
                self.certificate_request = msg
            elif isinstance(msg, KeyUpdate) and tls13:
                if msg.request_update not in (0, 1):
                    raise DecodeError("KeyUpdate", 0, f"request_update {msg.request_update} is not 0 or 1")
                if self._read_protection is not None:
                    self._read_protection.key_update()  # RFC 8446 §4.6.3: the next record uses the next secret
            self.last_received = name
            return
        transcript_before = b""
        if tls13:  # TLS <= 1.2 flights are only read, never verified: no transcript needed
            transcript_before = self._transcript.digest()
            self._transcript.update(raw)
        if isinstance(msg, CertificateRequest):
            self.certificate_request = msg
        elif isinstance(msg, Certificate):
            self.server_certificate = msg
        elif isinstance(msg, CertificateVerify) and tls13:
            self._verify_certificate_verify(msg, transcript_before)
        elif isinstance(msg, Finished) and tls13:
            assert self._schedule is not None
            verify_finished(self._schedule.suite, self._server_hs_secret, transcript_before, msg.verify_data)
        self.last_received = name
        self.state = nxt
        self._events.append(MessageEvent(SERVER, msg, encrypted, self._records_in, len(raw)))
        if nxt == State.FLIGHT_DONE:
            self._events.append(ServerFlightComplete(self.version or TLS12))
            if tls13:
                self._after_server_finished()

    def _on_server_hello(self, sh: ServerHello, raw: bytes) -> None:
        offered = self.options.versions
        if sh.is_hello_retry_request:
            self._on_hello_retry(sh, raw)
            return
        version = sh.selected_version
        if version not in offered:
            raise UnexpectedMessage(f"server chose version 0x{version:04x}, which was not offered")
        if sh.cipher_suite not in self.options.suites():
            raise UnexpectedMessage(f"server chose cipher suite 0x{sh.cipher_suite:04x}, which was not offered")
        if version == TLS13 and sh.session_id != self._session_id:
            raise UnexpectedMessage("TLS 1.3 ServerHello does not echo our legacy_session_id (RFC 8446 §4.1.3)")
        self.server_hello, self.version, self.cipher_suite = sh, version, sh.cipher_suite
        if version != TLS13:
            self.state = State.WAIT_CERT12
            return
        suite = TLS13_SUITES.get(sh.cipher_suite)
        if suite is None:
            raise UnexpectedMessage(f"cipher suite 0x{sh.cipher_suite:04x} is not a TLS 1.3 suite we support")
        share_ext = ext.find(sh.extensions, ext.ET_KEY_SHARE)
        if share_ext is None:
            raise UnexpectedMessage("TLS 1.3 ServerHello without key_share (PSK-only was not offered)")
        entry = ext.parse_key_share_server(share_ext.data)
        share = self._shares.get(entry.group)
        if share is None:
            raise UnexpectedMessage(f"server key share for group {entry.group}, which we did not send")
        self.group = entry.group
        self._transcript.set_suite(suite)
        self._transcript.update(raw)
        self._schedule = KeySchedule(suite)
        shared = share.exchange(entry.key_exchange)
        self._client_hs_secret, self._server_hs_secret = self._schedule.handshake_secrets(
            shared, self._transcript.digest()
        )
        self._read_protection = RecordProtection(suite, self._server_hs_secret)
        self._write_protection = RecordProtection(suite, self._client_hs_secret)
        self.state = State.WAIT_EE

    def _on_hello_retry(self, hrr: ServerHello, raw: bytes) -> None:
        if self.state == State.WAIT_SH2:
            raise UnexpectedMessage("second HelloRetryRequest")
        if hrr.selected_version != TLS13 or TLS13 not in self.options.versions:
            raise UnexpectedMessage("HelloRetryRequest for a version other than TLS 1.3")
        suite = TLS13_SUITES.get(hrr.cipher_suite)
        if suite is None or hrr.cipher_suite not in self.options.suites():
            raise UnexpectedMessage(f"HelloRetryRequest with a suite we did not offer: 0x{hrr.cipher_suite:04x}")
        self.hello_retry = hrr
        share_ext = ext.find(hrr.extensions, ext.ET_KEY_SHARE)
        cookie_ext = ext.find(hrr.extensions, ext.ET_COOKIE)
        if share_ext is not None:
            group = ext.parse_key_share_hrr(share_ext.data)
            if group not in self.options.groups or group in self._shares:
                raise UnexpectedMessage(f"HelloRetryRequest asks for group {group}, not offered or already sent")
            if group not in SUPPORTED_GROUPS:
                raise UnexpectedMessage(f"HelloRetryRequest asks for group {group}, for which we make no key share")
            self._shares = {group: self._new_share(group)}
        self._transcript.set_suite(suite)
        self._transcript.restart_after_hrr()
        self._transcript.update(raw)
        self.state = State.WAIT_SH2
        self._send_client_hello(cookie_ext.data if cookie_ext is not None else None)

    def _verify_certificate_verify(self, msg: CertificateVerify, transcript_hash: bytes) -> None:
        if self.server_certificate is None or not self.server_certificate.entries:
            raise UnexpectedMessage("CertificateVerify without a server certificate")
        assert msg.algorithm is not None
        verify_certificate_verify(
            self.server_certificate.entries[0].cert_data, msg.algorithm, msg.signature, transcript_hash, server=True
        )

    def _after_server_finished(self) -> None:
        assert self._schedule is not None
        server_ap = self._schedule.application_secrets(self._transcript.digest())[1]
        if not self._complete:
            return
        if self.certificate_request is not None:
            ctx = self.certificate_request.context or b""
            self._send_handshake(Certificate((), ctx), protected=True)
        verify = self._schedule.finished_verify_data(self._client_hs_secret, self._transcript.digest())
        self._send_handshake(Finished(verify), protected=True)
        self._read_protection = RecordProtection(self._schedule.suite, server_ap)
        self.state = State.CONNECTED
