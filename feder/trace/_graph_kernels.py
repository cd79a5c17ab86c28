"""numba kernels of the HNSW replays and of the IVF list scans (optional accelerator,
imported only through :func:`feder.trace.accel.graph_kernels`).

Each kernel performs the same decisions, in the same order, with bit-identical float32
distances as the pure numpy/Python replay it accelerates (:mod:`.hnsw`, :mod:`.faiss_hnsw`):

* hnswlib distances are ``numpy.einsum``'s own float32 reduction of the replay
  (:func:`~feder.trace.distances.hnswlib_distances`): 4 lanes, the loop unrolled by 4 with
  the highest block added first, a multiply then an add (two roundings), the zero-padded tail
  4 lanes at a time, the lanes summed as ``(l0 + l1) + (l2 + l3)``. The caller checks every
  value the kernel computed against numpy (one batched call) and replays with numpy if one
  differs, so another numpy build can only make the kernel useless, never wrong;
* faiss distances follow :mod:`.float32` (``fvec_L2sqr`` / ``fvec_inner_product`` order, a
  fused multiply-add as a float64 addition rounded to float32);
* the IVF scan (:func:`scan_lists`) computes faiss's exact value for every row that can
  decide the top ``k``, as the numpy screen does; rows provably outside it keep a screening
  value (within the proven bound of faiss's, not equal to numpy's screening value). It reads
  the lists through their addresses: the caller passes only arrays it keeps alive.

The kernels write into preallocated output arrays and return ``-1`` edges when one is too
small (the caller retries with larger ones: the search is deterministic), ``-2`` when a link
points outside the index or at a node missing from its level (the caller then replays with
numpy, which reports it as before): no input makes a kernel read out of bounds, provided
``offsets`` has one entry per node plus one and ends at ``neighbors.size`` (the caller checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.numpy_support import carray

_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def _jit(fn: _Fn) -> _Fn:
    return cast(_Fn, numba.njit(cache=True, nogil=True)(fn))


def _prefetch_intrinsic(typingctx: Any, array: Any, index: Any) -> Any:
    """``llvm.prefetch`` (read, keep in all cache levels) of ``array[index]`` (1-D, C)."""
    sig = types.void(array, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte = ir.IntType(8).as_pointer()
        address = builder.bitcast(builder.gep(data, [args[1]]), byte)
        i32 = ir.IntType(32)
        fn = cast(Any, cgutils).get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        builder.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


_prefetch: Any = intrinsic(_prefetch_intrinsic)
_F32 = np.float32
_F64 = np.float64
_FLT_MAX = float(np.finfo(np.float32).max)

# ---------------------------------------------------------------------------- distances


@_jit
def einsum_dot(flat: Any, base: Any, q: Any, l2: bool) -> Any:
    """numpy's float32 ``einsum("ij,ij->i")`` of ``x − q`` with itself (``l2``) or
    ``einsum("ij,j->i")`` of ``x`` and ``q``, where ``x = flat[base : base + d]``."""
    d = q.shape[0]
    a0 = _F32(0.0)
    a1 = _F32(0.0)
    a2 = _F32(0.0)
    a3 = _F32(0.0)
    i = 0
    while d - i >= 16:
        if l2:
            x0 = _F32(flat[base + i] - q[i])
            x1 = _F32(flat[base + i + 1] - q[i + 1])
            x2 = _F32(flat[base + i + 2] - q[i + 2])
            x3 = _F32(flat[base + i + 3] - q[i + 3])
            y0 = _F32(flat[base + i + 4] - q[i + 4])
            y1 = _F32(flat[base + i + 5] - q[i + 5])
            y2 = _F32(flat[base + i + 6] - q[i + 6])
            y3 = _F32(flat[base + i + 7] - q[i + 7])
            z0 = _F32(flat[base + i + 8] - q[i + 8])
            z1 = _F32(flat[base + i + 9] - q[i + 9])
            z2 = _F32(flat[base + i + 10] - q[i + 10])
            z3 = _F32(flat[base + i + 11] - q[i + 11])
            w0 = _F32(flat[base + i + 12] - q[i + 12])
            w1 = _F32(flat[base + i + 13] - q[i + 13])
            w2 = _F32(flat[base + i + 14] - q[i + 14])
            w3 = _F32(flat[base + i + 15] - q[i + 15])
            a0 = _F32(x0 * x0) + _F32(
                _F32(y0 * y0) + _F32(_F32(z0 * z0) + _F32(_F32(w0 * w0) + a0)))
            a1 = _F32(x1 * x1) + _F32(
                _F32(y1 * y1) + _F32(_F32(z1 * z1) + _F32(_F32(w1 * w1) + a1)))
            a2 = _F32(x2 * x2) + _F32(
                _F32(y2 * y2) + _F32(_F32(z2 * z2) + _F32(_F32(w2 * w2) + a2)))
            a3 = _F32(x3 * x3) + _F32(
                _F32(y3 * y3) + _F32(_F32(z3 * z3) + _F32(_F32(w3 * w3) + a3)))
        else:
            a0 = _F32(flat[base + i] * q[i]) + _F32(
                _F32(flat[base + i + 4] * q[i + 4]) + _F32(
                    _F32(flat[base + i + 8] * q[i + 8])
                    + _F32(_F32(flat[base + i + 12] * q[i + 12]) + a0)))
            a1 = _F32(flat[base + i + 1] * q[i + 1]) + _F32(
                _F32(flat[base + i + 5] * q[i + 5]) + _F32(
                    _F32(flat[base + i + 9] * q[i + 9])
                    + _F32(_F32(flat[base + i + 13] * q[i + 13]) + a1)))
            a2 = _F32(flat[base + i + 2] * q[i + 2]) + _F32(
                _F32(flat[base + i + 6] * q[i + 6]) + _F32(
                    _F32(flat[base + i + 10] * q[i + 10])
                    + _F32(_F32(flat[base + i + 14] * q[i + 14]) + a2)))
            a3 = _F32(flat[base + i + 3] * q[i + 3]) + _F32(
                _F32(flat[base + i + 7] * q[i + 7]) + _F32(
                    _F32(flat[base + i + 11] * q[i + 11])
                    + _F32(_F32(flat[base + i + 15] * q[i + 15]) + a3)))
        i += 16
    while i < d:
        p0 = _F32(0.0)
        p1 = _F32(0.0)
        p2 = _F32(0.0)
        p3 = _F32(0.0)
        if l2:
            x = _F32(flat[base + i] - q[i])
            p0 = _F32(x * x)
            if i + 1 < d:
                x = _F32(flat[base + i + 1] - q[i + 1])
                p1 = _F32(x * x)
            if i + 2 < d:
                x = _F32(flat[base + i + 2] - q[i + 2])
                p2 = _F32(x * x)
            if i + 3 < d:
                x = _F32(flat[base + i + 3] - q[i + 3])
                p3 = _F32(x * x)
        else:
            p0 = _F32(flat[base + i] * q[i])
            if i + 1 < d:
                p1 = _F32(flat[base + i + 1] * q[i + 1])
            if i + 2 < d:
                p2 = _F32(flat[base + i + 2] * q[i + 2])
            if i + 3 < d:
                p3 = _F32(flat[base + i + 3] * q[i + 3])
        a0 = _F32(p0 + a0)
        a1 = _F32(p1 + a1)
        a2 = _F32(p2 + a2)
        a3 = _F32(p3 + a3)
        i += 4
    return _F32(_F32(a0 + a1) + _F32(a2 + a3))


@_jit
def hnswlib_dist(flat: Any, base: Any, q: Any, ip: bool) -> Any:
    """:func:`~feder.trace.distances.hnswlib_distances` of ``flat[base : base + d]``."""
    if ip:
        return _F32(_F32(1.0) - einsum_dot(flat, base, q, False))
    return einsum_dot(flat, base, q, True)


@_jit
def faiss_dist(flat: Any, base: Any, q: Any, ip: bool) -> Any:
    """:func:`~feder.trace.float32.flat_distances` of ``flat[base : base + d]``: faiss's
    ``fvec_inner_product`` / ``fvec_L2sqr`` reduction order."""
    d = q.shape[0]
    acc = np.empty(16, _F32)
    pos = 0
    have = False
    main = d - d % 16 if d >= 8 else 0
    while pos < main:
        for lane in range(16):
            if ip:
                p = _F64(flat[base + pos + lane]) * _F64(q[pos + lane])
            else:
                x = _F64(_F32(flat[base + pos + lane] - q[pos + lane]))
                p = x * x
            acc[lane] = _F32(p) if not have else _F32(_F64(acc[lane]) + p)
        have = True
        pos += 16
    if have:
        for lane in range(8):
            acc[lane] = _F32(acc[lane] + acc[lane + 8])
    if d >= 8 and d - pos >= 8:
        for lane in range(8):
            if ip:
                p = _F64(flat[base + pos + lane]) * _F64(q[pos + lane])
            else:
                x = _F64(_F32(flat[base + pos + lane] - q[pos + lane]))
                p = x * x
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
        if ip:
            p = _F64(flat[base + i]) * _F64(q[i])
        else:
            x = _F64(_F32(flat[base + i] - q[i]))
            p = x * x
        result = _F32(_F64(result) + p)
    return result


@_jit
def hnswlib_rows(flat: Any, stride: Any, rows: Any, q: Any, ip: bool) -> Any:
    """``(m,) float32`` :func:`hnswlib_dist` of ``rows`` (row ``r`` at ``flat[r * stride]``)."""
    out = np.empty(rows.shape[0], _F32)
    for i in range(rows.shape[0]):
        out[i] = hnswlib_dist(flat, rows[i] * stride, q, ip)
    return out


@_jit
def faiss_rows(flat: Any, stride: Any, rows: Any, q: Any, ip: bool) -> Any:
    """``(m,) float32`` :func:`faiss_dist` of ``rows`` (row ``r`` at ``flat[r * stride]``)."""
    out = np.empty(rows.shape[0], _F32)
    for i in range(rows.shape[0]):
        out[i] = faiss_dist(flat, rows[i] * stride, q, ip)
    return out


def _f32_pointer_intrinsic(typingctx: Any, address: Any) -> Any:
    """The integer ``address`` as a ``float32*`` (for :func:`numba.carray`)."""
    sig = cast(Any, types).CPointer(types.float32)(types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

    return sig, codegen


_f32_pointer: Any = intrinsic(_f32_pointer_intrinsic)


def _jit_reassociating(fn: _Fn) -> _Fn:
    """:func:`_jit` allowed to reorder and fuse float operations (so sums vectorise): for
    values that only screen, never for a value a replay reports."""
    return cast(_Fn, numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})(fn))


@_jit_reassociating
def _screen_l2(row: Any, q: Any) -> Any:
    """The squared L2 distance of ``row`` ``(d,) float32`` to ``q``, summed in any order
    (vectorised): a screening value, within :func:`scan_lists`'s bound of faiss's."""
    value = _F32(0.0)
    for i in range(q.shape[0]):
        x = row[i] - q[i]
        value += x * x
    return value


@_jit_reassociating
def _screen_ip(row: Any, q: Any) -> Any:
    """``(Σ x_i q_i, Σ |x_i q_i|)`` of ``row`` ``(d,) float32`` and ``q``, summed in any
    order: the inner product's screening value and the scale of its rounding error."""
    value = _F32(0.0)
    scale = _F32(0.0)
    for i in range(q.shape[0]):
        p = row[i] * q[i]
        value += p
        scale += abs(p)
    return value, scale


def _pread_intrinsic(typingctx: Any, fd: Any, buf: Any, start: Any, nbytes: Any,
                     offset: Any) -> Any:
    """libc's ``pread(fd, &buf_bytes[start], nbytes, offset)`` (``buf`` 1-D, C): the bytes
    read, 0 at the end of the file, −1 on an error."""
    sig = types.int64(types.int64, buf, types.int64, types.int64, types.int64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[1])(context, builder, args[1]).data
        byte = ir.IntType(8).as_pointer()
        at = builder.gep(builder.bitcast(data, byte), [args[2]])
        i64, i32 = ir.IntType(64), ir.IntType(32)
        fn = cast(Any, cgutils).get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i32, byte, i64, i64]), "pread")
        return builder.call(fn, [builder.trunc(args[0], i32), at, args[3], args[4]])

    return sig, codegen


_pread: Any = intrinsic(_pread_intrinsic)


@_jit
def _read_all(fd: int, buf: Any, start: int, nbytes: int, offset: int) -> bool:
    """``nbytes`` of the file at ``offset`` into ``buf`` from its byte ``start``; False if
    the file ends (or the read fails) first."""
    got = 0
    while got < nbytes:
        n = _pread(fd, buf, start + got, nbytes - got, offset + got)
        if n <= 0:
            return False
        got += n
    return True


@_jit
def _replace_largest(heap: Any, value: float) -> None:
    """Replace the largest value of the max-heap ``heap`` (its root) by ``value``."""
    n = heap.shape[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] > heap[child]:
            child += 1
        if heap[child] <= value:
            break
        heap[pos] = heap[child]
        pos = child
    heap[pos] = value


@_jit
def scan_lists(fd: int, sources: Any, sizes: Any, q: Any, ip: bool, count: int,
               buf: Any, id_sources: Any, ids: Any) -> Any:
    """``(distances, status)``: ``(m,) float32`` faiss's distances (:func:`faiss_dist`) of
    the rows of ``p`` lists (``sizes`` ``(p,) int64`` rows each, ``m = Σ sizes``) to ``q``
    ``(d,) float32``, exact wherever they can decide a top-``count`` selection
    (:func:`feder.trace.ivf.screened_list_distances` in one streaming pass, without squared
    norms); ``status`` 0, −1 if the file ended or failed while reading, −2 if ``sources``,
    ``buf``, ``id_sources`` or ``ids`` are too small for ``sizes`` (nothing read).

    ``fd < 0``: ``sources`` ``(p,) int64`` are the addresses of live C-contiguous ``(size, d)
    float32`` arrays. Else each list's ``size·d`` float32 are read from the file ``fd`` at
    byte offset ``sources[j]`` into ``buf`` (``float32``, at least ``d``; a list larger than
    it is read in blocks of rows) with pread(2): a memory-mapped file is never read through
    its map; with ``id_sources`` (one
    byte offset per list, else empty) each list's ``size`` int64 ids are read from the file
    into ``ids`` ``(m,) int64`` as well.

    Each row is first summed in any order (:func:`_screen_l2`, :func:`_screen_ip`); that
    value ``a`` differs from faiss's by at most ``b = 2.1(d + 2)·u·s + (4d + 8)·2⁻¹⁴⁹``
    (``s`` the row's scale — ``a`` itself for L2, ``Σ|x_i q_i|`` for inner products: both
    sums are within ``γ_{d+2}·s`` of the real one; the last term covers subnormal
    rounding). A max-heap holds the ``count`` smallest exact keys so far (``key`` the
    distance, or ``−`` the inner product), its root ``τ``. A row whose ``key_a − b > τ`` is
    beaten by ``count`` rows already seen under every tie rule, and keeps ``a``; every other
    row is computed exactly, while its list is at hand, and enters the heap. NaN and
    overflowing rows are always computed exactly (faiss admits no NaN: nor does the heap)."""
    d = q.shape[0]
    p = sizes.shape[0]
    m = 0
    for j in range(p):
        m += sizes[j]
    out = np.empty(m, _F32)
    if d == 0 or sources.shape[0] < p or (fd >= 0 and m > 0 and buf.shape[0] < d) or (
            id_sources.shape[0] and (id_sources.shape[0] < p or ids.shape[0] < m)):
        return out, -2  # arrays too small for what they describe: nothing is read
    unit = 2.0 ** -24
    # the bound's derivation needs (d + 2)u ≤ 0.01; with m ≤ count every row is exact anyway
    screen = m > count > 0 and (d + 2) * unit <= 0.01
    beta = 2.1 * (d + 2) * unit
    slack = (4 * d + 8) * 2.0 ** -149
    heap = np.full(count if screen else 1, np.inf)
    at = 0
    for j in range(p):
        size = sizes[j]
        if fd >= 0 and id_sources.shape[0] and not _read_all(fd, ids, 8 * at, 8 * size,
                                                             id_sources[j]):
            return out, -1
        # a file's list is read a block of rows at a time (buf holds `block` rows): one
        # block for any list of a balanced index
        block = max(1, buf.shape[0] // d) if fd >= 0 else max(size, 1)
        for first in range(0, size, block):
            count_rows = min(block, size - first)
            if fd >= 0:
                if not _read_all(fd, buf, 0, 4 * d * count_rows, sources[j] + 4 * d * first):
                    return out, -1
                rows = buf
            else:
                rows = carray(_f32_pointer(sources[j] + 4 * d * first), (count_rows * d,))
            for r in range(count_rows):
                if screen:
                    row = rows[r * d: r * d + d]
                    if ip:
                        value, scale = _screen_ip(row, q)
                        key = -_F64(value)
                        bound = beta * _F64(scale) + slack
                    else:
                        value = _screen_l2(row, q)
                        key = _F64(value)
                        bound = beta * key + slack
                    if key - bound > heap[0]:
                        out[at] = value
                        at += 1
                        continue
                exact = faiss_dist(rows, r * d, q, ip)
                out[at] = exact
                if screen:
                    key = -_F64(exact) if ip else _F64(exact)
                    if key < heap[0]:  # never NaN
                        _replace_largest(heap, key)
                at += 1
    return out, 0


@_jit
def _prefetch_rows(flat: Any, stride: Any, rows: Any, count: int, d: int) -> None:
    """Ask for the cache lines of ``rows[:count]`` before they are read (the misses then
    overlap, as hnswlib's and faiss's ``_mm_prefetch`` make them)."""
    for j in range(count):
        base = rows[j] * stride
        for off in range(0, d, 16):
            _prefetch(flat, base + off)
        _prefetch(flat, base + d - 1)


# ------------------------------------------------------------------------ hnswlib replay


@_jit
def hnswlib_greedy(flat: Any, stride: Any, n: int, q: Any, ip: bool, nodes: Any,
                   offsets: Any, neighbors: Any, level0: bool, entry: Any, entry_d: float,
                   src: Any, dst: Any, dist: Any, improved: Any, path: Any, path_d: Any,
                   ) -> Any:
    """:func:`feder.trace.hnsw._greedy` on one level; returns ``(edges, path length, NaN
    seen)`` or edges ``-1`` when an output array is too small."""
    current = entry
    current_d = entry_d
    n_edges = 0
    n_path = 1
    path[0] = entry
    path_d[0] = entry_d
    nan = False
    changed = True
    while changed:
        changed = False
        row = current if level0 else np.searchsorted(nodes, current)
        if row >= nodes.shape[0] or nodes[row] != current:
            return -2, 0, nan
        start = offsets[row]
        stop = offsets[row + 1]
        if stop == start:
            break
        if n_edges + (stop - start) > src.shape[0] or n_path + (stop - start) > path.shape[0]:
            return -1, 0, nan
        src_node = current
        for j in range(start, stop):
            if np.int64(neighbors[j]) >= n:
                return -2, 0, nan
        _prefetch_rows(flat, stride, neighbors[start:stop], stop - start, q.shape[0])
        for j in range(start, stop):
            other = np.int64(neighbors[j])
            if other >= n:
                return -2, 0, nan
            value = hnswlib_dist(flat, other * stride, q, ip)
            if value != value:
                nan = True
            src[n_edges] = src_node
            dst[n_edges] = other
            dist[n_edges] = value
            improved[n_edges] = False
            if value < current_d:
                current_d = value
                current = other
                improved[n_edges] = True
                changed = True
                path[n_path] = other
                path_d[n_path] = value
                n_path += 1
            n_edges += 1
    return n_edges, n_path, nan


@_jit
def _sift_up(keys: Any, vals: Any, hole: int, key: float, val: int) -> None:
    """libstdc++ ``__push_heap`` on a heap whose smallest key is on top."""
    while hole > 0:
        parent = (hole - 1) >> 1
        if not keys[parent] > key:
            break
        keys[hole] = keys[parent]
        vals[hole] = vals[parent]
        hole = parent
    keys[hole] = key
    vals[hole] = val


@_jit
def _std_pop(keys: Any, vals: Any, n: int) -> int:
    """``std::pop_heap`` + ``pop_back`` of a heap of ``n`` entries (mirrors
    :func:`feder.trace.hnsw._std_pop`); the former top is left at ``[n - 1]``."""
    top_key = keys[0]
    top_val = vals[0]
    key = keys[n - 1]
    val = vals[n - 1]
    n -= 1
    if n > 0:
        hole = 0
        child = 0
        while child < (n - 1) >> 1:
            child = 2 * (child + 1)
            if keys[child] > keys[child - 1]:
                child -= 1
            keys[hole] = keys[child]
            vals[hole] = vals[child]
            hole = child
        if n & 1 == 0 and child == (n - 2) >> 1:
            child = 2 * (child + 1)
            keys[hole] = keys[child - 1]
            vals[hole] = vals[child - 1]
            hole = child - 1
        _sift_up(keys, vals, hole, key, val)
    keys[n] = top_key
    vals[n] = top_val
    return n


@_jit
def hnswlib_beam(flat: Any, stride: Any, q: Any, ip: bool, offsets: Any, neighbors: Any,
                 deleted: Any, has_deleted: bool, visited: Any, entry: int, entry_d: float, ef: int,
                 expanded: Any, e_src: Any, e_dst: Any, e_dist: Any, e_outcome: Any,
                 e_evicted: Any, beam: Any, beam_d: Any, fresh: Any) -> Any:
    """:func:`feder.trace.hnsw._beam` with libstdc++'s heap order (``exact``); returns
    ``(expanded, edges, beam size, NaN seen)``, edges ``-1`` when an output is too small.

    ``visited`` ``(ntotal,) bool`` all False; ``fresh`` scratch for one link list."""
    flt_max = np.float32(3.4028234663852886e38)
    cap = e_src.shape[0]
    c_key = np.empty(cap + 1, _F64)  # candidates: distance, smallest on top
    c_val = np.empty(cap + 1, np.int64)
    t_key = np.empty(ef + 2, _F64)  # beam: −distance, farthest on top
    t_val = np.empty(ef + 2, np.int64)
    n_c = 0
    n_t = 0
    if not has_deleted or not deleted[entry]:
        lower_bound = _F64(entry_d)
        t_key[0] = -_F64(entry_d)
        t_val[0] = entry
        n_t = 1
        c_key[0] = entry_d
    else:
        lower_bound = _F64(flt_max)
        c_key[0] = flt_max
    c_val[0] = entry
    n_c = 1
    visited[entry] = True
    n_x = 0
    n_e = 0
    nan = False
    while n_c > 0:
        cand_d = c_key[0]
        node = c_val[0]
        if cand_d > lower_bound and (not has_deleted or n_t == ef):
            break
        n_c = _std_pop(c_key, c_val, n_c)
        if n_x >= expanded.shape[0]:
            return n_x, -1, 0, nan
        expanded[n_x] = node
        n_x += 1
        n_f = 0
        for j in range(offsets[node], offsets[node + 1]):
            other = np.int64(neighbors[j])
            if other >= visited.shape[0]:
                return n_x, -2, 0, nan
            if not visited[other]:
                if n_f >= fresh.shape[0]:
                    return n_x, -1, 0, nan
                fresh[n_f] = other
                n_f += 1
        if n_f == 0:
            continue
        if n_e + n_f > cap:
            return n_x, -1, 0, nan
        for j in range(n_f):
            visited[fresh[j]] = True
        _prefetch_rows(flat, stride, fresh, n_f, q.shape[0])
        for j in range(n_f):
            other = fresh[j]
            value = hnswlib_dist(flat, other * stride, q, ip)
            if value != value:
                nan = True
            v64 = _F64(value)
            e_src[n_e] = node
            e_dst[n_e] = other
            e_dist[n_e] = value
            e_outcome[n_e] = 0
            e_evicted[n_e] = -1
            if n_t < ef or lower_bound > v64:
                c_key[n_c] = v64
                c_val[n_c] = other
                _sift_up(c_key, c_val, n_c, v64, other)
                n_c += 1
                if has_deleted and deleted[other]:
                    e_outcome[n_e] = 2
                else:
                    t_key[n_t] = -v64
                    t_val[n_t] = other
                    _sift_up(t_key, t_val, n_t, -v64, other)
                    n_t += 1
                    e_outcome[n_e] = 1
                while n_t > ef:
                    n_t = _std_pop(t_key, t_val, n_t)
                    e_evicted[n_e] = t_val[n_t]
                if n_t > 0:
                    lower_bound = -t_key[0]
            n_e += 1
    size = n_t
    while n_t > 0:  # closest first: the reverse of the order the beam pops in
        n_t = _std_pop(t_key, t_val, n_t)
        beam[n_t] = t_val[n_t]
        beam_d[n_t] = -t_key[n_t]
    return n_x, n_e, size, nan


# -------------------------------------------------------------------------- faiss replay


@_jit
def _above(larger: bool, v1: float, i1: int, v2: float, i2: int) -> bool:
    if larger:
        return v1 < v2 or (v1 == v2 and i1 < i2)
    return v1 > v2 or (v1 == v2 and i1 > i2)


@_jit
def faiss_greedy(flat: Any, stride: Any, n: int, q: Any, ip: bool, nodes: Any,
                 offsets: Any, neighbors: Any, entry: Any, entry_d: float, src: Any, dst: Any,
                 dist: Any, improved: Any, path: Any, path_d: Any) -> Any:
    """:func:`feder.trace.faiss_hnsw._greedy` (upper level, ``nodes`` sorted); returns
    ``(edges, path length)``, edges ``-1`` when an output array is too small."""
    nearest = entry
    d_nearest = entry_d
    n_edges = 0
    n_path = 1
    path[0] = entry
    path_d[0] = entry_d
    while True:
        prev = nearest
        row = np.searchsorted(nodes, nearest)
        if row >= nodes.shape[0] or nodes[row] != nearest:
            return -2, 0
        start = offsets[row]
        stop = offsets[row + 1]
        if stop == start:
            break
        if n_edges + (stop - start) > src.shape[0] or n_path + (stop - start) > path.shape[0]:
            return -1, 0
        for j in range(start, stop):
            if np.int64(neighbors[j]) >= n:
                return -2, 0
        _prefetch_rows(flat, stride, neighbors[start:stop], stop - start, q.shape[0])
        for j in range(start, stop):
            other = np.int64(neighbors[j])
            value = _F64(faiss_dist(flat, other * stride, q, ip))
            src[n_edges] = prev
            dst[n_edges] = other
            dist[n_edges] = value
            improved[n_edges] = False
            if (value > d_nearest) if ip else (value < d_nearest):
                nearest = other
                d_nearest = value
                improved[n_edges] = True
                path[n_path] = other
                path_d[n_path] = value
                n_path += 1
            n_edges += 1
        if nearest == prev:
            break
    return n_edges, n_path


@_jit
def faiss_level0(flat: Any, stride: Any, q: Any, larger: bool, offsets: Any, neighbors: Any,
                 visited: Any, entry: int, entry_d: float, k: int, ef_search: int,
                 expanded: Any, e_src: Any, e_dst: Any, e_dist: Any, e_outcome: Any,
                 e_evicted: Any, held_d: Any, held_node: Any, res_d: Any, res_i: Any,
                 fresh: Any) -> Any:
    """:func:`feder.trace.faiss_hnsw._level0` (``MinimaxHeap`` + ``ResultHeap``, mirrored
    slot by slot); returns ``(expanded, edges, heap slots)``, edges ``-1`` when an output is
    too small. ``held_*`` ``(min(ef, ntotal),)``, ``res_*`` ``(k,)`` filled as faiss's heaps
    are (the result heap unsorted)."""
    flt_max = _F64(3.4028234663852886e38)
    worst = -flt_max if larger else flt_max
    n = max(ef_search, k)
    dis = held_d
    node = held_node
    ids = np.empty(dis.shape[0], np.int64)
    for i in range(k):
        res_d[i] = worst
        res_i[i] = -1
    hk = 0
    nvalid = 0
    cap = e_src.shape[0]
    n_x = 0
    n_e = 0

    v = entry_d  # MinimaxHeap.push into the empty heap
    if v != v:
        v = worst
    dis[0] = v
    ids[0] = entry
    node[0] = entry
    hk = 1
    nvalid = 1
    _result_add(res_d, res_i, k, larger, entry_d, entry)
    visited[entry] = True

    while nvalid > 0:
        # pop_min
        best = -1
        best_v = 0.0
        for i in range(hk - 1, -1, -1):
            if ids[i] == -1:
                continue
            vi = dis[i]
            if best < 0 or ((vi > best_v) if larger else (vi < best_v)):
                best = i
                best_v = vi
        v0 = ids[best]
        ids[best] = -1
        nvalid -= 1
        d0 = best_v
        below = 0
        for i in range(hk):
            if (dis[i] > d0) if larger else (dis[i] < d0):
                below += 1
        if below >= ef_search:
            break
        if n_x >= expanded.shape[0]:
            return n_x, -1, hk
        expanded[n_x] = v0
        n_x += 1
        n_f = 0
        for j in range(offsets[v0], offsets[v0 + 1]):
            other = np.int64(neighbors[j])
            if other >= visited.shape[0]:
                return n_x, -2, hk
            if visited[other]:
                continue
            if n_f >= fresh.shape[0] or n_e + n_f >= cap:
                return n_x, -1, hk
            visited[other] = True  # a link listed twice is computed once
            fresh[n_f] = other
            n_f += 1
        _prefetch_rows(flat, stride, fresh, n_f, q.shape[0])
        for jf in range(n_f):
            other = fresh[jf]
            value = _F64(faiss_dist(flat, other * stride, q, larger))
            e_src[n_e] = v0
            e_dst[n_e] = other
            e_dist[n_e] = value
            e_outcome[n_e] = 0
            e_evicted[n_e] = -1
            _result_add(res_d, res_i, k, larger, value, other)
            # candidates.push(other, value)
            v = value
            if v != v:
                v = worst
            gone = -1
            rejected = False
            if hk == n:
                top = dis[0]
                if not ((top < v) if larger else (top > v)):
                    rejected = True
                else:
                    if ids[0] != -1:
                        nvalid -= 1
                    gone = node[0]
                    # heap_pop (k--)
                    last = hk - 1
                    val = dis[last]
                    ident = ids[last]
                    nd = node[last]
                    i = 0
                    while True:
                        i1 = 2 * i + 1
                        i2 = i1 + 1
                        if i1 > last:
                            break
                        if i2 == last + 1 or _above(larger, dis[i1], ids[i1], dis[i2], ids[i2]):
                            if _above(larger, val, ident, dis[i1], ids[i1]):
                                break
                            dis[i] = dis[i1]
                            ids[i] = ids[i1]
                            node[i] = node[i1]
                            i = i1
                        else:
                            if _above(larger, val, ident, dis[i2], ids[i2]):
                                break
                            dis[i] = dis[i2]
                            ids[i] = ids[i2]
                            node[i] = node[i2]
                            i = i2
                    dis[i] = val
                    ids[i] = ident
                    node[i] = nd
                    hk -= 1
            if not rejected:
                # heap_push (++k)
                i = hk
                hk += 1
                while i > 0:
                    father = (i - 1) >> 1
                    if not _above(larger, v, other, dis[father], ids[father]):
                        break
                    dis[i] = dis[father]
                    ids[i] = ids[father]
                    node[i] = node[father]
                    i = father
                dis[i] = v
                ids[i] = other
                node[i] = other
                nvalid += 1
                e_outcome[n_e] = 1
                e_evicted[n_e] = gone
            n_e += 1
    return n_x, n_e, hk


@_jit
def _result_add(dis: Any, ids: Any, k: int, larger: bool, v: float, ident: int) -> None:
    """``ResultHeap.add`` (faiss ``heap_replace_top``)."""
    if not ((dis[0] < v) if larger else (dis[0] > v)):
        return
    i = 0
    while True:
        i1 = 2 * i + 1
        i2 = i1 + 1
        if i1 >= k:
            break
        if i2 == k or _above(larger, dis[i1], ids[i1], dis[i2], ids[i2]):
            if _above(larger, v, ident, dis[i1], ids[i1]):
                break
            dis[i] = dis[i1]
            ids[i] = ids[i1]
            i = i1
        else:
            if _above(larger, v, ident, dis[i2], ids[i2]):
                break
            dis[i] = dis[i2]
            ids[i] = ids[i2]
            i = i2
    dis[i] = v
    ids[i] = ident


# ------------------------------------------------------------------ warm-up specializations

_TROWS = types.Array(types.float32, 1, "C", readonly=True)  # accel.flat_rows() of the vectors
_TF32 = types.Array(types.float32, 1, "C")
_TF64 = types.Array(types.float64, 1, "C")
_TI64 = types.Array(types.int64, 1, "C")
_TU32 = types.Array(types.uint32, 1, "C")  # LevelGraph.neighbors
_TU8 = types.Array(types.uint8, 1, "C")
_TBOOL = types.Array(types.boolean, 1, "C")
_i, _f, _b = types.int64, types.float64, types.boolean

SIGNATURES: tuple[tuple[Any, tuple[Any, ...]], ...] = (
    (hnswlib_rows, (_TROWS, _i, _TI64, _TF32, _b)),
    (hnswlib_greedy, (_TROWS, _i, _i, _TF32, _b, _TI64, _TI64, _TU32, _b, _i, _f,
                      _TI64, _TI64, _TF32, _TBOOL, _TI64, _TF32)),
    (hnswlib_beam, (_TROWS, _i, _TF32, _b, _TI64, _TU32, _TBOOL, _b, _TBOOL, _i, _f, _i,
                    _TI64, _TI64, _TI64, _TF32, _TU8, _TI64, _TI64, _TF32, _TI64)),
    (faiss_rows, (_TROWS, _i, _TI64, _TF32, _b)),
    (scan_lists, (_i, _TI64, _TI64, _TF32, _b, _i, _TF32, _TI64, _TI64)),
    (faiss_greedy, (_TROWS, _i, _i, _TF32, _b, _TI64, _TI64, _TU32, _i, _f,
                    _TI64, _TI64, _TF32, _TBOOL, _TI64, _TF32)),
    (faiss_level0, (_TROWS, _i, _TF32, _b, _TI64, _TU32, _TBOOL, _i, _f, _i, _i,
                    _TI64, _TI64, _TI64, _TF32, _TU8, _TI64, _TF64, _TI64, _TF64, _TI64, _TI64)),
)
"""Every (kernel, argument types) the replays of :mod:`.hnsw`, :mod:`.faiss_hnsw`,
:mod:`.ivf` and :mod:`.ivf_codes` call, as the parsers' models and the call sites make them:
the stored rows through :func:`~feder.trace.accel.flat_rows` (read-only, C), the query a fresh
``(d,) float32``, list addresses and sizes ``int64``, ``LevelGraph`` offsets / nodes ``int64``
and neighbors ``uint32``, Python ints (int64), floats (float64) and bools. :mod:`.accel`
compiles (or loads) exactly these in its warm-up thread;
``tests/test_accel_warmup.py`` checks that real traces of parsed files need no other."""
