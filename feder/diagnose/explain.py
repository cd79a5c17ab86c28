"""Why a search missed some of the exact nearest neighbours: one :class:`Miss` each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import trace as tracing
from ..index import as_model
from ..model import HNSWIndex, IVFFlatIndex
from ..trace.types import BeamLevel, HNSWTrace, IVFTrace, SearchTrace
from .checks import as_queries, diagnosable_kind, positive_k
from .coarse import list_ranks
from .exact import Truth, exact_truth
from .graph import cached_reachable, level0_hops, reachable

LIST_NOT_PROBED = "list_not_probed"
"""IVF: the neighbour's inverted list ranks beyond ``nprobe`` by centroid distance."""
UNREACHABLE = "unreachable"
"""HNSW: no directed path from the entry point over the links of any level leads to it."""
NOT_REACHED = "not_reached"
"""HNSW: reachable, but the level-0 beam stopped before computing it."""
TIE = "tie"
"""Scanned / computed, but exactly tied with the ``k``-th result, and the library kept
another of the tied vectors (its choice depends on scan order)."""


@dataclass(frozen=True)
class Miss:
    """An exact top-``k`` neighbour the search did not return.

    ``id``: faiss id / hnswlib label. ``true_rank``: its 1-based rank in the exact top-``k``.
    ``distance``: its exact distance (library convention). ``reason``: ``"list_not_probed"``
    (IVF; ``list`` is its inverted list, ``list_rank`` the 1-based rank of that list by
    centroid distance, so ``nprobe ≥ list_rank`` would have scanned it), ``"unreachable"`` or
    ``"not_reached"`` (HNSW; ``hops``: fewest level-0 links from any node the level-0 search
    computed, ``None`` when only upper-level links lead to it), or ``"tie"``.
    """

    id: int
    true_rank: int
    distance: float
    reason: str
    list: int | None = None
    list_rank: int | None = None
    hops: int | None = None


@dataclass(frozen=True, eq=False)
class Explanation:
    """A search replay checked against the exact top-``k``.

    ``trace``: the :class:`~feder.trace.SearchTrace`. ``truth_ids`` ``(k,)`` (faiss
    ``int64``, −1 padded / hnswlib ``uint64``) and ``truth_distances`` ``(k,) float32``: the
    exact top-``k`` (:func:`feder.exact_search`). ``found``: ``(k,) bool`` which of them the
    search returned. ``recall``: ``found.sum() / k``. ``missed``: one :class:`Miss` per exact
    neighbour not returned, in exact-rank order (``len(missed) == k − found.sum()`` whenever
    the index holds at least ``k`` vectors).
    """

    trace: SearchTrace
    truth_ids: np.ndarray
    truth_distances: np.ndarray
    found: np.ndarray
    recall: float
    missed: list[Miss] = field(default_factory=list)

    @property
    def k(self) -> int:
        return self.trace.k

    @property
    def params(self) -> dict[str, Any]:
        """The search parameters (``k``, ``nprobe`` / ``ef``) as the trace used them."""
        return self.trace.params

    def __repr__(self) -> str:
        reasons = [m.reason for m in self.missed]
        counts = {r: reasons.count(r) for r in dict.fromkeys(reasons)}
        return (f"Explanation(k={self.k}, params={self.params}, recall={self.recall:.3f}, "
                f"missed={counts})")


def explain(index: Any, query: Any, k: int = 10, **params: Any) -> Explanation:
    """Replay the search of ``query`` (``(d,)``) and compare it with the exact top-``k``.

    ``params`` go to :func:`feder.trace.search` (``nprobe=`` for IVF, ``ef=`` for HNSW).
    A live engine source (:mod:`feder.sources`) is searched itself and checked against
    exact truth over its pulled vectors (``truth="numpy"``, ``"dask"`` or a Dask client).
    """
    from ..sources.base import is_source

    if is_source(index):
        from ..sources.diagnose import explain_source

        return explain_source(index, query, k, **params)  # type: ignore[return-value]
    model = as_model(index)
    diagnosable_kind(model, "explain")
    k = positive_k(k)
    result = tracing.search(model, query, k, **params)
    truth = exact_truth(model, as_queries(query, model.dim, "query"), k)
    if isinstance(result, IVFTrace) and isinstance(model, IVFFlatIndex):
        return _explain_ivf(model, result, truth)
    if isinstance(result, HNSWTrace) and isinstance(model, HNSWIndex):
        return _explain_hnsw(model, result, truth)
    raise TypeError(f"explain does not know {type(result).__name__}")  # pragma: no cover


def _compare(truth: Truth, returned: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``found`` ``(k,) bool``: which exact neighbours (``truth`` rows) are among the
    ``returned`` rows (``(k,) int64``); and the positions of the others (valid ones only)."""
    rows = truth.rows[0]
    valid = rows >= 0
    found = valid & np.isin(rows, returned)
    missed = np.flatnonzero(valid & ~found).tolist()
    return found, missed


def _explain_ivf(model: IVFFlatIndex, result: IVFTrace, truth: Truth) -> Explanation:
    fine = result.fine
    assert fine is not None
    returned = fine.candidate_rows[fine.result_positions]
    found, missed_at = _compare(truth, returned)
    nprobe = int(result.params["nprobe"])
    misses: list[Miss] = []
    if missed_at:
        ranks = list_ranks(model, result.query)
        rows = truth.rows[0][missed_at]
        lists = model.row_lists[rows]
        for pos, lst in zip(missed_at, lists.tolist(), strict=True):
            rank = int(ranks[lst])
            misses.append(Miss(
                id=int(truth.ids[0, pos]), true_rank=pos + 1,
                distance=float(truth.distances[0, pos]),
                reason=LIST_NOT_PROBED if rank > nprobe else TIE, list=lst, list_rank=rank))
    return Explanation(result, truth.ids[0], truth.distances[0], found,
                       float(found.sum()) / result.k, misses)


def _explain_hnsw(model: HNSWIndex, result: HNSWTrace, truth: Truth) -> Explanation:
    found, missed_at = _compare(truth, result.result_internal)
    misses: list[Miss] = []
    if missed_at:
        beam = result.levels[-1]
        assert isinstance(beam, BeamLevel)
        computed = np.unique(beam.visited)
        nodes = truth.rows[0][missed_at]
        live = cached_reachable(model)  # known unreachable nodes need no level-0 search
        search = nodes if live is None else nodes[live[nodes]]
        hops = np.full(nodes.size, -1, np.int64)
        hops[np.isin(nodes, search)] = level0_hops(model, computed, search)
        for pos, node, hop in zip(missed_at, nodes.tolist(), hops.tolist(), strict=True):
            if hop == 0:
                reason = TIE  # computed on level 0, yet an equal distance took its place
            elif hop > 0:
                reason = NOT_REACHED
            else:
                live = reachable(model) if live is None else live
                reason = NOT_REACHED if live[node] else UNREACHABLE
            misses.append(Miss(
                id=int(truth.ids[0, pos]), true_rank=pos + 1,
                distance=float(truth.distances[0, pos]), reason=reason,
                hops=hop if hop > 0 else None))
    return Explanation(result, truth.ids[0], truth.distances[0], found,
                       float(found.sum()) / result.k, misses)
