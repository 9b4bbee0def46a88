/** Cookie parsing and Set-Cookie building (no dependency needed for the few cookies the hub sets). */
import type { Request, Response } from 'express';

export const LOGIN_COOKIE = 'jupyterhub-hub-login';
export const SESSION_ID_COOKIE = 'jupyterhub-session-id';
export const LOGIN_XSRF_COOKIE = 'labhub-login-xsrf';

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name && !(name in out)) {
      try {
        out[name] = decodeURIComponent(value);
      } catch {
        out[name] = value;
      }
    }
  }
  return out;
}

export function cookie(req: Request, name: string): string | undefined {
  return parseCookies(req.headers.cookie)[name];
}

/** True when the browser reached the proxy over https (the proxy sets X-Forwarded-Proto). */
export function isHttps(req: Request): boolean {
  const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim();
  return proto === 'https' || (req.socket as { encrypted?: boolean }).encrypted === true;
}

export interface CookieOptions {
  path: string;
  maxAgeSeconds?: number;
  secure: boolean;
  httpOnly?: boolean;
}

export function setCookie(res: Response, name: string, value: string, o: CookieOptions): void {
  let c = `${name}=${encodeURIComponent(value)}; Path=${o.path}; SameSite=Lax`;
  if (o.httpOnly !== false) c += '; HttpOnly';
  if (o.secure) c += '; Secure';
  if (o.maxAgeSeconds !== undefined) c += `; Max-Age=${Math.floor(o.maxAgeSeconds)}`;
  res.append('Set-Cookie', c);
}

export function clearCookie(res: Response, name: string, path: string): void {
  res.append('Set-Cookie', `${name}=; Path=${path}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax; HttpOnly`);
}

/** The browser's address: the last X-Forwarded-For entry, which our own proxy appended. */
export function clientAddress(req: Request): string {
  const xff = req.headers['x-forwarded-for'];
  if (typeof xff === 'string' && xff) {
    const parts = xff.split(',');
    return parts[parts.length - 1]!.trim().slice(0, 64);
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** Same-origin check for cookie-authenticated writes: Origin (or Referer) must name our Host. */
export function sameOrigin(req: Request): boolean {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host;
  if (!host) return false;
  const source = req.headers.origin ?? req.headers.referer;
  if (!source || source === 'null') return false;
  try {
    return new URL(source).host === String(host).split(',')[0]!.trim();
  } catch {
    return false;
  }
}

/** A `next` target that stays on this site (a path, not `//host` or a scheme). */
export function safeNext(next: unknown, fallback: string): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if (/[\r\n]/.test(next)) return fallback;
  return next;
}
