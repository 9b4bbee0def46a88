/**
 * Restores into a home safely. The hub is root and the home belongs to the student, who could
 * rename folders or plant symbolic links while root writes there. So:
 *
 * - restic restores into a folder root creates in the home (0700, root-owned) and then holds open:
 *   every later step goes through `/proc/<pid>/fd/<n>`, which stays on that folder even if the
 *   student renames it and puts a symbolic link in its place;
 * - the restored tree is moved up inside that folder (same layout as in the home), handed to the
 *   student with lchown (never following a link), set-uid/gid bits dropped, and only then is the
 *   folder itself given to the student (0700);
 * - an in-place restore copies from there into the home AS THE STUDENT (`setpriv` + `cp -a`), so
 *   a link planted in the home can never make root write outside it.
 *
 * Side restores go to `~/restored-<UTC time>/` and never overwrite anything.
 */
import { constants, promises as fs } from 'node:fs';
import { HubError } from '../errors.js';
import { runCommand, type CommandRunner } from '../accounts/run-command.js';
import { RESTORE_STAGING_PREFIX, restoreArgs } from './restic-args.js';
import type { Restic } from './restic.js';
import { inHome, restoredDirName } from './restore-paths.js';
import { runOrThrow, type UserSnapshot } from './snapshots.js';

/** The account restored into: its current home, already checked with safeHome. */
export interface RestoreAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** What a restore wrote. */
export interface RestoreOutcome {
  target: string;
  files: number;
  bytes: number;
}

const STAGING = '.staging';

const join = (...parts: Array<Buffer | string>): Buffer => Buffer.concat(parts.flatMap((p, i) => (i ? [Buffer.from('/'), Buffer.from(p)] : [Buffer.from(p)])));

/** Creates `<home>/<name>` (or `<name>-2` …) as root 0700; returns its path. */
async function makeRootDir(home: string, name: string): Promise<string> {
  for (let i = 1; i <= 20; i++) {
    const path = `${home}/${i === 1 ? name : `${name}-${i}`}`;
    try {
      await fs.mkdir(path, { mode: 0o700 });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new HubError('HUB_ERR_BAD_REQUEST', `Too many folders named ${name} in ${home}; remove some and try again.`);
}

/** Hands everything below `root` to uid:gid without following links; counts files and bytes. */
async function adopt(root: Buffer, uid: number, gid: number): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const dirs = [root];
  while (dirs.length) {
    const dir = dirs.pop()!;
    for (const name of await fs.readdir(dir, { encoding: 'buffer' })) {
      const p = join(dir, name);
      const st = await fs.lstat(p);
      await fs.lchown(p, uid, gid);
      if (st.isDirectory()) dirs.push(p);
      else if (st.isFile()) {
        files++;
        bytes += st.size;
        if (st.mode & 0o6000) await fs.chmod(p, st.mode & 0o1777);
      }
    }
  }
  return { files, bytes };
}

/**
 * Restores `rel` of `snap` into a new root-only folder `<home>/<name>`, laid out as in the home,
 * owned by the student (folder mode 0700) when this resolves.
 */
export async function stageRestore(restic: Restic, snap: UserSnapshot, rel: string, acct: RestoreAccount, name: string): Promise<RestoreOutcome> {
  const target = await makeRootDir(acct.home, name);
  const handle = await fs.open(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  const pinned = `/proc/${process.pid}/fd/${handle.fd}`;
  const st = await handle.stat();
  let done = false;
  try {
    if (st.uid !== process.getuid?.() || !st.isDirectory() || (await fs.readdir(pinned)).length) {
      throw new HubError('HUB_ERR_BAD_REQUEST', `${target} changed while the restore began; try again.`);
    }
    await runOrThrow(restic, restoreArgs(snap.id, `${pinned}/${STAGING}`, inHome(snap.home, rel)));
    const source = Buffer.from(`${pinned}/${STAGING}${snap.home}`);
    const restored = await fs.readdir(source, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
    if (!restored.length) throw new HubError('HUB_ERR_NOT_FOUND', `There is no ${rel} in this snapshot.`);
    for (const child of restored) await fs.rename(join(source, child), join(pinned, child));
    await fs.rm(`${pinned}/${STAGING}`, { recursive: true, force: true });
    const counted = await adopt(Buffer.from(pinned), acct.uid, acct.gid);
    await handle.chown(acct.uid, acct.gid);
    await handle.chmod(0o700);
    done = true;
    return { target, ...counted };
  } finally {
    if (!done) await discard(target, pinned, st);
    await handle.close();
  }
}

/** Empties the pinned folder and removes it if it is still at `path`. */
async function discard(path: string, pinned: string, self: { dev: number; ino: number }): Promise<void> {
  for (const name of await fs.readdir(pinned, { encoding: 'buffer' }).catch(() => [] as Buffer[])) {
    await fs.rm(join(Buffer.from(pinned), name), { recursive: true, force: true });
  }
  const there = await fs.lstat(path).catch(() => null);
  if (there && self.dev === there.dev && self.ino === there.ino) await fs.rmdir(path).catch(() => undefined);
}

/** Restores into `~/restored-<UTC time>/` (never overwriting anything). */
export function restoreSide(restic: Restic, snap: UserSnapshot, rel: string, acct: RestoreAccount, now: Date): Promise<RestoreOutcome> {
  return stageRestore(restic, snap, rel, acct, restoredDirName(now));
}

/** Runs a command as the student (their uid, gid and groups; no new privileges). */
export async function asUser(acct: RestoreAccount, cmd: string, args: readonly string[], run: CommandRunner = runCommand): Promise<void> {
  const r = await run('setpriv', ['--reuid', String(acct.uid), '--regid', String(acct.gid), '--init-groups', '--no-new-privs', '--', cmd, ...args]);
  if (r.code !== 0) throw new HubError('HUB_ERR_BACKUP_FAILED', `${cmd} as ${acct.name} failed: ${(r.stderr.trim() || `exit code ${r.code}`).slice(0, 600)}`);
}

/**
 * Restores in place: stages like a side restore, then (as the student) removes the `conflicts`,
 * copies the staged tree over the home and removes the staging folder.
 */
export async function restoreInPlace(restic: Restic, snap: UserSnapshot, rel: string, acct: RestoreAccount, conflicts: readonly string[], now: Date): Promise<RestoreOutcome> {
  const staged = await stageRestore(restic, snap, rel, acct, `${RESTORE_STAGING_PREFIX}${restoredDirName(now).slice('restored-'.length)}`);
  try {
    if (conflicts.length) await asUser(acct, 'rm', ['-rf', '--', ...conflicts.map((c) => `${acct.home}${c}`)]);
    // find hands cp the names as bytes (any file name), cp copies each top entry into the home
    await asUser(acct, 'find', [staged.target, '-mindepth', '1', '-maxdepth', '1', '-exec', 'cp', '-a', '--remove-destination', '-t', acct.home, '--', '{}', '+']);
  } finally {
    await asUser(acct, 'rm', ['-rf', '--', staged.target]).catch(() => undefined);
  }
  return { target: acct.home, files: staged.files, bytes: staged.bytes };
}
