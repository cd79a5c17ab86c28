"""The front end's unit tests (``node --test js/test/``) on payloads written here, through
``feder.serialize`` and the HTML report's buffer packing: the Python ↔ JS contract has one
source. Node is installed by ``make test`` (``FEDER_REQUIRE_NODE=1``); a plain ``pytest`` run
without Node skips this module."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import faiss
import hnswlib
import numpy as np
import pytest

from feder import FederPy
from feder.export import render_html

JS = Path(__file__).resolve().parents[1] / "js"
NODE = shutil.which("node")

if NODE is None and os.environ.get("FEDER_REQUIRE_NODE"):
    raise RuntimeError("node is required (FEDER_REQUIRE_NODE is set): make system-deps installs it")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node (make test installs it)")


def _values(payload: dict[str, Any]) -> list[float]:
    return np.frombuffer(payload["data"], dtype=payload["dtype"]).tolist()


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    rng = np.random.default_rng(11)
    xb = rng.standard_normal((400, 12)).astype("f4")
    out = []
    for metric in ("l2", "ip"):
        quantizer = faiss.IndexFlatL2(12) if metric == "l2" else faiss.IndexFlatIP(12)
        mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        ivf = faiss.IndexIVFFlat(quantizer, 12, 10, mt)
        ivf.cp.min_points_per_centroid = 1
        ivf.train(xb)
        ivf.add(xb)
        fed = FederPy(ivf, "faiss", width=800, height=500)
        widget = fed.setSearchParams({"k": 6, "nprobe": 3}).searchById(5)
        state = widget.export_state()
        ov = state["overview"]
        expect = {"family": "ivf", "sizes": _values(ov["sizes"]),
                  "member_offsets": _values(ov["members"]["offsets"]),
                  "member_ids": _values(ov["members"]["ids"]),
                  "results": widget.trace.ids.tolist(),
                  "distances": widget.trace.distances.tolist(),
                  "probed": widget.trace.coarse.probed_lists.tolist(),
                  "candidate_ids": widget.trace.fine.candidate_ids.tolist(),
                  "views": ["overview", "coarse", "fine", "projection"]}
        out.append((f"ivf-{metric}", state, expect))
    out += _lossy_cases(xb)
    h = hnswlib.Index("cosine", 12)
    h.init_index(400, M=6, ef_construction=40, random_seed=2)
    h.add_items(xb)
    hfed = FederPy(h, "hnswlib")
    hw = hfed.setSearchParams({"k": 4, "ef": 12}).searchById(9)
    state = hw.export_state()
    expect = {"family": "graph", "node_ids": _values(state["overview"]["nodes"]["ids"]),
              "levels": len(state["overview"]["levels"]), "results": hw.trace.ids.tolist(),
              "distances": hw.trace.distances.tolist(),
              "levels_searched": len(hw.trace.levels), "views": ["overview", "search"]}
    out.append(("hnsw-cosine", state, expect))
    overview_only = hfed.overview().export_state()
    out.append(("hnsw-overview", overview_only,
                {"family": "graph", "node_ids": expect["node_ids"], "levels": expect["levels"],
                 "views": ["overview", "search"]}))
    return out


def _lossy_cases(xb: np.ndarray) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """IVF_PQ searches with a "codes" payload: L2 with the original vectors (exact truth, a
    quantization miss), inner product without them (decoded truth)."""
    out = []
    for metric, given in (("l2", xb), ("ip", None)):
        mt = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        quantizer = faiss.IndexFlatL2(12) if metric == "l2" else faiss.IndexFlatIP(12)
        pq = faiss.IndexIVFPQ(quantizer, 12, 4, 3, 4, mt)
        pq.cp.min_points_per_centroid = 1
        pq.train(xb)
        pq.add(xb)
        fed = FederPy(pq, "faiss", vectors=given, width=800, height=500)
        fed.setSearchParams({"k": 6, "nprobe": 4})
        for query in range(40):  # a search the codes cost recall
            widget = fed.searchById(query)
            e = widget.explanation
            assert e is not None
            if given is None or any(m.reason == "quantization" for m in e.missed):
                break
        assert given is None or any(m.reason == "quantization" for m in e.missed)
        state = widget.export_state()
        codes, diag = state["search"]["codes"], state["search"]["diagnosis"]
        ov = state["overview"]
        expect = {"family": "ivf", "sizes": _values(ov["sizes"]),
                  "member_offsets": _values(ov["members"]["offsets"]),
                  "member_ids": _values(ov["members"]["ids"]),
                  "results": widget.trace.ids.tolist(),
                  "distances": widget.trace.distances.tolist(),
                  "probed": widget.trace.coarse.probed_lists.tolist(),
                  "candidate_ids": widget.trace.fine.candidate_ids.tolist(),
                  "views": ["overview", "coarse", "fine", "projection", "codes"],
                  "codes": {name: _values(codes[name]) for name in (
                      "ids", "lists", "code_distances", "true_distances", "rank", "true_rank")}
                  | {"truth_space": codes["truth_space"], "kth_code": codes["kth_code"],
                     "kth_true": codes["kth_true"], "scanned": codes["scanned"],
                     "larger_is_closer": metric == "ip",
                     "missed_code_distances": [None if np.isnan(v) else v for v in
                                               _values(diag["missed"]["code_distances"])],
                     "result_true_distances": e.result_true_distances.tolist(),
                     "quantization_misses": sum(m.reason == "quantization" for m in e.missed)}}
        assert codes["truth_space"] == ("exact" if given is not None else "decoded")
        out.append((f"ivf-pq-{metric}", state, expect))
    return out


def test_node_unit_tests_pass_on_python_payloads(tmp_path: Path) -> None:
    cases = _cases()
    # Packed by the HTML report itself: what the browser decodes is what node decodes.
    page = render_html([state for _, state, _ in cases])
    match = re.search(r'<script type="application/json" id="feder-data">(.*?)</script>', page,
                      re.S)
    assert match is not None
    doc = json.loads(match.group(1))
    fixture = tmp_path / "payloads.json"
    fixture.write_text(json.dumps({
        "cases": [{"name": name, "state": entry["state"], "buffers": entry["buffers"],
                   "expect": expect}
                  for (name, _, expect), entry in zip(cases, doc["states"], strict=True)],
        "blob": doc["blob"], "slots": doc["slots"]}))
    assert NODE is not None
    run = subprocess.run([NODE, "--test", "test/"], cwd=JS, capture_output=True, text=True,
                         env={**os.environ, "FEDER_JS_FIXTURES": str(fixture)}, timeout=120)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout and "# pass" in run.stdout
    assert "# skipped 0" in run.stdout, run.stdout[-3000:]  # the fixtures reached every test
