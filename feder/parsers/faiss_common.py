"""Fields every faiss index shares: the index header and ``std::vector`` length prefixes."""

from __future__ import annotations

from dataclasses import dataclass

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
