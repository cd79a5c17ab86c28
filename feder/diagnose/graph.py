"""Breadth-first searches over a parsed HNSW graph, vectorised frontier by frontier.

Links are directed (``graphs[l].neighbors`` of a node are the nodes it links to). A node is
*reachable* when some directed path leads to it from the entry point, each step over a link
of any level: that is every node a search could ever compute.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..model import HNSWIndex, LevelGraph

_REACHABLE: weakref.WeakKeyDictionary[HNSWIndex, np.ndarray] = weakref.WeakKeyDictionary()


def _links_from(graph: LevelGraph, nodes: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """``(e,)`` every link target of ``nodes`` (``(m,) int64`` internal ids, ascending) on
    ``graph``'s level; nodes absent from that level contribute nothing. ``mask``: the same
    nodes as an ``(n,) bool`` mask, given for large frontiers, which are then gathered with
    one pass over the level's links instead of index arithmetic per link."""
    if mask is not None:
        rows = mask if graph.level == 0 else mask[graph.nodes]
        links: np.ndarray = graph.neighbors[np.repeat(rows, np.diff(graph.offsets))]
        return links
    if graph.level == 0:
        rows = nodes
    else:
        if graph.nodes.size == 0:
            return np.empty(0, np.int64)
        pos = np.searchsorted(graph.nodes, nodes)
        pos[pos >= graph.nodes.size] = 0
        rows = pos[graph.nodes[pos] == nodes]
    starts = graph.offsets[rows]
    counts = graph.offsets[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64)
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    shift += np.arange(total)
    out: np.ndarray = graph.neighbors[shift]
    return out


def _frontier_mask(frontier: np.ndarray, n: int) -> np.ndarray | None:
    """An ``(n,) bool`` mask of ``frontier`` when it is large enough to be worth one."""
    if frontier.size * 32 < n:
        return None
    mask = np.zeros(n, bool)
    mask[frontier] = True
    return mask


def _fresh(targets: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """``(f,) int64`` the distinct ``targets`` not yet ``seen`` (``(n,) bool``), ascending;
    marks them seen. Small target sets are deduplicated by sorting, large ones by a mask."""
    if targets.size * 64 < seen.size:
        targets = targets[~seen[targets]]
        out = np.unique(targets).astype(np.int64)
    else:
        mask = np.zeros(seen.size, bool)
        mask[targets] = True
        mask &= ~seen
        out = np.flatnonzero(mask)
    seen[out] = True
    return out


def cached_reachable(index: HNSWIndex) -> np.ndarray | None:
    """:func:`reachable` if it was computed for ``index`` already, else ``None``."""
    return _REACHABLE.get(index)


def reachable(index: HNSWIndex) -> np.ndarray:
    """``(n,) bool`` nodes with a directed path from the entry point over the links of any
    level (deleted nodes are traversed, as hnswlib's search does). Computed once per model."""
    cached = _REACHABLE.get(index)
    if cached is not None:
        return cached
    seen = np.zeros(index.ntotal, bool)
    if index.ntotal and index.entry_point >= 0:
        frontier = np.array([index.entry_point], np.int64)
        seen[frontier] = True
        while frontier.size:
            mask = _frontier_mask(frontier, index.ntotal)
            links = np.concatenate([_links_from(graph, frontier, mask)
                                    for graph in index.graphs])
            frontier = _fresh(links, seen)
    seen.flags.writeable = False
    _REACHABLE[index] = seen
    return seen


def level0_hops(index: HNSWIndex, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """``(t,) int64`` the fewest level-0 links from any of ``sources`` (``(s,) int64``
    internal ids) to each of ``targets`` (``(t,) int64``); 0 for a source itself, −1 when no
    level-0 path exists. Stops as soon as every target is reached."""
    hops = np.full(targets.size, -1, np.int64)
    if targets.size == 0 or index.ntotal == 0:
        return hops
    seen = np.zeros(index.ntotal, bool)
    frontier = np.unique(sources.astype(np.int64))
    seen[frontier] = True
    depth = 0
    graph = index.graphs[0]
    while True:
        hit = (hops < 0) & seen[targets]
        hops[hit] = depth
        if frontier.size == 0 or not (hops < 0).any():
            return hops
        mask = _frontier_mask(frontier, index.ntotal)
        frontier = _fresh(_links_from(graph, frontier, mask), seen)
        depth += 1
