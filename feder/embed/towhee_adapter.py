"""Run feder's :class:`~feder.embed.ImageEmbedder` inside a towhee pipeline, offline.

towhee's hub operators (even ``image_decode``) are downloaded on first use, so this module
registers feder's embedder as a *local* towhee operator, ``ops.feder.image_embedding``, and
builds pipelines from it alone::

    from feder.embed.towhee_adapter import towhee_pipeline, embed_with_towhee

    p = towhee_pipeline()                      # image path → (dim,) float32, unit norm
    vec = p("photo.jpg").get()[0]
    vectors = embed_with_towhee(["a.jpg", "b.png"])   # (n, dim) float32

To use the operator in a pipeline of your own: ``.map("path", "vec", image_embedding_op())``.

towhee is optional and imported only when one of these functions is called (towhee 1.1.3
needs ``setuptools<81`` to import).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from PIL import Image

from ..errors import EmbeddingError, FederError
from .embedder import ImageEmbedder
from .images import PathLike

OPERATOR_NAME = "feder/image-embedding"
"""Registered name; towhee spells it ``ops.feder.image_embedding`` in pipelines."""


class _Shared:
    """Carries an embedder through towhee, which deep-copies operator arguments.

    Copying would duplicate the model for every pipeline; this holder copies as itself.
    """

    def __init__(self, embedder: ImageEmbedder) -> None:
        self.embedder = embedder

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self


class FederImageEmbedding:
    """The towhee operator: an image path (or Pillow image) → ``(dim,) float32``, unit norm.

    ``embedder`` is an :class:`ImageEmbedder` (wrapped or not); None builds the default one.
    """

    def __init__(self, embedder: ImageEmbedder | _Shared | None = None) -> None:
        if isinstance(embedder, _Shared):
            embedder = embedder.embedder
        self.embedder = embedder if embedder is not None else ImageEmbedder()

    def __call__(self, image: PathLike | Image.Image) -> np.ndarray:
        if isinstance(image, Image.Image):
            vector: np.ndarray = self.embedder.embed_images([image])[0]
            return vector
        return self.embedder.embed_path(image)


def _towhee() -> Any:
    """Import towhee (quietly: 1.1.3 warns about pkg_resources) and register the operator."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            import towhee
    except ImportError as exc:
        raise EmbeddingError(
            f"the towhee adapter needs towhee ({exc}): pip install towhee==1.1.3 'setuptools<81'"
        ) from exc
    towhee.register(name=OPERATOR_NAME)(FederImageEmbedding)
    return towhee


def image_embedding_op(embedder: ImageEmbedder | None = None) -> Any:
    """The registered operator, ready for ``pipe.map(...)``; shares ``embedder`` (no copy)."""
    towhee = _towhee()
    return towhee.ops.feder.image_embedding(_Shared(embedder or ImageEmbedder()))


def towhee_pipeline(embedder: ImageEmbedder | None = None) -> Any:
    """A towhee pipeline ``path → vec``: call it with an image path (or Pillow image);
    ``.get()[0]`` is the ``(dim,) float32`` unit vector. Works offline.

    ``embedder`` defaults to ``ImageEmbedder()`` (EfficientNet-Lite0 when installed).
    """
    towhee = _towhee()
    return towhee.pipe.input("path").map("path", "vec", image_embedding_op(embedder)).output("vec")


def embed_with_towhee(
    paths: Iterable[PathLike], embedder: ImageEmbedder | None = None
) -> np.ndarray:
    """Embed image files through a towhee pipeline: ``(n, dim) float32``, unit rows.

    Same vectors as ``embedder.embed_paths(paths)`` (one image at a time, so slower). Errors
    raised inside towhee are re-raised as :class:`~feder.errors.EmbeddingError` naming the file.
    """
    embedder = embedder if embedder is not None else ImageEmbedder()
    p = towhee_pipeline(embedder)
    vectors = [np.zeros((0, embedder.dim), dtype=np.float32)]
    vectors += [_run(p, path)[None, :] for path in paths]
    return np.ascontiguousarray(np.concatenate(vectors), dtype=np.float32)


def _run(pipeline: Any, path: PathLike) -> np.ndarray:
    """One path through a ``path → vec`` pipeline; towhee's errors become EmbeddingError."""
    try:
        vector: np.ndarray = pipeline(os.fspath(path)).get()[0]
    except FederError:
        raise
    except Exception as exc:  # towhee wraps operator errors, tracebacks included
        reason = str(exc).split("error msg: ", 1)[-1].split(", Traceback", 1)[0]
        raise EmbeddingError(f"towhee pipeline failed on {path}: {reason}") from exc
    return vector
