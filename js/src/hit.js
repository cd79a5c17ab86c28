// Hit testing in screen space: uniform grids over points and over polygon bounding boxes.

import { clamp } from './format.js';

/** @typedef {ArrayLike<number>} Numbers */

/** Nearest point within a reach in O(1) buckets. */
export class PointGrid {
  /**
   * @param {Numbers} xs screen x of each point
   * @param {Numbers} ys screen y
   * @param {Numbers | null} radii drawn radius of each point (reach is measured from its edge)
   * @param {number} width
   * @param {number} height
   * @param {number} [cell]
   */
  constructor(xs, ys, radii, width, height, cell = 24) {
    const n = xs.length;
    this.xs = xs;
    this.ys = ys;
    this.radii = radii;
    this.cell = cell;
    this.gx = Math.max(1, Math.ceil(width / cell));
    this.gy = Math.max(1, Math.ceil(height / cell));
    const bucket = new Int32Array(n);
    const counts = new Int32Array(this.gx * this.gy + 1);
    for (let i = 0; i < n; i++) {
      const b = this.bucketOf(xs[i], ys[i]);
      bucket[i] = b;
      counts[b + 1]++;
    }
    for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
    const fill = counts.slice(0, -1);
    const items = new Int32Array(n);
    for (let i = 0; i < n; i++) items[fill[bucket[i]]++] = i;
    this.offsets = counts;
    this.items = items;
  }

  /**
   * @param {number} x
   * @param {number} y
   * @returns {number}
   */
  bucketOf(x, y) {
    const cx = clamp(Math.floor(x / this.cell), 0, this.gx - 1);
    const cy = clamp(Math.floor(y / this.cell), 0, this.gy - 1);
    return cy * this.gx + cx;
  }

  /**
   * Index of the point whose edge is nearest to (x, y) within `reach` px; of equally near
   * points the later one wins (it is drawn on top); −1 when none.
   * @param {number} x
   * @param {number} y
   * @param {number} reach
   * @returns {number}
   */
  nearest(x, y, reach) {
    const span = Math.ceil((reach + 8) / this.cell);
    const cx = Math.floor(x / this.cell);
    const cy = Math.floor(y / this.cell);
    let best = -1;
    let bestScore = Infinity;
    for (let by = Math.max(0, cy - span); by <= Math.min(this.gy - 1, cy + span); by++) {
      for (let bx = Math.max(0, cx - span); bx <= Math.min(this.gx - 1, cx + span); bx++) {
        const b = by * this.gx + bx;
        for (let k = this.offsets[b]; k < this.offsets[b + 1]; k++) {
          const i = this.items[k];
          const dx = this.xs[i] - x;
          const dy = this.ys[i] - y;
          const score = Math.sqrt(dx * dx + dy * dy) - (this.radii ? this.radii[i] : 0);
          if (score <= reach && (score < bestScore || (score === bestScore && i > best))) {
            best = i;
            bestScore = score;
          }
        }
      }
    }
    return best;
  }
}

/**
 * Each polygon's bounding box, `x0, y0, x1, y1` at `4·i` (±Infinity for one without
 * vertices), written into `out` when given.
 * @param {Numbers} xy vertices (x0, y0, x1, y1, …)
 * @param {Numbers} offsets (p+1) polygon i has vertices offsets[i] … offsets[i+1]−1
 * @param {Float64Array} [out]
 * @returns {Float64Array}
 */
export function polygonBounds(xy, offsets, out = new Float64Array(4 * (offsets.length - 1))) {
  for (let i = 0; i < offsets.length - 1; i++) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let k = offsets[i]; k < offsets[i + 1]; k++) {
      const x = xy[2 * k];
      const y = xy[2 * k + 1];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    out[4 * i] = x0;
    out[4 * i + 1] = y0;
    out[4 * i + 2] = x1;
    out[4 * i + 3] = y1;
  }
  return out;
}

/** Polygon bounding boxes bucketed in a grid; candidates tested exactly (even–odd rule). */
export class PolygonGrid {
  /**
   * @param {Numbers} xy vertices (x0, y0, x1, y1, …)
   * @param {Numbers} offsets (p+1) polygon i has vertices offsets[i] … offsets[i+1]−1
   * @param {number} width
   * @param {number} height
   * @param {number} [cell]
   * @param {Float64Array} [bounds] the polygons' {@link polygonBounds}, when already known
   */
  constructor(xy, offsets, width, height, cell = 32, bounds = polygonBounds(xy, offsets)) {
    this.xy = xy;
    this.offsets = offsets;
    this.cell = cell;
    this.gx = Math.max(1, Math.ceil(width / cell));
    this.gy = Math.max(1, Math.ceil(height / cell));
    /** @type {number[][]} */
    const buckets = [];
    for (let b = 0; b < this.gx * this.gy; b++) buckets.push([]);
    for (let i = 0; i < offsets.length - 1; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      if (b - a < 3) continue;
      const x0 = bounds[4 * i];
      const y0 = bounds[4 * i + 1];
      const x1 = bounds[4 * i + 2];
      const y1 = bounds[4 * i + 3];
      if (x1 < 0 || y1 < 0 || x0 > width || y0 > height) continue; // off screen (zoomed)
      const bx0 = clamp(Math.floor(x0 / cell), 0, this.gx - 1);
      const bx1 = clamp(Math.floor(x1 / cell), 0, this.gx - 1);
      const by0 = clamp(Math.floor(y0 / cell), 0, this.gy - 1);
      const by1 = clamp(Math.floor(y1 / cell), 0, this.gy - 1);
      for (let by = by0; by <= by1; by++) {
        for (let bx = bx0; bx <= bx1; bx++) buckets[by * this.gx + bx].push(i);
      }
    }
    this.buckets = buckets;
  }

  /**
   * The polygon containing (x, y), the last drawn first; −1 when none.
   * @param {number} x
   * @param {number} y
   * @returns {number}
   */
  find(x, y) {
    const bx = Math.floor(x / this.cell);
    const by = Math.floor(y / this.cell);
    if (bx < 0 || by < 0 || bx >= this.gx || by >= this.gy) return -1;
    const list = this.buckets[by * this.gx + bx];
    for (let j = list.length - 1; j >= 0; j--) {
      if (this.contains(list[j], x, y)) return list[j];
    }
    return -1;
  }

  /**
   * @param {number} i
   * @param {number} x
   * @param {number} y
   * @returns {boolean}
   */
  contains(i, x, y) {
    const { xy, offsets } = this;
    const a = offsets[i];
    const b = offsets[i + 1];
    let inside = false;
    for (let k = a, prev = b - 1; k < b; prev = k++) {
      const xk = xy[2 * k];
      const yk = xy[2 * k + 1];
      const xp = xy[2 * prev];
      const yp = xy[2 * prev + 1];
      if (yk > y !== yp > y && x < ((xp - xk) * (y - yk)) / (yp - yk) + xk) inside = !inside;
    }
    return inside;
  }
}

/**
 * Signed-area magnitude of each polygon (shoelace), in the units of `xy`.
 * @param {Numbers} xy
 * @param {Numbers} offsets
 * @returns {Float32Array}
 */
export function polygonAreas(xy, offsets) {
  const n = offsets.length - 1;
  const out = new Float32Array(Math.max(n, 0));
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let k = offsets[i], p = offsets[i + 1] - 1; k < offsets[i + 1]; p = k++) {
      a += xy[2 * p] * xy[2 * k + 1] - xy[2 * k] * xy[2 * p + 1];
    }
    out[i] = Math.abs(a) / 2;
  }
  return out;
}
