/**
 * Reading restic 0.14's JSON output: the `backup` summary and its per-file errors (JSON lines on
 * stderr), `snapshots`, `ls` nodes and `forget` groups. Anything unexpected is skipped rather than
 * trusted.
 */
import { parseJsonLines } from './restic.js';

/** The last line of `restic backup --json`. */
export interface BackupSummary {
  snapshotId: string;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
  dataAdded: number;
  totalBytesProcessed: number;
  totalDuration: number;
}

/** A snapshot as `restic snapshots --json` lists it. */
export interface ResticSnapshot {
  id: string;
  shortId: string;
  time: string;
  paths: string[];
  hostname: string;
  tags: string[];
}

/** A node of `restic ls --json`. */
export interface ResticNode {
  name: string;
  type: string;
  path: string;
  size: number | null;
  permissions: string;
  mtime: string;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The summary of a backup, or null when restic made no snapshot. */
export function parseBackupSummary(stdout: string): BackupSummary | null {
  for (const v of parseJsonLines(stdout).reverse()) {
    if (!isObject(v) || v.message_type !== 'summary' || !str(v.snapshot_id)) continue;
    return {
      snapshotId: str(v.snapshot_id),
      filesNew: num(v.files_new),
      filesChanged: num(v.files_changed),
      filesUnmodified: num(v.files_unmodified),
      dataAdded: num(v.data_added),
      totalBytesProcessed: num(v.total_bytes_processed),
      totalDuration: num(v.total_duration),
    };
  }
  return null;
}

const ERRNO_WORDS: Record<number, string> = {
  2: 'it disappeared during the backup',
  13: 'permission denied',
  5: 'input/output error (a failing disk?)',
};

/**
 * The files restic could not read, from the `{"message_type":"error"}` lines it prints on stderr,
 * as "<item>: <why>" with `home` stripped from the item (so the admin sees home-relative paths).
 * Errors while restic was only counting files (`during: scan`) are marked as such; duplicates go.
 */
export function parseBackupErrors(stderr: string, home: string): string[] {
  const out = new Set<string>();
  for (const v of parseJsonLines(stderr)) {
    if (!isObject(v) || v.message_type !== 'error') continue;
    const item = str(v.item);
    const rel = item === home ? '/' : item.startsWith(`${home}/`) ? item.slice(home.length) : item;
    const err = isObject(v.error) ? v.error : {};
    const why = typeof err.Err === 'number' ? (ERRNO_WORDS[err.Err] ?? `error ${err.Err} during ${str(err.Op) || 'reading'}`) : 'could not be read';
    out.add(`${rel || '(unknown file)'}: ${why}${v.during === 'scan' ? ' (while counting files)' : ''}`);
  }
  return [...out];
}

/** `restic snapshots --json`, oldest first. */
export function parseSnapshots(stdout: string): ResticSnapshot[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim() || '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: ResticSnapshot[] = [];
  for (const v of data) {
    if (!isObject(v) || !/^[0-9a-f]{64}$/.test(str(v.id))) continue;
    out.push({
      id: str(v.id),
      shortId: str(v.short_id) || str(v.id).slice(0, 8),
      time: str(v.time),
      paths: Array.isArray(v.paths) ? v.paths.filter((p): p is string => typeof p === 'string') : [],
      hostname: str(v.hostname),
      tags: Array.isArray(v.tags) ? v.tags.filter((t): t is string => typeof t === 'string') : [],
    });
  }
  return out.sort((a, b) => a.time.localeCompare(b.time));
}

/** The nodes of `restic ls --json` (the first line, the snapshot, is left out). */
export function parseLsNodes(stdout: string): ResticNode[] {
  const out: ResticNode[] = [];
  for (const v of parseJsonLines(stdout)) {
    if (!isObject(v) || v.struct_type !== 'node') continue;
    out.push({
      name: str(v.name),
      type: str(v.type),
      path: str(v.path),
      size: typeof v.size === 'number' ? v.size : null,
      permissions: str(v.permissions),
      mtime: str(v.mtime),
    });
  }
  return out;
}

/** How many snapshots `restic forget --json` removed (its first JSON line; prune's text follows). */
export function parseForgetRemoved(stdout: string): number {
  let removed = 0;
  for (const v of parseJsonLines(stdout)) {
    if (!Array.isArray(v)) continue;
    for (const group of v) if (isObject(group) && Array.isArray(group.remove)) removed += group.remove.length;
  }
  return removed;
}

/** The repository id from `restic cat config`. */
export function parseConfigId(stdout: string): string | null {
  try {
    const v: unknown = JSON.parse(stdout);
    return isObject(v) && /^[0-9a-f]{64}$/.test(str(v.id)) ? str(v.id) : null;
  } catch {
    return null;
  }
}
