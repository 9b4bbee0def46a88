/**
 * The hub REST API that jupyterhub-singleuser and the hub's own pages call (spec §2, §4, §5):
 * version probe, `/user`, activity, server start/stop and the progress stream.
 * Tokens come only from the Authorization header; cookie-authenticated calls must be same-origin
 * and, for writes, carry the session's CSRF token in `X-XSRFToken`.
 */
import express, { type Router } from 'express';
import { HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { ServerManager } from '../servers/manager.js';
import type { ProgressMessage } from '../servers/progress.js';
import type { Store } from '../store/store.js';
import { apiIdentity, groupsOf, jsonBody, requireScope, userParam } from './access.js';
import { isoZ, JUPYTERHUB_VERSION } from './models.js';

export interface ApiOptions {
  store: Store;
  identity: IdentityResolver;
  servers: ServerManager;
  log: Logger;
  /** True once the hub has reconciled servers and routes after starting. */
  ready: () => boolean;
}

export function apiRouter(o: ApiOptions): Router {
  const r = express.Router();

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
      groups: groupsOf(o.store, id.user),
      session_id: id.session?.sessionId ?? id.token?.sessionId ?? null,
      scopes: resolveGroupFilters(o.store, id.scopes),
    };
    if (id.token?.kind === 'server') model.last_activity = isoZ(o.store.data.users[id.user]?.lastActivity);
    res.json(model);
  });

  r.post('/hub/api/users/:name/activity', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['users:activity'], name, o.store);
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
    requireScope(id, ['servers'], name, o.store);
    if (!o.store.data.users[name]) throw new HubError('HUB_ERR_NOT_FOUND');
    if (o.servers.isPending(name)) return void res.status(202).type('text/plain').end();
    if (o.servers.isReady(name)) throw new HubError('HUB_ERR_ALREADY_RUNNING', `${name} is already running`);
    const cleanup = req.query.cleanup === '1' || req.query.cleanup === 'true';
    const progress = await o.servers.spawnChecked(name, { cleanup });
    await o.servers.waitSpawn(name, 10_000);
    // the spawn's own error: e.g. the active-server limit is a 503 with its message, not a 500
    if (progress.error) throw progress.error;
    res.status(o.servers.isReady(name) ? 201 : 202).type('text/plain').end();
  });

  r.delete('/hub/api/users/:name/server', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['delete:servers'], name, o.store);
    if (!o.store.data.users[name]) throw new HubError('HUB_ERR_NOT_FOUND');
    const stopping = o.servers.stop(name, id.user === name ? null : `Your server was stopped by ${id.user}.`);
    const done = await Promise.race([stopping.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref())]);
    res.status(done ? 204 : 202).end();
  });

  r.get('/hub/api/users/:name/server/progress', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['read:servers'], name, o.store);
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

  return r;
}

/**
 * Single-user servers cannot resolve `!group=` filters (they have no database; spec §3.5), so the
 * hub answers `/user` with one `!user=` filter per member instead.
 */
function resolveGroupFilters(store: Store, scopes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of scopes) {
    const m = /^([^!]+)!group=(.+)$/.exec(s);
    if (!m) {
      out.add(s);
      continue;
    }
    for (const user of store.data.groups[m[2]!]?.users ?? []) out.add(`${m[1]}!user=${user}`);
  }
  return [...out].sort();
}
