/**
 * Disk quotas in monitored mode (issue 6, acceptance 1 and the disk part of 4) against the real
 * `labhub serve`, real PAM users and real jupyterhub-singleuser: this kernel has no quota support,
 * so the hub must say why "enforced" is not in force and measure homes instead. A student past the
 * soft limit sees the warning; past the hard limit starting is refused (API and browser) with how
 * much to free; cleanup mode starts the server anyway; after deleting files it starts normally;
 * the measured figure matches `du`. A user in a group with a larger limit gets it. The CLI shows
 * and sets limits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { LABHUB_MAIN, LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, ensureGroup, removeGroup, removeTestUser, type TestUser } from '../helpers/linux-users.js';
import { hubApi } from '../helpers/hub-api.js';

const ADMIN_GROUP = 'lhtestqadmins';
const TEACHERS = 'lhtestqteach';
const M = 2 ** 20;
let lab: LabhubProcess;
let admin: TestUser;
let student: TestUser;
let teacher: TestUser;
let adminToken: string;
let studentToken: string;

const { api, tokenFor } = hubApi(() => lab.publicUrl);

/** Writes `mib` MiB of data as the student (their own file, counted in their home). */
function writeAs(user: TestUser, file: string, mib: number): void {
  execFileSync('runuser', ['-u', user.name, '--', 'dd', 'if=/dev/zero', `of=${join(user.home, file)}`, 'bs=1M', `count=${mib}`, 'status=none']);
}

const duBytes = (path: string) => Number(execFileSync('du', ['-s', '-x', '--block-size=1', path], { encoding: 'utf8' }).split('\t')[0]);

/** Asks for a scan and waits until the user's figure is newer than before. */
async function scanNow(user: string): Promise<{ bytes: number; state: string; message: string | null }> {
  const before = (await (await api(`/users/${user}/quota`, { token: adminToken })).json()).usage?.measuredAt ?? '';
  expect((await api('/labhub/quota/scan', { method: 'POST', token: adminToken, body: {} })).status).toBe(202);
  for (let i = 0; i < 100; i++) {
    const q = await (await api(`/users/${user}/quota`, { token: adminToken })).json();
    if (q.usage && q.usage.measuredAt !== before) return { bytes: q.usage.bytes, state: q.state, message: q.message };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('scan did not finish');
}

async function waitRunning(user: string, token: string): Promise<void> {
  for (let i = 0; i < 900; i++) {
    const m = await (await api(`/users/${user}`, { token })).json();
    if (m.server) return;
    if (!m.pending) throw new Error(`server not starting: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function stopServer(user: string, token: string): Promise<void> {
  const res = await api(`/users/${user}/server`, { method: 'DELETE', token });
  expect([202, 204]).toContain(res.status);
  for (let i = 0; i < 300; i++) {
    const m = await (await api(`/users/${user}`, { token })).json();
    if (!m.server && !m.pending) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const labhub = (...args: string[]) => spawnSync(process.execPath, [LABHUB_MAIN, ...args, '--config', lab.configFile], { encoding: 'utf8', timeout: 60_000 });

beforeAll(async () => {
  ensureGroup(ADMIN_GROUP);
  ensureGroup(TEACHERS);
  admin = createTestUser('qadm', { groups: [ADMIN_GROUP] });
  student = createTestUser('qstu');
  teacher = createTestUser('qtea', { groups: [TEACHERS] });
  lab = await new LabhubProcess({
    config: {
      auth: { adminGroups: [ADMIN_GROUP] },
      culler: { enabled: false },
      quota: { diskMode: 'enforced', scanIntervalMinutes: 60, defaults: { diskSoft: '20M', diskHard: '40M' }, groups: { [TEACHERS]: { diskSoft: '30M', diskHard: '60M' } } },
    },
  }).init();
  await lab.startServe();
  adminToken = await tokenFor(admin);
  studentToken = await tokenFor(student);
  await tokenFor(teacher);
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  for (const u of [admin, student, teacher]) if (u) removeTestUser(u.name);
  removeGroup(ADMIN_GROUP);
  removeGroup(TEACHERS);
  if (lab) rmSync(lab.dataDir, { recursive: true, force: true });
});

describe('monitored disk quota', () => {
  it('reports why "enforced" is not in force on this kernel', async () => {
    const res = await api('/labhub/quota', { token: adminToken });
    expect(res.status).toBe(200);
    const q = await res.json();
    expect(q.disk).toMatchObject({ configured: 'enforced', inForce: 'monitored' });
    expect(q.disk.reason).toMatch(/kernel quotas cannot be used/);
    expect(q.memory.inForce).toEqual(expect.any(String));
    expect(q.defaults).toMatchObject({ diskSoft: 20 * M, diskHard: 40 * M });
    expect((await api('/labhub/quota', { token: studentToken })).status).toBe(403);
  });

  it('sets small limits for a student (validated)', async () => {
    const bad = await api(`/labhub/quota/users/${student.name}`, { method: 'PUT', token: adminToken, body: { diskSoft: 'lots' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).problems[0].field).toBe('diskSoft');
    const res = await api(`/labhub/quota/users/${student.name}`, { method: 'PUT', token: adminToken, body: { diskSoft: '2M', diskHard: 4 * M } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user: student.name, limits: { diskSoft: 2 * M, diskHard: 4 * M }, sources: { diskSoft: 'user', diskHard: 'user' } });
  });

  it('warns past the soft limit on the home page; usage matches du within 1 %', async () => {
    writeAs(student, 'data1.bin', 3);
    const q = await scanNow(student.name);
    expect(q.state).toBe('over-soft');
    const du = duBytes(student.home);
    expect(Math.abs(q.bytes - du) / du).toBeLessThan(0.01);
    const browser = new CookieClient(lab.publicUrl);
    await browser.login(student.name, student.password);
    const home = await browser.get('/hub/home');
    expect(home.body).toContain('id="quota-warning"');
    expect(home.body).toContain('warning level of 2M');
    const own = await api(`/users/${student.name}/quota`, { token: studentToken });
    expect(await own.json()).toMatchObject({ state: 'over-soft', mode: 'monitored', limits: { diskHard: 4 * M } });
  });

  it('refuses to start past the hard limit (API and browser), with how much to free', async () => {
    writeAs(student, 'data2.bin', 3);
    expect((await scanNow(student.name)).state).toBe('over-hard');
    const res = await api(`/users/${student.name}/server`, { method: 'POST', token: studentToken });
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body.message).toMatch(/over your limit of 4M/);
    expect(body.message).toMatch(/Free at least/);
    expect(body.message).toMatch(/cleanup mode/);
    const browser = new CookieClient(lab.publicUrl);
    await browser.login(student.name, student.password);
    const page = await browser.get(`/hub/spawn/${student.name}`);
    expect(page.status).toBe(403);
    expect(page.body).toContain('id="quota-refused"');
    expect(page.body).toContain(`href="/hub/spawn/${student.name}?cleanup=1"`);
    const home = await browser.get('/hub/home');
    expect(home.body).toMatch(/over your limit of 4M/);
  });

  it('starts in cleanup mode, and normally again after deleting files', async () => {
    const browser = new CookieClient(lab.publicUrl);
    await browser.login(student.name, student.password);
    const res = await browser.raw(`/hub/spawn/${student.name}?cleanup=1`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/spawn-pending/);
    await waitRunning(student.name, studentToken);
    const home = await browser.get('/hub/home');
    expect(home.body).toContain('id="quota-cleanup"');
    expect(home.body).toContain('Cleanup mode');
    // the student deletes files (in the server); the hub measures again before the next start
    rmSync(join(student.home, 'data1.bin'));
    rmSync(join(student.home, 'data2.bin'));
    await stopServer(student.name, studentToken);
    const again = await api(`/users/${student.name}/server`, { method: 'POST', token: studentToken });
    expect([201, 202]).toContain(again.status);
    await waitRunning(student.name, studentToken);
    const q = await (await api(`/users/${student.name}/quota`, { token: studentToken })).json();
    expect(q).toMatchObject({ state: 'ok', cleanup: false });
    await stopServer(student.name, studentToken);
  }, 180_000);

  it('gives a user in a group the group limit (acceptance 4, disk)', async () => {
    writeAs(teacher, 'data.bin', 45); // over the default hard (40M), under the teachers' (60M)
    const q = await scanNow(teacher.name);
    expect(q.state).toBe('over-soft');
    const all = await (await api('/labhub/quota', { token: adminToken })).json();
    const row = all.usage.find((r: { user: string }) => r.user === teacher.name);
    expect(row).toMatchObject({ limits: { diskSoft: 30 * M, diskHard: 60 * M }, sources: { diskHard: `group:${TEACHERS}` } });
    // sorted by fullness: the teacher (45M of 60M) before the admin
    expect(all.usage.findIndex((r: { user: string }) => r.user === teacher.name)).toBeLessThan(all.usage.findIndex((r: { user: string }) => r.user === admin.name));
  });
});

describe('labhub quota (CLI)', () => {
  it('shows the mode in force and sets/clears limits', () => {
    const show = labhub('quota', 'show');
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/disk: +monitored/);
    expect(show.stdout).toContain(teacher.name);
    const set = labhub('quota', 'set', `@${TEACHERS}`, '--soft', '100M', '--hard', '200M', '--cpus', '2');
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toContain(`@${TEACHERS}: soft 100M, hard 200M`);
    const one = labhub('quota', 'show', teacher.name);
    expect(one.stdout).toContain('soft 100M, hard 200M');
    const bad = labhub('quota', 'set', student.name, '--hard', 'huge');
    expect(bad.status).toBe(2);
    expect(bad.stdout).toContain('diskHard');
    const def = labhub('quota', 'set', 'default', '--hard', '50M');
    expect(def.stdout).toContain('defaults: soft 20M, hard 50M');
    const clear = labhub('quota', 'clear', student.name);
    expect(clear.status, clear.stderr).toBe(0);
    expect(clear.stdout).toContain(`${student.name}: soft 20M, hard 50M`);
  });
});
