import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../../../hub/auth/accounts.js';
import { buildServerEnv, findExecutable } from '../../../hub/spawner/server-env.js';

const account: Account = {
  name: 'alice',
  uid: 1500,
  gid: 1500,
  groups: [1500, 1600],
  groupNames: ['alice', 'lab'],
  home: '/home/alice',
  shell: '/bin/bash',
  locked: false,
  expired: false,
};

describe('buildServerEnv', () => {
  const base = {
    account,
    hubEnv: { JUPYTERHUB_USER: 'alice', JUPYTERHUB_API_TOKEN: 'tok' },
    serviceUrl: 'http://127.0.0.1:4000/user/alice/',
    path: '/usr/local/bin:/usr/bin:/bin',
    environment: {},
  };

  it('starts from nothing: hub variables, service URL, identity, LANG/LC_ALL only', () => {
    const env = buildServerEnv({
      ...base,
      parentEnv: { PATH: '/root/.pyenv/shims:/usr/bin', SECRET: 'x', LANG: 'C.UTF-8', HOME: '/root', PYTHONPATH: '/root/lib' },
    });
    expect(env).toEqual({
      JUPYTERHUB_USER: 'alice',
      JUPYTERHUB_API_TOKEN: 'tok',
      JUPYTERHUB_SERVICE_URL: 'http://127.0.0.1:4000/user/alice/',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/home/alice',
      USER: 'alice',
      LOGNAME: 'alice',
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
    });
  });

  it('applies config environment last, so it may override anything', () => {
    const env = buildServerEnv({ ...base, parentEnv: {}, environment: { PATH: '/opt/py/bin', JUPYTERHUB_USER: 'x', EXTRA: '1' } });
    expect(env).toMatchObject({ PATH: '/opt/py/bin', JUPYTERHUB_USER: 'x', EXTRA: '1' });
  });

  it('identity cannot be overridden by the hub set', () => {
    const env = buildServerEnv({ ...base, hubEnv: { HOME: '/root', PATH: '/root/bin' }, parentEnv: {} });
    expect(env.HOME).toBe('/home/alice');
    expect(env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });
});

describe('findExecutable', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'labhub-exe-'));
    for (const [name, mode, uid, gid] of [
      ['for-all', 0o755, 0, 0],
      ['owner-only', 0o700, 0, 0],
      ['group-lab', 0o750, 0, 1600],
      ['alice-own', 0o700, 1500, 0],
      ['plain', 0o644, 0, 0],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, '#!/bin/sh\n');
      chmodSync(file, mode);
      chownSync(file, uid, gid);
    }
    mkdirSync(join(dir, 'a-dir'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('searches the given PATH, skipping empty and relative entries', async () => {
    expect(await findExecutable('for-all', `::relative:${dir}`, account)).toBe(join(dir, 'for-all'));
    expect(await findExecutable('sh', '/usr/bin:/bin', account)).toBe('/usr/bin/sh');
  });

  it('checks permission bits for the user, not for root', async () => {
    expect(await findExecutable('group-lab', dir, account)).toBe(join(dir, 'group-lab'));
    expect(await findExecutable('alice-own', dir, account)).toBe(join(dir, 'alice-own'));
    await expect(findExecutable('owner-only', dir, account)).rejects.toThrow(`Server command ${join(dir, 'owner-only')} is not executable by user alice`);
    await expect(findExecutable('plain', dir, account)).rejects.toThrow(/is not executable by user alice/);
  });

  it('gives a clear error naming the PATH when nothing is found', async () => {
    await expect(findExecutable('a-dir', dir, account)).rejects.toMatchObject({
      code: 'HUB_ERR_SPAWN_FAILED',
      message: `Server command "a-dir" not found on PATH ${dir}`,
    });
  });

  it('takes absolute paths as they are and relative paths from the home', async () => {
    expect(await findExecutable(join(dir, 'for-all'), '/nowhere', account)).toBe(join(dir, 'for-all'));
    await expect(findExecutable('bin/jupyter', '/usr/bin', account)).rejects.toThrow('Server command not found: /home/alice/bin/jupyter');
  });
});
