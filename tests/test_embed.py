"""feder.embed with the real EfficientNet-Lite0 weights and the real descriptor (no mocks).

The image set is scikit-image's 20 bundled photos plus a crop and a mirror image of three of
them (26 files); the model is loaded once per session.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps

from feder.datasets import write_skimage_photos
from feder.embed import ImageEmbedder, available_backends, efficientnet
from feder.errors import EmbeddingError, FederWarning, ParameterError

NEAR_DUPLICATED = ("chelsea", "coffee", "astronaut")


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name → JPEG path: 20 photos, plus ``<name>_crop`` and ``<name>_flip`` near-duplicates."""
    out = tmp_path_factory.mktemp("photos")
    paths = {p.stem: p for p in write_skimage_photos(out, max_side=320)}
    for name in NEAR_DUPLICATED:
        with Image.open(paths[name]) as image:
            w, h = image.size
            variants = {
                "crop": image.crop((w // 10, h // 20, w * 9 // 10, h * 17 // 20)),
                "flip": ImageOps.mirror(image),
            }
            for kind, variant in variants.items():
                path = out / f"{name}_{kind}.jpg"
                variant.save(path, quality=85)
                paths[path.stem] = path
    return paths


@pytest.fixture(scope="session")
def model() -> ImageEmbedder:
    assert not efficientnet.missing_requirements(), "make test installs the embed extra"
    return ImageEmbedder("efficientnet", batch_size=16)


@pytest.fixture(scope="session")
def descriptor() -> ImageEmbedder:
    return ImageEmbedder("descriptor")


@pytest.fixture(scope="session")
def model_vectors(model: ImageEmbedder, photos: dict[str, Path]) -> np.ndarray:
    return model.embed_paths(list(photos.values()))


@pytest.fixture(scope="session")
def descriptor_vectors(descriptor: ImageEmbedder, photos: dict[str, Path]) -> np.ndarray:
    return descriptor.embed_paths(list(photos.values()))


BACKENDS = [
    pytest.param("model", "model_vectors", 1280, id="efficientnet"),
    pytest.param("descriptor", "descriptor_vectors", 342, id="descriptor"),
]


def _get(request: pytest.FixtureRequest, *names: str) -> list[Any]:
    return [request.getfixturevalue(name) for name in names]


@pytest.mark.parametrize(("embedder_name", "vectors_name", "dim"), BACKENDS)
def test_vectors_are_unit_float32_of_documented_dim(
    request: pytest.FixtureRequest, embedder_name: str, vectors_name: str, dim: int
) -> None:
    embedder, vectors = _get(request, embedder_name, vectors_name)
    assert embedder.dim == dim
    assert vectors.shape == (26, dim)
    assert vectors.dtype == np.float32 and vectors.flags.c_contiguous
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(("embedder_name", "vectors_name", "dim"), BACKENDS)
def test_same_input_same_vector(
    request: pytest.FixtureRequest,
    embedder_name: str,
    vectors_name: str,
    dim: int,
    photos: dict[str, Path],
) -> None:
    embedder, vectors = _get(request, embedder_name, vectors_name)
    paths = list(photos.values())[:4]
    again = embedder.embed_paths(paths)
    np.testing.assert_array_equal(embedder.embed_paths(paths), again)  # same batch: bitwise
    np.testing.assert_allclose(again, vectors[:4], atol=1e-5)  # other batch: float rounding
    one = embedder.embed_path(paths[3])
    assert one.shape == (dim,) and one.dtype == np.float32
    np.testing.assert_allclose(one, vectors[3], atol=1e-5)
    with Image.open(paths[3]) as image:
        np.testing.assert_allclose(embedder.embed_images([image])[0], vectors[3], atol=1e-5)


@pytest.mark.parametrize(("embedder_name", "vectors_name", "dim"), BACKENDS)
def test_each_image_is_its_own_nearest_neighbour(
    request: pytest.FixtureRequest, embedder_name: str, vectors_name: str, dim: int
) -> None:
    (vectors,) = _get(request, vectors_name)
    similarity = vectors @ vectors.T
    np.testing.assert_array_equal(similarity.argmax(axis=1), np.arange(len(vectors)))


@pytest.mark.parametrize(("embedder_name", "vectors_name", "dim"), BACKENDS)
@pytest.mark.parametrize("name", NEAR_DUPLICATED)
def test_crop_and_mirror_rank_above_all_other_photos(
    request: pytest.FixtureRequest,
    embedder_name: str,
    vectors_name: str,
    dim: int,
    photos: dict[str, Path],
    name: str,
) -> None:
    (vectors,) = _get(request, vectors_name)
    names = list(photos)
    similarity = vectors @ vectors[names.index(name)]
    ranked = [names[i] for i in np.argsort(-similarity)]
    assert ranked[0] == name
    assert set(ranked[1:3]) == {f"{name}_crop", f"{name}_flip"}, ranked[:5]


def test_weights_and_preprocessing_recognise_imagenet_classes(photos: dict[str, Path]) -> None:
    """The packaged weights really are ImageNet's: a cat is a cat, an espresso an espresso.

    Also checks that folding BatchNorm into the convolutions changes nothing.
    """
    import torch

    from feder.embed.images import open_rgb

    batch = torch.from_numpy(
        np.stack([efficientnet.preprocess(open_rgb(photos[n])) for n in ("chelsea", "coffee")])
    )
    folded, plain = efficientnet.load_model(), efficientnet.load_model(fold_batchnorm=False)
    with torch.inference_mode():
        logits = folded(batch.contiguous(memory_format=torch.channels_last))
        reference = plain(batch)
    np.testing.assert_allclose(logits.numpy(), reference.numpy(), atol=1e-3)
    top = logits.argmax(dim=1).tolist()
    assert 281 <= top[0] <= 285, top  # tabby / tiger / Persian / Siamese / Egyptian cat
    assert top[1] == 967, top  # espresso


def test_num_threads_is_applied_then_restored(
    photos: dict[str, Path], model_vectors: np.ndarray
) -> None:
    import torch

    before = torch.get_num_threads()
    single = ImageEmbedder("efficientnet", num_threads=1)
    path = next(iter(photos.values()))
    np.testing.assert_allclose(single.embed_path(path), model_vectors[0], atol=1e-5)
    assert torch.get_num_threads() == before


def test_grayscale_palette_and_transparent_images_are_embedded(descriptor: ImageEmbedder) -> None:
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
    images = [rgb.convert("L"), rgb.convert("P"), rgb.convert("RGBA"), rgb.convert("I;16"), rgb]
    vectors = descriptor.embed_images(images)
    assert vectors.shape == (5, descriptor.dim)
    np.testing.assert_allclose(vectors[2], vectors[4], atol=1e-6)  # opaque alpha: same as RGB


def test_exif_orientation_is_applied(tmp_path: Path, descriptor: ImageEmbedder) -> None:
    rng = np.random.default_rng(1)
    upright = Image.fromarray(rng.integers(0, 256, (30, 60, 3), dtype=np.uint8))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera writes...
    exif = stored.getexif()
    exif[0x0112] = 6  # ...with "rotate 90° clockwise to display"
    stored.save(tmp_path / "rotated.png", exif=exif)
    np.testing.assert_allclose(
        descriptor.embed_path(tmp_path / "rotated.png"),
        descriptor.embed_images([upright])[0],
        atol=1e-6,
    )


def test_empty_input_gives_empty_matrix(descriptor: ImageEmbedder) -> None:
    assert descriptor.embed_paths([]).shape == (0, descriptor.dim)
    assert descriptor.embed_images([]).dtype == np.float32


def test_progress_bar(
    descriptor: ImageEmbedder, photos: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    descriptor.embed_paths(list(photos.values())[:3], progress=True)
    assert "3/3" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"this is not an image", "not an image"),
        ("truncated", "truncated"),
    ],
)
def test_unreadable_file_raises_embedding_error(
    tmp_path: Path,
    descriptor: ImageEmbedder,
    photos: dict[str, Path],
    content: bytes | str | None,
    reason: str,
) -> None:
    path = tmp_path / "bad.jpg"
    if content == "truncated":
        data = photos["coffee"].read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(EmbeddingError, match=reason) as info:
        descriptor.embed_paths([photos["coffee"], path])
    assert str(path) in str(info.value)
    with pytest.raises(EmbeddingError, match=reason):
        descriptor.embed_path(path)


def test_directory_and_non_image_objects_raise_embedding_error(
    tmp_path: Path, descriptor: ImageEmbedder
) -> None:
    with pytest.raises(EmbeddingError, match="directory"):
        descriptor.embed_path(tmp_path)
    with pytest.raises(EmbeddingError, match="item 1 is a ndarray"):
        descriptor.embed_images([Image.new("RGB", (8, 8)), np.zeros((8, 8, 3))])  # type: ignore[list-item]


def test_missing_file_raises_embedding_error_with_the_model(
    model: ImageEmbedder, tmp_path: Path
) -> None:
    with pytest.raises(EmbeddingError, match="no such file"):
        model.embed_path(tmp_path / "nope.png")


def test_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="'auto', 'efficientnet', 'descriptor'"):
        ImageEmbedder("clip")
    with pytest.raises(ParameterError, match="batch_size"):
        ImageEmbedder("descriptor", batch_size=0)
    with pytest.raises(ParameterError, match="num_threads"):
        ImageEmbedder("descriptor", num_threads=-1)


def test_names_are_honest(descriptor: ImageEmbedder) -> None:
    assert "not a learned model" in descriptor.name
    assert available_backends()[-1] == "descriptor"
    assert available_backends() == ["efficientnet", "descriptor"]
    assert efficientnet.NAME == "efficientnet-lite0 (ImageNet)"


def test_auto_falls_back_to_descriptor_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(efficientnet, "missing_requirements", lambda: ["torch==2.13.0"])
    assert available_backends() == ["descriptor"]
    with pytest.warns(FederWarning, match="torch==2.13.0 not installed"):
        embedder = ImageEmbedder()
    assert embedder.backend == "descriptor"
    with pytest.raises(EmbeddingError, match=r"pip install torch==2\.13\.0"):
        ImageEmbedder("efficientnet")


# --- towhee ---------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(("embedder_name", "vectors_name", "dim"), BACKENDS)
def test_towhee_pipeline_offline_gives_the_embedder_vectors(
    request: pytest.FixtureRequest,
    embedder_name: str,
    vectors_name: str,
    dim: int,
    photos: dict[str, Path],
) -> None:
    from feder.embed.towhee_adapter import embed_with_towhee, towhee_pipeline

    embedder, vectors = _get(request, embedder_name, vectors_name)
    paths = list(photos.values())[:4]
    via_towhee = embed_with_towhee(paths, embedder)
    assert via_towhee.shape == (4, dim) and via_towhee.dtype == np.float32
    np.testing.assert_allclose(via_towhee, vectors[:4], atol=1e-5)

    pipeline = towhee_pipeline(embedder)
    with Image.open(paths[1]) as image:
        (vector,) = pipeline(image).get()
    np.testing.assert_allclose(vector, vectors[1], atol=1e-5)


@pytest.mark.usefixtures("no_network")
def test_towhee_shares_the_embedder_and_reports_errors(
    descriptor: ImageEmbedder, tmp_path: Path
) -> None:
    from feder.embed.towhee_adapter import FederImageEmbedding, embed_with_towhee, towhee_pipeline

    pipeline = towhee_pipeline(descriptor)
    # towhee deep-copies operator arguments; the pooled operator must still hold our embedder
    pooled = [op for store in pipeline._operator_pool._all_ops.values() for op in store._ops]
    ours = [op for op in pooled if isinstance(op, FederImageEmbedding)]
    assert len(ours) == 1 and ours[0].embedder is descriptor
    with pytest.raises(EmbeddingError, match=r"bad\.jpg: cannot embed .*no such file"):
        embed_with_towhee([tmp_path / "bad.jpg"], descriptor)
    assert embed_with_towhee([], descriptor).shape == (0, descriptor.dim)


def test_raw_features_normalize_to_the_default_vectors(
    photos: dict[str, Path], model_vectors: np.ndarray
) -> None:
    raw = ImageEmbedder("efficientnet", batch_size=16, normalize=False)
    names = sorted(photos)[:4]
    features = raw.embed_paths([photos[n] for n in names])
    norms = np.linalg.norm(features, axis=1)
    assert (np.abs(norms - 1) > 0.05).all()  # raw pooled features are not unit vectors
    index = {n: i for i, n in enumerate(photos)}  # model_vectors follow photos' order
    expected = model_vectors[[index[n] for n in names]]
    np.testing.assert_allclose(features / norms[:, None], expected, atol=1e-5)
