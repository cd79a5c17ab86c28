"""Media items (images or text) for ids: URLs pass through, local images become thumbnails.

Local files are turned into small JPEG/PNG thumbnails with Pillow so a notebook or an HTML
report shows them without a file server. A missing or unreadable image becomes a
``{"kind": "missing"}`` item (a placeholder in the view) and a :class:`FederWarning`.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .errors import FederWarning, MediaError

MediaItem = dict[str, Any]
MEDIA_TYPES = ("img", "text")
_URL_SCHEMES = ("http", "https", "data", "blob")


class MediaStore:
    """Looks up the media of an id and caches the items it made.

    ``media``: a sequence indexed by id (Feder's ``mediaUrls``), a mapping id → media, or a
    callable id → media; each media is an http(s)/data URL, a local path (``str`` or
    ``Path``, ``file://`` URLs too) or, with ``media_type="text"``, the text to show.
    """

    def __init__(self, media: Sequence[Any] | Mapping[Any, Any] | Callable[[int], Any] | None,
                 media_type: str = "img", thumb_size: int = 128):
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
        self._cache: dict[int, MediaItem] = {}
        self._warned: set[str] = set()

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
        if ident not in self._cache:
            self._cache[ident] = self._make(ident)
        return self._cache[ident]

    def items(self, ids: Iterable[Any]) -> dict[str, MediaItem]:
        """Items keyed by the id as a decimal string (ids < 0 — faiss padding — skipped)."""
        out: dict[str, MediaItem] = {}
        for ident in ids:
            ident = int(ident)
            if ident >= 0 and self.media is not None:
                out[str(ident)] = self.item(ident)
        return out

    def describe(self, value: Any) -> MediaItem:
        """The item for a media value given directly (a query's own image, for instance)."""
        if value is None:
            return {"kind": "missing", "reason": "no media"}
        if self.media_type == "text":
            return {"kind": "text", "text": str(value)}
        return self._image(value)

    def _make(self, ident: int) -> MediaItem:
        value = self.source(ident)
        if value is None:
            return {"kind": "missing", "reason": f"no media for id {ident}"}
        return self.describe(value)

    def _image(self, value: Any) -> MediaItem:
        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            scheme = urlparse(text).scheme.lower() if isinstance(text, str) else ""
            if scheme in _URL_SCHEMES:
                return {"kind": "url", "url": text}
            path = Path(unquote(urlparse(text).path)) if scheme == "file" else Path(text)
            return self._thumbnail(path)
        return self._missing(repr(value), f"not an image path or URL: {type(value).__name__}")

    def _thumbnail(self, path: Path) -> MediaItem:
        try:
            data, mime = thumbnail_bytes(path, self.thumb_size)
        except MediaError as exc:
            return self._missing(str(path), str(exc))
        return {"kind": "image", "mime": mime, "data": data, "name": path.name}

    def _missing(self, where: str, reason: str) -> MediaItem:
        if where not in self._warned:
            self._warned.add(where)
            warnings.warn(f"feder shows a placeholder for {where}: {reason}", FederWarning,
                          stacklevel=4)
        return {"kind": "missing", "reason": reason}


def thumbnail_bytes(path: Path, size: int) -> tuple[bytes, str]:
    """``(bytes, mime)``: the image at ``path`` shrunk to fit ``size × size``; JPEG for
    opaque images, PNG when the image has transparency or is tiny (sharper)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as exc:
        raise MediaError("local images need Pillow: pip install 'feder[widget]'") from exc
    try:
        with Image.open(path) as img:
            img.load()
            img.thumbnail((size, size))
            transparent = (img.mode in ("RGBA", "LA", "P") and "transparency" in img.info) or \
                img.mode in ("RGBA", "LA")
            buf = io.BytesIO()
            if transparent or max(img.size) <= 64:
                img.save(buf, format="PNG", optimize=True)
                return buf.getvalue(), "image/png"
            img.convert("RGB").save(buf, format="JPEG", quality=82, optimize=True)
            return buf.getvalue(), "image/jpeg"
    except FileNotFoundError:
        raise MediaError(f"no such file: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError(f"cannot read image {path}: {exc}") from None


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
