"""chroma, embedded in the test: feder reads the persisted HNSW segment folder (header.bin
with its 4-byte version prefix, then hnswlib's layout) and its replay equals chroma's own
``collection.query``; a folder chroma has not flushed yet is refused clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feder
from feder import sources

from conftest import clustered  # isort: skip
from test_sources_milvus import photos  # isort: skip

chromadb = pytest.importorskip("chromadb")

N, DIM = 2000, 16  # chroma writes its folder every 1,000 adds


def build_chroma(folder: Path, space: str = "l2", n: int = N, name: str = "images") -> Any:
    data = clustered(n, DIM, seed=21)
    images = photos(folder)
    client = chromadb.PersistentClient(path=str(folder / "chroma"))
    col = client.create_collection(name, configuration={"hnsw": {
        "space": space, "ef_search": 20, "max_neighbors": 8}},
                                   embedding_function=None)
    for start in range(0, n, 500):
        stop = min(start + 500, n)
        col.add(ids=[f"img_{i:04d}" for i in range(start, stop)], embeddings=data[start:stop],
                metadatas=[{"path": images[i % len(images)]} for i in range(start, stop)])
    return col, data


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, np.ndarray, Path]:
    folder = tmp_path_factory.mktemp("chroma")
    col, data = build_chroma(folder)
    return col, data, folder


def _queries(data: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (data[rng.choice(data.shape[0], n, replace=False)]
            + 1.5 * rng.standard_normal((n, data.shape[1])).astype(np.float32)).astype("f4")


@pytest.mark.parametrize("space", ["l2", "cosine", "ip"])
def test_replay_equals_chroma(space: str, tmp_path: Path) -> None:
    col, data = build_chroma(tmp_path, space)
    src = sources.chroma(col, media_field="path")
    model = src.model()
    assert model is not None and model.kind == "hnsw" and model.ntotal == N, src.model_reason
    assert src.metric == space and src.ef_search == 20
    qs = _queries(data, 40, seed=3)
    for q, answer in zip(qs, src.search_many(qs, 10), strict=True):
        trace = feder.trace.search(model, q, 10, ef=20)
        np.testing.assert_array_equal(src.model_rows(trace.ids), answer.rows)
        np.testing.assert_allclose(trace.distances, answer.distances, rtol=1e-4, atol=1e-5)
    e = feder.explain(src, qs[0], k=10)
    assert e.replay == "equal"


def test_sweep_engine_at_its_ef_replay_elsewhere(built: tuple[Any, np.ndarray, Path]) -> None:
    col, data, folder = built
    src = sources.chroma(folder / "chroma", collection="images")  # from the persist folder
    qs = _queries(data, 30, seed=4)
    s = feder.sweep(src, qs, k=10, ef=[10, 20, 80])
    assert s.answered_by == ["replay", "engine", "replay"]
    assert s.replay_agreement[1] == 1.0
    d = ((qs[:, None, :] - src.vectors[None]) ** 2).sum(-1)
    truth = np.argsort(d, axis=1, kind="stable")[:, :10]
    got = col.query(query_embeddings=qs, n_results=10)["ids"]
    for i, ids in enumerate(got):
        assert s.per_query[1, i] == pytest.approx(np.isin(truth[i], src.rows_of(ids)).sum() / 10)
    assert s.recall[0] <= s.recall[1] <= s.recall[2]
    with pytest.raises(feder.ParameterError, match="ef_search"):
        src.search(qs[0], 10, ef=64)


def test_federpy_search_by_chroma_id(built: tuple[Any, np.ndarray, Path]) -> None:
    col, _, _ = built
    f = feder.FederPy(sources.chroma(col, media_field="path"))
    w = f.setSearchParams({"k": 5}).searchById("img_0042")
    assert f.search_params["ef_search"] == 20
    assert f.engine_check.same is True and f.engine_check.answer.ids[0] == "img_0042"
    assert w.explanation is not None and w.search["engine"]["engine_ids"][0] == "img_0042"
    assert f.engine.engine_id(f.engine.view_id("img_1999")) == "img_1999"


def test_unflushed_folder_is_refused(tmp_path: Path) -> None:
    col, _ = build_chroma(tmp_path, n=1500)  # 500 adds after the last flush
    src = sources.chroma(col)
    assert src.model() is None
    assert "every 1000 adds" in src.model_reason and "1000 of 1500" in src.model_reason
    f = feder.FederPy(src)  # the engine's answers, never a replay
    assert "model of the engine, not a replay" in f.session.params.title


def test_bad_input(built: tuple[Any, np.ndarray, Path], tmp_path: Path) -> None:
    _, _, folder = built
    with pytest.raises(sources.SourceError, match="no collection 'nope'"):
        sources.chroma(folder / "chroma", collection="nope")
    with pytest.raises(sources.SourceError, match="no chroma persist directory"):
        sources.chroma(tmp_path)
    src = sources.chroma(folder / "chroma")
    with pytest.raises(feder.QueryError):
        src.search(np.zeros(DIM - 1, np.float32), 3)
    with pytest.raises(feder.UnknownIdError):
        src.vector("img_5000")
