"""faiss ``IndexIVFScalarQuantizer`` (IwSq): codes decoded as faiss decodes them, and the
search replayed with faiss's code distances, for the quantizer types tools use."""

from __future__ import annotations

import struct

import faiss
import numpy as np
import pytest
from conftest import clustered

import feder
from feder.families import FAMILY_OF_KIND
from feder.model import IVFSQIndex
from feder.parsers.faiss_sq import QTYPES, SQCodec
from feder.trace import IVFTrace

SQ = faiss.ScalarQuantizer
METRICS = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT}


def build(qtype: str = "QT_8bit", metric: str = "l2", by_residual: bool = True, n: int = 1500,
          d: int = 16, nlist: int = 16, nprobe: int = 3, seed: int = 0,
          data: np.ndarray | None = None) -> tuple[faiss.Index, np.ndarray]:
    if data is None:
        data = clustered(n, d, seed)
    d = data.shape[1]
    quantizer = faiss.IndexFlat(d, METRICS[metric])
    index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, getattr(SQ, qtype),
                                          METRICS[metric], by_residual)
    index.cp.seed = seed
    index.train(clustered(max(2000, len(data)), d, seed + 1) if len(data) < 2000 else data)
    index.add(data)
    index.nprobe = nprobe
    return index, data


def blob_of(index: faiss.Index) -> bytes:
    return faiss.serialize_index(index).tobytes()


def queries(data: np.ndarray, n: int = 30, seed: int = 5) -> np.ndarray:
    fresh = clustered(n - n // 2, data.shape[1], seed)
    return np.concatenate([data[: n // 2], fresh]).astype(np.float32)


def assert_same_search(parsed: feder.Index, index: faiss.Index, qs: np.ndarray, k: int,
                       nprobe: int | None = None) -> None:
    if nprobe is None:
        distances, ids = index.search(qs, k)
    else:
        distances, ids = index.search(qs, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
    for i, q in enumerate(qs):
        trace = parsed.search(q, k=k) if nprobe is None else parsed.search(q, k=k,
                                                                           nprobe=nprobe)
        np.testing.assert_array_equal(trace.ids, ids[i], err_msg=f"query {i}, k={k}")
        np.testing.assert_allclose(trace.distances, distances[i], rtol=1e-5, atol=1e-6,
                                   err_msg=f"query {i}, k={k}")


@pytest.mark.parametrize("d", [16, 13])
@pytest.mark.parametrize("qtype", sorted(QTYPES.values()))
def test_codec_decodes_like_faiss_reconstruct(qtype, d):
    """Every supported type, bit for bit, with and without faiss's SIMD path (d % 8)."""
    data = clustered(400, d, 2) * 3
    if "direct" in qtype:
        data = np.clip(np.abs(data) * 20, 0, 255).astype(np.float32)
    index = faiss.IndexScalarQuantizer(d, getattr(SQ, qtype))
    index.train(data)
    index.add(data)
    codes = faiss.vector_to_array(index.codes).reshape(400, -1)
    codec = SQCodec(getattr(SQ, qtype), d, index.sq.code_size,
                    faiss.vector_to_array(index.sq.trained).astype(np.float32))
    assert codec.name == qtype
    np.testing.assert_array_equal(codec.decode(codes), index.reconstruct_n(0, 400))


@pytest.mark.parametrize("by_residual", [True, False])
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_parser_equals_faiss_internals(metric, by_residual):
    index, _ = build("QT_8bit", metric, by_residual)
    blob = blob_of(index)
    assert blob[:4] == b"IwSq"
    parsed = feder.load_index(blob)
    model = parsed.model
    assert isinstance(model, IVFSQIndex) and isinstance(model, feder.IVFFlatIndex)
    assert (parsed.kind, parsed.metric, parsed.nlist, parsed.nprobe) == ("ivf_sq", metric, 16, 3)
    assert FAMILY_OF_KIND["ivf_sq"] == "ivf"
    assert model.qtype == "QT_8bit" and model.by_residual is by_residual
    assert model.code_size == index.code_size == 16
    np.testing.assert_array_equal(model.codec.trained, faiss.vector_to_array(index.sq.trained))
    np.testing.assert_array_equal(model.centroids, index.quantizer.reconstruct_n(0, 16))
    from faiss.contrib.inspect_tools import get_invlist

    for lst in range(16):
        ids, codes = get_invlist(index.invlists, lst)
        np.testing.assert_array_equal(model.list_ids(lst), ids)
        np.testing.assert_array_equal(model.list_codes(lst), codes)
    index.make_direct_map()
    recons = index.reconstruct_n(0, index.ntotal)
    np.testing.assert_array_equal(model.vectors, recons[model.ids])
    np.testing.assert_array_equal(parsed.vector(42), index.reconstruct(42))
    assert "qtype=QT_8bit" in repr(parsed)


# the types tools write (txtai quantizes with SQ8) plus the other decodable ones
CASES = [
    ("QT_8bit", "l2", True), ("QT_8bit", "ip", True), ("QT_8bit", "l2", False),
    ("QT_8bit", "ip", False), ("QT_4bit", "l2", True), ("QT_4bit", "ip", False),
    ("QT_fp16", "l2", True), ("QT_fp16", "ip", True), ("QT_8bit_uniform", "l2", True),
    ("QT_8bit_uniform", "ip", False), ("QT_4bit_uniform", "l2", False),
    ("QT_6bit", "l2", True), ("QT_bf16", "ip", True),
]


@pytest.mark.parametrize(("qtype", "metric", "by_residual"), CASES)
@pytest.mark.parametrize("d", [16, 12])
def test_search_equals_faiss(qtype, metric, by_residual, d):
    index, data = build(qtype, metric, by_residual, n=1200, d=d)
    parsed = feder.load_index(blob_of(index))
    qs = queries(data)
    assert_same_search(parsed, index, qs, 10)
    assert_same_search(parsed, index, qs[:10], 1, nprobe=1)
    assert_same_search(parsed, index, qs[:10], 25, nprobe=16)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_candidate_distances_are_faiss_code_distances(metric):
    """Every scanned candidate carries the distance faiss ranked it by: with k = all
    candidates faiss returns them all, and the replay's list equals it."""
    index, data = build("QT_8bit", metric, True, n=600, nlist=8, nprobe=2)
    parsed = feder.load_index(blob_of(index))
    for q in queries(data, 6):
        trace = parsed.search(q, k=5)
        assert isinstance(trace, IVFTrace) and trace.kind == "ivf_sq"
        fine = trace.fine
        assert fine is not None
        distances, ids = index.search(q[None], int(fine.candidate_ids.size))
        order = np.lexsort((fine.candidate_ids, -fine.candidate_distances if metric == "ip"
                            else fine.candidate_distances))
        if metric == "ip":  # faiss: ids descending among equal inner products
            order = np.lexsort((-fine.candidate_ids, -fine.candidate_distances))
        np.testing.assert_array_equal(fine.candidate_ids[order], ids[0])
        np.testing.assert_allclose(fine.candidate_distances[order], distances[0], rtol=1e-5,
                                   atol=1e-6)
        rows = fine.candidate_rows
        np.testing.assert_array_equal(parsed.ids[rows], fine.candidate_ids)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_identical_codes_tie_like_faiss(metric):
    base = clustered(100, 8, 4)
    data = np.concatenate([base, base, base[:50]]).astype(np.float32)
    index, _ = build("QT_4bit", metric, True, data=data, nlist=4, nprobe=2)
    parsed = feder.load_index(blob_of(index))
    for k in (1, 2, 3, 5, 12):
        assert_same_search(parsed, index, base[:30], k)


def test_views_see_reconstructions():
    index, data = build("QT_8bit", "l2", True, n=500, nlist=8)
    parsed = feder.load_index(blob_of(index))
    model = parsed.model
    assert isinstance(model, IVFSQIndex)
    vectors, norms = model.list_block(3)
    np.testing.assert_array_equal(vectors, model.list_vectors(3))
    assert vectors.shape == (model.list_sizes[3], 16) and norms.shape == (model.list_sizes[3],)
    assert np.median(np.abs(model.vectors - data[model.ids])) < 0.1  # reconstructions ≈ data


def test_corrupt_codec_fields_report_offsets():
    index, _ = build("QT_8bit", "l2", True, n=300, d=8, nlist=4)
    blob = blob_of(index)
    sq_at = 4 + 33 + 16 + 4 + 33 + 8 + 4 * 4 * 8 + 1 + 8  # header, nlist/nprobe, quantizer, dm
    assert struct.unpack_from("<i", blob, sq_at)[0] == SQ.QT_8bit
    bad = bytearray(blob)
    struct.pack_into("<i", bad, sq_at, 13)  # a TurboQuant type feder does not decode
    with pytest.raises(feder.UnsupportedIndexError, match=r"quantizer type 13") as info:
        feder.load_index(bytes(bad))
    assert f"byte offset {sq_at}" in str(info.value)
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, sq_at + 20, 9)  # code_size
    with pytest.raises(feder.IndexFormatError, match="code_size = 9, expected 8") as err:
        feder.load_index(bytes(bad))
    assert err.value.offset == sq_at + 20
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, sq_at + 28, 15)  # trained count
    with pytest.raises(feder.IndexFormatError, match="15 trained values, expected 16"):
        feder.load_index(bytes(bad))
    with pytest.raises(feder.TruncatedIndexError):
        feder.load_index(blob[:-1])


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_sq_inside_an_id_map(metric):
    """txtai with quantization: ``IDMap2,IVF…,SQ8`` — ids mapped, ties on internal ids."""
    base = clustered(300, 8, 3)
    data = np.concatenate([base, base[:100]]).astype(np.float32)
    index = faiss.index_factory(8, "IDMap2,IVF4,SQ8", METRICS[metric])
    index.train(clustered(2000, 8, 4))
    ids = (np.arange(400, dtype=np.int64)[::-1] * 7 + 3)
    index.add_with_ids(data, ids)
    faiss.extract_index_ivf(index).nprobe = 2
    blob = blob_of(index)
    assert blob[:4] == b"IxM2" and blob[37:41] == b"IwSq"
    parsed = feder.load_index(blob)
    model = parsed.model
    assert parsed.kind == "ivf_idmap" and isinstance(model.inner, IVFSQIndex)
    assert FAMILY_OF_KIND["ivf_idmap"] == "ivf"
    for k in (1, 3, 10):
        assert_same_search(parsed, index, base[:30], k)
    ivf = faiss.extract_index_ivf(index)
    ivf.make_direct_map()
    np.testing.assert_array_equal(parsed.vector(int(ids[17])), ivf.reconstruct(17))
    assert "inner='ivf_sq'" in repr(parsed)


@pytest.mark.parametrize("qtype", ["QT_8bit", "QT_6bit", "QT_4bit"])
def test_search_decodes_like_faiss_simd_path(qtype):
    """With d a multiple of 8, faiss's distance code decodes with a fused multiply-add that
    can differ from ``reconstruct`` in the last bit; the replay follows the search path, so
    even small distances agree to a few ulps (relative 2e-6, no absolute slack)."""
    index, data = build(qtype, "l2", True, n=1500, d=16)
    parsed = feder.load_index(blob_of(index))
    qs = data[:40]  # self-queries: small distances, where a decoding ulp shows
    distances, ids = index.search(qs, 5)
    for i, q in enumerate(qs):
        trace = parsed.search(q, k=5)
        np.testing.assert_array_equal(trace.ids, ids[i])
        np.testing.assert_allclose(trace.distances, distances[i], rtol=2e-6, atol=1e-9)


@pytest.mark.parametrize("qtype", ["QT_8bit", "QT_4bit", "QT_fp16", "QT_8bit_uniform"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("d", [16, 12])
def test_flat_sq_equals_faiss(qtype, metric, d):
    """IxSQ (IndexScalarQuantizer, txtai's quantized flat): an exhaustive scan of codes."""
    data = clustered(1000, d, 6)
    index = faiss.IndexScalarQuantizer(d, getattr(SQ, qtype), METRICS[metric])
    index.train(data)
    index.add(data)
    blob = blob_of(index)
    assert blob[:4] == b"IxSQ"
    parsed = feder.load_index(blob)
    model = parsed.model
    assert parsed.kind == "flat" and model.fourcc == "IxSQ" and model.qtype == qtype
    np.testing.assert_array_equal(model.vectors, index.reconstruct_n(0, 1000))
    np.testing.assert_array_equal(parsed.vector(5), index.reconstruct(5))
    for k in (1, 7, 60):
        assert_same_search(parsed, index, queries(data), k)
    trace = parsed.search(data[0], k=4)
    np.testing.assert_array_equal(trace.steps[0].candidate_ids[trace.steps[0].result_positions],
                                  trace.ids)


def test_flat_sq_ties_and_id_map():
    base = clustered(80, 8, 2)
    data = np.concatenate([base, base, base[:30]]).astype(np.float32)
    for metric in ("l2", "ip"):
        index = faiss.index_factory(8, "IDMap,SQ4", METRICS[metric])
        index.train(data)
        index.add_with_ids(data, np.arange(190, dtype=np.int64)[::-1] * 5)
        parsed = feder.load_index(blob_of(index))
        assert parsed.model.id_map_fourcc == "IxMp"
        for k in (1, 2, 3, 6):
            assert_same_search(parsed, index, base[:25], k)


def test_flat_sq_corrupt_code_count():
    index = faiss.IndexScalarQuantizer(8, SQ.QT_8bit)
    data = clustered(20, 8, 1)
    index.train(data)
    index.add(data)
    blob = blob_of(index)
    count_at = len(blob) - 20 * 8 - 8
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, count_at, 152)
    with pytest.raises(feder.IndexFormatError, match="152 code bytes, expected") as info:
        feder.load_index(bytes(bad))
    assert info.value.offset == count_at
