/**
 * `/hub/api/users/{name}/tokens…`: API tokens as JupyterHub 3.0 makes them (spec §5–6). Stored
 * as hashes only; the token itself is shown once, in the POST answer. A token's scopes can never
 * exceed its owner's, and `inherit` (the default) follows the owner's rights as they change.
 * With no token, a POST may authenticate with `{"auth": {"username", "password"}}` (PAM, with
 * the same lockouts as the login page).
 */
import express, { type Router } from 'express';
import type { LoginService } from '../auth/login.js';
import { HubError } from '../errors.js';
import { clientAddress } from '../http/cookies.js';
import type { Identity, IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { TokenRecord } from '../store/state.js';
import type { Store } from '../store/store.js';
import { expandScopes, invalidScope, ownerCovers, sessionScopes, tokenScopes } from '../tokens/scopes.js';
import type { TokenStore } from '../tokens/token-store.js';
import { apiIdentity, jsonBody, requireScope, userParam } from './access.js';
import { isoZ } from './models.js';

export interface TokensApiOptions {
  store: Store;
  identity: IdentityResolver;
  tokens: TokenStore;
  login: LoginService;
  log: Logger;
}

export function tokenModel(store: Store, rec: TokenRecord): Record<string, unknown> {
  const owner = store.data.users[rec.user];
  const client = rec.clientId === 'jupyterhub' ? 'JupyterHub' : (store.data.oauthClients[rec.clientId]?.description ?? rec.clientId);
  return {
    user: rec.user,
    id: rec.id,
    kind: 'api_token',
    roles: [],
    scopes: rec.kind === 'api_token' ? tokenScopes(rec.scopes, sessionScopes(rec.user, owner?.admin ?? false)) : rec.scopes,
    created: isoZ(rec.created),
    last_activity: isoZ(rec.lastActivity),
    expires_at: isoZ(rec.expiresAt),
    note: rec.note,
    session_id: rec.sessionId,
    oauth_client: client,
  };
}

function liveTokens(store: Store, user: string): TokenRecord[] {
  const now = Date.now();
  return Object.values(store.data.tokens).filter((t) => t.user === user && (!t.expiresAt || Date.parse(t.expiresAt) > now));
}

export function tokensRouter(o: TokensApiOptions): Router {
  const r = express.Router();

  r.get('/hub/api/users/:name/tokens', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['read:tokens'], name, o.store);
    if (!o.store.data.users[name]) throw new HubError('HUB_ERR_NOT_FOUND');
    res.json({ api_tokens: liveTokens(o.store, name).map((t) => tokenModel(o.store, t)) });
  });

  r.post('/hub/api/users/:name/tokens', jsonBody, async (req, res) => {
    const name = userParam(req);
    const body = (req.body ?? {}) as { note?: unknown; expires_in?: unknown; scopes?: unknown; roles?: unknown; auth?: { username?: unknown; password?: unknown } };
    let id: Identity | null = o.identity.resolve(req) ? apiIdentity(req, o.identity) : null;
    if (!id) {
      // JupyterHub allows a token request authenticated by the user's own password
      const auth = body.auth;
      if (!auth || typeof auth.username !== 'string' || typeof auth.password !== 'string') throw new HubError('HUB_ERR_NOT_AUTHENTICATED');
      const result = await o.login.login(auth.username, auth.password, clientAddress(req));
      await o.store.commit();
      id = { user: result.account.name, admin: result.admin, scopes: sessionScopes(result.account.name, result.admin), via: 'token' };
    }
    requireScope(id, ['tokens'], name, o.store);
    const owner = o.store.data.users[name];
    if (!owner) throw new HubError('HUB_ERR_NOT_FOUND');
    const ownerScopes = sessionScopes(name, owner.admin);

    let requested: string[];
    if (body.scopes !== undefined) {
      if (!Array.isArray(body.scopes) || body.scopes.some((s) => typeof s !== 'string')) throw new HubError('HUB_ERR_BAD_REQUEST', 'scopes must be a list of strings');
      requested = body.scopes as string[];
    } else if (body.roles !== undefined) {
      if (!Array.isArray(body.roles)) throw new HubError('HUB_ERR_BAD_REQUEST', 'roles must be a list');
      requested = [];
      for (const role of body.roles) {
        if (role === 'token' || role === 'user') requested.push('inherit');
        else if (role === 'admin') requested.push('admin:users', 'admin:servers', 'admin:groups', 'tokens', 'read:hub', 'proxy', 'access:servers');
        else throw new HubError('HUB_ERR_BAD_REQUEST', `Unknown role: ${String(role)}`);
      }
    } else requested = ['inherit'];
    for (const s of requested) {
      const bad = invalidScope(s);
      if (bad) throw new HubError('HUB_ERR_BAD_REQUEST', bad);
    }
    if (!requested.includes('inherit')) {
      const notHeld = expandScopes(requested).filter((s) => !ownerCovers(ownerScopes, s));
      if (notHeld.length) throw new HubError('HUB_ERR_BAD_REQUEST', `Not assigning requested scopes ${notHeld.join(', ')} not held by ${name}`);
      // the caller must hold them too: a limited token cannot mint a broader one
      if (id.via === 'token' && id.token) {
        const beyond = expandScopes(requested).filter((s) => !ownerCovers(id!.scopes, s));
        if (beyond.length) throw new HubError('HUB_ERR_BAD_REQUEST', `Not assigning requested scopes ${beyond.join(', ')} not held by the requesting token`);
      }
    }
    let expires: number | null = null;
    if (body.expires_in !== undefined && body.expires_in !== null) {
      if (typeof body.expires_in !== 'number' || !(body.expires_in > 0)) throw new HubError('HUB_ERR_BAD_REQUEST', 'expires_in must be a positive number of seconds');
      expires = body.expires_in;
    }
    const note = typeof body.note === 'string' ? body.note.slice(0, 1000) : `Requested via api by ${id.via === 'session' ? 'user' : 'token of'} ${id.user}`;
    const { token, record } = o.tokens.create({ user: name, kind: 'api_token', scopes: requested, note, expiresInSeconds: expires });
    await o.store.commit();
    o.log.info({ by: id.user, user: name, tokenId: record.id }, 'API token created');
    res.status(201).json({ ...tokenModel(o.store, record), token });
  });

  r.get('/hub/api/users/:name/tokens/:tokenId', (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['read:tokens'], name, o.store);
    const rec = o.store.data.tokens[String(req.params.tokenId)];
    if (!rec || rec.user !== name) throw new HubError('HUB_ERR_NOT_FOUND', `No such token: ${String(req.params.tokenId)}`);
    res.json(tokenModel(o.store, rec));
  });

  r.delete('/hub/api/users/:name/tokens/:tokenId', async (req, res) => {
    const id = apiIdentity(req, o.identity);
    const name = userParam(req);
    requireScope(id, ['tokens'], name, o.store);
    const rec = o.store.data.tokens[String(req.params.tokenId)];
    if (!rec || rec.user !== name) throw new HubError('HUB_ERR_NOT_FOUND', `No such token: ${String(req.params.tokenId)}`);
    // revoking an OAuth token revokes every token of that user for the same client (JupyterHub)
    if (rec.kind === 'oauth') o.tokens.revokeWhere((t) => t.user === name && t.clientId === rec.clientId && t.kind === 'oauth');
    else o.tokens.revoke(rec.id);
    await o.store.commit();
    res.status(204).end();
  });

  return r;
}
