import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aroundPoint, inside, markerBox, overlaps, placeLabels } from '../src/labels.js';

test('placed labels never overlap, never leave the bounds, never cover an obstacle', () => {
  const bounds = { x: 0, y: 0, w: 300, h: 200 };
  let seed = 3;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const requests = [];
  const obstacles = [];
  for (let i = 0; i < 150; i++) {
    const x = rnd() * 300;
    const y = rnd() * 200;
    requests.push({ x, y, w: 20 + rnd() * 40, h: 14 });
    if (i % 3 === 0) obstacles.push(markerBox(x, y, 5));
  }
  const boxes = placeLabels(requests, bounds, obstacles);
  const placed = boxes.filter((b) => b !== null);
  assert.ok(placed.length > 20, `only ${placed.length} placed`);
  for (let i = 0; i < placed.length; i++) {
    const a = /** @type {import('../src/labels.js').Box} */ (placed[i]);
    assert.ok(inside(a, bounds));
    for (const o of obstacles) assert.ok(!overlaps(a, o));
    for (let j = i + 1; j < placed.length; j++) assert.ok(!overlaps(a, /** @type {any} */ (placed[j])));
  }
});

test('the first free position wins, an impossible label is left out', () => {
  const bounds = { x: 0, y: 0, w: 100, h: 100 };
  const [a, b, c] = placeLabels(
    [
      { x: 50, y: 50, w: 20, h: 10, offsets: [[0, 0]] },
      { x: 50, y: 50, w: 20, h: 10, offsets: [[0, 0], [0, 20]] },
      { x: 50, y: 50, w: 200, h: 10 },
    ],
    bounds,
  );
  assert.deepEqual(a, { x: 40, y: 45, w: 20, h: 10 });
  assert.deepEqual(b, { x: 40, y: 65, w: 20, h: 10 });
  assert.equal(c, null);
  assert.equal(aroundPoint(10, 10).length, 24);
  const fits = placeLabels([{ x: 50, y: 50, w: 10, h: 10, fits: (box) => box.x > 55 }], bounds);
  assert.ok(fits[0] && fits[0].x > 55);
});
