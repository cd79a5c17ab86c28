import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PointGrid, PolygonGrid, polygonAreas } from '../src/hit.js';

test('PointGrid finds the nearest point within reach, by edge distance', () => {
  const xs = new Float32Array([10, 50, 52, 300]);
  const ys = new Float32Array([10, 50, 50, 200]);
  const radii = new Float32Array([2, 2, 6, 2]);
  const grid = new PointGrid(xs, ys, radii, 400, 300);
  assert.equal(grid.nearest(11, 11, 6), 0);
  assert.equal(grid.nearest(51, 50, 6), 2); // larger radius: its edge is nearer
  assert.equal(grid.nearest(200, 100, 6), -1);
  assert.equal(grid.nearest(306, 200, 6), 3);
  // brute force agrees on random probes
  const n = 500;
  const X = new Float32Array(n);
  const Y = new Float32Array(n);
  let seed = 7;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (let i = 0; i < n; i++) {
    X[i] = rnd() * 400;
    Y[i] = rnd() * 300;
  }
  const g2 = new PointGrid(X, Y, null, 400, 300);
  for (let k = 0; k < 200; k++) {
    const x = rnd() * 400;
    const y = rnd() * 300;
    let best = -1;
    let bestD = Infinity;
    for (let i = 0; i < n; i++) {
      const d = Math.hypot(X[i] - x, Y[i] - y);
      if (d <= 8 && (d < bestD || (d === bestD && i > best))) {
        best = i;
        bestD = d;
      }
    }
    assert.equal(g2.nearest(x, y, 8), best);
  }
});

test('PolygonGrid tests polygons exactly', () => {
  // a square and a triangle
  const xy = new Float32Array([0, 0, 100, 0, 100, 100, 0, 100, 150, 0, 250, 0, 150, 100]);
  const offsets = new Int32Array([0, 4, 7]);
  const grid = new PolygonGrid(xy, offsets, 300, 200);
  assert.equal(grid.find(50, 50), 0);
  assert.equal(grid.find(160, 10), 1);
  assert.equal(grid.find(240, 90), -1); // inside the triangle's box, outside the triangle
  assert.equal(grid.find(280, 190), -1);
  const areas = polygonAreas(xy, offsets);
  assert.deepEqual([...areas], [10000, 5000]);
});
