"""IVF id lookups on a large-ish index: no full sort on the first lookups (faiss's direct map
when the file has one, else a scan of the lists), the same rows and searches as the sorted
lookup, and every id semantic kept (missing ids name themselves)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import build_ivf, clustered

import feder
from feder import FederPy
from feder import model as model_module
from feder.errors import UnknownIdError
from feder.parsers import _reader
from feder.trace import accel

N, DIM, NLIST = 20_000, 8, 64


def _build(tmp_path: Path, direct_map: str = "none", custom_ids: bool = False,
           id_map: bool = False) -> tuple[Path, np.ndarray, np.ndarray]:
    """A faiss IVF64,Flat of N clustered vectors written to a file: path, data, ids."""
    data = clustered(N, DIM, 5)
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(DIM), DIM, NLIST)
    index.cp.seed = 1
    index.train(data[:5000])
    ids = np.arange(N, dtype=np.int64)
    if custom_ids:
        ids = (np.random.default_rng(2).permutation(N) * 7 + 123).astype(np.int64)
    if id_map:
        wrapped = faiss.IndexIDMap(index)
        wrapped.add_with_ids(data, ids)
        out: faiss.Index = wrapped
    elif custom_ids:
        index.add_with_ids(data, ids)
        out = index
    else:
        index.add(data)
        out = index
    if direct_map == "array":
        index.make_direct_map()
    elif direct_map == "hashtable":
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.nprobe = 4
    path = tmp_path / f"ivf_{direct_map}_{custom_ids}_{id_map}.index"
    faiss.write_index(out, str(path))
    return path, data, ids


class _Counting(model_module._IdLookup):
    built = 0

    def __init__(self, ids: np.ndarray):
        type(self).built += 1
        super().__init__(ids)


@pytest.fixture
def count_sorts(monkeypatch: pytest.MonkeyPatch) -> type[_Counting]:
    monkeypatch.setattr(_Counting, "built", 0)
    monkeypatch.setattr(model_module, "_IdLookup", _Counting)
    return _Counting


def _sorted_rows(index: feder.IVFFlatIndex, idents: list[int]) -> list[int | None]:
    """Rows the sorted lookup (the former behaviour) gives (``index.ids`` left uncached)."""
    ids = np.concatenate([index.list_ids(lst) for lst in range(index.nlist)])
    order = np.argsort(ids, kind="stable")
    ranked = ids[order]
    rows: list[int | None] = []
    for ident in idents:
        pos = int(np.searchsorted(ranked, ident))
        rows.append(int(order[pos]) if pos < ranked.size and ranked[pos] == ident else None)
    return rows


@pytest.mark.parametrize("mapped", [False, True], ids=["read", "mapped"])
@pytest.mark.parametrize(("direct_map", "custom_ids", "id_map"), [
    ("none", False, False), ("none", True, False), ("array", False, False),
    ("hashtable", True, False), ("none", True, True)])
def test_first_lookups_do_not_sort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   count_sorts: type[_Counting], direct_map: str,
                                   custom_ids: bool, id_map: bool, mapped: bool) -> None:
    path, data, ids = _build(tmp_path, direct_map, custom_ids, id_map)
    if mapped:
        monkeypatch.setattr(_reader, "MAP_THRESHOLD", 0)
    index = feder.load_index(str(path)).model
    assert isinstance(index, feder.IVFFlatIndex)
    assert (index.direct_map is not None) == (direct_map != "none" and not id_map)
    rng = np.random.default_rng(0)
    picks = rng.choice(N, model_module.SCAN_LOOKUPS, replace=False).tolist()
    expected = _sorted_rows(index, [int(ids[p]) for p in picks])
    for pick, row in zip(picks, expected, strict=True):
        assert index.row_of(int(ids[pick])) == row
        np.testing.assert_array_equal(index.vector(int(ids[pick])), data[pick])
    assert count_sorts.built == 0, "the first lookups must not sort every id"
    assert "ids" not in index.__dict__, "nor concatenate them"
    missing = int(ids.max()) + 5
    with pytest.raises(UnknownIdError, match=f"id {missing} is not in the index"):
        index.row_of(missing)
    # after SCAN_LOOKUPS scans the sorted copy is built once (a direct map needs no scans)
    for pick in rng.choice(N, 20, replace=False).tolist():
        assert index.row_of(int(ids[pick])) == _sorted_rows(index, [int(ids[pick])])[0]
    with pytest.raises(UnknownIdError, match=f"id {missing} is not in the index"):
        index.row_of(missing)
    assert count_sorts.built == (0 if direct_map != "none" and not id_map else 1)


def test_search_by_id_same_as_the_sorted_lookup(tmp_path: Path,
                                                count_sorts: type[_Counting]) -> None:
    path, data, ids = _build(tmp_path, "none", custom_ids=True)
    f = FederPy(str(path), "faiss").setSearchParams({"k": 6, "nprobe": 4})
    ident = int(ids[1234])
    w = f.searchById(ident)
    assert count_sorts.built == 0
    ref = faiss.read_index(str(path))
    ref.nprobe = 4
    _, expected = ref.search(data[1234:1235], 6)
    assert w.trace is not None and w.trace.ids.tolist() == expected[0].tolist()
    assert w.search["target"]["id"] == ident
    with pytest.raises(UnknownIdError, match="id 5 is not in the index"):
        f.searchById(5)  # custom ids start at 123


def test_a_stale_direct_map_never_answers_wrongly(tmp_path: Path) -> None:
    """A direct map pointing at the wrong place (a corrupt file) falls back to the scan."""
    path, data, ids = _build(tmp_path, "array")
    index = feder.load_index(str(path)).model
    assert isinstance(index, feder.IVFFlatIndex) and index.direct_map is not None
    index.direct_map = np.roll(np.asarray(index.direct_map), 1)
    for pick in (0, 17, N - 1):
        np.testing.assert_array_equal(index.vector(int(ids[pick])), data[pick])
    index.direct_map = np.full(N, (NLIST + 3) << 32, np.int64)  # lists that do not exist
    np.testing.assert_array_equal(index.vector(42), data[42])
    with pytest.raises(UnknownIdError, match=f"id {N} is not in the index"):
        index.row_of(N)


@pytest.mark.parametrize("accelerated", [False, True], ids=["numpy", "kernel"])
@pytest.mark.parametrize("mapped", [False, True], ids=["read", "mapped"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_lists_in_place_or_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     mapped: bool, metric: str, accelerated: bool) -> None:
    """A file read into memory is placed so its lists are aligned and searched in place (no
    copies). A mapped file's lists are read with pread for each search (by the scan kernel
    list by list into one scratch buffer; by numpy's replay into one array) and nothing is
    kept. Either way the replay equals faiss."""
    if accelerated:
        assert accel.wait_ready(300), accel._state["error"]
    monkeypatch.setattr(accel, "_state", {**accel._state, "enabled": accelerated})
    case = build_ivf(n=3000, dim=16, nlist=32, metric=metric)
    path = tmp_path / "ivf.index"
    faiss.write_index(case.index, str(path))
    if mapped:
        monkeypatch.setattr(_reader, "MAP_THRESHOLD", 0)
    index = feder.load_index(str(path)).model
    assert isinstance(index, feder.IVFFlatIndex)
    queries = clustered(40, 16, 9)
    case.index.nprobe = 5
    distances, labels = case.index.search(queries, 10)
    for q, want_d, want_i in zip(queries, distances, labels, strict=True):
        trace = feder.trace.search(index, q, 10, nprobe=5)
        assert trace.ids.tolist() == want_i.tolist()
        np.testing.assert_array_equal(trace.distances, want_d)
    blocks = [lst for lst in range(index.nlist) if lst in index._blocks and index.list_sizes[lst]]
    if mapped:  # the parser's file offsets of the lists (the reads' positions)
        for items in (index._codes, index._ids):
            guard, views = items.guard, items._items  # type: ignore[attr-defined]
            for lst in np.flatnonzero(index.list_sizes).tolist():
                assert items._offsets[lst] == views[lst].ctypes.data - guard.base
    if mapped:
        assert not blocks  # nothing kept: a long session does not come to hold the file
        assert int(np.count_nonzero(index._list_addresses)) == 0
        return
    assert blocks
    for lst in blocks:
        vectors, norms = index.list_block(lst)
        np.testing.assert_array_equal(norms, np.einsum("ij,ij->i", vectors, vectors))
        assert vectors.flags.aligned and vectors.flags.c_contiguous
        assert np.shares_memory(vectors, index.list_vectors(lst)) != mapped
        np.testing.assert_array_equal(vectors, index.list_vectors(lst))


@pytest.mark.parametrize("mapped", [False, True], ids=["read", "mapped"])
def test_list_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapped: bool) -> None:
    """The overview's sample of a list: its first rows and ids (copies read with pread when
    the file is mapped), the same as slicing the list."""
    path, _, _ = _build(tmp_path)
    if mapped:
        monkeypatch.setattr(_reader, "MAP_THRESHOLD", 0)
    index = feder.load_index(str(path)).model
    assert isinstance(index, feder.IVFFlatIndex)
    for lst in range(index.nlist):
        vectors, ids = index.list_head(lst, 64)
        np.testing.assert_array_equal(vectors, index.list_vectors(lst)[:64])
        np.testing.assert_array_equal(ids, index.list_ids(lst)[:64])
        assert vectors.shape == (min(64, int(index.list_sizes[lst])), DIM)
        assert np.shares_memory(vectors, index.list_vectors(lst)) != mapped
    with pytest.raises(UnknownIdError, match="list 64 does not exist"):
        index.list_head(NLIST, 64)
