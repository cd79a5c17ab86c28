// Sweep: recall@k against the work done (mean distance computations per query) at each
// nprobe / ef; a faint dot per query, the mean as a line. Click a point: the search of the
// query with the lowest recall at that value opens in the search views.

import { drawAxes, linearAxis, logAxis } from '../chart.js';
import { card, factsTable, h, hoverRow, section } from '../dom.js';
import { circlePath, strokeRing } from '../draw.js';
import { fmtInt } from '../format.js';
import { PointGrid } from '../hit.js';
import { rgba } from '../theme.js';
import { Scene } from './scene.js';

/** @typedef {import('../diagnostics_payload.js').SweepPayload} SweepPayload */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */

/**
 * @typedef {object} SweepHost
 * @property {(index: number) => void} openSweepSearch show the search behind point `index`
 */

export class SweepScene extends Scene {
  /**
   * @param {SceneHost & SweepHost} app
   * @param {SweepPayload} sw
   */
  constructor(app, sw) {
    super(app);
    this.sw = sw;
    this.host = app;
    this.p = sw.values.length;
    this.nq = this.p ? sw.perQuery.length / this.p : 0;
    this.px = new Float32Array(this.p);
    this.py = new Float32Array(this.p);
    this.box = { x0: 0, y0: 0, x1: 1, y1: 1 };
    this.grid = new PointGrid(this.px, this.py, null, 1, 1);
  }

  /** The parameter's user name. */
  get name() {
    return this.sw.param === 'ef' ? 'ef' : 'nprobe';
  }

  place() {
    const sw = this.sw;
    const box = { x0: 64, y0: 40, x1: this.W - 24, y1: this.H - 48 };
    this.box = box;
    let lo = Infinity;
    let hi = 0;
    for (const d of sw.distances) {
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    const vp = this.vp;
    const xa = logAxis(Math.max(1, lo * 0.8), Math.max(hi * 1.25, lo * 2), box.x0, box.x1);
    const ya = linearAxis(0, 1, box.y1, box.y0, 5);
    this.xAxis = { ...xa, at: (/** @type {number} */ v) => vp.x(xa.at(v)) };
    this.yAxis = { ...ya, at: (/** @type {number} */ v) => vp.y(ya.at(v)) };
    for (let i = 0; i < this.p; i++) {
      this.px[i] = this.xAxis.at(sw.distances[i]);
      this.py[i] = this.yAxis.at(sw.recall[i]);
    }
    this.grid = new PointGrid(this.px, this.py, null, this.W, this.H);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const sw = this.sw;
    if (!this.xAxis || !this.yAxis) return;
    drawAxes(g, pal, app.font, this.box, this.xAxis, this.yAxis, 'distance computations per query (mean, log scale)', `recall@${sw.k}`);
    // every query's recall at each value, jittered sideways so equal values stay visible
    g.beginPath();
    for (let i = 0; i < this.p; i++) {
      for (let q = 0; q < this.nq; q++) {
        const jitter = ((q * 0.618034) % 1) * 10 - 5;
        circlePath(g, this.px[i] + jitter, this.yAxis.at(sw.perQuery[i * this.nq + q]), 1.6);
      }
    }
    g.fillStyle = rgba(pal.probes[0], 0.3);
    g.fill();
    g.beginPath();
    for (let i = 0; i < this.p; i++) {
      if (i) g.lineTo(this.px[i], this.py[i]);
      else g.moveTo(this.px[i], this.py[i]);
    }
    g.strokeStyle = pal.probes[0];
    g.lineWidth = 2;
    g.stroke();
    g.beginPath();
    for (let i = 0; i < this.p; i++) circlePath(g, this.px[i], this.py[i], 5);
    g.fillStyle = pal.probes[0];
    g.fill();
    g.strokeStyle = pal.bg;
    g.lineWidth = 1.5;
    g.stroke();
    const specs = [];
    for (let i = 0; i < this.p; i++) {
      specs.push({ x: this.px[i], y: this.py[i], text: `${this.name} ${sw.values[i]}`, color: pal.fg, size: 10, weight: 600 });
    }
    this.drawLabels(g, specs, [], { x: this.box.x0 + 2, y: 2, w: this.W - this.box.x0 - 4, h: this.box.y1 - 2 });
    g.font = app.font(12, 700);
    g.fillStyle = pal.fg;
    g.textAlign = 'left';
    g.textBaseline = 'top';
    g.fillText(`Recall@${sw.k} against work, ${fmtInt(sw.queries)} queries`, 12, 10);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const hov = this.app.hover;
    if (hov?.kind !== 'sweep' || hov.index == null) return;
    strokeRing(g, this.px[hov.index], this.py[hov.index], 9, this.app.pal.fg);
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const i = this.grid.nearest(x, y, 8);
    return i < 0 ? null : { key: `sweep:${i}`, kind: 'sweep', index: i };
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== 'sweep' || item.index == null) return null;
    const i = item.index;
    const sw = this.sw;
    const worst = sw.worst[i];
    return card({
      title: `${this.name} ${sw.values[i]}`,
      lines: [
        { text: `recall@${sw.k} ${sw.recall[i].toFixed(3)} (mean of ${fmtInt(sw.queries)})` },
        { text: `${fmtInt(Math.round(sw.distances[i]))} distance computations per query` },
        { text: `worst: query #${worst}, recall ${sw.perQuery[i * this.nq + worst].toFixed(2)}` },
      ],
      note: 'click to open that search',
    });
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item && item.kind === 'sweep' && item.index != null) this.host.openSweepSearch(item.index);
  }

  panel() {
    const sw = this.sw;
    const box = h('div');
    const sec = section('Sweep');
    sec.appendChild(
      factsTable([
        ['parameter', this.name],
        ['k', fmtInt(sw.k)],
        ['queries', fmtInt(sw.queries)],
      ]),
    );
    sec.appendChild(h('p', 'feder-muted feder-small', `Higher ${this.name} scans more and finds more: each point is one value, its recall against the distances it computed. Click a point (or a row) for the search of its worst query.`));
    box.appendChild(sec);
    const rows = section(`Recall@${sw.k} by ${this.name}`);
    const table = h('div', 'feder-rows');
    for (let i = 0; i < this.p; i++) {
      const item = { key: `sweep:${i}`, kind: 'sweep', index: i };
      table.appendChild(
        hoverRow(
          [h('span', 'feder-row-main', `${this.name} ${sw.values[i]}`), h('span', 'feder-num', sw.recall[i].toFixed(3)), h('span', 'feder-muted', fmtInt(Math.round(sw.distances[i])))],
          { enter: () => this.app.setHover(item), leave: () => this.app.setHover(null), click: () => this.click(item) },
        ),
      );
    }
    rows.appendChild(table);
    box.appendChild(rows);
    return box;
  }

  /** @param {number} [limit] */
  targets(limit = 40) {
    const out = [];
    for (let i = 0; i < this.p && i < limit; i++) out.push({ x: this.px[i], y: this.py[i], kind: 'sweep', rank: i });
    return out;
  }
}
