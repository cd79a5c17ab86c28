"""The "Codes" view of lossy indexes (PQ, SQ): the search payload's ``codes`` against faiss
itself (its ADC distances over every scanned code, a flat index over the original vectors,
its own reconstructions), the other lossy kinds (SQ, flat PQ, HNSW over SQ, IDMap, a
pre-transform) against the explanation, no ``codes`` for raw vectors; and in Debian chromium
from ``file://``: the Codes tab draws the ranked-out neighbour left of the k-th exact distance
and above the cut-off, the coarse view counts only misses of lists it did not probe, and
without ``vectors=`` the view and the diagnosis say the truth is decoded."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from feder import FederPy
from feder.session import CODES_SAMPLE

from browser_util import (  # isort: skip
    chromium_available,
    launch_chromium,
    open_report,
    paint_every_view,
    save_screenshot,
)

DIM = 16
K = 10
NPROBE = 4


def _values(payload: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(payload["data"], dtype=payload["dtype"]).reshape(payload["shape"])


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.random.default_rng(5).standard_normal((3000, DIM)).astype("f4")


@pytest.fixture(scope="module")
def ivf_pq(data: np.ndarray) -> Any:
    index = faiss.IndexIVFPQ(faiss.IndexFlatL2(DIM), DIM, 32, 4, 4)
    index.cp.seed = 3
    index.train(data)
    index.add(data)
    index.nprobe = NPROBE
    return index


def _search(fed: FederPy, data: np.ndarray, both: bool) -> tuple[Any, np.ndarray]:
    """The first query (a stored vector, moved a little) whose search misses a neighbour to
    quantization — and, with ``both``, another to a list it did not probe."""
    fed.setSearchParams({"k": K, "nprobe": NPROBE})
    for i in range(200):
        query = data[i] + 0.3
        widget = fed.searchByVec(query)
        reasons = {m.reason for m in widget.explanation.missed}
        if "quantization" in reasons and (not both or "list_not_probed" in reasons):
            return widget, query
    raise AssertionError("no search with the misses wanted: the fixture index changed?")


def test_codes_are_faiss_adc_distances_and_true_distances(ivf_pq: Any,
                                                          data: np.ndarray) -> None:
    widget, query = _search(FederPy(ivf_pq, "faiss", vectors=data), data, both=False)
    codes = widget.search["codes"]
    assert codes["truth_space"] == "exact" and codes["larger_is_closer"] is False
    ids = _values(codes["ids"]).astype(np.int64)
    code, true = _values(codes["code_distances"]), _values(codes["true_distances"])
    rank, true_rank = _values(codes["rank"]), _values(codes["true_rank"])
    # faiss searched with k = every scanned code returns each scanned code's ADC distance
    scanned = codes["scanned"]
    assert scanned == sum(ivf_pq.invlists.list_size(int(lst)) for lst in
                          ivf_pq.quantizer.search(query[None], NPROBE)[1][0])
    d_all, i_all = ivf_pq.search(query[None], scanned)
    assert (i_all[0] >= 0).all()
    adc = dict(zip(i_all[0].tolist(), d_all[0].tolist(), strict=True))
    np.testing.assert_allclose(code, [adc[i] for i in ids.tolist()], rtol=1e-5, atol=1e-5)
    assert (np.diff(code) >= 0).all()  # closest code first
    # the nearest codes are all there; the rest of the sample is results / true neighbours
    assert set(i_all[0][d_all[0] < d_all[0][CODES_SAMPLE - 1]].tolist()) <= set(ids.tolist())
    assert ids.size <= CODES_SAMPLE + 2 * K
    np.testing.assert_allclose(true, ((data[ids] - query) ** 2).sum(1), rtol=1e-5, atol=1e-4)
    # results and exact ranks: faiss's top-k, and a flat index over the original vectors
    assert ids[rank >= 0][np.argsort(rank[rank >= 0])].tolist() == i_all[0][:K].tolist()
    flat = faiss.IndexFlatL2(DIM)
    flat.add(data)
    d_true, i_true = flat.search(query[None], K)
    where = {i: r + 1 for r, i in enumerate(i_true[0].tolist())}
    assert true_rank.tolist() == [where.get(i, 0) for i in ids.tolist()]
    assert codes["kth_code"] == pytest.approx(float(d_all[0][K - 1]), rel=1e-6)
    assert codes["kth_true"] == pytest.approx(float(d_true[0][K - 1]), rel=1e-5)
    # a quantization miss: a true neighbour whose code is beyond the cut-off
    missed = [m for m in widget.explanation.missed if m.reason == "quantization"]
    for m in missed:
        j = int(np.flatnonzero(ids == m.id)[0])
        assert rank[j] == -1 and true_rank[j] == m.true_rank
        assert true[j] <= codes["kth_true"] + 1e-6 and code[j] > codes["kth_code"]
        assert code[j] == pytest.approx(m.code_distance)
    # the search payload's diagnosis carries the same pairs
    diag = widget.search["diagnosis"]
    np.testing.assert_array_equal(_values(diag["results"]["true_distances"]),
                                  widget.explanation.result_true_distances)


def test_decoded_truth_is_the_reconstruction(ivf_pq: Any, data: np.ndarray) -> None:
    fed = FederPy(ivf_pq, "faiss")
    widget = fed.setSearchParams({"k": K, "nprobe": NPROBE}).searchByVec(data[3] + 0.3)
    codes = widget.search["codes"]
    assert codes["truth_space"] == "decoded"
    assert widget.search["diagnosis"]["truth_space"] == "decoded"
    ids = _values(codes["ids"]).astype(np.int64)
    true = _values(codes["true_distances"])
    index = faiss.clone_index(ivf_pq)
    index.make_direct_map()
    rec = np.stack([index.reconstruct(int(i)) for i in ids])
    np.testing.assert_allclose(true, ((rec - (data[3] + 0.3)) ** 2).sum(1), rtol=1e-5,
                               atol=1e-4)
    # PQ by residual, L2: the code's distance is the reconstruction's (the diagonal)
    np.testing.assert_allclose(_values(codes["code_distances"]), true, rtol=1e-4, atol=1e-3)
    assert not any(m.reason == "quantization" for m in widget.explanation.missed)


def _lossy(name: str, data: np.ndarray) -> tuple[Any, dict[str, Any], dict[str, int]]:
    """``(faiss index, FederPy keywords, search params)`` of a lossy kind."""
    if name == "ivf_sq":
        index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatL2(DIM), DIM, 16,
                                              faiss.ScalarQuantizer.QT_4bit)
    elif name == "flat_pq":
        index = faiss.IndexPQ(DIM, 4, 4, faiss.METRIC_INNER_PRODUCT)
    elif name == "hnsw_sq":
        index = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_4bit, 8)
    elif name == "pretransform":
        index = faiss.index_factory(DIM, "PCA12,IVF16,PQ4x4")
    else:  # an IDMap over IVF_PQ with its own ids
        index = faiss.IndexIDMap(faiss.IndexIVFPQ(faiss.IndexFlatL2(DIM), DIM, 16, 4, 4))
    index.train(data)
    kwargs: dict[str, Any] = {"vectors": data}
    if name == "idmap":
        ids = np.arange(data.shape[0], dtype=np.int64) * 3 + 7
        index.add_with_ids(data, ids)
        kwargs["vector_ids"] = ids
    else:
        index.add(data)
    params = {"k": K} | ({"ef_search": 16} if name == "hnsw_sq" else
                         {} if name == "flat_pq" else {"nprobe": NPROBE})
    return index, kwargs, params


@pytest.mark.parametrize("name", ["ivf_sq", "flat_pq", "hnsw_sq", "pretransform", "idmap"])
def test_every_lossy_kind_gets_codes(name: str, data: np.ndarray) -> None:
    index, kwargs, params = _lossy(name, data[:1500])
    fed = FederPy(index, "faiss", **kwargs).setSearchParams(params)
    for q in range(6):
        widget = fed.searchByVec(data[q] + 0.3)
        if widget.explanation.missed:
            break
    e, codes = widget.explanation, widget.search["codes"]
    assert codes["truth_space"] == "exact"
    assert codes["larger_is_closer"] is (name == "flat_pq")
    ids = _values(codes["ids"]).astype(np.int64)
    rank = _values(codes["rank"])
    at = {i: j for j, i in enumerate(ids.tolist())}
    returned = [i for i in widget.trace.ids.tolist() if i >= 0]
    pos = [at[i] for i in returned]
    assert rank[pos].tolist() == list(range(len(returned)))
    np.testing.assert_allclose(_values(codes["code_distances"])[pos],
                               widget.trace.distances[: len(returned)], rtol=1e-6)
    np.testing.assert_allclose(_values(codes["true_distances"])[pos],
                               e.result_true_distances[: len(returned)], rtol=1e-5, atol=1e-5)
    for m in e.missed:
        if m.code_distance is not None:  # scanned: on the chart
            j = at[m.id]
            assert rank[j] == -1 and _values(codes["true_rank"])[j] == m.true_rank
            assert _values(codes["true_distances"])[j] == pytest.approx(m.distance, rel=1e-5)
    views = [v["id"] for v in widget.view_params["views"]]
    assert "codes" in views


def test_raw_vectors_have_no_codes(data: np.ndarray) -> None:
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(DIM), DIM, 16)
    index.train(data[:1000])
    index.add(data[:1000])
    widget = FederPy(index, "faiss").setSearchParams({"k": K, "nprobe": 2}).searchById(4)
    assert widget.explanation is not None and "codes" not in widget.search
    off = FederPy(faiss.clone_index(index), "faiss", diagnose=False)
    assert "codes" not in off.setSearchParams({"k": K, "nprobe": 2}).searchById(4).search


# ------------------------------------------------------------------------------ browser

def _fmt(value: float | None) -> str:
    """A distance as the front end writes it (js/src/format.js ``fmtDist``, 0.001 … 1e5)."""
    assert value is not None
    a = abs(value)
    return f"{value:.1f}" if a >= 100 else f"{value:.2f}" if a >= 10 else f"{value:.3f}"


def _debug(page: Any, i: int, name: str, *args: Any) -> Any:
    return page.evaluate(
        "([i, name, args]) => document.querySelectorAll('.feder-root')[i].federDebug[name]"
        "(...args)", [i, name, list(args)])


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium")
def test_codes_view_in_the_browser(ivf_pq: Any, data: np.ndarray, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    exact, _ = _search(FederPy(ivf_pq, "faiss", vectors=data), data, both=True)
    decoded = FederPy(ivf_pq, "faiss").setSearchParams({"k": K, "nprobe": NPROBE}) \
        .searchByVec(data[3] + 0.3)
    plain = faiss.IndexIVFFlat(faiss.IndexFlatL2(DIM), DIM, 16)
    plain.train(data[:1000])
    plain.add(data[:1000])
    flat = FederPy(plain, "faiss").setSearchParams({"k": K, "nprobe": 2}).searchById(4)
    others = []  # inner products (axes reversed) on a flat PQ scan; HNSW over SQ codes
    for name in ("flat_pq", "hnsw_sq"):
        index, kwargs, params = _lossy(name, data[:1500])
        others.append(FederPy(index, "faiss", **kwargs).setSearchParams(params)
                      .searchByVec(data[1] + 0.3))
    fed = FederPy(ivf_pq, "faiss")
    path = fed.export_html(tmp_path / "codes.html", [exact, decoded, flat, *others],
                           include_overview=False)
    e = exact.explanation
    quantized = [m for m in e.missed if m.reason == "quantization"]
    unprobed = Counter(m.list for m in e.missed if m.reason == "list_not_probed")
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context, page, log = open_report(browser, path)
        views = paint_every_view(page, 0, "codes-ivf-pq")
        assert "codes" in views
        root = page.locator(".feder-root").nth(0)
        root.locator(".feder-tab[data-view='codes']").click()
        _debug(page, 0, "draw")
        targets = _debug(page, 0, "targets", 10_000)
        (cut,) = [t for t in targets if t["kind"] == "kth_code"]
        (kth,) = [t for t in targets if t["kind"] == "kth_true"]
        missed = {int(t["id"]): t for t in targets if t["kind"] == "missed"}
        assert set(missed) == {m.id for m in quantized}
        for t in missed.values():  # left of the k-th exact distance, above the cut-off
            assert t["x"] <= kth["x"] + 0.5 and t["y"] < cut["y"], t
        results = [t for t in targets if t["kind"] == "result"]
        assert len(results) == K and all(t["y"] >= cut["y"] - 0.5 for t in results)
        panel = root.locator(".feder-panel").text_content()
        assert "true " in panel and "code " in panel and "decoded" not in panel
        save_screenshot(page, "codes-exact", ".feder-root >> nth=0")
        # the coarse view labels only the lists it did not probe
        root.locator(".feder-tab[data-view='coarse']").click()
        _debug(page, 0, "draw")
        labels = [b["text"] for b in _debug(page, 0, "labels")]
        counted = {int(a): int(b) for a, b in (re.match(r"list (\d+): (\d+) missed", t).groups()
                                               for t in labels if " missed · " in t)}
        assert counted and all(unprobed[lst] == n for lst, n in counted.items()), labels
        assert not {m.list for m in quantized} - set(unprobed) & set(counted)
        # the panel says the quantization misses' code and true distances
        panel = root.locator(".feder-panel").text_content()
        for m in quantized:
            assert f"true {_fmt(m.distance)} · code {_fmt(m.code_distance)}" in panel
        # without vectors= the view and the diagnosis say the truth is decoded
        droot = page.locator(".feder-root").nth(1)
        assert "Truth: decoded codes" in droot.locator(".feder-panel").text_content()
        droot.locator(".feder-tab[data-view='codes']").click()
        _debug(page, 1, "draw")
        note = droot.locator(".feder-codes-decoded")
        assert note.count() == 1 and "pass vectors= to FederPy" in note.text_content()
        save_screenshot(page, "codes-decoded", ".feder-root >> nth=1")
        # raw vectors: no Codes tab
        assert page.locator(".feder-root").nth(2).locator(
            ".feder-tab[data-view='codes']").count() == 0
        for i, name in ((3, "flat-pq-ip"), (4, "hnsw-sq")):
            assert "codes" in paint_every_view(page, i, f"codes-{name}")
            page.locator(".feder-root").nth(i).locator(".feder-tab[data-view='codes']").click()
            _debug(page, i, "draw")
            targets = _debug(page, i, "targets", 10_000)
            (cut,) = [t for t in targets if t["kind"] == "kth_code"]
            (kth,) = [t for t in targets if t["kind"] == "kth_true"]
            shown = [t for t in targets if t["kind"] in ("result", "missed")]
            assert sum(t["kind"] == "result" for t in shown) == K
            for t in shown:  # closer is left and down, whatever the metric
                assert (t["y"] >= cut["y"] - 0.5) == (t["kind"] == "result"), (name, t)
                if t["kind"] == "missed":
                    assert t["x"] <= kth["x"] + 0.5, (name, t)
        assert log.page_errors == [] and log.external == [] and log.console_errors == []
        context.close()
        browser.close()


def test_search_by_id_queries_with_the_original_vector(ivf_pq: Any, data: np.ndarray) -> None:
    """With ``vectors=`` a search by id starts from the vector the user added, not from its
    decoded code (which is what the index alone can give)."""
    fed = FederPy(ivf_pq, "faiss", vectors=data)
    decoded = ivf_pq.reconstruct_n(0, ivf_pq.ntotal) if ivf_pq.direct_map.type else None
    for ident in (0, 17, 2999):
        trace = fed.searchById(ident).trace
        assert trace is not None
        np.testing.assert_array_equal(trace.query, data[ident])
        assert decoded is None or not np.array_equal(trace.query, decoded[ident])
    plain = FederPy(ivf_pq, "faiss").searchById(17).trace
    assert plain is not None and not np.array_equal(plain.query, data[17])  # its decoded code

    ids = np.arange(3000, dtype=np.int64) * 7 + 1000  # an IDMap: user ids, rows in add order
    mapped = faiss.IndexIDMap(faiss.IndexIVFPQ(faiss.IndexFlatL2(DIM), DIM, 32, 4, 4))
    mapped.train(data)
    mapped.add_with_ids(data, ids)
    shuffled = np.random.default_rng(2).permutation(3000)
    for given, given_ids in ((data, None), (data[shuffled], ids[shuffled])):
        fed = FederPy(mapped, "faiss", vectors=given, vector_ids=given_ids)
        trace = fed.searchById(int(ids[40])).trace
        assert trace is not None
        np.testing.assert_array_equal(trace.query, data[40])
