"""faiss ``IndexHNSWFlat`` (IHNf): the parser against faiss's own HNSW arrays, and the search
replay against ``index.search`` and faiss's search statistics."""

from __future__ import annotations

import struct

import faiss
import numpy as np
import pytest
from conftest import clustered

import feder
from feder.families import FAMILY_OF_KIND
from feder.model import FaissHNSWIndex
from feder.trace import TRACERS, BeamLevel, GreedyLevel, HNSWTrace
from feder.trace.types import ADMITTED, REJECTED

FLT_MAX = float(np.finfo(np.float32).max)
METRICS = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT}


def build(metric: str = "l2", n: int = 2000, d: int = 16, M: int = 8, ef_construction: int = 40,
          ef_search: int = 16, seed: int = 0, data: np.ndarray | None = None,
          ) -> tuple[faiss.Index, np.ndarray]:
    if data is None:
        data = clustered(n, d, seed)
    index = faiss.IndexHNSWFlat(data.shape[1], M, METRICS[metric])
    index.hnsw.efConstruction = ef_construction
    index.add(data)
    index.hnsw.efSearch = ef_search
    return index, data


def blob_of(index: faiss.Index) -> bytes:
    return faiss.serialize_index(index).tobytes()


def faiss_levels(index: faiss.Index) -> list[dict[int, list[int]]]:
    """Per level, node → links, decoded from faiss's own arrays with plain Python."""
    hnsw = index.hnsw
    levels = faiss.vector_to_array(hnsw.levels)
    offsets = faiss.vector_to_array(hnsw.offsets)
    neighbors = faiss.vector_to_array(hnsw.neighbors)
    cum = faiss.vector_to_array(hnsw.cum_nneighbor_per_level)
    out: list[dict[int, list[int]]] = [{} for _ in range(hnsw.max_level + 1)]
    for node in range(index.ntotal):
        for level in range(int(levels[node])):
            links = []
            for j in range(int(offsets[node] + cum[level]), int(offsets[node] + cum[level + 1])):
                if neighbors[j] < 0:
                    break
                links.append(int(neighbors[j]))
            out[level][node] = links
    return out


def queries(data: np.ndarray, n: int = 40, seed: int = 9) -> np.ndarray:
    fresh = clustered(n - n // 2, data.shape[1], seed)
    return np.concatenate([data[: n // 2], fresh]).astype(np.float32)


def assert_same_search(parsed: feder.Index, index: faiss.Index, qs: np.ndarray, k: int,
                       ef: int | None = None) -> None:
    if ef is None:
        distances, ids = index.search(qs, k)
    else:
        distances, ids = index.search(qs, k, params=faiss.SearchParametersHNSW(efSearch=ef))
    for i, q in enumerate(qs):
        trace = parsed.search(q, k=k) if ef is None else parsed.search(q, k=k, ef=ef)
        np.testing.assert_array_equal(trace.ids, ids[i], err_msg=f"query {i}, k={k}, ef={ef}")
        np.testing.assert_allclose(trace.distances, distances[i], rtol=1e-5, atol=1e-5,
                                   err_msg=f"query {i}, k={k}, ef={ef}")


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_parser_equals_faiss_arrays(metric, tmp_path):
    index, data = build(metric, n=1500, M=6, ef_search=21)
    blob = blob_of(index)
    assert blob[:4] == b"IHNf"
    path = tmp_path / "hnsw.index"
    faiss.write_index(index, str(path))
    expected = faiss_levels(index)
    for source in (blob, index, path):
        parsed = feder.load_index(source)
        model = parsed.model
        assert isinstance(model, FaissHNSWIndex) and isinstance(model, feder.HNSWIndex)
        assert (parsed.kind, parsed.metric, parsed.dim, parsed.ntotal) == (
            "faiss_hnsw", metric, 16, 1500)
        hnsw = index.hnsw
        assert model.entry_point == hnsw.entry_point
        assert model.max_level == hnsw.max_level
        assert model.ef_search == 21 and model.ef_construction == 40
        assert (model.M, model.max_M0) == (6, 12)
        np.testing.assert_array_equal(model.levels, faiss.vector_to_array(hnsw.levels) - 1)
        np.testing.assert_array_equal(model.cum_nneighbor_per_level,
                                      faiss.vector_to_array(hnsw.cum_nneighbor_per_level))
        np.testing.assert_array_equal(model.assign_probas,
                                      faiss.vector_to_array(hnsw.assign_probas))
        np.testing.assert_array_equal(model.vectors, data)
        np.testing.assert_array_equal(model.labels, np.arange(1500))
        assert not model.deleted.any()
        assert len(model.graphs) == hnsw.max_level + 1
        for level, graph in enumerate(model.graphs):
            assert graph.level == level
            assert graph.nodes.tolist() == sorted(expected[level])
            for node, links in expected[level].items():
                assert graph.neighbors_of(node).tolist() == links, (level, node)
        np.testing.assert_array_equal(parsed.vector(77), index.reconstruct(77))
    assert "ef_search=21" in repr(parsed)


@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_search_equals_faiss(metric, k):
    index, data = build(metric)
    parsed = feder.load_index(blob_of(index))
    assert_same_search(parsed, index, queries(data), k)


@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("ef", [1, 7, 64])
def test_search_with_ef_equals_faiss(metric, ef):
    index, data = build(metric, n=1200, M=5)
    parsed = feder.load_index(blob_of(index))
    assert_same_search(parsed, index, queries(data, 30), 6, ef=ef)
    assert parsed.search(data[0], k=3, ef_search=ef).params["ef"] == ef


def test_autofaiss_default_hnsw32():
    """autofaiss writes ``HNSW32`` (IndexHNSWFlat, M = 32) by default."""
    data = clustered(3000, 32, 4)
    index = faiss.index_factory(32, "HNSW32")
    index.add(data)
    blob = blob_of(index)
    assert blob[:4] == b"IHNf"
    parsed = feder.load_index(blob)
    assert parsed.M == 32 and parsed.max_M0 == 64 and parsed.model.ef_search == 16
    assert_same_search(parsed, index, queries(data, 30), 10)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_ties_follow_faiss(metric):
    """Duplicated vectors: equal distances everywhere (heaps tie-break on ids, pop_min takes
    the last slot among equals)."""
    base = clustered(150, 8, 3)
    data = np.concatenate([base, base, base[:70]]).astype(np.float32)
    index, _ = build(metric, data=data, M=4, ef_construction=20)
    parsed = feder.load_index(blob_of(index))
    for k in (1, 2, 3, 5, 9):
        assert_same_search(parsed, index, base[:40], k)
        assert_same_search(parsed, index, base[:20], k, ef=3)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_statistics_equal_faiss(metric):
    """Distances computed and hops equal faiss's own counters: the replay visits exactly
    the nodes faiss visits."""
    index, data = build(metric, n=1500, M=6)
    parsed = feder.load_index(blob_of(index))
    stats = faiss.cvar.hnsw_stats
    for q in queries(data, 16):
        stats.reset()
        index.search(q[None], 7)
        trace = parsed.search(q, k=7)
        assert sum(int(level.edge_dst.size) for level in trace.levels) == stats.ndis
        hops = 0
        for level in trace.levels[:-1]:
            assert isinstance(level, GreedyLevel)
            src = level.edge_src
            runs = int(np.count_nonzero(np.diff(src))) + 1 if src.size else 0
            hops += runs + (0 if src.size and src[-1] == level.path[-1] else 1)
        beam = trace.levels[-1]
        assert isinstance(beam, BeamLevel)
        hops += int(beam.expanded.size)
        assert hops == stats.nhops


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_trace_shape_serves_the_graph_views(metric):
    index, data = build(metric, n=1000)
    parsed = feder.load_index(blob_of(index))
    trace = parsed.search(data[3], k=5)
    assert isinstance(trace, HNSWTrace) and trace.kind == "faiss_hnsw"
    assert FAMILY_OF_KIND[trace.kind] == "graph"
    assert trace.larger_is_closer is (metric == "ip")
    assert len(trace.levels) == parsed.max_level + 1
    for step, level in zip(trace.levels[:-1], range(parsed.max_level, 0, -1), strict=True):
        assert isinstance(step, GreedyLevel) and step.level == level
    beam = trace.levels[-1]
    assert isinstance(beam, BeamLevel) and beam.level == 0
    assert beam.entry == trace.levels[-2].path[-1] if parsed.max_level else True
    assert beam.ef == max(16, 5)
    # the final heap is what the admitted edges leave once the evicted ones are removed
    held = {beam.entry} | set(beam.edge_dst[beam.edge_outcome == ADMITTED].tolist())
    held -= set(beam.edge_evicted[beam.edge_evicted >= 0].tolist())
    assert held == set(beam.beam.tolist())
    assert set(np.unique(beam.edge_outcome)) <= {ADMITTED, REJECTED}
    np.testing.assert_array_equal(parsed.model.labels[trace.result_internal], trace.ids)
    assert set(trace.result_internal.tolist()) <= set(beam.visited.tolist())
    order = -beam.beam_distances if metric == "ip" else beam.beam_distances
    assert np.all(np.diff(order) >= 0)


def test_k_above_ntotal_pads_and_empty_index():
    index, data = build("l2", n=9, M=4)
    parsed = feder.load_index(blob_of(index))
    assert_same_search(parsed, index, data[:5], 14)
    trace = parsed.search(data[0], k=14)
    assert (trace.ids[9:] == -1).all() and (trace.distances[9:] == FLT_MAX).all()
    assert parsed.search(data[0], k=10**9).k == 1024
    empty = feder.load_index(faiss.IndexHNSWFlat(4, 4, faiss.METRIC_INNER_PRODUCT))
    assert empty.ntotal == 0 and empty.kind == "faiss_hnsw"
    trace = empty.search(np.ones(4, np.float32), k=3)
    assert (trace.ids == -1).all() and (trace.distances == -FLT_MAX).all()


@pytest.mark.parametrize("wrapper", ["IDMap", "IDMap2"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_idmap_around_hnsw(wrapper, metric):
    data = clustered(1200, 12, 6)
    index = faiss.index_factory(12, f"{wrapper},HNSW8", METRICS[metric])
    rng = np.random.default_rng(2)
    ids = (rng.choice(100_000, 1200, replace=False) - 5000).astype(np.int64)
    index.add_with_ids(data, ids)
    blob = blob_of(index)
    assert blob[:4] in (b"IxMp", b"IxM2") and blob[37:41] == b"IHNf"
    parsed = feder.load_index(blob)
    assert parsed.kind == "faiss_hnsw" and parsed.model.id_map_fourcc == blob[:4].decode()
    np.testing.assert_array_equal(parsed.labels, ids)
    for k in (1, 8):
        assert_same_search(parsed, index, queries(data), k)
    np.testing.assert_array_equal(parsed.vector(int(ids[5])), data[5])
    with pytest.raises(feder.UnknownIdError):
        parsed.vector(10**9)


def test_tracer_is_registered_with_the_file_default():
    assert TRACERS["faiss_hnsw"].params == {"ef": None}
    index, data = build("l2", n=300, ef_search=37)
    parsed = feder.load_index(index)
    assert parsed.search(data[0], k=2).params["ef"] == 37
    with pytest.raises(TypeError, match="nprobe"):
        parsed.search(data[0], k=2, nprobe=3)


def test_corrupt_files_report_offsets():
    index, _ = build("l2", n=60, d=4, M=4)
    blob = blob_of(index)
    pos = 4 + 33
    (n_probas,) = struct.unpack_from("<Q", blob, pos)
    pos += 8 + 8 * n_probas
    cum_at = pos
    (n_cum,) = struct.unpack_from("<Q", blob, pos)
    pos += 8 + 4 * n_cum
    levels_at = pos
    pos += 8 + 4 * 60
    offsets_at = pos
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, offsets_at + 8 + 8 * 7, 3)
    with pytest.raises(feder.IndexFormatError, match=r"offsets\[7\] = 3") as info:
        feder.load_index(bytes(bad))
    assert info.value.offset == offsets_at + 8 + 8 * 7
    bad = bytearray(blob)
    struct.pack_into("<i", bad, levels_at + 8, 99)
    with pytest.raises(feder.IndexFormatError, match="levels range") as info:
        feder.load_index(bytes(bad))
    assert info.value.offset == levels_at
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, cum_at, 2**40)
    with pytest.raises(feder.TruncatedIndexError, match="cum_nneighbor_per_level count"):
        feder.load_index(bytes(bad))
    with pytest.raises(feder.TruncatedIndexError):
        feder.load_index(blob[:-10])
    with pytest.raises(feder.IndexFormatError, match="4 unexpected bytes after the IHNf index"):
        feder.load_index(blob + b"\0\0\0\0")


@pytest.mark.parametrize("factory", ["HNSW6,SQ8", "HNSW6,SQ4", "HNSW6,SQfp16"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("d", [16, 12])
def test_hnsw_sq_storage(factory, metric, d):
    """IHNs: the graph over scalar-quantized storage; the replay compares the query with the
    codes as faiss's SQ distance computer decodes them."""
    data = clustered(1500, d, 8)
    index = faiss.index_factory(d, factory, METRICS[metric])
    index.train(data)
    index.add(data)
    blob = blob_of(index)
    assert blob[:4] == b"IHNs"
    parsed = feder.load_index(blob)
    model = parsed.model
    assert isinstance(model, FaissHNSWIndex) and model.fourcc == "IHNs"
    assert model.storage_qtype == {"SQ8": "QT_8bit", "SQ4": "QT_4bit",
                                   "SQfp16": "QT_fp16"}[factory.split(",")[1]]
    np.testing.assert_array_equal(model.vectors, index.storage.reconstruct_n(0, 1500))
    expected = faiss_levels(index)
    for level, graph in enumerate(model.graphs):
        for node, links in list(expected[level].items())[:200]:
            assert graph.neighbors_of(node).tolist() == links
    assert_same_search(parsed, index, queries(data), 8)
    assert_same_search(parsed, index, queries(data, 10), 3, ef=40)
    stats = faiss.cvar.hnsw_stats
    for q in queries(data, 6):
        stats.reset()
        index.search(q[None], 5)
        trace = parsed.search(q, k=5)
        assert sum(int(level.edge_dst.size) for level in trace.levels) == stats.ndis


def test_other_storage_is_refused_by_name():
    """A storage sub-index feder does not read is named with its role and offset."""
    index, _ = build("l2", n=50, d=8, M=4)
    blob = bytearray(blob_of(index))
    storage_at = len(blob) - (4 + 33 + 8 + 50 * 8 * 4)
    assert blob[storage_at: storage_at + 4] == b"IxF2"
    blob[storage_at: storage_at + 4] = b"IxHe"
    with pytest.raises(feder.UnsupportedIndexError, match="the storage of IHNf: IxHe = LSH") \
            as info:
        feder.load_index(bytes(blob))
    assert f"byte offset {storage_at}" in str(info.value)
