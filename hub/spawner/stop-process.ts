/**
 * Stopping a server process the way JupyterHub's LocalProcessSpawner does (SIGINT, grace, SIGTERM,
 * 5 s, SIGKILL), plus what it leaves behind: the SIGKILL goes to the whole process group, and
 * descendants that moved to sessions of their own (Jupyter kernels, terminals) are collected while
 * the server is alive and killed if they outlive it. Only the recorded process is ever signalled:
 * every pid is checked against its start time first, so a reused pid is never touched.
 */
import type { Logger } from '../log.js';
import { descendants, liveness, readProcStat, signalProcess, type ProcessIdentity } from './proc.js';

export interface StopTimings {
  /** After SIGINT, before SIGTERM. */
  interruptGraceMs: number;
  /** After SIGTERM, before SIGKILL. */
  terminateGraceMs: number;
  /** After SIGKILL, before giving up. */
  killGraceMs: number;
}

const POLL_MS = 100;

async function isAlive(id: ProcessIdentity): Promise<boolean> {
  return (await liveness(id)) === 'running';
}

/** Waits until the process is gone (or a zombie); true if it went within `ms`. */
async function waitGone(id: ProcessIdentity, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!(await isAlive(id))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}

/** Adds the current descendants of `root` to `known` (keyed by pid, with start times). */
async function collectDescendants(root: ProcessIdentity, known: Map<number, ProcessIdentity>): Promise<void> {
  if (!(await isAlive(root))) return;
  for (const p of await descendants(root.pid)) known.set(p.pid, { pid: p.pid, startTime: p.startTime });
}

/** Signals `id` only if it is still the same process. */
async function signalIfSame(id: ProcessIdentity, signal: NodeJS.Signals): Promise<boolean> {
  const stat = await readProcStat(id.pid);
  if (!stat || stat.startTime !== id.startTime) return false;
  return signalProcess(id.pid, signal);
}

/**
 * Stops the process `id` and everything it started. Resolves once the process is gone (at once if
 * it already was); throws if it is still there after SIGKILL and the kill grace (a process stuck
 * in uninterruptible sleep).
 */
export async function stopProcessTree(id: ProcessIdentity, timings: StopTimings, log: Logger): Promise<void> {
  if (!(await isAlive(id))) return;
  const tree = new Map<number, ProcessIdentity>();
  await collectDescendants(id, tree);

  let gone = false;
  if (await signalIfSame(id, 'SIGINT')) gone = await waitGone(id, timings.interruptGraceMs);
  else gone = true;

  if (!gone) {
    await collectDescendants(id, tree);
    log.warn({ pid: id.pid }, 'server did not stop after SIGINT; sending SIGTERM');
    if (await signalIfSame(id, 'SIGTERM')) gone = await waitGone(id, timings.terminateGraceMs);
    else gone = true;
  }

  if (!gone) {
    await collectDescendants(id, tree);
    log.warn({ pid: id.pid }, 'server did not stop after SIGTERM; sending SIGKILL to its process group');
    // the group id equals the pid (the server was started in its own session); the group can
    // only still exist under this id while the leader, checked just before, is ours
    if (await isAlive(id)) signalProcess(-id.pid, 'SIGKILL');
    gone = await waitGone(id, timings.killGraceMs);
  }

  let leftovers = 0;
  for (const child of tree.values()) if (await signalIfSame(child, 'SIGKILL')) leftovers++;
  if (leftovers) log.info({ pid: id.pid, leftovers }, 'killed processes the server left behind');

  if (!gone) throw new Error(`server process ${id.pid} is still there after SIGKILL`);
}
