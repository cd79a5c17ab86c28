"""Replay of a faiss ``IndexPreTransform``: the query goes through the transform chain as
faiss's ``apply_chain`` computes it, then the wrapped index's own replay searches it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import QueryError
from ..model_transform import chain_description
from .query import as_query
from .types import SearchTrace

if TYPE_CHECKING:
    from ..model_transform import PreTransformIndex


def trace_pretransform(index: PreTransformIndex, query: Any, k: int = 5,
                       **params: Any) -> SearchTrace:
    """Replay ``IndexPreTransform.search(query, k)``: ``params`` are the wrapped index's
    (``nprobe``, ``ef``). The trace is the inner index's (its steps live in the transformed
    space the views draw), with ``query`` the transformed query, ``input_query`` the one
    given and ``transform`` a description of the chain."""
    from . import TRACERS

    given = as_query(query, index.dim)
    transformed = index.transform_queries(given[None])[0]
    square = float(np.dot(transformed.astype(np.float64), transformed.astype(np.float64)))
    if not np.isfinite(square) or square > np.finfo(np.float32).max:
        raise QueryError(
            f"the transform chain ({chain_description(index.chain)}) maps this query to "
            f"values whose squared norm ({square:.3g}) overflows float32: expected a "
            f"transformed query faiss can compute distances with ({index.source})")
    inner = index.inner
    trace = TRACERS[inner.kind].run(inner, transformed, k=k, **params)
    return dataclasses.replace(trace, transform=index.description, input_query=given)
