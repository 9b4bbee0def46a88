/**
 * Runs the installer (installer/install.sh by default) with privileges — directly as root, else
 * through pkexec — inside a pseudo-terminal, so its colours and progress show in the renderer's
 * xterm.js as they would in a terminal. One run at a time; output is streamed, the exit code
 * reported, and a run can be cancelled (Ctrl-C first, so the script's traps can clean up).
 */
import { ContractError, type InstallerExit, type TerminalSize } from './ipc/contract.js';
import { privilegedArgv } from './privileged.js';
import { ptyEnv, PtySession } from './pty-session.js';

export interface InstallerRunnerOptions {
  /** Absolute path of the installer script; the renderer never chooses it. */
  script: string;
  args?: readonly string[];
  /** What runs the script (default `/bin/bash`, so a lost executable bit does not matter). */
  interpreter?: readonly string[];
  /** Override the root check (else pkexec when not root). */
  root?: boolean;
  /** Extra environment for the installer. */
  env?: Record<string, string>;
  /** Ctrl-C → SIGTERM → SIGKILL steps when cancelling. */
  cancelGraceMs?: number;
}

/** Where a run's output and exit go (the IPC layer forwards them as `installer:*` events). */
export interface InstallerListener {
  onOutput(id: string, data: string): void;
  onExit(exit: InstallerExit): void;
}

/** Owns the installer's one pty run; `close()` cancels it. */
export class InstallerRunner {
  private current: PtySession | null = null;
  private cancelled = false;

  constructor(private readonly opts: InstallerRunnerOptions) {}

  /** The argv that runs: e.g. `pkexec /bin/bash /opt/LabHub/resources/installer/install.sh`. */
  argv(): string[] {
    return privilegedArgv([...(this.opts.interpreter ?? ['/bin/bash']), this.opts.script, ...(this.opts.args ?? [])], this.opts.root);
  }

  get running(): boolean {
    return this.current?.running ?? false;
  }

  /** Starts a run; BUSY while one is going. */
  run(listener: InstallerListener, size?: TerminalSize): { id: string } {
    if (this.running) throw new ContractError('BUSY', 'the installer is already running');
    this.cancelled = false;
    const session: PtySession = new PtySession(this.argv(), {
      ...size,
      env: ptyEnv(this.opts.env),
      onData: (data) => listener.onOutput(session.id, data),
      onExit: (exit) => {
        if (this.current === session) this.current = null;
        listener.onExit({ id: session.id, ...exit, cancelled: this.cancelled });
      },
    });
    this.current = session;
    return { id: session.id };
  }

  /** Cancels the run `id`; resolves once it has exited. */
  async cancel(id: string): Promise<void> {
    const session = this.current;
    if (!session || session.id !== id) throw new ContractError('NOT_FOUND', 'no such installer run (it may have finished)');
    this.cancelled = true;
    await session.stop({ interrupt: true, graceMs: this.opts.cancelGraceMs ?? 5000 });
  }

  /** Resizes the run's terminal to the renderer's xterm. */
  resize(id: string, size: TerminalSize): void {
    if (this.current?.id === id) this.current.resize(size.cols, size.rows);
  }

  async close(): Promise<void> {
    if (this.current) await this.cancel(this.current.id);
  }
}
