"""Replays of indexes inside a faiss ``IndexIDMap``: search the inner index with its own
internal ids (faiss breaks ties on them), then report the user's ids, as faiss does."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from .types import IVFTrace

if TYPE_CHECKING:
    from ..model import IDMapIVFIndex


def map_ids(id_map: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``id_map[ids]`` with −1 (no result) kept."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.full(ids.shape, -1, np.int64)
    found = ids >= 0
    out[found] = id_map[ids[found]]
    return out


def trace_ivf_idmap(index: IDMapIVFIndex, query: Any, k: int = 5, nprobe: int = 1) -> IVFTrace:
    """Replay ``IndexIDMap(IndexIVF…).search(query, k)`` with ``nprobe`` lists: the inner
    IVF (flat or SQ) is searched by its own tracer, then its results are mapped."""
    from . import TRACERS

    assert index.inner is not None
    inner = TRACERS[index.inner.kind].run(index.inner, query, k=k, nprobe=nprobe)
    assert isinstance(inner, IVFTrace)
    fine = inner.fine
    assert fine is not None
    return dataclasses.replace(
        inner,
        kind=index.kind,
        ids=map_ids(index.id_map, inner.ids),
        fine=dataclasses.replace(fine, candidate_ids=map_ids(index.id_map, fine.candidate_ids)),
    )
