// Was the search right: the recall badge, the missed exact neighbours (drawn in place, in
// the panel and in the results strip) and why each was missed. Definitions: DESIGN.md,
// "Diagnostics"; data: feder/serialize.py `diagnosis`.

import { card, h, section } from './dom.js';
import { circlePath } from './draw.js';
import { fmtDist, plural } from './format.js';

/** @typedef {import('./payload.js').Diagnosis} Diagnosis */
/** @typedef {import('./theme.js').Palette} Palette */
/** @typedef {import('./scenes/scene.js').SceneHost} SceneHost */

export const MISS_RADIUS = 6;
const LIST_ROWS = 20;

export const TRUTH_DECODED =
  'Truth: decoded codes. This index stores lossy codes, so the exact top-k is over their reconstructions and quantization misses cannot show: pass vectors= (the original vectors) to FederPy.';

/**
 * A miss's distance: "d 1.23", or for one the search computed (a lossy code ranked out)
 * "true 1.23 · code 1.50".
 * @param {Diagnosis} d
 * @param {number} j
 * @param {boolean} nonNeg
 * @returns {string}
 */
export function distanceText(d, j, nonNeg) {
  const code = d.missCodeDist && j < d.missCodeDist.length ? d.missCodeDist[j] : Number.NaN;
  if (!Number.isFinite(code)) return `d ${fmtDist(d.missDist[j], nonNeg)}`;
  return `true ${fmtDist(d.missDist[j], nonNeg)} · code ${fmtDist(code, nonNeg)}`;
}

/**
 * Why exact neighbour `j` was missed, in words.
 * @param {Diagnosis} d
 * @param {number} j
 * @returns {string}
 */
export function reasonText(d, j) {
  const reason = d.reasons[d.missReason[j]] || 'unknown';
  switch (reason) {
    case 'list_not_probed':
      return d.missListRank[j] > 0
        ? `its list ${d.missList[j]} was not probed (nprobe ≥ ${d.missListRank[j]} scans it)`
        : `its list ${d.missList[j]} was not probed (the HNSW coarse search did not return it)`;
    case 'quantization':
      return d.missList[j] >= 0
        ? `quantization: its list ${d.missList[j]} was scanned, but its code's distance ranked it out of the top ${d.k}`
        : `quantization: its code's distance was computed, but ranked it out of the top ${d.k}`;
    case 'unreachable':
      return 'unreachable: no link path from the entry point leads to it';
    case 'not_reached':
      return d.missHops[j] > 0
        ? `not reached: ${plural(d.missHops[j], 'link')} beyond the nodes the beam computed (raise ef)`
        : 'not reached: the beam stopped before computing it (raise ef)';
    case 'tie':
      return 'tied with the k-th result; the library kept another vector at that distance';
    default:
      return reason;
  }
}

/**
 * A short reason for labels ("nprobe ≥ 14", "unreachable", "3 hops away", "code ranked out").
 * @param {Diagnosis} d
 * @param {number} j
 */
export function reasonShort(d, j) {
  const reason = d.reasons[d.missReason[j]];
  if (reason === 'list_not_probed') return d.missListRank[j] > 0 ? `nprobe ≥ ${d.missListRank[j]}` : 'list not probed';
  if (reason === 'quantization') return 'code ranked out';
  if (reason === 'not_reached') return d.missHops[j] > 0 ? `${d.missHops[j]} hops away` : 'not reached';
  return reason || '';
}

/**
 * @typedef {object} DiagnosisState
 * @property {boolean} [pending] the kernel is still computing the exact top-k (a big index)
 * @property {string} [error] why the diagnosis failed
 */

/**
 * What the header's recall chip says: the recall, "checking recall…" while the kernel
 * computes it in the background, why it failed, or nothing (diagnosis off).
 * @param {Diagnosis | null} d
 * @param {DiagnosisState} [state]
 * @returns {{text: string, cls: string, title: string} | null}
 */
export function recallChipText(d, state = {}) {
  if (d) {
    return {
      text: `recall@${d.k} ${d.recall.toFixed(2)}`,
      cls: d.recall >= 1 ? 'feder-recall-ok' : 'feder-recall-low',
      title: `${d.found} of the ${d.k} exact nearest neighbours were returned`,
    };
  }
  if (state.error) return { text: 'recall unavailable', cls: 'feder-recall-failed', title: `The diagnosis failed: ${state.error}` };
  if (state.pending) {
    return {
      text: 'checking recall…',
      cls: 'feder-recall-pending',
      title: 'The kernel is computing the exact nearest neighbours of this search (a big index: the search is shown first); recall and missed neighbours appear when it is done.',
    };
  }
  return null;
}

/**
 * "recall@5 0.80" (or "checking recall…", see {@link recallChipText}) for the header.
 * @param {Diagnosis | null} d
 * @param {DiagnosisState} [state]
 * @returns {HTMLElement | null}
 */
export function recallChip(d, state = {}) {
  const said = recallChipText(d, state);
  if (!said) return null;
  const chip = h('span', `feder-recall ${said.cls}`);
  chip.textContent = said.text;
  chip.title = said.title;
  return chip;
}

/**
 * The panel section: recall, then every missed neighbour and why.
 * @param {SceneHost} app
 * @param {Diagnosis} d
 * @param {boolean} nonNeg
 * @returns {HTMLElement}
 */
export function recallSection(app, d, nonNeg) {
  const sec = section(`Recall@${d.k}: ${d.recall.toFixed(2)}`);
  const missed = d.missIds.length;
  sec.appendChild(
    h('p', 'feder-small', missed ? `${d.found} of the ${d.k} exact nearest neighbours were returned; ${plural(missed, 'was', 'were')} missed:` : `All ${d.k} exact nearest neighbours were returned.`),
  );
  if (d.truthSpace === 'decoded') sec.appendChild(h('p', 'feder-small feder-missed-text feder-truth-decoded', TRUTH_DECODED));
  const rows = h('div', 'feder-rows');
  for (let j = 0; j < missed && j < LIST_ROWS; j++) {
    const row = h('div', 'feder-row feder-miss-row');
    row.appendChild(h('span', 'feder-miss-mark', '×'));
    const main = h('span', 'feder-row-main');
    main.appendChild(h('strong', null, app.idText(d.missIds[j])));
    main.appendChild(h('span', 'feder-muted', ` exact #${d.missRank[j]} · ${distanceText(d, j, nonNeg)}`));
    main.appendChild(h('div', 'feder-small', reasonText(d, j)));
    row.appendChild(main);
    const id = d.missIds[j];
    row.addEventListener('mouseenter', () => app.hoverId(id));
    row.addEventListener('mouseleave', () => app.setHover(null));
    rows.appendChild(row);
  }
  sec.appendChild(rows);
  return sec;
}

/**
 * Cards of the missed neighbours for the results strip, after the results.
 * @param {SceneHost} app
 * @param {Diagnosis} d
 * @param {boolean} nonNeg
 * @param {(app: SceneHost, id: number, caption: string[], size: number) => HTMLElement} idCard
 * @returns {HTMLElement[]}
 */
export function missedCards(app, d, nonNeg, idCard) {
  const out = [];
  for (let j = 0; j < d.missIds.length; j++) {
    const c = idCard(app, d.missIds[j], [`missed · exact #${d.missRank[j]}`, `${distanceText(d, j, nonNeg)} · ${reasonShort(d, j)}`], 64);
    c.classList.add('feder-card-missed');
    c.dataset.missed = String(j);
    c.title = reasonText(d, j);
    out.push(c);
  }
  return out;
}

/**
 * Missed neighbours on a canvas: a ring with a cross, in the "missed" colour.
 * @param {CanvasRenderingContext2D} g
 * @param {Palette} pal
 * @param {ArrayLike<number>} xs
 * @param {ArrayLike<number>} ys
 */
export function drawMisses(g, pal, xs, ys) {
  g.save();
  g.beginPath();
  for (let j = 0; j < xs.length; j++) circlePath(g, xs[j], ys[j], MISS_RADIUS);
  g.fillStyle = pal.bg;
  g.fill();
  g.lineWidth = 2;
  g.strokeStyle = pal.missed;
  g.stroke();
  g.beginPath();
  const a = MISS_RADIUS * 0.55;
  for (let j = 0; j < xs.length; j++) {
    g.moveTo(xs[j] - a, ys[j] - a);
    g.lineTo(xs[j] + a, ys[j] + a);
    g.moveTo(xs[j] + a, ys[j] - a);
    g.lineTo(xs[j] - a, ys[j] + a);
  }
  g.lineWidth = 1.5;
  g.stroke();
  g.restore();
}

/**
 * The tooltip of missed neighbour `j`.
 * @param {SceneHost} app
 * @param {Diagnosis} d
 * @param {number} j
 * @param {boolean} nonNeg
 * @returns {HTMLElement}
 */
export function missTooltip(app, d, j, nonNeg) {
  const id = d.missIds[j];
  return card({
    title: `${app.idText(id)} · missed`,
    thumb: app.media.shows() ? app.media.thumb(id, { size: 96, full: true }) : null,
    subtitle: app.media.name(id),
    lines: [{ text: `exact #${d.missRank[j]} · ${distanceText(d, j, nonNeg)}`, color: app.pal.missed }],
    note: reasonText(d, j),
  });
}
