"""Reader for faiss ``IndexPreTransform`` (fourcc ``IxPT``) and the vector transforms in it.

Layout (``impl/index_write.cpp``, faiss 1.15): fourcc, the index header, ``i32`` chain
length, each transform, then the wrapped index (which runs to the end: no trailer).

A transform (``write_VectorTransform``) is a fourcc, its own fields, then the common
``i32 d_in, i32 d_out, u8 is_trained``. Vectors are a ``u64`` count then the items.

- ``LTra`` (linear, what OPQ writes), ``rrot`` (random rotation): ``u8 have_bias``, then
  ``A`` (f32 vector of ``d_out·d_in``, row-major) and ``b`` (f32 vector).
- ``Pcam`` (``PCAm``/``PcAm`` older): ``f32 eigen_power``, [``f32 epsilon``: Pcam only],
  ``u8 random_rotation``, [``i32 balanced_bins``: not PCAm], f32 vectors ``mean``,
  ``eigenvalues``, ``PCAMat``, then the linear fields (``A`` and ``b = −A·mean`` ready).
- ``Viqm`` (ITQ matrix): ``i32 max_iter``, ``i32 seed``, then the linear fields.
- ``VNrm`` (L2 norm): ``f32 norm``. ``VCnt`` (centering): f32 vector ``mean``.
- ``RmDT`` (remap): i32 vector ``map``.
- ``Viqt`` (ITQ): f32 vector ``mean``, ``u8 do_pca``, a ``Viqm``, then a linear transform.
- ``HRot`` (Hadamard rotation): ``u32 seed`` — refused: faiss regenerates its matrix from
  its random generator when reading.

Every count is checked against the bytes left before anything is allocated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TruncatedIndexError, UnsupportedIndexError
from ..model import IndexModel
from ..model_transform import (
    CenteringTransform,
    ITQTransform,
    LinearTransform,
    NormalizationTransform,
    PreTransformIndex,
    RemapDimensionsTransform,
    VectorTransform,
)
from ._reader import Cursor
from .faiss_common import MAX_DIM, read_count, read_header

LINEAR = ("LTra", "rrot", "Pcam", "PCAm", "PcAm", "Viqm")
"""Transforms faiss stores as a ``LinearTransform`` (``A``, ``b``)."""

TRANSFORMS: dict[str, str] = {
    "LTra": "a linear transform (LinearTransform, OPQMatrix)",
    "rrot": "a random rotation (RandomRotationMatrix)",
    "Pcam": "PCA (PCAMatrix)",
    "PCAm": "PCA (PCAMatrix, legacy layout)",
    "PcAm": "PCA (PCAMatrix, legacy layout)",
    "Viqm": "an ITQ rotation (ITQMatrix)",
    "VNrm": "L2 normalisation (NormalizationTransform)",
    "VCnt": "centering (CenteringTransform)",
    "RmDT": "a dimension remap (RemapDimensionsTransform)",
    "Viqt": "ITQ (ITQTransform)",
    "HRot": "a Hadamard rotation (HadamardRotation)",
}
"""Every transform fourcc faiss writes, and what it is."""

REFUSED: dict[str, str] = {
    "HRot": "its matrix is regenerated from faiss's random generator when read, which feder "
            "does not reproduce",
}
"""Transforms feder recognises but does not replay, and why."""

_MIN_TRANSFORM_BYTES = 4 + 4 + 9  # fourcc, VNrm's norm, d_in + d_out + is_trained


def read_pretransform(c: Cursor, end: int) -> IndexModel:
    """``IxPT``: the cursor is just past the fourcc; the wrapped index ends at ``end``."""
    buf = c.buf
    h = read_header(c, "IxPT header")
    at = c.pos
    nt = c.scalar("i32", "IxPT chain length")
    if nt < 0:
        raise buf.fail(f"IxPT chain length = {nt}: expected ≥ 0 transforms", at)
    if nt * _MIN_TRANSFORM_BYTES > end - c.pos:
        raise TruncatedIndexError(
            f"IxPT chain length = {nt}: expected at most "
            f"{max(end - c.pos, 0) // _MIN_TRANSFORM_BYTES} transforms in the "
            f"{max(end - c.pos, 0)} bytes left (truncated, or a corrupt count)", offset=at,
            source=buf.name)
    chain = tuple(read_transform(c, end, f"IxPT transform {i}") for i in range(nt))
    d = h.d
    for i, step in enumerate(chain):
        if step.d_in != d:
            raise buf.fail(f"IxPT transform {i} ({step.describe()}) takes {step.d_in} "
                           f"dimensions, expected {d} (the "
                           f"{'index dimension' if i == 0 else 'previous output'})", at)
        d = step.d_out
    inner_at = c.pos
    from .faiss_formats import read_sub_index

    inner = read_sub_index(c, end, role="the index inside IxPT: ")
    if inner.dim != d:
        raise buf.fail(f"the index inside IxPT has dimension {inner.dim}, expected {d} (the "
                       "output of the transform chain)", inner_at)
    if inner.ntotal != h.ntotal:
        raise buf.fail(f"the index inside IxPT holds {inner.ntotal} vectors, expected "
                       f"ntotal = {h.ntotal}", inner_at)
    metric_type = int(getattr(inner, "metric_type", h.metric_type))
    return PreTransformIndex(
        dim=h.d, metric=inner.metric, metric_type=metric_type,
        metric_arg=float(getattr(inner, "metric_arg", h.metric_arg)), ntotal=h.ntotal,
        chain=chain, inner=inner, source=buf.name)


def read_transform(c: Cursor, end: int, what: str, nested: bool = False) -> VectorTransform:
    """One ``VectorTransform`` at the cursor (its fourcc first)."""
    buf = c.buf
    at = c.pos
    fourcc = c.fourcc(f"{what} fourcc")
    if fourcc not in TRANSFORMS:
        raise buf.fail(f"{what}: expected a faiss vector transform fourcc such as 'Pcam', "
                       f"'LTra' or 'VNrm', found {fourcc!r}", at)
    if fourcc in REFUSED:
        raise UnsupportedIndexError(
            f"{what} is {fourcc} = {TRANSFORMS[fourcc]}, which feder does not replay: "
            f"{REFUSED[fourcc]}; feder reads {', '.join(f for f in TRANSFORMS if f not in REFUSED)}"
            f" (in {buf.name}, byte offset {at})")
    fields: dict[str, Any] = {}
    if fourcc in ("Pcam", "PCAm", "PcAm"):
        pca: dict[str, Any] = {"eigen_power": float(c.scalar("f32", f"{what} eigen_power"))}
        pca["epsilon"] = float(c.scalar("f32", f"{what} epsilon")) if fourcc == "Pcam" else 0.0
        pca["random_rotation"] = bool(c.scalar("u8", f"{what} random_rotation"))
        pca["balanced_bins"] = int(c.scalar("i32", f"{what} balanced_bins")) \
            if fourcc != "PCAm" else 0
        for name in ("mean", "eigenvalues", "PCAMat"):
            pca[name] = _floats(c, end, f"{what} {name}")
        fields["pca"] = pca
    elif fourcc == "Viqm":
        fields["itq"] = {"max_iter": int(c.scalar("i32", f"{what} max_iter")),
                         "seed": int(c.scalar("i32", f"{what} seed"))}
    if fourcc in LINEAR:
        have_bias = bool(c.scalar("u8", f"{what} have_bias"))
        a_at = c.pos
        A = _floats(c, end, f"{what} matrix A")
        b_at = c.pos
        b = _floats(c, end, f"{what} bias b")
        d_in, d_out = _common(c, what)
        if A.size != d_in * d_out:
            raise buf.fail(f"{what}: matrix A holds {A.size} floats, expected d_out·d_in = "
                           f"{d_out}·{d_in} = {d_out * d_in}", a_at)
        if have_bias and b.size != d_out:
            raise buf.fail(f"{what}: bias b holds {b.size} floats, expected d_out = {d_out}",
                           b_at)
        return LinearTransform(fourcc, d_in, d_out, A=np.array(A.reshape(d_out, d_in)),
                               b=np.array(b) if have_bias else None, **fields)
    if fourcc == "VNrm":
        n_at = c.pos
        norm = float(c.scalar("f32", f"{what} norm"))
        d_in, d_out = _common(c, what)
        _same_dims(c, what, d_in, d_out)
        if norm != 2.0:
            raise UnsupportedIndexError(
                f"{what} normalises with norm {norm:g}: faiss (and feder) implement the L2 norm "
                f"(2) only (in {buf.name}, byte offset {n_at})")
        return NormalizationTransform(fourcc, d_in, d_out, norm=norm)
    if fourcc == "VCnt":
        m_at = c.pos
        mean = _floats(c, end, f"{what} mean")
        d_in, d_out = _common(c, what)
        _same_dims(c, what, d_in, d_out)
        if mean.size < d_in:
            raise buf.fail(f"{what}: mean holds {mean.size} floats, expected d = {d_in}", m_at)
        return CenteringTransform(fourcc, d_in, d_out, mean=np.array(mean[:d_in]))
    if fourcc == "RmDT":
        m_at = c.pos
        n = read_count(c, f"{what} map count", 4, end)
        mapping = c.array("<i4", n, f"{what} map")
        d_in, d_out = _common(c, what)
        if mapping.size < d_out:
            raise buf.fail(f"{what}: map holds {mapping.size} entries, expected d_out = "
                           f"{d_out}", m_at)
        mapping = np.array(mapping[:d_out], dtype=np.int64)
        if mapping.size and (int(mapping.min()) < -1 or int(mapping.max()) >= d_in):
            raise buf.fail(f"{what}: map entries run {int(mapping.min())} … "
                           f"{int(mapping.max())}, expected −1 … {d_in - 1}", m_at)
        return RemapDimensionsTransform(fourcc, d_in, d_out, map=mapping)
    # Viqt
    if nested:
        raise buf.fail(f"{what}: an ITQ transform inside another one", at)
    m_at = c.pos
    mean = _floats(c, end, f"{what} mean")
    do_pca = bool(c.scalar("u8", f"{what} do_pca"))
    itq = read_transform(c, end, f"{what} ITQ matrix", nested=True)
    lin_at = c.pos
    pca_then_itq = read_transform(c, end, f"{what} PCA+ITQ matrix", nested=True)
    d_in, d_out = _common(c, what)
    if not isinstance(itq, LinearTransform) or itq.fourcc != "Viqm":
        raise buf.fail(f"{what}: expected an ITQ matrix (Viqm) first, found {itq.fourcc}", m_at)
    if not isinstance(pca_then_itq, LinearTransform) or \
            (pca_then_itq.d_in, pca_then_itq.d_out) != (d_in, d_out):
        raise buf.fail(f"{what}: expected a linear transform {d_in}→{d_out}, found "
                       f"{pca_then_itq.describe()}", lin_at)
    if mean.size < d_in:
        raise buf.fail(f"{what}: mean holds {mean.size} floats, expected d = {d_in}", m_at)
    return ITQTransform(fourcc, d_in, d_out, mean=np.array(mean[:d_in]), do_pca=do_pca,
                        itq=itq, pca_then_itq=pca_then_itq)


def _floats(c: Cursor, end: int, what: str) -> np.ndarray:
    n = read_count(c, f"{what} count", 4, end)
    return c.array("<f4", n, what)


def _common(c: Cursor, what: str) -> tuple[int, int]:
    at = c.pos
    d_in = int(c.scalar("i32", f"{what} d_in"))
    d_out = int(c.scalar("i32", f"{what} d_out"))
    trained = c.scalar("u8", f"{what} is_trained")
    for name, value in (("d_in", d_in), ("d_out", d_out)):
        if not 0 < value <= MAX_DIM:
            raise c.buf.fail(f"{what}: {name} = {value}, expected 1 … {MAX_DIM}", at)
    if not trained:
        raise c.buf.fail(f"{what} is not trained (is_trained = 0): faiss cannot search "
                         "through it", at + 8)
    return d_in, d_out


def _same_dims(c: Cursor, what: str, d_in: int, d_out: int) -> None:
    if d_in != d_out:
        raise c.buf.fail(f"{what}: d_in = {d_in} and d_out = {d_out}, expected them equal",
                         c.pos - 9)
