"""TLS 1.3 cryptography for the codec: key schedule, transcript, key shares, signatures.

RFC 8446 §7 (HKDF key schedule, traffic keys), §4.4.1 (transcript hash, with the
HelloRetryRequest rule), §4.2.8 (key shares), §4.4.3 (CertificateVerify) and §4.4.4
(Finished), on top of ``cryptography``. Pure functions and small classes: no I/O, no
clock. Randomness comes in as an argument (a key share's private key) or, when the
caller passes none, from ``cryptography``'s own generator. Only APIs that
cryptography 38 already had are used.
"""

from __future__ import annotations

import hmac
from typing import Any, Callable, Optional, Protocol, Union

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..errors import DecodeError, HandshakeVerifyError, LimitExceeded, UnexpectedMessage
from ..frozen import frozen
from .wire import Buffer

__all__ = [
    "Aead",
    "Tls13Suite",
    "TLS13_SUITES",
    "hkdf_extract",
    "hkdf_expand_label",
    "derive_secret",
    "traffic_key_iv",
    "finished_verify_data",
    "verify_finished",
    "next_application_secret",
    "Transcript",
    "KeySchedule",
    "KeyShare",
    "SUPPORTED_GROUPS",
    "GROUP_NAMES",
    "verify_signature",
    "verify_certificate_verify",
]


class Aead(Protocol):
    """What a record layer needs from an AEAD (AESGCM, AESCCM, ChaCha20Poly1305)."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: Optional[bytes]) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: Optional[bytes]) -> bytes: ...


def _aes_ccm_8(key: bytes) -> Aead:
    return AESCCM(key, tag_length=8)


@frozen
class Tls13Suite:
    """A TLS 1.3 cipher suite: the hash for HKDF and transcript, the AEAD for records.

    Attributes:
        code: IANA value, e.g. 0x1301.
        name: IANA name, e.g. ``TLS_AES_128_GCM_SHA256``.
        hash_algorithm: factory of the hash (``hashes.SHA256``); call it for an instance.
        hash_len: digest length in bytes, also the length of every secret.
        key_len: AEAD key length in bytes.
        iv_len: AEAD nonce length in bytes.
        aead: factory building the AEAD from a key.
        tag_len: AEAD tag length in bytes.
    """

    code: int
    name: str
    hash_algorithm: Callable[[], hashes.HashAlgorithm]
    hash_len: int
    key_len: int
    iv_len: int
    aead: Callable[[bytes], Aead]
    tag_len: int = 16


TLS13_SUITES: dict[int, Tls13Suite] = {
    s.code: s
    for s in (
        Tls13Suite(0x1301, "TLS_AES_128_GCM_SHA256", hashes.SHA256, 32, 16, 12, AESGCM),
        Tls13Suite(0x1302, "TLS_AES_256_GCM_SHA384", hashes.SHA384, 48, 32, 12, AESGCM),
        Tls13Suite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", hashes.SHA256, 32, 32, 12, ChaCha20Poly1305),
        Tls13Suite(0x1304, "TLS_AES_128_CCM_SHA256", hashes.SHA256, 32, 16, 12, AESCCM),
        Tls13Suite(0x1305, "TLS_AES_128_CCM_8_SHA256", hashes.SHA256, 32, 16, 12, _aes_ccm_8, tag_len=8),
    )
}


def _hash(suite: Tls13Suite, data: bytes) -> bytes:
    h = hashes.Hash(suite.hash_algorithm())
    h.update(data)
    return h.finalize()


def _hmac(suite: Tls13Suite, key: bytes, data: bytes) -> bytes:
    h = crypto_hmac.HMAC(key, suite.hash_algorithm())
    h.update(data)
    return h.finalize()


def hkdf_extract(suite: Tls13Suite, salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract (RFC 5869 §2.2) with the suite's hash: ``HMAC(salt, ikm)``."""
    return _hmac(suite, salt, ikm)


def hkdf_expand_label(suite: Tls13Suite, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1); ``label`` without the ``tls13 `` prefix.

    Raises:
        ValueError: a label or context over 255 bytes, or an impossible length.
    """
    full_label = b"tls13 " + label
    if len(full_label) > 255 or len(context) > 255 or not 0 < length <= 255 * suite.hash_len:
        raise ValueError("HKDF-Expand-Label: label, context or length out of range")
    # struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel
    info = length.to_bytes(2, "big") + bytes([len(full_label)]) + full_label + bytes([len(context)]) + context
    return HKDFExpand(suite.hash_algorithm(), length, info).derive(secret)


def derive_secret(suite: Tls13Suite, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """Derive-Secret (RFC 8446 §7.1), given the transcript hash rather than the messages."""
    return hkdf_expand_label(suite, secret, label, transcript_hash, suite.hash_len)


def traffic_key_iv(suite: Tls13Suite, secret: bytes) -> tuple[bytes, bytes]:
    """The AEAD (key, iv) of a traffic secret (RFC 8446 §7.3)."""
    return (
        hkdf_expand_label(suite, secret, b"key", b"", suite.key_len),
        hkdf_expand_label(suite, secret, b"iv", b"", suite.iv_len),
    )


def finished_verify_data(suite: Tls13Suite, base_secret: bytes, transcript_hash: bytes) -> bytes:
    """Finished.verify_data (RFC 8446 §4.4.4) for a handshake traffic secret."""
    finished_key = hkdf_expand_label(suite, base_secret, b"finished", b"", suite.hash_len)
    return _hmac(suite, finished_key, transcript_hash)


def verify_finished(suite: Tls13Suite, base_secret: bytes, transcript_hash: bytes, verify_data: bytes) -> None:
    """Check a peer's Finished.verify_data in constant time.

    Raises:
        HandshakeVerifyError: the verify_data does not match the transcript.
    """
    expected = finished_verify_data(suite, base_secret, transcript_hash)
    if not hmac.compare_digest(expected, bytes(verify_data)):
        raise HandshakeVerifyError("Finished: verify_data does not match the handshake transcript")


def next_application_secret(suite: Tls13Suite, secret: bytes) -> bytes:
    """application_traffic_secret_N+1 after a KeyUpdate (RFC 8446 §7.2)."""
    return hkdf_expand_label(suite, secret, b"traffic upd", b"", suite.hash_len)


_MESSAGE_HASH = 254  # HandshakeType.message_hash


class Transcript:
    """Running hash of the handshake messages, each with its 4-byte header.

    The hash algorithm is only known once the ServerHello (or HelloRetryRequest) names
    the cipher suite, so messages are kept as raw bytes until ``set_suite()``, up to
    ``max_buffered`` bytes.
    """

    DEFAULT_MAX_BUFFERED = 1 << 17

    def __init__(self, suite: Tls13Suite | None = None, *, max_buffered: int = DEFAULT_MAX_BUFFERED) -> None:
        self._suite: Tls13Suite | None = None
        self._hash: hashes.Hash | None = None
        self._pending = bytearray()
        self._max_buffered = max_buffered
        self._count = 0
        if suite is not None:
            self.set_suite(suite)

    @property
    def suite(self) -> Tls13Suite | None:
        return self._suite

    @property
    def message_count(self) -> int:
        """Handshake messages hashed so far (the HRR rule's synthetic message counts as one)."""
        return self._count

    def update(self, msg: Buffer) -> None:
        """Add one or more whole handshake messages (type, uint24 length, body).

        Raises:
            ValueError: ``msg`` is not a run of whole handshake messages.
            LimitExceeded: more than ``max_buffered`` bytes before the suite is known.
        """
        data = bytes(msg)
        count, pos = 0, 0
        while pos < len(data):
            if len(data) - pos < 4:
                raise ValueError("transcript: truncated handshake message header")
            pos += 4 + int.from_bytes(data[pos + 1 : pos + 4], "big")
            count += 1
        if pos != len(data) or count == 0:
            raise ValueError("transcript: not a run of whole handshake messages")
        if self._hash is None:
            if len(self._pending) + len(data) > self._max_buffered:
                reason = f"over {self._max_buffered} bytes before the cipher suite is known"
                raise LimitExceeded("transcript", len(self._pending), reason)
            self._pending += data
        else:
            self._hash.update(data)
        self._count += count

    def set_suite(self, suite: Tls13Suite) -> None:
        """Fix the hash algorithm and hash what was buffered.

        Raises:
            UnexpectedMessage: a different cipher suite was set before.
        """
        if self._suite is not None:
            if suite.code != self._suite.code:
                raise UnexpectedMessage(f"transcript: cipher suite changed from {self._suite.name} to {suite.name}")
            return
        self._suite = suite
        self._hash = hashes.Hash(suite.hash_algorithm())
        self._hash.update(bytes(self._pending))
        self._pending = bytearray()

    def digest(self) -> bytes:
        """Transcript-Hash of the messages so far; the running hash goes on.

        Raises:
            RuntimeError: no suite yet (call ``set_suite()`` first).
        """
        if self._hash is None:
            raise RuntimeError("transcript: the hash algorithm is not known yet; call set_suite() first")
        return self._hash.copy().finalize()

    def restart_after_hrr(self, suite: Tls13Suite | None = None) -> None:
        """Replace ClientHello1 with the synthetic ``message_hash`` message (RFC 8446 §4.4.1).

        Call it when a HelloRetryRequest arrives, before hashing the HelloRetryRequest.

        Raises:
            UnexpectedMessage: the transcript holds anything but the first ClientHello.
        """
        if suite is not None:
            self.set_suite(suite)
        if self._count != 1:
            raise UnexpectedMessage(
                f"transcript: HelloRetryRequest must follow a single ClientHello, not {self._count} messages"
            )
        ch1_hash = self.digest()
        assert self._suite is not None  # digest() raised otherwise
        self._hash = hashes.Hash(self._suite.hash_algorithm())
        self._hash.update(bytes([_MESSAGE_HASH, 0, 0, len(ch1_hash)]) + ch1_hash)


class KeySchedule:
    """The secrets of one connection, from the early secret to the master secret.

    Attributes:
        suite: the negotiated cipher suite.
        early_secret: HKDF-Extract(0, PSK or 0).
        handshake_secret: set by ``handshake_secrets()``.
        master_secret: set by ``handshake_secrets()``; it needs no transcript.
    """

    def __init__(self, suite: Tls13Suite, psk: bytes | None = None) -> None:
        self.suite = suite
        self._zeros = bytes(suite.hash_len)
        self._empty_hash = _hash(suite, b"")
        self.early_secret = hkdf_extract(suite, self._zeros, self._zeros if psk is None else psk)
        self.handshake_secret: bytes | None = None
        self.master_secret: bytes | None = None

    def handshake_secrets(self, shared_secret: bytes | None, transcript_hash: bytes) -> tuple[bytes, bytes]:
        """(client, server) handshake traffic secrets.

        Args:
            shared_secret: the (EC)DHE output; None for psk_ke without (EC)DHE.
            transcript_hash: Transcript-Hash(ClientHello..ServerHello).
        """
        derived = derive_secret(self.suite, self.early_secret, b"derived", self._empty_hash)
        hs = hkdf_extract(self.suite, derived, self._zeros if shared_secret is None else shared_secret)
        self.handshake_secret = hs
        derived = derive_secret(self.suite, hs, b"derived", self._empty_hash)
        self.master_secret = hkdf_extract(self.suite, derived, self._zeros)
        return (
            derive_secret(self.suite, hs, b"c hs traffic", transcript_hash),
            derive_secret(self.suite, hs, b"s hs traffic", transcript_hash),
        )

    def _master(self) -> bytes:
        if self.master_secret is None:
            raise RuntimeError("key schedule: handshake_secrets() must come first")
        return self.master_secret

    def application_secrets(self, transcript_hash: bytes) -> tuple[bytes, bytes, bytes]:
        """(client, server) application traffic secrets 0 and the exporter master secret.

        Args:
            transcript_hash: Transcript-Hash(ClientHello..server Finished).
        """
        ms = self._master()
        return (
            derive_secret(self.suite, ms, b"c ap traffic", transcript_hash),
            derive_secret(self.suite, ms, b"s ap traffic", transcript_hash),
            derive_secret(self.suite, ms, b"exp master", transcript_hash),
        )

    def resumption_master_secret(self, transcript_hash: bytes) -> bytes:
        """resumption_master_secret, given Transcript-Hash(ClientHello..client Finished)."""
        return derive_secret(self.suite, self._master(), b"res master", transcript_hash)

    def traffic_key_iv(self, secret: bytes) -> tuple[bytes, bytes]:
        """See the module function ``traffic_key_iv``."""
        return traffic_key_iv(self.suite, secret)

    def finished_verify_data(self, base_secret: bytes, transcript_hash: bytes) -> bytes:
        """See the module function ``finished_verify_data``."""
        return finished_verify_data(self.suite, base_secret, transcript_hash)

    def next_application_secret(self, secret: bytes) -> bytes:
        """See the module function ``next_application_secret``."""
        return next_application_secret(self.suite, secret)


_PrivateKey = Union[x25519.X25519PrivateKey, x448.X448PrivateKey, ec.EllipticCurvePrivateKey]

GROUP_NAMES: dict[int, str] = {29: "x25519", 23: "secp256r1", 24: "secp384r1", 25: "secp521r1", 30: "x448"}
SUPPORTED_GROUPS: tuple[int, ...] = tuple(GROUP_NAMES)
_CURVES: dict[int, Callable[[], ec.EllipticCurve]] = {23: ec.SECP256R1, 24: ec.SECP384R1, 25: ec.SECP521R1}


class KeyShare:
    """Our half of an (EC)DHE exchange for one named group.

    Attributes:
        group: the NamedGroup code.
        public_bytes: the key_exchange field (raw for x25519/x448, 0x04||X||Y for NIST curves).
    """

    def __init__(self, group: int, private_key: _PrivateKey) -> None:
        if group in _CURVES:
            if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != GROUP_NAMES[group]:
                raise ValueError(f"key share: {GROUP_NAMES[group]} needs a key on that curve")
            self.public_bytes = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        elif group == 29 and isinstance(private_key, x25519.X25519PrivateKey):
            self.public_bytes = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        elif group == 30 and isinstance(private_key, x448.X448PrivateKey):
            self.public_bytes = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        else:
            raise ValueError(f"key share: group 0x{group:04x} unsupported or key of the wrong type")
        self.group = group
        self._private = private_key

    @classmethod
    def generate(cls, group: int, rng_private: bytes | None = None) -> KeyShare:
        """A key share for ``group``; its private key is ``rng_private`` when given.

        Args:
            group: a NamedGroup from ``SUPPORTED_GROUPS``.
            rng_private: raw private key (32 bytes x25519, 56 bytes x448) or a big-endian
                EC scalar in [1, n-1]; None asks cryptography's generator.

        Raises:
            ValueError: unsupported group, or a private key of the wrong size or range.
        """
        if rng_private is not None:
            return cls.from_private_bytes(group, rng_private)
        if group in _CURVES:
            return cls(group, ec.generate_private_key(_CURVES[group]()))
        if group == 29:
            return cls(group, x25519.X25519PrivateKey.generate())
        if group == 30:
            return cls(group, x448.X448PrivateKey.generate())
        raise ValueError(f"key share: unsupported group 0x{group:04x}")

    @classmethod
    def from_private_bytes(cls, group: int, private: bytes) -> KeyShare:
        """A key share from a known private key (see ``generate``), for deterministic tests."""
        if group == 29:
            return cls(group, x25519.X25519PrivateKey.from_private_bytes(private))
        if group == 30:
            return cls(group, x448.X448PrivateKey.from_private_bytes(private))
        if group not in _CURVES:
            raise ValueError(f"key share: unsupported group 0x{group:04x}")
        curve = _CURVES[group]()
        scalar = int.from_bytes(private, "big")
        try:
            key = ec.derive_private_key(scalar, curve)
        except ValueError:
            raise ValueError(f"key share: not a valid {curve.name} private scalar") from None
        if key.private_numbers().private_value != scalar:
            raise ValueError(f"key share: not a valid {curve.name} private scalar")
        return cls(group, key)

    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret with the peer's key_exchange bytes (RFC 8446 §7.4).

        Raises:
            DecodeError: the peer's share is malformed, not on the curve, or of low order.
        """
        peer = bytes(peer_public)
        name = GROUP_NAMES[self.group]
        try:
            if isinstance(self._private, x25519.X25519PrivateKey):
                shared = self._private.exchange(x25519.X25519PublicKey.from_public_bytes(self._exact(peer, 32)))
            elif isinstance(self._private, x448.X448PrivateKey):
                shared = self._private.exchange(x448.X448PublicKey.from_public_bytes(self._exact(peer, 56)))
            else:
                size = (self._private.curve.key_size + 7) // 8
                if peer[:1] != b"\x04":  # §4.2.8.2: only the uncompressed form is allowed
                    raise DecodeError("key_share", 0, f"{name} share is not an uncompressed point")
                encoded = self._exact(peer, 1 + 2 * size)
                point = ec.EllipticCurvePublicKey.from_encoded_point(self._private.curve, encoded)
                shared = self._private.exchange(ec.ECDH(), point)
        except ValueError:
            raise DecodeError("key_share", 0, f"{name} share is not a valid public key") from None
        if not any(shared):  # §7.4.2: an all-zero X25519/X448 result means a low-order point
            raise DecodeError("key_share", 0, f"{name} share gives an all-zero shared secret")
        return shared

    def _exact(self, peer: bytes, length: int) -> bytes:
        if len(peer) != length:
            raise DecodeError("key_share", 0, f"{GROUP_NAMES[self.group]} share is {len(peer)} bytes, not {length}")
        return peer


@frozen
class _Scheme:
    name: str
    kind: str  # ecdsa, rsae, pss, pkcs1, ed25519, ed448
    hash_algorithm: Optional[Callable[[], hashes.HashAlgorithm]]
    curve: str = ""  # the curve TLS 1.3 binds an ECDSA scheme to
    tls13: bool = True  # allowed in a TLS 1.3 CertificateVerify


_SCHEMES: dict[int, _Scheme] = {
    0x0403: _Scheme("ecdsa_secp256r1_sha256", "ecdsa", hashes.SHA256, "secp256r1"),
    0x0503: _Scheme("ecdsa_secp384r1_sha384", "ecdsa", hashes.SHA384, "secp384r1"),
    0x0603: _Scheme("ecdsa_secp521r1_sha512", "ecdsa", hashes.SHA512, "secp521r1"),
    0x0804: _Scheme("rsa_pss_rsae_sha256", "rsae", hashes.SHA256),
    0x0805: _Scheme("rsa_pss_rsae_sha384", "rsae", hashes.SHA384),
    0x0806: _Scheme("rsa_pss_rsae_sha512", "rsae", hashes.SHA512),
    0x0807: _Scheme("ed25519", "ed25519", None),
    0x0808: _Scheme("ed448", "ed448", None),
    0x0809: _Scheme("rsa_pss_pss_sha256", "pss", hashes.SHA256),
    0x080A: _Scheme("rsa_pss_pss_sha384", "pss", hashes.SHA384),
    0x080B: _Scheme("rsa_pss_pss_sha512", "pss", hashes.SHA512),
    0x0401: _Scheme("rsa_pkcs1_sha256", "pkcs1", hashes.SHA256, tls13=False),
    0x0501: _Scheme("rsa_pkcs1_sha384", "pkcs1", hashes.SHA384, tls13=False),
    0x0601: _Scheme("rsa_pkcs1_sha512", "pkcs1", hashes.SHA512, tls13=False),
    0x0201: _Scheme("rsa_pkcs1_sha1", "pkcs1", hashes.SHA1, tls13=False),
    0x0203: _Scheme("ecdsa_sha1", "ecdsa", hashes.SHA1, tls13=False),
}

_OID_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1
_OID_RSASSA_PSS = bytes.fromhex("2a864886f70d01010a")  # 1.2.840.113549.1.1.10


def _der(data: bytes, pos: int, tag: int | None = None) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``; single-byte tags."""
    if pos + 2 > len(data) or (tag is not None and data[pos] != tag):
        raise ValueError("unexpected DER element")
    first, n = data[pos + 1], 0
    start = pos + 2
    if first < 0x80:
        n = first
    else:
        nbytes = first & 0x7F
        if not 0 < nbytes <= 4 or start + nbytes > len(data):
            raise ValueError("bad DER length")
        n, start = int.from_bytes(data[start : start + nbytes], "big"), start + nbytes
    if start + n > len(data):
        raise ValueError("DER element overruns its container")
    return data[pos], start, start + n


def _spki_algorithm(cert: Any) -> bytes:
    """The DER OID contents of the certificate's subjectPublicKeyInfo algorithm (RFC 5280 §4.1)."""
    tbs = cert.tbs_certificate_bytes
    _, pos, _ = _der(tbs, 0, 0x30)
    if tbs[pos] == 0xA0:  # [0] EXPLICIT version
        pos = _der(tbs, pos)[2]
    for _ in range(5):  # serialNumber, signature, issuer, validity, subject
        pos = _der(tbs, pos)[2]
    _, pos, _ = _der(tbs, pos, 0x30)  # subjectPublicKeyInfo
    _, pos, _ = _der(tbs, pos, 0x30)  # algorithm
    _, start, end = _der(tbs, pos, 0x06)
    return tbs[start:end]


def _describe_key(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


def verify_signature(leaf_der: bytes, scheme: int, signature: bytes, data: bytes, *, tls13: bool = True) -> None:
    """Verify ``signature`` over ``data`` with the leaf certificate's key under ``scheme``.

    Args:
        tls13: apply TLS 1.3's rules (ECDSA schemes bound to their curve; no PKCS#1 v1.5,
            no SHA-1). False gives the TLS 1.2 reading, for ServerKeyExchange.

    Raises:
        HandshakeVerifyError: bad signature, unknown or disallowed scheme, key type
            mismatch, or a leaf certificate that cannot be read.
    """
    _verify("signature", leaf_der, scheme, signature, data, tls13)


def verify_certificate_verify(
    leaf_der: bytes, scheme: int, signature: bytes, transcript_hash: bytes, *, server: bool = True
) -> None:
    """Verify a TLS 1.3 CertificateVerify (RFC 8446 §4.4.3).

    Args:
        transcript_hash: Transcript-Hash(ClientHello..Certificate).
        server: True for the server's CertificateVerify, False for a client's.

    Raises:
        HandshakeVerifyError: see ``verify_signature``; the reason names the scheme.
    """
    context = b"TLS 1.3, server CertificateVerify" if server else b"TLS 1.3, client CertificateVerify"
    content = b" " * 64 + context + b"\x00" + bytes(transcript_hash)
    _verify("CertificateVerify", leaf_der, scheme, signature, content, True)


def _verify(what: str, leaf_der: bytes, scheme: int, signature: bytes, data: bytes, tls13: bool) -> None:
    info = _SCHEMES.get(scheme)
    label = f"{what}: {info.name if info else 'unknown scheme'} (0x{scheme:04x})"
    if info is None or (tls13 and not info.tls13):
        raise HandshakeVerifyError(f"{label} is not supported here")
    from cryptography import x509  # imported here: a failed probe never needs it (import costs ~18 ms)

    try:
        cert = x509.load_der_x509_certificate(bytes(leaf_der))
        key = cert.public_key()
        spki_oid = _spki_algorithm(cert)
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion):
        raise HandshakeVerifyError(f"{label}: cannot read the leaf certificate's public key") from None
    if not _key_fits(info, key, spki_oid, tls13):
        raise HandshakeVerifyError(f"{label} does not fit the certificate's {_describe_key(key)} key")
    sig, msg = bytes(signature), bytes(data)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and info.hash_algorithm is not None:
            key.verify(sig, msg, ec.ECDSA(info.hash_algorithm()))
        elif isinstance(key, rsa.RSAPublicKey) and info.hash_algorithm is not None:
            algorithm = info.hash_algorithm()
            if info.kind == "pkcs1":
                key.verify(sig, msg, padding.PKCS1v15(), algorithm)
            else:  # RFC 8446 §4.2.3: salt length equal to the digest length
                pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
                key.verify(sig, msg, pss, algorithm)
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(sig, msg)
        else:  # pragma: no cover - _key_fits() admits nothing else
            raise HandshakeVerifyError(f"{label}: no verifier for this key")
    except (InvalidSignature, ValueError):
        raise HandshakeVerifyError(f"{label} signature does not verify") from None


def _key_fits(info: _Scheme, key: object, spki_oid: bytes, tls13: bool) -> bool:
    if info.kind == "ecdsa":
        return isinstance(key, ec.EllipticCurvePublicKey) and (not tls13 or key.curve.name == info.curve)
    if info.kind in ("rsae", "pkcs1"):  # §4.2.3: rsae keys use the rsaEncryption OID,
        return isinstance(key, rsa.RSAPublicKey) and spki_oid == _OID_RSA_ENCRYPTION
    if info.kind == "pss":  # pss keys the RSASSA-PSS OID
        return isinstance(key, rsa.RSAPublicKey) and spki_oid == _OID_RSASSA_PSS
    if info.kind == "ed25519":
        return isinstance(key, ed25519.Ed25519PublicKey)
    return info.kind == "ed448" and isinstance(key, ed448.Ed448PublicKey)
