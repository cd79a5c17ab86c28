// The results strip under a search view: the query, then every result with its distance.
// Cards wrap to the width available, so a narrow widget shows every result.

import { missedCards } from '../diagnosis.js';
import { h } from '../dom.js';
import { fmtDist, fmtId, nonNegativeMetric } from '../format.js';

/** @typedef {import('./scene.js').SceneHost} SceneHost */
/** @typedef {import('../payload.js').Search} Search */

/**
 * A figure with a thumbnail (when there is media) and caption lines.
 * @param {SceneHost} app
 * @param {number} id
 * @param {readonly string[]} caption
 * @param {number} size
 * @param {() => void} [onClick]
 * @returns {HTMLElement}
 */
export function idCard(app, id, caption, size, onClick) {
  const card = h('figure', 'feder-card');
  if (app.media.shows()) card.appendChild(app.media.thumb(id, { size }));
  else card.classList.add('feder-card-bare');
  const cap = h('figcaption');
  for (const line of caption) cap.appendChild(h('span', null, line));
  card.appendChild(cap);
  if (onClick) {
    card.tabIndex = 0;
    card.addEventListener('click', onClick);
    card.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') onClick();
    });
  }
  return card;
}

/**
 * @param {SceneHost} app
 * @param {Search} s
 * @returns {HTMLElement}
 */
export function resultsStrip(app, s) {
  const strip = h('div', 'feder-strip-inner');
  const target = s.target || {};
  if (target.media || target.id != null) {
    const card = h('figure', 'feder-card feder-card-query');
    if (target.media) card.appendChild(app.media.thumbItem(/** @type {import('../media.js').MediaItem} */ (target.media), { size: 64 }));
    else if (app.media.shows() && target.id != null) card.appendChild(app.media.thumb(target.id, { size: 64 }));
    else card.classList.add('feder-card-bare');
    const cap = h('figcaption');
    cap.appendChild(h('span', 'feder-strong', 'query'));
    if (target.id != null) cap.appendChild(h('span', null, app.idText(target.id)));
    card.appendChild(cap);
    strip.appendChild(card);
    strip.appendChild(h('div', 'feder-strip-sep'));
  }
  const nonNeg = nonNegativeMetric(s.metric);
  let shown = 0;
  for (let i = 0; i < s.resultIds.length; i++) {
    const id = s.resultIds[i];
    if (id < 0) continue;
    shown++;
    const card = idCard(app, id, [`#${i + 1} · ${app.idText(id)}`, `d ${fmtDist(s.resultDist[i], nonNeg)}`], 64, () =>
      app.select([id], -1),
    );
    card.dataset.rank = String(i);
    if (app.selKeys.has(fmtId(id))) card.classList.add('feder-selected');
    card.addEventListener('mouseenter', () => app.hoverId(id));
    card.addEventListener('mouseleave', () => app.setHover(null));
    strip.appendChild(card);
  }
  if (!shown) strip.appendChild(h('p', 'feder-muted', 'No results.'));
  const d = s.diag;
  if (d?.missIds.length) {
    strip.appendChild(h('div', 'feder-strip-sep'));
    missedCards(app, d, nonNeg, idCard).forEach((card, j) => {
      card.addEventListener('mouseenter', () => app.hoverId(d.missIds[j]));
      card.addEventListener('mouseleave', () => app.setHover(null));
      strip.appendChild(card);
    });
  }
  return strip;
}
