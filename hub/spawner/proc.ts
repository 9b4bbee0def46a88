/**
 * Reading processes from /proc (Linux only). A pid alone is not an identity: after a hub restart
 * the number may belong to another process, so every check pairs it with the start time
 * (field 22 of /proc/<pid>/stat, clock ticks since boot), which never changes for a process.
 * See proc(5).
 */
import { readFile, readdir } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, t, X, I … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Field 22: start time in clock ticks after boot. */
  startTime: number;
}

/** A process as recorded by a spawner: pid plus start time. */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}

/**
 * Parses one /proc/<pid>/stat line. The command name (field 2) is in parentheses and may itself
 * hold spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(line: string): ProcStat | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(line.slice(0, open).trim());
  // rest[0] is field 3 (state), so field n is rest[n - 3]
  const rest = line.slice(close + 2).trim().split(/\s+/);
  if (rest.length < 20) return null;
  const num = (field: number) => Number(rest[field - 3]);
  const stat: ProcStat = {
    pid,
    state: rest[0] ?? '',
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    startTime: num(22),
  };
  if (![stat.pid, stat.ppid, stat.pgrp, stat.session, stat.startTime].every(Number.isSafeInteger)) return null;
  return stat;
}

/** The stat of a live (or zombie) process; null when there is no such pid. */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

export type Liveness = 'running' | 'zombie' | 'gone' | 'reused';

/**
 * What became of a recorded process: still `running`, exited but not yet reaped (`zombie`),
 * `gone`, or its pid now belongs to another process (`reused`).
 */
export async function liveness(id: ProcessIdentity): Promise<Liveness> {
  const stat = await readProcStat(id.pid);
  if (!stat) return 'gone';
  if (stat.startTime !== id.startTime) return 'reused';
  if (stat.state === 'Z' || stat.state === 'X') return 'zombie';
  return 'running';
}

/** Every process on the machine (one /proc scan). Processes that vanish during the scan are skipped. */
export async function listProcesses(): Promise<ProcStat[]> {
  const names = await readdir('/proc');
  const stats = await Promise.all(names.filter((n) => /^\d+$/.test(n)).map((n) => readProcStat(Number(n))));
  return stats.filter((s): s is ProcStat => s !== null);
}

/**
 * All descendants of a process (children, grandchildren, …), whatever session or process group
 * they moved to: Jupyter starts each kernel in a session of its own (jupyter_client's
 * `start_new_session=True`), so killing the server's process group does not reach kernels.
 * Orphans that were already re-parented to init cannot be found this way; take this snapshot
 * while the root is still alive.
 */
export async function descendants(rootPid: number, all?: ProcStat[]): Promise<ProcStat[]> {
  const procs = all ?? (await listProcesses());
  const byParent = new Map<number, ProcStat[]>();
  for (const p of procs) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const found: ProcStat[] = [];
  const queue = [rootPid];
  const seen = new Set<number>(queue);
  while (queue.length) {
    const pid = queue.shift() as number;
    for (const child of byParent.get(pid) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Sends a signal; false when the target does not exist (ESRCH). Other errors are thrown. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
