"""Replay of faiss IVF searches over coded lists: ``IndexIVFScalarQuantizer::search``.

The coarse step is IVF_FLAT's. In each probed list faiss's scanner compares the query with
the decoded codes: for L2 with ``by_residual`` it first subtracts the list's centroid from the
query (``compute_residual``) and sums ``(r_q − decoded)²``; for inner product with
``by_residual`` it adds the coarse inner product ``⟨q, c⟩`` to ``⟨q, decoded⟩``. The top ``k``
follow faiss's heap (strictly better admitted, ties on ids), as for IVF_FLAT. Sums are taken
in float64 and rounded once, so a value differs from faiss's SIMD float32 sum by a few ulps at
most; identical codes give identical values, so ties resolve as in faiss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .distances import LARGER_IS_CLOSER, screened_faiss_distances
from .flat import check_metric
from .ivf import PAD_LIMIT, best_positions
from .query import as_query, positive_int
from .types import CoarseStep, FineStep, IVFTrace

if TYPE_CHECKING:
    from ..model import IVFSQIndex

_FLT_MAX = np.float32(np.finfo(np.float32).max)


def code_distances(decoded: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """``(m,) float32`` squared L2 / inner product of ``query`` with each decoded row, summed
    in float64."""
    q64 = query.astype(np.float64)
    rows = decoded.astype(np.float64)
    if metric == "ip":
        return np.asarray(rows @ q64, dtype=np.float32)
    diff = rows - q64
    return np.asarray(np.einsum("ij,ij->i", diff, diff), dtype=np.float32)


def trace_ivf_sq(index: IVFSQIndex, query: Any, k: int = 5, nprobe: int = 1) -> IVFTrace:
    """Replay ``IndexIVFScalarQuantizer.search(query, k)`` with ``nprobe`` lists; candidate
    distances are the code distances faiss ranks by."""
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "IVF_SQ")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)
    larger = index.metric in LARGER_IS_CLOSER

    centroid_d = screened_faiss_distances([index.aligned_centroids], index.centroid_norms, q,
                                          index.metric, nprobe)
    probed = best_positions(centroid_d, nprobe, larger)

    parts: list[np.ndarray] = []
    for list_no, coarse_d in zip(probed.tolist(), centroid_d[probed].tolist(), strict=True):
        decoded = index.list_decoded(list_no)
        if index.metric == "ip":
            d = code_distances(decoded, q, "ip")
            if index.by_residual:
                d = np.asarray(np.float32(coarse_d) + d, dtype=np.float32)
        else:
            target = (q - index.centroids[list_no]).astype(np.float32) if index.by_residual \
                else q
            d = code_distances(decoded, target, "l2")
        parts.append(d)
    sizes = index.list_sizes[probed]
    cand_d = np.concatenate(parts) if parts else np.empty(0, np.float32)
    cand_ids = np.concatenate([index.list_ids(lst) for lst in probed.tolist()]).astype(
        np.int64, copy=False)
    cand_lists = np.repeat(probed, sizes)
    starts = index.list_offsets[probed]
    cand_rows = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + \
        np.arange(cand_ids.size, dtype=np.int64)
    best = best_positions(cand_d, k, larger, cand_ids)

    ids = np.full(k, -1, np.int64)
    distances = np.full(k, -_FLT_MAX if larger else _FLT_MAX, np.float32)
    ids[: best.size] = cand_ids[best]
    distances[: best.size] = cand_d[best]
    return IVFTrace(
        kind=index.kind,
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params={"k": k, "nprobe": nprobe},
        coarse=CoarseStep(centroid_d, probed, centroid_d[probed]),
        fine=FineStep(cand_ids, cand_lists, cand_rows, cand_d, best),
    )
