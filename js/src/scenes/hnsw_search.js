// HNSW search: the descent replayed from the trace's events, level by level — the greedy
// path on the upper levels, the ef beam on level 0 — with play / pause / step / slider /
// keys that all seek one Player. Nodes sit around the query at a radius that follows their
// distance (the honest scale of feder/layouts/polar.py).

import { drawMisses, MISS_RADIUS, missTooltip, recallSection } from '../diagnosis.js';
import { badgeEl, card, factsTable, h, section } from '../dom.js';
import { arrowHead, circlePath, diamondPath, drawQuery, drawRings, haloText, strokeRing } from '../draw.js';
import { clamp, fmtDist, fmtId, fmtInt, nonNegativeMetric, plural } from '../format.js';
import { PointGrid } from '../hit.js';
import { RadialScale } from '../scales.js';
import { levelColor, rgba } from '../theme.js';
import {
  buildTimeline,
  frameState,
  greedyPath,
  levelEndFrame,
  NODE_ACCEPTED,
  NODE_UNSEEN,
  OUT_ACCEPTED,
  Player,
} from '../timeline.js';
import { drawCaption, drawLadder, drawNodes, levelTable, levelZooms, nodeStatus } from './descent.js';
import { stackPlanes } from './planes.js';
import { playerControls } from './player_controls.js';
import { Scene } from './scene.js';
import { resultsStrip } from './strip.js';

/** @typedef {import('../payload.js').HNSWSearch} HNSWSearch */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */
/** @typedef {import('../timeline.js').FrameState} FrameState */
/** @typedef {import('./planes.js').Plane} Plane */

const CAPTION_HEIGHT = 46; // the caption band: nodes are clipped below it

export class HNSWSearchScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {HNSWSearch} search
   */
  constructor(app, search) {
    super(app);
    this.s = search;
    this.v = search.ids.length;
    this.tl = buildTimeline(search.levels);
    this.status = new Uint8Array(this.v);
    this.nonNeg = nonNegativeMetric(search.metric);
    this.scaleR = search.scale ? new RadialScale(search.scale) : null;
    /** @type {import('./player_controls.js').PlayerControls | null} */
    this.ctl = null;
    /** @type {HTMLElement[]} */
    this.levelRows = [];
    /** @type {HTMLElement | null} */
    this.liveEl = null;
    this.player = new Player(
      this.tl.frames,
      { request: (cb) => requestAnimationFrame(cb), cancel: (id) => cancelAnimationFrame(id) },
      () => this.frameChanged(),
    );
    this.state = frameState(search, this.tl, this.player.frame, this.status);
    this.radius = new Float32Array(this.v);
    for (let i = 0; i < this.v; i++) this.radius[i] = Math.hypot(search.xy[2 * i], search.xy[2 * i + 1]);
    /** @type {Map<number, number>} */
    this.resultRank = new Map();
    for (let i = 0; i < search.resultNodes.length; i++) this.resultRank.set(search.resultNodes[i], i);
    this.levelZoom = levelZooms(search, this.radius);
    this.zoom = this.levelZoom.length ? this.levelZoom[this.state.li] : 1;
    this.sx = new Float32Array(this.v);
    this.sy = new Float32Array(this.v);
    // Missed exact neighbours (never computed on level 0), shown once the search is done.
    const misses = search.diag ? search.diag.missIds.length : 0;
    this.mx = new Float32Array(misses);
    this.my = new Float32Array(misses);
    this.missGrid = new PointGrid(this.mx, this.my, null, 1, 1);
    this.cx = 0;
    this.cy = 0;
    this.qx = 0;
    this.qy = 0;
    this.R = 40;
    this.ladderW = 0;
    /** @type {Plane[]} */
    this.planes = [];
    this.grid = new PointGrid([], [], null, 1, 1);
    /** @type {number[]} */
    this.hitIndex = [];
    this.gridStale = true;
    this.dotR = this.v > 3000 ? 1.8 : this.v > 800 ? 2.4 : this.v > 150 ? 3 : 4;
  }

  // ---- timeline

  frameChanged() {
    this.state = frameState(this.s, this.tl, this.player.frame, this.status);
    this.gridStale = true;
    this.syncControls();
    this.app.redraw();
  }

  animating() {
    const target = this.levelZoom.length ? this.levelZoom[this.state.li] : 1;
    return this.player.playing || Math.abs(target - this.zoom) > 0.01;
  }

  deactivate() {
    this.player.pause();
  }

  /** @param {KeyboardEvent} ev */
  keydown(ev) {
    const p = this.player;
    switch (ev.key) {
      case 'ArrowRight':
        p.step(1);
        return true;
      case 'ArrowLeft':
        p.step(-1);
        return true;
      case 'Home':
        p.pause();
        p.seek(0);
        return true;
      case 'End':
        p.pause();
        p.seek(this.tl.frames - 1);
        return true;
      case ' ':
        p.toggle();
        return true;
      default:
        return false;
    }
  }

  controls() {
    this.ctl = playerControls(this.player, (ev) => this.keydown(ev));
    this.syncControls();
    return this.ctl.bar;
  }

  syncControls() {
    const p = this.player;
    const st = this.state;
    this.app.setDebugState({
      federPos: String(p.frame),
      federTotal: String(this.tl.frames),
      federPlaying: p.playing ? '1' : '0',
    });
    if (this.ctl) this.ctl.sync(`${fmtInt(st.applied)} / ${fmtInt(this.s.evLevel.length)} links · level ${st.row.level}`);
    this.levelRows.forEach((row, i) => {
      row.classList.toggle('feder-current', i === st.li);
    });
    if (this.liveEl) {
      const ef = this.s.params.ef;
      this.liveEl.textContent =
        st.row.level > 0
          ? `Level ${st.row.level}: ${plural(st.visited, 'node')} visited so far.`
          : `Level 0: ${plural(st.visited, 'node')} visited, ${fmtInt(st.beam)} in the beam${ef != null ? ` (ef ${ef})` : ''}.`;
    }
  }

  // ---- geometry

  /**
   * @param {number} W
   * @param {number} H
   */
  layout(W, H) {
    super.layout(W, H);
    const L = this.s.levels.length;
    this.ladderW = W >= 520 && L > 0 ? Math.round(clamp(W * 0.25, 150, 230)) : 0;
    this.planes = this.ladderW ? stackPlanes(L, 10, 34, this.ladderW - 16, H - 46, 0.5, 40) : [];
    const mainX = this.ladderW + 12;
    const mainW = W - mainX - 12;
    this.cx = mainX + mainW / 2;
    this.cy = CAPTION_HEIGHT + (H - CAPTION_HEIGHT) / 2;
    this.R = Math.max(30, Math.min(mainW, H - CAPTION_HEIGHT) / 2 - 14);
  }

  /** Screen positions for the current level zoom and the user's viewport. */
  place() {
    const s = this.s;
    const k = this.R * this.zoom;
    const vp = this.vp;
    for (let i = 0; i < this.v; i++) {
      this.sx[i] = vp.x(this.cx + s.xy[2 * i] * k);
      this.sy[i] = vp.y(this.cy + s.xy[2 * i + 1] * k);
    }
    this.qx = vp.x(this.cx);
    this.qy = vp.y(this.cy);
    const d = s.diag;
    for (let j = 0; j < this.mx.length && d; j++) {
      this.mx[j] = vp.x(this.cx + d.missXY[2 * j] * k);
      this.my[j] = vp.y(this.cy + d.missXY[2 * j + 1] * k);
    }
    this.missGrid = new PointGrid(this.mx, this.my, null, this.W, this.H);
    this.gridStale = true;
  }

  updateZoom() {
    const target = this.levelZoom.length ? this.levelZoom[this.state.li] : 1;
    if (Math.abs(target - this.zoom) < 1e-6) return;
    // ease while playing (the stage keeps requesting frames), jump otherwise
    this.zoom = this.player.playing && Math.abs(target - this.zoom) > 0.01 ? this.zoom + (target - this.zoom) * 0.18 : target;
    this.place();
  }

  hitGrid() {
    this.updateZoom();
    if (!this.gridStale) return this.grid;
    this.gridStale = false;
    const st = this.state;
    const hx = [];
    const hy = [];
    const hr = [];
    this.hitIndex = [];
    for (let i = 0; i < this.v; i++) {
      if (st.status[i] === NODE_UNSEEN && !(st.done && this.resultRank.has(i))) continue;
      hx.push(this.sx[i]);
      hy.push(this.sy[i]);
      hr.push(st.status[i] === NODE_ACCEPTED ? 4 : 2.5);
      this.hitIndex.push(i);
    }
    this.grid = new PointGrid(hx, hy, hr, this.W, this.H);
    return this.grid;
  }

  // ---- drawing

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    if (!this.ladderW) return;
    const pal = this.app.pal;
    g.beginPath();
    g.moveTo(this.ladderW + 0.5, 12);
    g.lineTo(this.ladderW + 0.5, this.H - 12);
    g.strokeStyle = rgba(pal.fg, 0.1);
    g.lineWidth = 1;
    g.stroke();
    g.font = this.app.font(11, 700);
    g.fillStyle = pal.muted;
    g.textAlign = 'left';
    g.textBaseline = 'top';
    g.fillText('Descent', 12, 12);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    const st = this.state;
    const row = st.row;
    const color = levelColor(pal, row.level);
    this.updateZoom();
    if (this.ladderW) drawLadder(g, pal, app.font, s, st, this.planes);
    g.save();
    g.beginPath();
    g.rect(this.ladderW + 1, CAPTION_HEIGHT, this.W - this.ladderW - 1, this.H - CAPTION_HEIGHT);
    g.clip();
    const R = this.R * this.zoom * this.vp.scale;
    if (this.scaleR) {
      for (const lab of drawRings(g, pal, this.qx, this.qy, R, this.scaleR.rings(4, 1 / this.zoom), this.nonNeg)) {
        g.font = app.font(9);
        g.textAlign = 'center';
        g.textBaseline = 'bottom';
        haloText(g, lab.text, lab.x, lab.y - 2, pal.muted, pal.bg);
      }
    }
    // Earlier levels' greedy paths, faded: the descent closing in on the query.
    for (let k = 0; k < st.li; k++) {
      const r = s.levels[k];
      const path = greedyPath(s, r, r.end);
      if (path.length < 2) continue;
      g.beginPath();
      path.forEach((i, j) => {
        if (j) g.lineTo(this.sx[i], this.sy[i]);
        else g.moveTo(this.sx[i], this.sy[i]);
      });
      g.strokeStyle = rgba(levelColor(pal, r.level), 0.4);
      g.lineWidth = 2;
      g.stroke();
    }
    // Examined links on the current level: passed over (faint), accepted (level colour).
    const passed = new Path2D();
    const accepted = new Path2D();
    for (let e = row.start; e < st.applied; e++) {
      const p = s.evOut[e] === OUT_ACCEPTED ? accepted : passed;
      p.moveTo(this.sx[s.evSrc[e]], this.sy[s.evSrc[e]]);
      p.lineTo(this.sx[s.evDst[e]], this.sy[s.evDst[e]]);
    }
    g.strokeStyle = rgba(pal.fg, st.applied - row.start > 600 ? 0.08 : 0.16);
    g.lineWidth = 0.8;
    g.stroke(passed);
    g.strokeStyle = rgba(color, row.level === 0 ? 0.55 : 0.95);
    g.lineWidth = row.level === 0 ? 1.1 : 2.5;
    g.stroke(accepted);
    if (row.level > 0) {
      const path = greedyPath(s, row, st.applied);
      g.beginPath();
      for (let j = 1; j < path.length; j++) arrowHead(g, this.sx[path[j - 1]], this.sy[path[j - 1]], this.sx[path[j]], this.sy[path[j]], 8);
      g.fillStyle = color;
      g.fill();
    }
    drawNodes(g, pal, st, this.sx, this.sy, this.dotR, color);
    if (row.entry >= 0) {
      g.beginPath();
      diamondPath(g, this.sx[row.entry], this.sy[row.entry], 8);
      g.fillStyle = pal.fg;
      g.fill();
      g.strokeStyle = pal.bg;
      g.lineWidth = 1.5;
      g.stroke();
    }
    if (!st.done && st.applied > row.start) {
      const e = st.applied - 1;
      g.beginPath();
      g.moveTo(this.sx[s.evSrc[e]], this.sy[s.evSrc[e]]);
      g.lineTo(this.sx[s.evDst[e]], this.sy[s.evDst[e]]);
      circlePath(g, this.sx[s.evDst[e]], this.sy[s.evDst[e]], 8);
      g.strokeStyle = pal.query;
      g.lineWidth = 2;
      g.stroke();
    }
    if (st.done) this.drawResults(g, color);
    if (st.done && this.mx.length) drawMisses(g, pal, this.mx, this.my);
    drawQuery(g, pal, this.qx, this.qy);
    this.drawFocus(g);
    g.restore();
    drawCaption(g, app.font, pal, s, st, this.ladderW + 16, color, this.zoom * this.vp.scale);
    app.setDebugState({ federDrawn: String(st.frame) });
  }

  /**
   * The final top-k, numbered with collision-free labels.
   * @param {CanvasRenderingContext2D} g
   * @param {string} color
   */
  drawResults(g, color) {
    const pal = this.app.pal;
    const nodes = this.s.resultNodes;
    for (let t = nodes.length - 1; t >= 0; t--) {
      const i = nodes[t];
      if (i < 0 || i >= this.v) continue;
      g.beginPath();
      circlePath(g, this.sx[i], this.sy[i], 7);
      g.fillStyle = color;
      g.fill();
      g.lineWidth = 2;
      g.strokeStyle = pal.fg;
      g.stroke();
    }
    const marks = [];
    for (const i of nodes) if (i >= 0) marks.push({ x: this.sx[i] - 8, y: this.sy[i] - 8, w: 16, h: 16 });
    const specs = [];
    for (let t = 0; t < nodes.length; t++) if (nodes[t] >= 0) specs.push({ x: this.sx[nodes[t]], y: this.sy[nodes[t]], text: String(t + 1), color: pal.fg, size: 11, weight: 700 });
    this.drawLabels(g, specs, marks, { x: this.ladderW + 2, y: CAPTION_HEIGHT, w: this.W - this.ladderW - 4, h: this.H - CAPTION_HEIGHT - 2 }, false);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawFocus(g) {
    const app = this.app;
    const pal = app.pal;
    if (app.selKeys.size) {
      g.beginPath();
      for (let i = 0; i < this.v; i++) if (app.selKeys.has(fmtId(this.s.ids[i]))) circlePath(g, this.sx[i], this.sy[i], 10);
      g.strokeStyle = pal.select;
      g.lineWidth = 2.5;
      g.stroke();
    }
    const hov = app.hover;
    if (hov && hov.kind === 'miss' && hov.index != null && this.state.done) strokeRing(g, this.mx[hov.index], this.my[hov.index], MISS_RADIUS + 3, pal.fg);
    if (hov && hov.kind === 'hnode' && hov.node != null) strokeRing(g, this.sx[hov.node], this.sy[hov.node], 9, pal.fg);
  }

  // ---- interaction

  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    if (y < CAPTION_HEIGHT) return null;
    if (this.state.done && this.mx.length) {
      const j = this.missGrid.nearest(x, y, MISS_RADIUS);
      if (j >= 0) return { key: `miss:${j}`, kind: 'miss', index: j };
    }
    const k = this.hitGrid().nearest(x, y, 6);
    if (k < 0) return null;
    const node = this.hitIndex[k];
    return { key: `hnode:${node}`, kind: 'hnode', node };
  }

  /** @param {number} id */
  hoverId(id) {
    const key = fmtId(id);
    for (let i = 0; i < this.v; i++) if (fmtId(this.s.ids[i]) === key) return { key: `hnode:${i}`, kind: 'hnode', node: i };
    const d = this.s.diag;
    if (d) for (let j = 0; j < d.missIds.length; j++) if (d.missIds[j] === id) return { key: `miss:${j}`, kind: 'miss', index: j };
    return null;
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind === 'miss' && item.index != null && this.s.diag) return missTooltip(this.app, this.s.diag, item.index, this.nonNeg);
    if (item.kind !== 'hnode' || item.node == null) return null;
    const app = this.app;
    const i = item.node;
    const id = this.s.ids[i];
    const rank = this.state.done ? this.resultRank.get(i) : undefined;
    return card({
      title: app.idText(id),
      thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
      badge: rank != null ? badgeEl(`#${rank + 1}`, app.pal.query) : null,
      subtitle: app.media.name(id),
      lines: [{ text: `distance ${fmtDist(this.s.dist[i], this.nonNeg)}` }],
      note: `${nodeStatus(this.state, this.resultRank, i)} (level ${this.state.row.level})`,
    });
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== 'hnode' || item.node == null) {
      this.app.select([], -1);
      return;
    }
    this.app.select([this.s.ids[item.node]], -1);
  }

  panel() {
    const s = this.s;
    const box = h('div');
    const sec = section('HNSW search');
    let total = 0;
    for (const r of s.levels) total += r.visited;
    sec.appendChild(
      factsTable([
        ['metric', s.metric],
        ['ef', s.params.ef != null ? fmtInt(s.params.ef) : null],
        ['k', fmtInt(s.params.k != null ? s.params.k : s.resultNodes.length)],
        ['nodes visited (all levels)', fmtInt(total)],
        ['links examined', fmtInt(s.evLevel.length)],
      ]),
    );
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(this.app, s.diag, this.nonNeg));
    const lv = section('Per level');
    const { table, rows } = levelTable(s, this.app.pal, (li) => {
      this.player.pause();
      this.player.seek(levelEndFrame(this.tl, li));
    });
    this.levelRows = rows;
    lv.appendChild(table);
    this.liveEl = h('p', 'feder-live');
    lv.appendChild(this.liveEl);
    lv.appendChild(
      h('p', 'feder-muted feder-small', 'Upper levels: greedy moves towards the query. Level 0: a beam of ef candidates; filled dots are in the beam, grey ones were evicted, rings were examined and passed over. ← → step, Home / End jump, space plays.'),
    );
    box.appendChild(lv);
    this.syncControls();
    return box;
  }

  strip() {
    return resultsStrip(this.app, this.s);
  }

  queryScreen() {
    return /** @type {[number, number]} */ ([this.qx, this.qy]);
  }

  /** @param {number} [limit] */
  targets(limit = 40) {
    this.hitGrid();
    const out = [];
    const s = this.s;
    if (this.state.done) {
      for (let t = 0; t < s.resultNodes.length; t++) {
        const i = s.resultNodes[t];
        out.push({ x: this.sx[i], y: this.sy[i], kind: 'hnode', id: s.ids[i], rank: t });
      }
    }
    for (let k = 0; k < this.hitIndex.length && out.length < limit; k++) {
      const i = this.hitIndex[k];
      if (this.sy[i] >= CAPTION_HEIGHT) out.push({ x: this.sx[i], y: this.sy[i], kind: 'hnode', id: s.ids[i] });
    }
    const d = s.diag;
    if (this.state.done && d) for (let j = 0; j < this.mx.length; j++) out.push({ x: this.mx[j], y: this.my[j], kind: 'miss', id: d.missIds[j], rank: d.missRank[j] - 1 });
    return out;
  }
}
