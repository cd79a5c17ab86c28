"""The numba kernels never make a search wait for their compilation (feder.trace.accel).

One fresh process with an EMPTY numba cache (a temporary NUMBA_CACHE_DIR: nothing is written
to the user's home cache) traces real parsed files at once — the numpy replay answers while
the warm-up thread compiles —, then waits for the warm-up and traces them again through the
kernels: the same results, and no specialization beyond the warm-up's (compiling is turned
back on for the check, so a missing one would show as a new signature). A second process
loads the filled cache. ``FEDER_NUMBA=0`` and a missing numba start no thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest
from conftest import build_hnsw, clustered

import feder
from feder.trace import accel, hnsw

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, threading, time
import numpy as np

cases = json.loads(sys.argv[1])
import feder
import feder.parsers._reader as reader
from feder.trace import accel, faiss_hnsw, hnsw, ivf, ivf_codes

used = {"hnsw": 0, "faiss_hnsw": 0, "pq": 0, "coarse": 0, "scan": 0}

def counting(module, name, key, kernel_arg=0):
    real = getattr(module, name)
    def wrapper(*args, **kw):
        result = real(*args, **kw)
        if args[kernel_arg] is not None and result is not None:
            used[key] += 1
        return result
    setattr(module, name, wrapper)

counting(hnsw, "_replay_numba", "hnsw")
counting(faiss_hnsw, "_replay_numba", "faiss_hnsw")
counting(ivf_codes, "_pq_distances", "pq")
counting(ivf_codes, "_coarse_distances", "coarse")
counting(ivf, "kernel_scan", "scan")

def load(path, space, mode):
    reader.MAP_THRESHOLD = 0 if mode == "mapped" else 256 << 20
    source = open(path, "rb").read() if mode == "bytes" else path
    return feder.load_index(source, space=space)

def trace(index, q, params):
    t = index.search(q, k=5, **params)
    out = {"ids": t.ids.tolist(), "distances": t.distances.tolist(), "kind": t.kind}
    for i, level in enumerate(getattr(t, "levels", ()) or ()):
        for field in ("edge_dst", "edge_distances", "path", "beam"):
            value = getattr(level, field, None)
            if value is not None:
                out[f"{i}{field}"] = value.tolist()
    if getattr(t, "fine", None) is not None:
        out["cand"] = t.fine.candidate_distances.tolist()
        out["coarse"] = t.coarse.centroid_distances.tolist()
    return out

SCREENED = ("cand", "coarse")  # IVF flat scans: exact where they decide the top k only

def same(a, b):
    # equal traces: every value the same, except the IVF flat scans' screened distances
    # (rows that cannot reach the top k), which need only agree within float32 rounding
    if a.keys() != b.keys():
        return False
    for key in a:
        if key in SCREENED and a["kind"] in ("ivf_flat", "ivf_hnsw_flat"):
            x, y = np.array(a[key]), np.array(b[key])
            exact = np.isin(x, a["distances"])
            if not (np.allclose(x, y, rtol=1e-5, atol=1e-6) and (x[exact] == y[exact]).all()):
                return False
        elif a[key] != b[key]:
            return False
    return True

def run_all():
    got = {}
    for name, path, space, params, dim in cases:
        q = np.random.default_rng(len(name)).standard_normal(dim).astype(np.float32)
        for mode in ("read", "mapped", "bytes"):
            got[f"{name}/{mode}"] = trace(load(path, space, mode), q, params)
    return got

report = {}
name, path, space, params, dim = cases[0]
index = load(path, space, "read")
q = np.random.default_rng(len(name)).standard_normal(dim).astype(np.float32)
t0 = time.perf_counter()
first = trace(index, q, params)
report["first_trace_s"] = time.perf_counter() - t0
report["first_used"] = dict(used)
report["compiled_at_first"] = accel.stats["compiled"]
report["warm_thread"] = [t.name for t in threading.enumerate() if t.name.startswith("feder")]
cold = run_all()
t0 = time.perf_counter()
report["ready"] = accel.wait_ready(timeout=float(sys.argv[2]))
report["waited_s"] = time.perf_counter() - t0
report["stats"] = dict(accel.stats)
report["error"] = repr(accel._state["error"])
if report["ready"]:
    from feder.trace import _code_kernels, _graph_kernels
    table = _graph_kernels.SIGNATURES + _code_kernels.SIGNATURES
    report["n_signatures"] = len(table)
    kernels = list(dict.fromkeys(k for k, _ in table))
    for k in kernels:  # a call with any other argument types would now compile and show
        k.disable_compile(False)
    before = {k.__name__: sorted(map(str, k.signatures)) for k in kernels}
    for key in used:
        used[key] = 0
    warm = run_all()
    report["warm_used"] = dict(used)
    after = {k.__name__: sorted(map(str, k.signatures)) for k in kernels}
    report["new_signatures"] = {n: sorted(set(after[n]) - set(before[n])) for n in after
                                if after[n] != before[n]}
    accel.set_enabled(False)
    numpy_only = run_all()
    report["same_as_cold"] = [key for key in warm if not same(warm[key], cold[key])]
    report["same_as_numpy"] = [key for key in warm if not same(warm[key], numpy_only[key])]
    report["first_same"] = first == warm[f"{name}/read"]
    report["fallbacks"] = accel.stats["fallbacks"]
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """Small real files of every kind whose replay runs kernels: hnswlib (l2 with deleted
    elements, ip, cosine), faiss HNSW flat (l2, ip), IVF_PQ (8-bit with the precomputed
    table, inner product, no residual, 6-bit and 10-bit codes), IVF flat and IVF over an HNSW
    quantizer (the coarse step)."""
    tmp = tmp_path_factory.mktemp("warmup")
    out: list[Any] = []
    for space, delete in (("l2", 30), ("ip", 0), ("cosine", 0)):
        case = build_hnsw(tmp, n=1200, dim=12, space=space, M=6, delete=delete)
        out.append((f"hnswlib-{space}", str(case.path), space, {"ef": 24}, 12))
    data = clustered(3000, 16, 3)
    ip = faiss.METRIC_INNER_PRODUCT

    def pq(m_count: int, nbits: int, metric: int = faiss.METRIC_L2, residual: bool = True,
           nlist: int = 16) -> Any:
        index = faiss.IndexIVFPQ(faiss.IndexFlat(16, metric), 16, nlist, m_count, nbits,
                                 metric)
        index.by_residual = residual
        index.cp.min_points_per_centroid = index.pq.cp.min_points_per_centroid = 1
        return index

    for name, make in (
            ("faiss-hnsw-l2", lambda: faiss.IndexHNSWFlat(16, 8)),
            ("faiss-hnsw-ip", lambda: faiss.IndexHNSWFlat(16, 8, ip)),
            ("pq8-l2", lambda: pq(16, 8)),  # by residual: the precomputed list tables
            ("pq8-ip", lambda: pq(8, 8, ip)),
            ("pq8-direct", lambda: pq(8, 8, residual=False)),
            ("pq6", lambda: pq(4, 6)),
            ("pq10", lambda: pq(1, 10, nlist=8)),  # uint16 code indices
            ("ivf-flat", lambda: faiss.index_factory(16, "IVF16,Flat")),
            ("ivf-hnsw", lambda: faiss.index_factory(16, "IVF16_HNSW8,Flat"))):
        index = make()
        index.train(data)
        index.add(data)
        path = tmp / f"{name}.index"
        faiss.write_index(index, str(path))
        params = {"ef": 20} if name.startswith("faiss-hnsw") else {"nprobe": 4}
        out.append((name, str(path), None, params, 16))
    return out


def child(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {key: value for key, value in os.environ.items()
            if key not in ("NUMBA_CACHE_DIR", "FEDER_NUMBA")}
    full.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, env=full, timeout=300, check=False)


def test_first_traces_never_wait_and_warm_kernels_need_no_other_specialization(
        files: list[Any], tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    done = child(CHILD, json.dumps(files), "240", NUMBA_CACHE_DIR=str(cache))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # the first trace answered on numpy while the warm-up thread was compiling
    assert report["first_used"] == {"hnsw": 0, "faiss_hnsw": 0, "pq": 0, "coarse": 0,
                                    "scan": 0}
    assert report["compiled_at_first"] < report["n_signatures"]
    assert report["warm_thread"] == ["feder-numba-warm-up"]
    assert report["ready"], report["error"]
    # everything was compiled (the cache was empty), in the background, and only once
    assert report["stats"]["compiled"] == report["n_signatures"]
    assert report["stats"]["loaded"] == 0
    # the kernels then ran every kind, with the numpy replay's results, compiling nothing
    assert all(report["warm_used"][key] > 0 for key in report["warm_used"]), report
    assert report["new_signatures"] == {}
    assert report["fallbacks"] == 0
    assert report["same_as_cold"] == [] and report["same_as_numpy"] == []
    assert report["first_same"]
    assert any(cache.rglob("*.nbi")), "the kernels were not cached where NUMBA_CACHE_DIR says"
    print(f"\nfirst trace {report['first_trace_s'] * 1e3:.1f} ms; warm-up finished "
          f"{report['waited_s']:.1f} s after the cold traces ({report['stats']})")

    # a later process loads the filled cache: nothing compiled
    again = child("import feder.trace.accel as a, json; a.wait_ready(120); "
                  "print(json.dumps(a.stats))", NUMBA_CACHE_DIR=str(cache))
    assert again.returncode == 0, again.stderr[-2000:]
    loaded = json.loads(again.stdout)
    assert loaded["compiled"] == 0 and loaded["loaded"] == report["n_signatures"]


PROBE = r"""
import json, sys, threading
import numpy as np
if sys.argv[2] == "absent":
    sys.modules["numba"] = None  # as if numba were not installed: `import numba` fails
import feder
from feder.trace import accel
index = feder.load_index(sys.argv[1], space="l2")
trace = index.search(np.ones(12, np.float32), k=3, ef=10)
print(json.dumps({"threads": [t.name for t in threading.enumerate()],
                  "numba": sys.modules.get("numba") is not None, "enabled": accel.enabled(),
                  "started": accel.start_warm_up(), "ids": trace.ids.tolist()}))
"""


@pytest.mark.parametrize("how", ["FEDER_NUMBA=0", "absent"])
def test_no_thread_when_off_or_missing(files: list[Any], how: str) -> None:
    env = {"FEDER_NUMBA": "0"} if how == "FEDER_NUMBA=0" else {}
    done = child(PROBE, files[0][1], how, **env)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout)
    assert got["threads"] == ["MainThread"]
    assert not got["numba"] and not got["enabled"] and not got["started"]
    assert len(got["ids"]) == 3


def test_exit_while_compiling_is_clean(files: list[Any], tmp_path: Path) -> None:
    done = child(PROBE, files[0][1], "present", NUMBA_CACHE_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "feder-numba-warm-up" in json.loads(done.stdout)["threads"]


def test_unprepared_argument_types_fall_back_to_numpy(files: list[Any]) -> None:
    """After the warm-up a call with argument types no specialization accepts (here a
    read-only level-0 neighbour array) replays with numpy rather than compiling."""
    assert accel.wait_ready(300), accel._state["error"]
    import dataclasses

    model = feder.load_index(files[0][1], space="l2").model
    graph = model.graphs[0]
    frozen = graph.neighbors.copy()
    frozen.flags.writeable = False
    odd = dataclasses.replace(model, graphs=[dataclasses.replace(graph, neighbors=frozen),
                                             *model.graphs[1:]])
    kernels = accel.graph_kernels()
    assert kernels is not None
    signatures = list(kernels.hnswlib_beam.signatures)
    fallbacks = accel.stats["fallbacks"]
    q = clustered(1, 12, 9)[0]
    assert hnsw._replay_numba(kernels, model, q, 24) is not None  # the prepared types
    fast = feder.trace.search(odd, q, k=5, ef=24)
    assert accel.stats["fallbacks"] == fallbacks + 1
    assert kernels.hnswlib_beam.signatures == signatures  # nothing compiled
    try:
        accel.set_enabled(False)
        slow = feder.trace.search(model, q, k=5, ef=24)
    finally:
        accel.set_enabled(None)
    np.testing.assert_array_equal(fast.ids, slow.ids)
    for a, b in zip(fast.levels, slow.levels, strict=True):
        np.testing.assert_array_equal(a.edge_dst, b.edge_dst)
        np.testing.assert_array_equal(a.edge_distances, b.edge_distances)


FORK = r"""
import json, os, sys, time
import numpy as np
import feder
from feder.trace import accel
index = feder.load_index(sys.argv[1], space="l2")
index.search(np.ones(12, np.float32), k=3, ef=10)  # starts the warm-up (empty cache: compiles)
pid = os.fork()
if pid == 0:  # the child: no warm-up thread here, whatever state the parent's was in
    t0 = time.perf_counter()
    ids = index.search(np.ones(12, np.float32), k=3, ef=10).ids.tolist()
    ok = (not accel.start_warm_up() and accel.wait_ready(60) == accel.ready()
          and len(ids) == 3 and time.perf_counter() - t0 < 30)
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print(json.dumps({"child": os.waitstatus_to_exitcode(status), "warming": not accel.ready(),
                  "parent_ready": accel.wait_ready(240)}))
"""


def test_a_fork_during_the_warm_up_neither_waits_nor_deadlocks(files: list[Any],
                                                              tmp_path: Path) -> None:
    """A child forked while the parent compiles (``multiprocessing`` with fork, the
    hardening tests' isolation) gets no warm-up thread: it searches with what is warm and
    never waits on the parent's locks; the parent's warm-up goes on."""
    done = child(FORK, files[0][1], NUMBA_CACHE_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout)
    assert got["child"] == 0 and got["parent_ready"], got
    assert got["warming"], "the fork came after the warm-up: nothing was tested"
