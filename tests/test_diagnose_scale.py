"""Diagnosis at scale, in miniature: the exact truth over a memory-mapped file reads it with
pread (the map's pages are never made resident), and a notebook widget over an index too big
to brute-force at once shows the search first and gets its diagnosis from a background
thread (a newer search supersedes an older pending diagnosis; a failure becomes a message).

Real faiss / hnswlib files are written at test time; a file counts as "big" by patching the
map threshold (``feder.parsers._reader.MAP_THRESHOLD``) and the background threshold
(``feder.federpy.BACKGROUND_DIAGNOSIS_FLOATS``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import faiss
import hnswlib
import numpy as np
import pytest
from conftest import clustered

import feder
from feder.diagnose.exact import exact_search, store_of
from feder.index import as_model
from feder.model import read_rows_at, row_blocks
from feder.parsers import _reader

N, DIM, NLIST, K = 30_000, 32, 64, 10


def _mapping_rss_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of ``path`` (``/proc/self/smaps``)."""
    real = os.path.realpath(path)
    total, current = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            parts = line.split()
            if parts and "-" in parts[0] and not parts[0].endswith(":"):
                current = len(parts) >= 6 and parts[-1] == real
            elif current and parts[0] == "Rss:":
                total += int(parts[1])
    return total


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return clustered(N, DIM, 3)


@pytest.fixture(scope="module")
def files(data: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """faiss IVF_FLAT (L2 and IP), IndexFlatL2, IndexHNSWFlat and an hnswlib index, each
    a few MB (every one larger than the patched map threshold)."""
    tmp = tmp_path_factory.mktemp("scale")
    out: dict[str, Path] = {}
    for metric, faiss_metric in (("l2", faiss.METRIC_L2), ("ip", faiss.METRIC_INNER_PRODUCT)):
        quantizer = faiss.IndexFlat(DIM, faiss_metric)
        ivf = faiss.IndexIVFFlat(quantizer, DIM, NLIST, faiss_metric)
        ivf.train(data[:5000])
        ivf.add(data)
        ivf.nprobe = 2
        out[f"ivf_{metric}"] = tmp / f"ivf_{metric}.index"
        faiss.write_index(ivf, str(out[f"ivf_{metric}"]))
    flat = faiss.IndexFlatL2(DIM)
    flat.add(data)
    out["flat"] = tmp / "flat.index"
    faiss.write_index(flat, str(out["flat"]))
    graph = faiss.IndexHNSWFlat(DIM, 8)
    graph.add(data[:8000])
    out["faiss_hnsw"] = tmp / "faiss_hnsw.index"
    faiss.write_index(graph, str(out["faiss_hnsw"]))
    lib = hnswlib.Index("l2", DIM)
    lib.init_index(8000, 8, 64, random_seed=1)
    lib.add_items(data[:8000])
    out["hnswlib"] = tmp / "hnswlib.bin"
    lib.save_index(str(out["hnswlib"]))
    return out


def _load(path: Path, mapped: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(_reader, "MAP_THRESHOLD", 0 if mapped else 1 << 40)
        source = "hnswlib" if path.suffix == ".bin" else "faiss"
        return as_model(feder.load_index(path, source, **(
            {"space": "l2"} if source == "hnswlib" else {})))


@pytest.mark.parametrize("name", ["ivf_l2", "ivf_ip", "flat", "faiss_hnsw"])
def test_mapped_truth_reads_with_pread(name: str, files: dict[str, Path], data: np.ndarray,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Over a mapped file the truth equals the in-memory truth bit for bit, every vector is
    read with pread (the guard's copy) and the map's resident pages do not grow."""
    path = files[name]
    queries = data[[5, 777, 12_345, 29_999 if name.startswith(("ivf", "flat")) else 7999]]
    in_memory = _load(path, False, monkeypatch)
    mapped = _load(path, True, monkeypatch)
    guard = mapped._owner
    assert isinstance(guard, _reader.FileGuard)
    read = {"bytes": 0}
    copy = _reader.FileGuard.copy

    def counting(self: Any, view: np.ndarray, out: Any = None, check: bool = True) -> Any:
        read["bytes"] += view.nbytes
        return copy(self, view, out, check)

    monkeypatch.setattr(_reader.FileGuard, "copy", counting)
    before = _mapping_rss_kib(path)
    ids, dist = exact_search(mapped, queries, K)
    grown = _mapping_rss_kib(path) - before
    want_ids, want_dist = exact_search(in_memory, queries, K)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(dist, want_dist)
    assert read["bytes"] >= mapped.ntotal * DIM * 4  # every vector came through pread
    size_kib = path.stat().st_size >> 10
    # Through the map the scan makes the whole file resident; pread leaves it as it was.
    assert grown <= 16, f"{grown} KiB of the {size_kib} KiB map became resident"


def test_mapped_truth_through_the_map_would_grow(files: dict[str, Path], data: np.ndarray,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The RSS measure above can fail: reading the same mapped vectors through the map makes
    them resident."""
    path = files["flat"]
    mapped = _load(path, True, monkeypatch)
    before = _mapping_rss_kib(path)
    float(np.asarray(mapped.vectors, np.float64).sum())
    assert _mapping_rss_kib(path) - before >= (path.stat().st_size >> 10) // 2


def test_mapped_row_readers(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The model's pread helpers equal the map's own rows: IVF blocks and gathers, strided
    hnswlib records (read whole, vectors copied out), ids."""
    ivf = _load(files["ivf_l2"], True, monkeypatch)
    want = np.concatenate([np.asarray(v) for v in ivf._codes])
    got = np.concatenate([b.copy() for _, b in ivf.row_blocks(1000)])
    np.testing.assert_array_equal(got, want)
    rows = np.random.default_rng(0).integers(0, N, 500)
    np.testing.assert_array_equal(ivf.rows_at(rows), want[rows])
    np.testing.assert_array_equal(ivf.ids_at(rows), ivf.ids[rows])
    lib = _load(files["hnswlib"], True, monkeypatch)
    vectors = lib.vectors
    assert vectors.strides[0] > DIM * 4  # records: links, vector, label
    blocks = list(row_blocks(vectors, lib._owner, 3000))
    assert [s for s, _ in blocks] == [0, 3000, 6000]
    np.testing.assert_array_equal(np.concatenate([b.copy() for _, b in
                                                  row_blocks(vectors, lib._owner, 3000)]),
                                  vectors)
    picked = rows[rows < 8000]
    np.testing.assert_array_equal(read_rows_at(vectors, lib._owner, picked), vectors[picked])
    assert store_of(lib).guard is None  # type: ignore[attr-defined]  # hnswlib: in place


def test_mapped_file_changed_during_truth(files: dict[str, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapped file replaced after loading: the truth refuses it (IndexChangedError), never
    reads the new bytes."""
    path = tmp_path / "copy.index"
    path.write_bytes(files["flat"].read_bytes())
    mapped = _load(path, True, monkeypatch)
    os.utime(path, ns=(1, 1))
    with pytest.raises(feder.FederError, match="changed since it was loaded"):
        exact_search(mapped, np.zeros(DIM, np.float32), K)
