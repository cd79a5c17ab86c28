"""Replay of faiss ``IndexFlat::search`` (exhaustive scan) for one query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UnsupportedIndexError
from .distances import LARGER_IS_CLOSER, screened_faiss_distances
from .ivf import PAD_LIMIT, best_positions
from .query import as_query, positive_int
from .types import FlatTrace, ScanStep

if TYPE_CHECKING:
    from ..model import FlatIndex

_FLT_MAX = np.float32(np.finfo(np.float32).max)

VIEW_CANDIDATES = 200
"""At least this many nearest vectors are kept in the trace for the views."""


def check_metric(metric: str, metric_type: int, metric_arg: float, source: str,
                 what: str) -> None:
    if metric not in ("l2", "ip"):
        arg = f" (metric_arg = {metric_arg:g})" if metric_type > 1 else ""
        raise UnsupportedIndexError(
            f"metric {metric}{arg} is read but its search is not replayed yet: feder traces "
            f"L2 and inner-product {what} indexes ({source})")


def trace_flat(index: FlatIndex, query: Any, k: int = 5) -> FlatTrace:
    """Replay ``IndexFlat.search(query, k)`` / ``IndexScalarQuantizer.search`` (and
    ``IndexIDMap`` around them).

    faiss keeps the ``k`` best in a heap that admits strictly better values and breaks ties on
    the internal id (the row), so results equal faiss's including tie order; ``k`` above
    ``ntotal`` pads ids with −1 and distances with ±FLT_MAX like faiss, up to
    ``max(ntotal, PAD_LIMIT)`` results (a larger ``k`` is clamped, as for IVF).
    """
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "FLAT")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    larger = index.metric in LARGER_IS_CLOSER
    keep = max(k, VIEW_CANDIDATES)
    if index.pq_indices is not None:  # IxPq: sums of faiss's look-up tables
        from .ivf_codes import pq_code_sums, pq_query_table

        if index.pq_search_type != 0:
            raise UnsupportedIndexError(
                f"this IndexPQ searches with search_type {index.pq_search_type} "
                "(polysemous / code-to-code): feder replays the plain PQ search (0) "
                f"({index.source})")
        codec = index.pq_codec
        table = pq_query_table(codec, q, index.metric)
        d = pq_code_sums(table, index.pq_indices, codec.nbits)
    elif index.search_vectors is not None:  # IxSQ: faiss's SQ distance computer
        from .ivf_codes import code_distances

        d = code_distances(index.search_vectors, q, index.metric)
    elif index.ntotal:
        vectors, norms = index.block
        d = screened_faiss_distances([vectors], norms, q, index.metric, keep)
    else:
        d = np.empty(0, np.float32)
    best = best_positions(d, k, larger)
    near = best_positions(d, keep, larger)
    if best.size and not np.isin(best, near).all():  # ties at the boundary: results first
        near = np.concatenate([best, near[~np.isin(near, best)]])[: max(keep, best.size)]
        key = -d[near] if larger else d[near]
        near = near[np.lexsort((~near if larger else near, key))]
    ids = np.full(k, -1, np.int64)
    distances = np.full(k, -_FLT_MAX if larger else _FLT_MAX, np.float32)
    ids[: best.size] = index.ids[best]
    distances[: best.size] = d[best]
    position = np.full(index.ntotal, -1, np.int64)
    position[near] = np.arange(near.size)
    return FlatTrace(
        kind=index.kind,
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params={"k": k},
        scan=ScanStep(
            scanned=index.ntotal,
            candidate_rows=near,
            candidate_ids=np.asarray(index.ids[near], dtype=np.int64),
            candidate_distances=np.asarray(d[near], dtype=np.float32),
            result_positions=position[best],
        ),
    )
