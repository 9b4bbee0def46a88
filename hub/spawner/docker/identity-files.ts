/**
 * `/etc/passwd` and `/etc/group` for inside a student's container, mounted read-only: root, nobody
 * and the student with their groups, so `id`, shell prompts and `pwd.getpwuid` know their name
 * without the image knowing the lab's accounts (and without showing the host's other accounts).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Account } from '../../auth/accounts.js';

/** passwd and group files for inside the container: root, nobody and the student (with their groups). */
export function identityFileContents(account: Account): { passwd: string; group: string } {
  const clean = (s: string) => s.replace(/[:\n]/g, ' ');
  const passwd = [
    'root:x:0:0:root:/root:/bin/sh',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    `${account.name}:x:${account.uid}:${account.gid}::${clean(account.home)}:${clean(account.shell || '/bin/sh')}`,
  ];
  const group = ['root:x:0:', 'nogroup:x:65534:'];
  account.groups.forEach((gid, n) => {
    const name = account.groupNames[n];
    if (!name || gid === 0 || gid === 65534) return;
    group.push(`${clean(name)}:x:${gid}:${gid === account.gid ? '' : account.name}`);
  });
  return { passwd: `${passwd.join('\n')}\n`, group: `${group.join('\n')}\n` };
}

/** Writes the files under `<stateDir>/<user>/` (root's, 0644) and returns their paths. */
export async function writeIdentityFiles(stateDir: string, account: Account): Promise<{ passwd: string; group: string }> {
  const dir = join(stateDir, account.name);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const { passwd, group } = identityFileContents(account);
  const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group') };
  await fs.writeFile(files.passwd, passwd, { mode: 0o644 });
  await fs.writeFile(files.group, group, { mode: 0o644 });
  return files;
}
