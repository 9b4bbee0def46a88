/**
 * Routes persisted in `<dataDir>/proxy-routes.json`, so a restarted proxy serves every running
 * student server at once, before the hub reconciles. Every change schedules one atomic write;
 * bursts (a class starting) are coalesced into few writes, and `flush()` resolves once the state
 * as of the call is on disk (the control API answers after it). Activity is saved with route
 * changes and at close, not on every request.
 *
 * A damaged file is moved aside to `.damaged-<time>` and the proxy starts empty: the hub re-adds
 * its routes when it reconciles, so losing them costs seconds, while refusing to start would
 * cost every student their connection.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { writeFileAtomic } from './atomic-file.js';
import type { RouteTable } from './route-table.js';
import type { Route } from './types.js';

export const ROUTES_FILE = 'proxy-routes.json';

interface RoutesFile {
  version: 1;
  routes: Record<string, Route>;
}

interface Waiter {
  gen: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class RouteStore {
  readonly file: string;
  private changeGen = 0;
  private savedGen = 0;
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private waiters: Waiter[] = [];
  private loading = false;

  constructor(
    dataDir: string,
    private readonly routes: RouteTable,
    private readonly logger: Logger,
    private readonly coalesceMs = 5,
  ) {
    this.file = join(dataDir, ROUTES_FILE);
    routes.onChange(() => {
      if (!this.loading) this.schedule();
    });
  }

  /** Loads the saved routes into the table; returns how many were restored. */
  async load(): Promise<number> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let parsed: RoutesFile;
    try {
      parsed = JSON.parse(text) as RoutesFile;
      if (typeof parsed !== 'object' || parsed === null || typeof parsed.routes !== 'object' || parsed.routes === null) {
        throw new Error('no "routes" object');
      }
    } catch (err) {
      const aside = `${this.file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await fs.rename(this.file, aside);
      this.logger.error({ file: this.file, movedTo: aside, reason: (err as Error).message }, 'proxy routes file is damaged; moved it aside and starting with no routes (the hub re-adds them)');
      return 0;
    }
    let restored = 0;
    this.loading = true;
    try {
      for (const [prefix, route] of Object.entries(parsed.routes)) {
        try {
          this.routes.set(prefix, route.target, route.data ?? {}, route.last_activity ?? null);
          restored++;
        } catch (err) {
          this.logger.warn({ prefix, reason: (err as Error).message }, 'skipping an invalid saved route');
        }
      }
    } finally {
      this.loading = false;
    }
    return restored;
  }

  /** Marks the table changed; a write follows shortly. */
  schedule(): void {
    this.changeGen++;
    if (this.timer === null && !this.writing) this.timer = setTimeout(() => void this.run(), this.coalesceMs);
  }

  /** Resolves once every change made before the call is on disk; rejects if that write failed. */
  flush(): Promise<void> {
    const gen = this.changeGen;
    if (this.savedGen >= gen) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ gen, resolve, reject }));
  }

  /** Saves the current state (activity included) and waits for it. */
  async close(): Promise<void> {
    this.schedule();
    await this.flush();
  }

  private async run(): Promise<void> {
    this.timer = null;
    this.writing = true;
    const gen = this.changeGen;
    const body: RoutesFile = { version: 1, routes: this.routes.all() };
    let error: Error | null = null;
    try {
      await writeFileAtomic(this.file, JSON.stringify(body, null, 1) + '\n');
      this.savedGen = gen;
    } catch (err) {
      error = err as Error;
      this.logger.error({ file: this.file, err: error.message }, 'could not save proxy routes');
    }
    this.writing = false;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.gen <= this.savedGen) w.resolve();
      else if (error !== null && w.gen <= gen) w.reject(error);
      else this.waiters.push(w);
    }
    if (this.changeGen > this.savedGen && this.timer === null && (error === null || this.waiters.length > 0)) {
      this.timer = setTimeout(() => void this.run(), error === null ? this.coalesceMs : 1000);
    }
  }
}
