"""Frozen observations: the contract between what happened on the wire and its evaluation.

Sources (the active prober, capture readers) produce them; evaluations and outputs
read them. No sockets, codec or ``cryptography`` objects cross this line.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple, Optional

from .frozen import frozen

__all__ = [
    "Outcome",
    "Endpoint",
    "CertificateFacts",
    "CertificateRequestFacts",
    "AlertFacts",
    "Step",
    "Timings",
    "HandshakeObservation",
    "RequestStatus",
    "ClientCertificateStatus",
    "CaptureStep",
    "CaptureAlert",
    "CaptureGap",
    "ConnectionObservation",
]


class Outcome(enum.Enum):
    """How a probed handshake ended (values are the stable JSON names)."""

    COMPLETED = "completed"  # the server's flight was read in full (and verified, in TLS 1.3)
    ALERT = "alert"  # the server sent a fatal alert
    CLOSED = "closed"  # the server closed the connection without an alert
    REFUSED = "refused"  # TCP connection refused or unreachable
    TIMEOUT = "timeout"  # the deadline passed (``phase`` says where)
    RESET = "reset"  # TCP reset (``phase`` says where)
    NOT_TLS = "not_tls"  # the peer answered something that is not TLS
    DNS = "dns"  # the name did not resolve
    PROTOCOL_ERROR = "protocol_error"  # malformed or unverifiable TLS from the server
    INCOMPLETE = "incomplete"  # captures: bytes of the handshake are missing (gaps, started mid-connection, cut)


@frozen
class Endpoint:
    """A host as asked for, and the address actually used.

    Attributes:
        host: the name or address given.
        port: TCP port.
        address: the IP address connected to, if any.
    """

    host: str
    port: int
    address: Optional[str] = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@frozen
class CertificateFacts:
    """One certificate as sent, with what the evaluations need to know of it.

    Attributes:
        der: the certificate, DER-encoded.
        subject, issuer: RFC 4514 strings.
        serial: serial number, upper-case hex.
        not_before, not_after: validity, timezone-aware UTC.
        sha256, sha1: fingerprints, lower-case hex.
        signature_algorithm: e.g. ``sha256WithRSAEncryption`` (dotted OID when unnamed).
        signature_hash: e.g. ``sha256``; None when the algorithm has none (Ed25519).
        key_type: ``RSA``, ``EC``, ``Ed25519``, ``Ed448``, ``DSA`` or ``unknown``.
        key_bits: key size in bits (curve size for EC).
        curve: EC curve name, if any.
        dns_names, ip_addresses: subjectAltName entries.
        is_ca: basicConstraints CA flag.
        self_issued: subject equals issuer.
        ocsp_urls, crl_urls: revocation pointers.
        extended_key_usages: dotted OIDs.
    """

    der: bytes
    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    sha256: str
    sha1: str
    signature_algorithm: str
    signature_hash: Optional[str]
    key_type: str
    key_bits: int
    curve: Optional[str] = None
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    is_ca: bool = False
    self_issued: bool = False
    ocsp_urls: tuple[str, ...] = ()
    crl_urls: tuple[str, ...] = ()
    extended_key_usages: tuple[str, ...] = ()
    common_name: Optional[str] = None

    def days_left(self, now: datetime) -> float:
        return (self.not_after - now).total_seconds() / 86400.0


@frozen
class CertificateRequestFacts:
    """A CertificateRequest as the server sent it.

    Attributes:
        ca_names: RFC 4514 strings, in the order sent (empty: any CA).
        ca_names_der: the same names, DER-encoded, for structural comparison.
        signature_algorithms: raw SignatureScheme values.
        certificate_types: raw ClientCertificateType values (TLS <= 1.2).
        when: ``initial`` (in the first handshake), ``renegotiation`` (TLS <= 1.2, inside a
            later handshake) or ``post_handshake`` (TLS 1.3 post-handshake authentication).
    """

    ca_names: tuple[str, ...]
    ca_names_der: tuple[bytes, ...]
    signature_algorithms: tuple[int, ...]
    certificate_types: tuple[int, ...] = ()
    when: str = "initial"

    @property
    def late(self) -> bool:
        return self.when != "initial"


@frozen
class AlertFacts:
    """An alert, who sent it and in which phase.

    Attributes:
        level, description: raw values (1 warning / 2 fatal; IANA AlertDescription).
        direction: ``S->C`` or ``C->S``.
        phase: what the client was waiting for when it came.
        after: the last handshake message before it (e.g. ``ClientHello``).
        encrypted: it came in a protected record.
    """

    level: int
    description: int
    direction: str
    phase: str
    after: Optional[str] = None
    encrypted: bool = False


@frozen
class Step:
    """One record's worth of messages in one direction, as a capture would show it."""

    direction: str
    messages: tuple[str, ...]
    details: tuple[str, ...] = ()
    encrypted: bool = False
    time: Optional[float] = None


@frozen
class Timings:
    """Seconds from the start of the probe; None where the point was never reached."""

    dns: Optional[float] = None
    connect: Optional[float] = None
    first_byte: Optional[float] = None
    server_hello: Optional[float] = None
    flight_complete: Optional[float] = None
    total: Optional[float] = None


@frozen
class HandshakeObservation:
    """What one probed TLS connection showed us.

    Attributes:
        server: the target and the address used.
        sni: the server_name sent, None for none.
        started_at: UTC start of the probe.
        outcome: how it ended; ``phase`` names where (``connect``, ``server_hello``, ...).
        error: one-line reason when the outcome is not COMPLETED.
        offered_versions: versions in our ClientHello.
        version: negotiated version, None if never agreed.
        cipher_suite, group: negotiated values (raw).
        alpn: negotiated ALPN protocol.
        certificates: the chain in the order sent.
        ocsp_response: stapled OCSP response (DER) if any.
        certificate_request: the initial handshake's CertificateRequest; None when none was seen.
        late_certificate_request: one that came later (renegotiation or post-handshake).
        renegotiation: a renegotiation (TLS <= 1.2) was seen, readable or not.
        alert: the server's alert, if any.
        hello_retry: the server sent a HelloRetryRequest.
        secure_renegotiation: the server answered renegotiation_info (TLS <= 1.2).
        extended_master_secret: the server acknowledged EMS (TLS <= 1.2).
        timings: when each point was reached.
        steps: the handshake as numbered steps.
    """

    server: Endpoint
    sni: Optional[str]
    started_at: datetime
    outcome: Outcome
    phase: str
    error: Optional[str] = None
    offered_versions: tuple[int, ...] = ()
    version: Optional[int] = None
    cipher_suite: Optional[int] = None
    group: Optional[int] = None
    alpn: Optional[str] = None
    certificates: tuple[CertificateFacts, ...] = ()
    ocsp_response: Optional[bytes] = None
    certificate_request: Optional[CertificateRequestFacts] = None
    late_certificate_request: Optional[CertificateRequestFacts] = None
    renegotiation: bool = False
    alert: Optional[AlertFacts] = None
    hello_retry: bool = False
    secure_renegotiation: Optional[bool] = None
    extended_master_secret: Optional[bool] = None
    timings: Timings = Timings()
    steps: tuple[Step, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COMPLETED


# --- captures ------------------------------------------------------------------------------------


class RequestStatus(enum.Enum):
    """Whether a capture shows the server's CertificateRequest (values are the stable JSON names)."""

    SEEN = "seen"  # read, in clear or decrypted with a key log
    NOT_SENT = "not_sent"  # the handshake is visible and has none (``reason`` says why)
    UNSEEN = "unseen"  # it may have been sent where we cannot see: encrypted, or not captured


class ClientCertificateStatus(enum.Enum):
    """What a capture shows of the client's Certificate message."""

    NONE = "none"  # no Certificate message from the client
    EMPTY = "empty"  # a Certificate message with no certificate (RFC 5246 §7.4.6)
    SENT = "sent"
    UNSEEN = "unseen"  # it may have been sent where we cannot see


class CaptureStep(NamedTuple):
    """Consecutive records in one direction, as a person reads them in a capture.

    A ``NamedTuple`` (immutable, like the frozen dataclasses here): a capture makes one per
    run of records, hundreds of thousands of them, and a tuple is built several times faster.

    Attributes:
        direction: ``C->S`` or ``S->C``.
        messages: RFC names (``ServerHello``), or what a reader without keys can say
            (``Encrypted Handshake Message``, ``Encrypted Alert``, ``Application Data``).
        details: one per message (``CAs: ...``, ``empty``, ``fatal handshake_failure(40)``), maybe "".
        decrypted: one per message: it travelled encrypted and was read with a key log.
        handshake_types: one per message: the handshake type read (None for others).
        frame, last_frame: the frames whose segments completed the first and the last message.
        time: seconds from the connection's first frame to ``frame``.
    """

    direction: str
    messages: tuple[str, ...]
    details: tuple[str, ...]
    decrypted: tuple[bool, ...]
    handshake_types: tuple[Optional[int], ...]
    frame: int
    last_frame: int
    time: float


@frozen
class CaptureAlert:
    """An alert seen in a capture.

    Attributes:
        direction: who sent it (``S->C``: the server).
        level, description: raw values; None when it travelled encrypted and was not read.
        phase: ``handshake``, ``renegotiation`` or ``application`` (after the handshake).
        after: the last message seen before it, in either direction.
        frame, time: where it is (time from the connection's first frame).
    """

    direction: str
    level: Optional[int]
    description: Optional[int]
    phase: str
    after: Optional[str]
    frame: int
    time: float

    @property
    def encrypted(self) -> bool:
        return self.description is None

    @property
    def fatal(self) -> bool:
        return self.level == 2


@frozen
class CaptureGap:
    """Bytes of one direction that the capture does not hold.

    Attributes:
        direction: ``C->S`` or ``S->C``.
        length: bytes missing (0 when unknown: the capture starts inside the stream).
        frame: the frame at which the loss was noticed.
        reason: ``missing``, ``truncated`` (snap length), ``overflow`` (reassembly buffer
            full), ``end`` (the stream ended before the hole was filled) or ``start`` (the
            capture began after the connection did).
    """

    direction: str
    length: int
    frame: int
    reason: str


@frozen
class ConnectionObservation:
    """One TLS connection as a capture shows it.

    Attributes:
        number: connections numbered from 1 in the order they appear in the capture.
        client, server: addresses and ports (``host`` and ``address`` are the IP address).
        first_frame, last_frame, started_at, ended_at: the first and last frames of the connection.
        outcome: COMPLETED (both Finished seen), ALERT (a fatal alert ended the handshake),
            RESET, CLOSED (FIN without alert before the end of the handshake), TIMEOUT (no
            progress for the engine's handshake timeout), NOT_TLS (the server answered
            something else), PROTOCOL_ERROR, INCOMPLETE (the capture misses bytes of it).
        error: one line on why the outcome is not COMPLETED.
        sni, offered_versions, offered_cipher_suites, post_handshake_auth, alpn_offered: the ClientHello.
        version, cipher_suite, group, alpn: negotiated (None where not seen).
        resumed: an abbreviated handshake (TLS <= 1.2) or a PSK handshake (TLS 1.3).
        hello_retry: the server sent a HelloRetryRequest.
        certificates: the server chain as sent (visible in TLS <= 1.2, or with a key log).
        certificate_request: the first CertificateRequest seen (``when`` says where).
        request_status, request_reason: why it was or was not seen: ``initial``,
            ``renegotiation``, ``post_handshake`` (SEEN); ``not_requested``, ``resumed``,
            ``no_server_flight`` (NOT_SENT); ``tls13_encrypted``, ``renegotiation_encrypted``,
            ``incomplete_capture`` (UNSEEN).
        client_certificate_status, client_certificates: the client's Certificate message.
        alerts: in the order seen (bounded).
        renegotiation: handshake records after the peers' Finished (TLS <= 1.2), read or not.
        decrypted: a key log opened this connection's protected records.
        started_before_capture: the capture began after the connection did.
        gaps: bytes missing from the capture.
        steps: the handshake ladder (bounded: ``steps_truncated``).
    """

    number: int
    client: Endpoint
    server: Endpoint
    first_frame: int
    last_frame: int
    started_at: datetime
    ended_at: datetime
    outcome: Outcome
    error: Optional[str] = None
    sni: Optional[str] = None
    offered_versions: tuple[int, ...] = ()
    offered_cipher_suites: tuple[int, ...] = ()
    post_handshake_auth: bool = False
    alpn_offered: tuple[str, ...] = ()
    version: Optional[int] = None
    cipher_suite: Optional[int] = None
    group: Optional[int] = None
    alpn: Optional[str] = None
    resumed: bool = False
    hello_retry: bool = False
    certificates: tuple[CertificateFacts, ...] = ()
    certificate_request: Optional[CertificateRequestFacts] = None
    request_status: RequestStatus = RequestStatus.UNSEEN
    request_reason: str = "incomplete_capture"
    client_certificate_status: ClientCertificateStatus = ClientCertificateStatus.NONE
    client_certificates: tuple[CertificateFacts, ...] = ()
    alerts: tuple[CaptureAlert, ...] = ()
    renegotiation: bool = False
    decrypted: bool = False
    started_before_capture: bool = False
    gaps: tuple[CaptureGap, ...] = ()
    steps: tuple[CaptureStep, ...] = ()
    steps_truncated: bool = False

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def incomplete(self) -> bool:
        """The capture misses bytes of this connection."""
        return bool(self.gaps) or self.started_before_capture
