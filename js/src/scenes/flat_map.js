// Flat index overview: a flat index has no lists or graph to show, so the overview is the
// data itself — a PCA of a sample of the stored vectors (computed in Python), hover for an
// item, click to select it.

import { card, factsTable, h, section } from '../dom.js';
import { circlePath, strokeRing } from '../draw.js';
import { fmtId, fmtInt } from '../format.js';
import { PointGrid } from '../hit.js';
import { rgba } from '../theme.js';
import { Scene } from './scene.js';

/** @typedef {import('../payload.js').FlatOverview} FlatOverview */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */

const PAD = 24;

export class FlatMapScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {FlatOverview} ov
   */
  constructor(app, ov) {
    super(app);
    this.ov = ov;
    this.n = ov.ids.length;
    this.sx = new Float32Array(this.n);
    this.sy = new Float32Array(this.n);
    this.grid = new PointGrid(this.sx, this.sy, null, 1, 1);
    this.dotR = this.n > 1500 ? 2 : this.n > 400 ? 2.8 : 3.6;
  }

  place() {
    const vp = this.vp;
    const w = this.W - 2 * PAD;
    const hh = this.H - 2 * PAD;
    for (let i = 0; i < this.n; i++) {
      this.sx[i] = vp.x(PAD + this.ov.xy[2 * i] * w);
      this.sy[i] = vp.y(PAD + (1 - this.ov.xy[2 * i + 1]) * hh);
    }
    this.grid = new PointGrid(this.sx, this.sy, null, this.W, this.H);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const pal = this.app.pal;
    g.beginPath();
    for (let i = 0; i < this.n; i++) circlePath(g, this.sx[i], this.sy[i], this.dotR);
    g.fillStyle = rgba(pal.size[4], 0.7);
    g.fill();
    g.font = this.app.font(11, 600);
    g.fillStyle = pal.muted;
    g.textAlign = 'left';
    g.textBaseline = 'top';
    g.fillText(`PCA of ${fmtInt(this.n)} of ${fmtInt(this.ov.facts.ntotal)} stored vectors`, 10, 8);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const app = this.app;
    for (const key of app.selKeys) {
      for (let i = 0; i < this.n; i++) if (fmtId(this.ov.ids[i]) === key) strokeRing(g, this.sx[i], this.sy[i], 7, app.pal.select, 2.5);
    }
    const hov = app.hover;
    if (hov && hov.kind === 'point' && hov.index != null) strokeRing(g, this.sx[hov.index], this.sy[hov.index], 6, app.pal.fg);
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const i = this.grid.nearest(x, y, 5);
    return i < 0 ? null : { key: `point:${i}`, kind: 'point', index: i };
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== 'point' || item.index == null) return null;
    const id = this.ov.ids[item.index];
    const app = this.app;
    return card({ title: app.idText(id), thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null, subtitle: app.media.name(id) });
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== 'point' || item.index == null) this.app.select([], -1);
    else this.app.select([this.ov.ids[item.index]], -1);
  }

  panel() {
    const f = this.ov.facts;
    const box = h('div');
    const sec = section('Flat index');
    sec.appendChild(
      factsTable([
        ['index', f.index],
        ['id map', f.id_map || null],
        ['source', f.source],
        ['metric', f.metric],
        ['dimension', fmtInt(f.dim)],
        ['vectors', fmtInt(f.ntotal)],
      ]),
    );
    sec.appendChild(h('p', 'feder-muted feder-small', 'A flat index compares the query with every stored vector: its answer is exact (up to the codes of SQ / PQ storage). The map is a 2-D PCA of a sample.'));
    box.appendChild(sec);
    return box;
  }

  /** @param {number} [limit] */
  targets(limit = 40) {
    const out = [];
    for (let i = 0; i < this.n && i < limit; i++) out.push({ x: this.sx[i], y: this.sy[i], kind: 'point', id: this.ov.ids[i] });
    return out;
  }
}
