// GENERATED FILE: do not edit. Edit js/src/*.js and run `make js` (esbuild bundles
// js/src/index.js into this one self-contained ES module for anywidget and HTML reports).

// src/format.js
var INTEGER = new Intl.NumberFormat("en-US", { maximumFractionDigits: 3 });
function fmtInt(n) {
  if (n == null || n === "") return "—";
  const x = Number(n);
  return Number.isFinite(x) ? INTEGER.format(x) : String(n);
}
function fmtId(x) {
  return String(Math.round(Number(x)));
}
function fmtDist(x, nonNegative = false) {
  if (x == null) return "—";
  if (!Number.isFinite(x)) return String(x);
  const v = nonNegative && x < 0 ? 0 : x;
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  return v.toFixed(3);
}
function fmtTick(x, nonNegative = false) {
  const text = fmtDist(x, nonNegative);
  return text.includes("e") || !text.includes(".") ? text : text.replace(/\.?0+$/, "");
}
function nonNegativeMetric(metric) {
  return metric === "l2" || metric === "cosine";
}
function plural(n, one, many) {
  return `${fmtInt(n)} ${n === 1 ? one : many || `${one}s`}`;
}
function clamp(x, lo, hi) {
  return x < lo ? lo : Math.min(x, hi);
}

// src/theme.js
var colorCache = /* @__PURE__ */ new Map();
var colorCtx = null;
function parseColor(c) {
  const hit = colorCache.get(c);
  if (hit) return hit;
  let out = [0, 0, 0, 1];
  const s = String(c).trim();
  if (/^#[0-9a-f]{6}$/i.test(s)) {
    out = [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16), 1];
  } else if (/^#[0-9a-f]{3}$/i.test(s)) {
    out = [parseInt(s[1] + s[1], 16), parseInt(s[2] + s[2], 16), parseInt(s[3] + s[3], 16), 1];
  } else if (/^rgba?\(/i.test(s)) {
    const m = s.match(/[\d.]+/g) || ["0", "0", "0", "1"];
    out = [Number(m[0]), Number(m[1]), Number(m[2]), m.length > 3 ? Number(m[3]) : 1];
  } else if (typeof document !== "undefined") {
    if (!colorCtx) colorCtx = document.createElement("canvas").getContext("2d");
    if (colorCtx) {
      colorCtx.fillStyle = "#000000";
      colorCtx.fillStyle = s;
      return parseColor(String(colorCtx.fillStyle));
    }
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
function inkOn(fill) {
  return luminance(fill) > 0.6 ? "#1b1f24" : "#ffffff";
}
var PALETTES = {
  light: {
    probes: ["#0072b2", "#e69f00", "#009e73", "#56b4e9", "#d55e00", "#882255"],
    laterProbe: "#8a94a6",
    levels: ["#0072b2", "#009e73", "#e69f00", "#d55e00", "#56b4e9", "#c9b800", "#8a6d3b", "#6c757d"],
    size: ["#e8f0fa", "#c3d7f0", "#8cb2e0", "#5588c8", "#2f63a8", "#1b3f74"],
    quiet: ["#f1f3f5", "#d9dee4"],
    empty: "#fafbfc",
    query: "#b3478f",
    select: "#1b1f24",
    missed: "#d55e00"
  },
  dark: {
    probes: ["#3a9ad9", "#f0b13a", "#2cc195", "#8fd0f5", "#ff7d3a", "#f0e442"],
    laterProbe: "#8d97a8",
    levels: ["#3a9ad9", "#2cc195", "#f0b13a", "#ff7d3a", "#8fd0f5", "#f0e442", "#c4a27a", "#adb5bd"],
    size: ["#1b2230", "#1e3550", "#244f78", "#2c6ca2", "#4b92cc", "#82c0f0"],
    quiet: ["#1f242c", "#2d343f"],
    empty: "#171a20",
    query: "#e08ac4",
    select: "#ffffff",
    missed: "#ff7d3a"
  }
};
function probeColor(pal, rank) {
  return rank >= 0 && rank < pal.probes.length ? pal.probes[rank] : pal.laterProbe;
}
function levelColor(pal, level) {
  return pal.levels[level % pal.levels.length];
}

// src/dom.js
function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = String(text);
  return e;
}
function factsTable(rows) {
  const table = h("dl", "feder-facts");
  for (const [label, value] of rows) {
    if (value == null || value === "") continue;
    table.appendChild(h("dt", null, label));
    table.appendChild(h("dd", null, value));
  }
  return table;
}
function section(title) {
  const s = h("section", "feder-section");
  if (title) s.appendChild(h("h3", null, title));
  return s;
}
function swatch(color) {
  const s = h("span", "feder-swatch");
  s.style.background = color;
  return s;
}
function badgeEl(text, color) {
  const b = h("span", "feder-badge", text);
  b.style.background = color;
  b.style.color = inkOn(color);
  return b;
}
function card(spec) {
  const box = h("div", spec.thumb ? "feder-tt-point" : "feder-tt-plain");
  if (spec.thumb) box.appendChild(spec.thumb);
  const info = h("div", "feder-tt-info");
  const head = h("div", "feder-tt-head");
  head.appendChild(h("strong", null, spec.title));
  if (spec.badge) head.appendChild(spec.badge);
  info.appendChild(head);
  if (spec.subtitle) {
    const line = h("div", "feder-muted feder-small feder-name", spec.subtitle);
    line.title = spec.subtitle;
    info.appendChild(line);
  }
  for (const line of spec.lines || []) {
    if (!line) continue;
    const row = h("div", line.muted ? "feder-tt-line feder-muted" : "feder-tt-line");
    if (line.color) row.appendChild(swatch(line.color));
    row.appendChild(h("span", null, line.text));
    info.appendChild(row);
  }
  for (const el of spec.extra || []) info.appendChild(el);
  if (spec.note) info.appendChild(h("div", "feder-muted feder-small", spec.note));
  box.appendChild(info);
  return box;
}
function hoverRow(cells, on) {
  const row = h("div", "feder-row");
  for (const c of cells) row.appendChild(c);
  if (on.enter) row.addEventListener("mouseenter", on.enter);
  if (on.leave) row.addEventListener("mouseleave", on.leave);
  if (on.click) {
    row.classList.add("feder-clickable");
    row.addEventListener("click", on.click);
  }
  return row;
}

// src/draw.js
var TAU = Math.PI * 2;
function circlePath(g, x, y, r) {
  g.moveTo(x + r, y);
  g.arc(x, y, r, 0, TAU);
}
function strokeRing(g, x, y, r, color, width = 2) {
  g.beginPath();
  circlePath(g, x, y, r);
  g.strokeStyle = color;
  g.lineWidth = width;
  g.stroke();
}
function diamondPath(g, x, y, r) {
  g.moveTo(x, y - r);
  g.lineTo(x + r, y);
  g.lineTo(x, y + r);
  g.lineTo(x - r, y);
  g.closePath();
}
function haloText(g, text, x, y, fill, halo, width = 3) {
  g.lineJoin = "round";
  g.lineWidth = width;
  g.strokeStyle = halo;
  g.strokeText(text, x, y);
  g.fillStyle = fill;
  g.fillText(text, x, y);
}
var QUERY_RADIUS = 13;
function drawQuery(g, pal, x, y) {
  g.beginPath();
  circlePath(g, x, y, QUERY_RADIUS);
  g.fillStyle = rgba(pal.query, 0.16);
  g.fill();
  g.beginPath();
  for (const [a, b] of [
    [-18, -9],
    [9, 18]
  ]) {
    g.moveTo(x + a, y);
    g.lineTo(x + b, y);
    g.moveTo(x, y + a);
    g.lineTo(x, y + b);
  }
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
}
function badge(g, pal, font, x, y, text, fill, r = 9) {
  g.beginPath();
  circlePath(g, x, y, r);
  g.fillStyle = fill;
  g.fill();
  g.lineWidth = 1.5;
  g.strokeStyle = pal.bg;
  g.stroke();
  g.font = font(r > 8 ? 10 : r > 7 ? 9 : 8, 700);
  g.textAlign = "center";
  g.textBaseline = "middle";
  g.fillStyle = inkOn(fill);
  g.fillText(text, x, y + 0.5);
}
function arrowHead(g, x0, y0, x1, y1, size) {
  const a = Math.atan2(y1 - y0, x1 - x0);
  g.moveTo(x1, y1);
  g.lineTo(x1 - size * Math.cos(a - 0.45), y1 - size * Math.sin(a - 0.45));
  g.lineTo(x1 - size * Math.cos(a + 0.45), y1 - size * Math.sin(a + 0.45));
  g.closePath();
}
function drawRings(g, pal, cx, cy, R, rings, nonNegative) {
  g.save();
  g.strokeStyle = rgba(pal.fg, 0.12);
  g.lineWidth = 1;
  g.setLineDash([2, 4]);
  const labels = [];
  for (const ring of rings) {
    g.beginPath();
    circlePath(g, cx, cy, ring.radius * R);
    g.stroke();
    labels.push({ x: cx, y: cy - ring.radius * R, text: fmtTick(ring.distance, nonNegative) });
  }
  g.restore();
  return labels;
}

// src/diagnosis.js
var MISS_RADIUS = 6;
var LIST_ROWS = 20;
var TRUTH_DECODED = "Truth: decoded codes. This index stores lossy codes, so the exact top-k is over their reconstructions and quantization misses cannot show: pass vectors= (the original vectors) to FederPy.";
function distanceText(d, j, nonNeg) {
  const code = d.missCodeDist && j < d.missCodeDist.length ? d.missCodeDist[j] : Number.NaN;
  if (!Number.isFinite(code)) return `d ${fmtDist(d.missDist[j], nonNeg)}`;
  return `true ${fmtDist(d.missDist[j], nonNeg)} · code ${fmtDist(code, nonNeg)}`;
}
function reasonText(d, j) {
  const reason = d.reasons[d.missReason[j]] || "unknown";
  switch (reason) {
    case "list_not_probed":
      return d.missListRank[j] > 0 ? `its list ${d.missList[j]} was not probed (nprobe ≥ ${d.missListRank[j]} scans it)` : `its list ${d.missList[j]} was not probed (the HNSW coarse search did not return it)`;
    case "quantization":
      return d.missList[j] >= 0 ? `quantization: its list ${d.missList[j]} was scanned, but its code's distance ranked it out of the top ${d.k}` : `quantization: its code's distance was computed, but ranked it out of the top ${d.k}`;
    case "unreachable":
      return "unreachable: no link path from the entry point leads to it";
    case "not_reached":
      return d.missHops[j] > 0 ? `not reached: ${plural(d.missHops[j], "link")} beyond the nodes the beam computed (raise ef)` : "not reached: the beam stopped before computing it (raise ef)";
    case "tie":
      return "tied with the k-th result; the library kept another vector at that distance";
    default:
      return reason;
  }
}
function reasonShort(d, j) {
  const reason = d.reasons[d.missReason[j]];
  if (reason === "list_not_probed") return d.missListRank[j] > 0 ? `nprobe ≥ ${d.missListRank[j]}` : "list not probed";
  if (reason === "quantization") return "code ranked out";
  if (reason === "not_reached") return d.missHops[j] > 0 ? `${d.missHops[j]} hops away` : "not reached";
  return reason || "";
}
function recallChipText(d, state = {}) {
  if (d) {
    return {
      text: `recall@${d.k} ${d.recall.toFixed(2)}`,
      cls: d.recall >= 1 ? "feder-recall-ok" : "feder-recall-low",
      title: `${d.found} of the ${d.k} exact nearest neighbours were returned`
    };
  }
  if (state.error) return { text: "recall unavailable", cls: "feder-recall-failed", title: `The diagnosis failed: ${state.error}` };
  if (state.pending) {
    return {
      text: "checking recall…",
      cls: "feder-recall-pending",
      title: "The kernel is computing the exact nearest neighbours of this search (a big index: the search is shown first); recall and missed neighbours appear when it is done."
    };
  }
  return null;
}
function recallChip(d, state = {}) {
  const said = recallChipText(d, state);
  if (!said) return null;
  const chip = h("span", `feder-recall ${said.cls}`);
  chip.textContent = said.text;
  chip.title = said.title;
  return chip;
}
function recallSection(app, d, nonNeg) {
  const sec = section(`Recall@${d.k}: ${d.recall.toFixed(2)}`);
  const missed = d.missIds.length;
  sec.appendChild(
    h("p", "feder-small", missed ? `${d.found} of the ${d.k} exact nearest neighbours were returned; ${plural(missed, "was", "were")} missed:` : `All ${d.k} exact nearest neighbours were returned.`)
  );
  if (d.truthSpace === "decoded") sec.appendChild(h("p", "feder-small feder-missed-text feder-truth-decoded", TRUTH_DECODED));
  const rows = h("div", "feder-rows");
  for (let j = 0; j < missed && j < LIST_ROWS; j++) {
    const row = h("div", "feder-row feder-miss-row");
    row.appendChild(h("span", "feder-miss-mark", "×"));
    const main = h("span", "feder-row-main");
    main.appendChild(h("strong", null, app.idText(d.missIds[j])));
    main.appendChild(h("span", "feder-muted", ` exact #${d.missRank[j]} · ${distanceText(d, j, nonNeg)}`));
    main.appendChild(h("div", "feder-small", reasonText(d, j)));
    row.appendChild(main);
    const id = d.missIds[j];
    row.addEventListener("mouseenter", () => app.hoverId(id));
    row.addEventListener("mouseleave", () => app.setHover(null));
    rows.appendChild(row);
  }
  sec.appendChild(rows);
  return sec;
}
function missedCards(app, d, nonNeg, idCard2) {
  const out = [];
  for (let j = 0; j < d.missIds.length; j++) {
    const c = idCard2(app, d.missIds[j], [`missed · exact #${d.missRank[j]}`, `${distanceText(d, j, nonNeg)} · ${reasonShort(d, j)}`], 64);
    c.classList.add("feder-card-missed");
    c.dataset.missed = String(j);
    c.title = reasonText(d, j);
    out.push(c);
  }
  return out;
}
function drawMisses(g, pal, xs, ys) {
  g.save();
  g.beginPath();
  for (let j = 0; j < xs.length; j++) circlePath(g, xs[j], ys[j], MISS_RADIUS);
  g.fillStyle = pal.bg;
  g.fill();
  g.lineWidth = 2;
  g.strokeStyle = pal.missed;
  g.stroke();
  g.beginPath();
  const a = MISS_RADIUS * 0.55;
  for (let j = 0; j < xs.length; j++) {
    g.moveTo(xs[j] - a, ys[j] - a);
    g.lineTo(xs[j] + a, ys[j] + a);
    g.moveTo(xs[j] + a, ys[j] - a);
    g.lineTo(xs[j] - a, ys[j] + a);
  }
  g.lineWidth = 1.5;
  g.stroke();
  g.restore();
}
function missTooltip(app, d, j, nonNeg) {
  const id = d.missIds[j];
  return card({
    title: `${app.idText(id)} · missed`,
    thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
    subtitle: app.media.name(id),
    lines: [{ text: `exact #${d.missRank[j]} · ${distanceText(d, j, nonNeg)}`, color: app.pal.missed }],
    note: reasonText(d, j)
  });
}

// src/control.js
function searchBar(search, host, state = {}) {
  if (!search) return null;
  const el = h("div", "feder-searchbar");
  const control = search.control;
  const error = h("span", "feder-search-error");
  error.hidden = true;
  if (control && control.values.length > 1) {
    const steps = host.steps();
    const usable = steps && steps.name === control.name ? steps : null;
    const values = usable ? usable.values : control.values;
    const label = h("label", "feder-param");
    label.appendChild(h("span", null, control.label));
    const slider = h("input", "feder-param-slider");
    slider.type = "range";
    slider.min = "0";
    slider.max = String(values.length - 1);
    slider.step = "1";
    slider.value = String(Math.max(0, nearestIndex(values, control.value)));
    slider.setAttribute("aria-label", `${control.label} of the search`);
    const value = h("span", "feder-param-value", String(control.value));
    slider.addEventListener("input", () => {
      value.textContent = String(values[Number(slider.value)]);
    });
    slider.addEventListener("change", () => {
      const v = values[Number(slider.value)];
      if (v === control.value) return;
      error.hidden = true;
      if (usable) {
        host.showSearch(usable.searches[Number(slider.value)]);
        return;
      }
      el.classList.add("feder-pending");
      value.textContent = `${v}…`;
      host.send({ type: "search", params: { [control.name]: v } });
    });
    label.append(slider, value);
    el.appendChild(label);
  }
  const chip = recallChip(search.diag, state);
  if (chip) el.appendChild(chip);
  if (!search.diag && state.error) {
    error.textContent = `diagnosis failed: ${state.error}`;
    error.hidden = false;
  }
  el.appendChild(error);
  return {
    el,
    error(message) {
      el.classList.remove("feder-pending");
      error.textContent = message;
      error.hidden = false;
    }
  };
}
function nearestIndex(values, v) {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || Math.abs(values[i] - v) < Math.abs(values[best] - v)) best = i;
  return best;
}

// src/debug.js
function attachDebug(root, app) {
  const laidOut = (read) => {
    app.stage.ensureLayout();
    return app.scene ? read(app.scene) : null;
  };
  Object.assign(root, {
    federDebug: {
      targets: (limit = 40) => laidOut((s) => s.targets(limit)) || [],
      labels: () => laidOut((s) => s.labelBoxes) || [],
      thumbs: () => laidOut((s) => "thumbBoxes" in s ? s.thumbBoxes : []) || [],
      query: () => laidOut((s) => s.queryScreen()),
      draw: () => app.stage.draw(),
      view: () => app.view
    }
  });
}

// src/media.js
var SAFE_URL = /^(https?:|data:image\/|blob:)/i;
var CANVAS_URL = /^(data:image\/|blob:)/i;
var TEXT_LIMIT = 600;
var TEXT_WIDTH = 136;
var TEXT_FULL_WIDTH = 240;
function textWidth(size, opts) {
  return Math.max(2 * size, opts.full ? TEXT_FULL_WIDTH : TEXT_WIDTH);
}
var MediaStore = class {
  /** @param {MediaHost} host */
  constructor(host) {
    this.host = host;
    this.items = /* @__PURE__ */ new Map();
    this.urls = /* @__PURE__ */ new Map();
    this.pending = /* @__PURE__ */ new Set();
    this.queue = /* @__PURE__ */ new Set();
    this.waiting = /* @__PURE__ */ new Map();
    this.images = /* @__PURE__ */ new Map();
    this.looseUrls = [];
    this.type = null;
    this.timer = 0;
  }
  /** @param {unknown} media the `media` trait: {media_type, items} */
  load(media) {
    this.revoke();
    this.items.clear();
    this.pending.clear();
    this.images.clear();
    const m = (
      /** @type {{media_type?: unknown, items?: Record<string, MediaItem>}} */
      media || {}
    );
    this.type = m.media_type ? String(m.media_type) : null;
    const items = m.items || {};
    for (const key of Object.keys(items)) this.items.set(key, items[key]);
  }
  /** Whether there is media to show at all. */
  shows() {
    return this.type != null;
  }
  get isText() {
    return this.type === "text";
  }
  revoke() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }
  destroy() {
    this.revoke();
    for (const u of this.looseUrls) URL.revokeObjectURL(u);
    if (this.timer) clearTimeout(this.timer);
  }
  /**
   * The kernel's answer: `{type: "media", items: {id: item with "buffer": i}}`.
   * @param {any} msg
   * @param {ReadonlyArray<DataView | ArrayBuffer>} [buffers]
   */
  receive(msg, buffers) {
    if (msg?.type !== "media" || !msg.items) return;
    for (const key of Object.keys(msg.items)) {
      let item = msg.items[key];
      if (item && item.buffer != null && buffers?.[item.buffer]) {
        item = Object.assign({}, item, { data: buffers[item.buffer] });
      }
      this.pending.delete(key);
      const old = this.urls.get(key);
      if (old) {
        URL.revokeObjectURL(old);
        this.urls.delete(key);
      }
      this.images.delete(key);
      this.items.set(key, item);
      const waiting = this.waiting.get(key);
      if (waiting) {
        this.waiting.delete(key);
        for (const [box, opts] of waiting) if (box.isConnected) this.fill(box, key, item, opts);
      }
    }
    this.host.changed();
  }
  /** @param {string} key */
  request(key) {
    if (!this.shows() || this.items.has(key) || this.pending.has(key)) return;
    this.pending.add(key);
    this.queue.add(key);
    if (this.timer) return;
    this.timer = Number(
      setTimeout(() => {
        this.timer = 0;
        const ids = [];
        for (const k of this.queue) ids.push(Number(k));
        this.queue.clear();
        if (ids.length) this.host.send({ type: "media", ids });
      }, 20)
    );
  }
  /**
   * A URL an <img> can show for the item (a blob URL for bytes), or null.
   * @param {string | null} key
   * @param {MediaItem | undefined} item
   * @returns {string | null}
   */
  urlFor(key, item) {
    if (!item) return null;
    if (item.kind === "image" && item.data) {
      let url = key != null ? this.urls.get(key) : null;
      if (!url) {
        const mime = typeof item.mime === "string" && /^image\/[\w.+-]+$/.test(item.mime) ? item.mime : "image/png";
        const data = (
          /** @type {BlobPart} */
          item.data
        );
        url = URL.createObjectURL(new Blob([data], { type: mime }));
        if (key != null) this.urls.set(key, url);
        else this.looseUrls.push(url);
      }
      return url;
    }
    if (item.kind === "url" && typeof item.url === "string" && SAFE_URL.test(item.url)) return item.url;
    return null;
  }
  /**
   * A decoded image of `id` for drawing on a canvas, or null (then it is loaded or
   * requested, and `host.changed()` fires when it can be drawn).
   * @param {number} id
   * @returns {HTMLImageElement | null}
   */
  image(id) {
    if (!this.shows() || this.isText) return null;
    const key = fmtId(id);
    const cached = this.images.get(key);
    if (cached) return cached.complete && cached.naturalWidth > 0 ? cached : null;
    const item = this.items.get(key);
    if (!item) {
      this.request(key);
      return null;
    }
    const url = this.urlFor(key, item);
    if (!url || !CANVAS_URL.test(url)) return null;
    const img = new Image();
    img.decoding = "async";
    img.onload = () => this.host.changed();
    img.src = url;
    this.images.set(key, img);
    return null;
  }
  /**
   * The file name of an id's image, when known.
   * @param {number} id
   * @returns {string | null}
   */
  name(id) {
    const item = this.items.get(fmtId(id));
    return item && typeof item.name === "string" && item.name ? item.name : null;
  }
  /**
   * A thumbnail box for an id (image, text card or a placeholder that fills in later).
   * @param {number} id
   * @param {ThumbOptions} [opts]
   * @returns {HTMLElement}
   */
  thumb(id, opts = {}) {
    const key = fmtId(id);
    const box = this.box(opts);
    const item = this.items.get(key);
    if (item) {
      this.fill(box, key, item, opts);
    } else {
      this.placeholder(box, key, "…");
      const list = this.waiting.get(key) || [];
      list.push([box, opts]);
      this.waiting.set(key, list);
      this.request(key);
    }
    return box;
  }
  /**
   * A thumbnail for an item given directly (the query's own image or text).
   * @param {MediaItem} item
   * @param {ThumbOptions} [opts]
   * @returns {HTMLElement}
   */
  thumbItem(item, opts = {}) {
    const box = this.box(opts);
    this.fill(box, null, item, opts);
    return box;
  }
  /** @param {ThumbOptions} opts */
  box(opts) {
    const box = h("div", "feder-thumb");
    if (opts.size) {
      box.style.width = `${this.isText ? textWidth(opts.size, opts) : opts.size}px`;
      box.style.height = this.isText ? "auto" : `${opts.size}px`;
    }
    return box;
  }
  /**
   * @param {HTMLElement} box
   * @param {string | null} key
   * @param {MediaItem} item
   * @param {ThumbOptions} opts
   */
  fill(box, key, item, opts) {
    box.replaceChildren();
    box.classList.remove("feder-thumb-missing", "feder-thumb-text");
    if (item.kind === "text") {
      box.classList.add("feder-thumb-text");
      box.classList.toggle("feder-thumb-clamped", !opts.full);
      box.style.height = "auto";
      if (opts.size) box.style.width = `${textWidth(opts.size, opts)}px`;
      const text = String(item.text == null ? "" : item.text);
      const limit = opts.full ? TEXT_LIMIT : 140;
      box.textContent = text.length > limit ? `${text.slice(0, limit)}…` : text;
      return;
    }
    const url = this.urlFor(key, item);
    if (url) {
      const img = document.createElement("img");
      img.alt = key != null ? `id ${key}` : "query";
      img.draggable = false;
      img.decoding = "async";
      img.src = url;
      box.appendChild(img);
      return;
    }
    this.placeholder(box, key, "", item.kind === "missing" ? String(item.reason || "missing") : "");
  }
  /**
   * @param {HTMLElement} box
   * @param {string | null} key
   * @param {string} mark
   * @param {string} [reason]
   */
  placeholder(box, key, mark, reason) {
    box.classList.add("feder-thumb-missing");
    box.appendChild(h("span", null, mark || (key != null ? `#${key}` : "—")));
    if (reason) box.title = reason;
  }
};

// src/payload.js
var CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array
};
function typed(a) {
  if (a == null) return new Float64Array(0);
  const C = CTORS[a.dtype];
  if (!C) throw new Error(`feder: unsupported dtype ${String(a.dtype)}`);
  const d = a.data;
  if (Array.isArray(d)) return new C(d);
  let buffer;
  let offset = 0;
  let length = 0;
  if (d instanceof ArrayBuffer) {
    buffer = d;
    length = d.byteLength;
  } else if (d && ArrayBuffer.isView(d)) {
    buffer = d.buffer;
    offset = d.byteOffset;
    length = d.byteLength;
  } else {
    return new C(0);
  }
  const size = C.BYTES_PER_ELEMENT;
  const count = Math.floor(length / size);
  const buf = (
    /** @type {ArrayBuffer} */
    buffer
  );
  if (offset % size === 0) return new C(buf, offset, count);
  return new C(buf.slice(offset, offset + count * size));
}
function obj(v) {
  return v && typeof v === "object" ? (
    /** @type {Record<string, any>} */
    v
  ) : {};
}
function decodeDiagnosis(raw) {
  if (!raw || typeof raw !== "object") return null;
  const d = obj(raw);
  const truth = obj(d.truth);
  const m = obj(d.missed);
  return {
    recall: Number(d.recall),
    k: Number(d.k),
    found: Number(d.found),
    reasons: Array.isArray(d.reasons) ? d.reasons.map(String) : [],
    truthIds: typed(truth.ids),
    truthDist: typed(truth.distances),
    missIds: typed(m.ids),
    missRank: typed(m.true_rank),
    missDist: typed(m.distances),
    missReason: typed(m.reason),
    missList: typed(m.list),
    missListRank: typed(m.list_rank),
    missHops: typed(m.hops),
    missXY: typed(m.xy),
    truthSpace: d.truth_space === "decoded" ? "decoded" : "exact",
    truthCodeDist: typed(truth.code_distances),
    resultTrueDist: typed(obj(d.results).true_distances),
    missCodeDist: typed(m.code_distances)
  };
}
function decodeCodes(raw) {
  if (!raw || typeof raw !== "object") return null;
  const c = obj(raw);
  const num = (v) => v == null || !Number.isFinite(Number(v)) ? null : Number(v);
  return {
    truthSpace: c.truth_space === "decoded" ? "decoded" : "exact",
    largerIsCloser: !!c.larger_is_closer,
    scanned: Number(c.scanned) || 0,
    ids: typed(c.ids),
    lists: typed(c.lists),
    codeDist: typed(c.code_distances),
    trueDist: typed(c.true_distances),
    rank: typed(c.rank),
    trueRank: typed(c.true_rank),
    kthCode: num(c.kth_code),
    kthTrue: num(c.kth_true)
  };
}
function decodeControl(raw) {
  const c = obj(raw);
  if (!c.name || !Array.isArray(c.values)) return null;
  return { name: String(c.name), label: String(c.label || c.name), value: Number(c.value), values: c.values.map(Number) };
}
function decodeIVFOverview(p) {
  const sizes = typed(p.sizes);
  const cells = obj(p.cells);
  const members = obj(p.members);
  return {
    kind: "ivf_overview",
    family: "ivf",
    box: Array.isArray(p.box) ? p.box.map(Number) : [800, 500],
    cellXY: typed(cells.xy),
    cellOff: typed(cells.offsets),
    centers: typed(p.centers),
    sizes,
    memIds: typed(members.ids),
    memOff: members.offsets ? typed(members.offsets) : new Int32Array(sizes.length + 1),
    nlist: sizes.length,
    facts: obj(p.facts)
  };
}
function decodeIVFSearch(p) {
  const fine = obj(p.fine);
  const coarse = obj(p.coarse);
  const sectors = obj(fine.sectors);
  const results = obj(p.results);
  const projection = fine.projection ? obj(fine.projection) : null;
  const probed = typed(coarse.lists);
  const lists = typed(fine.lists);
  const rank = typed(fine.rank);
  const probeRank = /* @__PURE__ */ new Map();
  for (let i = 0; i < probed.length; i++) probeRank.set(probed[i], i);
  const perList = /* @__PURE__ */ new Map();
  for (let i = 0; i < lists.length; i++) perList.set(lists[i], (perList.get(lists[i]) || 0) + 1);
  const top = [];
  for (let i = 0; i < rank.length; i++) if (rank[i] >= 0) top.push(i);
  top.sort((a, b) => rank[a] - rank[b]);
  return {
    kind: "ivf_search",
    metric: String(p.metric || ""),
    params: obj(p.params),
    probed,
    probedDist: typed(coarse.distances),
    allDist: typed(coarse.all_distances),
    queryXY: Array.isArray(coarse.query_xy) ? coarse.query_xy.map(Number) : [0, 0],
    ids: typed(fine.ids),
    lists,
    dist: typed(fine.distances),
    rank,
    polar: typed(fine.polar_xy),
    sectorLists: typed(sectors.lists),
    sectorStart: typed(sectors.start),
    sectorEnd: typed(sectors.end),
    scale: fine.scale ? (
      /** @type {RadialScalePayload} */
      fine.scale
    ) : null,
    projection: projection ? {
      method: String(projection.method || "projection"),
      xy: typed(projection.xy),
      queryXY: Array.isArray(projection.query_xy) ? projection.query_xy.map(Number) : [0.5, 0.5]
    } : null,
    resultIds: typed(results.ids),
    resultDist: typed(results.distances),
    target: obj(p.target),
    diag: decodeDiagnosis(p.diagnosis),
    codes: decodeCodes(p.codes),
    control: decodeControl(p.control),
    scanned: p.kind === "flat_search" ? Number(p.scanned) : null,
    probeRank,
    perList,
    top
  };
}
function decodeHNSWOverview(p) {
  const nodes = obj(p.nodes);
  const paths = p.paths ? obj(p.paths) : null;
  return {
    kind: "hnsw_overview",
    family: "graph",
    ids: typed(nodes.ids),
    xy: typed(nodes.xy),
    top: typed(nodes.top_level),
    levels: (Array.isArray(p.levels) ? p.levels : []).map((l) => ({
      level: Number(l.level),
      src: typed(l.src),
      dst: typed(l.dst)
    })),
    pathOffsets: paths ? typed(paths.offsets) : null,
    pathNodes: paths ? typed(paths.nodes) : null,
    pathLevels: paths ? typed(paths.levels) : null,
    facts: obj(p.facts)
  };
}
function decodeHNSWSearch(p) {
  const ev = obj(p.events);
  const nodes = obj(p.nodes);
  const res = obj(p.results);
  const evLevel = typed(ev.level);
  const levels = [];
  let e = 0;
  for (const raw of Array.isArray(p.levels) ? p.levels : []) {
    const row = obj(raw);
    const start = e;
    while (e < evLevel.length && evLevel[e] === row.level) e++;
    levels.push({
      level: Number(row.level),
      entry: Number(row.entry),
      visited: Number(row.visited),
      edges: row.edges != null ? Number(row.edges) : e - start,
      start,
      end: e
    });
  }
  return {
    kind: "hnsw_search",
    metric: String(p.metric || ""),
    params: obj(p.params),
    ids: typed(nodes.ids),
    xy: typed(nodes.xy),
    dist: typed(nodes.distances),
    scale: p.scale ? (
      /** @type {RadialScalePayload} */
      p.scale
    ) : null,
    evLevel,
    evSrc: typed(ev.src),
    evDst: typed(ev.dst),
    evOut: typed(ev.outcome),
    evEvict: typed(ev.evicted),
    levels,
    resultIds: typed(res.ids),
    resultDist: typed(res.distances),
    resultNodes: typed(res.nodes),
    target: obj(p.target),
    diag: decodeDiagnosis(p.diagnosis),
    codes: decodeCodes(p.codes),
    control: decodeControl(p.control)
  };
}
function decodeFlatOverview(p) {
  const points = obj(p.points);
  return { kind: "flat_overview", family: "flat", ids: typed(points.ids), xy: typed(points.xy), facts: obj(p.facts) };
}
var OVERVIEWS = { ivf_overview: decodeIVFOverview, hnsw_overview: decodeHNSWOverview, flat_overview: decodeFlatOverview };
var SEARCHES = {
  ivf_overview: ["ivf_search", decodeIVFSearch],
  hnsw_overview: ["hnsw_search", decodeHNSWSearch],
  flat_overview: ["flat_search", decodeIVFSearch]
};
function decodeOverview(payload) {
  const p = obj(payload);
  const decode = OVERVIEWS[
    /** @type {keyof typeof OVERVIEWS} */
    p.kind
  ];
  return decode ? decode(p) : null;
}
function decodeSearch(payload, overview) {
  const p = obj(payload);
  if (!overview || !p.kind) return null;
  const [kind, decode] = SEARCHES[overview.kind];
  return p.kind === kind ? (
    /** @type {(p: Record<string, any>) => Search} */
    decode(p)
  ) : null;
}

// src/diagnostics_payload.js
function decodeDiagnostics(raw) {
  const d = obj(raw);
  const sw = d.sweep ? obj(d.sweep) : null;
  const he = d.health ? obj(d.health) : null;
  const cmp = d.compare ? obj(d.compare) : null;
  const hist = he ? obj(he.histogram) : {};
  return {
    sweep: sw ? {
      param: String(sw.param),
      k: Number(sw.k),
      queries: Number(sw.queries),
      values: typed(sw.values),
      recall: typed(sw.recall),
      distances: typed(sw.distances),
      perQuery: typed(sw.per_query),
      worst: typed(sw.worst),
      searches: Array.isArray(sw.searches) ? sw.searches : []
    } : null,
    health: he ? {
      family: he.family === "graph" ? "graph" : "ivf",
      ntotal: Number(he.ntotal),
      sizes: typed(he.sizes),
      edges: typed(hist.edges),
      counts: typed(hist.counts),
      emptyLists: typed(he.empty_lists),
      imbalance: he.imbalance_factor == null ? null : Number(he.imbalance_factor),
      largest: Array.isArray(he.largest) ? he.largest.map(Number) : [-1, 0],
      smallest: Array.isArray(he.smallest) ? he.smallest.map(Number) : [-1, 0],
      levels: (Array.isArray(he.levels) ? he.levels : []).map((l) => ({
        level: Number(l.level),
        nodes: Number(l.nodes),
        links: Number(l.links),
        out: typed(l.out_degree),
        in: typed(l.in_degree)
      })),
      unreachable: typed(he.unreachable),
      entryPoint: he.entry_point == null ? null : Number(he.entry_point),
      deleted: Number(he.deleted || 0)
    } : null,
    compare: cmp?.left && cmp.right ? { titles: (cmp.titles || ["left", "right"]).map(String), left: obj(cmp.left), right: obj(cmp.right) } : null
  };
}

// src/stage.js
var DRAG_THRESHOLD = 4;
var KEPT_BASES = 4;
var Stage = class {
  /**
   * @param {StageHost} host
   * @param {HTMLElement} parent
   */
  constructor(host, parent) {
    this.host = host;
    this.canvas = h("canvas", "feder-canvas");
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "img");
    this.ctx = /** @type {CanvasRenderingContext2D} */
    this.canvas.getContext("2d");
    this.kept = [];
    this.generation = 0;
    this.base = document.createElement("canvas");
    this.baseCtx = /** @type {CanvasRenderingContext2D} */
    this.base.getContext("2d");
    this.kept.push({ scene: null, canvas: this.base, ctx: this.baseCtx, stamp: "" });
    this.tooltip = h("div", "feder-tooltip");
    this.tooltip.hidden = true;
    this.tooltip.setAttribute("role", "tooltip");
    this.zoomHint = h("button", "feder-btn feder-zoom-reset", "Reset zoom");
    this.zoomHint.type = "button";
    this.zoomHint.hidden = true;
    this.zoomHint.addEventListener("click", () => this.resetView());
    parent.appendChild(this.canvas);
    parent.appendChild(this.tooltip);
    parent.appendChild(this.zoomHint);
    this.W = 0;
    this.H = 0;
    this.dpr = 1;
    this.raf = 0;
    this.baseDirty = true;
    this.layoutDirty = true;
    this.placeDirty = true;
    this.scene = null;
    this.tooltipKey = null;
    this.mouse = null;
    this.pointers = /* @__PURE__ */ new Map();
    this.press = null;
    const c = this.canvas;
    c.addEventListener("pointermove", (ev) => this.onMove(ev));
    c.addEventListener("pointerleave", () => this.onLeave());
    c.addEventListener("pointerdown", (ev) => this.onDown(ev));
    c.addEventListener("pointerup", (ev) => this.onUp(ev));
    c.addEventListener("pointercancel", (ev) => this.pointers.delete(ev.pointerId));
    c.addEventListener("wheel", (ev) => this.onWheel(ev), { passive: false });
    c.addEventListener("dblclick", () => this.resetView());
    c.addEventListener("keydown", (ev) => {
      if (this.scene?.keydown(ev)) ev.preventDefault();
    });
  }
  /**
   * @param {number} W CSS pixels
   * @param {number} H
   */
  resize(W, H) {
    const dpr = Math.max(1, Math.min(window.devicePixelRatio || 1, 3));
    if (W === this.W && H === this.H && dpr === this.dpr) return;
    this.W = W;
    this.H = H;
    this.dpr = dpr;
    for (const c of [this.canvas, this.base]) this.sizeCanvas(c);
    this.canvas.style.width = `${W}px`;
    this.canvas.style.height = `${H}px`;
    this.layoutDirty = true;
    this.request();
  }
  /** @param {HTMLCanvasElement} c */
  sizeCanvas(c) {
    const w = Math.round(this.W * this.dpr);
    const hh = Math.round(this.H * this.dpr);
    if (c.width !== w) c.width = w;
    if (c.height !== hh) c.height = hh;
  }
  /** What a base drawing is current for. */
  stamp() {
    return `${this.W}x${this.H}@${this.dpr}#${this.generation}`;
  }
  /**
   * Show `scene`. A scene shown recently whose base layer is still current (same size, no
   * `invalidate` since) comes back without being laid out or drawn again.
   * @param {Scene | null} scene
   */
  setScene(scene) {
    if (this.scene && (this.layoutDirty || this.placeDirty || this.baseDirty)) this.kept[0].stamp = "";
    this.scene = scene;
    this.hideTooltip();
    this.syncZoomHint();
    this.layoutDirty = true;
    if (!scene) return;
    let at = this.kept.findIndex((k) => k.scene === scene);
    if (at < 0) {
      at = this.kept.findIndex((k) => k.scene === null);
      if (at < 0 && this.kept.length < KEPT_BASES) {
        const canvas = document.createElement("canvas");
        const ctx = (
          /** @type {CanvasRenderingContext2D} */
          canvas.getContext("2d")
        );
        this.kept.push({ scene: null, canvas, ctx, stamp: "" });
      }
      if (at < 0) at = this.kept.length - 1;
      this.kept[at].scene = scene;
      this.kept[at].stamp = "";
    }
    const [entry] = this.kept.splice(at, 1);
    this.kept.unshift(entry);
    this.base = entry.canvas;
    this.baseCtx = entry.ctx;
    this.sizeCanvas(this.base);
    if (entry.stamp === this.stamp() && scene.W === this.W && scene.H === this.H) {
      this.layoutDirty = false;
      this.placeDirty = false;
      this.baseDirty = false;
    }
    this.request();
  }
  /** Redraw the base layer (data, theme or selection changed); other views' kept layers too. */
  invalidate() {
    this.generation++;
    this.baseDirty = true;
    this.request();
  }
  request() {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.draw());
  }
  /** Draw now (the rAF callback, and tests that need a synchronous frame). */
  draw() {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
    const scene = this.scene;
    if (!scene || !this.W) return;
    this.host.beforeDraw();
    if (this.layoutDirty) {
      scene.layout(this.W, this.H);
      this.layoutDirty = false;
      this.placeDirty = true;
    }
    if (this.placeDirty) {
      scene.place();
      this.placeDirty = false;
      this.baseDirty = true;
    }
    const dpr = this.dpr;
    if (this.baseDirty) {
      const b = this.baseCtx;
      b.setTransform(1, 0, 0, 1, 0, 0);
      b.fillStyle = this.host.background();
      b.fillRect(0, 0, this.base.width, this.base.height);
      b.setTransform(dpr, 0, 0, dpr, 0, 0);
      scene.labelBoxes = [];
      scene.drawBase(b);
      this.baseDirty = false;
      this.kept[0].stamp = this.stamp();
    }
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.base, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    scene.drawOverlay(ctx);
    if (scene.animating()) this.request();
  }
  /** The scene's geometry must be laid out again before the next hit test. */
  ensureLayout() {
    if (this.layoutDirty || this.placeDirty) this.draw();
  }
  /**
   * @param {MouseEvent} ev
   * @returns {[number, number]}
   */
  point(ev) {
    const r = this.canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * this.W / (r.width || 1), (ev.clientY - r.top) * this.H / (r.height || 1)];
  }
  // ---- zoom and pan
  /**
   * @param {number} x
   * @param {number} y
   * @param {number} factor
   */
  zoomAt(x, y, factor) {
    const scene = this.scene;
    if (!scene?.vp.zoomAt(x, y, factor)) return;
    this.viewChanged();
  }
  resetView() {
    if (!this.scene?.vp.moved) return;
    this.scene.vp.reset();
    this.viewChanged();
  }
  viewChanged() {
    this.placeDirty = true;
    this.hideTooltip();
    this.syncZoomHint();
    this.request();
  }
  syncZoomHint() {
    const moved = !!this.scene && this.scene.vp.moved;
    this.zoomHint.hidden = !moved;
    this.canvas.dataset.federZoom = moved && this.scene ? this.scene.vp.scale.toFixed(3) : "1";
  }
  /** @param {WheelEvent} ev */
  onWheel(ev) {
    if (!this.scene) return;
    ev.preventDefault();
    const [x, y] = this.point(ev);
    const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? 400 : 1;
    const factor = Math.exp(-ev.deltaY * unit * (ev.ctrlKey ? 0.01 : 25e-4));
    this.zoomAt(x, y, factor);
  }
  /** @param {PointerEvent} ev */
  onDown(ev) {
    if (ev.button !== 0 && ev.pointerType === "mouse") return;
    this.pointers.set(ev.pointerId, this.point(ev));
    try {
      this.canvas.setPointerCapture(ev.pointerId);
    } catch {
    }
    const [x, y] = this.point(ev);
    this.press = { x, y, moved: false, pinch: this.pinchDistance() };
  }
  pinchDistance() {
    if (this.pointers.size !== 2) return 0;
    const [a, b] = [...this.pointers.values()];
    return Math.hypot(a[0] - b[0], a[1] - b[1]);
  }
  /** @param {PointerEvent} ev */
  onMove(ev) {
    if (!this.scene) return;
    const [x, y] = this.point(ev);
    const before = this.pointers.get(ev.pointerId);
    if (before && this.press) {
      const pinch = this.pinchDistance();
      this.pointers.set(ev.pointerId, [x, y]);
      if (this.pointers.size === 2 && pinch > 0) {
        const now = this.pinchDistance();
        const [a, b] = [...this.pointers.values()];
        this.zoomAt((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, now / pinch);
        this.press.moved = true;
        return;
      }
      if (!this.press.moved && Math.hypot(x - this.press.x, y - this.press.y) > DRAG_THRESHOLD) this.press.moved = true;
      if (this.press.moved) {
        this.scene.vp.pan(x - before[0], y - before[1]);
        this.canvas.style.cursor = "grabbing";
        this.viewChanged();
        return;
      }
    }
    this.ensureLayout();
    this.mouse = [x, y];
    const item = this.scene.hit(x, y);
    this.canvas.style.cursor = item ? "pointer" : "default";
    this.host.hover(item, true);
    if (item) this.placeTooltip(x, y);
  }
  /** @param {PointerEvent} ev */
  onUp(ev) {
    const had = this.pointers.delete(ev.pointerId);
    const press = this.press;
    if (this.pointers.size === 0) this.press = null;
    if (!had || !press || press.moved || !this.scene) {
      this.canvas.style.cursor = "default";
      return;
    }
    this.ensureLayout();
    const [x, y] = this.point(ev);
    this.scene.click(this.scene.hit(x, y));
  }
  onLeave() {
    this.mouse = null;
    this.host.hover(null, true);
  }
  // ---- tooltip
  /** @param {HitItem | null} item */
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
  /**
   * @param {number} x
   * @param {number} y
   */
  placeTooltip(x, y) {
    const t = this.tooltip;
    if (t.hidden) return;
    const r = this.canvas.getBoundingClientRect();
    const s = (r.width || this.W) / this.W;
    const w = t.offsetWidth;
    const hh = t.offsetHeight;
    let left = x * s + 14;
    let top = y * s + 14;
    if (left + w > r.width - 4) left = Math.max(4, x * s - w - 14);
    if (top + hh > r.height - 4) top = Math.max(4, y * s - hh - 14);
    t.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }
  /** @param {HitItem | null} item */
  refreshTooltip(item) {
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
    this.kept = [];
  }
};

// src/scales.js
var RadialScale = class {
  /** @param {RadialScalePayload} p */
  constructor(p) {
    this.kind = p.kind === "sqrt" ? "sqrt" : "linear";
    this.zero = Number(p.zero) || 0;
    this.span = Number(p.span) || 0;
    this.largerIsCloser = !!p.larger_is_closer;
  }
  /**
   * The distance at radius `r` (0 … 1).
   * @param {number} r
   * @returns {number}
   */
  distanceAt(r) {
    const t = r * this.span;
    if (this.kind === "sqrt") return this.zero + t * t;
    return this.largerIsCloser ? this.zero - t : this.zero + t;
  }
  /**
   * The radius of distance `d` (clamped to 0 … 1).
   * @param {number} d
   * @returns {number}
   */
  radiusOf(d) {
    if (!(this.span > 0)) return 0;
    let delta = this.largerIsCloser ? this.zero - d : d - this.zero;
    if (!(delta > 0)) delta = 0;
    const t = this.kind === "sqrt" ? Math.sqrt(delta) : delta;
    return Math.min(1, t / this.span);
  }
  /**
   * Ring distances at round values of the quantity the radius is linear in (the Euclidean
   * distance for squared L2), from the centre out to radius `maxRadius`.
   * @param {number} [count]
   * @param {number} [maxRadius]
   * @returns {{radius: number, distance: number}[]}
   */
  rings(count = 4, maxRadius = 1) {
    if (!(this.span > 0)) return [];
    const top = this.span * maxRadius;
    const out = [];
    for (const t of niceTicks(0, top, count)) {
      if (t <= 0 || t > top * 1.0001) continue;
      const d = this.kind === "sqrt" ? this.zero + t * t : this.largerIsCloser ? this.zero - t : this.zero + t;
      out.push({ radius: t / this.span, distance: d });
    }
    return out;
  }
  /** A one-line statement of the mapping, for the panel. */
  describe() {
    if (this.kind === "sqrt") return "radius = √distance (the Euclidean distance); centre = distance 0";
    return this.largerIsCloser ? "radius ∝ how much lower the score is than at the centre" : "radius ∝ distance; centre = distance 0";
  }
};
function niceTicks(lo, hi, count) {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi) || count < 1) return [];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const out = [];
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
    out.push(Number((k * step).toFixed(decimals)));
  }
  return out;
}
var Viewport = class {
  /**
   * @param {number} [minScale]
   * @param {number} [maxScale]
   */
  constructor(minScale = 1, maxScale = 64) {
    this.minScale = minScale;
    this.maxScale = maxScale;
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
  }
  /** @param {number} bx */
  x(bx) {
    return bx * this.scale + this.tx;
  }
  /** @param {number} by */
  y(by) {
    return by * this.scale + this.ty;
  }
  /** Whether the view is zoomed or panned at all. */
  get moved() {
    return this.scale !== 1 || this.tx !== 0 || this.ty !== 0;
  }
  /**
   * Zoom by `factor` keeping the screen point (sx, sy) fixed.
   * @param {number} sx
   * @param {number} sy
   * @param {number} factor
   * @returns {boolean} whether anything changed
   */
  zoomAt(sx, sy, factor) {
    const next = Math.min(this.maxScale, Math.max(this.minScale, this.scale * factor));
    if (next === this.scale) return false;
    const k = next / this.scale;
    this.tx = sx - (sx - this.tx) * k;
    this.ty = sy - (sy - this.ty) * k;
    this.scale = next;
    if (next === this.minScale && this.minScale === 1) this.reset();
    return true;
  }
  /**
   * @param {number} dx
   * @param {number} dy
   */
  pan(dx, dy) {
    this.tx += dx;
    this.ty += dy;
  }
  reset() {
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
  }
};

// src/chart.js
function linearAxis(lo, hi, a, b, count = 5) {
  const span = hi - lo || 1;
  return { at: (v) => a + (v - lo) / span * (b - a), ticks: niceTicks(lo, hi, count), label: (v) => fmtTick(v) };
}
function logAxis(lo, hi, a, b) {
  const l0 = Math.log10(Math.max(lo, 1e-12));
  const l1 = Math.log10(Math.max(hi, lo * 1.0001, 1e-12));
  const span = l1 - l0 || 1;
  const ticks = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return {
    at: (v) => a + (Math.log10(Math.max(v, 1e-12)) - l0) / span * (b - a),
    ticks,
    label: (v) => v >= 1e4 ? v.toExponential(0) : String(v)
  };
}
function drawAxes(g, pal, font, box, xAxis, yAxis, xTitle, yTitle) {
  g.save();
  g.strokeStyle = rgba(pal.fg, 0.08);
  g.lineWidth = 1;
  g.beginPath();
  for (const t of xAxis.ticks) {
    const x = Math.round(xAxis.at(t)) + 0.5;
    g.moveTo(x, box.y0);
    g.lineTo(x, box.y1);
  }
  for (const t of yAxis.ticks) {
    const y = Math.round(yAxis.at(t)) + 0.5;
    g.moveTo(box.x0, y);
    g.lineTo(box.x1, y);
  }
  g.stroke();
  g.strokeStyle = rgba(pal.fg, 0.35);
  g.beginPath();
  g.moveTo(box.x0, box.y0);
  g.lineTo(box.x0, box.y1);
  g.lineTo(box.x1, box.y1);
  g.stroke();
  g.fillStyle = pal.muted;
  g.font = font(10);
  g.textAlign = "center";
  g.textBaseline = "top";
  for (const t of xAxis.ticks) g.fillText(xAxis.label(t), xAxis.at(t), box.y1 + 4);
  g.textAlign = "right";
  g.textBaseline = "middle";
  for (const t of yAxis.ticks) g.fillText(yAxis.label(t), box.x0 - 5, yAxis.at(t));
  g.font = font(11, 600);
  g.textAlign = "center";
  g.textBaseline = "bottom";
  g.fillText(xTitle, (box.x0 + box.x1) / 2, box.y1 + 32);
  g.save();
  g.translate(box.x0 - 40, (box.y0 + box.y1) / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = "middle";
  g.fillText(yTitle, 0, 0);
  g.restore();
  g.restore();
}

// src/hit.js
var PointGrid = class {
  /**
   * @param {Numbers} xs screen x of each point
   * @param {Numbers} ys screen y
   * @param {Numbers | null} radii drawn radius of each point (reach is measured from its edge)
   * @param {number} width
   * @param {number} height
   * @param {number} [cell]
   */
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
  /**
   * @param {number} x
   * @param {number} y
   * @returns {number}
   */
  bucketOf(x, y) {
    const cx = clamp(Math.floor(x / this.cell), 0, this.gx - 1);
    const cy = clamp(Math.floor(y / this.cell), 0, this.gy - 1);
    return cy * this.gx + cx;
  }
  /**
   * Index of the point whose edge is nearest to (x, y) within `reach` px; of equally near
   * points the later one wins (it is drawn on top); −1 when none.
   * @param {number} x
   * @param {number} y
   * @param {number} reach
   * @returns {number}
   */
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
          if (score <= reach && (score < bestScore || score === bestScore && i > best)) {
            best = i;
            bestScore = score;
          }
        }
      }
    }
    return best;
  }
};
function polygonBounds(xy, offsets, out = new Float64Array(4 * (offsets.length - 1))) {
  for (let i = 0; i < offsets.length - 1; i++) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let k = offsets[i]; k < offsets[i + 1]; k++) {
      const x = xy[2 * k];
      const y = xy[2 * k + 1];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    out[4 * i] = x0;
    out[4 * i + 1] = y0;
    out[4 * i + 2] = x1;
    out[4 * i + 3] = y1;
  }
  return out;
}
var PolygonGrid = class {
  /**
   * @param {Numbers} xy vertices (x0, y0, x1, y1, …)
   * @param {Numbers} offsets (p+1) polygon i has vertices offsets[i] … offsets[i+1]−1
   * @param {number} width
   * @param {number} height
   * @param {number} [cell]
   * @param {Float64Array} [bounds] the polygons' {@link polygonBounds}, when already known
   */
  constructor(xy, offsets, width, height, cell = 32, bounds = polygonBounds(xy, offsets)) {
    this.xy = xy;
    this.offsets = offsets;
    this.cell = cell;
    this.gx = Math.max(1, Math.ceil(width / cell));
    this.gy = Math.max(1, Math.ceil(height / cell));
    const buckets = [];
    for (let b = 0; b < this.gx * this.gy; b++) buckets.push([]);
    for (let i = 0; i < offsets.length - 1; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      if (b - a < 3) continue;
      const x0 = bounds[4 * i];
      const y0 = bounds[4 * i + 1];
      const x1 = bounds[4 * i + 2];
      const y1 = bounds[4 * i + 3];
      if (x1 < 0 || y1 < 0 || x0 > width || y0 > height) continue;
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
  /**
   * The polygon containing (x, y), the last drawn first; −1 when none.
   * @param {number} x
   * @param {number} y
   * @returns {number}
   */
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
  /**
   * @param {number} i
   * @param {number} x
   * @param {number} y
   * @returns {boolean}
   */
  contains(i, x, y) {
    const { xy, offsets } = this;
    const a = offsets[i];
    const b = offsets[i + 1];
    let inside2 = false;
    for (let k = a, prev = b - 1; k < b; prev = k++) {
      const xk = xy[2 * k];
      const yk = xy[2 * k + 1];
      const xp = xy[2 * prev];
      const yp = xy[2 * prev + 1];
      if (yk > y !== yp > y && x < (xp - xk) * (y - yk) / (yp - yk) + xk) inside2 = !inside2;
    }
    return inside2;
  }
};
function polygonAreas(xy, offsets) {
  const n = offsets.length - 1;
  const out = new Float32Array(Math.max(n, 0));
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let k = offsets[i], p = offsets[i + 1] - 1; k < offsets[i + 1]; p = k++) {
      a += xy[2 * p] * xy[2 * k + 1] - xy[2 * k] * xy[2 * p + 1];
    }
    out[i] = Math.abs(a) / 2;
  }
  return out;
}

// src/labels.js
function aroundPoint(w, h2, r = 4) {
  const out = [];
  for (const gap of [r + 3, r + 10, r + 20]) {
    const dx = w / 2 + gap;
    const dy = h2 / 2 + gap;
    out.push([dx, 0], [-dx, 0], [0, -dy], [0, dy], [dx, -dy], [-dx, -dy], [dx, dy], [-dx, dy]);
  }
  return out;
}
function overlaps(a, b, pad = 0) {
  return a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;
}
function inside(box, bounds) {
  return box.x >= bounds.x && box.y >= bounds.y && box.x + box.w <= bounds.x + bounds.w && box.y + box.h <= bounds.y + bounds.h;
}
function placeLabels(requests, bounds, obstacles = [], pad = 1) {
  const placed = [];
  return requests.map((req) => {
    const offsets = req.offsets || aroundPoint(req.w, req.h);
    for (const [dx, dy] of offsets) {
      const box = { x: req.x + dx - req.w / 2, y: req.y + dy - req.h / 2, w: req.w, h: req.h };
      if (!inside(box, bounds) || req.fits && !req.fits(box)) continue;
      if (placed.some((p) => overlaps(box, p, pad))) continue;
      if (obstacles.some((o) => overlaps(box, o))) continue;
      placed.push(box);
      return box;
    }
    return null;
  });
}
function markerBox(x, y, r) {
  return { x: x - r, y: y - r, w: 2 * r, h: 2 * r };
}

// src/scenes/scene.js
var Scene = class {
  /** @param {SceneHost} app */
  constructor(app) {
    this.app = app;
    this.W = 0;
    this.H = 0;
    this.vp = new Viewport();
    this.labelBoxes = [];
  }
  /**
   * Base geometry for a W × H canvas at zoom 1.
   * @param {number} W
   * @param {number} H
   */
  layout(W, H) {
    this.W = W;
    this.H = H;
  }
  /** Screen positions through the viewport (after layout, and on every zoom / pan). */
  place() {
  }
  /** @param {CanvasRenderingContext2D} _g */
  drawBase(_g) {
  }
  /** @param {CanvasRenderingContext2D} _g */
  drawOverlay(_g) {
  }
  /** Whether the overlay wants another frame (an animation is running). */
  animating() {
    return false;
  }
  /**
   * @param {number} _x
   * @param {number} _y
   * @returns {HitItem | null}
   */
  hit(_x, _y) {
    return null;
  }
  /**
   * @param {HitItem} _item
   * @returns {HTMLElement | null}
   */
  tooltip(_item) {
    return null;
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (!item) this.app.select([], -1);
  }
  /**
   * The hit item showing user id `id`, for hover from the panel or results strip.
   * @param {number} _id
   * @returns {HitItem | null}
   */
  hoverId(_id) {
    return null;
  }
  /** @returns {HTMLElement} */
  panel() {
    return h("div");
  }
  /** @returns {HTMLElement | null} */
  strip() {
    return null;
  }
  /** @returns {HTMLElement | null} */
  controls() {
    return null;
  }
  /**
   * Hover / click targets in canvas CSS pixels (for tests).
   * @param {number} [_limit]
   * @returns {Target[]}
   */
  targets(_limit) {
    return [];
  }
  /**
   * Where the query is drawn (canvas CSS pixels), for tests; null when not drawn.
   * @returns {[number, number] | null}
   */
  queryScreen() {
    return null;
  }
  /**
   * @param {KeyboardEvent} _ev
   * @returns {boolean} handled
   */
  keydown(_ev) {
    return false;
  }
  activate() {
  }
  deactivate() {
  }
  /** The box labels must stay inside. */
  labelBounds() {
    return { x: 2, y: 2, w: this.W - 4, h: this.H - 4 };
  }
  /**
   * Place labels without overlap (each other, `obstacles`, the canvas edge) and draw them;
   * labels that fit nowhere are left out. Records the boxes in `labelBoxes`.
   * @param {CanvasRenderingContext2D} g
   * @param {readonly LabelSpec[]} specs most important first
   * @param {readonly Box[]} [obstacles]
   * @param {Box} [bounds]
   * @param {boolean} [record] keep the boxes in `labelBoxes` (not for per-frame overlays)
   * @returns {Array<Box | null>}
   */
  drawLabels(g, specs, obstacles = [], bounds = this.labelBounds(), record = true) {
    const app = this.app;
    const requests = specs.map((s) => {
      g.font = app.font(s.size || 10, s.weight || 500);
      const w = Math.ceil(g.measureText(s.text).width) + 4;
      const hh = (s.size || 10) + 4;
      const offsets = s.leftAnchored ? [[w / 2, 0], [w / 2, hh + 2]] : s.offsets;
      return { x: s.x, y: s.y, w, h: hh, offsets, fits: s.fits };
    });
    const boxes = placeLabels(requests, bounds, obstacles);
    g.textAlign = "center";
    g.textBaseline = "middle";
    boxes.forEach((box, i) => {
      if (!box) return;
      const s = specs[i];
      g.font = app.font(s.size || 10, s.weight || 500);
      haloText(g, s.text, box.x + box.w / 2, box.y + box.h / 2 + 0.5, s.color, s.halo || app.pal.bg);
      if (record) this.labelBoxes.push({ ...box, text: s.text });
    });
    return boxes;
  }
};

// src/scenes/strip.js
function idCard(app, id, caption, size, onClick) {
  const card2 = h("figure", "feder-card");
  if (app.media.shows()) card2.appendChild(app.media.thumb(id, { size }));
  else card2.classList.add("feder-card-bare");
  const cap = h("figcaption");
  for (const line of caption) cap.appendChild(h("span", null, line));
  card2.appendChild(cap);
  if (onClick) {
    card2.tabIndex = 0;
    card2.addEventListener("click", onClick);
    card2.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") onClick();
    });
  }
  return card2;
}
function resultsStrip(app, s) {
  const strip = h("div", "feder-strip-inner");
  const target = s.target || {};
  if (target.media || target.id != null) {
    const card2 = h("figure", "feder-card feder-card-query");
    if (target.media) card2.appendChild(app.media.thumbItem(
      /** @type {import('../media.js').MediaItem} */
      target.media,
      { size: 64 }
    ));
    else if (app.media.shows() && target.id != null) card2.appendChild(app.media.thumb(target.id, { size: 64 }));
    else card2.classList.add("feder-card-bare");
    const cap = h("figcaption");
    cap.appendChild(h("span", "feder-strong", "query"));
    if (target.id != null) cap.appendChild(h("span", null, app.idText(target.id)));
    card2.appendChild(cap);
    strip.appendChild(card2);
    strip.appendChild(h("div", "feder-strip-sep"));
  }
  const nonNeg = nonNegativeMetric(s.metric);
  let shown = 0;
  for (let i = 0; i < s.resultIds.length; i++) {
    const id = s.resultIds[i];
    if (id < 0) continue;
    shown++;
    const card2 = idCard(
      app,
      id,
      [`#${i + 1} · ${app.idText(id)}`, `d ${fmtDist(s.resultDist[i], nonNeg)}`],
      64,
      () => app.select([id], -1)
    );
    card2.dataset.rank = String(i);
    if (app.selKeys.has(fmtId(id))) card2.classList.add("feder-selected");
    card2.addEventListener("mouseenter", () => app.hoverId(id));
    card2.addEventListener("mouseleave", () => app.setHover(null));
    strip.appendChild(card2);
  }
  if (!shown) strip.appendChild(h("p", "feder-muted", "No results."));
  const d = s.diag;
  if (d?.missIds.length) {
    strip.appendChild(h("div", "feder-strip-sep"));
    missedCards(app, d, nonNeg, idCard).forEach((card2, j) => {
      card2.addEventListener("mouseenter", () => app.hoverId(d.missIds[j]));
      card2.addEventListener("mouseleave", () => app.setHover(null));
      strip.appendChild(card2);
    });
  }
  return strip;
}

// src/scenes/codes.js
var RESULT_RADIUS = 5;
var DOT_RADIUS = 2.6;
var PANEL_ROWS = 20;
var DECODED_NOTE = "True distance = to the decoded vector (the code’s reconstruction), so points sit on the diagonal up to rounding: pass vectors= to FederPy to see the quantization error.";
var CLASS = (
  /** @type {const} */
  { OTHER: 0, RESULT: 1, MISSED: 2 }
);
function classify(c) {
  const out = new Uint8Array(c.ids.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = c.rank[i] >= 0 ? CLASS.RESULT : c.trueRank[i] > 0 ? CLASS.MISSED : CLASS.OTHER;
  }
  return out;
}
function distanceAxis(near, far, a, b) {
  const span = far - near || 1;
  return {
    at: (v) => a + (v - near) / span * (b - a),
    ticks: niceTicks(Math.min(near, far), Math.max(near, far), 5),
    label: (v) => fmtTick(v)
  };
}
function distanceRange(c) {
  let lo = Infinity;
  let hi = -Infinity;
  const add = (v) => {
    if (!Number.isFinite(v)) return;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  };
  for (let i = 0; i < c.ids.length; i++) {
    add(c.codeDist[i]);
    add(c.trueDist[i]);
  }
  if (c.kthCode != null) add(c.kthCode);
  if (c.kthTrue != null) add(c.kthTrue);
  if (!(hi >= lo)) return c.largerIsCloser ? [1, 0] : [0, 1];
  const pad = (hi - lo) * 0.04 || Math.abs(hi) * 0.04 || 1;
  lo -= pad;
  hi += pad;
  return c.largerIsCloser ? [hi, lo] : [lo, hi];
}
var CodesScene = class extends Scene {
  /**
   * @param {SceneHost} app
   * @param {Search} search
   */
  constructor(app, search) {
    super(app);
    this.s = search;
    this.c = /** @type {Codes} */
    search.codes;
    const n = this.c.ids.length;
    this.n = n;
    this.cls = classify(this.c);
    this.order = new Int32Array(n);
    let j = 0;
    for (const want of [CLASS.OTHER, CLASS.RESULT, CLASS.MISSED]) for (let i = n - 1; i >= 0; i--) if (this.cls[i] === want) this.order[j++] = i;
    this.sx = new Float32Array(n);
    this.sy = new Float32Array(n);
    this.box = { x0: 0, y0: 0, x1: 1, y1: 1 };
    this.grid = new PointGrid(this.sx, this.sy, null, 1, 1);
    this.nonNeg = nonNegativeMetric(search.metric);
    this.k = search.params.k != null ? Number(search.params.k) : search.resultIds.length;
    this.byId = null;
    this.hy = Number.NaN;
    this.vx = Number.NaN;
    this.xAxis = null;
    this.yAxis = null;
  }
  /** Distances are "scores" (inner products, larger is closer) rather than distances. */
  get ip() {
    return this.c.largerIsCloser;
  }
  /** @param {'true' | 'code'} which */
  axisTitle(which) {
    const of = this.c.truthSpace === "exact" ? "(original vector)" : "(decoded vector)";
    if (this.ip) return which === "true" ? `true inner product ${of} · larger = closer, axis reversed` : "code inner product (what the search ranked by), reversed";
    const unit = this.s.metric === "l2" ? "squared L2" : this.s.metric;
    return which === "true" ? `true distance ${of} · ${unit}` : `code distance (what the search ranked by) · ${unit}`;
  }
  place() {
    const box = { x0: 66, y0: this.c.truthSpace === "decoded" ? 52 : 38, x1: this.W - 22, y1: this.H - 50 };
    this.box = box;
    const [near, far] = distanceRange(this.c);
    const vp = this.vp;
    const xa = distanceAxis(near, far, box.x0, box.x1);
    const ya = distanceAxis(near, far, box.y1, box.y0);
    this.xAxis = { ...xa, at: (v) => vp.x(xa.at(v)) };
    this.yAxis = { ...ya, at: (v) => vp.y(ya.at(v)) };
    const c = this.c;
    for (let i = 0; i < this.n; i++) {
      this.sx[i] = this.xAxis.at(c.trueDist[i]);
      this.sy[i] = this.yAxis.at(c.codeDist[i]);
    }
    this.hy = c.kthCode != null ? this.yAxis.at(c.kthCode) : Number.NaN;
    this.vx = c.kthTrue != null ? this.xAxis.at(c.kthTrue) : Number.NaN;
    const xs = new Float32Array(this.n);
    const ys = new Float32Array(this.n);
    const rr = new Float32Array(this.n);
    for (let k = 0; k < this.n; k++) {
      const i = this.order[k];
      xs[k] = this.sx[i];
      ys[k] = this.sy[i];
      rr[k] = this.cls[i] === CLASS.OTHER ? DOT_RADIUS : this.cls[i] === CLASS.RESULT ? RESULT_RADIUS : MISS_RADIUS;
    }
    this.grid = new PointGrid(xs, ys, rr, this.W, this.H);
  }
  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const c = this.c;
    const box = this.box;
    if (!this.xAxis || !this.yAxis) return;
    drawAxes(g, pal, app.font, box, this.xAxis, this.yAxis, this.axisTitle("true"), this.axisTitle("code"));
    g.save();
    g.beginPath();
    g.rect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    g.clip();
    const [near, far] = distanceRange(c);
    g.beginPath();
    g.moveTo(this.xAxis.at(near), this.yAxis.at(near));
    g.lineTo(this.xAxis.at(far), this.yAxis.at(far));
    g.setLineDash([2, 4]);
    g.strokeStyle = rgba(pal.fg, 0.45);
    g.lineWidth = 1;
    g.stroke();
    g.setLineDash([7, 4]);
    g.lineWidth = 1.5;
    if (Number.isFinite(this.hy)) {
      g.beginPath();
      g.moveTo(box.x0, this.hy);
      g.lineTo(box.x1, this.hy);
      g.strokeStyle = rgba(pal.query, 0.85);
      g.stroke();
    }
    if (Number.isFinite(this.vx)) {
      g.beginPath();
      g.moveTo(this.vx, box.y0);
      g.lineTo(this.vx, box.y1);
      g.strokeStyle = rgba(pal.probes[0], 0.85);
      g.stroke();
    }
    g.setLineDash([]);
    g.beginPath();
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.OTHER) circlePath(g, this.sx[i], this.sy[i], DOT_RADIUS);
    g.fillStyle = rgba(pal.muted, 0.55);
    g.fill();
    g.beginPath();
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.RESULT) circlePath(g, this.sx[i], this.sy[i], RESULT_RADIUS);
    g.fillStyle = pal.probes[0];
    g.fill();
    g.lineWidth = 1.5;
    g.strokeStyle = pal.fg;
    g.stroke();
    const mx = [];
    const my = [];
    for (let i = 0; i < this.n; i++) {
      if (this.cls[i] !== CLASS.MISSED) continue;
      mx.push(this.sx[i]);
      my.push(this.sy[i]);
    }
    drawMisses(g, pal, mx, my);
    g.restore();
    const marks = [];
    for (let j = 0; j < mx.length; j++) marks.push(markerBox(mx[j], my[j], MISS_RADIUS + 1));
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.RESULT) marks.push(markerBox(this.sx[i], this.sy[i], RESULT_RADIUS + 1));
    const specs = [];
    for (let j = 0; j < mx.length && j < 12; j++) specs.push({ x: mx[j], y: my[j], text: "ranked out", color: pal.missed, size: 10, weight: 700, offsets: aroundPoint(60, 14, MISS_RADIUS) });
    const inside2 = { x: box.x0 + 2, y: box.y0 + 2, w: box.x1 - box.x0 - 4, h: box.y1 - box.y0 - 4 };
    if (Number.isFinite(this.hy)) {
      const text = `cut-off: the ${this.k}-th result's code distance ${fmtDist(c.kthCode, this.nonNeg)}`;
      specs.push({ x: box.x1, y: this.hy, text, color: pal.query, size: 10, weight: 600, offsets: [[-text.length * 2.9 - 6, -9], [-text.length * 2.9 - 6, 9]] });
    }
    if (Number.isFinite(this.vx)) {
      const text = `${this.k}-th exact distance ${fmtDist(c.kthTrue, this.nonNeg)}`;
      const w = text.length * 2.9 + 6;
      specs.push({ x: this.vx, y: box.y0, text, color: pal.probes[0], size: 10, weight: 600, offsets: [[w, 9], [-w, 9], [w, 24], [-w, 24]] });
    }
    this.drawLabels(g, specs, marks, inside2);
    g.font = app.font(12, 700);
    g.fillStyle = pal.fg;
    g.textAlign = "left";
    g.textBaseline = "top";
    g.fillText(`Code vs true distance · ${fmtInt(this.n)} of ${fmtInt(c.scanned)} scanned candidates`, 12, 10);
    if (c.truthSpace === "decoded") {
      g.font = app.font(11, 600);
      g.fillStyle = pal.missed;
      g.fillText("true distance = to the decoded vector; pass vectors= to FederPy to see quantization error", 12, 28);
    }
  }
  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const app = this.app;
    const pal = app.pal;
    if (app.selKeys.size) {
      g.beginPath();
      for (const key of app.selKeys) {
        const i2 = this.indexOfId(key);
        if (i2 != null) circlePath(g, this.sx[i2], this.sy[i2], 9);
      }
      g.strokeStyle = pal.select;
      g.lineWidth = 2.5;
      g.stroke();
    }
    const hov = app.hover;
    if (hov?.kind !== "code" || hov.index == null) return;
    const i = hov.index;
    const x = this.sx[i];
    const y = this.sy[i];
    g.save();
    g.beginPath();
    g.moveTo(x, this.yAxis ? this.yAxis.at(this.c.trueDist[i]) : y);
    g.lineTo(x, y);
    g.setLineDash([3, 3]);
    g.strokeStyle = rgba(pal.fg, 0.7);
    g.lineWidth = 1.25;
    g.stroke();
    g.restore();
    strokeRing(g, x, y, this.cls[i] === CLASS.OTHER ? 6 : 10, pal.fg);
  }
  /**
   * Position of a user id (decimal string) among the candidates shown, or undefined.
   * @param {string} key
   */
  indexOfId(key) {
    if (!this.byId) {
      this.byId = /* @__PURE__ */ new Map();
      for (let i = 0; i < this.n; i++) this.byId.set(fmtId(this.c.ids[i]), i);
    }
    return this.byId.get(key);
  }
  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const i = this.order[k];
    return { key: `code:${i}`, kind: "code", index: i };
  }
  /** @param {number} id */
  hoverId(id) {
    const i = this.indexOfId(fmtId(id));
    return i == null ? null : { key: `code:${i}`, kind: "code", index: i };
  }
  /**
   * What candidate `i` is, in words.
   * @param {number} i
   */
  status(i) {
    const c = this.c;
    if (this.cls[i] === CLASS.MISSED) return `exact #${c.trueRank[i]}, missed: scanned, but its code's distance ranked it out of the top ${this.k}`;
    if (this.cls[i] === CLASS.RESULT) return c.trueRank[i] > 0 ? `result #${c.rank[i] + 1}, exact #${c.trueRank[i]}` : `result #${c.rank[i] + 1}, not in the exact top-${this.k} (its code looked closer than it is)`;
    return "scanned, not returned, not in the exact top-k";
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== "code" || item.index == null) return null;
    const app = this.app;
    const c = this.c;
    const i = item.index;
    const id = c.ids[i];
    const err = c.codeDist[i] - c.trueDist[i];
    return card({
      title: app.idText(id),
      thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
      badge: c.rank[i] >= 0 ? badgeEl(`#${c.rank[i] + 1}`, app.pal.probes[0]) : null,
      subtitle: app.media.name(id),
      lines: [
        { text: `true distance ${fmtDist(c.trueDist[i], this.nonNeg)}${c.truthSpace === "decoded" ? " (decoded)" : ""}` },
        { text: `code distance ${fmtDist(c.codeDist[i], this.nonNeg)} (${err >= 0 ? "+" : ""}${fmtDist(err)})` },
        c.lists[i] >= 0 ? { text: `list ${c.lists[i]}`, muted: true } : null
      ],
      note: this.status(i)
    });
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== "code" || item.index == null) {
      this.app.select([], -1);
      return;
    }
    const id = this.c.ids[item.index];
    if (this.app.selKeys.size === 1 && this.app.selKeys.has(fmtId(id))) this.app.select([], -1);
    else this.app.select([id], -1);
  }
  panel() {
    const app = this.app;
    const c = this.c;
    const s = this.s;
    const box = h("div");
    const sec = section("Codes vs true distances");
    let missed = 0;
    for (let i = 0; i < this.n; i++) if (this.cls[i] === CLASS.MISSED) missed++;
    sec.appendChild(
      factsTable([
        ["metric", s.metric],
        ["k", fmtInt(this.k)],
        ["truth", c.truthSpace === "exact" ? "exact (original vectors)" : "decoded codes"],
        ["codes scanned", fmtInt(c.scanned)],
        ["shown", fmtInt(this.n)],
        ["cut-off (k-th code)", c.kthCode != null ? fmtDist(c.kthCode, this.nonNeg) : null],
        ["k-th exact distance", c.kthTrue != null ? fmtDist(c.kthTrue, this.nonNeg) : null],
        ["ranked out by codes", fmtInt(missed)]
      ])
    );
    if (c.truthSpace === "decoded") {
      const note = h("p", "feder-small feder-missed-text feder-codes-decoded", DECODED_NOTE);
      sec.appendChild(note);
    }
    sec.appendChild(
      h(
        "p",
        "feder-muted feder-small",
        `Each dot is a scanned candidate: x its true distance, y its code's distance, the one the search ranked by (${this.ip ? "inner products: larger is closer, so both axes are reversed" : "closer is left and down"}). On the dotted diagonal a code is exact. Below the horizontal cut-off a candidate is returned; left of the vertical line it is one of the exact top-${this.k}. Top-left (×): exact neighbours the codes ranked out. Shown: the ${fmtInt(this.n)} nearest codes, every result and every exact neighbour scanned.`
      )
    );
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(app, s.diag, this.nonNeg));
    const rows = section("Results and exact neighbours");
    const table = h("div", "feder-rows");
    let shown = 0;
    for (let k = this.n - 1; k >= 0 && shown < PANEL_ROWS; k--) {
      const i = this.order[k];
      if (this.cls[i] === CLASS.OTHER) continue;
      shown++;
      const item = { key: `code:${i}`, kind: "code", index: i };
      const mark = this.cls[i] === CLASS.MISSED ? h("span", "feder-miss-mark", "×") : badgeEl(`${c.rank[i] + 1}`, app.pal.probes[0]);
      table.appendChild(
        hoverRow(
          [mark, h("span", "feder-row-main", app.idText(c.ids[i])), h("span", "feder-muted", `true ${fmtDist(c.trueDist[i], this.nonNeg)}`), h("span", "feder-num", `code ${fmtDist(c.codeDist[i], this.nonNeg)}`)],
          { enter: () => app.setHover(item), leave: () => app.setHover(null), click: () => this.click(item) }
        )
      );
    }
    rows.appendChild(table);
    const unscanned = s.diag ? countUnscanned(s.diag) : 0;
    if (unscanned) rows.appendChild(h("p", "feder-muted feder-small", `${plural(unscanned, "missed neighbour was", "missed neighbours were")} never scanned (not probed / not reached): no code distance, not on this chart.`));
    box.appendChild(rows);
    return box;
  }
  strip() {
    return resultsStrip(this.app, this.s);
  }
  /**
   * Every result and missed neighbour, other candidates up to `limit`, and the cut-off lines
   * (`kth_code`: y of the horizontal line, `kth_true`: x of the vertical one).
   * @param {number} [limit]
   * @returns {Target[]}
   */
  targets(limit = 40) {
    const c = this.c;
    const out = [];
    if (Number.isFinite(this.hy)) out.push({ x: this.box.x0, y: this.hy, kind: "kth_code" });
    if (Number.isFinite(this.vx)) out.push({ x: this.vx, y: this.box.y1, kind: "kth_true" });
    for (let i = 0; i < this.n; i++) {
      if (this.cls[i] !== CLASS.OTHER) out.push({ x: this.sx[i], y: this.sy[i], kind: this.cls[i] === CLASS.MISSED ? "missed" : "result", id: c.ids[i], rank: this.cls[i] === CLASS.MISSED ? c.trueRank[i] - 1 : c.rank[i] });
    }
    for (let i = 0; i < this.n && out.length < limit; i++) {
      if (this.cls[i] === CLASS.OTHER) out.push({ x: this.sx[i], y: this.sy[i], kind: "cand", id: c.ids[i], rank: -1 });
    }
    return out;
  }
};
function countUnscanned(d) {
  let n = 0;
  for (let j = 0; j < d.missIds.length; j++) if (!Number.isFinite(d.missCodeDist[j])) n++;
  return n;
}

// src/scenes/ivf_map.js
var MEMBER_THUMBS = 9;
var DETAIL_THUMBS = 24;
var MAP_MARGIN = 10;
var PATH_BATCH = 48;
var IVFMapScene = class extends Scene {
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
    this.area = new Float32Array(ov.nlist);
    this.scale = 1;
    this.grid = new PolygonGrid(this.xy, ov.cellOff, 1, 1);
    this.thumbBoxes = [];
    this.bounds = new Float64Array(4 * ov.nlist);
    this.colors = [];
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
    this.grid = new PolygonGrid(this.xy, this.ov.cellOff, this.W, this.H, void 0, this.bounds);
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
      const shades = [];
      for (let k = 0; k <= 28; k++) shades.push(ramp(pal.size, 0.08 + 0.92 * k / 28));
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
    const groups = /* @__PURE__ */ new Map();
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
    const side2 = Math.sqrt(bw * bh * this.scale * this.scale * this.vp.scale * this.vp.scale / Math.max(1, this.ov.nlist));
    const device = Math.max(1, Math.min(width * dpr, side2 * dpr / 6));
    g.strokeStyle = color;
    g.lineWidth = device / dpr;
    g.lineJoin = device > 1 ? "round" : "miter";
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
    return g.contains(i, box.x, box.y) && g.contains(i, box.x + box.w, box.y) && g.contains(i, box.x, box.y + box.h) && g.contains(i, box.x + box.w, box.y + box.h);
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
    const out = [];
    this.thumbBoxes = [];
    const media = this.app.media;
    if (!media.shows() || media.isText) return out;
    for (let i = 0; i < this.ov.nlist; i++) {
      if (skip?.(i) || this.area[i] < 2400 || this.cx[i] < 0 || this.cy[i] < 0 || this.cx[i] > this.W || this.cy[i] > this.H) continue;
      const mem = this.members(i);
      if (!mem.length) continue;
      const side2 = Math.sqrt(this.area[i]);
      const size = Math.max(18, Math.min(44, Math.floor(side2 / 3.4)));
      const cols = Math.min(mem.length, side2 > 7 * size ? 3 : 2);
      const rows = Math.min(Math.ceil(Math.min(mem.length, 4) / cols), side2 > 6 * size ? 2 : 1);
      const count = Math.min(mem.length, cols * rows);
      const w = cols * size + (cols - 1) * 2;
      const hh = rows * size + (rows - 1) * 2;
      const box = { x: this.cx[i] - w / 2, y: this.cy[i] - hh / 2 + 7, w, h: hh };
      if (!this.cellHolds(i, box)) continue;
      for (let k = 0; k < count; k++) {
        const x = box.x + k % cols * (size + 2);
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
    const specs = [];
    for (const i of order.slice(0, 400)) {
      const fill = this.sizeColor(i);
      const color = luminance(fill) < 0.5 ? "rgba(255,255,255,0.95)" : "rgba(20,28,40,0.88)";
      const text = this.area[i] > 3600 ? `${i} · ${fmtInt(this.ov.sizes[i])}` : String(i);
      const half = Math.sqrt(this.area[i]) / 3;
      specs.push({
        x: this.cx[i],
        y: this.cy[i],
        text,
        color,
        size: 10,
        weight: 600,
        halo: fill,
        // the label reads on its own cell
        offsets: [
          [0, 0],
          [0, -half],
          [0, half]
        ],
        fits: (box) => this.cellHolds(i, box)
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
    if (hov && hov.kind === "list" && hov.list != null) {
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
    return i >= 0 ? { key: `list:${i}`, kind: "list", list: i } : null;
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
    if (item.kind !== "list" || item.list == null) return null;
    const list = item.list;
    const app = this.app;
    const mem = this.members(list);
    const extra = [];
    const more = this.tooltipExtra(list);
    if (more) extra.push(more);
    if (mem.length && app.media.shows()) {
      const thumbs = h("div", "feder-tt-thumbs");
      for (let i = 0; i < Math.min(mem.length, MEMBER_THUMBS); i++) thumbs.appendChild(app.media.thumb(mem[i], { size: 44 }));
      extra.push(thumbs);
    }
    const size = this.ov.sizes[list];
    return card({
      title: `List ${list}`,
      subtitle: plural(size, "vector"),
      extra,
      note: size === 0 ? "empty list" : mem.length && app.media.shows() ? this.memberNote(list) : null
    });
  }
  /**
   * How the members shown were chosen (a sample of each list when lists are large).
   * @param {number} list
   */
  memberNote(list) {
    const sample = Number(this.ov.facts.member_sample) || 0;
    return sample && this.ov.sizes[list] > sample ? `nearest to the centroid among the list's first ${sample} vectors` : "members nearest to the centroid first";
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== "list" || item.list == null || this.app.selList === item.list) {
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
      const s2 = section("Selection");
      s2.appendChild(h("p", "feder-muted", "Click a cell to see its list."));
      return s2;
    }
    const s = section(`List ${list}`);
    s.appendChild(h("p", null, `${plural(this.ov.sizes[list], "vector")}; ${this.memberNote(list)}:`));
    const grid = h("div", "feder-grid");
    const mem = this.members(list);
    const n = Math.min(mem.length, DETAIL_THUMBS);
    for (let i = 0; i < n; i++) grid.appendChild(idCard(app, mem[i], [app.idText(mem[i])], 56));
    if (!n) grid.appendChild(h("p", "feder-muted", "This list is empty."));
    s.appendChild(grid);
    return s;
  }
  legend() {
    const pal = this.app.pal;
    const wrap = h("div", "feder-legend");
    const bar = h("div", "feder-legend-bar");
    const stops = [];
    for (let i = 0; i <= 8; i++) stops.push(ramp(pal.size, 0.08 + 0.92 * i / 8));
    bar.style.background = `linear-gradient(to right, ${stops.join(", ")})`;
    const labels = h("div", "feder-legend-labels");
    labels.appendChild(h("span", null, fmtInt(this.sizeLo)));
    labels.appendChild(h("span", null, "vectors per list"));
    labels.appendChild(h("span", null, fmtInt(this.sizeHi)));
    wrap.appendChild(bar);
    wrap.appendChild(labels);
    return wrap;
  }
  panel() {
    const f = this.ov.facts;
    const s = this.search;
    const box = h("div");
    const sec = section("IVF index");
    const largest = f.largest_list || {};
    const smallest = f.smallest_list || {};
    sec.appendChild(
      factsTable([
        ["index", f.index || "IVF_FLAT"],
        ["source", f.source],
        ["metric", f.metric],
        ["dimension", fmtInt(f.dim)],
        ["vectors", fmtInt(f.ntotal)],
        ["lists (nlist)", fmtInt(f.nlist)],
        ["nprobe in the file", f.nprobe != null ? fmtInt(f.nprobe) : null],
        ["nprobe of this search", s && s.params.nprobe != null ? fmtInt(s.params.nprobe) : null],
        ["largest list", largest.list >= 0 ? `#${largest.list} · ${fmtInt(largest.size)}` : "—"],
        ["smallest list", smallest.list >= 0 ? `#${smallest.list} · ${fmtInt(smallest.size)}` : "—"],
        ["empty lists", fmtInt(f.empty_lists)]
      ])
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
    return order.slice(0, limit).filter((i) => this.grid.find(this.cx[i], this.cy[i]) === i).map((i) => ({ x: this.cx[i], y: this.cy[i], kind: "list", list: i }));
  }
};
function drawCover(g, img, x, y, size) {
  const iw = img.naturalWidth;
  const ih = img.naturalHeight;
  const s = Math.min(iw, ih);
  g.drawImage(img, (iw - s) / 2, (ih - s) / 2, s, s, x, y, size, size);
}

// src/scenes/coarse.js
var PANEL_LIST_ROWS = 40;
var BADGE_OFF_QUERY = 24;
var CoarseScene = class extends IVFMapScene {
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
    return [qx + dx / d * BADGE_OFF_QUERY, qy + dy / d * BADGE_OFF_QUERY];
  }
  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const s = this.s;
    const quiet = [];
    for (let k = 0; k <= 16; k++) quiet.push(ramp(pal.quiet, k / 16));
    this.fillCells(g, (i) => this.ov.sizes[i] === 0 ? pal.empty : quiet[Math.round(this.sizeT(this.ov.sizes[i]) * 16)]);
    for (let r = s.probed.length - 1; r >= 0; r--) {
      g.beginPath();
      if (this.cellPath(g, s.probed[r])) {
        g.fillStyle = rgba(this.rankColor(r), app.theme === "dark" ? 0.5 : 0.4);
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
    const obstacles = [markerBox(qx, qy, QUERY_RADIUS)];
    const badges = [];
    for (let r = s.probed.length - 1; r >= 0; r--) {
      const [bx, by] = this.badgeAt(s.probed[r], qx, qy);
      const size = clamp(Math.sqrt(this.area[s.probed[r]]) * 0.28, 6.5, 9);
      badge(g, pal, app.font, bx, by, String(r + 1), this.rankColor(r), size);
      obstacles.push(markerBox(bx, by, size + 1));
      badges.push([r, bx, by]);
    }
    const specs = [{ x: qx, y: qy, text: "query", color: pal.query, size: 11, weight: 600, offsets: aroundPoint(40, 15, QUERY_RADIUS) }];
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
    const out = /* @__PURE__ */ new Map();
    const d = this.s.diag;
    if (!d) return out;
    for (let j = 0; j < d.missIds.length; j++) {
      if (d.reasons[d.missReason[j]] !== "list_not_probed") continue;
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
    const line = h("div", "feder-tt-line");
    if (rank != null) {
      line.appendChild(swatch(this.rankColor(rank)));
      line.appendChild(h("span", null, `probe #${rank + 1} · centroid distance ${fmtDist(d)}`));
    } else {
      line.appendChild(h("span", "feder-muted", `not probed · centroid distance ${fmtDist(d)}`));
    }
    const missed = this.missedLists().get(list);
    if (!missed) return line;
    const box = h("div");
    box.appendChild(line);
    const warn = h("div", "feder-tt-line feder-missed-text", `${plural(missed.count, "exact neighbour")} missed here: nprobe ≥ ${missed.rank} scans this list`);
    box.appendChild(warn);
    return box;
  }
  panel() {
    const app = this.app;
    const s = this.s;
    const box = h("div");
    const sec = section("Coarse search");
    sec.appendChild(
      factsTable([
        ["metric", s.metric],
        ["nprobe", fmtInt(s.params.nprobe != null ? s.params.nprobe : s.probed.length)],
        ["k", s.params.k != null ? fmtInt(s.params.k) : null],
        ["centroids compared", fmtInt(s.allDist.length || this.ov.nlist)],
        ["vectors compared", fmtInt(s.ids.length)]
      ])
    );
    sec.appendChild(h("p", "feder-muted feder-small", "The query is compared with every centroid; the nprobe nearest lists are scanned. Colours mark probes #1–6; later probes share one colour."));
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(app, s.diag, nonNegativeMetric(s.metric)));
    const probes = section("Probed lists, nearest first");
    const table = h("div", "feder-rows");
    for (let r = 0; r < s.probed.length && r < PANEL_LIST_ROWS; r++) {
      const l = s.probed[r];
      const item = { key: `list:${l}`, kind: "list", list: l };
      table.appendChild(
        hoverRow(
          [
            badgeEl(`${r + 1}`, this.rankColor(r)),
            h("span", "feder-row-main", `list ${l}`),
            h("span", "feder-muted", plural(this.ov.sizes[l], "vec", "vecs")),
            h("span", "feder-num", fmtDist(s.probedDist[r]))
          ],
          { enter: () => app.setHover(item), leave: () => app.setHover(null), click: () => this.click(item) }
        )
      );
    }
    probes.appendChild(table);
    const next = this.nearestUnprobed();
    if (next >= 0) probes.appendChild(h("p", "feder-muted feder-small", `Nearest list not probed: list ${next} at ${fmtDist(s.allDist[next])}.`));
    box.appendChild(probes);
    box.appendChild(this.selectionSection());
    return box;
  }
  /** The closest list the search did not scan (how close the cut was), or −1. */
  nearestUnprobed() {
    const s = this.s;
    const ip = s.metric === "ip";
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
    const out = [];
    for (let r = 0; r < s.probed.length; r++) {
      const l = s.probed[r];
      out.push({ x: this.cx[l], y: this.cy[l], kind: "list", list: l, rank: r });
    }
    return out.concat(super.targets(limit));
  }
};

// src/scenes/points.js
var PANEL_LIST_ROWS2 = 40;
var DETAIL_THUMBS2 = 24;
var TOP_RADIUS = 6.5;
var PointsScene = class extends Scene {
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
    this.dotR = this.m > 3e3 ? 1.8 : this.m > 1e3 ? 2.4 : this.m > 300 ? 3 : 3.6;
    this.order = new Int32Array(this.m);
    let j = 0;
    for (let i = 0; i < this.m; i++) if (search.rank[i] < 0) this.order[j++] = i;
    for (let t = search.top.length - 1; t >= 0; t--) this.order[j++] = search.top[t];
    this.grid = new PointGrid(this.sx, this.sy, null, 1, 1);
    const misses = search.diag ? search.diag.missIds.length : 0;
    this.bmx = new Float32Array(misses);
    this.bmy = new Float32Array(misses);
    this.mx = new Float32Array(misses);
    this.my = new Float32Array(misses);
    this.showsMisses = false;
    this.missGrid = new PointGrid(this.mx, this.my, null, 1, 1);
    this.byId = null;
    this.title = "";
    this.caption = "";
    this.nonNeg = nonNegativeMetric(search.metric);
  }
  /**
   * Base positions of the candidates (bx, by) and the query (bqx, bqy) at zoom 1.
   * @param {number} _W
   * @param {number} _H
   */
  placeBase(_W, _H) {
  }
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
    const groups = /* @__PURE__ */ new Map();
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
    const specs = s.top.map((i, t) => ({
      x: this.sx[i],
      y: this.sy[i],
      text: String(t + 1),
      color: pal.fg,
      size: 11,
      weight: 700,
      offsets: aroundPoint(12, 15, TOP_RADIUS)
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
    if (hov && hov.kind === "cand" && hov.index != null) {
      const i = hov.index;
      this.hoverGuide(g, i);
      strokeRing(g, this.sx[i], this.sy[i], s.rank[i] >= 0 ? 10 : 6.5, pal.fg);
    } else if (hov && hov.kind === "list" && hov.list != null) {
      this.highlightList(g, hov.list);
    } else if (hov && hov.kind === "miss" && hov.index != null) {
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
      this.byId = /* @__PURE__ */ new Map();
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
      if (j >= 0) return { key: `miss:${j}`, kind: "miss", index: j };
    }
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const i = this.order[k];
    return { key: `cand:${i}`, kind: "cand", index: i };
  }
  /** @param {number} id */
  hoverId(id) {
    const i = this.indexOfId(fmtId(id));
    if (i != null) return { key: `cand:${i}`, kind: "cand", index: i };
    const d = this.s.diag;
    if (this.showsMisses && d) {
      for (let j = 0; j < d.missIds.length; j++) if (d.missIds[j] === id) return { key: `miss:${j}`, kind: "miss", index: j };
    }
    return null;
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind === "miss" && item.index != null && this.s.diag) return missTooltip(this.app, this.s.diag, item.index, this.nonNeg);
    if (item.kind !== "cand" || item.index == null) return null;
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
        { text: `list ${s.lists[i]}${pr != null ? ` (probe #${pr + 1})` : ""}`, color: this.listColor(s.lists[i]) }
      ],
      note: s.rank[i] >= 0 ? `result #${s.rank[i] + 1} of ${s.top.length}` : "candidate, not in the top-k"
    });
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== "cand" || item.index == null) {
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
    const box = h("div");
    const sec = section(this.title);
    const k = fmtInt(s.params.k != null ? s.params.k : s.top.length);
    const facts = s.scanned != null ? [["metric", s.metric], ["k", k], ["vectors compared", fmtInt(s.scanned)], ["nearest shown", fmtInt(this.m)]] : [["metric", s.metric], ["nprobe", fmtInt(s.params.nprobe != null ? s.params.nprobe : s.probed.length)], ["k", k], ["candidates scanned", fmtInt(this.m)]];
    sec.appendChild(factsTable([...facts, ...this.extraFacts()]));
    sec.appendChild(h("p", "feder-muted feder-small", this.caption));
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(app, s.diag, this.nonNeg));
    if (s.scanned != null) return box;
    const lists = section("Lists");
    const rows = h("div", "feder-rows");
    for (let r = 0; r < s.probed.length && r < PANEL_LIST_ROWS2; r++) {
      const l = s.probed[r];
      let inTop = 0;
      for (const i of s.top) if (s.lists[i] === l) inTop++;
      const item = { key: `list:${l}`, kind: "list", list: l };
      rows.appendChild(
        hoverRow(
          [
            badgeEl(`${r + 1}`, this.listColor(l)),
            h("span", "feder-row-main", `list ${l}`),
            h("span", "feder-muted", plural(s.perList.get(l) || 0, "vec", "vecs")),
            h("span", "feder-num", inTop ? `${inTop} in top-k` : "")
          ],
          { enter: () => app.setHover(item), leave: () => app.setHover(null) }
        )
      );
    }
    lists.appendChild(rows);
    box.appendChild(lists);
    if (app.selKeys.size) {
      const sel = section("Selection");
      const grid = h("div", "feder-grid");
      let n = 0;
      for (const key of app.selKeys) {
        if (n++ >= DETAIL_THUMBS2) break;
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
    const out = [];
    for (const i of s.top) out.push({ x: this.sx[i], y: this.sy[i], kind: "cand", id: s.ids[i], rank: s.rank[i] });
    for (let i = 0; i < this.m && out.length < limit; i++) {
      if (s.rank[i] < 0) out.push({ x: this.sx[i], y: this.sy[i], kind: "cand", id: s.ids[i], rank: -1 });
    }
    const d = s.diag;
    if (this.showsMisses && d) for (let j = 0; j < this.mx.length; j++) out.push({ x: this.mx[j], y: this.my[j], kind: "miss", id: d.missIds[j], rank: d.missRank[j] - 1 });
    return out;
  }
};

// src/scenes/fine.js
var LABEL_ROOM = 46;
var FineScene = class extends PointsScene {
  /**
   * @param {SceneHost} app
   * @param {IVFOverview} ov
   * @param {IVFSearch} search
   */
  constructor(app, ov, search) {
    super(app, ov, search);
    this.title = "Fine search (distance)";
    this.scaleR = search.scale ? new RadialScale(search.scale) : null;
    const what = search.scanned != null ? "The nearest vectors of the exhaustive scan." : "Every vector of the probed lists; one sector per list.";
    this.caption = `${what} ${this.scaleR ? `${this.scaleR.describe()}.` : ""}`;
    this.radius = new Float32Array(this.m);
    for (let i = 0; i < this.m; i++) this.radius[i] = Math.hypot(search.polar[2 * i], search.polar[2 * i + 1]);
    this.cx = 0;
    this.cy = 0;
    this.R = 40;
  }
  extraFacts() {
    return this.scaleR ? [
      /** @type {const} */
      ["radius", this.scaleR.kind === "sqrt" ? "√distance (Euclidean)" : "distance, linear"]
    ] : [];
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
      g.fillStyle = rgba(color, app.theme === "dark" ? 0.1 : 0.08);
      g.fill();
      g.beginPath();
      g.arc(qx, qy, R, s.sectorStart[j], s.sectorEnd[j]);
      g.strokeStyle = rgba(color, 0.85);
      g.lineWidth = 3;
      g.stroke();
    }
    const ringLabels = this.scaleR ? drawRings(g, pal, qx, qy, R, this.scaleR.rings(4), this.nonNeg) : [];
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
    const specs = [];
    for (let j = 0; j < s.sectorLists.length; j++) {
      const a = (s.sectorStart[j] + s.sectorEnd[j]) / 2;
      const l = s.sectorLists[j];
      const span = (s.sectorEnd[j] - s.sectorStart[j]) * R;
      const rank = s.probeRank.get(l);
      const text = s.scanned != null ? `nearest ${this.m} of ${s.scanned} compared` : l < 0 ? "missed · lists not probed" : span >= 70 && rank != null ? `list ${l} · probe #${rank + 1}` : `list ${l}`;
      const offsets = [];
      for (const extra of [14, 26, 40]) offsets.push([Math.cos(a) * (R + extra), Math.sin(a) * (R + extra)]);
      specs.push({ x: qx, y: qy, text, color: mix(l < 0 ? pal.missed : this.listColor(l), pal.fg, 0.3), size: 10, weight: 600, offsets });
    }
    for (const lab of ringLabels) {
      specs.push({ x: lab.x, y: lab.y, text: lab.text, color: pal.muted, size: 9, weight: 500, offsets: [[0, -7], [0, 7], [22, -7], [-22, -7]] });
    }
    specs.push(...later);
    const dots = [];
    for (let i = 0; i < this.m && dots.length < 4e3; i++) dots.push(markerBox(this.sx[i], this.sy[i], this.dotR));
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
};

// src/scenes/flat_map.js
var PAD = 24;
var FlatMapScene = class extends Scene {
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
    g.textAlign = "left";
    g.textBaseline = "top";
    g.fillText(`PCA of ${fmtInt(this.n)} of ${fmtInt(this.ov.facts.ntotal)} stored vectors`, 10, 8);
  }
  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const app = this.app;
    for (const key of app.selKeys) {
      for (let i = 0; i < this.n; i++) if (fmtId(this.ov.ids[i]) === key) strokeRing(g, this.sx[i], this.sy[i], 7, app.pal.select, 2.5);
    }
    const hov = app.hover;
    if (hov && hov.kind === "point" && hov.index != null) strokeRing(g, this.sx[hov.index], this.sy[hov.index], 6, app.pal.fg);
  }
  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const i = this.grid.nearest(x, y, 5);
    return i < 0 ? null : { key: `point:${i}`, kind: "point", index: i };
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== "point" || item.index == null) return null;
    const id = this.ov.ids[item.index];
    const app = this.app;
    return card({ title: app.idText(id), thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null, subtitle: app.media.name(id) });
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== "point" || item.index == null) this.app.select([], -1);
    else this.app.select([this.ov.ids[item.index]], -1);
  }
  panel() {
    const f = this.ov.facts;
    const box = h("div");
    const sec = section("Flat index");
    sec.appendChild(
      factsTable([
        ["index", f.index],
        ["id map", f.id_map || null],
        ["source", f.source],
        ["metric", f.metric],
        ["dimension", fmtInt(f.dim)],
        ["vectors", fmtInt(f.ntotal)]
      ])
    );
    sec.appendChild(h("p", "feder-muted feder-small", "A flat index compares the query with every stored vector: its answer is exact (up to the codes of SQ / PQ storage). The map is a 2-D PCA of a sample."));
    box.appendChild(sec);
    return box;
  }
  /** @param {number} [limit] */
  targets(limit = 40) {
    const out = [];
    for (let i = 0; i < this.n && i < limit; i++) out.push({ x: this.sx[i], y: this.sy[i], kind: "point", id: this.ov.ids[i] });
    return out;
  }
};

// src/scenes/planes.js
var Plane = class {
  /**
   * @param {number} x
   * @param {number} y
   * @param {number} w
   * @param {number} h
   * @param {number} skew
   * @param {number} [pad]
   */
  constructor(x, y, w, h2, skew, pad = 0.035) {
    this.x = x;
    this.y = y;
    this.w = w;
    this.h = h2;
    this.skew = skew;
    this.pad = pad;
  }
  /**
   * @param {number} u
   * @param {number} v
   */
  px(u, v) {
    const uu = this.pad + (1 - 2 * this.pad) * u;
    const vv = this.pad + (1 - 2 * this.pad) * v;
    return this.x + this.skew * (1 - vv) + uu * this.w;
  }
  /** @param {number} v */
  py(v) {
    return this.y + (this.pad + (1 - 2 * this.pad) * v) * this.h;
  }
  /**
   * The outline, through a point mapping (the viewport).
   * @param {CanvasRenderingContext2D} g
   * @param {(x: number) => number} [fx]
   * @param {(y: number) => number} [fy]
   */
  outline(g, fx = (x) => x, fy = (y) => y) {
    g.moveTo(fx(this.x + this.skew), fy(this.y));
    g.lineTo(fx(this.x + this.skew + this.w), fy(this.y));
    g.lineTo(fx(this.x + this.w), fy(this.y + this.h));
    g.lineTo(fx(this.x), fy(this.y + this.h));
    g.closePath();
  }
};
function stackPlanes(count, x, y, w, hgt, skewRatio = 0.55, maxSkew = 110) {
  const gap = count > 1 ? 0.28 : 0;
  const ph = hgt / (count + gap * Math.max(count - 1, 0));
  const skew = count > 1 ? Math.min(ph * skewRatio * 1.6, maxSkew, w * 0.18) : 0;
  const planes = [];
  for (let k = 0; k < count; k++) planes.push(new Plane(x, y + k * ph * (1 + gap), w - skew, ph, skew));
  return planes;
}

// src/scenes/hnsw_overview.js
var DETAIL_THUMBS3 = 24;
var HNSWOverviewScene = class extends Scene {
  /**
   * @param {SceneHost} app
   * @param {HNSWOverview} ov
   */
  constructor(app, ov) {
    super(app);
    this.ov = ov;
    this.n = ov.ids.length;
    this.byLabel = null;
    const ep = ov.facts.entry_point;
    this.entry = -1;
    if (ep != null) {
      for (let i = 0; i < this.n && this.entry < 0; i++) if (ov.ids[i] === ep) this.entry = i;
    }
    this.planes = [];
    this.bx = [];
    this.by = [];
    this.sx = [];
    this.sy = [];
    this.hitNode = [];
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
    this.dotR = shown > 4e3 ? 1.6 : shown > 1200 ? 2.2 : shown > 200 ? 3 : 4.5;
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
    const labels = [];
    for (let k = ov.levels.length - 1; k >= 0; k--) {
      const p = this.planes[k];
      const { level, src, dst } = ov.levels[k];
      const color = levelColor(pal, level);
      g.beginPath();
      p.outline(g, (x) => vp.x(x), (y) => vp.y(y));
      g.fillStyle = rgba(color, app.theme === "dark" ? 0.08 : 0.06);
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
      const groups = /* @__PURE__ */ new Map();
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
        if (k === 0) labels.push({ x: sx[this.entry], y: sy[this.entry], text: "entry point", color: pal.query, size: 10, weight: 600 });
      }
      const count = counts[level] != null ? counts[level] : 0;
      const lx = vp.x(p.x + p.skew) + 8;
      const ly = vp.y(p.y) + 12;
      const text = `Level ${level} · ${plural(count, "node")} · ${plural(src.length, "link")}`;
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
    let nodes;
    let levels;
    if (ov.pathOffsets && ov.pathNodes && ov.pathLevels) {
      nodes = ov.pathNodes.subarray(ov.pathOffsets[node], ov.pathOffsets[node + 1]);
      levels = ov.pathLevels.subarray(ov.pathOffsets[node], ov.pathOffsets[node + 1]);
    } else {
      const asked = this.app.entryPath(node);
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
      this.byLabel = /* @__PURE__ */ new Map();
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
    if (hov && hov.kind === "node" && hov.node != null && hov.node !== sel) this.drawNodeFocus(g, hov.node, false);
  }
  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const k = this.grid.nearest(x, y, 6);
    if (k < 0) return null;
    const node = this.hitNode[k];
    return { key: `node:${node}`, kind: "node", node };
  }
  /** @param {number} id */
  hoverId(id) {
    const i = this.indexOfLabel(fmtId(id));
    return i == null ? null : { key: `node:${i}`, kind: "node", node: i };
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== "node" || item.node == null) return null;
    const app = this.app;
    const i = item.node;
    const id = this.ov.ids[i];
    return card({
      title: app.idText(id),
      thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
      subtitle: app.media.name(id),
      lines: [{ text: `top level ${this.ov.top[i]}`, color: levelColor(app.pal, this.ov.top[i]) }, i === this.entry ? { text: "entry point" } : null],
      note: "click to see its links"
    });
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== "node" || item.node == null || this.selectedNode() === item.node) {
      this.app.select([], -1);
      return;
    }
    this.app.select([this.ov.ids[item.node]], -1);
  }
  panel() {
    const app = this.app;
    const f = this.ov.facts;
    const box = h("div");
    const s = section("HNSW index");
    s.appendChild(
      factsTable([
        ["index", f.index || "HNSW"],
        ["source", f.source],
        ["metric", f.metric],
        ["dimension", fmtInt(f.dim)],
        ["elements", fmtInt(f.ntotal)],
        ["deleted", fmtInt(f.deleted)],
        ["M", fmtInt(f.M)],
        ["ef_construction", fmtInt(f.ef_construction)],
        ["max level", fmtInt(f.max_level)],
        ["entry point", f.entry_point != null ? app.idText(f.entry_point) : "—"]
      ])
    );
    box.appendChild(s);
    const lv = section("Elements per level");
    const counts = f.level_counts || [];
    const maxC = Math.max(1, ...counts);
    const bars = h("div", "feder-bars");
    for (let level = counts.length - 1; level >= 0; level--) {
      const row = h("div", "feder-bar-row");
      row.appendChild(h("span", "feder-bar-label", `L${level}`));
      const track = h("span", "feder-bar-track");
      const bar = h("span", "feder-bar");
      bar.style.width = `${Math.max(2, 100 * Math.log1p(counts[level]) / Math.log1p(maxC))}%`;
      bar.style.background = levelColor(app.pal, level);
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(h("span", "feder-num", fmtInt(counts[level])));
      bars.appendChild(row);
    }
    lv.appendChild(bars);
    lv.appendChild(h("p", "feder-muted feder-small", "Bars on a log scale. The planes show the top levels; a node keeps its position on every level it reaches."));
    box.appendChild(lv);
    const node = this.selectedNode();
    const sel = section(node >= 0 ? `Node ${app.idText(this.ov.ids[node])}` : "Selection");
    if (node < 0) {
      sel.appendChild(h("p", "feder-muted", "Click a node to see its links on each level."));
    } else {
      if (app.media.shows()) sel.appendChild(app.media.thumb(this.ov.ids[node], { size: 96, full: true }));
      const nbs = this.neighbours(node);
      const rows = [["top level", String(this.ov.top[node])]];
      for (const nb of nbs) rows.push([`links on level ${nb.level}`, fmtInt(nb.nodes.length)]);
      const path = this.entryPath(node);
      if (path.length) rows.push(["path from entry", `${plural(path.length - 1, "step")} (in colour)`]);
      sel.appendChild(factsTable(rows));
      const lowest = nbs.length ? nbs[nbs.length - 1] : null;
      if (lowest?.nodes.length) {
        sel.appendChild(h("p", "feder-muted feder-small", `Neighbours on level ${lowest.level}:`));
        const grid = h("div", "feder-grid");
        for (const j of lowest.nodes.slice(0, DETAIL_THUMBS3)) {
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
        out.push({ x: this.sx[k][i], y: this.sy[k][i], kind: "node", id: ov.ids[i], level });
      }
    }
    return out;
  }
};

// src/timeline.js
var OUT_ACCEPTED = 1;
var OUT_CANDIDATE = 2;
var NODE_UNSEEN = 0;
var NODE_EXAMINED = 1;
var NODE_ACCEPTED = 2;
var NODE_EVICTED = 3;
var NODE_CANDIDATE = 4;
function buildTimeline(levels) {
  let frames = 0;
  for (const row of levels) frames += 1 + (row.end - row.start);
  frames = Math.max(frames, 1);
  const frameLevel = new Int32Array(frames);
  const frameEvents = new Int32Array(frames);
  let f = 0;
  levels.forEach((row, li) => {
    frameLevel[f] = li;
    frameEvents[f++] = row.start;
    for (let e = row.start; e < row.end; e++) {
      frameLevel[f] = li;
      frameEvents[f++] = e + 1;
    }
  });
  return { frameLevel, frameEvents, frames };
}
function levelEndFrame(tl, li) {
  let f = 0;
  while (f < tl.frames - 1 && tl.frameLevel[f + 1] <= li) f++;
  return f;
}
function frameState(s, tl, frame, status) {
  const n = s.ids.length;
  const st = status && status.length === n ? status : new Uint8Array(n);
  st.fill(NODE_UNSEEN);
  const f = clamp(Math.round(frame), 0, tl.frames - 1);
  const li = tl.frameLevel[f];
  const row = s.levels[li] || { level: 0, entry: -1, visited: 0, edges: 0, start: 0, end: 0 };
  const applied = s.levels.length ? tl.frameEvents[f] : 0;
  let beam = 0;
  let visited = 0;
  if (row.entry >= 0 && row.entry < n) {
    st[row.entry] = NODE_ACCEPTED;
    beam = 1;
    visited = 1;
  }
  const beamLevel = row.level === 0;
  for (let e = row.start; e < applied; e++) {
    const d = s.evDst[e];
    const out = s.evOut[e];
    if (st[d] === NODE_UNSEEN) visited++;
    if (out === OUT_ACCEPTED) {
      if (st[d] !== NODE_ACCEPTED) beam++;
      st[d] = NODE_ACCEPTED;
    } else if (out === OUT_CANDIDATE) {
      if (st[d] === NODE_UNSEEN) st[d] = NODE_CANDIDATE;
    } else if (st[d] === NODE_UNSEEN) {
      st[d] = NODE_EXAMINED;
    }
    if (beamLevel && s.evEvict[e] >= 0) {
      const x = s.evEvict[e];
      if (st[x] === NODE_ACCEPTED) beam--;
      st[x] = NODE_EVICTED;
    }
  }
  return { frame: f, li, row, applied, done: f >= tl.frames - 1, beam, visited, status: st };
}
function greedyPath(s, row, upto) {
  const out = [row.entry];
  for (let e = row.start; e < Math.min(upto, row.end); e++) if (s.evOut[e] === OUT_ACCEPTED) out.push(s.evDst[e]);
  return out;
}
var Player = class {
  /**
   * @param {number} frames
   * @param {Clock} clock
   * @param {(frame: number, playing: boolean) => void} onChange
   */
  constructor(frames, clock, onChange) {
    this.frames = Math.max(1, frames);
    this.clock = clock;
    this.onChange = onChange;
    this.frame = this.frames - 1;
    this.playing = false;
    this.handle = 0;
    this.acc = 0;
    this.last = 0;
    this.duration = clamp(this.frames * 45, 1200, 4e3);
  }
  /**
   * Go to `frame` (clamped, rounded) and tell the listener.
   * @param {number} frame
   */
  seek(frame) {
    const f = clamp(Math.round(Number(frame) || 0), 0, this.frames - 1);
    this.frame = f;
    this.onChange(f, this.playing);
  }
  /** @param {number} delta */
  step(delta) {
    this.pause();
    if (delta > 0 && this.frame >= this.frames - 1) this.seek(0);
    else this.seek(this.frame + delta);
  }
  play() {
    if (this.playing) return;
    if (this.frame >= this.frames - 1) this.frame = 0;
    this.playing = true;
    this.acc = 0;
    this.last = 0;
    const tick = (t) => {
      if (!this.playing) return;
      if (this.last) {
        this.acc += (t - this.last) / this.duration * this.frames;
        const step = Math.floor(this.acc);
        if (step > 0) {
          this.acc -= step;
          this.frame = Math.min(this.frames - 1, this.frame + step);
        }
      }
      this.last = t;
      if (this.frame >= this.frames - 1) {
        this.playing = false;
        this.handle = 0;
      } else {
        this.handle = this.clock.request(tick);
      }
      this.onChange(this.frame, this.playing);
    };
    this.handle = this.clock.request(tick);
    this.onChange(this.frame, this.playing);
  }
  pause() {
    if (this.handle) this.clock.cancel(this.handle);
    this.handle = 0;
    if (!this.playing) return;
    this.playing = false;
    this.onChange(this.frame, false);
  }
  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }
};

// src/scenes/descent.js
function drawLadder(g, pal, font, s, st, planes) {
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
    g.textAlign = "left";
    g.textBaseline = "top";
    haloText(g, `L${row.level}`, p.x + p.skew + 4, p.y + 3, current ? mix(color, pal.fg, 0.3) : pal.muted, pal.bg);
    g.textAlign = "right";
    haloText(g, `${fmtInt(row.visited)} visited`, p.x + p.skew + p.w - 3, p.y + 3, pal.muted, pal.bg, 2.5);
  });
}
function drawNodes(g, pal, st, sx, sy, r, color) {
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
function levelZooms(s, radius) {
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
    if (row.level === 0) {
      for (const i of s.resultNodes) if (i >= 0) ext = Math.max(ext, radius[i]);
    }
    return clamp(0.94 / Math.max(ext, 0.1), 1, 6);
  });
}
function drawCaption(g, font, pal, s, st, x0, color, zoom) {
  const row = st.row;
  const ef = s.params.ef;
  g.font = font(12, 700);
  g.textAlign = "left";
  g.textBaseline = "top";
  const kind = row.level > 0 ? "greedy search (ef = 1)" : `beam search (ef = ${ef != null ? ef : "?"})`;
  haloText(g, `Level ${row.level} · ${kind}`, x0, 8, mix(color, pal.fg, 0.35), pal.bg);
  g.font = font(11);
  const line = row.level > 0 ? `${plural(st.visited, "node")} visited · ${plural(greedyPath(s, row, st.applied).length - 1, "move")}` : `${plural(st.visited, "node")} visited · beam ${fmtInt(st.beam)}${ef != null ? ` / ${ef}` : ""}`;
  const zoomed = zoom > 1.05 ? ` · zoom ×${zoom.toFixed(1)}` : "";
  haloText(g, `${st.done ? `${line} · top-${s.resultNodes.length} found` : line}${zoomed}`, x0, 26, pal.muted, pal.bg);
}
function nodeStatus(st, resultRank, i) {
  const rank = resultRank.get(i);
  if (st.done && rank != null) return `result #${rank + 1}`;
  switch (st.status[i]) {
    case NODE_ACCEPTED:
      return st.row.level === 0 ? "in the beam" : "on the greedy path";
    case NODE_EVICTED:
      return "evicted from the beam";
    case NODE_CANDIDATE:
      return "deleted: explored, never returned";
    case NODE_EXAMINED:
      return "examined, passed over";
    default:
      return "";
  }
}
function levelTable(s, pal, pick) {
  const table = h("table", "feder-table");
  const head = h("tr");
  for (const t of ["level", "entry", "visited", "links"]) head.appendChild(h("th", null, t));
  table.appendChild(head);
  const rows = s.levels.map((r, li) => {
    const tr = h("tr");
    const cell = h("td");
    cell.append(swatch(levelColor(pal, r.level)), document.createTextNode(` ${r.level}`));
    tr.appendChild(cell);
    tr.appendChild(h("td", null, r.entry >= 0 && r.entry < s.ids.length ? fmtId(s.ids[r.entry]) : "—"));
    tr.appendChild(h("td", "feder-num", fmtInt(r.visited)));
    tr.appendChild(h("td", "feder-num", fmtInt(r.edges)));
    tr.addEventListener("click", () => pick(li));
    table.appendChild(tr);
    return tr;
  });
  return { table, rows };
}

// src/scenes/player_controls.js
function playerControls(player, keydown) {
  const bar = h("div", "feder-controls-inner");
  const play = h("button", "feder-btn feder-play");
  play.type = "button";
  play.addEventListener("click", () => player.toggle());
  const back = h("button", "feder-btn feder-back", "‹");
  back.type = "button";
  back.title = "one event back (←)";
  back.addEventListener("click", () => player.step(-1));
  const step = h("button", "feder-btn feder-step", "Step ›");
  step.type = "button";
  step.title = "one event forward (→)";
  step.addEventListener("click", () => player.step(1));
  const slider = h("input", "feder-slider");
  slider.type = "range";
  slider.min = "0";
  slider.max = String(player.frames - 1);
  slider.step = "1";
  slider.setAttribute("aria-label", "search replay position");
  slider.addEventListener("input", () => {
    player.pause();
    player.seek(Number(slider.value));
  });
  slider.addEventListener("keydown", (ev) => {
    const page = Math.max(1, Math.round(player.frames / 10));
    const delta = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: page, PageDown: -page }[ev.key];
    if (delta != null) {
      player.pause();
      player.seek(player.frame + delta);
    } else if (!keydown(ev)) {
      return;
    }
    ev.preventDefault();
  });
  const time = h("span", "feder-time");
  bar.append(play, back, step, slider, time);
  return {
    bar,
    sync(label) {
      play.textContent = player.playing ? "❚❚ Pause" : "▶ Play";
      play.setAttribute("aria-pressed", player.playing ? "true" : "false");
      slider.value = String(player.frame);
      time.textContent = label;
    }
  };
}

// src/scenes/hnsw_search.js
var CAPTION_HEIGHT = 46;
var HNSWSearchScene = class extends Scene {
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
    this.ctl = null;
    this.levelRows = [];
    this.liveEl = null;
    this.player = new Player(
      this.tl.frames,
      { request: (cb) => requestAnimationFrame(cb), cancel: (id) => cancelAnimationFrame(id) },
      () => this.frameChanged()
    );
    this.state = frameState(search, this.tl, this.player.frame, this.status);
    this.radius = new Float32Array(this.v);
    for (let i = 0; i < this.v; i++) this.radius[i] = Math.hypot(search.xy[2 * i], search.xy[2 * i + 1]);
    this.resultRank = /* @__PURE__ */ new Map();
    for (let i = 0; i < search.resultNodes.length; i++) this.resultRank.set(search.resultNodes[i], i);
    this.levelZoom = levelZooms(search, this.radius);
    this.zoom = this.levelZoom.length ? this.levelZoom[this.state.li] : 1;
    this.sx = new Float32Array(this.v);
    this.sy = new Float32Array(this.v);
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
    this.planes = [];
    this.grid = new PointGrid([], [], null, 1, 1);
    this.hitIndex = [];
    this.gridStale = true;
    this.dotR = this.v > 3e3 ? 1.8 : this.v > 800 ? 2.4 : this.v > 150 ? 3 : 4;
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
      case "ArrowRight":
        p.step(1);
        return true;
      case "ArrowLeft":
        p.step(-1);
        return true;
      case "Home":
        p.pause();
        p.seek(0);
        return true;
      case "End":
        p.pause();
        p.seek(this.tl.frames - 1);
        return true;
      case " ":
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
      federPlaying: p.playing ? "1" : "0"
    });
    if (this.ctl) this.ctl.sync(`${fmtInt(st.applied)} / ${fmtInt(this.s.evLevel.length)} links · level ${st.row.level}`);
    this.levelRows.forEach((row, i) => {
      row.classList.toggle("feder-current", i === st.li);
    });
    if (this.liveEl) {
      const ef = this.s.params.ef;
      this.liveEl.textContent = st.row.level > 0 ? `Level ${st.row.level}: ${plural(st.visited, "node")} visited so far.` : `Level 0: ${plural(st.visited, "node")} visited, ${fmtInt(st.beam)} in the beam${ef != null ? ` (ef ${ef})` : ""}.`;
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
    g.textAlign = "left";
    g.textBaseline = "top";
    g.fillText("Descent", 12, 12);
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
        g.textAlign = "center";
        g.textBaseline = "bottom";
        haloText(g, lab.text, lab.x, lab.y - 2, pal.muted, pal.bg);
      }
    }
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
    if (hov && hov.kind === "miss" && hov.index != null && this.state.done) strokeRing(g, this.mx[hov.index], this.my[hov.index], MISS_RADIUS + 3, pal.fg);
    if (hov && hov.kind === "hnode" && hov.node != null) strokeRing(g, this.sx[hov.node], this.sy[hov.node], 9, pal.fg);
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
      if (j >= 0) return { key: `miss:${j}`, kind: "miss", index: j };
    }
    const k = this.hitGrid().nearest(x, y, 6);
    if (k < 0) return null;
    const node = this.hitIndex[k];
    return { key: `hnode:${node}`, kind: "hnode", node };
  }
  /** @param {number} id */
  hoverId(id) {
    const key = fmtId(id);
    for (let i = 0; i < this.v; i++) if (fmtId(this.s.ids[i]) === key) return { key: `hnode:${i}`, kind: "hnode", node: i };
    const d = this.s.diag;
    if (d) {
      for (let j = 0; j < d.missIds.length; j++) if (d.missIds[j] === id) return { key: `miss:${j}`, kind: "miss", index: j };
    }
    return null;
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind === "miss" && item.index != null && this.s.diag) return missTooltip(this.app, this.s.diag, item.index, this.nonNeg);
    if (item.kind !== "hnode" || item.node == null) return null;
    const app = this.app;
    const i = item.node;
    const id = this.s.ids[i];
    const rank = this.state.done ? this.resultRank.get(i) : void 0;
    return card({
      title: app.idText(id),
      thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
      badge: rank != null ? badgeEl(`#${rank + 1}`, app.pal.query) : null,
      subtitle: app.media.name(id),
      lines: [{ text: `distance ${fmtDist(this.s.dist[i], this.nonNeg)}` }],
      note: `${nodeStatus(this.state, this.resultRank, i)} (level ${this.state.row.level})`
    });
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== "hnode" || item.node == null) {
      this.app.select([], -1);
      return;
    }
    this.app.select([this.s.ids[item.node]], -1);
  }
  panel() {
    const s = this.s;
    const box = h("div");
    const sec = section("HNSW search");
    let total = 0;
    for (const r of s.levels) total += r.visited;
    sec.appendChild(
      factsTable([
        ["metric", s.metric],
        ["ef", s.params.ef != null ? fmtInt(s.params.ef) : null],
        ["k", fmtInt(s.params.k != null ? s.params.k : s.resultNodes.length)],
        ["nodes visited (all levels)", fmtInt(total)],
        ["links examined", fmtInt(s.evLevel.length)]
      ])
    );
    box.appendChild(sec);
    if (s.diag) box.appendChild(recallSection(this.app, s.diag, this.nonNeg));
    const lv = section("Per level");
    const { table, rows } = levelTable(s, this.app.pal, (li) => {
      this.player.pause();
      this.player.seek(levelEndFrame(this.tl, li));
    });
    this.levelRows = rows;
    lv.appendChild(table);
    this.liveEl = h("p", "feder-live");
    lv.appendChild(this.liveEl);
    lv.appendChild(
      h("p", "feder-muted feder-small", "Upper levels: greedy moves towards the query. Level 0: a beam of ef candidates; filled dots are in the beam, grey ones were evicted, rings were examined and passed over. ← → step, Home / End jump, space plays.")
    );
    box.appendChild(lv);
    this.syncControls();
    return box;
  }
  strip() {
    return resultsStrip(this.app, this.s);
  }
  queryScreen() {
    return (
      /** @type {[number, number]} */
      [this.qx, this.qy]
    );
  }
  /** @param {number} [limit] */
  targets(limit = 40) {
    this.hitGrid();
    const out = [];
    const s = this.s;
    if (this.state.done) {
      for (let t = 0; t < s.resultNodes.length; t++) {
        const i = s.resultNodes[t];
        out.push({ x: this.sx[i], y: this.sy[i], kind: "hnode", id: s.ids[i], rank: t });
      }
    }
    for (let k = 0; k < this.hitIndex.length && out.length < limit; k++) {
      const i = this.hitIndex[k];
      if (this.sy[i] >= CAPTION_HEIGHT) out.push({ x: this.sx[i], y: this.sy[i], kind: "hnode", id: s.ids[i] });
    }
    const d = s.diag;
    if (this.state.done && d) for (let j = 0; j < this.mx.length; j++) out.push({ x: this.mx[j], y: this.my[j], kind: "miss", id: d.missIds[j], rank: d.missRank[j] - 1 });
    return out;
  }
};

// src/scenes/compare.js
function side(search, title) {
  const results = search.results || {};
  const ids = typed(results.ids);
  const dist = typed(results.distances);
  const out = { title, ids: (
    /** @type {number[]} */
    []
  ), dist: (
    /** @type {number[]} */
    []
  ), diag: decodeDiagnosis(search.diagnosis), metric: String(search.metric || "") };
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0) continue;
    out.ids.push(ids[i]);
    out.dist.push(dist[i]);
  }
  return out;
}
function diffResults(left, right) {
  const inRight = new Set(right);
  const inLeft = new Set(left);
  return {
    shared: left.filter((id) => inRight.has(id)),
    onlyLeft: left.filter((id) => !inRight.has(id)),
    onlyRight: right.filter((id) => !inLeft.has(id))
  };
}
var CompareScene = class extends Scene {
  /**
   * @param {SceneHost} app
   * @param {ComparePayload} cmp
   */
  constructor(app, cmp) {
    super(app);
    this.sides = [side(cmp.left, cmp.titles[0]), side(cmp.right, cmp.titles[1])];
    this.diff = diffResults(this.sides[0].ids, this.sides[1].ids);
    this.points = [];
    this.grid = new PointGrid([], [], null, 1, 1);
  }
  place() {
    const vp = this.vp;
    const xs = [this.W * 0.3, this.W * 0.7];
    const rows = Math.max(this.sides[0].ids.length, this.sides[1].ids.length, 1);
    const step = Math.min(34, (this.H - 90) / rows);
    this.points = [];
    this.sides.forEach((s, k) => {
      for (let r = 0; r < s.ids.length; r++) this.points.push({ x: vp.x(xs[k]), y: vp.y(70 + r * step), side: k, rank: r });
    });
    this.grid = new PointGrid(
      this.points.map((p) => p.x),
      this.points.map((p) => p.y),
      null,
      this.W,
      this.H
    );
  }
  /** @param {number} k */
  color(k) {
    return this.app.pal.probes[k];
  }
  /**
   * @param {number} sideIndex
   * @param {number} id
   */
  pointOf(sideIndex, id) {
    const rank = this.sides[sideIndex].ids.indexOf(id);
    return this.points.find((p) => p.side === sideIndex && p.rank === rank);
  }
  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    g.lineWidth = 1.5;
    for (const id of this.diff.shared) {
      const a = this.pointOf(0, id);
      const b = this.pointOf(1, id);
      if (!a || !b) continue;
      g.beginPath();
      g.moveTo(a.x, a.y);
      g.lineTo(b.x, b.y);
      g.strokeStyle = rgba(pal.fg, 0.35);
      g.stroke();
    }
    const labels = [];
    this.sides.forEach((s, k) => {
      const only = new Set(k ? this.diff.onlyRight : this.diff.onlyLeft);
      const truth = s.diag ? new Set(Array.from(s.diag.truthIds)) : null;
      const nonNeg = nonNegativeMetric(s.metric);
      for (const p of this.points.filter((q) => q.side === k)) {
        const id = s.ids[p.rank];
        g.beginPath();
        circlePath(g, p.x, p.y, 6);
        g.fillStyle = only.has(id) ? this.color(k) : pal.bg;
        g.fill();
        g.lineWidth = 1.5;
        g.strokeStyle = only.has(id) ? pal.bg : pal.fg;
        g.stroke();
        if (truth?.has(id)) {
          g.beginPath();
          circlePath(g, p.x, p.y, 9.5);
          g.strokeStyle = pal.probes[2];
          g.lineWidth = 2;
          g.stroke();
        }
        const text = `#${p.rank + 1} ${this.app.idText(id)} · ${fmtDist(s.dist[p.rank], nonNeg)}`;
        labels.push({ x: p.x, y: p.y, text, color: only.has(id) ? this.color(k) : pal.fg, size: 10, weight: only.has(id) ? 700 : 500, offsets: k ? [[70, 0]] : [[-70, 0]] });
      }
      g.font = app.font(12, 700);
      g.fillStyle = this.color(k);
      g.textAlign = "center";
      g.textBaseline = "top";
      const x = this.W * (k ? 0.7 : 0.3);
      g.fillText(s.title, x, 12);
      g.font = app.font(11);
      g.fillStyle = pal.muted;
      g.fillText(s.diag ? `recall@${s.diag.k} ${s.diag.recall.toFixed(2)}` : `${fmtInt(s.ids.length)} results`, x, 30);
    });
    this.drawLabels(g, labels);
  }
  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const hov = this.app.hover;
    if (hov?.kind !== "cmp" || hov.index == null) return;
    const p = this.points[hov.index];
    const id = this.sides[p.side].ids[p.rank];
    g.strokeStyle = this.app.pal.fg;
    g.lineWidth = 2;
    for (const k of [0, 1]) {
      const q = this.pointOf(k, id);
      if (!q) continue;
      strokeRing(g, q.x, q.y, 10, this.app.pal.fg);
    }
  }
  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const i = this.grid.nearest(x, y, 8);
    return i < 0 ? null : { key: `cmp:${i}`, kind: "cmp", index: i };
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== "cmp" || item.index == null) return null;
    const p = this.points[item.index];
    const id = this.sides[p.side].ids[p.rank];
    const lines = this.sides.map((s) => {
      const r = s.ids.indexOf(id);
      return { text: r >= 0 ? `${s.title}: #${r + 1}, d ${fmtDist(s.dist[r], nonNegativeMetric(s.metric))}` : `${s.title}: not returned`, color: this.color(this.sides.indexOf(s)) };
    });
    return card({ title: this.app.idText(id), thumb: this.app.media.shows() ? this.app.media.thumb(id, { size: 72 }) : null, lines });
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item?.kind !== "cmp" || item.index == null) {
      this.app.select([], -1);
      return;
    }
    const p = this.points[item.index];
    this.app.select([this.sides[p.side].ids[p.rank]], -1);
  }
  panel() {
    const box = h("div");
    const sec = section("Compare");
    sec.appendChild(
      factsTable([
        ...this.sides.map((s) => (
          /** @type {const} */
          [s.title, s.diag ? `recall@${s.diag.k} ${s.diag.recall.toFixed(3)}` : `${s.ids.length} results`]
        )),
        ["returned by both", fmtInt(this.diff.shared.length)],
        [`only ${this.sides[0].title}`, fmtInt(this.diff.onlyLeft.length)],
        [`only ${this.sides[1].title}`, fmtInt(this.diff.onlyRight.length)]
      ])
    );
    sec.appendChild(h("p", "feder-muted feder-small", "Lines join ids both searches returned; filled dots were returned by one side only; green rings mark the exact nearest neighbours."));
    box.appendChild(sec);
    return box;
  }
  strip() {
    const strip = h("div", "feder-strip-inner");
    [this.diff.onlyLeft, this.diff.onlyRight].forEach((ids, k) => {
      for (const id of ids) {
        const c = idCard(this.app, id, [`only ${this.sides[k].title}`, this.app.idText(id)], 56, () => this.app.select([id], -1));
        c.style.borderColor = this.color(k);
        strip.appendChild(c);
      }
    });
    if (!strip.childElementCount) strip.appendChild(h("p", "feder-muted", "Both searches returned the same results."));
    return strip;
  }
  /** @param {number} [limit] */
  targets(limit = 40) {
    return this.points.slice(0, limit).map((p) => ({ x: p.x, y: p.y, kind: "cmp", id: this.sides[p.side].ids[p.rank], rank: p.rank, level: p.side }));
  }
};

// src/scenes/health.js
var UNREACHABLE_ROWS = 200;
var HealthScene = class extends Scene {
  /**
   * @param {SceneHost} app
   * @param {HealthPayload} he
   */
  constructor(app, he) {
    super(app);
    this.he = he;
    this.box = { x0: 0, y0: 0, x1: 1, y1: 1 };
    this.yAxis = null;
    this.bars = [];
  }
  place() {
    this.bars = this.he.family === "ivf" ? this.ivfBars() : this.graphBars();
  }
  /** One bar per size bin [edges[i], edges[i+1]). */
  ivfBars() {
    const he = this.he;
    const n = he.counts.length;
    this.box = { x0: 64, y0: 44, x1: this.W - 20, y1: this.H - 52 };
    let top = 1;
    for (const c of he.counts) top = Math.max(top, c);
    this.yAxis = linearAxis(0, top, this.box.y1, this.box.y0, 5);
    const slot = (this.box.x1 - this.box.x0) / Math.max(n, 1);
    const bars = [];
    for (let i = 0; i < n; i++) {
      const lo = he.edges[i];
      const hi = he.edges[i + 1] - 1;
      const label = lo >= hi ? fmtInt(lo) : `${fmtInt(lo)}–${fmtInt(hi)}`;
      const y = this.yAxis.at(he.counts[i]);
      bars.push({ x: this.box.x0 + i * slot + 2, y, w: Math.max(slot - 4, 1), h: this.box.y1 - y, label, count: he.counts[i], what: `lists of ${label} vectors` });
    }
    return bars;
  }
  /** Per level (top first): out-degree bars left, in-degree bars right. */
  graphBars() {
    const levels = [...this.he.levels].reverse();
    const rowH = (this.H - 40) / Math.max(levels.length, 1);
    const half = (this.W - 60) / 2;
    const bars = [];
    levels.forEach((lv, r) => {
      const y1 = 34 + (r + 1) * rowH - 18;
      const y0 = 34 + r * rowH + 16;
      for (
        const [side2, hist] of
        /** @type {const} */
        [
          [0, lv.out],
          [1, lv.in]
        ]
      ) {
        let top = 1;
        for (const c of hist) top = Math.max(top, c);
        const x0 = 40 + side2 * (half + 10);
        const slot = half / Math.max(hist.length, 1);
        for (let d = 0; d < hist.length; d++) {
          const hh = hist[d] / top * (y1 - y0);
          bars.push({ x: x0 + d * slot, y: y1 - hh, w: Math.max(slot - 1, 1), h: hh, label: `L${lv.level} ${side2 ? "in" : "out"} ${d}`, count: hist[d], what: `level ${lv.level} nodes with ${d} ${side2 ? "incoming" : "outgoing"} links` });
        }
      }
    });
    return bars;
  }
  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const he = this.he;
    g.font = app.font(12, 700);
    g.fillStyle = pal.fg;
    g.textAlign = "left";
    g.textBaseline = "top";
    if (he.family === "ivf" && this.yAxis) {
      g.fillText(`List sizes: ${plural(he.sizes.length, "list")}, imbalance ${he.imbalance == null ? "—" : he.imbalance.toFixed(2)}`, 12, 10);
      const xAxis = { at: (v) => v, ticks: [], label: String };
      drawAxes(g, pal, app.font, this.box, xAxis, this.yAxis, "vectors per list (bins double in width)", "lists");
      g.fillStyle = pal.size[3];
      for (const b of this.bars) g.fillRect(b.x, b.y, b.w, b.h);
      if (he.counts.length && he.counts[0] > 0) {
        const b = this.bars[0];
        g.fillStyle = pal.missed;
        g.fillRect(b.x, b.y, b.w, b.h);
      }
      g.fillStyle = pal.muted;
      g.font = app.font(10);
      g.textAlign = "center";
      g.textBaseline = "top";
      const step = Math.ceil(this.bars.length / Math.max(1, Math.floor((this.box.x1 - this.box.x0) / 56)));
      this.bars.forEach((b, i) => {
        if (i % step === 0) g.fillText(b.label, b.x + b.w / 2, this.box.y1 + 4);
      });
      return;
    }
    g.fillText(`Degrees per level · ${plural(he.unreachable.length, "unreachable node")}`, 12, 10);
    const levels = [...he.levels].reverse();
    const rowH = (this.H - 40) / Math.max(levels.length, 1);
    g.font = app.font(10, 600);
    levels.forEach((lv, r) => {
      g.fillStyle = levelColor(pal, lv.level);
      g.fillText(`Level ${lv.level} · ${plural(lv.nodes, "node")} · out-degree`, 40, 34 + r * rowH + 2);
      g.fillText("in-degree", 40 + (this.W - 60) / 2 + 10, 34 + r * rowH + 2);
    });
    for (const b of this.bars) {
      const level = Number(b.label.slice(1, b.label.indexOf(" ")));
      g.fillStyle = rgba(levelColor(pal, level), 0.8);
      g.fillRect(b.x, b.y, b.w, b.h);
    }
  }
  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const hov = this.app.hover;
    if (hov?.kind !== "bar" || hov.index == null) return;
    const b = this.bars[hov.index];
    g.strokeStyle = this.app.pal.fg;
    g.lineWidth = 2;
    g.strokeRect(b.x - 1, Math.min(b.y, this.H - 20) - 1, b.w + 2, Math.max(b.h, 2) + 2);
  }
  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    for (let i = 0; i < this.bars.length; i++) {
      const b = this.bars[i];
      if (x >= b.x && x <= b.x + b.w && y >= Math.min(b.y, b.y + b.h - 12) && y <= b.y + b.h + 2) return { key: `bar:${i}`, kind: "bar", index: i };
    }
    return null;
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== "bar" || item.index == null) return null;
    const b = this.bars[item.index];
    return card({ title: plural(b.count, "node"), lines: [{ text: b.what }] });
  }
  panel() {
    const he = this.he;
    const app = this.app;
    const box = h("div");
    const sec = section("Index health");
    if (he.family === "ivf") {
      sec.appendChild(
        factsTable([
          ["vectors", fmtInt(he.ntotal)],
          ["lists", fmtInt(he.sizes.length)],
          ["imbalance factor", he.imbalance == null ? "—" : he.imbalance.toFixed(3)],
          ["largest list", he.largest[0] >= 0 ? `#${he.largest[0]} · ${fmtInt(he.largest[1])}` : "—"],
          ["smallest list", he.smallest[0] >= 0 ? `#${he.smallest[0]} · ${fmtInt(he.smallest[1])}` : "—"],
          ["empty lists", fmtInt(he.emptyLists.length)]
        ])
      );
      sec.appendChild(h("p", "feder-muted feder-small", "Imbalance factor nlist · Σ size² / ntotal², as faiss computes it: 1.0 is perfectly even; a search costs about that many times the work of an even split."));
      if (he.emptyLists.length) sec.appendChild(h("p", "feder-small", `Empty lists: ${Array.from(he.emptyLists.slice(0, 40), String).join(", ")}${he.emptyLists.length > 40 ? ", …" : ""}`));
      box.appendChild(sec);
      return box;
    }
    sec.appendChild(
      factsTable([
        ["elements", fmtInt(he.ntotal)],
        ["deleted", fmtInt(he.deleted)],
        ["entry point", he.entryPoint != null ? app.idText(he.entryPoint) : "—"],
        ["unreachable", fmtInt(he.unreachable.length)],
        ...he.levels.map((lv) => (
          /** @type {const} */
          [`level ${lv.level}`, `${fmtInt(lv.nodes)} nodes · ${fmtInt(lv.links)} links`]
        ))
      ])
    );
    box.appendChild(sec);
    const lost = section("Unreachable nodes");
    if (!he.unreachable.length) {
      lost.appendChild(h("p", "feder-muted", "Every live node can be reached from the entry point."));
    } else {
      lost.appendChild(h("p", "feder-small", "No directed path from the entry point leads to these nodes: no search can return them. Click one to select it."));
      const rows = h("div", "feder-rows");
      for (let i = 0; i < he.unreachable.length && i < UNREACHABLE_ROWS; i++) {
        const id = he.unreachable[i];
        const row = hoverRow([h("span", "feder-row-main", app.idText(id))], { click: () => app.select([id], -1) });
        if (app.selKeys.has(fmtId(id))) row.classList.add("feder-current");
        rows.appendChild(row);
      }
      lost.appendChild(rows);
    }
    box.appendChild(lost);
    return box;
  }
  /** @param {number} [limit] */
  targets(limit = 40) {
    return this.bars.slice(0, limit).map((b, i) => ({ x: b.x + b.w / 2, y: b.y + b.h / 2, kind: "bar", rank: i }));
  }
};

// src/scenes/projection.js
var PAD2 = 34;
var ProjectionScene = class extends PointsScene {
  /**
   * @param {SceneHost} app
   * @param {IVFOverview} ov
   * @param {IVFSearch} search
   */
  constructor(app, ov, search) {
    super(app, ov, search);
    const method = (search.projection ? search.projection.method : "projection").toUpperCase();
    this.method = method;
    this.title = `Fine search (${method} projection)`;
    this.caption = `The candidates and the query projected to 2-D with ${method}: neighbours in the plane are usually neighbours in the space. Scroll to zoom, drag to pan, double-click to reset.`;
    this.x0 = PAD2;
    this.y0 = PAD2;
    this.pw = 1;
    this.ph = 1;
  }
  extraFacts() {
    return [
      /** @type {const} */
      ["projection", this.method]
    ];
  }
  /**
   * @param {number} W
   * @param {number} H
   */
  placeBase(W, H) {
    const p = this.s.projection;
    if (!p) return;
    this.x0 = PAD2;
    this.y0 = PAD2 - 6;
    this.pw = W - 2 * PAD2;
    this.ph = H - 2 * PAD2;
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
      const x = Math.round(vp.x(this.x0 + i / 4 * this.pw)) + 0.5;
      const y = Math.round(vp.y(this.y0 + i / 4 * this.ph)) + 0.5;
      g.moveTo(x, vp.y(this.y0));
      g.lineTo(x, vp.y(this.y0 + this.ph));
      g.moveTo(vp.x(this.x0), y);
      g.lineTo(vp.x(this.x0 + this.pw), y);
    }
    g.stroke();
    g.restore();
    g.font = app.font(10);
    g.fillStyle = pal.muted;
    g.textAlign = "center";
    g.textBaseline = "bottom";
    g.fillText(`${this.method} 1`, this.W / 2, this.H - 4);
    g.save();
    g.translate(12, this.H / 2);
    g.rotate(-Math.PI / 2);
    g.textBaseline = "middle";
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
};

// src/scenes/sweep.js
var SweepScene = class extends Scene {
  /**
   * @param {SceneHost & SweepHost} app
   * @param {SweepPayload} sw
   */
  constructor(app, sw) {
    super(app);
    this.sw = sw;
    this.host = app;
    this.p = sw.values.length;
    this.nq = this.p ? sw.perQuery.length / this.p : 0;
    this.px = new Float32Array(this.p);
    this.py = new Float32Array(this.p);
    this.box = { x0: 0, y0: 0, x1: 1, y1: 1 };
    this.grid = new PointGrid(this.px, this.py, null, 1, 1);
  }
  /** The parameter's user name. */
  get name() {
    return this.sw.param === "ef" ? "ef" : "nprobe";
  }
  place() {
    const sw = this.sw;
    const box = { x0: 64, y0: 40, x1: this.W - 24, y1: this.H - 48 };
    this.box = box;
    let lo = Infinity;
    let hi = 0;
    for (const d of sw.distances) {
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    const vp = this.vp;
    const xa = logAxis(Math.max(1, lo * 0.8), Math.max(hi * 1.25, lo * 2), box.x0, box.x1);
    const ya = linearAxis(0, 1, box.y1, box.y0, 5);
    this.xAxis = { ...xa, at: (v) => vp.x(xa.at(v)) };
    this.yAxis = { ...ya, at: (v) => vp.y(ya.at(v)) };
    for (let i = 0; i < this.p; i++) {
      this.px[i] = this.xAxis.at(sw.distances[i]);
      this.py[i] = this.yAxis.at(sw.recall[i]);
    }
    this.grid = new PointGrid(this.px, this.py, null, this.W, this.H);
  }
  /** @param {CanvasRenderingContext2D} g */
  drawBase(g) {
    const app = this.app;
    const pal = app.pal;
    const sw = this.sw;
    if (!this.xAxis || !this.yAxis) return;
    drawAxes(g, pal, app.font, this.box, this.xAxis, this.yAxis, "distance computations per query (mean, log scale)", `recall@${sw.k}`);
    g.beginPath();
    for (let i = 0; i < this.p; i++) {
      for (let q = 0; q < this.nq; q++) {
        const jitter = q * 0.618034 % 1 * 10 - 5;
        circlePath(g, this.px[i] + jitter, this.yAxis.at(sw.perQuery[i * this.nq + q]), 1.6);
      }
    }
    g.fillStyle = rgba(pal.probes[0], 0.3);
    g.fill();
    g.beginPath();
    for (let i = 0; i < this.p; i++) {
      if (i) g.lineTo(this.px[i], this.py[i]);
      else g.moveTo(this.px[i], this.py[i]);
    }
    g.strokeStyle = pal.probes[0];
    g.lineWidth = 2;
    g.stroke();
    g.beginPath();
    for (let i = 0; i < this.p; i++) circlePath(g, this.px[i], this.py[i], 5);
    g.fillStyle = pal.probes[0];
    g.fill();
    g.strokeStyle = pal.bg;
    g.lineWidth = 1.5;
    g.stroke();
    const specs = [];
    for (let i = 0; i < this.p; i++) {
      specs.push({ x: this.px[i], y: this.py[i], text: `${this.name} ${sw.values[i]}`, color: pal.fg, size: 10, weight: 600 });
    }
    this.drawLabels(g, specs, [], { x: this.box.x0 + 2, y: 2, w: this.W - this.box.x0 - 4, h: this.box.y1 - 2 });
    g.font = app.font(12, 700);
    g.fillStyle = pal.fg;
    g.textAlign = "left";
    g.textBaseline = "top";
    g.fillText(`Recall@${sw.k} against work, ${fmtInt(sw.queries)} queries`, 12, 10);
  }
  /** @param {CanvasRenderingContext2D} g */
  drawOverlay(g) {
    const hov = this.app.hover;
    if (hov?.kind !== "sweep" || hov.index == null) return;
    strokeRing(g, this.px[hov.index], this.py[hov.index], 9, this.app.pal.fg);
  }
  /**
   * @param {number} x
   * @param {number} y
   */
  hit(x, y) {
    const i = this.grid.nearest(x, y, 8);
    return i < 0 ? null : { key: `sweep:${i}`, kind: "sweep", index: i };
  }
  /** @param {HitItem} item */
  tooltip(item) {
    if (item.kind !== "sweep" || item.index == null) return null;
    const i = item.index;
    const sw = this.sw;
    const worst = sw.worst[i];
    return card({
      title: `${this.name} ${sw.values[i]}`,
      lines: [
        { text: `recall@${sw.k} ${sw.recall[i].toFixed(3)} (mean of ${fmtInt(sw.queries)})` },
        { text: `${fmtInt(Math.round(sw.distances[i]))} distance computations per query` },
        { text: `worst: query #${worst}, recall ${sw.perQuery[i * this.nq + worst].toFixed(2)}` }
      ],
      note: "click to open that search"
    });
  }
  /** @param {HitItem | null} item */
  click(item) {
    if (item && item.kind === "sweep" && item.index != null) this.host.openSweepSearch(item.index);
  }
  panel() {
    const sw = this.sw;
    const box = h("div");
    const sec = section("Sweep");
    sec.appendChild(
      factsTable([
        ["parameter", this.name],
        ["k", fmtInt(sw.k)],
        ["queries", fmtInt(sw.queries)]
      ])
    );
    sec.appendChild(h("p", "feder-muted feder-small", `Higher ${this.name} scans more and finds more: each point is one value, its recall against the distances it computed. Click a point (or a row) for the search of its worst query.`));
    box.appendChild(sec);
    const rows = section(`Recall@${sw.k} by ${this.name}`);
    const table = h("div", "feder-rows");
    for (let i = 0; i < this.p; i++) {
      const item = { key: `sweep:${i}`, kind: "sweep", index: i };
      table.appendChild(
        hoverRow(
          [h("span", "feder-row-main", `${this.name} ${sw.values[i]}`), h("span", "feder-num", sw.recall[i].toFixed(3)), h("span", "feder-muted", fmtInt(Math.round(sw.distances[i])))],
          { enter: () => this.app.setHover(item), leave: () => this.app.setHover(null), click: () => this.click(item) }
        )
      );
    }
    rows.appendChild(table);
    box.appendChild(rows);
    return box;
  }
  /** @param {number} [limit] */
  targets(limit = 40) {
    const out = [];
    for (let i = 0; i < this.p && i < limit; i++) out.push({ x: this.px[i], y: this.py[i], kind: "sweep", rank: i });
    return out;
  }
};

// src/views.js
var NO_SEARCH = "no search yet";
var DIAGNOSTICS = {
  sweep: {
    label: "Sweep",
    optional: true,
    unavailable: (_ov, _s, d) => d.sweep ? null : "no sweep: FederPy.sweep(queries)",
    make: (app, _ov, _s, d) => new SweepScene(
      app,
      /** @type {import('./diagnostics_payload.js').SweepPayload} */
      d.sweep
    )
  },
  health: {
    label: "Health",
    optional: true,
    unavailable: (_ov, _s, d) => d.health ? null : "no health report: FederPy.health()",
    make: (app, _ov, _s, d) => new HealthScene(
      app,
      /** @type {import('./diagnostics_payload.js').HealthPayload} */
      d.health
    )
  },
  compare: {
    label: "Compare",
    optional: true,
    unavailable: (_ov, _s, d) => d.compare ? null : "nothing to compare: FederPy.compare(a, b)",
    make: (app, _ov, _s, d) => new CompareScene(
      app,
      /** @type {import('./diagnostics_payload.js').ComparePayload} */
      d.compare
    )
  }
};
var CODES = {
  label: "Codes",
  optional: true,
  unavailable: (_ov, s) => !s ? NO_SEARCH : s.codes ? null : "no lossy codes in this search",
  make: (app, _ov, s) => new CodesScene(app, s)
};
var VIEWS = {
  ivf: {
    overview: {
      label: "Overview",
      unavailable: () => null,
      make: (app, ov, s) => new IVFMapScene(app, ov, s)
    },
    coarse: {
      label: "Coarse search",
      unavailable: (_ov, s) => s ? null : NO_SEARCH,
      make: (app, ov, s) => new CoarseScene(app, ov, s)
    },
    fine: {
      label: "Fine search",
      unavailable: (_ov, s) => s ? null : NO_SEARCH,
      make: (app, ov, s) => new FineScene(app, ov, s)
    },
    projection: {
      label: "Projection",
      unavailable: (_ov, s) => !s ? NO_SEARCH : s.projection ? null : "no projection in this search",
      make: (app, ov, s) => new ProjectionScene(app, ov, s)
    },
    codes: CODES,
    ...DIAGNOSTICS
  },
  flat: {
    overview: {
      label: "Overview",
      unavailable: () => null,
      make: (app, ov) => new FlatMapScene(app, ov)
    },
    fine: {
      label: "Distances",
      unavailable: (_ov, s) => s ? null : NO_SEARCH,
      make: (app, ov, s) => new FineScene(app, ov, s)
    },
    projection: {
      label: "Projection",
      unavailable: (_ov, s) => !s ? NO_SEARCH : s.projection ? null : "no projection in this search",
      make: (app, ov, s) => new ProjectionScene(app, ov, s)
    },
    codes: CODES,
    ...DIAGNOSTICS
  },
  graph: {
    overview: {
      label: "Overview",
      unavailable: () => null,
      make: (app, ov) => new HNSWOverviewScene(app, ov)
    },
    search: {
      label: "Search",
      unavailable: (_ov, s) => s ? null : NO_SEARCH,
      make: (app, _ov, s) => new HNSWSearchScene(app, s)
    },
    codes: CODES,
    ...DIAGNOSTICS
  }
};
function tabsFor(ov, search, listed, diag) {
  if (!ov) return [];
  const family = VIEWS[ov.family] || {};
  const wanted = listed?.length ? listed : Object.keys(family).map((id) => ({ id, label: family[id].label }));
  const out = [];
  for (const v of wanted) {
    const entry = family[v.id];
    if (!entry) continue;
    const unavailable = entry.unavailable(ov, search, diag);
    if (unavailable && entry.optional) continue;
    out.push({ id: v.id, label: v.label || entry.label, unavailable, entry });
  }
  return out;
}

// src/app.js
var MIN_WIDGET_WIDTH = 320;
var App = class {
  /**
   * @param {Model} model
   * @param {HTMLElement} el
   */
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.handlers = [];
    this.cleanups = [];
    this.hover = null;
    this.selKeys = /* @__PURE__ */ new Set();
    this.selList = -1;
    this.view = null;
    this.scenes = /* @__PURE__ */ new Map();
    this.scene = null;
    this.ov = null;
    this.search = null;
    this.diag = { sweep: null, health: null, compare: null };
    this.names = /* @__PURE__ */ new Map();
    this.paths = /* @__PURE__ */ new Map();
    this.tabs = [];
    this.tabButtons = /* @__PURE__ */ new Map();
    this.theme = "light";
    this.pal = { ...PALETTES.light, bg: "#ffffff", fg: "#1f2328", muted: "#667080" };
    this.fontFamily = "system-ui, sans-serif";
    this.themeConnected = false;
    this.font = (size, weight = 400) => `${weight} ${size}px ${this.fontFamily}`;
    const root = h("div", "feder-root");
    root.dataset.lmSuppressShortcuts = "true";
    root.dataset.pSuppressShortcuts = "true";
    this.root = root;
    const header = h("div", "feder-header");
    this.titleEl = h("div", "feder-title");
    this.tabsEl = h("div", "feder-tabs");
    this.tabsEl.setAttribute("role", "tablist");
    this.barEl = h("div", "feder-searchbar-slot");
    header.append(this.titleEl, this.tabsEl, this.barEl);
    this.bar = null;
    this.bodyEl = h("div", "feder-body");
    this.mainEl = h("div", "feder-main");
    this.stageEl = h("div", "feder-stage");
    this.controlsEl = h("div", "feder-controls");
    this.stripEl = h("div", "feder-strip");
    this.panelEl = h("aside", "feder-panel");
    this.panelInner = h("div", "feder-panel-inner");
    this.panelEl.appendChild(this.panelInner);
    this.mainEl.append(this.stageEl, this.controlsEl, this.stripEl);
    this.bodyEl.append(this.mainEl, this.panelEl);
    root.append(header, this.bodyEl);
    el.appendChild(root);
    this.media = new MediaStore({
      send: (content) => this.send(content),
      changed: () => {
        this.stage.refreshTooltip(this.hover);
        this.stage.invalidate();
      }
    });
    this.stage = new Stage(
      {
        beforeDraw: () => {
          if (!this.themeConnected && this.root.isConnected) this.applyTheme(true);
        },
        background: () => this.pal.bg,
        hover: (item, fromCanvas) => this.setHover(item, fromCanvas)
      },
      this.stageEl
    );
    attachDebug(root, this);
    this.on("change:overview", () => this.reload());
    this.on("change:search", () => this.reload());
    this.on("change:diagnostics", () => this.reload());
    this.on("change:media", () => {
      this.media.load(this.model.get("media"));
      this.refreshPanels();
    });
    this.on("change:view", () => this.setView(this.model.get("view"), false));
    this.on("change:view_params", () => this.applyParams(false));
    this.on("change:selected_ids", () => this.readSelection(false));
    this.on("change:selected_list", () => this.readSelection(false));
    this.on("msg:custom", (msg, buffers) => {
      if (msg && msg.type === "search-error") this.bar?.error(String(msg.message || "the search failed"));
      else if (msg && msg.type === "path") this.receivePath(msg);
      else this.media.receive(msg, buffers);
    });
    this.mq = typeof window.matchMedia === "function" ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    if (this.mq) {
      const mq = this.mq;
      const onScheme = () => this.applyTheme(false);
      mq.addEventListener("change", onScheme);
      this.cleanups.push(() => mq.removeEventListener("change", onScheme));
    }
    if (typeof ResizeObserver !== "undefined") {
      let lastWidth = -1;
      const ro = new ResizeObserver(() => {
        const width = this.available();
        if (width === lastWidth) return;
        lastWidth = width;
        this.fit();
      });
      ro.observe(el);
      this.cleanups.push(() => ro.disconnect());
    }
    if (typeof MutationObserver !== "undefined" && document.body) {
      const obs = new MutationObserver(() => this.applyTheme(false));
      obs.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
      this.cleanups.push(() => obs.disconnect());
    }
    this.media.load(this.model.get("media"));
    this.readSelection(true);
    this.applyParams(true);
    this.reload();
  }
  /**
   * @param {string} name
   * @param {(...args: any[]) => void} fn
   */
  on(name, fn) {
    this.model.on(name, fn);
    this.handlers.push([name, fn]);
  }
  destroy() {
    for (const [name, fn] of this.handlers) this.model.off(name, fn);
    for (const fn of this.cleanups) fn();
    for (const sc of this.scenes.values()) sc.deactivate();
    this.stage.destroy();
    this.media.destroy();
    this.root.remove();
  }
  /** @returns {Params} */
  params() {
    const p = this.model.get("view_params") || {};
    const theme = p.theme === "light" || p.theme === "dark" ? p.theme : "auto";
    return {
      width: clamp(Number(p.width) || 950, MIN_WIDGET_WIDTH, 4e3),
      height: clamp(Number(p.height) || 600, 200, 4e3),
      theme,
      title: p.title == null ? "" : String(p.title),
      note: p.note == null ? "" : String(p.note),
      panelWidth: clamp(Number(p.panel_width) || 260, 120, 800),
      headerHeight: clamp(Number(p.header_height) || 40, 24, 200),
      minDrawingWidth: clamp(Number(p.min_drawing_width) || 420, 200, 2e3),
      views: Array.isArray(p.views) ? p.views : void 0
    };
  }
  /** @param {boolean} initial */
  applyParams(initial) {
    const p = this.params();
    this.titleEl.textContent = [p.title, p.note].filter(Boolean).join(" · ");
    this.titleEl.title = p.note;
    this.titleEl.hidden = !p.title && !p.note;
    this.root.style.setProperty("--feder-panel-width", `${p.panelWidth}px`);
    this.root.style.setProperty("--feder-header-height", `${p.headerHeight}px`);
    this.applyTheme(true);
    this.fit();
    if (!initial) {
      this.buildTabs();
      this.refreshPanels();
    }
  }
  /** The width the host element offers (0 when not laid out yet). */
  available() {
    return Math.floor(this.el.clientWidth);
  }
  /**
   * Size the widget to its container, `width` at most: the panel sits beside the drawing
   * while the drawing keeps `minDrawingWidth`, below that it moves under the drawing.
   */
  fit() {
    const p = this.params();
    const parent = this.el.parentElement;
    if (parent && getComputedStyle(parent).display.includes("flex")) {
      if (!this.el.style.flex) this.el.style.flex = "1 1 0%";
      this.el.style.minWidth = "0";
    }
    const avail = this.available();
    const width = avail > 0 ? clamp(avail, MIN_WIDGET_WIDTH, p.width) : p.width;
    const inner = width - 2;
    const beside = inner - p.panelWidth >= p.minDrawingWidth;
    const drawW = Math.floor(beside ? inner - p.panelWidth : inner);
    const drawH = Math.max(p.height - p.headerHeight, 160);
    this.root.style.width = `${width}px`;
    this.root.classList.toggle("feder-stacked", !beside);
    this.mainEl.style.width = `${drawW}px`;
    this.stageEl.style.width = `${drawW}px`;
    this.stageEl.style.height = `${drawH}px`;
    this.root.dataset.federWidth = String(width);
    this.stage.resize(drawW, drawH);
  }
  /** @param {boolean} quiet */
  applyTheme(quiet) {
    const p = this.params();
    const body = document.body;
    const jp = !!body && body.hasAttribute("data-jp-theme-light");
    let theme = "light";
    if (p.theme !== "auto") theme = p.theme;
    else if (jp) theme = body.getAttribute("data-jp-theme-light") === "false" ? "dark" : "light";
    else theme = this.mq?.matches ? "dark" : "light";
    const changed = theme !== this.theme;
    this.theme = theme;
    this.root.dataset.federTheme = theme;
    if (p.theme === "auto" && jp) this.root.dataset.federJp = "1";
    else delete this.root.dataset.federJp;
    this.themeConnected = this.root.isConnected;
    const cs = getComputedStyle(this.root);
    const read = (name, fallback) => (cs.getPropertyValue(name) || "").trim() || fallback;
    this.pal = {
      ...PALETTES[theme],
      bg: read("--fd-bg", theme === "dark" ? "#16191f" : "#ffffff"),
      fg: read("--fd-fg", theme === "dark" ? "#e6e8eb" : "#1f2328"),
      muted: read("--fd-muted", theme === "dark" ? "#9aa4b2" : "#667080")
    };
    this.fontFamily = cs.fontFamily || "system-ui, sans-serif";
    this.stage.invalidate();
    if (changed && !quiet) this.refreshPanels();
  }
  /** @param {boolean} quiet */
  readSelection(quiet) {
    const ids = this.model.get("selected_ids") || [];
    this.selKeys = new Set(ids.map((id) => fmtId(id)));
    const list = this.model.get("selected_list");
    this.selList = Number.isInteger(list) ? list : -1;
    if (!quiet) {
      this.stage.request();
      this.refreshPanels();
    }
  }
  /**
   * @param {number[]} ids
   * @param {number} list
   */
  select(ids, list) {
    this.model.set("selected_ids", ids.map(Number));
    this.model.set("selected_list", list);
    this.model.save_changes();
    this.readSelection(false);
  }
  /**
   * @param {HitItem | null} item
   * @param {boolean} [fromCanvas]
   */
  setHover(item, fromCanvas = false) {
    const key = item ? item.key : null;
    if (key === (this.hover ? this.hover.key : null)) return;
    this.hover = item;
    this.stage.request();
    if (fromCanvas) this.stage.showTooltip(item);
    else this.stage.hideTooltip();
  }
  /** @param {number} id */
  hoverId(id) {
    this.setHover(this.scene ? this.scene.hoverId(id) : null);
  }
  /**
   * The entry route of HNSW overview node `node`: asked of the kernel once, then cached (a
   * report embeds every route in the overview instead).
   * @param {number} node
   * @returns {{nodes: number[], levels: number[]} | null}
   */
  entryPath(node) {
    const known = this.paths.get(node);
    if (known !== void 0) return known;
    this.paths.set(node, null);
    this.send({ type: "path", node });
    return null;
  }
  /** @param {any} msg the kernel's `{type: "path", node, nodes, levels}` */
  receivePath(msg) {
    if (!Number.isInteger(msg.node) || !Array.isArray(msg.nodes) || !Array.isArray(msg.levels)) return;
    this.paths.set(msg.node, { nodes: msg.nodes.map(Number), levels: msg.levels.map(Number) });
    this.refreshPanels();
  }
  /**
   * How an id is shown: the name the payloads give it (a live engine's own id such as
   * "img_0042"), else "id 42".
   * @param {number} id
   */
  idText(id) {
    const key = fmtId(id);
    const name = this.names.get(key);
    return name != null ? name : `id ${key}`;
  }
  /**
   * A message to the kernel (nothing happens in a report, which has none).
   * @param {unknown} content
   */
  send(content) {
    try {
      this.model.send(content);
    } catch {
    }
  }
  /**
   * Show the search behind sweep point `index` (its worst query at that value) in the
   * family's search views. Set locally: the kernel already has it.
   * @param {number} index
   */
  openSweepSearch(index) {
    const sw = this.diag.sweep;
    const payload = sw?.searches[index];
    if (!payload) return;
    this.model.set("search", payload);
    const first = this.tabs.find((t) => t.entry.optional !== true && t.id !== "overview");
    if (first) this.setView(first.id, true);
  }
  redraw() {
    this.stage.request();
  }
  /** @param {Record<string, string | null>} state */
  setDebugState(state) {
    for (const [k, v] of Object.entries(state)) {
      if (v == null) delete this.root.dataset[k];
      else this.root.dataset[k] = v;
    }
  }
  // ---- data and views
  reload() {
    for (const sc of this.scenes.values()) sc.deactivate();
    this.scenes.clear();
    this.hover = null;
    this.ov = decodeOverview(this.model.get("overview"));
    this.paths.clear();
    this.search = decodeSearch(this.model.get("search"), this.ov);
    this.diag = decodeDiagnostics(this.model.get("diagnostics"));
    this.names = /* @__PURE__ */ new Map();
    for (const payload of [this.model.get("overview"), this.model.get("search")]) {
      const names = payload && typeof payload === "object" ? payload.names : null;
      if (names && typeof names === "object") for (const [k, v] of Object.entries(names)) this.names.set(k, String(v));
    }
    this.root.dataset.federKind = this.ov ? this.ov.kind : "none";
    const raw = this.model.get("search") || {};
    const diagState = { pending: raw.diagnosis_pending === true, error: typeof raw.diagnosis_error === "string" ? raw.diagnosis_error : "" };
    this.root.dataset.federDiagnosis = diagState.error ? "failed" : diagState.pending ? "pending" : this.search?.diag ? "ready" : "none";
    this.bar = searchBar(this.search, {
      steps: () => {
        const steps = this.model.get("steps");
        return steps && Array.isArray(steps.values) && Array.isArray(steps.searches) ? steps : null;
      },
      showSearch: (payload) => this.model.set("search", payload),
      send: (content) => this.send(content)
    }, diagState);
    this.barEl.replaceChildren(...this.bar ? [this.bar.el] : []);
    this.buildTabs();
    this.view = null;
    this.setView(this.model.get("view"), false);
  }
  buildTabs() {
    this.tabs = tabsFor(this.ov, this.search, this.params().views, this.diag);
    this.tabsEl.replaceChildren();
    this.tabButtons = /* @__PURE__ */ new Map();
    for (const tab of this.tabs) {
      const b = h("button", "feder-tab", tab.label);
      b.type = "button";
      b.dataset.view = tab.id;
      b.setAttribute("role", "tab");
      b.disabled = tab.unavailable != null;
      if (tab.unavailable) b.title = tab.unavailable;
      b.classList.toggle("feder-active", tab.id === this.view);
      b.addEventListener("click", () => this.setView(tab.id, true));
      this.tabsEl.appendChild(b);
      this.tabButtons.set(tab.id, b);
    }
  }
  /**
   * @param {string} view
   * @param {boolean} fromUser
   */
  setView(view, fromUser) {
    const ok = this.tabs.find((t) => t.id === view && t.unavailable == null);
    const fallback = this.tabs.find((t) => t.unavailable == null);
    const tab = ok || fallback;
    if (fromUser && view !== this.model.get("view")) {
      this.model.set("view", view);
      this.model.save_changes();
    }
    if (tab && tab.id === this.view && this.scene) return;
    if (this.scene) this.scene.deactivate();
    this.view = tab ? tab.id : null;
    this.root.dataset.federView = this.view || "none";
    for (const [v, b] of this.tabButtons) {
      b.classList.toggle("feder-active", v === this.view);
      b.setAttribute("aria-selected", v === this.view ? "true" : "false");
    }
    this.hover = null;
    this.setDebugState({ federPos: null, federTotal: null, federPlaying: null, federDrawn: null });
    if (!tab || !this.ov) {
      this.scene = null;
      this.stage.setScene(null);
      this.panelInner.replaceChildren(h("p", "feder-muted", "Nothing to show yet: the overview payload is empty."));
      return;
    }
    let scene = this.scenes.get(tab.id);
    if (!scene) {
      scene = tab.entry.make(this, this.ov, this.search, this.diag);
      this.scenes.set(tab.id, scene);
    }
    this.scene = scene;
    this.stage.setScene(scene);
    scene.activate();
    this.refreshPanels(false);
  }
  /**
   * Rebuild the panel, results strip and controls of the current view.
   * @param {boolean} [redraw] also redraw the base layer (selection, media or paths changed;
   *   not for a view switch: the stage keeps the views' drawings while they are current)
   */
  refreshPanels(redraw = true) {
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
    this.controlsEl.replaceChildren();
    if (controls) this.controlsEl.appendChild(controls);
    this.controlsEl.hidden = !controls;
    if (redraw) this.stage.invalidate();
  }
};

// src/index.js
var index_default = {
  /**
   * @param {{model: Model, el: HTMLElement}} ctx
   * @returns {() => void} cleanup
   */
  render({ model, el }) {
    const app = new App(model, el);
    return () => app.destroy();
  }
};
export {
  index_default as default
};
