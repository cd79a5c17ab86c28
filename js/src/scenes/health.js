// Health: the index at a glance. IVF: how many lists have each size (log-scale size bins),
// empty lists and the imbalance factor. HNSW: out- and in-degree histograms per level and
// the nodes no search can reach (listed in the panel, selectable).

import { drawAxes, linearAxis } from '../chart.js';
import { card, factsTable, h, hoverRow, section } from '../dom.js';
import { fmtId, fmtInt, plural } from '../format.js';
import { levelColor, rgba } from '../theme.js';
import { Scene } from './scene.js';

/** @typedef {import('../diagnostics_payload.js').HealthPayload} HealthPayload */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */

const UNREACHABLE_ROWS = 200;

/**
 * @typedef {object} Bar
 * @property {number} x
 * @property {number} y
 * @property {number} w
 * @property {number} h
 * @property {string} label
 * @property {number} count
 * @property {string} what
 */

export class HealthScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {HealthPayload} he
   */
  constructor(app, he) {
    super(app);
    this.he = he;
    this.box = { x0: 0, y0: 0, x1: 1, y1: 1 };
    /** @type {import('../chart.js').Axis | null} */
    this.yAxis = null;
    /** @type {Bar[]} */
    this.bars = [];
  }

  place() {
    this.bars = this.he.family === 'ivf' ? this.ivfBars() : this.graphBars();
  }

  /** One bar per size bin [edges[i], edges[i+1]). */
  ivfBars() {
    const he = this.he;
    const n = he.counts.length;
    this.box = { x0: 64, y0: 44, x1: this.W - 20, y1: this.H - 52 };
    let top = 1;
    for (const c of he.counts) top = Math.max(top, c);
    this.yAxis = linearAxis(0, top, this.box.y1, this.box.y0, 5);
    const slot = (this.box.x1 - this.box.x0) / Math.max(n, 1);
    /** @type {Bar[]} */
    const bars = [];
    for (let i = 0; i < n; i++) {
      const lo = he.edges[i];
      const hi = he.edges[i + 1] - 1;
      const label = lo >= hi ? fmtInt(lo) : `${fmtInt(lo)}–${fmtInt(hi)}`;
      const y = this.yAxis.at(he.counts[i]);
      bars.push({ x: this.box.x0 + i * slot + 2, y, w: Math.max(slot - 4, 1), h: this.box.y1 - y, label, count: he.counts[i], what: `lists of ${label} vectors` });
    }
    return bars;
  }

  /** Per level (top first): out-degree bars left, in-degree bars right. */
  graphBars() {
    const levels = [...this.he.levels].reverse();
    const rowH = (this.H - 40) / Math.max(levels.length, 1);
    const half = (this.W - 60) / 2;
    /** @type {Bar[]} */
    const bars = [];
    levels.forEach((lv, r) => {
      const y1 = 34 + (r + 1) * rowH - 18;
      const y0 = 34 + r * rowH + 16;
      for (const [side, hist] of /** @type {const} */ ([
        [0, lv.out],
        [1, lv.in],
      ])) {
        let top = 1;
        for (const c of hist) top = Math.max(top, c);
        const x0 = 40 + side * (half + 10);
        const slot = half / Math.max(hist.length, 1);
        for (let d = 0; d < hist.length; d++) {
          const hh = (hist[d] / top) * (y1 - y0);
          bars.push({ x: x0 + d * slot, y: y1 - hh, w: Math.max(slot - 1, 1), h: hh, label: `L${lv.level} ${side ? 'in' : 'out'} ${d}`, count: hist[d], what: `level ${lv.level} nodes with ${d} ${side ? 'incoming' : 'outgoing'} links` });
        }
      }
    });
    return bars;
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const he = this.he;
    g.font = app.font(12, 700);
    g.fillStyle = pal.fg;
    g.textAlign = 'left';
    g.textBaseline = 'top';
    if (he.family === 'ivf' && this.yAxis) {
      g.fillText(`List sizes: ${plural(he.sizes.length, 'list')}, imbalance ${he.imbalance == null ? '—' : he.imbalance.toFixed(2)}`, 12, 10);
      const xAxis = { at: (/** @type {number} */ v) => v, ticks: [], label: String };
      drawAxes(g, pal, app.font, this.box, xAxis, this.yAxis, 'vectors per list (bins double in width)', 'lists');
      g.fillStyle = pal.size[3];
      for (const b of this.bars) g.fillRect(b.x, b.y, b.w, b.h);
      if (he.counts.length && he.counts[0] > 0) {
        const b = this.bars[0];
        g.fillStyle = pal.missed;
        g.fillRect(b.x, b.y, b.w, b.h);
      }
      g.fillStyle = pal.muted;
      g.font = app.font(10);
      g.textAlign = 'center';
      g.textBaseline = 'top';
      const step = Math.ceil(this.bars.length / Math.max(1, Math.floor((this.box.x1 - this.box.x0) / 56)));
      this.bars.forEach((b, i) => {
        if (i % step === 0) g.fillText(b.label, b.x + b.w / 2, this.box.y1 + 4);
      });
      return;
    }
    g.fillText(`Degrees per level · ${plural(he.unreachable.length, 'unreachable node')}`, 12, 10);
    const levels = [...he.levels].reverse();
    const rowH = (this.H - 40) / Math.max(levels.length, 1);
    g.font = app.font(10, 600);
    levels.forEach((lv, r) => {
      g.fillStyle = levelColor(pal, lv.level);
      g.fillText(`Level ${lv.level} · ${plural(lv.nodes, 'node')} · out-degree`, 40, 34 + r * rowH + 2);
      g.fillText('in-degree', 40 + (this.W - 60) / 2 + 10, 34 + r * rowH + 2);
    });
    for (const b of this.bars) {
      const level = Number(b.label.slice(1, b.label.indexOf(' ')));
      g.fillStyle = rgba(levelColor(pal, level), 0.8);
      g.fillRect(b.x, b.y, b.w, b.h);
    }
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const hov = this.app.hover;
    if (hov?.kind !== 'bar' || hov.index == null) return;
    const b = this.bars[hov.index];
    g.strokeStyle = this.app.pal.fg;
    g.lineWidth = 2;
    g.strokeRect(b.x - 1, Math.min(b.y, this.H - 20) - 1, b.w + 2, Math.max(b.h, 2) + 2);
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    for (let i = 0; i < this.bars.length; i++) {
      const b = this.bars[i];
      if (x >= b.x && x <= b.x + b.w && y >= Math.min(b.y, b.y + b.h - 12) && y <= b.y + b.h + 2) return { key: `bar:${i}`, kind: 'bar', index: i };
    }
    return null;
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== 'bar' || item.index == null) return null;
    const b = this.bars[item.index];
    return card({ title: plural(b.count, 'node'), lines: [{ text: b.what }] });
  }

  panel() {
    const he = this.he;
    const app = this.app;
    const box = h('div');
    const sec = section('Index health');
    if (he.family === 'ivf') {
      sec.appendChild(
        factsTable([
          ['vectors', fmtInt(he.ntotal)],
          ['lists', fmtInt(he.sizes.length)],
          ['imbalance factor', he.imbalance == null ? '—' : he.imbalance.toFixed(3)],
          ['largest list', he.largest[0] >= 0 ? `#${he.largest[0]} · ${fmtInt(he.largest[1])}` : '—'],
          ['smallest list', he.smallest[0] >= 0 ? `#${he.smallest[0]} · ${fmtInt(he.smallest[1])}` : '—'],
          ['empty lists', fmtInt(he.emptyLists.length)],
        ]),
      );
      sec.appendChild(h('p', 'feder-muted feder-small', 'Imbalance factor nlist · Σ size² / ntotal², as faiss computes it: 1.0 is perfectly even; a search costs about that many times the work of an even split.'));
      if (he.emptyLists.length) sec.appendChild(h('p', 'feder-small', `Empty lists: ${Array.from(he.emptyLists.slice(0, 40), String).join(', ')}${he.emptyLists.length > 40 ? ', …' : ''}`));
      box.appendChild(sec);
      return box;
    }
    sec.appendChild(
      factsTable([
        ['elements', fmtInt(he.ntotal)],
        ['deleted', fmtInt(he.deleted)],
        ['entry point', he.entryPoint != null ? app.idText(he.entryPoint) : '—'],
        ['unreachable', fmtInt(he.unreachable.length)],
        ...he.levels.map((lv) => /** @type {const} */ ([`level ${lv.level}`, `${fmtInt(lv.nodes)} nodes · ${fmtInt(lv.links)} links`])),
      ]),
    );
    box.appendChild(sec);
    const lost = section('Unreachable nodes');
    if (!he.unreachable.length) {
      lost.appendChild(h('p', 'feder-muted', 'Every live node can be reached from the entry point.'));
    } else {
      lost.appendChild(h('p', 'feder-small', 'No directed path from the entry point leads to these nodes: no search can return them. Click one to select it.'));
      const rows = h('div', 'feder-rows');
      for (let i = 0; i < he.unreachable.length && i < UNREACHABLE_ROWS; i++) {
        const id = he.unreachable[i];
        const row = hoverRow([h('span', 'feder-row-main', app.idText(id))], { click: () => app.select([id], -1) });
        if (app.selKeys.has(fmtId(id))) row.classList.add('feder-current');
        rows.appendChild(row);
      }
      lost.appendChild(rows);
    }
    box.appendChild(lost);
    return box;
  }

  /** @param {number} [limit] */
  targets(limit = 40) {
    return this.bars.slice(0, limit).map((b, i) => ({ x: b.x + b.w / 2, y: b.y + b.h / 2, kind: 'bar', rank: i }));
  }
}
