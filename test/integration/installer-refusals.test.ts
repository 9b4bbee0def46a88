/**
 * Acceptance 4 of the installer (installer/install.sh), in a fresh Debian 12 container with no
 * network (`--network none`, so no package mirror): without root, on an unsupported OS and without
 * the mirror it stops early with a clear message and exit code, and `docker diff` shows that it
 * changed nothing; `--uninstall --dry-run` prints its plan and changes nothing either (the install's
 * dry run is in installer.test.ts, where the mirror is reachable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRelease, ensureBaseImage, removeRelease, TestMachine } from '../helpers/installer-container.js';

describe('install.sh refuses early and changes nothing (fresh Debian 12 container, no network)', () => {
  let m: TestMachine;

  beforeAll(async () => {
    await ensureBaseImage();
    m = await TestMachine.start({ network: 'none', release: await buildRelease() });
    await m.must('useradd -m -u 1500 someone && chmod -R a+rX /root');
    await m.markBaseline();
  }, 600_000);

  afterAll(async () => {
    await m?.remove();
    removeRelease();
  });

  it('needs root', async () => {
    const r = await m.install(['--admin', 'teacher'], { user: 'someone' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('run this as root');
  });

  it('says clearly that an unsupported OS is unsupported (a fake /etc/os-release: Ubuntu 20.04, Debian 11)', async () => {
    for (const [id, version, pretty] of [
      ['ubuntu', '20.04', 'Ubuntu 20.04.6 LTS'],
      ['debian', '11', 'Debian GNU/Linux 11 (bullseye)'],
    ]) {
      await m.must(`printf 'PRETTY_NAME="${pretty}"\\nID=${id}\\nVERSION_ID="${version}"\\n' > /tmp/os-release`);
      const r = await m.install([], { env: { LABHUB_OS_RELEASE: '/tmp/os-release' } });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`${pretty} is not supported: LabHub installs on Debian 12, Ubuntu 22.04, Ubuntu 24.04`);
    }
    await m.must('rm /tmp/os-release');
  });

  it('fails before changing anything when the package mirror cannot be reached', async () => {
    const r = await m.install(['--admin', 'teacher']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot reach the package mirror \(http:\/\/deb\.debian\.org\/debian bookworm InRelease .+\), which is needed to install jupyterhub .*Nothing was changed\./);
  });

  it('--dry-run prints the plan', async () => {
    const r = await m.install(['--dry-run', '--uninstall']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dry run: this is the plan; nothing was changed');
    expect(r.stdout).toContain('keep /home, /var/lib/labhub, /etc/labhub');
  });

  it('left the machine as it was', async () => {
    expect(await m.changes()).toEqual([]);
    expect((await m.sh('ls /opt/labhub /etc/labhub /var/lib/labhub')).code).not.toBe(0);
    expect((await m.sh('getent group labhub-admin')).code).not.toBe(0);
    expect((await m.sh('id teacher')).code).not.toBe(0);
  });
});
