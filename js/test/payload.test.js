// Decoders against payloads Python wrote through feder.serialize (tests/test_js.py writes
// the fixture and runs this suite with FEDER_JS_FIXTURES pointing at it). The buffers are
// packed exactly as the HTML report packs them: one blob, 8-byte aligned slots, DataViews.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeDiagnostics } from '../src/diagnostics_payload.js';
import { decodeOverview, decodeSearch, typed } from '../src/payload.js';
import { RadialScale } from '../src/scales.js';
import { tabsFor } from '../src/views.js';

const path = process.env.FEDER_JS_FIXTURES;
// The fixtures are written by `pytest tests/test_js.py`, which runs this suite with them (and
// fails if anything here is skipped); a bare `node --test` run says how to get them.
const needsFixtures = path ? false : 'needs FEDER_JS_FIXTURES: run `pytest tests/test_js.py`';

/** @returns {any} */
function load() {
  assert.ok(path, 'FEDER_JS_FIXTURES is not set: run `pytest tests/test_js.py`, which writes the fixtures');
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  const blob = Buffer.from(doc.blob, 'base64');
  const bytes = new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
  const views = doc.slots.map(([/** @type {number} */ off, /** @type {number} */ len]) => new DataView(bytes.buffer, bytes.byteOffset + off, len));
  for (const c of doc.cases) {
    for (const { path: p, slot } of c.buffers) {
      let o = c.state;
      for (let i = 0; i < p.length - 1; i++) o = o[p[i]];
      o[p[p.length - 1]] = views[slot];
    }
  }
  return doc;
}

/**
 * @param {ArrayLike<number>} actual
 * @param {number[]} expected
 * @param {string} what
 */
function same(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    assert.ok(a === e || Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} != ${e}`);
  }
}

test('every payload Python writes decodes to the arrays Python meant', { skip: needsFixtures }, () => {
  const doc = load();
  assert.ok(doc.cases.length >= 3);
  for (const c of doc.cases) {
    const ov = decodeOverview(c.state.overview);
    assert.ok(ov, `${c.name}: overview`);
    const search = decodeSearch(c.state.search, ov);
    const e = c.expect;
    assert.equal(ov.family, e.family, c.name);
    if (ov.kind === 'ivf_overview') {
      same(ov.sizes, e.sizes, `${c.name} sizes`);
      same(ov.memOff, e.member_offsets, `${c.name} member offsets`);
      same(ov.memIds, e.member_ids, `${c.name} member ids`);
      assert.equal(ov.cellOff.length, e.sizes.length + 1);
    } else {
      same(ov.ids, e.node_ids, `${c.name} node ids`);
      assert.equal(ov.levels.length, e.levels);
    }
    if (!search) {
      assert.equal(e.results, undefined, `${c.name}: a search was expected`);
      continue;
    }
    same(search.resultIds, e.results, `${c.name} results`);
    same(search.resultDist, e.distances, `${c.name} distances`);
    if (search.kind === 'ivf_search') {
      same(search.probed, e.probed, `${c.name} probed`);
      same(search.ids, e.candidate_ids, `${c.name} candidates`);
      assert.deepEqual(search.top.map((i) => search.ids[i]), e.results.filter((/** @type {number} */ x) => x >= 0));
      assert.ok(search.scale);
      const scale = new RadialScale(search.scale);
      // every candidate sits at the radius its distance has on the scale Python chose
      for (let i = 0; i < search.ids.length; i++) {
        const r = Math.hypot(search.polar[2 * i], search.polar[2 * i + 1]);
        assert.ok(Math.abs(scale.radiusOf(search.dist[i]) - r) < 1e-5, `${c.name} radius of candidate ${i}`);
      }
    } else {
      assert.equal(search.levels.length, e.levels_searched);
      assert.equal(search.levels.at(-1)?.end, search.evLevel.length);
      same(Array.from(search.resultNodes, (i) => search.ids[i]), e.results, `${c.name} result nodes`);
    }
    const tabs = tabsFor(ov, search, c.state.view_params.views, decodeDiagnostics(c.state.diagnostics));
    assert.deepEqual(tabs.map((t) => t.id), e.views);
    assert.ok(tabs.every((t) => t.unavailable === null || t.id === 'projection'));
  }
});

test('typed arrays are views when aligned and copies when not', () => {
  const buf = new ArrayBuffer(20);
  new Float32Array(buf, 4, 2).set([1.5, -2]);
  const aligned = typed({ dtype: 'float32', shape: [2], data: new DataView(buf, 4, 8) });
  assert.equal(aligned.buffer, buf);
  assert.deepEqual([...aligned], [1.5, -2]);
  const bytes = new Uint8Array(buf);
  bytes.copyWithin(5, 4, 12);
  const odd = typed({ dtype: 'float32', shape: [2], data: new DataView(buf, 5, 8) });
  assert.notEqual(odd.buffer, buf);
  assert.deepEqual([...odd], [1.5, -2]);
  assert.throws(() => typed({ dtype: /** @type {any} */ ('int64'), shape: [1], data: new DataView(buf) }), /unsupported dtype/);
});

test('lossy codes: the code and true distances Python computed reach the Codes view', { skip: needsFixtures }, () => {
  const doc = load();
  const lossy = doc.cases.filter((/** @type {any} */ c) => c.expect.codes);
  assert.equal(lossy.length, 2);
  for (const c of lossy) {
    const e = c.expect.codes;
    const search = decodeSearch(c.state.search, decodeOverview(c.state.overview));
    assert.ok(search?.codes && search.diag, c.name);
    const codes = search.codes;
    same(codes.ids, e.ids, `${c.name} ids`);
    same(codes.lists, e.lists, `${c.name} lists`);
    same(codes.codeDist, e.code_distances, `${c.name} code distances`);
    same(codes.trueDist, e.true_distances, `${c.name} true distances`);
    same(codes.rank, e.rank, `${c.name} rank`);
    same(codes.trueRank, e.true_rank, `${c.name} true rank`);
    assert.equal(codes.truthSpace, e.truth_space);
    assert.equal(codes.largerIsCloser, e.larger_is_closer);
    assert.equal(codes.scanned, e.scanned);
    assert.equal(codes.kthCode, e.kth_code);
    assert.equal(codes.kthTrue, e.kth_true);
    const d = search.diag;
    assert.equal(d.truthSpace, e.truth_space);
    same(d.resultTrueDist, e.result_true_distances, `${c.name} results' true distances`);
    assert.equal(d.missCodeDist.length, e.missed_code_distances.length);
    e.missed_code_distances.forEach((/** @type {number | null} */ v, /** @type {number} */ j) => {
      if (v == null) assert.ok(Number.isNaN(d.missCodeDist[j]), `${c.name} miss ${j} was never computed`);
      else same([d.missCodeDist[j]], [v], `${c.name} miss ${j} code distance`);
    });
    // every quantization miss is on the chart: an exact neighbour, not returned
    let ranked = 0;
    for (let i = 0; i < codes.ids.length; i++) if (codes.trueRank[i] > 0 && codes.rank[i] < 0) ranked++;
    assert.ok(ranked >= e.quantization_misses, c.name);
    if (e.truth_space === 'exact') assert.ok(e.quantization_misses > 0, c.name);
  }
});
