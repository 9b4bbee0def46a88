/**
 * The backup API and CLI (issue 5) against the real `labhub serve`, real restic and real Linux
 * users: an admin backs everyone up and sees it recorded; a student lists and browses their own
 * snapshots and restores beside or (after confirming the overwrite list) in place, and gets the
 * 404 of a missing user for anybody else's, with a token or a session (403 without either);
 * `labhub backup run --wait|list|restore` through the cli-token.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { LABHUB_MAIN, LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';
import { hubApi } from '../helpers/hub-api.js';

let lab: LabhubProcess;
let admin: TestUser;
let ann: TestUser;
let bob: TestUser;
let adminToken: string;
let annToken: string;
let backupDir: string;
const NOTEBOOK = JSON.stringify({ cells: [{ cell_type: 'code', source: 'print("ünïcode")' }], nbformat: 4, nbformat_minor: 5 });

const { api, tokenFor } = hubApi(() => lab.publicUrl);

/** Writes a file in a user's home, owned by them. */
function put(user: TestUser, rel: string, content: string): void {
  const file = join(user.home, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, content);
  for (let p = file; p !== user.home; p = join(p, '..')) chownSync(p, user.uid, user.gid);
}

async function waitForRun(id: string): Promise<any> {
  for (;;) {
    const res = await api(`/labhub/backup/runs/${id}`, { token: adminToken });
    expect(res.status).toBe(200);
    const run = await res.json();
    if (run.ended) return run;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const labhub = (...args: string[]) => spawnSync(process.execPath, [LABHUB_MAIN, ...args, '--config', lab.configFile], { encoding: 'utf8', timeout: 120_000 });

beforeAll(async () => {
  admin = createTestUser('bkadm');
  ann = createTestUser('bkann');
  bob = createTestUser('bkbob');
  put(ann, 'notebooks/analysis.ipynb', NOTEBOOK);
  put(ann, 'notes.txt', 'first version\n');
  put(bob, 'secret.txt', 'bob only\n');
  backupDir = mkdtempSync(join(tmpdir(), 'labhub-backup-it-'));
  writeFileSync(join(backupDir, 'password'), 'integration-test-password\n', { mode: 0o600 });
  lab = await new LabhubProcess({
    config: {
      auth: { adminUsers: [admin.name] },
      culler: { enabled: false },
      backup: { repository: join(backupDir, 'repo'), passwordFile: join(backupDir, 'password'), schedule: '0 3 1 1 *' },
    },
  }).init();
  await lab.startServe();
  adminToken = await tokenFor(admin);
  annToken = await tokenFor(ann);
  expect((await api('/users', { method: 'POST', token: adminToken, body: { usernames: [bob.name] } })).status).toBe(201);
}, 180_000);

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
  if (backupDir) rmSync(backupDir, { recursive: true, force: true });
});

describe('backups through the API', () => {
  it('answers a student before the first backup with no snapshots, not a repository error', async () => {
    const res = await api(`/users/${ann.name}/backups`, { token: annToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });

  it('runs a backup of every user for an admin, one at a time, and records it', async () => {
    const res = await api('/labhub/backup/run', { method: 'POST', token: adminToken, body: {} });
    expect(res.status).toBe(202);
    const started = await res.json();
    expect(started).toMatchObject({ kind: 'backup', trigger: 'manual', by: admin.name, status: 'running' });
    // one run at a time
    expect((await api('/labhub/backup/run', { method: 'POST', token: adminToken, body: {} })).status).toBe(409);
    const done = await waitForRun(started.id);
    expect(done.status, JSON.stringify(done)).toBe('ok');
    for (const u of [ann, bob]) expect(done.results.find((r: any) => r.user === u.name)).toMatchObject({ status: 'ok', snapshotId: expect.any(String) });
    const status = await (await api('/labhub/backup', { token: adminToken })).json();
    expect(status.running).toBeNull();
    expect(status.lastRuns[0]).toMatchObject({ id: started.id, status: 'ok' });
    expect(status.users.find((u: any) => u.user === ann.name).lastSuccess).toEqual(expect.any(String));
    expect(status.stale).not.toContain(ann.name);
    expect(status.repository).toBe(join(backupDir, 'repo'));
    const dash = await (await api('/labhub/status', { token: adminToken })).json();
    expect(dash.backup).toMatchObject({ enabled: true, lastRun: { id: started.id, status: 'ok' }, failures: [] });
    const runs = await (await api('/labhub/backup/runs?limit=5', { token: adminToken })).json();
    expect(runs.map((r: any) => r.id)).toContain(started.id);
  });

  it('is admin only for status, settings, runs and checks', async () => {
    for (const [method, path] of [['GET', '/labhub/backup'], ['PATCH', '/labhub/backup/settings'], ['POST', '/labhub/backup/run'], ['POST', '/labhub/backup/check'], ['GET', '/labhub/backup/runs']]) {
      const body = method === 'GET' ? undefined : {};
      expect((await api(path!, { method, token: annToken, body })).status, `${method} ${path}`).toBe(403);
      expect((await api(path!, { method, body })).status, `anonymous ${method} ${path}`).toBe(403);
    }
  });

  it('validates settings like the other settings (400 with problems) and applies good ones', async () => {
    const bad = await api('/labhub/backup/settings', { method: 'PATCH', token: adminToken, body: { schedule: 'every night', retention: { daily: -1 }, color: 'red' } });
    expect(bad.status).toBe(400);
    const fields = (await bad.json()).problems.map((p: any) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['schedule', 'retention.daily']));
    const good = await api('/labhub/backup/settings', { method: 'PATCH', token: adminToken, body: { staleDays: 3, excludes: ['.cache', '*.tmp'] } });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ staleDays: 3, excludes: ['.cache', '*.tmp'] });
  });

  it("lets a student list and browse only their own snapshots: anybody else's are 404, no auth 403", async () => {
    const own = await api(`/users/${ann.name}/backups`, { token: annToken });
    expect(own.status).toBe(200);
    const snaps = await own.json();
    expect(snaps.length).toBeGreaterThanOrEqual(1);
    expect(snaps[0]).toMatchObject({ user: ann.name, id: expect.any(String) });
    const files = await (await api(`/users/${ann.name}/backups/${snaps[0].id}/files?path=/notebooks`, { token: annToken })).json();
    expect(files).toEqual([expect.objectContaining({ name: 'analysis.ipynb', path: '/notebooks/analysis.ipynb', type: 'file', size: Buffer.byteLength(NOTEBOOK) })]);

    const bobSnaps = await (await api(`/users/${bob.name}/backups`, { token: adminToken })).json();
    expect(bobSnaps.length).toBeGreaterThanOrEqual(1);
    const browser = new CookieClient(lab.publicUrl);
    await browser.login(ann.name, ann.password);
    const session = JSON.parse((await browser.raw('/hub/api/labhub/session', { headers: { Referer: `${lab.publicUrl}/hub/restore` } })).body);
    const asAnn = (path: string, method = 'GET', body?: unknown) =>
      browser.raw(`/hub/api${path}`, {
        method,
        headers: { Referer: `${lab.publicUrl}/hub/restore`, 'Content-Type': 'application/json', 'X-XSRFToken': session.xsrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await asAnn(`/users/${ann.name}/backups`)).status).toBe(200);
    const other = [
      [`/users/${bob.name}/backups`, 'GET'],
      [`/users/${bob.name}/backups/${bobSnaps[0].id}/files?path=/`, 'GET'],
      [`/users/${bob.name}/backups/${bobSnaps[0].id}/restore`, 'POST', { path: '/secret.txt', mode: 'side' }],
      [`/users/lhtestnosuchuser/backups`, 'GET'],
    ] as const;
    for (const [path, method, body] of other) {
      const viaToken = await api(path, { method, token: annToken, body });
      expect(viaToken.status, `token ${method} ${path}`).toBe(404);
      expect((await viaToken.json()).status).toBe(404);
      expect((await asAnn(path, method, body)).status, `session ${method} ${path}`).toBe(404);
      expect((await api(path, { method, body })).status, `anonymous ${method} ${path}`).toBe(403);
    }
    // a session write without the CSRF token is refused
    const noXsrf = await browser.raw(`/hub/api/users/${ann.name}/backups/${snaps[0].id}/restore`, {
      method: 'POST',
      headers: { Referer: `${lab.publicUrl}/hub/restore`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ path: '/notes.txt', mode: 'side' }),
    });
    expect(noXsrf.status).toBe(403);
    expect(readdirSync(bob.home).some((n) => n.startsWith('restored-'))).toBe(false);
  });

  it('restores beside the home by default, owned by the student, with the same bytes', async () => {
    const [snap] = await (await api(`/users/${ann.name}/backups`, { token: annToken })).json();
    const res = await api(`/users/${ann.name}/backups/${snap.id}/restore`, { method: 'POST', token: annToken, body: { path: '/notebooks' } });
    expect(res.status).toBe(200);
    const result = await res.json();
    expect(result).toMatchObject({ user: ann.name, mode: 'side', path: '/notebooks' });
    expect(result.target).toMatch(new RegExp(`^${ann.home}/restored-`));
    expect(result.files).toBeGreaterThanOrEqual(1);
    const copy = join(result.target, 'notebooks', 'analysis.ipynb');
    expect(readFileSync(copy, 'utf8')).toBe(NOTEBOOK);
    expect(statSync(copy).uid).toBe(ann.uid);
    expect(statSync(result.target).uid).toBe(ann.uid);
  });

  it('restores in place only after the plan naming what is overwritten is confirmed', async () => {
    put(ann, 'notes.txt', 'changed since the backup\n');
    const [snap] = await (await api(`/users/${ann.name}/backups`, { token: annToken })).json();
    const url = `/users/${ann.name}/backups/${snap.id}/restore`;
    const first = await api(url, { method: 'POST', token: annToken, body: { path: '/notes.txt', mode: 'in-place' } });
    expect(first.status).toBe(409);
    const { plan } = await first.json();
    expect(plan).toMatchObject({ user: ann.name, mode: 'in-place', target: ann.home, overwrite: ['/notes.txt'], confirmToken: expect.any(String) });
    expect(readFileSync(join(ann.home, 'notes.txt'), 'utf8')).toBe('changed since the backup\n');
    const wrong = await api(url, { method: 'POST', token: annToken, body: { path: '/notes.txt', mode: 'in-place', confirmToken: 'not-the-token' } });
    expect(wrong.status).toBe(409);
    expect(readFileSync(join(ann.home, 'notes.txt'), 'utf8')).toBe('changed since the backup\n');
    const ok = await api(url, { method: 'POST', token: annToken, body: { path: '/notes.txt', mode: 'in-place', confirmToken: plan.confirmToken } });
    expect(ok.status).toBe(200);
    expect(readFileSync(join(ann.home, 'notes.txt'), 'utf8')).toBe('first version\n');
    expect(statSync(join(ann.home, 'notes.txt')).uid).toBe(ann.uid);
  });
});

describe('labhub backup (CLI)', () => {
  it('runs and waits, lists runs and snapshots, restores, and asks before overwriting', () => {
    const run = labhub('backup', 'run', ann.name, '--wait');
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/backup run \S+: ok/);
    expect(run.stdout).toContain(ann.name);
    const list = labhub('backup', 'list');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^RUN\s+KIND\s+STARTED\s+STATUS/);
    expect(list.stdout.split('\n').length).toBeGreaterThanOrEqual(3);
    const snaps = labhub('backup', 'list', ann.name, '--json');
    expect(snaps.status, snaps.stderr).toBe(0);
    expect(JSON.parse(snaps.stdout).length).toBeGreaterThanOrEqual(2);

    put(ann, 'notes.txt', 'changed again\n');
    const ask = labhub('backup', 'restore', ann.name, 'latest', '/notes.txt', '--in-place');
    expect(ask.status).toBe(1);
    expect(ask.stdout).toContain('/notes.txt');
    expect(ask.stdout).toContain('--yes');
    expect(readFileSync(join(ann.home, 'notes.txt'), 'utf8')).toBe('changed again\n');
    const yes = labhub('backup', 'restore', ann.name, 'latest', '/notes.txt', '--in-place', '--yes');
    expect(yes.status, yes.stderr).toBe(0);
    expect(readFileSync(join(ann.home, 'notes.txt'), 'utf8')).toBe('first version\n');
    const side = labhub('backup', 'restore', ann.name, 'latest', 'notebooks');
    expect(side.status, side.stderr).toBe(0);
    expect(side.stdout).toMatch(new RegExp(`into ${ann.home}/restored-`));

    expect(labhub('backup', 'frobnicate').status).toBe(2);
    expect(labhub('backup', 'restore', ann.name).status).toBe(2);
    const missing = labhub('backup', 'list', 'lhtestnosuchuser');
    expect(missing.status).toBe(1);
  });
});
