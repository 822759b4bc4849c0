"""TLS 1.3 record protection: AEAD protect and unprotect of records (RFC 8446 §5.2-5.4).

One ``RecordProtection`` per direction and key epoch, built from a traffic secret (our
own key schedule's, or one read from an SSLKEYLOGFILE). No I/O; splitting the stream
into records is ``records.py``'s job. A record whose tag fails raises ``DecryptError``:
unauthenticated plaintext is never returned.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag

from ..errors import CodecError, DecodeError, DecryptError, LimitExceeded
from .keyschedule import Tls13Suite, next_application_secret, traffic_key_iv
from .wire import Buffer

__all__ = ["RecordProtection", "MAX_PLAINTEXT", "MAX_CIPHERTEXT"]

MAX_PLAINTEXT = 1 << 14  # §5.1: TLSPlaintext.length
MAX_CIPHERTEXT = (1 << 14) + 256  # §5.2: TLSCiphertext.length
_HEADER_LEN = 5
_APPLICATION_DATA = 23  # §5.2: the opaque_type of every protected record
_MAX_SEQUENCE = (1 << 64) - 1  # §5.3: never wraps; a KeyUpdate or a new connection is needed


class RecordProtection:
    """AEAD state for one direction: key, static IV and the 64-bit sequence number.

    Attributes:
        suite: the cipher suite whose AEAD protects the records.
    """

    def __init__(self, suite: Tls13Suite, traffic_secret: bytes, *, sequence_number: int = 0) -> None:
        self.suite = suite
        self._set_secret(bytes(traffic_secret))
        self._seq = sequence_number

    def _set_secret(self, secret: bytes) -> None:
        self._secret = secret
        key, self._iv = traffic_key_iv(self.suite, secret)
        self._aead = self.suite.aead(key)

    @property
    def sequence_number(self) -> int:
        """The sequence number of the next record."""
        return self._seq

    @property
    def traffic_secret(self) -> bytes:
        return self._secret

    def _nonce(self) -> bytes:
        # §5.3: the sequence number, left-padded to iv_length, XORed with the static IV
        padded = self._seq.to_bytes(len(self._iv), "big")
        return bytes(a ^ b for a, b in zip(self._iv, padded))

    def key_update(self) -> None:
        """Move to the next application traffic secret (RFC 8446 §7.2); the sequence restarts at 0."""
        self._set_secret(next_application_secret(self.suite, self._secret))
        self._seq = 0

    def decrypt(self, header: Buffer, encrypted_record: Buffer) -> tuple[int, bytes]:
        """Unprotect one record.

        Args:
            header: the 5-byte record header (type 23, legacy version, length); it is the AAD.
            encrypted_record: the record's encrypted_record field (ciphertext and tag).

        Returns:
            (inner content type, content) with the zero padding removed.

        Raises:
            DecodeError: a header that is not a protected record's, or a ciphertext longer
                than 2^14+256 bytes or shorter than the tag.
            DecryptError: the tag does not verify, or the authenticated inner plaintext
                holds no content type (all zeros).
        """
        aad, ciphertext = bytes(header), bytes(encrypted_record)
        if len(aad) != _HEADER_LEN or aad[0] != _APPLICATION_DATA:
            raise DecodeError("protected record", 0, "header is not a 5-byte application_data(23) header")
        if int.from_bytes(aad[3:5], "big") != len(ciphertext):
            raise DecodeError("protected record", 3, f"header length is not the {len(ciphertext)} bytes given")
        if len(ciphertext) > MAX_CIPHERTEXT:
            raise LimitExceeded("protected record", 3, f"{len(ciphertext)} bytes is over 2^14+256 (record_overflow)")
        if len(ciphertext) < self.suite.tag_len:
            raise DecodeError("protected record", 3, f"{len(ciphertext)} bytes is shorter than the tag")
        if self._seq > _MAX_SEQUENCE:
            raise DecryptError("protected record: sequence number exhausted without a KeyUpdate")
        try:
            inner = self._aead.decrypt(self._nonce(), ciphertext, aad)
        except InvalidTag:
            raise DecryptError(f"record {self._seq}: authentication tag does not verify (bad_record_mac)") from None
        self._seq += 1
        # §5.4: the content type is the last non-zero byte; padding is zeros
        content = inner.rstrip(b"\x00")
        if not content:
            raise DecryptError(f"record {self._seq - 1}: inner plaintext is all zeros, no content type")
        if len(content) > MAX_PLAINTEXT + 1:
            raise LimitExceeded("protected record", _HEADER_LEN, "inner plaintext over 2^14 bytes (record_overflow)")
        return content[-1], content[:-1]

    def encrypt(self, content_type: int, plaintext: Buffer, padding: int = 0) -> bytes:
        """Protect ``plaintext`` as one record of ``content_type`` with ``padding`` zero bytes.

        Returns:
            The whole record: header 0x17 0x03 0x03 length, then ciphertext and tag.

        Raises:
            ValueError: a content type outside 1..255, negative padding, or more than
                2^14 bytes of content plus padding (fragmenting is the caller's job).
            CodecError: the sequence number is exhausted.
        """
        if not 0 < content_type < 256 or padding < 0:
            raise ValueError("protect: content type must be 1..255 and padding non-negative")
        inner = bytes(plaintext) + bytes([content_type]) + bytes(padding)
        if len(inner) > MAX_PLAINTEXT + 1:
            raise ValueError(f"protect: {len(inner) - 1} bytes of content and padding is over 2^14")
        if self._seq > _MAX_SEQUENCE:
            raise CodecError("protect: sequence number exhausted without a KeyUpdate")
        header = bytes([_APPLICATION_DATA, 3, 3]) + (len(inner) + self.suite.tag_len).to_bytes(2, "big")
        record = header + self._aead.encrypt(self._nonce(), inner, header)
        self._seq += 1
        return record
