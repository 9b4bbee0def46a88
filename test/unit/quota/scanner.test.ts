import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanHomes, treeBytes } from '../../../hub/quota/scanner.js';

const root = mkdtempSync(join(tmpdir(), 'quota-scan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const du = (p: string) => Number(execFileSync('du', ['-s', '-x', '--block-size=1', p], { encoding: 'utf8' }).split('\t')[0]);

describe('treeBytes', () => {
  it('matches du -s within 1 % on a tree with files, subfolders, hard links and symlinks', async () => {
    const home = join(root, 'a');
    for (let d = 0; d < 10; d++) {
      mkdirSync(join(home, `d${d}`, 'sub'), { recursive: true });
      for (let f = 0; f < 30; f++) writeFileSync(join(home, `d${d}`, f % 2 ? 'sub' : '', `f${f}`), Buffer.alloc(f * 517 + 1, 1));
    }
    writeFileSync(join(home, 'big'), Buffer.alloc(3 * 2 ** 20, 7));
    linkSync(join(home, 'big'), join(home, 'big-link')); // counted once, like du
    symlinkSync('/usr', join(home, 'usr-link')); // not followed
    const bytes = await treeBytes(home);
    const expected = du(home);
    expect(Math.abs(bytes - expected) / expected).toBeLessThan(0.01);
  });
  it('scans several homes and reports unreadable ones', async () => {
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'b', 'x'), Buffer.alloc(100_000, 1));
    const errors: string[] = [];
    const out = await scanHomes(new Map([['a', join(root, 'a')], ['b', join(root, 'b')], ['gone', join(root, 'nope')]]), { onError: (u) => errors.push(u) });
    expect(out.get('b')).toBe(du(join(root, 'b')));
    expect(out.has('gone')).toBe(false);
    expect(errors).toEqual(['gone']);
  });
});
