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

/** Looks up a user; null when the name is invalid or unknown. */
export async function lookupAccount(name: string, now: Date = new Date()): Promise<Account | null> {
  if (!isValidUserName(name)) return null;
  const pw = await getent('passwd', name);
  if (!pw) return null;
  const [pwName, , uid, gid, , home, shell] = pw.split(':');
  if (pwName !== name) return null;
  const shadow = process.getuid?.() === 0 ? await getent('shadow', name) : null;
  const { locked, expired } = shadowStatus(shadow, now);
  const [{ stdout: ids }, { stdout: names }] = await Promise.all([
    run('id', ['-G', '--', name], { timeout: 10_000 }),
    run('id', ['-Gn', '--', name], { timeout: 10_000 }),
  ]);
  const groups = ids.trim().split(/\s+/).filter(Boolean).map(Number);
  return {
    name,
    uid: Number(uid),
    gid: Number(gid),
    groups,
    groupNames: names.trim().split(/\s+/).filter(Boolean),
    home: home ?? '',
    shell: shell ?? '',
    locked,
    expired,
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
