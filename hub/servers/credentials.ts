/**
 * What a single-user server is given to talk to the hub, as JupyterHub gives it: an API token
 * (which doubles as its OAuth client secret), an OAuth client, and the JUPYTERHUB_* environment
 * (spec/jupyterhub-protocol.md §2). Issued for each launch and forgotten when the server ends.
 */
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import { hashToken } from '../tokens/hash.js';
import { accessScopes, serverTokenScopes } from '../tokens/scopes.js';
import type { TokenStore } from '../tokens/token-store.js';

export function userPrefix(user: string): string {
  return `/user/${user}/`;
}

export function clientIdFor(user: string): string {
  return `jupyterhub-user-${encodeURIComponent(user)}`;
}

/**
 * Replaces the user's server token and OAuth client with new ones (in `store.data`; the caller
 * commits) and returns the token and its record id.
 */
export function issueServerCredentials(store: Store, tokens: TokenStore, user: string): { token: string; tokenId: string } {
  const prefix = userPrefix(user);
  tokens.revokeWhere((t) => t.user === user && t.kind === 'server');
  const clientId = clientIdFor(user);
  const { token, record } = tokens.create({
    user,
    kind: 'server',
    scopes: serverTokenScopes(user),
    note: `Server at ${prefix}`,
    clientId: 'jupyterhub',
  });
  store.data.oauthClients[clientId] = {
    id: clientId,
    secretHash: hashToken(token),
    redirectUri: `${prefix}oauth_callback`,
    description: `Server at ${prefix}`,
    user,
    server: '',
    allowedScopes: accessScopes(user, ''),
  };
  return { token, tokenId: record.id };
}

/** Removes the server's token, its OAuth client, and every OAuth token issued to that client. */
export function forgetServerCredentials(store: Store, tokens: TokenStore, user: string): void {
  const clientId = clientIdFor(user);
  tokens.revokeWhere((t) => (t.user === user && t.kind === 'server') || t.clientId === clientId);
  delete store.data.oauthClients[clientId];
}

/** The JUPYTERHUB_* environment of the user's server (the spawner adds JUPYTERHUB_SERVICE_URL). */
export function serverHubEnv(o: { user: string; token: string; apiUrl: string; config: Readonly<Config> }): Record<string, string> {
  const { user, token, apiUrl } = o;
  const prefix = userPrefix(user);
  const env: Record<string, string> = {
    JUPYTERHUB_API_TOKEN: token,
    JPY_API_TOKEN: token,
    JUPYTERHUB_CLIENT_ID: clientIdFor(user),
    JUPYTERHUB_API_URL: apiUrl,
    JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${encodeURIComponent(user)}/activity`,
    JUPYTERHUB_USER: user,
    JUPYTERHUB_SERVER_NAME: '',
    JUPYTERHUB_BASE_URL: '/',
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: JSON.stringify(accessScopes(user, '')),
    JUPYTERHUB_OAUTH_SCOPES: JSON.stringify(accessScopes(user, '')),
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
    JUPYTERHUB_HOST: '',
  };
  if (o.config.spawner.defaultUrl) env.JUPYTERHUB_DEFAULT_URL = o.config.spawner.defaultUrl;
  return env;
}
