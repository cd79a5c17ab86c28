// Drawing pieces of the HNSW search view: the level ladder (every level as a small plane,
// the descent so far) and the nodes coloured by their state at the current frame.

import { circlePath, haloText } from '../draw.js';
import { h, swatch } from '../dom.js';
import { clamp, fmtId, fmtInt, plural } from '../format.js';
import { levelColor, mix, rgba } from '../theme.js';
import { greedyPath, NODE_ACCEPTED, NODE_CANDIDATE, NODE_EVICTED, NODE_EXAMINED, OUT_ACCEPTED } from '../timeline.js';

/** @typedef {import('../payload.js').HNSWSearch} HNSWSearch */
/** @typedef {import('../timeline.js').FrameState} FrameState */
/** @typedef {import('../theme.js').Palette} Palette */
/** @typedef {import('./planes.js').Plane} Plane */
/** @typedef {(size: number, weight?: number) => string} FontFn */

/**
 * Every level as a small plane, top first: the nodes examined so far, the greedy path (upper
 * levels) or the accepted links (level 0), the entry, and the current level highlighted.
 * @param {CanvasRenderingContext2D} g
 * @param {Palette} pal
 * @param {FontFn} font
 * @param {HNSWSearch} s
 * @param {FrameState} st
 * @param {readonly Plane[]} planes
 */
export function drawLadder(g, pal, font, s, st, planes) {
  /**
   * @param {Plane} p
   * @param {number} i
   * @returns {[number, number]}
   */
  const map = (p, i) => [p.px((s.xy[2 * i] + 1) / 2, (s.xy[2 * i + 1] + 1) / 2), p.py((s.xy[2 * i + 1] + 1) / 2)];
  s.levels.forEach((row, k) => {
    const p = planes[k];
    const color = levelColor(pal, row.level);
    const current = k === st.li;
    const reached = k <= st.li;
    g.beginPath();
    p.outline(g);
    g.fillStyle = rgba(color, current ? 0.16 : reached ? 0.07 : 0.03);
    g.fill();
    g.strokeStyle = current ? color : rgba(color, reached ? 0.5 : 0.25);
    g.lineWidth = current ? 1.75 : 1;
    g.stroke();
    const upto = k < st.li ? row.end : current ? st.applied : row.start;
    if (reached) {
      g.beginPath();
      for (let e = row.start; e < upto; e++) {
        const [x, y] = map(p, s.evDst[e]);
        circlePath(g, x, y, 1.3);
      }
      g.fillStyle = rgba(color, 0.55);
      g.fill();
      g.beginPath();
      if (row.level > 0) {
        greedyPath(s, row, upto).forEach((i, j) => {
          const [x, y] = map(p, i);
          if (j) g.lineTo(x, y);
          else g.moveTo(x, y);
        });
      } else {
        for (let e = row.start; e < upto; e++) {
          if (s.evOut[e] !== OUT_ACCEPTED) continue;
          const [x0, y0] = map(p, s.evSrc[e]);
          const [x1, y1] = map(p, s.evDst[e]);
          g.moveTo(x0, y0);
          g.lineTo(x1, y1);
        }
      }
      g.strokeStyle = row.level > 0 ? color : rgba(color, 0.6);
      g.lineWidth = row.level > 0 ? 1.75 : 0.8;
      g.stroke();
      if (row.entry >= 0) {
        const [ex, ey] = map(p, row.entry);
        g.beginPath();
        circlePath(g, ex, ey, 2.8);
        g.fillStyle = pal.fg;
        g.fill();
      }
    }
    g.font = font(10, current ? 700 : 500);
    g.textAlign = 'left';
    g.textBaseline = 'top';
    haloText(g, `L${row.level}`, p.x + p.skew + 4, p.y + 3, current ? mix(color, pal.fg, 0.3) : pal.muted, pal.bg);
    g.textAlign = 'right';
    haloText(g, `${fmtInt(row.visited)} visited`, p.x + p.skew + p.w - 3, p.y + 3, pal.muted, pal.bg, 2.5);
  });
}

/**
 * The nodes of the current level by state: examined (rings), evicted (grey), explored only
 * (dashed, deleted), accepted (level colour).
 * @param {CanvasRenderingContext2D} g
 * @param {Palette} pal
 * @param {FrameState} st
 * @param {ArrayLike<number>} sx
 * @param {ArrayLike<number>} sy
 * @param {number} r
 * @param {string} color
 */
export function drawNodes(g, pal, st, sx, sy, r, color) {
  /** @type {number[][]} */
  const groups = [[], [], [], [], []];
  for (let i = 0; i < st.status.length; i++) if (st.status[i]) groups[st.status[i]].push(i);
  g.beginPath();
  for (const i of groups[NODE_EXAMINED]) circlePath(g, sx[i], sy[i], r);
  g.fillStyle = pal.bg;
  g.fill();
  g.strokeStyle = rgba(pal.fg, 0.45);
  g.lineWidth = 1;
  g.stroke();
  g.beginPath();
  for (const i of groups[NODE_EVICTED]) circlePath(g, sx[i], sy[i], r);
  g.fillStyle = rgba(pal.fg, 0.3);
  g.fill();
  g.beginPath();
  for (const i of groups[NODE_CANDIDATE]) circlePath(g, sx[i], sy[i], r);
  g.strokeStyle = pal.muted;
  g.setLineDash([2, 2]);
  g.stroke();
  g.setLineDash([]);
  g.beginPath();
  for (const i of groups[NODE_ACCEPTED]) circlePath(g, sx[i], sy[i], r + 1.2);
  g.fillStyle = color;
  g.fill();
  g.strokeStyle = pal.bg;
  g.lineWidth = 1;
  g.stroke();
}

/**
 * The zoom of the disc on each level so the level fills it (radii are shared by all levels).
 * The entry, the greedy path, the results and most examined nodes (85th percentile) stay
 * inside; early beam admissions on level 0 that are evicted later do not count.
 * @param {HNSWSearch} s
 * @param {ArrayLike<number>} radius (v) radius of each node in [0, 1]
 * @returns {number[]} one zoom (1 … 6) per level row
 */
export function levelZooms(s, radius) {
  return s.levels.map((row) => {
    const rs = [];
    let ext = row.entry >= 0 && row.entry < radius.length ? radius[row.entry] : 0;
    for (let e = row.start; e < row.end; e++) {
      const r = radius[s.evDst[e]];
      rs.push(r);
      if (row.level > 0 && s.evOut[e] === OUT_ACCEPTED && r > ext) ext = r;
    }
    rs.sort((a, b) => a - b);
    if (rs.length) ext = Math.max(ext, rs[Math.min(rs.length - 1, Math.floor(rs.length * 0.85))]);
    if (row.level === 0) for (const i of s.resultNodes) if (i >= 0) ext = Math.max(ext, radius[i]);
    return clamp(0.94 / Math.max(ext, 0.1), 1, 6);
  });
}

/**
 * The caption above the disc: the level, its kind of search, what was visited.
 * @param {CanvasRenderingContext2D} g
 * @param {FontFn} font
 * @param {Palette} pal
 * @param {HNSWSearch} s
 * @param {FrameState} st
 * @param {number} x0
 * @param {string} color the level's colour
 * @param {number} zoom the disc's total zoom
 */
export function drawCaption(g, font, pal, s, st, x0, color, zoom) {
  const row = st.row;
  const ef = s.params.ef;
  g.font = font(12, 700);
  g.textAlign = 'left';
  g.textBaseline = 'top';
  const kind = row.level > 0 ? 'greedy search (ef = 1)' : `beam search (ef = ${ef != null ? ef : '?'})`;
  haloText(g, `Level ${row.level} · ${kind}`, x0, 8, mix(color, pal.fg, 0.35), pal.bg);
  g.font = font(11);
  const line =
    row.level > 0
      ? `${plural(st.visited, 'node')} visited · ${plural(greedyPath(s, row, st.applied).length - 1, 'move')}`
      : `${plural(st.visited, 'node')} visited · beam ${fmtInt(st.beam)}${ef != null ? ` / ${ef}` : ''}`;
  const zoomed = zoom > 1.05 ? ` · zoom ×${zoom.toFixed(1)}` : '';
  haloText(g, `${st.done ? `${line} · top-${s.resultNodes.length} found` : line}${zoomed}`, x0, 26, pal.muted, pal.bg);
}

/**
 * How node `i` stands at a frame, in words (the tooltip's last line).
 * @param {FrameState} st
 * @param {Map<number, number>} resultRank node → 0-based result rank
 * @param {number} i
 */
export function nodeStatus(st, resultRank, i) {
  const rank = resultRank.get(i);
  if (st.done && rank != null) return `result #${rank + 1}`;
  switch (st.status[i]) {
    case NODE_ACCEPTED:
      return st.row.level === 0 ? 'in the beam' : 'on the greedy path';
    case NODE_EVICTED:
      return 'evicted from the beam';
    case NODE_CANDIDATE:
      return 'deleted: explored, never returned';
    case NODE_EXAMINED:
      return 'examined, passed over';
    default:
      return '';
  }
}

/**
 * The panel's per-level table (level, entry, visited, links); a click on a row calls
 * `pick` with its level row index.
 * @param {HNSWSearch} s
 * @param {Palette} pal
 * @param {(li: number) => void} pick
 * @returns {{table: HTMLElement, rows: HTMLElement[]}}
 */
export function levelTable(s, pal, pick) {
  const table = h('table', 'feder-table');
  const head = h('tr');
  for (const t of ['level', 'entry', 'visited', 'links']) head.appendChild(h('th', null, t));
  table.appendChild(head);
  const rows = s.levels.map((r, li) => {
    const tr = h('tr');
    const cell = h('td');
    cell.append(swatch(levelColor(pal, r.level)), document.createTextNode(` ${r.level}`));
    tr.appendChild(cell);
    tr.appendChild(h('td', null, r.entry >= 0 && r.entry < s.ids.length ? fmtId(s.ids[r.entry]) : '—'));
    tr.appendChild(h('td', 'feder-num', fmtInt(r.visited)));
    tr.appendChild(h('td', 'feder-num', fmtInt(r.edges)));
    tr.addEventListener('click', () => pick(li));
    table.appendChild(tr);
    return tr;
  });
  return { table, rows };
}
