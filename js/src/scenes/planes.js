// Stacked, skewed planes: the HNSW levels drawn one above the other.

/** Maps [0, 1]² into a parallelogram whose top edge is shifted right by `skew`. */
export class Plane {
  /**
   * @param {number} x
   * @param {number} y
   * @param {number} w
   * @param {number} h
   * @param {number} skew
   * @param {number} [pad]
   */
  constructor(x, y, w, h, skew, pad = 0.035) {
    this.x = x;
    this.y = y;
    this.w = w;
    this.h = h;
    this.skew = skew;
    this.pad = pad;
  }

  /**
   * @param {number} u
   * @param {number} v
   */
  px(u, v) {
    const uu = this.pad + (1 - 2 * this.pad) * u;
    const vv = this.pad + (1 - 2 * this.pad) * v;
    return this.x + this.skew * (1 - vv) + uu * this.w;
  }

  /** @param {number} v */
  py(v) {
    return this.y + (this.pad + (1 - 2 * this.pad) * v) * this.h;
  }

  /**
   * The outline, through a point mapping (the viewport).
   * @param {CanvasRenderingContext2D} g
   * @param {(x: number) => number} [fx]
   * @param {(y: number) => number} [fy]
   */
  outline(g, fx = (x) => x, fy = (y) => y) {
    g.moveTo(fx(this.x + this.skew), fy(this.y));
    g.lineTo(fx(this.x + this.skew + this.w), fy(this.y));
    g.lineTo(fx(this.x + this.w), fy(this.y + this.h));
    g.lineTo(fx(this.x), fy(this.y + this.h));
    g.closePath();
  }
}

/**
 * `count` planes stacked in the box (x, y, w, h), top level first.
 * @param {number} count
 * @param {number} x
 * @param {number} y
 * @param {number} w
 * @param {number} hgt
 * @param {number} [skewRatio]
 * @param {number} [maxSkew]
 * @returns {Plane[]}
 */
export function stackPlanes(count, x, y, w, hgt, skewRatio = 0.55, maxSkew = 110) {
  const gap = count > 1 ? 0.28 : 0;
  const ph = hgt / (count + gap * Math.max(count - 1, 0));
  const skew = count > 1 ? Math.min(ph * skewRatio * 1.6, maxSkew, w * 0.18) : 0;
  const planes = [];
  for (let k = 0; k < count; k++) planes.push(new Plane(x, y + k * ph * (1 + gap), w - skew, ph, skew));
  return planes;
}
