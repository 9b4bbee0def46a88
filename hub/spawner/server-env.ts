/**
 * What a local single-user server is started with: its environment, built from scratch, and the
 * executable it runs, checked the way the user's exec would find it. Pure or read-only helpers, so
 * the launch itself (local.ts) stays short.
 */
import { promises as fs } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Account } from '../auth/accounts.js';
import { HubError } from '../errors.js';

/** Variables taken from the hub's own environment, and only these (JupyterHub's `env_keep`, minus PATH). */
export const INHERITED_VARIABLES = ['LANG', 'LC_ALL'] as const;

export interface ServerEnvInput {
  account: Account;
  /** The JUPYTERHUB_* set built by the hub. */
  hubEnv: Record<string, string>;
  serviceUrl: string;
  /** PATH for the server (config `spawner.path`). */
  path: string;
  /** Config `spawner.environment`, applied last. */
  environment: Record<string, string>;
  /** The hub's process.env; only INHERITED_VARIABLES are read from it. */
  parentEnv: NodeJS.ProcessEnv;
}

/**
 * The server's complete environment. Nothing else from the hub's environment reaches the server:
 * the hub may hold secrets there, and root's PATH may point at another Python (pyenv).
 * Order follows JupyterHub's LocalProcessSpawner: hub variables, user identity, then
 * `Spawner.environment`, which may override anything
 * (https://jupyterhub.readthedocs.io/en/stable/reference/api/spawner.html#jupyterhub.spawner.Spawner.environment).
 */
export function buildServerEnv(input: ServerEnvInput): Record<string, string> {
  const env: Record<string, string> = { ...input.hubEnv, JUPYTERHUB_SERVICE_URL: input.serviceUrl };
  env.PATH = input.path;
  env.HOME = input.account.home;
  env.USER = input.account.name;
  env.LOGNAME = input.account.name;
  env.SHELL = input.account.shell || '/bin/sh';
  for (const name of INHERITED_VARIABLES) {
    const value = input.parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return Object.assign(env, input.environment);
}

/** May `account` execute a file with this mode and owner? (the classic permission-bit check, as root cannot use access(2) for it) */
function executableBy(account: Account, stat: { mode: number; uid: number; gid: number }): boolean {
  if (stat.uid === account.uid) return (stat.mode & 0o100) !== 0;
  if (stat.gid === account.gid || account.groups.includes(stat.gid)) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}

async function executableFile(file: string, account: Account): Promise<'ok' | 'missing' | 'not-executable'> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return 'missing';
    return executableBy(account, stat) ? 'ok' : 'not-executable';
  } catch {
    return 'missing';
  }
}

/**
 * Resolves the server command to an absolute path as execvp(3) would for this user: a name
 * without `/` is searched on `searchPath` (the server's PATH, never the hub's), a relative path is
 * taken from the home directory (the server's cwd). Throws HUB_ERR_SPAWN_FAILED with a message
 * naming the command and the PATH searched.
 */
export async function findExecutable(command: string, searchPath: string, account: Account): Promise<string> {
  if (command.includes('/')) {
    const file = isAbsolute(command) ? command : resolve(account.home, command);
    const result = await executableFile(file, account);
    if (result === 'ok') return file;
    throw new HubError(
      'HUB_ERR_SPAWN_FAILED',
      result === 'missing' ? `Server command not found: ${file}` : `Server command ${file} is not executable by user ${account.name}`,
    );
  }
  let notExecutable: string | null = null;
  for (const dir of searchPath.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const file = join(dir, command);
    const result = await executableFile(file, account);
    if (result === 'ok') return file;
    if (result === 'not-executable') notExecutable ??= file;
  }
  if (notExecutable) throw new HubError('HUB_ERR_SPAWN_FAILED', `Server command ${notExecutable} is not executable by user ${account.name}`);
  throw new HubError('HUB_ERR_SPAWN_FAILED', `Server command "${command}" not found on PATH ${searchPath}`);
}
