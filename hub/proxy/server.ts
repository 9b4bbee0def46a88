/**
 * createProxy: the composition root of `labhub proxy`. Builds the route table (restored from the
 * data dir), the upstream agent, the public server (HTTP or HTTPS forwarding + websocket upgrades,
 * plus an optional http→https redirect listener) and the loopback control API, and returns
 * something that can be listened and closed.
 */
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { AccessLog } from './access-log.js';
import { createControlApi } from './control-api.js';
import { loadTlsFiles, type TlsMaterial } from '../tls/files.js';
import { createRequestHandler } from './http-forward.js';
import { createRedirectHandler } from './https-redirect.js';
import { RouteStore } from './route-store.js';
import { RouteTable } from './route-table.js';
import { createTlsReloader, type TlsReloader } from './tls-reload.js';
import { UpstreamPool, type UpstreamOptions } from './upstream-pool.js';
import { createUpgradeHandler } from './ws-forward.js';

export interface ProxyOptions {
  /** Public bind address and port (0 = any free port). */
  ip: string;
  port: number;
  /** Control API bind address (keep it loopback) and port. */
  apiIp: string;
  apiPort: number;
  /** Where `proxy-routes.json` lives. */
  dataDir: string;
  /** Control API secret (see secret.ts). */
  token: string;
  logger: Logger;
  /** When given, the `/` route is set to it (`{hub: true}`) at start, like CHP's `--default-target`. */
  defaultTarget?: string;
  /** Upstream pool limits and timeouts. */
  upstream?: Partial<UpstreamOptions>;
  /** How long close() lets requests and websockets finish before destroying them (ms). */
  closeGraceMs?: number;
  /**
   * HTTPS on the public port (paths of `proxy.tls`); checked here, so a bad file throws
   * HUB_ERR_TLS before anything listens. `httpRedirectPort` > 0 adds a plain-http listener on
   * `ip` that redirects to https; `pollMs` is how often the files are checked for renewal.
   */
  tls?: { cert: string; key: string; caCert?: string; httpRedirectPort?: number; pollMs?: number };
  /** Front proxies whose X-Forwarded-* headers are believed (exact addresses). */
  trustedProxies?: readonly string[];
}

export interface Proxy {
  listen(): Promise<void>;
  close(): Promise<void>;
  publicAddress(): { host: string; port: number };
  apiAddress(): { host: string; port: number };
  /** The plain-http redirect listener's address, when there is one. */
  redirectAddress(): { host: string; port: number } | null;
  /** `https` when the public port speaks TLS. */
  readonly scheme: 'http' | 'https';
  /** Re-reads the TLS files (SIGHUP); false when they are not usable (the old ones stay). */
  reloadTls(): boolean;
  routes: RouteTable;
}

/** A membership test for trusted front proxies that also matches IPv4-mapped IPv6 peers. */
export function trustedSet(addresses: readonly string[] = []): (remoteAddress: string) => boolean {
  if (addresses.length === 0) return () => false;
  const set = new Set<string>();
  for (const a of addresses) {
    set.add(a);
    if (/^\d+\.\d+\.\d+\.\d+$/.test(a)) set.add('::ffff:' + a);
  }
  return (remoteAddress) => set.has(remoteAddress);
}

// node:https (and node:tls) are loaded only when TLS is configured: ~1 MB less resident memory for
// a plain-http proxy, which counts in the hub + proxy memory budget
const requireBuiltin = createRequire(import.meta.url);

function addressOf(server: NetServer, what: string): { host: string; port: number } {
  const addr = server.address() as AddressInfo | null;
  if (addr === null || typeof addr === 'string') throw new Error(`the proxy's ${what} server is not listening`);
  return { host: addr.address, port: addr.port };
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1';
}

function listenOn(server: NetServer, ip: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, ip, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** Builds a proxy; nothing listens until `listen()`. */
export function createProxy(opts: ProxyOptions): Proxy {
  const logger = opts.logger;
  const routes = new RouteTable();
  const store = new RouteStore(opts.dataDir, routes, logger);
  const pool = new UpstreamPool(opts.upstream);
  const access = new AccessLog(logger);
  const upgraded = new Set<Duplex>();
  const startedAt = Date.now();
  const grace = opts.closeGraceMs ?? 2_000;

  const httpOptions: http.ServerOptions = {
    noDelay: true,
    keepAliveTimeout: 30_000,
    headersTimeout: 60_000,
    // long uploads and downloads are legitimate; idle sockets are bounded by keepAliveTimeout
    requestTimeout: 3_600_000,
  };
  const tlsOpts = opts.tls;
  const material: TlsMaterial | null = tlsOpts ? loadTlsFiles(tlsOpts) : null;
  const proto = material ? 'https' : 'http';
  const isTrusted = trustedSet(opts.trustedProxies);
  // the same request and upgrade handlers either way: TLS only changes the socket underneath
  const handler = createRequestHandler({ routes, pool, access, logger, proto, isTrusted });
  const server: http.Server | https.Server = material
    ? (requireBuiltin('node:https') as typeof https).createServer({ ...httpOptions, cert: material.cert, key: material.key, minVersion: 'TLSv1.2' }, handler)
    : http.createServer(httpOptions, handler);
  server.on('upgrade', createUpgradeHandler({ routes, access, sockets: upgraded, connectTimeoutMs: pool.settings.connectTimeoutMs, proto, isTrusted }));
  if (material) {
    // browsers that do not (yet) trust the certificate abort handshakes; that is not an error of ours
    server.on('tlsClientError', (err: Error) => logger.debug({ err: err.message }, 'TLS handshake failed'));
  }
  const redirectPort = tlsOpts?.httpRedirectPort ?? 0;
  const redirect =
    material && redirectPort > 0
      ? http.createServer(
          { keepAliveTimeout: 5_000, headersTimeout: 10_000, requestTimeout: 10_000 },
          createRedirectHandler({ httpsPort: () => addressOf(server, 'public').port, caCert: tlsOpts?.caCert }),
        )
      : null;
  const applyTls = (m: TlsMaterial): void => (server as https.Server).setSecureContext({ cert: m.cert, key: m.key, minVersion: 'TLSv1.2' });
  const reloader: TlsReloader | null = material && tlsOpts ? createTlsReloader(tlsOpts, applyTls, logger, tlsOpts.pollMs ?? 10_000) : null;

  const api = http.createServer({ keepAliveTimeout: 30_000 }, createControlApi({ routes, store, token: opts.token, logger, startedAt }));

  let closing: Promise<void> | null = null;

  async function listen(): Promise<void> {
    await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const restored = await store.load();
    if (opts.defaultTarget) routes.set('/', opts.defaultTarget, { hub: true });
    await listenOn(api, opts.apiIp, opts.apiPort);
    try {
      await listenOn(server, opts.ip, opts.port);
      if (redirect) await listenOn(redirect, opts.ip, redirectPort);
      reloader?.watch();
    } catch (err) {
      await Promise.all([closeServer(api), closeServer(server)]);
      throw err;
    }
    const pub = addressOf(server, 'public');
    const ctl = addressOf(api, 'control API');
    if (!isLoopback(ctl.host)) logger.warn({ api: ctl.host }, 'the proxy control API listens beyond loopback; only its token protects it');
    const extra = material ? { scheme: proto, httpRedirect: redirect ? addressOf(redirect, 'redirect').port : null, certificate: material.summary } : {};
    logger.info({ public: `${pub.host}:${pub.port}`, api: `${ctl.host}:${ctl.port}`, routes: routes.size, restored, ...extra }, 'proxy listening');
    if (material && material.summary.daysLeft < 14) {
      logger.warn({ cert: tlsOpts?.cert, validTo: material.summary.validTo }, material.summary.daysLeft < 0 ? 'the TLS certificate has expired' : 'the TLS certificate expires soon');
    }
  }

  async function doClose(): Promise<void> {
    // stop accepting; idle keep-alive connections go now, requests in flight and websockets get
    // the grace period, then whatever is left is destroyed
    reloader?.close();
    const closed = Promise.all([closeServer(server), closeServer(api), redirect ? closeServer(redirect) : undefined]);
    redirect?.closeAllConnections();
    server.closeIdleConnections();
    api.closeIdleConnections();
    const wsClosed = Promise.all([...upgraded].map((s) => (s.destroyed ? undefined : once(s, 'close').catch(() => undefined))));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, grace);
    });
    await Promise.race([Promise.all([closed, wsClosed]), graceOver]);
    clearTimeout(timer);
    for (const socket of upgraded) socket.destroy();
    server.closeAllConnections();
    api.closeAllConnections();
    await closed;
    pool.close();
    await store.close();
    logger.info('proxy closed');
  }

  return {
    routes,
    listen,
    close(): Promise<void> {
      closing ??= doClose();
      return closing;
    },
    publicAddress: () => addressOf(server, 'public'),
    apiAddress: () => addressOf(api, 'control API'),
    redirectAddress: () => (redirect ? addressOf(redirect, 'redirect') : null),
    scheme: proto,
    reloadTls: () => (reloader ? reloader.reload('reload requested') : false),
  };
}
