"""Replay of faiss ``IndexIVFFlat::search`` for one query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UnsupportedIndexError
from . import accel
from .distances import LARGER_IS_CLOSER, faiss_distances, screened_faiss_distances
from .query import as_query, positive_int
from .types import CoarseStep, FineStep, IVFTrace

if TYPE_CHECKING:
    from ..model import IVFFlatIndex

_FLT_MAX = np.float32(np.finfo(np.float32).max)
PAD_LIMIT = 1024
"""``k`` is capped at ``max(ntotal, PAD_LIMIT)`` before anything is allocated: beyond the
index's size faiss would only add −1 padding (``search(k=10**9)`` would need 12 GB)."""


def best_positions(distances: np.ndarray, count: int, larger_is_closer: bool,
                   ids: np.ndarray | None = None) -> np.ndarray:
    """``(≤count,) int64`` positions of the ``count`` best of ``distances`` ``(m,)`` (scanned in
    this order; ``ids`` default to the positions), best first, exactly as faiss's heap keeps them.

    faiss starts from ``count`` sentinels at ±FLT_MAX and admits a value only if it is strictly
    better than the heap's worst, which it evicts; the worst of equal values is the larger id
    (L2) or the smaller id (IP). So NaN and values at or beyond ±FLT_MAX never enter; of the
    values tied at the boundary, only those among the first ``count`` admissible ones (in scan
    order) enter, and the best ids of those stay. Results are sorted by (value, id), ids
    descending among equal inner products.
    """
    keys = -distances if larger_is_closer else distances
    n = keys.shape[0]
    if 0 < count < n:  # the common case first: no tie at the boundary, all values admissible
        boundary = np.partition(keys, count - 1)[count - 1]
        if boundary < _FLT_MAX:  # NaN sorts last: below it every value is admissible
            part = np.flatnonzero(keys <= boundary)
            if part.size == count:
                tie = part if ids is None else ids[part]
                order = np.lexsort((~tie if larger_is_closer else tie, keys[part]))
                return np.asarray(part[order], dtype=np.int64)
    if ids is None:
        ids = np.arange(n, dtype=np.int64)
    tie_keys = ~ids if larger_is_closer else ids  # ~ reverses the order without overflow
    below = keys < _FLT_MAX  # also drops NaN
    admissible = np.arange(keys.shape[0]) if below.all() else np.flatnonzero(below)
    if count < admissible.size:
        adm_keys = keys if admissible.size == keys.shape[0] else keys[admissible]
        boundary = np.partition(adm_keys, count - 1)[count - 1]
        part = admissible[adm_keys <= boundary]
        if part.size > count:
            first = part[:count]
            tied = first[keys[first] == boundary]
            better = part[keys[part] < boundary]
            keep = tied[np.argsort(tie_keys[tied], kind="stable")[: count - better.size]]
            part = np.concatenate([better, keep])
    else:
        part = admissible
    order = np.lexsort((tie_keys[part], keys[part]))
    return np.asarray(part[order], dtype=np.int64)


_UNIT_ROUNDOFF = 2.0**-24


def screened_list_distances(parts: list[np.ndarray], norms: np.ndarray, query: np.ndarray,
                            metric: str, count: int) -> np.ndarray:
    """``(m,) float32`` distances to ``query`` ``(d,) float32`` of the rows of the probed
    lists ``parts`` (``(m_i, d) float32`` aligned, ``m = Σ m_i``; ``norms`` their ``(m,)
    float32`` squared norms), exact (faiss's own float32 values) wherever they can decide a
    top-``count`` selection.

    :func:`~feder.trace.distances.screened_faiss_distances` for many small parts: one BLAS
    ``dot`` per list (numpy's ``@`` costs twice the call overhead on lists of a few hundred
    rows), and the few rows near the ``count``-th best are gathered list by list. Rows
    within ``2b`` of it (``b = 4(d + 2)·u·(max‖x‖² + ‖q‖²)`` bounds the rounding of the
    expanded form) are recomputed exactly; the others provably lie outside the top
    ``count``, so a selection over the result equals one over exact distances.
    """
    m = int(norms.shape[0])
    if m <= max(4 * count, 64):
        return screened_faiss_distances(parts, norms, query, metric, count)
    dots = np.concatenate([part.dot(query) for part in parts]) if len(parts) > 1 else \
        parts[0].dot(query)
    q_norm = float(np.dot(query, query))
    if metric == "ip":
        approx = dots
        keys = -dots
    else:
        approx = norms - np.float32(2.0) * dots
        approx += np.float32(q_norm)
        keys = approx
    bound = 4.0 * (query.shape[0] + 2) * _UNIT_ROUNDOFF * (float(norms.max()) + q_norm)
    if not np.isfinite(bound):
        return faiss_distances(np.concatenate(parts), query, metric)
    threshold = float(np.partition(keys, count - 1)[count - 1]) + 2.0 * bound
    near = np.flatnonzero(~(keys > threshold))  # NaN thresholds keep every row exact
    if len(parts) == 1:
        if near.size:
            approx[near] = faiss_distances(parts[0][near], query, metric)
        return np.asarray(approx, dtype=np.float32)
    starts = np.cumsum([0] + [part.shape[0] for part in parts])
    which = np.searchsorted(starts, near, side="right") - 1
    within = near - starts[which]
    groups: dict[int, list[int]] = {}
    for at, part in enumerate(which.tolist()):  # near rows are few: about count
        groups.setdefault(part, []).append(at)
    pieces = [parts[part][within[ats]] for part, ats in groups.items()]
    if pieces:
        approx[near] = faiss_distances(np.concatenate(pieces) if len(pieces) > 1 else
                                       pieces[0], query, metric)
    return np.asarray(approx, dtype=np.float32)


def trace_ivf_flat(index: IVFFlatIndex, query: Any, k: int = 5, nprobe: int = 1) -> IVFTrace:
    """Replay ``IndexIVFFlat.search(query, k)`` with ``nprobe`` lists.

    ``nprobe`` above ``nlist`` is clamped like faiss; ``k`` above the number of candidates
    pads ids with −1 and distances with ±FLT_MAX like faiss, up to ``max(ntotal, 1024)``
    results: a larger ``k`` is clamped to that (see :data:`PAD_LIMIT`; ``trace.k`` is the
    clamped value).
    """
    if index.metric not in ("l2", "ip"):
        arg = f" (metric_arg = {index.metric_arg:g})" if index.metric_type > 1 else ""
        raise UnsupportedIndexError(
            f"metric {index.metric}{arg} is read but its search is not replayed yet: feder "
            f"traces L2 and inner-product IVF_FLAT indexes ({index.source})")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)
    larger = index.metric in LARGER_IS_CLOSER

    centroid_d = kernel_scan(index.centroid_address, index.nlist_array, q, index.metric, nprobe)
    if centroid_d is None:
        centroid_d = screened_list_distances([index.aligned_centroids], index.centroid_norms,
                                             q, index.metric, nprobe)
    probed = best_positions(centroid_d, nprobe, larger)
    cand_ids, cand_d = probed_distances(index, probed, q, k)
    return probed_trace(index, q, k, nprobe, centroid_d, probed, cand_ids, cand_d,
                        kind="ivf_flat")


_NO_FLOATS = np.empty(0, np.float32)
_NO_IDS = np.empty(0, np.int64)


def kernel_scan(sources: np.ndarray, sizes: np.ndarray, query: np.ndarray, metric: str,
                count: int, fd: int = -1, buf: np.ndarray = _NO_FLOATS,
                id_sources: np.ndarray = _NO_IDS, ids: np.ndarray = _NO_IDS,
                ) -> np.ndarray | None:
    """:func:`screened_list_distances` of lists through the numba scan kernel
    (``_graph_kernels.scan_lists``: ``sources`` addresses of live aligned ``(sizes[j], d)
    float32`` arrays, or with ``fd ≥ 0`` byte offsets in that file, read into ``buf``, and
    the lists' ids at ``id_sources`` into ``ids``), or ``None`` when the kernels are not
    warm, refuse these arguments, or the file ended while read: the caller then uses
    numpy."""
    kernels = accel.graph_kernels()
    if kernels is None:
        return None
    found = accel.guarded(lambda: kernels.scan_lists(
        fd, sources, sizes, query, metric == "ip", count, buf, id_sources, ids))
    if found is None or found[1] != 0:
        return None
    distances: np.ndarray = found[0]
    return distances


SCAN_BLOCK_FLOATS = 1 << 22
"""The scan kernel reads a mapped file's list into a scratch buffer of at most this many
float32 (16 MiB; each thread keeps its own), a block of rows at a time if the list is larger."""


def probed_distances(index: IVFFlatIndex, probed: np.ndarray, query: np.ndarray,
                     count: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, distances)`` ``(m,) int64`` / ``(m,) float32`` of every row of the float32
    lists ``probed`` (``(p,) int64``, scan order) to ``query``, exact wherever they decide a
    top-``count`` selection: the scan kernel when it is warm, else numpy's screen (which
    also reports a file changed under its map)."""
    if not probed.size:
        return np.empty(0, np.int64), np.empty(0, np.float32)
    if accel.graph_kernels() is not None:
        sizes = index.list_sizes[probed]
        sources, fd, id_sources = index.scan_sources(probed)
        buf = accel.scratch_floats(
            min(int(sizes.max()) * index.dim, max(SCAN_BLOCK_FLOATS, index.dim)) if fd >= 0
            else 0)
        ids = np.empty(int(sizes.sum()) if id_sources.size else 0, np.int64)
        found = kernel_scan(sources, sizes, query, index.metric, count, fd, buf, id_sources,
                            ids)
        if found is not None:
            if not id_sources.size:
                return index.probed_ids(probed.tolist()), found
            index.check_file()  # a file changed during the reads raises IndexChangedError
            return ids, found
    parts, norms, ids = index.probe_lists(probed.tolist())
    return ids, screened_list_distances(parts, norms, query, index.metric, count)


def probed_trace(index: IVFFlatIndex, q: np.ndarray, k: int, nprobe: int,
                 centroid_d: np.ndarray, probed: np.ndarray, cand_ids: np.ndarray,
                 cand_d: np.ndarray, kind: str | None = None, coarse_graph: Any = None,
                 ) -> IVFTrace:
    """The :class:`IVFTrace` of an IVF search that probed the lists ``probed`` (``(p,)
    int64``, scan order; ``centroid_d`` ``(nlist,) float32`` the coarse distances) and
    computed ``cand_d`` ``(m,) float32`` for their rows in that order (``cand_ids`` ``(m,)
    int64``): the top ``k`` as faiss keeps them (ties by id), padded with −1 / ±FLT_MAX like
    faiss. ``kind`` defaults to the index's."""
    larger = index.metric in LARGER_IS_CLOSER
    sizes = index.list_sizes[probed]
    cand_lists = np.repeat(probed, sizes)
    # row r of the concatenation: its list's offset in the index + its place in the list
    cand_rows = np.repeat(index.list_offsets[probed] - (np.cumsum(sizes) - sizes), sizes)
    cand_rows += np.arange(cand_ids.size, dtype=np.int64)
    best = best_positions(cand_d, k, larger, cand_ids)
    ids = np.full(k, -1, np.int64)
    distances = np.full(k, -_FLT_MAX if larger else _FLT_MAX, np.float32)
    ids[: best.size] = cand_ids[best]
    distances[: best.size] = cand_d[best]
    return IVFTrace(
        kind=index.kind if kind is None else kind,
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params={"k": k, "nprobe": nprobe},
        coarse=CoarseStep(centroid_d, probed, centroid_d[probed]),
        fine=FineStep(cand_ids, cand_lists, cand_rows, cand_d, best),
        coarse_graph=coarse_graph,
    )
