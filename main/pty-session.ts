/**
 * One program in a pseudo-terminal (node-pty), as the installer runner and the student terminals
 * use it: output as it comes (colours and progress bars intact for xterm.js), input, resize, the
 * exit, and stopping it. node-pty makes the program a session leader with the pty as its
 * controlling terminal, so its pid is also its process group.
 */
import { randomUUID } from 'node:crypto';
import { spawn, type IPty } from 'node-pty';

export interface PtyExit {
  exitCode: number | null;
  signal: number | null;
}

export interface PtyStartOptions {
  cols?: number;
  rows?: number;
  cwd?: string;
  env: Record<string, string>;
  onData: (data: string) => void;
  onExit: (exit: PtyExit) => void;
}

/** A clean environment for privileged programs: never the app's own (Electron's variables, tokens). */
export function ptyEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: process.env.LANG || 'C.UTF-8',
    HOME: process.env.HOME || '/',
    TERM: 'xterm-256color',
    ...extra,
  };
}

/** A running pty program. */
export class PtySession {
  readonly id = randomUUID();
  readonly exited: Promise<PtyExit>;
  private readonly pty: IPty;
  private done = false;
  private hungUp = false;

  constructor(argv: readonly string[], opts: PtyStartOptions) {
    if (argv.length === 0) throw new Error('PtySession: empty command');
    this.pty = spawn(argv[0]!, argv.slice(1), {
      name: 'xterm-256color',
      cols: opts.cols ?? 80,
      rows: opts.rows ?? 24,
      cwd: opts.cwd ?? '/',
      env: opts.env,
    });
    this.pty.onData(opts.onData);
    this.exited = new Promise((resolve) => {
      this.pty.onExit(({ exitCode, signal }) => {
        this.done = true;
        // node-pty reports a signal death as exitCode 0 plus the signal number
        const exit = { exitCode: signal ? null : exitCode, signal: signal || null };
        opts.onExit(exit);
        resolve(exit);
      });
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  write(data: string): void {
    if (!this.done) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.done) this.pty.resize(cols, rows);
  }

  /**
   * Stops the program and resolves when it has exited. `interrupt` types Ctrl-C first (the
   * terminal driver sends SIGINT to the foreground process group whoever owns it, so it reaches a
   * root process under pkexec too); `hangUp` closes our end of the terminal (the kernel sends
   * SIGHUP, as when a terminal window closes); otherwise SIGTERM to the process group, which only
   * works when we may signal it. After `graceMs` per step: SIGKILL and a hang-up.
   */
  async stop(opts: { interrupt?: boolean; hangUp?: boolean; graceMs?: number } = {}): Promise<PtyExit> {
    const grace = opts.graceMs ?? 3000;
    if (this.done) return this.exited;
    if (opts.interrupt) {
      this.pty.write('\x03');
      if (await this.exitsWithin(grace)) return this.exited;
    }
    if (opts.hangUp) this.hangUp();
    else this.signalGroup('SIGTERM');
    if (await this.exitsWithin(grace)) return this.exited;
    this.signalGroup('SIGKILL');
    this.hangUp();
    return this.exited;
  }

  private hangUp(): void {
    if (this.hungUp) return;
    this.hungUp = true;
    (this.pty as unknown as { destroy?: () => void }).destroy?.();
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pty.pid, signal);
    } catch {
      // gone already, or not ours to signal (a root process started through pkexec)
    }
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const ok = await Promise.race([this.exited.then(() => true), t]);
    clearTimeout(timer);
    return ok;
  }
}
