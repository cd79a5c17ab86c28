"""Benchmark feder's diagnostics against the libraries doing the same work, in one run.

    .venv/bin/python benchmarks/bench_diagnose.py
    .venv/bin/python benchmarks/bench_diagnose.py --queries 200 --hnsw-queries 100 --big 0

Indexes are built once and cached with ``bench_core``'s builders and cache paths (same data,
same files as the other benchmarks). Everything runs on one thread: faiss
(``omp_set_num_threads(1)``), hnswlib (``num_threads=1``) and numpy's BLAS (threadpoolctl).

- IVF_FLAT sweep, ``--queries`` × nprobe {1, 2, …, 64}, 100k×128 nlist 1024: ``feder.sweep``
  vs faiss building the same table (an ``IndexFlatL2`` search for the truth, then one IVF
  search of all queries per nprobe) — goal ≤ 1.0×.
- HNSW sweep, ``--hnsw-queries`` × ef {16, …, 256}, 100k×128 M=16: ``feder.sweep`` (all
  queries in lockstep; searches an exact tie decides are replayed) vs hnswlib ``knn_query``
  at each ef plus a brute-force truth (faiss ``IndexFlatL2``, the fastest exact search at
  hand) — goal ≤ 10×.
- ``feder.health`` on the 1M HNSW (M=16) and the 1M IVF (nlist 4096) — goals ≤ 2 s / 0.2 s;
  a fresh model each run, so the reachability BFS is included.
- ``explain`` overhead on 1M×128 (memory-mapped): ``idx.explain(q)`` minus ``idx.search(q)``
  per query, median — goal ≤ 50 ms.

``--big 0`` skips the 1M indexes (building the 1M HNSW takes minutes).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
if importlib.util.find_spec("feder") is None:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_core
import faiss
import hnswlib
from threadpoolctl import threadpool_limits

import feder

GOALS = {"ivf_sweep": 1.0, "hnsw_sweep": 10.0, "health_hnsw_s": 2.0, "health_ivf_s": 0.2,
         "explain_ms": 50.0}
NPROBES = [1, 2, 4, 8, 16, 32, 64]
EFS = [16, 32, 64, 128, 256]


CPU: dict[str, float] = {}


def timed(fn: Callable[[], Any], label: str = "") -> tuple[float, Any]:
    """Wall seconds of ``fn()`` and its result; the CPU seconds go to ``CPU[label]`` (the
    machine may be shared: CPU time is the steadier measure of the work)."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    if label:
        CPU[label] = time.process_time() - c0
    return wall, out


def cpu_ratio(a: str, b: str) -> str:
    return f"cpu {CPU[a]:.2f}/{CPU[b]:.2f} s = {CPU[a] / CPU[b]:.2f}×"


def recall_table(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean |found ∩ truth| / k over the rows."""
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (k * truth.shape[0])


def bench_ivf_sweep(args: argparse.Namespace, rows: list, notes: list) -> None:
    n = 100_000
    path = bench_core.ivf_cache_path(args.cache_dir, n, args.dim, args.seed)
    bench_core.build_ivf(path, n, args.dim, args.seed)
    index = faiss.read_index(str(path))
    data = bench_core.make_data(n, args.dim, args.seed)  # what the cached index holds
    qs = bench_core.make_data(args.queries, args.dim, args.seed + 7)
    k = args.k

    def faiss_table() -> list[float]:
        flat = faiss.IndexFlatL2(args.dim)
        flat.add(data)
        truth = flat.search(qs, k)[1]
        out = []
        for p in NPROBES:
            index.nprobe = p
            out.append(recall_table(index.search(qs, k)[1], truth, k))
        return out

    idx = feder.load_index(path)
    t_lib, lib_recall = timed(faiss_table, "ivf_lib")
    t_fed, s = timed(lambda: idx.sweep(qs, k=k, nprobe=NPROBES), "ivf_fed")
    t_fed2, _ = timed(lambda: idx.sweep(qs, k=k, nprobe=NPROBES))
    diff = float(np.max(np.abs(np.asarray(lib_recall) - s.recall)))
    rows.append((f"IVF1024 n=100k, {args.queries} q", f"sweep nprobe 1..64 k={k}",
                 f"{t_fed:.2f} s (again {t_fed2:.2f} s)", f"{t_lib:.2f} s", t_fed / t_lib,
                 f"≤ {GOALS['ivf_sweep']:g}",
                 f"max |Δrecall| {diff:.4f}; {cpu_ratio('ivf_fed', 'ivf_lib')}"))
    notes.append("IVF recall by nprobe: " + ", ".join(
        f"{p}: {r:.3f}" for p, r in zip(NPROBES, s.recall.tolist(), strict=True)))


def bench_hnsw_sweep(args: argparse.Namespace, rows: list, notes: list) -> None:
    n = 100_000
    path = bench_core.hnsw_cache_path(args.cache_dir, n, args.dim, args.seed)
    bench_core.build_hnsw(path, n, args.dim, args.seed)
    lib = hnswlib.Index(space="l2", dim=args.dim)
    lib.load_index(str(path))
    lib.set_num_threads(1)
    data = bench_core.make_data(n, args.dim, args.seed)
    qs = bench_core.make_data(args.hnsw_queries, args.dim, args.seed + 7)
    k = args.k

    def hnswlib_table() -> list[float]:
        flat = faiss.IndexFlatL2(args.dim)
        flat.add(data)
        truth = flat.search(qs, k)[1]
        out = []
        for ef in EFS:
            lib.set_ef(ef)
            out.append(recall_table(lib.knn_query(qs, k=k, num_threads=1)[0].astype(np.int64),
                                    truth, k))
        return out

    idx = feder.load_index(path, space="l2")
    t_lib, lib_recall = timed(hnswlib_table, "hnsw_lib")
    t_fed, s = timed(lambda: idx.sweep(qs, k=k, ef=EFS), "hnsw_fed")
    diff = float(np.max(np.abs(np.asarray(lib_recall) - s.recall)))
    rows.append((f"HNSW M16 n=100k, {args.hnsw_queries} q", f"sweep ef 16..256 k={k}",
                 f"{t_fed:.2f} s", f"{t_lib:.3f} s", t_fed / t_lib,
                 f"≤ {GOALS['hnsw_sweep']:g}",
                 f"max |Δrecall| {diff:.4f}; {cpu_ratio('hnsw_fed', 'hnsw_lib')}"))
    per_ef = s.per_query_distances.mean(axis=1)
    notes.append("HNSW recall / distance computations by ef: " + ", ".join(
        f"{ef}: {r:.3f} / {w:.0f}" for ef, r, w in zip(EFS, s.recall.tolist(), per_ef.tolist(),
                                                      strict=True)))


def bench_health(args: argparse.Namespace, rows: list, notes: list) -> None:
    n = args.big
    ivf_path = bench_core.ivf_cache_path(args.cache_dir, n, args.dim, args.seed)
    built = bench_core.build_ivf(ivf_path, n, args.dim, args.seed)
    if built:
        notes.append(f"built IVF{bench_core.nlist_for(n)},Flat n={n} in {built:.0f} s")
    times, cpus = [], []
    for _ in range(args.repeat):
        idx = feder.load_index(ivf_path)
        times.append(timed(idx.health, "h")[0])
        cpus.append(CPU["h"])
    t_ivf = statistics.median(times)
    lib = faiss.read_index(str(ivf_path))
    t_lib, want = timed(lib.invlists.imbalance_factor)
    got = idx.health().imbalance_factor
    rows.append((f"IVF{bench_core.nlist_for(n)} n={n:,}", "health", f"{t_ivf * 1e3:.1f} ms",
                 f"{t_lib * 1e3:.2f} ms (imbalance only)", t_ivf / t_lib,
                 f"≤ {GOALS['health_ivf_s'] * 1e3:g} ms",
                 f"imbalance {got:.4f} vs faiss {want:.4f}; cpu "
                 f"{statistics.median(cpus) * 1e3:.1f} ms"))

    hnsw_path = bench_core.hnsw_cache_path(args.cache_dir, n, args.dim, args.seed)
    built = bench_core.build_hnsw(hnsw_path, n, args.dim, args.seed)
    if built:
        notes.append(f"built HNSW M=16 n={n} in {built:.0f} s")
    times, cpus = [], []
    for _ in range(args.repeat):
        hidx = feder.load_index(hnsw_path, space="l2")
        t, h = timed(hidx.health, "h")
        times.append(t)
        cpus.append(CPU["h"])
    t_h = statistics.median(times)
    t_load, _ = timed(lambda: feder.load_index(hnsw_path, space="l2"))
    rows.append((f"HNSW M16 n={n:,}", "health (fresh model)", f"{t_h:.2f} s",
                 f"load {t_load:.2f} s", t_h / t_load, f"≤ {GOALS['health_hnsw_s']:g} s",
                 f"cpu {statistics.median(cpus):.2f} s; {h.unreachable.size} unreachable, "
                 f"levels {h.nodes_per_level.tolist()}"))


def bench_explain(args: argparse.Namespace, rows: list, notes: list) -> None:
    n = args.big
    qs = bench_core.make_data(args.explain_queries, args.dim, args.seed + 11)
    k = args.k
    cases = [("IVF", bench_core.ivf_cache_path(args.cache_dir, n, args.dim, args.seed),
              {"nprobe": 16}, None),
             ("HNSW", bench_core.hnsw_cache_path(args.cache_dir, n, args.dim, args.seed),
              {"ef": 64}, "l2")]
    for name, path, params, space in cases:
        idx = feder.load_index(path, space=space)
        idx.explain(qs[0], k=k, **params)  # first touch of the map and the lists
        search, explained, cpu_s, cpu_e = [], [], [], []
        recalls = []
        for q in qs:
            search.append(timed(lambda q=q, i=idx, p=params: i.search(q, k=k, **p), "s")[0])
            t, e = timed(lambda q=q, i=idx, p=params: i.explain(q, k=k, **p), "e")
            explained.append(t)
            cpu_s.append(CPU["s"])
            cpu_e.append(CPU["e"])
            recalls.append(e.recall)
        t_s, t_e = statistics.median(search), statistics.median(explained)
        over = (t_e - t_s) * 1e3
        cpu_over = (statistics.median(cpu_e) - statistics.median(cpu_s)) * 1e3
        rows.append((f"{name} n={n:,} (mapped)", f"explain {params} k={k}",
                     f"{t_e * 1e3:.1f} ms", f"search {t_s * 1e3:.1f} ms", t_e / t_s,
                     f"+{over:.0f} ms ≤ {GOALS['explain_ms']:g} ms",
                     f"cpu +{cpu_over:.0f} ms; mean recall {np.mean(recalls):.3f}"))


def print_table(rows: list) -> None:
    head = ("index", "measure", "feder", "library", "ratio", "goal", "check")
    cells = [head] + [(a, b, c, d, f"{e:.2f}×", f, g) for a, b, c, d, e, f, g in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(head))]
    for j, row in enumerate(cells):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if j == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=1000, help="IVF sweep queries")
    parser.add_argument("--hnsw-queries", type=int, default=1000, help="HNSW sweep queries")
    parser.add_argument("--explain-queries", type=int, default=20)
    parser.add_argument("--big", type=int, default=1_000_000,
                        help="size of the health / explain indexes; 0 skips them")
    parser.add_argument("--repeat", type=int, default=3, help="runs per health measurement")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "feder-bench"))
    parser.add_argument("--skip", default="", help="comma list of: ivf,hnsw,health,explain")
    args = parser.parse_args(argv)
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    faiss.omp_set_num_threads(1)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    rows: list = []
    notes: list[str] = []
    with threadpool_limits(limits=1):
        if "ivf" not in skip:
            bench_ivf_sweep(args, rows, notes)
        if "hnsw" not in skip:
            bench_hnsw_sweep(args, rows, notes)
        if args.big and "health" not in skip:
            bench_health(args, rows, notes)
        if args.big and "explain" not in skip:
            bench_explain(args, rows, notes)

    print(f"dim={args.dim}, k={args.k}, one thread everywhere, faiss {faiss.__version__}, "
          f"hnswlib {version('hnswlib')}, numpy {np.__version__}")
    print_table(rows)
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
