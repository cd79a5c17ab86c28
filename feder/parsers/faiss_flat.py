"""Reader for faiss ``IndexFlat`` (fourccs ``IxF2`` L2, ``IxFI`` inner product, ``IxFl``).

Layout (faiss ``impl/index_write.cpp``): fourcc, index header, then the codes as a u64 count
of *floats* (``ntotal·d``, a legacy of ``xb``) followed by ``f32[ntotal·d]``.
"""

from __future__ import annotations

import numpy as np

from ..model import FlatIndex
from ._reader import Cursor
from .faiss_common import read_count, read_header

_METRIC_OF_FOURCC = {"IxF2": 1, "IxFI": 0}


def read_flat(c: Cursor, end: int) -> FlatIndex:
    """Read an ``IndexFlat`` whose fourcc was just read (``c.pos`` is past it)."""
    buf = c.buf
    at = c.pos - 4
    fourcc = buf.fourcc(at)
    h = read_header(c, f"{fourcc} header")
    expected_metric = _METRIC_OF_FOURCC.get(fourcc)
    if expected_metric is not None and h.metric_type != expected_metric:
        raise buf.fail(f"{fourcc} header: metric_type = {h.metric_type}, expected "
                       f"{expected_metric} for {fourcc}", h.at + 29)
    n_at = c.pos
    n_floats = read_count(c, f"{fourcc} vector float count", 4, end)
    if n_floats != h.ntotal * h.d:
        raise buf.fail(f"{fourcc} stores {n_floats} floats, expected ntotal·d = "
                       f"{h.ntotal}·{h.d} = {h.ntotal * h.d}", n_at)
    vectors = c.array("<f4", n_floats, f"{fourcc} vectors").reshape(h.ntotal, h.d)
    owner = buf.owner
    guard = getattr(buf, "guard", None)
    if guard is not None:
        owner = guard
    return FlatIndex(
        dim=h.d,
        metric=h.metric,
        metric_type=h.metric_type,
        metric_arg=h.metric_arg,
        ntotal=h.ntotal,
        ids=np.arange(h.ntotal, dtype=np.int64),
        source=buf.name,
        fourcc=fourcc,
        _vectors=vectors,
        _owner=owner,
    )


def read_flat_sq(c: Cursor, end: int) -> FlatIndex:
    """Read an ``IndexScalarQuantizer`` (``IxSQ``): header, the scalar quantizer, then the
    codes as a ``std::vector<uint8_t>`` of ``ntotal·code_size`` bytes. The codes are decoded
    on load (reconstructions for the views, search values for the replay)."""
    from .faiss_sq import read_sq

    buf = c.buf
    h = read_header(c, "IxSQ header")
    codec = read_sq(c, h.d, end, "IxSQ scalar quantizer")
    n_at = c.pos
    n_bytes = read_count(c, "IxSQ code byte count", 1, end)
    if n_bytes != h.ntotal * codec.code_size:
        raise buf.fail(f"IxSQ stores {n_bytes} code bytes, expected ntotal·code_size = "
                       f"{h.ntotal}·{codec.code_size} = {h.ntotal * codec.code_size}", n_at)
    codes = c.array("u1", n_bytes, "IxSQ codes").reshape(h.ntotal, codec.code_size)
    vectors = codec.decode(codes)
    search = codec.decode(codes, for_search=True)
    return FlatIndex(
        dim=h.d,
        metric=h.metric,
        metric_type=h.metric_type,
        metric_arg=h.metric_arg,
        ntotal=h.ntotal,
        ids=np.arange(h.ntotal, dtype=np.int64),
        source=buf.name,
        fourcc="IxSQ",
        _vectors=vectors,
        qtype=codec.name,
        search_vectors=vectors if np.array_equal(search, vectors) else search,
    )


def read_flat_pq(c: Cursor, end: int) -> FlatIndex:
    """Read an ``IndexPQ`` (``IxPq``): header, the product quantizer, the codes as a
    ``std::vector<uint8_t>`` of ``ntotal·code_size`` bytes, then i32 ``search_type``, u8
    ``encode_signs``, i32 ``polysemous_ht``."""
    from .faiss_pq import read_pq

    buf = c.buf
    h = read_header(c, "IxPq header")
    codec = read_pq(c, h.d, end, "IxPq product quantizer")
    n_at = c.pos
    n_bytes = read_count(c, "IxPq code byte count", 1, end)
    if n_bytes != h.ntotal * codec.code_size:
        raise buf.fail(f"IxPq stores {n_bytes} code bytes, expected ntotal·code_size = "
                       f"{h.ntotal}·{codec.code_size} = {h.ntotal * codec.code_size}", n_at)
    codes = c.array("u1", n_bytes, "IxPq codes").reshape(h.ntotal, codec.code_size)
    if getattr(buf, "guard", None) is not None:
        codes = np.array(codes)  # 8-bit indices are used in place: never a view of a map
    search_type = c.scalar("i32", "IxPq search_type")
    c.scalar("u8", "IxPq encode_signs")
    c.scalar("i32", "IxPq polysemous_ht")
    return FlatIndex(
        dim=h.d,
        metric=h.metric,
        metric_type=h.metric_type,
        metric_arg=h.metric_arg,
        ntotal=h.ntotal,
        ids=np.arange(h.ntotal, dtype=np.int64),
        source=buf.name,
        fourcc="IxPq",
        _vectors=codec.decode(codes),
        pq_codec=codec,
        pq_indices=codec.indices(codes),
        pq_search_type=int(search_type),
    )
