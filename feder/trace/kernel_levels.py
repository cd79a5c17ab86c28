"""An HNSW replay's levels through the numba kernels: hnswlib's and faiss's kernels share
one calling convention (output buffers in, the counts written out, ``-1`` when the buffers
are too small, ``-2`` when the numpy replay must decide), so the buffers and their growth
live here once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import LevelGraph
from .accel import scratch_visited
from .types import GreedyLevel

GreedyWalk = Callable[..., tuple[int, int]]
"""``walk(graph, entry, entry_distance, src, dst, dis, improved, path, path_distances)`` →
``(edges, steps)``: one level's greedy walk written into the six buffers."""


def greedy_levels(graphs: Sequence[LevelGraph], top: int, entry: int, entry_distance: float,
                  walk: GreedyWalk) -> tuple[list[GreedyLevel], int, float] | None:
    """Levels ``top`` … 1 walked greedily from ``entry``: each level's
    :class:`~.types.GreedyLevel` (edges ``(e,) int64 / float32 / bool``, path ``(s,)``), and
    the node and distance level 0 starts from; ``None`` if a walk gave up (``-2``)."""
    levels: list[GreedyLevel] = []
    for level in range(top, 0, -1):
        graph = graphs[level]
        cap = 256
        while True:
            src = np.empty(cap, np.int64)
            dst = np.empty(cap, np.int64)
            dis = np.empty(cap, np.float32)
            improved = np.empty(cap, bool)
            path = np.empty(cap, np.int64)
            path_d = np.empty(cap, np.float32)
            edges, steps = walk(graph, entry, entry_distance, src, dst, dis, improved, path,
                                path_d)
            if edges != -1:
                break
            cap *= 4
        if edges == -2:
            return None
        levels.append(GreedyLevel(level=level, entry=entry, path=path[:steps],
                                  path_distances=path_d[:steps], edge_src=src[:edges],
                                  edge_dst=dst[:edges], edge_distances=dis[:edges],
                                  edge_improved=improved[:edges]))
        entry, entry_distance = int(path[steps - 1]), float(path_d[steps - 1])
    return levels, entry, entry_distance


@dataclass(frozen=True)
class Level0Buffers:
    """What a level-0 beam kernel writes: ``expanded`` ``(cap + 1,) int64`` nodes in the
    order expanded, and per examined edge ``src`` / ``dst`` ``int64``, ``dist`` ``float32``,
    ``outcome`` ``uint8`` and ``evicted`` ``int64`` (``(cap,)`` each)."""

    expanded: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    dist: np.ndarray
    outcome: np.ndarray
    evicted: np.ndarray

    @classmethod
    def of(cls, cap: int) -> Level0Buffers:
        return cls(np.empty(cap + 1, np.int64), np.empty(cap, np.int64),
                   np.empty(cap, np.int64), np.empty(cap, np.float32),
                   np.empty(cap, np.uint8), np.empty(cap, np.int64))


Level0Walk = Callable[[np.ndarray, Level0Buffers, np.ndarray], tuple[Any, ...]]
"""``walk(visited, buffers, fresh)`` → the kernel's outputs, ``outputs[1]`` the edges
written (``-1``: the buffers are too small, ``-2``: the numpy replay must decide)."""


def level0_beam(graph: LevelGraph, n: int, ef: int, entry: int, fresh: int,
                walk: Level0Walk) -> tuple[Level0Buffers, tuple[Any, ...]] | None:
    """Run a level-0 beam kernel from ``entry`` with buffers grown until its walk fits,
    on this thread's visited table (left all False again); ``None`` if it gave up."""
    # every level-0 link is examined at most once: a huge ef (a hostile file's efSearch)
    # must not size the buffers beyond the graph
    cap = min(max(4096, 32 * ef), graph.neighbors.size + 1)
    while True:
        visited = scratch_visited(n)
        buffers = Level0Buffers.of(cap)
        out = walk(visited, buffers, np.empty(fresh, np.int64))
        edges = out[1]
        if edges >= 0:
            visited[buffers.dst[:edges]] = False
            visited[entry] = False
            return buffers, out
        visited[:] = False
        if edges == -2:
            return None
        cap *= 4
        fresh *= 4
