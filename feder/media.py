"""Media items (images or text) for ids: URLs pass through, local images become thumbnails.

Local files are turned into small JPEG/PNG thumbnails with Pillow so a notebook or an HTML
report shows them without a file server. A missing or unreadable image becomes a
``{"kind": "missing"}`` item (a placeholder in the view) and a :class:`FederWarning`.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

from .errors import FederWarning, MediaError

MediaItem = dict[str, Any]
MEDIA_TYPES = ("img", "text")
_URL_SCHEMES = ("http", "https", "data", "blob")
REMOTE_SCHEMES = ("http", "https")

TEXT_LIMIT = 1000
"""Characters of a text medium that are sent to the widget or embedded in a report (the views
show about 600); longer texts are cut here and end with "…"."""
MAX_PIXELS = 50_000_000
"""Images with more pixels than this (after JPEG draft scaling) are not decoded: a
placeholder is shown instead. 50 MP covers cameras; decoding is then bounded in time
(< 1 s) and memory (:data:`MAX_DECODED_BYTES`)."""
MAX_DECODED_BYTES = 200 << 20
"""Decoded size cap (pixels × bytes per pixel of the image's mode)."""
CACHE_ITEMS = 2000
"""Media items a :class:`MediaStore` keeps (least recently used ones are dropped)."""
SUMMARY_EXAMPLES = 3


class MediaStore:
    """Looks up the media of an id and caches the items it made (the last
    :data:`CACHE_ITEMS`, least recently used dropped first).

    ``media``: a sequence indexed by id (Feder's ``mediaUrls``), a mapping id → media, or a
    callable id → media; each media is an http(s)/data URL, a local path (``str`` or
    ``Path``, ``file://`` URLs too) or, with ``media_type="text"``, the text to show.

    No failure escapes: a missing, unreadable, hostile (decompression bomb, FIFO, device) or
    oversized image, or a ``media`` function that raises, becomes a ``{"kind": "missing"}``
    item and a :class:`FederWarning` — one summary warning per batch of :meth:`items`.
    """

    def __init__(self, media: Sequence[Any] | Mapping[Any, Any] | Callable[[int], Any] | None,
                 media_type: str = "img", thumb_size: int = 128,
                 cache_items: int = CACHE_ITEMS):
        if media_type not in MEDIA_TYPES:
            raise MediaError(f"mediaType must be one of {MEDIA_TYPES}, got {media_type!r}")
        if media is not None and not callable(media) and not isinstance(media, (Sequence,
                                                                               Mapping)):
            raise MediaError("mediaUrls must be a list indexed by id, a dict id → media or a "
                             f"function of the id, got {type(media).__name__}")
        if isinstance(media, str):
            raise MediaError("mediaUrls must be a list of media, one per id, not a string")
        self.media = media
        self.media_type = media_type
        self.thumb_size = thumb_size
        self.cache_items = max(int(cache_items), 1)
        self._cache: OrderedDict[int, MediaItem] = OrderedDict()
        self._warned: set[str] = set()
        self._batch: list[tuple[str, str]] | None = None

    def source(self, ident: int) -> Any:
        """The raw media given for ``ident``, or None."""
        media = self.media
        if media is None:
            return None
        if callable(media) and not isinstance(media, (Sequence, Mapping)):
            return media(ident)
        if isinstance(media, Mapping):
            return media.get(ident, media.get(str(ident)))
        return media[ident] if 0 <= ident < len(media) else None

    def item(self, ident: int) -> MediaItem:
        """The item for one id: ``image`` (thumbnail bytes), ``url``, ``text`` or ``missing``."""
        ident = int(ident)
        cached = self._cache.get(ident)
        if cached is not None:
            self._cache.move_to_end(ident)
            return cached
        made = self._make(ident)
        self._cache[ident] = made
        while len(self._cache) > self.cache_items:
            self._cache.popitem(last=False)
        return made

    def items(self, ids: Iterable[Any]) -> dict[str, MediaItem]:
        """Items keyed by the id as a decimal string (ids < 0 — faiss padding — skipped).
        Failures in the batch are reported in one :class:`FederWarning`."""
        out: dict[str, MediaItem] = {}
        outer = self._batch is None
        if outer:
            self._batch = []
        try:
            for ident in ids:
                ident = int(ident)
                if ident >= 0 and self.media is not None:
                    out[str(ident)] = self.item(ident)
        finally:
            if outer:
                failed, self._batch = self._batch or [], None
                self._summarize(failed)
        return out

    def describe(self, value: Any) -> MediaItem:
        """The item for a media value given directly (a query's own image, for instance)."""
        if value is None:
            return {"kind": "missing", "reason": "no media"}
        if self.media_type == "text" or _is_text_query(value):
            return text_item(value)
        try:
            return self._image(value)
        except Exception as exc:  # never let one medium cost the others
            return self._missing(_printable(repr(value)[:200]), f"unusable media: {exc}")

    def _make(self, ident: int) -> MediaItem:
        try:
            value = self.source(ident)
        except Exception as exc:  # a user function or a broken container
            return self._missing(f"id {ident}",
                                 f"the media for id {ident} raised {type(exc).__name__}: {exc}")
        if value is None:
            return {"kind": "missing", "reason": f"no media for id {ident}"}
        return self.describe(value)

    def _image(self, value: Any) -> MediaItem:
        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            if not isinstance(text, str):
                text = os.fsdecode(text)
            scheme = urlparse(text).scheme.lower()
            if scheme in _URL_SCHEMES:
                return {"kind": "url", "url": text}
            path = Path(unquote(urlparse(text).path)) if scheme == "file" else Path(text)
            return self._thumbnail(path)
        return self._missing(_printable(repr(value)[:200]),
                             f"not an image path or URL: {type(value).__name__}")

    def _thumbnail(self, path: Path) -> MediaItem:
        try:
            data, mime = thumbnail_bytes(path, self.thumb_size)
        except MediaError as exc:
            return self._missing(_printable(str(path)), str(exc))
        return {"kind": "image", "mime": mime, "data": data, "name": _printable(path.name)}

    def _missing(self, where: str, reason: str) -> MediaItem:
        if self._batch is not None:
            self._batch.append((where, reason))
        elif where not in self._warned:
            self._warned.add(where)
            warnings.warn(f"feder shows a placeholder for {where}: {reason}", FederWarning,
                          stacklevel=4)
        return {"kind": "missing", "reason": reason}

    def _summarize(self, failed: list[tuple[str, str]]) -> None:
        new = [(where, reason) for where, reason in dict(failed).items()
               if where not in self._warned]
        if not new:
            return
        self._warned.update(where for where, _ in new)
        if len(new) == 1:
            message = f"feder shows a placeholder for {new[0][0]}: {new[0][1]}"
        else:
            shown = "; ".join(reason for _, reason in new[:SUMMARY_EXAMPLES])
            more = len(new) - SUMMARY_EXAMPLES
            message = (f"feder shows placeholders for {len(new)} media items: {shown}"
                       + (f"; and {more} more" if more > 0 else ""))
        warnings.warn(message, FederWarning, stacklevel=4)


def text_item(value: Any, limit: int = TEXT_LIMIT) -> MediaItem:
    """A ``text`` item holding at most ``limit`` characters of ``value`` (cut with "…")."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return {"kind": "text", "text": _printable(text[: limit - 1]) + "…",
                "truncated": len(text)}
    return {"kind": "text", "text": _printable(text)}


def _printable(text: str) -> str:
    """``text`` encodable as UTF-8: undecodable file-name bytes (surrogate escapes) become
    U+FFFD, so JSON, HTML and widget messages can always carry it."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") \
            .encode("utf-8", "replace").decode("utf-8")


def _open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file (never blocks on a FIFO)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MediaError(f"no such file: {_printable(path.name)}") from None
    except OSError as exc:  # ELOOP, EACCES, ENAMETOOLONG …
        raise MediaError(f"cannot read {_printable(path.name)}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(f"expected an image file, found a directory: {_printable(path.name)}")
    if not stat.S_ISREG(st.st_mode):
        raise MediaError(f"expected an image file, found a FIFO, device or socket: "
                         f"{_printable(path.name)}")
    if st.st_size == 0:
        raise MediaError(f"empty file (0 bytes): {_printable(path.name)}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise MediaError(f"cannot read {_printable(path.name)}: {exc.strerror or exc}") from None
    fh = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between stat and open
        fh.close()
        raise MediaError(f"expected an image file, found a special file: "
                         f"{_printable(path.name)}")
    return fh


def _bytes_per_pixel(mode: str) -> float:
    from PIL import Image

    try:
        bands = Image.getmodebands(mode)
    except (KeyError, ValueError):
        return 4.0
    if mode in ("I", "F") or mode.startswith("I;32"):
        return 4.0 * bands
    return (2.0 if ";16" in mode else 1.0) * max(bands, 1)


def _is_text_query(value: Any) -> bool:
    """A query given as words ("A white dog.") rather than an image: a ``str`` that is no
    URL, names no existing file and does not look like a path (no folder separator, no image
    suffix: a mistyped path still gets the missing-image placeholder). Cross-modal searches
    then show their text."""
    if not isinstance(value, str) or urlparse(value).scheme.lower() in (*_URL_SCHEMES, "file"):
        return False
    if "/" in value or os.sep in value or Path(value).suffix.lower() in IMAGE_SUFFIXES:
        return False
    try:
        return not Path(value).exists()
    except (OSError, ValueError):  # too long / NUL: not a path
        return True


@contextlib.contextmanager
def open_image(path: Path, size: int | None = None) -> Iterator[Any]:
    """A Pillow image opened from ``path`` (a regular file), checked before decoding:
    at most :data:`MAX_PIXELS` pixels and :data:`MAX_DECODED_BYTES` decoded bytes, JPEGs set
    to draft (DCT-scaled) decoding near ``size``. Not loaded yet; the file is closed when
    the ``with`` block ends. Raises :class:`MediaError` saying what was found."""
    name = _printable(path.name)
    with _open_regular(path) as fh:
        try:
            img = _checked_image(fh, name, size)
        except MediaError:
            raise
        except Exception as exc:  # Pillow raises many kinds for hostile files
            raise MediaError(_pillow_reason(name, exc)) from None
        with img:
            yield img


def _checked_image(fh: BinaryIO, name: str, size: int | None) -> Any:
    from PIL import Image

    with warnings.catch_warnings():
        # our own cap below decides; Pillow's warning would only be noise
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(fh)
    width, height = img.size
    if img.format == "JPEG" and (img.info.get("progressive") or img.info.get("progression")) \
            and width * height > MAX_PIXELS:
        # progressive JPEGs keep every DCT coefficient of the full-size image in memory,
        # whatever the draft scale: 13,300² needs ~500 MB
        img.close()
        raise MediaError(f"{name}: a progressive JPEG of {width}×{height} = "
                         f"{width * height:,} pixels; feder decodes progressive JPEGs of at "
                         f"most {MAX_PIXELS:,} pixels (a decompression bomb?)")
    if size is not None and img.format == "JPEG":
        img.draft("RGB" if img.mode not in ("L", "1") else img.mode, (size, size))
        width, height = img.size
    pixels = int(width) * int(height)
    if width <= 0 or height <= 0:
        raise MediaError(f"{name}: the image claims {width}×{height} pixels")
    if pixels > MAX_PIXELS or pixels * _bytes_per_pixel(img.mode) > MAX_DECODED_BYTES:
        img.close()
        raise MediaError(
            f"{name}: the image claims {width}×{height} = {pixels:,} pixels ({img.mode}); "
            f"feder decodes at most {MAX_PIXELS:,} pixels / "
            f"{MAX_DECODED_BYTES >> 20} MiB (a decompression bomb?)")
    return img


def _pillow_reason(name: str, exc: BaseException) -> str:
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return f"not an image Pillow can read: {name}"
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return f"{name}: too many pixels to decode (a decompression bomb): {exc}"
    if isinstance(exc, MemoryError):
        return f"{name}: decoding would need more memory than allowed"
    text = _printable(str(exc)) or type(exc).__name__
    return f"cannot read image {name}: {text}"


def probe_image(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(width, height)`` of a local image that is safe to decode (see :func:`open_image`);
    :class:`MediaError` otherwise. Reads the header only."""
    with open_image(Path(path)) as img:
        width, height = img.size
        return int(width), int(height)


def thumbnail_bytes(path: Path, size: int) -> tuple[bytes, str]:
    """``(bytes, mime)``: the image at ``path`` shrunk to fit ``size × size``; JPEG for
    opaque images, PNG when the image has transparency or is tiny (sharper).

    Only regular files are opened (never a FIFO or device), the pixel count is checked before
    decoding, JPEGs decode at a reduced scale; every failure is a :class:`MediaError`."""
    try:
        from PIL import Image  # noqa: F401
    except ImportError as exc:
        raise MediaError("local images need Pillow: pip install 'feder[widget]'") from exc
    name = _printable(path.name)
    try:
        with open_image(path, size) as img:
            img.load()
            img.thumbnail((size, size))
            transparent = (img.mode in ("RGBA", "LA", "P") and "transparency" in img.info) or \
                img.mode in ("RGBA", "LA")
            buf = io.BytesIO()
            if transparent or max(img.size) <= 64:
                if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
                    img = img.convert("RGBA" if transparent else "RGB")
                img.save(buf, format="PNG", optimize=True)
                return buf.getvalue(), "image/png"
            img.convert("RGB").save(buf, format="JPEG", quality=82, optimize=True)
            return buf.getvalue(), "image/jpeg"
    except MediaError:
        raise
    except Exception as exc:  # Pillow raises many kinds for hostile files
        raise MediaError(_pillow_reason(name, exc)) from None


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def list_images(folder: str | os.PathLike[str]) -> list[Path]:
    """Image files under ``folder`` (recursively), sorted by their path relative to it.

    The order is the id order: ``feder embed`` writes row ``i`` for image ``i`` of this list,
    and ``feder report`` shows image ``i`` for id ``i``.
    """
    root = Path(folder)
    if not root.is_dir():
        what = "a file" if root.exists() else "nothing"
        raise MediaError(f"expected a folder of images, found {what} at {root}")
    found = [p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())
