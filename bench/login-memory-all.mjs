#!/usr/bin/env node
/**
 * Runs the login and memory benchmarks one after another (LabHub vs JupyterHub 3.0 in each), each
 * appending its run to bench/RESULTS.md:
 *
 *   npm run build && node bench/login-memory-all.mjs [--no-class-start] [--no-write]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/labhub-bench-args.mjs';

const opts = parseArgs(process.argv.slice(2), { noClassStart: false, noWrite: false });
const here = dirname(fileURLToPath(import.meta.url));
const scripts = ['login-notebook.mjs', 'memory-hub.mjs', ...(opts.noClassStart ? [] : ['login-class-start.mjs'])];
let failed = 0;
for (const s of scripts) {
  console.log(`\n=== ${s}`);
  const r = spawnSync(process.execPath, [join(here, s), ...(opts.noWrite ? ['--no-write'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${s} failed (exit ${r.status ?? r.signal})`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
