#!/usr/bin/env node
/**
 * Hub + proxy resident memory, LabHub vs JupyterHub 3.0 (hub + configurable-http-proxy), idle and
 * per running server (see bench/README.md). Run as root:
 *
 *   npm run build && node bench/memory-hub.mjs [--servers 10] [--systems labhub,jupyterhub] [--no-write]
 *
 * For each system in turn (only one runs at a time): start it; idle RSS after it settles; one
 * login → notebook → stop → logout as warm-up (PAM loaded, every code path of the journey run once)
 * and idle RSS again; then N users log in one after another and keep their servers running
 * (the full journey, OAuth included); RSS with N servers; growth = (with N − warm idle) / N.
 * RSS = VmRSS from /proc/<pid>/status of the hub process plus the proxy process, median of 5
 * samples 200 ms apart. Because a Node heap's RSS saws up and down by several MB with garbage
 * collection, growth is also given as the least-squares slope of RSS measured after each login.
 * Targets (issue 2): LabHub idle < 110 MB; growth < 1 MB per running server.
 */
import { parseArgs, systemsOf } from './lib/labhub-bench-args.mjs';
import { appendRun } from './lib/labhub-bench-results.mjs';
import { BenchBrowser } from './lib/labhub-bench-browser.mjs';
import { createUsers, fmtMB, loadAvg, machineNote, waitQuiet, removeUsers, rssKb, sleep, ussKb, withCleanup, yesNo } from './lib/labhub-bench-sys.mjs';
import { startJupyterHub } from './lib/jupyterhub-hub.mjs';
import { startLabHub } from './lib/labhub-hub.mjs';

const opts = parseArgs(process.argv.slice(2), { servers: 10, systems: 'labhub,jupyterhub', settle: 3, noWrite: false, waitQuiet: 60, keep: false });
const systems = systemsOf(opts.systems);
const TARGET_IDLE_KB = 110 * 1024;
const TARGET_GROWTH_KB = 1024;

/** Least-squares slope of [x, y] points. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx ? sxy / sxx : NaN;
}

async function sample(sys, n = 5) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const { hub, proxy } = sys.pids();
    const h = rssKb(hub);
    const p = proxy ? rssKb(proxy) : 0;
    xs.push({ total: h + p, hub: h, proxy: p, uss: ussKb(hub) + (proxy ? ussKb(proxy) : 0) });
    await sleep(200);
  }
  xs.sort((a, b) => a.total - b.total);
  return xs[Math.floor(n / 2)];
}

async function measure(start, users) {
  const sys = await start();
  const out = { name: sys.name };
  try {
    await sleep(opts.settle * 1000);
    out.fresh = await sample(sys);
    const warm = new BenchBrowser(sys.url);
    await warm.loginToNotebook(users[0].name, users[0].password, await warm.openLoginPage(users[0].name));
    await warm.stopAndLogout(users[0].name);
    await sleep(opts.settle * 1000);
    out.idle = await sample(sys);
    const browsers = [];
    const curve = [[0, out.idle.total]];
    const t0 = performance.now();
    for (const u of users.slice(0, opts.servers)) {
      const b = new BenchBrowser(sys.url);
      await b.loginToNotebook(u.name, u.password, await b.openLoginPage(u.name));
      browsers.push([b, u]);
      await sleep(500);
      curve.push([browsers.length, (await sample(sys, 3)).total]);
    }
    out.startS = (performance.now() - t0) / 1000;
    await sleep(opts.settle * 1000);
    out.loaded = await sample(sys);
    curve.push([opts.servers, out.loaded.total]);
    out.growthKb = (out.loaded.total - out.idle.total) / opts.servers;
    out.slopeKb = slope(curve);
    await Promise.all(browsers.map(([b, u]) => b.stopAndLogout(u.name, { timeoutMs: 60_000 })));
    await sleep(opts.settle * 1000);
    out.after = await sample(sys);
    console.log(
      `${sys.name}: idle after start ${fmtMB(out.fresh.total)} (hub ${fmtMB(out.fresh.hub)} + proxy ${fmtMB(out.fresh.proxy)}); ` +
        `idle after one login ${fmtMB(out.idle.total)} (hub ${fmtMB(out.idle.hub)} + proxy ${fmtMB(out.idle.proxy)}); ` +
        `with ${opts.servers} servers ${fmtMB(out.loaded.total)} (hub ${fmtMB(out.loaded.hub)} + proxy ${fmtMB(out.loaded.proxy)}) → ${(out.growthKb / 1024).toFixed(2)} MB per server (slope over 0…${opts.servers} servers ${(out.slopeKb / 1024).toFixed(2)} MB); ` +
        `after stopping them ${fmtMB(out.after.total)}`,
    );
    return out;
  } finally {
    await sys.stop();
    if (!opts.keep) sys.cleanup();
  }
}

async function main() {
  busyAtStart = await waitQuiet({ maxS: opts.waitQuiet });
  const users = createUsers(opts.servers);
  const results = {};
  await withCleanup(removeUsers, async () => {
    console.log(`machine: ${machineNote()}; load ${loadAvg()}`);
    if (systems.has('labhub')) results.labhub = await measure(() => startLabHub(), users);
    if (systems.has('jupyterhub')) results.jupyterhub = await measure(() => startJupyterHub(), users);
  });
  report(results);
}

function report(results) {
  const lab = results.labhub;
  const idleOk = lab ? Math.max(lab.fresh.total, lab.idle.total) < TARGET_IDLE_KB : null;
  const growthOk = lab ? lab.growthKb < TARGET_GROWTH_KB : null;
  const slopeOk = lab ? lab.slopeKb < TARGET_GROWTH_KB : null;
  if (lab) console.log(`targets: idle < 110 MB: ${idleOk ? 'met' : 'NOT met'}; growth < 1 MB/server: ${growthOk ? 'met' : 'NOT met'} (difference), ${slopeOk ? 'met' : 'NOT met'} (slope)`);
  if (opts.noWrite) return;
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const rs = Object.values(results);
  const cell = (s) => `${fmtMB(s.total)} (${fmtMB(s.hub)} + ${fmtMB(s.proxy)})`;
  const lines = [
    `### Run ${date}`,
    '',
    `Machine: ${machineNote()}; machine CPU busy before the run ${Math.round(busyAtStart * 100)} %. ${opts.servers} servers; RSS = hub + proxy (VmRSS, median of 5 samples).`,
    '',
    `| figure | ${rs.map((r) => r.name).join(' | ')} |`,
    `|---|${rs.map(() => '---').join('|')}|`,
    `| idle right after start: total (hub + proxy) | ${rs.map((r) => cell(r.fresh)).join(' | ')} |`,
    `| idle after one login/stop/logout | ${rs.map((r) => cell(r.idle)).join(' | ')} |`,
    `| with ${opts.servers} running servers (users logged in, OAuth done) | ${rs.map((r) => cell(r.loaded)).join(' | ')} |`,
    `| growth per running server: (with ${opts.servers} − idle after one login) / ${opts.servers} | ${rs.map((r) => `${(r.growthKb / 1024).toFixed(2)} MB`).join(' | ')} |`,
    `| growth per running server: least-squares slope of RSS after each of the ${opts.servers} logins | ${rs.map((r) => `${(r.slopeKb / 1024).toFixed(2)} MB`).join(' | ')} |`,
    `| after stopping them all | ${rs.map((r) => cell(r.after)).join(' | ')} |`,
    `| for comparison: private memory (USS, not shared with other processes) idle / with ${opts.servers} servers | ${rs.map((r) => `${fmtMB(r.idle.uss)} / ${fmtMB(r.loaded.uss)}`).join(' | ')} |`,
    `| time for the ${opts.servers} logins, one after another | ${rs.map((r) => `${r.startS.toFixed(1)} s`).join(' | ')} |`,
  ];
  if (lab) {
    lines.push(
      '',
      '| target (LabHub) | limit | measured | met |',
      '|---|---|---|---|',
      `| hub + proxy idle (larger of the two idle figures) | 110 MB | ${fmtMB(Math.max(lab.fresh.total, lab.idle.total))} | ${yesNo(idleOk)} |`,
      `| growth per running server (difference) | 1 MB | ${(lab.growthKb / 1024).toFixed(2)} MB | ${yesNo(growthOk)} |`,
      `| growth per running server (slope) | 1 MB | ${(lab.slopeKb / 1024).toFixed(2)} MB | ${yesNo(slopeOk)} |`,
    );
  }
  appendRun('Memory', INTRO, lines.join('\n'));
  console.log('results appended to bench/RESULTS.md (## Memory)');
}

const INTRO = `\`node bench/memory-hub.mjs\` (see README). Resident memory (VmRSS) of the hub process plus the proxy
process: LabHub's \`labhub serve\` and the \`labhub proxy\` it starts; JupyterHub 3.0's \`jupyterhub\` and its
configurable-http-proxy 4.5.3. Each system runs alone. Servers are started by the full browser journey
(login, spawn, OAuth through the proxy), one user after another, and kept running for the measurement.`;

let busyAtStart = 0;
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
