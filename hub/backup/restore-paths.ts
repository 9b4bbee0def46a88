/**
 * The pure parts of browsing and restoring: paths inside a snapshot (relative to the home, `/`
 * first, never `..`), snapshot ids, the side folder's name, and the confirmation token that ties
 * an in-place restore to the exact plan the person saw.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HubError } from '../errors.js';

const MAX_PATH = 4096;

/**
 * A path inside a home as `/a/b` (`/` = the whole home): separators collapsed, no `.` or `..`
 * segments, no NUL. Throws HUB_ERR_BAD_REQUEST for anything else.
 */
export function normaliseHomePath(input: unknown): string {
  if (input === undefined || input === null || input === '') return '/';
  if (typeof input !== 'string') throw new HubError('HUB_ERR_BAD_REQUEST', 'The path must be a string like "/notebooks/week1".');
  if (input.length > MAX_PATH || input.includes('\0')) throw new HubError('HUB_ERR_BAD_REQUEST', 'The path is too long or holds a NUL character.');
  const parts = input.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) throw new HubError('HUB_ERR_BAD_REQUEST', 'The path may not contain "." or ".." parts.');
  return `/${parts.join('/')}`;
}

/** The absolute path of a home-relative path, for a home as it is in a snapshot. */
export function inHome(home: string, rel: string): string {
  return rel === '/' ? home : `${home}${rel}`;
}

/** The home-relative form of an absolute path below `home`, or null when it is not below it. */
export function relativeToHome(home: string, abs: string): string | null {
  if (abs === home) return '/';
  return abs.startsWith(`${home}/`) ? abs.slice(home.length) : null;
}

/** A full (64) or short (8+) hex snapshot id. */
export function isSnapshotId(id: unknown): id is string {
  return typeof id === 'string' && /^[0-9a-f]{8,64}$/.test(id);
}

/** `restored-20261122T031000Z`: the side restore folder for a restore at `now` (UTC). */
export function restoredDirName(now: Date): string {
  return `restored-${now.toISOString().replace(/[-:]|\.\d+/g, '')}`;
}

/** What a confirmation token vouches for. */
export interface ConfirmedPlan {
  user: string;
  snapshotId: string;
  path: string;
  overwrite: readonly string[];
}

/**
 * Confirmation tokens: `<expiry ms>.<HMAC-SHA256 of the plan and expiry>` with a key that lives
 * only in this process (a restart invalidates them, which is harmless: ask for the plan again).
 */
export class ConfirmTokens {
  constructor(
    private readonly key: Buffer = randomBytes(32),
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token for exactly this plan, valid for `ttlMs`. */
  issue(plan: ConfirmedPlan): string {
    const expires = this.now() + this.ttlMs;
    return `${expires}.${this.mac(plan, expires)}`;
  }

  /** True when `token` was issued for this very plan (same overwrite list) and has not expired. */
  verify(token: unknown, plan: ConfirmedPlan): boolean {
    if (typeof token !== 'string') return false;
    const m = /^(\d{1,16})\.([0-9a-f]{64})$/.exec(token);
    if (!m) return false;
    const expires = Number(m[1]);
    if (expires < this.now()) return false;
    const want = Buffer.from(this.mac(plan, expires), 'hex');
    return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
  }

  private mac(plan: ConfirmedPlan, expires: number): string {
    const body = JSON.stringify([plan.user, plan.snapshotId, plan.path, [...plan.overwrite].sort(), expires]);
    return createHmac('sha256', this.key).update(body).digest('hex');
  }
}
