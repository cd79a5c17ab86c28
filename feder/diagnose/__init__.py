"""Is the search right, and what should change? Exact truth, explanations, sweeps, health.

- :func:`exact_search` — the exact top-``k`` by blockwise brute force (library convention).
- :func:`explain` — one search replayed and compared with the truth: recall and a
  :class:`Miss` (with its reason) per exact neighbour not returned.
- :func:`sweep` — recall@k and distance computations per ``nprobe`` / ``ef`` value.
- :func:`health` — IVF list balance; HNSW degrees per level and unreachable nodes.

Pure functions over the numpy model; definitions in DESIGN.md, "Diagnostics".
"""

from __future__ import annotations

from .exact import exact_search
from .explain import Explanation, Miss, explain
from .health import Health, HNSWHealth, IVFHealth, health
from .sweep import Sweep, sweep

__all__ = [
    "Explanation",
    "HNSWHealth",
    "Health",
    "IVFHealth",
    "Miss",
    "Sweep",
    "exact_search",
    "explain",
    "health",
    "sweep",
]
