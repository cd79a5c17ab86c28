"""Small geometry helpers over numpy arrays, shared by the layouts."""

from __future__ import annotations

import numpy as np

from ..threads import blas_limits


def _shoelace_terms(xy: np.ndarray, offsets: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per vertex: the polygon it belongs to, the index of the next vertex, and the cross
    product of the edge to it (summed per polygon this is twice the signed area)."""
    p = offsets.shape[0] - 1
    owner = np.repeat(np.arange(p), np.diff(offsets))
    nxt = np.arange(xy.shape[0]) + 1
    wrap = nxt == offsets[1:][owner]
    nxt[wrap] = offsets[:-1][owner][wrap]
    cross = xy[:, 0] * xy[nxt, 1] - xy[nxt, 0] * xy[:, 1]
    return owner, nxt, cross


def polygon_areas(xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Shoelace areas of polygons stored as CSR.

    ``xy``: ``(v, 2) float64`` vertices, polygon ``i`` is ``xy[offsets[i]:offsets[i+1]]``
    (not closed); ``offsets``: ``(p + 1,) int64``. Returns ``(p,) float64``.
    """
    owner, _, cross = _shoelace_terms(xy, offsets)
    return np.abs(np.bincount(owner, cross, minlength=offsets.shape[0] - 1)) / 2.0


def polygon_centroids(xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``(p, 2) float64`` area centroids of CSR polygons (vertex mean when degenerate)."""
    p = offsets.shape[0] - 1
    owner, nxt, cross = _shoelace_terms(xy, offsets)
    area2 = np.bincount(owner, cross, minlength=p)
    cx = np.bincount(owner, (xy[:, 0] + xy[nxt, 0]) * cross, minlength=p)
    cy = np.bincount(owner, (xy[:, 1] + xy[nxt, 1]) * cross, minlength=p)
    counts = np.maximum(np.diff(offsets), 1)
    out = np.stack([np.bincount(owner, xy[:, 0], minlength=p) / counts,
                    np.bincount(owner, xy[:, 1], minlength=p) / counts], axis=1)
    ok = np.abs(area2) > 1e-12
    out[ok, 0] = cx[ok] / (3.0 * area2[ok])
    out[ok, 1] = cy[ok] / (3.0 * area2[ok])
    return out


def clip_convex_to_rect(poly: list[tuple[float, float]], width: float, height: float,
                        ) -> list[tuple[float, float]]:
    """Sutherland–Hodgman clip of a convex polygon to ``[0, width] × [0, height]``."""
    for axis, bound, keep_below in ((0, 0.0, False), (0, width, True), (1, 0.0, False),
                                    (1, height, True)):
        if not poly:
            break
        out: list[tuple[float, float]] = []

        def inside(pt: tuple[float, float], axis: int = axis, bound: float = bound,
                   keep_below: bool = keep_below) -> bool:
            return pt[axis] <= bound if keep_below else pt[axis] >= bound

        prev = poly[-1]
        for cur in poly:
            if inside(cur):
                if not inside(prev):
                    out.append(_cross_point(prev, cur, axis, bound))
                out.append(cur)
            elif inside(prev):
                out.append(_cross_point(prev, cur, axis, bound))
            prev = cur
        poly = out
    return poly


def _cross_point(a: tuple[float, float], b: tuple[float, float], axis: int, bound: float,
                 ) -> tuple[float, float]:
    t = (bound - a[axis]) / (b[axis] - a[axis])
    x = a[0] + t * (b[0] - a[0])
    y = a[1] + t * (b[1] - a[1])
    return (bound, y) if axis == 0 else (x, bound)


def pca_2d(x: np.ndarray) -> np.ndarray:
    """``(n, 2) float64`` projection of ``x`` ``(n, d)`` on its two principal axes (run with
    a bounded BLAS pool, :func:`feder.threads.blas_limits`).

    Signs are fixed (largest |loading| positive) so the result is deterministic; fewer than two
    samples or dimensions are padded with zeros.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    out = np.zeros((n, 2))
    if n < 2:
        return out
    centered = x - x.mean(axis=0)
    with blas_limits():  # small products: one thread, no spinning on a busy machine
        # Eigenvectors of the d×d covariance: cheap for the n ≫ d shapes feder sees.
        _, vectors = np.linalg.eigh(centered.T @ centered)
        axes = vectors[:, ::-1][:, :2].T
        signs = np.sign(axes[np.arange(axes.shape[0]), np.abs(axes).argmax(axis=1)])
        axes = axes * np.where(signs == 0, 1, signs)[:, None]
        proj = centered @ axes.T
    out[:, : proj.shape[1]] = proj
    return out


def fit_to_box(xy: np.ndarray, width: float, height: float, margin: float = 0.05) -> np.ndarray:
    """Scale and centre points ``(n, 2)`` uniformly into the box, keeping the aspect ratio."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.shape[0] == 0:
        return xy.reshape(0, 2)
    lo = xy.min(axis=0)
    span = xy.max(axis=0) - lo
    inner = np.array([width, height]) * (1 - 2 * margin)
    scale = np.min(inner / np.where(span > 0, span, 1.0))
    placed = (xy - lo) * scale
    return np.asarray(placed + (np.array([width, height]) - span * scale) / 2.0)


def clip_polygons_to_rect(xy: np.ndarray, offsets: np.ndarray, width: float, height: float,
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Sutherland–Hodgman clip of many convex CSR polygons to ``[0, width] × [0, height]``,
    vectorised over all vertices (one pass per box side).

    ``xy``: ``(v, 2) float64``; ``offsets``: ``(p + 1,) int64``. Returns the clipped polygons
    in the same CSR form; a polygon entirely outside keeps no vertices.
    """
    p = offsets.shape[0] - 1
    for axis, bound, keep_below in ((0, 0.0, False), (0, float(width), True), (1, 0.0, False),
                                    (1, float(height), True)):
        counts = np.diff(offsets)
        owner = np.repeat(np.arange(p), counts)
        idx = np.arange(xy.shape[0])
        prev = idx - 1
        first = idx == offsets[:-1][owner]
        prev[first] = offsets[1:][owner[first]] - 1
        coord = xy[:, axis]
        inside = coord <= bound if keep_below else coord >= bound
        crossing = inside != inside[prev]
        emitted = inside.astype(np.int64) + crossing
        a = xy[prev]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (bound - a[:, axis]) / (coord - a[:, axis])
            cut = a + t[:, None] * (xy - a)
        cut[:, axis] = bound
        source = np.repeat(idx, emitted)
        rank = np.arange(source.shape[0]) - np.repeat(np.cumsum(emitted) - emitted, emitted)
        use_cut = (rank == 0) & crossing[source]
        xy = np.where(use_cut[:, None], cut[source], xy[source])
        offsets = np.zeros(p + 1, np.int64)
        np.cumsum(np.bincount(owner, emitted, minlength=p), out=offsets[1:])
    return xy, offsets


def csr_take(xy: np.ndarray, offsets: np.ndarray, rows: np.ndarray,
             ) -> tuple[np.ndarray, np.ndarray]:
    """Polygons ``rows`` of a CSR set, in that order: ``(xy, offsets)``."""
    counts = np.diff(offsets)[rows]
    out = np.zeros(rows.shape[0] + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    gather = np.repeat(offsets[:-1][rows] - out[:-1], counts) + np.arange(int(out[-1]))
    return xy[gather], out
