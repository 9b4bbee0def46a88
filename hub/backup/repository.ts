/**
 * The repository LabHub backs up into, and the one rule that keeps backups trustworthy: LabHub
 * runs `restic init` only when it has never used a repository (no id in the state) AND restic
 * finds none at the location AND, for a local path, the path is absent or an empty directory that
 * is not on an /etc/fstab disk that is unmounted. From then on it records restic's repository id
 * and every run checks it: a missing repository ("is the backup disk mounted?") or a different one
 * is an error, never a reason to make a new one, because a new repository on the bare mount point
 * would silently hide the real backups.
 *
 * The password lives in a root-only file (default `<dataDir>/backup-password`, 32 random bytes,
 * made at first use); a file others could read is refused rather than used.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, normalize } from 'node:path';
import { HubError } from '../errors.js';
import { classifyFailure, lockHolder, maskRepository, stderrSummary, type Restic, type ResticFailureKind, type ResticResult } from './restic.js';
import { parseConfigId } from './restic-output.js';

/** A restic failure turned into a message an admin can act on. */
export function failureText(kind: ResticFailureKind, r: Pick<ResticResult, 'stderr'>, o: { repository: string; passwordFile: string; binary: string }): string {
  const repo = maskRepository(o.repository);
  switch (kind) {
    case 'wrong-password':
      return `wrong repository password: the password in ${o.passwordFile} does not open the backup repository at ${repo}`;
    case 'no-repository':
      return `backup repository not found at ${repo} — is the backup disk mounted?`;
    case 'disk-full':
      return `the backup disk is full (no space left on device for ${repo}); free space or use a bigger disk — this snapshot was not saved`;
    case 'locked':
      return `the backup repository is locked by another restic (${lockHolder(r.stderr) ?? 'see restic unlock'}); LabHub removes only stale locks — if no restic is running, remove it with "restic unlock --remove-all"`;
    case 'not-installed':
      return `restic is not installed (no program "${o.binary}"); install the Debian package restic`;
    default:
      return `restic failed: ${stderrSummary(r.stderr) || 'no message'}`;
  }
}

/** Free and total bytes (as root may use them) of the file system holding `path` or its nearest existing parent. */
export async function diskSpace(path: string): Promise<{ free: number; total: number } | null> {
  for (let p = path; ; p = dirname(p)) {
    const st = await fs.statfs(p).catch(() => null);
    if (st) return { free: st.bfree * st.bsize, total: st.blocks * st.bsize };
    if (p === dirname(p)) return null;
  }
}

const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;

/**
 * Why a backup was interrupted for making no progress. For a local repository whose disk has less
 * room than the bytes restic had read, "the backup disk may be full" (restic 0.14 can hang instead
 * of failing when a write to the repository fails).
 */
export async function stallText(repository: string, stalled: { seconds: number; bytesDone: number }): Promise<string> {
  const what = `restic made no progress for ${stalled.seconds} s and was stopped (restic 0.14 can hang when it cannot write to the repository)`;
  const local = localPath(repository);
  const space = local ? await diskSpace(local) : null;
  if (!space) return `${what}; is the backup repository ${maskRepository(repository)} reachable?`;
  const where = `${mib(space.free)} free of ${mib(space.total)} on the disk of ${local}`;
  return space.free < Math.max(stalled.bytesDone, 64 * 1048576) ? `the backup disk may be full: ${what}; ${where}` : `${what}; ${where}`;
}

/** Errors that make the whole repository unusable (the run stops; status shows `repositoryError`). */
export function isRepositoryFailure(kind: ResticFailureKind): boolean {
  return kind !== 'other';
}

/** Local repository path, or null for another restic backend (`sftp:`, `rest:`, `s3:` …). */
export function localPath(repository: string): string | null {
  if (repository.startsWith('local:')) return repository.slice('local:'.length);
  return /^[a-z0-9]+:/i.test(repository) ? null : repository;
}

/** Decodes the octal escapes of /etc/fstab and /proc/self/mountinfo (`\040` = space). */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points listed in an fstab text (not swap, not `none`). */
export function parseFstab(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!f[0] || f[0].startsWith('#') || !f[1] || !f[1].startsWith('/')) continue;
    out.push(normalize(unescapeMount(f[1])));
  }
  return out;
}

/** Mount points in a /proc/self/mountinfo text. */
export function parseMountinfo(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((p): p is string => !!p)
      .map(unescapeMount),
  );
}

/** The fstab mount point that holds `path` but is not mounted now (the innermost), or null. */
export function unmountedDiskFor(path: string, fstab: readonly string[], mounted: ReadonlySet<string>): string | null {
  const holders = fstab.filter((m) => m !== '/' && (path === m || path.startsWith(`${m}/`))).sort((a, b) => b.length - a.length);
  return holders.find((m) => !mounted.has(m)) ?? null;
}

/** Where removable and hand-mounted disks go: a repository below these must be on a mounted disk. */
export const REMOVABLE_ROOTS = ['/mnt', '/media', '/run/media'];

/**
 * For a path below /mnt, /media or /run/media that no mounted file system at or below that root
 * holds (the disk is not mounted): the directory the disk is expected at (`/mnt/usb`); else null.
 */
export function unmountedRemovable(path: string, mounted: ReadonlySet<string>): string | null {
  const root = REMOVABLE_ROOTS.find((r) => path.startsWith(`${r}/`));
  if (!root) return null;
  const onDisk = [...mounted].some((m) => (m === root || m.startsWith(`${root}/`)) && (path === m || path.startsWith(`${m}/`)));
  if (onDisk) return null;
  const depth = root === '/run/media' ? 2 : 1; // /run/media/<user>/<disk>
  return `${root}/${path.slice(root.length + 1).split('/').slice(0, depth).join('/')}`;
}

/** Why `restic init` must not run at this local path, or null when it may. */
export async function localInitProblem(path: string, read = (f: string) => fs.readFile(f, 'utf8').catch(() => '')): Promise<string | null> {
  if (!isAbsolute(path) || normalize(path) !== path.replace(/\/+$/, '')) return `the backup repository "${path}" must be an absolute path`;
  const mounted = parseMountinfo(await read('/proc/self/mountinfo'));
  const disk = unmountedDiskFor(path, parseFstab(await read('/etc/fstab')), mounted);
  if (disk) return `the backup repository ${path} is on the disk mounted at ${disk} (in /etc/fstab), which is not mounted; mount it first`;
  const bare = unmountedRemovable(path, mounted);
  if (bare) return `the backup repository ${path} is below ${bare}, which is not a mounted disk; mount the backup disk there first`;
  const st = await fs.lstat(path).catch(() => null);
  if (!st) return null;
  if (!st.isDirectory()) return `${path} exists and is not a directory; LabHub will not create a backup repository there`;
  if ((await fs.readdir(path)).length) return `${path} is not empty and holds no restic repository; LabHub will not create a backup repository there`;
  return null;
}

/**
 * Makes sure the password file is usable: an existing one must be a regular file owned by this
 * user with no group/other permissions; a missing default one is made (0600, 32 random bytes) —
 * unless LabHub has used a repository before, because a new password cannot open old snapshots.
 */
export async function ensurePasswordFile(file: string, o: { isDefault: boolean; repositoryUsed: boolean }): Promise<void> {
  const st = await fs.lstat(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  const unavailable = (msg: string) => new HubError('HUB_ERR_BACKUP_UNAVAILABLE', msg);
  if (st) {
    if (!st.isFile()) throw unavailable(`the backup password file ${file} is not a regular file`);
    if (st.uid !== (process.getuid?.() ?? st.uid)) throw unavailable(`the backup password file ${file} belongs to uid ${st.uid}, not to the user LabHub runs as`);
    if (st.mode & 0o077) {
      throw unavailable(`the backup password file ${file} can be read by others (mode ${(st.mode & 0o777).toString(8)}); make it private with: chmod 600 ${file}`);
    }
    if (st.size === 0) throw unavailable(`the backup password file ${file} is empty`);
    return;
  }
  if (!o.isDefault) throw unavailable(`the backup password file ${file} (backup.passwordFile) does not exist`);
  if (o.repositoryUsed) {
    throw unavailable(`the backup password file ${file} is missing, but LabHub has used a backup repository before; put the saved copy of the password file back (a new password cannot open the existing snapshots)`);
  }
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const handle = await fs.open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(32).toString('base64')}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What opening the repository found. */
export interface OpenedRepository {
  id: string;
  initialised: boolean;
}

/**
 * Opens the repository (`restic cat config`) and checks its id against `knownId`; initialises one
 * only under the rule above (and only when `allowInit`: a check never creates one). Throws HUB_ERR_BACKUP_UNAVAILABLE with the reason otherwise.
 */
export async function openRepository(restic: Restic, knownId: string | null, allowInit = true): Promise<OpenedRepository> {
  const o = { ...restic.options };
  const fail = (kind: ResticFailureKind, r: Pick<ResticResult, 'stderr'>) => new HubError('HUB_ERR_BACKUP_UNAVAILABLE', failureText(kind, r, o));
  const catConfig = async () => {
    const r = await restic.run(['cat', 'config', '--no-lock']).catch((e: NodeJS.ErrnoException) => {
      throw fail(classifyFailure('', e.code), { stderr: '' });
    });
    return { r, id: r.code === 0 ? parseConfigId(r.stdout) : null };
  };
  const first = await catConfig();
  if (first.id) {
    if (knownId && first.id !== knownId) {
      throw new HubError(
        'HUB_ERR_BACKUP_UNAVAILABLE',
        `the repository at ${maskRepository(o.repository)} is not the one LabHub has been backing up into (its id is ${first.id.slice(0, 10)}, LabHub's is ${knownId.slice(0, 10)}) — is the right backup disk mounted?`,
      );
    }
    return { id: first.id, initialised: false };
  }
  const kind = classifyFailure(first.r.stderr);
  if (kind !== 'no-repository' || knownId) throw fail(kind, first.r);
  if (!allowInit) throw new HubError('HUB_ERR_BACKUP_UNAVAILABLE', `there is no backup repository at ${maskRepository(o.repository)} yet; the first backup run creates it`);
  const local = localPath(o.repository);
  const problem = local === null ? null : await localInitProblem(local);
  if (problem) throw new HubError('HUB_ERR_BACKUP_UNAVAILABLE', problem);
  const init = await restic.run(['init']);
  if (init.code !== 0) throw fail(classifyFailure(init.stderr), init);
  const again = await catConfig();
  if (!again.id) throw fail(classifyFailure(again.r.stderr), again.r);
  return { id: again.id, initialised: true };
}
