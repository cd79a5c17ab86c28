"""explain / sweep on a live engine: the ENGINE is searched, exact truth comes from the
pulled vectors (numpy, or Dask), and where the engine's index is readable feder's replay
of it is compared with the engine's answer (and lends its reasons for the misses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..diagnose.checks import param_list, positive_k
from .base import BaseSource, EngineAnswer
from .truth import truth_rows

NOT_RETURNED = "not_returned"
"""The engine did not return this exact neighbour and feder cannot replay why."""
DEFAULT_NPROBE = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_EF = (16, 32, 64, 128, 256)


@dataclass(frozen=True)
class SourceMiss:
    """An exact top-``k`` neighbour the engine did not return. ``id``: the engine's id;
    ``row``: its row in the pulled vectors; ``reason``: from feder's replay of the engine's
    own index when it equals the engine (``list_not_probed``, ``not_reached``,
    ``unreachable``, ``tie``), else ``not_returned``."""

    id: Any
    row: int
    true_rank: int
    distance: float
    reason: str
    list: int | None = None
    list_rank: int | None = None
    hops: int | None = None


@dataclass(frozen=True, eq=False)
class SourceExplanation:
    """The engine's answer to one query checked against the exact top-``k``.

    ``answer``: the :class:`~feder.sources.EngineAnswer`. ``truth_ids`` / ``truth_rows`` /
    ``truth_distances`` (engine convention): the exact top-``k`` over the pulled vectors.
    ``found``: ``(k,) bool``; ``recall``; ``missed``: one :class:`SourceMiss` each.
    ``replay``: ``"equal"`` when feder's replay of the engine's own index returned the same
    rows in the same order, ``"same set"`` (same rows, another order among ties),
    ``"differs"``, or ``None`` when the index is not readable (``model_reason`` says why).
    ``trace`` / ``replay_explanation``: the replay and feder's explanation of it."""

    engine: str
    k: int
    params: dict[str, Any]
    answer: EngineAnswer
    truth_ids: list[Any]
    truth_rows: np.ndarray
    truth_distances: np.ndarray
    found: np.ndarray
    recall: float
    missed: list[SourceMiss] = field(default_factory=list)
    replay: str | None = None
    trace: Any = None
    replay_explanation: Any = None
    model_reason: str = ""

    @property
    def ids(self) -> list[Any]:
        return self.answer.ids

    def __repr__(self) -> str:
        reasons = [m.reason for m in self.missed]
        counts = {r: reasons.count(r) for r in dict.fromkeys(reasons)}
        return (f"SourceExplanation(engine={self.engine!r}, k={self.k}, params={self.params}, "
                f"recall={self.recall:.3f}, missed={counts}, replay={self.replay!r})")


@dataclass(frozen=True, eq=False)
class SourceSweep:
    """Recall@k of the ENGINE at each parameter value (same fields as
    :class:`feder.diagnose.Sweep`, so the sweep view draws it).

    ``distances``: mean distance computations per query where known (from the replay of the
    engine's index, or an IVF index's partition sizes), NaN otherwise. ``answered_by``: per
    value ``"engine"`` — or ``"replay"`` where the engine cannot take the value per query
    (chroma fixes ef when it opens an index) and feder's exact replay of its files answered.
    ``replay_agreement``: per value, the share of queries whose replay equals the engine's
    answer (NaN without a readable index). ``rows``: ``(p, nq, k)`` the engine's rows."""

    engine: str
    param: str
    params: np.ndarray
    k: int
    recall: np.ndarray
    distances: np.ndarray
    per_query: np.ndarray
    per_query_distances: np.ndarray
    truth_ids: np.ndarray
    truth_rows: np.ndarray
    rows: np.ndarray
    answered_by: list[str]
    replay_agreement: np.ndarray

    @property
    def work_known(self) -> bool:
        return bool(np.isfinite(self.distances).all())

    def __repr__(self) -> str:
        pairs = ", ".join(f"{p}: {r:.3f}" for p, r in zip(self.params.tolist(),
                                                          self.recall.tolist(), strict=True))
        return (f"SourceSweep(engine={self.engine!r}, k={self.k}, "
                f"queries={self.per_query.shape[1]}, recall by {self.param}={{{pairs}}})")


def replay_params(src: BaseSource, sent: dict[str, Any]) -> dict[str, Any]:
    """The parameters the engine really searched with (its defaults filled in)."""
    effective = getattr(src, "effective_params", None)
    return dict(effective(sent)) if callable(effective) else dict(sent)




def _compare(replay_rows: np.ndarray, engine_rows: np.ndarray) -> str:
    a = [int(r) for r in replay_rows if r >= 0]
    b = [int(r) for r in engine_rows if r >= 0]
    if a == b:
        return "equal"
    return "same set" if sorted(a) == sorted(b) else "differs"


def explain_source(src: BaseSource, query: Any, k: int = 10, *, truth: Any = None,
                   **params: Any) -> SourceExplanation:
    """The engine's answer to ``query`` at ``params`` against the exact top-``k``."""
    k = positive_k(k)
    q = src.check_queries(query, "query")
    answer = src.search(q[0], k, **params)
    rows, keys = truth_rows(src.vectors, q, k, src.metric, truth, cache=src.cache)
    t_rows, t_keys = rows[0], keys[0]
    valid = t_rows >= 0
    found = valid & np.isin(t_rows, answer.rows[answer.rows >= 0])
    ids = src.ids
    truth_ids = [ids[r].item() if hasattr(ids[r], "item") else ids[r] for r in t_rows[valid]]
    distances = src.engine_distance(t_keys)
    model = src.model()
    replay: str | None = None
    trace = explanation = None
    reasons: dict[int, tuple[str, int | None, int | None, int | None]] = {}
    effective = replay_params(src, answer.params)
    replayed = src.replay(q[0], k, effective)
    if replayed is not None:
        trace, replay_rows = replayed
        replay = _compare(replay_rows, answer.rows)
        if replay != "differs" and model is not None:
            explanation = _model_explanation(model, q[0], k, effective)
            if explanation is not None:
                for m in explanation.missed:
                    row = int(src.model_rows([m.id])[0])
                    reasons[row] = (m.reason, m.list, m.list_rank, m.hops)
    missed = []
    for pos in np.flatnonzero(valid & ~found).tolist():
        row = int(t_rows[pos])
        reason, lst, rank, hops = reasons.get(row, (NOT_RETURNED, None, None, None))
        missed.append(SourceMiss(id=truth_ids[pos], row=row, true_rank=pos + 1,
                                 distance=float(distances[pos]), reason=reason, list=lst,
                                 list_rank=rank, hops=hops))
    return SourceExplanation(
        engine=src.engine, k=k, params=effective, answer=answer, truth_ids=truth_ids,
        truth_rows=t_rows, truth_distances=np.asarray(distances, np.float32), found=found,
        recall=float(found.sum()) / k, missed=missed, replay=replay, trace=trace,
        replay_explanation=explanation, model_reason="" if replay else src.model_reason)


def _model_explanation(model: Any, query: np.ndarray, k: int, params: dict[str, Any]) -> Any:
    from ..diagnose.checks import diagnosable
    from ..diagnose.explain import explain

    if not diagnosable(model):
        return None
    return explain(model, query, k, **params)


def sweep_source(src: BaseSource, queries: Any, k: int = 10, *, truth: Any = None,
                 **params: Any) -> SourceSweep:
    """The ENGINE searched at each value of ``nprobe=[...]`` / ``ef=[...]``; recall@k of
    each query against the exact top-``k`` of the pulled vectors."""
    k = positive_k(k)
    qs = src.check_queries(queries)
    name = src.param_name
    if name is None:
        raise TypeError(f"this {src.engine} index takes no search parameter to sweep")
    aliases = {"ef_search": "ef", "efSearch": "ef", "hnsw_ef": "ef", "nprobes": "nprobe"}
    given = {aliases.get(key, key): value for key, value in params.items()}
    unknown = sorted(set(given) - {name})
    if unknown:
        raise TypeError(f"unknown sweep parameter {unknown[0]!r} for this {src.engine} index; "
                        f"valid ones: k, {name}")
    default: Any = DEFAULT_NPROBE if name == "nprobe" else DEFAULT_EF
    nlist = _nlist(src)
    if name == "nprobe" and nlist:  # powers of two up to the number of lists, then all
        default = [1 << i for i in range(nlist.bit_length()) if 1 << i < nlist] + [nlist]
    values = param_list(list(given.get(name, default)), name, 1)
    t_rows, _ = truth_rows(src.vectors, qs, k, src.metric, truth, cache=src.cache)
    nq = qs.shape[0]
    model = src.model()
    fixed = getattr(src, "ef_search", None) if src.engine == "chroma" else None
    rows = np.full((values.size, nq, k), -1, np.int64)
    work = np.full((values.size, nq), np.nan)
    agree = np.full(values.size, np.nan)
    answered: list[str] = []
    for j, value in enumerate(values.tolist()):
        by_engine = fixed is None or value == fixed
        answered.append("engine" if by_engine else "replay")
        same = 0
        if by_engine:
            answers = src.search_many(qs, k, **{name: value})
            for i, a in enumerate(answers):
                rows[j, i, : a.rows.size] = a.rows[:k]
        effective = replay_params(src, {name: value})
        replays = 0
        for i in range(nq):
            replayed = src.replay(qs[i], k, effective)
            if replayed is None:
                continue
            result, replay_rows = replayed
            replays += 1
            if result is not None and model is not None:
                work[j, i] = _work(model, result)
            if by_engine:
                same += _compare(replay_rows, rows[j, i]) != "differs"
            else:
                rows[j, i, : replay_rows.size] = replay_rows[:k]
                same += 1
        if replays:
            agree[j] = same / replays
    if model is None:
        work = _ivf_work(src, qs, values, work)
    valid = t_rows >= 0
    found = np.zeros((values.size, nq))
    for j in range(values.size):
        for i in range(nq):
            got = rows[j, i][rows[j, i] >= 0]
            found[j, i] = np.isin(t_rows[i][valid[i]], got).sum()
    per_query = found / k
    ids = src.ids
    truth_ids = np.empty(t_rows.shape, object)
    truth_ids[valid] = [ids[r] for r in t_rows[valid]]
    return SourceSweep(
        engine=src.engine, param=name, params=values, k=k, recall=per_query.mean(axis=1),
        distances=work.mean(axis=1), per_query=per_query, per_query_distances=work,
        truth_ids=truth_ids, truth_rows=t_rows, rows=rows, answered_by=answered,
        replay_agreement=agree)


def _nlist(src: BaseSource) -> int | None:
    """The number of IVF lists of the engine's index, when known."""
    model = src.model()
    if model is not None and hasattr(model, "nlist"):
        return int(model.nlist)
    centroids = getattr(src, "centroids", None)
    return None if centroids is None else int(centroids.shape[0])


def _work(model: Any, result: Any) -> float:
    """Distance computations of one replayed search."""
    from ..trace.types import FlatTrace, HNSWTrace, IVFTrace

    if isinstance(result, IVFTrace) and result.fine is not None:
        return float(model.nlist + result.fine.candidate_ids.size)
    if isinstance(result, HNSWTrace):
        from ..diagnose.sweep import distance_computations

        return float(distance_computations(result, getattr(model, "deleted", None)))
    if isinstance(result, FlatTrace) and result.scan is not None:
        return float(result.scan.scanned)
    return float("nan")


def _ivf_work(src: BaseSource, qs: np.ndarray, values: np.ndarray, work: np.ndarray,
              ) -> np.ndarray:
    """IVF engines without a readable index but with centroids and partition sizes
    (LanceDB): ``nlist`` + the sizes of the ``nprobe`` partitions nearest the query."""
    centroids = getattr(src, "centroids", None)
    sizes = getattr(src, "stats", {}).get("partition_sizes") if hasattr(src, "stats") else None
    if centroids is None or not sizes or src.param_name != "nprobe" or \
            len(sizes) != centroids.shape[0]:
        return work
    from .truth import exact_rows

    nlist = centroids.shape[0]
    order, _ = exact_rows(centroids, qs, nlist, "l2" if src.metric == "l2" else src.metric)
    size_arr = np.asarray(sizes, np.float64)
    scanned = np.cumsum(size_arr[order], axis=1)
    take = np.minimum(values, nlist) - 1
    return np.asarray((nlist + scanned[:, take]).T, np.float64)
