/**
 * `labhub quota show|set|clear`: the quota policy and usage through the running hub's API with
 * the cli-token (like `labhub backup`), always printing which disk and memory mode is in force.
 */
import type { Config } from '../config.js';
import { formatSize } from '../quota/size.js';
import { AdminCommandError, call, table } from './commands.js';
import type { CommandOutput } from './backup-commands.js';

export const QUOTA_USAGE = `Quota commands (as root, while LabHub runs):
  labhub quota show [USER] [--json]           the modes in force, the defaults, overrides and usage (or USER's)
  labhub quota set USER|@GROUP|default [--soft SIZE] [--hard SIZE] [--memory SIZE] [--cpus N]
                                              set limits (SIZE like 500M or 5G; 0 = no limit)
  labhub quota clear USER|@GROUP              remove the override (back to the group or default limits)`;

export interface QuotaOptions {
  json: boolean;
  soft?: string;
  hard?: string;
  memory?: string;
  cpus?: string;
}

interface Limits {
  diskSoft: number;
  diskHard: number;
  memory: number;
  cpus: number;
}
interface Row {
  user: string;
  bytes: number | null;
  measuredAt: string | null;
  limits: Limits;
  sources: Record<keyof Limits, string>;
  state: string;
  percent: number | null;
}
interface Status {
  disk: { configured: string; inForce: string; reason: string; filesystem: string | null };
  memory: { inForce: string; reason: string };
  defaults: Limits;
  groups: Record<string, Partial<Limits>>;
  users: Record<string, Partial<Limits>>;
  usage: Row[];
}

const seg = encodeURIComponent;
const size = (n: number | undefined) => (n === undefined ? '-' : n === 0 ? 'none' : formatSize(n));
const limitsText = (l: Partial<Limits>) =>
  `soft ${size(l.diskSoft)}, hard ${size(l.diskHard)}, memory ${size(l.memory)}, cpus ${l.cpus === undefined ? '-' : l.cpus === 0 ? 'none' : l.cpus}`;

function modes(s: Status): string {
  const disk = s.disk.inForce === 'off' ? 'not enforced (off)' : s.disk.inForce;
  return `disk:   ${disk} — ${s.disk.reason}\nmemory: ${s.memory.inForce} — ${s.memory.reason}`;
}

/** Runs a `labhub quota …` command. */
export async function runQuotaCommand(config: Readonly<Config>, args: string[], opts: QuotaOptions): Promise<CommandOutput> {
  const [verb, target, ...extra] = args;
  if (verb === 'show') {
    if (extra.length) throw new AdminCommandError('usage: labhub quota show [USER] [--json]');
    const status = (await call(config, 'GET', '/labhub/quota')).data as Status;
    if (target) {
      const row = status.usage.find((r) => r.user === target);
      if (!row) throw new AdminCommandError(`${target} is not a hub user`);
      if (opts.json) return { text: JSON.stringify({ disk: status.disk, memory: status.memory, ...row }, null, 2), code: 0 };
      const from = Object.entries(row.sources).map(([k, v]) => `${k} from ${v}`).join(', ');
      return {
        text: `${modes(status)}\n\n${row.user}: ${row.bytes === null ? 'not measured yet' : `${formatSize(row.bytes)} used`} (${row.state}${row.percent !== null ? `, ${row.percent}%` : ''})\nlimits: ${limitsText(row.limits)}\n(${from})`,
        code: 0,
      };
    }
    if (opts.json) return { text: JSON.stringify(status, null, 2), code: 0 };
    const over = [
      ...Object.entries(status.groups).map(([g, l]) => [`@${g}`, limitsText(l)]),
      ...Object.entries(status.users).map(([u, l]) => [u, limitsText(l)]),
    ];
    const usage = status.usage.map((r) => [r.user, r.bytes === null ? '-' : formatSize(r.bytes), size(r.limits.diskSoft), size(r.limits.diskHard), r.percent === null ? '-' : `${r.percent}%`, r.state]);
    return {
      text: [
        modes(status),
        `defaults: ${limitsText(status.defaults)}`,
        over.length ? `overrides:\n${table([['WHO', 'LIMITS'], ...over])}` : 'overrides: none',
        usage.length ? table([['USER', 'USED', 'SOFT', 'HARD', 'FULL', 'STATE'], ...usage]) : 'no users',
      ].join('\n\n'),
      code: 0,
    };
  }
  if (verb === 'set' || verb === 'clear') {
    if (!target || extra.length) throw new AdminCommandError(`usage: labhub quota ${verb} USER|@GROUP${verb === 'set' ? '|default [--soft SIZE] [--hard SIZE] [--memory SIZE] [--cpus N]' : ''}`);
    const path = target === 'default' ? '/labhub/quota/defaults' : target.startsWith('@') ? `/labhub/quota/groups/${seg(target.slice(1))}` : `/labhub/quota/users/${seg(target)}`;
    if (verb === 'clear' && target === 'default') throw new AdminCommandError('usage: labhub quota clear USER|@GROUP (set the defaults with "labhub quota set default …")');
    let body: Record<string, string> | undefined;
    if (verb === 'set') {
      body = {};
      if (opts.soft !== undefined) body.diskSoft = opts.soft;
      if (opts.hard !== undefined) body.diskHard = opts.hard;
      if (opts.memory !== undefined) body.memory = opts.memory;
      if (opts.cpus !== undefined) body.cpus = opts.cpus;
      if (!Object.keys(body).length) throw new AdminCommandError('usage: labhub quota set needs at least one of --soft, --hard, --memory, --cpus');
    }
    const res = await call(config, verb === 'set' ? 'PUT' : 'DELETE', path, body, [400]);
    const data = res.data as { message?: string; problems?: Array<{ field: string; message: string }>; kernelProblems?: string[] };
    if (res.status === 400) {
      const lines = (data.problems ?? []).map((p) => `  ${p.field}: ${p.message}`);
      return { text: `${data.message ?? 'invalid limits'}\n${lines.join('\n')}`, code: 2 };
    }
    const status = (await call(config, 'GET', '/labhub/quota')).data as Status;
    let now: string;
    if (target === 'default') now = `defaults: ${limitsText(status.defaults)}`;
    else if (target.startsWith('@')) now = `@${target.slice(1)}: ${status.groups[target.slice(1)] ? limitsText(status.groups[target.slice(1)]!) : 'no override'}`;
    else {
      const row = status.usage.find((r) => r.user === target);
      now = `${target}: ${row ? limitsText(row.limits) : limitsText(status.users[target] ?? {})}`;
    }
    const warn = data.kernelProblems?.length ? `\nwarning: kernel quotas not set: ${data.kernelProblems.join('; ')}` : '';
    return { text: `${modes(status)}\n\n${now}${warn}`, code: 0 };
  }
  throw new AdminCommandError(`usage: labhub quota show|set|clear …\n\n${QUOTA_USAGE}`);
}
