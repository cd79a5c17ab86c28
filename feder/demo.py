"""``python -m feder.demo``: reverse image search end to end, offline.

Writes labelled Fashion-MNIST images (Debian's ``dataset-fashion-mnist``), embeds them with
the default offline model, builds a faiss IVF_FLAT and an hnswlib HNSW index, measures
precision@5, and writes HTML reports (overview + searches) into ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .builders import build_hnsw, build_ivf_flat, save
from .datasets import precision_at_k, read_fashion_mnist, write_fashion_mnist
from .embed import ImageEmbedder
from .federpy import FederPy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--per-class", type=int, default=100,
                        help="images per Fashion-MNIST class (10 classes)")
    parser.add_argument("--nlist", type=int, default=32)
    parser.add_argument("--query-id", type=int, default=40)
    args = parser.parse_args(argv)
    out: Path = args.out
    started = time.perf_counter()

    images_dir = out / "images"
    records = write_fashion_mnist(images_dir, per_class=args.per_class)
    paths = [str(r.path) for r in records]
    labels = np.array([r.label for r in records])
    print(f"1/4  {len(records)} labelled Fashion-MNIST images → {images_dir}")

    embedder = ImageEmbedder()
    vectors = embedder.embed_paths(paths, progress=True)
    np.save(out / "vectors.npy", vectors)
    p5 = precision_at_k(vectors, labels)
    print(f"2/4  embedded with {embedder.name}: {vectors.shape}, "
          f"precision@5 (exact search) = {p5:.3f}")

    ivf = build_ivf_flat(vectors, args.nlist, "l2", nprobe=4)
    hnsw = build_hnsw(vectors, M=6, ef_construction=30, space="cosine")
    save(ivf, str(out / "faiss_ivf_flat.index"))
    save(hnsw, str(out / "hnswlib.index"))
    print(f"3/4  built IVF{args.nlist},Flat and HNSW (M=6, ef_construction=30) → {out}")

    # A new query image, not in the index (which holds test-split images): the first
    # training-split image of the same class as id ``query_id``.
    train_images, train_labels = read_fashion_mnist("train")
    target_label = int(labels[args.query_id])
    new_image = train_images[int(np.flatnonzero(train_labels == target_label)[0])]
    query_path = out / "query.png"
    _write_png(new_image, query_path)
    query_vector = embedder.embed_path(query_path)

    reports = []
    for name, index, params, source in (
        ("ivf_flat", ivf, {"k": 5, "nprobe": 4}, "faiss"),
        ("hnsw", hnsw, {"k": 5, "ef_search": 16}, "hnswlib"),
    ):
        fed = FederPy(index, source, mediaUrls=paths,
                      title=f"Fashion-MNIST reverse image search · {name}")
        fed.setSearchParams(params)
        by_id = fed.searchById(args.query_id)
        by_vec = fed.searchByVec(query_vector, str(query_path))
        # was it right, and what would more work buy: recall over 100 stored images
        sweep = fed.sweep(sample=100)
        path = fed.export_html(out / f"{name}_report.html",
                               searches=[by_id, by_vec, sweep, fed.health()])
        hits = [labels[int(i)] == target_label for i in by_vec.trace.ids if int(i) >= 0] \
            if by_vec.trace is not None else []
        reports.append(path)
        recall = by_vec.explanation.recall if by_vec.explanation is not None else float("nan")
        print(f"4/4  {name}: new query image → {sum(hits)}/{len(hits)} results of its class "
              f"({by_vec.trace.ids.tolist() if by_vec.trace is not None else []}), "
              f"recall@5 {recall:.2f}; report → {path} ({path.stat().st_size / 1e6:.1f} MB)")

    print(f"done in {time.perf_counter() - started:.0f} s. Open in a browser (works offline):")
    for path in reports:
        print(f"  {path.resolve()}")
    return 0


def _write_png(pixels: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).resize((56, 56), Image.Resampling.LANCZOS).save(path)


if __name__ == "__main__":
    sys.exit(main())
