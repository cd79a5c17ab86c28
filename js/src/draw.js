// Canvas primitives shared by the scenes.

import { fmtTick } from './format.js';
import { inkOn, rgba } from './theme.js';

/** @typedef {CanvasRenderingContext2D} Ctx */
/** @typedef {import('./theme.js').Palette} Palette */
/** @typedef {(size: number, weight?: number) => string} FontFn */

export const TAU = Math.PI * 2;

/**
 * @param {Ctx | Path2D} g
 * @param {number} x
 * @param {number} y
 * @param {number} r
 */
export function circlePath(g, x, y, r) {
  g.moveTo(x + r, y);
  g.arc(x, y, r, 0, TAU);
}

/**
 * A circle outline (hover and selection rings).
 * @param {Ctx} g
 * @param {number} x
 * @param {number} y
 * @param {number} r
 * @param {string} color
 * @param {number} [width]
 */
export function strokeRing(g, x, y, r, color, width = 2) {
  g.beginPath();
  circlePath(g, x, y, r);
  g.strokeStyle = color;
  g.lineWidth = width;
  g.stroke();
}

/**
 * @param {Ctx} g
 * @param {number} x
 * @param {number} y
 * @param {number} r
 */
export function diamondPath(g, x, y, r) {
  g.moveTo(x, y - r);
  g.lineTo(x + r, y);
  g.lineTo(x, y + r);
  g.lineTo(x - r, y);
  g.closePath();
}

/**
 * Text with a halo in the background colour, readable over lines and dots.
 * @param {Ctx} g
 * @param {string} text
 * @param {number} x
 * @param {number} y
 * @param {string} fill
 * @param {string} halo
 * @param {number} [width]
 */
export function haloText(g, text, x, y, fill, halo, width = 3) {
  g.lineJoin = 'round';
  g.lineWidth = width;
  g.strokeStyle = halo;
  g.strokeText(text, x, y);
  g.fillStyle = fill;
  g.fillText(text, x, y);
}

/** Radius of the query marker's outer halo: labels keep out of it. */
export const QUERY_RADIUS = 13;

/**
 * The query: a crosshair in a soft disc.
 * @param {Ctx} g
 * @param {Palette} pal
 * @param {number} x
 * @param {number} y
 */
export function drawQuery(g, pal, x, y) {
  g.beginPath();
  circlePath(g, x, y, QUERY_RADIUS);
  g.fillStyle = rgba(pal.query, 0.16);
  g.fill();
  g.beginPath();
  for (const [a, b] of [
    [-18, -9],
    [9, 18],
  ]) {
    g.moveTo(x + a, y);
    g.lineTo(x + b, y);
    g.moveTo(x, y + a);
    g.lineTo(x, y + b);
  }
  g.strokeStyle = pal.query;
  g.lineWidth = 1.5;
  g.stroke();
  g.beginPath();
  circlePath(g, x, y, 6);
  g.fillStyle = pal.query;
  g.fill();
  g.lineWidth = 2;
  g.strokeStyle = pal.bg;
  g.stroke();
}

/**
 * A filled round badge with centred text (probe ranks).
 * @param {Ctx} g
 * @param {Palette} pal
 * @param {FontFn} font
 * @param {number} x
 * @param {number} y
 * @param {string} text
 * @param {string} fill
 * @param {number} [r]
 */
export function badge(g, pal, font, x, y, text, fill, r = 9) {
  g.beginPath();
  circlePath(g, x, y, r);
  g.fillStyle = fill;
  g.fill();
  g.lineWidth = 1.5;
  g.strokeStyle = pal.bg;
  g.stroke();
  g.font = font(r > 8 ? 10 : r > 7 ? 9 : 8, 700);
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillStyle = inkOn(fill);
  g.fillText(text, x, y + 0.5);
}

/**
 * @param {Ctx} g
 * @param {number} x0
 * @param {number} y0
 * @param {number} x1
 * @param {number} y1
 * @param {number} size
 */
export function arrowHead(g, x0, y0, x1, y1, size) {
  const a = Math.atan2(y1 - y0, x1 - x0);
  g.moveTo(x1, y1);
  g.lineTo(x1 - size * Math.cos(a - 0.45), y1 - size * Math.sin(a - 0.45));
  g.lineTo(x1 - size * Math.cos(a + 0.45), y1 - size * Math.sin(a + 0.45));
  g.closePath();
}

/**
 * Dashed distance rings around (cx, cy): `rings` from RadialScale.rings, radii in units of
 * `R` screen pixels. Their labels are returned (not drawn) so they can be placed with the
 * other labels and drawn last, above the dots.
 * @param {Ctx} g
 * @param {Palette} pal
 * @param {number} cx
 * @param {number} cy
 * @param {number} R
 * @param {ReadonlyArray<{radius: number, distance: number}>} rings
 * @param {boolean} nonNegative
 * @returns {Array<{x: number, y: number, text: string}>}
 */
export function drawRings(g, pal, cx, cy, R, rings, nonNegative) {
  g.save();
  g.strokeStyle = rgba(pal.fg, 0.12);
  g.lineWidth = 1;
  g.setLineDash([2, 4]);
  /** @type {Array<{x: number, y: number, text: string}>} */
  const labels = [];
  for (const ring of rings) {
    g.beginPath();
    circlePath(g, cx, cy, ring.radius * R);
    g.stroke();
    labels.push({ x: cx, y: cy - ring.radius * R, text: fmtTick(ring.distance, nonNegative) });
  }
  g.restore();
  return labels;
}
