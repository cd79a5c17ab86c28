"""feder.datasets: the Fashion-MNIST demo set (from Debian's files) and scikit-image photos."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from feder.datasets import (
    CLASS_NAMES,
    SKIMAGE_PHOTOS,
    ImageRecord,
    load_demo_images,
    read_fashion_mnist,
    write_fashion_mnist,
    write_skimage_photos,
)
from feder.errors import MediaError, ParameterError


def test_read_fashion_mnist_shapes_and_labels() -> None:
    images, labels = read_fashion_mnist("test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)


def test_write_fashion_mnist_files_csv_and_round_trip(tmp_path: Path) -> None:
    records = write_fashion_mnist(tmp_path, per_class=3, seed=1)
    assert len(records) == 30
    assert [r.label for r in records] == [label for label in range(10) for _ in range(3)]
    first = records[0]
    assert first.path == tmp_path / "tshirt_top" / f"{first.index:05d}.png"
    assert all(r.class_name == CLASS_NAMES[r.label] for r in records)
    with Image.open(first.path) as image:
        assert image.size == (56, 56) and image.mode == "L"
    lines = (tmp_path / "labels.csv").read_text().splitlines()
    assert lines[0] == "path,label,class_name"
    assert lines[1] == f"tshirt_top/{first.index:05d}.png,0,tshirt_top"
    assert load_demo_images(tmp_path) == records


def test_scale_one_writes_the_source_pixels(tmp_path: Path) -> None:
    images, labels = read_fashion_mnist("test")
    records = write_fashion_mnist(tmp_path, per_class=1, scale=1)
    for r in records:
        assert labels[r.index] == r.label
        np.testing.assert_array_equal(np.asarray(Image.open(r.path)), images[r.index])


def test_deterministic_and_seeded(tmp_path: Path) -> None:
    a = write_fashion_mnist(tmp_path / "a", per_class=2, seed=7)
    b = write_fashion_mnist(tmp_path / "b", per_class=2, seed=7)
    c = write_fashion_mnist(tmp_path / "c", per_class=2, seed=8)
    assert [r.index for r in a] == [r.index for r in b] != [r.index for r in c]
    assert all(x.path.read_bytes() == y.path.read_bytes() for x, y in zip(a, b, strict=True))
    assert (tmp_path / "a/labels.csv").read_bytes() == (tmp_path / "b/labels.csv").read_bytes()


def test_missing_debian_files_say_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="apt-get install dataset-fashion-mnist"):
        write_fashion_mnist(tmp_path / "out", root=tmp_path / "nowhere")


def test_corrupt_idx_file(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02" * 3 + b"\x00" * 5)  # 8 bytes promised
    with pytest.raises(MediaError, match="header announces shape"):
        read_fashion_mnist("test", root=tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(MediaError, match="cannot read"):
        read_fashion_mnist("test", root=tmp_path)


@pytest.mark.parametrize(
    "kwargs",
    [{"per_class": 0}, {"per_class": 1001}, {"scale": 0}, {"split": "validation"}],
)
def test_bad_parameters(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ParameterError):
        write_fashion_mnist(tmp_path, **kwargs)  # type: ignore[arg-type]


def test_load_demo_images_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"labels\.csv not found"):
        load_demo_images(tmp_path)
    records = write_fashion_mnist(tmp_path, per_class=1)
    records[4].path.unlink()
    with pytest.raises(MediaError, match=r"line 6: .* does not exist"):
        load_demo_images(tmp_path)
    (tmp_path / "labels.csv").write_text("path,label\nx.png,1\n")
    with pytest.raises(MediaError, match="line 2: expected path,label,class_name"):
        load_demo_images(tmp_path)


def test_load_demo_images_accepts_copied_folders(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "bag").mkdir(parents=True)
    Image.new("L", (4, 4)).save(source / "bag" / "00012.png")
    (source / "labels.csv").write_text("path,label,class_name\nbag/00012.png,8,bag\n")
    shutil.copytree(source, tmp_path / "copy")
    assert load_demo_images(tmp_path / "copy") == [
        ImageRecord(tmp_path / "copy" / "bag" / "00012.png", 8, "bag", 12)
    ]


def test_write_skimage_photos(tmp_path: Path) -> None:
    paths = write_skimage_photos(tmp_path, max_side=200)
    assert [p.name for p in paths] == [f"{name}.jpg" for name in SKIMAGE_PHOTOS]
    assert len(paths) == 20
    modes = {}
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "JPEG" and max(image.size) <= 200
            modes[path.stem] = image.mode
    assert modes["chelsea"] == "RGB" and modes["camera"] == "L"
    assert sum(mode == "RGB" for mode in modes.values()) == 9


def test_precision_at_k_counts_same_label_neighbours() -> None:
    from feder.datasets import precision_at_k

    vectors = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert precision_at_k(vectors, np.array([0, 0, 1, 1]), k=1) == 1.0
    assert precision_at_k(vectors, np.array([0, 1, 0, 1]), k=1) == 0.0
