"""Diagnostics on every index kind feder loads, each built with faiss at test time.

For IVF flat / SQ / PQ (flat and HNSW coarse quantizers, inside an id map), faiss HNSW
(flat, SQ and PQ storage), flat scans (raw, PQ, SQ codes) and a pre-transform, in L2 and
inner product: the truth equals ``faiss.IndexFlat`` over the original vectors (``vectors=``)
or over faiss's own reconstructions (without); the recall of each explained search equals
that of faiss's own ``index.search`` against it; every miss reason is checked with faiss
(a ``list_not_probed`` miss is in no list faiss's quantizer returns, a ``quantization`` miss
is among the candidates faiss scans with a code distance that ranks it out, graph reasons
agree with a BFS over faiss's own level arrays); sweep recall equals faiss's search recall
at every nprobe / ef.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
import pytest
from conftest import FAISS_METRIC, clustered

import feder
from feder import FederPy
from feder.diagnose import explain_many

DIM, N, NLIST, K = 16, 2000, 16, 10
NQ = 120
NPROBES = [1, 2, 4, 16]
EFS = [10, 16, 32, 64]
FLT_MAX = float(np.finfo(np.float32).max)


@dataclass
class Case:
    name: str
    metric: str
    index: Any  # the faiss index
    data: np.ndarray  # (N, DIM) added, in add order
    ids: np.ndarray  # (N,) the id faiss returns for each row of data
    family: str  # "ivf" | "graph" | "flat"
    lossy: bool
    keep: Any = None  # sub-indexes faiss does not own

    @property
    def larger(self) -> bool:
        return self.metric == "ip"

    def model(self) -> Any:
        return feder.load_index(self.index)


def _train() -> np.ndarray:
    return clustered(4000, DIM, 5)


def _no_polysemous(index: Any) -> None:
    """index_factory turns on polysemous training for 8-bit PQ (slow, and not searched)."""
    for sub in (index, getattr(faiss.downcast_index(index), "index", None)):
        sub = faiss.downcast_index(sub) if sub is not None else None
        if sub is not None and hasattr(sub, "do_polysemous_training"):
            sub.do_polysemous_training = False


def _ivf(mt: int, kind: str) -> Any:
    quantizer = faiss.IndexFlat(DIM, mt)
    if kind == "flat":
        return faiss.IndexIVFFlat(quantizer, DIM, NLIST, mt), quantizer
    if kind == "sq":
        return faiss.IndexIVFScalarQuantizer(quantizer, DIM, NLIST,
                                             faiss.ScalarQuantizer.QT_4bit, mt), quantizer
    return faiss.IndexIVFPQ(quantizer, DIM, NLIST, 4, 8, mt), quantizer


def build(name: str, metric: str) -> Case:
    mt = FAISS_METRIC[metric]
    data = clustered(N, DIM, 6)
    ids = np.arange(N, dtype=np.int64)
    family, lossy = "ivf", name not in ("ivf_flat", "ivf_hnsw_flat", "hnsw_flat", "flat")
    index: Any
    keep: Any = None
    if name in ("ivf_flat", "ivf_sq", "ivf_pq"):
        index, keep = _ivf(mt, name.split("_")[1])
    elif name == "ivf_hnsw_flat":
        index = faiss.index_factory(DIM, f"IVF{NLIST}_HNSW8,Flat", mt)
    elif name == "ivf_hnsw_pq":
        index = faiss.index_factory(DIM, f"IVF{NLIST}_HNSW8,PQ4", mt)
    elif name == "idmap_ivf_pq":
        inner, quantizer = _ivf(mt, "pq")
        _no_polysemous(inner)
        inner.train(_train())
        index = faiss.IndexIDMap(inner)
        keep = (inner, quantizer)
        ids = (np.random.default_rng(1).permutation(N) * 5 + 1000).astype(np.int64)
    elif name == "hnsw_flat":
        index, family = faiss.IndexHNSWFlat(DIM, 8, mt), "graph"
    elif name == "hnsw_sq":
        index, family = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_4bit, 8, mt), "graph"
    elif name == "hnsw_pq":
        index, family = faiss.IndexHNSWPQ(DIM, 4, 8, 8, mt), "graph"
    elif name == "flat":
        index, family = faiss.IndexFlat(DIM, mt), "flat"
    elif name == "flat_pq":
        index, family = faiss.IndexPQ(DIM, 4, 8, mt), "flat"
    elif name == "flat_sq":
        index, family = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_4bit, mt), \
            "flat"
    elif name == "pretransform":
        index = faiss.index_factory(DIM, f"PCA12,IVF{NLIST},PQ4", mt)
    else:
        raise AssertionError(name)
    if not index.is_trained:
        _no_polysemous(index)
        index.train(_train())
    if name == "idmap_ivf_pq":
        index.add_with_ids(data, ids)
    else:
        index.add(data)
    return Case(name, metric, index, data, ids, family, lossy, keep)


NAMES = ["ivf_flat", "ivf_sq", "ivf_pq", "ivf_hnsw_flat", "ivf_hnsw_pq", "idmap_ivf_pq",
         "hnsw_flat", "hnsw_sq", "hnsw_pq", "flat", "flat_pq", "flat_sq", "pretransform"]
_CASES: dict[tuple[str, str], Case] = {}


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["l2", "ip"])
def case(name: str, request: pytest.FixtureRequest) -> Case:
    key = (name, str(request.param))
    if key not in _CASES:
        _CASES[key] = build(*key)
    return _CASES[key]


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    rng = np.random.default_rng(9)
    base = clustered(NQ, DIM, 6)  # near the stored points, not on them
    return (base + 0.5 * rng.standard_normal(base.shape)).astype(np.float32)


# ------------------------------------------------------------------------------ helpers

def search_space(case: Case, x: np.ndarray) -> np.ndarray:
    """Vectors as the index compares them: a pre-transform's own ``apply``."""
    if case.name != "pretransform":
        return x
    pt = faiss.downcast_index(case.index)
    out = np.ascontiguousarray(x, np.float32)
    for i in range(pt.chain.size()):
        out = faiss.downcast_VectorTransform(pt.chain.at(i)).apply(out)
    return out


def flat_truth(case: Case, base: np.ndarray, qs: np.ndarray, k: int,
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(distances, ids)`` of ``faiss.IndexFlat`` over ``base`` (rows in add order), searched
    in chunks of 16 queries (faiss's SIMD path, not BLAS), ids mapped to what ``case``
    returns."""
    flat = faiss.IndexFlat(base.shape[1], FAISS_METRIC[case.metric])
    flat.add(np.ascontiguousarray(base, np.float32))
    parts = [flat.search(qs[s: s + 16], k) for s in range(0, len(qs), 16)]
    d = np.vstack([p[0] for p in parts])
    pos = np.vstack([p[1] for p in parts])
    return d, np.where(pos >= 0, case.ids[np.maximum(pos, 0)], -1)


def near_ties(distances: np.ndarray, k: int) -> np.ndarray:
    """``(nq,) bool`` rows whose k-th and (k+1)-th distances are within float32 rounding."""
    gap = np.abs(distances[:, k] - distances[:, k - 1])
    return gap <= 1e-5 * np.maximum(np.abs(distances[:, k - 1]), 1.0)


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    return np.array([len((set(f.tolist()) & set(t.tolist())) - {-1}) / k
                     for f, t in zip(found, truth, strict=True)])


def reconstructions(case: Case) -> np.ndarray:
    """faiss's own decoded vectors, rows in add order (in the searched space)."""
    index = faiss.downcast_index(case.index)
    if case.name == "pretransform":
        index = faiss.downcast_index(index.index)
    if case.name == "idmap_ivf_pq":
        index = faiss.downcast_index(index.index)
    if case.family == "graph":
        return faiss.downcast_index(index.storage).reconstruct_n(0, N)
    if case.family == "ivf":
        clone = faiss.clone_index(index)
        clone.make_direct_map()
        return clone.reconstruct_n(0, N)
    return index.reconstruct_n(0, N)


def search_params(case: Case, value: int) -> Any:
    if case.family == "graph":
        return faiss.SearchParametersHNSW(efSearch=value)
    params = faiss.SearchParametersIVF(nprobe=value)
    if case.name == "pretransform":
        return faiss.SearchParametersPreTransform(index_params=params)
    return params


def faiss_search(case: Case, qs: np.ndarray, k: int, value: int | None) -> tuple[Any, Any]:
    """faiss's own search, one query at a time (the path feder replays)."""
    parts = [case.index.search(q[None], k, params=None if value is None else
                               search_params(case, value)) for q in qs]
    return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])


def param(case: Case, value: int) -> dict[str, int]:
    return {} if case.family == "flat" else \
        {("ef" if case.family == "graph" else "nprobe"): value}


# ------------------------------------------------------------------------------ truth

def test_truth_equals_faiss_flat(case: Case, queries: np.ndarray) -> None:
    model = case.model()
    want_d, want = flat_truth(case, search_space(case, case.data), search_space(case, queries),
                              K + 1)
    ok = ~near_ties(want_d, K)
    assert ok.mean() > 0.9
    ids, dist = feder.exact_search(model, queries, K, vectors=case.data)
    np.testing.assert_array_equal(ids[ok], want[ok, :K])
    np.testing.assert_allclose(dist, want_d[:, :K], rtol=1e-5, atol=1e-4)
    e = feder.explain(model, queries[0], K, vectors=case.data)
    assert e.truth == "exact"
    # without the originals: the decoded reconstructions (exact for lossless storage)
    base = reconstructions(case) if case.lossy else search_space(case, case.data)
    want_d, want = flat_truth(case, base, search_space(case, queries), K + 1)
    ok = ~near_ties(want_d, K)
    ids, dist = feder.exact_search(model, queries, K)
    np.testing.assert_array_equal(ids[ok], want[ok, :K])
    np.testing.assert_allclose(dist, want_d[:, :K], rtol=1e-5, atol=1e-4)
    assert feder.explain(model, queries[0], K).truth == ("decoded" if case.lossy else "exact")


# ------------------------------------------------------------------------------ explain

def _bfs(index: Any) -> np.ndarray:
    """``(n,) bool`` nodes a directed path over any level's links reaches from faiss's
    entry point, read from faiss's own arrays."""
    hnsw = index.hnsw
    levels = faiss.vector_to_array(hnsw.levels).astype(np.int64)
    offsets = faiss.vector_to_array(hnsw.offsets).astype(np.int64)
    neighbors = faiss.vector_to_array(hnsw.neighbors)
    cum = faiss.vector_to_array(hnsw.cum_nneighbor_per_level).astype(np.int64)
    seen = np.zeros(index.ntotal, bool)
    todo = deque([hnsw.entry_point])
    seen[hnsw.entry_point] = True
    while todo:
        node = todo.popleft()
        for level in range(levels[node]):
            for nb in neighbors[offsets[node] + cum[level]: offsets[node] + cum[level + 1]]:
                if nb >= 0 and not seen[nb]:
                    seen[nb] = True
                    todo.append(nb)
    return seen


def _worse_or_equal(case: Case, value: float, kth: float) -> bool:
    return value <= kth * (1 + 1e-6) + 1e-6 if case.larger else \
        value >= kth * (1 - 1e-6) - 1e-6


def test_recall_and_every_miss_reason_agree_with_faiss(case: Case, queries: np.ndarray,
                                                       ) -> None:
    model = case.model()
    value = {"ivf": 2, "graph": 10, "flat": 0}[case.family]
    explained = explain_many(model, queries, K, vectors=case.data, **param(case, value))
    got_d, got = faiss_search(case, queries, K, value or None)
    truth = np.vstack([e.truth_ids for e in explained])
    np.testing.assert_array_equal(np.array([e.recall for e in explained]),
                                  recall(got, truth, K))
    np.testing.assert_array_equal(np.vstack([e.trace.ids for e in explained]), got)
    inner = faiss.downcast_index(case.index)
    if case.name == "pretransform":
        inner = faiss.downcast_index(inner.index)
    if case.name == "idmap_ivf_pq":
        inner = faiss.downcast_index(inner.index)
    list_of: dict[int, int] = {}
    if case.family == "ivf":
        from faiss.contrib.inspect_tools import get_invlist

        for lst in range(inner.nlist):
            for i in get_invlist(inner.invlists, lst)[0].tolist():
                list_of[int(case.ids[i])] = lst
    reach = _bfs(inner) if case.family == "graph" else None
    row_of = {int(v): r for r, v in enumerate(case.ids.tolist())}
    reasons: set[str] = set()
    for i, e in enumerate(explained):
        q = search_space(case, queries[i: i + 1])
        kth = float(got_d[i, K - 1])
        # every candidate faiss scans, with the distance it computed (codes: the code's)
        if case.family == "ivf":
            _, probed = inner.quantizer.search(q, value)
            all_d, all_i = inner.search(q, N, params=faiss.SearchParametersIVF(nprobe=value))
        else:
            storage = inner if case.family == "flat" else faiss.downcast_index(inner.storage)
            all_d, all_i = storage.search(q, N)
        scanned = {int(j): float(dv) for j, dv in zip(all_i[0], all_d[0], strict=True)
                   if j >= 0}
        for m in e.missed:
            reasons.add(m.reason)
            inner_id = int(m.id) if case.name != "idmap_ivf_pq" else row_of[int(m.id)]
            if m.reason == "list_not_probed":
                assert case.family == "ivf" and list_of[int(m.id)] not in probed[0]
                assert m.code_distance is None
                continue
            if m.reason in ("unreachable", "not_reached"):
                assert case.family == "graph"
                assert bool(reach[inner_id]) == (m.reason == "not_reached")
                continue
            # scanned: a lossy code ranked it out, or a tie with the k-th result
            assert m.reason in ("quantization", "tie")
            assert m.reason == "tie" or case.lossy
            if case.family == "ivf":
                assert list_of[int(m.id)] in probed[0]
            code = scanned[inner_id]
            assert m.code_distance == pytest.approx(code, rel=1e-5, abs=1e-5)
            assert _worse_or_equal(case, code, kth)
        assert e.truth_code_distances.shape == (K,) and e.result_true_distances.shape == (K,)
    if not case.lossy and case.family == "flat":
        assert not reasons  # an exact scan misses nothing (no ties in these data)
    if case.lossy and case.family != "graph":
        assert "quantization" in reasons
    if case.family == "ivf" and case.name != "ivf_hnsw_flat":
        assert "list_not_probed" in reasons


# ------------------------------------------------------------------------------ sweep

def test_sweep_recall_equals_faiss_at_every_value(case: Case, queries: np.ndarray) -> None:
    model = case.model()
    if case.family == "flat":
        with pytest.raises(feder.ParameterError, match="no nprobe / ef to sweep"):
            feder.sweep(model, queries, K)
        return
    values = EFS if case.family == "graph" else NPROBES
    name = "ef" if case.family == "graph" else "nprobe"
    s = feder.sweep(model, queries, K, vectors=case.data, **{name: values})
    ids, _ = feder.exact_search(model, queries, K, vectors=case.data)
    np.testing.assert_array_equal(s.truth_ids, ids)
    for j, value in enumerate(values):
        _, got = faiss_search(case, queries, K, value)
        np.testing.assert_array_equal(s.per_query[j], recall(got, ids, K))
    assert (s.distances > 0).all() and np.all(np.diff(s.distances) >= 0)


# ------------------------------------------------------------------------------ health

def test_health(case: Case) -> None:
    h = feder.health(case.model())
    assert h.ntotal == N
    inner = faiss.downcast_index(case.index)
    if case.name in ("pretransform", "idmap_ivf_pq"):
        inner = faiss.downcast_index(inner.index)
    if case.family == "ivf":
        assert isinstance(h, feder.diagnose.IVFHealth)
        assert h.imbalance_factor == pytest.approx(inner.invlists.imbalance_factor(), rel=1e-9)
    elif case.family == "graph":
        assert isinstance(h, feder.diagnose.HNSWHealth)
        levels = faiss.vector_to_array(inner.hnsw.levels)
        want = [int((levels > lv).sum()) for lv in range(int(levels.max()))]
        assert h.nodes_per_level.tolist() == want
        assert np.array_equal(np.sort(h.unreachable_internal), np.flatnonzero(~_bfs(inner)))
    else:
        assert type(h) is feder.Health
    assert h.kind == case.model().kind


# ------------------------------------------------------------------------------ widgets

def _values(payload: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(payload["data"], dtype=payload["dtype"]).reshape(payload["shape"])


@pytest.mark.parametrize("name", ["ivf_pq", "flat_pq", "hnsw_pq", "pretransform"])
def test_federpy_shows_the_diagnosis(name: str, queries: np.ndarray) -> None:
    case = build(name, "l2")
    fed = FederPy(case.index, "faiss", vectors=case.data)
    params = {"k": K} | ({"nprobe": 4} if case.family == "ivf" else {})
    for q in queries[:10]:
        widget = fed.setSearchParams(params).searchByVec(q)
        if widget.explanation and widget.explanation.missed:
            break
    e = widget.explanation
    assert e is not None and e.truth == "exact"
    diag = widget.search["diagnosis"]
    assert diag["truth_space"] == "exact" and diag["recall"] == e.recall
    reasons = [diag["reasons"][c] for c in _values(diag["missed"]["reason"])]
    assert reasons == [m.reason for m in e.missed] and "quantization" in reasons
    np.testing.assert_array_equal(_values(diag["missed"]["code_distances"]),
                                  e.missed_code_distances)
    assert _values(diag["missed"]["xy"]).shape == (len(e.missed), 2)
    if case.family == "ivf":  # scanned misses are drawn in their own list's sector
        sectors = _values(widget.search["fine"]["sectors"]["lists"]).tolist()
        for m in e.missed:
            assert (m.list in sectors) == (m.reason == "quantization")
    views = [v["id"] for v in widget.view_params["views"]]
    if case.family == "flat":
        assert "sweep" not in views and "health" not in views
        for call in (fed.sweep, fed.health):
            with pytest.raises(feder.ParameterError, match=r"no (sweep|health) view"):
                call()
    else:
        assert fed.sweep(queries[:8], values=EFS[:2] if case.family == "graph" else [1, 4]
                         ).view == "sweep"
        assert fed.health().view == "health"
    # without the originals the truth is the decoded one, and says so
    plain = FederPy(case.index, "faiss").setSearchParams(params).searchByVec(queries[0])
    assert plain.search["diagnosis"]["truth_space"] == "decoded"


def test_bad_original_vectors_are_refused(hnsw_factory: Any) -> None:
    case = build("idmap_ivf_pq", "l2")
    model = case.model()
    q = case.data[:2]
    with pytest.raises(feder.QueryError, match=r"vectors has shape \(5, 16\)"):
        feder.exact_search(model, q, K, vectors=case.data[:5])
    with pytest.raises(feder.QueryError, match="vector_ids"):
        feder.exact_search(model, q, K, vectors=case.data, vector_ids=case.ids[:3])
    with pytest.raises(feder.QueryError, match="holds no id 7"):
        feder.exact_search(model, q, K, vectors=case.data,
                           vector_ids=np.concatenate([[7], case.ids[1:]]))
    with pytest.raises(feder.QueryError, match="same stored vector"):
        feder.exact_search(model, q, K, vectors=case.data,
                           vector_ids=np.concatenate([case.ids[1:2], case.ids[1:]]))
    with pytest.raises(feder.QueryError, match="finite"):
        feder.exact_search(model, q, K, vectors=np.where(case.data > 3, np.nan, case.data))
    with pytest.raises(feder.ParameterError, match="give both"):
        feder.exact_search(model, q, K, vector_ids=case.ids)
    # the ids given: the same truth as rows in add order under the id map
    shuffled = np.random.default_rng(2).permutation(N)
    a = feder.exact_search(model, q, K, vectors=case.data)
    b = feder.exact_search(model, q, K, vectors=case.data[shuffled],
                           vector_ids=case.ids[shuffled])
    np.testing.assert_array_equal(a[0], b[0])
    hnswlib_model = feder.load_index(hnsw_factory(n=50, dim=16).path)
    with pytest.raises(feder.ParameterError, match="stores its vectors"):
        feder.exact_search(hnswlib_model, q, 3, vectors=np.zeros((50, 16), np.float32))


def test_cli_diagnose_flat_codes_and_lossy_ivf(tmp_path: Any, capsys: Any) -> None:
    from feder.cli import main

    for name in ("flat_pq", "ivf_pq"):
        case = build(name, "l2")
        path, vectors = tmp_path / f"{name}.index", tmp_path / f"{name}.npy"
        faiss.write_index(case.index, str(path))
        np.save(vectors, case.data)
        out = tmp_path / f"{name}.html"
        assert main(["diagnose", str(path), "--vectors", str(vectors), "--sample", "30",
                     "--worst", "2", "-o", str(out), "--nprobe", "1,4"]) == 0
        printed = capsys.readouterr()
        assert out.stat().st_size > 0
        if name == "flat_pq":  # a scan: per-query recall, no sweep; --nprobe ignored
            assert "recall@10 of a flat scan over 30 queries" in printed.out
            assert "truth exact" in printed.out and "--nprobe does not apply" in printed.err
            assert '"diagnostics":{"sweep"' not in out.read_text()
        else:
            assert "recall@10 by nprobe: 1: " in printed.out
            assert '"diagnostics":{"sweep"' in out.read_text()
    # the vectors file is an input: never the output
    assert main(["diagnose", str(path), "--vectors", str(vectors), "-o", str(vectors)]) != 0
