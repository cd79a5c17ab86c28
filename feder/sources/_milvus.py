"""Milvus sources: Milvus Lite (a ``.db`` folder, embedded) or a Milvus server URI.

Milvus Lite 3.x writes one faiss index file per segment
(``collections/<name>/partitions/<p>/indexes/<stem>.<field>.<type>.idx``) whose row order is
the segment's parquet file (``data/<stem>.parquet``): feder reads that file with its own faiss
parser and replays Milvus Lite's search exactly. Traps handled here: pymilvus 3 sends index
and search params flat while milvus-lite reads only the nested ``{"params": {...}}``; an index
declared at ``create_collection`` is only built at ``create_index`` / ``load_collection``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .base import BaseSource, EngineTimeoutError, IndexNotBuiltError, SourceError, require

METRICS = {"L2": "l2", "IP": "ip", "COSINE": "cosine"}
PARAM_OF = {"IVF_FLAT": "nprobe", "IVF_SQ8": "nprobe", "IVF_PQ": "nprobe", "HNSW": "ef",
            "HNSW_SQ": "ef", "AUTOINDEX": "ef"}
DEFAULTS = {"nprobe": 10, "ef": 64}
"""milvus-lite's own defaults when a search sends none."""
PAGE = 4096


class MilvusSource(BaseSource):
    """A Milvus collection (see :func:`feder.sources.milvus`)."""

    engine = "milvus"
    distance_note = "L2: squared L2; IP: inner product; COSINE: cosine similarity"

    def __init__(self, uri: str | os.PathLike[str], collection: str, vector_field: str | None,
                 media_field: str | None = None, token: str | None = None,
                 timeout: float = 10.0, **kwargs: Any):
        pymilvus = require("pymilvus", "milvus", "Milvus")
        uri = os.fspath(uri)
        self.uri = uri
        self.local = not uri.startswith(("http://", "https://", "tcp://", "unix:", "grpc://"))
        if self.local:
            path = Path(uri)
            if not path.exists():
                raise SourceError(f"no Milvus Lite database at {uri!r} (a folder written by "
                                  f"MilvusClient({uri!r}))")
            uri = str(path.resolve())
        self.timeout = float(timeout)
        try:
            self.client = pymilvus.MilvusClient(uri=uri, token=token or "", timeout=timeout)
        except Exception as exc:
            if _unreachable(exc):
                raise EngineTimeoutError(
                    f"the Milvus server at {uri!r} did not answer within {timeout:g} s "
                    f"({_short(exc)}); check the URI and that the server runs") from None
            raise SourceError(f"cannot open Milvus at {uri!r}: {_short(exc)}") from None
        names = self._call(self.client.list_collections)
        if collection not in names:
            raise SourceError(f"Milvus has no collection {collection!r}; it holds "
                              f"{', '.join(map(repr, names)) or 'none'}")
        self.collection = collection
        desc = self._call(self.client.describe_collection, collection)
        fields = {f["name"]: f for f in desc["fields"]}
        self.pk_field = next(f["name"] for f in desc["fields"] if f.get("is_primary"))
        float_vector = pymilvus.DataType.FLOAT_VECTOR
        vectors = [name for name, f in fields.items()
                   if f["type"] == float_vector or f["type"] == int(float_vector)]
        if vector_field is None:
            if len(vectors) != 1:
                raise SourceError(f"collection {collection!r} has vector fields {vectors}: "
                                  "say which one with vector_field=")
            vector_field = vectors[0]
        if vector_field not in fields:
            raise SourceError(f"collection {collection!r} has no field {vector_field!r}; its "
                              f"fields: {', '.join(fields)}")
        if vector_field not in vectors:
            raise SourceError(f"field {vector_field!r} of {collection!r} is not a float vector "
                              f"field (its type is {fields[vector_field]['type']})")
        if media_field is not None and media_field not in fields:
            raise SourceError(f"collection {collection!r} has no field {media_field!r} for "
                              f"media; its fields: {', '.join(fields)}")
        self.vector_field = vector_field
        dim = int(fields[vector_field]["params"]["dim"])
        self.index = self._index_description()
        metric = METRICS.get(str(self.index.get("metric_type", "L2")).upper(), "l2")
        super().__init__(collection, dim, metric, media_field=media_field, **kwargs)
        self.index_type = str(self.index.get("index_type", "")).upper()
        self.param_name = PARAM_OF.get(self.index_type)
        self._ensure_loaded()
        self._segment_rows: np.ndarray | None = None

    # -- engine calls ---------------------------------------------------------------------
    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, timeout=self.timeout, **kwargs)
        except Exception as exc:
            if _unreachable(exc) or "timeout" in type(exc).__name__.lower() or \
                    "deadline" in str(exc).lower():
                raise EngineTimeoutError(f"Milvus at {self.uri!r} did not answer within "
                                         f"{self.timeout:g} s ({_short(exc)})") from None
            raise SourceError(f"Milvus refused {getattr(fn, '__name__', 'the call')}: "
                              f"{_short(exc)}") from None

    def _index_description(self) -> dict[str, Any]:
        names = self._call(self.client.list_indexes, self.collection)
        for name in names:
            desc = self._call(self.client.describe_index, self.collection, name)
            if desc.get("field_name") == self.vector_field:
                return dict(desc)
        raise IndexNotBuiltError(
            f"field {self.vector_field!r} of {self.collection!r} has no index: build one with "
            "index_params = client.prepare_index_params(); index_params.add_index("
            f"field_name={self.vector_field!r}, index_type='IVF_FLAT', metric_type='L2', "
            "params={'params': {'nlist': 128}}); client.create_index(collection, "
            "index_params); client.load_collection(collection) — nested 'params': milvus-lite "
            "ignores flat ones")

    def _ensure_loaded(self) -> None:
        state = str(self._call(self.client.get_load_state, self.collection).get("state", ""))
        if "NotLoad" in state:
            self._call(self.client.load_collection, self.collection)

    def _count(self) -> int:
        stats = self._call(self.client.get_collection_stats, self.collection)
        return int(stats.get("row_count", 0))

    def _pages(self) -> Iterator[tuple[list[Any], np.ndarray, list[Any] | None]]:
        fields = [self.pk_field, self.vector_field] + ([self.media_field] if self.media_field
                                                      else [])
        try:
            it = self.client.query_iterator(self.collection, batch_size=PAGE,
                                            output_fields=fields, timeout=self.timeout)
        except Exception as exc:
            raise SourceError(f"Milvus refused to list {self.collection!r}: {_short(exc)}") \
                from None
        try:
            while True:
                batch = it.next()
                if not batch:
                    break
                ids = [row[self.pk_field] for row in batch]
                vecs = np.asarray([row[self.vector_field] for row in batch], np.float32)
                media = [row.get(self.media_field) for row in batch] if self.media_field \
                    else None
                yield ids, vecs.reshape(len(ids), -1), media
        finally:
            it.close()

    def effective_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters milvus-lite searches with (its defaults filled in)."""
        if self.param_name is None:
            return {}
        return {self.param_name: int(params.get(self.param_name,
                                                DEFAULTS[self.param_name]))}

    def _search(self, queries: np.ndarray, k: int, params: dict[str, Any],
                ) -> list[tuple[list[Any], np.ndarray]]:
        search_params = {"params": self.effective_params(params)}  # nested: see module doc
        hits = self._call(self.client.search, self.collection, data=queries.tolist(),
                          limit=k, anns_field=self.vector_field, search_params=search_params,
                          output_fields=[self.pk_field])
        out = []
        for row in hits:
            ids = [h.get(self.pk_field, h.get("id")) for h in row]
            out.append((ids, np.asarray([h["distance"] for h in row], np.float32)))
        return out

    def engine_distance(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, np.float32)
        return keys if self.metric == "l2" else -keys

    def _info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"collection": self.collection, "uri": self.uri,
                               "vector_field": self.vector_field,
                               "index_type": self.index.get("index_type"),
                               "metric_type": self.index.get("metric_type"),
                               "index_params": self.index.get("params", {}),
                               "indexed_rows": self.index.get("indexed_rows"),
                               "search_param": self.param_name}
        segments = self._segments()
        if segments is not None:
            out["segments"] = [{"data": str(d), "index": str(i) if i else None, "rows": n}
                               for d, i, n in segments]
        model = self.model()
        out["model"] = model.kind if model is not None else None
        out["model_reason"] = self.model_reason
        return out

    # -- Milvus Lite segment files ----------------------------------------------------------
    def _collection_dir(self) -> Path | None:
        if not self.local:
            return None
        folder = Path(self.uri).resolve() / "collections" / self.collection
        return folder if (folder / "manifest.json").is_file() else None

    def _segments(self) -> list[tuple[Path, Path | None, int]] | None:
        """``(parquet, index file or None, rows)`` per segment, from the manifest."""
        folder = self._collection_dir()
        if folder is None:
            return None
        manifest = json.loads((folder / "manifest.json").read_text())
        spec = manifest.get("index_specs", {}).get(self.vector_field, {})
        index_type = str(spec.get("index_type", "")).lower()
        out = []
        for partition, files in manifest.get("partitions", {}).items():
            root = folder / "partitions" / partition
            for data in files.get("data_files", []):
                path = root / data
                idx = root / "indexes" / f"{path.stem}.{self.vector_field}.{index_type}.idx"
                out.append((path, idx if idx.is_file() else None, _parquet_rows(path)))
        return out

    def _has_deletes(self) -> bool:
        folder = self._collection_dir()
        if folder is None:
            return False
        manifest = json.loads((folder / "manifest.json").read_text())
        return any(files.get("delta_files") for files in manifest.get("partitions", {}).values())

    def _model(self) -> Any:
        if not self.local:
            self.model_reason = ("a Milvus server keeps its index files on the server: feder "
                                 "shows its answers against exact truth")
            return None
        segments = self._segments()
        if segments is None:
            self.model_reason = "no Milvus Lite collection folder with a manifest.json"
            return None
        if self.index_type not in ("IVF_FLAT", "IVF_SQ8", "HNSW", "HNSW_SQ"):
            self.model_reason = ("feder replays IVF_FLAT / IVF_SQ8 / HNSW / HNSW_SQ, not "
                                 f"{self.index_type}")
            return None
        count = self._count()
        if len(segments) != 1:
            self.model_reason = (f"{len(segments)} segments, each with its own index: the views "
                                 "read a collection held in one; explain and sweep replay every "
                                 "segment and merge as milvus-lite does")
            return None
        data, idx, rows = segments[0]
        if idx is None:
            self.model_reason = (f"segment {data.name} has no index file yet: call "
                                 "client.load_collection(collection) (milvus-lite builds "
                                 "segment indexes there)")
            return None
        if rows != count:
            self.model_reason = (f"{count - rows} rows are not in an indexed segment yet "
                                 "(milvus-lite scans them; explain and sweep replay that too): "
                                 "for the views call client.flush(collection) then "
                                 "client.load_collection(collection)")
            return None
        if self._has_deletes():
            self.model_reason = "the collection has deletions (delta files): not replayed"
            return None
        from ..parsers import read_index

        model = read_index(str(idx))
        if model.ntotal != rows or model.dim != self.dim:
            self.model_reason = (f"index file {idx.name} holds {model.ntotal}×{model.dim}, the "
                                 f"segment {rows}×{self.dim}")
            return None
        pq = require("pyarrow.parquet", "milvus", "Milvus")
        pks = pq.read_table(str(data), columns=[self.pk_field]).column(self.pk_field)
        self._segment_pks = pks.to_pylist()
        self.model_reason = ""
        return model

    def replay(self, query: np.ndarray, k: int, params: dict[str, Any],
               ) -> tuple[Any, np.ndarray] | None:
        """One segment: the replay of its index. Several segments (and rows not flushed
        yet): as milvus-lite searches — each segment's index searched alone (rows superseded
        or deleted skipped, as its IDSelector does; IVF only), the unflushed rows by brute
        force, candidates merged on (Milvus distance, segment, row in segment)."""
        if self.model() is not None:
            return super().replay(query, k, params)
        segments = self._segment_models()
        if segments is None:
            return None
        from .. import trace as tracing
        from ..trace.ivf import best_positions
        from ..trace.types import IVFTrace
        from .truth import exact_rows

        q = np.asarray(query, np.float32).reshape(-1)
        if self.metric == "cosine":  # milvus-lite normalizes the query for COSINE
            norm = float(np.linalg.norm(q))
            q = q / (norm if norm else 1.0)
        candidates: list[tuple[float, int, int, int]] = []
        covered = np.zeros(self.ids.shape[0], bool)
        for si, (model, rows, valid) in enumerate(segments):
            covered[rows[valid & (rows >= 0)]] = True
            result = tracing.search(model, q, k, **params)
            ids, dists = result.ids, result.distances
            if not valid.all():  # faiss skips excluded ids while it scans (IVF only)
                assert isinstance(result, IVFTrace) and result.fine is not None
                fine = result.fine
                keep = valid[fine.candidate_ids]
                ids, dists = fine.candidate_ids[keep], fine.candidate_distances[keep]
                at = best_positions(dists, k, model.metric == "ip", ids)
                ids, dists = ids[at], dists[at]
            for lid, d in zip(ids.tolist(), dists.tolist(), strict=True):
                if lid >= 0 and abs(d) < 1e30:
                    candidates.append((self._milvus_distance(d), si, lid, int(rows[lid])))
        loose = np.flatnonzero(~covered)  # rows in no segment: milvus-lite's memtable
        if loose.size:
            found, keys = exact_rows(self.vectors[loose], q[None], k, self.metric)
            for j, (r, key) in enumerate(zip(found[0].tolist(), keys[0].tolist(),
                                             strict=True)):
                if r >= 0:
                    d = float(np.sqrt(max(key, 0.0))) if self.metric == "l2" else \
                        key if self.metric == "ip" else 1.0 + key
                    candidates.append((d, len(segments), j, int(loose[r])))
        candidates.sort(key=lambda c: (c[0], c[1], c[2]))
        return None, np.asarray([c[3] for c in candidates[:k]], np.int64)

    def _milvus_distance(self, d: float) -> float:
        if self.metric == "l2":
            return float(np.sqrt(max(float(d), 0.0)))
        return -float(d) if self.metric == "ip" else 1.0 - float(d)

    def _segment_models(self) -> list[tuple[Any, np.ndarray, np.ndarray]] | None:
        """Per segment: ``(model, source row of each segment row, row is live)``, or
        ``None`` (then :attr:`model_reason` says why)."""
        cached = getattr(self, "_segment_cache", None)
        if cached is not None:
            return cached if cached else None
        self._segment_cache: list[tuple[Any, np.ndarray, np.ndarray]] = []
        segments = self._segments()
        if segments is None or self.index_type not in ("IVF_FLAT", "IVF_SQ8", "HNSW",
                                                       "HNSW_SQ"):
            return None
        if any(idx is None for _, idx, _ in segments):
            self.model_reason += "; a segment has no index file yet (load_collection builds it)"
            return None
        from ..parsers import read_index

        pq = require("pyarrow.parquet", "milvus", "Milvus")
        tables = [pq.read_table(str(data), columns=[self.pk_field, "_seq", self.vector_field])
                  for data, _, _ in segments]
        latest: dict[Any, int] = {}
        for table in tables:
            for pk, seq in zip(table.column(self.pk_field).to_pylist(),
                               table.column("_seq").to_pylist(), strict=True):
                if seq > latest.get(pk, -1):
                    latest[pk] = seq
        out = []
        for (_, idx, n), table in zip(segments, tables, strict=True):
            pks = table.column(self.pk_field).to_pylist()
            seqs = table.column("_seq").to_pylist()
            rows = self.rows_of(pks)
            column = table.column(self.vector_field).combine_chunks()
            stored = np.asarray(column.values.to_numpy(zero_copy_only=False),
                                np.float32).reshape(len(pks), -1)
            # Live and current: the newest version of its key in the segments, and the
            # vector the engine returns now (an upsert not flushed yet supersedes it).
            valid = np.asarray([latest[p] == s for p, s in zip(pks, seqs, strict=True)]) & \
                (rows >= 0)
            valid[valid] = (stored[valid] == self.vectors[rows[valid]]).all(axis=1)
            model = read_index(str(idx))
            if model.ntotal != n or (not valid.all() and not model.kind.startswith("ivf")):
                self.model_reason += ("; superseded or deleted rows in an HNSW segment: faiss "
                                      "skips them inside its graph search, not replayed")
                return None
            out.append((model, rows, valid))
        self._segment_cache = out
        return out

    def segment_rows(self) -> np.ndarray:
        """``(n,) int64`` source row of each segment row (= faiss id in the index file)."""
        if self._segment_rows is None:
            self.model()
            self._segment_rows = self.rows_of(self._segment_pks)
        return self._segment_rows

    def model_rows(self, model_ids: Any) -> np.ndarray:
        ids = np.asarray(model_ids, np.int64)
        seg = self.segment_rows()
        out = np.full(ids.shape, -1, np.int64)
        ok = (ids >= 0) & (ids < seg.shape[0])
        out[ok] = seg[ids[ok]]
        return out

    def model_id_of(self, ident: Any) -> int:
        row = self.row_of(ident)
        seg = self.segment_rows()
        where = np.flatnonzero(seg == row)
        if where.size == 0:
            raise SourceError(f"id {ident!r} is not in the indexed segment")
        return int(where[0])


def milvus(uri: str | os.PathLike[str], collection: str, vector_field: str | None = None,
           media_field: str | None = None, token: str | None = None, timeout: float = 10.0,
           **kwargs: Any) -> MilvusSource:
    """A Milvus collection: ``uri`` a Milvus Lite ``.db`` folder (its segment index files
    are read, so searches replay exactly) or a server URI (``http://host:19530``, with
    ``token``). ``vector_field`` may be omitted when the collection has one vector field;
    ``media_field`` holds the image path/URL (or text) of each entity. ``timeout`` (s) bounds
    every call; an unreachable server raises :class:`~feder.sources.EngineTimeoutError`."""
    return MilvusSource(uri, collection, vector_field, media_field, token, timeout, **kwargs)


def _parquet_rows(path: Path) -> int:
    pq = require("pyarrow.parquet", "milvus", "Milvus")
    return int(pq.ParquetFile(str(path)).metadata.num_rows)


def _unreachable(exc: BaseException) -> bool:
    text = str(exc)
    return "Fail connecting" in text or "server unavailable" in text or \
        "UNAVAILABLE" in text or "DEADLINE_EXCEEDED" in text


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300]
