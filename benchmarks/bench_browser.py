"""Browser paint speed of big IVF reports: time to first paint and per-tab switch times.

    .venv/bin/python benchmarks/bench_browser.py [--nlists 16384,4096] [--n 300000] [--dim 64]
                                                 [--runs 5] [--cache-dir ~/.cache/feder-bench]

For each nlist it builds (once, cached under ``--cache-dir``) a faiss ``IVF{nlist},Flat``
index on ``n × dim`` seeded blob data (``bench_core.make_data``), writes the HTML reports a
user makes (``--reports``: ``overview`` = ``FederPy(path).export_html(path)``, the overview
widget alone; ``full`` = ``export_html(path, searches=[searchById(…)])``, the overview widget
then one search widget, whose nprobe control embeds the searches at other nprobe values)
and opens each ``--runs`` times in Debian chromium through
Playwright (``tests/browser_util.py``, 1280 × 900, device scale 1). It measures, in the page
(``performance.now()``, so the Playwright round trips are not counted):

- ``first paint``: navigation start to the frame holding the first drawing of every widget
  (the bootstrap sets ``body[data-feder-ready]`` once each widget is rendered; an init
  script then waits for the next animation frame, which runs after the stages' own draws,
  and a task after it: the frame has been produced). ``ready`` is when the bootstrap ended
  (parsing the page, decoding the data, building the widgets' DOM);
- ``tab switch``: a click on a tab of the search widget to the next frame after it, for the
  first visit of each view (its scene is built then) and for later visits (median), in the
  order overview → coarse → fine → projection → overview …

Goals: first paint ≤ 500 ms and a tab switch ≤ 100 ms at nlist 16,384. Medians of
``--runs`` page loads; the load average before and after is printed (the machine is shared).
``--trace DIR`` also writes a Chrome performance trace of one load and tab cycle per nlist
(open it in chrome://tracing or the DevTools Performance panel).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import bench_core
from browser_util import chromium_available, launch_chromium

GOALS_MS = {"first paint": 500.0, "tab switch": 100.0}
VIEWS = ("overview", "coarse", "fine", "projection")

# Runs before the page's scripts: note when the bootstrap is done and when the next frame
# (which holds the widgets' first drawing: their stages asked for it earlier) was produced.
PAINT_PROBE = """
(() => {
  const obs = new MutationObserver(() => {
    const body = document.body;
    if (!body || body.dataset.federReady !== '1' || window.__federReady != null) return;
    window.__federReady = performance.now();
    obs.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__federPaint = performance.now(); }, 0));
  });
  obs.observe(document, {attributes: true, subtree: true,
                          attributeFilter: ['data-feder-ready']});
})();
"""

SWITCH = """
async ([index, view]) => {
  const root = document.querySelectorAll('.feder-root')[index];
  const tab = root.querySelector(`.feder-tab[data-view='${view}']`);
  if (!tab || tab.disabled) return null;
  const t0 = performance.now();
  tab.click();
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const ms = performance.now() - t0;
  return root.dataset.federView === view ? ms : -1;
}
"""


def index_path(cache: Path, n: int, dim: int, nlist: int, seed: int) -> Path:
    return cache / f"browser_ivf_n{n}_d{dim}_nl{nlist}_s{seed}.index"


def build_index(path: Path, n: int, dim: int, nlist: int, seed: int) -> None:
    """A faiss ``IVF{nlist},Flat`` (L2) on seeded blob data, written once."""
    if path.exists():
        return
    import faiss

    t0 = time.perf_counter()
    data = bench_core.make_data(n, dim, seed)
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, nlist)
    index.cp.seed = seed
    index.cp.niter = 10
    index.train(data)
    index.add(data)
    index.nprobe = 16
    path.parent.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    print(f"built {path.name} in {time.perf_counter() - t0:.0f} s", flush=True)


def write_report(index_file: Path, out: Path, kind: str) -> tuple[Path, float]:
    """The report of the overview alone (``kind="overview"``) or of the overview and one
    search (``"full"``); returns its path and build seconds."""
    from feder import FederPy

    t0 = time.perf_counter()
    fed = FederPy(str(index_file), "faiss", width=1000, height=600)
    searches = []
    if kind == "full":
        searches.append(fed.setSearchParams({"k": 10, "nprobe": 16}).searchById(40))
    fed.export_html(out, searches=searches, title=f"bench {index_file.stem}")
    return out, time.perf_counter() - t0


def measure(page: Any, report: Path) -> dict[str, Any]:
    """One fresh load of ``report`` and one cycle through the search widget's tabs."""
    page.goto(report.as_uri())
    deadline = time.monotonic() + 120
    # polled: the report's CSP forbids the string evaluation wait_for_function uses
    while page.evaluate("() => window.__federPaint == null"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{report} did not paint within 120 s")
        time.sleep(0.05)
    if page.evaluate("() => document.body.dataset.federError") == "1":
        raise RuntimeError(f"{report} failed to render")
    out: dict[str, Any] = page.evaluate(
        "() => ({ready: window.__federReady, paint: window.__federPaint})")
    first: dict[str, float] = {}
    again: list[float] = []
    out["first"], out["again"], out["again_max"] = first, float("nan"), float("nan")
    if page.evaluate("() => document.querySelectorAll('.feder-root').length") < 2:
        return out  # the overview alone: no tabs to switch
    start = page.evaluate(
        "() => document.querySelectorAll('.feder-root')[1].dataset.federView")
    order = [v for v in VIEWS if v != start]
    for view in [*order, start, *order, start]:
        ms = page.evaluate(SWITCH, [1, view])
        if ms is None:
            continue
        if ms < 0:
            raise RuntimeError(f"the {view} tab did not open")
        if view in first or view == start:
            again.append(ms)
        else:
            first[view] = ms
    out["first"] = first
    out["again"] = statistics.median(again) if again else float("nan")
    out["again_max"] = max(again) if again else float("nan")
    return out


def run(args: argparse.Namespace) -> int:
    if not chromium_available():
        print("needs Debian chromium (/usr/bin/chromium) and the playwright package")
        return 2
    from playwright.sync_api import sync_playwright

    cache = Path(args.cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        for nlist, kind in [(int(v), kind) for v in args.nlists.split(",")
                            for kind in args.reports.split(",")]:
            path = index_path(cache, args.n, args.dim, nlist, args.seed)
            build_index(path, args.n, args.dim, nlist, args.seed)
            report, built = write_report(path, cache / f"{path.stem}-{kind}.html", kind)
            mb = report.stat().st_size / 1e6
            print(f"IVF{nlist} {kind}: report {mb:.1f} MB written in {built:.1f} s; "
                  f"load average {os.getloadavg()[0]:.2f}", flush=True)
            results = []
            for run_no in range(args.runs + 1):  # the first load warms chromium's caches
                context = browser.new_context(viewport={"width": 1280, "height": 900},
                                              device_scale_factor=1, color_scheme="light")
                context.add_init_script(PAINT_PROBE)
                page = context.new_page()
                tracing = args.trace and run_no == 1
                if tracing:
                    browser.start_tracing(page=page, screenshots=False,
                                          categories=["devtools.timeline", "v8.execute",
                                                      "disabled-by-default-devtools.timeline"])
                result = measure(page, report)
                if tracing:
                    trace = Path(args.trace) / f"trace-ivf{nlist}-{kind}.json"
                    trace.parent.mkdir(parents=True, exist_ok=True)
                    trace.write_bytes(browser.stop_tracing())
                    print(f"  trace: {trace}")
                context.close()
                if run_no:
                    results.append(result)
            rows.append((f"IVF{nlist} {kind}", mb, results))
        browser.close()

    print(f"\nload average after: {os.getloadavg()[0]:.2f} (median of {args.runs} loads; ms)")
    print(f"{'report':<17} {'MB':>5} {'ready':>7} {'first paint':>12} "
          + " ".join(f"{'→' + v:>12}" for v in VIEWS) + f" {'revisit':>8} {'max':>6}  goals")
    for name, mb, results in rows:
        def med(get: Any, results: list[dict[str, Any]] = results) -> float:
            values = [v for v in (get(r) for r in results) if v is not None]
            return statistics.median(values) if values else float("nan")

        paint = med(lambda r: r["paint"])
        firsts = [med(lambda r, v=v: r["first"].get(v)) for v in VIEWS]
        again = med(lambda r: r["again"])
        worst = max(r["again_max"] for r in results)
        switch = max([again, *[f for f in firsts if not np.isnan(f)]])
        switched = not np.isnan(switch)
        verdict = (f"paint ≤ {GOALS_MS['first paint']:g} "
                   f"{'ok' if paint <= GOALS_MS['first paint'] else 'MISSED'}")
        if switched:
            verdict += (f", switch ≤ {GOALS_MS['tab switch']:g} "
                        f"{'ok' if switch <= GOALS_MS['tab switch'] else 'MISSED'}")
        print(f"{name:<17} {mb:>5.1f} {med(lambda r: r['ready']):>7.0f} {paint:>12.0f} "
              + " ".join(f"{f:>12.0f}" for f in firsts) + f" {again:>8.0f} {worst:>6.0f}  "
              + verdict)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nlists", default="16384,4096")
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reports", default="overview,full",
                        help="overview: the overview widget alone; full: + one search widget")
    parser.add_argument("--cache-dir", default="~/.cache/feder-bench")
    parser.add_argument("--trace", default=None, help="write a Chrome trace per nlist here")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
