import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDamagedError } from '../../../hub/store/durable-file.js';
import { Store } from '../../../hub/store/store.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'labhub-store-'));

describe('Store', () => {
  it('creates a 0600 state file in a 0700 directory and persists commits', async () => {
    const dir = fresh();
    const store = await Store.open(dir);
    store.data.users.alice = { name: 'alice', created: 'x', lastActivity: null, admin: false };
    await store.commit();
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await store.close();
    const again = await Store.open(dir);
    expect(again.data.users.alice?.name).toBe('alice');
    await again.close();
  });

  it('coalesces concurrent commits and every change made before a commit is on disk when it resolves', async () => {
    const dir = fresh();
    const store = await Store.open(dir);
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      store.data.users[`u${i}`] = { name: `u${i}`, created: 'x', lastActivity: null, admin: false };
      commits.push(store.commit().then(() => {
        const onDisk = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
        expect(onDisk.users[`u${i}`]).toBeDefined();
      }));
    }
    await Promise.all(commits);
    await store.close();
  });

  it('refuses a damaged file, names the last good copy and leaves the file untouched', async () => {
    const dir = fresh();
    const store = await Store.open(dir);
    store.data.nextTokenId = 7;
    await store.commit();
    store.data.nextTokenId = 8;
    await store.commit();
    await store.close();
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"users": {');
    const err = await Store.open(dir).catch((e) => e);
    expect(err).toBeInstanceOf(StateDamagedError);
    expect(err.message).toContain(`${file}.bak`);
    expect(readFileSync(file, 'utf8')).toBe('{"users": {');
    expect(existsSync(`${file}.bak`)).toBe(true);
    expect(JSON.parse(readFileSync(`${file}.bak`, 'utf8')).nextTokenId).toBe(7);
  });

  it('refuses a state file from a newer schema', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ schemaVersion: 99 }));
    await expect(Store.open(dir)).rejects.toThrow(/newer LabHub/);
  });
});

describe('Store on a full disk (a real 64 KiB tmpfs)', () => {
  it('fails the commit with ENOSPC, keeps the last good file intact and leaves no temp file', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readdirSync } = await import('node:fs');
    const mnt = mkdtempSync(join(tmpdir(), 'labhub-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const dir = join(mnt, 'data');
      const store = await Store.open(dir);
      store.data.users.alice = { name: 'alice', created: 'x', lastActivity: null, admin: false };
      await store.commit();
      const good = readFileSync(join(dir, 'state.json'), 'utf8');
      // fill the disk, then try to write a big change
      execFileSync('sh', ['-c', `dd if=/dev/zero of=${mnt}/filler bs=1k count=1000 2>/dev/null || true`]);
      for (let i = 0; i < 2000; i++) store.data.users[`u${i}`] = { name: `user-with-a-long-name-${i}`, created: 'x', lastActivity: null, admin: false };
      await expect(store.commit()).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(good);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await store.close();
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  });
});
