"""Hostile and broken media: every case becomes a placeholder item and one FederWarning,
within 5 s and +512 MiB (each in a forked child, so a hang or a crash fails the test)."""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from feder.errors import FederWarning, MediaError
from feder.media import (
    CACHE_ITEMS,
    MAX_PIXELS,
    TEXT_LIMIT,
    MediaStore,
    list_images,
    probe_image,
    thumbnail_bytes,
)

from test_hardening_isolate import isolated  # isort: skip

SIG = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes, length: int | None = None) -> bytes:
    n = len(data) if length is None else length
    return struct.pack(">I", n) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _ihdr(width: int, height: int, color: int = 0) -> bytes:
    return _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header claiming ``width × height`` pixels with a little real (zero) data: a
    decompression bomb in a few hundred bytes."""
    rows = zlib.compress(b"\0" * min(width + 1, 1 << 16) * 4, 9)
    return SIG + _ihdr(width, height) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def png_with_4gb_chunk(kind: bytes) -> bytes:
    data = zlib.compress((b"\0" + b"\x10" * 64) * 64)
    return SIG + _ihdr(64, 64) + _chunk(kind, data, 0xFFFFFFF0) + _chunk(b"IEND", b"")


def small_png(color: tuple[int, int, int] = (200, 30, 30), size: int = 80) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_claiming(width: int, height: int, progressive: bool = False) -> bytes:
    """A real small JPEG whose SOF header is patched to claim ``width × height``."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 192), (10, 120, 200)).save(buf, format="JPEG",
                                                      progressive=progressive)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    assert sof > 0
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _write(data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "item.png"
        path.write_bytes(data)
        return path
    return make


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.jpg"
    os.mkfifo(path)
    return path


def _directory(folder: Path) -> Path:
    path = folder / "folder.jpg"
    path.mkdir()
    return path


def _loop(folder: Path) -> Path:
    a, b = folder / "a.jpg", folder / "b.jpg"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


def _truncated(folder: Path) -> Path:
    path = folder / "cut.png"
    data = small_png(size=300)
    path.write_bytes(data[: len(data) // 2])
    return path


def _device(folder: Path) -> Path:
    return Path("/dev/zero")


HOSTILE: dict[str, Callable[[Path], Path]] = {
    "bomb-png-30000": _write(png_claiming(30_000, 30_000)),
    "jpeg-65000": lambda folder: _named(folder, "big.jpg", jpeg_claiming(65_000, 65_000)),
    # below Pillow's own bomb limit, but ~500 MB of DCT coefficients whatever the draft scale
    "progressive-jpeg-13300": lambda folder: _named(
        folder, "prog.jpg", jpeg_claiming(13_300, 13_300, progressive=True)),
    "png-1x80M": _write(png_claiming(80_000_000, 1)),
    "fifo": _fifo,
    "device": _device,
    "zero-bytes": _write(b""),
    "directory": _directory,
    "symlink-loop": _loop,
    "truncated": _truncated,
    "not-an-image": _write(b"hello, I am text" * 10),
    "missing": lambda folder: folder / "nope.jpg",
}

# Corrupt but harmless: decoded (an image) or refused (a placeholder); never a crash.
EITHER: dict[str, Callable[[Path], Path]] = {
    "idat-4GB": _write(png_with_4gb_chunk(b"IDAT")),
    "text-4GB": _write(png_with_4gb_chunk(b"zTXt")),
    "iccp-4GB": _write(png_with_4gb_chunk(b"iCCP")),
    "unknown-4GB": _write(png_with_4gb_chunk(b"zzZz")),
}


def _named(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _store_items(paths: list[str], ids: list[int]) -> dict[str, Any]:
    return MediaStore(paths).items(ids)


def _describe(path: str) -> dict[str, Any]:
    return MediaStore([]).describe(path)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_image_is_a_placeholder_and_one_warning(tmp_path: Path, case: str) -> None:
    bad = HOSTILE[case](tmp_path)
    good = _named(tmp_path, "good.png", small_png())
    out = isolated(_store_items, [str(good), str(bad), str(good)], [0, 1, 2])
    assert out.error is None and out.signal is None and not out.timed_out, out
    assert out.seconds < 5
    items = out.value
    assert items["1"]["kind"] == "missing", items["1"]
    assert items["0"]["kind"] == items["2"]["kind"] == "image"  # one bad image costs no other
    warned = out.warned(FederWarning)
    assert len(warned) == 1 and bad.name in warned[0], out.warnings
    reason = items["1"]["reason"]
    assert str(tmp_path) not in reason and bad.name in reason  # no absolute paths


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_query_image_is_a_placeholder(tmp_path: Path, case: str) -> None:
    bad = HOSTILE[case](tmp_path)
    out = isolated(_describe, str(bad))
    assert out.error is None and out.signal is None and not out.timed_out, out
    assert out.value["kind"] == "missing" and len(out.warned(FederWarning)) == 1


@pytest.mark.parametrize("case", sorted(EITHER))
def test_a_chunk_claiming_4gb_costs_nothing(tmp_path: Path, case: str) -> None:
    bad = EITHER[case](tmp_path)
    out = isolated(_store_items, [str(bad)], [0])
    assert out.error is None and out.signal is None and not out.timed_out, out
    item = out.value["0"]
    assert item["kind"] in ("image", "missing")
    assert len(out.warned(FederWarning)) == (item["kind"] == "missing")


@pytest.mark.parametrize("case", sorted(set(HOSTILE) - {"truncated"}))  # header only
def test_probe_refuses_hostile_files_quickly(tmp_path: Path, case: str) -> None:
    bad = HOSTILE[case](tmp_path)
    out = isolated(probe_image, bad)
    assert out.error is MediaError and not out.timed_out, out


def test_a_large_progressive_jpeg_is_refused_before_decoding(tmp_path: Path) -> None:
    path = _named(tmp_path, "prog.jpg", jpeg_claiming(13_300, 13_300, progressive=True))
    out = isolated(thumbnail_bytes, path, 128, memory=2048 << 20)
    assert out.error is MediaError and "progressive" in out.message, out
    assert out.seconds < 0.5


def test_a_large_baseline_jpeg_decodes_at_draft_scale(tmp_path: Path) -> None:
    """13,300² claimed, baseline: DCT scaling keeps the decode small (grey where data ends)."""
    path = _named(tmp_path, "wide.jpg", jpeg_claiming(13_300, 13_300))
    out = isolated(thumbnail_bytes, path, 128)
    assert out.signal is None and not out.timed_out and out.seconds < 5, out
    assert out.error is None or issubclass(out.error, MediaError), out


def test_the_largest_allowed_image_fits_the_budget(tmp_path: Path) -> None:
    width = MAX_PIXELS - 1000
    data = SIG + _ihdr(width, 1) + _chunk(b"IDAT", zlib.compress(b"\0" + b"\x80" * width, 6)) + \
        _chunk(b"IEND", b"")
    path = _named(tmp_path, "wide.png", data)
    out = isolated(thumbnail_bytes, path, 128)
    assert out.error is None and not out.timed_out and out.seconds < 5, out
    assert out.value[1] in ("image/png", "image/jpeg")


def test_many_missing_images_make_one_summary_warning(tmp_path: Path) -> None:
    store = MediaStore([str(tmp_path / f"gone_{i}.jpg") for i in range(3000)])
    with pytest.warns(FederWarning) as record:
        items = store.items(range(3000))
    assert len(record) == 1
    message = str(record[0].message)
    assert "3000 media items" in message and "and 2997 more" in message
    assert all(item["kind"] == "missing" for item in items.values())
    # asked again: no new warning (already reported)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.items(range(10))


def test_a_raising_media_function_is_a_placeholder() -> None:
    def media(ident: int) -> str:
        raise RuntimeError(f"database down for {ident}")

    with pytest.warns(FederWarning, match="database down"):
        items = MediaStore(media).items([3, 4])
    assert items["3"]["kind"] == items["4"]["kind"] == "missing"


def test_text_media_are_truncated() -> None:
    store = MediaStore(["x" * 1_000_000, "short"], media_type="text")
    long, short = store.item(0), store.item(1)
    assert len(long["text"]) == TEXT_LIMIT and long["text"].endswith("…")
    assert long["truncated"] == 1_000_000
    assert short == {"kind": "text", "text": "short"}


def test_the_cache_is_bounded(tmp_path: Path) -> None:
    store = MediaStore(lambda i: f"https://example.org/{i}.jpg")
    for i in range(CACHE_ITEMS + 500):
        store.item(i)
    assert len(store._cache) == CACHE_ITEMS
    assert 0 not in store._cache and CACHE_ITEMS + 499 in store._cache


def test_undecodable_file_names_are_shown_with_replacement_characters(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.png"
    with open(raw, "wb") as fh:
        fh.write(small_png())
    name = os.fsdecode(raw)
    item = MediaStore([name]).item(0)
    assert item["kind"] == "image" and item["name"] == "caf\ufffd.png"
    item["name"].encode("utf-8")


def test_list_images_skips_special_files(tmp_path: Path) -> None:
    _named(tmp_path, "ok.png", small_png())
    _fifo(tmp_path)
    _directory(tmp_path)
    _loop(tmp_path)
    out = isolated(list_images, tmp_path)
    assert out.error is None and not out.timed_out, out
    assert [p.name for p in out.value] == ["ok.png"]


def test_no_file_stays_open(tmp_path: Path) -> None:
    import gc

    good = _named(tmp_path, "good.jpg", jpeg_claiming(64, 48))
    bomb = _named(tmp_path, "bomb.png", png_claiming(30_000, 30_000))
    import warnings

    gc.collect()
    before = len(os.listdir("/proc/self/fd"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(30):
            thumbnail_bytes(good, 32)
            probe_image(good)
            with pytest.raises(MediaError):
                thumbnail_bytes(bomb, 32)
        gc.collect()
    assert len(os.listdir("/proc/self/fd")) == before
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
