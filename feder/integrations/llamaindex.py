"""LlamaIndex's ``FaissVectorStore`` (``llama_index.vector_stores.faiss``).

The vector store holds the faiss index (``client`` / ``_faiss_index``) and nothing else: its
``query`` returns faiss's distances as similarities and ``str(row)`` as ids
(``FaissMapVectorStore``, over an ``IndexIDMap2``, returns node ids through its
``_faiss_id_to_node_id_map``). The ``VectorStoreIndex`` above it maps those ids to node ids
(``index_struct.nodes_dict``) and keeps the nodes, texts included, in its docstore — so a
live ``VectorStoreIndex`` or a persisted storage folder shows node ids and texts, a bare
``FaissVectorStore`` only faiss ids (with one :class:`~feder.FederWarning`).

``storage_context.persist(dir)`` writes (all verified on llama-index-core 0.14 with
llama-index-vector-stores-faiss 0.7):

- ``default__vector_store.json``: despite its name, the faiss index (``faiss.write_index``);
- ``index_store.json``: ``{"index_store/data": {index_id: {"__type__": "vector_store",
  "__data__": "<JSON text with nodes_dict: {str(row): node_id}>"}}}``;
- ``docstore.json``: ``{"docstore/data": {node_id: {"__type__": "1", "__data__": {"text":
  …, …}}}}`` (documents keep their text in ``text_resource.text``);
- ``id_map.json`` (``FaissMapVectorStore`` only): ``faiss_id_to_node_id_map``.

Everything but the faiss file is JSON: it is read as data, nothing is unpickled.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import FederWarning, IndexFormatError, ParameterError
from ..model import IndexModel
from ..parsers import read_index
from . import Documents, StoreIndex, integration_of
from ._files import read_json

ORIGIN = "LlamaIndex"
VECTOR_STORE = "default__vector_store.json"
INDEX_STORE = "index_store.json"
DOCSTORE = "docstore.json"
ID_MAP = "id_map.json"
NO_TEXTS = ("a FaissVectorStore keeps no texts (they are in its VectorStoreIndex's "
            "docstore): pass the VectorStoreIndex, or the folder storage_context.persist "
            "wrote, to see them")


def is_folder(folder: Path) -> bool:
    """Whether ``folder`` is a persisted LlamaIndex storage context with a vector store."""
    return (folder / VECTOR_STORE).is_file() and (folder / INDEX_STORE).is_file()


def folder_files(folder: Path) -> list[Path]:
    """The files :func:`read_folder` reads (those present)."""
    return [folder / name for name in (VECTOR_STORE, INDEX_STORE, DOCSTORE, ID_MAP)
            if (folder / name).exists()]


def read_folder(folder: Path, *, allow_dangerous_deserialization: bool = False) -> StoreIndex:
    """A persisted storage folder: the faiss index from ``default__vector_store.json``, node
    ids from ``index_store.json`` (and ``id_map.json``), texts from ``docstore.json``.
    ``allow_dangerous_deserialization`` is accepted for symmetry: nothing here is a pickle."""
    del allow_dangerous_deserialization
    where = f"LlamaIndex storage folder {folder.name!r}"
    if _head(folder / VECTOR_STORE).lstrip()[:1] == b"{":
        raise IndexFormatError(f"{VECTOR_STORE} is JSON (LlamaIndex's SimpleVectorStore), not "
                               "a faiss index: feder reads the folder of a FaissVectorStore",
                               source=where)
    model = read_index(str(folder / VECTOR_STORE), "faiss")
    vs_ids = _id_map(folder, where)
    nodes_dict = _nodes_dict(read_json(folder / INDEX_STORE, where), model.ntotal, where)
    names = _names(model, vs_ids, nodes_dict)
    texts: dict[int, str] | None = None
    note = ""
    if (folder / DOCSTORE).exists():
        texts = _texts_from_json(read_json(folder / DOCSTORE, where), names)
    else:
        note = f"{DOCSTORE} is missing: no texts"
        warnings.warn(f"{where}: {note}", FederWarning, stacklevel=4)
    return StoreIndex(model, Documents(ORIGIN, names, texts, note))


def read_object(obj: Any) -> StoreIndex:
    """A live ``FaissVectorStore`` (faiss ids only, warned) or a ``VectorStoreIndex`` over
    one (node ids and texts)."""
    if hasattr(obj, "index_struct"):  # VectorStoreIndex
        store = getattr(obj, "vector_store", None)
        if store is None or integration_of(store) is None or not hasattr(store, "client"):
            raise ParameterError(f"this LlamaIndex VectorStoreIndex stores its vectors in a "
                                 f"{type(store).__name__}: feder reads FaissVectorStore")
        model = _model(store)
        nodes_dict = getattr(obj.index_struct, "nodes_dict", None)
        names = _names(model, _live_id_map(store),
                       dict(nodes_dict) if isinstance(nodes_dict, Mapping) else {})
        nodes = getattr(getattr(obj, "docstore", None), "docs", None)
        texts = None
        if isinstance(nodes, Mapping):
            texts = {}
            for ident, node_id in names.items():
                text = _node_text(nodes.get(node_id))
                if text is not None:
                    texts[ident] = text
        return StoreIndex(model, Documents(ORIGIN, names, texts))
    model = _model(obj)
    vs_ids = _live_id_map(obj)
    warnings.warn(f"LlamaIndex {type(obj).__name__}: {NO_TEXTS}", FederWarning, stacklevel=4)
    return StoreIndex(model, Documents(ORIGIN, vs_ids or None, None, NO_TEXTS))


def _model(store: Any) -> IndexModel:
    index = getattr(store, "_faiss_index", None)
    if index is None:
        index = store.client
    if type(index).__module__.split(".")[0] != "faiss":
        raise IndexFormatError(f"this LlamaIndex {type(store).__name__} holds a "
                               f"{type(index).__name__}, expected a faiss.Index")
    return read_index(index)


def _live_id_map(store: Any) -> dict[int, str]:
    """FaissMapVectorStore's faiss id → node id (empty for a FaissVectorStore)."""
    table = getattr(store, "_faiss_id_to_node_id_map", None)
    if not isinstance(table, Mapping):
        return {}
    return {int(k): v for k, v in table.items() if isinstance(v, str)}


def _head(path: Path) -> bytes:
    """The first bytes of ``path`` (a regular file: :func:`is_folder` checked it)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise IndexFormatError(f"cannot read {path.name}: {exc.strerror}") from None
    with open(fd, "rb", closefd=True) as fh:
        return fh.read(16)


def _id_map(folder: Path, where: str) -> dict[int, str]:
    """``id_map.json``'s faiss id → node id (FaissMapVectorStore), or empty."""
    if not (folder / ID_MAP).exists():
        return {}
    table = read_json(folder / ID_MAP, where)
    table = table.get("faiss_id_to_node_id_map") if isinstance(table, dict) else None
    if not isinstance(table, dict):
        raise IndexFormatError(f"{ID_MAP} has no faiss_id_to_node_id_map object",
                               source=where)
    bad = [key for key in table if not str(key).lstrip("-").isdigit()]
    if bad:
        raise IndexFormatError(f"{ID_MAP}: faiss id {bad[0]!r} is not an integer",
                               source=where)
    return {int(key): str(value) for key, value in table.items()}


def _nodes_dict(store: Any, ntotal: int, where: str) -> dict[str, str]:
    """The ``nodes_dict`` (vector-store id → node id) of the storage's vector-store index:
    the only one, or the only one with ``ntotal`` entries."""
    data = store.get("index_store/data") if isinstance(store, dict) else None
    if not isinstance(data, dict):
        raise IndexFormatError(f"{INDEX_STORE} has no \"index_store/data\" object", source=where)
    found: dict[str, dict[str, str]] = {}
    for index_id, entry in data.items():
        if not isinstance(entry, dict) or entry.get("__type__") != "vector_store":
            continue
        body = entry.get("__data__")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except (json.JSONDecodeError, RecursionError):
                raise IndexFormatError(f"{INDEX_STORE}: index {index_id!r} has unreadable "
                                       "__data__", source=where) from None
        nodes = body.get("nodes_dict") if isinstance(body, dict) else None
        if isinstance(nodes, dict):
            found[str(index_id)] = {str(k): str(v) for k, v in nodes.items()}
    if len(found) > 1:
        found = {key: nodes for key, nodes in found.items() if len(nodes) == ntotal}
    if len(found) != 1:
        raise IndexFormatError(f"{INDEX_STORE}: expected one vector-store index with "
                               f"{ntotal} nodes (the faiss index's), found "
                               f"{', '.join(found) or 'none'}", source=where)
    return next(iter(found.values()))


def _names(model: IndexModel, vs_ids: Mapping[int, str],
           nodes_dict: Mapping[str, str]) -> dict[int, str]:
    """faiss id → node id: the vector store's id (``str(row)``, or the id map's node id)
    through the index's ``nodes_dict``."""
    out = {}
    for ident in _faiss_ids(model):
        vs_id = vs_ids.get(ident, str(ident))
        node_id = nodes_dict.get(vs_id, vs_id if vs_ids else None)
        if node_id is not None:
            out[ident] = node_id
    return out


def _faiss_ids(model: IndexModel) -> list[int]:
    ids = getattr(model, "ids", None)
    if ids is None:
        ids = getattr(model, "labels", None)
    if ids is None:
        return list(range(model.ntotal))
    return [int(i) for i in ids.tolist()]


def _texts_from_json(store: Any, names: Mapping[int, str]) -> dict[int, str]:
    data = store.get("docstore/data") if isinstance(store, dict) else None
    if not isinstance(data, dict):
        return {}
    texts = {}
    for ident, node_id in names.items():
        entry = data.get(node_id)
        body = entry.get("__data__") if isinstance(entry, dict) else None
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except (json.JSONDecodeError, RecursionError):
                continue
        text = _text_field(body)
        if text is not None:
            texts[ident] = text
    return texts


def _text_field(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    text = body.get("text")
    if isinstance(text, str):
        return text
    resource = body.get("text_resource")
    text = resource.get("text") if isinstance(resource, dict) else None
    return text if isinstance(text, str) else None


def _node_text(node: Any) -> str | None:
    if node is None:
        return None
    get = getattr(node, "get_content", None)
    text = get() if callable(get) else getattr(node, "text", None)
    return text if isinstance(text, str) else None
