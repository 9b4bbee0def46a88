#!/usr/bin/env node
// The admin GUI's Users table with many users, in headless Chromium against a real `labhub serve`:
// time to render the table (rows built; rows painted; and opening the view, fetch included) and
// time to apply a search (typed query → matching rows painted). Target: < 200 ms each.
// The hub's state is seeded with N hub users in 10 classes (no Linux accounts are needed to list
// them); the admin who logs in is a real Linux user `lhbenchadm1` (removed at the end).
// Usage (root, after npm run build): node bench/admin-table.mjs [--users 500] [--runs 7] [--no-write] [--keep]
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parseArgs } from './lib/labhub-bench-args.mjs';
import { appendRun } from './lib/labhub-bench-results.mjs';
import { checkBuild, REPO } from './lib/labhub-hub.mjs';
import { createUsers, freePorts, loadAvg, machineNote, median, removeUsers, sleep, withCleanup } from './lib/labhub-bench-sys.mjs';

const args = parseArgs(process.argv.slice(2), { users: 500, runs: 7, noWrite: false, keep: false });
const USERS = Number(args.users);
const RUNS = Number(args.runs);
const ADMIN_PREFIX = 'lhbenchadm';
const TARGET_MS = 200;
/** Search terms typed into the box, each followed by clearing it again (all rows back). */
const QUERIES = ['benchuser4', 'benchuser499', 'class-3', 'nomatch', ''];

function seedState(dataDir, admin) {
  const users = {};
  const groups = {};
  const now = Date.now();
  for (let c = 0; c < 10; c++) groups[`class-${c}`] = { name: `class-${c}`, users: [], created: new Date(now).toISOString() };
  for (let i = 0; i < USERS; i++) {
    const name = `benchuser${i}`;
    // activity spread over the last two days, some never
    const last = i % 7 === 0 ? null : new Date(now - ((i * 7919) % 172_800) * 1000).toISOString();
    users[name] = { name, created: new Date(now - 86_400_000).toISOString(), lastActivity: last, admin: false };
    groups[`class-${i % 10}`].users.push(name);
  }
  users[admin] = { name: admin, created: new Date(now).toISOString(), lastActivity: null, admin: true, adminByApi: true };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'state.json'), JSON.stringify({ schemaVersion: 1, users, groups }), { mode: 0o600 });
}

async function startHub(dir, admin) {
  const dataDir = join(dir, 'data');
  seedState(dataDir, admin);
  const [port, hubPort, apiPort] = await freePorts(3);
  const configFile = join(dir, 'labhub.json');
  const config = { ip: '127.0.0.1', port, dataDir, hub: { ip: '127.0.0.1', port: hubPort }, proxy: { apiIp: '127.0.0.1', apiPort }, auth: { adminUsers: [admin] } };
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
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(15_000)]);
      // `labhub serve` stops the proxy it started
    },
  };
}

/** Opens the Users view from another view; returns in-page timings of that render. */
async function openUsers(page) {
  await page.evaluate(() => (location.hash = '#/dashboard'));
  await page.waitForSelector('main[data-view="dashboard"]');
  return page.evaluate(async (users) => {
    const before = performance.getEntriesByName('labhub:users-paint').length;
    const t0 = performance.now();
    location.hash = '#/users';
    for (;;) {
      const paints = performance.getEntriesByName('labhub:users-paint');
      if (paints.length > before) {
        const paint = paints[paints.length - 1];
        const build = performance.getEntriesByName('labhub:users-render').at(-1);
        const rows = document.querySelectorAll('#users-table tbody tr').length;
        if (rows < users) throw new Error(`only ${rows} rows`);
        return { open: paint.startTime + paint.duration - t0, build: build.duration, paint: paint.duration, rows };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }, USERS + 1);
}

/** Types a query (one input event, as a paste) and times it until the filtered rows are painted. */
async function filterOnce(page, query) {
  return page.evaluate(async (q) => {
    const input = document.getElementById('user-search');
    const t0 = performance.now();
    input.value = q;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    const js = performance.now() - t0;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
    const painted = performance.now() - t0;
    const shown = [...document.querySelectorAll('#users-table tbody tr')].filter((tr) => !tr.hidden).length;
    return { js, painted, shown };
  }, query);
}

async function measure(url, admin) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${url}/hub/admin`);
    await page.waitForURL(/\/hub\/login/);
    await page.fill('#username', admin.name);
    await page.fill('#password', admin.password);
    await Promise.all([page.waitForURL((u) => u.pathname === '/hub/admin'), page.click('#login_submit')]);
    await page.waitForSelector('main[data-view]');
    await openUsers(page); // warm-up: code loaded and compiled once
    const renders = [];
    const filters = Object.fromEntries(QUERIES.map((q) => [q, []]));
    for (let r = 0; r < RUNS; r++) {
      renders.push(await openUsers(page));
      await page.waitForSelector('#users-table[data-ready="true"]');
      for (const q of QUERIES) filters[q].push(await filterOnce(page, q));
    }
    // the view polls every 3 s; each poll updates the 500 rows in place
    await page.evaluate(() => performance.clearMeasures('labhub:users-refresh'));
    await sleep(3000 * RUNS + 500);
    const refreshes = await page.evaluate(() => performance.getEntriesByName('labhub:users-refresh').map((e) => e.duration));
    return { renders, filters, refreshes };
  } finally {
    await browser.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'lhbench-admin-table-'));
let hub = null;
await withCleanup(
  async () => {
    await hub?.stop();
    removeUsers(ADMIN_PREFIX);
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  },
  async () => {
    checkBuild();
    removeUsers(ADMIN_PREFIX);
    const [admin] = createUsers(1, ADMIN_PREFIX);
    hub = await startHub(dir, admin.name);
    const note = `${machineNote()}, load average at start ${loadAvg()}`;
    const { renders, filters, refreshes } = await measure(hub.url, admin);

    const f = (ms) => `${ms.toFixed(1)} ms`;
    const med = (xs, k) => median(xs.map((x) => x[k]));
    const lines = [
      `### Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `Machine: ${note}. ${USERS} users (+ the admin), ${RUNS} runs, headless Chromium at 1280×800; medians.`,
      '',
      '| figure | median | worst | target |',
      '|---|---|---|---|',
      `| open the Users view: fetch + build + paint ${USERS} rows | ${f(med(renders, 'open'))} | ${f(Math.max(...renders.map((r) => r.open)))} | |`,
      `| render: build the ${USERS} rows (JS) | ${f(med(renders, 'build'))} | ${f(Math.max(...renders.map((r) => r.build)))} | |`,
      `| render: build + style, layout, paint | ${f(med(renders, 'paint'))} | ${f(Math.max(...renders.map((r) => r.paint)))} | < ${TARGET_MS} ms: **${med(renders, 'paint') < TARGET_MS ? 'met' : 'not met'}** |`,
    ];
    lines.push(`| live refresh: a poll's ${USERS} rows updated in place (JS; ${refreshes.length} polls) | ${f(median(refreshes))} | ${f(Math.max(...refreshes))} | |`);
    let worstFilter = 0;
    for (const q of QUERIES) {
      const xs = filters[q];
      const m = med(xs, 'painted');
      worstFilter = Math.max(worstFilter, m);
      lines.push(
        `| filter ${q ? `"${q}"` : 'cleared'} → ${xs[0].shown} rows shown: JS / painted | ${f(med(xs, 'js'))} / ${f(m)} | ${f(Math.max(...xs.map((x) => x.painted)))} | < ${TARGET_MS} ms: **${m < TARGET_MS ? 'met' : 'not met'}** |`,
      );
    }
    lines.push(
      '',
      `Targets (render and filter < ${TARGET_MS} ms with ${USERS} users): **${med(renders, 'paint') < TARGET_MS && worstFilter < TARGET_MS ? 'met' : 'not met'}**.`,
      '',
    );
    console.log(lines.join('\n'));
    if (!args.noWrite) {
      appendRun(
        'Admin GUI: users table',
        '`node bench/admin-table.mjs [--users 500] [--runs 7]`. A real `labhub serve` whose state is seeded with the users (hub users in 10 classes; no Linux accounts needed to list them); a real Linux admin logs in through the login form in headless Chromium (playwright-core) and opens `/hub/admin`. "Render" is timed in the page from just before the rows are built (after `GET /hub/api/labhub/users` answered) to the frame after they were painted (`requestAnimationFrame` + `setTimeout`); "open" adds the fetch, from the hash change. "Filter" sets the search box (one input event, as a paste) and times until the filtered rows are painted. Each run opens the view anew from the dashboard. "Live refresh" is the in-place update of every row when the view polls the hub (every 3 s).',
        lines.join('\n'),
      );
      console.log('results appended to bench/RESULTS.md (## Admin GUI: users table)');
    }
  },
);
