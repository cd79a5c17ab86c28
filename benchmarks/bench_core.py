"""Benchmark feder's readers and search replay against faiss and hnswlib themselves.

    .venv/bin/python benchmarks/bench_core.py          # every format at 100k and 1M
    .venv/bin/python benchmarks/bench_core.py --sizes 100000 --hnsw-sizes 100000 \
        --faiss-hnsw-sizes 100000 --ivfpq-sizes 100000 --profile

Dev-only, never run by the tests or CI. For every size it builds seeded clustered data once
(d=128, a mixture of 1000 Gaussian blobs) and caches the indexes (``--cache-dir``, default
``$FEDER_BENCH_CACHE`` or ``$TMPDIR/feder-bench``): IVF_FLAT and IVF_PQ with nlist ≈ 4·√n
rounded to a power of two (1024 at 100k, 4096 at 1M), hnswlib HNSW with M=16,
ef_construction=100 and faiss HNSW32. Building the 1M HNSW indexes takes several minutes on
two cores (hnswlib ~3 min, faiss HNSW32 ~6 min), once. Then, in the same process, it measures

- load: ``feder.load_index`` vs ``faiss.read_index`` / ``hnswlib.Index.load_index`` (median of
  ``--repeat`` runs, page cache warm; feder maps the file and builds views, concatenations are
  lazy) — goal ratio ≤ 1;
- IVF: one query at a time, feder's trace vs ``index.search`` at ``--nprobe`` (goal ≤ 3×);
- HNSW: one query at a time at ``--ef``, feder's trace vs ``knn_query`` on one thread
  (``set_num_threads(1)``; goal ≤ 3× hnswlib);
- faiss formats (``--faiss-hnsw-sizes``, ``--ivfpq-sizes``): faiss's own HNSW32 (``IHNf``,
  autofaiss's default) at ``--ef`` (goal ≤ 10 ms) and IVF_PQ (``IwPQ``, PQ dim/4 × 8 bits) at
  ``--nprobe`` (goal ≤ 3× faiss, first visit of the lists included), load and trace against
  faiss's ``read_index`` / ``search`` in the same process;
- the numba kernels' first call (``--jit``, on by default): a fresh process traces one query
  of each kind with an empty numba cache and again with the cache filled: the first search
  (answered by the numpy replay while the kernels warm up in a background thread) and when
  the kernels are ready (compiled, or loaded from the cache); ``FEDER_NUMBA=0`` runs the
  whole benchmark on the numpy replay (otherwise it waits for the kernels before timing);
- the fraction of queries whose trace ids equal the library's ids exactly;
- read vs map (``--read-vs-map``, on by default): each index file loaded in a fresh process
  read into memory and memory-mapped, the load time and the RSS after loading and after one
  search. Files up to ``feder.parsers._reader.MAP_THRESHOLD`` (256 MiB) are read (a file
  rewritten under a loaded index can then never SIGBUS), larger ones mapped and guarded.

Both libraries run single-threaded (one query at a time is what feder replays). The machine's
load average is printed with the figures: on a shared machine, read ratios (measured in the
same run) rather than absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

if importlib.util.find_spec("feder") is None:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faiss
import hnswlib

import feder

GOALS = {"load": 1.0, "ivf": 3.0, "hnsw": 3.0, "hnsw_ms": 10.0}


def make_data(n: int, dim: int, seed: int) -> np.ndarray:
    """``(n, dim) float32``: a mixture of 1000 Gaussian blobs (a little structure, like
    embeddings), generated in chunks so 1M×128 stays cheap."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((1000, dim)).astype(np.float32) * 2
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):
        stop = min(start + 100_000, n)
        which = rng.integers(0, centers.shape[0], stop - start)
        out[start:stop] = centers[which] + rng.standard_normal((stop - start, dim),
                                                                dtype=np.float32)
    return out


def nlist_for(n: int) -> int:
    return 1 << round(math.log2(4 * math.sqrt(n)))


def build_ivf(path: Path, n: int, dim: int, seed: int) -> float:
    if path.exists():
        return 0.0
    t0 = time.perf_counter()
    data = make_data(n, dim, seed)
    nlist = nlist_for(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, nlist)
    rng = np.random.default_rng(seed + 1)
    index.train(data[rng.choice(n, min(n, 64 * nlist), replace=False)])
    index.add(data)
    index.nprobe = 16
    faiss.write_index(index, str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    return time.perf_counter() - t0


def build_hnsw(path: Path, n: int, dim: int, seed: int) -> float:
    if path.exists():
        return 0.0
    t0 = time.perf_counter()
    data = make_data(n, dim, seed)
    index = hnswlib.Index(space="l2", dim=dim)
    index.init_index(max_elements=n, M=16, ef_construction=100, random_seed=seed)
    index.add_items(data, np.arange(n), num_threads=os.cpu_count() or 1)
    index.save_index(str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    return time.perf_counter() - t0


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        del result
    return statistics.median(times)


def per_query(fn, qs: np.ndarray) -> tuple[float, list]:
    """Median seconds per query and the outputs."""
    fn(qs[0])  # warm-up
    times, outs = [], []
    for q in qs:
        t0 = time.perf_counter()
        outs.append(fn(q))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), outs


def profile(fn, qs: np.ndarray, title: str, lines: int = 12) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for q in qs:
        fn(q)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(lines)
    body = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
    return f"--- profile: {title} ({len(qs)} queries, by own time) ---\n{body}"


def ivf_cache_path(cache_dir: str | Path, n: int, dim: int, seed: int) -> Path:
    """Where the benchmark IVF index of this shape is cached (shared with bench_views)."""
    return Path(cache_dir) / f"ivf_n{n}_d{dim}_nl{nlist_for(n)}_s{seed}.index"


def hnsw_cache_path(cache_dir: str | Path, n: int, dim: int, seed: int) -> Path:
    """Where the benchmark HNSW index (M=16, ef_construction=100) is cached."""
    return Path(cache_dir) / f"hnsw_n{n}_d{dim}_M16_efc100_s{seed}.bin"


def bench_ivf(n: int, args, rows: list, notes: list) -> None:
    path = ivf_cache_path(args.cache_dir, n, args.dim, args.seed)
    built = build_ivf(path, n, args.dim, args.seed)
    if built:
        notes.append(f"built IVF{nlist_for(n)},Flat n={n} in {built:.0f} s")
    size_mb = path.stat().st_size / 1e6
    faiss.read_index(str(path))  # warm the page cache
    t_faiss = median_time(lambda: faiss.read_index(str(path)), args.repeat)
    t_feder = median_time(lambda: feder.load_index(path), args.repeat)
    rows.append((f"IVF{nlist_for(n)} n={n:,} ({size_mb:.0f} MB)", "load",
                 f"{t_feder * 1e3:.1f} ms", f"{t_faiss * 1e3:.1f} ms", t_feder / t_faiss,
                 f"≤ {GOALS['load']:g}", ""))

    index = faiss.read_index(str(path))
    parsed = feder.load_index(path)
    qs = make_data(args.queries, args.dim, args.seed + 7)
    params = faiss.SearchParametersIVF(nprobe=args.nprobe)
    k, nprobe = args.k, args.nprobe
    lib_t, lib_out = per_query(lambda q: index.search(q[None], k, params=params)[1][0], qs)
    # First pass: lists are visited for the first time (feder makes an aligned copy of each
    # list and its norms then). Second pass: the same queries again, every list warm.
    for label in ("first visit", "warm"):
        fed_t, fed_out = per_query(lambda q: parsed.search(q, k=k, nprobe=nprobe).ids, qs)
        same = np.mean([np.array_equal(a, b) for a, b in zip(fed_out, lib_out, strict=True)])
        rows.append((f"IVF{nlist_for(n)} n={n:,}", f"trace nprobe={nprobe} k={k} {label}",
                     f"{fed_t * 1e3:.2f} ms", f"{lib_t * 1e3:.2f} ms", fed_t / lib_t,
                     f"≤ {GOALS['ivf']:g}", f"{same:.1%}"))
    if args.profile:
        notes.append(profile(lambda q: parsed.search(q, k=k, nprobe=nprobe), qs[:50],
                             f"IVF n={n} trace"))


def bench_hnsw(n: int, args, rows: list, notes: list) -> None:
    path = hnsw_cache_path(args.cache_dir, n, args.dim, args.seed)
    built = build_hnsw(path, n, args.dim, args.seed)
    if built:
        notes.append(f"built HNSW M=16 efc=100 n={n} in {built:.0f} s")
    size_mb = path.stat().st_size / 1e6

    def lib_load():
        index = hnswlib.Index(space="l2", dim=args.dim)
        index.load_index(str(path))
        return index

    lib_load()
    t_lib = median_time(lib_load, args.repeat)
    t_feder = median_time(lambda: feder.load_index(path, space="l2"), args.repeat)
    rows.append((f"HNSW M16 n={n:,} ({size_mb:.0f} MB)", "load", f"{t_feder * 1e3:.1f} ms",
                 f"{t_lib * 1e3:.1f} ms", t_feder / t_lib, f"≤ {GOALS['load']:g}", ""))

    index = lib_load()
    index.set_ef(args.ef)
    index.set_num_threads(1)
    parsed = feder.load_index(path, space="l2")
    qs = make_data(args.queries, args.dim, args.seed + 7)
    k, ef = args.k, args.ef
    lib_t, lib_out = per_query(lambda q: index.knn_query(q, k=k)[0][0], qs)
    fed_t, fed_out = per_query(lambda q: parsed.search(q, k=k, ef=ef).ids, qs)
    same = np.mean([np.array_equal(a, b) for a, b in zip(fed_out, lib_out, strict=True)])
    rows.append((f"HNSW M16 n={n:,}", f"trace ef={ef} k={k}", f"{fed_t * 1e3:.2f} ms",
                 f"{lib_t * 1e3:.3f} ms", fed_t / lib_t, f"≤ {GOALS['hnsw']:g}",
                 f"{same:.1%}"))
    if args.profile:
        notes.append(profile(lambda q: parsed.search(q, k=k, ef=ef), qs[:50],
                             f"HNSW n={n} trace"))


def faiss_hnsw_cache_path(cache_dir: str | Path, n: int, dim: int, seed: int) -> Path:
    """Where the benchmark faiss HNSW32 (autofaiss's default, ``IHNf``) is cached."""
    return Path(cache_dir) / f"faiss_hnsw32_n{n}_d{dim}_efc40_s{seed}.index"


def ivfpq_cache_path(cache_dir: str | Path, n: int, dim: int, seed: int) -> Path:
    """Where the benchmark IVF_PQ (nlist ≈ 4·√n, PQ dim/4 × 8 bits, ``IwPQ``) is cached."""
    return Path(cache_dir) / f"ivfpq_n{n}_d{dim}_nl{nlist_for(n)}_pq{dim // 4}_s{seed}.index"


def build_faiss_format(path: Path, n: int, dim: int, seed: int, kind: str) -> float:
    """Build and cache a faiss ``HNSW32`` or ``IVF…,PQ…`` index of the benchmark data."""
    if path.exists():
        return 0.0
    t0 = time.perf_counter()
    data = make_data(n, dim, seed)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, 32)
            index.hnsw.efConstruction = 40
        else:
            nlist = nlist_for(n)
            index = faiss.IndexIVFPQ(faiss.IndexFlatL2(dim), dim, nlist, dim // 4, 8)
            rng = np.random.default_rng(seed + 1)
            index.train(data[rng.choice(n, min(n, 64 * nlist), replace=False)])
            index.nprobe = 16
        index.add(data)
    finally:
        faiss.omp_set_num_threads(1)
    faiss.write_index(index, str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    return time.perf_counter() - t0


def bench_faiss_formats(n: int, kind: str, args, rows: list, notes: list) -> None:
    """faiss HNSW32 (``kind="hnsw"``) or IVF_PQ (``"ivfpq"``): ``feder.load_index`` vs
    ``faiss.read_index``, then feder's trace vs ``index.search`` one query at a time (faiss
    HNSW at ``--ef``, IVF_PQ at ``--nprobe``), and how often the ids agree exactly."""
    cache = faiss_hnsw_cache_path if kind == "hnsw" else ivfpq_cache_path
    path = cache(args.cache_dir, n, args.dim, args.seed)
    label = f"faiss HNSW32 n={n:,}" if kind == "hnsw" else \
        f"IVF{nlist_for(n)},PQ{args.dim // 4} n={n:,}"
    built = build_faiss_format(path, n, args.dim, args.seed, kind)
    if built:
        notes.append(f"built {label} in {built:.0f} s")
    size_mb = path.stat().st_size / 1e6
    faiss.read_index(str(path))  # warm the page cache
    t_faiss = median_time(lambda: faiss.read_index(str(path)), args.repeat)
    t_feder = median_time(lambda: feder.load_index(path), args.repeat)
    rows.append((f"{label} ({size_mb:.0f} MB)", "load", f"{t_feder * 1e3:.1f} ms",
                 f"{t_faiss * 1e3:.1f} ms", t_feder / t_faiss, f"≤ {GOALS['load']:g}", ""))

    index = faiss.read_index(str(path))
    parsed = feder.load_index(path)
    qs = make_data(args.queries, args.dim, args.seed + 7)
    k = args.k
    if kind == "hnsw":
        params = faiss.SearchParametersHNSW(efSearch=args.ef)
        knobs = {"ef": args.ef}
        measure, goal = f"trace ef={args.ef} k={k}", f"≤ {GOALS['hnsw_ms']:g} ms"
    else:
        params = faiss.SearchParametersIVF(nprobe=args.nprobe)
        knobs = {"nprobe": args.nprobe}
        measure, goal = f"trace nprobe={args.nprobe} k={k}", f"≤ {GOALS['ivf']:g}"
    lib_t, lib_out = per_query(lambda q: index.search(q[None], k, params=params)[1][0], qs)
    passes = ("first visit", "warm") if kind == "ivfpq" else ("",)
    for note in passes:
        fed_t, fed_out = per_query(lambda q: parsed.search(q, k=k, **knobs).ids, qs)
        same = np.mean([np.array_equal(a, b) for a, b in zip(fed_out, lib_out, strict=True)])
        rows.append((label, f"{measure} {note}".rstrip(), f"{fed_t * 1e3:.2f} ms",
                     f"{lib_t * 1e3:.3f} ms", fed_t / lib_t, goal, f"{same:.1%}"))
    if args.profile:
        notes.append(profile(lambda q: parsed.search(q, k=k, **knobs), qs[:50],
                             f"{label} trace"))


_READ_VS_MAP_CHILD = r"""
import json, sys, time
import numpy as np
from feder.parsers import _reader
import feder

def rss():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

path, mode, space = sys.argv[1], sys.argv[2], sys.argv[3]
_reader.MAP_THRESHOLD = 0 if mode == "map" else 1 << 62
base = rss()
t0 = time.perf_counter()
index = feder.load_index(path, space=space or None)
load = time.perf_counter() - t0
after_load = rss() - base
q = np.random.default_rng(1).standard_normal(index.dim).astype(np.float32)
t0 = time.perf_counter()
index.search(q, k=10)
search = time.perf_counter() - t0
print(json.dumps({"load": load, "rss_load": after_load, "search": search,
                  "rss_search": rss() - base}))
"""


_JIT_CHILD = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
import feder
from feder.trace import accel
imported = time.perf_counter() - t0
out = {"import": imported, "enabled": accel.enabled()}
q = np.random.default_rng(1).standard_normal(int(sys.argv[1])).astype(np.float32)
start = time.perf_counter()
for kind, path, params in json.loads(sys.argv[2]):
    index = feder.load_index(path, space="l2" if kind == "hnsw" else None)
    t0 = time.perf_counter()
    index.search(q, k=10, **params)
    out[kind] = time.perf_counter() - t0  # the first search: never waits for the kernels
accel.wait_ready(600)
out["ready"] = time.perf_counter() - start  # kernels warm (compiled or loaded) after this
print(json.dumps(out))
"""


def bench_jit(args) -> list[str]:
    """The first search in fresh processes, and when the kernels are ready: with an empty
    numba cache (compilation) and with the cache the first run filled (loading)."""
    import json
    import subprocess

    n = 100_000
    cases = []
    for kind, cache, params in (("hnsw", hnsw_cache_path, {"ef": args.ef}),
                                ("faiss_hnsw", faiss_hnsw_cache_path, {"ef": args.ef}),
                                ("ivf_pq", ivfpq_cache_path, {"nprobe": args.nprobe})):
        path = cache(args.cache_dir, n, args.dim, args.seed)
        if path.exists():
            cases.append((kind, str(path), params))
    if not cases:
        return ["(no 100k HNSW / faiss HNSW / IVF_PQ file cached: first call not timed)"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = []
    with tempfile.TemporaryDirectory() as numba_cache:
        for label in ("empty cache (compiles)", "cache filled", "numpy (FEDER_NUMBA=0)"):
            extra = {"FEDER_NUMBA": "0"} if label.startswith("numpy") else {}
            done = subprocess.run([sys.executable, "-c", _JIT_CHILD, str(args.dim),
                                   json.dumps(cases)], capture_output=True, text=True,
                                  env=dict(env, NUMBA_CACHE_DIR=numba_cache, **extra),
                                  check=True)
            got = json.loads(done.stdout)
            if not got["enabled"] and not extra:
                return ["numba not importable (or FEDER_NUMBA=0): the numpy replay runs"]
            out.append(f"{label}: first search " + ", ".join(
                f"{kind} {got[kind] * 1e3:.0f} ms" for kind, _, _ in cases)
                + ("" if extra else f"; kernels ready after {got['ready']:.1f} s")
                       + f" (import feder {got['import']:.2f} s)")
    return out


def bench_read_vs_map(path: Path, label: str, space: str, args, rows: list) -> None:
    """Load ``path`` in fresh processes, read into memory and memory-mapped (median of
    ``--repeat`` processes, page cache warm): load time and RSS growth."""
    import json
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    size_mb = path.stat().st_size / 2**20
    for mode in ("read", "map"):
        runs = []
        for _ in range(max(3, args.repeat // 2)):
            done = subprocess.run([sys.executable, "-c", _READ_VS_MAP_CHILD, str(path), mode,
                                   space], capture_output=True, text=True, env=env, check=True)
            runs.append(json.loads(done.stdout))
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        rows.append((f"{label} ({size_mb:.0f} MiB)", mode, f"{med['load'] * 1e3:.1f} ms",
                     f"{med['rss_load'] / 2**20:.0f} MiB", f"{med['search'] * 1e3:.1f} ms",
                     f"{med['rss_search'] / 2**20:.0f} MiB"))


def print_read_vs_map(rows: list) -> None:
    from feder.parsers._reader import MAP_THRESHOLD

    print(f"read vs map (fresh process per run; threshold {MAP_THRESHOLD / 2**20:.0f} MiB: "
          "smaller files are read, larger ones mapped)")
    head = ("index file", "mode", "load", "RSS after load", "1st search", "RSS after search")
    cells = [head, *rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(head))]
    for j, row in enumerate(cells):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if j == 0:
            print("  ".join("-" * w for w in widths))


def print_table(rows: list) -> None:
    head = ("index", "measure", "feder", "library", "ratio", "goal", "same ids")
    cells = [head] + [(a, b, c, d, f"{e:.2f}×", f, g) for a, b, c, d, e, f, g in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(head))]
    for j, row in enumerate(cells):
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if j == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="IVF sizes, comma separated")
    parser.add_argument("--hnsw-sizes", default="100000,1000000",
                        help="HNSW sizes (1M×128 takes several minutes to build on 2 cores); "
                             "empty for none")
    parser.add_argument("--faiss-hnsw-sizes", default="100000,1000000",
                        help="faiss HNSW32 (IHNf) sizes; empty for none")
    parser.add_argument("--ivfpq-sizes", default="100000,1000000",
                        help="faiss IVF_PQ (IwPQ, PQ dim/4) sizes; empty for none")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--nprobe", type=int, default=16)
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7, help="runs per load measurement")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=os.environ.get("FEDER_BENCH_CACHE") or
                        os.path.join(tempfile.gettempdir(), "feder-bench"))
    parser.add_argument("--profile", action="store_true", help="cProfile the traces")
    parser.add_argument("--no-read-vs-map", dest="read_vs_map", action="store_false",
                        help="skip loading each file read into memory vs memory-mapped")
    parser.add_argument("--only-read-vs-map", action="store_true",
                        help="only the read vs map section (on the cached/built files)")
    parser.add_argument("--no-jit", dest="jit", action="store_false",
                        help="skip timing the numba kernels' first call")
    args = parser.parse_args(argv)
    Path(args.cache_dir).mkdir(parents=True, exist_ok=True)
    faiss.omp_set_num_threads(1)
    from feder.trace import accel

    if accel.enabled():  # time the kernels, not the numpy replay that answers while they warm
        accel.wait_ready(600)

    rows: list = []
    notes: list[str] = []
    map_rows: list = []
    load_before = os.getloadavg()
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        if not args.only_read_vs_map:
            bench_ivf(n, args, rows, notes)
        if args.read_vs_map or args.only_read_vs_map:
            path = ivf_cache_path(args.cache_dir, n, args.dim, args.seed)
            build_ivf(path, n, args.dim, args.seed)
            bench_read_vs_map(path, f"IVF{nlist_for(n)} n={n:,}", "", args, map_rows)
    for n in [int(s) for s in args.hnsw_sizes.split(",") if s.strip()]:
        if not args.only_read_vs_map:
            bench_hnsw(n, args, rows, notes)
        if args.read_vs_map or args.only_read_vs_map:
            path = hnsw_cache_path(args.cache_dir, n, args.dim, args.seed)
            build_hnsw(path, n, args.dim, args.seed)
            bench_read_vs_map(path, f"HNSW M16 n={n:,}", "l2", args, map_rows)

    if not args.only_read_vs_map:
        for n in [int(v) for v in args.faiss_hnsw_sizes.split(",") if v.strip()]:
            bench_faiss_formats(n, "hnsw", args, rows, notes)
        for n in [int(v) for v in args.ivfpq_sizes.split(",") if v.strip()]:
            bench_faiss_formats(n, "ivfpq", args, rows, notes)

    jit_rows = bench_jit(args) if args.jit and not args.only_read_vs_map else []
    load_after = os.getloadavg()

    from feder.trace import accel

    print(f"dim={args.dim}, {args.queries} queries (median per query), load = median of "
          f"{args.repeat}, faiss {faiss.__version__}, hnswlib {version('hnswlib')}, "
          f"numpy {np.__version__}, numba kernels "
          f"{'on' if accel.enabled() else 'off (numpy replay)'}; {os.cpu_count()} CPUs")
    print(f"load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} "
          f"{load_after[2]:.2f}")
    if rows:
        print_table(rows)
    if jit_rows:
        print("first trace in a fresh process (the numpy replay answers while the numba "
              "kernels warm up in the background; lazy index structures included)")
        for row in jit_rows:
            print("  " + row)
    if map_rows:
        print_read_vs_map(map_rows)
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
