/**
 * Acceptance 1 and 2 of the launcher issue, in a real browser: with the default config the
 * student's server is forked by the pre-warmed launcher, and a notebook cell shows that it runs
 * as the student (uid, groups, home) with the spawn environment only (no root PATH, nothing of
 * the hub's). Then the launcher is killed (and kept dead while the student starts again): the
 * server starts cold and the same cell shows the same.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, removeGroup, type TestUser } from '../helpers/linux-users.js';

const GROUP = 'lhtestlwclass';
/**
 * Variables a server may have: the spawn environment (spec §1.1, with the legacy JPY_API_TOKEN)
 * and LANG/LC_ALL; PWD (the home) too, as a cold start placed in its cgroups by the `/bin/sh`
 * wrapper of hub/quota/cgroup-values.ts gets it from the shell.
 */
const SERVER_VARIABLES = /^(JUPYTERHUB_[A-Z_]+|JPY_API_TOKEN|PATH|HOME|USER|LOGNAME|SHELL|LANG|LC_ALL|PWD)$/;
let lab: LabhubProcess;
let student: TestUser;
let browser: Browser;
let context: BrowserContext;

function hubLog(msg: string): Array<Record<string, any>> {
  const file = join(lab.dataDir, 'data', 'logs', 'hub.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((l) => l.msg === msg);
}

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${lab.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pids of this hub's launcher processes (their command line names its socket). */
function launcherPids(): number[] {
  const sock = join(lab.dataDir, 'data', 'launcher', 'launcher.sock');
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(sock);
    } catch {
      return false;
    }
  });
}

/** Opens a new notebook from the tree page, runs the identity cell, returns what it printed. */
async function identityCell(): Promise<{ uid: number; gid: number; groups: number[]; cwd: string; env: Record<string, string>; serverEnv: string[] }> {
  const page = context.pages().find((p) => /\/tree/.test(p.url())) ?? (await context.newPage());
  if (!/\/tree/.test(page.url())) await page.goto(`${lab.publicUrl}/user/${student.name}/tree`);
  await page.waitForSelector('#notebook_list', { timeout: 60_000 });
  await page.click('#new-dropdown-button');
  const [nb] = await Promise.all([context.waitForEvent('page'), page.click('#kernel-python3 a')]);
  await nb.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), undefined, { timeout: 60_000 });
  await nb.click('.CodeMirror');
  // the kernel's own view, plus the server's environment (the kernel's parent, same user)
  await nb.keyboard.type(
    'import os, json; print("RESULT", json.dumps({"uid": os.getuid(), "gid": os.getgid(), "groups": sorted(os.getgroups()), "cwd": os.getcwd(), ' +
      '"env": dict(os.environ), "serverEnv": [e.split("=")[0] for e in open("/proc/%d/environ" % os.getppid()).read().split(chr(0)) if e]}))',
  );
  await nb.keyboard.press('Shift+Enter');
  const out = nb.locator('.output_area pre', { hasText: 'RESULT' });
  await out.waitFor({ timeout: 60_000 });
  const text = (await out.innerText()).replace(/^RESULT /, '');
  await nb.close();
  return JSON.parse(text);
}

function checkIdentity(r: Awaited<ReturnType<typeof identityCell>>): void {
  const expectedGroups = execFileSync('id', ['-G', student.name], { encoding: 'utf8' }).trim().split(/\s+/).map(Number).sort((a, b) => a - b);
  expect(r.uid).toBe(student.uid);
  expect(r.gid).toBe(student.gid);
  expect(r.groups).toEqual(expectedGroups);
  expect(r.cwd).toBe(student.home);
  expect(r.env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  expect(r.env.HOME).toBe(student.home);
  expect(r.env.USER).toBe(student.name);
  // nothing of root's or the hub's: labhub-process.ts gives the hub a canary variable
  expect(r.env.LABHUB_SECRET_CANARY).toBeUndefined();
  expect(r.env.LABHUB_LAUNCHER_SPACE).toBeUndefined();
  expect(r.serverEnv.filter((k) => !SERVER_VARIABLES.test(k))).toEqual([]);
  expect(r.serverEnv).toContain('JUPYTERHUB_API_TOKEN');
  if (r.serverEnv.includes('PWD')) expect(r.env.PWD).toBe(student.home);
}

/** Removes the (empty) server cgroups the hub left for these users: their servers were killed with the accounts. */
function removeUserCgroups(names: string[]): void {
  for (const controller of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    for (const name of names) {
      try {
        rmdirSync(`/sys/fs/cgroup/${controller}/labhub/${name}`);
      } catch {
        // not there, or not this controller
      }
    }
  }
}

beforeAll(async () => {
  student = createTestUser('lwe1', { groups: [GROUP] });
  lab = await new LabhubProcess().init();
  await lab.startServe();
  await waitFor('the pre-warmed launcher', () => hubLog('pre-warmed launcher ready').length > 0, 90_000);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'],
  });
  context = await browser.newContext();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await lab?.stop();
  removeAllTestUsers();
  removeUserCgroups([student?.name].filter(Boolean) as string[]);
  removeGroup(GROUP);
}, 120_000);

describe('student in a browser, server from the pre-warmed launcher', () => {
  it('logs in, lands in the notebook of a launcher-forked server, and a cell runs as the student with a clean environment', async () => {
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('response', (r) => r.status() >= 400 && failures.push(`${r.status()} ${new URL(r.url()).pathname}`));
    await page.goto(`${lab.publicUrl}/`);
    await page.waitForURL(/\/hub\/login/);
    await page.fill('#username', student.name);
    await page.fill('#password', student.password);
    await Promise.all([page.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 90_000 }), page.click('#login_submit')]);
    await page.waitForSelector('#notebook_list', { timeout: 30_000 });
    expect(failures).toEqual([]);
    const rec = lab.state().servers[student.name];
    expect(rec.state.via).toBe('launcher');
    checkIdentity(await identityCell());
  });

  it('with the launcher killed, the next start is a cold start and works the same', async () => {
    const { token } = JSON.parse(readFileSync(join(lab.dataDir, 'data', 'cli-token'), 'utf8')) as { token: string };
    const del = await fetch(`${lab.publicUrl}/hub/api/users/${student.name}/server`, { method: 'DELETE', headers: { authorization: `token ${token}` } });
    expect([202, 204]).toContain(del.status);
    await waitFor('the server to stop', () => lab.state().servers[student.name].status === 'stopped', 30_000);

    // kill the launcher, and every replacement the hub starts, until the new server runs
    const killed = new Set<number>();
    const killer = setInterval(() => {
      for (const pid of launcherPids()) {
        try {
          process.kill(pid, 'SIGKILL');
          killed.add(pid);
        } catch {
          // already gone
        }
      }
    }, 50);
    try {
      await waitFor('the launcher to be killed', () => killed.size > 0, 5_000);
      const page = context.pages().find((p) => /\/tree/.test(p.url()))!;
      await Promise.all([page.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 90_000 }), page.goto(`${lab.publicUrl}/hub/spawn/${student.name}`)]);
      await page.waitForSelector('#notebook_list', { timeout: 30_000 });
    } finally {
      clearInterval(killer);
    }
    const rec = lab.state().servers[student.name];
    expect(rec.status).toBe('running');
    expect(rec.state.via).toBe('cold');
    const cold = hubLog('starting the server cold').at(-1);
    expect(cold?.reason).toMatch(/launcher/);
    checkIdentity(await identityCell());
  });
});
