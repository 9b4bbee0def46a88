/**
 * The hub's browser pages and redirects (spec §3.1, §4): login/logout, home, spawn and
 * spawn-pending, restore (./restore.ts), `/hub/user/<name>/…` (redirect to the server, 303 to progress, or the 424 page),
 * and the proxy's error target for a server that stopped answering.
 */
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { isValidUserName } from '../auth/accounts.js';
import type { LoginService } from '../auth/login.js';
import type { SessionManager } from '../auth/sessions.js';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import {
  clearCookie,
  clientAddress,
  cookie,
  isHttps,
  LOGIN_COOKIE,
  LOGIN_XSRF_COOKIE,
  safeNext,
  sameOrigin,
  SESSION_ID_COOKIE,
  setCookie,
} from '../http/cookies.js';
import type { Identity, IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { QuotaService } from '../quota/service.js';
import type { ServerManager } from '../servers/manager.js';
import type { Store } from '../store/store.js';
import type { TokenStore } from '../tokens/token-store.js';
import { CSS, HOME_JS, LOGO_SVG, SPAWN_PENDING_JS } from './assets.js';
import { PAGE_CSP } from './layout.js';
import { quotaBanner, quotaRefusedPage, quotaUsageLine } from './quota-banner.js';
import { restorePagesRouter } from './restore.js';
import { CA_DOWNLOAD_PATH, createCaDownload } from '../tls/ca-download.js';
import { errorPage, homePage, loginPage, notRunningPage, spawnPendingPage } from './templates.js';

export interface PagesOptions {
  config: Readonly<Config>;
  store: Store;
  identity: IdentityResolver;
  sessions: SessionManager;
  login: LoginService;
  tokens: TokenStore;
  servers: ServerManager;
  log: Logger;
  /** Disk quota banners and the spawn check (absent: none). */
  quota?: QuotaService;
}

function html(res: Response, status: number, body: string): void {
  res.status(status).set({ 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store' }).send(body);
}

function wantsJson(req: Request, path: string): boolean {
  const accept = String(req.headers.accept ?? '');
  return path.split('/').includes('api') || (accept.includes('application/json') && !accept.includes('text/html'));
}

export function pagesRouter(o: PagesOptions): Router {
  const r = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const secure = (req: Request) => (o.config.cookie.secure === 'auto' ? isHttps(req) : o.config.cookie.secure === 'always');
  const maxAge = o.config.cookie.maxAgeDays * 86400;
  // the lab's CA certificate (https with a local CA): public, linked from the login page
  const ca = createCaDownload(o.config.proxy.tls.caCert);
  const caInfo = () => {
    const info = ca.info();
    return info ? { fingerprint: info.fingerprint } : undefined;
  };

  /** A viewer may see `user`'s server pages: the owner, or an admin. */
  const mayAccess = (id: Identity, user: string) => id.user === user || id.admin;

  const loginRedirect = (req: Request, res: Response) =>
    res.redirect(302, `/hub/login?next=${encodeURIComponent(req.originalUrl)}`);

  // static assets
  r.get('/hub/static/labhub.css', (_req, res) => void res.type('text/css').set('Cache-Control', 'max-age=300').send(CSS));
  r.get('/hub/static/spawn-pending.js', (_req, res) => void res.type('application/javascript').set('Cache-Control', 'max-age=300').send(SPAWN_PENDING_JS));
  r.get('/hub/static/home.js', (_req, res) => void res.type('application/javascript').set('Cache-Control', 'max-age=300').send(HOME_JS));
  r.get(CA_DOWNLOAD_PATH, ca.handler);
  r.get(['/hub/logo', '/favicon.ico'], (_req, res) => void res.type('image/svg+xml').set('Cache-Control', 'max-age=3600').send(LOGO_SVG));
  // restoring files from backups (its own page and script)
  r.use(restorePagesRouter({ identity: o.identity, store: o.store }));

  r.get('/', (_req, res) => res.redirect(302, '/hub/'));
  r.get(['/hub', '/hub/'], (req, res) => {
    const id = o.identity.fromSession(req);
    if (!id) return res.redirect(302, `/hub/login?next=${encodeURIComponent('/hub/')}`);
    if (o.servers.isReady(id.user)) return res.redirect(302, `/user/${id.user}/`);
    // like JupyterHub: logging in starts the server, so a student goes straight to their notebook
    res.redirect(302, o.servers.isPending(id.user) ? `/hub/spawn-pending/${id.user}` : `/hub/spawn/${id.user}`);
  });

  // ---- login / logout
  r.get('/hub/login', (req, res) => {
    const next = safeNext(req.query.next, '/hub/');
    if (o.identity.fromSession(req)) return res.redirect(302, next);
    const xsrf = randomBytes(18).toString('base64url');
    setCookie(res, LOGIN_XSRF_COOKIE, xsrf, { path: '/hub/', secure: secure(req), maxAgeSeconds: 3600 });
    html(res, 200, loginPage({ next, xsrf, ca: caInfo() }));
  });

  r.post('/hub/login', form, async (req, res) => {
    const next = safeNext(req.query.next, '/hub/');
    const body = (req.body ?? {}) as Record<string, string>;
    const username = typeof body.username === 'string' ? body.username.slice(0, 64) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const xsrf = randomBytes(18).toString('base64url');
    const again = (status: number, error: string) => {
      setCookie(res, LOGIN_XSRF_COOKIE, xsrf, { path: '/hub/', secure: secure(req), maxAgeSeconds: 3600 });
      html(res, status, loginPage({ next, xsrf, error, username, ca: caInfo() }));
    };
    // double-submit token plus same-origin: a login form cannot be posted from another site
    const expected = cookie(req, LOGIN_XSRF_COOKIE);
    if (!expected || body._xsrf !== expected || !sameOrigin(req)) {
      return again(403, 'The login form expired or came from another site. Please log in again.');
    }
    try {
      const { account } = await o.login.login(username, password, clientAddress(req));
      const session = o.sessions.create(account.name, clientAddress(req), cookie(req, SESSION_ID_COOKIE));
      await o.store.commit();
      setCookie(res, LOGIN_COOKIE, session.cookie, { path: '/hub/', secure: secure(req), maxAgeSeconds: maxAge });
      setCookie(res, SESSION_ID_COOKIE, session.record.sessionId, { path: '/', secure: secure(req) });
      clearCookie(res, LOGIN_XSRF_COOKIE, '/hub/');
      res.redirect(302, next);
    } catch (err) {
      if (err instanceof HubError) return again(err.status === 429 ? 429 : 403, err.message);
      throw err;
    }
  });

  const logout = async (req: Request, res: Response) => {
    const ended = o.sessions.destroy(cookie(req, LOGIN_COOKIE));
    const sessionId = ended?.sessionId ?? cookie(req, SESSION_ID_COOKIE);
    if (sessionId) o.tokens.revokeWhere((t) => t.sessionId === sessionId);
    await o.store.commit();
    if (ended) o.log.info({ user: ended.user }, 'logout');
    clearCookie(res, LOGIN_COOKIE, '/hub/');
    clearCookie(res, SESSION_ID_COOKIE, '/');
    clearCookie(res, '_xsrf', '/');
    res.redirect(302, '/hub/login');
  };
  r.get('/hub/logout', logout);
  r.post('/hub/logout', logout);

  // ---- home and spawning
  const quotaOf = (user: string) => (o.quota ? o.quota.forUser(user).catch(() => null) : Promise.resolve(null));
  r.get('/hub/home', async (req, res) => {
    const id = o.identity.fromSession(req);
    if (!id) return loginRedirect(req, res);
    // a visit is when the student reads notices: find out whether the server died or a kernel ran out of memory
    if (o.servers.isReady(id.user)) await o.servers.check(id.user).catch(() => undefined);
    const rec = o.servers.record(id.user);
    const q = await quotaOf(id.user);
    const quota = quotaBanner(q, rec?.status === 'running') + quotaUsageLine(q);
    html(res, 200, homePage({ user: id.user, rec, pending: o.servers.isPending(id.user), xsrf: id.session!.csrf, admin: id.admin, quota }));
  });

  const spawn = async (req: Request, res: Response) => {
    const id = o.identity.fromSession(req);
    if (!id) return loginRedirect(req, res);
    const user = req.params.user ? String(req.params.user) : id.user;
    if (!isValidUserName(user) || !mayAccess(id, user)) throw new HubError('HUB_ERR_NOT_FOUND');
    if (user !== id.user && !o.store.data.users[user]) throw new HubError('HUB_ERR_NOT_FOUND');
    const next = safeNext(req.query.next, `/user/${user}/`);
    if (o.servers.isReady(user)) return res.redirect(302, toHubUser(next));
    if (!o.servers.isPending(user)) {
      try {
        const cleanup = req.query.cleanup === '1';
        const progress = await o.servers.spawnChecked(user, { cleanup });
        if (progress.error instanceof HubError && progress.error.code === 'HUB_ERR_DISK_QUOTA') {
          return html(res, 403, quotaRefusedPage({ user, viewer: id.user, message: progress.error.message }));
        }
      } catch (err) {
        if (err instanceof HubError && err.code === 'HUB_ERR_BAD_REQUEST') {
          return html(res, 409, errorPage({ status: 409, message: err.message, user: id.user }));
        }
        throw err;
      }
      await o.servers.waitSpawn(user, 1000);
    }
    res.redirect(302, `/hub/spawn-pending/${user}?next=${encodeURIComponent(next)}`);
  };
  r.get(['/hub/spawn', '/hub/spawn/:user'], spawn);
  r.post(['/hub/spawn', '/hub/spawn/:user'], form, spawn);

  r.get('/hub/spawn-pending/:user', async (req, res) => {
    const id = o.identity.fromSession(req);
    if (!id) return loginRedirect(req, res);
    const user = String(req.params.user);
    if (!isValidUserName(user) || !mayAccess(id, user)) throw new HubError('HUB_ERR_NOT_FOUND');
    const next = safeNext(req.query.next, `/user/${user}/`);
    if (o.servers.isReady(user) && !o.servers.isPending(user)) return res.redirect(302, toHubUser(next));
    const rec = o.servers.record(user);
    if (!o.servers.isPending(user) && rec?.status !== 'failed') {
      return html(res, 424, notRunningPage({ user, viewer: id.user, rec, next }));
    }
    const quota = quotaBanner(await quotaOf(user), true);
    html(res, 200, spawnPendingPage({ user, viewer: id.user, next, progressUrl: `/hub/api/users/${user}/server/progress`, quota }));
  });

  // ---- requests for a server that reached the hub (no route, or not running)
  r.all(['/user/:user', '/user/:user/{*rest}'], (req, res) => {
    if (!isValidUserName(String(req.params.user))) throw new HubError('HUB_ERR_NOT_FOUND');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const user = String(req.params.user);
      return void res.status(424).json({
        status: 424,
        message: `JupyterHub server no longer running at ${req.path}. Restart the server at /hub/spawn/${user}`,
      });
    }
    const target = req.originalUrl.endsWith(`/user/${req.params.user}`) ? `${req.originalUrl}/` : req.originalUrl;
    res.redirect(302, `/hub${target}`);
  });

  r.get('/user-redirect/{*rest}', (req, res) => {
    const id = o.identity.fromSession(req);
    if (!id) return loginRedirect(req, res);
    const rest = req.originalUrl.slice('/user-redirect/'.length);
    res.redirect(302, `/hub/spawn/${id.user}?next=${encodeURIComponent(`/user/${id.user}/${rest}`)}`);
  });

  r.all(['/hub/user/:user', '/hub/user/:user/{*rest}'], async (req, res) => {
    const user = String(req.params.user);
    const id = o.identity.resolve(req);
    if (!id) {
      if (wantsJson(req, req.path)) throw new HubError('HUB_ERR_NOT_AUTHENTICATED');
      return loginRedirect(req, res);
    }
    if (!isValidUserName(user) || !mayAccess(id, user)) throw new HubError('HUB_ERR_NOT_FOUND');
    const url = new URL(req.originalUrl, 'http://x');
    const serverPath = url.pathname.slice('/hub'.length);
    const redirects = Number(url.searchParams.get('redirects') ?? '0') || 0;
    const next = serverPath + (url.search ? url.search.replace(/([?&])redirects=\d+&?/, '$1').replace(/[?&]$/, '') : '');
    if (o.servers.isPending(user) || o.servers.record(user)?.status === 'failed') {
      if (req.method !== 'GET') throw new HubError('HUB_ERR_SERVER_NOT_RUNNING', `Server for ${user} is starting`);
      return res.redirect(303, `/hub/spawn-pending/${user}?next=${encodeURIComponent(next)}`);
    }
    // a ready server that still reached the hub: its route is missing or it died; find out which
    if (o.servers.isReady(user) && redirects >= 1) await o.servers.check(user);
    if (o.servers.isReady(user)) {
      if (redirects >= 4) throw new HubError('HUB_ERR_REDIRECT_LOOP', 'Redirect loop detected. Try stopping and starting your server from the home page.');
      if (redirects >= 1) await o.servers.ensureRoute(user);
      url.searchParams.set('redirects', String(redirects + 1));
      return res.redirect(302, `${serverPath}?${url.searchParams.toString()}`);
    }
    const rec = o.servers.record(user);
    if (req.method !== 'GET' || wantsJson(req, serverPath)) {
      return void res.status(424).json({
        status: 424,
        message: `JupyterHub server no longer running at ${serverPath}. Restart the server at /hub/spawn/${user}`,
      });
    }
    html(res, 424, notRunningPage({ user, viewer: id.user, rec, next }));
  });

  // the proxy's error target: a routed server did not answer. The login cookie is not sent for
  // /user/ paths, so the visitor is not known here: find out whether the server died and, if so,
  // send a page navigation to /hub/user/…, where the owner sees why and a start button.
  r.get('/hub/error/503', async (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : '';
    const m = /^\/user\/([^/?#]+)\//.exec(url);
    const user = m && isValidUserName(m[1]!) ? m[1]! : null;
    if (user && o.servers.isReady(user)) await o.servers.check(user);
    const dead = !!user && !o.servers.isReady(user) && !o.servers.isPending(user);
    if (wantsJson(req, url)) {
      const message = dead ? `Server at /user/${user}/ is not running. Restart it at /hub/spawn/${user}` : 'The server is not responding; try again shortly.';
      return void res.status(dead ? 424 : 503).json({ status: dead ? 424 : 503, message });
    }
    if (dead) return res.redirect(302, `/hub${safeNext(url, `/user/${user}/`)}`);
    res.set('Refresh', '5');
    html(res, 503, errorPage({ status: 503, message: 'The server is not responding. This page retries in a few seconds; if it keeps failing, stop and start your server from your home page.' }));
  });

  return r;
}

/** A `/user/…` next becomes `/hub/user/…`, so the hub checks the server before the browser goes there. */
function toHubUser(next: string): string {
  return next.startsWith('/user/') ? `/hub${next}` : next;
}
