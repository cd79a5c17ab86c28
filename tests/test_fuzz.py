"""Corrupted index files: loading and searching either work or raise a FederError — never an
IndexError, a struct.error, a MemoryError or a hang — and never allocate much.

Small valid files of each kind are built once; hypothesis truncates them, overwrites bytes,
flips bits and writes extreme values into the header count fields.
"""

from __future__ import annotations

import struct
import tempfile
import tracemalloc
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from conftest import build_hnsw, build_ivf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feder

PEAK_LIMIT = 64 * 2**20
FUZZ = settings(max_examples=80, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])



@pytest.fixture(scope="module", autouse=True)
def kernels_warm() -> None:
    """The numba kernels warmed before any fuzzing: the hostile files then reach the kernels
    as well as the numpy replay, and no warm-up thread allocates (and compiles) while
    ``tracemalloc`` measures — its start/stop racing another thread's allocations can crash
    Python 3.11."""
    from feder.trace import accel

    if accel.enabled():
        assert accel.wait_ready(timeout=300), "the numba warm-up did not finish"


EXTREMES_U64 = [0, 1, 2, 3, 7, 255, 2**16 - 1, 2**16, 2**31 - 1, 2**31, 2**32 - 1, 2**32,
                2**40, 2**62, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1]


@cache
def samples() -> dict[str, bytes]:
    """Small valid files: IVF with a full size table and an array direct map, IVF inner product
    with sparse sizes and a hashtable direct map, hnswlib with several levels and deletions."""
    with tempfile.TemporaryDirectory() as tmp:
        hnsw = build_hnsw(Path(tmp), n=150, dim=4, M=4, ef_construction=20,
                          custom_labels=True, delete=10).blob
    return {
        "ivf_full": build_ivf(n=200, dim=4, nlist=8, direct_map="array").blob,
        "ivf_sprs": build_ivf(n=5, dim=4, nlist=16, metric="ip", direct_map="hashtable").blob,
        "hnsw": hnsw,
    }


def faiss_fields(blob: bytes) -> list[tuple[int, str, str]]:
    """(offset, struct format, name) of every count-like field of an IVF_FLAT file."""
    fields = [(4, "<i", "d"), (8, "<q", "ntotal"), (33, "<i", "metric_type")]
    (metric,) = struct.unpack_from("<i", blob, 33)
    pos = 37 + (4 if metric > 1 else 0)
    (nlist,) = struct.unpack_from("<Q", blob, pos)
    (d,) = struct.unpack_from("<i", blob, 4)
    fields += [(pos, "<Q", "nlist"), (pos + 8, "<Q", "nprobe")]
    pos += 16
    fields += [(pos + 4, "<i", "quantizer d"), (pos + 8, "<q", "quantizer ntotal"),
               (pos + 33, "<i", "quantizer metric")]
    pos += 4 + 33 + (4 if metric > 1 else 0)
    fields.append((pos, "<Q", "quantizer float count"))
    pos += 8 + 4 * nlist * d
    fields.append((pos, "<B", "direct map type"))
    dm_type = blob[pos]
    (n_dm,) = struct.unpack_from("<Q", blob, pos + 1)
    fields.append((pos + 1, "<Q", "direct map size"))
    pos += 9 + 8 * n_dm
    if dm_type == 2:
        fields.append((pos, "<Q", "hashtable size"))
        (n_pairs,) = struct.unpack_from("<Q", blob, pos)
        pos += 8 + 16 * n_pairs
    fields += [(pos + 4, "<Q", "invlists nlist"), (pos + 12, "<Q", "code size")]
    pos += 20
    kind = blob[pos: pos + 4]
    (n_sizes,) = struct.unpack_from("<Q", blob, pos + 4)
    fields.append((pos + 4, "<Q", "sizes count"))
    for i in range(n_sizes):
        name = "list size" if kind == b"full" or i % 2 else "sprs list number"
        fields.append((pos + 12 + 8 * i, "<Q", name))
    return fields


def hnsw_fields(blob: bytes) -> list[tuple[int, str, str]]:
    fields = [(8, "<Q", "max_elements"), (16, "<Q", "cur_element_count"),
              (24, "<Q", "size_data_per_element"), (32, "<Q", "label_offset"),
              (40, "<Q", "offsetData"), (48, "<i", "maxlevel"), (52, "<I", "enterpoint_node"),
              (56, "<Q", "maxM"), (64, "<Q", "maxM0"), (72, "<Q", "M"), (88, "<Q", "efc")]
    _, _, n, size_per = struct.unpack_from("<4Q", blob, 0)
    (max_m,) = struct.unpack_from("<Q", blob, 56)
    for i in range(0, n, 7):
        fields.append((96 + i * size_per, "<H", "level-0 link count"))
        fields.append((96 + i * size_per + 4, "<I", "level-0 link"))
    pos = 96 + n * size_per
    for _ in range(n):
        (nbytes,) = struct.unpack_from("<I", blob, pos)
        fields.append((pos, "<I", "upper links nbytes"))
        if nbytes:
            fields.append((pos + 4, "<I", "upper link count"))
            fields.append((pos + 8, "<I", "upper link"))
        pos += 4 + nbytes
    assert pos == len(blob) and max_m > 0
    return fields


def exercise(blob: bytes) -> str:
    """Load and search ``blob``; return 'ok' or the FederError class name. Anything else, a
    slow run or a large allocation fails the test."""
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow on absurd floats
            index = feder.load_index(blob)
            q = np.linspace(-1, 1, index.dim, dtype=np.float32)
            if isinstance(index.model, feder.IVFFlatIndex):
                for nprobe in (1, 3, index.nlist):
                    trace = index.search(q, k=4, nprobe=nprobe)
                    assert trace.ids.shape == (4,)
                index.search(q, k=2)  # nprobe from the file
                if index.ntotal:
                    index.search_by_id(int(index.ids[0]), k=2, nprobe=2)
                    assert index.vectors.shape == (index.ntotal, index.dim)
            else:
                for ef in (1, 10):
                    trace = index.search(q, k=2, ef=ef)
                    assert trace.ids.shape == (2,)
                live = np.flatnonzero(~index.deleted)
                if live.size:
                    index.search_by_id(int(index.labels[live[0]]), k=1, ef=4)
        return "ok"
    except feder.FederError as exc:
        assert str(exc)  # every error explains itself
        return type(exc).__name__
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < PEAK_LIMIT, f"peak allocation {peak / 2**20:.0f} MiB"


KINDS = ["ivf_full", "ivf_sprs", "hnsw"]


@pytest.mark.parametrize("kind", KINDS)
def test_samples_are_valid(kind):
    assert exercise(samples()[kind]) == "ok"


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_truncation_always_raises_format_error(kind, data):
    blob = samples()[kind]
    cut = data.draw(st.integers(0, len(blob) - 1), label="length")
    with pytest.raises(feder.IndexFormatError) as info:
        feder.load_index(blob[:cut])
    if cut >= 8:  # past the magic: a located, explained error
        assert "byte offset" in str(info.value) or "not a faiss or hnswlib" in str(info.value)
    assert exercise(blob[:cut]) != "ok"


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_overwritten_bytes(kind, data):
    blob = bytearray(samples()[kind])
    writes = data.draw(st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 255)),
                                min_size=1, max_size=6), label="writes")
    for pos, value in writes:
        blob[pos] = value
    exercise(bytes(blob))


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_flipped_bits(kind, data):
    blob = bytearray(samples()[kind])
    flips = data.draw(st.lists(st.integers(0, 8 * len(blob) - 1), min_size=1, max_size=4),
                      label="bits")
    for bit in flips:
        blob[bit // 8] ^= 1 << (bit % 8)
    exercise(bytes(blob))


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_extreme_header_counts(kind, data):
    blob = bytearray(samples()[kind])
    fields = hnsw_fields(bytes(blob)) if kind == "hnsw" else faiss_fields(bytes(blob))
    offset, fmt, name = data.draw(st.sampled_from(fields), label="field")
    size = struct.calcsize(fmt)
    (old,) = struct.unpack_from(fmt, blob, offset)
    value = data.draw(st.one_of(st.sampled_from(EXTREMES_U64),
                                st.integers(0, 2**64 - 1),
                                st.integers(-3, 3).map(lambda delta: int(old) + delta)),
                      label=f"value for {name}")
    blob[offset: offset + size] = (value % 2**64).to_bytes(8, "little")[:size]
    exercise(bytes(blob))


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_at_every_extreme(kind):
    """The deterministic complement: each count field × each extreme value."""
    base = samples()[kind]
    fields = hnsw_fields(base) if kind == "hnsw" else faiss_fields(base)
    outcomes: dict[str, int] = {}
    chosen = fields[:20] + fields[20 :: max(1, (len(fields) - 20) // 16)]
    for offset, fmt, _name in chosen:
        size = struct.calcsize(fmt)
        for value in EXTREMES_U64:
            blob = bytearray(base)
            blob[offset: offset + size] = value.to_bytes(8, "little")[:size]
            result = exercise(bytes(blob))
            outcomes[result] = outcomes.get(result, 0) + 1
    assert "IndexFormatError" in outcomes or "TruncatedIndexError" in outcomes
    assert set(outcomes) <= {"ok", "IndexFormatError", "TruncatedIndexError", "QueryError",
                             "UnsupportedIndexError", "UnknownIdError"}, outcomes


def test_huge_counts_fail_fast_with_a_message():
    """A header announcing 2^60 elements fails before allocating, naming the field."""
    blob = bytearray(samples()["hnsw"])
    struct.pack_into("<Q", blob, 8, 2**62)  # max_elements
    struct.pack_into("<Q", blob, 16, 2**60)  # cur_element_count
    with pytest.raises(feder.TruncatedIndexError, match=r"expected 1152921504606846976 ×"):
        feder.load_index(bytes(blob))
    ivf = bytearray(samples()["ivf_full"])
    nlist_at = 37
    struct.pack_into("<Q", ivf, nlist_at, 2**60)
    with pytest.raises(feder.IndexFormatError, match=r"nlist = 1152921504606846976"):
        feder.load_index(bytes(ivf))


# ------------------------------------------------ faiss formats beyond IVF_FLAT (issue 9)


@cache
def format_samples() -> dict[str, bytes]:
    """Small valid files of the other faiss formats feder reads."""
    import faiss
    from conftest import clustered

    data = clustered(120, 6, 11)
    flat = faiss.IndexFlatL2(6)
    flat.add(data)
    idmap_flat = faiss.index_factory(6, "IDMap,Flat", faiss.METRIC_INNER_PRODUCT)
    idmap_flat.add_with_ids(data, np.arange(120, dtype=np.int64)[::-1] * 3 + 7)
    idmap_ivf = faiss.index_factory(6, "IDMap2,IVF4,Flat")
    idmap_ivf.train(clustered(400, 6, 12))
    idmap_ivf.add_with_ids(data, np.arange(120, dtype=np.int64) * 5 - 100)
    hnsw = faiss.IndexHNSWFlat(6, 4)
    hnsw.hnsw.efConstruction = 16
    hnsw.add(data)
    idmap_hnsw = faiss.index_factory(6, "IDMap,HNSW4", faiss.METRIC_INNER_PRODUCT)
    idmap_hnsw.add_with_ids(data[:50], np.arange(50, dtype=np.int64) * 2)
    sq8 = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatL2(6), 6, 8, faiss.ScalarQuantizer.QT_8bit)
    sq8.train(clustered(400, 6, 13))
    sq8.add(data)
    sq4 = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(6), 6, 16,
                                        faiss.ScalarQuantizer.QT_4bit,
                                        faiss.METRIC_INNER_PRODUCT, False)
    sq4.train(clustered(400, 6, 14))
    sq4.add(data[:5])  # few lists filled: 'sprs' sizes
    flat_sq = faiss.IndexScalarQuantizer(6, faiss.ScalarQuantizer.QT_8bit)
    flat_sq.train(data)
    flat_sq.add(data)
    hnsw_sq = faiss.index_factory(6, "HNSW4,SQ4", faiss.METRIC_INNER_PRODUCT)
    hnsw_sq.train(data)
    hnsw_sq.add(data[:60])
    pq = faiss.IndexIVFPQ(faiss.IndexFlatL2(6), 6, 4, 3, 4)
    pq.train(clustered(400, 6, 15))
    pq.add(data)
    flat_pq = faiss.IndexPQ(6, 3, 4)
    flat_pq.train(clustered(400, 6, 16))
    flat_pq.add(data)
    ivf_hnsw = faiss.index_factory(6, "IVF8_HNSW4,Flat")
    ivf_hnsw.train(clustered(400, 6, 17))
    ivf_hnsw.add(data)
    pca_ivf = faiss.index_factory(6, "PCA4,IVF4,Flat")
    pca_ivf.train(clustered(400, 6, 18))
    pca_ivf.add(data)
    l2norm_flat = faiss.index_factory(6, "L2norm,Flat", faiss.METRIC_INNER_PRODUCT)
    l2norm_flat.add(data[:40])
    opq_pq = faiss.index_factory(6, "OPQ2,IVF4,PQ2x4")
    opq_pq.train(clustered(400, 6, 19))
    opq_pq.add(data)
    return {
        "pt_pca_ivf": faiss.serialize_index(pca_ivf).tobytes(),
        "pt_l2norm_flat_ip": faiss.serialize_index(l2norm_flat).tobytes(),
        "pt_opq_ivf_pq": faiss.serialize_index(opq_pq).tobytes(),
        "ivf_hnsw": faiss.serialize_index(ivf_hnsw).tobytes(),
        "flat_pq": faiss.serialize_index(flat_pq).tobytes(),
        "ivf_pq": faiss.serialize_index(pq).tobytes(),
        "flat_sq8": faiss.serialize_index(flat_sq).tobytes(),
        "hnsw_sq4_ip": faiss.serialize_index(hnsw_sq).tobytes(),
        "ivf_sq8": faiss.serialize_index(sq8).tobytes(),
        "ivf_sq4_ip_sprs": faiss.serialize_index(sq4).tobytes(),
        "flat_l2": faiss.serialize_index(flat).tobytes(),
        "idmap_flat_ip": faiss.serialize_index(idmap_flat).tobytes(),
        "idmap2_ivf": faiss.serialize_index(idmap_ivf).tobytes(),
        "faiss_hnsw": faiss.serialize_index(hnsw).tobytes(),
        "idmap_hnsw_ip": faiss.serialize_index(idmap_hnsw).tobytes(),
    }


FORMAT_KINDS = ["flat_l2", "idmap_flat_ip", "idmap2_ivf", "faiss_hnsw", "idmap_hnsw_ip",
                "ivf_sq8", "ivf_sq4_ip_sprs", "flat_sq8", "hnsw_sq4_ip", "ivf_pq", "flat_pq",
                "ivf_hnsw", "pt_pca_ivf", "pt_l2norm_flat_ip", "pt_opq_ivf_pq"]


def ivf_sq_fields(blob: bytes) -> list[tuple[int, str, str]]:
    """Count-like fields of an IwSq / IwPQ file (layout of feder/parsers/faiss_ivf_codes.py)."""
    fields = _header_fields(0, blob[:4].decode())
    (metric,) = struct.unpack_from("<i", blob, 33)
    (d,) = struct.unpack_from("<i", blob, 4)
    pos = 37 + (4 if metric > 1 else 0)
    (nlist,) = struct.unpack_from("<Q", blob, pos)
    fields += [(pos, "<Q", "nlist"), (pos + 8, "<Q", "nprobe")]
    pos += 16
    fields += _header_fields(pos, "quantizer")
    fields.append((pos + 37, "<Q", "quantizer float count"))
    pos += 37 + 8 + 4 * nlist * d
    fields += [(pos, "<B", "direct map type"), (pos + 1, "<Q", "direct map size")]
    pos += 9
    if blob[:4] == b"IwPQ":
        fields += [(pos, "<B", "by_residual"), (pos + 1, "<Q", "code_size"),
                   (pos + 9, "<Q", "pq d"), (pos + 17, "<Q", "pq M"), (pos + 25, "<Q", "nbits"),
                   (pos + 33, "<Q", "pq centroid count")]
        (n_cent,) = struct.unpack_from("<Q", blob, pos + 33)
        pos += 41 + 4 * n_cent
    else:
        fields += [(pos, "<i", "qtype"), (pos + 12, "<Q", "sq d"),
                   (pos + 20, "<Q", "sq code_size"), (pos + 28, "<Q", "trained count")]
        (n_trained,) = struct.unpack_from("<Q", blob, pos + 28)
        pos += 36 + 4 * n_trained
        fields += [(pos, "<Q", "code_size"), (pos + 8, "<B", "by_residual")]
        pos += 9
    assert blob[pos: pos + 4] == b"ilar" and blob[pos + 20: pos + 24] in (b"full", b"sprs")
    fields += [(pos + 4, "<Q", "invlists nlist"), (pos + 12, "<Q", "invlists code size")]
    pos += 20
    (n_sizes,) = struct.unpack_from("<Q", blob, pos + 4)
    fields.append((pos + 4, "<Q", "sizes count"))
    for i in range(n_sizes):
        fields.append((pos + 12 + 8 * i, "<Q", f"sizes[{i}]"))
    return fields


def faiss_hnsw_fields(blob: bytes, at: int = 0) -> list[tuple[int, str, str]]:
    """Count-like fields of an IHNf file starting at ``at``: header, the HNSW vectors'
    counts and a sample of their items, the scalars, the storage header and float count."""
    fields = _header_fields(at, blob[at: at + 4].decode())
    pos = at + 37
    for name, item, fmt in (("assign_probas", 8, "<d"), ("cum_nneighbor", 4, "<i"),
                            ("levels", 4, "<i"), ("offsets", 8, "<Q"),
                            ("neighbors", 4, "<i")):
        (count,) = struct.unpack_from("<Q", blob, pos)
        fields.append((pos, "<Q", f"{name} count"))
        if fmt != "<d":
            for i in range(0, count, max(count // 6, 1)):
                fields.append((pos + 8 + item * i, fmt, f"{name}[{i}]"))
        pos += 8 + item * count
    for name in ("entry_point", "max_level", "efConstruction", "efSearch"):
        fields.append((pos, "<i", name))
        pos += 4
    pos += 4
    fields += _header_fields(pos, "storage")
    if blob[pos: pos + 4] == b"IxSQ":
        return fields + sq_fields(blob, pos + 37) + [(len(blob) - 8 - _sq_bytes(blob, pos),
                                                      "<Q", "storage code count")]
    fields.append((pos + 37, "<Q", "storage float count"))
    return fields


def sq_fields(blob: bytes, at: int) -> list[tuple[int, str, str]]:
    """The ScalarQuantizer record at ``at``: qtype, d, code_size, trained count."""
    return [(at, "<i", "qtype"), (at + 12, "<Q", "sq d"), (at + 20, "<Q", "sq code_size"),
            (at + 28, "<Q", "trained count")]


def _sq_bytes(blob: bytes, index_at: int) -> int:
    """Code bytes of the IxSQ starting at ``index_at`` (its codes end the file)."""
    (ntotal,) = struct.unpack_from("<q", blob, index_at + 8)
    (code_size,) = struct.unpack_from("<Q", blob, index_at + 37 + 20)
    return int(ntotal * code_size)


def exercise_format(blob: bytes) -> str:
    """Like :func:`exercise` for any kind: search with every parameter the kind's tracer
    takes, then by id; 'ok' or the FederError class name."""
    from feder.families import unwrapped
    from feder.trace import TRACERS

    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            index = feder.load_index(blob)
            q = np.linspace(-1, 1, index.dim, dtype=np.float32)
            names = TRACERS[unwrapped(index.model).kind].params  # a wrapper: its inner's
            for value in (1, 3, 10):
                trace = index.search(q, k=3, **{name: value for name in names})
                assert trace.ids.shape == (3,)
            index.search(q, k=2)
            model = index.model
            ids = model.labels if isinstance(model, feder.HNSWIndex) else model.ids
            if index.ntotal:
                index.search_by_id(int(ids[0]), k=2)
        return "ok"
    except feder.FederError as exc:
        assert str(exc)
        return type(exc).__name__
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < PEAK_LIMIT, f"peak allocation {peak / 2**20:.0f} MiB"


def _header_fields(at: int, name: str) -> list[tuple[int, str, str]]:
    return [(at + 4, "<i", f"{name} d"), (at + 8, "<q", f"{name} ntotal"),
            (at + 33, "<i", f"{name} metric_type")]


def pretransform_fields(blob: bytes) -> list[tuple[int, str, str]]:
    """Count-like fields of an IxPT file: its header, the chain length, each transform's
    vector counts and dimensions (layout of feder/parsers/faiss_transform.py), then the
    wrapped index's own fields."""
    fields = [*_header_fields(0, "IxPT"), (37, "<i", "chain length")]
    (nt,) = struct.unpack_from("<i", blob, 37)
    pos = 41
    for i in range(nt):
        fourcc = blob[pos: pos + 4]
        pos += 4
        if fourcc == b"Pcam":
            pos += 4 + 4 + 1 + 4
            for name in ("mean", "eigenvalues", "PCAMat"):
                fields.append((pos, "<Q", f"transform {i} {name} count"))
                (n,) = struct.unpack_from("<Q", blob, pos)
                pos += 8 + 4 * n
        if fourcc in (b"Pcam", b"LTra"):
            pos += 1
            for name in ("A", "b"):
                fields.append((pos, "<Q", f"transform {i} {name} count"))
                (n,) = struct.unpack_from("<Q", blob, pos)
                pos += 8 + 4 * n
        else:
            assert fourcc == b"VNrm", fourcc
            fields.append((pos, "<f", f"transform {i} norm"))
            pos += 4
        fields += [(pos, "<i", f"transform {i} d_in"), (pos + 4, "<i", f"transform {i} d_out")]
        pos += 9
    inner = blob[pos:]
    if inner[:4] == b"IwFl":
        return fields + [(pos + at, fmt, f"inner {name}") for at, fmt, name in
                         faiss_fields(inner)]
    if inner[:4] == b"IwPQ":
        return fields + [(pos + at, fmt, f"inner {name}") for at, fmt, name in
                         ivf_sq_fields(inner)]
    return fields + _header_fields(pos, "inner") + [(pos + 37, "<Q", "inner float count")]


def format_fields(kind: str, blob: bytes) -> list[tuple[int, str, str]]:
    """(offset, struct format, name) of the count-like fields of a :func:`format_samples`
    file, found by walking the layout with plain struct reads."""
    if kind.startswith("pt_"):
        return pretransform_fields(blob)
    if kind in ("faiss_hnsw", "hnsw_sq4_ip"):
        return faiss_hnsw_fields(blob)
    if kind == "ivf_hnsw":  # IVF header, nlist/nprobe, then the quantizer's HNSW fields
        return [*_header_fields(0, "IwFl"), (37, "<Q", "nlist"), (45, "<Q", "nprobe"),
                *faiss_hnsw_fields(blob, 53)]
    if kind == "flat_pq":
        (n_cent,) = struct.unpack_from("<Q", blob, 37 + 24)
        codes_at = 37 + 32 + 4 * n_cent
        return [*_header_fields(0, "IxPq"), (37, "<Q", "pq d"), (45, "<Q", "pq M"),
                (53, "<Q", "nbits"), (61, "<Q", "centroid count"),
                (codes_at, "<Q", "code count"), (len(blob) - 9, "<i", "search_type")]
    if kind == "flat_sq8":
        return [*_header_fields(0, "IxSQ"), *sq_fields(blob, 37),
                (len(blob) - 8 - _sq_bytes(blob, 0), "<Q", "code count")]
    if kind.startswith(("ivf_sq", "ivf_pq")):
        return ivf_sq_fields(blob)
    fields = _header_fields(0, blob[:4].decode())
    if kind == "flat_l2":
        return [*fields, (37, "<Q", "float count")]
    (ntotal,) = struct.unpack_from("<q", blob, 8)
    fields.append((len(blob) - 8 - 8 * ntotal, "<Q", "id map count"))
    inner = blob[37:len(blob) - 8 - 8 * ntotal]
    if kind == "idmap_flat_ip":
        return fields + _header_fields(37, "inner") + [(37 + 37, "<Q", "inner float count")]
    if kind == "idmap_hnsw_ip":
        return fields + faiss_hnsw_fields(blob, 37)
    return fields + [(37 + offset, fmt, f"inner {name}") for offset, fmt, name in
                     faiss_fields(inner)]


@pytest.mark.parametrize("kind", FORMAT_KINDS)
def test_format_samples_are_valid(kind):
    assert exercise_format(format_samples()[kind]) == "ok"
    assert format_fields(kind, format_samples()[kind])


@pytest.mark.parametrize("kind", FORMAT_KINDS)
@FUZZ
@given(data=st.data())
def test_format_truncation_always_raises_format_error(kind, data):
    blob = format_samples()[kind]
    cut = data.draw(st.integers(0, len(blob) - 1), label="length")
    with pytest.raises(feder.IndexFormatError) as info:
        feder.load_index(blob[:cut])
    if cut >= 8:
        assert "byte offset" in str(info.value)
    assert exercise_format(blob[:cut]) != "ok"


@pytest.mark.parametrize("kind", FORMAT_KINDS)
@FUZZ
@given(data=st.data())
def test_format_overwritten_bytes_and_flipped_bits(kind, data):
    blob = bytearray(format_samples()[kind])
    writes = data.draw(st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 255)),
                                max_size=4), label="writes")
    for pos, value in writes:
        blob[pos] = value
    flips = data.draw(st.lists(st.integers(0, 8 * len(blob) - 1), max_size=3), label="bits")
    for bit in flips:
        blob[bit // 8] ^= 1 << (bit % 8)
    exercise_format(bytes(blob))


@pytest.mark.parametrize("kind", FORMAT_KINDS)
@FUZZ
@given(data=st.data())
def test_format_extreme_counts(kind, data):
    blob = bytearray(format_samples()[kind])
    offset, fmt, name = data.draw(st.sampled_from(format_fields(kind, bytes(blob))),
                                  label="field")
    size = struct.calcsize(fmt)
    (old,) = struct.unpack_from(fmt, blob, offset)
    value = data.draw(st.one_of(st.sampled_from(EXTREMES_U64), st.integers(0, 2**64 - 1),
                                st.integers(-3, 3).map(lambda delta: int(old) + delta)),
                      label=f"value for {name}")
    blob[offset: offset + size] = (value % 2**64).to_bytes(8, "little")[:size]
    exercise_format(bytes(blob))


@pytest.mark.parametrize("kind", FORMAT_KINDS)
def test_format_every_field_at_every_extreme(kind):
    base = format_samples()[kind]
    outcomes: dict[str, int] = {}
    fields = format_fields(kind, base)
    for offset, fmt, _name in fields[:20] + fields[20:: max(1, (len(fields) - 20) // 12)]:
        size = struct.calcsize(fmt)
        for value in EXTREMES_U64:
            blob = bytearray(base)
            blob[offset: offset + size] = value.to_bytes(8, "little")[:size]
            result = exercise_format(bytes(blob))
            outcomes[result] = outcomes.get(result, 0) + 1
    assert "IndexFormatError" in outcomes or "TruncatedIndexError" in outcomes
    assert set(outcomes) <= {"ok", "IndexFormatError", "TruncatedIndexError", "QueryError",
                             "UnsupportedIndexError", "UnknownIdError"}, outcomes
