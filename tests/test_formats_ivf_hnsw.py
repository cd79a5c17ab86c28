"""faiss IVF with an HNSW coarse quantizer (``IVF…_HNSW…``): the quantizer graph is read like
an IndexHNSWFlat and the coarse search replayed through it, then the lists as for a flat
quantizer (IVF_FLAT, IVF_SQ, IVF_PQ, inside an id map)."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from conftest import clustered

import feder
from feder.families import FAMILY_OF_KIND
from feder.model import FaissHNSWIndex, IVFHNSWFlatIndex
from feder.trace import HNSWTrace, IVFTrace

METRICS = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT}


def build(factory: str, metric: str, n: int = 4000, d: int = 16, nprobe: int = 5,
          ) -> tuple[faiss.Index, np.ndarray]:
    data = clustered(n, d, 0)
    index = faiss.index_factory(d, factory, METRICS[metric])
    index.train(data)
    if factory.startswith("IDMap"):
        index.add_with_ids(data, np.arange(n, dtype=np.int64)[::-1] * 3 + 1)
    else:
        index.add(data)
    faiss.extract_index_ivf(index).nprobe = nprobe
    # as a user's saved index: read back from its bytes (IVF_PQ rebuilds its tables)
    return faiss.deserialize_index(faiss.serialize_index(index)), data


def queries(data: np.ndarray, n: int = 30) -> np.ndarray:
    return np.concatenate([data[: n // 2], clustered(n - n // 2, data.shape[1], 5)])


@pytest.mark.parametrize("factory", ["IVF64_HNSW8,Flat", "IVF64_HNSW8,SQ8", "IVF64_HNSW8,PQ8",
                                     "IDMap2,IVF64_HNSW8,Flat"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_search_equals_faiss(factory, metric):
    index, data = build(factory, metric)
    blob = faiss.serialize_index(index).tobytes()
    parsed = feder.load_index(blob)
    assert FAMILY_OF_KIND[parsed.kind] == "ivf"
    qs = queries(data)
    for k, nprobe in ((10, None), (1, 1), (25, 12)):
        if nprobe is None:
            distances, ids = index.search(qs, k)
        else:
            distances, ids = index.search(qs, k, params=faiss.SearchParametersIVF(
                nprobe=nprobe))
        for i, q in enumerate(qs):
            trace = parsed.search(q, k=k) if nprobe is None else parsed.search(q, k=k,
                                                                               nprobe=nprobe)
            np.testing.assert_array_equal(trace.ids, ids[i], err_msg=f"{factory} query {i}")
            np.testing.assert_allclose(trace.distances, distances[i], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_quantizer_graph_and_coarse_step(metric):
    index, data = build("IVF64_HNSW8,Flat", metric, nprobe=6)
    blob = faiss.serialize_index(index).tobytes()
    assert blob[:4] == b"IwFl"
    parsed = feder.load_index(blob)
    model = parsed.model
    assert isinstance(model, IVFHNSWFlatIndex) and parsed.kind == "ivf_hnsw_flat"
    graph = model.coarse_graph
    assert isinstance(graph, FaissHNSWIndex)
    quantizer = faiss.downcast_index(index.quantizer)
    np.testing.assert_array_equal(model.centroids, quantizer.storage.reconstruct_n(0, 64))
    np.testing.assert_array_equal(graph.vectors, model.centroids)
    assert graph.ef_search == quantizer.hnsw.efSearch
    from faiss.contrib.inspect_tools import get_invlist

    for lst in range(64):
        ids, codes = get_invlist(index.invlists, lst)
        np.testing.assert_array_equal(model.list_ids(lst), ids)
        np.testing.assert_array_equal(model.list_vectors(lst),
                                      codes.view(np.float32).reshape(-1, 16))
    for q in queries(data, 12):
        trace = parsed.search(q, k=5)
        assert isinstance(trace, IVFTrace) and isinstance(trace.coarse_graph, HNSWTrace)
        coarse_d, coarse_ids = quantizer.search(q[None], 6)
        np.testing.assert_array_equal(trace.coarse.probed_lists, coarse_ids[0])
        np.testing.assert_array_equal(trace.coarse.probed_distances, coarse_d[0])
        np.testing.assert_array_equal(trace.coarse_graph.ids, coarse_ids[0])
        assert trace.coarse.centroid_distances.shape == (64,)
        assert set(np.unique(trace.fine.candidate_lists)) <= set(coarse_ids[0].tolist())


def test_quantizer_ef_search_is_the_files():
    """A small efSearch on the quantizer graph makes the coarse search approximate; the
    replay follows the graph, not an exact ranking of the centroids."""
    index, data = build("IVF256_HNSW4,Flat", "l2", n=6000, nprobe=16)
    quantizer = faiss.downcast_index(index.quantizer)
    quantizer.hnsw.efSearch = 2
    blob = faiss.serialize_index(index).tobytes()
    parsed = feder.load_index(blob)
    assert parsed.model.coarse_graph.ef_search == 2
    differs = 0
    _, ids = index.search(queries(data, 40), 8)
    for i, q in enumerate(queries(data, 40)):
        trace = parsed.search(q, k=8)
        np.testing.assert_array_equal(trace.ids, ids[i])
        exact = np.argsort(trace.coarse.centroid_distances, kind="stable")[:16]
        differs += not np.array_equal(np.sort(exact), np.sort(trace.coarse.probed_lists))
    assert differs  # the graph search really is approximate here


def test_other_quantizers_are_refused_by_name():
    data = clustered(3000, 8, 1)
    index = faiss.index_factory(8, "IVF16_HNSW4,Flat")
    index.train(data)
    index.add(data)
    blob = bytearray(faiss.serialize_index(index).tobytes())
    q_at = 4 + 33 + 16
    assert blob[q_at: q_at + 4] == b"IHNf"
    blob[q_at: q_at + 4] = b"IHNp"
    with pytest.raises(feder.FederError) as info:
        feder.load_index(bytes(blob))
    assert "IHNp" in str(info.value) or "quantizer" in str(info.value)
