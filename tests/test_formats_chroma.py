"""chroma's persisted HNSW read from its files with ``feder.load_index(folder)``: chromadb
builds the collections here (it runs offline), and feder's replay of the folder equals
``collection.query`` for l2, ip and cosine; the space comes from chroma's database; an
unflushed folder, a hostile pickle and truncated files are refused clearly."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import chromadb
import numpy as np
import pytest

import feder
from feder.parsers.chroma import chroma_ids, load_plain_pickle

N, DIM = 1200, 12  # chroma writes its HNSW folder every 1,000 additions


def _collection(root: Path, space: str, n: int = N) -> tuple[Path, np.ndarray]:
    client = chromadb.PersistentClient(path=str(root))
    col = client.create_collection("items", metadata={"hnsw:space": space})
    data = np.random.default_rng(len(space)).standard_normal((n, DIM)).astype("f4")
    col.add(ids=[f"doc-{i}" for i in range(n)], embeddings=data.tolist())
    return root, data


def _segment(root: Path) -> Path:
    return next(p for p in root.iterdir() if p.is_dir() and (p / "header.bin").exists())


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_replay_of_the_folder_equals_chroma(tmp_path: Path, space: str) -> None:
    root, _ = _collection(tmp_path / space, space)
    idx = feder.load_index(root)  # detected; the space is read from chroma.sqlite3
    assert idx.kind == "hnsw" and idx.metric == space and idx.ntotal == N
    names = chroma_ids(_segment(root))
    col = chromadb.PersistentClient(path=str(root)).get_collection("items")
    queries = np.random.default_rng(9).standard_normal((20, DIM)).astype("f4")
    ef = int((col.configuration_json.get("hnsw") or {}).get("ef_search", 100))
    for q in queries:
        want = col.query(query_embeddings=[q.tolist()], n_results=5)["ids"][0]
        got = idx.search(q, k=5, ef=ef)
        assert [names[int(label)] for label in got.ids] == want
    same = feder.load_index(_segment(root), space=space)  # a segment folder works too
    np.testing.assert_array_equal(same.labels, idx.labels)


def test_an_unflushed_folder_is_refused(tmp_path: Path) -> None:
    root, _ = _collection(tmp_path / "few", "l2", n=50)  # chroma wrote a placeholder folder
    with pytest.raises(feder.IndexFormatError, match="every 1,000 additions"):
        feder.load_index(root)
    with pytest.raises(feder.IndexFormatError, match="holds no vectors yet"):
        feder.load_index(_segment(root), source="chroma")


def test_the_metadata_pickle_never_runs_code(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    with pytest.raises(feder.IndexFormatError, match="plain dicts"):
        load_plain_pickle(pickle.dumps({"label_to_id": {1: Evil()}}))
    assert not (tmp_path / "pwned").exists()
    assert load_plain_pickle(pickle.dumps({"label_to_id": {1: "a"}}, protocol=3)) == \
        {"label_to_id": {1: "a"}}
    with pytest.raises(feder.IndexFormatError, match="not a readable pickle"):
        load_plain_pickle(b"\x80\x03}q\x00(")


def test_truncated_files_are_refused(tmp_path: Path) -> None:
    root, _ = _collection(tmp_path / "t", "l2")
    segment = _segment(root)
    level0 = segment / "data_level0.bin"
    level0.write_bytes(level0.read_bytes()[:1000])
    with pytest.raises(feder.IndexFormatError, match=r"data_level0\.bin"):
        feder.load_index(root)
    (segment / "header.bin").write_bytes(b"\0" * 10)
    with pytest.raises(feder.IndexFormatError, match=r"header\.bin has 10 bytes"):
        feder.load_index(segment, source="chroma")
    with pytest.raises(feder.ParameterError, match="chroma"):
        feder.load_index(b"not a folder", source="chroma")
