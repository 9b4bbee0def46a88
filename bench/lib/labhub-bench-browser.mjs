/**
 * A scripted "browser" for the login → notebook journey, used the same way against LabHub and
 * JupyterHub 3.0: a cookie jar, redirects followed by hand one at a time, Referer/Origin headers
 * as a browser sends them, and the spawn-pending page's EventSource read like the page's script
 * does (LabHub's page goes to its `data-next`; JupyterHub's reloads itself). Every request is
 * recorded with its time since the login form was posted, so a slow step can be named.
 */

const MAX_STEPS = 40;

class CookieJar {
  #cookies = new Map();

  store(setCookies, url) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path' && v.trim().startsWith('/')) path = v.trim();
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v.trim()) < Date.now()) expired = true;
      }
      const id = `${name}\0${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  header(url) {
    const p = url.pathname;
    const match = [...this.#cookies.values()].filter(
      (c) => p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
    );
    match.sort((a, b) => b.path.length - a.path.length);
    return match.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(name) {
    for (const c of this.#cookies.values()) if (c.name === name) return c.value;
    return undefined;
  }
}

const unescapeHtml = (s) =>
  s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'");

function attr(html, re) {
  const m = re.exec(html);
  return m ? unescapeHtml(m[1]) : undefined;
}

export class BenchBrowser {
  /**
   * @param base public URL of the hub, e.g. http://127.0.0.1:8000
   * @param cpu optional () => ms of CPU used so far by the hub side; each trace entry then has `cpu`
   */
  constructor(base, { userAgent = 'Mozilla/5.0 (labhub-bench)', cpu = null } = {}) {
    this.cpu = cpu;
    this.base = new URL(base);
    this.jar = new CookieJar();
    this.page = null; // URL of the last HTML page shown: the Referer of the next request
    this.userAgent = userAgent;
    this.trace = [];
    this.t0 = performance.now();
  }

  /** One HTTP request, no redirect following; stores cookies and records it in the trace. */
  async request(method, target, { body, headers = {}, accept = 'text/html,application/xhtml+xml,*/*;q=0.8', stream = false } = {}) {
    const url = new URL(target, this.base);
    const h = { 'user-agent': this.userAgent, accept, ...headers };
    const cookie = this.jar.header(url);
    if (cookie) h.cookie = cookie;
    if (this.page) h.referer = this.page;
    if (method !== 'GET' && method !== 'HEAD') h.origin = this.base.origin;
    const cpu0 = this.cpu?.();
    const started = performance.now();
    const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
    this.jar.store(res.headers.getSetCookie(), url);
    const text = stream ? null : await res.text();
    const entry = { method, path: url.pathname + url.search, status: res.status, start: started - this.t0, ms: performance.now() - started };
    if (this.cpu && !stream) entry.cpu = this.cpu() - cpu0;
    this.trace.push(entry);
    return { res, text, url, entry };
  }

  /** Follows redirects from `target` until a non-redirect answer. */
  async navigate(method, target, opts) {
    let r = await this.request(method, target, opts);
    for (let i = 0; i < MAX_STEPS && r.res.status >= 300 && r.res.status < 400; i++) {
      const loc = r.res.headers.get('location');
      if (!loc) break;
      // 307/308 keep the method; everything else becomes a GET
      const keep = r.res.status === 307 || r.res.status === 308;
      r = await this.request(keep ? method : 'GET', new URL(loc, r.url).href, keep ? opts : {});
    }
    if ((r.res.headers.get('content-type') ?? '').includes('text/html')) this.page = r.url.href;
    return r;
  }

  /**
   * Reads `/hub/api/users/<user>/server/progress` like EventSource until `ready` (or `failed`,
   * which throws). Returns the events with their arrival time.
   */
  async progress(user, progressPath = `/hub/api/users/${encodeURIComponent(user)}/server/progress`) {
    const cpu0 = this.cpu?.();
    const { res, entry } = await this.request('GET', progressPath, { accept: 'text/event-stream', stream: true });
    if (res.status !== 200) throw new Error(`progress stream answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const events = [];
    const decoder = new TextDecoder();
    let buf = '';
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let idx;
        while ((idx = buf.search(/\r?\n\r?\n/)) >= 0) {
          const chunk = buf.slice(0, idx);
          buf = buf.slice(idx).replace(/^\r?\n\r?\n/, '');
          const data = chunk
            .split(/\r?\n/)
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (!data) continue;
          let e;
          try {
            e = JSON.parse(data);
          } catch {
            continue;
          }
          events.push({ at: performance.now() - this.t0, ...e });
          if (e.failed) throw new Error(`spawn failed: ${e.message}`);
          if (e.ready) return events;
        }
      }
    } finally {
      entry.ms = performance.now() - this.t0 - entry.start;
      if (this.cpu) entry.cpu = this.cpu() - cpu0;
      reader.cancel().catch(() => {});
    }
    return events;
  }

  /** Opens `/user/<user>/tree/` without cookies and ends on the login form; returns the form. */
  async openLoginPage(user) {
    const r = await this.navigate('GET', `/user/${user}/tree/`);
    if (r.res.status !== 200 || !/<form[^>]*method="?post/i.test(r.text)) {
      throw new Error(`expected the login page, got ${r.res.status} at ${r.url.pathname}: ${r.text.slice(0, 300)}`);
    }
    const formTag = /<form[^>]*>/i.exec(r.text)[0];
    const action = attr(formTag, /action="([^"]*)"/i) ?? r.url.pathname + r.url.search;
    const hidden = {};
    for (const m of r.text.matchAll(/<input[^>]*type="hidden"[^>]*>/gi)) {
      const name = attr(m[0], /name="([^"]*)"/i);
      if (name) hidden[name] = attr(m[0], /value="([^"]*)"/i) ?? '';
    }
    return { action: new URL(action, r.url).href, hidden };
  }

  /**
   * The measured journey: post the login form, then do what a student's browser does until
   * `GET /user/<user>/api/status` answers 200 through the proxy. Returns ms from the post.
   */
  async loginToNotebook(user, password, form) {
    this.trace = [];
    this.t0 = performance.now();
    const marks = {};
    const body = new URLSearchParams({ ...form.hidden, username: user, password });
    let r = await this.navigate('POST', form.action, {
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    marks.loggedIn = this.trace[0]?.ms;
    for (let step = 0; step < MAX_STEPS; step++) {
      const path = r.url.pathname;
      if (r.res.status === 200 && path.startsWith(`/user/${user}/`)) {
        marks.notebookPage = performance.now() - this.t0;
        const status = await this.request('GET', `/user/${user}/api/status`, { accept: 'application/json' });
        if (status.res.status !== 200) throw new Error(`/user/${user}/api/status answered ${status.res.status}`);
        marks.total = performance.now() - this.t0;
        return { ms: marks.total, marks, trace: this.trace };
      }
      if (r.res.status === 200 && path.startsWith('/hub/spawn-pending/')) {
        marks.pendingPage ??= performance.now() - this.t0;
        const events = await this.progress(user);
        marks.progressReady = performance.now() - this.t0;
        marks.events = events.map((e) => `${Math.round(e.at)}ms ${e.progress ?? ''} ${e.message ?? ''}`.trim());
        // LabHub's page script goes to data-next; JupyterHub's reloads the page
        const next = attr(r.text, /data-next="([^"]*)"/i);
        r = await this.navigate('GET', next ?? r.url.href);
        continue;
      }
      if ((r.res.status === 424 || r.res.status === 503 || (r.res.status === 200 && path === '/hub/home')) && /href="(\/hub\/spawn[^"]*)"/.test(r.text)) {
        // the "not running" page: the student clicks "Start my server"
        marks.clickStart ??= performance.now() - this.t0;
        r = await this.navigate('GET', attr(r.text, /href="(\/hub\/spawn(?:\/[^"]*)?)"/));
        continue;
      }
      throw new Error(`unexpected answer ${r.res.status} at ${path}${r.url.search}: ${r.text?.replace(/\s+/g, ' ').slice(0, 400)}`);
    }
    throw new Error('too many steps');
  }

  /** Stops the user's own server the way the home page does, waits until it is gone, logs out. */
  async stopAndLogout(user, { timeoutMs = 30_000 } = {}) {
    const home = await this.navigate('GET', '/hub/home');
    const xsrf = attr(home.text ?? '', /data-xsrf="([^"]*)"/i) ?? this.jar.get('_xsrf');
    const headers = xsrf ? { 'x-xsrftoken': xsrf } : {};
    const api = `/hub/api/users/${encodeURIComponent(user)}`;
    const del = await this.request('DELETE', `${api}/server`, { headers, accept: 'application/json' });
    if (![202, 204, 400].includes(del.res.status)) throw new Error(`stop answered ${del.res.status}: ${del.text.slice(0, 300)}`);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.request('GET', api, { accept: 'application/json' });
      if (m.res.status !== 200) throw new Error(`GET ${api} answered ${m.res.status}: ${m.text.slice(0, 200)}`);
      const model = JSON.parse(m.text);
      if (!model.server && !model.pending) break;
      if (Date.now() > end) throw new Error(`server of ${user} did not stop within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.navigate('GET', '/hub/logout');
  }
}

/** "POST /hub/login 302 45ms" lines for a report. */
export function formatTrace(trace) {
  return trace
    .map((e) => `${String(Math.round(e.start)).padStart(6)}ms +${String(Math.round(e.ms)).padStart(5)}ms ${e.cpu !== undefined ? `cpu ${e.cpu.toFixed(1).padStart(5)}ms ` : ''}${e.status} ${e.method} ${e.path.slice(0, 120)}`)
    .join('\n');
}
