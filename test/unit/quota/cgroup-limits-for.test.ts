import { describe, expect, it } from 'vitest';
import type { Account } from '../../../hub/auth/accounts.js';
import { serverLimitsFor } from '../../../hub/quota/limits-for.js';
import type { QuotaPolicyInput } from '../../../hub/quota/policy.js';
import { kernelOomNotice } from '../../../hub/spawner/server-limits.js';

const G = 1024 ** 3;
const account = (name: string, groupNames: string[]): Account =>
  ({ name, uid: 2000, gid: 2000, groups: [2000], groupNames, home: `/home/${name}`, shell: '/bin/bash', locked: false, expired: false }) as Account;

describe('server limits for a user (cgroup limitsFor)', () => {
  const policy: QuotaPolicyInput = {
    defaults: { memory: 2 * G, cpus: 1, diskHard: 5 * G },
    groups: { teachers: { memory: 8 * G }, ta: { cpus: 2 } },
    users: { bob: { memory: 0 } },
  };

  it('takes the default, the most generous group, and a user override (0 = no limit); only memory and cpus', async () => {
    const limitsFor = serverLimitsFor(() => policy);
    expect(await limitsFor(account('alice', ['alice']))).toEqual({ memory: 2 * G, cpus: 1 });
    expect(await limitsFor(account('tina', ['tina', 'teachers', 'ta']))).toEqual({ memory: 8 * G, cpus: 2 });
    expect(await limitsFor(account('bob', ['bob', 'teachers']))).toEqual({ memory: 0, cpus: 1 });
  });

  it('adds groups from groupsOf (e.g. hub groups) to the Linux ones, and reads the policy at each call', async () => {
    let current = policy;
    const limitsFor = serverLimitsFor(() => current, async (u) => (u === 'carl' ? ['teachers'] : []));
    expect((await limitsFor(account('carl', ['carl']))).memory).toBe(8 * G);
    current = { ...policy, defaults: { memory: G } };
    expect((await limitsFor(account('dora', ['dora']))).memory).toBe(G);
  });

  it('tells the student which limit their kernel hit', () => {
    expect(kernelOomNotice({ memory: 2 * G, cpus: 0 })).toMatch(/^Your kernel ran out of memory \(limit 2 GB\)/);
  });
});
