#!/usr/bin/env node
// The Docker spawner against the local spawner, in the same run (issue 7, "Speed"):
//   1. start → ready, one server at a time: LabHub's LocalSpawner (cold exec of
//      jupyterhub-singleuser through setpriv) and DockerSpawner (container from the local image,
//      host network), rounds alternating; "ready" is the hub's own readiness check (GET of the
//      server URL answering < 500), polled every 20 ms. Target: docker median ≤ local median + 0.5 s.
//   2. N containers (default 20) started at once: all must become ready; time until the last one.
// Both spawners talk to a tiny stand-in hub API (GET /hub/api, activity) on 127.0.0.1.
// Usage (root, after npm run build and `labhub image build`):
//   node bench/docker-spawn.mjs [--rounds 8] [--concurrent 20] [--cgroup-parent auto|/|''] [--wait-quiet 60] [--no-write]
import { createServer, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { parseArgs } from './lib/labhub-bench-args.mjs';
import { appendRun } from './lib/labhub-bench-results.mjs';
import { checkBuild, REPO } from './lib/labhub-hub.mjs';
import { createUsers, fmtS, machineNote, median, removeUsers, sleep, waitQuiet, withCleanup } from './lib/labhub-bench-sys.mjs';

const args = parseArgs(process.argv.slice(2), { rounds: 8, concurrent: 20, noWrite: false, waitQuiet: 60, cgroupParent: 'auto' });
const ROUNDS = Number(args.rounds);
const CONCURRENT = Number(args.concurrent);
const PREFIX = 'lhbenchdk';
const IMAGE = 'labhub/singleuser:latest';

const dist = (p) => import(join(REPO, 'dist', p));
const { LocalSpawner } = await dist('hub/spawner/local.js');
const { DockerSpawner } = await dist('hub/spawner/docker.js');
const { lookupAccount } = await dist('hub/auth/accounts.js');
const { silentLogger } = await dist('hub/log.js');

function fakeHub() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-jupyterhub-version': '3.0.0' });
      res.end(req.url?.startsWith('/hub/api/user') ? '{}' : '{"version":"3.0.0"}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function hubEnv(user, apiUrl) {
  const prefix = `/user/${user}/`;
  const token = randomBytes(16).toString('hex');
  return {
    JUPYTERHUB_API_TOKEN: token,
    JUPYTERHUB_CLIENT_ID: `jupyterhub-user-${user}`,
    JUPYTERHUB_USER: user,
    JUPYTERHUB_SERVER_NAME: '',
    JUPYTERHUB_API_URL: apiUrl,
    JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${user}/activity`,
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([`access:servers!server=${user}/`]),
  };
}

function probe(url) {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2000, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** start() → the server URL answers < 500 (the hub's readiness rule), in ms. */
async function startToReady(spawner, account, apiUrl, timeoutMs = 120_000) {
  const t0 = performance.now();
  const marks = [];
  const started = await spawner.start({ account, env: hubEnv(account.name, apiUrl), prefix: `/user/${account.name}/`, onProgress: (e) => marks.push(performance.now() - t0) });
  const launched = performance.now() - t0;
  const url = `${started.target}/user/${account.name}/`;
  for (;;) {
    const status = await probe(url);
    if (status !== null && status < 500) return { ms: performance.now() - t0, launched, marks, started };
    if (performance.now() - t0 > timeoutMs) throw new Error(`${spawner.kind}: ${account.name} not ready after ${timeoutMs} ms`);
    const poll = await spawner.poll(account.name, started.state);
    if (!poll.running) throw new Error(`${spawner.kind}: ${account.name} stopped: ${poll.reason}`);
    await sleep(20);
  }
}

function removeContainers() {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', 'label=org.labhub.hub=lhbench-docker-spawn'], { encoding: 'utf8' }).stdout.trim();
  if (ids) spawnSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
}

checkBuild();
const dir = mkdtempSync(join(tmpdir(), 'labhub-bench-docker-'));
let hub;
await withCleanup(
  async () => {
    removeContainers();
    removeUsers(PREFIX);
    hub?.close();
    rmSync(dir, { recursive: true, force: true });
  },
  async () => {
    hub = await fakeHub();
    const apiUrl = `http://127.0.0.1:${hub.address().port}/hub/api`;
    const users = createUsers(Math.max(2, CONCURRENT), PREFIX);
    const accounts = [];
    for (const u of users) accounts.push(await lookupAccount(u.name));
    const common = {
      environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' },
      path: '/usr/local/bin:/usr/bin:/bin',
      cmd: ['jupyterhub-singleuser'],
      args: [],
      stopGraceSeconds: 5,
      logDir: join(dir, 'logs'),
      logger: silentLogger(),
    };
    const local = new LocalSpawner(common);
    const docker = new DockerSpawner({
      ...common,
      socketPath: '/var/run/docker.sock',
      image: IMAGE,
      network: 'host',
      volumes: [],
      removeOnStop: true,
      allowRoot: false,
      pidsLimit: 512,
      stateDir: join(dir, 'docker'),
      hubId: 'lhbench-docker-spawn',
      cgroupParent: args.cgroupParent,
    });
    await docker.checkImage();
    const busyBefore = await waitQuiet({ limit: 0.1, maxS: Number(args.waitQuiet) });

    console.error(`single starts: ${ROUNDS} rounds, local and docker alternating`);
    const times = { local: [], docker: [] };
    // docker phases: start() called → image checked → container created → started (start() returns)
    const phases = { check: [], create: [], start: [], answer: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? [docker, local] : [local, docker];
      for (const s of order) {
        const account = accounts[0];
        const { ms, launched, marks, started } = await startToReady(s, account, apiUrl);
        times[s.kind].push(ms);
        if (s.kind === 'docker' && marks.length >= 3) {
          phases.check.push(marks[1]);
          phases.create.push(marks[2] - marks[1]);
          phases.start.push(launched - marks[2]);
          phases.answer.push(ms - launched);
        }
        await s.stop(account.name, started.state);
        await sleep(300);
      }
      console.error(`  round ${r + 1}: local ${fmtS(times.local.at(-1))}, docker ${fmtS(times.docker.at(-1))}`);
    }

    console.error(`${CONCURRENT} containers at once`);
    const t0 = performance.now();
    const results = await Promise.allSettled(accounts.slice(0, CONCURRENT).map((a) => startToReady(docker, a, apiUrl, 300_000)));
    const allMs = performance.now() - t0;
    const ok = results.filter((r) => r.status === 'fulfilled');
    const each = ok.map((r) => r.value.ms).sort((a, b) => a - b);
    for (const r of results) if (r.status === 'rejected') console.error(`  failed: ${r.reason?.message ?? r.reason}`);
    await Promise.all(results.map((r, i) => (r.status === 'fulfilled' ? docker.stop(accounts[i].name, r.value.started.state).catch(() => undefined) : undefined)));

    const lm = median(times.local);
    const dm = median(times.docker);
    const met = dm <= lm + 500;
    const allReady = ok.length === CONCURRENT;
    const when = new Date().toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ');
    const block = [
      `### Run ${when}`,
      '',
      `Machine: ${machineNote()}; CPU busy before the run ${Math.round(busyBefore * 100)} %. ${ROUNDS} rounds, alternating; medians.`,
      '',
      `| figure | local spawner (cold exec) | Docker spawner (host network, cgroupParent ${JSON.stringify(args.cgroupParent)}) |`,
      '|---|---|---|',
      `| start → ready (median) | ${fmtS(lm)} | ${fmtS(dm)} |`,
      `| min / max | ${fmtS(Math.min(...times.local))} / ${fmtS(Math.max(...times.local))} | ${fmtS(Math.min(...times.docker))} / ${fmtS(Math.max(...times.docker))} |`,
      `| Docker − local (medians) | | ${Math.round(dm - lm)} ms |`,
      `| Docker phases (medians): image check + leftover check / create / start (+ log follow, inspect) / server answering | | ${Math.round(median(phases.check))} / ${Math.round(median(phases.create))} / ${Math.round(median(phases.start))} / ${Math.round(median(phases.answer))} ms |`,
      `| ${CONCURRENT} containers started at once | | ${ok.length}/${CONCURRENT} ready; all after ${fmtS(allMs)}; first ${fmtS(each[0])}, median ${fmtS(median(each))} |`,
      '',
      `Targets: Docker start → ready ≤ local + 0.5 s: ${met ? '**met**' : '**not met**'} (${Math.round(dm - lm)} ms); ${CONCURRENT} at once all ready: ${allReady ? '**met**' : '**not met**'}.`,
    ].join('\n');
    console.log(block);
    if (!args.noWrite) {
      appendRun(
        'Docker spawner',
        '`node bench/docker-spawn.mjs` (see README). LabHub\'s LocalSpawner and DockerSpawner (from `dist/`) start `jupyterhub-singleuser` for the same user against a stand-in hub API, rounds alternating; start → ready is the hub\'s readiness rule (the server URL answers < 500), polled every 20 ms. Then N containers are started at the same moment.',
        block,
      );
    }
    await docker.close();
    await local.close();
  },
);
