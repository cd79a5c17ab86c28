"""Why a search missed some of the exact nearest neighbours: one :class:`Miss` each.

How a miss is explained depends on the index family (:data:`EXPLAINERS`, keyed like
:data:`feder.diagnose.kinds.KINDS`): IVF (was its list probed?), graph (could the search
reach it?), flat (a scan reaches everything). Lossy codes add ``"quantization"``: the
search computed the code's distance, and that ranked the neighbour out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import trace as tracing
from ..errors import QueryError
from ..index import as_model
from ..trace import float32
from ..trace.ivf_codes import code_distances, pq_code_sums, pq_query_table
from ..trace.types import BeamLevel, FlatTrace, HNSWTrace, IVFTrace, SearchTrace
from .checks import as_queries, diagnosable_kind, positive_k
from .coarse import list_ranks
from .exact import Truth, truth_of
from .graph import cached_reachable, level0_hops, reachable
from .kinds import Unwrapped, unwrap

LIST_NOT_PROBED = "list_not_probed"
"""IVF: the neighbour's inverted list was not probed (with a flat quantizer: it ranks beyond
``nprobe`` by centroid distance; with an HNSW quantizer: the coarse graph search did not
return it)."""
UNREACHABLE = "unreachable"
"""HNSW: no directed path from the entry point over the links of any level leads to it."""
NOT_REACHED = "not_reached"
"""HNSW: reachable, but the level-0 beam stopped before computing it."""
QUANTIZATION = "quantization"
"""Lossy codes (PQ, SQ): the search computed the distance of its code (its list was probed,
the scan or the graph search reached it), but that code distance ranked it outside the top
``k``. Seen only against exact truth (``vectors=``): against the decoded reconstructions a
code's distance is the true one up to rounding."""
TIE = "tie"
"""Scanned / computed, but exactly tied with the ``k``-th result, and the library kept
another of the tied vectors (its choice depends on scan order)."""

_NAN = np.float32(np.nan)


@dataclass(frozen=True)
class Miss:
    """An exact top-``k`` neighbour the search did not return.

    ``id``: faiss id / hnswlib label. ``true_rank``: its 1-based rank in the exact top-``k``.
    ``distance``: its exact distance (library convention). ``reason``: ``"list_not_probed"``
    (IVF; ``list`` is its inverted list, ``list_rank`` the 1-based rank of that list by
    centroid distance, so ``nprobe ≥ list_rank`` would have scanned it — ``None`` with an
    HNSW coarse quantizer, which probes what its graph search returns), ``"unreachable"`` or
    ``"not_reached"`` (HNSW; ``hops``: fewest level-0 links from any node the level-0 search
    computed, ``None`` when only upper-level links lead to it), ``"quantization"`` (lossy
    codes; ``list`` as above for IVF) or ``"tie"``. ``code_distance``: the distance the
    search computed for it (its code's, for lossy codes), ``None`` when it never did.
    """

    id: int
    true_rank: int
    distance: float
    reason: str
    list: int | None = None
    list_rank: int | None = None
    hops: int | None = None
    code_distance: float | None = None


def _empty() -> np.ndarray:
    return np.empty(0, np.float32)


@dataclass(frozen=True, eq=False)
class Explanation:
    """A search replay checked against the exact top-``k``.

    ``trace``: the :class:`~feder.trace.SearchTrace`. ``truth_ids`` ``(k,)`` (faiss
    ``int64``, −1 padded / hnswlib ``uint64``) and ``truth_distances`` ``(k,) float32``: the
    exact top-``k`` (:func:`feder.exact_search`). ``found``: ``(k,) bool`` which of them the
    search returned. ``recall``: ``found.sum() / k``. ``missed``: one :class:`Miss` per exact
    neighbour not returned, in exact-rank order (``len(missed) == k − found.sum()`` whenever
    the index holds at least ``k`` vectors).

    ``truth``: ``"exact"`` (the index stores the vectors, or the originals were given with
    ``vectors=``) or ``"decoded"`` (lossy codes without the originals: the truth is over the
    reconstructions, where quantization misses cannot show). The pairs a "code vs true
    distance" view draws: ``truth_code_distances`` ``(k,) float32`` the distance the search
    computed for each exact neighbour (NaN where it never did: an unprobed list, a node not
    reached), next to ``truth_distances``; and ``result_true_distances`` ``(k,) float32`` the
    true distance (in the ``truth`` space) of each returned result, next to
    ``trace.distances`` (NaN for −1 padding). ``missed_distances`` /
    ``missed_code_distances``: the same pairs for the misses.
    """

    trace: SearchTrace
    truth_ids: np.ndarray
    truth_distances: np.ndarray
    found: np.ndarray
    recall: float
    missed: list[Miss] = field(default_factory=list)
    truth: str = "exact"
    truth_code_distances: np.ndarray = field(default_factory=_empty)
    result_true_distances: np.ndarray = field(default_factory=_empty)

    @property
    def k(self) -> int:
        return self.trace.k

    @property
    def params(self) -> dict[str, Any]:
        """The search parameters (``k``, ``nprobe`` / ``ef``) as the trace used them."""
        return self.trace.params

    @property
    def missed_distances(self) -> np.ndarray:
        """``(m,) float32`` the true distance of each miss."""
        return np.asarray([m.distance for m in self.missed], np.float32)

    @property
    def missed_code_distances(self) -> np.ndarray:
        """``(m,) float32`` the distance the search computed for each miss (NaN: never)."""
        return np.asarray([np.nan if m.code_distance is None else m.code_distance
                           for m in self.missed], np.float32)

    def __repr__(self) -> str:
        reasons = [m.reason for m in self.missed]
        counts = {r: reasons.count(r) for r in dict.fromkeys(reasons)}
        return (f"Explanation(k={self.k}, params={self.params}, recall={self.recall:.3f}, "
                f"truth={self.truth!r}, missed={counts})")


def explain(index: Any, query: Any, k: int = 10, *, vectors: Any = None,
            vector_ids: Any = None, **params: Any) -> Explanation:
    """Replay the search of ``query`` (``(d,)``) and compare it with the exact top-``k``.

    ``params`` go to :func:`feder.trace.search` (``nprobe=`` for IVF, ``ef=`` for HNSW).
    ``vectors`` / ``vector_ids``: the original vectors of an index with lossy codes, for an
    exact truth (see :func:`feder.exact_search`); without them such an index is checked
    against its decoded reconstructions (``Explanation.truth == "decoded"``).
    A live engine source (:mod:`feder.sources`) is searched itself and checked against
    exact truth over its pulled vectors (``truth="numpy"``, ``"dask"`` or a Dask client).
    """
    from ..sources.base import is_source

    if is_source(index):
        from ..sources.diagnose import explain_source

        return explain_source(index, query, k, **params)  # type: ignore[return-value]
    model = as_model(index)
    diagnosable_kind(model, "explain")
    qs = as_queries(query, model.dim, "query")
    if qs.shape[0] != 1:
        raise QueryError(f"query has shape {np.shape(query)}: expected one vector, ({model.dim},) "
                         f"or (1, {model.dim}) (feder.diagnose.explain_many explains a set)")
    return explain_many(model, qs[:1], k, vectors=vectors, vector_ids=vector_ids,
                        **params)[0]


def explain_many(index: Any, queries: Any, k: int = 10, *, vectors: Any = None,
                 vector_ids: Any = None, **params: Any) -> list[Explanation]:
    """:func:`explain` of every row of ``queries`` (``(nq, d)``): the truth in one blockwise
    pass, then one replay per query."""
    model = as_model(index)
    diagnosable_kind(model, "explain")
    k = positive_k(k)
    seen = unwrap(model)
    qs = as_queries(queries, model.dim)
    inner_qs = seen.queries(qs)
    results = [tracing.search(seen.inner, q, k, **params) for q in inner_qs]
    truth = truth_of(seen, qs, k, vectors, vector_ids)
    out = []
    for i, result in enumerate(results):
        out.append(explain_replayed(seen, result, truth, i, qs[i], k, params))
    return out


def explain_replayed(seen: Unwrapped, result: SearchTrace, truth: Truth, i: int,
                     query: np.ndarray, k: int, params: dict[str, Any]) -> Explanation:
    """The explanation of ``result``, the replay by ``seen.inner`` of query ``i`` of
    ``truth`` (``query`` ``(d,) float32`` as the outer model was given it), as the outer
    model reports it: its ids and its trace."""
    e = EXPLAINERS[seen.family](seen.inner, result, _row(truth, i), seen.codes)
    return _outer(seen, e, query, k, params) if seen.chain else e


def _row(truth: Truth, i: int) -> Truth:
    """Query ``i`` of ``truth`` as a one-query truth."""
    one = slice(i, i + 1)
    return dataclasses.replace(truth, rows=truth.rows[one], ids=truth.ids[one],
                               distances=truth.distances[one], keys=truth.keys[one],
                               tied=truth.tied[one], count=truth.count[one],
                               queries=truth.queries[one])


def _outer(seen: Unwrapped, e: Explanation, query: np.ndarray, k: int,
           params: dict[str, Any]) -> Explanation:
    """An explanation of the inner model as the wrapper reports it: its ids, its trace."""
    trace = e.trace
    outermost = seen.chain[0][0]
    if outermost.kind in tracing.TRACERS and any(row.transforms for _, row in seen.chain):
        trace = tracing.search(outermost, query, k, **params)  # what the views replay
    else:
        trace = map_trace_ids(trace, seen.outer_ids, outermost.kind)
    truth_ids = seen.outer_ids(np.asarray(e.truth_ids, np.int64))
    missed = [dataclasses.replace(m, id=int(seen.outer_ids(np.asarray([m.id]))[0]))
              for m in e.missed]
    return dataclasses.replace(e, trace=trace, truth_ids=truth_ids, missed=missed)


def map_trace_ids(trace: SearchTrace, outer: Callable[[np.ndarray], np.ndarray],
                  kind: str) -> SearchTrace:
    """``trace`` with its user-facing ids mapped by ``outer`` and its ``kind`` set (what a
    wrapper's own replay reports)."""
    changes: dict[str, Any] = {"kind": kind, "ids": outer(np.asarray(trace.ids, np.int64))}
    fine = getattr(trace, "fine", None)
    if fine is not None:
        changes["fine"] = dataclasses.replace(
            fine, candidate_ids=outer(np.asarray(fine.candidate_ids, np.int64)))
    scan = getattr(trace, "scan", None)
    if scan is not None:
        changes["scan"] = dataclasses.replace(
            scan, candidate_ids=outer(np.asarray(scan.candidate_ids, np.int64)))
    return dataclasses.replace(trace, **changes)


def _compare(truth: Truth, returned: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``found`` ``(k,) bool``: which exact neighbours (``truth`` rows) are among the
    ``returned`` rows (``(k,) int64``); and the positions of the others (valid ones only)."""
    rows = truth.rows[0]
    valid = rows >= 0
    found = valid & np.isin(rows, returned)
    missed = np.flatnonzero(valid & ~found).tolist()
    return found, missed


def _values_at(rows: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """``(w,) float32`` ``values[i]`` where ``rows[i] == wanted[j]`` (the first such ``i``),
    NaN where ``wanted[j]`` is not among ``rows``."""
    out = np.full(wanted.shape, np.nan, np.float32)
    if rows.size == 0 or wanted.size == 0:
        return out
    order = np.argsort(rows, kind="stable")
    pos = np.minimum(np.searchsorted(rows, wanted, sorter=order), rows.size - 1)
    at = order[pos]
    hit = (rows[at] == wanted) & (wanted >= 0)
    out[hit] = values[at[hit]]
    return out


def _padded(rows: np.ndarray, k: int) -> np.ndarray:
    out = np.full(k, -1, np.int64)
    out[: min(rows.size, k)] = rows[:k]
    return out


def _reason_scanned(codes: bool, code_d: float, kth: float | None) -> str:
    """A neighbour whose distance the search computed, yet not returned: a lossy code
    ranked out (``quantization``), or a tie with the ``k``-th result."""
    if codes and not (kth is not None and code_d == kth):
        return QUANTIZATION
    return TIE


def _code(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _explain_ivf(model: Any, result: SearchTrace, truth: Truth, codes: bool) -> Explanation:
    assert isinstance(result, IVFTrace) and result.fine is not None
    assert result.coarse is not None
    fine = result.fine
    returned = fine.candidate_rows[fine.result_positions]
    found, missed_at = _compare(truth, returned)
    rows = truth.rows[0]
    code_d = _values_at(fine.candidate_rows, fine.candidate_distances, rows)
    k = rows.size
    kth = float(fine.candidate_distances[fine.result_positions[-1]]) \
        if fine.result_positions.size >= k else None
    misses: list[Miss] = []
    if missed_at:
        # With an HNSW coarse quantizer the probed lists are its search's results: no
        # centroid rank says which nprobe would reach a list.
        ranks = list_ranks(model, result.query) if model.coarse_graph is None else None
        probed = set(result.coarse.probed_lists.tolist())
        lists = model.lists_of(rows[missed_at])
        for pos, lst in zip(missed_at, lists.tolist(), strict=True):
            reason = _reason_scanned(codes, float(code_d[pos]), kth) if lst in probed \
                else LIST_NOT_PROBED
            misses.append(Miss(
                id=int(truth.ids[0, pos]), true_rank=pos + 1,
                distance=float(truth.distances[0, pos]), reason=reason, list=lst,
                list_rank=None if ranks is None else int(ranks[lst]),
                code_distance=_code(float(code_d[pos]))))
    return _explanation(result, truth, found, misses, code_d, _padded(returned, k))


def _explain_graph(model: Any, result: SearchTrace, truth: Truth, codes: bool,
                   ) -> Explanation:
    assert isinstance(result, HNSWTrace)
    found, missed_at = _compare(truth, result.result_internal)
    rows = truth.rows[0]
    beam = result.levels[-1] if result.levels else None
    if isinstance(beam, BeamLevel):
        code_d = _values_at(beam.visited, np.concatenate(
            [[np.float32(beam.entry_distance)], beam.edge_distances]).astype(np.float32), rows)
    else:
        code_d = np.full(rows.shape, np.nan, np.float32)
    k = rows.size
    kth = float(result.distances[k - 1]) if result.result_internal.size >= k else None
    misses: list[Miss] = []
    if missed_at:
        assert isinstance(beam, BeamLevel)
        computed = np.unique(beam.visited)
        nodes = rows[missed_at]
        live = cached_reachable(model)  # known unreachable nodes need no level-0 search
        search = nodes if live is None else nodes[live[nodes]]
        hops = np.full(nodes.size, -1, np.int64)
        hops[np.isin(nodes, search)] = level0_hops(model, computed, search)
        for pos, node, hop in zip(missed_at, nodes.tolist(), hops.tolist(), strict=True):
            if hop == 0:  # computed on level 0, yet not returned
                reason = _reason_scanned(codes, float(code_d[pos]), kth)
            elif hop > 0:
                reason = NOT_REACHED
            else:
                live = reachable(model) if live is None else live
                reason = NOT_REACHED if live[node] else UNREACHABLE
            misses.append(Miss(
                id=int(truth.ids[0, pos]), true_rank=pos + 1,
                distance=float(truth.distances[0, pos]), reason=reason,
                hops=hop if hop > 0 else None, code_distance=_code(float(code_d[pos]))))
    return _explanation(result, truth, found, misses, code_d,
                        _padded(result.result_internal, k))


def flat_code_distances(model: Any, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(m,) float32`` what faiss's flat scan computes for ``rows`` of ``model``: PQ table
    sums (``IxPq``), SQ code distances (``IxSQ``) or ``fvec_L2sqr`` / inner products, with
    the replay's own functions (:func:`feder.trace.flat.trace_flat`)."""
    if model.pq_indices is not None:
        codec = model.pq_codec
        table = pq_query_table(codec, query, model.metric)
        return pq_code_sums(table, model.pq_indices[rows], codec.nbits)
    if model.search_vectors is not None:
        return code_distances(model.search_vectors[rows], query, model.metric)
    return float32.flat_distances(np.asarray(model.vectors[rows], np.float32), query,
                                  model.metric)


def _explain_flat(model: Any, result: SearchTrace, truth: Truth, codes: bool) -> Explanation:
    assert isinstance(result, FlatTrace) and result.scan is not None
    scan = result.scan
    returned = scan.candidate_rows[scan.result_positions]
    found, missed_at = _compare(truth, returned)
    rows = truth.rows[0]
    code_d = _values_at(scan.candidate_rows, scan.candidate_distances, rows)
    absent = np.flatnonzero(np.isnan(code_d) & (rows >= 0))  # scanned, not kept for views
    if absent.size:
        code_d[absent] = flat_code_distances(model, result.query, rows[absent])
    k = rows.size
    kth = float(scan.candidate_distances[scan.result_positions[-1]]) \
        if scan.result_positions.size >= k else None
    misses = [Miss(id=int(truth.ids[0, pos]), true_rank=pos + 1,
                   distance=float(truth.distances[0, pos]),
                   reason=_reason_scanned(codes, float(code_d[pos]), kth),
                   code_distance=_code(float(code_d[pos])))
              for pos in missed_at]
    return _explanation(result, truth, found, misses, code_d, _padded(returned, k))


def _explanation(result: SearchTrace, truth: Truth, found: np.ndarray, misses: list[Miss],
                 code_d: np.ndarray, returned: np.ndarray) -> Explanation:
    assert truth.measure is not None
    return Explanation(result, truth.ids[0], truth.distances[0], found,
                       float(found.sum()) / result.k, misses, truth=truth.space,
                       truth_code_distances=np.asarray(code_d, np.float32),
                       result_true_distances=truth.measure(returned, truth.queries[0]))


EXPLAINERS: dict[str, Callable[[Any, SearchTrace, Truth, bool], Explanation]] = {
    "ivf": _explain_ivf, "graph": _explain_graph, "flat": _explain_flat}
"""Diagnosis family → how one search's misses are explained (``(model, trace, truth of
one query, the model stores lossy codes)``)."""
