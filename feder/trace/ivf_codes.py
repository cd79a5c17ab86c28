"""Replay of faiss IVF searches over coded lists: ``IndexIVFScalarQuantizer::search``.

The coarse step is IVF_FLAT's. In each probed list faiss's scanner compares the query with
the decoded codes: for L2 with ``by_residual`` it first subtracts the list's centroid from the
query (``compute_residual``) and sums ``(r_q − decoded)²``; for inner product with
``by_residual`` it adds the coarse inner product ``⟨q, c⟩`` to ``⟨q, decoded⟩``. The top ``k``
follow faiss's heap (strictly better admitted, ties on ids), as for IVF_FLAT. Sums are taken
in float64 and rounded once, so a value differs from faiss's SIMD float32 sum by a few ulps at
most; identical codes give identical values, so ties resolve as in faiss.
"""

from __future__ import annotations

import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import float32
from .accel import code_kernels, flat_rows, graph_kernels, guarded
from .distances import LARGER_IS_CLOSER, screened_faiss_distances
from .flat import check_metric
from .ivf import PAD_LIMIT, best_positions, probed_distances, probed_trace
from .query import as_query, positive_int
from .types import HNSWTrace, IVFTrace

if TYPE_CHECKING:
    from ..model import IVFFlatIndex, IVFHNSWFlatIndex, IVFPQIndex, IVFSQIndex


def code_distances(decoded: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """``(m,) float32`` squared L2 / inner product of ``query`` with each decoded row, summed
    in float64."""
    q64 = query.astype(np.float64)
    rows = decoded.astype(np.float64)
    if metric == "ip":
        return np.asarray(rows @ q64, dtype=np.float32)
    diff = rows - q64
    return np.asarray(np.einsum("ij,ij->i", diff, diff), dtype=np.float32)


def trace_ivf_sq(index: IVFSQIndex, query: Any, k: int = 5, nprobe: int = 1) -> IVFTrace:
    """Replay ``IndexIVFScalarQuantizer.search(query, k)`` with ``nprobe`` lists; candidate
    distances are the code distances faiss ranks by."""
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "IVF_SQ")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)

    centroid_d, probed, graph = coarse_step(index, q, nprobe)

    parts: list[np.ndarray] = []
    for list_no, coarse_d in zip(probed.tolist(), centroid_d[probed].tolist(), strict=True):
        decoded = index.list_decoded(list_no)
        if index.metric == "ip":
            d = code_distances(decoded, q, "ip")
            if index.by_residual:
                d = np.asarray(np.float32(coarse_d) + d, dtype=np.float32)
        else:
            target = (q - index.centroids[list_no]).astype(np.float32) if index.by_residual \
                else q
            d = code_distances(decoded, target, "l2")
        parts.append(d)
    cand_d = np.concatenate(parts) if parts else np.empty(0, np.float32)
    cand_ids = np.concatenate([index.list_ids(lst) for lst in probed.tolist()]).astype(
        np.int64, copy=False)
    return probed_trace(index, q, k, nprobe, centroid_d, probed, cand_ids, cand_d,
                        coarse_graph=graph)


_codebook_norms: weakref.WeakKeyDictionary[Any, np.ndarray] = weakref.WeakKeyDictionary()


def pq_list_table(index: IVFPQIndex, list_no: int, kernels: ModuleType | None = None,
                  ) -> np.ndarray:
    """faiss's precomputed table of one list, ``‖c_mj‖² + 2⟨centroid_m, c_mj⟩`` in float32
    (``fvec_norm_L2sqr``, ``compute_inner_prod_table``, then one rounding: the doubling is
    exact), cached on the model (``kernels``: :func:`.accel.code_kernels`, same values)."""
    table = index._tables.get(list_no)
    if table is None:
        cents = index.codec.centroids
        norms = _codebook_norms.get(index)
        if norms is None:  # the sub-centroids' norms: the same for every list
            norms = _codebook_norms[index] = float32.dot_rows(cents, cents)
        if kernels is not None:
            table = index._tables[list_no] = _sub_table(kernels, cents,
                                                        index.centroids[list_no], False, norms)
            return table
        ip = _sub_table(kernels, cents, index.centroids[list_no], l2=False)
        table = index._tables[list_no] = np.asarray(norms + np.float32(2) * ip,
                                                    dtype=np.float32)
    return table


def _sub_table(kernels: ModuleType | None, cents: np.ndarray, x: np.ndarray, l2: bool,
               norms: np.ndarray | None = None) -> np.ndarray:
    """``(M, ksub) float32`` :func:`.float32.distance_table` (``l2``) or
    :func:`.float32.inner_prod_table` of ``x`` ``(d,)`` with ``cents`` ``(M, ksub, dsub)``,
    through the numba kernel when there is one (same values); with ``norms`` (kernel only)
    ``norms + 2·table``."""
    if kernels is None:
        return float32.distance_table(cents, x) if l2 else float32.inner_prod_table(cents, x)
    m_count, ksub, dsub = cents.shape
    layouts = _layout(cents)
    out = np.empty((m_count, ksub), np.float32)
    kernels.sub_tables(layouts[1], layouts[2], dsub, np.ascontiguousarray(x, dtype=np.float32),
                       l2, dsub in float32._SPECIAL_NY, out,
                       _NO_TABLE if norms is None else norms)
    return out


def _fill_list_tables(kernels: ModuleType, index: IVFPQIndex, lists: np.ndarray) -> None:
    """Make the precomputed tables of ``lists`` not made yet (:func:`pq_list_table`) in one
    kernel call."""
    tables = index._tables
    missing = [lst for lst in dict.fromkeys(lists.tolist()) if lst not in tables]
    if not missing:
        return
    cents = index.codec.centroids
    norms = _codebook_norms.get(index)
    if norms is None:
        norms = _codebook_norms[index] = float32.dot_rows(cents, cents)
    _, flat, transposed = _layout(cents)
    coarse = index.centroids
    if not (coarse.flags.c_contiguous and coarse.dtype == np.float32):
        coarse = np.ascontiguousarray(coarse, dtype=np.float32)
    m_count, ksub, dsub = cents.shape
    out = np.empty((len(missing), m_count, ksub), np.float32)
    kernels.list_tables(flat, transposed, dsub, dsub in float32._SPECIAL_NY, coarse,
                        np.asarray(missing, np.int64), norms, out)
    for lst, table in zip(missing, out, strict=True):
        tables[lst] = table


def _layout(cents: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(``cents``, flattened, transposed ``(M, dsub, ksub)``), cached per codebook."""
    layouts = _layouts.get(id(cents))
    if layouts is None or layouts[0] is not cents:
        layouts = _layouts[id(cents)] = (
            cents, np.ascontiguousarray(cents, dtype=np.float32).reshape(-1),
            np.ascontiguousarray(cents.transpose(0, 2, 1), dtype=np.float32))
        weakref.finalize(cents, _layouts.pop, id(cents), None)
    return layouts


_layouts: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
"""``id(codebook)`` → (the codebook, flattened, transposed ``(M, dsub, ksub)``), dropped
with the codebook."""
_NO_TABLE = np.empty((0, 0), np.float32)


def pq_code_sums(table: np.ndarray, indices: np.ndarray, nbits: int,
                 which: np.ndarray | None = None) -> np.ndarray:
    """``(m,) float32`` ``Σ_m table[m, idx_m]`` in faiss's float32 order (``which``: row ``i``
    uses ``table[which[i]]`` of a ``(L, M, ksub)`` stack).

    8-bit codes take faiss's vectorised kernel: the entries of each block of 16
    sub-quantizers are added lane by lane across blocks, the 16 lanes folded in halves to one
    value, then the remaining ``M mod 16`` entries added one by one (so ``M < 16`` sums in
    order). Other widths sum sub-quantizer by sub-quantizer. (Verified bit for bit against
    faiss 1.15.1 on AVX-512 hardware for M = 4, 8, 16, 24, 32.)
    """
    m_count, ksub = table.shape[-2], table.shape[-1]
    flat = np.arange(m_count, dtype=np.int64) * ksub + indices  # (m, M) positions
    if which is not None:  # a stack of tables, one per row
        flat += (which.astype(np.int64) * (m_count * ksub))[:, None]
    return table_sums(np.take(table.reshape(-1), flat), nbits)


def table_sums(t: np.ndarray, nbits: int) -> np.ndarray:
    """``(m,) float32`` row sums of gathered table entries ``t`` ``(m, M) float32`` in
    faiss's order (see :func:`pq_code_sums`); every operation stays in float32."""
    m_count = t.shape[1]
    acc = np.zeros(t.shape[0], np.float32)
    start = 0
    if nbits == 8 and m_count >= 16:
        blocks = m_count // 16
        lanes = t[:, :16]
        for b in range(1, blocks):
            lanes = lanes + t[:, 16 * b: 16 * b + 16]
        while lanes.shape[1] > 1:
            half = lanes.shape[1] // 2
            lanes = lanes[:, :half] + lanes[:, half:]
        acc = acc + lanes[:, 0]
        start = 16 * blocks
    for m in range(start, m_count):
        acc = acc + t[:, m]
    return acc


def pq_query_table(codec: Any, q: np.ndarray, metric: str) -> np.ndarray:
    """``(M, ksub) float32`` faiss's per-query PQ table: ``‖q_m − c_mj‖²`` (L2) or
    ``⟨q_m, c_mj⟩`` (inner product)."""
    if metric == "ip":
        return float32.inner_prod_table(codec.centroids, q)
    return float32.distance_table(codec.centroids, q)


def coarse_step(index: IVFFlatIndex, q: np.ndarray, nprobe: int,
                ) -> tuple[np.ndarray, np.ndarray, HNSWTrace | None]:
    """``(centroid distances (nlist,), probed lists in faiss's order, the HNSW quantizer's
    trace or None)``. A flat quantizer ranks every centroid (faiss's heap, ties on list
    numbers); an HNSW quantizer (``index.coarse_graph``) is searched like faiss's
    ``IndexHNSW.search(q, nprobe)`` at its own ``efSearch``, and only its results are
    probed (−1 results skipped, as faiss does)."""
    larger = index.metric in LARGER_IS_CLOSER
    centroid_d = coarse_distances(index, q, nprobe)
    graph = index.coarse_graph
    if graph is None:
        return centroid_d, best_positions(centroid_d, nprobe, larger), None
    from .faiss_hnsw import trace_faiss_hnsw

    found = trace_faiss_hnsw(graph, q, k=nprobe, ef=graph.ef_search)
    probed = found.ids[found.ids >= 0].astype(np.int64)
    centroid_d = float32.flat_distances(index.centroids, q, index.metric)
    return centroid_d, probed, found


def coarse_distances(index: IVFFlatIndex, q: np.ndarray, nprobe: int) -> np.ndarray:
    """``(nlist,) float32`` query-to-centroid distances with faiss's own float32 values
    (:func:`float32.flat_distances`) wherever they can decide the probed lists or enter a
    distance (the ``nprobe`` best and every centroid within rounding of them); the others
    from one BLAS pass (they are provably outside, see
    :func:`~feder.trace.distances.screened_faiss_distances`, whose steps this repeats with the
    exact rows from the numba kernel when there is one: the same values)."""
    kernels = graph_kernels()
    if kernels is not None:
        query = np.array(q, dtype=np.float32)  # writable and aligned, as the kernels expect
        found = guarded(lambda: _coarse_distances(kernels, index, query, nprobe))
        if found is not None:
            return found
    return _coarse_distances(None, index, q, nprobe)


def _coarse_distances(kernels: ModuleType | None, index: IVFFlatIndex, q: np.ndarray,
                      nprobe: int) -> np.ndarray:
    """:func:`coarse_distances` with the kernels (``None``: numpy only)."""
    if kernels is None:
        d = screened_faiss_distances([index.aligned_centroids], index.centroid_norms, q,
                                     index.metric, nprobe)
    else:
        d = _screened(kernels, index, q, nprobe)
    if d.size <= 4 * nprobe:
        return _exact(kernels, index, q, None)
    keys = -d if index.metric == "ip" else d
    kth = float(np.partition(keys, nprobe - 1)[nprobe - 1])
    bound = 8.0 * (index.dim + 2) * 2.0**-24 * (float(index.centroid_norms.max())
                                                 + float(np.dot(q, q)))
    near = np.flatnonzero(~(keys > kth + bound))
    d = d.copy()
    d[near] = _exact(kernels, index, q, near)
    return d


def _exact(kernels: ModuleType | None, index: IVFFlatIndex, q: np.ndarray,
           rows: np.ndarray | None) -> np.ndarray:
    """:func:`float32.flat_distances` of the centroids ``rows`` (all when ``None``)."""
    cents = index.centroids
    if kernels is not None:
        laid = flat_rows(cents)
        if laid is not None:
            at = np.arange(cents.shape[0], dtype=np.int64) if rows is None else \
                rows.astype(np.int64, copy=False)
            out: np.ndarray = kernels.faiss_rows(laid[0], laid[1], at, q,
                                                 index.metric == "ip")
            return out
    return float32.flat_distances(cents if rows is None else cents[rows], q, index.metric)


def _screened(kernels: ModuleType, index: IVFFlatIndex, q: np.ndarray, count: int,
              ) -> np.ndarray:
    """:func:`~feder.trace.distances.screened_faiss_distances` of the centroids, step for
    step, its exact rows from the kernel."""
    norms = index.centroid_norms
    m = int(norms.shape[0])
    if m <= max(4 * count, 64):
        return _exact(kernels, index, q, None)
    d = q.shape[0]
    dots = index.aligned_centroids @ q
    q_norm = float(np.dot(q, q))
    if index.metric == "ip":
        approx = np.asarray(dots, dtype=np.float32)
        keys = -approx
    else:
        approx = np.asarray(norms - 2.0 * dots + np.float32(q_norm), dtype=np.float32)
        keys = approx
    bound = 4.0 * (d + 2) * 2.0**-24 * (float(norms.max()) + q_norm)
    if not np.isfinite(bound):
        return _exact(kernels, index, q, None)
    threshold = float(np.partition(keys, count - 1)[count - 1]) + 2.0 * bound
    near = np.flatnonzero(~(keys > threshold))
    approx[near] = _exact(kernels, index, q, near)
    return approx


def trace_ivf_pq(index: IVFPQIndex, query: Any, k: int = 5, nprobe: int = 1) -> IVFTrace:
    """Replay ``IndexIVFPQ.search(query, k)`` with ``nprobe`` lists: asymmetric distances
    ``dis0 + Σ_m table[m][code_m]`` from faiss's look-up tables (see :class:`IVFPQIndex`);
    candidate distances are these code distances."""
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "IVF_PQ")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)
    kernels = code_kernels()  # (asked first: a fresh process warms these up first)

    centroid_d, probed, graph = coarse_step(index, q, nprobe)

    cand_d = guarded(lambda: _pq_distances(kernels, index, np.array(q, dtype=np.float32),
                                           probed, centroid_d)) if kernels is not None else None
    if cand_d is None:
        cand_d = _pq_distances(None, index, q, probed, centroid_d)
    cand_ids = np.concatenate([index.list_ids(lst) for lst in probed.tolist()]).astype(
        np.int64, copy=False)
    return probed_trace(index, q, k, nprobe, centroid_d, probed, cand_ids, cand_d,
                        coarse_graph=graph)


def _pq_distances(kernels: ModuleType | None, index: IVFPQIndex, q: np.ndarray,
                  probed: np.ndarray, centroid_d: np.ndarray) -> np.ndarray:
    """``(Σ sizes,) float32`` the code distances of every candidate of the ``probed`` lists,
    list after list (:func:`trace_ivf_pq`), through the kernels (``None``: numpy only)."""
    codec = index.codec
    cents = codec.centroids
    query_table: np.ndarray | None = None
    if index.metric == "ip":
        query_table = _sub_table(kernels, cents, q, l2=False)
    elif not index.by_residual:
        query_table = _sub_table(kernels, cents, q, l2=True)
    elif index.precomputed_table:
        query_ip = _sub_table(kernels, cents, q, l2=False)
        twice_ip = np.float32(2) * query_ip  # exact
    no_minus = np.empty((0, 0), np.float32)
    minus: list[np.ndarray] = []

    if kernels is not None and index.precomputed_table and index.metric != "ip" \
            and index.by_residual:
        _fill_list_tables(kernels, index, probed)
    # one table (and one dis0) per probed list, then every candidate's table sum in one pass
    tables: list[np.ndarray] = []
    dis0 = np.zeros(probed.size, np.float32)
    for pos, list_no in enumerate(probed.tolist()):
        centroid = index.centroids[list_no]
        if index.metric == "ip":
            table = query_table
            if index.by_residual:  # faiss recomputes ⟨q, centroid⟩ with fvec_inner_product
                dis0[pos] = float32.dot_rows(centroid, q)
        elif not index.by_residual:
            table = query_table
        elif index.precomputed_table:  # dis0 = the coarse distance ‖q − centroid‖²
            table = pq_list_table(index, list_no, kernels)
            if kernels is None:
                table = np.asarray(table - twice_ip, dtype=np.float32)
            else:  # the kernel subtracts (same float32 operation)
                minus.append(twice_ip)
            dis0[pos] = centroid_d[list_no]
        else:
            table = _sub_table(kernels, cents, (q - centroid).astype(np.float32), l2=True)
        assert table is not None
        tables.append(table)
    sizes = index.list_sizes[probed]
    if kernels is not None:  # the sums straight from the stored codes
        cand_d = np.empty(int(sizes.sum()), np.float32)
        blocked = codec.nbits == 8 and codec.M >= 16
        scratch = np.empty((codec.M, 1 << codec.nbits), np.float32) if minus else no_minus
        at = 0
        for pos, (table, lst) in enumerate(zip(tables, probed.tolist(), strict=True)):
            size = int(sizes[pos])
            kernels.code_sums(table, minus[pos] if minus else no_minus,
                              index.list_indices(lst), dis0[pos], blocked, scratch,
                              cand_d[at: at + size])
            at += size
    else:
        which = np.repeat(np.arange(probed.size), sizes)
        gathered = [np.take(table.reshape(-1), index.list_positions(lst))
                    for table, lst in zip(tables, probed.tolist(), strict=True)]
        entries = np.concatenate(gathered) if gathered else np.empty((0, codec.M), np.float32)
        sums = table_sums(entries, codec.nbits)
        cand_d = np.asarray(dis0[which] + sums, dtype=np.float32)
    return cand_d


def trace_ivf_hnsw_flat(index: IVFHNSWFlatIndex, query: Any, k: int = 5, nprobe: int = 1,
                        ) -> IVFTrace:
    """Replay ``IndexIVFFlat.search(query, k)`` for an IVF whose coarse quantizer is an HNSW
    (``IVF…_HNSW…,Flat``): the graph search picks the lists (see :func:`coarse_step`), then
    every vector of them is compared with the query as in IVF_FLAT."""
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "IVF")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)
    centroid_d, probed, graph = coarse_step(index, q, nprobe)
    cand_ids, cand_d = probed_distances(index, probed, q, k)
    return probed_trace(index, q, k, nprobe, centroid_d, probed, cand_ids, cand_d,
                        coarse_graph=graph)
