"""Live sources: pull rate per engine, and exact truth on Dask against one numpy process.

    .venv/bin/python benchmarks/bench_sources.py                 # pulls 100k×64, truth 2M×64
    .venv/bin/python benchmarks/bench_sources.py --n 20000 --truth-n 200000 --queries 200

Data is built on demand in ``--cache`` (default ``~/.cache/feder-bench/sources``) and reused:
one collection per engine (Milvus Lite IVF_FLAT, LanceDB IVF_FLAT, Qdrant Edge HNSW, chroma
HNSW) and a ``.npy`` of clustered vectors for the truth. Timings:

- **pull**: ``src.pull()`` — every vector (and id) paged through the engine's own iterator
  into one preallocated array — in vectors per second (a fresh source each run).
- **truth**: the exact top-10 of ``--queries`` queries over the ``.npy``: one numpy process
  (blocks in turn, this process's BLAS) vs a 2-worker ``LocalCluster`` on 127.0.0.1 (one
  BLAS thread per worker; blocks sent by path). The cluster's start is timed apart; the two
  results are checked equal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np


def clustered(n: int, dim: int, seed: int, centers: int = 256) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centers, dim)).astype(np.float32) * 2
    return (middle[rng.integers(0, centers, n)]
            + rng.standard_normal((n, dim)).astype(np.float32)).astype(np.float32)


def truth_file(cache: Path, n: int, dim: int) -> Path:
    path = cache / f"truth-{n}x{dim}.npy"
    if path.exists():
        return path
    tmp = path.with_suffix(".part.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, dim))
    step = 1 << 18
    for s in range(0, n, step):  # built in blocks: bounded memory
        m = min(step, n - s)
        out[s: s + m] = clustered(m, dim, seed=1000 + s // step)
    out.flush()
    del out
    os.replace(tmp, path)
    return path


def build(engine: str, folder: Path, data: np.ndarray) -> None:
    """The engine's collection in ``folder`` (skipped when it exists)."""
    done = folder / "built.json"
    if done.exists():
        return
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    n, dim = data.shape
    ids = [f"v{i}" for i in range(n)]
    if engine == "milvus":
        import pymilvus

        client = pymilvus.MilvusClient(str(folder / "milvus.db"))
        dt = pymilvus.DataType
        schema = client.create_schema(auto_id=False)
        schema.add_field("pk", dt.VARCHAR, is_primary=True, max_length=16)
        schema.add_field("embedding", dt.FLOAT_VECTOR, dim=dim)
        client.create_collection("bench", schema=schema)
        for s in range(0, n, 10_000):
            client.insert("bench", [{"pk": ids[i], "embedding": data[i].tolist()}
                                    for i in range(s, min(s + 10_000, n))])
        client.flush("bench")
        params = client.prepare_index_params()
        params.add_index(field_name="embedding", index_type="IVF_FLAT", metric_type="L2",
                         params={"params": {"nlist": 256}})
        client.create_index("bench", params)
        client.load_collection("bench")
        client.close()
    elif engine == "lancedb":
        import lancedb
        import pyarrow as pa
        from lancedb.index import IvfFlat

        table = lancedb.connect(str(folder / "lance")).create_table("bench", data=pa.table({
            "id": ids, "vector": pa.FixedSizeListArray.from_arrays(pa.array(data.ravel()),
                                                                   dim)}))
        table.create_index("vector", config=IvfFlat(distance_type="l2", num_partitions=256))
    elif engine == "qdrant":
        import qdrant_edge as qe

        shard = qe.EdgeShard.create(str(folder / "shard"), qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Euclid),
            hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=64, full_scan_threshold=1),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1)))
        for s in range(0, n, 10_000):
            shard.update(qe.UpdateOperation.upsert_points([
                qe.Point(id=i, vector=data[i].tolist()) for i in range(s, min(s + 10_000, n))]))
        shard.optimize()
        shard.close()
    elif engine == "chroma":
        import chromadb

        col = chromadb.PersistentClient(path=str(folder / "chroma")).create_collection(
            "bench", configuration={"hnsw": {"space": "l2"}}, embedding_function=None)
        for s in range(0, n, 5000):
            col.add(ids=ids[s: s + 5000], embeddings=data[s: s + 5000])
    done.write_text(json.dumps({"n": n, "dim": dim}))


def open_source(engine: str, folder: Path) -> Any:
    from feder import sources

    if engine == "milvus":
        return sources.milvus(folder / "milvus.db", collection="bench", progress=False)
    if engine == "lancedb":
        return sources.lancedb(folder / "lance", table="bench", progress=False)
    if engine == "qdrant":
        return sources.qdrant_edge(folder / "shard", progress=False)
    return sources.chroma(folder / "chroma", collection="bench", progress=False)


def bench_pulls(cache: Path, n: int, dim: int, engines: list[str]) -> None:
    data = clustered(n, dim, seed=7)
    print(f"pull rate, {n:,}×{dim} (vectors/s, best of 2)")
    for engine in engines:
        folder = cache / f"{engine}-{n}x{dim}"
        t = time.perf_counter()
        try:
            build(engine, folder, data)
        except ImportError as exc:
            print(f"  {engine:8s} skipped: {exc}")
            continue
        built = time.perf_counter() - t
        best = float("inf")
        for _ in range(2):
            src = open_source(engine, folder)
            t = time.perf_counter()
            vectors = src.pull()
            best = min(best, time.perf_counter() - t)
            assert vectors.shape == (n, dim)
            close = getattr(getattr(src, "shard", None), "close", None)
            if close is not None:
                close()
            del src
        print(f"  {engine:8s} {n / best:12,.0f} vec/s  ({best:.2f} s; build {built:.1f} s)")


def bench_truth(cache: Path, n: int, dim: int, nq: int, workers: int,
                numpy_threads: int | None = None) -> None:
    from feder.sources import truth

    path = truth_file(cache, n, dim)
    data = np.load(path, mmap_mode="r")
    queries = clustered(nq, dim, seed=99)
    print(f"exact truth, top-10 of {nq:,} queries over {n:,}×{dim} "
          f"({n * dim * 4 / 2**20:,.0f} MB .npy, blocks of {truth.block_rows_for(nq):,} rows)")
    np.asarray(data[: min(n, 1 << 20)]).sum()  # page cache warm for both runs
    from contextlib import nullcontext

    limit: Any = nullcontext()
    if numpy_threads is not None:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(numpy_threads)
    with limit:
        t = time.perf_counter()
        a = truth.exact_rows(data, queries, 10, "l2")
        numpy_s = time.perf_counter() - t
    threads = "its default BLAS threads" if numpy_threads is None else \
        f"{numpy_threads} BLAS thread{'s' if numpy_threads > 1 else ''}"
    print(f"  one numpy process ({threads})  {numpy_s:7.2f} s")
    t = time.perf_counter()
    cluster, client = truth.local_cluster(n_workers=workers)
    start_s = time.perf_counter() - t
    try:
        client.submit(sum, [1]).result()  # workers ready
        t = time.perf_counter()
        b = truth.dask_rows(path, queries, 10, "l2", client=client)
        dask_s = time.perf_counter() - t
    finally:
        client.close()
        cluster.close()
    same = np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    print(f"  Dask, {workers} workers (127.0.0.1) {dask_s:7.2f} s  (cluster start {start_s:.1f} s)"
          f"  → {numpy_s / dask_s:.2f}×, same truth: {same}")
    assert same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "feder-bench" / "sources")
    parser.add_argument("--n", type=int, default=100_000, help="vectors per engine (pull)")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--engines", default="milvus,lancedb,qdrant,chroma")
    parser.add_argument("--truth-n", type=int, default=2_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--numpy-threads", type=int, default=None,
                        help="BLAS threads of the numpy run (default: the process's own)")
    parser.add_argument("--skip-pull", action="store_true")
    parser.add_argument("--skip-truth", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if not args.skip_pull:
        bench_pulls(args.cache, args.n, args.dim, args.engines.split(","))
    if not args.skip_truth:
        bench_truth(args.cache, args.truth_n, args.dim, args.queries, args.workers,
                    args.numpy_threads)


if __name__ == "__main__":
    main()
