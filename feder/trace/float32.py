"""faiss's float32 reductions, reproduced operation by operation where rounding shows.

IVF_PQ distances are sums of look-up-table entries that nearly cancel (``‖q − c‖²`` plus
tables of ``−2⟨q_m, c_mj⟩``), so a one-ulp difference in a table entry can move a small
distance by more than 1e-5 relative. These kernels follow the order in which faiss 1.15.1's
x86-64 build reduces (verified bit for bit on AVX-512 hardware against
``ProductQuantizer.compute_inner_prod_table`` / ``compute_distance_table``,
``fvec_norm_L2sqr`` and ``fvec_inner_product``): fused multiply-adds into 16 lanes, the lanes
folded in halves to 8, an 8-lane step, the 8 lanes folded to one, then a scalar fused
multiply-add per remaining component. A fused multiply-add is evaluated exactly in float64 and
rounded once. On other hardware faiss may round differently in the last bit.
"""

from __future__ import annotations

import numpy as np

_F32 = np.float32
_F64 = np.float64


def _fold(acc: np.ndarray, width: int) -> np.ndarray:
    while acc.shape[-1] > width:
        half = acc.shape[-1] // 2
        acc = (acc[..., :half] + acc[..., half:]).astype(_F32)
    return acc


def dot_rows(a: np.ndarray, b: np.ndarray, sequential: bool = False) -> np.ndarray:
    """``(..., ) float32`` ``Σ_i a_i·b_i`` over the last axis (``b`` broadcasts), reduced as
    faiss's vectorised loops do; ``sequential``: one fused multiply-add per component in
    order (faiss's special kernels for 1, 2, 4 and 8 dimensions).

    The products are exact in float64, so each fused multiply-add is one float64 addition
    rounded to float32."""
    a = np.asarray(a, dtype=_F32)
    prod = a.astype(_F64) * np.asarray(b, dtype=_F32).astype(_F64)
    d = prod.shape[-1]
    lead = prod.shape[:-1]
    pos = 0
    result = np.zeros(lead, _F32)
    if not sequential and d >= 8:
        acc: np.ndarray | None = None
        main = d - d % 16
        if main:
            blocks = prod[..., :main].reshape(*lead, main // 16, 16)
            acc = blocks[..., 0, :].astype(_F32)
            for c in range(1, main // 16):
                acc = (acc + blocks[..., c, :]).astype(_F32)
            acc = _fold(acc, 8)
            pos = main
        if d - pos >= 8:
            part = prod[..., pos: pos + 8]
            acc = part.astype(_F32) if acc is None else (acc + part).astype(_F32)
            pos += 8
        if acc is not None:
            result = _fold(acc, 1)[..., 0]
    for i in range(pos, d):
        result = (result + prod[..., i]).astype(_F32)
    return result


_SPECIAL_NY = (1, 2, 4, 8)
"""Sub-vector widths for which faiss's ``*_ny`` table kernels sum sequentially."""


def inner_prod_table(centroids: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``(M, ksub) float32`` ``⟨x_m, c_mj⟩`` for ``centroids`` ``(M, ksub, dsub)``
    (``ProductQuantizer::compute_inner_prod_table``)."""
    m, _, dsub = centroids.shape
    sub = np.asarray(x, dtype=_F32).reshape(m, 1, dsub)
    return dot_rows(centroids, sub, sequential=dsub in _SPECIAL_NY)


def distance_table(centroids: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``(M, ksub) float32`` ``‖x_m − c_mj‖²`` (``compute_distance_table``): the difference
    in float32, then squared and summed like :func:`inner_prod_table`."""
    m, _, dsub = centroids.shape
    diff = (np.asarray(x, dtype=_F32).reshape(m, 1, dsub) - centroids).astype(_F32)
    return dot_rows(diff, diff, sequential=dsub in _SPECIAL_NY)


def squared_l2_rows(a: np.ndarray, b: np.ndarray, sequential: bool = False) -> np.ndarray:
    """``fvec_L2sqr`` of each row of ``a`` with ``b``: difference in float32, then
    :func:`dot_rows` of it with itself."""
    diff = (np.asarray(a, dtype=_F32) - np.asarray(b, dtype=_F32)).astype(_F32)
    return dot_rows(diff, diff, sequential)


def flat_distances(vectors: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """``(n,) float32`` what faiss's ``IndexFlat.search`` of one query computes for each row
    (``fvec_L2sqr`` / ``fvec_inner_product``, whatever the dimension)."""
    if metric == "ip":
        return dot_rows(vectors, query)
    return squared_l2_rows(vectors, query)
