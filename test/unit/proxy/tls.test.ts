/**
 * The proxy with `proxy.tls`: a real createProxy on port 0 serving https with certificates from
 * `labhub tls init`, real upstreams (test/helpers/echo-upstream.ts), Node's https client and `ws`
 * trusting only the generated CA: forwarding, wss://, the http→https redirect listener, the CA
 * download on it, certificate reload, start-up refusal of bad files, trusted front proxies.
 */
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger, silentLogger } from '../../../hub/log.js';
import { createProxy, type Proxy, type ProxyOptions } from '../../../hub/proxy/server.js';
import { tlsInit } from '../../../hub/tls/init.js';
import { startEchoUpstream, type EchoUpstream } from '../../helpers/echo-upstream.js';
import { makeTlsDir, type TlsFixture } from '../../helpers/tls-fixtures.js';

let tls: TlsFixture;
let other: TlsFixture;
let hub: EchoUpstream;
let alice: EchoUpstream;
const open: Array<() => Promise<void>> = [];
const dirs: string[] = [];

beforeAll(async () => {
  [tls, other, hub, alice] = await Promise.all([makeTlsDir(), makeTlsDir(), startEchoUpstream('hub'), startEchoUpstream('alice')]);
});

afterEach(async () => {
  for (const f of open.splice(0).reverse()) await f();
});

afterAll(async () => {
  await Promise.all([hub?.close(), alice?.close()]);
  tls?.remove();
  other?.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startProxy(extra: Partial<ProxyOptions> = {}, files: TlsFixture = tls): Promise<Proxy> {
  const dataDir = mkdtempSync(join(tmpdir(), 'labhub-proxy-tls-'));
  dirs.push(dataDir);
  const proxy = createProxy({
    ip: '127.0.0.1',
    port: 0,
    apiIp: '127.0.0.1',
    apiPort: 0,
    dataDir,
    token: 'test-token',
    logger: silentLogger(),
    closeGraceMs: 200,
    tls: { cert: files.serverCert, key: files.serverKey, caCert: files.caCert, httpRedirectPort: 0, pollMs: 0 },
    ...extra,
  });
  await proxy.listen();
  open.push(() => proxy.close());
  proxy.routes.set('/', hub.url, { hub: true });
  proxy.routes.set('/user/alice/', alice.url, { user: 'alice', server_name: '' });
  return proxy;
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  serial: string;
}

function get(proxy: Proxy, path: string, o: { ca?: Buffer; headers?: http.OutgoingHttpHeaders; servername?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port: proxy.publicAddress().port, path, ca: o.ca ?? tls.caPem, servername: o.servername ?? 'localhost', headers: { Host: `localhost:${proxy.publicAddress().port}`, ...o.headers }, agent: false },
      (res) => {
        const serial = (res.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? '';
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), serial }));
      },
    );
    req.on('error', reject);
  });
}

function plainGet(port: number, path: string, host?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers: host === undefined ? {} : { Host: host }, setHost: host === undefined }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
  });
}

describe('https on the public port', () => {
  it('forwards requests with X-Forwarded-Proto https, trusted through the generated CA only', async () => {
    const proxy = await startProxy();
    expect(proxy.scheme).toBe('https');
    const r = await get(proxy, '/user/alice/api/status?x=1');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { name: string; url: string; headers: Record<string, string> };
    expect(body.name).toBe('alice');
    expect(body.url).toBe('/user/alice/api/status?x=1');
    expect(body.headers['x-forwarded-proto']).toBe('https');
    expect(body.headers['x-forwarded-port']).toBe(String(proxy.publicAddress().port));
    expect(body.headers.host).toBe(`localhost:${proxy.publicAddress().port}`);
    expect(JSON.parse((await get(proxy, '/hub/login')).body).name).toBe('hub');
    // a client that does not trust the lab's CA does not get through
    await expect(get(proxy, '/hub/login', { ca: other.caPem })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('carries websockets as wss:// and checks Origin against the https origin', async () => {
    const proxy = await startProxy();
    const port = proxy.publicAddress().port;
    const url = `wss://localhost:${port}/user/alice/api/kernels/k1/channels`;
    const ws = new WebSocket(url, { ca: tls.caPem, origin: `https://localhost:${port}` });
    open.push(async () => {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.terminate();
        await once(ws, 'close');
      }
    });
    await once(ws, 'open');
    ws.send('over tls');
    const [msg] = (await once(ws, 'message')) as [Buffer];
    expect(msg.toString()).toBe('over tls');
    expect(alice.wsUpgrades.at(-1)?.['x-forwarded-proto']).toBe('https');
    const foreign = new WebSocket(url, { ca: tls.caPem, origin: 'https://evil.example' });
    foreign.on('error', () => undefined);
    const [, res] = (await once(foreign, 'unexpected-response')) as [unknown, http.IncomingMessage];
    expect(res.statusCode).toBe(403);
    foreign.terminate();
  });

  it('redirects plain http to https on the same host and path, and serves the CA certificate there', async () => {
    const proxy = await startProxy({ tls: { cert: tls.serverCert, key: tls.serverKey, caCert: tls.caCert, httpRedirectPort: 0, pollMs: 0 } });
    expect(proxy.redirectAddress()).toBeNull();
    const free = await new Promise<number>((resolve) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const withRedirect = await startProxy({ tls: { cert: tls.serverCert, key: tls.serverKey, caCert: tls.caCert, httpRedirectPort: free, pollMs: 0 } });
    const httpsPort = withRedirect.publicAddress().port;
    expect(withRedirect.redirectAddress()?.port).toBe(free);
    const r = await plainGet(free, '/hub/login?next=%2Fhub%2F', `lab.example:${free}`);
    expect(r.status).toBe(308);
    expect(r.headers.location).toBe(`https://lab.example:${httpsPort}/hub/login?next=%2Fhub%2F`);
    expect((await plainGet(free, '/', '[::1]:80')).headers.location).toBe(`https://[::1]:${httpsPort}/`);
    expect((await plainGet(free, '/', 'evil.example/x?')).status).toBe(400);
    const ca = await plainGet(free, '/hub/ca.crt', 'lab.example');
    expect(ca.status).toBe(200);
    expect(ca.headers['content-type']).toBe('application/x-x509-ca-cert');
    expect(ca.body).toBe(tls.caPem.toString('latin1'));
    // and the https side answers the redirected request
    expect((await get(withRedirect, '/hub/login?next=%2Fhub%2F')).status).toBe(200);
  });

  it('reloads a renewed certificate without a restart, and keeps the old one when the new files do not match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-tls-reload-'));
    dirs.push(dir);
    const own = await makeTlsDir({ dir: join(dir, 'tls'), hostnames: ['one.example'] });
    const proxy = await startProxy({}, own);
    const before = (await get(proxy, '/hub/login', { ca: own.caPem })).serial;
    await tlsInit({ dir: own.dir, hostnames: ['one.example', 'two.example'], machineIps: false });
    expect(proxy.reloadTls()).toBe(true);
    const after = await get(proxy, '/hub/login', { ca: own.caPem, servername: 'two.example' });
    expect(after.status).toBe(200);
    expect(after.serial).not.toBe(before);
    // a half-done renewal: another certificate next to the old key
    copyFileSync(other.serverCert, own.serverCert);
    expect(proxy.reloadTls()).toBe(false);
    expect((await get(proxy, '/hub/login', { ca: own.caPem })).serial).toBe(after.serial);
  });

  it('notices renewed files by itself (certbot-style renewal, no signal)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-tls-watch-'));
    dirs.push(dir);
    const own = await makeTlsDir({ dir: join(dir, 'tls'), hostnames: ['one.example'] });
    let notice: () => void = () => undefined;
    const reloaded = new Promise<void>((resolve) => (notice = resolve));
    const logger = createLogger({ name: 'proxy', level: 'info', stderr: false, stream: { write: (line: string) => line.includes('"file changed"') && notice() } });
    const proxy = await startProxy({ logger, tls: { cert: own.serverCert, key: own.serverKey, pollMs: 50 } }, own);
    const before = (await get(proxy, '/hub/login', { ca: own.caPem })).serial;
    await tlsInit({ dir: own.dir, hostnames: ['one.example', 'three.example'], machineIps: false });
    await reloaded;
    const after = await get(proxy, '/hub/login', { ca: own.caPem, servername: 'three.example' });
    expect(after.serial).not.toBe(before);
  });

  it('refuses to start with a key that does not belong to the certificate', async () => {
    await expect(startProxy({ tls: { cert: tls.serverCert, key: other.serverKey } })).rejects.toThrow(/does not belong to the certificate/);
  });
});

describe('trusted front proxies', () => {
  it("believes X-Forwarded-* only from configured addresses", async () => {
    const spoof = { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'http' };
    const untrusting = await startProxy();
    const h1 = JSON.parse((await get(untrusting, '/user/alice/', { headers: spoof })).body).headers as Record<string, string>;
    expect(h1['x-forwarded-for']).toMatch(/127\.0\.0\.1$/);
    expect(h1['x-forwarded-proto']).toBe('https');
    const trusting = await startProxy({ trustedProxies: ['127.0.0.1'] });
    const h2 = JSON.parse((await get(trusting, '/user/alice/', { headers: spoof })).body).headers as Record<string, string>;
    expect(h2['x-forwarded-for']).toBe('203.0.113.9');
    expect(h2['x-forwarded-proto']).toBe('http');
  });
});
