/**
 * Serves the admin GUI (the `renderer/` app, compiled to `dist/renderer/`) at `/hub/admin`:
 * admins only (a visitor who is not logged in goes to the login page, a student gets 403), strict
 * CSP, no caching of the page itself. The app talks to the REST API with the session cookie and
 * the CSRF token it reads from `GET /hub/api/labhub/session`.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Response, type Router } from 'express';
import { HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import { errorPage } from './templates.js';

/** The admin app may connect back to the hub only; the Electron shell loads this same page. */
export const ADMIN_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.html': 'text/html; charset=utf-8',
};

export interface AdminPagesOptions {
  identity: IdentityResolver;
  /** Where the compiled renderer lives (default: `dist/renderer` next to this build). */
  rendererDir?: string;
}

function xtermDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('@xterm/xterm/lib/xterm.js'));
  } catch {
    return null;
  }
}

export function adminPagesRouter(o: AdminPagesOptions): Router {
  const r = express.Router();
  const dir = o.rendererDir ?? fileURLToPath(new URL('../../renderer/', import.meta.url));
  const xterm = xtermDir();

  const send = async (res: Response, file: string, cache: string) => {
    const ext = file.slice(file.lastIndexOf('.'));
    const type = TYPES[ext];
    if (!type) throw new HubError('HUB_ERR_NOT_FOUND');
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch {
      throw new HubError('HUB_ERR_NOT_FOUND');
    }
    res.set({ 'Content-Type': type, 'Content-Length': String(size), 'Cache-Control': cache, 'Content-Security-Policy': ADMIN_CSP });
    createReadStream(file).pipe(res);
  };

  r.get(['/hub/admin', '/hub/admin/'], async (req, res) => {
    const id = o.identity.fromSession(req);
    if (!id) return res.redirect(302, `/hub/login?next=${encodeURIComponent('/hub/admin')}`);
    if (!id.admin) {
      res.status(403).set({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': ADMIN_CSP });
      return void res.send(errorPage({ status: 403, message: 'The admin pages are for LabHub admins only.', user: id.user }));
    }
    res.set('X-Frame-Options', 'DENY');
    await send(res, join(dir, 'index.html'), 'no-store');
  });

  // the app's code holds no secrets, but only admins need it
  r.get('/hub/admin/static/xterm/:file', async (req, res) => {
    if (!o.identity.fromSession(req)?.admin) throw new HubError('HUB_ERR_FORBIDDEN');
    const file = String(req.params.file);
    if (!xterm || (file !== 'xterm.js' && file !== 'xterm.css')) throw new HubError('HUB_ERR_NOT_FOUND');
    await send(res, file === 'xterm.css' ? join(xterm, '..', 'css', 'xterm.css') : join(xterm, 'xterm.js'), 'max-age=3600');
  });

  r.get('/hub/admin/static/{*path}', async (req, res) => {
    if (!o.identity.fromSession(req)?.admin) throw new HubError('HUB_ERR_FORBIDDEN');
    const parts = ([] as string[]).concat((req.params as Record<string, string | string[]>).path ?? []);
    // only plain names below the renderer dir: no dot segments, no hidden files
    if (parts.length === 0 || parts.some((p) => !/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(p))) throw new HubError('HUB_ERR_NOT_FOUND');
    await send(res, join(dir, ...parts), 'no-cache');
  });

  return r;
}
