/**
 * How much disk each student's home uses, for the Users view. Measured in the background with
 * `du` (one home at a time, lowest CPU and idle I/O priority, never following other filesystems),
 * so a lab with big homes never slows the hub or the students; the table shows the last figure
 * and when it was taken. The quota issue builds its monitored mode on the same measurements.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log.js';

export interface HomeUsageEntry {
  bytes: number;
  measuredAt: string;
}

export interface HomeUsageOptions {
  /** The homes to measure now: user name → home path. */
  homes: () => Promise<Map<string, string>>;
  log: Logger;
  /** Between full passes (ms); 0 = only on request. */
  intervalMs?: number;
  /** Before the first pass (ms), so a hub start is not slowed. */
  firstDelayMs?: number;
  /** Override for tests: measures one path. */
  measure?: (path: string) => Promise<number>;
}

/** `du -s` in bytes of one directory tree on one filesystem, at idle priority. */
export function duBytes(path: string): Promise<number> {
  // ionice -c3 (idle) and nice 19: du runs only when nobody else needs the disk or the CPU
  const argv = ['-c3', 'nice', '-n19', 'du', '-s', '-x', '--block-size=1', '--', path];
  return new Promise((resolve, reject) =>
    execFile('ionice', argv, { timeout: 10 * 60_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const bytes = Number(stdout.split('\t')[0]);
      // du exits 1 when some subdirectory was unreadable but still prints a total
      if (Number.isFinite(bytes) && stdout.trim()) return resolve(bytes);
      reject(new Error(err ? `du ${path}: ${stderr.trim() || err.message}` : `du ${path}: no output`));
    }),
  );
}

export class HomeUsage {
  private readonly entries = new Map<string, HomeUsageEntry>();
  private pass: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: HomeUsageOptions) {}

  /** Schedules the first pass and the periodic ones. */
  start(): void {
    if (this.closed || this.timer) return;
    const every = this.o.intervalMs ?? 15 * 60_000;
    const tick = (delay: number) => {
      if (this.closed || every <= 0) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.refresh().finally(() => tick(every));
      }, delay);
      this.timer.unref();
    };
    tick(this.o.firstDelayMs ?? 30_000);
  }

  get(user: string): HomeUsageEntry | undefined {
    return this.entries.get(user);
  }

  /** True while a pass is running. */
  get measuring(): boolean {
    return this.pass !== null;
  }

  /**
   * Measures every home now (a request during a pass makes one more pass after it). Resolves when
   * done; errors are logged per home and never reject.
   */
  refresh(): Promise<void> {
    if (this.pass) {
      this.again = true;
      return this.pass;
    }
    this.pass = this.runPass().finally(() => {
      this.pass = null;
      if (this.again && !this.closed) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.pass;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pass?.catch(() => undefined);
  }

  private async runPass(): Promise<void> {
    const measure = this.o.measure ?? duBytes;
    let homes: Map<string, string>;
    try {
      homes = await this.o.homes();
    } catch (err) {
      this.o.log.warn({ err }, 'home usage: cannot list homes');
      return;
    }
    for (const user of [...this.entries.keys()]) if (!homes.has(user)) this.entries.delete(user);
    for (const [user, home] of homes) {
      if (this.closed) return;
      try {
        this.entries.set(user, { bytes: await measure(home), measuredAt: new Date().toISOString() });
      } catch (err) {
        this.o.log.warn({ user, reason: (err as Error).message }, 'home usage: measuring failed');
      }
    }
  }
}
