import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PasswdIndex } from '../../../hub/admin/passwd-index.js';
import type { Config } from '../../../hub/config.js';
import { silentLogger } from '../../../hub/log.js';
import type { Runner } from '../../../hub/quota/kernel-quota.js';
import { QuotaService } from '../../../hub/quota/service.js';
import type { Store } from '../../../hub/store/store.js';

const M = 2 ** 20;
const root = mkdtempSync(join(tmpdir(), 'quota-svc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setup(diskMode: 'auto' | 'monitored' = 'monitored') {
  for (const u of ['ann', 'bob']) mkdirSync(join(root, u), { recursive: true });
  const data = {
    users: { ann: { name: 'ann' }, bob: { name: 'bob' } },
    groups: { class1: { name: 'class1', users: ['bob'] } },
    quota: { defaults: {}, users: {}, groups: {}, usage: {} as Record<string, { bytes: number; measuredAt: string }> },
  };
  let commits = 0;
  const store = { data, commit: async () => void commits++ } as unknown as Store;
  const passwd = { get: async () => new Map(['ann', 'bob'].map((u) => [u, { name: u, uid: 1, gid: 1, fullName: '', home: join(root, u) }])) } as unknown as PasswdIndex;
  const config = {
    quota: { diskMode, scanIntervalMinutes: 60, defaults: { diskSoft: 1 * M, diskHard: 2 * M }, groups: { class1: { diskHard: 10 * M } }, users: {} },
  } as unknown as Config;
  const run: Runner = async (cmd) => {
    if (cmd === 'findmnt') return '/ /dev/vda ext4\n';
    throw new Error(`${cmd}: not installed`);
  };
  const svc = new QuotaService({ config, store, log: silentLogger(), passwd, run, linuxGroups: async () => [] });
  return { svc, data, commits: () => commits };
}

describe('QuotaService (monitored, temp homes, recorded quota commands)', () => {
  it('measures, classifies, refuses over hard, allows cleanup mode, and rescans before a start', async () => {
    const { svc, data } = setup();
    await svc.detect();
    expect(svc.diskMode().inForce).toBe('monitored');
    writeFileSync(join(root, 'ann', 'big'), Buffer.alloc(3 * M, 1));
    writeFileSync(join(root, 'bob', 'big'), Buffer.alloc(3 * M, 1));
    await svc.scan();
    expect(data.quota.usage.ann!.bytes).toBeGreaterThan(3 * M);
    expect((await svc.forUser('ann')).state).toBe('over-hard');
    // bob's hub group gives him 10M
    expect(await svc.forUser('bob')).toMatchObject({ state: 'over-soft', sources: { diskHard: 'group:class1' } });
    expect(await svc.admit('ann', false)).toMatch(/Free at least/);
    expect(await svc.admit('ann', true)).toBeNull();
    expect(svc.isCleanup('ann')).toBe(true);
    rmSync(join(root, 'ann', 'big'));
    // the last figure is over hard: admit measures again, so deleting helps at once
    expect(await svc.admit('ann', false)).toBeNull();
    expect(svc.isCleanup('ann')).toBe(false);
    expect((await svc.all()).map((r) => r.user)).toEqual(['bob', 'ann']);
    await svc.close();
  });

  it('joins full scans asked for while one waits', async () => {
    const { svc, commits } = setup();
    await svc.detect();
    const a = svc.scan();
    expect(svc.scan()).toBe(a); // not started yet: joined
    await new Promise((r) => setImmediate(r)); // a is running now
    const b = svc.scan();
    const c = svc.scan();
    expect(b).not.toBe(a);
    expect(b).toBe(c);
    await Promise.all([a, b, c]);
    expect(commits()).toBe(2);
    await svc.close();
  });

  it('reports why "auto" is not enforced', async () => {
    const { svc } = setup('auto');
    expect((await svc.detect()).reason).toMatch(/quota tools not installed/);
  });
});
