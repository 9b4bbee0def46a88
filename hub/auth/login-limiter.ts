/**
 * Failed-login limits per user name and per client address, kept in the state file so a lockout
 * survives a hub restart. Entries outside the window are pruned; the table is bounded so that
 * guessing random names cannot grow the state without limit.
 */
import type { Store } from '../store/store.js';
import type { FailureRecord } from '../store/state.js';

export interface LimiterPolicy {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  failureWindowSeconds: number;
  lockoutSeconds: number;
}

const MAX_ENTRIES = 5000;

export interface Lockout {
  kind: 'user' | 'address';
  until: Date;
}

export class LoginLimiter {
  constructor(
    private readonly store: Store,
    private readonly policy: LimiterPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The lockout in force for this name or address, if any. */
  lockedOut(name: string, address: string): Lockout | null {
    const now = this.now().getTime();
    const { users, addresses } = this.store.data.loginFailures;
    for (const [kind, rec] of [
      ['user', users[name]],
      ['address', addresses[address]],
    ] as const) {
      if (rec?.lockedUntil && Date.parse(rec.lockedUntil) > now) return { kind, until: new Date(rec.lockedUntil) };
    }
    return null;
  }

  /** Counts a failure (made durable by the caller's commit); returns a lockout if this one started it. */
  recordFailure(name: string, address: string): Lockout | null {
    const { users, addresses } = this.store.data.loginFailures;
    const u = this.bump(users, name, this.policy.maxFailuresPerUser);
    const a = this.bump(addresses, address, this.policy.maxFailuresPerAddress);
    this.prune(users);
    this.prune(addresses);
    if (u) return { kind: 'user', until: u };
    if (a) return { kind: 'address', until: a };
    return null;
  }

  /** A successful login clears the user's counter (not the address's: one good account must not unlock guessing). */
  recordSuccess(name: string): void {
    delete this.store.data.loginFailures.users[name];
  }

  private bump(table: Record<string, FailureRecord>, key: string, max: number): Date | null {
    const now = this.now();
    const iso = now.toISOString();
    let rec = table[key];
    const windowMs = this.policy.failureWindowSeconds * 1000;
    if (!rec || (now.getTime() - Date.parse(rec.first) > windowMs && !this.isLocked(rec))) {
      rec = { count: 0, first: iso, last: iso, lockedUntil: null };
    }
    rec.count += 1;
    rec.last = iso;
    table[key] = rec;
    if (rec.count >= max && !this.isLocked(rec)) {
      const until = new Date(now.getTime() + this.policy.lockoutSeconds * 1000);
      rec.lockedUntil = until.toISOString();
      // a new lockout period starts a new count
      rec.count = 0;
      rec.first = iso;
      return until;
    }
    return null;
  }

  private isLocked(rec: FailureRecord): boolean {
    return !!rec.lockedUntil && Date.parse(rec.lockedUntil) > this.now().getTime();
  }

  private prune(table: Record<string, FailureRecord>): void {
    const now = this.now().getTime();
    const windowMs = this.policy.failureWindowSeconds * 1000;
    for (const [key, rec] of Object.entries(table)) {
      if (!this.isLocked(rec) && now - Date.parse(rec.last) > windowMs) delete table[key];
    }
    const keys = Object.keys(table);
    if (keys.length > MAX_ENTRIES) {
      keys
        .sort((a, b) => Date.parse(table[a]!.last) - Date.parse(table[b]!.last))
        .slice(0, keys.length - MAX_ENTRIES)
        .forEach((k) => delete table[k]);
    }
  }
}
