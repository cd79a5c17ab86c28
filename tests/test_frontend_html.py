"""The front end in a real browser: a standalone report (``feder.export``) built from real
faiss / hnswlib indexes and local PNG thumbnails, opened from ``file://`` in Debian chromium.

One browser and one page for the module; tests share the page and each puts the views it
needs in the state it needs. Screenshots go to ``test-artifacts/frontend-*.png``.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feder
from feder import serialize
from feder.export import STATE_KEYS, render_html, write_html
from feder.layouts.cluster_map import cluster_map, nearest_members, query_position
from feder.layouts.hnsw_graph import layered_overview, search_geometry
from feder.layouts.polar import polar_layout, radial_scale
from feder.layouts.projection import project

from browser_util import (  # isort: skip
    canvas_ink,
    canvas_signature,
    chromium_available,
    click_at,
    is_local,
    launch_chromium,
    open_report,
    move_to,
    pixel_difference,
    save_screenshot,
)

XSS = "<img src=x onerror=alert(1)>"
WIDTH, HEIGHT = 1000, 560
QUERY_ID = 7

# The report's states, in page order.
IVF_OVERVIEW, IVF_SEARCH, HNSW_OVERVIEW, HNSW_SEARCH, TEXT_SEARCH = range(5)


# --------------------------------------------------------------------------- building data

def _clustered(n: int, dim: int, seed: int, centers: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centers, dim)).astype(np.float32) * 3
    noise = rng.standard_normal((n, dim)).astype(np.float32)
    return (middle[rng.integers(0, centers, n)] + noise).astype(np.float32)


def _pngs(folder: Path, count: int = 6) -> list[Path]:
    """A few distinct local PNG files (coloured discs with a number)."""
    from PIL import Image, ImageDraw

    paths = []
    for i in range(count):
        img = Image.new("RGB", (64, 64), (30 + 40 * i, 120, 200 - 30 * i))
        draw = ImageDraw.Draw(img)
        draw.ellipse((10, 10, 54, 54), fill=(250, 220 - 25 * i, 60 + 30 * i))
        draw.text((28, 26), str(i), fill=(0, 0, 0))
        path = folder / f"thumb_{i}.png"
        img.save(path, format="PNG")
        paths.append(path)
    return paths


def _values(payload: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(payload["data"], dtype=payload["dtype"]).reshape(payload["shape"])


def _image_media(ids: Collection[int], files: list[Path], skip: Collection[int] = (),
                 special: Collection[int] = ()) -> dict[str, Any]:
    """Image items with bytes for ``ids`` (``skip`` ids left out: the widget must ask for
    them); of the ``special`` ids one has a hostile file name, one is a data: URL and one is
    missing."""
    data = [path.read_bytes() for path in files]
    items: dict[str, Any] = {}
    for i in sorted(ids):
        if i < 0 or i in skip:
            continue
        items[str(i)] = {"kind": "image", "mime": "image/png", "data": memoryview(data[i % 6]),
                         "name": files[i % len(files)].name}
    odd = [str(i) for i in special if str(i) in items][:3]
    if len(odd) == 3:
        items[odd[0]]["name"] = f"{XSS}.png"
        items[odd[1]] = {"kind": "url",
                         "url": "data:image/png;base64," + base64.b64encode(data[0]).decode()}
        items[odd[2]] = {"kind": "missing", "reason": f"no file {XSS}"}
    return {"media_type": "img", "items": items}


def _params(title: str, theme: str = "light") -> dict[str, Any]:
    return {"width": WIDTH, "height": HEIGHT, "theme": theme, "title": title}


def _state(overview: dict[str, Any], search: dict[str, Any], media: dict[str, Any], view: str,
           params: dict[str, Any]) -> dict[str, Any]:
    return {"overview": overview, "search": search, "media": media, "view": view,
            "view_params": params, "selected_ids": [], "selected_list": -1}


def build_states(folder: Path) -> list[dict[str, Any]]:
    import faiss
    import hnswlib

    files = _pngs(folder)
    box_w, box_h = WIDTH - 260, HEIGHT - 40
    target = {"id": QUERY_ID, "media": {"kind": "image", "mime": "image/png",
                                        "data": memoryview(files[0].read_bytes())}}

    # IVF_FLAT
    dim = 16
    xb = _clustered(1500, dim, seed=1)
    quantizer = faiss.IndexFlatL2(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, 24)
    ivf.cp.seed = 0
    ivf.train(xb)
    ivf.add(xb)
    idx = feder.load_index(faiss.serialize_index(ivf))
    cmap = cluster_map(idx.centroids, idx.list_sizes, box_w, box_h)
    members = [nearest_members(idx.list_vectors(lst), idx.list_ids(lst), idx.centroids[lst], 8,
                               idx.metric) for lst in range(idx.nlist)]
    overview = serialize.ivf_overview(idx, cmap, members)
    overview["facts"]["source"] = f"{XSS}.index"  # a hostile file name in the panel
    trace = idx.search_by_id(QUERY_ID, k=6, nprobe=4)
    assert trace.coarse is not None and trace.fine is not None
    qxy = query_position(cmap, trace.coarse.probed_lists, trace.coarse.probed_distances,
                         idx.metric)
    scale = radial_scale(trace.fine.candidate_distances,
                         float(trace.query @ trace.query) if idx.metric == "ip" else 0.0,
                         squared_l2=idx.metric == "l2", larger_is_closer=idx.metric == "ip")
    polar = polar_layout(trace.fine.candidate_lists, trace.fine.candidate_distances,
                         trace.coarse.probed_lists, scale)
    proj = project(idx.vectors[trace.fine.candidate_rows], trace.query, "pca")
    search = serialize.ivf_search(idx, trace, qxy, polar, proj, "pca", target)
    member_ids = set(_values(overview["members"]["ids"]).astype(int).tolist())
    cand_ids = _values(search["fine"]["ids"]).astype(int)
    result_ids = set(_values(search["results"]["ids"]).astype(int).tolist())
    # Candidates far from the query have no embedded media: the widget asks for them.
    order = np.argsort(_values(search["fine"]["distances"]))
    far = {int(i) for i in cand_ids[order[-20:]]} - result_ids
    middle = [int(i) for i in cand_ids[order[len(order) // 2:]]]
    ivf_media = _image_media(member_ids | set(cand_ids.tolist()), files, skip=far,
                             special=middle)

    # HNSW
    hx = _clustered(1200, dim, seed=2)
    hindex = hnswlib.Index(space="l2", dim=dim)
    hindex.init_index(max_elements=1200, M=8, ef_construction=60, random_seed=1)
    hindex.add_items(hx, num_threads=1)
    hidx = feder.load_index(hindex)
    hoverview = serialize.hnsw_overview(hidx, layered_overview(hidx, 4))
    htrace = hidx.search_by_id(QUERY_ID, k=6, ef=40)
    hsearch = serialize.hnsw_search(hidx, htrace, search_geometry(hidx, htrace), target)
    hids = set(_values(hoverview["nodes"]["ids"]).astype(int).tolist())
    hids |= set(_values(hsearch["nodes"]["ids"]).astype(int).tolist())
    far_nodes = _values(hsearch["nodes"]["ids"])[np.argsort(_values(hsearch["nodes"]["distances"]))]
    hnsw_media = _image_media(hids, files, special=[int(i) for i in far_nodes[-10:]])

    # Text media: every candidate's "document" is hostile markup that must stay text.
    text_media = {"media_type": "text", "items": {
        str(i): {"kind": "text", "text": f"doc {i}: {XSS}<script>alert(2)</script>"}
        for i in member_ids | set(cand_ids.tolist())}}
    return [
        _state(overview, {}, ivf_media, "overview", _params(f"IVF overview {XSS}")),
        _state(overview, search, ivf_media, "coarse", _params("IVF search")),
        _state(hoverview, {}, hnsw_media, "overview", _params("HNSW overview", "auto")),
        _state(hoverview, hsearch, hnsw_media, "search", _params("HNSW search", "auto")),
        _state(overview, search, text_media, "fine", _params("IVF search, text media", "dark")),
    ]


# ------------------------------------------------------------------------------- fixtures

pytestmark = pytest.mark.skipif(not chromium_available(),
                                reason="needs playwright and /usr/bin/chromium")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("frontend")
    states = build_states(folder)
    return write_html(folder / "report.html", states, title=f"feder {XSS} report")


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def session(browser: Any, report: Path) -> Any:
    context, page, log = open_report(browser, report)
    yield page, log
    context.close()


def _root(page: Any, i: int) -> Any:
    return page.locator(".feder-root").nth(i)


def _canvas(page: Any, i: int) -> Any:
    return _root(page, i).locator("canvas.feder-canvas")


def _show(page: Any, i: int, view: str) -> None:
    """Click a tab and draw synchronously."""
    _root(page, i).locator(f".feder-tab[data-view='{view}']").click()
    page.evaluate("(i) => document.querySelectorAll('.feder-root')[i].federDebug.draw()", i)


def _targets(page: Any, i: int, limit: int = 40) -> list[dict[str, Any]]:
    return list(page.evaluate(
        "([i, n]) => document.querySelectorAll('.feder-root')[i].federDebug.targets(n)",
        [i, limit]))


def _model(page: Any, i: int, name: str) -> Any:
    return page.evaluate("([i, n]) => window.__federModels[i].get(n)", [i, name])


def _tooltip_image_loaded(page: Any, i: int) -> None:
    page.wait_for_function(
        """(i) => {
          const tt = document.querySelectorAll('.feder-root')[i].querySelector('.feder-tooltip');
          const img = tt && !tt.hidden && tt.querySelector('img');
          return !!img && img.complete && img.naturalWidth > 0;
        }""", arg=i, timeout=5_000)


# ---------------------------------------------------------------------------------- tests

@pytest.mark.browser
def test_report_renders_offline_without_errors(session: Any) -> None:
    page, log = session
    assert page.locator(".feder-root").count() == 5
    assert page.locator(".feder-error").count() == 0
    assert log.page_errors == [] and log.console_errors == []
    assert log.external == []
    assert all(is_local(url) for url in log.requests)
    headings = page.locator(".feder-report-item > h2").all_text_contents()
    assert headings[0] == f"IVF overview {XSS}"
    assert page.locator("h1").text_content() == f"feder {XSS} report"


@pytest.mark.browser
def test_every_view_paints(session: Any) -> None:
    page, _ = session
    views = [(IVF_OVERVIEW, "overview"), (IVF_SEARCH, "coarse"), (IVF_SEARCH, "fine"),
             (IVF_SEARCH, "projection"), (HNSW_OVERVIEW, "overview"), (HNSW_SEARCH, "search"),
             (TEXT_SEARCH, "fine")]
    ink = {}
    for i, view in views:
        _show(page, i, view)
        ink[(i, view)] = canvas_ink(page, index=i)
        save_screenshot(page, f"frontend-{i}-{view}", f".feder-root >> nth={i}")
    blank = {key: value for key, value in ink.items() if value < 0.02}
    assert not blank, f"views without drawing: {blank}"
    # HiDPI-independent sanity: the canvas backing store matches its CSS size at dpr 1.
    size = page.evaluate("() => { const c = document.querySelector('canvas.feder-canvas');"
                         " return [c.width, c.height, c.clientWidth, c.clientHeight]; }")
    assert size[:2] == size[2:] == [WIDTH - 2 - 260, HEIGHT - 40]  # widget border 2 px


@pytest.mark.browser
def test_switching_tabs_changes_the_drawing_and_the_model(session: Any) -> None:
    page, _ = session
    _show(page, IVF_SEARCH, "coarse")
    coarse = canvas_signature(page, index=IVF_SEARCH)
    _show(page, IVF_SEARCH, "fine")
    fine = canvas_signature(page, index=IVF_SEARCH)
    assert pixel_difference(coarse, fine) > 0.2
    assert _model(page, IVF_SEARCH, "view") == "fine"
    assert _root(page, IVF_SEARCH).get_attribute("data-feder-view") == "fine"
    _show(page, HNSW_SEARCH, "overview")
    overview = canvas_signature(page, index=HNSW_SEARCH)
    _show(page, HNSW_SEARCH, "search")
    assert pixel_difference(overview, canvas_signature(page, index=HNSW_SEARCH)) > 0.2
    # The IVF overview state has no search: its search tabs are disabled.
    assert _root(page, IVF_OVERVIEW).locator(".feder-tab[data-view='fine']").is_disabled()


@pytest.mark.browser
def test_python_side_changes_rerender(session: Any) -> None:
    page, _ = session
    _show(page, IVF_SEARCH, "fine")
    before = canvas_signature(page, index=IVF_SEARCH)
    page.evaluate("() => window.__federModels[1].set('view', 'projection')")
    page.evaluate("() => document.querySelectorAll('.feder-root')[1].federDebug.draw()")
    assert _root(page, IVF_SEARCH).get_attribute("data-feder-view") == "projection"
    active = _root(page, IVF_SEARCH).locator(".feder-tab.feder-active")
    assert active.get_attribute("data-view") == "projection"
    # Both drawings are mostly background: a few percent of changed pixels is a new picture.
    assert pixel_difference(before, canvas_signature(page, index=IVF_SEARCH)) > 0.05
    # Theme switch from Python: the canvas background follows.
    light = canvas_signature(page, index=IVF_SEARCH)
    page.evaluate("""() => { const m = window.__federModels[1];
        m.set('view_params', Object.assign({}, m.get('view_params'), {theme: 'dark'})); }""")
    page.evaluate("() => document.querySelectorAll('.feder-root')[1].federDebug.draw()")
    assert _root(page, IVF_SEARCH).get_attribute("data-feder-theme") == "dark"
    assert pixel_difference(light, canvas_signature(page, index=IVF_SEARCH)) > 0.5
    save_screenshot(page, "frontend-projection-dark", ".feder-root >> nth=1")
    page.evaluate("""() => { const m = window.__federModels[1];
        m.set('view_params', Object.assign({}, m.get('view_params'), {theme: 'light'})); }""")


@pytest.mark.browser
def test_auto_theme_follows_the_os_and_jupyterlab(session: Any) -> None:
    page, _ = session
    root = _root(page, HNSW_OVERVIEW)
    assert root.get_attribute("data-feder-theme") == "light"
    try:
        page.emulate_media(color_scheme="dark")
        page.wait_for_function("() => document.querySelectorAll('.feder-root')[2]"
                               ".dataset.federTheme === 'dark'", timeout=3_000)
        assert _root(page, IVF_OVERVIEW).get_attribute("data-feder-theme") == "light"  # explicit
        page.evaluate("() => document.querySelectorAll('.feder-root')[2].federDebug.draw()")
        save_screenshot(page, "frontend-hnsw-overview-dark", ".feder-root >> nth=2")
        # Inside JupyterLab its body attribute wins over the OS preference.
        page.evaluate("() => document.body.setAttribute('data-jp-theme-light', 'true')")
        page.wait_for_function("() => document.querySelectorAll('.feder-root')[2]"
                               ".dataset.federTheme === 'light'", timeout=3_000)
        assert root.get_attribute("data-feder-jp") == "1"
    finally:
        page.evaluate("() => document.body.removeAttribute('data-jp-theme-light')")
        page.emulate_media(color_scheme="light")
    page.wait_for_function("() => document.querySelectorAll('.feder-root')[2]"
                           ".dataset.federTheme === 'light'", timeout=3_000)
    assert root.get_attribute("data-feder-jp") is None


@pytest.mark.browser
@pytest.mark.parametrize(("i", "view"), [(IVF_SEARCH, "fine"), (IVF_SEARCH, "projection"),
                                         (HNSW_OVERVIEW, "overview"), (HNSW_SEARCH, "search"),
                                         (IVF_OVERVIEW, "overview")])
def test_hover_shows_a_tooltip_with_the_image(session: Any, i: int, view: str) -> None:
    page, _ = session
    _show(page, i, view)
    items = _model(page, i, "media")["items"]
    target = next(t for t in _targets(page, i)
                  if "id" not in t or items.get(str(int(t["id"])), {}).get("kind") == "image")
    move_to(page, _canvas(page, i), target["x"], target["y"])
    _tooltip_image_loaded(page, i)
    tooltip = _root(page, i).locator(".feder-tooltip")
    if "id" in target:
        assert f"id {int(target['id'])}" in tooltip.text_content()
    else:
        assert f"List {target['list']}" in tooltip.text_content()
    save_screenshot(page, f"frontend-hover-{i}-{view}", f".feder-root >> nth={i}")
    page.mouse.move(1, 1)


@pytest.mark.browser
def test_clicks_set_the_selection(session: Any) -> None:
    page, _ = session
    # IVF overview: a cell selects its list and the members shown.
    _show(page, IVF_OVERVIEW, "overview")
    cell = _targets(page, IVF_OVERVIEW)[0]
    click_at(page, _canvas(page, IVF_OVERVIEW), cell["x"], cell["y"])
    assert _model(page, IVF_OVERVIEW, "selected_list") == cell["list"]
    ids = _model(page, IVF_OVERVIEW, "selected_ids")
    assert ids and all(isinstance(x, (int, float)) for x in ids)
    panel = _root(page, IVF_OVERVIEW).locator(".feder-panel")
    assert f"List {cell['list']}" in panel.text_content()
    assert panel.locator(".feder-card img").count() > 0
    save_screenshot(page, "frontend-ivf-selected", ".feder-root >> nth=0")
    # Fine search: a dot selects one id.
    _show(page, IVF_SEARCH, "fine")
    dot = _targets(page, IVF_SEARCH)[0]
    click_at(page, _canvas(page, IVF_SEARCH), dot["x"], dot["y"])
    assert _model(page, IVF_SEARCH, "selected_ids") == [dot["id"]]
    assert _model(page, IVF_SEARCH, "selected_list") == -1
    # HNSW overview: a node selects its label and lists its links per level.
    _show(page, HNSW_OVERVIEW, "overview")
    node = _targets(page, HNSW_OVERVIEW)[-1]
    click_at(page, _canvas(page, HNSW_OVERVIEW), node["x"], node["y"])
    assert _model(page, HNSW_OVERVIEW, "selected_ids") == [node["id"]]
    assert "links on level" in _root(page, HNSW_OVERVIEW).locator(".feder-panel").text_content()
    save_screenshot(page, "frontend-hnsw-selected", ".feder-root >> nth=2")
    # Empty space clears it.
    click_at(page, _canvas(page, HNSW_OVERVIEW), 3, 3)
    assert _model(page, HNSW_OVERVIEW, "selected_ids") == []
    assert page.evaluate("() => window.__federModels[2].saves") >= 2


@pytest.mark.browser
def test_hnsw_animation_plays_steps_and_scrubs(session: Any) -> None:
    page, _ = session
    _show(page, HNSW_SEARCH, "search")
    root = _root(page, HNSW_SEARCH)
    total = int(root.get_attribute("data-feder-total"))
    assert total > 20
    assert int(root.get_attribute("data-feder-pos")) == total - 1  # opens on the finished search
    root.locator(".feder-play").click()
    seen = []
    for _ in range(6):
        page.wait_for_timeout(120)
        seen.append(int(root.get_attribute("data-feder-pos")))
    assert seen == sorted(seen) and seen[-1] > seen[0], seen
    save_screenshot(page, "frontend-hnsw-playing", ".feder-root >> nth=3")
    # A replay finishes within a few seconds whatever the number of events.
    page.wait_for_function("() => document.querySelectorAll('.feder-root')[3]"
                           ".dataset.federPlaying === '0'", timeout=6_000)
    assert int(root.get_attribute("data-feder-pos")) == total - 1
    root.locator(".feder-step").click()  # from the end, step restarts
    assert int(root.get_attribute("data-feder-pos")) == 0
    root.locator(".feder-step").click()
    assert int(root.get_attribute("data-feder-pos")) == 1
    slider = root.locator(".feder-slider")
    slider.evaluate("(s) => { s.value = String(Math.floor(s.max / 2));"
                    " s.dispatchEvent(new Event('input', {bubbles: true})); }")
    assert int(root.get_attribute("data-feder-pos")) == (total - 1) // 2
    page.evaluate("() => document.querySelectorAll('.feder-root')[3].federDebug.draw()")
    assert canvas_ink(page, index=HNSW_SEARCH) > 0.02
    save_screenshot(page, "frontend-hnsw-scrubbed", ".feder-root >> nth=3")
    slider.evaluate("(s) => { s.value = s.max; s.dispatchEvent(new Event('input')); }")


@pytest.mark.browser
def test_missing_media_is_requested_and_filled_from_a_message(session: Any) -> None:
    page, _ = session
    _show(page, IVF_SEARCH, "fine")
    media = _model(page, IVF_SEARCH, "media")["items"]
    missing = [t for t in _targets(page, IVF_SEARCH, 100_000) if str(int(t["id"])) not in media]
    assert missing, "the fixture leaves some candidates without media"
    target = missing[0]
    move_to(page, _canvas(page, IVF_SEARCH), target["x"], target["y"])
    page.wait_for_function("() => window.__federModels[1].sent.length > 0", timeout=3_000)
    sent = page.evaluate("() => window.__federModels[1].sent")
    assert {"type": "media"}.items() <= sent[-1].items()
    assert target["id"] in sent[-1]["ids"]
    # Python's answer: a custom message whose image bytes travel as a buffer.
    page.evaluate("""([id]) => {
        const m = window.__federModels[1];
        const src = m.get('media').items;
        const some = Object.values(src).find((it) => it.kind === 'image');
        m.emit('msg:custom', {type: 'media', items: {[String(id)]:
            {kind: 'image', mime: 'image/png', buffer: 0}}}, [some.data]);
    }""", [target["id"]])
    _tooltip_image_loaded(page, IVF_SEARCH)
    page.mouse.move(1, 1)


@pytest.mark.browser
def test_hostile_text_and_names_stay_inert(session: Any) -> None:
    page, log = session
    _show(page, TEXT_SEARCH, "fine")
    target = _targets(page, TEXT_SEARCH)[0]
    move_to(page, _canvas(page, TEXT_SEARCH), target["x"], target["y"])
    tooltip = _root(page, TEXT_SEARCH).locator(".feder-tooltip")
    tooltip.wait_for(state="visible")
    assert XSS in tooltip.text_content()
    save_screenshot(page, "frontend-text-media", ".feder-root >> nth=4")
    # The hostile file name of an image (tooltip) and of the index (panel).
    _show(page, IVF_OVERVIEW, "overview")
    assert f"{XSS}.index" in _root(page, IVF_OVERVIEW).locator(".feder-panel").text_content()
    page.wait_for_timeout(200)
    assert page.locator("img[src='x']").count() == 0
    assert page.locator(".feder-root script").count() == 0
    assert log.dialogs == []
    assert log.external == []


def _edge_states() -> list[dict[str, Any]]:
    """Inner product with two lists and k above the candidate count (−1 padding); a tiny
    cosine HNSW with deleted elements; no media at all."""
    import faiss
    import hnswlib

    dim = 8
    xb = _clustered(12, dim, seed=5, centers=2)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, 2, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.min_points_per_centroid = 1
    ivf.train(xb)
    ivf.add(xb)
    idx = feder.load_index(faiss.serialize_index(ivf))
    cmap = cluster_map(idx.centroids, idx.list_sizes, 500, 300)
    members = [nearest_members(idx.list_vectors(lst), idx.list_ids(lst), idx.centroids[lst], 4,
                               idx.metric) for lst in range(idx.nlist)]
    overview = serialize.ivf_overview(idx, cmap, members)
    trace = idx.search_by_id(3, k=20, nprobe=1)
    assert trace.coarse is not None and trace.fine is not None
    qxy = query_position(cmap, trace.coarse.probed_lists, trace.coarse.probed_distances,
                         idx.metric)
    scale = radial_scale(trace.fine.candidate_distances,
                         float(trace.query @ trace.query) if idx.metric == "ip" else 0.0,
                         squared_l2=idx.metric == "l2", larger_is_closer=idx.metric == "ip")
    polar = polar_layout(trace.fine.candidate_lists, trace.fine.candidate_distances,
                         trace.coarse.probed_lists, scale)
    search = serialize.ivf_search(idx, trace, qxy, polar, None, "pca",
                                  {"id": None, "media": None})
    assert (_values(search["results"]["ids"]) < 0).any()  # padded results
    hx = _clustered(30, dim, seed=6, centers=3)
    h = hnswlib.Index(space="cosine", dim=dim)
    h.init_index(max_elements=30, M=4, ef_construction=20, random_seed=3)
    h.add_items(hx, num_threads=1)
    for label in (2, 5, 11):
        h.mark_deleted(label)
    hidx = feder.load_index(h, space="cosine")
    hoverview = serialize.hnsw_overview(hidx, layered_overview(hidx, 2))
    htrace = hidx.search_by_id(1, k=4, ef=8)
    hsearch = serialize.hnsw_search(hidx, htrace, search_geometry(hidx, htrace),
                                    {"id": 1, "media": None})
    params = {"width": 760, "height": 420, "theme": "dark", "title": "edge"}
    return [_state(overview, search, {}, "projection", params),  # no projection: falls back
            _state(hoverview, hsearch, {}, "search", params)]


@pytest.mark.browser
def test_edge_cases_render(browser: Any, tmp_path: Path) -> None:
    path = write_html(tmp_path / "edge.html", _edge_states(), "edge cases")
    context, page, log = open_report(browser, path)
    try:
        assert page.locator(".feder-error").count() == 0, page.locator(".feder-error").first
        assert log.page_errors == [] and log.console_errors == []
        root = page.locator(".feder-root").nth(0)
        assert root.get_attribute("data-feder-view") == "overview"
        assert root.locator(".feder-tab[data-view='projection']").is_disabled()
        for view in ("overview", "coarse", "fine"):
            _show(page, 0, view)
            assert canvas_ink(page, index=0) > 0.01, view
        assert root.locator(".feder-strip figure").count() >= 1  # results without padding
        for view in ("overview", "search"):
            _show(page, 1, view)
            assert canvas_ink(page, index=1) > 0.01, view
        save_screenshot(page, "frontend-edge-cases")
        # No media configured: hovering asks nothing of the (absent) kernel.
        target = _targets(page, 1)[0]
        move_to(page, _canvas(page, 1), target["x"], target["y"])
        _root(page, 1).locator(".feder-tooltip").wait_for(state="visible")
        assert page.evaluate("() => window.__federModels[1].sent.length") == 0
        assert log.page_errors == [] and log.external == []
    finally:
        context.close()


# ------------------------------------------------------------------- export without browser

def _tiny_state(**changes: Any) -> dict[str, Any]:
    data = np.arange(5, dtype=np.float32)
    state: dict[str, Any] = {
        "overview": {"kind": "hnsw_overview", "nodes": {"ids": serialize.array(data, "float64")},
                     "facts": {"source": "</script><!--", "nan": float("nan")}},
        "search": {}, "media": {}, "view": "overview", "view_params": {"title": "t"},
        "selected_ids": [], "selected_list": -1,
    }
    state.update(changes)
    return state


def _embedded(page_html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="feder-data">(.*?)</script>',
                      page_html, re.S)
    assert match is not None
    return dict(json.loads(match.group(1)))


def test_render_html_escapes_and_embeds_buffers() -> None:
    page_html = render_html([_tiny_state(), _tiny_state()], title="<b>&</b>")
    assert "<title>&lt;b&gt;&amp;&lt;/b&gt;</title>" in page_html
    doc = _embedded(page_html)
    # "</script>" and "<!--" inside the data cannot close or comment the script element.
    assert page_html.count("</script>") == 2
    assert doc["states"][0]["state"]["overview"]["facts"]["source"] == "</script><!--"
    assert doc["states"][0]["state"]["overview"]["facts"]["nan"] is None
    # Identical buffers are stored once; each path points at an 8-byte aligned slot.
    paths = [b["path"] for b in doc["states"][0]["buffers"]]
    assert paths == [["overview", "nodes", "ids", "data"]]
    assert doc["states"][0]["buffers"][0]["slot"] == doc["states"][1]["buffers"][0]["slot"]
    assert all(offset % 8 == 0 for offset, _ in doc["slots"])
    assert "Content-Security-Policy" in page_html and "default-src 'none'" in page_html
    assert re.search(r"(src|href)=[\"']?(https?:)?//", page_html) is None
    assert set(doc["states"][0]["state"]) == set(STATE_KEYS)


def test_render_html_rejects_bad_states(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="valid keys"):
        render_html([_tiny_state(bogus=1)])
    with pytest.raises(TypeError, match="list of state dicts"):
        render_html(_tiny_state())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"feder\.serialize\.array"):
        render_html([_tiny_state(selected_ids=[object()])])
    out = write_html(tmp_path / "r.html", [_tiny_state()], "x")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_buffers_are_png_bytes(tmp_path: Path) -> None:
    """The image bytes survive the base64 round trip exactly."""
    from PIL import Image

    png = _pngs(tmp_path, 1)[0].read_bytes()
    state = _tiny_state(media={"media_type": "img", "items": {
        "0": {"kind": "image", "mime": "image/png", "data": memoryview(png)}}})
    doc = _embedded(render_html([state]))
    blob = base64.b64decode(doc["blob"])
    entry = next(b for b in doc["states"][0]["buffers"] if b["path"][0] == "media")
    offset, length = doc["slots"][entry["slot"]]
    assert blob[offset:offset + length] == png
    assert Image.open(io.BytesIO(blob[offset:offset + length])).size == (64, 64)
