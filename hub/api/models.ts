/** JupyterHub 3.0 REST models (spec §5): timestamps as ISO-8601 UTC with `Z`, or null. */
import { userPrefix } from '../servers/manager.js';
import type { ServerRecord, UserRecord } from '../store/state.js';

export const JUPYTERHUB_VERSION = '3.0.0';

/** `2026-11-21T23:21:29.073Z` → `2026-11-21T23:21:29.073000Z` (microseconds, as the Python hub writes). */
export function isoZ(value: string | null | undefined): string | null {
  if (!value) return null;
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
    started: isoZ(rec.started),
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
    servers: active ? { '': serverModel(i.user.name, i.server!, i.pending, i.withState) } : {},
  };
}
