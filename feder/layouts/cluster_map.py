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
   Cells are convex, tile the box, and have their target areas to ``tolerance``. qhull
   computes the first triangulation; later steps usually only flip a few edges of it (Lawson
   flips in the lifted space), which costs less than a new hull.
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


# Tightest conjugate-gradient tolerance of a Newton step (looser stalls on smooth modes);
# far from the solution it is loosened to 0.01 × the area error, at most 1e-2.
_CG_RTOL = 1e-4
# Initial weight per unit of rectangle area (the best of 0 … 0.25 in diagrams needed).
_ALPHA = 0.125
# Every cell, tiny ones included, ends within this many ``tolerance`` of its own target.
_OWN = 5.0
# At most n / _FLIPS_PER edge flips update a triangulation; more start a new hull.
_FLIPS_PER = 8
# A Newton step damped below this makes the next solve tight (its direction was poor).
_TIGHT_BELOW = 0.5


class _Triangulation(NamedTuple):
    """The regular triangulation behind a power diagram (the lower hull of the lifted sites
    and the four frame points) and what turning it into cells needs. It stays valid for new
    weights as long as it stays regular, which Newton's last steps usually keep.

    ``points``: ``(n + 4, 2)`` sites then frame, centred on the box; ``triangles``: ``(m, 3)``
    indices into ``points``; ``neighbours``: ``(m, 3)`` the triangle across the edge opposite
    each corner (−1 on the rim); ``cell_facet``: the triangle of each cell vertex, cells in site
    order, each cycled by angle, with ``counts`` vertices per cell; ``edge_*``: each edge
    between two sites — the triangles on its two sides and the two sites; ``check_*``: each
    interior edge — a triangle, its corner opposite the edge (position), one of its corners on
    the edge, the corner across it.
    """

    points: np.ndarray
    triangles: np.ndarray
    neighbours: np.ndarray
    cell_facet: np.ndarray
    counts: np.ndarray
    edge_f: np.ndarray
    edge_g: np.ndarray
    edge_i: np.ndarray
    edge_j: np.ndarray
    check_t: np.ndarray
    check_k: np.ndarray
    check_a: np.ndarray
    check_l: np.ndarray
    reusable: bool  # simplicial (joggled) output; qhull's merged "Qt" output can repeat triangles


class _Diagram(NamedTuple):
    """A power diagram clipped to the box: CSR cells, their areas, and the shared edges
    ``(i, j)`` with ``coupling = |e_ij| / (2 |s_i - s_j|)`` (the Jacobian's off-diagonal)."""

    xy: np.ndarray
    offsets: np.ndarray
    areas: np.ndarray
    edge_i: np.ndarray
    edge_j: np.ndarray
    coupling: np.ndarray
    triangulation: _Triangulation


def _solve_power_diagram(rects: np.ndarray, targets: np.ndarray, width: float, height: float,
                         iterations: int, tolerance: float,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Weights of a power diagram on the rectangle centres whose cells have ``targets`` areas
    (damped Newton on the semi-discrete transport problem); ``None`` if it fails."""
    sites = np.stack([(rects[:, 0] + rects[:, 2]) / 2, (rects[:, 1] + rects[:, 3]) / 2], 1)
    order = _spatial_order(sites, width, height)
    group = np.empty(sites.shape[0], np.int64)  # aggregates of 16 for the coarse grid
    group[order] = np.arange(sites.shape[0]) // 16
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
    last_step, first = 1.0, True
    for _ in range(iterations + 1):
        residual = targets - diagram.areas
        error = _error(diagram.areas, targets)
        if (error <= tolerance
                and float(np.max(np.abs(residual) / targets)) <= _OWN * tolerance):
            xy, offsets = _drop_repeated_vertices(diagram.xy, diagram.offsets,
                                                  1e-6 * max(width, height))
            return xy, offsets, polygon_areas(xy, offsets)
        # inexact Newton: a looser solve while far from the solution and making progress
        loose = float(np.clip(0.01 * error, _CG_RTOL, 1e-2))
        rtol = loose if last_step >= _TIGHT_BELOW else _CG_RTOL
        direction = _newton_direction(diagram, residual, rtol, group)
        if direction is None:
            return None
        size = float(np.linalg.norm(residual))
        # far off (cells wrong by twice the mean cell or more) the full step is rarely kept;
        # after a damped step, start near the step that was kept
        step = (1.0 if error <= 2.0 else 0.5) if first else min(1.0, 4.0 * last_step)
        first = False
        while True:
            trial = _power_diagram(sites, weights + step * direction, width, height, order,
                                   diagram.triangulation)
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
        last_step = step
    return None


def _newton_direction(diagram: _Diagram, residual: np.ndarray, rtol: float,
                      group: np.ndarray) -> np.ndarray | None:
    """Solve ``J δ = residual`` for the weight step, ``J`` the area Jacobian (a weighted graph
    Laplacian, singular along constant weights), by preconditioned conjugate gradients;
    ``None`` when they fail.

    Loose solves (far from the solution) use Jacobi; tight ones add a coarse-grid
    correction over ``group`` (sites aggregated along the Z-order curve, solved exactly),
    which cuts the iterations about sixfold at 16k sites.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import LinearOperator, cg, splu

    n = residual.shape[0]
    i, j, c = diagram.edge_i, diagram.edge_j, diagram.coupling
    degree = np.bincount(i, c, minlength=n) + np.bincount(j, c, minlength=n)
    shift = 1e-9 * max(float(degree.max()), 1e-300)
    diag = degree + shift
    every = np.arange(n)
    jac = coo_matrix((np.concatenate([-c, -c, diag]),
                      (np.concatenate([i, j, every]), np.concatenate([j, i, every]))),
                     shape=(n, n)).tocsr()
    inverse = 1.0 / diag

    def jacobi(v: np.ndarray) -> np.ndarray:
        return np.asarray(inverse * v)

    apply = jacobi
    groups = int(group.max()) + 1
    if rtol < 5e-3 and 1 < groups < n:
        gi, gj = group[i], group[j]
        cross = gi != gj
        gi, gj, gc = gi[cross], gj[cross], c[cross]
        coarse_diag = (np.bincount(gi, gc, minlength=groups)
                       + np.bincount(gj, gc, minlength=groups)
                       + np.bincount(group, minlength=groups) * shift * 1e3)
        every_g = np.arange(groups)
        coarse = coo_matrix((np.concatenate([-gc, -gc, coarse_diag]),
                             (np.concatenate([gi, gj, every_g]),
                              np.concatenate([gj, gi, every_g]))),
                            shape=(groups, groups)).tocsc()
        try:
            factor = splu(coarse)
        except RuntimeError:
            factor = None
        if factor is not None:
            def two_level(v: np.ndarray) -> np.ndarray:
                rhs = np.bincount(group, v, minlength=groups)
                solved = factor.solve(rhs - rhs.mean())
                return np.asarray(inverse * v + (solved - solved.mean())[group])

            apply = two_level
    precondition = LinearOperator((n, n), matvec=apply, dtype=np.float64)
    step, info = cg(jac, residual - residual.mean(), rtol=rtol, maxiter=20 * n + 100,
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
                   order: np.ndarray, previous: _Triangulation | None = None,
                   ) -> _Diagram | None:
    """The power diagram of ``sites`` (inside the box) with ``weights``: ``previous``'s
    triangulation if it is still regular for these weights, else qhull's lower hull of the
    lifted points ``(x, y, x² + y² − w)`` (fed in ``order``); ``None`` if qhull fails."""
    origin = np.array([width / 2.0, height / 2.0])
    if previous is not None and previous.reusable:
        # Newton's steps move few edges: flip those instead of a new hull
        points = previous.points
        lifted_z = _lifted_z(points, weights)
        tri: _Triangulation | None = previous
        vertices = _power_vertices(points, lifted_z, previous.triangles)
        illegal = _illegal_edges(previous, lifted_z, vertices)
        if illegal.any():
            # a few hundred Python flips cost about one hull of 16k sites
            limit = max(32, sites.shape[0] // _FLIPS_PER)
            flipped = (_flip_to_regular(previous, lifted_z, illegal, limit)
                       if np.count_nonzero(illegal) <= limit // 2 else None)
            tri = None
            if flipped is not None:
                vertices = _power_vertices(points, lifted_z, flipped[0])
                if np.isfinite(vertices).all():
                    tri = _assemble(points, *flipped, vertices, True)
        if tri is not None and np.isfinite(vertices).all():
            diagram = _cells(tri, vertices + origin, sites, width, height)
            if abs(float(diagram.areas.sum()) - width * height) <= 1e-9 * width * height:
                return diagram
    # Four far points close the diagram. For x in the box, a site's power distance is at most
    # diagonal² (weights ≥ 0) and a frame point's at least (far − max(w, h)/2)², so the frame
    # cells never reach the box; nearer frame points keep the lifted coordinates small.
    far = 0.5 * max(width, height) + 1.5 * float(np.hypot(width, height))
    frame = np.array([[-far, -far], [far, -far], [far, far], [-far, far]])
    points = np.vstack([sites - origin, frame])  # by label: sites, then the frame
    lifted_z = _lifted_z(points, weights)
    made = _triangulate(points, lifted_z, order)
    if made is None:
        return None
    triangulation, vertices = made
    return _cells(triangulation, vertices + origin, sites, width, height)


def _lifted_z(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``x² + y² − w`` with weights shifted to a minimum of 0 (the frame's weight)."""
    n = weights.shape[0]
    shifted = np.concatenate([weights - weights.min(), np.zeros(points.shape[0] - n)])
    return np.asarray((points**2).sum(1) - shifted)


def _power_vertices(points: np.ndarray, lifted_z: np.ndarray, triangles: np.ndarray,
                    ) -> np.ndarray:
    """The power vertex of each triangle ``(i, j, k)``: the point ``c`` with equal power
    distance to its three sites, ``2c·(p_j − p_i) = z_j − z_i`` (Cramer's rule)."""
    d1 = points[triangles[:, 1]] - points[triangles[:, 0]]
    d2 = points[triangles[:, 2]] - points[triangles[:, 0]]
    r1 = (lifted_z[triangles[:, 1]] - lifted_z[triangles[:, 0]]) / 2.0
    r2 = (lifted_z[triangles[:, 2]] - lifted_z[triangles[:, 0]]) / 2.0
    det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack([(r1 * d2[:, 1] - r2 * d1[:, 1]) / det,
                         (d1[:, 0] * r2 - d2[:, 0] * r1) / det], axis=1)


def _illegal_edges(tri: _Triangulation, lifted_z: np.ndarray, vertices: np.ndarray,
                   ) -> np.ndarray:
    """Per interior edge (``tri.check_*``): is it not locally regular — does the corner across
    it have a smaller power distance at the triangle's power vertex than the triangle's own
    corners? (With none, the triangulation is the regular one and no site is hidden.)"""
    c = vertices[tri.check_t]
    p_a, p_l = tri.points[tri.check_a], tri.points[tri.check_l]
    own = lifted_z[tri.check_a] - 2.0 * (c * p_a).sum(1)
    across = lifted_z[tri.check_l] - 2.0 * (c * p_l).sum(1)
    slack = 1e-12 * float(np.abs(lifted_z).max())
    return np.asarray(across < own - slack)


def _triangulate(points: np.ndarray, lifted_z: np.ndarray, order: np.ndarray,
                 ) -> tuple[_Triangulation, np.ndarray] | None:
    """qhull's lower hull of the lifted points, with its power vertices (centred)."""
    from scipy.spatial import ConvexHull, QhullError

    n = points.shape[0] - 4
    label = np.concatenate([order, np.arange(n, n + 4)])
    lifted = np.column_stack([points[label], lifted_z[label]])
    found = None
    # "QJ" joggles the input by ~1e-11 of its range instead of merging coplanar facets:
    # twice as fast, simplicial, deterministic (qhull's fixed default seed). "Qbb" scales the
    # lifted coordinate to the others' range (without it the joggle can hide sites a fraction
    # of a pixel apart); "Pp" skips the precision report. If a cell comes out empty, the
    # exact (merging) hull decides whether it really is.
    for options in ("QJ Qbb Pp", "Qt Qbb Pp"):
        try:
            hull = ConvexHull(lifted, qhull_options=options)
        except (QhullError, ValueError):
            continue
        lower = hull.equations[:, 2] < 0  # a positive scale (Qbb) keeps the sign
        triangles = label[hull.simplices[lower]]
        vertices = _power_vertices(points, lifted_z, triangles)
        if not np.isfinite(vertices).all():
            continue
        found = (hull, lower, triangles, vertices, options.startswith("QJ"))
        if np.bincount(triangles.ravel(), minlength=n + 4)[:n].all():
            break
    if found is None:
        return None
    hull, lower, triangles, vertices, joggled = found
    index = np.full(lower.shape[0], -1, np.int64)
    index[lower] = np.arange(triangles.shape[0])
    neighbours = index[hull.neighbors[lower]]  # across the edge opposite each corner
    return _assemble(points, triangles, neighbours, vertices, joggled), vertices


def _assemble(points: np.ndarray, triangles: np.ndarray, neighbours: np.ndarray,
              vertices: np.ndarray, reusable: bool) -> _Triangulation:
    """The cell cycles, shared edges and regularity checks of a triangulation."""
    n = points.shape[0] - 4
    m = triangles.shape[0]
    # each cell's vertices: the power vertices of its triangles, cycled by angle
    site_of = triangles.ravel()
    facet_of = np.repeat(np.arange(m), 3)
    real = site_of < n
    site_of, facet_of = site_of[real], facet_of[real]
    counts = np.bincount(site_of, minlength=n)
    v = vertices[facet_of]
    safe = np.maximum(counts, 1)
    mean_x = np.bincount(site_of, v[:, 0], minlength=n) / safe
    mean_y = np.bincount(site_of, v[:, 1], minlength=n) / safe
    angle = np.arctan2(v[:, 1] - mean_y[site_of], v[:, 0] - mean_x[site_of])
    cell_facet = facet_of[np.argsort(site_of * 8.0 + angle)]

    edges = []
    checks = []
    rows = np.arange(m)
    for k in range(3):
        other = neighbours[:, k]
        a = triangles[:, (k + 1) % 3]
        b = triangles[:, (k + 2) % 3]
        inner = np.flatnonzero((other >= 0) & (rows < other))
        across = (neighbours[other[inner]] == inner[:, None]).argmax(axis=1)
        checks.append((inner, np.full(inner.size, k), a[inner],
                       triangles[other[inner], across]))
        both = inner[(a[inner] < n) & (b[inner] < n)]
        edges.append((both, other[both], a[both], b[both]))
    f, g, i, j = (np.concatenate(column) for column in zip(*edges, strict=True))
    t, ck, ca, cl = (np.concatenate(column) for column in zip(*checks, strict=True))
    return _Triangulation(points, triangles, neighbours, cell_facet, counts, f, g, i, j, t, ck,
                          ca, cl, reusable)


def _flip_to_regular(tri: _Triangulation, lifted_z: np.ndarray, illegal: np.ndarray,
                     limit: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Lawson flips from ``tri`` to the regular triangulation for new weights (lifted
    ``lifted_z``), starting from the ``illegal`` checks: ``(triangles, neighbours)``, or
    ``None`` when more than ``limit`` flips are needed or a site would have to disappear
    (a non-convex quadrilateral: qhull then starts afresh)."""
    pts: list[list[float]] = tri.points.tolist()
    z: list[float] = lifted_z.tolist()
    triangles = tri.triangles.copy()
    neighbours = tri.neighbours.copy()
    # rows touched so far, as lists (converting every row costs more than the flips)
    tris: dict[int, list[int]] = {}
    nbs: dict[int, list[int]] = {}

    def corners(t: int) -> list[int]:
        row = tris.get(t)
        if row is None:
            row = tris[t] = triangles[t].tolist()
            nbs[t] = neighbours[t].tolist()
        return row

    def across_of(t: int) -> list[int]:
        corners(t)
        return nbs[t]

    def power_vertex(a: int, b: int, c: int) -> tuple[float, float] | None:
        (ax, ay), (bx, by), (cx, cy) = pts[a], pts[b], pts[c]
        d1x, d1y, d2x, d2y = bx - ax, by - ay, cx - ax, cy - ay
        r1, r2 = (z[b] - z[a]) / 2.0, (z[c] - z[a]) / 2.0
        det = d1x * d2y - d1y * d2x
        if det == 0.0:
            return None
        return (r1 * d2y - r2 * d1y) / det, (d1x * r2 - d2x * r1) / det

    def orient(a: int, b: int, c: int) -> float:
        (ax, ay), (bx, by), (cx, cy) = pts[a], pts[b], pts[c]
        return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)

    slack = 1e-12 * float(np.abs(lifted_z).max())
    start = np.flatnonzero(illegal)
    stack = list(zip(tri.check_t[start].tolist(), tri.check_k[start].tolist(), strict=True))
    flips = 0
    while stack:
        t, k = stack.pop()
        u = across_of(t)[k]
        if u < 0:
            continue
        tt = corners(t)
        p, q, r = tt[k], tt[(k + 1) % 3], tt[(k + 2) % 3]
        uu, nu = corners(u), across_of(u)
        l_ = uu[nu.index(t)]
        c = power_vertex(p, q, r)
        if c is None:
            return None
        own = z[p] - 2.0 * (c[0] * pts[p][0] + c[1] * pts[p][1])
        across = z[l_] - 2.0 * (c[0] * pts[l_][0] + c[1] * pts[l_][1])
        if across >= own - slack:
            continue  # legal (again)
        # the diagonal p–l must cross q–r, else the quadrilateral is not convex
        if orient(p, l_, q) * orient(p, l_, r) >= 0 or orient(q, r, p) * orient(q, r, l_) >= 0:
            return None
        flips += 1
        if flips > limit:
            return None
        nt = nbs[t]
        n_tq, n_tr = nt[(k + 1) % 3], nt[(k + 2) % 3]  # across p–r, across p–q
        n_uq, n_ur = nu[uu.index(q)], nu[uu.index(r)]  # across r–l, across q–l
        tris[t], nbs[t] = [p, q, l_], [n_ur, u, n_tr]
        tris[u], nbs[u] = [p, l_, r], [n_uq, n_tq, t]
        if n_ur >= 0:
            row = across_of(n_ur)
            row[row.index(u)] = t
        if n_tq >= 0:
            row = across_of(n_tq)
            row[row.index(t)] = u
        stack += [(t, 0), (t, 2), (u, 0), (u, 1)]
    if tris:
        touched = np.fromiter(tris, np.int64, len(tris))
        triangles[touched] = np.asarray([tris[t] for t in touched.tolist()], np.int64)
        neighbours[touched] = np.asarray([nbs[t] for t in touched.tolist()], np.int64)
    return triangles, neighbours


def _cells(tri: _Triangulation, vertices: np.ndarray, sites: np.ndarray, width: float,
           height: float) -> _Diagram:
    """Cells, areas and Jacobian couplings of a triangulation's diagram; ``vertices``: the
    power vertices in box coordinates."""
    n = tri.counts.shape[0]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(tri.counts, out=offsets[1:])
    xy, offsets = _clip_cells(vertices[tri.cell_facet], offsets, width, height)
    a, b = vertices[tri.edge_f], vertices[tri.edge_g]
    length = np.hypot(*(b - a).T)
    # only segments with an end outside the box need clipping
    ends = np.concatenate([a, b], axis=1)
    out = np.flatnonzero((ends.min(1) < 0) | (ends[:, [0, 2]].max(1) > width)
                         | (ends[:, [1, 3]].max(1) > height))
    length[out] = _clipped_lengths(a[out], b[out], width, height)
    distance = np.hypot(*(sites[tri.edge_i] - sites[tri.edge_j]).T)
    coupling = length / (2.0 * np.maximum(distance, 1e-12))
    return _Diagram(xy, offsets, polygon_areas(xy, offsets), tri.edge_i, tri.edge_j,
                    coupling, tri)


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
