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
LINKS_PER_NODE = 64  # level-0 links read per sampled node (hnswlib's default maxM0 is 32)


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
    starts, stops = graph.offsets[nodes], graph.offsets[nodes + 1]
    lengths = np.minimum(stops - starts, LINKS_PER_NODE).astype(np.int64)
    pair_node = np.repeat(np.arange(nodes.size), lengths)  # one row per (sampled node, link)
    pair_link = graph.neighbors[np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
                                + np.arange(int(lengths.sum()))].astype(np.int64)
    keep = pair_link < n
    pair_node, pair_link = pair_node[keep], pair_link[keep]
    if pair_node.size == 0:
        return None
    v = np.asarray(vectors[nodes], np.float64)
    linked = np.asarray(vectors[pair_link], np.float64)
    dots = v @ other.T  # (nodes, others): one product serves both spaces
    linked_dots = np.einsum("ij,ij->i", linked, v[pair_node])
    v_norms = np.einsum("ij,ij->i", v, v)
    out: dict[str, float] = {}
    for space, baseline, near in (
            ("l2", v_norms[:, None] + np.einsum("ij,ij->i", other, other)[None, :] - 2 * dots,
             v_norms[pair_node] + np.einsum("ij,ij->i", linked, linked) - 2 * linked_dots),
            ("ip", 1.0 - dots, 1.0 - linked_dots)):
        beaten = 1.0 - _count_below(baseline, pair_node, near) / baseline.shape[1]
        per_node = np.bincount(pair_node, beaten, nodes.size)
        has = np.bincount(pair_node, minlength=nodes.size)
        out[space] = float(np.mean(per_node[has > 0] / has[has > 0]))
    return out


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


def _count_below(rows: np.ndarray, row_of: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(p,) int64``: for each ``values[i]``, how many entries of ``rows[row_of[i]]`` are
    smaller (``rows`` ``(r, m) float64``). One search over every row sorted at once: complex
    numbers order by real part (the row), then imaginary part (the value)."""
    m = rows.shape[1]
    keys = (np.repeat(np.arange(rows.shape[0], dtype=np.float64), m)
            + 1j * np.sort(rows, axis=1).ravel())
    found = np.searchsorted(keys, row_of + 1j * values, side="left")
    return np.asarray(found - row_of * m, np.int64)
