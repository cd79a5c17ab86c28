import assert from 'node:assert/strict';
import { test } from 'node:test';
import { niceTicks, RadialScale, Viewport } from '../src/scales.js';

test('squared L2: the radius is the Euclidean distance from an absolute zero', () => {
  const s = new RadialScale({ kind: 'sqrt', zero: 0, span: 3, larger_is_closer: false });
  assert.equal(s.radiusOf(0), 0); // a self-match sits on the query
  assert.equal(s.radiusOf(9), 1);
  assert.ok(Math.abs(s.radiusOf(1.16) - Math.sqrt(1.16) / 3) < 1e-12); // no match near: off centre
  for (const r of [0, 0.2, 0.5, 1]) assert.ok(Math.abs(s.radiusOf(s.distanceAt(r)) - r) < 1e-12);
  let last = -1;
  for (let d = 0; d <= 9; d += 0.25) {
    const r = s.radiusOf(d);
    assert.ok(r >= last);
    last = r;
  }
  const rings = s.rings(4);
  assert.ok(rings.length >= 2);
  for (const ring of rings) assert.ok(Math.abs(s.radiusOf(ring.distance) - ring.radius) < 1e-9);
  assert.deepEqual(
    rings.map((r) => r.distance),
    [1, 4, 9],
  );
});

test('inner product: larger is closer, the centre is the query own score', () => {
  const s = new RadialScale({ kind: 'linear', zero: 2, span: 3, larger_is_closer: true });
  assert.equal(s.radiusOf(2), 0);
  assert.equal(s.radiusOf(-1), 1);
  assert.equal(s.radiusOf(2.5), 0); // clamped: better than the centre
  assert.equal(s.distanceAt(0.5), 0.5);
});

test('nice ticks', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 1, 4), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(1, 1, 4), []);
});

test('viewport zooms about a fixed point and resets', () => {
  const vp = new Viewport();
  assert.ok(!vp.moved);
  assert.ok(vp.zoomAt(100, 50, 2));
  assert.equal(vp.x(100), 100);
  assert.equal(vp.y(50), 50);
  assert.equal(vp.x(110), 120);
  vp.pan(5, -5);
  assert.equal(vp.x(100), 105);
  assert.ok(vp.moved);
  assert.ok(!vp.zoomAt(0, 0, 1e9) || vp.scale === 64);
  vp.reset();
  assert.ok(!vp.moved);
  assert.ok(!vp.zoomAt(0, 0, 0.5)); // cannot zoom out past the whole view
});
