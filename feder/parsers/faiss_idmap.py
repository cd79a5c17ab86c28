"""Reader for faiss ``IndexIDMap`` / ``IndexIDMap2`` (fourccs ``IxMp`` / ``IxM2``).

Layout: fourcc, index header, the wrapped index, then the id map as a u64 count (= ntotal)
and ``i64[ntotal]``: ``id_map[i]`` is the id faiss returns for the inner index's id ``i``.
The id map is the last field, so the inner index ends ``8 + 8·ntotal`` bytes before the
wrapper does. The mapping is folded into the inner model (its user-facing ids), while the
inner ids stay available to the replay, which breaks ties on them as faiss does.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import UnsupportedIndexError
from ..model import FaissHNSWIndex, FlatIndex, IDMapIVFIndex, IndexModel, IVFFlatIndex
from ..model_transform import PreTransformIndex
from ._reader import Cursor
from .faiss_common import read_header


def read_idmap(c: Cursor, end: int) -> IndexModel:
    buf = c.buf
    at = c.pos - 4
    fourcc = buf.fourcc(at)
    h = read_header(c, f"{fourcc} header")
    trailer = end - 8 - 8 * h.ntotal
    if trailer < c.pos + 4:
        raise buf.fail(f"{fourcc} declares ntotal = {h.ntotal}: its id map needs "
                       f"{8 + 8 * h.ntotal} bytes after the inner index, but only "
                       f"{end - c.pos} bytes are left for both", h.at + 4)
    inner_at = c.pos
    from .faiss_formats import read_sub_index

    inner = read_sub_index(c, trailer, role=f"the index inside {fourcc}: ")
    if c.pos != trailer:
        raise buf.fail(f"the index inside {fourcc} ends at byte {c.pos}, expected the id map "
                       f"count at byte {trailer}", c.pos)
    count = c.scalar("u64", f"{fourcc} id map count")
    if count != h.ntotal:
        raise buf.fail(f"{fourcc} id map has {count} entries, expected ntotal = {h.ntotal}",
                       trailer)
    id_map = c.array("<i8", h.ntotal, f"{fourcc} id map")
    if getattr(buf, "guard", None) is not None:
        id_map = np.array(id_map)
    if inner.dim != h.d or inner.ntotal != h.ntotal:
        raise buf.fail(f"the index inside {fourcc} holds {inner.ntotal} vectors of dimension "
                       f"{inner.dim}, expected {h.ntotal} of {h.d}", inner_at)
    return wrap(inner, id_map, fourcc, inner_at)


def wrap(inner: IndexModel, id_map: np.ndarray, fourcc: str, at: int) -> IndexModel:
    """``inner`` with ``id_map`` applied to the ids it reports."""
    id_map = np.asarray(id_map, dtype=np.int64)
    if isinstance(inner, PreTransformIndex):  # IDMap(PreTransform(X)) = PreTransform(IDMap(X))
        return dataclasses.replace(inner, inner=wrap(inner.inner, id_map, fourcc, at))
    if isinstance(inner, FlatIndex) and inner.id_map_fourcc is None:
        return dataclasses.replace(inner, ids=id_map, id_map_fourcc=fourcc)
    if isinstance(inner, FaissHNSWIndex) and inner.id_map_fourcc is None:
        return dataclasses.replace(inner, labels=id_map, id_map_fourcc=fourcc)
    if isinstance(inner, IVFFlatIndex) and not isinstance(inner, IDMapIVFIndex):
        return _wrap_ivf(inner, id_map, fourcc, at)
    raise UnsupportedIndexError(
        f"{fourcc} around a {inner.kind} index is not supported: feder reads id maps around "
        f"IVF_FLAT, IVF_SQ, FLAT and HNSW_FLAT (in {inner.source}, byte offset {at})")


def _wrap_ivf(ivf: IVFFlatIndex, id_map: np.ndarray, fourcc: str, at: int) -> IDMapIVFIndex:
    n = id_map.shape[0]
    inner_ids = ivf.ids
    if inner_ids.size and (int(inner_ids.min()) < 0 or int(inner_ids.max()) >= n):
        from ..errors import IndexFormatError

        raise IndexFormatError(
            f"the {ivf.kind} index inside {fourcc} stores ids {int(inner_ids.min())} … "
            f"{int(inner_ids.max())}: expected internal ids 0 … {n - 1} for its id map",
            offset=at, source=ivf.source)
    mapped = [id_map[ivf.list_ids(lst)] for lst in range(ivf.nlist)]
    fields = {f.name: getattr(ivf, f.name) for f in dataclasses.fields(IVFFlatIndex)
              if f.init and f.name not in ("kind", "_ids", "_blocks")}
    return IDMapIVFIndex(**fields, _ids=mapped, _blocks=ivf._blocks, id_map=id_map,
                         id_map_fourcc=fourcc, inner=ivf)
