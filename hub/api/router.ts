/**
 * The hub REST API that jupyterhub-singleuser and the hub's own pages call (spec §2, §4, §5):
 * version probe, `/user`, activity, server start/stop and the progress stream.
 * Tokens come only from the Authorization header; cookie-authenticated calls must be same-origin
 * and, for writes, carry the session's CSRF token in `X-XSRFToken`.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { isValidUserName } from '../auth/accounts.js';
import { HubError } from '../errors.js';
import { sameOrigin } from '../http/cookies.js';
import type { Identity, IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { ServerManager } from '../servers/manager.js';
import type { ProgressMessage } from '../servers/progress.js';
import type { Store } from '../store/store.js';
import { hasScope } from '../tokens/scopes.js';
import { isoZ, JUPYTERHUB_VERSION, userModel } from './models.js';

export interface ApiOptions {
  store: Store;
  identity: IdentityResolver;
  servers: ServerManager;
  log: Logger;
  /** True once the hub has reconciled servers and routes after starting. */
  ready: () => boolean;
}

/** The caller, or a 403 exactly as JupyterHub answers an unauthenticated API call. */
export function apiIdentity(req: Request, identity: IdentityResolver): Identity {
  const id = identity.resolve(req);
  if (!id) throw new HubError('HUB_ERR_NOT_AUTHENTICATED');
  if (id.via === 'session') {
    if (!sameOrigin(req)) throw new HubError('HUB_ERR_NOT_AUTHENTICATED', 'Blocking cross-site API request; use a token or the hub pages.');
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers['x-xsrftoken'] !== id.session!.csrf) {
      throw new HubError('HUB_ERR_CSRF', "'_xsrf' argument missing or invalid; reload the page and try again");
    }
  }
  return id;
}

/** Requires `scope` for `user`: 403 if the caller lacks it entirely, 404 if it is filtered to others. */
export function requireScope(id: Identity, scopes: string[], user: string): void {
  if (scopes.some((s) => hasScope(id.scopes, s, user))) return;
  const holdsSome = scopes.some((s) => id.scopes.some((g) => g.split('!')[0] === s));
  if (holdsSome) throw new HubError('HUB_ERR_NOT_FOUND', 'No access to resources or resources not found');
  throw new HubError('HUB_ERR_FORBIDDEN', `Action is not authorized with current scopes; requires any of [${scopes.join(', ')}]`);
}

function userParam(req: Request): string {
  const name = String(req.params.name ?? '');
  if (!isValidUserName(name)) throw new HubError('HUB_ERR_NOT_FOUND', 'No access to resources or resources not found');
  return name;
}

export function apiRouter(o: ApiOptions): Router {
  const r = express.Router();
  const json = express.json({ limit: '1mb', type: () => true });
  const jsonBody = (req: Request, res: Response, next: NextFunction) => {
    json(req, res, (err?: unknown) => (err ? next(new HubError('HUB_ERR_INVALID_JSON')) : next()));
  };

  // version probe: unauthenticated and never blocked by a spawn (spec §2 #1)
  r.get(['/hub/api', '/hub/api/'], (_req, res) => {
    res.json({ version: JUPYTERHUB_VERSION });
    o.servers.notifyVersionProbe();
  });
  // 503 until the start-up reconciliation is done, so supervisors and tests know when routes are right
  r.get(['/hub/health', '/hub/api/health'], (_req, res) => {
    if (o.ready()) return void res.status(200).end();
    res.status(503).json({ status: 503, message: 'LabHub is starting: re-adopting running servers' });
  });

  r.get('/hub/api/user', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const model: Record<string, unknown> = {
      kind: 'user',
      name: id.user,
      admin: id.admin,
      groups: [],
      session_id: id.session?.sessionId ?? id.token?.sessionId ?? null,
      scopes: id.scopes,
    };
    if (id.token?.kind === 'server') model.last_activity = isoZ(o.store.data.users[id.user]?.lastActivity);
    res.json(model);
  });

  r.get('/hub/api/users/:name', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['read:users', 'read:servers'], name);
    const user = o.store.data.users[name];
    if (!user) throw new HubError('HUB_ERR_NOT_FOUND');
    res.json(
      userModel({
        user,
        server: o.servers.record(name),
        pending: o.servers.isPending(name) ? 'spawn' : o.servers.isStopping(name) ? 'stop' : null,
        groups: [],
        withState: id.admin && id.via === 'token',
      }),
    );
  });

  r.post('/hub/api/users/:name/activity', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['users:activity'], name);
    const user = o.store.data.users[name];
    if (!user) throw new HubError('HUB_ERR_NOT_FOUND');
    const body = (req.body ?? {}) as { last_activity?: unknown; servers?: Record<string, { last_activity?: unknown }> };
    const now = Date.now();
    const parse = (v: unknown): number | null => {
      if (typeof v !== 'string') return null;
      const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
      if (Number.isNaN(t)) throw new HubError('HUB_ERR_BAD_REQUEST', `Invalid timestamp: ${v}`);
      if (t > now + 59 * 60_000) throw new HubError('HUB_ERR_BAD_REQUEST', `Activity timestamp ${v} is in the future`);
      return t;
    };
    let changed = false;
    const forward = (current: string | null, t: number | null): string | null => {
      if (t === null || (current && Date.parse(current) >= t)) return current;
      changed = true;
      return new Date(t).toISOString();
    };
    for (const [serverName, info] of Object.entries(body.servers ?? {})) {
      const rec = o.servers.record(name);
      if (serverName !== '' || !rec) throw new HubError('HUB_ERR_BAD_REQUEST', `No such server '${serverName}' for user ${name}`);
      rec.lastActivity = forward(rec.lastActivity, parse(info?.last_activity));
    }
    user.lastActivity = forward(user.lastActivity, parse(body.last_activity));
    o.servers.notifyActivity(name);
    if (changed) await o.store.commit();
    res.status(200).end();
  });

  r.post('/hub/api/users/:name/server', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['servers'], name);
    if (!o.store.data.users[name]) throw new HubError('HUB_ERR_NOT_FOUND');
    if (o.servers.isPending(name)) return void res.status(202).type('text/plain').end();
    if (o.servers.isReady(name)) throw new HubError('HUB_ERR_ALREADY_RUNNING', `${name} is already running`);
    o.servers.spawn(name);
    await o.servers.waitSpawn(name, 10_000);
    const rec = o.servers.record(name);
    if (rec?.status === 'failed') throw new HubError('HUB_ERR_SPAWN_FAILED', `Spawn failed: ${rec.stopReason ?? 'unknown reason'}`);
    res.status(o.servers.isReady(name) ? 201 : 202).type('text/plain').end();
  });

  r.delete('/hub/api/users/:name/server', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['delete:servers'], name);
    if (!o.store.data.users[name]) throw new HubError('HUB_ERR_NOT_FOUND');
    const stopping = o.servers.stop(name, id.user === name ? null : `Your server was stopped by ${id.user}.`);
    const done = await Promise.race([stopping.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
    res.status(done ? 204 : 202).end();
  });

  r.get('/hub/api/users/:name/server/progress', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['read:servers'], name);
    const rec = o.servers.record(name);
    if (!rec) throw new HubError('HUB_ERR_NOT_FOUND', `${name} has no server`);
    const progress = o.servers.progress(name);
    // set natively: express would append "; charset=utf-8", which JupyterHub does not send
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    const send = (e: ProgressMessage) => res.write(`data: ${JSON.stringify(e)}\n\n`);
    const readyEvent = (): ProgressMessage => ({
      progress: 100,
      ready: true,
      message: `Server ready at /user/${name}/`,
      html_message: `Server ready at <a href="/user/${name}/">/user/${name}/</a>`,
      url: `/user/${name}/`,
    });
    if (o.servers.isReady(name) && !o.servers.isPending(name)) {
      send(readyEvent());
      return void res.end();
    }
    if (!progress || (!o.servers.isPending(name) && rec.status !== 'failed')) {
      send({ progress: 100, failed: true, message: rec.stopReason ? `Server is not running: ${rec.stopReason}` : 'Server is not running.' });
      return void res.end();
    }
    const keepalive = setInterval(() => res.write('\n\n'), 8000);
    const unsubscribe = progress.subscribe((e) => {
      send(e);
      if (e.ready || e.failed) {
        clearInterval(keepalive);
        res.end();
      }
    });
    res.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
    });
  });

  r.all('/hub/api/{*rest}', () => {
    throw new HubError('HUB_ERR_NOT_FOUND');
  });
  return r;
}
