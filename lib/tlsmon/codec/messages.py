"""Handshake messages and alerts as frozen dataclasses, with ``parse_*``/``build_*`` pairs.

``parse_x(build_x(m)) == m`` holds for every message. Wire values stay raw ints.
Parsers check every length against what remains and raise ``DecodeError``.
No I/O here.
"""

from __future__ import annotations

from typing import Callable, Optional, Union

from ..errors import DecodeError
from ..frozen import frozen
from . import extensions as ext
from .extensions import Extension, build_extensions, parse_distinguished_names, parse_extensions
from .wire import Buffer, Reader, Writer

__all__ = [
    "HandshakeMessage",
    "ClientHello",
    "Sslv2ClientHello",
    "ServerHello",
    "CertificateEntry",
    "Certificate",
    "CertificateRequest",
    "ServerKeyExchange",
    "ServerHelloDone",
    "CertificateStatus",
    "EncryptedExtensions",
    "CertificateVerify",
    "Finished",
    "NewSessionTicket",
    "HelloRequest",
    "KeyUpdate",
    "ClientKeyExchange",
    "EndOfEarlyData",
    "UnknownHandshake",
    "Alert",
    "HRR_RANDOM",
    "parse_handshake",
    "build_handshake",
    "parse_client_hello",
    "build_client_hello",
    "parse_sslv2_client_hello",
    "parse_server_hello",
    "build_server_hello",
    "parse_certificate",
    "build_certificate",
    "parse_certificate_request",
    "build_certificate_request",
    "parse_alert",
    "build_alert",
    "message_name",
]

# RFC 8446 §4.1.3: SHA-256("HelloRetryRequest") as ServerHello.random marks an HRR.
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


@frozen
class ClientHello:
    """RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2. ``extensions`` None: no extensions block at all."""

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: bytes = b"\x00"
    extensions: Optional[tuple[Extension, ...]] = ()

    msg_type = 1

    @property
    def server_name(self) -> Optional[str]:
        e = ext.find(self.extensions, ext.ET_SERVER_NAME)
        return ext.parse_server_name(e.data) if e else None

    @property
    def supported_versions(self) -> tuple[int, ...]:
        e = ext.find(self.extensions, ext.ET_SUPPORTED_VERSIONS)
        return ext.parse_supported_versions_client(e.data) if e else (self.legacy_version,)

    @property
    def alpn_protocols(self) -> tuple[str, ...]:
        e = ext.find(self.extensions, ext.ET_ALPN)
        return ext.parse_alpn(e.data) if e else ()

    @property
    def post_handshake_auth(self) -> bool:
        return ext.find(self.extensions, ext.ET_POST_HANDSHAKE_AUTH) is not None


@frozen
class Sslv2ClientHello:
    """An SSLv2-compatible CLIENT-HELLO (RFC 5246 Appendix E.2); cipher specs are 3 bytes."""

    version: int
    cipher_specs: tuple[int, ...]
    session_id: bytes
    challenge: bytes

    msg_type = 1


@frozen
class ServerHello:
    """RFC 8446 §4.1.3; also a HelloRetryRequest when ``random == HRR_RANDOM``."""

    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int = 0
    extensions: Optional[tuple[Extension, ...]] = ()

    msg_type = 2

    @property
    def is_hello_retry_request(self) -> bool:
        return self.random == HRR_RANDOM

    @property
    def selected_version(self) -> int:
        e = ext.find(self.extensions, ext.ET_SUPPORTED_VERSIONS)
        return ext.parse_supported_versions_server(e.data) if e else self.legacy_version

    @property
    def alpn_protocol(self) -> Optional[str]:
        e = ext.find(self.extensions, ext.ET_ALPN)
        return ext.parse_alpn(e.data)[0] if e else None


@frozen
class CertificateEntry:
    """RFC 8446 §4.4.2 ``CertificateEntry`` (X.509 only); no extensions before TLS 1.3."""

    cert_data: bytes
    extensions: tuple[Extension, ...] = ()


@frozen
class Certificate:
    """RFC 8446 §4.4.2 / RFC 5246 §7.4.2. ``context`` None means the TLS <= 1.2 format."""

    entries: tuple[CertificateEntry, ...]
    context: Optional[bytes] = None

    msg_type = 11

    @property
    def certificates(self) -> tuple[bytes, ...]:
        return tuple(e.cert_data for e in self.entries)


@frozen
class CertificateRequest:
    """RFC 5246 §7.4.4 (``context`` None) or RFC 8446 §4.3.2 (``context`` bytes).

    TLS <= 1.2 carries types, algorithms and names directly; TLS 1.3 carries
    them in ``extensions``. Use the properties to read either.
    """

    certificate_types: tuple[int, ...] = ()
    supported_signature_algorithms: Optional[tuple[int, ...]] = None  # None: TLS 1.0/1.1 (no field)
    distinguished_names: tuple[bytes, ...] = ()
    context: Optional[bytes] = None
    extensions: tuple[Extension, ...] = ()

    msg_type = 13

    @property
    def signature_algorithms(self) -> tuple[int, ...]:
        if self.context is None:
            return self.supported_signature_algorithms or ()
        e = ext.find(self.extensions, ext.ET_SIGNATURE_ALGORITHMS)
        return ext.parse_uint16_list(e.data, "signature_algorithms") if e else ()

    @property
    def ca_names(self) -> tuple[bytes, ...]:
        """The CA distinguished names, DER-encoded, in the order sent."""
        if self.context is None:
            return self.distinguished_names
        e = ext.find(self.extensions, ext.ET_CERTIFICATE_AUTHORITIES)
        return ext.parse_certificate_authorities(e.data) if e else ()


@frozen
class ServerKeyExchange:
    """RFC 4492 §5.4 / RFC 5246 §7.4.3, kept raw; ECDHE parameters decoded on demand."""

    data: bytes

    msg_type = 12

    @property
    def named_group(self) -> Optional[int]:
        # ECParameters: curve_type named_curve(3) then NamedCurve (uint16).
        if len(self.data) >= 3 and self.data[0] == 3:
            return int.from_bytes(self.data[1:3], "big")
        return None

    def dh_prime_bits(self) -> Optional[int]:
        """For a DHE exchange (ServerDHParams first), the bit length of dh_p."""
        if self.named_group is not None or len(self.data) < 3:
            return None
        n = int.from_bytes(self.data[0:2], "big")
        p = self.data[2 : 2 + n]
        return int.from_bytes(p, "big").bit_length() if len(p) == n and n else None


@frozen
class ServerHelloDone:
    msg_type = 14


@frozen
class HelloRequest:
    msg_type = 0


@frozen
class EndOfEarlyData:
    msg_type = 5


@frozen
class CertificateStatus:
    """RFC 6066 §8: status_type (ocsp=1) and the DER OCSPResponse."""

    status_type: int
    response: bytes

    msg_type = 22


@frozen
class EncryptedExtensions:
    extensions: tuple[Extension, ...] = ()

    msg_type = 8

    @property
    def alpn_protocol(self) -> Optional[str]:
        e = ext.find(self.extensions, ext.ET_ALPN)
        return ext.parse_alpn(e.data)[0] if e else None


@frozen
class CertificateVerify:
    """``algorithm`` None for TLS 1.0/1.1, which have no SignatureAndHashAlgorithm field."""

    algorithm: Optional[int]
    signature: bytes

    msg_type = 15


@frozen
class Finished:
    verify_data: bytes

    msg_type = 20


@frozen
class NewSessionTicket:
    """RFC 5077 §3.3 (``nonce`` None) or RFC 8446 §4.6.1."""

    lifetime: int
    ticket: bytes
    age_add: Optional[int] = None
    nonce: Optional[bytes] = None
    extensions: tuple[Extension, ...] = ()

    msg_type = 4


@frozen
class KeyUpdate:
    request_update: int

    msg_type = 24


@frozen
class ClientKeyExchange:
    """Kept raw: its layout depends on the key exchange."""

    data: bytes

    msg_type = 16


@frozen
class UnknownHandshake:
    msg_type: int
    body: bytes


@frozen
class Alert:
    """RFC 8446 §6: level and description, raw ints."""

    level: int
    description: int


HandshakeMessage = Union[
    ClientHello,
    Sslv2ClientHello,
    ServerHello,
    Certificate,
    CertificateRequest,
    ServerKeyExchange,
    ServerHelloDone,
    HelloRequest,
    EndOfEarlyData,
    CertificateStatus,
    EncryptedExtensions,
    CertificateVerify,
    Finished,
    NewSessionTicket,
    KeyUpdate,
    ClientKeyExchange,
    UnknownHandshake,
]

_NAMES = {
    0: "HelloRequest",
    1: "ClientHello",
    2: "ServerHello",
    4: "NewSessionTicket",
    5: "EndOfEarlyData",
    6: "HelloRetryRequest",
    8: "EncryptedExtensions",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
    22: "CertificateStatus",
    24: "KeyUpdate",
    25: "CompressedCertificate",
}


def message_name(msg: object) -> str:
    """The RFC name of a message: ``ServerHello``, ``HelloRetryRequest``, ..."""
    if isinstance(msg, ServerHello) and msg.is_hello_retry_request:
        return "HelloRetryRequest"
    if isinstance(msg, UnknownHandshake):
        return _NAMES.get(msg.msg_type, f"Handshake({msg.msg_type})")
    if isinstance(msg, Alert):
        return "Alert"
    return _NAMES.get(getattr(msg, "msg_type", -1), type(msg).__name__)


# --- ClientHello ------------------------------------------------------------------


def parse_client_hello(data: Buffer) -> ClientHello:
    r = Reader(data, "ClientHello")
    version = r.uint16("legacy_version")
    random = r.raw(32, "random")
    session_id = r.vector(1, "legacy_session_id", maximum=32)
    suites = r.uint16_list(2, "cipher_suites", minimum=2)
    compression = r.vector(1, "legacy_compression_methods", minimum=1)
    extensions = None if r.at_end() else parse_extensions(r)
    r.expect_end()
    return ClientHello(version, random, session_id, suites, compression, extensions)


def build_client_hello(msg: ClientHello) -> bytes:
    w = Writer().uint16(msg.legacy_version).raw(msg.random).vector(1, msg.session_id)
    w.uint16_list(2, msg.cipher_suites).vector(1, msg.compression_methods)
    if msg.extensions is not None:
        build_extensions(w, msg.extensions)
    return w.getvalue()


def parse_sslv2_client_hello(data: Buffer) -> Sslv2ClientHello:
    """The body after the 2-byte SSLv2 record header, starting with msg_type 1."""
    r = Reader(data, "SSLv2 CLIENT-HELLO")
    if r.uint8("msg_type") != 1:
        raise r.fail("not a CLIENT-HELLO")
    version = r.uint16("version")
    spec_len = r.uint16("cipher_spec_length")
    sid_len = r.uint16("session_id_length")
    chal_len = r.uint16("challenge_length")
    if spec_len % 3:
        raise r.fail("cipher_spec_length not a multiple of 3")
    if chal_len < 16 or chal_len > 32:
        raise r.fail("challenge_length outside 16..32")
    specs_raw = r.raw(spec_len, "cipher_specs")
    specs = tuple(int.from_bytes(specs_raw[i : i + 3], "big") for i in range(0, spec_len, 3))
    session_id = r.raw(sid_len, "session_id")
    challenge = r.raw(chal_len, "challenge")
    r.expect_end()
    return Sslv2ClientHello(version, specs, session_id, challenge)


# --- ServerHello --------------------------------------------------------------------


def parse_server_hello(data: Buffer) -> ServerHello:
    r = Reader(data, "ServerHello")
    version = r.uint16("legacy_version")
    random = r.raw(32, "random")
    session_id = r.vector(1, "legacy_session_id_echo", maximum=32)
    suite = r.uint16("cipher_suite")
    compression = r.uint8("legacy_compression_method")
    extensions = None if r.at_end() else parse_extensions(r)
    r.expect_end()
    return ServerHello(version, random, session_id, suite, compression, extensions)


def build_server_hello(msg: ServerHello) -> bytes:
    w = Writer().uint16(msg.legacy_version).raw(msg.random).vector(1, msg.session_id)
    w.uint16(msg.cipher_suite).uint8(msg.compression_method)
    if msg.extensions is not None:
        build_extensions(w, msg.extensions)
    return w.getvalue()


# --- Certificate ----------------------------------------------------------------------


def parse_certificate(data: Buffer, *, tls13: bool) -> Certificate:
    r = Reader(data, "Certificate")
    context = r.vector(1, "certificate_request_context") if tls13 else None
    sub = r.sub(3, "certificate_list")
    r.expect_end()
    entries = []
    while not sub.at_end():
        cert = sub.vector(3, "cert_data", minimum=1)
        exts = parse_extensions(sub) if tls13 else ()
        entries.append(CertificateEntry(cert, exts))
    return Certificate(tuple(entries), context)


def build_certificate(msg: Certificate) -> bytes:
    inner = Writer()
    for entry in msg.entries:
        inner.vector(3, entry.cert_data)
        if msg.context is not None:
            build_extensions(inner, entry.extensions)
    w = Writer()
    if msg.context is not None:
        w.vector(1, msg.context)
    return w.vector(3, inner.getvalue()).getvalue()


# --- CertificateRequest ------------------------------------------------------------------


def parse_certificate_request(data: Buffer, *, tls13: bool, version: int = 0x0303) -> CertificateRequest:
    r = Reader(data, "CertificateRequest")
    if tls13:
        context = r.vector(1, "certificate_request_context")
        exts = parse_extensions(r)
        r.expect_end()
        return CertificateRequest(context=context, extensions=exts)
    types = tuple(r.vector(1, "certificate_types", minimum=1))
    algs: Optional[tuple[int, ...]] = None
    if version >= 0x0303:
        algs = r.uint16_list(2, "supported_signature_algorithms", minimum=2)
    names = parse_distinguished_names(r)
    r.expect_end()
    return CertificateRequest(types, algs, names)


def build_certificate_request(msg: CertificateRequest) -> bytes:
    w = Writer()
    if msg.context is not None:
        w.vector(1, msg.context)
        build_extensions(w, msg.extensions)
        return w.getvalue()
    w.vector(1, bytes(msg.certificate_types))
    if msg.supported_signature_algorithms is not None:
        w.uint16_list(2, msg.supported_signature_algorithms)
    inner = Writer()
    for dn in msg.distinguished_names:
        inner.vector(2, dn)
    return w.vector(2, inner.getvalue()).getvalue()


# --- the small ones -------------------------------------------------------------------------


def _parse_empty(name: str, cls: Callable[[], HandshakeMessage]) -> Callable[[Buffer], HandshakeMessage]:
    def parse(data: Buffer) -> HandshakeMessage:
        if len(data):
            raise DecodeError(name, 0, "must be empty")
        return cls()

    return parse


def parse_certificate_status(data: Buffer) -> CertificateStatus:
    r = Reader(data, "CertificateStatus")
    status_type = r.uint8("status_type")
    response = r.vector(3, "OCSPResponse", minimum=1)
    r.expect_end()
    return CertificateStatus(status_type, response)


def parse_encrypted_extensions(data: Buffer) -> EncryptedExtensions:
    r = Reader(data, "EncryptedExtensions")
    exts = parse_extensions(r)
    r.expect_end()
    return EncryptedExtensions(exts)


def parse_certificate_verify(data: Buffer, *, version: int = 0x0303) -> CertificateVerify:
    r = Reader(data, "CertificateVerify")
    alg = r.uint16("algorithm") if version >= 0x0303 else None
    sig = r.vector(2, "signature")
    r.expect_end()
    return CertificateVerify(alg, sig)


def parse_new_session_ticket(data: Buffer, *, tls13: bool) -> NewSessionTicket:
    r = Reader(data, "NewSessionTicket")
    lifetime = r.uint32("ticket_lifetime")
    if not tls13:
        ticket = r.vector(2, "ticket")
        r.expect_end()
        return NewSessionTicket(lifetime, ticket)
    age_add = r.uint32("ticket_age_add")
    nonce = r.vector(1, "ticket_nonce")
    ticket = r.vector(2, "ticket", minimum=1)
    exts = parse_extensions(r)
    r.expect_end()
    return NewSessionTicket(lifetime, ticket, age_add, nonce, exts)


def parse_key_update(data: Buffer) -> KeyUpdate:
    r = Reader(data, "KeyUpdate")
    v = r.uint8("request_update")
    r.expect_end()
    return KeyUpdate(v)


def parse_alert(data: Buffer) -> Alert:
    r = Reader(data, "Alert")
    level = r.uint8("level")
    desc = r.uint8("description")
    r.expect_end()
    return Alert(level, desc)


def build_alert(alert: Alert) -> bytes:
    return bytes((alert.level, alert.description))


# --- dispatch --------------------------------------------------------------------------------


def parse_handshake(msg_type: int, body: Buffer, *, tls13: bool = False, version: int = 0x0303) -> HandshakeMessage:
    """Parse one handshake message body (without its 4-byte header).

    Args:
        msg_type: HandshakeType value from the header.
        body: the message body.
        tls13: whether the connection negotiated TLS 1.3 (selects message formats).
        version: the negotiated version (TLS 1.0/1.1 lack signature algorithm fields).

    Raises:
        DecodeError: the body does not match the message's structure.
    """
    if msg_type == 1:
        return parse_client_hello(body)
    if msg_type == 2:
        return parse_server_hello(body)
    if msg_type == 11:
        return parse_certificate(body, tls13=tls13)
    if msg_type == 13:
        return parse_certificate_request(body, tls13=tls13, version=version)
    if msg_type == 12:
        return ServerKeyExchange(bytes(body))
    if msg_type == 14:
        return _parse_empty("ServerHelloDone", ServerHelloDone)(body)
    if msg_type == 0:
        return _parse_empty("HelloRequest", HelloRequest)(body)
    if msg_type == 5:
        return _parse_empty("EndOfEarlyData", EndOfEarlyData)(body)
    if msg_type == 22:
        return parse_certificate_status(body)
    if msg_type == 8:
        return parse_encrypted_extensions(body)
    if msg_type == 15:
        return parse_certificate_verify(body, version=0x0304 if tls13 else version)
    if msg_type == 20:
        return Finished(bytes(body))
    if msg_type == 4:
        return parse_new_session_ticket(body, tls13=tls13)
    if msg_type == 24:
        return parse_key_update(body)
    if msg_type == 16:
        return ClientKeyExchange(bytes(body))
    return UnknownHandshake(msg_type, bytes(body))


def _build_body(msg: HandshakeMessage) -> tuple[int, bytes]:
    if isinstance(msg, ClientHello):
        return 1, build_client_hello(msg)
    if isinstance(msg, ServerHello):
        return 2, build_server_hello(msg)
    if isinstance(msg, Certificate):
        return 11, build_certificate(msg)
    if isinstance(msg, CertificateRequest):
        return 13, build_certificate_request(msg)
    if isinstance(msg, (ServerKeyExchange, ClientKeyExchange)):
        return msg.msg_type, msg.data
    if isinstance(msg, (ServerHelloDone, HelloRequest, EndOfEarlyData)):
        return msg.msg_type, b""
    if isinstance(msg, CertificateStatus):
        return 22, Writer().uint8(msg.status_type).vector(3, msg.response).getvalue()
    if isinstance(msg, EncryptedExtensions):
        w = Writer()
        build_extensions(w, msg.extensions)
        return 8, w.getvalue()
    if isinstance(msg, CertificateVerify):
        w = Writer()
        if msg.algorithm is not None:
            w.uint16(msg.algorithm)
        return 15, w.vector(2, msg.signature).getvalue()
    if isinstance(msg, Finished):
        return 20, msg.verify_data
    if isinstance(msg, NewSessionTicket):
        w = Writer().uint32(msg.lifetime)
        if msg.nonce is None:
            return 4, w.vector(2, msg.ticket).getvalue()
        w.uint32(msg.age_add or 0).vector(1, msg.nonce).vector(2, msg.ticket)
        build_extensions(w, msg.extensions)
        return 4, w.getvalue()
    if isinstance(msg, KeyUpdate):
        return 24, bytes((msg.request_update,))
    if isinstance(msg, UnknownHandshake):
        return msg.msg_type, msg.body
    raise TypeError(f"cannot build {type(msg).__name__}")


def build_handshake(msg: HandshakeMessage) -> bytes:
    """The message with its 4-byte header (msg_type, uint24 length)."""
    msg_type, body = _build_body(msg)
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body
