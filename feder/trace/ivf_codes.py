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

from typing import TYPE_CHECKING, Any

import numpy as np

from . import float32
from .distances import LARGER_IS_CLOSER, screened_faiss_distances
from .flat import check_metric
from .ivf import PAD_LIMIT, best_positions
from .query import as_query, positive_int
from .types import CoarseStep, FineStep, HNSWTrace, IVFTrace

if TYPE_CHECKING:
    from ..model import IVFFlatIndex, IVFHNSWFlatIndex, IVFPQIndex, IVFSQIndex

_FLT_MAX = np.float32(np.finfo(np.float32).max)


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
    larger = index.metric in LARGER_IS_CLOSER

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
    sizes = index.list_sizes[probed]
    cand_d = np.concatenate(parts) if parts else np.empty(0, np.float32)
    cand_ids = np.concatenate([index.list_ids(lst) for lst in probed.tolist()]).astype(
        np.int64, copy=False)
    cand_lists = np.repeat(probed, sizes)
    starts = index.list_offsets[probed]
    cand_rows = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + \
        np.arange(cand_ids.size, dtype=np.int64)
    best = best_positions(cand_d, k, larger, cand_ids)

    ids = np.full(k, -1, np.int64)
    distances = np.full(k, -_FLT_MAX if larger else _FLT_MAX, np.float32)
    ids[: best.size] = cand_ids[best]
    distances[: best.size] = cand_d[best]
    return IVFTrace(
        kind=index.kind,
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params={"k": k, "nprobe": nprobe},
        coarse=CoarseStep(centroid_d, probed, centroid_d[probed]),
        fine=FineStep(cand_ids, cand_lists, cand_rows, cand_d, best),
        coarse_graph=graph,
    )


def pq_list_table(index: IVFPQIndex, list_no: int) -> np.ndarray:
    """faiss's precomputed table of one list, ``‖c_mj‖² + 2⟨centroid_m, c_mj⟩`` in float32
    (``fvec_norm_L2sqr``, ``compute_inner_prod_table``, then one rounding: the doubling is
    exact), cached on the model."""
    table = index._tables.get(list_no)
    if table is None:
        cents = index.codec.centroids
        norms = float32.dot_rows(cents, cents)
        ip = float32.inner_prod_table(cents, index.centroids[list_no])
        table = index._tables[list_no] = np.asarray(norms + np.float32(2) * ip,
                                                    dtype=np.float32)
    return table


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
    :func:`~feder.trace.distances.screened_faiss_distances`)."""
    d = screened_faiss_distances([index.aligned_centroids], index.centroid_norms, q,
                                 index.metric, nprobe)
    if d.size <= 4 * nprobe:
        return float32.flat_distances(index.centroids, q, index.metric)
    keys = -d if index.metric == "ip" else d
    kth = float(np.partition(keys, nprobe - 1)[nprobe - 1])
    bound = 8.0 * (index.dim + 2) * 2.0**-24 * (float(index.centroid_norms.max())
                                                 + float(np.dot(q, q)))
    near = np.flatnonzero(~(keys > kth + bound))
    d = d.copy()
    d[near] = float32.flat_distances(index.centroids[near], q, index.metric)
    return d


def trace_ivf_pq(index: IVFPQIndex, query: Any, k: int = 5, nprobe: int = 1) -> IVFTrace:
    """Replay ``IndexIVFPQ.search(query, k)`` with ``nprobe`` lists: asymmetric distances
    ``dis0 + Σ_m table[m][code_m]`` from faiss's look-up tables (see :class:`IVFPQIndex`);
    candidate distances are these code distances."""
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "IVF_PQ")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)
    larger = index.metric in LARGER_IS_CLOSER
    codec = index.codec

    centroid_d, probed, graph = coarse_step(index, q, nprobe)

    cents = codec.centroids
    query_table: np.ndarray | None = None
    if index.metric == "ip":
        query_table = float32.inner_prod_table(cents, q)
    elif not index.by_residual:
        query_table = float32.distance_table(cents, q)
    elif index.precomputed_table:
        query_ip = float32.inner_prod_table(cents, q)

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
            table = np.asarray(pq_list_table(index, list_no) - np.float32(2) * query_ip,
                               dtype=np.float32)
            dis0[pos] = centroid_d[list_no]
        else:
            table = float32.distance_table(cents, (q - centroid).astype(np.float32))
        assert table is not None
        tables.append(table)
    sizes = index.list_sizes[probed]
    which = np.repeat(np.arange(probed.size), sizes)
    gathered = [np.take(table.reshape(-1), index.list_positions(lst))
                for table, lst in zip(tables, probed.tolist(), strict=True)]
    entries = np.concatenate(gathered) if gathered else np.empty((0, codec.M), np.float32)
    sums = table_sums(entries, codec.nbits)
    cand_d = np.asarray(dis0[which] + sums, dtype=np.float32)
    cand_ids = np.concatenate([index.list_ids(lst) for lst in probed.tolist()]).astype(
        np.int64, copy=False)
    cand_lists = np.repeat(probed, sizes)
    starts = index.list_offsets[probed]
    cand_rows = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + \
        np.arange(cand_ids.size, dtype=np.int64)
    best = best_positions(cand_d, k, larger, cand_ids)

    ids = np.full(k, -1, np.int64)
    distances = np.full(k, -_FLT_MAX if larger else _FLT_MAX, np.float32)
    ids[: best.size] = cand_ids[best]
    distances[: best.size] = cand_d[best]
    return IVFTrace(
        kind=index.kind,
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params={"k": k, "nprobe": nprobe},
        coarse=CoarseStep(centroid_d, probed, centroid_d[probed]),
        fine=FineStep(cand_ids, cand_lists, cand_rows, cand_d, best),
        coarse_graph=graph,
    )


def trace_ivf_hnsw_flat(index: IVFHNSWFlatIndex, query: Any, k: int = 5, nprobe: int = 1,
                        ) -> IVFTrace:
    """Replay ``IndexIVFFlat.search(query, k)`` for an IVF whose coarse quantizer is an HNSW
    (``IVF…_HNSW…,Flat``): the graph search picks the lists (see :func:`coarse_step`), then
    every vector of them is compared with the query as in IVF_FLAT."""
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "IVF")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    nprobe = min(positive_int(nprobe, "nprobe"), index.nlist)
    larger = index.metric in LARGER_IS_CLOSER
    centroid_d, probed, graph = coarse_step(index, q, nprobe)
    sizes = index.list_sizes[probed]
    blocks = [index.list_block(lst) for lst in probed.tolist()]
    cand_ids = np.concatenate([index.list_ids(lst) for lst in probed.tolist()]).astype(
        np.int64, copy=False) if blocks else np.empty(0, np.int64)
    if blocks:
        cand_d = screened_faiss_distances([v for v, _ in blocks],
                                          np.concatenate([n for _, n in blocks]), q,
                                          index.metric, k)
    else:
        cand_d = np.empty(0, np.float32)
    cand_lists = np.repeat(probed, sizes)
    starts = index.list_offsets[probed]
    cand_rows = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + \
        np.arange(cand_ids.size, dtype=np.int64)
    best = best_positions(cand_d, k, larger, cand_ids)
    ids = np.full(k, -1, np.int64)
    distances = np.full(k, -_FLT_MAX if larger else _FLT_MAX, np.float32)
    ids[: best.size] = cand_ids[best]
    distances[: best.size] = cand_d[best]
    return IVFTrace(
        kind=index.kind,
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params={"k": k, "nprobe": nprobe},
        coarse=CoarseStep(centroid_d, probed, centroid_d[probed]),
        fine=FineStep(cand_ids, cand_lists, cand_rows, cand_d, best),
        coarse_graph=graph,
    )
