"""feder at scale: 10M×128 and 1M×128 IVF_FLAT, against faiss measured in the same run.

    .venv/bin/python benchmarks/bench_scale.py                 # 200k×64, 1M×128 and 10M×128
    .venv/bin/python benchmarks/bench_scale.py --sizes 1000000 --repeat 5
    .venv/bin/python benchmarks/bench_scale.py --build-only    # just build the cached indexes

Never run in CI / ``make test``: the 10M index is a ≈ 5 GB file built on demand (≈ 9 minutes
on two busy cores, peak 5.7 GB) into ``--cache-dir`` (default ``~/.cache/feder-bench/scale``)
and reused afterwards. Data are a mixture of 1000 Gaussian blobs generated in seeded chunks
(the same rows every time), so the builder never holds the data set: faiss trains on a
sample, every chunk is assigned to its list (pass 1, only the list numbers are kept), each
inverted list is reserved at its final size (no vector doubling), then faiss adds the chunks
again with their assignments (``add_core``, pass 2). Its peak is the index itself
(≈ n·(4·d + 8) bytes) plus one chunk. Above 1M rows the assignment looks only at the 64
centroids nearest each row's blob centre (exact for the rows checked; a full assignment of
10M rows takes about an hour on two busy cores). The 10M size is also written with faiss's
direct map (``make_direct_map``), which feder uses for id lookups.

Per size it measures, each in fresh processes (median of ``--repeat``; ``uptime``'s load
average printed with every row, the machine has 2 shared cores):

- ``searchById``: ``FederPy(path, 'faiss').searchById(id)`` to the widget's state serialised
  (the payload the browser would receive), with and without the exact-truth diagnosis, and
  the process's peak RSS (``VmHWM``); goals at 10M: ≤ 1 s, ≤ 400 MB. With the diagnosis on,
  an index above ``feder.federpy.BACKGROUND_DIAGNOSIS_FLOATS`` (1M×128 and 10M×128) shows
  the search first and diagnoses it in a background thread: the row then also gives the
  time until the diagnosis arrived (``→ diagnosis``), the peak RSS over both (the goal) and
  at the search alone;
- ``overview``: ``FederPy(path, 'faiss').overview()`` serialised (goal at 10M ≤ 0.5 s) and
  the file pages it made resident (a mapped file read whole would show its size there);
- trace: feder's IVF trace (``feder.trace.search``) of ``--queries`` stored vectors vs faiss
  ``search`` (1 thread), in thread CPU time, the first query on a fresh load included (the
  process's one-time costs — imports, threadpoolctl's library scan — are paid on a tiny index
  first and printed), as a ratio of totals (goal ≤ 3×), and whether the ids agree;
- read: peak RSS / file size of a fresh ``load_index`` + ``--queries`` searches, total and
  less the interpreter's own RSS before loading (goal ≤ 1.5 at 200k; files ≤ 256 MiB are read
  into memory on purpose, so at least 1×).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path.home() / ".cache" / "feder-bench" / "scale"
CHUNK = 250_000
BLOBS = 1000
GOALS = {"search_s_10m": 1.0, "search_rss_mb_10m": 400.0, "overview_s_10m": 0.5,
         "trace_ratio": 3.0, "rss_per_file": 1.5}
SIZES = {200_000: 64, 1_000_000: 128, 10_000_000: 128}
"""Default sizes and their dimension."""


def nlist_for(n: int) -> int:
    """nlist ≈ 4·√n rounded to a power of two (2048 at 200k, 4096 at 1M and 10M)."""
    return min(1 << round(math.log2(4 * math.sqrt(n))), 4096)


def chunk_data(n: int, dim: int, seed: int, start: int, stop: int,
               blobs: bool = False) -> Any:
    """``(stop - start, dim) float32`` rows ``start..stop`` of the seeded data set (``start``
    a multiple of :data:`CHUNK`): blob centres from ``seed``, each chunk from its own seed.
    ``blobs``: also the ``(stop - start,) int64`` blob of each row."""
    centers = blob_centers(dim, seed)
    out = np.empty((stop - start, dim), np.float32)
    which_all = np.empty(stop - start, np.int64)
    for lo in range(start, stop, CHUNK):
        hi = min(lo + CHUNK, stop)
        rng = np.random.default_rng([seed, lo // CHUNK])
        which = rng.integers(0, BLOBS, CHUNK)[: hi - lo]
        block = rng.standard_normal((CHUNK, dim), dtype=np.float32)[: hi - lo]
        out[lo - start: hi - start] = centers[which] + block
        which_all[lo - start: hi - start] = which
    return (out, which_all) if blobs else out


def blob_centers(dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((BLOBS, dim)).astype(np.float32) * 2


def assign_near_blobs(centroids: np.ndarray, x: np.ndarray, which: np.ndarray,
                      near: np.ndarray) -> np.ndarray:
    """``(m,) int64`` the nearest centroid of each row of ``x`` among the ``near[blob]``
    centroids nearest its blob's centre (exact for all but a negligible fraction of rows,
    and 4096/``near.shape[1]`` times cheaper than a full assignment)."""
    labels = np.empty(x.shape[0], np.int64)
    order = np.argsort(which, kind="stable")
    bounds = np.searchsorted(which[order], np.arange(BLOBS + 1))
    c_norms = np.einsum("ij,ij->i", centroids, centroids)
    for blob in range(BLOBS):
        rows = order[bounds[blob]: bounds[blob + 1]]
        if not rows.size:
            continue
        cand = near[blob]
        d = c_norms[cand] - 2 * (x[rows] @ centroids[cand].T)
        labels[rows] = cand[np.argmin(d, axis=1)]
    return labels


def cache_path(cache: Path, n: int, dim: int, seed: int, direct_map: bool = False) -> Path:
    dm = "_dm" if direct_map else ""
    return cache / f"ivf_n{n}_d{dim}_nl{nlist_for(n)}_s{seed}{dm}.index"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message} (load {os.getloadavg()[0]:.2f})",
          flush=True)


def build(cache: Path, n: int, dim: int, seed: int, direct_map: bool) -> list[Path]:
    """Build (or reuse) the IVF_FLAT index of ``n`` rows; also its direct-map twin when
    ``direct_map``. Returns the paths."""
    import faiss

    paths = [cache_path(cache, n, dim, seed)]
    if direct_map:
        paths.append(cache_path(cache, n, dim, seed, direct_map=True))
    if all(p.exists() for p in paths):
        return paths
    cache.mkdir(parents=True, exist_ok=True)
    nlist = nlist_for(n)
    t0 = time.perf_counter()
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, nlist)
    train_n = min(n, 64 * nlist)
    sample = np.sort(np.random.default_rng(seed + 1).choice(n, train_n, replace=False))
    train = np.concatenate([chunk_data(n, dim, seed, lo, min(lo + CHUNK, n))[
        sample[(sample >= lo) & (sample < lo + CHUNK)] - lo] for lo in range(0, n, CHUNK)])
    log(f"{n:,}×{dim}: training IVF{nlist} on {train_n:,} rows")
    index.train(train)
    del train
    labels = np.empty(n, np.int64)
    centroids = index.quantizer.reconstruct_n(0, nlist)
    near = None
    if n > 1_000_000:  # a full assignment of 10M rows takes an hour on 2 busy cores
        _, near = faiss.knn(blob_centers(dim, seed), centroids, 64)
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        x, which = chunk_data(n, dim, seed, lo, hi, blobs=True)
        labels[lo:hi] = index.quantizer.assign(x, 1).ravel() if near is None else \
            assign_near_blobs(centroids, x, which, near)
        if lo // CHUNK % 8 == 0:
            log(f"assigned {hi:,} / {n:,}")
    invlists = faiss.downcast_InvertedLists(index.invlists)
    for list_no, size in enumerate(np.bincount(labels, minlength=nlist).tolist()):
        invlists.resize(list_no, size)  # reserve the final size once, then start empty
        invlists.resize(list_no, 0)
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        x = chunk_data(n, dim, seed, lo, hi)
        index.add_core(hi - lo, faiss.swig_ptr(x), None, faiss.swig_ptr(labels[lo:hi]))
        if lo // CHUNK % 8 == 0:
            log(f"added {hi:,} / {n:,}")
    assert index.ntotal == n
    index.nprobe = 16
    for path, with_map in zip(paths, (False, True), strict=False):
        if path.exists():
            continue
        if with_map:
            index.make_direct_map()
        faiss.write_index(index, str(path) + ".tmp")
        os.replace(str(path) + ".tmp", path)
        log(f"wrote {path} ({path.stat().st_size / 2**30:.2f} GiB) after "
            f"{time.perf_counter() - t0:.0f} s")
    return paths


SEARCH_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from feder import FederPy
from ipywidgets.widgets.widget import _remove_buffers
t_import = time.perf_counter()
path, ident, what, diagnose = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
t1 = time.perf_counter()
f = FederPy(path, "faiss", diagnose=diagnose)
w = f.searchById(ident) if what == "search" else f.overview()
state, _, buffers = _remove_buffers(w.get_state())
size = len(json.dumps(state)) + sum(len(b) for b in buffers)
t2 = time.perf_counter()
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
kib = lambda key: int(status[key].split()[0]) * 1024
hwm_view = kib("VmHWM")
# a big index's diagnosis arrives later, from the widget's background thread
pending = bool(w.search.get("diagnosis_pending"))
w.wait_diagnosis()
_remove_buffers(w.get_state())
t3 = time.perf_counter()
assert not pending or "diagnosis" in w.search, w.search.get("diagnosis_error")
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({"import": t_import - t0, "view": t2 - t1, "hwm": kib("VmHWM"),
                  "hwm_view": hwm_view, "diag": t3 - t1, "deferred": int(pending),
                  "rss_file": kib("RssFile"), "payload": size}))
"""

TRACE_CHILD = r"""
import json, sys, time
import numpy as np
import faiss
faiss.omp_set_num_threads(1)
import feder
from feder.trace import search
sys.path.insert(0, sys.argv[4])
import bench_scale
path, n, dim, nq, nprobe = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5]), \
    int(sys.argv[6])
qs = bench_scale.chunk_data(n, dim, 0, 0, min(n, bench_scale.CHUNK))[:nq] + np.float32(0.01)
# once per process, not per index: lazy imports, the BLAS pool controller (threadpoolctl
# scans the loaded libraries) and the numba kernels' load, paid here on a tiny index
t0 = time.perf_counter()
from feder.trace import accel
accel.start_warm_up()
accel.wait_ready(600)  # the scan kernel loaded from numba's disk cache (compiled once ever)
tiny = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, 4)
tiny.train(qs[:64].repeat(4, axis=0) + np.arange(256, dtype=np.float32)[:, None])
tiny.add(qs[:64])
search(feder.load_index(faiss.serialize_index(tiny).tobytes()).model, qs[0], 10, nprobe=2)
process_first = time.perf_counter() - t0
t0 = time.perf_counter()
model = feder.load_index(path).model
feder_load = time.perf_counter() - t0
t0 = time.perf_counter()
index = faiss.read_index(path)
faiss_load = time.perf_counter() - t0
index.nprobe = nprobe
ft, tt, fw, tw, same = [], [], [], [], 0
clock = time.thread_time  # CPU time of this thread (faiss runs in it with one thread)
for q in qs:
    w0, t0 = time.perf_counter(), clock()
    _, labels = index.search(q[None], 10)
    w1, t1 = time.perf_counter(), clock()
    trace = search(model, q, 10, nprobe=nprobe)
    w2, t2 = time.perf_counter(), clock()
    ft.append(t1 - t0)
    tt.append(t2 - t1)
    fw.append(w1 - w0)
    tw.append(w2 - w1)
    same += trace.ids.tolist() == labels[0].tolist()
print(json.dumps({"faiss": ft, "feder": tt, "faiss_wall": sum(fw), "feder_wall": sum(tw),
                  "same": same, "feder_load": feder_load,
                  "faiss_load": faiss_load, "process_first": process_first}))
"""

RSS_CHILD = r"""
import json, sys
import numpy as np
import feder
status = lambda: dict(line.split(":", 1) for line in open("/proc/self/status"))
kib = lambda st, key: int(st[key].split()[0]) * 1024
bare = kib(status(), "VmRSS")
from feder.trace import accel
accel.wait_ready(600)  # numba and its compiled kernels: a fixed cost, whatever the index
base = kib(status(), "VmRSS")
model = feder.load_index(sys.argv[1]).model
qs = np.random.default_rng(1).standard_normal((int(sys.argv[2]), model.dim)).astype("f4")
for q in qs:
    feder.trace.search(model, q, 10, nprobe=16)
st = status()
print(json.dumps({"bare": bare, "base": base, "hwm": kib(st, "VmHWM"),
                  "anon": kib(st, "RssAnon")}))
"""


def child(code: str, *args: object) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, env=env, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def uptime() -> str:
    return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def bench_views(path: Path, label: str, repeat: int, rows: list[str], goal: bool) -> None:
    """Fresh processes: searchById (diagnosis off and on) and overview to the serialised
    widget state."""
    for what, diagnose in (("search", "0"), ("search", "1"), ("overview", "0")):
        runs = [child(SEARCH_CHILD, path, 40, what, diagnose) for _ in range(repeat)]
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        case = "overview" if what == "overview" else \
            f"searchById (diagnose={'on' if diagnose == '1' else 'off'})"
        verdict = ""
        if goal:
            limit = GOALS["overview_s_10m"] if what == "overview" else GOALS["search_s_10m"]
            verdict = f"  goal ≤ {limit:g} s {'ok' if med['view'] <= limit else 'MISSED'}"
            if what == "search":
                mb = med["hwm"] / 1e6
                verdict += f", ≤ {GOALS['search_rss_mb_10m']:g} MB " + (
                    "ok" if mb <= GOALS["search_rss_mb_10m"] else "MISSED")
        if med["deferred"]:  # the search first, its diagnosis from a background thread
            case += f" → diagnosis {med['diag'] * 1e3:.0f} ms"
            verdict += f" (peak RSS at the search {med['hwm_view'] / 1e6:.0f} MB)"
        rows.append(f"{label:<28} {case:<28} {med['view'] * 1e3:7.0f} ms  import "
                    f"{med['import'] * 1e3:5.0f} ms  peak RSS {med['hwm'] / 1e6:5.0f} MB "
                    f"(of which resident file pages {med['rss_file'] / 1e6:4.0f} MB)  payload "
                    f"{med['payload'] / 1e6:4.1f} MB"
                    f"{verdict}  [{uptime()}]")
        print(rows[-1], flush=True)


def bench_trace(path: Path, n: int, dim: int, nq: int, repeat: int, rows: list[str]) -> None:
    """Fresh processes: ``nq`` queries, faiss (1 thread) and feder's trace alternately, in
    thread CPU time (steadier than wall-clock on a shared machine; both printed); the first
    search on the fresh load counts, the process's one-time costs do not."""
    ratios, firsts, steady, same, fq, tq, loads, walls = [], [], [], [], [], [], [], []
    for _ in range(repeat):
        r = child(TRACE_CHILD, path, n, dim, Path(__file__).parent, nq, 16)
        ft, tt = np.array(r["faiss"]), np.array(r["feder"])
        ratios.append(tt.sum() / ft.sum())
        steady.append(float(np.median(tt[nq // 2:]) / np.median(ft[nq // 2:])))
        firsts.append(tt[0])
        same.append(r["same"])
        fq.append(ft.mean())
        tq.append(tt.mean())
        loads.append((r["feder_load"], r["faiss_load"], r["process_first"]))
        walls.append(r["feder_wall"] / r["faiss_wall"])
    ratio = statistics.median(ratios)
    rows.append(f"{n:,}×{dim} IVF{nlist_for(n)} nprobe 16, {nq} queries: faiss "
                f"{statistics.median(fq) * 1e3:.3f} ms/q, feder {statistics.median(tq) * 1e3:.3f}"
                f" ms/q (first {statistics.median(firsts) * 1e3:.1f} ms): ratio {ratio:.2f} "
                f"(later half, medians: {statistics.median(steady):.2f})  goal ≤ "
                f"{GOALS['trace_ratio']:g} {'ok' if ratio <= GOALS['trace_ratio'] else 'MISSED'}"
                f" (wall-clock ratio {statistics.median(walls):.2f});"
                f" ids equal {min(same)}/{nq}; load feder "
                f"{statistics.median(x[0] for x in loads) * 1e3:.0f} ms, faiss "
                f"{statistics.median(x[1] for x in loads) * 1e3:.0f} ms; once per process "
                f"(not counted) {statistics.median(x[2] for x in loads) * 1e3:.0f} ms"
                f"  [{uptime()}]")
    print(rows[-1], flush=True)


def bench_rss(path: Path, n: int, dim: int, nq: int, repeat: int, rows: list[str]) -> None:
    """Fresh processes: load + ``nq`` searches; peak RSS over the file size (growth: over
    the process with numba's kernels loaded, a fixed cost of ≈ 140 MB whatever the index)."""
    size = path.stat().st_size
    runs = [child(RSS_CHILD, path, nq) for _ in range(repeat)]
    hwm = statistics.median(r["hwm"] for r in runs)
    base = statistics.median(r["base"] for r in runs)
    bare = statistics.median(r["bare"] for r in runs)
    verdict = ""
    if n <= 200_000:  # the interpreter's own ≈ 30 MiB and numba's are not the index's
        ok = (hwm - base) / size <= GOALS["rss_per_file"]
        verdict = f"  goal growth ≤ {GOALS['rss_per_file']:g} {'ok' if ok else 'MISSED'}"
    rows.append(f"{n:,}×{dim} ({size / 2**20:.0f} MiB) load + {nq} searches: peak RSS "
                f"{hwm / 2**20:.0f} MiB = {hwm / size:.2f}× the file (of which the "
                f"interpreter with numpy and feder {bare / 2**20:.0f} MiB, numba and feder's "
                f"compiled kernels {(base - bare) / 2**20:.0f} MiB; growth "
                f"{(hwm - base) / size:.2f}×){verdict}  [{uptime()}]")
    print(rows[-1], flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=str(DEFAULT_CACHE))
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    cache = Path(args.cache_dir)
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        build(cache, n, SIZES.get(n, 128), args.seed, direct_map=n >= 10_000_000)
    if args.build_only:
        return 0
    print(f"uptime: {uptime()}; {os.cpu_count()} cores", flush=True)
    rows: list[str] = []
    for n in sizes:
        dim = SIZES.get(n, 128)
        paths = build(cache, n, dim, args.seed, direct_map=n >= 10_000_000)
        for path in paths:
            label = f"{n:,}×{dim}" + (" direct map" if path.stem.endswith("_dm") else "")
            bench_views(path, label, args.repeat, rows, goal=n >= 10_000_000)
        if n <= 1_000_000:
            bench_trace(paths[0], n, dim, args.queries, args.repeat, rows)
            bench_rss(paths[0], n, dim, args.queries, args.repeat, rows)
    print("\nsummary")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
