"""Fine-search projection view: candidates and the query projected to 2-D."""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import FederWarning, ParameterError
from .geometry import pca_2d

PROJECT_METHODS = ("pca", "umap")


def project(vectors: np.ndarray, query: np.ndarray, method: str = "pca", seed: int = 0,
            n_neighbors: int = 15) -> np.ndarray:
    """``(m + 1, 2) float32`` positions in ``[0, 1]²``: rows ``0..m-1`` are ``vectors``
    ``(m, d) float32``, the last row is ``query`` ``(d,)``.

    ``"pca"`` is instant; ``"umap"`` (umap-learn, seeded) shows local structure better but the
    first call in a process pays numba's JIT (≈ 20 s). Fewer than 10 points fall back to PCA.
    """
    if method not in PROJECT_METHODS:
        raise ParameterError(f"projectMethod must be one of {PROJECT_METHODS}, got {method!r}")
    points = np.vstack([np.asarray(vectors, np.float32), np.asarray(query, np.float32)[None]])
    if method == "umap" and points.shape[0] >= 10:
        xy = _umap(points, seed, n_neighbors)
    else:
        xy = pca_2d(points)
    lo = xy.min(axis=0)
    span = np.where(np.ptp(xy, axis=0) > 0, np.ptp(xy, axis=0), 1.0)
    return np.asarray((xy - lo) / span, dtype=np.float32)


def _umap(points: np.ndarray, seed: int, n_neighbors: int) -> np.ndarray:
    try:
        import umap
    except ImportError as exc:
        raise ParameterError("projectMethod='umap' needs umap-learn: pip install "
                             "'feder[umap]' (or use projectMethod='pca')") from exc
    with warnings.catch_warnings():
        # umap warns that a fixed random_state disables parallelism; that is the point here.
        warnings.filterwarnings("ignore", category=UserWarning, module="umap")
        warnings.filterwarnings("ignore", category=FutureWarning)
        reducer = umap.UMAP(n_neighbors=min(n_neighbors, points.shape[0] - 1), n_components=2,
                            random_state=seed, init="spectral" if points.shape[0] > 20
                            else "random")
        xy = np.asarray(reducer.fit_transform(points), dtype=np.float64)
    if not np.isfinite(xy).all():
        warnings.warn("UMAP produced non-finite positions; falling back to PCA", FederWarning,
                      stacklevel=3)
        return pca_2d(points)
    return xy
