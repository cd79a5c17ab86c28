// The view registry: per index family, each view id the scene that draws it and when it is
// available. Python decides which views a family has, their labels and order
// (feder/families.py, sent as view_params.views); this table only knows how to draw them.
// Adding a view: write a scene under scenes/, add one row here and one in feder/families.py.

import { CodesScene } from './scenes/codes.js';
import { CoarseScene } from './scenes/coarse.js';
import { FineScene } from './scenes/fine.js';
import { FlatMapScene } from './scenes/flat_map.js';
import { HNSWOverviewScene } from './scenes/hnsw_overview.js';
import { HNSWSearchScene } from './scenes/hnsw_search.js';
import { IVFMapScene } from './scenes/ivf_map.js';
import { CompareScene } from './scenes/compare.js';
import { HealthScene } from './scenes/health.js';
import { ProjectionScene } from './scenes/projection.js';
import { SweepScene } from './scenes/sweep.js';

/** @typedef {import('./payload.js').Overview} Overview */
/** @typedef {import('./payload.js').Search} Search */
/** @typedef {import('./payload.js').IVFOverview} IVFOverview */
/** @typedef {import('./payload.js').IVFSearch} IVFSearch */
/** @typedef {import('./payload.js').HNSWOverview} HNSWOverview */
/** @typedef {import('./payload.js').HNSWSearch} HNSWSearch */
/** @typedef {import('./scenes/scene.js').Scene} Scene */
/** @typedef {import('./scenes/scene.js').SceneHost} SceneHost */

/** @typedef {import('./diagnostics_payload.js').Diagnostics} Diagnostics */
/** @typedef {SceneHost & import('./scenes/sweep.js').SweepHost} ViewHost */

/**
 * @typedef {object} ViewEntry
 * @property {string} label default tab label (Python's label wins)
 * @property {(ov: any, search: any, diag: Diagnostics) => string | null} unavailable why the view cannot show now, or null
 * @property {(app: ViewHost, ov: any, search: any, diag: Diagnostics) => Scene} make
 * @property {boolean} [optional] no tab at all while unavailable (the diagnostics views)
 */

const NO_SEARCH = 'no search yet';

/**
 * The diagnostics views every family has, shown when their data is there.
 * @type {Record<string, ViewEntry>}
 */
const DIAGNOSTICS = {
  sweep: {
    label: 'Sweep',
    optional: true,
    unavailable: (_ov, _s, d) => (d.sweep ? null : 'no sweep: FederPy.sweep(queries)'),
    make: (app, _ov, _s, d) => new SweepScene(app, /** @type {import('./diagnostics_payload.js').SweepPayload} */ (d.sweep)),
  },
  health: {
    label: 'Health',
    optional: true,
    unavailable: (_ov, _s, d) => (d.health ? null : 'no health report: FederPy.health()'),
    make: (app, _ov, _s, d) => new HealthScene(app, /** @type {import('./diagnostics_payload.js').HealthPayload} */ (d.health)),
  },
  compare: {
    label: 'Compare',
    optional: true,
    unavailable: (_ov, _s, d) => (d.compare ? null : 'nothing to compare: FederPy.compare(a, b)'),
    make: (app, _ov, _s, d) => new CompareScene(app, /** @type {import('./diagnostics_payload.js').ComparePayload} */ (d.compare)),
  },
};

/**
 * Code distance against true distance, for searches of lossy codes (PQ, SQ): no tab unless
 * the search payload carries `codes` (Python sends them only for such indexes).
 * @type {ViewEntry}
 */
const CODES = {
  label: 'Codes',
  optional: true,
  unavailable: (_ov, /** @type {Search | null} */ s) => (!s ? NO_SEARCH : s.codes ? null : 'no lossy codes in this search'),
  make: (app, _ov, /** @type {Search} */ s) => new CodesScene(app, s),
};

/** @type {Record<string, Record<string, ViewEntry>>} */
export const VIEWS = {
  ivf: {
    overview: {
      label: 'Overview',
      unavailable: () => null,
      make: (app, /** @type {IVFOverview} */ ov, /** @type {IVFSearch | null} */ s) => new IVFMapScene(app, ov, s),
    },
    coarse: {
      label: 'Coarse search',
      unavailable: (_ov, s) => (s ? null : NO_SEARCH),
      make: (app, /** @type {IVFOverview} */ ov, /** @type {IVFSearch} */ s) => new CoarseScene(app, ov, s),
    },
    fine: {
      label: 'Fine search',
      unavailable: (_ov, s) => (s ? null : NO_SEARCH),
      make: (app, /** @type {IVFOverview} */ ov, /** @type {IVFSearch} */ s) => new FineScene(app, ov, s),
    },
    projection: {
      label: 'Projection',
      unavailable: (_ov, /** @type {IVFSearch | null} */ s) => (!s ? NO_SEARCH : s.projection ? null : 'no projection in this search'),
      make: (app, /** @type {IVFOverview} */ ov, /** @type {IVFSearch} */ s) => new ProjectionScene(app, ov, s),
    },
    codes: CODES,
    ...DIAGNOSTICS,
  },
  flat: {
    overview: {
      label: 'Overview',
      unavailable: () => null,
      make: (app, /** @type {import('./payload.js').FlatOverview} */ ov) => new FlatMapScene(app, ov),
    },
    fine: {
      label: 'Distances',
      unavailable: (_ov, s) => (s ? null : NO_SEARCH),
      make: (app, ov, /** @type {IVFSearch} */ s) => new FineScene(app, ov, s),
    },
    projection: {
      label: 'Projection',
      unavailable: (_ov, /** @type {IVFSearch | null} */ s) => (!s ? NO_SEARCH : s.projection ? null : 'no projection in this search'),
      make: (app, ov, /** @type {IVFSearch} */ s) => new ProjectionScene(app, ov, s),
    },
    codes: CODES,
    ...DIAGNOSTICS,
  },
  graph: {
    overview: {
      label: 'Overview',
      unavailable: () => null,
      make: (app, /** @type {HNSWOverview} */ ov) => new HNSWOverviewScene(app, ov),
    },
    search: {
      label: 'Search',
      unavailable: (_ov, s) => (s ? null : NO_SEARCH),
      make: (app, _ov, /** @type {HNSWSearch} */ s) => new HNSWSearchScene(app, s),
    },
    codes: CODES,
    ...DIAGNOSTICS,
  },
};

/**
 * @typedef {object} Tab
 * @property {string} id
 * @property {string} label
 * @property {string | null} unavailable
 * @property {ViewEntry} entry
 */

/**
 * The tabs of a widget: Python's list (id, label) in its order, each looked up here; ids
 * this front end cannot draw are left out, and so are optional views without their data.
 * Without a list from Python, every view of the family.
 * @param {Overview | null} ov
 * @param {Search | null} search
 * @param {ReadonlyArray<{id: string, label?: string}> | undefined} listed
 * @param {Diagnostics} diag
 * @returns {Tab[]}
 */
export function tabsFor(ov, search, listed, diag) {
  if (!ov) return [];
  const family = VIEWS[ov.family] || {};
  const wanted = listed?.length ? listed : Object.keys(family).map((id) => ({ id, label: family[id].label }));
  /** @type {Tab[]} */
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
