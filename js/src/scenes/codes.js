// Codes: why lossy codes (PQ, SQ) cost recall. Each scanned candidate is a dot at x = its
// true distance (to the original vector when FederPy was given vectors=, else to the code's
// reconstruction) and y = its code's distance (what the search ranked by). The diagonal is a
// perfect code; the horizontal line is the k-th result's code distance (above it nothing is
// returned), the vertical line the k-th exact distance (left of it: the true neighbours).
// Exact neighbours above the cut-off were scanned but ranked out: "quantization" misses.
// Axes run from closer to farther, so for inner products (larger is closer) they are reversed.

import { drawAxes } from '../chart.js';
import { badgeEl, card, factsTable, h, hoverRow, section } from '../dom.js';
import { drawMisses, MISS_RADIUS, recallSection } from '../diagnosis.js';
import { circlePath, strokeRing } from '../draw.js';
import { fmtDist, fmtId, fmtInt, fmtTick, nonNegativeMetric, plural } from '../format.js';
import { PointGrid } from '../hit.js';
import { aroundPoint, markerBox } from '../labels.js';
import { niceTicks } from '../scales.js';
import { rgba } from '../theme.js';
import { Scene } from './scene.js';
import { resultsStrip } from './strip.js';

/** @typedef {import('../payload.js').Search} Search */
/** @typedef {import('../payload.js').Codes} Codes */
/** @typedef {import('../chart.js').Axis} Axis */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */
/** @typedef {import('./scene.js').LabelSpec} LabelSpec */
/** @typedef {import('./scene.js').Target} Target */
/** @typedef {import('../labels.js').Box} Box */

const RESULT_RADIUS = 5;
const DOT_RADIUS = 2.6;
const PANEL_ROWS = 20;
export const DECODED_NOTE = 'True distance = to the decoded vector (the code’s reconstruction), so points sit on the diagonal up to rounding: pass vectors= to FederPy to see the quantization error.';

/** What a candidate is on the chart. */
export const CLASS = /** @type {const} */ ({ OTHER: 0, RESULT: 1, MISSED: 2 });

/**
 * The class of each candidate: returned, an exact neighbour not returned (ranked out by its
 * code), or another scanned candidate.
 * @param {Codes} c
 * @returns {Uint8Array}
 */
export function classify(c) {
  const out = new Uint8Array(c.ids.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = c.rank[i] >= 0 ? CLASS.RESULT : c.trueRank[i] > 0 ? CLASS.MISSED : CLASS.OTHER;
  }
  return out;
}

/**
 * An axis from the closest value `near` (at screen `a`) to the farthest `far` (at `b`):
 * reversed for inner products, where `near` > `far`.
 * @param {number} near
 * @param {number} far
 * @param {number} a
 * @param {number} b
 * @returns {Axis}
 */
export function distanceAxis(near, far, a, b) {
  const span = far - near || 1;
  return {
    at: (v) => a + ((v - near) / span) * (b - a),
    ticks: niceTicks(Math.min(near, far), Math.max(near, far), 5),
    label: (v) => fmtTick(v),
  };
}

/**
 * The closest and farthest distance shown (both axes share them, so y = x is the diagonal),
 * padded a little: `[near, far]`.
 * @param {Codes} c
 * @returns {[number, number]}
 */
export function distanceRange(c) {
  let lo = Infinity;
  let hi = -Infinity;
  /** @param {number} v */
  const add = (v) => {
    if (!Number.isFinite(v)) return;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  };
  for (let i = 0; i < c.ids.length; i++) {
    add(c.codeDist[i]);
    add(c.trueDist[i]);
  }
  if (c.kthCode != null) add(c.kthCode);
  if (c.kthTrue != null) add(c.kthTrue);
  if (!(hi >= lo)) return c.largerIsCloser ? [1, 0] : [0, 1];
  const pad = (hi - lo) * 0.04 || Math.abs(hi) * 0.04 || 1;
  lo -= pad;
  hi += pad;
  return c.largerIsCloser ? [hi, lo] : [lo, hi];
}

export class CodesScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {Search} search
   */
  constructor(app, search) {
    super(app);
    this.s = search;
    this.c = /** @type {Codes} */ (search.codes);
    const n = this.c.ids.length;
    this.n = n;
    this.cls = classify(this.c);
    // Drawn (and hit) in this order: other candidates, results, missed neighbours on top.
    this.order = new Int32Array(n);
    let j = 0;
    for (const want of [CLASS.OTHER, CLASS.RESULT, CLASS.MISSED]) for (let i = n - 1; i >= 0; i--) if (this.cls[i] === want) this.order[j++] = i;
    this.sx = new Float32Array(n);
    this.sy = new Float32Array(n);
    this.box = { x0: 0, y0: 0, x1: 1, y1: 1 };
    this.grid = new PointGrid(this.sx, this.sy, null, 1, 1);
    this.nonNeg = nonNegativeMetric(search.metric);
    this.k = search.params.k != null ? Number(search.params.k) : search.resultIds.length;
    /** @type {Map<string, number> | null} */
    this.byId = null;
    /** screen position of the cut-off lines (NaN when absent) */
    this.hy = Number.NaN;
    this.vx = Number.NaN;
    /** @type {Axis | null} */
    this.xAxis = null;
    /** @type {Axis | null} */
    this.yAxis = null;
  }

  /** Distances are "scores" (inner products, larger is closer) rather than distances. */
  get ip() {
    return this.c.largerIsCloser;
  }

  /** @param {'true' | 'code'} which */
  axisTitle(which) {
    const of = this.c.truthSpace === 'exact' ? '(original vector)' : '(decoded vector)';
    if (this.ip) return which === 'true' ? `true inner product ${of} · larger = closer, axis reversed` : 'code inner product (what the search ranked by), reversed';
    const unit = this.s.metric === 'l2' ? 'squared L2' : this.s.metric;
    return which === 'true' ? `true distance ${of} · ${unit}` : `code distance (what the search ranked by) · ${unit}`;
  }

  place() {
    const box = { x0: 66, y0: this.c.truthSpace === 'decoded' ? 52 : 38, x1: this.W - 22, y1: this.H - 50 };
    this.box = box;
    const [near, far] = distanceRange(this.c);
    const vp = this.vp;
    const xa = distanceAxis(near, far, box.x0, box.x1);
    const ya = distanceAxis(near, far, box.y1, box.y0);
    this.xAxis = { ...xa, at: (v) => vp.x(xa.at(v)) };
    this.yAxis = { ...ya, at: (v) => vp.y(ya.at(v)) };
    const c = this.c;
    for (let i = 0; i < this.n; i++) {
      this.sx[i] = this.xAxis.at(c.trueDist[i]);
      this.sy[i] = this.yAxis.at(c.codeDist[i]);
    }
    this.hy = c.kthCode != null ? this.yAxis.at(c.kthCode) : Number.NaN;
    this.vx = c.kthTrue != null ? this.xAxis.at(c.kthTrue) : Number.NaN;
    const xs = new Float32Array(this.n);
    const ys = new Float32Array(this.n);
    const rr = new Float32Array(this.n);
    for (let k = 0; k < this.n; k++) {
      const i = this.order[k];
      xs[k] = this.sx[i];
      ys[k] = this.sy[i];
      rr[k] = this.cls[i] === CLASS.OTHER ? DOT_RADIUS : this.cls[i] === CLASS.RESULT ? RESULT_RADIUS : MISS_RADIUS;
    }
    this.grid = new PointGrid(xs, ys, rr, this.W, this.H);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const c = this.c;
    const box = this.box;
    if (!this.xAxis || !this.yAxis) return;
    drawAxes(g, pal, app.font, box, this.xAxis, this.yAxis, this.axisTitle('true'), this.axisTitle('code'));
    g.save();
    g.beginPath();
    g.rect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    g.clip();
    // y = x: a perfect code
    const [near, far] = distanceRange(c);
    g.beginPath();
    g.moveTo(this.xAxis.at(near), this.yAxis.at(near));
    g.lineTo(this.xAxis.at(far), this.yAxis.at(far));
    g.setLineDash([2, 4]);
    g.strokeStyle = rgba(pal.fg, 0.45);
    g.lineWidth = 1;
    g.stroke();
    g.setLineDash([7, 4]);
    g.lineWidth = 1.5;
    if (Number.isFinite(this.hy)) {
      g.beginPath();
      g.moveTo(box.x0, this.hy);
      g.lineTo(box.x1, this.hy);
      g.strokeStyle = rgba(pal.query, 0.85);
      g.stroke();
    }
    if (Number.isFinite(this.vx)) {
      g.beginPath();
      g.moveTo(this.vx, box.y0);
      g.lineTo(this.vx, box.y1);
      g.strokeStyle = rgba(pal.probes[0], 0.85);
      g.stroke();
    }
    g.setLineDash([]);
    // other candidates, then results, then the missed neighbours
    g.beginPath();
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.OTHER) circlePath(g, this.sx[i], this.sy[i], DOT_RADIUS);
    g.fillStyle = rgba(pal.muted, 0.55);
    g.fill();
    g.beginPath();
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.RESULT) circlePath(g, this.sx[i], this.sy[i], RESULT_RADIUS);
    g.fillStyle = pal.probes[0];
    g.fill();
    g.lineWidth = 1.5;
    g.strokeStyle = pal.fg;
    g.stroke();
    /** @type {number[]} */
    const mx = [];
    /** @type {number[]} */
    const my = [];
    for (let i = 0; i < this.n; i++) {
      if (this.cls[i] !== CLASS.MISSED) continue;
      mx.push(this.sx[i]);
      my.push(this.sy[i]);
    }
    drawMisses(g, pal, mx, my);
    g.restore();
    /** @type {Box[]} */
    const marks = [];
    for (let j = 0; j < mx.length; j++) marks.push(markerBox(mx[j], my[j], MISS_RADIUS + 1));
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.RESULT) marks.push(markerBox(this.sx[i], this.sy[i], RESULT_RADIUS + 1));
    /** @type {LabelSpec[]} */
    const specs = [];
    for (let j = 0; j < mx.length && j < 12; j++) specs.push({ x: mx[j], y: my[j], text: 'ranked out', color: pal.missed, size: 10, weight: 700, offsets: aroundPoint(60, 14, MISS_RADIUS) });
    const inside = { x: box.x0 + 2, y: box.y0 + 2, w: box.x1 - box.x0 - 4, h: box.y1 - box.y0 - 4 };
    if (Number.isFinite(this.hy)) {
      const text = `cut-off: the ${this.k}-th result's code distance ${fmtDist(c.kthCode, this.nonNeg)}`;
      specs.push({ x: box.x1, y: this.hy, text, color: pal.query, size: 10, weight: 600, offsets: [[-text.length * 2.9 - 6, -9], [-text.length * 2.9 - 6, 9]] });
    }
    if (Number.isFinite(this.vx)) {
      const text = `${this.k}-th exact distance ${fmtDist(c.kthTrue, this.nonNeg)}`;
      const w = text.length * 2.9 + 6;
      specs.push({ x: this.vx, y: box.y0, text, color: pal.probes[0], size: 10, weight: 600, offsets: [[w, 9], [-w, 9], [w, 24], [-w, 24]] });
    }
    this.drawLabels(g, specs, marks, inside);
    g.font = app.font(12, 700);
    g.fillStyle = pal.fg;
    g.textAlign = 'left';
    g.textBaseline = 'top';
    g.fillText(`Code vs true distance · ${fmtInt(this.n)} of ${fmtInt(c.scanned)} scanned candidates`, 12, 10);
    if (c.truthSpace === 'decoded') {
      g.font = app.font(11, 600);
      g.fillStyle = pal.missed;
      g.fillText('true distance = to the decoded vector; pass vectors= to FederPy to see quantization error', 12, 28);
    }
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const app = this.app;
    const pal = app.pal;
    if (app.selKeys.size) {
      g.beginPath();
      for (const key of app.selKeys) {
        const i = this.indexOfId(key);
        if (i != null) circlePath(g, this.sx[i], this.sy[i], 9);
      }
      g.strokeStyle = pal.select;
      g.lineWidth = 2.5;
      g.stroke();
    }
    const hov = app.hover;
    if (hov?.kind !== 'code' || hov.index == null) return;
    const i = hov.index;
    const x = this.sx[i];
    const y = this.sy[i];
    // the code's error: from the diagonal (code = true) to the point
    g.save();
    g.beginPath();
    g.moveTo(x, this.yAxis ? this.yAxis.at(this.c.trueDist[i]) : y);
    g.lineTo(x, y);
    g.setLineDash([3, 3]);
    g.strokeStyle = rgba(pal.fg, 0.7);
    g.lineWidth = 1.25;
    g.stroke();
    g.restore();
    strokeRing(g, x, y, this.cls[i] === CLASS.OTHER ? 6 : 10, pal.fg);
  }

  /**
   * Position of a user id (decimal string) among the candidates shown, or undefined.
   * @param {string} key
   */
  indexOfId(key) {
    if (!this.byId) {
      this.byId = new Map();
      for (let i = 0; i < this.n; i++) this.byId.set(fmtId(this.c.ids[i]), i);
    }
    return this.byId.get(key);
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const i = this.order[k];
    return { key: `code:${i}`, kind: 'code', index: i };
  }

  /** @param {number} id */
  hoverId(id) {
    const i = this.indexOfId(fmtId(id));
    return i == null ? null : { key: `code:${i}`, kind: 'code', index: i };
  }

  /**
   * What candidate `i` is, in words.
   * @param {number} i
   */
  status(i) {
    const c = this.c;
    if (this.cls[i] === CLASS.MISSED) return `exact #${c.trueRank[i]}, missed: scanned, but its code's distance ranked it out of the top ${this.k}`;
    if (this.cls[i] === CLASS.RESULT) return c.trueRank[i] > 0 ? `result #${c.rank[i] + 1}, exact #${c.trueRank[i]}` : `result #${c.rank[i] + 1}, not in the exact top-${this.k} (its code looked closer than it is)`;
    return 'scanned, not returned, not in the exact top-k';
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== 'code' || item.index == null) return null;
    const app = this.app;
    const c = this.c;
    const i = item.index;
    const id = c.ids[i];
    const err = c.codeDist[i] - c.trueDist[i];
    return card({
      title: app.idText(id),
      thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
      badge: c.rank[i] >= 0 ? badgeEl(`#${c.rank[i] + 1}`, app.pal.probes[0]) : null,
      subtitle: app.media.name(id),
      lines: [
        { text: `true distance ${fmtDist(c.trueDist[i], this.nonNeg)}${c.truthSpace === 'decoded' ? ' (decoded)' : ''}` },
        { text: `code distance ${fmtDist(c.codeDist[i], this.nonNeg)} (${err >= 0 ? '+' : ''}${fmtDist(err)})` },
        c.lists[i] >= 0 ? { text: `list ${c.lists[i]}`, muted: true } : null,
      ],
      note: this.status(i),
    });
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== 'code' || item.index == null) {
      this.app.select([], -1);
      return;
    }
    const id = this.c.ids[item.index];
    if (this.app.selKeys.size === 1 && this.app.selKeys.has(fmtId(id))) this.app.select([], -1);
    else this.app.select([id], -1);
  }

  panel() {
    const app = this.app;
    const c = this.c;
    const s = this.s;
    const box = h('div');
    const sec = section('Codes vs true distances');
    let missed = 0;
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.MISSED) missed++;
    sec.appendChild(
      factsTable([
        ['metric', s.metric],
        ['k', fmtInt(this.k)],
        ['truth', c.truthSpace === 'exact' ? 'exact (original vectors)' : 'decoded codes'],
        ['codes scanned', fmtInt(c.scanned)],
        ['shown', fmtInt(this.n)],
        ['cut-off (k-th code)', c.kthCode != null ? fmtDist(c.kthCode, this.nonNeg) : null],
        ['k-th exact distance', c.kthTrue != null ? fmtDist(c.kthTrue, this.nonNeg) : null],
        ['ranked out by codes', fmtInt(missed)],
      ]),
    );
    if (c.truthSpace === 'decoded') {
      const note = h('p', 'feder-small feder-missed-text feder-codes-decoded', DECODED_NOTE);
      sec.appendChild(note);
    }
    sec.appendChild(
      h(
        'p',
        'feder-muted feder-small',
        `Each dot is a scanned candidate: x its true distance, y its code's distance, the one the search ranked by (${this.ip ? 'inner products: larger is closer, so both axes are reversed' : 'closer is left and down'}). On the dotted diagonal a code is exact. Below the horizontal cut-off a candidate is returned; left of the vertical line it is one of the exact top-${this.k}. Top-left (×): exact neighbours the codes ranked out. Shown: the ${fmtInt(this.n)} nearest codes, every result and every exact neighbour scanned.`,
      ),
    );
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(app, s.diag, this.nonNeg));
    const rows = section('Results and exact neighbours');
    const table = h('div', 'feder-rows');
    let shown = 0;
    for (let k = this.n - 1; k >= 0 && shown < PANEL_ROWS; k--) {
      const i = this.order[k];
      if (this.cls[i] === CLASS.OTHER) continue;
      shown++;
      const item = { key: `code:${i}`, kind: 'code', index: i };
      const mark = this.cls[i] === CLASS.MISSED ? h('span', 'feder-miss-mark', '×') : badgeEl(`${c.rank[i] + 1}`, app.pal.probes[0]);
      table.appendChild(
        hoverRow(
          [mark, h('span', 'feder-row-main', app.idText(c.ids[i])), h('span', 'feder-muted', `true ${fmtDist(c.trueDist[i], this.nonNeg)}`), h('span', 'feder-num', `code ${fmtDist(c.codeDist[i], this.nonNeg)}`)],
          { enter: () => app.setHover(item), leave: () => app.setHover(null), click: () => this.click(item) },
        ),
      );
    }
    rows.appendChild(table);
    const unscanned = s.diag ? countUnscanned(s.diag) : 0;
    if (unscanned) rows.appendChild(h('p', 'feder-muted feder-small', `${plural(unscanned, 'missed neighbour was', 'missed neighbours were')} never scanned (not probed / not reached): no code distance, not on this chart.`));
    box.appendChild(rows);
    return box;
  }

  strip() {
    return resultsStrip(this.app, this.s);
  }

  /**
   * Every result and missed neighbour, other candidates up to `limit`, and the cut-off lines
   * (`kth_code`: y of the horizontal line, `kth_true`: x of the vertical one).
   * @param {number} [limit]
   * @returns {Target[]}
   */
  targets(limit = 40) {
    const c = this.c;
    /** @type {Target[]} */
    const out = [];
    if (Number.isFinite(this.hy)) out.push({ x: this.box.x0, y: this.hy, kind: 'kth_code' });
    if (Number.isFinite(this.vx)) out.push({ x: this.vx, y: this.box.y1, kind: 'kth_true' });
    for (let i = 0; i < this.n; i++) {
      if (this.cls[i] !== CLASS.OTHER) out.push({ x: this.sx[i], y: this.sy[i], kind: this.cls[i] === CLASS.MISSED ? 'missed' : 'result', id: c.ids[i], rank: this.cls[i] === CLASS.MISSED ? c.trueRank[i] - 1 : c.rank[i] });
    }
    for (let i = 0; i < this.n && out.length < limit; i++) {
      if (this.cls[i] === CLASS.OTHER) out.push({ x: this.sx[i], y: this.sy[i], kind: 'cand', id: c.ids[i], rank: -1 });
    }
    return out;
  }
}

/**
 * Missed neighbours whose distance the search never computed (no point on this chart).
 * @param {import('../payload.js').Diagnosis} d
 */
function countUnscanned(d) {
  let n = 0;
  for (let j = 0; j < d.missIds.length; j++) if (!Number.isFinite(d.missCodeDist[j])) n++;
  return n;
}
