// The package's builds: dist/ is what src/ makes, the browser-global build sets window.Herald with
// the same API as the ES module, and nothing needs a runtime dependency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { build, globalBuild } from '../scripts/build.mjs';
import * as esm from '../dist/herald.mjs';

const dist = (name) => readFileSync(new URL('../dist/' + name, import.meta.url), 'utf8');

test('dist/ is exactly what scripts/build.mjs makes from src/ (run npm run build and commit dist/ when this fails)', () => {
  for (const [name, text] of Object.entries(build())) assert.equal(dist(name), text, 'dist/' + name + ' is stale');
});

test('the browser-global build sets window.Herald with the ES module\'s API, and has no import or export', () => {
  const source = dist('herald.js');
  assert.doesNotMatch(source, /^\s*(import|export)\b/m);
  const window = { location: { origin: 'http://hub.test' } };
  window.window = window;
  vm.runInNewContext(source, window);
  const H = window.Herald;
  assert.equal(typeof H.connect, 'function');
  assert.deepEqual(Object.keys(H).sort(), Object.keys(esm.default).sort());
  assert.deepEqual(Array.from(H.BACKOFF_STEPS), [1000, 2000, 4000, 8000, 16000, 30000]);
  assert.deepEqual(Array.from(esm.BACKOFF_STEPS), Array.from(H.BACKOFF_STEPS));
  for (const attempt of [0, 1, 5, 9]) {
    assert.equal(H.backoffDelay(attempt, 0.25), esm.backoffDelay(attempt, 0.25));
  }
  assert.equal(esm.connect, esm.default.connect);
  assert.equal(esm.Connection, esm.default.Connection);
});

test('a line of src/herald.mjs that imports or exports without the esm-only mark breaks the build', () => {
  assert.throws(() => globalBuild('/* h */\nconst a = 1;\nexport default a;\n'), /not marked/);
  assert.match(globalBuild('/* h */\nconst a = 1;\nexport default a; // esm-only\n'), /^\/\* h \*\/\n\(function \(root\) \{\n  'use strict';\n\n  const a = 1;\n  root.Herald = Herald;\n/);
});

test('no runtime dependency: the client imports nothing, the hook only react (a peer dependency)', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.dependencies, undefined);
  assert.deepEqual(Object.keys(pkg.peerDependencies), ['react']);
  assert.doesNotMatch(dist('herald.mjs'), /^\s*import\b/m);
  const imports = dist('react.mjs').match(/^import .* from '([^']+)';$/gm).map((l) => l.replace(/.* from '([^']+)';$/, '$1'));
  assert.deepEqual(imports.sort(), ['./herald.mjs', 'react']);
});

test('the package\'s entries: @herald/client is the ES module, @herald/client/react the hook, each with its types', async () => {
  const main = await import('@herald/client');
  assert.equal(main.default, esm.default);
  const react = await import('@herald/client/react');
  assert.equal(typeof react.useHerald, 'function');
  assert.equal(react.default, react.useHerald);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.exports['.'].types, './index.d.ts');
  assert.equal(pkg.exports['./react'].types, './react.d.ts');
  for (const file of pkg.files) assert.ok(readFileSync(new URL('../' + file + (file === 'dist' ? '/herald.mjs' : ''), import.meta.url)));
});
