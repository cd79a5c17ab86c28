"""IVF list rankings: the order faiss's coarse quantizer probes the lists in, for a query.

Both functions compute centroid distances exactly as :func:`feder.trace.ivf.trace_ivf_flat`
does, so a list ranked ``r`` here is probed by the replay (and by faiss) iff ``r ≤ nprobe``.
"""

from __future__ import annotations

import numpy as np

from ..model import IVFFlatIndex
from ..trace.distances import LARGER_IS_CLOSER, faiss_distances, screened_faiss_distances
from ..trace.ivf import best_positions


def list_ranks(index: IVFFlatIndex, query: np.ndarray) -> np.ndarray:
    """``(nlist,) int64`` the 1-based rank of every list for ``query`` (``(d,) float32``) in
    faiss's quantizer order: by centroid distance, ties by list number as faiss's heap keeps
    them. Lists whose centroid distance is NaN or beyond FLT_MAX (never probed) get
    ``nlist + 1``."""
    distances = faiss_distances(index.aligned_centroids, query, index.metric)
    order = best_positions(distances, index.nlist, index.metric in LARGER_IS_CLOSER)
    ranks = np.full(index.nlist, index.nlist + 1, np.int64)
    ranks[order] = np.arange(1, order.size + 1)
    return ranks


def probe_order(index: IVFFlatIndex, query: np.ndarray, count: int,
                ) -> tuple[np.ndarray, bool]:
    """``((≤count,) int64 lists, tied)``: the lists faiss probes for ``query`` at
    ``nprobe = count``, closest first, computed like the replay does at that nprobe.

    Without ties the lists probed at any ``p ≤ count`` are the first ``p`` of this order.
    ``tied`` is true when two of the returned lists have exactly the same centroid distance
    (then the lists probed at a smaller ``p`` may not be a prefix: replay those)."""
    count = min(count, index.nlist)
    larger = index.metric in LARGER_IS_CLOSER
    distances = screened_faiss_distances([index.aligned_centroids], index.centroid_norms,
                                         query, index.metric, count)
    order = best_positions(distances, count, larger)
    chosen = distances[order]
    tied = bool(chosen.size > 1 and np.any(chosen[1:] == chosen[:-1]))
    return order, tied
