"""One index + its media + view parameters → the payloads every view draws.

No widget code here: the notebook widget, the HTML export and the benchmarks all build their
data through :class:`ViewSession`. The overview is computed once per session and cached;
each search adds only its own payload. Which builder runs is looked up by index family
(:mod:`feder.families`), never by testing classes.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from . import trace as tracing
from .arrays import sample_rows
from .diagnose.checks import as_queries, positive_k
from .diagnose.exact import truth_of, truth_store
from .diagnose.health import health as index_health
from .diagnose.kinds import KINDS, unwrap
from .errors import ParameterError, UnknownIdError
from .families import FAMILY_OF_KIND, family_of, unwrapped, view_note, views_with
from .layouts.cluster_map import ClusterMap, cluster_map, nearest_members, query_position
from .layouts.geometry import fit_to_box, pca_2d
from .layouts.hnsw_graph import layered_overview, node_path, search_geometry, with_paths
from .layouts.polar import PolarLayout, polar_layout, radial_scale
from .layouts.projection import project
from .media import MediaItem, MediaStore
from .model import FlatIndex, HNSWIndex, IndexModel, IVFFlatIndex
from .params import HEADER_HEIGHT, MIN_DRAWING_WIDTH, PANEL_WIDTH, ViewParams
from .serialize import Payload
from .serialize import codes as codes_payload
from .serialize import diagnosis as diagnosis_payload
from .serialize import flat_overview as flat_overview_payload
from .serialize import flat_search as flat_search_payload
from .serialize import health as health_payload
from .serialize import hnsw_overview as hnsw_overview_payload
from .serialize import hnsw_search as hnsw_search_payload
from .serialize import ivf_overview as ivf_overview_payload
from .serialize import ivf_search as ivf_search_payload
from .threads import blas_limits
from .trace import BeamLevel, FlatTrace, HNSWTrace, IVFTrace, SearchTrace
from .trace.distances import LARGER_IS_CLOSER, faiss_distances

if TYPE_CHECKING:
    from .diagnose import Explanation

_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def model_lock(model: Any) -> threading.RLock:
    """The lock a model's searches and view payloads hold (re-entrant, one per model): the
    replay fills per-model caches (aligned list copies carved from one arena, norms) that a
    background diagnosis (:meth:`ViewSession.explain`) and a new search must not fill at
    the same time. The brute force over the vectors — the long part — runs without it."""
    with _LOCKS_LOCK:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock


class ViewSession:
    """Caches layouts for one index and turns traces into front-end payloads."""

    def __init__(self, index: IndexModel, media: MediaStore, params: ViewParams,
                 names: Callable[[int], str] | None = None, *, vectors: Any = None,
                 vector_ids: Any = None, diagnostics: tuple[str, ...] = ()):
        self.model = index
        """The model searches run on (a wrapper such as a faiss pre-transform, or the
        model the views draw)."""
        self.index = unwrapped(index)
        """The model the views draw: ``index``, or the model a wrapper holds (in the space it
        stores: a pre-transform's transformed space), see :data:`feder.families.WRAPPERS`."""
        self.media = media
        self.params = params
        self.family = family_of(self.index.kind)
        self.views = views_with(self.family, diagnostics)
        """``(id, label)`` of the views this session shows: its family's, plus the
        diagnostic views ``diagnostics`` (a live engine's sweep)."""
        self.names = names
        """id → the name users know it by (a live engine's own ids, e.g. ``"img_0042"``);
        sent as ``payload["names"]`` for the ids a view shows."""
        self.truth_vectors: tuple[Any, Any] = (vectors, vector_ids)
        """The original vectors of an index with lossy codes (``FederPy(vectors=)``): the
        "Codes" view's true distances are to them (else to the decoded codes)."""

    def names_for(self, ids: Any, limit: int = 2000) -> dict[str, str]:
        """``{str(id): name}`` for at most ``limit`` of ``ids`` (none without ``names``)."""
        if self.names is None:
            return {}
        unique = dict.fromkeys(int(i) for i in np.asarray(ids).ravel().tolist() if int(i) >= 0)
        return {str(i): str(self.names(i)) for i in list(unique)[:limit]}

    @property
    def box(self) -> tuple[float, float]:
        """The drawing area (width, height) at the widget's full size; the IVF map is laid
        out in it and the front end scales it to the space it really gets."""
        return (float(max(self.params.width - PANEL_WIDTH, 200)),
                float(max(self.params.height - HEADER_HEIGHT, 160)))

    def view_params(self) -> dict[str, Any]:
        """What the front end must agree on with Python: sizes, the views of this family."""
        p = self.params
        return {"width": p.width, "height": p.height, "theme": p.theme, "title": p.title,
                "panel_width": PANEL_WIDTH, "header_height": HEADER_HEIGHT,
                "min_drawing_width": MIN_DRAWING_WIDTH, "box": list(self.box),
                "family": self.family.name, "note": view_note(self.model),
                "views": [{"id": view, "label": label} for view, label in self.views]}

    @cached_property
    def cluster_map(self) -> ClusterMap:
        index = self.index
        assert isinstance(index, IVFFlatIndex)
        width, height = self.box
        return cluster_map(index.centroids, index.list_sizes, width, height)

    @cached_property
    def overview(self) -> Payload:
        """The overview payload (computed on first use, then cached)."""
        with blas_limits():
            payload = _OVERVIEW[self.family.name](self)
        if self.names is not None:
            payload["names"] = self.names_for(self.overview_ids)
        return payload

    def explain(self, query: Any, params: Mapping[str, int]) -> Explanation:
        """The search of ``query`` (``(d,)``) with ``params`` (``k`` and nprobe /
        ef_search) replayed and checked against the exact top-``k``, equal to
        :func:`feder.explain` (over the original vectors when the session has them). Safe
        in a background thread: the replay and the explanation hold :func:`model_lock`,
        the brute force (what takes long on a big index) does not, so a new search in the
        meantime never waits for it."""
        from .diagnose.explain import explain_replayed

        rest = dict(params)
        k = positive_k(rest.pop("k"))
        model = self.model
        seen = unwrap(model)
        qs = as_queries(query, model.dim, "query")[:1]
        lock = model_lock(model)
        with lock:
            result = tracing.search(seen.inner, seen.queries(qs)[0], k, **rest)
        truth = truth_of(seen, qs, k, *self.truth_vectors)
        with lock:
            return explain_replayed(seen, result, truth, 0, qs[0], k, rest)

    def search_payload(self, trace: SearchTrace, target_id: int | None = None,
                       target_media: Any = None, explanation: Explanation | None = None,
                       ) -> Payload:
        """The payload of one search; ``target_*`` describe the query's own image;
        ``explanation`` (of this trace) adds the ``diagnosis``: recall and the missed
        neighbours, placed in the views' own frames."""
        target: Payload = {"id": target_id, "media": None}
        if target_media is not None:
            target["media"] = self.media.describe(target_media)
        elif target_id is not None and self.media.media is not None:
            target["media"] = self.media.item(target_id)
        with blas_limits():
            payload = _SEARCH[self.family.name](self, trace, target, explanation)
            if explanation is not None and self.lossy:
                payload["codes"] = self.codes(trace, explanation)
        if self.names is not None:
            shown = [trace.ids, _NEAREST[self.family.name](self, trace, 400),
                     np.asarray([m.id for m in explanation.missed] if explanation else [])]
            if target_id is not None:
                shown.append(np.asarray([target_id]))
            payload["names"] = self.names_for(np.concatenate([np.asarray(a, np.int64).ravel()
                                                              for a in shown]))
        return payload

    @cached_property
    def lossy(self) -> bool:
        """The index stores lossy codes (PQ, SQ: :data:`feder.diagnose.kinds.KINDS`), so its
        searches rank by code distances and get the "Codes" view."""
        seen = unwrap(self.model)
        return seen.inner.kind in KINDS and seen.codes

    @cached_property
    def _truth_store(self) -> Any:
        """What true distances are measured over: the original vectors when given, else the
        decoded codes (:func:`feder.diagnose.exact.truth_store`)."""
        return truth_store(unwrap(self.model), *self.truth_vectors)

    def codes(self, trace: SearchTrace, explanation: Explanation) -> Payload:
        """The "Codes" view of a search of lossy codes (:func:`feder.serialize.codes`): the
        :data:`CODES_SAMPLE` candidates with the nearest code distances, every result and
        every exact neighbour the search scanned, each with its code distance (what the search
        ranked by) and its true distance (over ``vectors=`` when given, else the decoded
        vector)."""
        scanned = _SCANNED[self.family.name](self, trace)
        larger = trace.metric in LARGER_IS_CLOSER
        key = np.where(np.isnan(scanned.distances), np.inf,
                       -scanned.distances if larger else scanned.distances)
        truth_ids = np.asarray(explanation.truth_ids).astype(np.int64)
        valid_truth = truth_ids[truth_ids >= 0]
        ids = np.asarray(scanned.ids).astype(np.int64)
        is_true = np.isin(ids, valid_truth)
        keep = np.zeros(ids.size, bool)
        nearest = min(CODES_SAMPLE, ids.size)
        if nearest:
            keep[np.argpartition(key, nearest - 1)[:nearest]] = True
        keep[scanned.results] = True
        keep |= is_true
        chosen = np.flatnonzero(keep)
        chosen = chosen[np.argsort(key[chosen], kind="stable")]
        rank = np.full(ids.size, -1, np.int32)
        rank[scanned.results] = np.arange(scanned.results.size, dtype=np.int32)
        true_rank = np.zeros(chosen.size, np.int32)
        exact_rank = {int(i): r + 1 for r, i in reversed(list(enumerate(truth_ids.tolist())))
                      if i >= 0}
        true_rank[:] = [exact_rank.get(int(i), 0) for i in ids[chosen].tolist()]
        store = self._truth_store
        true_d = store.measure(np.asarray(scanned.rows[chosen], np.int64), trace.query)
        # Exact neighbours whose code distance the search computed but did not keep (a flat
        # scan keeps only its nearest): their pairs come from the explanation.
        code_t = np.asarray(explanation.truth_code_distances, np.float32)
        extra = np.flatnonzero((truth_ids >= 0) & ~np.isnan(code_t)
                               & ~np.isin(truth_ids, ids[chosen]))
        miss_list = {m.id: -1 if m.list is None else m.list for m in explanation.missed}
        out_ids = np.concatenate([ids[chosen], truth_ids[extra]])
        out_code = np.concatenate([scanned.distances[chosen], code_t[extra]])
        order = np.argsort(-out_code if larger else out_code, kind="stable")
        k = int(explanation.k)
        kth_code = float(scanned.distances[scanned.results[-1]]) \
            if scanned.results.size >= k else None
        kth_true = float(explanation.truth_distances[k - 1]) \
            if valid_truth.size >= k else None
        return codes_payload(
            store.space, larger, scanned.count, out_ids[order],
            np.concatenate([scanned.lists[chosen],
                            [miss_list.get(int(i), -1) for i in truth_ids[extra]]])[order],
            out_code[order],
            np.concatenate([true_d, explanation.truth_distances[extra]])[order],
            np.concatenate([rank[chosen], np.full(extra.size, -1, np.int32)])[order],
            np.concatenate([true_rank, extra + 1])[order], kth_code, kth_true)

    @cached_property
    def health(self) -> Payload:
        """The health payload (:func:`feder.health`): IVF list balance / HNSW degrees and
        unreachable nodes."""
        return health_payload(index_health(self.index))

    def search_control(self, params: Mapping[str, int]) -> Payload:
        """The search parameter a view can change in place (nprobe / ef) with its current
        value and the values offered: ``{"name", "label", "value", "values": [...]}``."""
        return _CONTROL[self.family.name](self.index, params)

    def initial_media(self, trace: SearchTrace | None, limit: int = 400,
                      explanation: Explanation | None = None) -> dict[str, MediaItem]:
        """Media worth sending up front: the results, the exact neighbours the search
        missed, the candidates nearest the query, then the overview's members. Everything
        else is fetched when the view asks for it (or, in a report, shown as a placeholder
        once ``limit`` items are embedded)."""
        if self.media.media is None:
            return {}
        ids: list[int] = []
        if trace is not None:
            ids += trace.ids.tolist()
        if explanation is not None:
            ids += [m.id for m in explanation.missed]
        if trace is not None:
            ids += _NEAREST[self.family.name](self, trace, limit).tolist()
        ids += self.overview_ids.tolist()
        unique = list(dict.fromkeys(int(i) for i in ids if int(i) >= 0))[:limit]
        return self.media.items(unique)

    @cached_property
    def overview_ids(self) -> np.ndarray:
        """Ids the overview shows thumbnails of (IVF members, HNSW upper-level nodes, a flat
        index's sampled points)."""
        return _OVERVIEW_IDS[self.family.name](self)

    @cached_property
    def _members(self) -> list[np.ndarray]:
        index = self.index
        assert isinstance(index, IVFFlatIndex)
        count = self.params.membersPerList
        if not count:
            return [np.empty(0, np.int64)] * index.nlist
        # A bounded read: only the first MEMBER_SAMPLE vectors of each list are looked at,
        # so a 10M-vector file is not read whole to draw its overview; a mapped file's with
        # pread (list_head), as slices of the map they left ≈ 370 MB resident at 10M.
        return [nearest_members(*index.list_head(lst, MEMBER_SAMPLE), index.centroids[lst],
                                count, index.metric)
                for lst in range(index.nlist)]

    @cached_property
    def _flat_sample(self) -> tuple[np.ndarray, np.ndarray]:
        """``((s,) int64 ids, (s, 2) float64 xy in [0, 1]²)``: a PCA of at most
        :data:`FLAT_SAMPLE` stored vectors (seeded), the flat overview's points."""
        index = self.index
        assert isinstance(index, FlatIndex)
        rows = sample_rows(index.ntotal, FLAT_SAMPLE)
        vectors = np.asarray(index.vectors[rows], np.float32)
        xy = fit_to_box(pca_2d(vectors), 1.0, 1.0, margin=0.04) if rows.size else \
            np.zeros((0, 2))
        return np.asarray(index.ids[rows], np.int64), xy

    @cached_property
    def _layered(self) -> Any:
        """The HNSW overview without the per-node entry paths (fetched per click, or added
        for a report by :meth:`overview_for_report`)."""
        assert isinstance(self.index, HNSWIndex)
        return layered_overview(self.index, self.params.numOfLevels, paths=False)

    def overview_for_report(self) -> Payload:
        """The overview as a report embeds it: with everything a page without a kernel
        cannot ask for later (an HNSW overview's entry paths of every node)."""
        if self.family.name != "graph":
            return self.overview
        paths = self._report_paths
        return {**self.overview, "paths": paths} if paths is not None else self.overview

    @cached_property
    def _report_paths(self) -> Payload | None:
        """The entry routes of every overview node, computed once on the cached layout."""
        index = self.index
        assert isinstance(index, HNSWIndex)
        with blas_limits():
            full = hnsw_overview_payload(index, with_paths(index, self._layered))
        return full.get("paths")

    def node_path(self, node: int) -> Payload:
        """``{"node", "nodes": [...], "levels": [...]}``: the greedy route from the entry point
        to overview node ``node`` (an index into the overview's nodes); a clicked node's."""
        if not isinstance(self.index, HNSWIndex):
            raise ParameterError("entry paths belong to HNSW overviews")
        layered = self._layered
        if not 0 <= node < layered.nodes.size:
            raise UnknownIdError(f"overview node {node} does not exist: expected 0 ≤ node < "
                                 f"{layered.nodes.size}")
        with blas_limits():
            nodes, levels = node_path(self.index, layered, node)
        return {"node": node, "nodes": nodes.tolist(), "levels": levels.tolist()}


def _ivf_overview(session: ViewSession) -> Payload:
    index = session.index
    assert isinstance(index, IVFFlatIndex)
    payload = ivf_overview_payload(index, session.cluster_map, session._members)
    payload["facts"]["member_sample"] = MEMBER_SAMPLE
    return payload


MEMBER_SAMPLE = 64
"""Vectors of each IVF list the overview looks at to pick the members nearest its centroid."""

FLAT_SAMPLE = 2000
"""Stored vectors a flat index's overview projects (seeded sample)."""


def _flat_overview(session: ViewSession) -> Payload:
    index = session.index
    assert isinstance(index, FlatIndex)
    return flat_overview_payload(index, *session._flat_sample)


def _graph_overview(session: ViewSession) -> Payload:
    index = session.index
    assert isinstance(index, HNSWIndex)
    return hnsw_overview_payload(index, session._layered)


def _ivf_search(session: ViewSession, trace: SearchTrace, target: Payload,
                explanation: Explanation | None) -> Payload:
    index = session.index
    assert isinstance(index, IVFFlatIndex) and isinstance(trace, IVFTrace)
    assert trace.coarse is not None and trace.fine is not None
    coarse, fine = trace.coarse, trace.fine
    query_xy = query_position(session.cluster_map, coarse.probed_lists,
                              coarse.probed_distances, index.metric)
    missed = np.asarray([m.distance for m in explanation.missed] if explanation else [],
                        np.float32)
    self_d = float(faiss_distances(trace.query[None], trace.query, index.metric)[0])
    distances = np.concatenate([fine.candidate_distances, missed])
    scale = radial_scale(distances, self_d, squared_l2=index.metric == "l2",
                         larger_is_closer=index.metric in LARGER_IS_CLOSER)
    # Missed neighbours sit at their true distances: those of unprobed lists in a sector of
    # their own (list −1); those the search scanned (a lossy code ranked out, a tie) in
    # their own list's sector.
    miss_lists = _missed_sectors(explanation, coarse.probed_lists)
    lists = np.concatenate([fine.candidate_lists, miss_lists])
    sectors = np.concatenate([coarse.probed_lists, [-1]]) if (miss_lists < 0).any() else \
        coarse.probed_lists
    polar = polar_layout(lists, distances, sectors, scale)
    projection = None
    params = session.params
    if params.fineSearchWithProjection and fine.candidate_rows.size:
        vectors = index.read_lists(coarse.probed_lists.tolist())
        projection = project(vectors, trace.query, params.projectMethod,
                             seed=params.projectSeed)
    m = fine.candidate_ids.size
    cand_polar = PolarLayout(polar.xy[:m], polar.radius[:m], polar.sector_lists,
                             polar.sector_start, polar.sector_end, polar.scale)
    payload = ivf_search_payload(index, trace, query_xy, cand_polar, projection,
                                 params.projectMethod, target)
    if explanation is not None:
        payload["diagnosis"] = diagnosis_payload(explanation, polar.xy[m:])
    return payload


def _missed_sectors(explanation: Explanation | None, probed: np.ndarray) -> np.ndarray:
    """``(m,) int64`` the polar sector of each missed neighbour: its own list when the
    search scanned it (a lossy code ranked out, a tie), −1 (not probed) otherwise."""
    if explanation is None:
        return np.empty(0, np.int64)
    lists = np.asarray([-1 if m.list is None else m.list for m in explanation.missed],
                       np.int64)
    return np.where(np.isin(lists, probed), lists, -1).astype(np.int64)


def _flat_search(session: ViewSession, trace: SearchTrace, target: Payload,
                 explanation: Explanation | None) -> Payload:
    index = session.index
    assert isinstance(index, FlatIndex) and isinstance(trace, FlatTrace)
    scan = trace.scan
    assert scan is not None
    larger = index.metric in LARGER_IS_CLOSER
    self_d = float(faiss_distances(trace.query[None], trace.query, index.metric)[0])
    # Missed neighbours (a tie, or a lossy code ranked out) at their true distances, in the
    # one sector with the candidates.
    missed = np.asarray([m.distance for m in explanation.missed] if explanation else [],
                        np.float32)
    distances = np.concatenate([scan.candidate_distances, missed])
    scale = radial_scale(distances, self_d, squared_l2=index.metric == "l2",
                         larger_is_closer=larger)
    m = scan.candidate_ids.size
    both = polar_layout(np.zeros(distances.size, np.int64), distances,
                        np.zeros(1, np.int64), scale)
    polar = PolarLayout(both.xy[:m], both.radius[:m], both.sector_lists, both.sector_start,
                        both.sector_end, both.scale)
    params = session.params
    projection = None
    if params.fineSearchWithProjection and scan.candidate_rows.size:
        vectors = np.asarray(index.vectors[scan.candidate_rows], np.float32)
        projection = project(vectors, trace.query, params.projectMethod,
                             seed=params.projectSeed)
    payload = flat_search_payload(trace, polar, projection, params.projectMethod, target)
    if explanation is not None:
        payload["diagnosis"] = diagnosis_payload(explanation, both.xy[m:])
    return payload


def _flat_nearest_ids(session: ViewSession, trace: SearchTrace, limit: int) -> np.ndarray:
    """User ids of the nearest vectors the scan kept, nearest first."""
    assert isinstance(trace, FlatTrace) and trace.scan is not None
    return trace.scan.candidate_ids[:limit]


def _graph_search(session: ViewSession, trace: SearchTrace, target: Payload,
                  explanation: Explanation | None) -> Payload:
    index = session.index
    assert isinstance(index, HNSWIndex) and isinstance(trace, HNSWTrace)
    missed = np.asarray([index.internal_id(m.id) for m in explanation.missed]
                        if explanation else [], np.int64)
    geometry = search_geometry(index, trace, missed)
    payload = hnsw_search_payload(index, trace, geometry, target)
    if explanation is not None:
        payload["diagnosis"] = diagnosis_payload(explanation, geometry.extra_xy)
    return payload


def _ivf_nearest_ids(session: ViewSession, trace: SearchTrace, limit: int) -> np.ndarray:
    """User ids of the candidates, nearest to the query first."""
    assert isinstance(trace, IVFTrace) and trace.fine is not None
    d = trace.fine.candidate_distances
    order = np.argsort(-d if trace.metric in LARGER_IS_CLOSER else d, kind="stable")
    return trace.fine.candidate_ids[order[:limit]]


def _graph_nearest_ids(session: ViewSession, trace: SearchTrace, limit: int) -> np.ndarray:
    """User ids of the nodes computed on level 0, nearest to the query first."""
    index = session.index
    assert isinstance(trace, HNSWTrace) and isinstance(index, HNSWIndex)
    beam = trace.levels[-1]
    assert isinstance(beam, BeamLevel)
    d = np.concatenate([[np.float32(beam.entry_distance)], beam.edge_distances])
    order = np.argsort(d, kind="stable")[:limit]
    return np.asarray(index.labels[beam.visited[order]], dtype=np.int64)


CODES_SAMPLE = 300
"""Candidates the "Codes" view draws besides the results and the exact neighbours: those
with the nearest code distances."""


@dataclass(frozen=True, eq=False)
class _Scanned:
    """The candidates whose code distance a search computed: ``rows`` ``(m,) int64`` rows of
    the model the diagnostics see (:func:`feder.diagnose.kinds.unwrap`), ``ids`` ``(m,)`` the
    ids users see, ``lists`` ``(m,) int64`` (−1: no list), ``distances`` ``(m,) float32`` the
    code distances, ``results`` ``(≤k,) int64`` positions of the results, best first;
    ``count``: distances computed (a flat scan keeps only the nearest ``m`` of them)."""

    rows: np.ndarray
    ids: np.ndarray
    lists: np.ndarray
    distances: np.ndarray
    results: np.ndarray
    count: int


def _ivf_scanned(session: ViewSession, trace: SearchTrace) -> _Scanned:
    assert isinstance(trace, IVFTrace) and trace.fine is not None
    fine = trace.fine
    return _Scanned(fine.candidate_rows, fine.candidate_ids, fine.candidate_lists,
                    fine.candidate_distances, fine.result_positions,
                    int(fine.candidate_ids.size))


def _flat_scanned(session: ViewSession, trace: SearchTrace) -> _Scanned:
    assert isinstance(trace, FlatTrace) and trace.scan is not None
    scan = trace.scan
    return _Scanned(scan.candidate_rows, scan.candidate_ids,
                    np.full(scan.candidate_ids.size, -1, np.int64), scan.candidate_distances,
                    scan.result_positions, int(scan.scanned))


def _graph_scanned(session: ViewSession, trace: SearchTrace) -> _Scanned:
    """The nodes level 0 computed (the upper levels only pick its entry point)."""
    index = session.index
    assert isinstance(trace, HNSWTrace) and isinstance(index, HNSWIndex)
    beam = trace.levels[-1]
    assert isinstance(beam, BeamLevel)
    rows = beam.visited
    distances = np.concatenate([[np.float32(beam.entry_distance)],
                                beam.edge_distances]).astype(np.float32)
    where = {int(r): i for i, r in enumerate(rows.tolist())}
    results = np.asarray([where[int(r)] for r in trace.result_internal.tolist()
                          if int(r) in where], np.int64)
    return _Scanned(rows, np.asarray(index.labels[rows]), np.full(rows.size, -1, np.int64),
                    distances, results, int(rows.size))


def _ivf_control(index: IndexModel, params: Mapping[str, int]) -> Payload:
    """nprobe: every value up to 64 lists, else the powers of two and nlist."""
    assert isinstance(index, IVFFlatIndex)
    value, top = int(params["nprobe"]), index.nlist
    values = set(range(1, top + 1)) if top <= 64 else \
        {1 << i for i in range(top.bit_length()) if 1 << i <= top} | {top}
    return {"name": "nprobe", "label": "nprobe", "value": value,
            "values": sorted(values | {value})}


def _graph_control(index: IndexModel, params: Mapping[str, int]) -> Payload:
    """ef: the usual grid from k up to the index size."""
    value, k = int(params["ef_search"]), int(params["k"])
    top = max(index.ntotal, k)
    values = {v for v in (8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
              if k <= v <= top} | {k}
    return {"name": "ef_search", "label": "ef", "value": value,
            "values": sorted(values | {value})}


def _no_control(index: IndexModel, params: Mapping[str, int]) -> Payload:
    """A flat scan has no parameter that trades recall for work."""
    return {}


def _ivf_overview_ids(session: ViewSession) -> np.ndarray:
    members = session._members
    return np.concatenate(members) if members else np.empty(0, np.int64)


def _graph_overview_ids(session: ViewSession) -> np.ndarray:
    index = session.index
    assert isinstance(index, HNSWIndex)
    return np.asarray(index.labels[session._layered.nodes], dtype=np.int64)


def _flat_overview_ids(session: ViewSession) -> np.ndarray:
    return session._flat_sample[0][:400]


_OVERVIEW_IDS: dict[str, Callable[[ViewSession], np.ndarray]] = {
    "ivf": _ivf_overview_ids, "graph": _graph_overview_ids, "flat": _flat_overview_ids}

_CONTROL: dict[str, Callable[[IndexModel, Mapping[str, int]], Payload]] = {
    "ivf": _ivf_control, "graph": _graph_control, "flat": _no_control}

_OVERVIEW: dict[str, Callable[[ViewSession], Payload]] = {
    "ivf": _ivf_overview, "graph": _graph_overview, "flat": _flat_overview}
_SEARCH: dict[str, Callable[[ViewSession, SearchTrace, Payload, Explanation | None], Payload]] = {
    "ivf": _ivf_search, "graph": _graph_search, "flat": _flat_search}
_NEAREST: dict[str, Callable[[ViewSession, SearchTrace, int], np.ndarray]] = {
    "ivf": _ivf_nearest_ids, "graph": _graph_nearest_ids, "flat": _flat_nearest_ids}
_SCANNED: dict[str, Callable[[ViewSession, SearchTrace], _Scanned]] = {
    "ivf": _ivf_scanned, "graph": _graph_scanned, "flat": _flat_scanned}
assert set(_OVERVIEW) == set(_SEARCH) == set(_NEAREST) == set(_CONTROL) == \
    set(_OVERVIEW_IDS) == set(_SCANNED) == set(FAMILY_OF_KIND.values())
