/**
 * QuotaService: the disk part of the quotas (issue 6) and the policy every part shares. It decides
 * the disk mode in force (kernel quotas where the home filesystem has them, measured usage
 * elsewhere), keeps each home's usage (store.data.quota.usage, so figures survive a restart),
 * answers "which limits does this user have" through their Linux and hub groups, and tells the
 * server manager whether a spawn may go ahead (over the hard limit: only in cleanup mode).
 */
import { execFile } from 'node:child_process';
import type { PasswdIndex } from '../admin/passwd-index.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { detectDiskMode, readReport, runCommand, setUserLimits, type DiskMode, type Runner } from './kernel-quota.js';
import { effectiveLimits, mergePolicy, type Limits, type LimitSources, type QuotaPolicyInput } from './policy.js';
import { scanHomes } from './scanner.js';
import { formatSize } from './size.js';

export type UsageState = 'ok' | 'over-soft' | 'over-hard' | 'no-limit';

export interface UserQuota {
  user: string;
  limits: Limits;
  sources: LimitSources;
  usage: { bytes: number; measuredAt: string } | null;
  state: UsageState;
  percent: number | null;
  /** What the student reads (null when all is well). */
  message: string | null;
  /** The server is running in cleanup mode. */
  cleanup: boolean;
}

export interface QuotaServiceOptions {
  config: Readonly<Config>;
  store: Store;
  log: Logger;
  passwd: PasswdIndex;
  /** Runs quota commands (tests pass a recorder). */
  run?: Runner;
  /** The Linux groups of a user (default: `id -Gn`). */
  linuxGroups?: (user: string) => Promise<string[]>;
  /** Where the homes live, for mode detection (default /home). */
  homeRoot?: string;
}

/** Bytes → state against the limits. */
export function usageState(bytes: number | null, limits: Limits): UsageState {
  if (!limits.diskSoft && !limits.diskHard) return 'no-limit';
  if (bytes === null) return 'ok';
  if (limits.diskHard && bytes > limits.diskHard) return 'over-hard';
  if (limits.diskSoft && bytes > limits.diskSoft) return 'over-soft';
  return 'ok';
}

/** The sentence a student reads about their disk use. */
export function usageMessage(bytes: number, limits: Limits, state: UsageState): string | null {
  const used = formatSize(bytes);
  if (state === 'over-hard') {
    const free = bytes - limits.diskHard;
    return (
      `Your home folder uses ${used}, over your limit of ${formatSize(limits.diskHard)}, so your server cannot start. ` +
      `Free at least ${formatSize(Math.max(free, 1024))}: start your server in cleanup mode from the home page, delete files ` +
      `(or move them elsewhere) until you are under ${formatSize(limits.diskSoft || limits.diskHard)}, then restart your server.`
    );
  }
  if (state === 'over-soft') {
    return `Your home folder uses ${used}, over the warning level of ${formatSize(limits.diskSoft)} (hard limit ${limits.diskHard ? formatSize(limits.diskHard) : 'none'}). Please delete files you no longer need.`;
  }
  return null;
}

const idGroups = (user: string): Promise<string[]> =>
  new Promise((resolve) =>
    execFile('id', ['-Gn', '--', user], { timeout: 5000 }, (err, stdout) => resolve(err ? [] : stdout.trim().split(/\s+/).filter(Boolean))),
  );

export class QuotaService {
  private mode: DiskMode = { inForce: 'monitored', reason: 'not detected yet', filesystem: null };
  private readonly groupCache = new Map<string, { groups: string[]; at: number }>();
  private readonly cleanup = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /** The last scan asked for (scans run one after another). */
  private chain: Promise<void> = Promise.resolve();
  /** A full scan that has not started yet. */
  private queuedFull: Promise<void> | null = null;
  private closed = false;
  private readonly run: Runner;

  constructor(private readonly o: QuotaServiceOptions) {
    this.run = o.run ?? runCommand;
  }

  /** Detects the mode and schedules scans (the first soon after start). */
  async start(): Promise<void> {
    await this.detect();
    // enforced: the config file's limits reach the kernel at start, not only after an edit
    if (this.mode.inForce === 'enforced') void this.applyKernelLimits();
    const every = this.o.config.quota.scanIntervalMinutes * 60_000;
    const tick = (delay: number) => {
      if (this.closed || this.mode.inForce === 'off') return;
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.scan().finally(() => tick(every));
      }, delay);
      this.timer.unref();
    };
    tick(Math.min(every, 2000));
  }

  async detect(): Promise<DiskMode> {
    this.mode = await detectDiskMode(this.o.config.quota.diskMode, this.o.homeRoot ?? '/home', this.run);
    this.o.log.info({ configured: this.o.config.quota.diskMode, inForce: this.mode.inForce, reason: this.mode.reason }, 'disk quota mode');
    return this.mode;
  }

  diskMode(): DiskMode {
    return this.mode;
  }

  /** The config file's policy with the saved overrides (and saved defaults) on top. */
  policy(): QuotaPolicyInput {
    const saved = this.o.store.data.quota;
    const merged = mergePolicy(this.o.config.quota, saved);
    return { ...merged, defaults: { ...this.o.config.quota.defaults, ...saved.defaults } };
  }

  /** The user's Linux groups (cached a minute) and hub groups. */
  async groupsOf(user: string): Promise<string[]> {
    const hit = this.groupCache.get(user);
    let linux = hit && Date.now() - hit.at < 60_000 ? hit.groups : null;
    if (!linux) {
      linux = await (this.o.linuxGroups ?? idGroups)(user);
      this.groupCache.set(user, { groups: linux, at: Date.now() });
    }
    const hub = Object.values(this.o.store.data.groups)
      .filter((g) => g.users.includes(user))
      .map((g) => g.name);
    return [...new Set([...linux, ...hub])];
  }

  async limitsFor(user: string): Promise<{ limits: Limits; sources: LimitSources }> {
    return effectiveLimits(this.policy(), user, await this.groupsOf(user));
  }

  /** Everything about one user's disk quota. */
  async forUser(user: string): Promise<UserQuota> {
    const { limits, sources } = await this.limitsFor(user);
    const usage = this.o.store.data.quota.usage[user] ?? null;
    const state = this.mode.inForce === 'off' ? 'no-limit' : usageState(usage?.bytes ?? null, limits);
    const top = limits.diskHard || limits.diskSoft;
    return {
      user,
      limits,
      sources,
      usage,
      state,
      percent: usage && top ? Math.round((usage.bytes / top) * 1000) / 10 : null,
      message: usage ? usageMessage(usage.bytes, limits, state) : null,
      cleanup: this.cleanup.has(user),
    };
  }

  /** Every hub user's quota, fullest first. */
  async all(): Promise<UserQuota[]> {
    const rows = await Promise.all(Object.keys(this.o.store.data.users).map((u) => this.forUser(u)));
    return rows.sort((a, b) => (b.percent ?? -1) - (a.percent ?? -1) || a.user.localeCompare(b.user));
  }

  /**
   * Before deciding a spawn: a user whose last figure is over the hard limit is measured again,
   * so deleting files helps at once. Returns the refusal message, or null when the spawn may go.
   * In cleanup mode the spawn always goes (and the server is marked as a cleanup server).
   */
  async admit(user: string, cleanup: boolean): Promise<string | null> {
    if (this.mode.inForce !== 'monitored') return null;
    let q = await this.forUser(user);
    if (q.state === 'over-hard') {
      await this.scan([user]);
      q = await this.forUser(user);
    }
    if (q.state !== 'over-hard') {
      this.cleanup.delete(user);
      return null;
    }
    if (cleanup) {
      this.cleanup.add(user);
      this.o.log.info({ user, bytes: q.usage?.bytes }, 'server starts in cleanup mode (over the hard disk limit)');
      return null;
    }
    return q.message;
  }

  isCleanup(user: string): boolean {
    return this.cleanup.has(user);
  }

  /**
   * Measures the homes of `users` (default: every hub user) now. Scans run one at a time in order;
   * a full scan asked for while another full one waits to start joins it.
   */
  scan(users?: readonly string[]): Promise<void> {
    if (!users && this.queuedFull) return this.queuedFull;
    const p: Promise<void> = this.chain.then(() => {
      if (this.queuedFull === p) this.queuedFull = null;
      return this.closed ? undefined : this.runScan(users);
    });
    if (!users) this.queuedFull = p;
    this.chain = p.catch((err: unknown) => this.o.log.warn({ err }, 'quota scan failed'));
    return p;
  }

  private async runScan(users?: readonly string[]): Promise<void> {
    if (this.mode.inForce === 'off') return;
    const names = users ?? Object.keys(this.o.store.data.users);
    const now = new Date().toISOString();
    const usage = this.o.store.data.quota.usage;
    if (this.mode.inForce === 'enforced' && this.mode.filesystem) {
      try {
        const rows = await readReport(this.mode.filesystem, this.run);
        for (const r of rows) if (names.includes(r.user)) usage[r.user] = { bytes: r.usedBytes, measuredAt: now };
        await this.o.store.commit();
        return;
      } catch (err) {
        this.o.log.warn({ reason: (err as Error).message }, 'quota report failed; measuring homes instead');
      }
    }
    const all = await this.o.passwd.get();
    const homes = new Map<string, string>();
    for (const u of names) {
      const home = all.get(u)?.home;
      if (home && home !== '/') homes.set(u, home);
    }
    const t0 = Date.now();
    const bytes = await scanHomes(homes, { onError: (user, err) => this.o.log.warn({ user, reason: err.message }, 'home usage: measuring failed') });
    const at = new Date().toISOString();
    for (const [u, b] of bytes) usage[u] = { bytes: b, measuredAt: at };
    for (const u of Object.keys(usage)) if (!this.o.store.data.users[u]) delete usage[u];
    await this.o.store.commit();
    this.o.log.debug({ homes: homes.size, ms: Date.now() - t0 }, 'homes measured');
  }

  /** Enforced mode: writes the kernel limits of `users` (default: every hub user). */
  async applyKernelLimits(users?: readonly string[]): Promise<string[]> {
    const fs = this.mode.filesystem;
    if (this.mode.inForce !== 'enforced' || !fs) return [];
    const problems: string[] = [];
    for (const u of users ?? Object.keys(this.o.store.data.users)) {
      const { limits } = await this.limitsFor(u);
      try {
        await setUserLimits(fs, u, limits.diskSoft, limits.diskHard, this.run);
      } catch (err) {
        problems.push(`${u}: ${(err as Error).message}`);
      }
    }
    if (problems.length) this.o.log.warn({ problems }, 'setting kernel quotas failed');
    return problems;
  }

  /** Forgets cached groups (after an admin changed memberships). */
  forgetGroups(): void {
    this.groupCache.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.chain;
  }
}
