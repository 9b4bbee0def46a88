/**
 * The part of JupyterHub's scope model the hub needs: scopes as strings with an optional
 * `!user=<name>` or `!server=<user>/<server>` filter, expanded for one user.
 * See https://jupyterhub.readthedocs.io/en/stable/rbac/scopes.html
 */

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

/**
 * True if `granted` holds `scope` for the given user (and server): an unfiltered scope,
 * `!user=<user>`, or `!server=<user>/<server>`.
 */
export function hasScope(granted: readonly string[], scope: string, user: string, server?: string): boolean {
  for (const g of granted) {
    const [base, filter] = g.split('!', 2);
    if (base !== scope) continue;
    if (filter === undefined) return true;
    if (filter === `user=${user}`) return true;
    if (server !== undefined && filter === `server=${user}/${server}`) return true;
  }
  return false;
}

/** What a logged-in browser session may do: everything about itself, everything when admin. */
export function sessionScopes(user: string, admin: boolean): string[] {
  const self = [
    'read:users',
    'read:users:name',
    'read:users:groups',
    'read:users:activity',
    'read:servers',
    'servers',
    'delete:servers',
    'access:servers',
    'tokens',
    'read:tokens',
    'users:activity',
  ].map((s) => `${s}!user=${user}`);
  if (!admin) return self;
  return [
    ...self,
    'admin:users',
    'list:users',
    'read:users',
    'read:users:activity',
    'read:servers',
    'servers',
    'delete:servers',
    'admin:server_state',
    'tokens',
    'read:tokens',
    'read:hub',
    'proxy',
    'access:servers',
  ];
}
