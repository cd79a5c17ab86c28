"""Replay of hnswlib ``searchKnn`` (greedy descent, then ``searchBaseLayerST``) for one query.

The control flow mirrors hnswlib 0.8.0 decision by decision, so the visited nodes, the
examined links and the beam are the ones hnswlib saw. Distances of a node's unvisited
neighbours are computed in one numpy call; the decisions then run in order.

With numba installed the same replay runs in a compiled kernel (:mod:`.accel`), always with
libstdc++'s heap order and numpy's einsum reduction order (checked once per dimension against
numpy itself); a NaN distance or a graph the kernel cannot walk safely falls back to the numpy
replay, so the trace is the same either way.
"""

from __future__ import annotations

import heapq
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import QueryError
from .accel import flat_rows, graph_kernels, guarded, walkable
from .distances import hnswlib_distances, hnswlib_normalize
from .kernel_levels import greedy_levels, level0_beam
from .query import as_query, positive_int
from .types import ADMITTED, CANDIDATE_ONLY, REJECTED, BeamLevel, GreedyLevel, HNSWTrace

if TYPE_CHECKING:
    from ..model import HNSWIndex, LevelGraph

_FLT_MAX = float(np.finfo(np.float32).max)


def trace_hnsw(index: HNSWIndex, query: Any, k: int = 5, ef: int = 10) -> HNSWTrace:
    """Replay ``knn_query(query, k)`` after ``set_ef(ef)``; the beam has ``max(ef, k)`` slots.

    Like hnswlib, raises (:class:`QueryError`) when fewer than ``k`` live elements are found.
    """
    q = as_query(query, index.dim)
    k = positive_int(k, "k")
    ef = positive_int(ef, "ef")
    if index.metric == "cosine":
        q = hnswlib_normalize(q)
    if index.ntotal == 0:
        raise QueryError(f"the hnswlib index is empty: cannot return {k} results")
    if k > index.ntotal:  # hnswlib fails too (fewer than k found): no beam is tried
        raise QueryError(f"hnswlib would fail: k = {k} exceeds the {index.ntotal} elements "
                         f"of the index ({index.ntotal - index.num_deleted} live); lower k")

    vectors = index.vectors
    space = index.metric

    def dist(nodes: np.ndarray) -> np.ndarray:
        return hnswlib_distances(vectors[nodes], q, space)

    kernels = graph_kernels()
    replayed = guarded(lambda: _replay_numba(kernels, index, q, max(ef, k))) \
        if kernels is not None else None
    if replayed is not None:
        levels = replayed
        beam = replayed[-1]
        assert isinstance(beam, BeamLevel)
    else:
        levels = []
        current = index.entry_point
        current_d = float(dist(np.array([current]))[0])
        for level in range(index.max_level, 0, -1):
            step = _greedy(index.graphs[level], dist, level, current, current_d)
            levels.append(step)
            current, current_d = int(step.path[-1]), float(step.path_distances[-1])

        beam = _beam(index, dist, current, current_d, max(ef, k), exact=False)
        if _has_ties(beam):
            # Equal distances (duplicate vectors): which node wins depends on how
            # std::priority_queue orders equal keys, so replay with libstdc++'s heap
            # algorithms instead of heapq.
            beam = _beam(index, dist, current, current_d, max(ef, k), exact=True)
        levels.append(beam)
    found = beam.beam.size
    if found < k:
        raise QueryError(
            f"hnswlib would fail: the search found {found} live elements but k = {k} "
            f"({index.ntotal - index.num_deleted} live elements; raise ef or lower k)")
    # hnswlib keeps the k best of the beam and returns them sorted by (distance, label).
    kept = beam.beam[:k]
    kept_d = beam.beam_distances[:k]
    order = np.lexsort((index.labels[kept], kept_d))
    internal = kept[order]
    return HNSWTrace(
        kind="hnsw",
        metric=index.metric,
        query=q,
        k=k,
        ids=np.asarray(index.labels[internal], dtype=np.uint64),
        distances=kept_d[order],
        params={"k": k, "ef": ef},
        levels=tuple(levels),
        result_internal=internal,
    )


def _replay_numba(kernels: ModuleType, index: HNSWIndex, q: np.ndarray, ef: int,
                  ) -> list[GreedyLevel | BeamLevel] | None:
    """Every level of the search through the numba kernels, or ``None`` when the numpy
    replay must decide (a NaN distance, a numpy whose einsum rounds differently from the
    kernel, a graph the kernels cannot walk safely)."""
    vectors = index.vectors
    ip = index.metric != "l2"
    n = index.ntotal
    graphs = index.graphs
    rows = flat_rows(vectors)
    if rows is None or not walkable(graphs, n) or not _same_distances(kernels, index.dim, ip):
        return None
    flat, stride = rows
    q = np.array(q, dtype=np.float32)  # writable and aligned, as the kernels were prepared for
    current = index.entry_point
    current_d = float(kernels.hnswlib_rows(flat, stride, np.array([current], np.int64), q,
                                           ip)[0])
    if current_d != current_d:
        return None
    walked = greedy_levels(
        graphs, index.max_level, current, current_d,
        lambda graph, entry, entry_d, *out: kernels.hnswlib_greedy(
            flat, stride, n, q, ip, graph.nodes, graph.offsets, graph.neighbors, False, entry,
            entry_d, *out)[:2])
    if walked is None:
        return None
    greedy, current, current_d = walked
    levels: list[GreedyLevel | BeamLevel] = list(greedy)

    graph = graphs[0]
    slots = min(ef, n)  # a beam wider than the graph never fills: the same search
    beam = np.empty(slots, np.int64)
    beam_d = np.empty(slots, np.float32)
    ran = level0_beam(
        graph, n, ef, current, max(64, 2 * index.max_M0),
        lambda visited, b, fresh: kernels.hnswlib_beam(
            flat, stride, q, ip, graph.offsets, graph.neighbors, index.deleted,
            index.num_deleted > 0, visited, current, current_d, slots, b.expanded, b.src,
            b.dst, b.dist, b.outcome, b.evicted, beam, beam_d, fresh))
    if ran is None:
        return None
    buffers, (n_x, n_e, size, nan) = ran
    expanded, e_src, e_dst, e_dist, e_out, e_evict = (
        buffers.expanded, buffers.src, buffers.dst, buffers.dist, buffers.outcome,
        buffers.evicted)
    if nan:
        return None
    levels.append(BeamLevel(level=0, entry=current, ef=ef, expanded=expanded[:n_x],
                            edge_src=e_src[:n_e], edge_dst=e_dst[:n_e],
                            edge_distances=e_dist[:n_e], edge_outcome=e_out[:n_e],
                            edge_evicted=e_evict[:n_e], beam=beam[:size],
                            beam_distances=beam_d[:size], entry_distance=current_d))
    return levels


_checked: dict[tuple[int, bool], bool] = {}


def _same_distances(kernels: ModuleType, dim: int, ip: bool) -> bool:
    """True if the kernel's distances equal :func:`hnswlib_distances` (numpy's einsum) bit
    for bit in ``dim`` dimensions: checked once per process and dimension on rows of several
    scales (a different reduction order shows on a good share of them)."""
    key = (dim, ip)
    known = _checked.get(key)
    if known is None:
        rng = np.random.default_rng(dim)
        rows = rng.standard_normal((512, dim)).astype(np.float32)
        rows *= np.logspace(-3, 3, 512, dtype=np.float32)[:, None]
        q = rng.standard_normal(dim).astype(np.float32)
        if ip:  # as stored and searched in the cosine space
            rows /= np.linalg.norm(rows, axis=1, keepdims=True).astype(np.float32)
            q = hnswlib_normalize(q)
        space = "ip" if ip else "l2"
        laid = flat_rows(rows)  # read-only, as the stored vectors are passed
        assert laid is not None
        ours = kernels.hnswlib_rows(laid[0], laid[1], np.arange(512, dtype=np.int64), q, ip)
        known = bool(np.array_equal(ours, hnswlib_distances(rows, q, space)))
        _checked[key] = known
    return known


def _greedy(graph: LevelGraph, dist: Any, level: int, entry: int, entry_d: float,
            ) -> GreedyLevel:
    """hnswlib's upper-level loop: scan the current node's links, move to any closer one,
    repeat until a full scan changes nothing."""
    path, path_d = [entry], [entry_d]
    srcs: list[np.ndarray] = []
    dsts: list[np.ndarray] = []
    dists: list[np.ndarray] = []
    improved: list[np.ndarray] = []
    current, current_d = entry, entry_d
    changed = True
    while changed:
        changed = False
        links = graph.neighbors_of(current).astype(np.int64)
        if links.size == 0:
            break
        d = dist(links)
        moved = np.zeros(links.size, bool)
        src = current
        for i, value in enumerate(d.tolist()):
            if value < current_d:
                current_d, current = value, int(links[i])
                moved[i] = changed = True
                path.append(current)
                path_d.append(value)
        srcs.append(np.full(links.size, src, np.int64))
        dsts.append(links)
        dists.append(d)
        improved.append(moved)

    return GreedyLevel(
        level=level,
        entry=entry,
        path=np.asarray(path, np.int64),
        path_distances=np.asarray(path_d, np.float32),
        edge_src=_cat(srcs, np.int64),
        edge_dst=_cat(dsts, np.int64),
        edge_distances=_cat(dists, np.float32),
        edge_improved=_cat(improved, bool),
    )


def _beam(index: HNSWIndex, dist: Any, entry: int, entry_d: float, ef: int, exact: bool,
          ) -> BeamLevel:
    """``searchBaseLayerST``: best-first search on level 0 keeping the ``ef`` closest live
    nodes; deleted nodes are explored but never kept (hnswlib's non-bare-bone path).

    Both queues hold ``(key, node)`` with the next to pop at ``[0]``: the candidates keyed by
    distance, the beam by −distance. With ``exact`` they are ordered on the key alone like
    hnswlib's ``std::priority_queue`` (libstdc++), so equal distances resolve as in hnswlib;
    otherwise ``heapq`` is used, which agrees whenever no two distances are equal."""
    push, pop = (_std_push, _std_pop) if exact else (heapq.heappush, heapq.heappop)
    graph = index.graphs[0]
    offsets = graph.offsets
    neighbors = graph.neighbors
    deleted = index.deleted
    has_deleted = index.num_deleted > 0
    visited = np.zeros(index.ntotal, bool)

    top: list[tuple[float, int]] = []  # max-heap of (−distance, node): the beam
    if not has_deleted or not deleted[entry]:
        lower_bound = entry_d
        top.append((-entry_d, entry))
        candidates = [(entry_d, entry)]
    else:
        lower_bound = _FLT_MAX
        candidates = [(_FLT_MAX, entry)]
    visited[entry] = True

    expanded: list[int] = []
    e_src: list[np.ndarray] = []
    e_dst: list[np.ndarray] = []
    e_dist: list[np.ndarray] = []
    e_outcome: list[np.ndarray] = []
    e_evicted: list[np.ndarray] = []
    while candidates:
        cand_d, node = candidates[0]
        if cand_d > lower_bound and (not has_deleted or len(top) == ef):
            break
        pop(candidates)
        expanded.append(node)
        links = neighbors[offsets[node] : offsets[node + 1]]
        fresh = links[~visited[links]].astype(np.int64)
        if fresh.size == 0:
            continue
        visited[fresh] = True
        d = dist(fresh)
        outcome = np.full(fresh.size, REJECTED, np.uint8)
        evicted = np.full(fresh.size, -1, np.int64)
        for i, value in enumerate(d.tolist()):
            if len(top) < ef or lower_bound > value:
                other = int(fresh[i])
                push(candidates, (value, other))
                if has_deleted and deleted[other]:
                    outcome[i] = CANDIDATE_ONLY
                else:
                    push(top, (-value, other))
                    outcome[i] = ADMITTED
                while len(top) > ef:
                    evicted[i] = pop(top)[1]
                if top:
                    lower_bound = -top[0][0]
        e_src.append(np.full(fresh.size, node, np.int64))
        e_dst.append(fresh)
        e_dist.append(d)
        e_outcome.append(outcome)
        e_evicted.append(evicted)

    final = []  # closest first: the reverse of the order hnswlib pops the beam in
    while top:
        negative, node = pop(top)
        final.append((-negative, node))
    final.reverse()
    return BeamLevel(
        level=0,
        entry=entry,
        ef=ef,
        expanded=np.asarray(expanded, np.int64),
        edge_src=_cat(e_src, np.int64),
        edge_dst=_cat(e_dst, np.int64),
        edge_distances=_cat(e_dist, np.float32),
        edge_outcome=_cat(e_outcome, np.uint8),
        edge_evicted=_cat(e_evicted, np.int64),
        beam=np.asarray([node for _, node in final], np.int64),
        beam_distances=np.asarray([d for d, _ in final], np.float32),
        entry_distance=entry_d,
    )


def _has_ties(beam: BeamLevel) -> bool:
    """True if two distances computed on level 0 are equal (or NaN)."""
    values = np.concatenate([[beam.entry_distance], beam.edge_distances])
    return bool(np.unique(values).size < values.size)


def _std_push(heap: list[tuple[float, int]], item: tuple[float, int]) -> None:
    """``std::push_heap`` (libstdc++) of a heap whose smallest key is on top, comparing keys
    only (hnswlib's ``CompareByFirst``, mirrored)."""
    heap.append(item)
    _sift_up(heap, len(heap) - 1, item)


def _sift_up(heap: list[tuple[float, int]], hole: int, item: tuple[float, int]) -> None:
    """libstdc++ ``__push_heap``: move ``item`` up from ``hole`` past larger keys."""
    key = item[0]
    while hole > 0:
        parent = (hole - 1) >> 1
        if not heap[parent][0] > key:
            break
        heap[hole] = heap[parent]
        hole = parent
    heap[hole] = item


def _std_pop(heap: list[tuple[float, int]]) -> tuple[float, int]:
    """``std::pop_heap`` + ``pop_back`` (libstdc++ ``__adjust_heap``) for :func:`_std_push`
    heaps; returns the former top."""
    top = heap[0]
    value = heap.pop()
    n = len(heap)
    if n == 0:
        return top
    hole = child = 0
    while child < (n - 1) >> 1:
        child = 2 * (child + 1)
        if heap[child][0] > heap[child - 1][0]:
            child -= 1
        heap[hole] = heap[child]
        hole = child
    if n & 1 == 0 and child == (n - 2) >> 1:
        child = 2 * (child + 1)
        heap[hole] = heap[child - 1]
        hole = child - 1
    _sift_up(heap, hole, value)
    return top


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)
