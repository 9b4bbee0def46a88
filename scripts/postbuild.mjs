// After tsc: makes the CLI entry point executable (so `npx labhub` and the bin link work from a
// checkout), copies the renderer's static files next to its compiled modules, and bundles the
// Electron preload into one CommonJS file (a sandboxed preload cannot import local modules).
import { chmodSync, cpSync, mkdirSync, readdirSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
chmodSync(new URL('dist/hub/main.js', root), 0o755);

const rendererOut = new URL('dist/renderer/', root);
mkdirSync(rendererOut, { recursive: true });
for (const name of readdirSync(new URL('renderer/', root))) {
  if (/\.(html|css|svg|png)$/.test(name)) cpSync(new URL(`renderer/${name}`, root), new URL(name, rendererOut));
}

await build({
  entryPoints: [new URL('main/preload.ts', root).pathname],
  outfile: new URL('dist/main/preload.cjs', root).pathname,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['electron'],
  logLevel: 'warning',
});
