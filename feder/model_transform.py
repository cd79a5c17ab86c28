"""faiss ``IndexPreTransform`` (``IxPT``): a chain of vector transforms in front of any index.

``faiss.index_factory(d, "PCA32,IVF64,Flat")``, ``"L2norm,Flat"``, ``"OPQ8_32,IVF256,PQ8"``
(autofaiss under a memory cap) write one. faiss applies the chain to every vector it adds and
to every query (``IndexPreTransform::apply_chain``), then hands the result to the wrapped
index: the stored vectors live in the *transformed* space, queries come in the *input* space.

:class:`PreTransformIndex` keeps the wrapped model (``inner``, any kind feder reads) and the
chain; :meth:`~PreTransformIndex.transform_queries` reproduces faiss's float32 arithmetic.
The views draw ``inner`` (the transformed space); a search transforms the query and runs the
inner replay (:mod:`feder.trace`).

Transforms (``VectorTransform.cpp``): a :class:`LinearTransform` ``y = A x (+ b)`` covers
``LTra`` (a plain linear map — what OPQ writes), ``Pcam``/``PCAm``/``PcAm`` (PCA: faiss
stores the ready ``A`` and ``b = −A·mean``; eigenvalue power, random rotation and balanced
bins are already folded into ``A``), ``rrot`` (random rotation) and ``Viqm`` (an ITQ
rotation); :class:`NormalizationTransform` ``VNrm`` (L2 normalisation),
:class:`CenteringTransform` ``VCnt`` (``x − mean``), :class:`RemapDimensionsTransform`
``RmDT`` (pick / zero-pad dimensions) and :class:`ITQTransform` ``Viqt`` (centre,
normalise, then a linear map).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .errors import QueryError, UnsupportedIndexError

if TYPE_CHECKING:
    from .model import IndexModel

_F32 = np.float32

ORTHONORMAL_EPS = 4e-5
"""faiss's ``LinearTransform::set_is_orthonormal`` tolerance on ``|A·Aᵀ − I|``."""


def renorm_l2(x: np.ndarray) -> np.ndarray:
    """``(n, d) float32`` rows of ``x`` scaled to unit L2 norm as faiss's ``fvec_renorm_L2``
    does: the squared norm reduced like ``fvec_norm_L2sqr``, ``inv = 1.0 / sqrtf(nr)`` in
    double rounded to float, then one float32 product per component; zero rows stay zero."""
    from .trace.float32 import dot_rows

    x = np.asarray(x, dtype=_F32)
    nr = dot_rows(x, x)
    root = np.sqrt(nr.astype(_F32)).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(nr > 0, 1.0 / np.where(nr > 0, root, 1.0), 1.0).astype(_F32)
    return (x * inv[:, None]).astype(_F32)


@dataclass(frozen=True, eq=False)
class VectorTransform:
    """One step of the chain: ``d_in`` → ``d_out`` dimensions; ``fourcc`` as faiss writes it."""

    fourcc: str
    d_in: int
    d_out: int

    @property
    def name(self) -> str:
        return self.fourcc

    def describe(self) -> str:
        """A short human name with the dimensions, e.g. ``"PCA 32→16"``."""
        dims = f" {self.d_in}→{self.d_out}" if self.d_in != self.d_out else f" ({self.d_in})"
        return f"{self.name}{dims}"

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``(n, d_out) float32`` the transform of ``(n, d_in) float32`` rows."""
        raise NotImplementedError

    @property
    def invertible(self) -> bool:
        """True when faiss's ``reverse_transform`` recovers the input exactly (up to float
        rounding)."""
        return False

    def reverse(self, y: np.ndarray) -> np.ndarray:
        """``(n, d_in) float32`` faiss's ``reverse_transform`` of ``(n, d_out)`` rows."""
        raise UnsupportedIndexError(f"{self.describe()} cannot be reversed: {self._why()}")

    def preimage(self, y: np.ndarray) -> np.ndarray:
        """``(n, d_in) float32`` input rows this step maps (up to float rounding) onto
        ``y``: the exact inverse where there is one, otherwise the closest such input."""
        return self.reverse(y)

    def _why(self) -> str:
        return "faiss implements no reverse transform for it"


@dataclass(frozen=True, eq=False)
class LinearTransform(VectorTransform):
    """``y = A x + b`` (``b`` only when ``have_bias``). ``A``: ``(d_out, d_in) float32``
    (faiss's row-major ``A``), ``b``: ``(d_out,) float32`` or ``None``. ``pca`` holds a PCA's
    extra fields (``eigen_power``, ``epsilon``, ``random_rotation``, ``balanced_bins``,
    ``mean``, ``eigenvalues``), ``itq`` an ITQ matrix's (``max_iter``, ``seed``)."""

    A: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), _F32), repr=False)
    b: np.ndarray | None = field(default=None, repr=False)
    pca: dict[str, Any] | None = field(default=None, repr=False)
    itq: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        if self.fourcc in ("Pcam", "PCAm", "PcAm"):
            extra = []
            if self.pca and float(self.pca.get("eigen_power", 0.0)) != 0.0:
                extra.append(f"eigenvalue power {float(self.pca['eigen_power']):g}")
            if self.pca and self.pca.get("random_rotation"):
                extra.append("random rotation")
            if self.pca and int(self.pca.get("balanced_bins", 0)):
                extra.append(f"{int(self.pca['balanced_bins'])} balanced bins")
            return "PCA" + (f" ({', '.join(extra)})" if extra else "")
        return {"rrot": "random rotation", "Viqm": "ITQ rotation",
                "LTra": "linear transform (OPQ)"}.get(self.fourcc, self.fourcc)

    @cached_property
    def _At(self) -> np.ndarray:
        return np.ascontiguousarray(self.A.T, dtype=_F32)

    def apply(self, x: np.ndarray) -> np.ndarray:
        y = np.asarray(x, dtype=_F32) @ self._At  # faiss: sgemm (sgemv for one row)
        if self.b is not None:
            y = (y + self.b).astype(_F32)
        return np.asarray(y, dtype=_F32)

    @cached_property
    def is_orthonormal(self) -> bool:
        """faiss's ``set_is_orthonormal``: ``d_out ≤ d_in`` and ``A·Aᵀ`` within
        :data:`ORTHONORMAL_EPS` of the identity."""
        if self.d_out > self.d_in:
            return False
        if self.d_out == 0:
            return True
        a = self.A.astype(np.float64)
        with np.errstate(all="ignore"):
            gram = a @ a.T - np.eye(self.d_out)
        return bool(np.all(np.abs(gram) <= ORTHONORMAL_EPS))

    @property
    def invertible(self) -> bool:
        return self.is_orthonormal and self.d_out == self.d_in

    def reverse(self, y: np.ndarray) -> np.ndarray:
        """faiss's ``transform_transpose``: ``Aᵀ (y − b)``, defined for orthonormal ``A``
        (exact when ``d_out == d_in``; with fewer outputs it is the projection back)."""
        if not self.is_orthonormal:
            raise UnsupportedIndexError(
                f"{self.describe()} cannot be reversed: its matrix is not orthonormal (e.g. a "
                "whitening PCA or an ITQ rotation), and faiss reverses orthonormal ones only")
        y = np.asarray(y, dtype=_F32)
        if self.b is not None:
            y = (y - self.b).astype(_F32)
        return np.asarray(y @ self.A, dtype=_F32)

    def preimage(self, y: np.ndarray) -> np.ndarray:
        if self.is_orthonormal:
            return self.reverse(y)
        y = np.asarray(y, dtype=np.float64)
        if self.b is not None:
            y = y - self.b
        a = self.A.astype(np.float64)
        if not (np.isfinite(a).all() and np.isfinite(y).all()):
            raise UnsupportedIndexError(f"{self.describe()} holds values that are not finite: "
                                        "no input vector maps onto the stored one")
        try:
            solution, *_ = np.linalg.lstsq(a, y.T, rcond=None)
        except np.linalg.LinAlgError as exc:
            raise UnsupportedIndexError(f"{self.describe()} cannot be inverted: {exc}") from None
        return np.asarray(solution.T, dtype=_F32)

    def describe(self) -> str:
        return f"{self.name} {self.d_in}→{self.d_out}"


@dataclass(frozen=True, eq=False)
class NormalizationTransform(VectorTransform):
    """``VNrm``: each vector divided by its L2 norm (faiss implements ``norm = 2`` only)."""

    norm: float = 2.0

    @property
    def name(self) -> str:
        return "L2 normalisation"

    def describe(self) -> str:
        return self.name

    def apply(self, x: np.ndarray) -> np.ndarray:
        return renorm_l2(x)

    def reverse(self, y: np.ndarray) -> np.ndarray:
        raise UnsupportedIndexError(
            "L2 normalisation is not invertible: each vector's length was dropped when it was "
            "added, so its input vector cannot be recovered; vector(id) returns the stored unit "
            "vector (a query that normalises to itself, as faiss's reconstruct does)")

    def preimage(self, y: np.ndarray) -> np.ndarray:
        """A unit vector normalises to itself: faiss's ``reverse_transform`` copies."""
        return np.array(y, dtype=_F32)


@dataclass(frozen=True, eq=False)
class CenteringTransform(VectorTransform):
    """``VCnt``: ``x − mean`` (``mean``: ``(d,) float32``)."""

    mean: np.ndarray = field(default_factory=lambda: np.zeros(0, _F32), repr=False)

    @property
    def name(self) -> str:
        return "centering"

    def describe(self) -> str:
        return self.name

    def apply(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.subtract(np.asarray(x, dtype=_F32), self.mean, dtype=_F32)
        return out

    @property
    def invertible(self) -> bool:
        return True

    def reverse(self, y: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.add(np.asarray(y, dtype=_F32), self.mean, dtype=_F32)
        return out


@dataclass(frozen=True, eq=False)
class RemapDimensionsTransform(VectorTransform):
    """``RmDT``: output ``j`` is input ``map[j]``, or 0 where ``map[j] = −1``."""

    map: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)

    @property
    def name(self) -> str:
        return "dimension remap"

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=_F32)
        out = np.zeros((x.shape[0], self.d_out), _F32)
        used = self.map >= 0
        out[:, used] = x[:, self.map[used]]
        return out

    @property
    def invertible(self) -> bool:
        used = self.map[self.map >= 0]
        return bool(np.unique(used).size == self.d_in)

    def reverse(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=_F32)
        out = np.zeros((y.shape[0], self.d_in), _F32)
        for j in np.flatnonzero(self.map >= 0).tolist():  # later outputs win, as in faiss
            out[:, int(self.map[j])] = y[:, j]
        return out


@dataclass(frozen=True, eq=False)
class ITQTransform(VectorTransform):
    """``Viqt``: ``x − mean``, L2-normalised, then ``pca_then_itq`` (a
    :class:`LinearTransform`); ``itq`` is the ITQ rotation faiss stores alongside."""

    mean: np.ndarray = field(default_factory=lambda: np.zeros(0, _F32), repr=False)
    do_pca: bool = False
    itq: LinearTransform | None = field(default=None, repr=False)
    pca_then_itq: LinearTransform | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return "ITQ" + (" (PCA first)" if self.do_pca else "")

    def apply(self, x: np.ndarray) -> np.ndarray:
        assert self.pca_then_itq is not None
        centred = (np.asarray(x, dtype=_F32) - self.mean).astype(_F32)
        return self.pca_then_itq.apply(renorm_l2(centred))

    def _why(self) -> str:
        return "it normalises the centred vector (its length is lost)"


def chain_description(chain: tuple[VectorTransform, ...]) -> str:
    """``"PCA 32→16"``, ``"L2 normalisation, then PCA 32→16"``, …"""
    return ", then ".join(t.describe() for t in chain) or "no transform"


_INNER_NAMES: dict[str, Callable[[Any], str]] = {
    "flat": lambda m: {"IxPq": "PQ", "IxSQ": "SQ"}.get(m.fourcc, "Flat"),
    "ivf_flat": lambda m: f"IVF{m.nlist},Flat",
    "ivf_idmap": lambda m: f"IDMap,IVF{m.nlist}",
    "ivf_sq": lambda m: f"IVF{m.nlist},SQ ({m.qtype})",
    "ivf_pq": lambda m: f"IVF{m.nlist},PQ{m.pq_M}x{m.pq_nbits}",
    "ivf_hnsw_flat": lambda m: f"IVF{m.nlist}_HNSW,Flat",
    "faiss_hnsw": lambda m: f"HNSW{m.M}",
    "hnsw": lambda m: f"HNSW{m.M}",
}
"""Index kind → a short factory-style name of the wrapped index, for the description."""


@dataclass(eq=False)
class PreTransformIndex:
    """A faiss ``IndexPreTransform``: ``chain`` applied to queries, then ``inner`` searched.

    ``dim`` is the input dimension (queries, :meth:`vector`); ``inner.dim`` the transformed
    one (``d_out``), in which ``inner`` stores its vectors and the views draw.
    ``metric`` is the inner index's. ``ids`` are the ids faiss returns.
    """

    dim: int
    metric: str
    metric_type: int
    metric_arg: float
    ntotal: int
    chain: tuple[VectorTransform, ...]
    inner: IndexModel
    source: str

    kind: Literal["pretransform"] = "pretransform"

    @property
    def d_out(self) -> int:
        """The dimension the inner index stores (the last transform's output)."""
        return int(self.inner.dim)

    @property
    def description(self) -> str:
        """``"PCA 32→16, then IVF32,Flat"``: the chain, then the wrapped index."""
        inner = self.inner
        name = _INNER_NAMES.get(inner.kind)
        return f"{chain_description(self.chain)}, then {name(inner) if name else inner.kind}"

    @property
    def view_note(self) -> str:
        """The caption views show: the search ran in the transformed space."""
        return f"searched in the transformed space: {self.description}"

    def transform_queries(self, queries: Any) -> np.ndarray:
        """``(n, d_out) float32`` the chain applied to ``(n, dim)`` (or ``(dim,)``) float32
        queries, step by step as faiss's ``apply_chain`` does."""
        try:
            x = np.asarray(queries, dtype=_F32)
        except (TypeError, ValueError) as exc:
            raise QueryError(f"queries must be numeric vectors of length {self.dim}: "
                             f"{exc}") from None
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise QueryError(f"queries have shape {x.shape}: expected (n, {self.dim}) "
                             f"(the input dimension of {chain_description(self.chain)})")
        with np.errstate(all="ignore"):  # absurd matrices give inf / nan: the replay refuses
            for step in self.chain:
                x = step.apply(x)
        return np.ascontiguousarray(x, dtype=_F32)

    @property
    def invertible(self) -> bool:
        """True when every step can be reversed exactly (orthonormal square rotations,
        centering, a one-to-one remap); L2 normalisation, reductions and whitening cannot."""
        return all(step.invertible for step in self.chain)

    def stored_vector(self, ident: Any) -> np.ndarray:
        """``(d_out,) float32`` the vector the inner index stores for ``ident`` (the
        transformed space the views draw)."""
        return np.asarray(self.inner.vector(ident), dtype=_F32)

    def reconstruct(self, ident: Any) -> np.ndarray:
        """``(dim,) float32`` the input vector of ``ident``, by faiss's ``reverse_transform``
        of each step, last first; :class:`~feder.errors.UnsupportedIndexError` when a step
        is not invertible (L2 normalisation, a whitening PCA, ITQ; a dimension-reducing
        PCA/OPQ gives its projection back, as faiss does)."""
        y = self.stored_vector(ident)[None]
        for step in reversed(self.chain):
            y = step.reverse(y)
        return np.asarray(y[0], dtype=_F32)

    def vector(self, ident: Any) -> np.ndarray:
        """``(dim,) float32`` a query in the input space that the chain maps onto the vector
        stored for ``ident`` (up to float rounding), so ``search(vector(id))`` searches with
        the stored item: faiss's ``reconstruct`` where the chain is orthonormal (an L2
        normalisation passes the stored unit vector through, as faiss does), the
        least-squares preimage of a non-orthonormal linear step. ITQ has none
        (:class:`~feder.errors.UnsupportedIndexError`). The stored vector itself, in the
        transformed space, is :meth:`stored_vector`."""
        y = self.stored_vector(ident)[None]
        for step in reversed(self.chain):
            y = step.preimage(y)
        return np.asarray(y[0], dtype=_F32)

    @property
    def ids(self) -> np.ndarray:
        """``(ntotal,) int64`` the ids faiss returns, in the inner index's storage order."""
        inner: Any = self.inner
        ids = inner.ids if hasattr(inner, "ids") else inner.labels
        return np.asarray(ids, dtype=np.int64)

    @property
    def vectors(self) -> _Preimages:
        """``(ntotal, dim)`` rows of :meth:`vector` for every stored row, computed only for
        the rows asked for (``index.vectors[rows]``)."""
        return _Preimages(self)

    def __repr__(self) -> str:
        return (f"PreTransformIndex(dim={self.dim}, d_out={self.d_out}, "
                f"metric={self.metric!r}, ntotal={self.ntotal}, "
                f"chain={chain_description(self.chain)!r}, inner={self.inner!r})")


class _Preimages:
    """Rows of :meth:`PreTransformIndex.vector` by storage row, made on demand."""

    __slots__ = ("_index",)

    def __init__(self, index: PreTransformIndex):
        self._index = index

    @property
    def shape(self) -> tuple[int, int]:
        return (self._index.ntotal, self._index.dim)

    def __len__(self) -> int:
        return self._index.ntotal

    def __getitem__(self, rows: Any) -> np.ndarray:
        index = self._index
        inner: Any = index.inner
        stored = np.asarray(inner.vectors[rows], dtype=_F32)
        single = stored.ndim == 1
        y = stored[None] if single else stored
        for step in reversed(index.chain):
            y = step.preimage(y)
        return np.asarray(y[0] if single else y, dtype=_F32)
