#!/usr/bin/env node
/**
 * Class start: N students (default 30) post the login form at the same moment; time until every one
 * of them has a ready notebook (GET /user/<name>/api/status 200 through the proxy), LabHub vs
 * JupyterHub 3.0, each system alone (see bench/README.md). Report only, no target. Run as root:
 *
 *   npm run build && node bench/login-class-start.mjs [--users 30] [--systems labhub,jupyterhub] [--no-write]
 */
import { parseArgs, systemsOf } from './lib/labhub-bench-args.mjs';
import { appendRun, LOGIN_INTRO } from './lib/labhub-bench-results.mjs';
import { BenchBrowser } from './lib/labhub-bench-browser.mjs';
import { cpuMs, createUsers, fmtS, loadAvg, machineNote, waitQuiet, median, quantile, removeUsers, sleep, withCleanup } from './lib/labhub-bench-sys.mjs';
import { startJupyterHub } from './lib/jupyterhub-hub.mjs';
import { startLabHub } from './lib/labhub-hub.mjs';

const opts = parseArgs(process.argv.slice(2), { users: 30, systems: 'labhub,jupyterhub', timeout: 180, noWrite: false, waitQuiet: 60, keep: false });
const systems = systemsOf(opts.systems);

async function classStart(start, users) {
  const sys = await start();
  try {
    // warm-up: one journey, not counted
    const w = new BenchBrowser(sys.url);
    await w.loginToNotebook(users[0].name, users[0].password, await w.openLoginPage(users[0].name));
    await w.stopAndLogout(users[0].name);
    await sleep(2000);

    // every student is on the login page; then all press "Log in" together
    const browsers = await Promise.all(
      users.map(async (u) => {
        const b = new BenchBrowser(sys.url);
        return { b, u, form: await b.openLoginPage(u.name) };
      }),
    );
    const { hub, proxy } = sys.pids();
    const cpu0 = cpuMs(hub) + cpuMs(proxy);
    const t0 = performance.now();
    const results = await Promise.all(
      browsers.map(async ({ b, u, form }) => {
        let timer;
        const timeout = new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`no notebook after ${opts.timeout} s`)), opts.timeout * 1000);
        });
        try {
          const r = await Promise.race([b.loginToNotebook(u.name, u.password, form), timeout]);
          return { ok: true, readyAt: performance.now() - t0, ms: r.ms };
        } catch (err) {
          return { ok: false, at: performance.now() - t0, error: String(err.message ?? err).slice(0, 200) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const hubCpuS = (cpuMs(hub) + cpuMs(proxy) - cpu0) / 1000;
    const ok = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok);
    const out = {
      name: sys.name,
      n: users.length,
      ok: ok.length,
      failed: failed.length,
      allReady: ok.length ? Math.max(...ok.map((r) => r.readyAt)) : NaN,
      first: ok.length ? Math.min(...ok.map((r) => r.readyAt)) : NaN,
      median: median(ok.map((r) => r.readyAt)),
      p90: quantile(ok.map((r) => r.readyAt), 0.9),
      hubCpuS,
      errors: [...new Set(failed.map((r) => r.error))].slice(0, 3),
    };
    console.log(
      `${sys.name}: ${out.ok}/${out.n} ready; first ${fmtS(out.first)}, median ${fmtS(out.median)}, p90 ${fmtS(out.p90)}, all ready ${fmtS(out.allReady)}; ` +
        `hub+proxy CPU ${out.hubCpuS.toFixed(1)} s${out.failed ? `; failures: ${out.errors.join(' | ')}` : ''}`,
    );
    await Promise.allSettled(browsers.map(({ b, u }) => b.stopAndLogout(u.name, { timeoutMs: 60_000 })));
    return out;
  } finally {
    await sys.stop();
    if (!opts.keep) sys.cleanup();
  }
}

async function main() {
  busyAtStart = await waitQuiet({ maxS: opts.waitQuiet });
  const users = createUsers(opts.users);
  const results = [];
  await withCleanup(removeUsers, async () => {
    console.log(`machine: ${machineNote()}; load ${loadAvg()}`);
    if (systems.has('labhub')) results.push(await classStart(() => startLabHub(), users));
    await sleep(3000);
    if (systems.has('jupyterhub')) results.push(await classStart(() => startJupyterHub(), users));
  });
  if (opts.noWrite) return;
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const lines = [
    `#### Class start, ${opts.users} students at once — run ${date}`,
    '',
    `Machine: ${machineNote()}; machine CPU busy before the run ${Math.round(busyAtStart * 100)} %. Report only (no target). Times from the moment all press "Log in".`,
    '',
    `| figure | ${results.map((r) => r.name).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    `| students with a ready notebook | ${results.map((r) => `${r.ok}/${r.n}`).join(' | ')} |`,
    `| all ready after | ${results.map((r) => fmtS(r.allReady)).join(' | ')} |`,
    `| first / median / p90 student ready | ${results.map((r) => `${fmtS(r.first)} / ${fmtS(r.median)} / ${fmtS(r.p90)}`).join(' | ')} |`,
    `| hub + proxy CPU used | ${results.map((r) => `${r.hubCpuS.toFixed(1)} s`).join(' | ')} |`,
    `| errors | ${results.map((r) => (r.errors.length ? r.errors.join('; ').replace(/\|/g, '/') : '–')).join(' | ')} |`,
  ];
  appendRun('Login to notebook', LOGIN_INTRO, lines.join('\n'));
  console.log('results appended to bench/RESULTS.md (## Login to notebook)');
}

let busyAtStart = 0;
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
