/**
 * Backup failures with real restic (issue 5, acceptance 5): a wrong repository password, a missing
 * repository disk (and a different repository in its place), a full target disk (a real 40 MB
 * loop-mounted ext4), a home that changes during the run, and stale and live restic locks. Each
 * gives a clear recorded error or a consistent snapshot, and after each `restic check` passes and
 * an earlier snapshot still restores byte for byte.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRunRecord } from '../../hub/backup/types.js';
import { differences, fillHome, giveTo, makeEngine, picture, removeAll, restic, type EntryPicture } from '../helpers/backup-fixtures.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let f1: TestUser;
let f2: TestUser;
let a: Awaited<ReturnType<typeof makeEngine>>;
let s1: string;
let original: Map<string, EntryPicture>;
const others: Array<Awaited<ReturnType<typeof makeEngine>>> = [];
const scratch = mkdtempSync(join(tmpdir(), 'labhub-backup-fail-'));
const children: ChildProcess[] = [];
let loopMount: string | null = null;

beforeAll(async () => {
  f1 = createTestUser('bkf1');
  f2 = createTestUser('bkf2');
  fillHome(f1, 0);
  fillHome(f2, 0);
  original = picture(f1.home);
  a = await makeEngine();
  a.addUsers(f1, f2);
  const first = await run(a);
  expect(first.status, first.message ?? '').toBe('ok');
  s1 = first.results[0]!.snapshotId!;
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const e of others) await e.close();
  await a?.close();
  if (loopMount) execFileSync('umount', ['-l', loopMount]);
  removeAllTestUsers();
  removeAll(a?.dataDir, a && join(a.repository, '..'), scratch, ...others.map((e) => e.dataDir));
});

async function run(e: typeof a, users?: string[]): Promise<BackupRunRecord> {
  return e.service.waitForRun((await e.service.runNow({ by: 'test', users })).id);
}

/** `restic check` passes and the first snapshot of f1 restores byte for byte (restic run directly). */
function intact(e = a, snapshot = s1, want = original): void {
  const check = restic(e.repository, e.passwordFile, ['check']);
  expect(check.code, check.stderr).toBe(0);
  const target = mkdtempSync(join(scratch, 'verify-'));
  const r = restic(e.repository, e.passwordFile, ['restore', snapshot, '--target', target]);
  expect(r.code, r.stderr).toBe(0);
  expect(differences(want, picture(join(target, f1.home)))).toEqual([]);
  rmSync(target, { recursive: true, force: true });
}

/** A `restic backup --stdin` that holds a repository lock until its input ends. */
async function lockHolder(): Promise<ChildProcess> {
  const child = spawn('restic', ['backup', '--stdin', '--stdin-filename', 'held', '--host', 'elsewhere'], {
    env: { PATH: process.env.PATH, RESTIC_REPOSITORY: a.repository, RESTIC_PASSWORD_FILE: a.passwordFile, RESTIC_CACHE_DIR: join(scratch, 'cache'), LC_ALL: 'C' },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  children.push(child);
  for (let i = 0; i < 100 && !readdirSync(join(a.repository, 'locks')).length; i++) await new Promise((r) => setTimeout(r, 50));
  expect(readdirSync(join(a.repository, 'locks'))).toHaveLength(1);
  return child;
}

describe('a wrong repository password', () => {
  it('is a clear recorded error, nothing is initialised, earlier snapshots are intact', async () => {
    const wrong = join(scratch, 'wrong-password');
    writeFileSync(wrong, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const w = await makeEngine({ backup: { repository: a.repository, passwordFile: wrong } });
    others.push(w);
    w.addUsers(f1);
    const rec = await run(w);
    expect(rec.status).toBe('failed');
    expect(rec.message).toBe(`wrong repository password: the password in ${wrong} does not open the backup repository at ${a.repository}`);
    expect(rec.results).toEqual([expect.objectContaining({ user: f1.name, status: 'failed', errors: [`not attempted: ${rec.message}`] })]);
    expect((await w.service.status()).repositoryError).toBe(rec.message);
    expect(w.store.data.backup.repositoryId).toBeNull();
    expect(JSON.parse(restic(a.repository, a.passwordFile, ['key', 'list', '--json']).stdout)).toHaveLength(1);
    // a password file others can read is refused before restic sees it
    chmodSync(wrong, 0o644);
    const open = await run(w);
    expect(open.message).toMatch(/can be read by others \(mode 644\)/);
    intact();
  });
});

describe('a missing repository disk', () => {
  it('says "is the backup disk mounted?" and never makes a new repository', async () => {
    renameSync(a.repository, `${a.repository}.away`);
    try {
      const rec = await run(a);
      expect(rec.status).toBe('failed');
      expect(rec.message).toBe(`backup repository not found at ${a.repository} — is the backup disk mounted?`);
      expect(rec.results.every((r) => r.status === 'failed')).toBe(true);
      expect(existsSync(a.repository)).toBe(false);
      expect((await a.service.status()).repositoryError).toBe(rec.message);
      const check = await a.service.waitForRun((await a.service.checkNow({ by: 'test' })).id);
      expect(check).toMatchObject({ kind: 'check', status: 'failed', message: rec.message });
      await expect(a.service.snapshots(f1.name)).rejects.toMatchObject({ code: 'HUB_ERR_BACKUP_UNAVAILABLE', status: 503 });
      expect(existsSync(a.repository)).toBe(false);
      // another repository where the disk should be is not LabHub's
      restic(a.repository, a.passwordFile, ['init']);
      const other = await run(a);
      expect(other.message).toMatch(/^the repository at .* is not the one LabHub has been backing up into .* is the right backup disk mounted\?$/);
      rmSync(a.repository, { recursive: true });
    } finally {
      renameSync(`${a.repository}.away`, a.repository);
    }
    const back = await run(a);
    expect(back.status, back.message ?? '').toBe('ok');
    expect((await a.service.status()).repositoryError).toBeNull();
    intact();
  });
});

describe('restic locks', () => {
  it('a stale lock (restic killed with SIGKILL) is removed and the next runs succeed', async () => {
    const holder = await lockHolder();
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('close', r));
    expect(readdirSync(join(a.repository, 'locks'))).toHaveLength(1);
    const check = await a.service.waitForRun((await a.service.checkNow({ by: 'test' })).id);
    expect(check, check.message ?? '').toMatchObject({ status: 'ok', message: 'no errors were found' });
    expect(readdirSync(join(a.repository, 'locks'))).toEqual([]);
    intact();
  });

  it('a live lock is left alone and named in the error', async () => {
    const holder = await lockHolder();
    const check = await a.service.waitForRun((await a.service.checkNow({ by: 'test' })).id);
    expect(check.status).toBe('failed');
    expect(check.message).toMatch(/locked by another restic \(PID \d+ on .*\); LabHub removes only stale locks/);
    holder.stdin!.end('held data\n');
    await new Promise((r) => holder.once('close', r));
    const again = await a.service.waitForRun((await a.service.checkNow({ by: 'test' })).id);
    expect(again.status).toBe('ok');
  });
});

describe('a home that changes during the run', () => {
  it('gives a consistent snapshot, or "partial" naming the files that could not be read', async () => {
    const churn = join(f2.home, 'churn');
    mkdirSync(churn);
    giveTo(f2, churn);
    const steady = picture(f2.home, (rel) => rel.startsWith('/churn'));
    // four writers creating, appending to and deleting files and folders as fast as a shell can
    const loop = (k: number) =>
      `i=0; while :; do i=$((i+1)); echo "$i" >> churn/f${k}-$((i%500)); rm -f churn/f${k}-$(((i+250)%500)); mkdir -p churn/d${k}-$((i%50))/x; rm -rf churn/d${k}-$(((i+25)%50)); done`;
    for (let k = 0; k < 4; k++) {
      const writer = spawn('setpriv', ['--reuid', String(f2.uid), '--regid', String(f2.gid), '--clear-groups', 'sh', '-c', loop(k)], { cwd: f2.home, stdio: 'ignore' });
      children.push(writer);
    }
    await new Promise((r) => setTimeout(r, 300));
    const rec = await run(a, [f2.name]);
    for (const c of children.splice(0)) c.kill('SIGKILL');
    const r = rec.results[0]!;
    expect(['ok', 'partial']).toContain(r.status);
    expect(r.snapshotId).toMatch(/^[0-9a-f]{8}$/);
    if (r.status === 'partial') for (const e of r.errors) expect(e).toMatch(/^\/churn\/[fd]\d-\d+(\/x)?: .+$|^… and \d+ more$/);
    else expect(r.errors).toEqual([]);
    expect(rec.status).toBe(r.status);
    intact();
    // what did not change is in the snapshot exactly
    const target = mkdtempSync(join(scratch, 'churn-'));
    expect(restic(a.repository, a.passwordFile, ['restore', r.snapshotId!, '--target', target]).code).toBe(0);
    expect(differences(steady, picture(join(target, f2.home), (rel) => rel.startsWith('/churn')))).toEqual([]);
  });
});

describe('a full backup disk (a real 40 MB loop-mounted ext4)', () => {
  it('is a clear recorded error; the earlier snapshot is intact and the next run after freeing space works', async () => {
    const img = join(scratch, 'disk.img');
    const mnt = join(scratch, 'disk');
    mkdirSync(mnt);
    execFileSync('truncate', ['-s', '40M', img]);
    execFileSync('mkfs.ext4', ['-q', img]);
    execFileSync('mount', ['-o', 'loop', img, mnt]);
    loopMount = mnt;
    const d = await makeEngine({ backup: { repository: join(mnt, 'repo') }, stallSeconds: 4 });
    others.push(d);
    d.addUsers(f1);
    const ok = await run(d);
    expect(ok.status, ok.message ?? '').toBe('ok');
    const before = ok.results[0]!.snapshotId!;
    const big = join(f1.home, 'too-big.bin');
    writeFileSync(big, randomBytes(45 * 1024 * 1024));
    giveTo(f1, big);
    const full = await run(d);
    rmSync(big);
    expect(full.status).toBe('failed');
    // restic 0.14 either fails at once with ENOSPC or hangs until the stall watchdog stops it
    expect(full.message).toMatch(/^the backup disk (is full \(no space left on device|may be full: restic made no progress)/);
    expect(full.results[0]).toMatchObject({ status: 'failed', snapshotId: null });
    expect((await d.service.status()).repositoryError).toBe(full.message);
    intact(d, before);
    const after = await run(d);
    expect(after.status, after.message ?? '').toBe('ok');
    expect((await d.service.status()).repositoryError).toBeNull();
  });
});
