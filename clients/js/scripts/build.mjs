// Builds the package from its one source, with Node.js alone (no bundler):
//   dist/herald.mjs  the ES module, src/herald.mjs as it is
//   dist/herald.js   the browser-global build (window.Herald): the same code without its
//                    esm-only lines, wrapped in a function; the gateway serves this file at /herald.js
//   dist/react.mjs   the React hook (@herald/client/react), src/react.mjs as it is
//
// usage: node scripts/build.mjs          writes dist/
//        node scripts/build.mjs --check  fails when dist/ is not what the sources make
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const ESM_ONLY = /\s*\/\/ esm-only$/;

/** The browser-global build of an ES module source whose header is its first comment. */
export function globalBuild(source) {
  const end = source.indexOf('*/\n');
  if (!source.startsWith('/*') || end < 0) throw new Error('src/herald.mjs must start with its header comment');
  const header = source.slice(0, end + 3);
  const body = source.slice(end + 3).split('\n')
    .filter((line) => !ESM_ONLY.test(line))
    .join('\n')
    .replace(/^\n+/, '')
    .replace(/\n+$/, '\n');
  if (/^\s*(import|export)\b/m.test(body)) throw new Error('an import or export line of src/herald.mjs is not marked // esm-only');
  const indented = body.split('\n').map((line) => (line ? '  ' + line : line)).join('\n');
  return header + "(function (root) {\n  'use strict';\n\n" + indented
    + "  root.Herald = Herald;\n}(typeof window !== 'undefined' ? window : globalThis));\n";
}

/** Every file of dist/, by name, as the sources make it. */
export function build() {
  const herald = readFileSync(join(PKG, 'src', 'herald.mjs'), 'utf8');
  const react = readFileSync(join(PKG, 'src', 'react.mjs'), 'utf8');
  return {
    'herald.mjs': herald,
    'herald.js': globalBuild(herald),
    'react.mjs': react,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = build();
  const dist = join(PKG, 'dist');
  if (process.argv.includes('--check')) {
    const stale = Object.keys(files).filter((name) => {
      try {
        return readFileSync(join(dist, name), 'utf8') !== files[name];
      } catch (e) {
        return true;
      }
    });
    if (stale.length) {
      console.error('dist/ is out of date with src/ (' + stale.join(', ') + '): run npm run build in clients/js and commit dist/');
      process.exit(1);
    }
    console.log('dist/ is up to date');
  } else {
    mkdirSync(dist, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dist, name), text);
    console.log('built ' + Object.keys(files).map((n) => 'dist/' + n).join(', '));
  }
}
