"""Reading images for embedding: one place that turns files into RGB Pillow images.

Every failure (missing file, not an image, truncated data) becomes an
:class:`~feder.errors.EmbeddingError` naming the path and the reason, never a raw Pillow or
``OSError``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import EmbeddingError, MediaError
from ..media import open_image

PathLike = str | os.PathLike[str]


def to_rgb(image: Image.Image) -> Image.Image:
    """Return ``image`` in RGB mode.

    Grayscale, palette and CMYK images are converted; an alpha channel is composited onto a
    white background (so transparent regions do not turn black).
    """
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def open_rgb(path: PathLike) -> Image.Image:
    """Open an image file, decode it fully and return it upright (EXIF orientation applied) in
    RGB mode.

    Raises :class:`EmbeddingError` (with the path and the reason) when the file is missing,
    unreadable, not an image or truncated.
    """
    where = Path(path)
    try:
        # regular files only, pixels capped before decoding (FIFOs, bombs: see feder.media)
        with open_image(where) as image:
            image.load()
            return to_rgb(ImageOps.exif_transpose(image))
    except MediaError as exc:
        raise EmbeddingError(f"cannot embed {where}: {exc}") from None
    except FileNotFoundError:
        raise EmbeddingError(f"cannot embed {where}: no such file") from None
    except IsADirectoryError:
        raise EmbeddingError(f"cannot embed {where}: it is a directory") from None
    except UnidentifiedImageError:
        raise EmbeddingError(f"cannot embed {where}: not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise EmbeddingError(f"cannot embed {where}: {exc}") from None


def check_image(image: object, position: int) -> Image.Image:
    """``image`` in RGB if it is a Pillow image, else :class:`EmbeddingError` with its position."""
    if not isinstance(image, Image.Image):
        raise EmbeddingError(
            f"item {position} is a {type(image).__name__}: expected a PIL.Image.Image"
        )
    try:
        return to_rgb(image)
    except (OSError, ValueError) as exc:
        raise EmbeddingError(f"cannot embed item {position}: {exc}") from None
