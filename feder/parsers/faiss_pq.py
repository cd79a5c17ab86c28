"""faiss ``ProductQuantizer``: its serialized fields and its codes unpacked as faiss does.

``write_ProductQuantizer``: u64 ``d``, u64 ``M``, u64 ``nbits``, then ``centroids`` (u64 count
+ f32, ``M × 2^nbits × d/M``: sub-quantizer ``m``'s centroid ``j`` at ``(m·ksub + j)·dsub``).
A code packs ``M`` indices of ``nbits`` bits little-endian, lowest bit first
(``PQEncoderGeneric``), in ``ceil(M·nbits / 8)`` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UnsupportedIndexError
from ._reader import Cursor
from .faiss_common import read_count


@dataclass(frozen=True, eq=False)
class PQCodec:
    """A trained product quantizer: ``centroids`` is ``(M, ksub, dsub) float32``."""

    d: int
    M: int
    nbits: int
    centroids: np.ndarray

    @property
    def ksub(self) -> int:
        return 1 << self.nbits

    @property
    def dsub(self) -> int:
        return self.d // self.M

    @property
    def code_size(self) -> int:
        return (self.M * self.nbits + 7) // 8

    def indices(self, codes: np.ndarray) -> np.ndarray:
        """``(m, M)`` centroid indices of ``(m, code_size) uint8`` codes: ``uint8`` for up to
        8 bits (8-bit codes are returned as they are stored, no copy), ``uint16`` above."""
        codes = np.asarray(codes, dtype=np.uint8).reshape(-1, self.code_size)
        if self.nbits == 8:
            return codes[:, : self.M]
        bits = np.unpackbits(codes, axis=1, bitorder="little")[:, : self.M * self.nbits]
        weights = (1 << np.arange(self.nbits, dtype=np.int64))
        values = bits.reshape(-1, self.M, self.nbits).astype(np.int64) @ weights
        return values.astype(np.uint8 if self.nbits <= 8 else np.uint16)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """``(m, d) float32``: each code's sub-centroids side by side (``pq.decode``)."""
        idx = self.indices(codes).astype(np.intp)
        parts = self.centroids[np.arange(self.M)[None, :], idx]  # (m, M, dsub)
        return np.ascontiguousarray(parts.reshape(idx.shape[0], self.d), dtype=np.float32)


def read_pq(c: Cursor, d: int, end: int, what: str) -> PQCodec:
    buf = c.buf
    at = c.pos
    pq_d = c.scalar("u64", f"{what} d")
    m = c.scalar("u64", f"{what} M")
    nbits = c.scalar("u64", f"{what} nbits")
    cent_at = c.pos
    count = read_count(c, f"{what} centroid float count", 4, end)
    centroids = c.array("<f4", count, f"{what} centroids")
    if pq_d != d:
        raise buf.fail(f"{what}: d = {pq_d}, expected the index dimension {d}", at)
    if not 0 < m <= d or d % m:
        raise buf.fail(f"{what}: M = {m} must divide d = {d}", at + 8)
    if not 1 <= nbits <= 16:
        raise UnsupportedIndexError(
            f"{what}: nbits = {nbits} is not decoded: feder reads 1 … 16 bits per "
            f"sub-quantizer (in {buf.name}, byte offset {at + 16})")
    if count != d << nbits:
        raise buf.fail(f"{what}: {count} centroid floats, expected d·2^nbits = "
                       f"{d << nbits}", cent_at)
    shaped = np.array(centroids, dtype=np.float32).reshape(m, 1 << nbits, d // m)
    return PQCodec(int(d), int(m), int(nbits), shaped)
