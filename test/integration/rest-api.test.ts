/**
 * Contract tests of LabHub's JupyterHub-compatible REST API (issue 3, acceptance 1–3) against
 * the real `labhub serve`, real PAM users and, where a server is involved, real single-user servers.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABHUB_MAIN, LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let lab: LabhubProcess;
let admin: TestUser;
let u1: TestUser;
let u2: TestUser;
let u3: TestUser;
let u4: TestUser;
let adminToken: string;

const api = (path: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(path.startsWith('http') ? path : `${lab.publicUrl}/hub/api${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { Authorization: `token ${init.token}` } : {}),
      ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(init.headers ?? {}),
    },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });

async function jsonOf(res: Response) {
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

async function tokenFor(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(`/users/${user.name}/tokens`, { method: 'POST', body: { auth: { username: user.name, password: user.password }, ...body } });
  expect(res.status).toBe(201);
  return (await res.json()).token;
}

async function waitReady(name: string) {
  for (let i = 0; i < 300; i++) {
    const m = await jsonOf(await api(`/users/${name}`, { token: adminToken }));
    if (m.server) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not become ready`);
}

beforeAll(async () => {
  admin = createTestUser('apiadm');
  u1 = createTestUser('api1');
  u2 = createTestUser('api2');
  u3 = createTestUser('api3');
  u4 = createTestUser('api4');
  lab = await new LabhubProcess({ config: { auth: { adminUsers: [admin.name] }, culler: { enabled: false } } }).init();
  await lab.startServe();
  adminToken = await tokenFor(admin);
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
});

describe('REST API contract', () => {
  it('answers /info for read:hub and 403 without a token, with JupyterHub error bodies', async () => {
    const info = await api('/info', { token: adminToken });
    expect(info.status).toBe(200);
    expect(info.headers.get('x-jupyterhub-version')).toBe('3.0.0');
    expect(await info.json()).toMatchObject({ version: '3.0.0' });
    const anon = await api('/info');
    expect(anon.status).toBe(403);
    expect(await anon.json()).toEqual({ status: 403, message: 'Forbidden' });
    const bad = await api('/users', { method: 'POST', token: adminToken, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ status: 400, message: 'Invalid JSON in body of request' });
  });

  it('creates users (201), refuses duplicates (409), invalid names and missing accounts (400)', async () => {
    const created = await api('/users', { method: 'POST', token: adminToken, body: { usernames: [u1.name, u2.name, u3.name, u4.name] } });
    expect(created.status).toBe(201);
    const models = await created.json();
    expect(models.map((m: { name: string }) => m.name)).toEqual([u1.name, u2.name, u3.name, u4.name]);
    expect(models[0]).toMatchObject({ kind: 'user', admin: false, roles: ['user'], groups: [], server: null, pending: null, servers: {} });
    expect(models[0].created).toMatch(/Z$/);
    expect((await api('/users', { method: 'POST', token: adminToken, body: { usernames: [u1.name] } })).status).toBe(409);
    const dup = await api(`/users/${u1.name}`, { method: 'POST', token: adminToken });
    expect(dup.status).toBe(409);
    expect((await dup.json()).message).toBe(`User ${u1.name} already exists`);
    const invalid = await api('/users', { method: 'POST', token: adminToken, body: { usernames: ['Bad Name'] } });
    expect(invalid.status).toBe(400);
    const missing = await api('/users/lhtestnoacct', { method: 'POST', token: adminToken });
    expect(missing.status).toBe(400);
    expect((await missing.json()).message).toMatch(/No Linux account/);
    expect((await api(`/users/${u1.name}`, { token: adminToken })).status).toBe(200);
    expect((await api('/users/lhtestnobody', { token: adminToken })).status).toBe(404);
  });

  it('lists users as a bare list, or paginated with a working next.url, with filters', async () => {
    const bare = await jsonOf(await api('/users', { token: adminToken }));
    expect(Array.isArray(bare)).toBe(true);
    expect(bare.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining([admin.name, u1.name, u4.name]));
    const names: string[] = [];
    let page = await jsonOf(await api('/users?limit=2&name_filter=lhtestapi', { token: adminToken, headers: { Accept: 'application/jupyterhub-pagination+json' } }));
    expect(page._pagination).toMatchObject({ offset: 0, limit: 2, total: 5 });
    for (;;) {
      names.push(...page.items.map((m: { name: string }) => m.name));
      if (!page._pagination.next) break;
      expect(page._pagination.next.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${lab.publicPort}/hub/api/users\\?`));
      expect(page._pagination.next.url).toContain('name_filter=lhtestapi');
      page = await jsonOf(await api(page._pagination.next.url, { token: adminToken, headers: { Accept: 'application/jupyterhub-pagination+json' } }));
    }
    expect(names).toEqual([admin.name, u1.name, u2.name, u3.name, u4.name].filter((n) => n.startsWith('lhtestapi')));
    const bogus = await api('/users?state=bogus', { token: adminToken });
    expect(bogus.status).toBe(400);
    expect((await bogus.json()).message).toBe("Unrecognized state filter: 'bogus'");
    expect((await api('/users?offset=x', { token: adminToken })).status).toBe(400);
    expect(await jsonOf(await api('/users?state=ready', { token: adminToken }))).toEqual([]);
    expect((await jsonOf(await api('/users?state=inactive', { token: adminToken }))).length).toBe(5);
  });

  it('PATCHes admin, refuses renames, and DELETEs users but never yourself', async () => {
    const patched = await api(`/users/${u2.name}`, { method: 'PATCH', token: adminToken, body: { admin: true } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: u2.name, admin: true, roles: ['admin', 'user'] });
    expect((await api(`/users/${u2.name}`, { method: 'PATCH', token: adminToken, body: { name: 'other' } })).status).toBe(400);
    const self = await api(`/users/${admin.name}`, { method: 'DELETE', token: adminToken });
    expect(self.status).toBe(400);
    expect((await self.json()).message).toBe('Cannot delete yourself!');
    expect((await api(`/users/${u2.name}`, { method: 'DELETE', token: adminToken })).status).toBe(204);
    expect((await api(`/users/${u2.name}`, { token: adminToken })).status).toBe(404);
  });

  it('tokens: created from a password, scoped, never beyond the owner, listed, revoked', async () => {
    const t1 = await tokenFor(u1, { note: 'mine', scopes: [`read:users!user=${u1.name}`], expires_in: 3600 });
    expect(t1).toMatch(/^[0-9a-f]{32}$/);
    const own = await api(`/users/${u1.name}`, { token: t1 });
    expect(own.status).toBe(200);
    expect(await own.json()).not.toHaveProperty('servers');
    expect((await api(`/users/${admin.name}`, { token: t1 })).status).toBe(404);
    const list = await api('/users', { token: t1 });
    expect(list.status).toBe(403);
    expect((await list.json()).message).toBe('Action is not authorized with current scopes; requires any of [list:users]');
    const beyond = await api(`/users/${u1.name}/tokens`, { method: 'POST', body: { auth: { username: u1.name, password: u1.password }, scopes: ['admin:users'] } });
    expect(beyond.status).toBe(400);
    expect((await beyond.json()).message).toMatch(/not held by/);
    const wrongPw = await api(`/users/${u1.name}/tokens`, { method: 'POST', body: { auth: { username: u1.name, password: 'nope' } } });
    expect(wrongPw.status).toBe(403);

    const tokens = (await jsonOf(await api(`/users/${u1.name}/tokens`, { token: adminToken }))).api_tokens;
    const mine = tokens.find((t: { note: string }) => t.note === 'mine');
    expect(mine).toMatchObject({ user: u1.name, kind: 'api_token', oauth_client: 'JupyterHub', scopes: expect.arrayContaining([`read:users:name!user=${u1.name}`]) });
    expect(mine.id).toMatch(/^a\d+$/);
    expect(mine.expires_at).toMatch(/Z$/);
    expect(JSON.stringify(tokens)).not.toContain(t1);
    expect((await api(`/users/${u1.name}/tokens/${mine.id}`, { token: adminToken })).status).toBe(200);
    expect((await api(`/users/${u1.name}/tokens/${mine.id}`, { method: 'DELETE', token: adminToken })).status).toBe(204);
    expect((await api(`/users/${u1.name}/tokens/${mine.id}`, { method: 'DELETE', token: adminToken })).status).toBe(404);
    expect((await api(`/users/${u1.name}`, { token: t1 })).status).toBe(403);
    expect((await api('/user', { token: t1 })).status).toBe(403);
    expect(JSON.stringify(lab.state().tokens)).not.toContain(t1);
  });

  it('groups: create, list, members, 409, delete', async () => {
    const created = await api('/groups/cs101', { method: 'POST', token: adminToken, body: { users: [u1.name] } });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ kind: 'group', name: 'cs101', roles: [], users: [u1.name] });
    expect((await api('/groups/cs101', { method: 'POST', token: adminToken })).status).toBe(409);
    expect((await api('/groups', { method: 'POST', token: adminToken, body: { groups: ['tmpgroup'] } })).status).toBe(201);
    const add = await api('/groups/cs101/users', { method: 'POST', token: adminToken, body: { users: [u4.name] } });
    expect((await add.json()).users).toEqual([u1.name, u4.name]);
    expect((await api('/groups/cs101/users', { method: 'POST', token: adminToken, body: { users: ['lhtestnobody'] } })).status).toBe(400);
    const groups = await jsonOf(await api('/groups', { token: adminToken }));
    expect(groups.map((g: { name: string }) => g.name).sort()).toEqual(['cs101', 'tmpgroup']);
    const rm = await api('/groups/cs101/users', { method: 'DELETE', token: adminToken, body: { users: [u4.name] } });
    expect((await rm.json()).users).toEqual([u1.name]);
    expect((await api('/groups/tmpgroup', { method: 'DELETE', token: adminToken })).status).toBe(204);
    expect((await api('/groups/tmpgroup', { token: adminToken })).status).toBe(404);
    expect((await jsonOf(await api(`/users/${u1.name}`, { token: adminToken }))).groups).toEqual(['cs101']);
  });
});

describe('servers through the API', () => {
  it('starts servers (201/202), lists them as ready, and a group-scoped token reaches only that group', async () => {
    for (const u of [u1, u3]) {
      const res = await api(`/users/${u.name}/server`, { method: 'POST', token: adminToken });
      expect([201, 202]).toContain(res.status);
    }
    await waitReady(u1.name);
    await waitReady(u3.name);
    expect((await api(`/users/${u1.name}/server`, { method: 'POST', token: adminToken })).status).toBe(400);
    const ready = await jsonOf(await api('/users?state=ready', { token: adminToken }));
    expect(ready.map((m: { name: string }) => m.name).sort()).toEqual([u1.name, u3.name].sort());
    const m = ready.find((x: { name: string }) => x.name === u1.name);
    expect(m.servers['']).toMatchObject({ name: '', ready: true, pending: null, stopped: false, url: `/user/${u1.name}/`, progress_url: `/hub/api/users/${u1.name}/server/progress` });
    expect(m.servers[''].started).toMatch(/Z$/);

    // an instructor token for cs101 only (u1 is in cs101, u3 is not)
    const teach = await api(`/users/${admin.name}/tokens`, { method: 'POST', token: adminToken, body: { scopes: ['access:servers!group=cs101', 'read:users!group=cs101'] } });
    expect(teach.status).toBe(201);
    const groupToken = (await teach.json()).token;
    const who = await jsonOf(await api('/user', { token: groupToken }));
    expect(who.scopes).toContain(`access:servers!user=${u1.name}`);
    const inGroup = await fetch(`${lab.publicUrl}/user/${u1.name}/api/status`, { headers: { Authorization: `token ${groupToken}` } });
    expect(inGroup.status).toBe(200);
    const outside = await fetch(`${lab.publicUrl}/user/${u3.name}/api/status`, { headers: { Authorization: `token ${groupToken}` } });
    expect(outside.status).toBe(403);
    expect((await api(`/users/${u1.name}`, { token: groupToken })).status).toBe(200);
    expect((await api(`/users/${u3.name}`, { token: groupToken })).status).toBe(404);
  });

  it('a script written for JupyterHub (Python requests) pages through ready servers and stops the idle one', async () => {
    await new Promise((r) => setTimeout(r, 4000));
    const now = new Date().toISOString();
    const fresh = await api(`/users/${u1.name}/activity`, { method: 'POST', token: adminToken, body: { last_activity: now, servers: { '': { last_activity: now } } } });
    expect(fresh.status).toBe(200);
    const script = fileURLToPath(new URL('../fixtures/jupyterhub_idle_stopper.py', import.meta.url));
    const out = execFileSync('/usr/bin/python3', [script, '3', '1'], {
      env: { PATH: '/usr/bin:/bin', JUPYTERHUB_API_URL: `${lab.publicUrl}/hub/api`, JUPYTERHUB_API_TOKEN: adminToken },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const result = JSON.parse(out);
    expect(result).toMatchObject({ version: '3.0.0', seen: [u1.name, u3.name].sort(), stopped: [u3.name] });
    expect(result.pages).toBe(2);
    expect(lab.state().servers[u3.name].status).toBe('stopped');
    expect(lab.state().servers[u1.name].status).toBe('running');
  });
});

describe('admin command line (labhub users / labhub token)', () => {
  const labhub = (...args: string[]) => {
    try {
      return { status: 0, out: execFileSync(process.execPath, [LABHUB_MAIN, ...args, '--config', lab.configFile], { encoding: 'utf8', timeout: 30_000 }) };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      return { status: e.status, out: `${e.stdout}${e.stderr}` };
    }
  };

  it('lists, adds and removes hub users through the running hub, and makes tokens', async () => {
    expect(statSync(join(lab.dataDir, 'data', 'cli-token')).mode & 0o777).toBe(0o600);
    const list = labhub('users', 'list');
    expect(list.status).toBe(0);
    expect(list.out).toMatch(/^NAME\s+ROLE\s+SERVER/);
    expect(list.out).toContain(admin.name);
    expect(JSON.parse(labhub('users', 'list', '--json').out).map((u: { name: string }) => u.name)).toContain(u1.name);

    const extra = createTestUser('apicli');
    const add = labhub('users', 'add', extra.name);
    expect(add.status).toBe(0);
    expect(lab.state().users[extra.name]).toBeDefined();
    expect(labhub('users', 'add', 'lhtestnoacct').out).toMatch(/No Linux account/);

    const token = labhub('token', 'create', extra.name, '--scopes', `read:users!user=${extra.name}`, '--note', 'from cli').out.trim();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect((await api(`/users/${extra.name}`, { token })).status).toBe(200);
    expect(labhub('token', 'create', extra.name, '--scopes', 'admin:users').out).toMatch(/not held by/);

    expect(labhub('users', 'remove', extra.name).status).toBe(0);
    expect(lab.state().users[extra.name]).toBeUndefined();
    expect((await api(`/users/${extra.name}`, { token })).status).toBe(403);
    expect(labhub('users', 'frobnicate').status).toBe(2);
  });
});
