// Number and id formatting shared by the panel, tooltips and canvas labels.

// One formatter: toLocaleString builds a new one per call (≈ 1 µs each, thousands per paint).
const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/**
 * An integer with thousands separators, or an em dash when absent.
 * @param {number | string | null | undefined} n
 * @returns {string}
 */
export function fmtInt(n) {
  if (n == null || n === '') return '—';
  const x = Number(n);
  return Number.isFinite(x) ? INTEGER.format(x) : String(n);
}

/**
 * A user id (faiss id / hnswlib label, sent as float64) as its decimal string.
 * @param {number} x
 * @returns {string}
 */
export function fmtId(x) {
  return String(Math.round(Number(x)));
}

/**
 * A distance with a precision that suits its size. With `nonNegative` (squared L2, cosine
 * distance) a negative value is float rounding of a zero and shows as 0: a self-match reads
 * "0", not "-2.4e-7".
 * @param {number | null | undefined} x
 * @param {boolean} [nonNegative]
 * @returns {string}
 */
export function fmtDist(x, nonNegative = false) {
  if (x == null) return '—';
  if (!Number.isFinite(x)) return String(x);
  const v = nonNegative && x < 0 ? 0 : x;
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  return v.toFixed(3);
}

/**
 * A round axis value (a ring of the distance scale): no trailing zeros.
 * @param {number} x
 * @param {boolean} [nonNegative]
 * @returns {string}
 */
export function fmtTick(x, nonNegative = false) {
  const text = fmtDist(x, nonNegative);
  return text.includes('e') || !text.includes('.') ? text : text.replace(/\.?0+$/, '');
}

/**
 * Whether distances of this metric are never negative (so negatives are rounding).
 * faiss `ip` is an inner product and hnswlib `ip` is 1 − dot: both can be negative.
 * @param {string | undefined} metric
 * @returns {boolean}
 */
export function nonNegativeMetric(metric) {
  return metric === 'l2' || metric === 'cosine';
}

/**
 * "1 vector", "3 vectors".
 * @param {number} n
 * @param {string} one
 * @param {string} [many]
 * @returns {string}
 */
export function plural(n, one, many) {
  return `${fmtInt(n)} ${n === 1 ? one : many || `${one}s`}`;
}

/**
 * @param {number} x
 * @param {number} lo
 * @param {number} hi
 * @returns {number}
 */
export function clamp(x, lo, hi) {
  return x < lo ? lo : Math.min(x, hi);
}
