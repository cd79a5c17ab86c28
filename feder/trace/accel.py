"""Optional numba acceleration of the HNSW and IVF_PQ replays.

The replays in :mod:`.hnsw`, :mod:`.faiss_hnsw` and :mod:`.ivf_codes` (IVF_PQ) are pure
numpy/Python; when numba is installed (``feder[umap]`` brings it) they run their inner loops
through the kernels of :mod:`._graph_kernels` and :mod:`._code_kernels` instead, with
identical results.

**Nobody waits for a compilation.** The kernels are never compiled in the caller's thread:
the first request for them (:func:`graph_kernels`, :func:`code_kernels`, or
:func:`start_warm_up`) starts one daemon thread that compiles — or, in every later process,
loads from numba's disk cache — each specialization the replays call (the ``SIGNATURES``
table of each kernel module), then turns further compilation of those kernels off
(``Dispatcher.disable_compile``). Until a module's table is done its function returns
``None`` and the replays run on numpy (same results, slower). Compiling takes ≈ 10–30 s of
one core, once per machine (and numba / kernel version); loading ≈ 0.4–0.8 s.

Waiting policy: no request ever waits. Measured on the 100k benchmark files (d = 128), a
fresh process's first search on numpy takes 10–55 ms, while even a filled cache takes
≈ 0.4–0.8 s to load (numba's import included): waiting would only delay that first answer.
The kernels take over from the first search after the warm-up. :func:`wait_ready` blocks
(tests, benchmarks).

The warm-up works from types alone (``Dispatcher.compile(signature)``): it touches no model,
so nothing it does is shared with a search in progress (per-model caches such as IVF_PQ's
list tables, the ``walkable`` flags, the thread-local visited tables stay the searches' own).

After the warm-up a call whose argument types match no prepared specialization (an array
layout no file format produces today) is converted by numba to a compatible one or, failing
that, raises a ``TypeError`` that :func:`guarded` turns into a numpy replay (counted in
:data:`stats`) — it never compiles in the foreground.

The disk cache is ``$NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/feder/numba``
(``~/.cache/feder/numba``, :func:`numba_cache_dir`) when feder imports numba first; if numba
was imported before, numba's own default (``__pycache__`` next to the module if writable, else
a per-user directory).

``FEDER_NUMBA=0`` in the environment turns the accelerator off (no thread is started, numba is
not imported); :func:`set_enabled` does the same at run time (tests compare both paths).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

__all__ = ["code_kernels", "enabled", "flat_rows", "graph_kernels", "guarded",
           "numba_cache_dir", "ready", "scratch_floats", "scratch_visited", "set_enabled",
           "start_warm_up", "stats", "wait_ready", "walkable"]

_R = TypeVar("_R")
_local = threading.local()
_walkable_graphs: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_state: dict[str, Any] = {"enabled": None, "thread": None, "error": None}

KERNEL_MODULES = ("_graph_kernels", "_code_kernels")
"""Each is usable as soon as its own table is warm; the one first asked for is warmed first."""
_modules: dict[str, ModuleType] = {}  # name -> kernel module, set once its table is warm
_settled = threading.Event()  # the warm-up thread finished (every table warm, or failed)
stats: dict[str, int] = {"fallbacks": 0, "compiled": 0, "loaded": 0}
"""Counters: ``fallbacks`` kernel calls a ``TypeError`` of numba's dispatcher sent back to
numpy (no prepared specialization); ``compiled`` / ``loaded`` specializations the warm-up
compiled / loaded from the disk cache."""


def set_enabled(value: bool | None) -> None:
    """Force the accelerator on (``True``, if numba imports) or off (``False``); ``None``
    restores the default (on unless ``FEDER_NUMBA=0``)."""
    _state["enabled"] = value


def _wanted() -> bool:
    wanted = _state["enabled"]
    if wanted is None:
        wanted = os.environ.get("FEDER_NUMBA", "1").strip().lower() not in ("0", "false", "no",
                                                                           "off")
    return bool(wanted)


def enabled() -> bool:
    """True if the replays use (or, once :func:`ready`, will use) the numba kernels: turned
    on and numba installed. Starts nothing."""
    return _wanted() and _state["error"] is None and _numba_installed()


def ready() -> bool:
    """True if every kernel is warm (the replays use them now)."""
    return len(_modules) == len(KERNEL_MODULES)


def graph_kernels() -> ModuleType | None:
    """The HNSW kernels (:mod:`._graph_kernels`) once warm, else ``None`` (numba missing,
    turned off, or still warming up: see the module's waiting policy)."""
    return _kernels("_graph_kernels")


def code_kernels() -> ModuleType | None:
    """The IVF_PQ kernels (:mod:`._code_kernels`) once warm, else ``None``."""
    return _kernels("_code_kernels")


def _kernels(name: str) -> ModuleType | None:
    if not _wanted():
        return None
    found = _modules.get(name)
    if found is not None:
        return found
    start_warm_up(name)
    return _modules.get(name)


def _numba_installed() -> bool:
    if "numba" in sys.modules:
        return sys.modules["numba"] is not None  # None: imports of it are blocked
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):
        return False


def start_warm_up(first: str = KERNEL_MODULES[0]) -> bool:
    """Start the warm-up thread unless it runs or ran already, with the kernel module
    ``first`` (one of :data:`KERNEL_MODULES`) warmed first; ``False`` (nothing started) when
    the accelerator is off, numba is not installed or the warm-up failed."""
    if not _wanted():
        return False
    thread = _state["thread"]
    if thread is None:
        with _lock:
            thread = _state["thread"]
            if thread is None:
                if not _numba_installed():
                    thread = _state["thread"] = False
                else:
                    numba_cache_dir()  # before numba's first import reads it
                    order = (first, *(name for name in KERNEL_MODULES if name != first))
                    thread = _state["thread"] = threading.Thread(
                        target=_warm_up, args=(order,), name="feder-numba-warm-up",
                        daemon=True)
                    thread.start()
    return thread is not False and _state["error"] is None


def wait_ready(timeout: float | None = None) -> bool:
    """Start the warm-up if needed and wait (up to ``timeout`` seconds) until every kernel is
    warm; ``True`` if they are. For tests and benchmarks: a replay never needs this."""
    if start_warm_up():
        _settled.wait(timeout)
    return ready()


def _warm_up(order: Sequence[str]) -> None:
    """The warm-up thread: each kernel module's ``SIGNATURES`` compiled or loaded, then its
    kernels' compilation turned off and the module published, module after module."""
    try:
        for name in order:
            module = importlib.import_module(f"{__package__}.{name}")
            table: Sequence[tuple[Any, tuple[Any, ...]]] = module.SIGNATURES
            kernels = tuple(dict.fromkeys(kernel for kernel, _ in table))
            for kernel, signature in table:
                misses = sum(kernel.stats.cache_misses.values())
                kernel.compile(signature)
                stats["compiled" if sum(kernel.stats.cache_misses.values()) > misses
                      else "loaded"] += 1
            for kernel in kernels:
                kernel.disable_compile()
            _modules[name] = module
    except Exception as exc:  # numba broken or refusing a kernel: numpy from now on
        _state["error"] = exc
    finally:
        _settled.set()


def _after_fork_in_child() -> None:
    """A forked child holds only the thread that forked: a warm-up still running in the
    parent does not run here, and the locks it held stay held. The child then starts and
    waits for no warm-up and uses only the kernel modules already warm (numpy otherwise)."""
    global _lock, _settled
    _lock = threading.Lock()
    if not _settled.is_set():
        _state["thread"] = False
        _settled = threading.Event()
        _settled.set()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def numba_cache_dir() -> str | None:
    """Give numba a writable on-disk cache before it is first imported: when
    ``NUMBA_CACHE_DIR`` is unset, ``$XDG_CACHE_HOME/feder/numba`` (``~/.cache/feder/numba``).
    Returns the directory set, or ``None`` (already set, numba already imported, or no
    writable place: numba then uses its own default, next to the package or per user)."""
    if os.environ.get("NUMBA_CACHE_DIR") or "numba" in sys.modules:
        return None
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "feder" / "numba"
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # no home directory, or not writable
        return None
    if not os.access(folder, os.W_OK):
        return None
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return str(folder)


def guarded(run: Callable[[], _R]) -> _R | None:
    """``run()``, or ``None`` if numba refuses to run a kernel for these inputs (argument types
    matching no prepared specialization — compiling one is off after the warm-up — or an error
    of numba's): the caller then replays with numpy. The thread's visited table is cleared,
    as the kernel may have stopped half way."""
    try:
        return run()
    except Exception as exc:
        if not (isinstance(exc, TypeError) and str(exc).startswith(_DISPATCH_ERRORS)):
            from numba.core.errors import NumbaError

            if not isinstance(exc, NumbaError):
                raise
        stats["fallbacks"] += 1
        buf = getattr(_local, "visited", None)
        if buf is not None:
            buf[:] = False
        return None


_DISPATCH_ERRORS = ("No matching definition", "Ambiguous overloading")
"""How numba's dispatcher words a call it has no specialization for (compiling disabled)."""


def scratch_visited(n: int) -> np.ndarray:
    """``(n,) bool`` all False: this thread's visited table, reused between searches (a
    fresh 1 MB table per query at 1M nodes costs more in page faults than the search). The
    caller must set back to False every entry it set (or all of them after a failure)."""
    buf: np.ndarray | None = getattr(_local, "visited", None)
    if buf is None or buf.shape[0] < n:
        buf = np.zeros(max(n, 1024), bool)
        _local.visited = buf
    return buf[:n]


def scratch_floats(count: int) -> np.ndarray:
    """``(count,) float32``, 64-byte aligned: this thread's scratch buffer (the IVF scan
    kernel reads a mapped file's lists into it), reused and grown from call to call; its
    content is the caller's until the thread's next call."""
    buf: np.ndarray | None = getattr(_local, "floats", None)
    if buf is None or buf.size < count:
        raw = np.empty(max(count, 1 << 16) + 16, np.float32)
        buf = raw[(-raw.ctypes.data % 64) // 4:][: raw.size - 16]
        _local.floats = buf
    return buf[:count]


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
