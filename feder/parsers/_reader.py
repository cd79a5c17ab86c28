"""Bounds-checked little-endian reads over a byte buffer (bytes or a read-only memory map).

Every read checks the bytes left *before* touching or allocating anything, so a corrupt
count can never turn into a huge allocation, a raw ``struct.error`` or an ``IndexError``.
Arrays are zero-copy ``np.frombuffer`` views; they may be unaligned, which numpy handles.

Files up to :data:`MAP_THRESHOLD` bytes are read into memory (as faiss does): nothing another
process does to the file afterwards can reach the loaded index. Larger files are memory-mapped
so loading stays instant and pages are read on demand; a mapped page whose file was truncated
would raise SIGBUS on access, so a :class:`FileGuard` remembers the file's identity (device,
inode, size, mtime) and the model consults it (``os.stat``, ~1 µs) before each use of the map,
raising :class:`~feder.errors.IndexChangedError` ("reload it") instead of a signal.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import IndexChangedError, IndexFormatError, TruncatedIndexError

MAP_THRESHOLD = 256 << 20
"""Files larger than this (bytes) are memory-mapped; smaller ones are read into memory.

Measured with ``benchmarks/bench_core.py --only-read-vs-map`` (fresh process per run, 2
shared cores, medians; page cache warm unless said): IVF 100k×128 (50 MiB) read 25 ms /
51 MiB RSS, mapped 6–8 ms / 2 MiB; IVF 1M×128 (498 MiB) read 170–480 ms (1.9 s cold) /
501 MiB, mapped 15–30 ms / 7 MiB; HNSW 100k (63 MiB) read ≈ mapped ≈ 60 ms / 74 MiB (its
parse touches every page anyway). Reading costs its size in RSS and ≈ 0.3–1 s per GiB; at
256 MiB that is ≲ 0.25 s and a quarter GiB — acceptable for an index that can then never
SIGBUS — while multi-GiB indexes stay mapped, paged in on demand and guarded.
"""

_SCALARS = {
    "u8": struct.Struct("<B"),
    "i32": struct.Struct("<i"),
    "u32": struct.Struct("<I"),
    "i64": struct.Struct("<q"),
    "u64": struct.Struct("<Q"),
    "f32": struct.Struct("<f"),
    "f64": struct.Struct("<d"),
}


class FileGuard:
    """The identity of a memory-mapped file when it was loaded, and the map itself.

    :meth:`check` raises :class:`IndexChangedError` once the file at ``path`` is no longer
    the one mapped (another inode, another size or mtime, or deleted). It keeps the map
    alive: models hold their guard as their ``_owner``.
    """

    __slots__ = ("__weakref__", "base", "fd", "mm", "path", "stamp")

    def __init__(self, path: str, st: os.stat_result, mm: mmap.mmap, fd: int | None = None):
        self.path = path
        self.stamp = _stamp(st)
        self.mm = mm
        self.fd = fd  # the mapped file, open (a dup), for pread(2); closed with the guard
        self.base = np.frombuffer(mm, np.uint8, count=1).ctypes.data if len(mm) else 0
        if fd is not None:
            weakref.finalize(self, os.close, fd)

    def check(self) -> None:
        """Raise :class:`IndexChangedError` if the mapped file changed since it was loaded."""
        try:
            now = _stamp(os.stat(self.path))
        except OSError as exc:
            raise IndexChangedError(
                f"the memory-mapped index file {self.path!r} is gone since it was loaded "
                f"({exc.strerror}): expected the file of {self.stamp[2]} bytes; load the "
                "index again (feder.load_index) from a file that exists") from None
        if now != self.stamp:
            what = []
            if now[:2] != self.stamp[:2]:
                what.append("replaced by another file")
            if now[2] != self.stamp[2]:
                what.append(f"size {self.stamp[2]} → {now[2]} bytes")
            if now[3] != self.stamp[3]:
                what.append("modified")
            raise IndexChangedError(
                f"the memory-mapped index file {self.path!r} changed since it was loaded "
                f"({', '.join(what)}): its arrays can no longer be read safely; reload it "
                "with feder.load_index")

    def copy(self, view: np.ndarray, out: np.ndarray | None = None,
             check: bool = True) -> np.ndarray:
        """A fresh, aligned copy of ``view`` (C-contiguous, into this map) read with
        pread(2) rather than through the map: no page of the map is faulted in (≈ 40 %
        cheaper than a copy through it, measured) and the map's resident pages do not grow;
        a file cut short meanwhile raises :class:`IndexChangedError`, never SIGBUS.

        ``out``: a C-contiguous buffer of at least ``view.nbytes`` bytes to read into (the
        result is then a view of it); ``check=False`` when the caller just checked."""
        if check:
            self.check()
        offset = view.ctypes.data - self.base
        if self.fd is None or not view.flags.c_contiguous or not (
                offset >= 0 and offset + view.nbytes <= len(self.mm)):
            return np.array(view, order="C")
        if out is None:
            out = np.empty(view.shape, view.dtype)
        else:
            out = out.reshape(-1).view(np.uint8)[: view.nbytes].view(view.dtype).reshape(
                view.shape)
        self.read_spans([offset], [view.nbytes], out.reshape(-1).view(np.uint8), [0])
        return out

    def read_spans(self, offsets: list[int], sizes: list[int], out: np.ndarray,
                   starts: list[int]) -> None:
        """Read ``sizes[i]`` bytes of the file at ``offsets[i]`` into ``out`` (``uint8``,
        C-contiguous) at ``starts[i]``, with pread(2), for each ``i``: the small reads of
        one search, without a check or a temporary array each (the caller just checked). A
        file cut short meanwhile raises :class:`IndexChangedError`, never SIGBUS."""
        assert self.fd is not None
        target = out.data
        for offset, size, start in zip(offsets, sizes, starts, strict=True):
            got = 0
            while got < size:
                n = os.preadv(self.fd, [target[start + got: start + size]], offset + got)
                if n <= 0:
                    self.check()
                    raise IndexChangedError(
                        f"the memory-mapped index file {self.path!r} ended at byte "
                        f"{offset + got} while reading {size} bytes at {offset}: it "
                        "changed since it was loaded; reload it with feder.load_index")
                got += n
        target.release()

    def __repr__(self) -> str:
        return f"FileGuard({self.path!r}, {self.stamp[2]} bytes)"


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass
class Buffer:
    """A named, read-only byte buffer. ``owner`` keeps a memory map alive with its views;
    ``guard`` is set when ``data`` is a memory-mapped file (see :class:`FileGuard`)."""

    data: memoryview
    name: str
    owner: Any = field(default=None, repr=False)
    guard: FileGuard | None = field(default=None, repr=False)

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
                *, map_threshold: int | None = None) -> Buffer:
    """Wrap a path or an in-memory byte object as a :class:`Buffer`.

    A file of at most ``map_threshold`` bytes (default :data:`MAP_THRESHOLD`) is read into
    memory; a larger one is memory-mapped read-only with a :class:`FileGuard`.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Buffer(memoryview(source).cast("B"), "<bytes>")
    if isinstance(source, np.ndarray):
        arr = np.ascontiguousarray(source).view(np.uint8).reshape(-1)
        return Buffer(arr.data, "<array>", owner=arr)
    path = os.fspath(source)
    threshold = MAP_THRESHOLD if map_threshold is None else map_threshold
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            if stat.S_ISDIR(st.st_mode):
                raise IndexFormatError(
                    f"expected an index file, found a directory: {path!r}")
            raise IndexFormatError(
                f"expected an index file, found a special file (FIFO, device or socket): "
                f"{path!r}")
        # O_NONBLOCK: a FIFO swapped in after the stat must not block the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb", closefd=True) as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise IndexFormatError(f"expected an index file, found a special file: {path!r}")
            size = st.st_size
            if size == 0:
                raise TruncatedIndexError("empty file: expected an index", offset=0, source=path)
            if size <= threshold:
                data = _read_aligned(fh, size)
                return Buffer(data.data, path, owner=data)
            mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            fd = os.dup(fh.fileno())
    except FileNotFoundError:
        raise IndexFormatError(f"no such index file: {path!r}") from None
    except IsADirectoryError:
        raise IndexFormatError(f"expected an index file, found a directory: {path!r}") from None
    except PermissionError as exc:
        raise IndexFormatError(f"cannot read index file {path!r}: {exc.strerror}") from None
    except OSError as exc:
        raise IndexFormatError(f"cannot read index file {path!r}: {exc.strerror or exc}",
                               ) from None
    guard = FileGuard(path, st, mm, fd)
    return Buffer(memoryview(mm), path, owner=guard, guard=guard)


ALIGN_PHASES = {b"IwFl": 3}
"""Byte offset modulo 4 at which a format's float32 rows start, by the file's first four
bytes: faiss's 37-byte index header puts every list of a top-level IVF_FLAT file (codes,
then ids, all multiples of 4 bytes) at 3 mod 4. A file read into memory is placed so those
rows are 4-byte aligned: BLAS then reads the lists in place instead of aligned copies, which
would cost up to the file's size again."""


def _read_aligned(fh: Any, size: int) -> np.ndarray:
    """``(≤ size,) uint8`` the file's bytes, read(2) straight into numpy memory (transparent
    huge pages where available; about twice as fast as ``fh.read()`` and, unlike a map,
    immune to later rewrites), placed per :data:`ALIGN_PHASES`; fewer bytes if the file
    shrank meanwhile. Read-only."""
    phase = ALIGN_PHASES.get(os.pread(fh.fileno(), 4, 0), 0)
    raw = np.empty(size + 3, np.uint8)
    shift = -(raw.ctypes.data + phase) % 4
    data = raw[shift: shift + size]
    view = data.data
    got = 0
    while got < size:
        n = fh.readinto(view[got:])
        if not n:
            break
        got += n
    view.release()
    data = data[:got]
    data.flags.writeable = False
    return data


class GuardedList(Sequence[Any]):
    """A read-only sequence of views into a memory-mapped file that checks the file before
    handing any out (the IVF model reaches its list codes and ids through these only).

    Not a ``list`` subclass on purpose: numpy reads list items directly, bypassing
    ``__getitem__``; a plain sequence is read through ``__iter__``/``__getitem__``.
    """

    __slots__ = ("_items", "_offsets_found", "guard")

    def __init__(self, items: list[Any], guard: FileGuard, offsets: np.ndarray | None = None):
        self._items = items
        self.guard = guard
        self._offsets_found = None if offsets is None else np.array(offsets, np.int64)
        """each item's byte offset in the file (``offsets``: known to the parser; else
        found on first read, −1 until then)"""

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        self.guard.check()
        return self._items[index]

    def __iter__(self) -> Iterator[Any]:
        self.guard.check()
        return iter(self._items)

    def read(self, index: int, out: np.ndarray | None = None) -> np.ndarray:
        """A fresh aligned copy of item ``index`` read from the file (:meth:`FileGuard.copy`),
        into ``out`` when given (as many bytes)."""
        return self.guard.copy(self._items[index], out)

    def shape_of(self, index: int) -> tuple[int, ...]:
        """The shape of item ``index`` (without checking the file: nothing is read)."""
        return tuple(self._items[index].shape)

    def read_each(self) -> Iterator[np.ndarray]:
        """Every item in turn, read from the file into one reused buffer after a single check
        (each is valid until the next is read: a scan that keeps nothing)."""
        self.guard.check()
        nbytes = max((item.nbytes for item in self._items), default=0)
        buf = np.empty(nbytes, np.uint8)
        for item in self._items:
            yield self.guard.copy(item, buf, check=False) if item.size else item

    def read_head(self, index: int, count: int) -> np.ndarray:
        """A fresh aligned copy of the first ``count`` rows of item ``index``."""
        return self.guard.copy(self._items[index][:count])

    def checked(self) -> list[Any]:
        """The items after one check of the file (a search reads many lists at once)."""
        self.guard.check()
        return self._items

    def file_offsets(self, indices: np.ndarray, check: bool = True,
                     ) -> tuple[np.ndarray, int] | None:
        """``(offsets, fd)`` after one check of the file (``check=False`` when the caller
        just checked it): the ``(p,) int64`` byte offset in the file of each of the items
        ``indices`` (C-contiguous views into the map) and the guard's descriptor, for
        reading them with pread(2); ``None`` without a descriptor."""
        if check:
            self.guard.check()
        if self.guard.fd is None:
            return None
        offsets = self._offsets
        found = offsets[indices]
        for at in np.flatnonzero(found < 0).tolist():
            i = int(indices[at])
            found[at] = offsets[i] = self._items[i].ctypes.data - self.guard.base
        return found, self.guard.fd

    def read_concatenated(self, indices: list[int], dtype: Any) -> np.ndarray:
        """The items ``indices`` (1-D ``dtype`` views into the map) concatenated, read from
        the file with pread(2) after one check of it: never through the map."""
        found = self.file_offsets(np.asarray(indices, np.int64))
        if found is None:
            return np.concatenate([self[i] for i in indices]).astype(dtype, copy=False)
        sizes = [self._items[i].nbytes for i in indices]
        out = np.empty(sum(sizes) // np.dtype(dtype).itemsize, dtype)
        starts = np.cumsum([0, *sizes[:-1]]).tolist()
        self.guard.read_spans(found[0].tolist(), sizes, out.view(np.uint8), starts)
        return out

    @property
    def _offsets(self) -> np.ndarray:
        """``(len,) int64`` each item's byte offset in the file (−1: not found yet)."""
        found = self._offsets_found
        if found is None:
            found = np.full(len(self._items), -1, np.int64)
            self._offsets_found = found
        return found
