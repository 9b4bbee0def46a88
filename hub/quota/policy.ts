/**
 * Who gets which limits. A user's limit for each of disk (soft, hard), memory and CPU comes from,
 * in order: their own override, else the most generous override of the Linux groups they are in
 * (an instructor in `teachers` gets the teachers' larger limit), else the default. Overrides come
 * from the config file (`quota.users`, `quota.groups`) and from the admin GUI/CLI (saved in the
 * hub state, which wins over the file for the same user or group). 0 means "no limit", which is
 * the most generous of all.
 */

export interface Limits {
  diskSoft: number;
  diskHard: number;
  memory: number;
  cpus: number;
}

export type PartialLimits = Partial<Limits>;
export type LimitKey = keyof Limits;
export const LIMIT_KEYS: readonly LimitKey[] = ['diskSoft', 'diskHard', 'memory', 'cpus'];

/** Where each limit came from: `default`, `group:<name>` or `user`. */
export type LimitSources = Record<LimitKey, string>;

export interface QuotaPolicyInput {
  defaults: PartialLimits;
  groups: Readonly<Record<string, PartialLimits>>;
  users: Readonly<Record<string, PartialLimits>>;
}

/** `a` is more generous than `b` (0 = unlimited beats everything). */
function moreGenerous(a: number, b: number): boolean {
  if (a === 0) return b !== 0;
  if (b === 0) return false;
  return a > b;
}

/** The config file's overrides with the saved ones on top (per user or group, per field). */
export function mergePolicy(file: QuotaPolicyInput, saved: { users: Record<string, PartialLimits>; groups: Record<string, PartialLimits> }): QuotaPolicyInput {
  const merge = (a: Readonly<Record<string, PartialLimits>>, b: Record<string, PartialLimits>) => {
    const out: Record<string, PartialLimits> = {};
    for (const [k, v] of Object.entries(a)) out[k] = { ...v };
    for (const [k, v] of Object.entries(b)) out[k] = { ...(out[k] ?? {}), ...v };
    return out;
  };
  return { defaults: file.defaults, groups: merge(file.groups, saved.groups), users: merge(file.users, saved.users) };
}

/** The limits in force for `user` (a member of `groups`), and where each came from. */
export function effectiveLimits(policy: QuotaPolicyInput, user: string, groups: readonly string[]): { limits: Limits; sources: LimitSources } {
  const limits: Limits = { diskSoft: 0, diskHard: 0, memory: 0, cpus: 0 };
  const sources: LimitSources = { diskSoft: 'default', diskHard: 'default', memory: 'default', cpus: 'default' };
  const own = policy.users[user] ?? {};
  for (const key of LIMIT_KEYS) {
    if (own[key] !== undefined) {
      limits[key] = own[key]!;
      sources[key] = 'user';
      continue;
    }
    let best: { value: number; group: string } | null = null;
    for (const g of [...groups].sort()) {
      const v = policy.groups[g]?.[key];
      if (v !== undefined && (!best || moreGenerous(v, best.value))) best = { value: v, group: g };
    }
    if (best) {
      limits[key] = best.value;
      sources[key] = `group:${best.group}`;
    } else {
      limits[key] = policy.defaults[key] ?? 0;
    }
  }
  // a hard limit below the soft one would never warn first
  if (limits.diskHard > 0 && limits.diskSoft > limits.diskHard) limits.diskSoft = limits.diskHard;
  return { limits, sources };
}
