/**
 * Run records and what they say about each user: the last success, the last error, and who is
 * "stale" (no successful backup for more than `staleDays`, or never). Pure functions over the
 * records kept in the state.
 */
import { randomBytes } from 'node:crypto';
import type { BackupRunRecord, RunStatus, UserBackupState, UserRunResult } from './types.js';

/** How many run records the state keeps. */
export const MAX_RUNS = 200;

/** A new record for a run that starts now. */
export function newRun(o: Pick<BackupRunRecord, 'kind' | 'trigger' | 'by' | 'users'>, now: Date): BackupRunRecord {
  return {
    id: `${now.toISOString().replace(/[-:]|\.\d+/g, '')}-${randomBytes(3).toString('hex')}`,
    ...o,
    started: now.toISOString(),
    ended: null,
    status: 'running',
    message: null,
    results: [],
    hubState: null,
    retention: null,
    bytesAdded: 0,
  };
}

/** Appends a record, dropping the oldest beyond MAX_RUNS. */
export function pushRun(runs: BackupRunRecord[], run: BackupRunRecord): void {
  runs.push(run);
  if (runs.length > MAX_RUNS) runs.splice(0, runs.length - MAX_RUNS);
}

/** A user's result when nothing could be attempted for them. */
export function emptyResult(user: string, status: UserRunResult['status'], error: string | null): UserRunResult {
  return { user, status, snapshotId: null, bytesAdded: 0, filesNew: 0, filesChanged: 0, filesUnmodified: 0, durationSeconds: 0, errors: error ? [error] : [] };
}

/** The overall status of a backup run from its parts. */
export function runStatus(results: readonly UserRunResult[], hubStateError: string | null): { status: RunStatus; message: string } {
  const count = (s: UserRunResult['status']) => results.filter((r) => r.status === s).length;
  const failed = count('failed');
  const partial = count('partial');
  const done = count('ok') + partial;
  const parts = [`${done} of ${results.length} home${results.length === 1 ? '' : 's'} backed up`];
  if (partial) parts.push(`${partial} with unreadable files`);
  if (failed) parts.push(`${failed} failed`);
  if (hubStateError) parts.push(`hub state not saved: ${hubStateError}`);
  const status: RunStatus = failed || hubStateError ? 'failed' : partial ? 'partial' : 'ok';
  return { status, message: parts.join('; ') };
}

/** Per-user last success / last error, newest run first wins. */
export function userStates(runs: readonly BackupRunRecord[], users: readonly string[]): UserBackupState[] {
  const out = new Map<string, UserBackupState>(users.map((u) => [u, { user: u, lastSuccess: null, lastSnapshotId: null, lastError: null }]));
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i]!;
    if (run.kind !== 'backup') continue;
    for (const r of run.results) {
      const s = out.get(r.user);
      if (!s || s.lastSuccess) continue;
      if (r.status === 'ok' || r.status === 'partial') {
        s.lastSuccess = run.ended ?? run.started;
        s.lastSnapshotId = r.snapshotId;
      } else if (s.lastError === null && r.errors.length) {
        s.lastError = r.errors[0]!;
      }
    }
  }
  return [...out.values()];
}

/**
 * Users whose last success is older than `staleDays` (or who have none), except those the most
 * recent run skipped on purpose (no home, a system account).
 */
export function staleUsers(states: readonly UserBackupState[], runs: readonly BackupRunRecord[], staleDays: number, now: Date): string[] {
  const skipped = new Set<string>();
  const seen = new Set<string>();
  for (let i = runs.length - 1; i >= 0; i--) {
    for (const r of runs[i]!.results) {
      if (seen.has(r.user)) continue;
      seen.add(r.user);
      if (r.status === 'skipped') skipped.add(r.user);
    }
  }
  const limit = now.getTime() - staleDays * 86_400_000;
  return states.filter((s) => !skipped.has(s.user) && (!s.lastSuccess || Date.parse(s.lastSuccess) < limit)).map((s) => s.user);
}
