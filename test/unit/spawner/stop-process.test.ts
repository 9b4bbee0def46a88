/** stopProcessTree on processes of the test's own user (no user switch needed). */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../hub/log.js';
import { descendants, readProcStat, signalProcess, type ProcessIdentity } from '../../../hub/spawner/proc.js';
import { stopProcessTree } from '../../../hub/spawner/stop-process.js';

const fast = { interruptGraceMs: 300, terminateGraceMs: 300, killGraceMs: 2_000 };
const pids: number[] = [];

async function startTree(script: string): Promise<ProcessIdentity> {
  const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  const pid = child.pid as number;
  pids.push(pid);
  const stat = await readProcStat(pid);
  return { pid, startTime: stat?.startTime as number };
}

async function alive(id: ProcessIdentity): Promise<boolean> {
  const s = await readProcStat(id.pid);
  return !!s && s.startTime === id.startTime && s.state !== 'Z';
}

async function goneWithin(id: ProcessIdentity, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    if (!(await alive(id))) return true;
  }
  return !(await alive(id));
}

afterEach(() => {
  for (const pid of pids.splice(0)) signalProcess(-pid, 'SIGKILL');
});

describe('stopProcessTree', () => {
  it('stops a process that honours SIGINT without escalating', async () => {
    const id = await startTree('sleep 30 & wait');
    const t0 = performance.now();
    await stopProcessTree(id, { ...fast, interruptGraceMs: 5_000 }, silentLogger());
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(await alive(id)).toBe(false);
  });

  it('escalates to SIGKILL for the group and kills descendants that left the session', async () => {
    const id = await startTree('trap "" INT TERM; sleep 30 & setsid sleep 30 & wait');
    let kids: Awaited<ReturnType<typeof descendants>> = [];
    for (let i = 0; i < 50 && kids.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      kids = await descendants(id.pid);
    }
    expect(kids).toHaveLength(2);
    const t0 = performance.now();
    await stopProcessTree(id, fast, silentLogger());
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(550);
    expect(ms).toBeLessThan(2_500);
    expect(await alive(id)).toBe(false);
    // SIGKILL is delivered at once but the leftover dies when next scheduled: on a busy machine
    // /proc can still show it running for a moment
    for (const k of kids) expect(await goneWithin(k, 2_000)).toBe(true);
  });

  it('resolves at once for a process that is gone, and never signals a reused pid', async () => {
    const t0 = performance.now();
    await stopProcessTree({ pid: 2 ** 22 + 1, startTime: 1 }, fast, silentLogger());
    const self = (await readProcStat(process.pid))?.startTime as number;
    // this very process, recorded with another start time: must not be touched
    await stopProcessTree({ pid: process.pid, startTime: self + 1 }, fast, silentLogger());
    expect(performance.now() - t0).toBeLessThan(200);
  });
});
