"""feder in a real JupyterLab, driven by Playwright on Debian's chromium.

A JupyterLab server is started on 127.0.0.1 for this module, a notebook builds a small faiss
and a small hnswlib index with local image files and shows ``overview()``, ``searchById`` and
``searchByVec``. The browser checks that every view paints, hover tooltips load thumbnails
through the kernel, tabs change the drawing, the HNSW animation advances, a click reaches
Python, and that the page asked nothing of any host but 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from browser_util import (
    RequestLog,
    canvas_ink,
    canvas_signature,
    click_at,
    launch_chromium,
    move_to,
    pixel_difference,
    save_screenshot,
)
from playwright.sync_api import sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import numpy as np, faiss, hnswlib
from pathlib import Path
from PIL import Image
from feder import FederPy

folder = Path("images"); folder.mkdir(exist_ok=True)
rng = np.random.default_rng(0)
paths = []
for i in range(80):
    colour = tuple(int(c) for c in rng.integers(0, 255, 3))
    path = folder / f"img_{i:03d}.png"
    Image.new("RGB", (48, 48), colour).save(path)
    paths.append(str(path))
xb = rng.standard_normal((80, 16)).astype("float32")
ivf = faiss.IndexIVFFlat(faiss.IndexFlatL2(16), 16, 6)
ivf.cp.min_points_per_centroid = 1
ivf.train(xb); ivf.add(xb)
faiss.write_index(ivf, "faiss.index")
hnsw = hnswlib.Index("l2", 16)
hnsw.init_index(80, M=4, ef_construction=20, random_seed=3)
hnsw.add_items(xb)
f = FederPy("faiss.index", "faiss", mediaUrls=paths, width=900, height=560)
f.overview()
"""
IVF_SEARCH = """w = f.setSearchParams({"k": 5, "nprobe": 3}).searchById(3)
w"""
HNSW_SEARCH = """h = FederPy(hnsw, "hnswlib", mediaUrls=paths, width=900, height=560)
hw = h.setSearchParams({"k": 5, "ef_search": 8}).searchByVec(xb[7], paths[7])
hw"""
SIDE_BY_SIDE = """import ipywidgets
ipywidgets.HBox([f.searchById(5), h.searchById(6)])"""

EXECUTE = """async (code) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code });
  let text = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') {
      text += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
    }
  };
  await future.done;
  return text;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(IVF_SEARCH),
                nbformat.v4.new_code_cell(HNSW_SEARCH), nbformat.v4.new_code_cell(SIDE_BY_SIDE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, root / "feder.ipynb")
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               JUPYTER_CONFIG_DIR=str(root / ".config"), JUPYTER_RUNTIME_DIR=str(root / ".rt"),
               IPYTHONDIR=str(root / ".ipython"))
    log = open(root / "jupyter.log", "w")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(
        [str(bin_dir / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.token=", "--ServerApp.password=", "--allow-root",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError((root / "jupyter.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/lab/tree/feder.ipynb", root
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def session(lab: tuple[str, Path]) -> Iterator[tuple[Any, RequestLog]]:
    url, _ = lab
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        log = RequestLog.attach(page)
        page.goto(url)
        page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')",
                               timeout=90_000)
        page.wait_for_function(
            "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
            "?.getAttribute('data-status') === 'idle'", timeout=90_000)
        # A run requested before the session is ready opens a "Select Kernel" dialog.
        page.evaluate("async () => { await window.jupyterapp.shell.currentWidget"
                      ".sessionContext.ready; }")
        if page.locator(".jp-Dialog").count():
            page.locator(".jp-Dialog .jp-mod-accept").click()
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.wait_for_function(
            "() => document.querySelectorAll('.feder-root canvas.feder-canvas').length >= 5",
            timeout=120_000)
        page.wait_for_function(
            "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
            "?.getAttribute('data-status') === 'idle'", timeout=120_000)
        yield page, log
        browser.close()


def _root(page: Any, i: int) -> Any:
    return page.locator(".feder-root").nth(i)


def _show(page: Any, i: int, view: str) -> None:
    _root(page, i).locator(f".feder-tab[data-view='{view}']").click()
    page.evaluate("(i) => document.querySelectorAll('.feder-root')[i].federDebug.draw()", i)


def _targets(page: Any, i: int) -> list[dict[str, Any]]:
    return list(page.evaluate(
        "(i) => document.querySelectorAll('.feder-root')[i].federDebug.targets(30)", i))


def _python(page: Any, code: str) -> str:
    return str(page.evaluate(EXECUTE, code))


def test_cells_ran_and_every_widget_paints(session: tuple[Any, RequestLog]) -> None:
    page, log = session
    errors = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert page.locator(".jp-OutputArea-output .ename, .jp-RenderedText[data-mime-type="
                        "'application/vnd.jupyter.error']").count() == 0
    assert errors.count() == 0, errors.all_text_contents()
    assert page.locator(".feder-root").count() == 5
    for i in range(5):
        _root(page, i).scroll_into_view_if_needed()
        assert canvas_ink(page, index=i) > 0.02, f"widget {i} is blank"
    save_screenshot(page, "jupyter-notebook")
    assert log.page_errors == []


def test_tabs_change_the_drawing(session: tuple[Any, RequestLog]) -> None:
    page, _ = session
    _show(page, 1, "coarse")
    coarse = canvas_signature(page, index=1)
    _show(page, 1, "fine")
    assert pixel_difference(coarse, canvas_signature(page, index=1)) > 0.05
    save_screenshot(page, "jupyter-ivf-fine", ".feder-root >> nth=1")
    _show(page, 1, "projection")
    save_screenshot(page, "jupyter-ivf-projection", ".feder-root >> nth=1")


def test_hover_loads_a_thumbnail_from_the_kernel(session: tuple[Any, RequestLog]) -> None:
    page, _ = session
    _show(page, 1, "fine")
    target = _targets(page, 1)[-1]
    move_to(page, _root(page, 1).locator("canvas.feder-canvas"), target["x"], target["y"])
    page.wait_for_function(
        """() => {
          const tt = document.querySelectorAll('.feder-root')[1].querySelector('.feder-tooltip');
          const img = tt && !tt.hidden && tt.querySelector('img');
          return !!img && img.complete && img.naturalWidth > 0;
        }""", timeout=15_000)
    save_screenshot(page, "jupyter-hover", ".feder-root >> nth=1")


def test_hnsw_animation_advances(session: tuple[Any, RequestLog]) -> None:
    page, _ = session
    root = _root(page, 2)
    root.scroll_into_view_if_needed()
    slider = root.locator(".feder-slider")
    root.locator(".feder-step").click()
    first = int(slider.input_value())
    root.locator(".feder-play").click()
    page.wait_for_function(
        "([v]) => +document.querySelectorAll('.feder-root')[2]"
        ".querySelector('.feder-slider').value > v + 3", arg=[first], timeout=10_000)
    save_screenshot(page, "jupyter-hnsw-playing", ".feder-root >> nth=2")


def test_click_selection_reaches_python(session: tuple[Any, RequestLog]) -> None:
    page, _ = session
    _show(page, 1, "fine")
    target = next(t for t in _targets(page, 1) if "id" in t)
    click_at(page, _root(page, 1).locator("canvas.feder-canvas"), target["x"], target["y"])
    want = int(target["id"])
    deadline = time.monotonic() + 10
    while True:
        seen = json.loads(_python(page, "import json; print(json.dumps(w.selected_ids))"))
        if [int(x) for x in seen] == [want] or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert [int(x) for x in seen] == [want]


def test_two_widgets_side_by_side_both_fit(session: tuple[Any, RequestLog]) -> None:
    """Two 900 px widgets in an HBox at a 1,300 px window: both shrink to share the row."""
    page, _ = session
    left, right = _root(page, 3), _root(page, 4)
    right.scroll_into_view_if_needed()
    area = page.evaluate("""() => { const r = document.querySelectorAll('.feder-root')[4]
        .closest('.jp-OutputArea-output').getBoundingClientRect();
        return {x: r.x, y: r.y, width: r.width, height: r.height}; }""")
    a, b = left.bounding_box(), right.bounding_box()
    assert a is not None and b is not None and area is not None
    assert a["x"] + a["width"] <= b["x"] + 1  # side by side, not overlapping
    assert b["x"] + b["width"] <= area["x"] + area["width"] + 1  # the second is not cut off
    assert a["width"] >= 400 and b["width"] >= 400
    for i in (3, 4):
        canvas = _root(page, i).locator("canvas.feder-canvas").bounding_box()
        root = _root(page, i).bounding_box()
        assert canvas["x"] + canvas["width"] <= root["x"] + root["width"] + 1
        assert canvas_ink(page, index=i) > 0.02
    save_screenshot(page, "jupyter-hbox")


def test_slider_keys_step_the_replay(session: tuple[Any, RequestLog]) -> None:
    page, _ = session
    root = _root(page, 2)
    root.scroll_into_view_if_needed()
    slider = root.locator(".feder-slider")
    slider.focus()
    for key in ("Home", "ArrowRight", "ArrowRight"):  # JupyterLab binds arrows to cells
        page.keyboard.press(key)
    assert slider.input_value() == root.get_attribute("data-feder-pos") == "2"


def test_the_nprobe_control_reruns_the_search_in_the_kernel(
        session: tuple[Any, RequestLog]) -> None:
    page, _ = session
    root = _root(page, 1)
    root.scroll_into_view_if_needed()
    assert root.locator(".feder-recall").text_content().startswith("recall@5 ")
    slider = root.locator(".feder-param-slider")
    slider.evaluate("(s) => { s.value = s.max; s.dispatchEvent(new Event('change')); }")
    deadline = time.monotonic() + 15
    while True:
        nprobe = _python(page, "print(w.trace.params['nprobe'], w.explanation.recall)").split()
        if (nprobe and nprobe[0] == "6") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert nprobe[0] == "6"  # nlist: every list probed, so recall is 1
    assert float(nprobe[1]) == 1.0
    page.wait_for_function(
        "() => document.querySelectorAll('.feder-root')[1].querySelector('.feder-recall')"
        ".textContent === 'recall@5 1.00'", timeout=10_000)
    assert root.locator(".feder-param-value").text_content() == "6"
    save_screenshot(page, "jupyter-nprobe-control", ".feder-root >> nth=1")


def test_a_clicked_hnsw_node_gets_its_entry_route_from_the_kernel(
        session: tuple[Any, RequestLog]) -> None:
    page, _ = session
    _show(page, 2, "overview")
    root = _root(page, 2)
    root.scroll_into_view_if_needed()
    node = _targets(page, 2)[-1]  # a node of the lowest shown level
    click_at(page, root.locator("canvas.feder-canvas"), node["x"], node["y"])
    page.wait_for_function(
        "() => document.querySelectorAll('.feder-root')[2].querySelector('.feder-panel')"
        ".textContent.includes('path from entry')", timeout=10_000)
    save_screenshot(page, "jupyter-hnsw-entry-path", ".feder-root >> nth=2")


def test_no_request_left_the_machine(session: tuple[Any, RequestLog]) -> None:
    _, log = session
    assert log.external == [], log.external[:5]
