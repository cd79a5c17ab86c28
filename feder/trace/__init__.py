"""Search replay in numpy: the same results as faiss / hnswlib, plus every step a view needs.

:func:`search` is the one dispatch: it looks the index kind up in :data:`TRACERS` and
validates the parameters that kind takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..families import unwrapped
from ..model import IndexModel
from ..threads import blas_limits
from .faiss_hnsw import trace_faiss_hnsw
from .flat import trace_flat
from .hnsw import trace_hnsw
from .idmap import trace_ivf_idmap
from .ivf import trace_ivf_flat
from .ivf_codes import trace_ivf_hnsw_flat, trace_ivf_pq, trace_ivf_sq
from .pretransform import trace_pretransform
from .types import (
    BeamLevel,
    CoarseStep,
    FineStep,
    FlatTrace,
    GreedyLevel,
    HNSWTrace,
    IVFTrace,
    ScanStep,
    SearchTrace,
)


@dataclass(frozen=True)
class Tracer:
    """How one index kind is searched: the replay function, its parameters with their
    defaults (a default of ``None`` is read from the index), and accepted aliases."""

    run: Callable[..., SearchTrace]
    params: dict[str, int | None]
    aliases: dict[str, str]


_FILE_DEFAULTS = {"nprobe": "nprobe", "ef": "ef_search"}
"""Parameter → the model attribute holding the file's own value (a ``None`` default)."""


def _file_default(index: IndexModel, name: str) -> int:
    return max(int(getattr(index, _FILE_DEFAULTS.get(name, name), 1)), 1)


TRACERS: dict[str, Tracer] = {
    "ivf_flat": Tracer(trace_ivf_flat, {"nprobe": None}, {}),
    "hnsw": Tracer(trace_hnsw, {"ef": 10}, {"ef_search": "ef", "efSearch": "ef"}),
    "flat": Tracer(trace_flat, {}, {}),
    "ivf_idmap": Tracer(trace_ivf_idmap, {"nprobe": None}, {}),
    "ivf_sq": Tracer(trace_ivf_sq, {"nprobe": None}, {}),
    "ivf_pq": Tracer(trace_ivf_pq, {"nprobe": None}, {}),
    "ivf_hnsw_flat": Tracer(trace_ivf_hnsw_flat, {"nprobe": None}, {}),
    "faiss_hnsw": Tracer(trace_faiss_hnsw, {"ef": None}, {"ef_search": "ef", "efSearch": "ef"}),
    "pretransform": Tracer(trace_pretransform, {}, {}),
}
"""Index kind → its tracer. A new kind registers here; nothing else dispatches on kind."""



def search_params(index: IndexModel, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with aliases resolved and defaults filled in for ``index``'s kind; an
    unknown name raises ``TypeError`` listing the valid ones."""
    index = unwrapped(index)  # a wrapper takes its inner index's parameters
    tracer = TRACERS[index.kind]
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = tracer.aliases.get(key, key)
        if name not in tracer.params:
            valid = ", ".join(["k", *sorted(tracer.params)])
            raise TypeError(f"unknown search parameter {key!r} for a {index.kind} index; "
                            f"valid ones: {valid}")
        if value is not None:
            out[name] = value
    for name, default in tracer.params.items():
        if name not in out:
            out[name] = _file_default(index, name) if default is None else default
    return out


def search(index: IndexModel, query: Any, k: int = 5, **params: Any) -> SearchTrace:
    """Replay the library's search of ``query`` (``(d,)`` or ``(1, d)``, any float dtype) for
    the ``k`` nearest neighbours. ``params``: ``nprobe`` (IVF, default the file's) or ``ef``
    (HNSW, alias ``ef_search``, default 10)."""
    with blas_limits():  # small products: one BLAS thread, no spinning on a busy machine
        return TRACERS[index.kind].run(index, query, k=k, **search_params(index, params))



__all__ = [
    "TRACERS",
    "BeamLevel",
    "CoarseStep",
    "FineStep",
    "FlatTrace",
    "GreedyLevel",
    "HNSWTrace",
    "IVFTrace",
    "ScanStep",
    "SearchTrace",
    "Tracer",
    "search",
    "search_params",
    "trace_faiss_hnsw",
    "trace_flat",
    "trace_hnsw",
    "trace_ivf_flat",
    "trace_ivf_hnsw_flat",
    "trace_ivf_pq",
    "trace_ivf_sq",
    "trace_pretransform",
]
