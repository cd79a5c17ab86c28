"""Every index family in the browser: the files popular tools write — LangChain / LlamaIndex
``IndexFlatL2``, txtai ``IDMap,Flat``, autofaiss ``HNSW32``, quantized IVF (SQ8, PQ) — load,
search like faiss, and every view of their family paints in Debian chromium from a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from feder import FederPy
from feder.export import write_html

from browser_util import (  # isort: skip
    RequestLog,
    chromium_available,
    launch_chromium,
    paint_every_view,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium")]

CASES = {  # factory string, metric, the tool that writes it
    "flat-l2": ("Flat", faiss.METRIC_L2),           # LangChain, LlamaIndex
    "idmap-flat-ip": ("IDMap,Flat", faiss.METRIC_INNER_PRODUCT),  # txtai
    "hnsw32": ("HNSW32", faiss.METRIC_L2),          # autofaiss
    "hnsw16-ip": ("HNSW16", faiss.METRIC_INNER_PRODUCT),
    "ivf-sq8": ("IVF16,SQ8", faiss.METRIC_L2),
    "ivf-pq": ("IVF16,PQ4", faiss.METRIC_L2),
    "pca-ivf-flat": ("PCA8,IVF16,Flat", faiss.METRIC_L2),  # pre-transforms: views in the
    "opq-hnsw-ip": ("OPQ4_8,HNSW16", faiss.METRIC_INNER_PRODUCT),  # transformed space
}
TRANSFORMED = ("pca-ivf-flat", "opq-hnsw-ip")


def _build(desc: str, metric: int, xb: np.ndarray) -> Any:
    index = faiss.index_factory(xb.shape[1], desc, metric)
    index.train(xb)
    if desc.startswith("IDMap"):
        index.add_with_ids(xb, np.arange(xb.shape[0], dtype=np.int64) * 7 + 3)
    else:
        index.add(xb)
    return index


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    xb = np.random.default_rng(8).standard_normal((1500, 16)).astype("f4")
    states, names = [], []
    for name, (desc, metric) in CASES.items():
        index = _build(desc, metric, xb)
        fed = FederPy(index, "faiss", width=900, height=520)
        first = int(fed.index.ids[0]) if hasattr(fed.index, "ids") else 0
        widget = fed.setSearchParams({"k": 6}).searchById(first)
        _, want = index.search(fed.index.vector(first)[None], 6)
        np.testing.assert_array_equal(widget.trace.ids, want[0])  # as faiss answers
        states += [fed.overview().export_state(), widget.export_state()]
        names += [f"{name}-overview", name]
    path = write_html(tmp_path_factory.mktemp("formats") / "formats.html", states)
    return path, names


def test_every_family_paints_every_view(report: tuple[Path, list[str]]) -> None:
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
            views = paint_every_view(page, i, f"formats-{name}")
            if name.startswith(TRANSFORMED):  # the caption says where the search ran
                assert "transformed space" in root.locator(".feder-title").inner_text()
            if not name.endswith("overview"):
                assert len(views) >= 2, (name, views)
                assert root.locator(".feder-strip figure[data-rank]").count() == 6, name
        assert log.page_errors == [] and log.console_errors == [] and log.external == []
        browser.close()
