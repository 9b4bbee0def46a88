/**
 * Authentication and scope checks for the REST API, shared by its routers. Tokens come only from
 * the Authorization header; cookie-authenticated calls must be same-origin and, for writes, carry
 * the session's CSRF token in `X-XSRFToken`. A missing scope is 403; a scope held only for other
 * resources looks like a missing resource (404), as in JupyterHub.
 */
import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import { isValidUserName } from '../auth/accounts.js';
import { HubError } from '../errors.js';
import { sameOrigin } from '../http/cookies.js';
import type { Identity, IdentityResolver } from '../http/identity.js';
import type { Store } from '../store/store.js';
import { ScopeIndex, type ScopeTarget } from '../tokens/scopes.js';

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

/** Hub groups of a user (for `!group=` filters and user models). */
export function groupsOf(store: Store, user: string): string[] {
  return Object.values(store.data.groups)
    .filter((g) => g.users.includes(user))
    .map((g) => g.name)
    .sort();
}

/** Every user's hub groups at once (for listing many users). */
export function membershipIndex(store: Store): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of Object.values(store.data.groups)) {
    for (const u of g.users) {
      const list = out.get(u);
      if (list) list.push(g.name);
      else out.set(u, [g.name]);
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}

/** The scope target for a user (their groups resolved, from `memberships` when given). */
export function userTarget(store: Store, user: string, server?: string, memberships?: Map<string, string[]>): ScopeTarget {
  return { user, server, groups: memberships ? (memberships.get(user) ?? []) : groupsOf(store, user) };
}

const indexes = new WeakMap<Identity, ScopeIndex>();

/** The caller's scopes compiled once per request. */
export function scopeIndex(id: Identity): ScopeIndex {
  let index = indexes.get(id);
  if (!index) indexes.set(id, (index = new ScopeIndex(id.scopes)));
  return index;
}

/** True if the caller holds any of `scopes` for the target. */
export function can(id: Identity, scopes: readonly string[], target: ScopeTarget): boolean {
  const index = scopeIndex(id);
  return scopes.some((s) => index.has(s, target));
}

/** Requires one of `scopes` for the target: 403 if the caller lacks it entirely, 404 if it is filtered to others. */
export function requireScope(id: Identity, scopes: readonly string[], target: ScopeTarget | string, store?: Store): void {
  const t = typeof target === 'string' ? (store ? userTarget(store, target) : { user: target }) : target;
  if (can(id, scopes, t)) return;
  if (scopes.some((s) => scopeIndex(id).holdsAny(s))) throw new HubError('HUB_ERR_NOT_FOUND', 'No access to resources or resources not found');
  throw new HubError('HUB_ERR_FORBIDDEN', `Action is not authorized with current scopes; requires any of [${scopes.join(', ')}]`);
}

/** The `{name}` path parameter as a valid user name, else 404. */
export function userParam(req: Request): string {
  const name = String(req.params.name ?? '');
  if (!isValidUserName(name)) throw new HubError('HUB_ERR_NOT_FOUND', 'No access to resources or resources not found');
  return name;
}

const json = express.json({ limit: '1mb', type: () => true });

/** Parses a JSON body (any content type, like JupyterHub); bad JSON is JupyterHub's 400. */
export function jsonBody(req: Request, res: Response, next: NextFunction): void {
  if (!req.headers['content-length'] && !req.headers['transfer-encoding']) {
    req.body = undefined;
    return next();
  }
  json(req, res, (err?: unknown) => (err ? next(new HubError('HUB_ERR_INVALID_JSON')) : next()));
}

/**
 * The LabHub admin extensions (`/hub/api/labhub/…`) are for admins only: the caller must be an
 * admin and hold `admin:users` and `admin:servers` unfiltered (a token an admin scoped down to
 * less cannot use them).
 */
export function requireAdmin(req: Request, identity: IdentityResolver): Identity {
  const id = apiIdentity(req, identity);
  const granted = id.scopes;
  if (!id.admin || !granted.includes('admin:users') || !granted.includes('admin:servers')) {
    throw new HubError('HUB_ERR_FORBIDDEN', 'This is for LabHub admins only; log in with an admin account or use an admin token.');
  }
  return id;
}
