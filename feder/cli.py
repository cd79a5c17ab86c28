"""``feder``: embed a folder of images, build an index, write an HTML report.

    feder embed ./photos -o vectors.npy
    feder index vectors.npy --kind ivf_flat --nlist 128 -o faiss.index
    feder report faiss.index --media ./photos --query-id 40 --k 5 --nprobe 6 -o report.html

Bad input ends with exit status 2 and one line on stderr; nothing else is printed to stderr
except progress bars and ``feder: warning:`` lines. No command writes onto one of its inputs
(index, vectors, media listing, images, query image); every output is written to a temporary
file beside it, checked, then renamed over the target, so a failure never leaves a
truncated file.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import warnings
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

import numpy as np

from .atomic import check_output, shown, write_atomic, write_text
from .errors import FederError, FederWarning, OutputError, ParameterError

if TYPE_CHECKING:
    from .federpy import FederPy


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        _say(f"feder: error: {exc}")
        return 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", FederWarning)
            warnings.showwarning = _show_warning
            result: int = args.run(args)
            return result
    except (FederError, OSError, MemoryError) as exc:
        _say(f"feder {args.command}: error: {_one_line(exc)}")
        return 2
    except KeyboardInterrupt:
        _say(f"feder {args.command}: interrupted")
        return 130


class _UsageError(Exception):
    """A command-line usage error (reported in one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, no usage block
        raise _UsageError(f"{message} (see: {self.prog} --help)")


def _say(line: str) -> None:
    print(shown(line), file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {value}")
    return value


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    _say(f"feder: warning: {_one_line(Exception(str(message)))}")


BACKENDS = ("auto", "efficientnet", "descriptor")
DEFAULT_EF = 16
MAX_LISTING_BYTES = 256 << 20


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="feder", description="See how an ANN index answers a query: embed images, "
        "build a faiss IVF_FLAT or hnswlib HNSW index, write a standalone HTML report.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    embed = sub.add_parser(
        "embed", help="embed a folder of images into vectors.npy",
        description="Embed every image under FOLDER (recursively, sorted by path) with the "
        "offline default model (EfficientNet-Lite0, ImageNet weights). Writes the vectors "
        "(float32, one row per image, unit length) and, beside them, OUT.json listing the "
        "images in row order so that `feder report` can show them. OUT must end in .npy.")
    embed.add_argument("folder", type=Path)
    embed.add_argument("-o", "--output", type=Path, default=Path("vectors.npy"))
    embed.add_argument("--backend", default="auto", choices=BACKENDS)
    embed.add_argument("--batch-size", type=_positive, default=32)
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
    index.add_argument("--nlist", type=_positive, default=128, help="IVF lists (default 128)")
    index.add_argument("--nprobe", type=_positive, default=8, help="IVF default nprobe stored")
    index.add_argument("--M", type=_positive, default=16, help="HNSW links per node (default 16)")
    index.add_argument("--ef-construction", type=_positive, default=200)
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.set_defaults(run=_index)

    report = sub.add_parser(
        "report", help="write a standalone HTML report of an index and a search",
        description="Read INDEX (faiss or hnswlib file), search with an id's own vector "
        "(--query-id) or a new image (--query-image, embedded like `feder embed` does) and "
        "write one self-contained HTML file: overview plus the search, thumbnails embedded, "
        "no network needed to open it.")
    report.add_argument("index", type=Path,
                        help="an index file, or a LangChain FAISS / LlamaIndex storage folder")
    report.add_argument("-o", "--output", type=Path, default=Path("report.html"))
    report.add_argument("--media", type=Path,
                        help="the images: a folder (sorted like `feder embed`) or the .json "
                        "`feder embed` wrote")
    report.add_argument("--allow-outside-root", action="store_true",
                        help="accept a .json listing whose image paths leave its root "
                        "(absolute or ../ paths); refused by default")
    report.add_argument("--remote-media", action="store_true",
                        help="keep http(s) image URLs in the report (the page then loads them "
                        "from the network and says so); default: placeholders")
    report.add_argument("--source", choices=["faiss", "hnswlib"])
    report.add_argument("--space", choices=["l2", "ip", "cosine"],
                        help="hnswlib metric (the file does not record it; default l2)")
    _dangerous_arg(report)
    query = report.add_mutually_exclusive_group()
    query.add_argument("--query-id", type=_query_id,
                       help="search with this id's stored vector (a vector store's document "
                       "id works too)")
    query.add_argument("--query-image", type=Path, help="search with this image")
    report.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="embedder for --query-image (use the one the index was built "
                        "with)")
    report.add_argument("--k", type=_positive, default=5)
    report.add_argument("--nprobe", type=_positive,
                        help="IVF lists to probe (default: the file's)")
    report.add_argument("--ef", type=_positive, help=f"HNSW ef (default {DEFAULT_EF})")
    report.add_argument("--title", default=None)
    report.set_defaults(run=_report)

    diag = sub.add_parser(
        "diagnose", help="write an offline report: recall vs nprobe/ef, index health, and "
        "the worst queries explained",
        description="Check INDEX against the exact nearest neighbours: recall@k and distance "
        "computations at each --nprobe (IVF) or --ef (HNSW) value over QUERIES (a .npy of "
        "shape (n, d); default: --sample stored vectors), the index's health, and the "
        "--worst queries of the middle value explained (which true neighbours were missed "
        "and why). A flat index (a scan: nothing to sweep) gets its --worst queries "
        "explained. Lossy codes (PQ, SQ) are checked against their decoded vectors unless "
        "--vectors gives the originals (then quantization misses show). One self-contained "
        "HTML file. With --source URI a live engine is searched instead of an index file.")
    diag.add_argument("index", type=Path, nargs="?",
                      help="the index file or vector-store folder (omitted with --source URI)")
    diag.add_argument("-o", "--output", type=Path, default=Path("diagnose.html"))
    diag.add_argument("--queries", type=Path, help="query vectors (.npy, float, (n, d))")
    diag.add_argument("--sample", type=_positive, default=200,
                      help="stored vectors used as queries when --queries is not given")
    diag.add_argument("--k", type=_positive, default=10)
    diag.add_argument("--nprobe", type=_int_list,
                      help="IVF values, e.g. 1,2,4,8,16 (default: powers of two up to nlist)")
    diag.add_argument("--ef", type=_int_list, help="HNSW values, e.g. 16,32,64 (default 16…256)")
    diag.add_argument("--worst", type=int, default=3, help="queries explained (default 3)")
    diag.add_argument("--vectors", type=Path,
                      help="the original vectors of an index with lossy codes (.npy, (ntotal, "
                      "d), in the order they were added; read as a memory map) for exact "
                      "truth")
    diag.add_argument("--media", type=Path, help="the images, as for `feder report`")
    diag.add_argument("--allow-outside-root", action="store_true",
                      help="accept a .json listing whose image paths leave its root")
    diag.add_argument("--source", type=_source_arg, metavar="faiss|hnswlib|URI",
                      help="the index file's library, or a live engine: "
                      "milvus://./milvus.db?collection=images[&vector_field=…&media_field=…], "
                      "lancedb://./lance?table=images, qdrant-edge://./shard, "
                      "chroma://./chroma?collection=images")
    diag.add_argument("--space", choices=["l2", "ip", "cosine"],
                      help="hnswlib metric (the file does not record it; default l2)")
    diag.add_argument("--title", default=None)
    _dangerous_arg(diag)
    diag.set_defaults(run=_diagnose)
    return parser


def _dangerous_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-dangerous-deserialization", action="store_true",
                        help="unpickle a LangChain folder's index.pkl as LangChain does (it can "
                        "run code: only for a file you trust); by default it is read as inert "
                        "data")


def _query_id(text: str) -> int | str:
    """A whole number (a faiss id / hnswlib label), or a vector store's document id."""
    try:
        return int(text)
    except ValueError:
        if not text.strip():
            raise argparse.ArgumentTypeError("expected an id, got an empty string") from None
        return text


def _source_arg(text: str) -> str:
    """``faiss`` / ``hnswlib``, or a live engine URI (``milvus://…``, see
    :func:`feder.sources.open_uri`)."""
    if text in ("faiss", "hnswlib") or "://" in text:
        return text
    raise argparse.ArgumentTypeError(f"expected faiss, hnswlib or an engine URI such as "
                                     f"milvus://./milvus.db?collection=images, got {text!r:.80}")


def _int_list(text: str) -> list[int]:
    """``"1,2,4"`` → ``[1, 2, 4]``: positive integers, strictly increasing."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got "
                                         f"{text!r:.60}") from None
    if not values or any(v < 1 for v in values) or values != sorted(set(values)):
        raise argparse.ArgumentTypeError(f"expected increasing positive integers, got "
                                         f"{text!r:.60}")
    return values


def _progress(total: int, label: str, disabled: bool, unit: str = "img") -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit=unit, disable=disabled, file=sys.stderr)


def _embed(args: argparse.Namespace) -> int:
    from .embed import ImageEmbedder
    from .media import list_images, probe_image

    output: Path = args.output
    if output.suffix.lower() != ".npy":
        raise ParameterError(f"the output {shown(output)} must end in .npy (numpy adds .npy "
                             "to any other name): e.g. -o vectors.npy")
    sidecar = output.with_suffix(".json")
    paths = list_images(args.folder)
    if not paths:
        raise FederError(f"no images (jpg, png, …) under {shown(args.folder)}")
    inputs = [args.folder, *paths]
    check_output(output, inputs, "vectors file")
    check_output(sidecar, inputs, "image list")
    for path in paths:  # every image is safe to decode before any work starts
        probe_image(path)
    embedder = ImageEmbedder(args.backend, batch_size=args.batch_size)
    vectors = embedder.embed_paths(paths, progress=not args.no_progress)
    root = args.folder.resolve()
    listing = json.dumps({
        "embedder": embedder.name, "backend": embedder.backend, "dim": embedder.dim,
        # lexical: an image that is a symlink to elsewhere keeps its name under the root
        "root": str(root), "images": [p.relative_to(args.folder).as_posix() for p in paths],
    }, indent=1)
    written = _save_npy(output, vectors, inputs)
    write_text(sidecar, listing, inputs=inputs, what="image list")
    print(shown(f"{len(paths)} images → {written} ({vectors.shape[0]}×{vectors.shape[1]}, "
                f"{embedder.name}); image list → {sidecar}"))
    return 0


def _save_npy(output: Path, vectors: np.ndarray, inputs: list[Path]) -> Path:
    """``np.save`` through a temporary file, read back and compared before the rename."""
    def verify(tmp: str) -> None:
        back = np.load(tmp, mmap_mode="r", allow_pickle=False)
        if back.shape != vectors.shape or back.dtype != vectors.dtype or \
                not np.array_equal(back[-1:], vectors[-1:]):
            raise OutputError(f"the vectors written to {shown(output)} do not read back as "
                              f"{vectors.shape} {vectors.dtype}")

    write_atomic(output, lambda fh, _tmp: np.save(fh, vectors, allow_pickle=False),
                 inputs=inputs, verify=verify, what="vectors file", make_parents=True)
    return output


def _index(args: argparse.Namespace) -> int:
    from .builders import build_hnsw, build_ivf_flat, save
    from .parsers import read_index

    check_output(args.output, [args.vectors], "index")
    vectors = _load_vectors(args.vectors)
    if args.kind == "ivf_flat":
        print(f"training IVF{args.nlist},Flat on {vectors.shape[0]} vectors …", file=sys.stderr)
        built = build_ivf_flat(vectors, args.nlist, args.metric, nprobe=args.nprobe)
    else:
        with _progress(vectors.shape[0], "hnsw", args.no_progress, unit="vec") as bar:
            built = build_hnsw(vectors, args.M, args.ef_construction, args.metric,
                               progress=bar.update)

    def verify(tmp: str) -> None:
        model = read_index(tmp, "faiss" if args.kind == "ivf_flat" else "hnswlib",
                           space=None if args.kind == "ivf_flat" else args.metric)
        if model.ntotal != vectors.shape[0] or model.dim != vectors.shape[1]:
            raise OutputError(f"the index written to {shown(args.output)} holds "
                              f"{model.ntotal}×{model.dim}, expected {vectors.shape[0]}×"
                              f"{vectors.shape[1]}")

    write_atomic(args.output, lambda _fh, tmp: save(built, tmp), inputs=[args.vectors],
                 verify=verify, what="index", make_parents=True)
    print(shown(f"{args.kind} index of {vectors.shape[0]} vectors ({args.metric}) → "
                f"{args.output}"))
    return 0


def _load_vectors(path: Path) -> np.ndarray:
    try:
        vectors = np.load(_regular_file(path, "vectors file"), allow_pickle=False)
    except FileNotFoundError:
        raise FederError(f"no such vectors file: {shown(path)}") from None
    except (ValueError, EOFError, OSError) as exc:
        raise FederError(f"{shown(path)} is not a numpy .npy array of vectors: "
                         f"{_one_line(exc)}") from None
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2:
        raise FederError(f"{shown(path)}: expected a 2-D array (n, d), got shape "
                         f"{getattr(vectors, 'shape', '?')}")
    if vectors.dtype.kind not in "iuf":
        raise FederError(f"{shown(path)}: expected numbers (float or int vectors), found "
                         f"dtype {vectors.dtype}")
    if vectors.shape[0] < 1 or vectors.shape[1] < 1:
        raise FederError(f"{shown(path)}: expected at least one vector of dimension ≥ 1, got "
                         f"shape {vectors.shape}")
    return vectors


def _regular_file(path: Path, what: str) -> Path:
    """``path`` if it is a regular file (so opening it never blocks on a FIFO)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FederError(f"no such {what}: {shown(path)}") from None
    except OSError as exc:
        raise FederError(f"cannot read the {what} {shown(path)}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO, device or socket"
        raise FederError(f"expected the {what} {shown(path)} to be a file, found {kind}")
    return path


def _media_paths(media: Path | None, allow_outside: bool,
                 ) -> tuple[list[Path | str] | None, list[Path]]:
    """``(images in id order, input files that must not be overwritten)``; an image is a
    local path, or an http(s) URL given in a listing."""
    from .media import list_images

    if media is None:
        return None, []
    if media.suffix.lower() == ".json" and not media.is_dir():
        return _read_listing(media, allow_outside), [media]
    return list[Path | str](list_images(media)), []


def _read_listing(media: Path, allow_outside: bool) -> list[Path | str]:
    """The images of a ``feder embed`` listing, checked: valid JSON, ``root`` a string,
    ``images`` a list of relative paths inside ``root`` (unless ``allow_outside``) or
    http(s) URLs (shown only with ``--remote-media``)."""
    _regular_file(media, "media listing")
    size = media.stat().st_size
    if size > MAX_LISTING_BYTES:
        raise FederError(f"the media listing {shown(media)} has {size} bytes, expected at "
                         f"most {MAX_LISTING_BYTES} (a JSON list of image paths)")
    try:
        listing = json.loads(media.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FederError(f"the media listing {shown(media)} is not UTF-8 text: byte "
                         f"{exc.start}") from None
    except json.JSONDecodeError as exc:
        raise FederError(f"the media listing {shown(media)} is not valid JSON: {exc.msg} at "
                         f"line {exc.lineno} column {exc.colno}") from None
    where = f"the media listing {shown(media)}"
    if not isinstance(listing, dict):
        raise FederError(f"{where}: expected a JSON object with 'root' and 'images', found "
                         f"{type(listing).__name__}")
    root, images = listing.get("root"), listing.get("images")
    if not isinstance(root, str) or not root:
        raise FederError(f"{where}: expected 'root' to be a folder name, found {root!r:.80}")
    if not isinstance(images, list) or not all(isinstance(i, str) and i for i in images):
        raise FederError(f"{where}: expected 'images' to be a list of relative paths (strings)")
    base = Path(root) if Path(root).is_absolute() else media.parent / root
    out: list[Path | str] = []
    for position, rel in enumerate(images):
        if rel[:8].lower().startswith(("http://", "https://")):
            out.append(rel)
            continue
        pure = PurePosixPath(rel)
        if not allow_outside and (pure.is_absolute() or ".." in pure.parts or
                                  PureWindowsPath(rel).drive):
            raise FederError(f"{where}: image {position} ({rel!r:.120}) leaves the root "
                             f"{shown(root)}; expected a path inside it (or pass "
                             "--allow-outside-root)")
        out.append(base / rel)
    return out


def _report(args: argparse.Namespace) -> int:
    fed, inputs = _open_index(args, "report", [args.query_image])
    params: dict[str, int] = {"k": args.k}
    from .trace import TRACERS

    tracer = TRACERS.get(fed.index.kind)
    accepted = set(tracer.params) if tracer is not None else set()
    if "nprobe" in accepted:
        if args.nprobe is not None:
            params["nprobe"] = args.nprobe
    elif args.nprobe is not None:
        _show_warning(f"--nprobe does not apply to this {fed.index.kind} index (IVF indexes "
                      "only); ignored", FederWarning, "", 0)
    if "ef" in accepted:
        params["ef_search"] = args.ef if args.ef is not None else DEFAULT_EF
    elif args.ef is not None:
        _show_warning(f"--ef does not apply to this {fed.index.kind} index (HNSW indexes "
                      "only); ignored", FederWarning, "", 0)
    fed.setSearchParams(params)
    searches = []
    if args.query_id is not None:
        if isinstance(args.query_id, str) and fed.documents is None:
            raise ParameterError(f"--query-id {shown(args.query_id)}: expected a whole number "
                                 "(ids that are not numbers are a vector store's)")
        searches.append(fed.searchById(args.query_id))
    elif args.query_image is not None:
        from .embed import ImageEmbedder
        from .media import probe_image

        probe_image(_regular_file(args.query_image, "query image"))
        vector = ImageEmbedder(args.backend).embed_path(args.query_image)
        searches.append(fed.searchByVec(vector, str(args.query_image)))
    from .export import write_html

    states = [w.export_state() for w in [fed.overview(), *searches]]
    out = write_html(args.output, states, fed.session.params.title or "feder report",
                     remote_media=args.remote_media, inputs=inputs)
    size = out.stat().st_size
    print(shown(f"report → {out} ({size / 1e6:.1f} MB, {fed.index.kind}, "
                f"{len(searches)} search{'es' if len(searches) != 1 else ''})"))
    return 0


def _open_index(args: argparse.Namespace, command: str, more_inputs: list[Path | None],
                ) -> tuple[FederPy, list[Path]]:
    """The ``FederPy`` of ``report`` / ``diagnose`` (index, media, title checked) and every
    input file, after checking that the output is none of them."""
    from .federpy import FederPy

    title = args.title
    if title is not None:
        try:
            title.encode("utf-8")
        except UnicodeEncodeError:
            raise ParameterError("--title is not valid UTF-8 text (undecodable bytes in the "
                                 "argument)") from None
    paths, listing = _media_paths(args.media, args.allow_outside_root)
    uri = args.source if args.source is not None and "://" in args.source else None
    if (uri is None) == (args.index is None):
        raise ParameterError(f"{command} needs an index file or --source URI (one of them)")
    index_files: list[Path] = [] if args.index is None else [args.index]
    if args.index is not None and args.index.is_dir():  # a vector store's folder
        from .integrations import folder_inputs

        index_files = folder_inputs(args.index)
    inputs: list[Path] = [*index_files, *listing,
                          *(p for p in paths or [] if isinstance(p, Path)),
                          *(p for p in more_inputs if p is not None)]
    check_output(args.output, inputs, command)
    if uri is not None:
        from .sources import open_uri

        return FederPy(open_uri(uri), mediaUrls=[str(p) for p in paths] if paths else None,
                       title=title or f"feder {command}: {shown(uri)}"), inputs
    for path in index_files:
        _regular_file(path, "index file")
    fed = FederPy(str(args.index), args.source, space=args.space,
                  mediaUrls=[str(p) for p in paths] if paths else None,
                  allow_dangerous_deserialization=args.allow_dangerous_deserialization,
                  title=title or f"feder {command}: {shown(args.index.name)}")
    return fed, inputs


def _diagnose(args: argparse.Namespace) -> int:
    from .diagnose.checks import diagnosable
    from .export import write_html

    fed, inputs = _open_index(args, "diagnose", [args.queries, args.vectors])
    if args.vectors is not None:
        if fed.source is not None:
            raise ParameterError("--vectors gives the original vectors of an index file; a "
                                 "live engine's truth comes from its own vectors")
        fed.truth_vectors = (_load_truth_vectors(args.vectors), None)
    kind = fed.session.family.name
    if fed.source is not None:  # a live engine: its own search parameter
        kind = "ivf" if fed.source.param_name == "nprobe" else "graph"
    elif "sweep" not in fed.session.family.diagnostics:
        return _diagnose_scan(args, fed, inputs)
    values = args.nprobe if kind == "ivf" else args.ef
    wrong = args.ef if kind == "ivf" else args.nprobe
    if wrong is not None:
        _show_warning(f"--{'ef' if kind == 'ivf' else 'nprobe'} does not apply to this "
                      f"{fed.index.kind} index; ignored", FederWarning, "", 0)
    queries = _load_vectors(args.queries) if args.queries is not None else None
    sweep = fed.sweep(queries, values=values, k=args.k, sample=args.sample)
    sw = sweep.diagnostics["sweep"]
    per_query = np.frombuffer(sw["per_query"]["data"], np.float32).reshape(sw["per_query"]["shape"])
    middle = per_query.shape[0] // 2
    value = int(np.frombuffer(sw["values"]["data"], np.int32)[middle])
    name = "nprobe" if kind == "ivf" else "ef_search"
    fed.setSearchParams({"k": args.k, name: value})
    if queries is None:
        queries = fed.sample_queries(args.sample)
    worst = np.argsort(per_query[middle], kind="stable")[: max(args.worst, 0)]
    explained = [fed.searchByVec(queries[q]) for q in worst.tolist()]
    health = [fed.health()] if "health" in fed.session.family.diagnostics and (
        fed.source is None or diagnosable(fed.index)) else []
    widgets = [sweep, *health, *explained]
    out = write_html(args.output, [w.export_state() for w in widgets],
                     fed.session.params.title or "feder diagnose", inputs=inputs)
    recall = np.frombuffer(sw["recall"]["data"], np.float64)
    table = ", ".join(f"{v}: {r:.3f}" for v, r in zip(
        np.frombuffer(sw["values"]["data"], np.int32).tolist(), recall.tolist(), strict=True))
    print(shown(f"recall@{args.k} by {name.split('_')[0]}: {table}"))
    print(shown(f"diagnose → {out} ({out.stat().st_size / 1e6:.1f} MB, {len(explained)} "
                f"queries explained at {name.split('_')[0]} {value})"))
    return 0


def _diagnose_scan(args: argparse.Namespace, fed: FederPy, inputs: list[Path]) -> int:
    """``feder diagnose`` of an index with nothing to sweep (a flat scan): recall@k of each
    query (one blockwise truth), the --worst queries explained in the report."""
    from .diagnose import explain_many
    from .export import write_html

    for flag in ("nprobe", "ef"):
        if getattr(args, flag) is not None:
            _show_warning(f"--{flag} does not apply to this {fed.index.kind} index (a scan); "
                          "ignored", FederWarning, "", 0)
    queries = _load_vectors(args.queries) if args.queries is not None else \
        fed.sample_queries(args.sample)
    vectors, vector_ids = fed.truth_vectors
    fed.setSearchParams({"k": args.k})
    explained = explain_many(fed.index, queries, args.k, vectors=vectors,
                             vector_ids=vector_ids)
    recall = np.asarray([e.recall for e in explained])
    worst = np.argsort(recall, kind="stable")[: max(args.worst, 0)]
    widgets = [fed.searchByVec(queries[q]) for q in worst.tolist()]
    out = write_html(args.output, [w.export_state() for w in widgets],
                     fed.session.params.title or "feder diagnose", inputs=inputs)
    truth = explained[0].truth if explained else "exact"
    print(shown(f"recall@{args.k} of a {fed.index.kind} scan over {recall.size} queries: "
                f"{recall.mean():.3f} (min {recall.min():.3f}; truth {truth})"))
    print(shown(f"diagnose → {out} ({out.stat().st_size / 1e6:.1f} MB, {len(widgets)} "
                "queries explained)"))
    return 0


def _load_truth_vectors(path: Path) -> np.ndarray:
    """The ``--vectors`` file as a read-only memory map (the truth reads it block by block)."""
    try:
        vectors = np.load(_regular_file(path, "vectors file"), mmap_mode="r",
                          allow_pickle=False)
    except FileNotFoundError:
        raise FederError(f"no such vectors file: {shown(path)}") from None
    except (ValueError, EOFError, OSError) as exc:
        raise FederError(f"{shown(path)} is not a numpy .npy array of vectors: "
                         f"{_one_line(exc)}") from None
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2 or \
            vectors.dtype.kind not in "iuf":
        raise FederError(f"{shown(path)}: expected a 2-D array of numbers (ntotal, d), got "
                         f"shape {getattr(vectors, 'shape', '?')}, dtype "
                         f"{getattr(vectors, 'dtype', '?')}")
    return vectors


if __name__ == "__main__":
    sys.exit(main())
