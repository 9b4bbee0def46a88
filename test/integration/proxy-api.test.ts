/**
 * The proxy's control API, its client, persistence across restarts, `runProxy` with proxy.json,
 * and shutdown: real servers on port 0, a fresh data dir per test.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../hub/log.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseConfig } from '../../hub/config.js';
import { isHubError } from '../../hub/errors.js';
import { HttpProxyClient, isProxyAlive, readProxyInfo } from '../../hub/proxy/client.js';
import { runProxy } from '../../hub/proxy/run.js';
import { createProxy, type Proxy } from '../../hub/proxy/server.js';
import { closedPort, httpRequest, startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';

const TOKEN = 'api-test-token';
const silent = silentLogger();

let dataDir: string;
let upstream: EchoUpstream;
const cleanups: Array<() => Promise<void> | void> = [];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'labhub-proxy-api-'));
  upstream = await startEchoUpstream('alice');
});

afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
  await upstream.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startProxy(opts: { closeGraceMs?: number } = {}): Promise<Proxy> {
  const proxy = createProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, dataDir, token: TOKEN, logger: silent, ...opts });
  await proxy.listen();
  cleanups.push(() => proxy.close());
  return proxy;
}

function api(proxy: Proxy, path: string, opts: { method?: string; token?: string | null; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.Authorization = `token ${opts.token ?? TOKEN}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['Content-Type'] = 'application/json';
  }
  return httpRequest(proxy.apiAddress().port, path, { method: opts.method, headers, body });
}

function client(proxy: Proxy, token = TOKEN): HttpProxyClient {
  const c = new HttpProxyClient({ apiUrl: `http://127.0.0.1:${proxy.apiAddress().port}`, token });
  cleanups.push(() => c.close());
  return c;
}

describe('control API', () => {
  it('answers health without a token', async () => {
    const proxy = await startProxy();
    const r = await api(proxy, '/api/health', { token: null });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', pid: process.pid });
    expect(typeof body.uptime).toBe('number');
  });

  it('refuses route calls without the right token', async () => {
    const proxy = await startProxy();
    expect((await api(proxy, '/api/routes', { token: null })).status).toBe(403);
    expect((await api(proxy, '/api/routes', { token: 'wrong' })).status).toBe(403);
    expect((await api(proxy, '/api/routes/user/x', { method: 'POST', token: 'wrong', body: { target: upstream.url } })).status).toBe(403);
    expect(proxy.routes.size).toBe(0);
    expect((await httpRequest(proxy.apiAddress().port, '/api/routes', { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('adds, reads and deletes routes like CHP', async () => {
    const proxy = await startProxy();
    const post = await api(proxy, '/api/routes/user/alice', { method: 'POST', body: { target: upstream.url, user: 'alice', server_name: '' } });
    expect(post.status).toBe(201);
    const all = JSON.parse((await api(proxy, '/api/routes')).body) as Record<string, Record<string, unknown>>;
    expect(all).toEqual({ '/user/alice/': { target: upstream.url, user: 'alice', server_name: '' } });
    const one = await api(proxy, '/api/routes/user/alice/');
    expect(JSON.parse(one.body)).toEqual({ target: upstream.url, user: 'alice', server_name: '' });
    // the route works at once
    expect(JSON.parse((await httpRequest(proxy.publicAddress().port, '/user/alice/x')).body).name).toBe('alice');

    expect((await api(proxy, '/api/routes/user/alice', { method: 'DELETE' })).status).toBe(204);
    expect((await api(proxy, '/api/routes/user/alice', { method: 'DELETE' })).status).toBe(404);
    expect((await api(proxy, '/api/routes/user/alice')).status).toBe(404);
  });

  it('adds the root route through /api/routes/', async () => {
    const proxy = await startProxy();
    expect((await api(proxy, '/api/routes/', { method: 'POST', body: { target: upstream.url, hub: true } })).status).toBe(201);
    expect(proxy.routes.hubEntry()?.prefix).toBe('/');
  });

  it('rejects bad route requests with 400', async () => {
    const proxy = await startProxy();
    expect((await api(proxy, '/api/routes/user/a', { method: 'POST', body: { user: 'a' } })).status).toBe(400);
    expect((await api(proxy, '/api/routes/user/a', { method: 'POST', body: { target: 'ftp://x' } })).status).toBe(400);
    expect((await api(proxy, '/api/routes/user/a', { method: 'POST', body: '{not json' })).status).toBe(400);
    expect((await api(proxy, '/api/routes/user/%2e%2e/x', { method: 'POST', body: { target: upstream.url } })).status).toBe(400);
    expect((await api(proxy, '/api/routes?inactive_since=yesterday')).status).toBe(400);
    expect((await api(proxy, '/api/routes/user/a', { method: 'PUT' })).status).toBe(405);
    expect(proxy.routes.size).toBe(0);
  });

  it('filters by inactive_since and reports last_activity once there was some', async () => {
    const proxy = await startProxy();
    const c = client(proxy);
    await c.addRoute('/user/alice/', upstream.url, { user: 'alice' });
    await c.addRoute('/user/bob/', `http://127.0.0.1:${await closedPort()}`, { user: 'bob' });
    await httpRequest(proxy.publicAddress().port, '/user/alice/tree');
    const all = JSON.parse((await api(proxy, '/api/routes')).body) as Record<string, Record<string, unknown>>;
    expect(typeof all['/user/alice/'].last_activity).toBe('string');
    expect(all['/user/bob/']).not.toHaveProperty('last_activity');
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const inactive = JSON.parse((await api(proxy, `/api/routes?inactive_since=${encodeURIComponent(since)}`)).body) as Record<string, unknown>;
    expect(Object.keys(inactive)).toEqual(['/user/bob/']);
  });
});

describe('HttpProxyClient', () => {
  it('implements the ProxyClient seam', async () => {
    const proxy = await startProxy();
    const c = client(proxy);
    await c.addRoute('/', upstream.url, { hub: true });
    await c.addRoute('/user/alice/', upstream.url, { user: 'alice', server_name: '' });
    const routes = await c.getRoutes();
    expect(routes['/user/alice/']).toEqual({ target: upstream.url, data: { user: 'alice', server_name: '' }, last_activity: null });
    expect(routes['/']).toEqual({ target: upstream.url, data: { hub: true }, last_activity: null });
    expect(await c.getRoute('/user/alice/')).toEqual(routes['/user/alice/']);
    await c.deleteRoute('/user/alice/');
    await c.deleteRoute('/user/alice/');
    expect(await c.getRoute('/user/alice/')).toBeNull();
  });

  it('fails with errors that name the URL but never the token', async () => {
    const proxy = await startProxy();
    const wrong = client(proxy, 'not-the-token-123');
    const err = await wrong.getRoutes().catch((e: unknown) => e);
    expect(isHubError(err)).toBe(true);
    expect(String((err as Error).message)).toContain(`http://127.0.0.1:${proxy.apiAddress().port}/api/routes`);
    expect(String((err as Error).message)).toContain('403');
    expect(String((err as Error).message)).not.toContain('not-the-token-123');

    const down = new HttpProxyClient({ apiUrl: `http://127.0.0.1:${await closedPort()}`, token: TOKEN });
    cleanups.push(() => down.close());
    const err2 = await down.addRoute('/user/x/', upstream.url, {}).catch((e: unknown) => e);
    expect(String((err2 as Error).message)).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/api\/routes\/user\/x\/ failed: .*ECONNREFUSED/);
    expect(String((err2 as Error).message)).not.toContain(TOKEN);
  });
});

describe('persistence', () => {
  it('restores routes in a new proxy on the same data dir', async () => {
    const first = createProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, dataDir, token: TOKEN, logger: silent });
    await first.listen();
    const c = new HttpProxyClient({ apiUrl: `http://127.0.0.1:${first.apiAddress().port}`, token: TOKEN });
    await c.addRoute('/user/alice/', upstream.url, { user: 'alice', server_name: '' });
    c.close();
    await httpRequest(first.publicAddress().port, '/user/alice/api');
    const activity = first.routes.get('/user/alice/')!.last_activity;
    expect(activity).not.toBeNull();
    await first.close();
    expect(statSync(join(dataDir, 'proxy-routes.json')).mode & 0o777).toBe(0o600);

    const second = await startProxy();
    expect(second.routes.get('/user/alice/')).toEqual({ target: upstream.url, data: { user: 'alice', server_name: '' }, last_activity: activity });
    const r = await httpRequest(second.publicAddress().port, '/user/alice/api');
    expect(JSON.parse(r.body).name).toBe('alice');
  });

  it('sets the default target as the hub route', async () => {
    const proxy = createProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, dataDir, token: TOKEN, logger: silent, defaultTarget: upstream.url });
    await proxy.listen();
    cleanups.push(() => proxy.close());
    expect(proxy.routes.get('/')).toMatchObject({ target: upstream.url, data: { hub: true } });
  });
});

describe('runProxy and proxy.json', () => {
  function config() {
    return parseConfig({ ip: '127.0.0.1', port: 0, proxy: { apiIp: '127.0.0.1', apiPort: 0 }, hub: { port: 0 }, dataDir });
  }

  it('writes proxy.json (0600) after listening and removes it on close', async () => {
    const running = await runProxy(config(), silent);
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await running.close();
    });
    const info = readProxyInfo(dataDir);
    expect(info).toEqual(running.info);
    expect(info).toMatchObject({ pid: process.pid, publicUrl: `http://127.0.0.1:${running.proxy.publicAddress().port}`, apiUrl: `http://127.0.0.1:${running.proxy.apiAddress().port}` });
    expect(statSync(join(dataDir, 'proxy.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'proxy-token')).mode & 0o777).toBe(0o600);

    const { loadOrCreateProxyToken } = await import('../../hub/proxy/secret.js');
    const token = loadOrCreateProxyToken(dataDir, {});
    expect(await isProxyAlive(info!, token)).toBe(true);
    expect(await isProxyAlive(info!)).toBe(true);
    expect(await isProxyAlive(info!, 'wrong-token')).toBe(false);
    await expect(runProxy(config(), silent)).rejects.toThrow(/already running/);

    await running.close();
    closed = true;
    expect(readProxyInfo(dataDir)).toBeNull();
  });

  it('treats a stale proxy.json as not alive', async () => {
    const running = await runProxy(config(), silent);
    const info = running.info;
    await running.close();
    expect(await isProxyAlive({ ...info, pid: 2 ** 22 + 12345 })).toBe(false);
    expect(await isProxyAlive({ ...info, apiUrl: `http://127.0.0.1:${await closedPort()}` })).toBe(false);
  });
});

describe('close()', () => {
  it('ends websockets after the grace period and leaves no open handles', async () => {
    const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;
    const before = tcpHandles();
    const proxy = createProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, dataDir, token: TOKEN, logger: silent, closeGraceMs: 100 });
    await proxy.listen();
    proxy.routes.set('/user/alice/', upstream.url, { user: 'alice' });
    const port = proxy.publicAddress().port;
    await httpRequest(port, '/user/alice/x');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/user/alice/api/kernels/k/channels`);
    await once(ws, 'open');
    const wsClosed = new Promise((resolve) => ws.once('close', resolve));
    const started = Date.now();
    await proxy.close();
    await wsClosed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    // the upstream's ends of the proxy's connections (in this process too) close once they see EOF
    await upstream.whenNoConnections();
    expect(tcpHandles()).toBeLessThanOrEqual(before);
    await proxy.close(); // idempotent
  });
});
