import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ensurePasswordFile,
  failureText,
  localInitProblem,
  localPath,
  parseFstab,
  parseMountinfo,
  unmountedDiskFor,
  unmountedRemovable,
} from '../../../hub/backup/repository.js';

const dir = mkdtempSync(join(tmpdir(), 'labhub-repo-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FSTAB = `# /etc/fstab
UUID=1 / ext4 defaults 0 1
UUID=2 /mnt/backup\\040disk ext4 defaults,nofail 0 2
UUID=3 /srv/backups ext4 defaults 0 2
UUID=4 none swap sw 0 0
`;
const MOUNTINFO = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 8:3 / /srv/backups rw,relatime shared:2 - ext4 /dev/sdc1 rw
31 22 8:4 / /media/usb rw,relatime shared:3 - vfat /dev/sdd1 rw
`;

describe('where a repository may be initialised', () => {
  it('reads fstab and mountinfo', () => {
    expect(parseFstab(FSTAB)).toEqual(['/', '/mnt/backup disk', '/srv/backups']);
    expect([...parseMountinfo(MOUNTINFO)]).toEqual(['/', '/srv/backups', '/media/usb']);
  });

  it('finds an fstab disk that should hold the path but is not mounted', () => {
    const mounted = parseMountinfo(MOUNTINFO);
    expect(unmountedDiskFor('/mnt/backup disk/labhub', parseFstab(FSTAB), mounted)).toBe('/mnt/backup disk');
    expect(unmountedDiskFor('/srv/backups/labhub', parseFstab(FSTAB), mounted)).toBeNull();
    expect(unmountedDiskFor('/var/backups/labhub/restic', parseFstab(FSTAB), mounted)).toBeNull();
  });

  it('wants a mounted disk below /mnt, /media and /run/media', () => {
    const mounted = parseMountinfo(MOUNTINFO);
    expect(unmountedRemovable('/mnt/usb/labhub', mounted)).toBe('/mnt/usb');
    expect(unmountedRemovable('/media/usb/labhub', mounted)).toBeNull();
    expect(unmountedRemovable('/run/media/ada/disk/labhub', mounted)).toBe('/run/media/ada/disk');
    expect(unmountedRemovable('/var/backups/labhub', mounted)).toBeNull();
    expect(unmountedRemovable('/mnt/x/y', new Set(['/', '/mnt']))).toBeNull();
  });

  it('refuses a relative path, a file, a non-empty folder without a repository and an unmounted disk', async () => {
    const read = (f: string) => Promise.resolve(f === '/etc/fstab' ? FSTAB : MOUNTINFO);
    expect(await localInitProblem('relative/repo', read)).toMatch(/absolute/);
    expect(await localInitProblem('/mnt/backup disk/labhub', read)).toMatch(/not mounted/);
    expect(await localInitProblem('/mnt/usb/labhub', read)).toMatch(/not a mounted disk/);
    writeFileSync(join(dir, 'file'), 'x');
    expect(await localInitProblem(join(dir, 'file'), read)).toMatch(/not a directory/);
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'x'), 'x');
    expect(await localInitProblem(join(dir, 'full'), read)).toMatch(/not empty/);
    mkdirSync(join(dir, 'empty'));
    expect(await localInitProblem(join(dir, 'empty'), read)).toBeNull();
    expect(await localInitProblem(join(dir, 'absent', 'repo'), read)).toBeNull();
  });

  it('tells local paths from other restic backends', () => {
    expect(localPath('/var/backups/r')).toBe('/var/backups/r');
    expect(localPath('local:/var/backups/r')).toBe('/var/backups/r');
    expect(localPath('sftp:host:/r')).toBeNull();
    expect(localPath('s3:s3.amazonaws.com/bucket')).toBeNull();
  });
});

describe('the password file', () => {
  it('is made 0600 with a random password at first use, and kept after', async () => {
    const f = join(dir, 'pw', 'backup-password');
    await ensurePasswordFile(f, { isDefault: true, repositoryUsed: false });
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const pw = readFileSync(f, 'utf8');
    expect(pw.trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    await ensurePasswordFile(f, { isDefault: true, repositoryUsed: true });
    expect(readFileSync(f, 'utf8')).toBe(pw);
  });

  it('is refused when others can read it', async () => {
    const f = join(dir, 'open-pw');
    writeFileSync(f, 'secret\n');
    chmodSync(f, 0o644);
    await expect(ensurePasswordFile(f, { isDefault: false, repositoryUsed: false })).rejects.toThrow(/can be read by others \(mode 644\); .*chmod 600/);
  });

  it('is never invented when it was named in the config or the repository was used before', async () => {
    await expect(ensurePasswordFile(join(dir, 'nope'), { isDefault: false, repositoryUsed: false })).rejects.toThrow(/does not exist/);
    await expect(ensurePasswordFile(join(dir, 'gone'), { isDefault: true, repositoryUsed: true })).rejects.toThrow(/missing, but LabHub has used/);
  });
});

describe('failure messages', () => {
  const o = { repository: '/mnt/backup/restic', passwordFile: '/var/lib/labhub/backup-password', binary: 'restic' };
  it('say what to do', () => {
    expect(failureText('no-repository', { stderr: '' }, o)).toBe('backup repository not found at /mnt/backup/restic — is the backup disk mounted?');
    expect(failureText('wrong-password', { stderr: '' }, o)).toMatch(/^wrong repository password/);
    expect(failureText('disk-full', { stderr: '' }, o)).toMatch(/backup disk is full/);
    expect(failureText('not-installed', { stderr: '' }, o)).toMatch(/install the Debian package restic/);
    expect(failureText('locked', { stderr: 'already locked by PID 7 on h by root (UID 0, GID 0)' }, o)).toMatch(/locked by another restic \(PID 7 on h/);
    expect(failureText('other', { stderr: 'Fatal: odd\n' }, o)).toBe('restic failed: Fatal: odd');
  });
});
