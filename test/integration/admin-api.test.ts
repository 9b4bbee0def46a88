/**
 * The admin side of the hub (issue 4) against the real `labhub serve` and real PAM users: the
 * `/hub/admin` page and every `/hub/api/labhub/…` call are for admins only (acceptance 3); the
 * dashboard status, the users table, logs and run-time settings answer what the GUI needs; an
 * admin can open a student's server through the real OAuth flow; the CLI token is readable by the
 * admin group.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { openServer, startServer } from '../helpers/jupyter.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, ensureGroup, removeAllTestUsers, removeGroup, type TestUser } from '../helpers/linux-users.js';
import { hubApi } from '../helpers/hub-api.js';

const ADMIN_GROUP = 'lhtestadmgrp';
let lab: LabhubProcess;
let admin: TestUser;
let student: TestUser;
let other: TestUser;
let adminToken: string;
let studentToken: string;

const { api, tokenFor } = hubApi(() => lab.publicUrl);

/** Every admin extension call, with a body where it takes one. */
const ADMIN_CALLS: Array<[string, string, unknown?]> = [
  ['GET', '/labhub/status'],
  ['GET', '/labhub/users'],
  ['POST', '/labhub/usage/refresh'],
  ['GET', '/labhub/logs'],
  ['GET', '/labhub/logs/hub'],
  ['GET', '/labhub/logs/proxy'],
  ['GET', '/labhub/logs/users/lhtestnobody'],
  ['GET', '/labhub/settings'],
  ['PATCH', '/labhub/settings', { idleTimeoutSeconds: 600 }],
  ['POST', '/labhub/accounts/preview', { csv: 'lhtestx1,X,lhtestgrp\n' }],
  ['POST', '/labhub/accounts', { csv: 'lhtestx1,X,lhtestgrp\n' }],
  ['POST', '/labhub/accounts/lhtestx1/password', {}],
  ['DELETE', '/labhub/accounts/lhtestx1?home=delete'],
];

beforeAll(async () => {
  ensureGroup(ADMIN_GROUP);
  admin = createTestUser('adm', { groups: [ADMIN_GROUP] });
  student = createTestUser('stu');
  other = createTestUser('oth');
  lab = await new LabhubProcess({ config: { auth: { adminGroups: [ADMIN_GROUP] }, culler: { enabled: false } } }).init();
  await lab.startServe();
  adminToken = await tokenFor(admin);
  studentToken = await tokenFor(student);
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
  removeGroup(ADMIN_GROUP);
});

describe('admin only', () => {
  it('gives a student 403 on /hub/admin and on every admin API call, with a token or a session', async () => {
    const browser = new CookieClient(lab.publicUrl);
    await browser.login(student.name, student.password);
    const page = await browser.raw('/hub/admin');
    expect(page.status).toBe(403);
    expect(page.body).toContain('admins only');
    expect((await browser.raw('/hub/home')).body).not.toContain('/hub/admin');
    for (const [method, path, body] of ADMIN_CALLS) {
      const res = await api(path, { method, token: studentToken, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect((await res.json()).status).toBe(403);
      const viaSession = await browser.raw(`/hub/api${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-XSRFToken': 'irrelevant', Referer: `${lab.publicUrl}/hub/admin` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(viaSession.status, `session ${method} ${path}`).toBe(403);
    }
    // the student's session endpoint works and says what they are
    const session = await browser.raw('/hub/api/labhub/session', { headers: { Referer: `${lab.publicUrl}/hub/admin` } });
    expect(session.status).toBe(200);
    expect(JSON.parse(session.body)).toMatchObject({ user: student.name, admin: false });
    // nothing was created by the refused calls
    expect(() => execFileSync('getent', ['passwd', 'lhtestx1'])).toThrow();
  });

  it('sends a visitor who is not logged in to the login page, and refuses anonymous API calls', async () => {
    const res = await fetch(`${lab.publicUrl}/hub/admin`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/hub/login?next=%2Fhub%2Fadmin');
    for (const [method, path] of ADMIN_CALLS) expect((await api(path, { method })).status, `${method} ${path}`).toBe(403);
    expect((await fetch(`${lab.publicUrl}/hub/admin/static/main.js`)).status).toBe(403);
  });

  it('serves the admin app to an admin with a strict CSP, and needs the CSRF token for session writes', async () => {
    const browser = new CookieClient(lab.publicUrl);
    await browser.login(admin.name, admin.password);
    const page = await browser.raw('/hub/admin');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect((await browser.raw('/hub/home')).body).toContain('href="/hub/admin"');
    const session = JSON.parse((await browser.raw('/hub/api/labhub/session', { headers: { Referer: `${lab.publicUrl}/hub/admin` } })).body);
    expect(session).toMatchObject({ user: admin.name, admin: true });
    expect(session.xsrf).toMatch(/.{16,}/);
    const patch = (xsrf: string) =>
      browser.raw('/hub/api/labhub/settings', {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf, Referer: `${lab.publicUrl}/hub/admin` },
        body: JSON.stringify({ idleTimeoutSeconds: 1800 }),
      });
    expect((await patch('wrong')).status).toBe(403);
    expect((await patch(session.xsrf)).status).toBe(200);
  });
});

describe('dashboard, users, logs', () => {
  it('reports hub, proxy, machine and server figures', async () => {
    const res = await api('/labhub/status', { token: adminToken });
    expect(res.status).toBe(200);
    const s = await res.json();
    expect(s.hub.pid).toBeGreaterThan(0);
    expect(s.hub.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(s.proxy).toMatchObject({ alive: true, publicUrl: lab.publicUrl });
    expect(s.proxy.pid).toBe(lab.proxyPid());
    expect(s.machine.cores).toBeGreaterThan(0);
    expect(s.machine.memory.total).toBeGreaterThan(s.machine.memory.available);
    expect(s.machine.disks.length).toBeGreaterThan(0);
    expect(s.machine.homeDisk.mount).toMatch(/^\//);
    expect(s.servers).toMatchObject({ running: 0, starting: 0, queued: 0, stopping: 0 });
    expect(s.users.total).toBeGreaterThanOrEqual(2);
  });

  it('lists users with Linux details, server state and measured home usage', async () => {
    expect((await api('/labhub/usage/refresh', { method: 'POST', token: adminToken })).status).toBe(202);
    let rows: any[] = [];
    for (let i = 0; i < 100; i++) {
      rows = await (await api('/labhub/users', { token: adminToken })).json();
      if (rows.find((r) => r.name === student.name)?.homeBytes != null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const row = rows.find((r) => r.name === student.name);
    const du = Number(execFileSync('du', ['-s', '-x', '--block-size=1', `/home/${student.name}`], { encoding: 'utf8' }).split('\t')[0]);
    expect(row).toMatchObject({ linux: true, admin: false, server: 'stopped', url: `/user/${student.name}/`, homeBytes: du });
    expect(row.uid).toBe(Number(execFileSync('id', ['-u', student.name], { encoding: 'utf8' })));
    expect(rows.find((r) => r.name === admin.name)).toMatchObject({ admin: true });
  });

  it('tails and searches the hub log and a student server log', async () => {
    const list = await (await api('/labhub/logs', { token: adminToken })).json();
    expect(list.map((l: { id: string }) => l.id)).toContain('hub');
    const tail = await (await api('/labhub/logs/hub?lines=5', { token: adminToken })).json();
    expect(tail.lines.length).toBeLessThanOrEqual(5);
    expect(tail.lines.length).toBeGreaterThan(0);
    const search = await (await api('/labhub/logs/hub?lines=50&q=HUB%20LISTENING', { token: adminToken })).json();
    expect(search.lines.length).toBeGreaterThan(0);
    for (const l of search.lines) expect(l.toLowerCase()).toContain('hub listening');
    expect((await api('/labhub/logs/users/..%2F..%2Fetc%2Fshadow', { token: adminToken })).status).toBe(404);
    expect((await api(`/labhub/logs/users/${student.name}`, { token: adminToken })).status).toBe(404);
  });
});

describe('settings', () => {
  afterAll(async () => {
    // the next tests need every user able to log in again, also when this one failed midway
    await api('/labhub/settings', { method: 'PATCH', token: adminToken, body: { allowedGroups: [] } });
  });

  it('validates all or nothing, saves to the state, applies at once and survives a restart', async () => {
    const bad = await api('/labhub/settings', { method: 'PATCH', token: adminToken, body: { idleTimeoutSeconds: 5, spawnConcurrency: 2, bogus: 1 } });
    expect(bad.status).toBe(400);
    const err = await bad.json();
    expect(err.problems.map((p: { field: string }) => p.field).sort()).toEqual(['bogus', 'idleTimeoutSeconds']);
    expect((await (await api('/labhub/settings', { token: adminToken })).json()).settings.spawnConcurrency).toBe(0);

    const noGroup = await api('/labhub/settings', { method: 'PATCH', token: adminToken, body: { allowedGroups: ['lhtestnosuchgroup'] } });
    expect(noGroup.status).toBe(400);
    expect((await noGroup.json()).problems[0].message).toContain('groupadd lhtestnosuchgroup');

    // allowed groups apply to the next login: the student is not in the admin group
    const ok = await api('/labhub/settings', { method: 'PATCH', token: adminToken, body: { allowedGroups: [ADMIN_GROUP], spawnConcurrency: 3, idleTimeoutSeconds: 1800 } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ settings: { allowedGroups: [ADMIN_GROUP], spawnConcurrency: 3 }, saved: expect.arrayContaining(['allowedGroups', 'spawnConcurrency']) });
    expect((await new CookieClient(lab.publicUrl).login(other.name, other.password)).status).toBe(403);
    const status = await (await api('/labhub/status', { token: adminToken })).json();
    expect(status.servers.concurrency).toBe(3);

    await lab.killServe('SIGTERM');
    await lab.startServe();
    adminToken = await tokenFor(admin);
    const after = await (await api('/labhub/settings', { token: adminToken })).json();
    expect(after.settings).toMatchObject({ allowedGroups: [ADMIN_GROUP], spawnConcurrency: 3, idleTimeoutSeconds: 1800 });
    expect((await new CookieClient(lab.publicUrl).login(other.name, other.password)).status).toBe(403);

    expect((await api('/labhub/settings', { method: 'PATCH', token: adminToken, body: { allowedGroups: [] } })).status).toBe(200);
    const back = await new CookieClient(lab.publicUrl).login(other.name, other.password);
    expect(back.status).not.toBe(403);
  });
});

describe('admin access to a student server', () => {
  it("lets an admin open a student's server through the OAuth flow, and nobody else", async () => {
    const asStudent = new CookieClient(lab.publicUrl);
    await asStudent.login(student.name, student.password);
    await startServer(asStudent, student.name);
    const asAdmin = new CookieClient(lab.publicUrl);
    await asAdmin.login(admin.name, admin.password);
    // a page visit runs the OAuth flow and gives the admin the server's cookie
    await openServer(asAdmin, student.name);
    const res = await asAdmin.get(`/user/${student.name}/api/contents`);
    expect(res.status, JSON.stringify(res.hops) + res.body.slice(0, 300)).toBe(200);
    expect(JSON.parse(res.body).type).toBe('directory');
    const asOther = new CookieClient(lab.publicUrl);
    await asOther.login(other.name, other.password);
    expect((await asOther.get(`/user/${student.name}/tree`)).status).toBe(403);
    expect((await asOther.get(`/user/${student.name}/api/contents`)).status).toBe(403);
    const rows = await (await api('/labhub/users', { token: adminToken })).json();
    expect(rows.find((r: { name: string }) => r.name === student.name).server).toBe('running');
    expect((await api(`/labhub/logs/users/${student.name}?lines=20`, { token: adminToken })).status).toBe(200);
    await api(`/users/${student.name}/server`, { method: 'DELETE', token: adminToken });
  });
});

describe('desktop app access', () => {
  it('makes the CLI token readable by the admin group only', () => {
    const dataDir = join(lab.dataDir, 'data');
    // the test's temp dir is 0700; on a lab machine the data dir's parent is /var/lib
    chmodSync(lab.dataDir, 0o711);
    const file = statSync(join(dataDir, 'cli-token'));
    const gid = Number(execFileSync('getent', ['group', ADMIN_GROUP], { encoding: 'utf8' }).split(':')[2]);
    expect(file.mode & 0o777).toBe(0o640);
    expect(file.gid).toBe(gid);
    expect(statSync(dataDir).mode & 0o777).toBe(0o710);
    expect(statSync(join(dataDir, 'state.json')).mode & 0o777).toBe(0o600);
    // a member of the admin group can read it; the student cannot
    execFileSync('runuser', ['-u', admin.name, '--', 'cat', join(dataDir, 'cli-token')]);
    expect(() => execFileSync('runuser', ['-u', student.name, '--', 'cat', join(dataDir, 'cli-token')], { stdio: 'ignore' })).toThrow();
    expect(() => execFileSync('runuser', ['-u', admin.name, '--', 'ls', dataDir], { stdio: 'ignore' })).toThrow();
  });
});
