// IVF coarse search: the query against every centroid; the nprobe nearest lists are
// highlighted in probe order (one colour per rank, whatever nprobe is), numbered, and named.

import { badgeEl, factsTable, h, hoverRow, section, swatch } from '../dom.js';
import { drawQuery, badge, QUERY_RADIUS } from '../draw.js';
import { recallSection } from '../diagnosis.js';
import { clamp, fmtDist, fmtInt, nonNegativeMetric, plural } from '../format.js';
import { aroundPoint, markerBox } from '../labels.js';
import { mix, probeColor, ramp, rgba } from '../theme.js';
import { IVFMapScene } from './ivf_map.js';
import { resultsStrip } from './strip.js';

/** @typedef {import('../payload.js').IVFOverview} IVFOverview */
/** @typedef {import('../payload.js').IVFSearch} IVFSearch */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').LabelSpec} LabelSpec */
/** @typedef {import('../labels.js').Box} Box */

const PANEL_LIST_ROWS = 40;
const BADGE_OFF_QUERY = 24; // px a badge keeps from the query marker

export class CoarseScene extends IVFMapScene {
  /**
   * @param {SceneHost} app
   * @param {IVFOverview} ov
   * @param {IVFSearch} search
   */
  constructor(app, ov, search) {
    super(app, ov, search);
    this.s = search;
  }

  /** @param {number} rank */
  rankColor(rank) {
    return probeColor(this.app.pal, rank);
  }

  queryPoint() {
    return this.boxToScreen(this.s.queryXY[0], this.s.queryXY[1]);
  }

  /**
   * A probed cell's badge sits at its centre, nudged off the query marker when too close.
   * @param {number} list
   * @param {number} qx
   * @param {number} qy
   * @returns {[number, number]}
   */
  badgeAt(list, qx, qy) {
    const x = this.cx[list];
    const y = this.cy[list];
    const dx = x - qx;
    const dy = y - qy;
    const d = Math.sqrt(dx * dx + dy * dy);
    if (d >= BADGE_OFF_QUERY) return [x, y];
    if (d < 1e-6) return [qx + BADGE_OFF_QUERY, qy];
    return [qx + (dx / d) * BADGE_OFF_QUERY, qy + (dy / d) * BADGE_OFF_QUERY];
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    /** @type {string[]} */
    const quiet = [];
    for (let k = 0; k <= 16; k++) quiet.push(ramp(pal.quiet, k / 16));
    this.fillCells(g, (i) => (this.ov.sizes[i] === 0 ? pal.empty : quiet[Math.round(this.sizeT(this.ov.sizes[i]) * 16)]));
    for (let r = s.probed.length - 1; r >= 0; r--) {
      g.beginPath();
      if (this.cellPath(g, s.probed[r])) {
        g.fillStyle = rgba(this.rankColor(r), app.theme === 'dark' ? 0.5 : 0.4);
        g.fill();
      }
    }
    this.strokeCells(g, pal.bg, 1.5);
    for (let r = s.probed.length - 1; r >= 0; r--) {
      g.beginPath();
      if (this.cellPath(g, s.probed[r])) {
        g.strokeStyle = this.rankColor(r);
        g.lineWidth = 1.75;
        g.stroke();
      }
    }
    const [qx, qy] = this.queryPoint();
    g.save();
    g.setLineDash([5, 4]);
    g.lineWidth = 1.5;
    for (let r = s.probed.length - 1; r >= 0; r--) {
      const l = s.probed[r];
      g.beginPath();
      g.moveTo(qx, qy);
      g.lineTo(this.cx[l], this.cy[l]);
      g.strokeStyle = mix(this.rankColor(r), pal.fg, 0.15);
      g.stroke();
    }
    g.restore();
    const missedLists = this.missedLists();
    g.save();
    g.setLineDash([4, 3]);
    g.lineWidth = 2.5;
    g.strokeStyle = pal.missed;
    for (const list of missedLists.keys()) {
      g.beginPath();
      if (this.cellPath(g, list)) g.stroke();
    }
    g.restore();
    drawQuery(g, pal, qx, qy);
    /** @type {Box[]} */
    const obstacles = [markerBox(qx, qy, QUERY_RADIUS)];
    /** @type {Array<[number, number, number]>} */
    const badges = [];
    for (let r = s.probed.length - 1; r >= 0; r--) {
      const [bx, by] = this.badgeAt(s.probed[r], qx, qy);
      const size = clamp(Math.sqrt(this.area[s.probed[r]]) * 0.28, 6.5, 9);
      badge(g, pal, app.font, bx, by, String(r + 1), this.rankColor(r), size);
      obstacles.push(markerBox(bx, by, size + 1));
      badges.push([r, bx, by]);
    }
    /** @type {LabelSpec[]} */
    const specs = [{ x: qx, y: qy, text: 'query', color: pal.query, size: 11, weight: 600, offsets: aroundPoint(40, 15, QUERY_RADIUS) }];
    badges.reverse();
    for (const [r, bx, by] of badges.slice(0, 24)) {
      specs.push({ x: bx, y: by, text: `list ${s.probed[r]}`, color: mix(this.rankColor(r), pal.fg, 0.45), size: 10, weight: 600, offsets: aroundPoint(44, 14, 9) });
    }
    for (const [list, { rank, count }] of missedLists) {
      const text = `list ${list}: ${count} missed · nprobe ≥ ${rank}`;
      specs.push({ x: this.cx[list], y: this.cy[list], text, color: pal.missed, size: 10, weight: 700, offsets: aroundPoint(text.length * 5.6, 14, 4) });
    }
    this.drawLabels(g, specs, obstacles);
  }

  /**
   * Lists not probed that hold exact neighbours the search missed, with the nprobe that
   * reaches them (a quantization miss sits in a probed list: more nprobe would not help).
   * @returns {Map<number, {rank: number, count: number}>}
   */
  missedLists() {
    /** @type {Map<number, {rank: number, count: number}>} */
    const out = new Map();
    const d = this.s.diag;
    if (!d) return out;
    for (let j = 0; j < d.missIds.length; j++) {
      if (d.reasons[d.missReason[j]] !== 'list_not_probed') continue;
      const list = d.missList[j];
      if (list < 0 || list >= this.ov.nlist) continue;
      const entry = out.get(list) || { rank: d.missListRank[j], count: 0 };
      entry.count++;
      out.set(list, entry);
    }
    return out;
  }

  /** @param {number} list */
  tooltipExtra(list) {
    const s = this.s;
    const rank = s.probeRank.get(list);
    const d = list < s.allDist.length ? s.allDist[list] : null;
    const line = h('div', 'feder-tt-line');
    if (rank != null) {
      line.appendChild(swatch(this.rankColor(rank)));
      line.appendChild(h('span', null, `probe #${rank + 1} · centroid distance ${fmtDist(d)}`));
    } else {
      line.appendChild(h('span', 'feder-muted', `not probed · centroid distance ${fmtDist(d)}`));
    }
    const missed = this.missedLists().get(list);
    if (!missed) return line;
    const box = h('div');
    box.appendChild(line);
    const warn = h('div', 'feder-tt-line feder-missed-text', `${plural(missed.count, 'exact neighbour')} missed here: nprobe ≥ ${missed.rank} scans this list`);
    box.appendChild(warn);
    return box;
  }

  panel() {
    const app = this.app;
    const s = this.s;
    const box = h('div');
    const sec = section('Coarse search');
    sec.appendChild(
      factsTable([
        ['metric', s.metric],
        ['nprobe', fmtInt(s.params.nprobe != null ? s.params.nprobe : s.probed.length)],
        ['k', s.params.k != null ? fmtInt(s.params.k) : null],
        ['centroids compared', fmtInt(s.allDist.length || this.ov.nlist)],
        ['vectors compared', fmtInt(s.ids.length)],
      ]),
    );
    sec.appendChild(h('p', 'feder-muted feder-small', 'The query is compared with every centroid; the nprobe nearest lists are scanned. Colours mark probes #1–6; later probes share one colour.'));
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(app, s.diag, nonNegativeMetric(s.metric)));
    const probes = section('Probed lists, nearest first');
    const table = h('div', 'feder-rows');
    for (let r = 0; r < s.probed.length && r < PANEL_LIST_ROWS; r++) {
      const l = s.probed[r];
      const item = { key: `list:${l}`, kind: 'list', list: l };
      table.appendChild(
        hoverRow(
          [
            badgeEl(`${r + 1}`, this.rankColor(r)),
            h('span', 'feder-row-main', `list ${l}`),
            h('span', 'feder-muted', plural(this.ov.sizes[l], 'vec', 'vecs')),
            h('span', 'feder-num', fmtDist(s.probedDist[r])),
          ],
          { enter: () => app.setHover(item), leave: () => app.setHover(null), click: () => this.click(item) },
        ),
      );
    }
    probes.appendChild(table);
    const next = this.nearestUnprobed();
    if (next >= 0) probes.appendChild(h('p', 'feder-muted feder-small', `Nearest list not probed: list ${next} at ${fmtDist(s.allDist[next])}.`));
    box.appendChild(probes);
    box.appendChild(this.selectionSection());
    return box;
  }

  /** The closest list the search did not scan (how close the cut was), or −1. */
  nearestUnprobed() {
    const s = this.s;
    const ip = s.metric === 'ip';
    let best = -1;
    for (let i = 0; i < s.allDist.length; i++) {
      if (s.probeRank.has(i)) continue;
      if (best < 0 || (ip ? s.allDist[i] > s.allDist[best] : s.allDist[i] < s.allDist[best])) best = i;
    }
    return best;
  }

  strip() {
    return resultsStrip(this.app, this.s);
  }

  /** @param {number} [limit] */
  targets(limit = 20) {
    const s = this.s;
    /** @type {import('./scene.js').Target[]} */
    const out = [];
    for (let r = 0; r < s.probed.length; r++) {
      const l = s.probed[r];
      out.push({ x: this.cx[l], y: this.cy[l], kind: 'list', list: l, rank: r });
    }
    return out.concat(super.targets(limit));
  }
}
