"""Chroma sources: a live ``chromadb`` Collection, or a persist directory.

chroma 1.5 persists each collection's HNSW segment as a folder ``<persist>/<segment-uuid>/``:
``header.bin`` (an i32 persistence version, then hnswlib's 96-byte header),
``data_level0.bin`` (hnswlib's level-0 records; capacity ≥ count), ``link_lists.bin``
(hnswlib's upper levels) and ``index_metadata.pickle`` (label → chroma id). Joined, the first
three are an hnswlib file that feder's parser reads, so chroma's search replays exactly.
chroma writes the folder every ``sync_threshold`` adds: a folder behind the collection is
refused with the reason in :attr:`~feder.sources.base.BaseSource.model_reason`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..parsers.chroma import chroma_ids
from ..parsers.chroma import read_segment as read_chroma_segment
from .base import BaseSource, SourceError, require

PAGE = 2048


class ChromaSource(BaseSource):
    """A chroma collection (see :func:`feder.sources.chroma`)."""

    engine = "chroma"
    param_name = "ef"
    distance_note = "l2: squared L2; ip: 1 − dot; cosine: 1 − cos"

    def __init__(self, collection: Any, persist_directory: str | None,
                 media_field: str | None = None, **kwargs: Any):
        self.collection = collection
        self.persist_directory = persist_directory
        config = dict(getattr(collection, "configuration_json", None) or {})
        hnsw = dict(config.get("hnsw") or {})
        meta = dict(collection.metadata or {})
        space = str(hnsw.get("space") or meta.get("hnsw:space") or "l2")
        self.hnsw = hnsw
        self.ef_search = int(hnsw.get("ef_search") or meta.get("hnsw:search_ef") or 10)
        dim = self._dimension()
        super().__init__(str(collection.name), dim, space, media_field=media_field, **kwargs)
        self._labels: np.ndarray | None = None

    def _dimension(self) -> int:
        got = self.collection.get(limit=1, include=["embeddings"])
        emb = got.get("embeddings")
        if emb is None or len(emb) == 0:
            raise SourceError(f"chroma collection {self.collection.name!r} is empty: nothing to "
                              "diagnose")
        return int(np.asarray(emb[0]).shape[0])

    def _count(self) -> int:
        return int(self.collection.count())

    def _pages(self) -> Iterator[tuple[list[Any], np.ndarray, list[Any] | None]]:
        include = ["embeddings"] + (["metadatas"] if self.media_field else [])
        at = 0
        while True:
            got = self.collection.get(limit=PAGE, offset=at, include=include)
            ids = list(got["ids"])
            if not ids:
                break
            vecs = np.asarray(got["embeddings"], np.float32).reshape(len(ids), -1)
            media = None
            if self.media_field:
                media = [(m or {}).get(self.media_field) for m in got["metadatas"]]
            yield ids, vecs, media
            at += len(ids)

    def search_params(self, params: dict[str, Any]) -> dict[str, Any]:
        out = super().search_params(params)
        ef = out.get("ef", self.ef_search)
        if ef != self.ef_search:
            from ..errors import ParameterError

            raise ParameterError(
                f"chroma searches {self.name!r} with ef_search = {self.ef_search}, set when its "
                f"index is opened; ef = {ef} cannot be sent with a query. Change it with "
                f"collection.modify(configuration={{'hnsw': {{'ef_search': {ef}}}}}) and open "
                "the collection again (feder's sweep replays other ef values on chroma's own "
                "index files instead)")
        return {"ef": self.ef_search}

    def _search(self, queries: np.ndarray, k: int, params: dict[str, Any],
                ) -> list[tuple[list[Any], np.ndarray]]:
        got = self.collection.query(query_embeddings=queries, n_results=k,
                                    include=["distances"])
        return [(list(ids), np.asarray(d, np.float32))
                for ids, d in zip(got["ids"], got["distances"], strict=True)]

    def engine_distance(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, np.float32)
        return keys if self.metric == "l2" else np.float32(1.0) + keys

    def _info(self) -> dict[str, Any]:
        model = self.model()
        return {"collection": self.name, "persist_directory": self.persist_directory,
                "index_type": "HNSW", "hnsw": self.hnsw, "ef_search": self.ef_search,
                "search_param": "ef (fixed per opened index)",
                "segment": str(self._segment_dir()) if self._segment_dir() else None,
                "model": model.kind if model is not None else None,
                "model_reason": self.model_reason}

    def _segment_dir(self) -> Path | None:
        if not self.persist_directory:
            return None
        db = Path(self.persist_directory) / "chroma.sqlite3"
        if not db.is_file():
            return None
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = con.execute("SELECT id FROM segments WHERE scope = 'VECTOR' AND collection = ?",
                              (str(self.collection.id),)).fetchone()
        finally:
            con.close()
        if row is None:
            return None
        folder = Path(self.persist_directory) / str(row[0])
        return folder if folder.is_dir() else None

    def _model(self) -> Any:
        folder = self._segment_dir()
        if folder is None:
            self.model_reason = ("no persisted HNSW segment folder (an in-memory client, or "
                                 "nothing flushed yet)")
            return None
        model, table = read_segment(folder, self.metric)
        count = self._count()
        if model.ntotal != count:
            sync = self.hnsw.get("sync_threshold", 1000)
            self.model_reason = (f"chroma's segment folder holds {model.ntotal} of {count} "
                                 f"vectors (it writes the folder every {sync} adds): replay "
                                 "needs them all")
            return None
        self._label_table = table  # label → chroma id; rows once the vectors are pulled
        self.model_reason = ""
        return model

    def _label_rows(self) -> np.ndarray:
        """``(max label + 1,) int64`` source row of each hnswlib label (−1 unused)."""
        if self._labels is None:
            if self.model() is None:
                raise SourceError(f"chroma's index is not read: {self.model_reason}")
            self._labels = _labels_to_rows(self, self._label_table)
        return self._labels

    def model_rows(self, model_ids: Any) -> np.ndarray:
        ids = np.asarray(model_ids, np.int64)
        table = self._label_rows()
        out = np.full(ids.shape, -1, np.int64)
        ok = (ids >= 0) & (ids < table.shape[0])
        out[ok] = table[ids[ok]]
        return out

    def model_id_of(self, ident: Any) -> int:
        row = self.row_of(ident)
        where = np.flatnonzero(self._label_rows() == row)
        if where.size == 0:
            raise SourceError(f"id {ident!r} is not in chroma's persisted index")
        return int(where[0])


def read_segment(folder: str | os.PathLike[str], space: str) -> tuple[Any, np.ndarray]:
    """Read a chroma HNSW segment folder: ``(HNSWIndex, (m, 2) object [label, chroma id])``
    (the folder itself is read by :mod:`feder.parsers.chroma`)."""
    model = read_chroma_segment(folder, space)
    table = np.asarray(list(chroma_ids(folder).items()), object).reshape(-1, 2)
    return model, table


def chroma(collection_or_path: Any, collection: str | None = None,
           media_field: str | None = None, **kwargs: Any) -> ChromaSource:
    """A chroma collection: a live ``chromadb`` ``Collection`` (persisted by a
    ``PersistentClient``, so its HNSW segment can be read), or the persist directory and
    the ``collection`` name (optional when it holds one collection). ``media_field``: the
    metadata key holding each item's image path/URL or text."""
    if isinstance(collection_or_path, (str, os.PathLike)):
        chromadb = require("chromadb", "chroma", "chroma")
        path = Path(collection_or_path)
        if not (path / "chroma.sqlite3").is_file():
            raise SourceError(f"no chroma persist directory at {str(path)!r} (expected "
                              "chroma.sqlite3 in it)")
        client = chromadb.PersistentClient(path=str(path))
        names = [getattr(c, "name", c) for c in client.list_collections()]
        if collection is None:
            if len(names) != 1:
                raise SourceError(f"{str(path)!r} holds collections {names}: say which one "
                                  "with collection=")
            collection = str(names[0])
        if collection not in names:
            raise SourceError(f"chroma at {str(path)!r} has no collection {collection!r}; it "
                              f"holds {', '.join(map(repr, names)) or 'none'}")
        col = client.get_collection(collection)
        persist: str | None = str(path)
    else:
        col = collection_or_path
        if not hasattr(col, "query") or not hasattr(col, "get"):
            raise SourceError(f"expected a chromadb Collection or a persist directory, got "
                              f"{type(col).__name__}")
        persist = None
        try:
            persist = col._client.get_settings().persist_directory or None
        except Exception:  # an HTTP client or another implementation: no local files
            persist = None
    src = ChromaSource(col, persist, media_field, **kwargs)
    return src


def _labels_to_rows(src: ChromaSource, table: np.ndarray) -> np.ndarray:
    """``(max label + 1,)`` source rows of a ``(m, 2)`` ``[label, chroma id]`` table."""
    if table.size == 0:
        return np.full(1, -1, np.int64)
    labels = table[:, 0].astype(np.int64)
    out = np.full(int(labels.max()) + 1, -1, np.int64)
    out[labels] = src.rows_of(list(table[:, 1]))
    return out
