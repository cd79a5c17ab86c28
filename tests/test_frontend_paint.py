"""The IVF map's drawing at many lists, checked in Debian chromium on a report built the way a
user builds it: every cell is filled (cells go to the canvas in batches), borders stay
visible when cells are a few pixels wide, a view shown again comes back as it was drawn
(kept base layers), and a theme change while another view is shown redraws the kept ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from feder import FederPy

from browser_util import (  # isort: skip
    canvas_signature,
    canvas_stats,
    chromium_available,
    launch_chromium,
    open_report,
    pixel_difference,
    save_screenshot,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium")]

NLIST, N, DIM = 1024, 12_000, 8


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(11)
    xb = rng.standard_normal((N, DIM)).astype("f4")
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatL2(DIM), DIM, NLIST)
    ivf.cp.seed = 3
    ivf.cp.niter = 4
    ivf.cp.min_points_per_centroid = 1
    ivf.train(xb)
    ivf.add(xb)
    fed = FederPy(ivf, "faiss", width=900, height=560)
    search = fed.setSearchParams({"k": 5, "nprobe": 8}).searchById(3)
    return fed.export_html(tmp_path_factory.mktemp("paint") / "paint.html", searches=[search])


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


def _show(page: Any, i: int, view: str) -> None:
    page.locator(".feder-root").nth(i).locator(f".feder-tab[data-view='{view}']").click()
    page.evaluate("(i) => document.querySelectorAll('.feder-root')[i].federDebug.draw()", i)


def _cell_fill_coverage(page: Any, i: int) -> float:
    """Fraction of the largest cells whose centre pixel is not the background colour."""
    return float(page.evaluate(
        """(i) => {
          const root = document.querySelectorAll('.feder-root')[i];
          const canvas = root.querySelector('canvas.feder-canvas');
          const ctx = canvas.getContext('2d');
          const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          const bg = [d[0], d[1], d[2]];  // the map keeps a margin: the corner is background
          const targets = root.federDebug.targets(400);
          let filled = 0;
          for (const t of targets) {
            const k = (Math.round(t.y) * canvas.width + Math.round(t.x)) * 4;
            const off = Math.abs(d[k] - bg[0]) + Math.abs(d[k + 1] - bg[1])
              + Math.abs(d[k + 2] - bg[2]);
            if (off > 12) filled++;
          }
          return targets.length ? filled / targets.length : 0;
        }""", i))


def test_every_cell_is_filled_and_bordered(browser: Any, report: Path) -> None:
    context, page, log = open_report(browser, report)
    try:
        _show(page, 0, "overview")
        stats = canvas_stats(page, index=0)
        assert stats["ink"] > 0.8  # 1,024 cells tile the map: little background shows
        assert stats["colors"] > 8  # size shades, not one flat fill
        assert _cell_fill_coverage(page, 0) > 0.97
        # the borders: background-coloured pixels inside the map (cells are ~20 px wide)
        assert 0.02 < 1 - stats["ink"] < 0.3
        save_screenshot(page, "paint-ivf1024-overview", ".feder-root >> nth=0")
        assert log.page_errors == [] and log.console_errors == []
    finally:
        context.close()


def test_views_shown_again_come_back_as_drawn_and_follow_the_theme(browser: Any,
                                                                   report: Path) -> None:
    context, page, log = open_report(browser, report)
    try:
        _show(page, 1, "overview")
        overview = canvas_signature(page, index=1)
        _show(page, 1, "coarse")
        coarse = canvas_signature(page, index=1)
        assert pixel_difference(overview, coarse) > 0.05
        for _ in range(2):
            _show(page, 1, "overview")
            assert pixel_difference(overview, canvas_signature(page, index=1)) == 0
            _show(page, 1, "fine")
            _show(page, 1, "coarse")
            assert pixel_difference(coarse, canvas_signature(page, index=1)) == 0
        # a theme change while the coarse view shows redraws the overview's kept layer too
        page.evaluate("""() => { const m = window.__federModels[1];
            m.set('view_params', Object.assign({}, m.get('view_params'), {theme: 'dark'})); }""")
        _show(page, 1, "overview")
        assert page.locator(".feder-root").nth(1).get_attribute("data-feder-theme") == "dark"
        assert pixel_difference(overview, canvas_signature(page, index=1)) > 0.5
        assert _cell_fill_coverage(page, 1) > 0.97
        save_screenshot(page, "paint-ivf1024-overview-dark", ".feder-root >> nth=1")
        assert log.page_errors == [] and log.console_errors == []
    finally:
        context.close()
