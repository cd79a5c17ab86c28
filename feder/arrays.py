"""Small numpy helpers shared by the model and the tracer (no feder imports)."""

from __future__ import annotations

import numpy as np


def sample_rows(n: int, count: int, seed: int = 0) -> np.ndarray:
    """``(min(count, n),) int64`` distinct rows of ``0..n-1`` picked at random (seeded), in
    increasing order; every row when ``count ≥ n``."""
    if count >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=count, replace=False))


def squared_norms(vectors: np.ndarray) -> np.ndarray:
    """``(m,) float32`` ``‖x‖²`` of each row of ``vectors`` ``(m, d) float32``."""
    return np.asarray(np.einsum("ij,ij->i", vectors, vectors), dtype=np.float32)
