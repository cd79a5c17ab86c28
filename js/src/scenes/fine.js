// IVF fine search, distance view: the query at the centre, every candidate at a radius that
// follows its distance on the honest scale Python chose (a copy of the query would sit on the
// centre; see feder/layouts/polar.py), one angular sector per probed list.

import { circlePath, drawRings } from '../draw.js';
import { markerBox } from '../labels.js';
import { RadialScale } from '../scales.js';
import { mix, rgba } from '../theme.js';
import { PointsScene } from './points.js';

/** @typedef {import('../payload.js').IVFOverview} IVFOverview */
/** @typedef {import('../payload.js').IVFSearch} IVFSearch */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').LabelSpec} LabelSpec */
/** @typedef {import('../labels.js').Box} Box */

const LABEL_ROOM = 46; // px kept around the disc for the sector labels

export class FineScene extends PointsScene {
  /**
   * @param {SceneHost} app
   * @param {IVFOverview} ov
   * @param {IVFSearch} search
   */
  constructor(app, ov, search) {
    super(app, ov, search);
    this.title = 'Fine search (distance)';
    this.scaleR = search.scale ? new RadialScale(search.scale) : null;
    const what = search.scanned != null ? 'The nearest vectors of the exhaustive scan.' : 'Every vector of the probed lists; one sector per list.';
    this.caption = `${what} ${this.scaleR ? `${this.scaleR.describe()}.` : ''}`;
    this.radius = new Float32Array(this.m);
    for (let i = 0; i < this.m; i++) this.radius[i] = Math.hypot(search.polar[2 * i], search.polar[2 * i + 1]);
    this.cx = 0;
    this.cy = 0;
    this.R = 40;
  }

  extraFacts() {
    return this.scaleR ? [/** @type {const} */ (['radius', this.scaleR.kind === 'sqrt' ? '√distance (Euclidean)' : 'distance, linear'])] : [];
  }

  /**
   * @param {number} W
   * @param {number} H
   */
  placeBase(W, H) {
    const s = this.s;
    this.cx = W / 2;
    this.cy = H / 2;
    this.R = Math.max(40, Math.min(W, H) / 2 - LABEL_ROOM);
    for (let i = 0; i < this.m; i++) {
      this.bx[i] = this.cx + s.polar[2 * i] * this.R;
      this.by[i] = this.cy + s.polar[2 * i + 1] * this.R;
    }
    this.bqx = this.cx;
    this.bqy = this.cy;
    const d = s.diag;
    if (d) {
      for (let j = 0; j < this.bmx.length; j++) {
        this.bmx[j] = this.cx + d.missXY[2 * j] * this.R;
        this.bmy[j] = this.cy + d.missXY[2 * j + 1] * this.R;
      }
      this.showsMisses = this.bmx.length > 0;
    }
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    const qx = this.qx;
    const qy = this.qy;
    const R = this.R * this.vp.scale;
    for (let j = 0; j < s.sectorLists.length; j++) {
      const color = s.sectorLists[j] < 0 ? pal.missed : this.listColor(s.sectorLists[j]);
      g.beginPath();
      g.moveTo(qx, qy);
      g.arc(qx, qy, R, s.sectorStart[j], s.sectorEnd[j]);
      g.closePath();
      g.fillStyle = rgba(color, app.theme === 'dark' ? 0.1 : 0.08);
      g.fill();
      g.beginPath();
      g.arc(qx, qy, R, s.sectorStart[j], s.sectorEnd[j]);
      g.strokeStyle = rgba(color, 0.85);
      g.lineWidth = 3;
      g.stroke();
    }
    const ringLabels = this.scaleR ? drawRings(g, pal, qx, qy, R, this.scaleR.rings(4), this.nonNeg) : [];
    // The top-k boundary: the circle through the worst returned candidate.
    /** @type {LabelSpec[]} */
    const later = [];
    if (s.top.length) {
      const r = this.radius[s.top[s.top.length - 1]] * R;
      g.save();
      g.beginPath();
      circlePath(g, qx, qy, r);
      g.setLineDash([6, 4]);
      g.strokeStyle = rgba(pal.query, 0.6);
      g.lineWidth = 1.25;
      g.stroke();
      g.restore();
      later.push({ x: qx, y: qy + r, text: `top-${s.top.length}`, color: pal.query, size: 10, weight: 600, offsets: [[0, 9], [0, -9], [28, 0], [-28, 0]] });
    }
    const marks = this.drawDots(g);
    // Sector names outside the disc, then the ring values: all placed, never over a dot.
    /** @type {LabelSpec[]} */
    const specs = [];
    for (let j = 0; j < s.sectorLists.length; j++) {
      const a = (s.sectorStart[j] + s.sectorEnd[j]) / 2;
      const l = s.sectorLists[j];
      const span = (s.sectorEnd[j] - s.sectorStart[j]) * R;
      const rank = s.probeRank.get(l);
      const text =
        s.scanned != null
          ? `nearest ${this.m} of ${s.scanned} compared`
          : l < 0
            ? 'missed · lists not probed'
            : span >= 70 && rank != null
              ? `list ${l} · probe #${rank + 1}`
              : `list ${l}`;
      /** @type {Array<[number, number]>} */
      const offsets = [];
      for (const extra of [14, 26, 40]) offsets.push([Math.cos(a) * (R + extra), Math.sin(a) * (R + extra)]);
      specs.push({ x: qx, y: qy, text, color: mix(l < 0 ? pal.missed : this.listColor(l), pal.fg, 0.3), size: 10, weight: 600, offsets });
    }
    for (const lab of ringLabels) {
      specs.push({ x: lab.x, y: lab.y, text: lab.text, color: pal.muted, size: 9, weight: 500, offsets: [[0, -7], [0, 7], [22, -7], [-22, -7]] });
    }
    specs.push(...later);
    /** @type {Box[]} */
    const dots = [];
    for (let i = 0; i < this.m && dots.length < 4000; i++) dots.push(markerBox(this.sx[i], this.sy[i], this.dotR));
    this.drawLabels(g, specs, [...marks, ...dots]);
  }

  /**
   * @param {CanvasRenderingContext2D} g
   * @param {number} i
   */
  hoverGuide(g, i) {
    super.hoverGuide(g, i);
    g.save();
    g.beginPath();
    circlePath(g, this.qx, this.qy, this.radius[i] * this.R * this.vp.scale);
    g.strokeStyle = rgba(this.app.pal.fg, 0.2);
    g.stroke();
    g.restore();
  }

  /**
   * @param {CanvasRenderingContext2D} g
   * @param {number} list
   */
  highlightList(g, list) {
    const s = this.s;
    const R = this.R * this.vp.scale;
    for (let j = 0; j < s.sectorLists.length; j++) {
      if (s.sectorLists[j] !== list) continue;
      g.beginPath();
      g.moveTo(this.qx, this.qy);
      g.arc(this.qx, this.qy, R, s.sectorStart[j], s.sectorEnd[j]);
      g.closePath();
      g.fillStyle = rgba(this.listColor(list), 0.16);
      g.fill();
    }
    super.highlightList(g, list);
  }

  /**
   * The distance at a screen point (for tests: the ring scale read back).
   * @param {number} x
   * @param {number} y
   */
  distanceAt(x, y) {
    if (!this.scaleR) return null;
    return this.scaleR.distanceAt(Math.hypot(x - this.qx, y - this.qy) / (this.R * this.vp.scale));
  }

}
