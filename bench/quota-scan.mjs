#!/usr/bin/env node
// The monitored disk quota's usage scan (issue 6, acceptance 5) against a real `labhub serve`:
// N real Linux users (default 100) whose homes hold F files each (default 1,000, in 10 folders,
// 0–8 KiB) are hub users; the bench times an on-demand scan (POST /hub/api/labhub/quota/scan until
// every figure is new) and measures the latency of GET /hub/api/user (C clients in a loop) for
// D seconds with no scan and for D seconds with scans back to back. Targets: a scan finishes in
// seconds; p99 during scans within 20 % of p99 without. Also checks a few figures against `du`.
// Usage (root, after npm run build): node bench/quota-scan.mjs [--homes 100] [--files 1000] [--seconds 10] [--clients 4] [--no-write]
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from './lib/labhub-bench-args.mjs';
import { appendRun } from './lib/labhub-bench-results.mjs';
import { checkBuild, REPO } from './lib/labhub-hub.mjs';
import { createUsers, freePorts, machineNote, median, quantile, removeUsers, sleep, withCleanup } from './lib/labhub-bench-sys.mjs';

const args = parseArgs(process.argv.slice(2), { homes: 100, files: 1000, seconds: 10, clients: 4, noWrite: false });
const HOMES = Number(args.homes);
const FILES = Number(args.files);
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const PREFIX = 'lhbenchq';

function fillHome(u, seed) {
  for (let d = 0; d < 10; d++) {
    const dir = join(u.home, `data${d}`);
    mkdirSync(dir, { recursive: true });
    chownSync(dir, u.uid, u.gid);
    for (let f = 0; f < FILES / 10; f++) {
      const file = join(dir, `f${f}.txt`);
      writeFileSync(file, Buffer.alloc(((seed * 31 + d * 97 + f * 13) % 8192) + 1, 97));
      chownSync(file, u.uid, u.gid);
    }
  }
}

async function startHub(dir, users) {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const now = new Date().toISOString();
  const hubUsers = Object.fromEntries(users.map((u) => [u.name, { name: u.name, created: now, lastActivity: null, admin: false }]));
  writeFileSync(join(dataDir, 'state.json'), JSON.stringify({ schemaVersion: 1, users: hubUsers, groups: {} }), { mode: 0o600 });
  const [port, hubPort, apiPort] = await freePorts(3);
  const configFile = join(dir, 'labhub.json');
  const config = {
    ip: '127.0.0.1',
    port,
    dataDir,
    hub: { ip: '127.0.0.1', port: hubPort },
    proxy: { apiIp: '127.0.0.1', apiPort },
    auth: { adminGroups: ['root'] },
    quota: { diskMode: 'auto', scanIntervalMinutes: 600, defaults: { diskSoft: '1G', diskHard: '2G' } },
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const out = openSync(join(dir, 'serve.out'), 'a');
  const child = spawn(join(REPO, 'dist/hub/main.js'), ['serve', '--config', configFile], {
    cwd: dir,
    stdio: ['ignore', out, out],
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8', HOME: '/root' },
  });
  closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`labhub serve exited (${child.exitCode}):\n${readFileSync(join(dir, 'serve.out'), 'utf8').slice(-3000)}`);
    try {
      if ((await fetch(`${url}/hub/health`)).status === 200) break;
    } catch {
      // not up yet
    }
    if (i > 600) throw new Error('labhub did not answer within 60 s');
    await sleep(100);
  }
  let token = null;
  for (let i = 0; i < 100 && !token; i++) {
    try {
      token = JSON.parse(readFileSync(join(dataDir, 'cli-token'), 'utf8')).token;
    } catch {
      await sleep(100);
    }
  }
  if (!token) throw new Error('no cli-token');
  return {
    url,
    token,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(15_000)]);
    },
  };
}

async function quota(hub) {
  const res = await fetch(`${hub.url}/hub/api/labhub/quota`, { headers: { Authorization: `token ${hub.token}` } });
  if (res.status !== 200) throw new Error(`GET quota: ${res.status} ${await res.text()}`);
  return res.json();
}

/** One on-demand scan: ms until every user's figure is newer than the start. */
async function timedScan(hub, names) {
  const t0 = Date.now();
  const since = new Date(t0).toISOString();
  const res = await fetch(`${hub.url}/hub/api/labhub/quota/scan`, { method: 'POST', headers: { Authorization: `token ${hub.token}` } });
  if (res.status !== 202) throw new Error(`scan: ${res.status}`);
  for (;;) {
    const q = await quota(hub);
    const fresh = q.usage.filter((r) => names.includes(r.user) && r.measuredAt && r.measuredAt >= since).length;
    if (fresh === names.length) return { ms: Date.now() - t0, q };
    await sleep(50);
  }
}

/** GET /hub/api/user latencies from CLIENTS loops for `ms`, while `during()` runs alongside. */
async function latencies(hub, ms, during) {
  const out = [];
  const end = Date.now() + ms;
  let stop = false;
  const bg = during ? (async () => { const n = []; while (!stop) n.push(await during()); return n; })() : Promise.resolve([]);
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        const res = await fetch(`${hub.url}/hub/api/user`, { headers: { Authorization: `token ${hub.token}` } });
        await res.arrayBuffer();
        out.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  stop = true;
  return { lat: out, scans: await bg };
}

await checkBuild();
const dir = mkdtempSync(join(tmpdir(), 'labhub-quota-bench-'));
await withCleanup(
  async () => {
    removeUsers(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  },
  async () => {
    const t0 = Date.now();
    const users = createUsers(HOMES, PREFIX);
    users.forEach((u, i) => fillHome(u, i));
    const names = users.map((u) => u.name);
    console.log(`created ${HOMES} users × ${FILES} files in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const hub = await startHub(dir, users);
    try {
      // the hub's own first scan (2 s after start) and a first timed one warm the caches
      const first = await timedScan(hub, names);
      const scans = [first.ms];
      for (let i = 0; i < 3; i++) scans.push((await timedScan(hub, names)).ms);
      const base = await latencies(hub, SECONDS * 1000, null);
      const busy = await latencies(hub, SECONDS * 1000, async () => (await timedScan(hub, names)).ms);
      const q = (await timedScan(hub, names)).q;
      const checks = users.slice(0, 5).map((u) => {
        const du = Number(execFileSync('du', ['-s', '-x', '--block-size=1', u.home], { encoding: 'utf8' }).split('\t')[0]);
        const got = q.usage.find((r) => r.user === u.name).bytes;
        return { user: u.name, du, got, diff: Math.abs(got - du) / du };
      });
      const p = (xs, k) => quantile(xs, k);
      const b99 = p(base.lat, 0.99);
      const s99 = p(busy.lat, 0.99);
      const row = (name, r) => `| ${name} | ${r.lat.length} | ${median(r.lat).toFixed(2)} ms | ${p(r.lat, 0.95).toFixed(2)} ms | ${p(r.lat, 0.99).toFixed(2)} ms |`;
      const block = `### Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

${machineNote()} ${HOMES} homes × ${FILES} files (10 folders, 1 B–8 KiB each), ${CLIENTS} clients, ${SECONDS} s per phase. Disk mode in force: ${q.disk.inForce} (${q.disk.reason}).

- Scan of all homes (warm cache; 4 \`du\` processes × 10 homes, best-effort I/O priority 7, nice 19): first ${first.ms} ms, then ${scans.slice(1).join(' / ')} ms; during the busy phase ${busy.scans.length} scans back to back, median ${Math.round(median(busy.scans))} ms.
- Usage vs \`du -s -x --block-size=1\` (5 homes): largest difference ${(Math.max(...checks.map((c) => c.diff)) * 100).toFixed(3)} %.

| GET /hub/api/user | requests | median | p95 | p99 |
|---|---|---|---|---|
${row('no scan', base)}
${row('scans back to back', busy)}

p99 during scans / p99 without: **${(s99 / b99).toFixed(2)}** (target ≤ 1.20: ${s99 <= b99 * 1.2 ? '**met**' : '**not met**'}); scan in seconds: ${Math.max(...scans) < 10_000 ? '**met**' : '**not met**'}.
`;
      console.log(block);
      if (!args.noWrite) {
        appendRun(
          'Quota usage scan',
          '`node bench/quota-scan.mjs` (see the header of the script): the monitored disk mode\'s scan of every home against a real `labhub serve`, and the latency of `GET /hub/api/user` with and without scans running.',
          block,
        );
      }
    } finally {
      await hub.stop();
    }
  },
);
