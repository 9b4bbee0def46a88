/**
 * The upstream fixture for proxy tests (configurable-http-proxy's test style): an HTTP server that
 * answers every request with JSON describing it (method, url, headers, raw headers, body), and a
 * websocket echo on the same port. A path containing `/slow-stream` streams chunks on demand, `/status/<n>` answers
 * with that status, `/hub/error/<n>` is a hub error page with that status, `/big/<n>` sends n bytes chunked. Everything it opened is closed by close().
 */
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface EchoRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  /** Chunks as they arrived, to show the body was streamed. */
  chunks: number;
  /** The proxy's source port: equal ports mean a reused upstream connection. */
  remotePort: number;
}

export interface EchoUpstream {
  url: string;
  port: number;
  /** Requests seen, in order. */
  requests: EchoRequest[];
  /** Websocket connections accepted, with their upgrade request headers. */
  wsUpgrades: http.IncomingHttpHeaders[];
  /** Responses of `/slow-stream`, written by the test; `closed` resolves when its socket closes. */
  streams: Array<{ write(data: string): void; end(): void; closed: Promise<void> }>;
  /** Emits `data` (url, chunk) as request body chunks arrive, and `stream` when a /slow-stream starts. */
  events: EventEmitter;
  /** Resolves once no client connection is open (all closed by their peers). */
  whenNoConnections(): Promise<void>;
  /** Resolves when the n-th request (1-based) has arrived. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startEchoUpstream(name = 'echo'): Promise<EchoUpstream> {
  const requests: EchoRequest[] = [];
  const wsUpgrades: http.IncomingHttpHeaders[] = [];
  const streams: EchoUpstream['streams'] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const sockets = new Set<Socket>();
  const events = new EventEmitter();

  const notify = (): void => {
    for (const w of [...waiters]) {
      if (requests.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      events.emit('data', req.url, c);
    });
    req.on('end', () => {
      const entry: EchoRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
        chunks: chunks.length,
        remotePort: req.socket.remotePort ?? 0,
      };
      requests.push(entry);
      notify();
      const url = req.url ?? '';
      const status = /\/status\/(\d{3})/.exec(url);
      if (status) {
        res.writeHead(Number(status[1]), { 'Content-Type': 'application/json', 'X-Upstream': name });
        res.end(JSON.stringify({ name, ...entry }));
        return;
      }
      const hubError = /^\/hub\/error\/(\d{3})/.exec(url);
      if (hubError) {
        res.writeHead(Number(hubError[1]), { 'Content-Type': 'application/json', 'X-Upstream': name });
        res.end(JSON.stringify({ name, page: 'error', ...entry }));
        return;
      }
      const big = /\/big\/(\d+)/.exec(url);
      if (big) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        let left = Number(big[1]);
        const block = Buffer.alloc(16 * 1024, 'x');
        const pump = (): void => {
          while (left > 0) {
            const n = Math.min(left, block.length);
            left -= n;
            if (!res.write(block.subarray(0, n))) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        pump();
        return;
      }
      if (url.includes('/slow-stream')) {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' });
        res.flushHeaders();
        streams.push({ write: (d) => res.write(d), end: () => res.end(), closed: once(res, 'close').then(() => undefined) });
        events.emit('stream');
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'X-Upstream': name,
        Connection: 'keep-alive, X-Secret-Hop',
        'X-Secret-Hop': 'must not reach the client',
        'Keep-Alive': 'timeout=5',
        'Set-Cookie': ['a=1; Path=/', 'b=2; Path=/'],
      });
      res.end(JSON.stringify({ name, ...entry }));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => {
      sockets.delete(s);
      if (sockets.size === 0) events.emit('no-connections');
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws: WebSocket, req) => {
    wsUpgrades.push(req.headers);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    wsUpgrades,
    streams,
    events,
    whenNoConnections(): Promise<void> {
      if (sockets.size === 0) return Promise.resolve();
      return once(events, 'no-connections').then(() => undefined);
    },
    waitForRequests(n: number): Promise<void> {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close(): Promise<void> {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound, then released (connections to it are refused). */
export async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface TestResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

/** One request on a fresh connection (no agent, so nothing is left open); `path` is sent as is. */
export function httpRequest(
  port: number,
  path: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders | string[]; body?: string | Buffer } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
