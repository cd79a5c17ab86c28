"""A bounded BLAS/OpenMP thread pool for feder's own numeric calls.

OpenBLAS (numpy's, scipy's, faiss's) and OpenMP threads spin-wait: on a busy machine (a
notebook rarely runs alone) a small matrix product spread over every core can take 50× longer
than on one, and threads left spinning after a call slow down the next one. feder's arrays
are small enough that one thread loses nothing, so its numeric entry points run inside
:func:`blas_limits`. That uses ``threadpoolctl`` when it is installed (scikit-learn and
umap-learn depend on it) and does nothing without it. ``FEDER_BLAS_THREADS`` sets the limit
(default 1; ``0`` disables limiting). The user's own code outside these calls is untouched.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

DEFAULT_THREADS = 1

_controller: Any = None
_modules_seen = -1  # len(sys.modules) when the controller scanned the loaded libraries
_unavailable = False


def thread_limit() -> int | None:
    """Threads allowed for BLAS/OpenMP pools in feder's calls (``None``: no limit)."""
    raw = os.environ.get("FEDER_BLAS_THREADS", "").strip()
    if not raw:
        return DEFAULT_THREADS
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_THREADS
    return value if value > 0 else None


def _get_controller() -> Any:
    """A ``ThreadpoolController``, rescanned when modules were imported since the last scan
    (a newly imported extension may bring its own BLAS or OpenMP: scipy, faiss)."""
    global _controller, _modules_seen, _unavailable
    if _unavailable:
        return None
    if _controller is None or len(sys.modules) != _modules_seen:
        try:
            # imported by name: feder does not declare it (and mypy has no stubs for it)
            module = importlib.import_module("threadpoolctl")
        except ImportError:
            _unavailable = True
            return None
        _modules_seen = len(sys.modules)
        _controller = module.ThreadpoolController()
    return _controller


@contextlib.contextmanager
def blas_limits(limit: int | None = -1) -> Iterator[None]:
    """Run the block with BLAS/OpenMP pools limited to ``limit`` threads (default:
    :func:`thread_limit`). Re-entrant, about 10–20 µs; does nothing without ``threadpoolctl``
    or when the limit is ``None``."""
    if limit == -1:
        limit = thread_limit()
    controller = _get_controller() if limit is not None else None
    if controller is None:
        yield
        return
    # The pools are set and restored directly: threadpoolctl's ``limit()`` builds its info
    # of every library on each call (≈ 50 µs on a busy machine, as long as faiss's whole
    # search of a 200k IVF), this ≈ 10–20 µs; a pool already at the limit is left alone.
    changed = []
    for lib in controller.lib_controllers:
        before = lib.get_num_threads()
        if before is not None and before != limit:
            lib.set_num_threads(limit)
            changed.append((lib, before))
    try:
        yield
    finally:
        for lib, before in reversed(changed):
            lib.set_num_threads(before)
