"""Every index fourcc faiss writes, and the one dispatch from a fourcc to its reader.

faiss (``impl/index_write.cpp``) starts each index, and each sub-index (an IVF's quantizer, an
HNSW's storage, the index inside an id map or a pre-transform), with a four-character code.
:data:`FAISS_FORMATS` names all of them, so detection never answers "not a faiss index" for a
real faiss file: a kind feder does not read is refused with its name
(:class:`~feder.errors.UnsupportedIndexError`), a kind it reads goes to its reader.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import IndexFormatError, TruncatedIndexError, UnsupportedIndexError
from ..model import IndexModel, IVFFlatIndex
from ._reader import Buffer, Cursor


@dataclass(frozen=True)
class FaissFormat:
    """One fourcc: the index type it stands for and, when unsupported, why."""

    fourcc: str
    name: str  # e.g. "FLAT L2 (IndexFlatL2)"
    group: str  # "flat", "ivf", "graph", "wrapper", "quantizer", "binary", …
    reason: str = ""  # empty when feder reads it


_FAST_SCAN = "fast-scan codes are packed in SIMD blocks feder does not decode yet"
_RABITQ = "RaBitQ codes are not decoded yet"
_BINARY = "binary indexes (Hamming distances over bit codes) are not read"
_LSH = "LSH (binary codes of random projections) is not read"
_ADDITIVE = "additive quantizers (residual / local-search) are not decoded yet"
_PQ = "PQ codes are not decoded yet"
_SQ = "scalar-quantizer codes are not decoded yet"
_OTHER = "this index type is not read yet"
_SVS = "Intel SVS indexes are stored in SVS's own format"

_TABLE: tuple[FaissFormat, ...] = (
    # flat
    FaissFormat("IxF2", "FLAT L2 (IndexFlatL2)", "flat"),
    FaissFormat("IxFI", "FLAT IP (IndexFlatIP)", "flat"),
    FaissFormat("IxFl", "FLAT (IndexFlat)", "flat"),
    FaissFormat("IxFP", "FLAT L2 Panorama (IndexFlatL2Panorama)", "flat", _OTHER),
    FaissFormat("IxFp", "FLAT Panorama (IndexFlatPanorama)", "flat", _OTHER),
    FaissFormat("IxPq", "PQ (IndexPQ)", "flat"),
    FaissFormat("IxPQ", "PQ (IndexPQ, legacy layout)", "flat", _PQ),
    FaissFormat("IxPo", "PQ (IndexPQ, legacy layout)", "flat", _PQ),
    FaissFormat("IxSQ", "SQ (IndexScalarQuantizer)", "flat"),
    FaissFormat("IPfs", "PQ fast-scan (IndexPQFastScan)", "flat", _FAST_SCAN),
    FaissFormat("IxHe", "LSH (IndexLSH)", "flat", _LSH),
    FaissFormat("IxHE", "LSH (IndexLSH, legacy layout)", "flat", _LSH),
    FaissFormat("IxRq", "RQ (IndexResidualQuantizer)", "flat", _ADDITIVE),
    FaissFormat("IxRQ", "RQ (IndexResidualQuantizer, legacy layout)", "flat", _ADDITIVE),
    FaissFormat("IxLS", "LSQ (IndexLocalSearchQuantizer)", "flat", _ADDITIVE),
    FaissFormat("IxPR", "PRQ (IndexProductResidualQuantizer)", "flat", _ADDITIVE),
    FaissFormat("IxPL", "PLSQ (IndexProductLocalSearchQuantizer)", "flat", _ADDITIVE),
    FaissFormat("ILfs", "LSQ fast-scan (IndexLocalSearchQuantizerFastScan)", "flat",
                _FAST_SCAN),
    FaissFormat("IRfs", "RQ fast-scan (IndexResidualQuantizerFastScan)", "flat", _FAST_SCAN),
    FaissFormat("IPLf", "PLSQ fast-scan (IndexProductLocalSearchQuantizerFastScan)", "flat",
                _FAST_SCAN),
    FaissFormat("IPRf", "PRQ fast-scan (IndexProductResidualQuantizerFastScan)", "flat",
                _FAST_SCAN),
    FaissFormat("ImRQ", "a residual coarse quantizer (ResidualCoarseQuantizer)", "quantizer",
                _ADDITIVE),
    FaissFormat("Imiq", "a multi-index quantizer (MultiIndexQuantizer)", "quantizer", _OTHER),
    FaissFormat("Ix2L", "a two-level index (Index2Layer)", "flat", _OTHER),
    FaissFormat("IxLa", "a lattice index (IndexLattice)", "flat", _OTHER),
    FaissFormat("Ixrq", "RaBitQ (IndexRaBitQ)", "flat", _RABITQ),
    FaissFormat("Ixrr", "RaBitQ multi-bit (IndexRaBitQ)", "flat", _RABITQ),
    FaissFormat("Irfs", "RaBitQ fast-scan (IndexRaBitQFastScan)", "flat", _RABITQ),
    FaissFormat("Irfn", "RaBitQ fast-scan (IndexRaBitQFastScan)", "flat", _RABITQ),
    FaissFormat("IxEe", "EDEN scalar quantizer (IndexEDEN)", "flat", _SQ),
    FaissFormat("IxEd", "EDEN scalar quantizer (IndexEDEN)", "flat", _SQ),
    FaissFormat("IRMf", "row-wise min-max (IndexRowwiseMinMax)", "wrapper", _OTHER),
    FaissFormat("IRMh", "row-wise min-max fp16 (IndexRowwiseMinMaxFP16)", "wrapper", _OTHER),
    # IVF
    FaissFormat("IwFl", "IVF_FLAT (IndexIVFFlat)", "ivf"),
    FaissFormat("IvFl", "IVF_FLAT in the legacy pre-2018 layout", "ivf", _OTHER),
    FaissFormat("IvFL", "IVF_FLAT in the legacy pre-2018 layout", "ivf", _OTHER),
    FaissFormat("IwFd", "IVF_FLAT_DEDUP (IndexIVFFlatDedup)", "ivf", _OTHER),
    FaissFormat("IwP2", "IVF_FLAT Panorama (IndexIVFFlatPanorama)", "ivf", _OTHER),
    FaissFormat("IwPn", "IVF_FLAT Panorama (IndexIVFFlatPanorama)", "ivf", _OTHER),
    FaissFormat("IwPQ", "IVF_PQ (IndexIVFPQ)", "ivf"),
    FaissFormat("IvPQ", "IVF_PQ (IndexIVFPQ, legacy layout)", "ivf", _PQ),
    FaissFormat("IwQR", "IVF_PQR (IndexIVFPQR)", "ivf", _PQ),
    FaissFormat("IvQR", "IVF_PQR (IndexIVFPQR, legacy layout)", "ivf", _PQ),
    FaissFormat("IwSq", "IVF_SQ (IndexIVFScalarQuantizer)", "ivf"),
    FaissFormat("IwSQ", "IVF_SQ (IndexIVFScalarQuantizer, legacy layout)", "ivf", _SQ),
    FaissFormat("IvSQ", "IVF_SQ (IndexIVFScalarQuantizer, legacy layout)", "ivf", _SQ),
    FaissFormat("IwSh", "IVF_SH (IndexIVFSpectralHash)", "ivf", _OTHER),
    FaissFormat("IwPf", "IVF_PQ fast-scan (IndexIVFPQFastScan)", "ivf", _FAST_SCAN),
    FaissFormat("IwRQ", "IVF_RQ (IndexIVFResidualQuantizer)", "ivf", _ADDITIVE),
    FaissFormat("IwLS", "IVF_LSQ (IndexIVFLocalSearchQuantizer)", "ivf", _ADDITIVE),
    FaissFormat("IwPR", "IVF_PRQ (IndexIVFProductResidualQuantizer)", "ivf", _ADDITIVE),
    FaissFormat("IwPL", "IVF_PLSQ (IndexIVFProductLocalSearchQuantizer)", "ivf", _ADDITIVE),
    FaissFormat("IVLf", "IVF_LSQ fast-scan (IndexIVFLocalSearchQuantizerFastScan)", "ivf",
                _FAST_SCAN),
    FaissFormat("IVRf", "IVF_RQ fast-scan (IndexIVFResidualQuantizerFastScan)", "ivf",
                _FAST_SCAN),
    FaissFormat("NPLf", "IVF_PLSQ fast-scan (IndexIVFProductLocalSearchQuantizerFastScan)",
                "ivf", _FAST_SCAN),
    FaissFormat("NPRf", "IVF_PRQ fast-scan (IndexIVFProductResidualQuantizerFastScan)", "ivf",
                _FAST_SCAN),
    FaissFormat("IwIQ", "IVF with an independent quantizer (IndexIVFIndependentQuantizer)",
                "ivf", _OTHER),
    FaissFormat("Iwrq", "IVF_RaBitQ (IndexIVFRaBitQ)", "ivf", _RABITQ),
    FaissFormat("Iwrr", "IVF_RaBitQ multi-bit (IndexIVFRaBitQ)", "ivf", _RABITQ),
    FaissFormat("Iwrf", "IVF_RaBitQ fast-scan (IndexIVFRaBitQFastScan)", "ivf", _RABITQ),
    FaissFormat("Iwrn", "IVF_RaBitQ fast-scan (IndexIVFRaBitQFastScan)", "ivf", _RABITQ),
    FaissFormat("IwEe", "IVF EDEN scalar quantizer (IndexIVFEDEN)", "ivf", _SQ),
    FaissFormat("IwEd", "IVF EDEN scalar quantizer (IndexIVFEDEN)", "ivf", _SQ),
    # graphs
    FaissFormat("IHNf", "HNSW_FLAT (IndexHNSWFlat)", "graph"),
    FaissFormat("IHNs", "HNSW_SQ (IndexHNSWSQ)", "graph"),
    FaissFormat("IHNp", "HNSW_PQ (IndexHNSWPQ)", "graph"),
    FaissFormat("IHN2", "HNSW_2LEVEL (IndexHNSW2Level)", "graph", _OTHER),
    FaissFormat("IHfP", "HNSW_FLAT Panorama (IndexHNSWFlatPanorama)", "graph", _OTHER),
    FaissFormat("IHNc", "HNSW_CAGRA (IndexHNSWCagra)", "graph", _OTHER),
    FaissFormat("IHc2", "HNSW_CAGRA (IndexHNSWCagra)", "graph", _OTHER),
    FaissFormat("IH00", "HNSW without storage (IndexHNSW)", "graph", _OTHER),
    FaissFormat("INSf", "NSG_FLAT (IndexNSGFlat)", "graph", _OTHER),
    FaissFormat("INSp", "NSG_PQ (IndexNSGPQ)", "graph", _OTHER),
    FaissFormat("INSs", "NSG_SQ (IndexNSGSQ)", "graph", _OTHER),
    FaissFormat("INNf", "NNDescent (IndexNNDescentFlat)", "graph", _OTHER),
    FaissFormat("ILVQ", "SVS Vamana LVQ (IndexSVSVamanaLVQ)", "graph", _SVS),
    FaissFormat("ISVL", "SVS Vamana LeanVec (IndexSVSVamanaLeanVec)", "graph", _SVS),
    FaissFormat("ISV2", "SVS Vamana (IndexSVSVamana)", "graph", _SVS),
    FaissFormat("ISVD", "SVS Vamana (IndexSVSVamana)", "graph", _SVS),
    FaissFormat("ISVF", "SVS flat (IndexSVSFlat)", "flat", _SVS),
    FaissFormat("ISIQ", "SVS IVF LVQ (IndexSVSIVFLVQ)", "ivf", _SVS),
    FaissFormat("ISIL", "SVS IVF LeanVec (IndexSVSIVFLeanVec)", "ivf", _SVS),
    FaissFormat("ISID", "SVS IVF (IndexSVSIVF)", "ivf", _SVS),
    # wrappers
    FaissFormat("IxMp", "an id-mapped index (IndexIDMap)", "wrapper"),
    FaissFormat("IxM2", "an id-mapped index (IndexIDMap2)", "wrapper"),
    FaissFormat("IxPT", "a pre-transformed index (IndexPreTransform, e.g. PCA, OPQ, L2norm)",
                "wrapper"),
    FaissFormat("IxRF", "a refined index (IndexRefineFlat / IndexRefine)", "wrapper", _OTHER),
    FaissFormat("IxRP", "a refined index (IndexRefinePanorama)", "wrapper", _OTHER),
    # binary
    FaissFormat("IBxF", "a binary flat index (IndexBinaryFlat)", "binary", _BINARY),
    FaissFormat("IBwF", "a binary IVF index (IndexBinaryIVF)", "binary", _BINARY),
    FaissFormat("IBFf", "a binary index built from a float index (IndexBinaryFromFloat)",
                "binary", _BINARY),
    FaissFormat("IBHf", "a binary HNSW index (IndexBinaryHNSW)", "binary", _BINARY),
    FaissFormat("IBHc", "a binary HNSW_CAGRA index (IndexBinaryHNSWCagra)", "binary",
                _BINARY),
    FaissFormat("IBMp", "a binary id-mapped index (IndexBinaryIDMap)", "binary", _BINARY),
    FaissFormat("IBM2", "a binary id-mapped index (IndexBinaryIDMap2)", "binary", _BINARY),
    FaissFormat("IBHh", "a binary hash index (IndexBinaryHash)", "binary", _BINARY),
    FaissFormat("IBHm", "a binary multi-hash index (IndexBinaryMultiHash)", "binary",
                _BINARY),
)

FAISS_FORMATS: dict[str, FaissFormat] = {f.fourcc: f for f in _TABLE}
"""fourcc → :class:`FaissFormat`, for every index type faiss 1.15 writes (and legacy codes
it still reads)."""

FAISS_FOURCCS: dict[str, str] = {f.fourcc: f.name for f in _TABLE}
"""fourcc → the index type it stands for (names only)."""

SUPPORTED = "IwFl = IVF_FLAT, IwSq = IVF_SQ, IwPQ = IVF_PQ, IxF2/IxFI/IxFl = FLAT, IxSQ = SQ, " \
    "IxPq = PQ, IHNf/IHNs/IHNp = HNSW_FLAT/SQ/PQ, IxMp/IxM2 id maps and IxPT pre-transforms " \
    "around them (and hnswlib indexes)"
"""What feder reads, for refusal messages."""


def looks_like_faiss(buf: Buffer) -> bool:
    """True if the buffer starts with a fourcc faiss writes."""
    return buf.size >= 4 and buf.fourcc(0) in FAISS_FORMATS


def describe_fourcc(fourcc: str) -> str:
    fmt = FAISS_FORMATS.get(fourcc)
    return fmt.name if fmt is not None else f"unknown index type {fourcc!r}"


def unsupported(fourcc: str, buf: Buffer, at: int, role: str = "") -> UnsupportedIndexError:
    """The refusal for a known but unread fourcc (``role``: e.g. "the HNSW storage ")."""
    fmt = FAISS_FORMATS[fourcc]
    why = f": {fmt.reason}" if fmt.reason else ""
    return UnsupportedIndexError(
        f"{role}{fourcc} = {fmt.name} is not supported yet{why}; feder reads {SUPPORTED} "
        f"(in {buf.name}, byte offset {at})")


def check_fourcc(c: Cursor, what: str) -> str:
    """Read a fourcc and fail clearly unless faiss writes it."""
    at = c.pos
    fourcc = c.fourcc(what)
    if fourcc not in FAISS_FORMATS:
        raise c.buf.fail(
            f"{what}: expected a faiss index fourcc such as 'IwFl', 'IxF2' or 'IHNf', found "
            f"{fourcc!r}", at)
    return fourcc


Reader = Callable[[Cursor, int], IndexModel]
"""A sub-index reader: the cursor is just past the fourcc; the int is the byte it may not
read past (a wrapper tells its inner index where its own trailer starts); the reader leaves
the cursor after its last field."""


def read_sub_index(c: Cursor, end: int, role: str = "") -> IndexModel:
    """Read one (sub-)index whose fourcc is at ``c.pos`` and which ends at byte ``end``."""
    at = c.pos
    fourcc = check_fourcc(c, f"{role or 'index '}fourcc")
    reader = _READERS.get(fourcc)
    if reader is None:
        raise unsupported(fourcc, c.buf, at, role)
    return reader(c, end)


def parse_faiss(buf: Buffer) -> IndexModel:
    """Parse a whole faiss index file (or ``serialize_index`` bytes)."""
    if buf.size < 4:
        raise TruncatedIndexError(f"expected a 4-byte faiss fourcc, found {buf.size} bytes",
                                  offset=0, source=buf.name)
    fourcc = buf.fourcc(0)
    if fourcc not in FAISS_FORMATS:
        raise buf.fail(f"expected a faiss fourcc such as 'IwFl', 'IxF2' or 'IHNf', found "
                       f"{fourcc!r}", 0)
    c = Cursor(buf)
    model = read_sub_index(c, buf.size)
    if c.pos != buf.size:
        raise buf.fail(f"{buf.size - c.pos} unexpected bytes after the {fourcc} index, "
                       f"expected the file to end at byte {c.pos}", c.pos)
    return model


def _read_ivf_flat(c: Cursor, end: int) -> IndexModel:
    """IVF_FLAT through its whole-file parser, on the byte range ``[fourcc, end)``."""
    from .faiss_ivf import parse_ivf_flat

    start = c.pos - 4
    # a quantizer other than a flat index (IVF…_HNSW…) takes the generic IVF reader; when
    # the bytes are too few to tell, the IVF_FLAT parser reports what is missing
    if start + 37 <= end:
        metric_type = c.buf.scalar("i32", start + 33, "IVF_FLAT metric_type")
        q_at = start + 37 + (4 if metric_type > 1 else 0) + 16
        if q_at + 4 <= end and c.buf.fourcc(q_at) not in ("IxF2", "IxFI", "IxFl") and \
                c.buf.fourcc(q_at) in FAISS_FORMATS:
            from .faiss_ivf_codes import read_ivf_flat_graph

            return read_ivf_flat_graph(c, end)
    if start == 0 and end == c.buf.size:
        model = parse_ivf_flat(c.buf)
    else:
        model = _at_offset(parse_ivf_flat, c.buf, start, end)
    c.pos = end  # the IVF parser reads a whole buffer: its lists run to the end
    return model


def _at_offset(parse: Callable[[Buffer], IVFFlatIndex], buf: Buffer, start: int, end: int,
               ) -> IVFFlatIndex:
    """Run a whole-buffer parser on ``buf[start:end]`` (zero-copy), reporting byte offsets
    in ``buf``'s terms."""
    sub = replace(buf, data=buf.data[start:end])
    try:
        return parse(sub)
    except IndexFormatError as exc:
        raise _shifted(exc, start) from None
    except UnsupportedIndexError as exc:
        text = str(exc)
        marker = "byte offset "
        if marker in text:
            head, _, tail = text.rpartition(marker)
            digits = "".join(ch for ch in tail[:20] if ch.isdigit())
            if digits and tail.startswith(digits):
                text = f"{head}{marker}{int(digits) + start}{tail[len(digits):]}"
        raise UnsupportedIndexError(text) from None


def _shifted(exc: IndexFormatError, start: int) -> IndexFormatError:
    message = str(exc)
    suffix = " (at "
    if exc.offset is not None or exc.source:
        message = message.rpartition(suffix)[0] or message
    offset = None if exc.offset is None else exc.offset + start
    return type(exc)(message, offset=offset, source=exc.source)


def _deferred(module: str, name: str) -> Reader:
    """The reader ``name`` of the sibling module ``module``, imported on first use (those
    modules import this table's module, so they cannot be imported at its top)."""
    def read(c: Cursor, end: int) -> IndexModel:
        reader: Reader = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        return reader(c, end)
    return read


_read_flat = _deferred("faiss_flat", "read_flat")
_read_hnsw = _deferred("faiss_hnsw", "read_faiss_hnsw")
_read_idmap = _deferred("faiss_idmap", "read_idmap")

_READERS: dict[str, Reader] = {
    "IwFl": _read_ivf_flat,
    "IwSq": _deferred("faiss_ivf_codes", "read_ivf_sq"),
    "IwPQ": _deferred("faiss_ivf_codes", "read_ivf_pq"),
    "IxF2": _read_flat,
    "IxFI": _read_flat,
    "IxFl": _read_flat,
    "IxSQ": _deferred("faiss_flat", "read_flat_sq"),
    "IxPq": _deferred("faiss_flat", "read_flat_pq"),
    "IHNf": _read_hnsw,
    "IHNs": _read_hnsw,
    "IHNp": _read_hnsw,
    "IxMp": _read_idmap,
    "IxM2": _read_idmap,
    "IxPT": _deferred("faiss_transform", "read_pretransform"),
}
"""fourcc → reader: the one dispatch for the faiss formats feder reads."""

assert all(not FAISS_FORMATS[f].reason for f in _READERS)
