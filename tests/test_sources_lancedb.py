"""LanceDB, embedded in the test: feder pulls the table, asks LanceDB itself at each nprobe and
checks its answers against exact truth; its own index statistics are reported as built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feder
from feder import sources

from conftest import clustered  # isort: skip
from test_sources_milvus import photos  # isort: skip

lancedb = pytest.importorskip("lancedb")
pa = pytest.importorskip("pyarrow")

N, DIM = 4000, 16


def build_lance(folder: Path, index: bool = True) -> tuple[Path, np.ndarray]:
    data = clustered(N, DIM, seed=31)
    images = photos(folder)
    db = lancedb.connect(str(folder / "lance"))
    table = db.create_table("images", data=pa.table({
        "id": [f"img_{i:04d}" for i in range(N)],
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.ravel()), DIM),
        "path": [images[i % len(images)] for i in range(N)]}))
    if index:
        from lancedb.index import IvfFlat

        table.create_index("vector", config=IvfFlat(distance_type="l2", num_partitions=24))
    return folder / "lance", data


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    return build_lance(tmp_path_factory.mktemp("lance"))


@pytest.fixture(scope="module")
def src(built: tuple[Path, np.ndarray]) -> Any:
    return sources.lancedb(built[0], table="images", media_field="path")


def test_info_and_pull(src: Any, built: tuple[Path, np.ndarray]) -> None:
    info = src.info()
    index = info["index"]
    assert info["index_type"] == "IVF_FLAT" and src.param_name == "nprobe"
    assert sum(index["partition_sizes"]) == N and len(index["partition_sizes"]) == \
        index["num_partitions"]
    assert src.centroids.shape == (index["num_partitions"], DIM)
    order = np.argsort(src.ids.astype(str))
    np.testing.assert_array_equal(src.vectors[order], built[1])
    assert src.model() is None and "not read" in src.model_reason


def test_sweep_recall_equals_recall_of_lancedb_answers(src: Any,
                                                      built: tuple[Path, np.ndarray]) -> None:
    rng = np.random.default_rng(5)
    qs = (built[1][rng.choice(N, 25, replace=False)]
          + rng.standard_normal((25, DIM)).astype(np.float32)).astype(np.float32)
    values = [1, 2, 6, 24]
    s = feder.sweep(src, qs, k=10, nprobe=values)
    d = ((qs[:, None, :] - src.vectors[None]) ** 2).sum(-1)
    truth = np.argsort(d, axis=1, kind="stable")[:, :10]
    table = lancedb.connect(str(built[0])).open_table("images")
    for j, nprobe in enumerate(values):
        for i, q in enumerate(qs):
            got = table.search(q, vector_column_name="vector").limit(10).nprobes(nprobe) \
                .to_arrow().column("id").to_pylist()
            want = np.isin(truth[i], src.rows_of(got)).sum() / 10
            assert s.per_query[j, i] == pytest.approx(want)
    assert s.recall[0] < s.recall[-1] == 1.0
    assert np.all(np.isnan(s.replay_agreement)) and s.work_known
    assert s.distances[0] < s.distances[-1] == pytest.approx(24 + N)
    e = feder.explain(src, qs[0], k=10, nprobe=1)
    assert e.replay is None and e.recall == pytest.approx(s.per_query[0, 0])
    assert all(m.reason == "not_returned" for m in e.missed)


def test_federpy_shows_engine_answers_labelled_as_model(src: Any) -> None:
    f = feder.FederPy(src)
    assert "model of the engine, not a replay" in f.session.params.title
    w = f.setSearchParams({"k": 6, "nprobe": 1}).searchById("img_0042")
    answer = f.engine_check.answer
    assert answer.params == {"nprobe": 1}
    assert [f.engine.engine_id(int(i)) for i in w.trace.ids] == answer.ids
    diagnosis = w.search["diagnosis"]
    truth = np.frombuffer(diagnosis["truth"]["ids"]["data"], np.float64).astype(int)
    found = np.isin(truth, w.trace.ids).sum()
    assert diagnosis["recall"] == pytest.approx(found / 6)
    assert w.search["engine"]["label"] == "model of the engine, not a replay"


def test_bad_input(built: tuple[Path, np.ndarray], tmp_path: Path) -> None:
    with pytest.raises(sources.SourceError, match="no table 'nope'"):
        sources.lancedb(built[0], table="nope")
    with pytest.raises(sources.SourceError, match="no column 'emb'"):
        sources.lancedb(built[0], table="images", vector_field="emb")
    with pytest.raises(sources.SourceError, match="not a fixed-size float"):
        sources.lancedb(built[0], table="images", vector_field="path")
    bare, _ = build_lance(tmp_path, index=False)
    with pytest.raises(feder.IndexNotBuiltError, match="create_index"):
        sources.lancedb(bare, table="images")
