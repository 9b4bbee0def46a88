/**
 * Root and system accounts must be refused even with the right password. The real root password
 * cannot be known in a test, so this uses a recording authenticator that would accept any password
 * and checks that the login service never even asks it for root.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Account } from '../../../hub/auth/accounts.js';
import { LoginLimiter } from '../../../hub/auth/login-limiter.js';
import { LoginService } from '../../../hub/auth/login.js';
import type { Authenticator } from '../../../hub/auth/pam.js';
import { silentLogger } from '../../../hub/log.js';
import { Store } from '../../../hub/store/store.js';

const account = (name: string, uid: number, extra: Partial<Account> = {}): Account => ({
  name, uid, gid: uid, groups: [uid], groupNames: [name], home: `/home/${name}`, shell: '/bin/bash', locked: false, expired: false, ...extra,
});

async function setup(accounts: Account[], policy: Partial<{ allowedGroups: string[]; adminGroups: string[] }> = {}) {
  const store = await Store.open(mkdtempSync(join(tmpdir(), 'labhub-login-')));
  const asked: string[] = [];
  const acceptAll: Authenticator = { authenticate: async (n) => (asked.push(n), true) };
  const limiter = new LoginLimiter(store, { maxFailuresPerUser: 5, maxFailuresPerAddress: 20, failureWindowSeconds: 900, lockoutSeconds: 300 });
  const svc = new LoginService(
    store, acceptAll, limiter,
    { minUid: 1000, allowedGroups: policy.allowedGroups ?? [], adminUsers: [], adminGroups: policy.adminGroups ?? [] },
    silentLogger(),
    async (n) => accounts.find((a) => a.name === n) ?? null,
  );
  return { store, svc, asked };
}

describe('LoginService (recording authenticator that accepts every password)', () => {
  it('never asks PAM about root and refuses it', async () => {
    const { svc, asked } = await setup([account('root', 0)]);
    await expect(svc.login('root', 'right', '1.2.3.4')).rejects.toMatchObject({ code: 'HUB_ERR_LOGIN_FAILED' });
    expect(asked).toEqual([]);
  });

  it('refuses system accounts and unknown or invalid names without asking PAM', async () => {
    const { svc, asked } = await setup([account('daemonish', 120)]);
    await expect(svc.login('daemonish', 'x', 'a')).rejects.toMatchObject({ code: 'HUB_ERR_LOGIN_FAILED' });
    await expect(svc.login('nobody-here', 'x', 'a')).rejects.toMatchObject({ code: 'HUB_ERR_LOGIN_FAILED' });
    await expect(svc.login('../etc', 'x', 'a')).rejects.toMatchObject({ code: 'HUB_ERR_LOGIN_FAILED' });
    expect(asked).toEqual([]);
  });

  it('applies allowed groups, admin groups and records the user', async () => {
    const { svc, store } = await setup(
      [account('stud', 1001, { groupNames: ['stud', 'cs101'] }), account('other', 1002), account('teach', 1003, { groupNames: ['teach', 'staff'] })],
      { allowedGroups: ['cs101'], adminGroups: ['staff'] },
    );
    await expect(svc.login('stud', 'pw', 'a')).resolves.toMatchObject({ admin: false });
    await expect(svc.login('other', 'pw', 'a')).rejects.toMatchObject({ code: 'HUB_ERR_ACCOUNT_NOT_ALLOWED' });
    await expect(svc.login('teach', 'pw', 'a')).resolves.toMatchObject({ admin: true });
    expect(store.data.users.teach?.admin).toBe(true);
  });
});
