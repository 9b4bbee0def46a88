/**
 * Real Linux users for tests: `useradd -m` + `chpasswd`, names prefixed `lhtest` so leftovers are
 * recognisable, and removal (processes first, then `userdel -r`) that also runs when a test fails.
 * Passwords go to chpasswd on stdin, never in argv.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const TEST_USER_PREFIX = 'lhtest';

export interface TestUser {
  name: string;
  password: string;
  uid: number;
  gid: number;
  home: string;
}

const created = new Set<string>();

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
}

/** Creates a group if missing (for supplementary-group tests). */
export function ensureGroup(name: string): void {
  if (spawnSync('getent', ['group', name]).status !== 0) sh('groupadd', [name]);
}

export function removeGroup(name: string): void {
  spawnSync('groupdel', [name]);
}

/**
 * Creates a user with a home from /etc/skel and a random password.
 * `opts.system` makes a uid < 1000 account; `opts.groups` adds supplementary groups.
 */
export function createTestUser(suffix: string, opts: { groups?: string[]; system?: boolean; password?: string } = {}): TestUser {
  const name = `${TEST_USER_PREFIX}${suffix}`.slice(0, 32);
  removeTestUser(name);
  const args = ['-m', '-s', '/bin/bash'];
  if (opts.system) args.push('-r', '-d', `/home/${name}`);
  if (opts.groups?.length) {
    for (const g of opts.groups) ensureGroup(g);
    args.push('-G', opts.groups.join(','));
  }
  sh('useradd', [...args, name]);
  created.add(name);
  const password = opts.password ?? `pw-${randomBytes(9).toString('base64url')}`;
  sh('chpasswd', [], `${name}:${password}\n`);
  const uid = Number(sh('id', ['-u', name]).trim());
  const gid = Number(sh('id', ['-g', name]).trim());
  return { name, password, uid, gid, home: `/home/${name}` };
}

/** Kills every process of the user, then deletes the account and its home. Safe to call twice. */
export function removeTestUser(name: string): void {
  if (!name.startsWith(TEST_USER_PREFIX)) throw new Error(`refusing to remove non-test user ${name}`);
  if (spawnSync('getent', ['passwd', name]).status !== 0) {
    created.delete(name);
    return;
  }
  spawnSync('pkill', ['-KILL', '-u', name]);
  for (let i = 0; i < 50 && spawnSync('pgrep', ['-u', name]).status === 0; i++) spawnSync('sleep', ['0.1']);
  spawnSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
  created.delete(name);
}

/** Removes every user this process created (use in afterAll). */
export function removeAllTestUsers(): void {
  for (const name of [...created]) removeTestUser(name);
}
