"""numba kernels of the IVF_PQ replay (optional accelerator, imported only through
:func:`feder.trace.accel.code_kernels`).

They compute what :mod:`.ivf_codes` and :mod:`.float32` compute with numpy, operation by
operation in the same float32 order (a fused multiply-add as a float64 addition rounded to
float32), so the values are identical: the sub-quantizer tables (``inner_prod_table``,
``distance_table``) and the code distances ``dis0 + Σ_m table[m, code_m]`` (``table_sums``),
read straight from the stored codes (no per-list position arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numba.core import types

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def _jit(fn: _Fn) -> _Fn:
    return cast(_Fn, numba.njit(cache=True, nogil=True)(fn))


_F32 = np.float32
_F64 = np.float64


@_jit
def _dot(a: Any, a0: Any, b: Any, b0: Any, d: int, l2: bool, sequential: bool,
         acc: Any) -> Any:
    """:func:`feder.trace.float32.dot_rows` of ``a[a0 : a0 + d]`` with ``b[b0 : b0 + d]``
    (``l2``: of their float32 difference with itself); ``acc`` ``(16,) float32`` scratch."""
    pos = 0
    have = False
    if not sequential and d >= 8:
        main = d - d % 16
        while pos < main:
            for lane in range(16):
                if l2:
                    x = _F64(_F32(a[a0 + pos + lane] - b[b0 + pos + lane]))
                    p = x * x
                else:
                    p = _F64(a[a0 + pos + lane]) * _F64(b[b0 + pos + lane])
                acc[lane] = _F32(p) if not have else _F32(_F64(acc[lane]) + p)
            have = True
            pos += 16
        if have:
            for lane in range(8):
                acc[lane] = _F32(acc[lane] + acc[lane + 8])
        if d - pos >= 8:
            for lane in range(8):
                if l2:
                    x = _F64(_F32(a[a0 + pos + lane] - b[b0 + pos + lane]))
                    p = x * x
                else:
                    p = _F64(a[a0 + pos + lane]) * _F64(b[b0 + pos + lane])
                acc[lane] = _F32(p) if not have else _F32(_F64(acc[lane]) + p)
            have = True
            pos += 8
    result = _F32(0.0)
    if have:
        for lane in range(4):
            acc[lane] = _F32(acc[lane] + acc[lane + 4])
        acc[0] = _F32(acc[0] + acc[2])
        acc[1] = _F32(acc[1] + acc[3])
        result = _F32(acc[0] + acc[1])
    for i in range(pos, d):
        if l2:
            x = _F64(_F32(a[a0 + i] - b[b0 + i]))
            p = x * x
        else:
            p = _F64(a[a0 + i]) * _F64(b[b0 + i])
        result = _F32(_F64(result) + p)
    return result


@_jit
def sub_tables(centroids: Any, transposed: Any, dsub: int, x: Any, l2: bool, sequential: bool,
               out: Any, norms: Any) -> None:
    """``out`` ``(M, ksub) float32`` = :func:`~feder.trace.float32.inner_prod_table`
    (``l2`` False) or :func:`~feder.trace.float32.distance_table` of ``x`` ``(M·dsub,)``
    with the sub-centroids: ``centroids`` ``(M·ksub·dsub,)`` flattened in C order and
    ``transposed`` ``(M, dsub, ksub)`` (the same values, read along ``ksub``). With ``norms``
    ``(M, ksub)`` (``(0, 0)`` for none) it is then ``norms + 2·out`` in float32 (IVF_PQ's
    precomputed list table)."""
    m_count = out.shape[0]
    ksub = out.shape[1]
    if (sequential or dsub < 8) and l2:  # one rounding per component, in order
        for m in range(m_count):
            x0 = x[m * dsub]
            for j in range(ksub):  # (loops along ksub: vectorised)
                t = _F64(_F32(x0 - transposed[m, 0, j]))
                out[m, j] = _F32(t * t)
            for i in range(1, dsub):
                xi = x[m * dsub + i]
                for j in range(ksub):
                    t = _F64(_F32(xi - transposed[m, i, j]))
                    out[m, j] = _F32(_F64(out[m, j]) + t * t)
    elif sequential or dsub < 8:
        for m in range(m_count):
            x0 = _F64(x[m * dsub])
            for j in range(ksub):
                out[m, j] = _F32(x0 * _F64(transposed[m, 0, j]))
            for i in range(1, dsub):
                xi = _F64(x[m * dsub + i])
                for j in range(ksub):
                    out[m, j] = _F32(_F64(out[m, j]) + xi * _F64(transposed[m, i, j]))
    else:
        acc = np.empty(16, _F32)
        for m in range(m_count):
            for j in range(ksub):
                out[m, j] = _dot(x, m * dsub, centroids, (m * ksub + j) * dsub, dsub, l2,
                                 sequential, acc)
    if norms.shape[0] == m_count:
        for m in range(m_count):
            for j in range(ksub):
                out[m, j] = _F32(norms[m, j] + _F32(_F32(2.0) * out[m, j]))


@_jit
def list_tables(centroids: Any, transposed: Any, dsub: int, sequential: bool, coarse: Any,
                lists: Any, norms: Any, out: Any) -> None:
    """``out[i]`` = :func:`sub_tables` (inner products, then ``norms + 2·table``) of the
    coarse centroid ``coarse[lists[i]]``: IVF_PQ's precomputed tables of several lists."""
    for i in range(lists.shape[0]):
        sub_tables(centroids, transposed, dsub, coarse[lists[i]], False, sequential, out[i],
                   norms)


@_jit
def code_sums(table: Any, minus: Any, indices: Any, dis0: Any, blocked: bool, scratch: Any,
              out: Any) -> None:
    """``out[i] = dis0 + Σ_m table[m, indices[i, m]]`` (float32) in
    :func:`~feder.trace.ivf_codes.table_sums`'s order: with ``blocked`` (8-bit codes,
    ``M ≥ 16``) lane ``l`` adds ``table[16b + l, ·]`` block by block, the 16 lanes are folded
    in halves, then the remaining sub-quantizers are added one by one.

    ``table`` ``(M, ksub) float32``, or ``table − minus`` in float32 when ``minus`` has the
    same shape (written to ``scratch`` first; ``minus`` ``(0, 0)`` otherwise); ``indices``
    ``(size, M)`` unsigned, each ``< ksub``; ``dis0`` float32."""
    if minus.shape[0] == table.shape[0]:
        for m in range(table.shape[0]):
            for j in range(table.shape[1]):
                scratch[m, j] = _F32(table[m, j] - minus[m, j])
        table = scratch
    size = indices.shape[0]
    m_count = indices.shape[1]
    lanes = np.empty(16, _F32)
    blocks = m_count // 16 if blocked else 0
    start = 16 * blocks
    for i in range(size):
        acc = _F32(0.0)
        if blocks:
            for lane in range(16):
                lanes[lane] = table[lane, indices[i, lane]]
            for b in range(1, blocks):
                for lane in range(16):
                    m = 16 * b + lane
                    lanes[lane] = _F32(lanes[lane] + table[m, indices[i, m]])
            for lane in range(8):
                lanes[lane] = _F32(lanes[lane] + lanes[lane + 8])
            for lane in range(4):
                lanes[lane] = _F32(lanes[lane] + lanes[lane + 4])
            lanes[0] = _F32(lanes[0] + lanes[2])
            lanes[1] = _F32(lanes[1] + lanes[3])
            acc = _F32(acc + _F32(lanes[0] + lanes[1]))
        for m in range(start, m_count):
            acc = _F32(acc + table[m, indices[i, m]])
        out[i] = _F32(dis0 + acc)


# ------------------------------------------------------------------ warm-up specializations

_TF32 = types.Array(types.float32, 1, "C")
_TF32_2 = types.Array(types.float32, 2, "C")
_TF32_3 = types.Array(types.float32, 3, "C")
_TI64 = types.Array(types.int64, 1, "C")
_i, _b = types.int64, types.boolean

SIGNATURES: tuple[tuple[Any, tuple[Any, ...]], ...] = (
    (sub_tables, (_TF32, _TF32_3, _i, _TF32, _b, _b, _TF32_2, _TF32_2)),
    (list_tables, (_TF32, _TF32_3, _i, _b, _TF32_2, _TI64, _TF32_2, _TF32_3)),
    # 8-bit codes are read-only views of the file; other widths are unpacked (uint8 / uint16)
    (code_sums, (_TF32_2, _TF32_2, types.Array(types.uint8, 2, "C", readonly=True), types.float32,
                 _b, _TF32_2, _TF32)),
    (code_sums, (_TF32_2, _TF32_2, types.Array(types.uint8, 2, "C"), types.float32, _b, _TF32_2,
                 _TF32)),
    (code_sums, (_TF32_2, _TF32_2, types.Array(types.uint16, 2, "C"), types.float32, _b, _TF32_2,
                 _TF32)),
)
"""Every (kernel, argument types) :mod:`.ivf_codes` calls (see
:data:`._graph_kernels.SIGNATURES`): the codebook flattened and transposed (C, float32), tables
``(M, ksub) float32``, the coarse centroids ``(nlist, d) float32``, codes' indices as
:meth:`~feder.model.IVFPQIndex.list_indices` makes them, ``dis0`` a numpy float32."""
