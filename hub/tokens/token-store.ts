/**
 * API, server and OAuth tokens, stored as hashes in the state file and found by their 4-character
 * prefix (JupyterHub's scheme). The caller commits after a change.
 */
import type { Store } from '../store/store.js';
import type { TokenRecord } from '../store/state.js';
import { hashToken, newApiToken, newOAuthToken, verifyToken } from './hash.js';

export interface CreateTokenOptions {
  user: string;
  kind: TokenRecord['kind'];
  scopes: string[];
  clientId?: string;
  sessionId?: string | null;
  note?: string;
  expiresInSeconds?: number | null;
}

/** Activity on a token is written at most this often (JupyterHub's activity_resolution). */
const ACTIVITY_RESOLUTION_MS = 30_000;

export class TokenStore {
  constructor(private readonly store: Store) {}

  create(opts: CreateTokenOptions): { token: string; record: TokenRecord } {
    const token = opts.kind === 'oauth' ? newOAuthToken() : newApiToken();
    const id = `a${this.store.data.nextTokenId++}`;
    const now = new Date();
    const record: TokenRecord = {
      id,
      prefix: token.slice(0, 4),
      hash: hashToken(token),
      user: opts.user,
      kind: opts.kind,
      clientId: opts.clientId ?? 'jupyterhub',
      sessionId: opts.sessionId ?? null,
      scopes: opts.scopes,
      note: opts.note ?? '',
      created: now.toISOString(),
      lastActivity: null,
      expiresAt: opts.expiresInSeconds ? new Date(now.getTime() + opts.expiresInSeconds * 1000).toISOString() : null,
    };
    this.store.data.tokens[id] = record;
    return { token, record };
  }

  /** The live record for a presented token, or null (unknown, wrong or expired). */
  find(token: string): TokenRecord | null {
    if (token.length < 8 || token.length > 200) return null;
    const prefix = token.slice(0, 4);
    const now = Date.now();
    for (const rec of Object.values(this.store.data.tokens)) {
      if (rec.prefix !== prefix) continue;
      if (rec.expiresAt && Date.parse(rec.expiresAt) <= now) continue;
      if (verifyToken(token, rec.hash)) return rec;
    }
    return null;
  }

  /** Notes use of a token; returns true when the change is worth committing. */
  touch(rec: TokenRecord, when = new Date()): boolean {
    if (rec.lastActivity && when.getTime() - Date.parse(rec.lastActivity) < ACTIVITY_RESOLUTION_MS) return false;
    rec.lastActivity = when.toISOString();
    return true;
  }

  revoke(id: string): boolean {
    const existed = id in this.store.data.tokens;
    delete this.store.data.tokens[id];
    return existed;
  }

  revokeWhere(pred: (rec: TokenRecord) => boolean): number {
    let n = 0;
    for (const rec of Object.values(this.store.data.tokens)) {
      if (pred(rec)) {
        delete this.store.data.tokens[rec.id];
        n++;
      }
    }
    return n;
  }

  /** Drops expired tokens so the state does not grow forever. */
  pruneExpired(): void {
    const now = Date.now();
    this.revokeWhere((r) => !!r.expiresAt && Date.parse(r.expiresAt) <= now);
  }
}
