// feder's widget: the entry anywidget loads (and the offline HTML report, with a model shim).
// Sources are ES modules under js/src; esbuild bundles them into feder/static/widget.js.

import { App } from './app.js';

/** @typedef {import('./app.js').Model} Model */

export default {
  /**
   * @param {{model: Model, el: HTMLElement}} ctx
   * @returns {() => void} cleanup
   */
  render({ model, el }) {
    const app = new App(model, el);
    return () => app.destroy();
  },
};
