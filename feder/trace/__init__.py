"""Search replay in numpy: the same results as faiss / hnswlib, plus every step a view needs."""

from .hnsw import trace_hnsw
from .ivf import trace_ivf_flat
from .types import (
    BeamLevel,
    CoarseStep,
    FineStep,
    GreedyLevel,
    HNSWTrace,
    IVFTrace,
    SearchTrace,
)

__all__ = [
    "BeamLevel",
    "CoarseStep",
    "FineStep",
    "GreedyLevel",
    "HNSWTrace",
    "IVFTrace",
    "SearchTrace",
    "trace_hnsw",
    "trace_ivf_flat",
]
