"""Frozen observations: the contract between what happened on the wire and its evaluation.

Sources (the active prober, capture readers) produce them; evaluations and outputs
read them. No sockets, codec or ``cryptography`` objects cross this line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

__all__ = [
    "Outcome",
    "Endpoint",
    "CertificateFacts",
    "CertificateRequestFacts",
    "AlertFacts",
    "Step",
    "Timings",
    "HandshakeObservation",
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Step:
    """One record's worth of messages in one direction, as a capture would show it."""

    direction: str
    messages: tuple[str, ...]
    details: tuple[str, ...] = ()
    encrypted: bool = False
    time: Optional[float] = None


@dataclass(frozen=True)
class Timings:
    """Seconds from the start of the probe; None where the point was never reached."""

    dns: Optional[float] = None
    connect: Optional[float] = None
    first_byte: Optional[float] = None
    server_hello: Optional[float] = None
    flight_complete: Optional[float] = None
    total: Optional[float] = None


@dataclass(frozen=True)
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
