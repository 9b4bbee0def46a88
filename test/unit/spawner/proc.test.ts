import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { descendants, liveness, parseProcStat, readProcStat, signalProcess } from '../../../hub/spawner/proc.js';

const fields = (comm: string) =>
  `4242 (${comm}) S 1 4242 4242 0 -1 4194560 1000 0 0 0 5 3 0 0 20 0 1 0 987654 12345678 900 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0`;

describe('parseProcStat', () => {
  it('reads state, ppid, pgrp, session and the start time (field 22)', () => {
    expect(parseProcStat(fields('python3'))).toEqual({ pid: 4242, state: 'S', ppid: 1, pgrp: 4242, session: 4242, startTime: 987654 });
  });

  it('counts fields after the last parenthesis, so a command name with spaces and ")" cannot shift them', () => {
    expect(parseProcStat(fields('evil) R 1 2 3 (x'))?.startTime).toBe(987654);
    expect(parseProcStat(fields('a b c'))?.state).toBe('S');
  });

  it('rejects lines that are not stat lines', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12 (x) S 1 2')).toBeNull();
  });
});

describe('reading /proc', () => {
  it('gives this process a stable start time and tells live, dead and reused apart', async () => {
    const self = await readProcStat(process.pid);
    expect(self?.pid).toBe(process.pid);
    expect((await readProcStat(process.pid))?.startTime).toBe(self?.startTime);
    const id = { pid: process.pid, startTime: self?.startTime as number };
    expect(await liveness(id)).toBe('running');
    expect(await liveness({ ...id, startTime: id.startTime + 1 })).toBe('reused');
    expect(await liveness({ pid: 2 ** 22 + 1, startTime: 0 })).toBe('gone');
  });

  it('sees a process that exited but was not reaped as a zombie', async () => {
    // `sleep 0` exits at once, but its parent exec'd into `sleep 5`, which never reaps it
    const child = spawn('/bin/sh', ['-c', 'sleep 0 & exec sleep 5'], { stdio: 'ignore', detached: true });
    const pid = child.pid as number;
    try {
      let zombie: Awaited<ReturnType<typeof descendants>>[number] | undefined;
      for (let i = 0; i < 50 && !zombie; i++) {
        await new Promise((r) => setTimeout(r, 50));
        zombie = (await descendants(pid)).find((p) => p.state === 'Z');
      }
      expect(zombie).toBeDefined();
      expect(await liveness({ pid: zombie!.pid, startTime: zombie!.startTime })).toBe('zombie');
    } finally {
      signalProcess(-pid, 'SIGKILL');
    }
  });

  it('finds descendants in other sessions and process groups', async () => {
    const child = spawn('/bin/sh', ['-c', 'sleep 30 & setsid sleep 30 & wait'], { stdio: 'ignore', detached: true });
    const pid = child.pid as number;
    try {
      let found: Awaited<ReturnType<typeof descendants>> = [];
      for (let i = 0; i < 50 && found.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        found = await descendants(pid);
      }
      expect(found).toHaveLength(2);
      expect(found.some((p) => p.session === pid)).toBe(true);
      expect(found.some((p) => p.session !== pid)).toBe(true);
      for (const p of found) signalProcess(p.pid, 'SIGKILL');
    } finally {
      signalProcess(-pid, 'SIGKILL');
    }
    expect(signalProcess(2 ** 22 + 1, 'SIGTERM')).toBe(false);
  });
});
