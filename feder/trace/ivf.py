"""Replay of faiss ``IndexIVFFlat::search`` for one query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UnsupportedIndexError
from ..model import REPLAYED_METRICS, as_query, positive_int
from .distances import LARGER_IS_CLOSER, faiss_distances
from .types import CoarseStep, FineStep, IVFTrace

if TYPE_CHECKING:
    from ..model import IVFFlatIndex

_FLT_MAX = np.float32(np.finfo(np.float32).max)


def best_positions(distances: np.ndarray, count: int, larger_is_closer: bool) -> np.ndarray:
    """``(min(count, m),) int64`` positions of the ``count`` best of ``distances`` ``(m,)``,
    best first; ties keep scan order (a stable sort, as faiss's heap keeps the first seen)."""
    keys = -distances if larger_is_closer else distances
    m = keys.shape[0]
    if count < m:
        part = np.argpartition(keys, count - 1)[:count]
        # argpartition may pick any of several equal keys at the boundary; faiss keeps the
        # earliest, so settle ties on the boundary value by position.
        boundary = keys[part].max()
        chosen = np.flatnonzero(keys < boundary)
        tied = np.flatnonzero(keys == boundary)[: count - chosen.size]
        part = np.concatenate([chosen, tied])
    else:
        part = np.arange(m)
    order = np.lexsort((part, keys[part]))
    return part[order].astype(np.int64)


def trace_ivf_flat(index: IVFFlatIndex, query: Any, k: int = 5, nprobe: int = 1) -> IVFTrace:
    """Replay ``IndexIVFFlat.search(query, k)`` with ``nprobe`` lists.

    ``nprobe`` above ``nlist`` is clamped like faiss; ``k`` above the number of candidates
    pads ids with −1 and distances with ±FLT_MAX like faiss.
    """
    if index.metric not in REPLAYED_METRICS["ivf_flat"]:
        arg = f" (metric_arg = {index.metric_arg:g})" if index.metric_type > 1 else ""
        raise UnsupportedIndexError(
            f"metric {index.metric}{arg} is read but its search is not replayed yet: feder "
            f"traces L2 and inner-product IVF_FLAT indexes ({index.source})")
    q = as_query(query, index.dim)
    k = positive_int(k, "k")
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)
    larger = index.metric in LARGER_IS_CLOSER

    centroid_d = faiss_distances(index.centroids, q, index.metric)
    probed = best_positions(centroid_d, nprobe, larger)

    sizes = index.list_sizes[probed]
    codes = [index.list_vectors(int(lst)) for lst in probed]
    if int(sizes.sum()):
        cand_vectors = np.concatenate(codes, axis=0)
        cand_ids = np.concatenate([index.list_ids(int(lst)) for lst in probed])
    else:
        cand_vectors = np.empty((0, index.dim), np.float32)
        cand_ids = np.empty(0, np.int64)
    cand_lists = np.repeat(probed, sizes)
    starts = index.list_offsets[probed]
    cand_rows = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + \
        np.arange(cand_ids.size, dtype=np.int64)
    cand_d = faiss_distances(cand_vectors, q, index.metric)
    best = best_positions(cand_d, k, larger)

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
        fine=FineStep(cand_ids.astype(np.int64, copy=False), cand_lists, cand_rows, cand_d, best),
    )
