"""The upper levels of an HNSW replay through a numba greedy kernel: hnswlib's and faiss's
kernels share one calling convention (output buffers in, ``(edges, steps)`` out, ``-1`` when
the buffers are too small, ``-2`` when the numpy replay must decide)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..model import LevelGraph
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
