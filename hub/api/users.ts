/**
 * `/hub/api/users…` and `/hub/api/info`, `/hub/api/proxy`: JupyterHub 3.0's user REST API
 * (spec §5) with its pagination, state filters and scope-filtered models, so the idle culler and
 * admin scripts written for JupyterHub work unchanged. Hub users are Linux accounts: creating one
 * needs the account to exist (the roster import creates accounts).
 */
import express, { type Router } from 'express';
import { isValidUserName, type Account } from '../auth/accounts.js';
import type { SessionManager } from '../auth/sessions.js';
import { HubError } from '../errors.js';
import type { Identity, IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { ProxyClient } from '../proxy/types.js';
import type { ServerManager } from '../servers/manager.js';
import type { Store } from '../store/store.js';
import type { TokenStore } from '../tokens/token-store.js';
import { apiIdentity, can, jsonBody, membershipIndex, requireScope, scopeIndex, userParam, userTarget } from './access.js';
import { JUPYTERHUB_VERSION, paginate, userModel } from './models.js';

export interface UsersApiOptions {
  store: Store;
  identity: IdentityResolver;
  servers: ServerManager;
  tokens: TokenStore;
  sessions: SessionManager;
  proxy: ProxyClient;
  lookup: (name: string) => Promise<Account | null>;
  log: Logger;
  spawnerKind: string;
}

/** The user model as the caller may see it, or null when they may see nothing of it. */
export function visibleUserModel(
  o: Pick<UsersApiOptions, 'store' | 'servers'>,
  id: Identity,
  name: string,
  includeStopped = false,
  memberships?: Map<string, string[]>,
) {
  const user = o.store.data.users[name];
  if (!user) return null;
  const t = userTarget(o.store, name, undefined, memberships);
  const index = scopeIndex(id);
  const has = (s: string) => index.has(s, t);
  const full = userModel({
    user,
    server: o.servers.record(name),
    pending: o.servers.isPending(name) ? 'spawn' : o.servers.isStopping(name) ? 'stop' : null,
    groups: t.groups as string[],
    withState: has('admin:server_state'),
    includeStopped,
  });
  const readUsers = has('read:users');
  const readServers = has('read:servers');
  // the common case (admins, tools): everything visible, no copy
  if (readUsers && readServers && has('admin:auth_state')) return full;
  const model: Record<string, unknown> = {};
  if (readUsers) Object.assign(model, full);
  else {
    if (has('read:users:name')) Object.assign(model, { kind: full.kind, name: full.name, admin: full.admin });
    if (has('read:users:groups')) model.groups = full.groups;
    if (has('read:users:activity')) model.last_activity = full.last_activity;
  }
  if (readServers) model.servers = full.servers;
  else delete model.servers;
  if (!has('admin:auth_state')) delete model.auth_state;
  return Object.keys(model).length ? model : null;
}

const STATES = new Set(['active', 'ready', 'inactive']);

export function usersRouter(o: UsersApiOptions): Router {
  const r = express.Router();
  const model = (id: Identity, name: string) => visibleUserModel(o, id, name);

  r.get('/hub/api/info', (req, res) => {
    const id = apiIdentity(req, o.identity);
    requireScope(id, ['read:hub'], {});
    res.json({
      version: JUPYTERHUB_VERSION,
      python: null,
      sys_executable: process.execPath,
      labhub: { version: process.env.npm_package_version ?? '0.1.0', node: process.version },
      spawner: { class: `labhub.${o.spawnerKind}`, version: JUPYTERHUB_VERSION },
      authenticator: { class: 'labhub.PamAuthenticator', version: JUPYTERHUB_VERSION },
    });
  });

  r.get('/hub/api/proxy', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    requireScope(id, ['proxy'], {});
    const routes = await o.proxy.getRoutes();
    const out: Record<string, unknown> = {};
    for (const [prefix, route] of Object.entries(routes)) {
      out[prefix] = { routespec: prefix, target: route.target, data: { ...route.data, last_activity: route.last_activity ?? undefined } };
    }
    res.json(out);
  });

  r.get('/hub/api/users', (req, res) => {
    const id = apiIdentity(req, o.identity);
    if (!scopeIndex(id).holdsAny('list:users')) requireScope(id, ['list:users'], {});
    const q = req.query as Record<string, string | undefined>;
    const state = q.state;
    if (state !== undefined && state !== '' && !STATES.has(state)) throw new HubError('HUB_ERR_BAD_REQUEST', `Unrecognized state filter: '${state}'`);
    const includeStopped = q.include_stopped_servers !== undefined;
    const memberships = membershipIndex(o.store);
    const names = Object.keys(o.store.data.users).filter((name) => {
      if (!can(id, ['list:users'], userTarget(o.store, name, undefined, memberships))) return false;
      if (q.name_filter && !name.startsWith(q.name_filter)) return false;
      const ready = o.servers.isReady(name) && !o.servers.isPending(name);
      const active = ready || o.servers.isPending(name) || o.servers.isStopping(name);
      if (state === 'ready') return ready;
      if (state === 'active') return active;
      if (state === 'inactive') return !active;
      return true;
    });
    paginate(req, res, names, (name) => visibleUserModel(o, id, name, includeStopped, memberships) ?? { kind: 'user', name });
  });

  r.post('/hub/api/users', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    requireScope(id, ['admin:users'], {});
    const body = (req.body ?? {}) as { usernames?: unknown; admin?: unknown };
    if (!Array.isArray(body.usernames) || body.usernames.some((n) => typeof n !== 'string')) {
      throw new HubError('HUB_ERR_BAD_REQUEST', 'Expected {"usernames": ["name", ...]}');
    }
    const names = [...new Set(body.usernames as string[])];
    const invalid = names.filter((n) => !isValidUserName(n));
    if (invalid.length) throw new HubError('HUB_ERR_BAD_REQUEST', `Invalid usernames: ${invalid.join(', ')}`);
    const fresh = names.filter((n) => !o.store.data.users[n]);
    if (!fresh.length) throw new HubError('HUB_ERR_BAD_REQUEST', `All ${names.length} users already exist`, { status: 409 });
    await requireAccounts(o, fresh);
    for (const n of fresh) addUser(o.store, n, body.admin === true);
    await o.store.commit();
    o.log.info({ by: id.user, users: fresh }, 'users added');
    res.status(201).json(fresh.map((n) => model(id, n)));
  });

  r.get('/hub/api/users/:name', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['read:users', 'read:users:name', 'read:servers', 'read:users:activity', 'read:users:groups'], name, o.store);
    const m = model(id, name);
    if (!m) throw new HubError('HUB_ERR_NOT_FOUND');
    res.json(m);
  });

  r.post('/hub/api/users/:name', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    requireScope(id, ['admin:users'], {});
    const name = userParam(req);
    if (o.store.data.users[name]) throw new HubError('HUB_ERR_BAD_REQUEST', `User ${name} already exists`, { status: 409 });
    await requireAccounts(o, [name]);
    addUser(o.store, name, (req.body as { admin?: unknown } | undefined)?.admin === true);
    await o.store.commit();
    o.log.info({ by: id.user, user: name }, 'user added');
    res.status(201).json(model(id, name));
  });

  r.patch('/hub/api/users/:name', jsonBody, async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['admin:users'], name, o.store);
    const user = o.store.data.users[name];
    if (!user) throw new HubError('HUB_ERR_NOT_FOUND');
    const body = (req.body ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(body)) {
      if (key === 'name' && body.name !== name) throw new HubError('HUB_ERR_BAD_REQUEST', 'Renaming users is not supported: a LabHub user name is the Linux account name.');
      if (!['name', 'admin'].includes(key)) throw new HubError('HUB_ERR_BAD_REQUEST', `Cannot change '${key}' through this endpoint`);
    }
    if (typeof body.admin === 'boolean') {
      user.adminByApi = body.admin;
      user.admin = body.admin;
    }
    await o.store.commit();
    res.json(model(id, name));
  });

  r.delete('/hub/api/users/:name', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['delete:users'], name, o.store);
    if (!o.store.data.users[name]) throw new HubError('HUB_ERR_NOT_FOUND');
    if (name === id.user) throw new HubError('HUB_ERR_BAD_REQUEST', 'Cannot delete yourself!');
    await o.servers.stop(name, null);
    forgetHubUser(o, name);
    await o.store.commit();
    o.log.info({ by: id.user, user: name }, 'user removed from the hub (the Linux account is kept)');
    res.status(204).end();
  });

  return r;
}

/**
 * Removes a hub user with their tokens, sessions, group memberships and server record (shared with
 * the accounts API). The caller stops the server first and commits.
 */
export function forgetHubUser(o: Pick<UsersApiOptions, 'store' | 'tokens' | 'sessions'>, name: string): void {
  o.tokens.revokeWhere((t) => t.user === name);
  o.sessions.destroyUser(name);
  for (const g of Object.values(o.store.data.groups)) g.users = g.users.filter((u) => u !== name);
  delete o.store.data.servers[name];
  delete o.store.data.users[name];
}

function addUser(store: Store, name: string, admin: boolean): void {
  store.data.users[name] = { name, created: new Date().toISOString(), lastActivity: null, admin, adminByApi: admin || undefined };
}

/** Hub users are Linux accounts that may log in: refuse names without such an account. */
async function requireAccounts(o: UsersApiOptions, names: string[]): Promise<void> {
  const missing: string[] = [];
  for (const n of names) {
    const acct = await o.lookup(n);
    if (!acct || acct.uid < 1000) missing.push(n);
  }
  if (missing.length) {
    throw new HubError(
      'HUB_ERR_BAD_REQUEST',
      `No Linux account that may log in for: ${missing.join(', ')}. Create the accounts first (useradd, or the roster import in the admin GUI).`,
    );
  }
}

