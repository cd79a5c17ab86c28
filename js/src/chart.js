// Small chart helpers for the diagnostics views: a plot box, linear and log scales, axes.

import { fmtTick } from './format.js';
import { niceTicks } from './scales.js';
import { rgba } from './theme.js';

/** @typedef {import('./theme.js').Palette} Palette */
/** @typedef {(size: number, weight?: number) => string} FontFn */

/**
 * @typedef {object} Axis
 * @property {(v: number) => number} at screen coordinate of a value
 * @property {number[]} ticks
 * @property {(v: number) => string} label
 */

/**
 * A linear axis from `lo` to `hi` onto screen `a` … `b`.
 * @param {number} lo
 * @param {number} hi
 * @param {number} a
 * @param {number} b
 * @param {number} [count]
 * @returns {Axis}
 */
export function linearAxis(lo, hi, a, b, count = 5) {
  const span = hi - lo || 1;
  return { at: (v) => a + ((v - lo) / span) * (b - a), ticks: niceTicks(lo, hi, count), label: (v) => fmtTick(v) };
}

/**
 * A log₁₀ axis (values > 0) from `lo` to `hi` onto `a` … `b`, ticks at 1, 2, 5 × 10^k.
 * @param {number} lo
 * @param {number} hi
 * @param {number} a
 * @param {number} b
 * @returns {Axis}
 */
export function logAxis(lo, hi, a, b) {
  const l0 = Math.log10(Math.max(lo, 1e-12));
  const l1 = Math.log10(Math.max(hi, lo * 1.0001, 1e-12));
  const span = l1 - l0 || 1;
  const ticks = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return {
    at: (v) => a + ((Math.log10(Math.max(v, 1e-12)) - l0) / span) * (b - a),
    ticks,
    label: (v) => (v >= 1e4 ? v.toExponential(0) : String(v)),
  };
}

/**
 * Grid lines and tick labels of an x and a y axis inside box (x0, y0, x1, y1), plus titles.
 * @param {CanvasRenderingContext2D} g
 * @param {Palette} pal
 * @param {FontFn} font
 * @param {{x0: number, y0: number, x1: number, y1: number}} box
 * @param {Axis} xAxis
 * @param {Axis} yAxis
 * @param {string} xTitle
 * @param {string} yTitle
 */
export function drawAxes(g, pal, font, box, xAxis, yAxis, xTitle, yTitle) {
  g.save();
  g.strokeStyle = rgba(pal.fg, 0.08);
  g.lineWidth = 1;
  g.beginPath();
  for (const t of xAxis.ticks) {
    const x = Math.round(xAxis.at(t)) + 0.5;
    g.moveTo(x, box.y0);
    g.lineTo(x, box.y1);
  }
  for (const t of yAxis.ticks) {
    const y = Math.round(yAxis.at(t)) + 0.5;
    g.moveTo(box.x0, y);
    g.lineTo(box.x1, y);
  }
  g.stroke();
  g.strokeStyle = rgba(pal.fg, 0.35);
  g.beginPath();
  g.moveTo(box.x0, box.y0);
  g.lineTo(box.x0, box.y1);
  g.lineTo(box.x1, box.y1);
  g.stroke();
  g.fillStyle = pal.muted;
  g.font = font(10);
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const t of xAxis.ticks) g.fillText(xAxis.label(t), xAxis.at(t), box.y1 + 4);
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const t of yAxis.ticks) g.fillText(yAxis.label(t), box.x0 - 5, yAxis.at(t));
  g.font = font(11, 600);
  g.textAlign = 'center';
  g.textBaseline = 'bottom';
  g.fillText(xTitle, (box.x0 + box.x1) / 2, box.y1 + 32);
  g.save();
  g.translate(box.x0 - 40, (box.y0 + box.y1) / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = 'middle';
  g.fillText(yTitle, 0, 0);
  g.restore();
  g.restore();
}
