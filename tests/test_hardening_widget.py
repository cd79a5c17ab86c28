"""The kernel side of the widget under crafted messages, and search parameters of absurd size
(each risky call in a forked child: 5 s, +512 MiB)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import feder
from feder.errors import FederError
from feder.federpy import FederPy
from feder.trace.ivf import PAD_LIMIT

from conftest import build_hnsw, build_ivf  # isort: skip
from test_hardening_isolate import isolated  # isort: skip

HUGE = [10**9, 2**62]


@pytest.fixture(scope="module")
def ivf_case() -> Any:
    return build_ivf(n=600, dim=8, nlist=8, custom_ids=True)


def _widget(index: Any, media: Any) -> tuple[Any, list[tuple[dict[str, Any], list[bytes]]]]:
    fed = FederPy(index, mediaUrls=media)
    widget = fed.overview()
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    widget.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))
    return widget, sent


CRAFTED: list[Any] = [
    [float("nan")], [float("inf"), -float("inf")], [True, False], "12", 12, None,
    {"a": 1}, [[1, 2]], ["7"], [1.5], [2**80], [-1, -2**63], [None, {}, []],
]


@pytest.mark.parametrize("ids", CRAFTED, ids=[repr(c)[:20] for c in CRAFTED])
def test_crafted_media_requests_are_answered(ivf_case: Any, ids: Any) -> None:
    calls: list[Any] = []

    def media(ident: Any) -> str:
        calls.append(ident)
        return f"https://example.org/{ident}.jpg"

    widget, sent = _widget(feder.load_index(ivf_case.blob), media)
    calls.clear()  # the thumbnails sent with the widget
    widget._on_message(widget, {"type": "media", "ids": ids}, [])
    assert len(sent) == 1 and sent[0][0]["type"] == "media"
    assert calls == []  # nothing valid asked: the function is never called
    for item in sent[0][0]["items"].values():
        assert item["kind"] == "missing"


def test_only_ids_in_the_index_reach_the_media_function(ivf_case: Any) -> None:
    calls: list[Any] = []
    known = [int(i) for i in ivf_case.ids[:3]]

    def media(ident: Any) -> str:
        calls.append(ident)
        return f"https://example.org/{ident}.jpg"

    widget, sent = _widget(feder.load_index(ivf_case.blob), media)
    calls.clear()  # the thumbnails sent with the widget
    widget._session.media._cache.clear()
    request = [*known, 5, 123456789, float(known[0]), math.nan, 10**30]
    widget._on_message(widget, {"type": "media", "ids": request}, [])
    items = sent[0][0]["items"]
    assert sorted(calls) == sorted(known)  # never 5 or 123456789 (not ids of this index)
    assert all(items[str(i)]["kind"] == "url" for i in known)
    assert items["5"]["kind"] == items["123456789"]["kind"] == "missing"


def test_a_failing_media_function_still_gets_a_reply(ivf_case: Any) -> None:
    known = int(ivf_case.ids[0])

    def media(ident: Any) -> str:
        raise MemoryError("boom")

    with pytest.warns(feder.FederWarning):
        widget, sent = _widget(feder.load_index(ivf_case.blob), media)
    widget._session.media._cache.clear()
    with pytest.warns(feder.FederWarning):
        widget._on_message(widget, {"type": "media", "ids": [known]}, [])
    assert sent[0][0]["items"][str(known)]["kind"] == "missing"


def test_hnsw_labels_are_validated(tmp_path: Path) -> None:
    case = build_hnsw(tmp_path, n=50, M=4, delete=2)
    index = feder.load_index(case.blob)
    widget, sent = _widget(index, lambda i: f"https://example.org/{i}.jpg")
    live = [int(x) for x in index.labels[~index.deleted][:2]]
    gone = [int(x) for x in index.labels[index.deleted]]
    widget._on_message(widget, {"type": "media", "ids": [*live, *gone, 999]}, [])
    items = sent[0][0]["items"]
    assert [items[str(i)]["kind"] for i in live] == ["url", "url"]
    assert all(items[str(i)]["kind"] == "missing" for i in [*gone, 999])


def test_the_widget_cache_is_bounded(ivf_case: Any) -> None:
    index = feder.load_index(ivf_case.blob)
    widget, sent = _widget(index, lambda i: f"https://example.org/{i}.jpg")
    store = widget._session.media
    store.cache_items = 100
    for start in range(0, 600, 50):
        widget._on_message(widget, {"type": "media",
                                    "ids": [int(i) for i in index.ids[start:start + 50]]}, [])
    assert len(store._cache) <= 100 and len(sent) == 12


def _search(blob: bytes, k: int, nprobe: int) -> Any:
    trace = feder.load_index(blob).search(np.ones(8, np.float32), k=k, nprobe=nprobe)
    return trace.ids.size


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("what", ["k", "nprobe", "both"])
def test_huge_ivf_parameters_are_fast(ivf_case: Any, huge: int, what: str) -> None:
    k = huge if what in ("k", "both") else 5
    nprobe = huge if what in ("nprobe", "both") else 4
    out = isolated(_search, ivf_case.blob, k, nprobe)
    assert out.signal is None and not out.timed_out, out
    if out.error is not None:
        assert issubclass(out.error, FederError), out
    else:
        assert out.value == (min(k, max(600, PAD_LIMIT)))


def test_k_beyond_ntotal_pads_only_up_to_the_cap(ivf_case: Any) -> None:
    index = feder.load_index(ivf_case.blob)
    trace = index.search(np.ones(8, np.float32), k=10**9, nprobe=8)
    assert trace.k == trace.ids.size == PAD_LIMIT
    assert (trace.ids[600:] == -1).all() and (trace.ids[:600] >= 0).all()


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("what", ["k", "ef", "both"])
def test_huge_hnsw_parameters_are_fast(tmp_path: Path, huge: int, what: str) -> None:
    case = build_hnsw(tmp_path, n=300, M=6)
    k = huge if what in ("k", "both") else 5
    ef = huge if what in ("ef", "both") else 10
    out = isolated(_search_hnsw, case.blob, k, ef)
    assert out.signal is None and not out.timed_out, out
    if what == "ef":
        assert out.error is None and out.value == 5, out
    else:
        assert out.error is not None and issubclass(out.error, FederError), out


def _search_hnsw(blob: bytes, k: int, ef: int) -> int:
    index = feder.load_index(blob)
    return int(index.search(np.ones(index.dim, np.float32), k=k, ef=ef).ids.size)
