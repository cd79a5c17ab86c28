// The widget's app: DOM skeleton (header with tabs, drawing, controls, results strip, side
// panel), model events, selection, theme and sizing. Views come from views.js; each view's
// drawing and panel from its scene.

import { searchBar } from './control.js';
import { attachDebug } from './debug.js';
import { h } from './dom.js';
import { clamp, fmtId } from './format.js';
import { MediaStore } from './media.js';
import { decodeDiagnostics } from './diagnostics_payload.js';
import { decodeOverview, decodeSearch } from './payload.js';
import { Stage } from './stage.js';
import { PALETTES } from './theme.js';
import { tabsFor } from './views.js';

/** @typedef {import('./payload.js').Overview} Overview */
/** @typedef {import('./payload.js').Search} Search */
/** @typedef {import('./scenes/scene.js').Scene} Scene */
/** @typedef {import('./scenes/scene.js').HitItem} HitItem */
/** @typedef {import('./theme.js').Palette} Palette */
/** @typedef {import('./views.js').Tab} Tab */

/**
 * The part of an anywidget model the app uses (the HTML report's shim has the same).
 * @typedef {object} Model
 * @property {(name: string) => any} get
 * @property {(name: string, value: unknown) => void} set
 * @property {(name: string, cb: (...args: any[]) => void) => void} on
 * @property {(name: string, cb: (...args: any[]) => void) => void} off
 * @property {() => void} save_changes
 * @property {(content: unknown, callbacks?: unknown, buffers?: unknown) => void} send
 */

/**
 * Sizes Python and the front end agree on (feder/session.py `view_params`).
 * @typedef {object} Params
 * @property {number} width the widget's largest width
 * @property {number} height
 * @property {'auto' | 'light' | 'dark'} theme
 * @property {string} title
 * @property {string} note a caption from Python (e.g. "searched in the transformed space: PCA
 *   32→16, then IVF32,Flat" for a faiss pre-transform), shown after the title
 * @property {number} panelWidth
 * @property {number} headerHeight
 * @property {number} minDrawingWidth below it the panel goes under the drawing
 * @property {ReadonlyArray<{id: string, label: string}> | undefined} views
 */

const MIN_WIDGET_WIDTH = 320;

export class App {
  /**
   * @param {Model} model
   * @param {HTMLElement} el
   */
  constructor(model, el) {
    this.model = model;
    this.el = el;
    /** @type {Array<[string, (...args: any[]) => void]>} */
    this.handlers = [];
    /** @type {Array<() => void>} */
    this.cleanups = [];
    /** @type {HitItem | null} */
    this.hover = null;
    /** @type {Set<string>} */
    this.selKeys = new Set();
    this.selList = -1;
    /** @type {string | null} */
    this.view = null;
    /** @type {Map<string, Scene>} */
    this.scenes = new Map();
    /** @type {Scene | null} */
    this.scene = null;
    /** @type {Overview | null} */
    this.ov = null;
    /** @type {Search | null} */
    this.search = null;
    /** @type {import('./diagnostics_payload.js').Diagnostics} */
    this.diag = { sweep: null, health: null, compare: null };
    /** @type {Map<string, string>} id → name, from the payloads */
    this.names = new Map();
    /** @type {Map<number, {nodes: number[], levels: number[]} | null>} entry routes asked for */
    this.paths = new Map();
    /** @type {Tab[]} */
    this.tabs = [];
    /** @type {Map<string, HTMLButtonElement>} */
    this.tabButtons = new Map();
    /** @type {'light' | 'dark'} */
    this.theme = 'light';
    /** @type {Palette} */
    this.pal = { ...PALETTES.light, bg: '#ffffff', fg: '#1f2328', muted: '#667080' };
    this.fontFamily = 'system-ui, sans-serif';
    this.themeConnected = false;
    this.font = (/** @type {number} */ size, weight = 400) => `${weight} ${size}px ${this.fontFamily}`;

    const root = h('div', 'feder-root');
    // Keys pressed inside the widget (slider arrows, canvas shortcuts) are ours: JupyterLab's
    // command shortcuts (arrows move between cells) skip elements marked like this.
    root.dataset.lmSuppressShortcuts = 'true';
    root.dataset.pSuppressShortcuts = 'true';
    this.root = root;
    const header = h('div', 'feder-header');
    this.titleEl = h('div', 'feder-title');
    this.tabsEl = h('div', 'feder-tabs');
    this.tabsEl.setAttribute('role', 'tablist');
    this.barEl = h('div', 'feder-searchbar-slot');
    header.append(this.titleEl, this.tabsEl, this.barEl);
    /** @type {{el: HTMLElement, error: (message: string) => void} | null} */
    this.bar = null;
    this.bodyEl = h('div', 'feder-body');
    this.mainEl = h('div', 'feder-main');
    this.stageEl = h('div', 'feder-stage');
    this.controlsEl = h('div', 'feder-controls');
    this.stripEl = h('div', 'feder-strip');
    this.panelEl = h('aside', 'feder-panel');
    this.panelInner = h('div', 'feder-panel-inner');
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
      },
    });
    this.stage = new Stage(
      {
        beforeDraw: () => {
          // render() may run before the element is in the document; CSS variables (theme
          // colours, font) can only be read once it is.
          if (!this.themeConnected && this.root.isConnected) this.applyTheme(true);
        },
        background: () => this.pal.bg,
        hover: (item, fromCanvas) => this.setHover(item, fromCanvas),
      },
      this.stageEl,
    );
    attachDebug(root, this);

    this.on('change:overview', () => this.reload());
    this.on('change:search', () => this.reload());
    this.on('change:diagnostics', () => this.reload());
    this.on('change:media', () => {
      this.media.load(this.model.get('media'));
      this.refreshPanels();
    });
    this.on('change:view', () => this.setView(this.model.get('view'), false));
    this.on('change:view_params', () => this.applyParams(false));
    this.on('change:selected_ids', () => this.readSelection(false));
    this.on('change:selected_list', () => this.readSelection(false));
    this.on('msg:custom', (msg, buffers) => {
      if (msg && msg.type === 'search-error') this.bar?.error(String(msg.message || 'the search failed'));
      else if (msg && msg.type === 'path') this.receivePath(msg);
      else this.media.receive(msg, buffers);
    });

    // Theme "auto": follow JupyterLab's body attribute, else the OS preference.
    this.mq = typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
    if (this.mq) {
      const mq = this.mq;
      const onScheme = () => this.applyTheme(false);
      mq.addEventListener('change', onScheme);
      this.cleanups.push(() => mq.removeEventListener('change', onScheme));
    }
    if (typeof ResizeObserver !== 'undefined') {
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
    if (typeof MutationObserver !== 'undefined' && document.body) {
      const obs = new MutationObserver(() => this.applyTheme(false));
      obs.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light', 'data-jp-theme-name'] });
      this.cleanups.push(() => obs.disconnect());
    }

    this.media.load(this.model.get('media'));
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
    const p = this.model.get('view_params') || {};
    const theme = p.theme === 'light' || p.theme === 'dark' ? p.theme : 'auto';
    return {
      width: clamp(Number(p.width) || 950, MIN_WIDGET_WIDTH, 4000),
      height: clamp(Number(p.height) || 600, 200, 4000),
      theme,
      title: p.title == null ? '' : String(p.title),
      note: p.note == null ? '' : String(p.note),
      panelWidth: clamp(Number(p.panel_width) || 260, 120, 800),
      headerHeight: clamp(Number(p.header_height) || 40, 24, 200),
      minDrawingWidth: clamp(Number(p.min_drawing_width) || 420, 200, 2000),
      views: Array.isArray(p.views) ? p.views : undefined,
    };
  }

  /** @param {boolean} initial */
  applyParams(initial) {
    const p = this.params();
    this.titleEl.textContent = [p.title, p.note].filter(Boolean).join(' · ');
    this.titleEl.title = p.note;
    this.titleEl.hidden = !p.title && !p.note;
    this.root.style.setProperty('--feder-panel-width', `${p.panelWidth}px`);
    this.root.style.setProperty('--feder-header-height', `${p.headerHeight}px`);
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
    if (parent && getComputedStyle(parent).display.includes('flex')) {
      // Siblings in an HBox share the row instead of overflowing it. Set on every fit:
      // ipywidgets rewrites the host's inline layout styles after render.
      if (!this.el.style.flex) this.el.style.flex = '1 1 0%';
      this.el.style.minWidth = '0';
    }
    const avail = this.available();
    const width = avail > 0 ? clamp(avail, MIN_WIDGET_WIDTH, p.width) : p.width;
    const inner = width - 2; // the root's border
    const beside = inner - p.panelWidth >= p.minDrawingWidth;
    const drawW = Math.floor(beside ? inner - p.panelWidth : inner);
    const drawH = Math.max(p.height - p.headerHeight, 160);
    this.root.style.width = `${width}px`;
    this.root.classList.toggle('feder-stacked', !beside);
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
    const jp = !!body && body.hasAttribute('data-jp-theme-light');
    /** @type {'light' | 'dark'} */
    let theme = 'light';
    if (p.theme !== 'auto') theme = p.theme;
    else if (jp) theme = body.getAttribute('data-jp-theme-light') === 'false' ? 'dark' : 'light';
    else theme = this.mq?.matches ? 'dark' : 'light';
    const changed = theme !== this.theme;
    this.theme = theme;
    this.root.dataset.federTheme = theme;
    if (p.theme === 'auto' && jp) this.root.dataset.federJp = '1';
    else delete this.root.dataset.federJp;
    this.themeConnected = this.root.isConnected;
    const cs = getComputedStyle(this.root);
    /**
     * @param {string} name
     * @param {string} fallback
     */
    const read = (name, fallback) => (cs.getPropertyValue(name) || '').trim() || fallback;
    this.pal = {
      ...PALETTES[theme],
      bg: read('--fd-bg', theme === 'dark' ? '#16191f' : '#ffffff'),
      fg: read('--fd-fg', theme === 'dark' ? '#e6e8eb' : '#1f2328'),
      muted: read('--fd-muted', theme === 'dark' ? '#9aa4b2' : '#667080'),
    };
    this.fontFamily = cs.fontFamily || 'system-ui, sans-serif';
    this.stage.invalidate();
    if (changed && !quiet) this.refreshPanels();
  }

  /** @param {boolean} quiet */
  readSelection(quiet) {
    const ids = this.model.get('selected_ids') || [];
    this.selKeys = new Set(ids.map((/** @type {number} */ id) => fmtId(id)));
    const list = this.model.get('selected_list');
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
    this.model.set('selected_ids', ids.map(Number));
    this.model.set('selected_list', list);
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
    if (known !== undefined) return known;
    this.paths.set(node, null);
    this.send({ type: 'path', node });
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
      // no kernel: placeholders stay, precomputed steps serve the controls
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
    this.model.set('search', payload);
    const first = this.tabs.find((t) => t.entry.optional !== true && t.id !== 'overview');
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
    this.ov = decodeOverview(this.model.get('overview'));
    this.paths.clear();
    this.search = decodeSearch(this.model.get('search'), this.ov);
    this.diag = decodeDiagnostics(this.model.get('diagnostics'));
    this.names = new Map();
    for (const payload of [this.model.get('overview'), this.model.get('search')]) {
      const names = payload && typeof payload === 'object' ? payload.names : null;
      if (names && typeof names === 'object') for (const [k, v] of Object.entries(names)) this.names.set(k, String(v));
    }
    this.root.dataset.federKind = this.ov ? this.ov.kind : 'none';
    // A big index's diagnosis arrives later (the kernel replaces `search`): say so meanwhile.
    const raw = this.model.get('search') || {};
    const diagState = { pending: raw.diagnosis_pending === true, error: typeof raw.diagnosis_error === 'string' ? raw.diagnosis_error : '' };
    this.root.dataset.federDiagnosis = diagState.error ? 'failed' : diagState.pending ? 'pending' : this.search?.diag ? 'ready' : 'none';
    this.bar = searchBar(this.search, {
      steps: () => {
        const steps = this.model.get('steps');
        return steps && Array.isArray(steps.values) && Array.isArray(steps.searches) ? steps : null;
      },
      showSearch: (payload) => this.model.set('search', payload),
      send: (content) => this.send(content),
    }, diagState);
    this.barEl.replaceChildren(...(this.bar ? [this.bar.el] : []));
    this.buildTabs();
    this.view = null;
    this.setView(this.model.get('view'), false);
  }

  buildTabs() {
    this.tabs = tabsFor(this.ov, this.search, this.params().views, this.diag);
    this.tabsEl.replaceChildren();
    this.tabButtons = new Map();
    for (const tab of this.tabs) {
      const b = h('button', 'feder-tab', tab.label);
      b.type = 'button';
      b.dataset.view = tab.id;
      b.setAttribute('role', 'tab');
      b.disabled = tab.unavailable != null;
      if (tab.unavailable) b.title = tab.unavailable;
      b.classList.toggle('feder-active', tab.id === this.view);
      b.addEventListener('click', () => this.setView(tab.id, true));
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
    if (fromUser && view !== this.model.get('view')) {
      this.model.set('view', view);
      this.model.save_changes();
    }
    if (tab && tab.id === this.view && this.scene) return;
    if (this.scene) this.scene.deactivate();
    this.view = tab ? tab.id : null;
    this.root.dataset.federView = this.view || 'none';
    for (const [v, b] of this.tabButtons) {
      b.classList.toggle('feder-active', v === this.view);
      b.setAttribute('aria-selected', v === this.view ? 'true' : 'false');
    }
    this.hover = null;
    this.setDebugState({ federPos: null, federTotal: null, federPlaying: null, federDrawn: null });
    if (!tab || !this.ov) {
      this.scene = null;
      this.stage.setScene(null);
      this.panelInner.replaceChildren(h('p', 'feder-muted', 'Nothing to show yet: the overview payload is empty.'));
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
}
