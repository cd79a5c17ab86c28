// The HNSW search replay as pure frame state: one "enter level" frame per level, then one
// frame per examined link. `frameState` says what every node looks like at a frame;
// `Player` owns the current frame so the slider, the step buttons, the keys and play can
// never disagree (they all go through `seek`).

import { clamp } from './format.js';

/** @typedef {import('./payload.js').HNSWSearch} HNSWSearch */
/** @typedef {import('./payload.js').HNSWLevelRow} HNSWLevelRow */

export const OUT_PASSED = 0;
export const OUT_ACCEPTED = 1;
export const OUT_CANDIDATE = 2;

// Node status at a frame.
export const NODE_UNSEEN = 0;
export const NODE_EXAMINED = 1;
export const NODE_ACCEPTED = 2;
export const NODE_EVICTED = 3;
export const NODE_CANDIDATE = 4;

/**
 * @typedef {object} Timeline
 * @property {Int32Array} frameLevel level row shown at each frame
 * @property {Int32Array} frameEvents events applied at each frame (absolute index, exclusive)
 * @property {number} frames
 */

/**
 * @param {readonly HNSWLevelRow[]} levels
 * @returns {Timeline}
 */
export function buildTimeline(levels) {
  let frames = 0;
  for (const row of levels) frames += 1 + (row.end - row.start);
  frames = Math.max(frames, 1);
  const frameLevel = new Int32Array(frames);
  const frameEvents = new Int32Array(frames);
  let f = 0;
  levels.forEach((row, li) => {
    frameLevel[f] = li;
    frameEvents[f++] = row.start;
    for (let e = row.start; e < row.end; e++) {
      frameLevel[f] = li;
      frameEvents[f++] = e + 1;
    }
  });
  return { frameLevel, frameEvents, frames };
}

/**
 * The last frame of level row `li` (the level finished).
 * @param {Timeline} tl
 * @param {number} li
 * @returns {number}
 */
export function levelEndFrame(tl, li) {
  let f = 0;
  while (f < tl.frames - 1 && tl.frameLevel[f + 1] <= li) f++;
  return f;
}

/**
 * @typedef {object} FrameState
 * @property {number} frame
 * @property {number} li level row index
 * @property {HNSWLevelRow} row
 * @property {number} applied events applied (absolute index, exclusive)
 * @property {boolean} done the last frame: the results are final
 * @property {number} beam nodes in the beam (level 0) / on the path (upper levels)
 * @property {number} visited distinct nodes computed on this level so far
 * @property {Uint8Array} status NODE_* of every node on this level
 */

/**
 * What the search looks like at `frame`: replaying the level's events up to it.
 * @param {HNSWSearch} s
 * @param {Timeline} tl
 * @param {number} frame
 * @param {Uint8Array} [status] reused output buffer of length s.ids.length
 * @returns {FrameState}
 */
export function frameState(s, tl, frame, status) {
  const n = s.ids.length;
  const st = status && status.length === n ? status : new Uint8Array(n);
  st.fill(NODE_UNSEEN);
  const f = clamp(Math.round(frame), 0, tl.frames - 1);
  const li = tl.frameLevel[f];
  const row = s.levels[li] || { level: 0, entry: -1, visited: 0, edges: 0, start: 0, end: 0 };
  const applied = s.levels.length ? tl.frameEvents[f] : 0;
  let beam = 0;
  let visited = 0;
  if (row.entry >= 0 && row.entry < n) {
    st[row.entry] = NODE_ACCEPTED;
    beam = 1;
    visited = 1;
  }
  const beamLevel = row.level === 0;
  for (let e = row.start; e < applied; e++) {
    const d = s.evDst[e];
    const out = s.evOut[e];
    if (st[d] === NODE_UNSEEN) visited++;
    if (out === OUT_ACCEPTED) {
      if (st[d] !== NODE_ACCEPTED) beam++;
      st[d] = NODE_ACCEPTED;
    } else if (out === OUT_CANDIDATE) {
      if (st[d] === NODE_UNSEEN) st[d] = NODE_CANDIDATE;
    } else if (st[d] === NODE_UNSEEN) {
      st[d] = NODE_EXAMINED;
    }
    if (beamLevel && s.evEvict[e] >= 0) {
      const x = s.evEvict[e];
      if (st[x] === NODE_ACCEPTED) beam--;
      st[x] = NODE_EVICTED;
    }
  }
  return { frame: f, li, row, applied, done: f >= tl.frames - 1, beam, visited, status: st };
}

/**
 * The greedy path on an upper level up to event `upto`: the entry, then every accepted move.
 * @param {HNSWSearch} s
 * @param {HNSWLevelRow} row
 * @param {number} upto
 * @returns {number[]}
 */
export function greedyPath(s, row, upto) {
  const out = [row.entry];
  for (let e = row.start; e < Math.min(upto, row.end); e++) if (s.evOut[e] === OUT_ACCEPTED) out.push(s.evDst[e]);
  return out;
}

/**
 * @typedef {object} Clock
 * @property {(cb: (t: number) => void) => number} request like requestAnimationFrame
 * @property {(id: number) => void} cancel
 */

/** The one owner of the current frame; every control seeks through it. */
export class Player {
  /**
   * @param {number} frames
   * @param {Clock} clock
   * @param {(frame: number, playing: boolean) => void} onChange
   */
  constructor(frames, clock, onChange) {
    this.frames = Math.max(1, frames);
    this.clock = clock;
    this.onChange = onChange;
    this.frame = this.frames - 1; // open on the finished search; play replays it
    this.playing = false;
    this.handle = 0;
    this.acc = 0;
    this.last = 0;
    // A replay takes a few seconds, however many events: several per animation frame if needed.
    this.duration = clamp(this.frames * 45, 1200, 4000);
  }

  /**
   * Go to `frame` (clamped, rounded) and tell the listener.
   * @param {number} frame
   */
  seek(frame) {
    const f = clamp(Math.round(Number(frame) || 0), 0, this.frames - 1);
    this.frame = f;
    this.onChange(f, this.playing);
  }

  /** @param {number} delta */
  step(delta) {
    this.pause();
    if (delta > 0 && this.frame >= this.frames - 1) this.seek(0); // from the end: start over
    else this.seek(this.frame + delta);
  }

  play() {
    if (this.playing) return;
    if (this.frame >= this.frames - 1) this.frame = 0;
    this.playing = true;
    this.acc = 0;
    this.last = 0;
    /** @param {number} t */
    const tick = (t) => {
      if (!this.playing) return;
      if (this.last) {
        this.acc += ((t - this.last) / this.duration) * this.frames;
        const step = Math.floor(this.acc);
        if (step > 0) {
          this.acc -= step;
          this.frame = Math.min(this.frames - 1, this.frame + step);
        }
      }
      this.last = t;
      if (this.frame >= this.frames - 1) {
        this.playing = false;
        this.handle = 0;
      } else {
        this.handle = this.clock.request(tick);
      }
      this.onChange(this.frame, this.playing);
    };
    this.handle = this.clock.request(tick);
    this.onChange(this.frame, this.playing);
  }

  pause() {
    if (this.handle) this.clock.cancel(this.handle);
    this.handle = 0;
    if (!this.playing) return;
    this.playing = false;
    this.onChange(this.frame, false);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }
}
