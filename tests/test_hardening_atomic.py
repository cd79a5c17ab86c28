"""feder.atomic: outputs are written completely or not at all, and never onto an input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import pytest

from feder.atomic import check_output, write_atomic, write_bytes, write_text
from feder.errors import FederError, OutputError


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("old")

    def half(fh: IO[bytes], _tmp: str) -> None:
        fh.write(b"half a rep")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="No space left"):
        write_atomic(out, half)
    assert out.read_text() == "old" and _leftovers(tmp_path) == []


def test_a_failed_verification_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "v.npy"
    out.write_bytes(b"old")

    def verify(tmp: str) -> None:
        raise OutputError("does not read back")

    with pytest.raises(OutputError, match="read back"):
        write_atomic(out, lambda fh, _t: fh.write(b"new"), verify=verify)
    assert out.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_an_interrupt_leaves_no_temporary(tmp_path: Path) -> None:
    def interrupted(fh: IO[bytes], _tmp: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "x", interrupted)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotted"])
def test_inputs_are_never_overwritten(tmp_path: Path, how: str) -> None:
    source = tmp_path / "faiss.index"
    source.write_bytes(b"index bytes")
    target = {"same": source, "dotted": tmp_path / "." / "faiss.index",
              "symlink": tmp_path / "link", "hardlink": tmp_path / "hard"}[how]
    if how == "symlink":
        target.symlink_to(source)
    if how == "hardlink":
        os.link(source, target)
    with pytest.raises(OutputError, match="onto the input") as info:
        write_text(target, "<html>", inputs=[source])
    assert isinstance(info.value, FederError)
    assert source.read_bytes() == b"index bytes"


def test_directories_special_files_and_paths_under_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    for bad, message in ((tmp_path, "is a directory"), (tmp_path / "fifo", "special file"),
                         (tmp_path / "file" / "out.html", "is a file")):
        with pytest.raises(OutputError, match=message):
            check_output(bad)
        with pytest.raises(OutputError):
            write_bytes(bad, b"x")


def test_a_symlinked_output_writes_its_target_and_keeps_the_mode(tmp_path: Path) -> None:
    real = tmp_path / "real.html"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.html"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o640


def test_long_and_undecodable_names(tmp_path: Path) -> None:
    long = tmp_path / ("n" * 250)
    write_text(long, "x")
    assert long.read_text() == "x"
    odd = os.fsdecode(os.fsencode(tmp_path) + b"/r\xe9port.html")
    write_text(odd, "caf\udce9")
    with open(os.fsencode(odd), "rb") as fh:
        assert fh.read() == b"caf?"
