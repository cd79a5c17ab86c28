"""Diagnostics against faiss and hnswlib: exact search, sweeps, explanations, health.

Every expectation is computed from the libraries themselves (faiss ``IndexFlat`` / the IVF
index's own search and quantizer, hnswlib ``BFIndex`` / ``knn_query`` / ``__getstate__``),
or from an independent BFS over hnswlib's own link arrays.
"""

from __future__ import annotations

import struct
import tempfile
import types
from collections import deque
from pathlib import Path

import faiss
import hnswlib
import numpy as np
import pytest
from conftest import build_hnsw, build_ivf, clustered, faiss_invlists, hnswlib_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feder
from feder.diagnose import exact as exact_module
from feder.diagnose.lockstep import lockstep_sweep
from feder.trace.types import BeamLevel

K = 10
NPROBES = [1, 2, 4, 8, 16, 32]
EFS = [10, 20, 40, 80]


def queries(dim: int, count: int = 200, seed: int = 77) -> np.ndarray:
    return clustered(count, dim, seed)


def recall_rows(found: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """``(nq,)`` |found ∩ truth| / k per row (−1 padding never counts)."""
    return np.array([len((set(f.tolist()) & set(t.tolist())) - {-1}) / k
                     for f, t in zip(found, truth, strict=True)])


def near_tie_rows(distances: np.ndarray, k: int) -> np.ndarray:
    """``(nq,) bool`` rows whose k-th and (k+1)-th exact distances are within float32
    rounding: the only rows where numpy and the libraries' SIMD sums may disagree on ids.
    ``distances`` is ``(nq, k + 1)``."""
    gap = np.abs(distances[:, k] - distances[:, k - 1])
    return gap <= 1e-5 * np.maximum(np.abs(distances[:, k - 1]), 1.0)


def faiss_ivf_search(index, q: np.ndarray, k: int, nprobe: int) -> np.ndarray:
    """faiss's own IVF result, one query at a time (the path feder replays)."""
    params = faiss.SearchParametersIVF(nprobe=nprobe)
    return index.search(q[None], k, params=params)[1][0]


# --------------------------------------------------------------------------------------------
# exact_search


@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("custom_ids", [False, True])
def test_exact_search_equals_faiss_flat(metric, custom_ids):
    case = build_ivf(n=2500, dim=16, nlist=32, metric=metric, custom_ids=custom_ids)
    qs = queries(16, 300)
    flat = faiss.IndexFlatL2(16) if metric == "l2" else faiss.IndexFlatIP(16)
    flat.add(case.data)
    want_d, want_pos = flat.search(qs, K + 1)
    want_ids = case.ids[want_pos]

    ids, distances = feder.exact_search(feder.load_index(case.blob), qs, k=K)
    assert ids.shape == distances.shape == (300, K)
    assert ids.dtype == np.int64 and distances.dtype == np.float32
    np.testing.assert_allclose(distances, want_d[:, :K], rtol=1e-5, atol=1e-4)
    differ = ~np.all(ids == want_ids[:, :K], axis=1)
    assert not np.any(differ & ~near_tie_rows(want_d, K))
    assert differ.sum() <= 3


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_exact_search_equals_hnswlib_brute_force(hnsw_factory, space):
    case = hnsw_factory(n=1500, dim=12, space=space, M=8, delete=40, custom_labels=True)
    qs = queries(12, 250)
    live = ~np.isin(case.labels, case.deleted)
    bf = hnswlib.BFIndex(space=space, dim=12)
    bf.init_index(max_elements=int(live.sum()))
    bf.add_items(case.data[live], case.labels[live])
    # BFIndex normalizes the stored vectors for cosine but not the query: give it unit queries.
    bf_q = qs / np.linalg.norm(qs, axis=1, keepdims=True) if space == "cosine" else qs
    want_ids, want_d = bf.knn_query(bf_q.astype(np.float32), k=K + 1)

    ids, distances = feder.exact_search(feder.load_index(case.path, space=space), qs, k=K)
    assert ids.dtype == np.uint64 and distances.dtype == np.float32
    assert not np.isin(ids, case.deleted).any()
    np.testing.assert_allclose(distances, want_d[:, :K], rtol=1e-5, atol=1e-5)
    differ = ~np.all(ids == want_ids[:, :K], axis=1)
    assert not np.any(differ & ~near_tie_rows(want_d, K))
    assert differ.sum() <= 3


def test_exact_search_is_blockwise_and_block_size_free(monkeypatch, tmp_path):
    """Tiny blocks and query chunks give the same answer, and the memory-mapped lists are
    never concatenated nor cached (no full copy of the vectors)."""
    case = build_ivf(n=1200, dim=8, nlist=16, custom_ids=True)
    path = tmp_path / "ivf.index"
    faiss.write_index(case.index, str(path))
    qs = queries(8, 60)
    model = feder.load_index(path).model
    want = feder.exact_search(model, qs, k=7)
    assert "vectors" not in model.__dict__ and not model._blocks

    monkeypatch.setattr(exact_module, "_BLOCK_FLOATS", 8 * 37)
    monkeypatch.setattr(exact_module, "_QUERY_CHUNK", 16)
    got = feder.exact_search(model, qs, k=7)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    # A single query as a vector is one row.
    one = feder.exact_search(model, qs[3], k=7)
    np.testing.assert_array_equal(one[0], want[0][3:4])


def test_hnsw_records_at_odd_addresses_are_copied_block_by_block(hnsw_factory):
    """hnswlib records read at an odd address cannot go to BLAS as views: the copied blocks
    give the same truth, and sweeps the same recall."""
    case = hnsw_factory(n=900, dim=8, M=6)
    shifted = bytearray(len(case.blob) + 1)
    shifted[1:] = case.blob
    odd = feder.load_index(memoryview(shifted)[1:], source="hnswlib")
    even = feder.load_index(case.blob, source="hnswlib")
    assert exact_module.store_of(odd.model).copies
    assert not exact_module.store_of(even.model).copies
    qs = queries(8, 40)
    for got, want in zip(feder.exact_search(odd, qs, k=6), feder.exact_search(even, qs, k=6),
                         strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(odd.sweep(qs, k=6, ef=[6, 30]).per_query,
                                  even.sweep(qs, k=6, ef=[6, 30]).per_query)


def test_exact_search_tiny_blocks_skip_deleted(monkeypatch, hnsw_factory):
    """Blocks smaller than k (thresholds still infinite) never let a deleted node in."""
    case = hnsw_factory(n=700, dim=6, delete=150, custom_labels=True)
    idx = feder.load_index(case.path)
    qs = queries(6, 20)
    want = feder.exact_search(idx, qs, k=100)
    monkeypatch.setattr(exact_module, "_BLOCK_FLOATS", 6)
    got = feder.exact_search(idx, qs, k=100)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert not np.isin(got[0], case.deleted).any()
    live = ~np.isin(case.labels, case.deleted)
    d = ((case.data[live][None] - qs[:, None]) ** 2).sum(-1)
    np.testing.assert_allclose(np.sort(d, axis=1)[:, :100], got[1], rtol=1e-4)


def test_exact_search_pads_like_faiss_and_refuses_like_hnswlib(hnsw_factory):
    case = build_ivf(n=5, dim=4, nlist=2, train_n=200)
    ids, distances = feder.exact_search(feder.load_index(case.blob), queries(4, 3), k=8)
    flat = faiss.IndexFlatL2(4)
    flat.add(case.data)
    want_d, want_ids = flat.search(queries(4, 3), 8)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(distances, want_d, rtol=1e-5)

    small = hnsw_factory(n=6, dim=4, delete=2)
    with pytest.raises(feder.FederError, match="k = 5"):
        feder.exact_search(feder.load_index(small.path), queries(4, 2), k=5)


# --------------------------------------------------------------------------------------------
# explain


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ivf_misses_match_faiss_quantizer(metric):
    case = build_ivf(n=3000, dim=16, nlist=32, metric=metric, custom_ids=True)
    idx = feder.load_index(case.blob)
    list_of = {int(i): lst for lst, (ids, _) in enumerate(faiss_invlists(case.index))
               for i in ids}
    flat = faiss.IndexFlatL2(16) if metric == "l2" else faiss.IndexFlatIP(16)
    flat.add(case.data)
    nprobe = 3
    qs = queries(16, 60)
    _, truth_pos = flat.search(qs, K)
    misses = 0
    for i, q in enumerate(qs):
        e = idx.explain(q, k=K, nprobe=nprobe)
        faiss_ids = faiss_ivf_search(case.index, q, K, nprobe)
        np.testing.assert_array_equal(e.trace.ids, faiss_ids)
        np.testing.assert_array_equal(e.truth_ids, case.ids[truth_pos[i]])
        found = set(faiss_ids.tolist()) & set(e.truth_ids.tolist())
        assert len(e.missed) == K - len(found)
        assert e.recall == pytest.approx(len(found) / K)
        assert [m.true_rank for m in e.missed] == sorted(m.true_rank for m in e.missed)
        _, ranking = case.index.quantizer.search(q[None], case.index.nlist)
        for m in e.missed:
            assert m.reason == "list_not_probed"
            assert m.id not in faiss_ids
            assert e.truth_ids[m.true_rank - 1] == m.id
            assert m.list == list_of[m.id]
            assert m.list_rank == 1 + int(np.flatnonzero(ranking[0] == m.list)[0])
            assert m.list_rank > nprobe
        misses += len(e.missed)
    assert misses > 50  # the case exercises the reasons


def hnsw_reachable(state: dict, start: int) -> set[int]:
    """Independent BFS over hnswlib's own link arrays (all levels) from ``start``."""
    seen, todo = {start}, deque([start])
    while todo:
        node = todo.popleft()
        nexts = list(state["level0"][node])
        for level in state["upper"][1:]:
            nexts += level.get(node, [])
        for other in nexts:
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def level0_distances(state: dict, sources: set[int]) -> dict[int, int]:
    """Independent multi-source BFS over hnswlib's level-0 links: node → hops."""
    hops = dict.fromkeys(sources, 0)
    todo = deque(sources)
    while todo:
        node = todo.popleft()
        for other in state["level0"][node]:
            if other not in hops:
                hops[other] = hops[node] + 1
                todo.append(other)
    return hops


@pytest.mark.parametrize("space", ["l2", "ip"])
def test_hnsw_misses_were_never_computed_on_level_0(hnsw_factory, space):
    case = hnsw_factory(n=1500, dim=12, space=space, M=4, ef_construction=20, delete=15)
    idx = feder.load_index(case.path, space=space)
    state = hnswlib_state(case.index)
    live_from_entry = hnsw_reachable(state, state["entry_point"])
    internal_of = {int(label): i for i, label in enumerate(state["labels"].tolist())}
    case.index.set_ef(12)
    case.index.set_num_threads(1)
    reasons: set[str] = set()
    for q in queries(12, 60):
        e = idx.explain(q, k=K, ef=12)
        want, _ = case.index.knn_query(q, k=K)
        np.testing.assert_array_equal(np.sort(e.trace.ids), np.sort(want[0]))
        beam = e.trace.levels[-1]
        assert isinstance(beam, BeamLevel)
        computed = set(beam.visited.tolist())
        hops = level0_distances(state, computed)
        found = set(e.trace.ids.tolist()) & set(e.truth_ids.tolist())
        assert len(e.missed) == K - len(found)
        for m in e.missed:
            node = internal_of[m.id]
            assert node not in computed
            reasons.add(m.reason)
            if m.reason == "unreachable":
                assert node not in live_from_entry and m.hops is None
            else:
                assert m.reason == "not_reached" and node in live_from_entry
                assert m.hops == hops.get(node)
    assert "not_reached" in reasons


def make_unreachable(path: Path, target: int) -> None:
    """Remove every level-0 link to internal id ``target`` from an hnswlib file (a node of
    level 0 only has in-links on level 0), rewriting the counts."""
    blob = bytearray(path.read_bytes())
    n, size_per = struct.unpack_from("<QQ", blob, 16)
    max_m0 = struct.unpack_from("<Q", blob, 64)[0]
    for node in range(n):
        at = 96 + node * size_per
        count = struct.unpack_from("<H", blob, at)[0]
        links = list(struct.unpack_from(f"<{max_m0}I", blob, at + 4))[:count]
        if target in links:
            links.remove(target)
            struct.pack_into("<H", blob, at, count - 1)
            struct.pack_into(f"<{len(links)}I", blob, at + 4, *links)
    path.write_bytes(bytes(blob))


def test_unreachable_nodes_equal_an_independent_bfs(tmp_path):
    case = build_hnsw(tmp_path, n=800, dim=8, M=6, seed=3)
    state = hnswlib_state(case.index)
    target = next(i for i in range(state["n"])
                  if state["levels"][i] == 0 and i != state["entry_point"])
    edited = tmp_path / "edited.bin"
    edited.write_bytes(case.blob)
    make_unreachable(edited, target)
    lib = hnswlib.Index(space="l2", dim=8)
    lib.load_index(str(edited))
    lib.set_ef(800)
    state = hnswlib_state(lib)
    want = sorted(set(range(state["n"])) - hnsw_reachable(state, state["entry_point"]))
    assert target in want

    idx = feder.load_index(edited, space="l2")
    h = idx.health()
    np.testing.assert_array_equal(h.unreachable_internal, want)
    np.testing.assert_array_equal(h.unreachable, state["labels"][want])
    # hnswlib itself cannot return it, even searching everything for its own vector.
    vector = state["vectors"][target]
    assert state["labels"][target] not in lib.knn_query(vector, k=5)[0][0]
    e = idx.explain(vector, k=5, ef=800)
    assert e.missed[0].true_rank == 1 and e.missed[0].reason == "unreachable"
    assert e.missed[0].id == int(state["labels"][target])


@pytest.mark.parametrize(("space", "M"), [("ip", 4), ("l2", 3)])
def test_natural_unreachable_nodes_equal_an_independent_bfs(hnsw_factory, space, M):
    case = hnsw_factory(n=1200, dim=8, space=space, M=M, ef_construction=12, delete=30)
    state = hnswlib_state(case.index)
    reached = hnsw_reachable(state, state["entry_point"])
    want = [i for i in range(state["n"]) if i not in reached and not state["deleted"][i]]
    assert want  # tiny M: some nodes lose every in-link
    h = feder.health(feder.load_index(case.path, space=space))
    np.testing.assert_array_equal(h.unreachable_internal, want)
    np.testing.assert_array_equal(h.unreachable, state["labels"][want])


def test_truth_and_trace_distances_agree_bit_for_bit(hnsw_factory):
    """At nprobe = nlist / a large ef every exact neighbour is found, with the same float32
    distance (truth and replay compute a vector's distance the same way)."""
    case = build_ivf(n=1500, dim=16, nlist=16, metric="ip")
    idx = feder.load_index(case.blob)
    hcase = hnsw_factory(n=800, dim=16, space="cosine", M=12)
    hidx = feder.load_index(hcase.path, space="cosine")
    for q in queries(16, 30):
        for e in (idx.explain(q, k=K, nprobe=16), hidx.explain(q, k=K, ef=400)):
            assert e.recall == 1.0 and not e.missed
            np.testing.assert_array_equal(e.trace.ids, e.truth_ids)
            np.testing.assert_array_equal(e.trace.distances, e.truth_distances)


# --------------------------------------------------------------------------------------------
# sweep


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ivf_sweep_equals_faiss_recall(metric):
    case = build_ivf(n=3000, dim=16, nlist=32, metric=metric)
    qs = queries(16, 150)
    flat = faiss.IndexFlatL2(16) if metric == "l2" else faiss.IndexFlatIP(16)
    flat.add(case.data)
    truth_d, truth = flat.search(qs, K + 1)
    s = feder.sweep(feder.load_index(case.blob), qs, k=K, nprobe=NPROBES)
    assert s.param == "nprobe"
    np.testing.assert_array_equal(s.params, NPROBES)
    assert s.per_query.shape == s.per_query_distances.shape == (len(NPROBES), 150)
    near = near_tie_rows(truth_d, K)
    sizes = np.array([case.index.invlists.list_size(i) for i in range(32)])
    _, ranking = case.index.quantizer.search(qs, 32)
    for j, p in enumerate(NPROBES):
        lib = np.stack([faiss_ivf_search(case.index, q, K, p) for q in qs])
        want = recall_rows(lib, truth[:, :K], K)
        differ = want != s.per_query[j]
        assert not np.any(differ & ~near) and differ.sum() <= 2
        assert s.recall[j] == pytest.approx(s.per_query[j].mean())
        work = 32 + sizes[ranking[:, :p]].sum(axis=1)
        assert np.mean(work != s.per_query_distances[j]) <= 0.02
    assert s.recall[-1] == 1.0
    assert np.all(np.diff(s.recall) >= 0) and np.all(np.diff(s.distances) > 0)


@pytest.mark.parametrize("delete", [0, 20])
@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_hnsw_sweep_equals_hnswlib_recall(hnsw_factory, space, delete):
    case = hnsw_factory(n=2000, dim=12, space=space, M=5, ef_construction=20, delete=delete)
    qs = queries(12, 80)
    idx = feder.load_index(case.path, space=space)
    truth, _ = feder.exact_search(idx, qs, k=K)
    s = idx.sweep(qs, k=K, ef=EFS)
    assert s.param == "ef"
    case.index.set_num_threads(1)
    for j, ef in enumerate(EFS):
        case.index.set_ef(ef)
        lib, _ = case.index.knn_query(qs, k=K)
        np.testing.assert_array_equal(s.per_query[j], recall_rows(lib, truth, K))
    assert s.recall[0] < s.recall[-1] and np.all(np.diff(s.distances) > 0)
    # work counts hnswlib's distance computations: the entry point, each upper-level link
    # scanned, the level-0 entry again, each node newly visited on level 0
    for i in (0, 7):
        result = idx.search(qs[i], k=K, ef=EFS[0])
        assert s.per_query_distances[0, i] == hnswlib_work(result, idx.model.deleted)


def hnswlib_work(result, deleted) -> int:
    """Distances hnswlib computes in a replayed search (its own count, from the steps)."""
    beam = result.levels[-1]
    return (1 + sum(lv.edge_dst.size for lv in result.levels)
            + (0 if deleted[beam.entry] else 1))


@pytest.mark.parametrize(("space", "M", "k", "delete"),
                         [("l2", 8, 10, 0), ("ip", 4, 5, 0), ("cosine", 12, 1, 0),
                          ("l2", 2, 30, 0), ("l2", 6, 10, 300), ("ip", 5, 4, 40),
                          ("cosine", 3, 8, 700)])
def test_lockstep_searches_equal_the_replay(hnsw_factory, space, M, k, delete):
    """The sweep's lockstep searches give the replay's results and work, search by search
    (with deleted elements too: explored, never kept)."""
    case = hnsw_factory(n=1500, dim=10, space=space, M=M, ef_construction=30, seed=M,
                        delete=delete)
    idx = feder.load_index(case.path, space=space)
    qs = queries(10, 90, seed=M)
    efs = np.array([1, 7, 16, 50])
    ids, work, replay = lockstep_sweep(idx.model, qs, k, efs)
    assert replay.mean() < 0.05  # no ties in continuous data: nearly nothing replayed
    for j, ef in enumerate(efs.tolist()):
        for i, q in enumerate(qs):
            if replay[j, i]:
                continue
            t = idx.search(q, k=k, ef=ef)
            np.testing.assert_array_equal(np.sort(ids[j, i]), np.sort(t.result_internal))
            assert work[j, i] == hnswlib_work(t, idx.model.deleted)


def test_lockstep_with_a_deleted_entry_point(tmp_path):
    """hnswlib starts level 0 from a deleted node (where the greedy descent, which ignores
    deletion marks, ended) without computing its distance again or keeping it."""
    case = build_hnsw(tmp_path, n=800, dim=6, M=5, delete=300)
    state = hnswlib_state(case.index)
    entry_label = int(state["labels"][state["entry_point"]])
    if entry_label not in case.deleted:
        case.index.mark_deleted(entry_label)
    path = tmp_path / "dead-entry.bin"
    case.index.save_index(str(path))
    idx = feder.load_index(path)
    assert idx.model.deleted[idx.model.entry_point]
    qs = queries(6, 40)
    efs = np.array([4, 12, 40])
    ids, work, replay = lockstep_sweep(idx.model, qs, 4, efs)
    assert replay.mean() < 0.05
    checked = 0
    for j, ef in enumerate(efs.tolist()):
        for i in np.flatnonzero(~replay[j]):
            t = idx.search(qs[i], k=4, ef=ef)
            np.testing.assert_array_equal(np.sort(ids[j, i]), np.sort(t.result_internal))
            assert work[j, i] == hnswlib_work(t, idx.model.deleted)
            checked += bool(idx.model.deleted[t.levels[-1].entry])
    assert checked  # some searches do start level 0 at a deleted node


def grid_data(n: int, dim: int, seed: int) -> np.ndarray:
    """Small integers: many exactly equal distances, all computed without rounding."""
    return np.random.default_rng(seed).integers(-3, 4, (n, dim)).astype(np.float32)


def test_ivf_sweep_with_exact_ties_equals_faiss():
    """Ties at the k-th distance (and between centroids) fall back to replays per nprobe;
    with integer data there is no rounding, so the match with faiss is exact."""
    dim, nlist = 4, 8
    data = grid_data(1200, dim, 1)
    quantizer = faiss.IndexFlatL2(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist)
    index.cp.seed = 1
    index.train(data)
    index.add(data)
    qs = grid_data(80, dim, 2)
    flat = faiss.IndexFlatL2(dim)
    flat.add(data)
    _, truth = flat.search(qs, K)
    idx = feder.load_index(faiss.serialize_index(index).tobytes())
    s = idx.sweep(qs, k=K, nprobe=[1, 2, 3, 8])
    for j, p in enumerate([1, 2, 3, 8]):
        lib = np.stack([faiss_ivf_search(index, q, K, p) for q in qs])
        np.testing.assert_array_equal(s.per_query[j], recall_rows(lib, truth, K))
    assert s.recall[-1] < 1.0  # scan order decides between tied vectors: faiss too


@pytest.mark.parametrize(("dim", "span"), [(8, 5), (5, 9)])
def test_lockstep_flags_every_search_that_ties_decide(hnsw_factory, dim, span):
    """On integer data (many exactly equal distances) every search the lockstep does not
    flag for a replay equals the replay itself: ties between the closest open nodes, across
    the beam's boundary and across the k-th result are all caught."""
    rng = np.random.default_rng(dim)
    data = rng.integers(-span, span + 1, (500, dim)).astype(np.float32)
    case = hnsw_factory(data=data, M=4, ef_construction=20, seed=5)
    idx = feder.load_index(case.path)
    qs = rng.integers(-span, span + 1, (50, dim)).astype(np.float32) + np.float32(0.5)
    efs = np.array([3, 8, 20])
    for k in (1, 4):
        ids, work, replay = lockstep_sweep(idx.model, qs, k, efs)
        assert 0 < replay.mean() < 1
        for j, ef in enumerate(efs.tolist()):
            for i in np.flatnonzero(~replay[j]):
                t = idx.search(qs[i], k=k, ef=ef)
                np.testing.assert_array_equal(np.sort(ids[j, i]), np.sort(t.result_internal))
                assert work[j, i] == hnswlib_work(t, idx.model.deleted)


def test_hnsw_sweep_with_exact_ties_equals_hnswlib(hnsw_factory):
    case = hnsw_factory(data=grid_data(600, 4, 3), M=6, ef_construction=30)
    qs = grid_data(60, 4, 4)
    idx = feder.load_index(case.path)
    truth, _ = feder.exact_search(idx, qs, k=K)
    s = feder.sweep(idx, qs, k=K, ef=[10, 30])
    case.index.set_num_threads(1)
    for j, ef in enumerate([10, 30]):
        case.index.set_ef(ef)
        lib, _ = case.index.knn_query(qs, k=K)
        np.testing.assert_array_equal(s.per_query[j], recall_rows(lib, truth, K))


# --------------------------------------------------------------------------------------------
# health


@pytest.mark.parametrize(("n", "nlist"), [(3000, 32), (40, 64)])
def test_ivf_health_equals_faiss(n, nlist):
    case = build_ivf(n=n, dim=8, nlist=nlist, train_n=40 * nlist)
    h = feder.health(feder.load_index(case.blob))
    sizes = np.array([case.index.invlists.list_size(i) for i in range(nlist)])
    assert h.imbalance_factor == pytest.approx(case.index.invlists.imbalance_factor(),
                                               rel=1e-12)
    np.testing.assert_array_equal(h.list_sizes, sizes)
    np.testing.assert_array_equal(h.empty_lists, np.flatnonzero(sizes == 0))
    assert (h.largest_size, h.smallest_size) == (sizes.max(), sizes.min())
    assert sizes[h.largest_list] == sizes.max() and sizes[h.smallest_list] == sizes.min()
    assert h.histogram_counts.sum() == nlist
    assert h.histogram_counts[0] == np.count_nonzero(sizes == 0)
    bins = np.searchsorted(h.histogram_edges, sizes, side="right") - 1
    np.testing.assert_array_equal(np.bincount(bins, minlength=h.histogram_counts.size),
                                  h.histogram_counts)


def test_hnsw_health_degrees_equal_hnswlib_arrays(hnsw_factory):
    case = hnsw_factory(n=1500, dim=8, M=6, delete=10, custom_labels=True)
    state = hnswlib_state(case.index)
    h = feder.load_index(case.path).health()
    levels = state["levels"]
    assert h.max_level == state["max_level"] == h.nodes_per_level.size - 1
    assert h.entry_point == int(state["labels"][state["entry_point"]])
    assert h.deleted == 10
    for level in range(h.max_level + 1):
        nodes = np.flatnonzero(levels >= level)
        links = ([state["level0"][i] for i in nodes] if level == 0
                 else [state["upper"][level][i] for i in nodes])
        assert h.nodes_per_level[level] == nodes.size
        assert h.links_per_level[level] == sum(len(x) for x in links)
        np.testing.assert_array_equal(h.out_degree[level], np.bincount([len(x) for x in links]))
        incoming = np.bincount(np.concatenate([np.asarray(x, np.int64) for x in links]),
                               minlength=state["n"])[nodes]
        np.testing.assert_array_equal(h.in_degree[level], np.bincount(incoming))


# --------------------------------------------------------------------------------------------
# properties


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), nlist=st.sampled_from([2, 4, 8, 16]),
       n=st.integers(60, 400), k=st.integers(1, 12), metric=st.sampled_from(["l2", "ip"]),
       dim=st.integers(2, 8))
def test_ivf_recall_is_one_at_nlist_and_monotone(seed, nlist, n, k, metric, dim):
    case = build_ivf(n=n, dim=dim, nlist=nlist, metric=metric, seed=seed,
                     train_n=40 * nlist)
    idx = feder.load_index(case.blob)
    qs = clustered(12, dim, seed + 5)
    s = feder.sweep(idx, qs, k=k)
    assert s.params[-1] == nlist
    np.testing.assert_array_equal(s.per_query[-1], 1.0)
    assert np.all(np.diff(s.per_query, axis=0) >= 0)
    for i, q in enumerate(qs[:3]):
        e = idx.explain(q, k=k, nprobe=int(s.params[0]))
        found = set(e.trace.ids.tolist()) & set(e.truth_ids.tolist())
        assert len(e.missed) == k - len(found)
        assert e.recall == s.per_query[0][i]  # one search explained = that sweep point


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(30, 300), k=st.integers(1, 10),
       M=st.integers(2, 8), ef=st.integers(1, 40),
       space=st.sampled_from(["l2", "ip", "cosine"]))
def test_hnsw_missed_count_property(seed, n, k, M, ef, space):
    with tempfile.TemporaryDirectory() as tmp:
        case = build_hnsw(Path(tmp), n=n, dim=6, space=space, M=M, ef_construction=10,
                          seed=seed)
        idx = feder.load_index(case.blob, space=space)
        for q in clustered(4, 6, seed + 1):
            try:
                e = idx.explain(q, k=k, ef=ef)
            except feder.QueryError:  # fewer than k reachable: hnswlib fails the same way
                continue
            found = set(e.trace.ids.tolist()) & set(e.truth_ids.tolist())
            assert len(e.missed) == k - len(found)
            assert e.recall == len(found) / k
            assert all(m.reason in ("unreachable", "not_reached", "tie") for m in e.missed)


# --------------------------------------------------------------------------------------------
# bad input


@pytest.fixture(scope="module")
def small_ivf():
    return feder.load_index(build_ivf(n=300, dim=8, nlist=8).blob)


@pytest.fixture(scope="module")
def small_hnsw():
    with tempfile.TemporaryDirectory() as tmp:
        return feder.load_index(build_hnsw(Path(tmp), n=200, dim=8).blob)


GOOD_QUERIES = clustered(4, 8, 1)
BAD_QUERIES = {
    "wrong dimension": np.ones((3, 7), np.float32),
    "empty": np.empty((0, 8), np.float32),
    "NaN": np.where(np.eye(3, 8) > 0, np.nan, 1.0),
    "inf": np.full((2, 8), np.inf),
    "3-d": np.ones((2, 2, 8)),
    "text": "not a vector",
}


@pytest.mark.parametrize("what", sorted(BAD_QUERIES))
@pytest.mark.parametrize("which", ["ivf", "hnsw"])
def test_bad_queries_name_the_argument(what, which, small_ivf, small_hnsw):
    idx = small_ivf if which == "ivf" else small_hnsw
    param = {"nprobe": [1, 2]} if which == "ivf" else {"ef": [10, 20]}
    with pytest.raises(feder.FederError, match="queries"):
        feder.exact_search(idx, BAD_QUERIES[what], k=3)
    with pytest.raises(feder.FederError, match="queries"):
        feder.sweep(idx, BAD_QUERIES[what], k=3, **param)
    if what != "empty":
        with pytest.raises(feder.FederError, match="query"):
            feder.explain(idx, BAD_QUERIES[what][0] if what != "text" else "x", k=3)


BAD_LISTS = {"empty": [], "unsorted": [4, 2], "repeated": [2, 2], "zero": [0, 1],
             "negative": [-1], "not integers": [1.5, 2], "a string": "1,2",
             "a number": 4}


@pytest.mark.parametrize("what", sorted(BAD_LISTS))
def test_bad_parameter_lists_name_the_argument(what, small_ivf, small_hnsw):
    with pytest.raises(feder.FederError, match="nprobe"):
        feder.sweep(small_ivf, GOOD_QUERIES, k=3, nprobe=BAD_LISTS[what])
    with pytest.raises(feder.FederError, match="ef"):
        feder.sweep(small_hnsw, GOOD_QUERIES, k=3, ef=BAD_LISTS[what])


def test_other_bad_arguments(small_ivf, small_hnsw):
    with pytest.raises(feder.FederError, match="nprobe = 9"):
        feder.sweep(small_ivf, GOOD_QUERIES, nprobe=[1, 9])  # nlist is 8
    for bad_k in (0, -2, 1.5, True):
        with pytest.raises(feder.FederError, match="k"):
            feder.exact_search(small_ivf, GOOD_QUERIES, k=bad_k)
        with pytest.raises(feder.FederError, match="k"):
            feder.explain(small_hnsw, GOOD_QUERIES[0], k=bad_k)
    with pytest.raises(TypeError, match="nprobe"):
        feder.sweep(small_ivf, GOOD_QUERIES, ef=[1, 2])
    with pytest.raises(TypeError, match="ef"):
        feder.sweep(small_hnsw, GOOD_QUERIES, nprobe=[1, 2])
    with pytest.raises(TypeError, match="nprobe"):
        feder.explain(small_ivf, GOOD_QUERIES[0], ef=3)


def test_empty_indexes(hnsw_factory):
    case = build_ivf(n=0, dim=8, nlist=4, train_n=200)
    idx = feder.load_index(case.blob)
    ids, distances = feder.exact_search(idx, GOOD_QUERIES, k=3)
    np.testing.assert_array_equal(ids, case.index.search(GOOD_QUERIES, 3)[1])
    assert np.all(distances == np.finfo(np.float32).max)
    np.testing.assert_array_equal(feder.sweep(idx, GOOD_QUERIES, k=3).recall, 0.0)
    e = feder.explain(idx, GOOD_QUERIES[0], k=3)
    assert e.recall == 0.0 and not e.missed
    h = feder.health(idx)
    assert h.ntotal == 0 and np.isnan(h.imbalance_factor) and h.empty_lists.size == 4
    empty = feder.load_index(hnsw_factory(n=0, dim=8).path)
    assert feder.health(empty).entry_point is None
    with pytest.raises(feder.QueryError, match="k = 3"):
        feder.sweep(empty, GOOD_QUERIES, k=3)


def test_overflowing_queries_are_refused(small_ivf, small_hnsw):
    queries = np.array(GOOD_QUERIES, np.float32)
    queries[1] = 1e19  # finite, but its squared norm is beyond float32
    for call in (lambda: feder.exact_search(small_ivf, queries, k=3),
                 lambda: feder.sweep(small_hnsw, queries, k=3)):
        with pytest.raises(feder.QueryError, match=r"queries\[1\] has squared norm"):
            call()


def test_unsupported_kinds_are_refused(small_ivf):
    other = types.SimpleNamespace(kind="lsh", dim=8, ntotal=3)
    for call in (lambda: feder.exact_search(other, GOOD_QUERIES),
                 lambda: feder.explain(other, GOOD_QUERIES[0]),
                 lambda: feder.sweep(other, GOOD_QUERIES), lambda: feder.health(other)):
        with pytest.raises(feder.UnsupportedIndexError, match="lsh"):
            call()


def test_facade_and_exports(small_ivf, small_hnsw):
    for name in ("exact_search", "explain", "sweep", "health", "Explanation", "Miss", "Sweep",
                 "Health"):
        assert name in feder.__all__ and getattr(feder, name) is not None
    e = small_ivf.explain(GOOD_QUERIES[0], k=4, nprobe=2)
    assert isinstance(e, feder.Explanation) and e.params["nprobe"] == 2
    assert "recall" in repr(e)
    s = small_hnsw.sweep(GOOD_QUERIES, k=4, ef_search=[8, 16])
    assert isinstance(s, feder.Sweep) and s.params.tolist() == [8, 16]
    assert isinstance(small_ivf.health(), feder.Health)
    assert isinstance(small_hnsw.health(), feder.Health)
    default = feder.sweep(small_ivf, GOOD_QUERIES, k=4)
    assert default.params.tolist() == [1, 2, 4, 8]
