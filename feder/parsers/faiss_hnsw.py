"""Reader for faiss ``IndexHNSWFlat`` (``IHNf``), ``IndexHNSWSQ`` (``IHNs``) and
``IndexHNSWPQ`` (``IHNp``), into the graph model the views use.

Layout (faiss ``impl/index_write.cpp``, ``write_HNSW``): fourcc, index header, then the HNSW
as ``std::vector``s (a u64 count, then the items): ``assign_probas`` f64,
``cum_nneighbor_per_level`` i32, ``levels`` i32 (level + 1 per vector), ``offsets`` u64
(ntotal + 1), ``neighbors`` i32 (all levels of a vector one after the other, each level
``cum[l+1] − cum[l]`` slots, ``-1`` padded); then i32 ``entry_point``, ``max_level``,
``efConstruction``, ``efSearch`` and a deprecated ``upper_beam``; then the storage sub-index
(``IxF2``/``IxFI`` for HNSW_FLAT, ``IxSQ`` for HNSW_SQ, ``IxPq`` for HNSW_PQ).
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from ..errors import UnsupportedIndexError
from ..model import FaissHNSWIndex, FlatIndex, LazyLists, LevelGraph, _check_owner
from ._reader import Cursor
from .faiss_common import read_count, read_header

_MAX_LEVELS = 64
_CHUNK = 1 << 16  # rows gathered at a time when packing a level into CSR


def read_faiss_hnsw(c: Cursor, end: int) -> FaissHNSWIndex:
    """Read an ``IndexHNSWFlat``/``SQ``/``PQ`` whose fourcc was just read."""
    buf = c.buf
    at = c.pos - 4
    fourcc = buf.fourcc(at)
    h = read_header(c, f"{fourcc} header")
    n = h.ntotal
    if h.metric not in ("l2", "ip"):
        raise UnsupportedIndexError(
            f"{fourcc} with metric {h.metric} is not supported: feder reads L2 and "
            f"inner-product HNSW (in {buf.name}, byte offset {h.at + 29})")

    def vector(dtype: str, item: int, what: str) -> tuple[int, np.ndarray]:
        start = c.pos
        count = read_count(c, f"HNSW {what} count", item, end)
        return start, c.array(dtype, count, f"HNSW {what}")

    _, probas = vector("<f8", 8, "assign_probas")
    cum_at, cum = vector("<i4", 4, "cum_nneighbor_per_level")
    levels_at, levels = vector("<i4", 4, "levels")
    offsets_at, offsets = vector("<u8", 8, "offsets")
    neighbors_at, neighbors = vector("<i4", 4, "neighbors")
    fields_at = c.pos
    entry_point = c.scalar("i32", "HNSW entry_point")
    max_level = c.scalar("i32", "HNSW max_level")
    ef_construction = c.scalar("i32", "HNSW efConstruction")
    ef_search = c.scalar("i32", "HNSW efSearch")
    c.scalar("i32", "HNSW upper_beam")

    def bad(message: str, offset: int) -> Exception:
        return buf.fail(f"not a valid faiss HNSW: {message}", offset)

    cum64 = cum.astype(np.int64)
    if not 2 <= cum.size <= _MAX_LEVELS + 1 or cum64[0] != 0 or np.any(np.diff(cum64) < 0) \
            or cum64[-1] > 1 << 20:
        raise bad(f"cum_nneighbor_per_level has {cum.size} entries "
                  f"{cum64[:4].tolist()}…: expected 2 … {_MAX_LEVELS + 1} non-decreasing "
                  "widths starting at 0", cum_at)
    if levels.size != n:
        raise bad(f"levels has {levels.size} entries, expected ntotal = {n}", levels_at)
    if offsets.size != n + 1:
        raise bad(f"offsets has {offsets.size} entries, expected ntotal + 1 = {n + 1}",
                  offsets_at)
    levels64 = levels.astype(np.int64)
    if n and (int(levels64.min()) < 1 or int(levels64.max()) >= cum.size):
        raise bad(f"levels range {int(levels64.min())} … {int(levels64.max())}, expected 1 … "
                  f"{cum.size - 1} (cum_nneighbor_per_level has {cum.size} entries)",
                  levels_at)
    sizes = cum64[levels64] if n else np.zeros(0, np.int64)
    expected = np.zeros(n + 1, np.uint64)
    np.cumsum(sizes, out=expected[1:])
    if not np.array_equal(offsets, expected):
        row = int(np.argmax(offsets != expected))
        raise bad(f"offsets[{row}] = {int(offsets[row])}, expected {int(expected[row])} from "
                  "the levels and per-level widths", offsets_at + 8 + 8 * row)
    if neighbors.size != int(expected[-1]):
        raise bad(f"neighbors has {neighbors.size} entries, expected offsets[ntotal] = "
                  f"{int(expected[-1])}", neighbors_at)
    if neighbors.size and (int(neighbors.min()) < -1 or int(neighbors.max()) >= n):
        raise bad(f"a neighbour id is outside -1 … {n - 1}", neighbors_at)
    top = int(levels64.max()) - 1 if n else -1
    if n == 0:
        if entry_point != -1 or max_level != -1:
            raise bad(f"an empty HNSW has entry_point {entry_point} and max_level {max_level}, "
                      "expected -1 and -1", fields_at)
    elif not 0 <= entry_point < n or max_level != top or levels64[entry_point] - 1 != top:
        raise bad(f"entry_point {entry_point} / max_level {max_level}: expected an element of "
                  f"the top level {top} (0 … {n - 1})", fields_at)
    if ef_search < 1 or ef_construction < 1:
        raise bad(f"efSearch = {ef_search}, efConstruction = {ef_construction}, expected ≥ 1",
                  fields_at + 8)

    storage_at = c.pos
    from .faiss_formats import read_sub_index

    storage = read_sub_index(c, end, role=f"the storage of {fourcc}: ")
    expected_storage = {"IHNs": ("IxSQ",), "IHNp": ("IxPq",)}.get(fourcc, ("IxF2", "IxFI"))
    if not isinstance(storage, FlatIndex) or storage.fourcc not in expected_storage:
        found = storage.fourcc if isinstance(storage, FlatIndex) else storage.kind
        raise UnsupportedIndexError(
            f"the storage of {fourcc} is {found}: feder reads {fourcc} over "
            f"{'/'.join(expected_storage)} storage (in {buf.name}, byte offset {storage_at})")
    if storage.dim != h.d or storage.ntotal != n or storage.metric != h.metric:
        raise bad(f"the storage holds {storage.ntotal} vectors of dimension {storage.dim} "
                  f"({storage.metric}), expected {n} of {h.d} ({h.metric})", storage_at)

    def level_graph(level: int) -> LevelGraph:
        return _level_csr(level, levels64, offsets, cum64, neighbors, buf, neighbors_at)

    # Packed on first use, level by level: loading stays a scan of the header arrays, and a
    # search touches the small upper levels and level 0 only.
    graphs = cast(list[LevelGraph], LazyLists(max(top, 0) + 1, level_graph))
    m0 = int(cum64[1])
    m = int(cum64[2] - cum64[1]) if cum.size > 2 else m0 // 2
    model_cls = MappedFaissHNSWIndex if getattr(buf, "guard", None) is not None \
        else FaissHNSWIndex
    return model_cls(
        dim=h.d,
        metric=h.metric,
        M=m,
        max_M=m,
        max_M0=m0,
        ef_construction=int(ef_construction),
        mult=1.0 / math.log(m) if m > 1 else 0.0,
        max_elements=n,
        entry_point=int(entry_point),
        max_level=max(top, 0) if n else 0,
        labels=np.arange(n, dtype=np.int64),
        levels=(levels64 - 1).astype(np.int32),
        vectors=storage._vectors,
        deleted=np.zeros(n, bool),
        graphs=graphs,
        source=buf.name,
        _owner=storage._owner,
        metric_type=h.metric_type,
        metric_arg=h.metric_arg,
        ef_search=int(ef_search),
        cum_nneighbor_per_level=np.array(cum, dtype=np.int32),
        assign_probas=np.array(probas, dtype=np.float64),
        fourcc=fourcc,
        storage_qtype=storage.qtype,
        search_vectors=storage.search_vectors,
        pq_codec=storage.pq_codec,
        pq_indices=storage.pq_indices,
    )


def _level_csr(level: int, levels: np.ndarray, offsets: np.ndarray, cum: np.ndarray,
               neighbors: np.ndarray, buf: Any, at: int) -> LevelGraph:
    """Level ``level`` as CSR: each node's links up to its first ``-1``, in faiss's order
    (faiss stops scanning a list at the first ``-1``)."""
    nodes = np.flatnonzero(levels > level).astype(np.int64)
    width = int(cum[level + 1] - cum[level])
    counts = np.zeros(nodes.size, np.int64)
    parts: list[np.ndarray] = []
    # every node's slots on this level are ``width`` consecutive entries: gather them as rows
    # of a strided window view (one memcpy per row, no index array)
    windows = np.lib.stride_tricks.sliding_window_view(neighbors, width) \
        if 0 < width <= neighbors.size else None
    for lo in range(0, nodes.size, _CHUNK):
        chunk = nodes[lo: lo + _CHUNK]
        starts = offsets[chunk].astype(np.int64) + int(cum[level])
        block = windows[starts] if windows is not None else \
            neighbors[starts[:, None] + np.arange(width)]
        valid = block >= 0
        if np.any(valid[:, 1:] & ~valid[:, :-1]):  # a -1 before a link: faiss stops there
            valid = np.cumprod(valid, axis=1, dtype=np.int8).astype(bool)
        counts[lo: lo + chunk.size] = valid.sum(axis=1)
        parts.append(block[valid])
    flat = np.concatenate(parts) if parts else np.empty(0, np.int32)
    if flat.size and int(levels[flat].min()) <= level:
        raise buf.fail(f"not a valid faiss HNSW: a level-{level} link points at an element "
                       "below that level", at)
    csr_offsets = np.zeros(nodes.size + 1, np.int64)
    np.cumsum(counts, out=csr_offsets[1:])
    return LevelGraph(level, nodes, csr_offsets, flat.astype(np.uint32))


class MappedFaissHNSWIndex(FaissHNSWIndex):
    """A :class:`FaissHNSWIndex` whose ``vectors`` view a memory-mapped file: reading the
    attribute asks the file guard (``_owner``) first, so a changed file raises
    ``IndexChangedError`` instead of a signal."""

    @property
    def vectors(self) -> np.ndarray:
        _check_owner(self._owner)
        return self.__dict__["_mapped_vectors"]  # type: ignore[no-any-return]

    @vectors.setter
    def vectors(self, value: np.ndarray) -> None:
        self.__dict__["_mapped_vectors"] = value
