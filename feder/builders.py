"""Build real faiss / hnswlib indexes from vectors (used by ``feder index`` and the demo).

feder reads indexes without these libraries; building one needs them
(``pip install 'feder[oracle]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import FederError, ParameterError

KINDS = ("ivf_flat", "hnsw")
METRICS = ("l2", "ip", "cosine")


def _import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        raise FederError(f"building an index needs {name}: pip install 'feder[oracle]'") from None


def as_vectors(vectors: Any) -> np.ndarray:
    """``(n, d) float32`` C-contiguous, finite, n ≥ 1 — or :class:`ParameterError`."""
    arr = np.ascontiguousarray(vectors, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(f"expected a 2-D array of vectors (n, d), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        row = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise ParameterError(f"vector {row} contains NaN or infinity")
    return arr


def build_ivf_flat(vectors: Any, nlist: int, metric: str = "l2", nprobe: int = 1,
                   seed: int = 1234) -> Any:
    """A trained and filled ``faiss.IndexIVFFlat`` (ids = row numbers).

    ``metric="cosine"`` normalizes the vectors and uses inner product, as faiss users do.
    """
    faiss = _import("faiss")
    xb = as_vectors(vectors)
    if metric not in METRICS:
        raise ParameterError(f"metric must be one of {METRICS}, got {metric!r}")
    if not 1 <= nlist <= xb.shape[0]:
        raise ParameterError(f"nlist must be in 1 … {xb.shape[0]} (the number of vectors), "
                             f"got {nlist}")
    d = xb.shape[1]
    if metric == "cosine":
        xb = xb / np.maximum(np.linalg.norm(xb, axis=1, keepdims=True), 1e-12)
    if metric == "l2":
        quantizer, faiss_metric = faiss.IndexFlatL2(d), faiss.METRIC_L2
    else:
        quantizer, faiss_metric = faiss.IndexFlatIP(d), faiss.METRIC_INNER_PRODUCT
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss_metric)
    index.cp.seed = seed
    index.cp.min_points_per_centroid = 1  # small demo sets: no "too few points" warning
    index.train(xb)
    index.add(xb)
    index.nprobe = nprobe
    return index


def build_hnsw(vectors: Any, M: int = 16, ef_construction: int = 200, space: str = "l2",
               seed: int = 100, progress: Callable[[int], None] | None = None) -> Any:
    """A filled ``hnswlib.Index`` (labels = row numbers), built in chunks so ``progress``
    (called with the number of items added) can drive a progress bar."""
    hnswlib = _import("hnswlib")
    xb = as_vectors(vectors)
    if space not in METRICS:
        raise ParameterError(f"space must be one of {METRICS}, got {space!r}")
    if M < 2 or ef_construction < 1:
        raise ParameterError(f"M must be ≥ 2 and ef_construction ≥ 1, got {M}, {ef_construction}")
    index = hnswlib.Index(space=space, dim=xb.shape[1])
    index.init_index(max_elements=xb.shape[0], M=M, ef_construction=ef_construction,
                     random_seed=seed)
    chunk = 2048
    for start in range(0, xb.shape[0], chunk):
        block = xb[start : start + chunk]
        index.add_items(block, np.arange(start, start + block.shape[0]))
        if progress is not None:
            progress(block.shape[0])
    return index


def save(index: Any, path: str) -> None:
    """Write a faiss or hnswlib index to ``path`` with the library's own writer."""
    if type(index).__module__.split(".")[0] == "faiss":
        _import("faiss").write_index(index, path)
    else:
        index.save_index(path)
