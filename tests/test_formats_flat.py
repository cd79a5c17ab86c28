"""faiss fourcc detection, IndexFlat (IxF2/IxFI/IxFl) and IndexIDMap/IDMap2 (IxMp/IxM2),
each built with faiss at test time and compared with faiss's own arrays and searches."""

from __future__ import annotations

import struct

import faiss
import numpy as np
import pytest
from conftest import build_ivf, clustered

import feder
from feder.families import FAMILIES, FAMILY_OF_KIND
from feder.model import FlatIndex, IDMapIVFIndex
from feder.parsers import FAISS_FORMATS
from feder.trace import TRACERS, FlatTrace

FLT_MAX = float(np.finfo(np.float32).max)
METRICS = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT}


def blob_of(index: faiss.Index) -> bytes:
    return faiss.serialize_index(index).tobytes()


def queries(data: np.ndarray, n: int = 40, seed: int = 7) -> np.ndarray:
    """Half stored vectors (exact hits, self-distance 0), half fresh points."""
    fresh = clustered(n - n // 2, data.shape[1], seed)
    return np.concatenate([data[: n // 2], fresh]).astype(np.float32)


def assert_same_search(parsed: feder.Index, index: faiss.Index, qs: np.ndarray, k: int,
                       **params: int) -> None:
    distances, ids = index.search(qs, k)
    for i, q in enumerate(qs):
        trace = parsed.search(q, k=k, **params)
        np.testing.assert_array_equal(trace.ids, ids[i], err_msg=f"query {i}, k={k}")
        np.testing.assert_allclose(trace.distances, distances[i], rtol=1e-5, atol=1e-5,
                                   err_msg=f"query {i}, k={k}")


# ---------------------------------------------------------------- the fourcc table

# index_factory strings of kinds feder does not read: each must be named, never "not a faiss
# index"; (fourcc, a word of its name) as faiss 1.15.1 writes them.
UNSUPPORTED = [
    ("PQ4x4fs", "IPfs", "fast-scan"),
    ("LSH", "IxHe", "LSH"),
    ("RQ2x4", "IxRq", "RQ"),
    ("RaBitQ", "Ixrq", "RaBitQ"),
    ("IVF4,PQ4x4fs", "IwPf", "fast-scan"),
    ("IVF4,RQ2x4", "IwRQ", "IVF_RQ"),
    ("IVF4,RaBitQ", "Iwrq", "RaBitQ"),
]


def _trained(factory: str, d: int = 16) -> faiss.Index:
    index = faiss.index_factory(d, factory)
    x = clustered(1000, d, 3)
    index.train(x)
    if factory.startswith("IDMap"):
        index.add_with_ids(x[:200], np.arange(200, dtype=np.int64) * 2)
    else:
        index.add(x[:200])
    return index


@pytest.mark.parametrize(("factory", "fourcc", "word"), UNSUPPORTED)
def test_unsupported_kinds_are_named(factory, fourcc, word):
    blob = blob_of(_trained(factory))
    assert blob[:4] == fourcc.encode()
    assert fourcc in FAISS_FORMATS
    for data in (blob, blob[:4], blob[:40]):  # detection needs the fourcc only
        with pytest.raises(feder.UnsupportedIndexError) as info:
            feder.load_index(data)
        message = str(info.value)
        assert fourcc in message and word in message, message
        assert "not a faiss" not in message
        assert "IVF_FLAT" in message and "FLAT" in message  # says what is supported
        assert "byte offset 0" in message


@pytest.mark.parametrize(("make", "fourcc"), [
    (lambda: faiss.IndexBinaryFlat(32), "IBxF"),
    (lambda: faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(32)), "IBMp"),
    (lambda: faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(32)), "IBM2"),
    (lambda: faiss.IndexBinaryHNSW(32, 8), "IBHf"),
])
def test_binary_indexes_are_named(make, fourcc):
    index = make()
    blob = faiss.serialize_index_binary(index).tobytes()
    assert blob[:4] == fourcc.encode()
    with pytest.raises(feder.UnsupportedIndexError, match=rf"{fourcc} = .*binary") as info:
        feder.load_index(blob)
    assert "Hamming" in str(info.value)


def test_table_names_every_fourcc_of_the_design_list():
    design = ["IxF2", "IxFI", "IxFl", "IxMp", "IxM2", "IxPT", "IwFl", "IwPQ", "IwSq", "IwPf",
              "IxPq", "IPfs", "IxSQ", "IHNf", "IHNs", "IHNp", "IxHe", "IwRQ", "IxRq", "Iwrq",
              "IBxF", "IBMp"]
    for fourcc in design:
        assert fourcc in FAISS_FORMATS, fourcc
        assert FAISS_FORMATS[fourcc].name
    for fourcc, fmt in FAISS_FORMATS.items():
        assert len(fourcc) == 4 and fmt.fourcc == fourcc


def test_unknown_fourcc_is_a_format_error():
    with pytest.raises(feder.IndexFormatError, match="not a faiss or hnswlib index"):
        feder.load_index(b"IxZZ" + bytes(100))
    with pytest.raises(feder.IndexFormatError, match=r"'IxZZ'.*byte offset 0"):
        feder.load_index(b"IxZZ" + bytes(100), source="faiss")


def test_unsupported_inner_index_names_its_role_and_offset():
    index = _trained("IDMap,LSH")
    blob = blob_of(index)
    inner_at = 4 + 33  # IDMap fourcc + header (L2: no metric_arg)
    assert blob[inner_at: inner_at + 4] == b"IxHe"
    with pytest.raises(feder.UnsupportedIndexError) as info:
        feder.load_index(blob)
    message = str(info.value)
    assert "inside IxMp" in message and "IxHe = LSH" in message
    assert f"byte offset {inner_at}" in message


# ---------------------------------------------------------------- IndexFlat


def build_flat(metric: str, n: int = 800, d: int = 16, seed: int = 0) -> tuple[faiss.Index,
                                                                                 np.ndarray]:
    data = clustered(n, d, seed)
    index = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
    index.add(data)
    return index, data


@pytest.mark.parametrize(("metric", "fourcc"), [("l2", b"IxF2"), ("ip", b"IxFI")])
def test_flat_internals_equal_faiss(metric, fourcc, tmp_path):
    index, data = build_flat(metric)
    blob = blob_of(index)
    assert blob[:4] == fourcc
    path = tmp_path / "flat.index"
    faiss.write_index(index, str(path))
    for source in (blob, index, path):
        parsed = feder.load_index(source)
        model = parsed.model
        assert isinstance(model, FlatIndex)
        assert (parsed.kind, parsed.metric, parsed.dim, parsed.ntotal) == (
            "flat", metric, 16, 800)
        assert model.fourcc == fourcc.decode() and model.id_map_fourcc is None
        assert model.metric_type == index.metric_type
        stored = faiss.vector_to_array(index.codes).view(np.float32).reshape(800, 16)
        np.testing.assert_array_equal(model.vectors, stored)
        np.testing.assert_array_equal(model.vectors, data)
        np.testing.assert_array_equal(model.ids, np.arange(800))
        np.testing.assert_array_equal(parsed.vector(17), index.reconstruct(17))
    assert not model.vectors.flags.owndata and not model.vectors.flags.writeable
    assert repr(parsed).startswith("FlatIndex(dim=16")


@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("k", [1, 5, 37, 150])
def test_flat_search_equals_faiss(metric, k):
    index, data = build_flat(metric)
    parsed = feder.load_index(blob_of(index))
    assert_same_search(parsed, index, queries(data), k)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_flat_ties_follow_faiss(metric):
    """Duplicate vectors: equal distances, and faiss's heap decides which ids and in what
    order (ascending ids on ties for L2, descending for IP)."""
    base = clustered(60, 8, 1)
    data = np.concatenate([base, base[::-1], base[:20], base[:20] * 1.0]).astype(np.float32)
    index = faiss.IndexFlatL2(8) if metric == "l2" else faiss.IndexFlatIP(8)
    index.add(data)
    parsed = feder.load_index(blob_of(index))
    for k in (1, 2, 3, 4, 7, 40):
        assert_same_search(parsed, index, base[:25], k)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_flat_k_above_ntotal_pads_like_faiss(metric):
    index, data = build_flat(metric, n=7)
    parsed = feder.load_index(blob_of(index))
    assert_same_search(parsed, index, queries(data, 6), 12)
    trace = parsed.search(data[0], k=12)
    assert (trace.ids[7:] == -1).all()
    assert (trace.distances[7:] == (-FLT_MAX if metric == "ip" else FLT_MAX)).all()
    assert parsed.search(data[0], k=10**12).k == 1024  # clamped before allocating


def test_flat_trace_keeps_the_nearest_for_the_views():
    index, data = build_flat("l2", n=900)
    parsed = feder.load_index(blob_of(index))
    trace = parsed.search(data[5], k=10)
    assert isinstance(trace, FlatTrace) and trace.kind == "flat"
    (scan,) = trace.steps
    assert scan.name == "scan" and scan.scanned == 900
    assert scan.candidate_rows.shape == (200,)  # max(k, 200)
    np.testing.assert_array_equal(scan.candidate_ids[scan.result_positions], trace.ids)
    np.testing.assert_array_equal(scan.candidate_distances[scan.result_positions],
                                  trace.distances)
    assert np.all(np.diff(scan.candidate_distances) >= 0)
    distances, ids = index.search(data[5:6], 200)
    np.testing.assert_array_equal(scan.candidate_ids, ids[0])
    np.testing.assert_allclose(scan.candidate_distances, distances[0], rtol=1e-5, atol=1e-5)
    assert parsed.search(data[5], k=300).steps[0].candidate_rows.shape == (300,)
    assert repr(trace).startswith("FlatTrace(k=10")


def test_flat_empty_index():
    parsed = feder.load_index(faiss.IndexFlatL2(4))
    assert parsed.ntotal == 0 and parsed.vectors.shape == (0, 4)
    trace = parsed.search(np.ones(4, np.float32), k=3)
    assert (trace.ids == -1).all()
    with pytest.raises(feder.UnknownIdError):
        parsed.vector(0)


def test_flat_other_metric_is_read_but_not_replayed():
    index = faiss.IndexFlat(8, faiss.METRIC_L1)
    data = clustered(50, 8, 2)
    index.add(data)
    blob = blob_of(index)
    assert blob[:4] == b"IxFl"
    parsed = feder.load_index(blob)
    assert parsed.metric == "l1" and parsed.model.fourcc == "IxFl"
    np.testing.assert_array_equal(parsed.vectors, data)
    with pytest.raises(feder.UnsupportedIndexError, match=r"metric l1\b.*not replayed"):
        parsed.search(data[0], k=3)


def test_flat_search_parameters_are_checked():
    index, data = build_flat("l2", n=30)
    parsed = feder.load_index(index)
    with pytest.raises(TypeError, match="nprobe"):
        parsed.search(data[0], k=3, nprobe=2)
    with pytest.raises(feder.QueryError):
        parsed.search(data[0][:5], k=3)
    with pytest.raises(feder.QueryError):
        parsed.search(data[0], k=0)


def test_flat_family_and_tracer_are_registered():
    assert "flat" in TRACERS
    assert FAMILIES["flat"].search_view in dict(FAMILIES["flat"].views)
    assert {"projection", "fine"} <= {v for v, _ in FAMILIES["flat"].views}
    assert FAMILY_OF_KIND["ivf_idmap"] == "ivf"


def test_flat_corrupt_and_truncated_files_report_offsets():
    index, _ = build_flat("l2", n=10, d=4)
    blob = blob_of(index)
    header_end = 4 + 33
    with pytest.raises(feder.TruncatedIndexError) as info:
        feder.load_index(blob[:-5])
    assert "expected 160 bytes, found only 155 left" in str(info.value)
    assert info.value.offset == header_end
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, header_end, 39)
    with pytest.raises(feder.IndexFormatError, match=r"39 floats, expected ntotal·d") as err:
        feder.load_index(bytes(bad))
    assert err.value.offset == header_end
    wrong_metric = bytearray(blob)
    struct.pack_into("<i", wrong_metric, 33, 0)  # IxF2 claiming inner product
    with pytest.raises(feder.IndexFormatError, match="metric_type = 0, expected 1"):
        feder.load_index(bytes(wrong_metric))


# ---------------------------------------------------------------- IndexIDMap / IndexIDMap2


def _ids(n: int, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.choice(50 * n, size=n, replace=False) * 3 - 7 * n).astype(np.int64)


@pytest.mark.parametrize("wrapper", ["IDMap", "IDMap2"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_idmap_flat_equals_faiss(wrapper, metric):
    """txtai's default: IDMap,Flat with inner product."""
    d = 12
    data = clustered(600, d, 4)
    index = faiss.index_factory(d, f"{wrapper},Flat", METRICS[metric])
    ids = _ids(600)
    index.add_with_ids(data, ids)
    blob = blob_of(index)
    fourcc = "IxMp" if wrapper == "IDMap" else "IxM2"
    assert blob[:4] == fourcc.encode()
    parsed = feder.load_index(blob)
    model = parsed.model
    assert isinstance(model, FlatIndex) and model.id_map_fourcc == fourcc
    assert parsed.kind == "flat"
    np.testing.assert_array_equal(model.ids, faiss.vector_to_array(index.id_map))
    np.testing.assert_array_equal(model.id_map, ids)
    np.testing.assert_array_equal(model.vectors, data)
    for k in (1, 6, 50):
        assert_same_search(parsed, index, queries(data), k)
    np.testing.assert_array_equal(parsed.vector(int(ids[33])), data[33])
    with pytest.raises(feder.UnknownIdError):
        parsed.vector(33 if 33 not in ids else int(ids.max()) + 1)
    trace = parsed.search(data[3], k=4)
    if metric == "l2":
        assert trace.ids[0] == ids[3]
    assert set(trace.steps[0].candidate_ids[:4]) == set(trace.ids)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_idmap_ties_break_on_internal_ids_like_faiss(metric):
    """Duplicates under a non-monotonic id map: faiss orders ties by its internal ids,
    then maps them; sorting by the user's ids would differ."""
    base = clustered(30, 6, 8)
    data = np.concatenate([base, base, base]).astype(np.float32)
    ids = np.arange(90, dtype=np.int64)[::-1] * 11
    for factory in ("IDMap,Flat", "IDMap2,Flat"):
        index = faiss.index_factory(6, factory, METRICS[metric])
        index.add_with_ids(data, ids)
        parsed = feder.load_index(blob_of(index))
        for k in (1, 2, 3, 5, 8):
            assert_same_search(parsed, index, base, k)


@pytest.mark.parametrize("wrapper", ["IDMap", "IDMap2"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_idmap_ivf_flat_equals_faiss(wrapper, metric):
    d = 16
    case = build_ivf(n=1, dim=d, nlist=16, metric=metric)  # a trained quantizer to reuse
    index = faiss.index_factory(d, f"{wrapper},IVF16,Flat", METRICS[metric])
    train = clustered(2000, d, 0)
    index.train(train)
    data = clustered(1500, d, 1)
    ids = _ids(1500, 9)
    index.add_with_ids(data, ids)
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = 3
    parsed = feder.load_index(blob_of(index))
    model = parsed.model
    assert isinstance(model, IDMapIVFIndex) and isinstance(model, feder.IVFFlatIndex)
    assert parsed.kind == "ivf_idmap" and model.nprobe == 3
    assert FAMILY_OF_KIND[parsed.kind] == "ivf"
    np.testing.assert_array_equal(model.id_map, ids)
    centroids = ivf.quantizer.reconstruct_n(0, 16)
    np.testing.assert_array_equal(model.centroids, centroids)
    from faiss.contrib.inspect_tools import get_invlist

    for lst in range(16):
        inner_ids, _ = get_invlist(ivf.invlists, lst)
        np.testing.assert_array_equal(model.list_ids(lst), ids[inner_ids])
        assert model.inner is not None
        np.testing.assert_array_equal(model.inner.list_ids(lst), inner_ids)
    for k in (1, 10):
        assert_same_search(parsed, index, queries(data), k)
        params = faiss.SearchParametersIVF(nprobe=9)
        qs = queries(data, 10)
        distances, found = index.search(qs, k, params=params)
        for i, q in enumerate(qs):
            trace = parsed.search(q, k=k, nprobe=9)
            np.testing.assert_array_equal(trace.ids, found[i])
            np.testing.assert_allclose(trace.distances, distances[i], rtol=1e-5, atol=1e-5)
            assert set(trace.ids) <= set(trace.fine.candidate_ids) | {-1}
    np.testing.assert_array_equal(parsed.vector(int(ids[10])), data[10])
    assert case.index.ntotal == 1
    assert "id_map='IxM" in repr(parsed)


def test_idmap_corrupt_counts_report_offsets():
    index = faiss.IndexIDMap(faiss.IndexFlatL2(4))
    index.add_with_ids(clustered(10, 4, 1), np.arange(10, dtype=np.int64) + 100)
    blob = blob_of(index)
    count_at = len(blob) - 8 - 80
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, count_at, 9)
    with pytest.raises(feder.IndexFormatError, match="id map has 9 entries") as info:
        feder.load_index(bytes(bad))
    assert info.value.offset == count_at
    huge = bytearray(blob)
    struct.pack_into("<q", huge, 8, 2**40)  # IDMap ntotal
    with pytest.raises(feder.IndexFormatError, match="ntotal = 1099511627776") as info:
        feder.load_index(bytes(huge))
    assert info.value.offset == 8
    with pytest.raises(feder.IndexFormatError):
        feder.load_index(blob[:-3])
