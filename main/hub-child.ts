/**
 * One run of `labhub serve` as a child process, for the supervisor: its output goes to a
 * listener as it comes, its end is reported exactly once (also when it could not be started at
 * all), and `stop()` asks it to shut down (SIGTERM: the hub closes cleanly and stops a proxy it
 * started) before SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface HubChildEvents {
  onOutput(text: string): void;
  /** `error` is set when the program could not be started (e.g. ENOENT). */
  onExit(code: number | null, signal: NodeJS.Signals | null, error?: Error): void;
}

/** A started child; `gone` resolves after `onExit` ran. */
export class HubChild {
  readonly gone: Promise<void>;
  private readonly proc: ChildProcess;

  constructor(command: readonly string[], env: NodeJS.ProcessEnv, events: HubChildEvents) {
    const [cmd, ...args] = command;
    if (!cmd) throw new Error('HubChild: empty command');
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.proc.stdout!.setEncoding('utf8').on('data', events.onOutput);
    this.proc.stderr!.setEncoding('utf8').on('data', events.onOutput);
    this.gone = new Promise((resolve) => {
      let done = false;
      // 'exit' may not follow an 'error' (Node's docs), and 'close' waits for every holder of the pipes
      const end = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (done) return;
        done = true;
        events.onExit(code, signal, error);
        resolve();
      };
      this.proc.once('exit', (code, signal) => end(code, signal));
      this.proc.once('error', (err) => end(null, null, err));
    });
  }

  get pid(): number | null {
    return this.proc.pid ?? null;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. Returns whether SIGKILL was needed. */
  async stop(graceMs: number): Promise<boolean> {
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
    const killed = await Promise.race([this.gone.then(() => false), graceOver]);
    clearTimeout(timer);
    if (killed) {
      this.proc.kill('SIGKILL');
      await this.gone;
    }
    return killed;
  }
}
