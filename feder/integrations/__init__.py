"""Vector stores whose index is a faiss index: LangChain's ``FAISS`` and LlamaIndex's
``FaissVectorStore``, live or saved to a folder.

:func:`feder.load_index` asks :func:`load_store` first: a live store object is recognised by
the module and class names along its type's MRO (nothing is imported, so neither library
needs to be installed to read a saved folder), a folder by the files it holds. Each
integration is one row of :data:`INTEGRATIONS`; its module (``.langchain``,
``.llamaindex``) reads the faiss index with feder's own parser and the documents beside it:
the store's own ids for each faiss id (shown in every view instead of feder's row numbers)
and each document's text (shown as text media).

Nothing here unpickles anything of a user's unless asked: LangChain's ``index.pkl`` is read
by :func:`feder.integrations.inert_pickle.read_inert` (plain data only, no class built) and
unpickled for real only with ``allow_dangerous_deserialization=True``, as LangChain itself
requires.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import IndexFormatError, ParameterError, UnknownIdError

if TYPE_CHECKING:
    from ..model import IndexModel


class Documents:
    """What a vector store keeps beside its faiss index, by faiss id.

    ``origin``: the store (``"LangChain FAISS"``); ``names``: faiss id → the store's own id
    (LangChain's docstore id, LlamaIndex's node id), ``None`` when the store has none;
    ``texts``: faiss id → the document's text, ``None`` when it could not be read (``note``
    then says why)."""

    __slots__ = ("_rows", "names", "note", "origin", "texts")

    def __init__(self, origin: str, names: Mapping[int, str] | None,
                 texts: Mapping[int, str] | None, note: str = ""):
        self.origin = origin
        self.names = names
        self.texts = texts
        self.note = note
        self._rows: dict[str, int] | None = None

    def name(self, ident: int) -> str:
        """The store's id of faiss id ``ident`` (its decimal string when the store has none)."""
        ident = int(ident)
        if self.names is None:
            return str(ident)
        found = self.names.get(ident)
        return str(ident) if found is None else found

    def text(self, ident: int) -> str | None:
        """The text of faiss id ``ident``, or ``None``."""
        return None if self.texts is None else self.texts.get(int(ident))

    def ident(self, name: Any) -> int:
        """The faiss id of the store's id ``name`` (an int is taken as a faiss id)."""
        if not isinstance(name, str):
            return int(name)
        if self._rows is None:
            self._rows = {} if self.names is None else \
                {value: key for key, value in self.names.items()}
        found = self._rows.get(name)
        if found is None:
            if self.names is None and name.lstrip("-").isdigit():
                return int(name)
            raise UnknownIdError(f"{name!r} is not an id of this {self.origin} store "
                                 f"({len(self._rows)} ids)")
        return found

    def __len__(self) -> int:
        source = self.names if self.names is not None else self.texts
        return 0 if source is None else len(source)

    def __repr__(self) -> str:
        texts = "no texts" if self.texts is None else f"{len(self.texts)} texts"
        return f"Documents({self.origin}, {len(self)} ids, {texts})"


@dataclass(frozen=True)
class StoreIndex:
    """A vector store read by feder: its faiss index as feder's model, and its documents."""

    model: IndexModel
    documents: Documents


@dataclass(frozen=True)
class Integration:
    """One vector-store library. ``classes``: ``(module prefix, class name)`` pairs matched
    along a live object's MRO; ``folder``: what its saved folder holds (for messages);
    ``module``: the feder module that reads it (``is_folder``, ``read_folder``,
    ``read_object``)."""

    name: str
    label: str
    classes: tuple[tuple[str, str], ...]
    folder: str
    module: str

    def reader(self) -> Any:
        return importlib.import_module(f".{self.module}", __name__)


INTEGRATIONS: tuple[Integration, ...] = (
    Integration("langchain", "LangChain FAISS",
                (("langchain_community.vectorstores", "FAISS"),
                 ("langchain.vectorstores", "FAISS")),
                "a LangChain FAISS folder (index.faiss + index.pkl, from FAISS.save_local)",
                "langchain"),
    Integration("llamaindex", "LlamaIndex",
                (("llama_index.vector_stores.faiss", "FaissVectorStore"),
                 ("llama_index.core.indices.vector_store", "VectorStoreIndex")),
                "a LlamaIndex storage folder (default__vector_store.json holding a faiss "
                "index + index_store.json, docstore.json; from storage_context.persist)",
                "llamaindex"),
)
"""The vector stores feder reads; a new one is a row here plus its reader module."""

SOURCES = tuple(item.name for item in INTEGRATIONS)


def integration_of(obj: Any) -> Integration | None:
    """The integration whose classes ``obj`` is an instance of (by module and class name
    along its MRO: the library need not be importable), or ``None``."""
    for cls in getattr(type(obj), "__mro__", ()):
        module = getattr(cls, "__module__", "") or ""
        for item in INTEGRATIONS:
            for prefix, name in item.classes:
                if cls.__name__ == name and (module == prefix or
                                             module.startswith(prefix + ".")):
                    return item
    return None


def folder_integration(path: str | os.PathLike[str]) -> Integration | None:
    """The integration whose saved folder ``path`` is, or ``None`` (also for a non-folder)."""
    try:
        if not stat.S_ISDIR(os.stat(path).st_mode):
            return None
    except (OSError, ValueError):
        return None
    for item in INTEGRATIONS:
        if item.reader().is_folder(Path(path)):
            return item
    return None


def expected_folders() -> str:
    """The saved folders feder reads, for error messages."""
    return "; ".join(item.folder for item in INTEGRATIONS)


def load_store(index: Any, source: str | None = None, *,
               allow_dangerous_deserialization: bool = False) -> StoreIndex | None:
    """Read ``index`` if it is a vector store (a live LangChain / LlamaIndex object or one's
    saved folder), else ``None``. ``source``: ``None``, ``"faiss"`` (what the store holds) or
    the integration's name (``"langchain"``, ``"llamaindex"``): another source for a store is
    a :class:`ParameterError`. ``allow_dangerous_deserialization``: unpickle LangChain's
    ``index.pkl`` for real (only for a file you trust; by default it is read as plain data)."""
    item = integration_of(index)
    folder = False
    if item is None and isinstance(index, (str, os.PathLike)):
        item = folder_integration(index)
        folder = item is not None
    if item is None:
        if source is not None and str(source).lower() in SOURCES:
            raise ParameterError(f"source={source!r} reads a {_label(source)} store or its saved "
                                 f"folder, got {_what(index)}")
        return None
    if source is not None and str(source).lower() not in ("faiss", item.name):
        raise ParameterError(f"source={source!r} was given for {item.label} "
                             f"{'folder' if folder else 'store'} (a faiss index inside): "
                             f"use source=None, 'faiss' or {item.name!r}")
    reader = item.reader()
    if folder:
        loaded: StoreIndex = reader.read_folder(
            Path(index), allow_dangerous_deserialization=allow_dangerous_deserialization)
    else:
        loaded = reader.read_object(index)
    return loaded


def folder_inputs(path: str | os.PathLike[str]) -> list[Path]:
    """The files feder reads from the vector-store folder ``path`` (for the command line's
    never-write-onto-an-input check); :class:`IndexFormatError` if it is none."""
    item = folder_integration(path)
    if item is None:
        raise IndexFormatError(f"{os.fspath(path)!r} is a folder but not a vector store's: "
                               f"expected {expected_folders()}")
    files: list[Path] = item.reader().folder_files(Path(path))
    return files


def _label(source: str) -> str:
    return next(item.label for item in INTEGRATIONS if item.name == str(source).lower())


def _what(index: Any) -> str:
    if isinstance(index, (str, os.PathLike)):
        return f"{os.fspath(index)!r}, which is not such a folder (expected {expected_folders()})"
    return f"a {type(index).__name__}"


__all__ = ["INTEGRATIONS", "SOURCES", "Documents", "Integration", "StoreIndex",
           "expected_folders", "folder_inputs", "integration_of", "load_store"]
