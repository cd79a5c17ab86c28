"""A weight-free colour + texture descriptor (numpy and Pillow only).

Not a learned model: it describes *how an image looks* (its colours, and the directions of its
edges in a coarse spatial grid), not *what it shows*. It needs no download and no torch, so it
is the fallback when the EfficientNet backend is not installed. Expect it to find the same
photo, recoloured or cropped, but not "another cat".

Vector layout (``float32``, 342 values, unit L2 norm overall):

- colour: joint HSV histogram, 8 hue × 4 saturation × 4 value bins (128 values);
- texture: histograms of gradient orientation (9 unsigned bins, magnitude-weighted) over a
  1×1, 2×2 and 4×4 grid of cells, like HOG (21 × 9 = 189 values);
- intensity layout: the mean brightness of a 5×5 grid (25 values).

Each part is square-rooted (Hellinger) and L2-normalized before the three are joined with
equal weight.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

SIZE = 64
"""Images are resized (aspect ratio ignored) to SIZE × SIZE before description."""

HSV_BINS = (8, 4, 4)
ORIENTATIONS = 9
GRIDS = (1, 2, 4)
LAYOUT_GRID = 5
WEIGHTS = (1.0, 1.0, 1.0)
"""Relative weight of the colour, texture and layout parts (equal)."""

DIM = int(np.prod(HSV_BINS)) + ORIENTATIONS * sum(g * g for g in GRIDS) + LAYOUT_GRID**2

NAME = "colour/texture descriptor (HSV histogram + HOG; not a learned model)"


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    unit: np.ndarray = vector / norm if norm > 0 else vector
    return unit


def colour_histogram(rgb: Image.Image) -> np.ndarray:
    """Joint HSV histogram of an RGB image: ``(128,) float64``, sums to 1."""
    hsv = np.asarray(rgb.convert("HSV"), dtype=np.int64)  # (h, w, 3), each 0..255
    bins = np.asarray(HSV_BINS)
    index = (hsv * bins // 256).reshape(-1, 3)
    flat = (index[:, 0] * bins[1] + index[:, 1]) * bins[2] + index[:, 2]
    counts = np.bincount(flat, minlength=int(bins.prod())).astype(np.float64)
    histogram: np.ndarray = counts / counts.sum()
    return histogram


def orientation_histograms(gray: np.ndarray) -> np.ndarray:
    """HOG-like texture of a ``(SIZE, SIZE) float64`` image: ``(189,) float64``.

    Unsigned gradient orientation in 9 bins, weighted by gradient magnitude, summed per cell
    of a 1×1, 2×2 and 4×4 grid; each cell's histogram is divided by the total magnitude.
    """
    gy, gx = np.gradient(gray)
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    bins = np.minimum((angle / np.pi * ORIENTATIONS).astype(np.int64), ORIENTATIONS - 1)
    total = magnitude.sum() + 1e-9
    parts = []
    for grid in GRIDS:
        cell = gray.shape[0] // grid
        rows = (np.arange(gray.shape[0]) // cell).clip(max=grid - 1)
        cols = (np.arange(gray.shape[1]) // cell).clip(max=grid - 1)
        cell_index = rows[:, None] * grid + cols[None, :]
        flat = (cell_index * ORIENTATIONS + bins).ravel()
        hist = np.bincount(flat, weights=magnitude.ravel(), minlength=grid * grid * ORIENTATIONS)
        parts.append(hist / total)
    return np.concatenate(parts)


def intensity_layout(gray: np.ndarray) -> np.ndarray:
    """Mean brightness of a 5×5 grid of a ``(SIZE, SIZE)`` image in [0, 1]: ``(25,) float64``."""
    edges = np.linspace(0, gray.shape[0], LAYOUT_GRID + 1).astype(np.int64)
    return np.array(
        [
            gray[edges[i] : edges[i + 1], edges[j] : edges[j + 1]].mean()
            for i in range(LAYOUT_GRID)
            for j in range(LAYOUT_GRID)
        ]
    )


def describe(image: Image.Image) -> np.ndarray:
    """The descriptor of one RGB image: ``(DIM,) float32``, unit L2 norm."""
    small = image.resize((SIZE, SIZE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    gray = np.asarray(small.convert("L"), dtype=np.float64) / 255.0
    parts = (colour_histogram(small), orientation_histograms(gray), intensity_layout(gray))
    joined = np.concatenate(
        [w * _unit(np.sqrt(part)) for w, part in zip(WEIGHTS, parts, strict=True)]
    )
    return _unit(joined).astype(np.float32)


class ColourTextureDescriptor:
    """Backend object for :class:`~feder.embed.ImageEmbedder` (no weights, no torch)."""

    name = NAME
    dim = DIM

    def embed_batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Descriptors of RGB images: ``(n, DIM) float32``, each row of unit L2 norm."""
        if not images:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([describe(image) for image in images]).astype(np.float32, copy=False)
