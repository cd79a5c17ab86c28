"""The common, numpy-backed model of an index that every parser produces.

Arrays are read-only views into the index bytes (a memory map for files) wherever the layout
allows; anything derived (concatenations, lookups) is computed lazily and cached.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar, overload

import numpy as np

from .arrays import rows_by_list, squared_norms
from .errors import UnknownIdError

FAISS_METRICS = {
    0: "ip",
    1: "l2",
    2: "l1",
    3: "linf",
    4: "lp",
    20: "canberra",
    21: "braycurtis",
    22: "jensenshannon",
    23: "jaccard",
    24: "nan_euclidean",
    25: "abs_inner_product",
}
"""faiss ``MetricType`` values and the names feder uses for them."""

class _IdLookup:
    """Maps external ids to row positions via a sorted copy (built once, O(n log n))."""

    def __init__(self, ids: np.ndarray):
        self.order = np.argsort(ids, kind="stable")
        self.sorted_ids = ids[self.order]

    def find(self, ident: int) -> int | None:
        pos = int(np.searchsorted(self.sorted_ids, ident))
        if pos < self.sorted_ids.shape[0] and int(self.sorted_ids[pos]) == ident:
            return int(self.order[pos])
        return None


SCAN_LOOKUPS = 8
"""Id lookups an IVF index answers by scanning its ids (≈ 10–30 ms at 10M, nothing kept)
before it sorts a copy of them once (:class:`_IdLookup`: ≈ 1 s and 16 bytes per vector at
10M) and answers every later lookup in O(log n). Hits of faiss's direct map never count."""


class _LazyLookup:
    """First row holding an id: ``quick`` (faiss's direct map: a verified row or ``None``),
    else a ``scan`` of the ids for the first :data:`SCAN_LOOKUPS` misses, then a sorted copy
    of ``ids()``. Rows are those :class:`_IdLookup` would give (the first in row order)."""

    __slots__ = ("_ids", "_last", "_quick", "_scan", "scans", "sorted")

    def __init__(self, quick: Callable[[int], int | None], scan: Callable[[int], int | None],
                 ids: Callable[[], np.ndarray]):
        self._quick = quick
        self._scan = scan
        self._ids = ids
        self.scans = 0
        self.sorted: _IdLookup | None = None
        self._last: tuple[int, int | None] | None = None  # row_of then vector: one scan

    def find(self, ident: int) -> int | None:
        if self.sorted is None:
            row = self._quick(ident)
            if row is not None:
                return row
            if self._last is not None and self._last[0] == ident:
                return self._last[1]
            if self.scans < SCAN_LOOKUPS:
                self.scans += 1
                row = self._scan(ident)
                self._last = (ident, row)
                return row
            self.sorted = _IdLookup(self._ids())
        return self.sorted.find(ident)


def _first_hit(ids: np.ndarray, ident: int) -> int | None:
    """Position of the first ``ident`` in ``ids`` ``(m,)`` (any integer dtype), or ``None``."""
    if not ids.size:
        return None
    hits = np.flatnonzero(ids == ident)
    return int(hits[0]) if hits.size else None


class _Arena:
    """Aligned float32 blocks carved one after another from large chunks, for the list
    copies a mapped index keeps: a chunk gets transparent huge pages, one page fault per
    2 MiB where separate arrays take one per 4 KiB (≈ 2 µs each on a busy VM, as much as
    copying the page). Chunks live as long as a block in them does."""

    CHUNK = 32 << 20

    __slots__ = ("_chunk", "_lock", "_pos")

    def __init__(self) -> None:
        self._chunk = np.empty(0, np.uint8)
        self._pos = 0
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...]) -> np.ndarray:
        """A fresh ``shape`` float32 array (uninitialised, 64-byte aligned). Thread-safe: a
        background diagnosis and the notebook's own calls may carve blocks at once, and two
        blocks must never share memory."""
        nbytes = 4 * math.prod(shape)
        if nbytes > self.CHUNK // 4:
            return np.empty(shape, np.float32)
        with self._lock:
            if self._pos + nbytes > self._chunk.size:
                self._chunk = np.empty(self.CHUNK, np.uint8)
                self._pos = -self._chunk.ctypes.data % 64
            start = self._pos
            self._pos += -(-nbytes // 64) * 64
            chunk = self._chunk
        return chunk[start: start + nbytes].view(np.float32).reshape(shape)


_NO_OFFSETS = np.empty(0, np.int64)

MAPPED_SPAN_ROWS = 4096
"""Most rows one pread(2) reads when gathering scattered rows of a mapped file (rows less
than 64 apart share a read, up to this many)."""


def file_guard(owner: Any, vectors: np.ndarray) -> Any:
    """The memory-map guard (the parsers' ``FileGuard``) ``vectors`` view, if ``owner`` is
    one with the file open for pread(2) and ``vectors`` ``(n, d)`` lie inside its map;
    else ``None`` (bytes read into memory, decoded codes, …)."""
    mm = getattr(owner, "mm", None)
    if mm is None or getattr(owner, "fd", None) is None or not callable(
            getattr(owner, "copy", None)) or vectors.ndim != 2 or not vectors.shape[0]:
        return None
    start = vectors.ctypes.data - int(owner.base)
    stop = start + (vectors.shape[0] - 1) * vectors.strides[0] + vectors.shape[1] * \
        vectors.itemsize
    return owner if vectors.strides[0] > 0 and start >= 0 and stop <= len(mm) else None


def read_row_range(vectors: np.ndarray, guard: Any, start: int, stop: int,
                   out: np.ndarray, raw: np.ndarray | None = None) -> np.ndarray:
    """``(stop − start, d)`` rows ``start:stop`` of ``vectors`` (``(n, d)`` float32, a view
    into ``guard``'s map: C-contiguous rows, or records of a larger stride such as hnswlib's)
    read with pread(2) into ``out`` (C-contiguous, at least that many rows; the result is
    its first rows): no page of the map is faulted in. Strided records are read whole into
    ``raw`` (a uint8 buffer, grown when too small) and their vectors copied out. The file is
    not checked here (the caller checks it once)."""
    m = stop - start
    rows = out[:m]
    if not m:
        return rows
    stride, width = vectors.strides[0], vectors.shape[1] * vectors.itemsize
    nbytes = (m - 1) * stride + width
    offset = vectors.ctypes.data - int(guard.base) + start * stride
    span = np.ndarray((nbytes,), np.uint8, buffer=guard.mm, offset=offset)  # touches nothing
    if stride == width:
        guard.copy(span, rows, check=False)
        return rows
    if raw is None or raw.size < nbytes:
        raw = np.empty(nbytes, np.uint8)
    got = guard.copy(span, raw, check=False)
    records = np.ndarray((m, vectors.shape[1]), vectors.dtype, buffer=got,
                         strides=(stride, vectors.itemsize))
    np.copyto(rows, records)
    return rows


def read_rows_at(vectors: np.ndarray, guard: Any, rows: np.ndarray) -> np.ndarray:
    """``(len(rows), d)`` rows ``rows`` (``(m,) int64``, valid, any order, repeats allowed)
    of ``vectors`` (``(n, d)`` float32 vectors or int64 ids, a view into ``guard``'s map, see
    :func:`read_row_range`), in its dtype, read with pread(2): rows less than 64 apart share
    one read of at most :data:`MAPPED_SPAN_ROWS` rows."""
    d = vectors.shape[1]
    out = np.empty((rows.shape[0], d), vectors.dtype)
    if not rows.size:
        return out
    guard.check()
    order = np.argsort(rows, kind="stable")
    ordered = rows[order].astype(np.int64, copy=False)
    run = np.concatenate([[0], np.cumsum(np.diff(ordered) > 64)])
    first = ordered[np.searchsorted(run, run)]  # each gap-free run's first row
    key = run * (ordered[-1] // MAPPED_SPAN_ROWS + 2) + (ordered - first) // MAPPED_SPAN_ROWS
    starts = np.flatnonzero(np.diff(key, prepend=-1)).tolist()
    buf = np.empty((0, d), vectors.dtype)
    raw: np.ndarray | None = None
    for a, b in zip(starts, [*starts[1:], ordered.size], strict=True):
        lo, hi = int(ordered[a]), int(ordered[b - 1]) + 1
        if buf.shape[0] < hi - lo:
            buf = np.empty((hi - lo, d), vectors.dtype)
        block = read_row_range(vectors, guard, lo, hi, buf, raw)
        out[order[a:b]] = block[ordered[a:b] - lo]
    return out


def row_blocks(vectors: np.ndarray, owner: Any, size: int, views: bool = False,
               ) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, (m, d) float32 block)`` of at most ``size`` rows covering ``vectors``
    (``(n, d)`` float32 rows, possibly records of a larger stride) in order.

    Rows in a memory-mapped file (``owner`` its guard, see :func:`file_guard`) are read with
    pread(2) into one reused aligned buffer, each block valid until the next: resident
    memory stays one block whatever the file's size (reading through the map would leave
    every page of it resident, 5 GB for 10M×128). Otherwise the blocks are views when
    ``views`` (rows BLAS reads in place), else copies into a reused aligned buffer."""
    n = vectors.shape[0]
    guard = file_guard(owner, vectors)
    if guard is None and views:
        for start in range(0, n, size):
            yield start, vectors[start: start + size]
        return
    buf = np.empty((min(size, max(n, 1)), vectors.shape[1]), np.float32)
    raw: np.ndarray | None = None
    if guard is not None:
        guard.check()
        if vectors.strides[0] != vectors.shape[1] * vectors.itemsize:
            raw = np.empty((buf.shape[0] - 1) * vectors.strides[0] + buf[0].nbytes, np.uint8)
    for start in range(0, n, size):
        stop = min(start + size, n)
        if guard is not None:
            yield start, read_row_range(vectors, guard, start, stop, buf, raw)
        else:
            np.copyto(buf[: stop - start], vectors[start:stop])
            yield start, buf[: stop - start]


def _as_id(ident: Any) -> int:
    if isinstance(ident, bool) or not isinstance(ident, (int, np.integer)):
        raise UnknownIdError(f"ids are integers, got {ident!r}")
    return int(ident)


@dataclass(eq=False)
class IVFFlatIndex:
    """A faiss ``IndexIVFFlat``.

    Inverted lists live in the file one after the other (codes, then ids, per list), so each
    list is a zero-copy view; ``vectors`` and ``ids`` concatenate them on first use.
    Row ``r`` of the concatenation belongs to list ``l`` iff
    ``list_offsets[l] <= r < list_offsets[l + 1]``.
    """

    dim: int
    metric: str
    metric_type: int
    metric_arg: float
    ntotal: int
    nprobe: int
    centroids: np.ndarray  # (nlist, dim) float32
    list_offsets: np.ndarray  # (nlist + 1,) int64, CSR offsets into the concatenated rows
    direct_map_type: int  # 0 none, 1 array, 2 hashtable
    source: str
    _codes: list[np.ndarray] = field(repr=False)  # per list (size, dim) float32 views
    _ids: list[np.ndarray] = field(repr=False)  # per list (size,) int64 views
    _owner: Any = field(default=None, repr=False)  # keeps a memory map alive
    _blocks: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    """list → its aligned ``(size, dim) float32`` vectors (:meth:`aligned_list`)"""
    _norms: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    """list → its ``(size,) float32`` squared norms (:meth:`list_block`)"""
    coarse_graph: Any = field(default=None, repr=False)
    """faiss's ``IVF…_HNSW…``: the coarse quantizer is an HNSW over the centroids (a
    :class:`FaissHNSWIndex` whose vectors are ``centroids``); ``None`` for a flat one."""
    direct_map: np.ndarray | None = field(default=None, repr=False)
    """faiss's direct map as the file stores it: ``(ntotal,) int64`` ``list << 32 | offset``
    per id (``direct_map_type`` 1) or ``(m, 2) int64`` ``(id, list << 32 | offset)`` pairs
    (type 2); ``None`` when the file has none (id lookups then scan the lists)."""

    kind: Literal["ivf_flat"] = "ivf_flat"

    @property
    def nlist(self) -> int:
        return int(self.centroids.shape[0])

    @cached_property
    def list_sizes(self) -> np.ndarray:
        """``(nlist,) int64`` number of vectors in each inverted list."""
        return np.diff(self.list_offsets)

    def list_vectors(self, list_no: int) -> np.ndarray:
        """``(size, dim) float32`` vectors of inverted list ``list_no`` (a view)."""
        return self._codes[self._check_list(list_no)]

    def list_ids(self, list_no: int) -> np.ndarray:
        """``(size,) int64`` ids of inverted list ``list_no`` (a view)."""
        return self._ids[self._check_list(list_no)]

    def list_block(self, list_no: int) -> tuple[np.ndarray, np.ndarray]:
        """``((size, dim) float32, (size,) float32)``: list ``list_no``'s vectors, aligned
        (:meth:`aligned_list`), and their squared norms, made on first use and cached."""
        vectors = self.aligned_list(list_no)
        norms = self._norms.get(list_no)
        if norms is None:
            norms = self._norms.setdefault(list_no, squared_norms(vectors))
        return vectors, norms

    def aligned_list(self, list_no: int) -> np.ndarray:
        """``(size, dim) float32`` list ``list_no``'s vectors, aligned and C-contiguous, made
        on the list's first search and cached.

        numpy hands only aligned arrays to BLAS: a file read into memory is placed so its
        lists are aligned (``parsers._reader.ALIGN_PHASES``) and they are used in place; a
        view at an unaligned offset (a memory-mapped file) is read once into an aligned copy.
        """
        vectors = self._blocks.get(list_no)
        if vectors is None:
            vectors = self._make_block(self._check_list(list_no))
        return vectors

    def _make_block(self, list_no: int) -> np.ndarray:
        codes = self._codes
        read = getattr(codes, "read", None)  # a mapped file's GuardedList: pread(2)
        if read is not None:
            shape = codes.shape_of(list_no)  # type: ignore[attr-defined]
            vectors = read(list_no, self._arena.take(shape) if shape[0] else None)
        else:
            vectors = codes[list_no]
        flags = vectors.flags
        if not (flags.aligned and flags.c_contiguous and vectors.dtype == np.float32):
            vectors = np.array(vectors, dtype=np.float32, order="C")
        # two threads may make the same list: the first block stored is the one both use,
        # and the one whose address is recorded
        vectors = self._blocks.setdefault(list_no, vectors)
        self._list_addresses[list_no] = vectors.ctypes.data
        return vectors

    @cached_property
    def _list_addresses(self) -> np.ndarray:
        """``(nlist,) int64`` the address of each list's block in ``_blocks`` (0: not made)."""
        return np.zeros(self.nlist, np.int64)

    @cached_property
    def _arena(self) -> _Arena:
        return _Arena()

    def scan_sources(self, lists: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
        """``(sources, fd, id_sources)`` for the IVF scan kernel (``lists`` ``(p,) int64``
        valid list numbers).

        For a memory-mapped file: an open descriptor of it and the ``(p,) int64`` byte
        offsets of the lists' vectors (and of their ids when the ids are the file's), which
        the kernel reads with pread(2) one list at a time — a search allocates nothing and
        never reads through the map, so a file cut short meanwhile ends the read, never
        raises SIGBUS. Otherwise ``fd = -1``, the address of each list's aligned ``(size,
        dim) float32`` vectors in memory (made on first use and kept alive by this model),
        and no id sources."""
        file_offsets = getattr(self._codes, "file_offsets", None)  # a mapped GuardedList
        if file_offsets is not None:
            found: tuple[np.ndarray, int] | None = file_offsets(lists)
            if found is not None:
                id_offsets = getattr(self._ids, "file_offsets", None)
                # the same file, checked just above
                ids = id_offsets(lists, False) if id_offsets is not None else None
                if ids is None or ids[1] != found[1]:
                    return found[0], found[1], _NO_OFFSETS
                return found[0], found[1], ids[0]
        addresses = self._list_addresses[lists]
        for at in np.flatnonzero(addresses == 0).tolist():
            addresses[at] = self.aligned_list(int(lists[at])).ctypes.data
        return addresses, -1, _NO_OFFSETS

    def check_file(self) -> None:
        """Raise :class:`~feder.errors.IndexChangedError` if this model's memory-mapped file
        changed since it was loaded (nothing for a file read into memory)."""
        guard = getattr(self._codes, "guard", None)
        if guard is not None:
            guard.check()

    def probed_ids(self, lists: list[int]) -> np.ndarray:
        """``(m,) int64`` the ids of the rows of ``lists`` (valid list numbers) in scan
        order, concatenated."""
        read_concatenated = getattr(self._ids, "read_concatenated", None)  # mapped: pread
        if read_concatenated is not None and lists:
            found: np.ndarray = read_concatenated(lists, np.int64)
            return found
        all_ids = self._ids
        if len(lists) == 1:
            return np.asarray(all_ids[lists[0]], np.int64)
        if not lists:
            return np.empty(0, np.int64)
        return np.concatenate([all_ids[lst] for lst in lists]).astype(np.int64, copy=False)

    def read_lists(self, lists: list[int]) -> np.ndarray:
        """``(m, dim) float32`` the vectors of ``lists`` (valid list numbers) concatenated in
        scan order, a fresh array: a memory-mapped file's are read with pread(2) and nothing
        is kept (a copy per list kept for later searches would make a long session hold
        the file)."""
        read_concatenated = getattr(self._codes, "read_concatenated", None)  # mapped
        if read_concatenated is not None and lists:
            found: np.ndarray = read_concatenated(lists, np.float32)
            return found.reshape(-1, self.dim)
        if not lists:
            return np.empty((0, self.dim), np.float32)
        return np.concatenate([self._codes[lst] for lst in lists]).astype(np.float32,
                                                                          copy=False)

    def probe_lists(self, lists: list[int]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """``(parts, norms, ids)`` of the lists ``lists`` (valid list numbers, in scan order):
        aligned ``(size_i, dim) float32`` vectors (each list's, kept, when in memory; one
        fresh read of them all for a memory-mapped file), and the ``(m,) float32`` squared
        norms and ``(m,) int64`` ids of all their rows concatenated (``m = Σ size``) — what
        one search reads, in a few numpy calls."""
        ids = self.probed_ids(lists)
        if getattr(self._codes, "read_concatenated", None) is not None:
            vectors = self.read_lists(lists)
            return [vectors], squared_norms(vectors), ids
        found = [self.list_block(lst) for lst in lists]
        if len(found) == 1:
            return [found[0][0]], found[0][1], ids
        return [b[0] for b in found], np.concatenate([b[1] for b in found]), ids

    def list_norms(self, list_no: int) -> np.ndarray:
        """``(size,) float32`` squared norms of list ``list_no`` (see :meth:`list_block`)."""
        return self.list_block(list_no)[1]

    @cached_property
    def aligned_centroids(self) -> np.ndarray:
        """``(nlist, dim) float32`` an aligned copy of ``centroids`` (BLAS wants alignment)."""
        return np.array(self.centroids, dtype=np.float32, order="C")

    @cached_property
    def centroid_address(self) -> np.ndarray:
        """``(1,) int64`` the address of ``aligned_centroids`` (the IVF scan kernel's input)."""
        return np.array([self.aligned_centroids.ctypes.data], np.int64)

    @cached_property
    def nlist_array(self) -> np.ndarray:
        """``(1,) int64`` ``[nlist]``."""
        return np.array([self.nlist], np.int64)

    @cached_property
    def centroid_norms(self) -> np.ndarray:
        """``(nlist,) float32`` squared norms of the centroids."""
        return squared_norms(self.aligned_centroids)

    def _check_list(self, list_no: int) -> int:
        if not 0 <= list_no < self.nlist:
            raise UnknownIdError(f"list {list_no} does not exist: expected 0 ≤ list < {self.nlist}")
        return int(list_no)

    @cached_property
    def vectors(self) -> np.ndarray:
        """``(ntotal, dim) float32`` all vectors in inverted-list order (concatenated once)."""
        if not self._codes:
            return np.empty((0, self.dim), np.float32)
        return np.concatenate(self._codes, axis=0)

    @cached_property
    def ids(self) -> np.ndarray:
        """``(ntotal,) int64`` all ids in inverted-list order."""
        if not self._ids:
            return np.empty(0, np.int64)
        return np.concatenate(self._ids).astype(np.int64, copy=False)

    @cached_property
    def row_lists(self) -> np.ndarray:
        """``(ntotal,) int64`` the inverted list each row belongs to (for a few rows,
        :meth:`lists_of` builds nothing of size ``ntotal``)."""
        return np.repeat(np.arange(self.nlist, dtype=np.int64), self.list_sizes)

    def lists_of(self, rows: np.ndarray) -> np.ndarray:
        """``(m,) int64`` the inverted list of each of ``rows`` (``(m,)`` valid rows)."""
        return np.searchsorted(self.list_offsets, rows, side="right").astype(np.int64) - 1

    @cached_property
    def _lookup(self) -> _LazyLookup:
        return _LazyLookup(self._direct_row, self._scan_row, lambda: self.ids)

    def _direct_row(self, ident: int) -> int | None:
        """The row faiss's direct map gives ``ident``, if it has one and the list there does
        hold ``ident`` at that offset (a stale or corrupt map never answers wrongly)."""
        dm = self.direct_map
        if dm is None or not dm.size:
            return None
        _check_owner(self._owner)
        if dm.ndim == 1:
            if not 0 <= ident < dm.shape[0]:
                return None
            lo = int(dm[ident])
        else:
            at = _first_hit(dm[:, 0], ident)
            if at is None:
                return None
            lo = int(dm[at, 1])
        list_no, offset = lo >> 32, lo & 0xFFFFFFFF
        if not 0 <= list_no < self.nlist or offset >= int(self.list_sizes[list_no]):
            return None
        if int(self._ids[list_no][offset]) != ident:
            return None
        return int(self.list_offsets[list_no]) + offset

    def _scan_row(self, ident: int) -> int | None:
        """First row holding ``ident``, by comparing every list's ids (no copy kept)."""
        if "ids" in self.__dict__:  # already concatenated: one pass
            return _first_hit(self.__dict__["ids"], ident)
        offsets = self.list_offsets
        # a mapped file's ids are read with pread: faulting them in through the map would
        # add ≈ 200 MB of resident pages at 10M (the kernel maps whole folios around them)
        read_each = getattr(self._ids, "read_each", None)
        for list_no, ids in enumerate(self._ids if read_each is None else read_each()):
            at = _first_hit(ids, ident)
            if at is not None:
                return int(offsets[list_no]) + at
        return None

    def list_head(self, list_no: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """``((c, dim) float32, (c,) int64)``: the first ``c = min(count, size)`` vectors of
        list ``list_no`` and their ids — what an overview samples. A mapped file's rows are
        read with pread (a copy): reading 64 rows of each of 4096 lists through the map
        would add ≈ 500 MB of resident file pages at 10M; elsewhere these are views."""
        list_no = self._check_list(list_no)
        codes, ids = self._codes, self._ids
        read, read_ids = getattr(codes, "read_head", None), getattr(ids, "read_head", None)
        if read is not None and read_ids is not None:
            return read(list_no, count), read_ids(list_no, count)
        return codes[list_no][:count], ids[list_no][:count]

    def row_blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, (m, dim) float32 block)`` of at most ``size`` rows covering every row in
        inverted-list order, in one reused aligned buffer (each block valid until the next;
        what a brute force scans). A mapped file's rows are read with pread(2) straight into
        it, so resident memory stays one block whatever the file's size (through the map,
        a scan of 10M×128 left all 5 GB resident); lists in memory are copied into it (a
        cache-sized block BLAS reads aligned)."""
        codes = self._codes
        guard = getattr(codes, "guard", None)
        lists = codes.checked() if guard is not None else list(codes)  # type: ignore[attr-defined]
        n = sum(int(a.shape[0]) for a in lists)
        buf = np.empty((min(size, max(n, 1)), self.dim), np.float32)
        parts: list[np.ndarray] = []
        filled = start = 0
        for rows in lists:
            count, at = int(rows.shape[0]), 0
            while at < count:
                take = min(count - at, size - filled)
                if guard is not None:
                    guard.copy(rows[at: at + take], buf[filled: filled + take], check=False)
                else:
                    parts.append(rows[at: at + take])
                filled += take
                at += take
                if filled == size:
                    if parts:
                        np.concatenate(parts, out=buf[:filled])
                    yield start, buf[:filled]
                    start += filled
                    parts, filled = [], 0
        if filled:
            if parts:
                np.concatenate(parts, out=buf[:filled])
            yield start, buf[:filled]

    def rows_at(self, rows: np.ndarray) -> np.ndarray:
        """``(m, dim) float32`` a copy of rows ``rows`` (``(m,) int64`` valid rows in
        inverted-list order, any order): a mapped file's read with pread(2) (no page of the
        map faulted in), see :func:`read_rows_at`."""
        codes = self._codes
        guard = getattr(codes, "guard", None)
        lists = codes.checked() if guard is not None else codes  # type: ignore[attr-defined]
        out = np.empty((rows.shape[0], self.dim), np.float32)
        for list_no, where, within in rows_by_list(self.list_offsets, rows):
            view = lists[list_no]
            out[where] = read_rows_at(view, guard, within) if guard is not None \
                else view[within]
        return out

    def ids_at(self, rows: np.ndarray) -> np.ndarray:
        """``(m,) int64`` the ids of rows ``rows`` (``(m,) int64`` valid rows in
        inverted-list order), without concatenating every list's ids (80 MB at 10M, read
        through the map) unless ``ids`` already did; a mapped file's read with pread(2)."""
        if "ids" in self.__dict__:
            return np.asarray(self.__dict__["ids"][rows], np.int64)
        ids = self._ids
        guard = getattr(ids, "guard", None)
        lists = ids.checked() if guard is not None else ids  # type: ignore[attr-defined]
        out = np.empty(rows.shape[0], np.int64)
        in_list = np.searchsorted(self.list_offsets, rows, side="right") - 1
        within = rows - self.list_offsets[in_list]
        for lst in np.unique(in_list).tolist():
            at = in_list == lst
            view = lists[lst]
            # a mapped file's ids with pread: a fault would map 64 KiB around each one
            out[at] = read_rows_at(view.reshape(-1, 1), guard, within[at])[:, 0] \
                if guard is not None else view[within[at]]
        return out

    def row_of(self, ident: Any) -> int:
        """Row (in inverted-list order) holding external id ``ident``.

        Big indexes are not sorted on the first lookup: faiss's direct map answers when the
        file has one, otherwise the lists' ids are scanned; after :data:`SCAN_LOOKUPS` scans
        a sorted copy of the ids answers the rest (see :class:`_LazyLookup`)."""
        ident = _as_id(ident)
        row = self._lookup.find(ident)
        if row is None:
            raise UnknownIdError(
                f"id {ident} is not in the index ({self.ntotal} vectors in {self.source})"
            )
        return row

    def vector(self, ident: Any) -> np.ndarray:
        """``(dim,) float32`` the stored vector with external id ``ident``."""
        row = self.row_of(ident)
        list_no = int(np.searchsorted(self.list_offsets, row, side="right")) - 1
        return np.array(self._codes[list_no][row - int(self.list_offsets[list_no])])


    def __repr__(self) -> str:
        return (
            f"IVFFlatIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}, "
            f"nlist={self.nlist}, nprobe={self.nprobe}, source={self.source!r})"
        )


@dataclass(frozen=True, eq=False)
class LevelGraph:
    """One HNSW level as CSR: ``neighbors[offsets[i]:offsets[i+1]]`` are the internal ids
    linked from ``nodes[i]``. ``nodes`` is sorted; on level 0 it is ``arange(ntotal)``."""

    level: int
    nodes: np.ndarray  # (m,) int64 internal ids present on this level, ascending
    offsets: np.ndarray  # (m + 1,) int64
    neighbors: np.ndarray  # (offsets[-1],) uint32 internal ids

    def row(self, node: int) -> int:
        """Row of internal id ``node`` in this level (``node`` itself on level 0)."""
        if self.level == 0:
            return node
        return int(np.searchsorted(self.nodes, node))

    def neighbors_of(self, node: int) -> np.ndarray:
        row = self.row(node)
        return self.neighbors[self.offsets[row] : self.offsets[row + 1]]


@dataclass(eq=False)
class HNSWIndex:
    """An hnswlib index. Internal ids are positions ``0..ntotal-1``; ``labels`` maps them to
    the user's ids. ``graphs[l]`` is level ``l`` as CSR."""

    dim: int
    metric: str  # "l2" | "ip" | "cosine"
    M: int
    max_M: int
    max_M0: int
    ef_construction: int
    mult: float
    max_elements: int
    entry_point: int  # internal id, -1 when empty
    max_level: int
    labels: np.ndarray  # (n,) uint64 view
    levels: np.ndarray  # (n,) int32
    vectors: np.ndarray  # (n, dim) float32 (a strided view into the file)
    deleted: np.ndarray  # (n,) bool
    graphs: list[LevelGraph]
    source: str
    _owner: Any = field(default=None, repr=False)

    kind: Literal["hnsw"] = "hnsw"

    @property
    def ntotal(self) -> int:
        return int(self.labels.shape[0])

    @cached_property
    def num_deleted(self) -> int:
        return int(np.count_nonzero(self.deleted))

    @cached_property
    def _lookup(self) -> _IdLookup:
        return _IdLookup(self.labels)

    def internal_id(self, label: Any) -> int:
        """Internal id of the element labelled ``label``; deleted elements are unknown."""
        label = _as_id(label)
        found = self._lookup.find(label) if label >= 0 else None
        if found is None:
            raise UnknownIdError(
                f"label {label} is not in the index ({self.ntotal} elements in {self.source})"
            )
        if self.deleted[found]:
            raise UnknownIdError(f"label {label} is marked deleted in {self.source}")
        return found

    def vector(self, label: Any) -> np.ndarray:
        """``(dim,) float32`` the stored vector of ``label`` (normalized for cosine)."""
        return np.array(self.vectors[self.internal_id(label)])


    def __repr__(self) -> str:
        return (
            f"HNSWIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}, "
            f"M={self.M}, max_level={self.max_level}, deleted={self.num_deleted}, "
            f"source={self.source!r})"
        )


def _check_owner(owner: Any) -> None:
    """Let a memory-map guard (the parsers' ``FileGuard``) refuse a changed file."""
    check = getattr(owner, "check", None)
    if callable(check):
        check()


@dataclass(eq=False)
class FlatIndex:
    """A faiss ``IndexFlat`` (``IxF2`` L2, ``IxFI`` inner product, ``IxFl`` other metrics),
    ``IndexScalarQuantizer`` (``IxSQ``) or ``IndexPQ`` (``IxPq``) — for the coded ones
    ``vectors`` are the decoded codes — possibly inside an ``IndexIDMap``/``IndexIDMap2``
    (``id_map_fourcc``).

    Row ``r`` of ``vectors`` is faiss's internal id ``r``; ``ids[r]`` is the id faiss returns
    for it (``r`` itself, or ``id_map[r]`` under an id map).
    """

    dim: int
    metric: str
    metric_type: int
    metric_arg: float
    ntotal: int
    ids: np.ndarray  # (ntotal,) int64: arange, or the id map
    source: str
    fourcc: str  # "IxF2" | "IxFI" | "IxFl" | "IxSQ" | "IxPq"
    id_map_fourcc: str | None = None  # "IxMp" | "IxM2" when wrapped in an id map
    _vectors: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.float32),
                                 repr=False)  # (ntotal, dim) float32 view
    _owner: Any = field(default=None, repr=False)
    pq_codec: Any = field(default=None, repr=False)  # IxPq: the product quantizer
    pq_indices: np.ndarray | None = field(default=None, repr=False)  # IxPq: (ntotal, M) uint
    pq_search_type: int = 0  # IxPq: faiss's search_type (0 = plain PQ tables)
    qtype: str | None = None  # the scalar quantizer type of an IxSQ (vectors = reconstructions)
    search_vectors: np.ndarray | None = field(default=None, repr=False)
    """IxSQ: ``(ntotal, dim) float32`` the codes decoded as faiss's distance computer sees them
    (may differ from the reconstructions in the last bit); ``None`` for raw float storage."""

    kind: Literal["flat"] = "flat"

    @property
    def vectors(self) -> np.ndarray:
        """``(ntotal, dim) float32`` the stored vectors, a zero-copy view into the file."""
        _check_owner(self._owner)
        return self._vectors

    @cached_property
    def block(self) -> tuple[np.ndarray, np.ndarray]:
        """``((ntotal, dim) float32, (ntotal,) float32)``: an aligned copy of the vectors and
        their squared norms, made on the first search (BLAS wants aligned rows)."""
        vectors = np.array(self.vectors, dtype=np.float32, order="C")
        return vectors, squared_norms(vectors)

    @property
    def id_map(self) -> np.ndarray | None:
        """``(ntotal,) int64`` the id map, or ``None`` when ids are row numbers."""
        return self.ids if self.id_map_fourcc else None

    @cached_property
    def _lookup(self) -> _IdLookup:
        return _IdLookup(self.ids)

    def row_of(self, ident: Any) -> int:
        """Row (internal id) holding the faiss id ``ident``."""
        ident = _as_id(ident)
        row = self._lookup.find(ident) if self.id_map_fourcc else (
            ident if 0 <= ident < self.ntotal else None)
        if row is None:
            raise UnknownIdError(
                f"id {ident} is not in the index ({self.ntotal} vectors in {self.source})")
        return row

    def vector(self, ident: Any) -> np.ndarray:
        """``(dim,) float32`` the stored vector with faiss id ``ident``."""
        return np.array(self.vectors[self.row_of(ident)])

    def __repr__(self) -> str:
        wrapped = f", id_map={self.id_map_fourcc!r}" if self.id_map_fourcc else ""
        return (f"FlatIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}"
                f"{wrapped}, source={self.source!r})")


@dataclass(eq=False)
class IDMapIVFIndex(IVFFlatIndex):
    """An IVF index (``IndexIVFFlat``, ``IndexIVFScalarQuantizer``) inside an
    ``IndexIDMap``/``IndexIDMap2``: ``ids``, ``list_ids`` and ``vector()`` use the user's ids
    (``id_map[inner id]``); ``list_vectors``/``vectors`` are the inner index's (raw vectors,
    or reconstructions of codes); ``inner`` is the IVF as stored, with faiss's internal ids,
    which the replay searches (faiss breaks ties on them) before mapping its results."""

    id_map: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False)
    id_map_fourcc: str = "IxMp"
    inner: IVFFlatIndex | None = field(default=None, repr=False)

    kind: Literal["ivf_idmap"] = "ivf_idmap"  # type: ignore[assignment]

    def _direct_row(self, ident: int) -> int | None:
        """Never: the inner index's direct map is keyed by its internal ids, not the user's
        (lookups scan the mapped lists, then sort them, like any IVF without a map)."""
        return None

    def __repr__(self) -> str:
        inner = "" if self.inner is None else f"inner={self.inner.kind!r}, "
        return (
            f"IDMapIVFIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}, "
            f"nlist={self.nlist}, nprobe={self.nprobe}, id_map={self.id_map_fourcc!r}, "
            f"{inner}source={self.source!r})"
        )


@dataclass(eq=False)
class FaissHNSWIndex(HNSWIndex):
    """A faiss ``IndexHNSWFlat`` (``IHNf``), ``IndexHNSWSQ`` (``IHNs``) or ``IndexHNSWPQ``
    (``IHNp``) in the hnswlib-shaped model the graph views use (for coded storage ``vectors``
    are the decoded codes).

    faiss keeps all levels in one ``neighbors`` array (``offsets[i]`` + the cumulative
    per-level widths, ``-1`` padded); the parser turns it into one CSR :class:`LevelGraph`
    per level, in faiss's link order. Internal ids are storage rows; ``labels`` are the ids
    faiss returns (row numbers, or the id map of an enclosing ``IndexIDMap``). ``levels`` are
    hnswlib-style (0 = base only; faiss's own ``levels`` array holds ``level + 1``).
    ``metric`` is ``"l2"`` (squared L2) or ``"ip"`` (inner product, larger is closer, as
    faiss reports it).
    """

    metric_type: int = 1
    metric_arg: float = 0.0
    ef_search: int = 16
    cum_nneighbor_per_level: np.ndarray = field(
        default_factory=lambda: np.zeros(1, np.int32), repr=False)
    assign_probas: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    fourcc: str = "IHNf"
    id_map_fourcc: str | None = None
    storage_qtype: str | None = None  # IHNs: the storage's scalar quantizer type
    pq_codec: Any = field(default=None, repr=False)  # IHNp: the storage's product quantizer
    pq_indices: np.ndarray | None = field(default=None, repr=False)  # IHNp: (n, M) uint
    search_vectors: np.ndarray | None = field(default=None, repr=False)
    """IHNs: the storage codes decoded as faiss's distance computer sees them (``vectors``
    are the reconstructions the views show); ``None`` for flat storage."""

    kind: Literal["faiss_hnsw"] = "faiss_hnsw"  # type: ignore[assignment]

    def internal_id(self, label: Any) -> int:
        """Storage row of the element faiss returns as ``label``."""
        label = _as_id(label)
        found = self._lookup.find(label)
        if found is None:
            raise UnknownIdError(
                f"id {label} is not in the index ({self.ntotal} elements in {self.source})")
        return found

    def __repr__(self) -> str:
        wrapped = f", id_map={self.id_map_fourcc!r}" if self.id_map_fourcc else ""
        return (
            f"FaissHNSWIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}, "
            f"M={self.M}, max_level={self.max_level}, ef_search={self.ef_search}{wrapped}, "
            f"source={self.source!r})"
        )


_T = TypeVar("_T")


class LazyLists(Sequence[_T]):
    """Per-item values made by ``make(i)`` on first access and cached (decoded code lists,
    HNSW levels: a large index costs nothing until they are looked at)."""

    __slots__ = ("_cache", "_make", "_n")

    def __init__(self, n: int, make: Callable[[int], _T]):
        self._n = n
        self._make = make
        self._cache: dict[int, _T] = {}

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> _T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[_T]: ...

    def __getitem__(self, index: int | slice) -> _T | Sequence[_T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(index)
        if index not in self._cache:
            self._cache[index] = self._make(index)
        return self._cache[index]

    def __iter__(self) -> Iterator[_T]:
        return (self[i] for i in range(self._n))


@dataclass(eq=False)
class IVFHNSWFlatIndex(IVFFlatIndex):
    """A faiss ``IndexIVFFlat`` whose coarse quantizer is an HNSW (``IVF…_HNSW…,Flat``):
    ``coarse_graph`` finds the lists to probe."""

    kind: Literal["ivf_hnsw_flat"] = "ivf_hnsw_flat"  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"IVFHNSWFlatIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}, "
            f"nlist={self.nlist}, nprobe={self.nprobe}, source={self.source!r})"
        )


@dataclass(eq=False)
class IVFSQIndex(IVFFlatIndex):
    """A faiss ``IndexIVFScalarQuantizer`` (``IwSq``): an IVF whose lists hold scalar-quantized
    codes. ``list_vectors``/``vectors`` are faiss's reconstructions (decoded codes, plus the
    list's centroid when ``by_residual``), decoded lazily per list; ``list_codes`` are the raw
    codes and ``list_decoded`` the decoded values the search compares the query with
    (residuals when ``by_residual``). ``codec`` decodes ``(m, code_size) uint8`` codes."""

    qtype: str = "QT_8bit"
    by_residual: bool = True
    code_size: int = 0
    codec: Any = field(default=None, repr=False)
    _raw: list[np.ndarray] = field(default_factory=list, repr=False)  # (size, code_size) u8
    _decoded: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    kind: Literal["ivf_sq"] = "ivf_sq"  # type: ignore[assignment]

    def list_codes(self, list_no: int) -> np.ndarray:
        """``(size, code_size) uint8`` the stored codes of list ``list_no`` (a view)."""
        return self._raw[self._check_list(list_no)]

    def list_decoded(self, list_no: int) -> np.ndarray:
        """``(size, dim) float32`` decoded codes of list ``list_no`` as faiss's search sees
        them (residuals to the centroid when ``by_residual``), cached."""
        list_no = self._check_list(list_no)
        found = self._decoded.get(list_no)
        if found is None:
            found = self._decoded[list_no] = self.codec.decode(self._raw[list_no],
                                                               for_search=True)
        return found

    def __repr__(self) -> str:
        return (
            f"IVFSQIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}, "
            f"nlist={self.nlist}, nprobe={self.nprobe}, qtype={self.qtype}, "
            f"by_residual={self.by_residual}, source={self.source!r})"
        )


@dataclass(eq=False)
class IVFPQIndex(IVFFlatIndex):
    """A faiss ``IndexIVFPQ`` (``IwPQ``): lists of product-quantized codes.

    ``list_vectors``/``vectors`` are faiss's reconstructions (sub-centroids side by side, plus
    the list's centroid when ``by_residual``), made lazily per list; ``list_codes`` are the raw
    codes, ``list_indices`` their ``(size, M)`` centroid indices. ``codec`` holds the PQ
    (``codec.centroids``: ``(M, ksub, dsub) float32``). ``precomputed_table``: faiss's
    L2 + by_residual search adds a per-list table (``‖c_mj‖² + 2⟨centroid_m, c_mj⟩``) to
    ``−2⟨q_m, c_mj⟩``, which it does when ``nlist·M·ksub`` floats fit in 2 GiB."""

    by_residual: bool = True
    code_size: int = 0
    pq_M: int = 0
    pq_nbits: int = 8
    precomputed_table: bool = False
    codec: Any = field(default=None, repr=False)
    _raw: list[np.ndarray] = field(default_factory=list, repr=False)  # (size, code_size) u8
    _indices: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _tables: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _positions: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    kind: Literal["ivf_pq"] = "ivf_pq"  # type: ignore[assignment]

    def list_codes(self, list_no: int) -> np.ndarray:
        """``(size, code_size) uint8`` the stored codes of list ``list_no`` (a view)."""
        return self._raw[self._check_list(list_no)]

    def list_indices(self, list_no: int) -> np.ndarray:
        """``(size, M)`` the sub-centroid indices of list ``list_no`` (``uint8``/``uint16``),
        cached."""
        list_no = self._check_list(list_no)
        found = self._indices.get(list_no)
        if found is None:
            found = self._indices[list_no] = self.codec.indices(self._raw[list_no])
        return found

    def list_positions(self, list_no: int) -> np.ndarray:
        """``(size, M) int64`` ``m·ksub + index`` of each code's entries in a flattened
        ``(M, ksub)`` look-up table, cached (the replay gathers with them)."""
        found = self._positions.get(list_no)
        if found is None:
            ksub = 1 << self.pq_nbits
            found = self._positions[list_no] = (
                np.arange(self.pq_M, dtype=np.int64) * ksub + self.list_indices(list_no))
        return found

    def __repr__(self) -> str:
        return (
            f"IVFPQIndex(dim={self.dim}, metric={self.metric!r}, ntotal={self.ntotal}, "
            f"nlist={self.nlist}, nprobe={self.nprobe}, M={self.pq_M}, nbits={self.pq_nbits}, "
            f"by_residual={self.by_residual}, source={self.source!r})"
        )


from .model_transform import PreTransformIndex  # noqa: E402  (wraps any model above)

IndexModel = IVFFlatIndex | HNSWIndex | FlatIndex | PreTransformIndex
"""What every parser returns: the parsed arrays, nothing that searches. (The faiss-specific
graph and id-mapped IVF models subclass :class:`HNSWIndex` / :class:`IVFFlatIndex`; a faiss
pre-transform wraps any of them.)"""
