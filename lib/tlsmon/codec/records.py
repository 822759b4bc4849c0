"""Split a byte stream into TLS records and records into handshake messages.

Sans-I/O: ``receive_data()`` takes bytes, ``next_record()`` returns a ``Record`` or
``NEED_DATA``. Every declared length is checked against a limit before anything is
buffered for it, so a 16 MB handshake length is rejected, not allocated.
"""

from __future__ import annotations

from typing import Union

from ..errors import DecodeError, LimitExceeded
from ..frozen import frozen

__all__ = [
    "NEED_DATA",
    "NeedData",
    "Record",
    "RecordReader",
    "HandshakeReassembler",
    "build_record",
    "SSL2_CLIENT_HELLO",
    "MAX_CIPHERTEXT",
    "MAX_PLAINTEXT",
    "DEFAULT_MAX_HANDSHAKE",
]

# RFC 8446 §5.1/§5.2, RFC 5246 §6.2.3: 2^14 plaintext, up to 2^14 + 2048 ciphertext.
MAX_PLAINTEXT = 2**14
MAX_CIPHERTEXT = 2**14 + 2048
# Handshake messages larger than this are refused (certificate chains beyond it are not real).
DEFAULT_MAX_HANDSHAKE = 256 * 1024
# Pseudo content type for an SSLv2-compatible ClientHello (not an IANA value).
SSL2_CLIENT_HELLO = 0x100

_CONTENT_TYPES = frozenset((20, 21, 22, 23, 24))


class NeedData:
    """Sentinel type: more bytes are needed before anything can be returned."""

    _instance: NeedData | None = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()


@frozen
class Record:
    """One TLS record as on the wire.

    Attributes:
        content_type: raw content type (or SSL2_CLIENT_HELLO for an SSLv2 hello).
        version: legacy record version.
        fragment: the record payload (ciphertext when protected).
        offset: byte offset of the record header in its stream.
    """

    content_type: int
    version: int
    fragment: bytes
    offset: int = 0

    @property
    def header(self) -> bytes:
        """The 5-byte header, used as AAD by TLS 1.3 record protection."""
        return bytes((self.content_type & 0xFF, self.version >> 8, self.version & 0xFF)) + len(
            self.fragment
        ).to_bytes(2, "big")


def build_record(content_type: int, fragment: bytes, version: int = 0x0303) -> bytes:
    """Frame ``fragment`` as one record; RFC 5246 §6.2.1 TLSPlaintext."""
    if len(fragment) > MAX_CIPHERTEXT:
        raise ValueError("record fragment too long")
    return bytes((content_type, version >> 8, version & 0xFF)) + len(fragment).to_bytes(2, "big") + fragment


class RecordReader:
    """Incremental record splitter for one direction of a connection."""

    def __init__(self, *, allow_sslv2: bool = True, max_fragment: int = MAX_CIPHERTEXT) -> None:
        self._buf = bytearray()
        self._consumed = 0  # stream offset of _buf[0]
        self._first = allow_sslv2
        self._max = max_fragment

    @property
    def buffered(self) -> int:
        return len(self._buf)

    @property
    def stream_offset(self) -> int:
        """Offset in the stream of the next unread byte."""
        return self._consumed

    def receive_data(self, data: bytes) -> None:
        self._buf += data

    def peek(self, n: int) -> bytes:
        """The next ``n`` buffered bytes, without consuming them."""
        return bytes(self._buf[:n])

    def partial_fragment(self, content_type: int, limit: int = 4) -> bytes:
        """The first ``limit`` bytes of an incomplete record of ``content_type`` (else b"").

        Lets a reader look at a handshake header before the whole record has arrived,
        so that an absurd declared length is refused at once, not after a trickle.
        """
        if len(self._buf) > 5 and self._buf[0] == content_type and not self._first:
            return bytes(self._buf[5 : 5 + limit])
        return b""

    def next_record(self) -> Union[Record, NeedData]:
        buf = self._buf
        if self._first and buf:
            if buf[0] & 0x80:
                return self._sslv2()
            if len(buf) >= 1:
                self._first = False
        if len(buf) < 5:
            if buf and buf[0] not in _CONTENT_TYPES:
                raise DecodeError("record", self._consumed, f"content type {buf[0]} is not TLS")
            return NEED_DATA
        ctype = buf[0]
        version = (buf[1] << 8) | buf[2]
        length = (buf[3] << 8) | buf[4]
        if ctype not in _CONTENT_TYPES:
            raise DecodeError("record", self._consumed, f"content type {ctype} is not TLS")
        if buf[1] != 3:
            raise DecodeError("record", self._consumed, f"record version 0x{version:04x} is not TLS")
        if length > self._max:
            raise LimitExceeded("record", self._consumed, f"length {length} over {self._max}")
        if len(buf) < 5 + length:
            return NEED_DATA
        rec = Record(ctype, version, bytes(buf[5 : 5 + length]), self._consumed)
        del buf[: 5 + length]
        self._consumed += 5 + length
        return rec

    def _sslv2(self) -> Union[Record, NeedData]:
        # SSL 2.0 §"Record Header": 2-byte header, high bit set, 15-bit length; the
        # message must be a CLIENT-HELLO (type 1) to be an SSLv2-compatible hello.
        buf = self._buf
        if len(buf) < 3:
            return NEED_DATA
        length = ((buf[0] & 0x7F) << 8) | buf[1]
        if buf[2] != 1:
            raise DecodeError("record", self._consumed, "SSLv2 header without CLIENT-HELLO")
        if length < 9:
            raise DecodeError("record", self._consumed, "SSLv2 CLIENT-HELLO too short")
        if len(buf) < 2 + length:
            return NEED_DATA
        rec = Record(SSL2_CLIENT_HELLO, 0x0002, bytes(buf[2 : 2 + length]), self._consumed)
        del buf[: 2 + length]
        self._consumed += 2 + length
        self._first = False
        return rec


class HandshakeReassembler:
    """Joins handshake-record fragments into whole messages (RFC 8446 §5.1).

    A message may span records, and one record may carry several messages.
    ``next_message()`` returns ``(msg_type, body, raw)`` where ``raw`` includes
    the 4-byte header (needed for transcript hashes), or ``NEED_DATA``.
    """

    def __init__(self, max_message: int = DEFAULT_MAX_HANDSHAKE) -> None:
        self._buf = bytearray()
        self._max = max_message
        self._offset = 0

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete."""
        return len(self._buf)

    def receive_fragment(self, fragment: bytes) -> None:
        self._buf += fragment
        if len(self._buf) >= 4:
            self._check_header()

    def _check_header(self) -> None:
        length = int.from_bytes(self._buf[1:4], "big")
        if length > self._max:
            raise LimitExceeded(
                "handshake", self._offset, f"message type {self._buf[0]} declares {length} bytes, limit {self._max}"
            )

    def check_prefix(self, more: bytes) -> None:
        """Check the declared length of the message that ``more`` would continue.

        Raises:
            LimitExceeded: the header (pending bytes + ``more``) declares too long a message.
        """
        head = bytes(self._buf[:4]) + more[: max(0, 4 - len(self._buf))]
        if len(head) >= 4 and int.from_bytes(head[1:4], "big") > self._max:
            length = int.from_bytes(head[1:4], "big")
            raise LimitExceeded("handshake", self._offset, f"message type {head[0]} declares {length} bytes, "
                                f"limit {self._max}")

    def next_message(self) -> Union[tuple[int, bytes, bytes], NeedData]:
        buf = self._buf
        if len(buf) < 4:
            return NEED_DATA
        self._check_header()
        length = int.from_bytes(buf[1:4], "big")
        if len(buf) < 4 + length:
            return NEED_DATA
        raw = bytes(buf[: 4 + length])
        del buf[: 4 + length]
        self._offset += 4 + length
        return raw[0], raw[4:], raw
