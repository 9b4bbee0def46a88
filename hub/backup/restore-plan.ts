/**
 * What an in-place restore would overwrite. A snapshot file overwrites whatever is at its path now;
 * a snapshot folder merges into a folder that is there, and replaces anything else that is (a
 * file, a symbolic link). Those replacements of a different kind are "conflicts": they are removed
 * (as the student) before copying. The home is inspected one path component at a time with
 * lstat, never through a symbolic link the student may have planted.
 */
import { promises as fs } from 'node:fs';
import type { ResticNode } from './restic-output.js';
import { relativeToHome } from './restore-paths.js';

/** The kind of thing at a path now: none, a real directory, or anything else. */
export type Existing = 'none' | 'dir' | 'other';

/** The result of comparing a snapshot subtree with the home. */
export interface OverwritePlan {
  /** Home-relative paths that exist now and would be replaced, sorted. */
  overwrite: string[];
  /** The subset whose kind differs (folder vs not): removed before the copy. */
  conflicts: string[];
}

/** lstat, one component at a time: a path below anything that is not a real directory is 'none'. */
export class HomeInspector {
  private readonly seen = new Map<string, Existing>();

  constructor(private readonly home: string) {}

  async kind(rel: string): Promise<Existing> {
    if (rel === '/') return 'dir';
    const cached = this.seen.get(rel);
    if (cached) return cached;
    const parent = rel.slice(0, rel.lastIndexOf('/')) || '/';
    let kind: Existing = 'none';
    if ((await this.kind(parent)) === 'dir') {
      const st = await fs.lstat(`${this.home}${rel}`).catch(() => null);
      kind = !st ? 'none' : st.isDirectory() ? 'dir' : 'other';
    }
    this.seen.set(rel, kind);
    return kind;
  }
}

/** Ancestors of a home-relative path, outermost first, without `/` and the path itself. */
export function ancestors(rel: string): string[] {
  const parts = rel.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * Compares the snapshot nodes at and below `rel` (and the folders above it, which the copy also
 * creates) with what is in the home now.
 */
export async function overwritePlan(nodes: readonly ResticNode[], snapshotHome: string, rel: string, inspect: (rel: string) => Promise<Existing>): Promise<OverwritePlan> {
  const wanted = new Map<string, boolean>(); // home-relative path → is a folder in the snapshot
  for (const a of ancestors(rel)) wanted.set(a, true);
  for (const n of nodes) {
    const r = relativeToHome(snapshotHome, n.path);
    if (r && r !== '/') wanted.set(r, n.type === 'dir');
  }
  const overwrite: string[] = [];
  const conflicts: string[] = [];
  for (const [path, isDir] of [...wanted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const now = await inspect(path);
    if (now === 'none' || (isDir && now === 'dir')) continue;
    overwrite.push(path);
    if (isDir !== (now === 'dir')) conflicts.push(path);
  }
  return { overwrite, conflicts };
}
