"""Reading the small side files of a saved vector store (pickles, JSON) safely."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import IndexFormatError

MAX_SIDE_FILE_BYTES = 1 << 30
"""Largest side file (``index.pkl``, ``docstore.json``) read: 1 GiB."""


def read_side_file(path: Path, where: str, limit: int = MAX_SIDE_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``); a FIFO, device, folder,
    missing or oversized file is an :class:`IndexFormatError` naming ``where``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise IndexFormatError(f"{path.name} is missing", source=where) from None
    except OSError as exc:
        raise IndexFormatError(f"cannot read {path.name}: {exc.strerror}", source=where) from None
    with open(fd, "rb", closefd=True) as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO, device or socket"
            raise IndexFormatError(f"{path.name} is {kind}, expected a file", source=where)
        if st.st_size > limit:
            raise IndexFormatError(f"{path.name} has {st.st_size:,} bytes, expected at most "
                                   f"{limit:,}", source=where)
        return fh.read(limit + 1)[:limit]


def read_json(path: Path, where: str) -> Any:
    """The JSON document in ``path`` (see :func:`read_side_file`); malformed JSON is an
    :class:`IndexFormatError`."""
    raw = read_side_file(path, where)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise IndexFormatError(f"{path.name} is not UTF-8 text (byte {exc.start})",
                               source=where) from None
    except json.JSONDecodeError as exc:
        raise IndexFormatError(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}",
                               source=where) from None
    except RecursionError:
        raise IndexFormatError(f"{path.name} nests too deeply", source=where) from None
