"""Replayed searches against faiss ``search`` and hnswlib ``knn_query``, query by query, and
the recorded steps against the libraries and the parsed graph."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from conftest import build_hnsw, build_ivf, clustered, hnswlib_state

import feder
from feder.trace.types import ADMITTED, CANDIDATE_ONLY, REJECTED, BeamLevel, GreedyLevel

FLT_MAX = np.finfo(np.float32).max
N_QUERIES = 100


def queries(dim: int, count: int = N_QUERIES, seed: int = 99) -> np.ndarray:
    return clustered(count, dim, seed)


class Agreement:
    """Counts queries whose ids differ from the library's. Distances must always agree; ids
    may differ only where two distances tie within float32 rounding (numpy and the libraries'
    SIMD kernels sum in different orders, so a 1-ulp near-tie can flip), and rarely."""

    budget = 0.02

    def __init__(self) -> None:
        self.total = 0
        self.differ: list[tuple[list[int], list[int]]] = []

    def check(self, ids, distances, want_ids, want_distances) -> None:
        self.total += 1
        np.testing.assert_allclose(distances, want_distances, rtol=1e-5, atol=1e-5)
        if not np.array_equal(ids, want_ids):
            self.differ.append((ids.tolist(), want_ids.tolist()))

    def done(self) -> None:
        assert len(self.differ) <= max(1, self.budget * self.total), self.differ


def faiss_search(index, q: np.ndarray, k: int, nprobe: int) -> tuple[np.ndarray, np.ndarray]:
    """One query at a time, as feder traces (batches ≥ 20 take faiss's BLAS path for the
    coarse step, whose rounding differs from the per-query path)."""
    params = faiss.SearchParametersIVF(nprobe=nprobe)
    distances, ids = index.search(q[None], k, params=params)
    return ids[0], distances[0]


# --------------------------------------------------------------------------------------------
# IVF_FLAT

IVF_VARIANTS = {
    "l2": {},
    "ip": {"metric": "ip"},
    "l2_custom_ids": {"custom_ids": True},
    "ip_custom_ids": {"metric": "ip", "custom_ids": True},
    "sparse_lists": {"n": 40, "nlist": 64, "custom_ids": True},
}


@pytest.fixture(scope="module", params=list(IVF_VARIANTS))
def ivf(request):
    case = build_ivf(**IVF_VARIANTS[request.param])
    return case, feder.load_index(case.blob)


@pytest.mark.parametrize(("nprobe", "k"), [(1, 10), (4, 10), (13, 1), (64, 25), (500, 5)])
def test_ivf_results_equal_faiss(ivf, nprobe, k):
    case, parsed = ivf
    qs = np.concatenate([queries(parsed.dim), case.data[:10]])  # incl. exact hits
    agreement = Agreement()
    for q in qs:
        want_ids, want_d = faiss_search(case.index, q, k, nprobe)
        trace = parsed.search(q, k=k, nprobe=nprobe)
        agreement.check(trace.ids, trace.distances, want_ids, want_d)
        assert trace.ids.dtype == np.int64 and trace.distances.dtype == np.float32
        assert trace.params == {"k": k, "nprobe": min(nprobe, parsed.nlist)}
    agreement.done()


def test_ivf_steps(ivf):
    case, parsed = ivf
    index = case.index
    larger = parsed.metric == "ip"
    for nprobe in (1, 5):
        for q in queries(parsed.dim, 40, seed=7):
            trace = parsed.search(q, k=10, nprobe=nprobe)
            coarse, fine = trace.steps
            assert (coarse.name, fine.name) == ("coarse", "fine")
            # coarse: all centroid distances, and the probed lists, as the quantizer sees them
            dq, lq = index.quantizer.search(q[None], parsed.nlist)
            by_list = np.empty(parsed.nlist, np.float32)
            by_list[lq[0]] = dq[0]
            np.testing.assert_allclose(coarse.centroid_distances, by_list, rtol=1e-5, atol=1e-4)
            _, probed = index.quantizer.search(q[None], nprobe)
            np.testing.assert_array_equal(coarse.probed_lists, probed[0])
            np.testing.assert_array_equal(coarse.probed_distances,
                                          coarse.centroid_distances[coarse.probed_lists])
            # fine: exactly the members of the probed lists, in probe order
            members = [parsed.list_ids(int(lst)) for lst in coarse.probed_lists]
            np.testing.assert_array_equal(fine.candidate_ids, np.concatenate(members))
            np.testing.assert_array_equal(
                fine.candidate_lists,
                np.repeat(coarse.probed_lists, [m.size for m in members]))
            np.testing.assert_array_equal(parsed.ids[fine.candidate_rows], fine.candidate_ids)
            np.testing.assert_array_equal(parsed.row_lists[fine.candidate_rows],
                                          fine.candidate_lists)
            vecs = parsed.vectors[fine.candidate_rows]
            expect = vecs @ q if larger else ((vecs - q) ** 2).sum(axis=1)
            np.testing.assert_allclose(fine.candidate_distances, expect, rtol=1e-4, atol=1e-3)
            got = fine.result_positions
            assert got.size == min(10, fine.candidate_ids.size)
            np.testing.assert_array_equal(fine.candidate_ids[got], trace.ids[: got.size])
            np.testing.assert_array_equal(fine.candidate_distances[got],
                                          trace.distances[: got.size])
            # the results really are the best candidates
            if got.size < fine.candidate_ids.size:
                rest = np.delete(fine.candidate_distances, got)
                worst = trace.distances[got.size - 1]
                assert (rest <= worst).all() if larger else (rest >= worst).all()


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ivf_k_larger_than_candidates_pads_like_faiss(metric):
    case = build_ivf(n=7, nlist=64, metric=metric, custom_ids=True)
    parsed = feder.load_index(case.blob)
    for q in queries(parsed.dim, 30):
        for nprobe, k in ((1, 5), (64, 12), (3, 20)):
            want_ids, want_d = faiss_search(case.index, q, k, nprobe)
            trace = parsed.search(q, k=k, nprobe=nprobe)
            np.testing.assert_array_equal(trace.ids, want_ids)
            np.testing.assert_allclose(trace.distances, want_d, rtol=1e-5)
    trace = parsed.search(queries(parsed.dim, 1)[0], k=12, nprobe=64)
    assert (trace.ids[7:] == -1).all()
    assert (trace.distances[7:] == (-FLT_MAX if metric == "ip" else FLT_MAX)).all()


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ivf_empty_index_returns_padding(metric):
    case = build_ivf(n=0, nlist=16, metric=metric)
    parsed = feder.load_index(case.blob)
    q = queries(16, 1)[0]
    want_ids, want_d = faiss_search(case.index, q, 4, 3)
    trace = parsed.search(q, k=4, nprobe=3)
    np.testing.assert_array_equal(trace.ids, want_ids)
    np.testing.assert_array_equal(trace.distances, want_d)
    assert trace.fine.candidate_ids.size == 0 and trace.coarse.probed_lists.size == 3


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ivf_ties_are_broken_like_faiss(metric):
    """Duplicate vectors (the same image twice) give equal distances; faiss keeps and orders
    them by its heap rule (scan order for admission, then ids), not by scan order alone."""
    rng = np.random.default_rng(5)
    d = 8
    base = rng.integers(-2, 3, size=(40, d)).astype(np.float32)
    data = base[rng.integers(0, 40, 600)]
    mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    index = faiss.IndexIVFFlat(faiss.IndexFlat(d, mt), d, 8, mt)
    index.train(clustered(2000, d, 1))
    index.add_with_ids(data, rng.permutation(100_000)[:600].astype(np.int64))
    parsed = feder.load_index(index)
    tied = 0
    for q in rng.integers(-2, 3, size=(150, d)).astype(np.float32):
        for nprobe, k in ((1, 5), (3, 17), (8, 40)):
            want_ids, want_d = faiss_search(index, q, k, nprobe)
            trace = parsed.search(q, k=k, nprobe=nprobe)
            np.testing.assert_array_equal(trace.ids, want_ids)
            np.testing.assert_array_equal(trace.distances, want_d)  # small integers: exact
            tied += int(np.any(np.diff(want_d) == 0))
    assert tied > 100  # the data really has ties


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ivf_tied_centroids_are_probed_like_faiss(metric):
    """Equal centroid distances: the probed lists and their order follow faiss's heap too."""
    rng = np.random.default_rng(8)
    d = 4
    centroids = rng.integers(-1, 2, size=(6, d)).astype(np.float32)
    centroids = np.concatenate([centroids, centroids, centroids[:4]])  # 16 lists, duplicated
    mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    quantizer = faiss.IndexFlat(d, mt)
    quantizer.add(centroids)
    index = faiss.IndexIVFFlat(quantizer, d, 16, mt)
    index.add(rng.integers(-2, 3, size=(300, d)).astype(np.float32))
    parsed = feder.load_index(index)
    for q in rng.integers(-2, 3, size=(60, d)).astype(np.float32):
        for nprobe in (1, 3, 7):
            _, probed = quantizer.search(q[None], nprobe)
            trace = parsed.search(q, k=5, nprobe=nprobe)
            np.testing.assert_array_equal(trace.coarse.probed_lists, probed[0])
            want_ids, want_d = faiss_search(index, q, 5, nprobe)
            np.testing.assert_array_equal(trace.ids, want_ids)
            np.testing.assert_array_equal(trace.distances, want_d)


def test_ivf_nprobe_defaults_to_the_file(ivf):
    case, parsed = ivf
    q = queries(parsed.dim, 1)[0]
    assert parsed.search(q).params["nprobe"] == min(case.index.nprobe, parsed.nlist)
    want_ids, _ = faiss_search(case.index, q, 5, parsed.nprobe)
    np.testing.assert_array_equal(parsed.search(q).ids, want_ids)


def test_ivf_search_by_id_and_vector():
    case = build_ivf(custom_ids=True)
    parsed = feder.load_index(case.blob)
    for pos in range(0, case.ids.size, 151):
        ident = int(case.ids[pos])
        np.testing.assert_array_equal(parsed.vector(ident), case.data[pos])
        trace = parsed.search_by_id(ident, k=5, nprobe=3)
        want_ids, _ = faiss_search(case.index, case.data[pos], 5, 3)
        np.testing.assert_array_equal(trace.ids, want_ids)
        assert trace.ids[0] == ident and trace.distances[0] == 0
    with pytest.raises(feder.UnknownIdError, match=r"id 0 is not in the index \(1500 vectors"):
        parsed.vector(0)
    with pytest.raises(feder.UnknownIdError):
        parsed.search_by_id(-1)
    with pytest.raises(feder.UnknownIdError):
        parsed.vector(2**70)
    with pytest.raises(feder.UnknownIdError, match="integers"):
        parsed.vector(1.5)
    with pytest.raises(feder.UnknownIdError, match="list 64 does not exist"):
        parsed.list_ids(64)


# --------------------------------------------------------------------------------------------
# HNSW

HNSW_VARIANTS = {
    "l2": {"space": "l2", "M": 8},
    "ip": {"space": "ip", "M": 8},
    "cosine": {"space": "cosine", "M": 12},
    "l2_M4_threads_labels": {"space": "l2", "M": 4, "custom_labels": True, "num_threads": 2},
    "l2_deleted": {"space": "l2", "M": 6, "delete": 120, "custom_labels": True},
    "cosine_deleted": {"space": "cosine", "M": 8, "delete": 40},
}


@pytest.fixture(scope="module", params=list(HNSW_VARIANTS))
def hnsw(request, tmp_path_factory):
    case = build_hnsw(tmp_path_factory.mktemp("hnsw"), n=1200, **HNSW_VARIANTS[request.param])
    return case, feder.load_index(case.path, space=case.space)


def hnswlib_search(index, qs: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
    index.set_ef(ef)
    return index.knn_query(qs, k=k, num_threads=1)


@pytest.mark.parametrize(("ef", "k"), [(10, 10), (10, 1), (16, 24), (50, 10), (100, 5)])
def test_hnsw_results_equal_hnswlib(hnsw, ef, k):
    case, parsed = hnsw
    qs = np.concatenate([queries(parsed.dim), case.data[::200]])
    want_ids, want_d = hnswlib_search(case.index, qs, k, ef)
    deleted = set(case.deleted.tolist())
    agreement = Agreement()
    for q, ids, dists in zip(qs, want_ids, want_d, strict=True):
        trace = parsed.search(q, k=k, ef=ef)
        agreement.check(trace.ids, trace.distances, ids, dists)
        assert trace.ids.dtype == np.uint64
        assert not deleted & set(trace.ids.tolist())
        assert trace.params == {"k": k, "ef": ef}
    agreement.done()


def _edges(graph) -> set[tuple[int, int]]:
    src = np.repeat(graph.nodes, np.diff(graph.offsets))
    return set(zip(src.tolist(), graph.neighbors.tolist(), strict=True))


def test_hnsw_steps(hnsw):
    case, parsed = hnsw
    state = hnswlib_state(case.index)  # hnswlib's own links, independent of feder's reader
    edges = [{(a, b) for a, nbrs in enumerate(state["level0"]) for b in nbrs}]
    edges += [{(a, b) for a, nbrs in state["upper"][lv].items() for b in nbrs}
              for lv in range(1, parsed.max_level + 1)]
    assert edges == [_edges(g) for g in parsed.graphs]
    space = parsed.metric

    def dist(nodes, q):
        v = parsed.vectors[np.asarray(nodes, np.int64)]
        return ((v - q) ** 2).sum(axis=1) if space == "l2" else 1 - v @ q

    for ef in (10, 64):
        for q in queries(parsed.dim, 40, seed=3):
            trace = parsed.search(q, k=5, ef=ef)
            qn = trace.query
            if space == "cosine":
                np.testing.assert_allclose(np.linalg.norm(qn), 1, rtol=1e-6)
            assert len(trace.steps) == parsed.max_level + 1
            entry = parsed.entry_point
            for step, level in zip(trace.steps, range(parsed.max_level, -1, -1), strict=True):
                assert step.level == level
                assert step.entry == entry
                pairs = set(zip(step.edge_src.tolist(), step.edge_dst.tolist(), strict=True))
                assert pairs <= edges[level], "an examined edge is not in the graph"
                np.testing.assert_allclose(step.edge_distances, dist(step.edge_dst, qn),
                                           rtol=1e-4, atol=1e-4)
                if isinstance(step, GreedyLevel):
                    assert step.name == "greedy"
                    assert step.path[0] == entry
                    assert np.all(np.diff(step.path_distances) < 0), "path must improve"
                    np.testing.assert_array_equal(step.path[1:],
                                                  step.edge_dst[step.edge_improved])
                    assert set(step.path.tolist()) <= set(step.visited.tolist())
                    assert (parsed.levels[step.path] >= level).all()
                    entry = int(step.path[-1])
                else:
                    assert isinstance(step, BeamLevel) and step.name == "beam" and level == 0
                    _check_beam(step, parsed, trace, ef)


def _check_beam(step: BeamLevel, parsed, trace, ef: int) -> None:
    visited = step.visited
    assert np.unique(visited).size == visited.size, "a node was visited twice"
    assert max(ef, trace.k) <= visited.size <= parsed.ntotal
    assert visited.size < parsed.ntotal or ef >= 64  # small ef does not scan everything
    assert set(step.expanded.tolist()) <= set(visited.tolist())
    assert set(step.edge_src.tolist()) <= set(step.expanded.tolist())
    assert step.ef == max(ef, trace.k)
    assert trace.k <= step.beam.size <= min(step.ef, int((~parsed.deleted).sum()))
    assert np.all(np.diff(step.beam_distances) >= 0)
    assert not parsed.deleted[step.beam].any()
    # results: the k first of the beam, in hnswlib's output order (distance, then label)
    assert set(trace.result_internal.tolist()) == set(step.beam[: trace.k].tolist())
    np.testing.assert_array_equal(trace.ids, parsed.labels[trace.result_internal])
    np.testing.assert_array_equal(np.sort(trace.distances), np.sort(step.beam_distances[:trace.k]))
    np.testing.assert_array_equal(np.lexsort((trace.ids, trace.distances)), np.arange(trace.k))
    # replaying the recorded edge outcomes rebuilds the final beam
    beam = set() if parsed.deleted[step.entry] else {step.entry}
    for dst, outcome, evicted in zip(step.edge_dst.tolist(), step.edge_outcome.tolist(),
                                     step.edge_evicted.tolist(), strict=True):
        assert outcome in (REJECTED, ADMITTED, CANDIDATE_ONLY)
        if outcome == ADMITTED:
            beam.add(dst)
        assert (outcome == CANDIDATE_ONLY) == bool(parsed.deleted[dst] and outcome != REJECTED)
        if evicted >= 0:
            beam.remove(evicted)
        assert len(beam) <= step.ef
    assert beam == set(step.beam.tolist())
    # nothing examined and left out is closer than the worst kept node
    kept_worst = step.beam_distances[-1]
    admitted_or_not = step.edge_distances[~np.isin(step.edge_dst, step.beam)
                                          & ~parsed.deleted[step.edge_dst]]
    if step.beam.size == step.ef:
        assert (admitted_or_not >= kept_worst).all()


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("delete", [0, 60])
def test_hnsw_ties_are_broken_like_hnswlib(tmp_path, space, delete):
    """Duplicate vectors give equal distances; which of them hnswlib keeps depends on how its
    std::priority_queue orders equal keys, which the replay reproduces."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((100, 8)).astype(np.float32)
    data = base[rng.integers(0, 100, 800)]  # each vector about 8 times
    case = build_hnsw(tmp_path, data=data, space=space, M=8, delete=delete)
    parsed = feder.load_index(case.blob, space=space)
    qs = np.concatenate([base[:50], rng.standard_normal((50, 8)).astype(np.float32)])
    tied = 0
    agreement = Agreement()
    for ef, k in ((20, 10), (50, 3)):
        want_ids, want_d = hnswlib_search(case.index, qs, k, ef)
        for q, ids, dists in zip(qs, want_ids, want_d, strict=True):
            trace = parsed.search(q, k=k, ef=ef)
            agreement.check(trace.ids, trace.distances, ids, dists)
            tied += int(np.any(np.diff(dists) == 0))
    agreement.done()
    assert tied > 50


def test_hnsw_deleted_never_returned_even_when_close(tmp_path):
    case = build_hnsw(tmp_path, n=800, M=8, delete=200)
    parsed = feder.load_index(case.blob)
    gone = set(case.deleted.tolist())
    by_label = {int(lab): i for i, lab in enumerate(case.labels)}
    qs = case.data[[by_label[lab] for lab in case.deleted[:60].tolist()]]  # exact hits
    want_ids, _ = hnswlib_search(case.index, qs, 10, 20)
    for q, ids in zip(qs, want_ids, strict=True):
        trace = parsed.search(q, k=10, ef=20)
        np.testing.assert_array_equal(trace.ids, ids)
        assert not gone & set(trace.ids.tolist())
        beam = trace.steps[-1]
        # the deleted twin was reached and explored, but only as a candidate
        assert (beam.edge_outcome == CANDIDATE_ONLY).any() or \
            parsed.deleted[beam.entry]


def test_hnsw_k_above_live_count_raises_like_hnswlib(tmp_path):
    case = build_hnsw(tmp_path, n=20, M=4, delete=15)
    parsed = feder.load_index(case.blob)
    q = case.data[0]
    case.index.set_ef(50)
    with pytest.raises(RuntimeError):
        case.index.knn_query(q, k=6)
    with pytest.raises(feder.QueryError, match=r"found 5 live elements but k = 6") as info:
        parsed.search(q, k=6, ef=50)
    assert "raise ef or lower k" in str(info.value)
    ids, _ = case.index.knn_query(q, k=5)
    np.testing.assert_array_equal(parsed.search(q, k=5, ef=50).ids, ids[0])
    with pytest.raises(RuntimeError):
        case.index.knn_query(q, k=21)
    with pytest.raises(feder.QueryError):
        parsed.search(q, k=21, ef=50)


def test_hnsw_all_deleted(tmp_path):
    case = build_hnsw(tmp_path, n=10, M=4, delete=10)
    parsed = feder.load_index(case.blob)
    with pytest.raises(RuntimeError):
        case.index.knn_query(case.data[0], k=1)
    with pytest.raises(feder.QueryError, match="found 0 live elements"):
        parsed.search(case.data[0], k=1)


def test_hnsw_search_by_id_and_vector(tmp_path):
    case = build_hnsw(tmp_path, n=500, space="cosine", custom_labels=True, delete=5)
    parsed = feder.load_index(case.blob, space="cosine")
    for label in case.labels[1::97].tolist():
        stored = case.index.get_items([label])[0]
        np.testing.assert_array_equal(parsed.vector(label), stored)
        want, _ = hnswlib_search(case.index, np.asarray(stored, np.float32)[None], 5, 30)
        trace = parsed.search_by_id(label, k=5, ef=30)
        np.testing.assert_array_equal(trace.ids, want[0])
        assert trace.ids[0] == label
    with pytest.raises(feder.UnknownIdError, match="label 3 is not in the index"):
        parsed.search_by_id(3)
    with pytest.raises(feder.UnknownIdError, match="marked deleted"):
        parsed.search_by_id(int(case.deleted[0]))


# --------------------------------------------------------------------------------------------
# query validation (both kinds)

@pytest.fixture(scope="module")
def both(tmp_path_factory):
    ivf_index = feder.load_index(build_ivf(n=300, nlist=8).blob)
    hnsw_index = feder.load_index(build_hnsw(tmp_path_factory.mktemp("q"), n=300).blob)
    return {"ivf": ivf_index, "hnsw": hnsw_index}


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_bad_queries(both, kind):
    index = both[kind]
    good = np.zeros(16, np.float32)
    with pytest.raises(feder.QueryError, match=r"shape \(15,\): expected a vector of length 16"):
        index.search(np.zeros(15))
    with pytest.raises(feder.QueryError, match="length 16"):
        index.search(np.zeros((2, 16)))
    with pytest.raises(feder.QueryError, match="length 16"):
        index.search(np.float32(1.0))
    bad = good.copy()
    bad[3] = np.nan
    with pytest.raises(feder.QueryError, match="nan at position 3"):
        index.search(bad)
    bad[3] = np.inf
    with pytest.raises(feder.QueryError, match="inf at position 3"):
        index.search(bad)
    with pytest.raises(feder.QueryError, match="numeric"):
        index.search(["a"] * 16)
    huge = np.full(16, 1e19, np.float32)  # finite, but its squared norm overflows float32
    with pytest.raises(feder.QueryError, match=r"squared norm 1.6e\+39, beyond float32"):
        index.search(huge)
    assert len(index.search(huge / 10, k=3).ids) == 3  # 1e36: still computable
    for k in (0, -1):
        with pytest.raises(feder.QueryError, match="k must be ≥ 1"):
            index.search(good, k=k)
    for k in (1.5, True, "3", None):
        with pytest.raises(feder.QueryError, match="k must be an integer"):
            index.search(good, k=k)
    assert isinstance(feder.QueryError("x"), ValueError)
    # a (1, d) row and plain lists are fine
    a = index.search(good[None], k=3)
    b = index.search(good.tolist(), k=np.int64(3))
    np.testing.assert_array_equal(a.ids, b.ids)
    assert a.ids.size == 3 and "k=3" in repr(a)


def test_bad_search_parameters(both):
    q = np.zeros(16, np.float32)
    with pytest.raises(feder.QueryError, match="nprobe must be ≥ 1"):
        both["ivf"].search(q, nprobe=0)
    with pytest.raises(feder.QueryError, match="ef must be ≥ 1"):
        both["hnsw"].search(q, ef=0)
    with pytest.raises(feder.QueryError, match="ef must be an integer"):
        both["hnsw"].search(q, ef=2.5)


@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_screened_distances_select_like_exact_ones(metric: str, offset: float) -> None:
    """The one-gemv screen must never change a top-k selection, even when a large common
    offset makes ‖x‖² − 2x·q + ‖q‖² lose most of its digits to cancellation."""
    from feder.trace.distances import faiss_distances, screened_faiss_distances, squared_norms
    from feder.trace.ivf import best_positions

    rng = np.random.default_rng(11)
    for trial in range(20):
        vectors = (offset + rng.standard_normal((700, 32))).astype(np.float32)
        vectors[rng.integers(0, 700, 40)] = vectors[rng.integers(0, 700, 40)]  # exact ties
        query = (offset + rng.standard_normal(32)).astype(np.float32)
        parts = np.split(vectors, [100, 250, 600])
        k = int(rng.integers(1, 30))
        exact = faiss_distances(vectors, query, metric)
        screened = screened_faiss_distances(parts, squared_norms(vectors), query, metric, k)
        larger = metric == "ip"
        want = best_positions(exact, k, larger)
        got = best_positions(screened, k, larger)
        np.testing.assert_array_equal(got, want, err_msg=f"trial {trial}")
        np.testing.assert_array_equal(screened[got], exact[want])
