"""Small numpy helpers shared by the model and the tracer (no feder imports)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def sample_rows(n: int, count: int, seed: int = 0) -> np.ndarray:
    """``(min(count, n),) int64`` distinct rows of ``0..n-1`` picked at random (seeded), in
    increasing order; every row when ``count ≥ n``."""
    if count >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n, size=count, replace=False))


def squared_norms(vectors: np.ndarray) -> np.ndarray:
    """``(m,) float32`` ``‖x‖²`` of each row of ``vectors`` ``(m, d) float32``."""
    return np.asarray(np.einsum("ij,ij->i", vectors, vectors), dtype=np.float32)


def rows_by_list(offsets: np.ndarray, rows: np.ndarray,
                 ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``rows`` ``(m,) int64`` (valid, any order) of a CSR layout whose list ``i`` holds rows
    ``offsets[i]:offsets[i + 1]``, grouped by list: ``(list_no, where, within)`` per list
    holding some, ``where`` their positions in ``rows`` and ``within`` their rows inside the
    list (both ``int64``, ``within`` ascending)."""
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    lists = np.searchsorted(offsets, ordered, side="right") - 1
    within = ordered - offsets[lists]
    starts = np.flatnonzero(np.diff(lists, prepend=-1))  # one run per list
    ends = np.append(starts[1:], rows.shape[0])
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        yield int(lists[a]), order[a:b], within[a:b]
