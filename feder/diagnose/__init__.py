"""Is the search right, and what should change? Exact truth, explanations, sweeps, health.

- :func:`exact_search` — the exact top-``k`` by blockwise brute force (library convention).
- :func:`explain` — one search replayed and compared with the truth: recall and a
  :class:`Miss` (with its reason) per exact neighbour not returned.
- :func:`sweep` — recall@k and distance computations per ``nprobe`` / ``ef`` value.
- :func:`health` — IVF list balance; HNSW degrees per level and unreachable nodes.

Every kind feder loads is diagnosed (:mod:`.kinds`: a table, not a chain of class tests):
IVF flat / SQ / PQ (flat or HNSW quantizer, inside an id map), hnswlib and faiss HNSW
(flat, SQ or PQ storage), flat scans (raw, SQ, PQ codes), and pre-transforms. Lossy codes
are checked against their decoded reconstructions unless the original vectors are given
(``vectors=``), which reveals ``"quantization"`` misses.

Pure functions over the numpy model; definitions in DESIGN.md, "Diagnostics".
"""

from __future__ import annotations

from .exact import exact_search
from .explain import Explanation, Miss, explain, explain_many
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
    "explain_many",
    "health",
    "sweep",
]
