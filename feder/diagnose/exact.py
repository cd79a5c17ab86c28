"""Exact top-k by brute force, blockwise over the stored vectors, in each library's convention.

Distances are those of :mod:`feder.trace.distances` (faiss ``l2`` = squared L2, ``ip`` = inner
product, larger first; hnswlib ``l2`` = squared L2, ``ip`` = 1 − dot, ``cosine`` = 1 − cos with
the query normalized). The scan never copies the whole index: a block of rows (a cache-sized
copy of unaligned IVF lists, or a strided view of hnswlib's records, which BLAS reads as they
are) is scored for a chunk of queries with one matrix product, and only the rows that can
still be in a query's top ``k`` are kept. Those few are then recomputed with the replay's
arithmetic (:func:`~feder.trace.distances.faiss_distances` / ``hnswlib_distances``), so a
truth distance equals the replay's distance for the same vector bit for bit, and ties are
decided on exact values. Squared norms of the rows are kept per model after the first scan."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import QueryError, UnsupportedIndexError
from ..index import as_model
from ..model import HNSWIndex, IndexModel, IVFFlatIndex
from ..trace.distances import hnswlib_normalize
from ..trace.float32 import dot_rows, squared_l2_rows
from .checks import as_queries, diagnosable_kind, positive_k

_FLT_MAX = float(np.finfo(np.float32).max)
_UNIT_ROUNDOFF = 2.0**-24
_QUERY_CHUNK = 1024
_BLOCK_FLOATS = 1 << 18  # ≈ 1 MB of float32 per copied block of rows (stays in cache)
_SCORE_FLOATS = 1 << 21  # ≈ 8 MB of float32 per (queries × rows) score matrix
_VIEW_ROWS = 1 << 16  # rows per block when blocks are views (no copy to keep in cache)
_NORMS: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()
"""model → ``(n,) float32`` squared norms of its rows, filled by the first exact search
(4 bytes a row; later searches then read every vector once)."""


@dataclass(frozen=True, eq=False)
class Truth:
    """The exact top-``k`` of a query set, in the index's row space.

    ``rows``: ``(nq, k) int64`` rows (IVF: positions in inverted-list order, as
    ``IVFFlatIndex.ids``; HNSW: internal ids), −1 where fewer than ``k`` vectors qualify.
    ``ids``: ``(nq, k)`` user ids (faiss ``int64`` ids, −1 padded / hnswlib ``uint64`` labels).
    ``distances``: ``(nq, k) float32`` in the library's convention (faiss pads with ±FLT_MAX).
    ``keys``: ``(nq, k) float32`` smaller is closer (``−distance`` for faiss ``ip``).
    ``tied``: ``(nq,) bool`` another stored vector has exactly the ``k``-th distance, so the
    library's choice among the tied ones depends on its scan order.
    ``count``: ``(nq,) int64`` valid entries per row (``k`` unless the index holds fewer).
    ``queries``: ``(nq, d) float32`` as searched (normalized for hnswlib ``cosine``).
    """

    rows: np.ndarray
    ids: np.ndarray
    distances: np.ndarray
    keys: np.ndarray
    tied: np.ndarray
    count: np.ndarray
    queries: np.ndarray


class _Store:
    """The rows of an index model as brute force sees them (subclasses: IVF, HNSW)."""

    model: Any
    n: int
    dim: int
    copies = True
    """Blocks are copies (size them to stay in cache); else views straight into the map."""
    larger_is_closer = False
    squared = True
    """Keys are squared L2 (screened as ‖x‖² − 2q·x); otherwise −q·x (inner products)."""

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, (m, d) float32 block)`` covering rows ``0..n-1`` in order: a reused
        aligned buffer (valid until the next block) or, when ``copies`` is false, a view."""
        raise NotImplementedError

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), d) float32`` contiguous copy of ``rows``."""
        raise NotImplementedError

    def keys(self, vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """``(m,) float32`` exact keys (smaller is closer) of each row of ``vectors`` to the
        same row of ``queries`` (both ``(m, d) float32``), with the arithmetic of
        :func:`~feder.trace.distances.faiss_distances` / ``hnswlib_distances`` (difference
        first for L2; einsum sums each row alone, so a value never depends on its batch)."""
        if self.squared:
            diff = vectors - queries
            return np.asarray(np.einsum("ij,ij->i", diff, diff), dtype=np.float32)
        dots = np.einsum("ij,ij->i", vectors, queries)
        if self.larger_is_closer:  # faiss inner product, negated
            return np.asarray(-dots, dtype=np.float32)
        return np.asarray(np.float32(1.0) - dots, dtype=np.float32)  # hnswlib 1 − dot

    def to_distance(self, keys: np.ndarray) -> np.ndarray:
        return -keys if self.larger_is_closer else keys

    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def excluded(self, start: int, stop: int) -> np.ndarray | None:
        """``(stop − start,) bool`` rows that never qualify (deleted), or ``None``."""
        return None


class _IVFStore(_Store):
    def __init__(self, index: IVFFlatIndex):
        if index.metric not in ("l2", "ip"):
            raise UnsupportedIndexError(
                f"exact search of a {index.metric} IVF_FLAT index is not supported: feder "
                f"handles L2 and inner-product indexes ({index.source})")
        self.index = self.model = index
        self.n = index.ntotal
        self.dim = index.dim
        self.metric = index.metric
        self.larger_is_closer = index.metric == "ip"
        self.squared = index.metric == "l2"
        # One file check for all lists (the model's GuardedList checks on iteration).
        self.lists: list[np.ndarray] = list(index._codes)
        self.offsets = index.list_offsets

    def keys(self, vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """faiss's own float32 values (``fvec_L2sqr`` / ``fvec_inner_product``, as the
        replay sees them near the top-k boundary: see :mod:`feder.trace.float32`)."""
        if self.squared:
            return squared_l2_rows(vectors, queries)
        return np.asarray(-dot_rows(vectors, queries), dtype=np.float32)

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        buf = np.empty((min(size, max(self.n, 1)), self.dim), np.float32)
        parts: list[np.ndarray] = []
        filled = start = 0
        for view in self.lists:
            at = 0
            while at < view.shape[0]:
                take = min(view.shape[0] - at, size - filled)
                parts.append(view[at: at + take])
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
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        lists = np.searchsorted(self.offsets, ordered, side="right") - 1
        within = ordered - self.offsets[lists]
        starts = np.flatnonzero(np.diff(lists, prepend=-1))  # one run per list
        ends = np.append(starts[1:], rows.shape[0])
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            out[order[a:b]] = self.lists[int(lists[a])][within[a:b]]
        return out

    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.index.ids[rows], dtype=np.int64)


class _HNSWStore(_Store):
    def __init__(self, index: HNSWIndex):
        self.index = self.model = index
        self.n = index.ntotal
        self.dim = index.dim
        self.metric = index.metric
        self.squared = index.metric == "l2"
        self.vectors = index.vectors  # one file check
        # Rows at float32-aligned addresses and strides go to BLAS as they are (lda = the
        # record size); a buffer read into memory at an odd offset is copied block by block.
        self.copies = not (self.vectors.flags.aligned and self.vectors.strides[1] == 4
                           and self.vectors.strides[0] % 4 == 0)
        self.deleted = index.deleted if index.num_deleted else None

    def blocks(self, size: int) -> Iterator[tuple[int, np.ndarray]]:
        if not self.copies:
            for start in range(0, self.n, size):
                yield start, self.vectors[start: start + size]
            return
        buf = np.empty((min(size, max(self.n, 1)), self.dim), np.float32)
        for start in range(0, self.n, size):
            stop = min(start + size, self.n)
            np.copyto(buf[: stop - start], self.vectors[start:stop])
            yield start, buf[: stop - start]

    def gather(self, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.vectors[rows], dtype=np.float32)

    def user_ids(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.index.labels[rows], dtype=np.uint64)

    def excluded(self, start: int, stop: int) -> np.ndarray | None:
        return None if self.deleted is None else self.deleted[start:stop]


def store_of(model: IndexModel) -> _Store:
    """The brute-force view of ``model``."""
    kind = diagnosable_kind(model, "exact search")
    if kind == "ivf_flat":
        assert isinstance(model, IVFFlatIndex)
        return _IVFStore(model)
    assert isinstance(model, HNSWIndex)
    return _HNSWStore(model)


def prepare_queries(model: IndexModel, queries: np.ndarray) -> np.ndarray:
    """``queries`` ``(nq, d) float32`` as the library searches them (hnswlib cosine
    normalizes each row exactly like :func:`~feder.trace.distances.hnswlib_normalize`)."""
    if model.kind == "hnsw" and model.metric == "cosine":  # kind checked by store_of
        return np.stack([hnswlib_normalize(q) for q in queries])
    return queries


def exact_truth(model: IndexModel, queries: np.ndarray, k: int) -> Truth:
    """The exact top-``k`` of ``queries`` (``(nq, d) float32``, validated) in ``model``.

    hnswlib raises :class:`~feder.errors.QueryError` when ``k`` exceeds the live elements
    (hnswlib itself would fail); faiss pads with id −1 and ±FLT_MAX like ``IndexFlat``.
    """
    store = store_of(model)
    if isinstance(store, _HNSWStore):
        live = store.index.ntotal - store.index.num_deleted
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
    if isinstance(store, _IVFStore):
        ids = np.where(valid, ids, -1)
        distances[~valid] = -_FLT_MAX if store.larger_is_closer else _FLT_MAX
    return Truth(rows=rows, ids=ids, distances=distances, keys=keys, tied=tied, count=count,
                 queries=qs)


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
    all_norms = _NORMS.get(store.model)
    cached = all_norms is not None and all_norms.shape[0] == store.n
    if not cached:
        all_norms = np.empty(store.n, np.float32)
    assert all_norms is not None
    top_norm = float(all_norms.max(initial=0.0)) if cached else 0.0
    for start, block in store.blocks(size):
        m = block.shape[0]
        if cached:
            norms = all_norms[start: start + m]
        else:
            norms = all_norms[start: start + m] = np.einsum("ij,ij->i", block, block)
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
    if not cached:
        all_norms.flags.writeable = False
        _NORMS[store.model] = all_norms
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
    ties = store.user_ids(rows)
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


def exact_search(index: Any, queries: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest neighbours of ``queries`` by brute force over every stored,
    non-deleted vector, in the library's own distance convention.

    ``index``: a :class:`feder.Index` or a model. ``queries``: ``(nq, d)`` (or one ``(d,)``
    vector), any float dtype. Returns ``(ids, distances)``, both ``(nq, k)``: faiss ids
    ``int64`` with squared L2 ascending (``l2``) or inner product descending (``ip``), padded
    with −1 and ±FLT_MAX like ``IndexFlat``; hnswlib labels ``uint64`` with squared L2
    (``l2``), 1 − dot (``ip``) or 1 − cos (``cosine``, query normalized), ascending. Ties
    follow the libraries: the smaller id first (faiss ``ip``: of the tied ids a flat scan
    keeps, the larger first).
    """
    model = as_model(index)
    diagnosable_kind(model, "exact_search")
    qs = as_queries(queries, model.dim)
    truth = exact_truth(model, qs, positive_k(k))
    return truth.ids, truth.distances
