// Starting the things the proxy benchmarks compare, each in its own process on 127.0.0.1:
// the tiny backend, LabHub's proxy (from dist/), Debian's configurable-http-proxy 4.5.3 and
// configurable-http-proxy 5.x from npm (installed on first use into bench/.deps, gitignored).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, freePort, startProcess, waitForPort } from './harness.mjs';

const CHP4 = '/usr/bin/configurable-http-proxy';
const CHP5_DIR = join(benchDir, '.deps');
const CHP5 = join(CHP5_DIR, 'node_modules/configurable-http-proxy/bin/configurable-http-proxy');

export async function startBackend() {
  const { proc, info } = await startProcess('backend', process.execPath, [join(benchDir, 'lib/backend.mjs')], { jsonLine: true });
  return { proc, url: `http://127.0.0.1:${info.port}`, port: info.port };
}

export async function startLabhub(target) {
  const { proc, info } = await startProcess('labhub', process.execPath, [join(benchDir, 'lib/labhub-proxy.mjs'), target], { jsonLine: true });
  return { proc, url: `http://127.0.0.1:${info.port}`, port: info.port, name: 'LabHub proxy' };
}

/** Makes sure both CHPs are there; returns a list of problems (empty when fine). */
export function ensureChps() {
  const problems = [];
  if (!existsSync(CHP4)) {
    try {
      execFileSync('apt-get', ['install', '-y', 'node-configurable-http-proxy'], { stdio: 'inherit' });
    } catch {
      problems.push(`${CHP4} is missing: apt-get install -y node-configurable-http-proxy`);
    }
  }
  if (!existsSync(CHP5)) {
    try {
      execFileSync('npm', ['install', '--prefix', CHP5_DIR, '--no-audit', '--no-fund', 'configurable-http-proxy@5'], { stdio: 'inherit' });
    } catch {
      problems.push(`configurable-http-proxy 5 could not be installed: npm install --prefix bench/.deps configurable-http-proxy@5`);
    }
  }
  return problems;
}

async function startChp(name, script, target, env) {
  const port = await freePort();
  const apiPort = await freePort();
  const args = [script, '--ip', '127.0.0.1', '--port', String(port), '--api-ip', '127.0.0.1', '--api-port', String(apiPort), '--default-target', target, '--log-level', 'warn'];
  const { proc } = await startProcess(name, process.execPath, args, { env: { CONFIGPROXY_AUTH_TOKEN: 'bench', ...env } });
  await waitForPort(port);
  return { proc, url: `http://127.0.0.1:${port}`, port, name };
}

/** Debian's 4.5.3 (JupyterHub 3.0's); it needs Debian's node modules on NODE_PATH. */
export function startChp4(target) {
  return startChp('CHP 4.5.3 (Debian)', CHP4, target, { NODE_PATH: '/usr/share/nodejs' });
}

export function startChp5(target) {
  return startChp('CHP 5.x (npm)', CHP5, target, {});
}

export function chp5Version() {
  try {
    return JSON.parse(execFileSync('node', ['-p', `JSON.stringify(require(${JSON.stringify(join(CHP5_DIR, 'node_modules/configurable-http-proxy/package.json'))}))`], { encoding: 'utf8' })).version;
  } catch {
    return '5.x';
  }
}
