/**
 * The backup engine behind the API, the CLI and the scheduler (`createBackupService`). One run at
 * a time: a manual start while one is going is refused (409), a scheduled fire is recorded as a
 * `skipped` run. Every run is recorded in the state (the last 200) with a per-user result.
 * `enabled: false` stops the schedules; runs started by an admin still work.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { PasswdIndex } from '../admin/passwd-index.js';
import { isValidUserName } from '../auth/accounts.js';
import type { Config } from '../config.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { emptyResult, newRun, pushRun, staleUsers, userStates } from './history.js';
import { lightenRepositoryKey } from './fast-key.js';
import { ensurePasswordFile, localPath, openRepository } from './repository.js';
import { maskRepository, Restic } from './restic.js';
import { BackupRestorer } from './restorer.js';
import { backupRun, checkRun } from './runner.js';
import { BackupScheduler, type ScheduledKind } from './scheduler.js';
import { effectiveSettings, mergePatch, type BackupSettings } from './settings.js';
import { snapshotInfo, SnapshotCatalog } from './snapshots.js';
import { homeTarget } from './targets.js';
import type { BackupRunRecord, BackupService, BackupSettingsPatch, BackupStatus, RestoreMode } from './types.js';

/** What `createBackupService` needs. */
export interface BackupServiceOptions {
  /** The hub's (live) config: `backup`, `dataDir` and `auth.minUid` are used. */
  config: Readonly<Config>;
  store: Store;
  log: Logger;
  /** The config file the hub was started with, saved with the state; null/absent = none. */
  configFile?: string | null;
  /** The hub's shared `getent passwd` cache; a private one when absent. */
  passwd?: PasswdIndex;
  /** The clock (tests). */
  now?: () => Date;
  /** A backup whose progress stands still this long is interrupted and recorded as failed (default 600). */
  stallSeconds?: number;
}

/** Builds the engine; call `start()` to arm the schedules and `close()` on shutdown. */
export function createBackupService(o: BackupServiceOptions): BackupService {
  return new BackupEngine(o);
}

const clone = <T>(v: T): T => structuredClone(v);

class BackupEngine implements BackupService {
  private readonly restic: Restic;
  private readonly catalog: SnapshotCatalog;
  private readonly restorer: BackupRestorer;
  private readonly scheduler: BackupScheduler;
  private readonly passwd: PasswdIndex;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly passwordFile: string;
  private settings: BackupSettings;
  private current: { record: BackupRunRecord; done: Promise<BackupRunRecord> } | null = null;
  private repositoryError: string | null;

  constructor(private readonly o: BackupServiceOptions) {
    const b = o.config.backup;
    this.log = o.log.child({ component: 'backup' });
    this.now = o.now ?? (() => new Date());
    this.passwd = o.passwd ?? new PasswdIndex();
    this.passwordFile = b.passwordFile || join(o.config.dataDir, 'backup-password');
    this.restic = new Restic(
      { binary: b.restic, repository: b.repository, passwordFile: this.passwordFile, cacheDir: join(o.config.dataDir, 'restic-cache'), environment: b.environment },
      this.log,
    );
    this.catalog = new SnapshotCatalog(this.restic);
    this.restorer = new BackupRestorer({ restic: this.restic, catalog: this.catalog, log: this.log, now: this.now, minUid: o.config.auth.minUid, passwd: this.passwd });
    this.scheduler = new BackupScheduler((kind) => this.fire(kind));
    this.settings = effectiveSettings(b, o.store.data.backup.settings);
    const lastEnded = [...o.store.data.backup.runs].reverse().find((r) => r.status !== 'running' && r.status !== 'skipped');
    this.repositoryError = lastEnded?.repositoryError ?? null;
  }

  start(): void {
    let changed = false;
    for (const r of this.o.store.data.backup.runs) {
      if (r.status !== 'running') continue;
      Object.assign(r, { status: 'failed', ended: this.now().toISOString(), message: 'the hub stopped during this run' });
      changed = true;
    }
    if (changed) void this.o.store.commit().catch((err: Error) => this.log.error({ err }, 'could not save the backup history'));
    this.scheduler.apply(this.settings);
    this.log.info({ enabled: this.settings.enabled, schedule: this.settings.schedule, repository: maskRepository(this.o.config.backup.repository) }, 'backups scheduled');
  }

  async close(): Promise<void> {
    this.scheduler.stop();
    await this.restic.close();
    await this.current?.done;
  }

  async status(): Promise<BackupStatus> {
    const s = this.settings;
    const runs = this.o.store.data.backup.runs;
    const states = userStates(runs, Object.keys(this.o.store.data.users).sort());
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return {
      enabled: s.enabled,
      repository: maskRepository(this.o.config.backup.repository),
      schedule: s.schedule,
      checkSchedule: s.checkSchedule,
      retention: { ...s.retention },
      excludes: [...s.excludes],
      staleDays: s.staleDays,
      nextRun: iso(this.scheduler.next('backup')),
      nextCheck: iso(this.scheduler.next('check')),
      running: this.current ? clone(this.current.record) : null,
      lastRuns: clone(runs.slice(-20).reverse()),
      users: states,
      stale: staleUsers(states, runs, s.staleDays, this.now()),
      repositoryError: this.repositoryError,
    };
  }

  async runNow(o: { users?: string[]; by: string }): Promise<BackupRunRecord> {
    const hubUsers = this.o.store.data.users;
    let users = Object.keys(hubUsers).sort();
    if (o.users?.length) {
      for (const u of o.users) {
        if (typeof u !== 'string' || !isValidUserName(u)) throw new HubError('HUB_ERR_INVALID_NAME', `Invalid user name: ${String(u)}`);
        if (!hubUsers[u]) throw new HubError('HUB_ERR_NOT_FOUND', `No hub user named ${u}.`);
      }
      users = [...new Set(o.users)].sort();
    }
    return this.begin('backup', 'manual', o.by, users);
  }

  async checkNow(o: { by: string }): Promise<BackupRunRecord> {
    return this.begin('check', 'manual', o.by, []);
  }

  async waitForRun(id: string): Promise<BackupRunRecord> {
    if (this.current?.record.id === id) return clone(await this.current.done);
    const rec = this.o.store.data.backup.runs.find((r) => r.id === id);
    if (!rec) throw new HubError('HUB_ERR_NOT_FOUND', `No backup run ${id}.`);
    return clone(rec);
  }

  runs(limit = 50): BackupRunRecord[] {
    return clone(this.o.store.data.backup.runs.slice(-Math.max(1, limit)).reverse());
  }

  /** Newest first. */
  async snapshots(user: string) {
    return this.reading(async () => (await this.catalog.list(checkName(user))).reverse().map(snapshotInfo));
  }

  async browse(user: string, snapshotId: string, path: string) {
    return this.reading(() => this.restorer.browse(checkName(user), snapshotId, path));
  }

  async planRestore(user: string, snapshotId: string, path: string, mode: RestoreMode) {
    return this.reading(() => this.restorer.plan(checkName(user), snapshotId, path, mode));
  }

  async restore(user: string, snapshotId: string, path: string, mode: RestoreMode, confirmToken?: string) {
    return this.reading(() => this.restorer.restore(checkName(user), snapshotId, path, mode, confirmToken));
  }

  async updateSettings(patch: BackupSettingsPatch): Promise<BackupStatus> {
    const data = this.o.store.data.backup;
    const merged = mergePatch(data.settings, patch);
    data.settings = merged;
    await this.o.store.commit();
    this.settings = effectiveSettings(this.o.config.backup, merged);
    this.scheduler.apply(this.settings);
    this.log.info({ changed: Object.keys(patch ?? {}) }, 'backup settings changed');
    return this.status();
  }

  /** A scheduled fire: starts a run, or records a skipped one while another is going. */
  private fire(kind: ScheduledKind): void {
    if (!this.current) {
      this.begin(kind, 'schedule', 'schedule', kind === 'backup' ? Object.keys(this.o.store.data.users).sort() : []).catch((err: Error) =>
        this.log.error({ err }, 'scheduled backup could not start'),
      );
      return;
    }
    const rec = newRun({ kind, trigger: 'schedule', by: 'schedule', users: [] }, this.now());
    Object.assign(rec, { status: 'skipped', ended: rec.started, message: 'the previous run was still going' });
    pushRun(this.o.store.data.backup.runs, rec);
    this.log.warn({ kind, running: this.current.record.id }, 'scheduled run skipped: the previous run was still going');
    this.o.store.commit().catch((err: Error) => this.log.error({ err }, 'could not save the backup history'));
  }

  private async begin(kind: ScheduledKind, trigger: BackupRunRecord['trigger'], by: string, users: string[]): Promise<BackupRunRecord> {
    if (this.current) throw new HubError('HUB_ERR_BACKUP_BUSY', `A ${this.current.record.kind === 'check' ? 'repository check' : 'backup'} is already running (started ${this.current.record.started}).`);
    const record = newRun({ kind, trigger, by, users }, this.now());
    pushRun(this.o.store.data.backup.runs, record);
    const done = this.execute(record).finally(() => {
      this.current = null;
    });
    this.current = { record, done };
    await this.o.store.commit();
    return clone(record);
  }

  private async execute(record: BackupRunRecord): Promise<BackupRunRecord> {
    await Promise.resolve(); // let begin() register the run first
    this.log.info({ run: record.id, kind: record.kind, trigger: record.trigger, by: record.by, users: record.users.length }, 'backup run started');
    const save = () => this.o.store.commit().catch((err: Error) => this.log.error({ err }, 'could not save the backup history'));
    try {
      await this.openRepository(record.kind === 'backup');
      if (record.kind === 'backup') {
        const all = await this.passwd.get();
        const targets = await Promise.all(record.users.map((u) => homeTarget(u, all.get(u), this.o.config.auth.minUid)));
        const stallMs = (this.o.stallSeconds ?? 600) * 1000;
        const ctx = { restic: this.restic, log: this.log, excludes: this.settings.excludes, statePaths: await this.statePaths(), save, stallMs, parallel: this.o.config.backup.parallel };
        this.repositoryError = await backupRun({ ...ctx, retention: record.trigger === 'schedule' ? this.settings.retention : null }, record, targets);
      } else {
        const c = await checkRun(this.restic);
        Object.assign(record, { status: c.ok ? 'ok' : 'failed', message: c.message });
        this.repositoryError = c.repositoryFailure;
      }
    } catch (err) {
      const message = err instanceof HubError ? err.message : `unexpected error: ${(err as Error).message}`;
      if (!(err instanceof HubError)) this.log.error({ err }, 'backup run failed');
      if (err instanceof HubError && err.code === 'HUB_ERR_BACKUP_UNAVAILABLE') this.repositoryError = message;
      Object.assign(record, { status: 'failed', message });
      const done = new Set(record.results.map((r) => r.user));
      for (const u of record.users) if (!done.has(u)) record.results.push(emptyResult(u, 'failed', `not attempted: ${message}`));
    }
    record.repositoryError = this.repositoryError;
    record.ended = this.now().toISOString();
    this.catalog.invalidate();
    await save();
    const level = record.status === 'ok' ? 'info' : 'warn';
    this.log[level]({ run: record.id, status: record.status, bytesAdded: record.bytesAdded, message: record.message }, 'backup run ended');
    return record;
  }

  /** Password file, cache folder and repository (init only under the rule in repository.ts). */
  private async openRepository(allowInit: boolean): Promise<void> {
    const data = this.o.store.data.backup;
    await ensurePasswordFile(this.passwordFile, { isDefault: !this.o.config.backup.passwordFile, repositoryUsed: data.repositoryId !== null });
    await fs.mkdir(this.restic.options.cacheDir, { recursive: true, mode: 0o700 });
    const opened = await openRepository(this.restic, data.repositoryId, allowInit);
    const local = localPath(this.o.config.backup.repository);
    // a repository LabHub just made with its own random password: drop restic's slow key stretching (fast-key.ts)
    if (opened.initialised && local && !this.o.config.backup.passwordFile) {
      const lightened = await lightenRepositoryKey(local, await fs.readFile(this.passwordFile)).catch((err: unknown) => {
        this.log.warn({ err }, 'could not lighten the repository key; restic keeps its own (slower to open)');
        return false;
      });
      if (lightened) this.log.info('repository key re-sealed with light scrypt parameters (random 256-bit password)');
    }
    if (data.repositoryId !== opened.id) {
      data.repositoryId = opened.id;
      await this.o.store.commit();
      this.log.info({ repository: maskRepository(this.o.config.backup.repository), id: opened.id, initialised: opened.initialised }, 'backup repository recorded');
    }
  }

  /** The state file and the config file, when they exist. */
  private async statePaths(): Promise<string[]> {
    const paths = [this.o.store.file, ...(this.o.configFile ? [this.o.configFile] : [])];
    const there = await Promise.all(paths.map((p) => fs.stat(p).then((s) => s.isFile(), () => false)));
    return paths.filter((_, i) => there[i]);
  }

  /** Snapshot reads while LabHub's own run prunes (an exclusive lock) say "busy", not "locked". */
  private async reading<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HubError && err.code === 'HUB_ERR_BACKUP_UNAVAILABLE' && this.current && /locked/.test(err.message)) {
        throw new HubError('HUB_ERR_BACKUP_BUSY', 'The backup repository is busy with the running backup (removing old snapshots or checking); try again in a few minutes.');
      }
      throw err;
    }
  }
}

function checkName(user: string): string {
  if (typeof user !== 'string' || !isValidUserName(user)) throw new HubError('HUB_ERR_INVALID_NAME', `Invalid user name: ${String(user)}`);
  return user;
}
