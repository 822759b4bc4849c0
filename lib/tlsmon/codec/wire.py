"""Bounds-checked reading and writing of TLS presentation-language fields.

Every read checks the length against what remains and raises ``DecodeError``
on an overrun; no short slices, no I/O here.
"""

from __future__ import annotations

import struct
from typing import Union

from ..errors import DecodeError

Buffer = Union[bytes, bytearray, memoryview]

__all__ = ["Reader", "Writer", "Buffer"]


class SlowPath(Exception):
    """A slicing parser cannot read its input: the ``Reader``-based one reads it, or names its error.

    The hot messages (hellos, certificates, extension lists) are parsed by slicing ``bytes``
    directly; on anything unexpected they raise this (or ``IndexError``) and their caller
    parses again with a ``Reader``, whose result and ``DecodeError`` are the reference.
    Never escapes the codec.
    """


class Reader:
    """Sequential reader over a byte buffer, naming the structure in its errors."""

    __slots__ = ("_data", "_pos", "_end", "what", "_base")

    def __init__(self, data: Buffer, what: str = "data", base: int = 0) -> None:
        self._data = memoryview(data) if not isinstance(data, memoryview) else data
        self._pos = 0
        self._end = len(self._data)
        self.what = what
        self._base = base

    @property
    def offset(self) -> int:
        return self._base + self._pos

    def remaining(self) -> int:
        return self._end - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._end

    def fail(self, reason: str) -> DecodeError:
        return DecodeError(self.what, self.offset, reason)

    def _take(self, n: int, field: str) -> memoryview:
        pos = self._pos
        if n > self._end - pos:
            raise self.fail(f"{field} needs {n} bytes, {self._end - pos} left")
        self._pos = pos + n
        return self._data[pos : pos + n]

    def _length(self, len_bytes: int, field: str) -> int:
        """A ``len_bytes`` length prefix; the error names it ``<field> length``."""
        pos = self._pos
        if len_bytes > self._end - pos:
            raise self.fail(f"{field} length needs {len_bytes} bytes, {self._end - pos} left")
        self._pos = pos + len_bytes
        return int.from_bytes(self._data[pos : pos + len_bytes], "big")

    def uint8(self, field: str = "uint8") -> int:
        pos = self._pos
        if pos >= self._end:
            raise self.fail(f"{field} needs 1 bytes, 0 left")
        self._pos = pos + 1
        return self._data[pos]

    def uint16(self, field: str = "uint16") -> int:
        return int.from_bytes(self._take(2, field), "big")

    def uint24(self, field: str = "uint24") -> int:
        return int.from_bytes(self._take(3, field), "big")

    def uint32(self, field: str = "uint32") -> int:
        return int.from_bytes(self._take(4, field), "big")

    def raw(self, n: int, field: str = "bytes") -> bytes:
        return bytes(self._take(n, field))

    def rest(self) -> bytes:
        return bytes(self._take(self._end - self._pos, "rest"))

    def vector(self, len_bytes: int, field: str = "vector", minimum: int = 0, maximum: int | None = None) -> bytes:
        """A length-prefixed opaque vector (``opaque x<minimum..maximum>``)."""
        n = self._length(len_bytes, field)
        if n < minimum:
            raise self.fail(f"{field} shorter than {minimum} bytes")
        if maximum is not None and n > maximum:
            raise self.fail(f"{field} longer than {maximum} bytes")
        return bytes(self._take(n, field))

    def sub(self, len_bytes: int, field: str = "vector", minimum: int = 0) -> Reader:
        """A Reader over a length-prefixed vector, without copying."""
        n = self._length(len_bytes, field)
        if n < minimum:
            raise self.fail(f"{field} shorter than {minimum} bytes")
        start = self.offset
        return Reader(self._take(n, field), field, start)

    def uint16_list(self, len_bytes: int, field: str, minimum: int = 0) -> tuple[int, ...]:
        sub = self.sub(len_bytes, field, minimum)
        n = sub.remaining()
        if n % 2:
            raise sub.fail(f"{field} has an odd length")
        # one struct call, not one per value: cipher suite lists run to dozens of entries
        return struct.unpack(f">{n // 2}H", sub._take(n, field))

    def expect_end(self) -> None:
        if self._pos != self._end:
            raise self.fail(f"{self._end - self._pos} trailing bytes")


class Writer:
    """Builds wire bytes; ``vector()`` helpers prefix the length."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts = bytearray()

    def uint8(self, v: int) -> Writer:
        self._parts += v.to_bytes(1, "big")
        return self

    def uint16(self, v: int) -> Writer:
        self._parts += v.to_bytes(2, "big")
        return self

    def uint24(self, v: int) -> Writer:
        self._parts += v.to_bytes(3, "big")
        return self

    def uint32(self, v: int) -> Writer:
        self._parts += v.to_bytes(4, "big")
        return self

    def raw(self, data: Buffer) -> Writer:
        self._parts += data
        return self

    def vector(self, len_bytes: int, data: Buffer) -> Writer:
        self._parts += len(data).to_bytes(len_bytes, "big")
        self._parts += data
        return self

    def uint16_list(self, len_bytes: int, values: tuple[int, ...] | list[int]) -> Writer:
        body = b"".join(v.to_bytes(2, "big") for v in values)
        return self.vector(len_bytes, body)

    def getvalue(self) -> bytes:
        return bytes(self._parts)
