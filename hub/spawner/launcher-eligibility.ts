/**
 * Whether a spawn may go through the pre-warmed launcher, and why not when it may not: the
 * launcher can only stand in for the standard `jupyterhub-singleuser` entry point of the Python it
 * runs, and it can join cgroups directory by directory but not create a systemd scope. Anything
 * else starts cold, with the reason in the spawn's progress.
 */
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import type { PreparedLaunch } from './server-limits.js';

const ENTRY_POINT = 'jupyterhub-singleuser';

/** The `#!` interpreter of a script, as written; null when the file has none. */
async function shebangInterpreter(file: string): Promise<string | null> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const first = buf.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
    if (!first.startsWith('#!')) return null;
    return first.slice(2).trim().split(/\s+/)[0] || null;
  } finally {
    await handle.close();
  }
}

/**
 * Null when `executable` (the resolved `spawner.cmd[0]`) is the jupyterhub-singleuser script of
 * `python`, root-owned and writable by root only; else the reason, for the spawn progress.
 */
export async function entryPointProblem(executable: string, python: string): Promise<string | null> {
  if (basename(executable) !== ENTRY_POINT) return `spawner.cmd runs ${executable}, not the ${ENTRY_POINT} entry point`;
  try {
    const st = await fs.stat(executable);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return `${executable} may be changed by users other than root`;
    const interpreter = await shebangInterpreter(executable);
    if (!interpreter) return `${executable} is not a Python script`;
    const [a, b] = await Promise.all([fs.realpath(interpreter), fs.realpath(python)]);
    if (a !== b) return `${executable} runs ${interpreter}, not the launcher's ${python}`;
    return null;
  } catch (err) {
    return `cannot read ${executable}: ${(err as Error).message}`;
  }
}

/**
 * The `cgroup.procs` files a launched child must join, read from the limiter's prepared launch
 * (`command` is the setpriv argv it wrapped); or the reason the launcher cannot do the same.
 */
export function cgroupProcsOf(launch: PreparedLaunch, command: readonly string[]): { procs: string[] } | { problem: string } {
  const argv = launch.argv;
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (same(argv, command)) return { procs: [] };
  // joinCgroupsArgv: ['/bin/sh', '-c', script, 'sh', ...procsFiles, '--', ...command]
  if (argv[0] === '/bin/sh' && argv[1] === '-c' && argv[3] === 'sh') {
    const end = argv.indexOf('--', 4);
    const procs = argv.slice(4, end);
    if (end > 4 && same(argv.slice(end + 1), command) && procs.every((p) => p.startsWith('/') && p.endsWith('/cgroup.procs'))) return { procs };
  }
  if (argv[0] && basename(argv[0]) === 'systemd-run') return { problem: 'memory and CPU limits are applied through a systemd scope' };
  return { problem: 'the memory and CPU limits need a launch wrapper the launcher does not know' };
}
