/**
 * `labhub users list|add|remove` and `labhub token create`: admin commands that run on the lab
 * server as root and act through the running hub's REST API (see cli-token.ts).
 */
import type { Config } from '../config.js';
import { readCliCredentials } from './cli-token.js';

export const ADMIN_USAGE = `Admin commands (as root, while LabHub runs):
  labhub users list [--json]                  hub users, their server state and last activity
  labhub users add NAME... [--admin]          let existing Linux accounts use LabHub (adds them to the hub)
  labhub users remove NAME...                 stop their servers and remove them from the hub (Linux accounts are kept)
  labhub token create USER [--scopes S,S] [--note TEXT] [--expires-in SECONDS]
                                              make an API token (printed once); default scopes: all of USER's`;

export class AdminCommandError extends Error {}

interface Options {
  json: boolean;
  admin: boolean;
  scopes?: string;
  note?: string;
  expiresIn?: string;
}

/**
 * Calls the running hub's API (`path` below /hub/api) with the cli-token. An answer ≥ 400 throws
 * its message, except the statuses in `accept` (e.g. 409 carrying a restore plan).
 */
export async function call(config: Readonly<Config>, method: string, path: string, body?: unknown, accept: number[] = []): Promise<{ status: number; data: unknown }> {
  const creds = readCliCredentials(config.dataDir);
  if (!creds) throw new AdminCommandError(`LabHub does not seem to run for ${config.dataDir} (no readable cli-token). Start it with "labhub serve" (as root), then retry.`);
  let res: Response;
  try {
    res = await fetch(`${creds.url}/hub/api${path}`, {
      method,
      headers: { Authorization: `token ${creds.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new AdminCommandError(`cannot reach the hub at ${creds.url} (${(err as Error).message}). Is LabHub running?`);
  }
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : null;
  if (res.status >= 400 && !accept.includes(res.status)) throw new AdminCommandError((data as { message?: string } | null)?.message ?? `the hub answered ${res.status}`);
  return { status: res.status, data };
}

/** Runs an admin command; returns the text to print. */
export async function runAdminCommand(config: Readonly<Config>, args: string[], opts: Options): Promise<string> {
  const [group, verb, ...rest] = args;
  if (group === 'users' && verb === 'list') {
    const { data } = await call(config, 'GET', '/users');
    const users = data as Array<{ name: string; admin: boolean; server: string | null; pending: string | null; last_activity: string | null; groups: string[] }>;
    if (opts.json) return JSON.stringify(users, null, 2);
    const rows = users.map((u) => [u.name, u.admin ? 'admin' : '', u.pending ?? (u.server ? 'running' : 'stopped'), u.last_activity ?? '-', u.groups.join(',')]);
    return table([['NAME', 'ROLE', 'SERVER', 'LAST ACTIVITY', 'GROUPS'], ...rows]);
  }
  if (group === 'users' && verb === 'add') {
    if (!rest.length) throw new AdminCommandError('usage: labhub users add NAME... [--admin]');
    const { data } = await call(config, 'POST', '/users', { usernames: rest, admin: opts.admin });
    return `added: ${(data as Array<{ name: string }>).map((u) => u.name).join(', ')}`;
  }
  if (group === 'users' && verb === 'remove') {
    if (!rest.length) throw new AdminCommandError('usage: labhub users remove NAME...');
    for (const name of rest) await call(config, 'DELETE', `/users/${encodeURIComponent(name)}`);
    return `removed from the hub: ${rest.join(', ')} (their Linux accounts and homes are kept)`;
  }
  if (group === 'token' && verb === 'create') {
    if (rest.length !== 1) throw new AdminCommandError('usage: labhub token create USER [--scopes S,S] [--note TEXT] [--expires-in SECONDS]');
    const body: Record<string, unknown> = { note: opts.note ?? 'created with labhub token create' };
    if (opts.scopes) body.scopes = opts.scopes.split(',').map((s) => s.trim()).filter(Boolean);
    if (opts.expiresIn) {
      if (!/^\d+$/.test(opts.expiresIn)) throw new AdminCommandError('--expires-in takes a number of seconds');
      body.expires_in = Number(opts.expiresIn);
    }
    const { data } = await call(config, 'POST', `/users/${encodeURIComponent(rest[0]!)}/tokens`, body);
    return (data as { token: string }).token;
  }
  throw new AdminCommandError(`unknown command "${args.join(' ')}"\n\n${ADMIN_USAGE}`);
}

/** Lines of aligned columns; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
