"""hnswlib files do not record their space: feder infers it from the graph when the data
decides it, and warns when a given (or the default) space contradicts the links."""

from __future__ import annotations

import warnings
from pathlib import Path

import hnswlib
import numpy as np
import pytest

import feder
from feder.parsers.hnswlib_space import infer_space


def _saved(tmp_path: Path, space: str) -> tuple[Path, np.ndarray, object]:
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((2000, 16)) * rng.uniform(0.2, 3, (2000, 1))).astype("f4")
    index = hnswlib.Index(space, 16)
    index.init_index(2000, M=8, ef_construction=50, random_seed=1)
    index.add_items(data, num_threads=1)
    path = tmp_path / f"{space}.bin"
    index.save_index(str(path))
    return path, data, index


def test_an_ip_index_read_without_its_space_is_read_as_ip(tmp_path: Path) -> None:
    path, data, lib = _saved(tmp_path, "ip")
    with pytest.warns(feder.FederWarning, match="links agree with 'ip'"):
        idx = feder.load_index(path)
    assert idx.metric == "ip"
    lib.set_ef(40)  # type: ignore[attr-defined]
    labels, _ = lib.knn_query(data[:20] + 0.1, k=5)  # type: ignore[attr-defined]
    for q, want in zip(data[:20] + 0.1, labels, strict=True):
        np.testing.assert_array_equal(idx.search(q, k=5, ef=40).ids, want)


def test_a_given_space_that_contradicts_the_links_is_warned_about(tmp_path: Path) -> None:
    path, _, _ = _saved(tmp_path, "ip")
    with pytest.warns(feder.FederWarning, match="space='l2' was given"):
        idx = feder.load_index(path, space="l2")
    assert idx.metric == "l2"  # the user's word stands


@pytest.mark.parametrize("space", ["l2", "cosine"])
def test_consistent_spaces_say_nothing(tmp_path: Path, space: str) -> None:
    path, _, _ = _saved(tmp_path, space)
    with warnings.catch_warnings():
        warnings.simplefilter("error", feder.FederWarning)
        idx = feder.load_index(path, space=space if space != "l2" else None)
    assert idx.metric == space
    expect = None if space == "cosine" else "l2"  # unit vectors decide nothing
    assert infer_space(idx.model) in (expect, None)
