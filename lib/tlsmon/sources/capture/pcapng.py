"""pcapng capture files: sections, interfaces and packet blocks.

Reads every section in turn (each with its own byte order and interfaces), each interface's
link type, if_tsresol (powers of 10 and of 2) and if_tsoffset, and the Enhanced, Simple and
obsolete Packet Blocks; every other block is skipped. One pass, front to back; a block is
never longer than MAX_BLOCK_LENGTH, so a declared length is checked before anything is read.

File format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html
"""

from __future__ import annotations

import struct
from typing import IO, Iterator, List, NamedTuple, Tuple

from ...errors import CorruptCapture
from .pcap import MAX_FRAME_LENGTH, FrameReader, Record

__all__ = ["PcapngReader", "MAX_BLOCK_LENGTH"]

# The longest block we accept. Packet blocks are further held to MAX_FRAME_LENGTH bytes of
# data; other blocks (name resolution, decryption secrets) may be larger, but not unbounded.
MAX_BLOCK_LENGTH = 16 * 1024 * 1024

_SHB = b"\x0a\x0d\x0d\x0a"  # Section Header Block type, the same in both byte orders
_BOM_LITTLE = b"\x4d\x3c\x2b\x1a"  # byte-order magic 0x1A2B3C4D, as written little-endian
_BOM_BIG = b"\x1a\x2b\x3c\x4d"
_IDB, _OPB, _SPB, _EPB = 1, 2, 3, 6
# Blocks that are not packets but that Wireshark lists as frames (so they take a frame number):
# systemd journal export, and custom blocks (copiable or not)
_NUMBERED = frozenset({0x9, 0x0BAD, 0x40000BAD})
_OPT_ENDOFOPT, _IF_TSRESOL, _IF_TSOFFSET = 0, 9, 14


class Interface(NamedTuple):
    """One Interface Description Block, as the packet blocks need it.

    Attributes:
        link_type: LINKTYPE_* of the interface.
        units: timestamp units per second (10**n or 2**n, from if_tsresol; 10**6 by default).
        offset_units: if_tsoffset (seconds), in timestamp units.
        snaplen: the interface's snap length (0: none).
        number: index among all interfaces of the file (sections do not restart it).
    """

    link_type: int
    units: int
    offset_units: int
    snaplen: int
    number: int


class PcapngReader(FrameReader):
    """Frames of a pcapng file, over all its sections.

    Raises (while iterating):
        CorruptCapture: an impossible block length, a packet block naming an undeclared
            interface, captured data longer than its block, an unsupported version...
        TruncatedCapture: the file ends inside a block (unless allow_truncated_tail).
    """

    format = "pcapng"

    def __init__(self, stream: IO[bytes], *, allow_truncated_tail: bool = False) -> None:
        super().__init__(allow_truncated_tail)
        self._stream = stream
        self.sections = 0
        self.interface_count = 0
        self._last = 0

    @property
    def last_number(self) -> int:
        """The number of the last frame yielded: blocks shown as frames count too (see ``records``)."""
        return self._last if self.frames_read else self.first_number

    def records(self, block: int = 0) -> Iterator[Record]:
        """As ``FrameReader.records``; a block is read whole in any case (``block`` is not used)."""
        read = self._stream.read
        offset = 0
        number = self.first_number
        order = "<"
        block_header = struct.Struct("<II").unpack
        epb_fields = struct.Struct("<IIIII").unpack_from
        interfaces: List[Interface] = []
        while True:
            head = read(8)
            if len(head) != 8:
                if head:
                    self._truncated("pcapng block header", offset, len(head), 8)
                return
            if head[:4] == _SHB:
                section = self._section_header(head, offset)
                if section is None:
                    return
                order, length = section
                block_header = struct.Struct(order + "II").unpack
                epb_fields = struct.Struct(order + "IIIII").unpack_from
                interfaces = []
                offset += length
                continue
            if not self.sections:
                raise CorruptCapture(f"pcapng block at offset {offset} comes before any section header")
            block_type, length = block_header(head)
            _check_length(length, offset, 12)
            body = read(length - 8)
            if len(body) != length - 8:
                self._truncated("pcapng block", offset, 8 + len(body), length)
                return
            if body[-4:] != head[4:]:
                raise CorruptCapture(f"pcapng block at offset {offset}: trailing length differs from {length}")
            if block_type == _EPB or block_type == _OPB:
                if length < 32:
                    raise CorruptCapture(f"pcapng packet block at offset {offset} is too short ({length} bytes)")
                iface, high, low, captured, original = epb_fields(body)
                if block_type == _OPB:
                    iface &= 0xFFFF  # OPB: 16-bit interface id, then a 16-bit drops count
                if captured > length - 32 or captured > MAX_FRAME_LENGTH:
                    raise CorruptCapture(
                        f"pcapng packet block at offset {offset} claims {captured} captured bytes"
                        f" in a {length}-byte block"
                    )
                if iface >= len(interfaces):
                    raise CorruptCapture(
                        f"pcapng packet block at offset {offset} names interface {iface},"
                        f" but the section declares {len(interfaces)}"
                    )
                link_type, units, offset_units, _snaplen, iface_number = interfaces[iface]
                number += 1
                self.frames_read += 1
                self._last = number
                offset += length
                timestamp = (((high << 32) | low) + offset_units) / units
                yield number, timestamp, link_type, body, 20, 20 + captured, original, iface_number
            elif block_type == _SPB:
                if length < 16:
                    raise CorruptCapture(f"pcapng simple packet block at offset {offset} is too short")
                if not interfaces:
                    raise CorruptCapture(f"pcapng simple packet block at offset {offset} before any interface")
                (original,) = struct.unpack_from(order + "I", body)
                link_type, _units, _offset_units, snaplen, iface_number = interfaces[0]
                # The block holds min(original length, snap length) bytes, padded (spec §4.4).
                captured = min(original, length - 16, snaplen or MAX_FRAME_LENGTH, MAX_FRAME_LENGTH)
                number += 1
                self.frames_read += 1
                self._last = number
                offset += length
                # A Simple Packet Block has no timestamp; Wireshark shows 0 too.
                yield number, 0.0, link_type, body, 4, 4 + captured, original, iface_number
            elif block_type == _IDB:
                interfaces.append(self._interface(body, order, offset))
                offset += length
            elif block_type in _NUMBERED:
                number += 1  # Wireshark shows these as frames of their own: keep its numbers
                offset += length
            else:
                offset += length  # statistics, name resolution, secrets, custom, unknown: skipped

    def _section_header(self, head: bytes, offset: int) -> Tuple[str, int] | None:
        """Read a Section Header Block whose first 8 bytes are `head`: (byte order, length)."""
        bom = self._stream.read(4)
        if len(bom) != 4:
            self._truncated("pcapng section header", offset, 8 + len(bom), 12)
            return None
        if bom == _BOM_LITTLE:
            order = "<"
        elif bom == _BOM_BIG:
            order = ">"
        else:
            raise CorruptCapture(f"pcapng section header at offset {offset}: bad byte-order magic {bom.hex(' ')}")
        (length,) = struct.unpack_from(order + "I", head, 4)
        _check_length(length, offset, 28)
        rest = self._stream.read(length - 12)
        if len(rest) != length - 12:
            self._truncated("pcapng section header", offset, 12 + len(rest), length)
            return None
        if rest[-4:] != head[4:]:
            raise CorruptCapture(f"pcapng block at offset {offset}: trailing length differs from {length}")
        major, minor = struct.unpack_from(order + "HH", rest)
        if major != 1:
            raise CorruptCapture(f"pcapng section at offset {offset}: unsupported version {major}.{minor}")
        self.sections += 1
        return order, length

    def _interface(self, body: bytes, order: str, offset: int) -> Interface:
        """An Interface Description Block's body (after type and length) → Interface."""
        if len(body) < 12:
            raise CorruptCapture(f"pcapng interface block at offset {offset} is too short")
        link_type, _reserved, snaplen = struct.unpack_from(order + "HHI", body)
        units = 1_000_000
        offset_seconds = 0
        end = len(body) - 4
        pos = 8
        while pos + 4 <= end:
            code, size = struct.unpack_from(order + "HH", body, pos)
            if code == _OPT_ENDOFOPT:
                break
            pos += 4
            if pos + size > end:
                raise CorruptCapture(f"pcapng interface block at offset {offset}: option {code} overruns the block")
            if code == _IF_TSRESOL and size >= 1:
                resolution = body[pos]
                # MSB clear: 10**-n seconds; set: 2**-n seconds (spec §4.2, if_tsresol)
                units = 2 ** (resolution & 0x7F) if resolution & 0x80 else 10**resolution
            elif code == _IF_TSOFFSET and size >= 8:
                (offset_seconds,) = struct.unpack_from(order + "q", body, pos)
            pos += (size + 3) & ~3
        self._add_link_type(link_type)
        self.interface_count += 1
        return Interface(link_type, units, offset_seconds * units, snaplen, self.interface_count - 1)


def _check_length(length: int, offset: int, minimum: int) -> None:
    if length < minimum or length % 4 or length > MAX_BLOCK_LENGTH:
        raise CorruptCapture(f"pcapng block at offset {offset} has an impossible length {length}")
