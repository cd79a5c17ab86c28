"""FederPy: parameters, searches, widgets and their traits (no browser)."""

from __future__ import annotations

import warnings
from typing import Any

import faiss
import hnswlib
import numpy as np
import pytest

import feder
from feder import FederPy


@pytest.fixture(scope="module")
def ivf() -> faiss.Index:
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((600, 12)).astype("f4")
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(12), 12, 8)
    index.train(xb)
    index.add(xb)
    return index


@pytest.fixture(scope="module")
def hnsw() -> hnswlib.Index:
    rng = np.random.default_rng(1)
    index = hnswlib.Index("ip", 12)
    index.init_index(400, M=6, random_seed=1)
    index.add_items(rng.standard_normal((400, 12)).astype("f4"))
    return index


def test_search_by_id_returns_a_widget_with_its_trace(ivf: faiss.Index) -> None:
    f = FederPy(ivf, "faiss", width=800, height=500)
    w = f.setSearchParams({"k": 4, "nprobe": 3}).searchById(40)
    assert w.trace is not None and w.trace.ids[0] == 40 and w.trace.ids.size == 4
    assert w.search["kind"] == "ivf_search" and w.search["params"] == {"k": 4, "nprobe": 3}
    assert w.view == "coarse" and w.overview["kind"] == "ivf_overview"
    assert "projection" in w.search["fine"]
    assert repr(w) == "FederWidget(ivf_search, view='coarse')"


def test_snake_case_spellings(ivf: faiss.Index) -> None:
    f = FederPy(ivf, "faiss", fine_search_with_projection=False)
    w = f.set_search_params(k=3, nprobe=2).search_by_vec(np.ones(12, "f4"))
    assert w.trace is not None and w.trace.k == 3 and "projection" not in w.search["fine"]
    assert f.search_rand_test_vec(seed=3).trace is not None


def test_a_new_search_in_the_same_widget_keeps_the_overview(ivf: faiss.Index) -> None:
    f = FederPy(ivf, "faiss")
    w = f.searchById(1)
    overview = w.overview
    again = f.searchById(2, widget=w)
    assert again is w and w.overview is overview
    assert w.trace is not None and int(w.trace.ids[0]) == 2


def test_unknown_view_parameter_lists_the_valid_ones(ivf: faiss.Index) -> None:
    with pytest.raises(TypeError, match=r"unknown view parameter 'colour'.*width"):
        FederPy(ivf, "faiss", colour="red")
    with pytest.raises(feder.ParameterError, match="projectMethod"):
        FederPy(ivf, "faiss", projectMethod="tsne")
    with pytest.raises(feder.ParameterError, match="width"):
        FederPy(ivf, "faiss", width=10)
    with pytest.raises(TypeError, match=r"unknown search parameter 'ef'.*nprobe"):
        FederPy(ivf, "faiss").setSearchParams({"ef": 3})


def test_hnsw_search_params_and_media_text(hnsw: hnswlib.Index) -> None:
    texts = [f"<b>item {i}</b>" for i in range(400)]
    h = FederPy(hnsw, "hnswlib", mediaUrls=texts, mediaType="text")
    w = h.setSearchParams({"k": 5, "ef_search": 12}).searchById(7)
    assert w.search["kind"] == "hnsw_search" and w.view == "search"
    assert w.media["media_type"] == "text"
    assert w.media["items"]["7"] == {"kind": "text", "text": "<b>item 7</b>"}


def test_missing_images_become_placeholders_with_a_warning(ivf: faiss.Index, tmp_path) -> None:
    f = FederPy(ivf, "faiss", mediaUrls=[str(tmp_path / f"{i}.png") for i in range(600)])
    with pytest.warns(feder.FederWarning, match="placeholder"):
        w = f.searchById(5)
    assert w.media["items"]["5"]["kind"] == "missing"


def test_selection_traits_start_empty(ivf: faiss.Index) -> None:
    w = FederPy(ivf, "faiss").overview()
    assert w.selected_ids == [] and w.selected_list == -1 and w.trace is None


def test_unknown_id_is_a_clear_error(ivf: faiss.Index) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(feder.UnknownIdError, match="id 9999 is not in the index"):
            FederPy(ivf, "faiss").searchById(9999)


def test_the_ivf_overview_reads_a_bounded_number_of_vectors(monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    """The overview picks each list's members among its first vectors only: a 10M-vector
    file is not read whole to draw the map (the rows handed to the member picker are
    counted)."""
    import feder.session
    from feder.session import MEMBER_SAMPLE

    rng = np.random.default_rng(1)
    xb = rng.standard_normal((6000, 8)).astype("f4")
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatL2(8), 8, 4)
    ivf.train(xb)
    ivf.add(xb)
    seen: list[int] = []
    pick = feder.session.nearest_members

    def counting(vectors: np.ndarray, *args: object) -> np.ndarray:
        seen.append(int(vectors.shape[0]))
        return pick(vectors, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(feder.session, "nearest_members", counting)
    payload = FederPy(ivf, "faiss").session.overview
    assert len(seen) == 4 and sum(seen) == 4 * MEMBER_SAMPLE < 6000
    assert payload["facts"]["member_sample"] == MEMBER_SAMPLE


def test_hnsw_entry_paths_are_computed_per_click_and_embedded_in_reports() -> None:
    """A live HNSW overview leaves out every node's entry route (the bulk of its cost); the
    page asks for a clicked node's and gets what the all-nodes computation gives; a report
    embeds them all."""
    from feder.layouts.hnsw_graph import layered_overview

    data = np.random.default_rng(2).standard_normal((600, 8)).astype("f4")
    index = hnswlib.Index("l2", 8)
    index.init_index(600, M=4, ef_construction=20, random_seed=3)
    index.add_items(data, num_threads=1)
    fed = FederPy(index, "hnswlib")
    widget = fed.overview()
    assert "paths" not in widget.overview
    full = layered_overview(feder.load_index(index).model, fed.session.params.numOfLevels)
    assert full.path_offsets is not None and full.path_nodes is not None
    sent: list[Any] = []
    widget.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    for node in (0, 7, full.nodes.size - 1):
        widget._on_message(widget, {"type": "path", "node": node}, [])
        a, b = full.path_offsets[node], full.path_offsets[node + 1]
        assert sent[-1]["nodes"] == full.path_nodes[a:b].tolist()
        assert sent[-1]["levels"] == full.path_levels[a:b].tolist()
    for bad in (-1, 10**9, "3", True):
        widget._on_message(widget, {"type": "path", "node": bad}, [])
        assert sent[-1]["nodes"] == [] and "error" in sent[-1]
    report = widget.export_state()["overview"]
    assert _values_of(report["paths"]["offsets"]).tolist() == full.path_offsets.tolist()


def _values_of(payload: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(payload["data"], dtype=payload["dtype"])
