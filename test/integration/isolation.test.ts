/**
 * Acceptance 4 of the spine issue: logged in as alice, no way to bob's running server works, and
 * nothing of bob's ever comes back. Real users, real servers, real proxy and hub.
 */
import { writeFileSync, chownSync } from 'node:fs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { KernelChannel, openServer, startKernel, startServer, xsrfHeaders } from '../helpers/jupyter.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let lab: LabhubProcess;
let alice: TestUser;
let bob: TestUser;
let asAlice: CookieClient;
let asBob: CookieClient;
let bobKernel: string;
const SECRET = 'bob-secret-7f3a9c';

beforeAll(async () => {
  alice = createTestUser('isoa');
  bob = createTestUser('isob');
  writeFileSync(`${bob.home}/secret.txt`, SECRET, { mode: 0o600 });
  chownSync(`${bob.home}/secret.txt`, bob.uid, bob.gid);
  lab = await new LabhubProcess().init();
  await lab.startServe();
  asAlice = new CookieClient(lab.publicUrl);
  asBob = new CookieClient(lab.publicUrl);
  expect((await asAlice.login(alice.name, alice.password)).status).toBe(302);
  expect((await asBob.login(bob.name, bob.password)).status).toBe(302);
  await Promise.all([startServer(asAlice, alice.name), startServer(asBob, bob.name)]);
  await openServer(asAlice, alice.name);
  await openServer(asBob, bob.name);
  bobKernel = await startKernel(asBob, bob.name);
});

afterAll(async () => {
  await lab?.stop();
  removeAllTestUsers();
});

function neverBobs(res: { status: number; body: string }) {
  expect(res.body).not.toContain(SECRET);
  // (the file name may be echoed back in a redirect to the visitor's own path; its content never)
  expect(res.body).not.toMatch(/"name":\s*"secret\.txt"/);
  expect(res.body).not.toContain(bobKernel);
}

describe("alice cannot reach bob's server", () => {
  it('bob can reach his own (control)', async () => {
    const res = await asBob.get(`/user/${bob.name}/api/contents/secret.txt?content=1`);
    expect(res.status).toBe(200);
    expect(res.body).toContain(SECRET);
  });

  it.each([
    ['tree page', (n: string) => `/user/${n}/tree`],
    ['contents API', (n: string) => `/user/${n}/api/contents/secret.txt?content=1`],
    ['kernels API', (n: string) => `/user/${n}/api/kernels`],
    ['files', (n: string) => `/user/${n}/files/secret.txt`],
    ['hub redirect', (n: string) => `/hub/user/${n}/tree`],
  ])('via %s', async (_what, path) => {
    const res = await asAlice.get(path(bob.name));
    expect(res.status).toBeGreaterThanOrEqual(400);
    neverBobs(res);
  });

  it("via OAuth authorize with bob's client id", async () => {
    const url =
      `/hub/api/oauth2/authorize?client_id=jupyterhub-user-${bob.name}` +
      `&redirect_uri=${encodeURIComponent(`/user/${bob.name}/oauth_callback`)}&response_type=code&state=x`;
    const res = await asAlice.raw(url);
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    // and with alice's redirect: mismatched, no code either
    const mixed = await asAlice.raw(
      `/hub/api/oauth2/authorize?client_id=jupyterhub-user-${bob.name}&redirect_uri=${encodeURIComponent(`/user/${alice.name}/oauth_callback`)}&response_type=code&state=x`,
    );
    expect(mixed.status).toBe(400);
    expect(mixed.headers.get('location')).toBeNull();
  });

  it("with alice's server cookie presented to bob's server", async () => {
    const aliceCookie = asAlice.cookie(`jupyterhub-user-${alice.name}`)!;
    const res = await asAlice.raw(`/user/${bob.name}/api/contents/secret.txt?content=1`, {
      headers: { cookie: `jupyterhub-user-${bob.name}=${aliceCookie}; jupyterhub-user-${alice.name}=${aliceCookie}` },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    neverBobs(res);
  });

  it.each([
    ['dot segments', (a: string, b: string) => `/user/${a}/../${b}/api/contents/secret.txt?content=1`],
    ['encoded dot segments', (a: string, b: string) => `/user/${a}/%2e%2e/${b}/api/contents/secret.txt?content=1`],
    ['encoded slash', (a: string, b: string) => `/user/${a}%2F..%2F${b}/api/contents/secret.txt?content=1`],
    ['encoded slash in name', (_a: string, b: string) => `/user/${b.slice(0, 3)}%2F${b.slice(3)}/api/contents/secret.txt?content=1`],
    ['double slash', (_a: string, b: string) => `//user/${b}/api/contents/secret.txt?content=1`],
    ['hub path trick', (a: string, b: string) => `/hub/user/${a}/../../user/${b}/api/contents/secret.txt?content=1`],
  ])('via path trick: %s', async (_what, make) => {
    // fetch() normalises dot segments itself, so send the raw path with node:http
    const raw = make(alice.name, bob.name);
    const { request } = await import('node:http');
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: lab.publicPort, path: raw, headers: { cookie: asAlice.cookieHeader(`/user/${alice.name}/`) + '; ' + asAlice.cookieHeader('/hub/') } },
        (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    neverBobs(res);
    expect(res.status === 200 && res.body.includes(SECRET)).toBe(false);
  });

  it('via the hub API and pages', async () => {
    const ref = { referer: `${lab.publicUrl}/hub/home` };
    for (const path of [`/hub/api/users/${bob.name}`, `/hub/api/users/${bob.name}/server/progress`]) {
      const res = await asAlice.raw(path, { headers: ref });
      expect(res.status).toBe(404);
    }
    const xsrf = /data-xsrf="([^"]+)"/.exec((await asAlice.raw('/hub/home')).body)![1]!;
    const del = await asAlice.raw(`/hub/api/users/${bob.name}/server`, { method: 'DELETE', headers: { ...ref, origin: lab.publicUrl, 'x-xsrftoken': xsrf } });
    expect(del.status).toBe(404);
    for (const path of [`/hub/spawn/${bob.name}`, `/hub/spawn-pending/${bob.name}`, `/hub/user/${bob.name}/`]) {
      const res = await asAlice.raw(path);
      expect(res.status).toBe(404);
    }
    expect(lab.state().servers[bob.name].status).toBe('running');
  });

  it("via bob's kernel websocket", async () => {
    const url = `${lab.publicUrl.replace('http', 'ws')}/user/${bob.name}/api/kernels/${bobKernel}/channels`;
    const cookie = `${asAlice.cookieHeader(`/user/${alice.name}/`)}; jupyterhub-user-${bob.name}=${asAlice.cookie(`jupyterhub-user-${alice.name}`)}`;
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { headers: { cookie, origin: lab.publicUrl } });
      ws.once('open', () => {
        ws.close();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      ws.once('error', (e) => resolve(`error ${e.message}`));
    });
    expect(outcome).not.toBe('open');
    // alice's own kernel works over the same proxy (control)
    const own = await KernelChannel.open(asAlice, alice.name, await startKernel(asAlice, alice.name));
    expect(await own.execute('print("mine")')).toBe('mine\n');
    own.close();
  });

  it("with a cross-site Origin on alice's own websocket", async () => {
    const kernel = await startKernel(asAlice, alice.name);
    const url = `${lab.publicUrl.replace('http', 'ws')}/user/${alice.name}/api/kernels/${kernel}/channels`;
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(url, { headers: { cookie: asAlice.cookieHeader(`/user/${alice.name}/`), origin: 'http://evil.example' } });
      ws.once('open', () => (ws.close(), resolve('open')));
      ws.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      ws.once('error', (e) => resolve(`error ${e.message}`));
    });
    expect(outcome).toBe('http 403');
    expect(xsrfHeaders(asAlice)['X-XSRFToken']).toBeTruthy();
  });
});
