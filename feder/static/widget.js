// feder front end: one hand-written, self-contained ES module (no imports), Canvas 2D.
//
// anywidget calls `render({ model, el })`; the standalone HTML report calls the same function
// with a small model shim. Payloads are described in feder/serialize.py: every array is
// {dtype, shape, data} with `data` a DataView on a binary buffer. Geometry comes ready from
// Python; this file only scales it, draws it and handles interaction.
//
// Safety: ids, URLs, file names and texts only ever reach the DOM through textContent or DOM
// properties, never innerHTML.

const TAU = Math.PI * 2;
const TOOLTIP_THUMBS = 8;
const DETAIL_THUMBS = 24;
const PANEL_LIST_ROWS = 40;
const PANEL_WIDTH = 260; // keep in sync with feder/session.py _PANEL_WIDTH
const HEADER_HEIGHT = 40;
const MIN_DRAWING = 420;

// ---------------------------------------------------------------- typed arrays from payloads

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
};

/** A typed array over `{dtype, shape, data}`: zero-copy when `data`'s byteOffset is aligned to
 * the element size, otherwise a copy (packed buffers can start at any byte). */
function typed(a) {
  if (a == null) return null;
  const C = CTORS[a.dtype];
  if (!C) throw new Error(`feder: unsupported dtype ${String(a.dtype)}`);
  const d = a.data;
  let buffer;
  let offset = 0;
  let length;
  if (d instanceof ArrayBuffer) {
    buffer = d;
    length = d.byteLength;
  } else if (d && ArrayBuffer.isView(d)) {
    buffer = d.buffer;
    offset = d.byteOffset;
    length = d.byteLength;
  } else if (Array.isArray(d)) {
    return new C(d);
  } else {
    return new C(0);
  }
  const size = C.BYTES_PER_ELEMENT;
  const count = Math.floor(length / size);
  if (offset % size === 0) return new C(buffer, offset, count);
  return new C(buffer.slice(offset, offset + count * size));
}

// ---------------------------------------------------------------------------- small helpers

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = String(text);
  return e;
}

function clamp(x, lo, hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

function fmtInt(n) {
  if (n == null || n === '') return '—';
  const x = Number(n);
  return Number.isFinite(x) ? x.toLocaleString('en-US') : String(n);
}

function fmtId(x) {
  return String(Math.round(Number(x)));
}

function fmtDist(x) {
  if (x == null) return '—';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  return x.toFixed(3);
}

function plural(n, one, many) {
  return `${fmtInt(n)} ${n === 1 ? one : many || one + 's'}`;
}

// Colours: canvas needs concrete values; CSS custom properties give the theme's base colours.
const colorCache = new Map();
let colorCtx = null;

function parseColor(c) {
  const hit = colorCache.get(c);
  if (hit) return hit;
  if (!colorCtx) colorCtx = document.createElement('canvas').getContext('2d');
  colorCtx.fillStyle = '#000000';
  colorCtx.fillStyle = c;
  const s = colorCtx.fillStyle;
  let out;
  if (s[0] === '#') {
    out = [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16), 1];
  } else {
    const m = s.match(/[\d.]+/g) || ['0', '0', '0', '1'];
    out = [Number(m[0]), Number(m[1]), Number(m[2]), m.length > 3 ? Number(m[3]) : 1];
  }
  colorCache.set(c, out);
  return out;
}

function rgba(c, a) {
  const [r, g, b] = parseColor(c);
  return `rgba(${r},${g},${b},${a})`;
}

function mix(c1, c2, t) {
  const a = parseColor(c1);
  const b = parseColor(c2);
  const f = (i) => Math.round(a[i] + (b[i] - a[i]) * t);
  return `rgb(${f(0)},${f(1)},${f(2)})`;
}

function ramp(stops, t) {
  const x = clamp(t, 0, 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  return mix(stops[i], stops[i + 1], x - i);
}

function luminance(c) {
  const [r, g, b] = parseColor(c);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

const PALETTES = {
  light: {
    cat: ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#d4a20f',
      '#ff9da7', '#9c755f', '#7f7f7f'],
    levels: ['#4e79a7', '#59a14f', '#d4a20f', '#f28e2b', '#e15759', '#b07aa1', '#9c755f',
      '#76b7b2'],
    rankRamp: ['#d62f45', '#f07d2a', '#d9b01c', '#5ba84a', '#2f9e9a', '#3f6fc0', '#7a5bb5'],
    size: ['#e8f0fa', '#c3d7f0', '#8cb2e0', '#5588c8', '#2f63a8', '#1b3f74'],
    quiet: ['#f1f3f5', '#d9dee4'],
    empty: '#fafbfc',
    query: '#d6336c',
    select: '#f08c00',
    plane: 'rgba(78,121,167,0.06)',
    planeEdge: 'rgba(60,80,110,0.28)',
  },
  dark: {
    cat: ['#6b9bd2', '#ffa54f', '#ff6b6e', '#7cc46e', '#c99bd0', '#8fd3cd', '#f5d85e',
      '#ffb3bb', '#c49a7e', '#b0b0b0'],
    levels: ['#6b9bd2', '#7cc46e', '#f5d85e', '#ffa54f', '#ff6b6e', '#c99bd0', '#c49a7e',
      '#8fd3cd'],
    rankRamp: ['#ff6b6e', '#ffa54f', '#f5d85e', '#7cc46e', '#5fd0c8', '#6b9bd2', '#b59be0'],
    size: ['#1b2230', '#1e3550', '#244f78', '#2c6ca2', '#4b92cc', '#82c0f0'],
    quiet: ['#1f242c', '#2d343f'],
    empty: '#171a20',
    query: '#ff6b9a',
    select: '#ffb02e',
    plane: 'rgba(107,155,210,0.07)',
    planeEdge: 'rgba(160,185,220,0.30)',
  },
};

// ------------------------------------------------------------------------------ hit testing

/** Uniform grid over screen points: nearest point within a radius in O(1) buckets. */
class PointGrid {
  constructor(xs, ys, radii, width, height, cell = 24) {
    const n = xs.length;
    this.xs = xs;
    this.ys = ys;
    this.radii = radii;
    this.cell = cell;
    this.gx = Math.max(1, Math.ceil(width / cell));
    this.gy = Math.max(1, Math.ceil(height / cell));
    const bucket = new Int32Array(n);
    const counts = new Int32Array(this.gx * this.gy + 1);
    for (let i = 0; i < n; i++) {
      const b = this.bucketOf(xs[i], ys[i]);
      bucket[i] = b;
      counts[b + 1]++;
    }
    for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
    const fill = counts.slice(0, -1);
    const items = new Int32Array(n);
    for (let i = 0; i < n; i++) items[fill[bucket[i]]++] = i;
    this.offsets = counts;
    this.items = items;
  }

  bucketOf(x, y) {
    const cx = clamp(Math.floor(x / this.cell), 0, this.gx - 1);
    const cy = clamp(Math.floor(y / this.cell), 0, this.gy - 1);
    return cy * this.gx + cx;
  }

  /** Index of the point whose edge is nearest to (x, y) within `reach` px, later points win
   * ties (they are drawn on top); −1 when none. */
  nearest(x, y, reach) {
    const span = Math.ceil((reach + 8) / this.cell);
    const cx = Math.floor(x / this.cell);
    const cy = Math.floor(y / this.cell);
    let best = -1;
    let bestScore = Infinity;
    for (let by = Math.max(0, cy - span); by <= Math.min(this.gy - 1, cy + span); by++) {
      for (let bx = Math.max(0, cx - span); bx <= Math.min(this.gx - 1, cx + span); bx++) {
        const b = by * this.gx + bx;
        for (let k = this.offsets[b]; k < this.offsets[b + 1]; k++) {
          const i = this.items[k];
          const dx = this.xs[i] - x;
          const dy = this.ys[i] - y;
          const score = Math.sqrt(dx * dx + dy * dy) - (this.radii ? this.radii[i] : 0);
          if (score <= reach && (score < bestScore || (score === bestScore && i > best))) {
            best = i;
            bestScore = score;
          }
        }
      }
    }
    return best;
  }
}

/** Bounding boxes in a grid, each box's polygon tested exactly (convex or not). */
class PolygonGrid {
  constructor(xy, offsets, width, height, cell = 32) {
    this.xy = xy;
    this.offsets = offsets;
    this.cell = cell;
    this.gx = Math.max(1, Math.ceil(width / cell));
    this.gy = Math.max(1, Math.ceil(height / cell));
    const buckets = Array.from({ length: this.gx * this.gy }, () => []);
    const p = offsets.length - 1;
    for (let i = 0; i < p; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      if (b - a < 3) continue;
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (let k = a; k < b; k++) {
        const x = xy[2 * k];
        const y = xy[2 * k + 1];
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
      const bx0 = clamp(Math.floor(x0 / cell), 0, this.gx - 1);
      const bx1 = clamp(Math.floor(x1 / cell), 0, this.gx - 1);
      const by0 = clamp(Math.floor(y0 / cell), 0, this.gy - 1);
      const by1 = clamp(Math.floor(y1 / cell), 0, this.gy - 1);
      for (let by = by0; by <= by1; by++) {
        for (let bx = bx0; bx <= bx1; bx++) buckets[by * this.gx + bx].push(i);
      }
    }
    this.buckets = buckets;
  }

  find(x, y) {
    const bx = Math.floor(x / this.cell);
    const by = Math.floor(y / this.cell);
    if (bx < 0 || by < 0 || bx >= this.gx || by >= this.gy) return -1;
    const list = this.buckets[by * this.gx + bx];
    for (let j = list.length - 1; j >= 0; j--) {
      if (this.contains(list[j], x, y)) return list[j];
    }
    return -1;
  }

  contains(i, x, y) {
    const { xy, offsets } = this;
    const a = offsets[i];
    const b = offsets[i + 1];
    let inside = false;
    for (let k = a, prev = b - 1; k < b; prev = k++) {
      const xk = xy[2 * k];
      const yk = xy[2 * k + 1];
      const xp = xy[2 * prev];
      const yp = xy[2 * prev + 1];
      if ((yk > y) !== (yp > y) && x < ((xp - xk) * (y - yk)) / (yp - yk) + xk) inside = !inside;
    }
    return inside;
  }
}

// ---------------------------------------------------------------------------- canvas helpers

function circlePath(g, x, y, r) {
  g.moveTo(x + r, y);
  g.arc(x, y, r, 0, TAU);
}

function haloText(g, text, x, y, fill, halo, width = 3) {
  g.lineJoin = 'round';
  g.lineWidth = width;
  g.strokeStyle = halo;
  g.strokeText(text, x, y);
  g.fillStyle = fill;
  g.fillText(text, x, y);
}

function drawQuery(g, app, x, y, label = true, side = 'right') {
  const pal = app.pal;
  g.beginPath();
  circlePath(g, x, y, 13);
  g.fillStyle = rgba(pal.query, 0.16);
  g.fill();
  g.beginPath();
  g.moveTo(x - 18, y);
  g.lineTo(x - 9, y);
  g.moveTo(x + 9, y);
  g.lineTo(x + 18, y);
  g.moveTo(x, y - 18);
  g.lineTo(x, y - 9);
  g.moveTo(x, y + 9);
  g.lineTo(x, y + 18);
  g.strokeStyle = pal.query;
  g.lineWidth = 1.5;
  g.stroke();
  g.beginPath();
  circlePath(g, x, y, 6);
  g.fillStyle = pal.query;
  g.fill();
  g.lineWidth = 2;
  g.strokeStyle = pal.bg;
  g.stroke();
  if (label) {
    g.font = app.font(11, 600);
    g.textAlign = side === 'left' ? 'right' : 'left';
    g.textBaseline = 'middle';
    haloText(g, 'query', side === 'left' ? x - 14 : x + 14, y - 13, pal.query, pal.bg);
  }
}

function badge(g, app, x, y, text, fill, r = 9) {
  g.beginPath();
  circlePath(g, x, y, r);
  g.fillStyle = fill;
  g.fill();
  g.lineWidth = 1.5;
  g.strokeStyle = app.pal.bg;
  g.stroke();
  g.font = app.font(r > 8 ? 10 : r > 7 ? 9 : 8, 700);
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillStyle = luminance(fill) > 0.6 ? '#1b1f24' : '#ffffff';
  g.fillText(text, x, y + 0.5);
}

/** Rank numbers (1-based) next to emphasised points, pushed away from (ox, oy) and from
 * labels already placed, so dense top-k clusters stay readable. */
function rankLabels(g, app, nodes, sx, sy, ox, oy) {
  const pal = app.pal;
  g.font = app.font(11, 700);
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  const placed = [];
  for (let t = 0; t < nodes.length; t++) {
    const i = nodes[t];
    if (i < 0) continue;
    let dx = sx[i] - ox;
    let dy = sy[i] - oy;
    const d = Math.sqrt(dx * dx + dy * dy);
    if (d < 1e-6) {
      dx = 0.7;
      dy = -0.7;
    } else {
      dx /= d;
      dy /= d;
    }
    let best = null;
    // Try a few angles around the outward direction and a couple of distances.
    for (const dist of [13, 20, 27]) {
      for (const turn of [0, 0.6, -0.6, 1.2, -1.2, 1.9, -1.9, 2.6, -2.6, Math.PI]) {
        const c = Math.cos(turn);
        const sn = Math.sin(turn);
        const x = sx[i] + (dx * c - dy * sn) * dist;
        const y = sy[i] + (dx * sn + dy * c) * dist;
        let ok = true;
        for (const [px, py] of placed) {
          if (Math.abs(px - x) < 12 && Math.abs(py - y) < 12) {
            ok = false;
            break;
          }
        }
        if (ok) {
          best = [x, y];
          break;
        }
      }
      if (best) break;
    }
    if (!best) continue;
    placed.push(best);
    haloText(g, String(t + 1), best[0], best[1], pal.fg, pal.bg);
  }
}

function arrowHead(g, x0, y0, x1, y1, size) {
  const a = Math.atan2(y1 - y0, x1 - x0);
  g.moveTo(x1, y1);
  g.lineTo(x1 - size * Math.cos(a - 0.45), y1 - size * Math.sin(a - 0.45));
  g.lineTo(x1 - size * Math.cos(a + 0.45), y1 - size * Math.sin(a + 0.45));
  g.closePath();
}

/** Distance labels for rings of a radial layout: the radius is linear in a transform of the
 * distance (sqrt for squared L2, max − x for inner products, identity otherwise); the two
 * extreme points give the line, so no layout constant is repeated here. */
function ringScale(radii, distances, transform) {
  const n = Math.min(radii.length, distances.length);
  if (!n) return null;
  let dmax = -Infinity;
  for (let i = 0; i < n; i++) if (distances[i] > dmax) dmax = distances[i];
  const fwd = (d) => (transform === 'sqrt' ? Math.sqrt(Math.max(d, 0)) : transform === 'neg' ? dmax - d : d);
  const inv = (t) => (transform === 'sqrt' ? t * t : transform === 'neg' ? dmax - t : t);
  let iLo = 0;
  let iHi = 0;
  for (let i = 1; i < n; i++) {
    const t = fwd(distances[i]);
    if (t < fwd(distances[iLo])) iLo = i;
    if (t > fwd(distances[iHi])) iHi = i;
  }
  const r0 = radii[iLo];
  const r1 = radii[iHi];
  const t0 = fwd(distances[iLo]);
  const t1 = fwd(distances[iHi]);
  if (!(r1 > r0) || !(t1 > t0)) return null;
  return { r0, r1, at: (r) => inv(t0 + ((r - r0) / (r1 - r0)) * (t1 - t0)) };
}

function drawRings(g, app, cx, cy, R, scale, labelAngle, zoom = 1) {
  const pal = app.pal;
  g.save();
  g.strokeStyle = rgba(pal.fg, 0.1);
  g.lineWidth = 1;
  g.setLineDash([2, 4]);
  const fracs = [0.25, 0.5, 0.75, 1];
  for (const f of fracs) {
    g.beginPath();
    circlePath(g, cx, cy, f * R);
    g.stroke();
  }
  g.setLineDash([]);
  if (scale) {
    g.font = app.font(10);
    g.textAlign = 'left';
    g.textBaseline = 'top';
    const ca = Math.cos(labelAngle);
    const sa = Math.sin(labelAngle);
    for (const f of fracs) {
      const r = f / zoom; // radius in layout units
      if (r < scale.r0) continue;
      const d = scale.at(r);
      haloText(g, fmtDist(d), cx + ca * f * R + 4, cy + sa * f * R + 2, pal.muted, pal.bg);
    }
  }
  g.restore();
}

// ------------------------------------------------------------------------------------ media

const SAFE_URL = /^(https?:|data:image\/|blob:)/i;

/** Thumbnails for ids: items from the `media` trait, more asked from Python on demand. */
class MediaStore {
  constructor(app) {
    this.app = app;
    this.items = new Map();
    this.urls = new Map();
    this.pending = new Set();
    this.queue = new Set();
    this.waiting = new Map();
    this.type = null;
    this.enabled = false;
    this.timer = 0;
  }

  load(media) {
    this.revoke();
    this.items.clear();
    this.pending.clear();
    this.type = media && media.media_type ? String(media.media_type) : null;
    this.enabled = !!this.type;
    const items = (media && media.items) || {};
    for (const key of Object.keys(items)) this.items.set(key, items[key]);
  }

  /** Whether there is any media to show (else thumbnails are left out altogether). */
  shows() {
    return this.enabled || this.items.size > 0;
  }

  revoke() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }

  key(id) {
    return fmtId(id);
  }

  /** Python's answer to a request: `{type: "media", items: {id: item with "buffer": i}}`. */
  receive(msg, buffers) {
    if (!msg || msg.type !== 'media' || !msg.items) return;
    for (const key of Object.keys(msg.items)) {
      let item = msg.items[key];
      if (item && item.buffer != null && buffers && buffers[item.buffer]) {
        item = Object.assign({}, item, { data: buffers[item.buffer] });
      }
      this.pending.delete(key);
      const old = this.urls.get(key);
      if (old) {
        URL.revokeObjectURL(old);
        this.urls.delete(key);
      }
      this.items.set(key, item);
      const waiting = this.waiting.get(key);
      if (waiting) {
        this.waiting.delete(key);
        for (const [box, opts] of waiting) if (box.isConnected) this.fill(box, key, item, opts);
      }
    }
    this.app.stage.refreshTooltip(); // its text (a file name) may depend on the new items
  }

  request(key) {
    if (!this.enabled || this.items.has(key) || this.pending.has(key)) return;
    this.pending.add(key);
    this.queue.add(key);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        const ids = [];
        for (const k of this.queue) ids.push(Number(k));
        this.queue.clear();
        if (ids.length) {
          try {
            this.app.model.send({ type: 'media', ids });
          } catch (err) {
            // no kernel (static page): placeholders stay
          }
        }
      }, 20);
    }
  }

  urlFor(key, item) {
    if (!item) return null;
    if (item.kind === 'image' && item.data) {
      let url = key != null ? this.urls.get(key) : null;
      if (!url) {
        const mime = typeof item.mime === 'string' && /^image\/[\w.+-]+$/.test(item.mime) ? item.mime : 'image/png';
        url = URL.createObjectURL(new Blob([item.data], { type: mime }));
        if (key != null) this.urls.set(key, url);
        else this.app.looseUrls.push(url);
      }
      return url;
    }
    if (item.kind === 'url' && typeof item.url === 'string' && SAFE_URL.test(item.url)) return item.url;
    return null;
  }

  /** A thumbnail box for an id (image, text card or placeholder that fills in later). */
  thumb(id, opts = {}) {
    const key = this.key(id);
    const box = h('div', 'feder-thumb');
    if (opts.size) {
      box.style.width = `${opts.size}px`;
      box.style.height = opts.text ? 'auto' : `${opts.size}px`;
    }
    const item = this.items.get(key);
    if (item) {
      this.fill(box, key, item, opts);
    } else {
      this.placeholder(box, key, this.enabled ? '…' : '');
      if (this.enabled) {
        if (!this.waiting.has(key)) this.waiting.set(key, []);
        this.waiting.get(key).push([box, opts]);
        this.request(key);
      }
    }
    return box;
  }

  thumbItem(item, opts = {}) {
    const box = h('div', 'feder-thumb');
    if (opts.size) {
      box.style.width = `${opts.size}px`;
      box.style.height = opts.text ? 'auto' : `${opts.size}px`;
    }
    this.fill(box, null, item, opts);
    return box;
  }

  fill(box, key, item, opts) {
    box.replaceChildren();
    box.classList.remove('feder-thumb-missing', 'feder-thumb-text');
    if (!item) {
      this.placeholder(box, key, '');
      return;
    }
    if (item.kind === 'text') {
      box.classList.add('feder-thumb-text');
      if (opts.size) box.style.height = 'auto';
      const text = String(item.text == null ? '' : item.text);
      const limit = opts.full ? 600 : 140;
      box.textContent = text.length > limit ? `${text.slice(0, limit)}…` : text;
      return;
    }
    const url = this.urlFor(key, item);
    if (url) {
      const img = document.createElement('img');
      img.alt = key != null ? `id ${key}` : 'query';
      img.draggable = false;
      img.decoding = 'async';
      img.src = url;
      box.appendChild(img);
      return;
    }
    this.placeholder(box, key, '', item.kind === 'missing' ? String(item.reason || 'missing') : '');
  }

  placeholder(box, key, mark, reason) {
    box.classList.add('feder-thumb-missing');
    const span = h('span', null, mark || (key != null ? `#${key}` : '—'));
    box.appendChild(span);
    if (reason) box.title = reason;
  }
}

// ------------------------------------------------------------------------------ DOM pieces

function factsTable(rows) {
  const table = h('dl', 'feder-facts');
  for (const [label, value] of rows) {
    if (value == null || value === '') continue;
    table.appendChild(h('dt', null, label));
    table.appendChild(h('dd', null, value));
  }
  return table;
}

function section(title) {
  const s = h('section', 'feder-section');
  if (title) s.appendChild(h('h3', null, title));
  return s;
}

function swatch(color) {
  const s = h('span', 'feder-swatch');
  s.style.background = color;
  return s;
}

/** The file name of an id's image (a muted line, textContent only), or nothing. */
function nameLine(app, id) {
  const item = app.media.items.get(fmtId(id));
  if (!item || typeof item.name !== 'string' || !item.name) return null;
  const line = h('div', 'feder-muted feder-small feder-name', item.name);
  line.title = item.name;
  return line;
}

function captioned(app, id, caption, size, onClick) {
  const card = h('figure', 'feder-card');
  if (app.media.shows()) card.appendChild(app.media.thumb(id, { size }));
  else card.classList.add('feder-card-bare');
  const cap = h('figcaption');
  for (const line of caption) cap.appendChild(h('span', null, line));
  card.appendChild(cap);
  if (onClick) {
    card.tabIndex = 0;
    card.addEventListener('click', onClick);
  }
  return card;
}

// ----------------------------------------------------------------------------- data decoding

function decodeIVFOverview(p) {
  const sizes = typed(p.sizes);
  return {
    kind: 'ivf_overview',
    box: Array.isArray(p.box) ? p.box : [800, 500],
    cellXY: typed(p.cells.xy),
    cellOff: typed(p.cells.offsets),
    centers: typed(p.centers),
    sizes,
    memIds: typed(p.members.ids),
    memOff: typed(p.members.offsets),
    nlist: sizes.length,
    facts: p.facts || {},
  };
}

function decodeIVFSearch(p) {
  const fine = p.fine || {};
  const coarse = p.coarse || {};
  const s = {
    kind: 'ivf_search',
    metric: p.metric,
    params: p.params || {},
    probed: typed(coarse.lists),
    probedDist: typed(coarse.distances),
    allDist: typed(coarse.all_distances),
    queryXY: coarse.query_xy || [0, 0],
    ids: typed(fine.ids),
    lists: typed(fine.lists),
    dist: typed(fine.distances),
    rank: typed(fine.rank),
    polar: typed(fine.polar_xy),
    sectorLists: fine.sectors ? typed(fine.sectors.lists) : new Int32Array(0),
    sectorStart: fine.sectors ? typed(fine.sectors.start) : new Float32Array(0),
    sectorEnd: fine.sectors ? typed(fine.sectors.end) : new Float32Array(0),
    projection: null,
    resultIds: p.results ? typed(p.results.ids) : new Float64Array(0),
    resultDist: p.results ? typed(p.results.distances) : new Float32Array(0),
    target: p.target || {},
  };
  if (fine.projection) {
    s.projection = {
      method: String(fine.projection.method || 'projection'),
      xy: typed(fine.projection.xy),
      queryXY: fine.projection.query_xy || [0.5, 0.5],
    };
  }
  // Probe rank of every list (colour), candidates per probed list, top-k positions.
  s.probeRank = new Map();
  for (let i = 0; i < s.probed.length; i++) s.probeRank.set(s.probed[i], i);
  s.perList = new Map();
  for (let i = 0; i < s.lists.length; i++) s.perList.set(s.lists[i], (s.perList.get(s.lists[i]) || 0) + 1);
  const k = s.rank.length;
  let top = [];
  for (let i = 0; i < k; i++) if (s.rank[i] >= 0) top.push(i);
  top.sort((a, b) => s.rank[a] - s.rank[b]);
  s.top = top;
  s.byId = null;
  return s;
}

function decodeHNSWOverview(p) {
  const nodes = p.nodes || {};
  return {
    kind: 'hnsw_overview',
    ids: typed(nodes.ids),
    xy: typed(nodes.xy),
    top: typed(nodes.top_level),
    levels: (p.levels || []).map((l) => ({ level: l.level, src: typed(l.src), dst: typed(l.dst) })),
    // Optional: per node, the greedy route from the entry point (CSR of node indices + levels).
    pathOffsets: p.paths ? typed(p.paths.offsets) : null,
    pathNodes: p.paths ? typed(p.paths.nodes) : null,
    pathLevels: p.paths ? typed(p.paths.levels) : null,
    facts: p.facts || {},
  };
}

function decodeHNSWSearch(p) {
  const ev = p.events || {};
  const nodes = p.nodes || {};
  const res = p.results || {};
  const s = {
    kind: 'hnsw_search',
    metric: p.metric,
    params: p.params || {},
    ids: typed(nodes.ids),
    xy: typed(nodes.xy),
    dist: typed(nodes.distances),
    evLevel: typed(ev.level),
    evSrc: typed(ev.src),
    evDst: typed(ev.dst),
    evOut: typed(ev.outcome),
    evEvict: typed(ev.evicted),
    levels: (p.levels || []).map((l) => Object.assign({}, l)),
    resultIds: typed(res.ids) || new Float64Array(0),
    resultDist: typed(res.distances) || new Float32Array(0),
    resultNodes: typed(res.nodes) || new Int32Array(0),
    target: p.target || {},
  };
  // Events are in search order, level by level (top first): find each level's block and
  // build the timeline: one "enter level" frame per level, then one frame per event.
  const n = s.evLevel.length;
  let e = 0;
  const frameLevel = [];
  const frameEvents = [];
  for (let li = 0; li < s.levels.length; li++) {
    const row = s.levels[li];
    row.start = e;
    while (e < n && s.evLevel[e] === row.level) e++;
    row.end = e;
    frameLevel.push(li);
    frameEvents.push(row.start);
    for (let j = row.start; j < row.end; j++) {
      frameLevel.push(li);
      frameEvents.push(j + 1);
    }
  }
  if (!s.levels.length) {
    frameLevel.push(0);
    frameEvents.push(0);
  }
  s.frameLevel = Int32Array.from(frameLevel);
  s.frameEvents = Int32Array.from(frameEvents);
  s.frames = frameLevel.length;
  s.resultRank = new Map();
  for (let i = 0; i < s.resultNodes.length; i++) s.resultRank.set(s.resultNodes[i], i);
  return s;
}

function decode(payload, want) {
  if (!payload || typeof payload !== 'object' || !payload.kind) return null;
  if (want && payload.kind !== want) return null;
  switch (payload.kind) {
    case 'ivf_overview':
      return decodeIVFOverview(payload);
    case 'ivf_search':
      return decodeIVFSearch(payload);
    case 'hnsw_overview':
      return decodeHNSWOverview(payload);
    case 'hnsw_search':
      return decodeHNSWSearch(payload);
    default:
      return null;
  }
}

// ----------------------------------------------------------------------------------- scenes

class Scene {
  constructor(app) {
    this.app = app;
    this.W = 0;
    this.H = 0;
  }

  layout(W, H) {
    this.W = W;
    this.H = H;
  }

  drawBase() {}

  drawOverlay() {}

  hit() {
    return null;
  }

  tooltip() {
    return null;
  }

  click(item) {
    if (!item) this.app.select([], -1);
  }

  panel() {
    return h('div');
  }

  strip() {
    return null;
  }

  controls() {
    return null;
  }

  targets() {
    return [];
  }

  activate() {}

  deactivate() {}
}

// ---- IVF cluster map (overview and coarse search share it)

class IVFMapScene extends Scene {
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
  }

  layout(W, H) {
    super.layout(W, H);
    const [bw, bh] = this.ov.box;
    const m = 10;
    const s = Math.min((W - 2 * m) / bw, (H - 2 * m) / bh);
    this.scale = s;
    this.ox = (W - bw * s) / 2;
    this.oy = (H - bh * s) / 2;
    const src = this.ov.cellXY;
    const xy = new Float32Array(src.length);
    for (let i = 0; i < src.length; i += 2) {
      xy[i] = this.ox + src[i] * s;
      xy[i + 1] = this.oy + src[i + 1] * s;
    }
    this.xy = xy;
    const c = this.ov.centers;
    this.cx = new Float32Array(this.ov.nlist);
    this.cy = new Float32Array(this.ov.nlist);
    for (let i = 0; i < this.ov.nlist; i++) {
      this.cx[i] = this.ox + c[2 * i] * s;
      this.cy[i] = this.oy + c[2 * i + 1] * s;
    }
    this.grid = new PolygonGrid(xy, this.ov.cellOff, W, H);
    // Screen area of each cell, for deciding which labels fit.
    const off = this.ov.cellOff;
    this.area = new Float32Array(this.ov.nlist);
    for (let i = 0; i < this.ov.nlist; i++) {
      let a = 0;
      for (let k = off[i], p = off[i + 1] - 1; k < off[i + 1]; p = k++) {
        a += xy[2 * p] * xy[2 * k + 1] - xy[2 * k] * xy[2 * p + 1];
      }
      this.area[i] = Math.abs(a) / 2;
    }
  }

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

  sizeT(size) {
    if (this.sizeHi <= this.sizeLo) return 0.5;
    return Math.sqrt((size - this.sizeLo) / (this.sizeHi - this.sizeLo));
  }

  sizeColor(i) {
    const size = this.ov.sizes[i];
    if (size === 0) return this.app.pal.empty;
    return ramp(this.app.pal.size, 0.08 + 0.92 * this.sizeT(size));
  }

  fillCells(g, colorOf, buckets) {
    // Batch cells by colour (quantized) so thousands of cells are a handful of fills.
    const groups = new Map();
    for (let i = 0; i < this.ov.nlist; i++) {
      const c = colorOf(i, buckets);
      if (!c) continue;
      let list = groups.get(c);
      if (!list) groups.set(c, (list = []));
      list.push(i);
    }
    for (const [color, list] of groups) {
      g.beginPath();
      for (const i of list) this.cellPath(g, i);
      g.fillStyle = color;
      g.fill();
    }
  }

  strokeCells(g, color, width) {
    g.beginPath();
    for (let i = 0; i < this.ov.nlist; i++) this.cellPath(g, i);
    g.strokeStyle = color;
    g.lineWidth = width;
    g.lineJoin = 'round';
    g.stroke();
  }

  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const Q = 28;
    this.fillCells(g, (i) => {
      const size = this.ov.sizes[i];
      if (size === 0) return pal.empty;
      const t = Math.round(this.sizeT(size) * Q) / Q;
      return ramp(pal.size, 0.08 + 0.92 * t);
    });
    this.strokeCells(g, pal.bg, 1.5);
    this.drawLabels(g);
  }

  drawLabels(g, skip) {
    const app = this.app;
    const pal = app.pal;
    const many = this.ov.nlist > 600;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    for (let i = 0; i < this.ov.nlist; i++) {
      if (skip && skip(i)) continue;
      const a = this.area[i];
      if (a < (many ? 2600 : 1300)) continue;
      const fill = this.sizeColor(i);
      const dark = luminance(fill) < 0.5;
      g.font = app.font(a > 5000 ? 12 : 10, 600);
      g.fillStyle = dark ? 'rgba(255,255,255,0.92)' : 'rgba(20,28,40,0.82)';
      const big = a > 3600;
      g.fillText(String(i), this.cx[i], this.cy[i] - (big ? 6 : 0));
      if (big) {
        g.font = app.font(10);
        g.fillStyle = dark ? 'rgba(255,255,255,0.7)' : 'rgba(20,28,40,0.6)';
        g.fillText(fmtInt(this.ov.sizes[i]), this.cx[i], this.cy[i] + 7);
      }
    }
  }

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
    if (hov && hov.kind === 'list') {
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

  hit(x, y) {
    const i = this.grid.find(x, y);
    return i >= 0 ? { key: `list:${i}`, kind: 'list', list: i } : null;
  }

  members(list) {
    const a = this.ov.memOff[list];
    const b = this.ov.memOff[list + 1];
    return this.ov.memIds.subarray(a, b);
  }

  tooltipExtra() {
    return null;
  }

  tooltip(item) {
    if (item.kind !== 'list') return null;
    const app = this.app;
    const box = h('div');
    const head = h('div', 'feder-tt-head');
    head.appendChild(h('strong', null, `List ${item.list}`));
    head.appendChild(h('span', 'feder-muted', plural(this.ov.sizes[item.list], 'vector')));
    box.appendChild(head);
    const extra = this.tooltipExtra(item);
    if (extra) box.appendChild(extra);
    const mem = this.members(item.list);
    if (mem.length && app.media.shows()) {
      const thumbs = h('div', 'feder-tt-thumbs');
      const n = Math.min(mem.length, TOOLTIP_THUMBS);
      for (let i = 0; i < n; i++) thumbs.appendChild(app.media.thumb(mem[i], { size: 48 }));
      box.appendChild(thumbs);
      box.appendChild(h('div', 'feder-muted feder-small', 'nearest to the centroid first'));
    } else if (this.ov.sizes[item.list] === 0) {
      box.appendChild(h('div', 'feder-muted feder-small', 'empty list'));
    }
    return box;
  }

  click(item) {
    if (!item || item.kind !== 'list') {
      this.app.select([], -1);
      return;
    }
    if (this.app.selList === item.list) {
      this.app.select([], -1);
      return;
    }
    const ids = [];
    const mem = this.members(item.list);
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
    s.appendChild(h('p', null, `${plural(this.ov.sizes[list], 'vector')}; centroid-nearest members:`));
    const grid = h('div', 'feder-grid');
    const mem = this.members(list);
    const n = Math.min(mem.length, DETAIL_THUMBS);
    for (let i = 0; i < n; i++) grid.appendChild(captioned(app, mem[i], [`id ${fmtId(mem[i])}`], 64));
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
    const box = h('div');
    const s = section('IVF index');
    const largest = f.largest_list || {};
    const smallest = f.smallest_list || {};
    s.appendChild(factsTable([
      ['index', f.index || 'IVF_FLAT'],
      ['source', f.source],
      ['metric', f.metric],
      ['dimension', fmtInt(f.dim)],
      ['vectors', fmtInt(f.ntotal)],
      ['lists (nlist)', fmtInt(f.nlist)],
      ['default nprobe', f.nprobe != null ? fmtInt(f.nprobe) : null],
      ['largest list', largest.list >= 0 ? `#${largest.list} · ${fmtInt(largest.size)}` : '—'],
      ['smallest list', smallest.list >= 0 ? `#${smallest.list} · ${fmtInt(smallest.size)}` : '—'],
      ['empty lists', fmtInt(f.empty_lists)],
    ]));
    s.appendChild(this.legend());
    box.appendChild(s);
    box.appendChild(this.selectionSection());
    return box;
  }

  targets(limit = 20) {
    const out = [];
    const order = [];
    for (let i = 0; i < this.ov.nlist; i++) order.push(i);
    order.sort((a, b) => this.area[b] - this.area[a]);
    for (const i of order.slice(0, limit)) {
      if (this.grid.find(this.cx[i], this.cy[i]) === i) {
        out.push({ x: this.cx[i], y: this.cy[i], kind: 'list', list: i });
      }
    }
    return out;
  }
}

class CoarseScene extends IVFMapScene {
  rankColor(rank) {
    return rankColor(this.app, rank, this.search.probed.length);
  }

  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.search;
    const Q = 16;
    this.fillCells(g, (i) => {
      if (this.ov.sizes[i] === 0) return pal.empty;
      const t = Math.round(this.sizeT(this.ov.sizes[i]) * Q) / Q;
      return ramp(pal.quiet, t);
    });
    for (let r = s.probed.length - 1; r >= 0; r--) {
      g.beginPath();
      if (this.cellPath(g, s.probed[r])) {
        g.fillStyle = rgba(this.rankColor(r), app.theme === 'dark' ? 0.5 : 0.42);
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
    // Lines from the query to the probed cells' centres, then numbered badges.
    const qx = this.ox + s.queryXY[0] * this.scale;
    const qy = this.oy + s.queryXY[1] * this.scale;
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
    // The label goes on the side away from the nearest list's badge.
    const near = s.probed.length ? this.badgeAt(s.probed[0], qx, qy) : [qx - 1, qy];
    drawQuery(g, app, qx, qy, true, near[0] > qx + 4 ? 'left' : 'right');
    for (let r = s.probed.length - 1; r >= 0; r--) {
      const [bx, by] = this.badgeAt(s.probed[r], qx, qy);
      const size = clamp(Math.sqrt(this.area[s.probed[r]]) * 0.28, 6.5, 9);
      badge(g, app, bx, by, String(r + 1), this.rankColor(r), size);
    }
  }

  /** A probed cell's badge sits at its centre, nudged off the query marker when too close. */
  badgeAt(list, qx, qy) {
    const x = this.cx[list];
    const y = this.cy[list];
    const dx = x - qx;
    const dy = y - qy;
    const d = Math.sqrt(dx * dx + dy * dy);
    if (d >= 24) return [x, y];
    if (d < 1e-6) return [qx + 24, qy + 10];
    return [qx + (dx / d) * 24, qy + (dy / d) * 24];
  }

  tooltipExtra(item) {
    const s = this.search;
    const rank = s.probeRank.get(item.list);
    const d = s.allDist && item.list < s.allDist.length ? s.allDist[item.list] : null;
    const line = h('div', 'feder-tt-line');
    if (rank != null) {
      line.appendChild(swatch(this.rankColor(rank)));
      line.appendChild(h('span', null, `probe #${rank + 1} · distance ${fmtDist(d)}`));
    } else {
      line.appendChild(h('span', 'feder-muted', `not probed · distance ${fmtDist(d)}`));
    }
    return line;
  }

  panel() {
    const app = this.app;
    const s = this.search;
    const box = h('div');
    const sec = section('Coarse search');
    sec.appendChild(factsTable([
      ['metric', s.metric],
      ['nprobe', fmtInt(s.params.nprobe != null ? s.params.nprobe : s.probed.length)],
      ['k', s.params.k != null ? fmtInt(s.params.k) : null],
      ['lists compared', fmtInt(s.allDist ? s.allDist.length : this.ov.nlist)],
    ]));
    sec.appendChild(h('p', 'feder-muted feder-small',
      'The query is compared with every centroid; the nprobe nearest lists are scanned.'));
    box.appendChild(sec);
    const probes = section('Probed lists, nearest first');
    const table = h('div', 'feder-rows');
    for (let r = 0; r < s.probed.length && r < PANEL_LIST_ROWS; r++) {
      const l = s.probed[r];
      const row = h('div', 'feder-row');
      row.appendChild(badgeEl(`${r + 1}`, this.rankColor(r)));
      row.appendChild(h('span', 'feder-row-main', `list ${l}`));
      row.appendChild(h('span', 'feder-muted', plural(this.ov.sizes[l], 'vec', 'vecs')));
      row.appendChild(h('span', 'feder-num', fmtDist(s.probedDist[r])));
      const item = { key: `list:${l}`, kind: 'list', list: l };
      row.addEventListener('mouseenter', () => app.setHover(item));
      row.addEventListener('mouseleave', () => app.setHover(null));
      row.addEventListener('click', () => this.click(item));
      table.appendChild(row);
    }
    probes.appendChild(table);
    // The nearest list that was not scanned: how close the cut was.
    if (s.allDist && s.allDist.length > s.probed.length) {
      const ip = s.metric === 'ip';
      let best = -1;
      for (let i = 0; i < s.allDist.length; i++) {
        if (s.probeRank.has(i)) continue;
        if (best < 0 || (ip ? s.allDist[i] > s.allDist[best] : s.allDist[i] < s.allDist[best])) best = i;
      }
      if (best >= 0) {
        probes.appendChild(h('p', 'feder-muted feder-small',
          `Nearest list not probed: list ${best} at ${fmtDist(s.allDist[best])}.`));
      }
    }
    box.appendChild(probes);
    box.appendChild(this.selectionSection());
    return box;
  }

  strip() {
    return resultsStrip(this.app, this.search);
  }

  targets() {
    const s = this.search;
    const out = [];
    for (let r = 0; r < s.probed.length; r++) {
      const l = s.probed[r];
      out.push({ x: this.cx[l], y: this.cy[l], kind: 'list', list: l });
    }
    return out.concat(super.targets());
  }
}

function badgeEl(text, color) {
  const b = h('span', 'feder-badge', text);
  b.style.background = color;
  b.style.color = luminance(color) > 0.6 ? '#1b1f24' : '#ffffff';
  return b;
}

function resultsStrip(app, s) {
  const strip = h('div', 'feder-strip-inner');
  const target = s.target || {};
  if (target.media || (target.id != null && app.media.shows())) {
    const card = h('figure', 'feder-card feder-card-query');
    if (target.media) card.appendChild(app.media.thumbItem(target.media, { size: 72 }));
    else card.appendChild(app.media.thumb(target.id, { size: 72 }));
    const cap = h('figcaption');
    cap.appendChild(h('span', 'feder-strong', 'query'));
    if (target.id != null) cap.appendChild(h('span', null, `id ${fmtId(target.id)}`));
    card.appendChild(cap);
    strip.appendChild(card);
    strip.appendChild(h('div', 'feder-strip-sep'));
  }
  let shown = 0;
  for (let i = 0; i < s.resultIds.length; i++) {
    const id = s.resultIds[i];
    if (id < 0) continue;
    shown++;
    const card = captioned(app, id, [`#${i + 1} · id ${fmtId(id)}`, `d ${fmtDist(s.resultDist[i])}`], 72,
      () => app.select([id], -1));
    card.dataset.rank = String(i);
    if (app.selKeys.has(fmtId(id))) card.classList.add('feder-selected');
    card.addEventListener('mouseenter', () => app.hoverId(id));
    card.addEventListener('mouseleave', () => app.setHover(null));
    strip.appendChild(card);
  }
  if (!shown) strip.appendChild(h('p', 'feder-muted', 'No results.'));
  return strip;
}

// ---- IVF fine search: candidates as points (polar distance view and projection)

class PointsScene extends Scene {
  constructor(app, ov, search) {
    super(app);
    this.ov = ov;
    this.search = search;
    this.m = search.ids.length;
  }

  listColor(list) {
    const r = this.search.probeRank.get(list);
    return r == null ? this.app.pal.quiet[1] : rankColor(this.app, r, this.search.probed.length);
  }

  positions() {
    return new Float32Array(0);
  }

  layout(W, H) {
    super.layout(W, H);
    this.place(W, H);
    const m = this.m;
    const s = this.search;
    this.dotR = m > 3000 ? 1.8 : m > 1000 ? 2.4 : m > 300 ? 3 : 3.6;
    const radii = new Float32Array(m);
    for (let i = 0; i < m; i++) radii[i] = s.rank[i] >= 0 ? 7 : this.dotR;
    // Top-k last so they win ties and are drawn on top.
    this.order = new Int32Array(m);
    let j = 0;
    for (let i = 0; i < m; i++) if (s.rank[i] < 0) this.order[j++] = i;
    for (let t = s.top.length - 1; t >= 0; t--) this.order[j++] = s.top[t];
    const xs = new Float32Array(m);
    const ys = new Float32Array(m);
    const rr = new Float32Array(m);
    for (let k = 0; k < m; k++) {
      const i = this.order[k];
      xs[k] = this.sx[i];
      ys[k] = this.sy[i];
      rr[k] = radii[i];
    }
    this.grid = new PointGrid(xs, ys, rr, W, H);
  }

  drawDots(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.search;
    const groups = new Map();
    for (let i = 0; i < this.m; i++) {
      if (s.rank[i] >= 0) continue;
      const l = s.lists[i];
      let arr = groups.get(l);
      if (!arr) groups.set(l, (arr = []));
      arr.push(i);
    }
    const r = this.dotR;
    g.globalAlpha = 0.78;
    for (const [list, arr] of groups) {
      g.beginPath();
      for (const i of arr) circlePath(g, this.sx[i], this.sy[i], r);
      g.fillStyle = this.listColor(list);
      g.fill();
    }
    g.globalAlpha = 1;
    // Top-k: larger, outlined, numbered (worst first so the best is on top).
    for (let t = s.top.length - 1; t >= 0; t--) {
      const i = s.top[t];
      g.beginPath();
      circlePath(g, this.sx[i], this.sy[i], 6.5);
      g.fillStyle = this.listColor(s.lists[i]);
      g.fill();
      g.lineWidth = 2;
      g.strokeStyle = pal.fg;
      g.stroke();
    }
    const [ox, oy] = this.labelOrigin();
    rankLabels(g, app, s.top, this.sx, this.sy, ox, oy);
  }

  drawOverlay(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.search;
    if (app.selKeys.size) {
      if (!s.byId) {
        s.byId = new Map();
        for (let i = 0; i < this.m; i++) s.byId.set(fmtId(s.ids[i]), i);
      }
      g.beginPath();
      for (const key of app.selKeys) {
        const i = s.byId.get(key);
        if (i != null) circlePath(g, this.sx[i], this.sy[i], s.rank[i] >= 0 ? 10 : 7);
      }
      g.strokeStyle = pal.select;
      g.lineWidth = 2.5;
      g.stroke();
    }
    const hov = app.hover;
    if (hov && hov.kind === 'cand') {
      const i = hov.index;
      this.hoverGuide(g, i);
      g.beginPath();
      circlePath(g, this.sx[i], this.sy[i], s.rank[i] >= 0 ? 10 : 6.5);
      g.strokeStyle = pal.fg;
      g.lineWidth = 2;
      g.stroke();
    } else if (hov && hov.kind === 'list') {
      this.highlightList(g, hov.list);
    }
  }

  hoverGuide() {}

  labelOrigin() {
    return [this.W / 2, this.H / 2];
  }

  highlightList(g, list) {
    const s = this.search;
    g.beginPath();
    for (let i = 0; i < this.m; i++) if (s.lists[i] === list) circlePath(g, this.sx[i], this.sy[i], this.dotR + 2.5);
    g.strokeStyle = this.app.pal.fg;
    g.lineWidth = 1.25;
    g.stroke();
  }

  hit(x, y) {
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const i = this.order[k];
    return { key: `cand:${i}`, kind: 'cand', index: i };
  }

  tooltip(item) {
    if (item.kind === 'list') return null;
    if (item.kind !== 'cand') return null;
    const app = this.app;
    const s = this.search;
    const i = item.index;
    const box = h('div', 'feder-tt-point');
    if (app.media.shows()) box.appendChild(app.media.thumb(s.ids[i], { size: 96, text: app.media.type === 'text', full: true }));
    const info = h('div', 'feder-tt-info');
    const head = h('div', 'feder-tt-head');
    head.appendChild(h('strong', null, `id ${fmtId(s.ids[i])}`));
    if (s.rank[i] >= 0) head.appendChild(badgeEl(`#${s.rank[i] + 1}`, this.app.pal.query));
    info.appendChild(head);
    const nm = nameLine(app, s.ids[i]);
    if (nm) info.appendChild(nm);
    const line = h('div', 'feder-tt-line');
    line.appendChild(h('span', null, `distance ${fmtDist(s.dist[i])}`));
    info.appendChild(line);
    const l2 = h('div', 'feder-tt-line');
    l2.appendChild(swatch(this.listColor(s.lists[i])));
    const pr = s.probeRank.get(s.lists[i]);
    l2.appendChild(h('span', null, `list ${s.lists[i]}${pr != null ? ` (probe #${pr + 1})` : ''}`));
    info.appendChild(l2);
    info.appendChild(h('div', 'feder-muted feder-small', s.rank[i] >= 0 ? `result #${s.rank[i] + 1} of ${s.top.length}` : 'candidate, not in top-k'));
    box.appendChild(info);
    return box;
  }

  click(item) {
    if (!item || item.kind !== 'cand') {
      this.app.select([], -1);
      return;
    }
    const id = this.search.ids[item.index];
    if (this.app.selKeys.size === 1 && this.app.selKeys.has(fmtId(id))) this.app.select([], -1);
    else this.app.select([id], -1);
  }

  hoverId(id) {
    const s = this.search;
    if (!s.byId) {
      s.byId = new Map();
      for (let i = 0; i < this.m; i++) s.byId.set(fmtId(s.ids[i]), i);
    }
    const i = s.byId.get(fmtId(id));
    return i == null ? null : { key: `cand:${i}`, kind: 'cand', index: i };
  }

  panel() {
    const app = this.app;
    const s = this.search;
    const box = h('div');
    const sec = section(this.title);
    sec.appendChild(factsTable([
      ['metric', s.metric],
      ['candidates scanned', fmtInt(this.m)],
      ['lists scanned', fmtInt(s.probed.length)],
      ['k', fmtInt(s.params.k != null ? s.params.k : s.top.length)],
      ...this.extraFacts(),
    ]));
    sec.appendChild(h('p', 'feder-muted feder-small', this.caption));
    box.appendChild(sec);
    const lists = section('Lists');
    const rows = h('div', 'feder-rows');
    for (let r = 0; r < s.probed.length && r < PANEL_LIST_ROWS; r++) {
      const l = s.probed[r];
      const row = h('div', 'feder-row');
      row.appendChild(badgeEl(`${r + 1}`, this.listColor(l)));
      row.appendChild(h('span', 'feder-row-main', `list ${l}`));
      row.appendChild(h('span', 'feder-muted', plural(s.perList.get(l) || 0, 'vec', 'vecs')));
      let inTop = 0;
      for (const i of s.top) if (s.lists[i] === l) inTop++;
      const top = h('span', 'feder-num', inTop ? `${inTop} in top-k` : '');
      row.appendChild(top);
      const item = { key: `list:${l}`, kind: 'list', list: l };
      row.addEventListener('mouseenter', () => app.setHover(item));
      row.addEventListener('mouseleave', () => app.setHover(null));
      rows.appendChild(row);
    }
    lists.appendChild(rows);
    box.appendChild(lists);
    if (app.selKeys.size) {
      const sel = section('Selection');
      const grid = h('div', 'feder-grid');
      let n = 0;
      for (const key of app.selKeys) {
        if (n++ >= DETAIL_THUMBS) break;
        grid.appendChild(captioned(app, Number(key), [`id ${key}`], 64));
      }
      sel.appendChild(grid);
      box.appendChild(sel);
    }
    return box;
  }

  extraFacts() {
    return [];
  }

  strip() {
    return resultsStrip(this.app, this.search);
  }

  targets(limit = 40) {
    const s = this.search;
    const out = [];
    for (const i of s.top) out.push({ x: this.sx[i], y: this.sy[i], kind: 'cand', id: s.ids[i], rank: s.rank[i] });
    for (let i = 0; i < this.m && out.length < limit; i++) {
      if (s.rank[i] < 0) out.push({ x: this.sx[i], y: this.sy[i], kind: 'cand', id: s.ids[i], rank: -1 });
    }
    return out;
  }
}

class FineScene extends PointsScene {
  constructor(app, ov, search) {
    super(app, ov, search);
    this.title = 'Fine search (distance)';
    this.caption = 'Every vector of the probed lists at a radius that grows with its distance to the query; one sector per list.';
  }

  place(W, H) {
    const s = this.search;
    this.cx = W / 2;
    this.cy = H / 2 + 4;
    this.R = Math.max(40, Math.min(W, H) / 2 - 40);
    const m = this.m;
    this.sx = new Float32Array(m);
    this.sy = new Float32Array(m);
    this.radius = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      const x = s.polar[2 * i];
      const y = s.polar[2 * i + 1];
      this.sx[i] = this.cx + x * this.R;
      this.sy[i] = this.cy + y * this.R;
      this.radius[i] = Math.sqrt(x * x + y * y);
    }
    this.scale = ringScale(this.radius, s.dist, s.metric === 'l2' ? 'sqrt' : s.metric === 'ip' ? 'neg' : 'id');
  }

  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.search;
    const { cx, cy, R } = this;
    // Sector wedges.
    for (let j = 0; j < s.sectorLists.length; j++) {
      const color = this.listColor(s.sectorLists[j]);
      g.beginPath();
      g.moveTo(cx, cy);
      g.arc(cx, cy, R, s.sectorStart[j], s.sectorEnd[j]);
      g.closePath();
      g.fillStyle = rgba(color, app.theme === 'dark' ? 0.1 : 0.08);
      g.fill();
      g.beginPath();
      g.arc(cx, cy, R, s.sectorStart[j], s.sectorEnd[j]);
      g.strokeStyle = rgba(color, 0.85);
      g.lineWidth = 3;
      g.stroke();
    }
    drawRings(g, app, cx, cy, R, this.scale, -Math.PI / 2);
    // The top-k boundary: the ring through the worst returned candidate.
    if (s.top.length) {
      const worst = s.top[s.top.length - 1];
      const r = this.radius[worst] * R;
      g.save();
      g.beginPath();
      circlePath(g, cx, cy, r);
      g.setLineDash([6, 4]);
      g.strokeStyle = rgba(pal.query, 0.55);
      g.lineWidth = 1.25;
      g.stroke();
      g.restore();
      g.font = app.font(10, 600);
      g.textAlign = 'left';
      g.textBaseline = 'middle';
      const a = Math.PI / 2 + 0.12;
      haloText(g, `top-${s.top.length}`, cx + Math.cos(a) * r + 4, cy + Math.sin(a) * r, pal.query, pal.bg);
    }
    // Sector labels outside the disc.
    g.font = app.font(11, 600);
    g.textBaseline = 'middle';
    for (let j = 0; j < s.sectorLists.length; j++) {
      const span = s.sectorEnd[j] - s.sectorStart[j];
      if (span * R < 18 && s.sectorLists.length > 8) continue;
      const a = (s.sectorStart[j] + s.sectorEnd[j]) / 2;
      const ca = Math.cos(a);
      g.textAlign = ca > 0.3 ? 'left' : ca < -0.3 ? 'right' : 'center';
      const l = s.sectorLists[j];
      const rank = s.probeRank.get(l);
      const label = span * R < 60 ? `${l}` : `list ${l}`;
      haloText(g, label, cx + ca * (R + 12), cy + Math.sin(a) * (R + 12),
        mix(this.listColor(l), pal.fg, 0.25), pal.bg);
      if (rank != null && span * R >= 60) {
        g.save();
        g.font = app.font(10);
        haloText(g, `probe #${rank + 1} · ${plural(s.perList.get(l) || 0, 'vec', 'vecs')}`,
          cx + ca * (R + 12), cy + Math.sin(a) * (R + 12) + 13, pal.muted, pal.bg);
        g.restore();
      }
    }
    this.drawDots(g);
    drawQuery(g, app, cx, cy, false);
  }

  labelOrigin() {
    return [this.cx, this.cy];
  }

  hoverGuide(g, i) {
    g.save();
    g.beginPath();
    g.moveTo(this.cx, this.cy);
    g.lineTo(this.sx[i], this.sy[i]);
    g.setLineDash([3, 3]);
    g.strokeStyle = rgba(this.app.pal.fg, 0.6);
    g.lineWidth = 1.25;
    g.stroke();
    g.beginPath();
    circlePath(g, this.cx, this.cy, this.radius[i] * this.R);
    g.strokeStyle = rgba(this.app.pal.fg, 0.18);
    g.stroke();
    g.restore();
  }

  highlightList(g, list) {
    const s = this.search;
    for (let j = 0; j < s.sectorLists.length; j++) {
      if (s.sectorLists[j] !== list) continue;
      g.beginPath();
      g.moveTo(this.cx, this.cy);
      g.arc(this.cx, this.cy, this.R, s.sectorStart[j], s.sectorEnd[j]);
      g.closePath();
      g.fillStyle = rgba(this.listColor(list), 0.16);
      g.fill();
    }
    super.highlightList(g, list);
  }
}

class ProjectionScene extends PointsScene {
  constructor(app, ov, search) {
    super(app, ov, search);
    const method = search.projection.method.toUpperCase();
    this.method = method;
    this.title = `Fine search (${method} projection)`;
    this.caption = `The candidates and the query projected to 2-D with ${method}: neighbours in the plane are usually neighbours in the space.`;
  }

  extraFacts() {
    return [['projection', this.method]];
  }

  place(W, H) {
    const p = this.search.projection;
    const m = this.m;
    const pad = 34;
    this.x0 = pad;
    this.y0 = pad - 6;
    this.pw = W - 2 * pad;
    this.ph = H - 2 * pad;
    this.sx = new Float32Array(m);
    this.sy = new Float32Array(m);
    for (let i = 0; i < m; i++) {
      this.sx[i] = this.x0 + p.xy[2 * i] * this.pw;
      this.sy[i] = this.y0 + (1 - p.xy[2 * i + 1]) * this.ph;
    }
    this.qx = this.x0 + p.queryXY[0] * this.pw;
    this.qy = this.y0 + (1 - p.queryXY[1]) * this.ph;
  }

  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    g.save();
    g.strokeStyle = rgba(pal.fg, 0.07);
    g.lineWidth = 1;
    g.beginPath();
    for (let i = 0; i <= 4; i++) {
      const x = Math.round(this.x0 + (i / 4) * this.pw) + 0.5;
      const y = Math.round(this.y0 + (i / 4) * this.ph) + 0.5;
      g.moveTo(x, this.y0);
      g.lineTo(x, this.y0 + this.ph);
      g.moveTo(this.x0, y);
      g.lineTo(this.x0 + this.pw, y);
    }
    g.stroke();
    g.restore();
    g.font = app.font(10);
    g.fillStyle = pal.muted;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    g.fillText(`${this.method} 1`, this.x0 + this.pw / 2, this.y0 + this.ph + 8);
    g.save();
    g.translate(this.x0 - 10, this.y0 + this.ph / 2);
    g.rotate(-Math.PI / 2);
    g.textBaseline = 'bottom';
    g.fillText(`${this.method} 2`, 0, 0);
    g.restore();
    // Thin lines from the query to the top-k.
    const s = this.search;
    g.beginPath();
    for (const i of s.top) {
      g.moveTo(this.qx, this.qy);
      g.lineTo(this.sx[i], this.sy[i]);
    }
    g.strokeStyle = rgba(pal.query, 0.35);
    g.lineWidth = 1;
    g.stroke();
    this.drawDots(g);
    drawQuery(g, app, this.qx, this.qy);
  }

  labelOrigin() {
    return [this.qx, this.qy];
  }

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
}

// ---- HNSW overview: the upper levels as stacked, skewed planes

/** Maps [0, 1]² into a parallelogram whose top edge is shifted right by `skew`. */
class Plane {
  constructor(x, y, w, h, skew, pad = 0.035) {
    Object.assign(this, { x, y, w, h, skew, pad });
  }

  px(u, v) {
    const uu = this.pad + (1 - 2 * this.pad) * u;
    const vv = this.pad + (1 - 2 * this.pad) * v;
    return this.x + this.skew * (1 - vv) + uu * this.w;
  }

  py(v) {
    return this.y + (this.pad + (1 - 2 * this.pad) * v) * this.h;
  }

  outline(g) {
    g.moveTo(this.x + this.skew, this.y);
    g.lineTo(this.x + this.skew + this.w, this.y);
    g.lineTo(this.x + this.w, this.y + this.h);
    g.lineTo(this.x, this.y + this.h);
    g.closePath();
  }
}

function stackPlanes(count, x, y, w, hgt, skewRatio = 0.55, maxSkew = 110) {
  const gap = count > 1 ? 0.28 : 0;
  const ph = hgt / (count + gap * (count - 1));
  const skew = count > 1 ? Math.min(ph * skewRatio * 1.6, maxSkew, w * 0.18) : 0;
  const planes = [];
  for (let k = 0; k < count; k++) planes.push(new Plane(x, y + k * ph * (1 + gap), w - skew, ph, skew));
  return planes;
}

/** Colour of the probe rank `r` among `n` probed lists: distinct categories for up to ten,
 * a hue ramp in rank order beyond (categories would repeat). */
function rankColor(app, r, n) {
  const cat = app.pal.cat;
  if (n <= cat.length) return cat[r % cat.length];
  return ramp(app.pal.rankRamp, n > 1 ? r / (n - 1) : 0);
}

function levelColor(app, level) {
  const p = app.pal.levels;
  return p[level % p.length];
}

class HNSWOverviewScene extends Scene {
  constructor(app, ov) {
    super(app);
    this.ov = ov;
    this.n = ov.ids.length;
    this.byLabel = null;
    const ep = ov.facts.entry_point;
    this.entry = -1;
    if (ep != null) {
      for (let i = 0; i < this.n; i++) {
        if (ov.ids[i] === ep) {
          this.entry = i;
          break;
        }
      }
    }
  }

  layout(W, H) {
    super.layout(W, H);
    const ov = this.ov;
    const L = ov.levels.length;
    this.planes = stackPlanes(L, 12, 12, W - 24, H - 24);
    const n = this.n;
    this.sx = [];
    this.sy = [];
    const hx = [];
    const hy = [];
    const hr = [];
    this.hitNode = [];
    this.hitPlane = [];
    for (let k = 0; k < L; k++) {
      const p = this.planes[k];
      const level = ov.levels[k].level;
      const sx = new Float32Array(n);
      const sy = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        sx[i] = p.px(ov.xy[2 * i], ov.xy[2 * i + 1]);
        sy[i] = p.py(ov.xy[2 * i + 1]);
        if (ov.top[i] >= level) {
          hx.push(sx[i]);
          hy.push(sy[i]);
          hr.push(ov.top[i] > level ? 4 : 2.5);
          this.hitNode.push(i);
          this.hitPlane.push(k);
        }
      }
      this.sx.push(sx);
      this.sy.push(sy);
    }
    this.grid = new PointGrid(Float32Array.from(hx), Float32Array.from(hy), Float32Array.from(hr), W, H);
    let shown = 0;
    for (let k = 0; k < L; k++) for (let i = 0; i < n; i++) if (ov.top[i] >= ov.levels[k].level) shown++;
    this.dotR = shown > 4000 ? 1.6 : shown > 1200 ? 2.2 : shown > 200 ? 3 : 4.5;
  }

  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const ov = this.ov;
    const facts = ov.facts;
    const counts = facts.level_counts || [];
    for (let k = ov.levels.length - 1; k >= 0; k--) {
      const p = this.planes[k];
      const { level, src, dst } = ov.levels[k];
      const color = levelColor(app, level);
      g.beginPath();
      p.outline(g);
      g.fillStyle = rgba(color, app.theme === 'dark' ? 0.08 : 0.06);
      g.fill();
      g.strokeStyle = rgba(color, 0.45);
      g.lineWidth = 1;
      g.stroke();
      const sx = this.sx[k];
      const sy = this.sy[k];
      const e = src.length;
      g.beginPath();
      for (let j = 0; j < e; j++) {
        g.moveTo(sx[src[j]], sy[src[j]]);
        g.lineTo(sx[dst[j]], sy[dst[j]]);
      }
      g.strokeStyle = rgba(color, clamp(9 / Math.sqrt(e + 1), 0.08, 0.5));
      g.lineWidth = 0.8;
      g.stroke();
      // Nodes coloured by their top level: hubs that reach higher planes stand out.
      const groups = new Map();
      for (let i = 0; i < this.n; i++) {
        if (ov.top[i] < level) continue;
        const t = ov.top[i];
        let arr = groups.get(t);
        if (!arr) groups.set(t, (arr = []));
        arr.push(i);
      }
      for (const [t, arr] of groups) {
        const r = t > level ? this.dotR + 1.3 : this.dotR;
        g.beginPath();
        for (const i of arr) circlePath(g, sx[i], sy[i], r);
        g.fillStyle = levelColor(app, t);
        g.fill();
        if (t > level) {
          g.strokeStyle = pal.bg;
          g.lineWidth = 1;
          g.stroke();
        }
      }
      if (this.entry >= 0 && ov.top[this.entry] >= level) {
        const x = sx[this.entry];
        const y = sy[this.entry];
        g.beginPath();
        g.moveTo(x, y - 7);
        g.lineTo(x + 7, y);
        g.lineTo(x, y + 7);
        g.lineTo(x - 7, y);
        g.closePath();
        g.fillStyle = pal.query;
        g.fill();
        g.strokeStyle = pal.bg;
        g.lineWidth = 1.5;
        g.stroke();
        if (k === 0) {
          g.font = app.font(10, 600);
          g.textAlign = 'left';
          g.textBaseline = 'middle';
          haloText(g, 'entry point', x + 10, y, pal.query, pal.bg);
        }
      }
      // Level label at the plane's top-left corner.
      const count = counts[level] != null ? counts[level] : 0;
      g.font = app.font(12, 700);
      g.textAlign = 'left';
      g.textBaseline = 'top';
      const lx = p.x + p.skew + 8;
      haloText(g, `Level ${level}`, lx, p.y + 6, mix(color, pal.fg, 0.35), pal.bg);
      g.font = app.font(10);
      haloText(g, `${plural(count, 'node')} · ${plural(e, 'link')}`, lx + g.measureText(`Level ${level}`).width * 1.25 + 10, p.y + 7.5, pal.muted, pal.bg);
    }
  }

  neighbours(node) {
    // Per shown level: the nodes linked from `node` (CSR is flattened to src/dst here).
    const out = [];
    for (const { level, src, dst } of this.ov.levels) {
      const nb = [];
      for (let j = 0; j < src.length; j++) if (src[j] === node) nb.push(dst[j]);
      out.push({ level, nodes: nb });
    }
    return out;
  }

  entryPath(node) {
    // The route a search for this node's own vector takes from the entry point, restricted
    // to the shown planes: [{ k: plane index, node }] in search order.
    const ov = this.ov;
    if (!ov.pathOffsets) return [];
    const out = [];
    for (let i = ov.pathOffsets[node]; i < ov.pathOffsets[node + 1]; i++) {
      const k = ov.levels.findIndex((l) => l.level === ov.pathLevels[i]);
      if (k >= 0) out.push({ k, node: ov.pathNodes[i] });
    }
    return out;
  }

  drawEntryPath(g, node) {
    const path = this.entryPath(node);
    if (path.length < 2) return;
    const pal = this.app.pal;
    g.save();
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
    g.restore();
  }

  selectedNode() {
    const keys = this.app.selKeys;
    if (keys.size !== 1) return -1;
    if (!this.byLabel) {
      this.byLabel = new Map();
      for (let i = 0; i < this.n; i++) this.byLabel.set(fmtId(this.ov.ids[i]), i);
    }
    const [key] = keys;
    const i = this.byLabel.get(key);
    return i == null ? -1 : i;
  }

  drawNodeFocus(g, node, strong) {
    const app = this.app;
    const pal = app.pal;
    const ov = this.ov;
    const color = strong ? pal.select : pal.fg;
    // The node's column through the planes where it exists.
    g.save();
    g.setLineDash([3, 3]);
    g.beginPath();
    let first = true;
    for (let k = 0; k < ov.levels.length; k++) {
      if (ov.top[node] < ov.levels[k].level) continue;
      const x = this.sx[k][node];
      const y = this.sy[k][node];
      if (first) g.moveTo(x, y);
      else g.lineTo(x, y);
      first = false;
    }
    g.strokeStyle = rgba(color, 0.7);
    g.lineWidth = 1.25;
    g.stroke();
    g.restore();
    if (strong) {
      this.drawEntryPath(g, node);
      const nbs = this.neighbours(node);
      for (let k = 0; k < ov.levels.length; k++) {
        const sx = this.sx[k];
        const sy = this.sy[k];
        const nb = nbs[k].nodes;
        if (!nb.length) continue;
        g.beginPath();
        for (const j of nb) {
          g.moveTo(sx[node], sy[node]);
          g.lineTo(sx[j], sy[j]);
        }
        g.strokeStyle = rgba(pal.select, 0.9);
        g.lineWidth = 1.6;
        g.stroke();
        g.beginPath();
        for (const j of nb) circlePath(g, sx[j], sy[j], this.dotR + 2.5);
        g.strokeStyle = pal.select;
        g.lineWidth = 1.5;
        g.stroke();
      }
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

  drawOverlay(g) {
    const sel = this.selectedNode();
    if (sel >= 0) this.drawNodeFocus(g, sel, true);
    const hov = this.app.hover;
    if (hov && hov.kind === 'node' && hov.node !== sel) this.drawNodeFocus(g, hov.node, false);
  }

  hit(x, y) {
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const node = this.hitNode[k];
    return { key: `node:${node}`, kind: 'node', node, plane: this.hitPlane[k] };
  }

  tooltip(item) {
    if (item.kind !== 'node') return null;
    const app = this.app;
    const ov = this.ov;
    const i = item.node;
    const box = h('div', 'feder-tt-point');
    if (app.media.shows()) box.appendChild(app.media.thumb(ov.ids[i], { size: 96, text: app.media.type === 'text', full: true }));
    const info = h('div', 'feder-tt-info');
    const head = h('div', 'feder-tt-head');
    head.appendChild(h('strong', null, `id ${fmtId(ov.ids[i])}`));
    info.appendChild(head);
    const nm = nameLine(app, ov.ids[i]);
    if (nm) info.appendChild(nm);
    const l = h('div', 'feder-tt-line');
    l.appendChild(swatch(levelColor(app, ov.top[i])));
    l.appendChild(h('span', null, `top level ${ov.top[i]}`));
    info.appendChild(l);
    if (i === this.entry) info.appendChild(h('div', 'feder-tt-line', 'entry point'));
    info.appendChild(h('div', 'feder-muted feder-small', 'click to see its links'));
    box.appendChild(info);
    return box;
  }

  click(item) {
    if (!item || item.kind !== 'node') {
      this.app.select([], -1);
      return;
    }
    const id = this.ov.ids[item.node];
    if (this.selectedNode() === item.node) this.app.select([], -1);
    else this.app.select([id], -1);
  }

  hoverId(id) {
    if (!this.byLabel) this.selectedNode();
    if (!this.byLabel) return null;
    const i = this.byLabel.get(fmtId(id));
    return i == null ? null : { key: `node:${i}`, kind: 'node', node: i };
  }

  panel() {
    const app = this.app;
    const f = this.ov.facts;
    const box = h('div');
    const s = section('HNSW index');
    s.appendChild(factsTable([
      ['index', f.index || 'HNSW'],
      ['source', f.source],
      ['metric', f.metric],
      ['dimension', fmtInt(f.dim)],
      ['elements', fmtInt(f.ntotal)],
      ['deleted', fmtInt(f.deleted)],
      ['M', fmtInt(f.M)],
      ['ef_construction', fmtInt(f.ef_construction)],
      ['max level', fmtInt(f.max_level)],
      ['entry point', f.entry_point != null ? `id ${fmtId(f.entry_point)}` : '—'],
    ]));
    box.appendChild(s);
    const lv = section('Elements per level');
    const counts = f.level_counts || [];
    const maxC = Math.max(1, ...counts);
    const bars = h('div', 'feder-bars');
    for (let level = counts.length - 1; level >= 0; level--) {
      const row = h('div', 'feder-bar-row');
      row.appendChild(h('span', 'feder-bar-label', `L${level}`));
      const track = h('span', 'feder-bar-track');
      const bar = h('span', 'feder-bar');
      bar.style.width = `${Math.max(2, (100 * Math.log1p(counts[level])) / Math.log1p(maxC))}%`;
      bar.style.background = levelColor(app, level);
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(h('span', 'feder-num', fmtInt(counts[level])));
      bars.appendChild(row);
    }
    lv.appendChild(bars);
    lv.appendChild(h('p', 'feder-muted feder-small', 'Bars on a log scale. The planes show the top levels; a node keeps its position on every level it reaches.'));
    box.appendChild(lv);
    const node = this.selectedNode();
    const sel = section(node >= 0 ? `Node id ${fmtId(this.ov.ids[node])}` : 'Selection');
    if (node < 0) {
      sel.appendChild(h('p', 'feder-muted', 'Click a node to see its links on each level.'));
    } else {
      if (app.media.shows()) sel.appendChild(app.media.thumb(this.ov.ids[node], { size: 96, text: app.media.type === 'text', full: true }));
      const nbs = this.neighbours(node);
      const rows = [['top level', String(this.ov.top[node])]];
      for (const nb of nbs) rows.push([`links on level ${nb.level}`, fmtInt(nb.nodes.length)]);
      const path = this.entryPath(node);
      if (path.length) rows.push(['path from entry', `${plural(path.length - 1, 'step')} (shown in colour)`]);
      sel.appendChild(factsTable(rows));
      const lowest = nbs.length ? nbs[nbs.length - 1] : null;
      if (lowest && lowest.nodes.length) {
        sel.appendChild(h('p', 'feder-muted feder-small', `Neighbours on level ${lowest.level}:`));
        const grid = h('div', 'feder-grid');
        for (const j of lowest.nodes.slice(0, DETAIL_THUMBS)) {
          const id = this.ov.ids[j];
          grid.appendChild(captioned(app, id, [`id ${fmtId(id)}`], 56, () => app.select([id], -1)));
        }
        sel.appendChild(grid);
      }
    }
    box.appendChild(sel);
    return box;
  }

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

// ---- HNSW search: the descent replayed from `events`

const OUT_PASSED = 0;
const OUT_ACCEPTED = 1;
const OUT_CANDIDATE = 2;

class HNSWSearchScene extends Scene {
  constructor(app, ov, search) {
    super(app);
    this.s = search;
    this.v = search.ids.length;
    this.frame = search.frames - 1; // start on the finished search; play replays it
    this.playing = false;
    this.raf = 0;
    this.acc = 0;
    this.last = 0;
    this.status = new Uint8Array(this.v);
    this.stale = true;
    this.controlsEl = null;
    // Each level's extent (largest radius among its visited nodes): the main plane zooms so
    // the current level fills it, since radii are normalised over all levels together.
    const radius = new Float32Array(this.v);
    for (let i = 0; i < this.v; i++) radius[i] = Math.hypot(search.xy[2 * i], search.xy[2 * i + 1]);
    this.radius = radius;
    this.levelZoom = search.levels.map((row) => {
      // Keep the entry, the greedy path (upper levels) and the results inside the disc, and
      // most examined nodes (85th percentile): a few far ones may fall outside. On level 0
      // early beam admissions can be far and are evicted later, so they do not count.
      const rs = new Float32Array(row.end - row.start);
      let ext = row.entry >= 0 && row.entry < this.v ? radius[row.entry] : 0;
      for (let e = row.start; e < row.end; e++) {
        const r = radius[search.evDst[e]];
        rs[e - row.start] = r;
        if (row.level > 0 && search.evOut[e] === OUT_ACCEPTED && r > ext) ext = r;
      }
      rs.sort();
      if (rs.length) ext = Math.max(ext, rs[Math.min(rs.length - 1, Math.floor(rs.length * 0.85))]);
      if (row.level === 0) for (const i of search.resultNodes) if (i >= 0) ext = Math.max(ext, radius[i]);
      return clamp(0.94 / Math.max(ext, 0.1), 1, 6);
    });
    this.zoom = this.levelZoom.length ? this.levelZoom[search.frameLevel[this.frame]] : 1;
    this.placedZoom = 0;
  }

  /** Screen positions for the current zoom (recomputed only when it changes). */
  place() {
    if (this.placedZoom === this.zoom && this.sx) return;
    this.placedZoom = this.zoom;
    const s = this.s;
    const k = this.R * this.zoom;
    for (let i = 0; i < this.v; i++) {
      this.sx[i] = this.cx + s.xy[2 * i] * k;
      this.sy[i] = this.cy + s.xy[2 * i + 1] * k;
    }
    this.gridStale = true;
  }

  updateZoom() {
    const target = this.levelZoom.length ? this.levelZoom[this.li] : 1;
    if (this.playing && Math.abs(target - this.zoom) > 0.01) {
      this.zoom += (target - this.zoom) * 0.18; // ease while playing, the rAF loop repeats
    } else {
      this.zoom = target;
    }
    this.place();
  }

  deactivate() {
    this.pause();
  }

  // -- timeline

  setFrame(f, fromSlider) {
    const s = this.s;
    this.frame = clamp(Math.round(f), 0, s.frames - 1);
    this.stale = true;
    this.syncControls(fromSlider);
    this.app.stage.request();
  }

  play() {
    const s = this.s;
    if (this.frame >= s.frames - 1) this.frame = 0;
    this.playing = true;
    this.acc = 0;
    this.last = 0;
    // A few seconds at most, however many events: several events per frame when needed.
    this.duration = clamp(s.frames * 45, 1200, 4000);
    const tick = (t) => {
      if (!this.playing) return;
      if (this.last) {
        this.acc += ((t - this.last) / this.duration) * s.frames;
        const step = Math.floor(this.acc);
        if (step > 0) {
          this.acc -= step;
          this.setFrame(this.frame + step);
        }
      }
      this.last = t;
      if (this.frame >= s.frames - 1) {
        this.pause();
        return;
      }
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
    this.syncControls();
  }

  pause() {
    this.playing = false;
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.syncControls();
  }

  step() {
    this.pause();
    this.setFrame(this.frame >= this.s.frames - 1 ? 0 : this.frame + 1);
  }

  controls() {
    const s = this.s;
    const bar = h('div', 'feder-controls-inner');
    const play = h('button', 'feder-btn feder-play');
    play.type = 'button';
    play.addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    const step = h('button', 'feder-btn feder-step', 'Step ›');
    step.type = 'button';
    step.title = 'one event forward';
    step.addEventListener('click', () => this.step());
    const slider = h('input', 'feder-slider');
    slider.type = 'range';
    slider.min = '0';
    slider.max = String(Math.max(0, s.frames - 1));
    slider.step = '1';
    slider.addEventListener('input', () => {
      const value = Number(slider.value); // read before pause() syncs the slider back
      this.pause();
      this.setFrame(value, true);
    });
    const label = h('span', 'feder-time');
    bar.appendChild(play);
    bar.appendChild(step);
    bar.appendChild(slider);
    bar.appendChild(label);
    this.controlsEl = { play, step, slider, label };
    this.syncControls();
    return bar;
  }

  syncControls(fromSlider) {
    const s = this.s;
    const c = this.controlsEl;
    const root = this.app.root;
    root.dataset.federPos = String(this.frame);
    root.dataset.federTotal = String(s.frames);
    root.dataset.federPlaying = this.playing ? '1' : '0';
    this.app.el.dataset.federState = `${this.frame}/${s.frames - 1}${this.playing ? ' playing' : ''}`;
    if (!c) return;
    c.play.textContent = this.playing ? '❚❚ Pause' : '▶ Play';
    c.play.setAttribute('aria-pressed', this.playing ? 'true' : 'false');
    if (!fromSlider) c.slider.value = String(this.frame);
    const li = s.frameLevel[this.frame];
    const row = s.levels[li];
    const events = s.frameEvents[this.frame];
    c.label.textContent = `${fmtInt(events)} / ${fmtInt(s.evLevel.length)} links · level ${row ? row.level : 0}`;
    if (this.levelRows) {
      for (let i = 0; i < this.levelRows.length; i++) this.levelRows[i].classList.toggle('feder-current', i === li);
    }
    if (this.liveEl) this.updateLive();
  }

  // -- state at the current frame

  compute() {
    if (!this.stale) return;
    this.stale = false;
    const s = this.s;
    const li = s.frameLevel[this.frame];
    const applied = s.frameEvents[this.frame];
    const row = s.levels[li] || { level: 0, entry: 0, start: 0, end: 0 };
    this.li = li;
    this.applied = applied;
    this.row = row;
    this.done = this.frame >= s.frames - 1;
    const status = this.status;
    status.fill(0);
    // 1 examined, 2 accepted (path / beam), 3 evicted from the beam, 4 candidate only.
    if (row.entry >= 0 && row.entry < this.v) status[row.entry] = 2;
    let beam = row.entry >= 0 ? 1 : 0;
    let visited = 1;
    const beamLevel = row.level === 0;
    for (let e = row.start; e < applied; e++) {
      const d = s.evDst[e];
      const out = s.evOut[e];
      if (status[d] === 0) visited++;
      if (out === OUT_ACCEPTED) {
        if (status[d] !== 2) beam++;
        status[d] = 2;
      } else if (out === OUT_CANDIDATE) {
        if (status[d] === 0) status[d] = 4;
      } else if (status[d] === 0) {
        status[d] = 1;
      }
      if (beamLevel && s.evEvict[e] >= 0) {
        const x = s.evEvict[e];
        if (status[x] === 2) beam--;
        status[x] = 3;
      }
    }
    this.beam = beam;
    this.visited = visited;
    this.gridStale = true;
  }

  /** Hit targets: nodes seen on the current level (and the results at the end). */
  hitGrid() {
    this.compute();
    if (!this.sx) return null;
    if (!this.playing) this.updateZoom();
    if (!this.gridStale && this.grid) return this.grid;
    this.gridStale = false;
    const s = this.s;
    const status = this.status;
    const hx = [];
    const hy = [];
    const hr = [];
    this.hitIndex = [];
    for (let i = 0; i < this.v; i++) {
      if (status[i] === 0 && !(this.done && s.resultRank.has(i))) continue;
      hx.push(this.sx[i]);
      hy.push(this.sy[i]);
      hr.push(status[i] === 2 ? 4 : 2.5);
      this.hitIndex.push(i);
    }
    this.grid = new PointGrid(Float32Array.from(hx), Float32Array.from(hy), Float32Array.from(hr), this.W, this.H);
    return this.grid;
  }

  layout(W, H) {
    super.layout(W, H);
    const s = this.s;
    const ladder = W >= 520 && s.levels.length > 0;
    this.ladderW = ladder ? Math.round(clamp(W * 0.25, 150, 230)) : 0;
    const L = s.levels.length;
    this.planes = ladder ? stackPlanes(L, 10, 34, this.ladderW - 16, H - 46, 0.5, 40) : [];
    const mainX = this.ladderW + 12;
    const mainW = W - mainX - 12;
    this.cx = mainX + mainW / 2;
    this.cy = H / 2 + 10;
    this.R = Math.max(40, Math.min(mainW, H - 40) / 2 - 26);
    const v = this.v;
    this.sx = new Float32Array(v);
    this.sy = new Float32Array(v);
    this.placedZoom = 0;
    this.place();
    this.scale = ringScale(this.radius, s.dist, s.metric === 'l2' ? 'sqrt' : 'id');
    this.dotR = v > 3000 ? 1.8 : v > 800 ? 2.4 : v > 150 ? 3 : 4;
    this.stale = true;
    this.gridStale = true;
  }

  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    if (this.ladderW) {
      g.beginPath();
      g.moveTo(this.ladderW + 0.5, 12);
      g.lineTo(this.ladderW + 0.5, this.H - 12);
      g.strokeStyle = rgba(pal.fg, 0.1);
      g.lineWidth = 1;
      g.stroke();
      g.font = app.font(11, 700);
      g.fillStyle = pal.muted;
      g.textAlign = 'left';
      g.textBaseline = 'top';
      g.fillText('Descent', 12, 12);
    }
  }

  /** The accepted path on an upper level (entry, then each improvement) up to event `upto`. */
  path(row, upto) {
    const s = this.s;
    const out = [row.entry];
    for (let e = row.start; e < Math.min(upto, row.end); e++) if (s.evOut[e] === OUT_ACCEPTED) out.push(s.evDst[e]);
    return out;
  }

  drawLadder(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    const L = s.levels.length;
    const map = (p, i) => [p.px((s.xy[2 * i] + 1) / 2, (s.xy[2 * i + 1] + 1) / 2), p.py((s.xy[2 * i + 1] + 1) / 2)];
    for (let k = 0; k < L; k++) {
      const p = this.planes[k];
      const row = s.levels[k];
      const color = levelColor(app, row.level);
      const current = k === this.li;
      const reached = k <= this.li;
      g.beginPath();
      p.outline(g);
      g.fillStyle = rgba(color, current ? 0.16 : reached ? 0.07 : 0.03);
      g.fill();
      g.strokeStyle = current ? color : rgba(color, reached ? 0.5 : 0.25);
      g.lineWidth = current ? 1.75 : 1;
      g.stroke();
      const upto = k < this.li ? row.end : k === this.li ? this.applied : row.start;
      if (reached) {
        g.beginPath();
        for (let e = row.start; e < upto; e++) {
          const [x, y] = map(p, s.evDst[e]);
          circlePath(g, x, y, 1.3);
        }
        g.fillStyle = rgba(color, 0.55);
        g.fill();
        if (row.level > 0) {
          const path = this.path(row, upto);
          g.beginPath();
          path.forEach((i, j) => {
            const [x, y] = map(p, i);
            if (j) g.lineTo(x, y);
            else g.moveTo(x, y);
          });
          g.strokeStyle = color;
          g.lineWidth = 1.75;
          g.stroke();
        } else {
          g.beginPath();
          for (let e = row.start; e < upto; e++) {
            if (s.evOut[e] !== OUT_ACCEPTED) continue;
            const [x0, y0] = map(p, s.evSrc[e]);
            const [x1, y1] = map(p, s.evDst[e]);
            g.moveTo(x0, y0);
            g.lineTo(x1, y1);
          }
          g.strokeStyle = rgba(color, 0.6);
          g.lineWidth = 0.8;
          g.stroke();
        }
        const [ex, ey] = map(p, row.entry);
        g.beginPath();
        circlePath(g, ex, ey, 2.8);
        g.fillStyle = pal.fg;
        g.fill();
      }
      // Descent connector: this level's entry is where the level above ended.
      if (k > 0 && reached) {
        const prev = this.planes[k - 1];
        const [x0, y0] = map(prev, row.entry);
        const [x1, y1] = map(p, row.entry);
        g.save();
        g.setLineDash([2, 2]);
        g.beginPath();
        g.moveTo(x0, y0);
        g.lineTo(x1, y1);
        g.strokeStyle = rgba(pal.fg, 0.45);
        g.lineWidth = 1;
        g.stroke();
        g.restore();
      }
      g.font = app.font(10, current ? 700 : 500);
      g.textAlign = 'left';
      g.textBaseline = 'top';
      haloText(g, `L${row.level}`, p.x + p.skew + 4, p.y + 3, current ? mix(color, pal.fg, 0.3) : pal.muted, pal.bg);
      g.textAlign = 'right';
      haloText(g, `${fmtInt(row.visited)} visited`, p.x + p.skew + p.w - 3, p.y + 3, pal.muted, pal.bg, 2.5);
    }
  }

  drawOverlay(g) {
    this.compute();
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    const row = this.row;
    const color = levelColor(app, row.level);
    const status = this.status;
    if (this.ladderW) this.drawLadder(g);
    this.updateZoom();
    g.save();
    g.beginPath();
    g.rect(this.ladderW + 1, 0, this.W - this.ladderW - 1, this.H);
    g.clip();
    drawRings(g, app, this.cx, this.cy, this.R, this.scale, -Math.PI / 2, this.zoom);
    // Earlier levels' greedy paths, faded: the descent closing in on the query.
    for (let k = 0; k < this.li; k++) {
      const r = s.levels[k];
      const path = this.path(r, r.end);
      if (path.length < 2) continue;
      g.beginPath();
      path.forEach((i, j) => (j ? g.lineTo(this.sx[i], this.sy[i]) : g.moveTo(this.sx[i], this.sy[i])));
      g.strokeStyle = rgba(levelColor(app, r.level), 0.4);
      g.lineWidth = 2;
      g.stroke();
      g.beginPath();
      for (const i of path) circlePath(g, this.sx[i], this.sy[i], 2.5);
      g.fillStyle = rgba(levelColor(app, r.level), 0.5);
      g.fill();
    }
    // Examined links on the current level: passed over (faint), accepted (level colour).
    const passed = new Path2D();
    const accepted = new Path2D();
    for (let e = row.start; e < this.applied; e++) {
      const a = s.evSrc[e];
      const b = s.evDst[e];
      const p = s.evOut[e] === OUT_ACCEPTED ? accepted : passed;
      p.moveTo(this.sx[a], this.sy[a]);
      p.lineTo(this.sx[b], this.sy[b]);
    }
    const many = this.applied - row.start > 600;
    g.strokeStyle = rgba(pal.fg, many ? 0.08 : 0.16);
    g.lineWidth = 0.8;
    g.stroke(passed);
    g.strokeStyle = rgba(color, row.level === 0 ? 0.55 : 0.95);
    g.lineWidth = row.level === 0 ? 1.1 : 2.5;
    g.stroke(accepted);
    if (row.level > 0) {
      // Arrowheads along the greedy path.
      const path = this.path(row, this.applied);
      g.beginPath();
      for (let j = 1; j < path.length; j++) {
        const a = path[j - 1];
        const b = path[j];
        arrowHead(g, this.sx[a], this.sy[a], this.sx[b], this.sy[b], 8);
      }
      g.fillStyle = color;
      g.fill();
    }
    // Nodes by status.
    const r = this.dotR;
    const groups = [[], [], [], [], []];
    for (let i = 0; i < this.v; i++) if (status[i]) groups[status[i]].push(i);
    g.beginPath();
    for (const i of groups[1]) circlePath(g, this.sx[i], this.sy[i], r);
    g.fillStyle = pal.bg;
    g.fill();
    g.strokeStyle = rgba(pal.fg, 0.45);
    g.lineWidth = 1;
    g.stroke();
    g.beginPath();
    for (const i of groups[3]) circlePath(g, this.sx[i], this.sy[i], r);
    g.fillStyle = rgba(pal.fg, 0.3);
    g.fill();
    g.beginPath();
    for (const i of groups[4]) circlePath(g, this.sx[i], this.sy[i], r);
    g.strokeStyle = pal.muted;
    g.setLineDash([2, 2]);
    g.stroke();
    g.setLineDash([]);
    g.beginPath();
    for (const i of groups[2]) circlePath(g, this.sx[i], this.sy[i], r + 1.2);
    g.fillStyle = color;
    g.fill();
    g.strokeStyle = pal.bg;
    g.lineWidth = 1;
    g.stroke();
    // Entry node of this level.
    if (row.entry >= 0) {
      const x = this.sx[row.entry];
      const y = this.sy[row.entry];
      g.beginPath();
      g.moveTo(x, y - 8);
      g.lineTo(x + 8, y);
      g.lineTo(x, y + 8);
      g.lineTo(x - 8, y);
      g.closePath();
      g.fillStyle = pal.fg;
      g.fill();
      g.strokeStyle = pal.bg;
      g.lineWidth = 1.5;
      g.stroke();
      g.font = app.font(10, 600);
      g.textAlign = 'left';
      g.textBaseline = 'middle';
      if (!this.done) haloText(g, `entry L${row.level}`, x + 11, y, pal.fg, pal.bg);
    }
    // The latest event, emphasised while the replay runs.
    if (!this.done && this.applied > row.start) {
      const e = this.applied - 1;
      const a = s.evSrc[e];
      const b = s.evDst[e];
      g.beginPath();
      g.moveTo(this.sx[a], this.sy[a]);
      g.lineTo(this.sx[b], this.sy[b]);
      g.strokeStyle = pal.query;
      g.lineWidth = 2;
      g.stroke();
      g.beginPath();
      circlePath(g, this.sx[b], this.sy[b], 8);
      g.strokeStyle = pal.query;
      g.stroke();
    }
    // Final top-k.
    if (this.done) {
      for (let t = s.resultNodes.length - 1; t >= 0; t--) {
        const i = s.resultNodes[t];
        if (i < 0 || i >= this.v) continue;
        g.beginPath();
        circlePath(g, this.sx[i], this.sy[i], 7);
        g.fillStyle = color;
        g.fill();
        g.lineWidth = 2;
        g.strokeStyle = pal.fg;
        g.stroke();
      }
      rankLabels(g, app, s.resultNodes, this.sx, this.sy, this.cx, this.cy);
    }
    drawQuery(g, app, this.cx, this.cy, true);
    // Selection and hover.
    if (app.selKeys.size) {
      g.beginPath();
      for (let i = 0; i < this.v; i++) if (app.selKeys.has(fmtId(s.ids[i]))) circlePath(g, this.sx[i], this.sy[i], 10);
      g.strokeStyle = pal.select;
      g.lineWidth = 2.5;
      g.stroke();
    }
    const hov = app.hover;
    if (hov && hov.kind === 'hnode') {
      g.beginPath();
      circlePath(g, this.sx[hov.node], this.sy[hov.node], 9);
      g.strokeStyle = pal.fg;
      g.lineWidth = 2;
      g.stroke();
    }
    g.restore();
    // Caption.
    g.font = app.font(12, 700);
    g.textAlign = 'left';
    g.textBaseline = 'top';
    const x0 = this.ladderW + 16;
    haloText(g, `Level ${row.level} · ${row.level > 0 ? 'greedy search (ef = 1)' : `beam search (ef = ${s.params.ef != null ? s.params.ef : '?'})`}`, x0, 12, mix(color, pal.fg, 0.35), pal.bg);
    g.font = app.font(11);
    const line2 = row.level > 0
      ? `${plural(this.visited, 'node')} visited · ${plural(this.path(row, this.applied).length - 1, 'move')}`
      : `${plural(this.visited, 'node')} visited · beam ${fmtInt(this.beam)}${s.params.ef != null ? ` / ${s.params.ef}` : ''}`;
    const zoomText = this.zoom > 1.05 ? ` · zoom ×${this.zoom.toFixed(1)}` : '';
    haloText(g, `${this.done ? `${line2} · top-${s.resultNodes.length} found` : line2}${zoomText}`, x0, 30, pal.muted, pal.bg);
  }

  hit(x, y) {
    const grid = this.hitGrid();
    const k = grid ? grid.nearest(x, y, 6) : -1;
    if (k < 0) return null;
    const node = this.hitIndex[k];
    return { key: `hnode:${node}`, kind: 'hnode', node };
  }

  hoverId(id) {
    const key = fmtId(id);
    for (let i = 0; i < this.v; i++) if (fmtId(this.s.ids[i]) === key) return { key: `hnode:${i}`, kind: 'hnode', node: i };
    return null;
  }

  statusText(i) {
    const s = this.s;
    if (this.done && s.resultRank.has(i)) return `result #${s.resultRank.get(i) + 1}`;
    switch (this.status[i]) {
      case 2:
        return this.row.level === 0 ? 'in the beam' : 'on the greedy path';
      case 3:
        return 'evicted from the beam';
      case 4:
        return 'deleted: explored, never returned';
      case 1:
        return 'examined, passed over';
      default:
        return '';
    }
  }

  tooltip(item) {
    if (item.kind !== 'hnode') return null;
    const app = this.app;
    const s = this.s;
    const i = item.node;
    const box = h('div', 'feder-tt-point');
    if (app.media.shows()) box.appendChild(app.media.thumb(s.ids[i], { size: 96, text: app.media.type === 'text', full: true }));
    const info = h('div', 'feder-tt-info');
    const head = h('div', 'feder-tt-head');
    head.appendChild(h('strong', null, `id ${fmtId(s.ids[i])}`));
    if (this.done && s.resultRank.has(i)) head.appendChild(badgeEl(`#${s.resultRank.get(i) + 1}`, app.pal.query));
    info.appendChild(head);
    const nm = nameLine(app, s.ids[i]);
    if (nm) info.appendChild(nm);
    info.appendChild(h('div', 'feder-tt-line', `distance ${fmtDist(s.dist[i])}`));
    info.appendChild(h('div', 'feder-muted feder-small', `${this.statusText(i)} (level ${this.row.level})`));
    box.appendChild(info);
    return box;
  }

  click(item) {
    if (!item || item.kind !== 'hnode') {
      this.app.select([], -1);
      return;
    }
    this.app.select([this.s.ids[item.node]], -1);
  }

  updateLive() {
    const s = this.s;
    this.compute();
    const row = this.row;
    this.liveEl.textContent = row.level > 0
      ? `Level ${row.level}: ${plural(this.visited, 'node')} visited so far.`
      : `Level 0: ${plural(this.visited, 'node')} visited, ${fmtInt(this.beam)} in the beam${s.params.ef != null ? ` (ef ${s.params.ef})` : ''}.`;
  }

  panel() {
    const s = this.s;
    const box = h('div');
    const sec = section('HNSW search');
    let total = 0;
    for (const r of s.levels) total += r.visited;
    sec.appendChild(factsTable([
      ['metric', s.metric],
      ['ef', s.params.ef != null ? fmtInt(s.params.ef) : null],
      ['k', s.params.k != null ? fmtInt(s.params.k) : fmtInt(s.resultNodes.length)],
      ['links examined', fmtInt(s.evLevel.length)],
      ['distances computed', fmtInt(total)],
    ]));
    box.appendChild(sec);
    const lv = section('Per level');
    const table = h('table', 'feder-table');
    const head = h('tr');
    for (const t of ['level', 'entry', 'visited', 'links']) head.appendChild(h('th', null, t));
    table.appendChild(head);
    this.levelRows = [];
    for (let li = 0; li < s.levels.length; li++) {
      const r = s.levels[li];
      const tr = h('tr');
      const cell = h('td');
      cell.appendChild(swatch(levelColor(this.app, r.level)));
      cell.appendChild(document.createTextNode(` ${r.level}`));
      tr.appendChild(cell);
      tr.appendChild(h('td', null, r.entry >= 0 && r.entry < this.v ? fmtId(s.ids[r.entry]) : '—'));
      tr.appendChild(h('td', 'feder-num', fmtInt(r.visited)));
      tr.appendChild(h('td', 'feder-num', fmtInt(r.edges != null ? r.edges : r.end - r.start)));
      tr.addEventListener('click', () => {
        this.pause();
        this.setFrame(this.frameOfLevelEnd(li));
      });
      table.appendChild(tr);
      this.levelRows.push(tr);
    }
    lv.appendChild(table);
    this.liveEl = h('p', 'feder-live');
    lv.appendChild(this.liveEl);
    lv.appendChild(h('p', 'feder-muted feder-small',
      'Upper levels: greedy moves towards the query. Level 0: a beam of ef candidates; filled dots are in the beam, grey ones were evicted, rings were examined and passed over.'));
    box.appendChild(lv);
    this.syncControls();
    return box;
  }

  frameOfLevelEnd(li) {
    const s = this.s;
    let f = 0;
    while (f < s.frames - 1 && s.frameLevel[f + 1] <= li) f++;
    return f;
  }

  strip() {
    return resultsStrip(this.app, this.s);
  }

  targets(limit = 40) {
    this.hitGrid();
    const out = [];
    const s = this.s;
    if (this.done) {
      for (let t = 0; t < s.resultNodes.length; t++) {
        const i = s.resultNodes[t];
        out.push({ x: this.sx[i], y: this.sy[i], kind: 'hnode', id: s.ids[i], rank: t });
      }
    }
    for (let k = 0; k < this.hitIndex.length && out.length < limit; k++) {
      const i = this.hitIndex[k];
      out.push({ x: this.sx[i], y: this.sy[i], kind: 'hnode', id: s.ids[i] });
    }
    return out;
  }
}

// ----------------------------------------------------------------------------------- stage

/** The canvas: HiDPI backing store, a cached base layer and a cheap overlay per frame. */
class Stage {
  constructor(app, parent) {
    this.app = app;
    this.canvas = h('canvas', 'feder-canvas');
    this.ctx = this.canvas.getContext('2d');
    this.base = document.createElement('canvas');
    this.baseCtx = this.base.getContext('2d');
    this.tooltip = h('div', 'feder-tooltip');
    this.tooltip.hidden = true;
    this.tooltip.setAttribute('role', 'tooltip');
    parent.appendChild(this.canvas);
    parent.appendChild(this.tooltip);
    this.W = 0;
    this.H = 0;
    this.dpr = 1;
    this.raf = 0;
    this.baseDirty = true;
    this.layoutDirty = true;
    this.scene = null;
    this.tooltipKey = null;
    this.mouse = null;
    const move = (ev) => this.onMove(ev);
    const leave = () => this.onLeave();
    const click = (ev) => this.onClick(ev);
    this.canvas.addEventListener('pointermove', move);
    this.canvas.addEventListener('pointerleave', leave);
    this.canvas.addEventListener('click', click);
  }

  resize(W, H) {
    const dpr = Math.max(1, Math.min(window.devicePixelRatio || 1, 3));
    if (W === this.W && H === this.H && dpr === this.dpr) return;
    this.W = W;
    this.H = H;
    this.dpr = dpr;
    for (const c of [this.canvas, this.base]) {
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
    }
    this.canvas.style.width = `${W}px`;
    this.canvas.style.height = `${H}px`;
    this.layoutDirty = true;
    this.baseDirty = true;
    this.request();
  }

  setScene(scene) {
    this.scene = scene;
    this.layoutDirty = true;
    this.baseDirty = true;
    this.hideTooltip();
    this.request();
  }

  invalidate() {
    this.baseDirty = true;
    this.request();
  }

  request() {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.draw());
  }

  /** Draw now (used by the rAF callback and by tests that need a synchronous frame). */
  draw() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    const scene = this.scene;
    const { ctx, dpr } = this;
    if (!scene || !this.W) return;
    // render() may run before the host element is in the document: CSS variables (theme
    // colours, font) can only be read once it is.
    if (!this.app.themeConnected && this.app.root.isConnected) this.app.applyTheme(true);
    if (this.layoutDirty) {
      scene.layout(this.W, this.H);
      this.layoutDirty = false;
      this.baseDirty = true;
    }
    if (this.baseDirty) {
      const b = this.baseCtx;
      b.setTransform(1, 0, 0, 1, 0, 0);
      b.fillStyle = this.app.pal.bg;
      b.fillRect(0, 0, this.base.width, this.base.height);
      b.setTransform(dpr, 0, 0, dpr, 0, 0);
      scene.drawBase(b);
      this.baseDirty = false;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.base, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    scene.drawOverlay(ctx);
  }

  point(ev) {
    const r = this.canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) * this.W) / (r.width || 1), ((ev.clientY - r.top) * this.H) / (r.height || 1)];
  }

  onMove(ev) {
    if (!this.scene) return;
    if (this.layoutDirty) this.draw();
    const [x, y] = this.point(ev);
    this.mouse = [x, y];
    const item = this.scene.hit(x, y);
    this.canvas.style.cursor = item ? 'pointer' : 'default';
    this.app.setHover(item, true);
    if (item) this.placeTooltip(x, y);
  }

  onLeave() {
    this.mouse = null;
    this.app.setHover(null);
  }

  onClick(ev) {
    if (!this.scene) return;
    const [x, y] = this.point(ev);
    this.scene.click(this.scene.hit(x, y));
  }

  showTooltip(item) {
    if (!item) {
      this.hideTooltip();
      return;
    }
    if (this.tooltipKey === item.key && !this.tooltip.hidden) return;
    const content = this.scene ? this.scene.tooltip(item) : null;
    if (!content) {
      this.hideTooltip();
      return;
    }
    this.tooltipKey = item.key;
    this.tooltip.replaceChildren(content);
    this.tooltip.hidden = false;
    if (this.mouse) this.placeTooltip(this.mouse[0], this.mouse[1]);
  }

  placeTooltip(x, y) {
    const t = this.tooltip;
    if (t.hidden) return;
    const r = this.canvas.getBoundingClientRect();
    const sx = (r.width || this.W) / this.W;
    const w = t.offsetWidth;
    const hh = t.offsetHeight;
    let left = x * sx + 14;
    let top = y * sx + 14;
    if (left + w > r.width - 4) left = Math.max(4, x * sx - w - 14);
    if (top + hh > r.height - 4) top = Math.max(4, y * sx - hh - 14);
    t.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }

  refreshTooltip() {
    const item = this.app.hover;
    if (this.tooltip.hidden || !item) return;
    this.tooltipKey = null;
    this.showTooltip(item);
  }

  hideTooltip() {
    this.tooltip.hidden = true;
    this.tooltip.replaceChildren();
    this.tooltipKey = null;
  }

  destroy() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
  }
}

// -------------------------------------------------------------------------------------- app

const IVF_VIEWS = [
  ['overview', 'Overview'],
  ['coarse', 'Coarse search'],
  ['fine', 'Fine search'],
  ['projection', 'Projection'],
];
const HNSW_VIEWS = [
  ['overview', 'Overview'],
  ['search', 'Search'],
];

class App {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.handlers = [];
    this.cleanups = [];
    this.looseUrls = [];
    this.hover = null;
    this.selKeys = new Set();
    this.selList = -1;
    this.view = null;
    this.scenes = new Map();

    const root = h('div', 'feder-root');
    this.root = root;
    const header = h('div', 'feder-header');
    this.titleEl = h('div', 'feder-title');
    this.tabsEl = h('div', 'feder-tabs');
    this.tabsEl.setAttribute('role', 'tablist');
    header.appendChild(this.titleEl);
    header.appendChild(this.tabsEl);
    const body = h('div', 'feder-body');
    const main = h('div', 'feder-main');
    this.mainEl = main;
    this.stageEl = h('div', 'feder-stage');
    this.controlsEl = h('div', 'feder-controls');
    this.stripEl = h('div', 'feder-strip');
    this.panelEl = h('aside', 'feder-panel');
    this.panelInner = h('div', 'feder-panel-inner');
    this.panelEl.appendChild(this.panelInner);
    main.appendChild(this.stageEl);
    main.appendChild(this.controlsEl);
    main.appendChild(this.stripEl);
    body.appendChild(main);
    body.appendChild(this.panelEl);
    root.appendChild(header);
    root.appendChild(body);
    el.appendChild(root);

    this.media = new MediaStore(this);
    this.stage = new Stage(this, this.stageEl);
    root.federDebug = {
      // Hover/click targets of the current view in canvas CSS pixels (for tests).
      targets: (limit = 40) => {
        if (this.stage.layoutDirty) this.stage.draw();
        return this.scene ? this.scene.targets(limit) : [];
      },
      draw: () => this.stage.draw(),
      view: () => this.view,
    };

    this.on('change:overview', () => this.reload());
    this.on('change:search', () => this.reload());
    this.on('change:media', () => {
      this.media.load(this.model.get('media'));
      this.refreshPanels();
    });
    this.on('change:view', () => this.setView(this.model.get('view'), false));
    this.on('change:view_params', () => this.applyParams());
    this.on('change:selected_ids', () => this.readSelection());
    this.on('change:selected_list', () => this.readSelection());
    this.on('msg:custom', (msg, buffers) => this.media.receive(msg, buffers));

    // Theme "auto": follow JupyterLab's body attribute, else the OS preference.
    const mq = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
    if (mq) {
      const onScheme = () => this.applyTheme();
      if (mq.addEventListener) mq.addEventListener('change', onScheme);
      this.cleanups.push(() => mq.removeEventListener && mq.removeEventListener('change', onScheme));
    }
    this.mq = mq;
    if (typeof ResizeObserver !== 'undefined') {
      let lastWidth = -1;
      const ro = new ResizeObserver(() => {
        const width = this.el.clientWidth;
        if (width === lastWidth) return;
        lastWidth = width;
        this.fit();
      });
      ro.observe(el);
      this.cleanups.push(() => ro.disconnect());
    }
    if (typeof MutationObserver !== 'undefined' && document.body) {
      const obs = new MutationObserver(() => this.applyTheme());
      obs.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light', 'data-jp-theme-name'] });
      this.cleanups.push(() => obs.disconnect());
    }

    this.media.load(this.model.get('media'));
    this.readSelection(true);
    this.applyParams(true);
    this.reload();
  }

  on(name, fn) {
    this.model.on(name, fn);
    this.handlers.push([name, fn]);
  }

  destroy() {
    for (const [name, fn] of this.handlers) this.model.off(name, fn);
    for (const fn of this.cleanups) fn();
    for (const sc of this.scenes.values()) sc.deactivate();
    this.stage.destroy();
    this.media.revoke();
    for (const u of this.looseUrls) URL.revokeObjectURL(u);
    this.root.remove();
  }

  font(size, weight = 400) {
    return `${weight} ${size}px ${this.fontFamily}`;
  }

  params() {
    const p = this.model.get('view_params') || {};
    return {
      width: clamp(Number(p.width) || 800, 240, 4000),
      height: clamp(Number(p.height) || 500, 200, 4000),
      theme: p.theme === 'light' || p.theme === 'dark' ? p.theme : 'auto',
      title: p.title == null ? '' : String(p.title),
    };
  }

  applyParams(initial) {
    const p = this.params();
    this.titleEl.textContent = p.title;
    this.titleEl.hidden = !p.title;
    this.root.style.setProperty('--feder-panel-width', `${PANEL_WIDTH}px`);
    this.applyTheme(true);
    this.fit();
    if (!initial) this.refreshPanels();
  }

  /** Size the drawing. view_params describe the whole widget: the side panel takes
   * PANEL_WIDTH and the tab bar HEADER_HEIGHT (feder/session.py lays the IVF map out in the
   * same box). In a narrower container the drawing shrinks so the panel stays beside it,
   * down to MIN_DRAWING; below that the panel goes underneath. */
  fit() {
    const p = this.params();
    let w = Math.max(p.width - PANEL_WIDTH, 200);
    const hh = Math.max(p.height - HEADER_HEIGHT, 160);
    const avail = this.el.clientWidth;
    if (avail > 0 && w + PANEL_WIDTH + 2 > avail) {
      const beside = avail - PANEL_WIDTH - 2;
      w = beside >= Math.min(w, MIN_DRAWING) ? Math.floor(beside) : Math.max(Math.floor(avail - 2), 200);
    }
    this.root.style.setProperty('--feder-width', `${w + PANEL_WIDTH + 2}px`); // + borders
    this.stageEl.style.width = `${w}px`;
    this.stageEl.style.height = `${hh}px`;
    this.mainEl.style.width = `${w}px`;
    this.stage.resize(w, hh);
  }

  applyTheme(quiet) {
    const p = this.params();
    const body = document.body;
    const jp = body && body.hasAttribute('data-jp-theme-light');
    let theme = p.theme;
    if (theme === 'auto') {
      if (jp) theme = body.getAttribute('data-jp-theme-light') === 'false' ? 'dark' : 'light';
      else theme = this.mq && this.mq.matches ? 'dark' : 'light';
    }
    const changed = theme !== this.theme;
    this.theme = theme;
    this.root.dataset.federTheme = theme;
    if (p.theme === 'auto' && jp) this.root.dataset.federJp = '1';
    else delete this.root.dataset.federJp;
    this.themeConnected = this.root.isConnected;
    const cs = getComputedStyle(this.root);
    const read = (name, fallback) => (cs.getPropertyValue(name) || '').trim() || fallback;
    const base = PALETTES[theme];
    this.pal = Object.assign({}, base, {
      bg: read('--fd-bg', theme === 'dark' ? '#16191f' : '#ffffff'),
      fg: read('--fd-fg', theme === 'dark' ? '#e6e8eb' : '#1f2328'),
      muted: read('--fd-muted', theme === 'dark' ? '#9aa4b2' : '#667080'),
    });
    this.fontFamily = cs.fontFamily || 'system-ui, sans-serif';
    this.stage.invalidate();
    if (changed && !quiet) this.refreshPanels();
  }

  readSelection(quiet) {
    const ids = this.model.get('selected_ids') || [];
    this.selKeys = new Set();
    for (const id of ids) this.selKeys.add(fmtId(id));
    const list = this.model.get('selected_list');
    this.selList = Number.isInteger(list) ? list : -1;
    if (!quiet) {
      this.stage.request();
      this.refreshPanels();
    }
  }

  select(ids, list) {
    this.model.set('selected_ids', ids.map(Number));
    this.model.set('selected_list', list);
    this.model.save_changes();
    this.readSelection();
  }

  setHover(item, fromCanvas) {
    const key = item ? item.key : null;
    const old = this.hover ? this.hover.key : null;
    if (key === old) return;
    this.hover = item;
    this.stage.request();
    if (fromCanvas) this.stage.showTooltip(item);
    else this.stage.hideTooltip();
  }

  hoverId(id) {
    const sc = this.scene;
    this.setHover(sc && sc.hoverId ? sc.hoverId(id) : null);
  }

  // -- data and views

  reload() {
    for (const sc of this.scenes.values()) sc.deactivate();
    this.scenes.clear();
    this.hover = null;
    const ov = decode(this.model.get('overview'));
    const kind = ov ? ov.kind : null;
    this.ov = ov;
    this.search = null;
    const sp = this.model.get('search');
    if (kind === 'ivf_overview') this.search = decode(sp, 'ivf_search');
    else if (kind === 'hnsw_overview') this.search = decode(sp, 'hnsw_search');
    this.root.dataset.federKind = kind || 'none';
    this.buildTabs();
    this.view = null;
    this.setView(this.model.get('view'), false);
  }

  available() {
    const ov = this.ov;
    if (!ov) return [];
    if (ov.kind === 'ivf_overview') {
      const s = this.search;
      return IVF_VIEWS.map(([v, label]) => [v, label, v === 'overview' || (!!s && (v !== 'projection' || !!s.projection))]);
    }
    return HNSW_VIEWS.map(([v, label]) => [v, label, v === 'overview' || !!this.search]);
  }

  buildTabs() {
    this.tabsEl.replaceChildren();
    this.tabButtons = new Map();
    for (const [view, label, enabled] of this.available()) {
      const b = h('button', 'feder-tab', label);
      b.type = 'button';
      b.dataset.view = view;
      b.setAttribute('role', 'tab');
      b.disabled = !enabled;
      if (!enabled) b.title = view === 'projection' ? 'no projection in this search' : 'no search yet';
      b.addEventListener('click', () => this.setView(view, true));
      this.tabsEl.appendChild(b);
      this.tabButtons.set(view, b);
    }
  }

  sceneFor(view) {
    let sc = this.scenes.get(view);
    if (sc) return sc;
    const ov = this.ov;
    const s = this.search;
    if (!ov) return null;
    if (ov.kind === 'ivf_overview') {
      if (view === 'coarse' && s) sc = new CoarseScene(this, ov, s);
      else if (view === 'fine' && s) sc = new FineScene(this, ov, s);
      else if (view === 'projection' && s && s.projection) sc = new ProjectionScene(this, ov, s);
      else if (view === 'overview') sc = new IVFMapScene(this, ov, s);
    } else if (ov.kind === 'hnsw_overview') {
      if (view === 'search' && s) sc = new HNSWSearchScene(this, ov, s);
      else if (view === 'overview') sc = new HNSWOverviewScene(this, ov);
    }
    if (sc) this.scenes.set(view, sc);
    return sc;
  }

  setView(view, fromUser) {
    const avail = this.available();
    const ok = avail.some(([v, , enabled]) => v === view && enabled);
    const target = ok ? view : 'overview';
    if (fromUser && view !== this.model.get('view')) {
      this.model.set('view', view);
      this.model.save_changes();
    }
    if (target === this.view && this.scene) return;
    if (this.scene) this.scene.deactivate();
    this.view = target;
    this.root.dataset.federView = target;
    for (const [v, b] of this.tabButtons) {
      b.classList.toggle('feder-active', v === target);
      b.setAttribute('aria-selected', v === target ? 'true' : 'false');
    }
    this.hover = null;
    this.scene = this.sceneFor(target);
    if (!this.scene) {
      this.stage.setScene(null);
      this.panelInner.replaceChildren(h('p', 'feder-muted', 'Nothing to show yet: the overview payload is empty.'));
      return;
    }
    delete this.root.dataset.federPos;
    delete this.root.dataset.federTotal;
    delete this.root.dataset.federPlaying;
    this.stage.setScene(this.scene);
    this.scene.activate();
    this.refreshPanels();
  }

  refreshPanels() {
    const sc = this.scene;
    if (!sc) return;
    const top = this.panelInner.scrollTop;
    this.panelInner.replaceChildren(sc.panel());
    this.panelInner.scrollTop = top;
    const strip = sc.strip();
    this.stripEl.replaceChildren();
    this.stripEl.hidden = !strip;
    if (strip) this.stripEl.appendChild(strip);
    const controls = sc.controls();
    if (controls || !this.controlsEl.hidden) {
      this.controlsEl.replaceChildren();
      if (controls) this.controlsEl.appendChild(controls);
    }
    this.controlsEl.hidden = !controls;
    this.stage.invalidate();
  }
}

export default {
  render({ model, el }) {
    const app = new App(model, el);
    return () => app.destroy();
  },
};
