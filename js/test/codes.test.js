// The Codes view's pure parts: which candidates are results / ranked-out neighbours, the
// shared closer-to-farther axes (reversed for inner products), the decoder, and how the
// diagnosis panel words a miss whose code distance was computed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distanceText, TRUTH_DECODED } from '../src/diagnosis.js';
import { decodeCodes, decodeDiagnosis } from '../src/payload.js';
import { CLASS, classify, distanceAxis, distanceRange } from '../src/scenes/codes.js';

/**
 * @param {string} dtype
 * @param {number[]} values
 */
function arr(dtype, values) {
  const C = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array }[dtype];
  assert.ok(C);
  const a = new C(values);
  return { dtype, shape: [values.length], data: new DataView(a.buffer) };
}

/** @param {boolean} ip */
function rawCodes(ip) {
  return {
    truth_space: ip ? 'decoded' : 'exact',
    larger_is_closer: ip,
    scanned: 500,
    ids: arr('float64', [7, 3, 9, 4]),
    lists: arr('int32', [1, 1, 2, -1]),
    code_distances: arr('float32', [1, 2, 3, 4]),
    true_distances: arr('float32', [1.5, 1, 5, 2.5]),
    rank: arr('int32', [0, 1, -1, -1]),
    true_rank: arr('int32', [2, 1, 0, 3]),
    kth_code: 2,
    kth_true: ip ? null : 2.5,
  };
}

test('codes decode, and each candidate is a result, a ranked-out neighbour or another', () => {
  const c = decodeCodes(rawCodes(false));
  assert.ok(c);
  assert.equal(c.truthSpace, 'exact');
  assert.equal(c.scanned, 500);
  assert.deepEqual([...c.ids], [7, 3, 9, 4]);
  assert.deepEqual([...c.trueDist], [1.5, 1, 5, 2.5]);
  assert.equal(c.kthCode, 2);
  assert.equal(c.kthTrue, 2.5);
  assert.deepEqual([...classify(c)], [CLASS.RESULT, CLASS.RESULT, CLASS.OTHER, CLASS.MISSED]);
  const d = decodeCodes(rawCodes(true));
  assert.ok(d);
  assert.equal(d.truthSpace, 'decoded');
  assert.equal(d.largerIsCloser, true);
  assert.equal(d.kthTrue, null);
  assert.equal(decodeCodes(null), null);
  assert.equal(decodeCodes('codes'), null);
});

test('both axes run from closer to farther: reversed for inner products', () => {
  const l2 = decodeCodes(rawCodes(false));
  assert.ok(l2);
  const [near, far] = distanceRange(l2);
  assert.ok(near < 1 && far > 5, `${near} ${far}`);
  const x = distanceAxis(near, far, 0, 100);
  assert.ok(x.at(1) < x.at(5));
  assert.ok(x.ticks.length >= 3 && x.ticks.every((t) => t >= near && t <= far));
  const ip = decodeCodes(rawCodes(true));
  assert.ok(ip);
  const [inear, ifar] = distanceRange(ip);
  assert.ok(inear > ifar, 'larger inner products are closer: the axis starts there');
  const xi = distanceAxis(inear, ifar, 0, 100);
  assert.ok(xi.at(5) < xi.at(1), 'a larger inner product sits left');
  // y runs upward: closer at the bottom (larger screen y)
  const yi = distanceAxis(inear, ifar, 300, 0);
  assert.ok(yi.at(5) > yi.at(1));
  // a point above the cut-off (farther code) and left of the k-th exact distance (closer truth)
  const y = distanceAxis(near, far, 300, 0);
  assert.ok(y.at(4) < y.at(l2.kthCode ?? 0) && x.at(2.5) <= x.at(l2.kthTrue ?? 0));
});

test('a miss the search computed shows its true and code distance; decoded truth says so', () => {
  const d = decodeDiagnosis({
    recall: 0.8,
    k: 5,
    found: 4,
    reasons: ['list_not_probed', 'unreachable', 'not_reached', 'tie', 'quantization'],
    truth_space: 'decoded',
    truth: { ids: arr('float64', [1, 2, 3, 4, 5]), distances: arr('float32', [1, 2, 3, 4, 5]), code_distances: arr('float32', [1, 2, 3, Number.NaN, 5]) },
    results: { true_distances: arr('float32', [1, 2, 3, 5, 6]) },
    missed: {
      ids: arr('float64', [4, 8]),
      true_rank: arr('int32', [4, 5]),
      distances: arr('float32', [4, 4.5]),
      code_distances: arr('float32', [Number.NaN, 6.25]),
      reason: arr('uint8', [0, 4]),
      list: arr('int32', [3, 1]),
      list_rank: arr('int32', [4, -1]),
      hops: arr('int32', [-1, -1]),
      xy: arr('float32', [0, 0, 0, 0]),
    },
  });
  assert.ok(d);
  assert.equal(d.truthSpace, 'decoded');
  assert.ok(Number.isNaN(d.truthCodeDist[3]));
  assert.deepEqual([...d.resultTrueDist], [1, 2, 3, 5, 6]);
  assert.equal(distanceText(d, 0, true), 'd 4.000');
  assert.equal(distanceText(d, 1, true), 'true 4.500 · code 6.250');
  assert.match(TRUTH_DECODED, /vectors=/);
  const exact = decodeDiagnosis({ truth_space: 'exact' });
  assert.equal(exact?.truthSpace, 'exact');
});
