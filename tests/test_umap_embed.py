"""feder's own UMAP (feder.layouts.umap_embed): the fuzzy graph's definitions, a layout as
trustworthy as umap-learn's on the same exact neighbours (umap-learn is the oracle), seeded,
and a fresh process that never imports umap-learn, scikit-learn or pynndescent for it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from feder.layouts.projection import exact_knn, project
from feder.layouts.umap_embed import fuzzy_graph, smooth_distances, umap_layout

ROOT = Path(__file__).resolve().parents[1]


def clusters(n: int, dim: int, seed: int, count: int = 12, spread: float = 1.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((count, dim)) * spread
    return (middle[rng.integers(0, count, n)] + rng.standard_normal((n, dim))).astype("f4")


def trustworthiness(x: np.ndarray, y: np.ndarray, k: int = 15) -> float:
    """Venna & Kaski's trustworthiness of the layout ``y`` of ``x`` (as scikit-learn defines
    it), from exact ranks."""
    n = x.shape[0]
    dx = ((x[:, None].astype(np.float64) - x[None]) ** 2).sum(-1)
    np.fill_diagonal(dx, np.inf)
    ranks = np.empty((n, n), np.int64)
    order = np.argsort(dx, axis=1, kind="stable")
    ranks[np.arange(n)[:, None], order] = np.arange(1, n + 1)
    dy = ((y[:, None] - y[None]) ** 2).sum(-1)
    np.fill_diagonal(dy, np.inf)
    near_y = np.argsort(dy, axis=1, kind="stable")[:, :k]
    penalty = np.maximum(ranks[np.arange(n)[:, None], near_y] - k, 0).sum()
    return float(1 - 2.0 / (n * k * (2 * n - 3 * k - 1)) * penalty)


def test_smooth_distances_reach_the_target_sum() -> None:
    points = clusters(300, 8, 1)
    points[7] = points[3]  # a duplicate: its nearest other point is at distance 0
    _, dist = exact_knn(points, 15)
    sigma, rho = smooth_distances(dist)
    d = dist.astype(np.float64)
    assert dist[7, 1] == 0 and rho[7] == d[7, 2] > 0  # rho: the nearest point apart
    np.testing.assert_array_equal(rho[dist[:, 1] > 0], d[dist[:, 1] > 0, 1])
    total = np.where(d[:, 1:] - rho[:, None] > 0,
                     np.exp(-np.maximum(d[:, 1:] - rho[:, None], 0) / sigma[:, None]),
                     1.0).sum(axis=1)
    np.testing.assert_allclose(total, np.log2(15), atol=1e-4)


def test_fuzzy_graph_is_the_symmetric_union() -> None:
    points = clusters(200, 6, 2)
    idx, dist = exact_knn(points, 10)
    head, tail, weight = fuzzy_graph(idx, dist, n_epochs=10**9)  # nothing dropped
    sigma, rho = smooth_distances(dist)
    n = points.shape[0]
    a = np.zeros((n, n))
    for i in range(n):
        for j in range(1, 10):
            over = float(dist[i, j]) - rho[i]
            a[i, idx[i, j]] = 1.0 if over <= 0 else np.exp(-over / sigma[i])
    want = a + a.T - a * a.T
    got = np.zeros((n, n))
    got[head, tail] = weight
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    keys = head * n + tail
    assert (np.diff(keys) > 0).all() and not (head == tail).any()
    _, _, kept = fuzzy_graph(idx, dist, n_epochs=200)
    assert kept.min() >= weight.max() / 200 and kept.size < weight.size


@pytest.mark.slow
def test_layout_as_trustworthy_as_umap_learn() -> None:
    """On 12 clusters in 48 dimensions (where a linear view mixes them) feder's layout keeps
    the neighbourhoods as well as umap-learn's fit on the same neighbours, and far better
    than the PCA it starts from."""
    import umap

    points = clusters(700, 48, 3)
    idx, dist = exact_knn(points, 15)
    ours = umap_layout(points, idx, dist, seed=1)
    theirs = umap.UMAP(n_neighbors=15, random_state=1, precomputed_knn=(idx, dist),
                       n_epochs=200).fit_transform(points)
    pca = project(points[1:], points[0], "pca")
    t_ours, t_theirs = trustworthiness(points, ours), trustworthiness(points, theirs)
    t_pca = trustworthiness(points, np.vstack([pca[-1:], pca[:-1]]).astype(np.float64))
    assert t_ours >= t_theirs - 0.01, (t_ours, t_theirs)
    assert t_ours > t_pca + 0.03, (t_ours, t_pca)


def test_layout_is_seeded() -> None:
    points = clusters(150, 16, 4)
    a = project(points, points[3], "umap", seed=5)
    b = project(points, points[3], "umap", seed=5)
    c = project(points, points[3], "umap", seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (151, 2) and a.min() >= 0 and a.max() <= 1


def test_a_fresh_process_imports_no_umap_learn() -> None:
    code = ("import sys, json, numpy as np; from feder.layouts.projection import project; "
            "x = np.random.default_rng(0).standard_normal((100, 8)).astype('f4'); "
            "xy = project(x, x[0], 'umap'); "
            "print(json.dumps({m: m in sys.modules for m in ('umap', 'sklearn', 'pynndescent', "
            "'scipy.sparse')} | {'finite': bool(np.isfinite(xy).all())}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {"umap": False, "sklearn": False, "pynndescent": False,
                                       "scipy.sparse": False, "finite": True}
