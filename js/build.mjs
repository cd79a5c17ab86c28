// Bundle js/src/index.js into feder/static/widget.js: one readable ES module, no imports,
// what anywidget (from a Blob URL) and the offline HTML report load.
//   node build.mjs          write the bundle
//   node build.mjs --check  exit 1 if the committed bundle differs from a fresh build
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'feder', 'static', 'widget.js');
const banner = [
  '// GENERATED FILE: do not edit. Edit js/src/*.js and run `make js` (esbuild bundles',
  '// js/src/index.js into this one self-contained ES module for anywidget and HTML reports).',
].join('\n');

const result = await build({
  entryPoints: [join(here, 'src', 'index.js')],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: false,
  legalComments: 'none',
  charset: 'utf8',
  banner: { js: banner },
  write: false,
  logLevel: 'warning',
});
const text = result.outputFiles[0].text;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    // missing: differs
  }
  if (current !== text) {
    console.error('feder/static/widget.js is not the bundle of js/src: run `make js` and commit it');
    process.exit(1);
  }
  console.log('feder/static/widget.js matches js/src');
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out} (${text.length} bytes)`);
}
