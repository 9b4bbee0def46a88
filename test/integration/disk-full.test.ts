/**
 * A full disk under the data dir (a real, tiny tmpfs): logging in fails with a clear message
 * instead of a stack trace, and the state file is left as it was.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieClient } from '../helpers/browserless-client.js';
import { LabhubProcess } from '../helpers/labhub-process.js';
import { createTestUser, removeAllTestUsers, type TestUser } from '../helpers/linux-users.js';

let lab: LabhubProcess;
let student: TestUser;
let mnt: string;

beforeAll(async () => {
  student = createTestUser('full1');
  lab = await new LabhubProcess({ config: { logDir: '' } }).init();
  mnt = join(lab.dataDir, 'data');
  mkdirSync(mnt, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mnt]);
  await lab.startServe();
});

afterAll(async () => {
  await lab?.stop();
  if (mnt) execFileSync('umount', ['-l', mnt]);
  removeAllTestUsers();
});

describe('full disk', () => {
  it('a login that cannot be saved says the disk is full and changes nothing', async () => {
    const before = readFileSync(lab.stateFile, 'utf8');
    execFileSync('sh', ['-c', `dd if=/dev/zero of=${mnt}/filler bs=64k count=100 2>/dev/null || true`]);
    const c = new CookieClient(lab.publicUrl);
    const res = await c.login(student.name, student.password);
    expect(res.status).toBe(507);
    expect(res.body).toContain('disk is full');
    expect(c.cookie('jupyterhub-hub-login')).toBeUndefined();
    expect(readFileSync(lab.stateFile, 'utf8')).toBe(before);
    // once space is freed, the same login works
    execFileSync('rm', ['-f', `${mnt}/filler`]);
    expect((await c.login(student.name, student.password)).status).toBe(302);
  });
});
