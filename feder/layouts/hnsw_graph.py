"""HNSW views: the layered overview and the geometry of one search's descent."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..arrays import sample_rows
from ..model import HNSWIndex
from ..threads import blas_limits
from ..trace import HNSWTrace
from ..trace.distances import faiss_distances, hnswlib_distances
from .geometry import fit_to_box, pca_2d
from .polar import RadialScale, radial_scale


@dataclass(frozen=True, eq=False)
class LayeredOverview:
    """Nodes of the shown levels with one shared position each (inherited level to level).

    ``nodes``: ``(n,) int64`` internal ids, ascending; ``xy``: ``(n, 2) float32`` in
    ``[0, 1]²``; ``top_level``: ``(n,) int32``; per shown level (top first) ``levels[i]`` and
    its edges ``edge_src[i]``/``edge_dst[i]`` ``(e_i,) int32`` as indices into ``nodes``.
    """

    levels: tuple[int, ...]
    nodes: np.ndarray
    xy: np.ndarray
    top_level: np.ndarray
    edge_src: tuple[np.ndarray, ...]
    edge_dst: tuple[np.ndarray, ...]
    level_counts: tuple[int, ...]  # elements on every level 0..max_level
    path_offsets: np.ndarray | None = None  # (n + 1,) int64, see entry_paths
    path_nodes: np.ndarray | None = None  # (p,) int32 indices into nodes
    path_levels: np.ndarray | None = None  # (p,) int32


def shown_levels(level_counts: tuple[int, ...], count: int) -> tuple[int, ...]:
    """``count`` levels, top first, starting at the highest level with at least two nodes
    (hnswlib's top levels often hold the entry point alone); level 0 only when it is the
    only level. ``level_counts[l]`` is the number of elements on level ``l``."""
    max_level = len(level_counts) - 1
    if max_level <= 0:
        return (0,)
    top = max([lv for lv in range(1, max_level + 1) if level_counts[lv] >= 2], default=1)
    low = max(1, top - count + 1)
    return tuple(range(top, low - 1, -1))


def layered_overview(index: HNSWIndex, num_levels: int = 3, paths: bool = True,
                     ) -> LayeredOverview:
    """Positions by PCA of the vectors of the lowest shown level's nodes; every upper level
    reuses them, so a node sits at the same spot on each plane. ``paths``: also every node's
    route from the entry point (:func:`entry_paths`, the bulk of the cost on large graphs; a
    live widget asks for one node's route when it is clicked, see :func:`node_path`)."""
    counts = tuple(int(np.count_nonzero(index.levels >= lv)) for lv in range(index.max_level + 1))
    levels = shown_levels(counts, num_levels)
    nodes = index.graphs[levels[-1]].nodes if levels[-1] > 0 else np.arange(index.ntotal)
    nodes = nodes.astype(np.int64)
    xy = fit_to_box(_plane(index.vectors, nodes), 1.0, 1.0, margin=0.04) if nodes.size else \
        np.zeros((0, 2))
    srcs: list[np.ndarray] = []
    dsts: list[np.ndarray] = []
    # internal id → index into ``nodes`` (a lookup table: one gather per edge array instead of
    # a binary search per edge)
    position = np.zeros(index.ntotal, np.int32)
    position[nodes] = np.arange(nodes.size, dtype=np.int32)
    for level in levels:
        graph = index.graphs[level]
        own = position[graph.nodes] if level > 0 else position
        srcs.append(np.repeat(own, np.diff(graph.offsets)))
        dsts.append(position[graph.neighbors])
    overview = LayeredOverview(levels, nodes, xy.astype(np.float32),
                               index.levels[nodes].astype(np.int32), tuple(srcs), tuple(dsts),
                               counts)
    return with_paths(index, overview) if paths else overview


PCA_SAMPLE = 4096
"""Overviews with more nodes take their two axes from a seeded sample of this many (the PCA
of 12k×128 float64 rows costs ~12 ms, its axes from 4096 of them ~3 ms; the projection of all
nodes on them is a single small product)."""


def _plane(vectors: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """``(n, 2) float64`` positions of ``nodes`` (``(n,) int64`` rows of ``vectors``): their
    :func:`pca_2d`, with the axes and centre from :data:`PCA_SAMPLE` of them when there are
    more."""
    if nodes.size <= PCA_SAMPLE:
        return pca_2d(vectors[nodes])
    sample = np.asarray(vectors[nodes[sample_rows(nodes.size, PCA_SAMPLE)]], dtype=np.float64)
    mean = sample.mean(axis=0)
    centered = sample - mean  # the axes as pca_2d finds them, from the sample
    out = np.zeros((nodes.size, 2))
    with blas_limits():
        _, vecs = np.linalg.eigh(centered.T @ centered)
        axes = vecs[:, ::-1][:, :2].T
        signs = np.sign(axes[np.arange(axes.shape[0]), np.abs(axes).argmax(axis=1)])
        axes = axes * np.where(signs == 0, 1, signs)[:, None]
        # every node projected in float32 chunks (no float64 copy of all the rows)
        axes32 = np.ascontiguousarray(axes.T, dtype=np.float32)
        shift = mean @ axes.T
        for start in range(0, nodes.size, PCA_SAMPLE):
            part = np.asarray(vectors[nodes[start: start + PCA_SAMPLE]], np.float32)
            out[start: start + part.shape[0], : axes.shape[0]] = part @ axes32 - shift
    return out


def with_paths(index: HNSWIndex, overview: LayeredOverview) -> LayeredOverview:
    """``overview`` with every node's entry route (:func:`entry_paths`) when it has at most
    :data:`MAX_PATHS` nodes; unchanged otherwise."""
    nodes = overview.nodes
    if not 0 < nodes.size <= MAX_PATHS or overview.path_offsets is not None:
        return overview
    offsets, path, path_levels = entry_paths(index, nodes, overview.levels[-1])
    return replace(overview, path_offsets=offsets,
                   path_nodes=np.searchsorted(nodes, path).astype(np.int32),
                   path_levels=path_levels)


def node_path(index: HNSWIndex, overview: LayeredOverview, node: int,
              ) -> tuple[np.ndarray, np.ndarray]:
    """The route of overview node ``node`` (an index into ``overview.nodes``) from the entry
    point, as :func:`entry_paths` computes it for all: ``((p,) int32 indices into
    ``overview.nodes``, (p,) int32 levels)``."""
    _, path, levels = entry_paths(index, overview.nodes[[node]], overview.levels[-1])
    return np.searchsorted(overview.nodes, path).astype(np.int32), levels


MAX_PATHS = 50_000
"""Overviews with more nodes than this skip the per-node entry paths (they stay optional)."""


def entry_paths(index: HNSWIndex, targets: np.ndarray, lowest: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The route hnswlib's greedy descent takes from the entry point to each target, searching
    with the target's own vector, from the top level down to level ``lowest``.

    All targets descend together (one numpy pass per neighbour slot), following hnswlib's
    loop: scan the current node's links, move whenever one is strictly closer, repeat until a
    scan changes nothing. Each level's first step is where that level starts.
    ``targets``: ``(n,) int64`` internal ids. Returns CSR ``(offsets (n + 1,) int64,
    nodes (p,) int64 internal ids, levels (p,) int32)``, steps in search order.
    """
    n = targets.shape[0]
    vectors = index.vectors
    queries = np.asarray(vectors[targets], dtype=np.float32)

    def distance(which: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        rows = np.asarray(vectors[nodes], dtype=np.float32)
        if index.metric == "l2":
            diff = queries[which] - rows
            return np.asarray(np.einsum("ij,ij->i", diff, diff), dtype=np.float32)
        return np.asarray(np.float32(1.0) - np.einsum("ij,ij->i", queries[which], rows),
                          dtype=np.float32)

    everyone = np.arange(n)
    current = np.full(n, index.entry_point, np.int64)
    current_d = distance(everyone, current)
    step_query: list[np.ndarray] = []
    step_node: list[np.ndarray] = []
    step_level: list[np.ndarray] = []
    for level in range(index.max_level, lowest - 1, -1):
        step_query.append(everyone)
        step_node.append(current.copy())
        step_level.append(np.full(n, level, np.int32))
        graph = index.graphs[level]
        counts = np.diff(graph.offsets)
        width = int(counts.max(initial=0))
        padded = np.full((counts.size, width), -1, np.int64)
        padded[np.arange(width) < counts[:, None]] = graph.neighbors
        active = everyone
        while active.size and width:
            links = padded[np.searchsorted(graph.nodes, current[active])]
            changed = np.zeros(active.size, bool)
            for slot in range(width):
                present = np.flatnonzero(links[:, slot] >= 0)
                candidates = links[present, slot]
                d = distance(active[present], candidates)
                closer = d < current_d[active[present]]
                moved = present[closer]
                who = active[moved]
                current[who] = candidates[closer]
                current_d[who] = d[closer]
                changed[moved] = True
                step_query.append(who)
                step_node.append(candidates[closer])
                step_level.append(np.full(who.size, level, np.int32))
            active = active[changed]
    query_of = np.concatenate(step_query)
    order = np.argsort(query_of, kind="stable")
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(query_of, minlength=n), out=offsets[1:])
    return (offsets, np.concatenate(step_node)[order],
            np.concatenate(step_level)[order].astype(np.int32))


# Event outcomes shared by every level: 0 examined and passed over, 1 accepted (the greedy
# search moved there / the node entered the beam), 2 explored as a candidate only (deleted).
@dataclass(frozen=True, eq=False)
class SearchGeometry:
    """A search's visited nodes around the query (at the origin of ``[-1, 1]²``).

    ``nodes``: ``(v,) int64`` internal ids (union over levels); ``xy``: ``(v, 2) float32``;
    ``distances``: ``(v,) float32``. Events (every examined link, in search order):
    ``event_level``, ``event_src``/``event_dst`` (indices into ``nodes``), ``event_outcome``
    ``uint8`` (0 passed, 1 accepted, 2 candidate only), ``event_evicted`` (index or −1).
    ``level_entry[i]`` is the entry node index of ``levels[i]``; ``results``: indices, best first.
    """

    levels: tuple[int, ...]
    nodes: np.ndarray
    xy: np.ndarray
    distances: np.ndarray
    event_level: np.ndarray
    event_src: np.ndarray
    event_dst: np.ndarray
    event_outcome: np.ndarray
    event_evicted: np.ndarray
    level_entry: np.ndarray
    results: np.ndarray
    scale: RadialScale
    extra_xy: np.ndarray  # (x, 2) float32 positions of ``extra`` nodes, same frame


def search_geometry(index: HNSWIndex, trace: HNSWTrace, extra: np.ndarray | None = None,
                    ) -> SearchGeometry:
    """Radius grows with distance to the query (:func:`~feder.layouts.polar.radial_scale`:
    the query at the centre, a node at the same spot as the query only if its distance is
    the query's own); the angle is the direction of ``vector − query`` in the 2-D PCA of
    those directions, so nodes that lie the same way from the query share a side and the
    descent visibly closes in on the centre. ``extra``: ``(x,) int64`` internal ids the search
    never computed (missed neighbours) placed in the same frame (``extra_xy``)."""
    parts_src, parts_dst, parts_out, parts_evict, parts_level = [], [], [], [], []
    entries = []
    for step in trace.levels:
        entries.append(step.entry)
        parts_src.append(step.edge_src)
        parts_dst.append(step.edge_dst)
        parts_level.append(np.full(step.edge_src.size, step.level, np.int32))
        if step.name == "greedy":
            parts_out.append(step.edge_improved.astype(np.uint8))
            parts_evict.append(np.full(step.edge_src.size, -1, np.int64))
        else:
            parts_out.append(step.edge_outcome.astype(np.uint8))
            parts_evict.append(step.edge_evicted)
    src = np.concatenate(parts_src)
    dst = np.concatenate(parts_dst)
    evicted = np.concatenate(parts_evict)
    nodes = np.unique(np.concatenate([np.asarray(entries, np.int64), src, dst,
                                      trace.result_internal]))
    extra = np.empty(0, np.int64) if extra is None else np.asarray(extra, np.int64)
    placed = np.concatenate([nodes, extra])
    vectors = np.asarray(index.vectors[placed], dtype=np.float32)
    # in the trace's own convention: faiss HNSW with inner product reports similarities
    larger = trace.larger_is_closer
    measure = faiss_distances if larger else hnswlib_distances
    all_distances = measure(vectors, trace.query, index.metric)
    distances = all_distances[: nodes.size]
    self_d = float(measure(trace.query[None], trace.query, index.metric)[0])
    scale = radial_scale(all_distances, self_d if index.metric == "ip" else 0.0,
                         squared_l2=index.metric == "l2", larger_is_closer=larger)
    radius = scale.radius(all_distances)
    directions = vectors - trace.query
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    plane = pca_2d(directions / np.where(norms > 0, norms, 1.0))
    angle = np.arctan2(plane[:, 1], plane[:, 0])
    all_xy = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    xy = all_xy[: nodes.size]

    def index_of(ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(nodes, ids).astype(np.int32)

    evicted_idx = np.where(evicted >= 0, index_of(np.maximum(evicted, 0)), -1).astype(np.int32)
    return SearchGeometry(
        levels=tuple(step.level for step in trace.levels),
        nodes=nodes,
        xy=xy.astype(np.float32),
        distances=distances.astype(np.float32),
        event_level=np.concatenate(parts_level),
        event_src=index_of(src),
        event_dst=index_of(dst),
        event_outcome=np.concatenate(parts_out),
        event_evicted=evicted_idx,
        level_entry=index_of(np.asarray(entries, np.int64)),
        results=index_of(trace.result_internal),
        scale=scale,
        extra_xy=all_xy[nodes.size:].astype(np.float32),
    )
