// Scales: the radial distance scale of the polar views, "nice" tick values, and the
// zoom/pan viewport every canvas view shares.

/** @typedef {import('./payload.js').RadialScalePayload} RadialScalePayload */

/**
 * The radius ↔ distance mapping Python chose (feder/layouts/polar.py `RadialScale`): the
 * centre is where a copy of the query would sit, radius 1 the farthest point drawn.
 */
export class RadialScale {
  /** @param {RadialScalePayload} p */
  constructor(p) {
    this.kind = p.kind === 'sqrt' ? 'sqrt' : 'linear';
    this.zero = Number(p.zero) || 0;
    this.span = Number(p.span) || 0;
    this.largerIsCloser = !!p.larger_is_closer;
  }

  /**
   * The distance at radius `r` (0 … 1).
   * @param {number} r
   * @returns {number}
   */
  distanceAt(r) {
    const t = r * this.span;
    if (this.kind === 'sqrt') return this.zero + t * t;
    return this.largerIsCloser ? this.zero - t : this.zero + t;
  }

  /**
   * The radius of distance `d` (clamped to 0 … 1).
   * @param {number} d
   * @returns {number}
   */
  radiusOf(d) {
    if (!(this.span > 0)) return 0;
    let delta = this.largerIsCloser ? this.zero - d : d - this.zero;
    if (!(delta > 0)) delta = 0;
    const t = this.kind === 'sqrt' ? Math.sqrt(delta) : delta;
    return Math.min(1, t / this.span);
  }

  /**
   * Ring distances at round values of the quantity the radius is linear in (the Euclidean
   * distance for squared L2), from the centre out to radius `maxRadius`.
   * @param {number} [count]
   * @param {number} [maxRadius]
   * @returns {{radius: number, distance: number}[]}
   */
  rings(count = 4, maxRadius = 1) {
    if (!(this.span > 0)) return [];
    const top = this.span * maxRadius;
    const out = [];
    for (const t of niceTicks(0, top, count)) {
      if (t <= 0 || t > top * 1.0001) continue;
      const d = this.kind === 'sqrt' ? this.zero + t * t : this.largerIsCloser ? this.zero - t : this.zero + t;
      out.push({ radius: t / this.span, distance: d });
    }
    return out;
  }

  /** A one-line statement of the mapping, for the panel. */
  describe() {
    if (this.kind === 'sqrt') return 'radius = √distance (the Euclidean distance); centre = distance 0';
    return this.largerIsCloser
      ? 'radius ∝ how much lower the score is than at the centre'
      : 'radius ∝ distance; centre = distance 0';
  }
}

/**
 * About `count` round values covering [lo, hi] (1, 2, 5 × 10^k steps).
 * @param {number} lo
 * @param {number} hi
 * @param {number} count
 * @returns {number[]}
 */
export function niceTicks(lo, hi, count) {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi) || count < 1) return [];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const out = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
    out.push(Number((k * step).toFixed(decimals)));
  }
  return out;
}

/**
 * Zoom and pan of a canvas view: screen = base · scale + offset. Base coordinates are the
 * scene's own positions at zoom 1; the scene maps them through `x()` / `y()`.
 */
export class Viewport {
  /**
   * @param {number} [minScale]
   * @param {number} [maxScale]
   */
  constructor(minScale = 1, maxScale = 64) {
    this.minScale = minScale;
    this.maxScale = maxScale;
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
  }

  /** @param {number} bx */
  x(bx) {
    return bx * this.scale + this.tx;
  }

  /** @param {number} by */
  y(by) {
    return by * this.scale + this.ty;
  }

  /** Whether the view is zoomed or panned at all. */
  get moved() {
    return this.scale !== 1 || this.tx !== 0 || this.ty !== 0;
  }

  /**
   * Zoom by `factor` keeping the screen point (sx, sy) fixed.
   * @param {number} sx
   * @param {number} sy
   * @param {number} factor
   * @returns {boolean} whether anything changed
   */
  zoomAt(sx, sy, factor) {
    const next = Math.min(this.maxScale, Math.max(this.minScale, this.scale * factor));
    if (next === this.scale) return false;
    const k = next / this.scale;
    this.tx = sx - (sx - this.tx) * k;
    this.ty = sy - (sy - this.ty) * k;
    this.scale = next;
    if (next === this.minScale && this.minScale === 1) this.reset();
    return true;
  }

  /**
   * @param {number} dx
   * @param {number} dy
   */
  pan(dx, dy) {
    this.tx += dx;
    this.ty += dy;
  }

  reset() {
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
  }
}
