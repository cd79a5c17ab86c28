"""What a search replay records. All arrays are numpy; shapes and dtypes are in the docs.

Distances follow the source library's own convention: faiss ``l2`` = squared L2, faiss
``ip`` = inner product (results descending); hnswlib ``l2`` = squared L2, ``ip`` = 1 − dot,
``cosine`` = 1 − cos. HNSW steps use *internal* ids (rows of ``HNSWIndex.vectors``);
results (``ids``) use the user's ids (faiss ids / hnswlib labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True, eq=False)
class CoarseStep:
    """IVF coarse search: the query against every centroid."""

    centroid_distances: np.ndarray  # (nlist,) float32
    probed_lists: np.ndarray  # (nprobe,) int64, closest first
    probed_distances: np.ndarray  # (nprobe,) float32
    name: Literal["coarse"] = "coarse"


@dataclass(frozen=True, eq=False)
class FineStep:
    """IVF fine search: every vector of the probed lists, in scan order."""

    candidate_ids: np.ndarray  # (m,) int64 faiss ids
    candidate_lists: np.ndarray  # (m,) int64 list of each candidate
    candidate_rows: np.ndarray  # (m,) int64 row in IVFFlatIndex.vectors / .ids
    candidate_distances: np.ndarray  # (m,) float32
    result_positions: np.ndarray  # (≤k,) int64 positions in the candidate arrays, best first
    name: Literal["fine"] = "fine"


@dataclass(frozen=True, eq=False)
class GreedyLevel:
    """HNSW greedy descent on one upper level (ef = 1).

    ``path`` is the entry node followed by every improvement; ``edges_*`` are the links whose
    distance was computed, in order; ``edge_improved`` marks those that moved the search.
    """

    level: int
    entry: int
    path: np.ndarray  # (p,) int64 internal ids
    path_distances: np.ndarray  # (p,) float32
    edge_src: np.ndarray  # (e,) int64
    edge_dst: np.ndarray  # (e,) int64
    edge_distances: np.ndarray  # (e,) float32 distance of edge_dst to the query
    edge_improved: np.ndarray  # (e,) bool
    name: Literal["greedy"] = "greedy"

    @property
    def visited(self) -> np.ndarray:
        """``(v,) int64`` distinct nodes whose distance was computed, in first-seen order."""
        nodes = np.concatenate([[self.entry], self.edge_dst]).astype(np.int64)
        _, first = np.unique(nodes, return_index=True)
        return nodes[np.sort(first)]


# Outcome of an examined level-0 edge.
REJECTED, ADMITTED, CANDIDATE_ONLY = 0, 1, 2


@dataclass(frozen=True, eq=False)
class BeamLevel:
    """HNSW beam search on level 0 with ``ef`` slots.

    ``expanded`` are the nodes popped from the candidate queue, in order. Each examined edge
    (a link to a not-yet-visited node) has an outcome: ``REJECTED`` (farther than the beam's
    worst while the beam is full), ``ADMITTED`` (entered the beam), ``CANDIDATE_ONLY`` (a
    deleted node: explored but never returned); ``edge_evicted`` is the node it pushed out of
    the beam, or −1. Replaying edges in order reproduces the beam at every moment.
    """

    level: int
    entry: int
    ef: int
    expanded: np.ndarray  # (x,) int64
    edge_src: np.ndarray  # (e,) int64
    edge_dst: np.ndarray  # (e,) int64
    edge_distances: np.ndarray  # (e,) float32
    edge_outcome: np.ndarray  # (e,) uint8
    edge_evicted: np.ndarray  # (e,) int64
    beam: np.ndarray  # (≤ef,) int64 final beam, closest first
    beam_distances: np.ndarray  # (≤ef,) float32
    entry_distance: float
    name: Literal["beam"] = "beam"

    @property
    def visited(self) -> np.ndarray:
        """``(v,) int64`` every node whose distance was computed, entry first."""
        return np.concatenate([[self.entry], self.edge_dst]).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ScanStep:
    """Flat search: the query against every stored vector (``scanned`` distances); the
    ``m`` nearest are kept, best first, for the views (projection, distance view)."""

    scanned: int  # distances computed = ntotal
    candidate_rows: np.ndarray  # (m,) int64 rows of FlatIndex.vectors, best first
    candidate_ids: np.ndarray  # (m,) int64 faiss ids
    candidate_distances: np.ndarray  # (m,) float32
    result_positions: np.ndarray  # (≤k,) int64 positions of the results in the candidates
    name: Literal["scan"] = "scan"


@dataclass(frozen=True, eq=False)
class SearchTrace:
    """A replayed search: final results plus ordered steps."""

    kind: str
    metric: str
    query: np.ndarray  # (d,) float32, as searched (normalized for cosine)
    k: int
    ids: np.ndarray  # (k,) int64 (faiss) / uint64 (hnswlib labels)
    distances: np.ndarray  # (k,) float32
    params: dict[str, Any] = field(default_factory=dict)
    transform: str = ""
    """A faiss pre-transform the query went through first ("PCA 32→16, then IVF32,Flat"):
    ``query`` is then the transformed query the index searched, ``input_query`` the one
    given; ``""`` and ``None`` without one."""
    input_query: np.ndarray | None = None  # (d_in,) float32 the query as given

    @property
    def steps(self) -> tuple[Any, ...]:
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class IVFTrace(SearchTrace):
    """``coarse_graph``: with an HNSW coarse quantizer (faiss ``IVF…_HNSW…``), its search
    for the ``nprobe`` nearest centroids (node ids = list numbers); the coarse step's
    ``centroid_distances`` then hold every centroid's distance for display, while the probed
    lists are the graph's results, in its order."""

    coarse: CoarseStep | None = None
    fine: FineStep | None = None
    coarse_graph: HNSWTrace | None = None

    @property
    def steps(self) -> tuple[CoarseStep, FineStep]:
        assert self.coarse is not None and self.fine is not None
        return (self.coarse, self.fine)

    def __repr__(self) -> str:
        nprobe = self.params.get("nprobe")
        return (f"IVFTrace(k={self.k}, nprobe={nprobe}, ids={self.ids.tolist()}, "
                f"candidates={0 if self.fine is None else self.fine.candidate_ids.size})")


@dataclass(frozen=True, eq=False)
class FlatTrace(SearchTrace):
    """A flat (exhaustive) search: one scan step."""

    scan: ScanStep | None = None

    @property
    def steps(self) -> tuple[ScanStep]:
        assert self.scan is not None
        return (self.scan,)

    def __repr__(self) -> str:
        scanned = 0 if self.scan is None else self.scan.scanned
        return f"FlatTrace(k={self.k}, ids={self.ids.tolist()}, scanned={scanned})"


@dataclass(frozen=True, eq=False)
class HNSWTrace(SearchTrace):
    """``larger_is_closer``: the level distances are similarities (faiss HNSW with inner
    product reports the inner product itself); hnswlib's distances never are."""

    levels: tuple[GreedyLevel | BeamLevel, ...] = ()  # top level first, level 0 last
    result_internal: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    larger_is_closer: bool = False

    @property
    def steps(self) -> tuple[GreedyLevel | BeamLevel, ...]:
        return self.levels

    def __repr__(self) -> str:
        visited = sum(int(lv.visited.size) for lv in self.levels)
        return (f"HNSWTrace(k={self.k}, ef={self.params.get('ef')}, ids={self.ids.tolist()}, "
                f"levels={len(self.levels)}, visited={visited})")
