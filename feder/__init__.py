"""feder: see how an approximate-nearest-neighbour index answers a query.

>>> import feder
>>> idx = feder.load_index("faiss.index")          # or an hnswlib file, bytes, a live index
>>> trace = idx.search(query, k=5, nprobe=6)
>>> trace.ids, trace.distances, trace.steps
"""

from __future__ import annotations

from typing import Any

from .diagnose import Explanation, Health, Miss, Sweep, exact_search, explain, health, sweep
from .errors import (
    EmbeddingError,
    FederError,
    FederWarning,
    IndexChangedError,
    IndexFormatError,
    MediaError,
    OutputError,
    ParameterError,
    QueryError,
    TruncatedIndexError,
    UnknownIdError,
    UnsupportedIndexError,
)
from .index import Index, load_index
from .model import (
    FaissHNSWIndex,
    FlatIndex,
    HNSWIndex,
    IDMapIVFIndex,
    IVFFlatIndex,
    IVFHNSWFlatIndex,
    IVFPQIndex,
    IVFSQIndex,
)
from .sources.base import EngineTimeoutError, IndexNotBuiltError, SourceError
from .trace import HNSWTrace, IVFTrace, SearchTrace

__version__ = "0.1.0"

__all__ = [
    "EmbeddingError",
    "EngineTimeoutError",
    "Explanation",
    "FaissHNSWIndex",
    "FederError",
    "FederPy",
    "FederWarning",
    "FlatIndex",
    "HNSWIndex",
    "HNSWTrace",
    "Health",
    "IDMapIVFIndex",
    "IVFFlatIndex",
    "IVFHNSWFlatIndex",
    "IVFPQIndex",
    "IVFSQIndex",
    "IVFTrace",
    "Index",
    "IndexChangedError",
    "IndexFormatError",
    "IndexNotBuiltError",
    "MediaError",
    "Miss",
    "OutputError",
    "ParameterError",
    "QueryError",
    "SearchTrace",
    "SourceError",
    "Sweep",
    "TruncatedIndexError",
    "UnknownIdError",
    "UnsupportedIndexError",
    "exact_search",
    "explain",
    "health",
    "load_index",
    "sources",
    "sweep",
]


def __getattr__(name: str) -> Any:
    # The widget pulls in anywidget/ipywidgets; keep `import feder` light for parsing and tracing.
    if name == "FederPy":
        from .federpy import FederPy

        return FederPy
    if name == "sources":  # live engines; the package itself imports no engine client
        import importlib

        return importlib.import_module(".sources", __name__)
    raise AttributeError(f"module 'feder' has no attribute {name!r}")
