"""Fields every faiss index shares: the index header and ``std::vector`` length prefixes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import TruncatedIndexError
from ..model import FAISS_METRICS
from ._reader import Cursor

MAX_DIM = 1 << 24


@dataclass(frozen=True)
class IndexHeader:
    """faiss ``write_index_header``: d, ntotal, two dummies, is_trained, metric (+ arg)."""

    at: int  # byte offset of ``d``
    d: int
    ntotal: int
    metric_type: int
    metric_arg: float

    @property
    def metric(self) -> str:
        return FAISS_METRICS[self.metric_type]


def read_header(c: Cursor, what: str) -> IndexHeader:
    start = c.pos
    d = c.scalar("i32", f"{what} dimension d")
    ntotal = c.scalar("i64", f"{what} ntotal")
    c.skip(16, f"{what} reserved fields")
    c.scalar("u8", f"{what} is_trained")
    metric_type = c.scalar("i32", f"{what} metric_type")
    metric_arg = c.scalar("f32", f"{what} metric_arg") if metric_type > 1 else 0.0
    if not 0 < d <= MAX_DIM:
        raise c.buf.fail(f"{what}: dimension d = {d}, expected 1 … {MAX_DIM}", start)
    if ntotal < 0:
        raise c.buf.fail(f"{what}: ntotal = {ntotal}, expected ≥ 0", start + 4)
    if metric_type not in FAISS_METRICS:
        raise c.buf.fail(
            f"{what}: metric_type = {metric_type}, expected one of {sorted(FAISS_METRICS)}",
            start + 29)
    return IndexHeader(start, int(d), int(ntotal), int(metric_type), float(metric_arg))


def read_count(c: Cursor, what: str, item_size: int, end: int | None = None) -> int:
    """A u64 element count, checked against the bytes left (before ``end``) so it cannot
    over-allocate."""
    at = c.pos
    n = c.scalar("u64", what)
    left = (c.buf.size if end is None else end) - c.pos
    if n * item_size > left:
        raise TruncatedIndexError(
            f"{what} = {n} items of {item_size} bytes: expected {n * item_size} bytes, found "
            f"only {max(left, 0)} left (truncated, or a corrupt count)", offset=at,
            source=c.buf.name)
    return int(n)


def read_list_sizes(c: Cursor, nlist: int, end: int | None = None) -> np.ndarray:
    """``(nlist,) uint64`` inverted-list sizes from a ``full`` or ``sprs`` record (before
    ``end``)."""
    at = c.pos
    kind = c.fourcc("list sizes kind")
    n = read_count(c, "list sizes count", 8, end)
    raw = c.array("<u8", n, "list sizes")
    if kind == "full":
        if n != nlist:
            raise c.buf.fail(f"'full' list sizes has {n} entries, expected nlist = {nlist}", at)
        return raw
    if kind != "sprs":
        raise c.buf.fail(f"list sizes kind {kind!r}, expected 'full' or 'sprs'", at)
    if n % 2:
        raise c.buf.fail(f"'sprs' list sizes has an odd count {n}, expected (list, size) pairs",
                         at)
    pairs = raw.reshape(-1, 2)
    list_nos = pairs[:, 0]
    if list_nos.size and (int(list_nos.max()) >= nlist or np.any(list_nos[1:] <= list_nos[:-1])):
        raise c.buf.fail(
            f"'sprs' list numbers must be increasing and below nlist = {nlist}", at + 12)
    sizes = np.zeros(nlist, np.uint64)
    sizes[list_nos.astype(np.int64)] = pairs[:, 1]
    return sizes


def checked_list_sizes(c: Cursor, sizes: np.ndarray, row_bytes: int, ntotal: int, what: str,
                       end: int | None = None) -> np.ndarray:
    """``sizes`` as ``(nlist,) int64`` once the lists they announce (``row_bytes`` a row:
    code and id, from ``c.pos``) are known to fit before ``end`` and to hold ``ntotal``
    rows (``what``: what a row is, for the messages)."""
    lists_at = c.pos
    left = (c.buf.size if end is None else end) - lists_at
    if int(sizes.max(initial=0)) > left // row_bytes or int(sizes.sum()) * row_bytes > left:
        total = sizes.sum(dtype=np.float64)
        raise TruncatedIndexError(
            f"inverted lists announce {total:.0f} {what} of {row_bytes} bytes: expected "
            f"{total * row_bytes:.0f} bytes, found only {left} left", offset=lists_at,
            source=c.buf.name)
    sizes = sizes.astype(np.int64)
    if int(sizes.sum()) != ntotal:
        raise c.buf.fail(f"inverted lists hold {int(sizes.sum())} {what}, header says ntotal = "
                         f"{ntotal}", lists_at)
    return sizes
