// IVF fine search: every candidate of the probed lists as a dot (the polar distance view and
// the projection share this), coloured by the probe rank of its list, the top-k emphasised
// and numbered.

import { badgeEl, card, factsTable, h, hoverRow, section } from '../dom.js';
import { drawMisses, MISS_RADIUS, missTooltip, recallSection } from '../diagnosis.js';
import { circlePath, drawQuery, QUERY_RADIUS, strokeRing } from '../draw.js';
import { fmtDist, fmtId, fmtInt, nonNegativeMetric, plural } from '../format.js';
import { PointGrid } from '../hit.js';
import { aroundPoint, markerBox } from '../labels.js';
import { probeColor, rgba } from '../theme.js';
import { Scene } from './scene.js';
import { idCard, resultsStrip } from './strip.js';

/** @typedef {import('../payload.js').IVFOverview} IVFOverview */
/** @typedef {import('../payload.js').IVFSearch} IVFSearch */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */
/** @typedef {import('./scene.js').LabelSpec} LabelSpec */
/** @typedef {import('../labels.js').Box} Box */

const PANEL_LIST_ROWS = 40;
const DETAIL_THUMBS = 24;
const TOP_RADIUS = 6.5;

export class PointsScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {IVFOverview} ov
   * @param {IVFSearch} search
   */
  constructor(app, ov, search) {
    super(app);
    this.ov = ov;
    this.s = search;
    this.m = search.ids.length;
    this.bx = new Float32Array(this.m);
    this.by = new Float32Array(this.m);
    this.sx = new Float32Array(this.m);
    this.sy = new Float32Array(this.m);
    this.bqx = 0;
    this.bqy = 0;
    this.qx = 0;
    this.qy = 0;
    this.dotR = this.m > 3000 ? 1.8 : this.m > 1000 ? 2.4 : this.m > 300 ? 3 : 3.6;
    // Top-k last so they win hit-test ties and are drawn on top.
    this.order = new Int32Array(this.m);
    let j = 0;
    for (let i = 0; i < this.m; i++) if (search.rank[i] < 0) this.order[j++] = i;
    for (let t = search.top.length - 1; t >= 0; t--) this.order[j++] = search.top[t];
    this.grid = new PointGrid(this.sx, this.sy, null, 1, 1);
    // Missed exact neighbours, where the subclass can place them (bmx/bmy at zoom 1).
    const misses = search.diag ? search.diag.missIds.length : 0;
    this.bmx = new Float32Array(misses);
    this.bmy = new Float32Array(misses);
    this.mx = new Float32Array(misses);
    this.my = new Float32Array(misses);
    this.showsMisses = false;
    this.missGrid = new PointGrid(this.mx, this.my, null, 1, 1);
    /** @type {Map<string, number> | null} */
    this.byId = null;
    this.title = '';
    this.caption = '';
    this.nonNeg = nonNegativeMetric(search.metric);
  }

  /**
   * Base positions of the candidates (bx, by) and the query (bqx, bqy) at zoom 1.
   * @param {number} _W
   * @param {number} _H
   */
  placeBase(_W, _H) {}

  /**
   * @param {number} W
   * @param {number} H
   */
  layout(W, H) {
    super.layout(W, H);
    this.placeBase(W, H);
  }

  place() {
    const vp = this.vp;
    for (let i = 0; i < this.m; i++) {
      this.sx[i] = vp.x(this.bx[i]);
      this.sy[i] = vp.y(this.by[i]);
    }
    this.qx = vp.x(this.bqx);
    this.qy = vp.y(this.bqy);
    for (let j = 0; j < this.mx.length; j++) {
      this.mx[j] = vp.x(this.bmx[j]);
      this.my[j] = vp.y(this.bmy[j]);
    }
    this.missGrid = new PointGrid(this.mx, this.my, null, this.W, this.H);
    const xs = new Float32Array(this.m);
    const ys = new Float32Array(this.m);
    const rr = new Float32Array(this.m);
    for (let k = 0; k < this.m; k++) {
      const i = this.order[k];
      xs[k] = this.sx[i];
      ys[k] = this.sy[i];
      rr[k] = this.s.rank[i] >= 0 ? TOP_RADIUS : this.dotR;
    }
    this.grid = new PointGrid(xs, ys, rr, this.W, this.H);
  }

  /** @param {number} list */
  listColor(list) {
    const r = this.s.probeRank.get(list);
    return r == null ? this.app.pal.quiet[1] : probeColor(this.app.pal, r);
  }

  /**
   * Dots by list, then the top-k with their rank numbers, then the query marker.
   * @param {CanvasRenderingContext2D} g
   * @param {readonly Box[]} [obstacles] areas the rank labels must avoid
   * @returns {Box[]} the marks drawn (for later labels to avoid)
   */
  drawDots(g, obstacles = []) {
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    /** @type {Map<number, number[]>} */
    const groups = new Map();
    for (let i = 0; i < this.m; i++) {
      if (s.rank[i] >= 0) continue;
      const arr = groups.get(s.lists[i]) || [];
      arr.push(i);
      groups.set(s.lists[i], arr);
    }
    g.globalAlpha = 0.78;
    for (const [list, arr] of groups) {
      g.beginPath();
      for (const i of arr) circlePath(g, this.sx[i], this.sy[i], this.dotR);
      g.fillStyle = this.listColor(list);
      g.fill();
    }
    g.globalAlpha = 1;
    drawQuery(g, pal, this.qx, this.qy);
    /** @type {Box[]} */
    const marks = [markerBox(this.qx, this.qy, QUERY_RADIUS)];
    if (this.showsMisses) {
      drawMisses(g, pal, this.mx, this.my);
      for (let j = 0; j < this.mx.length; j++) marks.push(markerBox(this.mx[j], this.my[j], MISS_RADIUS + 1));
    }
    for (let t = s.top.length - 1; t >= 0; t--) {
      const i = s.top[t];
      g.beginPath();
      circlePath(g, this.sx[i], this.sy[i], TOP_RADIUS);
      g.fillStyle = this.listColor(s.lists[i]);
      g.fill();
      g.lineWidth = 2;
      g.strokeStyle = pal.fg;
      g.stroke();
      marks.push(markerBox(this.sx[i], this.sy[i], TOP_RADIUS + 1));
    }
    /** @type {LabelSpec[]} */
    const specs = s.top.map((i, t) => ({
      x: this.sx[i],
      y: this.sy[i],
      text: String(t + 1),
      color: pal.fg,
      size: 11,
      weight: 700,
      offsets: aroundPoint(12, 15, TOP_RADIUS),
    }));
    this.drawLabels(g, specs, [...marks, ...obstacles]);
    return marks;
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    if (app.selKeys.size) {
      g.beginPath();
      for (const key of app.selKeys) {
        const i = this.indexOfId(key);
        if (i != null) circlePath(g, this.sx[i], this.sy[i], s.rank[i] >= 0 ? 10 : 7);
      }
      g.strokeStyle = pal.select;
      g.lineWidth = 2.5;
      g.stroke();
    }
    const hov = app.hover;
    if (hov && hov.kind === 'cand' && hov.index != null) {
      const i = hov.index;
      this.hoverGuide(g, i);
      strokeRing(g, this.sx[i], this.sy[i], s.rank[i] >= 0 ? 10 : 6.5, pal.fg);
    } else if (hov && hov.kind === 'list' && hov.list != null) {
      this.highlightList(g, hov.list);
    } else if (hov && hov.kind === 'miss' && hov.index != null) {
      strokeRing(g, this.mx[hov.index], this.my[hov.index], MISS_RADIUS + 3, pal.fg);
    }
  }

  /**
   * @param {CanvasRenderingContext2D} g
   * @param {number} i
   */
  hoverGuide(g, i) {
    g.save();
    g.beginPath();
    g.moveTo(this.qx, this.qy);
    g.lineTo(this.sx[i], this.sy[i]);
    g.setLineDash([3, 3]);
    g.strokeStyle = rgba(this.app.pal.fg, 0.6);
    g.lineWidth = 1.25;
    g.stroke();
    g.restore();
  }

  /**
   * @param {CanvasRenderingContext2D} g
   * @param {number} list
   */
  highlightList(g, list) {
    const s = this.s;
    g.beginPath();
    for (let i = 0; i < this.m; i++) if (s.lists[i] === list) circlePath(g, this.sx[i], this.sy[i], this.dotR + 2.5);
    g.strokeStyle = this.app.pal.fg;
    g.lineWidth = 1.25;
    g.stroke();
  }

  /**
   * Candidate position of a user id (decimal string), or undefined.
   * @param {string} key
   */
  indexOfId(key) {
    if (!this.byId) {
      this.byId = new Map();
      for (let i = 0; i < this.m; i++) this.byId.set(fmtId(this.s.ids[i]), i);
    }
    return this.byId.get(key);
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    if (this.showsMisses) {
      const j = this.missGrid.nearest(x, y, MISS_RADIUS);
      if (j >= 0) return { key: `miss:${j}`, kind: 'miss', index: j };
    }
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const i = this.order[k];
    return { key: `cand:${i}`, kind: 'cand', index: i };
  }

  /** @param {number} id */
  hoverId(id) {
    const i = this.indexOfId(fmtId(id));
    if (i != null) return { key: `cand:${i}`, kind: 'cand', index: i };
    const d = this.s.diag;
    if (this.showsMisses && d) for (let j = 0; j < d.missIds.length; j++) if (d.missIds[j] === id) return { key: `miss:${j}`, kind: 'miss', index: j };
    return null;
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind === 'miss' && item.index != null && this.s.diag) return missTooltip(this.app, this.s.diag, item.index, this.nonNeg);
    if (item.kind !== 'cand' || item.index == null) return null;
    const app = this.app;
    const s = this.s;
    const i = item.index;
    const id = s.ids[i];
    const pr = s.probeRank.get(s.lists[i]);
    return card({
      title: app.idText(id),
      thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
      badge: s.rank[i] >= 0 ? badgeEl(`#${s.rank[i] + 1}`, app.pal.query) : null,
      subtitle: app.media.name(id),
      lines: [
        { text: `distance ${fmtDist(s.dist[i], this.nonNeg)}` },
        { text: `list ${s.lists[i]}${pr != null ? ` (probe #${pr + 1})` : ''}`, color: this.listColor(s.lists[i]) },
      ],
      note: s.rank[i] >= 0 ? `result #${s.rank[i] + 1} of ${s.top.length}` : 'candidate, not in the top-k',
    });
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== 'cand' || item.index == null) {
      this.app.select([], -1);
      return;
    }
    const id = this.s.ids[item.index];
    if (this.app.selKeys.size === 1 && this.app.selKeys.has(fmtId(id))) this.app.select([], -1);
    else this.app.select([id], -1);
  }

  /** @returns {Array<readonly [string, string | null]>} */
  extraFacts() {
    return [];
  }

  panel() {
    const app = this.app;
    const s = this.s;
    const box = h('div');
    const sec = section(this.title);
    const k = fmtInt(s.params.k != null ? s.params.k : s.top.length);
    /** @type {Array<readonly [string, string | null]>} */
    const facts =
      s.scanned != null
        ? [['metric', s.metric], ['k', k], ['vectors compared', fmtInt(s.scanned)], ['nearest shown', fmtInt(this.m)]]
        : [['metric', s.metric], ['nprobe', fmtInt(s.params.nprobe != null ? s.params.nprobe : s.probed.length)], ['k', k], ['candidates scanned', fmtInt(this.m)]];
    sec.appendChild(factsTable([...facts, ...this.extraFacts()]));
    sec.appendChild(h('p', 'feder-muted feder-small', this.caption));
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(app, s.diag, this.nonNeg));
    if (s.scanned != null) return box; // a flat scan has no lists
    const lists = section('Lists');
    const rows = h('div', 'feder-rows');
    for (let r = 0; r < s.probed.length && r < PANEL_LIST_ROWS; r++) {
      const l = s.probed[r];
      let inTop = 0;
      for (const i of s.top) if (s.lists[i] === l) inTop++;
      const item = { key: `list:${l}`, kind: 'list', list: l };
      rows.appendChild(
        hoverRow(
          [
            badgeEl(`${r + 1}`, this.listColor(l)),
            h('span', 'feder-row-main', `list ${l}`),
            h('span', 'feder-muted', plural(s.perList.get(l) || 0, 'vec', 'vecs')),
            h('span', 'feder-num', inTop ? `${inTop} in top-k` : ''),
          ],
          { enter: () => app.setHover(item), leave: () => app.setHover(null) },
        ),
      );
    }
    lists.appendChild(rows);
    box.appendChild(lists);
    if (app.selKeys.size) {
      const sel = section('Selection');
      const grid = h('div', 'feder-grid');
      let n = 0;
      for (const key of app.selKeys) {
        if (n++ >= DETAIL_THUMBS) break;
        grid.appendChild(idCard(app, Number(key), [`id ${key}`], 56));
      }
      sel.appendChild(grid);
      box.appendChild(sel);
    }
    return box;
  }

  strip() {
    return resultsStrip(this.app, this.s);
  }

  /** @returns {[number, number]} */
  queryScreen() {
    return [this.qx, this.qy];
  }

  /** @param {number} [limit] */
  targets(limit = 40) {
    const s = this.s;
    /** @type {import('./scene.js').Target[]} */
    const out = [];
    for (const i of s.top) out.push({ x: this.sx[i], y: this.sy[i], kind: 'cand', id: s.ids[i], rank: s.rank[i] });
    for (let i = 0; i < this.m && out.length < limit; i++) {
      if (s.rank[i] < 0) out.push({ x: this.sx[i], y: this.sy[i], kind: 'cand', id: s.ids[i], rank: -1 });
    }
    const d = s.diag;
    if (this.showsMisses && d) for (let j = 0; j < this.mx.length; j++) out.push({ x: this.mx[j], y: this.my[j], kind: 'miss', id: d.missIds[j], rank: d.missRank[j] - 1 });
    return out;
  }
}
