"""Hypothesis strategies for the codec's messages, extensions and byte streams.

Every strategy here generates *valid* values only: those that respect the field
constraints the wire format imposes (a session id of at most 32 bytes, at least one
cipher suite, non-empty cert_data, ...), so that ``parse_x(build_x(m)) == m`` must hold.
Hostile input is made from these by ``mutations()``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from tlsmon.codec import extensions as ext
from tlsmon.codec.messages import (
    HRR_RANDOM,
    Alert,
    Certificate,
    CertificateEntry,
    CertificateRequest,
    CertificateStatus,
    CertificateVerify,
    ClientHello,
    ClientKeyExchange,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HelloRequest,
    KeyUpdate,
    NewSessionTicket,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
    UnknownHandshake,
    build_handshake,
)
from tlsmon.codec.records import MAX_PLAINTEXT, build_record

__all__ = [
    "uint8s",
    "uint16s",
    "uint32s",
    "extension_lists",
    "client_hellos",
    "server_hellos",
    "certificates_tls12",
    "certificates_tls13",
    "certificate_requests_tls12",
    "certificate_requests_tls13",
    "certificate_statuses",
    "encrypted_extensions",
    "certificate_verifies",
    "finisheds",
    "new_session_tickets_tls12",
    "new_session_tickets_tls13",
    "key_updates",
    "server_key_exchanges",
    "client_key_exchanges",
    "empty_messages",
    "unknown_handshakes",
    "alerts",
    "dispatchable",
    "host_names",
    "alpn_lists",
    "key_share_entries",
    "handshake_streams",
    "record_streams",
    "cuts",
    "split_at",
    "mutations",
    "mutate",
    "KNOWN_HANDSHAKE_TYPES",
]

uint8s = st.integers(0, 0xFF)
uint16s = st.integers(0, 0xFFFF)
uint32s = st.integers(0, 0xFFFFFFFF)

# Every HandshakeType parse_handshake() has a parser for; anything else is UnknownHandshake.
KNOWN_HANDSHAKE_TYPES = frozenset((0, 1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 20, 22, 24))


def _opaque(max_size: int, min_size: int = 0) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=min_size, max_size=max_size)


def _tuples(elements: st.SearchStrategy, min_size: int = 0, max_size: int = 5) -> st.SearchStrategy[tuple]:
    return st.lists(elements, min_size=min_size, max_size=max_size).map(tuple)


extensions_ = st.builds(ext.Extension, uint16s, _opaque(40))
# RFC 8446 §4.2: Extension extensions<0..2^16-1>; any raw (type, data) pair round-trips.
extension_lists = _tuples(extensions_)
_optional_extensions = st.none() | extension_lists  # None: no extensions block at all


# --- hellos -----------------------------------------------------------------------------------

client_hellos = st.builds(
    ClientHello,
    legacy_version=uint16s,
    random=_opaque(32, 32),
    session_id=_opaque(32),  # legacy_session_id<0..32>
    cipher_suites=_tuples(uint16s, 1, 20),  # cipher_suites<2..2^16-2>
    compression_methods=_opaque(5, 1),  # legacy_compression_methods<1..2^8-1>
    extensions=_optional_extensions,
)

server_hellos = st.builds(
    ServerHello,
    legacy_version=uint16s,
    random=st.just(HRR_RANDOM) | _opaque(32, 32),  # a HelloRetryRequest is a ServerHello
    session_id=_opaque(32),
    cipher_suite=uint16s,
    compression_method=uint8s,
    extensions=_optional_extensions,
)


# --- certificates -----------------------------------------------------------------------------

_cert_data = _opaque(64, 1)  # opaque cert_data<1..2^24-1>

certificates_tls12 = st.builds(Certificate, _tuples(st.builds(CertificateEntry, _cert_data)), st.none())

certificates_tls13 = st.builds(
    Certificate,
    _tuples(st.builds(CertificateEntry, _cert_data, extension_lists), max_size=4),
    _opaque(255),  # certificate_request_context<0..2^8-1>
)


@st.composite
def certificate_requests_tls12(draw: st.DrawFn) -> CertificateRequest:
    """RFC 5246 §7.4.4 (with supported_signature_algorithms) or RFC 4346 §7.4.4 (without)."""
    with_algorithms = draw(st.booleans())
    return CertificateRequest(
        certificate_types=draw(_tuples(uint8s, 1, 6)),  # ClientCertificateType certificate_types<1..2^8-1>
        supported_signature_algorithms=draw(_tuples(uint16s, 1, 10)) if with_algorithms else None,
        distinguished_names=draw(_tuples(_opaque(40, 1), max_size=4)),  # DistinguishedName<1..2^16-1>
    )


certificate_requests_tls13 = st.builds(CertificateRequest, context=_opaque(255), extensions=extension_lists)


def certificate_request_version(msg: CertificateRequest) -> int:
    """The negotiated version that gives ``msg``'s TLS <= 1.2 layout."""
    return 0x0301 if msg.supported_signature_algorithms is None else 0x0303


# --- the rest of the handshake ------------------------------------------------------------

certificate_statuses = st.builds(CertificateStatus, uint8s, _opaque(64, 1))  # OCSPResponse<1..2^24-1>
encrypted_extensions = st.builds(EncryptedExtensions, extension_lists)
certificate_verifies = st.builds(CertificateVerify, st.none() | uint16s, _opaque(80))
finisheds = st.builds(Finished, _opaque(64))
new_session_tickets_tls12 = st.builds(NewSessionTicket, uint32s, _opaque(64))
new_session_tickets_tls13 = st.builds(
    NewSessionTicket,
    lifetime=uint32s,
    ticket=_opaque(64, 1),  # opaque ticket<1..2^16-1>
    age_add=uint32s,
    nonce=_opaque(255),  # opaque ticket_nonce<0..255>
    extensions=extension_lists,
)
key_updates = st.builds(KeyUpdate, uint8s)
server_key_exchanges = st.builds(ServerKeyExchange, _opaque(80))
client_key_exchanges = st.builds(ClientKeyExchange, _opaque(80))
empty_messages = st.sampled_from([ServerHelloDone(), HelloRequest(), EndOfEarlyData()])
unknown_handshakes = st.builds(
    UnknownHandshake, st.integers(0, 255).filter(lambda t: t not in KNOWN_HANDSHAKE_TYPES), _opaque(40)
)
alerts = st.builds(Alert, uint8s, uint8s)


@st.composite
def dispatchable(draw: st.DrawFn) -> tuple:
    """``(message, tls13, version)`` such that ``parse_handshake(..., tls13=, version=)`` reads it back."""
    tls13 = draw(st.booleans())
    common = [
        client_hellos,
        server_hellos,
        server_key_exchanges,
        client_key_exchanges,
        empty_messages,
        certificate_statuses,
        encrypted_extensions,
        finisheds,
        key_updates,
        unknown_handshakes,
    ]
    if tls13:
        specific = [
            certificates_tls13,
            certificate_requests_tls13,
            new_session_tickets_tls13,
            st.builds(CertificateVerify, uint16s, _opaque(80)),
        ]
    else:
        specific = [certificates_tls12, certificate_requests_tls12(), new_session_tickets_tls12, certificate_verifies]
    msg = draw(st.one_of(*common, *specific))
    version = 0x0304 if tls13 else 0x0303
    if isinstance(msg, CertificateRequest) and not tls13:
        version = certificate_request_version(msg)
    if isinstance(msg, CertificateVerify) and msg.algorithm is None:
        version = 0x0301
    return msg, tls13, version


# --- extension payloads ---------------------------------------------------------------------

_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
host_names = st.lists(_label, min_size=1, max_size=4).map(".".join)
alpn_lists = st.lists(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20), min_size=1, max_size=5
)
key_share_entries = st.builds(ext.KeyShareEntry, uint16s, _opaque(64, 1))  # key_exchange<1..2^16-1>


# --- byte streams -------------------------------------------------------------------------

_handshake_messages = st.one_of(
    client_hellos,
    server_hellos,
    certificates_tls12,
    certificate_requests_tls12(),
    certificate_statuses,
    server_key_exchanges,
    empty_messages,
    finisheds,
)


@st.composite
def handshake_streams(draw: st.DrawFn) -> tuple[bytes, ...]:
    """Whole handshake messages (each with its 4-byte header), in order."""
    messages = draw(st.lists(_handshake_messages, min_size=1, max_size=6))
    return tuple(build_handshake(m) for m in messages)


def split_at(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into pieces of ``sizes`` (cycled), the last piece whatever is left."""
    out, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)] if sizes else len(data)
        out.append(data[pos : pos + n])
        pos += n
        i += 1
    return out


cuts = st.lists(st.integers(1, 64), min_size=1, max_size=20)


@st.composite
def record_streams(draw: st.DrawFn) -> tuple[bytes, tuple[bytes, ...]]:
    """``(stream, messages)``: handshake messages framed into records.

    Some messages are split across records, some records carry several messages,
    and ChangeCipherSpec or warning-alert records may sit between whole messages.
    """
    messages = draw(handshake_streams())
    stream = b"".join(messages)
    sizes = draw(st.lists(st.integers(1, 300), min_size=1, max_size=10))
    out = bytearray()
    for fragment in split_at(stream, sizes):
        out += build_record(22, fragment, draw(st.sampled_from([0x0301, 0x0303])))
        if draw(st.integers(0, 4)) == 0:
            out += draw(st.sampled_from([build_record(20, b"\x01"), build_record(21, b"\x01\x00")]))
    assert all(len(m) <= MAX_PLAINTEXT for m in messages)
    return bytes(out), messages


# --- mutations --------------------------------------------------------------------------------

# (kind, position, value): the position is taken modulo the length, so any draw applies.
mutations = st.lists(
    st.tuples(
        st.sampled_from(["truncate", "flip", "large_length", "insert", "delete"]),
        st.integers(0, 2**16),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=3,
)


def mutate(data: bytes, steps: list[tuple[str, int, int]]) -> bytes:
    """Apply ``mutations()`` steps: truncation, a bit flip, a 1-3 byte length set to its maximum, ..."""
    buf = bytearray(data)
    for kind, position, value in steps:
        if not buf:
            buf = bytearray([value])
            continue
        i = position % len(buf)
        if kind == "truncate":
            del buf[i:]
        elif kind == "flip":
            buf[i] ^= 1 << (value % 8)
        elif kind == "large_length":
            width = 1 + value % 3
            buf[i : i + width] = b"\xff" * width
        elif kind == "insert":
            buf[i:i] = bytes([value])
        else:
            del buf[i]
    return bytes(buf)
