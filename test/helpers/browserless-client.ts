/**
 * A small HTTP client with a cookie jar, for driving the real login and OAuth flow without a
 * browser: redirects are followed by hand so each hop can be inspected, cookies honour Path.
 */

interface StoredCookie {
  value: string;
  path: string;
}

export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

export interface ClientResponse {
  status: number;
  url: string;
  headers: Headers;
  body: string;
  hops: Hop[];
}

export class CookieClient {
  readonly jar = new Map<string, StoredCookie>();

  constructor(readonly base: string) {}

  cookieHeader(path: string): string {
    const parts: string[] = [];
    for (const [name, c] of this.jar) if (path.startsWith(c.path) || `${path}/` === c.path) parts.push(`${name}=${c.value}`);
    return parts.join('; ');
  }

  cookie(name: string): string | undefined {
    return this.jar.get(name)?.value;
  }

  private store(setCookies: string[], requestPath: string): void {
    for (const sc of setCookies) {
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      let value = pair!.slice(eq + 1);
      let path = requestPath.replace(/[^/]*$/, '') || '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k!.toLowerCase() === 'path') path = v;
        if (k!.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (k!.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (expired || value === '') this.jar.delete(name);
      else this.jar.set(name, { value, path });
    }
  }

  /** One request, no redirect following. */
  async raw(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<ClientResponse> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const c = this.cookieHeader(url.pathname);
    if (c && !headers.cookie) headers.cookie = c;
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(60_000) });
    this.store(res.headers.getSetCookie(), url.pathname);
    const body = await res.text();
    return { status: res.status, url: url.toString(), headers: res.headers, body, hops: [] };
  }

  /** Follows redirects (up to `max`), recording every hop. */
  async get(path: string, init: RequestInit & { headers?: Record<string, string> } = {}, max = 20): Promise<ClientResponse> {
    const hops: Hop[] = [];
    let current = path;
    let res = await this.raw(current, init);
    while (res.status >= 300 && res.status < 400 && res.headers.get('location') && hops.length < max) {
      const location = res.headers.get('location')!;
      hops.push({ url: res.url, status: res.status, location });
      current = new URL(location, res.url).toString();
      res = await this.raw(current, { headers: init.headers });
    }
    res.hops = hops;
    return res;
  }

  /** Logs in through the hub's form (gets the form's CSRF token first). */
  async login(user: string, password: string, next = '/hub/'): Promise<ClientResponse> {
    const page = await this.raw(`/hub/login?next=${encodeURIComponent(next)}`);
    const xsrf = /name="_xsrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    return this.raw(`/hub/login?next=${encodeURIComponent(next)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(this.base).origin },
      body: new URLSearchParams({ username: user, password, _xsrf: xsrf }).toString(),
    });
  }
}
