// The base of every view: geometry in two steps (layout at zoom 1, then `place` through the
// viewport), a cached base drawing, an overlay per frame, hit testing, and the DOM pieces
// (panel, results strip, controls) shown beside the canvas.

import { h } from '../dom.js';
import { placeLabels } from '../labels.js';
import { Viewport } from '../scales.js';
import { haloText } from '../draw.js';

/** @typedef {import('../theme.js').Palette} Palette */
/** @typedef {import('../media.js').MediaStore} MediaStore */
/** @typedef {import('../labels.js').Box} Box */
/** @typedef {import('../labels.js').LabelRequest} LabelRequest */

/**
 * @typedef {object} HitItem
 * @property {string} key unique per item: hover changes only when it does
 * @property {string} kind
 * @property {number} [list]
 * @property {number} [index]
 * @property {number} [node]
 */

/**
 * What a scene may use of the app.
 * @typedef {object} SceneHost
 * @property {Palette} pal
 * @property {'light' | 'dark'} theme
 * @property {(size: number, weight?: number) => string} font
 * @property {MediaStore} media
 * @property {Set<string>} selKeys selected ids as decimal strings
 * @property {number} selList selected IVF list or −1
 * @property {HitItem | null} hover
 * @property {(ids: number[], list: number) => void} select
 * @property {(item: HitItem | null) => void} setHover
 * @property {(id: number) => void} hoverId
 * @property {(id: number) => string} idText how an id is shown ("id 42", or a live engine's own id)
 * @property {(node: number) => {nodes: number[], levels: number[]} | null} entryPath an HNSW
 *   overview node's route from the entry point, asked of the kernel on first use (null until
 *   it arrives)
 * @property {() => void} redraw the overlay changed
 * @property {(state: Record<string, string | null>) => void} setDebugState data-* attributes for tests
 */

/**
 * @typedef {object} LabelSpec
 * @property {number} x anchor
 * @property {number} y
 * @property {string} text
 * @property {string} color
 * @property {number} [size] font size
 * @property {number} [weight]
 * @property {ReadonlyArray<readonly [number, number]>} [offsets] see labels.js
 * @property {(box: Box) => boolean} [fits] see labels.js
 * @property {boolean} [leftAnchored] the anchor is the label's left end (a heading)
 * @property {string} [halo] the halo colour (default: the background)
 */

/**
 * @typedef {object} Target
 * @property {number} x
 * @property {number} y
 * @property {string} kind
 * @property {number} [id]
 * @property {number} [list]
 * @property {number} [rank]
 * @property {number} [level]
 */

export class Scene {
  /** @param {SceneHost} app */
  constructor(app) {
    this.app = app;
    this.W = 0;
    this.H = 0;
    this.vp = new Viewport();
    /** @type {Array<Box & {text: string}>} labels placed by the last base drawing */
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
  place() {}

  /** @param {CanvasRenderingContext2D} _g */
  drawBase(_g) {}

  /** @param {CanvasRenderingContext2D} _g */
  drawOverlay(_g) {}

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
    return h('div');
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

  activate() {}

  deactivate() {}

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
    /** @type {LabelRequest[]} */
    const requests = specs.map((s) => {
      g.font = app.font(s.size || 10, s.weight || 500);
      const w = Math.ceil(g.measureText(s.text).width) + 4;
      const hh = (s.size || 10) + 4;
      /** @type {ReadonlyArray<readonly [number, number]> | undefined} */
      const offsets = s.leftAnchored ? [[w / 2, 0], [w / 2, hh + 2]] : s.offsets;
      return { x: s.x, y: s.y, w, h: hh, offsets, fits: s.fits };
    });
    const boxes = placeLabels(requests, bounds, obstacles);
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    boxes.forEach((box, i) => {
      if (!box) return;
      const s = specs[i];
      g.font = app.font(s.size || 10, s.weight || 500);
      haloText(g, s.text, box.x + box.w / 2, box.y + box.h / 2 + 0.5, s.color, s.halo || app.pal.bg);
      if (record) this.labelBoxes.push({ ...box, text: s.text });
    });
    return boxes;
  }
}
