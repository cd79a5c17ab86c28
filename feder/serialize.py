"""Payloads for the front end: plain dicts whose arrays travel as binary buffers.

Every array is ``{"dtype": "float32"|"float64"|"int32"|"uint32"|"uint8", "shape": [...],
"data": memoryview}``; Jupyter sends each ``memoryview`` as a binary buffer (a ``DataView`` in
JS) and the HTML export base64-encodes it. Ids that users see (faiss ids, hnswlib labels) are
``float64`` (exact to 2**53) because JS has no convenient int64 typed array.
Coordinates are in the layout's own box; the front end only scales them.

Payload kinds (``"kind"`` key): ``ivf_overview``, ``hnsw_overview``, ``ivf_search``,
``hnsw_search`` (a search of lossy codes with a diagnosis also carries ``codes``:
:func:`codes`). Their fields are documented on the builder functions below; the front end
(``js/src/payload.js``, bundled into ``feder/static/widget.js``) decodes exactly these, and
its JSDoc typedefs mirror the docstrings here. Overview payloads carry ``"family"``
(:mod:`feder.families`), which picks the front end's views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .diagnose.health import Health, HNSWHealth, IVFHealth
from .layouts.cluster_map import ClusterMap
from .layouts.hnsw_graph import LayeredOverview, SearchGeometry
from .layouts.polar import PolarLayout
from .model import FlatIndex, HNSWIndex, IVFFlatIndex
from .trace import HNSWTrace, IVFTrace
from .trace.types import FlatTrace

if TYPE_CHECKING:
    from .diagnose import Explanation, Sweep

Payload = dict[str, Any]


def array(values: Any, dtype: str) -> Payload:
    """A typed array for JS: little-endian, C-contiguous, zero-copy when already so."""
    arr = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    # flat first: memoryview cannot cast a view with a zero in its shape, e.g. (0, 2)
    return {"dtype": dtype, "shape": list(arr.shape), "data": arr.reshape(-1).data.cast("B")}


def ivf_overview(index: IVFFlatIndex, cmap: ClusterMap, members: list[np.ndarray]) -> Payload:
    """IVF cluster map.

    ``cells``: ``{"xy": float32 (v, 2), "offsets": int32 (nlist + 1)}`` polygons;
    ``centers``: float32 (nlist, 2); ``sizes``: int32 (nlist); ``members``:
    ``{"ids": float64 (t), "offsets": int32 (nlist + 1)}`` ids nearest to each centroid first;
    ``box``: ``[width, height]``; ``facts``: summary numbers for the panel.
    """
    sizes = index.list_sizes
    nonempty = np.flatnonzero(sizes)
    offsets = np.zeros(len(members) + 1, np.int64)
    np.cumsum([m.size for m in members], out=offsets[1:])
    largest = int(np.argmax(sizes)) if sizes.size else -1
    smallest = int(nonempty[np.argmin(sizes[nonempty])]) if nonempty.size else -1
    return {
        "kind": "ivf_overview",
        "family": "ivf",
        "box": [cmap.width, cmap.height],
        "cells": {"xy": array(cmap.xy, "float32"), "offsets": array(cmap.offsets, "int32")},
        "centers": array(cmap.centers, "float32"),
        "sizes": array(sizes, "int32"),
        "members": {
            "ids": array(np.concatenate(members) if members else np.empty(0), "float64"),
            "offsets": array(offsets, "int32"),
        },
        "facts": {
            "index": "IVF_FLAT",
            "source": index.source,
            "metric": index.metric,
            "dim": index.dim,
            "ntotal": index.ntotal,
            "nlist": index.nlist,
            "nprobe": index.nprobe,
            "largest_list": {"list": largest, "size": int(sizes[largest]) if largest >= 0 else 0},
            "smallest_list": {"list": smallest,
                              "size": int(sizes[smallest]) if smallest >= 0 else 0},
            "empty_lists": int(sizes.size - nonempty.size),
        },
    }


def ivf_search(index: IVFFlatIndex, trace: IVFTrace, query_xy: np.ndarray,
               polar: PolarLayout, projection: np.ndarray | None, project_method: str,
               target: Payload) -> Payload:
    """IVF search.

    ``coarse``: ``{"lists": int32 (nprobe) closest first, "distances": float32 (nprobe),
    "all_distances": float32 (nlist), "query_xy": [x, y]}`` in the overview's box.
    ``fine``: candidates in scan order: ``ids`` float64 (m), ``lists`` int32 (m),
    ``distances`` float32 (m), ``rank`` int32 (m) (0-based rank in the results, −1 if not
    returned), ``polar_xy`` float32 (m, 2) in [−1, 1]² (query at the origin),
    ``sectors``: ``{"lists", "start", "end"}`` (angles in radians), ``scale``: the radius ↔
    distance mapping (:meth:`~feder.layouts.polar.RadialScale.to_payload`: ``kind``
    ``"sqrt"``/``"linear"``, ``zero``, ``span``, ``larger_is_closer``), and when enabled
    ``projection``: ``{"method", "xy": float32 (m, 2), "query_xy": [x, y]}`` in [0, 1]².
    ``results``: ``{"ids": float64 (k), "distances": float32 (k)}`` (−1 padding kept).
    ``target``: ``{"id": id or None, "media": item or None}`` (the query's own image).
    """
    assert trace.fine is not None and trace.coarse is not None
    fine, coarse = trace.fine, trace.coarse
    return {
        "kind": "ivf_search",
        "metric": trace.metric,
        "params": dict(trace.params),
        "coarse": {
            "lists": array(coarse.probed_lists, "int32"),
            "distances": array(coarse.probed_distances, "float32"),
            "all_distances": array(coarse.centroid_distances, "float32"),
            "query_xy": [float(query_xy[0]), float(query_xy[1])],
        },
        "fine": _candidates(fine.candidate_ids, fine.candidate_lists, fine.candidate_distances,
                            fine.result_positions, polar, projection, project_method),
        "results": {"ids": array(trace.ids, "float64"),
                    "distances": array(trace.distances, "float32")},
        "target": target,
    }


def _candidates(ids: np.ndarray, lists: np.ndarray, distances: np.ndarray,
                result_positions: np.ndarray, polar: PolarLayout,
                projection: np.ndarray | None, project_method: str) -> Payload:
    """The ``fine`` part of a search payload: candidates with their list, distance and rank,
    their polar positions and, when made, their projection (see :func:`ivf_search`)."""
    rank = np.full(ids.size, -1, np.int32)
    rank[result_positions] = np.arange(result_positions.size, dtype=np.int32)
    fine: Payload = {
        "ids": array(ids, "float64"),
        "lists": array(lists, "int32"),
        "distances": array(distances, "float32"),
        "rank": array(rank, "int32"),
        "polar_xy": array(polar.xy, "float32"),
        "sectors": {
            "lists": array(polar.sector_lists, "int32"),
            "start": array(polar.sector_start, "float32"),
            "end": array(polar.sector_end, "float32"),
        },
        "scale": polar.scale.to_payload(),
    }
    if projection is not None:
        fine["projection"] = {
            "method": project_method,
            "xy": array(projection[:-1], "float32"),
            "query_xy": [float(projection[-1, 0]), float(projection[-1, 1])],
        }
    return fine


def flat_overview(index: FlatIndex, ids: np.ndarray, xy: np.ndarray) -> Payload:
    """A flat index: ``points``: ``{"ids": float64 (s), "xy": float32 (s, 2) in [0, 1]²}``
    a PCA of a sample of the stored vectors; ``facts`` for the panel."""
    return {
        "kind": "flat_overview",
        "family": "flat",
        "points": {"ids": array(ids, "float64"), "xy": array(xy, "float32")},
        "facts": {
            "index": {"IxF2": "FLAT (L2)", "IxFI": "FLAT (IP)", "IxSQ": "SQ (flat scan)",
                      "IxPq": "PQ (flat scan)"}.get(index.fourcc, "FLAT"),
            "id_map": index.id_map_fourcc, "source": index.source, "metric": index.metric,
            "dim": index.dim, "ntotal": index.ntotal, "sample": int(ids.size),
        },
    }


def flat_search(trace: FlatTrace, polar: PolarLayout, projection: np.ndarray | None,
                project_method: str, target: Payload) -> Payload:
    """A flat search: every stored vector was compared (``scanned``); ``fine`` holds the
    ``m`` nearest as :func:`ivf_search` does (one list, numbered 0), ``results``, ``target``."""
    scan = trace.scan
    assert scan is not None
    zeros = np.zeros(scan.candidate_ids.size, np.int64)
    return {
        "kind": "flat_search",
        "metric": trace.metric,
        "params": dict(trace.params),
        "scanned": int(scan.scanned),
        "coarse": {"lists": array([0], "int32"), "distances": array([0.0], "float32"),
                   "all_distances": array([0.0], "float32"), "query_xy": [0.5, 0.5]},
        "fine": _candidates(scan.candidate_ids, zeros, scan.candidate_distances,
                            scan.result_positions, polar, projection, project_method),
        "results": {"ids": array(trace.ids, "float64"),
                    "distances": array(trace.distances, "float32")},
        "target": target,
    }


def hnsw_overview(index: HNSWIndex, overview: LayeredOverview) -> Payload:
    """HNSW layered overview.

    ``nodes``: ``{"ids": float64 (n) labels, "xy": float32 (n, 2) in [0, 1]²,
    "top_level": int32 (n)}``; ``levels``: list (top first) of ``{"level", "src": int32 (e),
    "dst": int32 (e)}`` edges as indices into ``nodes``; ``facts`` for the panel, including
    ``level_counts`` (elements on each level 0..max_level); optionally ``paths``:
    ``{"offsets": int32 (n + 1), "nodes": int32 (p), "levels": int32 (p)}``, for node ``i``
    the greedy route from the entry point in steps ``offsets[i]:offsets[i+1]``.
    """
    payload: Payload = {
        "kind": "hnsw_overview",
        "family": "graph",
        "nodes": {
            "ids": array(index.labels[overview.nodes], "float64"),
            "xy": array(overview.xy, "float32"),
            "top_level": array(overview.top_level, "int32"),
        },
        "levels": [
            {"level": level, "src": array(src, "int32"), "dst": array(dst, "int32")}
            for level, src, dst in zip(overview.levels, overview.edge_src, overview.edge_dst,
                                       strict=True)
        ],
        "facts": {
            "index": "HNSW",
            "source": index.source,
            "metric": index.metric,
            "dim": index.dim,
            "ntotal": index.ntotal,
            "deleted": index.num_deleted,
            "M": index.M,
            "ef_construction": index.ef_construction,
            "max_level": index.max_level,
            "entry_point": int(index.labels[index.entry_point]) if index.ntotal else None,
            "level_counts": list(overview.level_counts),
        },
    }
    if overview.path_offsets is not None:
        payload["paths"] = {"offsets": array(overview.path_offsets, "int32"),
                            "nodes": array(overview.path_nodes, "int32"),
                            "levels": array(overview.path_levels, "int32")}
    return payload


def hnsw_search(index: HNSWIndex, trace: HNSWTrace, geometry: SearchGeometry,
                target: Payload) -> Payload:
    """HNSW search replay.

    ``nodes``: ``{"ids": float64 (v) labels, "xy": float32 (v, 2) in [−1, 1]² (query at the
    origin), "distances": float32 (v)}``; ``scale``: radius ↔ distance as in
    :func:`ivf_search`. ``events`` (every examined link in search order):
    ``level`` int32, ``src``/``dst`` int32 indices into ``nodes``, ``outcome`` uint8
    (0 passed over, 1 accepted: the greedy search moved there / the node entered the beam,
    2 explored only: a deleted node), ``evicted`` int32 (node pushed out of the beam or −1).
    ``levels``: list (top first) of ``{"level", "entry": node index, "visited": count}``.
    ``results``: ``{"ids", "distances", "nodes": int32 indices}``; ``facts``: per-level
    visited counts.
    """
    level_rows = []
    for step, entry in zip(trace.levels, geometry.level_entry, strict=True):
        level_rows.append({"level": step.level, "entry": int(entry),
                           "visited": int(step.visited.size),
                           "edges": int(step.edge_src.size)})
    return {
        "kind": "hnsw_search",
        "metric": trace.metric,
        "params": dict(trace.params),
        "nodes": {
            "ids": array(index.labels[geometry.nodes], "float64"),
            "xy": array(geometry.xy, "float32"),
            "distances": array(geometry.distances, "float32"),
        },
        "scale": geometry.scale.to_payload(),
        "events": {
            "level": array(geometry.event_level, "int32"),
            "src": array(geometry.event_src, "int32"),
            "dst": array(geometry.event_dst, "int32"),
            "outcome": array(geometry.event_outcome, "uint8"),
            "evicted": array(geometry.event_evicted, "int32"),
        },
        "levels": level_rows,
        "results": {
            "ids": array(trace.ids, "float64"),
            "distances": array(trace.distances, "float32"),
            "nodes": array(geometry.results, "int32"),
        },
        "target": target,
    }


MISS_REASONS = ("list_not_probed", "unreachable", "not_reached", "tie", "quantization")
"""Codes of ``diagnosis.missed.reason`` (index into this tuple; new reasons are appended)."""


def diagnosis(explanation: Explanation, missed_xy: np.ndarray) -> Payload:
    """Was the search right: ``recall`` (|results ∩ exact top-k| / k), ``k``, ``found``
    (how many exact neighbours were returned); ``truth_space``: ``"exact"`` or
    ``"decoded"`` (lossy codes checked against their reconstructions: quantization misses
    cannot show); ``truth``: ``{"ids": float64 (k), "distances": float32 (k),
    "code_distances": float32 (k)}`` the exact top-k with the distance the search computed
    for each (NaN: never computed); ``results``: ``{"true_distances": float32 (k)}`` the true
    distance of each returned result (NaN for padding) — with the trace's distances, the
    pairs a "code vs true distance" view draws; ``missed``: per exact neighbour not
    returned, in exact-rank order: ``ids`` float64, ``true_rank`` int32 (1-based),
    ``distances`` float32, ``code_distances`` float32 (NaN: never computed), ``reason``
    uint8 (index into ``reasons``), ``list``/``list_rank`` int32 (IVF, else −1; ``list_rank``
    −1 also with an HNSW coarse quantizer), ``hops`` int32 (HNSW not_reached, else −1),
    ``xy`` float32 (m, 2) where the view draws it (the search payload's own frame)."""
    missed = explanation.missed
    codes = [MISS_REASONS.index(m.reason) for m in missed]
    return {
        "recall": float(explanation.recall),
        "k": int(explanation.k),
        "found": int(np.count_nonzero(explanation.found)),
        "reasons": list(MISS_REASONS),
        "truth_space": explanation.truth,
        "truth": {"ids": array(explanation.truth_ids, "float64"),
                  "distances": array(explanation.truth_distances, "float32"),
                  "code_distances": array(explanation.truth_code_distances, "float32")},
        "results": {"true_distances": array(explanation.result_true_distances, "float32")},
        "missed": {
            "ids": array([m.id for m in missed], "float64"),
            "true_rank": array([m.true_rank for m in missed], "int32"),
            "distances": array([m.distance for m in missed], "float32"),
            "code_distances": array(explanation.missed_code_distances, "float32"),
            "reason": array(codes, "uint8"),
            "list": array([-1 if m.list is None else m.list for m in missed], "int32"),
            "list_rank": array([-1 if m.list_rank is None else m.list_rank for m in missed],
                               "int32"),
            "hops": array([-1 if m.hops is None else m.hops for m in missed], "int32"),
            "xy": array(np.asarray(missed_xy, np.float32).reshape(len(missed), 2), "float32"),
        },
    }


def codes(truth_space: str, larger_is_closer: bool, scanned: int, ids: np.ndarray,
          lists: np.ndarray, code_distances: np.ndarray, true_distances: np.ndarray,
          rank: np.ndarray, true_rank: np.ndarray, kth_code: float | None,
          kth_true: float | None) -> Payload:
    """Code distance against true distance, for an index with lossy codes (PQ, SQ): what
    the "Codes" view draws. ``truth_space``: ``"exact"`` (true distance = to the original
    vector, ``vectors=`` given) or ``"decoded"`` (to the code's reconstruction);
    ``larger_is_closer`` (faiss inner product); ``scanned``: how many code distances the
    search computed. Then ``s`` of those candidates, closest code distance first (the
    nearest few hundred, every result and every exact top-k neighbour scanned): ``ids``
    float64, ``lists`` int32 (IVF list, −1 none), ``code_distances`` float32 (what the
    search ranked by), ``true_distances`` float32, ``rank`` int32 (0-based rank in the
    results, −1 if not returned), ``true_rank`` int32 (1-based rank in the exact top-k, 0 if
    not in it). ``kth_code``: the code distance of the k-th result (the cut-off: a candidate
    whose code is farther is not returned), ``kth_true``: the distance of the k-th exact
    neighbour (``None`` when fewer exist)."""
    return {
        "truth_space": truth_space, "larger_is_closer": bool(larger_is_closer),
        "scanned": int(scanned),
        "ids": array(ids, "float64"), "lists": array(lists, "int32"),
        "code_distances": array(code_distances, "float32"),
        "true_distances": array(true_distances, "float32"),
        "rank": array(rank, "int32"), "true_rank": array(true_rank, "int32"),
        "kth_code": None if kth_code is None else float(kth_code),
        "kth_true": None if kth_true is None else float(kth_true),
    }


def _ivf_health(report: Any) -> Payload:
    factor = report.imbalance_factor
    return {
        "kind": "health", "family": "ivf", "ntotal": report.ntotal, "nlist": report.nlist,
        "sizes": array(report.list_sizes, "int32"),
        "histogram": {"edges": array(report.histogram_edges, "float64"),
                      "counts": array(report.histogram_counts, "int32")},
        "empty_lists": array(report.empty_lists, "int32"),
        "imbalance_factor": float(factor) if np.isfinite(factor) else None,
        "largest": [report.largest_list, report.largest_size],
        "smallest": [report.smallest_list, report.smallest_size],
    }


def _graph_health(report: Any) -> Payload:
    return {
        "kind": "health", "family": "graph", "ntotal": report.ntotal,
        "max_level": report.max_level, "entry_point": report.entry_point,
        "deleted": report.deleted,
        "levels": [{"level": level, "nodes": int(report.nodes_per_level[level]),
                    "links": int(report.links_per_level[level]),
                    "out_degree": array(report.out_degree[level], "int32"),
                    "in_degree": array(report.in_degree[level], "int32")}
                   for level in range(report.nodes_per_level.size)],
        "unreachable": array(report.unreachable, "float64"),
    }


def _flat_health(report: Any) -> Payload:
    return {"kind": "health", "family": "flat", "ntotal": report.ntotal}


_HEALTH: dict[type, Any] = {IVFHealth: _ivf_health, HNSWHealth: _graph_health,
                            Health: _flat_health}


def health(report: Health) -> Payload:
    """The index at a glance. IVF (``"family": "ivf"``): ``sizes`` int32 (nlist),
    ``histogram``: ``{"edges": float64 (b + 1) 0, 1, 2, 4, …, "counts": int32 (b)}``,
    ``empty_lists`` int32, ``imbalance_factor``, ``largest``/``smallest``: ``[list, size]``.
    Graph (``"family": "graph"``): ``levels``: list (level 0 first) of ``{"level", "nodes",
    "links", "out_degree": int32 histogram, "in_degree": int32 histogram}``;
    ``unreachable``: float64 labels of live nodes no path from the entry point reaches;
    ``entry_point``, ``deleted``, ``max_level``. Flat (``"family": "flat"``): ``ntotal``
    only (a scan has nothing to balance; :class:`~feder.families.Family` lists no health
    view for it)."""
    return dict(_HEALTH[type(report)](report))


def sweep(result: Sweep, searches: list[Payload], worst: np.ndarray) -> Payload:
    """Recall against work: ``param`` (``"nprobe"``/``"ef"``), ``k``, ``queries``;
    ``values`` int32 (p), ``recall`` float64 (p) mean recall@k, ``distances`` float64 (p)
    mean distance computations per query, ``per_query`` float32 (p, nq); ``worst`` int32 (p)
    the query with the lowest recall at each value and ``searches``: its search payload at
    that value (what clicking the point shows)."""
    return {
        "kind": "sweep", "param": result.param, "k": int(result.k),
        "queries": int(result.per_query.shape[1]),
        "values": array(result.params, "int32"),
        "recall": array(result.recall, "float64"),
        "distances": array(result.distances, "float64"),
        "per_query": array(result.per_query, "float32"),
        "worst": array(worst, "int32"),
        "searches": searches,
    }


def compare(left: Payload, right: Payload, titles: tuple[str, str]) -> Payload:
    """Two searches side by side: ``left``/``right`` are their search payloads, ``titles``
    what to call them; the front end diffs the results (shared / only left / only right)."""
    return {"kind": "compare", "titles": list(titles), "left": left, "right": right}
