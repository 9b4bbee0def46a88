/**
 * Scheduled backups with real restic and croner (issue 5, acceptance 3): a cron expression set to
 * fire a few seconds ahead fires once, the run is recorded as scheduled, and retention
 * (`forget --prune`, per user) leaves only what the policy keeps. A fire while a run is still going
 * is recorded as skipped (the slow run uses a restic wrapper that sleeps before `cat config`).
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRun } from '../../hub/backup/history.js';
import type { BackupRunRecord } from '../../hub/backup/types.js';
import { fillHome, makeEngine, removeAll, restic } from '../helpers/backup-fixtures.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let u1: TestUser;
let u2: TestUser;
let engine: Awaited<ReturnType<typeof makeEngine>>;
let slow: Awaited<ReturnType<typeof makeEngine>> | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'labhub-backup-sched-'));

/** A 6-field cron expression (with seconds) that matches only the local time `d`. */
function onceAt(d: Date): string {
  return `${d.getSeconds()} ${d.getMinutes()} ${d.getHours()} ${d.getDate()} ${d.getMonth() + 1} *`;
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  u1 = createTestUser('bks1');
  u2 = createTestUser('bks2');
  fillHome(u1, 0);
  fillHome(u2, 0);
  engine = await makeEngine({ backup: { enabled: false } });
  engine.addUsers(u1, u2);
  engine.service.start();
});

afterAll(async () => {
  await slow?.close();
  await engine?.close();
  removeAllTestUsers();
  removeAll(engine?.dataDir, engine && join(engine.repository, '..'), slow?.dataDir, scratch);
});

const userSnapshots = (user: string) =>
  JSON.parse(restic(engine.repository, engine.passwordFile, ['snapshots', '--json', '--tag', `user=${user}`]).stdout) as Array<{ short_id: string }>;

describe('schedule and retention', () => {
  it('a run the hub was killed in the middle of is recorded as failed at the next start', async () => {
    const e = await makeEngine();
    try {
      e.store.data.backup.runs.push({ ...newRun({ kind: 'backup', trigger: 'schedule', by: 'schedule', users: [u1.name] }, new Date()) });
      e.service.start();
      expect(e.service.runs()[0]).toMatchObject({ status: 'failed', message: 'the hub stopped during this run' });
      expect(e.service.runs()[0]!.ended).not.toBeNull();
    } finally {
      await e.close();
      removeAll(e.dataDir, join(e.repository, '..'));
    }
  });

  it('refuses a wrong cron expression and changes nothing', async () => {
    await expect(engine.service.updateSettings({ schedule: 'every night' })).rejects.toMatchObject({ code: 'HUB_ERR_INVALID_SETTINGS' });
    expect((await engine.service.status()).schedule).toBe('0 2 * * *');
    expect((await engine.service.status()).nextRun).toBeNull(); // disabled
  });

  it('a schedule set to fire within the test fires once, is recorded, and retention keeps only the newest per user', async () => {
    const manual = await engine.service.waitForRun((await engine.service.runNow({ by: 'test' })).id);
    expect(manual.status, manual.message ?? '').toBe('ok');
    expect(manual.retention).toBeNull(); // manual runs never forget
    expect(userSnapshots(u1.name)).toHaveLength(1);
    const at = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000);
    const status = await engine.service.updateSettings({ enabled: true, schedule: onceAt(at), retention: { daily: 1, weekly: 0, monthly: 0 } });
    expect(status.nextRun).toBe(at.toISOString());
    expect(status.retention).toEqual({ daily: 1, weekly: 0, monthly: 0 });
    const scheduled = await until('the scheduled run', () => engine.service.runs().find((r) => r.trigger === 'schedule'));
    expect(Date.parse(scheduled.started)).toBeGreaterThanOrEqual(at.getTime());
    const done = await engine.service.waitForRun(scheduled.id);
    await engine.service.updateSettings({ enabled: false });
    expect(done).toMatchObject({ kind: 'backup', trigger: 'schedule', by: 'schedule', status: 'ok' });
    expect(done.users).toEqual([u1.name, u2.name]);
    // 2 snapshots in each set (two users and the hub state), 1 kept of each
    expect(done.retention).toEqual({ removed: 3, error: null });
    for (const [i, u] of [u1, u2].entries()) {
      expect(userSnapshots(u.name).map((s) => s.short_id)).toEqual([done.results[i]!.snapshotId]);
    }
    expect(JSON.parse(restic(engine.repository, engine.passwordFile, ['snapshots', '--json', '--tag', 'labhub-state']).stdout)).toHaveLength(1);
    expect(restic(engine.repository, engine.passwordFile, ['check']).code).toBe(0);
    expect(engine.service.runs().filter((r) => r.trigger === 'schedule')).toHaveLength(1);
    expect(engine.store.data.backup.settings).toMatchObject({ enabled: false, retention: { daily: 1, weekly: 0, monthly: 0 } });
  });

  it('a fire while a run is going is recorded as skipped, and the run goes on', async () => {
    const wrapper = join(scratch, 'slow-restic');
    writeFileSync(wrapper, '#!/bin/sh\ncase "$1" in cat) sleep 4;; esac\nexec restic "$@"\n');
    chmodSync(wrapper, 0o755);
    slow = await makeEngine({ backup: { enabled: false, repository: engine.repository, passwordFile: engine.passwordFile, restic: wrapper } });
    slow.addUsers(u1);
    slow.service.start();
    const manual = await slow.service.runNow({ by: 'admin' });
    await expect(slow.service.runNow({ by: 'admin' })).rejects.toMatchObject({ code: 'HUB_ERR_BACKUP_BUSY', status: 409 });
    await expect(slow.service.checkNow({ by: 'admin' })).rejects.toMatchObject({ code: 'HUB_ERR_BACKUP_BUSY' });
    const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000);
    await slow.service.updateSettings({ enabled: true, schedule: onceAt(at) });
    const skipped: BackupRunRecord = await until('the skipped run', () => slow!.service.runs().find((r) => r.status === 'skipped'));
    await slow.service.updateSettings({ enabled: false });
    expect(skipped).toMatchObject({ trigger: 'schedule', kind: 'backup', message: 'the previous run was still going', results: [] });
    expect((await slow.service.status()).running?.id).toBe(manual.id);
    const done = await slow.service.waitForRun(manual.id);
    expect(done.status, done.message ?? '').toBe('ok');
    // it used the repository that was there (same id), never a new one
    expect(slow.store.data.backup.repositoryId).toBe(engine.store.data.backup.repositoryId);
  });
});
