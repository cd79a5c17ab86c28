"""Small, seeded faiss and hnswlib indexes built at test time, plus helpers to read them back.

Factories are fixtures returning plain functions so a test can build exactly the variant it
needs; everything is small (≤ a few thousand vectors of dimension ≤ 16) and takes milliseconds.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if importlib.util.find_spec("feder") is None:  # a plain checkout: test the sources in place
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# numba's disk cache (feder's kernels, umap's) for the tests: kept between runs (compiling costs
# tens of seconds) and never the user's own ~/.cache/feder/numba. Set before numba's import.
os.environ.setdefault("NUMBA_CACHE_DIR",
                      str(Path(__file__).resolve().parents[1] / ".pytest_cache" / "numba"))

import faiss
import hnswlib

faiss.omp_set_num_threads(1)  # deterministic and no oversubscription on small indexes


def clustered(n: int, dim: int, seed: int, centers: int = 24) -> np.ndarray:
    """``(n, dim) float32`` points around a few random centres (so IVF lists differ in size)."""
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centers, dim)).astype(np.float32) * 3
    return (middle[rng.integers(0, centers, n)]
            + rng.standard_normal((n, dim)).astype(np.float32)).astype(np.float32)


@dataclass
class IVFCase:
    index: Any  # faiss.IndexIVFFlat
    data: np.ndarray  # the vectors added, in add order
    ids: np.ndarray  # their faiss ids

    @property
    def blob(self) -> bytes:
        return faiss.serialize_index(self.index).tobytes()


FAISS_METRIC = {"l2": faiss.METRIC_L2, "ip": faiss.METRIC_INNER_PRODUCT,
                "l1": faiss.METRIC_L1, "linf": faiss.METRIC_Linf, "lp": faiss.METRIC_Lp}


def build_ivf(n: int = 1500, dim: int = 16, nlist: int = 32, metric: str = "l2", nprobe: int = 4,
              seed: int = 0, custom_ids: bool = False, direct_map: str = "none",
              train_n: int | None = None, metric_arg: float | None = None) -> IVFCase:
    """An ``IndexIVFFlat`` trained on ``train_n`` clustered points, holding ``n`` of them."""
    mt = FAISS_METRIC[metric]
    train = clustered(train_n or max(n, 40 * nlist), dim, seed)
    quantizer = faiss.IndexFlat(dim, mt)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, mt)
    if metric_arg is not None:
        index.metric_arg = metric_arg
        quantizer.metric_arg = metric_arg
    index.cp.seed = seed
    index.train(train)
    data = clustered(n, dim, seed + 1) if n else np.empty((0, dim), np.float32)
    if custom_ids or direct_map == "hashtable":
        rng = np.random.default_rng(seed + 2)
        ids = (rng.choice(10 * n + 10, size=n, replace=False) * 3 + 1_000_000).astype(np.int64)
        index.add_with_ids(data, ids)
    else:
        ids = np.arange(n, dtype=np.int64)
        index.add(data)
    if direct_map == "array":
        index.make_direct_map()
    elif direct_map == "hashtable":
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.nprobe = nprobe
    return IVFCase(index, data, ids)


@dataclass
class HNSWCase:
    index: Any  # hnswlib.Index
    data: np.ndarray
    labels: np.ndarray
    path: Path  # the saved file
    space: str
    deleted: np.ndarray  # labels marked deleted

    @property
    def blob(self) -> bytes:
        return self.path.read_bytes()


def build_hnsw(tmp: Path, n: int = 1000, dim: int = 16, space: str = "l2", M: int = 8,
               ef_construction: int = 60, seed: int = 0, custom_labels: bool = False,
               num_threads: int = 1, delete: int = 0, max_elements: int | None = None,
               data: np.ndarray | None = None) -> HNSWCase:
    """An hnswlib index of ``n`` clustered points, saved to ``tmp``; ``delete`` of them are
    marked deleted (every few labels, deterministic)."""
    if data is None:
        data = clustered(n, dim, seed + 10)
    n, dim = data.shape
    index = hnswlib.Index(space=space, dim=dim)
    index.init_index(max_elements=max_elements or max(n, 1), M=M,
                     ef_construction=ef_construction, random_seed=seed)
    if custom_labels:
        rng = np.random.default_rng(seed + 3)
        labels = (rng.permutation(n) * 7 + 5000).astype(np.uint64)
    else:
        labels = np.arange(n, dtype=np.uint64)
    if n:
        index.add_items(data, labels, num_threads=num_threads)
    deleted = labels[:: max(n // max(delete, 1), 1)][:delete] if delete else labels[:0]
    for label in deleted.tolist():
        index.mark_deleted(label)
    path = tmp / f"hnsw-{space}-M{M}-n{n}-s{seed}-{num_threads}-{delete}.bin"
    index.save_index(str(path))
    return HNSWCase(index, data, labels, path, space, deleted)


@pytest.fixture
def ivf_factory():
    return build_ivf


@pytest.fixture
def hnsw_factory(tmp_path):
    def make(**kwargs: Any) -> HNSWCase:
        return build_hnsw(tmp_path, **kwargs)

    return make


def faiss_invlists(index: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per list ``(ids, vectors)`` read through faiss's own inverted-list API."""
    from faiss.contrib.inspect_tools import get_invlist

    out = []
    for list_no in range(index.nlist):
        ids, codes = get_invlist(index.invlists, list_no)
        out.append((ids, codes.view(np.float32).reshape(-1, index.d)))
    return out


def hnswlib_state(index: Any) -> dict[str, Any]:
    """hnswlib's in-memory arrays via ``__getstate__`` (0.8.0 exposes ``data_level0``,
    ``link_lists`` and ``element_levels`` there), decoded with the record layout."""
    state = index.__getstate__()[0]
    n = state["cur_element_count"]
    size_per = state["size_data_per_element"]
    offset_data = state["offset_data"]
    label_offset = state["label_offset"]
    max_m0, max_m = state["max_M0"], state["max_M"]
    dim = (label_offset - offset_data) // 4
    raw = state["data_level0"].view(np.uint8)[: n * size_per].reshape(n, size_per)
    links_per = state["size_links_per_element"]
    levels = state["element_levels"][:n].astype(np.int64)
    link_bytes = state["link_lists"].view(np.uint8)
    upper: list[dict[int, list[int]]] = [{} for _ in range(max(int(levels.max(initial=0)), 0) + 1)]
    pos = 0
    for node in range(n):
        for level in range(1, int(levels[node]) + 1):
            block = link_bytes[pos + (level - 1) * links_per: pos + level * links_per]
            words = block.view(np.uint32)
            upper[level][node] = words[1: 1 + int(words[0] & 0xFFFF)].tolist()
        pos += links_per * int(levels[node])
    assert pos == link_bytes.size
    count0 = raw[:, 0:2].copy().view(np.uint16)[:, 0]
    links0 = raw[:, 4: 4 + 4 * max_m0].copy().view(np.uint32)
    return {
        "n": n,
        "dim": dim,
        "max_m": max_m,
        "max_m0": max_m0,
        "entry_point": state["enterpoint_node"],
        "max_level": state["max_level"],
        "levels": levels,
        "deleted": (raw[:, 2] & 1).astype(bool),
        "vectors": raw[:, offset_data:label_offset].copy().view(np.float32),
        "labels": raw[:, label_offset:label_offset + 8].copy().view(np.uint64)[:, 0],
        "level0": [links0[i, : count0[i]].tolist() for i in range(n)],
        "upper": upper,
    }
