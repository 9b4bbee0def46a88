import { mkdtempSync, promises as fs, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openUserLog, tailLines, userLogPath } from '../../../hub/spawner/user-log.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'labhub-userlog-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('tailLines', () => {
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}`);

  it('returns the last lines across chunk boundaries, whatever the chunk size', async () => {
    const file = join(dir, 'a.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    for (const chunk of [1, 3, 7, 64, 16_384]) {
      expect(await tailLines(file, 10, chunk)).toEqual(lines.slice(-10));
      expect(await tailLines(file, 1, chunk)).toEqual(lines.slice(-1));
    }
    expect(await tailLines(file, 10_000)).toEqual(lines);
  });

  it('keeps a last line without a newline, and empty lines in between', async () => {
    const file = join(dir, 'b.log');
    writeFileSync(file, 'one\n\nthree');
    expect(await tailLines(file, 2, 2)).toEqual(['', 'three']);
    expect(await tailLines(file, 5)).toEqual(['one', '', 'three']);
  });

  it('reads only the end of a large file', async () => {
    const file = join(dir, 'big.log');
    writeFileSync(file, `${'x'.repeat(200)}\n`.repeat(200_000) + 'last\n');
    const t0 = performance.now();
    expect(await tailLines(file, 3)).toEqual(['x'.repeat(200), 'x'.repeat(200), 'last']);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('gives [] for a missing or empty file and for count 0', async () => {
    expect(await tailLines(join(dir, 'none.log'), 5)).toEqual([]);
    writeFileSync(join(dir, 'empty.log'), '');
    expect(await tailLines(join(dir, 'empty.log'), 5)).toEqual([]);
    expect(await tailLines(join(dir, 'none.log'), 0)).toEqual([]);
  });
});

describe('openUserLog', () => {
  it('creates users/<name>.log 0600 in a 0700 directory and appends a header per open', async () => {
    await fs.mkdir(join(dir, 'users'), { mode: 0o755 });
    for (const header of ['first start', 'second start']) {
      const { file, path } = await openUserLog(dir, 'alice', header);
      expect(path).toBe(join(dir, 'users', 'alice.log'));
      await file.write('output\n');
      await file.close();
    }
    expect(await fs.readFile(join(dir, 'users', 'alice.log'), 'utf8')).toBe('first start\noutput\nsecond start\noutput\n');
    expect((await fs.stat(join(dir, 'users', 'alice.log'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(join(dir, 'users'))).mode & 0o777).toBe(0o700);
  });

  it('tightens the mode of an existing file and refuses a symlink', async () => {
    await fs.mkdir(join(dir, 'users'));
    writeFileSync(join(dir, 'users', 'bob.log'), 'old\n', { mode: 0o644 });
    const { file } = await openUserLog(dir, 'bob', 'start');
    await file.close();
    expect((await fs.stat(join(dir, 'users', 'bob.log'))).mode & 0o777).toBe(0o600);
    writeFileSync(join(dir, 'target'), '');
    symlinkSync(join(dir, 'target'), join(dir, 'users', 'eve.log'));
    await expect(openUserLog(dir, 'eve', 'start')).rejects.toMatchObject({ code: 'ELOOP' });
  });

  it('rejects names that are not Linux user names before building a path', () => {
    expect(() => userLogPath(dir, '../../etc/passwd')).toThrow(/invalid user name/);
    expect(() => userLogPath(dir, 'Alice')).toThrow(/invalid user name/);
    expect(userLogPath(dir, 'alice_1')).toBe(join(dir, 'users', 'alice_1.log'));
  });
});
