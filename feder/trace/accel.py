"""Optional numba acceleration of the HNSW and IVF_PQ replays.

The replays in :mod:`.hnsw`, :mod:`.faiss_hnsw` and :mod:`.ivf_codes` (IVF_PQ) are pure
numpy/Python; when numba is installed (``feder[umap]`` brings it) they run their inner loops
through the kernels of :mod:`._graph_kernels` and :mod:`._code_kernels` instead, with
identical results. The kernels are compiled on first use and cached on disk (numba's
``cache=True``: next to the module, or in numba's user cache directory when that is
read-only), so only the first process pays the compilation.

``FEDER_NUMBA=0`` in the environment turns the accelerator off (the replays then use numpy
only); :func:`set_enabled` does the same at run time (tests compare both paths).
"""

from __future__ import annotations

import importlib
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

__all__ = ["code_kernels", "enabled", "flat_rows", "graph_kernels", "guarded",
           "scratch_visited", "set_enabled", "walkable"]

_R = TypeVar("_R")
_local = threading.local()
_walkable_graphs: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_state: dict[str, Any] = {"modules": {}, "enabled": None}


def set_enabled(value: bool | None) -> None:
    """Force the accelerator on (``True``, if numba imports) or off (``False``); ``None``
    restores the default (on unless ``FEDER_NUMBA=0``)."""
    _state["enabled"] = value


def enabled() -> bool:
    """True if the replays use the numba kernels."""
    return graph_kernels() is not None


def graph_kernels() -> ModuleType | None:
    """The compiled HNSW kernels (:mod:`._graph_kernels`), or ``None`` (numba missing or
    turned off)."""
    return _load("_graph_kernels")


def code_kernels() -> ModuleType | None:
    """The compiled IVF_PQ kernels (:mod:`._code_kernels`), or ``None``."""
    return _load("_code_kernels")


def _load(name: str) -> ModuleType | None:
    wanted = _state["enabled"]
    if wanted is None:
        wanted = os.environ.get("FEDER_NUMBA", "1").strip().lower() not in ("0", "false", "no",
                                                                           "off")
    if not wanted:
        return None
    modules: dict[str, ModuleType | None] = _state["modules"]
    if name not in modules:
        with _lock:
            if name not in modules:
                try:
                    modules[name] = importlib.import_module(f"{__package__}.{name}")
                except ImportError:
                    modules[name] = None
    return modules[name]


def guarded(run: Callable[[], _R]) -> _R | None:
    """``run()``, or ``None`` if numba refuses to compile or run a kernel for these inputs
    (an array type no file format produces today): the caller then replays with numpy. The
    thread's visited table is cleared, as the kernel may have stopped half way."""
    try:
        return run()
    except Exception as exc:
        from numba.core.errors import NumbaError

        if not isinstance(exc, NumbaError):
            raise
        buf = getattr(_local, "visited", None)
        if buf is not None:
            buf[:] = False
        return None


def scratch_visited(n: int) -> np.ndarray:
    """``(n,) bool`` all False: this thread's visited table, reused between searches (a
    fresh 1 MB table per query at 1M nodes costs more in page faults than the search). The
    caller must set back to False every entry it set (or all of them after a failure)."""
    buf: np.ndarray | None = getattr(_local, "visited", None)
    if buf is None or buf.shape[0] < n:
        buf = np.zeros(max(n, 1024), bool)
        _local.visited = buf
    return buf[:n]


def flat_rows(vectors: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``(flat, stride)``: a 1-D float32 view over the rows of ``vectors`` ``(n, d) float32``
    (row ``r`` is ``flat[r * stride : r * stride + d]``), as the kernels read them; ``None``
    when the rows are not laid out that way (the numpy replay is used then)."""
    n, d = vectors.shape
    if vectors.dtype != np.float32 or n == 0 or d == 0:
        return None
    row, col = vectors.strides
    if col != 4 or row <= 0 or row % 4:
        return None
    stride = row // 4
    if stride < d:
        return None
    size = (n - 1) * stride + d
    flat = np.lib.stride_tricks.as_strided(vectors, shape=(size,), strides=(4,),
                                           writeable=False)
    return flat, stride


def walkable(graphs: Sequence[Any], n: int) -> bool:
    """True if every level's CSR (``LevelGraph``: ``nodes``, ``offsets``, ``neighbors``) has
    one offset per node plus one, ascending from 0 to at most ``neighbors.size``, and level 0
    holds all ``n`` nodes: what the kernels rely on to never read out of bounds (each link
    target is checked against ``n`` as it is read)."""
    if not graphs or graphs[0].nodes.shape[0] != n:
        return False
    for graph in graphs:
        known = _walkable_graphs.get(graph)
        if known is None:
            offsets = graph.offsets
            known = bool(offsets.shape[0] == graph.nodes.shape[0] + 1 and offsets.shape[0] > 0
                         and int(offsets[0]) == 0
                         and int(offsets[-1]) <= graph.neighbors.shape[0]
                         and not np.any(offsets[1:] < offsets[:-1]))
            _walkable_graphs[graph] = known
        if not known:
            return False
    return True
