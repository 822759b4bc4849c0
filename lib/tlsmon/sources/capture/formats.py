"""Sniff a capture's format from its magic number, and read its frames.

The format is told by the first bytes, never by the file name: pcap (µs or ns, either byte
order), pcapng, Network Monitor 1.x/2.x, each possibly gzip-compressed. A path, a file or a
pipe is read once, front to back; the bytes read to sniff the magic are put back in front of
the stream, so nothing needs to seek (except Network Monitor files, whose frame table is at
the end: from a pipe, a gzip file or an unbuffered raw file they are buffered in memory, up
to MAX_BUFFERED_NETMON bytes).
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from typing import IO, Any, Iterator, Optional, Tuple, TypeVar, Union

from ...errors import CaptureError, CorruptCapture, TruncatedCapture, UnknownCaptureFormat
from .frames import Frame
from .netmon import NetmonReader
from .pcap import FrameReader, PcapReader, Record
from .pcapng import PcapngReader

__all__ = ["sniff", "read_frames", "CaptureReader", "Source", "FORMATS", "MAX_BUFFERED_NETMON"]

Source = Union[str, "os.PathLike[str]", IO[bytes]]
_T = TypeVar("_T")

FORMATS = ("pcap", "pcap-ns", "pcapng", "netmon1", "netmon2", "gzip")

# A Network Monitor capture from a pipe or inside gzip is read into memory first, up to this.
MAX_BUFFERED_NETMON = 64 * 1024 * 1024

_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "pcap",  # 0xA1B2C3D4, little-endian
    b"\xa1\xb2\xc3\xd4": "pcap",
    b"\x4d\x3c\xb2\xa1": "pcap-ns",  # 0xA1B23C4D
    b"\xa1\xb2\x3c\x4d": "pcap-ns",
    b"\x0a\x0d\x0d\x0a": "pcapng",  # Section Header Block type
    b"RTSS": "netmon1",
    b"GMBU": "netmon2",
}
# Formats we recognise but do not read, to say more than "unknown".
_OTHERS = {
    b"\x34\xcd\xb2\xa1": "a modified (Kuznetsov) pcap file, which is not supported",
    b"\xa1\xb2\xcd\x34": "a modified (Kuznetsov) pcap file, which is not supported",
    b"BZh": "bzip2-compressed: decompress it first",
    b"\xfd7zX": "xz-compressed: decompress it first",
    b"\x28\xb5\x2f\xfd": "zstd-compressed: decompress it first",
    b"PK\x03\x04": "a zip archive: extract the capture first",
}


def sniff(first_bytes: bytes) -> str:
    """Name the format whose magic number `first_bytes` (at least 4 bytes, if the file has them) start with.

    Returns:
        one of FORMATS.

    Raises:
        UnknownCaptureFormat: no format we read starts so; the one-line message shows the bytes.
    """
    head = bytes(first_bytes[:4])
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    name = _MAGICS.get(head)
    if name is not None:
        return name
    for magic, what in _OTHERS.items():
        if head.startswith(magic):
            raise UnknownCaptureFormat(f"not a capture file we read: {what}")
    if not head:
        raise UnknownCaptureFormat("not a capture file: it is empty")
    text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in head)
    size = f" (only {len(head)} bytes)" if len(head) < 4 else ""
    raise UnknownCaptureFormat(f"not a capture file: starts with {head.hex(' ')} ({text!r}){size}")


def read_frames(source: Source, *, allow_truncated_tail: bool = False) -> Iterator[Frame]:
    """The frames of a capture, in file order, numbered from 1.

    Args:
        source: a path, or a binary file object (a pipe or stdin too).
        allow_truncated_tail: end quietly at a record cut short by the end of the data.

    Raises:
        UnknownCaptureFormat, CorruptCapture, TruncatedCapture (all CaptureError): as
        CaptureReader; the file is opened on the first next().
    """
    with CaptureReader(source, allow_truncated_tail=allow_truncated_tail) as reader:
        yield from reader


class CaptureReader:
    """A capture file or stream: its format, then its frames (iterated once), then what was seen.

    Args:
        source: a path (opened here, closed when the frames end or on close()), or a binary
            file object (left open; read from its current position).
        allow_truncated_tail: a record cut short by the end of the data (or a gzip stream
            without its end) ends the frames and sets ``truncated_tail``, instead of raising.
        first_number: frames are numbered from this + 1 (a series of files numbered as one).

    Attributes:
        format: the capture's format ("pcap", "pcap-ns", "pcapng", "netmon1", "netmon2").
        compressed: the capture was gzip-compressed.
        name: the path, or the file object's name, for messages.

    Raises (on construction or while iterating):
        CaptureError: the file cannot be opened or read (a Network Monitor stream too large to buffer).
        UnknownCaptureFormat: the first bytes name no format we read.
        CorruptCapture: a malformed header, record or block (an impossible length...).
        TruncatedCapture: the data ends inside a record (unless allow_truncated_tail).
    """

    def __init__(self, source: Source, *, allow_truncated_tail: bool = False, first_number: int = 0) -> None:
        self.allow_truncated_tail = allow_truncated_tail
        self.compressed = False
        self._opened: Optional[IO[bytes]] = None
        self._gzip: Optional[_Prefixed] = None
        if isinstance(source, (str, os.PathLike)):
            self.name = os.fsdecode(source)
            try:
                self._opened = open(source, "rb")
            except OSError as exc:
                raise CaptureError(f"cannot open {self.name!r}: {exc.strerror or exc}") from exc
            file: IO[bytes] = self._opened
        else:
            self.name = str(getattr(source, "name", "<stream>"))
            file = source
        try:
            self._reader = self._open(file)
        except BaseException:
            self.close()
            raise
        self.format = self._reader.format
        self._reader.first_number = first_number
        self._frames = self._iterate(iter(self._reader))

    @property
    def frames_read(self) -> int:
        return self._reader.frames_read

    @property
    def last_number(self) -> int:
        """The number of the last frame read (``first_number`` before the first)."""
        return self._reader.last_number

    @property
    def truncated_tail(self) -> bool:
        return self._reader.truncated_tail

    @property
    def link_types(self) -> Tuple[int, ...]:
        """The distinct link types declared so far (pcapng interfaces; NetMon 2.1+ frames), in order."""
        return self._reader.link_types

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def records(self, block: int = 128 * 1024) -> Iterator[Record]:
        """The frames as ``FrameReader.records`` gives them (no ``Frame``, no copy of their bytes),
        read ahead ``block`` bytes at a time where the format allows. Iterate either this or
        the reader itself, once; the file is closed with the reader (``close()``, or the end
        of a ``with`` block), not at the last record."""
        if self._gzip is None:
            return self._reader.records(block)  # the reader's own generator: one resumption a record
        return self._iterate(self._reader.records(block))

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the file if this reader opened it."""
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def _iterate(self, items: Iterator[_T]) -> Iterator[_T]:
        try:
            yield from items
            if self._gzip is not None and self._gzip.cut_short and not self.truncated_tail:
                # every record was whole, but the gzip stream stops before its end marker
                if not self.allow_truncated_tail:
                    raise TruncatedCapture("truncated gzip stream: it ends before its end marker")
                self._reader.truncated_tail = True
        finally:
            self.close()

    def _open(self, file: IO[bytes]) -> FrameReader:
        """Sniff the format (through gzip if need be) and return the reader for it."""
        seekable = getattr(file, "seekable", None)  # any object with read() will do
        start = file.tell() if seekable is not None and seekable() else None
        head = _read_upto(file.read, 4)
        kind = sniff(head)
        if kind == "gzip":
            self.compressed = True
            if start is not None:
                file.seek(start)
                inner = gzip.GzipFile(fileobj=file, mode="rb")
            else:
                inner = gzip.GzipFile(fileobj=_buffered(_Prefixed(file, head)), mode="rb")
            self._gzip = _Prefixed(inner, b"", guard_gzip=True)
            head = _read_upto(self._gzip.read, 4)
            if len(head) < 4 and self._gzip.cut_short:
                raise TruncatedCapture("truncated gzip stream: it ends before the capture's first 4 bytes")
            kind = sniff(head)
            if kind == "gzip":
                raise UnknownCaptureFormat("not a capture file we read: gzip inside gzip")
            self._gzip.push_back(head)
            stream: IO[bytes] = _buffered(self._gzip)
            start = None
        elif start is not None and isinstance(file, io.BufferedIOBase):
            file.seek(start)
            stream = file
        else:
            stream = _buffered(_Prefixed(file, head))
            start = None
        if kind in ("pcap", "pcap-ns"):
            return PcapReader(stream, allow_truncated_tail=self.allow_truncated_tail)
        if kind == "pcapng":
            return PcapngReader(stream, allow_truncated_tail=self.allow_truncated_tail)
        if start is None:  # Network Monitor from a pipe or gzip: buffer it, within bounds
            return NetmonReader(_buffer_netmon(stream), allow_truncated_tail=self.allow_truncated_tail)
        return NetmonReader(stream, base=start, allow_truncated_tail=self.allow_truncated_tail)


def _buffer_netmon(stream: IO[bytes]) -> IO[bytes]:
    """All of `stream` in memory, read a chunk at a time, if it is at most MAX_BUFFERED_NETMON bytes."""
    buffer = io.BytesIO()
    while buffer.tell() <= MAX_BUFFERED_NETMON:
        chunk = stream.read(1 << 20)
        if not chunk:
            buffer.seek(0)
            return buffer
        buffer.write(chunk)
    raise CaptureError(
        f"a Network Monitor capture keeps its frame table at its end: read one larger than"
        f" {MAX_BUFFERED_NETMON >> 20} MiB from an uncompressed file, not from a pipe or gzip"
    )


def _read_upto(read: Any, n: int) -> bytes:
    """Up to `n` bytes: fewer only at the end of the data (raw reads may return less)."""
    data = b""
    while len(data) < n:
        more = read(n - len(data))
        if not more:
            break
        data += more
    return data


def _buffered(raw: io.RawIOBase) -> IO[bytes]:
    return io.BufferedReader(raw, buffer_size=256 * 1024)


class _Prefixed(io.RawIOBase):
    """A raw stream: `prefix`, then the rest of `file` (the magic we read to sniff, put back).

    Over a GzipFile (guard_gzip), turns gzip's errors into ours: a stream that stops before
    its end marker reads as an end of data and sets ``cut_short``; bad data is CorruptCapture.
    """

    def __init__(self, file: Any, prefix: bytes, guard_gzip: bool = False) -> None:
        super().__init__()
        # read1: whatever is there (one underlying read), so that a pipe delivers frames as
        # they come, and gzip's EOFError at a cut never takes down data decompressed with it
        self._read = getattr(file, "read1", file.read)
        self._prefix = prefix
        self._guard = guard_gzip
        self.cut_short = False

    def push_back(self, data: bytes) -> None:
        self._prefix = data + self._prefix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        try:
            data = self._read(len(buffer))
        except EOFError:  # gzip: "Compressed file ended before the end-of-stream marker was reached"
            if not self._guard:
                raise
            self.cut_short = True
            return 0
        except (gzip.BadGzipFile, zlib.error) as exc:
            if not self._guard:
                raise
            raise CorruptCapture(f"corrupt gzip data: {exc}") from exc
        n = len(data)
        buffer[:n] = data
        return n
