"""Split a byte stream into TLS records and records into handshake messages.

Sans-I/O: ``receive_data()`` takes bytes, ``next_record()`` returns a ``Record`` or
``NEED_DATA``. Every declared length is checked against a limit before anything is
buffered for it, so a 16 MB handshake length is rejected, not allocated. Whole records
(and whole messages) are read where they arrived; only a partial one is buffered.
"""

from __future__ import annotations

from typing import NoReturn, Optional, Union

from ..errors import DecodeError, LimitExceeded
from ..frozen import frozen
from .wire import Buffer

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


def _joined(buf: Union[bytes, bytearray], pos: int, data: Buffer) -> Union[bytes, bytearray]:
    """The unread ``buf[pos:]`` followed by ``data``, copying as little as possible.

    A stream read a whole record (or message) at a time never copies into a buffer: the
    new bytes are kept as they came, and read by position. Only a partial remainder is
    moved into a bytearray, which grows in place (no quadratic copying on a trickle).
    """
    if pos >= len(buf):
        return data if type(data) is bytes else bytes(data)
    if isinstance(buf, bytearray):
        if pos:
            del buf[:pos]
    else:
        buf = bytearray(memoryview(buf)[pos:])
    buf += data
    return buf


class RecordReader:
    """Incremental record splitter for one direction of a connection."""

    def __init__(self, *, allow_sslv2: bool = True, max_fragment: int = MAX_CIPHERTEXT) -> None:
        self._buf: Union[bytes, bytearray] = b""
        self._pos = 0  # the next unread byte of _buf
        self._consumed = 0  # stream offset of _buf[_pos]
        self._first = allow_sslv2
        self._max = max_fragment

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._pos

    @property
    def stream_offset(self) -> int:
        """Offset in the stream of the next unread byte."""
        return self._consumed

    def receive_data(self, data: Buffer) -> None:
        self._buf, self._pos = _joined(self._buf, self._pos, data), 0

    def framed(self, length: int) -> int:
        """A whole record of ``length`` payload bytes that the caller framed and reads itself
        went by (nothing may be buffered here): count it; returns its stream offset."""
        self._first = False
        offset = self._consumed
        self._consumed = offset + 5 + length
        return offset

    def peek(self, n: int) -> bytes:
        """The next ``n`` buffered bytes, without consuming them."""
        return bytes(self._buf[self._pos : self._pos + n])

    def partial_fragment(self, content_type: int, limit: int = 4) -> bytes:
        """The first ``limit`` bytes of an incomplete record of ``content_type`` (else b"").

        Lets a reader look at a handshake header before the whole record has arrived,
        so that an absurd declared length is refused at once, not after a trickle.
        """
        buf, pos = self._buf, self._pos
        if len(buf) - pos > 5 and buf[pos] == content_type and not self._first:
            return bytes(buf[pos + 5 : pos + 5 + limit])
        return b""

    def next_record(self) -> Union[Record, NeedData]:
        parts = self.next_record_parts()
        if parts is None:
            return NEED_DATA
        return Record(*parts)

    def next_record_parts(self) -> Optional[tuple[int, int, bytes, int]]:
        """``next_record()`` without the Record: ``(content_type, version, fragment, offset)`` or None."""
        buf, pos = self._buf, self._pos
        have = len(buf) - pos
        header = 5
        if self._first and have and buf[pos] & 0x80:
            header, ctype, version = 2, SSL2_CLIENT_HELLO, 0x0002
            length = self._sslv2_length()
            if length < 0:
                return None
        else:
            if self._first and have:
                self._first = False
            if have < 5:
                if have and buf[pos] not in _CONTENT_TYPES:
                    raise DecodeError("record", self._consumed, f"content type {buf[pos]} is not TLS")
                return None
            ctype = buf[pos]
            version = (buf[pos + 1] << 8) | buf[pos + 2]
            length = (buf[pos + 3] << 8) | buf[pos + 4]
            if ctype not in _CONTENT_TYPES:
                raise DecodeError("record", self._consumed, f"content type {ctype} is not TLS")
            if buf[pos + 1] != 3:
                raise DecodeError("record", self._consumed, f"record version 0x{version:04x} is not TLS")
            if length > self._max:
                raise LimitExceeded("record", self._consumed, f"length {length} over {self._max}")
        end = pos + header + length
        if len(buf) < end:
            if pos and type(buf) is bytes:
                self._buf, self._pos = buf[pos:], 0  # keep the partial record, not the whole chunk
            return None
        fragment = buf[pos + header : end]
        offset = self._consumed
        self._consumed = offset + header + length
        if end == len(buf):
            self._buf, self._pos = b"", 0  # let go of the chunk
        else:
            self._pos = end
        if header == 2:
            self._first = False
        return ctype, version, fragment if type(fragment) is bytes else bytes(fragment), offset

    def _sslv2_length(self) -> int:
        """The length of the SSLv2 record that starts the buffer; -1 until its 3 first bytes are here."""
        # SSL 2.0 §"Record Header": 2-byte header, high bit set, 15-bit length; the
        # message must be a CLIENT-HELLO (type 1) to be an SSLv2-compatible hello.
        buf, pos = self._buf, self._pos
        if len(buf) - pos < 3:
            return -1
        length = ((buf[pos] & 0x7F) << 8) | buf[pos + 1]
        if buf[pos + 2] != 1:
            raise DecodeError("record", self._consumed, "SSLv2 header without CLIENT-HELLO")
        if length < 9:
            raise DecodeError("record", self._consumed, "SSLv2 CLIENT-HELLO too short")
        return length


class HandshakeReassembler:
    """Joins handshake-record fragments into whole messages (RFC 8446 §5.1).

    A message may span records, and one record may carry several messages.
    ``next_message()`` returns ``(msg_type, body, raw)`` where ``raw`` includes
    the 4-byte header (needed for transcript hashes), or ``NEED_DATA``.
    """

    def __init__(self, max_message: int = DEFAULT_MAX_HANDSHAKE) -> None:
        self._buf: Union[bytes, bytearray] = b""
        self._pos = 0  # the next unread byte of _buf
        self._max = max_message
        self._offset = 0

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete."""
        return len(self._buf) - self._pos

    def receive_fragment(self, fragment: Buffer) -> None:
        buf = self._buf = _joined(self._buf, self._pos, fragment)
        self._pos = 0
        if len(buf) >= 4 and (buf[1] << 16) | (buf[2] << 8) | buf[3] > self._max:
            self._refuse((buf[1] << 16) | (buf[2] << 8) | buf[3])

    def _refuse(self, length: int) -> NoReturn:
        raise LimitExceeded(
            "handshake", self._offset, f"message type {self._buf[self._pos]} declares {length} bytes, limit {self._max}"
        )

    def check_prefix(self, more: bytes) -> None:
        """Check the declared length of the message that ``more`` would continue.

        Raises:
            LimitExceeded: the header (pending bytes + ``more``) declares too long a message.
        """
        pending = self.pending
        if pending < 4 and not more:
            return  # no whole header to check
        head = bytes(self._buf[self._pos : self._pos + 4]) + more[: max(0, 4 - pending)]
        if len(head) >= 4 and int.from_bytes(head[1:4], "big") > self._max:
            length = int.from_bytes(head[1:4], "big")
            raise LimitExceeded("handshake", self._offset, f"message type {head[0]} declares {length} bytes, "
                                f"limit {self._max}")

    def next_message(self) -> Union[tuple[int, bytes, bytes], NeedData]:
        buf, pos = self._buf, self._pos
        item = self.next_body()
        if item is None:
            return NEED_DATA
        return item[0], item[1], bytes(buf[pos : pos + item[2]])

    def next_body(self) -> Optional[tuple[int, bytes, int]]:
        """``next_message()`` without the raw copy: ``(msg_type, body, length with header)`` or None."""
        buf, pos = self._buf, self._pos
        size = len(buf)
        if size - pos < 4:
            return None
        end = pos + 4 + ((buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3])
        if end - pos - 4 > self._max:
            self._refuse(end - pos - 4)
        if size < end:
            return None
        body = buf[pos + 4 : end]
        self._offset += end - pos
        if end == size:
            self._buf, self._pos = b"", 0
        else:
            self._pos = end
        return buf[pos], body if type(body) is bytes else bytes(body), end - pos
