// HNSW overview: the upper levels as stacked planes; a node keeps its position on every
// level it reaches. Click a node: its links per level and the greedy route from the entry.

import { card, factsTable, h, section } from '../dom.js';
import { circlePath, diamondPath } from '../draw.js';
import { clamp, fmtId, fmtInt, plural } from '../format.js';
import { PointGrid } from '../hit.js';
import { levelColor, mix, rgba } from '../theme.js';
import { stackPlanes } from './planes.js';
import { Scene } from './scene.js';
import { idCard } from './strip.js';

/** @typedef {import('../payload.js').HNSWOverview} HNSWOverview */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */
/** @typedef {import('./scene.js').LabelSpec} LabelSpec */
/** @typedef {import('./planes.js').Plane} Plane */

const DETAIL_THUMBS = 24;

export class HNSWOverviewScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {HNSWOverview} ov
   */
  constructor(app, ov) {
    super(app);
    this.ov = ov;
    this.n = ov.ids.length;
    /** @type {Map<string, number> | null} */
    this.byLabel = null;
    const ep = ov.facts.entry_point;
    this.entry = -1;
    if (ep != null) for (let i = 0; i < this.n && this.entry < 0; i++) if (ov.ids[i] === ep) this.entry = i;
    /** @type {Plane[]} */
    this.planes = [];
    /** @type {Float32Array[]} */
    this.bx = [];
    /** @type {Float32Array[]} */
    this.by = [];
    /** @type {Float32Array[]} */
    this.sx = [];
    /** @type {Float32Array[]} */
    this.sy = [];
    /** @type {number[]} */
    this.hitNode = [];
    /** @type {number[]} */
    this.hitPlane = [];
    this.grid = new PointGrid([], [], null, 1, 1);
    this.dotR = 3;
  }

  /**
   * @param {number} W
   * @param {number} H
   */
  layout(W, H) {
    super.layout(W, H);
    const ov = this.ov;
    const L = ov.levels.length;
    this.planes = stackPlanes(L, 12, 12, W - 24, H - 24);
    this.bx = [];
    this.by = [];
    let shown = 0;
    for (let k = 0; k < L; k++) {
      const p = this.planes[k];
      const bx = new Float32Array(this.n);
      const by = new Float32Array(this.n);
      for (let i = 0; i < this.n; i++) {
        bx[i] = p.px(ov.xy[2 * i], ov.xy[2 * i + 1]);
        by[i] = p.py(ov.xy[2 * i + 1]);
        if (ov.top[i] >= ov.levels[k].level) shown++;
      }
      this.bx.push(bx);
      this.by.push(by);
    }
    this.dotR = shown > 4000 ? 1.6 : shown > 1200 ? 2.2 : shown > 200 ? 3 : 4.5;
  }

  place() {
    const vp = this.vp;
    const ov = this.ov;
    this.sx = this.bx.map((bx) => bx.map((x) => vp.x(x)));
    this.sy = this.by.map((by) => by.map((y) => vp.y(y)));
    const hx = [];
    const hy = [];
    const hr = [];
    this.hitNode = [];
    this.hitPlane = [];
    for (let k = 0; k < ov.levels.length; k++) {
      const level = ov.levels[k].level;
      for (let i = 0; i < this.n; i++) {
        if (ov.top[i] < level) continue;
        hx.push(this.sx[k][i]);
        hy.push(this.sy[k][i]);
        hr.push(ov.top[i] > level ? 4 : 2.5);
        this.hitNode.push(i);
        this.hitPlane.push(k);
      }
    }
    this.grid = new PointGrid(hx, hy, hr, this.W, this.H);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const ov = this.ov;
    const vp = this.vp;
    const counts = ov.facts.level_counts || [];
    /** @type {LabelSpec[]} */
    const labels = [];
    for (let k = ov.levels.length - 1; k >= 0; k--) {
      const p = this.planes[k];
      const { level, src, dst } = ov.levels[k];
      const color = levelColor(pal, level);
      g.beginPath();
      p.outline(g, (x) => vp.x(x), (y) => vp.y(y));
      g.fillStyle = rgba(color, app.theme === 'dark' ? 0.08 : 0.06);
      g.fill();
      g.strokeStyle = rgba(color, 0.45);
      g.lineWidth = 1;
      g.stroke();
      const sx = this.sx[k];
      const sy = this.sy[k];
      g.beginPath();
      for (let j = 0; j < src.length; j++) {
        g.moveTo(sx[src[j]], sy[src[j]]);
        g.lineTo(sx[dst[j]], sy[dst[j]]);
      }
      g.strokeStyle = rgba(color, clamp(9 / Math.sqrt(src.length + 1), 0.08, 0.5));
      g.lineWidth = 0.8;
      g.stroke();
      // Nodes coloured by their top level: hubs that reach higher planes stand out.
      /** @type {Map<number, number[]>} */
      const groups = new Map();
      for (let i = 0; i < this.n; i++) {
        if (ov.top[i] < level) continue;
        const arr = groups.get(ov.top[i]) || [];
        arr.push(i);
        groups.set(ov.top[i], arr);
      }
      for (const [t, arr] of groups) {
        g.beginPath();
        for (const i of arr) circlePath(g, sx[i], sy[i], t > level ? this.dotR + 1.3 : this.dotR);
        g.fillStyle = levelColor(pal, t);
        g.fill();
        if (t > level) {
          g.strokeStyle = pal.bg;
          g.lineWidth = 1;
          g.stroke();
        }
      }
      if (this.entry >= 0 && ov.top[this.entry] >= level) {
        g.beginPath();
        diamondPath(g, sx[this.entry], sy[this.entry], 7);
        g.fillStyle = pal.query;
        g.fill();
        g.strokeStyle = pal.bg;
        g.lineWidth = 1.5;
        g.stroke();
        if (k === 0) labels.push({ x: sx[this.entry], y: sy[this.entry], text: 'entry point', color: pal.query, size: 10, weight: 600 });
      }
      const count = counts[level] != null ? counts[level] : 0;
      const lx = vp.x(p.x + p.skew) + 8;
      const ly = vp.y(p.y) + 12;
      const text = `Level ${level} · ${plural(count, 'node')} · ${plural(src.length, 'link')}`;
      labels.unshift({ x: lx, y: ly, text, color: mix(color, pal.fg, 0.35), size: 11, weight: 700, leftAnchored: true });
    }
    this.drawLabels(g, labels);
  }

  /**
   * Per shown level: the nodes linked from `node`.
   * @param {number} node
   */
  neighbours(node) {
    return this.ov.levels.map(({ level, src, dst }) => {
      const nodes = [];
      for (let j = 0; j < src.length; j++) if (src[j] === node) nodes.push(dst[j]);
      return { level, nodes };
    });
  }

  /**
   * The route a search for this node's own vector takes from the entry point, restricted to
   * the shown planes: [{k: plane index, node}] in search order.
   * @param {number} node
   */
  entryPath(node) {
    const ov = this.ov;
    /** @type {ArrayLike<number>} */
    let nodes;
    /** @type {ArrayLike<number>} */
    let levels;
    if (ov.pathOffsets && ov.pathNodes && ov.pathLevels) {
      nodes = ov.pathNodes.subarray(ov.pathOffsets[node], ov.pathOffsets[node + 1]);
      levels = ov.pathLevels.subarray(ov.pathOffsets[node], ov.pathOffsets[node + 1]);
    } else {
      const asked = this.app.entryPath(node); // a live widget: one node's route from the kernel
      if (!asked) return [];
      ({ nodes, levels } = asked);
    }
    const out = [];
    for (let i = 0; i < nodes.length; i++) {
      const k = ov.levels.findIndex((l) => l.level === levels[i]);
      if (k >= 0) out.push({ k, node: nodes[i] });
    }
    return out;
  }

  selectedNode() {
    const keys = this.app.selKeys;
    if (keys.size !== 1) return -1;
    const [key] = keys;
    const i = this.indexOfLabel(key);
    return i == null ? -1 : i;
  }

  /** @param {string} key */
  indexOfLabel(key) {
    if (!this.byLabel) {
      this.byLabel = new Map();
      for (let i = 0; i < this.n; i++) this.byLabel.set(fmtId(this.ov.ids[i]), i);
    }
    return this.byLabel.get(key);
  }

  /**
   * @param {CanvasRenderingContext2D} g
   * @param {number} node
   * @param {boolean} strong
   */
  drawNodeFocus(g, node, strong) {
    const pal = this.app.pal;
    const ov = this.ov;
    const color = strong ? pal.select : pal.fg;
    g.save();
    g.setLineDash([3, 3]);
    g.beginPath();
    let first = true;
    for (let k = 0; k < ov.levels.length; k++) {
      if (ov.top[node] < ov.levels[k].level) continue;
      if (first) g.moveTo(this.sx[k][node], this.sy[k][node]);
      else g.lineTo(this.sx[k][node], this.sy[k][node]);
      first = false;
    }
    g.strokeStyle = rgba(color, 0.7);
    g.lineWidth = 1.25;
    g.stroke();
    g.restore();
    if (strong) {
      const path = this.entryPath(node);
      if (path.length >= 2) {
        g.beginPath();
        for (let i = 1; i < path.length; i++) {
          const a = path[i - 1];
          const b = path[i];
          g.moveTo(this.sx[a.k][a.node], this.sy[a.k][a.node]);
          g.lineTo(this.sx[b.k][b.node], this.sy[b.k][b.node]);
        }
        g.strokeStyle = rgba(pal.query, 0.9);
        g.lineWidth = 2.5;
        g.stroke();
        g.beginPath();
        for (const step of path) circlePath(g, this.sx[step.k][step.node], this.sy[step.k][step.node], this.dotR + 1.5);
        g.fillStyle = pal.query;
        g.fill();
      }
      this.neighbours(node).forEach((nb, k) => {
        if (!nb.nodes.length) return;
        g.beginPath();
        for (const j of nb.nodes) {
          g.moveTo(this.sx[k][node], this.sy[k][node]);
          g.lineTo(this.sx[k][j], this.sy[k][j]);
        }
        g.strokeStyle = rgba(pal.select, 0.9);
        g.lineWidth = 1.6;
        g.stroke();
        g.beginPath();
        for (const j of nb.nodes) circlePath(g, this.sx[k][j], this.sy[k][j], this.dotR + 2.5);
        g.strokeStyle = pal.select;
        g.lineWidth = 1.5;
        g.stroke();
      });
    }
    for (let k = 0; k < ov.levels.length; k++) {
      if (ov.top[node] < ov.levels[k].level) continue;
      g.beginPath();
      circlePath(g, this.sx[k][node], this.sy[k][node], this.dotR + 4);
      g.strokeStyle = color;
      g.lineWidth = 2.25;
      g.stroke();
    }
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const sel = this.selectedNode();
    if (sel >= 0) this.drawNodeFocus(g, sel, true);
    const hov = this.app.hover;
    if (hov && hov.kind === 'node' && hov.node != null && hov.node !== sel) this.drawNodeFocus(g, hov.node, false);
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const node = this.hitNode[k];
    return { key: `node:${node}`, kind: 'node', node };
  }

  /** @param {number} id */
  hoverId(id) {
    const i = this.indexOfLabel(fmtId(id));
    return i == null ? null : { key: `node:${i}`, kind: 'node', node: i };
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== 'node' || item.node == null) return null;
    const app = this.app;
    const i = item.node;
    const id = this.ov.ids[i];
    return card({
      title: app.idText(id),
      thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
      subtitle: app.media.name(id),
      lines: [{ text: `top level ${this.ov.top[i]}`, color: levelColor(app.pal, this.ov.top[i]) }, i === this.entry ? { text: 'entry point' } : null],
      note: 'click to see its links',
    });
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== 'node' || item.node == null || this.selectedNode() === item.node) {
      this.app.select([], -1);
      return;
    }
    this.app.select([this.ov.ids[item.node]], -1);
  }

  panel() {
    const app = this.app;
    const f = this.ov.facts;
    const box = h('div');
    const s = section('HNSW index');
    s.appendChild(
      factsTable([
        ['index', f.index || 'HNSW'],
        ['source', f.source],
        ['metric', f.metric],
        ['dimension', fmtInt(f.dim)],
        ['elements', fmtInt(f.ntotal)],
        ['deleted', fmtInt(f.deleted)],
        ['M', fmtInt(f.M)],
        ['ef_construction', fmtInt(f.ef_construction)],
        ['max level', fmtInt(f.max_level)],
        ['entry point', f.entry_point != null ? app.idText(f.entry_point) : '—'],
      ]),
    );
    box.appendChild(s);
    const lv = section('Elements per level');
    /** @type {number[]} */
    const counts = f.level_counts || [];
    const maxC = Math.max(1, ...counts);
    const bars = h('div', 'feder-bars');
    for (let level = counts.length - 1; level >= 0; level--) {
      const row = h('div', 'feder-bar-row');
      row.appendChild(h('span', 'feder-bar-label', `L${level}`));
      const track = h('span', 'feder-bar-track');
      const bar = h('span', 'feder-bar');
      bar.style.width = `${Math.max(2, (100 * Math.log1p(counts[level])) / Math.log1p(maxC))}%`;
      bar.style.background = levelColor(app.pal, level);
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(h('span', 'feder-num', fmtInt(counts[level])));
      bars.appendChild(row);
    }
    lv.appendChild(bars);
    lv.appendChild(h('p', 'feder-muted feder-small', 'Bars on a log scale. The planes show the top levels; a node keeps its position on every level it reaches.'));
    box.appendChild(lv);
    const node = this.selectedNode();
    const sel = section(node >= 0 ? `Node ${app.idText(this.ov.ids[node])}` : 'Selection');
    if (node < 0) {
      sel.appendChild(h('p', 'feder-muted', 'Click a node to see its links on each level.'));
    } else {
      if (app.media.shows()) sel.appendChild(app.media.thumb(this.ov.ids[node], { size: 96, full: true }));
      const nbs = this.neighbours(node);
      /** @type {Array<[string, string]>} */
      const rows = [['top level', String(this.ov.top[node])]];
      for (const nb of nbs) rows.push([`links on level ${nb.level}`, fmtInt(nb.nodes.length)]);
      const path = this.entryPath(node);
      if (path.length) rows.push(['path from entry', `${plural(path.length - 1, 'step')} (in colour)`]);
      sel.appendChild(factsTable(rows));
      const lowest = nbs.length ? nbs[nbs.length - 1] : null;
      if (lowest?.nodes.length) {
        sel.appendChild(h('p', 'feder-muted feder-small', `Neighbours on level ${lowest.level}:`));
        const grid = h('div', 'feder-grid');
        for (const j of lowest.nodes.slice(0, DETAIL_THUMBS)) {
          const id = this.ov.ids[j];
          grid.appendChild(idCard(app, id, [app.idText(id)], 56, () => app.select([id], -1)));
        }
        sel.appendChild(grid);
      }
    }
    box.appendChild(sel);
    return box;
  }

  /** @param {number} [limit] */
  targets(limit = 40) {
    const out = [];
    const ov = this.ov;
    const per = Math.max(1, Math.floor(limit / Math.max(1, ov.levels.length)));
    for (let k = 0; k < ov.levels.length; k++) {
      const level = ov.levels[k].level;
      for (let i = 0, n = 0; i < this.n && n < per; i++) {
        if (ov.top[i] < level) continue;
        n++;
        out.push({ x: this.sx[k][i], y: this.sy[k][i], kind: 'node', id: ov.ids[i], level });
      }
    }
    return out;
  }
}
