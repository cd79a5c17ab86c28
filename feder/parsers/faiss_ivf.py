"""Reader for faiss ``IndexIVFFlat`` files (fourcc ``IwFl``), without calling faiss.

Layout (faiss ``impl/index_write.cpp``): fourcc, index header, nlist, nprobe, the coarse
quantizer (a flat index), the direct map (kept: id lookups use it), then ``ilar`` inverted
lists whose sizes are stored ``full`` or ``sprs`` and whose lists follow one another as codes
then ids.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from ..errors import UnsupportedIndexError
from ..model import FAISS_METRICS, IVFFlatIndex
from ._reader import Buffer, Cursor, GuardedList
from .faiss_common import checked_list_sizes, read_count, read_header, read_list_sizes

FAISS_FOURCCS = {
    "IwFl": "IVF_FLAT (IndexIVFFlat)",
    "IvFl": "IVF_FLAT in the legacy pre-2018 layout",
    "IwFd": "IVF_FLAT_DEDUP (IndexIVFFlatDedup)",
    "IwPQ": "IVF_PQ (IndexIVFPQ)",
    "IwQR": "IVF_PQR (IndexIVFPQR)",
    "IwSq": "IVF_SQ (IndexIVFScalarQuantizer)",
    "IwSh": "IVF_SH (IndexIVFSpectralHash)",
    "IwPf": "IVF_PQ fast-scan (IndexIVFPQFastScan)",
    "IwXQ": "IVF_RQ (IndexIVFResidualQuantizer)",
    "Iwrq": "IVF_RaBitQ (IndexIVFRaBitQ)",
    "IxF2": "FLAT L2 (IndexFlatL2)",
    "IxFI": "FLAT IP (IndexFlatIP)",
    "IxFl": "FLAT (IndexFlat)",
    "IxPQ": "PQ (IndexPQ)",
    "IxSQ": "SQ (IndexScalarQuantizer)",
    "IxLS": "LSH (IndexLSH)",
    "IxPT": "a pre-transformed index (IndexPreTransform, e.g. PCA)",
    "IxRF": "a refined index (IndexRefineFlat)",
    "IxMp": "an id-mapped index (IndexIDMap)",
    "IxM2": "an id-mapped index (IndexIDMap2)",
    "IHNf": "HNSW_FLAT (IndexHNSWFlat)",
    "IHNp": "HNSW_PQ (IndexHNSWPQ)",
    "IHNs": "HNSW_SQ (IndexHNSWSQ)",
    "IHN2": "HNSW_2LEVEL (IndexHNSW2Level)",
    "INSf": "NSG_FLAT (IndexNSGFlat)",
    "INNf": "NNDescent (IndexNNDescentFlat)",
    "IxBF": "a binary flat index",
    "IBwF": "a binary IVF index",
}
"""Top-level fourccs faiss writes, with the index type each stands for."""

_FLAT_QUANTIZERS = ("IxF2", "IxFI", "IxFl")


def looks_like_faiss(buf: Buffer) -> bool:
    """True if the buffer starts with a known faiss fourcc."""
    return buf.size >= 4 and buf.fourcc(0) in FAISS_FOURCCS


def describe_fourcc(fourcc: str) -> str:
    return FAISS_FOURCCS.get(fourcc, f"unknown index type {fourcc!r}")


def parse_ivf_flat(buf: Buffer) -> IVFFlatIndex:
    """Parse a faiss ``IndexIVFFlat`` file into an :class:`IVFFlatIndex` (zero-copy views)."""
    c = Cursor(buf)
    fourcc = c.fourcc("index fourcc")
    if fourcc != "IwFl":
        if fourcc in FAISS_FOURCCS:
            raise UnsupportedIndexError(
                f"{fourcc} = {describe_fourcc(fourcc)} is not supported yet: feder reads "
                f"IwFl = IVF_FLAT (and hnswlib indexes) (in {buf.name})"
            )
        raise buf.fail(f"expected a faiss IVF_FLAT fourcc 'IwFl', found {fourcc!r}", 0)
    header = read_header(c, "IVF header")
    d, ntotal, metric_type, metric_arg = (header.d, header.ntotal, header.metric_type,
                                          header.metric_arg)
    nlist_at = c.pos
    nlist = c.scalar("u64", "nlist")
    nprobe = c.scalar("u64", "nprobe")
    if nlist == 0 or nlist * d * 4 > buf.size:
        raise buf.fail(f"nlist = {nlist} does not fit a {buf.size}-byte file of d = {d}", nlist_at)

    q_at = c.pos
    q_fourcc = c.fourcc("quantizer fourcc")
    if q_fourcc not in _FLAT_QUANTIZERS:
        raise UnsupportedIndexError(
            f"the coarse quantizer is {q_fourcc} = {describe_fourcc(q_fourcc)}: feder reads "
            f"IVF_FLAT with a flat quantizer (IxF2/IxFI/IxFl) (in {buf.name}, byte offset {q_at})"
        )
    quantizer = read_header(c, "quantizer header")
    qd, q_ntotal = quantizer.d, quantizer.ntotal
    if qd != d or q_ntotal != nlist:
        raise buf.fail(
            f"quantizer holds {q_ntotal} centroids of dimension {qd}, expected {nlist} of {d}", q_at
        )
    n_floats_at = c.pos
    n_floats = read_count(c, "quantizer float count", 4)
    if n_floats != nlist * d:
        raise buf.fail(f"quantizer has {n_floats} floats, expected nlist·d = {nlist * d}",
                       n_floats_at)
    centroids = c.array("<f4", n_floats, "centroids").reshape(nlist, d)

    dm_at = c.pos
    direct_map_type = c.scalar("u8", "direct map type")
    if direct_map_type not in (0, 1, 2):
        raise buf.fail(f"direct map type = {direct_map_type}, expected 0, 1 or 2", dm_at)
    dm_array = c.array("<i8", read_count(c, "direct map size", 8), "direct map array")
    direct_map: np.ndarray | None = dm_array if direct_map_type == 1 else None
    if direct_map_type == 2:
        direct_map = c.array("<i8", 2 * read_count(c, "direct map hashtable size", 16),
                             "direct map pairs").reshape(-1, 2)

    il_at = c.pos
    il_fourcc = c.fourcc("inverted lists fourcc")
    if il_fourcc == "il00":
        raise UnsupportedIndexError(
            f"this IVF_FLAT index was written without its inverted lists (il00) (in {buf.name})"
        )
    if il_fourcc != "ilar":
        kind = {"ilod": "on-disk", "ilp2": "pre-transposed (ilp2)", "ilbl": "block"}.get(
            il_fourcc, repr(il_fourcc))
        raise UnsupportedIndexError(
            f"inverted lists of kind {kind} at byte offset {il_at} are not supported: feder reads "
            f"array inverted lists ('ilar') (in {buf.name})"
        )
    il_nlist = c.scalar("u64", "inverted lists nlist")
    code_size = c.scalar("u64", "code size")
    if il_nlist != nlist or code_size != 4 * d:
        raise buf.fail(
            f"inverted lists declare nlist = {il_nlist}, code_size = {code_size}; "
            f"expected {nlist} and 4·d = {4 * d}", il_at + 4)

    sizes = checked_list_sizes(c, read_list_sizes(c, nlist), code_size + 8, ntotal, "vectors")
    lists_at = c.pos

    offsets = np.zeros(nlist + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    codes, ids = _list_views(buf, lists_at, offsets, d)
    if buf.guard is not None:
        # A memory-mapped file: the small centroids are copied, list codes and ids are
        # reached through lists that check the file first (see _reader.FileGuard).
        centroids = np.array(centroids)
        starts = lists_at + (4 * d + 8) * offsets[:-1]  # each list: codes, then ids
        codes = cast(list[np.ndarray], GuardedList(codes, buf.guard, starts))
        ids = cast(list[np.ndarray], GuardedList(ids, buf.guard, starts + 4 * d * sizes))
    return IVFFlatIndex(
        dim=d,
        metric=FAISS_METRICS[metric_type],
        metric_type=metric_type,
        metric_arg=float(metric_arg),
        ntotal=int(ntotal),
        nprobe=int(nprobe),
        centroids=centroids,
        list_offsets=offsets,
        direct_map_type=int(direct_map_type),
        source=buf.name,
        _codes=codes,
        _ids=ids,
        _owner=buf.owner,
        direct_map=direct_map,
    )


def _list_views(buf: Buffer, lists_at: int, offsets: np.ndarray, d: int,
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every list's ``(size, d) float32`` codes and ``(size,) int64`` ids: views of list
    ``i``'s ``(4·d + 8)·size`` bytes from ``lists_at + (4·d + 8)·offsets[i]`` (codes, then
    ids). The caller checked that they all fit, so each view is made unchecked."""
    data = buf.data
    codes: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    empty_codes = np.empty((0, d), np.float32)
    empty_ids = np.empty(0, np.int64)
    at = lists_at
    for size in np.diff(offsets).tolist():
        if size == 0:
            codes.append(empty_codes)
            ids.append(empty_ids)
            continue
        codes.append(np.frombuffer(data, "<f4", size * d, at).reshape(size, d))
        at += 4 * d * size
        ids.append(np.frombuffer(data, "<i8", size, at))
        at += 8 * size
    return codes, ids
