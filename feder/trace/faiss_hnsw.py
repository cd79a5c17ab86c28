"""Replay of faiss ``IndexHNSW::search`` (``HNSW::search``, bounded queue) for one query.

faiss differs from hnswlib in every structure, so this is its own replay:

* upper levels: ``greedy_update_nearest`` — scan the current node's links, move to any
  strictly better one as it is seen, repeat until a pass changes nothing (no visited set);
* level 0: ``search_from_candidates`` with a ``MinimaxHeap`` of ``ef = max(efSearch, k)``
  slots (a max-heap on (distance, id) whose popped entries are marked ``-1`` but keep their
  slot and still count in ``count_below``; ``pop_min`` takes the best valid slot, the last one
  among equals) and a separate ``k``-slot result heap (``heap_replace_top`` with ties broken
  on ids). It stops when ``efSearch`` of the heap's values are strictly better than the node
  just popped (``check_relative_distance``, faiss's default);
* inner product runs the same code with the comparisons reversed (``is_similarity``): values
  are inner products, larger is better.

Every decision is replayed in faiss's order with the same float32 distances, so ids equal
``index.search`` including ties. With numba installed, flat storage (``IHNf``) runs the same
replay in compiled kernels (:mod:`.accel`) with identical results.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import float32
from .accel import flat_rows, graph_kernels, guarded, walkable
from .flat import check_metric
from .ivf import PAD_LIMIT
from .ivf_codes import code_distances, pq_code_sums, pq_query_table
from .kernel_levels import greedy_levels, level0_beam
from .query import as_query, positive_int
from .types import ADMITTED, REJECTED, BeamLevel, GreedyLevel, HNSWTrace

if TYPE_CHECKING:
    from ..model import FaissHNSWIndex, LevelGraph

_FLT_MAX = float(np.finfo(np.float32).max)


def trace_faiss_hnsw(index: FaissHNSWIndex, query: Any, k: int = 5, ef: int = 16,
                     ) -> HNSWTrace:
    """Replay ``IndexHNSW.search(query, k)`` with ``efSearch = ef`` (default: the file's).

    Fewer than ``k`` results pad ids with −1 and distances with ±FLT_MAX, like faiss; ``k``
    is clamped to ``max(ntotal, PAD_LIMIT)`` before anything is allocated. Level distances
    are faiss's own values (inner products for ``"ip"``: ``trace.larger_is_closer``).
    """
    check_metric(index.metric, index.metric_type, index.metric_arg, index.source, "HNSW")
    q = as_query(query, index.dim)
    k = min(positive_int(k, "k"), max(index.ntotal, PAD_LIMIT))
    ef_search = positive_int(ef, "ef")
    larger = index.metric == "ip"
    worst = -_FLT_MAX if larger else _FLT_MAX
    ids = np.full(k, -1, np.int64)
    distances = np.full(k, worst, np.float32)
    params = {"k": k, "ef": ef_search}
    if index.ntotal == 0:
        return HNSWTrace(kind=index.kind, metric=index.metric, query=q, k=k, ids=ids,
                         distances=distances, params=params, larger_is_closer=larger)

    metric = index.metric
    coded = index.search_vectors
    vectors = index.vectors if coded is None else coded
    pq_indices = index.pq_indices
    if pq_indices is not None:  # PQ storage: faiss's PQ distance computer (table sums)
        table = pq_query_table(index.pq_codec, q, metric)
        nbits = index.pq_codec.nbits

    def dist(nodes: np.ndarray) -> np.ndarray:
        if pq_indices is not None:
            return pq_code_sums(table, pq_indices[nodes], nbits)
        if coded is not None:  # SQ storage: faiss's SQ distance computer
            return code_distances(vectors[nodes], q, metric)
        return float32.flat_distances(vectors[nodes], q, metric)  # fvec_L2sqr, bit for bit

    kernels = graph_kernels() if coded is None and pq_indices is None else None
    replayed = guarded(lambda: _replay_numba(kernels, index, q, k, ef_search, larger)) \
        if kernels is not None else None
    if replayed is not None:
        levels, results = replayed
    else:
        levels = []
        nearest = index.entry_point
        d_nearest = float(dist(np.array([nearest]))[0])
        for level in range(index.max_level, 0, -1):
            step = _greedy(index.graphs[level], dist, level, nearest, d_nearest, larger)
            levels.append(step)
            nearest, d_nearest = int(step.path[-1]), float(step.path_distances[-1])

        beam, results = _level0(index, dist, nearest, d_nearest, k, ef_search, larger)
        levels.append(beam)
    found = np.asarray([node for _, node in results], np.int64)
    ids[: found.size] = index.labels[found]
    distances[: found.size] = [value for value, _ in results]
    return HNSWTrace(
        kind=index.kind,
        metric=index.metric,
        query=q,
        k=k,
        ids=ids,
        distances=distances,
        params=params,
        levels=tuple(levels),
        result_internal=found,
        larger_is_closer=larger,
    )


_checked: dict[tuple[int, bool], bool] = {}


def _replay_numba(kernels: ModuleType, index: FaissHNSWIndex, q: np.ndarray, k: int,
                  ef_search: int, larger: bool,
                  ) -> tuple[list[GreedyLevel | BeamLevel], list[tuple[float, int]]] | None:
    """:func:`_greedy` on every upper level then :func:`_level0`, through the numba kernels;
    ``None`` when the numpy replay must run (a graph the kernels cannot walk safely, rows not
    laid out as they read them)."""
    vectors = index.vectors
    n = index.ntotal
    graphs = index.graphs
    rows = flat_rows(vectors)
    if rows is None or not walkable(graphs, n) or not _same_distances(kernels, index.dim, larger):
        return None
    flat, stride = rows
    q = np.array(q, dtype=np.float32)  # writable and aligned, as the kernels were prepared for
    nearest = index.entry_point
    d_nearest = float(kernels.faiss_rows(flat, stride, np.array([nearest], np.int64), q,
                                         larger)[0])
    walked = greedy_levels(
        graphs, index.max_level, nearest, d_nearest,
        lambda graph, entry, entry_d, *out: kernels.faiss_greedy(
            flat, stride, n, q, larger, graph.nodes, graph.offsets, graph.neighbors, entry,
            entry_d, *out))
    if walked is None:
        return None
    greedy, nearest, d_nearest = walked
    levels: list[GreedyLevel | BeamLevel] = list(greedy)

    graph = graphs[0]
    ef = max(ef_search, k)
    slots = min(ef, n)
    held_d = np.empty(slots, np.float64)
    held_node = np.empty(slots, np.int64)
    res_d = np.empty(k, np.float64)
    res_i = np.empty(k, np.int64)
    ran = level0_beam(
        graph, n, ef, nearest, 256,
        lambda visited, b, fresh: kernels.faiss_level0(
            flat, stride, q, larger, graph.offsets, graph.neighbors, visited, nearest,
            d_nearest, k, ef_search, b.expanded, b.src, b.dst, b.dist, b.outcome, b.evicted,
            held_d, held_node, res_d, res_i, fresh))
    if ran is None:
        return None
    buffers, (n_x, n_e, held) = ran
    expanded, e_src, e_dst, e_dist, e_out, e_evict = (
        buffers.expanded, buffers.src, buffers.dst, buffers.dist, buffers.outcome,
        buffers.evicted)
    kept = list(zip(held_d[:held].tolist(), held_node[:held].tolist(), strict=True))
    kept.sort(key=lambda item: (-item[0], item[1]) if larger else item)
    levels.append(BeamLevel(
        level=0, entry=nearest, ef=ef, expanded=expanded[:n_x], edge_src=e_src[:n_e],
        edge_dst=e_dst[:n_e], edge_distances=e_dist[:n_e], edge_outcome=e_out[:n_e],
        edge_evicted=e_evict[:n_e], beam=np.asarray([node for _, node in kept], np.int64),
        beam_distances=np.asarray([value for value, _ in kept], np.float32),
        entry_distance=d_nearest))
    filled = [(v, i) for v, i in zip(res_d.tolist(), res_i.tolist(), strict=True) if i != -1]
    return levels, sorted(filled, reverse=larger)


def _same_distances(kernels: ModuleType, dim: int, ip: bool) -> bool:
    """True if the kernel's distances equal :func:`.float32.flat_distances` bit for bit in
    ``dim`` dimensions (checked once per process and dimension on rows of several scales)."""
    key = (dim, ip)
    known = _checked.get(key)
    if known is None:
        rng = np.random.default_rng(dim)
        rows = rng.standard_normal((512, dim)).astype(np.float32)
        rows *= np.logspace(-3, 3, 512, dtype=np.float32)[:, None]
        q = rng.standard_normal(dim).astype(np.float32)
        metric = "ip" if ip else "l2"
        laid = flat_rows(rows)  # read-only, as the stored vectors are passed
        assert laid is not None
        ours = kernels.faiss_rows(laid[0], laid[1], np.arange(512, dtype=np.int64), q, ip)
        known = bool(np.array_equal(ours, float32.flat_distances(rows, q, metric)))
        _checked[key] = known
    return known


def _greedy(graph: LevelGraph, dist: Any, level: int, entry: int, entry_d: float,
            larger: bool) -> GreedyLevel:
    """``greedy_update_nearest`` on one upper level."""
    path, path_d = [entry], [entry_d]
    srcs: list[np.ndarray] = []
    dsts: list[np.ndarray] = []
    dists: list[np.ndarray] = []
    improved: list[np.ndarray] = []
    nearest, d_nearest = entry, entry_d
    while True:
        prev = nearest
        links = graph.neighbors_of(nearest).astype(np.int64)
        if links.size == 0:
            break
        d = dist(links)
        moved = np.zeros(links.size, bool)
        for i, value in enumerate(d.tolist()):
            if (value > d_nearest) if larger else (value < d_nearest):
                nearest, d_nearest = int(links[i]), value
                moved[i] = True
                path.append(nearest)
                path_d.append(value)
        srcs.append(np.full(links.size, prev, np.int64))
        dsts.append(links)
        dists.append(d)
        improved.append(moved)
        if nearest == prev:
            break
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


class MinimaxHeap:
    """faiss ``MinimaxHeapT`` of ``n`` slots: ``dis``/``ids`` arrays ordered as faiss's binary
    heap (1-based in faiss's code, 0-based here) on ``(value, id)`` with the worst value on
    top; ``node`` mirrors ``ids`` but keeps the node of a popped (``-1``) slot, so an eviction
    can be attributed. ``larger``: inner product (values are similarities)."""

    __slots__ = ("dis", "ids", "k", "larger", "n", "node", "nvalid")

    def __init__(self, n: int, larger: bool, room: int):
        """``room``: how many distinct nodes can ever be pushed (the index size), which bounds
        the slots allocated whatever ``n`` (``efSearch``) the file or the caller gives."""
        self.n = n
        self.k = 0
        self.nvalid = 0
        self.larger = larger
        slots = min(n, room)
        self.dis: list[float] = [0.0] * slots
        self.ids: list[int] = [0] * slots
        self.node: list[int] = [0] * slots

    def _above(self, v1: float, i1: int, v2: float, i2: int) -> bool:
        """``HC::cmp2``: (v1, i1) is worse than (v2, i2) (belongs nearer the top)."""
        if self.larger:
            return v1 < v2 or (v1 == v2 and i1 < i2)
        return v1 > v2 or (v1 == v2 and i1 > i2)

    def push(self, i: int, v: float) -> int:
        """Push node ``i`` at value ``v``; returns the node evicted (−1 if none), or −2 if
        the heap was full and ``v`` not strictly better than its top (rejected)."""
        if v != v:  # NaN counts as the worst value
            v = -_FLT_MAX if self.larger else _FLT_MAX
        evicted = -1
        if self.k == self.n:
            top = self.dis[0]
            if not ((top < v) if self.larger else (top > v)):
                return -2
            if self.ids[0] != -1:
                self.nvalid -= 1
            evicted = self.node[0]
            self._pop()
        self._push(v, i)
        self.nvalid += 1
        return evicted

    def _pop(self) -> None:
        """``heap_pop<HC>(k--)``: remove the top, refill from the last slot."""
        dis, ids, node = self.dis, self.ids, self.node
        k = self.k
        last = k - 1
        val, ident, nd = dis[last], ids[last], node[last]
        i = 0
        while True:
            i1 = 2 * i + 1
            i2 = i1 + 1
            if i1 > last:  # faiss: i1 > k (1-based) — slot ``last`` is the moved one
                break
            if i2 == last + 1 or self._above(dis[i1], ids[i1], dis[i2], ids[i2]):
                if self._above(val, ident, dis[i1], ids[i1]):
                    break
                dis[i], ids[i], node[i] = dis[i1], ids[i1], node[i1]
                i = i1
            else:
                if self._above(val, ident, dis[i2], ids[i2]):
                    break
                dis[i], ids[i], node[i] = dis[i2], ids[i2], node[i2]
                i = i2
        dis[i], ids[i], node[i] = val, ident, nd
        self.k = k - 1

    def _push(self, val: float, ident: int) -> None:
        """``heap_push<HC>(++k)``: sift the new entry up from the end."""
        dis, ids, node = self.dis, self.ids, self.node
        i = self.k
        self.k += 1
        while i > 0:
            father = (i - 1) >> 1
            if not self._above(val, ident, dis[father], ids[father]):
                break
            dis[i], ids[i], node[i] = dis[father], ids[father], node[father]
            i = father
        dis[i], ids[i], node[i] = val, ident, ident

    def pop_min(self) -> tuple[int, float]:
        """The best valid slot (the last one among equal values); marks it popped."""
        best = -1
        best_v = 0.0
        for i in range(self.k - 1, -1, -1):
            if self.ids[i] == -1:
                continue
            v = self.dis[i]
            if best < 0 or ((v > best_v) if self.larger else (v < best_v)):
                best, best_v = i, v
        node = self.ids[best]
        self.ids[best] = -1
        self.nvalid -= 1
        return node, best_v

    def count_below(self, threshold: float) -> int:
        """Slots (popped ones included) strictly better than ``threshold``."""
        values = self.dis[: self.k]
        if self.larger:
            return sum(1 for v in values if v > threshold)
        return sum(1 for v in values if v < threshold)


class ResultHeap:
    """faiss ``HeapResultHandler``: ``k`` slots initialised to the neutral value and id −1;
    a value strictly better than the top replaces it (``heap_replace_top``, ties on ids)."""

    __slots__ = ("dis", "ids", "k", "larger")

    def __init__(self, k: int, larger: bool):
        self.k = k
        self.larger = larger
        self.dis = [-_FLT_MAX if larger else _FLT_MAX] * k
        self.ids = [-1] * k

    @property
    def threshold(self) -> float:
        return self.dis[0]

    def _above(self, v1: float, i1: int, v2: float, i2: int) -> bool:
        if self.larger:
            return v1 < v2 or (v1 == v2 and i1 < i2)
        return v1 > v2 or (v1 == v2 and i1 > i2)

    def add(self, v: float, ident: int) -> bool:
        if not ((self.dis[0] < v) if self.larger else (self.dis[0] > v)):
            return False
        dis, ids, k = self.dis, self.ids, self.k
        i = 0
        while True:
            i1 = 2 * i + 1
            i2 = i1 + 1
            if i1 >= k:
                break
            if i2 == k or self._above(dis[i1], ids[i1], dis[i2], ids[i2]):
                if self._above(v, ident, dis[i1], ids[i1]):
                    break
                dis[i], ids[i] = dis[i1], ids[i1]
                i = i1
            else:
                if self._above(v, ident, dis[i2], ids[i2]):
                    break
                dis[i], ids[i] = dis[i2], ids[i2]
                i = i2
        dis[i], ids[i] = v, ident
        return True

    def sorted(self) -> list[tuple[float, int]]:
        """``heap_reorder``: the filled slots, best first (ties: smaller id first for L2,
        larger id first for inner product)."""
        filled = [(v, i) for v, i in zip(self.dis, self.ids, strict=True) if i != -1]
        return sorted(filled, reverse=self.larger)


def _level0(index: FaissHNSWIndex, dist: Any, entry: int, entry_d: float, k: int,
            ef_search: int, larger: bool) -> tuple[BeamLevel, list[tuple[float, int]]]:
    """``search_from_candidates`` on level 0 (``check_relative_distance`` on)."""
    graph = index.graphs[0]
    offsets = graph.offsets
    neighbors = graph.neighbors
    ef = max(ef_search, k)
    candidates = MinimaxHeap(ef, larger, index.ntotal)
    candidates.push(entry, entry_d)
    results = ResultHeap(k, larger)
    visited = np.zeros(index.ntotal, bool)
    results.add(entry_d, entry)
    visited[entry] = True

    expanded: list[int] = []
    e_src: list[np.ndarray] = []
    e_dst: list[np.ndarray] = []
    e_dist: list[np.ndarray] = []
    e_outcome: list[np.ndarray] = []
    e_evicted: list[np.ndarray] = []
    while candidates.nvalid > 0:
        v0, d0 = candidates.pop_min()
        if candidates.count_below(d0) >= ef_search:
            break
        expanded.append(v0)
        links = neighbors[offsets[v0]: offsets[v0 + 1]].astype(np.int64)
        fresh = links[~visited[links]]
        if fresh.size:
            # a link listed twice is computed once (the visited table is set as it goes)
            _, first = np.unique(fresh, return_index=True)
            if first.size != fresh.size:
                fresh = fresh[np.sort(first)]
        if fresh.size == 0:
            continue
        visited[fresh] = True
        d = dist(fresh)
        outcome = np.full(fresh.size, REJECTED, np.uint8)
        evicted = np.full(fresh.size, -1, np.int64)
        for i, (node, value) in enumerate(zip(fresh.tolist(), d.tolist(), strict=True)):
            results.add(value, node)
            gone = candidates.push(node, value)
            if gone != -2:
                outcome[i] = ADMITTED
                evicted[i] = gone
        e_src.append(np.full(fresh.size, v0, np.int64))
        e_dst.append(fresh)
        e_dist.append(d)
        e_outcome.append(outcome)
        e_evicted.append(evicted)

    held = [(candidates.dis[i], candidates.node[i]) for i in range(candidates.k)]
    held.sort(key=lambda item: (-item[0], item[1]) if larger else item)
    beam = BeamLevel(
        level=0,
        entry=entry,
        ef=ef,
        expanded=np.asarray(expanded, np.int64),
        edge_src=_cat(e_src, np.int64),
        edge_dst=_cat(e_dst, np.int64),
        edge_distances=_cat(e_dist, np.float32),
        edge_outcome=_cat(e_outcome, np.uint8),
        edge_evicted=_cat(e_evicted, np.int64),
        beam=np.asarray([node for _, node in held], np.int64),
        beam_distances=np.asarray([value for value, _ in held], np.float32),
        entry_distance=entry_d,
    )
    return beam, results.sorted()


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)
