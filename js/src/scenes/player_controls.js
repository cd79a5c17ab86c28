// Play / back / step / slider for a Player: every control seeks the player, and `sync`
// puts the player's frame back into the controls, so they never disagree.

import { h } from '../dom.js';

/** @typedef {import('../timeline.js').Player} Player */

/**
 * @typedef {object} PlayerControls
 * @property {HTMLElement} bar
 * @property {(label: string) => void} sync show the player's state
 */

/**
 * @param {Player} player
 * @param {(ev: KeyboardEvent) => boolean} keydown the scene's own keys (Home, End, space)
 * @returns {PlayerControls}
 */
export function playerControls(player, keydown) {
  const bar = h('div', 'feder-controls-inner');
  const play = h('button', 'feder-btn feder-play');
  play.type = 'button';
  play.addEventListener('click', () => player.toggle());
  const back = h('button', 'feder-btn feder-back', '‹');
  back.type = 'button';
  back.title = 'one event back (←)';
  back.addEventListener('click', () => player.step(-1));
  const step = h('button', 'feder-btn feder-step', 'Step ›');
  step.type = 'button';
  step.title = 'one event forward (→)';
  step.addEventListener('click', () => player.step(1));
  const slider = h('input', 'feder-slider');
  slider.type = 'range';
  slider.min = '0';
  slider.max = String(player.frames - 1);
  slider.step = '1';
  slider.setAttribute('aria-label', 'search replay position');
  slider.addEventListener('input', () => {
    player.pause();
    player.seek(Number(slider.value));
  });
  // Keys step the player directly: a notebook may take arrow keys for its own shortcuts
  // before the slider sees them, and stepping here keeps one behaviour everywhere.
  slider.addEventListener('keydown', (ev) => {
    const page = Math.max(1, Math.round(player.frames / 10));
    const delta = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: page, PageDown: -page }[ev.key];
    if (delta != null) {
      player.pause();
      player.seek(player.frame + delta);
    } else if (!keydown(ev)) {
      return;
    }
    ev.preventDefault();
  });
  const time = h('span', 'feder-time');
  bar.append(play, back, step, slider, time);
  return {
    bar,
    sync(label) {
      play.textContent = player.playing ? '❚❚ Pause' : '▶ Play';
      play.setAttribute('aria-pressed', player.playing ? 'true' : 'false');
      slider.value = String(player.frame);
      time.textContent = label;
    },
  };
}
