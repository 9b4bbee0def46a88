/** The machine view's reading of install.sh's "==> [i/N] …" step lines (renderer/views/installer-progress.ts). */
import { describe, expect, it } from 'vitest';
import { InstallerProgress } from '../../../renderer/views/installer-progress.js';

describe('InstallerProgress', () => {
  it('follows coloured step lines from a pty, also when split across chunks', () => {
    const p = new InstallerProgress();
    expect(p.push('LabHub installer: 0.1.0 from release\r\n\x1b[1;32m==>\x1b[0m [1/5] install jupyter')).toBe(false);
    expect(p.step).toBeNull();
    expect(p.push('hub restic\r\nSetting up restic (0.14.0-1) ...\r\n')).toBe(true);
    expect(p.step).toEqual({ index: 1, total: 5, text: 'install jupyterhub restic' });
    expect(p.push('\x1b[1;32m==>\x1b[0m [2/5] put LabHub 0.1.0 in /opt/labhub\r\n\x1b[1;32m==>\x1b[0m [3/5] keep /etc/labhub/config.json\n')).toBe(true);
    expect(p.step).toEqual({ index: 3, total: 5, text: 'keep /etc/labhub/config.json' });
  });

  it('ignores lines that only look similar, and starts over on reset', () => {
    const p = new InstallerProgress();
    expect(p.push('==> step one\nsomething ==> [1/2] inside a line\n==> [x/2] no\n')).toBe(false);
    p.push('==> [1/2] first\n');
    p.reset();
    expect(p.step).toBeNull();
  });
});
