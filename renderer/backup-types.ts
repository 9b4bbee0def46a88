/**
 * Shapes of the backup API (docs/admin-api.md, "Backups"): a copy of hub/backup/types.ts, which
 * the renderer cannot import (it is compiled on its own, for the browser).
 */

/** One user's part of a backup run. */
export interface UserRunResult {
  user: string;
  /** `partial`: a snapshot was made but some files could not be read (restic exit code 3). */
  status: 'ok' | 'partial' | 'failed' | 'skipped';
  snapshotId: string | null;
  /** Bytes added to the repository by this snapshot (after deduplication and compression). */
  bytesAdded: number;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  durationSeconds: number;
  /** What went wrong, in words an admin can act on (first lines only). */
  errors: string[];
}

export type RunStatus = 'running' | 'ok' | 'partial' | 'failed' | 'skipped';

/** Every run is recorded in the hub state (the last 200). */
export interface BackupRunRecord {
  id: string;
  /** `backup`: snapshots (+ retention when scheduled); `check`: `restic check`. */
  kind: 'backup' | 'check';
  trigger: 'schedule' | 'manual';
  /** Who asked (admin name, `@labhub-cli`) or `schedule`. */
  by: string;
  /** The users it covered; empty for a check. */
  users: string[];
  started: string;
  ended: string | null;
  status: RunStatus;
  /** Summary or the reason for failed/skipped (e.g. "the previous run was still going"). */
  message: string | null;
  results: UserRunResult[];
  /** The snapshot of the hub's own state and config. */
  hubState: { snapshotId: string | null; error: string | null } | null;
  /** Retention (`forget --prune`) after a scheduled run. */
  retention: { removed: number; error: string | null } | null;
  /** Bytes added to the repository by the whole run. */
  bytesAdded: number;
  /** Set when the repository itself was the problem (disk not mounted, wrong password, full…). */
  repositoryError?: string | null;
}

export interface SnapshotInfo {
  id: string;
  shortId: string;
  time: string;
  user: string;
}

export interface SnapshotEntry {
  name: string;
  /** Relative to the home, starting with `/`. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number | null;
  /** e.g. `-rw-r--r--` */
  permissions: string;
  mtime: string;
}

export type RestoreMode = 'side' | 'in-place';

/** What a restore would do, shown before an in-place restore is confirmed. */
export interface RestorePlan {
  user: string;
  snapshotId: string;
  path: string;
  mode: RestoreMode;
  /** The absolute directory written into (`~/restored-<time>` for side restores, the home in place). */
  target: string;
  /** In place: paths (relative to the home) that exist now and would be overwritten. */
  overwrite: string[];
  /** In place: pass this back to `restore` to confirm exactly this plan (null for side restores). */
  confirmToken: string | null;
}

export interface RestoreResult {
  user: string;
  snapshotId: string;
  path: string;
  mode: RestoreMode;
  target: string;
  files: number;
  bytes: number;
}

export interface UserBackupState {
  user: string;
  lastSuccess: string | null;
  lastSnapshotId: string | null;
  lastError: string | null;
}

export interface BackupStatus {
  enabled: boolean;
  /** The repository location with any credentials in it masked. */
  repository: string;
  schedule: string;
  checkSchedule: string;
  retention: { daily: number; weekly: number; monthly: number };
  excludes: string[];
  staleDays: number;
  nextRun: string | null;
  nextCheck: string | null;
  running: BackupRunRecord | null;
  lastRuns: BackupRunRecord[];
  users: UserBackupState[];
  /** Users with no successful backup for more than `staleDays` (or never). */
  stale: string[];
  /** Why the repository cannot be used right now, if known (missing disk, wrong password). */
  repositoryError: string | null;
}

/** Settings an admin can change from the Backups view (saved in the state, override the file). */
export interface BackupSettingsPatch {
  enabled?: boolean;
  schedule?: string;
  checkSchedule?: string;
  retention?: { daily?: number; weekly?: number; monthly?: number };
  excludes?: string[];
  staleDays?: number;
}

/** The dashboard's backup card (the `backup` field of GET /hub/api/labhub/status). */
export interface BackupSummary {
  enabled: boolean;
  lastRun: { id: string; kind: 'backup' | 'check'; time: string; ended: string | null; status: RunStatus; message: string | null } | null;
  failures: Array<{ id: string; time: string; status: RunStatus; message: string | null; users: string[] }>;
  stale: string[];
  staleDays: number;
  repositoryError: string | null;
}

/** The 409 answer to an in-place restore without a valid confirmation. */
export interface RestoreNeedsConfirmation {
  status: 409;
  message: string;
  plan: RestorePlan;
}
