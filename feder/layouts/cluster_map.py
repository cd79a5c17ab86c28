"""The IVF overview: one convex cell per inverted list, area following the list size,
similar centroids near each other.

1. Centroids go to 2-D by PCA (deterministic) and a k-d treemap splits the canvas recursively
   along that projection, so each list gets a rectangle of exactly its share of the area and
   neighbouring rectangles hold similar centroids.
2. The rectangle centres become the sites of a power diagram (weighted Voronoi, the lower
   convex hull of lifted points) whose weights solve a semi-discrete optimal-transport
   problem: cell ``i`` must cover exactly ``targets[i]`` of the box. The map from weights to
   areas has a sparse Jacobian (a graph Laplacian: ``∂A_i/∂w_j = -|e_ij| / (2 |s_i - s_j|)``
   over the shared edges ``e_ij``), so damped Newton steps (Kitagawa, Mérigot and Thibert
   2019) converge in a handful of diagrams. Sites never move, so neighbours stay neighbours.
   Cells are convex, tile the box, and have their target areas to ``tolerance``.
3. If qhull cannot triangulate (degenerate input) or Newton does not converge, the treemap
   rectangles are used as they are (``method == "treemap"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..threads import blas_limits
from .geometry import (
    clip_polygons_to_rect,
    csr_take,
    pca_2d,
    polygon_areas,
    polygon_centroids,
)


@dataclass(frozen=True, eq=False)
class ClusterMap:
    """Cells as CSR polygons in a ``width × height`` box (y down, like a canvas).

    ``xy``: ``(v, 2) float32`` vertices; ``offsets``: ``(nlist + 1,) int64``;
    ``centers``: ``(nlist, 2) float32`` area centroids; ``areas``/``targets``:
    ``(nlist,) float64`` achieved and wanted areas. ``method``: ``"power"`` (power-diagram
    cells with converged areas) or ``"treemap"`` (the axis-aligned rectangles, used for fewer
    than 3 lists or when the power diagram could not be computed).
    """

    width: float
    height: float
    xy: np.ndarray
    offsets: np.ndarray
    centers: np.ndarray
    areas: np.ndarray
    targets: np.ndarray
    method: str = "power"

    @property
    def max_area_error(self) -> float:
        """Largest area error, relative to ``max(target, mean target)``."""
        return _error(self.areas, self.targets) if self.targets.size else 0.0


def cluster_map(centroids: np.ndarray, sizes: np.ndarray, width: float = 800.0,
                height: float = 500.0, iterations: int | None = None, tolerance: float = 0.01,
                ) -> ClusterMap:
    """Lay out ``nlist`` clusters.

    ``centroids``: ``(nlist, d) float32``; ``sizes``: ``(nlist,)`` list sizes. Empty lists get
    a small cell (2 % of the mean) so they can still be seen and clicked. ``iterations``
    caps the Newton steps of the power-diagram solve (default 40; 2–6 are typical) and
    ``tolerance`` is the largest area error accepted (:attr:`ClusterMap.max_area_error`:
    relative to the cell's target, or to the mean target for smaller cells; every cell is
    also within ``5 × tolerance`` of its own target). Runs with a bounded BLAS pool
    (:mod:`feder.threads`). Deterministic: the same input gives the same cells.
    """
    if iterations is None:
        iterations = 40
    nlist = centroids.shape[0]
    sizes = np.asarray(sizes, dtype=np.float64)
    weights = sizes + 0.02 * max(float(sizes.mean()), 1.0)
    targets = weights / weights.sum() * (width * height)
    solved = None
    with blas_limits():
        projected = pca_2d(centroids)
        rects = kd_treemap(projected, weights, width, height)
        if nlist >= 3:
            solved = _solve_power_diagram(rects, targets, width, height, iterations, tolerance)
    if solved is not None:
        xy, offsets, areas = solved
        method = "power"
    else:
        xy, offsets = _rects_as_polygons(rects)
        areas = polygon_areas(xy, offsets)
        method = "treemap"
    return ClusterMap(
        width=float(width),
        height=float(height),
        xy=xy.astype(np.float32),
        offsets=offsets,
        centers=polygon_centroids(xy, offsets).astype(np.float32),
        areas=areas,
        targets=targets,
        method=method,
    )


def _error(areas: np.ndarray, targets: np.ndarray) -> float:
    """Largest area error relative to the cell's target, or to the mean target for cells
    smaller than the mean (a tiny cell twice its size is still tiny on screen)."""
    return float(np.max(np.abs(areas - targets) / np.maximum(targets, targets.mean())))


def kd_treemap(points: np.ndarray, weights: np.ndarray, width: float, height: float,
               ) -> np.ndarray:
    """``(n, 4) float64`` rectangles ``(x0, y0, x1, y1)`` with areas ∝ ``weights`` ``(n,)``.

    The box is cut along its longer side; points ``(n, 2)`` are ordered along the matching
    projected axis (ties by index) and split where the weight halves, recursively. Nearby
    points get nearby rectangles. Every group of one tree level is split at once (segments
    of one permutation), so the cost is ``O(n log² n)`` in numpy, not ``n`` Python steps.
    """
    n = points.shape[0]
    rects = np.zeros((n, 4))
    weights = np.asarray(weights, dtype=np.float64)
    perm = np.arange(n)
    ranks = np.empty((2, n), np.int64)
    for axis in (0, 1):
        ranks[axis, np.lexsort((perm, points[:, axis]))] = perm
    starts = np.zeros(1, np.int64)
    sizes = np.full(1, n, np.int64)
    boxes = np.array([[0.0, 0.0, float(width), float(height)]])
    while starts.size:
        done = sizes == 1
        rects[perm[starts[done]]] = boxes[done]
        starts, sizes, boxes = starts[~done], sizes[~done], boxes[~done]
        if not starts.size:
            break
        x0, y0, x1, y1 = boxes.T
        horizontal = (x1 - x0) >= (y1 - y0)
        group = np.repeat(np.arange(starts.size), sizes)
        first = np.cumsum(sizes) - sizes
        pos = np.repeat(starts - first, sizes) + np.arange(int(sizes.sum()))
        members = perm[pos]
        rank = np.where(horizontal[group], ranks[0, members], ranks[1, members])
        members = members[np.argsort(group * n + rank)]
        perm[pos] = members
        cum = np.cumsum(weights[members])
        last = first + sizes - 1
        base = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
        total = cum[last] - base
        cut = np.searchsorted(cum, base + total / 2.0) - first
        cut = np.minimum(np.maximum(cut, 0), sizes - 2) + 1
        share = (cum[first + cut - 1] - base) / total
        xm = x0 + (x1 - x0) * share
        ym = y0 + (y1 - y0) * share
        lower = np.where(horizontal[:, None], np.stack([x0, y0, xm, y1], 1),
                         np.stack([x0, y0, x1, ym], 1))
        upper = np.where(horizontal[:, None], np.stack([xm, y0, x1, y1], 1),
                         np.stack([x0, ym, x1, y1], 1))
        starts, sizes = np.concatenate([starts, starts + cut]), np.concatenate([cut, sizes - cut])
        boxes = np.concatenate([lower, upper])
    return rects


def _rects_as_polygons(rects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = rects.T
    xy = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1),
                   np.stack([x0, y1], 1)], axis=1).reshape(-1, 2)
    return xy, np.arange(0, 4 * rects.shape[0] + 1, 4, dtype=np.int64)


# Conjugate-gradient accuracy of each Newton step (looser stalls Newton on smooth modes).
_CG_RTOL = 1e-4
# Initial weight per unit of rectangle area (the best of 0 … 0.25 in diagrams needed).
_ALPHA = 0.125
# Every cell, tiny ones included, ends within this many ``tolerance`` of its own target.
_OWN = 5.0


class _Diagram(NamedTuple):
    """A power diagram clipped to the box: CSR cells, their areas, and the shared edges
    ``(i, j)`` with ``coupling = |e_ij| / (2 |s_i - s_j|)`` (the Jacobian's off-diagonal)."""

    xy: np.ndarray
    offsets: np.ndarray
    areas: np.ndarray
    edge_i: np.ndarray
    edge_j: np.ndarray
    coupling: np.ndarray


def _solve_power_diagram(rects: np.ndarray, targets: np.ndarray, width: float, height: float,
                         iterations: int, tolerance: float,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Weights of a power diagram on the rectangle centres whose cells have ``targets`` areas
    (damped Newton on the semi-discrete transport problem); ``None`` if it fails."""
    sites = np.stack([(rects[:, 0] + rects[:, 2]) / 2, (rects[:, 1] + rects[:, 3]) / 2], 1)
    order = _spatial_order(sites, width, height)
    # A weight ∝ the rectangle's area starts the cells near their sizes; zero weights (plain
    # Voronoi) are the safe start when that leaves a cell empty.
    weights = _ALPHA * (rects[:, 2] - rects[:, 0]) * (rects[:, 3] - rects[:, 1])
    diagram = _power_diagram(sites, weights, width, height, order)
    if diagram is None or diagram.areas.min() <= 0.1 * targets.min():
        weights = np.zeros(sites.shape[0])
        diagram = _power_diagram(sites, weights, width, height, order)
    if diagram is None or diagram.areas.min() <= 0:
        return None
    # No cell may shrink below this during the solve (keeps the Jacobian invertible).
    floor = 0.1 * min(float(diagram.areas.min()), float(targets.min()))
    for _ in range(iterations + 1):
        residual = targets - diagram.areas
        if (_error(diagram.areas, targets) <= tolerance
                and float(np.max(np.abs(residual) / targets)) <= _OWN * tolerance):
            xy, offsets = _drop_repeated_vertices(diagram.xy, diagram.offsets,
                                                  1e-6 * max(width, height))
            return xy, offsets, polygon_areas(xy, offsets)
        direction = _newton_direction(diagram, residual)
        if direction is None:
            return None
        size = float(np.linalg.norm(residual))
        step = 1.0
        while True:
            trial = _power_diagram(sites, weights + step * direction, width, height, order)
            if trial is None:
                return None
            if (trial.areas.min() >= floor
                    and np.linalg.norm(targets - trial.areas) <= (1 - step / 2) * size):
                break
            step /= 2
            if step < 1e-3:
                return None
        weights = weights + step * direction
        diagram = trial
    return None


def _newton_direction(diagram: _Diagram, residual: np.ndarray) -> np.ndarray | None:
    """Solve ``J δ = residual`` for the weight step, ``J`` the area Jacobian (a weighted graph
    Laplacian, singular along constant weights), by Jacobi-preconditioned conjugate
    gradients; ``None`` when they fail."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import LinearOperator, cg

    n = residual.shape[0]
    i, j, c = diagram.edge_i, diagram.edge_j, diagram.coupling
    degree = np.bincount(i, c, minlength=n) + np.bincount(j, c, minlength=n)
    diag = degree + 1e-9 * max(float(degree.max()), 1e-300)
    every = np.arange(n)
    jac = coo_matrix((np.concatenate([-c, -c, diag]),
                      (np.concatenate([i, j, every]), np.concatenate([j, i, every]))),
                     shape=(n, n)).tocsr()
    inverse = 1.0 / diag
    precondition = LinearOperator((n, n), matvec=lambda v: inverse * v, dtype=np.float64)
    step, info = cg(jac, residual - residual.mean(), rtol=_CG_RTOL, maxiter=20 * n + 100,
                    M=precondition)
    if info < 0 or not np.isfinite(step).all():
        return None
    return np.asarray(step - step.mean())


def _spatial_order(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """Indices of ``points`` along a Z-order curve: qhull runs about twice as fast on
    spatially coherent input."""
    scale = 65535.0 / max(width, height, 1e-12)
    code = np.zeros(points.shape[0], np.int64)
    for axis in (0, 1):
        v = np.clip(points[:, axis] * scale, 0, 65535).astype(np.int64)
        v = (v | (v << 8)) & 0x00FF00FF
        v = (v | (v << 4)) & 0x0F0F0F0F
        v = (v | (v << 2)) & 0x33333333
        v = (v | (v << 1)) & 0x55555555
        code |= v << axis
    return np.argsort(code, kind="stable")


def power_cells(sites: np.ndarray, weights: np.ndarray, width: float, height: float,
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Power-diagram cells of ``sites`` ``(n, 2)`` with ``weights`` ``(n,)``, clipped to the box.

    Returns CSR polygons ``(xy (v, 2) float64, offsets (n + 1,) int64)``, counter-clockwise
    in y-up terms; a site whose cell is empty gets no vertices. ``None`` if qhull fails.
    """
    sites = np.asarray(sites, dtype=np.float64)
    diagram = _power_diagram(sites, np.asarray(weights, dtype=np.float64), width, height,
                             _spatial_order(sites, width, height))
    return None if diagram is None else (diagram.xy, diagram.offsets)


def _power_diagram(sites: np.ndarray, weights: np.ndarray, width: float, height: float,
                   order: np.ndarray) -> _Diagram | None:
    """The power diagram of ``sites`` (inside the box) as the lower hull of the lifted points
    ``(x, y, x² + y² - w)``, fed to qhull in ``order``; ``None`` if qhull fails."""
    from scipy.spatial import ConvexHull, QhullError

    n = sites.shape[0]
    origin = np.array([width / 2.0, height / 2.0])
    # Four far points close the diagram: with weights ≥ 0 their cells never reach the box.
    far = 3.0 * (width + height)
    frame = np.array([[-far, -far], [far, -far], [far, far], [-far, far]])
    points = np.vstack([sites[order] - origin, frame])
    lifted = np.column_stack(
        [points, (points**2).sum(1) - np.concatenate([(weights - weights.min())[order],
                                                     np.zeros(4)])])
    try:
        # "QJ" joggles the input by ~1e-11 of its range instead of merging coplanar facets:
        # twice as fast, simplicial output, and deterministic (qhull's fixed default seed);
        # "Pp" skips the precision report.
        hull = ConvexHull(lifted, qhull_options="QJ Pp")
    except (QhullError, ValueError):
        return None
    label = np.concatenate([order, np.arange(n, n + 4)])
    simplices = label[hull.simplices]
    eq = hull.equations
    lower = eq[:, 2] < 0
    facets = np.flatnonzero(lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        vertices = -eq[:, :2] / (2.0 * eq[:, 2:3]) + origin

    # cells: each lower facet's power vertex belongs to its three sites; sort by angle
    site_of = simplices[facets].ravel()
    vertex_of = np.repeat(facets, 3)
    real = site_of < n
    site_of, vertex_of = site_of[real], vertex_of[real]
    counts = np.bincount(site_of, minlength=n)
    v = vertices[vertex_of]
    safe = np.maximum(counts, 1)
    mean_x = np.bincount(site_of, v[:, 0], minlength=n) / safe
    mean_y = np.bincount(site_of, v[:, 1], minlength=n) / safe
    angle = np.arctan2(v[:, 1] - mean_y[site_of], v[:, 0] - mean_x[site_of])
    xy = v[np.argsort(site_of * 8.0 + angle)]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    xy, offsets = _clip_cells(xy, offsets, width, height)

    # shared edges between two real sites, clipped to the box, for the Jacobian
    neighbours = hull.neighbors[facets]
    pairs = []
    for k in range(3):
        other = neighbours[:, k]
        a = simplices[facets, (k + 1) % 3]
        b = simplices[facets, (k + 2) % 3]
        keep = lower[other] & (facets < other) & (a < n) & (b < n)
        pairs.append((facets[keep], other[keep], a[keep], b[keep]))
    f, g, i, j = (np.concatenate(column) for column in zip(*pairs, strict=True))
    a, b = vertices[f], vertices[g]
    length = np.hypot(*(b - a).T)
    # only segments with an end outside the box need clipping
    ends = np.concatenate([a, b], axis=1)
    out = np.flatnonzero((ends.min(1) < 0) | (ends[:, [0, 2]].max(1) > width)
                         | (ends[:, [1, 3]].max(1) > height))
    length[out] = _clipped_lengths(a[out], b[out], width, height)
    distance = np.hypot(*(sites[i] - sites[j]).T)
    coupling = length / (2.0 * np.maximum(distance, 1e-12))
    return _Diagram(xy, offsets, polygon_areas(xy, offsets), i, j, coupling)


def _clip_cells(xy: np.ndarray, offsets: np.ndarray, width: float, height: float,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Clip to the box only the cells with a vertex outside it."""
    n = offsets.shape[0] - 1
    outside = (xy[:, 0] < 0) | (xy[:, 0] > width) | (xy[:, 1] < 0) | (xy[:, 1] > height)
    if not outside.any():
        return xy, offsets
    owner = np.repeat(np.arange(n), np.diff(offsets))
    bad = np.zeros(n, bool)
    bad[owner[outside]] = True
    rows = np.flatnonzero(bad)
    clipped_xy, clipped_offsets = clip_polygons_to_rect(*csr_take(xy, offsets, rows),
                                                        width, height)
    counts = np.diff(offsets)
    counts[rows] = np.diff(clipped_offsets)
    new_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=new_offsets[1:])
    out = np.empty((int(new_offsets[-1]), 2))
    kept = np.flatnonzero(~bad[owner])
    out[new_offsets[owner[kept]] + kept - offsets[owner[kept]]] = xy[kept]
    moved = np.repeat(new_offsets[rows] - clipped_offsets[:-1], np.diff(clipped_offsets))
    out[moved + np.arange(clipped_xy.shape[0])] = clipped_xy
    return out, new_offsets


def _clipped_lengths(a: np.ndarray, b: np.ndarray, width: float, height: float) -> np.ndarray:
    """Lengths of the parts of segments ``a → b`` ``(m, 2)`` inside the box (Liang–Barsky)."""
    d = b - a
    enter = np.zeros(a.shape[0])
    leave = np.ones(a.shape[0])
    for p, q in ((-d[:, 0], a[:, 0]), (d[:, 0], width - a[:, 0]), (-d[:, 1], a[:, 1]),
                 (d[:, 1], height - a[:, 1])):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = q / p
        enter = np.where(p < 0, np.maximum(enter, r), enter)
        leave = np.where(p > 0, np.minimum(leave, r), leave)
        leave = np.where((p == 0) & (q < 0), -1.0, leave)
    return np.asarray(np.maximum(leave - enter, 0.0) * np.hypot(d[:, 0], d[:, 1]))


def _drop_repeated_vertices(xy: np.ndarray, offsets: np.ndarray, tol: float,
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Remove vertices within ``tol`` of their predecessor (near-cocircular sites give
    several power vertices at one point; clipping repeats corners)."""
    n = offsets.shape[0] - 1
    owner = np.repeat(np.arange(n), np.diff(offsets))
    prev = np.arange(xy.shape[0]) - 1
    first = prev < offsets[:-1][owner]
    prev[first] = offsets[1:][owner[first]] - 1
    keep = np.hypot(*(xy - xy[prev]).T) > tol
    new_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(owner[keep], minlength=n), out=new_offsets[1:])
    return xy[keep], new_offsets


def query_position(cmap: ClusterMap, probed: np.ndarray, probed_distances: np.ndarray,
                   metric: str) -> np.ndarray:
    """``(2,) float32`` where to draw the query on the map: inside the nearest list's cell,
    pulled towards the other probed cells in proportion to how close they are."""
    centers = cmap.centers[probed].astype(np.float64)
    if centers.shape[0] == 1:
        return np.asarray(centers[0], dtype=np.float32)
    d = np.asarray(probed_distances, np.float64)
    closeness = (d - d.min()) if metric == "ip" else (d.max() - d)
    weights = closeness / closeness.sum() if closeness.sum() > 0 else np.ones_like(d) / d.size
    pull = (weights[:, None] * centers).sum(axis=0)
    return np.asarray(0.75 * centers[0] + 0.25 * pull, dtype=np.float32)


def nearest_members(vectors: np.ndarray, ids: np.ndarray, centroid: np.ndarray, count: int,
                    metric: str) -> np.ndarray:
    """``(≤count,) int64`` ids of the list members closest to the centroid, closest first.

    ``vectors``: ``(size, d) float32`` and ``ids``: ``(size,) int64`` of one list.
    """
    if ids.size == 0:
        return np.empty(0, np.int64)
    if metric == "ip":
        keys = -(vectors @ centroid)
    else:
        diff = vectors - centroid
        keys = np.einsum("ij,ij->i", diff, diff)
    take = min(count, ids.size)
    part = np.argpartition(keys, take - 1)[:take] if take < ids.size else np.arange(ids.size)
    return np.asarray(ids[part[np.argsort(keys[part], kind="stable")]], dtype=np.int64)
