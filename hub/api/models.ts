/** JupyterHub 3.0 REST models (spec §5): timestamps as ISO-8601 UTC with `Z`, or null. */
import type { Request, Response } from 'express';
import { HubError } from '../errors.js';
import { userPrefix } from '../servers/manager.js';
import type { ServerRecord, UserRecord } from '../store/state.js';

export const JUPYTERHUB_VERSION = '3.0.0';

/** `2026-11-21T23:21:29.073Z` → `2026-11-21T23:21:29.073000Z` (microseconds, as the Python hub writes). */
const isoCache = new Map<string, string | null>();

export function isoZ(value: string | null | undefined): string | null {
  if (!value) return null;
  // listing users formats the same few hundred timestamps on every call: remember them
  const hit = isoCache.get(value);
  if (hit !== undefined) return hit;
  if (isoCache.size > 20_000) isoCache.clear();
  const out = formatIsoZ(value);
  isoCache.set(value, out);
  return out;
}

function formatIsoZ(value: string): string | null {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  const ms = d.getUTCMilliseconds();
  const base = d.toISOString().slice(0, 19);
  return ms ? `${base}.${String(ms).padStart(3, '0')}000Z` : `${base}Z`;
}

export function serverModel(user: string, rec: ServerRecord, pending: 'spawn' | 'stop' | null, withState: boolean) {
  const ready = rec.status === 'running' && !pending;
  const model: Record<string, unknown> = {
    name: rec.name,
    last_activity: isoZ(rec.lastActivity),
    started: ready || pending ? isoZ(rec.started) : null,
    pending,
    ready,
    stopped: !ready && !pending,
    url: userPrefix(user),
    user_options: {},
    progress_url: `/hub/api/users/${encodeURIComponent(user)}/server/progress`,
  };
  if (withState) model.state = rec.state;
  return model;
}

export interface UserModelInput {
  user: UserRecord;
  server: ServerRecord | undefined;
  pending: 'spawn' | 'stop' | null;
  groups: string[];
  withState: boolean;
  /** `include_stopped_servers`: list a stopped default server too. */
  includeStopped?: boolean;
}

export function userModel(i: UserModelInput): Record<string, unknown> {
  const active = i.server && (i.pending || i.server.status === 'running');
  const ready = !!i.server && i.server.status === 'running' && !i.pending;
  return {
    kind: 'user',
    name: i.user.name,
    admin: i.user.admin,
    roles: i.user.admin ? ['admin', 'user'] : ['user'],
    groups: i.groups,
    server: ready ? userPrefix(i.user.name) : null,
    pending: i.pending,
    created: isoZ(i.user.created),
    last_activity: isoZ(i.user.lastActivity),
    auth_state: null,
    servers: active || (i.includeStopped && i.server) ? { '': serverModel(i.user.name, i.server!, i.pending, i.withState) } : {},
  };
}

const PAGINATION_TYPE = 'application/jupyterhub-pagination+json';
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

function intParam(name: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw new HubError('HUB_ERR_BAD_REQUEST', `${name} must be an integer, got '${String(value)}'`);
  return Number(value);
}

/**
 * JupyterHub's pagination (spec §5): with `Accept: application/jupyterhub-pagination+json` an
 * envelope `{items, _pagination: {offset, limit, total, next}}` whose `next.url` is absolute and
 * keeps the other query parameters; otherwise a bare list, with the default limit at the maximum.
 */
export function paginate<T>(req: Request, res: Response, items: readonly T[], toModel: (item: T) => unknown): void {
  const envelope = String(req.headers.accept ?? '').includes(PAGINATION_TYPE);
  const q = req.query as Record<string, unknown>;
  const offset = Math.max(0, intParam('offset', q.offset) ?? 0);
  const limit = Math.min(MAX_LIMIT, Math.max(1, intParam('limit', q.limit) ?? (envelope ? DEFAULT_LIMIT : MAX_LIMIT)));
  const page = items.slice(offset, offset + limit).map(toModel);
  if (!envelope) return void res.json(page);
  let next: { offset: number; limit: number; url: string } | null = null;
  if (offset + limit < items.length) {
    const proto = String(req.headers['x-forwarded-proto'] ?? 'http').split(',')[0]!.trim();
    const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost').split(',')[0]!.trim();
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (k !== 'offset' && k !== 'limit' && typeof v === 'string') params.set(k, v);
    params.set('offset', String(offset + limit));
    params.set('limit', String(limit));
    next = { offset: offset + limit, limit, url: `${proto}://${host}${req.path}?${params.toString()}` };
  }
  res.json({ items: page, _pagination: { offset, limit, total: items.length, next } });
}
