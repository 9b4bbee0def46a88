/**
 * The memory and CPU limits a user's server runs under, from the quota policy (config file plus
 * saved overrides) and the user's groups: what the local spawner's `limitsFor` option expects.
 */
import type { Account } from '../auth/accounts.js';
import type { ServerLimits } from './cgroup-values.js';
import { effectiveLimits, type QuotaPolicyInput } from './policy.js';

/**
 * Builds `limitsFor(account)`. `groupsOf` adds groups beyond the account's Linux groups (e.g. the
 * hub's own groups, as QuotaService.groupsOf returns them); the account's groups always count.
 */
export function serverLimitsFor(
  policy: () => QuotaPolicyInput,
  groupsOf?: (user: string) => Promise<string[]>,
): (account: Account) => Promise<ServerLimits> {
  return async (account) => {
    const groups = new Set(account.groupNames);
    for (const g of (await groupsOf?.(account.name)) ?? []) groups.add(g);
    const { limits } = effectiveLimits(policy(), account.name, [...groups]);
    return { memory: limits.memory, cpus: limits.cpus };
  };
}
