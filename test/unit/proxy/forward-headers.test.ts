import { describe, expect, it } from 'vitest';
import { forwardRequestHeaders, forwardResponseHeaders, stripHubCookie } from '../../../hub/proxy/forward-headers.js';

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

describe('forwardRequestHeaders', () => {
  it('keeps Host and end-to-end headers, drops hop-by-hop ones, adds X-Forwarded-*', () => {
    const raw = ['Host', 'lab:8000', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', '5', 'TE', 'trailers', 'Proxy-Authorization', 'Basic x', 'Upgrade', 'h2c', 'Accept', '*/*', 'Expect', '100-continue'];
    const r = forwardRequestHeaders(raw, '10.0.0.7', 'http', false, false);
    expect(pairs(r.headers)).toEqual([
      ['Host', 'lab:8000'],
      ['Accept', '*/*'],
      ['X-Forwarded-For', '10.0.0.7'],
      ['X-Forwarded-Proto', 'http'],
      ['X-Forwarded-Port', '8000'],
      ['X-Forwarded-Host', 'lab:8000'],
    ]);
    expect(r.hasBody).toBe(false);
    expect(r.host).toBe('lab:8000');
  });

  const spoofed = ['host', 'lab', 'x-forwarded-for', '1.2.3.4', 'X-Forwarded-For', '5.6.7.8', 'x-forwarded-proto', 'https', 'x-forwarded-host', 'public.example', 'x-forwarded-port', '443'];
  const headerMap = (flat: string[]) => new Map(pairs(flat).map(([k, v]) => [k.toLowerCase(), v]));

  it("replaces a client's X-Forwarded-* with what the proxy saw", () => {
    const r = forwardRequestHeaders(spoofed, '10.9.8.7', 'http', false, false);
    expect(r.headers.filter((x) => /^x-forwarded-/i.test(x))).toHaveLength(4);
    const h = headerMap(r.headers);
    expect(h.get('x-forwarded-for')).toBe('10.9.8.7');
    expect(h.get('x-forwarded-proto')).toBe('http');
    expect(h.get('x-forwarded-port')).toBe('80');
    expect(h.get('x-forwarded-host')).toBe('lab');
    expect(headerMap(forwardRequestHeaders(['Host', 'lab'], '10.9.8.7', 'https', false, false).headers).get('x-forwarded-port')).toBe('443');
  });

  it("passes a trusted front proxy's X-Forwarded-* on unchanged, filling in what it left out", () => {
    const h = headerMap(forwardRequestHeaders(spoofed, '127.0.0.1', 'http', false, false, true).headers);
    expect(h.get('x-forwarded-for')).toBe('1.2.3.4, 5.6.7.8');
    expect(h.get('x-forwarded-proto')).toBe('https');
    expect(h.get('x-forwarded-port')).toBe('443');
    expect(h.get('x-forwarded-host')).toBe('public.example');
    const bare = headerMap(forwardRequestHeaders(['Host', 'lab.example', 'X-Forwarded-Proto', 'https'], '127.0.0.1', 'http', false, false, true).headers);
    expect(bare.get('x-forwarded-for')).toBe('127.0.0.1');
    expect(bare.get('x-forwarded-port')).toBe('443');
    expect(bare.get('x-forwarded-host')).toBe('lab.example');
  });

  it('notes bodies and keeps their framing headers', () => {
    expect(forwardRequestHeaders(['Content-Length', '0'], '', 'http', false, false)).toMatchObject({ hasBody: false, chunked: false });
    expect(forwardRequestHeaders(['Content-Length', '12'], '', 'http', false, false)).toMatchObject({ hasBody: true, chunked: false });
    const te = forwardRequestHeaders(['Transfer-Encoding', 'chunked'], '', 'http', false, false);
    expect(te).toMatchObject({ hasBody: true, chunked: true });
    expect(te.headers.slice(0, 2)).toEqual(['Transfer-Encoding', 'chunked']);
  });

  it('keeps Upgrade for websocket handshakes only', () => {
    const raw = ['Host', 'lab', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
    const up = pairs(forwardRequestHeaders(raw, '', 'http', false, true).headers);
    expect(up).toContainEqual(['Connection', 'Upgrade']);
    expect(up).toContainEqual(['Upgrade', 'websocket']);
    const plain = pairs(forwardRequestHeaders(raw, '', 'http', false, false).headers).map(([k]) => k);
    expect(plain).not.toContain('Upgrade');
    expect(plain).not.toContain('Connection');
  });

  it('strips only the hub login cookie, and only when asked', () => {
    const raw = ['Cookie', 'jupyterhub-hub-login=secret; _xsrf=abc; jupyterhub-session-id=s1'];
    expect(forwardRequestHeaders(raw, '', 'http', true, false).headers.slice(0, 2)).toEqual(['Cookie', '_xsrf=abc; jupyterhub-session-id=s1']);
    expect(forwardRequestHeaders(raw, '', 'http', false, false).headers.slice(0, 2)).toEqual(raw);
    const only = forwardRequestHeaders(['Cookie', 'jupyterhub-hub-login=secret'], '', 'http', true, false).headers;
    expect(only.map((x) => x.toLowerCase())).not.toContain('cookie');
  });
});

describe('stripHubCookie', () => {
  it('leaves look-alike names alone', () => {
    expect(stripHubCookie('a=1')).toBe('a=1');
    expect(stripHubCookie('jupyterhub-hub-login-x=1;jupyterhub-hub-login=2')).toBe('jupyterhub-hub-login-x=1');
    expect(stripHubCookie('x=jupyterhub-hub-login')).toBe('x=jupyterhub-hub-login');
  });
});

describe('forwardResponseHeaders', () => {
  it('drops hop-by-hop headers and keeps repeated ones in order', () => {
    const raw = ['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Hop', 'Keep-Alive', 'timeout=5', 'X-Hop', '1', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'];
    expect(pairs(forwardResponseHeaders(raw))).toEqual([
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
  });
});
