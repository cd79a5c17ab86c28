"""Qdrant Edge (the real engine, embedded) in the test: feder pulls the shard, asks Qdrant at
each hnsw_ef and checks its answers against exact truth; an unoptimized shard is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feder
from feder import sources

from conftest import clustered  # isort: skip

qe = pytest.importorskip("qdrant_edge")

N, DIM = 3000, 16


def build_shard(folder: Path, optimize: bool = True, distance: Any = None) -> tuple[Any, Any]:
    data = clustered(N, DIM, seed=41)
    config = qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=DIM, distance=distance or qe.Distance.Euclid),
        hnsw_config=qe.HnswIndexConfig(m=4, ef_construct=16, full_scan_threshold=1),
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1))  # small: HNSW anyway
    shard = qe.EdgeShard.create(str(folder), config)
    shard.update(qe.UpdateOperation.upsert_points([
        qe.Point(id=i, vector=data[i].tolist(), payload={"label": f"n{i}"})
        for i in range(N)]))
    if optimize:
        shard.optimize()
    return shard, data


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, np.ndarray, Path]:
    folder = tmp_path_factory.mktemp("qdrant") / "shard"
    shard, data = build_shard(folder)
    return shard, data, folder


def _queries(data: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (data[rng.choice(N, n, replace=False)]
            + 2.0 * rng.standard_normal((n, DIM)).astype(np.float32)).astype(np.float32)


def test_sweep_recall_equals_recall_of_qdrant_answers(built: tuple[Any, np.ndarray, Path],
                                                      ) -> None:
    shard, data, folder = built
    src = sources.qdrant_edge(folder, shard=shard, media_field="label")
    assert src.info()["indexed"] == N and src.metric == "l2"
    order = np.argsort(src.ids)
    np.testing.assert_array_equal(src.vectors[order], data)
    assert src.media[src.row_of(42)] == "n42"
    qs = _queries(data, 30, seed=6)
    values = [10, 16, 64, 256]
    s = feder.sweep(src, qs, k=10, ef=values)
    d = ((qs[:, None, :] - src.vectors[None]) ** 2).sum(-1)
    truth = np.argsort(d, axis=1, kind="stable")[:, :10]
    for j, ef in enumerate(values):
        for i, q in enumerate(qs):
            got = shard.query(qe.QueryRequest(limit=10, query=qe.Query.Nearest(q.tolist()),
                                              params=qe.SearchParams(hnsw_ef=ef)))
            want = np.isin(truth[i], src.rows_of([p.id for p in got])).sum() / 10
            assert s.per_query[j, i] == pytest.approx(want)
    assert s.recall[0] < s.recall[-1]
    assert not s.work_known  # Qdrant reports no distance computations
    e = feder.explain(src, qs[0], k=10, ef=10)
    assert e.replay is None and e.recall == pytest.approx(s.per_query[0, 0])
    exact = feder.explain(src, qs[0], k=10, ef=256)
    # Qdrant's HNSW is approximate even at a large ef (its multithreaded build varies from
    # run to run): check the distance convention on what it returned, not that it is exact.
    rows = exact.answer.rows
    assert (rows >= 0).all()
    mine = ((src.vectors[rows] - qs[0]) ** 2).sum(-1)
    np.testing.assert_allclose(exact.answer.distances, src.engine_distance(mine), rtol=1e-5)
    if exact.found.all():  # then it is the exact top-k, in the same order
        np.testing.assert_allclose(exact.answer.distances, exact.truth_distances, rtol=1e-5)


def test_federpy_int_ids(built: tuple[Any, np.ndarray, Path]) -> None:
    shard, _, folder = built
    f = feder.FederPy(sources.qdrant_edge(folder, shard=shard))
    w = f.setSearchParams({"k": 5, "ef_search": 8}).searchById(42)
    assert f.engine_check.answer.params == {"ef": 8}
    assert [f.engine.engine_id(int(i)) for i in w.trace.ids] == f.engine_check.answer.ids
    assert "model of the engine, not a replay" in f.session.params.title
    with pytest.raises(TypeError, match="valid ones: k, ef"):
        f.setSearchParams(nprobe=4)
    sweep = f.sweep(values=[8, 32], sample=10)
    assert "x axis: ef values (qdrant reports no distance computations)" in \
        sweep.export_state()["view_params"]["title"]


def test_bad_input(built: tuple[Any, np.ndarray, Path], tmp_path: Path) -> None:
    _, _, folder = built
    with pytest.raises(sources.SourceError, match="open elsewhere"):
        sources.qdrant_edge(folder)  # the fixture's EdgeShard holds the lock
    with pytest.raises(sources.SourceError, match="no Qdrant Edge shard"):
        sources.qdrant_edge(tmp_path)
    with pytest.raises(sources.SourceError, match="no vector 'image'"):
        sources.qdrant_edge(folder, vector_name="image", shard=built[0])
    raw, _ = build_shard(tmp_path / "raw", optimize=False)
    with pytest.raises(feder.IndexNotBuiltError, match="optimize"):
        sources.qdrant_edge(tmp_path / "raw", shard=raw)
