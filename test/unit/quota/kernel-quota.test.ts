import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectDiskMode, parseRepquota, parseRepquotaCsv, parseXfsReport, parseXfsState, setUserLimits, type Runner } from '../../../hub/quota/kernel-quota.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/quota/${name}`, import.meta.url), 'utf8');

describe('quota report parsers (recorded-format fixtures, not captured on a quota kernel)', () => {
  it('parses repquota -up', () => {
    const rows = parseRepquota(fixture('repquota-up.txt'));
    expect(rows.map((r) => r.user)).toEqual(['root', 'alice', 'bob', 'carol', '1005']);
    expect(rows[1]).toEqual({ user: 'alice', usedBytes: 102400 * 1024, softBytes: 2 * 2 ** 30, hardBytes: 4 * 2 ** 30 });
    expect(rows[2]!.usedBytes).toBe(2500000 * 1024);
  });
  it('parses repquota -O csv by column names', () => {
    const rows = parseRepquotaCsv(fixture('repquota-csv.txt'));
    expect(rows).toHaveLength(3);
    expect(rows[2]).toEqual({ user: 'bob', usedBytes: 2500000 * 1024, softBytes: 2097152 * 1024, hardBytes: 4194304 * 1024 });
  });
  it('parses xfs_quota report -u -b -N', () => {
    const rows = parseXfsReport(fixture('xfs-report-ubn.txt'));
    expect(rows.map((r) => r.user)).toEqual(['root', 'alice', 'bob', '1005']);
    expect(rows[1]).toEqual({ user: 'alice', usedBytes: 102400 * 1024, softBytes: 2097152 * 1024, hardBytes: 4194304 * 1024 });
  });
  it('reads the XFS user quota state', () => {
    expect(parseXfsState(fixture('xfs-state-on.txt'))).toEqual({ accounting: true, enforcement: true });
    expect(parseXfsState(fixture('xfs-state-off.txt'))).toEqual({ accounting: false, enforcement: false });
  });
});

/** A runner answering from a table; records every call. */
function fakeRunner(answers: Record<string, string | Error>): Runner & { calls: string[][] } {
  const calls: string[][] = [];
  const run = (async (cmd: string, args: readonly string[]) => {
    calls.push([cmd, ...args]);
    const a = answers[cmd];
    if (a === undefined) throw new Error(`${cmd}: not installed`);
    if (a instanceof Error) throw a;
    return a;
  }) as Runner & { calls: string[][] };
  run.calls = calls;
  return run;
}

describe('disk mode detection', () => {
  it('falls back to monitored with "quota tools not installed" (recorded commands)', async () => {
    const m = await detectDiskMode('auto', '/home', fakeRunner({ findmnt: '/ /dev/vda ext4\n' }));
    expect(m.inForce).toBe('monitored');
    expect(m.reason).toMatch(/quota tools not installed/);
  });
  it('says why "enforced" is not in force when the filesystem has no user quotas', async () => {
    const m = await detectDiskMode('enforced', '/home', fakeRunner({ findmnt: '/ /dev/vda ext4\n', quotaon: 'user quota on / (/dev/vda) is off\n' }));
    expect(m).toMatchObject({ inForce: 'monitored' });
    expect(m.reason).toMatch(/"enforced" but kernel quotas cannot be used: the filesystem of \/home \(ext4 on \/dev\/vda\) has no user quotas enabled/);
  });
  it('is enforced when quotaon reports user quota on', async () => {
    const m = await detectDiskMode('auto', '/home', fakeRunner({ findmnt: '/home /dev/sdb1 ext4\n', quotaon: 'user quota on /home (/dev/sdb1) is on\n' }));
    expect(m.inForce).toBe('enforced');
    expect(m.filesystem).toEqual({ mount: '/home', source: '/dev/sdb1', type: 'ext4' });
  });
  it('is enforced on XFS with uquota', async () => {
    const m = await detectDiskMode('auto', '/home', fakeRunner({ findmnt: '/home /dev/sdb1 xfs\n', xfs_quota: fixture('xfs-state-on.txt') }));
    expect(m.inForce).toBe('enforced');
  });
  it('monitored and off are taken as configured', async () => {
    expect((await detectDiskMode('monitored', '/home', fakeRunner({ findmnt: '/ /dev/vda ext4' }))).inForce).toBe('monitored');
    expect((await detectDiskMode('off', '/home', fakeRunner({}))).inForce).toBe('off');
  });
  it('on this machine (no kernel quota support) auto is monitored with a reason', async () => {
    const m = await detectDiskMode('enforced', '/home');
    expect(m.inForce).toBe('monitored');
    expect(m.reason.length).toBeGreaterThan(10);
  });
});

describe('setting limits', () => {
  it('runs setquota / xfs_quota with argv arrays in KiB', async () => {
    const run = fakeRunner({ setquota: '', xfs_quota: '' });
    await setUserLimits({ mount: '/home', source: '/dev/sdb1', type: 'ext4' }, 'alice', 2 * 2 ** 20, 4 * 2 ** 20, run);
    await setUserLimits({ mount: '/home', source: '/dev/sdb1', type: 'xfs' }, 'alice', 2 * 2 ** 20, 4 * 2 ** 20, run);
    expect(run.calls).toEqual([
      ['setquota', '-u', 'alice', '2048', '4096', '0', '0', '/home'],
      ['xfs_quota', '-x', '-c', 'limit -u bsoft=2048k bhard=4096k alice', '/home'],
    ]);
    await expect(setUserLimits({ mount: '/home', source: 'x', type: 'ext4' }, 'a; rm -rf /', 1, 1, run)).rejects.toThrow(/invalid user name/);
  });
});
