import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reasonShort, reasonText, recallChipText } from '../src/diagnosis.js';

/**
 * A decoded diagnosis with one missed neighbour per reason (payload.js `decodeDiagnosis`).
 * @param {number[]} list
 * @param {number[]} rank
 */
function diagnosis(list, rank) {
  const reasons = ['list_not_probed', 'unreachable', 'not_reached', 'tie', 'quantization'];
  const n = list.length;
  return /** @type {import('../src/payload.js').Diagnosis} */ ({
    recall: 0.5,
    k: 10,
    found: 5,
    reasons,
    truthIds: new Float64Array(10),
    truthDist: new Float32Array(10),
    missIds: new Float64Array(n),
    missRank: new Int32Array(n),
    missDist: new Float32Array(n),
    missReason: Uint8Array.from([0, 4, 0, 4].slice(0, n)),
    missList: Int32Array.from(list),
    missListRank: Int32Array.from(rank),
    missHops: new Int32Array(n).fill(-1),
    missXY: new Float32Array(2 * n),
  });
}

test('quantization misses name the scanned list and the code distance', () => {
  const d = diagnosis([3, 7, 2, -1], [5, 1, -1, -1]);
  assert.match(reasonText(d, 0), /list 3 was not probed \(nprobe ≥ 5 scans it\)/);
  assert.match(reasonText(d, 1), /^quantization: its list 7 was scanned, but its code's distance ranked it out of the top 10$/);
  assert.equal(reasonShort(d, 1), 'code ranked out');
  assert.match(reasonText(d, 3), /^quantization: its code's distance was computed/);
});

test('an HNSW coarse quantizer gives no nprobe to reach a list', () => {
  const d = diagnosis([3, 7, 2, -1], [5, 1, -1, -1]);
  assert.match(reasonText(d, 2), /list 2 was not probed \(the HNSW coarse search did not return it\)/);
  assert.equal(reasonShort(d, 2), 'list not probed');
  assert.equal(reasonShort(d, 0), 'nprobe ≥ 5');
});

test('the recall chip says "checking recall…" until the diagnosis arrives, then the recall', () => {
  assert.equal(recallChipText(null), null); // diagnosis off: no chip
  const pending = recallChipText(null, { pending: true });
  assert.equal(pending?.text, 'checking recall…');
  assert.equal(pending?.cls, 'feder-recall-pending');
  const d = diagnosis([3], [5]);
  const ready = recallChipText(d, { pending: true }); // a diagnosis present wins
  assert.equal(ready?.text, 'recall@10 0.50');
  assert.equal(ready?.cls, 'feder-recall-low');
  assert.match(ready?.title ?? '', /^5 of the 10 exact nearest neighbours were returned$/);
  const failed = recallChipText(null, { pending: false, error: 'IndexChangedError: reload it' });
  assert.equal(failed?.text, 'recall unavailable');
  assert.match(failed?.title ?? '', /IndexChangedError: reload it/);
});
