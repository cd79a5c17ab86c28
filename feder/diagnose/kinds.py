"""Which diagnostics an index kind gets, as tables: no ``isinstance`` chain decides.

:data:`KINDS` maps every index kind the diagnostics handle to a :class:`KindRow`: the
diagnosis family (how a miss is explained and a sweep is run: ``"ivf"``, ``"graph"``,
``"flat"``), the distance convention of its truth, and whether it stores lossy codes
(product / scalar quantization: the index does not hold the original vectors, so its truth
is over the decoded reconstructions unless the original vectors are given).

:data:`WRAPPERS` maps the kinds that wrap another model (``ivf_idmap``: ids mapped;
``pretransform``: queries transformed) to a :class:`WrapperRow`: the diagnostics unwrap
them (:func:`unwrap`), diagnose the inner model with the queries as it sees them, then map
ids back. A new kind joins by adding a row here (and, for a new family, its functions in
``exact`` / ``explain`` / ``sweep`` / ``health``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ParameterError


def _never(model: Any) -> bool:
    return False


def _always(model: Any) -> bool:
    return True


def _stores_codes(model: Any) -> bool:
    """``IxPq`` / ``IxSQ`` flat scans and faiss ``IHNs`` / ``IHNp`` graphs keep PQ / SQ codes
    (their ``vectors`` are the decoded codes); ``IxF2`` / ``IHNf`` keep the vectors."""
    return getattr(model, "pq_indices", None) is not None or \
        getattr(model, "search_vectors", None) is not None


@dataclass(frozen=True)
class KindRow:
    """``family``: ``"ivf"`` | ``"graph"`` | ``"flat"``; ``convention``: ``"faiss"``
    (squared L2 / inner product, larger first) or ``"hnswlib"`` (squared L2 / 1 − dot /
    1 − cos); ``codes(model)``: the index stores lossy codes."""

    family: str
    convention: str
    codes: Callable[[Any], bool]


KINDS: dict[str, KindRow] = {
    "ivf_flat": KindRow("ivf", "faiss", _never),
    "ivf_hnsw_flat": KindRow("ivf", "faiss", _never),
    "ivf_sq": KindRow("ivf", "faiss", _always),
    "ivf_pq": KindRow("ivf", "faiss", _always),
    "hnsw": KindRow("graph", "hnswlib", _never),
    "faiss_hnsw": KindRow("graph", "faiss", _stores_codes),
    "flat": KindRow("flat", "faiss", _stores_codes),
}
"""Index kind → how it is diagnosed (wrapper kinds are in :data:`WRAPPERS`)."""


def _idmap_inner_ids(model: Any, ids: np.ndarray) -> np.ndarray:
    """User ids (what an ``IndexIDMap`` returns) → the inner index's ids; −1 when absent."""
    id_map = np.asarray(model.id_map, np.int64)
    order = np.argsort(id_map, kind="stable")
    pos = np.searchsorted(id_map, ids, sorter=order)
    pos = np.minimum(pos, max(id_map.size - 1, 0))
    out = order[pos] if id_map.size else np.full(ids.shape, -1, np.int64)
    return np.where(id_map[out] == ids, out, -1) if id_map.size else out


def _idmap_outer_ids(model: Any, ids: np.ndarray) -> np.ndarray:
    """Inner ids → the user's ids (``id_map[i]``), −1 kept."""
    ids = np.asarray(ids, np.int64)
    out = np.full(ids.shape, -1, np.int64)
    found = ids >= 0
    out[found] = np.asarray(model.id_map, np.int64)[ids[found]]
    return out


def _same(model: Any, values: np.ndarray) -> np.ndarray:
    return values


def _transform(model: Any, values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(model.transform_queries(np.ascontiguousarray(
        values, dtype=np.float32)), dtype=np.float32)


@dataclass(frozen=True)
class WrapperRow:
    """A model around another: ``inner(model)``; ``queries(model, (n, d_in) f32)`` →
    ``(n, d_inner) f32`` (also applied, block by block, to given original vectors);
    ``outer_ids`` / ``inner_ids``: ``(…,) int64`` ids between the two (−1 kept)."""

    inner: Callable[[Any], Any]
    queries: Callable[[Any, np.ndarray], np.ndarray]
    outer_ids: Callable[[Any, np.ndarray], np.ndarray]
    inner_ids: Callable[[Any, np.ndarray], np.ndarray]
    transforms: bool = False
    """``queries`` changes the vectors (a pre-transform), not only their ids."""


WRAPPERS: dict[str, WrapperRow] = {
    "ivf_idmap": WrapperRow(lambda m: m.inner, _same, _idmap_outer_ids, _idmap_inner_ids),
    "pretransform": WrapperRow(lambda m: m.inner, _transform, _same, _same, transforms=True),
}
"""Wrapper kind → how to see through it (``feder.model_transform.PreTransformIndex`` has
``inner`` and ``transform_queries``; ``IDMapIVFIndex`` has ``inner`` and ``id_map``)."""

SUPPORTED_KINDS: tuple[str, ...] = (*KINDS, *WRAPPERS)
"""Every index kind the diagnostics handle."""


@dataclass(frozen=True)
class Unwrapped:
    """``model`` seen through its wrappers: ``inner`` (a :data:`KINDS` kind) and the
    ``chain`` of ``(wrapper model, row)`` from the outside in."""

    model: Any
    inner: Any
    chain: tuple[tuple[Any, WrapperRow], ...]

    @property
    def row(self) -> KindRow:
        return KINDS[self.inner.kind]

    @property
    def family(self) -> str:
        return self.row.family

    @property
    def codes(self) -> bool:
        """The innermost index stores lossy codes."""
        return self.row.codes(self.inner)

    def queries(self, qs: np.ndarray) -> np.ndarray:
        """``(n, d) float32`` queries as the inner model is searched with them."""
        for wrapper, row in self.chain:
            qs = row.queries(wrapper, qs)
        return qs

    def vector_transform(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """What turns given original vectors into the inner model's space (``None``: they
        are used as given)."""
        steps = [(w, r) for w, r in self.chain if r.transforms]
        if not steps:
            return None

        def apply(block: np.ndarray) -> np.ndarray:
            for wrapper, row in steps:
                block = row.queries(wrapper, block)
            return block
        return apply

    def inner_ids(self, ids: np.ndarray) -> np.ndarray:
        """The outer model's ids → the inner model's (−1 when a wrapper does not hold one)."""
        for wrapper, row in self.chain:
            ids = row.inner_ids(wrapper, ids)
        return ids

    def outer_ids(self, ids: np.ndarray) -> np.ndarray:
        """The inner model's ids → the ids the outer model returns."""
        for wrapper, row in reversed(self.chain):
            ids = row.outer_ids(wrapper, ids)
        return ids


def unwrap(model: Any) -> Unwrapped:
    """``model`` through every wrapper (``model`` itself when it is none)."""
    chain: list[tuple[Any, WrapperRow]] = []
    inner = model
    while getattr(inner, "kind", None) in WRAPPERS:
        row = WRAPPERS[inner.kind]
        nxt = row.inner(inner)
        if nxt is None or len(chain) > 8:
            raise ParameterError(f"the {inner.kind} index wraps no index feder can diagnose "
                                 f"({getattr(inner, 'source', '?')})")
        chain.append((inner, row))
        inner = nxt
    return Unwrapped(model, inner, tuple(chain))
