"""Distance views: candidates around the query in polar coordinates.

The radius is an honest distance scale: the centre is where a copy of the query would sit
(the library's own distance of the query to itself: 0 for L2 and cosine, ``‖q‖²`` for faiss
inner products), and the radius grows in proportion to how much farther a candidate is.
A query with no close match leaves the centre visibly empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class RadialScale:
    """Radius ``r ∈ [0, 1]`` ↔ library distance ``d``.

    ``kind="sqrt"`` (squared L2 distances): ``r = √(d − zero) / span``, so the radius is the
    Euclidean distance. ``kind="linear"``: ``r = sign · (d − zero) / span`` with ``sign = −1``
    when larger values are closer (inner products). ``zero`` is the distance at the centre,
    ``span`` the transformed distance at ``r = 1``.
    """

    kind: str
    zero: float
    span: float
    larger_is_closer: bool

    def radius(self, distances: np.ndarray) -> np.ndarray:
        """``(m,) float64`` radii in ``[0, 1]`` of ``distances`` ``(m,)``."""
        t = self._transform(np.asarray(distances, dtype=np.float64))
        return np.clip(t / self.span, 0.0, 1.0) if self.span > 0 else np.zeros_like(t)

    def distance(self, radius: np.ndarray | float) -> np.ndarray:
        """The library distance at ``radius`` (the inverse of :meth:`radius`)."""
        t = np.asarray(radius, dtype=np.float64) * self.span
        if self.kind == "sqrt":
            return self.zero + t * t
        return self.zero - t if self.larger_is_closer else self.zero + t

    def _transform(self, d: np.ndarray) -> np.ndarray:
        delta = (self.zero - d) if self.larger_is_closer else (d - self.zero)
        delta = np.maximum(delta, 0.0)
        return np.sqrt(delta) if self.kind == "sqrt" else delta

    def to_payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "zero": float(self.zero), "span": float(self.span),
                "larger_is_closer": bool(self.larger_is_closer)}


def radial_scale(distances: np.ndarray, self_distance: float, squared_l2: bool,
                 larger_is_closer: bool) -> RadialScale:
    """The scale for ``distances`` ``(m,)``: centre at ``self_distance`` (the query's distance
    to itself) or at the best candidate if one is closer than that (possible with inner
    products), edge at the farthest candidate."""
    d = np.asarray(distances, dtype=np.float64)
    d = d[np.isfinite(d)]
    zero = float(self_distance)
    if d.size:
        best = float(d.max() if larger_is_closer else d.min())
        zero = max(zero, best) if larger_is_closer else min(zero, best)
    scale = RadialScale("sqrt" if squared_l2 else "linear", zero, 1.0, larger_is_closer)
    span = float(scale._transform(d).max()) if d.size else 0.0
    return RadialScale(scale.kind, zero, span if span > 0 else 0.0, larger_is_closer)


@dataclass(frozen=True, eq=False)
class PolarLayout:
    """``xy``: ``(m, 2) float32`` candidate positions in ``[-1, 1]²`` with the query at the
    origin; ``radius``: ``(m,) float32`` in ``[0, 1]`` (see :class:`RadialScale`);
    ``sector_lists``: ``(s,) int64`` the probed lists, ``sector_start``/``sector_end``:
    ``(s,) float32`` angles (radians); ``scale``: the radius ↔ distance mapping."""

    xy: np.ndarray
    radius: np.ndarray
    sector_lists: np.ndarray
    sector_start: np.ndarray
    sector_end: np.ndarray
    scale: RadialScale


def polar_layout(candidate_lists: np.ndarray, distances: np.ndarray, probed_lists: np.ndarray,
                 scale: RadialScale, gap: float = 0.04) -> PolarLayout:
    """One angular sector per probed list (angle ∝ its candidate count, at least a sliver for
    empty lists), each candidate at the radius ``scale`` gives its distance.

    Within a sector, candidates are spread by a golden-ratio sequence in order of distance,
    so close neighbours do not stack on one ray. ``candidate_lists``: ``(m,) int64``,
    ``distances``: ``(m,) float32``, ``probed_lists``: ``(s,) int64``. Deterministic.
    """
    s = probed_lists.shape[0]
    by_list = np.argsort(probed_lists)
    sector_of = by_list[np.searchsorted(probed_lists, candidate_lists, sorter=by_list)]
    counts = np.bincount(sector_of, minlength=s).astype(np.float64)
    shares = np.maximum(counts, 0.05 * max(counts.sum(), 1.0) / max(s, 1))
    total = 2 * np.pi - gap * s
    widths = shares / shares.sum() * total
    start = np.concatenate([[0.0], np.cumsum(widths + gap)[:-1]]) - np.pi / 2
    end = start + widths

    radius = scale.radius(distances)
    angle = np.zeros(radius.shape[0])
    for i in range(s):
        members = np.flatnonzero(sector_of == i)
        if members.size == 0:
            continue
        order = members[np.lexsort((members, radius[members]))]
        frac = (np.arange(1, order.size + 1) * _GOLDEN) % 1.0
        angle[order] = start[i] + widths[i] * (0.1 + 0.8 * frac)
    xy = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return PolarLayout(xy.astype(np.float32), radius.astype(np.float32),
                       probed_lists.astype(np.int64), start.astype(np.float32),
                       end.astype(np.float32), scale)
