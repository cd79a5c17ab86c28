"""The numba kernels of the HNSW replays (feder.trace.accel) against the numpy replays: the
same trace, level by level and array by array, on hnswlib (l2 / ip / cosine, deleted
elements, duplicate vectors, odd dimensions) and faiss HNSW (l2 / ip, duplicates); and the
kernels' distances against numpy's bit for bit."""

from __future__ import annotations

import dataclasses
from typing import Any

import faiss
import numpy as np
import pytest
from conftest import build_hnsw, clustered

import feder
from feder.trace import accel, faiss_hnsw, hnsw
from feder.trace.distances import hnswlib_distances
from feder.trace.float32 import flat_distances

accel.wait_ready()  # the kernels warm up in a background thread (tests/test_accel_warmup.py)
kernels = accel.graph_kernels()
if kernels is None:  # numba is a declared dependency of the dev environment (umap-learn)
    pytest.fail("numba is not importable: the accelerated replay is untested")


def both(model: Any, q: np.ndarray, numpy_model: Any = None, **params: Any,
         ) -> tuple[Any, Any]:
    """The trace with the kernels, then with numpy only (on ``numpy_model`` if given: a
    model whose caches the kernels never filled)."""
    try:
        accel.set_enabled(True)
        fast = feder.trace.search(model, q, **params)
        accel.set_enabled(False)
        slow = feder.trace.search(numpy_model or model, q, **params)
    finally:
        accel.set_enabled(None)
    return fast, slow


def assert_same(fast: Any, slow: Any) -> None:
    np.testing.assert_array_equal(fast.ids, slow.ids)
    np.testing.assert_array_equal(fast.distances, slow.distances)
    np.testing.assert_array_equal(fast.result_internal, slow.result_internal)
    assert len(fast.levels) == len(slow.levels)
    for a, b in zip(fast.levels, slow.levels, strict=True):
        assert type(a) is type(b)
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype, f.name
                np.testing.assert_array_equal(x, y, err_msg=f"{a.name} {f.name}")
            else:
                assert x == y, f.name


@pytest.mark.parametrize(("space", "dim", "delete"), [
    ("l2", 16, 0), ("l2", 37, 40), ("ip", 5, 0), ("cosine", 20, 25), ("l2", 3, 0)])
def test_hnswlib_kernels_replay_like_numpy(tmp_path, space: str, dim: int, delete: int) -> None:
    data = clustered(1200, dim, 3)
    data[600:700] = data[:100]  # duplicate vectors: equal distances, libstdc++ heap order
    case = build_hnsw(tmp_path, dim=dim, space=space, M=6, ef_construction=40, delete=delete,
                      data=data)
    model = feder.load_index(case.path, space=space).model
    qs = np.concatenate([data[:10], clustered(10, dim, 11)])
    used = 0
    for i, q in enumerate(qs):
        ef = (8, 30, 64)[i % 3]
        query = hnsw.hnswlib_normalize(q) if space == "cosine" else q
        used += hnsw._replay_numba(kernels, model, query, ef) is not None
        fast, slow = both(model, q, k=5, ef=ef)
        assert_same(fast, slow)
        case.index.set_ef(ef)
        labels, _ = case.index.knn_query(q, k=5)
        np.testing.assert_array_equal(fast.ids, labels[0])
    assert used == len(qs)  # the kernels ran (no silent fallback)


@pytest.mark.parametrize(("metric", "dim"), [("l2", 16), ("ip", 24), ("l2", 9)])
def test_faiss_kernels_replay_like_numpy(metric: str, dim: int) -> None:
    data = clustered(1500, dim, 4)
    data[700:800] = data[:100]
    index = faiss.IndexHNSWFlat(dim, 8, faiss.METRIC_L2 if metric == "l2" else
                                faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 30
    index.add(data)
    model = feder.load_index(faiss.serialize_index(index).tobytes()).model
    qs = np.concatenate([data[:10], clustered(10, dim, 12)])
    for i, q in enumerate(qs):
        ef = (4, 16, 50)[i % 3]
        assert faiss_hnsw._replay_numba(kernels, model, q, 7, ef, metric == "ip") is not None
        fast, slow = both(model, q, k=7, ef=ef)
        assert_same(fast, slow)
        _, ids = index.search(q[None], 7, params=faiss.SearchParametersHNSW(efSearch=ef))
        np.testing.assert_array_equal(fast.ids, ids[0])


@pytest.mark.parametrize("dim", [1, 2, 4, 7, 8, 15, 16, 17, 31, 33, 100, 130])
def test_kernel_distances_are_numpys(dim: int) -> None:
    rng = np.random.default_rng(dim)
    rows = (rng.standard_normal((300, dim)) * rng.uniform(0.01, 100, (300, 1))).astype(np.float32)
    q = rng.standard_normal(dim).astype(np.float32)
    at = np.arange(300, dtype=np.int64)
    for ip in (False, True):
        space = "ip" if ip else "l2"
        np.testing.assert_array_equal(kernels.hnswlib_rows(rows.reshape(-1), dim, at, q, ip),
                                      hnswlib_distances(rows, q, space))
        np.testing.assert_array_equal(kernels.faiss_rows(rows.reshape(-1), dim, at, q, ip),
                                      flat_distances(rows, q, space))
    # a strided view (hnswlib rows inside its element records) reads the same values
    wide = np.zeros((300, dim + 5), np.float32)
    wide[:, 2: 2 + dim] = rows
    flat, stride = accel.flat_rows(wide[:, 2: 2 + dim])
    np.testing.assert_array_equal(kernels.hnswlib_rows(flat, stride, at, q, False),
                                  hnswlib_distances(rows, q, "l2"))


def test_nan_and_bad_links_fall_back(tmp_path) -> None:
    data = clustered(400, 8, 5)
    data[7, 3] = np.nan
    case = build_hnsw(tmp_path, dim=8, M=6, data=data)
    model = feder.load_index(case.path, space="l2").model
    q = data[7].copy()
    q[3] = 0.0
    fast, slow = both(model, q, k=5, ef=40)
    assert_same(fast, slow)

    # a link past the last node: the kernels refuse it instead of reading out of bounds
    good = model.graphs[0]
    neighbors = good.neighbors.copy()
    neighbors[: neighbors.size] = np.uint32(10**6)
    bad = dataclasses.replace(good, neighbors=neighbors)
    flat, stride = accel.flat_rows(model.vectors)
    visited = np.zeros(model.ntotal, bool)
    out = [np.empty(64, t) for t in (np.int64, np.int64, np.int64, np.float32, np.uint8,
                                     np.int64)]
    result = kernels.hnswlib_beam(flat, stride, q, False, bad.offsets, bad.neighbors,
                                  model.deleted, False, visited, 0, 1.0, 8, *out,
                                  np.empty(8, np.int64), np.empty(8, np.float32),
                                  np.empty(64, np.int64))
    assert result[1] == -2
    broken = dataclasses.replace(model, graphs=[bad, *model.graphs[1:]])
    assert hnsw._replay_numba(kernels, broken, q, 10) is None


@pytest.mark.parametrize(("metric", "m_count", "nbits", "by_residual", "dim"), [
    ("l2", 16, 8, True, 32), ("l2", 8, 8, False, 16), ("ip", 24, 8, True, 48),
    ("l2", 4, 6, True, 48), ("l2", 2, 8, True, 24)])
def test_pq_kernels_replay_like_numpy(metric: str, m_count: int, nbits: int,
                                      by_residual: bool, dim: int) -> None:
    assert accel.code_kernels() is not None
    mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    data = clustered(3000, dim, 6)
    index = faiss.IndexIVFPQ(faiss.IndexFlat(dim, mt), dim, 16, m_count, nbits, mt)
    index.by_residual = by_residual
    index.cp.min_points_per_centroid = 1
    index.pq.cp.min_points_per_centroid = 1
    index.train(data)
    index.add(data)
    blob = faiss.serialize_index(index).tobytes()
    model, plain = feder.load_index(blob).model, feder.load_index(blob).model
    for q in np.concatenate([data[:4], clustered(4, dim, 13)]):
        fast, slow = both(model, q, plain, k=6, nprobe=5)
        np.testing.assert_array_equal(fast.ids, slow.ids)
        np.testing.assert_array_equal(fast.distances, slow.distances)
        np.testing.assert_array_equal(fast.coarse.centroid_distances,
                                      slow.coarse.centroid_distances)
        np.testing.assert_array_equal(fast.fine.candidate_distances,
                                      slow.fine.candidate_distances)
        _, ids = index.search(q[None], 6, params=faiss.SearchParametersIVF(nprobe=5))
        np.testing.assert_array_equal(fast.ids, ids[0])
