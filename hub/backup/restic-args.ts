/**
 * The restic command lines LabHub uses, built as argv arrays. Every LabHub snapshot has host
 * `labhub`; a user's home is tagged `user=<name>` and the hub's own state `labhub-state`, so one
 * user's snapshots are found (and their retention applied) apart from everyone else's.
 */

/** The host name on every LabHub snapshot (not the machine's, so a renamed machine keeps its history). */
export const BACKUP_HOST = 'labhub';
/** The tag of the snapshots of the hub's own state and config. */
export const STATE_TAG = 'labhub-state';
/** Names of the staging folders restores make inside a home; never backed up. */
export const RESTORE_STAGING_PREFIX = '.labhub-restore-';

/** The tag of one user's home snapshots. */
export function userTag(user: string): string {
  return `user=${user}`;
}

/** Retention per snapshot set; 0 = no rule of that kind. */
export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

/** `restic backup` of one home: one file system, the admin's excludes, restore staging left out. */
export function backupHomeArgs(user: string, home: string, excludes: readonly string[]): string[] {
  const ex = [...excludes, `${home}/${RESTORE_STAGING_PREFIX}*`].flatMap((e) => ['--exclude', e]);
  return ['backup', '--json', '--one-file-system', '--host', BACKUP_HOST, '--tag', userTag(user), ...ex, '--', home];
}

/** `restic backup` of the hub's state file and config file. */
export function backupStateArgs(paths: readonly string[]): string[] {
  return ['backup', '--json', '--host', BACKUP_HOST, '--tag', STATE_TAG, '--', ...paths];
}

/**
 * `restic forget --prune` applying the policy to each set (host + tags) of LabHub's snapshots, or
 * null when every rule is 0: restic would then keep everything anyway, and LabHub never reads
 * "keep nothing" into a policy of zeros.
 */
export function forgetArgs(p: RetentionPolicy): string[] | null {
  const keep: string[] = [];
  if (p.daily > 0) keep.push('--keep-daily', String(p.daily));
  if (p.weekly > 0) keep.push('--keep-weekly', String(p.weekly));
  if (p.monthly > 0) keep.push('--keep-monthly', String(p.monthly));
  if (!keep.length) return null;
  return ['forget', '--json', '--prune', '--host', BACKUP_HOST, '--group-by', 'host,tags', ...keep];
}

/** `restic snapshots` of one user's home (or of the hub state when `user` is null). */
export function snapshotsArgs(user: string | null): string[] {
  return ['snapshots', '--json', '--no-lock', '--host', BACKUP_HOST, '--tag', user === null ? STATE_TAG : userTag(user)];
}

/** `restic ls` of one directory of a snapshot (its direct children, or everything below it). */
export function lsArgs(snapshotId: string, dir: string, recursive: boolean): string[] {
  return ['ls', '--json', ...(recursive ? ['--recursive'] : []), snapshotId, dir];
}

/**
 * A literal path as a restic filter pattern: restic matches `--include` with Go's filepath.Match
 * per path component, so `*`, `?`, `[` and `\` in a file name are escaped.
 */
export function literalPattern(path: string): string {
  return path.replace(/[\\*?[]/g, '\\$&');
}

/** `restic restore` of one path (absolute, as in the snapshot) into `target`. */
export function restoreArgs(snapshotId: string, target: string, include: string): string[] {
  return ['restore', snapshotId, '--target', target, '--include', literalPattern(include)];
}
