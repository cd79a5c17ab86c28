"""LangChain's ``FAISS`` vector store (``langchain_community.vectorstores.FAISS``).

A live store holds ``index`` (a ``faiss.Index``: read through faiss's own serialisation, as
any live faiss index), ``index_to_docstore_id`` (faiss id → docstore id) and ``docstore``
(docstore id → ``Document``, whose ``page_content`` is the text). LangChain's
``similarity_search_with_score`` returns the documents of ``index.search``'s ids with
faiss's distances (squared L2 for ``IndexFlatL2``, inner product for ``IndexFlatIP``), so
feder's replay of the index is LangChain's search.

``save_local(folder)`` writes ``index.faiss`` (``faiss.write_index``) and ``index.pkl``, a
pickle of ``(docstore, index_to_docstore_id)``. A pickle can run code when loaded, so
LangChain's ``load_local`` refuses it unless given ``allow_dangerous_deserialization=True``.
feder reads ``index.faiss`` with its own parser and, by default, ``index.pkl`` as inert data
(:func:`~feder.integrations.inert_pickle.read_inert`: no class is built, nothing of the
pickle's is called), which recovers the ids and texts of LangChain's own
``InMemoryDocstore``; anything else is left out with one :class:`~feder.FederWarning`
saying how to opt in. With ``allow_dangerous_deserialization=True`` the pickle is unpickled
as LangChain does (any docstore then works).
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import FederWarning, IndexFormatError
from ..parsers import read_index
from . import Documents, StoreIndex
from ._files import read_side_file
from .inert_pickle import class_name, read_inert, state_of

ORIGIN = "LangChain FAISS"
OPT_IN = ("index.pkl is a pickle, which can run code when it is loaded: if you trust it, pass "
          "allow_dangerous_deserialization=True (feder.load_index, FederPy; "
          "--allow-dangerous-deserialization on the command line) to unpickle it as "
          "LangChain's load_local does")


def is_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a saved LangChain FAISS store (``NAME.faiss`` + ``NAME.pkl``)."""
    return bool(_saved_names(folder))


def folder_files(folder: Path) -> list[Path]:
    """The two files :func:`read_folder` reads."""
    name = _index_name(folder)
    return [folder / f"{name}.faiss", folder / f"{name}.pkl"]


def read_folder(folder: Path, *, allow_dangerous_deserialization: bool = False) -> StoreIndex:
    """A folder written by ``FAISS.save_local``: the faiss index from ``NAME.faiss`` (feder's
    parser) and the documents from ``NAME.pkl`` (inert data unless
    ``allow_dangerous_deserialization``; see the module's notes)."""
    faiss_path, pkl_path = folder_files(folder)
    where = f"LangChain FAISS folder {folder.name!r}"
    model = read_index(str(faiss_path), "faiss")
    raw = read_side_file(pkl_path, where)
    if allow_dangerous_deserialization:
        names, texts = _unpickled(raw, pkl_path.name)
        return StoreIndex(model, Documents(ORIGIN, names, texts,
                                           f"{pkl_path.name} unpickled (opted in)"))
    names, texts, reason = _inert(raw, pkl_path.name)
    note = f"{pkl_path.name} read as inert data"
    if texts is None:
        note = f"documents not shown: {reason}"
        warnings.warn(f"{where}: the documents are not shown: {reason}. {OPT_IN}",
                      FederWarning, stacklevel=4)
    return StoreIndex(model, Documents(ORIGIN, names, texts, note))


def read_object(store: Any) -> StoreIndex:
    """A live ``FAISS`` store: its faiss index, docstore ids and ``page_content`` texts."""
    index = getattr(store, "index", None)
    if index is None or type(index).__module__.split(".")[0] != "faiss":
        raise IndexFormatError(f"this LangChain FAISS store's .index is a "
                               f"{type(index).__name__}, expected a faiss.Index")
    model = read_index(index)
    table = getattr(store, "index_to_docstore_id", None)
    names = _names(table) if isinstance(table, Mapping) else None
    texts: dict[int, str] | None = None
    docstore = getattr(store, "docstore", None)
    search = getattr(docstore, "search", None)
    if names is not None and callable(search):
        texts = {}
        for ident, doc_id in names.items():
            text = getattr(search(doc_id), "page_content", None)
            if isinstance(text, str):
                texts[ident] = text
    note = "queries are L2-normalised by LangChain (normalize_L2=True)" \
        if getattr(store, "_normalize_L2", False) else ""
    return StoreIndex(model, Documents(ORIGIN, names, texts, note))


def _saved_names(folder: Path) -> list[str]:
    try:
        return sorted(p.stem for p in folder.glob("*.faiss")
                      if p.is_file() and (folder / f"{p.stem}.pkl").is_file())
    except OSError:
        return []


def _index_name(folder: Path) -> str:
    names = _saved_names(folder)
    if "index" in names:
        return "index"
    if len(names) == 1:
        return names[0]
    raise IndexFormatError(
        f"expected one saved LangChain FAISS index (NAME.faiss + NAME.pkl; save_local's "
        f"default is index), found {', '.join(names) if names else 'none'}",
        source=f"folder {folder.name!r}")


def _names(table: Mapping[Any, Any]) -> dict[int, str]:
    """faiss id → docstore id, keeping the well-formed entries (int keys, str values)."""
    return {int(key): value for key, value in table.items()
            if isinstance(key, int) and not isinstance(key, bool) and isinstance(value, str)}


def _inert(raw: bytes, what: str) -> tuple[dict[int, str] | None, dict[int, str] | None, str]:
    """Names, texts and (when the texts are missing) why, from ``index.pkl`` read as inert
    data: LangChain's ``(InMemoryDocstore, {faiss id: docstore id})``."""
    top = read_inert(raw, what)
    if not (isinstance(top, tuple) and len(top) == 2 and isinstance(top[1], dict)):
        return None, None, (f"{what} does not hold LangChain's (docstore, "
                            f"index_to_docstore_id) pair")
    docstore, table = top
    names = _names(table)
    kind = class_name(docstore) or type(docstore).__name__
    state = state_of(docstore)
    stored = state.get("_dict") if isinstance(state, dict) else None
    if not (kind.startswith("langchain") and kind.endswith(".InMemoryDocstore")) or \
            not isinstance(stored, dict):
        return names, None, (f"its docstore is a {kind}, and feder reads only LangChain's "
                             "InMemoryDocstore without unpickling")
    texts = {}
    for ident, doc_id in names.items():
        text = _page_content(stored.get(doc_id))
        if text is not None:
            texts[ident] = text
    if names and not texts:
        return names, None, f"no document of {what} has a page_content feder recognises"
    return names, texts, ""


def _page_content(doc: Any) -> str | None:
    """A ``Document`` record's ``page_content`` (pydantic v1 or v2 state), else ``None``."""
    kind = class_name(doc) or ""
    if not (kind.startswith("langchain") and kind.endswith(".Document")):
        return None
    state = state_of(doc)
    if not isinstance(state, dict):
        return None
    fields = state.get("__dict__", state)
    text = fields.get("page_content") if isinstance(fields, dict) else None
    return text if isinstance(text, str) else None


def _unpickled(raw: bytes, what: str) -> tuple[dict[int, str] | None, dict[int, str] | None]:
    """Names and texts from ``index.pkl`` unpickled for real (the user opted in)."""
    try:
        docstore, table = pickle.loads(raw)  # the user opted in
    except Exception as exc:
        raise IndexFormatError(f"unpickling {what} failed: {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None
    names = _names(table) if isinstance(table, Mapping) else None
    search = getattr(docstore, "search", None)
    if names is None or not callable(search):
        return names, None
    texts = {}
    for ident, doc_id in names.items():
        text = getattr(search(doc_id), "page_content", None)
        if isinstance(text, str):
            texts[ident] = text
    return names, texts
