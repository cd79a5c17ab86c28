"""Source-backed reports in Debian chromium: a Milvus Lite collection and a LanceDB table
(views from their own indexes) and a Qdrant Edge shard (the engine's answers on a labelled
local model) paint every view of their widgets, offline, with no page error."""

from __future__ import annotations

from pathlib import Path

import pytest

from feder import FederPy, sources

from browser_util import (  # isort: skip
    RequestLog,
    chromium_available,
    launch_chromium,
    paint_every_view,
)
from test_sources_lancedb import build_lance  # isort: skip
from test_sources_milvus import build_milvus  # isort: skip
from test_sources_qdrant import build_shard  # isort: skip

pytest.importorskip("pymilvus")
pytest.importorskip("lancedb")
pytest.importorskip("qdrant_edge")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("source-report")
    db, _ = build_milvus(folder / "m", n=1500)
    lance, _ = build_lance(folder / "l")
    shard, _ = build_shard(folder / "q")
    states, names = [], []
    for name, src, ident, param in (
            ("milvus", sources.milvus(db, collection="images", media_field="path"),
             "img_0042", "nprobe"),
            ("lancedb", sources.lancedb(lance, table="images", media_field="path"),
             "img_0042", "nprobe"),
            ("qdrant", sources.qdrant_edge(folder / "q", shard=shard), 42, "ef_search")):
        fed = FederPy(src, width=900, height=520)
        search = fed.setSearchParams({"k": 6, param: 2 if param == "nprobe" else 16}) \
            .searchById(ident)
        sweep = fed.sweep(values=[1, 2, 4] if param == "nprobe" else [8, 32], sample=20)
        states += [w.export_state() for w in (fed.overview(), search, sweep)]
        names += [f"{name}-overview", f"{name}-search", f"{name}-sweep"]
    from feder.export import write_html

    return write_html(folder / "sources.html", states, "feder sources"), names


def test_source_reports_paint(report: tuple[Path, list[str]]) -> None:
    from playwright.sync_api import sync_playwright

    path, names = report
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log = RequestLog.attach(page)
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-feder-ready='1']", timeout=20_000)
        assert page.locator(".feder-root").count() == len(names)
        for i, name in enumerate(names):
            root = page.locator(".feder-root").nth(i)
            title = root.locator(".feder-title").inner_text()
            label = "model of the engine, not a replay" if name.startswith("qdrant") else \
                "replay of the engine's own index"
            assert label in title, (name, title)
            paint_every_view(page, i, f"sources-{name}")
            if name.endswith("search"):
                assert root.locator(".feder-strip figure[data-rank]").count() == 6, name
                # results are named by the engine's own ids, not feder's row numbers
                query = root.locator(".feder-card-query figcaption").text_content()
                assert ("img_0042" if "qdrant" not in name else "42") in query, (name, query)
                if "qdrant" not in name:
                    strip = root.locator(".feder-strip").text_content()
                    assert strip.count("img_") >= 6, (name, strip)
        assert log.page_errors == [] and log.console_errors == [] and log.external == []
        browser.close()
