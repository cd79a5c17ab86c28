// Thumbnails for ids: items from the `media` trait, more asked from the kernel on demand.
// With no media at all (media_type null) nothing is ever requested: views show ids and
// distances only.

import { h } from './dom.js';
import { fmtId } from './format.js';

const SAFE_URL = /^(https?:|data:image\/|blob:)/i;
const CANVAS_URL = /^(data:image\/|blob:)/i; // same-origin: drawing them keeps the canvas readable
const TEXT_LIMIT = 600;
/** Width (CSS px) of a text card in the results strip and of a full text in a tooltip. */
const TEXT_WIDTH = 136;
const TEXT_FULL_WIDTH = 240;

/**
 * A text needs room for a line of words: text cards are twice as wide as a thumbnail, and
 * a full text (tooltips) wider still.
 * @param {number} size the thumbnail size asked for
 * @param {{full?: boolean}} opts
 */
function textWidth(size, opts) {
  return Math.max(2 * size, opts.full ? TEXT_FULL_WIDTH : TEXT_WIDTH);
}

/**
 * @typedef {object} MediaItem
 * @property {'image' | 'url' | 'text' | 'missing'} kind
 * @property {string} [mime]
 * @property {DataView | ArrayBuffer | Uint8Array} [data]
 * @property {number} [buffer]
 * @property {string} [url]
 * @property {string} [text]
 * @property {string} [name]
 * @property {string} [reason]
 */

/**
 * @typedef {object} ThumbOptions
 * @property {number} [size]
 * @property {boolean} [full] show long texts (up to TEXT_LIMIT characters)
 */

/**
 * @typedef {object} MediaHost
 * @property {(content: unknown) => void} send ask the kernel for media
 * @property {() => void} changed an item arrived (tooltips, canvas thumbnails redraw)
 */

export class MediaStore {
  /** @param {MediaHost} host */
  constructor(host) {
    this.host = host;
    /** @type {Map<string, MediaItem>} */
    this.items = new Map();
    /** @type {Map<string, string>} */
    this.urls = new Map();
    /** @type {Set<string>} */
    this.pending = new Set();
    /** @type {Set<string>} */
    this.queue = new Set();
    /** @type {Map<string, Array<[HTMLElement, ThumbOptions]>>} */
    this.waiting = new Map();
    /** @type {Map<string, HTMLImageElement>} */
    this.images = new Map();
    /** @type {string[]} */
    this.looseUrls = [];
    /** @type {string | null} */
    this.type = null;
    this.timer = 0;
  }

  /** @param {unknown} media the `media` trait: {media_type, items} */
  load(media) {
    this.revoke();
    this.items.clear();
    this.pending.clear();
    this.images.clear();
    const m = /** @type {{media_type?: unknown, items?: Record<string, MediaItem>}} */ (media || {});
    this.type = m.media_type ? String(m.media_type) : null;
    const items = m.items || {};
    for (const key of Object.keys(items)) this.items.set(key, items[key]);
  }

  /** Whether there is media to show at all. */
  shows() {
    return this.type != null;
  }

  get isText() {
    return this.type === 'text';
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
    if (msg?.type !== 'media' || !msg.items) return;
    for (const key of Object.keys(msg.items)) {
      /** @type {MediaItem} */
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
        if (ids.length) this.host.send({ type: 'media', ids });
      }, 20),
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
    if (item.kind === 'image' && item.data) {
      let url = key != null ? this.urls.get(key) : null;
      if (!url) {
        const mime = typeof item.mime === 'string' && /^image\/[\w.+-]+$/.test(item.mime) ? item.mime : 'image/png';
        const data = /** @type {BlobPart} */ (item.data);
        url = URL.createObjectURL(new Blob([data], { type: mime }));
        if (key != null) this.urls.set(key, url);
        else this.looseUrls.push(url);
      }
      return url;
    }
    if (item.kind === 'url' && typeof item.url === 'string' && SAFE_URL.test(item.url)) return item.url;
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
    img.decoding = 'async';
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
    return item && typeof item.name === 'string' && item.name ? item.name : null;
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
      this.placeholder(box, key, '…');
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
    const box = h('div', 'feder-thumb');
    if (opts.size) {
      box.style.width = `${this.isText ? textWidth(opts.size, opts) : opts.size}px`;
      box.style.height = this.isText ? 'auto' : `${opts.size}px`;
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
    box.classList.remove('feder-thumb-missing', 'feder-thumb-text');
    if (item.kind === 'text') {
      box.classList.add('feder-thumb-text');
      box.classList.toggle('feder-thumb-clamped', !opts.full);
      box.style.height = 'auto';
      if (opts.size) box.style.width = `${textWidth(opts.size, opts)}px`;
      const text = String(item.text == null ? '' : item.text);
      const limit = opts.full ? TEXT_LIMIT : 140;
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

  /**
   * @param {HTMLElement} box
   * @param {string | null} key
   * @param {string} mark
   * @param {string} [reason]
   */
  placeholder(box, key, mark, reason) {
    box.classList.add('feder-thumb-missing');
    box.appendChild(h('span', null, mark || (key != null ? `#${key}` : '—')));
    if (reason) box.title = reason;
  }
}
