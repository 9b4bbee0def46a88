import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoginLimiter } from '../../../hub/auth/login-limiter.js';
import { shadowStatus } from '../../../hub/auth/accounts.js';
import { Store } from '../../../hub/store/store.js';

const policy = { maxFailuresPerUser: 3, maxFailuresPerAddress: 5, failureWindowSeconds: 600, lockoutSeconds: 300 };

describe('LoginLimiter', () => {
  it('locks a user after N failures for the lockout time, and the lock survives reopening the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labhub-lim-'));
    let now = new Date('2026-01-01T10:00:00Z');
    const store = await Store.open(dir);
    const lim = new LoginLimiter(store, policy, () => now);
    expect(lim.recordFailure('alice', '10.0.0.1')).toBeNull();
    expect(lim.recordFailure('alice', '10.0.0.2')).toBeNull();
    expect(lim.recordFailure('alice', '10.0.0.3')?.kind).toBe('user');
    await store.commit();
    await store.close();
    const reopened = await Store.open(dir);
    const lim2 = new LoginLimiter(reopened, policy, () => now);
    expect(lim2.lockedOut('alice', '10.9.9.9')?.kind).toBe('user');
    expect(lim2.lockedOut('bob', '10.9.9.9')).toBeNull();
    now = new Date(now.getTime() + 301_000);
    expect(lim2.lockedOut('alice', '10.9.9.9')).toBeNull();
    await reopened.close();
  });

  it('locks an address that guesses many names, and success does not unlock the address', async () => {
    const store = await Store.open(mkdtempSync(join(tmpdir(), 'labhub-lim-')));
    const lim = new LoginLimiter(store, policy, () => new Date('2026-01-01T10:00:00Z'));
    for (let i = 0; i < 4; i++) expect(lim.recordFailure(`user${i}`, '10.0.0.9')).toBeNull();
    expect(lim.recordFailure('user4', '10.0.0.9')?.kind).toBe('address');
    lim.recordSuccess('user4');
    expect(lim.lockedOut('someone', '10.0.0.9')?.kind).toBe('address');
    await store.close();
  });

  it('forgets failures outside the window', async () => {
    const store = await Store.open(mkdtempSync(join(tmpdir(), 'labhub-lim-')));
    let now = new Date('2026-01-01T10:00:00Z');
    const lim = new LoginLimiter(store, policy, () => now);
    lim.recordFailure('carol', 'a');
    lim.recordFailure('carol', 'a');
    now = new Date(now.getTime() + 601_000);
    expect(lim.recordFailure('carol', 'a')).toBeNull();
    await store.close();
  });
});

describe('shadowStatus', () => {
  const today = new Date('2026-01-10T12:00:00Z');
  const day = Math.floor(today.getTime() / 86_400_000);
  it('reads locks and expiry like pam_unix', () => {
    expect(shadowStatus(`a:$y$hash:${day}:0:99999:7:::`, today)).toEqual({ locked: false, expired: false });
    expect(shadowStatus(`a:!$y$hash:${day}:0:99999:7:::`, today).locked).toBe(true);
    expect(shadowStatus(`a:*:${day}:0:99999:7:::`, today).locked).toBe(true);
    expect(shadowStatus(`a:$y$h:${day}:0:99999:7::${day - 1}:`, today).expired).toBe(true);
    expect(shadowStatus(`a:$y$h:${day - 100}:0:30:7:10::`, today).expired).toBe(true);
    expect(shadowStatus(`a:$y$h:${day - 20}:0:30:7:10::`, today).expired).toBe(false);
    expect(shadowStatus(`a:$y$h:${day}:0:99999:7::0:`, today).expired).toBe(true);
    expect(shadowStatus(null, today)).toEqual({ locked: false, expired: false });
  });
});

describe('parseIdGroups', () => {
  it('reads ids and names from id(1) output', async () => {
    const { parseIdGroups } = await import('../../../hub/auth/accounts.js');
    expect(parseIdGroups('uid=1001(alice) gid=1001(alice) groups=1001(alice),27(sudo),2000')).toEqual({
      groups: [1001, 27, 2000],
      groupNames: ['alice', 'sudo', '2000'],
    });
  });
});
