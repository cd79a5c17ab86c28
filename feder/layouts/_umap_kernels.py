"""numba kernel of feder's UMAP layout (imported only by :mod:`.umap_embed`, which needs
numba): the stochastic gradient descent over the fuzzy graph's edges.

Compiled once into numba's on-disk cache (``cache=True``, :func:`feder.trace.accel.
numba_cache_dir`): ≈ 3 s the first time ever, then loaded in ≈ 0.1 s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def _jit(fn: _Fn) -> _Fn:
    return cast(_Fn, numba.njit(cache=True, nogil=True)(fn))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ONE = np.uint64(1)
_MULTIPLIER = np.uint64(0x2545F4914F6CDD1D)
_S12, _S25, _S27, _S33 = np.uint64(12), np.uint64(25), np.uint64(27), np.uint64(33)


@_jit
def _clip(value: float) -> float:
    """A gradient component kept within ±4 (as UMAP does)."""
    if value > 4.0:
        return 4.0
    if value < -4.0:
        return -4.0
    return value


@_jit
def optimize_layout(embedding: Any, head: Any, tail: Any, epochs_per_sample: Any,
                    n_epochs: int, a: float, b: float, negative_rate: int, seed: int) -> None:
    """Move ``embedding`` ``(n, 2) float32`` in place by UMAP's cross-entropy descent:
    ``n_epochs`` epochs over the edges ``head[i] → tail[i]`` (``(m,) int64``), edge ``i``
    sampled every ``epochs_per_sample[i]`` ``(m,) float64`` epochs, each attracting both
    ends (``−2ab·d^(b−1) / (1 + a·d^b)`` per unit of squared distance ``d``) and followed by
    ``negative_rate`` repulsions per sample from uniformly drawn points
    (``2b / ((0.001 + d)(1 + a·d^b))``); gradients clipped at ±4, the learning rate falling
    linearly from 1 to 0. Deterministic for a ``seed``: the negative samples come from the
    kernel's own xorshift64* generator."""
    state = np.uint64(seed) * _GOLDEN + _ONE
    n = embedding.shape[0]
    edges = head.shape[0]
    per_negative = epochs_per_sample / negative_rate
    next_sample = epochs_per_sample.copy()
    next_negative = per_negative.copy()
    for epoch in range(n_epochs):
        alpha = 1.0 - epoch / n_epochs
        for i in range(edges):
            if next_sample[i] > epoch:
                continue
            j = head[i]
            k = tail[i]
            dx = np.float64(embedding[j, 0]) - embedding[k, 0]
            dy = np.float64(embedding[j, 1]) - embedding[k, 1]
            dist = dx * dx + dy * dy
            coeff = 0.0
            if dist > 0.0:
                coeff = -2.0 * a * b * dist ** (b - 1.0) / (a * dist ** b + 1.0)
            gx = _clip(coeff * dx) * alpha
            gy = _clip(coeff * dy) * alpha
            embedding[j, 0] += gx
            embedding[j, 1] += gy
            embedding[k, 0] -= gx
            embedding[k, 1] -= gy
            next_sample[i] += epochs_per_sample[i]
            negatives = int((epoch - next_negative[i]) / per_negative[i])
            for _ in range(negatives):
                state ^= state >> _S12
                state ^= state << _S25
                state ^= state >> _S27
                other = np.int64((state * _MULTIPLIER) >> _S33) % n
                dx = np.float64(embedding[j, 0]) - embedding[other, 0]
                dy = np.float64(embedding[j, 1]) - embedding[other, 1]
                dist = dx * dx + dy * dy
                if dist > 0.0:
                    coeff = 2.0 * b / ((0.001 + dist) * (a * dist ** b + 1.0))
                    embedding[j, 0] += _clip(coeff * dx) * alpha
                    embedding[j, 1] += _clip(coeff * dy) * alpha
            next_negative[i] += negatives * per_negative[i]
