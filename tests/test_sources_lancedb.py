"""LanceDB, embedded in the test: feder reads an IVF_FLAT index's partitions (auxiliary.idx,
centroids and sizes from its statistics) and replays LanceDB's search exactly; it asks
LanceDB itself at each nprobe and checks its answers against exact truth; an index it does
not read (cosine here) is shown as the engine's answers on a labelled local model."""

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


def build_lance(folder: Path, index: bool = True, metric: str = "l2",
                ) -> tuple[Path, np.ndarray]:
    data = clustered(N, DIM, seed=31)
    images = photos(folder)
    db = lancedb.connect(str(folder / "lance"))
    table = db.create_table("images", data=pa.table({
        "id": [f"img_{i:04d}" for i in range(N)],
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.ravel()), DIM),
        "path": [images[i % len(images)] for i in range(N)]}))
    if index:
        from lancedb.index import IvfFlat

        table.create_index("vector", config=IvfFlat(distance_type=metric, num_partitions=24))
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
    model = src.model()
    assert model is not None and model.kind == "ivf_flat", src.model_reason
    assert model.list_sizes.tolist() == index["partition_sizes"]
    np.testing.assert_array_equal(model.centroids, src.centroids)


def test_replay_equals_lancedb(src: Any, built: tuple[Path, np.ndarray]) -> None:
    model = src.model()
    rng = np.random.default_rng(6)
    qs = (built[1][rng.choice(N, 40, replace=False)]
          + rng.standard_normal((40, DIM)).astype(np.float32)).astype(np.float32)
    differ = 0
    for nprobe in (1, 3, 8, None):
        params = {} if nprobe is None else {"nprobe": nprobe}
        effective = src.effective_params(params)
        for q, answer in zip(qs, src.search_many(qs, 10, **params), strict=True):
            trace = feder.trace.search(model, q, 10, **effective)
            np.testing.assert_array_equal(src.model_rows(trace.ids), answer.rows)
            np.testing.assert_allclose(trace.distances, answer.distances, rtol=1e-4, atol=1e-4)
            if nprobe == 1:
                differ += answer.rows.tolist() != src.search(q, 10, nprobe=24).rows.tolist()
    assert differ > 0  # nprobe 1 loses neighbours: the comparison can fail


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
    assert np.all(s.replay_agreement == 1.0) and s.work_known
    assert s.distances[0] < s.distances[-1] == pytest.approx(24 + N)
    worst = int(np.argmin(s.per_query[0]))
    e = feder.explain(src, qs[worst], k=10, nprobe=1)
    assert e.replay == "equal" and e.recall == pytest.approx(s.per_query[0, worst])
    assert e.recall < 1
    assert e.missed and {m.reason for m in e.missed} <= {"list_not_probed", "tie"}


def test_federpy_ivf_views_from_lancedb_partitions(src: Any) -> None:
    f = feder.FederPy(src)
    assert "replay of the engine's own index" in f.session.params.title
    assert f.search_params["nprobe"] == 20  # LanceDB's default
    w = f.setSearchParams({"k": 6, "nprobe": 2}).searchById("img_0042")
    assert f.engine_check.same is True and w.explanation is not None
    assert [f.engine.engine_id(int(i)) for i in w.trace.ids] == f.engine_check.answer.ids


def test_federpy_shows_engine_answers_labelled_as_model(tmp_path: Path) -> None:
    path, _ = build_lance(tmp_path, metric="cosine")
    src = sources.lancedb(path, table="images", media_field="path")
    assert src.metric == "cosine" and src.model() is None and "not read" in src.model_reason
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
