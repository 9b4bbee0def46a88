/**
 * One backup run, after the repository was opened: `restic unlock` (restic removes only stale
 * locks: a dead process on this host, or older than 30 minutes), one `restic backup` per home,
 * one of the hub's state and config, then — after a scheduled run — `forget --prune` with the
 * retention policy per snapshot set. A home that hits "already locked" is retried once, and only
 * when the unlock before it succeeded. A failure that makes the repository unusable (full disk,
 * wrong password, gone, locked by a live restic) stops the run: the homes not yet done are marked
 * failed with that reason instead of each trying and failing the same way.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { emptyResult, runStatus } from './history.js';
import { failureText, isRepositoryFailure, localPath, stallText } from './repository.js';
import { classifyFailure, stderrSummary, type Restic, type ResticFailureKind, type ResticResult } from './restic.js';
import { backupHomeArgs, backupStateArgs, forgetArgs, type RetentionPolicy } from './restic-args.js';
import { parseBackupErrors, parseBackupSummary, parseForgetRemoved } from './restic-output.js';
import type { BackupRunRecord, UserRunResult } from './types.js';

/** A home to back up, or why it is not (`skip`: on purpose, e.g. no home; `fail`: refused). */
export interface HomeTarget {
  user: string;
  home: string | null;
  skip?: string;
  fail?: string;
}

/** What a run needs; `save` makes the record's progress durable. */
export interface RunContext {
  restic: Restic;
  /** A home backup whose progress stands still this long is interrupted (restic.ts). */
  stallMs: number;
  log: Logger;
  excludes: readonly string[];
  retention: RetentionPolicy | null;
  statePaths: readonly string[];
  save: () => Promise<void>;
  /** Homes backed up at the same time. */
  parallel: number;
}

const MAX_ERRORS = 20;

/** restic, with a failure to start (no binary) as a result instead of a rejection. */
async function run(restic: Restic, args: string[], stallMs?: number): Promise<ResticResult & { kind: ResticFailureKind | null }> {
  try {
    const r = await restic.run(args, { stallMs });
    return { ...r, kind: r.code === 0 ? null : classifyFailure(r.stderr) };
  } catch (err) {
    return { code: -1, stdout: '', stderr: String((err as Error).message), kind: classifyFailure('', (err as NodeJS.ErrnoException).code) };
  }
}

/**
 * `restic unlock` (restic removes only stale locks); true when it succeeded. Skipped for a local
 * repository with an empty `locks/` folder, where it could remove nothing (and costs a second).
 */
export async function unlock(restic: Restic): Promise<boolean> {
  const local = localPath(restic.options.repository);
  if (local && (await fs.readdir(join(local, 'locks')).catch(() => null))?.length === 0) return true;
  return (await run(restic, ['unlock'])).code === 0;
}

/** Backs up one home; `repositoryFailure` is set when the repository itself is the problem. */
export async function backupHome(
  restic: Restic,
  t: { user: string; home: string; excludes: readonly string[]; unlocked: boolean; stallMs: number },
): Promise<{ result: UserRunResult; repositoryFailure: string | null }> {
  const { user, home } = t;
  const started = Date.now();
  const args = backupHomeArgs(user, home, t.excludes);
  let r = await run(restic, args, t.stallMs);
  if (r.kind === 'locked' && t.unlocked && (await unlock(restic))) r = await run(restic, args, t.stallMs);
  const summary = parseBackupSummary(r.stdout);
  const durationSeconds = Math.round((Date.now() - started) / 100) / 10;
  if (summary && (r.code === 0 || r.code === 3)) {
    const unreadable = r.code === 3 ? parseBackupErrors(r.stderr, home) : [];
    const errors = unreadable.length > MAX_ERRORS ? [...unreadable.slice(0, MAX_ERRORS), `… and ${unreadable.length - MAX_ERRORS} more`] : unreadable;
    if (r.code === 3 && !errors.length) errors.push(stderrSummary(r.stderr) || 'some files could not be read');
    const result: UserRunResult = {
      user,
      status: r.code === 0 ? 'ok' : 'partial',
      snapshotId: summary.snapshotId,
      bytesAdded: summary.dataAdded,
      filesNew: summary.filesNew,
      filesChanged: summary.filesChanged,
      filesUnmodified: summary.filesUnmodified,
      durationSeconds,
      errors,
    };
    return { result, repositoryFailure: null };
  }
  if (r.stalled) {
    const text = await stallText(restic.options.repository, r.stalled);
    return { result: { ...emptyResult(user, 'failed', text), durationSeconds }, repositoryFailure: text };
  }
  const kind = r.kind ?? 'other';
  const text = failureText(kind, r, restic.options);
  return { result: { ...emptyResult(user, 'failed', text), durationSeconds }, repositoryFailure: isRepositoryFailure(kind) ? text : null };
}

/**
 * Backs up every target into `record` (results, hub state, retention, status, message). Returns
 * the repository failure that stopped it, if any.
 */
export async function backupRun(ctx: RunContext, record: BackupRunRecord, targets: readonly HomeTarget[]): Promise<string | null> {
  const unlocked = await unlock(ctx.restic);
  let stopped: string | null = null;
  const order = new Map(targets.map((t, i) => [t.user, i]));
  let next = 0;
  // a few homes at once: each restic process spends much of its time opening the repository and
  // walking unchanged files, which overlaps well (restic takes shared locks for backups)
  const worker = async () => {
    while (next < targets.length) {
      const t = targets[next++]!;
      if (stopped) record.results.push(emptyResult(t.user, 'failed', `not attempted: ${stopped}`));
      else if (t.skip) record.results.push(emptyResult(t.user, 'skipped', t.skip));
      else if (t.fail || !t.home) record.results.push(emptyResult(t.user, 'failed', t.fail ?? 'no home directory'));
      else {
        const { result, repositoryFailure } = await backupHome(ctx.restic, { user: t.user, home: t.home, excludes: ctx.excludes, unlocked, stallMs: ctx.stallMs });
        record.results.push(result);
        record.bytesAdded += result.bytesAdded;
        stopped ??= repositoryFailure;
        if (result.status !== 'ok') ctx.log.warn({ user: t.user, status: result.status, errors: result.errors.slice(0, 3) }, 'home backup not clean');
      }
      await ctx.save();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(ctx.parallel, targets.length)) }, worker));
  record.results.sort((a, b) => (order.get(a.user) ?? 0) - (order.get(b.user) ?? 0));
  if (!stopped) {
    const r = await run(ctx.restic, backupStateArgs(ctx.statePaths), ctx.stallMs);
    const summary = parseBackupSummary(r.stdout);
    record.hubState = summary && r.code === 0 ? { snapshotId: summary.snapshotId, error: null } : { snapshotId: summary?.snapshotId ?? null, error: failureText(r.kind ?? 'other', r, ctx.restic.options) };
    if (summary) record.bytesAdded += summary.dataAdded;
    if (r.kind && isRepositoryFailure(r.kind)) stopped = record.hubState.error;
  }
  if (!stopped && ctx.retention) record.retention = await applyRetention(ctx.restic, ctx.retention);
  const { status, message } = runStatus(record.results, record.hubState?.error ?? null);
  record.status = stopped ? 'failed' : status;
  record.message = stopped ?? message;
  if (!stopped && record.retention?.error) {
    record.status = 'failed';
    record.message = `${message}; retention failed: ${record.retention.error}`;
  }
  return stopped;
}

/** `restic forget --prune` with the policy; null when the policy keeps everything (all zero). */
export async function applyRetention(restic: Restic, policy: RetentionPolicy): Promise<{ removed: number; error: string | null } | null> {
  const args = forgetArgs(policy);
  if (!args) return null;
  let r = await run(restic, args);
  if (r.kind === 'locked' && (await unlock(restic))) r = await run(restic, args);
  const removed = parseForgetRemoved(r.stdout);
  return r.code === 0 ? { removed, error: null } : { removed, error: failureText(r.kind ?? 'other', r, restic.options) };
}

/** `restic check` (structure, not every data byte); returns status and message for the record. */
export async function checkRun(restic: Restic): Promise<{ ok: boolean; message: string; repositoryFailure: string | null }> {
  await unlock(restic);
  const r = await run(restic, ['check']);
  if (r.code === 0) return { ok: true, message: 'no errors were found', repositoryFailure: null };
  const kind = r.kind ?? 'other';
  if (kind !== 'other') return { ok: false, message: failureText(kind, r, restic.options), repositoryFailure: isRepositoryFailure(kind) ? failureText(kind, r, restic.options) : null };
  const said = [...r.stdout.split('\n'), ...r.stderr.split('\n')].map((l) => l.trim()).filter((l) => /error|damaged|missing|fatal/i.test(l));
  return { ok: false, message: `restic check found problems: ${said.slice(0, 10).join('; ').slice(0, 800) || stderrSummary(r.stderr)}`, repositoryFailure: null };
}
