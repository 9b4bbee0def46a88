/**
 * Browser sessions. The login cookie holds 256 random bits; the state keeps only its SHA-256, the
 * user, the CSRF token for that session and the `jupyterhub-session-id` it was issued with (OAuth
 * tokens are bound to it and revoked at logout, as JupyterHub does).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sha256 } from '../tokens/hash.js';
import type { Store } from '../store/store.js';
import type { SessionRecord } from '../store/state.js';

export interface NewSession {
  cookie: string;
  record: SessionRecord;
}

export class SessionManager {
  constructor(
    private readonly store: Store,
    private readonly maxAgeMs: number,
  ) {}

  /** Creates a session (the caller commits). `sessionId` keeps an existing session-id cookie. */
  create(user: string, address: string, sessionId?: string): NewSession {
    this.pruneExpired();
    const cookie = randomBytes(32).toString('base64url');
    const now = Date.now();
    const record: SessionRecord = {
      user,
      sessionId: sessionId && /^[0-9a-f]{32}$/.test(sessionId) ? sessionId : randomUUID().replace(/-/g, ''),
      csrf: randomBytes(24).toString('base64url'),
      created: new Date(now).toISOString(),
      expiresAt: new Date(now + this.maxAgeMs).toISOString(),
      address,
    };
    this.store.data.sessions[sha256(cookie)] = record;
    return { cookie, record };
  }

  /** The live session for a login cookie value, or null. */
  get(cookie: string | undefined): SessionRecord | null {
    if (!cookie || cookie.length > 200) return null;
    const rec = this.store.data.sessions[sha256(cookie)];
    if (!rec) return null;
    if (Date.parse(rec.expiresAt) <= Date.now()) return null;
    return rec;
  }

  /** Removes the session for this cookie (the caller commits); returns what was removed. */
  destroy(cookie: string | undefined): SessionRecord | null {
    if (!cookie) return null;
    const key = sha256(cookie);
    const rec = this.store.data.sessions[key] ?? null;
    delete this.store.data.sessions[key];
    return rec;
  }

  /** Ends every session of a user (e.g. when the account is removed). */
  destroyUser(user: string): void {
    for (const [k, s] of Object.entries(this.store.data.sessions)) if (s.user === user) delete this.store.data.sessions[k];
  }

  private pruneExpired(): void {
    const now = Date.now();
    for (const [k, s] of Object.entries(this.store.data.sessions)) if (Date.parse(s.expiresAt) <= now) delete this.store.data.sessions[k];
  }
}
