"""Diagnosis at scale, in miniature: the exact truth over a memory-mapped file reads it with
pread (the map's pages are never made resident), and a notebook widget over an index too big
to brute-force at once shows the search first and gets its diagnosis from a background
thread (a newer search supersedes an older pending diagnosis; a failure becomes a message).

Real faiss / hnswlib files are written at test time; a file counts as "big" by patching the
map threshold (``feder.parsers._reader.MAP_THRESHOLD``) and the background threshold
(``feder.federpy.BACKGROUND_DIAGNOSIS_FLOATS``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import faiss
import hnswlib
import numpy as np
import pytest
from browser_util import chromium_available, launch_chromium, open_report
from conftest import clustered

import feder
from feder.diagnose.exact import exact_search, store_of
from feder.index import as_model
from feder.model import read_rows_at, row_blocks
from feder.parsers import _reader

N, DIM, NLIST, K = 30_000, 32, 64, 10


def _mapping_rss_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of ``path`` (``/proc/self/smaps``)."""
    real = os.path.realpath(path)
    total, current = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            parts = line.split()
            if parts and "-" in parts[0] and not parts[0].endswith(":"):
                current = len(parts) >= 6 and parts[-1] == real
            elif current and parts[0] == "Rss:":
                total += int(parts[1])
    return total


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return clustered(N, DIM, 3)


@pytest.fixture(scope="module")
def files(data: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """faiss IVF_FLAT (L2 and IP), IndexFlatL2, IndexHNSWFlat and an hnswlib index, each
    a few MB (every one larger than the patched map threshold)."""
    tmp = tmp_path_factory.mktemp("scale")
    out: dict[str, Path] = {}
    for metric, faiss_metric in (("l2", faiss.METRIC_L2), ("ip", faiss.METRIC_INNER_PRODUCT)):
        quantizer = faiss.IndexFlat(DIM, faiss_metric)
        ivf = faiss.IndexIVFFlat(quantizer, DIM, NLIST, faiss_metric)
        ivf.train(data[:5000])
        ivf.add(data)
        ivf.nprobe = 2
        out[f"ivf_{metric}"] = tmp / f"ivf_{metric}.index"
        faiss.write_index(ivf, str(out[f"ivf_{metric}"]))
    flat = faiss.IndexFlatL2(DIM)
    flat.add(data)
    out["flat"] = tmp / "flat.index"
    faiss.write_index(flat, str(out["flat"]))
    graph = faiss.IndexHNSWFlat(DIM, 8)
    graph.add(data[:8000])
    out["faiss_hnsw"] = tmp / "faiss_hnsw.index"
    faiss.write_index(graph, str(out["faiss_hnsw"]))
    lib = hnswlib.Index("l2", DIM)
    lib.init_index(8000, 8, 64, random_seed=1)
    lib.add_items(data[:8000])
    out["hnswlib"] = tmp / "hnswlib.bin"
    lib.save_index(str(out["hnswlib"]))
    return out


def _load(path: Path, mapped: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(_reader, "MAP_THRESHOLD", 0 if mapped else 1 << 40)
        source = "hnswlib" if path.suffix == ".bin" else "faiss"
        return as_model(feder.load_index(path, source, **(
            {"space": "l2"} if source == "hnswlib" else {})))


@pytest.mark.parametrize("name", ["ivf_l2", "ivf_ip", "flat", "faiss_hnsw"])
def test_mapped_truth_reads_with_pread(name: str, files: dict[str, Path], data: np.ndarray,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Over a mapped file the truth equals the in-memory truth bit for bit, every vector is
    read with pread (the guard's copy) and the map's resident pages do not grow."""
    path = files[name]
    queries = data[[5, 777, 12_345, 29_999 if name.startswith(("ivf", "flat")) else 7999]]
    in_memory = _load(path, False, monkeypatch)
    mapped = _load(path, True, monkeypatch)
    guard = mapped._owner
    assert isinstance(guard, _reader.FileGuard)
    read = {"bytes": 0}
    copy = _reader.FileGuard.copy

    def counting(self: Any, view: np.ndarray, out: Any = None, check: bool = True) -> Any:
        read["bytes"] += view.nbytes
        return copy(self, view, out, check)

    monkeypatch.setattr(_reader.FileGuard, "copy", counting)
    before = _mapping_rss_kib(path)
    ids, dist = exact_search(mapped, queries, K)
    grown = _mapping_rss_kib(path) - before
    want_ids, want_dist = exact_search(in_memory, queries, K)
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_array_equal(dist, want_dist)
    assert read["bytes"] >= mapped.ntotal * DIM * 4  # every vector came through pread
    size_kib = path.stat().st_size >> 10
    # Through the map the scan makes the whole file resident; pread leaves it as it was.
    assert grown <= 16, f"{grown} KiB of the {size_kib} KiB map became resident"


def test_mapped_truth_through_the_map_would_grow(files: dict[str, Path], data: np.ndarray,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The RSS measure above can fail: reading the same mapped vectors through the map makes
    them resident."""
    path = files["flat"]
    mapped = _load(path, True, monkeypatch)
    before = _mapping_rss_kib(path)
    float(np.asarray(mapped.vectors, np.float64).sum())
    assert _mapping_rss_kib(path) - before >= (path.stat().st_size >> 10) // 2


def test_mapped_row_readers(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The model's pread helpers equal the map's own rows: IVF blocks and gathers, strided
    hnswlib records (read whole, vectors copied out), ids."""
    ivf = _load(files["ivf_l2"], True, monkeypatch)
    want = np.concatenate([np.asarray(v) for v in ivf._codes])
    got = np.concatenate([b.copy() for _, b in ivf.row_blocks(1000)])
    np.testing.assert_array_equal(got, want)
    rows = np.random.default_rng(0).integers(0, N, 500)
    np.testing.assert_array_equal(ivf.rows_at(rows), want[rows])
    np.testing.assert_array_equal(ivf.ids_at(rows), ivf.ids[rows])
    lib = _load(files["hnswlib"], True, monkeypatch)
    vectors = lib.vectors
    assert vectors.strides[0] > DIM * 4  # records: links, vector, label
    blocks = list(row_blocks(vectors, lib._owner, 3000))
    assert [s for s, _ in blocks] == [0, 3000, 6000]
    np.testing.assert_array_equal(np.concatenate([b.copy() for _, b in
                                                  row_blocks(vectors, lib._owner, 3000)]),
                                  vectors)
    picked = rows[rows < 8000]
    np.testing.assert_array_equal(read_rows_at(vectors, lib._owner, picked), vectors[picked])
    assert store_of(lib).guard is None  # type: ignore[attr-defined]  # hnswlib: in place


def test_mapped_file_changed_during_truth(files: dict[str, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapped file replaced after loading: the truth refuses it (IndexChangedError), never
    reads the new bytes."""
    path = tmp_path / "copy.index"
    path.write_bytes(files["flat"].read_bytes())
    mapped = _load(path, True, monkeypatch)
    os.utime(path, ns=(1, 1))
    with pytest.raises(feder.FederError, match="changed since it was loaded"):
        exact_search(mapped, np.zeros(DIM, np.float32), K)


# ---- the widget diagnoses a big index in the background


@pytest.fixture
def big(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every index counts as big: searches defer their diagnosis to the widget's thread."""
    import feder.federpy

    monkeypatch.setattr(feder.federpy, "BACKGROUND_DIAGNOSIS_FLOATS", 0)
    return feder.federpy


def _same(a: Any, b: Any, where: str = "payload") -> None:
    """Payloads (nested dicts / lists / arrays) equal."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: {sorted(a)} ≠ {sorted(b)}"
        for key in a:
            _same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and isinstance(b, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} ≠ {b!r}"


class _Gate:
    """Replaces the brute force the background diagnosis runs (``feder.session.truth_of``):
    each call waits until released, or raises ``fail`` when set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        import feder.session

        self.real = feder.session.truth_of
        self.open = threading.Event()
        self.entered = threading.Event()
        self.calls: list[str] = []
        self.fail: Exception | None = None
        monkeypatch.setattr(feder.session, "truth_of", self)

    def __call__(self, *args: Any) -> Any:
        self.calls.append(threading.current_thread().name)
        self.entered.set()
        assert self.open.wait(20), "the test never released the gate"
        if self.fail is not None:
            raise self.fail
        return self.real(*args)


def test_big_index_search_shows_first_then_its_diagnosis(files: dict[str, Path], big: Any,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         ) -> None:
    path = files["ivf_l2"]
    gate = _Gate(monkeypatch)
    f = feder.FederPy(str(path), "faiss").setSearchParams(k=K, nprobe=2)
    assert f.background_diagnosis()
    seen: list[dict[str, Any]] = []
    w = f.searchById(40)
    w.observe(lambda change: seen.append(change["new"]), names="search")
    # shown at once, without a diagnosis, saying one is coming
    assert w.search["diagnosis_pending"] is True and "diagnosis" not in w.search
    assert w.diagnosis_pending and not w.wait_diagnosis(timeout=0.05)
    assert gate.entered.wait(10) and gate.calls == ["feder-diagnosis"]
    gate.open.set()
    assert w.wait_diagnosis(timeout=20)
    assert not w.diagnosis_pending
    assert len(seen) == 1 and "diagnosis_pending" not in w.search
    model = f.index
    want = feder.explain(model, model.vector(40), K, nprobe=2)
    got = w.explanation
    assert got is not None
    assert got.recall == want.recall
    np.testing.assert_array_equal(got.truth_ids, want.truth_ids)
    np.testing.assert_array_equal(got.truth_distances, want.truth_distances)
    assert got.missed == want.missed
    # the payload is the one a synchronous diagnosis draws
    monkeypatch.setattr(big, "BACKGROUND_DIAGNOSIS_FLOATS", 1 << 62)
    sync = feder.FederPy(str(path), "faiss").setSearchParams(k=K, nprobe=2).searchById(40)
    assert "diagnosis" in sync.search
    _same(w.search, sync.search)


def test_newer_search_supersedes_pending_diagnosis(files: dict[str, Path], big: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    gate = _Gate(monkeypatch)
    f = feder.FederPy(str(files["ivf_l2"]), "faiss").setSearchParams(k=K, nprobe=1)
    w = f.searchById(40)
    seen: list[dict[str, Any]] = []
    w.observe(lambda change: seen.append(change["new"]), names="search")
    assert gate.entered.wait(10)  # the first diagnosis is under way (held at the gate)
    f.searchById(777, widget=w)  # a second search while the first is computed
    w._on_message(w, {"type": "search", "params": {"nprobe": 4}}, [])  # and a third
    assert w.search["params"]["nprobe"] == 4 and w.search["diagnosis_pending"]
    gate.open.set()
    assert w.wait_diagnosis(timeout=20)
    diagnosed = [s for s in seen if "diagnosis" in s]
    assert len(diagnosed) == 1, "only the newest search gets a diagnosis"
    assert diagnosed[0]["target"]["id"] == 777 and diagnosed[0]["params"]["nprobe"] == 4
    assert w.search is diagnosed[0] or w.search == diagnosed[0]
    # the middle search's diagnosis was never computed: the worker took the newest only
    assert len(gate.calls) == 2
    want = feder.explain(f.index, f.index.vector(777), K, nprobe=4)
    assert w.explanation is not None and w.explanation.recall == want.recall
    np.testing.assert_array_equal(w.explanation.truth_ids, want.truth_ids)
    np.testing.assert_array_equal(w.trace.query, want.trace.query)  # type: ignore[union-attr]


def test_failed_diagnosis_becomes_a_message(files: dict[str, Path], big: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    gate = _Gate(monkeypatch)
    gate.fail = feder.errors.IndexChangedError("the index file changed: reload it")
    gate.open.set()
    w = feder.FederPy(str(files["ivf_l2"]), "faiss").searchById(40)
    assert w.wait_diagnosis(timeout=20)
    assert w.search["diagnosis_pending"] is False
    assert "IndexChangedError: the index file changed" in w.search["diagnosis_error"]
    with pytest.raises(feder.errors.IndexChangedError, match="reload it"):
        _ = w.explanation


def test_explanation_waits_for_the_background_diagnosis(files: dict[str, Path], big: Any,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        ) -> None:
    gate = _Gate(monkeypatch)
    w = feder.FederPy(str(files["ivf_l2"]), "faiss").searchById(40)
    timer = threading.Timer(0.2, gate.open.set)
    timer.start()
    explanation = w.explanation  # blocks until the diagnosis arrives
    timer.join()
    assert explanation is not None and "diagnosis" in w.search


def test_report_of_a_big_index_is_diagnosed(files: dict[str, Path], big: Any) -> None:
    """A report has no kernel: its search and its precomputed nprobe steps carry their
    diagnosis."""
    f = feder.FederPy(str(files["ivf_l2"]), "faiss").setSearchParams(k=K, nprobe=2)
    w = f.searchById(40)
    state = w.export_state()
    assert "diagnosis" in state["search"] and not state["search"].get("diagnosis_pending")
    assert state["steps"]["searches"]
    assert all("diagnosis" in s and "diagnosis_pending" not in s
               for s in state["steps"]["searches"])


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs playwright and /usr/bin/chromium")
def test_chip_checks_recall_then_shows_it(files: dict[str, Path], big: Any,
                                          monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    """In chromium: a search whose diagnosis is pending says "checking recall…"; when the
    kernel replaces its ``search`` with the diagnosed one the chip shows the recall; a
    failed diagnosis says so."""
    from feder.export import write_html

    gate = _Gate(monkeypatch)
    w = feder.FederPy(str(files["ivf_l2"]), "faiss").setSearchParams(k=K, nprobe=1) \
        .searchById(40)
    pending = dict(w.search)
    gate.open.set()
    assert w.wait_diagnosis(timeout=20) and "diagnosis" in w.search
    diagnosed = w.export_state()
    diagnosed.pop("steps", None)
    waiting = {**diagnosed, "search": pending}
    failed = {**diagnosed, "search": {**pending, "diagnosis_pending": False,
                                      "diagnosis_error": "IndexChangedError: reload it"}}
    report = write_html(tmp_path / "pending.html", [waiting, diagnosed, failed])
    recall = f"recall@{K} {w.explanation.recall:.2f}"  # type: ignore[union-attr]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        context, page, log = open_report(browser, report)
        roots = page.locator(".feder-root")
        chip = roots.nth(0).locator(".feder-recall")
        assert chip.text_content() == "checking recall…"
        assert roots.nth(0).get_attribute("data-feder-diagnosis") == "pending"
        assert roots.nth(1).locator(".feder-recall").text_content() == recall
        assert roots.nth(2).locator(".feder-recall").text_content() == "recall unavailable"
        assert "reload it" in roots.nth(2).locator(".feder-search-error").text_content()
        # the kernel's update: the diagnosed search replaces the pending one
        page.evaluate("() => { const m = window.__federModels;"
                      " m[0].set('search', m[1].get('search')); }")
        assert chip.text_content() == recall
        assert roots.nth(0).get_attribute("data-feder-diagnosis") == "ready"
        assert log.external == []
        context.close()
        browser.close()


def test_list_copies_carved_by_several_threads_never_share_memory() -> None:
    """A background diagnosis and the notebook's own calls may copy lists of one mapped
    index at once: the arena they are carved from hands each block its own memory."""
    import itertools
    import sys
    import threading

    from feder.model import _Arena

    arena = _Arena()
    spans: list[list[tuple[int, int]]] = [[] for _ in range(8)]

    def carve(i: int) -> None:
        rng = np.random.default_rng(i)
        for _ in range(3000):
            block = arena.take((int(rng.integers(1, 40)), 16))
            spans[i].append((block.ctypes.data, block.ctypes.data + block.nbytes))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch between almost every bytecode
    try:
        threads = [threading.Thread(target=carve, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    ordered = sorted(span for per_thread in spans for span in per_thread)
    assert len(ordered) == 8 * 3000
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(ordered))
