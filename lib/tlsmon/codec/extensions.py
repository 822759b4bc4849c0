"""The TLS extensions tlsmon reads or sends, as raw ``Extension`` values plus typed helpers.

Messages keep their extensions raw (type + bytes) so that parsing and building
round-trip exactly; these helpers decode the ones we care about on demand.
No I/O here.
"""

from __future__ import annotations

import struct
from typing import Iterable, Optional, Sequence

from ..frozen import frozen
from .wire import Reader, SlowPath, Writer

__all__ = [
    "Extension",
    "KeyShareEntry",
    "find",
    "parse_extensions",
    "build_extensions",
    "server_name",
    "parse_server_name",
    "supported_versions_client",
    "parse_supported_versions_client",
    "parse_supported_versions_server",
    "uint16_list_extension",
    "parse_uint16_list",
    "key_share_client",
    "parse_key_share_client",
    "parse_key_share_server",
    "parse_key_share_hrr",
    "alpn",
    "parse_alpn",
    "status_request_ocsp",
    "renegotiation_info",
    "parse_renegotiation_info",
    "empty",
    "certificate_authorities",
    "parse_certificate_authorities",
    "ec_point_formats",
    "psk_key_exchange_modes",
    "ET_SERVER_NAME",
    "ET_STATUS_REQUEST",
    "ET_SUPPORTED_GROUPS",
    "ET_EC_POINT_FORMATS",
    "ET_SIGNATURE_ALGORITHMS",
    "ET_ALPN",
    "ET_EXTENDED_MASTER_SECRET",
    "ET_SESSION_TICKET",
    "ET_PRE_SHARED_KEY",
    "ET_SUPPORTED_VERSIONS",
    "ET_COOKIE",
    "ET_PSK_KEY_EXCHANGE_MODES",
    "ET_CERTIFICATE_AUTHORITIES",
    "ET_POST_HANDSHAKE_AUTH",
    "ET_SIGNATURE_ALGORITHMS_CERT",
    "ET_KEY_SHARE",
    "ET_RENEGOTIATION_INFO",
]

# IANA ExtensionType values used here (full registry: constants.ExtensionType).
ET_SERVER_NAME = 0
ET_STATUS_REQUEST = 5
ET_SUPPORTED_GROUPS = 10
ET_EC_POINT_FORMATS = 11
ET_SIGNATURE_ALGORITHMS = 13
ET_ALPN = 16
ET_EXTENDED_MASTER_SECRET = 23
ET_SESSION_TICKET = 35
ET_PRE_SHARED_KEY = 41
ET_SUPPORTED_VERSIONS = 43
ET_COOKIE = 44
ET_PSK_KEY_EXCHANGE_MODES = 45
ET_CERTIFICATE_AUTHORITIES = 47
ET_POST_HANDSHAKE_AUTH = 49
ET_SIGNATURE_ALGORITHMS_CERT = 50
ET_KEY_SHARE = 51
ET_RENEGOTIATION_INFO = 0xFF01


@frozen
class Extension:
    """One extension as sent: RFC 8446 §4.2 ``Extension``.

    Attributes:
        type: raw extension type.
        data: extension_data bytes.
    """

    type: int
    data: bytes = b""


@frozen
class KeyShareEntry:
    """RFC 8446 §4.2.8 ``KeyShareEntry``."""

    group: int
    key_exchange: bytes


def find(extensions: Optional[Iterable[Extension]], ext_type: int) -> Optional[Extension]:
    """The first extension of ``ext_type``, or None."""
    for ext in extensions or ():
        if ext.type == ext_type:
            return ext
    return None


def parse_extensions(r: Reader) -> tuple[Extension, ...]:
    """``Extension extensions<0..2^16-1>`` (the 2-byte length prefix included)."""
    sub = r.sub(2, "extensions")
    out = []
    while not sub.at_end():
        ext_type = sub.uint16("extension type")
        out.append(Extension(ext_type, sub.vector(2, "extension_data")))
    return tuple(out)


# The same client software and the same servers send the same extensions again and again:
# ``slice_extensions`` shares one (immutable) Extension per distinct encoding instead of
# building it anew. Bounded (emptied when full); values that differ per connection (key
# shares, PSK identities, tickets, cookies) and long ones are not kept.
_SHARED: dict[bytes, Extension] = {}
_SHARED_ENTRIES = 512
_SHARED_MAX_DATA = 255
_PER_CONNECTION = frozenset((ET_SESSION_TICKET, ET_PRE_SHARED_KEY, ET_COOKIE, ET_KEY_SHARE))


def slice_extensions(data: bytes, pos: int, end: int) -> tuple[tuple[Extension, ...], int]:
    """``Extension extensions<0..2^16-1>`` at ``data[pos:]``, read by slicing; the fast path.

    Args:
        data: the message.
        pos: where the 2-byte length prefix starts.
        end: where the enclosing structure ends; the block must not run past it.

    Returns:
        The extensions, and the offset just after the block.

    Raises:
        SlowPath: the block is malformed (``parse_extensions`` on a ``Reader`` names the error).
        IndexError: likewise, for a length prefix cut short.
    """
    stop = pos + 2 + ((data[pos] << 8) | data[pos + 1])
    if stop > end:
        raise SlowPath
    pos += 2
    out = []
    shared = _SHARED
    while pos < stop:
        nxt = pos + 4 + ((data[pos + 2] << 8) | data[pos + 3])
        if nxt > stop:
            raise SlowPath
        raw = data[pos:nxt]
        ext = shared.get(raw)
        if ext is None:
            ext_type = (data[pos] << 8) | data[pos + 1]
            ext = Extension(ext_type, raw[4:])
            if nxt - pos <= _SHARED_MAX_DATA + 4 and (ext_type not in _PER_CONNECTION or nxt == pos + 4):
                if len(shared) >= _SHARED_ENTRIES:
                    shared.clear()
                shared[raw] = ext
        out.append(ext)
        pos = nxt
    return tuple(out), stop


def build_extensions(w: Writer, extensions: Sequence[Extension]) -> None:
    inner = Writer()
    for ext in extensions:
        inner.uint16(ext.type).vector(2, ext.data)
    w.vector(2, inner.getvalue())


# --- server_name (RFC 6066 §3) -------------------------------------------------


def server_name(host: str) -> Extension:
    name = host.encode("idna") if any(ord(c) > 127 for c in host) else host.encode("ascii")
    entry = Writer().uint8(0).vector(2, name).getvalue()  # name_type host_name(0)
    return Extension(ET_SERVER_NAME, Writer().vector(2, entry).getvalue())


def parse_server_name(data: bytes) -> Optional[str]:
    """The host_name in a ClientHello's server_name; None when empty (as a server sends it)."""
    if not data:
        return None
    n = len(data)
    # The usual list: one host_name entry filling it (name_type 0, host_name<1..2^16-1>).
    if n > 5 and type(data) is bytes and (data[0] << 8) | data[1] == n - 2 and data[2] == 0:
        if (data[3] << 8) | data[4] == n - 5:
            return data[5:].decode("ascii", "replace")
    r = Reader(data, "server_name")
    sub = r.sub(2, "server_name_list", minimum=1)
    r.expect_end()
    while not sub.at_end():
        name_type = sub.uint8("name_type")
        name = sub.vector(2, "host_name", minimum=1)
        if name_type == 0:
            return name.decode("ascii", "replace")
    return None


# --- supported_versions (RFC 8446 §4.2.1) ----------------------------------------


def supported_versions_client(versions: Sequence[int]) -> Extension:
    return Extension(ET_SUPPORTED_VERSIONS, Writer().uint16_list(1, list(versions)).getvalue())


def parse_supported_versions_client(data: bytes) -> tuple[int, ...]:
    n = len(data)
    if n >= 3 and data[0] == n - 1 and n % 2:  # versions<2..254>, filling the extension
        return struct.unpack_from(f">{n // 2}H", data, 1)
    r = Reader(data, "supported_versions")
    out = r.uint16_list(1, "versions", minimum=2)
    r.expect_end()
    return out


def parse_supported_versions_server(data: bytes) -> int:
    if len(data) == 2:
        return (data[0] << 8) | data[1]
    r = Reader(data, "supported_versions")
    v = r.uint16("selected_version")
    r.expect_end()
    return v


# --- lists of uint16: supported_groups, signature_algorithms(_cert) ---------------


def uint16_list_extension(ext_type: int, values: Sequence[int]) -> Extension:
    return Extension(ext_type, Writer().uint16_list(2, list(values)).getvalue())


def parse_uint16_list(data: bytes, what: str = "list") -> tuple[int, ...]:
    r = Reader(data, what)
    out = r.uint16_list(2, what)
    r.expect_end()
    return out


# --- key_share (RFC 8446 §4.2.8) ------------------------------------------------


def key_share_client(entries: Sequence[KeyShareEntry]) -> Extension:
    inner = Writer()
    for e in entries:
        inner.uint16(e.group).vector(2, e.key_exchange)
    return Extension(ET_KEY_SHARE, Writer().vector(2, inner.getvalue()).getvalue())


def parse_key_share_client(data: bytes) -> tuple[KeyShareEntry, ...]:
    r = Reader(data, "key_share")
    sub = r.sub(2, "client_shares")
    r.expect_end()
    out = []
    while not sub.at_end():
        group = sub.uint16("group")
        out.append(KeyShareEntry(group, sub.vector(2, "key_exchange", minimum=1)))
    return tuple(out)


def parse_key_share_server(data: bytes) -> KeyShareEntry:
    n = len(data)
    if n > 4 and type(data) is bytes and (data[2] << 8) | data[3] == n - 4:  # group, key_exchange<1..2^16-1>
        return KeyShareEntry((data[0] << 8) | data[1], data[4:])
    r = Reader(data, "key_share")
    group = r.uint16("group")
    entry = KeyShareEntry(group, r.vector(2, "key_exchange", minimum=1))
    r.expect_end()
    return entry


def parse_key_share_hrr(data: bytes) -> int:
    if len(data) == 2:
        return (data[0] << 8) | data[1]
    r = Reader(data, "key_share")
    group = r.uint16("selected_group")
    r.expect_end()
    return group


# --- ALPN (RFC 7301 §3.1) ---------------------------------------------------------


def alpn(protocols: Sequence[str]) -> Extension:
    inner = Writer()
    for p in protocols:
        inner.vector(1, p.encode("ascii"))
    return Extension(ET_ALPN, Writer().vector(2, inner.getvalue()).getvalue())


def parse_alpn(data: bytes) -> tuple[str, ...]:
    try:
        return _slice_alpn(data)
    except (SlowPath, IndexError):
        pass
    r = Reader(data, "alpn")
    sub = r.sub(2, "protocol_name_list", minimum=2)
    r.expect_end()
    out = []
    while not sub.at_end():
        out.append(sub.vector(1, "protocol_name", minimum=1).decode("ascii", "replace"))
    return tuple(out)


def _slice_alpn(data: bytes) -> tuple[str, ...]:
    """``parse_alpn`` by slicing: ProtocolName protocol_name_list<2..2^16-1>, each <1..2^8-1>."""
    end = len(data)
    if type(data) is not bytes or end < 4 or (data[0] << 8) | data[1] != end - 2:
        raise SlowPath
    out = []
    pos = 2
    while pos < end:
        nxt = pos + 1 + data[pos]
        if nxt == pos + 1 or nxt > end:
            raise SlowPath
        out.append(data[pos + 1 : nxt].decode("ascii", "replace"))
        pos = nxt
    return tuple(out)


# --- the rest -----------------------------------------------------------------------


def status_request_ocsp() -> Extension:
    # RFC 6066 §8: status_type ocsp(1), empty responder_id_list, empty request_extensions.
    return Extension(ET_STATUS_REQUEST, b"\x01\x00\x00\x00\x00")


def renegotiation_info(verified_data: bytes = b"") -> Extension:
    # RFC 5746 §3.2: opaque renegotiated_connection<0..255>.
    return Extension(ET_RENEGOTIATION_INFO, Writer().vector(1, verified_data).getvalue())


def parse_renegotiation_info(data: bytes) -> bytes:
    r = Reader(data, "renegotiation_info")
    out = r.vector(1, "renegotiated_connection")
    r.expect_end()
    return out


def empty(ext_type: int) -> Extension:
    """An extension with no data (extended_master_secret, post_handshake_auth, ...)."""
    return Extension(ext_type, b"")


def certificate_authorities(names_der: Sequence[bytes]) -> Extension:
    inner = Writer()
    for dn in names_der:
        inner.vector(2, dn)
    return Extension(ET_CERTIFICATE_AUTHORITIES, Writer().vector(2, inner.getvalue()).getvalue())


def parse_distinguished_names(r: Reader) -> tuple[bytes, ...]:
    """``DistinguishedName authorities<3..2^16-1>`` / ``certificate_authorities<0..2^16-1>``."""
    sub = r.sub(2, "certificate_authorities")
    out = []
    while not sub.at_end():
        out.append(sub.vector(2, "DistinguishedName", minimum=1))
    return tuple(out)


def parse_certificate_authorities(data: bytes) -> tuple[bytes, ...]:
    r = Reader(data, "certificate_authorities")
    out = parse_distinguished_names(r)
    r.expect_end()
    return out


def ec_point_formats() -> Extension:
    return Extension(ET_EC_POINT_FORMATS, b"\x01\x00")  # uncompressed only


def psk_key_exchange_modes() -> Extension:
    return Extension(ET_PSK_KEY_EXCHANGE_MODES, b"\x01\x01")  # psk_dhe_ke
