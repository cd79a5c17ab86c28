"""Replay of faiss ``IndexIVFFlat::search`` for one query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UnsupportedIndexError
from .distances import LARGER_IS_CLOSER, screened_faiss_distances
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
    if ids is None:
        ids = np.arange(keys.shape[0], dtype=np.int64)
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

    centroid_d = screened_faiss_distances([index.aligned_centroids], index.centroid_norms, q,
                                          index.metric, nprobe)
    probed = best_positions(centroid_d, nprobe, larger)

    sizes = index.list_sizes[probed]
    lists = probed.tolist()
    blocks = [index.list_block(lst) for lst in lists]
    cand_vectors = [vectors for vectors, _ in blocks]
    cand_norms = np.concatenate([norms for _, norms in blocks])
    cand_ids = np.concatenate([index.list_ids(lst) for lst in lists]).astype(np.int64,
                                                                             copy=False)
    cand_lists = np.repeat(probed, sizes)
    starts = index.list_offsets[probed]
    cand_rows = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + \
        np.arange(cand_ids.size, dtype=np.int64)
    cand_d = screened_faiss_distances(cand_vectors, cand_norms, q, index.metric, k)
    best = best_positions(cand_d, k, larger, cand_ids)

    ids = np.full(k, -1, np.int64)
    distances = np.full(k, -_FLT_MAX if larger else _FLT_MAX, np.float32)
    ids[: best.size] = cand_ids[best]
    distances[: best.size] = cand_d[best]
    return IVFTrace(
        kind="ivf_flat",
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params={"k": k, "nprobe": nprobe},
        coarse=CoarseStep(centroid_d, probed, centroid_d[probed]),
        fine=FineStep(cand_ids, cand_lists, cand_rows, cand_d, best),
    )
