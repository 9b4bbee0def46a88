import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLogs, logPath, tailLog } from '../../../hub/admin/log-files.js';
import { diskFor, type DiskStats } from '../../../hub/admin/machine-stats.js';
import { parsePasswd } from '../../../hub/admin/passwd-index.js';

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
