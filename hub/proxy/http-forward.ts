/**
 * The per-request hot path: route the raw path, write the request head (rewritten headers) to a
 * pooled keep-alive upstream connection, stream the request body, parse the response with our
 * own small parser and relay it through Node's ServerResponse with raw header arrays.
 * No URL objects, no header objects, no ClientRequest/IncomingMessage for the upstream side, no
 * buffering; access logging costs one comparison when its level is off.
 */
import type http from 'node:http';
import type { Logger } from '../log.js';
import type { AccessLog } from './access-log.js';
import { relayHubErrorPage, sendError, sendHubDown, wantsJson } from './error-pages.js';
import { forwardRequestHeaders } from './forward-headers.js';
import { parseRequestTarget } from './request-path.js';
import { ResponseParseError, type ResponseHandler } from './response-parser.js';
import type { RouteEntry, RouteTable } from './route-table.js';
import type { ConnectionUser, UpstreamConnection, UpstreamPool } from './upstream-pool.js';

export interface ForwardDeps {
  routes: RouteTable;
  pool: UpstreamPool;
  access: AccessLog;
  logger: Logger;
  /** The public scheme, for X-Forwarded-Proto: `https` when the proxy terminates TLS. */
  proto?: 'http' | 'https';
  /** True for a front proxy whose X-Forwarded-* are believed (see forward-headers.ts). */
  isTrusted?: (remoteAddress: string) => boolean;
}

const trustNobody = (): boolean => false;

function accept(req: http.IncomingMessage): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 6 && raw[i].toLowerCase() === 'accept') return raw[i + 1];
  }
  return undefined;
}

/** Errors after which a request on a reused keep-alive connection is retried once on a fresh one. */
function isStaleConnectionError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

/** One request/response relayed over one upstream connection. */
class Exchange implements ConnectionUser, ResponseHandler {
  private conn: UpstreamConnection | null = null;
  /** Response head written to the client. */
  private responded = false;
  /** Response complete (or the exchange given up). */
  private finished = false;
  /** Request body fully written upstream. */
  private bodySent: boolean;
  private retried = false;
  private bodyStarted = false;

  constructor(
    private readonly fwd: Forwarder,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly route: RouteEntry,
    private readonly url: string,
    private readonly path: string,
    private readonly started: number,
    private readonly head: string,
    private readonly hasBody: boolean,
    private readonly chunked: boolean,
  ) {
    this.bodySent = !hasBody;
    res.once('close', this.onClientClose);
  }

  onConnection(conn: UpstreamConnection): void {
    this.conn = conn;
    conn.parser.start(this, this.req.method === 'HEAD');
    conn.write(this.head);
    if (this.hasBody && !this.bodyStarted) this.startBody();
  }

  onResponseHead(status: number, reason: string, headers: string[]): void {
    const res = this.res;
    if (status < 400) this.route.lastActivity = Date.now();
    try {
      res.writeHead(status, reason, headers);
    } catch (err) {
      // a header Node will not send (invalid characters): the response is unusable
      throw new ResponseParseError((err as Error).message);
    }
    this.responded = true;
    const access = this.fwd.access;
    if (access.enabled(status)) access.write(status, this.req.method ?? '', this.url, this.started, this.route.target);
  }

  onResponseWaiting(): void {
    this.res.flushHeaders();
  }

  onResponseBody(chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      const socket = this.conn!.socket;
      socket.pause();
      this.res.once('drain', () => socket.resume());
    }
  }

  onResponseEnd(reusable: boolean, last: Buffer | null): void {
    this.finished = true;
    if (last === null) this.res.end();
    else this.res.end(last);
    const conn = this.conn!;
    if (this.bodySent) {
      this.conn = null;
      this.fwd.pool.release(conn, reusable);
    } else {
      // answered before the whole body was sent (e.g. 413): the connection cannot be reused;
      // keep draining the client's body so its connection stays usable
      this.conn = null;
      this.fwd.pool.release(conn, false);
      this.req.removeAllListeners('data');
      this.req.resume();
    }
  }

  onUpstreamDrain(): void {
    if (this.bodyStarted && !this.bodySent) this.req.resume();
  }

  onUpstreamError(err: Error): void {
    const conn = this.conn;
    this.conn = null;
    if (this.finished) return;
    if (this.responded) {
      // cut off in the middle of the body: the client must see a broken response, not a short one
      this.finished = true;
      this.res.destroy();
      return;
    }
    if (this.res.destroyed) return;
    if (!this.retried && !this.hasBody && conn !== null && conn.reused && isStaleConnectionError(err)) {
      this.retried = true;
      this.fwd.pool.acquire(this.route.host, this.route.port, this, true);
      return;
    }
    this.finished = true;
    if (this.bodyStarted) {
      // the client's unsent body is read and dropped, so its connection stays usable
      this.req.removeAllListeners('data');
      this.req.resume();
    }
    this.fwd.fail(this.req, this.res, this.route, this.url, this.path, err, this.started);
  }

  private readonly onClientClose = (): void => {
    if (this.finished) return;
    // the client went away first: give the upstream connection up instead of leaking it
    this.finished = true;
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) conn.destroy();
    else this.fwd.pool.cancel(this.route.host, this.route.port, this);
  };

  /** Streams the request body up: raw for Content-Length, re-chunked for Transfer-Encoding. */
  private startBody(): void {
    this.bodyStarted = true;
    const req = this.req;
    req.on('data', (chunk: Buffer) => {
      const conn = this.conn;
      if (conn === null) return;
      let ok: boolean;
      if (this.chunked) {
        conn.socket.cork();
        conn.write(chunk.length.toString(16) + CRLF);
        conn.write(chunk);
        ok = conn.write(CRLF);
        conn.socket.uncork();
      } else ok = conn.write(chunk);
      if (!ok) req.pause();
    });
    req.once('end', () => {
      const conn = this.conn;
      if (conn !== null && this.chunked) conn.write(LAST_CHUNK);
      this.bodySent = true;
    });
  }
}

/** Holds what exchanges share; builds the public server's `request` listener. */
class Forwarder {
  readonly routes: RouteTable;
  readonly pool: UpstreamPool;
  readonly access: AccessLog;
  private readonly proto: 'http' | 'https';
  private readonly isTrusted: (remoteAddress: string) => boolean;

  constructor(deps: ForwardDeps) {
    this.routes = deps.routes;
    this.pool = deps.pool;
    this.access = deps.access;
    this.proto = deps.proto ?? 'http';
    this.isTrusted = deps.isTrusted ?? trustNobody;
  }

  readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const started = Date.now();
    const rawUrl = req.url ?? '/';
    const method = req.method ?? 'GET';
    const target = parseRequestTarget(rawUrl);
    if (target === null) {
      this.access.write(400, method, rawUrl, started, '');
      sendError(res, 400, 'Bad request path: dot-segments are not allowed', wantsJson(accept(req), rawUrl));
      return;
    }
    const route = this.routes.match(target.path);
    if (route === undefined) {
      this.access.write(503, method, rawUrl, started, '', 'no route');
      sendHubDown(res, wantsJson(accept(req), target.path));
      return;
    }
    const peer = req.socket.remoteAddress ?? '';
    const fwd = forwardRequestHeaders(req.rawHeaders, peer, this.proto, !route.hub, false, this.isTrusted(peer));
    const h = fwd.headers;
    let head = method + ' ' + target.url + ' HTTP/1.1\r\n';
    for (let i = 0; i < h.length; i += 2) head += h[i] + ': ' + h[i + 1] + CRLF;
    // an HTTP/1.0 client may send no Host; HTTP/1.1 servers require one
    if (fwd.host === '') head += 'Host: ' + route.target.slice(7) + CRLF;
    head += CRLF;
    const exchange = new Exchange(this, req, res, route, target.url, target.path, started, head, fwd.hasBody, fwd.chunked);
    this.pool.acquire(route.host, route.port, exchange);
  };

  /** The upstream could not be reached (or broke before answering): an error page instead. */
  fail(req: http.IncomingMessage, res: http.ServerResponse, route: RouteEntry, url: string, path: string, err: Error, started: number): void {
    const json = wantsJson(accept(req), path);
    const code = (err as NodeJS.ErrnoException).code;
    const status = err instanceof ResponseParseError ? 502 : 503;
    this.access.write(status, req.method ?? '', url, started, route.target, code ?? err.message);
    if (status === 502) {
      sendError(res, 502, 'The server sent an invalid response', json);
      return;
    }
    if (route.hub) {
      sendHubDown(res, json);
      return;
    }
    const builtIn = (): void => sendError(res, 503, `The server at ${route.prefix} is not responding; this page retries`, json);
    const hub = this.routes.hubEntry();
    if (hub === undefined) {
      builtIn();
      return;
    }
    const forwarded = forwardRequestHeaders([], req.socket.remoteAddress ?? '', this.proto, false, false).headers;
    relayHubErrorPage(hub, req, res, path, forwarded, builtIn);
  }
}

/** Builds the public server's `request` listener. */
export function createRequestHandler(deps: ForwardDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return new Forwarder(deps).onRequest;
}
