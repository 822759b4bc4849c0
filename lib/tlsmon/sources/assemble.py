"""Turn a handshake's codec events into a frozen ``HandshakeObservation``.

Shared by every source: it names messages, builds the numbered steps and extracts
certificate, CertificateRequest and alert facts. No I/O here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional, Sequence

from ..codec import extensions as ext
from ..codec.constants import describe, version_name
from ..codec.events import (
    AlertEvent,
    ApplicationDataEvent,
    ChangeCipherSpecEvent,
    ConnectionClosed,
    EncryptedRecordEvent,
    Event,
    MessageEvent,
)
from ..codec.messages import (
    Certificate,
    CertificateRequest,
    CertificateStatus,
    ClientHello,
    EncryptedExtensions,
    Finished,
    HandshakeMessage,
    HelloRequest,
    ServerHello,
    ServerKeyExchange,
    message_name,
)
from ..errors import DecodeError
from ..frozen import frozen
from ..observations import (
    AlertFacts,
    CertificateFacts,
    CertificateRequestFacts,
    Endpoint,
    HandshakeObservation,
    Outcome,
    Step,
    Timings,
)

if TYPE_CHECKING:  # (the capture engine imports this module without the client)
    from ..codec.connection import ClientHandshake

__all__ = ["HandshakeState", "observation", "alert_name", "ca_name_strings", "request_facts", "chain_facts"]


@frozen
class HandshakeState:
    """Where a handshake got to, from whichever reader followed it.

    Attributes:
        phase: what was awaited last (``server_hello``, ``certificate``, ... ``connected``).
        flight_complete: the server's first flight was read in full.
        connected: the handshake completed (our Finished sent or seen).
    """

    version: Optional[int]
    cipher_suite: Optional[int]
    group: Optional[int]
    server_hello: Optional[ServerHello]
    hello_retry: bool
    phase: str
    flight_complete: bool
    connected: bool = False

    @classmethod
    def of_client(cls, hs: ClientHandshake) -> HandshakeState:
        return cls(hs.version, hs.cipher_suite, hs.group, hs.server_hello, hs.hello_retry is not None, hs.phase,
                   hs.state in ("server_flight_complete", "connected"), hs.state == "connected")


def alert_name(description: int) -> str:
    """``handshake_failure(40)``."""
    return f"{describe('AlertDescription', description)}({description})"


def ca_name_strings(names_der: Sequence[bytes]) -> tuple[str, ...]:
    """RFC 4514 strings for DER names; an undecodable name reads ``<undecodable DN #hex>``."""
    from ..x509facts import dn_to_rfc4514

    out = []
    for der in names_der:
        try:
            out.append(dn_to_rfc4514(der))
        except DecodeError:
            out.append(f"<undecodable DN #{der.hex()}>")
    return tuple(out)


def request_facts(msg: CertificateRequest, *, when: str = "initial") -> CertificateRequestFacts:
    names = msg.ca_names
    return CertificateRequestFacts(
        ca_names=ca_name_strings(names),
        ca_names_der=names,
        signature_algorithms=msg.signature_algorithms,
        certificate_types=msg.certificate_types,
        when=when,
    )


def chain_facts(chain: Sequence[bytes]) -> tuple[CertificateFacts, ...]:
    """Facts of each certificate; one that cannot be read raises ``DecodeError``."""
    from ..x509facts import certificate_facts

    return tuple(certificate_facts(der) for der in chain)


def _ocsp_from_certificate(msg: Certificate) -> Optional[bytes]:
    """TLS 1.3 staples OCSP in the leaf entry's status_request extension (RFC 8446 §4.4.2.1)."""
    if not msg.entries:
        return None
    e = ext.find(msg.entries[0].extensions, ext.ET_STATUS_REQUEST)
    if e is None or len(e.data) < 4 or e.data[0] != 1:
        return None
    n = int.from_bytes(e.data[1:4], "big")
    return e.data[4 : 4 + n] if len(e.data) == 4 + n else None


def _detail(msg: HandshakeMessage, chain: tuple[CertificateFacts, ...], req: Optional[CertificateRequestFacts],
            version: Optional[int]) -> str:
    if isinstance(msg, ClientHello):
        versions = "/".join(version_name(v) for v in msg.supported_versions)
        sni = msg.server_name
        return f"{versions} SNI={sni}" if sni else f"{versions} no SNI"
    if isinstance(msg, ServerHello):
        if msg.is_hello_retry_request:
            share = ext.find(msg.extensions, ext.ET_KEY_SHARE)
            return f"asks for {describe('NamedGroup', ext.parse_key_share_hrr(share.data))}" if share else ""
        parts = [version_name(msg.selected_version), describe("CipherSuite", msg.cipher_suite)]
        share = ext.find(msg.extensions, ext.ET_KEY_SHARE)
        if share is not None:
            parts.append(describe("NamedGroup", ext.parse_key_share_server(share.data).group))
        if msg.alpn_protocol:
            parts.append(f"ALPN={msg.alpn_protocol}")
        return " ".join(parts)
    if isinstance(msg, Certificate):
        if not msg.entries:
            return "empty"
        shown = [f"{c.subject or '(empty subject)'} (expires {c.not_after:%Y-%m-%d})" for c in chain[:3]]
        more = f", +{len(msg.entries) - 3} more" if len(msg.entries) > 3 else ""
        return f"{len(msg.entries)} cert{'s' if len(msg.entries) != 1 else ''}: " + ", ".join(shown) + more
    if isinstance(msg, CertificateRequest):
        ca_names = ca_name_strings(msg.ca_names)
        names = "; ".join(ca_names) if ca_names else "none (any CA)"
        return f"CAs: {names}"
    if isinstance(msg, ServerKeyExchange):
        if msg.named_group is not None:
            return describe("NamedGroup", msg.named_group)
        bits = msg.dh_prime_bits()
        return f"DH {bits} bits" if bits else ""
    if isinstance(msg, EncryptedExtensions) and msg.alpn_protocol:
        return f"ALPN={msg.alpn_protocol}"
    if isinstance(msg, CertificateStatus):
        return f"OCSP response {len(msg.response)} bytes"
    return ""


def _steps(events: Sequence[Event], times: Sequence[float], chain: tuple[CertificateFacts, ...],
           req: Optional[CertificateRequestFacts], version: Optional[int]) -> tuple[Step, ...]:
    steps: list[Step] = []
    key: Optional[tuple[str, int]] = None
    names: list[str] = []
    details: list[str] = []
    enc = False
    t: Optional[float] = None

    def flush() -> None:
        if key is not None and names:
            steps.append(Step(key[0], tuple(names), tuple(details), enc, t))

    for event, when in zip(events, times):
        if isinstance(event, MessageEvent):
            this = (event.direction, event.record)
            name, detail = message_name(event.message), _detail(event.message, chain, req, version)
            encrypted = event.encrypted
        elif isinstance(event, ChangeCipherSpecEvent):
            this, name, detail, encrypted = (event.direction, event.record), "ChangeCipherSpec", "", False
        elif isinstance(event, AlertEvent):
            level = "fatal" if event.alert.level == 2 else "warning"
            this, name = (event.direction, event.record), "Alert"
            detail, encrypted = f"{level} {alert_name(event.alert.description)}", event.encrypted
        elif isinstance(event, EncryptedRecordEvent):
            this, name, detail, encrypted = (event.direction, event.record), event.name, "", False
        elif isinstance(event, ApplicationDataEvent):
            this, name, detail, encrypted = (event.direction, event.record), "Application Data", "", False
        else:
            continue
        if this != key:
            flush()
            key, names, details, enc, t = this, [], [], encrypted, when
        names.append(name)
        details.append(detail)
        enc = enc or encrypted
    flush()
    return tuple(steps)


def observation(
    server: Endpoint,
    sni: Optional[str],
    offered_versions: tuple[int, ...],
    started_at: datetime,
    outcome: Outcome,
    phase: str,
    error: Optional[str],
    hs: Optional[HandshakeState],
    events: Sequence[Event],
    times: Sequence[float],
    timings: Timings,
) -> HandshakeObservation:
    """Assemble the observation of one probe from its events and end state."""
    chain: tuple[CertificateFacts, ...] = ()
    req: Optional[CertificateRequestFacts] = None
    late_req: Optional[CertificateRequestFacts] = None
    server_finished = False
    renegotiation = False
    alert: Optional[AlertFacts] = None
    ocsp: Optional[bytes] = None
    last_name: Optional[str] = None
    for event in events:
        if isinstance(event, MessageEvent) and event.direction == "S->C":
            msg = event.message
            if isinstance(msg, Certificate) and not chain:
                try:
                    chain = chain_facts(msg.certificates)
                except DecodeError as exc:
                    outcome, phase, error = Outcome.PROTOCOL_ERROR, "certificate", f"server certificate: {exc}"
                ocsp = ocsp or _ocsp_from_certificate(msg)
            elif isinstance(msg, CertificateRequest):
                if not server_finished and req is None:
                    req = request_facts(msg)
                elif server_finished and late_req is None:
                    tls13 = hs is not None and hs.version == 0x0304
                    late_req = request_facts(msg, when="post_handshake" if tls13 else "renegotiation")
            elif isinstance(msg, Finished):
                server_finished = True
            elif isinstance(msg, HelloRequest):
                renegotiation = True
            elif isinstance(msg, CertificateStatus) and msg.status_type == 1:
                ocsp = msg.response
        if isinstance(event, MessageEvent):
            last_name = message_name(event.message)
            if event.direction == "C->S" and isinstance(event.message, ClientHello) and server_finished:
                renegotiation = True
        elif isinstance(event, EncryptedRecordEvent) and event.content_type == 22 and server_finished:
            renegotiation = renegotiation or (hs is not None and hs.version != 0x0304 and event.direction == "C->S"
                                              and _client_finished(events, event))
        if isinstance(event, AlertEvent) and event.direction == "S->C" and alert is None:
            alert = AlertFacts(
                event.alert.level, event.alert.description, event.direction,
                event.phase, last_name, event.encrypted,
            )
            if event.alert.level == 2 and outcome is Outcome.COMPLETED:
                outcome, phase = Outcome.ALERT, event.phase
                error = f"server sent fatal alert {alert_name(event.alert.description)} after {last_name}"
    if hs is not None and outcome is Outcome.COMPLETED and hs.connected and any(
        isinstance(e, ConnectionClosed) and e.direction == "S->C" for e in events
    ):
        outcome, phase = Outcome.CLOSED, hs.phase
        error = "server closed the connection after our Finished, without an alert"
    if hs is not None and outcome is Outcome.COMPLETED and not hs.flight_complete:
        # The loop ended on EOF (or a warning alert) before the flight was complete.
        outcome, phase = Outcome.CLOSED, hs.phase
        error = f"server closed the connection after {last_name or 'connecting'} (waiting for {hs.phase})"
    sh = hs.server_hello if hs else None
    version = hs.version if hs else None
    return HandshakeObservation(
        server=server,
        sni=sni,
        started_at=started_at,
        outcome=outcome,
        phase=phase,
        error=error,
        offered_versions=offered_versions,
        version=version,
        cipher_suite=hs.cipher_suite if hs else None,
        group=_group(hs, events),
        alpn=_alpn(events),
        certificates=chain,
        ocsp_response=ocsp,
        certificate_request=req,
        late_certificate_request=late_req,
        renegotiation=renegotiation,
        alert=alert,
        hello_retry=bool(hs and hs.hello_retry),
        secure_renegotiation=(ext.find(sh.extensions, ext.ET_RENEGOTIATION_INFO) is not None)
        if sh is not None and version != 0x0304 else None,
        extended_master_secret=(ext.find(sh.extensions, ext.ET_EXTENDED_MASTER_SECRET) is not None)
        if sh is not None and version != 0x0304 else None,
        timings=timings,
        steps=_steps(events, times, chain, req, version),
    )


def _client_finished(events: Sequence[Event], upto: Event) -> bool:
    """The client had sent a protected handshake record (its Finished) before ``upto``."""
    seen = 0
    for e in events:
        if e is upto:
            break
        if isinstance(e, EncryptedRecordEvent) and e.direction == "C->S" and e.content_type == 22:
            seen += 1
        if isinstance(e, MessageEvent) and e.direction == "C->S" and isinstance(e.message, Finished):
            seen += 1
    return seen > 0


def _group(hs: Optional[HandshakeState], events: Sequence[Event]) -> Optional[int]:
    if hs is not None and hs.group is not None:
        return hs.group
    for event in events:  # TLS <= 1.2: the ECDHE group is in the ServerKeyExchange
        if isinstance(event, MessageEvent) and isinstance(event.message, ServerKeyExchange):
            return event.message.named_group
    return None


def _alpn(events: Sequence[Event]) -> Optional[str]:
    for event in events:
        if isinstance(event, MessageEvent) and event.direction == "S->C":
            msg = event.message
            if isinstance(msg, (ServerHello, EncryptedExtensions)) and msg.alpn_protocol:
                return msg.alpn_protocol
    return None
