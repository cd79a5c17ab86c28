"""Embedding throughput and retrieval quality of feder's image embedders.

Run: ``.venv/bin/python benchmarks/bench_pipeline.py [--per-class 60] [--threads N]``

For each available backend it embeds a labelled Fashion-MNIST sample (Debian's
``dataset-fashion-mnist``, written by :func:`feder.datasets.write_fashion_mnist`) and reports:

- images/s: end to end (PNG decode + preprocessing + model), after a warm-up batch; "best
  batch" is the rate of the fastest batch, a steadier figure when other jobs share the CPU;
- precision@5: leave-one-out exact cosine kNN in numpy, the fraction of each image's 5
  nearest other images that share its class (chance level is ~0.1).

Extend the table with :data:`EXTRA_COLUMNS` (e.g. the report size per image).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from feder import FederPy
from feder.builders import build_ivf_flat
from feder.datasets import ImageRecord, precision_at_k, write_fashion_mnist
from feder.embed import ImageEmbedder, available_backends


@dataclass
class BenchContext:
    """What one backend's run produced, for the table's columns."""

    embedder: ImageEmbedder
    records: list[ImageRecord]
    vectors: np.ndarray  # (n, dim) float32, unit rows
    seconds: float  # wall time of embed_paths over all records
    best_batch_rate: float  # images/s of the fastest batch (least disturbed by other load)


def report_size_per_image(context: BenchContext) -> str:
    """Bytes of a standalone HTML report (overview + one search, thumbnails embedded) per
    indexed image, for an IVF_FLAT index of this backend's vectors."""
    n = len(context.records)
    index = build_ivf_flat(context.vectors, max(1, n // 40), "l2", nprobe=4)
    paths = [str(r.path) for r in context.records]
    fed = FederPy(index, "faiss", mediaUrls=paths).setSearchParams({"k": 5, "nprobe": 4})
    with tempfile.TemporaryDirectory() as tmp:
        size = fed.export_html(Path(tmp) / "r.html", searches=[fed.searchById(0)]).stat().st_size
    return f"{size / n:,.0f}"


EXTRA_COLUMNS: dict[str, Callable[[BenchContext], str]] = {
    "report B/img": report_size_per_image,
}
"""Column title → function of a :class:`BenchContext`; add entries to extend the table."""


def run_backend(backend: str, records: list[ImageRecord], threads: int | None) -> BenchContext:
    embedder = ImageEmbedder(backend=backend, num_threads=threads)
    paths = [r.path for r in records]
    size = embedder.batch_size
    embedder.embed_paths(paths[:size])  # warm-up (allocations, kernels)
    parts, rates = [], []
    start = time.perf_counter()
    for first in range(0, len(paths), size):
        batch_start = time.perf_counter()
        parts.append(embedder.embed_paths(paths[first : first + size]))
        rates.append(len(parts[-1]) / (time.perf_counter() - batch_start))
    seconds = time.perf_counter() - start
    return BenchContext(embedder, records, np.concatenate(parts), seconds, max(rates))


def row(context: BenchContext) -> list[str]:
    labels = np.array([r.label for r in context.records])
    n = len(context.records)
    cells = [
        context.embedder.name,
        str(context.embedder.dim),
        f"{n / context.seconds:.1f}",
        f"{context.best_batch_rate:.1f}",
        f"{1000 * context.seconds / n:.1f}",
        f"{precision_at_k(context.vectors, labels, 5):.3f}",
    ]
    return cells + [column(context) for column in EXTRA_COLUMNS.values()]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=60, help="images per class (10 classes)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--backend", action="append", help="backend(s) to run (default: all)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        records = write_fashion_mnist(Path(tmp), per_class=args.per_class)
        print(
            f"{len(records)} Fashion-MNIST test images (56×56 PNG), {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        rows = [run_backend(b, records, args.threads) for b in args.backend or available_backends()]
        header = ["backend", "dim", "images/s", "best batch", "ms/img", "precision@5"]
        header += list(EXTRA_COLUMNS)
        print_table(header, [row(context) for context in rows])


if __name__ == "__main__":
    main()
