"""Exact top-k by brute force, blockwise over the stored vectors, in each library's convention.

Distances are those of :mod:`feder.trace.distances` (faiss ``l2`` = squared L2, ``ip`` = inner
product, larger first; hnswlib ``l2`` = squared L2, ``ip`` = 1 − dot, ``cosine`` = 1 − cos with
the query normalized). The scan never copies the whole index: a block of rows (a cache-sized
copy of unaligned IVF lists, or a strided view of hnswlib's records, which BLAS reads as they
are) is scored for a chunk of queries with one matrix product, and only the rows that can
still be in a query's top ``k`` are kept. Those few are then recomputed with the replay's
arithmetic (:func:`~feder.trace.distances.faiss_distances` / ``hnswlib_distances``), so a
truth distance equals the replay's distance for the same vector bit for bit, and ties are
decided on exact values. Squared norms of the rows are kept per model after the first scan.
A memory-mapped file's rows are read with pread(2) into the block and the kept rows likewise
(:meth:`~feder.model.IVFFlatIndex.row_blocks`, :func:`~feder.model.row_blocks`), never
through the map: resident memory stays about one block whatever the file's size (through
the map, one scan of 10M×128 left all 5 GB of it resident).

Which rows a kind has is a table (:data:`STORES`, keyed like
:data:`~feder.diagnose.kinds.KINDS`): raw float32 IVF lists, lossy IVF lists decoded list by
list (never all at once), hnswlib records, faiss HNSW / flat storage. Given original vectors
(:func:`original_store`) replace the stored rows; wrappers are seen through first."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..arrays import rows_by_list
from ..errors import ParameterError, QueryError, UnsupportedIndexError
from ..index import as_model
from ..model import IndexModel, IVFFlatIndex, file_guard, read_rows_at, row_blocks
from ..trace.distances import hnswlib_normalize
from ..trace.float32 import dot_rows, squared_l2_rows
from .checks import as_queries, diagnosable_kind, positive_k
from .kinds import KINDS, Unwrapped, unwrap

_FLT_MAX = float(np.finfo(np.float32).max)
_UNIT_ROUNDOFF = 2.0**-24
_QUERY_CHUNK = 1024
_BLOCK_FLOATS = 1 << 18  # ≈ 1 MB of float32 per copied block of rows (stays in cache)
_SCORE_FLOATS = 1 << 21  # ≈ 8 MB of float32 per (queries × rows) score matrix
_VIEW_ROWS = 1 << 16  # rows per block when blocks are views (no copy to keep in cache)
_NORMS: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()
"""model → ``(n,) float32`` squared norms of its rows, filled by the first exact search
(4 bytes a row; later searches then read every vector once) of a model of at most
:data:`_NORMS_CACHED_ROWS` rows."""
_NORMS_CACHED_ROWS = 4_000_000
"""Above this many rows (16 MB of norms) they are not kept: reading the vectors dominates a
large scan, and a 10M index's diagnosis would keep 40 MB for a few per cent."""


@dataclass(frozen=True, eq=False)
class Truth:
    """The exact top-``k`` of a query set, in the index's row space.

    ``rows``: ``(nq, k) int64`` rows (IVF: positions in inverted-list order, as
    ``IVFFlatIndex.ids``; HNSW: internal ids; flat: rows), −1 where fewer than ``k`` vectors
    qualify. ``ids``: ``(nq, k)`` user ids (faiss ``int64`` ids, −1 padded / hnswlib
    ``uint64`` labels). ``distances``: ``(nq, k) float32`` in the library's convention (faiss
    pads with ±FLT_MAX). ``keys``: ``(nq, k) float32`` smaller is closer (``−distance`` for
    faiss ``ip``). ``tied``: ``(nq,) bool`` another vector has exactly the ``k``-th distance,
    so the library's choice among the tied ones depends on its scan order. ``count``:
    ``(nq,) int64`` valid entries per row (``k`` unless the index holds fewer). ``queries``:
    ``(nq, d) float32`` as searched (normalized for hnswlib ``cosine``). ``space``:
    ``"exact"`` (the stored vectors are the originals, or the originals were given) or
    ``"decoded"`` (brute force over the reconstructions of lossy codes). ``measure``:
    ``measure(rows (m,) int64, query (d,) float32) → (m,) float32`` the distance of model
    rows in the same space (NaN for −1).
    """

    rows: np.ndarray
    ids: np.ndarray
    distances: np.ndarray
    keys: np.ndarray
    tied: np.ndarray
    count: np.ndarray
    queries: np.ndarray
    space: str = "exact"
    measure: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


class _Store:
    """The rows of an index model (or of given original vectors) as brute force sees them."""

    model: Any
    n: int
    dim: int
    copies = True
    """Blocks are copies (size them to stay in cache); else views straight into the map."""
    larger_is_closer = False
    squared = True
    """Keys are squared L2 (screened as ‖x‖² − 2q·x); otherwise −q·x (inner products)."""
    faiss = False
    """faiss's convention: float32 reductions as faiss's, −1 / ±FLT_MAX padding."""
    space = "exact"

    @property
    def cache_key(self) -> Any:
        """What the squared norms are cached on (``None``: not cached)."""
        return self.model

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, (m, d) float32 block)`` covering rows ``0..n-1`` in order: a reused
        aligned buffer (valid until the next block) or, when ``copies`` is false, a view."""
        raise NotImplementedError

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), d) float32`` contiguous copy of ``rows``."""
        raise NotImplementedError

    def keys(self, vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """``(m,) float32`` exact keys (smaller is closer) of each row of ``vectors`` to the
        same row of ``queries`` (both ``(m, d) float32``): faiss's own float32 values
        (``fvec_L2sqr`` / ``fvec_inner_product``, see :mod:`feder.trace.float32`), or
        hnswlib's arithmetic (difference first for L2; einsum sums each row alone, so a value
        never depends on its batch)."""
        if self.faiss:
            if self.squared:
                return squared_l2_rows(vectors, queries)
            return np.asarray(-dot_rows(vectors, queries), dtype=np.float32)
        if self.squared:
            diff = vectors - queries
            return np.asarray(np.einsum("ij,ij->i", diff, diff), dtype=np.float32)
        dots = np.einsum("ij,ij->i", vectors, queries)
        return np.asarray(np.float32(1.0) - dots, dtype=np.float32)  # hnswlib 1 − dot

    def to_distance(self, keys: np.ndarray) -> np.ndarray:
        return -keys if self.larger_is_closer else keys

    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        """The ids the index returns for store ``rows``."""
        raise NotImplementedError

    def tie_ids(self, rows: np.ndarray) -> np.ndarray:
        """What the library breaks equal distances on (faiss: its internal ids)."""
        return self.user_ids(rows)

    def model_rows(self, rows: np.ndarray) -> np.ndarray:
        """Store rows → the model's rows (the same unless original vectors were given)."""
        return rows

    def excluded(self, start: int, stop: int) -> np.ndarray | None:
        """``(stop − start,) bool`` rows that never qualify (deleted), or ``None``."""
        return None

    def measure(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """``(m,) float32`` distances (library convention) of model ``rows`` to ``query``
        ``(d,)``; NaN for −1."""
        out = np.full(rows.shape[0], np.nan, np.float32)
        ok = rows >= 0
        if ok.any():
            vectors = self.gather(self.store_rows(rows[ok]))
            keys = self.keys(vectors, np.broadcast_to(query, vectors.shape))
            out[ok] = self.to_distance(keys)
        return out

    def store_rows(self, rows: np.ndarray) -> np.ndarray:
        """Model rows → store rows (inverse of :meth:`model_rows`)."""
        return rows


class _IVFStore(_Store):
    """An IVF's raw float32 lists (``IwFl``), faiss's convention."""

    faiss = True

    def __init__(self, index: IVFFlatIndex):
        if index.metric not in ("l2", "ip"):
            raise UnsupportedIndexError(
                f"exact search of a {index.metric} {index.kind} index is not supported: feder "
                f"handles L2 and inner-product indexes ({index.source})")
        self.index = self.model = index
        self.n = index.ntotal
        self.dim = index.dim
        self.metric = index.metric
        self.larger_is_closer = index.metric == "ip"
        self.squared = index.metric == "l2"
        self.offsets = index.list_offsets
        self.sizes = index.list_sizes

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        # a mapped file's lists are read with pread (IVFFlatIndex.row_blocks): resident
        # memory stays one block, never the file
        return self.index.row_blocks(size)

    def gather(self, rows: np.ndarray) -> np.ndarray:
        return self.index.rows_at(rows)

    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        return self.index.ids_at(np.asarray(rows, np.int64))


class _IVFCodesStore(_IVFStore):
    """An IVF's lossy lists (``IwSq``, ``IwPQ``) decoded block by block (never all at once):
    faiss's reconstructions (decoded codes, plus the list's centroid when ``by_residual``)."""

    space = "decoded"

    def list_rows(self, list_no: int, start: int, stop: int) -> np.ndarray:
        """``(stop − start, d) float32`` the reconstructions of rows ``start:stop`` of list
        ``list_no`` (codes are in memory even for a mapped file: the parser copies them)."""
        index: Any = self.index
        values = index.codec.decode(index.list_codes(list_no)[start:stop])
        if index.by_residual:
            return np.asarray(values + index.centroids[list_no], dtype=np.float32)
        return np.asarray(values, dtype=np.float32)

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        buf = np.empty((min(size, max(self.n, 1)), self.dim), np.float32)
        parts: list[np.ndarray] = []
        filled = start = 0
        for list_no, count in enumerate(self.sizes.tolist()):
            at = 0
            while at < count:
                take = min(count - at, size - filled)
                parts.append(self.list_rows(list_no, at, at + take))
                filled += take
                at += take
                if filled == size:
                    np.concatenate(parts, out=buf[:filled])
                    yield start, buf[:filled]
                    start += filled
                    parts, filled = [], 0
        if filled:
            np.concatenate(parts, out=buf[:filled])
            yield start, buf[:filled]

    def gather(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((rows.shape[0], self.dim), np.float32)
        for list_no, where, within in rows_by_list(self.offsets, rows):
            lo, hi = int(within[0]), int(within[-1]) + 1
            out[where] = self.list_rows(list_no, lo, hi)[within - lo]
        return out


class _RowsStore(_Store):
    """Vectors stored row by row: hnswlib records, faiss HNSW / flat storage (for codes, the
    parser's decoded reconstructions). ``pread``: rows in a memory-mapped file are read with
    pread(2) (:func:`~feder.model.row_blocks`), never through the map."""

    def __init__(self, index: Any, vectors: np.ndarray, ids: np.ndarray, faiss: bool,
                 space: str, pread: bool = True):
        if index.metric not in (("l2", "ip") if faiss else ("l2", "ip", "cosine")):
            raise UnsupportedIndexError(
                f"exact search of a {index.metric} {index.kind} index is not supported: feder "
                f"handles L2 and inner-product indexes ({index.source})")
        self.index = self.model = index
        self.n = index.ntotal
        self.dim = index.dim
        self.metric = index.metric
        self.faiss = faiss
        self.space = space
        self.squared = index.metric == "l2"
        self.larger_is_closer = faiss and index.metric == "ip"
        self.vectors = vectors  # one file check
        self.ids = ids
        self.guard = file_guard(getattr(index, "_owner", None), vectors) if pread else None
        """A memory-mapped file's guard: its rows are then read with pread (blocks into a
        reused buffer), never through the map, so resident memory stays one block."""
        # Rows at float32-aligned addresses and strides go to BLAS as they are (lda = the
        # record size); a buffer read into memory at an odd offset is copied block by block.
        self.copies = self.guard is not None or not (
            vectors.dtype == np.float32 and vectors.flags.aligned
            and vectors.strides[1] == 4 and vectors.strides[0] % 4 == 0)
        deleted = getattr(index, "deleted", None)
        self.deleted = deleted if getattr(index, "num_deleted", 0) else None

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        return row_blocks(self.vectors[: self.n], self.guard, size, views=not self.copies)

    def gather(self, rows: np.ndarray) -> np.ndarray:
        if self.guard is not None:
            return read_rows_at(self.vectors, self.guard, rows)
        return np.ascontiguousarray(self.vectors[rows], dtype=np.float32)

    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.ids[rows], dtype=self.ids.dtype)

    def tie_ids(self, rows: np.ndarray) -> np.ndarray:
        # faiss breaks ties on its internal ids (an id map is applied afterwards)
        return rows if self.faiss else self.user_ids(rows)

    def excluded(self, start: int, stop: int) -> np.ndarray | None:
        return None if self.deleted is None else self.deleted[start:stop]


class _ArrayStore(_Store):
    """The original vectors a user gives for a lossy index (``vectors=``): row ``r`` is model
    row ``to_model[r]``; ``transform`` (a pre-transform) is applied block by block."""

    def __init__(self, base: _Store, vectors: np.ndarray, to_model: np.ndarray,
                 transform: Callable[[np.ndarray], np.ndarray] | None):
        self.base = base
        self.model = base.model
        self.vectors = vectors
        self.n = int(vectors.shape[0])
        self.dim = base.dim
        self.faiss = base.faiss
        self.squared = base.squared
        self.larger_is_closer = base.larger_is_closer
        self.to_model = to_model
        self.transform = transform
        self.copies = not (transform is None and vectors.dtype == np.float32
                           and vectors.flags.c_contiguous and vectors.flags.aligned)

    @property
    def cache_key(self) -> Any:
        return None

    def _rows(self, block: np.ndarray) -> np.ndarray:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if self.transform is not None:
            block = self.transform(block)
        if block.ndim != 2 or block.shape[1] != self.dim:
            raise QueryError(f"vectors become shape {block.shape} in the index's space: "
                             f"expected (m, {self.dim})")
        if not np.isfinite(block).all():
            raise QueryError("vectors hold NaN or infinite values: expected finite values")
        return block

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, self.n, size):
            block = self.vectors[start: start + size]
            if not self.copies and not np.isfinite(block).all():
                raise QueryError(f"vectors rows {start}…{start + block.shape[0] - 1} hold NaN "
                                 "or infinite values: expected finite values")
            yield start, (block if not self.copies else self._rows(block))

    def gather(self, rows: np.ndarray) -> np.ndarray:
        return self._rows(self.vectors[rows])

    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        return self.base.user_ids(self.to_model[rows])

    def tie_ids(self, rows: np.ndarray) -> np.ndarray:
        return self.base.tie_ids(self.to_model[rows])

    def model_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.to_model[rows], np.int64)

    @cached_property
    def _from_model(self) -> np.ndarray:
        inverse = np.empty(self.n, np.int64)
        inverse[self.to_model] = np.arange(self.n, dtype=np.int64)
        return inverse

    def store_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self._from_model[rows], np.int64)


def _ivf_store(model: Any) -> _Store:
    return _IVFStore(model)


def _ivf_codes_store(model: Any) -> _Store:
    return _IVFCodesStore(model)


def _hnswlib_store(model: Any) -> _Store:
    # A mapped hnswlib file is read in place: its parse already made every page resident
    # (level-0 links sit between the vectors), so a pread copy would only cost time.
    return _RowsStore(model, model.vectors, model.labels, faiss=False, space="exact",
                      pread=False)


def _faiss_rows_store(model: Any) -> _Store:
    ids = model.labels if KINDS[model.kind].family == "graph" else model.ids
    space = "decoded" if KINDS[model.kind].codes(model) else "exact"
    return _RowsStore(model, model.vectors, np.asarray(ids), faiss=True, space=space)


STORES: dict[str, Callable[[Any], _Store]] = {
    "ivf_flat": _ivf_store,
    "ivf_hnsw_flat": _ivf_store,
    "ivf_sq": _ivf_codes_store,
    "ivf_pq": _ivf_codes_store,
    "hnsw": _hnswlib_store,
    "faiss_hnsw": _faiss_rows_store,
    "flat": _faiss_rows_store,
}
"""Index kind (:data:`~feder.diagnose.kinds.KINDS`) → brute force over what it stores."""
assert set(STORES) == set(KINDS)

_INTERNAL_IDS: dict[str, Callable[[Any], np.ndarray | None]] = {
    "ivf": lambda m: m.ids, "graph": lambda m: None, "flat": lambda m: None}
"""Family → the internal id of each model row (faiss numbers vectors in the order they
were added; an IVF stores that number — or the id it was given — with each code), ``None``
when it is the row itself."""
_RETURNED_IDS: dict[str, Callable[[Any], np.ndarray]] = {
    "ivf": lambda m: m.ids, "graph": lambda m: m.labels, "flat": lambda m: m.ids}
"""Family → the id the model returns for each row."""


def store_of(model: IndexModel) -> _Store:
    """The brute-force view of ``model`` (a kind of :data:`~feder.diagnose.kinds.KINDS`)."""
    kind = diagnosable_kind(model, "exact search")
    if kind not in STORES:
        raise UnsupportedIndexError(f"exact search sees through {kind} indexes with "
                                    "feder.diagnose.kinds.unwrap first")
    return STORES[kind](model)


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``(m,) int64`` the position of each ``wanted`` value in ``keys`` (−1 if absent)."""
    keys = np.asarray(keys).astype(np.int64, copy=False)
    if keys.size == 0:
        return np.full(wanted.shape, -1, np.int64)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys, wanted, sorter=order), keys.size - 1)
    found = order[pos]
    return np.where(keys[found] == wanted, found, -1).astype(np.int64)


def original_store(model: IndexModel, vectors: Any, vector_ids: Any = None,
                   transform: Callable[[np.ndarray], np.ndarray] | None = None) -> _Store:
    """Brute force over the original vectors of ``model`` (``vectors``: ``(ntotal, d_in)``,
    row ``r`` the vector faiss numbered ``r`` when it was added; or, with ``vector_ids``
    ``(ntotal,)``, the vector the index returns as ``vector_ids[r]``). ``transform`` maps
    a block of them into the model's space (a pre-transform). Every row must be one stored
    vector and every stored vector one row; the vectors are read block by block."""
    base = store_of(model)
    if not base.faiss:
        raise ParameterError(f"vectors= gives the original vectors of a faiss index with "
                             f"lossy codes; this {model.kind} index stores its vectors "
                             "themselves, so its truth is exact without them")
    if not isinstance(vectors, np.ndarray):
        try:
            vectors = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise QueryError(f"vectors must be a numeric array of shape (ntotal, d): {exc}"
                             ) from None
    n = model.ntotal
    if vectors.ndim != 2 or vectors.shape[0] != n or vectors.dtype.kind not in "fiu" or (
            transform is None and vectors.shape[1] != model.dim):
        want = f"({n}, {model.dim})" if transform is None else f"({n}, d)"
        raise QueryError(f"vectors has shape {vectors.shape} and dtype {vectors.dtype}: "
                         f"expected {want} numbers, one row per stored vector")
    family = KINDS[model.kind].family
    if vector_ids is None:
        internal = _INTERNAL_IDS[family](model)
        wanted = np.arange(n, dtype=np.int64)
        to_model = wanted if internal is None else _lookup(internal, wanted)
        what = "the vector added as number"
    else:
        given = np.asarray(vector_ids)
        if given.shape != (n,) or given.dtype.kind not in "iu":
            raise QueryError(f"vector_ids has shape {given.shape} and dtype {given.dtype}: "
                             f"expected ({n},) integer ids, one per row of vectors")
        wanted = given.astype(np.int64)
        to_model = _lookup(_RETURNED_IDS[family](model), wanted)
        what = "id"
    missing = np.flatnonzero(to_model < 0)
    if missing.size:
        r = int(missing[0])
        raise QueryError(f"vectors row {r}: the index holds no {what} {int(wanted[r])} "
                         f"({missing.size} rows like it); give vector_ids= with the id of "
                         "each row when the index was given ids")
    seen = np.bincount(to_model, minlength=n) if n else np.zeros(0, np.int64)
    if seen.size and int(seen.max()) > 1:
        twice = int(np.flatnonzero(seen > 1)[0])
        raise QueryError(f"vectors: two rows are the same stored vector (model row {twice}); "
                         "expected one row per stored vector")
    return _ArrayStore(base, vectors, to_model, transform)


def prepare_queries(model: IndexModel, queries: np.ndarray) -> np.ndarray:
    """``queries`` ``(nq, d) float32`` as the library searches them (hnswlib cosine
    normalizes each row exactly like :func:`~feder.trace.distances.hnswlib_normalize`)."""
    if model.kind == "hnsw" and model.metric == "cosine":  # kind checked by store_of
        return np.stack([hnswlib_normalize(q) for q in queries])
    return queries


def exact_truth(model: IndexModel, queries: np.ndarray, k: int, store: _Store | None = None,
                ) -> Truth:
    """The exact top-``k`` of ``queries`` (``(nq, d) float32``, validated) in ``model`` (a
    kind of :data:`~feder.diagnose.kinds.KINDS`), by brute force over ``store`` (default:
    what the model stores — for lossy codes their reconstructions; see
    :func:`original_store`).

    hnswlib raises :class:`~feder.errors.QueryError` when ``k`` exceeds the live elements
    (hnswlib itself would fail); faiss pads with id −1 and ±FLT_MAX like ``IndexFlat``.
    """
    if store is None:
        store = store_of(model)
    if not store.faiss:
        live = model.ntotal - int(getattr(model, "num_deleted", 0))
        if k > live:
            raise QueryError(f"k = {k} but the hnswlib index holds only {live} live elements "
                             "(hnswlib would fail too): lower k")
    qs = prepare_queries(model, queries)
    parts = [_truth_chunk(store, qs[s: s + _QUERY_CHUNK], k)
             for s in range(0, qs.shape[0], _QUERY_CHUNK)]
    rows, keys, tied, count = (np.concatenate([p[i] for p in parts]) for i in range(4))
    valid = rows >= 0
    ids = _scatter(store.user_ids(rows[valid]), valid)
    distances = store.to_distance(keys).astype(np.float32)
    model_rows = np.full(rows.shape, -1, np.int64)
    model_rows[valid] = store.model_rows(rows[valid])
    if store.faiss:
        ids = np.where(valid, ids, -1)
        distances[~valid] = -_FLT_MAX if store.larger_is_closer else _FLT_MAX
    return Truth(rows=model_rows, ids=ids, distances=distances, keys=keys, tied=tied,
                 count=count, queries=qs, space=store.space, measure=store.measure)


def _scatter(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``values`` ``(v,)`` placed at the true positions of ``valid`` ``(nq, k) bool``
    (zeros elsewhere)."""
    out = np.zeros(valid.shape, values.dtype)
    out[valid] = values
    return out


def _truth_chunk(store: _Store, qs: np.ndarray, k: int,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Screen every block for the queries ``qs`` ``(c, d)``, then select exactly.

    Screening keys come from one matrix product per block: ``‖x‖² − 2q·x`` (squared L2 less
    the query's constant ``‖q‖²``) or ``−q·x`` (inner products, less hnswlib's constant 1).
    They differ from the exact keys (less the same constant) by at most ``b = 4(d + 4)·u·
    (max‖x‖² + ‖q‖² + 1)`` (``u`` = 2⁻²⁴; this covers the exact key's own rounding). A row
    is kept while ``key − b ≤ T``, ``T`` being the smallest ``k``-th ``key + b`` of any block
    seen: ``k`` rows are then surely at least as close, so every dropped row is strictly
    outside the top ``k`` (ties included). The kept rows are recomputed exactly.
    """
    c, d = qs.shape
    q_norms = np.einsum("ij,ij->i", qs, qs).astype(np.float64)
    scaled = qs * np.float32(-2.0 if store.squared else -1.0)  # exact: a power of two
    rows = _VIEW_ROWS if not store.copies else _BLOCK_FLOATS // max(d, 1)
    size = max(64, min(rows, _SCORE_FLOATS // c))
    threshold = np.full(c, np.inf)
    pool_q: list[np.ndarray] = []
    pool_row: list[np.ndarray] = []
    pool_low: list[np.ndarray] = []
    key = store.cache_key if store.n <= _NORMS_CACHED_ROWS else None
    all_norms = None if key is None else _NORMS.get(key)
    cached = all_norms is not None and all_norms.shape[0] == store.n
    if not cached and key is not None:
        all_norms = np.empty(store.n, np.float32)
    top_norm = float(all_norms.max(initial=0.0)) if cached and all_norms is not None else 0.0
    for start, block in store.blocks(size):
        m = block.shape[0]
        if cached and all_norms is not None:
            norms = all_norms[start: start + m]
        else:
            norms = np.einsum("ij,ij->i", block, block)
            if all_norms is not None:
                all_norms[start: start + m] = norms
            top_norm = float(norms.max())
        bound = 4.0 * (d + 4) * _UNIT_ROUNDOFF * (top_norm + q_norms + 1.0)
        scores = scaled @ block.T
        if store.squared:
            scores += norms[None, :]
        drop = store.excluded(start, start + m)
        if drop is not None:
            scores[:, drop] = np.inf  # deleted rows never count towards the k-th bound
        keep = scores <= (threshold + bound)[:, None]
        if not np.isfinite(bound).all():  # overflowing norms: NaN keys are decided exactly
            keep |= np.isnan(scores)
        if drop is not None:
            keep[:, drop] = False
        at = np.flatnonzero(keep)
        if m >= k and at.size >= k:
            # Only a query with k rows under its limit in this block can lower its threshold.
            counts = np.bincount(at // m, minlength=c) if c > 1 else np.array([at.size])
            busy = np.flatnonzero(counts >= k)
            if busy.size:
                sub = scores[busy]
                kth = np.partition(sub, k - 1, axis=1)[:, k - 1]
                threshold[busy] = np.fmin(threshold[busy], kth + bound[busy])
                keep[busy] &= sub <= (threshold + bound)[busy, None]
                at = np.flatnonzero(keep)
        if at.size:
            qi, ri = np.divmod(at, m)
            pool_q.append(qi)
            pool_row.append(ri + start)
            pool_low.append(scores.ravel()[at] - bound[qi])
        if len(pool_q) > 8:  # prune what the lowered thresholds now exclude
            pool_q, pool_row, pool_low = _prune(pool_q, pool_row, pool_low, threshold)
    if not cached and key is not None and all_norms is not None:
        all_norms.flags.writeable = False
        _NORMS[key] = all_norms
    pool_q, pool_row, pool_low = _prune(pool_q, pool_row, pool_low, threshold)
    return _select(store, qs, k, pool_q[0], pool_row[0])


def _prune(pool_q: list[np.ndarray], pool_row: list[np.ndarray], pool_low: list[np.ndarray],
           threshold: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    if not pool_q:
        empty = np.empty(0, np.int64)
        return [empty], [empty], [np.empty(0)]
    q, row, low = np.concatenate(pool_q), np.concatenate(pool_row), np.concatenate(pool_low)
    keep = ~(low > threshold[q])
    return [q[keep]], [row[keep].astype(np.int64)], [low[keep]]


def _select(store: _Store, qs: np.ndarray, k: int, pool_q: np.ndarray, pool_row: np.ndarray,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact keys of the kept rows, then the library's top-``k`` of each query.

    Rows are ordered by (query, key, id): faiss keeps the smaller ids of equal distances
    (its scan order), hnswlib orders equal distances by label. Keys at or beyond FLT_MAX and
    NaN never enter a library's heap, so they never qualify."""
    c = qs.shape[0]
    rows_out = np.full((c, k), -1, np.int64)
    keys_out = np.full((c, k), _FLT_MAX, np.float32)
    keys = store.keys(store.gather(pool_row), qs[pool_q]) if pool_row.size else \
        np.empty(0, np.float32)
    ok = keys < _FLT_MAX
    q, rows, keys = pool_q[ok], pool_row[ok], keys[ok]
    ties = store.tie_ids(rows)
    order = np.lexsort((ties, keys, q))
    q, rows, keys, ties = q[order], rows[order], keys[order], ties[order]
    first = np.searchsorted(q, np.arange(c + 1))
    rank = np.arange(q.size) - first[q]
    count = np.minimum(np.diff(first), k)
    # Exactly tied at the k-th distance: the (k+1)-th row has the k-th row's key.
    tied = np.zeros(c, bool)
    over = np.flatnonzero(rank == k)
    tied[q[over]] = keys[over] == keys[over - 1]
    take = rank < k
    q, rows, keys, ties, rank = q[take], rows[take], keys[take], ties[take], rank[take]
    if store.larger_is_closer:  # faiss lists equal inner products by descending id
        again = np.lexsort((~ties, keys, q))
        rows, keys = rows[again], keys[again]
    rows_out[q, rank] = rows
    keys_out[q, rank] = keys
    return rows_out, keys_out, tied, count.astype(np.int64)


def truth_of(seen: Unwrapped, queries: np.ndarray, k: int, vectors: Any = None,
             vector_ids: Any = None) -> Truth:
    """The truth of ``queries`` (``(nq, d_outer) float32``, validated) for the model
    ``seen`` unwraps, at the inner model's level (its rows and ids): over the given original
    ``vectors`` (see :func:`original_store`; ``vector_ids`` are the outer model's ids) or
    over what the index stores."""
    qs = seen.queries(queries)
    return exact_truth(seen.inner, qs, k, truth_store(seen, vectors, vector_ids))


def truth_store(seen: Unwrapped, vectors: Any = None, vector_ids: Any = None) -> _Store:
    """What the truth of the model ``seen`` unwraps is computed over: the given original
    ``vectors`` (:func:`original_store`; ``vector_ids`` are the outer model's ids) or what
    the inner model stores (:func:`store_of`). Its ``space`` says which (``"exact"`` /
    ``"decoded"``) and its ``measure(rows, query)`` gives the distance of inner-model rows
    to an inner-space query in that space."""
    inner = seen.inner
    if vectors is not None:
        ids = None
        if vector_ids is not None:
            given = np.asarray(vector_ids)
            if given.ndim != 1 or given.dtype.kind not in "iu":
                raise QueryError(f"vector_ids has shape {given.shape} and dtype {given.dtype}: "
                                 "expected (ntotal,) integer ids, one per row of vectors")
            ids = seen.inner_ids(given.astype(np.int64))
            absent = np.flatnonzero(ids < 0)
            if absent.size:
                r = int(absent[0])
                raise QueryError(f"vectors row {r}: the index holds no id {int(given[r])} "
                                 f"({absent.size} rows like it)")
        return original_store(inner, vectors, ids, seen.vector_transform())
    if vector_ids is not None:
        raise ParameterError("vector_ids= names the rows of vectors=: give both")
    return store_of(inner)


def exact_search(index: Any, queries: Any, k: int = 10, *, vectors: Any = None,
                 vector_ids: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest neighbours of ``queries`` by brute force over every stored,
    non-deleted vector, in the library's own distance convention.

    ``index``: a :class:`feder.Index` or a model of any kind the diagnostics handle
    (:data:`feder.diagnose.kinds.SUPPORTED_KINDS`). ``queries``: ``(nq, d)`` (or one ``(d,)``
    vector), any float dtype. Returns ``(ids, distances)``, both ``(nq, k)``: faiss ids
    ``int64`` with squared L2 ascending (``l2``) or inner product descending (``ip``), padded
    with −1 and ±FLT_MAX like ``IndexFlat``; hnswlib labels ``uint64`` with squared L2
    (``l2``), 1 − dot (``ip``) or 1 − cos (``cosine``, query normalized), ascending. Ties
    follow the libraries: the smaller id first (faiss ``ip``: of the tied ids a flat scan
    keeps, the larger first).

    Lossy codes (IVF_SQ, IVF_PQ, faiss ``IndexPQ`` / ``IndexScalarQuantizer``, HNSW over
    SQ / PQ) do not keep the original vectors: the brute force then runs over the decoded
    reconstructions, unless ``vectors`` gives the originals — ``(ntotal, d)``, row ``r`` the
    vector faiss numbered ``r`` (the order they were added in; under an ``IndexIDMap`` too),
    or, with ``vector_ids`` ``(ntotal,)``, the vector the index returns as ``vector_ids[r]``
    (for an index given ids with ``add_with_ids``). They are read block by block (a memory
    map is never copied whole); a pre-transform is applied to them as to the queries.
    """
    model = as_model(index)
    diagnosable_kind(model, "exact_search")
    seen = unwrap(model)
    qs = as_queries(queries, model.dim)
    truth = truth_of(seen, qs, positive_k(k), vectors, vector_ids)
    return seen.outer_ids(truth.ids) if seen.chain else truth.ids, truth.distances
