/**
 * One user's snapshots and their contents. Every lookup starts from the list restic gives for
 * host `labhub` and tag `user=<name>` (checked again here), so an id — full or short — that
 * belongs to someone else, or to the hub's state, is simply "not found" for this user.
 */
import { posix } from 'node:path';
import { HubError } from '../errors.js';
import type { SnapshotEntry, SnapshotInfo } from './types.js';
import { failureText, isRepositoryFailure } from './repository.js';
import { classifyFailure, type Restic, type ResticResult } from './restic.js';
import { BACKUP_HOST, lsArgs, snapshotsArgs, userTag } from './restic-args.js';
import { parseLsNodes, parseSnapshots, type ResticNode, type ResticSnapshot } from './restic-output.js';
import { inHome, isSnapshotId, relativeToHome } from './restore-paths.js';

/** A snapshot of one user's home, with the home's path as it was backed up. */
export interface UserSnapshot extends ResticSnapshot {
  user: string;
  home: string;
}

/** restic's failure as a HubError: repository problems are 503, the rest 500. */
export async function runOrThrow(restic: Restic, args: string[]): Promise<ResticResult> {
  const r = await restic.run(args).catch((e: NodeJS.ErrnoException) => ({ code: -1, stdout: '', stderr: '', spawn: e.code }));
  if (r.code === 0) return r;
  const kind = classifyFailure(r.stderr, 'spawn' in r ? r.spawn : undefined);
  const text = failureText(kind, r, restic.options);
  throw new HubError(isRepositoryFailure(kind) ? 'HUB_ERR_BACKUP_UNAVAILABLE' : 'HUB_ERR_BACKUP_FAILED', text);
}

/** The public shape of a snapshot. */
export function snapshotInfo(s: UserSnapshot): SnapshotInfo {
  return { id: s.id, shortId: s.shortId, time: s.time, user: s.user };
}

/** A restic node as a browse entry (path relative to the home). */
export function toEntry(node: ResticNode, home: string): SnapshotEntry {
  const type = node.type === 'file' || node.type === 'dir' || node.type === 'symlink' ? node.type : 'other';
  return {
    name: node.name,
    path: relativeToHome(home, node.path) ?? node.path,
    type,
    size: type === 'file' ? node.size : null,
    permissions: node.permissions,
    mtime: node.mtime,
  };
}

/**
 * Each restic call opens the repository (about a second: restic derives the key with scrypt), so
 * a user's snapshot list is kept for a minute while they browse; every backup run clears it.
 */
export class SnapshotCatalog {
  private readonly cache = new Map<string, { at: number; list: Promise<UserSnapshot[]> }>();

  constructor(
    private readonly restic: Restic,
    private readonly ttlMs = 60_000,
  ) {}

  /** The user's home snapshots, oldest first. */
  list(user: string): Promise<UserSnapshot[]> {
    const hit = this.cache.get(user);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.list;
    const list = this.load(user);
    this.cache.set(user, { at: Date.now(), list });
    list.catch(() => this.cache.get(user)?.list === list && this.cache.delete(user));
    return list;
  }

  /** Forgets the cached lists (after a run made or removed snapshots). */
  invalidate(): void {
    this.cache.clear();
  }

  private async load(user: string): Promise<UserSnapshot[]> {
    const r = await runOrThrow(this.restic, snapshotsArgs(user));
    return parseSnapshots(r.stdout)
      .filter((s) => s.hostname === BACKUP_HOST && s.tags.includes(userTag(user)) && s.paths.length === 1)
      .map((s) => ({ ...s, user, home: s.paths[0]! }));
  }

  /** The user's snapshot with this id (full, or an unambiguous prefix); 404 otherwise. */
  async resolve(user: string, id: unknown): Promise<UserSnapshot> {
    if (!isSnapshotId(id)) throw new HubError('HUB_ERR_BAD_REQUEST', 'A snapshot id is 8 to 64 hexadecimal characters.');
    const matches = (await this.list(user)).filter((s) => s.id.startsWith(id));
    if (matches.length !== 1) throw new HubError('HUB_ERR_NOT_FOUND', `${user} has no snapshot ${id}.`);
    return matches[0]!;
  }

  /** One folder of a snapshot: its direct children. */
  async browse(snap: UserSnapshot, rel: string): Promise<SnapshotEntry[]> {
    const dir = inHome(snap.home, rel);
    const nodes = parseLsNodes((await runOrThrow(this.restic, lsArgs(snap.id, dir, false))).stdout);
    const self = nodes.find((n) => n.path === dir);
    if (!self) throw new HubError('HUB_ERR_NOT_FOUND', `There is no ${rel} in this snapshot.`);
    if (self.type !== 'dir') throw new HubError('HUB_ERR_BAD_REQUEST', `${rel} is a file, not a folder.`);
    return nodes.filter((n) => n !== self && posix.dirname(n.path) === dir).map((n) => toEntry(n, snap.home));
  }

  /** The node at `rel` (404 when it is not in the snapshot). */
  async node(snap: UserSnapshot, rel: string): Promise<ResticNode> {
    const path = inHome(snap.home, rel);
    const self = parseLsNodes((await runOrThrow(this.restic, lsArgs(snap.id, path, false))).stdout).find((n) => n.path === path);
    if (!self) throw new HubError('HUB_ERR_NOT_FOUND', `There is no ${rel} in this snapshot.`);
    return self;
  }

  /** Everything at and below `rel` in a snapshot (404 when `rel` is not in it). */
  async tree(snap: UserSnapshot, rel: string): Promise<ResticNode[]> {
    const dir = inHome(snap.home, rel);
    const nodes = parseLsNodes((await runOrThrow(this.restic, lsArgs(snap.id, dir, true))).stdout);
    if (!nodes.some((n) => n.path === dir)) throw new HubError('HUB_ERR_NOT_FOUND', `There is no ${rel} in this snapshot.`);
    return nodes.filter((n) => n.path === dir || n.path.startsWith(`${dir}/`));
  }
}
