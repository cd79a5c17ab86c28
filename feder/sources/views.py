"""What :class:`feder.FederPy` needs to show a live engine.

Two cases, never mixed up:

- **replay** — the engine's own index is readable (:meth:`BaseSource.model`): views come from
  it exactly as for files; view ids are the model's ids (Milvus Lite: segment rows, chroma:
  hnswlib labels); each search is also asked of the engine and compared.
- **engine answers** — the index is not readable: the views use a local flat model of the
  pulled vectors (labelled "model of the engine, not a replay"); each search shows the
  ENGINE's answer among the exact nearest vectors, with recall against exact truth. View ids
  are rows of the pulled vectors.

Engine ids (``str`` or ``int``) map to the views' numeric ids both ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnknownIdError
from .base import BaseSource, EngineAnswer
from .truth import exact_keys, exact_rows, prepare

MODEL_LABEL = "model of the engine, not a replay"
REPLAY_LABEL = "replay of the engine's own index"
NOT_RETURNED = "not_returned"
VIEW_CANDIDATES = 200


class EngineView:
    """One source seen through feder's views (see the module doc)."""

    def __init__(self, src: BaseSource):
        self.src = src
        model = src.model()
        self.replay = model is not None
        self.model: Any = model if model is not None else local_model(src)
        if self.replay:
            rows = src.model_rows(_model_ids(self.model))
            self._view_rows = rows  # view id order of the model → source rows
            self._view_ids = _model_ids(self.model)
        else:
            self._view_rows = np.arange(src.ntotal, dtype=np.int64)
            self._view_ids = self._view_rows
        self._row_to_view = np.full(src.ids.shape[0], -1, np.int64)
        ok = self._view_rows >= 0
        self._row_to_view[self._view_rows[ok]] = self._view_ids[ok]
        self.last: EngineCheck | None = None
        """The last search's engine check (:class:`EngineCheck`)."""

    # -- ids ------------------------------------------------------------------------------
    def view_id(self, ident: Any) -> int:
        """The views' numeric id of an engine id (``UnknownIdError`` if unknown)."""
        row = self.src.row_of(ident)
        view = int(self._row_to_view[row])
        if view < 0:
            raise UnknownIdError(f"id {ident!r} is not in the {self.src.engine} index read "
                                 "by feder")
        return view

    def engine_id(self, view_id: int) -> Any:
        """The engine id of a view id."""
        rows = self.view_rows(np.asarray([view_id]))
        if rows[0] < 0:
            raise UnknownIdError(f"view id {view_id} maps to no {self.src.engine} id")
        value = self.src.ids[int(rows[0])]
        return value.item() if hasattr(value, "item") else value

    def view_rows(self, view_ids: np.ndarray) -> np.ndarray:
        """Source rows of view ids (−1 for padding)."""
        if self.replay:
            return self.src.model_rows(view_ids)
        ids = np.asarray(view_ids, np.int64)
        return np.where((ids >= 0) & (ids < self.src.ntotal), ids, -1)

    def media(self) -> dict[int, Any] | None:
        """View id → the engine's media field value (``None`` without a media field)."""
        media = self.src.media
        if media is None:
            return None
        ok = self._view_rows >= 0
        return {int(v): media[int(r)] for v, r in zip(self._view_ids[ok].tolist(),
                                                       self._view_rows[ok].tolist(), strict=True)
                if media[int(r)] is not None}

    def title(self) -> str:
        src = self.src
        kind = src.info().get("index_type") or ""
        what = REPLAY_LABEL if self.replay else MODEL_LABEL
        return f"{src.engine} · {src.name} · {kind} · {what}".replace(" ·  ·", " ·")

    # -- engine answers ---------------------------------------------------------------------
    def engine_params(self, params: dict[str, int]) -> dict[str, int]:
        """The view's search parameters in the engine's names (``ef_search`` → ``ef``)."""
        name = self.src.param_name
        if name is None:
            return {}
        value = params.get(name, params.get("ef_search") if name == "ef" else None)
        return {} if value is None else {name: int(value)}

    def check(self, query: np.ndarray, k: int, params: dict[str, int],
              replay_ids: np.ndarray | None) -> EngineCheck | None:
        """Ask the engine the same search and compare with the replay's ids (replay case)."""
        sent = self.engine_params(params)
        try:
            answer = self.src.search(query, k, **sent)
        except Exception as exc:  # e.g. chroma cannot take another ef per query
            self.last = EngineCheck(None, None, str(exc))
            return self.last
        same = None
        if replay_ids is not None:
            rows = self.view_rows(np.asarray(replay_ids, np.int64))
            same = [int(r) for r in rows if r >= 0] == [int(r) for r in answer.rows if r >= 0]
        self.last = EngineCheck(answer, same, "")
        return self.last

    def answer_trace(self, query: Any, k: int, params: dict[str, int]) -> tuple[Any, Any]:
        """Engine-answers case: ``(FlatTrace, EngineDiagnosis)`` — the engine's answer placed
        among the exact nearest vectors of the local model, with recall against truth."""
        from ..trace.types import FlatTrace, ScanStep

        src = self.src
        q = src.check_queries(query, "query")
        answer = src.search(q[0], k, **self.engine_params(params))
        truth, _ = exact_rows(src.vectors, q, max(k, VIEW_CANDIDATES), src.metric)
        t_rows = truth[0][truth[0] >= 0]
        returned = answer.rows[answer.rows >= 0]
        cand = np.concatenate([t_rows, returned[~np.isin(returned, t_rows)]])
        model = self.model
        qv = prepare(q, src.metric)[0]
        keys = exact_keys(np.asarray(model.vectors[cand]),
                          np.broadcast_to(qv, (cand.size, qv.size)),
                          "l2" if src.metric == "l2" else "ip")
        dist = keys if src.metric == "l2" else -keys  # the local model's faiss convention
        order = np.lexsort((cand, keys))
        cand, dist = cand[order], dist[order]
        where = {int(r): i for i, r in enumerate(cand.tolist())}
        positions = np.asarray([where[int(r)] for r in returned], np.int64)
        scan = ScanStep(scanned=int(src.ntotal), candidate_rows=cand,
                        candidate_ids=cand.astype(np.int64), candidate_distances=dist,
                        result_positions=positions)
        trace = FlatTrace(kind="flat", metric=model.metric, query=qv, k=k,
                          ids=returned.astype(np.int64), distances=dist[positions],
                          params={"k": k, **answer.params}, scan=scan)
        top = truth[0][:k]
        found = (top >= 0) & np.isin(top, returned)
        diagnosis = EngineDiagnosis(answer, top, dist[[where[int(r)] for r in top if r >= 0]],
                                    found, float(found.sum()) / k)
        self.last = EngineCheck(answer, None, "")
        return trace, diagnosis

    def diagnosis_payload(self, diagnosis: EngineDiagnosis, fine: dict[str, Any],
                          ) -> dict[str, Any]:
        """The search payload's ``diagnosis`` for an engine answer (missed neighbours drawn
        where the distance view placed them; reason ``not_returned``)."""
        from ..serialize import MISS_REASONS, array

        xy = np.frombuffer(fine["polar_xy"]["data"], np.float32).reshape(-1, 2)
        ids = np.frombuffer(fine["ids"]["data"], np.float64).astype(np.int64)
        at = {int(v): i for i, v in enumerate(ids.tolist())}
        top, found = diagnosis.truth_rows, diagnosis.found
        missed = [i for i in range(top.size) if top[i] >= 0 and not found[i]]
        reasons = [*MISS_REASONS, NOT_RETURNED]
        none = [-1] * len(missed)
        return {
            "recall": diagnosis.recall, "k": int(top.size), "found": int(found.sum()),
            "reasons": reasons,
            "truth": {"ids": array(top[top >= 0], "float64"),
                      "distances": array(diagnosis.truth_distances, "float32")},
            "missed": {
                "ids": array([top[i] for i in missed], "float64"),
                "true_rank": array([i + 1 for i in missed], "int32"),
                "distances": array([diagnosis.truth_distances[i] for i in missed], "float32"),
                "reason": array([reasons.index(NOT_RETURNED)] * len(missed), "uint8"),
                "list": array(none, "int32"), "list_rank": array(none, "int32"),
                "hops": array(none, "int32"),
                "xy": array(np.asarray([xy[at[int(top[i])]] for i in missed],
                                       np.float32).reshape(len(missed), 2), "float32"),
            },
        }


class EngineCheck:
    """The engine asked the same search: ``answer`` (or ``None`` with ``error``) and
    ``same`` (the replay returned the same ids in the same order; ``None`` when there is no
    replay)."""

    def __init__(self, answer: EngineAnswer | None, same: bool | None, error: str):
        self.answer = answer
        self.same = same
        self.error = error

    def __repr__(self) -> str:
        ids = None if self.answer is None else self.answer.ids
        return f"EngineCheck(ids={ids}, same_as_replay={self.same}, error={self.error!r})"


class EngineDiagnosis:
    """An engine answer against the exact top-``k`` (rows of the pulled vectors)."""

    def __init__(self, answer: EngineAnswer, truth_rows: np.ndarray,
                 truth_distances: np.ndarray, found: np.ndarray, recall: float):
        self.answer = answer
        self.truth_rows = truth_rows
        self.truth_distances = truth_distances
        self.found = found
        self.recall = recall

    def __repr__(self) -> str:
        return f"EngineDiagnosis(recall={self.recall:.3f}, ids={self.answer.ids})"


def local_model(src: BaseSource) -> Any:
    """A flat feder model of the pulled vectors (cosine: normalized, inner product), ids =
    rows — a model of the engine's data, not of its index."""
    from ..model import FlatIndex

    vectors = np.ascontiguousarray(src.vectors, np.float32)
    metric = "l2" if src.metric == "l2" else "ip"
    if src.metric == "cosine":
        vectors = prepare(vectors, "cosine")
    return FlatIndex(dim=src.dim, metric=metric, metric_type=1 if metric == "l2" else 0,
                     metric_arg=0.0, ntotal=int(vectors.shape[0]),
                     ids=np.arange(vectors.shape[0], dtype=np.int64),
                     source=f"{src.engine}:{src.name} ({MODEL_LABEL})",
                     fourcc="IxF2" if metric == "l2" else "IxFI", _vectors=vectors)


def _model_ids(model: Any) -> np.ndarray:
    if model.kind in ("hnsw", "faiss_hnsw"):
        return np.asarray(model.labels, np.int64)
    return np.asarray(model.ids, np.int64)
