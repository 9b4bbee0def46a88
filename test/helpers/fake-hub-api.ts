/**
 * A stand-in for the few hub API endpoints a single-user server calls on its own (spec §2), so
 * spawner tests can run the real `jupyterhub-singleuser` without the hub:
 *   GET  /hub/api                       → 200 {"version":"3.0.0"} + X-JupyterHub-Version (the startup probe;
 *                                          without it the server exits after ~48 s)
 *   POST /hub/api/users/<name>/activity → 200, recorded
 *   GET  /hub/api/user                  → 200 model for a token in `users`, else 403 {"status":403,"message":"Forbidden"}
 * Every request is recorded. Listens on 127.0.0.1, port 0.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeHubApi {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `<origin>/hub/api` */
  apiUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface FakeHubOptions {
  /** token → user model answered by `GET /hub/api/user` (lets a test call the server's API with that token). */
  users?: Record<string, { name: string; scopes: string[]; kind?: string }>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-JupyterHub-Version': '3.0.0' });
  res.end(JSON.stringify(body));
}

export async function startFakeHubApi(opts: FakeHubOptions = {}): Promise<FakeHubApi> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const path = url.split('?')[0];
      requests.push({ method: req.method ?? '', url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.method === 'GET' && (path === '/hub/api' || path === '/hub/api/')) return json(res, 200, { version: '3.0.0' });
      if (req.method === 'POST' && /^\/hub\/api\/users\/[^/]+\/activity$/.test(path ?? '')) return json(res, 200, {});
      if (req.method === 'GET' && path === '/hub/api/user') {
        const token = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const model = token ? opts.users?.[token] : undefined;
        if (model) return json(res, 200, { kind: 'user', ...model });
        return json(res, 403, { status: 403, message: 'Forbidden' });
      }
      json(res, 404, { status: 404, message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    apiUrl: `${origin}/hub/api`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The JUPYTERHUB_* environment the hub builds for a user's default server (spec §1.1), without
 * JUPYTERHUB_SERVICE_URL, which the spawner adds.
 */
export function singleUserHubEnv(name: string, apiUrl: string, token = randomBytes(16).toString('hex')): Record<string, string> {
  const prefix = `/user/${name}/`;
  return {
    JUPYTERHUB_API_TOKEN: token,
    JUPYTERHUB_CLIENT_ID: `jupyterhub-user-${name}`,
    JUPYTERHUB_USER: name,
    JUPYTERHUB_SERVER_NAME: '',
    JUPYTERHUB_API_URL: apiUrl,
    JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${name}/activity`,
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify([`access:servers!server=${name}/`, `access:servers!user=${name}`]),
    JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp',
  };
}
