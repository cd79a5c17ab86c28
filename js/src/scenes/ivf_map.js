// IVF overview: one cell per inverted list (laid out in Python: area ∝ list size, similar
// centroids side by side), coloured by size, with a few member thumbnails inside the larger
// cells, nearest to the centroid first. The coarse-search view builds on it.

import { card, factsTable, h, section } from '../dom.js';
import { fmtInt, plural } from '../format.js';
import { PolygonGrid, polygonAreas, polygonBounds } from '../hit.js';
import { luminance, ramp, rgba } from '../theme.js';
import { Scene } from './scene.js';
import { idCard } from './strip.js';

/** @typedef {import('../payload.js').IVFOverview} IVFOverview */
/** @typedef {import('../payload.js').IVFSearch} IVFSearch */
/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('./scene.js').HitItem} HitItem */
/** @typedef {import('./scene.js').LabelSpec} LabelSpec */
/** @typedef {import('../labels.js').Box} Box */

export const MEMBER_THUMBS = 9; // hover and click show the same members
const DETAIL_THUMBS = 24;
const MAP_MARGIN = 10;
// Cells per canvas path: Chrome builds a path in time quadratic in its subpaths (16,384 cells
// in one path took 2 s), so fills and strokes go out in small batches.
const PATH_BATCH = 48;

export class IVFMapScene extends Scene {
  /**
   * @param {SceneHost} app
   * @param {IVFOverview} ov
   * @param {IVFSearch | null} search
   */
  constructor(app, ov, search) {
    super(app);
    this.ov = ov;
    this.search = search;
    let lo = Infinity;
    let hi = 0;
    for (let i = 0; i < ov.nlist; i++) {
      const s = ov.sizes[i];
      if (s > 0 && s < lo) lo = s;
      if (s > hi) hi = s;
    }
    this.sizeLo = Number.isFinite(lo) ? lo : 0;
    this.sizeHi = hi;
    this.bxy = new Float32Array(ov.cellXY.length);
    this.xy = new Float32Array(ov.cellXY.length);
    this.bcx = new Float32Array(ov.nlist);
    this.bcy = new Float32Array(ov.nlist);
    this.cx = new Float32Array(ov.nlist);
    this.cy = new Float32Array(ov.nlist);
    /** @type {Float32Array} */
    this.area = new Float32Array(ov.nlist);
    this.scale = 1;
    this.grid = new PolygonGrid(this.xy, ov.cellOff, 1, 1);
    /** @type {Array<Box & {id: number}>} member thumbnails drawn by the last base drawing */
    this.thumbBoxes = [];
    /** screen bounding box of each cell (x0, y0, x1, y1), set by `place` */
    this.bounds = new Float64Array(4 * ov.nlist);
    /** @type {string[]} fill colour of each cell by size, for `colorsFor`'s palette */
    this.colors = [];
    /** @type {object | null} */
    this.colorsFor = null;
  }

  /**
   * @param {number} W
   * @param {number} H
   */
  layout(W, H) {
    super.layout(W, H);
    const [bw, bh] = this.ov.box;
    const s = Math.min((W - 2 * MAP_MARGIN) / bw, (H - 2 * MAP_MARGIN) / bh);
    const ox = (W - bw * s) / 2;
    const oy = (H - bh * s) / 2;
    this.scale = s;
    this.ox = ox;
    this.oy = oy;
    const src = this.ov.cellXY;
    for (let i = 0; i < src.length; i += 2) {
      this.bxy[i] = ox + src[i] * s;
      this.bxy[i + 1] = oy + src[i + 1] * s;
    }
    const c = this.ov.centers;
    for (let i = 0; i < this.ov.nlist; i++) {
      this.bcx[i] = ox + c[2 * i] * s;
      this.bcy[i] = oy + c[2 * i + 1] * s;
    }
  }

  place() {
    const vp = this.vp;
    for (let i = 0; i < this.bxy.length; i += 2) {
      this.xy[i] = vp.x(this.bxy[i]);
      this.xy[i + 1] = vp.y(this.bxy[i + 1]);
    }
    for (let i = 0; i < this.ov.nlist; i++) {
      this.cx[i] = vp.x(this.bcx[i]);
      this.cy[i] = vp.y(this.bcy[i]);
    }
    this.area = polygonAreas(this.xy, this.ov.cellOff);
    polygonBounds(this.xy, this.ov.cellOff, this.bounds);
    this.grid = new PolygonGrid(this.xy, this.ov.cellOff, this.W, this.H, undefined, this.bounds);
  }

  /**
   * A point of the layout box (the query's position) on screen.
   * @param {number} x
   * @param {number} y
   * @returns {[number, number]}
   */
  boxToScreen(x, y) {
    return [this.vp.x((this.ox || 0) + x * this.scale), this.vp.y((this.oy || 0) + y * this.scale)];
  }

  /**
   * @param {CanvasRenderingContext2D | Path2D} g
   * @param {number} i
   * @returns {boolean}
   */
  cellPath(g, i) {
    const off = this.ov.cellOff;
    const a = off[i];
    const b = off[i + 1];
    if (b - a < 3) return false;
    const xy = this.xy;
    g.moveTo(xy[2 * a], xy[2 * a + 1]);
    for (let k = a + 1; k < b; k++) g.lineTo(xy[2 * k], xy[2 * k + 1]);
    g.closePath();
    return true;
  }

  /** @param {number} size */
  sizeT(size) {
    if (this.sizeHi <= this.sizeLo) return 0.5;
    return Math.sqrt((size - this.sizeLo) / (this.sizeHi - this.sizeLo));
  }

  /** @param {number} i */
  sizeColor(i) {
    const pal = this.app.pal;
    if (this.colorsFor !== pal) {
      // 29 shades: one ramp colour per shade, not one per cell (parsing colours adds up)
      /** @type {string[]} */
      const shades = [];
      for (let k = 0; k <= 28; k++) shades.push(ramp(pal.size, 0.08 + (0.92 * k) / 28));
      this.colors = [];
      for (let j = 0; j < this.ov.nlist; j++) {
        const size = this.ov.sizes[j];
        this.colors.push(size === 0 ? pal.empty : shades[Math.round(this.sizeT(size) * 28)]);
      }
      this.colorsFor = pal;
    }
    return this.colors[i];
  }

  /**
   * Fill cells batched by colour, so thousands of cells cost a few dozen fills.
   * @param {CanvasRenderingContext2D} g
   * @param {(i: number) => string | null} colorOf
   */
  fillCells(g, colorOf) {
    /** @type {Map<string, number[]>} */
    const groups = new Map();
    for (let i = 0; i < this.ov.nlist; i++) {
      if (!this.visible(i)) continue;
      const c = colorOf(i);
      if (!c) continue;
      const list = groups.get(c);
      if (list) list.push(i);
      else groups.set(c, [i]);
    }
    for (const [color, list] of groups) {
      g.fillStyle = color;
      for (let start = 0; start < list.length; start += PATH_BATCH) {
        g.beginPath();
        const stop = Math.min(list.length, start + PATH_BATCH);
        for (let k = start; k < stop; k++) this.cellPath(g, list[k]);
        g.fill();
      }
    }
  }

  /**
   * The borders between cells, `width` CSS pixels at most: thinner when cells are small on
   * screen, down to one device pixel (which the canvas draws as a fast hairline: a 1.5 px
   * stroke of 16,384 cells took 0.2–0.4 s to rasterise).
   * @param {CanvasRenderingContext2D} g
   * @param {string} color
   * @param {number} width
   */
  strokeCells(g, color, width) {
    const dpr = g.getTransform().a || 1;
    const [bw, bh] = this.ov.box;
    const side = Math.sqrt((bw * bh * this.scale * this.scale * this.vp.scale * this.vp.scale) / Math.max(1, this.ov.nlist));
    const device = Math.max(1, Math.min(width * dpr, (side * dpr) / 6));
    g.strokeStyle = color;
    g.lineWidth = device / dpr;
    g.lineJoin = device > 1 ? 'round' : 'miter';
    let count = 0;
    g.beginPath();
    for (let i = 0; i < this.ov.nlist; i++) {
      if (!this.visible(i) || !this.cellPath(g, i)) continue;
      if (++count % PATH_BATCH === 0) {
        g.stroke();
        g.beginPath();
      }
    }
    g.stroke();
  }

  /**
   * Whether cell `i` can show on screen (its bounding box meets the canvas): zoomed in, most
   * cells need no drawing.
   * @param {number} i
   */
  visible(i) {
    const b = this.bounds;
    return b[4 * i] <= this.W && b[4 * i + 2] >= 0 && b[4 * i + 1] <= this.H && b[4 * i + 3] >= 0;
  }

  /**
   * Whether the whole box lies inside cell `i` (its four corners do: cells are convex).
   * @param {number} i
   * @param {Box} box
   */
  cellHolds(i, box) {
    const g = this.grid;
    return (
      g.contains(i, box.x, box.y) &&
      g.contains(i, box.x + box.w, box.y) &&
      g.contains(i, box.x, box.y + box.h) &&
      g.contains(i, box.x + box.w, box.y + box.h)
    );
  }

  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    this.fillCells(g, (i) => this.sizeColor(i));
    this.strokeCells(g, this.app.pal.bg, 1.5);
    const thumbs = this.drawThumbnails(g);
    this.drawCellLabels(g, thumbs, () => true);
  }

  /**
   * Member thumbnails inside the cells that have room, nearest to the centroid first.
   * @param {CanvasRenderingContext2D} g
   * @param {(i: number) => boolean} [skip]
   * @returns {Box[]} the areas covered, for label placement
   */
  drawThumbnails(g, skip) {
    /** @type {Box[]} */
    const out = [];
    this.thumbBoxes = [];
    const media = this.app.media;
    if (!media.shows() || media.isText) return out;
    for (let i = 0; i < this.ov.nlist; i++) {
      if ((skip?.(i)) || this.area[i] < 2400 || this.cx[i] < 0 || this.cy[i] < 0 || this.cx[i] > this.W || this.cy[i] > this.H) continue;
      const mem = this.members(i);
      if (!mem.length) continue;
      const side = Math.sqrt(this.area[i]);
      const size = Math.max(18, Math.min(44, Math.floor(side / 3.4)));
      const cols = Math.min(mem.length, side > 7 * size ? 3 : 2);
      const rows = Math.min(Math.ceil(Math.min(mem.length, 4) / cols), side > 6 * size ? 2 : 1);
      const count = Math.min(mem.length, cols * rows);
      const w = cols * size + (cols - 1) * 2;
      const hh = rows * size + (rows - 1) * 2;
      const box = { x: this.cx[i] - w / 2, y: this.cy[i] - hh / 2 + 7, w, h: hh };
      if (!this.cellHolds(i, box)) continue;
      for (let k = 0; k < count; k++) {
        const x = box.x + (k % cols) * (size + 2);
        const y = box.y + Math.floor(k / cols) * (size + 2);
        const img = media.image(mem[k]);
        if (img) {
          drawCover(g, img, x, y, size);
          this.thumbBoxes.push({ x, y, w: size, h: size, id: mem[k] });
        } else {
          g.fillStyle = rgba(this.app.pal.bg, 0.5);
          g.fillRect(x, y, size, size);
        }
      }
      out.push(box);
    }
    return out;
  }

  /**
   * List ids (and sizes) in the cells they fit in, avoiding the thumbnails.
   * @param {CanvasRenderingContext2D} g
   * @param {Box[]} obstacles
   * @param {(i: number) => boolean} want
   */
  drawCellLabels(g, obstacles, want) {
    const order = [];
    for (let i = 0; i < this.ov.nlist; i++) if (want(i) && this.area[i] >= 900) order.push(i);
    order.sort((a, b) => this.area[b] - this.area[a]);
    /** @type {LabelSpec[]} */
    const specs = [];
    for (const i of order.slice(0, 400)) {
      const fill = this.sizeColor(i);
      const color = luminance(fill) < 0.5 ? 'rgba(255,255,255,0.95)' : 'rgba(20,28,40,0.88)';
      const text = this.area[i] > 3600 ? `${i} · ${fmtInt(this.ov.sizes[i])}` : String(i);
      const half = Math.sqrt(this.area[i]) / 3;
      specs.push({
        x: this.cx[i],
        y: this.cy[i],
        text,
        color,
        size: 10,
        weight: 600,
        halo: fill, // the label reads on its own cell
        offsets: [
          [0, 0],
          [0, -half],
          [0, half],
        ],
        fits: (box) => this.cellHolds(i, box),
      });
    }
    this.drawLabels(g, specs, obstacles);
  }

  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const app = this.app;
    const pal = app.pal;
    const sel = app.selList;
    if (sel >= 0 && sel < this.ov.nlist) {
      g.beginPath();
      if (this.cellPath(g, sel)) {
        g.strokeStyle = pal.select;
        g.lineWidth = 3;
        g.stroke();
      }
    }
    const hov = app.hover;
    if (hov && hov.kind === 'list' && hov.list != null) {
      g.beginPath();
      if (this.cellPath(g, hov.list)) {
        g.fillStyle = rgba(pal.fg, 0.1);
        g.fill();
        g.strokeStyle = pal.fg;
        g.lineWidth = 2;
        g.stroke();
      }
    }
  }

  /**
   * @param {number} x
   * @param {number} y
   * @returns {HitItem | null}
   */
  hit(x, y) {
    const i = this.grid.find(x, y);
    return i >= 0 ? { key: `list:${i}`, kind: 'list', list: i } : null;
  }

  /** @param {number} list */
  members(list) {
    return this.ov.memIds.subarray(this.ov.memOff[list], this.ov.memOff[list + 1]);
  }

  /**
   * Extra tooltip lines (the coarse view adds the probe rank).
   * @param {number} _list
   * @returns {HTMLElement | null}
   */
  tooltipExtra(_list) {
    return null;
  }

  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== 'list' || item.list == null) return null;
    const list = item.list;
    const app = this.app;
    const mem = this.members(list);
    /** @type {HTMLElement[]} */
    const extra = [];
    const more = this.tooltipExtra(list);
    if (more) extra.push(more);
    if (mem.length && app.media.shows()) {
      const thumbs = h('div', 'feder-tt-thumbs');
      for (let i = 0; i < Math.min(mem.length, MEMBER_THUMBS); i++) thumbs.appendChild(app.media.thumb(mem[i], { size: 44 }));
      extra.push(thumbs);
    }
    const size = this.ov.sizes[list];
    return card({
      title: `List ${list}`,
      subtitle: plural(size, 'vector'),
      extra,
      note: size === 0 ? 'empty list' : mem.length && app.media.shows() ? this.memberNote(list) : null,
    });
  }

  /**
   * How the members shown were chosen (a sample of each list when lists are large).
   * @param {number} list
   */
  memberNote(list) {
    const sample = Number(this.ov.facts.member_sample) || 0;
    return sample && this.ov.sizes[list] > sample
      ? `nearest to the centroid among the list's first ${sample} vectors`
      : 'members nearest to the centroid first';
  }

  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== 'list' || item.list == null || this.app.selList === item.list) {
      this.app.select([], -1);
      return;
    }
    const mem = this.members(item.list);
    const ids = [];
    for (let i = 0; i < mem.length; i++) ids.push(mem[i]);
    this.app.select(ids, item.list);
  }

  selectionSection() {
    const app = this.app;
    const list = app.selList;
    if (list < 0 || list >= this.ov.nlist) {
      const s = section('Selection');
      s.appendChild(h('p', 'feder-muted', 'Click a cell to see its list.'));
      return s;
    }
    const s = section(`List ${list}`);
    s.appendChild(h('p', null, `${plural(this.ov.sizes[list], 'vector')}; ${this.memberNote(list)}:`));
    const grid = h('div', 'feder-grid');
    const mem = this.members(list);
    const n = Math.min(mem.length, DETAIL_THUMBS);
    for (let i = 0; i < n; i++) grid.appendChild(idCard(app, mem[i], [app.idText(mem[i])], 56));
    if (!n) grid.appendChild(h('p', 'feder-muted', 'This list is empty.'));
    s.appendChild(grid);
    return s;
  }

  legend() {
    const pal = this.app.pal;
    const wrap = h('div', 'feder-legend');
    const bar = h('div', 'feder-legend-bar');
    const stops = [];
    for (let i = 0; i <= 8; i++) stops.push(ramp(pal.size, 0.08 + (0.92 * i) / 8));
    bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
    const labels = h('div', 'feder-legend-labels');
    labels.appendChild(h('span', null, fmtInt(this.sizeLo)));
    labels.appendChild(h('span', null, 'vectors per list'));
    labels.appendChild(h('span', null, fmtInt(this.sizeHi)));
    wrap.appendChild(bar);
    wrap.appendChild(labels);
    return wrap;
  }

  panel() {
    const f = this.ov.facts;
    const s = this.search;
    const box = h('div');
    const sec = section('IVF index');
    const largest = f.largest_list || {};
    const smallest = f.smallest_list || {};
    sec.appendChild(
      factsTable([
        ['index', f.index || 'IVF_FLAT'],
        ['source', f.source],
        ['metric', f.metric],
        ['dimension', fmtInt(f.dim)],
        ['vectors', fmtInt(f.ntotal)],
        ['lists (nlist)', fmtInt(f.nlist)],
        ['nprobe in the file', f.nprobe != null ? fmtInt(f.nprobe) : null],
        ['nprobe of this search', s && s.params.nprobe != null ? fmtInt(s.params.nprobe) : null],
        ['largest list', largest.list >= 0 ? `#${largest.list} · ${fmtInt(largest.size)}` : '—'],
        ['smallest list', smallest.list >= 0 ? `#${smallest.list} · ${fmtInt(smallest.size)}` : '—'],
        ['empty lists', fmtInt(f.empty_lists)],
      ]),
    );
    sec.appendChild(this.legend());
    box.appendChild(sec);
    box.appendChild(this.selectionSection());
    return box;
  }

  /**
   * @param {number} [limit]
   * @returns {import('./scene.js').Target[]}
   */
  targets(limit = 20) {
    const order = [];
    for (let i = 0; i < this.ov.nlist; i++) order.push(i);
    order.sort((a, b) => this.area[b] - this.area[a]);
    return order
      .slice(0, limit)
      .filter((i) => this.grid.find(this.cx[i], this.cy[i]) === i)
      .map((i) => ({ x: this.cx[i], y: this.cy[i], kind: 'list', list: i }));
  }
}

/**
 * Draw `img` into a size × size square, cropped to fill it.
 * @param {CanvasRenderingContext2D} g
 * @param {HTMLImageElement} img
 * @param {number} x
 * @param {number} y
 * @param {number} size
 */
export function drawCover(g, img, x, y, size) {
  const iw = img.naturalWidth;
  const ih = img.naturalHeight;
  const s = Math.min(iw, ih);
  g.drawImage(img, (iw - s) / 2, (ih - s) / 2, s, s, x, y, size, size);
}

