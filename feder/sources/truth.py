"""Exact top-k over pulled vectors, blockwise: in this process (numpy) or on Dask.

Both paths run the same block function over the same fixed row blocks and merge the
per-block top-``k`` the same way, so Dask truth equals numpy truth row for row.

A block is scored with one matrix product (screening keys), its ``k`` best rows are
recomputed exactly (difference first for L2, one row at a time, so a value never depends on
the block's shape), then blocks merge on ``(exact key, row)``. Keys: smaller is closer —
squared L2 (``l2``), ``−q·x`` (``ip``), ``−cos`` (``cosine``).

On Dask, blocks are sent **by path**: each task opens ``np.load(path, mmap_mode="r")`` and
slices its rows; no array or memory map travels inside the graph (only the queries, scattered
once). Without a client, a ``LocalCluster`` bound to 127.0.0.1 is started (and closed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError

SCORE_FLOATS = 1 << 24
"""Scores per block (queries × rows, 64 MB of float32): the unit of work of a Dask task."""


def block_rows_for(nq: int) -> int:
    """Rows per block for ``nq`` queries (the same on every path, so results agree)."""
    return int(min(1 << 17, max(1024, SCORE_FLOATS // max(nq, 1))))
_PAD_KEY = np.float32(np.inf)
_CHUNK_FLOATS = 1 << 20  # 4 MB of scores per chunk of queries


def _keys_block(block: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """``(nq, m) float32`` screening keys (smaller is closer, up to a per-query constant)."""
    if metric == "l2":  # ‖x‖² − 2q·x: one matrix product, the norms added in place
        scores: np.ndarray = (queries * np.float32(-2.0)) @ block.T
        scores += np.einsum("ij,ij->i", block, block)[None, :]
        return scores
    scores = (-queries) @ block.T
    if metric == "cosine":
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        norms[norms == 0] = 1.0
        scores /= norms[None, :]
    return scores


def exact_keys(vectors: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """``(m,) float32`` exact keys of row ``i`` of ``vectors`` to row ``i`` of ``queries``."""
    vectors = np.asarray(vectors, np.float32)
    if metric == "l2":
        diff = vectors - queries
        return np.asarray(np.einsum("ij,ij->i", diff, diff), np.float32)
    dots = np.einsum("ij,ij->i", vectors, queries)
    if metric == "cosine":
        norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
        norms[norms == 0] = 1.0
        return np.asarray(-(dots / norms), np.float32)
    return np.asarray(-dots, np.float32)


def prepare(queries: np.ndarray, metric: str) -> np.ndarray:
    """Queries as scored: normalized for cosine."""
    qs = np.ascontiguousarray(queries, np.float32)
    if metric == "cosine":
        norms = np.sqrt(np.einsum("ij,ij->i", qs, qs))
        norms[norms == 0] = 1.0
        qs = np.ascontiguousarray(qs / norms[:, None], np.float32)
    return qs


def block_top(block: np.ndarray, start: int, queries: np.ndarray, k: int, metric: str,
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, keys)``, both ``(nq, min(k, m))``: the exact top-``k`` of one block (rows
    are global: ``start`` + position), ordered by ``(key, row)``."""
    block = np.ascontiguousarray(block, np.float32)
    m = block.shape[0]
    nq = queries.shape[0]
    take = min(k, m)
    if take == 0:
        return np.empty((nq, 0), np.int64), np.empty((nq, 0), np.float32)
    # Keep a margin beyond k so screening round-off cannot drop a true top-k row.
    keep = min(m, take + max(8, take))
    if keep < m:
        part = np.empty((nq, keep), np.intp)
        step = max(1, _CHUNK_FLOATS // m)  # a chunk of queries' scores stays in cache
        for c in range(0, nq, step):
            screen = _keys_block(block, queries[c: c + step], metric)
            part[c: c + step] = np.argpartition(screen, keep - 1, axis=1)[:, :keep]
    else:
        part = np.broadcast_to(np.arange(m), (nq, m)).copy()
    flat_q = np.repeat(np.arange(nq), part.shape[1])
    keys = exact_keys(block[part.ravel()], queries[flat_q], metric).reshape(part.shape)
    keys = np.where(np.isnan(keys), _PAD_KEY, keys)
    order = np.lexsort((part, keys), axis=1)[:, :take]
    rows = np.take_along_axis(part, order, axis=1).astype(np.int64) + start
    return rows, np.take_along_axis(keys, order, axis=1)


def merge(parts: list[tuple[np.ndarray, np.ndarray]], nq: int, k: int,
          ) -> tuple[np.ndarray, np.ndarray]:
    """Per-block top-``k`` lists → the global top-``k`` (``(nq, k)`` rows −1 padded, keys)."""
    rows = np.concatenate([p[0] for p in parts], axis=1) if parts else np.empty((nq, 0), np.int64)
    keys = np.concatenate([p[1] for p in parts], axis=1) if parts else \
        np.empty((nq, 0), np.float32)
    order = np.lexsort((rows, keys), axis=1)[:, :k]
    rows = np.take_along_axis(rows, order, axis=1)
    keys = np.take_along_axis(keys, order, axis=1)
    if rows.shape[1] < k:
        pad = k - rows.shape[1]
        rows = np.pad(rows, ((0, 0), (0, pad)), constant_values=-1)
        keys = np.pad(keys, ((0, 0), (0, pad)), constant_values=np.inf)
    return rows, keys


def exact_rows(vectors: np.ndarray, queries: np.ndarray, k: int, metric: str,
               block_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The exact top-``k`` rows of ``queries`` among ``vectors`` in this process:
    ``(rows (nq, k) int64 −1 padded, keys (nq, k) float32)``."""
    qs = prepare(queries, metric)
    block_rows = block_rows or block_rows_for(qs.shape[0])
    parts = [block_top(vectors[s: s + block_rows], s, qs, k, metric)
             for s in range(0, vectors.shape[0], block_rows)]
    return merge(parts, qs.shape[0], k)


def _task(path: str, start: int, stop: int, queries: np.ndarray, k: int, metric: str,
          ) -> tuple[np.ndarray, np.ndarray]:
    """One Dask task: open the ``.npy`` by path, score rows ``start:stop``."""
    data = np.load(path, mmap_mode="r")
    return block_top(np.asarray(data[start:stop]), start, queries, k, metric)


def vectors_file(vectors: np.ndarray, cache: str | os.PathLike[str] | None = None) -> Path:
    """A ``.npy`` path holding ``vectors``: its own file when ``vectors`` is a ``.npy``
    memory map, else a copy written under ``cache`` (default: a temporary directory)."""
    filename = getattr(vectors, "filename", None)
    if filename and isinstance(vectors, np.memmap) and str(filename).endswith(".npy"):
        return Path(filename)
    known = _WRITTEN.get(id(vectors))
    if known is not None and known[0]() is vectors and known[1].is_file():
        return known[1]
    if cache is not None:
        folder = Path(cache)
        folder.mkdir(parents=True, exist_ok=True)
    else:  # removed with the array
        folder = Path(tempfile.mkdtemp(prefix="feder-truth-"))
        weakref.finalize(vectors, shutil.rmtree, str(folder), True)
    path = folder / f"vectors-{vectors.shape[0]}x{vectors.shape[1]}-{id(vectors):x}.npy"
    np.save(path, np.ascontiguousarray(vectors, np.float32))
    _WRITTEN[id(vectors)] = (weakref.ref(vectors), path)
    return path


_WRITTEN: dict[int, tuple[Any, Path]] = {}
"""``id(array)`` → (weak reference, the ``.npy`` written for it): one copy per array."""


def local_cluster(n_workers: int = 2, threads_per_worker: int = 1) -> Any:
    """A ``dask.distributed.LocalCluster`` bound to 127.0.0.1 (worker processes with one BLAS
    thread each) and its ``Client``."""
    distributed = _distributed()
    import dask

    # Dask spawns workers with MALLOC_TRIM_THRESHOLD_=65536, which also pins glibc's mmap
    # threshold at 128 kB: every score matrix is then mapped, faulted in and returned afresh
    # (a block took 1.8× longer). Workers here keep freed memory up to 256 MB for reuse.
    spawn = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    spawn.update({"MALLOC_TRIM_THRESHOLD_": 1 << 28, "MALLOC_MMAP_THRESHOLD_": 1 << 25,
                  "OMP_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1, "MKL_NUM_THREADS": 1})
    saved = {key: os.environ.get(key) for key in spawn}
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn}):
            cluster = distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                host="127.0.0.1", dashboard_address="127.0.0.1:0")  # a free loopback port
    finally:  # the nanny sets these in this process too: put them back
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return cluster, distributed.Client(cluster)


def dask_rows(path: str | os.PathLike[str], queries: np.ndarray, k: int, metric: str,
              client: Any = None, block_rows: int | None = None,
              ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_rows` on Dask over the ``.npy`` at ``path`` (``client``: a
    ``dask.distributed.Client``; default a 2-worker LocalCluster on 127.0.0.1, closed after)."""
    path = str(path)
    header = np.load(path, mmap_mode="r")
    n = int(header.shape[0])
    del header
    qs = prepare(queries, metric)
    block_rows = block_rows or block_rows_for(qs.shape[0])
    own = None
    if client is None:
        own = local_cluster()
        client = own[1]
    try:
        shared = client.scatter(qs, broadcast=True)
        starts = list(range(0, n, block_rows))
        futures = client.map(_task, [path] * len(starts), starts,
                             [min(s + block_rows, n) for s in starts],
                             queries=shared, k=k, metric=metric, pure=False)
        parts = client.gather(futures)
    finally:
        if own is not None:
            own[1].close()
            own[0].close()
    return merge(list(parts), qs.shape[0], k)


def truth_rows(vectors: np.ndarray, queries: np.ndarray, k: int, metric: str,
               truth: Any = None, cache: str | os.PathLike[str] | None = None,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` rows with ``truth``: ``None``/``"numpy"`` (this process), ``"dask"``
    (a LocalCluster on 127.0.0.1) or a ``dask.distributed.Client``."""
    if truth is None or truth == "numpy":
        return exact_rows(vectors, queries, k, metric)
    if truth == "dask":
        return dask_rows(vectors_file(vectors, cache), queries, k, metric)
    if hasattr(truth, "map") and hasattr(truth, "gather") and hasattr(truth, "scatter"):
        return dask_rows(vectors_file(vectors, cache), queries, k, metric, client=truth)
    raise ParameterError(f"truth must be 'numpy', 'dask' or a dask.distributed.Client, "
                         f"got {truth!r}")


def _distributed() -> Any:
    from .base import require

    return require("dask.distributed", "dask", "Dask truth")
