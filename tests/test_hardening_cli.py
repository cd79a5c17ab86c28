"""The CLI never overwrites or loses a file: every bad input exits 2 with one line on stderr
(or the command succeeds correctly), and every input file is byte-for-byte unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import feder

TIMEOUT = 60


def run(*args: str | os.PathLike[str] | bytes, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "feder.cli",
            *(a if isinstance(a, bytes) else os.fspath(a) for a in args)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          errors="replace")


def _png(path: Path, shade: int) -> None:
    from PIL import Image

    Image.new("RGB", (40, 30), (shade, 100, 255 - shade)).save(path)


def _bomb() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 120_000)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from feder.builders import build_hnsw, build_ivf_flat, save

    root = tmp_path_factory.mktemp("hardcli")
    photos = root / "photos"
    photos.mkdir()
    for i in range(12):
        _png(photos / f"img{i:02d}.png", 20 * i)
    bombs = root / "bombs"
    bombs.mkdir()
    _png(bombs / "a.png", 10)
    (bombs / "b.png").write_bytes(_bomb())
    odd = root / "odd"
    odd.mkdir()
    _png(odd / "fine.png", 50)
    with open(os.fsencode(odd) + b"/caf\xe9.png", "wb") as fh:
        _png(Path(os.fsdecode(os.fsencode(odd) + b"/tmp.png")), 90)
        fh.write((odd / "tmp.png").read_bytes())
    (odd / "tmp.png").unlink()
    vectors = np.random.default_rng(0).standard_normal((12, 8)).astype(np.float32)
    np.save(root / "vectors.npy", vectors)
    np.save(root / "strings.npy", np.array([["a", "b"], ["c", "d"]]))
    np.save(root / "numeric_strings.npy", np.array([["1.5", "2"], ["3", "4"]]))
    save(build_ivf_flat(vectors, 2, "l2", nprobe=1), str(root / "ivf.index"))
    save(build_hnsw(vectors, 4, 20, "l2"), str(root / "hnsw.index"))
    listing = {"root": str(photos), "images": [f"img{i:02d}.png" for i in range(12)]}
    (root / "listing.json").write_text(json.dumps(listing))
    (root / "outside.json").write_text(json.dumps(
        {"root": str(photos), "images": ["../bombs/a.png", *listing["images"][1:]]}))
    (root / "absolute.json").write_text(json.dumps(
        {"root": str(photos), "images": ["/etc/passwd", *listing["images"][1:]]}))
    (root / "broken.json").write_text('{"root": "photos", "images": [')
    (root / "wrong.json").write_text('["img00.png"]')
    os.mkfifo(root / "fifo.jpg")
    os.mkfifo(root / "fifo.npy")
    os.mkfifo(root / "fifo.json")
    (root / "outdir").mkdir()
    (root / "afile").write_text("x")
    (root / "link.index").symlink_to(root / "ivf.index")
    os.link(root / "vectors.npy", root / "hard.npy")
    return root


def _snapshot(root: Path) -> dict[bytes, str]:
    out: dict[bytes, str] = {}
    for dirpath, _dirs, files in os.walk(os.fsencode(root)):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                out[path] = "special"
                continue
            with open(path, "rb") as fh:
                out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


def _check(work: Path, args: list[str | bytes], code: int, text: str,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    before = _snapshot(work)
    done = run(*args, cwd=cwd or work)
    after = _snapshot(work)
    changed = sorted(p for p in before if after.get(p) != before[p])
    assert changed == [], f"inputs changed: {changed}\n{done.stderr}"
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, done.stderr
    assert not any(p.endswith(b".part") for p in after), "a temporary file was left behind"
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    if code == 2:
        assert len(lines) == 1 and text in lines[0], done.stderr
        assert set(after) == set(before), "a refused command created a file"
    else:
        assert text in done.stdout + done.stderr, (done.stdout, done.stderr)
    return done


ONTO_INPUT = [
    ["index", "vectors.npy", "-o", "vectors.npy"],
    ["index", "vectors.npy", "--kind", "hnsw", "-o", "hard.npy"],  # a hard link of the input
    ["report", "ivf.index", "-o", "ivf.index"],
    ["report", "ivf.index", "-o", "link.index"],  # a symlink to the input
    ["report", "link.index", "-o", "ivf.index"],
    ["report", "ivf.index", "--media", "listing.json", "-o", "listing.json"],
    ["report", "ivf.index", "--media", "photos", "-o", "photos/img03.png"],
    ["report", "ivf.index", "--media", "listing.json", "-o", "photos/img04.png"],
    ["report", "ivf.index", "--query-image", "photos/img05.png", "--backend", "descriptor",
     "-o", "photos/img05.png"],
]


@pytest.mark.parametrize("args", ONTO_INPUT, ids=lambda a: " ".join(a)[:60])
def test_no_command_writes_onto_an_input(work: Path, args: list[str]) -> None:
    _check(work, list(args), 2, "refusing to write")


BAD = [
    (["index", "strings.npy", "-o", "s.index"], "expected numbers"),
    (["index", "numeric_strings.npy", "-o", "s.index"], "expected numbers"),
    (["index", "fifo.npy", "-o", "s.index"], "FIFO"),
    (["index", "vectors.npy", "--nlist", "-3", "-o", "s.index"], "≥ 1"),
    (["index", "vectors.npy", "-o", "outdir"], "is a directory"),
    (["index", "vectors.npy", "--kind", "hnsw", "-o", "outdir"], "is a directory"),
    (["index", "vectors.npy", "-o", "afile/x.index"], "is a file"),
    (["report", "ivf.index", "--nprobe", "-1", "-o", "r.html"], "≥ 1"),
    (["report", "ivf.index", "--k", "0", "-o", "r.html"], "≥ 1"),
    (["report", "hnsw.index", "--ef", "-5", "-o", "r.html"], "≥ 1"),
    (["report", "ivf.index", "--k", "abc", "-o", "r.html"], "whole number"),
    (["report", "ivf.index", "-o", "outdir"], "is a directory"),
    (["report", "ivf.index", "-o", "afile/r.html"], "is a file"),
    (["report", "ivf.index", "--media", "broken.json", "-o", "r.html"], "not valid JSON"),
    (["report", "ivf.index", "--media", "wrong.json", "-o", "r.html"], "expected a JSON object"),
    (["report", "ivf.index", "--media", "fifo.json", "-o", "r.html"], "FIFO"),
    (["report", "ivf.index", "--media", "outside.json", "-o", "r.html"], "leaves the root"),
    (["report", "ivf.index", "--media", "absolute.json", "-o", "r.html"], "leaves the root"),
    (["report", "ivf.index", "--query-image", "fifo.jpg", "-o", "r.html"], "FIFO"),
    (["report", "ivf.index", "--query-image", "bombs/b.png", "-o", "r.html"],
     "decompression bomb"),
    (["report", "fifo.jpg", "-o", "r.html"], "FIFO"),
    (["report", "ivf.index", "--query-id", "4000", "-o", "r.html"], "not in the index"),
    (["embed", "photos", "-o", "img05.png"], "must end in .npy"),
    (["embed", "bombs", "-o", "bombs.npy", "--backend", "descriptor"], "decompression bomb"),
    (["embed", "photos", "-o", "outdir.npy/x.npy"], "is a file"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=lambda a: " ".join(a)[:60]
                         if isinstance(a, list) else None)
def test_bad_input_exits_2_with_one_line(work: Path, args: list[str], message: str) -> None:
    if "outdir.npy/x.npy" in args:
        (work / "outdir.npy").write_text("a file")
        try:
            _check(work, list(args), 2, message)
        finally:
            (work / "outdir.npy").unlink()
        return
    _check(work, list(args), 2, message)


def test_a_failed_report_leaves_the_previous_one_untouched(work: Path) -> None:
    out = work / "keep.html"
    out.write_text("the previous report")
    _check(work, ["report", "ivf.index", "--query-id", "999", "-o", "keep.html"], 2,
           "not in the index")
    assert out.read_text() == "the previous report"
    out.unlink()


def test_a_non_utf8_title_exits_2(work: Path) -> None:
    _check(work, ["report", "ivf.index", "--title", b"caf\xe9", "-o", "t.html"], 2, "UTF-8")


def test_non_utf8_names_are_written_and_reported(work: Path, tmp_path: Path) -> None:
    out = os.fsencode(tmp_path) + b"/r\xe9port.html"
    done = _check(work, ["report", "ivf.index", "--media", "odd", "--query-id", "1",
                         "-o", out], 0, "report →")
    assert os.path.getsize(out) > 1000 and "\ufffd" in done.stdout


def test_a_listing_outside_its_root_is_allowed_when_asked(work: Path, tmp_path: Path) -> None:
    out = tmp_path / "outside.html"
    _check(work, ["report", "ivf.index", "--media", "outside.json", "--allow-outside-root",
                  "-o", out], 0, "report →")
    assert out.stat().st_size > 1000


def test_a_bomb_in_the_media_folder_is_a_placeholder_in_a_report(work: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "bombs.html"
    index = tmp_path / "two.index"
    from feder.builders import build_ivf_flat, save

    save(build_ivf_flat(np.eye(2, 4, dtype=np.float32) + 0.5, 1, "l2"), str(index))
    done = _check(work, ["report", index, "--media", "bombs", "--query-id", "0", "-o", out],
                  0, "report →")
    warnings = [line for line in done.stderr.splitlines() if line.startswith("feder: warning")]
    assert len(warnings) == 1 and "b.png" in warnings[0], done.stderr
    assert str(work) not in out.read_text()


def test_embed_writes_the_names_it_reports(work: Path, tmp_path: Path) -> None:
    out = tmp_path / "vec.npy"
    done = _check(work, ["embed", "photos", "-o", out, "--backend", "descriptor",
                         "--no-progress"], 0, str(out))
    assert np.load(out).shape[0] == 12 and (tmp_path / "vec.json").exists()
    assert str(tmp_path / "vec.json") in done.stdout
    assert not list(tmp_path.glob("*.npy.npy"))


def test_embed_accepts_an_image_symlinked_from_elsewhere(work: Path, tmp_path: Path) -> None:
    folder = tmp_path / "linked"
    folder.mkdir()
    _png(folder / "own.png", 30)
    (folder / "other.png").symlink_to(work / "photos" / "img07.png")
    out = tmp_path / "linked.npy"
    _check(work, ["embed", folder, "-o", out, "--backend", "descriptor", "--no-progress"], 0,
           "2 images")
    listing = json.loads((tmp_path / "linked.json").read_text())
    assert listing["images"] == ["other.png", "own.png"]


def test_index_and_report_succeed_and_verify(work: Path, tmp_path: Path) -> None:
    for kind in ("ivf_flat", "hnsw"):
        out = tmp_path / f"{kind}.index"
        done = _check(work, ["index", "vectors.npy", "--kind", kind, "--nlist", "2", "--M", "4",
                             "-o", out], 0, str(out))
        assert feder.load_index(out).ntotal == 12
        if kind == "hnsw":
            assert "vec" in done.stderr and "img" not in done.stderr, done.stderr
        # written again over the previous output: fine (it is not an input)
        _check(work, ["index", "vectors.npy", "--kind", kind, "--nlist", "2", "--M", "4",
                      "-o", out], 0, str(out))


@pytest.mark.parametrize(("index", "option", "applies"), [
    ("hnsw.index", ["--nprobe", "4"], "--nprobe"), ("ivf.index", ["--ef", "30"], "--ef")])
def test_an_option_that_does_not_apply_is_named(work: Path, tmp_path: Path, index: str,
                                                option: list[str], applies: str) -> None:
    done = _check(work, ["report", index, *option, "--query-id", "2",
                         "-o", tmp_path / "w.html"], 0, "report →")
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feder: warning:") and applies in lines[0]


@pytest.mark.parametrize("remote", [False, True])
def test_remote_media_in_a_listing_only_with_the_option(work: Path, tmp_path: Path,
                                                         remote: bool) -> None:
    urls = [f"https://images.example.invalid/{i}.jpg" for i in range(12)]
    listing = tmp_path / "remote.json"
    listing.write_text(json.dumps({"root": str(work / "photos"), "images": urls}))
    out = tmp_path / "remote.html"
    _check(work, ["report", "ivf.index", "--media", listing, "--query-id", "1", "-o", out,
                  *(["--remote-media"] if remote else [])], 0, "report →")
    page = out.read_text(encoding="utf-8")
    csp = page.split('http-equiv="Content-Security-Policy" content="')[1].split('"')[0]
    if remote:
        assert "https:" in csp and "remote image" in page and "example.invalid" in page
        assert 'data-remote-images="0"' not in page
    else:
        assert "https:" not in csp and 'data-remote-images="0"' in page
        assert "loads nothing from the network" in page
