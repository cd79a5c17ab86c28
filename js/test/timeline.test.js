import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildTimeline,
  frameState,
  levelEndFrame,
  NODE_ACCEPTED,
  NODE_EVICTED,
  NODE_EXAMINED,
  Player,
} from '../src/timeline.js';

// A tiny search: level 1 (greedy, 2 links), level 0 (beam, 4 links, one eviction).
const search = /** @type {any} */ ({
  ids: new Float64Array([10, 11, 12, 13, 14]),
  evLevel: new Int32Array([1, 1, 0, 0, 0, 0]),
  evSrc: new Int32Array([0, 0, 1, 1, 2, 2]),
  evDst: new Int32Array([1, 2, 2, 3, 4, 0]),
  evOut: new Uint8Array([1, 0, 1, 1, 1, 0]),
  evEvict: new Int32Array([-1, -1, -1, -1, 3, -1]),
  levels: [
    { level: 1, entry: 0, visited: 3, edges: 2, start: 0, end: 2 },
    { level: 0, entry: 1, visited: 5, edges: 4, start: 2, end: 6 },
  ],
});

test('one frame per level entry plus one per event', () => {
  const tl = buildTimeline(search.levels);
  assert.equal(tl.frames, 2 + 6);
  assert.deepEqual([...tl.frameLevel], [0, 0, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual([...tl.frameEvents], [0, 1, 2, 2, 3, 4, 5, 6]);
  assert.equal(levelEndFrame(tl, 0), 2);
  assert.equal(levelEndFrame(tl, 1), 7);
});

test('frame state replays the beam, evictions included', () => {
  const tl = buildTimeline(search.levels);
  const first = frameState(search, tl, 1);
  assert.equal(first.row.level, 1);
  assert.equal(first.status[1], NODE_ACCEPTED);
  assert.equal(first.visited, 2);
  const last = frameState(search, tl, tl.frames - 1);
  assert.ok(last.done);
  assert.equal(last.status[3], NODE_EVICTED);
  assert.equal(last.status[4], NODE_ACCEPTED);
  assert.equal(last.status[0], NODE_EXAMINED);
  assert.equal(last.beam, 3); // entry 1, then 2 and 3 admitted, 4 admitted evicting 3
  assert.equal(last.visited, 5);
  assert.equal(frameState(search, tl, 99).frame, tl.frames - 1); // clamped
});

test('the player is the one owner of the frame: seek, step, keys and play agree', () => {
  /** @type {Array<(t: number) => void>} */
  const queue = [];
  const clock = { request: (/** @type {(t: number) => void} */ cb) => queue.push(cb), cancel: () => {} };
  /** @type {Array<[number, boolean]>} */
  const seen = [];
  const p = new Player(8, clock, (f, playing) => seen.push([f, playing]));
  assert.equal(p.frame, 7);
  p.seek(3.6);
  assert.equal(p.frame, 4);
  p.seek(-5);
  assert.equal(p.frame, 0);
  p.seek(1e9);
  assert.equal(p.frame, 7);
  p.step(1); // from the end: starts over
  assert.equal(p.frame, 0);
  p.step(-1);
  assert.equal(p.frame, 0);
  p.step(1);
  assert.equal(p.frame, 1);
  assert.deepEqual(seen.at(-1), [1, false]);
  p.play();
  assert.ok(p.playing);
  let t = 0;
  while (queue.length) {
    const cb = /** @type {(t: number) => void} */ (queue.shift());
    t += 400;
    cb(t);
  }
  assert.ok(!p.playing);
  assert.equal(p.frame, 7);
  const frames = seen.map(([f]) => f);
  for (let i = 1; i < frames.length; i++) if (seen[i][1]) assert.ok(frames[i] >= frames[i - 1]);
  assert.deepEqual(seen.at(-1), [7, false]);
});
