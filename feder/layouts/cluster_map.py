"""The IVF overview: one convex cell per inverted list, area following the list size,
similar centroids near each other.

1. Centroids go to 2-D by PCA (deterministic) and a k-d treemap splits the canvas recursively
   along that projection, so each list gets a rectangle of exactly its share of the area and
   neighbouring rectangles hold similar centroids.
2. A power diagram (weighted Voronoi, computed as the lower convex hull of lifted points)
   seeded at the rectangle centres is refined a few dozen rounds, moving sites to their cell
   centroids and adapting weights until each cell's area matches its target. Cells stay convex
   and readable; if qhull cannot triangulate (fewer than 3 lists, degenerate input), the
   treemap rectangles are used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import clip_convex_to_rect, pca_2d, polygon_areas, polygon_centroids


@dataclass(frozen=True, eq=False)
class ClusterMap:
    """Cells as CSR polygons in a ``width × height`` box (y down, like a canvas).

    ``xy``: ``(v, 2) float32`` vertices; ``offsets``: ``(nlist + 1,) int64``;
    ``centers``: ``(nlist, 2) float32`` area centroids; ``areas``/``targets``:
    ``(nlist,) float64`` achieved and wanted areas.
    """

    width: float
    height: float
    xy: np.ndarray
    offsets: np.ndarray
    centers: np.ndarray
    areas: np.ndarray
    targets: np.ndarray

    @property
    def max_area_error(self) -> float:
        """Largest area error, relative to ``max(target, mean target)``."""
        return _error(self.areas, self.targets) if self.targets.size else 0.0


def cluster_map(centroids: np.ndarray, sizes: np.ndarray, width: float = 800.0,
                height: float = 500.0, iterations: int | None = None, tolerance: float = 0.03,
                ) -> ClusterMap:
    """Lay out ``nlist`` clusters.

    ``centroids``: ``(nlist, d) float32``; ``sizes``: ``(nlist,)`` list sizes. Empty lists get
    a small cell (2 % of the mean) so they can still be seen and clicked. ``iterations`` of the
    power-diagram refinement default to a count that keeps 4096 lists under a second.
    Deterministic: the same input gives the same cells.
    """
    if iterations is None:
        iterations = int(np.clip(80_000 // max(centroids.shape[0], 1), 20, 60))
    nlist = centroids.shape[0]
    sizes = np.asarray(sizes, dtype=np.float64)
    weights = sizes + 0.02 * max(float(sizes.mean()), 1.0)
    targets = weights / weights.sum() * (width * height)
    projected = pca_2d(centroids)
    rects = kd_treemap(projected, weights, width, height)
    rect_xy, rect_offsets = _rects_as_polygons(rects)
    best = (rect_xy, rect_offsets, polygon_areas(rect_xy, rect_offsets))
    if nlist >= 3:
        refined = _refine_power_diagram(rects, targets, width, height, iterations, tolerance)
        if refined is not None and _acceptable(refined[2], targets):
            best = refined
    xy, offsets, areas = best
    return ClusterMap(
        width=float(width),
        height=float(height),
        xy=xy.astype(np.float32),
        offsets=offsets,
        centers=polygon_centroids(xy, offsets).astype(np.float32),
        areas=areas,
        targets=targets,
    )


def _acceptable(areas: np.ndarray, targets: np.ndarray, typical: float = 0.05,
                worst: float = 0.5) -> bool:
    """Voronoi cells are preferred over rectangles when their areas are close enough: the
    median relative error within ``typical`` and :func:`_error` within ``worst``."""
    median = float(np.median(np.abs(areas - targets) / targets))
    return median <= typical and _error(areas, targets) <= worst


def _error(areas: np.ndarray, targets: np.ndarray) -> float:
    """Largest area error relative to the cell's target, or to the mean target for cells
    smaller than the mean (a tiny cell twice its size is still tiny on screen)."""
    return float(np.max(np.abs(areas - targets) / np.maximum(targets, targets.mean())))


def kd_treemap(points: np.ndarray, weights: np.ndarray, width: float, height: float,
               ) -> np.ndarray:
    """``(n, 4) float64`` rectangles ``(x0, y0, x1, y1)`` with areas ∝ ``weights`` ``(n,)``.

    The box is cut along its longer side; points ``(n, 2)`` are ordered along the matching
    projected axis and split where the weight halves, recursively. Nearby points get nearby
    rectangles.
    """
    n = points.shape[0]
    rects = np.zeros((n, 4))
    stack: list[tuple[np.ndarray, float, float, float, float]] = [
        (np.arange(n), 0.0, 0.0, float(width), float(height))]
    while stack:
        members, x0, y0, x1, y1 = stack.pop()
        if members.size == 1:
            rects[members[0]] = (x0, y0, x1, y1)
            continue
        horizontal = (x1 - x0) >= (y1 - y0)
        coord = points[members, 0 if horizontal else 1]
        order = members[np.lexsort((members, coord))]
        cum = np.cumsum(weights[order])
        cut = int(np.searchsorted(cum, cum[-1] / 2.0))
        cut = min(max(cut, 0), order.size - 2) + 1
        share = cum[cut - 1] / cum[-1]
        if horizontal:
            xm = x0 + (x1 - x0) * share
            stack.append((order[:cut], x0, y0, xm, y1))
            stack.append((order[cut:], xm, y0, x1, y1))
        else:
            ym = y0 + (y1 - y0) * share
            stack.append((order[:cut], x0, y0, x1, ym))
            stack.append((order[cut:], x0, ym, x1, y1))
    return rects


def _rects_as_polygons(rects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = rects.T
    xy = np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1),
                   np.stack([x0, y1], 1)], axis=1).reshape(-1, 2)
    return xy, np.arange(0, 4 * rects.shape[0] + 1, 4, dtype=np.int64)


def _refine_power_diagram(rects: np.ndarray, targets: np.ndarray, width: float, height: float,
                          iterations: int, tolerance: float,
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Adapt sites and weights of a power diagram until cell areas match ``targets``."""
    from scipy.spatial import cKDTree

    sites = np.stack([(rects[:, 0] + rects[:, 2]) / 2, (rects[:, 1] + rects[:, 3]) / 2], 1)
    radius = 0.25 * np.sqrt(targets)
    best: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    best_error = np.inf
    for _ in range(iterations):
        cells = power_cells(sites, radius**2, width, height)
        if cells is None:
            return best
        xy, offsets = cells
        areas = polygon_areas(xy, offsets)
        error = _error(areas, targets)
        if error < best_error:
            best, best_error = (xy, offsets, areas), error
        if error <= tolerance or _acceptable(areas, targets, typical=0.02, worst=0.3):
            break
        alive = areas > 0
        sites[alive] = polygon_centroids(xy, offsets)[alive]
        ratio = np.sqrt(targets / np.maximum(areas, 1e-9 * targets))
        radius = radius * np.clip(ratio, 0.7, 1.4)
        # A weight larger than the squared distance to a neighbour swallows its cell.
        nearest = cKDTree(sites).query(sites, k=2)[0][:, 1]
        radius = np.minimum(radius, 0.95 * nearest)
    return best


def power_cells(sites: np.ndarray, weights: np.ndarray, width: float, height: float,
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Power-diagram cells of ``sites`` ``(n, 2)`` with ``weights`` ``(n,)``, clipped to the box.

    Returns CSR polygons ``(xy (v, 2) float64, offsets (n + 1,) int64)``, counter-clockwise
    in y-up terms; a site whose cell is empty gets no vertices. ``None`` if qhull fails.
    """
    from scipy.spatial import ConvexHull, QhullError

    n = sites.shape[0]
    far = 10.0 * max(width, height)
    frame = np.array([[-far, -far], [width + far, -far], [width + far, height + far],
                      [-far, height + far]])
    points = np.vstack([sites, frame])
    lifted = np.column_stack([points, (points**2).sum(1) - np.concatenate([weights, np.zeros(4)])])
    try:
        hull = ConvexHull(lifted)
    except (QhullError, ValueError):
        return None
    lower = hull.equations[:, 2] < 0
    eq = hull.equations[lower]
    centers = -eq[:, :2] / (2.0 * eq[:, 2:3])
    simplices = hull.simplices[lower]
    site_of = simplices.ravel()
    vertex_of = np.repeat(np.arange(simplices.shape[0]), 3)
    real = site_of < n
    site_of, vertex_of = site_of[real], vertex_of[real]
    counts = np.bincount(site_of, minlength=n)
    mean = np.stack([np.bincount(site_of, centers[vertex_of, 0], minlength=n),
                     np.bincount(site_of, centers[vertex_of, 1], minlength=n)], 1
                    ) / np.maximum(counts, 1)[:, None]
    angle = np.arctan2(centers[vertex_of, 1] - mean[site_of, 1],
                       centers[vertex_of, 0] - mean[site_of, 0])
    order = np.lexsort((angle, site_of))
    xy = centers[vertex_of[order]]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])

    outside = (xy[:, 0] < 0) | (xy[:, 0] > width) | (xy[:, 1] < 0) | (xy[:, 1] > height)
    if not outside.any():
        return xy, offsets
    owner = np.repeat(np.arange(n), counts)
    clipped: dict[int, np.ndarray] = {}
    for i in np.unique(owner[outside]).tolist():
        vertices = [(float(a), float(b)) for a, b in xy[offsets[i] : offsets[i + 1]]]
        clipped[i] = np.asarray(clip_convex_to_rect(vertices, width, height)).reshape(-1, 2)
    new_counts = counts.copy()
    for i, cell in clipped.items():
        new_counts[i] = cell.shape[0]
    new_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(new_counts, out=new_offsets[1:])
    out = np.empty((int(new_offsets[-1]), 2))
    keep = ~np.isin(owner, list(clipped))
    rows = np.flatnonzero(keep)
    out[new_offsets[owner[rows]] + rows - offsets[owner[rows]]] = xy[rows]
    for i, cell in clipped.items():
        out[new_offsets[i] : new_offsets[i + 1]] = cell
    return out, new_offsets


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
