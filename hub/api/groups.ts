/**
 * `/hub/api/groups…`: JupyterHub groups, which LabHub uses for classes (e.g. `cs101`). They are
 * hub groups, separate from Linux groups, and they drive `!group=` scope filters — an instructor's
 * token with `access:servers!group=cs101` reaches exactly that class's servers.
 */
import express, { type Router } from 'express';
import { HubError } from '../errors.js';
import type { Identity, IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { GroupRecord } from '../store/state.js';
import type { Store } from '../store/store.js';
import { hasScope, holdsAny } from '../tokens/scopes.js';
import { apiIdentity, jsonBody, requireScope } from './access.js';
import { paginate } from './models.js';

const GROUP_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export interface GroupsApiOptions {
  store: Store;
  identity: IdentityResolver;
  log: Logger;
}

function groupModel(g: GroupRecord) {
  return { kind: 'group', name: g.name, roles: [], users: [...g.users] };
}

function groupParam(name: unknown): string {
  const g = String(name ?? '');
  if (!GROUP_NAME.test(g)) throw new HubError('HUB_ERR_NOT_FOUND', 'No access to resources or resources not found');
  return g;
}

export function groupsRouter(o: GroupsApiOptions): Router {
  const r = express.Router();
  const target = (g: string) => ({ group: g });
  const existing = (g: string): GroupRecord => {
    const rec = o.store.data.groups[g];
    if (!rec) throw new HubError('HUB_ERR_NOT_FOUND', `No such group: ${g}`);
    return rec;
  };
  const memberList = (body: unknown): string[] => {
    const users = (body as { users?: unknown } | undefined)?.users;
    if (!Array.isArray(users) || users.some((u) => typeof u !== 'string')) throw new HubError('HUB_ERR_BAD_REQUEST', 'Expected {"users": ["name", ...]}');
    const unknown = (users as string[]).filter((u) => !o.store.data.users[u]);
    if (unknown.length) throw new HubError('HUB_ERR_BAD_REQUEST', `No such users: ${unknown.join(', ')}`);
    return [...new Set(users as string[])];
  };
  const create = (id: Identity, names: string[], users: string[]) => {
    const now = new Date().toISOString();
    for (const n of names) o.store.data.groups[n] = { name: n, users, created: now };
    o.log.info({ by: id.user, groups: names }, 'groups created');
  };

  r.get('/hub/api/groups', (req, res) => {
    const id = apiIdentity(req, o.identity);
    if (!holdsAny(id.scopes, 'list:groups')) requireScope(id, ['list:groups'], {});
    const names = Object.keys(o.store.data.groups).filter((g) => hasScope(id.scopes, 'list:groups', target(g)));
    paginate(req, res, names, (g) => groupModel(o.store.data.groups[g]!));
  });

  r.post('/hub/api/groups', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    requireScope(id, ['admin:groups'], {});
    const names = (req.body as { groups?: unknown } | undefined)?.groups;
    if (!Array.isArray(names) || names.some((g) => typeof g !== 'string' || !GROUP_NAME.test(g))) {
      throw new HubError('HUB_ERR_BAD_REQUEST', 'Expected {"groups": ["name", ...]} with names of letters, digits, "_", "." and "-"');
    }
    const fresh = [...new Set(names as string[])].filter((g) => !o.store.data.groups[g]);
    if (!fresh.length) throw new HubError('HUB_ERR_BAD_REQUEST', 'All groups already exist', { status: 409 });
    create(id, fresh, []);
    await o.store.commit();
    res.status(201).json(fresh.map((g) => groupModel(o.store.data.groups[g]!)));
  });

  r.get('/hub/api/groups/:group', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const g = groupParam(req.params.group);
    requireScope(id, ['read:groups', 'read:groups:name'], target(g));
    res.json(groupModel(existing(g)));
  });

  r.post('/hub/api/groups/:group', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    requireScope(id, ['admin:groups'], {});
    const g = String(req.params.group ?? '');
    if (!GROUP_NAME.test(g)) throw new HubError('HUB_ERR_BAD_REQUEST', `Invalid group name: ${g}`);
    if (o.store.data.groups[g]) throw new HubError('HUB_ERR_BAD_REQUEST', `Group ${g} already exists`, { status: 409 });
    const users = req.body && (req.body as { users?: unknown }).users !== undefined ? memberList(req.body) : [];
    create(id, [g], users);
    await o.store.commit();
    res.status(201).json(groupModel(o.store.data.groups[g]!));
  });

  r.delete('/hub/api/groups/:group', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    requireScope(id, ['admin:groups'], {});
    const g = groupParam(req.params.group);
    existing(g);
    delete o.store.data.groups[g];
    await o.store.commit();
    o.log.info({ by: id.user, group: g }, 'group deleted');
    res.status(204).end();
  });

  r.post('/hub/api/groups/:group/users', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const g = groupParam(req.params.group);
    requireScope(id, ['groups'], target(g));
    const rec = existing(g);
    for (const u of memberList(req.body)) if (!rec.users.includes(u)) rec.users.push(u);
    await o.store.commit();
    res.json(groupModel(rec));
  });

  r.delete('/hub/api/groups/:group/users', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const g = groupParam(req.params.group);
    requireScope(id, ['groups'], target(g));
    const rec = existing(g);
    const remove = new Set(memberList(req.body));
    rec.users = rec.users.filter((u) => !remove.has(u));
    await o.store.commit();
    res.json(groupModel(rec));
  });

  return r;
}
