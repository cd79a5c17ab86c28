"""LanceDB sources (``lancedb`` + ``pylance``): a table's vectors, its IVF index's own
statistics (partitions as built, centroids) and its answers at each ``nprobe``.

LanceDB's index files are not read by feder: searches are the engine's own, checked against
exact truth; views use a local model of the data labelled as such.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .base import BaseSource, IndexNotBuiltError, SourceError, require

PAGE = 8192
DEFAULT_NPROBES = 20
"""LanceDB's nprobes when a query sets none."""
METRICS = {"l2": "l2", "euclidean": "l2", "cosine": "cosine", "dot": "ip"}


class LanceSource(BaseSource):
    """A LanceDB table (see :func:`feder.sources.lancedb`)."""

    engine = "lancedb"
    distance_note = "l2: squared L2; cosine: 1 − cos; dot: 1 − dot"

    def __init__(self, path: str | os.PathLike[str], table: str, vector_field: str | None,
                 id_field: str | None, media_field: str | None, **kwargs: Any):
        lancedb = require("lancedb", "lancedb", "LanceDB")
        require("lance", "lancedb", "LanceDB")
        self.path = os.fspath(path)
        if not Path(self.path).exists():
            raise SourceError(f"no LanceDB database at {self.path!r}")
        db = lancedb.connect(self.path)
        names = list(_table_names(db))
        if table not in names:
            raise SourceError(f"LanceDB at {self.path!r} has no table {table!r}; it holds "
                              f"{', '.join(map(repr, names)) or 'none'}")
        self.table = db.open_table(table)
        schema = self.table.schema
        fields = {f.name: f for f in schema}
        vectors = [f.name for f in schema if _is_vector(f.type)]
        if vector_field is None:
            if len(vectors) != 1:
                raise SourceError(f"table {table!r} has vector columns {vectors}: say which one "
                                  "with vector_field=")
            vector_field = vectors[0]
        if vector_field not in fields:
            raise SourceError(f"table {table!r} has no column {vector_field!r}; its columns: "
                              f"{', '.join(fields)}")
        if vector_field not in vectors:
            raise SourceError(f"column {vector_field!r} of {table!r} is not a fixed-size float "
                              f"vector column ({fields[vector_field].type})")
        for name, what in ((id_field, "id_field"), (media_field, "media_field")):
            if name is not None and name not in fields:
                raise SourceError(f"table {table!r} has no column {name!r} ({what}); its "
                                  f"columns: {', '.join(fields)}")
        if id_field is None and "id" in fields:
            id_field = "id"
        self.vector_field = vector_field
        self.id_field = id_field
        dim = int(fields[vector_field].type.list_size)
        self.index_config = self._vector_index()
        if self.index_config is None:
            raise IndexNotBuiltError(
                f"column {vector_field!r} of LanceDB table {table!r} has no vector index (every "
                "search is a flat scan): build one with table.create_index(vector_column_name="
                f"{vector_field!r}, index_type='IVF_FLAT', metric='l2', num_partitions=256)")
        self.stats = self._stats()
        metric = METRICS.get(str(self.stats.get("metric_type", "l2")).lower(), "l2")
        super().__init__(table, dim, metric, media_field=media_field, **kwargs)
        kind = str(self.stats.get("index_type", "")).upper()
        self.index_type = kind
        self.param_name = "nprobe" if kind.startswith("IVF") else "ef"

    def _vector_index(self) -> Any:
        for cfg in self.table.list_indices():
            if list(getattr(cfg, "columns", [])) == [self.vector_field] and \
                    str(getattr(cfg, "index_type", "")).upper().startswith(("IVF", "HNSW")):
                return cfg
        return None

    def _stats(self) -> dict[str, Any]:
        os.environ.setdefault("LANCE_INCLUDE_VECTOR_CENTROIDS", "true")
        raw = self.table.to_lance().stats.index_stats(self.index_config.name)
        first = (raw.get("indices") or [{}])[0]
        out = {"index_type": raw.get("index_type"), "name": raw.get("name"),
               "num_indexed_rows": raw.get("num_indexed_rows"),
               "num_unindexed_rows": raw.get("num_unindexed_rows"),
               "metric_type": first.get("metric_type"),
               "num_partitions": first.get("num_partitions"),
               "partition_sizes": [int(p.get("size", 0)) for p in first.get("partitions", [])],
               "sub_index": first.get("sub_index"),
               "segments": [{"uuid": i.get("uuid")} for i in raw.get("indices") or []]}
        centroids = first.get("centroids")
        if centroids is not None:
            self.centroids = np.asarray(centroids, np.float32)
        return out

    def _count(self) -> int:
        return int(self.table.count_rows())

    def _pages(self) -> Iterator[tuple[list[Any], np.ndarray, list[Any] | None]]:
        columns = [self.vector_field] + [c for c in (self.id_field, self.media_field) if c]
        scanner = self.table.to_lance().scanner(columns=columns, batch_size=PAGE,
                                                with_row_id=True)
        self._rowid_pages: list[np.ndarray] = []
        for batch in scanner.to_batches():
            if batch.num_rows == 0:
                continue
            self._rowid_pages.append(np.asarray(batch.column("_rowid").to_numpy(), np.int64))
            column = batch.column(self.vector_field)
            flat = np.asarray(column.values.to_numpy(zero_copy_only=False), np.float32)
            vecs = flat.reshape(batch.num_rows, -1)
            ids = batch.column(self.id_field or "_rowid").to_pylist()
            media = batch.column(self.media_field).to_pylist() if self.media_field else None
            yield ids, vecs, media

    def _search(self, queries: np.ndarray, k: int, params: dict[str, Any],
                ) -> list[tuple[list[Any], np.ndarray]]:
        out = []
        for q in queries:
            query = self.table.search(q, vector_column_name=self.vector_field).limit(k)
            if "nprobe" in params:
                query = query.nprobes(int(params["nprobe"]))
            if "ef" in params:
                query = query.ef(int(params["ef"]))
            if self.id_field is None:
                query = query.with_row_id(True)
            result = query.select([self.id_field] if self.id_field else []).to_arrow()
            ids = result.column(self.id_field or "_rowid").to_pylist()
            out.append((ids, np.asarray(result.column("_distance").to_numpy(), np.float32)))
        return out

    def effective_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters LanceDB searches with (``nprobes`` 20 unless given)."""
        return {self.param_name: int(params.get(self.param_name, DEFAULT_NPROBES))} \
            if self.param_name == "nprobe" else dict(params)

    def _model(self) -> Any:
        """IVF_FLAT: the partitions as LanceDB stores them (``auxiliary.idx``: row ids and
        vectors in partition order, the sizes and centroids from its index statistics) — its
        search replays exactly. Other index types are not read."""
        self.model_reason = ("LanceDB's index files are not read by feder for "
                             f"{self.index_type or 'this index'}: its answers are checked "
                             "against exact truth")
        stats = self.stats
        if self.index_type != "IVF_FLAT" or self.metric != "l2":
            return None
        if stats.get("num_unindexed_rows") or len(self.index_dirs()) != 1 or \
                getattr(self, "centroids", None) is None:
            self.model_reason = ("LanceDB has rows outside its index or several index "
                                 "segments (optimize the table): its answers are checked "
                                 "against exact truth")
            return None
        from lance.file import LanceFileReader

        from ..model import IVFFlatIndex

        aux = self.index_dirs()[0] / "auxiliary.idx"
        table = LanceFileReader(str(aux)).read_all().to_table()
        rowids = np.asarray(table.column("_rowid").to_numpy(), np.int64)
        column = table.column("flat").combine_chunks()
        flat = np.asarray(column.values.to_numpy(zero_copy_only=False), np.float32)
        sizes = np.asarray(stats["partition_sizes"], np.int64)
        if int(sizes.sum()) != rowids.size or flat.size != rowids.size * self.dim or \
                rowids.size != self.ntotal:
            self.model_reason = (f"LanceDB's partitions hold {rowids.size} rows, the table "
                                 f"{self.ntotal}: its answers are checked against exact truth")
            return None
        flat = flat.reshape(-1, self.dim)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        bounds = list(zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True))
        self.model_reason = ""
        return IVFFlatIndex(
            dim=self.dim, metric="l2", metric_type=1, metric_arg=0.0, ntotal=int(rowids.size),
            nprobe=DEFAULT_NPROBES, centroids=np.asarray(self.centroids, np.float32),
            list_offsets=offsets, direct_map_type=0, source=f"LanceDB index {aux.parent}",
            _codes=[flat[a:b] for a, b in bounds], _ids=[rowids[a:b] for a, b in bounds])

    def index_dirs(self) -> list[Path]:
        """The folders of the vector index's segments."""
        uuids = [seg.get("uuid") for seg in self.stats.get("segments", []) or []]
        root = Path(self.table.to_lance().uri) / "_indices"
        return [root / str(u) for u in uuids if u and (root / str(u)).is_dir()]

    def _rowid_rows(self) -> dict[int, int]:
        if getattr(self, "_rowid_map", None) is None:
            _ = self.ids  # pulled: row ids recorded page by page
            rowids = np.concatenate(self._rowid_pages) if self._rowid_pages else \
                np.empty(0, np.int64)
            self._rowid_map = {int(r): i for i, r in enumerate(rowids.tolist())}
        return self._rowid_map

    def model_rows(self, model_ids: Any) -> np.ndarray:
        table = self._rowid_rows()
        return np.asarray([table.get(int(i), -1) for i in np.asarray(model_ids).tolist()],
                          np.int64)

    def model_id_of(self, ident: Any) -> int:
        row = self.row_of(ident)
        for rowid, at in self._rowid_rows().items():
            if at == row:
                return rowid
        raise SourceError(f"id {ident!r} has no LanceDB row id")

    def engine_distance(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, np.float32)
        return keys if self.metric == "l2" else np.float32(1.0) + keys

    def _info(self) -> dict[str, Any]:
        return {"path": self.path, "table": self.name, "vector_field": self.vector_field,
                "index_type": self.index_type,
                "model": self.model().kind if self.model() is not None else None,
                "index": dict(self.stats), "search_param": self.param_name,
                "model_reason": self.model_reason}


def lancedb(path: str | os.PathLike[str], table: str, vector_field: str | None = None,
            id_field: str | None = None, media_field: str | None = None,
            **kwargs: Any) -> LanceSource:
    """A LanceDB table at ``path`` (a local database folder). ``vector_field`` may be omitted
    when the table has one vector column; ``id_field`` defaults to a column named ``id``, else
    LanceDB's row ids; ``media_field`` holds image paths/URLs or texts."""
    return LanceSource(path, table, vector_field, id_field, media_field, **kwargs)


def _table_names(db: Any) -> list[str]:
    listing = db.list_tables() if hasattr(db, "list_tables") else db.table_names()
    names = getattr(listing, "tables", listing)
    return [str(n) for n in names]


def _is_vector(kind: Any) -> bool:
    pa = require("pyarrow", "lancedb", "LanceDB")
    return bool(pa.types.is_fixed_size_list(kind) and pa.types.is_floating(kind.value_type))
