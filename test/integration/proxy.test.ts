/**
 * The proxy end to end: a real createProxy on port 0 with a fresh data dir, real upstream servers
 * (test/helpers/echo-upstream.ts), plain Node HTTP clients and `ws` websockets.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../hub/log.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createProxy, type Proxy } from '../../hub/proxy/server.js';
import { closedPort, httpRequest, startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';

const HUB_COOKIE = 'jupyterhub-hub-login';

let dataDir: string;
let proxy: Proxy;
let hub: EchoUpstream;
let alice: EchoUpstream;
let bob: EchoUpstream;
let port: number;
const extra: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'labhub-proxy-'));
  [hub, alice, bob] = await Promise.all([startEchoUpstream('hub'), startEchoUpstream('alice'), startEchoUpstream('bob')]);
  proxy = createProxy({ ip: '127.0.0.1', port: 0, apiIp: '127.0.0.1', apiPort: 0, dataDir, token: 'test-token', logger: silentLogger(), closeGraceMs: 200 });
  await proxy.listen();
  proxy.routes.set('/', hub.url, { hub: true });
  proxy.routes.set('/user/alice/', alice.url, { user: 'alice', server_name: '' });
  proxy.routes.set('/user/bob/', bob.url, { user: 'bob', server_name: '' });
  port = proxy.publicAddress().port;
});

afterEach(async () => {
  for (const f of extra.splice(0).reverse()) await f();
  await proxy.close();
  await Promise.all([hub.close(), alice.close(), bob.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

async function json(path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: Record<string, any>; headers: http.IncomingHttpHeaders }> {
  const res = await httpRequest(port, path, { headers });
  return { status: res.status, body: JSON.parse(res.body) as Record<string, any>, headers: res.headers };
}

/** A raw HTTP exchange on a socket, for requests Node's client would not send. */
async function rawExchange(payload: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(payload);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

function openWs(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  ws.on('error', () => undefined);
  extra.push(async () => {
    if (ws.readyState === WebSocket.CLOSED) return;
    // not events.once: the 'error' that terminate() emits while connecting would reject it
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.terminate();
    await closed;
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (req, res) => {
      reject(new Error(`status ${res.statusCode}`));
      res.resume();
      req.destroy();
    });
    ws.once('error', reject);
  });
}

describe('HTTP forwarding', () => {
  it('routes by longest prefix and forwards the path unchanged with Host kept', async () => {
    const r = await json('/user/alice/api/contents/a%20b.ipynb?token=abc&x=/y', { Host: 'lab.example:8000' });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('alice');
    expect(r.body.url).toBe('/user/alice/api/contents/a%20b.ipynb?token=abc&x=/y');
    expect(r.body.headers.host).toBe('lab.example:8000');
    expect((await json('/user/bob/tree')).body.name).toBe('bob');
    expect((await json('/user/bob')).body.name).toBe('bob');
    expect((await json('/user/carol/tree')).body.name).toBe('hub');
    expect((await json('/hub/login')).body.name).toBe('hub');
    proxy.routes.set('/user/bob/lab/', alice.url, { user: 'bob', server_name: 'lab' });
    expect((await json('/user/bob/lab/api')).body).toMatchObject({ name: 'alice', url: '/user/bob/lab/api' });
  });

  it("adds X-Forwarded-*, replacing a client's own (no trusted front proxy configured)", async () => {
    const r = await json('/user/alice/', { Host: 'lab.example:8000', 'X-Forwarded-For': '10.1.2.3', 'X-Forwarded-Proto': 'https' });
    expect(r.body.headers['x-forwarded-for']).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(r.body.headers['x-forwarded-proto']).toBe('http');
    expect(r.body.headers['x-forwarded-host']).toBe('lab.example:8000');
    expect(r.body.headers['x-forwarded-port']).toBe('8000');
  });

  it('drops hop-by-hop headers both ways and relays repeated headers', async () => {
    const r = await httpRequest(port, '/user/alice/', {
      headers: ['Host', 'lab', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'secret', 'Keep-Alive', 'timeout=9', 'Proxy-Authorization', 'Basic eA==', 'X-End', 'kept'],
    });
    const seen = JSON.parse(r.body).headers as Record<string, string>;
    expect(seen['x-hop']).toBeUndefined();
    expect(seen['keep-alive']).toBeUndefined();
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen['x-end']).toBe('kept');
    expect(r.headers['x-secret-hop']).toBeUndefined();
    expect(r.headers['keep-alive']).not.toBe('timeout=5');
    expect(r.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(r.headers['x-upstream']).toBe('alice');
  });

  it('strips the hub login cookie for user servers only', async () => {
    const cookie = `${HUB_COOKIE}=s3cret; _xsrf=x1; jupyterhub-session-id=abc`;
    expect((await json('/user/alice/api', { Cookie: cookie })).body.headers.cookie).toBe('_xsrf=x1; jupyterhub-session-id=abc');
    expect((await json('/hub/home', { Cookie: cookie })).body.headers.cookie).toBe(cookie);
    expect((await json('/user/alice/api', { Cookie: `${HUB_COOKIE}=s3cret` })).body.headers.cookie).toBeUndefined();
  });

  it('streams a request body up before the client has finished sending it', async () => {
    const req = http.request({ host: '127.0.0.1', port, path: '/user/alice/upload', method: 'POST', agent: false, headers: { 'Content-Type': 'text/plain' } });
    const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
    req.write('first part;');
    const [url, chunk] = (await once(alice.events, 'data')) as [string, Buffer];
    expect(url).toBe('/user/alice/upload');
    expect(chunk.toString()).toBe('first part;');
    req.end('second part');
    const [res] = await response;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { body: string; chunks: number; headers: Record<string, string> };
    expect(body.body).toBe('first part;second part');
    expect(body.chunks).toBeGreaterThanOrEqual(2);
    expect(body.headers['transfer-encoding']).toBe('chunked');
  });

  it('forwards a Content-Length body and streams the response as it comes', async () => {
    const posted = await httpRequest(port, '/user/bob/x', { method: 'PUT', body: 'x'.repeat(100_000) });
    expect(JSON.parse(posted.body)).toMatchObject({ method: 'PUT', body: 'x'.repeat(100_000) });

    const req = http.get({ host: '127.0.0.1', port, path: '/user/alice/slow-stream', agent: false });
    await once(alice.events, 'stream');
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    alice.streams[0].write('event 1\n');
    const [first] = (await once(res, 'data')) as [Buffer];
    expect(first.toString()).toBe('event 1\n');
    alice.streams[0].end();
    await once(res, 'end');
  });

  it('relays a large chunked response intact', async () => {
    const r = await httpRequest(port, '/user/alice/big/5000000');
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(5_000_000);
  });

  it('answers HEAD, 204 and 304 without bodies and keeps the connection working', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string, method = 'GET'): Promise<TestResponseLike> =>
      new Promise((resolve, reject) => {
        http
          .request({ host: '127.0.0.1', port, path, method, agent }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject)
          .end();
      });
    expect(await get('/user/alice/', 'HEAD')).toEqual({ status: 200, body: '' });
    expect(await get('/user/alice/status/204')).toEqual({ status: 204, body: '' });
    expect(await get('/user/alice/status/304')).toEqual({ status: 304, body: '' });
    expect((await get('/user/alice/status/201')).status).toBe(201);
    agent.destroy();
  });

  it('reuses upstream connections (keep-alive)', async () => {
    const ports = new Set<number>();
    for (let i = 0; i < 5; i++) ports.add((await json('/user/alice/')).body.remotePort as number);
    expect(ports.size).toBe(1);
  });

  it('retries an idempotent request once when a reused connection turns out stale', async () => {
    // answers the first request on each connection, then drops the connection on the next one
    let connections = 0;
    const flaky = net.createServer((s) => {
      connections++;
      let served = 0;
      s.on('data', () => {
        if (served++ === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else s.destroy();
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    extra.push(() => new Promise((resolve) => flaky.close(() => resolve())));
    proxy.routes.set('/user/erin/', `http://127.0.0.1:${(flaky.address() as net.AddressInfo).port}`, { user: 'erin' });
    expect((await httpRequest(port, '/user/erin/a')).body).toBe('ok');
    expect((await httpRequest(port, '/user/erin/b')).body).toBe('ok');
    expect(connections).toBe(2);
    // a request with a body is never replayed
    const post = await httpRequest(port, '/user/erin/c', { method: 'POST', body: 'data', headers: { Accept: 'application/json' } });
    expect(post.status).toBe(503);
  });

  it('frees the upstream connection when the client goes away', async () => {
    const req = http.get({ host: '127.0.0.1', port, path: '/user/alice/slow-stream', agent: false });
    req.on('error', () => undefined);
    await once(alice.events, 'stream');
    req.destroy();
    await alice.streams[0].closed;
  });
});

interface TestResponseLike {
  status: number;
  body: string;
}

describe('path tricks', () => {
  it('never routes dot-segment paths, plain or encoded, to another user', async () => {
    for (const path of ['/user/alice/../bob/', '/user/alice/%2e%2e/bob/', '/user/alice/%2E%2e/bob/api', '/user/alice/.%2E/bob/', '/user/bob/./tree']) {
      const r = await httpRequest(port, path);
      expect(r.status, path).toBe(400);
    }
    expect(bob.requests).toHaveLength(0);
    expect(alice.requests).toHaveLength(0);
  });

  it('does not decode %2F into a segment separator', async () => {
    const r = await json('/user/alice%2Fbob/');
    expect(r.body.name).toBe('hub');
    expect(r.body.url).toBe('/user/alice%2Fbob/');
    expect(bob.requests).toHaveLength(0);
  });

  it('treats an absolute-form target like its path', async () => {
    const reply = await rawExchange('GET http://lab.example/user/bob/x?y=1 HTTP/1.1\r\nHost: lab.example\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(bob.requests[0].url).toBe('/user/bob/x?y=1');
  });

  it('refuses dot-segments on websocket upgrades too', async () => {
    // raw, since a websocket client would resolve the dot-segments itself
    const reply = await rawExchange(
      'GET /user/alice/%2e%2e/bob/api/kernels/1/channels HTTP/1.1\r\nHost: lab\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(bob.wsUpgrades).toHaveLength(0);
  });
});

describe('activity', () => {
  it('records only successful responses', async () => {
    const entry = proxy.routes.entry('/user/alice/')!;
    expect(entry.lastActivity).toBe(0);
    await httpRequest(port, '/user/alice/status/500');
    await httpRequest(port, '/user/alice/status/404');
    expect(entry.lastActivity).toBe(0);
    const before = Date.now();
    await httpRequest(port, '/user/alice/status/302');
    expect(entry.lastActivity).toBeGreaterThanOrEqual(before);
    expect(proxy.routes.get('/user/alice/')?.last_activity).toBe(new Date(entry.lastActivity).toISOString());
  });

  it('does not record a server that is down', async () => {
    proxy.routes.set('/user/carol/', `http://127.0.0.1:${await closedPort()}`, { user: 'carol' });
    await httpRequest(port, '/user/carol/api');
    expect(proxy.routes.entry('/user/carol/')!.lastActivity).toBe(0);
  });
});

describe('error pages', () => {
  it('answers 503 with a retrying page when the hub is down', async () => {
    proxy.routes.set('/', `http://127.0.0.1:${await closedPort()}`, { hub: true });
    const html = await httpRequest(port, '/hub/login', { headers: { Accept: 'text/html' } });
    expect(html.status).toBe(503);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.headers['retry-after']).toBe('3');
    expect(html.body).toContain('LabHub is starting or restarting — this page retries');
    expect(html.body).toMatch(/<meta http-equiv="refresh" content="\d+">/);

    const api = await httpRequest(port, '/hub/api/users');
    expect(api.status).toBe(503);
    expect(JSON.parse(api.body)).toEqual({ status: 503, message: 'LabHub is starting or restarting — this page retries' });
    const accept = await httpRequest(port, '/hub/home', { headers: { Accept: 'application/json' } });
    expect(JSON.parse(accept.body).status).toBe(503);
  });

  it('answers the same 503 when no route matches at all', async () => {
    proxy.routes.delete('/');
    const r = await httpRequest(port, '/hub/');
    expect(r.status).toBe(503);
    expect(r.body).toContain('LabHub is starting or restarting');
  });

  it("relays the hub's error page when a user server is down", async () => {
    proxy.routes.set('/user/alice/', `http://127.0.0.1:${await closedPort()}`, { user: 'alice' });
    const r = await httpRequest(port, '/user/alice/api/kernels?token=t', {
      headers: { Accept: 'text/html', Cookie: `${HUB_COOKIE}=hubsecret; other=1`, Host: 'lab.example' },
    });
    expect(r.status).toBe(503);
    const page = JSON.parse(r.body) as { name: string; page: string; url: string; headers: Record<string, string> };
    expect(page).toMatchObject({ name: 'hub', page: 'error', url: '/hub/error/503?url=%2Fuser%2Falice%2Fapi%2Fkernels' });
    expect(page.headers.accept).toBe('text/html');
    expect(page.headers.cookie).toBe(`${HUB_COOKIE}=hubsecret; other=1`);
    expect(page.headers.host).toBe('lab.example');
    expect(r.headers['x-upstream']).toBe('hub');
  });

  it('falls back to its own 503 page when the hub cannot help either', async () => {
    proxy.routes.set('/user/alice/', `http://127.0.0.1:${await closedPort()}`, { user: 'alice' });
    proxy.routes.set('/', `http://127.0.0.1:${await closedPort()}`, { hub: true });
    const r = await httpRequest(port, '/user/alice/tree', { headers: { Accept: 'text/html' } });
    expect(r.status).toBe(503);
    expect(r.body).toContain('/user/alice/');
    expect(r.body).toContain('http-equiv="refresh"');
  });

  it('answers 502 for a malformed upstream response', async () => {
    const bad = net.createServer((s) => {
      s.once('data', () => s.end('HTTP/1.1 banana\r\n\r\n'));
    });
    await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve));
    extra.push(() => new Promise((resolve) => bad.close(() => resolve())));
    proxy.routes.set('/user/dave/', `http://127.0.0.1:${(bad.address() as net.AddressInfo).port}`, { user: 'dave' });
    const r = await httpRequest(port, '/user/dave/', { headers: { Accept: 'application/json' } });
    expect(r.status).toBe(502);
  });
});

describe('websockets', () => {
  it('echoes through the proxy with forwarded headers and the hub cookie stripped', async () => {
    const ws = await openWs('/user/alice/api/kernels/k1/channels?token=t', { Cookie: `${HUB_COOKIE}=h; _xsrf=1` });
    ws.send('ping');
    const [msg] = (await once(ws, 'message')) as [Buffer];
    expect(msg.toString()).toBe('ping');
    const seen = alice.wsUpgrades[0];
    expect(seen.cookie).toBe('_xsrf=1');
    expect(seen['x-forwarded-for']).toMatch(/127\.0\.0\.1$/);
    expect(seen.host).toBe(`127.0.0.1:${port}`);
    ws.close();
    await once(ws, 'close');
  });

  it('refuses a foreign Origin for user servers but not for the hub', async () => {
    await expect(openWs('/user/alice/api/kernels/k1/channels', { Origin: 'http://evil.example' })).rejects.toThrow('status 403');
    expect(alice.wsUpgrades).toHaveLength(0);
    const same = await openWs('/user/alice/terminals/websocket/1', { Origin: `http://127.0.0.1:${port}` });
    const hubWs = await openWs('/hub/api/events', { Origin: 'http://elsewhere.example' });
    const closed = Promise.all([once(same, 'close'), once(hubWs, 'close')]);
    same.close();
    hubWs.close();
    await closed;
  });

  it('records activity on websocket traffic', async () => {
    const entry = proxy.routes.entry('/user/bob/')!;
    const ws = await openWs('/user/bob/api/kernels/k2/channels');
    const afterOpen = entry.lastActivity;
    expect(afterOpen).toBeGreaterThan(0);
    entry.lastActivity = 1;
    ws.send('x');
    await once(ws, 'message');
    expect(entry.lastActivity).toBeGreaterThan(1);
    ws.close();
    await once(ws, 'close');
  });

  it('answers 503 on an upgrade to a server that is down', async () => {
    proxy.routes.set('/user/carol/', `http://127.0.0.1:${await closedPort()}`, { user: 'carol' });
    await expect(openWs('/user/carol/api/kernels/k/channels')).rejects.toThrow('status 503');
  });
});
