/**
 * createProxy: the composition root of `labhub proxy`. Builds the route table (restored from the
 * data dir), the upstream agent, the public server (HTTP forwarding + websocket upgrades) and the
 * loopback control API, and returns something that can be listened and closed.
 */
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { AccessLog } from './access-log.js';
import { createControlApi } from './control-api.js';
import { createRequestHandler } from './http-forward.js';
import { RouteStore } from './route-store.js';
import { RouteTable } from './route-table.js';
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
}

export interface Proxy {
  listen(): Promise<void>;
  close(): Promise<void>;
  publicAddress(): { host: string; port: number };
  apiAddress(): { host: string; port: number };
  routes: RouteTable;
}

function addressOf(server: http.Server, what: string): { host: string; port: number } {
  const addr = server.address() as AddressInfo | null;
  if (addr === null || typeof addr === 'string') throw new Error(`the proxy's ${what} server is not listening`);
  return { host: addr.address, port: addr.port };
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1';
}

function listenOn(server: http.Server, ip: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, ip, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
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

  const server = http.createServer(
    {
      noDelay: true,
      keepAliveTimeout: 30_000,
      headersTimeout: 60_000,
      // long uploads and downloads are legitimate; idle sockets are bounded by keepAliveTimeout
      requestTimeout: 3_600_000,
    },
    createRequestHandler({ routes, pool, access, logger }),
  );
  server.on('upgrade', createUpgradeHandler({ routes, access, sockets: upgraded, connectTimeoutMs: pool.settings.connectTimeoutMs }));

  const api = http.createServer({ keepAliveTimeout: 30_000 }, createControlApi({ routes, store, token: opts.token, logger, startedAt }));

  let closing: Promise<void> | null = null;

  async function listen(): Promise<void> {
    await fs.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const restored = await store.load();
    if (opts.defaultTarget) routes.set('/', opts.defaultTarget, { hub: true });
    await listenOn(api, opts.apiIp, opts.apiPort);
    try {
      await listenOn(server, opts.ip, opts.port);
    } catch (err) {
      await closeServer(api);
      throw err;
    }
    const pub = addressOf(server, 'public');
    const ctl = addressOf(api, 'control API');
    if (!isLoopback(ctl.host)) logger.warn({ api: ctl.host }, 'the proxy control API listens beyond loopback; only its token protects it');
    logger.info({ public: `${pub.host}:${pub.port}`, api: `${ctl.host}:${ctl.port}`, routes: routes.size, restored }, 'proxy listening');
  }

  async function doClose(): Promise<void> {
    // stop accepting; idle keep-alive connections go now, requests in flight and websockets get
    // the grace period, then whatever is left is destroyed
    const closed = Promise.all([closeServer(server), closeServer(api)]);
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
  };
}
