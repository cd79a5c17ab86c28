"""Many hnswlib searches at once, in lockstep: final results and distance counts only.

:func:`feder.trace.search` replays one search decision by decision, recording every step. A
sweep needs only each search's results and work, for many queries and several ``ef``, so
here every numpy call advances a whole chunk of queries by one step. Without exactly equal
distances, hnswlib's ``searchBaseLayerST`` is equivalent to: *keep the ``ef`` closest nodes
seen; repeatedly expand the closest one not yet expanded (computing the distance of each
unvisited neighbour); stop when all are expanded.* (A candidate hnswlib pops is either such
a node, or a node evicted from the beam, which is farther than the beam's worst and ends the
loop.) Deleted elements are candidates but never enter the beam: they wait in a list of
their own, and while the beam is not full nothing stops the search. The upper-level greedy
descent moves to the first closest link while that improves, which ``argmin`` reproduces.

Equal distances change this only where hnswlib's ``std::priority_queue`` must choose between
them: two unexpanded beam nodes at the closest distance (which is expanded first), or a tie
across the beam's boundary (which one stays; this also covers a rejected node equal to the
worst, and an evicted candidate equal to the lower bound), or across the ``k``-th result.
A search meeting any of these, a NaN or an overflowing distance is flagged, and
:func:`feder.trace.search` replays it with libstdc++'s heap order instead. (The ``k``-th
result tie is conservative: any tie on a boundary is flagged.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import HNSWIndex, LevelGraph
from ..trace.distances import hnswlib_normalize

_FLT_MAX = np.float32(np.finfo(np.float32).max)
_VISITED_BYTES = 1 << 25  # (queries × nodes) visited flags per chunk: ≈ 32 MB


@dataclass(frozen=True, eq=False)
class LockstepResult:
    """``ids``: ``(nq, k) int64`` internal ids found (closest first). ``work``: ``(nq,)
    int64`` distance computations. ``replay``: ``(nq,) bool`` queries with exact ties / NaN
    on level 0, whose ``ids``/``work`` are not valid (replay them one by one)."""

    ids: np.ndarray
    work: np.ndarray
    replay: np.ndarray


def padded(graph: LevelGraph) -> np.ndarray:
    """``(m, w) int64`` the level's links as rows padded with −1 (``w`` = most links)."""
    counts = np.diff(graph.offsets)
    width = max(int(counts.max(initial=0)), 1)
    out = np.full((counts.size, width), -1, np.int64)
    row = np.repeat(np.arange(counts.size), counts)
    col = np.arange(graph.neighbors.size) - np.repeat(graph.offsets[:-1], counts)
    out[row, col] = graph.neighbors
    return out


class LockstepHNSW:
    """Searches of an hnswlib model (no deleted elements) for query chunks, per ``ef``.

    Upper levels become padded link tables (they are small); level 0 is read as CSR."""

    def __init__(self, index: HNSWIndex):
        self.index = index
        self.vectors = index.vectors
        self.space = index.metric
        self.deleted = index.deleted if index.num_deleted else None
        self.upper = [(graph.nodes, padded(graph)) for graph in index.graphs[1:]]
        base = index.graphs[0]
        self.offsets, self.neighbors = base.offsets, base.neighbors  # level 0 stays CSR
        self.width = max(int(np.diff(base.offsets).max(initial=0)), 1)

    def distances(self, nodes: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """``(m,) float32`` hnswlib distance of each ``nodes[i]`` to ``queries[i]`` (``(m,
        d)``), computed like :func:`~feder.trace.distances.hnswlib_distances`."""
        x = self.vectors[nodes]  # a copy: subtract in place
        if self.space == "l2":
            x -= queries
            return np.asarray(np.einsum("ij,ij->i", x, x), dtype=np.float32)
        return np.asarray(np.float32(1.0) - np.einsum("ij,ij->i", x, queries),
                          dtype=np.float32)

    def descend(self, qs: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Greedy descent of ``qs`` ``(c, d)`` (as searched) to level 1: ``(node, its
        distance, distance computations so far, NaN met)``, each ``(c,)``."""
        c = qs.shape[0]
        entry = self.index.entry_point
        cur = np.full(c, entry, np.int64)
        cur_d = self.distances(cur, qs)
        work = np.ones(c, np.int64)
        nan = np.isnan(cur_d)
        for nodes, table in reversed(self.upper):
            active = np.arange(c)
            while active.size:
                links = table[np.searchsorted(nodes, cur[active])]
                valid = links >= 0
                d = np.full(links.shape, np.inf, np.float32)
                rows, cols = np.nonzero(valid)
                d[rows, cols] = self.distances(links[rows, cols], qs[active[rows]])
                work[active] += valid.sum(axis=1)
                lost = np.isnan(d)
                if lost.any():  # NaN never compares smaller in hnswlib: replay these
                    nan[active[lost.any(axis=1)]] = True
                    d[lost] = np.inf
                best = np.argmin(d, axis=1)
                best_d = d[np.arange(active.size), best]
                move = best_d < cur_d[active]
                cur[active[move]] = links[move, best[move]]
                cur_d[active[move]] = best_d[move]
                active = active[move]
        return cur, cur_d, work, nan

    def search(self, qs: np.ndarray, k: int, ef: int,
               start: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> LockstepResult:
        """Level-0 searches of ``qs`` ``(c, d)`` with ``max(ef, k)`` slots from ``start``
        (:meth:`descend`'s result).

        With deleted elements hnswlib explores them but never keeps them, and goes on while
        its beam is not full: deleted candidates wait in a separate list (``dead``), expanded
        in distance order with the beam's open nodes, dropped once farther than a full
        beam's worst (hnswlib would stop on reaching them)."""
        c = qs.shape[0]
        n = self.index.ntotal
        slots = max(ef, k)
        entry, entry_d, work0, nan = start
        nan = nan.copy()
        deleted = self.deleted
        entry_dead = deleted[entry] if deleted is not None else np.zeros(c, bool)
        beam = np.full((c, slots), -1, np.int64)
        beam_d = np.full((c, slots), np.inf, np.float32)
        done = np.zeros((c, slots), bool)  # expanded
        beam[~entry_dead, 0] = entry[~entry_dead]
        beam_d[~entry_dead, 0] = entry_d[~entry_dead]
        # A deleted entry is a candidate at FLT_MAX whose level-0 distance is not computed.
        dead = np.where(entry_dead, entry, -1)[:, None]
        dead_d = np.where(entry_dead, _FLT_MAX, np.inf).astype(np.float32)[:, None]
        visited = np.zeros((c, n), bool)
        visited[np.arange(c), entry] = True
        work = work0 + ~entry_dead  # hnswlib computes a live entry's distance again
        tied = np.zeros(c, bool)
        width = self.width
        active = np.arange(c)
        while active.size:
            current = beam[active]
            open_ = ~done[active] & (current >= 0)
            slot = np.argmax(open_, axis=1)  # the closest node not expanded yet
            chosen = np.where(open_.any(axis=1), beam_d[active, slot], np.inf)
            pick_dead = np.zeros(active.size, bool)
            if deleted is not None:
                spot = np.argmin(dead_d[active], axis=1)
                dead_min = dead_d[active, spot]
                pick_dead = dead_min < chosen
                both = np.isfinite(dead_min)
                tied[active[both & ((dead_min == chosen)
                                    | ((dead_d[active] == dead_min[:, None]).sum(axis=1) > 1))]] \
                    = True
                chosen = np.minimum(chosen, dead_min)
            going = np.isfinite(chosen)
            if not going.all():
                active, current, open_ = active[going], current[going], open_[going]
                slot, chosen, pick_dead = slot[going], chosen[going], pick_dead[going]
                if deleted is not None:
                    spot = spot[going]
                if not active.size:
                    break
            # Another open node at the same distance: hnswlib's heap decides which comes first.
            tied[active[((beam_d[active] == chosen[:, None]) & open_).sum(axis=1)
                        > (~pick_dead).astype(int)]] = True
            expand = current[np.arange(active.size), slot]
            if deleted is not None and pick_dead.any():
                rows_dead = active[pick_dead]
                expand[pick_dead] = dead[rows_dead, spot[pick_dead]]
                dead_d[rows_dead, spot[pick_dead]] = np.inf
                dead[rows_dead, spot[pick_dead]] = -1
            done[active[~pick_dead], slot[~pick_dead]] = True
            starts = self.offsets[expand]
            counts = self.offsets[expand + 1] - starts
            owner = np.repeat(np.arange(active.size), counts)
            col = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
            targets = self.neighbors[np.repeat(starts, counts) + col].astype(np.int64)
            links = np.full((active.size, width), -1, np.int64)
            links[owner, col] = targets
            cand = owner * width + col  # position in the (active, width) grid
            rows = active[owner]
            fresh = ~visited[rows, targets]
            cand, rows, nodes = cand[fresh], rows[fresh], targets[fresh]
            visited[rows, nodes] = True
            dv = self.distances(nodes, qs[rows])
            odd = ~np.isfinite(dv)  # NaN / overflow: replay these queries
            if odd.any():
                nan[rows[odd]] = True
                dv[odd] = np.inf
            work[active] += np.bincount(cand // width, minlength=active.size)
            worst = beam_d[active, -1]  # inf while the beam is not full
            d = np.full((active.size, width), np.inf, np.float32)
            if deleted is not None:
                gone = deleted[nodes]
                if gone.any():  # admitted as candidates only, never to the beam
                    keep = dv[gone] < worst[cand[gone] // width]
                    dead, dead_d = _append(dead, dead_d, rows[gone][keep], nodes[gone][keep],
                                           dv[gone][keep])
                    cand, dv = cand[~gone], dv[~gone]
            d.ravel()[cand] = dv
            # The beam keeps the `slots` closest of itself and the new distances.
            admit = (d < worst[:, None]).any(axis=1)
            upd = active[admit]
            if upd.size:
                code = np.concatenate([beam[upd] * 2 + done[upd], links[admit] * 2], axis=1)
                dist = np.concatenate([beam_d[upd], d[admit]], axis=1)
                order = np.argsort(dist, axis=1)[:, : slots + 1]
                keep_d = np.take_along_axis(dist, order, axis=1)
                # A tie across the beam's boundary: which one stays is the heap's choice.
                edge = keep_d[:, slots - 1]
                tied[upd[(edge == keep_d[:, slots]) & np.isfinite(edge)]] = True
                keep_d, order = keep_d[:, :slots], order[:, :slots]
                code = np.take_along_axis(code, order, axis=1)
                beam[upd] = np.where(np.isinf(keep_d), -1, code >> 1)
                beam_d[upd] = keep_d
                done[upd] = (code & 1).astype(bool)
            if deleted is not None and dead.shape[1]:
                # A full beam stops hnswlib at any candidate beyond its worst: drop those.
                bound = beam_d[:, -1:]
                tied |= (dead_d == bound).any(axis=1) & np.isfinite(bound[:, 0])
                far = dead_d > bound
                dead_d[far] = np.inf
                dead[far] = -1
        if slots > k:  # the k-th and (k+1)-th tie: either may be returned
            tied |= (beam_d[:, k - 1] == beam_d[:, k]) & np.isfinite(beam_d[:, k])
        short = beam[:, k - 1] < 0  # fewer than k found: hnswlib (and the replay) raise
        return LockstepResult(ids=beam[:, :k], work=work, replay=tied | nan | short)


def _append(ids: np.ndarray, dist: np.ndarray, rows: np.ndarray, new_ids: np.ndarray,
            new_dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add ``(new_ids, new_dist)`` to rows ``rows`` of the padded candidate lists ``ids`` /
    ``dist`` ``(c, cap)`` (−1 / inf are free), widening them when needed."""
    if rows.size == 0:
        return ids, dist
    order = np.argsort(rows, kind="stable")
    rows, new_ids, new_dist = rows[order], new_ids[order], new_dist[order]
    first = np.searchsorted(rows, rows)  # rank of each new entry within its row
    rank = np.arange(rows.size) - first
    free = np.isinf(dist)
    have = free.sum(axis=1)
    need = int((np.bincount(rows, minlength=ids.shape[0]) - have).max())
    if need > 0:
        ids = np.concatenate([ids, np.full((ids.shape[0], need), -1, np.int64)], axis=1)
        dist = np.concatenate([dist, np.full((dist.shape[0], need), np.inf, np.float32)],
                              axis=1)
        free = np.isinf(dist)
    # the rank-th free column of each row: free columns in order, per row
    slots = np.argsort(~free, axis=1, kind="stable")
    cols = slots[rows, rank]
    ids[rows, cols] = new_ids
    dist[rows, cols] = new_dist
    return ids, dist


def lockstep_sweep(index: HNSWIndex, queries: np.ndarray, k: int, efs: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids (p, nq, k) int64, work (p, nq) int64, replay (p, nq) bool)`` for ``queries``
    ``(nq, d) float32`` as given (cosine ones are normalized here like hnswlib does)."""
    runner = LockstepHNSW(index)
    nq = queries.shape[0]
    qs = np.stack([hnswlib_normalize(q) for q in queries]) if index.metric == "cosine" \
        else queries
    ids = np.full((efs.size, nq, k), -1, np.int64)
    work = np.zeros((efs.size, nq), np.int64)
    replay = np.zeros((efs.size, nq), bool)
    chunk = max(1, min(512, _VISITED_BYTES // max(index.ntotal, 1)))
    for s in range(0, nq, chunk):
        part = qs[s: s + chunk]
        start = runner.descend(part)
        for j, ef in enumerate(efs.tolist()):
            result = runner.search(part, k, ef, start)
            ids[j, s: s + part.shape[0]] = result.ids
            work[j, s: s + part.shape[0]] = result.work
            replay[j, s: s + part.shape[0]] = result.replay
    return ids, work, replay
