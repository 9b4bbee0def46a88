/**
 * The two cron jobs (croner, server local time): backups on `schedule`, `restic check` on
 * `checkSchedule`. A fire only asks the service to start; the service decides (one run at a time,
 * an overlapping fire is recorded as skipped). `apply` replaces both jobs when settings change.
 */
import { Cron } from 'croner';
import type { BackupSettings } from './settings.js';

export type ScheduledKind = 'backup' | 'check';

export class BackupScheduler {
  private jobs: Partial<Record<ScheduledKind, Cron>> = {};

  constructor(private readonly fire: (kind: ScheduledKind) => void) {}

  /** Stops the current jobs and starts the ones `s` asks for (none when backups are disabled). */
  apply(s: Pick<BackupSettings, 'enabled' | 'schedule' | 'checkSchedule'>): void {
    this.stop();
    if (!s.enabled) return;
    this.jobs.backup = new Cron(s.schedule, { catch: true }, () => this.fire('backup'));
    this.jobs.check = new Cron(s.checkSchedule, { catch: true }, () => this.fire('check'));
  }

  /** When the job fires next, or null when it is off. */
  next(kind: ScheduledKind): Date | null {
    return this.jobs[kind]?.nextRun() ?? null;
  }

  stop(): void {
    for (const job of Object.values(this.jobs)) job.stop();
    this.jobs = {};
  }
}
