// The canvas: a HiDPI backing store, a cached base layer redrawn only when the data, size,
// theme or zoom change, and a cheap overlay (hover, selection, animation) every frame.
// Pointer input: hover and click go to the scene; wheel / pinch zoom, drag pans and a
// double click resets the view, in every scene.

import { h } from './dom.js';

/** @typedef {import('./scenes/scene.js').Scene} Scene */
/** @typedef {import('./scenes/scene.js').HitItem} HitItem */

const DRAG_THRESHOLD = 4; // px a press may move and still be a click
const KEPT_BASES = 4; // base layers kept for the views shown last (a tab switch back is a copy)

/**
 * @typedef {object} StageHost
 * @property {() => void} beforeDraw read the theme once the element is in the document
 * @property {() => string} background
 * @property {(item: HitItem | null, fromCanvas: boolean) => void} hover
 */

export class Stage {
  /**
   * @param {StageHost} host
   * @param {HTMLElement} parent
   */
  constructor(host, parent) {
    this.host = host;
    this.canvas = h('canvas', 'feder-canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
    /**
     * Base layers of the scenes shown last, most recent first; `stamp` says for which size,
     * pixel ratio and generation (bumped by `invalidate`) the drawing is current.
     * @type {Array<{scene: Scene | null, canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D, stamp: string}>}
     */
    this.kept = [];
    this.generation = 0;
    this.base = document.createElement('canvas');
    this.baseCtx = /** @type {CanvasRenderingContext2D} */ (this.base.getContext('2d'));
    this.kept.push({ scene: null, canvas: this.base, ctx: this.baseCtx, stamp: '' });
    this.tooltip = h('div', 'feder-tooltip');
    this.tooltip.hidden = true;
    this.tooltip.setAttribute('role', 'tooltip');
    this.zoomHint = h('button', 'feder-btn feder-zoom-reset', 'Reset zoom');
    this.zoomHint.type = 'button';
    this.zoomHint.hidden = true;
    this.zoomHint.addEventListener('click', () => this.resetView());
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
    /** @type {Scene | null} */
    this.scene = null;
    /** @type {string | null} */
    this.tooltipKey = null;
    /** @type {[number, number] | null} */
    this.mouse = null;
    /** @type {Map<number, [number, number]>} */
    this.pointers = new Map();
    /** @type {{x: number, y: number, moved: boolean, pinch: number} | null} */
    this.press = null;
    const c = this.canvas;
    c.addEventListener('pointermove', (ev) => this.onMove(ev));
    c.addEventListener('pointerleave', () => this.onLeave());
    c.addEventListener('pointerdown', (ev) => this.onDown(ev));
    c.addEventListener('pointerup', (ev) => this.onUp(ev));
    c.addEventListener('pointercancel', (ev) => this.pointers.delete(ev.pointerId));
    c.addEventListener('wheel', (ev) => this.onWheel(ev), { passive: false });
    c.addEventListener('dblclick', () => this.resetView());
    c.addEventListener('keydown', (ev) => {
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
    // the outgoing drawing is out of date when a change waits for the next frame
    if (this.scene && (this.layoutDirty || this.placeDirty || this.baseDirty)) this.kept[0].stamp = '';
    this.scene = scene;
    this.hideTooltip();
    this.syncZoomHint();
    this.layoutDirty = true;
    if (!scene) return;
    let at = this.kept.findIndex((k) => k.scene === scene);
    if (at < 0) {
      at = this.kept.findIndex((k) => k.scene === null);
      if (at < 0 && this.kept.length < KEPT_BASES) {
        const canvas = document.createElement('canvas');
        const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
        this.kept.push({ scene: null, canvas, ctx, stamp: '' });
      }
      if (at < 0) at = this.kept.length - 1; // else the least recent one's canvas
      this.kept[at].scene = scene;
      this.kept[at].stamp = '';
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
    return [((ev.clientX - r.left) * this.W) / (r.width || 1), ((ev.clientY - r.top) * this.H) / (r.height || 1)];
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
    this.canvas.dataset.federZoom = moved && this.scene ? this.scene.vp.scale.toFixed(3) : '1';
  }

  /** @param {WheelEvent} ev */
  onWheel(ev) {
    if (!this.scene) return;
    ev.preventDefault();
    const [x, y] = this.point(ev);
    // Trackpad pinch arrives as a wheel event with ctrlKey; it moves in finer steps.
    const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? 400 : 1;
    const factor = Math.exp((-ev.deltaY * unit * (ev.ctrlKey ? 0.01 : 0.0025)));
    this.zoomAt(x, y, factor);
  }

  /** @param {PointerEvent} ev */
  onDown(ev) {
    if (ev.button !== 0 && ev.pointerType === 'mouse') return;
    this.pointers.set(ev.pointerId, this.point(ev));
    try {
      this.canvas.setPointerCapture(ev.pointerId);
    } catch {
      // synthetic events have no active pointer to capture
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
        this.canvas.style.cursor = 'grabbing';
        this.viewChanged();
        return;
      }
    }
    this.ensureLayout();
    this.mouse = [x, y];
    const item = this.scene.hit(x, y);
    this.canvas.style.cursor = item ? 'pointer' : 'default';
    this.host.hover(item, true);
    if (item) this.placeTooltip(x, y);
  }

  /** @param {PointerEvent} ev */
  onUp(ev) {
    const had = this.pointers.delete(ev.pointerId);
    const press = this.press;
    if (this.pointers.size === 0) this.press = null;
    if (!had || !press || press.moved || !this.scene) {
      this.canvas.style.cursor = 'default';
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
}
