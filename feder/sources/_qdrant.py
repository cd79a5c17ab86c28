"""Qdrant sources through Qdrant Edge (``qdrant-edge-py``), the real engine embedded: HNSW
after ``optimize()``, ``hnsw_ef`` honoured. Its segment files are not read by feder: searches
are the engine's own, checked against exact truth."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .base import BaseSource, IndexNotBuiltError, SourceError, require

PAGE = 2048
METRICS = {"Euclid": "l2", "Cosine": "cosine", "Dot": "ip"}


class QdrantEdgeSource(BaseSource):
    """A Qdrant Edge shard (see :func:`feder.sources.qdrant_edge`)."""

    engine = "qdrant"
    param_name = "ef"
    distance_note = "Euclid: L2 (not squared); Cosine: cosine similarity; Dot: inner product"

    def __init__(self, path: str | os.PathLike[str], vector_name: str | None,
                 media_field: str | None, shard: Any = None, **kwargs: Any):
        qe = require("qdrant_edge", "qdrant", "Qdrant Edge")
        self.qe = qe
        path = Path(path)
        if not (path / "edge_config.json").is_file():
            raise SourceError(f"no Qdrant Edge shard at {str(path)!r} (expected "
                              "edge_config.json)")
        self.path = path
        if shard is None:
            try:
                self.shard = qe.EdgeShard.load(str(path))
            except Exception as exc:
                raise SourceError(f"cannot open the Qdrant Edge shard at {str(path)!r}: "
                                  f"{' '.join(str(exc).split())[:200]} (is it open elsewhere? "
                                  "pass the EdgeShard object as shard=)") from None
        else:
            self.shard = shard
        config = self._config()
        vectors = config.get("vectors") or {}
        name = "" if vector_name is None else vector_name
        if vector_name is None and len(vectors) == 1:
            name = next(iter(vectors))
        if name not in vectors:
            raise SourceError(f"the shard has no vector {name!r}; its vectors: "
                              f"{', '.join(map(repr, vectors)) or 'none'}")
        self.vector_name = name
        params = vectors[name]
        distance = str(params.get("distance"))
        if distance not in METRICS:
            raise SourceError(f"Qdrant distance {distance} is not supported (Euclid, Cosine, "
                              "Dot are)")
        self.hnsw = dict(config.get("hnsw_config") or {})
        self.config = config
        info = self.shard.info()
        if int(info.indexed_vectors_count) == 0 and int(info.points_count) > 0:
            raise IndexNotBuiltError(
                "the Qdrant Edge shard has no HNSW index yet (every search is a full scan): "
                "call shard.optimize(); small collections also need EdgeOptimizersConfig("
                "indexing_threshold=…) below their size and a low HnswIndexConfig("
                "full_scan_threshold=…)")
        super().__init__(self.path.name, int(params["size"]), METRICS[distance],
                         media_field=media_field, **kwargs)

    def _config(self) -> dict[str, Any]:
        return dict(json.loads((self.path / "edge_config.json").read_text()))

    def _count(self) -> int:
        return int(self.shard.info().points_count)

    def _pages(self) -> Iterator[tuple[list[Any], np.ndarray, list[Any] | None]]:
        qe = self.qe
        offset = None
        while True:
            records, offset = self.shard.scroll(qe.ScrollRequest(
                offset=offset, limit=PAGE, with_vector=True,
                with_payload=bool(self.media_field)))
            if not records:
                break
            ids = [r.id for r in records]
            vecs = np.asarray([_vector(r.vector, self.vector_name) for r in records],
                              np.float32).reshape(len(ids), -1)
            media = [(r.payload or {}).get(self.media_field) for r in records] \
                if self.media_field else None
            yield ids, vecs, media
            if offset is None:
                break

    def _search(self, queries: np.ndarray, k: int, params: dict[str, Any],
                ) -> list[tuple[list[Any], np.ndarray]]:
        qe = self.qe
        search = qe.SearchParams(hnsw_ef=int(params["ef"])) if "ef" in params else None
        out = []
        for q in queries:
            found = self.shard.query(qe.QueryRequest(
                limit=k, query=qe.Query.Nearest(q.tolist(), using=self.vector_name or None),
                params=search))
            out.append(([p.id for p in found], np.asarray([p.score for p in found], np.float32)))
        return out

    def engine_distance(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, np.float32)
        return np.sqrt(np.maximum(keys, 0)) if self.metric == "l2" else -keys

    def _info(self) -> dict[str, Any]:
        info = self.shard.info()
        return {"path": str(self.path), "vector": self.vector_name,
                "index_type": "HNSW", "hnsw_config": self.hnsw,
                "points": int(info.points_count), "indexed": int(info.indexed_vectors_count),
                "segments": int(info.segments_count), "search_param": "ef (hnsw_ef)",
                "model": self.model(),
                "model_reason": self.model_reason}


def qdrant_edge(path: str | os.PathLike[str], vector_name: str | None = None,
                media_field: str | None = None, shard: Any = None,
                **kwargs: Any) -> QdrantEdgeSource:
    """A Qdrant Edge shard folder (``EdgeShard.create``/``load``). A folder already open in
    an ``EdgeShard`` of this process is locked: pass that object as ``shard=``.
    ``vector_name``: the named vector (default the only one); ``media_field``: the payload
    key holding image paths/URLs or texts."""
    return QdrantEdgeSource(path, vector_name, media_field, shard, **kwargs)


def _vector(vector: Any, name: str) -> Any:
    if isinstance(vector, dict):
        return vector[name]
    return vector
