"""Fine-search distance view: candidates around the query in polar coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True, eq=False)
class PolarLayout:
    """``xy``: ``(m, 2) float32`` candidate positions in ``[-1, 1]²`` with the query at the
    origin; ``radius``: ``(m,) float32`` in ``[r_min, 1]``; ``sector_lists``: ``(s,) int64``
    the probed lists, ``sector_start``/``sector_end``: ``(s,) float32`` angles (radians)."""

    xy: np.ndarray
    radius: np.ndarray
    sector_lists: np.ndarray
    sector_start: np.ndarray
    sector_end: np.ndarray


def closeness_radius(distances: np.ndarray, metric: str, r_min: float = 0.08) -> np.ndarray:
    """``(m,) float64`` radius in ``[r_min, 1]`` growing with distance from the query.

    ``metric="l2"`` uses the Euclidean distance (square root of the squared L2 the libraries
    report) so radii are true distances; ``"ip"`` uses ``max − ip`` (larger products are
    closer); any other value takes the distances as they are (hnswlib's ``1 − dot``).
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.size == 0:
        return d
    if metric == "ip":
        d = d.max() - d
    elif metric == "l2":
        d = np.sqrt(np.maximum(d, 0.0))
    span = d.max() - d.min()
    unit = (d - d.min()) / span if span > 0 else np.zeros_like(d)
    return r_min + (1.0 - r_min) * unit


def polar_layout(candidate_lists: np.ndarray, distances: np.ndarray, probed_lists: np.ndarray,
                 metric: str, gap: float = 0.04) -> PolarLayout:
    """One angular sector per probed list (angle ∝ its candidate count, at least a sliver for
    empty lists), each candidate at radius ∝ its distance (:func:`closeness_radius`).

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

    radius = closeness_radius(distances, metric)
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
                       end.astype(np.float32))
