/**
 * What the proxy answers when it cannot forward: the hub-down 503 page (which retries by itself),
 * the relay of the hub's own error page for a user server that is down (as CHP's `--error-target`
 * does with `<hub>/hub/error/503?url=…`), and plain pages for bad requests.
 * Bodies are JupyterHub-style JSON (`{"status", "message"}`) for API clients, else small HTML.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { forwardResponseHeaders } from './forward-headers.js';
import type { RouteEntry } from './route-table.js';

export const HUB_DOWN_MESSAGE = 'LabHub is starting or restarting — this page retries';
const RETRY_SECONDS = 3;

/** JSON for API callers: the path has an `/api/` segment or `Accept` prefers JSON over HTML. */
export function wantsJson(accept: string | undefined, path: string): boolean {
  if (path.indexOf('/api/') !== -1) return true;
  if (accept === undefined) return false;
  const json = accept.indexOf('application/json');
  if (json === -1) return false;
  const html = accept.indexOf('text/html');
  return html === -1 || json < html;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlPage(status: number, title: string, message: string, refresh: boolean): string {
  const meta = refresh ? `<meta http-equiv="refresh" content="${RETRY_SECONDS}">` : '';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">${meta}` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${status} ${escapeHtml(title)}</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}` +
    `h1{font-size:1.4rem}p{color:#555}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>` +
    (refresh ? `<p>Retrying in ${RETRY_SECONDS} seconds…</p>` : '') +
    `</body></html>\n`
  );
}

/** A complete error response (status, headers, body) for either kind of client. */
export function errorBody(status: number, message: string, json: boolean, refresh: boolean): { type: string; body: string } {
  if (json) return { type: 'application/json', body: JSON.stringify({ status, message }) };
  const title = status === 503 ? 'Service unavailable' : (http.STATUS_CODES[status] ?? 'Error');
  return { type: 'text/html; charset=utf-8', body: htmlPage(status, title, message, refresh) };
}

/** Answers with an error page; a 503 carries `Retry-After` and (in HTML) a meta refresh. */
export function sendError(res: http.ServerResponse, status: number, message: string, json: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const refresh = status === 503;
  const { type, body } = errorBody(status, message, json, refresh);
  const headers: string[] = ['Content-Type', type, 'Content-Length', String(Buffer.byteLength(body)), 'Cache-Control', 'no-store'];
  if (refresh) headers.push('Retry-After', String(RETRY_SECONDS));
  res.writeHead(status, headers);
  res.end(body);
}

/** The hub-down answer (also used when no route matches at all). */
export function sendHubDown(res: http.ServerResponse, json: boolean): void {
  sendError(res, 503, HUB_DOWN_MESSAGE, json);
}

/** An error response written straight to a socket that is no longer an HTTP response (upgrades). */
export function writeRawError(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ status, message });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * For a user server that cannot be reached: fetch `<hub>/hub/error/503?url=<path>` with the
 * client's Accept and Cookie, and relay the hub's answer (a redirect or an error page). `fallback`
 * runs when the hub cannot be reached either or answers 2xx.
 */
export function relayHubErrorPage(
  hub: RouteEntry,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  forwarded: string[],
  fallback: () => void,
): void {
  const headers: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'host' || name === 'accept' || name === 'cookie' || name === 'accept-language') headers.push(raw[i], raw[i + 1]);
  }
  headers.push(...forwarded);
  let done = false;
  const fail = (): void => {
    if (done) return;
    done = true;
    fallback();
  };
  const up = http.request({
    host: hub.host,
    port: hub.port,
    method: 'GET',
    path: '/hub/error/503?url=' + encodeURIComponent(path),
    headers,
    agent: false,
    setHost: false,
    timeout: 5_000,
  });
  up.on('timeout', () => up.destroy(new Error('hub error page timed out')));
  up.on('error', fail);
  up.on('response', (hubRes) => {
    // whatever the hub says is relayed: a 302 sends a dead server's owner to the hub's
    // not-running page, a 503 page retries for one that is only slow; 2xx would be a hub bug
    const status = hubRes.statusCode ?? 0;
    if (done || status < 300) {
      hubRes.resume();
      fail();
      return;
    }
    done = true;
    res.writeHead(status, hubRes.statusMessage, forwardResponseHeaders(hubRes.rawHeaders));
    hubRes.pipe(res);
  });
  res.once('close', () => {
    if (!up.destroyed && !res.writableFinished) up.destroy();
  });
  up.end();
}
