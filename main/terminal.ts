/**
 * "Open a terminal as <student>": a login shell of a student's account (`runuser -l <name>`, as
 * root directly, else through pkexec) in a pty shown by the renderer's xterm.js, for an instructor
 * helping with a broken environment. Only real student accounts: a valid Linux name, not root,
 * an existing account with uid >= 1000 (and not `nobody`), checked before anything runs.
 */
import { execFile } from 'node:child_process';
import { ContractError, validUserName, type TerminalExit, type TerminalSize } from './ipc/contract.js';
import { privilegedArgv } from './privileged.js';
import { ptyEnv, PtySession } from './pty-session.js';

/** An account from the passwd database (NSS: local files, LDAP …). */
export interface Account {
  name: string;
  uid: number;
  home: string;
}

export type AccountLookup = (name: string) => Promise<Account | null>;

/** `getent passwd <name>`: null when there is no such account. */
export const getentLookup: AccountLookup = (name) =>
  new Promise((resolve) => {
    execFile('getent', ['passwd', name], { timeout: 10_000 }, (err, stdout) => {
      const f = err ? [] : stdout.trim().split('\n')[0]!.split(':');
      resolve(f.length >= 7 && f[0] === name ? { name, uid: Number(f[2]), home: f[5]! } : null);
    });
  });

const NOBODY_UID = 65534;

/** The account if it may get a terminal; ContractError (BAD_ARGS, NOT_FOUND, NOT_ALLOWED) otherwise. */
export async function checkStudentAccount(name: unknown, lookup: AccountLookup = getentLookup, minUid = 1000): Promise<Account> {
  const valid = validUserName(name);
  const account = await lookup(valid);
  if (!account) throw new ContractError('NOT_FOUND', `there is no account ${valid} on this machine`);
  if (!Number.isInteger(account.uid) || account.uid < minUid || account.uid === NOBODY_UID) {
    throw new ContractError('NOT_ALLOWED', `${valid} is a system account (uid ${account.uid}), not a student`);
  }
  return account;
}

export interface TerminalListener {
  onData(id: string, data: string): void;
  onExit(exit: TerminalExit): void;
}

export interface TerminalManagerOptions {
  root?: boolean;
  minUid?: number;
  lookup?: AccountLookup;
  /** Most terminals open at once. */
  max?: number;
}

/** The open student terminals of the app; `closeAll()` when the window goes. */
export class TerminalManager {
  private readonly sessions = new Map<string, PtySession>();

  constructor(private readonly opts: TerminalManagerOptions = {}) {}

  /** The argv for a student's login shell. */
  argv(user: string): string[] {
    return privilegedArgv(['runuser', '-l', user], this.opts.root);
  }

  async open(user: string, listener: TerminalListener, size?: TerminalSize): Promise<{ id: string }> {
    const account = await checkStudentAccount(user, this.opts.lookup, this.opts.minUid);
    if (this.sessions.size >= (this.opts.max ?? 8)) throw new ContractError('BUSY', 'too many terminals are open; close one first');
    const session: PtySession = new PtySession(this.argv(account.name), {
      ...size,
      env: ptyEnv(),
      onData: (data) => listener.onData(session.id, data),
      onExit: (exit) => {
        this.sessions.delete(session.id);
        listener.onExit({ id: session.id, ...exit });
      },
    });
    this.sessions.set(session.id, session);
    return { id: session.id };
  }

  write(id: string, data: string): void {
    this.get(id).write(data);
  }

  resize(id: string, size: TerminalSize): void {
    this.get(id).resize(size.cols, size.rows);
  }

  /** Hangs up the terminal (like closing a terminal window); resolves when the shell is gone. */
  async close(id: string): Promise<void> {
    await this.get(id).stop({ hangUp: true, graceMs: 2000 });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.stop({ hangUp: true, graceMs: 2000 })));
  }

  private get(id: string): PtySession {
    const s = this.sessions.get(id);
    if (!s) throw new ContractError('NOT_FOUND', 'no such terminal (it may have been closed)');
    return s;
  }
}
