"""faiss ``IndexPreTransform`` (``IxPT``): the transform chain read from the file equals
faiss's own (matrices, bias, norms, maps), queries are transformed as faiss transforms them,
and searches through the wrapper return faiss's ids and distances — for PCA (plain,
whitened, rotated), OPQ, random rotation, L2 normalisation, a dimension remap and ITQ in
front of Flat, IVF (Flat, PQ, SQ) and HNSW indexes, with L2 and inner product, inside an
IDMap too. Every index is built with faiss at test time (3,000 × 32)."""

from __future__ import annotations

import struct
from functools import cache
from typing import Any

import faiss
import numpy as np
import pytest

import feder
from feder import trace
from feder.families import family_of, unwrapped, view_note
from feder.model_transform import (
    CenteringTransform,
    ITQTransform,
    LinearTransform,
    NormalizationTransform,
    PreTransformIndex,
    RemapDimensionsTransform,
)

D, N, NQ, K = 32, 3000, 200, 10
L2, IP = faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT

CASES: dict[str, tuple[str, int, dict[str, int], str]] = {
    # name: (factory string, metric, search parameters, words the description holds)
    "l2norm-flat-ip": ("L2norm,Flat", IP, {}, "L2 normalisation, then Flat"),
    "pca-flat": ("PCA16,Flat", L2, {}, "PCA 32→16, then Flat"),
    "pcaw-flat": ("PCAW16,Flat", L2, {}, "PCA (eigenvalue power -0.5) 32→16"),
    "pcar-flat-ip": ("PCAR16,Flat", IP, {}, "PCA (random rotation) 32→16"),
    "pca-ivf-flat": ("PCA16,IVF32,Flat", L2, {"nprobe": 4}, "PCA 32→16, then IVF32,Flat"),
    "pca-ivf-flat-ip": ("PCA16,IVF32,Flat", IP, {"nprobe": 3}, "PCA 32→16, then IVF32,Flat"),
    "opq-ivf-pq": ("OPQ4_16,IVF32,PQ4x4", L2, {"nprobe": 4},
                   "linear transform (OPQ) 32→16, then IVF32,PQ4x4"),
    "opq-ivf-pq-ip": ("OPQ4,IVF32,PQ4x4", IP, {"nprobe": 5}, "linear transform (OPQ) 32→32"),
    "rr-flat": ("RR32,Flat", L2, {}, "random rotation 32→32, then Flat"),
    "pca-hnsw": ("PCA16,HNSW16", L2, {"ef": 32}, "PCA 32→16, then HNSW16"),
    "l2norm-pca-ivf-sq-ip": ("L2norm,PCA16,IVF16,SQ8", IP, {"nprobe": 3},
                             "L2 normalisation, then PCA 32→16, then IVF16,SQ (QT_8bit)"),
    "pad-flat": ("Pad40,Flat", L2, {}, "dimension remap 32→40"),
    "itq-flat": ("ITQ16,Flat", L2, {}, "ITQ (PCA first) 32→16"),
    "idmap-pca-flat": ("IDMap,PCA16,Flat", L2, {}, "PCA 32→16, then Flat"),
}


@cache
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((20, D)).astype("f4") * 2
    xb = (centres[rng.integers(0, 20, N)] + rng.standard_normal((N, D))).astype("f4")
    xq = (centres[rng.integers(0, 20, NQ)] + rng.standard_normal((NQ, D))).astype("f4")
    return xb, xq


@cache
def built(name: str) -> Any:
    factory, metric, params, _ = CASES[name]
    xb, _ = data()
    index = faiss.index_factory(D, factory, metric)
    index.train(xb)
    if factory.startswith("IDMap"):
        index.add_with_ids(xb, np.arange(N, dtype=np.int64) * 7 + 11)
    else:
        index.add(xb)
    pretransform = faiss.downcast_index(index.index if factory.startswith("IDMap") else index)
    inner = faiss.downcast_index(pretransform.index)
    if "nprobe" in params:
        faiss.extract_index_ivf(inner).nprobe = params["nprobe"]
    if "ef" in params:
        inner.hnsw.efSearch = params["ef"]
    return index


def faiss_chain(index: Any) -> list[Any]:
    pretransform = faiss.downcast_index(index)
    if isinstance(pretransform, faiss.IndexIDMap):
        pretransform = faiss.downcast_index(pretransform.index)
    return [faiss.downcast_VectorTransform(pretransform.chain.at(i))
            for i in range(pretransform.chain.size())]


def loaded(name: str) -> PreTransformIndex:
    model = feder.load_index(faiss.serialize_index(built(name))).model
    assert isinstance(model, PreTransformIndex)
    return model


def _array(vector: Any) -> np.ndarray:
    return faiss.vector_to_array(vector)


@pytest.mark.parametrize("name", list(CASES))
def test_chain_equals_faiss(name: str) -> None:
    model = loaded(name)
    chain = faiss_chain(built(name))
    assert model.kind == "pretransform" and model.dim == D and model.ntotal == N
    assert len(model.chain) == len(chain)
    for mine, theirs in zip(model.chain, chain, strict=True):
        assert (mine.d_in, mine.d_out) == (theirs.d_in, theirs.d_out)
        if isinstance(mine, LinearTransform):
            np.testing.assert_array_equal(mine.A, _array(theirs.A).reshape(mine.d_out,
                                                                             mine.d_in))
            if theirs.have_bias:
                assert mine.b is not None
                np.testing.assert_array_equal(mine.b, _array(theirs.b))
            else:
                assert mine.b is None
            if isinstance(theirs, faiss.PCAMatrix):
                assert mine.pca is not None
                assert mine.pca["eigen_power"] == pytest.approx(theirs.eigen_power)
                assert mine.pca["random_rotation"] == theirs.random_rotation
                np.testing.assert_array_equal(mine.pca["mean"], _array(theirs.mean))
                # the bias is −A·mean (PCAMatrix::prepare_Ab)
                np.testing.assert_allclose(mine.b, -mine.A @ _array(theirs.mean),
                                           rtol=1e-4, atol=1e-4)
            assert mine.is_orthonormal == theirs.is_orthonormal
        elif isinstance(mine, NormalizationTransform):
            assert mine.norm == theirs.norm == 2.0
        elif isinstance(mine, RemapDimensionsTransform):
            np.testing.assert_array_equal(mine.map, _array(theirs.map))
        else:
            assert isinstance(mine, ITQTransform) and mine.pca_then_itq is not None
            np.testing.assert_array_equal(mine.mean, _array(theirs.mean))
            np.testing.assert_array_equal(
                mine.pca_then_itq.A,
                _array(theirs.pca_then_itq.A).reshape(mine.d_out, mine.d_in))
    assert CASES[name][3] in model.description
    assert model.inner.dim == chain[-1].d_out == model.d_out


@pytest.mark.parametrize("name", list(CASES))
def test_queries_transformed_and_searched_like_faiss(name: str) -> None:
    _, xq = data()
    index = built(name)
    model = loaded(name)
    expected = xq
    for vt in faiss_chain(index):
        expected = vt.apply(expected)
    mine = model.transform_queries(xq)
    assert mine.dtype == np.float32 and mine.shape == (NQ, model.d_out)
    np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    want_d, want_i = index.search(xq, K)
    params = CASES[name][2]
    for q in range(NQ):
        got = trace.search(model, xq[q], K, **params)
        np.testing.assert_array_equal(got.ids, want_i[q], err_msg=f"query {q}")
        np.testing.assert_allclose(got.distances, want_d[q], rtol=1e-5, atol=1e-5)
    # the trace is the inner index's, on the transformed query, saying so
    assert got.transform == model.description
    assert got.input_query is not None
    np.testing.assert_array_equal(got.input_query, xq[-1])
    np.testing.assert_array_equal(got.query, model.transform_queries(xq[-1])[0])
    # one row goes through BLAS's gemv rather than gemm: equal up to float rounding
    np.testing.assert_allclose(got.query, mine[-1], rtol=1e-5, atol=1e-6)
    assert got.query.shape == (model.d_out,)


def test_the_wrapper_joins_its_inner_family_and_takes_its_parameters() -> None:
    for name, family in (("pca-ivf-flat", "ivf"), ("pca-hnsw", "graph"), ("pca-flat", "flat")):
        model = loaded(name)
        assert unwrapped(model) is model.inner
        assert family_of(unwrapped(model).kind).name == family
        assert "searched in the transformed space" in view_note(model)
    ivf = feder.load_index(faiss.serialize_index(built("pca-ivf-flat")))
    assert ivf.search(data()[1][0], 5).params["nprobe"] == 4  # the file's nprobe
    assert ivf.search(data()[1][0], 5, nprobe=32).params["nprobe"] == 32
    with pytest.raises(TypeError, match="nprobe"):
        ivf.search(data()[1][0], 5, ef=3)
    with pytest.raises(feder.QueryError, match="32"):
        ivf.search(np.ones(16, np.float32), 5)  # a transformed-space vector is refused
    hnsw = feder.load_index(faiss.serialize_index(built("pca-hnsw")))
    assert hnsw.search(data()[1][0], 5, ef=40).params["ef"] == 40


def test_a_live_faiss_index_loads_like_its_bytes() -> None:
    index = built("opq-ivf-pq")
    live = feder.load_index(index).model
    assert isinstance(live, PreTransformIndex)
    blob = loaded("opq-ivf-pq")
    assert live.description == blob.description
    for a, b in zip(live.chain, blob.chain, strict=True):
        assert isinstance(a, LinearTransform) and isinstance(b, LinearTransform)
        np.testing.assert_array_equal(a.A, b.A)


def test_idmap_around_a_pretransform_reports_the_users_ids() -> None:
    model = loaded("idmap-pca-flat")
    assert set(model.ids.tolist()) == set((np.arange(N) * 7 + 11).tolist())
    assert model.vector(11 + 7 * 5).shape == (D,)
    with pytest.raises(feder.UnknownIdError):
        model.vector(5)


def test_vectors_in_both_spaces_and_reconstruction() -> None:
    xb, _ = data()
    # a square random rotation is invertible: the input comes back
    rr = loaded("rr-flat")
    assert rr.invertible
    np.testing.assert_allclose(rr.reconstruct(7), xb[7], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(rr.reconstruct(7), built("rr-flat").reconstruct(7),
                               rtol=1e-5, atol=1e-5)
    # PCA 32→16: faiss's reconstruct (the projection back); the stored vector is 16-d
    pca = loaded("pca-flat")
    assert not pca.invertible
    assert pca.stored_vector(7).shape == (16,)
    np.testing.assert_allclose(pca.stored_vector(7), pca.transform_queries(xb[7])[0],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pca.reconstruct(7), built("pca-flat").reconstruct(7),
                               rtol=1e-5, atol=1e-5)
    # vector(id) is a query whose transform is the stored vector: it finds itself first
    for name in ("pca-flat", "pcaw-flat", "l2norm-flat-ip", "pad-flat", "opq-ivf-pq"):
        model = loaded(name)
        for ident in (0, 123, 2999):
            q = model.vector(ident)
            assert q.shape == (D,)
            np.testing.assert_allclose(model.transform_queries(q)[0],
                                       model.stored_vector(ident), rtol=1e-4, atol=1e-4)
            assert trace.search(model, q, 1, **CASES[name][2]).ids[0] == ident
    rows = loaded("pca-flat").vectors[np.array([3, 4])]
    assert rows.shape == (2, D)
    # L2 normalisation drops the length: no reconstruction, said clearly
    l2norm = loaded("l2norm-flat-ip")
    with pytest.raises(feder.UnsupportedIndexError, match="not invertible"):
        l2norm.reconstruct(3)
    np.testing.assert_allclose(np.linalg.norm(l2norm.vector(3)), 1.0, rtol=1e-5)
    with pytest.raises(feder.UnsupportedIndexError, match="ITQ"):
        loaded("itq-flat").vector(3)
    with pytest.raises(feder.UnsupportedIndexError, match="orthonormal"):
        loaded("pcaw-flat").reconstruct(3)


def _transform_at(blob: bytes) -> int:
    """Byte offset of the first transform's fourcc in an IxPT file (L2 metric header)."""
    assert blob[:4] == b"IxPT"
    (metric,) = struct.unpack_from("<i", blob, 33)
    return 37 + (4 if metric > 1 else 0) + 4


def test_unread_and_corrupt_transforms_are_refused_by_name() -> None:
    xb, _ = data()
    hadamard = faiss.IndexPreTransform(faiss.HadamardRotation(D, 3), faiss.IndexFlatL2(D))
    hadamard.add(xb[:50])
    with pytest.raises(feder.UnsupportedIndexError, match=r"HRot.*Hadamard"):
        feder.load_index(faiss.serialize_index(hadamard))
    blob = bytearray(faiss.serialize_index(built("l2norm-flat-ip")).tobytes())
    at = _transform_at(bytes(blob))
    assert blob[at: at + 4] == b"VNrm"
    other_norm = bytearray(blob)
    other_norm[at + 4: at + 8] = struct.pack("<f", 1.0)
    with pytest.raises(feder.UnsupportedIndexError, match="norm 1"):
        feder.load_index(bytes(other_norm))
    unknown = bytearray(blob)
    unknown[at: at + 4] = b"Xfrm"
    with pytest.raises(feder.IndexFormatError, match="vector transform fourcc"):
        feder.load_index(bytes(unknown))
    wrong_dim = bytearray(blob)
    wrong_dim[at + 8: at + 16] = struct.pack("<ii", D + 1, D + 1)  # d_in ≠ the index's d
    with pytest.raises(feder.IndexFormatError, match="takes 33 dimensions, expected 32"):
        feder.load_index(bytes(wrong_dim))
    with pytest.raises(feder.TruncatedIndexError):
        feder.load_index(bytes(blob[: at + 6]))


def test_federpy_shows_the_search_in_the_transformed_space(tmp_path: Any) -> None:
    from feder import FederPy

    _, xq = data()
    index = built("pca-ivf-flat")
    fed = FederPy(index, "faiss", width=900, height=520)
    assert fed.search_params["nprobe"] == 4
    assert fed.session.family.name == "ivf"
    note = fed.session.view_params()["note"]
    assert "transformed space" in note and "PCA 32→16" in note
    widget = fed.setSearchParams({"k": 6}).searchByVec(xq[0])
    _, want = index.search(xq[:1], 6)
    np.testing.assert_array_equal(widget.trace.ids, want[0])
    assert widget.trace.query.shape == (16,)  # the views work in the transformed space
    assert widget.view_params["note"] == note
    by_id = fed.searchById(int(want[0][0]))
    assert by_id.trace.ids[0] == want[0][0]
    overview = fed.overview()
    assert overview.overview["facts"]["dim"] == 16
    path = fed.export_html(tmp_path / "pretransform.html", [widget, by_id])
    assert "transformed space" in path.read_text()
    hnsw = FederPy(built("pca-hnsw"), "faiss")
    assert hnsw.search_params["ef_search"] == 32
    assert hnsw.searchById(5).trace.ids[0] == 5


def test_centering_and_legacy_pca_layouts() -> None:
    """``VCnt`` (no index_factory string makes one) and the older PCA records ``PcAm`` (no
    epsilon) and ``PCAm`` (no epsilon, no balanced bins), written by older faiss."""
    xb, xq = data()
    centred = faiss.IndexPreTransform(faiss.CenteringTransform(D), faiss.IndexFlatL2(D))
    centred.train(xb)
    centred.add(xb)
    model = feder.load_index(faiss.serialize_index(centred)).model
    assert isinstance(model, PreTransformIndex) and model.invertible
    assert model.description == "centering, then Flat"
    step = model.chain[0]
    assert isinstance(step, CenteringTransform)
    np.testing.assert_array_equal(step.mean, _array(faiss_chain(centred)[0].mean))
    _, want = centred.search(xq[:20], K)
    for q in range(20):
        np.testing.assert_array_equal(trace.search(model, xq[q], K).ids, want[q])
    np.testing.assert_allclose(model.reconstruct(9), xb[9], rtol=1e-5, atol=1e-5)

    blob = faiss.serialize_index(built("pca-flat")).tobytes()
    at = _transform_at(blob)
    assert blob[at: at + 4] == b"Pcam"
    current = loaded("pca-flat")
    pcam_fields = at + 4 + 4  # after the fourcc and eigen_power: epsilon, then the rest
    for fourcc, dropped in ((b"PcAm", 4), (b"PCAm", 8)):
        legacy = bytearray(blob[:at] + fourcc + blob[at + 4: pcam_fields])
        if fourcc == b"PCAm":  # random_rotation stays, the i32 balanced_bins goes
            legacy += blob[pcam_fields + 4: pcam_fields + 5] + blob[pcam_fields + 9:]
        else:
            legacy += blob[pcam_fields + 4:]
        assert len(legacy) == len(blob) - dropped
        model = feder.load_index(bytes(legacy)).model
        assert isinstance(model, PreTransformIndex) and model.chain[0].fourcc == fourcc.decode()
        np.testing.assert_array_equal(model.transform_queries(xq),
                                      current.transform_queries(xq))
