"""Build the ClientHello a probe sends, from options.

The codec's own ClientHello lets tlsmon offer what the local TLS library will not
(SSL 3.0, TLS 1.0, chosen cipher lists). No I/O; randomness is passed in.
"""

from __future__ import annotations

from dataclasses import field
from typing import Callable, Optional, Sequence

from ..frozen import frozen
from . import extensions as ext
from .extensions import Extension, KeyShareEntry
from .messages import ClientHello

__all__ = [
    "HelloOptions",
    "build_client_hello_message",
    "DEFAULT_TLS13_SUITES",
    "DEFAULT_TLS12_SUITES",
    "DEFAULT_SIGNATURE_ALGORITHMS",
    "DEFAULT_GROUPS",
    "SSL3",
    "TLS10",
    "TLS11",
    "TLS12",
    "TLS13",
]

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304

DEFAULT_TLS13_SUITES = (0x1301, 0x1302, 0x1303)
DEFAULT_TLS12_SUITES = (
    0xC02B, 0xC02F, 0xC02C, 0xC030,  # ECDHE-{ECDSA,RSA}-AES{128,256}-GCM
    0xCCA9, 0xCCA8,  # ECDHE-{ECDSA,RSA}-CHACHA20-POLY1305
    0xC023, 0xC027, 0xC024, 0xC028,  # ECDHE CBC SHA256/384
    0xC009, 0xC013, 0xC00A, 0xC014,  # ECDHE CBC SHA
    0x009E, 0x009F, 0xCCAA,  # DHE-RSA GCM, CHACHA20
    0x0067, 0x006B, 0x0033, 0x0039,  # DHE-RSA CBC
    0x009C, 0x009D, 0x003C, 0x003D, 0x002F, 0x0035,  # RSA
    0x000A,  # RSA 3DES (legacy servers)
)
DEFAULT_SIGNATURE_ALGORITHMS = (
    0x0403, 0x0503, 0x0603,  # ecdsa_secp{256,384,521}r1_sha{256,384,512}
    0x0807, 0x0808,  # ed25519, ed448
    0x0804, 0x0805, 0x0806,  # rsa_pss_rsae_sha{256,384,512}
    0x0809, 0x080A, 0x080B,  # rsa_pss_pss_sha{256,384,512}
    0x0401, 0x0501, 0x0601,  # rsa_pkcs1_sha{256,384,512}
    0x0201, 0x0203,  # rsa_pkcs1_sha1, ecdsa_sha1 (legacy, so old servers still answer)
)
DEFAULT_GROUPS = (29, 23, 24, 25, 30, 256, 257)  # x25519 secp256r1 secp384r1 secp521r1 x448 ffdhe2048 ffdhe3072


@frozen
class HelloOptions:
    """What the probe's ClientHello offers.

    Attributes:
        versions: offered versions, most preferred first.
        cipher_suites: explicit suite list; None picks defaults for ``versions``.
        groups: supported_groups.
        key_share_groups: groups for which a TLS 1.3 key share is sent up front.
        server_name: SNI host name, None for no SNI.
        alpn: ALPN protocol names to offer.
        status_request: ask for a stapled OCSP response.
        post_handshake_auth: offer TLS 1.3 post-handshake client authentication.
        signature_algorithms: offered signature schemes.
    """

    versions: tuple[int, ...] = (TLS13, TLS12)
    cipher_suites: Optional[tuple[int, ...]] = None
    groups: tuple[int, ...] = DEFAULT_GROUPS
    key_share_groups: tuple[int, ...] = (29,)
    server_name: Optional[str] = None
    alpn: tuple[str, ...] = ()
    status_request: bool = True
    post_handshake_auth: bool = False
    signature_algorithms: tuple[int, ...] = DEFAULT_SIGNATURE_ALGORITHMS
    extra_extensions: tuple[Extension, ...] = field(default=())

    @property
    def max_version(self) -> int:
        return max(self.versions)

    @property
    def offers_tls13(self) -> bool:
        return TLS13 in self.versions

    def suites(self) -> tuple[int, ...]:
        if self.cipher_suites is not None:
            return self.cipher_suites
        out: tuple[int, ...] = ()
        if self.offers_tls13:
            out += DEFAULT_TLS13_SUITES
        if any(v <= TLS12 for v in self.versions):
            out += DEFAULT_TLS12_SUITES
        return out


def build_client_hello_message(
    opts: HelloOptions,
    random: bytes,
    session_id: bytes,
    key_shares: Sequence[KeyShareEntry] = (),
    cookie: Optional[bytes] = None,
) -> ClientHello:
    """The ClientHello for ``opts``.

    SSL 3.0-only hellos carry no extensions (SSL 3.0 servers may reject them) and
    signal secure renegotiation with the SCSV (RFC 5746 §3.3) instead.
    """
    suites = opts.suites()
    legacy = min(opts.max_version, TLS12)
    if opts.max_version <= SSL3:
        return ClientHello(SSL3, random, session_id, suites + (0x00FF,), b"\x00", None)
    exts: list[Extension] = []
    if opts.server_name:
        exts.append(ext.server_name(opts.server_name))
    exts.append(ext.empty(ext.ET_EXTENDED_MASTER_SECRET))
    exts.append(ext.renegotiation_info())
    exts.append(ext.uint16_list_extension(ext.ET_SUPPORTED_GROUPS, opts.groups))
    exts.append(ext.ec_point_formats())
    exts.append(ext.empty(ext.ET_SESSION_TICKET))
    if opts.alpn:
        exts.append(ext.alpn(opts.alpn))
    if opts.status_request:
        exts.append(ext.status_request_ocsp())
    if opts.max_version >= TLS12:
        exts.append(ext.uint16_list_extension(ext.ET_SIGNATURE_ALGORITHMS, opts.signature_algorithms))
    if opts.offers_tls13:
        exts.append(ext.key_share_client(key_shares))
        exts.append(ext.supported_versions_client(sorted(opts.versions, reverse=True)))
        exts.append(ext.psk_key_exchange_modes())
        if cookie is not None:
            exts.append(Extension(ext.ET_COOKIE, cookie))  # echoed verbatim from the HelloRetryRequest
        if opts.post_handshake_auth:
            exts.append(ext.empty(ext.ET_POST_HANDSHAKE_AUTH))
    exts.extend(opts.extra_extensions)
    return ClientHello(legacy, random, session_id, suites, b"\x00", tuple(exts))


def random_bytes(rng: Callable[[int], bytes]) -> tuple[bytes, bytes]:
    """(client random, legacy session id) — a 32-byte session id puts TLS 1.3 in compatibility mode."""
    return rng(32), rng(32)
