/**
 * The control API, configurable-http-proxy's (https://github.com/jupyterhub/configurable-http-proxy#using-the-rest-api),
 * so JupyterHub's own CHP client and LabHub's `HttpProxyClient` both work:
 *
 *   GET    /api/routes[?inactive_since=<ISO>]  → 200 {prefix: {target, ...data, last_activity}}
 *   GET    /api/routes/<prefix>                → 200 {target, ...data, last_activity} | 404
 *   POST   /api/routes/<prefix>  {target, ...} → 201 (after the change is on disk)
 *   DELETE /api/routes/<prefix>                → 204 | 404
 *   GET    /api/health (no auth)               → 200 {status: "ok", pid, uptime}
 *
 * Every route call needs `Authorization: token <secret>` (compared in constant time), else 403.
 * Keys are canonical prefixes with a trailing slash (`/user/alice/`); JupyterHub accepts both
 * forms. `last_activity` is omitted for a route never used, since JupyterHub skips routes without
 * it but cannot parse null.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Logger } from '../log.js';
import { RouteError, type RouteTable } from './route-table.js';
import type { RouteStore } from './route-store.js';
import type { Route } from './types.js';

const MAX_BODY = 64 * 1024;

export interface ControlApiDeps {
  routes: RouteTable;
  store: RouteStore;
  token: string;
  logger: Logger;
  startedAt: number;
}

/** CHP's flat JSON form of a route. */
export function flatRoute(route: Route): Record<string, unknown> {
  const out: Record<string, unknown> = { ...route.data, target: route.target };
  if (route.last_activity !== null) out.last_activity = route.last_activity;
  return out;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** True when the `Authorization` header carries the token (`token <t>` or `Bearer <t>`). */
export function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header);
  if (m === null) return false;
  return timingSafeEqual(digest(m[1]), expected);
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status, { 'Content-Length': '0' });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  send(res, status, { status, message });
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new RouteError('request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch {
        reject(new RouteError('invalid JSON in body of request'));
      }
    });
  });
}

/** Builds the control server's `request` listener. */
export function createControlApi(deps: ControlApiDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const { routes, store, logger } = deps;
  const expected = digest(deps.token);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const method = req.method ?? 'GET';

    if (path === '/api/health' || path === '/api/health/') {
      if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'Method not allowed');
      const body: Record<string, unknown> = { status: 'ok', pid: process.pid, uptime: Math.round((Date.now() - deps.startedAt) / 1000) };
      if (req.headers.authorization !== undefined) body.authenticated = tokenMatches(req.headers.authorization, expected);
      return send(res, 200, body);
    }
    if (path !== '/api/routes' && !path.startsWith('/api/routes/')) return sendError(res, 404, 'Not found');
    if (!tokenMatches(req.headers.authorization, expected)) {
      logger.warn({ method, url: path, remote: req.socket.remoteAddress }, 'control API request without a valid token');
      return sendError(res, 403, 'Forbidden');
    }
    const prefix = path.slice('/api/routes'.length) || '/';

    if (method === 'GET') {
      if (prefix !== '/') {
        const route = routes.get(prefix);
        return route === undefined ? sendError(res, 404, 'No such route') : send(res, 200, flatRoute(route));
      }
      const since = query.get('inactive_since') ?? query.get('inactiveSince');
      let cutoff = Infinity;
      if (since !== null) {
        cutoff = Date.parse(since);
        if (!Number.isFinite(cutoff)) return sendError(res, 400, `Invalid datestamp '${since}' must be ISO8601.`);
      }
      const out: Record<string, unknown> = {};
      for (const [key, route] of Object.entries(routes.all())) {
        if (cutoff !== Infinity && route.last_activity !== null && Date.parse(route.last_activity) >= cutoff) continue;
        out[key] = flatRoute(route);
      }
      return send(res, 200, out);
    }

    if (method === 'POST') {
      const body = await readJson(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RouteError('body must be a JSON object');
      const { target, ...data } = body as Record<string, unknown>;
      if (typeof target !== 'string') throw new RouteError("Must specify 'target' as string");
      routes.set(prefix, target, data);
      logger.info({ prefix: routes.entry(prefix)?.prefix, target }, 'route added');
      await store.flush();
      return send(res, 201);
    }

    if (method === 'DELETE') {
      if (!routes.delete(prefix)) return sendError(res, 404, 'No such route');
      logger.info({ prefix }, 'route deleted');
      await store.flush();
      return send(res, 204);
    }

    return sendError(res, 405, 'Method not allowed');
  }

  return function onControlRequest(req, res) {
    handle(req, res).catch((err: Error) => {
      if (err instanceof RouteError) {
        if (!res.headersSent) sendError(res, 400, err.message);
        return;
      }
      logger.error({ err: err.message, url: (req.url ?? '').split('?')[0] }, 'control API request failed');
      if (!res.headersSent) sendError(res, 500, 'Internal error');
    });
  };
}
