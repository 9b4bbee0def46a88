/**
 * The logs the admin GUI can show: the hub's and the proxy's JSON-lines logs and each student's
 * server log, all under `logDir`. Tail and search read at most the last 8 MB of a file, so even a
 * huge log answers at once.
 */
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isValidUserName } from '../auth/accounts.js';
import { userLogPath } from '../spawner/user-log.js';

export interface LogFileInfo {
  id: string;
  size: number;
  modified: string;
}

export interface LogTail {
  id: string;
  lines: string[];
  size: number;
  /** True when older lines exist that were not searched or shown. */
  truncated: boolean;
}

const MAX_READ = 8 * 1024 * 1024;

/** The file behind a log id (`hub`, `proxy`, `users/<name>`), or null for anything else. */
export function logPath(logDir: string, id: string): string | null {
  if (id === 'hub' || id === 'proxy') return join(logDir, `${id}.log`);
  const m = /^users\/(.+)$/.exec(id);
  if (m && isValidUserName(m[1]!)) return userLogPath(logDir, m[1]!);
  return null;
}

async function info(id: string, path: string): Promise<LogFileInfo | null> {
  try {
    const st = await fs.stat(path);
    return st.isFile() ? { id, size: st.size, modified: st.mtime.toISOString() } : null;
  } catch {
    return null;
  }
}

/** Every log that exists: hub, proxy, then students' server logs by name. */
export async function listLogs(logDir: string): Promise<LogFileInfo[]> {
  const out: LogFileInfo[] = [];
  for (const id of ['hub', 'proxy']) {
    const i = await info(id, logPath(logDir, id)!);
    if (i) out.push(i);
  }
  let names: string[] = [];
  try {
    names = await fs.readdir(join(logDir, 'users'));
  } catch {
    /* no student has started a server yet */
  }
  for (const file of names.sort()) {
    const name = file.endsWith('.log') ? file.slice(0, -4) : '';
    if (!isValidUserName(name)) continue;
    const i = await info(`users/${name}`, userLogPath(logDir, name));
    if (i) out.push(i);
  }
  return out;
}

/** The last `count` lines of a log, keeping only lines containing `query` (case-insensitive). */
export async function tailLog(logDir: string, id: string, count: number, query = ''): Promise<LogTail | null> {
  const path = logPath(logDir, id);
  if (!path) return null;
  let file: fs.FileHandle;
  try {
    file = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const { size } = await file.stat();
    const len = Math.min(size, MAX_READ);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await file.read(buf, 0, len, size - len);
    let lines = buf.subarray(0, bytesRead).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    // a read that started mid-file begins with a partial line
    if (len < size) lines.shift();
    const q = query.trim().toLowerCase();
    if (q) lines = lines.filter((l) => l.toLowerCase().includes(q));
    const truncated = len < size || lines.length > count;
    return { id, lines: lines.slice(-count), size, truncated };
  } finally {
    await file.close();
  }
}
