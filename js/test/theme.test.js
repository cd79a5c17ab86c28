import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PALETTES, parseColor, probeColor, simulateCvd } from '../src/theme.js';

/** @param {number[]} a @param {number[]} b */
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

test('a probe rank keeps its colour whatever nprobe is', () => {
  for (const pal of Object.values(PALETTES)) {
    assert.equal(probeColor.length, 2); // the colour cannot depend on nprobe: it is not an argument
    const first = probeColor(pal, 0);
    for (let r = 0; r < 64; r++) assert.equal(typeof probeColor(pal, r), 'string');
    assert.equal(probeColor(pal, 0), first);
    assert.equal(probeColor(pal, 6), pal.laterProbe);
    assert.equal(probeColor(pal, 40), pal.laterProbe);
  }
});

test('probe colours and the query stay apart for colour-blind viewers', () => {
  for (const [name, pal] of Object.entries(PALETTES)) {
    const colours = [...pal.probes, pal.laterProbe, pal.query];
    for (const kind of /** @type {const} */ (['protan', 'deutan', 'tritan'])) {
      for (let i = 0; i < colours.length; i++) {
        for (let j = i + 1; j < colours.length; j++) {
          const d = dist(simulateCvd(colours[i], kind), simulateCvd(colours[j], kind));
          assert.ok(d > 18, `${name} ${kind}: ${colours[i]} vs ${colours[j]} only ${d.toFixed(1)} apart`);
        }
      }
      // the query is never confused with a probe
      for (const c of [...pal.probes, pal.laterProbe]) {
        const d = dist(simulateCvd(c, kind), simulateCvd(pal.query, kind));
        assert.ok(d > 25, `${name} ${kind}: query vs ${c} only ${d.toFixed(1)} apart`);
      }
    }
  }
});

test('colour parsing without a DOM', () => {
  assert.deepEqual(parseColor('#0072b2'), [0, 114, 178, 1]);
  assert.deepEqual(parseColor('#fff'), [255, 255, 255, 1]);
  assert.deepEqual(parseColor('rgba(1, 2, 3, 0.5)'), [1, 2, 3, 0.5]);
});
