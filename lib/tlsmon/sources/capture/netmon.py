"""Microsoft Network Monitor 1.x and 2.x capture files (.cap).

A file header gives the capture's start time and the place of the frame table: one 32-bit
file offset per frame, usually at the end of the file. Each frame has its own header (time
since the start, lengths), then its data and, from version 2.1 on, a trailer naming its media
type (and, from 2.3 on, carrying a UTC timestamp). The reader needs a seekable file: it reads
the table in bounded chunks and seeks to each frame; ``formats`` buffers streams (bounded).

Layouts as Network Monitor writes them and as Wireshark's wiretap/netmon.c reads them (and
``editcap -F netmon1|netmon2`` writes them). The start time is a SYSTEMTIME in the capturing
host's local time with no zone; we read it as UTC (Wireshark uses the reader's own zone). 2.3
files carry UTC timestamps per frame, which we use.
"""

from __future__ import annotations

import calendar
import struct
from typing import IO, Iterator

from ...errors import CorruptCapture, TruncatedCapture
from .frames import LINKTYPE_ETHERNET, LINKTYPE_RAW, Frame
from .pcap import MAX_FRAME_LENGTH, FrameReader

__all__ = ["NetmonReader", "media_link_type", "NETMON_MEDIA_BASE"]

# Media types with no LINKTYPE_* (ATM, FDDI bit-swapped, 802.11 with NetMon metadata, event
# tracing, ...) become NETMON_MEDIA_BASE + media type: outside LINKTYPE_*'s 16 bits, so no
# decoder mistakes them for a link type it knows.
NETMON_MEDIA_BASE = 0x10000

_HEADER = struct.Struct("<4sBBH8H10I")  # magic, minor, major, media, SYSTEMTIME, 5 (offset, length) pairs
_FIRST_FRAME = 128  # the header is padded to 128 bytes; frames usually start there
_RECORD_1 = struct.Struct("<IHH")  # milliseconds since the start, original length, captured length
_RECORD_2 = struct.Struct("<QII")  # microseconds since the start, original length, captured length
_TRAILER_LENGTH = {1: 2, 2: 6}  # by minor version: media type (+ process index); 2.3 and later: 15
_FILETIME_UNIX_EPOCH = 116444736000000000  # 100 ns intervals from 1601-01-01 to 1970-01-01 (UTC)
_TABLE_CHUNK = 16384  # frame table entries read at a time

# NetMon media types (NDIS medium numbers, reused by 2.x) with a LINKTYPE_*, after netmon.c
_MEDIA_LINK_TYPES = {
    0: LINKTYPE_ETHERNET,  # NetMon 3.4 VPN captures put Ethernet frames under 0
    1: LINKTYPE_ETHERNET,
    2: 6,  # LINKTYPE_IEEE802_5, Token Ring
    7: LINKTYPE_RAW,  # 2.x: tunnelling interfaces
    8: LINKTYPE_RAW,  # 2.x: wireless WAN
    9: LINKTYPE_RAW,  # 2.x: raw IP frames
}
# Payload headers of reassembled frames, network information, DNS cache: metadata records that
# Wireshark does not show as frames, so neither do we (frame numbers stay the same as its).
_NOT_FRAMES = frozenset({0xFFFC, 0xFFFD, 0xFFFE})


def media_link_type(media: int) -> int:
    """A NetMon media type → LINKTYPE_*, or NETMON_MEDIA_BASE + media when there is none."""
    if media in _MEDIA_LINK_TYPES:
        return _MEDIA_LINK_TYPES[media]
    if media & 0xF000 == 0xE000 and not 0xE080 <= media <= 0xE08A:
        return media & 0x0FFF  # a converted pcap file: 0xE000 + LINKTYPE_*
    return NETMON_MEDIA_BASE + media


class NetmonReader(FrameReader):
    """Frames of a Network Monitor file, in frame table order.

    Args:
        file: a seekable binary file; `base` is the offset of the capture's first byte in it.

    Raises (on construction or while iterating):
        CorruptCapture: a bad header or frame table, a frame claiming more than
            MAX_FRAME_LENGTH bytes, a table entry pointing past the end of the file.
        TruncatedCapture: the file ends before its frame table (unless allow_truncated_tail:
            then the frames are read one after another from offset 128, up to the cut).
    """

    def __init__(self, file: IO[bytes], *, base: int = 0, allow_truncated_tail: bool = False) -> None:
        super().__init__(allow_truncated_tail)
        self._file = file
        self._base = base
        file.seek(0, 2)
        self._size = file.tell() - base
        file.seek(base)
        header = file.read(_HEADER.size)
        self._header_ok = len(header) == _HEADER.size
        if not self._header_ok:
            self._truncated("Network Monitor file header", 0, len(header), _HEADER.size)
            return
        (_magic, minor, major, media, year, month, _weekday, day, hour, minute, second, millisecond,
         self._table_offset, self._table_length, *_others) = _HEADER.unpack(header)  # fmt: skip
        if major not in (1, 2):
            raise CorruptCapture(f"unsupported Network Monitor version {major}.{minor}")
        if not (1 <= month <= 12 and 1 <= year <= 9999):
            raise CorruptCapture(f"Network Monitor file header: bad start date {year}-{month}-{day}")
        if self._table_length % 4:
            raise CorruptCapture(f"Network Monitor frame table length {self._table_length} is not a multiple of 4")
        self.format = f"netmon{major}"
        self.version = (major, minor)
        seconds = calendar.timegm((year, month, day, hour, minute, second))
        self._start_ns = seconds * 10**9 + millisecond * 10**6
        self._trailer = 0 if major == 1 or minor == 0 else _TRAILER_LENGTH.get(minor, 15)
        self._file_link_type = media_link_type(media)
        if not self._trailer:
            self._add_link_type(self._file_link_type)

    def __iter__(self) -> Iterator[Frame]:
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        if not self._header_ok:
            return
        table_end = self._table_offset + self._table_length
        if table_end <= self._size:
            yield from self._read(self._table(), self._size, in_table=True)
        elif self.allow_truncated_tail:
            self.truncated_tail = True  # the table is cut off: walk the frames one by one
            end = self._table_offset if _FIRST_FRAME <= self._table_offset < self._size else self._size
            yield from self._read(None, end, in_table=False)
        else:
            raise TruncatedCapture(
                f"Network Monitor frame table at offset {self._table_offset} ({self._table_length} bytes)"
                f" lies past the end of the file ({self._size} bytes)"
            )

    def _table(self) -> Iterator[int]:
        """The frame offsets, read a chunk at a time (the file position moves between chunks)."""
        count = self._table_length // 4
        for first in range(0, count, _TABLE_CHUNK):
            n = min(_TABLE_CHUNK, count - first)
            self._file.seek(self._base + self._table_offset + 4 * first)
            yield from struct.unpack(f"<{n}I", self._file.read(4 * n))

    def _read(self, offsets: Iterator[int] | None, end: int, in_table: bool) -> Iterator[Frame]:
        """Frames at `offsets` (or one after another from offset 128), none past `end`."""
        file, base = self._file, self._base
        major = self.version[0]
        record = _RECORD_1 if major == 1 else _RECORD_2
        trailer_length = self._trailer
        link_type = self._file_link_type
        number = first = self.first_number
        offset = _FIRST_FRAME
        while True:
            if offsets is not None:
                offset = next(offsets, -1)
                if offset < 0:
                    return
            elif offset >= end:
                return
            file.seek(base + offset)
            header = file.read(record.size)
            delta, original, captured = record.unpack(header) if len(header) == record.size else (0, 0, -1)
            frame_end = offset + record.size + captured + trailer_length
            if captured > MAX_FRAME_LENGTH:
                raise CorruptCapture(
                    f"Network Monitor frame at offset {offset} claims {captured} captured bytes"
                    f" (limit {MAX_FRAME_LENGTH})"
                )
            if captured < 0 or frame_end > end:
                if in_table:
                    raise CorruptCapture(f"Network Monitor frame at offset {offset} runs past the end of the file")
                return  # walking a cut file (truncated_tail is set): this frame is the cut one
            data = file.read(captured)
            if major == 1:
                time_ns = self._start_ns + delta * 1_000_000
            else:
                # netmon.c: the 64-bit microseconds, times 10, read as a signed 100 ns count
                ticks = (delta * 10) & 0xFFFFFFFFFFFFFFFF
                time_ns = self._start_ns + (ticks - (1 << 64) if ticks >> 63 else ticks) * 100
            if trailer_length:
                trailer = file.read(trailer_length)
                media = trailer[0] | trailer[1] << 8
                if media in _NOT_FRAMES:
                    offset = frame_end
                    continue
                link_type = media_link_type(media)
                self._add_link_type(link_type)
                if trailer_length >= 14:
                    (filetime,) = struct.unpack_from("<Q", trailer, 6)
                    time_ns = (filetime - _FILETIME_UNIX_EPOCH) * 100
            number += 1
            self.frames_read = number - first
            offset = frame_end
            yield Frame(number, time_ns / 10**9, link_type, data, original, 0)
