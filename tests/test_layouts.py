"""Layouts: shapes, no NaN, determinism, and the geometric promises each view makes."""

from __future__ import annotations

from pathlib import Path

import faiss
import hnswlib
import numpy as np
import pytest
from scipy.stats import spearmanr

import feder
from feder.layouts.cluster_map import (
    ClusterMap,
    cluster_map,
    kd_treemap,
    nearest_members,
    power_cells,
    query_position,
)
from feder.layouts.geometry import (
    clip_convex_to_rect,
    clip_polygons_to_rect,
    pca_2d,
    polygon_areas,
)
from feder.layouts.hnsw_graph import layered_overview, search_geometry, shown_levels
from feder.layouts.polar import polar_layout, radial_scale
from feder.layouts.projection import exact_knn, numba_cache_dir, project


@pytest.fixture(scope="module")
def ivf() -> feder.IVFFlatIndex:
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((12, 24)).astype("f4") * 4
    xb = (centers[rng.integers(0, 12, 3000)] + rng.standard_normal((3000, 24))).astype("f4")
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(24), 24, 48)
    index.train(xb)
    index.add(xb)
    return feder.load_index(index)


@pytest.fixture(scope="module")
def hnsw() -> feder.HNSWIndex:
    rng = np.random.default_rng(4)
    xb = rng.standard_normal((2000, 16)).astype("f4")
    index = hnswlib.Index("l2", 16)
    index.init_index(2000, M=6, ef_construction=40, random_seed=2)
    index.add_items(xb, np.arange(2000) + 10_000)
    return feder.load_index(index)


def test_polygon_area_of_unit_square_and_triangle() -> None:
    xy = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0], [2, 0], [0, 2]], float)
    areas = polygon_areas(xy, np.array([0, 4, 7]))
    np.testing.assert_allclose(areas, [1.0, 2.0])


def test_clip_keeps_inside_part_only() -> None:
    clipped = clip_convex_to_rect([(-1, -1), (3, -1), (3, 3), (-1, 3)], 2, 1)
    xy = np.array(clipped)
    assert polygon_areas(xy, np.array([0, len(xy)]))[0] == pytest.approx(2.0)
    assert xy.min() >= 0 and xy[:, 0].max() <= 2 and xy[:, 1].max() <= 1


def test_pca_is_deterministic_and_spreads_the_main_axis() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 10)) * np.array([10, 3] + [0.1] * 8)
    a, b = pca_2d(x), pca_2d(x[::-1])[::-1]
    np.testing.assert_allclose(a, b, atol=1e-9)
    assert a[:, 0].std() > 2 * a[:, 1].std()


def test_kd_treemap_areas_are_exact_and_tile_the_box() -> None:
    rng = np.random.default_rng(1)
    weights = rng.integers(1, 100, 37).astype(float)
    rects = kd_treemap(rng.standard_normal((37, 2)), weights, 800, 500)
    areas = (rects[:, 2] - rects[:, 0]) * (rects[:, 3] - rects[:, 1])
    np.testing.assert_allclose(areas, weights / weights.sum() * 800 * 500)
    assert rects.min() >= 0 and rects[:, 2].max() <= 800 and rects[:, 3].max() <= 500


def test_power_cells_without_weights_are_a_voronoi_tiling() -> None:
    rng = np.random.default_rng(2)
    sites = rng.random((50, 2)) * [400, 300]
    cells = power_cells(sites, np.zeros(50), 400, 300)
    assert cells is not None
    xy, offsets = cells
    assert polygon_areas(xy, offsets).sum() == pytest.approx(400 * 300, rel=1e-9)
    probes = rng.random((2000, 2)) * [400, 300]
    nearest = np.argmin(((probes[:, None] - sites[None]) ** 2).sum(-1), axis=1)
    # a probe lies inside its nearest site's cell (checked through the cell's half-planes)
    for p, site in zip(probes[:200], nearest[:200], strict=True):
        poly = xy[offsets[site] : offsets[site + 1]]
        edges = np.roll(poly, -1, axis=0) - poly
        cross = edges[:, 0] * (p[1] - poly[:, 1]) - edges[:, 1] * (p[0] - poly[:, 0])
        assert (cross >= -1e-6).all() or (cross <= 1e-6).all()


def test_cluster_map_areas_follow_list_sizes(ivf: feder.IVFFlatIndex) -> None:
    cmap = cluster_map(ivf.centroids, ivf.list_sizes, 700, 450)
    assert cmap.offsets.shape == (ivf.nlist + 1,)
    assert cmap.centers.shape == (ivf.nlist, 2)
    assert np.isfinite(cmap.xy).all() and np.isfinite(cmap.centers).all()
    assert cmap.xy[:, 0].min() >= -1e-3 and cmap.xy[:, 0].max() <= 700 + 1e-3
    assert cmap.xy[:, 1].min() >= -1e-3 and cmap.xy[:, 1].max() <= 450 + 1e-3
    assert cmap.areas.sum() == pytest.approx(700 * 450, rel=1e-6)
    rho = spearmanr(cmap.areas, ivf.list_sizes)[0]
    assert rho > 0.95, rho
    assert cmap.max_area_error < 0.5


def test_cluster_map_is_deterministic(ivf: feder.IVFFlatIndex) -> None:
    a = cluster_map(ivf.centroids, ivf.list_sizes, 700, 450)
    b = cluster_map(ivf.centroids.copy(), ivf.list_sizes.copy(), 700, 450)
    np.testing.assert_array_equal(a.xy, b.xy)
    np.testing.assert_array_equal(a.offsets, b.offsets)


def test_cluster_map_puts_similar_centroids_near_each_other(ivf: feder.IVFFlatIndex) -> None:
    cmap = cluster_map(ivf.centroids, ivf.list_sizes, 700, 450)
    c = ivf.centroids.astype(np.float64)
    vec_d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1))
    map_d = np.sqrt(((cmap.centers[:, None] - cmap.centers[None]) ** 2).sum(-1))
    iu = np.triu_indices(ivf.nlist, 1)
    assert spearmanr(vec_d[iu], map_d[iu])[0] > 0.3


@pytest.mark.parametrize("nlist", [1, 2, 3])
def test_cluster_map_with_very_few_lists(nlist: int) -> None:
    rng = np.random.default_rng(nlist)
    cmap = cluster_map(rng.standard_normal((nlist, 8)).astype("f4"), np.arange(1, nlist + 1),
                       300, 200)
    assert cmap.areas.sum() == pytest.approx(300 * 200, rel=1e-6)
    assert np.isfinite(cmap.xy).all()


def _synthetic_lists(nlist: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Centroids and list sizes like an IVF index's: ``uniform`` data gives even lists;
    ``clustered`` data gives blobs of centroids, skewed sizes (imbalance ≈ 2.7) and some
    empty lists."""
    rng = np.random.default_rng(nlist)
    if kind == "uniform":
        return rng.random((nlist, 32)).astype("f4"), rng.poisson(50, nlist)
    blobs = rng.standard_normal((16, 32)) * 4
    centroids = blobs[rng.integers(0, 16, nlist)] + rng.standard_normal((nlist, 32))
    sizes = np.round(rng.lognormal(0.0, 1.0, nlist) * 30).astype(np.int64)
    sizes[rng.random(nlist) < 0.05] = 0
    return centroids.astype("f4"), sizes


def _cells_tile_the_box(cmap: ClusterMap, probes: int = 3000) -> None:
    """Every cell is convex and inside the box, the areas add up to the box, and random
    points each fall in exactly one cell."""
    xy, offsets = cmap.xy.astype(np.float64), cmap.offsets
    w, h = cmap.width, cmap.height
    assert xy[:, 0].min() >= -1e-3 and xy[:, 0].max() <= w + 1e-3
    assert xy[:, 1].min() >= -1e-3 and xy[:, 1].max() <= h + 1e-3
    assert polygon_areas(xy, offsets).sum() == pytest.approx(w * h, rel=1e-5)
    counts = np.diff(offsets)
    assert counts.min() >= 3
    owner = np.repeat(np.arange(counts.size), counts)
    nxt = np.arange(xy.shape[0]) + 1
    wrap = nxt == offsets[1:][owner]
    nxt[wrap] = offsets[:-1][owner][wrap]
    edge = xy[nxt] - xy
    turn = edge[:, 0] * edge[nxt, 1] - edge[:, 1] * edge[nxt, 0]
    scale = np.hypot(*edge.T) * np.hypot(*edge[nxt].T)
    sign = np.sign(np.bincount(owner, turn))  # orientation of each cell
    assert (turn * sign[owner] >= -1e-4 * scale - 1e-6).all(), "a cell is not convex"
    rng = np.random.default_rng(0)
    points = rng.random((probes, 2)) * [w, h]
    lo = np.stack([np.minimum.reduceat(xy[:, 0], offsets[:-1]),
                   np.minimum.reduceat(xy[:, 1], offsets[:-1])], 1)
    hi = np.stack([np.maximum.reduceat(xy[:, 0], offsets[:-1]),
                   np.maximum.reduceat(xy[:, 1], offsets[:-1])], 1)
    for p in points:
        candidates = np.flatnonzero(((lo <= p) & (p <= hi)).all(1))
        inside = 0
        for c in candidates:
            poly = xy[offsets[c] : offsets[c + 1]]
            e = np.roll(poly, -1, axis=0) - poly
            cross = (e[:, 0] * (p[1] - poly[:, 1]) - e[:, 1] * (p[0] - poly[:, 0])) * sign[c]
            inside += bool((cross > 1e-7).all())
        assert inside == 1, (p, inside)


@pytest.mark.parametrize("kind", ["uniform", "clustered"])
@pytest.mark.parametrize("nlist", [1024, 16384])
def test_cluster_map_cells_are_a_converged_power_diagram(nlist: int, kind: str) -> None:
    centroids, sizes = _synthetic_lists(nlist, kind)
    cmap = cluster_map(centroids, sizes, 800, 500)
    assert cmap.method == "power"
    areas = polygon_areas(cmap.xy.astype(np.float64), cmap.offsets)
    # within 1 % of the target (of the mean target for the cells smaller than the mean),
    # and within 5 % of its own target for every cell, tiny ones included
    assert cmap.max_area_error <= 0.01
    wanted = sizes + 0.02 * sizes.mean()
    wanted = wanted / wanted.sum() * 800 * 500
    np.testing.assert_allclose(cmap.targets, wanted, rtol=1e-9)
    assert np.max(np.abs(areas - wanted) / np.maximum(wanted, wanted.mean())) <= 0.011
    assert np.max(np.abs(areas - wanted) / wanted) <= 0.05
    # real cells, not the treemap's axis-aligned rectangles
    counts = np.diff(cmap.offsets)
    assert np.mean(counts != 4) > 0.5
    edge = np.roll(cmap.xy, -1, axis=0) - cmap.xy
    slanted = (np.abs(edge) > 1e-3).all(axis=1)
    assert np.mean(slanted) > 0.5
    _cells_tile_the_box(cmap, probes=3000 if nlist <= 1024 else 600)


def test_cluster_map_power_diagram_is_deterministic() -> None:
    centroids, sizes = _synthetic_lists(1024, "clustered")
    a = cluster_map(centroids, sizes, 640, 400)
    b = cluster_map(centroids.copy(), sizes.copy(), 640, 400)
    assert a.method == b.method == "power"
    np.testing.assert_array_equal(a.xy, b.xy)
    np.testing.assert_array_equal(a.offsets, b.offsets)


def test_cluster_map_keeps_neighbouring_lists_together_at_scale() -> None:
    centroids, sizes = _synthetic_lists(1024, "clustered")
    cmap = cluster_map(centroids, sizes, 800, 500)
    rng = np.random.default_rng(1)
    pairs = rng.integers(0, 1024, (4000, 2))
    c = centroids.astype(np.float64)
    vec_d = np.linalg.norm(c[pairs[:, 0]] - c[pairs[:, 1]], axis=1)
    map_d = np.linalg.norm(cmap.centers[pairs[:, 0]] - cmap.centers[pairs[:, 1]], axis=1)
    assert spearmanr(vec_d, map_d)[0] > 0.3
    # each cell's nearest cell on the map holds one of its closest centroids
    m = cmap.centers.astype(np.float64)
    map_sq = (m**2).sum(1)[:, None] + (m**2).sum(1)[None] - 2 * m @ m.T
    np.fill_diagonal(map_sq, np.inf)
    nearest_on_map = map_sq.argmin(1)
    vec_sq = (c**2).sum(1)[:, None] + (c**2).sum(1)[None] - 2 * c @ c.T
    np.fill_diagonal(vec_sq, np.inf)
    rank = (vec_sq < vec_sq[np.arange(1024), nearest_on_map][:, None]).sum(1)
    assert np.median(rank) <= 64  # of 1023 other lists (random: ~511)


@pytest.mark.parametrize("sizes", [[0, 0, 0, 0, 0], [1, 0, 0, 0, 10_000], [5, 5, 5, 5, 5]])
def test_cluster_map_small_and_skewed_inputs_converge(sizes: list[int]) -> None:
    rng = np.random.default_rng(len(sizes))
    cmap = cluster_map(rng.standard_normal((5, 8)).astype("f4"), np.array(sizes), 300, 200)
    assert cmap.method == "power" and cmap.max_area_error <= 0.01
    _cells_tile_the_box(cmap, probes=500)


def test_cluster_map_converges_with_one_list_holding_almost_everything() -> None:
    rng = np.random.default_rng(11)
    sizes = np.r_[100_000, rng.integers(0, 10, 999)]  # one cell takes 95 % of the box
    cmap = cluster_map(rng.random((1000, 8)).astype("f4"), sizes, 800, 500)
    assert cmap.method == "power" and cmap.max_area_error <= 0.01
    _cells_tile_the_box(cmap, probes=500)


def test_clip_polygons_to_rect_matches_the_single_polygon_clip() -> None:
    rng = np.random.default_rng(8)
    polys = []
    for _ in range(40):
        centre = rng.random(2) * [300, 200] - 50
        angles = np.sort(rng.random(rng.integers(3, 9)) * 2 * np.pi)
        polys.append(centre + 80 * rng.random() * np.stack([np.cos(angles), np.sin(angles)], 1))
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in polys])])
    xy, out_offsets = clip_polygons_to_rect(np.vstack(polys), offsets, 200, 100)
    for k, poly in enumerate(polys):
        expected = np.asarray(clip_convex_to_rect([tuple(v) for v in poly], 200, 100))
        got = xy[out_offsets[k] : out_offsets[k + 1]]
        assert got.shape == expected.reshape(-1, 2).shape
        np.testing.assert_allclose(got, expected.reshape(-1, 2), atol=1e-9)


def test_query_position_lies_near_the_nearest_cell(ivf: feder.IVFFlatIndex) -> None:
    cmap = cluster_map(ivf.centroids, ivf.list_sizes, 700, 450)
    trace = ivf.search_by_id(40, k=5, nprobe=6)
    assert trace.coarse is not None
    xy = query_position(cmap, trace.coarse.probed_lists, trace.coarse.probed_distances, "l2")
    first = cmap.centers[trace.coarse.probed_lists[0]]
    others = cmap.centers[trace.coarse.probed_lists[1:]]
    assert np.linalg.norm(xy - first) <= np.linalg.norm(others - first, axis=1).max()


def test_nearest_members_are_sorted_by_distance_to_centroid(ivf: feder.IVFFlatIndex) -> None:
    lst = int(np.argmax(ivf.list_sizes))
    ids = nearest_members(ivf.list_vectors(lst), ivf.list_ids(lst), ivf.centroids[lst], 9, "l2")
    d = [float(((ivf.vector(i) - ivf.centroids[lst]) ** 2).sum()) for i in ids]
    assert d == sorted(d) and len(ids) == 9
    every = ((ivf.list_vectors(lst) - ivf.centroids[lst]) ** 2).sum(1)
    assert d[0] == pytest.approx(float(every.min()), rel=1e-5)


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_polar_puts_the_top_k_at_the_smallest_radii(metric: str) -> None:
    rng = np.random.default_rng(5)
    d = 24
    xb = rng.standard_normal((2000, d)).astype("f4")
    quantizer = faiss.IndexFlatL2(d) if metric == "l2" else faiss.IndexFlatIP(d)
    faiss_metric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    index = faiss.IndexIVFFlat(quantizer, d, 16, faiss_metric)
    index.train(xb)
    index.add(xb)
    idx = feder.load_index(index)
    trace = idx.search(rng.standard_normal(d), k=7, nprobe=4)
    assert trace.fine is not None and trace.coarse is not None
    fine = trace.fine
    q = trace.query
    scale = radial_scale(fine.candidate_distances, float(q @ q) if metric == "ip" else 0.0,
                         squared_l2=metric == "l2", larger_is_closer=metric == "ip")
    polar = polar_layout(fine.candidate_lists, fine.candidate_distances,
                         trace.coarse.probed_lists, scale)
    m = fine.candidate_ids.size
    assert polar.xy.shape == (m, 2) and np.isfinite(polar.xy).all()
    radius = np.hypot(polar.xy[:, 0], polar.xy[:, 1])
    np.testing.assert_allclose(radius, polar.radius, atol=1e-5)
    top = fine.result_positions
    rest = np.setdiff1d(np.arange(m), top)
    assert radius[top].max() <= radius[rest].min() + 1e-6
    assert (np.diff(radius[top]) >= -1e-6).all()
    # each candidate sits inside its list's sector
    angle = np.arctan2(polar.xy[:, 1], polar.xy[:, 0])
    for lst, start, end in zip(polar.sector_lists, polar.sector_start, polar.sector_end,
                               strict=True):
        members = fine.candidate_lists == lst
        a = np.mod(angle[members] - start, 2 * np.pi)
        assert (a <= (end - start) + 1e-5).all()


def test_radial_scale_starts_at_an_absolute_zero() -> None:
    # squared L2: radius = Euclidean distance / the farthest one; a far nearest match
    # (d = 1.16, no self-match) stays away from the centre
    scale = radial_scale(np.array([4.0, 1.16, 9.0]), 0.0, squared_l2=True,
                         larger_is_closer=False)
    r = scale.radius(np.array([4.0, 1.16, 9.0, 0.0]))
    np.testing.assert_allclose(r, [2 / 3, np.sqrt(1.16) / 3, 1.0, 0.0])
    np.testing.assert_allclose(scale.distance(r), [4.0, 1.16, 9.0, 0.0])
    # inner product: larger is closer, the centre is the query's own score ‖q‖² = 2
    ip = radial_scale(np.array([1.5, 0.5, -1.0]), 2.0, squared_l2=False, larger_is_closer=True)
    np.testing.assert_allclose(ip.radius(np.array([1.5, 0.5, -1.0, 2.0])),
                               [0.5 / 3, 1.5 / 3, 1.0, 0.0])
    # a candidate beating the query's own score moves the centre to it (never off-scale)
    beat = radial_scale(np.array([2.5, 0.5]), 2.0, squared_l2=False, larger_is_closer=True)
    assert beat.zero == 2.5 and beat.radius(np.array([2.5]))[0] == 0.0
    # monotone in distance
    d = np.sort(np.random.default_rng(0).random(50) * 7)
    assert (np.diff(scale.radius(d)) >= 0).all()
    assert scale.to_payload() == {"kind": "sqrt", "zero": 0.0, "span": 3.0,
                                  "larger_is_closer": False}


def test_projection_pca_is_normalized_and_deterministic() -> None:
    rng = np.random.default_rng(6)
    vectors = rng.standard_normal((300, 32)).astype("f4")
    a = project(vectors, vectors[0], "pca")
    b = project(vectors, vectors[0], "pca")
    assert a.shape == (301, 2) and np.isfinite(a).all()
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[-1], a[0], atol=1e-6)  # the query is candidate 0


def test_projection_rejects_unknown_method() -> None:
    with pytest.raises(feder.ParameterError, match="projectMethod"):
        project(np.zeros((5, 3), "f4"), np.zeros(3, "f4"), "tsne")


@pytest.mark.slow
def test_projection_umap_is_seeded() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((120, 16)).astype("f4")
    a = project(vectors, vectors[3], "umap", seed=1)
    b = project(vectors, vectors[3], "umap", seed=1)
    assert a.shape == (121, 2) and np.isfinite(a).all()
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_exact_knn_matches_brute_force_itself_first() -> None:
    rng = np.random.default_rng(8)
    points = rng.standard_normal((257, 12)).astype("f4")
    points[5] = points[9]  # a duplicate: each still lists itself first
    idx, dist = exact_knn(points, 7)
    assert idx.shape == dist.shape == (257, 7) and idx.dtype == np.int32
    assert (idx[:, 0] == np.arange(257)).all() and (dist[:, 0] == 0).all()
    assert idx[5, 1] == 9 and idx[9, 1] == 5 and dist[5, 1] == 0
    full = np.linalg.norm(points[:, None].astype(np.float64) - points[None], axis=2)
    np.fill_diagonal(full, -1.0)
    want = np.sort(full, axis=1)[:, :7]
    want[:, 0] = 0.0
    np.testing.assert_allclose(dist, want, atol=1e-4)
    np.testing.assert_allclose(np.take_along_axis(np.maximum(full, 0), idx.astype(np.int64), 1),
                               dist, atol=1e-4)
    assert exact_knn(points[:3], 15)[0].shape == (3, 3)  # k capped at n


def test_numba_cache_dir_set_only_when_unset(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    import sys

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/else")
    assert numba_cache_dir() is None
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    assert numba_cache_dir() == str(tmp_path / "feder" / "numba")
    assert (tmp_path / "feder" / "numba").is_dir()
    import os

    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "feder" / "numba")
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setitem(sys.modules, "numba", object())  # numba already configured itself
    assert numba_cache_dir() is None


def test_shown_levels() -> None:
    assert shown_levels((1000, 300, 60, 9, 2, 1), 3) == (4, 3, 2)  # level 5: entry alone
    assert shown_levels((1000, 300, 60), 3) == (2, 1)
    assert shown_levels((1000, 300, 1), 2) == (1,)
    assert shown_levels((1000,), 3) == (0,)


def test_layered_overview_inherits_positions(hnsw: feder.HNSWIndex) -> None:
    ov = layered_overview(hnsw, 3)
    assert ov.levels[0] == max(lv for lv, c in enumerate(ov.level_counts) if c >= 2)
    assert ov.xy.shape == (ov.nodes.size, 2) and np.isfinite(ov.xy).all()
    assert ov.xy.min() >= 0 and ov.xy.max() <= 1
    lowest = ov.levels[-1]
    np.testing.assert_array_equal(ov.nodes, hnsw.graphs[lowest].nodes)
    for level, src, dst in zip(ov.levels, ov.edge_src, ov.edge_dst, strict=True):
        # every edge joins two nodes that live on that level
        assert (ov.top_level[src] >= level).all() and (ov.top_level[dst] >= level).all()
        assert src.size == hnsw.graphs[level].neighbors.size
    assert ov.level_counts[0] == hnsw.ntotal
    assert list(ov.level_counts) == sorted(ov.level_counts, reverse=True)
    again = layered_overview(hnsw, 3)
    np.testing.assert_array_equal(ov.xy, again.xy)


def test_search_geometry_centres_the_query(hnsw: feder.HNSWIndex) -> None:
    trace = hnsw.search_by_id(10_040, k=5, ef=24)
    geo = search_geometry(hnsw, trace)
    assert geo.xy.shape == (geo.nodes.size, 2) and np.isfinite(geo.xy).all()
    radius = np.hypot(geo.xy[:, 0], geo.xy[:, 1])
    assert radius.max() <= 1 + 1e-6
    # results are the closest visited nodes, so they sit on the innermost radii
    res = geo.results
    others = np.setdiff1d(np.arange(geo.nodes.size), res)
    assert radius[res].max() <= radius[others].min() + 1e-6
    n_events = sum(step.edge_src.size for step in trace.levels)
    assert geo.event_src.size == n_events == geo.event_outcome.size
    assert geo.event_dst.max() < geo.nodes.size
    assert set(np.unique(geo.event_level).tolist()) <= set(range(hnsw.max_level + 1))
    # the event order ends on level 0
    assert geo.event_level[-1] == 0


def test_entry_paths_follow_the_greedy_descent(hnsw: feder.HNSWIndex) -> None:
    ov = layered_overview(hnsw, 3)
    assert ov.path_offsets is not None and ov.path_nodes is not None
    assert ov.path_levels is not None
    assert ov.path_offsets.shape == (ov.nodes.size + 1,)
    lowest = ov.levels[-1]
    for i in range(0, ov.nodes.size, max(1, ov.nodes.size // 25)):
        node = int(ov.nodes[i])
        trace = hnsw.search(hnsw.vectors[node], k=1, ef=1)
        want = [(int(n), step.level) for step in trace.levels if step.level >= lowest
                for n in step.path]
        steps = slice(ov.path_offsets[i], ov.path_offsets[i + 1])
        got = list(zip(ov.nodes[ov.path_nodes[steps]].tolist(),
                       ov.path_levels[steps].tolist(), strict=True))
        assert got == want
        # It starts at the entry point; greedy search may stop short of the node itself.
        assert got[0][0] == hnsw.entry_point and got[-1][1] == lowest


def test_blas_limits_bounds_the_pools_and_restores_them(monkeypatch: pytest.MonkeyPatch,
                                                        ) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from feder import threads

    before = {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()}
    with threads.blas_limits():
        inside = threadpoolctl.threadpool_info()
        with threads.blas_limits():  # re-entrant
            pass
    assert inside and all(lib["num_threads"] == 1 for lib in inside)
    after = {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info()}
    assert after == before
    monkeypatch.setenv("FEDER_BLAS_THREADS", "0")
    assert threads.thread_limit() is None
    monkeypatch.setenv("FEDER_BLAS_THREADS", "2")
    assert threads.thread_limit() == 2


def test_blas_limits_is_a_no_op_without_threadpoolctl(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from feder import threads

    real = importlib.import_module

    def refuse(name: str, package: str | None = None) -> object:
        if name == "threadpoolctl":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(threads, "_controller", None)
    monkeypatch.setattr(threads, "_unavailable", False)
    monkeypatch.setattr(threads.importlib, "import_module", refuse)
    with threads.blas_limits():
        assert threads._unavailable
    centroids, sizes = _synthetic_lists(1024, "uniform")
    assert cluster_map(centroids[:64], sizes[:64], 300, 200).method == "power"


def test_power_diagram_updated_by_flips_matches_a_fresh_one(monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    from feder.layouts import cluster_map as cm

    rng = np.random.default_rng(9)
    sites = rng.random((800, 2)) * [400, 300]
    order = cm._spatial_order(sites, 400, 300)
    first = cm._power_diagram(sites, np.zeros(800), 400, 300, order)  # Voronoi
    assert first is not None
    weights = rng.random(800) * 3  # a Newton-sized change: a dozen edges flip
    fresh = cm._power_diagram(sites, weights, 400, 300, order)
    assert fresh is not None and fresh.areas.min() > 0
    hulls = []
    monkeypatch.setattr(cm, "_triangulate", lambda *a: hulls.append(a))  # no new hull
    flipped = cm._power_diagram(sites, weights, 400, 300, order, first.triangulation)
    assert flipped is not None and not hulls
    assert flipped.triangulation is not first.triangulation  # updated, not reused as is
    np.testing.assert_allclose(flipped.areas, fresh.areas, rtol=1e-9, atol=1e-9)
    assert flipped.areas.sum() == pytest.approx(400 * 300, rel=1e-12)
