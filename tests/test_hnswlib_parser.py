"""feder's hnswlib reader against hnswlib's API, its in-memory state and a plain struct reader."""

from __future__ import annotations

import itertools
import struct

import hnswlib
import numpy as np
import pytest
from conftest import hnswlib_state

import feder


def read_hnswlib_struct(blob: bytes) -> dict:
    """A deliberately naive reader of hnswlib ``saveIndex`` output: one ``struct.unpack_from``
    per field, following the DESIGN.md table (independent of feder's vectorized reader)."""
    _off0, max_elements, n, size_per, label_off, data_off = struct.unpack_from("<6Q", blob, 0)
    max_level, entry_point = struct.unpack_from("<iI", blob, 48)
    max_m, max_m0, m = struct.unpack_from("<3Q", blob, 56)
    (mult,) = struct.unpack_from("<d", blob, 80)
    (ef_construction,) = struct.unpack_from("<Q", blob, 88)
    dim = (label_off - data_off) // 4
    level0, flags, vectors, labels = [], [], [], []
    for i in range(n):
        rec = 96 + i * size_per
        count, flag = struct.unpack_from("<HB", blob, rec)
        level0.append(list(struct.unpack_from(f"<{count}I", blob, rec + 4)))
        flags.append(flag)
        vectors.append(struct.unpack_from(f"<{dim}f", blob, rec + data_off))
        labels.append(struct.unpack_from("<Q", blob, rec + label_off)[0])
    pos = 96 + n * size_per
    levels, upper = [], {}
    for i in range(n):
        (nbytes,) = struct.unpack_from("<I", blob, pos)
        pos += 4
        level, rest = divmod(nbytes, 4 * (max_m + 1))
        assert rest == 0
        levels.append(level)
        for lv in range(1, level + 1):
            (count,) = struct.unpack_from("<I", blob, pos)
            upper.setdefault(lv, {})[i] = list(struct.unpack_from(f"<{count}I", blob, pos + 4))
            pos += 4 * (max_m + 1)
    assert pos == len(blob), "trailing or missing bytes"
    return {"max_elements": max_elements, "n": n, "dim": dim, "max_level": max_level,
            "entry_point": entry_point, "max_m": max_m, "max_m0": max_m0, "M": m, "mult": mult,
            "ef_construction": ef_construction, "level0": level0, "deleted": [f & 1 for f in flags],
            "vectors": np.array(vectors, np.float32).reshape(n, dim), "labels": labels,
            "levels": levels, "upper": upper}


def graph_dict(parsed: feder.HNSWIndex, level: int) -> dict[int, list[int]]:
    graph = parsed.graphs[level]
    return {int(node): graph.neighbors_of(int(node)).tolist() for node in graph.nodes}


def assert_matches(parsed: feder.HNSWIndex, case) -> None:
    """parsed == hnswlib's public API, its __getstate__ arrays and the struct reader."""
    index = case.index
    ref = read_hnswlib_struct(case.blob)
    state = hnswlib_state(index)
    n = index.element_count
    assert parsed.kind == "hnsw" and parsed.metric == case.space
    assert parsed.ntotal == n == ref["n"] == state["n"]
    assert parsed.dim == index.dim == ref["dim"]
    assert parsed.M == index.M == ref["M"]
    assert parsed.max_M == ref["max_m"] == state["max_m"] == index.M
    assert parsed.max_M0 == ref["max_m0"] == 2 * index.M
    assert parsed.ef_construction == index.ef_construction == ref["ef_construction"]
    assert parsed.max_elements == index.max_elements
    assert parsed.mult == pytest.approx(1 / np.log(index.M))
    assert parsed.entry_point == ref["entry_point"] == state["entry_point"]
    assert parsed.max_level == ref["max_level"] == state["max_level"]
    np.testing.assert_array_equal(parsed.levels, state["levels"])
    np.testing.assert_array_equal(parsed.levels, ref["levels"])
    np.testing.assert_array_equal(parsed.labels, state["labels"])
    np.testing.assert_array_equal(parsed.labels, np.array(ref["labels"], np.uint64))
    np.testing.assert_array_equal(parsed.vectors, state["vectors"])
    np.testing.assert_array_equal(parsed.vectors, ref["vectors"])
    np.testing.assert_array_equal(parsed.deleted, state["deleted"])
    assert parsed.num_deleted == len(case.deleted)
    assert set(parsed.labels[parsed.deleted].tolist()) == set(case.deleted.tolist())
    # public API: labels and stored vectors (get_items refuses deleted labels)
    assert sorted(parsed.labels.tolist()) == sorted(index.get_ids_list())
    live = parsed.labels[~parsed.deleted]
    if live.size:
        np.testing.assert_array_equal(parsed.vectors[~parsed.deleted],
                                      np.asarray(index.get_items(live), np.float32))
    # links, level by level, against both oracles
    assert len(parsed.graphs) == parsed.max_level + 1
    assert graph_dict(parsed, 0) == {i: state["level0"][i] for i in range(n)}
    assert graph_dict(parsed, 0) == dict(enumerate(ref["level0"]))
    for level in range(1, parsed.max_level + 1):
        assert graph_dict(parsed, level) == state["upper"][level]
        assert graph_dict(parsed, level) == ref["upper"][level]
    assert_graph_invariants(parsed)


def assert_graph_invariants(parsed: feder.HNSWIndex) -> None:
    n = parsed.ntotal
    assert parsed.levels[parsed.entry_point] == parsed.max_level == parsed.levels.max()
    for level, graph in enumerate(parsed.graphs):
        assert graph.level == level
        np.testing.assert_array_equal(graph.nodes, np.flatnonzero(parsed.levels >= level))
        assert graph.offsets.shape == (graph.nodes.size + 1,) and graph.offsets[0] == 0
        assert np.all(np.diff(graph.offsets) >= 0)
        assert graph.offsets[-1] == graph.neighbors.size
        assert graph.neighbors.dtype == np.uint32
        counts = np.diff(graph.offsets)
        assert counts.max(initial=0) <= (parsed.max_M0 if level == 0 else parsed.max_M)
        if graph.neighbors.size:
            assert int(graph.neighbors.max()) < n
            assert parsed.levels[graph.neighbors].min() >= level  # links stay on the level
        src = np.repeat(graph.nodes, counts)
        assert not np.any(src == graph.neighbors), "self loop"
        if graph.nodes.size > 1:
            assert counts.min() >= 1  # hnswlib links every node it inserts


CASES = {
    "l2_M8": {"space": "l2", "M": 8},
    "ip_M8": {"space": "ip", "M": 8},
    "cosine_M16": {"space": "cosine", "M": 16},
    "l2_M4_many_levels": {"space": "l2", "M": 4, "n": 2000},
    "l2_M32": {"space": "l2", "M": 32, "n": 600},
    "custom_labels_threads": {"space": "l2", "M": 8, "custom_labels": True, "num_threads": 2},
    "deleted": {"space": "l2", "M": 8, "delete": 60},
    "ip_deleted_custom": {"space": "ip", "M": 6, "delete": 25, "custom_labels": True},
    "spare_capacity": {"space": "l2", "M": 8, "n": 300, "max_elements": 1000},
    "dim_1": {"space": "l2", "M": 4, "dim": 1, "n": 200},
    "one_element": {"space": "l2", "M": 4, "n": 1},
}


@pytest.mark.parametrize("name", list(CASES))
def test_parser_equals_hnswlib(hnsw_factory, name):
    case = hnsw_factory(**CASES[name])
    parsed = feder.load_index(case.path, space=case.space)
    assert parsed.source == str(case.path)
    assert_matches(parsed, case)


def test_getstate_exposes_the_graph_in_0_8_0(hnsw_factory):
    """hnswlib 0.8.0's __getstate__ carries element_levels, link_lists and data_level0 (the
    oracle used above); get_params does not exist in this version."""
    case = hnsw_factory(n=50, M=4)
    state = case.index.__getstate__()[0]
    assert {"element_levels", "link_lists", "data_level0"} <= set(state)
    assert not hasattr(case.index, "get_params")
    assert hnswlib_state(case.index)["n"] == 50


def test_multiple_levels_and_level_sizes(hnsw_factory):
    case = hnsw_factory(n=2000, M=4)
    parsed = feder.load_index(case.blob)
    assert parsed.max_level >= 3
    per_level = [g.nodes.size for g in parsed.graphs]
    assert per_level[0] == 2000
    assert all(a >= b for a, b in itertools.pairwise(per_level))  # decays
    assert 2000 / 4 * 0.7 < per_level[1] < 2000 / 4 * 1.3  # P(level ≥ 1) = 1/M
    for level in range(parsed.max_level + 1):
        np.testing.assert_array_equal(np.bincount(parsed.levels, minlength=parsed.max_level + 1)
                                      [level:].sum(), per_level[level])


def test_cosine_vectors_are_normalized(hnsw_factory):
    case = hnsw_factory(space="cosine", M=8)
    parsed = feder.load_index(case.blob, space="cosine")
    norms = np.linalg.norm(parsed.vectors, axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    raw = case.data / np.linalg.norm(case.data, axis=1, keepdims=True)
    by_label = {int(lab): i for i, lab in enumerate(case.labels)}
    rows = [by_label[int(lab)] for lab in parsed.labels]
    np.testing.assert_allclose(parsed.vectors, raw[rows], rtol=1e-5, atol=1e-6)


def test_labels_differ_from_internal_ids(hnsw_factory):
    case = hnsw_factory(custom_labels=True)  # one thread: deterministic, permuted labels
    parsed = feder.load_index(case.blob)
    np.testing.assert_array_equal(parsed.labels, case.labels)  # internal id = insertion order
    assert not np.array_equal(parsed.labels, np.sort(parsed.labels))
    assert not np.array_equal(parsed.labels, np.arange(parsed.ntotal))
    for label in case.labels[::50].tolist():
        internal = parsed.internal_id(label)
        assert parsed.labels[internal] == label
        np.testing.assert_array_equal(parsed.vector(label), case.index.get_items([label])[0])


def test_threaded_insertion_is_read_as_written(hnsw_factory):
    case = hnsw_factory(custom_labels=True, num_threads=2, n=1500)
    parsed = feder.load_index(case.blob)
    assert sorted(parsed.labels.tolist()) == sorted(case.labels.tolist())
    order = {int(lab): i for i, lab in enumerate(case.labels)}
    rows = np.array([order[int(lab)] for lab in parsed.labels])
    np.testing.assert_array_equal(parsed.vectors, case.data[rows])  # vectors follow labels
    assert_matches(parsed, case)


def test_live_hnswlib_object(hnsw_factory):
    case = hnsw_factory(space="ip", custom_labels=True, delete=10)
    live = feder.load_index(case.index)
    from_file = feder.load_index(case.path, space="ip")
    assert live.metric == "ip" and live.source == "hnswlib.Index"
    for name in ("labels", "levels", "vectors", "deleted"):
        np.testing.assert_array_equal(getattr(live, name), getattr(from_file, name))
    for a, b in zip(live.graphs, from_file.graphs, strict=True):
        np.testing.assert_array_equal(a.offsets, b.offsets)
        np.testing.assert_array_equal(a.neighbors, b.neighbors)
    assert_matches(live, case)
    with pytest.raises(feder.ParameterError, match="uses 'ip'"):
        feder.load_index(case.index, space="l2")
    with pytest.raises(feder.ParameterError):
        feder.load_index(case.index, source="faiss")


def test_bytes_and_path_agree(hnsw_factory):
    case = hnsw_factory(M=6)
    a = feder.load_index(case.blob)
    b = feder.load_index(bytearray(case.blob), source="hnswlib")
    c = feder.load_index(str(case.path))
    for other in (b, c):
        np.testing.assert_array_equal(a.vectors, other.vectors)
        np.testing.assert_array_equal(a.graphs[0].neighbors, other.graphs[0].neighbors)
    assert a.metric == "l2"  # the default space
    assert not c.vectors.flags.writeable  # read-only views of the memory map


def test_empty_index(hnsw_factory):
    case = hnsw_factory(n=0, dim=8, max_elements=10)
    parsed = feder.load_index(case.blob)
    assert parsed.ntotal == 0 and parsed.dim == 8 and parsed.entry_point == -1
    assert parsed.vectors.shape == (0, 8)
    with pytest.raises(feder.QueryError, match="empty"):
        parsed.search(np.zeros(8, np.float32), k=1)


def test_space_is_validated(hnsw_factory):
    case = hnsw_factory(n=20)
    with pytest.raises(feder.ParameterError, match="l2, ip, cosine"):
        feder.load_index(case.blob, space="euclidean")


def test_truncation_and_bad_header_messages(hnsw_factory):
    case = hnsw_factory(n=100, M=4, dim=4)
    blob = case.blob
    size_per = 4 + 4 * 8 + 4 * 4 + 8
    with pytest.raises(feder.TruncatedIndexError) as info:
        feder.load_index(blob[: 96 + 50 * size_per])
    message = str(info.value)
    assert f"expected 100 × {size_per} bytes" in message and "byte offset 96" in message
    with pytest.raises(feder.TruncatedIndexError, match=r"ef_construction.*byte offset 88"):
        feder.load_index(blob[:90])
    with pytest.raises(feder.IndexFormatError, match=r"link lists .* byte offset"):
        feder.load_index(blob[:-4])
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, 40, 12345)  # offsetData
    with pytest.raises(feder.IndexFormatError, match=r"offsetData = 12345, expected 4 \+ 4·maxM0"):
        feder.load_index(bytes(bad))
    bad = bytearray(blob)
    struct.pack_into("<Q", bad, 16, 10**6)  # cur_element_count > max_elements
    with pytest.raises(feder.IndexFormatError, match="exceeds max_elements"):
        feder.load_index(bytes(bad))


def test_unknown_labels(hnsw_factory):
    case = hnsw_factory(custom_labels=True, delete=5)
    parsed = feder.load_index(case.blob)
    for label in (0, 1, -1, 2**64 + 5, 2**70):
        with pytest.raises(feder.UnknownIdError, match="not in the index"):
            parsed.vector(label)
    with pytest.raises(feder.UnknownIdError, match="marked deleted"):
        parsed.vector(int(case.deleted[0]))
    with pytest.raises(feder.UnknownIdError, match="integers"):
        parsed.vector("5000")
    with pytest.raises(KeyError):  # also a KeyError for plain Python callers
        parsed.internal_id(3)


def test_hnswlib_refuses_what_feder_refuses(hnsw_factory):
    """Sanity check of the oracle: hnswlib's get_items refuses deleted labels too."""
    case = hnsw_factory(delete=3)
    with pytest.raises(RuntimeError):
        case.index.get_items([int(case.deleted[0])])
    assert isinstance(case.index, hnswlib.Index)
