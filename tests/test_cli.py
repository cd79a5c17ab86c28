"""The ``feder`` command line on a tiny real image folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest

import feder
from feder.datasets import write_fashion_mnist


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feder.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    write_fashion_mnist(root / "photos", per_class=4)
    (root / "photos" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def vectors(workdir: Path) -> Path:
    done = run("embed", workdir / "photos", "-o", workdir / "vectors.npy", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "40 images" in done.stdout
    return workdir / "vectors.npy"


def test_embed_writes_vectors_and_the_image_list(workdir: Path, vectors: Path) -> None:
    array = np.load(vectors)
    assert array.shape == (40, 1280) and array.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(array, axis=1), 1.0, atol=1e-5)
    listing = json.loads((workdir / "vectors.json").read_text())
    assert len(listing["images"]) == 40 and listing["images"] == sorted(listing["images"])
    assert listing["backend"] == "efficientnet" and listing["dim"] == 1280


@pytest.mark.parametrize(("kind", "extra"), [("ivf_flat", ["--nlist", "4"]),
                                             ("hnsw", ["--M", "6", "--metric", "cosine"])])
def test_index_is_loadable_and_searchable(workdir: Path, vectors: Path, kind: str,
                                          extra: list[str]) -> None:
    out = workdir / f"{kind}.index"
    done = run("index", vectors, "--kind", kind, "-o", out, "--no-progress", *extra)
    assert done.returncode == 0, done.stderr
    index = feder.load_index(out, space="cosine" if kind == "hnsw" else None)
    assert index.ntotal == 40 and index.kind == kind
    trace = index.search_by_id(7, k=3)
    assert int(trace.ids[0]) == 7
    if kind == "ivf_flat":
        lib = faiss.read_index(str(out))
        assert lib.nlist == 4 and lib.ntotal == 40


def test_report_is_self_contained(workdir: Path, vectors: Path) -> None:
    index = workdir / "report.index"
    assert run("index", vectors, "--nlist", "4", "-o", index).returncode == 0
    out = workdir / "report.html"
    done = run("report", index, "--media", workdir / "vectors.json", "--query-id", "12",
               "--k", "5", "--nprobe", "2", "-o", out)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "<script src=" not in html and not re.search(r"https?://", html)
    assert "image/png" in html  # thumbnails embedded
    query_image = sorted((workdir / "photos").rglob("*.png"))[3]
    done = run("report", index, "--media", workdir / "photos", "--query-image", query_image,
               "-o", workdir / "by_image.html")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["embed", "no-such-folder"], "expected a folder of images"),
    (["index", "missing.npy", "-o", "x.index"], "no such vectors file"),
    (["report", "missing.index"], "no such index file"),
    (["report", "vectors.npy"], "not a faiss or hnswlib index"),
])
def test_bad_input_is_one_line_and_exit_2(workdir: Path, vectors: Path, args: list[str],
                                           message: str) -> None:
    done = run(*args, cwd=workdir)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_bad_parameters_exit_2(workdir: Path, vectors: Path) -> None:
    done = run("index", vectors, "--nlist", "999", "-o", workdir / "x.index")
    assert done.returncode == 2 and "nlist must be in 1 … 40" in done.stderr
    index = workdir / "bad.index"
    assert run("index", vectors, "--nlist", "4", "-o", index).returncode == 0
    done = run("report", index, "--query-id", "4000", "-o", workdir / "x.html")
    assert done.returncode == 2 and "id 4000 is not in the index" in done.stderr


@pytest.mark.parametrize("command", ["embed", "index", "report"])
def test_help_explains_each_command(command: str) -> None:
    done = run(command, "--help")
    assert done.returncode == 0 and len(done.stdout.splitlines()) > 8


def test_no_command_prints_help_and_fails() -> None:
    done = run()
    assert done.returncode == 2 and "embed" in done.stdout


def test_diagnose_writes_the_sweep_health_and_worst_queries(tmp_path: Path) -> None:
    import hashlib

    rng = np.random.default_rng(5)
    xb = rng.standard_normal((1500, 12)).astype("f4")
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(12), 12, 24)
    index.train(xb)
    index.add(xb)
    faiss.write_index(index, str(tmp_path / "f.index"))
    queries = (xb[:40] + 0.5).astype("f4")
    np.save(tmp_path / "q.npy", queries)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in tmp_path.iterdir()}
    done = run("diagnose", tmp_path / "f.index", "--queries", tmp_path / "q.npy",
               "--k", "5", "--nprobe", "1,4,24", "--worst", "2", "-o", tmp_path / "d.html")
    assert done.returncode == 0, done.stderr
    want = feder.sweep(feder.load_index(tmp_path / "f.index"), queries, k=5, nprobe=[1, 4, 24])
    table = ", ".join(f"{v}: {r:.3f}" for v, r in zip([1, 4, 24], want.recall, strict=True))
    assert f"recall@5 by nprobe: {table}" in done.stdout
    assert "2 queries explained at nprobe 4" in done.stdout
    page = (tmp_path / "d.html").read_text()
    assert page.count('"kind":"sweep"') == 1 and page.count('"kind":"health"') == 1
    assert page.count('"kind":"ivf_search"') >= 2 and '"diagnosis"' in page
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in tmp_path.iterdir() if p.name != "d.html"} == before
    for bad in (["--nprobe", "4,2"], ["--nprobe", "0"], ["--nprobe", "x"], ["-o", "q.npy"]):
        args = ["diagnose", tmp_path / "f.index", "--queries", tmp_path / "q.npy", *bad]
        if "-o" not in bad:
            args += ["-o", tmp_path / "bad.html"]
        failed = run(*args, cwd=tmp_path)
        assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1, bad
        assert "Traceback" not in failed.stderr
