/**
 * Home directories of removed accounts: archive (a verified tarball) or delete. Both work only
 * on a path that `safeHome` accepts, because a wrong path here is unrecoverable: a home is only
 * touched when it is a real directory strictly below /home, reached without symlinks, owned by the
 * account being removed.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { HubError } from '../errors.js';
import { commandError, type CommandRunner } from './run-command.js';

/** Where useradd puts homes (its default); the only place a home is ever deleted from. */
export const HOME_ROOT = '/home';

/** The part of an account these functions need. */
export interface HomeOwner {
  name: string;
  uid: number;
  home: string;
}

/** True when anything (file, directory, dangling symlink) is at the path. */
export function pathTaken(path: string): Promise<boolean> {
  return fs.lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The home as a path safe to archive or delete, or null when nothing is there. Refused: a path that
 * is not absolute and normal, not strictly below /home, a symlink or below one, not a directory,
 * or not owned by the account.
 */
export async function safeHome(acct: HomeOwner): Promise<string | null> {
  const home = acct.home;
  const refuse = (why: string) => new HubError('HUB_ERR_ACCOUNT_PROTECTED', `Refusing to touch the home "${home}" of ${acct.name}: ${why}.`);
  if (!isAbsolute(home) || resolve(home) !== home || home === '/') throw refuse('it is not a plain absolute path');
  if (!home.startsWith(`${HOME_ROOT}/`)) throw refuse(`it is not under ${HOME_ROOT}`);
  const real = await fs.realpath(home).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  if (real === null) {
    if (await pathTaken(home)) throw refuse('it is a dangling symbolic link');
    return null;
  }
  if (real !== home) throw refuse(`it leads to ${real} (a symbolic link)`);
  const st = await fs.lstat(real);
  if (!st.isDirectory()) throw refuse('it is not a directory');
  if (st.uid !== acct.uid) throw refuse(`it belongs to uid ${st.uid}, not to uid ${acct.uid}`);
  return real;
}

/**
 * Writes `<dataDir>/archive/<name>-<UTC time>.tar.gz` (directory 0700, file 0600; numeric owners,
 * modes kept) and checks that tar can read it back. Null when there is no home. The home is untouched.
 */
export async function archiveHome(run: CommandRunner, acct: HomeOwner, dataDir: string): Promise<string | null> {
  const home = await safeHome(acct);
  if (!home) return null;
  const dir = join(dataDir, 'archive');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  let file = join(dir, `${acct.name}-${stamp}.tar.gz`);
  for (let i = 2; await pathTaken(file); i++) file = join(dir, `${acct.name}-${stamp}-${i}.tar.gz`);
  // made 0600 before tar writes a byte into it
  await (await fs.open(file, 'wx', 0o600)).close();
  try {
    const args = ['--create', '--gzip', '--numeric-owner', '--one-file-system', '--file', file, '--directory', dirname(home), '--', basename(home)];
    const tar = await run('tar', args);
    if (tar.code !== 0) throw commandError('tar', tar);
    const list = await run('tar', ['--list', '--gzip', '--file', file]);
    if (list.code !== 0) throw commandError('tar --list', list);
    if (!list.stdout.startsWith(`${basename(home)}/`)) throw new HubError('HUB_ERR_ACCOUNT_COMMAND', `The archive ${file} does not hold ${home}.`);
    await fs.chmod(file, 0o600);
    return file;
  } catch (err) {
    await fs.rm(file, { force: true });
    throw err;
  }
}

/** Deletes the home (see safeHome for what is refused); false when there was none. */
export async function deleteHome(run: CommandRunner, acct: HomeOwner): Promise<boolean> {
  const home = await safeHome(acct);
  if (!home) return false;
  const r = await run('rm', ['-r', '-f', '--one-file-system', '--preserve-root=all', '--', home]);
  if (r.code !== 0) throw commandError('rm', r);
  if (await pathTaken(home)) throw new HubError('HUB_ERR_ACCOUNT_COMMAND', `${home} is still there after rm.`);
  return true;
}
