/**
 * Linux account lookup through NSS (`getent`, `id`), so local files, LDAP and SSSD all work.
 * Names are validated before they reach any command or path; commands get argv arrays, never a shell.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Linux user names as useradd accepts them by default (lower case, no leading digit or dash). */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name);
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
  /** All group ids (primary first), as initgroups would set them. */
  groups: number[];
  groupNames: string[];
  home: string;
  shell: string;
  /** Password field starts with `!` or `*`, or the account has no password. */
  locked: boolean;
  /** Account expiry date passed, or the password is past its inactivity period. */
  expired: boolean;
}

async function getent(db: string, key: string): Promise<string | null> {
  try {
    const { stdout } = await run('getent', [db, key], { timeout: 10_000 });
    return stdout.split('\n')[0] ?? null;
  } catch (err) {
    // getent exits 2 for "not found"
    if ((err as { code?: number }).code === 2) return null;
    throw err;
  }
}

/** Looks up a user; null when the name is invalid or unknown. Three NSS queries run at once. */
export async function lookupAccount(name: string, now: Date = new Date()): Promise<Account | null> {
  if (!isValidUserName(name)) return null;
  const [pw, shadow, ids] = await Promise.all([
    getent('passwd', name),
    process.getuid?.() === 0 ? getent('shadow', name) : Promise.resolve(null),
    run('id', ['--', name], { timeout: 10_000 }).then(
      (r) => r.stdout,
      () => null,
    ),
  ]);
  if (!pw || !ids) return null;
  const [pwName, , uid, gid, , home, shell] = pw.split(':');
  if (pwName !== name) return null;
  const { locked, expired } = shadowStatus(shadow, now);
  const { groups, groupNames } = parseIdGroups(ids);
  return { name, uid: Number(uid), gid: Number(gid), groups, groupNames, home: home ?? '', shell: shell ?? '', locked, expired };
}

/** Reads the `groups=1001(alice),27(sudo)` part of `id` output (numbers, and names where known). */
export function parseIdGroups(out: string): { groups: number[]; groupNames: string[] } {
  const m = /groups=(\S+)/.exec(out);
  const groups: number[] = [];
  const groupNames: string[] = [];
  for (const part of (m?.[1] ?? '').split(',')) {
    const g = /^(\d+)(?:\((.*)\))?$/.exec(part);
    if (!g) continue;
    groups.push(Number(g[1]));
    groupNames.push(g[2] ?? g[1]!);
  }
  return { groups, groupNames };
}

/**
 * Remembers lookups for a few seconds: a login and the spawn right after it need the same account,
 * and each lookup costs three processes.
 */
export function cachedLookup(lookup: (name: string) => Promise<Account | null>, ttlMs: number) {
  const cache = new Map<string, { at: number; value: Promise<Account | null> }>();
  return (name: string): Promise<Account | null> => {
    const now = Date.now();
    const hit = cache.get(name);
    if (hit && now - hit.at < ttlMs) return hit.value;
    const value = lookup(name);
    cache.set(name, { at: now, value });
    value.catch(() => cache.delete(name));
    if (cache.size > 1000) for (const [k, v] of cache) if (now - v.at >= ttlMs) cache.delete(k);
    return value;
  };
}

/**
 * Reads lock and expiry from a shadow(5) line the way pam_unix's account check does.
 * Without a shadow entry (not root, or an NSS source without one) nothing is known: neither.
 */
export function shadowStatus(line: string | null, now: Date): { locked: boolean; expired: boolean } {
  if (!line) return { locked: false, expired: false };
  const f = line.split(':');
  const hash = f[1] ?? '';
  const locked = hash === '' || hash.startsWith('!') || hash.startsWith('*');
  const today = Math.floor(now.getTime() / 86_400_000);
  const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));
  const lastChange = num(f[2]);
  const max = num(f[4]);
  const inactive = num(f[6]);
  const expire = num(f[7]);
  let expired = false;
  // as pam_unix: any set expiry, 0 included (`chage -E 0`), counts
  if (expire !== null && expire >= 0 && today >= expire) expired = true;
  // password too old and past its grace period: pam_unix refuses the account
  if (lastChange !== null && lastChange > 0 && max !== null && max >= 0 && max < 99999 && inactive !== null && inactive >= 0) {
    if (today > lastChange + max + inactive) expired = true;
  }
  return { locked, expired };
}
