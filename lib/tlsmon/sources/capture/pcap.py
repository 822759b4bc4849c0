"""libpcap capture files: both byte orders, microsecond and nanosecond timestamps.

Also home of ``FrameReader``, the shape every reader shares (counters, the truncated-tail
policy, the per-frame size limit). Readers take an already opened binary stream positioned
at the file's first byte and read it once, front to back; ``formats`` picks the reader.

File format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html
"""

from __future__ import annotations

import struct
from typing import IO, Callable, Iterator, Tuple

from ...errors import CorruptCapture, TruncatedCapture
from .frames import Frame, Payload

__all__ = ["FrameReader", "PcapReader", "MAX_FRAME_LENGTH", "Record"]

# The most bytes of one frame we accept (Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD). A record
# claiming more is corrupt: we never allocate what a header merely declares.
MAX_FRAME_LENGTH = 262144

_MAGIC_USEC = 0xA1B2C3D4
_MAGIC_NSEC = 0xA1B23C4D
_LINKTYPE_MASK = 0x03FFFFFF  # draft-ietf-opsawg-pcap §4: the upper bits carry FCS information
_new_frame = tuple.__new__  # building the NamedTuple directly skips its Python-level __new__
# (number, timestamp, link type, buffer, start, end, original length, interface): see FrameReader.records
Record = Tuple[int, float, int, Payload, int, int, int, int]


class FrameReader:
    """What every reader reports besides its frames.

    Attributes:
        format: the format's short name ("pcap", "pcap-ns", "pcapng", "netmon1", "netmon2").
        frames_read: frames yielded so far (by records(block) with a block: exact at the end of
            each buffer and when the records end).
        truncated_tail: the capture ended inside a record (only with ``allow_truncated_tail``).
        link_types: the distinct link types the capture declared, in order of appearance.
        first_number: frames are numbered from this + 1 (set before iterating: a reader of the
            second file of a series goes on from the first's numbers).
    """

    format = ""

    def __init__(self, allow_truncated_tail: bool) -> None:
        self.allow_truncated_tail = allow_truncated_tail
        self.frames_read = 0
        self.first_number = 0
        self.truncated_tail = False
        self.link_types: Tuple[int, ...] = ()

    @property
    def last_number(self) -> int:
        """The number of the last frame yielded (``first_number`` before the first)."""
        return self.first_number + self.frames_read

    def __iter__(self) -> Iterator[Frame]:
        """The frames, in file order (a reader overrides this or ``records``)."""
        new = _new_frame
        for number, timestamp, link_type, buf, start, end, original, interface in self.records():
            yield new(Frame, (number, timestamp, link_type, buf[start:end], original, interface))

    def records(self, block: int = 0) -> Iterator[Record]:
        """The frames without a ``Frame`` or a copy of their bytes each, for the capture engine's
        packet loop: ``(number, timestamp, link_type, buffer, start, end, original_length,
        interface)``, the frame's bytes being ``buffer[start:end]``.

        Args:
            block: read ahead up to this many bytes at a time (several frames share one
                buffer; the stream's position runs ahead of the frames). 0: read each record
                exactly, so that the stream stands after the last record yielded.
        """
        for f in self:
            yield f[0], f[1], f[2], f[3], 0, len(f[3]), f[4], f[5]

    def _add_link_type(self, link_type: int) -> None:
        if link_type not in self.link_types:
            self.link_types += (link_type,)

    def _truncated(self, what: str, offset: int, got: int, wanted: int) -> None:
        """The data ends inside a record: raise, or note it if a cut tail is allowed."""
        if not self.allow_truncated_tail:
            raise TruncatedCapture(f"truncated {what} at offset {offset}: {got} of {wanted} bytes")
        self.truncated_tail = True


class PcapReader(FrameReader):
    """Frames of a libpcap file.

    Raises (on construction or while iterating):
        CorruptCapture: a bad header, or a record claiming more than MAX_FRAME_LENGTH bytes.
        TruncatedCapture: the file ends inside a record (unless allow_truncated_tail).
    """

    def __init__(self, stream: IO[bytes], *, allow_truncated_tail: bool = False) -> None:
        super().__init__(allow_truncated_tail)
        self._stream = stream
        self._header_ok = False
        header = stream.read(24)
        if len(header) < 24:
            self._truncated("pcap file header", 0, len(header), 24)
            return
        for order in "<>":
            magic, major, minor, _zone, _sigfigs, snaplen, network = struct.unpack(order + "IHHiIII", header)
            if magic in (_MAGIC_USEC, _MAGIC_NSEC):
                break
        else:
            raise CorruptCapture(f"not a pcap file header: magic {header[:4].hex(' ')}")
        if major != 2:
            raise CorruptCapture(f"unsupported pcap version {major}.{minor}")
        self.format = "pcap" if magic == _MAGIC_USEC else "pcap-ns"
        self.byte_order = order
        self.snaplen = snaplen
        self.link_type = network & _LINKTYPE_MASK
        self._add_link_type(self.link_type)
        self._header_ok = True

    def records(self, block: int = 0) -> Iterator[Record]:
        if not self._header_ok:
            return
        stream = self._stream
        read = getattr(stream, "read1", stream.read) if block else stream.read  # read1: a pipe gives what it has
        unpack = struct.Struct(self.byte_order + "IIII").unpack_from
        units = 1_000_000 if self.format == "pcap" else 1_000_000_000
        link_type = self.link_type
        number = first = self.first_number
        buf = b""
        pos = 0
        at = 24  # the file offset of buf[0]
        try:
            while True:
                if block:  # the whole records already in the buffer, in a tight loop
                    size = len(buf)
                    while pos + 16 <= size:
                        seconds, fraction, captured, original = unpack(buf, pos)
                        end = pos + 16 + captured
                        if end > size or captured > MAX_FRAME_LENGTH:
                            break
                        number += 1
                        # int / int is correctly rounded: the float nearest the exact timestamp
                        yield number, (seconds * units + fraction) / units, link_type, buf, pos + 16, end, original, 0
                        pos = end
                # The next record: past the end of the buffer (read on), cut, or corrupt.
                if len(buf) - pos < 16:
                    at += pos
                    buf, pos = _fill(read, buf, pos, 16, block), 0
                    if len(buf) < 16:
                        if buf:
                            self._truncated("pcap record header", at, len(buf), 16)
                        return
                seconds, fraction, captured, original = unpack(buf, pos)
                if captured > MAX_FRAME_LENGTH:
                    raise CorruptCapture(f"pcap record at offset {at + pos} claims {captured} captured bytes"
                                         f" (limit {MAX_FRAME_LENGTH})")
                if block:
                    end = pos + 16 + captured
                    if end > len(buf):
                        at += pos
                        buf, pos = _fill(read, buf, pos, 16 + captured, block), 0
                        end = 16 + captured
                        if end > len(buf):
                            self._truncated("pcap record", at, len(buf), end)
                            return
                    data, start = buf, pos + 16
                else:  # one read per record: its bytes are the buffer
                    data, start, end = read(captured), 0, captured
                    if len(data) != captured:
                        self._truncated("pcap record", at, 16 + len(data), 16 + captured)
                        return
                    at += 16 + captured
                    buf, pos = b"", 0
                number += 1
                self.frames_read = number - first
                yield number, (seconds * units + fraction) / units, link_type, data, start, end, original, 0
                if block:
                    pos = end
        finally:
            self.frames_read = number - first


def _fill(read: Callable[[int], bytes], buf: bytes, pos: int, need: int, block: int) -> bytes:
    """``buf[pos:]`` and what follows in the stream: at least ``need`` bytes, unless the data ends."""
    rest = buf[pos:]
    while len(rest) < need:
        more = read(max(block, need - len(rest)))
        if not more:
            break
        rest += more
    return rest
