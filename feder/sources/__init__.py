"""Live engines as feder sources: Milvus (Lite or a server), LanceDB, Qdrant Edge, chroma.

>>> src = feder.sources.milvus("./milvus.db", collection="images", vector_field="embedding",
...                            media_field="path")
>>> src.info()                                   # engine, index type, parameters
>>> feder.explain(src, query, k=10, nprobe=16)    # the ENGINE's answer vs exact truth
>>> feder.sweep(src, queries, k=10, nprobe=[1, 4, 16, 64])

Every source follows :class:`Source`: ``info()``, ``ntotal``/``dim``/``metric``,
``vectors`` (pulled page by page), ``ids`` (the engine's), ``search(query, k, **params)``
(the engine's own answer) and ``model()`` (a feder model of the engine's index where it is
readable, else ``None``). Importing this package imports no engine: each constructor imports
its client when called, and a missing one raises :class:`~feder.ParameterError` naming the
extra to install (``pip install 'feder[milvus]'`` …).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from ..errors import ParameterError
from .base import (
    BaseSource,
    EngineAnswer,
    EngineTimeoutError,
    IndexNotBuiltError,
    SourceError,
    is_source,
)

if TYPE_CHECKING:
    from ._chroma import ChromaSource
    from ._lance import LanceSource
    from ._milvus import MilvusSource
    from ._qdrant import QdrantEdgeSource


@runtime_checkable
class Source(Protocol):
    """What feder needs from a live engine."""

    engine: str
    name: str
    dim: int
    metric: str

    @property
    def ntotal(self) -> int: ...
    @property
    def vectors(self) -> np.ndarray: ...
    @property
    def ids(self) -> np.ndarray: ...
    def info(self) -> dict[str, Any]: ...
    def search(self, query: Any, k: int = 10, **params: Any) -> EngineAnswer: ...
    def model(self) -> Any: ...


def milvus(uri: str | os.PathLike[str], collection: str, vector_field: str | None = None,
           media_field: str | None = None, token: str | None = None, timeout: float = 10.0,
           **kwargs: Any) -> MilvusSource:
    """A Milvus collection (Milvus Lite ``.db`` folder or server URI); see
    :func:`feder.sources._milvus.milvus`."""
    from ._milvus import milvus as open_milvus

    return open_milvus(uri, collection, vector_field, media_field, token, timeout, **kwargs)


def lancedb(path: str | os.PathLike[str], table: str, vector_field: str | None = None,
            id_field: str | None = None, media_field: str | None = None,
            **kwargs: Any) -> LanceSource:
    """A LanceDB table; see :func:`feder.sources._lance.lancedb`."""
    from ._lance import lancedb as open_lancedb

    return open_lancedb(path, table, vector_field, id_field, media_field, **kwargs)


def qdrant_edge(path: str | os.PathLike[str], vector_name: str | None = None,
                media_field: str | None = None, shard: Any = None,
                **kwargs: Any) -> QdrantEdgeSource:
    """A Qdrant Edge shard folder; see :func:`feder.sources._qdrant.qdrant_edge`."""
    from ._qdrant import qdrant_edge as open_qdrant

    return open_qdrant(path, vector_name, media_field, shard, **kwargs)


def chroma(collection_or_path: Any, collection: str | None = None,
           media_field: str | None = None, **kwargs: Any) -> ChromaSource:
    """A chroma collection or persist directory; see :func:`feder.sources._chroma.chroma`."""
    from ._chroma import chroma as open_chroma

    return open_chroma(collection_or_path, collection, media_field, **kwargs)


SCHEMES = ("milvus", "lancedb", "qdrant-edge", "chroma")


def open_uri(uri: str) -> BaseSource:
    """A source from a URI (what ``feder diagnose --source`` takes):
    ``milvus://./milvus.db?collection=images&vector_field=embedding&media_field=path``
    (``milvus://http://host:19530?collection=…&token=…`` for a server),
    ``lancedb://./lance?table=images``, ``qdrant-edge://./shard``,
    ``chroma://./chroma?collection=images``."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in SCHEMES:
        starts = ", ".join(name + "://" for name in SCHEMES)
        raise ParameterError(f"a source URI starts with one of {starts}, got {uri!r}")
    split = urlsplit("x://h/" + rest)
    where = unquote(rest.split("?", 1)[0])
    query = {key: values[-1] for key, values in parse_qs(split.query).items()}
    allowed = {"milvus": {"collection", "vector_field", "media_field", "token", "timeout"},
               "lancedb": {"table", "vector_field", "id_field", "media_field"},
               "qdrant-edge": {"vector_name", "media_field"},
               "chroma": {"collection", "media_field"}}[scheme]
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise ParameterError(f"unknown {scheme} URI option {unknown[0]!r}; valid ones: "
                             f"{', '.join(sorted(allowed))}")
    if not where:
        raise ParameterError(f"{uri!r} names no database path")
    if scheme == "milvus":
        if "collection" not in query:
            raise ParameterError(f"{uri!r}: add ?collection=<name>")
        timeout = float(query.pop("timeout", 10.0))
        return milvus(where, timeout=timeout, **query)
    if scheme == "lancedb":
        if "table" not in query:
            raise ParameterError(f"{uri!r}: add ?table=<name>")
        return lancedb(where, **query)
    if scheme == "qdrant-edge":
        return qdrant_edge(where, **query)
    return chroma(where, **query)


__all__ = [
    "BaseSource",
    "EngineAnswer",
    "EngineTimeoutError",
    "IndexNotBuiltError",
    "Source",
    "SourceError",
    "chroma",
    "is_source",
    "lancedb",
    "milvus",
    "open_uri",
    "qdrant_edge",
]
