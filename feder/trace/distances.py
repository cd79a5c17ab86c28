"""Distances in each library's own convention, computed in float32 like the libraries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..arrays import squared_norms

__all__ = ["LARGER_IS_CLOSER", "faiss_distances", "hnswlib_distances", "hnswlib_normalize",
           "screened_faiss_distances", "squared_norms"]

LARGER_IS_CLOSER = {"ip"}
"""faiss metrics whose results are sorted by descending value."""


def faiss_distances(vectors: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """``(m,) float32``: squared L2 (``"l2"``) or inner product (``"ip"``) of each row of
    ``vectors`` ``(m, d) float32`` with ``query`` ``(d,) float32`` — faiss's own float32
    values, bit for bit (``fvec_L2sqr`` / ``fvec_inner_product``, see :mod:`.float32`); the
    value of a row never depends on the rows batched with it."""
    from .float32 import flat_distances

    return flat_distances(vectors, query, metric)


def hnswlib_distances(vectors: np.ndarray, query: np.ndarray, space: str) -> np.ndarray:
    """``(m,) float32``: hnswlib's squared L2 (``"l2"``) or ``1 − dot`` (``"ip"``,
    ``"cosine"``, whose stored vectors and query are normalized)."""
    if space == "l2":
        return _squared_l2(vectors, query)
    # einsum, not ``vectors @ query``: BLAS gemv rounds a row differently depending on the
    # batch it comes in, and the replay must see one value per node, as hnswlib does.
    return np.asarray(np.float32(1.0) - np.einsum("ij,j->i", vectors, query), dtype=np.float32)


def hnswlib_normalize(query: np.ndarray) -> np.ndarray:
    """The query as hnswlib's cosine space normalizes it: ``q / (‖q‖ + 1e-30)`` in float32."""
    norm = np.float32(np.sqrt(np.dot(query, query)))
    return (query * (np.float32(1.0) / (norm + np.float32(1e-30)))).astype(np.float32)


def _squared_l2(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Difference first, then square: exact for near neighbours, unlike ‖x‖² − 2x·q + ‖q‖²."""
    diff = vectors - query
    return np.asarray(np.einsum("ij,ij->i", diff, diff), dtype=np.float32)


_UNIT_ROUNDOFF = 2.0**-24


def screened_faiss_distances(parts: Sequence[np.ndarray], norms: np.ndarray,
                             query: np.ndarray, metric: str, count: int) -> np.ndarray:
    """``(m,) float32`` distances to ``query`` of the rows of ``parts`` (arrays ``(m_i, d)
    float32``, scanned in order, ``m = Σ m_i``), with the values that decide a top-``count``
    selection recomputed the exact way.

    First one gemv per part: L2 as ``‖x‖² − 2x·q + ‖q‖²`` (``norms`` = ``‖x‖²``, ``(m,)
    float32``), whose rounding error is at most ``b = 4(d + 2)·u·(max‖x‖² + ‖q‖²)``; inner
    products with the same bound. Every value within ``2b`` of the ``count``-th best is then
    recomputed by :func:`faiss_distances`. All others are provably outside the top ``count``,
    so a selection over the result equals one over exact distances, without copying the parts
    and at a fraction of the cost.
    """
    m = int(norms.shape[0])
    if m <= max(4 * count, 64):
        rows = np.concatenate(parts) if len(parts) != 1 else parts[0]
        return faiss_distances(rows, query, metric)
    d = query.shape[0]
    dots = np.concatenate([part @ query for part in parts]) if len(parts) != 1 else \
        parts[0] @ query
    q_norm = float(np.dot(query, query))
    if metric == "ip":
        approx = np.asarray(dots, dtype=np.float32)
        keys = -approx
    else:
        approx = np.asarray(norms - 2.0 * dots + np.float32(q_norm), dtype=np.float32)
        keys = approx
    bound = 4.0 * (d + 2) * _UNIT_ROUNDOFF * (float(norms.max()) + q_norm)
    if not np.isfinite(bound):
        return faiss_distances(np.concatenate(parts), query, metric)
    # NaN sorts last; with fewer than ``count`` numbers the threshold is NaN and every row
    # (NaN rows always) takes the exact path.
    threshold = float(np.partition(keys, count - 1)[count - 1]) + 2.0 * bound
    near = np.flatnonzero(~(keys > threshold))
    approx[near] = faiss_distances(_gather(parts, near), query, metric)
    return approx


def _gather(parts: Sequence[np.ndarray], positions: np.ndarray) -> np.ndarray:
    """``(len(positions), d)`` rows at global ``positions`` of the concatenation of ``parts``."""
    if len(parts) == 1:
        return np.asarray(parts[0][positions])
    starts = np.cumsum([0] + [part.shape[0] for part in parts])
    which = np.searchsorted(starts, positions, side="right") - 1
    within = positions - starts[which]
    return np.stack([parts[p][r] for p, r in zip(which.tolist(), within.tolist(), strict=True)])
