"""feder: see how an approximate-nearest-neighbour index answers a query.

>>> import feder
>>> idx = feder.load_index("faiss.index")          # or an hnswlib file, bytes, a live index
>>> trace = idx.search(query, k=5, nprobe=6)
>>> trace.ids, trace.distances, trace.steps
"""

from __future__ import annotations

from typing import Any

from .errors import (
    EmbeddingError,
    FederError,
    FederWarning,
    IndexFormatError,
    MediaError,
    ParameterError,
    QueryError,
    TruncatedIndexError,
    UnknownIdError,
    UnsupportedIndexError,
)
from .index import Index, load_index
from .model import HNSWIndex, IVFFlatIndex
from .trace import HNSWTrace, IVFTrace, SearchTrace

__version__ = "0.1.0"

__all__ = [
    "EmbeddingError",
    "FederError",
    "FederPy",
    "FederWarning",
    "HNSWIndex",
    "HNSWTrace",
    "IVFFlatIndex",
    "IVFTrace",
    "Index",
    "IndexFormatError",
    "MediaError",
    "ParameterError",
    "QueryError",
    "SearchTrace",
    "TruncatedIndexError",
    "UnknownIdError",
    "UnsupportedIndexError",
    "load_index",
]


def __getattr__(name: str) -> Any:
    # The widget pulls in anywidget/ipywidgets; keep `import feder` light for parsing and tracing.
    if name == "FederPy":
        from .federpy import FederPy

        return FederPy
    raise AttributeError(f"module 'feder' has no attribute {name!r}")
