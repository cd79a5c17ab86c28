"""A bounded BLAS/OpenMP thread pool for feder's own numeric calls.

OpenBLAS and MKL threads spin-wait: on a busy machine (a notebook rarely runs alone) a
small matrix product on all cores can take 50× longer than on one. feder's arrays are small
enough that one or two threads lose nothing, so numeric entry points run inside
:func:`blas_limits`. It uses ``threadpoolctl`` when installed (it is a scikit-learn and UMAP
dependency) and is a no-op without it. ``FEDER_BLAS_THREADS`` overrides the limit
(``0`` disables it).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from typing import Any

DEFAULT_THREADS = 1

_controller: Any = None
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
    """One ``ThreadpoolController`` per process (its library scan costs a few ms)."""
    global _controller, _unavailable
    if _controller is None and not _unavailable:
        try:
            # imported by name: feder does not declare it (mypy has no stubs for it either)
            module = importlib.import_module("threadpoolctl")
        except ImportError:
            _unavailable = True
        else:
            _controller = module.ThreadpoolController()
    return _controller


@contextlib.contextmanager
def blas_limits(limit: int | None = -1) -> Iterator[None]:
    """Run the block with BLAS/OpenMP pools limited to ``limit`` threads (default:
    :func:`thread_limit`). Re-entrant; does nothing without ``threadpoolctl`` or when the
    limit is ``None``."""
    if limit == -1:
        limit = thread_limit()
    controller = _get_controller() if limit is not None else None
    if controller is None:
        yield
        return
    with controller.limit(limits=limit):
        yield
