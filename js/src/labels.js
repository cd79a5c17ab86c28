// Collision-free label placement: each label tries a few positions around its anchor and
// takes the first one that stays inside the drawing area and overlaps neither a label
// already placed nor an obstacle (a marker, a badge, the query). Labels that fit nowhere are
// left out rather than drawn over something. Greedy, in the order given (most important
// first): n labels cost O(n · candidates · placed), fine for the few hundred a view shows.

/**
 * @typedef {object} Box
 * @property {number} x left
 * @property {number} y top
 * @property {number} w
 * @property {number} h
 */

/**
 * @typedef {object} LabelRequest
 * @property {number} x anchor x
 * @property {number} y anchor y
 * @property {number} w label width
 * @property {number} h label height
 * @property {ReadonlyArray<readonly [number, number]>} [offsets] label-centre offsets to try, in order
 * @property {(box: Box) => boolean} [fits] an extra condition on a position (e.g. inside its cell)
 */

/**
 * Offsets around a point marker of radius `r` for a `w × h` label: right, left, above,
 * below, then the diagonals, then the same farther out.
 * @param {number} w
 * @param {number} h
 * @param {number} [r]
 * @returns {Array<[number, number]>}
 */
export function aroundPoint(w, h, r = 4) {
  /** @type {Array<[number, number]>} */
  const out = [];
  for (const gap of [r + 3, r + 10, r + 20]) {
    const dx = w / 2 + gap;
    const dy = h / 2 + gap;
    out.push([dx, 0], [-dx, 0], [0, -dy], [0, dy], [dx, -dy], [-dx, -dy], [dx, dy], [-dx, dy]);
  }
  return out;
}

/**
 * @param {Box} a
 * @param {Box} b
 * @param {number} [pad]
 * @returns {boolean}
 */
export function overlaps(a, b, pad = 0) {
  return a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;
}

/**
 * @param {Box} box
 * @param {Box} bounds
 * @returns {boolean}
 */
export function inside(box, bounds) {
  return box.x >= bounds.x && box.y >= bounds.y && box.x + box.w <= bounds.x + bounds.w && box.y + box.h <= bounds.y + bounds.h;
}

/**
 * Place `requests` inside `bounds`, avoiding each other and `obstacles`.
 * @param {readonly LabelRequest[]} requests
 * @param {Box} bounds
 * @param {readonly Box[]} [obstacles]
 * @param {number} [pad] minimum gap between two labels
 * @returns {Array<Box | null>} the box of each label, or null when it fits nowhere
 */
export function placeLabels(requests, bounds, obstacles = [], pad = 1) {
  /** @type {Box[]} */
  const placed = [];
  return requests.map((req) => {
    const offsets = req.offsets || aroundPoint(req.w, req.h);
    for (const [dx, dy] of offsets) {
      const box = { x: req.x + dx - req.w / 2, y: req.y + dy - req.h / 2, w: req.w, h: req.h };
      if (!inside(box, bounds) || (req.fits && !req.fits(box))) continue;
      if (placed.some((p) => overlaps(box, p, pad))) continue;
      if (obstacles.some((o) => overlaps(box, o))) continue;
      placed.push(box);
      return box;
    }
    return null;
  });
}

/**
 * A square obstacle around a point marker.
 * @param {number} x
 * @param {number} y
 * @param {number} r
 * @returns {Box}
 */
export function markerBox(x, y, r) {
  return { x: x - r, y: y - r, w: 2 * r, h: 2 * r };
}
