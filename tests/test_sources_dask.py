"""Exact truth on Dask equals numpy truth; the core of feder.sources: lazy engine imports,
URIs, the numpy truth itself against a plain brute force."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feder
from feder import sources
from feder.sources import truth as truth_mod

from conftest import clustered  # isort: skip

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Any:
    cluster, client = truth_mod.local_cluster(n_workers=2)
    yield client
    client.close()
    cluster.close()


def _brute(x: np.ndarray, q: np.ndarray, k: int, metric: str) -> np.ndarray:
    x64, q64 = x.astype(np.float64), q.astype(np.float64)
    if metric == "l2":
        keys = ((q64[:, None, :] - x64[None]) ** 2).sum(-1)
    elif metric == "ip":
        keys = -(q64 @ x64.T)
    else:
        keys = -(q64 @ x64.T) / np.linalg.norm(x64, axis=1)[None]
    return np.argsort(keys, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_numpy_truth_is_exact(metric: str) -> None:
    x = clustered(5000, 24, seed=51)
    q = clustered(30, 24, seed=52)
    rows, keys = truth_mod.exact_rows(x, q, 10, metric, block_rows=700)
    want = _brute(x, q, 10, metric)
    # Equal up to exact float32 ties: the distances of the rows returned equal the brute force.
    assert np.mean(rows == want) > 0.99
    assert np.all(np.diff(keys, axis=1) >= 0)


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_dask_truth_equals_numpy_truth(metric: str, client: Any, tmp_path: Path) -> None:
    x = clustered(5000, 32, seed=53)
    q = clustered(50, 32, seed=54)
    path = truth_mod.vectors_file(x, tmp_path)
    a = truth_mod.exact_rows(x, q, 10, metric, block_rows=600)
    b = truth_mod.dask_rows(path, q, 10, metric, client=client, block_rows=600)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_blocks_travel_by_path(client: Any, tmp_path: Path) -> None:
    x = clustered(3000, 8, seed=55)
    path = truth_mod.vectors_file(x, tmp_path)
    assert np.load(path, mmap_mode="r").shape == x.shape
    seen: list[Any] = []
    real_map = client.map

    def spy(fn: Any, *iterables: Any, **kwargs: Any) -> Any:
        seen.extend(iterables)
        return real_map(fn, *iterables, **kwargs)

    client.map = spy
    try:
        truth_mod.dask_rows(path, x[:5], 3, "l2", client=client, block_rows=1000)
    finally:
        del client.map
    paths, starts, stops = seen
    assert set(paths) == {str(path)} and starts == [0, 1000, 2000] and stops[-1] == 3000
    assert not any(isinstance(v, np.ndarray) for v in [*paths, *starts, *stops])
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)


class _ArraySource(sources.BaseSource):
    """A source over an array (the engine is numpy): enough for truth="dask" dispatch."""

    engine = "array"
    param_name = "nprobe"

    def __init__(self, data: np.ndarray):
        self.data = data
        super().__init__("array", data.shape[1], "l2")

    def _count(self) -> int:
        return int(self.data.shape[0])

    def _pages(self) -> Any:
        for s in range(0, self.data.shape[0], 1000):
            yield list(range(s, min(s + 1000, self.data.shape[0]))), self.data[s: s + 1000], None

    def _search(self, queries: np.ndarray, k: int, params: dict[str, Any]) -> Any:
        out = []
        for q in queries:
            d = ((self.data - q) ** 2).sum(1)
            lost = max(0, 3 - int(params.get("nprobe", 1)))  # a deliberately lossy engine
            top = np.argsort(d)[: max(k - lost, 1)]
            out.append((top.tolist(), d[top]))
        return out


def test_explain_truth_on_dask_equals_numpy(client: Any) -> None:
    src = _ArraySource(clustered(4000, 16, seed=56))
    q = src.vectors[7] + 0.5
    a = feder.explain(src, q, k=10)
    b = feder.explain(src, q, k=10, truth=client)
    c = feder.explain(src, q, k=10, truth="dask")  # its own LocalCluster on 127.0.0.1
    assert a.truth_ids == b.truth_ids == c.truth_ids
    assert a.recall == b.recall == pytest.approx(0.8) and len(a.missed) == 2
    qs = src.vectors[:20] + 0.1
    s = feder.sweep(src, qs, k=10, nprobe=[1, 2, 3], truth=client)
    np.testing.assert_array_equal(s.truth_rows, feder.sweep(src, qs, k=10, nprobe=[1]).truth_rows)
    np.testing.assert_allclose(s.recall, [0.8, 0.9, 1.0])
    with pytest.raises(feder.ParameterError, match="truth must be"):
        feder.explain(src, q, k=10, truth="spark")


def test_pull_into_a_memory_map_is_used_by_path(client: Any, tmp_path: Path) -> None:
    src = _ArraySource(clustered(2500, 8, seed=57))
    vectors = src.pull(cache=tmp_path)
    assert isinstance(vectors, np.memmap) and src.vectors_path is not None
    assert src.vectors_path.parent == tmp_path
    np.testing.assert_array_equal(np.load(src.vectors_path), src.data)
    assert truth_mod.vectors_file(src.vectors) == src.vectors_path  # no copy for Dask
    assert src.ids.tolist() == list(range(2500))
    a = feder.explain(src, src.data[3], k=5, truth=client)
    assert a.truth_ids[0] == 3


def test_import_feder_imports_no_engine() -> None:
    code = ("import sys, feder, feder.sources; feder.sources.milvus; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('pymilvus', 'milvus_lite', "
            "'lancedb', 'lance', 'qdrant_edge', 'chromadb', 'dask', 'distributed')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_missing_engine_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(feder.ParameterError, match=r"feder\[milvus\]"):
        sources.milvus("./x.db", collection="images")
    monkeypatch.setitem(sys.modules, "qdrant_edge", None)
    with pytest.raises(feder.ParameterError, match=r"feder\[qdrant\]"):
        sources.qdrant_edge("./shard")


def test_uris() -> None:
    with pytest.raises(feder.ParameterError, match="starts with one of"):
        sources.open_uri("mongo://x")
    with pytest.raises(feder.ParameterError, match="collection"):
        sources.open_uri("milvus://./m.db")
    with pytest.raises(feder.ParameterError, match="unknown lancedb URI option 'colour'"):
        sources.open_uri("lancedb://./l?table=t&colour=red")
