/**
 * The hub's side of the proxy seam: `HttpProxyClient` speaks the CHP-compatible control API
 * (so it works with LabHub's proxy and with configurable-http-proxy), plus the helpers that find
 * and check a running proxy through its proxy.json.
 */
import http from 'node:http';
import { HubError } from '../errors.js';
import { readProxyInfo, type ProxyInfo } from './proxy-info.js';
import type { ProxyClient, Route, RouteData } from './types.js';

export { readProxyInfo, type ProxyInfo };

export interface HttpProxyClientOptions {
  /** e.g. `http://127.0.0.1:8001` */
  apiUrl: string;
  token: string;
  timeoutMs?: number;
}

interface ApiResponse {
  status: number;
  body: string;
}

/** Converts CHP's flat route JSON (`{target, ...data, last_activity}`) to a Route. */
export function routeFromJson(flat: Record<string, unknown>): Route {
  const { target, last_activity: lastActivity, ...data } = flat;
  return {
    target: String(target),
    data: data as RouteData,
    last_activity: typeof lastActivity === 'string' ? lastActivity : null,
  };
}

export class HttpProxyClient implements ProxyClient {
  private readonly base: URL;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 2, timeout: 30_000 });
  private readonly timeoutMs: number;

  constructor(private readonly opts: HttpProxyClientOptions) {
    this.base = new URL(opts.apiUrl);
    if (this.base.protocol !== 'http:') throw new Error(`the proxy API URL must be http://, got ${opts.apiUrl}`);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async getRoutes(): Promise<Record<string, Route>> {
    const res = await this.call('GET', '/api/routes');
    const flat = this.parse(res, 'GET', '/api/routes') as Record<string, Record<string, unknown>>;
    const out: Record<string, Route> = {};
    for (const [prefix, route] of Object.entries(flat)) out[prefix] = routeFromJson(route);
    return out;
  }

  /** One route, or null when there is none. */
  async getRoute(prefix: string): Promise<Route | null> {
    const path = routePath(prefix);
    const res = await this.call('GET', path);
    if (res.status === 404) return null;
    return routeFromJson(this.parse(res, 'GET', path) as Record<string, unknown>);
  }

  async addRoute(prefix: string, target: string, data: RouteData): Promise<void> {
    const path = routePath(prefix);
    const res = await this.call('POST', path, JSON.stringify({ ...data, target }));
    if (res.status !== 201 && res.status !== 200) throw this.statusError('POST', path, res);
  }

  /** Deleting a route that does not exist is not an error. */
  async deleteRoute(prefix: string): Promise<void> {
    const path = routePath(prefix);
    const res = await this.call('DELETE', path);
    if (res.status !== 204 && res.status !== 200 && res.status !== 404) throw this.statusError('DELETE', path, res);
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  private url(path: string): string {
    return new URL(path, this.base).toString();
  }

  private parse(res: ApiResponse, method: string, path: string): unknown {
    if (res.status !== 200) throw this.statusError(method, path, res);
    try {
      return JSON.parse(res.body);
    } catch {
      throw new HubError('HUB_ERR_PROXY', `the proxy API ${method} ${this.url(path)} answered with invalid JSON`);
    }
  }

  private statusError(method: string, path: string, res: ApiResponse): HubError {
    let detail = res.body.slice(0, 200);
    try {
      const parsed = JSON.parse(res.body) as { message?: unknown };
      if (typeof parsed.message === 'string') detail = parsed.message;
    } catch {
      // not JSON: keep the text
    }
    const hint = res.status === 403 ? ' (the proxy token does not match: check proxy-token or LABHUB_PROXY_AUTH_TOKEN)' : '';
    return new HubError('HUB_ERR_PROXY', `the proxy API ${method} ${this.url(path)} answered ${res.status}${detail ? `: ${detail}` : ''}${hint}`);
  }

  private call(method: string, path: string, body?: string): Promise<ApiResponse> {
    const url = this.url(path);
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { Authorization: `token ${this.opts.token}`, Accept: 'application/json' };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = Buffer.byteLength(body);
      }
      const req = http.request(
        { host: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || 80, method, path, headers, agent: this.agent, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(new HubError('HUB_ERR_PROXY', `the proxy API ${method} ${url} failed: ${err.message}`, { cause: err })));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(new HubError('HUB_ERR_PROXY', `the proxy API ${method} ${url} failed: ${err.message}`, { cause: err })));
      req.end(body);
    });
  }
}

function routePath(prefix: string): string {
  return '/api/routes' + (prefix.startsWith('/') ? prefix : '/' + prefix);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the proxy described by proxy.json is running: its pid exists and its
 * `GET /api/health` answers with that pid. With `token`, the proxy must also accept it, so a
 * proxy that would refuse the hub's route changes does not count as usable.
 */
export async function isProxyAlive(info: ProxyInfo, token?: string, timeoutMs = 2_000): Promise<boolean> {
  if (!pidAlive(info.pid)) return false;
  let url: URL;
  try {
    url = new URL('/api/health', info.apiUrl);
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 80,
        path: url.pathname,
        agent: false,
        timeout: timeoutMs,
        headers: token ? { Authorization: `token ${token}` } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => resolve(false));
        res.on('end', () => {
          if (res.statusCode !== 200) return resolve(false);
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { pid?: unknown; authenticated?: unknown };
            resolve(body.pid === info.pid && (!token || body.authenticated === true));
          } catch {
            resolve(false);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
