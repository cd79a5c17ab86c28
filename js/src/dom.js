// DOM pieces. Ids, URLs, file names and texts reach the DOM only through textContent or DOM
// properties, never innerHTML.

import { inkOn } from './theme.js';

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string | null} [cls]
 * @param {unknown} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = String(text);
  return e;
}

/**
 * A definition list of label → value rows (rows without a value are left out).
 * @param {ReadonlyArray<readonly [string, string | null | undefined]>} rows
 * @returns {HTMLElement}
 */
export function factsTable(rows) {
  const table = h('dl', 'feder-facts');
  for (const [label, value] of rows) {
    if (value == null || value === '') continue;
    table.appendChild(h('dt', null, label));
    table.appendChild(h('dd', null, value));
  }
  return table;
}

/**
 * @param {string} [title]
 * @returns {HTMLElement}
 */
export function section(title) {
  const s = h('section', 'feder-section');
  if (title) s.appendChild(h('h3', null, title));
  return s;
}

/**
 * @param {string} color
 * @returns {HTMLElement}
 */
export function swatch(color) {
  const s = h('span', 'feder-swatch');
  s.style.background = color;
  return s;
}

/**
 * A small round badge with a number, coloured like its marker on the canvas.
 * @param {string} text
 * @param {string} color
 * @returns {HTMLElement}
 */
export function badgeEl(text, color) {
  const b = h('span', 'feder-badge', text);
  b.style.background = color;
  b.style.color = inkOn(color);
  return b;
}

/**
 * @typedef {object} CardLine
 * @property {string} text
 * @property {string} [color] a swatch before the text
 * @property {boolean} [muted]
 */

/**
 * @typedef {object} CardSpec
 * @property {string} title
 * @property {HTMLElement | null} [thumb]
 * @property {HTMLElement | null} [badge]
 * @property {string | null} [subtitle] e.g. the image's file name
 * @property {ReadonlyArray<CardLine | null>} [lines]
 * @property {ReadonlyArray<HTMLElement>} [extra] e.g. a row of member thumbnails
 * @property {string | null} [note] a muted last line
 */

/**
 * The one tooltip / detail card: thumbnail beside a title, lines and a note.
 * @param {CardSpec} spec
 * @returns {HTMLElement}
 */
export function card(spec) {
  const box = h('div', spec.thumb ? 'feder-tt-point' : 'feder-tt-plain');
  if (spec.thumb) box.appendChild(spec.thumb);
  const info = h('div', 'feder-tt-info');
  const head = h('div', 'feder-tt-head');
  head.appendChild(h('strong', null, spec.title));
  if (spec.badge) head.appendChild(spec.badge);
  info.appendChild(head);
  if (spec.subtitle) {
    const line = h('div', 'feder-muted feder-small feder-name', spec.subtitle);
    line.title = spec.subtitle;
    info.appendChild(line);
  }
  for (const line of spec.lines || []) {
    if (!line) continue;
    const row = h('div', line.muted ? 'feder-tt-line feder-muted' : 'feder-tt-line');
    if (line.color) row.appendChild(swatch(line.color));
    row.appendChild(h('span', null, line.text));
    info.appendChild(row);
  }
  for (const el of spec.extra || []) info.appendChild(el);
  if (spec.note) info.appendChild(h('div', 'feder-muted feder-small', spec.note));
  box.appendChild(info);
  return box;
}

/**
 * A list row that highlights its item on hover and acts on click.
 * @param {ReadonlyArray<HTMLElement>} cells
 * @param {{enter?: () => void, leave?: () => void, click?: () => void}} on
 * @returns {HTMLElement}
 */
export function hoverRow(cells, on) {
  const row = h('div', 'feder-row');
  for (const c of cells) row.appendChild(c);
  if (on.enter) row.addEventListener('mouseenter', on.enter);
  if (on.leave) row.addEventListener('mouseleave', on.leave);
  if (on.click) {
    row.classList.add('feder-clickable');
    row.addEventListener('click', on.click);
  }
  return row;
}
