"""What every live engine source shares: errors, the pulled vectors, ids and searches.

A source pulls the engine's vectors page by page into one preallocated ``(n, d) float32``
array (or a ``.npy`` memory map when ``cache=`` is given or the collection is large), so
memory stays bounded by the result itself; a tqdm bar shows progress for large pulls.
Engine ids (``str`` or ``int``) keep their order: row ``r`` of ``vectors`` is ``ids[r]``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import FederError, ParameterError, UnknownIdError

PROGRESS_MIN = 20_000
"""Pulls of at least this many vectors show a progress bar."""
MEMMAP_BYTES = 1 << 30
"""Pulls larger than this go to a ``.npy`` memory map in a temporary cache directory."""


class SourceError(FederError, ValueError):
    """A live engine source cannot be used as given: unknown collection, table or field, a
    vector field of another dimension, ids the engine does not hold, …"""


class IndexNotBuiltError(SourceError):
    """The engine has no (complete) index to search or read yet; the message says how to
    build it."""


class EngineTimeoutError(FederError, TimeoutError):
    """The engine (a server URI) did not answer in time."""


def require(module: str, extra: str, engine: str) -> Any:
    """Import an engine's client lazily, or :class:`~feder.errors.ParameterError` naming the
    extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ParameterError(
            f"{engine} sources need the {module.split('.')[0]!r} package ({exc}): install "
            f"it with pip install 'feder[{extra}]'") from None


@dataclass(frozen=True, eq=False)
class EngineAnswer:
    """The engine's own answer to one search.

    ``ids``: engine ids, best first. ``rows``: ``(m,) int64`` their rows in the source's
    ``vectors``/``ids`` (−1 for an id the pulled vectors do not hold). ``distances``:
    ``(m,) float32`` as the engine reports them (its own convention, see
    :attr:`BaseSource.distance_note`). ``params``: the search parameters sent."""

    ids: list[Any]
    rows: np.ndarray
    distances: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"EngineAnswer(ids={self.ids}, params={self.params})"


class BaseSource:
    """A live collection of one engine. Subclasses implement :meth:`_count`, :meth:`_pages`,
    :meth:`_search` and optionally :meth:`_model`."""

    engine: ClassVar[str] = "engine"
    param_name: str | None = None
    """The search parameter the engine's index takes (``"nprobe"`` / ``"ef"``), if any."""
    distance_note: ClassVar[str] = ""

    def __init__(self, name: str, dim: int, metric: str, *, media_field: str | None = None,
                 cache: str | os.PathLike[str] | None = None, progress: bool | None = None):
        self.name = name
        self.dim = int(dim)
        self.metric = metric  # "l2" | "ip" | "cosine"
        self.media_field = media_field
        self.cache = None if cache is None else Path(cache)
        self.progress = progress
        self._vectors: np.ndarray | None = None
        self._ids: np.ndarray | None = None
        self._media: list[Any] | None = None
        self._rows: dict[Any, int] | None = None
        self._model_cache: Any = None
        self._model_done = False
        self.model_reason = ""
        """Why :meth:`model` is ``None`` (empty when a model was read)."""

    # -- subclass hooks -------------------------------------------------------------------
    def _count(self) -> int:
        raise NotImplementedError

    def _pages(self) -> Iterator[tuple[list[Any], np.ndarray, list[Any] | None]]:
        """``(ids, (m, d) float32 vectors, media or None)`` page by page."""
        raise NotImplementedError

    def _search(self, queries: np.ndarray, k: int, params: dict[str, Any],
                ) -> list[tuple[list[Any], np.ndarray]]:
        """Per query: engine ids and distances, best first."""
        raise NotImplementedError

    def _model(self) -> Any:
        self.model_reason = (f"{self.engine}'s index files are not read by feder: its answers "
                             "are checked against exact truth")
        return None

    def _info(self) -> dict[str, Any]:
        return {}

    # -- public ---------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        """Vectors in the collection (as the engine counts them now)."""
        return self._count() if self._ids is None else int(self._ids.shape[0])

    def info(self) -> dict[str, Any]:
        """The engine, the collection and its index as the engine reports them."""
        out = {"engine": self.engine, "name": self.name, "ntotal": self.ntotal,
               "dim": self.dim, "metric": self.metric}
        out.update(self._info())
        return out

    @property
    def vectors(self) -> np.ndarray:
        """``(ntotal, dim) float32`` every stored vector, pulled once (see :meth:`pull`)."""
        if self._vectors is None:
            self.pull()
        assert self._vectors is not None
        return self._vectors

    @property
    def ids(self) -> np.ndarray:
        """``(ntotal,)`` the engine's ids in the order of :attr:`vectors` (``int64`` or
        ``object`` holding ``str``)."""
        if self._ids is None:
            self.pull()
        assert self._ids is not None
        return self._ids

    @property
    def media(self) -> list[Any] | None:
        """The ``media_field`` value of each row (``None`` without a media field)."""
        if self._ids is None:
            self.pull()
        return self._media

    @property
    def vectors_path(self) -> Path | None:
        """The ``.npy`` file behind :attr:`vectors` when they were pulled into one."""
        filename = getattr(self._vectors, "filename", None)
        return Path(filename) if filename else None

    def pull(self, cache: str | os.PathLike[str] | None = None) -> np.ndarray:
        """Pull every vector page by page into one preallocated array (a ``.npy`` memory
        map under ``cache`` — a directory — when given, or when larger than 1 GiB)."""
        total = self._count()
        cache_dir = Path(cache) if cache is not None else self.cache
        nbytes = total * self.dim * 4
        if cache_dir is None and nbytes > MEMMAP_BYTES:
            import tempfile

            cache_dir = Path(tempfile.mkdtemp(prefix="feder-pull-"))
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            out: np.ndarray = np.lib.format.open_memmap(
                cache_dir / f"{self.engine}-{_slug(self.name)}-vectors.npy", mode="w+",
                dtype=np.float32, shape=(total, self.dim))
        else:
            out = np.empty((total, self.dim), np.float32)
        ids: list[Any] = []
        media: list[Any] | None = [] if self.media_field else None
        bar = _bar(total, f"pull {self.engine}", self.progress)
        at = 0
        try:
            for page_ids, page, page_media in self._pages():
                m = len(page_ids)
                if m == 0:
                    continue
                if page.ndim != 2 or page.shape[1] != self.dim:
                    raise SourceError(
                        f"{self.engine} returned vectors of shape {page.shape} for "
                        f"{self.name!r}: expected dimension {self.dim}")
                if at + m > out.shape[0]:  # the collection grew while pulling
                    out = _grow(out, at + m)
                out[at: at + m] = page
                ids.extend(page_ids)
                if media is not None:
                    media.extend(page_media if page_media is not None else [None] * m)
                at += m
                if bar is not None:
                    bar.update(m)
        finally:
            if bar is not None:
                bar.close()
        if at < out.shape[0]:
            out = out[:at]
        if isinstance(out, np.memmap):
            out.flush()
        self._vectors = out
        self._ids = _id_array(ids)
        self._media = media
        self._rows = None
        return out

    def row_of(self, ident: Any) -> int:
        """Row of the engine id ``ident`` in :attr:`vectors`;
        :class:`~feder.errors.UnknownIdError` if the engine does not hold it."""
        rows = self._row_map()
        key = _key(ident)
        if key not in rows:
            raise UnknownIdError(f"id {ident!r} is not in {self.engine} collection "
                                 f"{self.name!r} ({self.ntotal} vectors)")
        return rows[key]

    def rows_of(self, idents: Sequence[Any]) -> np.ndarray:
        """``(m,) int64`` rows of engine ids, −1 for ids the pulled vectors do not hold."""
        rows = self._row_map()
        return np.asarray([rows.get(_key(i), -1) for i in idents], np.int64)

    def vector(self, ident: Any) -> np.ndarray:
        """``(dim,) float32`` the stored vector of an engine id."""
        return np.array(self.vectors[self.row_of(ident)], np.float32)

    def check_queries(self, queries: Any, name: str = "queries") -> np.ndarray:
        """``(nq, dim) float32`` or :class:`~feder.errors.QueryError` (dimension mismatch)."""
        from ..diagnose.checks import as_queries

        return as_queries(queries, self.dim, name)

    def search_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` with aliases resolved; ``TypeError`` for names the engine ignores."""
        aliases = {"ef_search": "ef", "efSearch": "ef", "hnsw_ef": "ef", "nprobes": "nprobe"}
        out = {aliases.get(key, key): value for key, value in params.items()}
        valid = {self.param_name} if self.param_name else set()
        unknown = sorted(set(out) - valid)
        if unknown:
            names = ", ".join(["k", *sorted(valid)])
            raise TypeError(f"unknown search parameter {unknown[0]!r} for this {self.engine} "
                            f"index; valid ones: {names}")
        for key, value in out.items():
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{key} must be an integer ≥ 1, got {value!r}")
            out[key] = int(value)
        return out

    def search(self, query: Any, k: int = 10, **params: Any) -> EngineAnswer:
        """The ENGINE's own answer for one query (``(dim,)``), with ``nprobe=`` / ``ef=``
        as the engine's index takes them."""
        return self.search_many(self.check_queries(query, "query"), k, **params)[0]

    def search_many(self, queries: Any, k: int = 10, **params: Any) -> list[EngineAnswer]:
        """:meth:`search` for each row of ``queries`` (``(nq, dim)``)."""
        from ..diagnose.checks import positive_k

        qs = self.check_queries(queries)
        k = positive_k(k)
        sent = self.search_params(params)
        out = []
        for ids, distances in self._search(qs, k, sent):
            out.append(EngineAnswer(list(ids), self.rows_of(ids),
                                    np.asarray(distances, np.float32), dict(sent)))
        return out

    def model(self) -> Any:
        """A feder model of the engine's own index when it is readable (then
        ``feder.trace.search(src.model(), q, k, …)`` replays the engine), else ``None``
        with :attr:`model_reason` saying why."""
        if not self._model_done:
            self._model_cache = self._model()
            self._model_done = True
        return self._model_cache

    def replay(self, query: np.ndarray, k: int, params: dict[str, Any],
               ) -> tuple[Any, np.ndarray] | None:
        """feder's replay of the engine's own search of ``query`` (``(dim,)``) with the
        parameters the engine used: ``(trace or None, (≤k,) source rows)``, or ``None`` when
        the engine's index is not readable. Default: one search of :meth:`model`."""
        model = self.model()
        if model is None:
            return None
        from .. import trace as tracing

        result = tracing.search(model, query, k, **params)
        return result, self.model_rows(result.ids)

    def model_rows(self, model_ids: Any) -> np.ndarray:
        """``(m,) int64`` source rows of the ids the model returns (faiss ids / hnswlib
        labels); −1 for padding."""
        raise NotImplementedError

    def model_id_of(self, ident: Any) -> int:
        """The model's id (faiss id / hnswlib label) of an engine id."""
        raise NotImplementedError

    def engine_distance(self, keys: np.ndarray) -> np.ndarray:
        """Exact keys (smaller is closer: squared L2, −dot, −cos) in the engine's own
        distance convention."""
        return np.asarray(keys, np.float32)

    def _row_map(self) -> dict[Any, int]:
        if self._rows is None:
            self._rows = {_key(v): r for r, v in enumerate(self.ids.tolist())}
        return self._rows

    def __repr__(self) -> str:
        pulled = "pulled" if self._vectors is not None else "not pulled"
        return (f"{type(self).__name__}({self.name!r}, dim={self.dim}, metric={self.metric!r}, "
                f"{pulled})")


def is_source(obj: Any) -> bool:
    """Whether ``obj`` is a live engine source (:class:`BaseSource`)."""
    return isinstance(obj, BaseSource)


def _key(ident: Any) -> Any:
    if isinstance(ident, (np.integer,)):
        return int(ident)
    if isinstance(ident, np.str_):
        return str(ident)
    return ident


def _id_array(ids: list[Any]) -> np.ndarray:
    if ids and all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in ids):
        return np.asarray(ids, np.int64)
    arr = np.empty(len(ids), object)
    arr[:] = [str(i) if not isinstance(i, (int, np.integer)) else int(i) for i in ids]
    return arr


def _grow(out: np.ndarray, need: int) -> np.ndarray:
    bigger = np.empty((max(need, int(out.shape[0] * 1.25) + 1), out.shape[1]), np.float32)
    bigger[: out.shape[0]] = out
    return bigger


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80] or "collection"


def _bar(total: int, label: str, progress: bool | None) -> Any:
    if progress is False or (progress is None and total < PROGRESS_MIN):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=label, unit="vec", file=sys.stderr)
