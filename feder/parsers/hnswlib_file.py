"""Reader for hnswlib ``saveIndex`` files, without calling hnswlib.

Layout (hnswlib ``hnswalg.h``): a 96-byte header, the level-0 block (one fixed-size record per
element: link count, flags, links, vector, label), then per element a u32 byte count and its
upper-level link lists. The file records neither the space nor the dimension's meaning: the
dimension follows from the record layout and the space must be given by the user.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError, TruncatedIndexError
from ..model import HNSWIndex, LevelGraph
from ._reader import Buffer, Cursor, FileGuard

HEADER_SIZE = 96
SPACES = ("l2", "ip", "cosine")
_DELETE_MARK = 0x01


def looks_like_hnswlib(buf: Buffer) -> bool:
    """True if the buffer could be an hnswlib file (offsetLevel0 is always 0)."""
    return buf.size >= 8 and buf.scalar("u64", 0, "offsetLevel0") == 0


def check_space(space: str) -> str:
    if space not in SPACES:
        raise ParameterError(f"space must be one of {', '.join(SPACES)} for hnswlib, "
                             f"got {space!r}")
    return space


def parse_hnswlib(buf: Buffer, space: str = "l2") -> HNSWIndex:
    """Parse an hnswlib index file into an :class:`HNSWIndex` (vectors and labels are views)."""
    check_space(space)
    c = Cursor(buf)
    offset_level0 = c.scalar("u64", "offsetLevel0")
    max_elements = c.scalar("u64", "max_elements")
    n = c.scalar("u64", "cur_element_count")
    size_per = c.scalar("u64", "size_data_per_element")
    label_offset = c.scalar("u64", "label_offset")
    offset_data = c.scalar("u64", "offsetData")
    max_level = c.scalar("i32", "maxlevel")
    entry_point = c.scalar("u32", "enterpoint_node")
    max_m = c.scalar("u64", "maxM")
    max_m0 = c.scalar("u64", "maxM0")
    m = c.scalar("u64", "M")
    mult = c.scalar("f64", "mult")
    ef_construction = c.scalar("u64", "ef_construction")

    def bad(message: str, at: int) -> Exception:
        return buf.fail(f"not a valid hnswlib index: {message}", at)

    if offset_level0 != 0:
        raise bad(f"offsetLevel0 = {offset_level0}, expected 0", 0)
    if n > max_elements:
        raise bad(f"cur_element_count = {n} exceeds max_elements = {max_elements}", 16)
    if not 0 < max_m0 < 1 << 16 or not 0 < max_m < 1 << 16:
        raise bad(f"maxM = {max_m}, maxM0 = {max_m0}, expected 1 … 65535", 56)
    if offset_data != 4 + 4 * max_m0:
        raise bad(f"offsetData = {offset_data}, expected 4 + 4·maxM0 = {4 + 4 * max_m0}", 40)
    if label_offset <= offset_data or (label_offset - offset_data) % 4:
        raise bad(f"label_offset = {label_offset} must exceed offsetData = {offset_data} by a "
                  f"multiple of 4", 32)
    if size_per != label_offset + 8:
        raise bad(f"size_data_per_element = {size_per}, expected label_offset + 8 = "
                  f"{label_offset + 8}", 24)
    dim = (label_offset - offset_data) // 4
    if n > (buf.size - HEADER_SIZE) // size_per:
        raise TruncatedIndexError(f"the level-0 block of {n} elements: expected {n} × "
                                  f"{size_per} bytes, found only {buf.size - HEADER_SIZE} left",
                                  offset=HEADER_SIZE, source=buf.name)
    if n == 0:
        return _empty(dim, space, max_m, max_m0, m, mult, ef_construction, max_elements, buf)
    if entry_point >= n or not 0 <= max_level < 64:
        raise bad(f"entry point {entry_point} / maxlevel {max_level} out of range for {n} "
                  "elements", 48)

    record = np.dtype({
        "names": ["count", "flags", "links", "vector", "label"],
        "formats": ["<u2", "u1", ("<u4", (max_m0,)), ("<f4", (dim,)), "<u8"],
        "offsets": [0, 2, 4, offset_data, label_offset],
        "itemsize": size_per,
    })
    records = np.frombuffer(buf.data, dtype=record, count=n, offset=HEADER_SIZE)
    counts0 = records["count"]
    if int(counts0.max()) > max_m0:
        row = int(np.argmax(counts0))
        raise bad(f"element {row} has {int(counts0[row])} level-0 links, expected ≤ maxM0 = "
                  f"{max_m0}", HEADER_SIZE + row * size_per)
    level0 = _csr(0, np.arange(n, dtype=np.int64), records["links"], counts0.astype(np.int64))
    _check_targets(level0, n, None, buf, HEADER_SIZE)

    tail_at = HEADER_SIZE + n * size_per
    if (buf.size - tail_at) % 4:
        raise bad(f"the link lists occupy {buf.size - tail_at} bytes, expected a multiple of 4",
                  tail_at)
    tail = buf.array("<u4", (buf.size - tail_at) // 4, tail_at, "link lists")
    elements, headers, element_levels = _scan_link_lists(buf, tail, tail_at, n, max_m,
                                                         max_level)
    levels = np.zeros(n, np.int32)
    levels[elements] = element_levels
    if int(levels[entry_point]) != max_level or int(levels.max()) != max_level:
        raise bad(f"the entry point {entry_point} has level {int(levels[entry_point])}, the "
                  f"highest element level is {int(levels.max())}; the header says maxlevel = "
                  f"{max_level}", 48)

    graphs = [level0]
    for level in range(1, max_level + 1):
        on_level = element_levels >= level
        blocks = headers[on_level] + 1 + (level - 1) * (max_m + 1)
        counts = tail[blocks].astype(np.int64)
        if counts.size and int(counts.max()) > max_m:
            row = int(np.argmax(counts))
            raise bad(f"element {int(elements[on_level][row])} has {int(counts[row])} links on "
                      f"level {level}, expected ≤ maxM = {max_m}", tail_at + 4 * int(blocks[row]))
        links = tail[blocks[:, None] + 1 + np.arange(max_m)]
        graph = _csr(level, elements[on_level], links, counts)
        _check_targets(graph, n, levels, buf, tail_at)
        graphs.append(graph)

    labels = records["label"]
    cls = HNSWIndex
    if buf.guard is not None:
        # A memory-mapped file: labels are copied (8 bytes a node), the vectors stay a view
        # that is handed out only after checking the file (see _reader.FileGuard).
        labels = np.array(labels)
        cls = MappedHNSWIndex
    return cls(
        dim=dim,
        metric=space,
        M=int(m),
        max_M=int(max_m),
        max_M0=int(max_m0),
        ef_construction=int(ef_construction),
        mult=float(mult),
        max_elements=int(max_elements),
        entry_point=int(entry_point),
        max_level=int(max_level),
        labels=labels,
        levels=levels,
        vectors=records["vector"],
        deleted=(records["flags"] & _DELETE_MARK).astype(bool),
        graphs=graphs,
        source=buf.name,
        _owner=buf.owner,
    )


class MappedHNSWIndex(HNSWIndex):
    """An :class:`HNSWIndex` whose ``vectors`` view a memory-mapped file: reading the
    attribute checks the file first (``_owner`` is its :class:`~._reader.FileGuard`) and
    raises :class:`~feder.errors.IndexChangedError` once it changed, never SIGBUS."""

    @property
    def vectors(self) -> np.ndarray:
        guard = self._owner
        if isinstance(guard, FileGuard):
            guard.check()
        return self.__dict__["_mapped_vectors"]  # type: ignore[no-any-return]

    @vectors.setter
    def vectors(self, value: np.ndarray) -> None:
        self.__dict__["_mapped_vectors"] = value


def _csr(level: int, nodes: np.ndarray, links: np.ndarray, counts: np.ndarray) -> LevelGraph:
    """Pack padded ``(m, width)`` link rows with ``counts`` valid entries into CSR."""
    width = links.shape[1]
    mask = np.arange(width) < counts[:, None]
    offsets = np.zeros(nodes.shape[0] + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return LevelGraph(level, nodes, offsets, np.ascontiguousarray(links[mask], dtype=np.uint32))


def _check_targets(graph: LevelGraph, n: int, levels: np.ndarray | None, buf: Buffer,
                   at: int) -> None:
    """Every link must point at an existing element that lives on the link's level."""
    if graph.neighbors.size == 0:
        return
    top = int(graph.neighbors.max())
    if top >= n:
        raise buf.fail(f"not a valid hnswlib index: a level-{graph.level} link points at "
                       f"element {top}, but there are only {n}", at)
    if levels is not None and int(levels[graph.neighbors].min()) < graph.level:
        raise buf.fail(f"not a valid hnswlib index: a level-{graph.level} link points at an "
                       f"element below that level", at)


def _scan_link_lists(buf: Buffer, tail: np.ndarray, at: int, n: int, max_m: int,
                     max_level: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk the per-element ``[u32 nbytes][links]`` records (``tail``, u32 words at byte
    ``at``) that follow the level-0 block.

    Returns ``(elements, headers, levels)``: the internal ids with level ≥ 1, the u32 index of
    each one's byte count within the tail, and their levels. Most elements have level 0
    (a lone zero word), so only the others are visited, by jumping over runs of zeros.
    """
    block_words = max_m + 1
    nonzero = np.flatnonzero(tail)
    # next_nonzero[w]: the first non-zero word at or after w (tail.size if none)
    marks = np.full(tail.size + 1, tail.size, np.int64)
    marks[nonzero] = nonzero
    next_nonzero_of = np.minimum.accumulate(marks[::-1])[::-1]
    elements: list[int] = []
    headers: list[int] = []
    levels: list[int] = []
    word = 0
    element = 0
    while element < n:
        next_nonzero = int(next_nonzero_of[min(word, tail.size)])
        zeros = next_nonzero - word
        if element + zeros >= n:
            word += n - element
            element = n
            break
        element += zeros
        word = next_nonzero
        if word >= tail.size:
            break
        nbytes = int(tail[word])
        level, rest = divmod(nbytes, 4 * block_words)
        if rest or level > max_level:
            raise buf.fail(
                f"not a valid hnswlib index: element {element} announces {nbytes} bytes of "
                f"upper-level links, expected a multiple of {4 * block_words} up to "
                f"maxlevel = {max_level} levels", at + 4 * word)
        elements.append(element)
        headers.append(word)
        levels.append(level)
        word += 1 + level * block_words
        element += 1
    if element < n or word != tail.size:
        found = "ends early" if word > tail.size or element < n else "has trailing bytes"
        raise buf.fail(f"the upper-level link lists of {n} elements end at byte "
                       f"{at + 4 * word}, but the file {found} ({buf.size} bytes)",
                       at + 4 * min(word, tail.size))
    return (np.asarray(elements, np.int64), np.asarray(headers, np.int64),
            np.asarray(levels, np.int32))


def _empty(dim: int, space: str, max_m: int, max_m0: int, m: int, mult: float, efc: int,
           max_elements: int, buf: Buffer) -> HNSWIndex:
    nodes = np.empty(0, np.int64)
    graph = LevelGraph(0, nodes, np.zeros(1, np.int64), np.empty(0, np.uint32))
    return HNSWIndex(dim=dim, metric=space, M=int(m), max_M=int(max_m), max_M0=int(max_m0),
                     ef_construction=int(efc), mult=float(mult), max_elements=int(max_elements),
                     entry_point=-1, max_level=-1, labels=np.empty(0, np.uint64),
                     levels=np.empty(0, np.int32), vectors=np.empty((0, dim), np.float32),
                     deleted=np.empty(0, bool), graphs=[graph], source=buf.name)


__all__ = ["SPACES", "MappedHNSWIndex", "looks_like_hnswlib", "parse_hnswlib"]
