// IVF fine search, projection view: the candidates and the query in 2-D (PCA or UMAP,
// computed in Python), with thin lines from the query to the top-k.

import { rgba } from '../theme.js';
import { PointsScene } from './points.js';

/** @typedef {import('../payload.js').IVFOverview} IVFOverview */
/** @typedef {import('../payload.js').IVFSearch} IVFSearch */
/** @typedef {import('./scene.js').SceneHost} SceneHost */

const PAD = 34;

export class ProjectionScene extends PointsScene {
  /**
   * @param {SceneHost} app
   * @param {IVFOverview} ov
   * @param {IVFSearch} search
   */
  constructor(app, ov, search) {
    super(app, ov, search);
    const method = (search.projection ? search.projection.method : 'projection').toUpperCase();
    this.method = method;
    this.title = `Fine search (${method} projection)`;
    this.caption = `The candidates and the query projected to 2-D with ${method}: neighbours in the plane are usually neighbours in the space. Scroll to zoom, drag to pan, double-click to reset.`;
    this.x0 = PAD;
    this.y0 = PAD;
    this.pw = 1;
    this.ph = 1;
  }

  extraFacts() {
    return [/** @type {const} */ (['projection', this.method])];
  }

  /**
   * @param {number} W
   * @param {number} H
   */
  placeBase(W, H) {
    const p = this.s.projection;
    if (!p) return;
    this.x0 = PAD;
    this.y0 = PAD - 6;
    this.pw = W - 2 * PAD;
    this.ph = H - 2 * PAD;
    for (let i = 0; i < this.m; i++) {
      this.bx[i] = this.x0 + p.xy[2 * i] * this.pw;
      this.by[i] = this.y0 + (1 - p.xy[2 * i + 1]) * this.ph;
    }
    this.bqx = this.x0 + p.queryXY[0] * this.pw;
    this.bqy = this.y0 + (1 - p.queryXY[1]) * this.ph;
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const vp = this.vp;
    g.save();
    g.strokeStyle = rgba(pal.fg, 0.07);
    g.lineWidth = 1;
    g.beginPath();
    for (let i = 0; i <= 4; i++) {
      const x = Math.round(vp.x(this.x0 + (i / 4) * this.pw)) + 0.5;
      const y = Math.round(vp.y(this.y0 + (i / 4) * this.ph)) + 0.5;
      g.moveTo(x, vp.y(this.y0));
      g.lineTo(x, vp.y(this.y0 + this.ph));
      g.moveTo(vp.x(this.x0), y);
      g.lineTo(vp.x(this.x0 + this.pw), y);
    }
    g.stroke();
    g.restore();
    g.font = app.font(10);
    g.fillStyle = pal.muted;
    g.textAlign = 'center';
    g.textBaseline = 'bottom';
    g.fillText(`${this.method} 1`, this.W / 2, this.H - 4);
    g.save();
    g.translate(12, this.H / 2);
    g.rotate(-Math.PI / 2);
    g.textBaseline = 'middle';
    g.fillText(`${this.method} 2`, 0, 0);
    g.restore();
    g.beginPath();
    for (const i of this.s.top) {
      g.moveTo(this.qx, this.qy);
      g.lineTo(this.sx[i], this.sy[i]);
    }
    g.strokeStyle = rgba(pal.query, 0.35);
    g.lineWidth = 1;
    g.stroke();
    this.drawDots(g);
  }
}
