"""Diagnostics in the widget: the search payload's diagnosis agrees with ``feder.explain``,
the nprobe / ef control re-runs the search in the kernel, reports carry precomputed steps,
``FederPy.sweep`` / ``health`` / ``compare`` build their views from the library-checked
diagnostics; and in Debian chromium, from ``file://``: the recall badge, missed neighbours in
place and in the strip, the control stepping, a sweep point opening its search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import hnswlib
import numpy as np
import pytest

import feder
from feder import FederPy
from feder.layouts.polar import radial_scale

from browser_util import (  # isort: skip
    RequestLog,
    canvas_ink,
    chromium_available,
    click_at,
    launch_chromium,
    move_to,
    save_screenshot,
)

DIM = 16


def _values(payload: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(payload["data"], dtype=payload["dtype"]).reshape(payload["shape"])


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.random.default_rng(3).standard_normal((3000, DIM)).astype("f4")


@pytest.fixture(scope="module")
def ivf(data: np.ndarray) -> Any:
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(DIM), DIM, 64)
    index.cp.seed = 2
    index.train(data)
    index.add(data)
    return index


@pytest.fixture(scope="module")
def hnsw(data: np.ndarray) -> Any:
    index = hnswlib.Index("l2", DIM)
    index.init_index(len(data), M=4, ef_construction=12, random_seed=1)
    index.add_items(data, num_threads=1)
    return index


def test_search_payload_diagnosis_agrees_with_explain(ivf: Any, data: np.ndarray) -> None:
    fed = FederPy(ivf, "faiss")
    query = data[10] + 0.6
    widget = fed.setSearchParams({"k": 10, "nprobe": 2}).searchByVec(query)
    want = feder.explain(feder.load_index(ivf), query, k=10, nprobe=2)
    got = widget.explanation
    assert got is not None and got.recall == want.recall < 1
    np.testing.assert_array_equal(got.truth_ids, want.truth_ids)
    diag = widget.search["diagnosis"]
    missed = diag["missed"]
    assert diag["recall"] == want.recall and diag["found"] == int(want.found.sum())
    assert _values(missed["ids"]).astype(int).tolist() == [m.id for m in want.missed]
    reasons = [diag["reasons"][c] for c in _values(missed["reason"])]
    assert reasons == [m.reason for m in want.missed]
    assert (_values(missed["list_rank"]) > 2).all()
    # drawn at their true distance on the polar view's own scale
    fine = widget.trace.fine
    dist = np.concatenate([fine.candidate_distances, _values(missed["distances"])])
    scale = radial_scale(dist, 0.0, squared_l2=True, larger_is_closer=False)
    radius = np.hypot(*_values(missed["xy"]).T)
    np.testing.assert_allclose(radius, scale.radius(_values(missed["distances"])), atol=1e-5)
    # ... and in the −1 "missed" sector
    assert -1 in _values(widget.search["fine"]["sectors"]["lists"]).tolist()


def test_hnsw_diagnosis_places_the_missed_nodes(hnsw: Any, data: np.ndarray) -> None:
    fed = FederPy(hnsw, "hnswlib")
    widget = fed.setSearchParams({"k": 10, "ef": 10}).searchByVec(data[7] + 0.7)
    e = widget.explanation
    assert e is not None and e.missed
    missed = widget.search["diagnosis"]["missed"]
    assert _values(missed["xy"]).shape == (len(e.missed), 2)
    assert {m.reason for m in e.missed} <= {"not_reached", "unreachable", "tie"}


def test_the_control_reruns_the_search_in_the_kernel(ivf: Any) -> None:
    fed = FederPy(ivf, "faiss")
    widget = fed.setSearchParams({"k": 5, "nprobe": 1}).searchById(20)
    control = widget.search["control"]
    assert control["name"] == "nprobe" and control["value"] == 1 and 64 in control["values"]
    sent: list[Any] = []
    widget.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    widget._on_message(widget, {"type": "search", "params": {"nprobe": 16}}, [])
    assert widget.trace is not None and widget.trace.params["nprobe"] == 16
    assert widget.search["control"]["value"] == 16 and widget.search["params"]["nprobe"] == 16
    assert widget.explanation is not None
    assert widget.explanation.recall == feder.explain(
        feder.load_index(ivf), feder.load_index(ivf).vector(20), k=5, nprobe=16).recall
    for bad in ({"nprobe": 0}, {"nprobe": "x"}, {"bogus": 1}, "nprobe"):
        widget._on_message(widget, {"type": "search", "params": bad}, [])
    assert len(sent) == 4 and all(m["type"] == "search-error" for m in sent)
    assert widget.trace.params["nprobe"] == 16  # unchanged by bad requests


def test_reports_carry_precomputed_steps(ivf: Any) -> None:
    fed = FederPy(ivf, "faiss")
    state = fed.setSearchParams({"k": 5, "nprobe": 4}).searchById(20).export_state()
    steps = state["steps"]
    assert steps["name"] == "nprobe" and 4 in steps["values"] and len(steps["values"]) <= 12
    for value, search in zip(steps["values"], steps["searches"], strict=True):
        assert search["params"]["nprobe"] == value
        assert 0 <= search["diagnosis"]["recall"] <= 1


def test_report_steps_stay_within_their_byte_budget(ivf: Any) -> None:
    from feder.widget import REPORT_STEP_BYTES, payload_nbytes

    widget = FederPy(ivf, "faiss").setSearchParams({"k": 5, "nprobe": 8}).searchById(20)
    runner, control = widget._runner, widget.search["control"]
    full = runner.steps(control)
    sizes = [payload_nbytes(s) for s in full["searches"]]
    assert sum(sizes) <= REPORT_STEP_BYTES and sizes == sorted(sizes)  # more probes, more bytes
    budget = sum(sizes[:3]) + sizes[full["values"].index(8)]
    cut = runner.steps(control, budget=budget)
    assert 8 in cut["values"] and cut["values"] == sorted(cut["values"])
    assert len(cut["values"]) < len(full["values"])
    assert sum(payload_nbytes(s) for s in cut["searches"]) <= budget
    assert cut["values"][:3] == full["values"][:3]  # the cheapest values are the ones kept
    alone = runner.steps(control, budget=0)
    assert alone["values"] == [8] and alone["searches"][0]["params"]["nprobe"] == 8


def test_sweep_health_and_compare_views(ivf: Any, hnsw: Any, data: np.ndarray) -> None:
    fed = FederPy(ivf, "faiss")
    queries = data[:30] + 0.4
    widget = fed.sweep(queries, values=[1, 4, 16])
    sw = widget.diagnostics["sweep"]
    want = feder.sweep(feder.load_index(ivf), queries, k=5, nprobe=[1, 4, 16])
    np.testing.assert_allclose(_values(sw["recall"]), want.recall)
    worst = _values(sw["worst"])
    for i, search in enumerate(sw["searches"]):
        assert search["diagnosis"]["recall"] == pytest.approx(want.per_query[i, worst[i]])
        assert search["params"]["nprobe"] == [1, 4, 16][i]
    assert widget.view == "sweep"
    health = fed.health().diagnostics["health"]
    assert health["imbalance_factor"] == pytest.approx(ivf.invlists.imbalance_factor(), rel=1e-6)
    hhealth = FederPy(hnsw, "hnswlib").health().diagnostics["health"]
    assert hhealth["family"] == "graph" and len(hhealth["levels"]) >= 2
    a = fed.setSearchParams({"k": 5, "nprobe": 1}).searchById(5)
    b = fed.setSearchParams({"k": 5, "nprobe": 32}).searchById(5)
    cmp = fed.compare(a, b).diagnostics["compare"]
    assert cmp["titles"] == ["nprobe 1", "nprobe 32"]
    with pytest.raises(feder.ParameterError, match="two search widgets"):
        fed.compare(fed.overview(), b)


# ------------------------------------------------------------------------------ browser

@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, ivf: Any, hnsw: Any,
           data: np.ndarray) -> tuple[Path, dict[str, Any]]:
    from feder.export import write_html

    fed = FederPy(ivf, "faiss")
    search = fed.setSearchParams({"k": 10, "nprobe": 2}).searchByVec(data[10] + 0.6)
    sweep = fed.sweep(data[:30] + 0.4, values=[1, 2, 4, 8, 16, 64])
    hsearch = FederPy(hnsw, "hnswlib").setSearchParams({"k": 10, "ef": 10}).searchByVec(
        data[7] + 0.7)
    widgets = {"search": search, "sweep": sweep, "health": fed.health(), "hsearch": hsearch,
               "compare": fed.compare(search, fed.setSearchParams(
                   {"k": 10, "nprobe": 16}).searchByVec(data[10] + 0.6))}
    path = write_html(tmp_path_factory.mktemp("diag") / "diag.html",
                      [w.export_state() for w in widgets.values()])
    return path, widgets


def _root(page: Any, i: int) -> Any:
    return page.locator(".feder-root").nth(i)


def _debug(page: Any, i: int, name: str, *args: Any) -> Any:
    return page.evaluate(
        "([i, name, args]) => document.querySelectorAll('.feder-root')[i].federDebug[name]"
        "(...args)", [i, name, list(args)])


@pytest.mark.parametrize("_", [0], ids=["chromium"])
@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium")
def test_diagnostics_in_the_browser(report: tuple[Path, dict[str, Any]], _: int) -> None:
    from playwright.sync_api import sync_playwright

    path, widgets = report
    explanation = widgets["search"].explanation
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log = RequestLog.attach(page)
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-feder-ready='1']", timeout=15_000)
        # the recall badge and the missed neighbours, in the views and the strip
        root = _root(page, 0)
        assert root.locator(".feder-recall").text_content() == \
            f"recall@10 {explanation.recall:.2f}"
        root.locator(".feder-tab[data-view='fine']").click()
        _debug(page, 0, "draw")
        misses = [t for t in _debug(page, 0, "targets", 10_000) if t["kind"] == "miss"]
        assert sorted(int(t["id"]) for t in misses) == sorted(m.id for m in explanation.missed)
        move_to(page, root.locator("canvas.feder-canvas"), misses[0]["x"], misses[0]["y"])
        tooltip = root.locator(".feder-tooltip")
        tooltip.wait_for(state="visible")
        assert "missed" in tooltip.text_content() and "nprobe ≥" in tooltip.text_content()
        assert root.locator(".feder-strip .feder-card-missed").count() == len(explanation.missed)
        save_screenshot(page, "diagnostics-fine", ".feder-root >> nth=0")
        root.locator(".feder-tab[data-view='coarse']").click()
        labels = [b["text"] for b in _debug(page, 0, "labels")]
        assert any("missed" in t and "nprobe ≥" in t for t in labels)
        # the control steps through the report's precomputed searches
        steps = widgets["search"].export_state()["steps"]
        slider = root.locator(".feder-param-slider")
        last = len(steps["values"]) - 1
        slider.evaluate("(s, v) => { s.value = String(v);"
                        " s.dispatchEvent(new Event('change')); }", last)
        want = steps["searches"][last]["diagnosis"]["recall"]
        page.wait_for_function(
            "(t) => document.querySelector('.feder-root .feder-recall').textContent === t",
            arg=f"recall@10 {want:.2f}", timeout=5_000)
        assert root.locator(".feder-param-value").text_content() == str(steps["values"][last])
        assert root.get_attribute("data-feder-view") == "coarse"  # the view stays
        # a sweep point opens the search of its worst query
        sroot = _root(page, 1)
        _debug(page, 1, "draw")
        points = _debug(page, 1, "targets", 20)
        assert len(points) == 6
        click_at(page, sroot.locator("canvas.feder-canvas"), points[0]["x"], points[0]["y"])
        page.wait_for_function("() => document.querySelectorAll('.feder-root')[1]"
                               ".dataset.federView === 'coarse'", timeout=5_000)
        sw = widgets["sweep"].diagnostics["sweep"]
        worst = sw["searches"][0]["diagnosis"]["recall"]
        assert sroot.locator(".feder-recall").text_content() == f"recall@{sw['k']} {worst:.2f}"
        # health, the HNSW search with its misses, compare: all drawn
        for i, view in ((2, "health"), (3, "search"), (4, "compare")):
            _debug(page, i, "draw")
            assert _root(page, i).get_attribute("data-feder-view") == view
            assert canvas_ink(page, index=i) > 0.01, view
            save_screenshot(page, f"diagnostics-{view}", f".feder-root >> nth={i}")
        hmiss = [t for t in _debug(page, 3, "targets", 10_000) if t["kind"] == "miss"]
        assert len(hmiss) == len(widgets["hsearch"].explanation.missed) > 0
        assert log.page_errors == [] and log.external == []
        browser.close()
