"""feder vs Feder JS (npm ``@zilliz/feder@0.2.4``) on the same index files.

Dev-only (never part of the tests). First run the peer harness, which builds the files,
writes ``manifest.json`` and times Feder JS headless in Node:

    bash ../shared/tools/feder_js/run.sh --skip-large --runs 1     # quick: 20k files only
    bash ../shared/tools/feder_js/run.sh                           # full: + 200k files, ~8 min

then time feder on the files of that manifest and print Feder-JS-time / feder-time per figure:

    .venv/bin/python benchmarks/bench_vs_feder_js.py [--peer-root DIR] [--runs 5] [--burn 1]

``--peer-root`` defaults to ``$PEER_FEDER_ROOT`` or ``$TMPDIR/peer_feder`` (where ``run.sh``
puts ``data/manifest.json`` and ``results/feder_js.jsonl``). Each run follows Feder JS's
protocol: parse the file again, search query row 0 (the stored vector of id 123, k=10,
nprobe=8 / ef=64), lay out the overview, lay out that search's views. Figures (feder vs the
field of Feder JS's jsonl):

- parse: ``feder.load_index(path)`` vs ``parse_ms``;
- search: ``feder.trace.search`` on the fresh model vs ``search_ms``;
- overview: ``ViewSession.overview`` (IVF: cluster map + members; HNSW: levels and entry
  paths) vs ``layout_overview_ms`` (unpaced: UMAP of the centroids + d3 for IVF);
- search view: ``ViewSession.search_payload`` (IVF: query position, polar, PCA projection;
  HNSW: replay geometry) vs ``layout_search_ms`` (unpaced: UMAP of the candidates + d3);
- UMAP (IVF): feder's UMAP of the same points in a fresh process, first call and warm, vs
  ``layout_search_projection_ms`` (umap-js).

Times are medians over ``--runs`` (after one warm-up run that pays imports); ``warm
search`` is the median of the other 16 queries on one model. The load average (1 min) is
printed before and after: on a shared 2-core machine, read the figures with it.
``--burn N`` repeats the feder timings with N busy Python processes beside them and prints
the p95 / median of each figure (goal ≤ 2: no BLAS spinning under contention);
``--limit-blas`` runs every pass inside :func:`feder.threads.blas_limits` (what bounding the
trace and session entry points gives) to compare with the default.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

if importlib.util.find_spec("feder") is None:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feder
import feder.trace
from feder.media import MediaStore
from feder.params import ViewParams
from feder.session import ViewSession
from feder.threads import blas_limits

FIGURES = ("parse", "search", "overview", "search_view")
JS_FIELDS = {"parse": "parse_ms", "search": "search_ms", "overview": "layout_overview_ms",
             "search_view": "layout_search_ms"}
GOAL = 10.0
LIMIT_BLAS = False  # --limit-blas: each run inside feder.threads.blas_limits()


def peer_root(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("PEER_FEDER_ROOT")
    return Path(env) if env else Path(tempfile.gettempdir()) / "peer_feder"


def load_js(path: Path) -> dict[str, dict[str, Any]]:
    """Feder JS's lines by index name (the last line wins)."""
    out: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            row = json.loads(line)
            out[str(row.get("index"))] = row
    return out


def search_params(entry: dict[str, Any]) -> dict[str, Any]:
    if entry["source"] == "faiss":
        return {"nprobe": int(entry.get("nprobe", 8))}
    return {"ef": int(entry.get("ef", 64))}


def one_run(entry: dict[str, Any], queries: np.ndarray) -> tuple[dict[str, float], bool]:
    """One pass of Feder JS's protocol on a fresh model: ms per figure, top-k == expected."""
    with blas_limits() if LIMIT_BLAS else contextlib.nullcontext():
        return _one_run(entry, queries)


def _one_run(entry: dict[str, Any], queries: np.ndarray) -> tuple[dict[str, float], bool]:
    space = entry["metric"] if entry["source"] == "hnswlib" else None
    params = search_params(entry)
    k = int(entry.get("k", 10))
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    index = feder.load_index(entry["path"], space=space)
    times["parse"] = time.perf_counter() - t0
    model = index.model
    t0 = time.perf_counter()
    trace = feder.trace.search(model, queries[0], k, **params)
    times["search"] = time.perf_counter() - t0
    session = ViewSession(model, MediaStore(None), ViewParams())
    t0 = time.perf_counter()
    session.overview  # noqa: B018 - computing the cached payload is what is timed
    times["overview"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    session.search_payload(trace, target_id=int(entry.get("query_id", 123)))
    times["search_view"] = time.perf_counter() - t0
    expected = json.loads(Path(entry["queries_json"]).read_text()).get("expected_ids")
    ok = expected is not None and [int(i) for i in trace.ids[:k]] == [int(i) for i in
                                                                       expected[0][:k]]
    return {key: value * 1e3 for key, value in times.items()}, ok


def warm_search(entry: dict[str, Any], queries: np.ndarray) -> float:
    index = feder.load_index(entry["path"],
                             space=entry["metric"] if entry["source"] == "hnswlib" else None)
    params = search_params(entry)
    feder.trace.search(index.model, queries[0], 10, **params)
    times = []
    for q in queries[1:]:
        t0 = time.perf_counter()
        feder.trace.search(index.model, q, 10, **params)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


UMAP_CHILD = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
import feder, feder.trace
from feder.layouts.projection import project
entry = json.loads(sys.argv[1])
model = feder.load_index(entry["path"]).model
trace = feder.trace.search(model, np.load(entry["queries_npy"])[0], 10,
                           nprobe=int(entry.get("nprobe", 8)))
points = np.concatenate([model.list_vectors(int(lst)) for lst in trace.coarse.probed_lists])
t1 = time.perf_counter()
project(points, trace.query, "umap", seed=7)
t2 = time.perf_counter()
warm = []
for _ in range(int(sys.argv[2])):
    t3 = time.perf_counter()
    project(points, trace.query, "umap", seed=7)
    warm.append(time.perf_counter() - t3)
print(json.dumps({"points": len(points), "first_ms": (t2 - t1) * 1e3,
                  "process_ms": (t2 - t0) * 1e3, "warm_ms": float(np.median(warm)) * 1e3}))
"""


def umap_figures(entry: dict[str, Any], runs: int) -> dict[str, float]:
    """feder's UMAP of the points Feder JS's search view gives umap-js (every vector of the
    probed lists), in a fresh process: its first call (the process's imports and the
    kernel's load from numba's disk cache included) and the median of ``runs`` more."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", UMAP_CHILD, json.dumps(entry), str(runs)],
                          capture_output=True, text=True, env=env, check=True)
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def measure(entry: dict[str, Any], runs: int) -> tuple[dict[str, list[float]], bool]:
    queries = np.load(entry["queries_npy"])
    one_run(entry, queries)  # warm-up: imports, first-call costs
    samples: dict[str, list[float]] = {key: [] for key in FIGURES}
    ok = True
    for _ in range(runs):
        times, match = one_run(entry, queries)
        ok &= match
        for key in FIGURES:
            samples[key].append(times[key])
    return samples, ok


def _burn(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 1103515245 + 12345) % 2**31


def with_burners(count: int, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` with ``count`` busy processes beside it."""
    stop = multiprocessing.Event()
    procs = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True)
             for _ in range(count)]
    for p in procs:
        p.start()
    try:
        time.sleep(0.5)
        return fn()
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=5)


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def fmt_ratio(js: float | None, ours: float | None) -> str:
    if js is None or ours is None or ours <= 0:
        return "–"
    ratio = js / ours
    mark = "" if ratio >= GOAL else " <"
    return (f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×") + mark


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-root", help="run.sh's folder (default $PEER_FEDER_ROOT or "
                        "$TMPDIR/peer_feder)")
    parser.add_argument("--manifest", help="default <peer-root>/data/manifest.json")
    parser.add_argument("--js-results", help="default <peer-root>/results/feder_js.jsonl")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", help="comma-separated index names")
    parser.add_argument("--burn", type=int, default=0,
                        help="also time with N busy processes beside feder (p95/median)")
    parser.add_argument("--burn-runs", type=int, default=20)
    parser.add_argument("--limit-blas", action="store_true",
                        help="run each pass inside feder.threads.blas_limits() (what wrapping "
                        "the trace and session entry points does)")
    args = parser.parse_args()
    global LIMIT_BLAS
    LIMIT_BLAS = args.limit_blas
    from feder.trace import accel

    if accel.enabled():  # the numba kernels warm, so no warm-up thread shares the timings
        accel.wait_ready(600)

    root = peer_root(args.peer_root)
    manifest_path = Path(args.manifest) if args.manifest else root / "data" / "manifest.json"
    js_path = Path(args.js_results) if args.js_results else root / "results" / "feder_js.jsonl"
    if not manifest_path.exists():
        print(f"no manifest at {manifest_path}: run ../shared/tools/feder_js/run.sh first",
              file=sys.stderr)
        return 2
    entries = json.loads(manifest_path.read_text())["indexes"]
    if args.only:
        wanted = set(args.only.split(","))
        entries = [e for e in entries if e["name"] in wanted]
    js = load_js(js_path)
    if not js:
        print(f"(no Feder JS results at {js_path}: ratios left blank)", file=sys.stderr)

    load_before = os.getloadavg()
    rows = []
    for entry in entries:
        samples, ok = measure(entry, args.runs)
        med = {key: statistics.median(v) for key, v in samples.items()}
        rows.append((entry, med, ok, warm_search(entry, np.load(entry["queries_npy"]))))
        print(f"[feder] {entry['name']}: " + ", ".join(f"{k} {fmt_ms(v)} ms"
                                                       for k, v in med.items()),
              file=sys.stderr, flush=True)
    load_after = os.getloadavg()

    print(f"\nfeder {feder.__version__ if hasattr(feder, '__version__') else ''} vs Feder JS "
          f"— ms, medians of {args.runs} (feder) / of the JS run's runs; ratio = JS / feder "
          f"(goal ≥ {GOAL:g}×, '<' marks a miss)")
    pools = "every pass inside blas_limits()" if LIMIT_BLAS else "as feder sets them"
    print(f"BLAS/OpenMP pools: {pools}")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
          f"{load_after[2]:.2f}; {os.cpu_count()} CPUs")
    header = f"{'index':<24}{'n':>7}"
    for key in FIGURES:
        header += f" | {key:>11} {'JS':>6} {'ratio':>7}"
    print(header + " | warm search | top-k | JS notes")
    print("-" * len(header))
    for entry, med, ok, warm in rows:
        row = js.get(entry["name"], {})
        line = f"{entry['name']:<24}{entry['n']:>7}"
        for key in FIGURES:
            js_value = row.get(JS_FIELDS[key])
            js_value = float(js_value) if isinstance(js_value, (int, float)) else None
            line += f" | {fmt_ms(med[key]):>11} {fmt_ms(js_value):>6} " \
                    f"{fmt_ratio(js_value, med[key]):>7}"
        errors = row.get("errors") or []
        note = "" if not row else ("top-k ok" if row.get("topk_match") else "JS top-k wrong")
        if errors:
            note = "; ".join(str(e)[:60] for e in errors[:1])
        line += f" | {fmt_ms(warm):>11} | {'ok' if ok else 'DIFF':>5} | {note}"
        print(line)
    print("JS figures are its unpaced compute (layouts include UMAP for IVF: "
          "layout_*_projection_ms); feder's IVF search view uses its PCA projection "
          "(projectMethod='pca', the default).")

    umap_rows = [(entry, js.get(entry["name"], {})) for entry, _, _, _ in rows
                 if entry["source"] == "faiss"]
    umap_rows = [(e, r) for e, r in umap_rows if r.get("layout_search_projection_ms")]
    if umap_rows:
        print("\nUMAP of the search view's points (feder's UMAP, 200 epochs, vs umap-js in "
              "Feder JS's search; goal: warm ≥ 5×, first call in a fresh process ≤ 3 s)")
        for entry, row in umap_rows:
            got = umap_figures(entry, args.runs)
            js_ms = float(row["layout_search_projection_ms"])
            js_points = row.get("search_view_points")
            same = js_points == int(got["points"])
            print(f"{entry['name']:<24} {int(got['points']):>5} points: warm "
                  f"{got['warm_ms']:.0f} ms vs umap-js {js_ms:.0f} ms = "
                  f"{js_ms / got['warm_ms']:.1f}×"
                  f"{'' if same else f' (not comparable: umap-js laid out {js_points} points)'}"
                  f"; first call {got['first_ms']:.0f} ms (process start to layout "
                  f"{got['process_ms']:.0f} ms)")

    if args.burn:
        print(f"\nwith {args.burn} busy process(es) beside feder: p95 / median over "
              f"{args.burn_runs} runs (goal ≤ 2)")
        for entry, _, _, _ in rows:
            burned = with_burners(args.burn, lambda e=entry: measure(e, args.burn_runs)[0])
            cells = []
            for key in FIGURES:
                values = np.asarray(burned[key])
                cells.append(f"{key} {np.median(values):.1f} ms p95/med "
                             f"{np.percentile(values, 95) / np.median(values):.2f}")
            print(f"{entry['name']:<24} " + " | ".join(cells))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
