"""faiss ``ScalarQuantizer``: its serialized fields and its codes decoded as faiss does.

``write_ScalarQuantizer``: i32 ``qtype``, i32 ``rangestat``, f32 ``rangestat_arg``, u64 ``d``,
u64 ``code_size``, then ``trained`` (u64 count + f32): per-dimension ``vmin`` then ``vdiff`` for
the non-uniform types, one ``vmin, vdiff`` pair for the uniform ones, nothing for fp16/bf16 and
the direct types.

Decoding follows faiss's ``sa_decode``/``reconstruct`` (``impl/scalar_quantizer``): a k-bit
code ``c`` becomes ``xi = (c + 0.5f) / (2^k − 1)`` and the component ``vmin + xi·vdiff`` — one
fused multiply-add (evaluated exactly in float64, rounded once) when ``d`` is a multiple of 8,
where faiss takes its SIMD path, two float32 roundings otherwise (verified bit for bit against
faiss 1.15.1's ``reconstruct_n``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UnsupportedIndexError
from ._reader import Cursor
from .faiss_common import read_count

QTYPES = {
    0: "QT_8bit",
    1: "QT_4bit",
    2: "QT_8bit_uniform",
    3: "QT_4bit_uniform",
    4: "QT_fp16",
    5: "QT_8bit_direct",
    6: "QT_6bit",
    7: "QT_bf16",
    8: "QT_8bit_direct_signed",
}
"""The ``ScalarQuantizer::QuantizerType`` values feder decodes."""

_BITS = {0: 8, 1: 4, 2: 8, 3: 4, 4: 16, 5: 8, 6: 6, 7: 16, 8: 8}
_UNIFORM = {2, 3}
_NON_UNIFORM = {0, 1, 6}


@dataclass(frozen=True, eq=False)
class SQCodec:
    """A trained scalar quantizer: ``decode`` turns ``(m, code_size) uint8`` codes into
    ``(m, d) float32`` values exactly as faiss reconstructs them."""

    qtype: int
    d: int
    code_size: int
    trained: np.ndarray  # float32

    @property
    def name(self) -> str:
        return QTYPES[self.qtype]

    def decode(self, codes: np.ndarray, for_search: bool = False) -> np.ndarray:
        """``for_search``: the values faiss's distance computers use, which differ from
        ``reconstruct`` in the last bit when ``d`` is a multiple of 8: the SIMD codecs form
        ``xi`` as ``fma(c, 1/(2^k−1), 0.5/(2^k−1))`` (4-bit codes: ``(c + 0.5)·(1/15)``
        unless ``d`` is a multiple of 16, where AVX-512 also uses the fused form)."""
        codes = np.asarray(codes, dtype=np.uint8).reshape(-1, self.code_size)
        q, d = self.qtype, self.d
        if q == 4:
            return codes.view("<f2")[:, :d].astype(np.float32)
        if q == 7:
            raw = codes.view("<u2")[:, :d].astype(np.uint32) << 16
            return raw.view(np.float32)
        if q == 5:
            return codes[:, :d].astype(np.float32)
        if q == 8:
            return (codes[:, :d].astype(np.float32) - np.float32(128))
        levels = _unpack(codes, _BITS[q], d).astype(np.float32)
        scale = (2 ** _BITS[q]) - 1
        if for_search and d % 8 == 0 and (_BITS[q] != 4 or d % 16 == 0):
            one = np.float64(np.float32(1.0 / scale))
            half = np.float64(np.float32(0.5 / scale))
            xi = (levels.astype(np.float64) * one + half).astype(np.float32)
        elif for_search and d % 8 == 0:
            xi = (levels + np.float32(0.5)) * np.float32(1.0 / scale)
        else:
            xi = (levels + np.float32(0.5)) / np.float32(scale)
        if q in _UNIFORM:
            vmin, vdiff = self.trained[0:1], self.trained[1:2]
        else:
            vmin, vdiff = self.trained[:d], self.trained[d: 2 * d]
        if d % 8 == 0:  # faiss's SIMD path: one fused multiply-add (exact in float64)
            fused = xi.astype(np.float64) * vdiff.astype(np.float64) + vmin.astype(np.float64)
            return fused.astype(np.float32)
        return np.asarray(vmin + xi * vdiff, dtype=np.float32)


def _unpack(codes: np.ndarray, bits: int, d: int) -> np.ndarray:
    """``(m, d)`` integer levels of ``bits``-bit components packed little-endian."""
    if bits == 8:
        return codes[:, :d]
    if bits == 4:
        low = codes & 0x0F
        high = codes >> 4
        return np.stack([low, high], axis=2).reshape(codes.shape[0], 2 * codes.shape[1])[:, :d]
    # 6 bits: four components in three bytes
    groups = (d + 3) // 4
    raw = np.zeros((codes.shape[0], groups * 3), np.uint8)
    raw[:, : min(codes.shape[1], groups * 3)] = codes[:, : groups * 3]
    b = raw.reshape(-1, groups, 3).astype(np.uint16)
    c0 = b[:, :, 0] & 0x3F
    c1 = (b[:, :, 0] >> 6) | ((b[:, :, 1] & 0x0F) << 2)
    c2 = (b[:, :, 1] >> 4) | ((b[:, :, 2] & 0x03) << 4)
    c3 = b[:, :, 2] >> 2
    return np.stack([c0, c1, c2, c3], axis=2).reshape(codes.shape[0], 4 * groups)[:, :d]


def expected_code_size(qtype: int, d: int) -> int:
    bits = _BITS[qtype]
    if bits == 6:
        return (d * 6 + 7) // 8
    return (d * bits + 7) // 8


def read_sq(c: Cursor, d: int, end: int, what: str) -> SQCodec:
    """Read a ``ScalarQuantizer`` for vectors of dimension ``d``."""
    buf = c.buf
    at = c.pos
    qtype = c.scalar("i32", f"{what} qtype")
    c.scalar("i32", f"{what} rangestat")
    c.scalar("f32", f"{what} rangestat_arg")
    sq_d = c.scalar("u64", f"{what} d")
    code_size = c.scalar("u64", f"{what} code_size")
    trained_at = c.pos
    trained = c.array("<f4", read_count(c, f"{what} trained count", 4, end),
                      f"{what} trained")
    if qtype not in QTYPES:
        raise UnsupportedIndexError(
            f"{what}: quantizer type {qtype} is not decoded: feder decodes "
            f"{', '.join(QTYPES.values())} (in {buf.name}, byte offset {at})")
    if sq_d != d:
        raise buf.fail(f"{what}: d = {sq_d}, expected the index dimension {d}", at + 12)
    expected = expected_code_size(qtype, d)
    if code_size != expected:
        raise buf.fail(f"{what}: code_size = {code_size}, expected {expected} for "
                       f"{QTYPES[qtype]} of dimension {d}", at + 20)
    need = 2 * d if qtype in _NON_UNIFORM else 2 if qtype in _UNIFORM else 0
    if trained.size != need:
        raise buf.fail(f"{what}: {trained.size} trained values, expected {need} for "
                       f"{QTYPES[qtype]} of dimension {d}", trained_at)
    return SQCodec(int(qtype), int(d), int(code_size), np.array(trained, dtype=np.float32))
