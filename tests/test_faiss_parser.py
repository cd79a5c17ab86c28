"""feder's faiss IVF_FLAT reader against faiss's own view of the same index."""

from __future__ import annotations

import struct

import faiss
import numpy as np
import pytest
from conftest import build_ivf, faiss_invlists

import feder


def sizes_kind(blob: bytes) -> str:
    """The inverted-list size encoding ('full' / 'sprs') of an IVF_FLAT file, found by walking
    the layout of DESIGN.md with plain struct reads (independent of feder)."""
    d, _ntotal = struct.unpack_from("<iq", blob, 4)
    (metric,) = struct.unpack_from("<i", blob, 33)
    pos = 37 + (4 if metric > 1 else 0)
    nlist, _nprobe = struct.unpack_from("<QQ", blob, pos)
    pos += 16
    assert blob[pos: pos + 4] in (b"IxF2", b"IxFI", b"IxFl")
    pos += 4 + 33 + (4 if metric > 1 else 0)
    (n_floats,) = struct.unpack_from("<Q", blob, pos)
    assert n_floats == nlist * d
    pos += 8 + 4 * n_floats
    dm_type = blob[pos]
    (n_dm,) = struct.unpack_from("<Q", blob, pos + 1)
    pos += 9 + 8 * n_dm
    if dm_type == 2:
        (n_pairs,) = struct.unpack_from("<Q", blob, pos)
        pos += 8 + 16 * n_pairs
    assert blob[pos: pos + 4] == b"ilar"
    return blob[pos + 20: pos + 24].decode()


def assert_matches_faiss(parsed: feder.IVFFlatIndex, index: faiss.Index) -> None:
    """Every array of the model equals what faiss holds in memory."""
    assert isinstance(parsed.model, feder.IVFFlatIndex)
    assert parsed.kind == "ivf_flat"
    assert parsed.dim == index.d
    assert parsed.ntotal == index.ntotal
    assert parsed.nlist == index.nlist
    assert parsed.nprobe == index.nprobe
    assert parsed.metric_type == index.metric_type
    assert parsed.metric == {0: "ip", 1: "l2"}[index.metric_type]
    assert parsed.direct_map_type == index.direct_map.type
    np.testing.assert_array_equal(parsed.centroids, index.quantizer.reconstruct_n(0, index.nlist))
    assert parsed.centroids.dtype == np.float32
    lists = faiss_invlists(index)
    sizes = np.array([ids.size for ids, _ in lists])
    np.testing.assert_array_equal(parsed.list_sizes, sizes)
    np.testing.assert_array_equal(parsed.list_offsets, np.concatenate([[0], np.cumsum(sizes)]))
    for list_no, (ids, vectors) in enumerate(lists):
        np.testing.assert_array_equal(parsed.list_ids(list_no), ids)
        np.testing.assert_array_equal(parsed.list_vectors(list_no), vectors)
        assert parsed.list_vectors(list_no).shape == (ids.size, index.d)
    all_ids = np.concatenate([ids for ids, _ in lists])
    np.testing.assert_array_equal(parsed.ids, all_ids)
    np.testing.assert_array_equal(parsed.vectors,
                                  np.concatenate([v for _, v in lists]).reshape(-1, index.d))
    np.testing.assert_array_equal(parsed.row_lists, np.repeat(np.arange(index.nlist), sizes))
    assert parsed.ids.dtype == np.int64 and parsed.vectors.dtype == np.float32


VARIANTS = {
    "l2": {},
    "ip": {"metric": "ip"},
    "custom_ids": {"custom_ids": True},
    "ip_custom_ids_nprobe7": {"metric": "ip", "custom_ids": True, "nprobe": 7},
    "direct_map_array": {"direct_map": "array"},
    "direct_map_hashtable": {"direct_map": "hashtable", "metric": "ip"},
    "sparse_lists": {"n": 6, "nlist": 64},
    "one_vector": {"n": 1, "nlist": 8},
    "dim_1": {"dim": 1, "nlist": 4, "n": 50},
    "odd_dim_5": {"dim": 5, "nlist": 16, "n": 300},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_parser_equals_faiss_internals(variant):
    case = build_ivf(**VARIANTS[variant])
    assert_matches_faiss(feder.load_index(case.blob), case.index)


def test_custom_ids_and_vector_lookup():
    case = build_ivf(custom_ids=True, direct_map="hashtable")
    parsed = feder.load_index(case.blob)
    assert set(parsed.ids.tolist()) == set(case.ids.tolist())
    assert parsed.ids.min() >= 1_000_000  # really not 0..n-1
    for pos in range(0, case.ids.size, 97):
        ident = int(case.ids[pos])
        np.testing.assert_array_equal(parsed.vector(ident), case.data[pos])
        np.testing.assert_array_equal(parsed.vector(ident), case.index.reconstruct(ident))
        row = parsed.row_of(ident)
        assert parsed.ids[row] == ident
        np.testing.assert_array_equal(parsed.vectors[row], case.data[pos])
    assert isinstance(parsed.vector(np.int64(case.ids[0])), np.ndarray)


@pytest.mark.parametrize(("direct_map", "code"), [("none", 0), ("array", 1), ("hashtable", 2)])
def test_direct_map_kinds(direct_map, code):
    case = build_ivf(direct_map=direct_map, n=400, nlist=16)
    parsed = feder.load_index(case.blob)
    assert parsed.direct_map_type == code == case.index.direct_map.type
    assert_matches_faiss(parsed, case.index)
    if direct_map != "none":
        for ident in case.ids[::37].tolist():
            np.testing.assert_array_equal(parsed.vector(ident), case.index.reconstruct(ident))


def _ivf_with_lists(non_empty: int, nlist: int = 64) -> faiss.Index:
    """An IVF whose lists 0..non_empty-1 hold one vector each (their centroid)."""
    case = build_ivf(n=0, nlist=nlist, dim=8)
    centroids = case.index.quantizer.reconstruct_n(0, nlist)
    case.index.add(centroids[:non_empty])
    return case.index


@pytest.mark.parametrize(("non_empty", "kind"), [(0, "sprs"), (5, "sprs"), (32, "sprs"),
                                                 (33, "full"), (64, "full")])
def test_list_size_encodings(non_empty, kind):
    index = _ivf_with_lists(non_empty)
    blob = faiss.serialize_index(index).tobytes()
    assert sizes_kind(blob) == kind  # faiss: 'full' iff more than nlist // 2 lists are non-empty
    parsed = feder.load_index(blob)
    assert_matches_faiss(parsed, index)
    assert int(np.count_nonzero(parsed.list_sizes)) == non_empty
    for list_no in range(non_empty, 64):
        assert parsed.list_vectors(list_no).shape == (0, 8)
        assert parsed.list_ids(list_no).shape == (0,)


def test_default_build_uses_full_and_sparse_build_uses_sprs():
    assert sizes_kind(build_ivf().blob) == "full"
    assert sizes_kind(build_ivf(n=6, nlist=64).blob) == "sprs"
    parsed = feder.load_index(build_ivf(n=6, nlist=64).blob)
    assert (parsed.list_sizes == 0).sum() >= 58


def test_empty_index():
    case = build_ivf(n=0, nlist=16)
    assert case.index.ntotal == 0
    parsed = feder.load_index(case.blob)
    assert_matches_faiss(parsed, case.index)
    assert parsed.ntotal == 0 and parsed.vectors.shape == (0, 16) and parsed.ids.shape == (0,)
    assert not parsed.list_sizes.any()
    with pytest.raises(feder.UnknownIdError):
        parsed.vector(0)


@pytest.mark.parametrize(("metric", "arg", "name"), [("l1", None, "l1"), ("linf", None, "linf"),
                                                     ("lp", 3.0, "lp"), ("lp", 1.5, "lp")])
def test_other_metrics_are_read_but_not_replayed(metric, arg, name):
    case = build_ivf(metric=metric, metric_arg=arg, n=300, nlist=8)
    parsed = feder.load_index(case.blob)
    assert parsed.metric == name
    assert parsed.metric_type == case.index.metric_type
    assert parsed.metric_arg == pytest.approx(case.index.metric_arg)
    if arg is not None:
        assert parsed.metric_arg == arg
    assert parsed.ntotal == 300
    np.testing.assert_array_equal(parsed.centroids, case.index.quantizer.reconstruct_n(0, 8))
    for list_no, (ids, vectors) in enumerate(faiss_invlists(case.index)):
        np.testing.assert_array_equal(parsed.list_ids(list_no), ids)
        np.testing.assert_array_equal(parsed.list_vectors(list_no), vectors)
    with pytest.raises(feder.UnsupportedIndexError, match=rf"metric {name}\b") as info:
        parsed.search(case.data[0], k=3)
    message = str(info.value)
    assert "not replayed" in message and "L2 and inner-product" in message
    if arg is not None:
        assert f"metric_arg = {arg:g}" in message
    assert isinstance(info.value, NotImplementedError)


def test_types_not_read_yet_are_named() -> None:
    """Formats feder reads are tested positively in tests/test_formats_*.py; those it does
    not read yet are refused by name, saying what is read instead."""
    index = faiss.index_factory(16, "IVF8,PQ4x4fs")
    x = build_ivf(n=2000, dim=16, nlist=4).data
    index.train(x)
    index.add(x[:500])
    blob = faiss.serialize_index(index).tobytes()
    assert blob[:4] == b"IwPf"
    with pytest.raises(feder.UnsupportedIndexError) as info:
        feder.load_index(blob)
    message = str(info.value)
    assert "IwPf" in message and "fast-scan" in message
    assert "IVF_FLAT" in message and "byte offset 0" in message  # says what is supported


def _same_model(a: feder.IVFFlatIndex, b: feder.IVFFlatIndex) -> None:
    for name in ("dim", "metric", "metric_type", "metric_arg", "ntotal", "nprobe", "nlist",
                 "direct_map_type"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("centroids", "list_offsets", "ids", "vectors", "list_sizes"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("variant", ["l2", "direct_map_hashtable", "sparse_lists"])
def test_bytes_array_object_and_path_agree(tmp_path, variant):
    case = build_ivf(**VARIANTS[variant])
    path = tmp_path / "ivf.index"
    faiss.write_index(case.index, str(path))
    assert path.read_bytes() == case.blob  # DESIGN.md: serialize_index == the file
    from_bytes = feder.load_index(case.blob)
    sources = {
        "bytearray": feder.load_index(bytearray(case.blob)),
        "memoryview": feder.load_index(memoryview(case.blob)),
        "uint8 array": feder.load_index(faiss.serialize_index(case.index)),
        "faiss.Index": feder.load_index(case.index),
        "str path": feder.load_index(str(path)),
        "Path": feder.load_index(path, source="faiss"),
    }
    for parsed in sources.values():
        _same_model(parsed, from_bytes)
        assert_matches_faiss(parsed, case.index)
    assert sources["str path"].source == str(path)
    assert "IndexIVFFlat" in sources["faiss.Index"].source
    assert repr(from_bytes).startswith("IVFFlatIndex(dim=16")


def test_file_arrays_are_read_only_zero_copy_views(tmp_path):
    case = build_ivf()
    path = tmp_path / "ivf.index"
    faiss.write_index(case.index, str(path))
    parsed = feder.load_index(path)
    biggest = int(np.argmax(parsed.list_sizes))
    for arr in (parsed.centroids, parsed.list_vectors(biggest), parsed.list_ids(biggest)):
        assert not arr.flags.owndata
        assert not arr.flags.writeable
    assert_matches_faiss(parsed, case.index)


def test_truncated_file_reports_offset_and_sizes():
    case = build_ivf(n=50, nlist=4, dim=4)
    blob = case.blob
    lists_at = len(blob) - 50 * (4 * 4 + 8)
    with pytest.raises(feder.TruncatedIndexError) as info:
        feder.load_index(blob[:-3])
    message = str(info.value)
    assert "expected 1200 bytes, found only 1197 left" in message
    assert f"byte offset {lists_at}" in message
    assert info.value.offset == lists_at
    assert isinstance(info.value, ValueError)
    with pytest.raises(feder.TruncatedIndexError, match=r"nprobe.*expected 8 bytes, found only 3"):
        feder.load_index(blob[:48])


def test_foreign_and_missing_inputs(tmp_path):
    with pytest.raises(feder.IndexFormatError, match="not a faiss or hnswlib index"):
        feder.load_index(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(feder.IndexFormatError, match="no such index file"):
        feder.load_index(tmp_path / "missing.index")
    with pytest.raises(feder.IndexFormatError, match="directory"):
        feder.load_index(tmp_path)
    empty = tmp_path / "empty.index"
    empty.write_bytes(b"")
    with pytest.raises(feder.TruncatedIndexError, match="empty file"):
        feder.load_index(empty)
    with pytest.raises(feder.IndexFormatError, match="IwFl"):
        feder.load_index(b"ABCD" + bytes(100), source="faiss")
    with pytest.raises(feder.ParameterError, match="faiss, hnswlib"):
        feder.load_index(build_ivf(n=5, nlist=2).blob, source="annoy")
    with pytest.raises(feder.ParameterError, match="hnswlib indexes only"):
        feder.load_index(build_ivf(n=5, nlist=2).blob, space="ip")
    with pytest.raises(feder.ParameterError, match="cannot load an index from a int"):
        feder.load_index(42)
