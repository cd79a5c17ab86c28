"""The defects a new user hit, each checked in Debian chromium on reports built the way a user
builds them (``FederPy`` → ``export_html``), opened from ``file://``: the HNSW slider and the
drawing agree, the polar radius is an honest distance, no media means no requests, labels
never collide or clip, every canvas zooms, widgets fit narrow containers, the IVF map shows
member images, the panel shows the search's own parameters. Screenshots go to
``test-artifacts/views-*.png``."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import faiss
import hnswlib
import numpy as np
import pytest
from PIL import Image

from feder import FederPy

from browser_util import (  # isort: skip
    chromium_available,
    launch_chromium,
    open_report,
    move_to,
    save_screenshot,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium")]

N, DIM = 600, 16
COLOURS = [(220, 40, 40), (40, 160, 60), (40, 80, 220), (230, 200, 30), (150, 50, 180),
           (30, 190, 200)]


def _data() -> np.ndarray:
    rng = np.random.default_rng(4)
    centres = rng.standard_normal((10, DIM)).astype("f4") * 3
    return (centres[rng.integers(0, 10, N)] + rng.standard_normal((N, DIM))).astype("f4")


def _images(folder: Path) -> list[str]:
    paths = []
    for i, colour in enumerate(COLOURS):
        path = folder / f"solid_{i}.png"
        Image.new("RGB", (40, 40), colour).save(path)
        paths.append(str(path))
    return [paths[i % len(paths)] for i in range(N)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("views")
    xb = _data()
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatL2(DIM), DIM, 16)
    ivf.cp.seed = 1
    ivf.train(xb)
    ivf.add(xb)
    media = _images(folder)
    fed = FederPy(ivf, "faiss", mediaUrls=media, width=1000, height=600)
    self_match = fed.setSearchParams({"k": 8, "nprobe": 12}).searchById(17)
    far = fed.searchByVec(xb.mean(axis=0) + 40.0, "A white dog.")  # nothing is near it
    bare = FederPy(ivf, "faiss", width=1000, height=600).setSearchParams(
        {"k": 8, "nprobe": 12}).searchById(17)
    h = hnswlib.Index("l2", DIM)
    h.init_index(N, M=6, ef_construction=40, random_seed=5)
    h.add_items(xb, num_threads=1)
    hfed = FederPy(h, "hnswlib", width=1000, height=600)
    hsearch = hfed.setSearchParams({"k": 6, "ef": 30}).searchById(21)
    reports = {
        "ivf": fed.export_html(folder / "ivf.html", searches=[self_match, far]),
        "bare": FederPy(ivf, "faiss", width=1000, height=600).export_html(
            folder / "bare.html", searches=[bare]),
        "hnsw": hfed.export_html(folder / "hnsw.html", searches=[hsearch], include_overview=False),
    }
    return {"reports": reports, "self_match": self_match, "far": far, "hsearch": hsearch}


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


def _root(page: Any, i: int) -> Any:
    return page.locator(".feder-root").nth(i)


def _show(page: Any, i: int, view: str) -> None:
    _root(page, i).locator(f".feder-tab[data-view='{view}']").click()
    _debug(page, i, "draw")


def _debug(page: Any, i: int, name: str, *args: Any) -> Any:
    return page.evaluate(
        "([i, name, args]) => document.querySelectorAll('.feder-root')[i].federDebug[name]"
        "(...args)", [i, name, list(args)])


# ----------------------------------------------------------------------- HNSW timeline

def _frames(page: Any) -> tuple[int, int, int]:
    """(slider value, the player's frame, the frame the canvas drew), read in one go."""
    return tuple(page.evaluate(
        """() => { const root = document.querySelector('.feder-root');
            root.federDebug.draw();
            return [+root.querySelector('.feder-slider').value, +root.dataset.federPos,
                    +root.dataset.federDrawn]; }"""))


def test_slider_buttons_keys_and_drawing_always_agree(browser: Any, built: dict[str, Any]
                                                      ) -> None:
    context, page, log = open_report(browser, built["reports"]["hnsw"])
    try:
        root = _root(page, 0)
        total = int(root.get_attribute("data-feder-total"))
        assert total > 40
        slider = root.locator(".feder-slider")
        box = slider.bounding_box()
        assert box is not None
        # drag the thumb from the end to about a third
        page.mouse.move(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.33, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
        value, pos, drawn = _frames(page)
        assert value == pos == drawn and abs(value - (total - 1) * 0.33) < total * 0.1
        # a click on the track jumps there
        page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
        value, pos, drawn = _frames(page)
        assert value == pos == drawn and value > total * 0.6
        # keys on the slider
        slider.focus()
        for key, expect in (("Home", 0), ("ArrowRight", 1), ("ArrowRight", 2), ("End", total - 1),
                            ("ArrowLeft", total - 2)):
            page.keyboard.press(key)
            assert _frames(page) == (expect, expect, expect), key
        # keys on the canvas, and the buttons
        root.locator("canvas.feder-canvas").focus()
        page.keyboard.press("Home")
        assert _frames(page) == (0, 0, 0)
        page.keyboard.press("ArrowRight")
        root.locator(".feder-step").click()
        assert _frames(page) == (2, 2, 2)
        root.locator(".feder-back").click()
        assert _frames(page) == (1, 1, 1)
        # play runs to the end, the slider following every frame drawn
        root.locator(".feder-play").click()
        seen = []
        for _ in range(8):
            page.wait_for_timeout(90)
            seen.append(_frames(page))
        page.wait_for_function("() => document.querySelector('.feder-root')"
                               ".dataset.federPlaying === '0'", timeout=8_000)
        assert all(v == p == d for v, p, d in seen), seen
        assert seen == sorted(seen) and seen[-1][0] > seen[0][0]
        assert _frames(page) == (total - 1, total - 1, total - 1)
        save_screenshot(page, "views-hnsw-timeline", ".feder-root")
        assert log.page_errors == []
    finally:
        context.close()


# --------------------------------------------------------------------------- polar view

def _radii(page: Any, i: int) -> tuple[list[dict[str, Any]], tuple[float, float]]:
    targets = _debug(page, i, "targets", 100_000)
    qx, qy = _debug(page, i, "query")
    return targets, (qx, qy)


def test_polar_radius_follows_distance_from_an_absolute_zero(browser: Any,
                                                             built: dict[str, Any]) -> None:
    context, page, _ = open_report(browser, built["reports"]["ivf"])
    try:
        for i, widget in ((1, built["self_match"]), (2, built["far"])):
            _show(page, i, "fine")
            targets, (qx, qy) = _radii(page, i)
            fine = widget.trace.fine
            dist = dict(zip(fine.candidate_ids.tolist(), fine.candidate_distances.tolist(),
                            strict=True))
            pairs = sorted((dist[int(t["id"])], float(np.hypot(t["x"] - qx, t["y"] - qy)))
                           for t in targets if t["kind"] == "cand")
            radii = [r for _, r in pairs]
            assert len(radii) == fine.candidate_ids.size
            assert all(b >= a - 0.6 for a, b in itertools.pairwise(radii)), \
                "radius must grow with distance"
            # radius ∝ Euclidean distance (√ of squared L2) from zero at the query
            d = np.sqrt(np.maximum([p[0] for p in pairs], 0))
            ratio = np.array(radii)[d > 0] / d[d > 0]
            assert ratio.std() / ratio.mean() < 0.02
            save_screenshot(page, f"views-polar-{i}", f".feder-root >> nth={i}")
        # the self-match (d = 0) sits on the query marker; with no close match the nearest
        # candidate stays well away from it
        targets, (qx, qy) = _radii(page, 1)
        best = next(t for t in targets if t.get("rank") == 0)
        assert int(best["id"]) == 17 and np.hypot(best["x"] - qx, best["y"] - qy) < 0.5
        _show(page, 2, "fine")
        targets, (qx, qy) = _radii(page, 2)
        cands = [t for t in targets if t["kind"] == "cand"]
        nearest = min(np.hypot(t["x"] - qx, t["y"] - qy) for t in cands)
        farthest = max(np.hypot(t["x"] - qx, t["y"] - qy) for t in cands)
        assert nearest > 0.5 * farthest
    finally:
        context.close()


# ----------------------------------------------------------------------------- no media

def test_without_media_nothing_is_requested_and_no_placeholder_shows(
        browser: Any, built: dict[str, Any]) -> None:
    context, page, log = open_report(browser, built["reports"]["bare"])
    try:
        for view in ("overview", "coarse", "fine", "projection"):
            _show(page, 1, view)
            target = _debug(page, 1, "targets", 5)[0]
            move_to(page, _root(page, 1).locator("canvas.feder-canvas"), target["x"], target["y"])
            tooltip = _root(page, 1).locator(".feder-tooltip")
            tooltip.wait_for(state="visible")
            assert tooltip.locator(".feder-thumb").count() == 0, view
            assert "…" not in tooltip.text_content()
        strip = _root(page, 1).locator(".feder-strip")
        assert strip.locator(".feder-thumb").count() == 0 and "…" not in strip.text_content()
        assert strip.locator("figure[data-rank]").count() == 8
        page.wait_for_timeout(100)
        assert page.evaluate("() => window.__federModels.map((m) => m.sent.length)") == [0, 0]
        assert log.external == []
    finally:
        context.close()


# ------------------------------------------------------------------------------- labels

def _assert_labels_clean(page: Any, i: int, view: str) -> int:
    _show(page, i, view)
    labels = _debug(page, i, "labels")
    width, height = page.evaluate(
        "(i) => { const c = document.querySelectorAll('canvas.feder-canvas')[i];"
        " return [c.clientWidth, c.clientHeight]; }", i)
    for a in labels:
        assert a["x"] >= 0 and a["y"] >= 0, (view, a)
        assert a["x"] + a["w"] <= width and a["y"] + a["h"] <= height, (view, a)
    for k, a in enumerate(labels):
        for b in labels[k + 1:]:
            apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
                     or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])
            assert apart, (view, a, b)
    return len(labels)


@pytest.mark.parametrize("width", [1280, 700])
def test_labels_never_overlap_or_leave_the_canvas(browser: Any, built: dict[str, Any],
                                                  width: int) -> None:
    context, page, _ = open_report(browser, built["reports"]["ivf"], width=width)
    try:
        texts = []
        for view in ("coarse", "fine"):
            count = _assert_labels_clean(page, 1, view)
            assert count >= 8, f"{view}: only {count} labels placed"
            texts += [b["text"] for b in _debug(page, 1, "labels")]
            save_screenshot(page, f"views-labels-{view}-{width}", ".feder-root >> nth=1")
        assert "query" in texts  # the query's label is placed, not hidden under badges
        assert any(t.startswith("list ") for t in texts)  # probed lists named by id
        _assert_labels_clean(page, 0, "overview")
    finally:
        context.close()


# --------------------------------------------------------------------------------- zoom

def test_every_canvas_zooms_pans_and_resets(browser: Any, built: dict[str, Any]) -> None:
    context, page, _ = open_report(browser, built["reports"]["ivf"])
    try:
        for view in ("projection", "fine", "coarse"):
            _show(page, 1, view)
            canvas = _root(page, 1).locator("canvas.feder-canvas")
            before = _debug(page, 1, "targets", 3)
            spread0 = np.hypot(before[0]["x"] - before[1]["x"], before[0]["y"] - before[1]["y"])
            move_to(page, canvas, before[0]["x"], before[0]["y"])
            page.mouse.wheel(0, -400)
            page.wait_for_timeout(50)
            after = _debug(page, 1, "targets", 3)
            spread1 = np.hypot(after[0]["x"] - after[1]["x"], after[0]["y"] - after[1]["y"])
            assert float(canvas.get_attribute("data-feder-zoom")) > 1.5, view
            if spread0 > 0:
                assert spread1 > 1.5 * spread0, view
            # zoom keeps the point under the pointer in place
            assert abs(after[0]["x"] - before[0]["x"]) < 2
            assert abs(after[0]["y"] - before[0]["y"]) < 2
            box = canvas.bounding_box()
            page.mouse.move(box["x"] + 200, box["y"] + 200)
            page.mouse.down()
            page.mouse.move(box["x"] + 260, box["y"] + 230, steps=4)
            page.mouse.up()
            panned = _debug(page, 1, "targets", 3)
            assert abs(panned[0]["x"] - after[0]["x"] - 60) < 2, view
            save_screenshot(page, f"views-zoom-{view}", ".feder-root >> nth=1")
            canvas.dblclick(position={"x": 5, "y": 5})
            reset = _debug(page, 1, "targets", 3)
            assert abs(reset[0]["x"] - before[0]["x"]) < 0.5, view
            assert canvas.get_attribute("data-feder-zoom") == "1"
    finally:
        context.close()


# ------------------------------------------------------------------------------- sizing

@pytest.mark.parametrize("viewport", [600, 760])
def test_widgets_fit_narrow_containers_and_keep_every_result(browser: Any,
                                                             built: dict[str, Any],
                                                             viewport: int) -> None:
    context, page, _ = open_report(browser, built["reports"]["ivf"], width=viewport)
    try:
        report = page.locator("#feder-report").bounding_box()
        for i in range(3):
            root = _root(page, i).bounding_box()
            assert root["x"] >= report["x"] - 1
            assert root["x"] + root["width"] <= report["x"] + report["width"] + 1, i
            canvas = _root(page, i).locator("canvas.feder-canvas").bounding_box()
            assert canvas["x"] + canvas["width"] <= root["x"] + root["width"] + 1
        _show(page, 1, "coarse")
        cards = _root(page, 1).locator(".feder-strip figure[data-rank]")
        assert cards.count() == 8
        root = _root(page, 1).bounding_box()
        for k in range(8):
            card = cards.nth(k).bounding_box()
            assert card["x"] + card["width"] <= root["x"] + root["width"] + 1, k
        save_screenshot(page, f"views-narrow-{viewport}", ".feder-root >> nth=1")
    finally:
        context.close()


# ------------------------------------------------------------------------ overview images

def test_ivf_overview_shows_member_images_inside_cells(browser: Any,
                                                       built: dict[str, Any]) -> None:
    context, page, _ = open_report(browser, built["reports"]["ivf"])
    try:
        _show(page, 0, "overview")
        page.wait_for_function("() => document.querySelector('.feder-root').federDebug"
                               ".thumbs().length > 3", timeout=5_000)
        thumbs = _debug(page, 0, "thumbs")
        pixels = page.evaluate(
            """(boxes) => { const c = document.querySelector('canvas.feder-canvas');
                const g = c.getContext('2d'); const s = c.width / c.clientWidth;
                return boxes.map((b) => Array.from(g.getImageData(
                    Math.round((b.x + b.w / 2) * s), Math.round((b.y + b.h / 2) * s), 1, 1).data));
            }""", thumbs)
        for box, rgba in zip(thumbs, pixels, strict=True):
            want = COLOURS[int(box["id"]) % len(COLOURS)]
            assert max(abs(a - b) for a, b in zip(rgba[:3], want, strict=True)) < 12, box
        save_screenshot(page, "views-ivf-overview-images", ".feder-root >> nth=0")
    finally:
        context.close()


# -------------------------------------------------------------------------- text query

def test_a_query_given_as_text_is_shown_as_text(browser: Any, built: dict[str, Any]) -> None:
    assert built["far"].search["target"]["media"] == {"kind": "text", "text": "A white dog."}
    context, page, log = open_report(browser, built["reports"]["ivf"])
    try:
        _show(page, 2, "coarse")
        query = _root(page, 2).locator(".feder-card-query")
        assert query.locator(".feder-thumb-text").text_content() == "A white dog."
        box = query.locator(".feder-thumb-text").bounding_box()
        assert box is not None and box["width"] >= 120  # a line of words, not one per line
        assert "no such file" not in _root(page, 2).text_content()
        assert log.page_errors == []
    finally:
        context.close()


# ------------------------------------------------------------------------------- panel

def test_panels_show_the_search_parameters_not_the_file_defaults(browser: Any,
                                                                 built: dict[str, Any]) -> None:
    context, page, _ = open_report(browser, built["reports"]["ivf"])
    try:
        _show(page, 1, "overview")
        panel = _root(page, 1).locator(".feder-panel").text_content()
        assert "nprobeinthefile1" in panel.replace(" ", "")
        assert "nprobeofthissearch12" in panel.replace(" ", "")
        _show(page, 1, "coarse")
        text = _root(page, 1).locator(".feder-facts").first.text_content()
        assert "nprobe12" in text and "k8" in text
        assert "vectors compared" in text
    finally:
        context.close()
