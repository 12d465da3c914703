#!/usr/bin/env node
// Bundles the dashboard (client/: Preact + Chart.js) into dist/client/ with esbuild: app.js
// (minified, one file), app.css and index.html. Run by scripts/build.sh after tsc -b.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(pkg, 'dist/client');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(pkg, 'client/main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(join(pkg, 'client', f), join(out, f));
const kb = (f) => (statSync(join(out, f)).size / 1024).toFixed(0);
console.error(`[build] dashboard: dist/client/app.js ${kb('app.js')} KiB, app.css ${kb('app.css')} KiB`);
