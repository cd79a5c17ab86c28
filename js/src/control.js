// The search parameter control in the header (nprobe for IVF, ef for HNSW) and the recall
// badge. In a notebook a change asks the kernel to re-run the search (only the new trace
// comes back); in a report, which has no kernel, it steps through searches precomputed at
// export (the `steps` state).

import { recallChip } from './diagnosis.js';
import { h } from './dom.js';

/** @typedef {import('./payload.js').Search} Search */
/** @typedef {import('./payload.js').SearchControl} SearchControl */

/**
 * @typedef {object} Steps
 * @property {string} name
 * @property {number[]} values
 * @property {Record<string, any>[]} searches search payloads, one per value
 */

/**
 * @typedef {object} ControlHost
 * @property {() => Steps | null} steps precomputed searches, when there is no kernel
 * @property {(payload: Record<string, any>) => void} showSearch put a precomputed search in place
 * @property {(content: unknown) => void} send ask the kernel
 */

/**
 * The header's search bar: "nprobe ─●── 8 · recall@5 0.80", or nothing without a search.
 * `state`: the diagnosis still being computed in the kernel ("checking recall…") or why
 * it failed (then also said in the bar's error line).
 * @param {Search | null} search
 * @param {ControlHost} host
 * @param {import('./diagnosis.js').DiagnosisState} [state]
 * @returns {{el: HTMLElement, error: (message: string) => void} | null}
 */
export function searchBar(search, host, state = {}) {
  if (!search) return null;
  const el = h('div', 'feder-searchbar');
  const control = search.control;
  const error = h('span', 'feder-search-error');
  error.hidden = true;
  if (control && control.values.length > 1) {
    const steps = host.steps();
    const usable = steps && steps.name === control.name ? steps : null;
    const values = usable ? usable.values : control.values;
    const label = h('label', 'feder-param');
    label.appendChild(h('span', null, control.label));
    const slider = h('input', 'feder-param-slider');
    slider.type = 'range';
    slider.min = '0';
    slider.max = String(values.length - 1);
    slider.step = '1';
    slider.value = String(Math.max(0, nearestIndex(values, control.value)));
    slider.setAttribute('aria-label', `${control.label} of the search`);
    const value = h('span', 'feder-param-value', String(control.value));
    slider.addEventListener('input', () => {
      value.textContent = String(values[Number(slider.value)]);
    });
    slider.addEventListener('change', () => {
      const v = values[Number(slider.value)];
      if (v === control.value) return;
      error.hidden = true;
      if (usable) {
        host.showSearch(usable.searches[Number(slider.value)]);
        return;
      }
      el.classList.add('feder-pending');
      value.textContent = `${v}…`;
      host.send({ type: 'search', params: { [control.name]: v } });
    });
    label.append(slider, value);
    el.appendChild(label);
  }
  const chip = recallChip(search.diag, state);
  if (chip) el.appendChild(chip);
  if (!search.diag && state.error) {
    error.textContent = `diagnosis failed: ${state.error}`;
    error.hidden = false;
  }
  el.appendChild(error);
  return {
    el,
    error(message) {
      el.classList.remove('feder-pending');
      error.textContent = message;
      error.hidden = false;
    },
  };
}

/**
 * Index of the value closest to `v`.
 * @param {readonly number[]} values
 * @param {number} v
 */
export function nearestIndex(values, v) {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || Math.abs(values[i] - v) < Math.abs(values[best] - v)) best = i;
  return best;
}
