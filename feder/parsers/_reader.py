"""Bounds-checked little-endian reads over a byte buffer (bytes or a read-only memory map).

Every read checks the bytes left *before* touching or allocating anything, so a corrupt
count can never turn into a huge allocation, a raw ``struct.error`` or an ``IndexError``.
Arrays are zero-copy ``np.frombuffer`` views; they may be unaligned, which numpy handles.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import IndexFormatError, TruncatedIndexError

_SCALARS = {
    "u8": struct.Struct("<B"),
    "i32": struct.Struct("<i"),
    "u32": struct.Struct("<I"),
    "i64": struct.Struct("<q"),
    "u64": struct.Struct("<Q"),
    "f32": struct.Struct("<f"),
    "f64": struct.Struct("<d"),
}


@dataclass
class Buffer:
    """A named, read-only byte buffer. ``owner`` keeps a memory map alive with its views."""

    data: memoryview
    name: str
    owner: Any = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    def need(self, offset: int, nbytes: int, what: str) -> None:
        """Raise :class:`TruncatedIndexError` unless ``nbytes`` bytes exist at ``offset``."""
        if nbytes < 0 or offset + nbytes > self.size:
            left = max(self.size - offset, 0)
            raise TruncatedIndexError(
                f"{what}: expected {nbytes} bytes, found only {left} left in a "
                f"{self.size}-byte buffer",
                offset=offset,
                source=self.name,
            )

    def scalar(self, kind: str, offset: int, what: str) -> Any:
        fmt = _SCALARS[kind]
        self.need(offset, fmt.size, what)
        return fmt.unpack_from(self.data, offset)[0]

    def fourcc(self, offset: int, what: str = "fourcc") -> str:
        self.need(offset, 4, what)
        return bytes(self.data[offset : offset + 4]).decode("latin-1")

    def array(self, dtype: str, count: int, offset: int, what: str) -> np.ndarray:
        """A zero-copy view of ``count`` items of ``dtype`` (1-D) starting at ``offset``."""
        dt = np.dtype(dtype)
        if count < 0:
            raise IndexFormatError(f"{what}: negative count {count}", offset=offset,
                                   source=self.name)
        self.need(offset, count * dt.itemsize, what)
        return np.frombuffer(self.data, dtype=dt, count=count, offset=offset)

    def fail(self, message: str, offset: int | None = None) -> IndexFormatError:
        return IndexFormatError(message, offset=offset, source=self.name)


class Cursor:
    """Sequential reader over a :class:`Buffer`; ``pos`` is the next byte offset."""

    def __init__(self, buf: Buffer, pos: int = 0):
        self.buf = buf
        self.pos = pos

    def scalar(self, kind: str, what: str) -> Any:
        value = self.buf.scalar(kind, self.pos, what)
        self.pos += _SCALARS[kind].size
        return value

    def fourcc(self, what: str = "fourcc") -> str:
        value = self.buf.fourcc(self.pos, what)
        self.pos += 4
        return value

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        arr = self.buf.array(dtype, count, self.pos, what)
        self.pos += arr.nbytes
        return arr

    def skip(self, nbytes: int, what: str) -> int:
        """Advance past ``nbytes`` bytes (checked) and return the offset they start at."""
        start = self.pos
        self.buf.need(start, nbytes, what)
        self.pos += nbytes
        return start


def open_buffer(source: str | os.PathLike[str] | bytes | bytearray | memoryview | np.ndarray,
                ) -> Buffer:
    """Wrap a path (memory-mapped, read-only) or an in-memory byte object as a :class:`Buffer`."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Buffer(memoryview(source).cast("B"), "<bytes>")
    if isinstance(source, np.ndarray):
        arr = np.ascontiguousarray(source).view(np.uint8).reshape(-1)
        return Buffer(arr.data, "<array>", owner=arr)
    path = os.fspath(source)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                raise TruncatedIndexError("empty file: expected an index", offset=0, source=path)
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise IndexFormatError(f"no such index file: {path!r}") from None
    except IsADirectoryError:
        raise IndexFormatError(f"expected an index file, found a directory: {path!r}") from None
    except PermissionError as exc:
        raise IndexFormatError(f"cannot read index file {path!r}: {exc.strerror}") from None
    return Buffer(memoryview(mm), path, owner=mm)
