import { describe, expect, it } from 'vitest';
import { emptyResult, MAX_RUNS, newRun, pushRun, runStatus, staleUsers, userStates } from '../../../hub/backup/history.js';
import type { BackupRunRecord, UserRunResult } from '../../../hub/backup/types.js';

const ok = (user: string, snapshotId = 'abcd1234'): UserRunResult => ({ ...emptyResult(user, 'ok', null), snapshotId });
function run(ended: string, results: UserRunResult[]): BackupRunRecord {
  return { ...newRun({ kind: 'backup', trigger: 'schedule', by: 'schedule', users: results.map((r) => r.user) }, new Date(ended)), ended, status: 'ok', results };
}

describe('run history', () => {
  it('keeps the last 200 runs', () => {
    const runs: BackupRunRecord[] = [];
    for (let i = 0; i < MAX_RUNS + 5; i++) pushRun(runs, run(new Date(i * 1000).toISOString(), []));
    expect(runs).toHaveLength(200);
    expect(runs[0]!.ended).toBe(new Date(5000).toISOString());
  });

  it('sums a run up', () => {
    expect(runStatus([ok('a'), ok('b')], null)).toEqual({ status: 'ok', message: '2 of 2 homes backed up' });
    expect(runStatus([ok('a'), { ...ok('b'), status: 'partial' }], null)).toEqual({ status: 'partial', message: '2 of 2 homes backed up; 1 with unreadable files' });
    expect(runStatus([ok('a'), emptyResult('b', 'failed', 'x')], null).status).toBe('failed');
    expect(runStatus([ok('a')], 'disk full')).toEqual({ status: 'failed', message: '1 of 1 home backed up; hub state not saved: disk full' });
  });

  it('knows each user’s last success and the error since', () => {
    const runs = [
      run('2026-11-01T02:00:00Z', [ok('a', 'aaaa0001'), ok('b', 'bbbb0001')]),
      run('2026-11-02T02:00:00Z', [ok('a', 'aaaa0002'), emptyResult('b', 'failed', 'disk full')]),
    ];
    const states = userStates(runs, ['a', 'b', 'c']);
    expect(states).toEqual([
      { user: 'a', lastSuccess: '2026-11-02T02:00:00Z', lastSnapshotId: 'aaaa0002', lastError: null },
      { user: 'b', lastSuccess: '2026-11-01T02:00:00Z', lastSnapshotId: 'bbbb0001', lastError: 'disk full' },
      { user: 'c', lastSuccess: null, lastSnapshotId: null, lastError: null },
    ]);
    // staleDays 1 on Nov 3 at 01:00: b (Nov 1) and c (never) are stale, a (Nov 2 02:00) is not
    expect(staleUsers(states, runs, 1, new Date('2026-11-03T01:00:00Z'))).toEqual(['b', 'c']);
    expect(staleUsers(states, runs, 2, new Date('2026-11-03T01:00:00Z'))).toEqual(['c']);
  });

  it('does not call a user stale whom the last run skipped on purpose', () => {
    const runs = [run('2026-11-02T02:00:00Z', [emptyResult('root', 'skipped', 'a system account')])];
    expect(staleUsers(userStates(runs, ['root', 'x']), runs, 2, new Date('2026-11-02T03:00:00Z'))).toEqual(['x']);
  });
});
