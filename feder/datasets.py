"""Demo images that need no download: Fashion-MNIST from Debian, and scikit-image's photos.

- :func:`write_fashion_mnist` writes a labelled, class-balanced sample of Fashion-MNIST
  (Debian package ``dataset-fashion-mnist``, MIT licence) as upscaled PNG files plus
  ``labels.csv``; :func:`load_demo_images` reads such a folder back.
- :func:`write_skimage_photos` writes the photographs bundled with scikit-image as JPEG files,
  handy as "new" query images.

Everything is deterministic: the same arguments write byte-identical files.
"""

from __future__ import annotations

import csv
import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import MediaError, ParameterError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` installs the IDX files."""

CLASS_NAMES = (
    "tshirt_top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle_boot",
)
"""Fashion-MNIST class names by label (0–9), spelled to be folder names."""

_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

LABELS_CSV = "labels.csv"

SKIMAGE_PHOTOS = (
    # colour
    "astronaut",
    "chelsea",
    "coffee",
    "hubble_deep_field",
    "immunohistochemistry",
    "motorcycle_left",
    "motorcycle_right",
    "retina",
    "rocket",
    # grayscale
    "brick",
    "camera",
    "cell",
    "clock",
    "coins",
    "grass",
    "gravel",
    "microaneurysms",
    "moon",
    "page",
    "text",
)
"""The real photographs scikit-image ships inside its wheel (no download needed)."""

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ImageRecord:
    """One demo image: its file, integer label, class name and index in the source split."""

    path: Path
    label: int
    class_name: str
    index: int


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """An IDX array of ``uint8`` from a gzip file; ``MediaError`` if the file is corrupt."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise MediaError(
            f"{path} not found: install Debian's Fashion-MNIST with "
            "`apt-get install dataset-fashion-mnist`"
        ) from None
    except (OSError, EOFError) as exc:
        raise MediaError(f"cannot read {path}: {exc}") from None
    header = 4 + 4 * ndim
    if len(data) < header or struct.unpack_from(">i", data)[0] != magic:
        raise MediaError(f"{path} is not an IDX file with magic number {magic}")
    shape = struct.unpack_from(f">{ndim}i", data, 4)
    if len(data) - header != int(np.prod(shape)):
        raise MediaError(f"{path}: header announces shape {shape}, data is {len(data) - header} B")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_fashion_mnist(
    split: str = "test", root: PathLike = FASHION_MNIST_DIR
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST as arrays: images ``(n, 28, 28) uint8`` (white item on black), labels
    ``(n,) uint8`` in 0–9 (see :data:`CLASS_NAMES`). ``n`` is 10,000 (test) or 60,000 (train).

    Raises :class:`~feder.errors.MediaError` (saying how to install the Debian package) when
    the files are missing.
    """
    if split not in _SPLIT_FILES:
        raise ParameterError(f"split={split!r}: expected 'train' or 'test'")
    images_file, labels_file = _SPLIT_FILES[split]
    images = _read_idx(Path(root) / images_file, 2051, 3)
    labels = _read_idx(Path(root) / labels_file, 2049, 1)
    if images.shape[0] != labels.shape[0]:
        raise MediaError(f"{root}: {images.shape[0]} images but {labels.shape[0]} labels")
    return images, labels


def write_fashion_mnist(
    out_dir: PathLike,
    per_class: int = 60,
    split: str = "test",
    seed: int = 0,
    scale: int = 2,
    root: PathLike = FASHION_MNIST_DIR,
) -> list[ImageRecord]:
    """Write ``per_class`` images of each of the 10 classes as PNG files and ``labels.csv``.

    Files are ``<out_dir>/<class_name>/<index>.png`` (``index``: position in the source split,
    5 digits), grayscale, upscaled ``scale``× with a Lanczos filter (56×56 by default).
    ``labels.csv`` has the columns ``path,label,class_name`` with paths relative to
    ``out_dir``. The sample is drawn with ``numpy.random.default_rng(seed)``; records are
    returned in the CSV's order (by label, then index).
    """
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ParameterError(f"per_class must be an integer ≥ 1, got {per_class!r}")
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 16:
        raise ParameterError(f"scale must be an integer in 1..16, got {scale!r}")
    images, labels = read_fashion_mnist(split, root)
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    records = []
    for label, class_name in enumerate(CLASS_NAMES):
        members = np.flatnonzero(labels == label)
        if per_class > members.size:
            raise ParameterError(f"per_class={per_class}: the {split} split has {members.size}")
        (out / class_name).mkdir(parents=True, exist_ok=True)
        for index in np.sort(rng.choice(members, size=per_class, replace=False)).tolist():
            path = out / class_name / f"{index:05d}.png"
            image = Image.fromarray(images[index])
            if scale > 1:
                image = image.resize((28 * scale, 28 * scale), Image.Resampling.LANCZOS)
            image.save(path, optimize=True)
            records.append(ImageRecord(path, label, class_name, index))
    with open(out / LABELS_CSV, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["path", "label", "class_name"])
        for r in records:
            writer.writerow([r.path.relative_to(out).as_posix(), r.label, r.class_name])
    return records


def load_demo_images(directory: PathLike) -> list[ImageRecord]:
    """The records listed in ``<directory>/labels.csv`` (as written by
    :func:`write_fashion_mnist`), with absolute-or-as-given paths joined to ``directory``.

    Raises :class:`~feder.errors.MediaError` if the CSV is missing or malformed, or a listed
    file does not exist.
    """
    root = Path(directory)
    try:
        with open(root / LABELS_CSV, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise MediaError(
            f"{root / LABELS_CSV} not found: write it with write_fashion_mnist()"
        ) from None
    records = []
    for line, row in enumerate(rows, start=2):
        try:
            relative, label, class_name = row["path"], int(row["label"]), row["class_name"]
            index = int(Path(relative).stem)
        except (KeyError, TypeError, ValueError):
            raise MediaError(
                f"{root / LABELS_CSV}, line {line}: expected path,label,class_name "
                "and a file named <index>.png"
            ) from None
        path = root / relative
        if not path.is_file():
            raise MediaError(f"{root / LABELS_CSV}, line {line}: {path} does not exist")
        records.append(ImageRecord(path, label, class_name, index))
    return records


def _skimage_photo(name: str) -> np.ndarray:
    try:
        from skimage import data
    except ImportError:
        raise MediaError(
            "write_skimage_photos needs scikit-image: pip install scikit-image"
        ) from None
    if name.startswith("motorcycle_"):  # stereo_motorcycle() returns (left, right, disparity)
        pair = getattr(data, "stereo_" + name.split("_")[0])()
        return np.asarray(pair[0] if name.endswith("left") else pair[1])
    return np.asarray(getattr(data, name)())


def write_skimage_photos(out_dir: PathLike, max_side: int = 512, quality: int = 90) -> list[Path]:
    """Write scikit-image's 20 bundled photographs (9 colour, 11 grayscale) as JPEG files.

    Files are ``<out_dir>/<name>.jpg`` (names in :data:`SKIMAGE_PHOTOS`), downscaled so that
    the longer side is at most ``max_side`` pixels. Needs scikit-image, no network.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SKIMAGE_PHOTOS:
        image = Image.fromarray(_skimage_photo(name))
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        path = out / f"{name}.jpg"
        image.save(path, quality=quality)
        paths.append(path)
    return paths


def precision_at_k(vectors: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out precision@k of exact cosine search: the share of each image's ``k``
    nearest other images that carry its label.

    ``vectors``: ``(n, d) float32`` with unit rows; ``labels``: ``(n,)`` integers.
    """
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    neighbours = np.argpartition(-similarity, k, axis=1)[:, :k]
    return float((labels[neighbours] == labels[:, None]).mean())
