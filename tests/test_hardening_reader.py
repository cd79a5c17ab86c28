"""Index files rewritten while loaded: a search afterwards ends in IndexChangedError (mapped
files) or keeps working (files read into memory) — never SIGBUS, never a hang."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import feder
from feder.errors import FederError, IndexChangedError, IndexFormatError
from feder.parsers import _reader

from test_hardening_isolate import isolated  # isort: skip

DIM = 16


def _data(n: int = 3000) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, DIM)).astype(np.float32)


def _write_ivf(path: Path, n: int = 3000) -> None:
    import faiss

    x = _data(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(DIM), DIM, 8)
    index.train(x)
    index.add(x)
    faiss.write_index(index, str(path))


def _write_hnsw(path: Path, n: int = 3000) -> None:
    import hnswlib

    x = _data(n)
    index = hnswlib.Index("l2", DIM)
    index.init_index(n, M=8, random_seed=1)
    index.add_items(x, num_threads=1)
    index.save_index(str(path))


WRITERS = {"ivf": _write_ivf, "hnsw": _write_hnsw}


def _smaller(path: Path, kind: str) -> None:
    with open(path, "r+b") as fh:  # in place, like faiss.write_index of a smaller index
        fh.truncate(128)


def _larger(path: Path, kind: str) -> None:
    WRITERS[kind](path, 6000)  # rewritten in place (fopen "wb"), now twice the size


def _deleted(path: Path, kind: str) -> None:
    path.unlink()


def _replaced(path: Path, kind: str) -> None:
    other = path.with_suffix(".new")
    WRITERS[kind](other, 3000)
    os.replace(other, path)


def _same_size(path: Path, kind: str) -> None:
    data = bytearray(path.read_bytes())
    data[-64:] = bytes(64)
    with open(path, "r+b") as fh:
        fh.write(data)
    os.utime(path, ns=(0, 0))


CHANGES: dict[str, Callable[[Path, str], None]] = {
    "smaller": _smaller, "larger": _larger, "deleted": _deleted, "replaced": _replaced,
    "same-size": _same_size}


def _load_change_search(path: Path, kind: str, change: str, threshold: int,
                        kernels: bool = False) -> list[int]:
    _reader.MAP_THRESHOLD = threshold
    from feder.trace import accel

    accel.set_enabled(kernels)
    if kernels:  # the numba replays, warmed before the fork: the IVF scan preads the lists
        assert accel.ready()
    index = feder.load_index(path)
    query = _data(5)[3]
    before = index.search(query, k=4).ids.tolist()
    CHANGES[change](path, kind)
    after = index.search(query, k=4).ids.tolist()
    assert after == before
    index.vector(int(before[0]))
    return after


@pytest.mark.parametrize("kernels", [False, True], ids=["numpy", "kernels"])
@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_mapped_file_changed_after_loading_raises(tmp_path: Path, kind: str,
                                                     change: str, kernels: bool) -> None:
    if kernels:
        from feder.trace import accel

        assert accel.wait_ready(300), accel._state["error"]
    path = tmp_path / f"{kind}.index"
    WRITERS[kind](path)
    out = isolated(_load_change_search, path, kind, change, 0, kernels)  # 0: always map
    assert out.signal is None and not out.timed_out, out
    assert out.error is IndexChangedError, (out.error, out.message)
    assert issubclass(out.error, FederError)
    assert "reload" in out.message or "load the index again" in out.message
    assert str(path) in out.message and out.seconds < 5


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_file_read_into_memory_is_not_affected(tmp_path: Path, kind: str,
                                                 change: str) -> None:
    path = tmp_path / f"{kind}.index"
    WRITERS[kind](path)
    out = isolated(_load_change_search, path, kind, change, 1 << 30)
    assert out.error is None and out.signal is None, (out.error, out.message, out.signal)
    assert len(out.value) == 4


def test_small_files_are_read_and_large_ones_mapped(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ivf.index"
    _write_ivf(path)
    size = path.stat().st_size
    assert _reader.open_buffer(path).guard is None  # default threshold ≫ this file
    monkeypatch.setattr(_reader, "MAP_THRESHOLD", size - 1)
    mapped = _reader.open_buffer(path)
    assert mapped.guard is not None and mapped.size == size
    monkeypatch.setattr(_reader, "MAP_THRESHOLD", size)
    assert _reader.open_buffer(path).guard is None
    assert _reader.MAP_THRESHOLD > 0


def test_an_unchanged_mapped_index_searches_like_a_read_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, write in WRITERS.items():
        path = tmp_path / f"{kind}.index"
        write(path)
        read = feder.load_index(path)
        monkeypatch.setattr(_reader, "MAP_THRESHOLD", 0)
        mapped = feder.load_index(path)
        monkeypatch.undo()
        q = _data(9)[8]
        a, b = read.search(q, k=6), mapped.search(q, k=6)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.distances, b.distances)
        assert np.array_equal(read.vector(5), mapped.vector(5))


def test_a_fifo_or_directory_is_not_opened_as_an_index(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.index"
    os.mkfifo(fifo)
    out = isolated(feder.load_index, fifo)
    assert out.error is IndexFormatError and "special file" in out.message, out
    with pytest.raises(IndexFormatError, match="directory"):
        feder.load_index(tmp_path)
