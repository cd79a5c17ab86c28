"""chroma's persisted HNSW segment, read from its files (no chromadb needed).

A persist directory holds ``chroma.sqlite3`` and one folder per vector segment with
``header.bin`` (a 4-byte persistence version, then hnswlib's 96-byte header),
``data_level0.bin`` (hnswlib's level-0 records; capacity ≥ count), ``link_lists.bin``
(hnswlib's upper levels) and ``index_metadata.pickle`` (label → chroma id). Joined, the first
three are an hnswlib file (DESIGN.md, "chroma"). The space is the collection's
``hnsw:space`` in ``chroma.sqlite3``. The pickle comes from the user's disk: it is read with an
unpickler that builds plain containers, ints and strings only and refuses any class.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import sqlite3
import struct
from pathlib import Path
from typing import Any

from ..errors import IndexFormatError, ParameterError
from ..model import HNSWIndex
from ._reader import Buffer
from .hnswlib_file import parse_hnswlib

HEADER_BYTES = 100
MAX_PICKLE_BYTES = 256 << 20
SEGMENT_FILES = ("header.bin", "data_level0.bin")


def is_chroma(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a chroma persist directory or one of its HNSW segment folders."""
    folder = Path(path)
    return folder.is_dir() and ((folder / "chroma.sqlite3").is_file() or
                                all((folder / name).is_file() for name in SEGMENT_FILES))


def read_chroma(path: str | os.PathLike[str], space: str | None = None,
                collection: str | None = None) -> HNSWIndex:
    """The HNSW index of a chroma collection: ``path`` is a persist directory (``collection``
    names it when there are several) or a segment folder. ``space``: ``l2``/``ip``/``cosine``,
    read from ``chroma.sqlite3`` when omitted (``l2`` when nothing says otherwise)."""
    folder = Path(path)
    if (folder / "chroma.sqlite3").is_file():
        segment, stored = _segment_of(folder, collection)
    else:
        if collection is not None:
            raise ParameterError("collection applies to a persist directory, not to a "
                                 f"segment folder ({folder.name})")
        segment = folder
        stored = _space_from(folder.parent, folder.name) \
            if (folder.parent / "chroma.sqlite3").is_file() else None
    return read_segment(segment, space or stored or "l2")


def read_segment(folder: str | os.PathLike[str], space: str) -> HNSWIndex:
    """One segment folder as an :class:`~feder.model.HNSWIndex` (labels are chroma's
    1-based labels; :func:`chroma_ids` maps them to chroma's ids)."""
    folder = Path(folder)
    where = f"chroma segment {folder.name}"
    header = _read(folder / "header.bin", where)
    if len(header) != HEADER_BYTES:
        raise IndexFormatError(f"header.bin has {len(header)} bytes, expected "
                               f"{HEADER_BYTES} (a 4-byte version, then hnswlib's header)",
                               source=where)
    count, size = struct.unpack_from("<QQ", header, 4 + 16)
    if count == 0:
        raise IndexFormatError("the segment holds no vectors yet: chroma writes its HNSW "
                               "index to disk every 1,000 additions (its sync threshold); "
                               "add more, or read the collection live with "
                               "feder.sources.chroma(collection)", source=where)
    level0 = _read(folder / "data_level0.bin", where)
    if size == 0 or len(level0) < count * size:
        raise IndexFormatError(f"data_level0.bin holds {len(level0)} bytes, expected at least "
                               f"{count} × {size} for the {count} vectors the header counts",
                               source=where)
    links_path = folder / "link_lists.bin"
    links = _read(links_path, where) if links_path.exists() else b""
    data = header[4:] + level0[: count * size] + links
    model = parse_hnswlib(Buffer(memoryview(data), where), space)
    model.source = where
    return model


def chroma_ids(folder: str | os.PathLike[str]) -> dict[int, str]:
    """Label → chroma id from a segment's ``index_metadata.pickle`` (plain data only)."""
    path = Path(folder) / "index_metadata.pickle"
    if not path.exists():
        return {}
    meta = load_plain_pickle(_read(path, f"chroma segment {Path(folder).name}",
                                   MAX_PICKLE_BYTES))
    table = meta.get("label_to_id") if isinstance(meta, dict) else None
    return {int(k): str(v) for k, v in (table or {}).items()}


class _PlainUnpickler(pickle.Unpickler):
    """Builds dicts, lists, tuples, ints, floats, strings and bytes; any class is refused
    (an untrusted pickle can name any callable, and loading it would run it)."""

    def find_class(self, module: str, name: str) -> Any:
        raise IndexFormatError(f"index_metadata.pickle refers to {module}.{name}: feder reads "
                               "plain dicts of ints and strings only")


def load_plain_pickle(raw: bytes) -> Any:
    """Unpickle ``raw`` admitting plain containers and scalars only."""
    try:
        return _PlainUnpickler(io.BytesIO(raw)).load()
    except IndexFormatError:
        raise
    except Exception as exc:  # truncated or corrupt pickles raise many kinds
        raise IndexFormatError(f"index_metadata.pickle is not a readable pickle: "
                               f"{type(exc).__name__}: {exc}") from None


def _segment_of(persist: Path, collection: str | None) -> tuple[Path, str | None]:
    """The HNSW segment folder of ``collection`` in a persist directory, and its space."""
    with _database(persist) as db:
        rows = db.execute(
            "select s.id, c.name from segments s join collections c on s.collection = c.id "
            "where s.scope = 'VECTOR'").fetchall()
    found = [(seg, name) for seg, name in rows if (persist / seg / "header.bin").is_file()]
    names = sorted({name for _, name in rows})
    if collection is not None:
        found = [(seg, name) for seg, name in found if name == collection]
        if not found:
            raise ParameterError(f"chroma at {persist.name} has no persisted HNSW segment of "
                                 f"collection {collection!r}; it holds {names or 'none'}")
    if len(found) != 1:
        raise ParameterError(f"chroma at {persist.name} holds "
                             f"{'no persisted HNSW segment' if not found else 'collections'} "
                             f"{names}: name one with collection=" if found else
                             f"chroma at {persist.name} has no HNSW segment on disk yet "
                             "(chroma writes it every 1,000 additions)")
    segment, _ = found[0]
    return persist / segment, _space_from(persist, segment)


def _space_from(persist: Path, segment: str) -> str | None:
    """``hnsw:space`` of the collection owning ``segment`` (metadata or configuration)."""
    with _database(persist) as db:
        row = db.execute("select c.id, c.config_json_str from segments s join collections c "
                         "on s.collection = c.id where s.id = ?", (segment,)).fetchone()
        if row is None:
            return None
        meta = db.execute("select str_value from collection_metadata where collection_id = ? "
                          "and key = 'hnsw:space'", (row[0],)).fetchone()
    if meta and meta[0] in ("l2", "ip", "cosine"):
        return str(meta[0])
    try:
        config = json.loads(row[1] or "{}")
    except json.JSONDecodeError:
        return None
    hnsw = config.get("hnsw") if isinstance(config, dict) else None
    space = hnsw.get("space") if isinstance(hnsw, dict) else None
    return str(space) if space in ("l2", "ip", "cosine") else None


class _database:
    """``chroma.sqlite3`` opened read-only (chroma may have it open; we never write)."""

    def __init__(self, persist: Path):
        self.path = persist / "chroma.sqlite3"

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                      timeout=5)
            self.db.execute("select 1 from segments limit 1")
        except sqlite3.Error as exc:
            raise IndexFormatError(f"cannot read chroma's database: {exc}",
                                   source=self.path.name) from None
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


def _read(path: Path, where: str, limit: int | None = None) -> bytes:
    try:
        size = path.stat().st_size
        if limit is not None and size > limit:
            raise IndexFormatError(f"{path.name} has {size} bytes, expected at most {limit}",
                                   source=where)
        return path.read_bytes()
    except FileNotFoundError:
        raise IndexFormatError(f"{path.name} is missing", source=where) from None
    except IsADirectoryError:
        raise IndexFormatError(f"{path.name} is a directory, expected a file",
                               source=where) from None


__all__ = ["chroma_ids", "is_chroma", "load_plain_pickle", "read_chroma", "read_segment"]
