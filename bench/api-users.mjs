#!/usr/bin/env node
// GET /hub/api/users with N users: LabHub vs JupyterHub 3.0, same run, same client.
// Sequential keep-alive requests from one client (the way the idle culler and admin tools call
// it), then 4 concurrent clients; p50/p99 latency. Target (issue 3): LabHub p99 < 5 ms at 200 users.
// Usage (root, after npm run build): node bench/api-users.mjs [--users 200] [--requests 400] [--no-write]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib/harness.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const USERS = Number(arg('users', 200));
const REQUESTS = Number(arg('requests', 400));
const WRITE = !process.argv.includes('--no-write');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function get(agent, url, token) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(url, { agent, headers: { Authorization: `token ${token}` } }, (res) => {
      let n = 0;
      res.on('data', (d) => (n += d.length));
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes: n }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(url, token) {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await get(new Agent(), url, token);
      if (r.status === 200) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function measure(url, token) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  for (let i = 0; i < 30; i++) await get(agent, url, token); // warm-up
  const seq = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const r = await get(agent, url, token);
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    seq.push(r.ms);
    bytes = r.bytes;
  }
  const conc = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = 0; i < REQUESTS / 4; i++) conc.push((await get(agent, url, token)).ms);
    }),
  );
  agent.destroy();
  return { p50: pct(seq, 50), p99: pct(seq, 99), c4p50: pct(conc, 50), c4p99: pct(conc, 99), bytes };
}

async function labhub() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-labhub-'));
  const [port, hubPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = join(dir, 'data');
  // seed the state with N hub users (no Linux accounts needed just to list them)
  const users = {};
  const now = new Date().toISOString();
  for (let i = 0; i < USERS; i++) users[`benchuser${i}`] = { name: `benchuser${i}`, created: now, lastActivity: now, admin: false };
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'state.json'), JSON.stringify({ schemaVersion: 1, users }), { mode: 0o600 });
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ ip: '127.0.0.1', port, dataDir, hub: { ip: '127.0.0.1', port: hubPort }, proxy: { apiIp: '127.0.0.1', apiPort } }));
  const child = spawn(join(REPO, 'dist/hub/main.js'), ['serve', '--config', config], { stdio: 'ignore', env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
  try {
    let creds = null;
    for (let i = 0; i < 300 && !creds; i++) {
      try {
        creds = JSON.parse(readFileSync(join(dataDir, 'cli-token'), 'utf8'));
      } catch {
        await sleep(100);
      }
    }
    const url = `http://127.0.0.1:${port}/hub/api/users`;
    await waitFor(url, creds.token);
    return await measure(url, creds.token);
  } finally {
    child.kill('SIGTERM');
    await sleep(1000);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function jupyterhub() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-jh-'));
  const [port, hubPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(16).toString('hex');
  writeFileSync(
    join(dir, 'jupyterhub_config.py'),
    `c = get_config()
c.JupyterHub.bind_url = 'http://127.0.0.1:${port}'
c.JupyterHub.hub_bind_url = 'http://127.0.0.1:${hubPort}'
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:${apiPort}'
c.JupyterHub.db_url = 'sqlite:///${join(dir, 'jh.sqlite')}'
c.JupyterHub.cookie_secret_file = '${join(dir, 'cookie_secret')}'
c.ConfigurableHTTPProxy.pid_file = '${join(dir, 'proxy.pid')}'
c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.services = [{'name': 'bench', 'api_token': '${token}'}]
c.JupyterHub.load_roles = [{'name': 'bench', 'scopes': ['admin:users', 'admin:servers', 'list:users', 'read:hub'], 'services': ['bench']}]
`,
  );
  const child = spawn('/usr/bin/jupyterhub', ['-f', join(dir, 'jupyterhub_config.py')], {
    cwd: dir,
    stdio: 'ignore',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', NODE_PATH: '/usr/share/nodejs', HOME: dir },
  });
  try {
    const base = `http://127.0.0.1:${port}/hub/api`;
    await waitFor(`${base}/users`, token);
    const usernames = Array.from({ length: USERS }, (_, i) => `benchuser${i}`);
    const res = await fetch(`${base}/users`, { method: 'POST', headers: { Authorization: `token ${token}` }, body: JSON.stringify({ usernames }) });
    if (res.status !== 201) throw new Error(`JupyterHub user creation: ${res.status} ${await res.text()}`);
    return await measure(`${base}/users`, token);
  } finally {
    child.kill('SIGTERM');
    await sleep(2000);
    rmSync(dir, { recursive: true, force: true });
  }
}

const lab = await labhub();
const jh = await jupyterhub();
const f = (x) => `${x.toFixed(2)} ms`;
const lines = [
  `### Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `Machine: ${cpus().length} cores, Node ${process.version}. ${USERS} users, ${REQUESTS} sequential keep-alive requests after 30 warm-up ones, then ${REQUESTS} more from 4 concurrent clients; the full user list (bare list, admin token) each time.`,
  '',
  '| figure | LabHub | JupyterHub 3.0 |',
  '|---|---|---|',
  `| sequential p50 | ${f(lab.p50)} | ${f(jh.p50)} |`,
  `| sequential p99 | ${f(lab.p99)} | ${f(jh.p99)} |`,
  `| 4 concurrent clients p50 / p99 | ${f(lab.c4p50)} / ${f(lab.c4p99)} | ${f(jh.c4p50)} / ${f(jh.c4p99)} |`,
  `| response size | ${(lab.bytes / 1024).toFixed(0)} KiB | ${(jh.bytes / 1024).toFixed(0)} KiB |`,
  '',
  `Target: LabHub sequential p99 < 5 ms with ${USERS} users: **${lab.p99 < 5 ? 'met' : 'not met'}**.`,
  '',
];
console.log(lines.join('\n'));
if (WRITE) {
  const file = join(REPO, 'bench/RESULTS.md');
  const text = readFileSync(file, 'utf8');
  if (!text.includes('## REST API: GET /hub/api/users')) appendFileSync(file, `\n## REST API: GET /hub/api/users\n\n\`node bench/api-users.mjs\`: LabHub (state seeded with the users) and JupyterHub 3.0 (DummyAuthenticator, users made through its API), one after the other in the same run.\n\n`);
  appendFileSync(file, lines.join('\n') + '\n');
}
