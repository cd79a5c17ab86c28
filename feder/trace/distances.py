"""Distances in each library's own convention, computed in float32 like the libraries."""

from __future__ import annotations

import numpy as np

LARGER_IS_CLOSER = {"ip"}
"""faiss metrics whose results are sorted by descending value."""


def faiss_distances(vectors: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """``(m,) float32``: squared L2 (``"l2"``) or inner product (``"ip"``) of each row of
    ``vectors`` ``(m, d) float32`` with ``query`` ``(d,) float32``."""
    if metric == "ip":
        return np.asarray(vectors @ query, dtype=np.float32)
    return _squared_l2(vectors, query)


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
