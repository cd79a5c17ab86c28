"""Checks on what the diagnostics are given: query sets and parameter lists.

``SUPPORTED_KINDS`` (re-exported from :mod:`.kinds`): the index kinds diagnosed.
Every failure raises a :class:`~feder.errors.FederError` subclass whose message names the
argument (``queries``, ``k``, ``nprobe``, ``ef``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ParameterError, QueryError, UnsupportedIndexError
from ..trace.query import check_magnitude
from .kinds import SUPPORTED_KINDS


def as_queries(queries: Any, dim: int, name: str = "queries") -> np.ndarray:
    """``(nq, dim) float32`` C-contiguous copy-free (when possible) view of ``queries``.

    Accepts ``(nq, dim)`` or one ``(dim,)`` vector (then ``nq = 1``); raises
    :class:`~feder.errors.QueryError` naming ``name`` for another shape, no rows, non-numeric
    values, NaN or infinity.
    """
    try:
        arr = np.asarray(queries, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"{name} must be a numeric array of shape (nq, {dim}): {exc}") from None
    if arr.ndim == 1 and arr.shape[0] == dim and dim > 0:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise QueryError(f"{name} has shape {arr.shape}: expected (nq, {dim}), one row per "
                         f"query of the index dimension {dim}")
    if arr.shape[0] == 0:
        raise QueryError(f"{name} is empty: expected at least one query of dimension {dim}")
    finite = np.isfinite(arr)
    if not finite.all():
        row, col = (int(v) for v in np.argwhere(~finite)[0])
        raise QueryError(f"{name}[{row}, {col}] is {arr[row, col]}: expected finite values")
    check_magnitude(arr, name)
    return np.ascontiguousarray(arr)


def positive_k(k: Any) -> int:
    """``k`` as an int ≥ 1, or :class:`~feder.errors.QueryError` naming ``k``."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise QueryError(f"k must be an integer ≥ 1, got {k!r}")
    if k < 1:
        raise QueryError(f"k must be ≥ 1, got {k}")
    return int(k)


def param_list(values: Any, name: str, low: int, high: int | None = None) -> np.ndarray:
    """``(p,) int64`` a strictly increasing list of integers in ``[low, high]``.

    Raises :class:`~feder.errors.ParameterError` naming ``name`` when ``values`` is not a
    sequence of integers, is empty, not strictly increasing, or has a value out of range.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ParameterError(f"{name} must be a list of integers, got {values!r}")
    items = list(np.asarray(values).ravel()) if isinstance(values, np.ndarray) else list(values)
    if not items:
        raise ParameterError(f"{name} is empty: give at least one value")
    for value in items:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ParameterError(f"{name} must hold integers, got {value!r}")
    arr = np.asarray([int(v) for v in items], dtype=np.int64)
    if arr.size > 1 and not bool(np.all(np.diff(arr) > 0)):
        at = int(np.flatnonzero(np.diff(arr) <= 0)[0])
        raise ParameterError(f"{name} must be strictly increasing: {name}[{at}] = {arr[at]} is "
                             f"followed by {arr[at + 1]}")
    top = "" if high is None else f" and ≤ {high}"
    if int(arr[0]) < low or (high is not None and int(arr[-1]) > high):
        bad = int(arr[0]) if int(arr[0]) < low else int(arr[-1])
        raise ParameterError(f"{name} = {bad} is out of range: values must be ≥ {low}{top}")
    return arr


def diagnosable(model: Any) -> bool:
    """Whether the diagnostics handle ``model``'s kind (see :mod:`feder.diagnose.kinds`)."""
    return getattr(model, "kind", None) in SUPPORTED_KINDS


def diagnosable_kind(model: Any, what: str) -> str:
    """``model.kind`` if the diagnostics support it, else
    :class:`~feder.errors.UnsupportedIndexError` naming ``what`` (the function called)."""
    kind = getattr(model, "kind", None)
    if kind not in SUPPORTED_KINDS:
        raise UnsupportedIndexError(
            f"{what} supports the index kinds {', '.join(SUPPORTED_KINDS)}, not "
            f"{type(model).__name__} (kind {kind!r})")
    return str(kind)
