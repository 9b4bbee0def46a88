/**
 * JupyterHub's scope model (RBAC, 3.0): scopes as strings with an optional filter
 * `!user=<name>`, `!server=<user>/<server>` or `!group=<name>`; a scope implies its sub-scopes
 * (`servers` → `read:servers`, `delete:servers`, …); `inherit` means "everything the owner has".
 * See https://jupyterhub.readthedocs.io/en/stable/rbac/scopes.html
 */

/** Sub-scopes each scope implies (jupyterhub/scopes.py scope_definitions, 3.0). */
const SUBSCOPES: Record<string, string[]> = {
  'admin:users': ['admin:auth_state', 'users', 'read:roles:users', 'delete:users'],
  users: ['read:users', 'list:users', 'users:activity'],
  'read:users': ['read:users:name', 'read:users:groups', 'read:users:activity'],
  'users:activity': ['read:users:activity'],
  'admin:servers': ['admin:server_state', 'servers'],
  servers: ['read:servers', 'delete:servers'],
  'read:servers': ['read:users:name'],
  tokens: ['read:tokens'],
  'admin:groups': ['groups'],
  groups: ['read:groups', 'list:groups'],
  'read:groups': ['read:groups:name'],
};

/** Every scope name LabHub knows; a token asking for another is refused. */
export const KNOWN_SCOPES = new Set<string>([
  ...Object.keys(SUBSCOPES),
  ...Object.values(SUBSCOPES).flat(),
  'access:servers',
  'read:hub',
  'proxy',
  'shutdown',
  'inherit',
  'self',
]);

function split(scope: string): [string, string | undefined] {
  const i = scope.indexOf('!');
  return i < 0 ? [scope, undefined] : [scope.slice(0, i), scope.slice(i + 1)];
}

/** Validates a requested scope (`base` known, filter well-formed); returns a reason when not. */
export function invalidScope(scope: string): string | null {
  const [base, filter] = split(scope);
  if (!KNOWN_SCOPES.has(base)) return `Unknown scope: ${scope}`;
  if (filter !== undefined && !/^(user=[a-z_][a-z0-9_-]*|group=[A-Za-z0-9_.-]+|server=[a-z_][a-z0-9_-]*\/[A-Za-z0-9_.-]*)$/.test(filter)) {
    return `Invalid scope filter: ${scope}`;
  }
  return null;
}

/** Expands each scope with everything it implies, keeping its filter. */
export function expandScopes(scopes: readonly string[]): string[] {
  const out = new Set<string>();
  const visit = (base: string, filter: string | undefined) => {
    const key = filter === undefined ? base : `${base}!${filter}`;
    if (out.has(key)) return;
    out.add(key);
    for (const sub of SUBSCOPES[base] ?? []) visit(sub, filter);
  };
  for (const s of scopes) {
    const [base, filter] = split(s);
    visit(base, filter);
  }
  return [...out].sort();
}

/** Scopes a server's own API token has (JupyterHub's `server` role), expanded for `user`. */
export function serverTokenScopes(user: string): string[] {
  return [
    `access:servers!user=${user}`,
    `read:users:activity!user=${user}`,
    `read:users:groups!user=${user}`,
    `read:users:name!user=${user}`,
    `users:activity!user=${user}`,
  ];
}

/** Scopes granted to an OAuth access token for a user's server (spec §3.4). */
export function oauthTokenScopes(user: string, server: string): string[] {
  return [`access:servers!server=${user}/${server}`, `read:users:groups!user=${user}`, `read:users:name!user=${user}`];
}

/** The scopes a single-user server accepts for access (JUPYTERHUB_OAUTH_ACCESS_SCOPES). */
export function accessScopes(user: string, server: string): string[] {
  return [`access:servers!server=${user}/${server}`, `access:servers!user=${user}`];
}

/** What a user may do (JupyterHub's `user` role, `self`), or an admin (`admin` role). */
export function sessionScopes(user: string, admin: boolean): string[] {
  const self = expandScopes(
    ['read:users', 'servers', 'access:servers', 'tokens', 'users:activity', 'read:groups'].map((s) => `${s}!user=${user}`),
  );
  if (!admin) return self;
  return expandScopes([
    ...self,
    'admin:users',
    'admin:servers',
    'admin:groups',
    'tokens',
    'access:servers',
    'read:hub',
    'proxy',
  ]);
}

/** What a scope check is about: a user, optionally one of their servers, and their hub groups. */
export interface ScopeTarget {
  user?: string;
  server?: string;
  /** Hub groups of `user` (for `!group=` filters), or the group itself for group resources. */
  groups?: readonly string[];
  /** The group resource being acted on (for `groups`/`read:groups` on a group). */
  group?: string;
}

/** Does a filter cover the target? No filter covers everything. */
export function filterCovers(filter: string | undefined, t: ScopeTarget): boolean {
  if (filter === undefined) return true;
  const eq = filter.indexOf('=');
  const kind = filter.slice(0, eq);
  const value = filter.slice(eq + 1);
  if (kind === 'user') return t.user === value;
  if (kind === 'server') return t.user !== undefined && t.server !== undefined && value === `${t.user}/${t.server}`;
  if (kind === 'group') return t.group === value || (t.groups ?? []).includes(value);
  return false;
}

/** True if `granted` (expanded) holds `scope` for the target. */
export function hasScope(granted: readonly string[], scope: string, target: ScopeTarget | string, server?: string): boolean {
  const t: ScopeTarget = typeof target === 'string' ? { user: target, server } : target;
  for (const g of granted) {
    const [base, filter] = split(g);
    if (base === scope && filterCovers(filter, t)) return true;
  }
  return false;
}

/** True if the scope is held at all, with any filter (403 vs 404 decisions). */
export function holdsAny(granted: readonly string[], scope: string): boolean {
  return granted.some((g) => split(g)[0] === scope);
}

/** True if `granted` holds `scope` without a filter. */
export function holdsUnfiltered(granted: readonly string[], scope: string): boolean {
  return granted.includes(scope);
}

/**
 * Is a requested (token) scope within what the owner holds? An owner's unfiltered scope covers any
 * filter; `!user=u` covers `!user=u` and `!server=u/…`; otherwise the same filter is needed.
 */
export function ownerCovers(ownerScopes: readonly string[], requested: string): boolean {
  const [base, filter] = split(requested);
  for (const g of ownerScopes) {
    const [gBase, gFilter] = split(g);
    if (gBase !== base) continue;
    if (gFilter === undefined || gFilter === filter) return true;
    if (filter?.startsWith('server=') && gFilter.startsWith('user=') && filter.slice(7).split('/')[0] === gFilter.slice(5)) return true;
  }
  return false;
}

/**
 * A token's effective scopes: its own (with `inherit` meaning the owner's), expanded, and only
 * those the owner still holds, so a token never outlives its owner's rights.
 */
export function tokenScopes(stored: readonly string[], ownerScopes: readonly string[]): string[] {
  if (stored.includes('inherit')) return [...ownerScopes];
  return expandScopes(stored).filter((s) => ownerCovers(ownerScopes, s));
}

/**
 * Granted scopes compiled for fast checks: base scope → its filters (`undefined` = unfiltered).
 * Listing 200 users asks ~8 questions per user; scanning and splitting 50 scope strings each
 * time dominated the request.
 */
export class ScopeIndex {
  private readonly byBase = new Map<string, Array<string | undefined>>();

  constructor(granted: readonly string[]) {
    for (const g of granted) {
      const [base, filter] = split(g);
      let filters = this.byBase.get(base);
      if (!filters) this.byBase.set(base, (filters = []));
      filters.push(filter);
    }
  }

  has(scope: string, target: ScopeTarget): boolean {
    const filters = this.byBase.get(scope);
    if (!filters) return false;
    for (const f of filters) if (filterCovers(f, target)) return true;
    return false;
  }

  holdsAny(scope: string): boolean {
    return this.byBase.has(scope);
  }
}
