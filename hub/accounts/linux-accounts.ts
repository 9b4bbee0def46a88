/**
 * The system side of account management: shadow-utils (groupadd, useradd, chpasswd, usermod,
 * userdel), pkill and tar, always as argv arrays with a fixed PATH and `LC_ALL=C`, never a shell.
 * Passwords reach chpasswd on stdin only. Root, reserved names and every account or group below
 * `minUid` are refused here as well as in the API, and a home is only archived or deleted when it
 * is a real directory under /home owned by the account being removed.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isValidUserName } from '../auth/accounts.js';
import { HubError } from '../errors.js';
import { archiveHome, deleteHome, HOME_ROOT, pathTaken, safeHome } from './homes.js';
import { isReservedName, nameProblem, passwordProblem } from './roster.js';
import { commandError, runCommand, type CommandResult, type CommandRunner } from './run-command.js';

/** An account as the passwd database has it. */
export interface LinuxAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One account to create; the password is already checked and is never logged. */
export interface NewAccount {
  name: string;
  fullName: string;
  group: string;
  password: string;
}

/** What `createAccount` made, for undoing it if the hub side then fails. */
export interface CreatedAccount {
  account: LinuxAccount;
  group: string;
  groupCreated: boolean;
}

export interface LinuxAccountsOptions {
  /** `auth.minUid`: accounts and groups below it are the system's. */
  minUid: number;
  /** Archives go to `<dataDir>/archive/`. */
  dataDir: string;
}

const QUICK = { timeoutMs: 60_000 };

/** Account work on this machine; the API serialises calls (shadow-utils lock the account files). */
export class LinuxAccounts {
  private readonly run: CommandRunner = runCommand;

  constructor(private readonly o: LinuxAccountsOptions) {}

  /** The account, or null when there is none. */
  async account(name: string): Promise<LinuxAccount | null> {
    if (!isValidUserName(name)) return null;
    return (await this.passwd([name])).get(name) ?? null;
  }

  /** uid of each name that is an account (one `getent` for all). */
  async users(names: string[]): Promise<Map<string, number>> {
    return new Map([...(await this.passwd(names)).values()].map((a) => [a.name, a.uid]));
  }

  /** gid of each name that is a group (one `getent` for all). */
  async groups(names: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const wanted = new Set(names);
    for (const line of (await this.getent('group', names)).split('\n')) {
      const [name, , gid] = line.split(':');
      if (name && gid && wanted.has(name)) out.set(name, Number(gid));
    }
    return out;
  }

  /** Names whose `/home/<name>` exists in any form. */
  async takenHomes(names: string[]): Promise<Set<string>> {
    const taken = await Promise.all(names.map((n) => pathTaken(join(HOME_ROOT, n))));
    return new Set(names.filter((_, i) => taken[i]));
  }

  /** Refuses root, reserved names and system accounts. */
  protect(acct: LinuxAccount): void {
    if (acct.uid === 0 || acct.name === 'root' || isReservedName(acct.name) || acct.uid < this.o.minUid) {
      throw new HubError('HUB_ERR_ACCOUNT_PROTECTED', `"${acct.name}" is a system account (uid ${acct.uid}); LabHub does not change it.`);
    }
  }

  /** Creates the group unless it exists; true when it was created. Never touches a system group. */
  async ensureGroup(group: string): Promise<boolean> {
    const problem = nameProblem(group, 'group');
    if (problem) throw new HubError('HUB_ERR_BAD_REQUEST', problem);
    const gid = (await this.groups([group])).get(group);
    if (gid !== undefined && gid < this.o.minUid) throw new HubError('HUB_ERR_ACCOUNT_PROTECTED', `"${group}" is a system group (gid ${gid}).`);
    if (gid !== undefined) return false;
    await this.must('groupadd', [...this.idMin('GID_MIN'), group]);
    return true;
  }

  /**
   * Group, account (home from /etc/skel, mode 0700, bash, GECOS, personal group), password. If any
   * step after useradd fails, the account and its home are removed again (and a group made for it).
   */
  async createAccount(n: NewAccount): Promise<CreatedAccount> {
    const problem = nameProblem(n.name, 'user name') ?? passwordProblem(n.password) ?? (/[:\n\r]/.test(n.fullName) ? "The full name may not contain ':' or a line break." : null);
    if (problem) throw new HubError('HUB_ERR_BAD_REQUEST', problem);
    // never let a failure below remove an account or a home that was there before
    if (await this.account(n.name)) throw new HubError('HUB_ERR_BAD_REQUEST', `The account "${n.name}" exists already.`);
    if ((await this.takenHomes([n.name])).size) throw new HubError('HUB_ERR_BAD_REQUEST', `${join(HOME_ROOT, n.name)} exists already.`);
    const groupCreated = await this.ensureGroup(n.group);
    let made = false;
    try {
      const args = ['-m', '-k', '/etc/skel', '-s', '/bin/bash', '-U', '-K', 'HOME_MODE=0700', ...this.idMin('UID_MIN'), ...this.idMin('GID_MIN')];
      const r = await this.run('useradd', [...args, '-c', n.fullName, '-G', n.group, n.name], QUICK);
      // exit 9: the name was taken meanwhile, by someone else
      made = r.code !== 9 && (await this.account(n.name)) !== null;
      if (r.code !== 0) throw commandError('useradd', r);
      const account = (await this.account(n.name))!;
      this.protect(account);
      await this.secureNewHome(account);
      await this.setPassword(n.name, n.password);
      return { account, group: n.group, groupCreated };
    } catch (err) {
      const undo = await this.undoCreate({ account: { name: n.name, uid: -1, gid: -1, home: '' }, group: n.group, groupCreated }, made).catch((e: Error) => e);
      if (undo instanceof Error) throw new HubError('HUB_ERR_ACCOUNT_COMMAND', `${(err as Error).message} Undoing it failed too: ${undo.message}`);
      throw err;
    }
  }

  /** Removes an account `createAccount` made (`userdel -r`) and its group when that is empty. */
  async undoCreate(c: CreatedAccount, accountMade = true): Promise<void> {
    const acct = accountMade ? await this.account(c.account.name) : null;
    if (acct) {
      this.protect(acct);
      const r = await this.run('userdel', ['-r', acct.name], QUICK);
      if (r.code !== 0 && (await this.account(acct.name))) throw commandError('userdel', r);
      const left = join(HOME_ROOT, c.account.name);
      if (await pathTaken(left)) throw new HubError('HUB_ERR_ACCOUNT_COMMAND', `${left} is still there.`);
    }
    if (c.groupCreated) await this.removeGroupIfEmpty(c.group);
  }

  /** Deletes a managed group that has no members (to undo ensureGroup). */
  async removeGroupIfEmpty(group: string): Promise<void> {
    const gid = (await this.groups([group])).get(group);
    if (gid === undefined) return;
    if (nameProblem(group, 'group') || gid < this.o.minUid) throw new HubError('HUB_ERR_ACCOUNT_PROTECTED', `"${group}" is a system group (gid ${gid}).`);
    const line = await this.getent('group', [group]);
    if (!line.trim().split(':')[3]) await this.must('groupdel', [group]);
  }

  /** Sets a password through chpasswd's stdin (never argv, never logged). */
  async setPassword(name: string, password: string): Promise<void> {
    const problem = nameProblem(name, 'user name') ?? passwordProblem(password);
    if (problem) throw new HubError('HUB_ERR_BAD_REQUEST', problem);
    const r = await this.run('chpasswd', [], { ...QUICK, input: `${name}:${password}\n` });
    if (r.code !== 0) throw commandError('chpasswd', r);
  }

  /** Adds an existing account to a (managed) group. */
  async addToGroup(name: string, group: string): Promise<void> {
    const acct = await this.existing(name);
    const problem = nameProblem(group, 'group');
    if (problem) throw new HubError('HUB_ERR_BAD_REQUEST', problem);
    await this.must('usermod', ['-a', '-G', group, acct.name]);
  }

  /** SIGKILLs every process with the uid (real or effective) and waits until they are gone. */
  async killProcesses(uid: number): Promise<void> {
    if (!Number.isInteger(uid) || uid === 0 || uid < this.o.minUid) throw new HubError('HUB_ERR_ACCOUNT_PROTECTED', `Refusing to kill the processes of uid ${uid}.`);
    for (let i = 0; i < 100; i++) {
      let alive = false;
      for (const flag of ['-U', '-u']) {
        const r = await this.run('pkill', ['-KILL', flag, String(uid)], QUICK);
        if (r.code > 1) throw commandError('pkill', r);
        alive ||= r.code === 0;
      }
      if (!alive) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new HubError('HUB_ERR_ACCOUNT_COMMAND', `Processes of uid ${uid} were still running 10 seconds after SIGKILL.`);
  }

  /** `userdel` (the home stays; see archiveHome and deleteHome). */
  async removeUser(name: string): Promise<void> {
    await this.must('userdel', [(await this.existing(name)).name]);
  }

  /** Throws unless the home may be archived or deleted (see homes.ts); null when there is none. */
  async checkHome(acct: LinuxAccount): Promise<string | null> {
    this.protect(acct);
    return safeHome(acct);
  }

  /** Archives the home (see homes.ts); null when there is none. The home stays. */
  async archiveHome(acct: LinuxAccount): Promise<string | null> {
    this.protect(acct);
    return archiveHome(this.run, acct, this.o.dataDir);
  }

  /** Deletes the home (see homes.ts); false when there was none. */
  async deleteHome(acct: LinuxAccount): Promise<boolean> {
    this.protect(acct);
    return deleteHome(this.run, acct);
  }

  private async secureNewHome(acct: LinuxAccount): Promise<void> {
    const home = await safeHome(acct);
    if (!home) throw new HubError('HUB_ERR_ACCOUNT_COMMAND', `useradd made no home directory for ${acct.name}.`);
    await fs.chmod(home, 0o700);
  }

  private async existing(name: string): Promise<LinuxAccount> {
    const acct = await this.account(name);
    if (!acct) throw new HubError('HUB_ERR_NOT_FOUND', `There is no Linux account "${name}".`);
    this.protect(acct);
    return acct;
  }

  private idMin(key: 'UID_MIN' | 'GID_MIN'): string[] {
    return this.o.minUid > 1000 ? ['-K', `${key}=${this.o.minUid}`] : [];
  }

  private async passwd(names: string[]): Promise<Map<string, LinuxAccount>> {
    const out = new Map<string, LinuxAccount>();
    const wanted = new Set(names);
    for (const line of (await this.getent('passwd', names)).split('\n')) {
      const [name, , uid, gid, , home] = line.split(':');
      if (name && uid && wanted.has(name)) out.set(name, { name, uid: Number(uid), gid: Number(gid), home: home ?? '' });
    }
    return out;
  }

  /** `getent db k1 k2 …`: exit 2 means some key was not found; the found ones are printed. */
  private async getent(db: 'passwd' | 'group', keys: string[]): Promise<string> {
    if (!keys.length) return '';
    const r = await this.run('getent', [db, ...keys], QUICK);
    if (r.code !== 0 && r.code !== 2) throw commandError('getent', r);
    return r.stdout;
  }

  private async must(cmd: string, args: string[]): Promise<CommandResult> {
    const r = await this.run(cmd, args, QUICK);
    if (r.code !== 0) throw commandError(cmd, r);
    return r;
  }
}
