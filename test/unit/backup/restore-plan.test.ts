import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ancestors, HomeInspector, overwritePlan, type Existing } from '../../../hub/backup/restore-plan.js';
import type { ResticNode } from '../../../hub/backup/restic-output.js';

const node = (path: string, type: string): ResticNode => ({ name: path.split('/').pop()!, type, path, size: null, permissions: '', mtime: '' });

describe('what an in-place restore overwrites', () => {
  it('lists files that exist now and kinds that changed; folders merge', async () => {
    const snap = [
      node('/home/ada', 'dir'),
      node('/home/ada/nb', 'dir'),
      node('/home/ada/nb/a.ipynb', 'file'),
      node('/home/ada/nb/gone.ipynb', 'file'),
      node('/home/ada/was-dir', 'dir'),
      node('/home/ada/was-dir/x', 'file'),
      node('/home/ada/was-file', 'file'),
      node('/home/ada/link', 'symlink'),
    ];
    const now: Record<string, Existing> = { '/nb': 'dir', '/nb/a.ipynb': 'other', '/was-dir': 'other', '/was-file': 'dir', '/link': 'other' };
    const plan = await overwritePlan(snap, '/home/ada', '/', async (p) => now[p] ?? 'none');
    expect(plan.overwrite).toEqual(['/link', '/nb/a.ipynb', '/was-dir', '/was-file']);
    expect(plan.conflicts).toEqual(['/was-dir', '/was-file']);
  });

  it('counts the folders above a restored path', async () => {
    expect(ancestors('/a/b/c')).toEqual(['/a', '/a/b']);
    const plan = await overwritePlan([node('/home/ada/a/b', 'file')], '/home/ada', '/a/b', async (p) => (p === '/a' ? 'other' : 'none'));
    expect(plan).toEqual({ overwrite: ['/a'], conflicts: ['/a'] });
  });
});

describe('looking at the home', () => {
  const home = mkdtempSync(join(tmpdir(), 'labhub-inspect-'));
  const outside = mkdtempSync(join(tmpdir(), 'labhub-inspect-out-'));
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('never looks through a symbolic link', async () => {
    mkdirSync(join(home, 'd'));
    writeFileSync(join(home, 'd', 'f'), 'x');
    writeFileSync(join(outside, 'secret'), 'x');
    symlinkSync(outside, join(home, 'out'));
    const i = new HomeInspector(home);
    expect(await i.kind('/')).toBe('dir');
    expect(await i.kind('/d')).toBe('dir');
    expect(await i.kind('/d/f')).toBe('other');
    expect(await i.kind('/d/none')).toBe('none');
    expect(await i.kind('/out')).toBe('other');
    expect(await i.kind('/out/secret')).toBe('none');
  });
});
