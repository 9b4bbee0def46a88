#!/usr/bin/env node
/**
 * Login → notebook ready, LabHub vs JupyterHub 3.0, with the single-user server's own start-up
 * measured in the same run (see bench/README.md). Run as root on a quiet machine:
 *
 *   npm run build && node bench/login-notebook.mjs [--rounds 10] [--systems labhub,jupyterhub] [--no-write]
 *
 * Each round (users alternate, the order of the three measurements rotates):
 *  - baseline: exec jupyterhub-singleuser as the user against a fake hub API → first HTTP answer;
 *  - per hub: a fresh scripted browser opens /user/<name>/tree/, lands on the login form, posts it
 *    (t = 0), follows the whole flow (spawn, spawn-pending + progress stream, OAuth through the
 *    proxy) until GET /user/<name>/api/status answers 200 through the proxy; then stops the server
 *    from the home page and logs out (not timed).
 * Target (issue 2): LabHub median ≤ baseline median + 0.25 s, and the hub's own share < 100 ms.
 */
import { appendRun, LOGIN_INTRO } from './lib/labhub-bench-results.mjs';
import { parseArgs, systemsOf } from './lib/labhub-bench-args.mjs';
import { BenchBrowser, formatTrace } from './lib/labhub-bench-browser.mjs';
import { cpuMs, createUsers, fmtMs, fmtS, loadAvg, machineNote, waitQuiet, median, removeUsers, sleep, withCleanup, yesNo } from './lib/labhub-bench-sys.mjs';
import { startJupyterHub } from './lib/jupyterhub-hub.mjs';
import { singleUserStartup, startFakeHub } from './lib/jupyterhub-singleuser-baseline.mjs';
import { startLabHub } from './lib/labhub-hub.mjs';
import { fileSize, readFrom, singleUserRequestMs, singleUserStartFromLog } from './lib/labhub-bench-logs.mjs';

const opts = parseArgs(process.argv.slice(2), { rounds: 10, systems: 'labhub,jupyterhub', noWrite: false, waitQuiet: 60, labhubLogLevel: '', verbose: false, keep: false });
const systems = systemsOf(opts.systems);

const TARGET_OVER_BASELINE_MS = 250;
const TARGET_HUB_SHARE_MS = 100;

async function oneLogin(sys, user) {
  const { hub, proxy } = sys.pids();
  const b = new BenchBrowser(sys.url, { cpu: () => cpuMs(hub) + cpuMs(proxy) });
  const form = await b.openLoginPage(user.name);
  const suLog = sys.singleUserLog(user.name);
  const suLogAt = fileSize(suLog);
  const cpu0 = cpuMs(hub) + cpuMs(proxy);
  const r = await b.loginToNotebook(user.name, user.password, form);
  const hubCpuMs = cpuMs(hub) + cpuMs(proxy) - cpu0;
  const spawnLog = sys.spawnTimes().filter((s) => s.user === user.name).at(-1);
  const suText = readFrom(suLog, suLogAt);
  const su = singleUserStartFromLog(suText);
  await b.stopAndLogout(user.name);
  return { ...r, spawnMs: spawnLog?.ms ?? null, hubCpuMs, suMs: su?.ms ?? NaN, suReqMs: singleUserRequestMs(suText, user.name) };
}

async function main() {
  busyAtStart = await waitQuiet({ maxS: opts.waitQuiet });
  const users = createUsers(2);
  const hubs = {};
  let fake = null;
  const cleanup = async () => {
    for (const h of Object.values(hubs)) {
      await h.stop().catch((e) => console.error(`stopping ${h.name}:`, e.message));
      if (!opts.keep) h.cleanup();
      else console.log(`kept ${h.name} files in ${h.dir}`);
    }
    await fake?.close();
    removeUsers();
  };
  await withCleanup(cleanup, async () => {
    fake = await startFakeHub();
    if (systems.has('labhub')) hubs.labhub = await startLabHub({ logLevel: opts.labhubLogLevel || undefined });
    if (systems.has('jupyterhub')) hubs.jupyterhub = await startJupyterHub();
    console.log(`machine: ${machineNote()}; load ${loadAvg()}`);
    for (const h of Object.values(hubs)) console.log(`${h.name} at ${h.url} (files in ${h.dir})`);

    // warm-up, not counted: page cache for Python's imports, the hubs' first-request paths
    for (const u of users) await (await singleUserStartup(u, fake)).stop();
    for (const h of Object.values(hubs)) await oneLogin(h, users[0]);

    const kinds = ['baseline', ...Object.keys(hubs)];
    const rows = [];
    for (let round = 0; round < opts.rounds; round++) {
      const user = users[round % users.length];
      const order = kinds.map((_, i) => kinds[(i + round) % kinds.length]);
      const row = { round: round + 1, user: user.name };
      for (const kind of order) {
        await sleep(300);
        if (kind === 'baseline') {
          const s = await singleUserStartup(user, fake);
          await s.stop();
          row.baseline = s;
        } else {
          row[kind] = await oneLogin(hubs[kind], user);
          if (opts.verbose) console.log(`--- ${hubs[kind].name} round ${round + 1}\n${formatTrace(row[kind].trace)}\n${row[kind].marks.events?.join('\n') ?? ''}`);
        }
      }
      rows.push(row);
      console.log(
        `round ${String(round + 1).padStart(2)} ${user.name}: singleuser ${fmtS(row.baseline.ms)} (version probe at ${fmtMs(row.baseline.probeMs)}, ${row.baseline.cpuS?.toFixed(2)} CPU-s)` +
          Object.keys(hubs).map((k) => `; ${hubs[k].name} ${fmtS(row[k].ms)} (spawn→ready in hub log ${fmtMs(row[k].spawnMs)})`).join(''),
      );
    }
    report(rows, hubs);
  });
}

function stepSummary(rows, kind) {
  const pick = (f) => median(rows.map((r) => f(r[kind])));
  // the spawn request, and the first request to /hub/user/… after it: the browser has seen "ready"
  const spawnIdx = (r) => r.trace.findIndex((e) => /^\/hub\/spawn\//.test(e.path));
  const readyAt = (r) => r.trace.find((e, i) => i > spawnIdx(r) && /^\/(hub\/)?user\//.test(e.path))?.start;
  return {
    total: pick((r) => r.ms),
    login: pick((r) => r.trace[0]?.ms),
    loginCpu: pick((r) => r.trace[0]?.cpu),
    beforeSpawn: pick((r) => r.trace[spawnIdx(r)]?.start),
    spawnToReady: pick((r) => readyAt(r) - r.trace[spawnIdx(r)]?.start),
    afterReady: pick((r) => r.ms - readyAt(r)),
    viaPending: rows.filter((r) => r[kind].marks.pendingPage !== undefined).length,
    spawnLog: pick((r) => r.spawnMs),
    cpuMs: pick((r) => r.hubCpuMs),
    share: median(rows.map((r) => r[kind].ms - r.baseline.ms)),
    // the same login's own single-user start-up (exec → listening, from the logs) taken out
    ownShare: pick((r) => r.ms - r.suMs),
    suMs: pick((r) => r.suMs),
    suReqMs: pick((r) => r.suReqMs),
    // what is left when the PAM check (the login POST) and the server's own request handling are also taken out
    rest: pick((r) => r.ms - r.suMs - r.suReqMs - r.trace[0].ms),
    requests: median(rows.map((r) => r[kind].trace.length)),
  };
}

function report(rows, hubs) {
  const base = median(rows.map((r) => r.baseline.ms));
  const baseProbe = median(rows.map((r) => r.baseline.probeMs));
  const baseCpu = median(rows.map((r) => r.baseline.cpuS));
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const sums = Object.fromEntries(Object.keys(hubs).map((k) => [k, stepSummary(rows, k)]));
  const lab = sums.labhub;
  const overOk = lab ? lab.total <= base + TARGET_OVER_BASELINE_MS : null;
  const shareOk = lab ? lab.share < TARGET_HUB_SHARE_MS : null;
  const ownShareOk = lab ? lab.ownShare < TARGET_HUB_SHARE_MS : null;

  console.log(`\nsingle-user start-up alone: median ${fmtS(base)} (version probe after ${fmtMs(baseProbe)}, ${baseCpu.toFixed(2)} CPU-s by first answer)`);
  for (const [k, s] of Object.entries(sums)) {
    console.log(
      `${hubs[k].name}: login → notebook median ${fmtS(s.total)}; hub share: vs single-user alone (paired) ${fmtMs(s.share)}, vs its own start-up in the logs ${fmtMs(s.ownShare)} (start-up ${fmtMs(s.suMs)}), without login POST and the server's own request time ${fmtMs(s.rest)}; ` +
        `login POST ${fmtMs(s.login)} (hub CPU ${fmtMs(s.loginCpu)}), post → spawn request ${fmtMs(s.beforeSpawn)}, spawn request → browser sees ready ${fmtMs(s.spawnToReady)} ` +
        `(via progress page ${s.viaPending}/${rows.length}), ready → api/status 200 ${fmtMs(s.afterReady)}, spawn → ready (hub log) ${fmtMs(s.spawnLog)}, ` +
        `hub+proxy CPU ${fmtMs(s.cpuMs)}, ${s.requests} requests`,
    );
  }
  if (lab) console.log(`targets: LabHub ≤ single-user + 250 ms: ${overOk ? 'met' : 'NOT met'}; hub share < 100 ms: ${shareOk ? 'met' : 'NOT met'} (paired with single-user alone), ${ownShareOk ? 'met' : 'NOT met'} (from the logs)`);
  if (opts.noWrite) return;

  const col = (f) => Object.keys(hubs).map((k) => f(sums[k], k));
  const lines = [
    `### Run ${date}`,
    '',
    `Machine: ${machineNote()}; machine CPU busy before the run ${Math.round(busyAtStart * 100)} %. ${rows.length} rounds, users alternating, order rotating; medians.`,
    '',
    `| figure | single-user alone | ${col((_, k) => hubs[k].name).join(' | ')} |`,
    `|---|---|${col(() => '---').join('|')}|`,
    `| login → notebook ready (median) | ${fmtS(base)} | ${col((s) => fmtS(s.total)).join(' | ')} |`,
    `| min / max | ${fmtS(Math.min(...rows.map((r) => r.baseline.ms)))} / ${fmtS(Math.max(...rows.map((r) => r.baseline.ms)))} | ${col((_, k) => `${fmtS(Math.min(...rows.map((r) => r[k].ms)))} / ${fmtS(Math.max(...rows.map((r) => r[k].ms)))}`).join(' | ')} |`,
    `| hub's own share: total − single-user alone (paired per round, median) | – | ${col((s) => fmtMs(s.share)).join(' | ')} |`,
    `| hub's own share: total − that login's own single-user start-up (exec → "is running at", from the logs; median) | – | ${col((s) => `${fmtMs(s.ownShare)} (start-up ${fmtMs(s.suMs)})`).join(' | ')} |`,
    `| total median − single-user median | – | ${col((s) => fmtMs(s.total - base)).join(' | ')} |`,
    `| spawn → ready, from the hub's log | – | ${col((s) => fmtMs(s.spawnLog)).join(' | ')} |`,
    `| of which: login POST (PAM password check, account lookup, session) / single-user server answering the journey's requests (its log) | – | ${col((s) => `${fmtMs(s.login)} / ${fmtMs(s.suReqMs)}`).join(' | ')} |`,
    `| hub's share without those two: total − start-up − login POST − server's request time (median) | – | ${col((s) => fmtMs(s.rest)).join(' | ')} |`,
    `| hub + proxy CPU time per login (all threads) | – | ${col((s) => fmtMs(s.cpuMs)).join(' | ')} |`,
    `| step: login POST (PAM check, session); hub CPU in it | – | ${col((s) => `${fmtMs(s.login)}; ${fmtMs(s.loginCpu)}`).join(' | ')} |`,
    `| step: t=0 → "start my server" request sent | – | ${col((s) => fmtMs(s.beforeSpawn)).join(' | ')} |`,
    `| step: spawn request → browser learns "ready" | – | ${col((s) => `${fmtMs(s.spawnToReady)} (${s.viaPending}/${rows.length} via progress page)`).join(' | ')} |`,
    `| step: ready → api/status 200 (redirects, OAuth through the proxy, tree page) | – | ${col((s) => fmtMs(s.afterReady)).join(' | ')} |`,
    `| requests in the journey | – | ${col((s) => String(s.requests)).join(' | ')} |`,
    `| single-user: version probe sent / CPU used by first answer | ${fmtMs(baseProbe)} / ${baseCpu.toFixed(2)} CPU-s | ${col(() => '').join(' | ')} |`,
  ];
  if (lab) {
    lines.push(
      '',
      `| target (LabHub) | limit | measured | met |`,
      `|---|---|---|---|`,
      `| median ≤ single-user start-up + 0.25 s | ${fmtS(base + TARGET_OVER_BASELINE_MS)} | ${fmtS(lab.total)} | ${yesNo(overOk)} |`,
      `| hub's own share < 100 ms: total − single-user alone, paired per round | 100 ms | ${fmtMs(lab.share)} | ${yesNo(shareOk)} |`,
      `| hub's own share < 100 ms: total − the same login's single-user start-up (logs) | 100 ms | ${fmtMs(lab.ownShare)} | ${yesNo(ownShareOk)} |`,
    );
  }
  appendRun('Login to notebook', LOGIN_INTRO, lines.join('\n'));
  console.log('results appended to bench/RESULTS.md (## Login to notebook)');
}



let busyAtStart = 0;
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
