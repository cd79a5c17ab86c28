"""One index + its media + view parameters → the payloads every view draws.

No widget code here: the notebook widget, the HTML export and the benchmarks all build their
data through :class:`ViewSession`. The overview is computed once per session and cached;
each search adds only its own payload.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from .layouts.cluster_map import ClusterMap, cluster_map, nearest_members, query_position
from .layouts.hnsw_graph import layered_overview, search_geometry
from .layouts.polar import polar_layout
from .layouts.projection import project
from .media import MediaItem, MediaStore
from .model import HNSWIndex, Index, IVFFlatIndex
from .params import ViewParams
from .serialize import Payload
from .serialize import hnsw_overview as hnsw_overview_payload
from .serialize import hnsw_search as hnsw_search_payload
from .serialize import ivf_overview as ivf_overview_payload
from .serialize import ivf_search as ivf_search_payload
from .trace import HNSWTrace, IVFTrace, SearchTrace

_PANEL_WIDTH = 260  # the front end keeps this much room for the side panel


class ViewSession:
    """Caches layouts for one index and turns traces into front-end payloads."""

    def __init__(self, index: Index, media: MediaStore, params: ViewParams):
        self.index = index
        self.media = media
        self.params = params

    @property
    def box(self) -> tuple[float, float]:
        """The drawing area (width, height) the IVF map is laid out in."""
        return (float(max(self.params.width - _PANEL_WIDTH, 200)),
                float(max(self.params.height - 40, 160)))

    @cached_property
    def cluster_map(self) -> ClusterMap:
        assert isinstance(self.index, IVFFlatIndex)
        width, height = self.box
        return cluster_map(self.index.centroids, self.index.list_sizes, width, height)

    @cached_property
    def overview(self) -> Payload:
        """The overview payload (computed on first use, then cached)."""
        index = self.index
        if isinstance(index, IVFFlatIndex):
            count = self.params.membersPerList
            members = [
                nearest_members(index.list_vectors(lst), index.list_ids(lst),
                                index.centroids[lst], count, index.metric)
                for lst in range(index.nlist)
            ] if count else [np.empty(0, np.int64)] * index.nlist
            return ivf_overview_payload(index, self.cluster_map, members)
        return hnsw_overview_payload(index, layered_overview(index, self.params.numOfLevels))

    def search_payload(self, trace: SearchTrace, target_id: int | None = None,
                       target_media: Any = None) -> Payload:
        """The payload of one search; ``target_*`` describe the query's own image."""
        target: Payload = {"id": target_id, "media": None}
        if target_media is not None:
            target["media"] = self.media.describe(target_media)
        elif target_id is not None and self.media.media is not None:
            target["media"] = self.media.item(target_id)
        index = self.index
        if isinstance(index, IVFFlatIndex):
            assert isinstance(trace, IVFTrace)
            return self._ivf_search(index, trace, target)
        assert isinstance(index, HNSWIndex) and isinstance(trace, HNSWTrace)
        return hnsw_search_payload(index, trace, search_geometry(index, trace), target)

    def _ivf_search(self, index: IVFFlatIndex, trace: IVFTrace, target: Payload) -> Payload:
        assert trace.coarse is not None and trace.fine is not None
        coarse, fine = trace.coarse, trace.fine
        query_xy = query_position(self.cluster_map, coarse.probed_lists,
                                  coarse.probed_distances, index.metric)
        polar = polar_layout(fine.candidate_lists, fine.candidate_distances,
                             coarse.probed_lists, index.metric)
        projection = None
        if self.params.fineSearchWithProjection and fine.candidate_rows.size:
            # the aligned blocks the trace just cached: no second read of the file
            vectors = np.concatenate([index.list_block(lst)[0]
                                      for lst in coarse.probed_lists.tolist()])
            projection = project(vectors, trace.query, self.params.projectMethod,
                                 seed=self.params.projectSeed)
        return ivf_search_payload(index, trace, query_xy, polar, projection,
                                  self.params.projectMethod, target)

    def initial_media(self, overview: Payload, search: Payload | None,
                      limit: int = 400) -> dict[str, MediaItem]:
        """Media worth sending up front: results, the nearest candidates, cluster members.

        Everything else is fetched when the view asks for it (or, in a report, shown as a
        placeholder once ``limit`` items are embedded).
        """
        if self.media.media is None:
            return {}
        ids: list[int] = []
        if search:
            ids += _ids(search["results"]["ids"])
            if search["kind"] == "ivf_search":
                fine = search["fine"]
                order = np.argsort(_array(fine["distances"]) * (-1 if search["metric"] == "ip"
                                                                else 1), kind="stable")
                ids += _ids(fine["ids"], order[:limit])
            else:
                nodes = search["nodes"]
                ids += _ids(nodes["ids"], np.argsort(_array(nodes["distances"]))[:limit])
        if overview["kind"] == "ivf_overview":
            ids += _ids(overview["members"]["ids"])
        else:
            ids += _ids(overview["nodes"]["ids"])
        unique = list(dict.fromkeys(i for i in ids if i >= 0))[:limit]
        return self.media.items(unique)


def _array(payload: Payload) -> np.ndarray:
    return np.frombuffer(payload["data"], dtype=payload["dtype"]).reshape(payload["shape"])


def _ids(payload: Payload, order: np.ndarray | None = None) -> list[int]:
    values = _array(payload)
    if order is not None:
        values = values[order]
    return [int(v) for v in values.tolist()]
