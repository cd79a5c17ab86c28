"""feder's UMAP: the fuzzy graph of exact neighbours, then a 2-D layout by UMAP's descent.

The algorithm of McInnes et al. (umap-learn's defaults: ``min_dist`` 0.1, ``spread`` 1, local
connectivity 1, 5 negative samples per edge sample, learning rate 1), built for feder's small
inputs: the neighbours are exact (:func:`~feder.layouts.projection.exact_knn`), the graph is
made with numpy, the initial layout is the points' PCA, and the descent is one numba kernel
(:mod:`._umap_kernels`). It imports neither umap-learn, scikit-learn nor pynndescent: a
fresh process's first layout costs well under a second instead of umap-learn's ≈ 2 s of
imports.
"""

from __future__ import annotations

import numpy as np

from ..trace.accel import numba_cache_dir
from .geometry import pca_2d

A, B = 1.5769434602697652, 0.8950608778515733
"""The curve ``1 / (1 + a·d^2b)`` umap-learn fits for ``min_dist`` 0.1, ``spread`` 1."""

NEGATIVE_RATE = 5

_SEARCH_STEPS = 64
_TOLERANCE = 1e-5
_MIN_SCALE = 1e-3


def smooth_distances(distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(sigma, rho)`` ``(n,) float64`` for the neighbour distances ``(n, k) float32``
    (each row's own point first, at 0): ``rho`` the distance to the nearest other point (0 if
    none is apart), ``sigma`` found by bisection so that ``Σ_j exp(−max(0, d_j − rho)/sigma)``
    over the ``k − 1`` others equals ``log2(k)``, at least 10⁻³ of the mean distance."""
    d = np.asarray(distances, np.float64)
    n, k = d.shape
    apart = d > 0
    has = apart.any(axis=1)
    rho = np.where(has, d[np.arange(n), apart.argmax(axis=1)], 0.0)
    over = np.maximum(d[:, 1:] - rho[:, None], 0.0)
    target = np.log2(k)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    mid = np.ones(n)
    active = np.ones(n, bool)
    for _ in range(_SEARCH_STEPS):
        if not active.any():
            break
        total = np.where(over > 0, np.exp(-over / mid[:, None]), 1.0).sum(axis=1)
        active &= np.abs(total - target) >= _TOLERANCE
        high = active & (total > target)
        low = active & ~(total > target)
        hi = np.where(high, mid, hi)
        lo = np.where(low, mid, lo)
        mid = np.where(high | (low & np.isfinite(hi)), (lo + hi) / 2,
                       np.where(low, mid * 2, mid))
    floor = _MIN_SCALE * np.where(has, d.mean(axis=1), d.mean())
    return np.maximum(mid, floor), rho


def fuzzy_graph(indices: np.ndarray, distances: np.ndarray, n_epochs: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(head, tail, weight)``: the symmetric fuzzy graph of the neighbours ``indices`` /
    ``distances`` ``(n, k)`` (each row's own point first) as ``(m,) int64`` edge ends, both
    directions, sorted by ``(head, tail)``, and ``(m,) float64`` weights
    ``w = a + aᵀ − a·aᵀ`` of the membership strengths ``a = exp(−max(0, d − rho)/sigma)``
    (self loops and weights below ``max(w) / n_epochs``, which would never be sampled,
    dropped)."""
    n, k = indices.shape
    sigma, rho = smooth_distances(distances)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = np.asarray(indices, np.int64).reshape(-1)
    over = np.asarray(distances, np.float64).reshape(-1) - np.repeat(rho, k)
    scale = np.repeat(sigma, k)
    strength = np.where(over <= 0, 1.0, np.exp(-np.maximum(over, 0.0) / scale))
    strength[cols == rows] = 0.0
    keys = np.concatenate([rows * n + cols, cols * n + rows])
    unique, where = np.unique(keys, return_inverse=True)
    forward = np.zeros(unique.size)
    backward = np.zeros(unique.size)
    forward[where[: rows.size]] = strength
    backward[where[rows.size:]] = strength
    weight = forward + backward - forward * backward
    keep = weight >= weight.max(initial=0.0) / n_epochs
    keep &= weight > 0
    return unique[keep] // n, unique[keep] % n, weight[keep]


def umap_layout(points: np.ndarray, indices: np.ndarray, distances: np.ndarray, seed: int,
                n_epochs: int = 200) -> np.ndarray:
    """``(n, 2) float64`` UMAP layout of ``points`` ``(n, d)`` from their neighbours
    ``indices`` / ``distances`` ``(n, k)`` (own point first), seeded: the fuzzy graph
    (:func:`fuzzy_graph`), the PCA of the points scaled to ``[0, 10]²`` as the start, then
    ``n_epochs`` epochs of descent (:func:`._umap_kernels.optimize_layout`)."""
    numba_cache_dir()  # before numba's first import reads it
    from . import _umap_kernels

    head, tail, weight = fuzzy_graph(indices, distances, n_epochs)
    start = pca_2d(np.asarray(points, np.float64))
    low = start.min(axis=0)
    span = np.ptp(start, axis=0)
    embedding = np.ascontiguousarray(
        10.0 * (start - low) / np.where(span > 0, span, 1.0), dtype=np.float32)
    if head.size:
        epochs_per_sample = weight.max() / weight
        _umap_kernels.optimize_layout(embedding, head, tail, epochs_per_sample, n_epochs, A,
                                      B, NEGATIVE_RATE, seed)
    return embedding.astype(np.float64)
