/**
 * Backup tests: a varied home (nested folders, a large random file, unicode and glob-like names,
 * relative and absolute symbolic links, modes 600/755, an empty folder), a byte-for-byte picture of
 * a tree (type, mode, owner, content hash or link target), an engine on a fresh data dir and temp
 * repository, and restic run directly to check what the engine did.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type ConfigInput } from '../../hub/config.js';
import { silentLogger } from '../../hub/log.js';
import { createBackupService } from '../../hub/backup/service.js';
import type { BackupService } from '../../hub/backup/types.js';
import { Store } from '../../hub/store/store.js';
import type { TestUser } from './linux-users.js';

/** What a file system entry is, enough to compare trees byte for byte. */
export interface EntryPicture {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  /** sha256 of a file's content, the target of a link. */
  content: string | null;
  size: number;
}

/** Every entry below `root` by path relative to it (`/a/b`), root itself left out. */
export function picture(root: string, skip: (rel: string) => boolean = () => false): Map<string, EntryPicture> {
  const out = new Map<string, EntryPicture>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = `${rel}/${name}`;
      if (skip(r)) continue;
      const p = join(dir, name);
      const st = lstatSync(p);
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      const content = type === 'file' ? createHash('sha256').update(readFileSync(p)).digest('hex') : type === 'symlink' ? readlinkSync(p) : null;
      out.set(r, { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, content, size: type === 'file' ? st.size : 0 });
      if (type === 'dir') walk(p, r);
    }
  };
  walk(root, '');
  return out;
}

/** The parts of `a` whose picture differs in `b` (missing, extra or changed), for readable failures. */
export function differences(a: Map<string, EntryPicture>, b: Map<string, EntryPicture>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) out.push(`missing ${k}`);
    else if (JSON.stringify(v) !== JSON.stringify(w)) out.push(`changed ${k}: ${JSON.stringify(v)} → ${JSON.stringify(w)}`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`extra ${k}`);
  return out;
}

/** Files a varied home gets (relative to the home). */
export const VARIED = {
  big: '/data/big.bin',
  notebook: '/Übung 1 – Lösung.ipynb',
  csv: '/数据.csv',
  glob: '/data/results[1]*.txt',
  secret: '/private/secret.txt',
  script: '/bin/run.sh',
  deep: '/a/b/c/d/deep.txt',
  empty: '/empty',
  relLink: '/link-to-notebook',
  absLink: '/data/link-abs',
  dirLink: '/a/link-to-c',
} as const;

/** Fills a home with the varied content (owned by the user); `bigMiB` = 0 leaves the large file out. */
export function fillHome(u: TestUser, bigMiB = 50): void {
  const h = u.home;
  for (const d of ['data', 'private', 'bin', 'a/b/c/d', 'empty', 'notebooks/week1', 'notebooks/week2']) mkdirSync(join(h, d), { recursive: true });
  if (bigMiB) writeFileSync(join(h, VARIED.big), randomBytes(bigMiB * 1024 * 1024));
  writeFileSync(join(h, VARIED.notebook), JSON.stringify({ cells: [{ source: 'print("Grüße")' }], nbformat: 4 }));
  writeFileSync(join(h, VARIED.csv), 'x,y\n1,2\n3,4\n');
  writeFileSync(join(h, VARIED.glob), 'glob-like name\n');
  writeFileSync(join(h, VARIED.secret), 'only me\n', { mode: 0o600 });
  chmodSync(join(h, VARIED.secret), 0o600);
  chmodSync(join(h, 'private'), 0o700);
  writeFileSync(join(h, VARIED.script), '#!/bin/sh\necho hi\n');
  chmodSync(join(h, VARIED.script), 0o755);
  writeFileSync(join(h, VARIED.deep), 'deep\n');
  for (let i = 0; i < 30; i++) writeFileSync(join(h, `notebooks/week${(i % 2) + 1}/nb${i}.ipynb`), `{"cells": [${i}]}\n`);
  symlinkSync('Übung 1 – Lösung.ipynb', join(h, VARIED.relLink));
  symlinkSync(join(h, VARIED.csv), join(h, VARIED.absLink));
  symlinkSync('b/c', join(h, VARIED.dirLink));
  execFileSync('chown', ['-hR', `${u.uid}:${u.gid}`, h]);
}

/** A fresh data dir, state store and engine; the repository is a temp path unless given. */
export async function makeEngine(o: { backup?: ConfigInput['backup']; dataDir?: string; configFile?: string | null; stallSeconds?: number } = {}) {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'labhub-backup-data-'));
  const repository = o.backup?.repository ?? join(mkdtempSync(join(tmpdir(), 'labhub-backup-repo-')), 'repo');
  const config = parseConfig({ dataDir, backup: { ...o.backup, repository } });
  const store = await Store.open(dataDir);
  const service: BackupService = createBackupService({ config, store, log: silentLogger(), configFile: o.configFile ?? null, stallSeconds: o.stallSeconds });
  return {
    dataDir,
    repository,
    store,
    service,
    passwordFile: config.backup.passwordFile || join(dataDir, 'backup-password'),
    addUsers(...users: TestUser[]) {
      for (const u of users) store.data.users[u.name] = { name: u.name, created: new Date().toISOString(), lastActivity: null, admin: false };
    },
    async close() {
      await service.close();
      await store.close();
    },
  };
}

/** Runs restic directly against a repository (to verify, not through the engine). */
export function restic(repository: string, passwordFile: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('restic', ['--no-cache', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD_FILE: passwordFile, LC_ALL: 'C' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Total bytes of a directory tree (the repository's size on disk). */
export function treeBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** Removes temp dirs made by a test, ignoring what is already gone. */
export function removeAll(...paths: Array<string | undefined>): void {
  for (const p of paths) if (p) rmSync(p, { recursive: true, force: true });
}

/** chown a path (and, for a tree, everything below) to the user without following links. */
export function giveTo(u: TestUser, path: string): void {
  if (lstatSync(path).isDirectory()) execFileSync('chown', ['-hR', `${u.uid}:${u.gid}`, path]);
  else if (lstatSync(path).isSymbolicLink()) lchownSync(path, u.uid, u.gid);
  else chownSync(path, u.uid, u.gid);
}
