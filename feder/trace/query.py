"""Checks on what a search is given: the query vector and its integer parameters."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import QueryError


def as_query(query: Any, dim: int) -> np.ndarray:
    """Validate a query vector and return it as a contiguous ``(dim,) float32`` array.

    Accepts shape ``(dim,)`` or ``(1, dim)``; raises :class:`QueryError` for other shapes,
    non-numeric values, NaN or infinity, and for a query so large that its squared norm
    overflows float32 (every float32 distance to it would be infinite or NaN).
    """
    try:
        arr = np.asarray(query, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"query must be a numeric vector of length {dim}: {exc}") from None
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1 or arr.shape[0] != dim:
        raise QueryError(
            f"query has shape {arr.shape}: expected a vector of length {dim} (the index dimension)"
        )
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise QueryError(f"query contains {arr[bad]} at position {bad}: expected finite values")
    check_magnitude(arr[None, :], "query")
    return np.ascontiguousarray(arr)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_magnitude(queries: np.ndarray, name: str) -> None:
    """Raise :class:`QueryError` naming ``name`` when a row of ``queries`` (``(nq, d)``
    float32, finite) has a squared norm beyond float32: the libraries compute distances in
    float32, so every distance to that row would be infinite or NaN."""
    squared = np.einsum("ij,ij->i", queries, queries, dtype=np.float64)
    if squared.size and float(squared.max()) > FLOAT32_MAX:
        row = int(np.argmax(squared))
        where = f"{name}[{row}]" if queries.shape[0] > 1 else name
        raise QueryError(f"{where} has squared norm {squared[row]:.3g}, beyond float32's "
                         f"{FLOAT32_MAX:.3g}: distances to it cannot be computed; expected "
                         "values below about 1e19")


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int ≥ 1, or :class:`QueryError` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise QueryError(f"{name} must be an integer ≥ 1, got {value!r}")
    if value < 1:
        raise QueryError(f"{name} must be ≥ 1, got {value}")
    return int(value)
