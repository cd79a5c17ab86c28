"""Recall@k against the work done, for a list of ``nprobe`` (IVF) or ``ef`` (HNSW) values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import trace as tracing
from ..errors import ParameterError
from ..index import as_model
from ..model import HNSWIndex, IndexModel, IVFFlatIndex
from ..trace.distances import LARGER_IS_CLOSER
from ..trace.hnsw import trace_hnsw
from ..trace.ivf import best_positions, trace_ivf_flat
from ..trace.types import BeamLevel, GreedyLevel, HNSWTrace, IVFTrace
from .checks import as_queries, diagnosable_kind, param_list, positive_k
from .coarse import probe_order
from .exact import Truth, truth_of
from .kinds import KINDS, Unwrapped, unwrap
from .lockstep import lockstep_sweep

DEFAULT_EF = (16, 32, 64, 128, 256)


@dataclass(frozen=True, eq=False)
class Sweep:
    """Recall and work per parameter value.

    ``param``: ``"nprobe"`` or ``"ef"``. ``params``: ``(p,) int64`` the values, ascending.
    ``recall``: ``(p,) float64`` mean recall@k over the queries. ``distances``: ``(p,)
    float64`` mean distance computations per query (IVF: ``nlist`` centroids + the vectors of
    the probed lists; HNSW: every distance hnswlib computes — the entry point, each link
    scanned on the upper levels, the level-0 entry and each newly visited level-0 node).
    IVF with an HNSW quantizer counts that graph search's distances instead of ``nlist``;
    faiss HNSW counts the entry point, each upper-level link scanned and each newly
    visited level-0 node. ``per_query``: ``(p, nq) float64`` recall of each query;
    ``per_query_distances``: ``(p, nq) int64``. ``truth_ids``: ``(nq, k)`` the exact top-``k``
    (:func:`feder.exact_search`).
    """

    param: str
    params: np.ndarray
    k: int
    recall: np.ndarray
    distances: np.ndarray
    per_query: np.ndarray
    per_query_distances: np.ndarray
    truth_ids: np.ndarray

    def __repr__(self) -> str:
        pairs = ", ".join(f"{p}: {r:.3f}" for p, r in zip(self.params.tolist(),
                                                          self.recall.tolist(), strict=True))
        return (f"Sweep(k={self.k}, queries={self.per_query.shape[1]}, recall by "
                f"{self.param}={{{pairs}}})")


def sweep(index: Any, queries: Any, k: int = 10, *, vectors: Any = None,
          vector_ids: Any = None, **params: Any) -> Sweep:
    """Recall@k and distance computations of ``queries`` (``(nq, d)``) at each value of
    ``nprobe=[...]`` (IVF, each in ``1..nlist``; default powers of two up to ``nlist``) or
    ``ef=[...]`` (HNSW, each ≥ 1; default ``16, 32, …, 256``), strictly increasing.
    ``vectors`` / ``vector_ids``: the original vectors of an index with lossy codes (see
    :func:`feder.exact_search`; without them the truth is over the decoded codes).

    IVF_FLAT with a flat quantizer needs one exact search and one centroid ranking per
    query: an exact neighbour is returned at ``nprobe = p`` iff its list ranks ≤ ``p``.
    Queries whose ``k``-th distance or list ranking has exact ties are replayed at each ``p``
    instead. Lossy IVF codes (SQ, PQ) with a flat quantizer are replayed once per query at
    the largest ``nprobe``: a list's code distances do not depend on ``nprobe``, so the
    results at each smaller ``p`` are faiss's top-``k`` of the first ``p`` lists' candidates.
    An HNSW coarse quantizer (``IVF…_HNSW…``) probes what its graph search returns, which
    changes with ``nprobe``: every search is replayed. hnswlib runs the searches of all
    queries in lockstep (:mod:`feder.diagnose.lockstep`); a search whose order an exact tie
    decides is replayed (:func:`feder.trace.search`); faiss HNSW is replayed at each ``ef``.
    A flat index has no parameter to sweep: :class:`~feder.errors.ParameterError`.

    A live engine source (:mod:`feder.sources`) is searched itself at each value.
    """
    from ..sources.base import is_source

    if is_source(index):
        from ..sources.diagnose import sweep_source

        return sweep_source(index, queries, k, **params)  # type: ignore[return-value]
    model = as_model(index)
    diagnosable_kind(model, "sweep")
    seen = unwrap(model)
    sweeper = SWEEPERS[seen.family]
    if sweeper is None:
        raise ParameterError(
            f"a {model.kind} index scans every vector: it has no nprobe / ef to sweep. Its "
            "recall is feder.explain(index, query, k).recall (feder.diagnose.explain_many "
            "for a query set)")
    k = positive_k(k)
    name, values = _param_values(seen.inner, params)
    qs = as_queries(queries, model.dim)
    truth = truth_of(seen, qs, k, vectors, vector_ids)
    found, work = sweeper(seen, truth, k, values)
    per_query = found / k
    truth_ids = seen.outer_ids(truth.ids) if seen.chain else truth.ids
    return Sweep(param=name, params=values, k=k, recall=per_query.mean(axis=1),
                 distances=work.mean(axis=1), per_query=per_query, per_query_distances=work,
                 truth_ids=truth_ids)


_SWEEP_PARAMS: dict[str, tuple[str, dict[str, str]]] = {
    "ivf": ("nprobe", {}),
    "graph": ("ef", {"ef_search": "ef", "efSearch": "ef"}),
}
"""Diagnosis family → the swept parameter and its accepted aliases."""


def _param_values(model: IndexModel, params: dict[str, Any]) -> tuple[str, np.ndarray]:
    name, aliases = _SWEEP_PARAMS[KINDS[model.kind].family]
    params = {aliases.get(key, key): value for key, value in params.items()}
    if name == "nprobe":
        nlist = int(model.centroids.shape[0])  # type: ignore[union-attr]
        low, high = 1, nlist
        default: Any = [1 << i for i in range(nlist.bit_length()) if 1 << i < nlist]
        default.append(nlist)
    else:
        low, high = 1, None
        default = list(DEFAULT_EF)
    unknown = sorted(set(params) - {name})
    if unknown:
        raise TypeError(f"unknown sweep parameter {unknown[0]!r} for a {model.kind} index; "
                        f"valid ones: k, {name}")
    values = params.get(name)
    return name, param_list(default if values is None else values, name, low, high)


def _sweep_ivf_family(seen: Unwrapped, truth: Truth, k: int, values: np.ndarray,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """IVF: the one-ranking shortcut for flat codes behind a flat quantizer; lossy codes
    merged per nprobe from one replay; an HNSW quantizer replayed at every value."""
    model: Any = seen.inner
    if model.coarse_graph is not None:
        return _sweep_ivf_replayed(model, truth, k, values)
    if seen.codes:
        return _sweep_ivf_codes(model, truth, k, values)
    return _sweep_ivf(model, truth, k, values)


def _found(returned: np.ndarray, truth_rows: np.ndarray) -> int:
    """Exact neighbours (``truth_rows`` ``(k,)``, −1 padded) among ``returned`` rows."""
    valid = truth_rows[truth_rows >= 0]
    return int(np.isin(valid, returned).sum())


def _sweep_ivf_codes(model: Any, truth: Truth, k: int, values: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Lossy IVF, flat quantizer: one replay per query at the largest ``nprobe``; the
    candidates of the first ``p`` probed lists are a prefix of its scan (no centroid tie in
    the ranking), so faiss's heap over that prefix is the search at ``nprobe = p``."""
    nq = truth.rows.shape[0]
    nlist = model.nlist
    top = int(values[-1])
    larger = model.metric in LARGER_IS_CLOSER
    found = np.zeros((values.size, nq), np.float64)
    work = np.zeros((values.size, nq), np.int64)
    for i in range(nq):
        q = truth.queries[i]
        _, tied = probe_order(model, q, top)
        if tied:  # the lists probed at a smaller p may not be a prefix: replay each
            for j, p in enumerate(values.tolist()):
                found[j, i], work[j, i] = _ivf_replay(model, q, k, p, truth.rows[i])
            continue
        result = tracing.search(model, q, k, nprobe=top)
        assert isinstance(result, IVFTrace) and result.fine is not None
        assert result.coarse is not None
        fine = result.fine
        ends = np.cumsum(model.list_sizes[result.coarse.probed_lists])
        cand_d, cand_ids = fine.candidate_distances, fine.candidate_ids
        best = np.empty(0, np.int64)  # faiss's heap after the lists scanned so far
        done = 0
        for j, p in enumerate(values.tolist()):
            m = int(ends[min(p, ends.size) - 1]) if ends.size else 0
            # The heap holds at most k values, each admitted again from empty sentinels:
            # scanning it then the new lists leaves what scanning every list leaves.
            part = np.concatenate([best, np.arange(done, m, dtype=np.int64)])
            best = part[best_positions(cand_d[part], k, larger, cand_ids[part])]
            done = m
            found[j, i] = _found(fine.candidate_rows[best], truth.rows[i])
            work[j, i] = nlist + m
    return found, work


def _ivf_replay(model: Any, q: np.ndarray, k: int, nprobe: int, truth_rows: np.ndarray,
                ) -> tuple[int, int]:
    """``(exact neighbours found, distances computed)`` of one replayed IVF search."""
    result = tracing.search(model, q, k, nprobe=nprobe)
    assert isinstance(result, IVFTrace) and result.fine is not None
    fine = result.fine
    coarse = model.nlist if result.coarse_graph is None else \
        faiss_distance_computations(result.coarse_graph)
    return (_found(fine.candidate_rows[fine.result_positions], truth_rows),
            coarse + int(fine.candidate_ids.size))


def _sweep_ivf_replayed(model: Any, truth: Truth, k: int, values: np.ndarray,
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Every search replayed (an HNSW coarse quantizer: work = its distance computations
    plus the candidates scanned)."""
    nq = truth.rows.shape[0]
    found = np.zeros((values.size, nq), np.float64)
    work = np.zeros((values.size, nq), np.int64)
    for i in range(nq):
        for j, p in enumerate(values.tolist()):
            found[j, i], work[j, i] = _ivf_replay(model, truth.queries[i], k, p,
                                                  truth.rows[i])
    return found, work


def _sweep_ivf(model: IVFFlatIndex, truth: Truth, k: int, values: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(found, work)``, both ``(p, nq)``: exact neighbours returned, distances computed."""
    nq = truth.rows.shape[0]
    nlist = model.nlist
    top = int(values[-1])
    valid = truth.rows >= 0
    truth_lists = np.full(truth.rows.shape, nlist, np.int64)  # nlist: padding (no list)
    truth_lists[valid] = model.lists_of(truth.rows[valid])
    ranks = np.zeros((nq, k), np.int64)  # 0: its list is not among the first `top`
    work = np.empty((values.size, nq), np.int64)
    replay: list[int] = []
    lookup = np.zeros(nlist + 1, np.int64)  # list → rank; slot nlist for padding
    take = np.minimum(values, nlist) - 1
    for i in range(nq):
        order, tied = probe_order(model, truth.queries[i], top)
        if tied or truth.tied[i]:
            replay.append(i)
            continue
        lookup[order] = np.arange(1, order.size + 1)
        ranks[i] = lookup[truth_lists[i]]
        lookup[order] = 0
        scanned = np.cumsum(model.list_sizes[order])
        work[:, i] = nlist + scanned[np.minimum(take, order.size - 1)]
    found = ((ranks[None, :, :] >= 1) & (ranks[None, :, :] <= values[:, None, None])).sum(axis=2)
    for i in replay:
        for j, p in enumerate(values.tolist()):
            result = trace_ivf_flat(model, truth.queries[i], k=k, nprobe=p)
            fine = result.fine
            assert fine is not None
            rows = fine.candidate_rows[fine.result_positions]
            found[j, i] = int(np.isin(truth.rows[i][valid[i]], rows).sum())
            work[j, i] = nlist + fine.candidate_ids.size
    return found.astype(np.float64), work


def _sweep_hnsw(model: HNSWIndex, queries: np.ndarray, truth: Truth, k: int,
                values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`_sweep_ivf`; ``queries`` as given (the replay normalizes cosine ones).

    All queries run in lockstep (:mod:`.lockstep`); a search whose order an exact tie
    decides is replayed (:func:`feder.trace.search`)."""
    ids, work, replay = lockstep_sweep(model, queries, k, values)
    hits = (ids[:, :, :, None] == truth.rows[None, :, None, :]) & (ids[:, :, :, None] >= 0)
    found = hits.any(axis=3).sum(axis=2).astype(np.float64)
    for j, i in zip(*np.nonzero(replay), strict=True):
        result = trace_hnsw(model, queries[i], k=k, ef=int(values[j]))
        found[j, i] = np.isin(truth.rows[i], result.result_internal).sum()
        work[j, i] = distance_computations(result, model.deleted)
    return found, work


def _sweep_graph(seen: Unwrapped, truth: Truth, k: int, values: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray]:
    model: Any = seen.inner
    if KINDS[model.kind].convention == "hnswlib":
        return _sweep_hnsw(model, truth.queries, truth, k, values)
    return _sweep_faiss_hnsw(model, truth, k, values)


def _sweep_faiss_hnsw(model: Any, truth: Truth, k: int, values: np.ndarray,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """faiss HNSW: every search replayed at each ``ef`` (faiss's own levels and heaps)."""
    nq = truth.rows.shape[0]
    found = np.zeros((values.size, nq), np.float64)
    work = np.zeros((values.size, nq), np.int64)
    for i in range(nq):
        for j, ef in enumerate(values.tolist()):
            result = tracing.search(model, truth.queries[i], k, ef=ef)
            assert isinstance(result, HNSWTrace)
            found[j, i] = _found(result.result_internal, truth.rows[i])
            work[j, i] = faiss_distance_computations(result)
    return found, work


def distance_computations(result: HNSWTrace, deleted: np.ndarray | None = None) -> int:
    """Distances hnswlib computes for one search: the entry point once, every link scanned
    by the greedy descent, then on level 0 the entry again (unless it is marked deleted in
    ``deleted``, ``(n,) bool``) and every newly visited node."""
    total = 1
    for level in result.levels:
        if isinstance(level, GreedyLevel):
            total += int(level.edge_dst.size)
        elif isinstance(level, BeamLevel):
            dead = deleted is not None and bool(deleted[level.entry])
            total += int(not dead) + int(level.edge_dst.size)
    return total


def faiss_distance_computations(result: HNSWTrace) -> int:
    """Distances faiss's HNSW computes for one search: the entry point once, every link
    scanned by the greedy descent, then every newly visited level-0 node (faiss starts
    level 0 from the descent's nearest node and its known distance)."""
    return 1 + sum(int(level.edge_dst.size) for level in result.levels)


SWEEPERS: dict[str, Callable[[Unwrapped, Truth, int, np.ndarray],
                             tuple[np.ndarray, np.ndarray]] | None] = {
    "ivf": _sweep_ivf_family, "graph": _sweep_graph, "flat": None}
"""Diagnosis family → its sweep (``None``: nothing to sweep), returning ``(found, work)``
``(p, nq)``: exact neighbours returned and distances computed per value and query."""
