// Decoders for the diagnostics trait (feder/serialize.py `sweep`, `health`, `compare`): the
// sweep, health and compare views' data. Search diagnoses travel in the search payload
// (payload.js `decodeDiagnosis`).

import { obj, typed } from './payload.js';

/** @typedef {import('./payload.js').TypedArray} TypedArray */

/**
 * @typedef {object} SweepPayload
 * @property {string} param nprobe | ef
 * @property {number} k
 * @property {number} queries
 * @property {TypedArray} values
 * @property {TypedArray} recall mean recall@k per value
 * @property {TypedArray} distances mean distance computations per query
 * @property {TypedArray} perQuery (p*nq) recall of each query
 * @property {TypedArray} worst the query with the lowest recall at each value
 * @property {Record<string, any>[]} searches its search payload at each value
 */

/**
 * @typedef {object} HealthPayload
 * @property {'ivf' | 'graph'} family
 * @property {number} ntotal
 * @property {TypedArray} sizes IVF list sizes
 * @property {TypedArray} edges IVF histogram edges 0, 1, 2, 4, …
 * @property {TypedArray} counts IVF lists per bin
 * @property {TypedArray} emptyLists
 * @property {number | null} imbalance
 * @property {number[]} largest [list, size]
 * @property {number[]} smallest
 * @property {{level: number, nodes: number, links: number, out: TypedArray, in: TypedArray}[]} levels graph, level 0 first
 * @property {TypedArray} unreachable graph: labels no search can reach
 * @property {number | null} entryPoint
 * @property {number} deleted
 */

/**
 * @typedef {object} ComparePayload
 * @property {string[]} titles
 * @property {Record<string, any>} left search payloads
 * @property {Record<string, any>} right
 */

/**
 * @typedef {object} Diagnostics
 * @property {SweepPayload | null} sweep
 * @property {HealthPayload | null} health
 * @property {ComparePayload | null} compare
 */

/**
 * The `diagnostics` trait decoded (each part null when absent).
 * @param {unknown} raw
 * @returns {Diagnostics}
 */
export function decodeDiagnostics(raw) {
  const d = obj(raw);
  const sw = d.sweep ? obj(d.sweep) : null;
  const he = d.health ? obj(d.health) : null;
  const cmp = d.compare ? obj(d.compare) : null;
  const hist = he ? obj(he.histogram) : {};
  return {
    sweep: sw
      ? {
          param: String(sw.param),
          k: Number(sw.k),
          queries: Number(sw.queries),
          values: typed(sw.values),
          recall: typed(sw.recall),
          distances: typed(sw.distances),
          perQuery: typed(sw.per_query),
          worst: typed(sw.worst),
          searches: Array.isArray(sw.searches) ? sw.searches : [],
        }
      : null,
    health: he
      ? {
          family: he.family === 'graph' ? 'graph' : 'ivf',
          ntotal: Number(he.ntotal),
          sizes: typed(he.sizes),
          edges: typed(hist.edges),
          counts: typed(hist.counts),
          emptyLists: typed(he.empty_lists),
          imbalance: he.imbalance_factor == null ? null : Number(he.imbalance_factor),
          largest: Array.isArray(he.largest) ? he.largest.map(Number) : [-1, 0],
          smallest: Array.isArray(he.smallest) ? he.smallest.map(Number) : [-1, 0],
          levels: (Array.isArray(he.levels) ? he.levels : []).map((/** @type {any} */ l) => ({
            level: Number(l.level),
            nodes: Number(l.nodes),
            links: Number(l.links),
            out: typed(l.out_degree),
            in: typed(l.in_degree),
          })),
          unreachable: typed(he.unreachable),
          entryPoint: he.entry_point == null ? null : Number(he.entry_point),
          deleted: Number(he.deleted || 0),
        }
      : null,
    compare: cmp?.left && cmp.right ? { titles: (cmp.titles || ['left', 'right']).map(String), left: obj(cmp.left), right: obj(cmp.right) } : null,
  };
}
