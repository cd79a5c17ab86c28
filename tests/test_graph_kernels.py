"""The numba kernels of the HNSW replays (feder.trace.accel) against the numpy replays: the
same trace, level by level and array by array, on hnswlib (l2 / ip / cosine, deleted
elements, duplicate vectors, odd dimensions) and faiss HNSW (l2 / ip, duplicates); and the
kernels' distances against numpy's bit for bit."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import faiss
import numpy as np
import pytest
from conftest import build_hnsw, clustered

import feder
from feder.parsers import _reader
from feder.trace import accel, faiss_hnsw, hnsw, ivf
from feder.trace.distances import hnswlib_distances
from feder.trace.float32 import flat_distances

accel.wait_ready()  # the kernels warm up in a background thread (tests/test_accel_warmup.py)
kernels = accel.graph_kernels()
if kernels is None:  # numba is a declared dependency (feder[umap], in feder[all])
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


def ivf_trace_pair(model: Any, q: np.ndarray, **params: Any) -> tuple[Any, Any]:
    """The IVF trace with the scan kernel (warm: it runs) and with numpy only."""
    assert ivf.kernel_scan(model.centroid_address, model.nlist_array, q, model.metric,
                           1) is not None
    return both(model, q, **params)


def assert_same_scan(fast: Any, slow: Any) -> None:
    """The same result and candidates; the scanned distances equal wherever they can decide
    the top k, and within float32 rounding of each other elsewhere."""
    np.testing.assert_array_equal(fast.ids, slow.ids)
    np.testing.assert_array_equal(fast.distances, slow.distances)
    np.testing.assert_array_equal(fast.coarse.probed_lists, slow.coarse.probed_lists)
    np.testing.assert_array_equal(fast.fine.candidate_ids, slow.fine.candidate_ids)
    np.testing.assert_array_equal(fast.fine.result_positions, slow.fine.result_positions)
    for a, b in ((fast.fine.candidate_distances, slow.fine.candidate_distances),
                 (fast.coarse.centroid_distances, slow.coarse.centroid_distances)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mapped", [False, True], ids=["memory", "mapped"])
@pytest.mark.parametrize(("factory", "metric", "dim"), [
    ("IVF16,Flat", "l2", 16), ("IVF16,Flat", "ip", 24), ("IVF8,Flat", "l2", 3),
    ("IVF32,Flat", "l2", 130), ("IVF16_HNSW8,Flat", "l2", 12), ("IVF16_HNSW8,Flat", "ip", 9)])
def test_ivf_scan_kernel_answers_like_faiss(tmp_path, monkeypatch: pytest.MonkeyPatch,
                                            factory: str, metric: str, dim: int,
                                            mapped: bool) -> None:
    """The IVF scan kernel (one streaming pass, faiss's exact value computed only where it
    can decide) against faiss and numpy, on lists in memory or read from a mapped file with
    pread (vectors and ids): duplicate vectors (ties at the boundary, broken by id as faiss
    does), k above the candidates, every nprobe."""
    data = clustered(1500, dim, 6)
    data[900:1000] = data[:100]
    data[1000:1050] = data[0]
    index = faiss.index_factory(dim, factory, faiss.METRIC_L2 if metric == "l2" else
                                faiss.METRIC_INNER_PRODUCT)
    index.train(data)
    index.add(data)
    path = tmp_path / "ivf.index"
    faiss.write_index(index, str(path))
    if mapped:
        monkeypatch.setattr(_reader, "MAP_THRESHOLD", 0)
        monkeypatch.setattr(ivf, "SCAN_BLOCK_FLOATS", 5 * dim)  # lists read 5 rows at a time
    model = feder.load_index(str(path)).model
    # a mapped IVF_FLAT's lists are read from the file; IVF over HNSW copies them at load
    assert (getattr(model._codes, "guard", None) is not None) == (mapped and "HNSW" not in
                                                                  factory)
    qs = np.concatenate([data[:6], clustered(6, dim, 13)])
    for i, q in enumerate(qs):
        k, nprobe = ((1, 1), (10, 3), (70, 4), (200, 16), (1400, 2))[i % 5]
        fast, slow = ivf_trace_pair(model, q, k=k, nprobe=nprobe)
        assert_same_scan(fast, slow)
        distances, ids = index.search(q[None], k, params=faiss.SearchParametersIVF(
            nprobe=nprobe))
        np.testing.assert_array_equal(fast.ids, ids[0])
        np.testing.assert_array_equal(fast.distances, distances[0])


def test_ivf_scan_kernel_on_extreme_rows(tmp_path) -> None:
    """Rows that break a screen: NaN (never admitted), rows whose distance overflows, subnormal
    differences, exact duplicates of the query, rows equidistant but for rounding — the
    selection equals one over faiss's own values (numpy's bit-exact replica) for L2 and
    inner product, every count, reading the lists in memory or from a file with pread; a
    file that ends early reports it (status −1) instead of reading past its end."""
    from feder.trace.ivf import best_positions

    rng = np.random.default_rng(3)
    dim = 16
    parts = [rng.standard_normal((n, dim)).astype(np.float32) for n in (40, 0, 75, 33)]
    q = rng.standard_normal(dim).astype(np.float32)
    parts[0][3, 5] = np.nan
    parts[0][4] = 3e19  # its squared distance overflows to inf
    parts[2][7] = q
    parts[2][8] = q + np.float32(1e-30)  # subnormal squared differences
    parts[2][9] = q * np.float32(1 + 2**-23)
    parts[3][:5] = parts[2][9]
    # equidistant in real arithmetic (permutations of one offset): only the rounding of each
    # summation order ranks them, so a screen that trusted its own sums would choose wrongly
    offset = (rng.standard_normal(dim) * np.logspace(-3, 0, dim)).astype(np.float32)
    parts.insert(0, np.stack([q + offset[rng.permutation(dim)] for _ in range(300)]))
    rows = np.concatenate(parts)
    addresses = np.array([p.ctypes.data for p in parts], np.int64)
    sizes = np.array([p.shape[0] for p in parts], np.int64)
    path = tmp_path / "lists.bin"
    path.write_bytes(b"\0" * 12 + rows.tobytes())  # lists at unaligned offsets
    offsets = 12 + 4 * dim * (np.cumsum(sizes) - sizes)
    buf = np.empty(int(sizes.max()) * dim, np.float32)
    fd = os.open(path, os.O_RDONLY)
    try:
        for metric in ("l2", "ip"):
            ip = metric == "ip"
            exact = flat_distances(rows, q, metric)
            for count in (1, 3, 8, 20, 65, 100, 250, rows.shape[0], rows.shape[0] + 5):
                want = best_positions(exact, count, ip)
                no_ids = np.empty(0, np.int64)
                for got, status in (kernels.scan_lists(-1, addresses, sizes, q, ip, count,
                                                       buf[:0], no_ids, no_ids),
                                    kernels.scan_lists(fd, offsets, sizes, q, ip, count, buf,
                                                       no_ids, no_ids),
                                    # a buffer of 7 rows: the lists read in blocks
                                    kernels.scan_lists(fd, offsets, sizes, q, ip, count,
                                                       buf[: 7 * dim], no_ids, no_ids)):
                    assert status == 0
                    np.testing.assert_array_equal(best_positions(got, count, ip), want)
                    np.testing.assert_array_equal(got[want], exact[want])
        # arrays too small for what they describe: refused, nothing read or written
        ids = np.empty(int(sizes.sum()), np.int64)
        for args in ((offsets[:2], sizes, buf, no_ids, no_ids),
                     (offsets, sizes, buf[: dim - 1], no_ids, no_ids),
                     (offsets, sizes, buf, offsets[:2], ids),
                     (offsets, sizes, buf, offsets, ids[:-1])):
            _, status = kernels.scan_lists(fd, args[0], args[1], q, False, 10, *args[2:])
            assert status == -2
        os.truncate(path, int(offsets[-1]) + 100)  # the last list cut short
        _, status = kernels.scan_lists(fd, offsets, sizes, q, False, 10, buf, no_ids, no_ids)
        assert status == -1
    finally:
        os.close(fd)


@pytest.mark.parametrize("dim", [37, 128])
def test_ivf_scan_kernel_ranks_rounding_ties_like_faiss(dim: int) -> None:
    """Rows equidistant in real arithmetic (permutations of one offset) differ only by how
    each summation order rounds: the kernel's screening sums rank them differently from
    faiss's, and only its error bound sends the right ones to the exact recomputation (a
    screen without it chooses wrongly here in most draws)."""
    from feder.trace.ivf import best_positions

    for seed in range(4):
        rng = np.random.default_rng(seed)
        q = rng.standard_normal(dim).astype(np.float32)
        offset = (rng.standard_normal(dim) * np.logspace(-1, 1, dim)).astype(np.float32)
        rows = np.stack([q + offset[rng.permutation(dim)] for _ in range(400)])
        for metric in ("l2", "ip"):
            exact = flat_distances(rows, q, metric)
            for count in (5, 20, 100, 200):
                no_ids = np.empty(0, np.int64)
                got, status = kernels.scan_lists(-1, np.array([rows.ctypes.data]),
                                                 np.array([rows.shape[0]]), q, metric == "ip",
                                                 count, np.empty(0, np.float32), no_ids, no_ids)
                want = best_positions(exact, count, metric == "ip")
                assert status == 0
                np.testing.assert_array_equal(best_positions(got, count, metric == "ip"), want)
                np.testing.assert_array_equal(got[want], exact[want])
