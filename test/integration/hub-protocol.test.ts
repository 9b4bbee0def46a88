/**
 * The hub side of the JupyterHub 3.0 protocol (spec §2–§6) as jupyterhub-singleuser uses it,
 * checked on the wire against the real `labhub serve`, with the server's real API token read from
 * its process environment (root can, as the hub's only trusted peer does).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { startServer } from '../helpers/jupyter.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let lab: LabhubProcess;
let alice: TestUser;
let bob: TestUser;
let asAlice: CookieClient;
let serverToken: string;

function serverEnv(user: string): Record<string, string> {
  const pid = lab.state().servers[user].state.pid as number;
  const env: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

const api = (path: string, init: RequestInit = {}) => fetch(`${lab.publicUrl}/hub/api${path}`, init);

beforeAll(async () => {
  alice = createTestUser('proto1');
  bob = createTestUser('proto2');
  lab = await new LabhubProcess().init();
  await lab.startServe();
  asAlice = new CookieClient(lab.publicUrl);
  expect((await asAlice.login(alice.name, alice.password)).status).toBe(302);
  await startServer(asAlice, alice.name);
  serverToken = serverEnv(alice.name).JUPYTERHUB_API_TOKEN!;
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
});

describe('launch environment', () => {
  it('gives the server the JupyterHub variables and nothing of root', () => {
    const env = serverEnv(alice.name);
    expect(env.JUPYTERHUB_API_TOKEN).toMatch(/^[0-9a-f]{32}$/);
    expect(env).toMatchObject({
      JUPYTERHUB_CLIENT_ID: `jupyterhub-user-${alice.name}`,
      JUPYTERHUB_USER: alice.name,
      JUPYTERHUB_SERVER_NAME: '',
      JUPYTERHUB_SERVICE_PREFIX: `/user/${alice.name}/`,
      JUPYTERHUB_OAUTH_CALLBACK_URL: `/user/${alice.name}/oauth_callback`,
      JUPYTERHUB_BASE_URL: '/',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: alice.home,
      USER: alice.name,
    });
    expect(env.JUPYTERHUB_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hub\/api$/);
    expect(env.JUPYTERHUB_ACTIVITY_URL).toBe(`${env.JUPYTERHUB_API_URL}/users/${alice.name}/activity`);
    expect(env.JUPYTERHUB_SERVICE_URL).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/user/${alice.name}/$`));
    expect(JSON.parse(env.JUPYTERHUB_OAUTH_ACCESS_SCOPES!)).toEqual([`access:servers!server=${alice.name}/`, `access:servers!user=${alice.name}`]);
    expect(env.LABHUB_SECRET_CANARY).toBeUndefined();
    expect(JSON.stringify(lab.state())).not.toContain(serverToken);
  });
});

describe('hub API as the single-user server calls it', () => {
  it('answers the version probe unauthenticated with the version header', async () => {
    for (const path of ['', '/']) {
      const res = await api(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-jupyterhub-version')).toBe('3.0.0');
      expect(await res.json()).toEqual({ version: '3.0.0' });
    }
  });

  it('identifies the server token with last_activity and expanded scopes; 403 (never 401/404) for a bad token', async () => {
    const res = await api('/user', { headers: { Authorization: `token ${serverToken}` } });
    expect(res.status).toBe(200);
    const model = await res.json();
    expect(model).toMatchObject({ kind: 'user', name: alice.name });
    expect(model.scopes).toEqual(expect.arrayContaining([`access:servers!user=${alice.name}`, `users:activity!user=${alice.name}`]));
    expect(model).toHaveProperty('last_activity');
    for (const auth of ['token 0123456789abcdef0123456789abcdef', 'bearer nope-nope', '']) {
      const bad = await api('/user', { headers: auth ? { Authorization: auth } : {} });
      expect(bad.status).toBe(403);
      expect(await bad.json()).toEqual({ status: 403, message: 'Forbidden' });
    }
    expect((await api(`/user?token=${serverToken}`)).status).toBe(403);
  });

  it('accepts activity for its own user only, moving forward only', async () => {
    const ts = new Date().toISOString();
    const body = JSON.stringify({ servers: { '': { last_activity: ts } }, last_activity: ts });
    const headers = { Authorization: `token ${serverToken}`, 'Content-Type': 'application/json' };
    expect((await api(`/users/${alice.name}/activity`, { method: 'POST', headers, body })).status).toBe(200);
    expect(lab.state().servers[alice.name].lastActivity).toBe(ts);
    const old = JSON.stringify({ last_activity: '2020-01-01T00:00:00Z', servers: { '': { last_activity: '2020-01-01T00:00:00Z' } } });
    expect((await api(`/users/${alice.name}/activity`, { method: 'POST', headers, body: old })).status).toBe(200);
    expect(lab.state().servers[alice.name].lastActivity).toBe(ts);
    expect((await api(`/users/${bob.name}/activity`, { method: 'POST', headers, body })).status).toBe(404);
    const badName = JSON.stringify({ servers: { nope: { last_activity: ts } } });
    const res = await api(`/users/${alice.name}/activity`, { method: 'POST', headers, body: badName });
    expect(res.status).toBe(400);
    expect((await res.json()).message).toBe(`No such server 'nope' for user ${alice.name}`);
    expect((await api(`/users/${alice.name}/activity`, { method: 'POST', headers, body: '{nope' })).status).toBe(400);
  });

  it('runs the OAuth code flow: single-use codes, client secret checked, token bound to the session and revoked at logout', async () => {
    const redirect = `/user/${alice.name}/oauth_callback`;
    const authorize = `/hub/api/oauth2/authorize?client_id=jupyterhub-user-${alice.name}&redirect_uri=${encodeURIComponent(redirect)}&response_type=code&state=opaque-state_123`;
    // anonymous: to the login page with the full authorize URL as next
    const anon = await new CookieClient(lab.publicUrl).raw(authorize);
    expect(anon.status).toBe(302);
    expect(anon.headers.get('location')).toBe(`/hub/login?next=${encodeURIComponent(authorize)}`);

    const res = await asAlice.raw(authorize);
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get('location')!, lab.publicUrl);
    expect(loc.pathname).toBe(redirect);
    expect(loc.searchParams.get('state')).toBe('opaque-state_123');
    const code = loc.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9]{30}$/);

    const form = (secret: string, c = code) =>
      new URLSearchParams({ client_id: `jupyterhub-user-${alice.name}`, client_secret: secret, grant_type: 'authorization_code', code: c, redirect_uri: redirect }).toString();
    const post = (body: string) =>
      api('/oauth2/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `token ${serverToken}` }, body });

    const wrong = await post(form('not-the-secret'));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'invalid_client' });

    const ok = await post(form(serverToken));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const tok = await ok.json();
    expect(tok).toMatchObject({ token_type: 'Bearer', expires_in: 14 * 86400 });
    expect(tok.access_token).toMatch(/^[A-Za-z0-9]{30}$/);
    expect(tok.scope.split(' ')).toContain(`access:servers!server=${alice.name}/`);

    const reuse = await post(form(serverToken));
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({ error: 'invalid_grant' });

    const who = await api('/user', { headers: { Authorization: `Bearer ${tok.access_token}` } });
    expect(who.status).toBe(200);
    const model = await who.json();
    expect(model.name).toBe(alice.name);
    expect(model.session_id).toBe(asAlice.cookie('jupyterhub-session-id'));
    expect(model.scopes).toContain(`access:servers!server=${alice.name}/`);

    // logging out of the hub revokes what that browser session was given
    await asAlice.get('/hub/logout');
    expect((await api('/user', { headers: { Authorization: `token ${tok.access_token}` } })).status).toBe(403);
  });

  it('rejects cookie-authenticated API calls from another site', async () => {
    const c = new CookieClient(lab.publicUrl);
    await c.login(alice.name, alice.password);
    expect((await c.raw(`/hub/api/users/${alice.name}`)).status).toBe(403);
    expect((await c.raw(`/hub/api/users/${alice.name}`, { headers: { referer: 'http://evil.example/' } })).status).toBe(403);
    expect((await c.raw(`/hub/api/users/${alice.name}`, { headers: { referer: `${lab.publicUrl}/hub/home` } })).status).toBe(200);
    const noXsrf = await c.raw(`/hub/api/users/${alice.name}/server`, { method: 'DELETE', headers: { referer: `${lab.publicUrl}/hub/home`, origin: lab.publicUrl } });
    expect(noXsrf.status).toBe(403);
    expect(lab.state().servers[alice.name].status).toBe('running');
  });

  it('answers unknown API paths with JSON 404 and /user/ paths of a stopped server as JupyterHub does', async () => {
    const res = await api('/no/such/thing');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ status: 404, message: 'Not Found' });
    const c = new CookieClient(lab.publicUrl);
    await c.login(bob.name, bob.password);
    const page = await c.raw(`/hub/user/${bob.name}/tree`);
    expect(page.status).toBe(424);
    expect(page.body).toContain(`/hub/spawn/${bob.name}?next=`);
    const json = await c.raw(`/hub/user/${bob.name}/api/contents`);
    expect(json.status).toBe(424);
    expect(JSON.parse(json.body).message).toMatch(/no longer running/);
    const redirect = await c.raw(`/user/${bob.name}/tree?x=1`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`/hub/user/${bob.name}/tree?x=1`);
  });
});

describe('progress stream', () => {
  it('streams the real stages and ends with ready', async () => {
    const c = new CookieClient(lab.publicUrl);
    await c.login(bob.name, bob.password);
    const spawn = await c.raw(`/hub/spawn/${bob.name}`);
    expect(spawn.status).toBe(302);
    const res = await fetch(`${lab.publicUrl}/hub/api/users/${bob.name}/server/progress`, {
      headers: { cookie: c.cookieHeader('/hub/api/'), referer: `${lab.publicUrl}/hub/spawn-pending/${bob.name}` },
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)));
    const last = events.at(-1);
    expect(last).toMatchObject({ progress: 100, ready: true, url: `/user/${bob.name}/` });
    if (events.length > 1) expect(events.map((e) => e.message).join('\n')).toMatch(/Waiting for your server to answer/);
    // once ready, a new stream gets the ready event at once
    const again = await fetch(`${lab.publicUrl}/hub/api/users/${bob.name}/server/progress`, {
      headers: { cookie: c.cookieHeader('/hub/api/'), referer: `${lab.publicUrl}/hub/home` },
    });
    expect(await again.text()).toContain('"ready":true');
  });
});
