// Colours: palettes per theme, colour arithmetic, and the probe-rank scheme.
//
// Canvas drawing needs concrete colour values; the theme's base colours (background,
// foreground, muted) come from CSS custom properties read by the app.

import { clamp } from './format.js';

/** @typedef {[number, number, number, number]} RGBA */

/** @type {Map<string, RGBA>} */
const colorCache = new Map();
/** @type {CanvasRenderingContext2D | null} */
let colorCtx = null;

/**
 * `#rgb`, `#rrggbb`, `rgb(…)` and `rgba(…)` parsed in plain JS; anything else (named colours)
 * through a canvas when one exists.
 * @param {string} c
 * @returns {RGBA}
 */
export function parseColor(c) {
  const hit = colorCache.get(c);
  if (hit) return hit;
  /** @type {RGBA} */
  let out = [0, 0, 0, 1];
  const s = String(c).trim();
  if (/^#[0-9a-f]{6}$/i.test(s)) {
    out = [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16), 1];
  } else if (/^#[0-9a-f]{3}$/i.test(s)) {
    out = [parseInt(s[1] + s[1], 16), parseInt(s[2] + s[2], 16), parseInt(s[3] + s[3], 16), 1];
  } else if (/^rgba?\(/i.test(s)) {
    const m = s.match(/[\d.]+/g) || ['0', '0', '0', '1'];
    out = [Number(m[0]), Number(m[1]), Number(m[2]), m.length > 3 ? Number(m[3]) : 1];
  } else if (typeof document !== 'undefined') {
    if (!colorCtx) colorCtx = document.createElement('canvas').getContext('2d');
    if (colorCtx) {
      colorCtx.fillStyle = '#000000';
      colorCtx.fillStyle = s;
      return parseColor(String(colorCtx.fillStyle));
    }
  }
  colorCache.set(c, out);
  return out;
}

/**
 * @param {string} c
 * @param {number} a
 * @returns {string}
 */
export function rgba(c, a) {
  const [r, g, b] = parseColor(c);
  return `rgba(${r},${g},${b},${a})`;
}

/**
 * The colour `t` of the way from `c1` to `c2`.
 * @param {string} c1
 * @param {string} c2
 * @param {number} t
 * @returns {string}
 */
export function mix(c1, c2, t) {
  const a = parseColor(c1);
  const b = parseColor(c2);
  /** @param {number} i */
  const f = (i) => Math.round(a[i] + (b[i] - a[i]) * t);
  return `rgb(${f(0)},${f(1)},${f(2)})`;
}

/**
 * A colour along piecewise-linear `stops` at `t` in [0, 1].
 * @param {readonly string[]} stops
 * @param {number} t
 * @returns {string}
 */
export function ramp(stops, t) {
  const x = clamp(t, 0, 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  return mix(stops[i], stops[i + 1], x - i);
}

/**
 * Relative luminance in [0, 1] (sRGB weights, no gamma: enough to pick black or white text).
 * @param {string} c
 * @returns {number}
 */
export function luminance(c) {
  const [r, g, b] = parseColor(c);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/**
 * Text colour that reads on `fill`.
 * @param {string} fill
 * @returns {string}
 */
export function inkOn(fill) {
  return luminance(fill) > 0.6 ? '#1b1f24' : '#ffffff';
}

/**
 * @typedef {object} Palette
 * @property {readonly string[]} probes colours of probe ranks 1…n (Okabe–Ito, colour-blind safe)
 * @property {string} laterProbe the one colour of every probe beyond `probes.length`
 * @property {readonly string[]} levels HNSW level colours
 * @property {readonly string[]} size sequential ramp for list sizes
 * @property {readonly string[]} quiet background ramp for lists not probed
 * @property {string} empty
 * @property {string} query
 * @property {string} select
 * @property {string} missed
 * @property {string} bg
 * @property {string} fg
 * @property {string} muted
 */

/**
 * Probe colours follow the Okabe–Ito palette, chosen to stay distinct with the common colour
 * vision deficiencies. Probe #r always has the same colour, whatever nprobe is; probes
 * beyond the sixth share one neutral colour (their badges carry the number). The query is
 * reddish purple, a hue no probe uses.
 * @type {Record<'light' | 'dark', Omit<Palette, 'bg' | 'fg' | 'muted'>>}
 */
export const PALETTES = {
  light: {
    probes: ['#0072b2', '#e69f00', '#009e73', '#56b4e9', '#d55e00', '#882255'],
    laterProbe: '#8a94a6',
    levels: ['#0072b2', '#009e73', '#e69f00', '#d55e00', '#56b4e9', '#c9b800', '#8a6d3b', '#6c757d'],
    size: ['#e8f0fa', '#c3d7f0', '#8cb2e0', '#5588c8', '#2f63a8', '#1b3f74'],
    quiet: ['#f1f3f5', '#d9dee4'],
    empty: '#fafbfc',
    query: '#b3478f',
    select: '#1b1f24',
    missed: '#d55e00',
  },
  dark: {
    probes: ['#3a9ad9', '#f0b13a', '#2cc195', '#8fd0f5', '#ff7d3a', '#f0e442'],
    laterProbe: '#8d97a8',
    levels: ['#3a9ad9', '#2cc195', '#f0b13a', '#ff7d3a', '#8fd0f5', '#f0e442', '#c4a27a', '#adb5bd'],
    size: ['#1b2230', '#1e3550', '#244f78', '#2c6ca2', '#4b92cc', '#82c0f0'],
    quiet: ['#1f242c', '#2d343f'],
    empty: '#171a20',
    query: '#e08ac4',
    select: '#ffffff',
    missed: '#ff7d3a',
  },
};

/**
 * The colour of probe rank `rank` (0 = the nearest list). Independent of nprobe.
 * @param {Pick<Palette, 'probes' | 'laterProbe'>} pal
 * @param {number} rank
 * @returns {string}
 */
export function probeColor(pal, rank) {
  return rank >= 0 && rank < pal.probes.length ? pal.probes[rank] : pal.laterProbe;
}

/**
 * @param {Pick<Palette, 'levels'>} pal
 * @param {number} level
 * @returns {string}
 */
export function levelColor(pal, level) {
  return pal.levels[level % pal.levels.length];
}

// Machado et al. (2009) dichromacy matrices at full severity, linear RGB.
const CVD = {
  protan: [0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216, -0.003882, -0.048116, 1.051998],
  deutan: [0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413, -0.01182, 0.04294, 0.968881],
  tritan: [1.255528, -0.076749, -0.178779, -0.078411, 0.930809, 0.147602, 0.004733, 0.691367, 0.3039],
};

/**
 * How `c` looks to a viewer with a colour vision deficiency (`'protan' | 'deutan' |
 * 'tritan'`), as sRGB 0…255 triplets. Used by tests to check the palettes stay apart.
 * @param {string} c
 * @param {'protan' | 'deutan' | 'tritan'} kind
 * @returns {[number, number, number]}
 */
export function simulateCvd(c, kind) {
  const m = CVD[kind];
  const lin = parseColor(c).slice(0, 3).map((v) => {
    const x = v / 255;
    return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  });
  /** @type {[number, number, number]} */
  const out = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const y = clamp(m[3 * i] * lin[0] + m[3 * i + 1] * lin[1] + m[3 * i + 2] * lin[2], 0, 1);
    out[i] = 255 * (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055);
  }
  return out;
}
