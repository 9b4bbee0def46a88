#!/usr/bin/env node
/**
 * The pre-warmed launcher, side by side in one run: LabHub with the launcher (default config),
 * LabHub with `spawner.launcher.enabled: false` (cold start), and JupyterHub 3.0 (Debian, with
 * configurable-http-proxy 4.5.3). Each system alone, one after the other. Run as root:
 *
 *   npm run build && node bench/launcher.mjs [--rounds 8] [--class-size 50] [--servers 10]
 *        [--systems launcher,cold,jupyterhub] [--concurrency N] [--no-write] [--keep] [--wait-quiet 30]
 *
 * Per system:
 *  1. login → notebook ready, one user: `--rounds` journeys of a scripted browser (login form,
 *     spawn, progress stream, OAuth through the proxy, until GET /user/<name>/api/status is 200),
 *     two users alternating, the server stopped and the user logged out between rounds.
 *  2. memory: `--servers` users log in one after another and keep their servers; then the PSS
 *     (smaps_rollup) of every process of each user (the server; no kernels run) — PSS splits
 *     pages shared by several processes between them, so a forked server's share of the
 *     launcher's pages counts. LabHub's launcher's own PSS is shown too.
 *  3. class start: `--class-size` students on the login page press "Log in" together; time until
 *     each has a ready notebook, failures.
 * Targets (issue 9): launcher login median < 0.8 s; class of 50 all ready < 15 s with no failure;
 * per-server PSS ≤ the cold start's.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './lib/labhub-bench-args.mjs';
import { appendRun } from './lib/labhub-bench-results.mjs';
import { BenchBrowser } from './lib/labhub-bench-browser.mjs';
import { createUsers, fmtMB, fmtS, loadAvg, machineNote, median, quantile, removeUsers, sleep, waitQuiet, withCleanup, yesNo } from './lib/labhub-bench-sys.mjs';
import { startJupyterHub } from './lib/jupyterhub-hub.mjs';
import { startLabHub } from './lib/labhub-hub.mjs';

const PREFIX = 'lhbenchlw';
const opts = parseArgs(process.argv.slice(2), { rounds: 8, classSize: 50, servers: 10, systems: 'launcher,cold,jupyterhub', noWrite: false, keep: false, waitQuiet: 30, timeout: 180, concurrency: 0 });
const systems = String(opts.systems).split(',').map((s) => s.trim()).filter(Boolean);
for (const s of systems) if (!['launcher', 'cold', 'jupyterhub'].includes(s)) throw new Error(`unknown system ${s} (launcher, cold, jupyterhub)`);

const TARGET_LOGIN_MS = 800;
const TARGET_CLASS_MS = 15_000;

function hubLogHas(sys, msg) {
  return sys.log().split('\n').some((l) => l.includes(`"msg":"${msg}"`));
}

async function start(kind) {
  if (kind === 'jupyterhub') return startJupyterHub();
  // --concurrency: spawner.concurrency for both LabHub variants (0 = LabHub's default, sized for the machine)
  const spawner = { ...(kind === 'cold' ? { launcher: { enabled: false } } : {}), ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) };
  const sys = await startLabHub({ spawner });
  sys.name = kind === 'cold' ? 'LabHub cold start' : 'LabHub launcher';
  if (kind === 'launcher') {
    const deadline = Date.now() + 90_000;
    while (!hubLogHas(sys, 'pre-warmed launcher ready')) {
      if (Date.now() > deadline) throw new Error('the launcher did not get ready within 90 s');
      await sleep(200);
    }
  }
  return sys;
}

function pssKb(pid) {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Pids of every process of a uid, and of the launcher (cmdline names labhub_launcher.py and this data dir). */
function processes() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      out.push({ pid: Number(name), uid, cmd });
    } catch {
      // gone
    }
  }
  return out;
}

async function loginRounds(sys, users) {
  const times = [];
  for (let r = 0; r < opts.rounds; r++) {
    const u = users[r % 2];
    const b = new BenchBrowser(sys.url);
    const form = await b.openLoginPage(u.name);
    const { ms } = await b.loginToNotebook(u.name, u.password, form);
    times.push(ms);
    await b.stopAndLogout(u.name);
    await sleep(500);
  }
  return times;
}

async function memory(sys, users) {
  const browsers = [];
  for (const u of users) {
    const b = new BenchBrowser(sys.url);
    await b.loginToNotebook(u.name, u.password, await b.openLoginPage(u.name));
    browsers.push({ b, u });
  }
  await sleep(3000);
  const procs = processes();
  const perServer = users.map((u) => procs.filter((p) => p.uid === u.uid).reduce((sum, p) => sum + pssKb(p.pid), 0));
  const launcher = procs.filter((p) => p.cmd.some((a) => a.endsWith('labhub_launcher.py')) && p.cmd.some((a) => sys.dataDir && a.startsWith(sys.dataDir)));
  const launcherKb = launcher.reduce((sum, p) => sum + pssKb(p.pid), 0);
  await Promise.allSettled(browsers.map(({ b, u }) => b.stopAndLogout(u.name, { timeoutMs: 60_000 })));
  return { perServer, launcherKb, launcherPids: launcher.map((p) => p.pid) };
}

async function classStart(sys, users) {
  const browsers = await Promise.all(users.map(async (u) => {
    const b = new BenchBrowser(sys.url);
    return { b, u, form: await b.openLoginPage(u.name) };
  }));
  const load = loadAvg();
  const t0 = performance.now();
  const results = await Promise.all(browsers.map(async ({ b, u, form }) => {
    let timer;
    const timeout = new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`no notebook after ${opts.timeout} s`)), opts.timeout * 1000);
    });
    try {
      await Promise.race([b.loginToNotebook(u.name, u.password, form), timeout]);
      return { ok: true, at: performance.now() - t0 };
    } catch (err) {
      return { ok: false, at: performance.now() - t0, error: String(err.message ?? err).slice(0, 160) };
    } finally {
      clearTimeout(timer);
    }
  }));
  const ok = results.filter((r) => r.ok).map((r) => r.at);
  const failed = results.filter((r) => !r.ok);
  await Promise.allSettled(browsers.map(({ b, u }) => b.stopAndLogout(u.name, { timeoutMs: 90_000 })));
  return { n: users.length, ok: ok.length, failed: failed.length, all: ok.length ? Math.max(...ok) : NaN, first: Math.min(...ok), median: median(ok), p90: quantile(ok, 0.9), errors: [...new Set(failed.map((f) => f.error))].slice(0, 2), load };
}

async function main() {
  const busy = await waitQuiet({ maxS: opts.waitQuiet });
  const users = createUsers(Math.max(opts.classSize, opts.servers, 2), PREFIX);
  const results = [];
  await withCleanup(() => removeUsers(PREFIX), async () => {
    console.log(`machine: ${machineNote()}; load ${loadAvg()}`);
    for (const kind of systems) {
      const sys = await start(kind);
      try {
        // warm-up, not counted: page cache, the hub's first-request paths
        const w = new BenchBrowser(sys.url);
        await w.loginToNotebook(users[0].name, users[0].password, await w.openLoginPage(users[0].name));
        await w.stopAndLogout(users[0].name);
        await sleep(1000);
        const r = { kind, name: sys.name, loadBefore: loadAvg() };
        r.login = await loginRounds(sys, users);
        console.log(`${sys.name}: login → notebook median ${fmtS(median(r.login))} (${r.login.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
        await sleep(2000);
        r.mem = await memory(sys, users.slice(0, opts.servers));
        console.log(`${sys.name}: PSS per server median ${fmtMB(median(r.mem.perServer))}${r.mem.launcherKb ? `, launcher ${fmtMB(r.mem.launcherKb)}` : ''}`);
        await sleep(3000);
        r.cls = await classStart(sys, users.slice(0, opts.classSize));
        console.log(`${sys.name}: class of ${r.cls.n}: ${r.cls.ok} ready, all after ${fmtS(r.cls.all)}, median ${fmtS(r.cls.median)}${r.cls.failed ? `; failures: ${r.cls.errors.join(' | ')}` : ''} (load at start ${r.cls.load})`);
        results.push(r);
      } finally {
        await sys.stop();
        if (!opts.keep) sys.cleanup();
        else console.log(`kept ${sys.name} files in ${sys.dir}`);
      }
      await sleep(3000);
    }
  });
  if (opts.noWrite) return;
  const cold = results.find((r) => r.kind === 'cold');
  const warm = results.find((r) => r.kind === 'launcher');
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const col = (f) => results.map(f).join(' | ');
  const lines = [
    `#### Pre-warmed launcher — run ${date}`,
    '',
    `Machine: ${machineNote()}; CPU busy before the run ${Math.round(busy * 100)} %, load average ${results.map((r) => r.loadBefore).join(' / ')} at the start of each system (other engineers share these cores). ` +
      `${opts.rounds} login rounds, ${opts.servers} servers for memory, class of ${opts.classSize}; LabHub's spawner.concurrency ${opts.concurrency || 'default (sized for the machine)'}.`,
    '',
    `| figure | ${col((r) => r.name)} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    `| login → notebook ready, median (min–max) | ${col((r) => `${fmtS(median(r.login))} (${fmtS(Math.min(...r.login))}–${fmtS(Math.max(...r.login))})`)} |`,
    `| PSS per server, median (min–max) | ${col((r) => `${fmtMB(median(r.mem.perServer))} (${fmtMB(Math.min(...r.mem.perServer))}–${fmtMB(Math.max(...r.mem.perServer))})`)} |`,
    `| launcher's own PSS | ${col((r) => (r.kind === 'launcher' ? fmtMB(r.mem.launcherKb) : '–'))} |`,
    `| class of ${opts.classSize}: ready / all ready after | ${col((r) => `${r.cls.ok}/${r.cls.n} / ${fmtS(r.cls.all)}`)} |`,
    `| class: first / median / p90 ready | ${col((r) => `${fmtS(r.cls.first)} / ${fmtS(r.cls.median)} / ${fmtS(r.cls.p90)}`)} |`,
    `| class: load average at its start | ${col((r) => r.cls.load)} |`,
    `| errors | ${col((r) => (r.cls.errors.length ? r.cls.errors.join('; ').replace(/\|/g, '/') : '–'))} |`,
    '',
  ];
  if (warm) {
    lines.push(
      `Targets: login median < 0.8 s: ${yesNo(median(warm.login) < TARGET_LOGIN_MS)}; class of ${opts.classSize} all ready < 15 s with no failure: ${yesNo(warm.cls.all < TARGET_CLASS_MS && warm.cls.failed === 0)}; ` +
        `per-server PSS ≤ cold start's: ${cold ? yesNo(median(warm.mem.perServer) <= median(cold.mem.perServer)) : 'n/a'}.`,
    );
  }
  appendRun('Pre-warmed launcher', INTRO, lines.join('\n'));
  console.log('results appended to bench/RESULTS.md (## Pre-warmed launcher)');
}

const INTRO = `\`node bench/launcher.mjs\` (see README): LabHub with the pre-warmed launcher (default config), LabHub with
\`spawner.launcher.enabled: false\` (cold start) and JupyterHub 3.0 (Debian, PAMAuthenticator, LocalProcessSpawner,
configurable-http-proxy 4.5.3), one after the other in the same run, with the same scripted browser as "Login to notebook".`;

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
