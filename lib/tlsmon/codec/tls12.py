"""TLS 1.2 record decryption for a passive observer that holds the master secret.

With an NSS key log line ``CLIENT_RANDOM <client_random> <master_secret>`` a reader can
derive the record keys (RFC 5246 §6.3) and open AEAD records: AES-GCM (RFC 5288) and
ChaCha20-Poly1305 (RFC 7905). That is enough to read what a server sends inside a
renegotiation, e.g. its CertificateRequest. CBC suites are not supported (they are
reported as undecryptable). Pure functions; no I/O.
"""

from __future__ import annotations

import hmac
from typing import Callable, Optional

from ..errors import DecodeError, DecryptError
from ..frozen import frozen

__all__ = ["Tls12Aead", "prf", "aead_for_suite", "Tls12RecordProtection"]


@frozen
class Tls12Aead:
    """How one TLS 1.2 AEAD suite protects records.

    Attributes:
        hash_name: the PRF hash (``sha256`` or ``sha384``).
        key_len: cipher key length.
        fixed_iv_len: implicit IV bytes from the key block (4 for GCM, 12 for ChaCha20).
        explicit_nonce_len: nonce bytes sent in each record (8 for GCM, 0 for ChaCha20).
        kind: ``gcm`` or ``chacha``.
    """

    hash_name: str
    key_len: int
    fixed_iv_len: int
    explicit_nonce_len: int
    kind: str


_GCM128 = Tls12Aead("sha256", 16, 4, 8, "gcm")
_GCM256 = Tls12Aead("sha384", 32, 4, 8, "gcm")
_CHACHA = Tls12Aead("sha256", 32, 12, 0, "chacha")

# RFC 5288 / RFC 5289 / RFC 7905 suites with AEAD record protection.
_SUITES = {
    0x009C: _GCM128, 0x009D: _GCM256,  # RSA
    0x009E: _GCM128, 0x009F: _GCM256,  # DHE_RSA
    0x00A2: _GCM128, 0x00A3: _GCM256,  # DHE_DSS
    0xC02B: _GCM128, 0xC02C: _GCM256,  # ECDHE_ECDSA
    0xC02F: _GCM128, 0xC030: _GCM256,  # ECDHE_RSA
    0xC02D: _GCM128, 0xC02E: _GCM256,  # ECDH_ECDSA
    0xC031: _GCM128, 0xC032: _GCM256,  # ECDH_RSA
    0xCCA8: _CHACHA, 0xCCA9: _CHACHA, 0xCCAA: _CHACHA,  # ECDHE_RSA, ECDHE_ECDSA, DHE_RSA
}


def aead_for_suite(suite: int) -> Optional[Tls12Aead]:
    """The AEAD parameters of a TLS 1.2 suite, None when it is not an AEAD suite we read."""
    return _SUITES.get(suite)


def prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 §5: PRF(secret, label, seed) = P_hash(secret, label + seed)."""
    out = bytearray()
    seed = label + seed
    a = seed
    while len(out) < length:
        a = hmac.new(secret, a, hash_name).digest()
        out += hmac.new(secret, a + seed, hash_name).digest()
    return bytes(out[:length])


def _aead(kind: str, key: bytes) -> Callable[[bytes, bytes, bytes], bytes]:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

    cipher = AESGCM(key) if kind == "gcm" else ChaCha20Poly1305(key)

    def open_(nonce: bytes, data: bytes, aad: bytes) -> bytes:
        try:
            return cipher.decrypt(nonce, data, aad)
        except InvalidTag:
            raise DecryptError("TLS 1.2 record: authentication tag does not verify") from None

    return open_


class Tls12RecordProtection:
    """Opens the records of one direction of one TLS 1.2 epoch (after its ChangeCipherSpec).

    Args:
        suite: the negotiated cipher suite (must be an AEAD suite, see ``aead_for_suite``).
        master_secret: 48 bytes from the key log.
        client_random, server_random: from this handshake's hellos.
        server: True for the server-to-client direction.
    """

    def __init__(self, suite: int, master_secret: bytes, client_random: bytes, server_random: bytes,
                 *, server: bool) -> None:
        params = aead_for_suite(suite)
        if params is None:
            raise DecryptError(f"TLS 1.2 suite 0x{suite:04x} is not an AEAD suite tlsmon decrypts")
        # RFC 5246 §6.3: key_block = PRF(master, "key expansion", server_random + client_random)
        n = 2 * params.key_len + 2 * params.fixed_iv_len
        block = prf(params.hash_name, master_secret, b"key expansion", server_random + client_random, n)
        ck, sk = block[: params.key_len], block[params.key_len : 2 * params.key_len]
        ivs = block[2 * params.key_len :]
        civ, siv = ivs[: params.fixed_iv_len], ivs[params.fixed_iv_len :]
        self._params = params
        self._key, self._iv = (sk, siv) if server else (ck, civ)
        self._open = _aead(params.kind, self._key)
        self._seq = 0

    def decrypt(self, content_type: int, version: int, fragment: bytes) -> bytes:
        """The plaintext of one record (RFC 5246 §6.2.3.3); raises DecryptError or DecodeError."""
        p = self._params
        if len(fragment) < p.explicit_nonce_len + 16:
            raise DecodeError("TLS 1.2 record", 0, "shorter than nonce and tag")
        seq = self._seq.to_bytes(8, "big")
        if p.kind == "gcm":
            nonce = self._iv + fragment[:8]
            body = fragment[8:]
        else:
            padded = bytes(4) + seq
            nonce = bytes(a ^ b for a, b in zip(self._iv, padded))
            body = fragment
        plain_len = len(body) - 16
        aad = seq + bytes((content_type, version >> 8, version & 0xFF)) + plain_len.to_bytes(2, "big")
        plaintext = self._open(nonce, body, aad)
        self._seq += 1
        return plaintext
