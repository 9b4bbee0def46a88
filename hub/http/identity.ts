/**
 * Who is asking: a browser session (login cookie) or a token (Authorization header only, as the
 * JupyterHub 3 API accepts). Resolved once per request and cached in a WeakMap, not hung on `req`.
 */
import type { Request } from 'express';
import type { SessionManager } from '../auth/sessions.js';
import type { SessionRecord, TokenRecord } from '../store/state.js';
import type { Store } from '../store/store.js';
import { sessionScopes, tokenScopes } from '../tokens/scopes.js';
import type { TokenStore } from '../tokens/token-store.js';
import { cookie, LOGIN_COOKIE } from './cookies.js';

export interface Identity {
  user: string;
  admin: boolean;
  scopes: string[];
  via: 'session' | 'token';
  session?: SessionRecord;
  token?: TokenRecord;
}

const AUTH_HEADER = /^(token|bearer)\s+(\S+)$/i;

export class IdentityResolver {
  private readonly cache = new WeakMap<Request, Identity | null>();

  constructor(
    private readonly store: Store,
    private readonly sessions: SessionManager,
    private readonly tokens: TokenStore,
  ) {}

  /** The browser session only (pages and OAuth authorize accept nothing else). */
  fromSession(req: Request): Identity | null {
    const session = this.sessions.get(cookie(req, LOGIN_COOKIE));
    if (!session) return null;
    const admin = this.store.data.users[session.user]?.admin ?? false;
    return { user: session.user, admin, scopes: sessionScopes(session.user, admin), via: 'session', session };
  }

  /** The Authorization-header token only. */
  fromToken(req: Request): Identity | null {
    const header = req.headers.authorization;
    const m = header ? AUTH_HEADER.exec(header) : null;
    if (!m) return null;
    const rec = this.tokens.find(m[2]!);
    if (!rec) return null;
    if (this.tokens.touch(rec)) void this.store.commit().catch(() => undefined);
    if (rec.kind === 'service') return { user: rec.user, admin: true, scopes: sessionScopes(rec.user, true), via: 'token', token: rec };
    const admin = this.store.data.users[rec.user]?.admin ?? false;
    // server and OAuth tokens carry exactly what the hub gave them; API tokens are bounded by
    // what their owner holds now
    const scopes = rec.kind === 'api_token' ? tokenScopes(rec.scopes, sessionScopes(rec.user, admin)) : rec.scopes;
    return { user: rec.user, admin, scopes, via: 'token', token: rec };
  }

  /** Token first, then the session. */
  resolve(req: Request): Identity | null {
    if (this.cache.has(req)) return this.cache.get(req)!;
    const id = this.fromToken(req) ?? this.fromSession(req);
    this.cache.set(req, id);
    return id;
  }
}
