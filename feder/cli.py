"""``feder``: embed a folder of images, build an index, write an HTML report.

    feder embed ./photos -o vectors.npy
    feder index vectors.npy --kind ivf_flat --nlist 128 -o faiss.index
    feder report faiss.index --media ./photos --query-id 40 --k 5 --nprobe 6 -o report.html

Bad input ends with exit status 2 and one line on stderr; nothing else is printed to stderr
except progress bars.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FederError, FederWarning


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", FederWarning)
            warnings.showwarning = _show_warning
            result: int = args.run(args)
            return result
    except (FederError, OSError) as exc:
        print(f"feder {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"feder {args.command}: interrupted", file=sys.stderr)
        return 130


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    print(f"feder: warning: {message}", file=sys.stderr)


BACKENDS = ("auto", "efficientnet", "descriptor")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feder", description="See how an ANN index answers a query: embed images, "
        "build a faiss IVF_FLAT or hnswlib HNSW index, write a standalone HTML report.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    embed = sub.add_parser(
        "embed", help="embed a folder of images into vectors.npy",
        description="Embed every image under FOLDER (recursively, sorted by path) with the "
        "offline default model (EfficientNet-Lite0, ImageNet weights). Writes the vectors "
        "(float32, one row per image, unit length) and, beside them, OUT.json listing the "
        "images in row order so that `feder report` can show them.")
    embed.add_argument("folder", type=Path)
    embed.add_argument("-o", "--output", type=Path, default=Path("vectors.npy"))
    embed.add_argument("--backend", default="auto", choices=BACKENDS)
    embed.add_argument("--batch-size", type=int, default=32)
    embed.add_argument("--no-progress", action="store_true", help="no progress bar")
    embed.set_defaults(run=_embed)

    index = sub.add_parser(
        "index", help="build a faiss IVF_FLAT or hnswlib HNSW index from vectors.npy",
        description="Build an index with the library itself (faiss or hnswlib) and write it "
        "in that library's own file format. Row i of the vectors gets id i.")
    index.add_argument("vectors", type=Path)
    index.add_argument("-o", "--output", type=Path, required=True)
    index.add_argument("--kind", choices=["ivf_flat", "hnsw"], default="ivf_flat")
    index.add_argument("--metric", choices=["l2", "ip", "cosine"], default="l2")
    index.add_argument("--nlist", type=int, default=128, help="IVF lists (default 128)")
    index.add_argument("--nprobe", type=int, default=8, help="IVF default nprobe stored")
    index.add_argument("--M", type=int, default=16, help="HNSW links per node (default 16)")
    index.add_argument("--ef-construction", type=int, default=200)
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.set_defaults(run=_index)

    report = sub.add_parser(
        "report", help="write a standalone HTML report of an index and a search",
        description="Read INDEX (faiss or hnswlib file), search with an id's own vector "
        "(--query-id) or a new image (--query-image, embedded like `feder embed` does) and "
        "write one self-contained HTML file: overview plus the search, thumbnails embedded, "
        "no network needed to open it.")
    report.add_argument("index", type=Path)
    report.add_argument("-o", "--output", type=Path, default=Path("report.html"))
    report.add_argument("--media", type=Path,
                        help="the images: a folder (sorted like `feder embed`) or the .json "
                        "`feder embed` wrote")
    report.add_argument("--source", choices=["faiss", "hnswlib"])
    report.add_argument("--space", choices=["l2", "ip", "cosine"],
                        help="hnswlib metric (the file does not record it; default l2)")
    query = report.add_mutually_exclusive_group()
    query.add_argument("--query-id", type=int, help="search with this id's stored vector")
    query.add_argument("--query-image", type=Path, help="search with this image")
    report.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="embedder for --query-image (use the one the index was built "
                        "with)")
    report.add_argument("--k", type=int, default=5)
    report.add_argument("--nprobe", type=int, help="IVF lists to probe (default: the file's)")
    report.add_argument("--ef", type=int, default=16, help="HNSW ef (default 16)")
    report.add_argument("--title", default=None)
    report.set_defaults(run=_report)
    return parser


def _progress(total: int, label: str, disabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="img", disable=disabled, file=sys.stderr)


def _embed(args: argparse.Namespace) -> int:
    from .embed import ImageEmbedder
    from .media import list_images

    paths = list_images(args.folder)
    if not paths:
        raise FederError(f"no images (jpg, png, …) under {args.folder}")
    embedder = ImageEmbedder(args.backend, batch_size=args.batch_size)
    vectors = embedder.embed_paths(paths, progress=not args.no_progress)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.output, vectors)
    sidecar = args.output.with_suffix(".json")
    root = args.folder.resolve()
    sidecar.write_text(json.dumps({
        "embedder": embedder.name, "backend": embedder.backend, "dim": embedder.dim,
        "root": str(root), "images": [p.resolve().relative_to(root).as_posix() for p in paths],
    }, indent=1))
    print(f"{len(paths)} images → {args.output} ({vectors.shape[0]}×{vectors.shape[1]}, "
          f"{embedder.name}); image list → {sidecar}")
    return 0


def _index(args: argparse.Namespace) -> int:
    from .builders import build_hnsw, build_ivf_flat, save

    vectors = _load_vectors(args.vectors)
    if args.kind == "ivf_flat":
        print(f"training IVF{args.nlist},Flat on {vectors.shape[0]} vectors …", file=sys.stderr)
        built = build_ivf_flat(vectors, args.nlist, args.metric, nprobe=args.nprobe)
    else:
        with _progress(vectors.shape[0], "hnsw", args.no_progress) as bar:
            built = build_hnsw(vectors, args.M, args.ef_construction, args.metric,
                               progress=bar.update)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save(built, str(args.output))
    print(f"{args.kind} index of {vectors.shape[0]} vectors ({args.metric}) → {args.output}")
    return 0


def _load_vectors(path: Path) -> np.ndarray:
    try:
        vectors = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FederError(f"no such vectors file: {path}") from None
    except ValueError as exc:
        raise FederError(f"{path} is not a numpy .npy array of vectors: {exc}") from None
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2:
        raise FederError(f"{path}: expected a 2-D array (n, d), got shape "
                         f"{getattr(vectors, 'shape', '?')}")
    return vectors


def _media_paths(media: Path | None) -> list[Path] | None:
    from .media import list_images

    if media is None:
        return None
    if media.suffix == ".json" and media.is_file():
        listing = json.loads(media.read_text())
        root = Path(listing["root"])
        return [root / rel for rel in listing["images"]]
    return list_images(media)


def _report(args: argparse.Namespace) -> int:
    from .federpy import FederPy

    paths = _media_paths(args.media)
    fed = FederPy(str(args.index), args.source, space=args.space,
                  mediaUrls=[str(p) for p in paths] if paths else None,
                  title=args.title or f"feder report: {args.index.name}")
    params: dict[str, int] = {"k": args.k}
    if fed.index.kind == "ivf_flat":
        if args.nprobe is not None:
            params["nprobe"] = args.nprobe
    else:
        params["ef_search"] = args.ef
    fed.setSearchParams(params)
    searches = []
    if args.query_id is not None:
        searches.append(fed.searchById(args.query_id))
    elif args.query_image is not None:
        from .embed import ImageEmbedder

        vector = ImageEmbedder(args.backend).embed_path(args.query_image)
        searches.append(fed.searchByVec(vector, str(args.query_image)))
    out = fed.export_html(args.output, searches=searches)
    size = out.stat().st_size
    print(f"report → {out} ({size / 1e6:.1f} MB, {fed.index.kind}, "
          f"{len(searches)} search{'es' if len(searches) != 1 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
