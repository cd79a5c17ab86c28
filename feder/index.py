"""What :func:`feder.load_index` returns: the parsed model plus the ways to search it.

The model (:mod:`feder.model`) only holds arrays; searching lives in :mod:`feder.trace`.
:class:`Index` joins the two for users, so ``idx.search(q, k=5, nprobe=6)`` works while the
model imports nothing from the tracer. Model attributes (``centroids``, ``list_sizes``,
``graphs``, …) are read through: ``idx.centroids is idx.model.centroids``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from . import trace
from .errors import IndexFormatError, ParameterError
from .model import IndexModel
from .parsers import read_index
from .trace import SearchTrace

if TYPE_CHECKING:  # diagnose imports this module: import it lazily at run time
    from .diagnose import Explanation, Health, Sweep
    from .integrations import Documents


class Index:
    """An index read by feder. ``model`` is the parsed :class:`~feder.model.IVFFlatIndex`
    or :class:`~feder.model.HNSWIndex`; ``documents``: for a vector store (LangChain,
    LlamaIndex), the store's own id and text of each faiss id
    (:class:`feder.integrations.Documents`), else ``None``."""

    __slots__ = ("documents", "model")

    def __init__(self, model: IndexModel, documents: Documents | None = None):
        self.model = model
        self.documents = documents

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def metric(self) -> str:
        return self.model.metric

    @property
    def ntotal(self) -> int:
        return self.model.ntotal

    @property
    def dim(self) -> int:
        return self.model.dim

    @property
    def source(self) -> str:
        return self.model.source

    def vector(self, ident: Any) -> np.ndarray:
        """``(dim,) float32`` the stored vector of a faiss id / hnswlib label."""
        return self.model.vector(ident)

    def search(self, query: Any, k: int = 5, **params: Any) -> SearchTrace:
        """Replay the library's search (see :func:`feder.trace.search`): ``nprobe=`` for IVF,
        ``ef=`` for HNSW."""
        return trace.search(self.model, query, k, **params)

    def search_by_id(self, ident: Any, k: int = 5, **params: Any) -> SearchTrace:
        """:meth:`search` with the stored vector of ``ident`` as the query."""
        return self.search(self.vector(ident), k, **params)

    def explain(self, query: Any, k: int = 10, **params: Any) -> Explanation:
        """The search of ``query`` checked against the exact top-``k``: recall and why each
        missed neighbour was missed (see :func:`feder.explain`)."""
        from .diagnose import explain

        return explain(self.model, query, k, **params)

    def sweep(self, queries: Any, k: int = 10, **params: Any) -> Sweep:
        """Recall@k and work of ``queries`` per ``nprobe=[...]`` / ``ef=[...]`` value (see
        :func:`feder.sweep`)."""
        from .diagnose import sweep

        return sweep(self.model, queries, k, **params)

    def health(self) -> Health:
        """IVF list balance or HNSW degrees and unreachable nodes (see :func:`feder.health`)."""
        from .diagnose import health

        return health(self.model)

    def __getattr__(self, name: str) -> Any:
        if name in ("model", "documents"):  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.model, name)

    def __repr__(self) -> str:
        return repr(self.model)


def as_model(index: Any) -> IndexModel:
    """The model behind ``index`` (an :class:`Index` or a model itself)."""
    return index.model if isinstance(index, Index) else index


def load_index(index: Any, source: str | None = None, *, space: str | None = None,
               allow_dangerous_deserialization: bool = False) -> Index:
    """Read an index (a file path, bytes, a ``faiss.Index`` or an ``hnswlib.Index``) into
    feder. ``source``: ``"faiss"``/``"hnswlib"``, detected when omitted; ``space``: the
    hnswlib metric (``"l2"`` default, ``"ip"``, ``"cosine"``), which hnswlib files do not
    record. See :func:`feder.parsers.read_index`.

    A vector store is read too: a live LangChain ``FAISS`` or LlamaIndex
    ``FaissVectorStore`` / ``VectorStoreIndex``, or the folder one saved (``save_local`` /
    ``storage_context.persist``); the result's ``documents`` then hold the store's ids and
    texts (see :mod:`feder.integrations`). LangChain's ``index.pkl`` is read as inert data
    unless ``allow_dangerous_deserialization=True`` (then unpickled, as LangChain does: only
    for a file you trust)."""
    if isinstance(index, Index):
        return index
    from .integrations import load_store

    store = load_store(index, source,
                       allow_dangerous_deserialization=allow_dangerous_deserialization)
    if store is not None:
        if space is not None:
            raise ParameterError(f"space applies to hnswlib indexes only: this "
                                 f"{store.documents.origin} store holds a faiss index, which "
                                 "records its metric")
        return Index(store.model, store.documents)
    if isinstance(index, (str, os.PathLike)) and os.path.isdir(index) and source != "chroma":
        from .integrations import expected_folders
        from .parsers.chroma import is_chroma

        if not is_chroma(index):
            raise IndexFormatError(
                f"{os.fspath(index)!r} is a folder feder does not read: expected "
                f"{expected_folders()}, or a chroma persist directory (chroma.sqlite3) or "
                "HNSW segment folder (header.bin, data_level0.bin)")
    return Index(read_index(index, source, space=space))
