"""The one exception hierarchy of feder.

Every error feder raises on purpose derives from :class:`FederError`. The subclasses also
derive from the built-in exception a Python user would expect (``ValueError``, ``KeyError``,
``NotImplementedError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class FederError(Exception):
    """Base class of every error raised by feder."""


class IndexFormatError(FederError, ValueError):
    """An index file or buffer is not what it claims to be: truncated, corrupt or foreign.

    ``offset`` is the byte offset at which the problem was found, when known.
    """

    def __init__(self, message: str, *, offset: int | None = None, source: str | None = None):
        where = []
        if source:
            where.append(source)
        if offset is not None:
            where.append(f"byte offset {offset}")
        full = f"{message} (at {', '.join(where)})" if where else message
        super().__init__(full)
        self.offset = offset
        self.source = source


class TruncatedIndexError(IndexFormatError):
    """The index ends before a field or array it announced."""


class UnsupportedIndexError(FederError, NotImplementedError):
    """A valid index of a kind feder does not read or replay (yet)."""


class QueryError(FederError, ValueError):
    """A query vector or search parameter is unusable: wrong shape, NaN/inf, k < 1, …"""


class UnknownIdError(FederError, KeyError):
    """An id that is not in the index."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ParameterError(FederError, ValueError):
    """A view or search parameter has a value that is not allowed."""


class MediaError(FederError, ValueError):
    """A media item (image path, URL, text) cannot be used."""


class EmbeddingError(FederError, RuntimeError):
    """An image cannot be embedded, or an embedding backend is unavailable."""


class FederWarning(UserWarning):
    """Warnings feder emits (missing images, slow options chosen, …)."""


class IndexChangedError(FederError, RuntimeError):
    """The index file changed on disk (rewritten, truncated, replaced or deleted) after it was
    loaded: the loaded index no longer matches it and must be loaded again."""


class OutputError(FederError, ValueError):
    """An output file cannot be written: it is a directory, lies under a file, is one of the
    inputs, or writing it failed (the previous file, if any, is left as it was)."""
