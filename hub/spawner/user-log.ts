/**
 * Per-user server logs: `<logDir>/users/<name>.log`, opened by the hub (root) and handed to the
 * server as stdout and stderr. The directory is 0700 and the files 0600, both owned by root, so a
 * student can neither read another student's log nor swap their own for a symlink; the file is
 * opened with O_APPEND so restarts add to it, and O_NOFOLLOW so a planted symlink is refused.
 */
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isValidUserName } from '../auth/accounts.js';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Path of a user's log file; throws on a name that is not a valid Linux user name. */
export function userLogPath(logDir: string, name: string): string {
  if (!isValidUserName(name)) throw new Error(`invalid user name ${JSON.stringify(name)}`);
  return join(logDir, 'users', `${name}.log`);
}

/**
 * Opens (creating if needed) a user's log for appending and writes a header line. The caller owns
 * the returned handle. Modes are set explicitly with chmod, so the hub's umask does not matter and
 * an existing file or directory with looser modes is tightened.
 */
export async function openUserLog(logDir: string, name: string, header: string): Promise<{ file: fs.FileHandle; path: string }> {
  const path = userLogPath(logDir, name);
  const dir = join(logDir, 'users');
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  await fs.chmod(dir, DIR_MODE);
  const file = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, FILE_MODE);
  try {
    await file.chmod(FILE_MODE);
    await file.write(`${header}\n`);
  } catch (err) {
    await file.close();
    throw err;
  }
  return { file, path };
}

/**
 * The last `count` lines of a file, reading backwards in chunks so a large log costs only what is
 * shown. A missing file gives `[]`; a final newline does not count as an empty last line.
 */
export async function tailLines(path: string, count: number, chunkSize = 16_384): Promise<string[]> {
  if (count <= 0) return [];
  let file: fs.FileHandle;
  try {
    file = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const { size } = await file.stat();
    const chunks: Buffer[] = [];
    let newlines = 0;
    let pos = size;
    // count + 1 newlines guarantee `count` complete lines (the extra one may be the final newline)
    while (pos > 0 && newlines <= count) {
      const len = Math.min(chunkSize, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      const { bytesRead } = await file.read(buf, 0, len, pos);
      const chunk = buf.subarray(0, bytesRead);
      for (const byte of chunk) if (byte === 0x0a) newlines++;
      chunks.unshift(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    // when we stopped mid-file the first piece may be a partial line; the slice drops it
    return lines.slice(-count);
  } finally {
    await file.close();
  }
}
