/**
 * WebSocket (any HTTP upgrade) forwarding: route like a request, check `Origin` against `Host`
 * for user servers (code-server's habit; Jupyter's own check is the second line), write the
 * request head to a fresh upstream socket, then only pipe bytes. Route activity is a timestamp
 * write per chunk once the upstream accepted the upgrade (101); frames are never parsed.
 */
import type http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AccessLog } from './access-log.js';
import { HUB_DOWN_MESSAGE, writeRawError } from './error-pages.js';
import { forwardRequestHeaders } from './forward-headers.js';
import { parseRequestTarget } from './request-path.js';
import type { RouteEntry, RouteTable } from './route-table.js';

export interface UpgradeDeps {
  routes: RouteTable;
  access: AccessLog;
  /** Every live client and upstream socket of an upgraded connection, for close(). */
  sockets: Set<Duplex>;
  connectTimeoutMs: number;
  /** The public scheme (`https` = the client speaks wss://), for X-Forwarded-Proto. */
  proto?: 'http' | 'https';
  /** True for a front proxy whose X-Forwarded-* are believed. */
  isTrusted?: (remoteAddress: string) => boolean;
}

function headerValue(raw: string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === lowerName.length && raw[i].toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}

function withoutDefaultPort(hostPort: string, scheme: string): string {
  if (scheme === 'http' && hostPort.endsWith(':80')) return hostPort.slice(0, -3);
  if (scheme === 'https' && hostPort.endsWith(':443')) return hostPort.slice(0, -4);
  return hostPort;
}

/**
 * True when the upgrade may go on: no `Origin` (not a browser), or Origin's host:port equals
 * `Host`. The opaque origin `null` never matches.
 */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  const sep = origin.indexOf('://');
  if (sep === -1) return false;
  const scheme = origin.slice(0, sep).toLowerCase();
  let hostPort = origin.slice(sep + 3);
  const slash = hostPort.indexOf('/');
  if (slash !== -1) hostPort = hostPort.slice(0, slash);
  return withoutDefaultPort(hostPort.toLowerCase(), scheme) === withoutDefaultPort(host.toLowerCase(), scheme);
}

function noop(): void {}

/** Builds the public server's `upgrade` listener. */
export function createUpgradeHandler(deps: UpgradeDeps): (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { routes, access, sockets } = deps;
  const proto = deps.proto ?? 'http';
  const isTrusted = deps.isTrusted ?? ((): boolean => false);

  function pipeUpgrade(req: http.IncomingMessage, client: net.Socket, head: Buffer, route: RouteEntry, url: string, started: number): void {
    const method = req.method ?? 'GET';
    const peer = client.remoteAddress ?? '';
    const fwd = forwardRequestHeaders(req.rawHeaders, peer, proto, !route.hub, true, isTrusted(peer));
    let requestHead = `${method} ${url} HTTP/1.1\r\n`;
    const h = fwd.headers;
    for (let i = 0; i < h.length; i += 2) requestHead += `${h[i]}: ${h[i + 1]}\r\n`;
    if (fwd.host === '') requestHead += `Host: ${route.target.slice(7)}\r\n`;
    requestHead += '\r\n';

    const upstream = net.connect({ host: route.host, port: route.port, noDelay: true });
    sockets.add(upstream);
    upstream.setTimeout(deps.connectTimeoutMs, () => upstream.destroy(new Error('upstream connect timed out')));
    let connected = false;

    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        access.write(503, method, url, started, route.target, err.code ?? err.message);
        writeRawError(client, 503, route.hub ? HUB_DOWN_MESSAGE : `The server at ${route.prefix} is not responding`);
      } else client.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (connected) client.destroy();
    });
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });

    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      upstream.write(requestHead);
      if (head.length > 0) upstream.write(head);
      // one listener per direction: relay the bytes, and once the upstream accepted the upgrade
      // ("HTTP/1.1 101 …" in its first bytes), count them as activity
      let accepted = false;
      let checked = false;
      upstream.on('data', (chunk: Buffer) => {
        if (!checked) {
          checked = true;
          const status = Number(chunk.toString('latin1', 9, 12));
          accepted = status === 101;
          access.write(status || 502, method, url, started, route.target);
        }
        if (accepted) route.lastActivity = Date.now();
        if (!client.write(chunk)) upstream.pause();
      });
      client.on('data', (chunk: Buffer) => {
        if (accepted) route.lastActivity = Date.now();
        if (!upstream.write(chunk)) client.pause();
      });
      client.on('drain', () => upstream.resume());
      upstream.on('drain', () => client.resume());
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
    });
  }

  return function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const client = socket as net.Socket;
    const started = Date.now();
    client.on('error', noop);
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    const rawUrl = req.url ?? '/';
    const method = req.method ?? 'GET';
    const target = parseRequestTarget(rawUrl);
    if (target === null) {
      access.write(400, method, rawUrl, started, '');
      writeRawError(client, 400, 'Bad request path: dot-segments are not allowed');
      return;
    }
    const route = routes.match(target.path);
    if (route === undefined) {
      access.write(503, method, rawUrl, started, '', 'no route');
      writeRawError(client, 503, HUB_DOWN_MESSAGE);
      return;
    }
    if (!route.hub && !originAllowed(headerValue(req.rawHeaders, 'origin'), headerValue(req.rawHeaders, 'host'))) {
      access.write(403, method, rawUrl, started, route.target, 'cross-origin websocket');
      writeRawError(client, 403, 'Cross-origin websocket connection refused');
      return;
    }
    client.setNoDelay(true);
    client.setTimeout(0);
    client.setKeepAlive(true, 30_000);
    pipeUpgrade(req, client, head, route, target.url, started);
  };
}
