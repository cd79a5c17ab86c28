// Compare: two searches of one query (two parameter sets, or two indexes) side by side.
// Each column lists its results by rank; a line joins an id both returned; ids only one side
// returned stand out in that side's colour. With diagnoses, each column says its recall and
// a ring marks the exact nearest neighbours.

import { card, factsTable, h, section } from '../dom.js';
import { circlePath, strokeRing } from '../draw.js';
import { fmtDist, fmtInt, nonNegativeMetric } from '../format.js';
import { PointGrid } from '../hit.js';
import { decodeDiagnosis, typed } from '../payload.js';
import { rgba } from '../theme.js';
import { Scene } from './scene.js';
import { idCard } from './strip.js';

/** @typedef {import('../diagnostics_payload.js').ComparePayload} ComparePayload */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */

/**
 * @typedef {object} Side
 * @property {string} title
 * @property {number[]} ids valid results, best first
 * @property {number[]} dist
 * @property {import('../payload.js').Diagnosis | null} diag
 * @property {string} metric
 */

/**
 * @param {Record<string, any>} search
 * @param {string} title
 * @returns {Side}
 */
function side(search, title) {
  const results = search.results || {};
  const ids = typed(results.ids);
  const dist = typed(results.distances);
  const out = { title, ids: /** @type {number[]} */ ([]), dist: /** @type {number[]} */ ([]), diag: decodeDiagnosis(search.diagnosis), metric: String(search.metric || '') };
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0) continue;
    out.ids.push(ids[i]);
    out.dist.push(dist[i]);
  }
  return out;
}

/**
 * Which ids both sides returned and which only one did.
 * @param {readonly number[]} left
 * @param {readonly number[]} right
 */
export function diffResults(left, right) {
  const inRight = new Set(right);
  const inLeft = new Set(left);
  return {
    shared: left.filter((id) => inRight.has(id)),
    onlyLeft: left.filter((id) => !inRight.has(id)),
    onlyRight: right.filter((id) => !inLeft.has(id)),
  };
}

export class CompareScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {ComparePayload} cmp
   */
  constructor(app, cmp) {
    super(app);
    this.sides = [side(cmp.left, cmp.titles[0]), side(cmp.right, cmp.titles[1])];
    this.diff = diffResults(this.sides[0].ids, this.sides[1].ids);
    /** @type {Array<{x: number, y: number, side: number, rank: number}>} */
    this.points = [];
    this.grid = new PointGrid([], [], null, 1, 1);
  }

  place() {
    const vp = this.vp;
    const xs = [this.W * 0.3, this.W * 0.7];
    const rows = Math.max(this.sides[0].ids.length, this.sides[1].ids.length, 1);
    const step = Math.min(34, (this.H - 90) / rows);
    this.points = [];
    this.sides.forEach((s, k) => {
      for (let r = 0; r < s.ids.length; r++) this.points.push({ x: vp.x(xs[k]), y: vp.y(70 + r * step), side: k, rank: r });
    });
    this.grid = new PointGrid(
      this.points.map((p) => p.x),
      this.points.map((p) => p.y),
      null,
      this.W,
      this.H,
    );
  }

  /** @param {number} k */
  color(k) {
    return this.app.pal.probes[k];
  }

  /**
   * @param {number} sideIndex
   * @param {number} id
   */
  pointOf(sideIndex, id) {
    const rank = this.sides[sideIndex].ids.indexOf(id);
    return this.points.find((p) => p.side === sideIndex && p.rank === rank);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    g.lineWidth = 1.5;
    for (const id of this.diff.shared) {
      const a = this.pointOf(0, id);
      const b = this.pointOf(1, id);
      if (!a || !b) continue;
      g.beginPath();
      g.moveTo(a.x, a.y);
      g.lineTo(b.x, b.y);
      g.strokeStyle = rgba(pal.fg, 0.35);
      g.stroke();
    }
    /** @type {import('./scene.js').LabelSpec[]} */
    const labels = [];
    this.sides.forEach((s, k) => {
      const only = new Set(k ? this.diff.onlyRight : this.diff.onlyLeft);
      const truth = s.diag ? new Set(Array.from(s.diag.truthIds)) : null;
      const nonNeg = nonNegativeMetric(s.metric);
      for (const p of this.points.filter((q) => q.side === k)) {
        const id = s.ids[p.rank];
        g.beginPath();
        circlePath(g, p.x, p.y, 6);
        g.fillStyle = only.has(id) ? this.color(k) : pal.bg;
        g.fill();
        g.lineWidth = 1.5;
        g.strokeStyle = only.has(id) ? pal.bg : pal.fg;
        g.stroke();
        if (truth?.has(id)) {
          g.beginPath();
          circlePath(g, p.x, p.y, 9.5);
          g.strokeStyle = pal.probes[2];
          g.lineWidth = 2;
          g.stroke();
        }
        const text = `#${p.rank + 1} ${this.app.idText(id)} · ${fmtDist(s.dist[p.rank], nonNeg)}`;
        labels.push({ x: p.x, y: p.y, text, color: only.has(id) ? this.color(k) : pal.fg, size: 10, weight: only.has(id) ? 700 : 500, offsets: k ? [[70, 0]] : [[-70, 0]] });
      }
      g.font = app.font(12, 700);
      g.fillStyle = this.color(k);
      g.textAlign = 'center';
      g.textBaseline = 'top';
      const x = this.W * (k ? 0.7 : 0.3);
      g.fillText(s.title, x, 12);
      g.font = app.font(11);
      g.fillStyle = pal.muted;
      g.fillText(s.diag ? `recall@${s.diag.k} ${s.diag.recall.toFixed(2)}` : `${fmtInt(s.ids.length)} results`, x, 30);
    });
    this.drawLabels(g, labels);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const hov = this.app.hover;
    if (hov?.kind !== 'cmp' || hov.index == null) return;
    const p = this.points[hov.index];
    const id = this.sides[p.side].ids[p.rank];
    g.strokeStyle = this.app.pal.fg;
    g.lineWidth = 2;
    for (const k of [0, 1]) {
      const q = this.pointOf(k, id);
      if (!q) continue;
      strokeRing(g, q.x, q.y, 10, this.app.pal.fg);
    }
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const i = this.grid.nearest(x, y, 8);
    return i < 0 ? null : { key: `cmp:${i}`, kind: 'cmp', index: i };
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== 'cmp' || item.index == null) return null;
    const p = this.points[item.index];
    const id = this.sides[p.side].ids[p.rank];
    const lines = this.sides.map((s) => {
      const r = s.ids.indexOf(id);
      return { text: r >= 0 ? `${s.title}: #${r + 1}, d ${fmtDist(s.dist[r], nonNegativeMetric(s.metric))}` : `${s.title}: not returned`, color: this.color(this.sides.indexOf(s)) };
    });
    return card({ title: this.app.idText(id), thumb: this.app.media.shows() ? this.app.media.thumb(id, { size: 72 }) : null, lines });
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== 'cmp' || item.index == null) {
      this.app.select([], -1);
      return;
    }
    const p = this.points[item.index];
    this.app.select([this.sides[p.side].ids[p.rank]], -1);
  }

  panel() {
    const box = h('div');
    const sec = section('Compare');
    sec.appendChild(
      factsTable([
        ...this.sides.map((s) => /** @type {const} */ ([s.title, s.diag ? `recall@${s.diag.k} ${s.diag.recall.toFixed(3)}` : `${s.ids.length} results`])),
        ['returned by both', fmtInt(this.diff.shared.length)],
        [`only ${this.sides[0].title}`, fmtInt(this.diff.onlyLeft.length)],
        [`only ${this.sides[1].title}`, fmtInt(this.diff.onlyRight.length)],
      ]),
    );
    sec.appendChild(h('p', 'feder-muted feder-small', 'Lines join ids both searches returned; filled dots were returned by one side only; green rings mark the exact nearest neighbours.'));
    box.appendChild(sec);
    return box;
  }

  strip() {
    const strip = h('div', 'feder-strip-inner');
    [this.diff.onlyLeft, this.diff.onlyRight].forEach((ids, k) => {
      for (const id of ids) {
        const c = idCard(this.app, id, [`only ${this.sides[k].title}`, this.app.idText(id)], 56, () => this.app.select([id], -1));
        c.style.borderColor = this.color(k);
        strip.appendChild(c);
      }
    });
    if (!strip.childElementCount) strip.appendChild(h('p', 'feder-muted', 'Both searches returned the same results.'));
    return strip;
  }

  /** @param {number} [limit] */
  targets(limit = 40) {
    return this.points.slice(0, limit).map((p) => ({ x: p.x, y: p.y, kind: 'cmp', id: this.sides[p.side].ids[p.rank], rank: p.rank, level: p.side }));
  }
}
