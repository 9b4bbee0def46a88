import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HomeUsage } from '../../../hub/admin/home-usage.js';
import { listLogs, logPath, tailLog } from '../../../hub/admin/log-files.js';
import { diskFor, type DiskStats } from '../../../hub/admin/machine-stats.js';
import { parsePasswd } from '../../../hub/admin/passwd-index.js';
import { silentLogger } from '../../../hub/log.js';

describe('log files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'labhub-logs-'));
  mkdirSync(join(dir, 'users'));
  writeFileSync(join(dir, 'hub.log'), Array.from({ length: 1000 }, (_, i) => `{"msg":"line ${i}"${i % 100 === 0 ? ',"level":"error"' : ''}}`).join('\n') + '\n');
  writeFileSync(join(dir, 'users', 'alice.log'), 'started\nKernel died\n');
  writeFileSync(join(dir, 'users', 'not a user.log'), 'x\n');

  it('maps only known ids to files inside the log dir', () => {
    expect(logPath(dir, 'hub')).toBe(join(dir, 'hub.log'));
    expect(logPath(dir, 'users/alice')).toBe(join(dir, 'users', 'alice.log'));
    for (const bad of ['users/../hub', 'users/', '../hub', 'users/a/b', 'state']) expect(logPath(dir, bad)).toBeNull();
  });

  it('lists existing logs, hub first, then students by name', async () => {
    expect((await listLogs(dir)).map((l) => l.id)).toEqual(['hub', 'users/alice']);
  });

  it('tails the last lines and searches case-insensitively', async () => {
    const t = (await tailLog(dir, 'hub', 3))!;
    expect(t.lines).toEqual(['{"msg":"line 997"}', '{"msg":"line 998"}', '{"msg":"line 999"}']);
    expect(t.truncated).toBe(true);
    const errors = (await tailLog(dir, 'hub', 100, 'ERROR'))!;
    expect(errors.lines).toHaveLength(10);
    expect(errors.truncated).toBe(false);
    expect((await tailLog(dir, 'users/alice', 10, 'kernel'))!.lines).toEqual(['Kernel died']);
    expect(await tailLog(dir, 'proxy', 10)).toBeNull();
  });
});

describe('passwd and disks', () => {
  it('parses getent passwd, taking the full name from GECOS', () => {
    const m = parsePasswd('root:x:0:0:root:/root:/bin/bash\nada:x:1001:1001:Ada Lovelace,Room 1,,:/home/ada:/bin/bash\nbroken\n');
    expect(m.get('ada')).toEqual({ name: 'ada', uid: 1001, gid: 1001, fullName: 'Ada Lovelace', home: '/home/ada' });
    expect(m.size).toBe(2);
  });

  it('finds the filesystem holding a path by the longest mount prefix', () => {
    const d = (mount: string) => ({ mount, fs: mount, size: 1, used: 0, available: 1, percent: 0 }) as DiskStats;
    const disks = [d('/'), d('/home'), d('/homework')];
    expect(diskFor(disks, '/home')!.mount).toBe('/home');
    expect(diskFor(disks, '/home/ada')!.mount).toBe('/home');
    expect(diskFor(disks, '/var')!.mount).toBe('/');
    expect(diskFor([], '/home')).toBeNull();
  });
});

describe('HomeUsage', () => {
  it('measures every home one at a time, forgets removed users and coalesces refreshes', async () => {
    let homes = new Map([
      ['ada', '/home/ada'],
      ['bob', '/home/bob'],
    ]);
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const usage = new HomeUsage({
      log: silentLogger(),
      homes: async () => homes,
      intervalMs: 0,
      measure: async (path) => {
        calls++;
        maxRunning = Math.max(maxRunning, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (path === '/home/bob') throw new Error('unreadable');
        return path.length;
      },
    });
    await usage.refresh();
    expect(usage.get('ada')!.bytes).toBe('/home/ada'.length);
    expect(usage.get('bob')).toBeUndefined();
    expect(maxRunning).toBe(1);
    homes = new Map([['cy', '/home/cy']]);
    calls = 0;
    const a = usage.refresh();
    const b = usage.refresh();
    await a;
    await b;
    await new Promise((r) => setTimeout(r, 50));
    expect(usage.get('ada')).toBeUndefined();
    expect(usage.get('cy')!.bytes).toBe(8);
    expect(calls).toBe(2);
    await usage.close();
  });
});
