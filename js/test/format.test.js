import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmtDist, fmtId, fmtInt, fmtTick, nonNegativeMetric, plural } from '../src/format.js';

test('a self-match distance shows 0, not a rounding artefact', () => {
  assert.equal(fmtDist(-2.4e-7, true), '0');
  assert.equal(fmtDist(-2.4e-7, false), '-2.40e-7'); // inner products can be negative
  assert.equal(fmtDist(0), '0');
  assert.equal(fmtDist(1.16), '1.160');
  assert.equal(fmtDist(12.3456), '12.35');
  assert.equal(fmtDist(123456), '1.23e+5');
  assert.equal(fmtDist(null), '—');
});

test('metrics with non-negative distances', () => {
  assert.ok(nonNegativeMetric('l2') && nonNegativeMetric('cosine'));
  assert.ok(!nonNegativeMetric('ip'));
});

test('ticks, ids, counts', () => {
  assert.equal(fmtTick(4), '4');
  assert.equal(fmtTick(0.25), '0.25');
  assert.equal(fmtTick(16.5), '16.5');
  assert.equal(fmtId(1234567890123), '1234567890123');
  assert.equal(fmtInt(12345), '12,345');
  assert.equal(plural(1, 'node'), '1 node');
  assert.equal(plural(3, 'vec', 'vecs'), '3 vecs');
});
