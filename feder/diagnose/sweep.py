"""Recall@k against the work done, for a list of ``nprobe`` (IVF) or ``ef`` (HNSW) values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..index import as_model
from ..model import HNSWIndex, IndexModel, IVFFlatIndex
from ..trace.hnsw import trace_hnsw
from ..trace.ivf import trace_ivf_flat
from ..trace.types import BeamLevel, GreedyLevel, HNSWTrace
from .checks import as_queries, diagnosable_kind, param_list, positive_k
from .coarse import probe_order
from .exact import Truth, exact_truth
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
    ``per_query``: ``(p, nq) float64`` recall of each query; ``per_query_distances``:
    ``(p, nq) int64``. ``truth_ids``: ``(nq, k)`` the exact top-``k``
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


def sweep(index: Any, queries: Any, k: int = 10, **params: Any) -> Sweep:
    """Recall@k and distance computations of ``queries`` (``(nq, d)``) at each value of
    ``nprobe=[...]`` (IVF, each in ``1..nlist``; default powers of two up to ``nlist``) or
    ``ef=[...]`` (HNSW, each ≥ 1; default ``16, 32, …, 256``), strictly increasing.

    IVF_FLAT needs one exact search and one centroid ranking per query: an exact neighbour is
    returned at ``nprobe = p`` iff its list ranks ≤ ``p``. Queries whose ``k``-th distance or
    list ranking has exact ties are replayed at each ``p`` instead. HNSW runs the searches of
    all queries in lockstep (:mod:`feder.diagnose.lockstep`); a search whose order an exact
    tie decides is replayed (:func:`feder.trace.search`).

    A live engine source (:mod:`feder.sources`) is searched itself at each value.
    """
    from ..sources.base import is_source

    if is_source(index):
        from ..sources.diagnose import sweep_source

        return sweep_source(index, queries, k, **params)  # type: ignore[return-value]
    model = as_model(index)
    kind = diagnosable_kind(model, "sweep")
    k = positive_k(k)
    name, values = _param_values(model, params)
    qs = as_queries(queries, model.dim)
    truth = exact_truth(model, qs, k)
    if kind == "ivf_flat":
        assert isinstance(model, IVFFlatIndex)
        found, work = _sweep_ivf(model, truth, k, values)
    else:
        assert isinstance(model, HNSWIndex)
        found, work = _sweep_hnsw(model, qs, truth, k, values)
    per_query = found / k
    return Sweep(param=name, params=values, k=k, recall=per_query.mean(axis=1),
                 distances=work.mean(axis=1), per_query=per_query, per_query_distances=work,
                 truth_ids=truth.ids)


def _param_values(model: IndexModel, params: dict[str, Any]) -> tuple[str, np.ndarray]:
    if model.kind == "ivf_flat":  # checked by diagnosable_kind
        assert isinstance(model, IVFFlatIndex)
        name, low, high = "nprobe", 1, model.nlist
        default: Any = [1 << i for i in range(model.nlist.bit_length()) if 1 << i < model.nlist]
        default.append(model.nlist)
    else:
        name, low, high = "ef", 1, None
        aliases = {"ef_search": "ef", "efSearch": "ef"}
        params = {aliases.get(key, key): value for key, value in params.items()}
        default = list(DEFAULT_EF)
    unknown = sorted(set(params) - {name})
    if unknown:
        raise TypeError(f"unknown sweep parameter {unknown[0]!r} for a {model.kind} index; "
                        f"valid ones: k, {name}")
    values = params.get(name)
    return name, param_list(default if values is None else values, name, low, high)


def _sweep_ivf(model: IVFFlatIndex, truth: Truth, k: int, values: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(found, work)``, both ``(p, nq)``: exact neighbours returned, distances computed."""
    nq = truth.rows.shape[0]
    nlist = model.nlist
    top = int(values[-1])
    valid = truth.rows >= 0
    truth_lists = np.full(truth.rows.shape, nlist, np.int64)  # nlist: padding (no list)
    truth_lists[valid] = model.row_lists[truth.rows[valid]]
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
