// What tests read of a widget: `root.federDebug` gives the current view's hover / click
// targets, placed labels, thumbnails and query position in canvas CSS pixels, and draws a
// frame synchronously.

/** @typedef {import('./scenes/scene.js').Scene} Scene */
/** @typedef {import('./stage.js').Stage} Stage */

/**
 * @param {HTMLElement} root
 * @param {{stage: Stage, scene: Scene | null, view: string | null}} app
 */
export function attachDebug(root, app) {
  /** @param {(scene: Scene) => unknown} read */
  const laidOut = (read) => {
    app.stage.ensureLayout();
    return app.scene ? read(app.scene) : null;
  };
  Object.assign(root, {
    federDebug: {
      targets: (limit = 40) => laidOut((s) => s.targets(limit)) || [],
      labels: () => laidOut((s) => s.labelBoxes) || [],
      thumbs: () => laidOut((s) => ('thumbBoxes' in s ? s.thumbBoxes : [])) || [],
      query: () => laidOut((s) => s.queryScreen()),
      draw: () => app.stage.draw(),
      view: () => app.view,
    },
  });
}
