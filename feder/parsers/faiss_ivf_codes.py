"""faiss IVF indexes whose lists hold codes rather than raw floats: ``IwSq`` (IVF_SQ) and
``IwPQ`` (IVF_PQ).

Every ``IndexIVF`` starts the same way (``write_ivf_header``): fourcc, index header, u64
``nlist``, u64 ``nprobe``, the coarse quantizer (a sub-index), the direct map; the codec
follows, then the ``ilar`` inverted lists (codes of ``code_size`` bytes, then ids, per list).
For ``IwSq`` the codec is a ``ScalarQuantizer``, a u64 ``code_size`` and a u8 ``by_residual``;
for ``IwPQ`` a u8 ``by_residual``, a u64 ``code_size`` and a ``ProductQuantizer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from ..errors import UnsupportedIndexError
from ..model import (
    FaissHNSWIndex,
    FlatIndex,
    IVFHNSWFlatIndex,
    IVFPQIndex,
    IVFSQIndex,
    LazyLists,
)
from ._reader import Cursor
from .faiss_common import (
    IndexHeader,
    checked_list_sizes,
    read_count,
    read_header,
    read_list_sizes,
)
from .faiss_sq import read_sq


@dataclass(frozen=True)
class IVFHeader:
    fourcc: str
    header: IndexHeader
    nlist: int
    nprobe: int
    quantizer: FlatIndex | FaissHNSWIndex
    direct_map_type: int

    @property
    def coarse_graph(self) -> FaissHNSWIndex | None:
        return self.quantizer if isinstance(self.quantizer, FaissHNSWIndex) else None


def read_ivf_header(c: Cursor, end: int) -> IVFHeader:
    """Everything up to the codec: the cursor is just past the fourcc."""
    buf = c.buf
    fourcc = buf.fourcc(c.pos - 4)
    h = read_header(c, f"{fourcc} header")
    nlist_at = c.pos
    nlist = c.scalar("u64", "nlist")
    nprobe = c.scalar("u64", "nprobe")
    if nlist == 0 or nlist * h.d * 4 > end - c.pos:
        raise buf.fail(f"nlist = {nlist} does not fit the {end - c.pos} bytes left for "
                       f"centroids of d = {h.d}", nlist_at)
    q_at = c.pos
    from .faiss_formats import read_sub_index

    quantizer = read_sub_index(c, end, role=f"the coarse quantizer of {fourcc}: ")
    flat = isinstance(quantizer, FlatIndex) and quantizer.fourcc in ("IxF2", "IxFI", "IxFl")
    graph = isinstance(quantizer, FaissHNSWIndex) and quantizer.fourcc == "IHNf"
    if not (flat or graph) or getattr(quantizer, "id_map_fourcc", None):
        raise UnsupportedIndexError(
            f"the coarse quantizer of {fourcc} is a {quantizer.kind} index: feder reads IVF "
            f"with a flat (IxF2/IxFI/IxFl) or HNSW_FLAT (IHNf) quantizer (in {buf.name}, byte "
            f"offset {q_at})")
    assert isinstance(quantizer, (FlatIndex, FaissHNSWIndex))
    if quantizer.dim != h.d or quantizer.ntotal != nlist:
        raise buf.fail(f"the quantizer holds {quantizer.ntotal} centroids of dimension "
                       f"{quantizer.dim}, expected nlist = {nlist} of {h.d}", q_at)
    dm_at = c.pos
    direct_map_type = c.scalar("u8", "direct map type")
    if direct_map_type not in (0, 1, 2):
        raise buf.fail(f"direct map type = {direct_map_type}, expected 0, 1 or 2", dm_at)
    c.array("<i8", read_count(c, "direct map size", 8, end), "direct map array")
    if direct_map_type == 2:
        c.array("<i8", 2 * read_count(c, "direct map hashtable size", 16, end),
                "direct map pairs")
    return IVFHeader(fourcc, h, int(nlist), int(nprobe), quantizer, int(direct_map_type))


def read_ivf_flat_graph(c: Cursor, end: int) -> IVFHNSWFlatIndex:
    """Read an ``IndexIVFFlat`` whose coarse quantizer is not flat (``IVF…_HNSW…,Flat``):
    the same lists as IVF_FLAT (codes are the raw float32 vectors)."""
    buf = c.buf
    ivf = read_ivf_header(c, end)
    h = ivf.header
    sizes, codes, ids = read_invlists(c, end, ivf.nlist, 4 * h.d, h.ntotal)
    vectors = [np.frombuffer(a, dtype="<f4").reshape(-1, h.d) if a.size else
               np.empty((0, h.d), np.float32) for a in codes]
    if getattr(buf, "guard", None) is not None:
        vectors = [np.array(a) for a in vectors]
        ids = [np.array(a) for a in ids]
    offsets = np.zeros(ivf.nlist + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return IVFHNSWFlatIndex(
        dim=h.d,
        metric=h.metric,
        metric_type=h.metric_type,
        metric_arg=h.metric_arg,
        ntotal=h.ntotal,
        nprobe=ivf.nprobe,
        centroids=np.array(ivf.quantizer.vectors, dtype=np.float32),
        list_offsets=offsets,
        direct_map_type=ivf.direct_map_type,
        source=buf.name,
        _codes=vectors,
        _ids=ids,
        _owner=buf.owner,
        coarse_graph=ivf.coarse_graph,
    )


def read_invlists(c: Cursor, end: int, nlist: int, code_size: int, ntotal: int,
                  ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """``ilar`` lists: ``(sizes, codes per list (size, code_size) uint8, ids per list)``."""
    buf = c.buf
    il_at = c.pos
    il_fourcc = c.fourcc("inverted lists fourcc")
    if il_fourcc != "ilar":
        kind = {"il00": "absent (il00)", "ilod": "on-disk", "ilp2": "pre-transposed (ilp2)",
                "ilbl": "block (fast-scan)"}.get(il_fourcc, repr(il_fourcc))
        raise UnsupportedIndexError(
            f"inverted lists of kind {kind} are not supported: feder reads array inverted "
            f"lists ('ilar') (in {buf.name}, byte offset {il_at})")
    il_nlist = c.scalar("u64", "inverted lists nlist")
    il_code_size = c.scalar("u64", "inverted lists code size")
    if il_nlist != nlist or il_code_size != code_size:
        raise buf.fail(f"inverted lists declare nlist = {il_nlist}, code_size = "
                       f"{il_code_size}; expected {nlist} and {code_size}", il_at + 4)
    sizes = checked_list_sizes(c, read_list_sizes(c, nlist, end), code_size + 8, ntotal,
                               "codes", end)
    codes: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    empty_codes = np.empty((0, code_size), np.uint8)
    empty_ids = np.empty(0, np.int64)
    for size in sizes.tolist():
        if size == 0:
            codes.append(empty_codes)
            ids.append(empty_ids)
            continue
        codes.append(c.array("u1", size * code_size, "list codes").reshape(size, code_size))
        ids.append(c.array("<i8", size, "list ids"))
    return sizes, codes, ids


def read_ivf_sq(c: Cursor, end: int) -> IVFSQIndex:
    """Read an ``IndexIVFScalarQuantizer`` whose fourcc was just read."""
    buf = c.buf
    ivf = read_ivf_header(c, end)
    h = ivf.header
    codec = read_sq(c, h.d, end, "IVF_SQ scalar quantizer")
    cs_at = c.pos
    code_size = c.scalar("u64", "IVF_SQ code_size")
    by_residual = c.scalar("u8", "IVF_SQ by_residual")
    if code_size != codec.code_size or by_residual > 1:
        raise buf.fail(f"IVF_SQ code_size = {code_size}, by_residual = {by_residual}: "
                       f"expected {codec.code_size} and 0/1", cs_at)
    sizes, codes, ids = read_invlists(c, end, ivf.nlist, codec.code_size, h.ntotal)
    if getattr(buf, "guard", None) is not None:
        # a memory-mapped file: copy (codes are small next to the decoded vectors)
        codes = [np.array(a) for a in codes]
        ids = [np.array(a) for a in ids]
    offsets = np.zeros(ivf.nlist + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    centroids = np.array(ivf.quantizer.vectors, dtype=np.float32)
    def reconstruct(list_no: int) -> np.ndarray:
        values = codec.decode(codes[list_no])
        if by_residual:
            return np.asarray(values + centroids[list_no], dtype=np.float32)
        return values

    return IVFSQIndex(
        dim=h.d,
        metric=h.metric,
        metric_type=h.metric_type,
        metric_arg=h.metric_arg,
        ntotal=h.ntotal,
        nprobe=ivf.nprobe,
        centroids=centroids,
        list_offsets=offsets,
        direct_map_type=ivf.direct_map_type,
        source=buf.name,
        _codes=cast(list[np.ndarray], LazyLists(ivf.nlist, reconstruct)),
        _ids=ids,
        _owner=buf.owner,
        qtype=codec.name,
        by_residual=bool(by_residual),
        code_size=codec.code_size,
        codec=codec,
        _raw=codes,
        coarse_graph=ivf.coarse_graph,
    )


PRECOMPUTED_TABLE_MAX_BYTES = 1 << 31
"""faiss's ``precomputed_table_max_bytes``: above it IVF_PQ computes residual tables."""


def read_ivf_pq(c: Cursor, end: int) -> IVFPQIndex:
    """Read an ``IndexIVFPQ`` whose fourcc was just read."""
    from .faiss_pq import read_pq

    buf = c.buf
    ivf = read_ivf_header(c, end)
    h = ivf.header
    at = c.pos
    by_residual = c.scalar("u8", "IVF_PQ by_residual")
    code_size = c.scalar("u64", "IVF_PQ code_size")
    codec = read_pq(c, h.d, end, "IVF_PQ product quantizer")
    if by_residual > 1 or code_size != codec.code_size:
        raise buf.fail(f"IVF_PQ by_residual = {by_residual}, code_size = {code_size}: "
                       f"expected 0/1 and ceil(M·nbits/8) = {codec.code_size}", at)
    sizes, codes, ids = read_invlists(c, end, ivf.nlist, codec.code_size, h.ntotal)
    if getattr(buf, "guard", None) is not None:
        codes = [np.array(a) for a in codes]
        ids = [np.array(a) for a in ids]
    offsets = np.zeros(ivf.nlist + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    centroids = np.array(ivf.quantizer.vectors, dtype=np.float32)

    def reconstruct(list_no: int) -> np.ndarray:
        values = codec.decode(codes[list_no])
        if by_residual:
            return np.asarray(values + centroids[list_no], dtype=np.float32)
        return values

    table_bytes = ivf.nlist * codec.M * codec.ksub * 4
    return IVFPQIndex(
        dim=h.d,
        metric=h.metric,
        metric_type=h.metric_type,
        metric_arg=h.metric_arg,
        ntotal=h.ntotal,
        nprobe=ivf.nprobe,
        centroids=centroids,
        list_offsets=offsets,
        direct_map_type=ivf.direct_map_type,
        source=buf.name,
        _codes=cast(list[np.ndarray], LazyLists(ivf.nlist, reconstruct)),
        _ids=ids,
        _owner=buf.owner,
        by_residual=bool(by_residual),
        code_size=codec.code_size,
        pq_M=codec.M,
        pq_nbits=codec.nbits,
        precomputed_table=bool(by_residual) and h.metric == "l2"
        and ivf.quantizer.metric == "l2" and table_bytes <= PRECOMPUTED_TABLE_MAX_BYTES,
        codec=codec,
        _raw=codes,
        coarse_graph=ivf.coarse_graph,
    )
