"""Handshake messages and alerts as frozen dataclasses, with ``parse_*``/``build_*`` pairs.

``parse_x(build_x(m)) == m`` holds for every message. Wire values stay raw ints.
Parsers check every length against what remains and raise ``DecodeError``.
The messages every handshake carries (hellos, Certificate, CertificateRequest) are
first read by slicing ``bytes``, which is several times faster; anything that does not
fit is read again with a ``Reader``, whose result and errors are the reference.
No I/O here.
"""

from __future__ import annotations

import struct
from typing import Callable, Optional, TypeVar, Union

from ..errors import DecodeError
from ..frozen import frozen
from . import extensions as ext
from .extensions import Extension, build_extensions, parse_distinguished_names, parse_extensions, slice_extensions
from .wire import Buffer, Reader, SlowPath, Writer

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
    name = _CLASS_NAMES.get(msg.__class__)
    if name is not None:
        return name
    if isinstance(msg, ServerHello) and msg.is_hello_retry_request:
        return "HelloRetryRequest"
    if isinstance(msg, UnknownHandshake):
        return _NAMES.get(msg.msg_type, f"Handshake({msg.msg_type})")
    if isinstance(msg, Alert):
        return "Alert"
    return _NAMES.get(getattr(msg, "msg_type", -1), type(msg).__name__)


# The message classes whose name never depends on their content (ServerHello does: HRR).
_CLASS_NAMES: dict[type, str] = {
    cls: _NAMES[cls.msg_type]
    for cls in (ClientHello, Sslv2ClientHello, Certificate, CertificateRequest, ServerKeyExchange, ServerHelloDone,
                HelloRequest, EndOfEarlyData, CertificateStatus, EncryptedExtensions, CertificateVerify, Finished,
                NewSessionTicket, KeyUpdate, ClientKeyExchange)
}  # fmt: skip


def _extensions_to_end(data: bytes, pos: int) -> tuple[Extension, ...]:
    """The extensions block at ``pos`` that ends the message (SlowPath if anything follows it)."""
    extensions, stop = slice_extensions(data, pos, len(data))
    if stop != len(data):
        raise SlowPath
    return extensions


def _after_session_id(data: bytes) -> int:
    """Where a hello's legacy_session_id<0..32> ends (it follows legacy_version and random[32])."""
    end = 35 + data[34]
    if end > 67:
        raise SlowPath
    return end


# Cipher suite and signature algorithm lists repeat as extensions do (ext.slice_extensions):
# one tuple per distinct list is shared. Bounded; long lists are not kept.
_SHARED_LISTS: dict[bytes, tuple[int, ...]] = {}
_SHARED_LISTS_ENTRIES = 256
_SHARED_LIST_MAX = 512


def _uint16s(data: bytes, pos: int, end: int) -> tuple[int, ...]:
    """The uint16 values in ``data[pos:end]`` (an even, checked span)."""
    raw = data[pos:end]
    values = _SHARED_LISTS.get(raw)
    if values is None:
        values = struct.unpack(f">{(end - pos) >> 1}H", raw)
        if end - pos <= _SHARED_LIST_MAX:
            if len(_SHARED_LISTS) >= _SHARED_LISTS_ENTRIES:
                _SHARED_LISTS.clear()
            _SHARED_LISTS[raw] = values
    return values


_M = TypeVar("_M")


def _sliced(fast: Callable[[bytes, bool, int], _M], checked: Callable[[bytes, bool, int], _M]) -> Callable[..., _M]:
    """A parser ``(body, tls13=False, version=0)`` that reads by slicing, or with a Reader when that does not fit.

    Both take ``(body, tls13, version)``. The Reader form is the reference: it runs whenever
    slicing raises ``SlowPath`` (or ``IndexError``), and names the error.
    """

    def parse(data: Buffer, tls13: bool = False, version: int = 0) -> _M:
        body = data if type(data) is bytes else bytes(data)
        try:
            return fast(body, tls13, version)
        except (SlowPath, IndexError):
            return checked(body, tls13, version)

    return parse


# --- ClientHello ------------------------------------------------------------------


def parse_client_hello(data: Buffer) -> ClientHello:
    """RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2 ClientHello body.

    Raises:
        DecodeError: the body is not a ClientHello.
    """
    return _client_hello(data)


def _slice_client_hello(data: bytes, _tls13: bool, _version: int) -> ClientHello:
    end = len(data)
    suites = _after_session_id(data)
    if suites + 2 > end:
        raise SlowPath
    comp = suites + 2 + ((data[suites] << 8) | data[suites + 1])  # cipher_suites<2..2^16-2>
    if comp >= end or comp == suites + 2 or (comp - suites) & 1:
        raise SlowPath
    exts = comp + 1 + data[comp]  # legacy_compression_methods<1..2^8-1>
    if exts > end or exts == comp + 1:
        raise SlowPath
    return ClientHello(
        (data[0] << 8) | data[1],
        data[2:34],
        data[35:suites],
        _uint16s(data, suites + 2, comp),
        data[comp + 1 : exts],
        None if exts == end else _extensions_to_end(data, exts),
    )


def _read_client_hello(data: bytes, _tls13: bool, _version: int) -> ClientHello:
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
    """RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3 ServerHello (or HelloRetryRequest) body.

    Raises:
        DecodeError: the body is not a ServerHello.
    """
    return _server_hello(data)


def _slice_server_hello(data: bytes, _tls13: bool, _version: int) -> ServerHello:
    suite = _after_session_id(data)
    if suite + 3 > len(data):
        raise SlowPath
    return ServerHello(
        (data[0] << 8) | data[1],
        data[2:34],
        data[35:suite],
        (data[suite] << 8) | data[suite + 1],
        data[suite + 2],
        None if suite + 3 == len(data) else _extensions_to_end(data, suite + 3),
    )


def _read_server_hello(data: bytes, _tls13: bool, _version: int) -> ServerHello:
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
    """RFC 8446 §4.4.2 (``tls13``) or RFC 5246 §7.4.2 Certificate body.

    Raises:
        DecodeError: the body is not a Certificate.
    """
    return _certificate(data, tls13)


def _uint24(data: bytes, pos: int) -> int:
    return (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]


def _slice_certificate(data: bytes, tls13: bool, _version: int) -> Certificate:
    end = len(data)
    pos = 1 + data[0] if tls13 else 0  # certificate_request_context<0..2^8-1>
    if pos + 3 + _uint24(data, pos) != end:  # certificate_list<0..2^24-1> fills the message
        raise SlowPath
    context = data[1:pos] if tls13 else None
    entries = []
    pos += 3
    while pos < end:
        nxt = pos + 3 + _uint24(data, pos)  # cert_data<1..2^24-1>
        if nxt > end or nxt == pos + 3:
            raise SlowPath
        cert = data[pos + 3 : nxt]
        if tls13:
            exts, pos = slice_extensions(data, nxt, end)
            entries.append(CertificateEntry(cert, exts))
        else:
            entries.append(CertificateEntry(cert))
            pos = nxt
    return Certificate(tuple(entries), context)


def _read_certificate(data: bytes, tls13: bool, _version: int) -> Certificate:
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
    """RFC 8446 §4.3.2 (``tls13``) or RFC 5246 §7.4.4 CertificateRequest body.

    Args:
        data: the body.
        tls13: the TLS 1.3 format.
        version: the negotiated version (TLS 1.0/1.1 lack supported_signature_algorithms).

    Raises:
        DecodeError: the body is not a CertificateRequest.
    """
    return _certificate_request(data, tls13, version)


def _slice_certificate_request(data: bytes, tls13: bool, version: int) -> CertificateRequest:
    end = len(data)
    pos = 1 + data[0]  # certificate_request_context<0..2^8-1> or certificate_types<1..2^8-1>
    if tls13:
        return CertificateRequest(context=data[1:pos], extensions=_extensions_to_end(data, pos))
    if pos == 1 or pos > end:
        raise SlowPath
    types = tuple(data[1:pos])
    algs: Optional[tuple[int, ...]] = None
    if version >= 0x0303:
        nxt = pos + 2 + ((data[pos] << 8) | data[pos + 1])  # supported_signature_algorithms<2..2^16-2>
        if nxt > end or nxt == pos + 2 or (nxt - pos) & 1:
            raise SlowPath
        algs = _uint16s(data, pos + 2, nxt)
        pos = nxt
    if pos + 2 + ((data[pos] << 8) | data[pos + 1]) != end:  # certificate_authorities fill the message
        raise SlowPath
    names = []
    pos += 2
    while pos < end:
        nxt = pos + 2 + ((data[pos] << 8) | data[pos + 1])  # DistinguishedName<1..2^16-1>
        if nxt > end or nxt == pos + 2:
            raise SlowPath
        names.append(data[pos + 2 : nxt])
        pos = nxt
    return CertificateRequest(types, algs, tuple(names))


def _read_certificate_request(data: bytes, tls13: bool, version: int) -> CertificateRequest:
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


_client_hello = _sliced(_slice_client_hello, _read_client_hello)
_server_hello = _sliced(_slice_server_hello, _read_server_hello)
_certificate = _sliced(_slice_certificate, _read_certificate)
_certificate_request = _sliced(_slice_certificate_request, _read_certificate_request)



# --- the small ones -------------------------------------------------------------------------


_Parser = Callable[[Buffer, bool, int], HandshakeMessage]  # (body, tls13, version) -> message


def _parse_empty(name: str, cls: Callable[[], HandshakeMessage]) -> _Parser:
    def parse(data: Buffer, tls13: bool, version: int) -> HandshakeMessage:
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
    n = len(data)
    if not tls13 and n >= 6 and type(data) is bytes and (data[4] << 8) | data[5] == n - 6:
        return NewSessionTicket(int.from_bytes(data[:4], "big"), data[6:])  # lifetime, ticket<0..2^16-1>
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


def parse_handshake(msg_type: int, body: Buffer, tls13: bool = False, version: int = 0x0303) -> HandshakeMessage:
    """Parse one handshake message body (without its 4-byte header).

    Args:
        msg_type: HandshakeType value from the header.
        body: the message body.
        tls13: whether the connection negotiated TLS 1.3 (selects message formats).
        version: the negotiated version (TLS 1.0/1.1 lack signature algorithm fields).

    Raises:
        DecodeError: the body does not match the message's structure.
    """
    parse = _PARSERS.get(msg_type)
    if parse is None:
        return UnknownHandshake(msg_type, bytes(body))
    return parse(body, tls13, version)


_PARSERS: dict[int, _Parser] = {
    1: _client_hello,
    2: _server_hello,
    11: _certificate,
    13: _certificate_request,
    12: lambda body, tls13, version: ServerKeyExchange(bytes(body)),
    14: _parse_empty("ServerHelloDone", ServerHelloDone),
    0: _parse_empty("HelloRequest", HelloRequest),
    5: _parse_empty("EndOfEarlyData", EndOfEarlyData),
    22: lambda body, tls13, version: parse_certificate_status(body),
    8: lambda body, tls13, version: parse_encrypted_extensions(body),
    15: lambda body, tls13, version: parse_certificate_verify(body, version=0x0304 if tls13 else version),
    20: lambda body, tls13, version: Finished(bytes(body)),
    4: lambda body, tls13, version: parse_new_session_ticket(body, tls13=tls13),
    24: lambda body, tls13, version: parse_key_update(body),
    16: lambda body, tls13, version: ClientKeyExchange(bytes(body)),
}




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
