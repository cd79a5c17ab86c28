"""Small numpy helpers shared by the model and the tracer (no feder imports)."""

from __future__ import annotations

import numpy as np


def squared_norms(vectors: np.ndarray) -> np.ndarray:
    """``(m,) float32`` ``‖x‖²`` of each row of ``vectors`` ``(m, d) float32``."""
    return np.asarray(np.einsum("ij,ij->i", vectors, vectors), dtype=np.float32)
