/**
 * The OAuth2 provider that jupyterhub-singleuser logs browsers in with (spec §3): authorize with
 * the hub's login cookie only, single-use five-minute codes, and a token endpoint that
 * authenticates the client by its secret (the server's API token, stored hashed).
 * See https://jupyterhub.readthedocs.io/en/stable/explanation/oauth.html
 */
import express, { type Request, type Response, type Router } from 'express';
import { HubError } from '../errors.js';
import type { IdentityResolver } from '../http/identity.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { newOAuthToken, verifyToken } from '../tokens/hash.js';
import { oauthTokenScopes } from '../tokens/scopes.js';
import type { TokenStore } from '../tokens/token-store.js';

interface PendingCode {
  clientId: string;
  user: string;
  scopes: string[];
  redirectUri: string;
  sessionId: string | null;
  expires: number;
}

const CODE_TTL_MS = 5 * 60_000;

export interface OAuthOptions {
  store: Store;
  tokens: TokenStore;
  identity: IdentityResolver;
  log: Logger;
  tokenLifetimeSeconds: number;
}

export class OAuthProvider {
  private readonly codes = new Map<string, PendingCode>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly o: OAuthOptions) {
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const [k, c] of this.codes) if (c.expires <= now) this.codes.delete(k);
    }, 60_000);
    this.sweep.unref();
  }

  close(): void {
    clearInterval(this.sweep);
  }

  router(): Router {
    const r = express.Router();
    r.get('/hub/api/oauth2/authorize', (req, res) => this.authorize(req, res));
    r.post('/hub/api/oauth2/token', express.urlencoded({ extended: false, limit: '16kb' }), (req, res, next) => {
      this.token(req, res).catch(next);
    });
    return r;
  }

  private authorize(req: Request, res: Response): void {
    const q = req.query as Record<string, unknown>;
    const str = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : '');
    const identity = this.o.identity.fromSession(req);
    if (!identity) {
      res.redirect(302, `/hub/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    const client = this.o.store.data.oauthClients[str('client_id')];
    if (!client || client.redirectUri !== str('redirect_uri')) {
      throw new HubError('HUB_ERR_OAUTH_CLIENT', 'Unknown OAuth client or mismatched redirect URI. Go back to your LabHub home page and open your server from there.');
    }
    if (str('response_type') !== 'code') throw new HubError('HUB_ERR_BAD_REQUEST', 'Unsupported response_type; only "code" is supported.');
    // the owner may use their server, and an admin may open anyone's (JupyterHub's admin role
    // holds access:servers); nobody else
    if (identity.user !== client.user) {
      if (!identity.admin) throw new HubError('HUB_ERR_FORBIDDEN', `You do not have access to ${client.user}'s server.`);
      this.o.log.info({ admin: identity.user, user: client.user }, 'admin opened a server');
    }
    const code = newOAuthToken();
    this.codes.set(code, {
      clientId: client.id,
      user: identity.user,
      scopes: oauthTokenScopes(client.user, client.server),
      redirectUri: client.redirectUri,
      sessionId: identity.session?.sessionId ?? null,
      expires: Date.now() + CODE_TTL_MS,
    });
    const sep = client.redirectUri.includes('?') ? '&' : '?';
    const state = str('state');
    res.redirect(302, `${client.redirectUri}${sep}code=${encodeURIComponent(code)}${state ? `&state=${encodeURIComponent(state)}` : ''}`);
  }

  private async token(req: Request, res: Response): Promise<void> {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const body = (req.body ?? {}) as Record<string, string>;
    const oauthError = (status: number, error: string, description?: string) =>
      res.status(status).json(description ? { error, error_description: description } : { error });
    if (body.grant_type !== 'authorization_code') return void oauthError(400, 'unsupported_grant_type');
    const client = this.o.store.data.oauthClients[body.client_id ?? ''];
    if (!client || !body.client_secret || !verifyToken(body.client_secret, client.secretHash)) {
      return void oauthError(401, 'invalid_client');
    }
    const code = this.codes.get(body.code ?? '');
    if (code) this.codes.delete(body.code!);
    if (!code || code.expires <= Date.now() || code.clientId !== client.id) return void oauthError(400, 'invalid_grant');
    if ((body.redirect_uri ?? '') !== client.redirectUri) return void oauthError(400, 'invalid_grant', 'redirect_uri does not match');
    const { token } = this.o.tokens.create({
      user: code.user,
      kind: 'oauth',
      clientId: client.id,
      sessionId: code.sessionId,
      scopes: code.scopes,
      expiresInSeconds: this.o.tokenLifetimeSeconds,
    });
    await this.o.store.commit();
    res.status(200).json({
      access_token: token,
      token_type: 'Bearer',
      expires_in: this.o.tokenLifetimeSeconds,
      scope: code.scopes.join(' '),
    });
  }
}
