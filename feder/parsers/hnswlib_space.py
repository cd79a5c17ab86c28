"""Which space an hnswlib graph was built in: its files do not say, and searching an ``ip``
index as ``l2`` silently gives other results.

Unit-norm vectors decide nothing (l2, ip and cosine rank them alike). Otherwise the graph
does: hnswlib links each node to neighbours that are close *in the build space*, so the
links of a sample of nodes rank near the top among random nodes under the right distance
and markedly lower under the wrong one.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import FederWarning
from ..model import HNSWIndex

SAMPLE_NODES = 200
RANDOM_NODES = 256
MARGIN = 0.05  # agreement gap that decides (fractions of random nodes beaten)
CONFIDENT = 0.85  # the winner's links must beat this share of random nodes


def link_agreement(index: HNSWIndex, seed: int = 0) -> dict[str, float] | None:
    """``{"l2": a, "ip": b}``: for a sample of nodes, the mean fraction of random nodes that
    are farther than each level-0 neighbour under that distance (1.0: links are the closest
    nodes). ``None`` when the vectors are unit-norm (nothing to decide) or too few."""
    n = index.ntotal
    live = np.flatnonzero(~index.deleted)
    if live.size < 32 or index.max_M0 == 0:
        return None
    rng = np.random.default_rng(seed)
    nodes = rng.choice(live, size=min(SAMPLE_NODES, live.size), replace=False)
    others = rng.choice(live, size=min(RANDOM_NODES, live.size), replace=False)
    vectors = index.vectors
    sample_norms = np.einsum("ij,ij->i", vectors[others], vectors[others])
    if np.allclose(sample_norms, 1.0, atol=1e-3):
        return None
    graph = index.graphs[0]
    other = np.asarray(vectors[others], np.float64)
    scores: dict[str, list[float]] = {"l2": [], "ip": []}
    for node in nodes.tolist():
        links = graph.neighbors_of(node)
        links = links[(links < n)]
        if links.size == 0:
            continue
        v = np.asarray(vectors[node], np.float64)
        linked = np.asarray(vectors[links], np.float64)
        for space, dist in (("l2", _l2), ("ip", _ip)):
            baseline = np.sort(dist(other, v))
            beaten = 1.0 - np.searchsorted(baseline, dist(linked, v)) / baseline.size
            scores[space].append(float(beaten.mean()))
    if not scores["l2"]:
        return None
    return {space: float(np.mean(values)) for space, values in scores.items()}


def infer_space(index: HNSWIndex) -> str | None:
    """``"l2"`` or ``"ip"`` when the links clearly agree with one of them, else ``None``."""
    agreement = link_agreement(index)
    if agreement is None or abs(agreement["l2"] - agreement["ip"]) < MARGIN:
        return None
    best = "l2" if agreement["l2"] > agreement["ip"] else "ip"
    return best if agreement[best] >= CONFIDENT else None


def check_space_against_graph(index: HNSWIndex, given: bool) -> HNSWIndex:
    """Warn (:class:`~feder.FederWarning`) when ``index.metric`` — given by the user, or the
    ``l2`` default — contradicts what the stored links agree with; with no space given and a
    clear answer from the graph, that space is used (and said)."""
    inferred = infer_space(index)
    if inferred is None or inferred == index.metric or \
            (index.metric == "cosine" and inferred == "ip"):
        return index
    if given:
        warnings.warn(f"space={index.metric!r} was given, but the links of {index.source} "
                      f"agree with {inferred!r}: searches may differ from hnswlib's; pass "
                      f"space={inferred!r} if the index was built so", FederWarning,
                      stacklevel=4)
        return index
    warnings.warn(f"{index.source} does not record its space; its links agree with "
                  f"{inferred!r}, so it is read as {inferred!r} (pass space= to choose)",
                  FederWarning, stacklevel=4)
    index.metric = inferred
    return index


def _l2(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    d = x - v
    return np.asarray(np.einsum("ij,ij->i", d, d))


def _ip(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 - x @ v)
