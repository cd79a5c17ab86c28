// Decoders for the payloads feder/serialize.py builds. Every array arrives as
// {dtype, shape, data} with `data` a DataView (Jupyter's binary buffers, or the HTML report's
// base64 blob); decoding wraps it in a typed array without copying whenever the offset allows.
// The typedefs mirror the docstrings of feder/serialize.py: change both together.

/**
 * @typedef {object} SerializedArray
 * @property {'float32' | 'float64' | 'int32' | 'uint32' | 'uint8' | 'int8' | 'int16' | 'uint16'} dtype
 * @property {number[]} shape
 * @property {DataView | ArrayBuffer | ArrayBufferView | number[] | null} data
 */

/** @typedef {Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | Int8Array | Int16Array | Uint16Array} TypedArray */

/**
 * @typedef {object} RadialScalePayload
 * @property {'sqrt' | 'linear'} kind
 * @property {number} zero distance at the centre
 * @property {number} span transformed distance at radius 1
 * @property {boolean} larger_is_closer
 */

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

/**
 * A typed array over a serialized array: zero-copy when `data`'s byteOffset is a multiple of
 * the element size, otherwise a copy (packed buffers can start at any byte).
 * @param {SerializedArray | null | undefined} a
 * @returns {TypedArray}
 */
export function typed(a) {
  if (a == null) return new Float64Array(0);
  const C = CTORS[a.dtype];
  if (!C) throw new Error(`feder: unsupported dtype ${String(a.dtype)}`);
  const d = a.data;
  if (Array.isArray(d)) return new C(d);
  /** @type {ArrayBufferLike} */
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
  const buf = /** @type {ArrayBuffer} */ (buffer);
  if (offset % size === 0) return new C(buf, offset, count);
  return new C(buf.slice(offset, offset + count * size));
}

/**
 * @param {unknown} v
 * @returns {Record<string, any>}
 */
export function obj(v) {
  return v && typeof v === 'object' ? /** @type {Record<string, any>} */ (v) : {};
}

/**
 * Was the search right (feder/serialize.py `diagnosis`).
 * @typedef {object} Diagnosis
 * @property {number} recall |results ∩ exact top-k| / k
 * @property {number} k
 * @property {number} found exact neighbours returned
 * @property {string[]} reasons names of the reason codes
 * @property {TypedArray} truthIds the exact top-k
 * @property {TypedArray} truthDist
 * @property {TypedArray} missIds exact neighbours not returned, in exact-rank order
 * @property {TypedArray} missRank 1-based exact rank
 * @property {TypedArray} missDist
 * @property {TypedArray} missReason index into `reasons`
 * @property {TypedArray} missList IVF: the neighbour's list, else −1
 * @property {TypedArray} missListRank IVF: that list's rank by centroid distance (nprobe that finds it)
 * @property {TypedArray} missHops HNSW not_reached: level-0 links from the search, else −1
 * @property {TypedArray} missXY (m*2) where the search view draws it
 * @property {'exact' | 'decoded'} truthSpace the truth's vectors: the originals, or lossy
 *   codes' reconstructions (quantization misses cannot show against those)
 * @property {TypedArray} truthCodeDist (k) the distance the search computed for each exact
 *   neighbour (NaN: never computed)
 * @property {TypedArray} resultTrueDist (k) the true distance of each result (NaN: padding)
 * @property {TypedArray} missCodeDist the distance the search computed for each miss (NaN: never)
 */

/**
 * The search parameter a view can change in place.
 * @typedef {object} SearchControl
 * @property {string} name nprobe | ef_search
 * @property {string} label
 * @property {number} value
 * @property {number[]} values
 */

/**
 * @param {unknown} raw
 * @returns {Diagnosis | null}
 */
export function decodeDiagnosis(raw) {
  if (!raw || typeof raw !== 'object') return null;
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
    truthSpace: d.truth_space === 'decoded' ? 'decoded' : 'exact',
    truthCodeDist: typed(truth.code_distances),
    resultTrueDist: typed(obj(d.results).true_distances),
    missCodeDist: typed(m.code_distances),
  };
}

/**
 * Code distance against true distance for a search of lossy codes (feder/serialize.py
 * `codes`): a sample of the scanned candidates, closest code first.
 * @typedef {object} Codes
 * @property {'exact' | 'decoded'} truthSpace true distance = to the original vector, or to
 *   the code's reconstruction
 * @property {boolean} largerIsCloser inner product
 * @property {number} scanned code distances the search computed
 * @property {TypedArray} ids
 * @property {TypedArray} lists IVF list, −1 none
 * @property {TypedArray} codeDist what the search ranked by
 * @property {TypedArray} trueDist
 * @property {TypedArray} rank 0-based rank in the results, −1 if not returned
 * @property {TypedArray} trueRank 1-based rank in the exact top-k, 0 if not in it
 * @property {number | null} kthCode the k-th result's code distance (the cut-off)
 * @property {number | null} kthTrue the k-th exact neighbour's distance
 */

/**
 * @param {unknown} raw
 * @returns {Codes | null}
 */
export function decodeCodes(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const c = obj(raw);
  /** @param {unknown} v */
  const num = (v) => (v == null || !Number.isFinite(Number(v)) ? null : Number(v));
  return {
    truthSpace: c.truth_space === 'decoded' ? 'decoded' : 'exact',
    largerIsCloser: !!c.larger_is_closer,
    scanned: Number(c.scanned) || 0,
    ids: typed(c.ids),
    lists: typed(c.lists),
    codeDist: typed(c.code_distances),
    trueDist: typed(c.true_distances),
    rank: typed(c.rank),
    trueRank: typed(c.true_rank),
    kthCode: num(c.kth_code),
    kthTrue: num(c.kth_true),
  };
}

/**
 * @param {unknown} raw
 * @returns {SearchControl | null}
 */
function decodeControl(raw) {
  const c = obj(raw);
  if (!c.name || !Array.isArray(c.values)) return null;
  return { name: String(c.name), label: String(c.label || c.name), value: Number(c.value), values: c.values.map(Number) };
}

/**
 * @typedef {object} IVFOverview
 * @property {'ivf_overview'} kind
 * @property {'ivf'} family
 * @property {number[]} box layout box [width, height] the cells were laid out in
 * @property {TypedArray} cellXY (v*2) polygon vertices
 * @property {TypedArray} cellOff (nlist+1) CSR offsets into cellXY pairs
 * @property {TypedArray} centers (nlist*2)
 * @property {TypedArray} sizes (nlist)
 * @property {TypedArray} memIds members nearest the centroid first
 * @property {TypedArray} memOff (nlist+1)
 * @property {number} nlist
 * @property {Record<string, any>} facts
 */

/**
 * @param {Record<string, any>} p
 * @returns {IVFOverview}
 */
export function decodeIVFOverview(p) {
  const sizes = typed(p.sizes);
  const cells = obj(p.cells);
  const members = obj(p.members);
  return {
    kind: 'ivf_overview',
    family: 'ivf',
    box: Array.isArray(p.box) ? p.box.map(Number) : [800, 500],
    cellXY: typed(cells.xy),
    cellOff: typed(cells.offsets),
    centers: typed(p.centers),
    sizes,
    memIds: typed(members.ids),
    memOff: members.offsets ? typed(members.offsets) : new Int32Array(sizes.length + 1),
    nlist: sizes.length,
    facts: obj(p.facts),
  };
}

/**
 * @typedef {object} Target
 * @property {number | null} [id]
 * @property {Record<string, any> | null} [media]
 */

/**
 * @typedef {object} IVFSearch
 * @property {'ivf_search'} kind
 * @property {string} metric
 * @property {Record<string, number>} params
 * @property {TypedArray} probed probed lists, nearest first
 * @property {TypedArray} probedDist
 * @property {TypedArray} allDist distance to every centroid
 * @property {number[]} queryXY the query on the overview's box
 * @property {TypedArray} ids candidates in scan order
 * @property {TypedArray} lists
 * @property {TypedArray} dist
 * @property {TypedArray} rank 0-based rank in the results, −1 if not returned
 * @property {TypedArray} polar (m*2) in [−1, 1]², query at the origin
 * @property {TypedArray} sectorLists
 * @property {TypedArray} sectorStart
 * @property {TypedArray} sectorEnd
 * @property {RadialScalePayload | null} scale
 * @property {{method: string, xy: TypedArray, queryXY: number[]} | null} projection
 * @property {TypedArray} resultIds
 * @property {TypedArray} resultDist
 * @property {Target} target
 * @property {Diagnosis | null} diag
 * @property {Codes | null} codes lossy codes: code vs true distances (the "Codes" view)
 * @property {SearchControl | null} control
 * @property {number | null} scanned a flat search: every stored vector compared (else null)
 * @property {Map<number, number>} probeRank list → 0-based probe rank
 * @property {Map<number, number>} perList list → candidates scanned
 * @property {number[]} top candidate positions of the results, best first
 */

/**
 * @param {Record<string, any>} p
 * @returns {IVFSearch}
 */
export function decodeIVFSearch(p) {
  const fine = obj(p.fine);
  const coarse = obj(p.coarse);
  const sectors = obj(fine.sectors);
  const results = obj(p.results);
  const projection = fine.projection ? obj(fine.projection) : null;
  const probed = typed(coarse.lists);
  const lists = typed(fine.lists);
  const rank = typed(fine.rank);
  /** @type {Map<number, number>} */
  const probeRank = new Map();
  for (let i = 0; i < probed.length; i++) probeRank.set(probed[i], i);
  /** @type {Map<number, number>} */
  const perList = new Map();
  for (let i = 0; i < lists.length; i++) perList.set(lists[i], (perList.get(lists[i]) || 0) + 1);
  /** @type {number[]} */
  const top = [];
  for (let i = 0; i < rank.length; i++) if (rank[i] >= 0) top.push(i);
  top.sort((a, b) => rank[a] - rank[b]);
  return {
    kind: 'ivf_search',
    metric: String(p.metric || ''),
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
    scale: fine.scale ? /** @type {RadialScalePayload} */ (fine.scale) : null,
    projection: projection
      ? {
          method: String(projection.method || 'projection'),
          xy: typed(projection.xy),
          queryXY: Array.isArray(projection.query_xy) ? projection.query_xy.map(Number) : [0.5, 0.5],
        }
      : null,
    resultIds: typed(results.ids),
    resultDist: typed(results.distances),
    target: obj(p.target),
    diag: decodeDiagnosis(p.diagnosis),
    codes: decodeCodes(p.codes),
    control: decodeControl(p.control),
    scanned: p.kind === 'flat_search' ? Number(p.scanned) : null,
    probeRank,
    perList,
    top,
  };
}

/**
 * @typedef {object} HNSWOverview
 * @property {'hnsw_overview'} kind
 * @property {'graph'} family
 * @property {TypedArray} ids node labels
 * @property {TypedArray} xy (n*2) in [0, 1]²
 * @property {TypedArray} top top level of each node
 * @property {{level: number, src: TypedArray, dst: TypedArray}[]} levels shown levels, top first
 * @property {TypedArray | null} pathOffsets (n+1) greedy route of node i from the entry point
 * @property {TypedArray | null} pathNodes
 * @property {TypedArray | null} pathLevels
 * @property {Record<string, any>} facts
 */

/**
 * @param {Record<string, any>} p
 * @returns {HNSWOverview}
 */
export function decodeHNSWOverview(p) {
  const nodes = obj(p.nodes);
  const paths = p.paths ? obj(p.paths) : null;
  return {
    kind: 'hnsw_overview',
    family: 'graph',
    ids: typed(nodes.ids),
    xy: typed(nodes.xy),
    top: typed(nodes.top_level),
    levels: (Array.isArray(p.levels) ? p.levels : []).map((/** @type {any} */ l) => ({
      level: Number(l.level),
      src: typed(l.src),
      dst: typed(l.dst),
    })),
    pathOffsets: paths ? typed(paths.offsets) : null,
    pathNodes: paths ? typed(paths.nodes) : null,
    pathLevels: paths ? typed(paths.levels) : null,
    facts: obj(p.facts),
  };
}

/**
 * @typedef {object} HNSWLevelRow
 * @property {number} level
 * @property {number} entry node index of this level's entry
 * @property {number} visited
 * @property {number} edges
 * @property {number} start first event of this level
 * @property {number} end one past its last event
 */

/**
 * @typedef {object} HNSWSearch
 * @property {'hnsw_search'} kind
 * @property {string} metric
 * @property {Record<string, number>} params
 * @property {TypedArray} ids labels of the visited nodes
 * @property {TypedArray} xy (v*2) in [−1, 1]², query at the origin
 * @property {TypedArray} dist
 * @property {RadialScalePayload | null} scale
 * @property {TypedArray} evLevel every examined link in search order
 * @property {TypedArray} evSrc
 * @property {TypedArray} evDst
 * @property {TypedArray} evOut 0 passed over, 1 accepted, 2 explored only (deleted)
 * @property {TypedArray} evEvict node pushed out of the beam or −1
 * @property {HNSWLevelRow[]} levels top first
 * @property {TypedArray} resultIds
 * @property {TypedArray} resultDist
 * @property {TypedArray} resultNodes
 * @property {Target} target
 * @property {Diagnosis | null} diag
 * @property {Codes | null} codes lossy codes: code vs true distances (the "Codes" view)
 * @property {SearchControl | null} control
 */

/**
 * @param {Record<string, any>} p
 * @returns {HNSWSearch}
 */
export function decodeHNSWSearch(p) {
  const ev = obj(p.events);
  const nodes = obj(p.nodes);
  const res = obj(p.results);
  const evLevel = typed(ev.level);
  /** @type {HNSWLevelRow[]} */
  const levels = [];
  // Events are in search order, level by level (top first): find each level's block.
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
      end: e,
    });
  }
  return {
    kind: 'hnsw_search',
    metric: String(p.metric || ''),
    params: obj(p.params),
    ids: typed(nodes.ids),
    xy: typed(nodes.xy),
    dist: typed(nodes.distances),
    scale: p.scale ? /** @type {RadialScalePayload} */ (p.scale) : null,
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
    control: decodeControl(p.control),
  };
}

/**
 * @typedef {object} FlatOverview
 * @property {'flat_overview'} kind
 * @property {'flat'} family
 * @property {TypedArray} ids a sample of the stored vectors
 * @property {TypedArray} xy (s*2) their PCA in [0, 1]²
 * @property {Record<string, any>} facts
 */

/**
 * @param {Record<string, any>} p
 * @returns {FlatOverview}
 */
export function decodeFlatOverview(p) {
  const points = obj(p.points);
  return { kind: 'flat_overview', family: 'flat', ids: typed(points.ids), xy: typed(points.xy), facts: obj(p.facts) };
}

/** @typedef {IVFOverview | HNSWOverview | FlatOverview} Overview */
/** @typedef {IVFSearch | HNSWSearch} Search */

const OVERVIEWS = { ivf_overview: decodeIVFOverview, hnsw_overview: decodeHNSWOverview, flat_overview: decodeFlatOverview };
// A flat search has the IVF search's shape (one list: every vector was compared).
const SEARCHES = {
  ivf_overview: ['ivf_search', decodeIVFSearch],
  hnsw_overview: ['hnsw_search', decodeHNSWSearch],
  flat_overview: ['flat_search', decodeIVFSearch],
};

/**
 * The overview payload decoded, or null when absent or unknown.
 * @param {unknown} payload
 * @returns {Overview | null}
 */
export function decodeOverview(payload) {
  const p = obj(payload);
  const decode = OVERVIEWS[/** @type {keyof typeof OVERVIEWS} */ (p.kind)];
  return decode ? decode(p) : null;
}

/**
 * The search payload decoded if it belongs with `overview`, else null.
 * @param {unknown} payload
 * @param {Overview | null} overview
 * @returns {Search | null}
 */
export function decodeSearch(payload, overview) {
  const p = obj(payload);
  if (!overview || !p.kind) return null;
  const [kind, decode] = SEARCHES[overview.kind];
  return p.kind === kind ? /** @type {(p: Record<string, any>) => Search} */ (decode)(p) : null;
}
