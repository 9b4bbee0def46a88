/**
 * Drives a real jupyterhub-singleuser through the hub with a CookieClient: start the server, pass
 * its OAuth login, start a kernel and run code over the kernel's websocket.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { CookieClient } from './browserless-client.js';

/** Starts the user's server from the hub and waits until the hub says it is ready. */
export async function startServer(c: CookieClient, user: string, timeoutMs = 90_000): Promise<void> {
  const res = await c.get(`/hub/spawn/${user}`);
  if (res.status !== 200 && !res.url.includes(`/user/${user}/`)) throw new Error(`spawn answered ${res.status}: ${res.body.slice(0, 300)}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const model = await c.raw(`/hub/api/users/${user}`, { headers: { referer: `${c.base}/hub/home` } });
    if (model.status !== 200) throw new Error(`user model: ${model.status} ${model.body}`);
    const m = JSON.parse(model.body);
    if (m.server) return;
    if (!m.pending) throw new Error(`server not starting: ${model.body}\nstate: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become ready');
}

/** Goes through the server's OAuth login so the client holds the server's own cookie. */
export async function openServer(c: CookieClient, user: string): Promise<void> {
  const res = await c.get(`/user/${user}/tree`);
  if (res.status !== 200 || !c.cookie(`jupyterhub-user-${user}`)) {
    throw new Error(`could not open /user/${user}/tree: ${res.status} hops=${JSON.stringify(res.hops)} ${res.body.slice(0, 200)}`);
  }
}

export function xsrfHeaders(c: CookieClient): Record<string, string> {
  const xsrf = c.cookie('_xsrf') ?? '';
  return { 'X-XSRFToken': xsrf, 'content-type': 'application/json', origin: c.base, referer: `${c.base}/` };
}

export async function startKernel(c: CookieClient, user: string): Promise<string> {
  const res = await c.raw(`/user/${user}/api/kernels`, { method: 'POST', headers: xsrfHeaders(c), body: JSON.stringify({ name: 'python3' }) });
  if (res.status !== 201) throw new Error(`kernel start: ${res.status} ${res.body}`);
  return JSON.parse(res.body).id as string;
}

/** A kernel websocket that runs code and returns its stdout; `statuses` lists every execution_state seen. */
export class KernelChannel {
  readonly statuses: string[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.msg_type === 'status') this.statuses.push(m.content.execution_state);
    });
  }

  /** Through the hub's proxy with the client's cookies for the server. */
  static open(c: CookieClient, user: string, kernelId: string): Promise<KernelChannel> {
    const url = `${c.base.replace(/^http/, 'ws')}/user/${user}/api/kernels/${kernelId}/channels`;
    return KernelChannel.connect(url, { cookie: c.cookieHeader(`/user/${user}/api/kernels/`), origin: c.base });
  }

  /** Any channels URL with the given headers (e.g. `authorization: token …` straight to a server). */
  static connect(url: string, headers: Record<string, string>): Promise<KernelChannel> {
    const ws = new WebSocket(url, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new KernelChannel(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: HTTP ${res.statusCode}`)));
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  execute(code: string, timeoutMs = 30_000): Promise<string> {
    const msgId = randomUUID();
    const msg = {
      header: { msg_id: msgId, username: 'test', session: randomUUID(), msg_type: 'execute_request', version: '5.3', date: new Date().toISOString() },
      parent_header: {},
      metadata: {},
      content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      channel: 'shell',
      buffers: [],
    };
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        this.ws.off('message', onMessage);
        reject(new Error(`no reply within ${timeoutMs} ms (got "${out}")`));
      }, timeoutMs);
      const onMessage = (data: WebSocket.RawData) => {
        const m = JSON.parse(data.toString());
        if (m.parent_header?.msg_id !== msgId) return;
        if (m.msg_type === 'stream') out += m.content.text;
        if (m.msg_type === 'error') out += `ERROR ${m.content.ename}: ${m.content.evalue}`;
        if (m.msg_type === 'status' && m.content.execution_state === 'idle') {
          clearTimeout(timer);
          this.ws.off('message', onMessage);
          resolve(out);
        }
      };
      this.ws.on('message', onMessage);
      this.ws.send(JSON.stringify(msg));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** A request straight to a single-user server's REST API (not through the proxy) with its API token. */
export function serverApi(target: string, user: string, token: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${target}/user/${user}/api/${path}`, {
    ...init,
    headers: { authorization: `token ${token}`, 'content-type': 'application/json', connection: 'close' },
    signal: AbortSignal.timeout(10_000),
  });
}
