"""Binary readers for the index files of faiss and hnswlib, into :mod:`feder.model`.

:func:`read_index` is the one entry point: a path (memory-mapped), bytes, a ``faiss.Index``
or an ``hnswlib.Index``.

faiss files dispatch on their fourcc through :data:`FAISS_FORMATS`
(:mod:`.faiss_formats`): IVF_FLAT / IVF_SQ / IVF_PQ (flat or HNSW coarse quantizer), FLAT /
SQ / PQ, HNSW over flat, SQ or PQ storage, and id maps around any of them are read; every
other fourcc faiss writes is refused by name.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from ..errors import IndexFormatError, ParameterError
from ..model import (
    FaissHNSWIndex,
    FlatIndex,
    HNSWIndex,
    IDMapIVFIndex,
    IndexModel,
    IVFFlatIndex,
)
from ._reader import Buffer, open_buffer
from .chroma import is_chroma, read_chroma
from .faiss_formats import FAISS_FORMATS, FAISS_FOURCCS, looks_like_faiss, parse_faiss
from .hnswlib_file import SPACES, check_space, looks_like_hnswlib, parse_hnswlib
from .hnswlib_space import check_space_against_graph

SOURCES = ("faiss", "hnswlib", "chroma")


def read_index(index: Any, source: str | None = None, *, space: str | None = None,
               ) -> IndexModel:
    """Read an index into feder's common model.

    ``index``: a file path, ``bytes``/``bytearray``/``memoryview``, a ``uint8`` numpy array
    (``faiss.serialize_index`` output), a ``faiss.Index`` or an ``hnswlib.Index``.
    ``source``: ``"faiss"``, ``"hnswlib"`` or ``"chroma"`` (a persist directory or one of its
    HNSW segment folders); detected when omitted (faiss files start with a fourcc, hnswlib
    files with a zero offset, chroma folders hold ``chroma.sqlite3`` / ``header.bin``).
    ``space`` (hnswlib, chroma): ``"l2"`` (default), ``"ip"`` or ``"cosine"``: hnswlib files do
    not record it; chroma's is read from its database when omitted.
    """
    if source is not None:
        source = str(source).lower()
        if source not in SOURCES:
            raise ParameterError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if space is not None:
        check_space(space)

    kind = _library_object_kind(index)
    if kind == "faiss":
        import faiss

        serialized = np.ascontiguousarray(faiss.serialize_index(index), dtype=np.uint8)
        return _parse(Buffer(serialized.data, type(index).__name__, owner=serialized),
                      source or "faiss", space)
    if kind == "hnswlib":
        return _load_hnswlib_object(index, source, space)
    if isinstance(index, (str, os.PathLike)) and (source == "chroma" or
                                                 (source is None and is_chroma(index))):
        return read_chroma(index, space)
    if source == "chroma":
        raise ParameterError(f"source='chroma' reads a chroma persist directory or segment "
                             f"folder, got a {type(index).__name__}")
    if isinstance(index, (str, os.PathLike, bytes, bytearray, memoryview, np.ndarray)):
        return _parse(open_buffer(index), source, space)
    raise ParameterError(
        f"cannot load an index from a {type(index).__name__}: expected a file path, bytes, a "
        "faiss.Index or an hnswlib.Index"
    )


def _parse(buf: Buffer, source: str | None, space: str | None) -> IndexModel:
    if source is None:
        if looks_like_faiss(buf):
            source = "faiss"
        elif looks_like_hnswlib(buf):
            source = "hnswlib"
        else:
            head = bytes(buf.data[:8]).hex(" ")
            raise IndexFormatError(
                f"not a faiss or hnswlib index: expected a faiss fourcc such as 'IwFl' or an "
                f"hnswlib header starting with 8 zero bytes, found {head or 'nothing'}",
                offset=0, source=buf.name)
    if source == "faiss":
        if space is not None:
            raise ParameterError("space applies to hnswlib indexes only: a faiss index records "
                                 "its metric")
        return parse_faiss(buf)
    return check_space_against_graph(parse_hnswlib(buf, space or "l2"), given=space is not None)


def _library_object_kind(obj: Any) -> str | None:
    module = type(obj).__module__ or ""
    if module.split(".")[0] == "faiss" and hasattr(obj, "ntotal"):
        return "faiss"
    if module.split(".")[0] == "hnswlib" and hasattr(obj, "save_index"):
        return "hnswlib"
    return None


def _load_hnswlib_object(index: Any, source: str | None, space: str | None) -> HNSWIndex:
    """Serialize a live ``hnswlib.Index`` through its own ``save_index`` and parse that."""
    if source not in (None, "hnswlib"):
        raise ParameterError(f"an hnswlib.Index was given with source={source!r}")
    own_space = str(index.space)
    if space is not None and space != own_space:
        raise ParameterError(f"space={space!r} was given, but the hnswlib.Index uses "
                             f"{own_space!r}")
    with tempfile.TemporaryDirectory(prefix="feder-") as tmp:
        path = os.path.join(tmp, "index.bin")
        index.save_index(path)
        with open(path, "rb") as fh:
            data = fh.read()
    parsed = parse_hnswlib(Buffer(memoryview(data), "hnswlib.Index"), own_space)
    if parsed.dim != int(index.dim):
        raise IndexFormatError(f"the hnswlib.Index has dim {index.dim}, its saved layout "
                               f"implies {parsed.dim}")
    return parsed


__all__ = ["FAISS_FORMATS", "FAISS_FOURCCS", "SOURCES", "SPACES", "FaissHNSWIndex", "FlatIndex",
           "HNSWIndex", "IDMapIVFIndex", "IVFFlatIndex", "read_index"]
