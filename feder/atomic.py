"""Writing output files so that nothing is lost: never onto an input, never half-written.

:func:`check_output` refuses an output that is a directory, lies under a non-directory, or is
the same file as one of the inputs (by device and inode, so symlinks and hard links count).
:func:`write_atomic` writes into a temporary file in the target's folder, lets the caller
verify it, then renames it over the target (``os.replace``): a crash, a full disk or a failed
verification leaves the old file as it was and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from .errors import OutputError

PathLike = str | os.PathLike[str]


def shown(path: PathLike) -> str:
    """``path`` as printable text (undecodable bytes of a file name become U+FFFD)."""
    text = os.fspath(path)
    return os.fsencode(text).decode("utf-8", "replace")


def _file_id(path: PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def check_output(path: PathLike, inputs: Iterable[PathLike] = (), what: str = "output",
                 ) -> Path:
    """The real path to write ``path`` to (symlinks resolved), or :class:`OutputError`.

    Refused: an existing directory, a path under a file, and any of ``inputs`` (the same
    file, whatever the path spelling: compared by device and inode)."""
    out = Path(os.path.realpath(os.fspath(path)))
    try:
        st = os.stat(out)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputError(f"cannot write the {what} {shown(path)}: a part of its folder "
                          "is a file, expected a directory") from None
    except OSError as exc:
        raise OutputError(f"cannot write the {what} {shown(path)}: {exc.strerror}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"the {what} {shown(path)} is a directory: expected a file name")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"the {what} {shown(path)} is a special file (FIFO, device or "
                              "socket): expected a regular file or a new name")
        here = (st.st_dev, st.st_ino)
        for item in inputs:
            if _file_id(item) == here:
                raise OutputError(
                    f"refusing to write the {what} onto the input {shown(item)}: choose "
                    "another output name")
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"cannot write the {what} {shown(path)}: {shown(parent)} is a file, "
                          "expected a directory")
    return out


def write_atomic(path: PathLike, write: Callable[[IO[bytes], str], Any], *,
                 inputs: Iterable[PathLike] = (), verify: Callable[[str], Any] | None = None,
                 what: str = "output", make_parents: bool = False) -> Path:
    """Write ``path`` through a temporary file in its folder and rename it when complete.

    ``write(fh, tmp_path)`` fills the temporary file (through the open binary ``fh``, or by
    writing ``tmp_path`` itself, e.g. ``faiss.write_index``); ``verify(tmp_path)`` may raise
    to reject the result. The target is checked with :func:`check_output` first. Returns
    the path written (symlinks resolved)."""
    out = check_output(path, inputs, what)
    if make_parents:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder of the {what} {shown(path)}: "
                              f"{exc.strerror or exc}") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name[:120]}.", suffix=".part")
    except OSError as exc:
        raise OutputError(f"cannot write the {what} {shown(path)}: "
                          f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w+b") as fh:
            write(fh, tmp)
            fh.flush()
            with contextlib.suppress(OSError):
                os.fsync(fh.fileno())
        if verify is not None:
            verify(tmp)
        _set_mode(tmp, out)
        out_now = check_output(out, inputs, what)  # still not an input, not a directory
        os.replace(tmp, out_now)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot write the {what} {shown(path)}: "
                              f"{exc.strerror or exc}") from None
        raise
    return out


def _set_mode(tmp: str, out: Path) -> None:
    """The mode the file would have had: the old file's, or 0666 minus the umask."""
    try:
        mode = stat.S_IMODE(os.stat(out).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)


def write_bytes(path: PathLike, data: bytes, *, inputs: Iterable[PathLike] = (),
                what: str = "output") -> Path:
    """:func:`write_atomic` of ``data``, checked to be on disk in full afterwards."""
    def verify(tmp: str) -> None:
        size = os.path.getsize(tmp)
        if size != len(data):
            raise OutputError(f"the {what} {shown(path)} was written with {size} bytes, "
                              f"expected {len(data)}")

    return write_atomic(path, lambda fh, _tmp: fh.write(data), inputs=inputs, verify=verify,
                        what=what)


def write_text(path: PathLike, text: str, *, inputs: Iterable[PathLike] = (),
               what: str = "output") -> Path:
    """:func:`write_bytes` of ``text`` in UTF-8 (undecodable surrogates become "?")."""
    return write_bytes(path, text.encode("utf-8", "replace"), inputs=inputs, what=what)


__all__ = ["check_output", "shown", "write_atomic", "write_bytes", "write_text"]
